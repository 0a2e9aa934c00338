--
-- Writing: INSERT creates download tasks, DELETE deletes them, conditions on
-- uuid describe tasks instead of listing, bls_download_link() gives the file
-- link.  "ctl requests" shows every request the emulator received.
--
\getenv emulator_url BLS_EMULATOR_URL
\set VERBOSITY terse
\! python3 test/bls_emulator.py ctl reset

CREATE SERVER emu FOREIGN DATA WRAPPER bls_fdw
  OPTIONS (endpoint :'emulator_url', max_retries '2');
CREATE USER MAPPING FOR CURRENT_USER SERVER emu
  OPTIONS (access_key_id 'emulator-ak', secret_access_key 'emulator-sk');
IMPORT FOREIGN SCHEMA bls LIMIT TO (download_tasks, projects) FROM SERVER emu INTO public;
-- times go to the service in UTC, whatever the session's time zone
SET TimeZone = 'Asia/Shanghai';

--
-- INSERT ... RETURNING: one create, then one describe of the new task
--
\! python3 test/bls_emulator.py ctl log-clear
INSERT INTO download_tasks (name, project, log_store_name, log_stream_name, query,
                            query_start_time, query_end_time, format, "limit", "order", file_dir)
VALUES ('export-a', 'default', 'nginx-access', 'web-1', 'match status:500',
        '2024-11-05 08:00:00+08', '2024-11-05 09:00:00.25+08', 'csv', 500, 'asc', 'bos://b/dir/')
RETURNING name, project, log_store_name, log_stream_name, query, query_start_time,
          query_end_time, format, "limit", "order", file_dir, state,
          uuid IS NOT NULL AS has_uuid, created_time IS NOT NULL AS has_created;
\! python3 test/bls_emulator.py ctl requests | sed -E 's/[0-9a-f]{8}-[0-9a-f-]{27}/UUID/'
-- the columns left NULL are not sent: the service's defaults apply
\! python3 test/bls_emulator.py ctl log-clear
INSERT INTO download_tasks (log_store_name, query_start_time, query_end_time)
VALUES ('app-log', '2024-11-01 00:00:00+00', '2024-11-02 00:00:00+00')
RETURNING name, project, query, format, "limit", "order", state;
\! python3 test/bls_emulator.py ctl requests | grep POST
-- without RETURNING there is no describe
\! python3 test/bls_emulator.py ctl log-clear
INSERT INTO download_tasks (name, log_store_name, query_start_time, query_end_time)
VALUES ('export-b', 'app-log', '2024-11-01 00:00:00+00', '2024-11-02 00:00:00+00');
\! python3 test/bls_emulator.py ctl requests | sed -E 's/[0-9a-f]{8}-[0-9a-f-]{27}/UUID/'

--
-- what is surely wrong is refused before anything is sent
--
\! python3 test/bls_emulator.py ctl log-clear
INSERT INTO download_tasks (name, query_start_time, query_end_time)
VALUES ('x', '2024-11-01', '2024-11-02');
\echo :LAST_ERROR_SQLSTATE
INSERT INTO download_tasks (log_store_name, query_end_time) VALUES ('app-log', '2024-11-02');
INSERT INTO download_tasks (log_store_name, query_start_time) VALUES ('app-log', '2024-11-02');
INSERT INTO download_tasks (log_store_name, query_start_time, query_end_time)
VALUES ('app-log', '2024-11-03', '2024-11-02');
\echo :LAST_ERROR_SQLSTATE
INSERT INTO download_tasks (log_store_name, query_start_time, query_end_time, format)
VALUES ('app-log', '2024-11-01', '2024-11-02', 'xml');
INSERT INTO download_tasks (log_store_name, query_start_time, query_end_time, "order")
VALUES ('app-log', '2024-11-01', '2024-11-02', 'up');
INSERT INTO download_tasks (log_store_name, query_start_time, query_end_time, "limit")
VALUES ('app-log', '2024-11-01', '2024-11-02', 0);
INSERT INTO download_tasks (log_store_name, query_start_time, query_end_time, "limit")
VALUES ('app-log', '2024-11-01', '2024-11-02', 1000001);
INSERT INTO download_tasks (uuid, log_store_name, query_start_time, query_end_time)
VALUES ('mine', 'app-log', '2024-11-01', '2024-11-02');
\echo :LAST_ERROR_SQLSTATE
INSERT INTO download_tasks (state, log_store_name, query_start_time, query_end_time)
VALUES ('SUCCESS', 'app-log', '2024-11-01', '2024-11-02');
-- a multi-row INSERT whose last row is wrong sends none of them (a batch)
INSERT INTO download_tasks (name, log_store_name, query_start_time, query_end_time, format)
VALUES ('ok-1', 'app-log', '2024-11-01', '2024-11-02', 'json'),
       ('ok-2', 'app-log', '2024-11-01', '2024-11-02', 'parquet');
