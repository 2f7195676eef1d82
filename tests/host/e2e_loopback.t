#!/bin/bash
# End to end through the driver: real .npy images go through TX loopback
# into pebbled in the VM and come back out of the archive byte for byte.
# Generates 6 images of 300x300 uint16 and 2 of 1024x1024 uint16 (2 MiB +
# 32 B frames, larger than cfgSize = 64 KiB: continuation chains), boots
# one VM (scripts/vm-run) running tests/e2e/loopback_npy.sh, which archives
# each geometry as its own run (pgpctl send --timing), fetches the archive,
# decodes it with scripts/decode and compares with scripts/npydiff. Twice:
# on the emulated card, and on the PCI back-end (QEMU's edu device, every
# byte moved by its DMA, TX buffer to device to RX buffer).
# About two minutes.
set -u
top=$(cd "$(dirname "$0")/../.." && pwd)
PY=/usr/bin/python3
DEC=$top/scripts/decode
DIFF=$top/scripts/npydiff
VMRUN=$top/scripts/vm-run
PARAMS=${E2E_LOOPBACK_PARAMS:-cfgRxCount=128,cfgTxCount=48,cfgSize=65536,cfgMode=coherent}
n=0
fails=0

ok() { n=$((n + 1)); echo "ok $n - $1"; }
nok() { n=$((n + 1)); echo "not ok $n - $1"; fails=$((fails + 1)); }
check() { if [ "$1" = 0 ]; then ok "$2"; else nok "$2"; [ -n "${3:-}" ] && [ -f "$3" ] && sed 's/^/# /' "$3" | tail -n 25; fi; }
run() { local o=$1; shift; "$@" >"$o" 2>&1; rc=$?; }

