#!/bin/sh
# Install every Debian package this project needs to build, test and run.
# Idempotent: when everything is present it prints nothing and exits 0.
#
# Usage: scripts/deps.sh [--kernels]
#   --kernels  also install the extra kernel flavours of the test matrix
#              (6.1 PREEMPT_RT and 6.12, images and headers) and what
#              building the debug kernel needs (scripts/debug-kernel.sh)
set -eu

PKGS="
build-essential pkg-config bc kmod cpio xz-utils file perl
qemu-system-x86 busybox-static
sparse dkms
linux-headers-amd64 linux-image-amd64 linux-source-6.1
check libsubunit-dev
libaio-dev libconfig-dev libsystemd-dev libmicrohttpd-dev libxxhash-dev libjansson-dev
python3 python3-numpy python3-pil python3-xxhash
fio systemd e2fsprogs mount
"
MATRIX_PKGS="
linux-headers-rt-amd64 linux-image-rt-amd64
linux-headers-6.12-amd64 linux-image-6.12-amd64
flex bison libelf-dev
"

[ "${1:-}" = "--kernels" ] && PKGS="$PKGS $MATRIX_PKGS"

missing=""
for p in $PKGS; do
	if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
		missing="$missing $p"
	fi
done
[ -z "$missing" ] && exit 0

if [ "$(id -u)" -ne 0 ]; then
	echo "deps: missing packages:$missing; run: sudo $0 $*" >&2
	exit 1
fi

echo "deps: installing:$missing"
export DEBIAN_FRONTEND=noninteractive
# The kernel images are only booted under QEMU with our own initramfs:
# INITRD=No tells the kernel postinst hooks not to build a host initrd.
export INITRD=No
apt-get update -qq
# shellcheck disable=SC2086
apt-get install -y -qq --no-install-recommends \
	-o Dpkg::Options::=--force-confdef -o Dpkg::Options::=--force-confold \
	$missing >/tmp/pgpdma-deps.log 2>&1 || {
	echo "deps: apt-get install failed; see /tmp/pgpdma-deps.log" >&2
	tail -20 /tmp/pgpdma-deps.log >&2
	exit 1
}
