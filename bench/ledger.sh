#!/usr/bin/env bash
# What a statement's check for its own creates costs per row read, as the
# transaction's ledger grows:
#
#   bash bench/ledger.sh [-n REPS]
#
# A scan inside a writing statement skips the tasks its own statement
# created (ledger.c, bls_ledger_created_by()), so every row it reads is
# looked up among the creates of the transaction.  For M = 0, 5,000 and
# 20,000 tasks created earlier in the transaction, a DELETE whose condition
# is checked locally (and matches nothing) reads every task, 1,000 + M of
# them; printed: the rows read, the DELETE's time (best of REPS, default 3)
# and its time per row.  A lookup whose cost grows with the ledger shows as
# a time per row growing with M.  Builds and installs this tree privately,
# with its own emulator and throwaway cluster (bench/lib.sh).
set -uo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"
reps=3
while [ $# -gt 0 ]; do
	case "$1" in
	-n) reps=$2; shift 2 ;;
	*) echo "usage: $0 [-n REPS]" >&2; exit 2 ;;
	esac
done
. bench/lib.sh
bench_init ledger
bench_build_install || exit 1
bench_start_emulator ledger BENCH_EMU --tasks 1000 || exit 1
export BENCH_EMU reps

# shellcheck disable=SC2016 # expanded by the inner shell
bench_pg_run bash -c '
	psql -q -X -v ON_ERROR_STOP=1 -c "CREATE EXTENSION bls_fdw" \
		-c "CREATE SERVER emu FOREIGN DATA WRAPPER bls_fdw OPTIONS (endpoint '\''$BENCH_EMU'\'', batch_size '\''16'\'')" \
		-c "CREATE USER MAPPING FOR CURRENT_USER SERVER emu OPTIONS (access_key_id '\''emulator-ak'\'', secret_access_key '\''emulator-sk'\'')" \
		-c "IMPORT FOREIGN SCHEMA bls LIMIT TO (download_tasks) FROM SERVER emu INTO public" || exit 1
	printf "   %8s %10s %10s %12s\n" "created" "rows read" "DELETE s" "us per row"
	for m in 0 5000 20000; do
		best=
		for r in $(seq "$reps"); do
			BLS_EMULATOR_URL=$BENCH_EMU python3 test/bls_emulator.py ctl reset >/dev/null || exit 1
			# new tasks final at once: the emulator does not track them as pending
			BLS_EMULATOR_URL=$BENCH_EMU python3 test/bls_emulator.py ctl config \
				'\''{"task_waiting_ms": 0, "task_running_ms": 0}'\'' >/dev/null || exit 1
			out=$(psql -q -X -t -A -v ON_ERROR_STOP=1 -v m="$m" <<-"SQL"
				BEGIN;
				INSERT INTO download_tasks (name, log_store_name, query_start_time, query_end_time)
				SELECT '\''b-'\'' || i, '\''app-log'\'', '\''2024-11-01'\'', '\''2024-11-02'\''
				FROM generate_series(1, :m) i;
				SELECT clock_timestamp() AS t0 \gset
				DELETE FROM download_tasks WHERE md5(name) = '\''x'\'';
				SELECT extract(epoch FROM clock_timestamp() - :'\''t0'\''::timestamptz);
				COMMIT;
			SQL
			) || exit 1
			if [ -z "$best" ] || awk -v a="$out" -v b="$best" "BEGIN {exit !(a < b)}"; then best=$out; fi
		done
		awk -v m="$m" -v s="$best" "BEGIN {printf \"   %8d %10d %10.3f %12.2f\n\", m, 1000 + m, s, s * 1e6 / (1000 + m)}"
	done
'
bench_machine
