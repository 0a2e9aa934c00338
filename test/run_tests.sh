#!/usr/bin/env bash
# The whole test suite: unit tests of the backend-independent modules (plain
# and under ASan/UBSan), the emulator's self-test, and the pg_regress suites,
# run by "make installcheck" in a throwaway cluster (pg_virtualenv) against
# the BLS emulator, with the plain build and again with a sanitizer build.  Prints "N passed, M failed" last; exits non-zero if
# anything failed.
#
# BLS_SUITES="writes logrecords" runs only those pg_regress suites (and
# nothing else), for a quick loop while working on them; with BLS_ASAN=1
# also under the sanitizers (run_regress_asan below).  BLS_PG_VERSION=17
# tests against another installed PostgreSQL than pg_config's (see
# scripts/pg-version.sh); test/run_matrix.sh runs it for each version.
set -uo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"
export BLS_RUN_DIR="$top/.run"
mkdir -p "$BLS_RUN_DIR"

scripts/install-deps.sh || exit 1
BLS_PG_VERSION=$(scripts/pg-version.sh) || exit 1
export BLS_PG_VERSION PG_CONFIG=/usr/lib/postgresql/$BLS_PG_VERSION/bin/pg_config
make -s -j2 >"$BLS_RUN_DIR/build.out" 2>&1 && make -s install >>"$BLS_RUN_DIR/build.out" 2>&1 \
	|| { cat "$BLS_RUN_DIR/build.out"; echo "0 passed, 1 failed"; exit 1; }

passed=0
failed=0

# TAP output: one "ok"/"not ok" line per check; a crash with no "not ok"
# still counts as a failure.
run_tap() {
	local name=$1; shift
	local out="$BLS_RUN_DIR/$name.out"
	"$@" >"$out" 2>&1
	local rc=$?
	local ok nok
	ok=$(grep -c '^ok ' "$out")
	nok=$(grep -c '^not ok ' "$out")
	if [ $rc -ne 0 ] && [ "$nok" -eq 0 ]; then nok=1; fi
	passed=$((passed + ok)); failed=$((failed + nok))
	echo "$name: $ok passed, $nok failed"
	[ "$nok" -eq 0 ] || grep -E '^not ok |rror' "$out" | head -20
}

# A copy of the source tree, without build products, in the new directory
# $1/src: a build there leaves the plain build here alone and does not take
# its objects (as a VPATH build would).
copy_source() {
	rm -rf "$1" && mkdir -p "$1/src" &&
		tar -C "$top" --exclude=./.git --exclude=./.run --exclude=./results --exclude=./test/unit/build \
			--exclude='*.o' --exclude='*.so' --exclude='*.bc' -cf - . | tar -C "$1/src" -xf -
}

# A fresh build with PostgreSQL's flags, gcc's -Wclobbered (a local changed
# after PG_TRY's setjmp) and -Werror: any warning fails the run.
check_warnings() {
	local dir="$BLS_RUN_DIR/warnings"
	copy_source "$dir" || return 1
	if make -s -C "$dir/src" -j2 with_llvm=no COPT="-Wclobbered -Werror" >"$dir/build.out" 2>&1; then
		echo "ok 1 - the build has no warnings"
	else
		cat "$dir/build.out"
		echo "not ok 1 - the build has warnings"
	fi
}

suites=${BLS_SUITES:-}
if [ -z "$suites" ]; then
run_tap warnings check_warnings
run_tap unit make -s -C test/unit check
run_tap unit-sanitize make -s -C test/unit check-sanitize
run_tap fuzz test/fuzz_check.sh
# META.json against the PGXN spec; its version is bls_fdw.control's
run_tap meta python3 test/check_meta.py

# the emulator's own unittest suite
out="$BLS_RUN_DIR/emulator-selftest.out"
python3 test/test_emulator.py >"$out" 2>&1
rc=$?
ran=$(sed -n 's/^Ran \([0-9]*\) tests\?.*/\1/p' "$out")
bad=$(sed -n 's/^FAILED (\(.*\))/\1/p' "$out" | tr ',' '\n' | awk -F= '{s += $2} END {print s + 0}')
ran=${ran:-0}; bad=${bad:-0}
if [ $rc -ne 0 ] && [ "$bad" -eq 0 ]; then bad=1; fi
passed=$((passed + ran - (bad < ran ? bad : ran))); failed=$((failed + bad))
echo "emulator-selftest: $((ran - (bad < ran ? bad : ran))) passed, $bad failed"
[ "$bad" -eq 0 ] || tail -30 "$out"
fi

# pg_regress suites against the emulators (make installcheck would start its
# own; these stay up for check-secrets below)
vars=$(test/emulators.sh start) || { echo "$passed passed, $((failed + 1)) failed"; exit 1; }
eval "$vars"
trap 'test/emulators.sh stop' EXIT
rm -f regression.diffs regression.out
# pg_cron for the reporting suite: its jobs run in background workers in the
# test database (no libpq connection, so no password needed)
pgenv=(pg_virtualenv -t -v "$BLS_PG_VERSION" -o shared_preload_libraries=pg_cron -o cron.database_name=contrib_regression
	-o cron.use_background_workers=on)

