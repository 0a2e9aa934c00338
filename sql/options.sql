--
-- Option validation: names, values, required options, IMPORT FOREIGN SCHEMA
--
\getenv emulator_url BLS_EMULATOR_URL
\set VERBOSITY default

-- the wrapper itself takes no options
ALTER FOREIGN DATA WRAPPER bls_fdw OPTIONS (endpoint 'x');

-- servers: endpoint is required and checked
CREATE SERVER s_noendpoint FOREIGN DATA WRAPPER bls_fdw;
CREATE SERVER s_bad FOREIGN DATA WRAPPER bls_fdw OPTIONS (endpoint 'ftp://example.com');
CREATE SERVER s_bad FOREIGN DATA WRAPPER bls_fdw OPTIONS (endpoint 'https://example.com/path');
CREATE SERVER s_bad FOREIGN DATA WRAPPER bls_fdw OPTIONS (endpoint 'https://user@example.com');
CREATE SERVER s_bad FOREIGN DATA WRAPPER bls_fdw OPTIONS (endpoint 'https://example.com:0');
CREATE SERVER s_bad FOREIGN DATA WRAPPER bls_fdw OPTIONS (endpoint 'https://example.com:70000');
CREATE SERVER s_bad FOREIGN DATA WRAPPER bls_fdw OPTIONS (endpoint 'file:///etc/passwd');
CREATE SERVER s_bad FOREIGN DATA WRAPPER bls_fdw OPTIONS (endpoint '');
CREATE SERVER s_bad FOREIGN DATA WRAPPER bls_fdw OPTIONS (endpoint 'https://example.com', colour 'blue');
CREATE SERVER s_bad FOREIGN DATA WRAPPER bls_fdw OPTIONS (endpoint 'https://example.com', page_size '0');
CREATE SERVER s_bad FOREIGN DATA WRAPPER bls_fdw OPTIONS (endpoint 'https://example.com', page_size '10001');
CREATE SERVER s_bad FOREIGN DATA WRAPPER bls_fdw OPTIONS (endpoint 'https://example.com', page_size 'ten');
CREATE SERVER s_bad FOREIGN DATA WRAPPER bls_fdw OPTIONS (endpoint 'https://example.com', connect_timeout_ms '-5');
CREATE SERVER s_bad FOREIGN DATA WRAPPER bls_fdw OPTIONS (endpoint 'https://example.com', request_timeout_ms '1.5');
CREATE SERVER s_bad FOREIGN DATA WRAPPER bls_fdw OPTIONS (endpoint 'https://example.com', max_retries '11');
CREATE SERVER s_bad FOREIGN DATA WRAPPER bls_fdw OPTIONS (endpoint 'https://example.com', max_response_bytes '10');
CREATE SERVER s_bad FOREIGN DATA WRAPPER bls_fdw OPTIONS (endpoint 'https://example.com', ca_file '');
-- a user mapping option on a server
CREATE SERVER s_bad FOREIGN DATA WRAPPER bls_fdw OPTIONS (endpoint 'https://example.com', secret_access_key 'x');

-- accepted endpoint spellings
CREATE SERVER s_bare FOREIGN DATA WRAPPER bls_fdw OPTIONS (endpoint 'bls-log.bj.baidubce.com');
CREATE SERVER s_https FOREIGN DATA WRAPPER bls_fdw OPTIONS (endpoint 'https://bls-log.gz.baidubce.com/');
CREATE SERVER s_http FOREIGN DATA WRAPPER bls_fdw OPTIONS (endpoint 'http://127.0.0.1:8080', page_size '500',
  connect_timeout_ms '1000', request_timeout_ms '2000', max_retries '0', max_response_bytes '1048576');
CREATE SERVER s_v6 FOREIGN DATA WRAPPER bls_fdw OPTIONS (endpoint 'http://[::1]:8080');
-- ALTER validates the resulting option list
ALTER SERVER s_http OPTIONS (DROP endpoint);
ALTER SERVER s_http OPTIONS (SET page_size '-1');
ALTER SERVER s_http OPTIONS (SET page_size '1000');
SELECT srvname, srvoptions FROM pg_foreign_server WHERE srvname LIKE 's\_%' ORDER BY 1;

-- user mappings
CREATE USER MAPPING FOR CURRENT_USER SERVER s_http OPTIONS (access_key_id 'ak', secret_key 'sk');
CREATE USER MAPPING FOR CURRENT_USER SERVER s_http OPTIONS (access_key_id 'ak', endpoint 'x');
CREATE USER MAPPING FOR CURRENT_USER SERVER s_http OPTIONS (access_key_id '', secret_access_key 'sk');
CREATE USER MAPPING FOR CURRENT_USER SERVER s_http
  OPTIONS (access_key_id 'ak', secret_access_key 'sk', security_token 'tok');

-- tables and columns
CREATE FOREIGN TABLE t_bad (uuid text) SERVER s_http OPTIONS (endpoint 'x');
CREATE FOREIGN TABLE t_bad (uuid text) SERVER s_http OPTIONS (page_size '0');
CREATE FOREIGN TABLE t_bad (uuid text OPTIONS (field 'id')) SERVER s_http;
CREATE FOREIGN TABLE t_bad (uuid text OPTIONS (key '')) SERVER s_http;
CREATE FOREIGN TABLE t_ok (id text OPTIONS (key 'uuid')) SERVER s_http OPTIONS (page_size '50');
ALTER FOREIGN TABLE t_ok OPTIONS (SET page_size 'many');

-- IMPORT FOREIGN SCHEMA: one remote schema, "bls", holding download_tasks
CREATE SCHEMA imported;
IMPORT FOREIGN SCHEMA other FROM SERVER s_http INTO imported;
IMPORT FOREIGN SCHEMA bls EXCEPT (download_tasks) FROM SERVER s_http INTO imported;
SELECT count(*) FROM pg_foreign_table ft JOIN pg_class c ON c.oid = ft.ftrelid
  WHERE c.relnamespace = 'imported'::regnamespace;
IMPORT FOREIGN SCHEMA bls LIMIT TO (download_tasks) FROM SERVER s_http INTO imported;
\d imported.download_tasks

-- a scan needs both keys in the user mapping
CREATE SERVER s_emu FOREIGN DATA WRAPPER bls_fdw OPTIONS (endpoint :'emulator_url');
CREATE FOREIGN TABLE t_emu (uuid text) SERVER s_emu;
SELECT * FROM t_emu;
CREATE USER MAPPING FOR CURRENT_USER SERVER s_emu OPTIONS (access_key_id 'emulator-ak');
SELECT * FROM t_emu;
-- a scan with keys works
ALTER USER MAPPING FOR CURRENT_USER SERVER s_emu OPTIONS (ADD secret_access_key 'emulator-sk');
SELECT count(*) FROM t_emu;
-- EXPLAIN shows the request but never the keys
EXPLAIN (VERBOSE, COSTS OFF) SELECT * FROM t_emu;

-- the secret is not readable through the catalog views by other roles
CREATE ROLE bls_other;
SET ROLE bls_other;
SELECT umoptions FROM pg_user_mappings WHERE srvname = 's_emu';
RESET ROLE;
DROP ROLE bls_other;

DROP SCHEMA imported CASCADE;
DROP SERVER s_bare, s_https, s_http, s_v6, s_emu CASCADE;
