--
-- COPY FROM into download_tasks is batched as INSERT is: batch_size creates
-- side by side.  PostgreSQL 16 and later batch COPY into a foreign table
-- themselves; 15 hands its rows over one by one, and bls_fdw queues them.
-- The emulator's most creates in flight at once (with a latency, so that the
-- creates of a batch overlap) shows the batching the same way on every
-- version.  uuid_by_name: a task's uuid follows its name, not the order in
-- which creates sent side by side arrive, so the ledger's WARNINGs show
-- the same uuids each run.
--
\set VERBOSITY default
\! python3 test/bls_emulator.py ctl reset
\! python3 test/bls_emulator.py ctl config '{"task_waiting_ms": 600000, "task_running_ms": 600000, "uuid_by_name": true, "latency_ms": 200}'

\set emu_options ', max_retries ''2'', batch_size ''4'''
\set emu_import 'LIMIT TO (download_tasks)'
\set ECHO none
\i sql/include/emu_server.sql
\i sql/include/try.sql
\set ECHO all

-- copy_rows(prefix, n, bad): COPY of n tasks prefix-1 .. prefix-n, row bad
-- with a format no task takes
CREATE FUNCTION copy_rows(prefix text, n int, bad int DEFAULT 0) RETURNS text LANGUAGE sql AS $$
  SELECT format('COPY download_tasks (name, log_store_name, query_start_time, query_end_time, format) FROM PROGRAM %L',
                format('seq %s | awk ''{print "%s-" $1 "\tapp-log\t2024-11-01\t2024-11-02\t" ($1 == %s ? "xml" : "csv")}''',
                       n, prefix, bad))
$$;

--
-- ten rows: batches of 4, 4 and 2, each sent side by side
--
COPY download_tasks (name, log_store_name, query_start_time, query_end_time) FROM STDIN;
copy-1	app-log	2024-11-01 00:00:00+00	2024-11-02 00:00:00+00
copy-2	app-log	2024-11-01 00:00:00+00	2024-11-02 00:00:00+00
copy-3	app-log	2024-11-01 00:00:00+00	2024-11-02 00:00:00+00
copy-4	app-log	2024-11-01 00:00:00+00	2024-11-02 00:00:00+00
copy-5	app-log	2024-11-01 00:00:00+00	2024-11-02 00:00:00+00
copy-6	app-log	2024-11-01 00:00:00+00	2024-11-02 00:00:00+00
copy-7	app-log	2024-11-01 00:00:00+00	2024-11-02 00:00:00+00
copy-8	app-log	2024-11-01 00:00:00+00	2024-11-02 00:00:00+00
copy-9	nginx-access	2024-11-01 00:00:00+00	2024-11-02 00:00:00+00
copy-10	nginx-access	2024-11-01 00:00:00+00	2024-11-02 00:00:00+00
\.
\echo :ROW_COUNT
\! python3 test/bls_emulator.py ctl calls CreateDownloadTask | grep -c '"copy-'
\! python3 test/bls_emulator.py ctl max-inflight CreateDownloadTask
SELECT log_store_name, count(*), count(DISTINCT name) FROM download_tasks
WHERE name LIKE 'copy-%' GROUP BY 1 ORDER BY 1;

--
-- a row that is surely wrong (the 6th): the first batch was sent, the 5th
-- row queued with the 6th is not, and the WARNING names the four created
--
SELECT try(copy_rows('local', 10, 6));
\! python3 test/bls_emulator.py ctl calls CreateDownloadTask | grep -c '"local-'

--
-- the service refuses the whole second batch: the first is named
--
\! python3 test/bls_emulator.py ctl fault '{"type": "http", "status": 400, "code": "InvalidParameter", "message": "refused", "call": "CreateDownloadTask", "skip": 4, "count": 4}'
SELECT try(copy_rows('second', 10));
\! python3 test/bls_emulator.py ctl calls CreateDownloadTask | grep -c '"second-'

