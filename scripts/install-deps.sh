#!/usr/bin/env bash
# Install what bls_fdw needs to build, test and demo on Debian 12, 13 or
# unstable, for the PostgreSQL major version scripts/pg-version.sh names
# (BLS_PG_VERSION=17 scripts/install-deps.sh for another one).
# Does nothing when everything is already there, so it is cheap to rerun.
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
sudo=""
[ "$(id -u)" -eq 0 ] || sudo="sudo"
updated=

# install those of the packages named that are missing
install_missing() {
	local missing=() p
	for p in "$@"; do
		dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" || missing+=("$p")
	done
	[ ${#missing[@]} -gt 0 ] || return 0
	echo "installing: ${missing[*]}"
	export DEBIAN_FRONTEND=noninteractive
	[ -n "$updated" ] || $sudo apt-get update -q
	updated=1
	$sudo apt-get install -y -q "${missing[@]}"
}

v=$("$top/scripts/pg-version.sh" 2>/dev/null) || {
	install_missing postgresql-common
	v=$("$top/scripts/pg-version.sh")
}
install_missing make gcc clang python3 openssl ca-certificates locales procps \
	postgresql-"$v" postgresql-server-dev-"$v" postgresql-common postgresql-"$v"-cron \
	libcurl4-openssl-dev libjson-c-dev libssl-dev
# the sanitizer and libFuzzer runtime of the clang installed (14 on Debian 12)
install_missing libclang-rt-"$(clang -dumpversion | cut -d. -f1)"-dev

# the encoding suite's LATIN1 database has a German single-byte locale,
# whose character classes include letters such as é
if ! locale -a 2>/dev/null | grep -qix 'de_DE\.iso88591'; then
	echo "generating the locale de_DE.ISO-8859-1"
	$sudo localedef -i de_DE -f ISO-8859-1 de_DE.ISO-8859-1
fi
