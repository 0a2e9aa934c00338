-- bls_fdw demo: query BLS download tasks, projects, log stores and the log
-- records themselves with SQL.
-- scripts/demo.sh runs this against the emulator; the endpoint comes from
-- the environment.
\getenv endpoint BLS_EMULATOR_URL
\pset pager off

CREATE EXTENSION bls_fdw;
CREATE SERVER bls_bj FOREIGN DATA WRAPPER bls_fdw OPTIONS (endpoint :'endpoint');
CREATE USER MAPPING FOR CURRENT_USER SERVER bls_bj
  OPTIONS (access_key_id 'emulator-ak', secret_access_key 'emulator-sk');
IMPORT FOREIGN SCHEMA bls FROM SERVER bls_bj INTO public;

-- the newest tasks of one project
SELECT name, state, written_rows, created_time
FROM download_tasks WHERE project = 'default'
ORDER BY created_time DESC LIMIT 10;

-- task health per project and state
SELECT project, state, count(*) AS tasks, sum(written_rows) AS rows_written
FROM download_tasks GROUP BY project, state ORDER BY project, state;

-- why tasks failed
SELECT failed_code, count(*), min(failed_message) AS example
FROM download_tasks WHERE state = 'FAILED' GROUP BY failed_code ORDER BY count(*) DESC;

-- join with a table of your own
CREATE TEMP TABLE project_owners (project text PRIMARY KEY, owner text);
INSERT INTO project_owners VALUES
  ('default', 'alice'), ('prod-web', 'bob'), ('analytics', 'carol'), ('数据平台', '王伟');
SELECT o.owner, count(*) AS failed_tasks, max(t.created_time) AS last_failure
FROM download_tasks t JOIN project_owners o USING (project)
WHERE t.state = 'FAILED' GROUP BY o.owner ORDER BY failed_tasks DESC;

-- the catalog: log stores with no successful download in the 7 days before
-- the newest task (the emulator's data is from November 2024), per project
-- and owner: three foreign tables and a local one
SELECT max(created_time) AS as_of FROM download_tasks \gset
SELECT o.owner, s.project, s.log_store_name, s.retention,
       max(t.created_time) AS last_success
FROM log_stores s
JOIN projects p ON p.name = s.project
LEFT JOIN project_owners o ON o.project = s.project
LEFT JOIN download_tasks t ON t.project = s.project
     AND t.log_store_name = s.log_store_name AND t.state = 'SUCCESS'
GROUP BY o.owner, s.project, s.log_store_name, s.retention
HAVING max(t.created_time) IS NULL
    OR max(t.created_time) < :'as_of'::timestamptz - interval '7 days'
ORDER BY o.owner NULLS LAST, s.project, s.log_store_name;

-- create an export with INSERT, watch it finish, get its link, delete it
INSERT INTO download_tasks (name, project, log_store_name, query,
                            query_start_time, query_end_time, format)
VALUES ('demo-export', 'default', 'nginx-access', 'match status:500',
        '2024-11-05 00:00+00', '2024-11-06 00:00+00', 'csv')
RETURNING uuid AS demo_uuid, state \gset
SELECT set_config('demo.uuid', :'demo_uuid', false) \g /dev/null
DO $$
BEGIN
  FOR i IN 1..50 LOOP
    EXIT WHEN (SELECT state FROM download_tasks WHERE uuid = current_setting('demo.uuid'))
              IN ('SUCCESS', 'FAILED');
    PERFORM pg_sleep(0.2);
  END LOOP;
END $$;
SELECT name, state, written_rows, file_name FROM download_tasks WHERE uuid = :'demo_uuid';
SELECT * FROM bls_download_link('bls_bj', :'demo_uuid');
DELETE FROM download_tasks WHERE uuid = :'demo_uuid';

-- what the first query asked the service: one request for ten tasks
EXPLAIN (VERBOSE, COSTS OFF)
SELECT name, state, written_rows, created_time
FROM download_tasks WHERE project = 'default'
ORDER BY created_time DESC LIMIT 10;

-- tasks created in the hour before the newest one: the scan stops at the
-- first older task instead of reading the whole history
EXPLAIN (ANALYZE, COSTS OFF, TIMING OFF, SUMMARY OFF)
SELECT count(*) FROM download_tasks
WHERE created_time >= timestamptz '2024-11-05 08:00:00+00' - interval '1 hour';

-- what a full scan costs: pages requested side by side (read-ahead)
EXPLAIN (ANALYZE, COSTS OFF, TIMING OFF, SUMMARY OFF)
SELECT count(*) FROM download_tasks;

-- the log records themselves: the last hour's 5xx responses of a log store,
-- joined with a table of your own (the orders they were for)
CREATE TABLE orders (order_id text PRIMARY KEY, customer text, amount numeric);
INSERT INTO orders
SELECT DISTINCT ON (fields->>'order_id') fields->>'order_id',
       (ARRAY['acme', 'globex', 'initech'])[1 + seq % 3], (seq % 500) + 0.99
FROM log_records
WHERE project = 'prod-web' AND log_store_name = 'nginx-access'
  AND time >= now() - interval '1 hour' AND seq % 4 = 0;
SELECT o.customer, count(*) AS failed_requests, sum(o.amount) AS amount_at_risk,
       max(r.time) AS last_failure
FROM log_records r JOIN orders o ON o.order_id = r.fields->>'order_id'
WHERE r.project = 'prod-web' AND r.log_store_name = 'nginx-access'
  AND r.time >= now() - interval '1 hour'
  AND (r.fields->>'status')::int >= 500
GROUP BY o.customer ORDER BY failed_requests DESC;

-- the newest errors, searched by the service: ORDER BY and LIMIT are sent
EXPLAIN (VERBOSE, COSTS OFF)
SELECT time, message FROM log_records
WHERE log_store_name = 'nginx-access' AND query = 'status:500'
  AND time >= now() - interval '1 hour'
ORDER BY time DESC LIMIT 5;
SELECT time, log_stream_name, message FROM log_records
WHERE log_store_name = 'nginx-access' AND query = 'status:500'
  AND time >= now() - interval '1 hour'
ORDER BY time DESC LIMIT 5;

-- an analysis statement, through bls_log_query(): HTTP 500s per host in the
-- last hour
SELECT r->>'host' AS host, (r->>'count(*)')::bigint AS errors
FROM bls_log_query('bls_bj', 'nginx-access', 'match status:500 | select host, count(*) group by host',
                   now() - interval '1 hour', NULL, 'prod-web') r
ORDER BY errors DESC;

-- a day of records counted by BLS itself: every condition is sent and the
-- window has whole-second bounds, so count(*) ... GROUP BY is one analysis
-- request instead of a page per 1000 records
EXPLAIN (VERBOSE, COSTS OFF)
SELECT log_stream_name, count(*) FROM log_records
WHERE project = 'prod-web' AND log_store_name = 'nginx-access'
  AND time >= '2024-05-01' AND time < '2024-05-02'
GROUP BY log_stream_name;
SELECT log_stream_name, count(*) FROM log_records
WHERE project = 'prod-web' AND log_store_name = 'nginx-access'
  AND time >= '2024-05-01' AND time < '2024-05-02'
GROUP BY log_stream_name ORDER BY 1;

-- this session's counters
SELECT * FROM bls_fdw_stats();
