#!/usr/bin/env bash
# Performance figures for bls_fdw's log_records (QueryLogRecord), in one run:
#
#   bash bench/logrecords.sh [-n REPS] [--no-million] [--sql-only]
#
# Builds the extension from this tree into a private directory (as
# bench/perf.sh does, through bench/lib.sh), starts two BLS emulators on
# loopback in their own run directory (one checking signatures, for bls_fdw;
# one --no-auth, for curl) and a throwaway PostgreSQL cluster
# (pg_virtualenv -t), and prints, for prod-web/nginx-access (8 records a
# second: 12,500 s hold 100,000 records):
#   1. bls_fdw: rows/s of a 100,000-record scan (median of REPS, default 5),
#      SELECT count(*) and every column, readahead default and 0; backend
#      CPU per row (/proc/<pid>/stat), the emulator's CPU share, requests
#      per scan and the most in flight at once;
#   2. the SQL alternative on the same data: a plpgsql loop of COPY ... FROM
#      PROGRAM 'curl ...' per page of 1000 (following nextMarker), rows
#      expanded with jsonb_array_elements; rows/s, bls_fdw / SQL alternative,
#      and whether both return the same values;
#   3. memory: the backend's peak RSS (VmHWM) over a 100,000- and a
#      1,000,000-record scan, each in a fresh session, and the difference
#      (--no-million: only the first);
#   4. latency: a 20-page scan with the emulator's latency_ms at 30,
#      readahead 0 and default: wall time and ratio;
# then the machine and a summary.  --sql-only runs section 2 without
# bls_fdw (for a tree without log_records).  Everything it starts is stopped
# on exit.  No pass/fail thresholds: exit status 1 only if the setup or a
# measurement failed.  Takes about 2 minutes (2 cores).
set -uo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"

reps=5
py_opts=()
while [ $# -gt 0 ]; do
	case "$1" in
	-n|--reps) [ $# -ge 2 ] || { echo "-n needs REPS" >&2; exit 2; }
		reps=$2; shift 2 ;;
	--no-million|--sql-only) py_opts+=("$1"); shift ;;
	-h|--help) sed -n '2,28p' "$0"; exit 0 ;;
	*) echo "usage: $0 [-n REPS] [--no-million] [--sql-only]" >&2; exit 2 ;;
	esac
done
case $reps in ''|*[!0-9]*) echo "REPS must be a number" >&2; exit 2 ;; esac
[ "$reps" -ge 1 ] && [ "$reps" -le 50 ] || { echo "REPS must be 1 to 50" >&2; exit 2; }

. bench/lib.sh
bench_init logrecords

bench_need_cmd curl curl
bench_need_cmd postgresql-common pg_virtualenv
bench_install_missing || exit 1
bench_build_install || exit 1

# records are computed on demand: few tasks, a quick start; each answer is
# rendered once (the scans repeat the same requests), so that the Python
# emulator, sharing the machine, is not what limits rows/s
bench_start_emulator auth BENCH_EMU_AUTH --tasks 10 --logrecord-cache-mb 512 || exit 1
bench_start_emulator noauth BENCH_EMU_NOAUTH --tasks 10 --no-auth --logrecord-cache-mb 512 || exit 1
export BENCH_EMU_AUTH BENCH_EMU_NOAUTH

bench_machine

# the cluster exists only while bench/logrecords.py runs
bench_pg_run python3 bench/logrecords.py --reps "$reps" --summary "$run/summary" "${py_opts[@]}"
rc=$?

echo
echo "== summary"
if [ -s "$run/summary" ]; then
	cat "$run/summary"
else
	echo "did not finish (exit $rc)"
fi
[ $rc = 0 ] || exit 1
exit 0
