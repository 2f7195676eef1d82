#!/bin/sh
# Find the kernels this project can build against and boot.
#
#   kernels.sh default      version to build for when KVER is not given:
#                           the running kernel if its headers are installed,
#                           else the newest Debian 6.1 generic flavour found
#   kernels.sh all          the test matrix: every version with headers
#                           (/lib/modules/V/build) and an image
#                           (/boot/vmlinuz-V), then the debug kernel when
#                           it is built (scripts/debug-kernel.sh; not its
#                           --kcsan flavour, see "kcsan")
#   kernels.sh debug        the debug kernel's version; exit 1 if not built
#   kernels.sh kcsan        the KCSAN debug kernel's version, likewise
#   kernels.sh is-debug VER exit 0 when VER is a debug kernel of either
#                           flavour (*-pgpdma-debug, *-pgpdma-kcsan)
#   kernels.sh kdir VER     the tree to build modules against (KDIR)
#   kernels.sh image VER    the kernel image QEMU boots
#   kernels.sh check VER    one line saying what is missing for VER, exit 1
set -eu

here=$(cd "$(dirname "$0")" && pwd)

is_debug() { case "$1" in *-pgpdma-debug|*-pgpdma-kcsan) return 0 ;; esac; return 1; }

# debug_kernel VER ARGS...: scripts/debug-kernel.sh for VER's flavour
debug_kernel() {
	case "$1" in
	*-pgpdma-kcsan) shift; "$here/debug-kernel.sh" --kcsan "$@" ;;
	*) shift; "$here/debug-kernel.sh" "$@" ;;
	esac
}

# The debug kernel lives in a cache entry (scripts/debug-kernel.sh dir),
# the Debian ones in /lib/modules and /boot.
kdir() {
	if is_debug "$1"; then
		echo "$(debug_kernel "$1" dir)/linux"
	else
		echo "/lib/modules/$1/build"
	fi
}

image() {
	if is_debug "$1"; then
		echo "$(debug_kernel "$1" dir)/bzImage"
	else
		echo "/boot/vmlinuz-$1"
	fi
}

debug_built() { [ "$(debug_kernel "$1" release 2>/dev/null)" = "$1" ]; }
have_build() { [ -e "$(kdir "$1")/Makefile" ]; }
have_image() { [ -r "$(image "$1")" ]; }

with_headers() {
	for d in /lib/modules/*/build; do
		[ -e "$d/Makefile" ] || continue
		v=${d#/lib/modules/}
		echo "${v%/build}"
	done | sort -V
}

case "${1:-default}" in
default)
	r=$(uname -r)
	if have_build "$r"; then echo "$r"; exit 0; fi
	v=$(with_headers | grep -E '^6\.1\.[0-9]+-[0-9]+-amd64$' | tail -n 1 || true)
	[ -n "$v" ] || v=$(with_headers | tail -n 1)
	if [ -z "$v" ]; then
		echo "kernels: no kernel headers in /lib/modules/*/build; run: scripts/deps.sh" >&2
		exit 1
	fi
	echo "$v"
	;;
all)
	for v in $(with_headers); do
		have_image "$v" && echo "$v"
	done
	"$here/debug-kernel.sh" release 2>/dev/null || true
	;;
debug)
	"$here/debug-kernel.sh" release
	;;
kcsan)
	"$here/debug-kernel.sh" --kcsan release
	;;
is-debug)
	is_debug "${2:?version}"
	;;
kdir)
	kdir "${2:?version}"
	;;
image)
	image "${2:?version}"
	;;
check)
	v=${2:?version}
	if is_debug "$v" && ! debug_built "$v"; then
		echo "kernels: debug kernel $v is not built ($(debug_kernel "$v" dir)); run: scripts/debug-kernel.sh$(case "$v" in *-kcsan) echo " --kcsan" ;; esac)" >&2
		exit 1
	fi
	if ! have_build "$v"; then
		echo "kernels: no headers for $v ($(kdir "$v")); run: scripts/deps.sh --kernels" >&2
		exit 1
	fi
	if ! have_image "$v"; then
		echo "kernels: no kernel image $(image "$v") to boot; run: apt-get install linux-image-$v (or scripts/deps.sh --kernels)" >&2
		exit 1
	fi
	;;
*)
	echo "usage: $0 default|all|debug|is-debug VER|kdir VER|image VER|check VER" >&2
	exit 2
	;;
esac
