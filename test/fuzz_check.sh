#!/usr/bin/env bash
# A short libFuzzer run of the response parser, as one TAP check for the
# test suite; bench/hardening.sh runs a longer one.  FUZZ_SECONDS sets it.
top=$(cd "$(dirname "$0")/.." && pwd)
if out=$(make -s -C "$top/test/fuzz" run FUZZ_SECONDS="${FUZZ_SECONDS:-15}" 2>&1); then
	runs=$(sed -n 's/^Done \([0-9]*\) runs.*/\1/p' <<<"$out")
	echo "ok 1 - fuzz_response: ${runs:-?} executions, no crash, leak or timeout"
else
	echo "$out" | tail -20
	echo "not ok 1 - fuzz_response found a crash, leak or timeout"
fi
