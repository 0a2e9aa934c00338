--
-- Read-ahead: once the first page tells the total, the next pages are
-- requested side by side, rows still come in page order, and nothing is
-- read beyond what the query can use
--
\getenv emulator_url BLS_EMULATOR_URL
\set VERBOSITY default
\! python3 test/bls_emulator.py ctl reset

CREATE SERVER emu FOREIGN DATA WRAPPER bls_fdw
  OPTIONS (endpoint :'emulator_url', readahead '4', max_retries '2');
CREATE USER MAPPING FOR CURRENT_USER SERVER emu
  OPTIONS (access_key_id 'emulator-ak', secret_access_key 'emulator-sk');
IMPORT FOREIGN SCHEMA bls FROM SERVER emu INTO public;

CREATE TEMP TABLE expected_tasks (n serial, t jsonb);
\! python3 test/bls_emulator.py ctl tasks > /tmp/bls_fdw_readahead_tasks.jsonl
\copy expected_tasks (t) FROM '/tmp/bls_fdw_readahead_tasks.jsonl' WITH (FORMAT csv, QUOTE e'\x01', DELIMITER e'\x02')
\! rm -f /tmp/bls_fdw_readahead_tasks.jsonl

-- a full scan: every page once (in whatever order they arrived), every
-- task once, in the service's order
\! python3 test/bls_emulator.py ctl log-clear
SELECT array_agg(uuid ORDER BY n) = (SELECT array_agg(t->>'uuid' ORDER BY n) FROM expected_tasks) AS same_order
FROM (SELECT uuid, row_number() OVER () AS n FROM download_tasks) s;
\! python3 test/bls_emulator.py ctl log | sort
-- at most one connection per request in flight, kept for the next query
SELECT count(*) FROM download_tasks;
\! python3 test/bls_emulator.py ctl connections | awk '{ print ($1 >= 1 && $1 <= 5) ? "1 to 5 connections" : $1 " connections" }'

-- a pushed LIMIT reads ahead only the pages it needs
\! python3 test/bls_emulator.py ctl log-clear
SELECT count(*) FROM (SELECT * FROM download_tasks LIMIT 250) s;
\! python3 test/bls_emulator.py ctl log | sort
-- a LIMIT over a local filter, or a time bound, may need a single page:
-- nothing is read ahead
\! python3 test/bls_emulator.py ctl log-clear
SELECT count(*) FROM (SELECT * FROM download_tasks WHERE state = 'FAILED' LIMIT 3) s;
SELECT count(*) FROM download_tasks WHERE created_time >= '2024-11-05 07:00:00+00';
\! python3 test/bls_emulator.py ctl log

-- a page read ahead that fails is retried, and its error surfaces in turn
\! python3 test/bls_emulator.py ctl fault '{"type": "http", "status": 503, "page": 3}'
\! python3 test/bls_emulator.py ctl log-clear
SELECT count(*), count(DISTINCT uuid) FROM download_tasks;
\! python3 test/bls_emulator.py ctl count
\! python3 test/bls_emulator.py ctl reset
-- (request ids depend on the order in which pages arrived: terse errors)
\set VERBOSITY terse
\! python3 test/bls_emulator.py ctl fault '{"type": "http", "status": 500, "page": 4, "count": -1}'
SELECT count(*) FROM download_tasks;
\echo :LAST_ERROR_SQLSTATE
\! python3 test/bls_emulator.py ctl reset
\! python3 test/bls_emulator.py ctl fault '{"type": "malformed", "page": 2}'
SELECT count(*) FROM download_tasks;
\set VERBOSITY default
\! python3 test/bls_emulator.py ctl reset
SELECT count(*) AS still_usable FROM download_tasks;

-- an error inside a subtransaction (a plpgsql EXCEPTION block) stops the
-- requests its scan had in flight, so many such errors leave none behind
\! python3 test/bls_emulator.py ctl fault '{"type": "malformed", "page": 3, "count": -1}'
DO $$
DECLARE
  failed int := 0;
BEGIN
  FOR i IN 1..40 LOOP
    BEGIN
      PERFORM count(*) FROM download_tasks;
    EXCEPTION WHEN fdw_invalid_string_format THEN
      failed := failed + 1;
    END;
  END LOOP;
  RAISE NOTICE '% of 40 scans failed on the malformed page', failed;
END $$;
\! python3 test/bls_emulator.py ctl reset
SELECT count(*) AS still_usable FROM download_tasks;

-- tasks inserted at the head while pages are read ahead: the list moved
-- under the pages in flight, so they are dropped and asked again; no task
-- is returned twice and none of the tasks there before is missed
\! python3 test/bls_emulator.py ctl fault '{"type": "insert_head", "n": 7, "page": 3}'
SELECT count(*) AS rows, count(DISTINCT uuid) AS distinct_rows,
       count(*) FILTER (WHERE uuid IN (SELECT t->>'uuid' FROM expected_tasks)) AS old_tasks
FROM download_tasks;
\! python3 test/bls_emulator.py ctl reset

-- a cancel while pages are in flight
\! python3 test/bls_emulator.py ctl fault '{"type": "delay_headers", "ms": 30000, "page": 3}'
SELECT clock_timestamp() AS t0 \gset
SET statement_timeout = '500ms';
SELECT count(*) FROM download_tasks;
\echo :LAST_ERROR_SQLSTATE
RESET statement_timeout;
SELECT clock_timestamp() - :'t0' < interval '5 seconds' AS cancelled_promptly;
\! python3 test/bls_emulator.py ctl reset
SELECT count(*) AS still_usable FROM download_tasks;

-- pages may come gzipped: the request accepts gzip and the pages are
-- inflated before parsing
\! python3 test/bls_emulator.py ctl config '{"gzip": true}'
SELECT array_agg(uuid ORDER BY n) = (SELECT array_agg(t->>'uuid' ORDER BY n) FROM expected_tasks) AS same_order
FROM (SELECT uuid, row_number() OVER () AS n FROM download_tasks) s;
\! python3 test/bls_emulator.py ctl gzipped
\! python3 test/bls_emulator.py ctl reset

-- EXPLAIN ANALYZE counts the requests
\set ECHO none
\i sql/include/explain_analyze.sql
\set ECHO all
SELECT explain_analyze('EXPLAIN (ANALYZE, COSTS OFF, TIMING OFF, SUMMARY OFF, BUFFERS OFF) SELECT count(*) FROM download_tasks') AS "QUERY PLAN";

DROP SERVER emu CASCADE;
