#!/usr/bin/env bash
# Start the BLS emulator in the background on a free loopback port and print
# shell assignments for its URL and pid:  eval "$(scripts/emulator.sh start [args])"
# Stop it with:  scripts/emulator.sh stop
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
rundir=${BLS_RUN_DIR:-$top/.run}

case "${1:-}" in
start)
	shift
	mkdir -p "$rundir"
	rm -f "$rundir/emulator.port"
	python3 "$top/test/bls_emulator.py" serve --port 0 \
		--port-file "$rundir/emulator.port" --pid-file "$rundir/emulator.pid" \
		--log-file "$rundir/emulator.log" --quiet "$@" \
		>"$rundir/emulator.out" 2>&1 &
	for _ in $(seq 1 300); do
		[ -s "$rundir/emulator.port" ] && break
		kill -0 $! 2>/dev/null || { cat "$rundir/emulator.out" >&2; exit 1; }
		sleep 0.1
	done
	[ -s "$rundir/emulator.port" ] || { echo "emulator did not start" >&2; exit 1; }
	echo "export BLS_EMULATOR_URL=http://127.0.0.1:$(cat "$rundir/emulator.port")"
	echo "export BLS_EMULATOR_PID=$!"
	;;
stop)
	if [ -s "$rundir/emulator.pid" ]; then
		kill "$(cat "$rundir/emulator.pid")" 2>/dev/null || true
		rm -f "$rundir/emulator.pid"
	fi
	;;
*)
	echo "usage: $0 start [emulator options] | stop" >&2
	exit 2
	;;
esac
