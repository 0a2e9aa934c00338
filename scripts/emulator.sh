#!/usr/bin/env bash
# Start the BLS emulator in the background on a free loopback port and print
# shell assignments for its URL and pid:  eval "$(scripts/emulator.sh start [args])"
# Stop it with:  scripts/emulator.sh stop
# BLS_EMULATOR_NAME (default "emulator") names its files in $BLS_RUN_DIR, so
# that a second instance can run beside the first, e.g. one serving https:
#   BLS_EMULATOR_NAME=emulator-tls scripts/emulator.sh start --tls-cert C --tls-key K
# With --tls-cert, the URL printed is https.
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
rundir=${BLS_RUN_DIR:-$top/.run}
name=${BLS_EMULATOR_NAME:-emulator}

case "${1:-}" in
start)
	shift
	mkdir -p "$rundir"
	rm -f "$rundir/$name.port"
	scheme=http
	for a in "$@"; do if [ "$a" = --tls-cert ]; then scheme=https; fi; done
	python3 "$top/test/bls_emulator.py" serve --port 0 \
		--port-file "$rundir/$name.port" --pid-file "$rundir/$name.pid" \
		--log-file "$rundir/$name.log" --quiet "$@" \
		>"$rundir/$name.out" 2>&1 &
	for _ in $(seq 1 300); do
		[ -s "$rundir/$name.port" ] && break
		kill -0 $! 2>/dev/null || { cat "$rundir/$name.out" >&2; exit 1; }
		sleep 0.1
	done
	[ -s "$rundir/$name.port" ] || { echo "emulator did not start" >&2; exit 1; }
	echo "export BLS_EMULATOR_URL=$scheme://127.0.0.1:$(cat "$rundir/$name.port")"
	echo "export BLS_EMULATOR_PID=$!"
	;;
stop)
	if [ -s "$rundir/$name.pid" ]; then
		kill "$(cat "$rundir/$name.pid")" 2>/dev/null || true
		rm -f "$rundir/$name.pid"
	fi
	;;
*)
	echo "usage: $0 start [emulator options] | stop" >&2
	exit 2
	;;
esac
