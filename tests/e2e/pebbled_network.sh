#!/bin/sh
# pebbled network-ingress detector mode end to end (the seed's PVA case;
# docs/network-ingress.md). Runs inside the QEMU guest (busybox sh, TAP).
# Needs /dev/pgpdma0 loaded with a small cfgSize (e.g. cfgRxCount=64,
# cfgTxCount=4,cfgSize=4096), pebbled, pgpctl and pvasend on PATH.
#
# The emulated engine runs timing-only (64-byte frames: 32-byte timing
# header + 32 bytes of overhead); pvasend streams images over UDP on
# loopback tagged with the pulse IDs the generator will use (read from
# /proc/pgpdma0 before the generator starts); pebbled matches them and
# archives; the archive is verified and dumped and every image compared
# byte for byte. Then loss, reordering, late and oversized images, and a
# 74 MiB image with a 4 KiB cfgSize (fits / refused with the numbers).
P=${PEBBLED:-pebbled}
C=${PGPCTL:-pgpctl}
S=${PVASEND:-pvasend}
D=${PGPDMA_DEV:-/dev/pgpdma0}
PROC=/proc/$(basename "$D")
W=/tmp/pebbled-net
PORT=17000
n=0
fails=0

ok() { n=$((n + 1)); echo "ok $n - $1"; }
nok() { n=$((n + 1)); echo "not ok $n - $1"; fails=$((fails + 1)); }
check() { if [ "$1" = 0 ]; then ok "$2"; else nok "$2"; fi; }
show() { sed 's/^/# /' "$1" | tail -n "${2:-15}"; }
# value of key=N in the first line of FILE matching PATTERN
val() { sed -n "/$2/{s/.* $3=\([0-9]*\).*/\1/p;q}" "$1"; }

echo "TAP version 13"
if [ ! -c "$D" ]; then
	echo "1..0 # SKIP $D missing (module not loaded)"
	exit 4
fi
if ! command -v "$S" >/dev/null 2>&1; then
	echo "1..0 # SKIP $S not on PATH (scripts/vm-run --extra build/pvasend)"
	exit 4
fi
echo "1..34"
ip link set lo up 2>/dev/null || ifconfig lo 127.0.0.1 up
rm -rf "$W"
mkdir -p "$W"

# conf NAME EXTRA...: a network-mode config for case NAME
conf() {
	name=$1
	shift
	mkdir -p "$W/$name/out"
	{
		echo "device = \"$D\";"
		echo "detector = \"network\";"
		echo "output_dir = \"$W/$name/out\";"
		echo "net_bind = \"127.0.0.1\";"
		echo "net_port = $PORT;"
		echo "proc_hz = 0;"
		echo "arch_hz = 0;"
		echo "metrics_port = ${MPORT:-0};"
		for l in "$@"; do echo "$l"; done
	} >"$W/$name/pebbled.conf"
}

# wait_for FILE PATTERN TENTHS [PID]: until a line of FILE matches PATTERN
# (grep), at most TENTHS x 0.1 s, or until process PID is gone
wait_for() {
	w=0
	until grep -q "$2" "$1" 2>/dev/null; do
		[ "$w" -ge "$3" ] && return 1
		[ -n "$4" ] && ! kill -0 "$4" 2>/dev/null && return 1
		sleep 0.1 2>/dev/null || sleep 1
		w=$((w + 1))
	done
	return 0
}

