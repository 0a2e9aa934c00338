--
-- The SQL forms that read log_records besides a plain SELECT: views,
-- cursors, partitioned tables, UNION ALL and joins, with aggregate pushdown
-- and time slices.  Every pushed answer is compared with the one computed
-- locally (bls_fdw.aggregate_pushdown off), every sliced read with one
-- marker chain (slices '1').  Whether BLS computed an aggregate is shown by
-- the number of "Relations: Aggregate on" lines in the plan (a number, the
-- same on every PostgreSQL version, where plan shapes are not) and by the
-- requests the emulator got: analyses (an "| select" statement) and
-- searches (pages of records).
--
\set VERBOSITY terse
\! python3 test/bls_emulator.py ctl reset
-- pages of 500 records, on every table of the server
\set emu_options ', page_size ''500'''
\set emu_import 'LIMIT TO (log_records)'
\set ECHO none
\i sql/include/emu_server.sql
\set ECHO all
ALTER FOREIGN TABLE log_records
  ADD COLUMN host text OPTIONS (key 'host'),
  ADD COLUMN status int OPTIONS (key 'status');
-- the same table read in one marker chain
CREATE SCHEMA serial;
IMPORT FOREIGN SCHEMA bls LIMIT TO (log_records) FROM SERVER emu INTO serial;
ALTER FOREIGN TABLE serial.log_records OPTIONS (ADD slices '1');
ALTER FOREIGN TABLE serial.log_records
  ADD COLUMN host text OPTIONS (key 'host'),
  ADD COLUMN status int OPTIONS (key 'status');

-- the emulator's log cleared, and the requests it got since, counted
\set clear '\\! python3 test/bls_emulator.py ctl log-clear'
\set requests '\\! python3 test/bls_emulator.py ctl requests | awk ''/logrecord.*query=[^&]*select%20/ { a++; next } /logrecord/ { s++ } END { printf "%d analyses, %d searches\\n", a, s }'''

-- the lines of EXPLAIN (opts, COSTS OFF) q that match a pattern
CREATE FUNCTION plan_lines(opts text, q text, pattern text) RETURNS SETOF text
LANGUAGE plpgsql AS $$
DECLARE
  ln text;
BEGIN
  FOR ln IN EXECUTE format('EXPLAIN (%s, COSTS OFF) %s', opts, q) LOOP
    IF ln ~ pattern THEN
      RETURN NEXT ln;
    END IF;
  END LOOP;
END $$;
-- how many of a query's aggregates BLS computes (its plan's "Relations:
-- Aggregate on" lines)
CREATE FUNCTION pushed(q text) RETURNS bigint LANGUAGE sql
  RETURN (SELECT count(*) FROM plan_lines('VERBOSE', q, '^\s*Relations: Aggregate on '));
-- the time slices a query's scans read (EXPLAIN ANALYZE's "BLS Time Slices")
CREATE FUNCTION slices_read(q text) RETURNS bigint LANGUAGE sql
  RETURN (SELECT coalesce(sum(substring(ln FROM '(\d+)$')::int), 0)
          FROM plan_lines('ANALYZE, TIMING OFF, SUMMARY OFF', q, '^\s*BLS Time Slices: \d+$') ln);

-- a query's rows in its order with aggregate pushdown on, and whether they
-- are the rows computed locally (pushdown off)
CREATE FUNCTION both_ways(q text) RETURNS TABLE (answer text, same_as_local bool)
LANGUAGE plpgsql AS $$
DECLARE
  local text;
BEGIN
  PERFORM set_config('bls_fdw.aggregate_pushdown', 'on', true);
  EXECUTE format('SELECT string_agg(r::text, '' '') FROM (%s) r', q) INTO answer;
  PERFORM set_config('bls_fdw.aggregate_pushdown', 'off', true);
  EXECUTE format('SELECT string_agg(r::text, '' '') FROM (%s) r', q) INTO local;
  PERFORM set_config('bls_fdw.aggregate_pushdown', 'on', true);
  same_as_local := answer IS NOT DISTINCT FROM local;
  RETURN NEXT;
