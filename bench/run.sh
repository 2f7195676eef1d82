#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# bench/run.sh - the benchmark suite (issue 7). Not a test: no pass/fail.
#
#   bench/run.sh                 full run (~10-12 min)
#   BENCH_QUICK=1 bench/run.sh   quick run (~4 min): fewer repetitions, shorter points
#
# Writes bench/results/<UTC stamp>-<host kind>.md (report) and .csv (raw
# rows of every run) and prints the report path. Sections:
#   rx    driver receive paths in the VM (bench/rx_bench.c), with in-VM
#         memcpy and generator-fill baselines measured in the same boot
#   arch  pebbled archive GB/s against fio (libaio, O_DIRECT, same block
#         size and queue depth, same filesystem), runs alternated
#   pipe  pebbled on the .npy source: processing / archive / both
#   e2e   generator -> driver -> pebbled -> archive in the VM, lossless
#   pci   the PCI back-end (QEMU's edu device, real DMA + MSI) beside the
#         emulated card in one boot: frames/s, interrupts per frame,
#         latency from the firmware's timestamp to userspace (rx_bench lat)
# Environment: BENCH_QUICK=1, BENCH_SKIP="rx e2e ..." (sections to skip),
# KVER (kernel of the VM, default scripts/kernels.sh default).
set -u
cd "$(dirname "$0")/.." || exit 1
top=$PWD
PY=/usr/bin/python3
QUICK=${BENCH_QUICK:-0}
SKIP=" ${BENCH_SKIP:-} "
if [ "$QUICK" = 1 ]; then
	MODE=quick; REPS=3; RX_T=0.3; RX_W=0.1; PAIRS=3; ARCH_S=3; PIPE_S=2; PIPE_REPS=3
	E2E_N=150; E2E_REPS=3
else
	MODE=full; REPS=5; RX_T=0.8; RX_W=0.2; PAIRS=5; ARCH_S=5; PIPE_S=4; PIPE_REPS=5
	E2E_N=400; E2E_REPS=5
fi
KVER=${KVER:-$(scripts/kernels.sh default 2>/dev/null)}
W=$top/build/bench
RES=$top/bench/results
mkdir -p "$W" "$RES"

say() { printf '[bench %s] %s\n' "$(date -u +%H:%M:%S)" "$*" >&2; }
skip() { case "$SKIP" in *" $1 "*) return 0 ;; esac; return 1; }

# --- build ------------------------------------------------------------------
if [ ! -x build/pebbled ] || [ ! -x build/pgpctl ] || [ ! -f build/libpgpdma.a ] ||
   [ ! -f "build/mod/$KVER/pgpdma.ko" ]; then
	say "building (make userspace modules)"
	make -s userspace modules >/dev/null || { echo "bench: build failed" >&2; exit 1; }
fi
gcc -std=c11 -D_GNU_SOURCE -O2 -Wall -Wextra -Werror -static -Iuapi -Ilib \
	-o "$W/rx_bench" bench/rx_bench.c build/libpgpdma.a || exit 1

# --- machine ------------------------------------------------------------------
stamp=$(date -u +%Y%m%dT%H%M%SZ)
cpu=$(awk -F': *' '/^model name/ { print $2; exit }' /proc/cpuinfo)
ncpu=$(nproc)
memg=$(awk '/^MemTotal/ { printf "%d", $2 / 1048576 + 0.5 }' /proc/meminfo)
virt=$(systemd-detect-virt 2>/dev/null || echo unknown)
kind=$(printf '%s-%sc-%sg-%s' "$cpu" "$ncpu" "$memg" "$virt" | tr 'A-Z' 'a-z' |
	sed 's/([^)]*)//g; s/[^a-z0-9.]\+/-/g; s/-\+/-/g; s/^-//; s/-$//')
