#!/bin/sh
# Extract the GPL kernel files the build needs from Debian's linux-source-6.1
# package (never committed to this repository):
#   kselftest_harness.h, kselftest.h   the selftest harness for driver tests
#   checkpatch.pl (+ its data files)   the kernel style checker
#
# Usage: scripts/kernel-tools.sh OUTDIR
# Creates OUTDIR/include/{kselftest_harness.h,kselftest.h} and
# OUTDIR/scripts/checkpatch.pl; does nothing when they are already there.
set -eu
out=${1:?usage: $0 OUTDIR}
tarball=$(ls /usr/src/linux-source-6.1.tar.* 2>/dev/null | head -n 1 || true)

if [ -f "$out/include/kselftest_harness.h" ] && [ -f "$out/scripts/checkpatch.pl" ]; then
	exit 0
fi
if [ -z "$tarball" ]; then
	echo "kernel-tools: /usr/src/linux-source-6.1.tar.xz not found; run: scripts/deps.sh (installs linux-source-6.1)" >&2
	exit 1
fi

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
top=linux-source-6.1
tar -xf "$tarball" -C "$tmp" \
	"$top/tools/testing/selftests/kselftest_harness.h" \
	"$top/tools/testing/selftests/kselftest.h" \
	"$top/scripts/checkpatch.pl" \
	"$top/scripts/spelling.txt" \
	"$top/scripts/const_structs.checkpatch"
mkdir -p "$out/include" "$out/scripts"
cp "$tmp/$top/tools/testing/selftests/kselftest_harness.h" \
   "$tmp/$top/tools/testing/selftests/kselftest.h" "$out/include/"
cp "$tmp/$top/scripts/checkpatch.pl" "$tmp/$top/scripts/spelling.txt" \
   "$tmp/$top/scripts/const_structs.checkpatch" "$out/scripts/"