# run NAME COUNT RATE [pvasend args...]: one acquisition; sets $pid_rc
run() {
	name=$1 cnt=$2 rate=$3
	shift 3
	d=$W/$name
	"$P" -c "$d/pebbled.conf" >"$d/stdout.txt" 2>"$d/stderr.txt" &
	pid=$!
	# pebbled owns the device and the socket once it says "started:"
	# (allocating and locking a big pebble pool takes a while in TCG)
	wait_for "$d/stderr.txt" 'pebbled: started:' 600 "$pid" || echo "# pebbled did not start in time"
	for t in Configure BeginRun Enable; do
		"$C" -d "$D" inject "$t" >>"$d/pgpctl.txt" 2>&1 || echo "# inject $t failed"
	done
	# every transition takes a pulse ID: read the next one once they are all out
	wait_for "$PROC" '^inject queued *: 0$' 100 || echo "# injections still queued"
	first=$(sed -n 's/^next pulse id *: *//p' "$PROC")
	echo "# $name: first L1 pulse $first, $cnt images at $rate Hz"
	"$C" -d "$D" engine start --rate "$rate" --size 64 --count "$cnt" >>"$d/pgpctl.txt" 2>&1 ||
		echo "# engine start failed"
	cat "$PROC" >"$d/proc-running.txt"
	"$S" --to "127.0.0.1:$PORT" --rate "$rate" --count "$cnt" --first-pulse "$first" "$@" \
		>"$d/pvasend.txt" 2>&1 &
	spid=$!
	wait "$spid"
	src=$?
	[ "$src" = 0 ] || { echo "# pvasend exit $src"; show "$d/pvasend.txt" 5; }
	sleep "${SETTLE:-3}"
	"$C" -d "$D" engine stop >>"$d/pgpctl.txt" 2>&1
	for t in Disable EndRun; do
		"$C" -d "$D" inject "$t" >>"$d/pgpctl.txt" 2>&1 || echo "# inject $t failed"
	done
	sleep 1
	kill -TERM "$pid"
	wait "$pid"
	pid_rc=$?
	[ "$pid_rc" = 0 ] || show "$d/stderr.txt"
	grep -E 'MATCH:|NET:|DRIVER:' "$d/stdout.txt" | sed 's/^/# /'
	tail -n 1 "$d/pvasend.txt" | sed 's/^/# /'
}

# compare NAME COUNT IMGDIR: dump the archive and compare every image
compare() {
	local cd cvrc cbad ck cf csrc
	cd=$W/$1
	rm -rf "$cd/dump"
	"$P" --verify "$cd/out" --dump "$cd/dump" >"$cd/verify.txt" 2>&1
	cvrc=$?
	cbad=0
	ck=0
	while [ "$ck" -lt "$2" ]; do
		cf=$(printf 'l1_%06d.npy' "$ck")
		csrc=$(printf '%s/img%04d.npy' "$3" "$((ck % ${4:-$2}))")
		cmp -s "$cd/dump/$cf" "$csrc" || { cbad=$((cbad + 1)); echo "# $cf differs from $csrc"; }
		ck=$((ck + 1))
	done
	[ "$cvrc" = 0 ] && [ "$cbad" = 0 ]
}

SMALL=$W/img
"$S" --make "$SMALL" --shape 48x64 --dtype u2 --count 20 --seed 7 >/dev/null
check $? "pvasend --make wrote 20 test images (48x64 uint16, 6144 B)"

# --- 1. clean run, timing-only engine ---------------------------------------
MPORT=9470 conf clean image_width = 64\; image_height = 48\; 'image_dtype = "uint16";' net_timeout_ms = 1500\;
"$P" -c "$W/clean/pebbled.conf" --plan >"$W/clean/plan.txt" 2>&1
check $? "pebbled --plan in network mode"
grep -q 'network-ingress: DMA memory 256 KiB (64 x 4096 B, timing headers of 64 B) vs pebble memory 384 KiB (64 x 6144 B' "$W/clean/plan.txt"
check $? "plan shows the DMA/pebble asymmetry with real numbers"
show "$W/clean/plan.txt" 3
before=$("$C" -d "$D" stats | sed -n 's/^rx *frames \([0-9]*\) *bytes \([0-9]*\).*cont_frames \([0-9]*\).*/\1 \2 \3/p')
(sleep 2; wget -q -O - "http://127.0.0.1:9470/metrics" >"$W/clean/metrics.txt" 2>&1) &
run clean 20 20 "$SMALL"
check "$pid_rc" "clean: pebbled exits 0"
grep -q "gen frame size *: 64 bytes" "$W/clean/proc-running.txt"
check $? "engine ran with 64-byte timing-only frames (cfgSize 4096)"
after=$("$C" -d "$D" stats | sed -n 's/^rx *frames \([0-9]*\) *bytes \([0-9]*\).*cont_frames \([0-9]*\).*/\1 \2 \3/p')
set -- $before $after
[ $(($4 - $1)) = 25 ] && [ $(($5 - $2)) = $((20 * 64 + 5 * 32)) ] && [ "$6" = "$3" ]
check $? "DMA carried 20 x 64 B headers + 5 transitions, no continuation (got $(($4 - $1)) frames, $(($5 - $2)) B)"
f=$W/clean/stdout.txt
[ "$(val "$f" MATCH: matched)" = 20 ] && [ "$(val "$f" MATCH: missing)" = 0 ] &&
	[ "$(val "$f" MATCH: timed_out)" = 0 ] && [ "$(val "$f" MATCH: truncated)" = 0 ]