base=$RES/$stamp-$kind
CSV=$base.csv
META=$W/meta-$stamp.txt
: >"$CSV"
{
	echo "mode=$MODE"
	echo "stamp=$stamp"
	echo "cpu=$cpu"
	echo "ncpu=$ncpu"
	echo "mem=$(awk '/^MemTotal/ { printf "%.1f GiB", $2 / 1048576 }' /proc/meminfo)"
	echo "host_kernel=$(uname -r)"
	echo "virt=$virt"
	echo "vm_kernel=$KVER"
	echo "qemu=$(qemu-system-x86_64 --version 2>/dev/null | head -1)"
	echo "fio=$(fio --version 2>/dev/null)"
	echo "fs=$(df -T "$W" | awk 'NR == 2 { print $1 " " $2 " (" $3 " KiB, " $5 " KiB free)" }')"
	echo "perf=$(perf stat -e instructions true 2>&1 | grep -q 'not supported' && echo 'instructions: not supported (no PMU in this VM)' || echo available)"
	echo "reps=$REPS rx_t=$RX_T pairs=$PAIRS arch_s=$ARCH_S pipe_s=$PIPE_S pipe_reps=$PIPE_REPS e2e_n=$E2E_N e2e_reps=$E2E_REPS"
	echo "qd=$(awk -F'[ =;]+' '/^archive_queue_depth/ { print $2 }' daemon/pebbled.conf)"
	echo "segment_bytes=$(awk -F'[ =;]+' '/^segment_bytes/ { print $2 }' daemon/pebbled.conf)"
} >"$META"
say "mode $MODE, results $base.{md,csv}"

