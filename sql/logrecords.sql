--
-- log_records (QueryLogRecord): the log store is the path, the time window,
-- the search statement, the project and the stream are sent, ORDER BY time
-- and LIMIT are pushed, and pages follow nextMarker.  The emulator writes
-- shardCount records a second per store, at evenly spaced milliseconds, so
-- every count below can be computed here and compared.
--
\getenv emulator_url BLS_EMULATOR_URL
\set VERBOSITY terse
-- the counts below count the records a scan reads; the counts BLS computes
-- itself (aggregate pushdown) are logrecords_agg's
SET bls_fdw.aggregate_pushdown = off;
\! python3 test/bls_emulator.py ctl reset

CREATE SERVER emu FOREIGN DATA WRAPPER bls_fdw OPTIONS (endpoint :'emulator_url');
CREATE USER MAPPING FOR CURRENT_USER SERVER emu
  OPTIONS (access_key_id 'emulator-ak', secret_access_key 'emulator-sk');
IMPORT FOREIGN SCHEMA bls LIMIT TO (log_records) FROM SERVER emu INTO public;
\d log_records

-- what a request cannot do without: a clear error, nothing sent
\! python3 test/bls_emulator.py ctl log-clear
SELECT count(*) FROM log_records WHERE time >= '2024-05-01 00:00:00+00';
\echo :LAST_ERROR_SQLSTATE
SELECT count(*) FROM log_records WHERE log_store_name = 'nginx-access';
\echo :LAST_ERROR_SQLSTATE
\set VERBOSITY default
SELECT count(*) FROM log_records WHERE log_store_name = 'nginx-access'
  AND time < '2024-05-01 00:00:00+00';
SELECT count(*) FROM log_records WHERE log_store_name LIKE 'nginx%'
  AND time >= '2024-05-01 00:00:00+00';
\set VERBOSITY terse
\! python3 test/bls_emulator.py ctl requests

-- ten seconds of default/nginx-access (4 shards): 40 records, newest first
\! python3 test/bls_emulator.py ctl log-clear
SELECT count(*), count(DISTINCT seq), min(time), max(time),
       bool_and(project = 'default') AS project, bool_and(query = 'match *') AS query,
       bool_and(log_store_name = 'nginx-access') AS store,
       array_agg(DISTINCT log_stream_name) AS streams
FROM log_records
WHERE log_store_name = 'nginx-access'
  AND time >= '2024-05-01 00:00:00+00' AND time < '2024-05-01 00:00:10+00';
\! python3 test/bls_emulator.py ctl requests
SELECT time, seq, log_stream_name, message, fields
FROM log_records
WHERE log_store_name = 'nginx-access'
  AND time >= '2024-05-01 00:00:00+00' AND time < '2024-05-01 00:00:01+00';

-- bounds off whole seconds, and > and <=: the window is rounded outward and
-- the bounds are checked exactly; the answer is what the timestamps say
CREATE FUNCTION expected(lo timestamptz, hi timestamptz, lo_incl bool, hi_incl bool,
                         shards int DEFAULT 4)
RETURNS bigint LANGUAGE sql AS $$
  SELECT count(*) FROM generate_series(date_trunc('second', lo) - interval '1 second',
                                       date_trunc('second', hi) + interval '1 second',
                                       interval '1 millisecond' * (1000 / shards)) t
  WHERE (t > lo OR (lo_incl AND t = lo)) AND (t < hi OR (hi_incl AND t = hi)) $$;
\! python3 test/bls_emulator.py ctl log-clear
SELECT count(*), expected('2024-05-01 00:00:00.5+00', '2024-05-01 00:00:02.25+00', true, false)
FROM log_records WHERE log_store_name = 'nginx-access'
  AND time >= '2024-05-01 00:00:00.5+00' AND time < '2024-05-01 00:00:02.25+00';
SELECT count(*), expected('2024-05-01 00:00:00.5+00', '2024-05-01 00:00:02.25+00', false, true)
FROM log_records WHERE log_store_name = 'nginx-access'
  AND time > '2024-05-01 00:00:00.5+00' AND time <= '2024-05-01 00:00:02.25+00';
