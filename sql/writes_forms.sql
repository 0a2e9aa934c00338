--
-- Every SQL form that writes to download_tasks: COPY, partition routing,
-- INSERT ... SELECT from the table itself, views WITH CHECK OPTION, row
-- triggers, ON CONFLICT, hand-written tables whose uuid column is not text,
-- uuid values that are not task ids, two columns on one field, and DELETEs
-- whose outcome was ambiguous.  "ctl requests" shows what the emulator got.
--
\set VERBOSITY terse
\! python3 test/bls_emulator.py ctl reset
-- new tasks stay WAITING for the whole suite
\! python3 test/bls_emulator.py ctl config '{"task_waiting_ms": 600000, "task_running_ms": 600000}'

\set emu_options ', max_retries ''2'', batch_size ''4'''
\set emu_import 'LIMIT TO (download_tasks, projects)'
\set ECHO none
\i sql/include/emu_server.sql
\set ECHO all

--
-- COPY FROM: one create per row
--
\! python3 test/bls_emulator.py ctl log-clear
COPY download_tasks (name, log_store_name, query_start_time, query_end_time) FROM STDIN;
copy-1	app-log	2024-11-01 00:00:00+00	2024-11-02 00:00:00+00
copy-2	app-log	2024-11-01 00:00:00+00	2024-11-02 00:00:00+00
copy-3	nginx-access	2024-11-01 00:00:00+00	2024-11-02 00:00:00+00
\.
\echo :ROW_COUNT
\! python3 test/bls_emulator.py ctl requests | grep -c ' POST /v2/logstore/download '
SELECT name, log_store_name, state FROM download_tasks WHERE name LIKE 'copy-%' ORDER BY name;
-- a row that is surely wrong stops the COPY before it is sent
COPY download_tasks (name, log_store_name, query_start_time, query_end_time, format) FROM STDIN;
copy-4	app-log	2024-11-01 00:00:00+00	2024-11-02 00:00:00+00	xml
\.
\! python3 test/bls_emulator.py ctl task-count copy-4
-- the catalog takes no COPY
COPY projects (name) FROM STDIN;
x
\.

--
-- a bls_fdw table as a partition: rows routed through the parent
--
CREATE TABLE exports (uuid text, name text, log_store_name text,
                      query_start_time timestamptz, query_end_time timestamptz, state text)
  PARTITION BY LIST (log_store_name);
CREATE FOREIGN TABLE exports_bls PARTITION OF exports FOR VALUES IN ('app-log')
  SERVER emu OPTIONS (resource 'download_tasks');
CREATE TABLE exports_local PARTITION OF exports DEFAULT;
\! python3 test/bls_emulator.py ctl log-clear
INSERT INTO exports (name, log_store_name, query_start_time, query_end_time)
VALUES ('routed-1', 'app-log', '2024-11-01', '2024-11-02'),
       ('kept-here', 'elsewhere', '2024-11-01', '2024-11-02'),
       ('routed-2', 'app-log', '2024-11-01', '2024-11-02');
\! python3 test/bls_emulator.py ctl task-count routed-1
\! python3 test/bls_emulator.py ctl task-count routed-2
SELECT count(*) FROM exports_local;
-- RETURNING through the parent describes the new task
INSERT INTO exports (name, log_store_name, query_start_time, query_end_time)
VALUES ('routed-3', 'app-log', '2024-11-01', '2024-11-02')
RETURNING name, uuid IS NOT NULL AS has_uuid, state;
-- COPY into the parent routes too
COPY exports (name, log_store_name, query_start_time, query_end_time) FROM STDIN;
routed-4	app-log	2024-11-01 00:00:00+00	2024-11-02 00:00:00+00
\.
\! python3 test/bls_emulator.py ctl task-count routed-4
SELECT name, state FROM exports WHERE name LIKE 'routed-%' ORDER BY name;
-- DELETE through the parent deletes the tasks; UPDATE is refused
DELETE FROM exports WHERE name IN ('routed-1', 'kept-here');
\echo :ROW_COUNT
\! python3 test/bls_emulator.py ctl task-count routed-1
UPDATE exports SET name = 'renamed' WHERE name = 'routed-2';
\echo :LAST_ERROR_SQLSTATE
-- ON CONFLICT through the parent is refused like on the table
INSERT INTO exports (name, log_store_name, query_start_time, query_end_time)
VALUES ('routed-5', 'app-log', '2024-11-01', '2024-11-02') ON CONFLICT DO NOTHING;
\echo :LAST_ERROR_SQLSTATE
\! python3 test/bls_emulator.py ctl task-count routed-5

