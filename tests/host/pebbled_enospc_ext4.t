#!/bin/bash
# pebbled fills an ext4 filesystem on the production path: O_DIRECT
# segments with preallocation (tmpfs, which the VM's ENOSPC test uses,
# refuses O_DIRECT on 6.1 and is never preallocated). A 64 MiB loop
# filesystem has about 51 MB free, far less than the default 1 GiB segment
# preallocation: pebbled must cut the preallocation to the free space and
# say so, archive records until the disk is full, stop with exit 3 naming
# ENOSPC, and leave an archive that verifies with a complete results file.
# Needs root and a loop device; skipped (with the reason) without them.
set -u
top=$(cd "$(dirname "$0")/../.." && pwd)
P=$top/build/pebbled
DEC=$top/scripts/decode
py=/usr/bin/python3
w=$(mktemp -d "${TMPDIR:-/tmp}/pebbled-ext4.XXXXXX")
mnt=$w/mnt
trap 'umount "$mnt" 2>/dev/null; rm -rf "$w"' EXIT
n=0
fails=0
check() { n=$((n + 1)); if [ "$1" = 0 ]; then echo "ok $n - $2"; else echo "not ok $n - $2"; fails=$((fails + 1)); fi; }

echo "TAP version 13"
mkdir -p "$mnt" "$w/npy"
if ! { truncate -s 64M "$w/ext4.img" && mkfs.ext4 -q -F "$w/ext4.img" &&
       mount -o loop "$w/ext4.img" "$mnt"; } > "$w/mount.err" 2>&1; then
	echo "1..0 # SKIP no ext4 loop mount here: $(tail -n 1 "$w/mount.err")"
	exit 0
fi
echo "1..8"
"$py" -c "
import numpy as np
for i in range(4):
    np.save('$w/npy/img%d.npy' % i, np.arange(300 * 300, dtype=np.uint16).reshape(300, 300) + i)
"
printf 'proc_hz = 0;\narch_hz = 0;\n' > "$w/all.conf"	# every frame archived and processed
free_kb=$(df -k --output=avail "$mnt" | tail -n 1)

"$P" -c "$w/all.conf" --npy "$w/npy" --loop --output "$mnt/out" > "$w/stdout" 2> "$w/stderr"
rc=$?
[ "$rc" = 3 ] && grep -q 'No space left on device' "$w/stderr"
check $? "the disk fills up: exit 3, ENOSPC named ($rc)"
! grep -q 'refuses O_DIRECT' "$w/stderr"
check $? "the segments were written with O_DIRECT"
grep -q 'preallocating [0-9]* MiB of the segment, not 1024: the filesystem has [0-9]* MiB free' "$w/stderr"
check $? "the 1 GiB preallocation is cut to the free space, and pebbled says so"
frames=$(sed -n 's/^ARCH: *frames=\([0-9]*\).*/\1/p' "$w/stdout")
# a record is 4096-aligned: 32 + 180000 bytes take 180224; ask for 80 % of the free space
want=$((free_kb * 1024 * 8 / 10 / 180224))
[ -n "$frames" ] && [ "$frames" -ge "$want" ]
check $? "records archived until the disk was full: $frames (at least $want for $free_kb kB free)"
"$P" --verify "$mnt/out" > "$w/verify" 2>&1 &&
	grep -q "records=$frames ok=$frames " "$w/verify"
check $? "the archive verifies: every record intact, as many as pebbled archived"
sed 's/^/#   /' "$w/verify" | head -n 2
"$DEC" "$mnt/out/run000001" > "$w/decode" 2>&1
check $? "decode reads the run intact"
[ -z "$(find "$mnt/out" -name '*.tmp')" ]
check $? "no .tmp file left"
rows=$(sed -n 's/.*results_rows=\([0-9]*\).*/\1/p' "$w/stdout")
lines=$(wc -l < "$mnt/out/run000001/run000001-results.csv" 2>/dev/null)
[ -n "$rows" ] && [ "$lines" = $((rows + 1)) ] && grep -q 'results_lost=0 ' "$w/stdout"
check $? "the results file is complete under its final name ($rows rows, $lines lines)"
[ "$fails" = 0 ]
