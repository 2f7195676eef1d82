#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# pgpdma module parameter validation (busybox sh, TAP on stdout).
#  - valid cfgRxCount/cfgTxCount/cfgSize/cfgMode combinations load, show up
#    in /sys/module/pgpdma/parameters and in GET_INFO (pgpdma_params helper,
#    a kselftest binary listed before this script in the same suite);
#  - bad values fail insmod with exactly one kernel log line naming the
#    parameter, and leave no module and no /dev/pgpdma0;
#  - the largest pool under the limit (cfgPoolMaxPct, default 50 % of RAM)
#    loads, maps and unloads giving its memory back; just over it is refused.
# Run with the module NOT loaded (suite params '-').
. "${VM_HELPERS:-/tests/lib/vm-helpers.sh}"

HELPER=$(find_helper pgpdma_params) || HELPER=""
[ -n "$HELPER" ] || diag "pgpdma_params helper not found: GET_INFO checks skipped"
unload_quiet || { echo "not ok 1 - pgpdma could not be unloaded first"; echo "1..1"; exit 1; }
[ -r "$KO" ] || { echo "1..0 # SKIP no module at $KO"; exit 4; }

# valid_load DESC PARAM...
valid_load() {
	_desc=$1
	shift
	mark_dmesg
	if ! _out=$(insmod "$KO" "$@" 2>&1); then
		tap_fail "$_desc: insmod $* ($_out)"
		new_dmesg | sed 's/^/#   /'
		return
	fi
	tap_check "$_desc: /dev/pgpdma0 appears" wait_dev present
	_bad=""
	for _p in "$@"; do
		_k=${_p%%=*}
		_v=${_p#*=}
		_got=$(cat "$PARAMS/$_k" 2>/dev/null)
		[ "$_got" = "$_v" ] || _bad="$_bad $_k=$_got(want $_v)"
	done
	if [ -z "$_bad" ]; then tap_ok "$_desc: sysfs parameters match"
	else tap_fail "$_desc: sysfs parameters:$_bad"; fi
	for _k in cfgRxCount cfgTxCount cfgSize cfgMode; do
		[ -r "$PARAMS/$_k" ] || _bad="$_bad missing:$_k"
	done
	[ -z "$_bad" ] || diag "parameters: $_bad"
	if [ -n "$HELPER" ]; then
		if _o=$("$HELPER" 2>&1); then
			tap_ok "$_desc: GET_INFO/mmap/loopback consistent (pgpdma_params)"
		else
			tap_fail "$_desc: pgpdma_params failed"
			echo "$_o" | sed 's/^/#   /'
		fi
	fi
	[ -r /proc/pgpdma0 ] && diag "$(head -n 3 /proc/pgpdma0 | tr '\n' ' ')"
	if rmmod pgpdma 2>/dev/null && ! loaded; then tap_ok "$_desc: rmmod"
	else tap_fail "$_desc: rmmod"; fi
	tap_check "$_desc: /dev/pgpdma0 gone" wait_dev absent
}

# bad_load DESC REGEX PARAM...: insmod must fail with one log line matching REGEX
bad_load() {
	_desc=$1
	_re=$2
	shift 2
	mark_dmesg
	if insmod "$KO" "$@" 2>/dev/null; then
		tap_fail "$_desc: insmod $* succeeded"
		rmmod pgpdma 2>/dev/null
		return
	fi
	if loaded || [ -e "$DEV" ]; then
		tap_fail "$_desc: module or $DEV left behind"
		rmmod pgpdma 2>/dev/null
	else
		tap_ok "$_desc: insmod $* refused, nothing left"
	fi
	# busybox insmod tries finit_module() and then init_module(): one
	# failed insmod is two load attempts, each must log exactly one line
	# (the same one).
	_n=$(new_dmesg | grep -Ec "$_re")
	_u=$(new_dmesg | grep -E "$_re" | sed 's/^\[[^]]*\] *//' | sort -u | wc -l)
	_all=$(new_dmesg | grep 'pgpdma' | grep -vc 'taints kernel\|verification failed')
	if [ "$_u" = 1 ] && [ "$_n" -ge 1 ] && [ "$_n" -le 2 ] && [ "$_all" = "$_n" ]; then
		tap_ok "$_desc: one log line names it: $(new_dmesg | grep -E "$_re" | head -n 1 | sed 's/^\[[^]]*\] *//')"
	else
		tap_fail "$_desc: $_n lines ($_u distinct) match /$_re/, $_all pgpdma lines (want one line per load attempt)"
		new_dmesg | sed 's/^/#   /'
	fi
}

valid_load "small pool" cfgRxCount=8 cfgTxCount=4 cfgSize=4096
valid_load "64 x 64 KiB coherent" cfgRxCount=64 cfgTxCount=16 cfgSize=65536 cfgMode=coherent
valid_load "32 x 5000 B streaming" cfgRxCount=32 cfgTxCount=8 cfgSize=5000 cfgMode=streaming
valid_load "1 RX 1 TX buffer" cfgRxCount=1 cfgTxCount=1 cfgSize=8192
valid_load "1 MiB buffers" cfgRxCount=4 cfgTxCount=2 cfgSize=1048576 cfgMode=streaming

valid_load "generator running from load" cfgRxCount=16 cfgTxCount=4 cfgSize=4096 cfgGenMode=1 cfgGenRate=200 cfgGenSize=256

# two devices: both nodes, each its own pool and instance number
mark_dmesg
if insmod "$KO" cfgDevCount=2 cfgRxCount=16 cfgTxCount=4 cfgSize=4096 2>/dev/null; then
	tap_check "cfgDevCount=2: /dev/pgpdma0 and /dev/pgpdma1" sh -c "sleep 0.3; test -c /dev/pgpdma0 && test -c /dev/pgpdma1"
	if [ -n "$HELPER" ]; then
		if _o=$(PGPDMA_DEV=/dev/pgpdma1 "$HELPER" 2>&1); then tap_ok "cfgDevCount=2: pgpdma_params on /dev/pgpdma1"
		else tap_fail "cfgDevCount=2: pgpdma_params on /dev/pgpdma1"; echo "$_o" | sed 's/^/#   /'; fi
	fi
	tap_check "cfgDevCount=2: rmmod" rmmod pgpdma
	tap_check "cfgDevCount=2: both nodes gone" sh -c "sleep 0.3; test ! -e /dev/pgpdma0 && test ! -e /dev/pgpdma1"
else
	tap_fail "cfgDevCount=2 refused"
	new_dmesg | sed 's/^/#   /'
fi

bad_load "cfgRxCount=0" cfgRxCount cfgRxCount=0
bad_load "cfgSize=0" cfgSize cfgSize=0
bad_load "cfgSize=3" cfgSize cfgSize=3
bad_load "cfgMode=foo" cfgMode cfgMode=foo
bad_load "cfgDevCount=0" cfgDevCount cfgDevCount=0
bad_load "cfgDevCount=9" cfgDevCount cfgDevCount=9
bad_load "cfgGenMode=3" cfgGenMode cfgGenMode=3
bad_load "cfgGenSize=16" cfgGenSize cfgGenSize=16
bad_load "cfgGenSize over the pool" cfgGenSize cfgRxCount=4 cfgSize=4096 cfgGenSize=65536
bad_load "pool 100000 x 1 MiB" 'cfgRxCount|cfgSize|cfgPoolMaxPct' cfgRxCount=100000 cfgSize=1048576

# Largest pool the VM allows: limit = cfgPoolMaxPct (default 50) % of RAM.
pct=50
memtotal=$(meminfo MemTotal)
bufsz=65536
txn=16
limit_kb=$((memtotal * pct / 100))
rxmax=$((limit_kb / (bufsz / 1024) - txn))
rxok=$((rxmax * 90 / 100))
diag "MemTotal ${memtotal} kB, limit ${limit_kb} kB: loading ${rxok} x ${bufsz} (+${txn} TX)"
free0=$(meminfo MemFree)
mark_dmesg
if insmod "$KO" cfgRxCount=$rxok cfgTxCount=$txn cfgSize=$bufsz 2>/dev/null; then
	tap_ok "largest pool: ${rxok} x 64 KiB loads (90 % of the limit)"
	free1=$(meminfo MemFree)
	used=$((free0 - free1))
	want=$(((rxok + txn) * bufsz / 1024))
	if [ "$used" -ge $((want * 95 / 100)) ]; then
		tap_ok "largest pool: MemFree dropped by ${used} kB (pool ${want} kB): all allocated"
	else
		tap_fail "largest pool: MemFree dropped by only ${used} kB for a ${want} kB pool"
	fi
	if [ -n "$HELPER" ]; then
		if _o=$("$HELPER" 2>&1); then tap_ok "largest pool: pgpdma_params"
		else tap_fail "largest pool: pgpdma_params"; echo "$_o" | sed 's/^/#   /'; fi
	fi
	tap_check "largest pool: rmmod" rmmod pgpdma
	free2=$(meminfo MemFree)
	drift=$((free0 - free2))
	if [ "$drift" -lt 2048 ]; then tap_ok "largest pool: memory back after rmmod (drift ${drift} kB)"
	else tap_fail "largest pool: ${drift} kB not given back after rmmod"; fi
else
	tap_fail "largest pool: ${rxok} x 64 KiB refused"
	new_dmesg | sed 's/^/#   /'
fi
rxover=$((rxmax + 64))
bad_load "just over the limit (${rxover} x 64 KiB)" 'cfgRxCount|cfgSize|cfgPoolMaxPct' \
	cfgRxCount=$rxover cfgTxCount=$txn cfgSize=$bufsz

# cfgPoolMaxPct itself, when the driver has it
mark_dmesg
if insmod "$KO" cfgRxCount=8 cfgSize=4096 2>/dev/null; then
	has_pct=0
	[ -r "$PARAMS/cfgPoolMaxPct" ] && has_pct=1 && diag "cfgPoolMaxPct default $(cat $PARAMS/cfgPoolMaxPct)"
	rmmod pgpdma
	if [ "$has_pct" = 1 ]; then
		bad_load "cfgPoolMaxPct=1 with an 8 MiB pool" 'cfgRxCount|cfgSize|cfgPoolMaxPct' \
			cfgPoolMaxPct=1 cfgRxCount=128 cfgTxCount=4 cfgSize=65536
	else
		tap_skip "no cfgPoolMaxPct parameter"
	fi
fi

tap_check "no module left loaded" sh -c '! lsmod | grep -q "^pgpdma[[:space:]]"'
tap_done
