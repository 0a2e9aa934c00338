#!/usr/bin/env bash
# Figures for the account-wide request budget (max_concurrent_requests):
#
#   bash bench/budget.sh [-n REPS]
#
# Builds the extension from this tree into a private directory (bench/lib.sh),
# starts a BLS emulator on loopback and a throwaway PostgreSQL cluster, and
# prints:
#   1. six backends scanning 1,000 download tasks at once (10 pages of 100,
#      readahead 4, 30 ms added to every response), with
#      max_concurrent_requests '2' and with no budget ('0'): the most
#      requests in flight at once at the emulator for the access key, the
#      wall time, and whether every answer was right;
#   2. the cost of taking a slot: one backend, 2,000 requests in a row
#      (page_size 50 over 100,000 tasks, readahead 0, no added latency),
#      with the default budget ('15') and none ('0'), alternating, median of
#      REPS (default 3): microseconds per request each, and the difference.
# No pass/fail thresholds; exit status 1 only if the setup or a measurement
# failed.  Takes about a minute.
set -uo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"

if [ -n "${BENCH_BUDGET_INNER:-}" ]; then
	# inside the cluster
	emu() { BLS_EMULATOR_URL=$BENCH_EMU python3 test/bls_emulator.py ctl "$@"; }
	sql() { psql -X -A -t -q -d postgres -c "$1"; }
	ms_now() { echo $(($(date +%s%N) / 1000000)); }
	psql -X -q -v ON_ERROR_STOP=1 -d postgres <<-SQL || exit 1
	CREATE EXTENSION bls_fdw;
	CREATE SERVER emu FOREIGN DATA WRAPPER bls_fdw OPTIONS (endpoint '$BENCH_EMU');
	CREATE USER MAPPING FOR CURRENT_USER SERVER emu
	  OPTIONS (access_key_id 'emulator-ak', secret_access_key 'emulator-sk');
	CREATE FOREIGN TABLE tasks (uuid text, name text) SERVER emu;
	CREATE FOREIGN TABLE small_pages (uuid text) SERVER emu
	  OPTIONS (page_size '50', readahead '0');
	SQL
	q="SELECT count(*), md5(string_agg(uuid || name, ',' ORDER BY uuid)) FROM (SELECT * FROM tasks LIMIT 1000) t"
	want=$(sql "$q")

	echo "== 1. six backends at once, 10 pages each, 30 ms a response"
	printf '   %-28s %12s %10s %8s\n' "max_concurrent_requests" "max in flight" "wall ms" "right"
	emu config '{"latency_ms": 30}' >/dev/null
	for budget in 2 0; do
		sql "ALTER SERVER emu OPTIONS (SET max_concurrent_requests '$budget')" 2>/dev/null ||
			sql "ALTER SERVER emu OPTIONS (ADD max_concurrent_requests '$budget')"
		dir=$(mktemp -d)
		emu inflight-ak-clear
		t0=$(ms_now)
		for i in 1 2 3 4 5 6; do sql "$q" >"$dir/$i" 2>&1 & done
		wait
		t1=$(ms_now)
		right=$(grep -lxF "$want" "$dir"/* | wc -l)
		rm -rf "$dir"
		printf '   %-28s %12s %10s %8s\n' "'$budget'$([ "$budget" = 0 ] && echo ' (none)')" \
			"$(emu max-inflight-ak emulator-ak)" "$((t1 - t0))" "$right/6"
	done
	emu config '{"latency_ms": 0}' >/dev/null

	echo "== 2. taking a slot: 2,000 requests in a row, median of $BENCH_REPS"
	# wall ms and the backend's CPU ms (utime + stime of /proc/PID/stat) of one scan
	one_scan() {
		psql -X -A -t -q -d postgres <<-'SQL'
		SELECT 'cpu0', (split_part(s, ' ', 14)::bigint + split_part(s, ' ', 15)::bigint) * 10
		  FROM pg_read_file('/proc/self/stat') AS s;
		SELECT 'wall0', (extract(epoch FROM clock_timestamp()) * 1000)::bigint;
		SELECT 'count', count(*) FROM small_pages;
		SELECT 'wall1', (extract(epoch FROM clock_timestamp()) * 1000)::bigint;
		SELECT 'cpu1', (split_part(s, ' ', 14)::bigint + split_part(s, ' ', 15)::bigint) * 10
		  FROM pg_read_file('/proc/self/stat') AS s;
		SQL
	}
	declare -A wall cpu
	for _ in $(seq 1 "$BENCH_REPS"); do
		for budget in 15 0; do
			sql "ALTER SERVER emu OPTIONS (SET max_concurrent_requests '$budget')"
			out=$(one_scan | tr '|' ' ')
			grep -qx "count 100000" <<<"$out" || { echo "wrong answer: $out" >&2; exit 1; }
			wall[$budget]="${wall[$budget]:-} $(awk '$1 == "wall0" {a = $2} $1 == "wall1" {b = $2} END {print b - a}' <<<"$out")"
			cpu[$budget]="${cpu[$budget]:-} $(awk '$1 == "cpu0" {a = $2} $1 == "cpu1" {b = $2} END {print b - a}' <<<"$out")"
		done
	done
	median() { tr ' ' '\n' | grep . | sort -n | awk '{a[NR] = $1} END {print a[int((NR + 1) / 2)]}'; }
	printf '   %-24s %9s %13s %9s %13s\n' "max_concurrent_requests" "wall ms" "wall us/req" "CPU ms" "CPU us/req"
	for budget in 15 0; do
		w=$(median <<<"${wall[$budget]}")
		c=$(median <<<"${cpu[$budget]}")
		printf '   %-24s %9s %13s %9s %13s\n' "'$budget'$([ "$budget" = 0 ] && echo ' (none)' || echo ' (default)')" \
			"$w" "$((w * 1000 / 2000))" "$c" "$((c * 1000 / 2000))"
	done
	echo "   backend CPU for a slot taken and given back: $((($(median <<<"${cpu[15]}") - $(median <<<"${cpu[0]}")) * 1000 / 2000)) us per request" \
		"(CPU ticks are 10 ms: +-5 us here)"
	echo "   all runs, wall ms: with${wall[15]}; without${wall[0]}; CPU ms: with${cpu[15]}; without${cpu[0]}"
	exit 0
fi

. bench/lib.sh
bench_reps 2,19 "$@"
bench_emulated budget BENCH_EMU --tasks 100000
BENCH_BUDGET_INNER=1 BENCH_EMU=$BENCH_EMU BENCH_REPS=$reps bench_pg_run bash "$0" || exit 1
exit 0