SELECT count(*), expected('2024-05-01 00:00:01+00', '2024-05-01 00:00:03+00', false, true)
FROM log_records WHERE log_store_name = 'nginx-access'
  AND time > '2024-05-01 00:00:01+00' AND time <= '2024-05-01 00:00:03+00';
-- the tighter of two bounds; an empty window sends nothing
SELECT count(*) FROM log_records WHERE log_store_name = 'nginx-access'
  AND time >= '2024-05-01 00:00:00+00' AND time >= '2024-05-01 00:00:08+00'
  AND time < '2024-05-01 00:00:20+00' AND time < '2024-05-01 00:00:09+00';
SELECT count(*) FROM log_records WHERE log_store_name = 'nginx-access'
  AND time >= '2024-05-01 00:00:05+00' AND time < '2024-05-01 00:00:05+00';
\! python3 test/bls_emulator.py ctl requests
-- the window is in UTC whatever the TimeZone
SET TimeZone = 'Asia/Shanghai';
\! python3 test/bls_emulator.py ctl log-clear
SELECT count(*) FROM log_records WHERE log_store_name = 'nginx-access'
  AND time >= '2024-05-01 08:00:00' AND time < '2024-05-01 08:00:02';
\! python3 test/bls_emulator.py ctl requests
RESET TimeZone;
-- from before the store existed: its first second; a NULL bound: no rows
SELECT count(*) FROM log_records WHERE log_store_name = 'nginx-access'
  AND time >= '2023-03-14 02:09:58+00' AND time < '2023-03-14 02:10:01+00';
SELECT count(*) FROM log_records WHERE log_store_name = 'nginx-access'
  AND time >= NULL::timestamptz;

-- no upper bound: up to the statement's start; stable bounds work
SELECT count(*) BETWEEN 8 * 60 - 1 AND 8 * 60 + 8 AS about_a_minute
FROM log_records WHERE project = 'prod-web' AND log_store_name = 'nginx-access'
  AND time >= now() - interval '1 minute';

-- ORDER BY time is the request's sort: no Sort node; LIMIT is its limit
EXPLAIN (VERBOSE, COSTS OFF)
SELECT time, seq FROM log_records
WHERE log_store_name = 'nginx-access'
  AND time >= '2024-05-01 00:00:00+00' AND time < '2024-05-01 01:00:00+00'
ORDER BY time LIMIT 5;
\! python3 test/bls_emulator.py ctl log-clear
SELECT time, seq FROM log_records
WHERE log_store_name = 'nginx-access'
  AND time >= '2024-05-01 00:00:00+00' AND time < '2024-05-01 01:00:00+00'
ORDER BY time LIMIT 5;
SELECT time, seq FROM log_records
WHERE log_store_name = 'nginx-access'
  AND time >= '2024-05-01 00:00:00+00' AND time < '2024-05-01 01:00:00+00'
ORDER BY time DESC LIMIT 3;
\! python3 test/bls_emulator.py ctl requests
-- a LIMIT over 1000: pages of 1000 by marker until the limit
\! python3 test/bls_emulator.py ctl log-clear
SELECT count(*), count(DISTINCT seq), max(seq) - min(seq) + 1 AS span
FROM (SELECT seq FROM log_records
      WHERE log_store_name = 'nginx-access'
        AND time >= '2024-05-01 00:00:00+00' AND time < '2024-05-01 01:00:00+00'
      ORDER BY time DESC LIMIT 2500) s;
\! python3 test/bls_emulator.py ctl requests | LC_ALL=C sort
-- the window's rounded-out records do not count towards the LIMIT
SELECT min(time), count(*) FROM (
  SELECT time FROM log_records
  WHERE log_store_name = 'nginx-access'
    AND time > '2024-05-01 00:00:00.5+00' AND time < '2024-05-01 01:00:00+00'
  ORDER BY time LIMIT 6) s;
-- a whole window by marker: every record once
\! python3 test/bls_emulator.py ctl log-clear
SELECT count(*), count(DISTINCT seq), max(seq) - min(seq) + 1 AS span
FROM log_records
WHERE log_store_name = 'nginx-access'
  AND time >= '2024-05-01 00:00:00+00' AND time < '2024-05-01 00:15:00+00';
\! python3 test/bls_emulator.py ctl calls QueryLogRecord | wc -l

