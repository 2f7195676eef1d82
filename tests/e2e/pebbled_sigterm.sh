#!/bin/sh
# SIGTERM under load (runs inside the QEMU guest, busybox sh, TAP on
# stdout). Module e.g. cfgRxCount=64,cfgTxCount=16,cfgSize=8192.
#
# The generator runs lossless and unpaced (--lossless --rate 0, 20000 B
# frames): it waits for free RX buffers (deadtime) instead of dropping, so
# every frame it produces for dest 0 reaches pebbled's queue. pebbled runs
# --lossless, arch_hz 0, proc_hz 0, so every event it takes is archived.
# SIGTERM arrives while frames are in flight (generator still running).
# Checks: pebbled drains and exits 0; it finishes the DMA buffers it had
# already read (nothing left for the driver to reclaim) and reads what was
# queued for it when it saw the stop (drained_at_stop in its exit block;
# pebbled_stopdrain.sh proves that part exactly); its exit block adds up:
# DMA produced = events taken = ARCH frames + counted drops (0 here), no
# pool drops; what the driver completed to dest 0 while pebbled held it
# (rx_frames growth) = frames pebbled took + frames still queued when it
# closed (rx_drop_unclaimed growth: the generator keeps going, so these
# were completed after the stop, past the drain's bound);
# every frame the engine produced is taken by pebbled or counted dropped by
# the driver; the archive verifies with exactly that many records.
. "${VM_HELPERS:-/tests/lib/vm-helpers.sh}"
P=${PEBBLED:-pebbled}
C=${PGPCTL:-pgpctl}
D=$DEV
W=/tmp/pebbled-sigterm

need_device

rm -rf "$W"
mkdir -p "$W/out"
cat >"$W/pebbled.conf" <<EOC
device = "$D";
output_dir = "$W/out";
pebbleBufSize = 65536;
proc_hz = 0;
arch_hz = 0;
metrics_port = 0;
EOC
rxc=$(info_field rx_count)
f0=$(st rx_frames)
u0=$(st rx_drop_unclaimed)
nb0=$(st rx_drop_nobuf)
g0=$(($(st gen_frames) + $(st transitions)))
r0=$(st reclaimed)
"$C" -d "$D" stats | sed 's/^/# before: /' 

"$P" -c "$W/pebbled.conf" --lossless >"$W/stdout.txt" 2>"$W/stderr.txt" &
pid=$!
wait_started "$W/stderr.txt" "$pid" || diag "pebbled did not start: $(tail -n 3 "$W/stderr.txt")"
transitions Configure BeginRun Enable
"$C" -d "$D" engine start --lossless --rate 0 --size 20000 >>"$W/pgpctl.txt" 2>&1
tap_check "lossless unpaced generator started, pebbled --lossless running" kill -0 "$pid"
sleep 4
inflight=$(st rx_queued)
inuser=$(st rx_user)
kill -TERM "$pid"
wait "$pid"
rc=$?
"$C" -d "$D" engine stop >>"$W/pgpctl.txt" 2>&1
sleep 0.3
diag "at SIGTERM: $inflight RX buffers queued, $inuser held by pebbled"
tap_check "pebbled drains and exits 0 on SIGTERM under load (exit $rc)" [ "$rc" = 0 ]
[ "$rc" = 0 ] || sed 's/^/# /' "$W/stderr.txt" | tail -n 15
sed 's/^/# /' "$W/stdout.txt"
df=$(($(st rx_frames) - f0))
du=$(($(st rx_drop_unclaimed) - u0))
dnb=$(($(st rx_drop_nobuf) - nb0))
dg=$(($(st gen_frames) + $(st transitions) - g0))
"$C" -d "$D" stats | sed 's/^/# after: /'
grep -E '^(engine|gen|inject|next)' /proc/pgpdma0 | sed 's/^/# /' 

prod=$(xf "$W/stdout.txt" DMA: produced)
taken=$(xf "$W/stdout.txt" EVENTS: taken)
arch=$(xf "$W/stdout.txt" ARCH: frames)
dpq=$(xf "$W/stdout.txt" PROC: dropped_proc_queue)
daq=$(xf "$W/stdout.txt" ARCH: dropped_arch_queue)
pool=$(xf "$W/stdout.txt" TAPS: pool_drops)
ade=$(xf "$W/stdout.txt" TAPS: arch_dropped_error)
pout=$(xf "$W/stdout.txt" TAPS: arch_paced_out)
diag "driver: rx_frames +$df, drop_unclaimed +$du, drop_nobuf +$dnb; pebbled: produced $prod taken $taken archived $arch drops: proc_queue $dpq arch_queue $daq pool $pool arch_error $ade paced_out $pout"
[ -n "$taken" ] && [ "$taken" -ge 100 ] && [ "$prod" = "$taken" ]
tap_check "pebbled took every event it read (DMA produced $prod = taken $taken, >= 100)" [ $? = 0 ]
[ "$pool" = 0 ] && [ "$daq" = 0 ] && [ "$ade" = 0 ] && [ "$pout" = 0 ]
tap_check "lossless: no pool, archive-queue, error or pacing drops" [ $? = 0 ]
tap_check "taken = archived + counted drops ($taken = $arch + $((pool + daq + ade + pout)))" \
	[ "$taken" = "$((arch + pool + daq + ade + pout))" ]
# frames the driver completed to dest 0 but pebbled never read: still in
# its RX queue when it closed the device (recycled, counted in drop_unclaimed).
# What was queued when the reader saw the stop is read (drained_at_stop), so
# these were completed after that, while the generator kept going.
left=$((df - taken))
drained=$(xf "$W/stdout.txt" EVENTS: drained_at_stop)
diag "read after the stop from the driver's queue: ${drained:-?}; left in it at close: $left frame(s); produced by the engine: $dg"
[ "$left" -ge 0 ] && [ "$left" -le "$rxc" ]
tap_check "driver: completed to dest 0 = taken by pebbled + left queued at close ($df = $taken + $left, <= rx_count)" [ $? = 0 ]
tap_check "driver: every frame the engine produced is taken by pebbled or counted dropped ($dg = $taken + unclaimed $du + nobuf $dnb)" \
	[ "$dg" = "$((taken + du + dnb))" ]
rc1=$(($(st reclaimed) - r0))
tap_check "pebbled returned every RX buffer it read before closing (driver reclaimed +$rc1)" [ "$rc1" = 0 ]
tap_check "driver: no frame dropped for lack of a buffer (lossless, drop_nobuf +$dnb)" [ "$dnb" = 0 ]

"$P" --verify "$W/out" --generator >"$W/verify.txt" 2>&1
vrc=$?
sed 's/^/# /' "$W/verify.txt"
n=$(vf "$W/verify.txt" records)
[ "$vrc" = 0 ] && [ "$n" = "$arch" ] && [ "$(vf "$W/verify.txt" payload_ok)" = "$(vf "$W/verify.txt" l1accept)" ] &&
	[ "$(vf "$W/verify.txt" tmp_files)" = 0 ]
tap_check "archive verifies: $n records = archived $arch, payloads ok, run closed (no .tmp)" [ $? = 0 ]
hw=$(st rx_hw)
q=$(st rx_queued)
u=$(st rx_user)
[ "$((hw + q))" = "$rxc" ] && [ "$u" = 0 ]
tap_check "driver: every RX buffer back (rx_hw $hw + rx_queued $q = $rxc, rx_user $u)" [ $? = 0 ]
rm -rf "$W"
tap_done
