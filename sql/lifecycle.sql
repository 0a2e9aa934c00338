--
-- Lifecycle: a scan's connection and its read-ahead requests belong to that
-- scan alone.  bls_fdw_disconnect() in the middle of a scan keeps the
-- connection the scan uses, and cursors (plain, SCROLL, WITH HOLD, two at a
-- time), errors, savepoints and PL/pgSQL exception blocks never let a page
-- requested for one scan end up in another, get lost, or outlive its scan.
--
-- Every check prints a Boolean that must be true (or a count stated in the
-- comment above it); every statement that hung before runs under
-- statement_timeout, and after each one that crashed the backend the
-- backend and postmaster are checked to be the same.
--
\getenv emulator_url BLS_EMULATOR_URL
\set VERBOSITY terse
\! python3 test/bls_emulator.py ctl reset

CREATE SERVER emu FOREIGN DATA WRAPPER bls_fdw
  OPTIONS (endpoint :'emulator_url', max_retries '0');
CREATE USER MAPPING FOR CURRENT_USER SERVER emu
  OPTIONS (access_key_id 'emulator-ak', secret_access_key 'emulator-sk');
IMPORT FOREIGN SCHEMA bls FROM SERVER emu INTO public;
-- the same tasks one page at a time, and in pages of 10 with 4 read ahead
-- (100 pages: read-ahead is under way at almost every row)
CREATE FOREIGN TABLE tasks_ra0 (uuid text, state text, created_time timestamptz)
  SERVER emu OPTIONS (readahead '0');
CREATE FOREIGN TABLE small (uuid text, state text, created_time timestamptz)
  SERVER emu OPTIONS (page_size '10', readahead '4');

-- a local copy, numbered in the service's order
CREATE TABLE local_tasks AS SELECT row_number() OVER () AS n, * FROM download_tasks;
-- 1000 rows, 1000 distinct, and the small pages give the same order: t, t
SELECT count(*) = 1000 AS ok, count(DISTINCT uuid) = 1000 AS distinct_ok FROM local_tasks;
SELECT array_agg(uuid) = (SELECT array_agg(uuid ORDER BY n) FROM local_tasks) AS same_order
FROM small;

-- take(c, k): the uuids of the next k rows of cursor c, comma-separated;
-- want(a, b): those of rows a to b of the local copy
CREATE FUNCTION take(c refcursor, k int) RETURNS text LANGUAGE plpgsql AS $$
DECLARE
  r record;
  s text[] := '{}';
BEGIN
  FOR i IN 1..k LOOP
    FETCH c INTO r;
    EXIT WHEN NOT FOUND;
    s := s || r.uuid;
  END LOOP;
  RETURN array_to_string(s, ',');
END $$;
CREATE FUNCTION want(a bigint, b bigint) RETURNS text LANGUAGE sql STABLE AS $$
  SELECT coalesce(string_agg(uuid, ',' ORDER BY n), '') FROM local_tasks WHERE n BETWEEN a AND b
$$;

SELECT pg_backend_pid() AS pid, pg_postmaster_start_time() AS pm_start \gset

--
-- bls_fdw_disconnect() during a scan.  The scan's connection stays (with a
-- WARNING "cannot close the connection to BLS server "emu" while it is in
-- use" per call) and the scan returns all 1000 rows.  Before the fix the
-- call freed the libcurl handles the scan went on to use: the backend
-- crashed (a lazy scan: the time bound is pushed down, no tuplestore).
--
SET statement_timeout = '20s';
CREATE SEQUENCE calls;
-- four calls, in the middle of pages 1, 2, 5 and 9: rows 1000, 1000 distinct,
-- 0 closed (every call saw the connection in use)
SELECT count(*) AS rows, count(DISTINCT uuid) AS distinct_rows, count(*) FILTER (WHERE d) AS closed
FROM (SELECT uuid, CASE WHEN nextval('calls') IN (2, 150, 450, 850) THEN bls_fdw_disconnect() END AS d
      FROM download_tasks WHERE created_time > '2000-01-01') s;
