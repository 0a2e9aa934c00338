--
-- Streaming: a scan hands each row on as it reads it.  A scan with a
-- pushed condition used to copy every row into a tuplestore as well, which
-- spills to a temporary file once work_mem is exceeded; only a scan that
-- may be re-scanned with the same values (the inner side of a nested loop,
-- parameterized or told to rewind) has a use for such a copy.
--
-- Temporary files are counted with pg_stat_database.temp_files of this
-- database, flushed by pg_stat_force_next_flush() in the statement before.
--
\getenv emulator_url BLS_EMULATOR_URL
\set VERBOSITY terse
\! python3 test/bls_emulator.py ctl reset

CREATE SERVER emu FOREIGN DATA WRAPPER bls_fdw OPTIONS (endpoint :'emulator_url');
CREATE USER MAPPING FOR CURRENT_USER SERVER emu
  OPTIONS (access_key_id 'emulator-ak', secret_access_key 'emulator-sk');
IMPORT FOREIGN SCHEMA bls FROM SERVER emu INTO public;
CREATE TABLE local_tasks AS SELECT * FROM download_tasks;

CREATE FUNCTION temp_files() RETURNS bigint LANGUAGE sql VOLATILE AS $$
  SELECT temp_files FROM pg_stat_database WHERE datname = current_database()
$$;

SET work_mem = '64kB';
SELECT pg_stat_force_next_flush();
SELECT temp_files() AS tf0 \gset

-- a pushed condition, every column: the 526 rows, and no temporary file
-- (before the fix: one, the tuplestore spilling).  (An aggregate of the
-- whole rows, order-independent, needs no sort that could spill itself.)
SELECT * FROM download_tasks WHERE project = 'default' \g /dev/null
SELECT pg_stat_force_next_flush();
SELECT temp_files() - :tf0 AS new_temp_files;
SELECT temp_files() AS tf0 \gset
SELECT count(*) AS rows,
       sum(hashtext(d::text)::bigint) = (SELECT sum(hashtext(l::text)::bigint) FROM local_tasks l
                                         WHERE project = 'default') AS same_rows
FROM download_tasks d WHERE project = 'default';
SELECT pg_stat_force_next_flush();
SELECT temp_files() - :tf0 AS new_temp_files;

-- a pushed time bound, a pushed state, a pushed IN list: the right rows (t)
-- and 0 temporary files
SELECT temp_files() AS tf0 \gset
SELECT sum(hashtext(d::text)::bigint) = (SELECT sum(hashtext(l::text)::bigint) FROM local_tasks l
                                         WHERE created_time > '2000-01-01') AS ok
FROM download_tasks d WHERE created_time > '2000-01-01';
SELECT sum(hashtext(d::text)::bigint) = (SELECT sum(hashtext(l::text)::bigint) FROM local_tasks l
                                         WHERE state = 'SUCCESS') AS ok
FROM download_tasks d WHERE state = 'SUCCESS';
SELECT sum(hashtext(d::text)::bigint) = (SELECT sum(hashtext(l::text)::bigint) FROM local_tasks l
                                         WHERE project IN ('default', 'prod-web')) AS ok
FROM download_tasks d WHERE project IN ('default', 'prod-web');
SELECT pg_stat_force_next_flush();
SELECT temp_files() - :tf0 AS new_temp_files;

-- no condition at all: 0 temporary files (before the fix as well)
SELECT temp_files() AS tf0 \gset
SELECT * FROM download_tasks \g /dev/null
SELECT pg_stat_force_next_flush();
SELECT temp_files() - :tf0 AS new_temp_files;

-- the inner side of a parameterized nested loop may keep its rows for a
-- re-scan with the same value (no count of temporary files asserted):
-- default twice and staging, 526 + 526 + 65 = 1117 rows, as locally
SET enable_hashjoin = off;
SET enable_mergejoin = off;
SET enable_material = off;
CREATE TEMP TABLE wanted (p text);
INSERT INTO wanted VALUES ('default'), ('default'), ('staging');
ANALYZE wanted;
EXPLAIN (COSTS OFF)
SELECT count(*) FROM wanted w JOIN download_tasks d ON d.project = w.p;
SELECT count(*) AS rows,
       count(*) = (SELECT count(*) FROM wanted w JOIN local_tasks l ON l.project = w.p) AS same_as_local
FROM wanted w JOIN download_tasks d ON d.project = w.p;
-- every column of the rows kept for the re-scan (more than work_mem, so
-- the kept rows are on disk): the rows are right, and the backend is alive
-- (before the fix: SIGSEGV in pfree from tuplestore_gettupleslot, replaying
-- the kept rows).  0 and 0, t
SELECT pg_backend_pid() AS pid \gset
SELECT (SELECT count(*) FROM (SELECT d.* FROM wanted w JOIN download_tasks d ON d.project = w.p
                              EXCEPT ALL SELECT l.* FROM wanted w JOIN local_tasks l ON l.project = w.p) a) AS remote_only,
       (SELECT count(*) FROM (SELECT l.* FROM wanted w JOIN local_tasks l ON l.project = w.p
                              EXCEPT ALL SELECT d.* FROM wanted w JOIN download_tasks d ON d.project = w.p) b) AS local_only;
SELECT pg_backend_pid() = :pid AS same_backend;
RESET enable_hashjoin;
RESET enable_mergejoin;
RESET enable_material;
RESET work_mem;

DROP FUNCTION temp_files();
DROP TABLE local_tasks;
DROP SERVER emu CASCADE;
