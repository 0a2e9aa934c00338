#!/usr/bin/env bash
# task_json.c's reader against PostgreSQL's own JSON parser (pg_parse_json,
# semantic callbacks, frontend libpgcommon) and json-c's tree, reading every
# field of every task of realistic ListDownloadTask pages:
#
#   bash bench/json_parsers.sh [-n REPS] [-p PAGES]
#
# Renders PAGES (default 10) pages of 1000 tasks with the emulator's own
# generator and page encoder (test/bls_emulator.py, seed 42), builds
# bench/json_parsers.c with -O2 against src/task_json.c, json-c and
# /usr/lib/postgresql/15/lib/libpgcommon.a + libpgport.a (needs
# postgresql-server-dev-15), and prints MB/s and tasks/s for each parser,
# median of REPS (default 9) runs, side by side.  Starts no server; uses
# one core; takes well under a minute.
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
reps=9
pages=10
while [ $# -gt 0 ]; do
	case "$1" in
	-n) reps=$2; shift 2 ;;
	-p) pages=$2; shift 2 ;;
	*) echo "usage: $0 [-n REPS] [-p PAGES]" >&2; exit 2 ;;
	esac
done

pgbin=$(pg_config --bindir 2>/dev/null || true)
pglib=/usr/lib/postgresql/15/lib
pginc=$(pg_config --includedir-server 2>/dev/null || echo /usr/include/postgresql/15/server)
for f in "$pglib/libpgcommon.a" "$pglib/libpgport.a" "$pginc/common/jsonapi.h"; do
	[ -e "$f" ] || { echo "missing $f (postgresql-server-dev-15)" >&2; exit 1; }
done

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

python3 - "$top/test" "$work" "$pages" <<'PY'
import sys
sys.path.insert(0, sys.argv[1])
import bls_emulator as emu
out, npages = sys.argv[2], int(sys.argv[3])
data = emu.DataSet(npages * 1000, 42)
for p in range(npages):
    tasks = data.json[p * 1000:(p + 1) * 1000]
    page = emu.Page("desc", "createdTime", p + 1, 1000, len(data), tasks)
    with open("%s/page%03d.json" % (out, p + 1), "wb") as f:
        f.write(page.body())
PY

gcc -O2 -std=gnu99 -Wall -Wextra -I"$top/src" -I"$pginc" \
	-o "$work/json_parsers" "$top/bench/json_parsers.c" "$top/src/task_json.c" \
	"$pglib/libpgcommon.a" "$pglib/libpgport.a" -ljson-c -lm
echo "# $(gcc --version | head -1); json-c $(pkg-config --modversion json-c 2>/dev/null || echo '?'); libpgcommon from $(pg_config --version 2>/dev/null || echo 'PostgreSQL 15')"
"$work/json_parsers" "$reps" "$work"/page*.json
