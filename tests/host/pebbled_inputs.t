#!/bin/bash
# pebbled --npy on inputs that used to be archived under the wrong geometry
# or dtype while every tool said "intact" (issue 13): each is refused before
# anything is written, with exit 1, the file named and the reason; a 3-D
# stack is archived as one frame per image, and the detector dtypes added
# then (int8, uint64, int64, float16) decode back byte-exact.
set -u
top=$(cd "$(dirname "$0")/../.." && pwd)
P=$top/build/pebbled
DEC=$top/scripts/decode
py=/usr/bin/python3
w=$(mktemp -d "${TMPDIR:-/tmp}/pebbled-inputs.XXXXXX")
trap 'rm -rf "$w"' EXIT
n=0
fails=0
check() { n=$((n + 1)); if [ "$1" = 0 ]; then echo "ok $n - $2"; else echo "not ok $n - $2"; fails=$((fails + 1)); fi; }

echo "TAP version 13"
echo "1..12"
"$py" - "$w" <<'PYEOF'
import os, sys
import numpy as np
w = sys.argv[1]
img = np.arange(300 * 300, dtype=np.uint16).reshape(300, 300)
def case(name, *arrays):
    d = os.path.join(w, name)
    os.makedirs(d)
    for i, a in enumerate(arrays):
        p = os.path.join(d, "f%d.npy" % i)
        if isinstance(a, bytes):
            open(p, "wb").write(a)
        else:
            np.save(p, a)
case("random", img, os.urandom(180000))
case("mixed_shape", img, img[:, :299].copy())
case("mixed_dtype", img, (img % 30000).astype(np.int16))
for t in ("bool", "complex64"):
    case("dtype_" + t, img.astype(t))
rng = np.random.default_rng(13)
case("detector_dtypes_int8", rng.integers(-128, 128, (40, 30), dtype=np.int8))
case("detector_dtypes_uint64", rng.integers(0, 2**63, (40, 30), dtype=np.uint64) * 2 + 1)
case("detector_dtypes_int64", rng.integers(-2**62, 2**62, (40, 30), dtype=np.int64))
case("detector_dtypes_float16", rng.standard_normal((40, 30)).astype(np.float16))
case("stack", np.stack([img + k for k in range(5)]), img + 5)
# a header of shape (300, 299) over 300x300 uint16 data
d = os.path.join(w, "short_header")
os.makedirs(d)
np.save(os.path.join(d, "f0.npy"), img)
raw = open(os.path.join(d, "f0.npy"), "rb").read()
open(os.path.join(d, "f0.npy"), "wb").write(raw.replace(b"(300, 300)", b"(300, 299)"))
PYEOF

printf 'proc_hz = 0;\narch_hz = 0;\n' > "$w/all.conf"	# every frame archived

# refused NAME FILE WHY: pebbled --npy exits 1 naming FILE with WHY, writes nothing
refused() {
	local out rc
	out=$("$P" --npy "$w/$1" --output "$w/out-$1" 2>&1); rc=$?
	[ "$rc" = 1 ] && grep -qF "$w/$1/$2: $3" <<<"$out" && [ -z "$(ls -A "$w/out-$1" 2>/dev/null)" ]
	check $? "$1: exit 1, '$2: $3' ($rc)"
	[ "$rc" = 1 ] || sed 's/^/#   /' <<<"$out" | tail -n 5
}

refused random f1.npy "not a .npy file (no \\x93NUMPY magic)"
refused short_header f0.npy "data is 180000 bytes, shape (300, 299) of '<u2' needs 179400"
refused mixed_shape f1.npy "299x300 uint16 images, but f0.npy has 300x300 uint16"
refused mixed_dtype f1.npy "300x300 int16 images, but f0.npy has 300x300 uint16"
refused dtype_bool f0.npy "dtype bool ('|b1') is not one the archive records"
refused dtype_complex64 f0.npy "dtype complex64 ('<c8') is not one the archive records"

for t in int8 uint64 int64 float16; do
	d=detector_dtypes_$t
	"$P" -c "$w/all.conf" --npy "$w/$d" --output "$w/out-$d" > "$w/$d.out" 2>&1 &&
		"$DEC" "$w/out-$d/run000001" -o "$w/dec-$d" > "$w/dec-$d.out" 2>&1 &&
		"$py" -c "
import numpy as np, sys
a = np.load('$w/$d/f0.npy'); b = np.load('$w/dec-$d/000003.npy')
sys.exit(0 if a.dtype == b.dtype and a.shape == b.shape and a.tobytes() == b.tobytes() else 1)"
	echo "$?" > "$w/$d.rc"
done
ok=0; for t in int8 uint64 int64; do [ "$(cat "$w/detector_dtypes_$t.rc")" = 0 ] || ok=1; done
check $ok "int8, uint64 and int64 images are archived and decode back byte-exact"
[ "$(cat "$w/detector_dtypes_float16.rc")" = 0 ]
check $? "float16 images are archived and decode back byte-exact"

"$P" -c "$w/all.conf" --npy "$w/stack" --output "$w/out-stack" > "$w/stack.out" 2>&1
check $? "a (5, 300, 300) stack and a 300x300 image: archived (exit 0)"
"$DEC" "$w/out-stack/run000001" -o "$w/dec" > "$w/dec.out" 2>&1
check $? "the run decodes intact"
[ "$(ls "$w/dec" | wc -l)" = 6 ]
check $? "6 frames: one per image of the stack, then the image ($(ls "$w/dec" | wc -l))"
"$py" - "$w" <<'PYEOF'
import os, sys
import numpy as np
w = sys.argv[1]
img = np.arange(300 * 300, dtype=np.uint16).reshape(300, 300)
files = sorted(os.listdir(os.path.join(w, "dec")))
for k, f in enumerate(files):
    a = np.load(os.path.join(w, "dec", f))
    assert a.dtype == np.uint16 and a.shape == (300, 300), (f, a.dtype, a.shape)
    assert np.array_equal(a, img + k), f
PYEOF
check $? "each decoded frame is its image, byte-exact, in order"
[ "$fails" = 0 ]
