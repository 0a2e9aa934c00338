#!/usr/bin/env bash
# Check that bls_fdw never puts a secret (secret_access_key, security_token)
# into the server log, a client message or pg_stat_activity, at any log level.
#
# Runs in its own throwaway cluster (pg_virtualenv) logging everything:
# every statement, every message down to DEBUG5, with detail, hint, context
# and source location.  The user mappings are created by a session that
# turns its own statement logging off first: PostgreSQL itself would log
# "CREATE USER MAPPING ... OPTIONS (secret_access_key '...')" as written,
# and that is not what this checks.  Then scans that succeed and scans that
# fail in every way we can provoke (401 for a bad signature and a bad token,
# 401/403/500 from the service, a timeout, a bad body, connection refused,
# a TLS failure) run at client_min_messages DEBUG5, and the server log, the
# client output and pg_stat_activity (sampled during a slow scan) are
# searched for the secrets.
#
# Needs BLS_EMULATOR_URL (and optionally BLS_EMULATOR_TLS_URL); run by
# test/run_tests.sh.  Prints TAP lines ("ok N - ...", "not ok N - ...").
set -uo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"
: "${BLS_EMULATOR_URL:?BLS_EMULATOR_URL is not set (test/run_tests.sh sets it)}"

if [ -z "${BLS_CHECK_SECRETS_CLUSTER:-}" ]; then
	export BLS_CHECK_SECRETS_CLUSTER=1
	exec pg_virtualenv -t -v "$("$top/scripts/pg-version.sh")" -o logging_collector=on -o log_min_messages=debug5 \
		-o log_statement=all -o log_error_verbosity=verbose \
		-o log_min_error_statement=debug5 -o log_connections=on bash "$0" "$@"
fi

# the built-in temporary credentials of the emulator, and two wrong ones
sk=emulator-sts-sk
token=emulator-sts-token
wrong_sk=wrong-secret-93f1c0
wrong_token=wrong-token-4b7e22
secrets=("$sk" "$token" "$wrong_sk" "$wrong_token")

