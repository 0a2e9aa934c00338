#!/usr/bin/env bash
# Check that a backend waiting on BLS notices the postmaster's death at
# once, rather than when its request times out: a backend left behind by a
# dead postmaster holds the data directory's shared memory and locks.
#
# In a throwaway cluster of its own (pg_virtualenv), a query waits on an
# endpoint that accepts connections and never answers (BLS_HANG_URL, a TLS
# handshake that never completes) with a 60 s connect timeout.  Once it
# waits (wait event Extension), the postmaster is killed with SIGKILL; the
# backend must be gone within 3 s.  Before the fix it stayed until the
# connect timeout.  Prints TAP lines; run by test/run_tests.sh.
set -uo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"
: "${BLS_HANG_URL:?BLS_HANG_URL is not set (test/run_tests.sh sets it)}"

if [ -z "${BLS_PM_DEATH_CLUSTER:-}" ]; then
	export BLS_PM_DEATH_CLUSTER=1
	# the cluster is dead when pg_virtualenv cleans up: its complaint is not ours
	pg_virtualenv -t -v "$("$top/scripts/pg-version.sh")" bash "$0" "$@"
	exit 0
fi

psql -X -q -v ON_ERROR_STOP=1 -d postgres <<SQL || { echo "not ok 1 - set up"; exit 0; }
CREATE EXTENSION bls_fdw;
CREATE SERVER hang FOREIGN DATA WRAPPER bls_fdw
  OPTIONS (endpoint '$BLS_HANG_URL', connect_timeout_ms '60000',
           request_timeout_ms '60000', max_retries '0');
CREATE USER MAPPING FOR CURRENT_USER SERVER hang
  OPTIONS (access_key_id 'emulator-ak', secret_access_key 'emulator-sk');
CREATE FOREIGN TABLE hang_tasks (uuid text) SERVER hang;
SQL

psql -X -q -d postgres -c "SELECT count(*) /* pm-death */ FROM hang_tasks" >/dev/null 2>&1 &
pid=
for _ in $(seq 1 100); do
	pid=$(psql -X -A -t -q -d postgres -c "SELECT pid FROM pg_stat_activity WHERE query LIKE '%pm-death%' AND query NOT LIKE '%pg_stat_activity%' AND wait_event_type = 'Extension'" 2>/dev/null)
	[ -n "$pid" ] && break
	sleep 0.1
done
if [ -z "$pid" ]; then
	echo "not ok 1 - the query never waited on BLS"
	exit 0
fi
echo "ok 1 - the query waits on BLS (backend $pid)"


pm=$(ps -o ppid= -p "$pid" | tr -d ' ')
kill -KILL "$pm"
gone=
for i in $(seq 1 30); do
	if ! kill -0 "$pid" 2>/dev/null; then gone=$i; break; fi
	sleep 0.1
done
if [ -n "$gone" ]; then
	echo "ok 2 - the backend exited $((gone * 100)) ms after the postmaster died"
else
	echo "not ok 2 - the backend was still waiting 3 s after the postmaster died"
	kill -KILL "$pid" 2>/dev/null
fi
wait
exit 0