END $$;

--
-- Views
--
CREATE VIEW access AS
  SELECT time, seq, host, status, log_stream_name, message
  FROM log_records WHERE log_store_name = 'nginx-access';
-- the view is flattened into the query: BLS counts, one request
:clear
SELECT host, count(*) FROM access
  WHERE time >= '2024-05-01 00:00:00+00' AND time < '2024-05-01 00:10:00+00'
GROUP BY host ORDER BY host;
:requests
SELECT pushed($$SELECT host, count(*) FROM access
  WHERE time >= '2024-05-01 00:00:00+00' AND time < '2024-05-01 00:10:00+00' GROUP BY host$$);
SELECT * FROM both_ways($$SELECT host, count(*) FROM access
  WHERE time >= '2024-05-01 00:00:00+00' AND time < '2024-05-01 00:10:00+00'
  GROUP BY host ORDER BY host$$);
SELECT * FROM both_ways($$SELECT count(*), count(time) FROM access
  WHERE time >= '2024-05-01 00:00:00+00' AND time < '2024-05-01 00:10:00+00'$$);
-- a view holding the window and the aggregate, read whole: pushed
CREATE VIEW hosts_10min AS
  SELECT host, count(*) AS n FROM log_records
  WHERE log_store_name = 'nginx-access'
    AND time >= '2024-05-01 00:00:00+00' AND time < '2024-05-01 00:10:00+00'
  GROUP BY host;
:clear
SELECT * FROM hosts_10min ORDER BY host;
:requests
SELECT pushed('SELECT * FROM hosts_10min');
-- a condition on it goes into the view's WHERE (host is its grouping
-- column), where it is checked locally: not pushed, the same count
:clear
SELECT n FROM hosts_10min WHERE host = 'www.example.com';
:requests
SELECT pushed($$SELECT n FROM hosts_10min WHERE host = 'www.example.com'$$);
SELECT * FROM both_ways($$SELECT n FROM hosts_10min WHERE host = 'www.example.com'$$);
-- a view whose condition is checked locally keeps the aggregate local
CREATE VIEW access_errors AS SELECT * FROM access WHERE status >= 500;
SELECT pushed($$SELECT count(*) FROM access_errors
  WHERE time >= '2024-05-01 00:00:00+00' AND time < '2024-05-01 00:10:00+00'$$);
SELECT * FROM both_ways($$SELECT count(*) FROM access_errors
  WHERE time >= '2024-05-01 00:00:00+00' AND time < '2024-05-01 00:10:00+00'$$);

--
-- Cursors
--
-- a scroll cursor over a pushed aggregate: some rows, the rest, backward,
-- MOVE, then closed; one request
:clear
BEGIN;
DECLARE c SCROLL CURSOR FOR
  SELECT host, count(*) FROM access
  WHERE time >= '2024-05-01 00:00:00+00' AND time < '2024-05-01 00:10:00+00'
  GROUP BY host ORDER BY host;
FETCH 2 FROM c;
FETCH ALL FROM c;
FETCH BACKWARD 3 FROM c;
MOVE ABSOLUTE 1 IN c;
FETCH NEXT FROM c;
FETCH LAST FROM c;
CLOSE c;
COMMIT;
:requests
-- the same steps with pushdown on and off: the same rows at every step
CREATE FUNCTION cursor_reads(q text, pushdown bool) RETURNS text
LANGUAGE plpgsql AS $$
DECLARE
  step text;
  r record;
  got text := '';
