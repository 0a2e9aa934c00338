#!/usr/bin/env bash
# The whole test suite (test/run_tests.sh) on each supported PostgreSQL major
# version, each on the Debian release that ships it:
#
#   15  Debian 12 (bookworm): on this machine when it is Debian 12
#   17  Debian 13 (trixie)
#   18  Debian unstable (sid)
#
#   test/run_matrix.sh [15|17|18 ...]      (all three without arguments)
#
# A version that does not run here runs in a minimal chroot of its release
# (debootstrap --variant=minbase, from the Debian mirror apt uses here, plus
# scripts/install-deps.sh), made once under $BLS_MATRIX_DIR (default
# /var/tmp/bls_fdw-matrix) and reused after; the chroots are made in the
# background while the first version runs.  The tree is copied into the
# chroot afresh for each run and built there.  Every run is in a mount and
# PID namespace of its own (unshare), so its mounts (/proc, /dev, /dev/pts,
# /dev/shm) and every process it started are gone when it ends, however it
# ends.  Prints one "PostgreSQL NN ...: N passed, M failed" per version (and
# what failed, with the log's path), and the total as the last line; exits non-zero if anything
# failed.  Needs root (debootstrap, chroot, mount).
#
# BLS_MATRIX_LOCK=/tmp/bls-pg.lock holds that lock around a run on this
# machine's own PostgreSQL (for a machine shared with others); BLS_SUITES
# and FUZZ_SECONDS are passed on to test/run_tests.sh, and so is BLS_ASAN
# (by default the sanitizer pass runs on 15 only: once is enough to catch
# what it catches, and it doubles a version's time).
set -uo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
root=${BLS_MATRIX_DIR:-/var/tmp/bls_fdw-matrix}
versions=("$@")
[ ${#versions[@]} -gt 0 ] || versions=(15 17 18)

suite_of() {
	case "$1" in
	15) echo bookworm ;;
	17) echo trixie ;;
	18) echo sid ;;
	*) return 1 ;;
	esac
}

for v in "${versions[@]}"; do
	suite_of "$v" >/dev/null || { echo "unsupported PostgreSQL version \"$v\" (15, 17 or 18)" >&2; exit 2; }
done
[ "$(id -u)" -eq 0 ] || { echo "run_matrix.sh needs root (debootstrap, chroot, mount)" >&2; exit 2; }

# the Debian mirror apt uses here (a deb822 URIs: line or a one-line deb entry)
mirror=${BLS_MATRIX_MIRROR:-$(cat /etc/apt/sources.list /etc/apt/sources.list.d/*.list \
	/etc/apt/sources.list.d/*.sources 2>/dev/null |
	sed -n -e 's/^URIs: *\([^ ]*\/debian\/*\)$/\1/p' -e 's/^deb  *\(\[[^]]*\]  *\)\?\([^ ]*\/debian\/*\) .*/\2/p' |
	head -1)}
