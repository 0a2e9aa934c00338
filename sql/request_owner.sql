--
-- Who gives requests back, and how deletes use connections.
--
-- Every request belongs to a request owner that lives in its user's memory
-- (a scan, a write, a function call): an ERROR, a caught exception or an
-- abort gives the request and the connection back.  Deletes reuse a
-- keep-alive connection; libcurl's own silent resend of a request on a
-- reused connection that died is refused, so that each attempt of a
-- delete is seen, and a retry goes on a new connection.  "ctl conn-calls"
-- numbers the connections the emulator saw, in order: the same cN is one
-- keep-alive connection.
--
\getenv emulator_url BLS_EMULATOR_URL
\set VERBOSITY terse
\! python3 test/bls_emulator.py ctl reset
\! python3 test/bls_emulator.py ctl config '{"task_waiting_ms": 600000, "task_running_ms": 600000}'

CREATE SERVER emu FOREIGN DATA WRAPPER bls_fdw
  OPTIONS (endpoint :'emulator_url', max_retries '2');
CREATE USER MAPPING FOR CURRENT_USER SERVER emu
  OPTIONS (access_key_id 'emulator-ak', secret_access_key 'emulator-sk');
IMPORT FOREIGN SCHEMA bls LIMIT TO (download_tasks) FROM SERVER emu INTO public;

INSERT INTO download_tasks (name, log_store_name, query_start_time, query_end_time)
SELECT 'owned-' || i, 'app-log', '2024-11-01', '2024-11-02' FROM generate_series(1, 6) i;
SELECT uuid AS o1 FROM download_tasks WHERE name = 'owned-1' \gset
SELECT uuid AS o2 FROM download_tasks WHERE name = 'owned-2' \gset
SELECT uuid AS o3 FROM download_tasks WHERE name = 'owned-3' \gset
SELECT uuid AS o4 FROM download_tasks WHERE name = 'owned-4' \gset
SELECT uuid AS o5 FROM download_tasks WHERE name = 'owned-5' \gset

--
-- deletes share one keep-alive connection
--
\! python3 test/bls_emulator.py ctl log-clear
DELETE FROM download_tasks WHERE uuid IN (:'o1', :'o2', :'o3');
\echo :ROW_COUNT
\! python3 test/bls_emulator.py ctl conn-calls

--
-- a delete dropped without an answer on a reused connection: libcurl does
-- not resend it unseen; the retry goes on a new connection, its 404 after
-- an attempt that may have been applied counts as deleted
--
\! python3 test/bls_emulator.py ctl fault '{"type": "drop", "deleted": true, "call": "DeleteDownloadTask"}'
\! python3 test/bls_emulator.py ctl log-clear
DELETE FROM download_tasks WHERE uuid = :'o4' RETURNING name;
\! python3 test/bls_emulator.py ctl conn-calls
\! python3 test/bls_emulator.py ctl task-count owned-4
-- the same without RETURNING, and row by row
\! python3 test/bls_emulator.py ctl fault '{"type": "drop", "deleted": true, "call": "DeleteDownloadTask"}'
\! python3 test/bls_emulator.py ctl log-clear
DELETE FROM download_tasks WHERE uuid = :'o5';
\echo :ROW_COUNT
\! python3 test/bls_emulator.py ctl conn-calls
\! python3 test/bls_emulator.py ctl fault '{"type": "drop", "deleted": true, "call": "DeleteDownloadTask"}'
DELETE FROM download_tasks WHERE name = 'owned-6';
\echo :ROW_COUNT
\! python3 test/bls_emulator.py ctl task-count owned-6

--
-- errors caught in PL/pgSQL, more of them than a connection has transfers
-- (34): each gives its request and connection back when its subtransaction
-- aborts (else "too many concurrent requests", and the disconnect below
-- would find the connection in use)
--
CREATE FUNCTION refusals(stmt text, n int) RETURNS int LANGUAGE plpgsql AS $$
DECLARE
  refused int := 0;
BEGIN
  FOR i IN 1..n LOOP
    BEGIN
      EXECUTE stmt;
    EXCEPTION WHEN insufficient_privilege THEN refused := refused + 1;
    END;
  END LOOP;
  RETURN refused;
END $$;
INSERT INTO download_tasks (name, log_store_name, query_start_time, query_end_time)
VALUES ('kept', 'app-log', '2024-11-01', '2024-11-02');
\! python3 test/bls_emulator.py ctl fault '{"type": "http", "status": 403, "code": "AccessDenied", "call": "DeleteDownloadTask", "count": 80}'
SELECT refusals($$DELETE FROM download_tasks WHERE uuid = '01234567-89ab-4def-8123-456789abcdef'$$, 40);
-- row by row: a scan, then the delete
SELECT refusals($$DELETE FROM download_tasks WHERE name = 'kept'$$, 40);
\! python3 test/bls_emulator.py ctl fault '{"type": "http", "status": 403, "code": "AccessDenied", "call": "GetDownloadTaskLink", "count": 40}'
SELECT refusals($$SELECT * FROM bls_download_link('emu', '01234567-89ab-4def-8123-456789abcdef')$$, 40);
\! python3 test/bls_emulator.py ctl faults
\! python3 test/bls_emulator.py ctl task-count kept
-- no request and no connection left in use
SELECT bls_fdw_disconnect();
-- an error at the top level, then the next statement
\! python3 test/bls_emulator.py ctl fault '{"type": "http", "status": 403, "code": "AccessDenied", "call": "GetDownloadTaskLink"}'
SELECT * FROM bls_download_link('emu', '01234567-89ab-4def-8123-456789abcdef');
SELECT count(*) FROM bls_download_link('emu', '01234567-89ab-4def-8123-456789abcdef');
SELECT bls_fdw_disconnect();

DROP SERVER emu CASCADE;
DROP FUNCTION refusals(text, int);
