--
-- The catalog: projects (ListProject) and log_stores (ListLogStore) as
-- foreign tables on the same server and mapping as download_tasks, chosen
-- by the table option "resource".  Every answer is compared with a local
-- copy of the whole table: a pushed condition never changes it.
--
\getenv emulator_url BLS_EMULATOR_URL
\set VERBOSITY terse
\! python3 test/bls_emulator.py ctl reset

CREATE SERVER emu FOREIGN DATA WRAPPER bls_fdw OPTIONS (endpoint :'emulator_url');
CREATE USER MAPPING FOR CURRENT_USER SERVER emu
  OPTIONS (access_key_id 'emulator-ak', secret_access_key 'emulator-sk');

-- IMPORT FOREIGN SCHEMA creates the three tables, with LIMIT TO and EXCEPT
CREATE SCHEMA imp_limit;
IMPORT FOREIGN SCHEMA bls LIMIT TO (projects, log_stores) FROM SERVER emu INTO imp_limit;
CREATE SCHEMA imp_except;
IMPORT FOREIGN SCHEMA bls EXCEPT (projects) FROM SERVER emu INTO imp_except;
SELECT foreign_table_schema, foreign_table_name
FROM information_schema.foreign_tables
WHERE foreign_table_schema LIKE 'imp%' ORDER BY 1, 2;
DROP SCHEMA imp_limit, imp_except CASCADE;
IMPORT FOREIGN SCHEMA bls FROM SERVER emu INTO public;
\d projects
\d log_stores

-- an unknown resource is refused when the table is created or altered
CREATE FOREIGN TABLE bad (x text) SERVER emu OPTIONS (resource 'logs');
ALTER FOREIGN TABLE projects OPTIONS (SET resource 'project');
-- a column the resource does not have is refused when it is planned; the
-- column option "key" reads any field
CREATE FOREIGN TABLE bad_cols (uuid text, retention int) SERVER emu OPTIONS (resource 'projects');
SELECT * FROM bad_cols;
\echo :LAST_ERROR_SQLSTATE
ALTER FOREIGN TABLE bad_cols ALTER COLUMN retention OPTIONS (ADD key 'retention');
SELECT count(*), count(retention) FROM bad_cols;
DROP FOREIGN TABLE bad_cols;

CREATE TABLE local_projects AS SELECT * FROM projects;
CREATE TABLE local_stores AS SELECT * FROM log_stores;

-- every project once, the default one marked once
SELECT count(*), count(DISTINCT uuid), count(*) FILTER (WHERE is_default) AS defaults,
       min(name) FILTER (WHERE is_default) AS default_name
FROM projects;
SELECT name, top, log_store_count, created_time, is_default
FROM projects ORDER BY name COLLATE "C";
-- log stores: every one once, with their tags as jsonb
SELECT count(*), count(DISTINCT (project, log_store_name)) FROM log_stores;
SELECT project, log_store_name, retention, shard_count, enable_hot_retention,
       hot_retention, tags
FROM log_stores WHERE tags IS NOT NULL ORDER BY 1, 2 LIMIT 5;
-- every project and log store that download tasks name exists, but one
SELECT DISTINCT t.project, t.log_store_name
FROM download_tasks t
WHERE NOT EXISTS (SELECT FROM log_stores s
                  WHERE s.project = t.project AND s.log_store_name = t.log_store_name);
SELECT count(*) AS tasks_without_project FROM download_tasks t
WHERE NOT EXISTS (SELECT FROM projects p WHERE p.name = t.project);

-- uuids(q): the sorted uuids (or names) q returns, to compare answers
CREATE FUNCTION ids(q text) RETURNS text[] LANGUAGE plpgsql AS $$
DECLARE r text[];
BEGIN
  EXECUTE 'SELECT coalesce(array_agg(x ORDER BY x), ''{}'') FROM (' || q || ') s(x)' INTO r;
  RETURN r;
END $$;

--
-- projects: what the request carries
--
EXPLAIN (VERBOSE, COSTS OFF) SELECT name FROM projects WHERE name = 'analytics';
\! python3 test/bls_emulator.py ctl log-clear
SELECT ids($$SELECT name FROM projects WHERE name = 'analytics'$$) =
       ids($$SELECT name FROM local_projects WHERE name = 'analytics'$$) AS same;
