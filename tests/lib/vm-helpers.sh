# SPDX-License-Identifier: GPL-2.0
# Shared helpers for the shell tests that run inside the VM (busybox sh):
# TAP output, module state, the device node, and the kernel log.
# scripts/vm-run puts this file at /tests/lib/vm-helpers.sh in the guest;
# a test sources it with: . "${VM_HELPERS:-/tests/lib/vm-helpers.sh}"
KO=${PGPDMA_KO:-/lib/modules/pgpdma.ko}
DEV=${PGPDMA_DEV:-/dev/pgpdma0}
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
wait_dev() { wait_path "$1" "$DEV" 2; }

# qemu_monitor CMD...: have the host run a QEMU monitor command (suites
# tagged [edu-hotplug]: scripts/vm-monitor-relay reads this line)
qemu_monitor() { echo "# @@@QEMU $*"; }

# wait_path present|absent PATH SECONDS
wait_path() {
	_i=0
	while [ $_i -lt $(($3 * 10)) ]; do
		if [ "$1" = present ]; then [ -e "$2" ] && return 0
		else [ ! -e "$2" ] && return 0; fi
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
# need_device: skip the whole test (TAP skip-all, exit 4) when $DEV is missing
need_device() {
	[ -c "$DEV" ] && return 0
	echo "1..0 # SKIP $DEV missing (module not loaded)"
	exit 4
}
# info_field NAME: a numeric field of `pgpctl --json info`
info_field() { "${C:-pgpctl}" -d "$DEV" --json info | sed -n "s/.*\"$1\": \([0-9]*\).*/\1/p"; }
# wait_started STDERR PID: wait (up to 30 s) for pebbled's "started:" line,
# so transitions are not injected before it has opened the device;
# fails when pebbled exits first
wait_started() {
	_i=0
	while [ $_i -lt 300 ]; do
		grep -q 'started:' "$1" 2>/dev/null && return 0
		kill -0 "$2" 2>/dev/null || return 1
		sleep 0.1
		_i=$((_i + 1))
	done
	return 1
}
# transitions NAME...: inject each transition (output in $W/pgpctl.txt)
transitions() {
	for _t in "$@"; do
		"${C:-pgpctl}" -d "$DEV" inject "$_t" >>"$W/pgpctl.txt" 2>&1 || diag "inject $_t failed"
	done
}