\! python3 test/bls_emulator.py ctl requests | wc -l
-- the service's own refusal reaches the user with its code and message
\! python3 test/bls_emulator.py ctl fault '{"type": "http", "status": 400, "code": "InvalidParameter", "message": "logStoreName not found", "call": "CreateDownloadTask"}'
INSERT INTO download_tasks (name, log_store_name, query_start_time, query_end_time)
VALUES ('refused', 'no-such-store', '2024-11-01', '2024-11-02');
\echo :LAST_ERROR_SQLSTATE
\! python3 test/bls_emulator.py ctl task-count refused

--
-- a create is never sent twice by mistake
--
-- refused for sure (429, 503): resent, and exactly one task
\! python3 test/bls_emulator.py ctl fault '[{"type": "http", "status": 429, "retry_after": "0", "call": "CreateDownloadTask"}, {"type": "http", "status": 503, "call": "CreateDownloadTask"}]'
INSERT INTO download_tasks (name, log_store_name, query_start_time, query_end_time)
VALUES ('throttled', 'app-log', '2024-11-01', '2024-11-02');
\! python3 test/bls_emulator.py ctl task-count throttled
-- (the WARNING of the rollback that follows each error below, naming the
-- task that may have been created, is tested in ledger.sql: psql prints it
-- before or after the error, as the two arrive)
SET client_min_messages = error;
-- accepted, then the connection dropped: an error naming the task, not resent
\! python3 test/bls_emulator.py ctl fault '{"type": "create_accept_then_drop"}'
\set VERBOSITY default
INSERT INTO download_tasks (name, project, log_store_name, query_start_time, query_end_time)
VALUES ('dropped', 'default', 'app-log', '2024-11-01', '2024-11-02');
\set VERBOSITY terse
\echo :LAST_ERROR_SQLSTATE
\! python3 test/bls_emulator.py ctl task-count dropped
-- a 500 after the task was made: the same
\! python3 test/bls_emulator.py ctl fault '{"type": "http", "status": 500, "created": true, "call": "CreateDownloadTask"}'
\set VERBOSITY default
INSERT INTO download_tasks (name, log_store_name, query_start_time, query_end_time)
VALUES ('failed-500', 'app-log', '2024-11-01', '2024-11-02');
\set VERBOSITY terse
\! python3 test/bls_emulator.py ctl task-count failed-500
-- a cancel while the create is under way
\! python3 test/bls_emulator.py ctl fault '{"type": "delay_headers", "ms": 5000, "call": "CreateDownloadTask"}'
SET statement_timeout = '500ms';
\set VERBOSITY default
INSERT INTO download_tasks (name, log_store_name, query_start_time, query_end_time)
VALUES ('cancelled', 'app-log', '2024-11-01', '2024-11-02');
\set VERBOSITY terse
RESET statement_timeout;
RESET client_min_messages;
\! python3 test/bls_emulator.py ctl release
\! python3 test/bls_emulator.py ctl reset

--
-- INSERT ... SELECT: batches of creates side by side
--
\! python3 test/bls_emulator.py ctl config '{"latency_ms": 50}'
ALTER SERVER emu OPTIONS (ADD batch_size '8');
EXPLAIN (VERBOSE, COSTS OFF)
INSERT INTO download_tasks (name, log_store_name, query_start_time, query_end_time)
SELECT 'batch-' || i, 'app-log', '2024-11-01', '2024-11-02' FROM generate_series(1, 20) i;
INSERT INTO download_tasks (name, log_store_name, query_start_time, query_end_time)
SELECT 'batch-' || i, 'app-log', '2024-11-01', '2024-11-02' FROM generate_series(1, 20) i;
-- 20 tasks, at most 8 creates at once, more than one at once
\! python3 test/bls_emulator.py ctl max-inflight CreateDownloadTask
\! python3 test/bls_emulator.py ctl config '{"latency_ms": 0}'
SELECT count(*), count(DISTINCT name) FROM download_tasks WHERE name LIKE 'batch-%';
ALTER SERVER emu OPTIONS (DROP batch_size);