out=${BLS_RUN_DIR:-$top/.run}/check-secrets
mkdir -p "$out"
rm -f "$out"/*.out

n=0
ok() { n=$((n + 1)); echo "ok $n - $1"; }
not_ok() { n=$((n + 1)); echo "not ok $n - $1"; }
# absent DESCRIPTION FILE: ok if no secret occurs in FILE
absent() {
	local s found=
	for s in "${secrets[@]}"; do
		if grep -qF -- "$s" "$2"; then
			found=1
			echo "# \"$s\" found in $2:"
			grep -nF -- "$s" "$2" | head -5 | sed 's/^/#   /'
		fi
	done
	if [ -z "$found" ]; then ok "$1"; else not_ok "$1"; fi
}
emuctl() { python3 test/bls_emulator.py ctl "$@" >/dev/null; }

# 1. setup: the only statements that carry secrets, with logging off
tls_ddl=
if [ -n "${BLS_EMULATOR_TLS_URL:-}" ]; then
	tls_ddl="
CREATE SERVER tls FOREIGN DATA WRAPPER bls_fdw OPTIONS (endpoint '$BLS_EMULATOR_TLS_URL', max_retries '1');
CREATE USER MAPPING FOR CURRENT_USER SERVER tls
  OPTIONS (access_key_id 'emulator-sts-ak', secret_access_key '$sk', security_token '$token');
CREATE FOREIGN TABLE t_tls (uuid text) SERVER tls;"
fi
if ! psql -X -q -v ON_ERROR_STOP=1 >"$out/setup.out" 2>&1 <<EOF
SET log_statement = 'none';
SET log_min_messages = 'warning';
SET log_min_error_statement = 'panic';
SET client_min_messages = 'warning';
CREATE EXTENSION bls_fdw;
CREATE SERVER emu FOREIGN DATA WRAPPER bls_fdw
  OPTIONS (endpoint '$BLS_EMULATOR_URL', max_retries '1', request_timeout_ms '10000');
CREATE USER MAPPING FOR CURRENT_USER SERVER emu
  OPTIONS (access_key_id 'emulator-sts-ak', secret_access_key '$sk', security_token '$token');
CREATE FOREIGN TABLE t_ok (uuid text, state text) SERVER emu;
CREATE FOREIGN TABLE t_w (uuid text, name text, log_store_name text,
  query_start_time timestamptz, query_end_time timestamptz) SERVER emu;
CREATE FOREIGN TABLE t_stores (project text, log_store_name text) SERVER emu
  OPTIONS (resource 'log_stores');
CREATE FOREIGN TABLE t_records (log_store_name text, "time" timestamptz, message text)
  SERVER emu OPTIONS (resource 'log_records');
CREATE SERVER emu_quick FOREIGN DATA WRAPPER bls_fdw
  OPTIONS (endpoint '$BLS_EMULATOR_URL', max_retries '1', request_timeout_ms '300');
CREATE USER MAPPING FOR CURRENT_USER SERVER emu_quick
  OPTIONS (access_key_id 'emulator-sts-ak', secret_access_key '$sk', security_token '$token');
CREATE FOREIGN TABLE t_quick (uuid text) SERVER emu_quick;
CREATE SERVER bad_sk FOREIGN DATA WRAPPER bls_fdw OPTIONS (endpoint '$BLS_EMULATOR_URL');
CREATE USER MAPPING FOR CURRENT_USER SERVER bad_sk
  OPTIONS (access_key_id 'emulator-sts-ak', secret_access_key '$wrong_sk', security_token '$token');
CREATE FOREIGN TABLE t_bad_sk (uuid text) SERVER bad_sk;
CREATE SERVER bad_token FOREIGN DATA WRAPPER bls_fdw OPTIONS (endpoint '$BLS_EMULATOR_URL');
CREATE USER MAPPING FOR CURRENT_USER SERVER bad_token
  OPTIONS (access_key_id 'emulator-sts-ak', secret_access_key '$sk', security_token '$wrong_token');
CREATE FOREIGN TABLE t_bad_token (uuid text) SERVER bad_token;
CREATE SERVER nowhere FOREIGN DATA WRAPPER bls_fdw
  OPTIONS (endpoint 'http://127.0.0.1:9', max_retries '1');
CREATE USER MAPPING FOR CURRENT_USER SERVER nowhere
  OPTIONS (access_key_id 'emulator-sts-ak', secret_access_key '$sk', security_token '$token');
CREATE FOREIGN TABLE t_nowhere (uuid text) SERVER nowhere;
$tls_ddl
EOF
then
	not_ok "set up the extension, servers and user mappings"
	sed 's/^/# /' "$out/setup.out"
	exit 1
fi
ok "set up the extension, servers and user mappings"

# 2. scans and every error we can provoke, everything logged and shown
emuctl reset
{
	cat <<'EOF'
SET client_min_messages = debug5;
\set VERBOSITY verbose
SELECT count(*) FROM t_ok;
EXPLAIN (VERBOSE) SELECT * FROM t_ok WHERE state = 'FAILED';
EXPLAIN (ANALYZE, VERBOSE, BUFFERS) SELECT * FROM t_ok;
SELECT count(*) FROM t_bad_sk;
SELECT count(*) FROM t_bad_token;
SELECT count(*) FROM t_stores WHERE project = 'default';
EXPLAIN (ANALYZE, VERBOSE) SELECT * FROM t_stores WHERE project = 'default';
SELECT count(*) FROM t_records WHERE log_store_name = 'nginx-access'
  AND time >= '2024-05-01 00:00:00+00' AND time < '2024-05-01 00:20:00+00';
EXPLAIN (ANALYZE, VERBOSE) SELECT * FROM t_records WHERE log_store_name = 'nginx-access'
  AND time >= '2024-05-01 00:00:00+00' AND time < '2024-05-01 00:00:10+00';
SELECT count(*) FROM bls_log_query('emu', 'nginx-access', 'select count(*)',
  '2024-05-01 00:00:00+00', '2024-05-01 00:01:00+00');
SELECT count(*) FROM bls_log_query('bad_sk', 'nginx-access', 'select count(*)',
  '2024-05-01 00:00:00+00', '2024-05-01 00:01:00+00');
INSERT INTO t_w (name, log_store_name, query_start_time, query_end_time)
  VALUES ('secret-check', 'app-log', '2024-11-01', '2024-11-02') RETURNING uuid IS NOT NULL;
SELECT count(*) FROM bls_download_link('emu', (SELECT uuid FROM t_w WHERE name = 'secret-check'));
DELETE FROM t_w WHERE name = 'secret-check';
\! python3 test/bls_emulator.py ctl fault '{"type": "http", "status": 500, "call": "CreateDownloadTask"}'
INSERT INTO t_w (name, log_store_name, query_start_time, query_end_time)
  VALUES ('secret-check-2', 'app-log', '2024-11-01', '2024-11-02');
\! python3 test/bls_emulator.py ctl reset
\! python3 test/bls_emulator.py ctl fault '{"type": "http", "status": 401, "count": -1}'
SELECT count(*) FROM t_ok;
\! python3 test/bls_emulator.py ctl reset
\! python3 test/bls_emulator.py ctl fault '{"type": "http", "status": 403, "count": -1}'
SELECT count(*) FROM t_ok;
\! python3 test/bls_emulator.py ctl reset
\! python3 test/bls_emulator.py ctl fault '{"type": "http", "status": 500, "count": -1}'
SELECT count(*) FROM t_ok;
\! python3 test/bls_emulator.py ctl reset
\! python3 test/bls_emulator.py ctl fault '{"type": "success_false", "code": "InternalError", "message": "try again"}'
SELECT count(*) FROM t_ok;
\! python3 test/bls_emulator.py ctl fault '{"type": "malformed"}'
SELECT count(*) FROM t_ok;
\! python3 test/bls_emulator.py ctl fault '{"type": "delay_headers", "ms": 1500, "count": -1}'
SELECT count(*) FROM t_quick;
\! python3 test/bls_emulator.py ctl reset
SELECT count(*) FROM t_nowhere;
EOF
	[ -n "$tls_ddl" ] && echo 'SELECT count(*) FROM t_tls;'
	echo 'SELECT count(*) FROM t_ok;'
} | psql -X -a >"$out/client.out" 2>&1
emuctl reset

expect=("HTTP status 401" "HTTP status 403" "HTTP status 500" "timed out"
	"could not reach" "reported a failure" "invalid response" "DEBUG:")
[ -n "$tls_ddl" ] && expect+=("could not verify the TLS certificate")
missing=
for e in "${expect[@]}"; do
	grep -qF -- "$e" "$out/client.out" || missing="$missing \"$e\""
done
if [ -z "$missing" ]; then
	ok "scans succeeded and failed as provoked"
else
	not_ok "scans succeeded and failed as provoked (missing:$missing)"
fi
absent "no secret in client output, messages at DEBUG5, EXPLAIN" "$out/client.out"

# 3. pg_stat_activity while a scan waits for the service
emuctl fault '{"type": "delay_headers", "ms": 2000}'
psql -X -c "SELECT count(*) FROM t_ok /* slow scan */" >"$out/slow.out" 2>&1 &
slow=$!
: >"$out/activity.out"
for _ in $(seq 1 40); do
	psql -X -At -c "SELECT pid, state, wait_event_type, wait_event, query
		FROM pg_stat_activity WHERE pid <> pg_backend_pid()
		AND query LIKE '%slow scan%' AND state = 'active'" >"$out/activity.out" 2>&1
	[ -s "$out/activity.out" ] && break
	sleep 0.05
