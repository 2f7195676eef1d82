# SPDX-License-Identifier: GPL-2.0
# Shared helpers for the shell tests that run inside the VM (busybox sh):
# TAP output, module state, the device node, and the kernel log.
# scripts/vm-run puts this file at /tests/lib/vm-helpers.sh in the guest;
# a test sources it with: . "${VM_HELPERS:-/tests/lib/vm-helpers.sh}"
KO=${PGPDMA_KO:-/lib/modules/pgpdma.ko}
DEV=/dev/pgpdma0
PARAMS=/sys/module/pgpdma/parameters
_tap_n=0
_tap_fail=0

echo "TAP version 13"

tap_ok() { _tap_n=$((_tap_n + 1)); echo "ok $_tap_n - $*"; }
tap_fail() { _tap_n=$((_tap_n + 1)); echo "not ok $_tap_n - $*"; _tap_fail=$((_tap_fail + 1)); }
tap_skip() { _tap_n=$((_tap_n + 1)); echo "ok $_tap_n - $* # SKIP"; }
# tap_check DESC CMD...: ok when CMD succeeds
tap_check() {
	_d=$1
	shift
	if "$@"; then tap_ok "$_d"; else tap_fail "$_d"; fi
}
diag() { echo "# $*"; }
tap_done() {
	echo "1..$_tap_n"
	diag "$((_tap_n - _tap_fail))/$_tap_n passed"
	[ "$_tap_fail" = 0 ]
	exit $?
}

loaded() { lsmod | grep -q '^pgpdma[[:space:]]'; }

unload_quiet() {
	loaded && rmmod pgpdma 2>/dev/null
	! loaded
}

# wait (up to ~2 s) for the device node to appear / disappear
wait_dev() {
	_i=0
	while [ $_i -lt 20 ]; do
		if [ "$1" = present ]; then [ -c "$DEV" ] && return 0
		else [ ! -e "$DEV" ] && return 0; fi
		sleep 0.1
		_i=$((_i + 1))
	done
	return 1
}

# helper binary (a kselftest binary listed in the same suite)
find_helper() {
	for _h in "$(dirname "$0")/$1" "/tests/$1" "$(command -v "$1" 2>/dev/null)"; do
		[ -n "$_h" ] && [ -x "$_h" ] && { echo "$_h"; return 0; }
	done
	return 1
}

# kB value of a /proc/meminfo field
meminfo() { awk -v k="$1:" '$1 == k { print $2 }' /proc/meminfo; }

# kernel log lines added since mark_dmesg
mark_dmesg() { _dm=$(dmesg | wc -l); }
new_dmesg() { dmesg | tail -n +$((_dm + 1)); }

# --- end-to-end helpers (pgpctl and pebbled on PATH) ---
# st FIELD: first "FIELD": N of `pgpctl --json stats` (state before state_hwm)
st() { "${C:-pgpctl}" -d "$DEV" --json stats | sed -n "s/.*\"$1\": \([0-9]*\).*/\1/p" | head -n 1; }
# vf FILE FIELD: FIELD=N of a `pebbled --verify` line
vf() { sed -n "s/.* $2=\([0-9]*\).*/\1/p" "$1" | head -n 1; }
# xf FILE PREFIX FIELD: FIELD=N on the pebbled exit-block line starting with PREFIX
xf() { sed -n "s/^$2.* $3=\([0-9]*\).*/\1/p; s/^$2 *$3=\([0-9]*\).*/\1/p" "$1" | head -n 1; }
