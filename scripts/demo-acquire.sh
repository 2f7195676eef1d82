#!/bin/sh
# The acquisition part of the demo (make demo): runs where pgpdma.ko is
# loaded - inside the VM (scripts/demo.sh boots it) or on a host that can
# load modules. busybox sh compatible; pgpctl and pebbled on PATH.
#
# A 256 x 256 uint16 detector behind the emulated engine: each event is a
# 32-byte timing header + 128 KiB image, spanning several DMA buffers.
# Configure/BeginRun/Enable open the run, the generator runs at 120 Hz,
# Disable/EndRun close it, pebbled drains and prints its metrics, and the
# archive is verified. OUT (default /tmp/demo) holds the archive.
set -u
D=${PGPDMA_DEV:-/dev/pgpdma0}
OUT=${1:-/tmp/demo}
SECS=${DEMO_SECONDS:-4}
RATE=${DEMO_RATE:-120}
W=256
H=256

echo "TAP version 13"
echo "1..3"
rm -rf "$OUT"
mkdir -p "$OUT/archive"
cat > "$OUT/pebbled.conf" <<EOC
device = "$D";
output_dir = "$OUT/archive";
image_width = $W;
image_height = $H;
image_dtype = "uint16";
proc_hz = 0;
arch_hz = 2;
metrics_port = 0;
EOC

echo "# --- pgpctl info"
pgpctl -d "$D" info | sed 's/^/#   /'
echo "# --- buffer plan (pebbled --plan)"
pebbled -c "$OUT/pebbled.conf" --plan 2>&1 | sed 's/^/#   /'

pebbled -c "$OUT/pebbled.conf" --progress > "$OUT/pebbled.out" 2> "$OUT/pebbled.err" &
pid=$!
sleep 1
echo "# --- run: Configure, BeginRun, Enable; generator ${RATE} Hz, $((32 + W * H * 2)) B events; ${SECS} s"
for t in Configure BeginRun Enable; do pgpctl -d "$D" inject "$t" > /dev/null; done
pgpctl -d "$D" engine start --rate "$RATE" --size $((32 + W * H * 2)) | sed 's/^/#   /'
i=0
while [ "$i" -lt "$SECS" ]; do
	sleep 1
	i=$((i + 1))
	# the live progress line pebbled keeps on stderr
	tail -c 400 "$OUT/pebbled.err" | tr '\r' '\n' | grep -v '^$' | tail -n 1 | sed 's/^/#   /'
done
pgpctl -d "$D" engine stop > /dev/null
for t in Disable EndRun; do pgpctl -d "$D" inject "$t" > /dev/null; done
sleep 1
kill -TERM "$pid"
wait "$pid"
rc=$?
echo "# --- pebbled metrics at exit"
sed 's/^/#   /' "$OUT/pebbled.out"
if [ "$rc" = 0 ]; then echo "ok 1 - pebbled ran the run and exited cleanly"; else
	echo "not ok 1 - pebbled exit $rc"; tail -n 20 "$OUT/pebbled.err" | sed 's/^/#   /'; fi

echo "# --- driver counters (pgpctl stats)"
pgpctl -d "$D" stats | sed 's/^/#   /'
if pebbled --verify "$OUT/archive" --generator > "$OUT/verify.txt" 2>&1; then
	echo "ok 2 - archive verifies: checksums, order, index, generator payloads"
else
	echo "not ok 2 - archive verification"
fi
sed 's/^/#   /' "$OUT/verify.txt" | tail -n 3
ls "$OUT"/archive/run*/ > /dev/null 2>&1
if [ $? = 0 ]; then echo "ok 3 - run directory written"; else echo "not ok 3 - no run directory"; fi