\! python3 test/bls_emulator.py ctl requests
EXPLAIN (VERBOSE, COSTS OFF)
SELECT name FROM projects WHERE name LIKE '%a%' AND description ILIKE '%DATA%';
\! python3 test/bls_emulator.py ctl log-clear
SELECT ids($$SELECT name FROM projects WHERE name LIKE '%a%' AND description ILIKE '%DATA%'$$) =
       ids($$SELECT name FROM local_projects WHERE name LIKE '%a%' AND description ILIKE '%DATA%'$$) AS same;
\! python3 test/bls_emulator.py ctl requests
-- the keyword is a superset: a LIKE that needs more than its core is rechecked
SELECT ids($$SELECT name FROM projects WHERE name LIKE 'a%s'$$) =
       ids($$SELECT name FROM local_projects WHERE name LIKE 'a%s'$$) AS same;

-- ORDER BY the service's sort keys, with no Sort node
EXPLAIN (VERBOSE, COSTS OFF) SELECT name FROM projects ORDER BY created_time;
EXPLAIN (VERBOSE, COSTS OFF) SELECT name FROM projects ORDER BY updated_time DESC;
EXPLAIN (VERBOSE, COSTS OFF) SELECT name FROM projects ORDER BY name COLLATE "C";
-- and under another collation, a local Sort
EXPLAIN (COSTS OFF) SELECT name FROM projects ORDER BY name COLLATE "en-x-icu";
-- (ties in time may come in any order: compare the times)
SELECT array_agg(created_time) = (SELECT array_agg(created_time ORDER BY created_time) FROM local_projects) AS same
FROM (SELECT created_time FROM projects ORDER BY created_time) s;
SELECT array_agg(name) = (SELECT array_agg(name ORDER BY name COLLATE "C") FROM local_projects) AS same
FROM (SELECT name FROM projects ORDER BY name COLLATE "C") s;
-- a LIMIT over everything pushed shrinks the page
\! python3 test/bls_emulator.py ctl log-clear
SELECT name FROM projects ORDER BY name COLLATE "C" LIMIT 3;
\! python3 test/bls_emulator.py ctl requests
-- small pages: every project once, across pages
CREATE FOREIGN TABLE projects_small (uuid text, name text, is_default boolean)
  SERVER emu OPTIONS (resource 'projects', page_size '3');
SELECT count(*), count(DISTINCT uuid), count(*) FILTER (WHERE is_default) FROM projects_small;
-- the older SDKs' spelling of the total
\! python3 test/bls_emulator.py ctl config '{"project_total_key": "totalCount"}'
SELECT count(*), count(DISTINCT uuid) FROM projects_small;
\! python3 test/bls_emulator.py ctl reset

--
-- log_stores: project is sent and rechecked, log_store_name is a keyword
--
EXPLAIN (VERBOSE, COSTS OFF)
SELECT log_store_name FROM log_stores WHERE project = 'default' AND log_store_name LIKE '%nginx%';
\! python3 test/bls_emulator.py ctl log-clear
SELECT ids($$SELECT log_store_name FROM log_stores WHERE project = 'default' AND log_store_name LIKE '%nginx%'$$) =
       ids($$SELECT log_store_name FROM local_stores WHERE project = 'default' AND log_store_name LIKE '%nginx%'$$) AS same;
\! python3 test/bls_emulator.py ctl requests
-- a Chinese project name and an IN list: one sequence per value
\! python3 test/bls_emulator.py ctl log-clear
SELECT ids($$SELECT project || '/' || log_store_name FROM log_stores WHERE project IN ('数据平台', 'staging')$$) =
       ids($$SELECT project || '/' || log_store_name FROM local_stores WHERE project IN ('数据平台', 'staging')$$) AS same;
\! python3 test/bls_emulator.py ctl requests
EXPLAIN (VERBOSE, COSTS OFF)
SELECT log_store_name FROM log_stores WHERE project = 'analytics' ORDER BY log_store_name COLLATE "C";
SELECT array_agg(log_store_name) = (SELECT array_agg(log_store_name ORDER BY log_store_name COLLATE "C")
                                    FROM local_stores WHERE project = 'analytics') AS same
