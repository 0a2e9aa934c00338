--
-- The ledger: when an error or a rollback leaves creates and deletes in
-- place on BLS (which has no transactions), a WARNING names them.
--
-- An error at the top level is sent to the client before the WARNING of
-- the abort that follows, and psql may print the two in either order; so
-- failing statements run here in PL/pgSQL blocks that catch the error (a
-- subtransaction abort: the WARNING comes first, then the NOTICE with the
-- error), or in explicit transactions ended by ROLLBACK.  Creates are sent
-- one at a time (batch_size 1) where the WARNING's uuids are shown, so that
-- the emulator hands them out in a fixed order.
--
\set VERBOSITY default
\! python3 test/bls_emulator.py ctl reset
\! python3 test/bls_emulator.py ctl config '{"task_waiting_ms": 600000, "task_running_ms": 600000}'

\set emu_options ', max_retries ''2'', batch_size ''1'''
\set emu_import 'LIMIT TO (download_tasks)'
\set ECHO none
\i sql/include/emu_server.sql
\i sql/include/try.sql
\set ECHO all

CREATE FUNCTION ins(name text, n int DEFAULT 1, fmt text DEFAULT 'csv') RETURNS text LANGUAGE sql AS $$
  SELECT format('INSERT INTO download_tasks (name, log_store_name, query_start_time, query_end_time, format) '
                'SELECT %L || CASE WHEN %s > 1 THEN ''-'' || i ELSE '''' END, ''app-log'', ''2024-11-01'', ''2024-11-02'', '
                'CASE WHEN i = 9 THEN %L ELSE ''csv'' END FROM generate_series(1, %s) i', name, n, fmt, n)
$$;

--
-- a committed transaction says nothing
--
INSERT INTO download_tasks (name, log_store_name, query_start_time, query_end_time)
VALUES ('committed', 'app-log', '2024-11-01', '2024-11-02');
BEGIN;
INSERT INTO download_tasks (name, log_store_name, query_start_time, query_end_time)
VALUES ('committed-2', 'app-log', '2024-11-01', '2024-11-02');
DELETE FROM download_tasks WHERE name = 'committed';
COMMIT;

--
-- ROLLBACK names the creates and deletes
--
BEGIN;
INSERT INTO download_tasks (name, log_store_name, query_start_time, query_end_time)
VALUES ('rolled-back', 'app-log', '2024-11-01', '2024-11-02');
DELETE FROM download_tasks WHERE name = 'committed-2';
ROLLBACK;
\! python3 test/bls_emulator.py ctl task-count rolled-back

--
-- ROLLBACK TO SAVEPOINT names only what the subtransaction did; what a
-- released savepoint did belongs to the transaction
--
BEGIN;
INSERT INTO download_tasks (name, log_store_name, query_start_time, query_end_time)
VALUES ('before-savepoint', 'app-log', '2024-11-01', '2024-11-02');
SAVEPOINT a;
INSERT INTO download_tasks (name, log_store_name, query_start_time, query_end_time)
VALUES ('in-savepoint-a', 'app-log', '2024-11-01', '2024-11-02');
RELEASE SAVEPOINT a;
SAVEPOINT b;
INSERT INTO download_tasks (name, log_store_name, query_start_time, query_end_time)
VALUES ('in-savepoint-b', 'app-log', '2024-11-01', '2024-11-02');
ROLLBACK TO SAVEPOINT b;
-- told once: b's create is not named again
ROLLBACK;

--
-- a PL/pgSQL exception caught: its block's creates are named
--
DO $$
BEGIN
  INSERT INTO download_tasks (name, log_store_name, query_start_time, query_end_time)
  VALUES ('in-block', 'app-log', '2024-11-01', '2024-11-02');
  PERFORM 1 / 0;
EXCEPTION WHEN division_by_zero THEN
  RAISE NOTICE 'caught';
END $$;

--
-- a local error in a later row: the rows created before it are named
--
SELECT try(ins('later-row', 10, 'xml'));
\! python3 test/bls_emulator.py ctl task-count later-row-1
-- the same with batches of 4: the first two batches were sent
ALTER SERVER emu OPTIONS (SET batch_size '4');
\set VERBOSITY terse
SELECT try(ins('later-batch', 10, 'xml'));
\set VERBOSITY default

--
-- the service refuses the 5th create of a batch of 8: the others of the
-- batch are waited for, and all 7 named (terse: the batch's creates run
-- side by side, so which uuid is whose varies)
--
ALTER SERVER emu OPTIONS (SET batch_size '8');
\! python3 test/bls_emulator.py ctl fault '{"type": "http", "status": 400, "code": "InvalidParameter", "message": "refused", "call": "CreateDownloadTask", "skip": 4}'
\set VERBOSITY terse
SELECT try(ins('fifth', 8));
\set VERBOSITY default
\! python3 test/bls_emulator.py ctl calls CreateDownloadTask | grep fifth | cut -c1-3 | sort | uniq -c
SELECT count(*) FROM download_tasks WHERE name LIKE 'fifth-%';
ALTER SERVER emu OPTIONS (SET batch_size '1');

--
-- ambiguous: a 500 after the create.  The error keeps its context; the
-- WARNING names the tasks created before and the one that may have been
--
\! python3 test/bls_emulator.py ctl fault '{"type": "http", "status": 500, "created": true, "call": "CreateDownloadTask", "skip": 2}'
SELECT try(ins('ambiguous', 3));
-- a dropped connection after the create: it says the request was sent
\! python3 test/bls_emulator.py ctl fault '{"type": "drop", "created": true, "call": "CreateDownloadTask"}'
SELECT try(ins('dropped'));
\! python3 test/bls_emulator.py ctl task-count dropped

--
-- a cancel while creates are under way
--
ALTER SERVER emu OPTIONS (SET batch_size '4');
\! python3 test/bls_emulator.py ctl fault '{"type": "delay_headers", "ms": 3000, "call": "CreateDownloadTask", "skip": 5, "count": 3}'
SET statement_timeout = '1s';
\set VERBOSITY terse
SELECT try(ins('cancelled', 8));
\set VERBOSITY default
RESET statement_timeout;
\! python3 test/bls_emulator.py ctl release
ALTER SERVER emu OPTIONS (SET batch_size '1');

--
-- RETURNING: the create went through, its describe failed
--
\! python3 test/bls_emulator.py ctl fault '{"type": "http", "status": 403, "code": "AccessDenied", "message": "no describe", "call": "DescribeDownloadTask"}'
SELECT try(ins('describe-403') || ' RETURNING uuid');
\! python3 test/bls_emulator.py ctl fault '{"type": "delay_headers", "ms": 3000, "call": "DescribeDownloadTask"}'
SET statement_timeout = '1s';
SELECT try(ins('describe-cancel') || ' RETURNING uuid');
RESET statement_timeout;
\! python3 test/bls_emulator.py ctl release
ALTER SERVER emu OPTIONS (ADD request_timeout_ms '500');
\! python3 test/bls_emulator.py ctl fault '{"type": "delay_headers", "ms": 3000, "call": "DescribeDownloadTask", "count": 3}'
SELECT try(ins('describe-timeout') || ' RETURNING uuid');
ALTER SERVER emu OPTIONS (DROP request_timeout_ms);
\! python3 test/bls_emulator.py ctl release
\! python3 test/bls_emulator.py ctl fault '[]'

--
-- a view WITH CHECK OPTION rejects the service's row after the create
--
CREATE VIEW running_exports AS
  SELECT * FROM download_tasks WHERE state = 'RUNNING' WITH CHECK OPTION;
SELECT try('INSERT INTO running_exports (name, log_store_name, query_start_time, query_end_time) '
           'VALUES (''outside-view'', ''app-log'', ''2024-11-01'', ''2024-11-02'')');

--
-- more than 20: the first 20 and a count
--
BEGIN;
INSERT INTO download_tasks (name, log_store_name, query_start_time, query_end_time)
SELECT 'many-' || i, 'app-log', '2024-11-01', '2024-11-02' FROM generate_series(1, 23) i;
ROLLBACK;

DROP VIEW running_exports;
DROP FUNCTION try(text);
DROP FUNCTION ins(text, int, text);
DROP SERVER emu CASCADE;
