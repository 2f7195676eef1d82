#!/bin/sh
# pebbled when its device disappears mid-run (runs inside the QEMU guest,
# busybox sh, TAP on stdout). Module e.g. cfgRxCount=64,cfgTxCount=16,cfgSize=8192.
#
# pebbled archives the generator (500 Hz, 20000 B frames = continuation
# chains) after Configure/BeginRun/Enable; then the device is unplugged with
# echo 1 > /sys/class/pgpdma/pgpdma0/emulate_unplug (the driver's emulated
# surprise removal: every operation fails with ENODEV, poll reports
# EPOLLERR|EPOLLHUP).
#
# Checks:
#  - pebbled exits 4 (device lost) with a message naming the device;
#  - the run is closed cleanly (no .tmp files) and pebbled --verify passes
#    on what was written;
#  - the driver took back every buffer pebbled held (sysfs: rx_user 0,
#    rx_hw = rx_count) and still refuses open with ENODEV;
#  - rmmod works; the module is loaded again for any later test.
#
# The device must be usable at the start; if an earlier test of the same VM
# boot unplugged it, the module is reloaded first.
. "${VM_HELPERS:-/tests/lib/vm-helpers.sh}"
P=${PEBBLED:-pebbled}
C=${PGPCTL:-pgpctl}
D=$DEV
N=$(basename "$D")
S=/sys/class/pgpdma/$N
W=/tmp/pebbled-unplug

need_device
ss() { cat "$S/$1" 2>/dev/null; }
params() {
	for p in cfgRxCount cfgTxCount cfgSize cfgMode cfgDevCount cfgPoolMaxPct; do
		[ -r "$PARAMS/$p" ] && printf ' %s=%s' "$p" "$(cat "$PARAMS/$p")"
	done
}
reload() {
	_p=$(params)
	rmmod pgpdma && insmod "$KO" $_p && wait_dev present
}

if ! "$C" -d "$D" info >/dev/null 2>&1; then
	diag "$D unusable (unplugged earlier in this boot?): reloading the module"
	reload || diag "reload failed"
fi

rm -rf "$W"
mkdir -p "$W/out"
cat >"$W/pebbled.conf" <<EOC
device = "$D";
output_dir = "$W/out";
pebbleBufSize = 65536;
proc_hz = 0;
arch_hz = 0;
segment_frames = 40;
metrics_port = 0;
EOC
rxc=$(ss rx_count)
rec0=$(ss reclaimed)

"$P" -c "$W/pebbled.conf" >"$W/stdout.txt" 2>"$W/stderr.txt" &
pid=$!
wait_started "$W/stderr.txt" "$pid" || diag "pebbled did not start: $(tail -n 3 "$W/stderr.txt")"
transitions Configure BeginRun Enable
"$C" -d "$D" engine start --rate 500 --size 20000 >>"$W/pgpctl.txt" 2>&1
sleep 2
tap_check "generator started (500 Hz, 20000 B frames), pebbled running mid-run" kill -0 "$pid"
held=$(ss state_rx_user)
echo 1 >"$S/emulate_unplug"
tap_check "echo 1 > $S/emulate_unplug accepted" [ $? = 0 ]
# pebbled must notice by itself: give it up to 10 s
i=0
while kill -0 "$pid" 2>/dev/null && [ $i -lt 100 ]; do
	sleep 0.1
	i=$((i + 1))
done
if kill -0 "$pid" 2>/dev/null; then
	diag "pebbled still running 10 s after the unplug: SIGKILL"
	kill -KILL "$pid"
fi
wait "$pid"
rc=$?
diag "pebbled held $held RX buffers at the unplug; exited after ~$((i / 10)).$((i % 10)) s"
sed 's/^/# stderr: /' "$W/stderr.txt" | tail -n 15
sed 's/^/# /' "$W/stdout.txt"
tap_check "pebbled exits 4 (device lost) after the unplug (exit $rc)" [ "$rc" = 4 ]
tap_check "pebbled's message names the device ($D) and says it disappeared" \
	grep -q "$D.*disappeared" "$W/stderr.txt"

"$P" --verify "$W/out" --generator >"$W/verify.txt" 2>&1
vrc=$?
sed 's/^/# /' "$W/verify.txt"
n=$(vf "$W/verify.txt" records)
tmp=$(vf "$W/verify.txt" tmp_files)
[ "$vrc" = 0 ] && [ -n "$n" ] && [ "$n" -gt 0 ] && [ "$tmp" = 0 ] &&
	[ "$(vf "$W/verify.txt" payload_ok)" = "$(vf "$W/verify.txt" l1accept)" ]
tap_check "archive verifies: $n records, payloads ok, run closed (tmp_files=$tmp)" [ $? = 0 ]
ls "$W"/out/run*/*.tmp >/dev/null 2>&1
tap_check "no unfinished (.tmp) file left in the run directory" [ $? != 0 ]

u=$(ss state_rx_user)
hw=$(ss state_rx_hw)
q=$(ss state_rx_queued)
tu=$(ss state_tx_user)
diag "after: rx_hw $hw rx_queued $q rx_user $u tx_user $tu reclaimed $rec0 -> $(ss reclaimed)"
[ "$u" = 0 ] && [ "$q" = 0 ] && [ "$hw" = "$rxc" ] && [ "$tu" = 0 ]
tap_check "driver: every RX buffer back after pebbled closed (rx_hw $hw = $rxc, rx_user $u)" [ $? = 0 ]
if "$C" -d "$D" info >/dev/null 2>"$W/pgpctl-err.txt"; then
	tap_fail "open of $D refused after the unplug"
else
	diag "pgpctl: $(cat "$W/pgpctl-err.txt")"
	tap_ok "open of $D refused after the unplug"
fi
p=$(params)
tap_check "rmmod pgpdma works after the unplug" rmmod pgpdma
# shellcheck disable=SC2086
insmod "$KO" $p && wait_dev present
"$C" -d "$D" info >/dev/null
tap_check "module loads again ($p) and $D works" [ $? = 0 ]
rm -rf "$W"
tap_done
