#!/usr/bin/env bash
# Install what bls_fdw needs to build, test and demo on Debian 12.
# Does nothing when everything is already there, so it is cheap to rerun.
set -euo pipefail

packages=(
	make gcc clang python3 openssl ca-certificates locales
	postgresql-15 postgresql-server-dev-15 postgresql-common postgresql-15-cron
	libcurl4-openssl-dev libjson-c-dev libssl-dev libclang-rt-14-dev
)
sudo=""
[ "$(id -u)" -eq 0 ] || sudo="sudo"

missing=()
for p in "${packages[@]}"; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
	echo "installing: ${missing[*]}"
	export DEBIAN_FRONTEND=noninteractive
	$sudo apt-get update -q
	$sudo apt-get install -y -q "${missing[@]}"
fi

# the encoding suite's LATIN1 database has a German single-byte locale,
# whose character classes include letters such as é
if ! locale -a 2>/dev/null | grep -qix 'de_DE\.iso88591'; then
	echo "generating the locale de_DE.ISO-8859-1"
	$sudo localedef -i de_DE -f ISO-8859-1 de_DE.ISO-8859-1
fi