--
-- ON CONFLICT DO NOTHING cannot be honoured: refused, nothing sent
--
\! python3 test/bls_emulator.py ctl log-clear
INSERT INTO download_tasks (name, log_store_name, query_start_time, query_end_time)
VALUES ('conflict', 'app-log', '2024-11-01', '2024-11-02') ON CONFLICT DO NOTHING;
\echo :LAST_ERROR_SQLSTATE
\! python3 test/bls_emulator.py ctl requests | wc -l

--
-- INSERT ... SELECT from the table itself never reads its own creates
--
INSERT INTO download_tasks (name, log_store_name, query_start_time, query_end_time)
SELECT 'hw-src', 'app-log', '2024-11-01', '2024-11-02' FROM generate_series(1, 25);
-- the copies match the source's condition, and come last in created_time order
INSERT INTO download_tasks (name, log_store_name, query_start_time, query_end_time)
SELECT 'hw-' || CASE WHEN name = 'hw-src' THEN 'copy' ELSE 'copy-of-copy' END,
       log_store_name, query_start_time, query_end_time
FROM download_tasks WHERE name LIKE 'hw-%' ORDER BY created_time;
\echo :ROW_COUNT
\! python3 test/bls_emulator.py ctl task-count hw-copy
\! python3 test/bls_emulator.py ctl task-count hw-copy-of-copy
-- and in the default order (newest first), with RETURNING (one by one):
-- 50 sources, 50 creates
INSERT INTO download_tasks (name, log_store_name, query_start_time, query_end_time)
SELECT 'hw-again', log_store_name, query_start_time, query_end_time
FROM download_tasks WHERE name LIKE 'hw-%'
RETURNING name \g /dev/null
\echo :ROW_COUNT
-- the next statement sees them all
SELECT name, count(*) FROM download_tasks WHERE name LIKE 'hw-%' GROUP BY name ORDER BY name;

--
-- a view WITH CHECK OPTION: checked against the row the service made
--
CREATE VIEW app_exports AS
  SELECT * FROM download_tasks WHERE log_store_name = 'app-log' AND state = 'WAITING'
  WITH CHECK OPTION;
INSERT INTO app_exports (name, log_store_name, query_start_time, query_end_time)
VALUES ('through-view', 'app-log', '2024-11-01', '2024-11-02');
\echo :ROW_COUNT
-- a row outside the view: an error after the create (see ledger.sql)
SET client_min_messages = error;
INSERT INTO app_exports (name, log_store_name, query_start_time, query_end_time)
VALUES ('outside-view', 'nginx-access', '2024-11-01', '2024-11-02');
RESET client_min_messages;
\echo :LAST_ERROR_SQLSTATE

--
-- row triggers: BEFORE changes what is sent, AFTER sees the service's row
--
CREATE FUNCTION rename_task() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  NEW.name := NEW.name || '-renamed';
  RETURN NEW;
END $$;
CREATE FUNCTION show_task() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  RAISE NOTICE 'after insert: name %, uuid set %, state %, created_time set %',
    NEW.name, NEW.uuid IS NOT NULL, NEW.state, NEW.created_time IS NOT NULL;
  RETURN NEW;
END $$;
CREATE TRIGGER rename BEFORE INSERT ON download_tasks FOR EACH ROW EXECUTE FUNCTION rename_task();
CREATE TRIGGER show AFTER INSERT ON download_tasks FOR EACH ROW EXECUTE FUNCTION show_task();
\! python3 test/bls_emulator.py ctl log-clear
INSERT INTO download_tasks (name, log_store_name, query_start_time, query_end_time)
VALUES ('trig-1', 'app-log', '2024-11-01', '2024-11-02'),
       ('trig-2', 'app-log', '2024-11-01', '2024-11-02');
\! python3 test/bls_emulator.py ctl task-count trig-1-renamed
-- one create and one describe per row
\! python3 test/bls_emulator.py ctl requests | sed -E 's/[0-9a-f]{8}-[0-9a-f-]{27}/UUID/'
DROP TRIGGER rename ON download_tasks;
DROP TRIGGER show ON download_tasks;