check $? "clean: 20 matched, nothing missing/timed out/truncated"
compare clean 20 "$SMALL"
check $? "clean: archive verifies and all 20 images are byte-exact"
show "$W/clean/verify.txt" 2
grep -q '^pebbled_net_matched_total' "$W/clean/metrics.txt" && grep -q '^pebbled_net_bytes_total' "$W/clean/metrics.txt"
check $? "Prometheus endpoint serves the network counters"
grep -q 'NET:    images=20' "$f"
check $? "exit block has the network section"

# --- 2. reordered fragments ----------------------------------------------------
conf reorder image_width = 64\; image_height = 48\; 'image_dtype = "uint16";' net_timeout_ms = 1500\;
run reorder 20 20 "$SMALL" --mtu 600 --reorder --seed 5
check "$pid_rc" "reorder: pebbled exits 0"
f=$W/reorder/stdout.txt
[ "$(val "$f" MATCH: matched)" = 20 ] && [ "$(val "$f" MATCH: truncated)" = 0 ]
check $? "reorder: out-of-order fragments reassembled, 20 matched"
compare reorder 20 "$SMALL"
check $? "reorder: all 20 images byte-exact"

# --- 3. loss ---------------------------------------------------------------------
conf loss image_width = 64\; image_height = 48\; 'image_dtype = "uint16";' net_timeout_ms = 1500\;
run loss 20 20 "$SMALL" --mtu 600 --loss 15 --seed 3
check "$pid_rc" "loss: pebbled exits 0, no hang"
f=$W/loss/stdout.txt
p=$W/loss/pvasend.txt
sc=$(val "$p" 'pvasend:' complete)
sp=$(val "$p" 'pvasend:' partial)
sl=$(val "$p" 'pvasend:' lost)
[ "$(val "$f" MATCH: matched)" = "$sc" ] && [ "$(val "$f" MATCH: truncated)" = "$sp" ] &&
	[ $(($(val "$f" MATCH: missing) + $(val "$f" MATCH: timed_out))) = "$sl" ]
check $? "loss: matched=$sc truncated=$sp missing+timed_out=$sl as sent"
[ "$sp" -gt 0 ]
check $? "loss: the seeded loss produced partial images ($sp)"
"$P" --verify "$W/loss/out" >"$W/loss/verify.txt" 2>&1
check $? "loss: archive verifies"
dm=$(val "$W/loss/verify.txt" 'run ' damaged)
[ "$dm" = $((sp + sl)) ]
check $? "loss: damaged records = partial + lost ($dm)"

# --- 4. late images -----------------------------------------------------------------
conf late image_width = 64\; image_height = 48\; 'image_dtype = "uint16";' net_timeout_ms = 500\;
SETTLE=1 run late 20 20 "$SMALL" --delay-ms 3000
check "$pid_rc" "late: pebbled exits 0, no hang"
f=$W/late/stdout.txt
[ "$(val "$f" MATCH: timed_out)" = 20 ] && [ "$(val "$f" MATCH: too_old)" = 20 ] && [ "$(val "$f" MATCH: matched)" = 0 ]
check $? "late: 20 headers timed out (archived, damaged), 20 images too old (dropped)"
"$P" --verify "$W/late/out" >"$W/late/verify.txt" 2>&1
check $? "late: archive verifies"
[ "$(val "$W/late/verify.txt" 'run ' l1accept)" = 20 ] && [ "$(val "$W/late/verify.txt" 'run ' damaged)" = 20 ]
check $? "late: 20 L1Accept records, all damaged"

