#!/bin/bash
# Static checks, as TAP (one result per check) on stdout:
#   checkpatch.pl --strict --no-tree on driver/ and uapi/
#   sparse (make C=2) on the driver, no warnings from our files
#   the uapi header compiles standalone as C90 and as C++
#   dkms add / build / remove of the tree against the installed headers
# Run by scripts/check.sh; needs KVER (kernel to build against).
set -u
here=$(cd "$(dirname "$0")" && pwd)
top=$(dirname "$here")
cd "$top"
kver=${KVER:-$(scripts/kernels.sh default)}
kdir=$(scripts/kernels.sh kdir "$kver")
ktools=build/ktools
work=$(mktemp -d "${TMPDIR:-/tmp}/static-check.XXXXXX")
trap 'rm -rf "$work"' EXIT
n=0
failed=0

result() {	# result OK|FAIL description logfile
	n=$((n + 1))
	if [ "$1" = OK ]; then
		echo "ok $n - $2"
	else
		echo "not ok $n - $2"
		[ -s "$3" ] && sed 's/^/# /' "$3" | head -n 60
		failed=1
	fi
}

echo "TAP version 13"
echo "1..6"

# checkpatch: every check must be silent. The uapi header is checked at the
# path it would have upstream (include/uapi/linux/), where checkpatch knows
# userspace headers cannot use BIT() or plain inline (C90).
log=$work/checkpatch.log
mkdir -p "$work/cp/include/uapi/linux"
cp uapi/linux/*.h "$work/cp/include/uapi/linux/"
cp_run() {
	perl "$top/$ktools/scripts/checkpatch.pl" --strict --no-tree --terse --show-types \
		--ignore FILE_PATH_CHANGES -f "$@"
}
# The allowed exceptions: the module parameter names DAQ nodes already
# use with the reference driver are CamelCase (cfgRxCount, ...), and only
# those exact names are let through; driver/compat.h, the one file where
# out-of-tree code must compare kernel (and RHEL) versions, may use
# LINUX_VERSION_CODE in such comparisons. Anything else still fails.
params='cfgRxCount|cfgTxCount|cfgSize|cfgMode|cfgDevCount|cfgPoolMaxPct|cfgGenMode|cfgGenRate|cfgGenSize|cfgRxHoldMax'
{ cp_run driver/*.c driver/*.h; (cd "$work/cp" && cp_run include/uapi/linux/*.h); } > "$log" 2>&1
if grep -E '(ERROR|WARNING|CHECK):' "$log" |
	grep -vE "^driver/main\.c:[0-9]+: CHECK:CAMELCASE: Avoid CamelCase: <($params)>\$" |
	grep -vE "^driver/compat\.h:[0-9]+: WARNING:(LINUX_VERSION_CODE|CONSTANT_COMPARISON):" |
	grep -q .; then
	result FAIL "checkpatch --strict clean on driver/ and uapi/" "$log"
else
	result OK "checkpatch --strict clean on driver/ and uapi/ (parameter names excepted)" "$log"
fi

# sparse: build a private copy with C=2 and keep warnings about our sources.
log=$work/sparse.log
mkdir -p "$work/sparse"
cp -a Kbuild driver uapi "$work/sparse/"
if make -s -C "$kdir" M="$work/sparse" C=2 CHECK="sparse -Wsparse-error" modules > "$log" 2>&1 &&
	! grep -E '(driver|uapi)/[^:]+:[0-9]+:[0-9]+: (warning|error)' "$log" >/dev/null; then
	result OK "sparse clean (make C=2, $kver)" "$log"
else
	result FAIL "sparse clean (make C=2, $kver)" "$log"
fi

# The uapi header on its own, as C90 and as C++.
log=$work/uapi.log
printf '#include <linux/pgpdma.h>\nint pgpdma_uapi_only;\n' > "$work/uapi.c"
if gcc -std=c90 -pedantic-errors -Wall -Wextra -Werror -Iuapi -fsyntax-only "$work/uapi.c" > "$log" 2>&1; then
	result OK "uapi/linux/pgpdma.h compiles standalone as C90" "$log"
else
	result FAIL "uapi/linux/pgpdma.h compiles standalone as C90" "$log"
fi
if g++ -x c++ -std=c++11 -pedantic-errors -Wall -Wextra -Werror -Iuapi -fsyntax-only "$work/uapi.c" > "$log" 2>&1; then
	result OK "uapi/linux/pgpdma.h compiles standalone as C++" "$log"
else
	result FAIL "uapi/linux/pgpdma.h compiles standalone as C++" "$log"
fi

# DKMS in private trees, so the host's /usr/src and /var/lib/dkms stay untouched.
log=$work/dkms.log
ver=$(sed -n 's/^PACKAGE_VERSION="\(.*\)"/\1/p' dkms.conf)
src=$work/src/pgpdma-$ver
mkdir -p "$src" "$work/dkms"
cp -a Kbuild driver uapi dkms.conf "$src/"
dk="--sourcetree $work/src --dkmstree $work/dkms"
if command -v dkms >/dev/null &&
	dkms add -m pgpdma -v "$ver" $dk > "$log" 2>&1 &&
	dkms build -m pgpdma -v "$ver" -k "$kver" --kernelsourcedir "$kdir" $dk >> "$log" 2>&1 &&
	find "$work/dkms" -name pgpdma.ko | grep -q . &&
	dkms remove -m pgpdma -v "$ver" --all $dk >> "$log" 2>&1 &&
	[ ! -e "$work/dkms/pgpdma/$ver" ]; then
	result OK "dkms add/build/remove against $kver" "$log"
else
	result FAIL "dkms add/build/remove against $kver" "$log"
fi

# Every top-level piece the layout promises is there.
log=$work/layout.log
: > "$log"
for p in Kbuild driver daemon uapi scripts tests dkms.conf README.md Makefile .ci/run; do
	[ -e "$p" ] || echo "missing: $p" >> "$log"
done
if [ ! -s "$log" ]; then
	result OK "top-level layout complete" "$log"
else
	result FAIL "top-level layout complete" "$log"
fi
exit $failed