SELECT pg_backend_pid() = :pid AS same_backend, pg_postmaster_start_time() = :'pm_start' AS same_postmaster;
-- the same with readahead 0 (a single request at a time)
SELECT setval('calls', 1, false);
SELECT count(*) AS rows, count(DISTINCT uuid) AS distinct_rows, count(*) FILTER (WHERE d) AS closed
FROM (SELECT uuid, CASE WHEN nextval('calls') IN (2, 150, 450, 850) THEN bls_fdw_disconnect() END AS d
      FROM tasks_ra0 WHERE created_time > '2000-01-01') s;
SELECT pg_backend_pid() = :pid AS same_backend, pg_postmaster_start_time() = :'pm_start' AS same_postmaster;
-- the statement as reported, a call at every row (its 1000 WARNINGs are
-- not shown): 1000 rows, none closed
SET client_min_messages = error;
SELECT count(*) AS rows, count(*) FILTER (WHERE d) AS closed
FROM (SELECT bls_fdw_disconnect() AS d FROM download_tasks WHERE created_time > '2000-01-01') s;
SELECT count(*) AS rows, count(*) FILTER (WHERE d) AS closed
FROM (SELECT bls_fdw_disconnect() AS d FROM tasks_ra0 WHERE created_time > '2000-01-01') s;
RESET client_min_messages;
SELECT pg_backend_pid() = :pid AS same_backend, pg_postmaster_start_time() = :'pm_start' AS same_postmaster;
-- from a cursor, between two FETCHes: the open scan keeps its connection
BEGIN;
DECLARE d CURSOR FOR SELECT uuid FROM small;
SELECT take('d', 15) = want(1, 15) AS ok;
SELECT bls_fdw_disconnect() AS closed;
SELECT take('d', 1000) = want(16, 1000) AS ok;
COMMIT;
SELECT pg_backend_pid() = :pid AS same_backend, pg_postmaster_start_time() = :'pm_start' AS same_postmaster;
-- with no scan open it closes, and the next scan connects again: t, t
SELECT bls_fdw_disconnect() AS closed;
SELECT count(*) = 1000 AS ok FROM download_tasks;
RESET statement_timeout;

--
-- Cursors over the small pages: every FETCH returns exactly the next rows
-- of the local copy
--
SET statement_timeout = '20s';
-- plain, in three steps: t, t, t
BEGIN;
DECLARE c CURSOR FOR SELECT uuid FROM small;
SELECT take('c', 25) = want(1, 25) AS ok;
SELECT take('c', 500) = want(26, 525) AS ok;
SELECT take('c', 1000) = want(526, 1000) AS ok;
COMMIT;
-- closed in the middle, with pages in flight; the next scan is whole: t, t
BEGIN;
DECLARE c CURSOR FOR SELECT uuid FROM small;
SELECT take('c', 25) = want(1, 25) AS ok;
CLOSE c;
SELECT array_agg(uuid) = (SELECT array_agg(uuid ORDER BY n) FROM local_tasks) AS ok FROM small;
COMMIT;

-- SCROLL: backward, absolute, and forward again (all t)
BEGIN;
DECLARE s SCROLL CURSOR FOR SELECT uuid FROM small;
SELECT take('s', 35) = want(1, 35) AS ok;
FETCH BACKWARD 1 FROM s \gset
SELECT :'uuid' = want(34, 34) AS ok;
FETCH ABSOLUTE 500 FROM s \gset
SELECT :'uuid' = want(500, 500) AS ok;
FETCH ABSOLUTE 3 FROM s \gset
SELECT :'uuid' = want(3, 3) AS ok;
SELECT take('s', 100) = want(4, 103) AS ok;
FETCH LAST FROM s \gset
SELECT :'uuid' = want(1000, 1000) AS ok;
MOVE ABSOLUTE 0 IN s;
SELECT take('s', 2000) = want(1, 1000) AS ok;
COMMIT;