-- EXPLAIN ANALYZE counts the marker pages: 4 for 3600 records
\set ECHO none
\i sql/include/explain_analyze.sql
\set ECHO all
SELECT explain_analyze($$EXPLAIN (ANALYZE, COSTS OFF, TIMING OFF, SUMMARY OFF, BUFFERS OFF)
SELECT count(*) FROM log_records WHERE log_store_name = 'nginx-access'
  AND time >= '2024-05-01 00:00:00+00' AND time < '2024-05-01 00:15:00+00'$$) AS "QUERY PLAN";
-- a generic plan: the log store is known at run time only, the window too
-- when it depends on a parameter that EXPLAIN cannot see
PREPARE g(text, timestamptz) AS
  SELECT count(*) FROM log_records WHERE log_store_name = $1
    AND time >= $2 AND time < $2 + interval '10 seconds';
SET plan_cache_mode = force_generic_plan;
EXPLAIN (VERBOSE, COSTS OFF) EXECUTE g('nginx-access', '2024-05-01 00:00:00+00');
EXECUTE g('nginx-access', '2024-05-01 00:00:00+00');
EXECUTE g('payment-svc', '2024-05-01 00:00:00+00');
RESET plan_cache_mode;
DEALLOCATE g;
-- a time bound from a join's outer side, with the log store: per outer row
CREATE TABLE incidents (store text, at timestamptz);
INSERT INTO incidents VALUES ('nginx-access', '2024-05-01 00:00:00+00'),
                             ('nginx-error', '2024-05-01 00:00:30+00');
\! python3 test/bls_emulator.py ctl log-clear
SELECT i.store, count(r.seq) FROM incidents i
JOIN log_records r ON r.log_store_name = i.store
  AND r.time >= i.at AND r.time < i.at + interval '5 seconds'
GROUP BY 1 ORDER BY 1;
\! python3 test/bls_emulator.py ctl requests
DROP TABLE incidents;

-- the search statement, the project and the stream are sent
EXPLAIN (VERBOSE, COSTS OFF)
SELECT count(*) FROM log_records
WHERE project = 'prod-web' AND log_store_name = 'nginx-access'
  AND log_stream_name = 'nginx-02' AND query = 'status:500 AND method:POST'
  AND time >= '2024-05-01 00:00:00+00' AND time < '2024-05-01 00:10:00+00';
\! python3 test/bls_emulator.py ctl log-clear
SELECT count(*), bool_and(fields->>'status' = '500') AS s500,
       bool_and(fields->>'method' = 'POST') AS post,
       bool_and(log_stream_name = 'nginx-02') AS stream,
       bool_and(project = 'prod-web') AS project
FROM log_records
WHERE project = 'prod-web' AND log_store_name = 'nginx-access'
  AND log_stream_name = 'nginx-02' AND query = 'status:500 AND method:POST'
  AND time >= '2024-05-01 00:00:00+00' AND time < '2024-05-01 00:10:00+00';
\! python3 test/bls_emulator.py ctl requests
-- the same records as the local check of every record in the window
SELECT (SELECT count(*) FROM log_records
        WHERE project = 'prod-web' AND log_store_name = 'nginx-access'
          AND query = 'match status:500'
          AND time >= '2024-05-01 00:00:00+00' AND time < '2024-05-01 00:10:00+00') AS searched,
       (SELECT count(*) FROM log_records
        WHERE project = 'prod-web' AND log_store_name = 'nginx-access'
          AND time >= '2024-05-01 00:00:00+00' AND time < '2024-05-01 00:10:00+00'
          AND (fields->>'status')::int = 500) AS checked_here;
-- conditions on message and fields are checked locally
SELECT count(*) AS posts_by_message,
       count(*) FILTER (WHERE fields->>'method' = 'POST') AS posts_by_field
FROM log_records
WHERE log_store_name = 'nginx-access' AND message LIKE '%"method":"POST"%'
  AND time >= '2024-05-01 00:00:00+00' AND time < '2024-05-01 00:01:00+00';
-- a keyword; text and JSON records with non-ASCII names and values
SELECT count(*), bool_and(message ILIKE '%error%') AS all_match
FROM log_records WHERE log_store_name = 'payment-svc' AND query = 'error'
  AND time >= '2024-05-01 00:00:00+00' AND time < '2024-05-01 00:10:00+00';
