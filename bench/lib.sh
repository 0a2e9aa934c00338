# shellcheck shell=bash
# Shared by the benchmark scripts (bench/*.sh);
# sourced from the top of the source tree, not run.
#
#   bench_init NAME          a private run directory /tmp/bls-NAME.XXXXXX ($run,
#                            also BLS_RUN_DIR), the PostgreSQL major version
#                            ($pgv, from scripts/pg-version.sh: BLS_PG_VERSION=18
#                            for another installed one) and its $pgbin, and
#                            an EXIT trap that stops
#                            what bench_start_emulator started and the pids in
#                            $bench_pids, then removes the directory
#   bench_need_cmd PKG CMD   note PKG as missing unless CMD is on the PATH
#   bench_need_file PKG F..  note PKG as missing unless one of the files exists
#   bench_install_missing    install the missing packages (as root with
#                            apt-get) or name them and fail
#   bench_build_install      build this tree and install it into $run/inst,
#                            loaded through Debian's extension_destdir (plain
#                            `make install` where that setting does not
#                            exist); sets pg_opts (pg_virtualenv options) and
#                            exports BENCH_DESTDIR
#   bench_start_emulator NAME VAR [OPTION...]
#                            a BLS emulator (--seed 42) in $run; its URL in VAR
#   bench_machine            print the machine, the versions and the date
#   bench_pg_run CMD...      CMD inside a throwaway PostgreSQL $pgv cluster
#                            (pg_virtualenv -t, pg_opts) on a free port,
#                            bounded to 20 minutes
#   bench_reps LINES ARG...  parse [-n REPS] (1 to 20, default 3) into $reps;
#                            -h prints the script's header LINES (sed range)
#   bench_emulated NAME VAR [OPTION...]
#                            the usual start: bench_init NAME, the packages,
#                            this tree built and installed, an emulator
#                            (bench_start_emulator NAME VAR OPTION...) whose
#                            URL VAR is exported, and bench_machine

bench_init() {
	run=$(mktemp -d "/tmp/bls-$1.XXXXXX")
	chmod 755 "$run"    # the server (user postgres) loads the extension from $run/inst
	export BLS_RUN_DIR=$run
	bench_emulators=
	bench_pids=
	bench_missing=
	pg_opts=(-o jit=off)
	trap bench_cleanup EXIT
	trap 'exit 130' INT TERM
	pgv=$(scripts/pg-version.sh) || exit 1
	pgbin=/usr/lib/postgresql/$pgv/bin
	export PG_CONFIG=$pgbin/pg_config
}

bench_cleanup() {
	local e p
	for e in $bench_emulators; do BLS_EMULATOR_NAME=$e scripts/emulator.sh stop; done
	for p in $bench_pids; do
		kill "$p" 2>/dev/null
		wait "$p" 2>/dev/null
	done
	rm -rf "$run"
}

bench_need_cmd() {
	command -v "$2" >/dev/null || bench_missing="$bench_missing $1"
}

bench_need_file() {
	local pkg=$1 f
	shift
	for f in "$@"; do [ -f "$f" ] && return 0; done
	bench_missing="$bench_missing $pkg"
}

bench_install_missing() {
	[ -n "$bench_missing" ] || return 0
	if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
		echo "== installing$bench_missing"
		# shellcheck disable=SC2086 # one word per package
		DEBIAN_FRONTEND=noninteractive apt-get install -y -q $bench_missing >"$run/apt.out" 2>&1 ||
			{ cat "$run/apt.out"; echo "could not install$bench_missing" >&2; return 1; }
	else
		echo "missing:$bench_missing (install them, e.g. sudo apt-get install -y$bench_missing)" >&2
		return 1
	fi
}

