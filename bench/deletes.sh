#!/usr/bin/env bash
# Connections (TCP handshakes) that deletes open, in one run:
#
#   bash bench/deletes.sh
#
# Builds the extension from this tree into a private directory (as
# bench/perf.sh does, through bench/lib.sh), starts a BLS emulator on
# loopback and a throwaway PostgreSQL cluster (pg_virtualenv -t), creates
# 50 download tasks and deletes them, twice: by uuid (DELETE ... WHERE uuid
# = ANY (...), a direct modification: 50 DeleteDownloadTask and nothing
# else) and row by row (DELETE ... WHERE name LIKE ...: a list, then 50
# deletes).  Prints, for each, the connections the emulator accepted
# meanwhile (its connections_total, less the one the look itself opens),
# the requests and the wall time.  No pass/fail thresholds.
#
# To compare with another version, run this script from a copy of that
# tree: git archive REV | tar -x -C DIR; cp bench/deletes.sh DIR/bench/.
set -uo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"
[ $# -eq 0 ] || { echo "usage: $0" >&2; exit 2; }

. bench/lib.sh
bench_emulated deletes BENCH_EMU_DEL --tasks 10

# shellcheck disable=SC2016 # expanded inside the cluster's shell
bench_pg_run bash -c '
set -uo pipefail
export BLS_EMULATOR_URL=$BENCH_EMU_DEL
q() { psql -X -q -v ON_ERROR_STOP=1 -At -c "$1" || exit 1; }
total() { python3 test/bls_emulator.py ctl stats |
	python3 -c "import json, sys; d = json.load(sys.stdin); print(d[\"connections_total\"], d[\"requests_total\"])"; }
q "CREATE EXTENSION bls_fdw"
q "CREATE SERVER emu FOREIGN DATA WRAPPER bls_fdw OPTIONS (endpoint '\''$BENCH_EMU_DEL'\'')"
q "CREATE USER MAPPING FOR CURRENT_USER SERVER emu OPTIONS (access_key_id '\''emulator-ak'\'', secret_access_key '\''emulator-sk'\'')"
q "IMPORT FOREIGN SCHEMA bls LIMIT TO (download_tasks) FROM SERVER emu INTO public"
echo "== 50 deletes: connections opened (TCP + any TLS handshakes), requests, time"
for how in "by uuid" "row by row"; do
	q "INSERT INTO download_tasks (name, log_store_name, query_start_time, query_end_time)
	   SELECT '\''bench-'\'' || i, '\''app-log'\'', '\''2024-11-01'\'', '\''2024-11-02'\''
	   FROM generate_series(1, 50) i"
	if [ "$how" = "by uuid" ]; then
		uuids=$(q "SELECT string_agg(quote_literal(uuid), '\'','\'') FROM download_tasks WHERE name LIKE '\''bench-%'\''")
		stmt="DELETE FROM download_tasks WHERE uuid = ANY (ARRAY[$uuids])"
	else
		stmt="DELETE FROM download_tasks WHERE name LIKE '\''bench-%'\''"
	fi
	read -r c0 r0 <<<"$(total)"
	t0=$(date +%s.%N)
	n=$(psql -X -q -v ON_ERROR_STOP=1 -At -c "$stmt" -c "SELECT 1" >/dev/null && echo ok)
	t1=$(date +%s.%N)
	read -r c1 r1 <<<"$(total)"
	[ "$n" = ok ] || { echo "the delete failed" >&2; exit 1; }
	left=$(q "SELECT count(*) FROM download_tasks WHERE name LIKE '\''bench-%'\''")
	printf "   %-11s %3d connections opened, %3d requests, %6.0f ms, %d tasks left\n" \
		"$how:" $((c1 - c0 - 1)) $((r1 - r0)) "$(awk "BEGIN { print ($t1 - $t0) * 1000 }")" "$left"
done
'
