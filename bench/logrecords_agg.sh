#!/usr/bin/env bash
# count(*) over a day of log_records, computed by BLS (aggregate pushdown)
# and read record by record, side by side in one run:
#
#   bash bench/logrecords_agg.sh [-n REPS]
#
# Builds the extension from this tree into a private directory (through
# bench/lib.sh), starts a BLS emulator on loopback and a throwaway cluster,
# and prints for a day of default/nginx-access (345,600 records) and an hour
# of it: the answer, the requests sent and the wall time (median of REPS,
# default 3), with bls_fdw.aggregate_pushdown on and off taking turns, with
# no latency and with the emulator's latency_ms at 30; then a summary.
# No pass/fail thresholds: exit status 1 only if the setup or a measurement
# failed (the two answers differ, say).  Takes about 2 minutes (2 cores).
set -uo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"

reps=3
while [ $# -gt 0 ]; do
	case "$1" in
	-n|--reps) [ $# -ge 2 ] || { echo "-n needs REPS" >&2; exit 2; }
		reps=$2; shift 2 ;;
	-h|--help) sed -n '2,14p' "$0"; exit 0 ;;
	*) echo "usage: $0 [-n REPS]" >&2; exit 2 ;;
	esac
done
case $reps in ''|*[!0-9]*) echo "REPS must be a number" >&2; exit 2 ;; esac
[ "$reps" -ge 1 ] && [ "$reps" -le 20 ] || { echo "REPS must be 1 to 20" >&2; exit 2; }

. bench/lib.sh
bench_init logrecords_agg

bench_need_cmd postgresql-common pg_virtualenv
bench_install_missing || exit 1
bench_build_install || exit 1
bench_start_emulator auth BENCH_EMU_AUTH --tasks 10 || exit 1
export BENCH_EMU_AUTH
bench_machine

bench_pg_run python3 bench/logrecords_agg.py --reps "$reps" --summary "$run/summary"
bench_summary_exit "$run/summary" $?