# Count the pg_regress results of pass $1: its output $2, exit status $3,
# diffs $4.
count_regress() {
	local ok nok
	# pg_regress says "test x ... ok" before PostgreSQL 16, "ok 1 - x" (TAP) since
	ok=$(grep -cE '^(test| ) *[a-z_]+ +\.\.\. ok|^ok [0-9]+ +[-+] ' "$2")
	nok=$(grep -cE '\.\.\. FAILED|\.\.\. failed|^not ok [0-9]+ ' "$2")
	if [ "$3" -ne 0 ] && [ "$nok" -eq 0 ]; then nok=1; fi
	passed=$((passed + ok)); failed=$((failed + nok))
	echo "$1: $ok passed, $nok failed"
	if [ "$nok" -ne 0 ]; then
		tail -30 "$2"
		[ -f "$4" ] && head -200 "$4"
	fi
}

"${pgenv[@]}" make -s installcheck ${suites:+REGRESS="$suites"} >"$BLS_RUN_DIR/regress.out" 2>&1
count_regress regress "$BLS_RUN_DIR/regress.out" $? regression.diffs

# The SQL suite again, the extension built with clang's ASan and UBSan (its
# UBSan, unlike gcc's, also catches memcpy(p, NULL, 0) and the like) in a
# directory of its own, installed into a private extension_destdir (the plain
# build stays installed), and loaded into the stock server, into whose
# processes the ASan runtime is preloaded.  A report stops the backend, so a
# test fails, and counts as a failure of its own.  Leaks are not checked: a
# backend leaves its memory to exit().  In a BLS_SUITES run only with
# BLS_ASAN=1.  Its files are in .run/asan (diffs: .run/asan/regression.diffs).
run_regress_asan() {
	local dir="$BLS_RUN_DIR/asan" out="$BLS_RUN_DIR/regress-asan.out" rt so rc nrep
	local san="-fsanitize=address,undefined -fno-sanitize-recover=all -shared-libasan"
	local build=(make -s -C "$dir/src" with_llvm=no CC=clang
		CFLAGS="-O1 -g -fwrapv -fno-strict-aliasing -fno-omit-frame-pointer -Wno-ignored-attributes $san")

	rt=$(clang -print-file-name=libclang_rt.asan-x86_64.so)
	so="$dir/inst$("$PG_CONFIG" --pkglibdir)/bls_fdw.so"
	copy_source "$dir" && mkdir "$dir/reports" && chmod 777 "$dir/reports" &&
		{ "${build[@]}" -j2 && "${build[@]}" install DESTDIR="$dir/inst" &&
			clang -shared -fPIC -O2 -o "$dir/init_first.so" test/asan_init_first.c -ldl &&
			readelf -d "$so" | grep -q 'NEEDED.*libclang_rt\.asan'; } >"$dir/build.out" 2>&1
	if [ $? -ne 0 ]; then
		cat "$dir/build.out" 2>/dev/null; failed=$((failed + 1)); echo "regress-asan: 0 passed, 1 failed (build)"
		return
	fi
	# the environment of the cluster's processes (pg_createcluster --environment)
	cat >"$dir/environment" <<-END
	LD_PRELOAD = '$rt:$dir/init_first.so'
	ASAN_OPTIONS = 'detect_leaks=0:halt_on_error=1:abort_on_error=1:disable_coredump=1:log_path=$dir/reports/asan'
	UBSAN_OPTIONS = 'print_stacktrace=1:halt_on_error=1:log_path=$dir/reports/ubsan'
	END
	python3 test/bls_emulator.py ctl reset >/dev/null    # as the first suite expects
	# a backend's memory map, to show which bls_fdw.so the server loads
	"${pgenv[@]}" -c "--environment=$dir/environment" -o "extension_destdir=$dir/inst" bash -c '
		psql -XAtq -c "LOAD '\''\$libdir/bls_fdw'\''" -c "SELECT pg_read_file('\''/proc/self/maps'\'')" >"$1/maps" &&
		make -s installcheck EXTRA_REGRESS_OPTS="--outputdir=$1" ${2:+REGRESS="$2"}' _ "$dir" "$suites" >"$out" 2>&1
	rc=$?
	count_regress regress-asan "$out" $rc "$dir/regression.diffs"
	if ! grep -qF "$so" "$dir/maps" || ! grep -qF "$rt" "$dir/maps"; then
		failed=$((failed + 1))
		echo "regress-asan: the server did not load the sanitizer build (see $dir/maps)"
	fi
	# reports go to files (log_path); one that went to the server log instead
	# is in the log's tail, which pg_virtualenv prints when the command failed
	nrep=$(cat "$dir"/reports/* "$out" 2>/dev/null | grep -cE 'ERROR: AddressSanitizer|runtime error:')
	if [ "$nrep" -ne 0 ]; then
		failed=$((failed + nrep))
		echo "regress-asan: $nrep sanitizer reports"
		cat "$dir"/reports/* 2>/dev/null | head -60
	fi
}
if { [ -z "$suites" ] && [ "${BLS_ASAN:-1}" != 0 ]; } || [ "${BLS_ASAN:-0}" = 1 ]; then
	run_regress_asan
fi

if [ -z "$suites" ]; then
# secrets stay out of the server log, client messages and pg_stat_activity
run_tap check-secrets test/check_secrets.sh

# a backend waiting on BLS exits when the postmaster dies
run_tap postmaster-death test/postmaster_death.sh

# the request budget across backends, and after backends killed holding or
# waiting for a slot
run_tap budget-cluster test/budget_cluster.sh
fi

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
