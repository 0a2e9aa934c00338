#!/usr/bin/env bash
# The Debian package, end to end, as TAP: build it from a clean clone of HEAD
# (dpkg-buildpackage -us -uc -b, its build-time test left to the steps below),
# lintian, take the source build's files out of the PostgreSQL directories
# ("make uninstall"), install the .deb with apt-get, run the regression suites
# against the installed package (pg_buildext installcheck, which starts the
# emulators itself), purge it and check that none of its files is left.
# On exit the source build is installed again ("make install"), as
# test/run_tests.sh leaves the machine.
#
# Changes the machine's PostgreSQL installation: run as root, holding
# /tmp/bls-pg.lock where others share the machine.  Needs dpkg-dev,
# debhelper, postgresql-server-dev-all, lintian (see .ci/run).
# Ends with "N passed, M failed".
set -uo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
export BLS_RUN_DIR=${BLS_RUN_DIR:-$top/.run}
work="$BLS_RUN_DIR/deb"
pkg=postgresql-15-bls-fdw
n=0
failed=0

check() {
	local ok=$1 name=$2
	n=$((n + 1))
	if [ "$ok" = 0 ]; then
		echo "ok $n - $name"
	else
		echo "not ok $n - $name"
		failed=$((failed + 1))
	fi
}

finish() {
	echo "1..$n"
	echo "$((n - failed)) passed, $failed failed"
	[ "$failed" -eq 0 ]
	exit
}

restore() {
	if dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q installed; then
		apt-get purge -y -q "$pkg" >"$work/restore.out" 2>&1
	fi
	make -s -C "$top" install >>"$work/restore.out" 2>&1 ||
		{ echo "# could not reinstall the source build:"; sed 's/^/# /' "$work/restore.out"; }
}

rm -rf "$work"
mkdir -p "$work"
version=$(python3 -c 'import json, sys; print(json.load(open(sys.argv[1]))["version"])' "$top/META.json")

# build from a clean clone (the committed HEAD, nothing left from other builds)
git clone -q "$top" "$work/src" >"$work/build.out" 2>&1
(cd "$work/src" && DEB_BUILD_OPTIONS="nocheck parallel=2" \
	dpkg-buildpackage -us -uc -b -Pnocheck) >>"$work/build.out" 2>&1
check $? "dpkg-buildpackage -us -uc -b builds from a clean clone"
deb=$(ls "$work"/${pkg}_"$version"-*_amd64.deb 2>/dev/null | head -1)
[ -n "$deb" ]
check $? "it makes ${pkg}_${version}-N_amd64.deb"
if [ -z "$deb" ]; then
	tail -30 "$work/build.out" | sed 's/^/# /'
	finish
fi

lintian --fail-on error "$deb" >"$work/lintian.out" 2>&1
check $? "lintian finds no error"
grep -E '^[EW]:' "$work/lintian.out" | sed 's/^/# /'

depends=$(dpkg-deb -f "$deb" Depends)
echo "# Depends: $depends"
for lib in libcurl4 libssl3 postgresql-15; do
	case ", $depends" in *", $lib "* | *", $lib,"* | *", $lib") r=0 ;; *) r=1 ;; esac
	check $r "the package depends on $lib"
done
# json-c is the tests' reference parser only, not linked into the module
case ", $depends" in *", libjson-c"*) r=1 ;; *) r=0 ;; esac
check $r "the package does not depend on json-c"

# a system without the source build: none of the package's files in place
trap restore EXIT
dpkg-deb -c "$deb" | awk '$1 !~ /^d/ {sub(/^\./, "", $6); print $6}' >"$work/deb-files"
make -s -C "$top" uninstall >"$work/uninstall.out" 2>&1
left=$(while read -r f; do [ -e "$f" ] && echo "$f"; done <"$work/deb-files")
[ -z "$left" ]
check $? "none of the package's files is installed before the package (source build removed)"
[ -z "$left" ] || echo "$left" | sed 's/^/#   left: /'

DEBIAN_FRONTEND=noninteractive apt-get install -y -q "$deb" >"$work/install.out" 2>&1
check $? "apt-get install ./${deb##*/}"
# its files, and the directories only it has (shared ones like lib/ stay)
dpkg -L "$pkg" 2>/dev/null | while read -r f; do
	if [ -f "$f" ] || { [ -d "$f" ] && [[ $f == *bls* ]]; }; then echo "$f"; fi
done >"$work/dpkg-L"
missing=$(while read -r f; do [ -e "$f" ] || echo "$f"; done <"$work/deb-files")
[ -s "$work/dpkg-L" ] && [ -z "$missing" ]
check $? "dpkg -L lists the installed files ($(wc -l <"$work/dpkg-L") files and own directories)"

# the regression suites against the installed package, one TAP line each
(cd "$work/src" && pg_buildext installcheck) >"$work/installcheck.out" 2>&1
rc=$?
suites=0
while read -r name result; do
	suites=$((suites + 1))
	[ "$result" = ok ]
	check $? "installcheck $name"
done < <(sed -nE 's/^(test| ) *([a-z_]+) +\.\.\. +(ok|FAILED|failed).*/\2 \3/p' "$work/installcheck.out")
[ $rc -eq 0 ] && [ $suites -gt 0 ]
check $? "pg_buildext installcheck against the installed package ($suites suites)"
[ $rc -eq 0 ] || tail -60 "$work/installcheck.out" | sed 's/^/# /'

DEBIAN_FRONTEND=noninteractive apt-get purge -y -q "$pkg" >"$work/purge.out" 2>&1
check $? "apt-get purge $pkg"
left=$(while read -r f; do [ -e "$f" ] && echo "$f"; done <"$work/dpkg-L")
[ -z "$left" ]
check $? "no file or directory of the package is left after the purge"
[ -z "$left" ] || echo "$left" | sed 's/^/#   left: /'

finish
