--
-- Security: TLS verification, superuser-only TLS options, user mappings that
-- do not leak into other roles, allowed schemes, and secrets that never show
-- up in messages or EXPLAIN output
--
\getenv emulator_url BLS_EMULATOR_URL
\getenv tls_url BLS_EMULATOR_TLS_URL
\getenv wrong_host_url BLS_EMULATOR_TLS_WRONG_HOST_URL
\getenv tls_ca BLS_TLS_CA
\getenv other_ca BLS_TLS_OTHER_CA
\set VERBOSITY default
\! python3 test/bls_emulator.py ctl reset

-- https with ca_file naming the CA that signed the emulator's certificate
CREATE SERVER tls_ok FOREIGN DATA WRAPPER bls_fdw
  OPTIONS (endpoint :'tls_url', ca_file :'tls_ca');
CREATE USER MAPPING FOR CURRENT_USER SERVER tls_ok
  OPTIONS (access_key_id 'emulator-ak', secret_access_key 'emulator-sk');
CREATE FOREIGN TABLE tls_ok_tasks (uuid text, state text) SERVER tls_ok;
SELECT count(*) FROM tls_ok_tasks;
-- tls_verify takes PostgreSQL's Boolean spellings; true is the default
ALTER SERVER tls_ok OPTIONS (ADD tls_verify 'on');
SELECT count(*) FROM tls_ok_tasks;
ALTER SERVER tls_ok OPTIONS (SET tls_verify 'yes');
ALTER SERVER tls_ok OPTIONS (SET tls_verify 'maybe');
ALTER SERVER tls_ok OPTIONS (SET tls_verify '');

-- TLS failures are refused at once, never retried: with max_retries 10 a
-- retry would back off for longer than statement_timeout
SET statement_timeout = '4s';
-- libcurl words its details differently from one version to the next: the
-- errors show our message and SQLSTATE, and error_hint() our hint
\set VERBOSITY terse
CREATE FUNCTION error_hint(query text) RETURNS text LANGUAGE plpgsql AS $$
DECLARE
	hint		text;
BEGIN
	EXECUTE query;
	RETURN NULL;
EXCEPTION WHEN OTHERS THEN
	GET STACKED DIAGNOSTICS hint = PG_EXCEPTION_HINT;
	RETURN hint;
END
$$;
-- an unknown CA: no ca_file, so the system's CAs, which never signed it
CREATE SERVER tls_noca FOREIGN DATA WRAPPER bls_fdw
  OPTIONS (endpoint :'tls_url', max_retries '10');
CREATE USER MAPPING FOR CURRENT_USER SERVER tls_noca
  OPTIONS (access_key_id 'emulator-ak', secret_access_key 'emulator-sk');
CREATE FOREIGN TABLE tls_noca_tasks (uuid text) SERVER tls_noca;
SELECT count(*) FROM tls_noca_tasks;
\echo :LAST_ERROR_SQLSTATE
SELECT error_hint('SELECT count(*) FROM tls_noca_tasks');
-- explicitly on is the same
ALTER SERVER tls_noca OPTIONS (ADD tls_verify 'true');
SELECT count(*) FROM tls_noca_tasks;
-- a CA that did not sign it
ALTER SERVER tls_noca OPTIONS (ADD ca_file :'other_ca');
SELECT count(*) FROM tls_noca_tasks;
\echo :LAST_ERROR_SQLSTATE
-- a ca_file that cannot be read
ALTER SERVER tls_noca OPTIONS (SET ca_file '/nonexistent/bls-ca.pem');
SELECT count(*) FROM tls_noca_tasks;
\echo :LAST_ERROR_SQLSTATE
SELECT error_hint('SELECT count(*) FROM tls_noca_tasks');
-- the right CA, but a host name the certificate does not name
CREATE SERVER tls_wronghost FOREIGN DATA WRAPPER bls_fdw
  OPTIONS (endpoint :'wrong_host_url', ca_file :'tls_ca', max_retries '10');
