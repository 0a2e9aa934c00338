--
-- log_records: what the planner sends.  A condition on a column that shows
-- the value sent (project, query, log_store_name) is sent whatever form it
-- takes (a constant, an OR, a join, a semi-join, an init plan, a generic
-- plan's parameter), or refused: never checked against a default.  Time
-- bounds are taken in every form users write (=, BETWEEN SYMMETRIC,
-- timestamp, date, a join), rounded outward and rechecked exactly, and
-- clamped to what BLS takes.  Log store names BLS cannot hold are refused
-- before anything is sent.  The emulator writes shardCount records a second
-- (default/nginx-access 4, prod-web/nginx-access 8), so every count below is
-- known.
--
\set VERBOSITY terse
-- the counts below count the records a scan reads; the counts BLS computes
-- itself (aggregate pushdown) are logrecords_agg's
SET bls_fdw.aggregate_pushdown = off;
\! python3 test/bls_emulator.py ctl reset

\set emu_import 'LIMIT TO (log_records)'
\set ECHO none
\i sql/include/emu_server.sql
\set ECHO all
-- time is timestamptz(3): BLS times are milliseconds
SELECT attname, format_type(atttypid, atttypmod) FROM pg_attribute
WHERE attrelid = 'log_records'::regclass AND attname = 'time';

-- ten seconds of nginx-access, per project, as the constant form gives it
CREATE TEMP VIEW ten_seconds AS
  SELECT * FROM log_records
  WHERE log_store_name = 'nginx-access'
    AND time >= '2024-05-01 00:00:00+00' AND time < '2024-05-01 00:00:10+00';
\! python3 test/bls_emulator.py ctl log-clear
SELECT project, count(*) FROM ten_seconds
WHERE project IN ('default', 'prod-web') GROUP BY 1 ORDER BY 1;
\! python3 test/bls_emulator.py ctl requests

--
-- 12. Echoed columns: every form sends its values, one sequence per value
--
CREATE TEMP TABLE wanted (p text, q text);
INSERT INTO wanted VALUES ('default', 'match *'), ('prod-web', 'status:500');
ANALYZE wanted;
-- EXPLAIN shows what varies by sequence as {name}, not as the default
EXPLAIN (VERBOSE, COSTS OFF)
SELECT count(*) FROM ten_seconds WHERE project IN ('default', 'prod-web');
-- OR of equalities is an array
\! python3 test/bls_emulator.py ctl log-clear
SELECT project, count(*) FROM ten_seconds
WHERE project = 'default' OR project = 'prod-web' GROUP BY 1 ORDER BY 1;
\! python3 test/bls_emulator.py ctl requests
-- a semi-join on VALUES: a parameterized path, not a filter on the default
EXPLAIN (VERBOSE, COSTS OFF)
SELECT project, count(*) FROM ten_seconds
WHERE project IN (VALUES ('default'), ('prod-web')) GROUP BY 1 ORDER BY 1;
\! python3 test/bls_emulator.py ctl log-clear
SELECT project, count(*) FROM ten_seconds
WHERE project IN (VALUES ('default'), ('prod-web')) GROUP BY 1 ORDER BY 1;
\! python3 test/bls_emulator.py ctl requests
-- a semi-join on a table
SELECT project, count(*) FROM ten_seconds
WHERE project IN (SELECT p FROM wanted) GROUP BY 1 ORDER BY 1;
-- an init plan: an executor parameter, one sequence per element
EXPLAIN (VERBOSE, COSTS OFF)
SELECT count(*) FROM ten_seconds
WHERE project = ANY ((SELECT array_agg(p) FROM wanted)::text[]);
SELECT project, count(*) FROM ten_seconds
WHERE project = ANY ((SELECT array_agg(p) FROM wanted)::text[]) GROUP BY 1 ORDER BY 1;
-- a join on query: each statement sent (not 'match *' filtered locally)
\! python3 test/bls_emulator.py ctl log-clear
SELECT w.q, count(l.seq), bool_and(l.query = w.q) AS echoed
FROM wanted w JOIN ten_seconds l ON l.query = w.q GROUP BY 1 ORDER BY 1;
\! python3 test/bls_emulator.py ctl requests
SELECT count(*) FROM ten_seconds WHERE query = 'status:500';
-- many outer rows: still the parameterized path (the plain scan cannot answer)
CREATE TEMP TABLE many AS SELECT 'p' || i AS p FROM generate_series(1, 2000) i;
INSERT INTO many VALUES ('prod-web');
ANALYZE many;
EXPLAIN (COSTS OFF)
SELECT count(*) FROM ten_seconds l JOIN many m ON l.project = m.p;
-- the join on both columns at once, and a left join from the outer side
SELECT w.p, w.q, count(l.seq)
FROM wanted w LEFT JOIN ten_seconds l ON l.project = w.p AND l.query = w.q
GROUP BY 1, 2 ORDER BY 1, 2;
-- the log store from a join too
SELECT s.n, count(l.seq) FROM (VALUES ('nginx-access'), ('nginx-error')) s(n)
JOIN log_records l ON l.log_store_name = s.n
WHERE l.time >= '2024-05-01 00:00:00+00' AND l.time < '2024-05-01 00:00:10+00'
GROUP BY 1 ORDER BY 1;
-- a generic plan: parameters, and a semi-join on a parameter's elements
PREPARE echo_p(text[]) AS
  SELECT project, count(*) FROM ten_seconds WHERE project = ANY ($1) GROUP BY 1 ORDER BY 1;
PREPARE echo_s(text[]) AS
  SELECT project, count(*) FROM ten_seconds
  WHERE project IN (SELECT unnest($1)) GROUP BY 1 ORDER BY 1;
SET plan_cache_mode = force_generic_plan;
EXECUTE echo_p('{default,prod-web}');
EXECUTE echo_s('{default,prod-web}');
EXECUTE echo_s('{prod-web}');
RESET plan_cache_mode;
-- a cursor over the semi-join, read in parts and backwards
BEGIN;
DECLARE c SCROLL CURSOR FOR
  SELECT project, seq FROM ten_seconds
  WHERE project IN (VALUES ('default'), ('prod-web')) ORDER BY project, seq;
FETCH 2 FROM c;
MOVE FORWARD 100 IN c;
FETCH 3 FROM c;
FETCH BACKWARD 1 FROM c;
COMMIT;
-- a local condition on the sent column is fine once a value is sent
SELECT count(*) FROM ten_seconds WHERE project = 'prod-web' AND project LIKE 'prod%';
-- a form that cannot be sent is refused, never answered from the default
\set VERBOSITY default
SELECT count(*) FROM ten_seconds WHERE project LIKE 'prod%';
\set VERBOSITY terse
\echo :LAST_ERROR_SQLSTATE
SELECT count(*) FROM ten_seconds WHERE upper(query) = 'MATCH *';
SELECT count(*) FROM ten_seconds WHERE project <> 'default';
SELECT count(*) FROM ten_seconds l JOIN wanted w ON l.project LIKE w.p;
-- a nondeterministic collation cannot be sent either
CREATE COLLATION ci (provider = icu, locale = 'und-u-ks-level2', deterministic = false);
SELECT count(*) FROM ten_seconds WHERE project = 'PROD-WEB' COLLATE ci;

--
-- 19. Time bounds as users write them
--
-- time = constant: one record, the window its second
\! python3 test/bls_emulator.py ctl log-clear
SELECT time, seq FROM log_records
WHERE log_store_name = 'nginx-access' AND time = '2024-05-01 00:00:00.25+00';
SELECT count(*) FROM log_records
WHERE log_store_name = 'nginx-access' AND time = '2024-05-01 00:00:00.3+00';
\! python3 test/bls_emulator.py ctl requests
-- BETWEEN SYMMETRIC, either way round; with a NULL end, nothing
\! python3 test/bls_emulator.py ctl log-clear
SELECT count(*), (SELECT count(*) FROM generate_series(timestamptz '2024-05-01 00:00:00.5+00',
                    '2024-05-01 00:00:02+00', interval '250 milliseconds')) AS expected
FROM log_records WHERE log_store_name = 'nginx-access'
  AND time BETWEEN SYMMETRIC '2024-05-01 00:00:02+00' AND '2024-05-01 00:00:00.5+00';
SELECT count(*) FROM log_records WHERE log_store_name = 'nginx-access'
  AND time BETWEEN SYMMETRIC '2024-05-01 00:00:00.5+00' AND '2024-05-01 00:00:02+00';
SELECT count(*) FROM log_records WHERE log_store_name = 'nginx-access'
  AND time BETWEEN SYMMETRIC '2024-05-01 00:00:00.5+00' AND NULL;
\! python3 test/bls_emulator.py ctl requests
-- bounds of type timestamp, in the session's TimeZone, and of type date
SET TimeZone = 'Asia/Shanghai';
\! python3 test/bls_emulator.py ctl log-clear
SELECT count(*) FROM log_records WHERE log_store_name = 'nginx-access'
  AND time >= '2024-05-01 08:00:00'::timestamp AND time < '2024-05-01 08:00:02.5'::timestamp;
SELECT count(*) FROM log_records WHERE log_store_name = 'nginx-access'
  AND '2024-05-01'::date <= time AND time < '2024-05-01 00:00:01'::timestamp;
SELECT count(*) FROM log_records WHERE log_store_name = 'nginx-access'
  AND time >= '2024-05-01'::date AND time < '2024-05-01 00:00:01'::timestamptz;
\! python3 test/bls_emulator.py ctl requests
RESET TimeZone;
-- a join supplying the bounds while the store is a constant
CREATE TEMP TABLE windows (id int, lo timestamp, hi timestamptz);
INSERT INTO windows VALUES (1, '2024-05-01 00:00:00', '2024-05-01 07:00:01+00'),
                           (2, '2024-05-01 00:00:10.5', '2024-05-01 07:00:12+00');
ANALYZE windows;
EXPLAIN (VERBOSE, COSTS OFF)
SELECT w.id, count(l.seq) FROM windows w
JOIN log_records l ON l.time >= w.lo AND l.time < w.hi
WHERE l.log_store_name = 'nginx-access' GROUP BY 1 ORDER BY 1;
\! python3 test/bls_emulator.py ctl log-clear
SELECT w.id, count(l.seq) FROM windows w
JOIN log_records l ON l.time >= w.lo AND l.time < w.hi
WHERE l.log_store_name = 'nginx-access' GROUP BY 1 ORDER BY 1;
\! python3 test/bls_emulator.py ctl requests
-- the same through a LATERAL subquery and a prepared statement's generic plan
SELECT w.id, n FROM windows w,
  LATERAL (SELECT count(*) AS n FROM log_records l WHERE l.log_store_name = 'nginx-access'
           AND l.time = w.lo) s ORDER BY 1;
PREPARE between_g(timestamptz, timestamptz) AS
  SELECT count(*) FROM log_records WHERE log_store_name = 'nginx-access'
    AND time BETWEEN SYMMETRIC $1 AND $2;
SET plan_cache_mode = force_generic_plan;
EXECUTE between_g('2024-05-01 00:00:03+00', '2024-05-01 00:00:01+00');
RESET plan_cache_mode;
-- out of BLS's range: the upper end clamps as the lower end does
\! python3 test/bls_emulator.py ctl log-clear
SELECT time FROM log_records WHERE log_store_name = 'nginx-access'
  AND time >= '2024-05-01 00:00:00+00' AND time < '10000-01-01 00:00:00+00'
ORDER BY time LIMIT 2;
SELECT time FROM log_records WHERE log_store_name = 'nginx-access'
  AND time >= '2024-05-01 00:00:00+00' AND time <= 'infinity' ORDER BY time LIMIT 1;
SELECT count(*) FROM log_records WHERE log_store_name = 'nginx-access'
  AND time >= '1900-01-01 00:00:00+00' AND time < '2023-03-14 02:10:01+00';
SELECT count(*) FROM log_records WHERE log_store_name = 'nginx-access'
  AND time >= '10000-01-01 00:00:00+00';
SELECT count(*) FROM log_records WHERE log_store_name = 'nginx-access'
  AND time >= '-infinity' AND time < '1960-01-01 00:00:00+00';
\! python3 test/bls_emulator.py ctl requests
-- bls_log_query() alike
\! python3 test/bls_emulator.py ctl log-clear
SELECT count(*) FROM bls_log_query('emu', 'nginx-access', 'select count(*)',
                            '2024-05-01 00:00:00+00', '10000-01-01 00:00:00+00');
SELECT count(*) FROM bls_log_query('emu', 'nginx-access', 'match *',
                            '1900-01-01 00:00:00+00', '2023-03-14 02:10:01+00');
SELECT count(*) FROM bls_log_query('emu', 'nginx-access', 'match *',
                            '10000-01-01 00:00:00+00', 'infinity');
\! python3 test/bls_emulator.py ctl requests
-- a start after the end, even by a fraction of a second: an error, nothing sent
\set VERBOSITY default
SELECT count(*) FROM bls_log_query('emu', 'nginx-access', 'match *',
                            '2024-05-01 00:00:00.7+00', '2024-05-01 00:00:00.3+00');
\set VERBOSITY terse
\echo :LAST_ERROR_SQLSTATE
-- an empty window asks nothing
SELECT count(*) FROM bls_log_query('emu', 'nginx-access', 'match *',
                            '2024-05-01 00:00:00.3+00', '2024-05-01 00:00:00.3+00');
\! python3 test/bls_emulator.py ctl requests

-- a download task's start after its end by a fraction: refused before rounding
IMPORT FOREIGN SCHEMA bls LIMIT TO (download_tasks) FROM SERVER emu INTO public;
\! python3 test/bls_emulator.py ctl log-clear
\set VERBOSITY default
INSERT INTO download_tasks (log_store_name, query_start_time, query_end_time)
VALUES ('nginx-access', '2024-05-01 00:00:00.7+00', '2024-05-01 00:00:00.3+00');
\set VERBOSITY terse
\echo :LAST_ERROR_SQLSTATE
\! python3 test/bls_emulator.py ctl calls CreateDownloadTask | wc -l

--
-- 18. Log store names BLS cannot hold: an error naming the value, no request
--
\! python3 test/bls_emulator.py ctl log-clear
\set VERBOSITY default
SELECT count(*) FROM log_records WHERE log_store_name = '..'
  AND time >= '2024-05-01 00:00:00+00' AND time < '2024-05-01 00:00:01+00';
\set VERBOSITY terse
\echo :LAST_ERROR_SQLSTATE
SELECT count(*) FROM log_records WHERE log_store_name = ''
  AND time >= '2024-05-01 00:00:00+00' AND time < '2024-05-01 00:00:01+00';
SELECT count(*) FROM log_records WHERE log_store_name = '.'
  AND time >= '2024-05-01 00:00:00+00' AND time < '2024-05-01 00:00:01+00';
-- in a list, before the valid name's request is sent
SELECT count(*) FROM log_records WHERE log_store_name IN ('nginx-access', 'nginx/access')
  AND time >= '2024-05-01 00:00:00+00' AND time < '2024-05-01 00:00:01+00';
SELECT count(*) FROM bls_log_query('emu', '../download/list', 'match *',
                            '2024-05-01 00:00:00+00', '2024-05-01 00:00:01+00');
SELECT count(*) FROM bls_log_query('emu', '', 'match *',
                            '2024-05-01 00:00:00+00', '2024-05-01 00:00:01+00');
\! python3 test/bls_emulator.py ctl requests
-- dots inside a name are fine
SELECT count(*) FROM log_records WHERE log_store_name = 'a..b'
  AND time >= '2024-05-01 00:00:00+00' AND time < '2024-05-01 00:00:01+00';

--
-- bls_log_query() pages by the server's page_size
--
ALTER SERVER emu OPTIONS (ADD page_size '300');
\! python3 test/bls_emulator.py ctl log-clear
SELECT count(*), count(DISTINCT (r->>'@seq')) FROM bls_log_query('emu', 'nginx-access',
  'match *', '2024-05-01 00:00:00+00', '2024-05-01 00:03:00+00') r;
\! python3 test/bls_emulator.py ctl requests | sed -e 's/marker=[^&]*/marker=M/'
ALTER SERVER emu OPTIONS (DROP page_size);

DROP SERVER emu CASCADE;
