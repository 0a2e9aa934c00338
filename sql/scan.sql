--
-- Scans: paging, laziness, column mapping, connection reuse
--
\getenv emulator_url BLS_EMULATOR_URL
\set VERBOSITY default
\! python3 test/bls_emulator.py ctl reset

-- one page at a time, so that the request log reads in order (sql/readahead.sql
-- covers reading ahead)
CREATE SERVER emu FOREIGN DATA WRAPPER bls_fdw OPTIONS (endpoint :'emulator_url', readahead '0');
CREATE USER MAPPING FOR CURRENT_USER SERVER emu
  OPTIONS (access_key_id 'emulator-ak', secret_access_key 'emulator-sk');
IMPORT FOREIGN SCHEMA bls FROM SERVER emu INTO public;

-- The emulator's data set, loaded into a local table to compare answers.
CREATE TEMP TABLE expected_tasks (t jsonb);
\! python3 test/bls_emulator.py ctl tasks > /tmp/bls_fdw_expected_tasks.jsonl
-- CSV with quote and delimiter bytes that JSON never contains, so that the
-- lines arrive verbatim
\copy expected_tasks FROM '/tmp/bls_fdw_expected_tasks.jsonl' WITH (FORMAT csv, QUOTE e'\x01', DELIMITER e'\x02')
\! rm -f /tmp/bls_fdw_expected_tasks.jsonl
SELECT count(*) FROM expected_tasks;

-- a full scan pages through every task exactly once: 1000 tasks, pages of
-- 100, ten requests and no eleventh for an empty page
\! python3 test/bls_emulator.py ctl log-clear
SELECT count(*), count(DISTINCT uuid) FROM download_tasks;
\! python3 test/bls_emulator.py ctl log

-- every row and every column equals the service's data
SELECT count(*) AS mismatches
FROM download_tasks d FULL JOIN expected_tasks e ON d.uuid = e.t->>'uuid'
WHERE d.uuid IS NULL OR e.t IS NULL
   OR d.name IS DISTINCT FROM e.t->>'name'
   OR d.project IS DISTINCT FROM e.t->>'project'
   OR d.log_store_name IS DISTINCT FROM e.t->>'logStoreName'
   OR d.log_stream_name IS DISTINCT FROM e.t->>'logStreamName'
   OR d.query IS DISTINCT FROM e.t->>'query'
   OR d.query_start_time IS DISTINCT FROM (e.t->>'queryStartTime')::timestamptz
   OR d.query_end_time IS DISTINCT FROM (e.t->>'queryEndTime')::timestamptz
   OR d.format IS DISTINCT FROM e.t->>'format'
   OR d."limit" IS DISTINCT FROM (e.t->>'limit')::bigint
   OR d."order" IS DISTINCT FROM e.t->>'order'
   OR d.state IS DISTINCT FROM e.t->>'state'
   OR d.failed_code IS DISTINCT FROM e.t->>'failedCode'
   OR d.failed_message IS DISTINCT FROM e.t->>'failedMessage'
   OR d.written_rows IS DISTINCT FROM (e.t->>'writtenRows')::bigint
   OR d.file_dir IS DISTINCT FROM e.t->>'fileDir'
   OR d.file_name IS DISTINCT FROM e.t->>'fileName'
   OR d.exec_start_time IS DISTINCT FROM nullif(e.t->>'execStartTime', '')::timestamptz
   OR d.exec_end_time IS DISTINCT FROM nullif(e.t->>'execEndTime', '')::timestamptz
   OR d.created_time IS DISTINCT FROM (e.t->>'createdTime')::timestamptz
   OR d.updated_time IS DISTINCT FROM (e.t->>'updatedTime')::timestamptz;

-- rows arrive in the service's default order (createdTime desc)
SELECT bool_and(ok) AS in_service_order FROM (
  SELECT created_time <= lag(created_time) OVER () OR lag(created_time) OVER () IS NULL AS ok
  FROM download_tasks) s;

-- the states the data set covers, and empty times read as NULL
SELECT state, count(*), count(exec_start_time) AS started, count(exec_end_time) AS ended
FROM download_tasks GROUP BY state ORDER BY state;

-- non-ASCII text survives the round trip
SELECT count(*) > 0 AS has_non_ascii FROM download_tasks WHERE name ~ '[^\x01-\x7f]';
SELECT project FROM download_tasks GROUP BY project ORDER BY project COLLATE "C";

-- LIMIT stops paging: one request, of the rows needed, for the first rows
-- (fetching every page before the first row was the bug of Supabase's Stripe
-- wrapper and clickhouse_fdw)
\! python3 test/bls_emulator.py ctl log-clear
SELECT uuid = (SELECT t->>'uuid' FROM expected_tasks LIMIT 1) AS first_is_newest
FROM download_tasks LIMIT 1;
SELECT count(*) FROM (SELECT * FROM download_tasks LIMIT 5) s;
\! python3 test/bls_emulator.py ctl log
-- EXISTS stops at the first row
\! python3 test/bls_emulator.py ctl log-clear
SELECT EXISTS (SELECT 1 FROM download_tasks WHERE state = 'FAILED');
\! python3 test/bls_emulator.py ctl log
-- a LIMIT past the first page reads only the pages it needs
\! python3 test/bls_emulator.py ctl log-clear
SELECT count(*) FROM (SELECT * FROM download_tasks LIMIT 250) s;
\! python3 test/bls_emulator.py ctl log

