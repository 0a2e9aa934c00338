--
-- Distrust every number the service sends back: an echoed pageSize, a
-- marker, a missing time, an item two request sequences both list, a
-- default project named only beside the list.  Each wrong one is an error
-- or is set right, never a short, duplicated or empty answer.  And what a
-- scan stopped early or re-scanned leaves behind: no connection closed, no
-- memory kept.
--
\set VERBOSITY terse
-- the counts below count the records a scan reads; the counts BLS computes
-- itself (aggregate pushdown) are logrecords_agg's
SET bls_fdw.aggregate_pushdown = off;
\! python3 test/bls_emulator.py ctl reset

\set ECHO none
\i sql/include/emu_server.sql
\set ECHO all
SET statement_timeout = '60s';

--
-- A pageSize echoed larger than asked for is not believed: the page of
-- 100 is not "short", every page is read (1000 tasks, 10 requests)
--
\! python3 test/bls_emulator.py ctl fault '{"type": "page_size", "value": 1000, "count": -1}'
\! python3 test/bls_emulator.py ctl log-clear
SELECT count(*), count(DISTINCT uuid) FROM download_tasks;
\! python3 test/bls_emulator.py ctl count
\! python3 test/bls_emulator.py ctl reset
-- the same for the catalog: 27 log stores in pages of 3, pageSize said 10
CREATE FOREIGN TABLE stores3 (project text, log_store_name text)
  SERVER emu OPTIONS (resource 'log_stores', page_size '3');
\! python3 test/bls_emulator.py ctl fault '{"type": "page_size", "value": 10, "count": -1, "call": "ListLogStore"}'
SELECT count(*), count(DISTINCT (project, log_store_name)) FROM stores3;
\! python3 test/bls_emulator.py ctl reset
-- a pageSize echoed smaller is believed (a service that serves fewer): 27
\! python3 test/bls_emulator.py ctl fault '{"type": "page_size", "value": 2, "count": -1, "call": "ListLogStore"}'
SELECT count(*) FROM stores3;
\! python3 test/bls_emulator.py ctl reset

--
-- An item that two request sequences of one scan both list is returned
-- once: a service whose project filter is a substring lists prod-web's
-- stores for 'prod' and for 'prod-web' (5 stores, not 10)
--
\! python3 test/bls_emulator.py ctl config '{"logstore_project_match": "substring"}'
SELECT project, count(*), count(DISTINCT log_store_name)
FROM log_stores WHERE project IN ('prod', 'prod-web') GROUP BY 1;
SELECT count(*), count(DISTINCT (project, log_store_name))
FROM log_stores WHERE project IN ('staging', 'stag', 'prod-web', 'web');
-- in pages of 3, whose ends fall elsewhere in each sequence
SELECT count(*), count(DISTINCT (project, log_store_name))
FROM stores3 WHERE project IN ('a', 'an', 'analytics', 'default');
\! python3 test/bls_emulator.py ctl reset

--
-- The default project, whether ListProject lists it or gives it only
-- beside the list ("default"): once, where the order puts it, and checked
-- against local conditions like any row.  The reference is the answer of a
-- service that lists it.
--
CREATE TEMP TABLE local_projects AS SELECT * FROM projects;
SELECT count(*), count(*) FILTER (WHERE is_default) AS defaults FROM local_projects;
CREATE FOREIGN TABLE projects2 (uuid text, name text, description text,
  created_time timestamptz, updated_time timestamptz, is_default boolean)
  SERVER emu OPTIONS (resource 'projects', page_size '2');
CREATE FUNCTION project_checks() RETURNS TABLE (check_name text, ok boolean)
LANGUAGE sql AS $$
  SELECT 'unordered', (SELECT array_agg(name ORDER BY name) FROM projects)
    = (SELECT array_agg(name ORDER BY name) FROM local_projects)
  UNION ALL
  SELECT 'created asc', (SELECT array_agg(name) FROM (SELECT name FROM projects2 ORDER BY created_time, name) s)
    = (SELECT array_agg(name ORDER BY created_time, name) FROM local_projects)
  UNION ALL
  SELECT 'created desc', (SELECT array_agg(name) FROM (SELECT name FROM projects2 ORDER BY created_time DESC, name DESC) s)
    = (SELECT array_agg(name ORDER BY created_time DESC, name DESC) FROM local_projects)
  UNION ALL
  SELECT 'updated desc', (SELECT array_agg(name) FROM (SELECT name FROM projects2 ORDER BY updated_time DESC, name DESC) s)
    = (SELECT array_agg(name ORDER BY updated_time DESC, name DESC) FROM local_projects)
  UNION ALL
  SELECT 'name', (SELECT array_agg(name) FROM (SELECT name FROM projects2 ORDER BY name COLLATE "C") s)
    = (SELECT array_agg(name ORDER BY name COLLATE "C") FROM local_projects)
  UNION ALL
  SELECT 'default once', (SELECT count(*) FILTER (WHERE is_default) = 1
                            AND count(*) = count(DISTINCT uuid) FROM projects2)
  UNION ALL
  SELECT 'local condition', (SELECT array_agg(name ORDER BY name) FROM projects WHERE description = '')
    = (SELECT array_agg(name ORDER BY name) FROM local_projects WHERE description = '')
  UNION ALL
  SELECT 'filtered out', (SELECT count(*) FROM projects WHERE name LIKE '%prod%')
    = (SELECT count(*) FROM local_projects WHERE name LIKE '%prod%')
  UNION ALL
  SELECT 'filtered in', (SELECT array_agg(name) FROM projects WHERE name LIKE 'def%')
    = (SELECT array_agg(name) FROM local_projects WHERE name LIKE 'def%')