CREATE USER MAPPING FOR CURRENT_USER SERVER tls_wronghost
  OPTIONS (access_key_id 'emulator-ak', secret_access_key 'emulator-sk');
CREATE FOREIGN TABLE tls_wronghost_tasks (uuid text) SERVER tls_wronghost;
SELECT count(*) FROM tls_wronghost_tasks;
\echo :LAST_ERROR_SQLSTATE
-- https to a port that speaks plain http (curl's detail names the OpenSSL version)
SELECT replace(:'emulator_url', 'http://', 'https://') AS https_to_http \gset
CREATE SERVER tls_plain FOREIGN DATA WRAPPER bls_fdw
  OPTIONS (endpoint :'https_to_http', max_retries '10');
CREATE USER MAPPING FOR CURRENT_USER SERVER tls_plain
  OPTIONS (access_key_id 'emulator-ak', secret_access_key 'emulator-sk');
CREATE FOREIGN TABLE tls_plain_tasks (uuid text) SERVER tls_plain;
SELECT count(*) FROM tls_plain_tasks;
\echo :LAST_ERROR_SQLSTATE
RESET statement_timeout;

-- tls_verify off (superuser only) accepts the unknown CA and the wrong name
ALTER SERVER tls_noca OPTIONS (DROP ca_file, SET tls_verify 'false');
SELECT count(*) FROM tls_noca_tasks;
ALTER SERVER tls_wronghost OPTIONS (ADD tls_verify 'off');
SELECT count(*) FROM tls_wronghost_tasks;
-- and on again, refused again (the connection pool does not mix the two)
ALTER SERVER tls_noca OPTIONS (SET tls_verify 'true');
SELECT count(*) FROM tls_noca_tasks;
\set VERBOSITY default

-- endpoints: only http and https
CREATE SERVER s_bad FOREIGN DATA WRAPPER bls_fdw OPTIONS (endpoint 'ftp://127.0.0.1:21');
CREATE SERVER s_bad FOREIGN DATA WRAPPER bls_fdw OPTIONS (endpoint 'file:///etc/passwd');
CREATE SERVER s_bad FOREIGN DATA WRAPPER bls_fdw OPTIONS (endpoint 'gopher://127.0.0.1');
CREATE SERVER s_bad FOREIGN DATA WRAPPER bls_fdw OPTIONS (endpoint 'https://ak:sk@127.0.0.1');
ALTER SERVER tls_ok OPTIONS (SET endpoint 'ftp://127.0.0.1');

-- a role that is not a superuser
CREATE ROLE bls_sec_user;
CREATE SCHEMA bls_sec AUTHORIZATION bls_sec_user;
GRANT USAGE ON FOREIGN DATA WRAPPER bls_fdw TO bls_sec_user;
GRANT USAGE ON FOREIGN SERVER tls_ok TO bls_sec_user;
GRANT SELECT ON tls_ok_tasks TO bls_sec_user;
SET ROLE bls_sec_user;
-- it may create a server of its own, but not turn verification off or pick
-- the CAs to trust
CREATE SERVER user_srv FOREIGN DATA WRAPPER bls_fdw
  OPTIONS (endpoint :'tls_url', tls_verify 'false');
CREATE SERVER user_srv FOREIGN DATA WRAPPER bls_fdw
  OPTIONS (endpoint :'tls_url', ca_file '/etc/passwd');
CREATE SERVER user_srv FOREIGN DATA WRAPPER bls_fdw
  OPTIONS (endpoint :'tls_url', tls_verify 'true');
ALTER SERVER user_srv OPTIONS (SET tls_verify 'off');
ALTER SERVER user_srv OPTIONS (ADD ca_file :'tls_ca');
SELECT srvname, srvowner::regrole,
       (SELECT array_agg(split_part(o, '=', 1)) FROM unnest(srvoptions) AS o) AS options
  FROM pg_foreign_server WHERE srvname = 'user_srv';
-- it cannot read the keys of another role's mapping
SELECT srvname, usename = session_user AS is_session_user, umoptions
  FROM pg_user_mappings WHERE srvname = 'tls_ok';
-- and without a mapping of its own it gets none: no fallback to another's
SELECT count(*) FROM tls_ok_tasks;
\echo :LAST_ERROR_SQLSTATE
RESET ROLE;

-- a superuser may set ca_file on the role's server; it then works for the
-- role, which can no longer alter that server itself
ALTER SERVER user_srv OPTIONS (ADD ca_file :'tls_ca');
SET ROLE bls_sec_user;
CREATE USER MAPPING FOR CURRENT_USER SERVER user_srv
  OPTIONS (access_key_id 'emulator-ak', secret_access_key 'emulator-sk');
CREATE FOREIGN TABLE bls_sec.user_tasks (uuid text) SERVER user_srv;
SELECT count(*) FROM bls_sec.user_tasks;
ALTER SERVER user_srv OPTIONS (ADD page_size '10');
RESET ROLE;

-- a PUBLIC mapping shares its keys with every role that may use the server
CREATE USER MAPPING FOR PUBLIC SERVER tls_ok
  OPTIONS (access_key_id 'emulator-ak', secret_access_key 'emulator-sk');
SET ROLE bls_sec_user;
SELECT count(*) FROM tls_ok_tasks;
-- though it still cannot read them
SELECT srvname, usename, umoptions FROM pg_user_mappings
  WHERE srvname = 'tls_ok' AND usename = 'public';
RESET ROLE;
DROP USER MAPPING FOR PUBLIC SERVER tls_ok;

-- Secrets never appear in an error, its detail, hint or context, nor in
-- EXPLAIN.  leak_check() runs a statement and reports its SQLSTATE and
-- whether any secret_access_key or security_token of any user mapping
-- occurs in what came back: rows, message, detail, hint or context.
CREATE FUNCTION leak_check(stmt text) RETURNS text LANGUAGE plpgsql AS $$
DECLARE
	secrets text[];
	r record;
	out text := '';
	st text := '00000';
	msg text;
	det text;
	hnt text;
	ctx text;
BEGIN
	SELECT array_agg(substr(o, strpos(o, '=') + 1)) INTO secrets
	  FROM pg_user_mappings, unnest(umoptions) AS o
	 WHERE split_part(o, '=', 1) IN ('secret_access_key', 'security_token');
	BEGIN
		FOR r IN EXECUTE stmt LOOP
			out := out || r::text || E'\n';
		END LOOP;
	EXCEPTION WHEN OTHERS THEN
		GET STACKED DIAGNOSTICS st = RETURNED_SQLSTATE, msg = MESSAGE_TEXT,
			det = PG_EXCEPTION_DETAIL, hnt = PG_EXCEPTION_HINT,
			ctx = PG_EXCEPTION_CONTEXT;
		out := concat_ws(E'\n', out, msg, det, hnt, ctx);
	END;
	FOR i IN 1 .. coalesce(array_length(secrets, 1), 0) LOOP
		IF strpos(out, secrets[i]) > 0 THEN
			RETURN st || ': LEAKS A SECRET';
		END IF;
	END LOOP;
	RETURN st || CASE WHEN st = '00000' THEN ': ok' ELSE ': error' END
		|| ', no secret among ' || coalesce(array_length(secrets, 1), 0) || ' secrets';
END
$$;

-- temporary credentials: a secret key and a session token
CREATE SERVER emu FOREIGN DATA WRAPPER bls_fdw
  OPTIONS (endpoint :'emulator_url', max_retries '0', request_timeout_ms '500');
CREATE USER MAPPING FOR CURRENT_USER SERVER emu
  OPTIONS (access_key_id 'emulator-sts-ak', secret_access_key 'emulator-sts-sk',
           security_token 'emulator-sts-token');
CREATE FOREIGN TABLE emu_tasks (uuid text, state text) SERVER emu;
SELECT count(*) FROM emu_tasks;
SELECT leak_check('SELECT count(*) FROM emu_tasks');
SELECT leak_check('EXPLAIN (VERBOSE) SELECT * FROM emu_tasks WHERE state = ''FAILED''');
SELECT leak_check('EXPLAIN (ANALYZE, VERBOSE, BUFFERS) SELECT * FROM emu_tasks');
-- a wrong session token
\! python3 test/bls_emulator.py ctl reset
ALTER USER MAPPING FOR CURRENT_USER SERVER emu OPTIONS (SET security_token 'wrong-token-5d1e');
SELECT count(*) FROM emu_tasks;
SELECT leak_check('SELECT count(*) FROM emu_tasks');
-- a wrong secret key: the signature does not match
ALTER USER MAPPING FOR CURRENT_USER SERVER emu
  OPTIONS (SET security_token 'emulator-sts-token', SET secret_access_key 'wrong-secret-7c2a');
SELECT count(*) FROM emu_tasks;
SELECT leak_check('SELECT count(*) FROM emu_tasks');
SELECT leak_check('EXPLAIN (ANALYZE) SELECT * FROM emu_tasks');
ALTER USER MAPPING FOR CURRENT_USER SERVER emu OPTIONS (SET secret_access_key 'emulator-sts-sk');
-- service errors, a timeout, bad bodies
\! python3 test/bls_emulator.py ctl fault '{"type": "http", "status": 401, "count": -1}'
SELECT leak_check('SELECT count(*) FROM emu_tasks');
\! python3 test/bls_emulator.py ctl reset
\! python3 test/bls_emulator.py ctl fault '{"type": "http", "status": 403, "count": -1}'
SELECT leak_check('SELECT count(*) FROM emu_tasks');
\! python3 test/bls_emulator.py ctl reset
\! python3 test/bls_emulator.py ctl fault '{"type": "http", "status": 500, "count": -1}'
SELECT leak_check('SELECT count(*) FROM emu_tasks');
\! python3 test/bls_emulator.py ctl reset
\! python3 test/bls_emulator.py ctl fault '{"type": "delay_headers", "ms": 2000}'
SELECT leak_check('SELECT count(*) FROM emu_tasks');
\! python3 test/bls_emulator.py ctl reset
\! python3 test/bls_emulator.py ctl fault '{"type": "success_false", "code": "InternalError", "message": "try again"}'
SELECT leak_check('SELECT count(*) FROM emu_tasks');
\! python3 test/bls_emulator.py ctl fault '{"type": "malformed"}'
SELECT leak_check('SELECT count(*) FROM emu_tasks');
\! python3 test/bls_emulator.py ctl reset
-- connection refused, and TLS failures, with the same credentials
CREATE SERVER nowhere FOREIGN DATA WRAPPER bls_fdw
  OPTIONS (endpoint 'http://127.0.0.1:9', max_retries '0');
CREATE USER MAPPING FOR CURRENT_USER SERVER nowhere
  OPTIONS (access_key_id 'emulator-sts-ak', secret_access_key 'emulator-sts-sk',
           security_token 'emulator-sts-token');
CREATE FOREIGN TABLE nowhere_tasks (uuid text) SERVER nowhere;
SELECT leak_check('SELECT count(*) FROM nowhere_tasks');
ALTER USER MAPPING FOR CURRENT_USER SERVER tls_noca
  OPTIONS (SET access_key_id 'emulator-sts-ak', SET secret_access_key 'emulator-sts-sk',
           ADD security_token 'emulator-sts-token');
SELECT leak_check('SELECT count(*) FROM tls_noca_tasks');
SELECT leak_check('SELECT count(*) FROM tls_plain_tasks');

DROP FUNCTION leak_check(text);
SET client_min_messages = warning;
DROP SERVER tls_ok, tls_noca, tls_wronghost, tls_plain, emu, nowhere, user_srv CASCADE;
DROP SCHEMA bls_sec;
REVOKE USAGE ON FOREIGN DATA WRAPPER bls_fdw FROM bls_sec_user;
DROP ROLE bls_sec_user;
