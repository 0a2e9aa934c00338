#!/usr/bin/env bash
# The account-wide request budget across backends (max_concurrent_requests),
# in a throwaway cluster of its own (pg_virtualenv), against the emulator
# (BLS_EMULATOR_URL), which records the most requests in flight at once per
# access key.
#
#  1. Six backends scanning at once with max_concurrent_requests '2' never
#     have more than 2 requests in flight at the service, and all answer
#     right; with no budget ('0') the same scans do have more (so the check
#     can fail).
#  2. A backend killed with SIGKILL while it holds a slot, and one killed
#     while it waits for a slot: the postmaster then restarts every backend;
#     once it has, both slots can be had at once again (a single scan's
#     read-ahead takes the second one, which it only does when nobody is
#     announced as waiting either).
#
# Prints TAP lines; run by test/run_tests.sh.
set -uo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"
: "${BLS_EMULATOR_URL:?BLS_EMULATOR_URL is not set (test/run_tests.sh sets it)}"

if [ -z "${BLS_BUDGET_CLUSTER:-}" ]; then
	export BLS_BUDGET_CLUSTER=1
	pg_virtualenv -t -v "$("$top/scripts/pg-version.sh")" bash "$0" "$@"
	exit $?
fi

emu() { python3 test/bls_emulator.py ctl "$@"; }
sql() { psql -X -A -t -q -d postgres -c "$1"; }
n=0
check() {	# check DESCRIPTION COMMAND...
	local what=$1; shift
	n=$((n + 1))
	if "$@"; then echo "ok $n - $what"; else echo "not ok $n - $what"; fi
}

emu reset >/dev/null
psql -X -q -v ON_ERROR_STOP=1 -d postgres <<SQL || { echo "not ok 1 - set up"; exit 0; }
CREATE EXTENSION bls_fdw;
CREATE SERVER emu FOREIGN DATA WRAPPER bls_fdw
  OPTIONS (endpoint '$BLS_EMULATOR_URL', max_concurrent_requests '2');
CREATE USER MAPPING FOR CURRENT_USER SERVER emu
  OPTIONS (access_key_id 'emulator-cluster-ak', secret_access_key 'emulator-cluster-sk');
CREATE FOREIGN TABLE tasks (uuid text, name text) SERVER emu;
SQL

# the right answer, read alone
want=$(sql "SELECT count(*), md5(string_agg(uuid || name, ',' ORDER BY uuid)) FROM tasks")

# six scans at once; prints how many answered right, then the maximum
six_scans() {
	local dir
	dir=$(mktemp -d)
	emu inflight-ak-clear
	for i in 1 2 3 4 5 6; do
		sql "SELECT count(*), md5(string_agg(uuid || name, ',' ORDER BY uuid)) FROM tasks" \
			>"$dir/$i" 2>&1 &
	done
	wait
	grep -lxF "$want" "$dir"/* | wc -l
	emu max-inflight-ak emulator-cluster-ak
	rm -rf "$dir"
}

# requests take 30 ms at the emulator, so that scans overlap
emu config '{"latency_ms": 30}' >/dev/null
read -r right most < <(six_scans | tr '\n' ' ')
check "six scans with max_concurrent_requests 2 all answer right ($right of 6)" [ "$right" = 6 ]
check "they never had more than 2 requests in flight ($most)" [ "$most" -le 2 ]
check "they had 2 in flight at once ($most)" [ "$most" -eq 2 ]
sql "ALTER SERVER emu OPTIONS (SET max_concurrent_requests '0')"
read -r right most < <(six_scans | tr '\n' ' ')
check "without a budget the same scans have more in flight ($most), all right ($right)" \
	[ "$most" -gt 2 ] && [ "$right" = 6 ]
sql "ALTER SERVER emu OPTIONS (SET max_concurrent_requests '2')"
emu config '{"latency_ms": 0}' >/dev/null

# requests of the key in flight at the emulator now
in_flight_now() {
	python3 -c 'import json, os, sys
sys.path.insert(0, "test")
import bls_emulator as e
doc = json.loads(e._ctl_request(os.environ["BLS_EMULATOR_URL"], "GET", "accounts/inflight"))
print(doc["in_flight"].get("emulator-cluster-ak", 0))'
}

# the pid of the backend running the query marked $1, once the emulator
# holds $2 requests of the key in flight (so that it holds, or waits for, a slot)
backend_of() {
	local pid held
	for _ in $(seq 1 100); do
		pid=$(sql "SELECT pid FROM pg_stat_activity WHERE query LIKE '%$1%' AND query NOT LIKE '%pg_stat_activity%' AND wait_event_type = 'Extension'" 2>/dev/null)
		held=$(in_flight_now)
		if [ -n "$pid" ] && [ "$held" -ge "$2" ]; then echo "$pid"; return 0; fi
		sleep 0.1
	done
	return 1
}

# wait until the server accepts connections again after a crash restart
recovered() {
	for _ in $(seq 1 300); do
		sql "SELECT 1" >/dev/null 2>&1 && return 0
		sleep 0.1
	done
	return 1
}

# both slots free: one scan of 10 pages, 100 ms each, has its read-ahead in
# flight beside its page (nothing in flight before it starts)
both_slots_free() {
	for _ in $(seq 1 100); do
		[ "$(emu max-inflight-ak emulator-cluster-ak)" = 0 ] && break
		emu inflight-ak-clear
		sleep 0.1
	done
	emu config '{"latency_ms": 100}' >/dev/null
	local got
	got=$(sql "SELECT count(*), md5(string_agg(uuid || name, ',' ORDER BY uuid)) FROM tasks")
	emu config '{"latency_ms": 0}' >/dev/null
	[ "$got" = "$want" ] && [ "$(emu max-inflight-ak emulator-cluster-ak)" = 2 ]
}

# kill -KILL the backend running the query marked $1 (its $2nd request in
# flight), with two scans holding the slots whose answers take 3 s
kill_scenario() {
	local what=$1 marker=$2 pid
	emu reset >/dev/null
	emu fault '{"type": "delay_headers", "ms": 3000, "count": 2}' >/dev/null
	sql "SELECT count(*) /* holder-1 */ FROM tasks" >/dev/null 2>&1 &
	backend_of holder-1 1 >/dev/null
	sql "SELECT count(*) /* holder-2 */ FROM tasks" >/dev/null 2>&1 &
	backend_of holder-2 2 >/dev/null
	sql "SELECT count(*) /* waiter */ FROM tasks" >/dev/null 2>&1 &
	pid=$(backend_of "$marker" 2)
	if [ -z "$pid" ]; then
		check "a backend $what is found" false
		wait
		return
	fi
	kill -KILL "$pid"
	wait
	check "the server is back after a backend $what was killed" recovered
	check "afterwards both slots can be had at once" both_slots_free
}
kill_scenario "holding a slot" holder-1
kill_scenario "waiting for a slot" waiter
exit 0
