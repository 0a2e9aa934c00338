#!/usr/bin/env bash
# Time slices of a long log_records window against one marker chain, in one
# run:
#
#   bash bench/slices.sh [-n REPS]
#
# Builds the extension from this tree into a private directory (through
# bench/lib.sh, as bench/logrecords.sh does), starts a BLS emulator on
# loopback that answers every request after latency_ms 100 and whose
# prod-web/nginx-access writes its 8 records every 86 seconds
# (logrecord_interval_s), so that a two-day window holds about 16,000
# records, and a throwaway PostgreSQL cluster; then scans that window (every
# column, pages of 1000) with slices '4' (the default) and slices '1' (one
# marker chain, as before slices), taking turns, REPS times each (default
# 3), and prints the median wall times, their ratio (target: at most 0.5),
# the requests and the most in flight, and whether the two return the same
# rows in the same order (ORDER BY time ASC and DESC: every column of every
# row compared).  No pass/fail thresholds: exit status 1 only if the setup
# or a measurement failed.  Takes about a minute.
set -uo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"

. bench/lib.sh
bench_reps 2,19 "$@"
bench_emulated slices BENCH_EMU_AUTH --tasks 10

bench_pg_run python3 bench/slices.py --reps "$reps"