--
-- hand-written tables whose uuid column is not text: the value sent is
-- the column's text, whatever its type
--
INSERT INTO download_tasks (name, log_store_name, query_start_time, query_end_time)
SELECT 'typed-' || t, 'app-log', '2024-11-01', '2024-11-02'
FROM unnest(ARRAY['uuid', 'char', 'name', 'varchar']) t;
CREATE FOREIGN TABLE t_uuid (uuid uuid, name text, created_time timestamptz) SERVER emu;
CREATE FOREIGN TABLE t_char (uuid char(40), name text) SERVER emu;
CREATE FOREIGN TABLE t_name (uuid name, name text) SERVER emu;
CREATE FOREIGN TABLE t_varchar (uuid varchar(36), name text) SERVER emu;
SELECT uuid AS typed_uuid FROM download_tasks WHERE name = 'typed-uuid' \gset
SELECT count(*) FROM t_uuid WHERE uuid = :'typed_uuid';
\! python3 test/bls_emulator.py ctl log-clear
DELETE FROM t_uuid WHERE name = 'typed-uuid';
\echo :ROW_COUNT
DELETE FROM t_char WHERE name = 'typed-char' RETURNING length(uuid::text) AS padded, name;
DELETE FROM t_name WHERE name = 'typed-name';
\echo :ROW_COUNT
DELETE FROM t_varchar WHERE uuid IN (SELECT uuid FROM download_tasks WHERE name = 'typed-varchar');
\echo :ROW_COUNT
-- each DELETE went to the task's own path, and the tasks are gone
\! python3 test/bls_emulator.py ctl requests | grep DELETE | sed -E 's/[0-9a-f]{8}-[0-9a-f-]{27}/UUID/'
SELECT count(*) FROM download_tasks WHERE name LIKE 'typed-%';
-- a uuid array of another type, deleted directly
INSERT INTO download_tasks (name, log_store_name, query_start_time, query_end_time)
SELECT 'typed-array', 'app-log', '2024-11-01', '2024-11-02' FROM generate_series(1, 2);
SELECT array_agg(uuid::uuid) AS typed_arr FROM download_tasks WHERE name = 'typed-array' \gset
DELETE FROM download_tasks WHERE uuid = ANY (:'typed_arr'::uuid[]::text[]);
\echo :ROW_COUNT

--
-- values that are not task ids find nothing and send nothing
--
\! python3 test/bls_emulator.py ctl log-clear
SELECT count(*) FROM download_tasks WHERE uuid = 'list';
SELECT count(*) FROM download_tasks WHERE uuid = '';
SELECT count(*) FROM download_tasks WHERE uuid IN ('.', '..', 'link/x', 'list?x=1', '%2e%2e');
SELECT count(*) FROM download_tasks WHERE uuid = '01234567-89ab-cdef-0123-456789abcdef0';
CREATE TEMP TABLE bad_ids (u text);
INSERT INTO bad_ids VALUES ('list'), ('..'), ('link/x'), ('');
ANALYZE bad_ids;
SET enable_hashjoin = off;
SET enable_mergejoin = off;
SELECT count(*) FROM bad_ids b JOIN download_tasks d ON d.uuid = b.u;
RESET enable_hashjoin;
RESET enable_mergejoin;
DELETE FROM download_tasks WHERE uuid = 'list';
\echo :ROW_COUNT
DELETE FROM download_tasks WHERE uuid = ANY (ARRAY['..', 'link/x', '']);
\echo :ROW_COUNT
SELECT count(*) FROM bls_download_link('emu', '..');
SELECT count(*) FROM bls_download_link('emu', 'list');
\! python3 test/bls_emulator.py ctl requests | wc -l
-- a real id in upper case is still an id
SELECT count(*) FROM download_tasks WHERE uuid = upper(:'typed_uuid');
\! python3 test/bls_emulator.py ctl requests | wc -l

--
-- two columns on one field: a write cannot tell which to send, and is
-- refused before anything is sent; a read gives the field to both (as
-- types.sql reads one field as two types)
--
\! python3 test/bls_emulator.py ctl log-clear
CREATE FOREIGN TABLE dup_tasks (name text, title text OPTIONS (key 'name'),
  log_store_name text, query_start_time timestamptz, query_end_time timestamptz)
  SERVER emu;
