--
-- Cancels: statement_timeout and pg_cancel_backend during a request end the
-- query promptly with SQLSTATE 57014, and the session stays usable (an HTTP
-- call that could not be cancelled hung Steampipe and Multicorn backends)
--
\getenv emulator_url BLS_EMULATOR_URL
\set VERBOSITY default
\! python3 test/bls_emulator.py ctl reset

CREATE SERVER emu FOREIGN DATA WRAPPER bls_fdw
  OPTIONS (endpoint :'emulator_url', request_timeout_ms '60000');
CREATE USER MAPPING FOR CURRENT_USER SERVER emu
  OPTIONS (access_key_id 'emulator-ak', secret_access_key 'emulator-sk');
CREATE FOREIGN TABLE tasks (uuid text) SERVER emu;

-- waiting for headers that take 30 s: statement_timeout of 300 ms
\! python3 test/bls_emulator.py ctl fault '{"type": "delay_headers", "ms": 30000}'
SELECT clock_timestamp() AS t0 \gset
SET statement_timeout = '300ms';
SELECT count(*) FROM tasks;
\echo :LAST_ERROR_SQLSTATE
RESET statement_timeout;
SELECT clock_timestamp() - :'t0' < interval '5 seconds' AS cancelled_promptly;

-- in the middle of a slow body
\! python3 test/bls_emulator.py ctl fault '{"type": "delay_body", "ms": 30000}'
SELECT clock_timestamp() AS t0 \gset
SET statement_timeout = '300ms';
SELECT count(*) FROM tasks;
\echo :LAST_ERROR_SQLSTATE
RESET statement_timeout;
SELECT clock_timestamp() - :'t0' < interval '5 seconds' AS cancelled_promptly;

-- while sleeping before a retry (Retry-After: 30)
ALTER USER MAPPING FOR CURRENT_USER SERVER emu OPTIONS (SET access_key_id 'emulator-throttle-ak', SET secret_access_key 'emulator-throttle-sk');
\! python3 test/bls_emulator.py ctl fault '{"type": "http", "status": 429, "retry_after": "30"}'
SELECT clock_timestamp() AS t0 \gset
SET statement_timeout = '300ms';
SELECT count(*) FROM tasks;
\echo :LAST_ERROR_SQLSTATE
RESET statement_timeout;
SELECT clock_timestamp() - :'t0' < interval '5 seconds' AS cancelled_promptly;
ALTER USER MAPPING FOR CURRENT_USER SERVER emu OPTIONS (SET access_key_id 'emulator-ak', SET secret_access_key 'emulator-sk');

-- pg_cancel_backend from another session
\! python3 test/bls_emulator.py ctl fault '{"type": "delay_headers", "ms": 30000}'
\! test/cancel_when_active.sh cancel-me >/dev/null 2>&1 &
SELECT clock_timestamp() AS t0 \gset
SELECT count(*) /* cancel-me */ FROM tasks;
\echo :LAST_ERROR_SQLSTATE
SELECT clock_timestamp() - :'t0' < interval '5 seconds' AS cancelled_promptly;

-- while connecting: the TLS handshake with a listener that never answers
\getenv hang_url BLS_HANG_URL
CREATE SERVER hang FOREIGN DATA WRAPPER bls_fdw
  OPTIONS (endpoint :'hang_url', connect_timeout_ms '60000', max_retries '0');
CREATE USER MAPPING FOR CURRENT_USER SERVER hang
  OPTIONS (access_key_id 'emulator-ak', secret_access_key 'emulator-sk');
CREATE FOREIGN TABLE hang_tasks (uuid text) SERVER hang;
SELECT clock_timestamp() AS t0 \gset
SET statement_timeout = '300ms';
SELECT count(*) FROM hang_tasks;
\echo :LAST_ERROR_SQLSTATE
RESET statement_timeout;
SELECT clock_timestamp() - :'t0' < interval '5 seconds' AS cancelled_promptly;
\! test/cancel_when_active.sh cancel-me-too >/dev/null 2>&1 &
SELECT clock_timestamp() AS t0 \gset
SELECT count(*) /* cancel-me-too */ FROM hang_tasks;
\echo :LAST_ERROR_SQLSTATE
SELECT clock_timestamp() - :'t0' < interval '5 seconds' AS cancelled_promptly;
DROP SERVER hang CASCADE;