BEGIN
  PERFORM set_config('bls_fdw.aggregate_pushdown', pushdown::text, true);
  EXECUTE 'DECLARE c SCROLL CURSOR FOR ' || q;
  FOREACH step IN ARRAY ARRAY['FETCH 2', 'FETCH ALL', 'FETCH BACKWARD 3', 'MOVE ABSOLUTE 1',
                              'FETCH NEXT', 'FETCH LAST', 'FETCH ABSOLUTE -2'] LOOP
    got := got || step || ':';
    IF step LIKE 'MOVE%' THEN
      EXECUTE step || ' IN c';
    ELSE
      FOR r IN EXECUTE step || ' FROM c' LOOP
        got := got || ' ' || r::text;
      END LOOP;
    END IF;
    got := got || '; ';
  END LOOP;
  EXECUTE 'CLOSE c';
  PERFORM set_config('bls_fdw.aggregate_pushdown', 'on', true);
  RETURN got;
END $$;
SELECT cursor_reads(q, true) = cursor_reads(q, false) AS same, cursor_reads(q, true) AS reads
FROM (VALUES ($$SELECT host, count(*) FROM access
  WHERE time >= '2024-05-01 00:00:00+00' AND time < '2024-05-01 00:10:00+00'
  GROUP BY host ORDER BY host$$)) v(q);
