#!/bin/bash
# The README's first command (make demo): on a new machine, install what is
# needed, build, load pgpdma.ko with explicit cfgRxCount/cfgSize, run pebbled
# on the emulated detector for a few seconds (Configure/BeginRun/Enable ...
# Disable/EndRun), show its live progress and final metrics, then decode a
# few archived frames and write them as PNGs into build/demo/png/.
#
# Where the driver runs: this host when it can load modules (and we are
# root), else Debian's kernel in a QEMU VM (scripts/vm-run).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
top=$(dirname "$here")
cd "$top"
kver=${KVER:-$(scripts/kernels.sh default)}
params="cfgRxCount=${DEMO_RX_COUNT:-256} cfgSize=${DEMO_SIZE:-65536} cfgTxCount=16"
out=$top/build/demo
rm -rf "$out"
mkdir -p "$out"

host_can_load() {
	[ "$(id -u)" = 0 ] && [ -e /proc/modules ] && [ "$kver" = "$(uname -r)" ] &&
		! lsmod | grep -q '^pgpdma '
}

if host_can_load; then
	echo "demo: this host can load modules: insmod pgpdma.ko $params"
	insmod "build/mod/$kver/pgpdma.ko" $params
	trap 'rmmod pgpdma 2>/dev/null || true' EXIT
	PATH=$top/build:$PATH scripts/demo-acquire.sh "$out/acquire" | tee "$out/acquire.tap"
	archive=$out/acquire/archive
else
	echo "demo: booting $kver under QEMU (software emulation), insmod pgpdma.ko $params"
	scripts/vm-run --quiet --kver "$kver" --mem 1024 --timeout 240 --params "$params" \
		--fetch /tmp/demo/archive --out "$out/vm" scripts/demo-acquire.sh &
	vm=$!
	# Follow the guest's output live (the result port is a file).
	while [ ! -e "$out/vm/serial.log" ] && kill -0 "$vm" 2>/dev/null; do sleep 0.2; done
	tail -n +1 -F "$out/vm/serial.log" --pid="$vm" 2>/dev/null |
		tr -d '\r' | awk '/^@@@BEGIN/ { on = 1; next } /^@@@END/ { on = 0 } on { print; fflush() }' &
	follower=$!
	rc=0
	wait "$vm" || rc=$?
	wait "$follower" 2>/dev/null || true
	if [ "$rc" != 0 ]; then
		echo "demo: the VM run failed; see $out/vm/ (console.log, dmesg.log)" >&2
		exit 1
	fi
	archive=$out/vm/fetch/archive
fi

run=$(ls -d "$archive"/run* | head -n 1)
echo "demo: decoding $run"
scripts/decode "$run" -o "$out/frames" -q || true
ls "$out/frames"/*.npy > /dev/null 2>&1 || { echo "demo: no frames decoded" >&2; exit 1; }
scripts/image "$out/frames" -o "$out/png" -q
echo "demo: $(ls "$out/png" | wc -l) PNG images of archived frames in $out/png/:"
ls "$out/png" | head -n 5 | sed 's/^/  /'