FROM (SELECT log_store_name FROM log_stores WHERE project = 'analytics' ORDER BY log_store_name COLLATE "C") s;
EXPLAIN (VERBOSE, COSTS OFF) SELECT log_store_name FROM log_stores ORDER BY updated_time;
SELECT array_agg(created_time) = (SELECT array_agg(created_time ORDER BY created_time DESC)
                                  FROM local_stores) AS same
FROM (SELECT created_time FROM log_stores ORDER BY created_time DESC) s;
-- a time bound ends the scan in the service's order (newest first)
EXPLAIN (VERBOSE, COSTS OFF)
SELECT log_store_name FROM log_stores WHERE created_time >= '2024-01-01';
SELECT ids($$SELECT project || '/' || log_store_name FROM log_stores WHERE created_time >= '2024-01-01'$$) =
       ids($$SELECT project || '/' || log_store_name FROM local_stores WHERE created_time >= '2024-01-01'$$) AS same;

-- a join on the project: one ListLogStore sequence per project of a small
-- outer side (a parameterized scan), not a full scan per row
CREATE TABLE wanted (name text);
INSERT INTO wanted VALUES ('default'), ('analytics'), ('default');
ANALYZE wanted;
EXPLAIN (COSTS OFF)
SELECT w.name, s.log_store_name FROM wanted w JOIN log_stores s ON s.project = w.name;
\! python3 test/bls_emulator.py ctl log-clear
SELECT ids($$SELECT w.name || '/' || s.log_store_name FROM wanted w JOIN log_stores s ON s.project = w.name$$) =
       ids($$SELECT w.name || '/' || s.log_store_name FROM wanted w JOIN local_stores s ON s.project = w.name$$) AS same;
\! python3 test/bls_emulator.py ctl requests
-- projects joined with their log stores: the same
SELECT ids($$SELECT p.name || '/' || s.log_store_name FROM projects p JOIN log_stores s ON s.project = p.name$$) =
       ids($$SELECT p.name || '/' || s.log_store_name FROM local_projects p JOIN local_stores s ON s.project = p.name$$) AS same;
-- the projects without a log store
SELECT p.name FROM projects p WHERE NOT EXISTS (SELECT FROM log_stores s WHERE s.project = p.name)
ORDER BY 1;

-- the README's report: log stores with no successful download in the 7
-- days before the newest task, per project and owner; the three foreign
-- tables and a local one give what local copies of them give
CREATE TABLE project_owners (project text PRIMARY KEY, owner text);
INSERT INTO project_owners VALUES ('default', 'ops'), ('analytics', 'data'), ('数据平台', 'data');
CREATE TABLE local_tasks AS SELECT * FROM download_tasks;
SELECT max(created_time) AS as_of FROM local_tasks \gset
CREATE FUNCTION stale_stores(tasks regclass, stores regclass, projs regclass, as_of timestamptz)
RETURNS TABLE (owner text, project text, log_store_name text, last_success timestamptz)
LANGUAGE plpgsql AS $$
BEGIN
  RETURN QUERY EXECUTE format($q$
    SELECT o.owner, s.project, s.log_store_name, max(t.created_time)
    FROM %2$s s
    JOIN %3$s p ON p.name = s.project
    LEFT JOIN project_owners o ON o.project = s.project
    LEFT JOIN %1$s t ON t.project = s.project
         AND t.log_store_name = s.log_store_name AND t.state = 'SUCCESS'
    GROUP BY o.owner, s.project, s.log_store_name
    HAVING max(t.created_time) IS NULL OR max(t.created_time) < $1 - interval '7 days'
  $q$, tasks, stores, projs) USING as_of;
END $$;
SELECT count(*) AS stale,
       count(*) = (SELECT count(*) FROM (
         SELECT * FROM stale_stores('download_tasks', 'log_stores', 'projects', :'as_of')
         INTERSECT ALL
         SELECT * FROM stale_stores('local_tasks', 'local_stores', 'local_projects', :'as_of')) x) AS same