$$;
-- listed: all t
SELECT * FROM project_checks();
-- only beside the list: all t
\! python3 test/bls_emulator.py ctl config '{"project_default_listed": false}'
SELECT * FROM project_checks();
SELECT name, is_default FROM projects2 ORDER BY created_time LIMIT 2;
\! python3 test/bls_emulator.py ctl reset

--
-- log_records: a record without a usable time is an error naming the
-- column, not a row dropped by the window's recheck.  Ten seconds of
-- default/nginx-access hold 40 records.
--
CREATE TEMP VIEW ten_records AS SELECT * FROM log_records
WHERE log_store_name = 'nginx-access'
  AND time >= '2024-05-01 00:00:00+00' AND time < '2024-05-01 00:00:10+00';
\set VERBOSITY default
\! python3 test/bls_emulator.py ctl fault '{"type": "null_fields", "fields": "@timestamp", "index": 3, "call": "QueryLogRecord"}'
SELECT count(*) FROM ten_records;
\! python3 test/bls_emulator.py ctl fault '{"type": "missing_fields", "fields": "@timestamp", "call": "QueryLogRecord"}'
SELECT count(*) FROM ten_records;
\! python3 test/bls_emulator.py ctl fault '{"type": "wrong_type", "field": "@timestamp", "value": "", "call": "QueryLogRecord"}'
SELECT count(*) FROM ten_records;
\echo :LAST_ERROR_SQLSTATE
\set VERBOSITY terse
\! python3 test/bls_emulator.py ctl reset

-- @timestamp as a number in a string, or with a fraction, converts;
-- out of range is an error naming the column
CREATE FOREIGN TABLE records10 (log_store_name text, time timestamptz, seq bigint)
  SERVER emu OPTIONS (resource 'log_records', page_size '10');
CREATE TEMP VIEW ten_records10 AS SELECT * FROM records10
WHERE log_store_name = 'nginx-access'
  AND time >= '2024-05-01 00:00:00+00' AND time < '2024-05-01 00:00:10+00';
\! python3 test/bls_emulator.py ctl fault '{"type": "wrong_type", "field": "@timestamp", "value": "1714521600001", "count": -1, "call": "QueryLogRecord"}'
SELECT count(*), min(time), max(time) FROM ten_records10;
\! python3 test/bls_emulator.py ctl reset
\! python3 test/bls_emulator.py ctl fault '{"type": "wrong_type", "field": "@timestamp", "value": 1714521600001.5, "count": -1, "call": "QueryLogRecord"}'
SELECT count(*), min(time), max(time) FROM ten_records10;
\! python3 test/bls_emulator.py ctl reset
\! python3 test/bls_emulator.py ctl fault '{"type": "wrong_type", "field": "@timestamp", "value": "1.7145216e12", "count": -1, "call": "QueryLogRecord"}'
SELECT count(*), min(time), max(time) FROM ten_records10;
\! python3 test/bls_emulator.py ctl reset
\! python3 test/bls_emulator.py ctl fault '{"type": "wrong_type", "field": "@timestamp", "value": 1e300, "count": -1, "call": "QueryLogRecord"}'
SELECT count(*) FROM ten_records10;
\! python3 test/bls_emulator.py ctl reset
\! python3 test/bls_emulator.py ctl fault '{"type": "wrong_type", "field": "@timestamp", "value": "-99999999999999999999", "count": -1, "call": "QueryLogRecord"}'
SELECT count(*) FROM ten_records10;
\! python3 test/bls_emulator.py ctl reset

-- marker pages are not de-duplicated: records whose @seq is one string
-- are all returned (40), in pages of 10
\! python3 test/bls_emulator.py ctl fault '{"type": "wrong_type", "field": "@seq", "value": "7", "count": -1, "call": "QueryLogRecord"}'
SELECT count(*), count(DISTINCT time), min(seq), max(seq) FROM ten_records10;
\! python3 test/bls_emulator.py ctl reset

