#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# After pgpdma_fuzz, in the same boot (busybox sh, TAP on stdout):
#  - nothing still holds the device: rmmod pgpdma works at once, and the
#    device node, /proc/pgpdma0 and the sysfs class entry go away;
#  - the pool's memory comes back (MemFree plus the per-CPU free lists);
#  - the module loads again with the same parameters and unloads again.
# List it after pgpdma_fuzz in a suite that loads the module.
. "${VM_HELPERS:-/tests/lib/vm-helpers.sh}"

loaded || { echo "1..0 # SKIP pgpdma not loaded"; exit 4; }

# free memory in kB: MemFree + pages on the per-CPU lists (not in MemFree)
free_kb() {
	pcp=$(awk '/^  pagesets/ { p = 1 } p && $1 == "count:" { n += $2 } END { print n + 0 }' /proc/zoneinfo)
	echo $(($(meminfo MemFree) + pcp * 4))
}
# drop the page cache, shrink every slab cache (on a KASAN kernel that also
# empties its quarantine of freed objects), let the per-CPU lists settle
settle() {
	sync
	echo 3 > /proc/sys/vm/drop_caches 2>/dev/null
	for s in /sys/kernel/slab/*/shrink; do echo 1 > "$s"; done 2>/dev/null
	sleep 0.3
}

p=$PARAMS
rx=$(cat "$p/cfgRxCount") tx=$(cat "$p/cfgTxCount") size=$(cat "$p/cfgSize")
mode=$(cat "$p/cfgMode") devs=$(cat "$p/cfgDevCount")
stride=$(((size + 4095) / 4096 * 4096))
pool_kb=$(((rx + tx) * stride * devs / 1024))
diag "module: cfgRxCount=$rx cfgTxCount=$tx cfgSize=$size cfgMode=$mode cfgDevCount=$devs (pool $pool_kb kB)"

settle
free0=$(free_kb)
if rmmod pgpdma 2>/tmp/rmmod.err; then
	tap_ok "rmmod pgpdma after the fuzzer"
else
	tap_fail "rmmod pgpdma after the fuzzer: $(cat /tmp/rmmod.err)"
	n=0
	for l in /proc/[0-9]*/fd/*; do
		case $(readlink "$l" 2>/dev/null) in *pgpdma*) n=$((n + 1)) ;; esac
	done
	diag "$n open file(s) of $DEV"
fi
tap_check "no pgpdma in lsmod" sh -c '! lsmod | grep -q "^pgpdma[[:space:]]"'
tap_check "$DEV gone" wait_dev absent
tap_check "/proc/pgpdma0 gone" test ! -e /proc/pgpdma0
tap_check "/sys/class/pgpdma/pgpdma0 gone" test ! -e /sys/class/pgpdma/pgpdma0
settle
free1=$(free_kb)
gain=$((free1 - free0))
diag "free memory ${free0} -> ${free1} kB (+${gain}) at rmmod"
# the pool is freed at unload; allow a quarter of it (and 256 kB) of noise
if [ "$gain" -ge $((pool_kb * 3 / 4 - 256)) ]; then
	tap_ok "rmmod gave the pool back (+${gain} kB, pool ${pool_kb} kB)"
else
	tap_fail "rmmod gave back only ${gain} kB of a ${pool_kb} kB pool"
fi

if insmod "$KO" cfgRxCount="$rx" cfgTxCount="$tx" cfgSize="$size" cfgMode="$mode" \
	cfgDevCount="$devs" 2>/tmp/insmod.err; then
	tap_ok "insmod again with the same parameters"
	tap_check "$DEV back" wait_dev present
	tap_check "rmmod again" rmmod pgpdma
else
	tap_fail "insmod again with the same parameters: $(cat /tmp/insmod.err)"
fi
tap_done
