#!/bin/bash
# The README's first command, end to end: make demo boots the driver in a
# VM, runs pebbled on the emulated detector through a whole run, verifies
# and fetches the archive, decodes frames and writes PNGs.
set -u
top=$(cd "$(dirname "$0")/../.." && pwd)
n=0
fails=0
check() { n=$((n + 1)); if [ "$1" = 0 ]; then echo "ok $n - $2"; else echo "not ok $n - $2"; fails=$((fails + 1)); fi; }
log=$(mktemp)
trap 'rm -f "$log"' EXIT

echo "TAP version 13"
echo "1..5"
make -s -C "$top" demo > "$log" 2>&1 < /dev/null
rc=$?
check "$rc" "make demo exits 0"
[ "$rc" = 0 ] || tail -n 30 "$log" | sed 's/^/# /'
grep -q '=== Component Stats ===' "$log" && grep -q '=== End-to-end Throughput ===' "$log"
check $? "the metrics block is shown"
grep -Eq '^#   \[ *[0-9.]+s\] dma [0-9]+' "$log"
check $? "the live progress line is shown"
grep -q 'ok 2 - archive verifies' "$log"
check $? "the archive verifies inside the VM"
pngs=$(ls "$top"/build/demo/png/*.png 2>/dev/null | wc -l)
size=$(/usr/bin/python3 -c "from PIL import Image; import sys; print('%dx%d' % Image.open(sys.argv[1]).size)" \
	"$(ls "$top"/build/demo/png/*.png 2>/dev/null | head -n 1)" 2>/dev/null)
[ "$pngs" -ge 3 ] && [ "$size" = 256x256 ]
check $? "PNGs of archived frames written ($pngs, ${size:-none})"
[ "$fails" = 0 ]
