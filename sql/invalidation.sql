--
-- Invalidation: a server, user mapping or option that changes or goes away
-- takes its cached connection with it.  Dropped servers leave no open
-- connections (file descriptors) behind, and a changed endpoint or secret
-- is used by the next scan of the same session.
--
\getenv emulator_url BLS_EMULATOR_URL
\set VERBOSITY terse
\! python3 test/bls_emulator.py ctl reset
SELECT set_config('bls_fdw_test.url', :'emulator_url', false) IS NOT NULL AS url_set;

-- the backend's open file descriptors
CREATE FUNCTION open_fds() RETURNS int LANGUAGE sql VOLATILE AS $$
  SELECT count(*)::int FROM pg_ls_dir('/proc/' || pg_backend_pid() || '/fd') f
$$;

CREATE PROCEDURE cycles(n int) LANGUAGE plpgsql AS $$
BEGIN
  FOR i IN 1..n LOOP
    EXECUTE format('CREATE SERVER cyc FOREIGN DATA WRAPPER bls_fdw OPTIONS (endpoint %L)',
                   current_setting('bls_fdw_test.url'));
    CREATE USER MAPPING FOR CURRENT_USER SERVER cyc
      OPTIONS (access_key_id 'emulator-ak', secret_access_key 'emulator-sk');
    CREATE FOREIGN TABLE cyc_tasks (uuid text) SERVER cyc;
    PERFORM count(*) FROM cyc_tasks;
    DROP SERVER cyc CASCADE;
    COMMIT;
  END LOOP;
END $$;

-- one cycle first (libcurl's own set-up), then 100: the descriptors stay
-- flat (before the fix: about 10 more per cycle)
SET client_min_messages = warning;
CALL cycles(1);
SELECT open_fds() AS fds0 \gset
CALL cycles(100);
SELECT open_fds() - :fds0 <= 5 AS flat;
-- the same in one transaction (a DO block): flat
SELECT open_fds() AS fds0 \gset
DO $$
BEGIN
  FOR i IN 1..50 LOOP
    EXECUTE format('CREATE SERVER cyc FOREIGN DATA WRAPPER bls_fdw OPTIONS (endpoint %L)',
                   current_setting('bls_fdw_test.url'));
    CREATE USER MAPPING FOR CURRENT_USER SERVER cyc
      OPTIONS (access_key_id 'emulator-ak', secret_access_key 'emulator-sk');
    CREATE FOREIGN TABLE cyc_tasks (uuid text) SERVER cyc;
    PERFORM count(*) FROM cyc_tasks;
    DROP SERVER cyc CASCADE;
  END LOOP;
END $$;
SELECT open_fds() - :fds0 <= 5 AS flat;
RESET client_min_messages;
-- and the statistics keep no row for the dropped servers (0)
SELECT count(*) AS dropped_servers_in_stats FROM bls_fdw_stats() WHERE server_name = 'cyc';

CREATE SERVER emu FOREIGN DATA WRAPPER bls_fdw
  OPTIONS (endpoint :'emulator_url', max_retries '0', connect_timeout_ms '2000');
CREATE USER MAPPING FOR CURRENT_USER SERVER emu
  OPTIONS (access_key_id 'emulator-ak', secret_access_key 'emulator-sk');
CREATE FOREIGN TABLE tasks (uuid text) SERVER emu;
SET statement_timeout = '20s';

-- the endpoint moved to a port where nothing listens: the next scan fails
-- there (an error, SQLSTATE HV00N), and moved back it works again (1000)
SELECT count(*) FROM tasks;
ALTER SERVER emu OPTIONS (SET endpoint 'http://127.0.0.1:1');
SELECT count(*) FROM tasks;
\echo :LAST_ERROR_SQLSTATE
ALTER SERVER emu OPTIONS (SET endpoint :'emulator_url');
SELECT count(*) FROM tasks;
-- also inside one transaction
BEGIN;
SELECT count(*) FROM tasks;
ALTER SERVER emu OPTIONS (SET endpoint 'http://127.0.0.1:1');
SELECT count(*) FROM tasks;
ROLLBACK;
SELECT count(*) FROM tasks;

-- a wrong secret: 401 from the service in the same session, and the right
-- one again works (1000, error, 1000)
SELECT count(*) FROM tasks;
ALTER USER MAPPING FOR CURRENT_USER SERVER emu OPTIONS (SET secret_access_key 'wrong-sk');
SELECT count(*) FROM tasks;
\echo :LAST_ERROR_SQLSTATE
ALTER USER MAPPING FOR CURRENT_USER SERVER emu OPTIONS (SET secret_access_key 'emulator-sk');
SELECT count(*) FROM tasks;
-- a wrong access key id, likewise (error, 1000)
ALTER USER MAPPING FOR CURRENT_USER SERVER emu OPTIONS (SET access_key_id 'nobody');
SELECT count(*) FROM tasks;
ALTER USER MAPPING FOR CURRENT_USER SERVER emu OPTIONS (SET access_key_id 'emulator-ak');
SELECT count(*) FROM tasks;
-- a changed page_size is used at once: 10 requests of 100, then 4 of 250
\! python3 test/bls_emulator.py ctl log-clear
SELECT count(*) FROM tasks;
\! python3 test/bls_emulator.py ctl count
ALTER SERVER emu OPTIONS (ADD page_size '250');
\! python3 test/bls_emulator.py ctl log-clear
SELECT count(*) FROM tasks;
\! python3 test/bls_emulator.py ctl count
RESET statement_timeout;

DROP SERVER emu CASCADE;
DROP PROCEDURE cycles(int);
DROP FUNCTION open_fds();