done
# the whole view, as seen at that moment
psql -X -At -c "SELECT * FROM pg_stat_activity" >>"$out/activity.out" 2>&1
wait $slow
emuctl reset
if grep -q 'slow scan' "$out/activity.out" && grep -q '(1 row)' "$out/slow.out"; then
	ok "pg_stat_activity showed the running scan"
else
	not_ok "pg_stat_activity showed the running scan"
fi
absent "no secret in pg_stat_activity" "$out/activity.out"

# 4. the server log
sleep 0.5
log=$(psql -X -At -c "SELECT CASE WHEN l LIKE '/%' THEN l
	ELSE current_setting('data_directory') || '/' || l END
	FROM pg_current_logfile() AS l")
if [ -n "$log" ] && [ -r "$log" ]; then
	cp "$log" "$out/server.log"
fi
if [ -s "$out/server.log" ] &&
	grep -q 'statement: SELECT count(\*) FROM t_bad_token' "$out/server.log" &&
	grep -q 'DEBUG: ' "$out/server.log" &&
	grep -q 'HTTP status 401' "$out/server.log"; then
	ok "server log has the scans' statements, errors and DEBUG5 messages"
else
	not_ok "server log has the scans' statements, errors and DEBUG5 messages (log: ${log:-none})"
fi
absent "no secret in the server log" "$out/server.log"
echo "1..$n"
