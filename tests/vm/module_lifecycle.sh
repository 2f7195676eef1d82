#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# pgpdma module lifecycle (busybox sh, TAP on stdout):
#  - ten load/unload cycles leave MemFree within one pool's size and Slab
#    within 2 MiB of where they were, and no module loaded;
#  - rmmod while /dev/pgpdma0 is open (by this shell or by another process)
#    is refused and works once it is closed.
# Run with the module NOT loaded (suite params '-').
. "${VM_HELPERS:-/tests/lib/vm-helpers.sh}"

LOADP="cfgRxCount=64 cfgTxCount=16 cfgSize=65536"
HELPER=$(find_helper pgpdma_params) || HELPER=""
unload_quiet || { echo "not ok 1 - pgpdma could not be unloaded first"; echo "1..1"; exit 1; }
[ -r "$KO" ] || { echo "1..0 # SKIP no module at $KO"; exit 4; }

settle() { sync; echo 3 > /proc/sys/vm/drop_caches 2>/dev/null; sleep 0.2; }

# one warm-up cycle so that one-time allocations (sysfs, class, caches) are
# already in the baseline
# shellcheck disable=SC2086
insmod "$KO" $LOADP && wait_dev present && { [ -z "$HELPER" ] || "$HELPER" >/dev/null 2>&1; rmmod pgpdma; }
settle
free0=$(meminfo MemFree)
slab0=$(meminfo Slab)
bad=0
i=1
while [ $i -le 10 ]; do
	# shellcheck disable=SC2086
	if ! insmod "$KO" $LOADP; then bad=1; diag "cycle $i: insmod failed"; break; fi
	if ! wait_dev present; then bad=1; diag "cycle $i: no $DEV"; fi
	# use the device each cycle: status file, open/close, and (when the
	# suite provides it) mmap + ioctls + a loopback frame
	cat /proc/pgpdma0 >/dev/null 2>&1
	dd if="$DEV" of=/dev/null bs=65536 count=0 2>/dev/null
	if [ -n "$HELPER" ] && ! "$HELPER" >/dev/null 2>&1; then
		bad=1
		diag "cycle $i: pgpdma_params failed"
	fi
	if ! rmmod pgpdma; then bad=1; diag "cycle $i: rmmod failed"; break; fi
	if ! wait_dev absent; then bad=1; diag "cycle $i: $DEV left"; fi
	i=$((i + 1))
done
if [ "$bad" = 0 ]; then tap_ok "10 load/unload cycles"; else tap_fail "10 load/unload cycles"; fi
settle
free1=$(meminfo MemFree)
slab1=$(meminfo Slab)
dfree=$((free0 - free1))
dslab=$((slab1 - slab0))
diag "MemFree ${free0} -> ${free1} kB, Slab ${slab0} -> ${slab1} kB"
# MemFree moves by ~2 MiB over the cycles on its own (per-CPU page lists,
# more on PREEMPT_RT); a leak of the pool would cost its whole size per
# cycle. Less than one pool over ten cycles means nothing of it leaks
# (beyond a tenth of a pool per cycle); the Slab check catches small leaks.
pool_kb=$(((64 + 16) * 65536 / 1024))
if [ "$dfree" -lt "$pool_kb" ]; then tap_ok "MemFree drift ${dfree} kB < one pool (${pool_kb} kB) over 10 cycles"
else tap_fail "MemFree dropped by ${dfree} kB over 10 cycles"; fi
if [ "$dslab" -lt 2048 ]; then tap_ok "Slab drift ${dslab} kB < 2 MiB"
else tap_fail "Slab grew by ${dslab} kB over 10 cycles"; fi
tap_check "lsmod shows no pgpdma after the cycles" sh -c '! lsmod | grep -q "^pgpdma[[:space:]]"'
tap_check "no $DEV after the cycles" test ! -e "$DEV"

# rmmod while open by this shell
# shellcheck disable=SC2086
insmod "$KO" $LOADP && wait_dev present
exec 3<"$DEV"
if rmmod pgpdma 2>/dev/null; then
	tap_fail "rmmod refused while /dev/pgpdma0 is open"
	exec 3<&-
	# shellcheck disable=SC2086
	insmod "$KO" $LOADP && wait_dev present
else
	tap_ok "rmmod refused while /dev/pgpdma0 is open"
	tap_check "module still loaded and device usable" sh -c "lsmod | grep -q '^pgpdma[[:space:]]' && test -c $DEV"
	exec 3<&-
	tap_check "rmmod works after close" rmmod pgpdma
	# shellcheck disable=SC2086
	insmod "$KO" $LOADP && wait_dev present
fi

# rmmod while another process holds it open
sleep 1000 <"$DEV" &
holder=$!
sleep 0.2
if rmmod pgpdma 2>/dev/null; then
	tap_fail "rmmod refused while another process has it open"
else
	tap_ok "rmmod refused while another process has it open"
fi
kill "$holder" 2>/dev/null
wait "$holder" 2>/dev/null
if loaded; then tap_check "rmmod works after the holder exits" rmmod pgpdma
else tap_fail "rmmod works after the holder exits (module already gone)"; fi
tap_check "no module left loaded" sh -c '! lsmod | grep -q "^pgpdma[[:space:]]"'
tap_done