-- without ORDER BY (rows in the service's order; a scroll cursor keeps them)
SELECT cursor_reads(q, true) AS reads
FROM (VALUES ($$SELECT log_stream_name, count(*) FROM access
  WHERE time >= '2024-05-01 00:00:00+00' AND time < '2024-05-01 00:10:00+00'
  GROUP BY 1$$)) v(q);
-- a cursor WITH HOLD outlives its transaction, its answer kept from the
-- one request
:clear
BEGIN;
DECLARE h CURSOR WITH HOLD FOR
  SELECT count(*) FROM access
  WHERE time >= '2024-05-01 00:00:00+00' AND time < '2024-05-01 00:10:00+00';
COMMIT;
FETCH ALL FROM h;
CLOSE h;
:requests

--
-- A partitioned table: log_records is the partition of project 'default',
-- a local table the one of project 'archive'
--
CREATE SCHEMA part;
IMPORT FOREIGN SCHEMA bls LIMIT TO (log_records) FROM SERVER emu INTO part;
ALTER FOREIGN TABLE part.log_records
  ADD COLUMN host text OPTIONS (key 'host'),
  ADD COLUMN status int OPTIONS (key 'status');
CREATE TABLE logs (LIKE part.log_records) PARTITION BY LIST (project);
ALTER TABLE logs ATTACH PARTITION part.log_records FOR VALUES IN ('default');
CREATE TABLE logs_archive PARTITION OF logs FOR VALUES IN ('archive');
INSERT INTO logs (project, log_store_name, time, seq, host, status, message)
SELECT 'archive', 'nginx-access', '2024-05-01 00:00:00+00'::timestamptz + i * interval '7.5 s', i,
       (ARRAY['www.example.com', 'api.example.com', 'old.example.com'])[i % 3 + 1],
       200 + i % 2 * 300, 'archived'
FROM generate_series(0, 199) i;
-- both partitions: an Append, which BLS cannot aggregate; the answer is the
-- local one, and the remote count plus the archive's
:clear
SELECT count(*) FROM logs WHERE log_store_name = 'nginx-access'
  AND time >= '2024-05-01 00:00:00+00' AND time < '2024-05-01 00:10:00+00';
:requests
SELECT (SELECT count(*) FROM log_records WHERE log_store_name = 'nginx-access'
          AND time >= '2024-05-01 00:00:00+00' AND time < '2024-05-01 00:10:00+00')
     + (SELECT count(*) FROM logs_archive WHERE log_store_name = 'nginx-access'
          AND time >= '2024-05-01 00:00:00+00' AND time < '2024-05-01 00:10:00+00') AS remote_plus_archive;
SELECT pushed($$SELECT count(*) FROM logs WHERE log_store_name = 'nginx-access'
  AND time >= '2024-05-01 00:00:00+00' AND time < '2024-05-01 00:10:00+00'$$);
SELECT * FROM both_ways($$SELECT project, host, count(*) FROM logs WHERE log_store_name = 'nginx-access'
  AND time >= '2024-05-01 00:00:00+00' AND time < '2024-05-01 00:10:00+00'
  GROUP BY 1, 2 ORDER BY 1, 2$$);
SELECT * FROM both_ways($$SELECT host, count(*) FROM logs WHERE log_store_name = 'nginx-access'
  AND time >= '2024-05-01 00:00:00+00' AND time < '2024-05-01 00:10:00+00'
  GROUP BY 1 ORDER BY 1$$);
-- pruned to the foreign partition alone: still aggregated above the
-- partitioned table, locally, with the answer of the table itself
SELECT pushed($$SELECT count(*) FROM logs WHERE project = 'default' AND log_store_name = 'nginx-access'
  AND time >= '2024-05-01 00:00:00+00' AND time < '2024-05-01 00:10:00+00'$$);
SELECT * FROM both_ways($$SELECT count(*) FROM logs WHERE project = 'default' AND log_store_name = 'nginx-access'
  AND time >= '2024-05-01 00:00:00+00' AND time < '2024-05-01 00:10:00+00'$$);
-- and with partitionwise aggregation, per partition: the foreign one's is
-- not sent either (a partition's grouping is not a base relation's)
SET enable_partitionwise_aggregate = on;
SELECT pushed(q) AS pushed, (SELECT same_as_local FROM both_ways(q)) AS same_as_local,
       (SELECT answer FROM both_ways(q)) AS answer
FROM (VALUES ($$SELECT project, count(*) FROM logs WHERE log_store_name = 'nginx-access'
  AND time >= '2024-05-01 00:00:00+00' AND time < '2024-05-01 00:10:00+00'
  GROUP BY 1 ORDER BY 1$$),
             ($$SELECT count(*) FROM logs WHERE log_store_name = 'nginx-access'
  AND time >= '2024-05-01 00:00:00+00' AND time < '2024-05-01 00:10:00+00'$$)) v(q);
RESET enable_partitionwise_aggregate;

--
-- UNION ALL and joins
--
-- an aggregate in each arm: each is BLS's, one analysis each
:clear
SELECT 'access' AS store, count(*) FROM log_records WHERE log_store_name = 'nginx-access'
  AND time >= '2024-05-01 00:00:00+00' AND time < '2024-05-01 00:10:00+00'
UNION ALL
SELECT 'error', count(*) FROM log_records WHERE log_store_name = 'nginx-error'
  AND time >= '2024-05-01 00:00:00+00' AND time < '2024-05-01 00:10:00+00';
:requests
SELECT pushed($$SELECT count(*) FROM log_records WHERE log_store_name = 'nginx-access'
  AND time >= '2024-05-01 00:00:00+00' AND time < '2024-05-01 00:10:00+00'
UNION ALL
SELECT count(*) FROM log_records WHERE log_store_name = 'nginx-error'
  AND time >= '2024-05-01 00:00:00+00' AND time < '2024-05-01 00:10:00+00'$$);
-- one aggregate over the UNION ALL of two scans: computed locally, the
-- same counts
:clear
SELECT log_store_name, count(*) FROM (
  SELECT log_store_name FROM log_records WHERE log_store_name = 'nginx-access'
    AND time >= '2024-05-01 00:00:00+00' AND time < '2024-05-01 00:10:00+00'
  UNION ALL
  SELECT log_store_name FROM log_records WHERE log_store_name = 'nginx-error'
    AND time >= '2024-05-01 00:00:00+00' AND time < '2024-05-01 00:10:00+00') u
GROUP BY 1 ORDER BY 1;
:requests
SELECT pushed($$SELECT log_store_name, count(*) FROM (
  SELECT log_store_name FROM log_records WHERE log_store_name = 'nginx-access'
    AND time >= '2024-05-01 00:00:00+00' AND time < '2024-05-01 00:10:00+00'
  UNION ALL
  SELECT log_store_name FROM log_records WHERE log_store_name = 'nginx-error'
    AND time >= '2024-05-01 00:00:00+00' AND time < '2024-05-01 00:10:00+00') u GROUP BY 1$$);
-- a pushed aggregate joined with a local table
CREATE TABLE owners (host text PRIMARY KEY, team text);
INSERT INTO owners VALUES ('www.example.com', 'web'), ('shop.example.com', 'shop'),
  ('api.example.com', 'platform');
:clear
SELECT o.team, h.n FROM (SELECT host, count(*) AS n FROM log_records
                         WHERE log_store_name = 'nginx-access'
                           AND time >= '2024-05-01 00:00:00+00' AND time < '2024-05-01 00:10:00+00'
                         GROUP BY host) h
  JOIN owners o USING (host) ORDER BY 1;
:requests
SELECT pushed($$SELECT o.team, h.n FROM (SELECT host, count(*) AS n FROM log_records
  WHERE log_store_name = 'nginx-access'
    AND time >= '2024-05-01 00:00:00+00' AND time < '2024-05-01 00:10:00+00' GROUP BY host) h
  JOIN owners o USING (host)$$);
SELECT * FROM both_ways($$SELECT o.team, h.n FROM (SELECT host, count(*) AS n FROM log_records
  WHERE log_store_name = 'nginx-access'
    AND time >= '2024-05-01 00:00:00+00' AND time < '2024-05-01 00:10:00+00' GROUP BY host) h
  RIGHT JOIN owners o USING (host) ORDER BY 1$$);
-- the pushed aggregate as the inner side of a nested loop, scanned again
-- for each owner: the same rows each time, from one request
SET enable_hashjoin = off;
SET enable_mergejoin = off;
SET enable_material = off;
\set q 'SELECT o.team, h.n FROM owners o JOIN (SELECT host, count(*) AS n FROM log_records WHERE log_store_name = ''nginx-access'' AND time >= ''2024-05-01 00:00:00+00'' AND time < ''2024-05-01 00:10:00+00'' GROUP BY host) h ON h.host = o.host ORDER BY 1'
:clear
:q;
:requests
SELECT pushed(:'q');
SELECT * FROM both_ways(:'q');
RESET enable_hashjoin;
RESET enable_mergejoin;
RESET enable_material;
-- a LATERAL aggregate per outer row: the log store is a parameter of the
-- subquery, one value a scan, so BLS counts each store, one analysis each
\set q 'SELECT s.name, c.n FROM (VALUES (''nginx-access''), (''nginx-error'')) s(name) CROSS JOIN LATERAL (SELECT count(*) AS n FROM log_records WHERE log_store_name = s.name AND time >= ''2024-05-01 00:00:00+00'' AND time < ''2024-05-01 00:10:00+00'') c ORDER BY 1'
:clear
:q;
:requests
SELECT pushed(:'q');
SELECT * FROM both_ways(:'q');

--
-- Time slices through a view and a partitioned table: 20 minutes of
-- nginx-access (4800 records, pages of 500), the rows and their order those
-- of one chain
--
CREATE VIEW serial_access AS
  SELECT time, seq, host, status, log_stream_name, message
  FROM serial.log_records WHERE log_store_name = 'nginx-access';
SELECT slices_read($$SELECT * FROM access
  WHERE time >= '2024-05-01 00:00:00+00' AND time < '2024-05-01 00:20:00+00'$$) AS sliced,
       slices_read($$SELECT * FROM serial_access
  WHERE time >= '2024-05-01 00:00:00+00' AND time < '2024-05-01 00:20:00+00'$$) AS serial;
-- newest first (the service's order, no ORDER BY), then oldest first
SELECT cardinality(a) AS n, a = b AS same
FROM (SELECT array_agg(seq) FROM access
        WHERE time >= '2024-05-01 00:00:00+00' AND time < '2024-05-01 00:20:00+00') x(a),
     (SELECT array_agg(seq) FROM serial_access
        WHERE time >= '2024-05-01 00:00:00+00' AND time < '2024-05-01 00:20:00+00') y(b);
SELECT cardinality(a) AS n, a = b AS same
FROM (SELECT array_agg(seq) FROM (SELECT seq FROM access
        WHERE time >= '2024-05-01 00:00:00+00' AND time < '2024-05-01 00:20:00+00'
        ORDER BY time) s) x(a),
     (SELECT array_agg(seq) FROM (SELECT seq FROM serial_access
        WHERE time >= '2024-05-01 00:00:00+00' AND time < '2024-05-01 00:20:00+00'
        ORDER BY time) s) y(b);
-- every column of every row: nothing more, nothing less
SELECT (SELECT count(*) FROM (
          SELECT * FROM access
            WHERE time >= '2024-05-01 00:00:00+00' AND time < '2024-05-01 00:20:00+00'
          EXCEPT ALL
          SELECT * FROM serial_access
            WHERE time >= '2024-05-01 00:00:00+00' AND time < '2024-05-01 00:20:00+00') d) AS extra,
       (SELECT count(*) FROM (
          SELECT * FROM serial_access
            WHERE time >= '2024-05-01 00:00:00+00' AND time < '2024-05-01 00:20:00+00'
          EXCEPT ALL
          SELECT * FROM access
            WHERE time >= '2024-05-01 00:00:00+00' AND time < '2024-05-01 00:20:00+00') d) AS missing;
-- through the partitioned table pruned to the foreign partition: sliced,
-- and the rows of one chain in its order
SELECT slices_read($$SELECT * FROM logs WHERE project = 'default' AND log_store_name = 'nginx-access'
  AND time >= '2024-05-01 00:00:00+00' AND time < '2024-05-01 00:20:00+00'$$) AS sliced;
SELECT cardinality(a) AS n, a = b AS same
FROM (SELECT array_agg(seq) FROM logs WHERE project = 'default' AND log_store_name = 'nginx-access'
        AND time >= '2024-05-01 00:00:00+00' AND time < '2024-05-01 00:20:00+00') x(a),
     (SELECT array_agg(seq) FROM serial_access
        WHERE time >= '2024-05-01 00:00:00+00' AND time < '2024-05-01 00:20:00+00') y(b);
-- and with the archive's partition: one chain's rows and the archive's, in
-- time order
SELECT slices_read($$SELECT * FROM logs WHERE log_store_name = 'nginx-access'
  AND time >= '2024-05-01 00:00:00+00' AND time < '2024-05-01 00:20:00+00'$$) AS sliced;
SELECT cardinality(a) AS n, a = b AS same
FROM (SELECT array_agg(seq) FROM (SELECT seq FROM logs WHERE log_store_name = 'nginx-access'
        AND time >= '2024-05-01 00:00:00+00' AND time < '2024-05-01 00:20:00+00'
        ORDER BY time, project, seq) s) x(a),
     (SELECT array_agg(seq) FROM (
        SELECT seq, time, 'default' AS project FROM serial_access
          WHERE time >= '2024-05-01 00:00:00+00' AND time < '2024-05-01 00:20:00+00'
        UNION ALL
        SELECT seq, time, project FROM logs_archive WHERE log_store_name = 'nginx-access'
          AND time >= '2024-05-01 00:00:00+00' AND time < '2024-05-01 00:20:00+00'
        ORDER BY time, project, seq) s) y(b);

DROP TABLE owners;
DROP TABLE logs;
DROP SCHEMA part CASCADE;
DROP SCHEMA serial CASCADE;
DROP FUNCTION pushed, slices_read, plan_lines, both_ways, cursor_reads;
DROP SERVER emu CASCADE;
