#!/bin/sh
# pebbled end to end on the emulated detector (runs inside the QEMU guest,
# busybox sh, TAP on stdout). Needs /dev/pgpdma0 (module loaded with e.g.
# cfgRxCount=64,cfgTxCount=16,cfgSize=8192), pebbled and pgpctl on PATH (scripts/vm-run puts them there).
#
# Configure/BeginRun/Enable are injected, the generator runs for a few
# seconds (frames of 20000 B = continuation chains over 8 KiB buffers),
# Disable/EndRun close the run, SIGTERM stops pebbled; the archive is then
# checked with `pebbled --verify --generator` (checksums, order, index, and
# every L1Accept payload against the generator's deterministic pattern).
P=${PEBBLED:-pebbled}
C=${PGPCTL:-pgpctl}
D=${PGPDMA_DEV:-/dev/pgpdma0}
SECS=${PEBBLED_E2E_SECONDS:-3}
W=/tmp/pebbled-e2e
n=0
fails=0

ok() { n=$((n + 1)); echo "ok $n - $1"; }
nok() { n=$((n + 1)); echo "not ok $n - $1"; fails=$((fails + 1)); }
check() { if [ "$1" = 0 ]; then ok "$2"; else nok "$2"; fi; }
show() { sed 's/^/# /' "$1" | tail -n "${2:-15}"; }

echo "TAP version 13"
if [ ! -c "$D" ]; then
	echo "1..0 # SKIP $D missing (module not loaded)"
	exit 4
fi
echo "1..11"
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

"$P" -c "$W/pebbled.conf" --plan >"$W/plan.txt" 2>&1
check $? "pebbled --plan on the device"
grep -q 'cfgRxCount' "$W/plan.txt" || show "$W/plan.txt"

"$P" -c "$W/pebbled.conf" --progress >"$W/stdout.txt" 2>"$W/stderr.txt" &
pid=$!
sleep 1
kill -0 "$pid" 2>/dev/null
check $? "pebbled runs on $D"

"$P" -c "$W/pebbled.conf" >"$W/second.txt" 2>&1
rc=$?
[ "$rc" = 1 ] && grep -q 'already running' "$W/second.txt"
check $? "a second pebbled on the same device is refused (exit $rc)"

for t in Configure BeginRun Enable; do
	"$C" -d "$D" inject "$t" >>"$W/pgpctl.txt" 2>&1 || echo "# inject $t failed"
done
"$C" -d "$D" engine start --rate 500 --size 20000 >>"$W/pgpctl.txt" 2>&1
check $? "generator started (500 Hz, 20000 B frames)"
sleep "$SECS"
"$C" -d "$D" engine stop >>"$W/pgpctl.txt" 2>&1
for t in Disable EndRun; do
	"$C" -d "$D" inject "$t" >>"$W/pgpctl.txt" 2>&1 || echo "# inject $t failed"
done
sleep 1
kill -TERM "$pid"
wait "$pid"
rc=$?
check "$rc" "pebbled drains and exits 0 on SIGTERM (exit $rc)"
[ "$rc" = 0 ] || show "$W/stderr.txt"

grep -q 'run 1 ends (EndRun' "$W/stderr.txt"
check $? "EndRun closed run 1"
grep -q '=== Component Stats ===' "$W/stdout.txt" && grep -q '=== End-to-end Throughput ===' "$W/stdout.txt"
check $? "exit block printed"
show "$W/stdout.txt" 20

"$P" --verify "$W/out" --generator >"$W/verify.txt" 2>&1
check $? "archive verifies (checksums, order, index, generator payloads)"
show "$W/verify.txt" 5

l1=$(sed -n 's/.* l1accept=\([0-9]*\).*/\1/p' "$W/verify.txt" | head -n 1)
[ -n "$l1" ] && [ "$l1" -ge 100 ]
check $? "at least 100 L1Accepts archived (got ${l1:-none})"
pok=$(sed -n 's/.* payload_ok=\([0-9]*\).*/\1/p' "$W/verify.txt" | head -n 1)
[ -n "$pok" ] && [ "$pok" = "$l1" ]
check $? "every archived L1Accept payload verifies (${pok:-none} of ${l1:-none})"
tr=$(sed -n 's/.* transitions=\([0-9]*\).*/\1/p' "$W/verify.txt" | head -n 1)
[ "$tr" = 5 ]
check $? "the 5 run transitions are archived (got ${tr:-none})"
[ "$fails" = 0 ]
