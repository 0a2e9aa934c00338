#!/usr/bin/env bash
# Run the installed bls_fdw in a single-user backend under valgrind's
# memcheck, against the emulator: scans of log_records (marker pages, the
# window, a LIMIT, errors), aggregates BLS computes (a count, min and max of
# the time, a GROUP BY), bls_log_query() and download_tasks, and writes:
# COPY, rows routed to a foreign partition, deletes by uuid columns of other
# types, ids that are not task ids, and a rollback the ledger names.  Prints the
# errors valgrind reports in bls_fdw, libcurl or json-c, and exits 1 if
# there are any.  PostgreSQL itself is not built for valgrind, so its own
# known reports (WAL buffers written with uninitialised padding) are left out.
#
#   bash test/valgrind_backend.sh        (needs valgrind; run as root)
#
# Not part of test/run_tests.sh: it takes a few minutes.
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"
command -v valgrind >/dev/null || { echo "valgrind is not installed"; exit 2; }
work=$(mktemp -d /tmp/bls-valgrind.XXXXXX)
export BLS_RUN_DIR="$work/run"
mkdir -p "$BLS_RUN_DIR"
trap 'scripts/emulator.sh stop >/dev/null 2>&1 || true; rm -rf "$work"' EXIT
eval "$(scripts/emulator.sh start --tasks 500 --seed 42)"

bindir=$(pg_config --bindir)
chown -R postgres "$work"
su postgres -c "$bindir/initdb -D $work/data -A trust" >/dev/null

cat >"$work/q.sql" <<EOF
CREATE EXTENSION bls_fdw;
CREATE SERVER emu FOREIGN DATA WRAPPER bls_fdw OPTIONS (endpoint '$BLS_EMULATOR_URL');
CREATE USER MAPPING FOR CURRENT_USER SERVER emu OPTIONS (access_key_id 'emulator-ak', secret_access_key 'emulator-sk');
IMPORT FOREIGN SCHEMA bls FROM SERVER emu INTO public;
SELECT count(*), count(fields), sum(length(message)) FROM log_records WHERE log_store_name = 'nginx-access' AND time >= '2024-05-01 00:00:00.5+00' AND time < '2024-05-01 00:10:00+00';
SELECT count(*), min(time), max(time) FROM log_records WHERE log_store_name = 'nginx-access' AND time >= '2024-05-01 00:00:00+00' AND time < '2024-05-01 00:10:00+00';
SELECT log_stream_name, count(*), count(time) FROM log_records WHERE log_store_name = 'nginx-access' AND time >= '2024-05-01 00:00:00+00' AND time < '2024-05-01 01:00:00+00' GROUP BY 1 HAVING count(*) > 1;
SELECT count(*) FROM (SELECT time FROM log_records WHERE log_store_name = 'app-log' AND query = 'level:ERROR' AND time > '2024-05-01 00:00:00+00' ORDER BY time LIMIT 1500) s;
SELECT count(*) FROM bls_log_query('emu', 'nginx-access', 'match status:500 | select host, count(*) group by host', '2024-05-01 00:00:00+00', '2024-05-01 01:00:00+00', 'prod-web');
SELECT count(*) FROM bls_log_query('emu', 'app-log', 'match *', '2024-05-01 00:00:00+00', '2024-05-01 00:20:00+00');
SELECT count(*) FROM log_records WHERE log_store_name = 'nginx-access' AND query = 'match * | select count(*)' AND time >= '2024-05-01';
SELECT count(*) FROM log_records WHERE log_store_name = 'nope' AND time >= '2024-05-01';
SELECT count(*), count(DISTINCT project) FROM download_tasks;
SELECT count(*) FROM log_stores WHERE project = 'default';
COPY download_tasks (name, log_store_name, query_start_time, query_end_time) FROM '$work/copy.tsv';
CREATE TABLE exports (uuid text, name text, log_store_name text, query_start_time timestamptz, query_end_time timestamptz) PARTITION BY LIST (log_store_name);
CREATE FOREIGN TABLE exports_bls PARTITION OF exports FOR VALUES IN ('app-log') SERVER emu;
INSERT INTO exports (name, log_store_name, query_start_time, query_end_time) SELECT 'vg-routed-' || i, 'app-log', '2024-11-01', '2024-11-02' FROM generate_series(1, 5) i;
DELETE FROM exports WHERE name LIKE 'vg-routed-%';
CREATE FOREIGN TABLE t_uuid (uuid uuid, name text) SERVER emu;
CREATE FOREIGN TABLE t_char (uuid char(40), name text) SERVER emu;
CREATE FOREIGN TABLE t_name (uuid name, name text) SERVER emu;
DELETE FROM t_uuid WHERE name = 'vg-copy-1';
DELETE FROM t_char WHERE name = 'vg-copy-2';
DELETE FROM t_name WHERE name = 'vg-copy-3';
DELETE FROM download_tasks WHERE uuid = ANY (ARRAY['list', '..', '']);
SELECT count(*) FROM download_tasks WHERE name LIKE 'vg-copy-%';
BEGIN;
INSERT INTO download_tasks (name, log_store_name, query_start_time, query_end_time) SELECT 'vg-rolled-back', log_store_name, query_start_time, query_end_time FROM download_tasks WHERE name LIKE 'vg-%';
ROLLBACK;
EOF
printf 'vg-copy-%s\tapp-log\t2024-11-01 00:00:00+00\t2024-11-02 00:00:00+00\n' 1 2 3 4 >"$work/copy.tsv"
chown postgres "$work/q.sql"
su postgres -c "cd $work && valgrind -q --log-file=$work/vg.log $bindir/postgres --single -D $work/data postgres <$work/q.sql" >"$work/out.txt" 2>&1 || true

grep -E 'count = "' "$work/out.txt" | sed 's/^[[:space:]]*//'
# one report per blank-line-separated block; keep those not from PostgreSQL's WAL writes
python3 - "$work/vg.log" <<'PY'
import re, sys
text = open(sys.argv[1]).read()
blocks = [b for b in re.split(r"==\d+== \n", text) if re.search(r"==\d+== [A-Z]", b)]
ours = [b for b in blocks if not ("pwrite" in b and ("XLog" in b or "CreateCheckPoint" in b))]
print("valgrind: %d reports, %d outside PostgreSQL's own WAL writes" % (len(blocks), len(ours)))
for b in ours[:5]:
    print(b)
sys.exit(1 if ours else 0)
PY
