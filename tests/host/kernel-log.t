#!/bin/bash
# scripts/kernel-log-check, the kernel-log scan behind vm-run: each kind of
# report the debug kernel's checkers print (as 6.1 formats them) fails the
# scan and is printed; the boot banners of those checkers (KASAN, lockdep,
# DMA-API debug, SLUB debug) and a clean boot do not.
set -u
top=$(cd "$(dirname "$0")/../.." && pwd)
chk=$top/scripts/kernel-log-check
W=$(mktemp -d "${TMPDIR:-/tmp}/kernel-log-t.XXXXXX")
trap 'rm -rf "$W"' EXIT
n=0
fails=0

ok() { n=$((n + 1)); echo "ok $n - $1"; }
nok() { n=$((n + 1)); echo "not ok $n - $1"; fails=$((fails + 1)); sed 's/^/# /' "$W/out" | head -n 15; }

# A clean boot of the debug kernel: the checkers announce themselves.
cat > "$W/boot.log" <<'EOF'
[    0.000000] Linux version 6.1.192-pgpdma-debug (root@host) (gcc (Debian 12.2.0-14) 12.2.0) #1 SMP PREEMPT
[    0.000000] Command line: console=ttyS0 panic=-1 quiet loglevel=5 rdinit=/init
[    0.010000] kasan: KernelAddressSanitizer initialized
[    0.020000] Lock dependency validator: Copyright (c) 2006 Red Hat, Inc., Ingo Molnar
[    0.020001] ... MAX_LOCKDEP_SUBCLASSES:  8
[    0.020002] ... MAX_LOCK_DEPTH:          48
[    0.020003] ... MAX_LOCKDEP_KEYS:        8192
[    0.030000] SLUB: HWalign=64, Order=0-3, MinObjects=0, CPUs=2, Nodes=1
[    0.030001] **********************************************************
[    0.030002] **   NOTICE NOTICE NOTICE NOTICE NOTICE NOTICE NOTICE   **
[    0.030003] ** This system shows unhashed kernel memory addresses   **
[    0.040000] rcu: Preemptible hierarchical RCU implementation.
[    0.500000] DMA-API: preallocated 65536 debug entries
[    0.500001] DMA-API: debugging enabled by kernel config
[    0.600000] DMA-API: dma_debug_entry pool grown to 131072 (200%)
[    0.700000] Serial: 8250/16550 driver, 4 ports, IRQ sharing disabled
[    0.800000] Freeing unused kernel image (initmem) memory: 1234K
[    1.000000] pgpdma: loading out-of-tree module taints kernel.
[    1.100000] pgpdma 0000:00:02.0: pgpdma0: 64 x 8192 B RX, 16 TX, coherent
EOF

# name|report lines (\n separated): one per checker, as 6.1 prints them
cat > "$W/reports" <<'EOF'
KASAN use-after-free|==================================================================\nBUG: KASAN: slab-use-after-free in pg_pool_put+0x1a/0x80 [pgpdma]\nRead of size 8 at addr ffff888003a1c008 by task pgpdma_stress/97
KASAN out-of-bounds (no BUG: prefix kept)|KASAN: slab-out-of-bounds in pg_copy+0x3c/0x90 [pgpdma]
UBSAN array index|================================================================================\nUBSAN: array-index-out-of-bounds in driver/pool.c:123:9\nindex 64 is out of range for type 'struct pg_buf *[64]'
lockdep circular|======================================================\nWARNING: possible circular locking dependency detected\n6.1.192-pgpdma-debug #1 Tainted: G           O
lockdep inconsistent (no WARNING: prefix kept)|inconsistent lock state
lockdep recursive|possible recursive locking detected
lockdep suspicious RCU|suspicious RCU usage
lockdep non-static key|INFO: trying to register non-static key.
sleep in atomic|BUG: sleeping function called from invalid context at mm/slab.h:712
sleep in atomic (message only)|sleeping function called from invalid context at kernel/locking/mutex.c:580
DMA-API report|DMA-API: pgpdma 0000:00:02.0: device driver frees DMA memory with different size [device address=0x0000000003a20000] [map size=8192 bytes] [unmap size=4096 bytes]
DMA-API pending at unbind|DMA-API: pgpdma pgpdma: device driver has pending DMA allocations while released from device [count=3]
DMA-API out of memory|DMA-API: debugging out of memory - disabling
list corruption|list_add corruption. next->prev should be prev (ffff888003a1c008), but was 0000000000000000. (next=ffff888003a1c010).
list_del corruption|list_del corruption, ffff888003a1c008->next is LIST_POISON1 (dead000000000100)
SLUB redzone|=============================================================================\nBUG kmalloc-64 (Tainted: G    B      O      ): Right Redzone overwritten\n-----------------------------------------------------------------------------
SLUB poison, not tainted|BUG kmalloc-128 (Not tainted): Poison overwritten
debugobjects|ODEBUG: free active (active state 0) object: ffff888003a1c000 object type: timer_list hint: pg_tick+0x0/0x40 [pgpdma]
usercopy|usercopy: Kernel memory exposure attempt detected from SLUB object 'kmalloc-64' (offset 0, size 128)!
kernel BUG at|kernel BUG at mm/usercopy.c:101!
WARNING|WARNING: CPU: 1 PID: 97 at driver/pool.c:88 pg_pool_put+0x1a/0x80 [pgpdma]
panic|Kernel panic - not syncing: Fatal exception
smp_processor_id|BUG: using smp_processor_id() in preemptible [00000000] code: pgpdma_stress/97
Bad page state|BUG: Bad page state in process pgpdma_stress  pfn:03a1c
EOF