SELECT time, log_stream_name, message FROM log_records
WHERE project = '数据平台' AND log_store_name = '审计日志'
  AND time >= '2024-05-01 00:00:00+00' AND time < '2024-05-01 00:00:03+00'
ORDER BY time;
SELECT fields->>'用户' AS "用户", count(*) FROM log_records
WHERE log_store_name = 'app-log'
  AND time >= '2024-05-01 00:00:00+00' AND time < '2024-05-01 00:05:00+00'
GROUP BY 1 ORDER BY 1;

-- an analysis statement does not fit the table
SELECT count(*) FROM log_records
WHERE log_store_name = 'nginx-access' AND query = 'match * | select count(*)'
  AND time >= '2024-05-01 00:00:00+00' AND time < '2024-05-01 00:00:10+00';
\echo :LAST_ERROR_SQLSTATE
-- an unknown log store is the service's 404
SELECT count(*) FROM log_records WHERE log_store_name = 'no-such-store'
  AND time >= '2024-05-01 00:00:00+00' AND time < '2024-05-01 00:00:10+00';
\echo :LAST_ERROR_SQLSTATE

-- log_store_name from a parameter, an IN list, and a join
PREPARE q(text) AS
  SELECT count(*) FROM log_records WHERE log_store_name = $1
    AND time >= '2024-05-01 00:00:00+00' AND time < '2024-05-01 00:00:10+00';
EXECUTE q('nginx-access');
EXECUTE q('payment-svc');
DEALLOCATE q;
SELECT log_store_name, count(*) FROM log_records
WHERE log_store_name IN ('nginx-error', 'app-log')
  AND time >= '2024-05-01 00:00:00+00' AND time < '2024-05-01 00:00:10+00'
GROUP BY 1 ORDER BY 1;
CREATE TABLE watched (store text, team text);
INSERT INTO watched VALUES ('nginx-access', 'web'), ('payment-svc', 'pay'), ('k8s-events', 'ops');
\! python3 test/bls_emulator.py ctl log-clear
SELECT w.team, count(r.seq) FROM watched w
LEFT JOIN log_records r ON r.log_store_name = w.store
  AND r.time >= '2024-05-01 00:00:00+00' AND r.time < '2024-05-01 00:00:10+00'
GROUP BY 1 ORDER BY 1;
\! python3 test/bls_emulator.py ctl requests

-- the README's example: failed requests' order ids joined with local orders
CREATE TABLE orders (order_id text PRIMARY KEY, customer text);
INSERT INTO orders
SELECT fields->>'order_id', 'customer-' || (seq % 7)
FROM log_records
WHERE project = 'prod-web' AND log_store_name = 'nginx-access'
  AND time >= '2024-05-01 00:00:00+00' AND time < '2024-05-01 00:01:00+00'
  AND seq % 3 = 0
ON CONFLICT DO NOTHING;
SELECT o.customer, count(*) AS failed
FROM log_records r JOIN orders o ON o.order_id = r.fields->>'order_id'
WHERE r.project = 'prod-web' AND r.log_store_name = 'nginx-access'
  AND (r.fields->>'status')::int >= 500
  AND r.time >= '2024-05-01 00:00:00+00' AND r.time < '2024-05-01 00:01:00+00'
GROUP BY 1 ORDER BY 1;

-- a cursor pages lazily; a re-scan repeats the answer
BEGIN;
DECLARE c SCROLL CURSOR FOR
  SELECT seq FROM log_records WHERE log_store_name = 'nginx-access'
    AND time >= '2024-05-01 00:00:00+00' AND time < '2024-05-01 00:10:00+00'
  ORDER BY time;
FETCH 2 FROM c;
MOVE FORWARD 1500 IN c;
FETCH 1 FROM c;
FETCH BACKWARD 1 FROM c;
FETCH ABSOLUTE 1 FROM c;
COMMIT;

-- 512 KB records convert whole
\! python3 test/bls_emulator.py ctl config '{"logrecord_big_bytes": 524288}'
SELECT seq, octet_length(message) AS message_bytes,
       octet_length(fields->>'@raw') AS field_bytes, fields->>'status' AS status
FROM log_records WHERE log_store_name = 'nginx-access'
  AND time >= '2024-05-01 00:00:59+00' AND time < '2024-05-01 00:01:01+00'
