#!/bin/bash
# The VM test bench's own failure modes: each must end in one clear line
# and a non-zero exit, never a hang or a silent pass. Boots a few small VMs
# (no module), so it takes about half a minute.
set -u
top=$(cd "$(dirname "$0")/../.." && pwd)
vmrun=$top/scripts/vm-run
work=$(mktemp -d "${TMPDIR:-/tmp}/vm-run-t.XXXXXX")
trap 'rm -rf "$work"' EXIT
n=0
fails=0

expect() {	# expect DESC WANT_RC PATTERN -- CMD...: rc and a line of stderr
	local desc=$1 want=$2 pat=$3
	shift 4
	"$@" > "$work/out" 2> "$work/err" < /dev/null
	local rc=$?
	n=$((n + 1))
	if [ "$rc" = "$want" ] && grep -Eq "$pat" "$work/err" "$work/out"; then
		echo "ok $n - $desc"
	else
		echo "not ok $n - $desc (exit $rc, wanted $want and /$pat/)"
		sed 's/^/# /' "$work/err" | head -n 10
		fails=$((fails + 1))
	fi
}

script() {	# script NAME BODY: a guest test program
	printf '#!/bin/sh\n%s\n' "$2" > "$work/$1"
	chmod +x "$work/$1"
}

script pass.sh 'echo "1..1"; echo "ok 1 - guest runs $(uname -r)"'
script crash.sh 'echo "1..1"; kill -SEGV $$'
script fails.sh 'echo "1..1"; echo "not ok 1 - wanted"; exit 1'
script hang.sh 'sleep 1000'
script warn.sh 'echo "1..1"; echo "WARNING: CPU: 0 PID: 1 at fake" > /dev/kmsg; echo "ok 1"'
script pci.sh 'echo "1..1"; for d in /sys/bus/pci/devices/*; do [ "$(cat $d/vendor):$(cat $d/device)" = 0x1234:0x11e8 ] && { echo "ok 1 - edu at $d"; exit 0; }; done; echo "not ok 1 - no edu device"; exit 1'
script dmaapi.sh 'echo "1..1"; echo "DMA-API: pgpdma fake: device driver frees DMA memory with different size" > /dev/kmsg; echo "ok 1"'

echo "TAP version 13"
echo "1..11"
expect "a passing guest test passes" 0 "ok 1 - guest runs" -- \
	"$vmrun" --params - --out "$work/r1" "$work/pass.sh"
expect "a crashing test is reported with its signal" 1 "crash.sh crashed \(killed by signal 11\)" -- \
	"$vmrun" --params - --out "$work/r2" "$work/crash.sh"
expect "a failing test fails the run" 1 "fails.sh failed \(exit 1\)" -- \
	"$vmrun" --params - --out "$work/r3" "$work/fails.sh"
expect "a hung guest is killed at the timeout" 1 "did not finish within 20s" -- \
	"$vmrun" --params - --timeout 20 --test-timeout 200 --out "$work/r4" "$work/hang.sh"
expect "a WARNING in the guest kernel log fails the run" 1 "guest kernel reported a problem" -- \
	"$vmrun" --params - --out "$work/r5" "$work/warn.sh"
expect "a checker's report (DMA-API debug) fails the run and is printed" 1 "dmesg.log:[0-9]+:.*DMA-API: pgpdma fake: device driver frees" -- \
	"$vmrun" --params - --out "$work/r10" "$work/dmaapi.sh"
expect "--qemu passes arguments to QEMU (an edu PCI device appears)" 0 "ok 1 - edu at /sys/bus/pci/devices/" -- \
	"$vmrun" --params - --qemu "-device edu" --out "$work/r11" "$work/pci.sh"
expect "a kernel without headers is named with the fix" 1 "no headers for 0.0-none.*scripts/deps.sh" -- \
	"$vmrun" --kver 0.0-none "$work/pass.sh"
expect "QEMU failing to start is reported" 1 "qemu-system-x86_64 failed" -- \
	"$vmrun" --params - --mem 99999999 --out "$work/r7" "$work/pass.sh"
expect "a missing test program is named" 1 "test 'no-such-test' not found" -- \
	"$vmrun" --params - --out "$work/r8" no-such-test
expect "a missing module is named with the fix" 1 "no module .*run: make modules" -- \
	"$vmrun" --module /nonexistent/pgpdma.ko --params "cfgRxCount=4" --out "$work/r9" "$work/pass.sh"
[ "$fails" = 0 ]
