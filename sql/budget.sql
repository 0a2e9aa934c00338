--
-- The account-wide request budget: max_concurrent_requests requests in
-- flight at once across all backends for one endpoint and access key, and
-- the back-off every backend keeps after a 429.  Other backends are dblink
-- connections to this database.  The access key is the suite's own, so that
-- requests other suites abandoned (still running at the emulator) do not count.
--
\getenv emulator_url BLS_EMULATOR_URL
\set VERBOSITY default
\! python3 test/bls_emulator.py ctl reset
CREATE EXTENSION IF NOT EXISTS dblink;

-- the option: 0 (no budget) to 100, a server option only
CREATE SERVER emu FOREIGN DATA WRAPPER bls_fdw
  OPTIONS (endpoint :'emulator_url', max_concurrent_requests '-1');
CREATE SERVER emu FOREIGN DATA WRAPPER bls_fdw
  OPTIONS (endpoint :'emulator_url', max_concurrent_requests '101');
CREATE SERVER emu FOREIGN DATA WRAPPER bls_fdw
  OPTIONS (endpoint :'emulator_url', max_concurrent_requests 'two');
CREATE SERVER emu FOREIGN DATA WRAPPER bls_fdw
  OPTIONS (endpoint :'emulator_url', max_concurrent_requests '0');
ALTER SERVER emu OPTIONS (SET max_concurrent_requests '1');
CREATE USER MAPPING FOR CURRENT_USER SERVER emu
  OPTIONS (access_key_id 'emulator-budget-ak', secret_access_key 'emulator-budget-sk');
CREATE FOREIGN TABLE tasks (uuid text) SERVER emu OPTIONS (max_concurrent_requests '1');
CREATE FOREIGN TABLE tasks (uuid text) SERVER emu;

-- bls_fdw_stats() has the budget's columns
SELECT count(*) FROM tasks;
SELECT server_name, requests, slot_waits, backoff_waits, wait_ms
FROM bls_fdw_stats();
-- the slots are files under the data directory, in a directory named by a
-- SHA-256 of the endpoint and the access key id: neither the key id nor the
-- secret is in the names
SELECT bool_and(name ~ '^[0-9a-f]{32}$') AS hashed,
       bool_and(name NOT LIKE '%emulator%') AS no_key
FROM pg_ls_dir('pg_bls_fdw') AS name;
SELECT substr(encode(sha256(convert_to(:'emulator_url', 'UTF8') || '\x00'::bytea ||
                            convert_to('emulator-budget-ak', 'UTF8')), 'hex'), 1, 32) AS account \gset
SELECT count(*) FILTER (WHERE name = 'slot.0') AS slot0,
       array_agg(name ORDER BY name) FILTER (WHERE name NOT LIKE 'slot.%') AS others
FROM pg_ls_dir('pg_bls_fdw/' || :'account') AS name;

-- another backend holds the only slot (its answer takes 4 s): this one
-- waits, and statement_timeout ends the wait
SELECT format('dbname=%s port=%s host=%s', current_database(), current_setting('port'),
              trim(split_part(current_setting('unix_socket_directories'), ',', 1))) AS conninfo \gset
SELECT dblink_connect('other', :'conninfo');
\! python3 test/bls_emulator.py ctl fault '{"type": "delay_headers", "ms": 4000}'
SELECT dblink_send_query('other', 'SELECT count(*) FROM tasks');
DO $$
BEGIN
  FOR i IN 1..200 LOOP
    PERFORM 1 FROM pg_stat_activity
      WHERE query = 'SELECT count(*) FROM tasks' AND wait_event_type = 'Extension';
    EXIT WHEN FOUND;
    PERFORM pg_sleep(0.05);
    PERFORM pg_stat_clear_snapshot();  -- else the transaction sees one snapshot
  END LOOP;
END $$;
SELECT clock_timestamp() AS t0 \gset
SET statement_timeout = '500ms';
SELECT count(*) FROM tasks;
\echo :LAST_ERROR_SQLSTATE
RESET statement_timeout;
SELECT clock_timestamp() - :'t0' < interval '5 seconds' AS cancelled_promptly;
SELECT slot_waits, wait_ms >= 400 AS waited FROM bls_fdw_stats();
-- a third backend waiting for the slot shows the wait event
SELECT dblink_connect('third', :'conninfo');
SELECT dblink_send_query('third', 'SELECT count(*) /* third */ FROM tasks');
DO $$
BEGIN
  FOR i IN 1..200 LOOP
    PERFORM 1 FROM pg_stat_activity
      WHERE query LIKE '%/* third */%' AND query NOT LIKE '%pg_stat_activity%'
        AND wait_event_type = 'Extension';
    EXIT WHEN FOUND;
    PERFORM pg_sleep(0.05);
    PERFORM pg_stat_clear_snapshot();  -- else the transaction sees one snapshot
  END LOOP;
END $$;
-- (named on PostgreSQL 17 and later)
SELECT wait_event_type,
       wait_event = CASE WHEN current_setting('server_version_num')::int >= 170000
                         THEN 'BlsRequestBudget' ELSE 'Extension' END AS budget_wait_event
FROM pg_stat_activity
WHERE query LIKE '%/* third */%' AND query NOT LIKE '%pg_stat_activity%';
-- the slow answer comes: both other backends get theirs, one after the other
SELECT * FROM dblink_get_result('other') AS r(n bigint);
SELECT * FROM dblink_get_result('other') AS r(n bigint);
SELECT * FROM dblink_get_result('third') AS r(n bigint);
SELECT * FROM dblink_get_result('third') AS r(n bigint);
SELECT * FROM dblink('third', 'SELECT slot_waits > 0, wait_ms > 0 FROM bls_fdw_stats()')
  AS r(slot_waited bool, waited bool);
-- never more than one request in flight at the service
\! python3 test/bls_emulator.py ctl max-inflight-ak emulator-budget-ak

-- a 429 one backend meets holds back the others of the account: "other"
-- meets it (Retry-After: 7, no retries) and fails; this backend then waits
-- the whole 7 s before it sends (the service's answer holds for the account:
-- it was once cut to 5 s for the other backends)
\! python3 test/bls_emulator.py ctl reset
ALTER SERVER emu OPTIONS (SET max_concurrent_requests '15', ADD max_retries '0');
\! python3 test/bls_emulator.py ctl fault '{"type": "http", "status": 429, "retry_after": "7"}'
SELECT * FROM dblink('other', 'SELECT count(*) FROM tasks') AS r(n bigint);
SELECT clock_timestamp() AS t0 \gset
SELECT count(*) FROM tasks;
SELECT clock_timestamp() - :'t0' >= interval '6 seconds' AS held_back;
SELECT backoff_waits FROM bls_fdw_stats();
SELECT * FROM dblink('other', 'SELECT throttled FROM bls_fdw_stats()')
  AS r(throttled bigint);
-- without the 429 nobody waits
SELECT clock_timestamp() AS t0 \gset
SELECT count(*) FROM tasks;
SELECT clock_timestamp() - :'t0' < interval '1 second' AS not_held_back;
\! python3 test/bls_emulator.py ctl reset

-- no budget ('0'): no slot is taken
ALTER SERVER emu OPTIONS (SET max_concurrent_requests '0');
SELECT count(*) FROM tasks;

SELECT dblink_disconnect('other');
SELECT dblink_disconnect('third');
DROP SERVER emu CASCADE;