INSERT INTO dup_tasks (name, title, log_store_name, query_start_time, query_end_time)
VALUES ('a', 'b', 'app-log', '2024-11-01', '2024-11-02');
\echo :LAST_ERROR_SQLSTATE
INSERT INTO dup_tasks (title, log_store_name, query_start_time, query_end_time)
VALUES ('b', 'app-log', '2024-11-01', '2024-11-02');
COPY dup_tasks (name, log_store_name, query_start_time, query_end_time) FROM STDIN;
\.
\! python3 test/bls_emulator.py ctl requests | wc -l
SELECT count(*) FROM dup_tasks WHERE name IS DISTINCT FROM title;

--
-- batch_size belongs to download_tasks only
--
CREATE FOREIGN TABLE batch_projects (name text) SERVER emu
  OPTIONS (resource 'projects', batch_size '4');
\echo :LAST_ERROR_SQLSTATE
CREATE FOREIGN TABLE some_projects (name text) SERVER emu OPTIONS (resource 'projects');
ALTER FOREIGN TABLE some_projects OPTIONS (ADD batch_size '4');
CREATE FOREIGN TABLE batch_tasks (name text) SERVER emu OPTIONS (batch_size '4');
ALTER FOREIGN TABLE batch_tasks OPTIONS (ADD resource 'log_stores');

--
-- a function given a server of another wrapper
--
CREATE FOREIGN DATA WRAPPER other_wrapper;
CREATE SERVER other_server FOREIGN DATA WRAPPER other_wrapper;
SELECT * FROM bls_download_link('other_server', '01234567-89ab-cdef-0123-456789abcdef');
\echo :LAST_ERROR_SQLSTATE
SELECT * FROM bls_log_query('other_server', 'app-log', 'match *', now() - interval '1 hour', now());
\echo :LAST_ERROR_SQLSTATE

--
-- a DELETE whose first attempt was applied but answered badly: its retry's
-- 404 means the task is gone, and it counts
--
INSERT INTO download_tasks (name, log_store_name, query_start_time, query_end_time)
SELECT 'ambiguous-' || i, 'app-log', '2024-11-01', '2024-11-02' FROM generate_series(1, 4) i;
SELECT uuid AS amb1 FROM download_tasks WHERE name = 'ambiguous-1' \gset
SELECT uuid AS amb2 FROM download_tasks WHERE name = 'ambiguous-2' \gset
\! python3 test/bls_emulator.py ctl fault '{"type": "http", "status": 500, "deleted": true, "call": "DeleteDownloadTask"}'
DELETE FROM download_tasks WHERE uuid = :'amb1';
\echo :ROW_COUNT
\! python3 test/bls_emulator.py ctl fault '{"type": "drop", "deleted": true, "call": "DeleteDownloadTask"}'
\! python3 test/bls_emulator.py ctl log-clear
DELETE FROM download_tasks WHERE uuid = :'amb2' RETURNING name;
\! python3 test/bls_emulator.py ctl requests | sed -E 's/[0-9a-f]{8}-[0-9a-f-]{27}/UUID/'
\! python3 test/bls_emulator.py ctl fault '{"type": "http", "status": 502, "deleted": true, "call": "DeleteDownloadTask"}'
DELETE FROM download_tasks WHERE name = 'ambiguous-3';
\echo :ROW_COUNT
\! python3 test/bls_emulator.py ctl task-count ambiguous-1
\! python3 test/bls_emulator.py ctl task-count ambiguous-2
\! python3 test/bls_emulator.py ctl task-count ambiguous-3
-- a 500 that did not delete: the retry deletes, once
\! python3 test/bls_emulator.py ctl fault '{"type": "http", "status": 500, "deleted": false, "call": "DeleteDownloadTask"}'
DELETE FROM download_tasks WHERE name = 'ambiguous-4';
\echo :ROW_COUNT
-- a task that never existed is still no row
DELETE FROM download_tasks WHERE uuid = '01234567-89ab-4def-8123-456789abcdef';
\echo :ROW_COUNT
\! python3 test/bls_emulator.py ctl faults

DROP FOREIGN DATA WRAPPER other_wrapper CASCADE;
DROP TABLE exports;
DROP SERVER emu CASCADE;
DROP FUNCTION rename_task();
DROP FUNCTION show_task();
