#!/bin/sh
# pebbled on TX loopback of real .npy images (runs inside the QEMU guest,
# busybox sh, TAP on stdout). Driven by tests/host/e2e_loopback.t, which
# puts the images into /tests with --extra (lb_small_NN.npy: one geometry,
# lb_big_NN.npy: another, larger than cfgSize) and fetches $W/arch.
#
# For each geometry (phase A = small, B = big) one pebbled run:
# pebbled starts with image_width/height/dtype of the images, arch_hz 0,
# proc_hz 0; Configure/BeginRun/Enable are injected by the emulated engine;
# the engine switches to TX loopback; `pgpctl send --timing` sends every
# image as a detector frame (32-byte timing header + array data), continuing
# the engine's pulse ID and event counter (read from /proc/pgpdmaN) so the
# run has no event-counter gap; Disable and EndRun follow as header-only
# frames from the same counter sequence; SIGTERM stops pebbled. Checks:
# exit 0, the run closed by EndRun, `pebbled --verify` intact with every
# image archived as an L1Accept and no damage bits. The byte-exact
# comparison is done on the host (scripts/decode -> scripts/npydiff).
# Module: cfgSize 65536 and a TX pool larger than the biggest frame
# (e.g. cfgRxCount=128,cfgTxCount=48,cfgSize=65536).
. "${VM_HELPERS:-/tests/lib/vm-helpers.sh}"
P=${PEBBLED:-pebbled}
C=${PGPCTL:-pgpctl}
D=$DEV
PROC=/proc/$(basename "$D")
W=/tmp/lb-e2e
# PGPDMA_SLOW_DEVICE: the edu device (100 ms per 2 KiB transfer): wait longer
SLOW=1
[ -n "${PGPDMA_SLOW_DEVICE:-}" ] && SLOW=30
IMGDIR=${LB_IMAGES:-/tests}

if [ ! -c "$D" ]; then
	echo "1..0 # SKIP $D missing (module not loaded)"
	exit 4
fi
rm -rf "$W"
mkdir -p "$W/arch"

# next_from_proc FIELD: "pulse" -> 0x..., "evt" -> decimal
proc_next() {
	case $1 in
	pulse) sed -n 's/^next pulse id *: *\(0x[0-9a-f]*\).*/\1/p' $PROC ;;
	evt) sed -n 's/^next evt counter *: *\([0-9]*\).*/\1/p' $PROC ;;
	esac
}

# wait_for FILE PATTERN SECONDS
wait_for() {
	_i=0
	while [ $_i -lt $(($3 * 10)) ]; do
		grep -q "$2" "$1" 2>/dev/null && return 0
		sleep 0.1
		_i=$((_i + 1))
	done
	return 1
}

# npy_shape FILE -> "H W" from the .npy header ("'shape': (H, W)")
npy_shape() {
	head -c 128 "$1" | tr -d '\000' | sed -n "s/.*'shape': *(\([0-9]*\), *\([0-9]*\)).*/\1 \2/p"
}

# phase NAME GLOB
phase() {
	name=$1
	files=$(ls "$IMGDIR"/$2 2>/dev/null)
	nf=$(echo "$files" | grep -c .)
	first=$(echo "$files" | head -n 1)
	if [ -z "$files" ]; then
		tap_fail "phase $name: no images $IMGDIR/$2"
		return
	fi
	set -- $(npy_shape "$first")
	h=$1 w=$2
	bytes=$((w * h * 2 + 32))
	psize=$(((bytes + 4095) / 4096 * 4096))
	mkdir -p "$W/arch/$name"
	cat >"$W/$name.conf" <<EOC
device = "$D";
output_dir = "$W/arch/$name";
image_width = $w;
image_height = $h;
image_dtype = "uint16";
pebbleBufCount = 8;
pebbleBufSize = $psize;
proc_hz = 0;
arch_hz = 0;
metrics_port = 0;
EOC
	diag "phase $name: $nf images of ${w}x${h} uint16, frames of $bytes bytes, pebbles of $psize"
	"$P" -c "$W/$name.conf" >"$W/$name.out" 2>"$W/$name.err" &
	pid=$!
	sleep 1
	if ! kill -0 "$pid" 2>/dev/null; then
		tap_fail "phase $name: pebbled runs"
		sed 's/^/# /' "$W/$name.err" | tail -n 15
		return
	fi
	for t in Configure BeginRun Enable; do
		"$C" -d "$D" inject "$t" >>"$W/$name.ctl" 2>&1 || diag "inject $t failed"
	done
	"$C" -d "$D" engine start --loopback >>"$W/$name.ctl" 2>&1
	# the three injected transitions are out when nothing is queued
	_i=0
	while [ $_i -lt $((50 * SLOW)) ] && ! grep -q '^inject queued *: 0' "$PROC"; do
		sleep 0.1
		_i=$((_i + 1))
	done
	pulse=$(proc_next pulse)
	evt=$(proc_next evt)
	diag "phase $name: continuing at pulse ID $pulse, event counter $evt"
	"$C" -d "$D" send --timing --pulse-id "$pulse" --evt-counter "$evt" $files >"$W/$name.send" 2>&1
	rc=$?
	[ "$rc" = 0 ] && [ "$(grep -c '^sent .*(L1Accept, pulse ID' "$W/$name.send")" = "$nf" ]
	tap_check "phase $name: pgpctl send --timing sent $nf frames of $bytes bytes (exit $rc)" [ $? = 0 ]
	sed 's/^/# /' "$W/$name.send" | tail -n 3
	for t in Disable EndRun; do
		set -- $(sed -n 's/^next pulse ID \(0x[0-9a-f]*\) event counter \([0-9]*\)$/\1 \2/p' "$W/$name.send" | tail -n 1)
		"$C" -d "$D" send --timing --transition "$t" --pulse-id "$1" --evt-counter "$2" >>"$W/$name.send" 2>&1 ||
			diag "send $t failed"
	done
	wait_for "$W/$name.err" 'run 1 ends (EndRun' $((20 * SLOW))
	tap_check "phase $name: EndRun closed run 1" [ $? = 0 ]
	kill -TERM "$pid"
	wait "$pid"
	rc=$?
	tap_check "phase $name: pebbled exits 0 on SIGTERM (exit $rc)" [ "$rc" = 0 ]
	[ "$rc" = 0 ] || sed 's/^/# /' "$W/$name.err" | tail -n 15
	"$C" -d "$D" engine stop >>"$W/$name.ctl" 2>&1
	"$P" --verify "$W/arch/$name" >"$W/$name.verify" 2>&1
	tap_check "phase $name: pebbled --verify: archive intact" [ $? = 0 ]
	sed 's/^/# /' "$W/$name.verify"
	v=$(head -n 1 "$W/$name.verify")
	echo "$v" | grep -q " l1accept=$nf transitions=5 damaged=0 out_of_order=0 index_entries=$((nf + 5)) tmp_files=0"
	tap_check "phase $name: $nf L1Accepts + 5 transitions, no damage bits, full index" [ $? = 0 ]
	grep -q 'damage\|gap\|jump' "$W/$name.err" && sed 's/^/# /' "$W/$name.err" | grep -i 'damage\|gap\|jump'
}

phase small 'lb_small_*.npy'
phase big 'lb_big_*.npy'
"$C" -d "$D" --json stats >"$W/stats.json" 2>&1
grep -q '"rx_errors": 0' "$W/stats.json"
tap_check "driver: no RX errors" [ $? = 0 ]
ls -lR "$W/arch" | sed 's/^/# /'
tap_done