mirror=${mirror:-http://deb.debian.org/debian}
host_suite=$(. /etc/os-release 2>/dev/null && echo "${VERSION_CODENAME:-}")

mkdir -p "$root/logs"
bg_pids=()
run_pid=
# Stop what we started in the background: unshare ignores SIGTERM while it
# waits, so KILL it (and a subshell around it); everything in its namespace
# goes with it (--kill-child).
cleanup() {
	local p
	for p in $run_pid "${bg_pids[@]}"; do
		kill -KILL $(ps -o pid= --ppid "$p") "$p" 2>/dev/null
	done
	wait 2>/dev/null
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# Run a command in a mount and PID namespace of its own, in the chroot dir
# (or on this machine if dir is "/"), with /proc, /dev, /dev/pts and a
# /dev/shm of its own mounted.
in_ns() {
	local dir=$1
	shift
	unshare --mount --pid --fork --kill-child --mount-proc="${dir%/}/proc" \
		bash -c '
			set -e
			dir=$1
			shift
			if [ "$dir" != / ]; then
				mount --bind /dev "$dir/dev"
				mount --bind /dev/pts "$dir/dev/pts"
				mount -t tmpfs -o mode=1777,nosuid,nodev shm "$dir/dev/shm"
			fi
			exec chroot "$dir" /usr/bin/env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin \
				HOME=/root LANG=C.UTF-8 TERM=dumb "$@"' _ "$dir" "$@"
}

# Make the chroot of suite with PostgreSQL v and the build and test
# dependencies, unless it is there already.
prepare_chroot() {
	local suite=$1 v=$2 dir=$root/$1
	[ -e "$dir/.bls-matrix-ready" ] && return 0
	rm -rf "$dir.new"
	echo "debootstrap $suite from $mirror"
	debootstrap --variant=minbase "$suite" "$dir.new" "$mirror" || return 1
	# unstable's Release file may be past its Valid-Until
	printf 'Acquire::Check-Valid-Until "false";\nAPT::Install-Recommends "false";\n' \
		>"$dir.new/etc/apt/apt.conf.d/99bls-matrix"
	# no service starts in the chroot, and no cluster is made at install
	printf '#!/bin/sh\nexit 101\n' >"$dir.new/usr/sbin/policy-rc.d"
	chmod +x "$dir.new/usr/sbin/policy-rc.d"
	mkdir -p "$dir.new/etc/postgresql-common/createcluster.d"
	echo "create_main_cluster = false" >"$dir.new/etc/postgresql-common/createcluster.d/bls-matrix.conf"
	mkdir -p "$dir.new/tmp/bls-deps"
	cp -r "$top/scripts" "$dir.new/tmp/bls-deps/"
	in_ns "$dir.new" BLS_PG_VERSION="$v" bash /tmp/bls-deps/scripts/install-deps.sh || return 1
	rm -rf "$dir.new/tmp/bls-deps"
	touch "$dir.new/.bls-matrix-ready"
	mv "$dir.new" "$dir"
}

# Copy the tree (what git tracks or would, without build products) to dest.
copy_tree() {
	local dest=$1
	rm -rf "$dest"
	mkdir -p "$dest"
	if git -C "$top" rev-parse --git-dir >/dev/null 2>&1; then
		git -C "$top" ls-files -z -c -o --exclude-standard |
			(cd "$top" && tar --null -T - -cf - 2>/dev/null) | tar -C "$dest" -xf -
	else
		tar -C "$top" --exclude=.git --exclude=.run --exclude=results -cf - . | tar -C "$dest" -xf -
	fi
}

on_host() {
	[ "$(suite_of "$1")" = "$host_suite" ]
}

# the chroots needed, made in the background meanwhile, each in a PID
# namespace of its own so that debootstrap and apt go with it
export top root mirror
export -f prepare_chroot in_ns
declare -A prep_pid
for v in "${versions[@]}"; do
	on_host "$v" && continue
	suite=$(suite_of "$v")
	unshare --mount --pid --fork --kill-child --mount-proc \
		bash -c 'prepare_chroot "$@"' _ "$suite" "$v" >"$root/logs/chroot-$suite.log" 2>&1 &
	prep_pid[$v]=$!
	bg_pids+=($!)
done

passed=0
failed=0
for v in "${versions[@]}"; do
	suite=$(suite_of "$v")
	log=$root/logs/pg$v.log
	start=$(date +%s)
	# the sanitizer pass once, on 15, unless BLS_ASAN says otherwise
	asan=${BLS_ASAN:-$([ "$v" = 15 ] && echo 1 || echo 0)}
	pass_env=(BLS_PG_VERSION="$v" BLS_ASAN="$asan" ${BLS_SUITES:+BLS_SUITES="$BLS_SUITES"}
			  ${FUZZ_SECONDS:+FUZZ_SECONDS="$FUZZ_SECONDS"})
	if on_host "$v"; then
		where="on this machine"
		lockfd=
		if [ -n "${BLS_MATRIX_LOCK:-}" ]; then
			exec {lockfd}>"$BLS_MATRIX_LOCK"
			flock "$lockfd"
			start=$(date +%s)	# the time waited is not the run's
		fi
		unshare --mount --pid --fork --kill-child --mount-proc \
			env "${pass_env[@]}" bash "$top/test/run_tests.sh" >"$log" 2>&1 &
		run_pid=$!
		wait "$run_pid"
		run_pid=
		[ -z "$lockfd" ] || exec {lockfd}>&-
	else
		dir=$root/$suite
		where="in $dir"
		if ! wait "${prep_pid[$v]}"; then
			echo "PostgreSQL $v (Debian $suite): could not make the chroot:"
			tail -20 "$root/logs/chroot-$suite.log"
			echo "PostgreSQL $v (Debian $suite): 0 passed, 1 failed"
			failed=$((failed + 1))
			continue
		fi
		copy_tree "$dir/build/bls_fdw"
		in_ns "$dir" "${pass_env[@]}" bash -c 'cd /build/bls_fdw && bash test/run_tests.sh' >"$log" 2>&1 &
		run_pid=$!
		wait "$run_pid"
		run_pid=
	fi
	last=$(tail -1 "$log")
	if [[ "$last" =~ ^([0-9]+)\ passed,\ ([0-9]+)\ failed$ ]]; then
		ok=${BASH_REMATCH[1]}
		nok=${BASH_REMATCH[2]}
	else
		ok=0
		nok=1
	fi
	passed=$((passed + ok))
	failed=$((failed + nok))
	echo "PostgreSQL $v (Debian $suite, $where, $(($(date +%s) - start)) s): $ok passed, $nok failed"
	if [ "$nok" -ne 0 ]; then
		grep -vE '^ok |: [0-9]+ passed, 0 failed$' "$log" | tail -40
		echo "log: $log"
	fi
done

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