--
-- conditions on uuid describe the tasks: no list request
--
-- (generated tasks only: a task created earlier may have finished by now)
SELECT uuid AS some_uuid FROM download_tasks WHERE state = 'SUCCESS' AND created_time < '2024-11-06' ORDER BY uuid LIMIT 1 \gset
SELECT uuid AS other_uuid FROM download_tasks WHERE state = 'FAILED' AND created_time < '2024-11-06' ORDER BY uuid LIMIT 1 \gset
EXPLAIN (VERBOSE, COSTS OFF) SELECT name FROM download_tasks WHERE uuid = :'some_uuid';
\! python3 test/bls_emulator.py ctl log-clear
SELECT uuid = :'some_uuid' AS same, state FROM download_tasks WHERE uuid = :'some_uuid';
SELECT count(*) FROM download_tasks WHERE uuid = 'no-such-task';
SELECT count(*) FROM download_tasks WHERE uuid IN (:'some_uuid', :'other_uuid', 'no-such-task', :'some_uuid');
SELECT count(*) FROM download_tasks WHERE uuid = ANY (ARRAY[:'some_uuid', :'other_uuid']);
PREPARE by_uuid(text) AS SELECT state FROM download_tasks WHERE uuid = $1;
EXECUTE by_uuid(:'other_uuid');
-- other conditions are checked locally then
SELECT count(*) FROM download_tasks WHERE uuid = :'some_uuid' AND project = 'no-such-project';
\! python3 test/bls_emulator.py ctl requests | sed -E 's/[0-9a-f]{8}-[0-9a-f-]{27}/UUID/' | sort | uniq -c
-- the inner side of a nested loop on uuid
CREATE TEMP TABLE wanted (u text);
INSERT INTO wanted VALUES (:'some_uuid'), (:'other_uuid'), ('no-such-task');
ANALYZE wanted;
EXPLAIN (COSTS OFF) SELECT w.u, d.state FROM wanted w JOIN download_tasks d ON d.uuid = w.u;
\! python3 test/bls_emulator.py ctl log-clear
SELECT count(*) FROM wanted w JOIN download_tasks d ON d.uuid = w.u;
\! python3 test/bls_emulator.py ctl requests | sed -E 's/[0-9a-f]{8}-[0-9a-f-]{27}/UUID/' | sort | uniq -c

--
-- the file link
--
SELECT file_name IS NOT NULL AS has_file, link LIKE 'https://%' AS is_link
FROM bls_download_link('emu', :'some_uuid');
SELECT count(*) FROM bls_download_link('emu', 'no-such-task');
SELECT * FROM bls_download_link('emu', :'other_uuid');
\echo :LAST_ERROR_SQLSTATE
SELECT count(*) FROM bls_download_link('no-such-server', :'some_uuid');
-- it composes in SQL
SELECT count(*) = (SELECT count(*) FROM download_tasks WHERE state = 'SUCCESS' AND project = 'staging') AS one_link_each
FROM download_tasks t CROSS JOIN LATERAL bls_download_link('emu', t.uuid) l
WHERE t.state = 'SUCCESS' AND t.project = 'staging';

--
-- a new task's life: WAITING, RUNNING, SUCCESS, then its link (the
-- emulator's clock is moved on by hand)
--
\! python3 test/bls_emulator.py ctl config '{"task_waiting_ms": 60000, "task_running_ms": 60000}'
INSERT INTO download_tasks (name, log_store_name, query_start_time, query_end_time)
VALUES ('lifecycle', 'app-log', '2024-11-01', '2024-11-02');
SELECT uuid AS new_uuid FROM download_tasks WHERE name = 'lifecycle' \gset
SELECT state FROM download_tasks WHERE uuid = :'new_uuid';
\set VERBOSITY default
SELECT count(*) FROM bls_download_link('emu', :'new_uuid');
\set VERBOSITY terse
\! python3 test/bls_emulator.py ctl advance 61000
SELECT state, exec_start_time IS NOT NULL AS started FROM download_tasks WHERE uuid = :'new_uuid';
\! python3 test/bls_emulator.py ctl advance 61000
SELECT state, written_rows > 0 AS wrote, file_name IS NOT NULL AS has_file
FROM download_tasks WHERE uuid = :'new_uuid';
SELECT link LIKE 'https://%' AS is_link FROM bls_download_link('emu', :'new_uuid');