# --- 1. driver receive paths (VM) -------------------------------------------
# boot A: 1024 x 64 KiB buffers: 64 B, 1 KiB, 64 KiB, 256 KiB (4 x 64 KiB chain)
# boot B:   64 x 1 MiB buffers: 1 MiB, 4 MiB (4 x 1 MiB chain)
vm_rx() { # NAME PARAMS SIZES...
	local name=$1 params=$2
	shift 2
	mkdir -p "$W/guest"
	cat >"$W/guest/rx-$name.sh" <<EOF
#!/bin/sh
cd /tests && ./rx_bench matrix -t $RX_T -w $RX_W -r $REPS $*
EOF
	chmod +x "$W/guest/rx-$name.sh"
	rm -rf "$W/vm-rx-$name"
	scripts/vm-run -q --kver "$KVER" --mem 1024 --smp 2 --params "$params" --timeout 900 \
		--extra "$W/rx_bench" --out "$W/vm-rx-$name" "$W/guest/rx-$name.sh" >"$W/vm-rx-$name.log" 2>&1 ||
		say "vm-run rx-$name failed (see $W/vm-rx-$name.log)"
	grep -h '^csv,rx,' "$W/vm-rx-$name"/*.tap | sed "s/^csv,rx,/rx,$name,/" >>"$CSV"
	grep -h '^# info' "$W/vm-rx-$name"/*.tap | sed "s/^# info/rxinfo_$name=/" >>"$META"
}
if ! skip rx; then
	say "rx: VM boot A (cfgRxCount=1024 cfgSize=65536)"
	vm_rx a "cfgRxCount=1024 cfgSize=65536" 64 1024 65536 262144
	say "rx: VM boot B (cfgRxCount=64 cfgSize=1048576)"
	vm_rx b "cfgRxCount=64 cfgSize=1048576" 1048576 4194304
fi

# --- 1b. the PCI back-end beside the emulated card (VM, edu device) ------------
if ! skip pci; then
	say "pci: VM boot with QEMU's edu device (-icount shift=0,sleep=off)"
	mkdir -p "$W/guest"
	cat >"$W/guest/pci.sh" <<'EOF'
#!/bin/sh
# frames per point: the edu device moves 2 KiB per transfer pair, 100 ms each
irqs() { awk '/pgpdma-edu/ { s = 0; for (i = 2; i <= NF; i++) if ($i ~ /^[0-9]+$/) s += $i; print s; exit }' /proc/interrupts; }
cd /tests
for point in pgpdma0:4096:2000 pgpdma0:65536:500 pgpdma1:4096:10 pgpdma1:65536:2; do
	dev=${point%%:*}; rest=${point#*:}; z=${rest%%:*}; n=${rest#*:}
	i0=$(irqs)
	./rx_bench lat -d /dev/$dev -n "$n" -z "$z" -T 600 | sed "s/^csv,lat,/csv,lat,$dev,/"
	i1=$(irqs)
	echo "csv,irq,$dev,$z,$n,$(( ${i1:-0} - ${i0:-0} ))"
done
EOF
	chmod +x "$W/guest/pci.sh"
	rm -rf "$W/vm-pci"
	scripts/vm-run -q --kver "$KVER" --mem 512 --smp 1 --params "cfgRxCount=64 cfgSize=65536" \
		--qemu "-device edu -icount shift=0,sleep=off" --timeout 900 \
		--extra "$W/rx_bench" --out "$W/vm-pci" "$W/guest/pci.sh" >"$W/vm-pci.log" 2>&1 ||
		say "vm-run pci failed (see $W/vm-pci.log)"
	grep -h '^csv,lat,\|^csv,irq,' "$W/vm-pci"/*.tap | sed 's/^csv,//' >>"$CSV"
fi

# --- npy inputs ------------------------------------------------------------------
gen_npy() { # SIDE COUNT
	local d=$W/npy-$1
	[ -f "$d/.done-$2" ] && return 0
	rm -rf "$d"
	mkdir -p "$d"
	$PY - "$d" "$1" "$2" <<'EOF' || exit 1
import sys, numpy as np
d, side, n = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
rng = np.random.default_rng(7)
for i in range(n):
    np.save("%s/f%04d.npy" % (d, i), rng.integers(0, 4096, (side, side), dtype=np.uint16))
open(d + "/.done-%d" % n, "w").close()
EOF
}
if ! skip arch || ! skip pipe; then
	say "generating .npy inputs"
	gen_npy 300 64
	gen_npy 2048 8
fi

ARCH=$W/arch
span() { echo $(( ( ($1 + 64 + 4095) / 4096) * 4096 )); }  # archive record: 64 B header + payload, 4 KiB aligned

# pebbled on the npy source; appends one row to CSV. ROWPREFIX GEOM EXTRA-ARGS...
run_pebbled() {
	local prefix=$1 side=$2
	shift 2
	rm -rf "$ARCH"
	mkdir -p "$ARCH"
	/usr/bin/time -f '%U %S %M %e' -o "$W/time.txt" \
		build/pebbled --npy "$W/npy-$side" --loop --seconds "$S" --output "$ARCH" \
		--metrics-port 0 "$@" >"$W/pb.out" 2>"$W/pb.err"
	local rc=$?
	$PY - "$prefix" "$side" "$rc" "$W/pb.out" "$W/time.txt" >>"$CSV" <<'EOF'
import re, sys
prefix, side, rc, out, tf = sys.argv[1:]
t = open(out).read()
def g(pat, cast=float):
    m = re.search(pat, t)
    return cast(m.group(1)) if m else -1
el = g(r"Elapsed: ([\d.]+) s")
dma = g(r"DMA:\s+produced=(\d+)", int)
proc = g(r"PROC:\s+frames=(\d+)", int)
arch = g(r"ARCH:\s+frames=(\d+)", int)
abytes = g(r"ARCH:\s+frames=\d+\s+bytes=(\d+)", int)
agbps = g(r"ARCH:.*\| ([\d.]+) GB/s")
dfps = g(r"DMA:\s+([\d.]+) fps")
pfps = g(r"PROC:\s+([\d.]+) fps")
afps = g(r"ARCH:\s+([\d.]+) fps")
u, s, rss, wall = open(tf).read().split()[-4:]
print(",".join(str(x) for x in [prefix, side, rc, el, dma, proc, arch, abytes, dfps, pfps, afps,
      agbps, u, s, rss, wall]))
EOF
	rm -rf "$ARCH"
}

# --- 2. archiver vs fio (host) -------------------------------------------------
if ! skip arch; then
	S=$ARCH_S
	qd=$(awk -F'[ =;]+' '/^archive_queue_depth/ { print $2 }' daemon/pebbled.conf)
	seg=$(awk -F'[ =;L]+' '/^segment_bytes/ { print $2 }' daemon/pebbled.conf)
	for side in 2048 300; do
		bs=$(span $((side * side * 2)))
		for p in $(seq 1 "$PAIRS"); do
			say "arch: ${side}x${side} pair $p/$PAIRS (bs $bs, qd $qd)"
			# processing paced to 1 Hz: pebbled has no switch to turn it off
			run_pebbled "arch,$p,pebbled,$bs,$qd" "$side" --proc-hz 1 --arch-hz 0
			if [ "$side" = 2048 ]; then
				# diagnostic: no segment rotation (drain + fsync + rename every 1 GiB)
				printf 'segment_bytes = 68719476736L;\narchive_queue_depth = %s;\n' "$qd" >"$W/noseg.conf"
				run_pebbled "arch,$p,pebbled-noseg,$bs,$qd" "$side" -c "$W/noseg.conf" --proc-hz 1 --arch-hz 0
			fi
			rm -rf "$ARCH"
			mkdir -p "$ARCH"
			# fio preallocates its file (fallocate=native) as pebbled does each
			# segment, and writes segment_bytes before wrapping, like one segment.
			fio --name=arch --filename="$ARCH/fio.dat" --ioengine=libaio --direct=1 \
				--rw=write --bs="$bs" --iodepth="$qd" --size="$seg" --fallocate=native \
				--runtime="$S" --time_based --output-format=json >"$W/fio.json" 2>"$W/fio.err"
			$PY - "$p" "$side" "$bs" "$qd" "$W/fio.json" >>"$CSV" <<'EOF'
import json, sys
p, side, bs, qd, f = sys.argv[1:]
try:
    w = json.load(open(f))["jobs"][0]["write"]
    print("arch,%s,fio,%s,%s,%s,%d,%.3f,%.4f" % (p, bs, qd, side, w["io_bytes"], w["runtime"] / 1e3, w["bw_bytes"] / 1e9))
except Exception as e:
    print("arch,%s,fio,%s,%s,%s,0,0,0" % (p, bs, qd, side))
EOF
			rm -rf "$ARCH"
			# fio doing pebbled's durable work: files of segment_bytes, each
			# preallocated and fsynced when closed, one after the other.
			mkdir -p "$ARCH"
			fio --name=arch --directory="$ARCH" --nrfiles=64 --openfiles=1 --filesize="$seg" \
				--file_service_type=sequential --create_on_open=1 --fallocate=native \
				--fsync_on_close=1 --ioengine=libaio --direct=1 --rw=write --bs="$bs" \
				--iodepth="$qd" --size=$((64 * seg)) --runtime="$S" \
				--output-format=json >"$W/fio.json" 2>"$W/fio.err"
			$PY - "$p" "$side" "$bs" "$qd" "$W/fio.json" >>"$CSV" <<'EOF'
import json, sys
p, side, bs, qd, f = sys.argv[1:]
try:
    w = json.load(open(f))["jobs"][0]["write"]
    print("arch,%s,fioseg,%s,%s,%s,%d,%.3f,%.4f" % (p, bs, qd, side, w["io_bytes"], w["runtime"] / 1e3, w["bw_bytes"] / 1e9))
except Exception as e:
    print("arch,%s,fioseg,%s,%s,%s,0,0,0" % (p, bs, qd, side))
EOF
			rm -rf "$ARCH"
		done
	done
fi

# Diagnostic: how long io_submit blocks (strace -T), pebbled vs fio on a fresh
# file (appending, like pebbled's segments) and on a file sized beforehand.
submit_ms() { # strace-output -> "median_ms n"
	grep 'io_submit(' "$1" | grep -v unfinished | sed -n 's/.*<\([0-9.]*\)>$/\1/p' | sort -n |
		awk '{ a[NR] = $1 } END { if (NR) printf "%.3f %d", a[int((NR + 1) / 2)] * 1e3, NR; else print "-1 0" }'
}
syscall_ms() { # NAME strace-output -> "median_ms max_ms n" (threads: resumed lines count)
	grep -E "(^|[ <])$1(\(| resumed)" "$2" | grep -v unfinished | sed -n 's/.*<\([0-9.]*\)>$/\1/p' | sort -n |
		awk '{ a[NR] = $1 } END { if (NR) printf "%.3f %.3f %d", a[int((NR + 1) / 2)] * 1e3, a[NR] * 1e3, NR; else print "-1 -1 0" }'
}
if ! skip arch && command -v strace >/dev/null; then
	side=2048
	bs=$(span $((side * side * 2)))
	say "arch: diagnostic (strace -T io_submit)"
	S=2
	rm -rf "$ARCH"; mkdir -p "$ARCH"
	strace -f -T -e trace=io_submit,fsync,fallocate -o "$W/strace-pb.txt" build/pebbled --npy "$W/npy-$side" --loop \
		--seconds 2 --output "$ARCH" --metrics-port 0 --proc-hz 1 --arch-hz 0 >"$W/pb.out" 2>/dev/null
	gb=$(sed -n 's/^ARCH:.*| \([0-9.]*\) GB\/s.*/\1/p' "$W/pb.out")
	echo "archdiag,pebbled,${gb:-0},$(submit_ms "$W/strace-pb.txt" | tr ' ' ',')" >>"$CSV"
	for sc in fsync fallocate; do
		echo "archsys,$sc,$(syscall_ms "$sc" "$W/strace-pb.txt" | tr ' ' ',')" >>"$CSV"
	done
	for pre in fresh presized; do
		rm -rf "$ARCH"; mkdir -p "$ARCH"; : >"$ARCH/fio.dat"
		[ "$pre" = presized ] && truncate -s 64G "$ARCH/fio.dat"
		strace -f -T -e trace=io_submit -o "$W/strace-fio.txt" fio --name=arch --filename="$ARCH/fio.dat" \
			--ioengine=libaio --direct=1 --rw=write --bs="$bs" --iodepth="$qd" --size=32G \
			--fallocate=none --runtime=2 --time_based --output-format=json >"$W/fio.json" 2>/dev/null
		gb=$($PY -c 'import json,sys; print("%.4f" % (json.load(open(sys.argv[1]))["jobs"][0]["write"]["bw_bytes"] / 1e9))' "$W/fio.json" 2>/dev/null)
		echo "archdiag,fio-$pre,${gb:-0},$(submit_ms "$W/strace-fio.txt" | tr ' ' ',')" >>"$CSV"
	done
	rm -rf "$ARCH"
fi

# --- 3. pipeline (host, npy, unpaced) --------------------------------------------
if ! skip pipe; then
	S=$PIPE_S
	for side in 300 2048; do
		build/pebbled --npy "$W/npy-$side" --plan >"$W/plan-$side-arch.txt" 2>&1
		build/pebbled --npy "$W/npy-$side" --no-archive --plan >"$W/plan-$side-noarch.txt" 2>&1
		pa=$(sed -n 's/.*total .*(\([0-9]*\) bytes).*/\1/p' "$W/plan-$side-arch.txt")
		pn=$(sed -n 's/.*total .*(\([0-9]*\) bytes).*/\1/p' "$W/plan-$side-noarch.txt")
		/usr/bin/time -f '%M' -o "$W/time.txt" build/pebbled --npy "$W/npy-$side" --plan >/dev/null 2>&1
		echo "rssbase,$side,$(tail -1 "$W/time.txt")" >>"$CSV"
		for r in $(seq 1 "$PIPE_REPS"); do
			say "pipe: ${side}x${side} rep $r/$PIPE_REPS"
			run_pebbled "pipe,$r,proc,$pn" "$side" --no-archive --proc-hz 0
			run_pebbled "pipe,$r,arch,$pa" "$side" --proc-hz 1 --arch-hz 0
			run_pebbled "pipe,$r,both,$pa" "$side" --proc-hz 0 --arch-hz 0
		done
	done
fi

# --- 4. end to end (VM) ---------------------------------------------------------
if ! skip e2e; then
	say "e2e: VM boot C (cfgRxCount=64 cfgSize=1048576), $E2E_REPS x $E2E_N frames of 1 MiB"
	cat >"$W/guest/e2e.sh" <<EOF
#!/bin/sh
cd /tests
cat >/tmp/pb.conf <<EOC
device = "/dev/pgpdma0";
output_dir = "/tmp/e2e";
proc_hz = 0;
arch_hz = 0;
metrics_port = 0;
EOC
pebbled -c /tmp/pb.conf --plan | sed -n 's/.*total .*(\([0-9]*\) bytes).*/# plan_total=\1/p'
for rep in \$(seq 1 $E2E_REPS); do
	rm -rf /tmp/e2e; mkdir -p /tmp/e2e
	pebbled -c /tmp/pb.conf --lossless >/tmp/pb.out 2>/tmp/pb.err &
	pid=\$!
	sleep 1
	for t in Configure BeginRun Enable; do pgpctl inject \$t >/dev/null; done
	sleep 1
	./rx_bench gen -n $E2E_N -z 1048576 -T 200 -a /tmp/e2e | sed "s/^csv,e2e,/csv,e2e,\$rep,/"
	for t in Disable EndRun; do pgpctl inject \$t >/dev/null; done
	sleep 1
	kill -TERM \$pid
	wait \$pid
	echo "csv,pbrc,\$rep,\$?"
	sed -n '/=== Component Stats/,\$p' /tmp/pb.out | sed "s/^/pb,\$rep: /"
	grep -i 'direct\|error\|fall' /tmp/pb.err | sed 's/^/# pebbled: /'
done
pgpctl stats | sed 's/^/# /'
EOF
	chmod +x "$W/guest/e2e.sh"
	rm -rf "$W/vm-e2e"
	scripts/vm-run -q --kver "$KVER" --mem 2048 --smp 2 --params "cfgRxCount=64 cfgSize=1048576" \
		--timeout 900 --extra "$W/rx_bench" --out "$W/vm-e2e" "$W/guest/e2e.sh" >"$W/vm-e2e.log" 2>&1 ||
		say "vm-run e2e failed (see $W/vm-e2e.log)"
	cp "$W/vm-e2e/e2e.sh.tap" "$base-e2e.log" 2>/dev/null
	$PY - "$W/vm-e2e/e2e.sh.tap" >>"$CSV" <<'EOF'
import re, sys
t = open(sys.argv[1]).read()
for l in t.splitlines():
    if l.startswith("csv,e2e,"):
        print(l[4:])
    if l.startswith("csv,pbrc,"):
        print(l[4:])
    if l.startswith("# plan_total="):
        print("e2eplan," + l.split("=")[1])
for rep in sorted(set(re.findall(r"^pb,(\d+): ", t, re.M))):
    b = "\n".join(l.split(": ", 1)[1] for l in t.splitlines() if l.startswith("pb,%s: " % rep))
    def g(p):
        m = re.search(p, b)
        return m.group(1) if m else "-1"
    print(",".join(["pb", rep, g(r"ARCH:\s+frames=(\d+)"), g(r"transitions=(\d+)"),
                    g(r"pool_drops=(\d+)"), g(r"dropped_arch_queue=(\d+)"),
                    g(r"dropped_proc_queue=(\d+)"), g(r"dma_seq_gaps=(\d+)"),
                    g(r"pool_exhaust=(\d+)"), g(r"PROC:\s+frames=(\d+)"),
                    g(r"evt_missing=(\d+)")]))
EOF
fi

# --- report --------------------------------------------------------------------
$PY bench/report.py "$CSV" "$META" >"$base.md" || { echo "bench: report failed" >&2; exit 1; }
cp "$META" "$base.meta"
say "report: $base.md"
echo "$base.md"