-- WITH HOLD across COMMIT (the rest is read at COMMIT): t, t
BEGIN;
DECLARE h CURSOR WITH HOLD FOR SELECT uuid FROM small;
SELECT take('h', 15) = want(1, 15) AS ok;
COMMIT;
SELECT take('h', 2000) = want(16, 1000) AS ok;
CLOSE h;
-- and declared outside a transaction block: t
DECLARE h CURSOR WITH HOLD FOR SELECT uuid FROM small;
SELECT take('h', 2000) = want(1, 1000) AS ok;
CLOSE h;

-- two cursors at a time, and a third with a pushed condition, interleaved:
-- each returns its own rows (all t)
BEGIN;
DECLARE a CURSOR FOR SELECT uuid FROM small;
DECLARE b CURSOR FOR SELECT uuid FROM small;
DECLARE f CURSOR FOR SELECT uuid FROM small WHERE state = 'FAILED';
DECLARE g CURSOR FOR SELECT uuid FROM download_tasks;
SELECT take('a', 7) = want(1, 7) AS a_ok;
SELECT take('b', 13) = want(1, 13) AS b_ok;
SELECT take('g', 150) = want(1, 150) AS g_ok;
SELECT take('a', 40) = want(8, 47) AS a_ok;
SELECT take('f', 5) = (SELECT string_agg(uuid, ',' ORDER BY n)
                       FROM (SELECT * FROM local_tasks WHERE state = 'FAILED' ORDER BY n LIMIT 5) l) AS f_ok;
SELECT take('b', 3) = want(14, 16) AS b_ok;
SELECT take('a', 1) = want(48, 48) AS a_ok;
SELECT take('g', 400) = want(151, 550) AS g_ok;
SELECT take('b', 600) = want(17, 616) AS b_ok;
SELECT take('f', 2000) = (SELECT string_agg(uuid, ',' ORDER BY n)
                          FROM (SELECT * FROM local_tasks WHERE state = 'FAILED' ORDER BY n OFFSET 5) l) AS f_ok;
SELECT take('a', 2000) = want(49, 1000) AS a_ok;
SELECT take('g', 2000) = want(551, 1000) AS g_ok;
SELECT take('b', 2000) = want(617, 1000) AS b_ok;
COMMIT;
-- two cursors opened in PL/pgSQL, taking 3 and 5 rows in turn
-- (NOTICE: interleaved in PL/pgSQL: t)
DO $$
DECLARE
  a refcursor := 'a2';
  b refcursor := 'b2';
  ok boolean := true;
BEGIN
  OPEN a FOR SELECT uuid FROM small;
  OPEN b FOR SELECT uuid FROM small;
  FOR i IN 0..199 LOOP
    ok := ok AND take(a, 3) = want(i * 3 + 1, i * 3 + 3)
             AND take(b, 5) = want(i * 5 + 1, i * 5 + 5);
  END LOOP;
  ok := ok AND take(a, 2000) = want(601, 1000) AND take(b, 2000) = '';
  RAISE NOTICE 'interleaved in PL/pgSQL: %', ok;
END $$;

-- FETCH after an error in the transaction: the transaction is aborted
-- ("current transaction is aborted"), ROLLBACK ends the cursor, and the
-- next scan is whole: t, error, error, t
BEGIN;
DECLARE e CURSOR FOR SELECT uuid FROM small;
SELECT take('e', 5) = want(1, 5) AS ok;
SELECT 1 / 0;
FETCH 1 FROM e;
ROLLBACK;
SELECT array_agg(uuid) = (SELECT array_agg(uuid ORDER BY n) FROM local_tasks) AS ok FROM small;
-- FETCH after the scan's own error (page 4 fails): t, error, error, t
\! python3 test/bls_emulator.py ctl fault '{"type": "http", "status": 400, "code": "InvalidParameter", "message": "bad page", "page": 4, "count": -1}'
BEGIN;
DECLARE e CURSOR FOR SELECT uuid FROM small;
SELECT take('e', 25) = want(1, 25) AS ok;
SELECT take('e', 1000);
FETCH 1 FROM e;
ROLLBACK;
\! python3 test/bls_emulator.py ctl reset
SELECT array_agg(uuid) = (SELECT array_agg(uuid ORDER BY n) FROM local_tasks) AS ok FROM small;
SELECT pg_backend_pid() = :pid AS same_backend, pg_postmaster_start_time() = :'pm_start' AS same_postmaster;