ORDER BY time;
\! python3 test/bls_emulator.py ctl reset

-- bls_log_query(): analysis statements, typed by columnTypes
SELECT * FROM bls_log_query('emu', 'nginx-access', 'match * | select count(*)',
                            '2024-05-01 00:00:00+00', '2024-05-01 00:00:10+00');
SELECT r->>'host' AS host, (r->'count(*)')::bigint AS n, jsonb_typeof(r->'count(*)') AS type
FROM bls_log_query('emu', 'nginx-access', 'match status:500 | select host, count(*) group by host',
                   '2024-05-01 00:00:00+00', '2024-05-01 01:00:00+00', 'prod-web') r
ORDER BY 1;
-- the same counts as the table gives
SELECT fields->>'host' AS host, count(*) AS n FROM log_records
WHERE project = 'prod-web' AND log_store_name = 'nginx-access' AND query = 'status:500'
  AND time >= '2024-05-01 00:00:00+00' AND time < '2024-05-01 01:00:00+00'
GROUP BY 1 ORDER BY 1;
-- a search statement: every record, across pages
SELECT count(*), count(DISTINCT r->'@seq'), min((r->>'@timestamp')::bigint) AS first_ms
FROM bls_log_query('emu', 'nginx-access', 'match *',
                   '2024-05-01 00:00:00+00', '2024-05-01 00:10:00+00') r;
SELECT r FROM bls_log_query('emu', 'app-log', 'match level:ERROR',
                            '2024-05-01 00:00:00+00', '2024-05-01 00:00:05+00') r LIMIT 2;
-- the window rounds outward to whole seconds; no end is the statement's start
SELECT * FROM bls_log_query('emu', 'nginx-access', 'select count(*)',
                            '2024-05-01 00:00:00.5+00', '2024-05-01 00:00:01.5+00');
SELECT (r->'count(*)')::bigint BETWEEN 120 AND 128 AS about_a_minute
FROM bls_log_query('emu', 'nginx-error', 'select count(*)', now() - interval '1 minute', NULL) r;
SELECT * FROM bls_log_query('emu', 'nginx-access', 'select count(*)', NULL, NULL);
\echo :LAST_ERROR_SQLSTATE
SELECT * FROM bls_log_query('no_server', 'nginx-access', 'select count(*)', now(), NULL);
\echo :LAST_ERROR_SQLSTATE
SELECT * FROM bls_log_query('emu', 'nginx-access', 'select nonsense',
                            '2024-05-01 00:00:00+00', '2024-05-01 00:00:10+00');
\echo :LAST_ERROR_SQLSTATE

-- a truncated result is an error, or with on_truncation 'notice' a NOTICE
\! python3 test/bls_emulator.py ctl config '{"logrecord_max_analysis_rows": 2}'
SELECT count(*) FROM bls_log_query('emu', 'nginx-access', 'select host, count(*) group by host',
                                   '2024-05-01 00:00:00+00', '2024-05-01 00:10:00+00');
\echo :LAST_ERROR_SQLSTATE
ALTER SERVER emu OPTIONS (ADD on_truncation 'notice');
SELECT count(*) FROM bls_log_query('emu', 'nginx-access', 'select host, count(*) group by host',
                                   '2024-05-01 00:00:00+00', '2024-05-01 00:10:00+00');
ALTER SERVER emu OPTIONS (DROP on_truncation);
\! python3 test/bls_emulator.py ctl config '{"logrecord_truncated": "ScanLimitExceeded"}'
SELECT count(*) FROM log_records WHERE log_store_name = 'nginx-access'
  AND time >= '2024-05-01 00:00:00+00' AND time < '2024-05-01 00:10:00+00';
\echo :LAST_ERROR_SQLSTATE
ALTER FOREIGN TABLE log_records OPTIONS (ADD on_truncation 'notice');
SELECT count(*) FROM log_records WHERE log_store_name = 'nginx-access'
  AND time >= '2024-05-01 00:00:00+00' AND time < '2024-05-01 00:10:00+00';
ALTER FOREIGN TABLE log_records OPTIONS (DROP on_truncation);
ALTER FOREIGN TABLE log_records OPTIONS (ADD on_truncation 'warn');
\! python3 test/bls_emulator.py ctl reset

