#!/usr/bin/env bash
# Set everything up and run the demo: install the dependencies, build and
# install bls_fdw, start the BLS emulator on loopback and a throwaway
# PostgreSQL cluster (scripts/pg-version.sh), and run a few real queries
# (demo/demo.sql).
#
# To run the same queries against the real service instead, see README.md.
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"
export BLS_RUN_DIR="$top/.run"

scripts/install-deps.sh
make -s -j2
make -s install

eval "$(scripts/emulator.sh start --tasks 5000 --seed 7)"
trap 'scripts/emulator.sh stop' EXIT
export BLS_EMULATOR_URL
echo "BLS emulator listening at $BLS_EMULATOR_URL"

pg_virtualenv -t -v "$(scripts/pg-version.sh)" psql -X --echo-queries -v ON_ERROR_STOP=1 -f demo/demo.sql