echo "TAP version 13"
echo "1..$(($(wc -l < "$W/reports") + 9))"

if "$chk" "$W/boot.log" > "$W/out" 2>&1 && [ ! -s "$W/out" ]; then ok "a clean debug-kernel boot (KASAN, lockdep, DMA-API, SLUB banners) passes, silently"; else nok "a clean debug-kernel boot passes"; fi

if "$chk" "$W/none.log" > "$W/out" 2>&1; then ok "a missing log counts as clean (guest died before its dmesg)"; else nok "a missing log counts as clean"; fi

while IFS='|' read -r name text; do
	{ head -n 10 "$W/boot.log"; printf '[    2.000000] %b\n' "${text//\\n/\\n[    2.000000] }"; echo "[    2.100000] after"; } > "$W/r.log"
	first=$(printf '%b\n' "$text" | grep -v '^[=-]*$' | head -n 1)
	"$chk" "$W/r.log" > "$W/out" 2>&1
	rc=$?
	if [ "$rc" = 1 ] && grep -qF -- "$first" "$W/out"; then
		ok "$name: fails the scan and is printed"
	else
		nok "$name: fails the scan and is printed (exit $rc)"
	fi
done < "$W/reports"

# The printout: FILE:LINE of the report line, then the report in context.
{ cat "$W/boot.log"; echo "[    3.000000] BUG: KASAN: global-out-of-bounds in x+0x1/0x2"; for i in $(seq 1 100); do echo "[    3.000001] trace line $i"; done; } > "$W/long.log"
"$chk" "$W/long.log" > "$W/out" 2>&1
line=$(grep -n 'BUG: KASAN' "$W/long.log" | cut -d: -f1)
if grep -qx "$W/long.log:$line:.*BUG: KASAN: global-out-of-bounds in x+0x1/0x2" "$W/out" &&
	grep -q 'trace line 70$' "$W/out" && ! grep -q 'trace line 90$' "$W/out"; then
	ok "the report is named by file:line and printed with ~80 lines of context"
else
	nok "the report is named by file:line and printed with ~80 lines of context"
fi

# Two logs (dmesg.log, console.log): a report in either one counts.
"$chk" "$W/boot.log" "$W/long.log" > "$W/out" 2>&1
if [ $? = 1 ] && grep -q "^--- $W/long.log" "$W/out"; then ok "a report in the second log fails the scan"; else nok "a report in the second log fails the scan"; fi

# The same report in a log of a Debian kernel (no checkers) counts too.
printf 'Linux version 6.1.0-57-amd64\nWARNING: possible circular locking dependency detected\n' > "$W/stock.log"
"$chk" "$W/stock.log" > "$W/out" 2>&1
if [ $? = 1 ]; then ok "reports count on any kernel, not only the debug one"; else nok "reports count on any kernel"; fi

# KCSAN (the kcsan flavour): a data race with a pgpdma stack fails the
# scan; one between two core-kernel functions (6.1 has benign ones) does not.
kcsan() {	# kcsan FUNC: a KCSAN report, as 6.1 prints it, with FUNC in one stack
	cat "$W/boot.log"
	sed 's/^/[    4.000000] /' <<KCSAN
==================================================================
BUG: KCSAN: data-race in $1 / tick_nohz_stop_tick

write to 0xffff888003a1c008 of 8 bytes by task 97 on cpu 1:
 $1+0x1a/0x80
 kthread+0x1b4/0x1e0

read to 0xffff888003a1c008 of 8 bytes by task 0 on cpu 0:
 tick_nohz_stop_tick+0x3c/0x90
 do_idle+0x10c/0x1a0

Reported by Kernel Concurrency Sanitizer on:
CPU: 0 PID: 0 Comm: swapper/0 Not tainted 6.1.192-pgpdma-kcsan #1
==================================================================
KCSAN
	echo "[    4.100000] after"
}
kcsan "pgpdma_emu_gen_step [pgpdma]" | sed 's|in pgpdma_emu_gen_step \[pgpdma\] / tick_nohz_stop_tick|in hrtimer_wakeup / pgpdma_emu_gen_step [pgpdma]|' > "$W/kcsan-hrtimer.log"
"$chk" "$W/kcsan-hrtimer.log" > "$W/out" 2>&1
if [ $? = 0 ] && [ ! -s "$W/out" ] && grep -q 'in hrtimer_wakeup / pgpdma_emu' "$W/kcsan-hrtimer.log"; then ok "KCSAN's hrtimer_wakeup race of the inlined wait_event_*_hrtimeout() is the kernel's, not a report"; else nok "KCSAN's hrtimer_wakeup race is not a report"; fi
kcsan tick_nohz_next_event > "$W/kcsan-core.log"
"$chk" "$W/kcsan-core.log" > "$W/out" 2>&1
if [ $? = 0 ] && [ ! -s "$W/out" ]; then ok "a KCSAN data race outside pgpdma is not a report"; else nok "a KCSAN data race outside pgpdma is not a report"; fi
kcsan "pgpdma_emu_thread [pgpdma]" > "$W/kcsan-pgpdma.log"
"$chk" "$W/kcsan-pgpdma.log" > "$W/out" 2>&1
if [ $? = 1 ] && grep -q 'BUG: KCSAN: data-race in pgpdma_emu_thread' "$W/out"; then ok "a KCSAN data race in pgpdma fails the scan and is printed"; else nok "a KCSAN data race in pgpdma fails the scan"; fi

"$chk" > "$W/out" 2>&1
if [ $? = 2 ]; then ok "no log given is a usage error (exit 2)"; else nok "no log given is a usage error (exit 2)"; fi
[ "$fails" = 0 ]
