#!/bin/bash
# The archive tools on a real pebbled archive (no device: pebbled replays
# .npy files): decode -> byte-exact npydiff against the injected images;
# damage (a flipped payload byte, a truncated last segment, a deleted
# index) is reported with exit 1 and the rest still decodes; frame ranges
# through the index; image -> PNG pixel values; npydiff exit codes; the
# pgpctl sizing plan (seed examples, a refused plan, --json).
set -u
top=$(cd "$(dirname "$0")/../.." && pwd)
PY=/usr/bin/python3
DEC=$top/scripts/decode
IMG=$top/scripts/image
DIFF=$top/scripts/npydiff
CTL=$top/build/pgpctl
PEB=$top/build/pebbled
n=0
fails=0

ok() { n=$((n + 1)); echo "ok $n - $1"; }
nok() { n=$((n + 1)); echo "not ok $n - $1"; fails=$((fails + 1)); }
check() { if [ "$1" = 0 ]; then ok "$2"; else nok "$2"; [ -n "${3:-}" ] && [ -f "$3" ] && sed 's/^/# /' "$3" | head -n 15; fi; }
# run OUTFILE CMD...: stdout+stderr to OUTFILE, sets rc
run() { local o=$1; shift; "$@" >"$o" 2>&1; rc=$?; }

echo "TAP version 13"
if ! $PY -c 'import numpy, PIL' 2>/dev/null || [ ! -x "$PEB" ] || [ ! -x "$CTL" ]; then
	echo "1..0 # SKIP needs /usr/bin/python3 with numpy+PIL and build/pebbled, build/pgpctl (make)"
	exit 0
fi
echo "1..50"
W=$(mktemp -d "${TMPDIR:-/tmp}/tools-t.XXXXXX")
trap 'rm -rf "$W"' EXIT
cd "$W" || exit 1

# ---- a small archive: 6 images of 300x300 uint16, 4 records per segment ----
mkdir in
$PY - <<'EOF'
import numpy as np
rng = np.random.default_rng(42)
for i in range(6):
    a = rng.integers(0, 65536, size=(300, 300), dtype=np.uint16)
    a[0, 0] = i
    np.save("in/img%02d.npy" % i, a)
EOF
printf 'segment_frames = 4;\nmetrics_port = 0;\n' >p.conf
run peb.txt "$PEB" -c p.conf --npy in --output out --proc-hz 0 --arch-hz 0 --metrics-port 0
R=out/run000001
[ "$rc" = 0 ] && [ -f $R/run000001.pidx ] && [ -f $R/run000001-s00002.pseg ]
check $? "pebbled archived 6 images (+5 transitions) in 3 segments" peb.txt

# expected: the originals renamed to their seq (Configure, BeginRun, Enable = 0..2)
mkdir exp
for i in 0 1 2 3 4 5; do cp "in/img0$i.npy" "exp/$(printf %06d $((i + 3))).npy"; done

# index entries: "seq segment offset length pulse transition" per line
idx() {
	$PY - "$1" <<'EOF'
import struct, sys
d = open(sys.argv[1], "rb").read()
for o in range(64, len(d) - 47, 48):
    seq, pulse, off, length, seg, dmg, tr, _ = struct.unpack_from("<QQQQIIII", d, o)
    print(seq, seg, off, length, pulse, tr)
EOF
}
idx $R/run000001.pidx >index.txt

# ---- 1. intact archive ----
run d1.txt "$DEC" $R -o dec1
[ "$rc" = 0 ] && grep -q 'intact' d1.txt
check $? "decode of an intact run exits 0 and says intact" d1.txt
[ "$(ls dec1 | wc -l)" = 6 ]
check $? "6 L1Accepts written, transitions skipped by default ($(ls dec1 | tr '\n' ' '))"
run nd1.txt "$DIFF" exp dec1
[ "$rc" = 0 ] && grep -q 'identical (6 files)' nd1.txt
check $? "decoded images are byte-exact (npydiff exit 0)" nd1.txt
$PY -c 'import numpy as n; a=n.load("dec1/000003.npy"); assert a.dtype == n.uint16 and a.shape == (300, 300)'
check $? "geometry and dtype from the segment header (uint16, 300x300)"
run d1b.txt "$DEC" out -o dec1b --keep-transitions
[ "$rc" = 0 ] && [ "$(ls dec1b | wc -l)" = 11 ] && \
	$PY -c 'import numpy as n; a=n.load("dec1b/000000.npy"); assert a.dtype == n.uint8 and a.shape == (32,)'