-- a savepoint rolled back in the middle of a scan: the cursor's position is
-- not transactional, so the rows fetched inside the savepoint are gone from
-- the cursor and the rest follows them (t, t, t, t)
BEGIN;
DECLARE c CURSOR FOR SELECT uuid FROM small;
SELECT take('c', 25) = want(1, 25) AS ok;
SAVEPOINT sp;
SELECT take('c', 30) = want(26, 55) AS ok;
ROLLBACK TO SAVEPOINT sp;
SELECT take('c', 100) = want(56, 155) AS ok;
-- an error in the savepoint, then the rest
SAVEPOINT sp2;
SELECT take('c', 5) = want(156, 160) AS ok;
SELECT 1 / 0;
ROLLBACK TO SAVEPOINT sp2;
SELECT take('c', 2000) = want(161, 1000) AS ok;
COMMIT;
-- subtransaction commit: a cursor declared and read in a savepoint that is
-- released goes on in the parent, its pages read ahead intact (t, t, t)
BEGIN;
SAVEPOINT rel;
DECLARE r CURSOR FOR SELECT uuid FROM small;
SELECT take('r', 25) = want(1, 25) AS ok;
RELEASE SAVEPOINT rel;
SELECT take('r', 30) = want(26, 55) AS ok;
SAVEPOINT rel2;
SELECT take('r', 10) = want(56, 65) AS ok;
RELEASE SAVEPOINT rel2;
SELECT take('r', 2000) = want(66, 1000) AS ok;
COMMIT;

-- a cursor declared inside the savepoint that is rolled back is gone, the
-- one outside goes on (error, t)
BEGIN;
DECLARE c CURSOR FOR SELECT uuid FROM small;
SELECT take('c', 25) = want(1, 25) AS ok;
SAVEPOINT sp;
DECLARE i CURSOR FOR SELECT uuid FROM small;
SELECT take('i', 33) = want(1, 33) AS ok;
ROLLBACK TO SAVEPOINT sp;
FETCH 1 FROM i;
ROLLBACK TO SAVEPOINT sp;
SELECT take('c', 2000) = want(26, 1000) AS ok;
COMMIT;
SELECT pg_backend_pid() = :pid AS same_backend, pg_postmaster_start_time() = :'pm_start' AS same_postmaster;

-- PL/pgSQL: an exception block inside a cursor loop catches an error every
-- 100 rows; the loop goes on through all the rows (before the fix the next
-- FETCH after the first caught error waited forever).
-- NOTICE: rows 1000, caught 10, same order t
DO $$
DECLARE
  c CURSOR FOR SELECT uuid FROM small;
  n int := 0;
  caught int := 0;
  s text[] := '{}';
BEGIN
  FOR r IN c LOOP
    n := n + 1;
    s := s || r.uuid;
    BEGIN
      IF n % 100 = 7 THEN
        RAISE EXCEPTION 'row %', n;
      END IF;
    EXCEPTION WHEN others THEN
      caught := caught + 1;
    END;
  END LOOP;
  RAISE NOTICE 'rows %, caught %, same order %', n, caught, array_to_string(s, ',') = want(1, 1000);
END $$;
-- the same over the default pages (NOTICE: rows 1000, caught 10, same order t)
DO $$
DECLARE
  c CURSOR FOR SELECT uuid FROM download_tasks;
  n int := 0;
  caught int := 0;
  s text[] := '{}';