-- page size: at most 1000 per request (the default), or the option's
ALTER FOREIGN TABLE log_records OPTIONS (ADD page_size '300');
\! python3 test/bls_emulator.py ctl log-clear
SELECT count(*) FROM log_records WHERE log_store_name = 'nginx-access'
  AND time >= '2024-05-01 00:00:00+00' AND time < '2024-05-01 00:03:00+00';
\! python3 test/bls_emulator.py ctl calls QueryLogRecord | wc -l
ALTER FOREIGN TABLE log_records OPTIONS (SET page_size '5000');
\! python3 test/bls_emulator.py ctl log-clear
SELECT count(*) FROM log_records WHERE log_store_name = 'nginx-access'
  AND time >= '2024-05-01 00:00:00+00' AND time < '2024-05-01 00:10:00+00';
\! python3 test/bls_emulator.py ctl calls QueryLogRecord | wc -l
ALTER FOREIGN TABLE log_records OPTIONS (DROP page_size);

-- read-only; ANALYZE skips it (a window's sample says nothing of the next)
INSERT INTO log_records (log_store_name) VALUES ('x');
\echo :LAST_ERROR_SQLSTATE
DELETE FROM log_records WHERE log_store_name = 'nginx-access'
  AND time >= '2024-05-01 00:00:00+00';
\echo :LAST_ERROR_SQLSTATE
ANALYZE log_records;

--
-- faults: a clear error with the right SQLSTATE, never a wrong answer
--
CREATE VIEW ten_seconds AS
  SELECT count(*) AS n, count(log_stream_name) AS streams, count(time) AS times,
         count(fields) AS fields
  FROM log_records WHERE log_store_name = 'nginx-access'
    AND time >= '2024-05-01 00:00:00+00' AND time < '2024-05-01 00:00:10+00';
\! python3 test/bls_emulator.py ctl fault '{"type": "http", "status": 503, "call": "QueryLogRecord"}'
TABLE ten_seconds;
\! python3 test/bls_emulator.py ctl fault '{"type": "http", "status": 429, "retry_after": "0", "call": "QueryLogRecord"}'
TABLE ten_seconds;
\! python3 test/bls_emulator.py ctl fault '{"type": "http", "status": 403, "code": "AccessDenied", "call": "QueryLogRecord"}'
TABLE ten_seconds;
\echo :LAST_ERROR_SQLSTATE
\! python3 test/bls_emulator.py ctl fault '{"type": "http", "status": 400, "code": "InvalidParameter", "call": "QueryLogRecord"}'
TABLE ten_seconds;
\echo :LAST_ERROR_SQLSTATE
\! python3 test/bls_emulator.py ctl fault '{"type": "malformed", "call": "QueryLogRecord"}'
TABLE ten_seconds;
\echo :LAST_ERROR_SQLSTATE
\! python3 test/bls_emulator.py ctl fault '{"type": "truncated", "call": "QueryLogRecord"}'
TABLE ten_seconds;
\echo :LAST_ERROR_SQLSTATE
\! python3 test/bls_emulator.py ctl fault '{"type": "not_object", "call": "QueryLogRecord"}'
TABLE ten_seconds;
\echo :LAST_ERROR_SQLSTATE
\! python3 test/bls_emulator.py ctl fault '{"type": "missing_result", "call": "QueryLogRecord"}'
TABLE ten_seconds;
\echo :LAST_ERROR_SQLSTATE
\! python3 test/bls_emulator.py ctl fault '{"type": "missing_tasks", "call": "QueryLogRecord"}'
TABLE ten_seconds;
\echo :LAST_ERROR_SQLSTATE
\! python3 test/bls_emulator.py ctl fault '{"type": "tasks_not_array", "call": "QueryLogRecord"}'
TABLE ten_seconds;
\echo :LAST_ERROR_SQLSTATE
\! python3 test/bls_emulator.py ctl fault '{"type": "task_not_object", "call": "QueryLogRecord"}'
TABLE ten_seconds;
\echo :LAST_ERROR_SQLSTATE
\! python3 test/bls_emulator.py ctl fault '{"type": "wrong_type", "call": "QueryLogRecord"}'
TABLE ten_seconds;
\echo :LAST_ERROR_SQLSTATE
\! python3 test/bls_emulator.py ctl fault '{"type": "wrong_type", "field": "nextMarker", "value": 7, "call": "QueryLogRecord"}'
SELECT count(*) FROM log_records WHERE log_store_name = 'nginx-access'
  AND time >= '2024-05-01 00:00:00+00' AND time < '2024-05-01 00:10:00+00';
\echo :LAST_ERROR_SQLSTATE
-- a service that names the page it served as the next one: an error, not a
-- loop (in one marker chain: logrecords_slices has it in a time slice)
ALTER FOREIGN TABLE log_records OPTIONS (ADD slices '1');
\! python3 test/bls_emulator.py ctl reset
\! python3 test/bls_emulator.py ctl fault '{"type": "repeat_marker", "count": -1, "call": "QueryLogRecord"}'
SELECT count(*) FROM log_records WHERE log_store_name = 'nginx-access'
  AND time >= '2024-05-01 00:00:00+00' AND time < '2024-05-01 00:15:00+00';
\echo :LAST_ERROR_SQLSTATE
\! python3 test/bls_emulator.py ctl calls QueryLogRecord | wc -l
ALTER FOREIGN TABLE log_records OPTIONS (DROP slices);
\! python3 test/bls_emulator.py ctl reset
\! python3 test/bls_emulator.py ctl fault '{"type": "invalid_utf8", "call": "QueryLogRecord"}'
TABLE ten_seconds;
\echo :LAST_ERROR_SQLSTATE
-- missing and extra columns are tolerated: a missing @stream reads as the
-- stream asked for (or NULL), a missing @timestamp fails the window check
\! python3 test/bls_emulator.py ctl fault '{"type": "missing_fields", "fields": ["@stream"], "call": "QueryLogRecord"}'
TABLE ten_seconds;
\! python3 test/bls_emulator.py ctl fault '{"type": "missing_fields", "fields": ["@stream"], "call": "QueryLogRecord"}'
SELECT count(*), bool_and(log_stream_name = 'nginx-01') FROM log_records
WHERE log_store_name = 'nginx-access' AND log_stream_name = 'nginx-01'
  AND time >= '2024-05-01 00:00:00+00' AND time < '2024-05-01 00:00:10+00';
\! python3 test/bls_emulator.py ctl fault '{"type": "extra_fields", "call": "QueryLogRecord"}'
TABLE ten_seconds;
\! python3 test/bls_emulator.py ctl fault '{"type": "null_fields", "fields": ["@raw"], "call": "QueryLogRecord"}'
SELECT count(*), count(message) FROM log_records WHERE log_store_name = 'nginx-access'
  AND time >= '2024-05-01 00:00:00+00' AND time < '2024-05-01 00:00:10+00';
-- max_response_bytes applies
ALTER SERVER emu OPTIONS (ADD max_response_bytes '100000');
\! python3 test/bls_emulator.py ctl fault '{"type": "oversize", "bytes": 200000, "call": "QueryLogRecord"}'
TABLE ten_seconds;
\echo :LAST_ERROR_SQLSTATE
ALTER SERVER emu OPTIONS (DROP max_response_bytes);
-- a timeout, and a cancel while waiting
ALTER SERVER emu OPTIONS (ADD request_timeout_ms '500', ADD max_retries '0');
\! python3 test/bls_emulator.py ctl fault '{"type": "delay_headers", "ms": 3000, "call": "QueryLogRecord"}'
TABLE ten_seconds;
\echo :LAST_ERROR_SQLSTATE
ALTER SERVER emu OPTIONS (DROP request_timeout_ms, DROP max_retries);
\! python3 test/bls_emulator.py ctl fault '{"type": "delay_headers", "ms": 20000, "call": "QueryLogRecord"}'
SET statement_timeout = '500ms';
TABLE ten_seconds;
\echo :LAST_ERROR_SQLSTATE
RESET statement_timeout;
\! python3 test/bls_emulator.py ctl reset
TABLE ten_seconds;
SELECT errors > 0 AS errors_counted FROM bls_fdw_stats() WHERE server_name = 'emu';

DROP VIEW ten_seconds;
DROP TABLE watched, orders;
DROP FUNCTION expected(timestamptz, timestamptz, bool, bool, int);
DROP SERVER emu CASCADE;
