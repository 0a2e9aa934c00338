#!/usr/bin/env bash
# Install what bls_fdw needs to build, test and demo on Debian 12.
# Does nothing when everything is already there, so it is cheap to rerun.
set -euo pipefail

packages=(
	make gcc clang python3 openssl ca-certificates
	postgresql-15 postgresql-server-dev-15 postgresql-common postgresql-15-cron
	libcurl4-openssl-dev libjson-c-dev libssl-dev libclang-rt-14-dev
)

missing=()
for p in "${packages[@]}"; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
	exit 0
fi

echo "installing: ${missing[*]}"
sudo=""
[ "$(id -u)" -eq 0 ] || sudo="sudo"
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -q
$sudo apt-get install -y -q "${missing[@]}"