-- the session and its cached connection still work
\! python3 test/bls_emulator.py ctl reset
SELECT count(*) FROM tasks;

-- pg_terminate_backend ends a backend waiting on BLS (its wait event is
-- Extension) without a restart of the server
SELECT pg_postmaster_start_time() AS pm_start \gset
\! python3 test/bls_emulator.py ctl fault '{"type": "delay_headers", "ms": 30000}'
\! psql -X -q -d contrib_regression -c "SELECT count(*) /* terminate-me */ FROM tasks" >/dev/null 2>&1 &
DO $$
BEGIN
  FOR i IN 1..100 LOOP
    PERFORM pg_stat_clear_snapshot();  -- else the transaction sees one snapshot
    PERFORM 1 FROM pg_stat_activity
      WHERE query LIKE '%terminate-me%' AND query NOT LIKE '%pg_stat_activity%'
        AND wait_event_type = 'Extension';
    EXIT WHEN FOUND;
    PERFORM pg_sleep(0.1);
  END LOOP;
END $$;
SELECT wait_event_type, wait_event, pg_terminate_backend(pid, 5000) AS terminated
FROM pg_stat_activity
WHERE query LIKE '%terminate-me%' AND query NOT LIKE '%pg_stat_activity%';
SELECT count(*) AS left_behind FROM pg_stat_activity
WHERE query LIKE '%terminate-me%' AND query NOT LIKE '%pg_stat_activity%';
SELECT pg_postmaster_start_time() = :'pm_start' AS same_postmaster;
\! python3 test/bls_emulator.py ctl reset
SELECT count(*) FROM tasks;

-- log_records: a cancel in the middle of a marker page's slow body (the
-- second page), and bls_log_query() waiting for headers
CREATE FOREIGN TABLE records (log_store_name text, "time" timestamptz)
  SERVER emu OPTIONS (resource 'log_records');
\! python3 test/bls_emulator.py ctl fault '{"type": "delay_body", "ms": 30000, "skip": 1, "call": "QueryLogRecord"}'
\! test/cancel_when_active.sh cancel-records >/dev/null 2>&1 &
SELECT clock_timestamp() AS t0 \gset
-- the records themselves, not a count computed by BLS (logrecords_agg)
SET bls_fdw.aggregate_pushdown = off;
SELECT count(*) /* cancel-records */ FROM records WHERE log_store_name = 'nginx-access'
  AND time >= '2024-05-01 00:00:00+00' AND time < '2024-05-01 00:15:00+00';
\echo :LAST_ERROR_SQLSTATE
RESET bls_fdw.aggregate_pushdown;
SELECT clock_timestamp() - :'t0' < interval '5 seconds' AS cancelled_promptly;
\! python3 test/bls_emulator.py ctl reset
\! python3 test/bls_emulator.py ctl fault '{"type": "delay_headers", "ms": 30000, "call": "QueryLogRecord"}'
SELECT clock_timestamp() AS t0 \gset
SET statement_timeout = '300ms';
SELECT count(*) FROM bls_log_query('emu', 'nginx-access', 'select count(*)',
                                   '2024-05-01 00:00:00+00', '2024-05-01 00:15:00+00');
\echo :LAST_ERROR_SQLSTATE
RESET statement_timeout;
SELECT clock_timestamp() - :'t0' < interval '5 seconds' AS cancelled_promptly;
\! python3 test/bls_emulator.py ctl reset
SELECT count(*) FROM records WHERE log_store_name = 'nginx-access'
  AND time >= '2024-05-01 00:00:00+00' AND time < '2024-05-01 00:15:00+00';

DROP SERVER emu CASCADE;
