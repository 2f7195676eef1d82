#!/bin/sh
# The edu device with a 32-bit DMA mask in a guest with RAM above 4 GiB
# (suite edu32): streaming buffers the page allocator puts above 4 GiB
# cannot be reached by the device, so the DMA API bounces them through
# swiotlb. Checks that the bounce slots are in use while the pool is mapped
# (io_tlb_used, debugfs), and given back when the device is unbound; the
# pgpdma_loopback run after this in the suite checks the frames arrive
# byte-exact through the bounce buffers.
. "${VM_HELPERS:-/tests/lib/vm-helpers.sh}"
need_device
T=/sys/kernel/debug/swiotlb
[ -d "$T" ] || mount -t debugfs debugfs /sys/kernel/debug 2>/dev/null
used() { cat "$T/io_tlb_used" 2>/dev/null; }
N=$(basename "$DEV")
dev=$(readlink -f "/sys/class/pgpdma/$N/device")
fn=$(basename "$dev")
diag "$(dmesg | grep -m1 'software IO TLB')"
diag "$DEV: $fn, DMA mask $(cat /sys/module/pgpdma/parameters/edu_dma_bits) bits, mode $(cat /sys/module/pgpdma/parameters/cfgMode)"
u1=$(used)
tap_check "swiotlb slots in use with the streaming pool mapped (io_tlb_used $u1)" [ "${u1:-0}" -gt 0 ]
echo "$fn" > "$dev/driver/unbind"
u0=$(used)
tap_check "given back when the device is unbound (io_tlb_used $u1 -> $u0)" [ "${u0:-1}" -lt "${u1:-0}" ]
echo "$fn" > /sys/bus/pci/drivers/pgpdma-edu/bind
wait_path present "$DEV" 10
u2=$(used)
tap_check "bound again: $DEV back, slots in use again (io_tlb_used $u2)" [ -c "$DEV" ] && [ "${u2:-0}" -gt 0 ]
tap_done
