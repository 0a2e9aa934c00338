--
-- Planner pushdown: WHERE, ORDER BY, LIMIT, time bounds and join parameters
-- become requests.  Each query asserts the exact requests it sends (the
-- emulator's log) and that its answer equals the same query over a local
-- copy of the emulator's data.
--
\getenv emulator_url BLS_EMULATOR_URL
\set VERBOSITY default
\! python3 test/bls_emulator.py ctl reset

-- one page at a time, so that the request log reads in order
CREATE SERVER emu FOREIGN DATA WRAPPER bls_fdw OPTIONS (endpoint :'emulator_url', readahead '0');
CREATE USER MAPPING FOR CURRENT_USER SERVER emu
  OPTIONS (access_key_id 'emulator-ak', secret_access_key 'emulator-sk');
IMPORT FOREIGN SCHEMA bls FROM SERVER emu INTO public;

-- a local copy of the service's data
CREATE TEMP TABLE raw_tasks (t jsonb);
\! python3 test/bls_emulator.py ctl tasks > /tmp/bls_fdw_pushdown_tasks.jsonl
\copy raw_tasks FROM '/tmp/bls_fdw_pushdown_tasks.jsonl' WITH (FORMAT csv, QUOTE e'\x01', DELIMITER e'\x02')
\! rm -f /tmp/bls_fdw_pushdown_tasks.jsonl
CREATE TEMP TABLE local_tasks AS
  SELECT t->>'uuid' AS uuid, t->>'name' AS name, t->>'project' AS project,
         t->>'logStoreName' AS log_store_name, t->>'state' AS state,
         (t->>'writtenRows')::bigint AS written_rows,
         (t->>'createdTime')::timestamptz AS created_time,
         (t->>'updatedTime')::timestamptz AS updated_time
  FROM raw_tasks;
SELECT count(*) FROM local_tasks;

-- rows of a query as a sorted array, to compare answers as sets
CREATE FUNCTION uuids(q text) RETURNS text[] LANGUAGE plpgsql AS $$
DECLARE r text[];
BEGIN
  EXECUTE format('SELECT coalesce(array_agg(uuid ORDER BY uuid), ''{}'') FROM (%s) s', q) INTO r;
  RETURN r;
END $$;

--
-- project = constant: the request carries it, and no local filter remains
--
EXPLAIN (VERBOSE, COSTS OFF)
SELECT uuid FROM download_tasks WHERE project = 'default';
\! python3 test/bls_emulator.py ctl log-clear
SELECT uuids($$SELECT uuid FROM download_tasks WHERE project = 'default'$$) =
       uuids($$SELECT uuid FROM local_tasks WHERE project = 'default'$$) AS same;
\! python3 test/bls_emulator.py ctl log
-- non-ASCII project names
\! python3 test/bls_emulator.py ctl log-clear
SELECT uuids($$SELECT uuid FROM download_tasks WHERE project = '数据平台'$$) =
       uuids($$SELECT uuid FROM local_tasks WHERE project = '数据平台'$$) AS same;
\! python3 test/bls_emulator.py ctl log
-- no such project: one request, no rows
\! python3 test/bls_emulator.py ctl log-clear
SELECT count(*) FROM download_tasks WHERE project = 'no-such-project';
\! python3 test/bls_emulator.py ctl log

-- contradictions cost no request
\! python3 test/bls_emulator.py ctl log-clear
EXPLAIN (COSTS OFF) SELECT * FROM download_tasks WHERE project = 'a' AND project = 'b';
SELECT count(*) FROM download_tasks WHERE project = 'a' AND project = 'b';
SELECT count(*) FROM download_tasks WHERE project IN ('default', 'analytics') AND project = 'staging';
SELECT count(*) FROM download_tasks WHERE project = NULL;
\! python3 test/bls_emulator.py ctl count

-- IN and = ANY: one request sequence per distinct value
EXPLAIN (VERBOSE, COSTS OFF)
SELECT uuid FROM download_tasks WHERE project IN ('staging', 'analytics', 'staging');
\! python3 test/bls_emulator.py ctl log-clear
SELECT uuids($$SELECT uuid FROM download_tasks WHERE project IN ('staging', 'analytics', 'staging')$$) =
       uuids($$SELECT uuid FROM local_tasks WHERE project IN ('staging', 'analytics')$$) AS same;
\! python3 test/bls_emulator.py ctl log
-- two conditions intersect
\! python3 test/bls_emulator.py ctl log-clear
SELECT uuids($$SELECT uuid FROM download_tasks WHERE project IN ('staging', 'analytics') AND project = ANY ('{analytics,default}')$$) =
       uuids($$SELECT uuid FROM local_tasks WHERE project = 'analytics'$$) AS same;
\! python3 test/bls_emulator.py ctl log

-- parameters and stable expressions are computed when the scan starts
PREPARE by_project(text) AS SELECT count(*) FROM download_tasks WHERE project = $1;
PREPARE by_projects(text[]) AS SELECT count(*) FROM download_tasks WHERE project = ANY ($1);
\! python3 test/bls_emulator.py ctl log-clear
EXECUTE by_project('staging');
EXECUTE by_projects('{staging,NULL,prod-web}');
\! python3 test/bls_emulator.py ctl log
SELECT count(*) FROM local_tasks WHERE project = 'staging';
SELECT count(*) FROM local_tasks WHERE project IN ('staging', 'prod-web');
-- the generic plan of a prepared statement still pushes the parameter
SET plan_cache_mode = force_generic_plan;
EXPLAIN (VERBOSE, COSTS OFF) EXECUTE by_project('staging');
RESET plan_cache_mode;
SET bls.test_project = 'analytics';
EXPLAIN (VERBOSE, COSTS OFF)
SELECT count(*) FROM download_tasks WHERE project = current_setting('bls.test_project');
\! python3 test/bls_emulator.py ctl log-clear
SELECT count(*) = (SELECT count(*) FROM local_tasks WHERE project = 'analytics') AS same
FROM download_tasks WHERE project = current_setting('bls.test_project');
\! python3 test/bls_emulator.py ctl log
-- a volatile expression is not pushed
EXPLAIN (VERBOSE, COSTS OFF)
SELECT count(*) FROM download_tasks WHERE project = (ARRAY['default', 'analytics'])[1 + (random() * 0)::int];
-- nor a comparison under a nondeterministic collation
CREATE COLLATION ci (provider = icu, locale = 'und-u-ks-level2', deterministic = false);
EXPLAIN (VERBOSE, COSTS OFF)
SELECT count(*) FROM download_tasks WHERE project = 'DEFAULT' COLLATE ci;
SELECT count(*) = (SELECT count(*) FROM local_tasks WHERE project = 'default') AS same
FROM download_tasks WHERE project = 'DEFAULT' COLLATE ci;

--
-- logStoreName: narrowed by the service, always rechecked locally
--
EXPLAIN (VERBOSE, COSTS OFF)
SELECT uuid FROM download_tasks WHERE log_store_name = 'nginx-access';
\! python3 test/bls_emulator.py ctl log-clear
SELECT uuids($$SELECT uuid FROM download_tasks WHERE log_store_name = 'nginx-access'$$) =
       uuids($$SELECT uuid FROM local_tasks WHERE log_store_name = 'nginx-access'$$) AS same;
\! python3 test/bls_emulator.py ctl log
-- the service's match is fuzzy: it also returns nginx-access-v2 and the like
SELECT count(DISTINCT log_store_name) FROM local_tasks WHERE log_store_name ILIKE '%nginx-access%';
\! python3 test/bls_emulator.py ctl log-clear
SELECT uuids($$SELECT uuid FROM download_tasks WHERE log_store_name LIKE '%nginx%' AND project = 'default'$$) =
       uuids($$SELECT uuid FROM local_tasks WHERE log_store_name LIKE '%nginx%' AND project = 'default'$$) AS same;
SELECT uuids($$SELECT uuid FROM download_tasks WHERE log_store_name ILIKE '%NGINX-E%'$$) =
       uuids($$SELECT uuid FROM local_tasks WHERE log_store_name ILIKE '%NGINX-E%'$$) AS same;
SELECT uuids($$SELECT uuid FROM download_tasks WHERE log_store_name LIKE 'app\_%'$$) =
       uuids($$SELECT uuid FROM local_tasks WHERE log_store_name LIKE 'app\_%'$$) AS same;
SELECT uuids($$SELECT uuid FROM download_tasks WHERE log_store_name LIKE '审计%'$$) =
       uuids($$SELECT uuid FROM local_tasks WHERE log_store_name LIKE '审计%'$$) AS same;
\! python3 test/bls_emulator.py ctl log
-- a pattern with no literal core is not sent
EXPLAIN (VERBOSE, COSTS OFF)
SELECT uuid FROM download_tasks WHERE log_store_name LIKE '%_%';

--
-- ORDER BY: the service sorts; no Sort node
--
EXPLAIN (VERBOSE, COSTS OFF)
SELECT uuid, created_time FROM download_tasks ORDER BY created_time DESC;
EXPLAIN (VERBOSE, COSTS OFF)
SELECT uuid, updated_time FROM download_tasks WHERE project = 'default' ORDER BY updated_time;
\! python3 test/bls_emulator.py ctl log-clear
SELECT array_agg(updated_time ORDER BY n) = (SELECT array_agg(updated_time ORDER BY updated_time) FROM local_tasks WHERE project = 'default') AS same_order,
       uuids($$SELECT uuid FROM download_tasks WHERE project = 'default'$$) = uuids($$SELECT uuid FROM local_tasks WHERE project = 'default'$$) AS same_rows
FROM (SELECT updated_time, row_number() OVER () AS n
      FROM (SELECT updated_time FROM download_tasks WHERE project = 'default' ORDER BY updated_time) o) s;
\! python3 test/bls_emulator.py ctl log
-- a non-default NULLS placement, or an order the service lacks: a local Sort
EXPLAIN (VERBOSE, COSTS OFF)
SELECT uuid FROM download_tasks ORDER BY created_time DESC NULLS LAST;
EXPLAIN (VERBOSE, COSTS OFF)
SELECT uuid FROM download_tasks ORDER BY written_rows;
-- several sort keys: the first is pushed, an incremental sort does the rest
EXPLAIN (VERBOSE, COSTS OFF)
SELECT uuid FROM download_tasks ORDER BY created_time DESC, uuid;
\! python3 test/bls_emulator.py ctl log-clear
SELECT array_agg(uuid ORDER BY n) = (SELECT array_agg(uuid ORDER BY created_time DESC, uuid) FROM local_tasks) AS same_order
FROM (SELECT uuid, row_number() OVER () AS n
      FROM (SELECT uuid FROM download_tasks ORDER BY created_time DESC, uuid) o) s;
\! python3 test/bls_emulator.py ctl count
-- several request sequences are not one order: a local Sort
EXPLAIN (VERBOSE, COSTS OFF)
SELECT uuid FROM download_tasks WHERE project IN ('default', 'staging') ORDER BY created_time DESC;
-- name sorts by bytes, which only the "C" collation matches
EXPLAIN (VERBOSE, COSTS OFF)
SELECT name FROM download_tasks ORDER BY name COLLATE "C";
EXPLAIN (VERBOSE, COSTS OFF)
SELECT name FROM download_tasks ORDER BY name COLLATE "und-x-icu";
SELECT array_agg(name ORDER BY n) = (SELECT array_agg(name ORDER BY name COLLATE "C") FROM local_tasks) AS same_order
FROM (SELECT name, row_number() OVER () AS n
      FROM (SELECT name FROM download_tasks ORDER BY name COLLATE "C") o) s;
SELECT array_agg(name ORDER BY n) = (SELECT array_agg(name ORDER BY name COLLATE "und-x-icu") FROM local_tasks) AS same_order
FROM (SELECT name, row_number() OVER () AS n
      FROM (SELECT name FROM download_tasks ORDER BY name COLLATE "und-x-icu") o) s;
-- under the database's default collation, whatever it is, the answer is PostgreSQL's
SELECT array_agg(name ORDER BY n) = (SELECT array_agg(name ORDER BY name) FROM local_tasks) AS same_order
FROM (SELECT name, row_number() OVER () AS n
      FROM (SELECT name FROM download_tasks ORDER BY name) o) s;

--
-- LIMIT and OFFSET
--
-- everything pushed exactly: the page is as large as the LIMIT
EXPLAIN (VERBOSE, COSTS OFF)
SELECT uuid FROM download_tasks WHERE project = 'default' ORDER BY created_time DESC LIMIT 5;
\! python3 test/bls_emulator.py ctl log-clear
SELECT array_agg(created_time ORDER BY n) = (SELECT array_agg(created_time) FROM (SELECT created_time FROM local_tasks WHERE project = 'default' ORDER BY created_time DESC LIMIT 5) l) AS same
FROM (SELECT created_time, row_number() OVER () AS n
      FROM (SELECT created_time FROM download_tasks WHERE project = 'default' ORDER BY created_time DESC LIMIT 5) o) s;
\! python3 test/bls_emulator.py ctl log
\! python3 test/bls_emulator.py ctl log-clear
SELECT count(*) FROM (SELECT uuid FROM download_tasks ORDER BY updated_time LIMIT 5 OFFSET 10) s;
SELECT count(*) FROM (SELECT uuid FROM download_tasks LIMIT 3) s;
\! python3 test/bls_emulator.py ctl log
-- a filter checked locally: the page keeps its size and the answer stays
-- right (a LIMIT pushed past a local filter gave wrong rows in Steampipe)
EXPLAIN (VERBOSE, COSTS OFF)
SELECT uuid FROM download_tasks WHERE state = 'FAILED' LIMIT 5;
\! python3 test/bls_emulator.py ctl log-clear
SELECT count(*), bool_and(state = 'FAILED') FROM (SELECT * FROM download_tasks WHERE state = 'FAILED' LIMIT 5) s;
SELECT count(*), bool_and(log_store_name LIKE '%nginx%')
FROM (SELECT * FROM download_tasks WHERE log_store_name LIKE '%nginx%' LIMIT 5) s;
\! python3 test/bls_emulator.py ctl log
-- an order sorted locally: every page is read
\! python3 test/bls_emulator.py ctl log-clear
SELECT array_agg(written_rows ORDER BY n) = (SELECT array_agg(written_rows) FROM (SELECT written_rows FROM local_tasks ORDER BY written_rows DESC LIMIT 3) l) AS same
FROM (SELECT written_rows, row_number() OVER () AS n
      FROM (SELECT written_rows FROM download_tasks ORDER BY written_rows DESC LIMIT 3) o) s;
\! python3 test/bls_emulator.py ctl count

--
-- Time bounds end paging at the first task past the bound (a time filter
-- that pulled every row was the bug of Steampipe's GCP logging table)
--
EXPLAIN (VERBOSE, COSTS OFF)
SELECT uuid FROM download_tasks WHERE created_time >= '2024-11-05 06:00:00+00';
\! python3 test/bls_emulator.py ctl log-clear
SELECT uuids($$SELECT uuid FROM download_tasks WHERE created_time >= '2024-11-05 06:00:00+00'$$) =
       uuids($$SELECT uuid FROM local_tasks WHERE created_time >= '2024-11-05 06:00:00+00'$$) AS same;
\! python3 test/bls_emulator.py ctl log
-- "the last hour", relative to the newest task, with an ORDER BY
\! python3 test/bls_emulator.py ctl log-clear
SELECT uuids($$SELECT uuid FROM download_tasks WHERE created_time > timestamptz '2024-11-05 08:00:00+00' - interval '1 hour' ORDER BY created_time DESC$$) =
       uuids($$SELECT uuid FROM local_tasks WHERE created_time > timestamptz '2024-11-05 08:00:00+00' - interval '1 hour'$$) AS same;
\! python3 test/bls_emulator.py ctl log
-- relative to now(): nothing in the data set is that recent; one request
\! python3 test/bls_emulator.py ctl log-clear
SELECT count(*) FROM download_tasks WHERE created_time >= now() - interval '1 hour';
\! python3 test/bls_emulator.py ctl log
-- BETWEEN, and an upper bound alone (oldest first)
EXPLAIN (VERBOSE, COSTS OFF)
SELECT uuid FROM download_tasks WHERE created_time BETWEEN '2024-11-05 06:00:00+00' AND '2024-11-05 07:00:00+00';
\! python3 test/bls_emulator.py ctl log-clear
SELECT uuids($$SELECT uuid FROM download_tasks WHERE created_time BETWEEN '2024-11-05 06:00:00+00' AND '2024-11-05 07:00:00+00'$$) =
       uuids($$SELECT uuid FROM local_tasks WHERE created_time BETWEEN '2024-11-05 06:00:00+00' AND '2024-11-05 07:00:00+00'$$) AS same;
\! python3 test/bls_emulator.py ctl count
SELECT min(created_time) AS oldest FROM local_tasks \gset
\! python3 test/bls_emulator.py ctl log-clear
SELECT uuids(format($$SELECT uuid FROM download_tasks WHERE created_time < %L::timestamptz + interval '1 hour'$$, :'oldest')) =
       uuids(format($$SELECT uuid FROM local_tasks WHERE created_time < %L::timestamptz + interval '1 hour'$$, :'oldest')) AS same;
\! python3 test/bls_emulator.py ctl log
-- updated_time, and a bound on each of several project sequences
\! python3 test/bls_emulator.py ctl log-clear
SELECT uuids($$SELECT uuid FROM download_tasks WHERE updated_time >= '2024-11-05 07:00:00+00' AND project IN ('default', 'prod-web')$$) =
       uuids($$SELECT uuid FROM local_tasks WHERE updated_time >= '2024-11-05 07:00:00+00' AND project IN ('default', 'prod-web')$$) AS same;
\! python3 test/bls_emulator.py ctl log
-- an ORDER BY the other way cannot stop early, but still answers right
\! python3 test/bls_emulator.py ctl log-clear
SELECT uuids($$SELECT uuid FROM download_tasks WHERE created_time >= '2024-11-05 06:00:00+00' ORDER BY created_time$$) =
       uuids($$SELECT uuid FROM local_tasks WHERE created_time >= '2024-11-05 06:00:00+00'$$) AS same;
\! python3 test/bls_emulator.py ctl count

--
-- Joins: parameterized scans for a few outer rows, one scan for many
--
CREATE TEMP TABLE few_projects (name text);
INSERT INTO few_projects VALUES ('default'), ('数据平台');
CREATE TEMP TABLE many_projects (name text);
INSERT INTO many_projects SELECT 'project-' || i FROM generate_series(1, 200) i;
INSERT INTO many_projects VALUES ('default'), ('prod-web'), ('staging');
ANALYZE few_projects, many_projects;
EXPLAIN (VERBOSE, COSTS OFF)
SELECT p.name, t.uuid FROM few_projects p JOIN download_tasks t ON t.project = p.name;
\! python3 test/bls_emulator.py ctl log-clear
SELECT uuids($$SELECT t.uuid FROM few_projects p JOIN download_tasks t ON t.project = p.name$$) =
       uuids($$SELECT t.uuid FROM few_projects p JOIN local_tasks t ON t.project = p.name$$) AS same;
\! python3 test/bls_emulator.py ctl log
EXPLAIN (COSTS OFF)
SELECT p.name, t.uuid FROM many_projects p JOIN download_tasks t ON t.project = p.name;
\! python3 test/bls_emulator.py ctl log-clear
SELECT uuids($$SELECT t.uuid FROM many_projects p JOIN download_tasks t ON t.project = p.name$$) =
       uuids($$SELECT t.uuid FROM many_projects p JOIN local_tasks t ON t.project = p.name$$) AS same;
\! python3 test/bls_emulator.py ctl count

-- a re-scan with new values fetches afresh (stale rows were the Supabase
-- Wrappers bug); a re-scan with the same values replays the rows
CREATE TEMP TABLE outer_rows (i int, name text);
INSERT INTO outer_rows VALUES (1, 'staging'), (2, 'staging'), (3, 'prod-web'), (4, 'staging'), (5, 'no-such');
ANALYZE outer_rows;
SET enable_hashjoin = off;
SET enable_mergejoin = off;
SET enable_material = off;
SET enable_memoize = off;
EXPLAIN (VERBOSE, COSTS OFF)
SELECT o.i, count(t.uuid) FROM outer_rows o LEFT JOIN download_tasks t ON t.project = o.name GROUP BY o.i ORDER BY o.i;
\! python3 test/bls_emulator.py ctl log-clear
SELECT o.i, o.name, count(t.uuid) AS fdw,
       (SELECT count(*) FROM local_tasks l WHERE l.project = o.name) AS local
FROM outer_rows o LEFT JOIN download_tasks t ON t.project = o.name
GROUP BY o.i, o.name ORDER BY o.i;
\! python3 test/bls_emulator.py ctl log
-- a LATERAL subquery with a LIMIT, re-scanned per outer row
\! python3 test/bls_emulator.py ctl log-clear
SELECT o.i, t.project, t.n
FROM outer_rows o, LATERAL (SELECT project, count(*) AS n FROM (SELECT project FROM download_tasks WHERE project = o.name LIMIT 3) x GROUP BY project) t
ORDER BY o.i;
\! python3 test/bls_emulator.py ctl log
RESET enable_hashjoin;
RESET enable_mergejoin;
RESET enable_material;
RESET enable_memoize;

--
-- Estimates
--
-- the configured default, and the service's own total
ALTER FOREIGN TABLE download_tasks OPTIONS (ADD estimated_rows '50000');
CREATE FUNCTION plan_rows(q text) RETURNS int LANGUAGE plpgsql AS $$
DECLARE j json;
BEGIN
  EXECUTE 'EXPLAIN (FORMAT JSON) ' || q INTO j;
  RETURN (j->0->'Plan'->>'Plan Rows')::int;
END $$;
SELECT plan_rows('SELECT * FROM download_tasks');
ALTER FOREIGN TABLE download_tasks OPTIONS (ADD use_remote_estimate 'true');
\! python3 test/bls_emulator.py ctl log-clear
SELECT plan_rows('SELECT * FROM download_tasks'), (SELECT count(*) FROM local_tasks);
SELECT plan_rows($$SELECT * FROM download_tasks WHERE project = 'prod-web'$$),
       (SELECT count(*) FROM local_tasks WHERE project = 'prod-web');
\! python3 test/bls_emulator.py ctl log
ALTER FOREIGN TABLE download_tasks OPTIONS (DROP estimated_rows, DROP use_remote_estimate);

-- EXPLAIN ANALYZE counts pages, requests, retries and rows
\! python3 test/bls_emulator.py ctl fault '{"type": "http", "status": 503}'
\set ECHO none
\i sql/include/explain_analyze.sql
\set ECHO all
SELECT explain_analyze($$EXPLAIN (ANALYZE, COSTS OFF, TIMING OFF, SUMMARY OFF, BUFFERS OFF)
SELECT count(*) FROM download_tasks WHERE project IN ('staging', 'analytics')$$) AS "QUERY PLAN";

DROP FUNCTION uuids(text), plan_rows(text);
DROP COLLATION ci;
DROP SERVER emu CASCADE;