FROM stale_stores('local_tasks', 'local_stores', 'local_projects', :'as_of');
SELECT * FROM stale_stores('download_tasks', 'log_stores', 'projects', :'as_of')
ORDER BY owner NULLS LAST, project, log_store_name LIMIT 8;
DROP FUNCTION stale_stores(regclass, regclass, regclass, timestamptz);
DROP TABLE project_owners, local_tasks;

-- counters, ANALYZE
SELECT requests > 0 AS counted FROM bls_fdw_stats() WHERE server_name = 'emu';
ANALYZE projects;
ANALYZE log_stores;
SELECT relname, reltuples FROM pg_class WHERE relname IN ('projects', 'log_stores') ORDER BY 1;
SELECT attname, n_distinct FROM pg_stats WHERE tablename = 'log_stores' AND attname = 'project';

--
-- faults: a clear error with the right SQLSTATE, never a wrong answer
--
\! python3 test/bls_emulator.py ctl fault '{"type": "http", "status": 503, "call": "ListProject"}'
SELECT count(*) FROM projects;
\! python3 test/bls_emulator.py ctl fault '{"type": "http", "status": 403, "code": "AccessDenied", "call": "ListLogStore"}'
SELECT count(*) FROM log_stores;
\echo :LAST_ERROR_SQLSTATE
\! python3 test/bls_emulator.py ctl fault '{"type": "malformed", "call": "ListLogStore"}'
SELECT count(*) FROM log_stores;
\echo :LAST_ERROR_SQLSTATE
\! python3 test/bls_emulator.py ctl fault '{"type": "truncated", "call": "ListProject"}'
SELECT count(*) FROM projects;
\echo :LAST_ERROR_SQLSTATE
\! python3 test/bls_emulator.py ctl fault '{"type": "success_false", "call": "ListProject"}'
SELECT count(*) FROM projects;
\echo :LAST_ERROR_SQLSTATE
\! python3 test/bls_emulator.py ctl fault '{"type": "wrong_type", "call": "ListLogStore"}'
SELECT count(retention) FROM log_stores;
\echo :LAST_ERROR_SQLSTATE
\! python3 test/bls_emulator.py ctl fault '{"type": "missing_tasks", "call": "ListProject"}'
SELECT count(*) FROM projects;
\echo :LAST_ERROR_SQLSTATE
\! python3 test/bls_emulator.py ctl fault '{"type": "total", "value": -3, "call": "ListLogStore"}'
SELECT count(*) FROM log_stores;
\echo :LAST_ERROR_SQLSTATE
\! python3 test/bls_emulator.py ctl fault '{"type": "task_not_object", "call": "ListProject"}'
SELECT count(*) FROM projects;
\echo :LAST_ERROR_SQLSTATE
\! python3 test/bls_emulator.py ctl fault '{"type": "invalid_utf8", "call": "ListLogStore"}'
SELECT count(log_store_name) FROM log_stores;
\echo :LAST_ERROR_SQLSTATE
-- throttling is waited for and retried; a timeout is an error
\! python3 test/bls_emulator.py ctl fault '{"type": "http", "status": 429, "retry_after": "0", "call": "ListLogStore"}'
SELECT count(*) FROM log_stores;
ALTER SERVER emu OPTIONS (ADD request_timeout_ms '500', ADD max_retries '0');
\! python3 test/bls_emulator.py ctl fault '{"type": "delay_headers", "ms": 3000, "call": "ListProject"}'
SELECT count(*) FROM projects;
\echo :LAST_ERROR_SQLSTATE
ALTER SERVER emu OPTIONS (DROP request_timeout_ms, DROP max_retries);
-- a cancel while waiting on ListLogStore
\! python3 test/bls_emulator.py ctl fault '{"type": "delay_headers", "ms": 20000, "call": "ListLogStore"}'
SET statement_timeout = '500ms';
SELECT count(*) FROM log_stores;
\echo :LAST_ERROR_SQLSTATE
RESET statement_timeout;
-- the requests of a failed scan are counted as errors
SELECT errors > 0 AS errors_counted FROM bls_fdw_stats() WHERE server_name = 'emu';
\! python3 test/bls_emulator.py ctl reset
SELECT count(*) FROM projects;
SELECT count(*) FROM log_stores;

DROP FUNCTION ids(text);
DROP TABLE local_projects, local_stores, wanted;
DROP SERVER emu CASCADE;
