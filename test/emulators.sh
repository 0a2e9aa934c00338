#!/usr/bin/env bash
# Everything the pg_regress suites talk to, started and stopped in one place:
# the BLS emulator, a second one serving https with a throwaway CA (security
# suite) and a listener that never answers (cancel suite).
#
#   eval "$(test/emulators.sh start)"   start them; print the variables the
#                                       suites read, as shell exports
#   test/emulators.sh stop              stop them
#   test/emulators.sh run CMD...        run CMD with them; stop them after.
#                                       If BLS_EMULATOR_URL is already set,
#                                       the caller's are used and none started.
#
# "make installcheck" runs pg_regress through "run", so that it needs no hand
# steps, under test/run_tests.sh and pg_buildext alike.  Files go to
# $BLS_RUN_DIR (default .run in the source tree).
#
# The reporting suite needs pg_cron in shared_preload_libraries.  Inside
# pg_virtualenv (whose cluster "regress" is a throwaway one), "run" adds it
# and restarts that cluster when it is missing and pg_cron is installed; any
# other server is left as it is, and the reporting suite then fails.
set -uo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
export BLS_RUN_DIR=${BLS_RUN_DIR:-$top/.run}
emulator="$top/scripts/emulator.sh"

start() {
	mkdir -p "$BLS_RUN_DIR" || return 1
	local out
	out=$("$emulator" start --tasks 1000 --seed 42) || return 1
	eval "$out"
	echo "export BLS_EMULATOR_URL=$BLS_EMULATOR_URL"

	# the https emulator; if this fails, the security suite fails for want
	# of its variables.  Its CA goes to a directory of its own in /tmp: the
	# database server, another OS user, must read it, and $BLS_RUN_DIR may
	# be under a private one (pgxn check unpacks into a mode-0700 directory).
	local tls port
	if tls=$(mktemp -d /tmp/bls-tls.XXXXXX) && chmod 755 "$tls" &&
		echo "$tls" >"$BLS_RUN_DIR/tls.dir" &&
		"$top/test/tls_setup.sh" "$tls" >"$BLS_RUN_DIR/tls.out" 2>&1 &&
		BLS_EMULATOR_NAME=emulator-tls "$emulator" start --tasks 50 \
			--tls-cert "$tls/server.pem" --tls-key "$tls/server-key.pem" >>"$BLS_RUN_DIR/tls.out" 2>&1; then
		port=$(cat "$BLS_RUN_DIR/emulator-tls.port")
		echo "export BLS_EMULATOR_TLS_URL=https://127.0.0.1:$port"
		# the certificate names only 127.0.0.1
		echo "export BLS_EMULATOR_TLS_WRONG_HOST_URL=https://localhost:$port"
		echo "export BLS_TLS_CA=$tls/ca.pem BLS_TLS_OTHER_CA=$tls/other-ca.pem"
	else
		echo "TLS setup failed:" >&2
		cat "$BLS_RUN_DIR/tls.out" >&2
	fi

	# accepts and never answers: an https endpoint on it stays in the
	# connect phase (TLS handshake)
	rm -f "$BLS_RUN_DIR/hang.port"
	python3 "$top/test/hang_server.py" --port-file "$BLS_RUN_DIR/hang.port" \
		--pid-file "$BLS_RUN_DIR/hang.pid" >/dev/null 2>&1 </dev/null &
	for _ in $(seq 1 50); do [ -s "$BLS_RUN_DIR/hang.port" ] && break; sleep 0.1; done
	echo "export BLS_HANG_URL=https://127.0.0.1:$(cat "$BLS_RUN_DIR/hang.port" 2>/dev/null)"
}

stop() {
	"$emulator" stop
	BLS_EMULATOR_NAME=emulator-tls "$emulator" stop
	if [ -s "$BLS_RUN_DIR/hang.pid" ]; then
		kill "$(cat "$BLS_RUN_DIR/hang.pid")" 2>/dev/null
		rm -f "$BLS_RUN_DIR/hang.pid"
	fi
	if [ -s "$BLS_RUN_DIR/tls.dir" ]; then
		rm -rf "$(cat "$BLS_RUN_DIR/tls.dir")"
		rm -f "$BLS_RUN_DIR/tls.dir"
	fi
	return 0
}

# In pg_virtualenv's throwaway cluster, preload pg_cron for the reporting suite.
preload_pg_cron() {
	[ -n "${PG_CLUSTER_CONF_ROOT:-}" ] && [ -n "${PGVERSION:-}" ] || return 0
	pg_lsclusters -h "$PGVERSION" regress >/dev/null 2>&1 || return 0
	local loaded
	loaded=$(psql -XAtq -c 'SHOW shared_preload_libraries' 2>/dev/null) || return 0
	case ",$loaded," in *,pg_cron,* | *,\ pg_cron,*) return 0 ;; esac
	if [ ! -e "$(pg_config --pkglibdir)/pg_cron.so" ]; then
		echo "$0: pg_cron is not installed; the reporting suite will fail" >&2
		return 0
	fi
	pg_conftool -s "$PGVERSION" regress set shared_preload_libraries "${loaded:+$loaded,}pg_cron" &&
		pg_conftool -s "$PGVERSION" regress set cron.database_name contrib_regression &&
		pg_conftool -s "$PGVERSION" regress set cron.use_background_workers on &&
		pg_ctlcluster "$PGVERSION" regress restart
}

case "${1:-}" in
start)
	start
	;;
stop)
	stop
	;;
run)
	shift
	[ $# -gt 0 ] || { echo "usage: $0 run CMD..." >&2; exit 2; }
	preload_pg_cron || exit 1
	if [ -z "${BLS_EMULATOR_URL:-}" ]; then
		trap stop EXIT
		vars=$(start) || { echo "$0: could not start the emulator" >&2; exit 1; }
		eval "$vars"
	fi
	"$@"
	;;
*)
	echo "usage: $0 start | stop | run CMD..." >&2
	exit 2
	;;
esac
