--
-- Aggregates of log_records computed by BLS: count(*) and GROUP BY become
-- one analysis request when the answer is exact, and stay local otherwise.
-- Every pushed answer is compared with the same aggregate computed locally
-- (bls_fdw.aggregate_pushdown off, or OFFSET 0 under it), and the requests
-- sent are shown.
--
\set VERBOSITY terse
\set ECHO none
\i sql/include/explain_analyze.sql
\set ECHO all
\! python3 test/bls_emulator.py ctl reset

\set emu_import 'LIMIT TO (log_records)'
\set ECHO none
\i sql/include/emu_server.sql
\set ECHO all
-- indexed fields of the nginx stores, as columns with the key option
ALTER FOREIGN TABLE log_records
  ADD COLUMN host text OPTIONS (key 'host'),
  ADD COLUMN status int OPTIONS (key 'status'),
  ADD COLUMN request_time float8 OPTIONS (key 'request_time');

-- pushed and local answers of one query side by side
CREATE FUNCTION both_ways(q text) RETURNS TABLE (pushed text, local text)
LANGUAGE plpgsql AS $$
BEGIN
  SET LOCAL bls_fdw.aggregate_pushdown = on;
  EXECUTE format('SELECT string_agg(r::text, '' '' ORDER BY r::text) FROM (%s) r', q) INTO pushed;
  SET LOCAL bls_fdw.aggregate_pushdown = off;
  EXECUTE format('SELECT string_agg(r::text, '' '' ORDER BY r::text) FROM (%s) r', q) INTO local;
  SET LOCAL bls_fdw.aggregate_pushdown = on;
  RETURN NEXT;
END $$;

-- count(*) over a whole-second window: one request, "select count(*)"
\! python3 test/bls_emulator.py ctl log-clear
SELECT count(*) FROM log_records WHERE log_store_name = 'nginx-access'
  AND time >= '2024-05-01 00:00:00+00' AND time < '2024-05-02 00:00:00+00';
\! python3 test/bls_emulator.py ctl requests
EXPLAIN (VERBOSE, COSTS OFF)
SELECT count(*) FROM log_records WHERE log_store_name = 'nginx-access'
  AND time >= '2024-05-01 00:00:00+00' AND time < '2024-05-02 00:00:00+00';
SELECT explain_analyze($$EXPLAIN (ANALYZE, COSTS OFF, TIMING OFF, SUMMARY OFF, BUFFERS OFF)
SELECT count(*) FROM log_records WHERE log_store_name = 'nginx-access'
  AND time >= '2024-05-01 00:00:00+00' AND time < '2024-05-01 00:10:00+00'$$) AS "QUERY PLAN";
-- the same answer computed locally, from every page
SELECT * FROM both_ways($$SELECT count(*) FROM log_records WHERE log_store_name = 'nginx-access'
  AND time >= '2024-05-01 00:00:00+00' AND time < '2024-05-01 00:10:00+00'$$);
SELECT count(*) FROM (SELECT * FROM log_records WHERE log_store_name = 'nginx-access'
  AND time >= '2024-05-01 00:00:00+00' AND time < '2024-05-01 00:10:00+00' OFFSET 0) s;

-- a search statement, a project and a stream are sent: "<search> | select count(*)"
\! python3 test/bls_emulator.py ctl log-clear
SELECT * FROM both_ways($$SELECT count(*) FROM log_records
  WHERE project = 'prod-web' AND log_store_name = 'nginx-access' AND query = 'status:500'
  AND log_stream_name = 'nginx-02'
  AND time >= '2024-05-01 00:00:00+00' AND time < '2024-05-01 01:00:00+00'$$);
\! python3 test/bls_emulator.py ctl requests
EXPLAIN (VERBOSE, COSTS OFF)
SELECT count(*) FROM log_records
  WHERE project = 'prod-web' AND log_store_name = 'nginx-access' AND query = 'status:500'
  AND time >= '2024-05-01 00:00:00+00' AND time < '2024-05-01 01:00:00+00';

