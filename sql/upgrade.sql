--
-- Versioning: install 1.0, then ALTER EXTENSION bls_fdw UPDATE (1.1, 1.2, 1.3, 1.4)
--
\getenv emulator_url BLS_EMULATOR_URL
\set VERBOSITY default
\! python3 test/bls_emulator.py ctl reset

-- the test database has the default version; start over from 1.0
SELECT extversion FROM pg_extension WHERE extname = 'bls_fdw';
DROP EXTENSION bls_fdw;
CREATE EXTENSION bls_fdw VERSION '1.0';
SELECT extversion FROM pg_extension WHERE extname = 'bls_fdw';

-- 1.0 has none of 1.1's functions
SELECT proname FROM pg_proc WHERE proname LIKE 'bls_fdw%' ORDER BY proname;
SELECT bls_fdw_version();

-- a server, a mapping and a foreign table made under 1.0
CREATE SERVER emu FOREIGN DATA WRAPPER bls_fdw OPTIONS (endpoint :'emulator_url');
CREATE USER MAPPING FOR CURRENT_USER SERVER emu
  OPTIONS (access_key_id 'emulator-ak', secret_access_key 'emulator-sk');
CREATE FOREIGN TABLE tasks (uuid text, project text, state text) SERVER emu;
SELECT count(*) FROM tasks;

ALTER EXTENSION bls_fdw UPDATE;
SELECT extversion FROM pg_extension WHERE extname = 'bls_fdw';

-- the new functions exist, belong to the extension, and work
SELECT p.proname, pg_get_function_result(p.oid)
FROM pg_proc p JOIN pg_depend d ON d.objid = p.oid AND d.deptype = 'e'
JOIN pg_extension e ON e.oid = d.refobjid AND e.extname = 'bls_fdw'
ORDER BY p.proname;
SELECT bls_fdw_version();
SELECT bls_fdw_version() = (SELECT extversion FROM pg_extension
                            WHERE extname = 'bls_fdw') AS matches_extversion;

-- what existed before the update still works
SELECT count(*), count(DISTINCT project) FROM tasks;
SELECT srvname, srvoptions = ARRAY['endpoint=' || :'emulator_url'] AS same_options
FROM pg_foreign_server WHERE srvname = 'emu';

-- counters of this backend: each scan above read 10 pages of 100
SELECT server_name, pages, rows FROM bls_fdw_stats();
-- a new session starts with none
\c
SELECT count(*) FROM bls_fdw_stats();
SELECT count(*) FROM tasks WHERE state = 'FAILED' AND project IS NOT NULL;
SELECT server_name, pages, rows, requests >= 0 AS requests,
       bytes >= 0 AS bytes, retries >= 0 AS retries,
       throttled >= 0 AS throttled, errors >= 0 AS errors,
       time_ms >= 0 AS time_ms
FROM bls_fdw_stats();
-- a throttled request is waited for and retried; a refused one is an error
\c
\! python3 test/bls_emulator.py ctl fault '{"type": "http", "status": 429, "retry_after": 0}'
SELECT count(*) FROM tasks;
SELECT server_name, requests, pages, rows, bytes > 0 AS bytes, retries,
       throttled, errors, time_ms > 0 AS time_ms
FROM bls_fdw_stats();
\! python3 test/bls_emulator.py ctl fault '{"type": "http", "status": 403, "code": "AccessDenied"}'
\set VERBOSITY terse
SELECT count(*) FROM tasks;
\set VERBOSITY default
SELECT server_name, requests, pages, retries, throttled, errors
FROM bls_fdw_stats();
\! python3 test/bls_emulator.py ctl reset

-- a server dropped since is shown without a name
CREATE SERVER emu2 FOREIGN DATA WRAPPER bls_fdw OPTIONS (endpoint :'emulator_url');
CREATE USER MAPPING FOR CURRENT_USER SERVER emu2
  OPTIONS (access_key_id 'emulator-ak', secret_access_key 'emulator-sk');
CREATE FOREIGN TABLE tasks2 (uuid text) SERVER emu2 OPTIONS (page_size '1000');
SELECT count(*) FROM tasks2;
SELECT server_name, pages, rows FROM bls_fdw_stats() ORDER BY server_name;
DROP SERVER emu2 CASCADE;
SELECT server_name, pages, rows FROM bls_fdw_stats() ORDER BY server_name;

-- disconnecting closes the cached connection, once; a scan opens a new one
SELECT bls_fdw_disconnect();
SELECT bls_fdw_disconnect();
SELECT count(*) FROM tasks;
SELECT bls_fdw_disconnect();

-- 1.2's resource option, on the server made under 1.0
CREATE FOREIGN TABLE projects_after (name text) SERVER emu OPTIONS (resource 'projects');
SELECT count(*) > 0 AS has_projects FROM projects_after;
DROP FOREIGN TABLE projects_after;
-- 1.3's log_records, on_truncation and bls_log_query()
CREATE FOREIGN TABLE records_after (log_store_name text, "time" timestamptz)
  SERVER emu OPTIONS (resource 'log_records', on_truncation 'notice');
SELECT count(*) FROM records_after WHERE log_store_name = 'nginx-access'
  AND time >= '2024-05-01 00:00:00+00' AND time < '2024-05-01 00:00:10+00';
DROP FOREIGN TABLE records_after;
SELECT * FROM bls_log_query('emu', 'nginx-access', 'select count(*)',
                            '2024-05-01 00:00:00+00', '2024-05-01 00:00:10+00');
-- 1.4's max_concurrent_requests and the budget's columns of bls_fdw_stats()
ALTER SERVER emu OPTIONS (ADD max_concurrent_requests '2');
SELECT count(*) FROM tasks;
SELECT server_name, slot_waits, backoff_waits, wait_ms FROM bls_fdw_stats()
WHERE server_name = 'emu';
ALTER SERVER emu OPTIONS (DROP max_concurrent_requests);
SELECT obj_description(oid, 'pg_foreign_data_wrapper') FROM pg_foreign_data_wrapper
WHERE fdwname = 'bls_fdw';
-- the updated extension has what a fresh install of the default version has
CREATE TEMP TABLE updated AS
  SELECT pg_describe_object(classid, objid, objsubid) AS obj
  FROM pg_depend WHERE refobjid = (SELECT oid FROM pg_extension WHERE extname = 'bls_fdw')
    AND deptype = 'e';
DROP SERVER emu CASCADE;
DROP EXTENSION bls_fdw;
CREATE EXTENSION bls_fdw;
CREATE TEMP TABLE fresh AS
  SELECT pg_describe_object(classid, objid, objsubid) AS obj
  FROM pg_depend WHERE refobjid = (SELECT oid FROM pg_extension WHERE extname = 'bls_fdw')
    AND deptype = 'e';
(TABLE updated EXCEPT ALL TABLE fresh) UNION ALL (TABLE fresh EXCEPT ALL TABLE updated);
SELECT count(*) AS objects FROM fresh;

-- a database still at 1.3 with the 1.4 module loaded: bls_fdw_stats()
-- answers with 1.3's columns (the counters of this session's dropped server)
DROP EXTENSION bls_fdw;
CREATE EXTENSION bls_fdw VERSION '1.3';
SELECT server_name, pages > 0 AS pages FROM bls_fdw_stats() LIMIT 1;
SELECT pg_get_function_result('bls_fdw_stats'::regproc);
ALTER EXTENSION bls_fdw UPDATE;
SELECT server_name, pages > 0 AS pages, slot_waits FROM bls_fdw_stats() LIMIT 1;
