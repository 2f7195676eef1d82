#!/bin/sh
# Real surprise removal of the PCI back-end while pebbled streams through it
# (runs inside the QEMU guest, busybox sh, TAP on stdout; suite edu-hotplug:
# QEMU's edu device in a hot-pluggable PCIe root port, PGPDMA_DEV its
# instance).
#
# pebbled archives the generator running through the device (every byte by
# its DMA); then the host's QEMU monitor removes the device (device_del: the
# guest's PCI hotplug, acpiphp on q35, unbinds the driver, the PCI remove
# path). Checks:
#  - pebbled exits 4 (device lost) and its archive verifies, run closed;
#  - the device node and its sysfs directory are gone; the PCI function too;
#  - device_add brings the device back, the driver binds it again and a new
#    pebbled run through it archives every frame it is sent.
. "${VM_HELPERS:-/tests/lib/vm-helpers.sh}"
P=${PEBBLED:-pebbled}
C=${PGPCTL:-pgpctl}
D=$DEV
N=$(basename "$D")
W=/tmp/pebbled-hotplug
FRAMES=6

need_device
pci_fn=$(basename "$(readlink -f "/sys/class/pgpdma/$N/device")")
diag "$D is PCI function $pci_fn"

# conf OUTDIR: a pebbled configuration archiving every frame
conf() {
	cat <<EOC
device = "$D";
output_dir = "$1";
pebbleBufSize = 65536;
proc_hz = 0;
arch_hz = 0;
segment_frames = 4;
metrics_port = 0;
EOC
}

# run_pebbled NAME: start pebbled on $W/NAME, Configure BeginRun Enable
run_pebbled() {
	mkdir -p "$W/$1/out"
	conf "$W/$1/out" >"$W/$1/pebbled.conf"
	"$P" -c "$W/$1/pebbled.conf" >"$W/$1/stdout.txt" 2>"$W/$1/stderr.txt" &
	pid=$!
	wait_started "$W/$1/stderr.txt" "$pid" ||
		diag "pebbled did not start: $(tail -n 3 "$W/$1/stderr.txt")"
	transitions Configure BeginRun Enable
}

# verify NAME: pebbled --verify of its archive; prints the record count
verify() {
	"$P" --verify "$W/$1/out" --generator >"$W/$1/verify.txt" 2>&1
	_vrc=$?
	sed 's/^/# verify: /' "$W/$1/verify.txt" >&2
	[ "$_vrc" = 0 ] || return 1
	[ "$(vf "$W/$1/verify.txt" tmp_files)" = 0 ] || return 1
	[ "$(vf "$W/$1/verify.txt" payload_ok)" = "$(vf "$W/$1/verify.txt" l1accept)" ] || return 1
	vf "$W/$1/verify.txt" l1accept
}

rm -rf "$W"
mkdir -p "$W"

# 1. streaming through the device, then the device is pulled
run_pebbled before
"$C" -d "$D" engine start --rate 5 --size 4096 >>"$W/pgpctl.txt" 2>&1
i=0
while [ "$(st rx_frames)" -lt 4 ] 2>/dev/null && [ $i -lt 600 ]; do
	sleep 0.1
	i=$((i + 1))
done
tap_check "pebbled receives frames by the device's DMA ($(st rx_frames) so far)" kill -0 "$pid"
qemu_monitor device_del edu0
wait_path absent "$D" 60
tap_check "device_del edu0: $D disappears (the guest's PCI hotplug removed the function)" [ ! -e "$D" ]
i=0
while kill -0 "$pid" 2>/dev/null && [ $i -lt 100 ]; do
	sleep 0.1
	i=$((i + 1))
done
kill -0 "$pid" 2>/dev/null && { diag "pebbled still running 10 s after the removal: SIGKILL"; kill -KILL "$pid"; }
wait "$pid"
rc=$?
sed 's/^/# stderr: /' "$W/before/stderr.txt" | tail -n 8
tap_check "pebbled exits 4 (device lost) after the removal (exit $rc)" [ "$rc" = 4 ]
n=$(verify before)
tap_check "archive of the interrupted run verifies (${n:-?} frames, run closed)" [ -n "$n" ] && [ "$n" -gt 0 ]
tap_check "sysfs: /sys/class/pgpdma/$N gone" [ ! -e "/sys/class/pgpdma/$N" ]
tap_check "the PCI function $pci_fn is gone" [ ! -e "/sys/bus/pci/devices/$pci_fn" ]

# 2. the device comes back, and works
# QEMU frees the old device only when the guest has ejected it, a moment
# after the driver let go; until then it refuses device_add (duplicate id).
tries=0
while [ ! -c "$D" ] && [ $tries -lt 4 ]; do
	qemu_monitor device_add edu,bus=rp1,id=edu0
	wait_path present "$D" 15
	tries=$((tries + 1))
done
tap_check "device_add: the driver binds the device again, $D is back" [ -c "$D" ]
run_pebbled after
"$C" -d "$D" engine start --rate 5 --size 4096 --count $FRAMES --lossless >>"$W/pgpctl.txt" 2>&1
# rx_frames counts the three transitions too
i=0
while [ "$(st rx_frames)" -lt $((FRAMES + 3)) ] 2>/dev/null && [ $i -lt 600 ]; do
	sleep 0.1
	i=$((i + 1))
done
sleep 1
transitions Disable EndRun Unconfigure
kill -TERM "$pid"
wait "$pid"
rc=$?
tap_check "the new pebbled run ends cleanly (exit $rc)" [ "$rc" = 0 ]
n=$(verify after)
tap_check "its archive holds all $FRAMES frames sent through the device (${n:-?})" [ "$n" = "$FRAMES" ]
sed 's/^/# pgpctl: /' "$W/pgpctl.txt" | tail -n 4
rm -rf "$W"
tap_done