-- dates and timestamps on whole seconds are exact too; no upper bound is
-- the window the scan would send (up to the statement's start)
SELECT * FROM both_ways($$SELECT count(*) FROM log_records WHERE log_store_name = 'nginx-access'
  AND time >= '2024-05-01'::date AND time < '2024-05-01 00:05:00'::timestamp$$);
EXPLAIN (COSTS OFF)
SELECT count(*) FROM log_records WHERE log_store_name = 'nginx-access'
  AND time >= '2024-05-01'::date AND time < '2024-05-01 00:05:00'::timestamp;
EXPLAIN (COSTS OFF)
SELECT count(*) FROM log_records WHERE log_store_name = 'nginx-error'
  AND time >= '2024-05-01 00:00:00+00';

-- not exact, so not pushed, with the same answers: a bound off a whole second,
-- > and <=, an OR of bounds, a condition checked locally, a list of stores
SELECT * FROM both_ways($$SELECT count(*) FROM log_records WHERE log_store_name = 'nginx-access'
  AND time >= '2024-05-01 00:00:00.5+00' AND time < '2024-05-01 00:00:10+00'$$);
EXPLAIN (COSTS OFF)
SELECT count(*) FROM log_records WHERE log_store_name = 'nginx-access'
  AND time >= '2024-05-01 00:00:00.5+00' AND time < '2024-05-01 00:00:10+00';
SELECT * FROM both_ways($$SELECT count(*) FROM log_records WHERE log_store_name = 'nginx-access'
  AND time > '2024-05-01 00:00:00+00' AND time < '2024-05-01 00:00:10+00'$$);
SELECT * FROM both_ways($$SELECT count(*) FROM log_records WHERE log_store_name = 'nginx-access'
  AND time >= '2024-05-01 00:00:00+00' AND time <= '2024-05-01 00:00:10+00'$$);
SELECT * FROM both_ways($$SELECT count(*) FROM log_records WHERE log_store_name = 'nginx-access'
  AND time BETWEEN '2024-05-01 00:00:00+00' AND '2024-05-01 00:00:10+00'$$);
SELECT * FROM both_ways($$SELECT count(*) FROM log_records WHERE log_store_name = 'nginx-access'
  AND time >= '2024-05-01 00:00:00+00' AND time < '2024-05-01 00:00:10+00' AND status = 500$$);
EXPLAIN (COSTS OFF)
SELECT count(*) FROM log_records WHERE log_store_name = 'nginx-access'
  AND time >= '2024-05-01 00:00:00+00' AND time < '2024-05-01 00:00:10+00' AND status = 500;
SELECT * FROM both_ways($$SELECT count(*) FROM log_records
  WHERE log_store_name IN ('nginx-access', 'nginx-error')
  AND time >= '2024-05-01 00:00:00+00' AND time < '2024-05-01 00:00:10+00'$$);
EXPLAIN (COSTS OFF)
SELECT count(*) FROM log_records WHERE log_store_name IN ('nginx-access', 'nginx-error')
  AND time >= '2024-05-01 00:00:00+00' AND time < '2024-05-01 00:00:10+00';
-- a bound known only at run time is not pushed
PREPARE cnt(timestamptz) AS SELECT count(*) FROM log_records
  WHERE log_store_name = 'nginx-access' AND time >= $1 AND time < '2024-05-01 00:00:10+00';
SET plan_cache_mode = force_generic_plan;
EXPLAIN (COSTS OFF) EXECUTE cnt('2024-05-01 00:00:00+00');
EXECUTE cnt('2024-05-01 00:00:00+00');
SET plan_cache_mode = force_custom_plan;
EXPLAIN (COSTS OFF) EXECUTE cnt('2024-05-01 00:00:00+00');
EXECUTE cnt('2024-05-01 00:00:00+00');
RESET plan_cache_mode;
DEALLOCATE cnt;

-- count(col) of a column never NULL is count(*); others stay local
SELECT * FROM both_ways($$SELECT count(time), count(query), count(*) FROM log_records
  WHERE log_store_name = 'nginx-access'
  AND time >= '2024-05-01 00:00:00+00' AND time < '2024-05-01 00:00:10+00'$$);
EXPLAIN (VERBOSE, COSTS OFF)
SELECT count(time), count(query), count(*) FROM log_records WHERE log_store_name = 'nginx-access'
  AND time >= '2024-05-01 00:00:00+00' AND time < '2024-05-01 00:00:10+00';
EXPLAIN (COSTS OFF)
SELECT count(host) FROM log_records WHERE log_store_name = 'nginx-access'
  AND time >= '2024-05-01 00:00:00+00' AND time < '2024-05-01 00:00:10+00';
EXPLAIN (COSTS OFF)
SELECT count(DISTINCT time) FROM log_records WHERE log_store_name = 'nginx-access'
  AND time >= '2024-05-01 00:00:00+00' AND time < '2024-05-01 00:00:10+00';
-- min(time) and max(time): the first record in each time order, one search each
\! python3 test/bls_emulator.py ctl log-clear
SELECT * FROM both_ways($$SELECT min(time), max(time), count(*) FROM log_records
  WHERE project = 'prod-web' AND log_store_name = 'nginx-access' AND query = 'status:500'
  AND time >= '2024-05-01 00:00:00+00' AND time < '2024-05-01 00:10:00+00'$$);
\! python3 test/bls_emulator.py ctl requests
EXPLAIN (VERBOSE, COSTS OFF)
SELECT min(time), max(time), count(*) FROM log_records
  WHERE project = 'prod-web' AND log_store_name = 'nginx-access' AND query = 'status:500'
  AND time >= '2024-05-01 00:00:00+00' AND time < '2024-05-01 00:10:00+00';
SELECT explain_analyze($$EXPLAIN (ANALYZE, COSTS OFF, TIMING OFF, SUMMARY OFF, BUFFERS OFF)
SELECT max(time) - min(time) AS span FROM log_records WHERE log_store_name = 'nginx-access'
  AND time >= '2024-05-01 00:00:00+00' AND time < '2024-05-01 00:10:00+00'$$) AS "QUERY PLAN";
SELECT max(time) - min(time) AS span FROM log_records WHERE log_store_name = 'nginx-access'
  AND time >= '2024-05-01 00:00:00+00' AND time < '2024-05-01 00:10:00+00';
-- a window with no record: NULL, as PostgreSQL's min() of no rows
SELECT * FROM both_ways($$SELECT min(time), max(time), count(*) FROM log_records
  WHERE log_store_name = 'nginx-access' AND query = 'nosuchword'
  AND time >= '2024-05-01 00:00:00+00' AND time < '2024-05-01 00:00:10+00'$$);
-- not per group (a search per group), nor min() of another column
EXPLAIN (COSTS OFF)
SELECT host, min(time) FROM log_records WHERE log_store_name = 'nginx-access'
  AND time >= '2024-05-01 00:00:00+00' AND time < '2024-05-01 00:00:10+00' GROUP BY 1;
EXPLAIN (COSTS OFF)
SELECT min(seq) FROM log_records WHERE log_store_name = 'nginx-access'
  AND time >= '2024-05-01 00:00:00+00' AND time < '2024-05-01 00:00:10+00';

-- GROUP BY an indexed field: "select <field>, count(*) group by <field>"
\! python3 test/bls_emulator.py ctl log-clear
SELECT host, count(*) FROM log_records WHERE log_store_name = 'nginx-access'
  AND time >= '2024-05-01 00:00:00+00' AND time < '2024-05-01 01:00:00+00'
GROUP BY host ORDER BY host;
\! python3 test/bls_emulator.py ctl requests
EXPLAIN (VERBOSE, COSTS OFF)
SELECT host, count(*) FROM log_records WHERE log_store_name = 'nginx-access'
  AND time >= '2024-05-01 00:00:00+00' AND time < '2024-05-01 01:00:00+00'
GROUP BY host ORDER BY host;
SELECT * FROM both_ways($$SELECT host, count(*) FROM log_records WHERE log_store_name = 'nginx-access'
  AND time >= '2024-05-01 00:00:00+00' AND time < '2024-05-01 01:00:00+00' GROUP BY host$$);
SELECT * FROM both_ways($$SELECT status, count(*), count(time) FROM log_records
  WHERE project = 'prod-web' AND log_store_name = 'nginx-access' AND query = 'method:POST'
  AND time >= '2024-05-01 00:00:00+00' AND time < '2024-05-01 01:00:00+00' GROUP BY 1$$);
SELECT * FROM both_ways($$SELECT log_stream_name, count(*) FROM log_records
  WHERE log_store_name = 'nginx-access'
  AND time >= '2024-05-01 00:00:00+00' AND time < '2024-05-01 01:00:00+00' GROUP BY 1$$);
EXPLAIN (VERBOSE, COSTS OFF)
SELECT log_stream_name, count(*) FROM log_records WHERE log_store_name = 'nginx-access'
  AND time >= '2024-05-01 00:00:00+00' AND time < '2024-05-01 01:00:00+00' GROUP BY 1;
-- HAVING, ORDER BY and LIMIT run above the pushed aggregate
SELECT * FROM both_ways($$SELECT status, count(*) * 2 AS twice FROM log_records
  WHERE log_store_name = 'nginx-access'
  AND time >= '2024-05-01 00:00:00+00' AND time < '2024-05-01 01:00:00+00'
  GROUP BY status HAVING count(*) > 500$$);
EXPLAIN (VERBOSE, COSTS OFF)
SELECT status, count(*) FROM log_records WHERE log_store_name = 'nginx-access'
  AND time >= '2024-05-01 00:00:00+00' AND time < '2024-05-01 01:00:00+00'
GROUP BY status HAVING count(*) > 500 ORDER BY count(*) DESC LIMIT 2;
SELECT status, count(*) FROM log_records WHERE log_store_name = 'nginx-access'
  AND time >= '2024-05-01 00:00:00+00' AND time < '2024-05-01 01:00:00+00'
GROUP BY status HAVING count(*) > 500 ORDER BY count(*) DESC LIMIT 2;
-- not pushed: a field of another type (a float's text forms may differ), the
-- time, an expression, a HAVING the service cannot compute, two columns
EXPLAIN (COSTS OFF)
SELECT request_time, count(*) FROM log_records WHERE log_store_name = 'nginx-access'
  AND time >= '2024-05-01 00:00:00+00' AND time < '2024-05-01 00:00:10+00' GROUP BY 1;
EXPLAIN (COSTS OFF)
SELECT time, count(*) FROM log_records WHERE log_store_name = 'nginx-access'
  AND time >= '2024-05-01 00:00:00+00' AND time < '2024-05-01 00:00:10+00' GROUP BY 1;
EXPLAIN (COSTS OFF)
SELECT lower(host), count(*) FROM log_records WHERE log_store_name = 'nginx-access'
  AND time >= '2024-05-01 00:00:00+00' AND time < '2024-05-01 00:00:10+00' GROUP BY 1;
SELECT * FROM both_ways($$SELECT host, count(*) FROM log_records WHERE log_store_name = 'nginx-access'
  AND time >= '2024-05-01 00:00:00+00' AND time < '2024-05-01 00:00:10+00'
  GROUP BY host HAVING max(status) >= 500$$);
EXPLAIN (COSTS OFF)
SELECT host, status, count(*) FROM log_records WHERE log_store_name = 'nginx-access'
  AND time >= '2024-05-01 00:00:00+00' AND time < '2024-05-01 00:00:10+00' GROUP BY 1, 2;
-- an empty window, a contradiction, a NULL bound: nothing is sent
\! python3 test/bls_emulator.py ctl log-clear
SELECT count(*) FROM log_records WHERE log_store_name = 'nginx-access'
  AND time >= '2024-05-01 00:00:10+00' AND time < '2024-05-01 00:00:10+00';
SELECT count(*) FROM log_records WHERE log_store_name = 'nginx-access' AND project = 'a'
  AND project = 'b' AND time >= '2024-05-01 00:00:00+00' AND time < '2024-05-01 00:00:10+00';
SELECT host, count(*) FROM log_records WHERE log_store_name = 'nginx-access'
  AND time >= '2024-05-01 00:00:10+00' AND time < '2024-05-01 00:00:10+00' GROUP BY 1;
-- a relation proven empty is not sized: nothing to push, nothing sent
SELECT count(*) FROM log_records WHERE log_store_name = 'nginx-access'
  AND time >= NULL::timestamptz;
SELECT host, count(*) FROM log_records WHERE log_store_name = 'nginx-access'
  AND time >= '2024-05-01 00:00:00+00' AND false GROUP BY 1;
\! python3 test/bls_emulator.py ctl requests
-- a re-scan with new values asks again
SELECT s.name, (SELECT count(*) FROM log_records l WHERE l.log_store_name = s.name
                AND time >= '2024-05-01 00:00:00+00' AND time < '2024-05-01 00:00:10+00')
FROM (VALUES ('nginx-access'), ('nginx-error')) s(name) ORDER BY 1;
-- what cannot be sent is still refused, pushed or not
SELECT count(*) FROM log_records WHERE log_store_name = 'nginx-access' AND query = 'match * | select count(*)'
  AND time >= '2024-05-01 00:00:00+00' AND time < '2024-05-01 00:00:10+00';
\echo :LAST_ERROR_SQLSTATE
SELECT count(*) FROM log_records WHERE log_store_name = '..'
  AND time >= '2024-05-01 00:00:00+00' AND time < '2024-05-01 00:00:10+00';
\echo :LAST_ERROR_SQLSTATE

-- a truncated analysis result is an error, whatever on_truncation says
\set VERBOSITY default
\! python3 test/bls_emulator.py ctl config '{"logrecord_max_analysis_rows": 2}'
SELECT host, count(*) FROM log_records WHERE log_store_name = 'nginx-access'
  AND time >= '2024-05-01 00:00:00+00' AND time < '2024-05-01 00:10:00+00' GROUP BY 1;
ALTER FOREIGN TABLE log_records OPTIONS (ADD on_truncation 'notice');
SELECT host, count(*) FROM log_records WHERE log_store_name = 'nginx-access'
  AND time >= '2024-05-01 00:00:00+00' AND time < '2024-05-01 00:10:00+00' GROUP BY 1;
ALTER FOREIGN TABLE log_records OPTIONS (DROP on_truncation);
-- four groups fit
\! python3 test/bls_emulator.py ctl config '{"logrecord_max_analysis_rows": 4}'
SELECT host, count(*) FROM log_records WHERE log_store_name = 'nginx-access'
  AND time >= '2024-05-01 00:00:00+00' AND time < '2024-05-01 00:10:00+00' GROUP BY 1 ORDER BY 1;
\! python3 test/bls_emulator.py ctl reset

-- faults on the analysis request: clear errors, never a wrong count
\set VERBOSITY terse
\! python3 test/bls_emulator.py ctl fault '{"type": "http", "status": 503, "call": "QueryLogRecord"}'
SELECT count(*) FROM log_records WHERE log_store_name = 'nginx-access'
  AND time >= '2024-05-01 00:00:00+00' AND time < '2024-05-01 00:00:10+00';
ALTER SERVER emu OPTIONS (ADD max_retries '0');
\! python3 test/bls_emulator.py ctl fault '{"type": "http", "status": 500, "call": "QueryLogRecord"}'
SELECT count(*) FROM log_records WHERE log_store_name = 'nginx-access'
  AND time >= '2024-05-01 00:00:00+00' AND time < '2024-05-01 00:00:10+00';
\echo :LAST_ERROR_SQLSTATE
ALTER SERVER emu OPTIONS (DROP max_retries);
\! python3 test/bls_emulator.py ctl reset
\! python3 test/bls_emulator.py ctl fault '{"type": "malformed", "call": "QueryLogRecord"}'
SELECT count(*) FROM log_records WHERE log_store_name = 'nginx-access'
  AND time >= '2024-05-01 00:00:00+00' AND time < '2024-05-01 00:00:10+00';
\echo :LAST_ERROR_SQLSTATE
\! python3 test/bls_emulator.py ctl fault '{"type": "missing_tasks", "call": "QueryLogRecord"}'
SELECT count(*) FROM log_records WHERE log_store_name = 'nginx-access'
  AND time >= '2024-05-01 00:00:00+00' AND time < '2024-05-01 00:00:10+00';
\echo :LAST_ERROR_SQLSTATE
\set VERBOSITY default
\! python3 test/bls_emulator.py ctl fault '{"type": "wrong_type", "field": "count(*)", "value": "many", "call": "QueryLogRecord"}'
SELECT count(*) FROM log_records WHERE log_store_name = 'nginx-access'
  AND time >= '2024-05-01 00:00:00+00' AND time < '2024-05-01 00:00:10+00';
\echo :LAST_ERROR_SQLSTATE
\! python3 test/bls_emulator.py ctl fault '{"type": "wrong_type", "field": "count(*)", "value": -1, "call": "QueryLogRecord"}'
SELECT count(*) FROM log_records WHERE log_store_name = 'nginx-access'
  AND time >= '2024-05-01 00:00:00+00' AND time < '2024-05-01 00:00:10+00';
\! python3 test/bls_emulator.py ctl fault '{"type": "extra_fields", "call": "QueryLogRecord"}'
SELECT count(*) FROM log_records WHERE log_store_name = 'nginx-access'
  AND time >= '2024-05-01 00:00:00+00' AND time < '2024-05-01 00:00:10+00';
\! python3 test/bls_emulator.py ctl fault '{"type": "missing_fields", "fields": "count(*)", "call": "QueryLogRecord"}'
SELECT count(*) FROM log_records WHERE log_store_name = 'nginx-access'
  AND time >= '2024-05-01 00:00:00+00' AND time < '2024-05-01 00:00:10+00';
\! python3 test/bls_emulator.py ctl fault '{"type": "null_fields", "fields": "@timestamp", "call": "QueryLogRecord"}'
SELECT min(time) FROM log_records WHERE log_store_name = 'nginx-access'
  AND time >= '2024-05-01 00:00:00+00' AND time < '2024-05-01 00:00:10+00';
\echo :LAST_ERROR_SQLSTATE
\! python3 test/bls_emulator.py ctl fault '{"type": "wrong_type", "field": "host", "value": "api.example.com", "index": 1, "call": "QueryLogRecord"}'
SELECT host, count(*) FROM log_records WHERE log_store_name = 'nginx-access'
  AND time >= '2024-05-01 00:00:00+00' AND time < '2024-05-01 00:00:10+00' GROUP BY 1;
\echo :LAST_ERROR_SQLSTATE
\! python3 test/bls_emulator.py ctl fault '{"type": "extra_fields", "call": "QueryLogRecord"}'
SELECT host, count(*) FROM log_records WHERE log_store_name = 'nginx-access'
  AND time >= '2024-05-01 00:00:00+00' AND time < '2024-05-01 00:00:10+00' GROUP BY 1;
\! python3 test/bls_emulator.py ctl fault '{"type": "swap_columns", "call": "QueryLogRecord"}'
SELECT status, count(*) FROM log_records WHERE log_store_name = 'nginx-access'
  AND time >= '2024-05-01 00:00:00+00' AND time < '2024-05-01 00:00:10+00' GROUP BY 1;
-- a statement_timeout or cancel ends the analysis request
\! python3 test/bls_emulator.py ctl reset
\! python3 test/bls_emulator.py ctl fault '{"type": "delay_headers", "ms": 30000, "call": "QueryLogRecord"}'
SELECT clock_timestamp() AS t0 \gset
SET statement_timeout = '300ms';
SELECT count(*) FROM log_records WHERE log_store_name = 'nginx-access'
  AND time >= '2024-05-01 00:00:00+00' AND time < '2024-05-01 00:00:10+00';
\echo :LAST_ERROR_SQLSTATE
RESET statement_timeout;
SELECT clock_timestamp() - :'t0' < interval '5 seconds' AS cancelled_promptly;
\! python3 test/bls_emulator.py ctl reset
-- a string count is taken, as the service may type it
\! python3 test/bls_emulator.py ctl fault '{"type": "wrong_type", "field": "count(*)", "value": "40", "call": "QueryLogRecord"}'
SELECT count(*) FROM log_records WHERE log_store_name = 'nginx-access'
  AND time >= '2024-05-01 00:00:00+00' AND time < '2024-05-01 00:00:10+00';
\! python3 test/bls_emulator.py ctl reset

DROP FUNCTION both_ways(text);
DROP SERVER emu CASCADE;
