#!/usr/bin/env bash
# Print the PostgreSQL major version bls_fdw is built and tested against:
# $BLS_PG_VERSION if set, else that of pg_config (the newest installed
# postgresql-server-dev-NN), else the one the distribution's "postgresql"
# package stands for.  The build, test and bench scripts all ask this.
set -euo pipefail
if [ -n "${BLS_PG_VERSION:-}" ]; then
	v=$BLS_PG_VERSION
elif v=$(${PG_CONFIG:-pg_config} --version 2>/dev/null); then
	v=$(sed -n 's/^PostgreSQL \([0-9]*\).*/\1/p' <<<"$v")
else
	v=$(apt-cache depends postgresql 2>/dev/null | sed -n 's/.*Depends: postgresql-\([0-9][0-9]*\)$/\1/p' | head -1)
fi
case "$v" in
[1-9][0-9]) echo "$v" ;;
*) echo "cannot tell the PostgreSQL version: set BLS_PG_VERSION" >&2; exit 1 ;;
esac
