#!/usr/bin/env bash
# Hardening figures for bls_fdw, in one command:
#
#   bench/hardening.sh [-n REPS] [--scans N] [--fuzz-seconds S]
#
# Builds and installs the extension, starts its own BLS emulator (in its own
# run directory), a silent TCP listener (test/hang_server.py) and a
# throwaway PostgreSQL cluster (pg_virtualenv -t; scripts/pg-version.sh), then prints:
#   - faults: a matrix of emulator faults, each followed by a check that
#     the backend and the postmaster survived (one line per case);
#   - cancels: pg_cancel_backend and statement_timeout while (a) connecting
#     (an https:// endpoint on the silent listener: the TLS handshake never
#     completes), (b) waiting for headers (delay_headers) and (c) in the
#     middle of a slow body (delay_body), REPS times each: median and worst
#     time from the cancel to the error reaching the client; and
#     pg_terminate_backend during a slow request (the postmaster must not
#     restart);
#   - leaks: backend RSS and open fds at scan 100 and at the last of N scans
#     (of download_tasks, and of log_records)
#     in one session, and how many connections the emulator saw;
#   - fuzz: if test/fuzz/Makefile exists, its libFuzzer target for S seconds.
# and a summary block.  Everything it starts is stopped on exit.  No
# pass/fail thresholds; exit status 3 if a fault restarted the postmaster,
# 1 if the setup failed, else 0.
set -uo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"

reps=10
scans=1000
fuzz_seconds=${FUZZ_SECONDS:-60}
while [ $# -gt 0 ]; do
	case "$1" in
	-n|--reps) reps=$2; shift 2 ;;
	--scans) scans=$2; shift 2 ;;
	--fuzz-seconds) fuzz_seconds=$2; shift 2 ;;
	-h|--help) sed -n '2,24p' "$0"; exit 0 ;;
	*) echo "usage: $0 [-n REPS] [--scans N] [--fuzz-seconds S]" >&2; exit 2 ;;
	esac
done

run=$(mktemp -d /tmp/bls-hardening.XXXXXX)
export BLS_RUN_DIR=$run
hang_pid=
cleanup() {
	scripts/emulator.sh stop
	[ -n "$hang_pid" ] && kill "$hang_pid" 2>/dev/null
	rm -rf "$run"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

echo "== build and install"
if ! { make -s -j2 && make -s install; } >"$run/build.out" 2>&1; then
	cat "$run/build.out"
	echo "build failed" >&2
	exit 1
fi

eval "$(scripts/emulator.sh start --tasks 200 --seed 42)" || exit 1
export BLS_EMULATOR_URL

python3 test/hang_server.py --port-file "$run/hang.port" >"$run/hang.out" 2>&1 &
hang_pid=$!
for _ in $(seq 1 100); do [ -s "$run/hang.port" ] && break; sleep 0.05; done
[ -s "$run/hang.port" ] || { echo "hang_server did not start" >&2; exit 1; }
export BLS_HANG_PORT=$(cat "$run/hang.port")

# the cluster exists only while bench/hardening.py runs; bounded in time
timeout 1800 pg_virtualenv -t -v "$(scripts/pg-version.sh)" \
	python3 bench/hardening.py --reps "$reps" --scans "$scans" --summary "$run/summary" \
	2> >(grep -v -e '^Creating new PostgreSQL cluster' -e '^Dropping cluster' >&2)
rc=$?

fuzz_line="fuzz: skipped (no test/fuzz/Makefile)"
if [ -f test/fuzz/Makefile ]; then
	echo "== fuzz (test/fuzz, ${fuzz_seconds}s)"
	before=$(ls test/fuzz/build/artifacts 2>/dev/null | wc -l)
	timeout $((fuzz_seconds + 600)) make -s -C test/fuzz run FUZZ_SECONDS="$fuzz_seconds" \
		>"$run/fuzz.out" 2>&1
	frc=$?
	after=$(ls test/fuzz/build/artifacts 2>/dev/null | wc -l)
	log=test/fuzz/build/fuzz.log
	execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" 2>/dev/null | tail -1)
	[ -n "$execs" ] || execs=$(sed -n 's/^Done \([0-9]*\) runs.*/\1/p' "$log" 2>/dev/null | tail -1)
	crashes=$((after - before))
	if [ $frc -ne 0 ] && [ $crashes -eq 0 ]; then
		if grep -qE 'ERROR: (libFuzzer|AddressSanitizer|UndefinedBehaviorSanitizer|LeakSanitizer)|runtime error' "$log" 2>/dev/null; then
			crashes=1
		fi
	fi
	tail -n 5 "$run/fuzz.out"
	if [ -z "$execs" ] && [ $frc -ne 0 ]; then
		fuzz_line="fuzz: did not run (make -C test/fuzz run failed, exit $frc; see above)"
	else
		fuzz_line="fuzz: ${execs:-?} executions in ${fuzz_seconds}s, $crashes crashes/leaks/timeouts"
		[ $crashes -gt 0 ] && fuzz_line="$fuzz_line (artifacts in test/fuzz/build/artifacts/)"
	fi
fi

echo
echo "== summary"
if [ -s "$run/summary" ]; then
	cat "$run/summary"
else
	echo "database part: did not finish (exit $rc)"
fi
echo "$fuzz_line"

case $rc in
0) exit 0 ;;
3) echo "a fault restarted the postmaster" >&2; exit 3 ;;
*) exit 1 ;;
esac