echo "TAP version 13"
if ! $PY -c 'import numpy' 2>/dev/null || [ ! -x "$top/build/pebbled" ] || [ ! -x "$top/build/pgpctl" ] ||
	! ls "$top"/build/mod/*/pgpdma.ko >/dev/null 2>&1 || ! command -v qemu-system-x86_64 >/dev/null; then
	echo "1..0 # SKIP needs /usr/bin/python3 with numpy, qemu-system-x86_64, build/pebbled, build/pgpctl and pgpdma.ko (make)"
	exit 0
fi
echo "1..17"
W=$(mktemp -d "${TMPDIR:-/tmp}/e2e-loopback-t.XXXXXX")
trap 'rm -rf "$W"' EXIT
cd "$W" || exit 1

# Detector-like images (smooth background, spots, Poisson-ish noise) so the
# archive compresses on its way back over the serial line.
mkdir in
$PY - <<'EOF'
import numpy as np
rng = np.random.default_rng(7)
def img(h, w, i):
    y, x = np.mgrid[0:h, 0:w]
    a = 1000 + 200 * np.sin(x / 37.0 + i) * np.cos(y / 53.0)
    for _ in range(20):
        cy, cx = rng.integers(0, h), rng.integers(0, w)
        a += 30000 * np.exp(-((y - cy) ** 2 + (x - cx) ** 2) / 18.0)
    a += rng.integers(0, 8, size=(h, w))
    a = np.clip(a, 0, 65535).astype(np.uint16)
    a[0, 0] = i
    a[-1, -1] = 65535 - i
    return a
for i in range(6):
    np.save("in/lb_small_%02d.npy" % i, img(300, 300, i))
for i in range(2):
    np.save("in/lb_big_%02d.npy" % i, img(1024, 1024, 10 + i))
EOF
[ "$(ls in | wc -l)" = 8 ]
check $? "8 images generated (6 x 300x300, 2 x 1024x1024 uint16)"

extras=()
for f in in/*.npy; do extras+=(--extra "$W/$f"); done

# backend NAME VM-RUN-ARGS...: the VM run and every check of its archive
backend() {
	local be=$1
	shift
	rm -rf "$W/vm"
	run vm-$be.txt timeout 1200 "$VMRUN" --params "$PARAMS" --out "$W/vm" "${extras[@]}" "$@" \
		--fetch /tmp/lb-e2e/arch "$top/tests/e2e/loopback_npy.sh"
	check $rc "$be: VM: loopback_npy.sh passes (pgpctl send --timing, pebbled, --verify; $PARAMS)" vm-$be.txt
	grep -E '^(ok|not ok|#.*(phase|records=))' vm-$be.txt | sed 's/^/# /' | head -n 40
	archive_checks "$be"
}

# archive_checks NAME: decode the fetched archive, compare with the images
archive_checks() {
	local be=$1
	A=vm/fetch/arch
	for ph in small big; do
		case $ph in small) nimg=6 ;; big) nimg=2 ;; esac
		R=$A/$ph/run000001
		rm -rf dec-$ph exp-$ph
		run dec-$ph.txt "$DEC" "$R" -o dec-$ph
		[ "$rc" = 0 ] && grep -q 'intact' dec-$ph.txt && [ "$(ls dec-$ph 2>/dev/null | wc -l)" = "$nimg" ]
		check $? "$be: decode of the $ph run: intact, $nimg L1Accepts written" dec-$ph.txt
		# expected: the images in send order, at seq 3.. (Configure, BeginRun, Enable = 0..2)
		mkdir -p exp-$ph
		i=3
		for f in in/lb_${ph}_*.npy; do cp "$f" "exp-$ph/$(printf %06d $i).npy"; i=$((i + 1)); done
		run diff-$ph.txt "$DIFF" exp-$ph dec-$ph
		[ "$rc" = 0 ] && grep -q "identical ($nimg files)" diff-$ph.txt
		check $? "$be: $ph: decoded images byte-exact against the originals (npydiff exit 0)" diff-$ph.txt
		run j-$ph.txt "$DEC" "$R" --json -q
		[ "$rc" = 0 ] && $PY - j-$ph.txt "$nimg" <<'EOF'
import json, sys
j = json.load(open(sys.argv[1]))
n = int(sys.argv[2])
assert j["intact"] and j["records"] == n + 5 and j["l1accept"] == n, j
assert j["transitions"] == 5 and j["damaged_flag"] == 0 and j["problems"] == [], j
assert j["index"] == "used", j
EOF
		check $? "$be: $ph: $nimg L1Accepts + 5 transitions, index used, no damage flags, no problems" j-$ph.txt
	done
	# the timing headers pgpctl put in front: L1Accept, consecutive pulse IDs and
	# event counters, a timestamp of today (EPICS epoch)
	$PY - "$A/big/run000001" <<'EOF'
import glob, struct, sys, time
recs = []
for seg in sorted(glob.glob(sys.argv[1] + "/run*-s*.pseg")):
    d = open(seg, "rb").read()
    off = struct.unpack_from("<I", d, 12)[0]
    while off + 64 <= len(d):
        m, hs, length, seq, pulse, sec, nsec, tr = struct.unpack_from("<IIQQQIII", d, off)
        if m != 0x31434552:
            break
        th = d[off + 64: off + 96]
        ctl, tns, tsec, env, evt = struct.unpack_from("<QIIII", th)
        recs.append((seq, tr, pulse, ctl & ((1 << 56) - 1), (ctl >> 56) & 15, tsec, evt, sec))
        off += (64 + length + 4095) // 4096 * 4096
assert [r[1] for r in recs] == [2, 4, 8, 12, 12, 9, 5], recs
for a, b in zip(recs, recs[1:]):
    assert b[6] == (a[6] + 1) & 0xffffff, (a, b)       # event counter +1
    assert b[3] > a[3], (a, b)                         # pulse ID increasing
for r in recs:
    assert r[2] == r[3] and r[4] == r[1] and r[5] == r[7], r
    assert abs(r[5] + 631152000 - time.time()) < 86400, r
EOF
	check $? "$be: big: timing headers: transitions in order, event counter +1 and pulse ID rising per frame, EPICS time of today"
}

backend emulated
# the PCI back-end: every byte of every frame by the edu device's DMA, both ways
backend edu --qemu "-device edu -icount shift=0,sleep=off" --smp 1 \
	--env PGPDMA_DEV=/dev/pgpdma1 --env PGPDMA_SLOW_DEVICE=1 --timeout 1100
[ "$fails" = 0 ]
