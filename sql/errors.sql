--
-- HTTP errors, retries and malformed responses: each gives a clear error
-- with an FDW SQLSTATE, and the session stays usable
--
\getenv emulator_url BLS_EMULATOR_URL
\set VERBOSITY default
\! python3 test/bls_emulator.py ctl reset

CREATE SERVER emu FOREIGN DATA WRAPPER bls_fdw
  OPTIONS (endpoint :'emulator_url', max_retries '2', request_timeout_ms '3000',
           readahead '0');
CREATE USER MAPPING FOR CURRENT_USER SERVER emu
  OPTIONS (access_key_id 'emulator-ak', secret_access_key 'emulator-sk');
CREATE FOREIGN TABLE tasks (uuid text, state text) SERVER emu OPTIONS (page_size '1000');

-- 500, 502, 503, 504 and 429 are retried, and the scan then succeeds
\! python3 test/bls_emulator.py ctl fault '[{"type": "http", "status": 503, "count": 2}]'
SELECT count(*) FROM tasks;
\! python3 test/bls_emulator.py ctl log
\! python3 test/bls_emulator.py ctl reset
\! python3 test/bls_emulator.py ctl fault '[{"type": "http", "status": 500}, {"type": "http", "status": 502}]'
SELECT count(*) FROM tasks;
\! python3 test/bls_emulator.py ctl count
\! python3 test/bls_emulator.py ctl reset
\! python3 test/bls_emulator.py ctl fault '{"type": "http", "status": 429, "retry_after": "1"}'
SELECT count(*) FROM tasks;
\! python3 test/bls_emulator.py ctl count
\! python3 test/bls_emulator.py ctl reset

-- a failure that persists: max_retries + 1 attempts, then an error
\! python3 test/bls_emulator.py ctl fault '{"type": "http", "status": 504, "code": "GatewayTimeout", "message": "upstream timed out", "count": -1}'
SELECT count(*) FROM tasks;
\echo :LAST_ERROR_SQLSTATE
\! python3 test/bls_emulator.py ctl count
\! python3 test/bls_emulator.py ctl reset
-- throttling never turns into an empty result (as it did in Supabase's
-- Stripe wrapper)
\! python3 test/bls_emulator.py ctl fault '{"type": "http", "status": 429, "retry_after": "0", "count": -1}'
SELECT count(*) FROM tasks;
\echo :LAST_ERROR_SQLSTATE
\! python3 test/bls_emulator.py ctl count
\! python3 test/bls_emulator.py ctl reset
-- a gateway's HTML page
\! python3 test/bls_emulator.py ctl fault '{"type": "html", "status": 502, "count": -1}'
SELECT count(*) FROM tasks;
\! python3 test/bls_emulator.py ctl reset
-- max_retries 0 means one attempt
ALTER SERVER emu OPTIONS (SET max_retries '0');
\! python3 test/bls_emulator.py ctl fault '{"type": "http", "status": 500, "count": -1}'
SELECT count(*) FROM tasks;
\! python3 test/bls_emulator.py ctl count
\! python3 test/bls_emulator.py ctl reset
ALTER SERVER emu OPTIONS (SET max_retries '2');

-- other 4xx are not retried
\! python3 test/bls_emulator.py ctl fault '{"type": "http", "status": 400, "code": "InvalidParameter", "message": "pageSize is invalid"}'
SELECT count(*) FROM tasks;
\echo :LAST_ERROR_SQLSTATE
\! python3 test/bls_emulator.py ctl fault '{"type": "http", "status": 403}'
SELECT count(*) FROM tasks;
\echo :LAST_ERROR_SQLSTATE
\! python3 test/bls_emulator.py ctl fault '{"type": "http", "status": 404}'
SELECT count(*) FROM tasks;
\! python3 test/bls_emulator.py ctl fault '{"type": "http", "status": 413}'
SELECT count(*) FROM tasks;
\! python3 test/bls_emulator.py ctl count
\! python3 test/bls_emulator.py ctl reset

-- a wrong secret: the emulator checks the signature (401, not retried)
ALTER USER MAPPING FOR CURRENT_USER SERVER emu OPTIONS (SET access_key_id 'emulator-ak', SET secret_access_key 'not-the-secret');
SELECT count(*) FROM tasks;
\echo :LAST_ERROR_SQLSTATE
\! python3 test/bls_emulator.py ctl count
ALTER USER MAPPING FOR CURRENT_USER SERVER emu OPTIONS (SET access_key_id 'unknown-ak', SET secret_access_key 'emulator-sk');
SELECT count(*) FROM tasks;
ALTER USER MAPPING FOR CURRENT_USER SERVER emu OPTIONS (SET access_key_id 'emulator-ak', SET secret_access_key 'emulator-sk');
\! python3 test/bls_emulator.py ctl reset

-- success:false in a 200 response
\! python3 test/bls_emulator.py ctl fault '{"type": "success_false", "code": "InternalError", "message": "try again"}'
SELECT count(*) FROM tasks;
\echo :LAST_ERROR_SQLSTATE

