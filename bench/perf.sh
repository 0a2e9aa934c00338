#!/usr/bin/env bash
# Performance figures for bls_fdw, side by side in one run:
#
#   bash bench/perf.sh [-n REPS] [--no-million] [--baseline REV|DIR]
#
# Builds the extension from this tree and installs it into a private
# directory (loaded through Debian's extension_destdir, so the system's
# PostgreSQL directory is left alone; plain `make install` where that setting
# does not exist), builds bench/floor.c, starts its own BLS emulators on
# loopback (in their own run directory) and a throwaway PostgreSQL cluster
# (pg_virtualenv -t; of scripts/pg-version.sh's version, BLS_PG_VERSION=18
# for another installed one), and prints:
#   1. bls_fdw: full scans of 100,000 tasks fetching every column, page_size
#      1000 and 100 (readahead 4, the default) and 1000 with readahead 0:
#      rows/s (median of REPS, default 5) and the backend's CPU per row
#      (/proc/<pid>/stat), and the emulator's own CPU share meanwhile;
#   2. the floor: bench/floor.c, libcurl + json-c with no PostgreSQL;
#   3. the SQL alternative: COPY ... FROM PROGRAM 'curl ...' per page and
#      jsonb_to_recordset in a plpgsql loop;
#   4b. INSERT: 50 creates with 30 ms added to every response, batch_size 1
#      (serial), 10 (the default) and 16;
#   4. latency: a 50-page scan with 30 ms added to every response, serial
#      and with readahead 2, 4 and 8, against the ideal;
#   5. memory: the backend's peak RSS over a 1,000,000-task scan (skipped
#      with --no-million; that emulator takes ~15 s and ~1 GB to start);
#   6. requests: requests and bytes for LIMIT 10, a one-hour created_time
#      window, one project and a full scan;
# then the machine and a summary of ratios against the targets.  Everything
# it starts is stopped on exit.  No pass/fail thresholds: exit status 1 only
# if the setup or a measurement failed.  Takes about 3-5 minutes.
#
# --baseline REV|DIR also builds another version (a git revision of this
# repository, or a copy of the source tree DIR, which is left untouched),
# installs it into a second private directory, and runs the scans of section
# 1 with it too, in a database whose extension_destdir is that directory,
# alternating with this tree's scans so that the machine's load falls on both
# alike; the summary adds this tree / baseline ratios.
set -uo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"

reps=5
million=1
baseline=
while [ $# -gt 0 ]; do
	case "$1" in
	-n|--reps) reps=$2; shift 2 ;;
	--no-million) million=0; shift ;;
	--baseline) [ $# -ge 2 ] || { echo "--baseline needs REV or DIR" >&2; exit 2; }
		baseline=$2; shift 2 ;;
	-h|--help) sed -n '2,34p' "$0"; exit 0 ;;
	*) echo "usage: $0 [-n REPS] [--no-million] [--baseline REV|DIR]" >&2; exit 2 ;;
	esac
done
case $reps in ''|*[!0-9]*) echo "REPS must be a number" >&2; exit 2 ;; esac
[ "$reps" -ge 1 ] && [ "$reps" -le 50 ] || { echo "REPS must be 1 to 50" >&2; exit 2; }

. bench/lib.sh
bench_init perf

# -- prerequisites: curl (the SQL alternative), headers for the floor
bench_need_cmd curl curl
bench_need_file libcurl4-openssl-dev /usr/include/curl/curl.h /usr/include/x86_64-linux-gnu/curl/curl.h
bench_need_file libjson-c-dev /usr/include/json-c/json.h
bench_need_cmd postgresql-common pg_virtualenv
bench_install_missing || exit 1

# the million-task emulator takes ~15 s of CPU to generate its data set:
# start it first, so that it does so while the build runs, not while measuring
big_pid=
if [ $million = 1 ]; then
	python3 test/bls_emulator.py serve --port 0 --port-file "$run/big.port" \
		--pid-file "$run/big.pid" --quiet --tasks 1000000 --seed 42 \
		>"$run/big.out" 2>&1 &
	big_pid=$!
	bench_pids="$bench_pids $big_pid"
fi

bench_build_install || exit 1
if [ -n "$baseline" ]; then
	[ -n "${BENCH_DESTDIR:-}" ] ||
		{ echo "--baseline needs PostgreSQL's extension_destdir" >&2; exit 1; }
	echo "== build and install the baseline, $baseline (private destdir)"
	mkdir "$run/base-src"
	if [ -d "$baseline" ]; then
		# a copy: the other tree is not built in, nor written to
		tar -C "$baseline" --exclude=./.git --exclude=./.inst --exclude=./.run -cf - . |
			tar -C "$run/base-src" -xf - ||
			{ echo "could not copy $baseline" >&2; exit 1; }
		base_label="$(cd "$baseline" && pwd) ($(git -C "$baseline" describe --always --dirty 2>/dev/null || echo '?'))"
	elif rev=$(git rev-parse --verify -q "$baseline^{commit}"); then
		git archive "$rev" | tar -C "$run/base-src" -xf - ||
			{ echo "could not extract $baseline" >&2; exit 1; }
		base_label="$baseline ($(git rev-parse --short "$rev"))"
	else
		echo "--baseline: $baseline is neither a directory nor a git revision" >&2; exit 2
	fi
	if ! make -s -j2 -C "$run/base-src" >"$run/base-build.out" 2>&1 ||
		! make -s -C "$run/base-src" install DESTDIR="$run/inst-base" >>"$run/base-build.out" 2>&1; then
		cat "$run/base-build.out"; echo "baseline build failed" >&2; exit 1
	fi
	export BENCH_BASELINE_DESTDIR=$run/inst-base BENCH_BASELINE_LABEL=$base_label
fi
if ! cc -O2 -Wall -o "$run/floor" bench/floor.c -lcurl -ljson-c >"$run/floor.out" 2>&1; then
	cat "$run/floor.out"; echo "could not build bench/floor.c" >&2; exit 1
fi

bench_start_emulator auth BENCH_EMU_AUTH --tasks 100000 || exit 1
bench_start_emulator noauth BENCH_EMU_NOAUTH --tasks 100000 --no-auth || exit 1
bench_start_emulator lat BENCH_EMU_LAT --tasks 5000 --latency-ms 30 || exit 1
BENCH_EMU_BIG=
if [ -n "$big_pid" ]; then
	for _ in $(seq 1 1200); do      # up to 2 minutes
		[ -s "$run/big.port" ] && break
		kill -0 "$big_pid" 2>/dev/null || break
		sleep 0.1
	done
	if [ -s "$run/big.port" ]; then
		BENCH_EMU_BIG=http://127.0.0.1:$(cat "$run/big.port")
	else
		cat "$run/big.out"
		echo "   (the 1,000,000-task emulator did not start: memory is not measured)"
	fi
fi
export BENCH_EMU_AUTH BENCH_EMU_NOAUTH BENCH_EMU_LAT BENCH_EMU_BIG
export BENCH_EMU_AUTH_LOG=$run/auth.log BENCH_FLOOR=$run/floor

bench_machine

# the cluster exists only while bench/perf.py runs
bench_pg_run python3 bench/perf.py --reps "$reps" --summary "$run/summary"
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
