#!/bin/sh
# Find the kernels this project can build against and boot.
#
#   kernels.sh default      version to build for when KVER is not given:
#                           the running kernel if its headers are installed,
#                           else the newest Debian 6.1 generic flavour found
#   kernels.sh all          every version with headers (/lib/modules/V/build)
#                           and an image (/boot/vmlinuz-V): the test matrix
#   kernels.sh check VER    one line saying what is missing for VER, exit 1
set -eu

have_build() { [ -e "/lib/modules/$1/build/Makefile" ]; }
have_image() { [ -r "/boot/vmlinuz-$1" ]; }

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
	;;
check)
	v=${2:?version}
	if ! have_build "$v"; then
		echo "kernels: no headers for $v (/lib/modules/$v/build); run: scripts/deps.sh --kernels" >&2
		exit 1
	fi
	if ! have_image "$v"; then
		echo "kernels: no kernel image /boot/vmlinuz-$v to boot; run: apt-get install linux-image-$v (or scripts/deps.sh --kernels)" >&2
		exit 1
	fi
	;;
*)
	echo "usage: $0 default|all|check VER" >&2
	exit 2
	;;
esac