check $? "the output dir of one run works; --keep-transitions writes 32-byte raw uint8 timing headers" d1b.txt
run j1.txt "$DEC" $R --json -q
[ "$rc" = 0 ] && $PY -c '
import json, sys
j = json.load(open("j1.txt"))
assert j["intact"] and j["records"] == 11 and j["l1accept"] == 6 and j["segments"] == 3, j
assert j["index"] == "used" and j["written"] == 0 and j["problems"] == []'
check $? "--json summary (verify only, no -o): 11 records, 6 L1Accept, 3 segments, intact" j1.txt

# ---- 2. one flipped payload byte in seq 5 ----
cp -r $R bad1
read -r seq seg off len _ < <(awk '$1 == 5' index.txt)
$PY - "bad1/run000001-s0000$seg.pseg" $((off + 64 + 32 + 1000)) <<'EOF'
import sys
p, o = sys.argv[1], int(sys.argv[2])
with open(p, "r+b") as f:
    f.seek(o); b = f.read(1); f.seek(o); f.write(bytes([b[0] ^ 0xff]))
EOF
run d2.txt "$DEC" bad1 -o dec2
[ "$rc" = 1 ] && grep -q 'checksum-mismatch: seq 5 ' d2.txt && grep -q 'DAMAGED' d2.txt
check $? "a flipped payload byte: seq 5 reported as checksum mismatch, exit 1" d2.txt
[ ! -e dec2/000005.npy ] && [ "$(ls dec2 | wc -l)" = 5 ]
check $? "the damaged record is not written, the other 5 are"
mkdir exp2; cp exp/*.npy exp2/; rm exp2/000005.npy
run nd2.txt "$DIFF" exp2 dec2
check $rc "the other 5 are byte-exact" nd2.txt
run d2r.txt "$DEC" bad1 --first 6 --last 7 -o dec2r
[ "$rc" = 0 ] && [ "$(ls dec2r | tr '\n' ' ')" = "000006.npy 000007.npy " ]
check $? "a range through the index does not read the damaged record (exit 0, 2 files)" d2r.txt
run d2k.txt "$DEC" bad1 --first 5 --last 5 --keep-bad -o dec2k
[ "$rc" = 1 ] && [ -f dec2k/000005.npy ] && ! "$DIFF" -q exp/000005.npy dec2k/000005.npy >/dev/null
check $? "--keep-bad writes it anyway and npydiff sees the flipped byte" d2k.txt

# ---- 3. last segment truncated in the middle of seq 8 ----
cp -r $R bad2
read -r seq seg off len _ < <(awk '$1 == 8' index.txt)
[ "$seg" = 2 ] && truncate -s $((off + 64 + 50000)) bad2/run000001-s00002.pseg
run d3.txt "$DEC" bad2 -o dec3
[ "$rc" = 1 ] && grep -q 'truncated: .*record seq 8 .*50000 of 180032 payload bytes (truncated last segment)' d3.txt
check $? "a truncated last segment is reported (seq 8, 50000 of 180032 bytes), exit 1" d3.txt
grep -q 'missing-record: seq 9 is in the index' d3.txt && grep -q 'missing-record: seq 10 is in the index' d3.txt
check $? "the indexed records lost with the tail are named (seq 9, 10)" d3.txt
mkdir exp3; cp exp/00000[3-7].npy exp3/
run nd3.txt "$DIFF" exp3 dec3
check $rc "the 5 complete records before it are decoded byte-exact" nd3.txt

# ---- 3b. a smashed record header (seq 4) and producer damage bits (seq 6) ----
cp -r $R bad3
read -r seq seg off len _ < <(awk '$1 == 4' index.txt)
printf 'XXXX' | dd of=bad3/run000001-s0000$seg.pseg bs=1 seek="$off" conv=notrunc status=none
read -r seq seg off len _ < <(awk '$1 == 6' index.txt)
$PY - "bad3/run000001-s0000$seg.pseg" "$off" <<'EOF2'
import ctypes, struct, sys
x = ctypes.CDLL("libxxhash.so.0").XXH3_64bits
x.restype = ctypes.c_uint64; x.argtypes = [ctypes.c_char_p, ctypes.c_size_t]
p, o = sys.argv[1], int(sys.argv[2])
with open(p, "r+b") as f:
    f.seek(o); h = bytearray(f.read(64))
    struct.pack_into("<I", h, 44, 0x41)          # TRUNCATED|EVT_GAP
    struct.pack_into("<I", h, 60, x(bytes(h[:60]), 60) & 0xffffffff)
    f.seek(o); f.write(h)
EOF2
run d3b.txt "$DEC" bad3 -o dec3b
[ "$rc" = 1 ] && grep -q 'bad-record-header: run000001-s00001.pseg: no valid record header from offset' d3b.txt && \
	grep -q 'missing-record: seq 4 is in the index' d3b.txt
check $? "a smashed record header is reported, the scan resyncs at the next aligned header" d3b.txt
mkdir exp3b; cp exp/*.npy exp3b/; rm exp3b/000004.npy
run nd3b.txt "$DIFF" exp3b dec3b
[ "$rc" = 0 ] && grep -q 'damaged-record: seq 6 (L1Accept): damage bits 0x41 TRUNCATED|EVT_GAP' d3b.txt
check $? "producer damage bits are named (seq 6: TRUNCATED|EVT_GAP) and the other 5 decode byte-exact" nd3b.txt

# ---- 4. index deleted ----
cp -r $R noidx
rm noidx/run000001.pidx
run d4.txt "$DEC" noidx -o dec4
[ "$rc" = 1 ] && grep -q 'missing-index: no index file (run\*.pidx): decoding by scanning the segments' d4.txt
check $? "a missing index is reported (exit 1) and the segments are scanned" d4.txt
run nd4.txt "$DIFF" exp dec4
check $rc "all 6 images decoded byte-exact by scanning" nd4.txt
run d4r.txt "$DEC" noidx --first 4 --last 5 -o dec4r
[ "$rc" = 1 ] && grep -q 'finding the range by scanning' d4r.txt && [ "$(ls dec4r | wc -l)" = 2 ]
check $? "a range without the index falls back to scanning and says so" d4r.txt

# ---- 4b. interrupted run: a preallocated segment with a zero tail ----
# (pebbled preallocates segments; a crash leaves the unwritten rest as zeros)
cp -r $R ztail
truncate -s +1M ztail/run000001-s00002.pseg
run d4z.txt "$DEC" ztail -o dec4z
[ "$rc" = 0 ] && grep -q 'intact' d4z.txt && grep -q 'note: run000001-s00002.pseg: zeros from offset .* to the end' d4z.txt
check $? "a zero tail ends the segment cleanly: decode exits 0, intact, noted" d4z.txt
run nd4z.txt "$DIFF" exp dec4z
check $rc "all 6 images decoded byte-exact before the zero tail" nd4z.txt
printf 'X' | dd of=ztail/run000001-s00002.pseg bs=1 seek=$(( $(stat -c %s ztail/run000001-s00002.pseg) - 8192 + 5 )) conv=notrunc status=none
run d4y.txt "$DEC" ztail -o dec4y
[ "$rc" = 1 ] && grep -q 'bad-record-header: run000001-s00002.pseg: no valid record header from offset' d4y.txt
check $? "a non-zero byte in that tail is still reported as damage (exit 1)" d4y.txt

# ---- 5. frame ranges through the index ----
run d5.txt "$DEC" $R --first 4 --last 6 -o dec5 --json
[ "$rc" = 0 ] && [ "$(ls dec5 | tr '\n' ' ')" = "000004.npy 000005.npy 000006.npy " ] && \
	$PY -c 'import json; j = json.load(open("d5.txt")); assert j["index"] == "used" and j["selected"] == 3, j' 2>/dev/null
check $? "--first 4 --last 6 through the index: 3 files" d5.txt
mkdir exp5; cp exp/00000[4-6].npy exp5/
run nd5.txt "$DIFF" exp5 dec5
check $rc "the range is byte-exact" nd5.txt
pulse=$(awk '$1 == 7 { print $5 }' index.txt)
run d6.txt "$DEC" $R --pulse "$pulse" -o dec6
[ "$rc" = 0 ] && [ "$(ls dec6)" = 000007.npy ] && "$DIFF" -q exp/000007.npy dec6/000007.npy >/dev/null
check $? "--pulse $pulse decodes seq 7 only, byte-exact" d6.txt
run d7.txt "$DEC" $R/run000001-s00001.pseg -o dec7
[ "$rc" = 0 ] && [ "$(ls dec7 | tr '\n' ' ')" = "000004.npy 000005.npy 000006.npy 000007.npy " ]
check $? "one segment file decodes on its own (seq 4..7)" d7.txt
run d8.txt "$DEC" nosuchdir -o x
[ "$rc" = 2 ] && grep -q 'nosuchdir: no such file or directory' d8.txt
check $? "decode of a missing input is a usage error (exit 2)" d8.txt
run d9.txt "$DEC" $R --first 5 --last 4
[ "$rc" = 2 ] && grep -q 'before --first' d9.txt
check $? "an empty range is a usage error (exit 2)" d9.txt

# ---- 6. image ----
$PY - <<'EOF'
import numpy as np
np.save("grad.npy", np.tile(np.arange(256, dtype=np.uint16) * 4 + 100, (20, 1)))
np.save("flat1d.npy", np.arange(12, dtype=np.float32))
np.save("spike.npy", np.r_[np.arange(1000), [10**6]].astype(np.uint32).reshape(7, 143))
EOF
run i1.txt "$IMG" --linear grad.npy
[ "$rc" = 0 ] && $PY -c '
from PIL import Image; import numpy as np
im = Image.open("grad.png"); a = np.array(im)
assert im.mode == "L" and im.size == (256, 20), (im.mode, im.size)
assert (a == np.arange(256)).all(), a[0, :8]'
check $? "--linear: a 256x20 gradient (100..1120) maps to gray 0..255 exactly" i1.txt
run i2.txt "$IMG" spike.npy -o pngs
[ "$rc" = 0 ] && $PY -c '
from PIL import Image; import numpy as np
a = np.array(Image.open("pngs/spike.png")).ravel()
assert a.shape == (1001,) and a[-1] == 255 and a[0] == 0
assert 120 <= a[500] <= 135, a[500]'
check $? "default percentile clip: one hot pixel does not flatten the rest (--out DIR)" i2.txt
run i3.txt "$IMG" spike.npy --linear -o lin
$PY -c '
from PIL import Image; import numpy as np
a = np.array(Image.open("lin/spike.png")).ravel(); assert a[500] == 0 and a[-1] == 255, a[500]'
check $? "--linear on the same image: the hot pixel takes the whole scale" i3.txt
run i4.txt "$IMG" --log --linear spike.npy -o log
$PY -c '
from PIL import Image; import numpy as np
a = np.array(Image.open("log/spike.png")).ravel(); assert 100 < a[500] < 200 and a[-1] == 255, a[500]'
check $? "--log lifts the mid tones back" i4.txt
run i5.txt "$IMG" flat1d.npy
[ "$rc" = 1 ] && grep -q 'give --shape' i5.txt
check $? "a 1-D array without --shape is refused (exit 1)" i5.txt
run i6.txt "$IMG" flat1d.npy --shape 3x4 --linear
[ "$rc" = 0 ] && $PY -c '
from PIL import Image; import numpy as np
im = Image.open("flat1d.png"); assert im.size == (4, 3); assert np.array(im)[2, 3] == 255'
check $? "--shape 3x4 reshapes 1-D (PNG 4 wide, 3 high)" i6.txt
run i7.txt "$IMG" dec1 -o decpng -q
[ "$rc" = 0 ] && [ "$(ls decpng/*.png | wc -l)" = 6 ] && $PY -c '
from PIL import Image; assert Image.open("decpng/000003.png").size == (300, 300)'
check $? "a directory of decoded images -> 6 PNGs of 300x300" i7.txt
run i8.txt "$IMG" nothere.npy
[ "$rc" = 2 ]
check $? "image of a missing file exits 2" i8.txt

# ---- 7. npydiff ----
$PY - <<'EOF'
import numpy as np
a = np.arange(20, dtype=np.int32).reshape(4, 5)
b = a.copy(); b[2, 3] += 7; b[3, 4] -= 2
np.save("a.npy", a); np.save("b.npy", b)
np.save("c.npy", a.astype(np.int16)); np.save("d.npy", a.reshape(5, 4))
EOF
run n1.txt "$DIFF" a.npy a.npy
[ "$rc" = 0 ] && grep -q 'identical' n1.txt
check $? "npydiff: identical files exit 0" n1.txt
run n2.txt "$DIFF" a.npy b.npy
[ "$rc" = 1 ] && grep -q '2 of 20 elements differ, max abs diff 7, first at index \[2, 3\]: 13 vs 20' n2.txt
check $? "npydiff: differing files exit 1 with count, max abs diff, first index" n2.txt
run n3.txt "$DIFF" a.npy b.npy --tolerance 7
[ "$rc" = 0 ]
check $? "npydiff --tolerance 7 accepts them" n3.txt
run n4.txt "$DIFF" a.npy c.npy
[ "$rc" = 1 ] && grep -q 'dtype mismatch: <i4 vs <i2' n4.txt
check $? "npydiff: dtype mismatch named, exit 1" n4.txt
run n5.txt "$DIFF" a.npy d.npy
[ "$rc" = 1 ] && grep -q 'shape mismatch: (4, 5) vs (5, 4)' n5.txt
check $? "npydiff: shape mismatch named, exit 1" n5.txt
run n6.txt "$DIFF" a.npy missing.npy
[ "$rc" = 2 ] && grep -q 'missing.npy: no such file' n6.txt
check $? "npydiff: a missing file exits 2" n6.txt
rm exp2/000004.npy
run n7.txt "$DIFF" exp2 dec2
[ "$rc" = 1 ] && grep -q 'only in dec2: 000004.npy' n7.txt
check $? "npydiff: directories with a file on one side only exit 1" n7.txt

# ---- 8. pgpctl plan ----
run p1.txt "$CTL" plan --rx-count 80 --size 4KB --network --image 74MiB --pebble-size 84MiB --transition-size 74MiB
[ "$rc" = 0 ] && grep -Eq 'DMA +80 x 4 KiB += 320 KiB' p1.txt && \
	grep -Eq 'pebble +128 x 84 MiB += 10.5 GiB' p1.txt && \
	grep -Eq 'transition +128 x 74 MiB += 9.25 GiB' p1.txt && grep -q 'plan fits' p1.txt
check $? "plan reproduces the seed: 80 x 4 KiB = 320 KiB, 128 x 84 MiB = 10.5 GiB, 128 x 74 MiB = 9.25 GiB" p1.txt
run p2.txt "$CTL" plan --rx-count 80 --size 4KB --network --image 74MiB --pebble-size 84MiB --transition-size 74MiB --mem 16GiB
[ "$rc" = 1 ] && grep -q '\[FAIL\] DMA + pebble + transition + archive fits: .* = 19.75 GiB > 16 GiB available' p2.txt && \
	grep -q '\[PASS\] pebbleBufCount x pebbleBufSize fits' p2.txt && grep -q 'plan refused' p2.txt
check $? "the same plan with 16 GiB is refused (exit 1), the rules printed" p2.txt
run p3.txt "$CTL" plan --rx-count 4 --size 8KiB --image-shape 300x300 --dtype u2
[ "$rc" = 1 ] && grep -q '\[FAIL\] cfgRxCount x cfgSize >= one image: 4 x 8 KiB = 32 KiB < 175.78 KiB' p3.txt
check $? "a DMA ring smaller than one image is refused (rule dma_image)" p3.txt
run p4.txt "$CTL" --json plan --rx-count 80 --size 4096 --network --image-shape 2048x2048 --dtype u2 --mem 64GiB
[ "$rc" = 0 ] && $PY -c '
import json
j = json.load(open("p4.txt"))
assert j["dma"]["total"] == 327680 and j["pebble"]["count"] == 128 and j["pebble"]["size"] == 8388608
assert j["ok"] is True and [r["result"] for r in j["rules"]] == ["PASS"] * 4, j'
check $? "--json parses and carries the pools and rules" p4.txt
run p5.txt "$CTL" --json plan --rx-count 80 --size 4KB --network --image 74MiB --pebble-size 64MiB
[ "$rc" = 1 ] && $PY -c 'import json,sys; json.load(sys.stdin)' <p5.txt && grep -q '"ok": false' p5.txt
check $? "--json of a refused plan is still JSON, exit 1" p5.txt
run p6.txt "$CTL" plan --rx-count 80
r6=$rc
run p7.txt "$CTL" plan --rx-count 80 --size 4 --network
r7=$rc
run p8.txt "$CTL" plan --rx-count 8 --size 4XB
cat p6.txt p7.txt p8.txt >p678.txt
[ "$r6" = 2 ] && grep -q 'are required' p6.txt && [ "$r7" = 2 ] && grep -q 'needs --image' p7.txt && \
	[ "$rc" = 2 ] && grep -q "'4XB' is not a byte count" p8.txt
check $? "plan usage errors exit 2 (missing --size, network without image, bad byte count)" p678.txt

[ "$fails" = 0 ]