-- a short page ends the scan: 1000 tasks in pages of 300 is four requests
ALTER FOREIGN TABLE download_tasks OPTIONS (ADD page_size '300');
\! python3 test/bls_emulator.py ctl log-clear
SELECT count(*) FROM download_tasks;
\! python3 test/bls_emulator.py ctl log

-- the service may serve fewer tasks than asked; its pageSize is used
\! python3 test/bls_emulator.py ctl config '{"max_page_size": 400}'
ALTER FOREIGN TABLE download_tasks OPTIONS (SET page_size '1000');
\! python3 test/bls_emulator.py ctl log-clear
SELECT count(*), count(DISTINCT uuid) FROM download_tasks;
\! python3 test/bls_emulator.py ctl log
\! python3 test/bls_emulator.py ctl reset
ALTER FOREIGN TABLE download_tasks OPTIONS (DROP page_size);

-- a total larger than the real count: the tenth page is full, so an
-- eleventh is asked for, and its emptiness ends the scan
\! python3 test/bls_emulator.py ctl fault '{"type": "total", "value": 5000, "count": 20}'
\! python3 test/bls_emulator.py ctl log-clear
SELECT count(*) FROM download_tasks;
\! python3 test/bls_emulator.py ctl count
\! python3 test/bls_emulator.py ctl reset

-- tasks inserted at the head between two page requests shift older tasks
-- onto the next page; none is returned twice
\! python3 test/bls_emulator.py ctl fault '{"type": "insert_head", "n": 7, "page": 2}'
SELECT count(*), count(DISTINCT uuid) FROM download_tasks;
\! python3 test/bls_emulator.py ctl reset

-- hand-written tables: any subset of columns, any order, the key option;
-- a key that no task has reads as NULL (a field the service may add later)
CREATE FOREIGN TABLE tasks_subset (
  state text,
  id text OPTIONS (key 'uuid'),
  rows_written bigint OPTIONS (key 'writtenRows'),
  no_such_field text OPTIONS (key 'noSuchField'),
  created_time timestamptz
) SERVER emu OPTIONS (page_size '1000');
SELECT count(*), count(no_such_field), sum(rows_written) =
  (SELECT sum((t->>'writtenRows')::bigint) FROM expected_tasks) AS sums_match
FROM tasks_subset;
-- a column whose name is no field, without the key option, is refused
CREATE FOREIGN TABLE tasks_typo (uuid text, stat text) SERVER emu;
SELECT * FROM tasks_typo;
DROP FOREIGN TABLE tasks_typo;
SELECT s.id = e.t->>'uuid' AS same_first
FROM (SELECT id FROM tasks_subset LIMIT 1) s, (SELECT t FROM expected_tasks LIMIT 1) e;

-- whole-row references fetch every column
SELECT count(*) FROM (SELECT d FROM download_tasks d WHERE d::text LIKE '%FAILED%') s;

-- a join with a local table
CREATE TEMP TABLE owners (project text, owner text);
INSERT INTO owners VALUES ('default', 'alice'), ('prod-web', 'bob'), ('数据平台', '王伟');
SELECT o.owner, count(*) FILTER (WHERE t.state = 'FAILED') AS failed
FROM owners o JOIN download_tasks t ON t.project = o.project
GROUP BY o.owner ORDER BY o.owner;
SELECT o.owner, count(*) AS failed
FROM owners o JOIN download_tasks t ON t.project = o.project
WHERE t.state = 'FAILED' GROUP BY o.owner
EXCEPT
SELECT o.owner, count(*)
FROM owners o JOIN expected_tasks e ON e.t->>'project' = o.project
WHERE e.t->>'state' = 'FAILED' GROUP BY o.owner;

-- a re-scan (a correlated subquery run per outer row) lists afresh
\! python3 test/bls_emulator.py ctl log-clear
SELECT v.i, (SELECT count(*) FROM tasks_subset t WHERE t.rows_written % 2 = v.i - 1) =
            (SELECT count(*) FROM expected_tasks e WHERE (e.t->>'writtenRows')::bigint % 2 = v.i - 1) AS right_count
FROM (VALUES (1), (2)) v(i);
\! python3 test/bls_emulator.py ctl count

-- one keep-alive connection carried every request above
\! python3 test/bls_emulator.py ctl connections

-- STS credentials: the session token is sent and signed
CREATE SERVER emu_sts FOREIGN DATA WRAPPER bls_fdw OPTIONS (endpoint :'emulator_url');
CREATE USER MAPPING FOR CURRENT_USER SERVER emu_sts
  OPTIONS (access_key_id 'emulator-sts-ak', secret_access_key 'emulator-sts-sk',
           security_token 'emulator-sts-token');
CREATE FOREIGN TABLE sts_tasks (uuid text) SERVER emu_sts;
SELECT count(*) FROM sts_tasks;
ALTER USER MAPPING FOR CURRENT_USER SERVER emu_sts OPTIONS (SET security_token 'wrong-token');
SELECT count(*) FROM sts_tasks;

DROP SERVER emu, emu_sts CASCADE;