--
-- Markers that lead back to a page already read (A -> B -> A ...) are an
-- error at the first repeat, not a loop until the page cap; so are two
-- empty pages in a row that name a next page.  One empty page is not.
--
-- (a loop would be cancelled: 57014).  In one marker chain (slices '1'):
-- logrecords_slices has them in a time slice.
ALTER FOREIGN TABLE records10 OPTIONS (ADD slices '1');
SET statement_timeout = '5s';
\! python3 test/bls_emulator.py ctl fault '{"type": "marker_cycle", "count": -1, "call": "QueryLogRecord"}'
SELECT count(*) FROM ten_records10;
\echo :LAST_ERROR_SQLSTATE
SET statement_timeout = '60s';
\! python3 test/bls_emulator.py ctl calls QueryLogRecord | wc -l
\! python3 test/bls_emulator.py ctl reset
\! python3 test/bls_emulator.py ctl fault '{"type": "empty_marked", "count": 2, "skip": 1, "call": "QueryLogRecord"}'
SELECT count(*) FROM ten_records10;
\echo :LAST_ERROR_SQLSTATE
\! python3 test/bls_emulator.py ctl reset
-- one empty page: the records of the others, 30
\! python3 test/bls_emulator.py ctl fault '{"type": "empty_marked", "skip": 1, "call": "QueryLogRecord"}'
SELECT count(*) FROM ten_records10;
\! python3 test/bls_emulator.py ctl reset
ALTER FOREIGN TABLE records10 OPTIONS (DROP slices);

--
-- Scans stopped early (EXISTS, a semi-join, a cursor closed early, a LIMIT
-- above a join), 20 of them, with pages read ahead: what they abandon
-- finishes detached, so their keep-alive connections stay.  At most 3 new
-- connections (once, 14).
--
SELECT count(*) FROM download_tasks;
\! python3 test/bls_emulator.py ctl reset
SELECT EXISTS (SELECT 1 FROM download_tasks WHERE written_rows >= 0) AS e
FROM generate_series(1, 5);
SELECT count(*) FROM generate_series(1, 5) g
WHERE g IN (SELECT written_rows + 1 FROM download_tasks WHERE name <> '');
BEGIN;
DECLARE c1 CURSOR FOR SELECT uuid FROM download_tasks;
FETCH 150 FROM c1 \g /dev/null
CLOSE c1;
DECLARE c2 CURSOR FOR SELECT uuid FROM download_tasks;
FETCH 250 FROM c2 \g /dev/null
CLOSE c2;
COMMIT;
DECLARE c3 CURSOR WITH HOLD FOR SELECT uuid FROM download_tasks LIMIT 1;
CLOSE c3;
SELECT count(*) FROM (SELECT t.uuid FROM download_tasks t
  JOIN generate_series(1, 2) g ON t.written_rows + g > 0 LIMIT 120) s;
SELECT count(*) FROM (SELECT t.uuid FROM download_tasks t
  JOIN generate_series(1, 2) g ON t.written_rows + g > 0 LIMIT 220) s;
DO $$
BEGIN
  FOR i IN 1..8 LOOP
    PERFORM count(*) FROM (SELECT t.uuid FROM download_tasks t
      JOIN generate_series(1, 2) g ON t.written_rows + g > 0 LIMIT 150 + i) s;
  END LOOP;
END $$;
\! python3 test/bls_emulator.py ctl accepted | awk '{ print ($1 <= 3) ? "at most 3 new connections" : $1 " new connections" }'
-- and the next full scan is whole
SELECT count(*), count(DISTINCT uuid) FROM download_tasks;

--
-- A re-scan with the same values and no cache (a correlated SubPlan whose
-- parameter is checked locally) keeps nothing per sequence: the memory used
-- in the scan's values context does not grow over 1500 re-scans (once, by
-- 120 kB).  The function runs its query afresh at every call.
--
CREATE FUNCTION values_used(int) RETURNS bigint LANGUAGE plpgsql VOLATILE AS $$
BEGIN
  RETURN (SELECT used_bytes FROM pg_backend_memory_contexts
          WHERE name = 'bls_fdw values');
END $$;
SELECT max(u) - min(u) AS values_growth, count(*) AS rescans, min(c) AS stores
FROM (SELECT g,
        (SELECT count(*) FROM log_stores s
         WHERE s.project = 'staging' AND s.retention > g * 0) AS c,
        values_used(g) AS u
      FROM generate_series(1, 1500) g) x
WHERE g > 5;

--
-- ANALYZE's report counts the table's items by their name (read at DEBUG2:
-- VERBOSE adds timings in PostgreSQL 18)
--
SET client_min_messages = debug2;
ANALYZE log_stores;
ANALYZE projects;
RESET client_min_messages;

RESET statement_timeout;
DROP FUNCTION project_checks();
DROP FUNCTION values_used(int);
DROP SERVER emu CASCADE;
