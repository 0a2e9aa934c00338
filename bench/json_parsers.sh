#!/usr/bin/env bash
# response.c's reader against PostgreSQL's own JSON parser (pg_parse_json,
# semantic callbacks, frontend libpgcommon) and json-c's tree, reading every
# field of every task of realistic ListDownloadTask pages:
#
#   bash bench/json_parsers.sh [-n REPS] [-p PAGES] [-r REV]
#
# Renders PAGES (default 10) pages of 1000 tasks with the emulator's own
# generator and page encoder (test/bls_emulator.py, seed 42), builds
# bench/json_parsers.c with -O2 against src/response.c, src/json_reader.c, json-c and
# /usr/lib/postgresql/15/lib/libpgcommon.a + libpgport.a (needs
# postgresql-server-dev-15), and prints MB/s and tasks/s for each parser,
# median of REPS (default 9) runs, side by side.
#
# It reads the pages twice: as rendered ("plain"), and with every string
# value of every task carrying an escape, a quote in its middle written \"
# ("escaped", as in the @raw of a JSON log), and prints how fast the reader
# reads the escaped pages against the plain ones.  With -r REV (a git
# revision, e.g. main) the same is run with REV's src/response.c built the
# same way, and the lines of the JSON reader of both are counted: before and
# after, in one run.  Starts no server; uses one core; takes about a minute.
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
reps=9
pages=10
rev=
while [ $# -gt 0 ]; do
	case "$1" in
	-n) reps=$2; shift 2 ;;
	-p) pages=$2; shift 2 ;;
	-r) rev=$2; shift 2 ;;
	*) echo "usage: $0 [-n REPS] [-p PAGES] [-r REV]" >&2; exit 2 ;;
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
import json
import sys
sys.path.insert(0, sys.argv[1])
import bls_emulator as emu
out, npages = sys.argv[2], int(sys.argv[3])


def escaped(blob):
    """The task with a quote in the middle of each of its strings."""
    t = json.loads(blob)
    for k, v in t.items():
        if isinstance(v, str):
            t[k] = v[:len(v) // 2] + '"' + v[len(v) // 2:]
    return emu.encode_task(t)


data = emu.DataSet(npages * 1000, 42)
for p in range(npages):
    tasks = data.json[p * 1000:(p + 1) * 1000]
    for kind, ts in (("plain", tasks), ("escaped", [escaped(b) for b in tasks])):
        page = emu.Page("desc", "createdTime", p + 1, 1000, len(data), ts)
        with open("%s/%s%03d.json" % (out, kind, p + 1), "wb") as f:
            f.write(page.body())
PY

build() {
	gcc -O2 -std=gnu99 -Wall -Wextra -I"$1" -I"$pginc" \
		-o "$2" "$top/bench/json_parsers.c" "$1/response.c" \
		$(ls "$1/json_reader.c" "$1/service_text.c" 2>/dev/null) \
		"$pglib/libpgcommon.a" "$pglib/libpgport.a" -ljson-c -lm
}

# bls_fast's tasks/s of plain and escaped pages, and their ratio: the ratio
# of each of five rounds in turn, plain then escaped (so that both see the
# same load on a shared machine), and their median
run() {
	local r p e ratios=
	echo "## $1: plain pages"
	"$2" "$reps" "$work"/plain*.json
	echo "## $1: every string escaped"
	"$2" "$reps" "$work"/escaped*.json
	for r in 1 2 3 4 5; do
		p=$("$2" 3 "$work"/plain*.json | awk '$1 == "bls_fast" { print $3 }')
		e=$("$2" 3 "$work"/escaped*.json | awk '$1 == "bls_fast" { print $3 }')
		ratios="$ratios $(awk -v p="$p" -v e="$e" 'BEGIN { printf "%.3f", e / p }')"
	done
	echo "$ratios" | tr ' ' '\n' | sed '/^$/d' | sort -n |
		awk -v n="$1" '{ r[NR] = $1 } END { printf "## %s: escaped pages read at %.2fx the tasks/s of plain ones (median of 5 rounds in turn:", n, r[3]; for (i = 1; i <= NR; i++) printf " %s", r[i]; print ")" }'
}

echo "# $(gcc --version | head -1); json-c $(pkg-config --modversion json-c 2>/dev/null || echo '?'); libpgcommon from $(pg_config --version 2>/dev/null || echo 'PostgreSQL 15')"
build "$top/src" "$work/json_parsers"
if [ -n "$rev" ]; then
	mkdir "$work/rev"
	for f in $(git -C "$top" ls-tree --name-only "$rev" src/); do
		git -C "$top" show "$rev:$f" > "$work/rev/$(basename "$f")"
	done
	# before the renames of issue 19, the reader was task_json.[ch], its
	# items "tasks"
	if [ -f "$work/rev/task_json.c" ]; then
		mv "$work/rev/task_json.c" "$work/rev/response.c"
		mv "$work/rev/task_json.h" "$work/rev/response.h"
		sed -i -e 's/task_json\.h/response.h/' \
			-e 's/bls_page_read_task/bls_page_read_item/g' \
			-e 's/bls_page_task_done/bls_page_item_done/g' \
			-e 's/bls_page_task/bls_page_item/g' \
			-e 's/bls_task_field/bls_item_field/g' \
			-e 's/\bntasks\b/nitems/g' -e 's/\(->\|\.\)tasks\b/\1items/g' \
			-e 's/\*tasks;/*items;/' \
			"$work"/rev/*.[ch]
	fi
	build "$work/rev" "$work/json_parsers.rev"
	echo "# lines of the JSON code (response.[ch], json_reader.[ch], json_body.[ch] or request.[ch]): $rev $(cat "$work"/rev/{response,json_reader,json_body,request}.[ch] 2>/dev/null | wc -l), this tree $(cat "$top"/src/{response,json_reader,json_body}.[ch] | wc -l)"
	run "$rev" "$work/json_parsers.rev"
fi
run "this tree" "$work/json_parsers"