bench_build_install() {
	local described
	echo "== build and install (private destdir)"
	if ! make -s -j2 >"$run/build.out" 2>&1; then
		cat "$run/build.out"; echo "build failed" >&2; return 1
	fi
	# (captured first: grep -q closing the pipe early would fail it under pipefail)
	described=$($pgbin/postgres --describe-config 2>/dev/null)
	if grep -q '^extension_destdir' <<<"$described"; then
		if ! make -s install DESTDIR="$run/inst" >"$run/install.out" 2>&1; then
			cat "$run/install.out"; echo "install failed" >&2; return 1
		fi
		pg_opts+=(-o "extension_destdir=$run/inst")
		export BENCH_DESTDIR=$run/inst
	else
		echo "   (this PostgreSQL has no extension_destdir: installing into the system directory)"
		if ! make -s install >"$run/install.out" 2>&1; then
			cat "$run/install.out"; echo "install failed" >&2; return 1
		fi
	fi
}

bench_start_emulator() {
	local name=$1 var=$2 env
	shift 2
	bench_emulators="$bench_emulators $name"    # stopped on exit even if it fails half-way
	env=$(BLS_EMULATOR_NAME=$name scripts/emulator.sh start --seed 42 "$@") ||
		{ echo "emulator $name did not start" >&2; return 1; }
	printf -v "$var" '%s' "$(sed -n 's/^export BLS_EMULATOR_URL=//p' <<<"$env")"
}

bench_machine() {
	echo "== machine"
	echo "   $(nproc) CPUs, $(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -1)," \
		"$(awk '/^MemTotal/ {printf "%.1f GB", $2 / 1048576}' /proc/meminfo) RAM," \
		"$(. /etc/os-release 2>/dev/null; echo "${PRETTY_NAME:-?}"), $(uname -r)"
	echo "   PostgreSQL $($pgbin/postgres --version | awk '{print $3}')," \
		"$(curl --version | head -1 | awk '{print $1, $2}') CLI, libcurl $(dpkg-query -W -f '${Version}' libcurl4 2>/dev/null ||
			dpkg-query -W -f '${Version}' libcurl4t64 2>/dev/null)," \
		"json-c $(dpkg-query -W -f '${Version}' libjson-c5 2>/dev/null), $(python3 --version)"
	echo "   $(date -u '+%Y-%m-%d %H:%M UTC'); jit off; emulators on loopback"
}

bench_pg_run() {
	# a port of its own: pg_virtualenv's first free one from 5432 races with
	# other throwaway clusters starting at the same time
	local port
	port=$(python3 -c '
import os, random, socket
for _ in range(200):
    p = random.randrange(20000, 30000)
    if os.path.exists("/var/run/postgresql/.s.PGSQL.%d" % p):
        continue
    try:
        socket.create_server(("127.0.0.1", p)).close()
    except OSError:
        continue
    print(p)
    break') || return 1
	PGPORT=$port timeout 1200 pg_virtualenv -t -v "$pgv" "${pg_opts[@]}" "$@" \
		2> >(grep -v -e '^Creating new PostgreSQL cluster' -e '^Dropping cluster' >&2)
}

# Print the summary file a measuring script wrote ($1), or that it did not
# finish; exit 1 if that script failed (its exit status $2).
bench_summary_exit() {
	echo
	echo "== summary"
	if [ -s "$1" ]; then
		cat "$1"
	else
		echo "did not finish (exit $2)"
	fi
	[ "$2" = 0 ] || exit 1
	exit 0
}

bench_reps() {
	local help=$1
	shift
	reps=3
	while [ $# -gt 0 ]; do
		case "$1" in
		-n|--reps) [ $# -ge 2 ] || { echo "-n needs REPS" >&2; exit 2; }
			reps=$2; shift 2 ;;
		-h|--help) sed -n "${help}p" "$0"; exit 0 ;;
		*) echo "usage: $0 [-n REPS]" >&2; exit 2 ;;
		esac
	done
	case $reps in ''|*[!0-9]*) echo "REPS must be a number" >&2; exit 2 ;; esac
	[ "$reps" -ge 1 ] && [ "$reps" -le 20 ] || { echo "REPS must be 1 to 20" >&2; exit 2; }
}

bench_emulated() {
	local name=$1 var=$2
	shift 2
	bench_init "$name"
	bench_need_cmd postgresql-common pg_virtualenv
	bench_install_missing || exit 1
	bench_build_install || exit 1
	bench_start_emulator "$name" "$var" "$@" || exit 1
	export "${var?}"
	bench_machine
}