--
-- DELETE
--
-- by uuid: a direct modification, one DeleteDownloadTask per uuid
EXPLAIN (VERBOSE, COSTS OFF) DELETE FROM download_tasks WHERE uuid = :'new_uuid';
\! python3 test/bls_emulator.py ctl log-clear
DELETE FROM download_tasks WHERE uuid = :'new_uuid';
\echo :ROW_COUNT
DELETE FROM download_tasks WHERE uuid = :'new_uuid';
\echo :ROW_COUNT
\! python3 test/bls_emulator.py ctl requests | sed -E 's/[0-9a-f]{8}-[0-9a-f-]{27}/UUID/'
SELECT count(*) FROM download_tasks WHERE uuid = :'new_uuid';
-- IN and = ANY: each distinct uuid once, a missing one counts 0
SELECT array_agg(uuid ORDER BY uuid) AS two FROM download_tasks WHERE name IN ('batch-3', 'batch-4') \gset
\! python3 test/bls_emulator.py ctl log-clear
DELETE FROM download_tasks WHERE uuid = ANY (:'two'::text[] || ARRAY['no-such-task'] || :'two'::text[]);
\echo :ROW_COUNT
\! python3 test/bls_emulator.py ctl requests | grep -c DELETE
PREPARE del(text) AS DELETE FROM download_tasks WHERE uuid = $1;
EXECUTE del('no-such-task');
\echo :ROW_COUNT
-- other conditions: list with pushdown, then delete each row by uuid
\! python3 test/bls_emulator.py ctl log-clear
WITH d AS (DELETE FROM download_tasks WHERE name LIKE 'batch-1%' RETURNING name)
SELECT string_agg(name, ', ' ORDER BY name) FROM d;
-- (the list is read whole before deleting: deleting shifts later pages)
\! python3 test/bls_emulator.py ctl requests | grep -c ' DELETE '
\! python3 test/bls_emulator.py ctl requests | grep -c ' GET '
-- a DELETE across many small pages deletes every match: the list is read
-- whole first, since each delete shifts the pages that follow
INSERT INTO download_tasks (name, log_store_name, query_start_time, query_end_time)
SELECT 'shift-' || i, 'app-log', '2024-11-01', '2024-11-02' FROM generate_series(1, 30) i;
CREATE FOREIGN TABLE tasks5 (uuid text, name text) SERVER emu OPTIONS (page_size '5');
DELETE FROM tasks5 WHERE name LIKE 'shift-%';
\echo :ROW_COUNT
SELECT count(*) FROM download_tasks WHERE name LIKE 'shift-%';
-- by uuid with RETURNING: described, then deleted (still no list)
SELECT uuid AS b2 FROM download_tasks WHERE name = 'batch-2' \gset
\! python3 test/bls_emulator.py ctl log-clear
DELETE FROM download_tasks WHERE uuid = :'b2' RETURNING name, state;
\! python3 test/bls_emulator.py ctl requests | sed -E 's/[0-9a-f]{8}-[0-9a-f-]{27}/UUID/'

-- UPDATE is refused when it is planned; nothing is sent
\! python3 test/bls_emulator.py ctl log-clear
UPDATE download_tasks SET name = 'renamed' WHERE uuid = :'some_uuid';
\echo :LAST_ERROR_SQLSTATE
EXPLAIN UPDATE download_tasks SET name = 'renamed';
-- the catalog is read-only
INSERT INTO projects (name) VALUES ('new');
DELETE FROM projects;
\! python3 test/bls_emulator.py ctl requests | wc -l

--
-- not transactional: a ROLLBACK undoes neither a create nor a delete
--
BEGIN;
INSERT INTO download_tasks (name, log_store_name, query_start_time, query_end_time)
VALUES ('rolled-back', 'app-log', '2024-11-01', '2024-11-02');
ROLLBACK;
\! python3 test/bls_emulator.py ctl task-count rolled-back
SELECT uuid AS rb FROM download_tasks WHERE name = 'rolled-back' \gset
BEGIN;
DELETE FROM download_tasks WHERE uuid = :'rb';
\echo :ROW_COUNT
ROLLBACK;
SELECT count(*) FROM download_tasks WHERE uuid = :'rb';

--
-- privileges: table grants decide; a role without a mapping is told so
--
CREATE ROLE bls_writer;
GRANT SELECT, INSERT ON download_tasks TO bls_writer;
SET ROLE bls_writer;
INSERT INTO download_tasks (name, log_store_name, query_start_time, query_end_time)
VALUES ('no-mapping', 'app-log', '2024-11-01', '2024-11-02');
DELETE FROM download_tasks WHERE uuid = :'some_uuid';
RESET ROLE;
DROP OWNED BY bls_writer;
DROP ROLE bls_writer;

-- EXPLAIN ANALYZE shows the requests of a modification
\set ECHO none
\i sql/include/explain_analyze.sql
\set ECHO all
SELECT explain_analyze($$EXPLAIN (ANALYZE, VERBOSE, COSTS OFF, TIMING OFF, SUMMARY OFF, BUFFERS OFF)
INSERT INTO download_tasks (name, log_store_name, query_start_time, query_end_time)
VALUES ('explained', 'app-log', '2024-11-01', '2024-11-02')$$) AS "QUERY PLAN";
SELECT uuid AS ex FROM download_tasks WHERE name = 'explained' \gset
SET plan_cache_mode = force_generic_plan;
SELECT explain_analyze(format('EXPLAIN (ANALYZE, COSTS OFF, TIMING OFF, SUMMARY OFF, BUFFERS OFF) EXECUTE del(%L)',
                              :'ex')) AS "QUERY PLAN";
RESET plan_cache_mode;

-- the counters include the writes
SELECT requests > 0 AS counted, errors > 0 AS errors_counted FROM bls_fdw_stats() WHERE server_name = 'emu';

RESET TimeZone;
DROP SERVER emu CASCADE;