--
-- the service refuses one create of the second batch (the 6th to arrive):
-- the others of the batch are waited for and named with the first batch
-- (terse: which row's create arrives 6th varies); the third batch is not sent
--
\! python3 test/bls_emulator.py ctl fault '{"type": "http", "status": 400, "code": "InvalidParameter", "message": "refused", "call": "CreateDownloadTask", "skip": 5}'
\set VERBOSITY terse
SELECT try(copy_rows('sixth', 10));
\set VERBOSITY default
SELECT count(*) FROM download_tasks WHERE name LIKE 'sixth-%';

--
-- the service refuses a create of the last batch, sent when COPY ends: the
-- eight before it and the other of its batch are named
--
\! python3 test/bls_emulator.py ctl fault '{"type": "http", "status": 400, "code": "InvalidParameter", "message": "refused", "call": "CreateDownloadTask", "skip": 8}'
\set VERBOSITY terse
SELECT try(copy_rows('last', 10));
\set VERBOSITY default
SELECT count(*) FROM download_tasks WHERE name LIKE 'last-%';

--
-- an AFTER ROW trigger reads the new row: COPY creates one task at a time
-- and NEW holds the service's row (its uuid and state)
--
\! python3 test/bls_emulator.py ctl reset
\! python3 test/bls_emulator.py ctl config '{"task_waiting_ms": 600000, "task_running_ms": 600000, "uuid_by_name": true, "latency_ms": 200}'
CREATE FUNCTION show_new() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  RAISE NOTICE 'new task %: uuid %, state %', NEW.name, NEW.uuid, NEW.state;
  RETURN NULL;
END $$;
CREATE TRIGGER show_new AFTER INSERT ON download_tasks
  FOR EACH ROW EXECUTE FUNCTION show_new();
COPY download_tasks (name, log_store_name, query_start_time, query_end_time) FROM STDIN;
trig-1	app-log	2024-11-01 00:00:00+00	2024-11-02 00:00:00+00
trig-2	app-log	2024-11-01 00:00:00+00	2024-11-02 00:00:00+00
trig-3	app-log	2024-11-01 00:00:00+00	2024-11-02 00:00:00+00
\.
\echo :ROW_COUNT
\! python3 test/bls_emulator.py ctl max-inflight CreateDownloadTask
SELECT name, uuid FROM download_tasks WHERE name LIKE 'trig-%' ORDER BY name;
DROP TRIGGER show_new ON download_tasks;

--
-- rows routed through a partitioned parent into a bls_fdw partition are
-- batched too
--
\! python3 test/bls_emulator.py ctl reset
\! python3 test/bls_emulator.py ctl config '{"task_waiting_ms": 600000, "task_running_ms": 600000, "uuid_by_name": true, "latency_ms": 200}'
CREATE TABLE exports (uuid text, name text, log_store_name text,
                      query_start_time timestamptz, query_end_time timestamptz)
  PARTITION BY LIST (log_store_name);
CREATE FOREIGN TABLE exports_bls PARTITION OF exports FOR VALUES IN ('app-log')
  SERVER emu OPTIONS (resource 'download_tasks');
CREATE TABLE exports_local PARTITION OF exports DEFAULT;
COPY exports (name, log_store_name, query_start_time, query_end_time) FROM STDIN;
routed-1	app-log	2024-11-01 00:00:00+00	2024-11-02 00:00:00+00
routed-2	app-log	2024-11-01 00:00:00+00	2024-11-02 00:00:00+00
kept-here	elsewhere	2024-11-01 00:00:00+00	2024-11-02 00:00:00+00
routed-3	app-log	2024-11-01 00:00:00+00	2024-11-02 00:00:00+00
routed-4	app-log	2024-11-01 00:00:00+00	2024-11-02 00:00:00+00
\.
\echo :ROW_COUNT
\! python3 test/bls_emulator.py ctl max-inflight CreateDownloadTask
SELECT name FROM exports_bls WHERE name LIKE 'routed-%' ORDER BY name;
SELECT name FROM exports_local;

\! python3 test/bls_emulator.py ctl reset
DROP TABLE exports;
DROP FUNCTION try(text);
DROP FUNCTION copy_rows(text, int, int);
DROP FUNCTION show_new();
DROP SERVER emu CASCADE;