BEGIN
  FOR r IN c LOOP
    n := n + 1;
    s := s || r.uuid;
    BEGIN
      IF n % 100 = 7 THEN
        PERFORM 1 / 0;
      END IF;
    EXCEPTION WHEN division_by_zero THEN
      caught := caught + 1;
    END;
  END LOOP;
  RAISE NOTICE 'rows %, caught %, same order %', n, caught, array_to_string(s, ',') = want(1, 1000);
END $$;
-- the FETCH inside the exception block: every block is a subtransaction,
-- the pages it read ahead outlive it, and an error in a later one must not
-- take them away (before the fix the FETCH after the first caught error
-- waited forever).  NOTICE: rows 1000, caught 10, same order t
DO $$
DECLARE
  c CURSOR FOR SELECT uuid FROM small;
  r record;
  n int := 0;
  caught int := 0;
  s text[] := '{}';
BEGIN
  OPEN c;
  LOOP
    BEGIN
      FETCH c INTO r;
      EXIT WHEN NOT FOUND;
      n := n + 1;
      s := s || r.uuid;
      IF n % 100 = 7 THEN
        RAISE EXCEPTION 'row %', n;
      END IF;
    EXCEPTION WHEN others THEN
      caught := caught + 1;
    END;
  END LOOP;
  CLOSE c;
  RAISE NOTICE 'rows %, caught %, same order %', n, caught, array_to_string(s, ',') = want(1, 1000);
END $$;
SELECT pg_backend_pid() = :pid AS same_backend, pg_postmaster_start_time() = :'pm_start' AS same_postmaster;

-- psql's ON_ERROR_ROLLBACK: every statement runs in a savepoint of its own;
-- an error in the transaction leaves the open cursor whole (t, error, t, t)
\set ON_ERROR_ROLLBACK on
BEGIN;
DECLARE o CURSOR FOR SELECT uuid FROM small;
SELECT take('o', 25) = want(1, 25) AS ok;
SELECT 1 / 0;
SELECT take('o', 100) = want(26, 125) AS ok;
SELECT take('o', 2000) = want(126, 1000) AS ok;
COMMIT;
\set ON_ERROR_ROLLBACK off
SELECT pg_backend_pid() = :pid AS same_backend, pg_postmaster_start_time() = :'pm_start' AS same_postmaster;

-- a cursor whose scan failed inside a savepoint: after ROLLBACK TO it cannot
-- run, CLOSE frees it, and a new scan is whole; bls_fdw_stats() shows only
-- the servers that exist (t, error, error, t, t, t)
\! python3 test/bls_emulator.py ctl fault '{"type": "http", "status": 400, "code": "InvalidParameter", "message": "bad page", "page": 6, "count": -1}'
BEGIN;
DECLARE x CURSOR FOR SELECT uuid FROM small;
SELECT take('x', 5) = want(1, 5) AS ok;
SAVEPOINT sp;
SELECT take('x', 1000);
ROLLBACK TO SAVEPOINT sp;
FETCH 1 FROM x;
ROLLBACK TO SAVEPOINT sp;
CLOSE x;
\! python3 test/bls_emulator.py ctl reset
SELECT array_agg(uuid) = (SELECT array_agg(uuid ORDER BY n) FROM local_tasks) AS ok FROM small;
COMMIT;
SELECT array_agg(uuid) = (SELECT array_agg(uuid ORDER BY n) FROM local_tasks) AS ok FROM small;
SELECT bool_and(server_name IN (SELECT srvname FROM pg_foreign_server)) AS only_known_servers,
       count(*) = count(DISTINCT server_name) AS one_row_each
FROM bls_fdw_stats();
SELECT pg_backend_pid() = :pid AS same_backend, pg_postmaster_start_time() = :'pm_start' AS same_postmaster;
RESET statement_timeout;

DROP TABLE local_tasks;
DROP SEQUENCE calls;
DROP FUNCTION take(refcursor, int);
DROP FUNCTION want(bigint, bigint);
DROP SERVER emu CASCADE;
