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

. bench/lib.sh
bench_reps 2,14 "$@"
bench_emulated logrecords_agg BENCH_EMU_AUTH --tasks 10

bench_pg_run python3 bench/logrecords_agg.py --reps "$reps" --summary "$run/summary"
bench_summary_exit "$run/summary" $?