# --- 5. oversized images --------------------------------------------------------------
conf over image_width = 64\; image_height = 48\; 'image_dtype = "uint16";' net_timeout_ms = 1500\;
run over 20 20 "$SMALL" --oversize 4096
check "$pid_rc" "oversize: pebbled exits 0"
f=$W/over/stdout.txt
[ "$(val "$f" MATCH: overflow)" = 20 ] && [ "$(val "$f" MATCH: matched)" = 20 ]
check $? "oversize: 20 images larger than a pebble, cut and flagged"
compare over 20 "$SMALL"
check $? "oversize: archived part (= the pebble) is byte-exact"
[ "$(val "$W/over/verify.txt" 'run ' damaged)" = 20 ]
check $? "oversize: 20 damaged (overflow) records"

# --- 6. image size from the first image's header ----------------------------------------
conf probe net_timeout_ms = 1500\; net_probe_ms = 20000\;
(sleep 2; "$S" --to "127.0.0.1:$PORT" --rate 0 --count 1 --quiet "$SMALL/img0000.npy" >/dev/null) &
"$P" -c "$W/probe/pebbled.conf" --plan >"$W/probe/plan.txt" 2>"$W/probe/stderr.txt"
rc=$?
wait
[ "$rc" = 0 ] && grep -q 'first image: 6144 bytes (64x48, uint16)' "$W/probe/stderr.txt" &&
	grep -q 'pebble .* 64 x 6 KiB' "$W/probe/plan.txt"
check $? "pebble size defaults to the first image's size (no geometry configured)"

# --- 7. a 74 MiB image with a 4 KiB cfgSize ------------------------------------------------
BIG=$W/bigimg
"$S" --make "$BIG" --shape 8192x4736 --dtype u2 --count 1 --seed 9 >/dev/null
check $? "pvasend --make wrote a 74 MiB image (8192x4736 uint16)"
conf bigno image_width = 4736\; image_height = 8192\; 'image_dtype = "uint16";' pebbleBufCount = 64\;
"$P" -c "$W/bigno/pebbled.conf" >"$W/bigno/stdout.txt" 2>"$W/bigno/stderr.txt"
rc=$?
[ "$rc" = 1 ] && grep -q 'FAIL\] pebbleBufCount x pebbleBufSize fits: 64 x 74 MiB = .* GiB > ' "$W/bigno/stderr.txt" &&
	grep -q 'refusing to start' "$W/bigno/stderr.txt"
check $? "74 MiB x pebbleBufCount 64 is refused with the numbers (exit $rc)"
grep -E 'FAIL|DMA ' "$W/bigno/stderr.txt" | sed 's/^/# /'
grep -q 'DMA memory 256 KiB (64 x 4096 B' "$W/bigno/stdout.txt"
check $? "refusal shows DMA memory (256 KiB) next to pebble memory"
conf big image_width = 4736\; image_height = 8192\; 'image_dtype = "uint16";' pebbleBufCount = 4\; \
	archive_queue_depth = 2\; net_timeout_ms = 20000\; net_rcvbuf = 134217728\;
"$P" -c "$W/big/pebbled.conf" --plan >"$W/big/plan.txt" 2>&1
check $? "74 MiB x pebbleBufCount 4 fits"
grep -E 'DMA|pebble ' "$W/big/plan.txt" | sed 's/^/# /'
SETTLE=4 run big 2 1 "$BIG" --mtu 65535 --quiet
check "$pid_rc" "big: pebbled exits 0"
f=$W/big/stdout.txt
[ "$(val "$f" MATCH: matched)" = 2 ]
check $? "big: both 74 MiB images matched"
compare big 2 "$BIG" 1
check $? "big: both 74 MiB images archived byte-exact"
rm -rf "$W/big/dump" "$W/big/out" "$BIG"

[ "$n" = 34 ] || echo "# ran $n checks"
[ "$fails" = 0 ]
