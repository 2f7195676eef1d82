#!/bin/bash
# The README's first command (make demo): boot Debian's kernel in a VM,
# load pgpdma.ko with explicit cfgRxCount/cfgSize, and show what the
# driver reports (parameters, /proc status, sysfs counters, kernel log).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
top=$(dirname "$here")
kver=${KVER:-$("$top/scripts/kernels.sh" default)}
rx=${DEMO_RX_COUNT:-128}
size=${DEMO_SIZE:-131072}
echo "demo: booting $kver under QEMU, insmod pgpdma.ko cfgRxCount=$rx cfgSize=$size"
exec "$top/scripts/vm-run" --kver "$kver" --mem 512 \
	--params "cfgRxCount=$rx cfgSize=$size" \
	--out "$top/build/demo" "$top/scripts/demo-guest.sh"
