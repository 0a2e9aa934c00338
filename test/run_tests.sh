#!/usr/bin/env bash
# The whole test suite: unit tests of the backend-independent modules (plain
# and under ASan/UBSan), the emulator's self-test, and the pg_regress suites,
# run by "make installcheck" in a throwaway cluster (pg_virtualenv) against
# the BLS emulator.  Prints "N passed, M failed" last; exits non-zero if
# anything failed.
#
# BLS_SUITES="writes logrecords" runs only those pg_regress suites (and
# nothing else), for a quick loop while working on them.
set -uo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"
export BLS_RUN_DIR="$top/.run"
mkdir -p "$BLS_RUN_DIR"

scripts/install-deps.sh || exit 1
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

suites=${BLS_SUITES:-}
if [ -z "$suites" ]; then
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
pg_virtualenv -t -v 15 -o shared_preload_libraries=pg_cron -o cron.database_name=contrib_regression \
	-o cron.use_background_workers=on make -s installcheck ${suites:+REGRESS="$suites"} >"$BLS_RUN_DIR/regress.out" 2>&1
rc=$?
ok=$(grep -cE '^(test| ) *[a-z_]+ +\.\.\. ok' "$BLS_RUN_DIR/regress.out")
nok=$(grep -cE '\.\.\. FAILED|\.\.\. failed' "$BLS_RUN_DIR/regress.out")
if [ $rc -ne 0 ] && [ "$nok" -eq 0 ]; then nok=1; fi
passed=$((passed + ok)); failed=$((failed + nok))
echo "regress: $ok passed, $nok failed"
if [ "$nok" -ne 0 ]; then
	cat "$BLS_RUN_DIR/regress.out" | tail -30
	[ -f regression.diffs ] && head -200 regression.diffs
fi

if [ -z "$suites" ]; then
# secrets stay out of the server log, client messages and pg_stat_activity
run_tap check-secrets test/check_secrets.sh

# a backend waiting on BLS exits when the postmaster dies
run_tap postmaster-death test/postmaster_death.sh
fi

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