-- malformed bodies
\! python3 test/bls_emulator.py ctl fault '{"type": "truncated"}'
SELECT count(*) FROM tasks;
\echo :LAST_ERROR_SQLSTATE
\! python3 test/bls_emulator.py ctl fault '{"type": "malformed"}'
SELECT count(*) FROM tasks;
\! python3 test/bls_emulator.py ctl fault '{"type": "html"}'
SELECT count(*) FROM tasks;
\! python3 test/bls_emulator.py ctl fault '{"type": "empty"}'
SELECT count(*) FROM tasks;
\! python3 test/bls_emulator.py ctl fault '{"type": "not_object"}'
SELECT count(*) FROM tasks;
\! python3 test/bls_emulator.py ctl fault '{"type": "missing_result"}'
SELECT count(*) FROM tasks;
\! python3 test/bls_emulator.py ctl fault '{"type": "missing_tasks"}'
SELECT count(*) FROM tasks;
\! python3 test/bls_emulator.py ctl fault '{"type": "tasks_not_array"}'
SELECT count(*) FROM tasks;
-- a malformed second page, after rows of the first were returned
ALTER FOREIGN TABLE tasks OPTIONS (SET page_size '100');
\! python3 test/bls_emulator.py ctl fault '{"type": "malformed", "page": 2}'
SELECT count(*) FROM tasks;
ALTER FOREIGN TABLE tasks OPTIONS (SET page_size '1000');

-- a body over the size cap
ALTER SERVER emu OPTIONS (ADD max_response_bytes '65536');
SELECT count(*) FROM tasks;
\echo :LAST_ERROR_SQLSTATE
ALTER SERVER emu OPTIONS (DROP max_response_bytes);
\! python3 test/bls_emulator.py ctl fault '{"type": "oversize", "bytes": 70000000}'
SELECT count(*) FROM tasks;

-- dropped and reset connections are retried
\! python3 test/bls_emulator.py ctl reset
\! python3 test/bls_emulator.py ctl fault '[{"type": "drop"}, {"type": "reset_mid_body"}]'
SELECT count(*) FROM tasks;
\! python3 test/bls_emulator.py ctl log
\! python3 test/bls_emulator.py ctl reset
\! python3 test/bls_emulator.py ctl fault '{"type": "drop", "count": -1}'
SELECT count(*) FROM tasks;
\echo :LAST_ERROR_SQLSTATE
\! python3 test/bls_emulator.py ctl reset

-- slow headers and a slow body run into request_timeout_ms
ALTER SERVER emu OPTIONS (SET max_retries '0', SET request_timeout_ms '500');
\! python3 test/bls_emulator.py ctl fault '{"type": "delay_headers", "ms": 3000}'
SELECT count(*) FROM tasks;
\echo :LAST_ERROR_SQLSTATE
\! python3 test/bls_emulator.py ctl fault '{"type": "delay_body", "ms": 3000}'
SELECT count(*) FROM tasks;
\! python3 test/bls_emulator.py ctl reset
ALTER SERVER emu OPTIONS (SET request_timeout_ms '3000');

-- nothing listening
CREATE SERVER nowhere FOREIGN DATA WRAPPER bls_fdw
  OPTIONS (endpoint 'http://127.0.0.1:9', max_retries '1');
CREATE USER MAPPING FOR CURRENT_USER SERVER nowhere
  OPTIONS (access_key_id 'emulator-ak', secret_access_key 'emulator-sk');
CREATE FOREIGN TABLE nowhere_tasks (uuid text) SERVER nowhere;
-- (libcurl words the detail differently from one version to the next)
\set VERBOSITY terse
SELECT * FROM nowhere_tasks;
\set VERBOSITY default
\echo :LAST_ERROR_SQLSTATE

-- a Retry-After too large to multiply by 1000 waits the longest back-off
-- (60 s), not a negative or wrapped time: the statement_timeout ends it.
-- (It once overflowed and was retried at once, returning the rows.)
ALTER USER MAPPING FOR CURRENT_USER SERVER emu OPTIONS (SET access_key_id 'emulator-throttle2-ak', SET secret_access_key 'emulator-throttle2-sk');
ALTER SERVER emu OPTIONS (SET max_retries '1');
\! python3 test/bls_emulator.py ctl fault '{"type": "http", "status": 429, "retry_after": "99999999999999999999"}'
SET statement_timeout = '1s';
SELECT count(*) FROM tasks;
\echo :LAST_ERROR_SQLSTATE
RESET statement_timeout;
ALTER USER MAPPING FOR CURRENT_USER SERVER emu OPTIONS (SET access_key_id 'emulator-ak', SET secret_access_key 'emulator-sk');
ALTER SERVER emu OPTIONS (SET max_retries '0');
\! python3 test/bls_emulator.py ctl reset

-- a service that ignores pageNo and omits total: the second page brings
-- nothing new, and the scan ends with an error instead of asking forever
-- (it once sent over a hundred requests in 5 s and would not stop)
CREATE FOREIGN TABLE tasks_small_pages (uuid text) SERVER emu OPTIONS (page_size '50');
\! python3 test/bls_emulator.py ctl fault '{"type": "ignore_page_no", "count": -1}'
SET statement_timeout = '10s';
SELECT count(*) FROM tasks_small_pages;
\echo :LAST_ERROR_SQLSTATE
RESET statement_timeout;
\! python3 test/bls_emulator.py ctl count
\! python3 test/bls_emulator.py ctl reset
DROP FOREIGN TABLE tasks_small_pages;

-- after all of that, the session works
SELECT count(*) FROM tasks;

DROP SERVER emu, nowhere CASCADE;
