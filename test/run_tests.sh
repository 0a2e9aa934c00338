#!/usr/bin/env bash
# The whole test suite: unit tests of the backend-independent modules (plain
# and under ASan/UBSan), the emulator's self-test, and the pg_regress suites,
# run by "make installcheck" in a throwaway cluster (pg_virtualenv) against
# the BLS emulator.  Prints "N passed, M failed" last; exits non-zero if
# anything failed.
#
# BLS_SUITES="writes logrecords" runs only those pg_regress suites (and
# nothing else), for a quick loop while working on them.  BLS_PG_VERSION=17
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

suites=${BLS_SUITES:-}
if [ -z "$suites" ]; then
run_tap unit make -s -C test/unit check
run_tap unit-sanitize make -s -C test/unit check-sanitize
run_tap fuzz test/fuzz_check.sh

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

# pg_regress suites against the emulator
eval "$(scripts/emulator.sh start --tasks 1000 --seed 42)" || { echo "$passed passed, $((failed + 1)) failed"; exit 1; }
trap 'scripts/emulator.sh stop; BLS_EMULATOR_NAME=emulator-tls scripts/emulator.sh stop; [ -s "$BLS_RUN_DIR/hang.pid" ] && kill "$(cat "$BLS_RUN_DIR/hang.pid")" 2>/dev/null' EXIT
export BLS_EMULATOR_URL
# a second emulator serving https with a throwaway CA, for the security suite;
# if this fails, that suite fails for want of its variables
tls="$BLS_RUN_DIR/tls"
if test/tls_setup.sh "$tls" >"$BLS_RUN_DIR/tls.out" 2>&1 &&
	BLS_EMULATOR_NAME=emulator-tls scripts/emulator.sh start --tasks 50 \
		--tls-cert "$tls/server.pem" --tls-key "$tls/server-key.pem" >>"$BLS_RUN_DIR/tls.out" 2>&1; then
	tls_port=$(cat "$BLS_RUN_DIR/emulator-tls.port")
	export BLS_EMULATOR_TLS_URL=https://127.0.0.1:$tls_port
	export BLS_EMULATOR_TLS_WRONG_HOST_URL=https://localhost:$tls_port  # the certificate names only 127.0.0.1
	export BLS_TLS_CA=$tls/ca.pem BLS_TLS_OTHER_CA=$tls/other-ca.pem
else
	echo "TLS setup failed:"; cat "$BLS_RUN_DIR/tls.out"
fi
# a listener that accepts and never answers: an https endpoint on it stays
# in the connect phase (TLS handshake), for the cancel suite
rm -f "$BLS_RUN_DIR/hang.port"
python3 test/hang_server.py --port-file "$BLS_RUN_DIR/hang.port" \
	--pid-file "$BLS_RUN_DIR/hang.pid" >/dev/null 2>&1 &
for _ in $(seq 1 50); do [ -s "$BLS_RUN_DIR/hang.port" ] && break; sleep 0.1; done
export BLS_HANG_URL=https://127.0.0.1:$(cat "$BLS_RUN_DIR/hang.port" 2>/dev/null)
rm -f regression.diffs regression.out
# pg_cron for the reporting suite: its jobs run in background workers in the
# test database (no libpq connection, so no password needed)
pg_virtualenv -t -v "$BLS_PG_VERSION" -o shared_preload_libraries=pg_cron -o cron.database_name=contrib_regression \
	-o cron.use_background_workers=on make -s installcheck ${suites:+REGRESS="$suites"} >"$BLS_RUN_DIR/regress.out" 2>&1
rc=$?
# pg_regress says "test x ... ok" before PostgreSQL 16, "ok 1 - x" (TAP) since
ok=$(grep -cE '^(test| ) *[a-z_]+ +\.\.\. ok|^ok [0-9]+ +[-+] ' "$BLS_RUN_DIR/regress.out")
nok=$(grep -cE '\.\.\. FAILED|\.\.\. failed|^not ok [0-9]+ ' "$BLS_RUN_DIR/regress.out")
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
