--
-- ANALYZE: a bounded sample of tasks through the API, for the planner
--
\getenv emulator_url BLS_EMULATOR_URL
\set VERBOSITY default
\! python3 test/bls_emulator.py ctl reset

CREATE SERVER emu FOREIGN DATA WRAPPER bls_fdw OPTIONS (endpoint :'emulator_url');
CREATE USER MAPPING FOR CURRENT_USER SERVER emu
  OPTIONS (access_key_id 'emulator-ak', secret_access_key 'emulator-sk');
IMPORT FOREIGN SCHEMA bls FROM SERVER emu INTO public;

CREATE TABLE project_owners (project text PRIMARY KEY, owner text NOT NULL);
INSERT INTO project_owners VALUES
  ('default', 'ops'), ('prod-web', 'web'), ('analytics', 'data'),
  ('数据平台', 'data'), ('staging', 'web');
ANALYZE project_owners;

CREATE FUNCTION plan_rows(q text) RETURNS int LANGUAGE plpgsql AS $$
DECLARE j json;
BEGIN
  EXECUTE 'EXPLAIN (FORMAT JSON) ' || q INTO j;
  RETURN (j->0->'Plan'->>'Plan Rows')::int;
END $$;

-- the option: a positive integer, on a server or a table
ALTER SERVER emu OPTIONS (ADD analyze_max_pages '0');
ALTER SERVER emu OPTIONS (ADD analyze_max_pages 'many');
ALTER FOREIGN TABLE download_tasks OPTIONS (ADD analyze_max_pages '100001');

-- before ANALYZE: no statistics, so default guesses
SELECT reltuples FROM pg_class WHERE oid = 'download_tasks'::regclass;
SELECT count(*) FROM pg_stats WHERE tablename = 'download_tasks';
SELECT plan_rows('SELECT state, count(*) FROM download_tasks GROUP BY state') AS states;
SELECT plan_rows($$SELECT * FROM download_tasks WHERE project = 'staging'$$) AS staging;
SELECT plan_rows('SELECT o.owner, d.name FROM download_tasks d JOIN project_owners o USING (project)') AS joined;

-- ANALYZE reads every page when they fit in analyze_max_pages (default 10):
-- 1000 tasks, pages of 100, ten requests
\! python3 test/bls_emulator.py ctl log-clear
ANALYZE download_tasks;
\! python3 test/bls_emulator.py ctl log

SELECT reltuples FROM pg_class WHERE oid = 'download_tasks'::regclass;
SELECT attname, n_distinct, null_frac FROM pg_stats
WHERE tablename = 'download_tasks' AND attname IN ('project', 'state', 'uuid')
ORDER BY attname;
-- the most common values are the data's: every state's share
SELECT s.v AS state, round(s.f::numeric, 3) AS freq
FROM pg_stats, unnest(most_common_vals::text::text[], most_common_freqs) AS s(v, f)
WHERE tablename = 'download_tasks' AND attname = 'state'
ORDER BY s.v;
SELECT state, round(count(*) / 1000.0, 3) AS freq FROM download_tasks
GROUP BY state ORDER BY state;

-- and the planner uses them: 5 groups, not 200; 65 staging tasks, not 5; a
-- join with the 5 owners keeps every task, not 25
SELECT plan_rows('SELECT state, count(*) FROM download_tasks GROUP BY state') AS states;
SELECT plan_rows($$SELECT * FROM download_tasks WHERE project = 'staging'$$) AS staging,
       (SELECT count(*) FROM download_tasks WHERE project = 'staging') AS actual;
SELECT plan_rows('SELECT o.owner, d.name FROM download_tasks d JOIN project_owners o USING (project)') AS joined,
       (SELECT count(*) FROM download_tasks d JOIN project_owners o USING (project)) AS actual;
EXPLAIN (COSTS OFF)
SELECT o.owner, count(*) FROM download_tasks d JOIN project_owners o USING (project)
WHERE d.state = 'FAILED' GROUP BY o.owner;

-- more pages than analyze_max_pages: that many, spread from the first to
-- the last; the row count is still the service's total
ALTER FOREIGN TABLE download_tasks OPTIONS (ADD analyze_max_pages '3');
\! python3 test/bls_emulator.py ctl log-clear
-- (its report at DEBUG2: VERBOSE adds timings in PostgreSQL 18)
SET client_min_messages = debug2;
ANALYZE download_tasks;
RESET client_min_messages;
\! python3 test/bls_emulator.py ctl log
SELECT reltuples FROM pg_class WHERE oid = 'download_tasks'::regclass;
SELECT attname, n_distinct FROM pg_stats
WHERE tablename = 'download_tasks' AND attname IN ('project', 'state')
ORDER BY attname;

-- one page only, set on the server; the table's setting wins over it
ALTER SERVER emu OPTIONS (ADD analyze_max_pages '1');
ALTER FOREIGN TABLE download_tasks OPTIONS (DROP analyze_max_pages);
\! python3 test/bls_emulator.py ctl log-clear
ANALYZE download_tasks;
\! python3 test/bls_emulator.py ctl log
SELECT reltuples FROM pg_class WHERE oid = 'download_tasks'::regclass;
ALTER FOREIGN TABLE download_tasks OPTIONS (ADD analyze_max_pages '2');
\! python3 test/bls_emulator.py ctl log-clear
ANALYZE download_tasks;
\! python3 test/bls_emulator.py ctl log
ALTER SERVER emu OPTIONS (DROP analyze_max_pages);
ALTER FOREIGN TABLE download_tasks OPTIONS (DROP analyze_max_pages);

-- a table written by hand: a subset of columns, a renamed key, a dropped
-- column, a typed column; a sample smaller than the table
CREATE FOREIGN TABLE few (
  id text OPTIONS (key 'uuid'),
  gone int,
  state text,
  written_rows bigint
) SERVER emu OPTIONS (page_size '250');
ALTER FOREIGN TABLE few DROP COLUMN gone;
ALTER FOREIGN TABLE few ALTER COLUMN state SET STATISTICS 1;
SET default_statistics_target = 1;
\! python3 test/bls_emulator.py ctl log-clear
ANALYZE few;
\! python3 test/bls_emulator.py ctl log
RESET default_statistics_target;
SELECT reltuples FROM pg_class WHERE oid = 'few'::regclass;
-- the sample is random, but every uuid is distinct and every state common
SELECT attname, CASE WHEN attname = 'written_rows' THEN NULL ELSE n_distinct END
FROM pg_stats WHERE tablename = 'few' ORDER BY attname;

-- ANALYZE of the whole database leaves foreign tables out, as PostgreSQL
-- does for every foreign table: no request
\! python3 test/bls_emulator.py ctl log-clear
ANALYZE;
\! python3 test/bls_emulator.py ctl count

-- errors: the service's error is ANALYZE's error, and the old statistics stay
\! python3 test/bls_emulator.py ctl reset
\! python3 test/bls_emulator.py ctl fault '{"type": "http", "status": 403, "code": "AccessDenied"}'
ANALYZE download_tasks;
\! python3 test/bls_emulator.py ctl reset
SELECT reltuples FROM pg_class WHERE oid = 'download_tasks'::regclass;

-- ANALYZE counts in bls_fdw_stats() like a scan
\c
ANALYZE download_tasks;
SELECT server_name, pages, rows FROM bls_fdw_stats();

DROP FUNCTION plan_rows(text);
DROP TABLE project_owners;
DROP SERVER emu CASCADE;
