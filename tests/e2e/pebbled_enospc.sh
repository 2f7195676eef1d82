#!/bin/sh
# pebbled fills its filesystem (runs inside the QEMU guest, busybox sh, TAP
# on stdout). Module e.g. cfgRxCount=64,cfgTxCount=16,cfgSize=8192.
#
# The archive directory is a 4 MiB tmpfs; the generator (1000 Hz, 20000 B
# frames) runs until the disk is full. pebbled must stop by itself with
# exit 3 (archive I/O error), name the error (ENOSPC, "No space left on
# device"), count it (ARCH io_errors in the exit block), close the run
# (no NAME.tmp left, final index written), and everything it wrote must
# verify: checksums, order, generator payloads, an index entry for every
# record and no record for which there is no entry (nothing partial
# presented as whole). The driver gets every RX buffer back.
. "${VM_HELPERS:-/tests/lib/vm-helpers.sh}"
P=${PEBBLED:-pebbled}
C=${PGPCTL:-pgpctl}
D=$DEV
W=/tmp/pebbled-enospc
M=/mnt/small

need_device

rm -rf "$W"
mkdir -p "$W" "$M"
umount "$M" 2>/dev/null
mount -t tmpfs -o size=4m tmpfs "$M"
tap_check "4 MiB tmpfs mounted on $M" grep -q " $M tmpfs" /proc/mounts
cat >"$W/pebbled.conf" <<EOC
device = "$D";
output_dir = "$M";
pebbleBufSize = 65536;
proc_hz = 0;
arch_hz = 0;
segment_bytes = 1048576;
metrics_port = 0;
EOC
rxc=$(info_field rx_count)

"$P" -c "$W/pebbled.conf" >"$W/stdout.txt" 2>"$W/stderr.txt" &
pid=$!
wait_started "$W/stderr.txt" "$pid" || diag "pebbled did not start: $(tail -n 3 "$W/stderr.txt")"
transitions Configure BeginRun Enable
"$C" -d "$D" engine start --rate 1000 --size 20000 >>"$W/pgpctl.txt" 2>&1
# pebbled must stop by itself when the disk is full
i=0
while [ $i -lt 600 ] && kill -0 "$pid" 2>/dev/null; do
	sleep 0.1
	i=$((i + 1))
done
if kill -0 "$pid" 2>/dev/null; then
	tap_fail "pebbled stopped by itself on the full disk (still running after 60 s)"
	kill -TERM "$pid"
fi
wait "$pid"
rc=$?
"$C" -d "$D" engine stop >>"$W/pgpctl.txt" 2>&1
diag "stopped after ~$((i / 10)) s"
df "$M" | sed 's/^/# /'
sed 's/^/# /' "$W/stderr.txt" | tail -n 12
sed 's/^/# /' "$W/stdout.txt"
tap_check "pebbled exits 3 (archive I/O error) on the full disk (exit $rc)" [ "$rc" = 3 ]
grep -q 'No space left on device' "$W/stderr.txt"
tap_check "the error is named (No space left on device)" [ $? = 0 ]
ioe=$(sed -n 's/^ARCH: .* io_errors=\([0-9]*\).*/\1/p' "$W/stdout.txt")
tap_check "the I/O error is counted (ARCH io_errors=${ioe:-none})" [ "${ioe:-0}" -ge 1 ]
grep -q 'archive of run 1 closed after an error' "$W/stderr.txt"
tap_check "pebbled says it closed run 1 after the error" [ $? = 0 ]

R=$M/run000001
ls -l "$R" | sed 's/^/# /'
[ -f "$R/run000001.pidx" ] && [ "$(ls "$R" | grep -c '\.tmp$')" = 0 ] && [ -f "$R/run000001-s00000.pseg" ]
tap_check "run closed cleanly: final index, no .tmp files" [ $? = 0 ]
"$P" --verify "$M" --generator >"$W/verify.txt" 2>&1
vrc=$?
sed 's/^/# /' "$W/verify.txt"
tap_check "pebbled --verify: everything written before the error is intact (exit $vrc)" [ "$vrc" = 0 ]
n=$(vf "$W/verify.txt" records)
[ -n "$n" ] && [ "$n" -ge 50 ] && [ "$(vf "$W/verify.txt" index_entries)" = "$n" ] &&
	[ "$(vf "$W/verify.txt" truncated)" = 0 ] && [ "$(vf "$W/verify.txt" bad_header)" = 0 ] &&
	[ "$(vf "$W/verify.txt" payload_ok)" = "$(vf "$W/verify.txt" l1accept)" ]
tap_check "${n:-0} records (>= 50), one index entry each, none truncated, every payload verifies" [ $? = 0 ]
arch=$(sed -n 's/^ARCH: *frames=\([0-9]*\).*/\1/p' "$W/stdout.txt")
tap_check "pebbled's archived count = records on disk (${arch:-none} = ${n:-none})" [ "$arch" = "$n" ]

sleep 0.3
hw=$(st rx_hw)
q=$(st rx_queued)
u=$(st rx_user)
[ "$((hw + q))" = "$rxc" ] && [ "$u" = 0 ]
tap_check "driver: every RX buffer back (rx_hw $hw + rx_queued $q = $rxc, rx_user $u)" [ $? = 0 ]
umount "$M"
tap_done
