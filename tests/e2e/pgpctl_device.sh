#!/bin/sh
# pgpctl against the driver (runs inside the QEMU guest, busybox sh, TAP on
# stdout). Needs /dev/pgpdma0 loaded with cfgRxCount=64,cfgTxCount=16,
# cfgSize=8192 (tests/vm/suites.conf: pgpctl) and pgpctl on PATH.
#
# Every subcommand: info, stats, stats --watch (killed after ~2 s), engine
# show/start/stop with options, inject of each run transition, send of a
# raw file, of a .npy made here with printf, and of a file larger than the
# TX pool (refused). --json outputs are checked with a strict JSON
# validator in awk (there is no python in the guest). Error cases: missing
# device, a foreign device, permission denied for an unprivileged user on a
# copy of the device node (mknod + chmod; su to nobody).
C=${PGPCTL:-pgpctl}
D=${PGPDMA_DEV:-/dev/pgpdma0}
W=/tmp/pgpctl-e2e
n=0
fails=0

ok() { n=$((n + 1)); echo "ok $n - $1"; }
nok() { n=$((n + 1)); echo "not ok $n - $1"; fails=$((fails + 1)); }
skip() { n=$((n + 1)); echo "ok $n - $1 # SKIP $2"; }
check() { if [ "$1" = 0 ]; then ok "$2"; else nok "$2"; [ -n "${3:-}" ] && [ -f "$3" ] && sed 's/^/# /' "$3" | head -n 12; fi; }
# run OUT CMD...: stdout+stderr to OUT, exit status in rc
run() { o=$1; shift; "$@" >"$o" 2>&1; rc=$?; }
jsonok() { awk -f "$W/jsonok.awk" "$@"; }
# value of a numeric JSON key in a file: jnum KEY FILE
jnum() { sed -n "s/.*\"$1\": *\([0-9][0-9]*\).*/\1/p" "$2" | head -n 1; }

echo "TAP version 13"
if [ ! -c "$D" ]; then
	echo "1..0 # SKIP $D missing (module not loaded)"
	exit 4
fi
echo "1..37"
rm -rf "$W"
mkdir -p "$W"
cat >"$W/jsonok.awk" <<'EOF'
function ws() { while (p <= n && index(" \t\n\r", substr(s, p, 1))) p++ }
function err(m) { if (!bad) printf "json: %s at offset %d\n", m, p > "/dev/stderr"; bad = 1; p = n + 2 }
function str(   c) {
	if (substr(s, p, 1) != "\"") { err("string expected"); return }
	p++
	while (p <= n) {
		c = substr(s, p, 1)
		if (c == "\"") { p++; return }
		if (c == "\\") {
			c = substr(s, p + 1, 1)
			if (c == "u") { if (substr(s, p + 2, 4) !~ /^[0-9a-fA-F][0-9a-fA-F][0-9a-fA-F][0-9a-fA-F]$/) { err("bad \\u"); return } p += 6; continue }
			if (!index("\"\\/bfnrt", c)) { err("bad escape"); return }
			p += 2; continue
		}
		if (c < " ") { err("control character in string"); return }
		p++
	}
	err("unterminated string")
}
function num(   t) {
	t = substr(s, p)
	if (match(t, /^-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][-+]?[0-9]+)?/)) { p += RLENGTH; return }
	err("bad number")
}
function val(   c) {
	ws(); c = substr(s, p, 1)
	if (c == "{") { p++; ws(); if (substr(s, p, 1) == "}") { p++; return }
		while (!bad) { ws(); str(); ws(); if (substr(s, p, 1) != ":") { err("':' expected"); return } p++; val(); ws()
			c = substr(s, p, 1); p++; if (c == "}") return; if (c != ",") { p--; err("',' or '}' expected"); return } }
		return }
	if (c == "[") { p++; ws(); if (substr(s, p, 1) == "]") { p++; return }
		while (!bad) { val(); ws(); c = substr(s, p, 1); p++; if (c == "]") return; if (c != ",") { p--; err("',' or ']' expected"); return } }
		return }
	if (c == "\"") { str(); return }
	if (substr(s, p, 4) == "true" || substr(s, p, 4) == "null") { p += 4; return }
	if (substr(s, p, 5) == "false") { p += 5; return }
	num()
}
function doc() { n = length(s); p = 1; val(); ws(); if (!bad && p <= n) err("trailing data"); if (n == 0) err("empty") }
lines { s = $0; bad = 0; doc(); if (bad) any = 1; cnt++; next }
{ all = all $0 "\n" }
END { if (!lines) { s = all; doc(); any = bad } else if (!cnt) any = 1; exit any }
EOF

# ---- the JSON checker itself ----
printf '{"a":[1,-2.5e3,true,null,"x\\"y"],"b":{}}' | jsonok 2>/dev/null && \
	! printf '{"a":1,}' | jsonok 2>/dev/null && ! printf '{"a" 1}' | jsonok 2>/dev/null && \
	! printf '[1 2]' | jsonok 2>/dev/null && ! printf '{"a":1}}' | jsonok 2>/dev/null
check $? "the awk JSON checker accepts JSON and rejects broken JSON"

# ---- info ----
run "$W/info.txt" "$C" -d "$D" info
[ "$rc" = 0 ] && grep -q "^device       $D" "$W/info.txt" && \
	grep -q '^rx           64 x 8192 bytes' "$W/info.txt" && grep -q '^tx           16 x 8192 bytes' "$W/info.txt" && \
	grep -q '^buffers      coherent' "$W/info.txt"
check $? "info: 64 RX and 16 TX buffers of 8192 bytes, coherent" "$W/info.txt"
run "$W/info.json" "$C" -d "$D" --json info
[ "$rc" = 0 ] && jsonok "$W/info.json" && [ "$(jnum rx_count "$W/info.json")" = 64 ] && \
	[ "$(jnum tx_count "$W/info.json")" = 16 ] && [ "$(jnum buf_size "$W/info.json")" = 8192 ] && \
	grep -q '"mode": "coherent"' "$W/info.json" && grep -q '"api_version": [1-9]' "$W/info.json"
check $? "info --json is valid JSON with rx_count 64, tx_count 16, buf_size 8192" "$W/info.json"

# ---- stats ----
run "$W/stats.txt" "$C" -d "$D" stats
[ "$rc" = 0 ] && grep -q '^rx   frames [0-9]' "$W/stats.txt" && grep -q '^state ' "$W/stats.txt"
check $? "stats prints the counters and buffer states" "$W/stats.txt"
run "$W/stats0.json" "$C" -d "$D" --json stats
[ "$rc" = 0 ] && jsonok "$W/stats0.json" && grep -q '"rx_frames": [0-9]' "$W/stats0.json" && \
	grep -q '"state": {' "$W/stats0.json" && grep -q '"state_hwm": {' "$W/stats0.json"
check $? "stats --json is valid JSON with rx_frames, state, state_hwm" "$W/stats0.json"
tr0=$(jnum transitions "$W/stats0.json")
tx0=$(jnum tx_frames "$W/stats0.json")

# ---- engine ----
run "$W/eng0.txt" "$C" -d "$D" engine stop
[ "$rc" = 0 ] && grep -q '^mode idle ' "$W/eng0.txt"
check $? "engine stop: mode idle" "$W/eng0.txt"
run "$W/eng1.txt" "$C" -d "$D" engine start --rate 200 --size 2048 --dest 3 --group 0x5 --count 100000
[ "$rc" = 0 ] && grep -q '^mode generator (running)  backpressure drop  payload hash  rate 200 Hz  frame 2048 bytes  dest 3  group 0x5  count 100000' "$W/eng1.txt"
check $? "engine start with --rate --size --dest --group --count echoes the settings" "$W/eng1.txt"

# stats --watch runs while the generator does
"$C" -d "$D" stats --watch 0.5 >"$W/watch.txt" 2>&1 &
wp=$!
"$C" -d "$D" --json stats --watch 0.5 >"$W/watch.json" 2>&1 &
jp=$!
sleep 2
kill -INT "$wp"
kill -TERM "$jp"
wait "$wp"
wrc=$?
wait "$jp"
jrc=$?
lines=$(grep -c ' fps ' "$W/watch.txt")
[ "$wrc" = 0 ] && [ "$lines" -ge 2 ] && [ "$lines" -le 5 ] && \
	grep -Eq '^rx +[0-9.]+ fps +[0-9.]+ MB/s \| frames [0-9]+ drops [0-9]+\+[0-9]+ deadtime' "$W/watch.txt"
check $? "stats --watch 0.5 prints a line per 0.5 s ($lines in ~2 s) and exits 0 on SIGINT" "$W/watch.txt"
# nobody claims dest 3: the generator's frames show up as unclaimed drops
awk '{ for (i = 1; i < NF; i++) if ($i == "drops") { split($(i + 1), d, "+"); v[NR] = d[2] } }
     END { exit !(NR >= 2 && v[NR] - v[1] >= 100) }' "$W/watch.txt"
check $? "stats --watch follows the generator (unclaimed drops grow by >= 100 in ~2 s)" "$W/watch.txt"
jl=$(wc -l <"$W/watch.json")
[ "$jrc" = 0 ] && [ "$jl" -ge 2 ] && jsonok -v lines=1 "$W/watch.json" && grep -q "\"rx_fps\":" "$W/watch.json"
check $? "stats --json --watch: one valid JSON object per line ($jl) with rx_fps, exit 0 on SIGTERM" "$W/watch.json"

run "$W/eng2.json" "$C" -d "$D" --json engine show
[ "$rc" = 0 ] && jsonok "$W/eng2.json" && grep -q '"mode": "generator"' "$W/eng2.json" && \
	grep -q '"running": true' "$W/eng2.json" && [ "$(jnum rate_hz "$W/eng2.json")" = 200 ] && \
	[ "$(jnum frame_size "$W/eng2.json")" = 2048 ] && [ "$(jnum dest "$W/eng2.json")" = 3 ] && \
	[ "$(jnum readout_group "$W/eng2.json")" = 5 ] && grep -q '"payload": "hash"' "$W/eng2.json"
check $? "engine show --json: valid, generator running at 200 Hz, 2048 B, dest 3, group 5, hash payload" "$W/eng2.json"
run "$W/stats1.json" "$C" -d "$D" --json stats
g1=$(jnum gen_frames "$W/stats1.json")
[ -n "$g1" ] && [ "$g1" -ge 200 ]
check $? "the generator produced frames (gen_frames ${g1:-none} >= 200 after ~2 s)" "$W/stats1.json"
run "$W/eng3.txt" "$C" -d "$D" engine stop
[ "$rc" = 0 ] && grep -q '^mode idle ' "$W/eng3.txt"
check $? "engine stop stops it" "$W/eng3.txt"
run "$W/eng8.txt" "$C" -d "$D" engine start --pattern --rate 100 --size 100000
[ "$rc" = 0 ] && grep -q '^mode generator (running)  backpressure drop  payload pattern  rate 100 Hz  frame 100000 bytes' "$W/eng8.txt"
check $? "engine start --pattern: the generator copies a template payload" "$W/eng8.txt"
run "$W/eng9.json" "$C" -d "$D" --json engine show
[ "$rc" = 0 ] && jsonok "$W/eng9.json" && grep -q '"payload": "pattern"' "$W/eng9.json"
check $? "engine show --json reports payload pattern" "$W/eng9.json"
run "$W/eng4.txt" "$C" -d "$D" engine start --loopback --lossless
[ "$rc" = 0 ] && grep -q '^mode loopback (running)  backpressure lossless' "$W/eng4.txt"
check $? "engine start --loopback --lossless" "$W/eng4.txt"
"$C" -d "$D" engine stop >/dev/null 2>&1
run "$W/eng5.txt" "$C" -d "$D" engine
[ "$rc" = 0 ] && grep -q '^mode idle ' "$W/eng5.txt"
check $? "engine (no subcommand) shows the settings" "$W/eng5.txt"
run "$W/eng6.txt" "$C" -d "$D" engine start --rate
[ "$rc" = 2 ]
check $? "engine start --rate without a value is a usage error (exit 2)" "$W/eng6.txt"
run "$W/eng7.txt" "$C" -d "$D" engine stop --rate 5
[ "$rc" = 2 ] && grep -q 'unexpected argument' "$W/eng7.txt"
check $? "engine stop with options is refused (exit 2)" "$W/eng7.txt"

# ---- inject ----
good=0
for t in Configure BeginRun Enable Disable EndRun; do
	run "$W/inj.txt" "$C" -d "$D" inject "$t"
	if [ "$rc" = 0 ] && grep -q "^injected $t to dest 0" "$W/inj.txt"; then
		ok "inject $t"
		good=$((good + 1))
	else
		nok "inject $t (exit $rc)"
		sed 's/^/# /' "$W/inj.txt"
	fi
done
run "$W/inj2.txt" "$C" -d "$D" inject Enable --dest 2
[ "$rc" = 0 ] && grep -q '^injected Enable to dest 2' "$W/inj2.txt"
check $? "inject Enable --dest 2" "$W/inj2.txt"
"$C" -d "$D" --json stats >"$W/stats2.json" 2>&1
tr1=$(jnum transitions "$W/stats2.json")
[ -n "$tr0" ] && [ -n "$tr1" ] && [ "$tr1" = $((tr0 + 6)) ]
check $? "the driver counted the 6 transitions (${tr0:-?} -> ${tr1:-?})" "$W/stats2.json"
run "$W/inj3.txt" "$C" -d "$D" inject Lunch
[ "$rc" = 2 ] && grep -q "unknown transition 'Lunch'" "$W/inj3.txt"
check $? "an unknown transition exits 2 and is named" "$W/inj3.txt"

# ---- send (the loopback engine consumes the TX queue) ----
run "$W/lb.txt" "$C" -d "$D" engine start --loopback
[ "$rc" = 0 ] || { echo "# engine start --loopback failed"; sed 's/^/# /' "$W/lb.txt"; }
i=0
while [ $i -lt 125 ]; do printf 'pgpdma12'; i=$((i + 1)); done >"$W/raw.bin"	# 1000 bytes
run "$W/send1.txt" "$C" -d "$D" send "$W/raw.bin"
[ "$rc" = 0 ] && grep -q "^sent $W/raw.bin: 1000 bytes to dest 0" "$W/send1.txt"
check $? "send a raw file (1000 bytes)" "$W/send1.txt"
# .npy v1.0: magic, version, header length 118 (10 + 118 = 128), dict padded with spaces + \n,
# then 4x4 little-endian uint16 = 32 bytes
{
	printf '\223NUMPY\001\000\166\000'
	h="{'descr': '<u2', 'fortran_order': False, 'shape': (4, 4), }"
	printf '%s' "$h"
	i=$(( ${#h} + 10 ))
	while [ $i -lt 127 ]; do printf ' '; i=$((i + 1)); done
	printf '\n'
	i=0
	while [ $i -lt 16 ]; do printf "\\$(printf %03o $i)\\000"; i=$((i + 1)); done
} >"$W/img.npy"
sz=$(wc -c <"$W/img.npy")
run "$W/send2.txt" "$C" -d "$D" send --dest 1 "$W/img.npy"
[ "$sz" = 160 ] && [ "$rc" = 0 ] && grep -q "^sent $W/img.npy: 32 bytes to dest 1" "$W/send2.txt"
check $? "send a 4x4 uint16 .npy made with printf: the 32 data bytes, not the 160-byte file" "$W/send2.txt"
dd if=/dev/zero of="$W/big.bin" bs=1024 count=200 2>/dev/null	# 204800 > 16 x 8192
run "$W/send3.txt" "$C" -d "$D" send "$W/big.bin"
[ "$rc" = 1 ] && grep -q "send $W/big.bin (204800 bytes): larger than the whole TX pool" "$W/send3.txt"
check $? "a file larger than the TX pool (200 KiB > 16 x 8 KiB) is refused, exit 1" "$W/send3.txt"
dd if=/dev/zero of="$W/mid.bin" bs=1024 count=100 2>/dev/null	# 102400: a multi-buffer frame
run "$W/send4.txt" "$C" -d "$D" send "$W/mid.bin" "$W/raw.bin"
[ "$rc" = 0 ] && grep -q "mid.bin: 102400 bytes" "$W/send4.txt" && grep -q "raw.bin: 1000 bytes" "$W/send4.txt"
check $? "send two files, one spanning 13 TX buffers" "$W/send4.txt"
sleep 1
"$C" -d "$D" --json stats >"$W/stats3.json" 2>&1
tx1=$(jnum tx_frames "$W/stats3.json")
[ -n "$tx0" ] && [ -n "$tx1" ] && [ "$tx1" = $((tx0 + 4)) ]
check $? "the driver counted 4 TX frames (${tx0:-?} -> ${tx1:-?}); the refused one is not among them" "$W/stats3.json"
run "$W/send5.txt" "$C" -d "$D" send "$W/nofile"
[ "$rc" = 1 ] && grep -q "$W/nofile: No such file or directory" "$W/send5.txt"
check $? "send of a missing file exits 1 and names it" "$W/send5.txt"

"$C" -d "$D" engine stop >/dev/null 2>&1

# ---- errors ----
run "$W/err1.txt" "$C" -d /dev/pgpdma9 info
[ "$rc" = 1 ] && grep -q '/dev/pgpdma9: no such device (is pgpdma.ko loaded?)' "$W/err1.txt"
check $? "a missing device exits 1: 'no such device (is pgpdma.ko loaded?)'" "$W/err1.txt"
run "$W/err2.txt" "$C" -d /dev/null stats
[ "$rc" = 1 ] && grep -q '/dev/null: not a pgpdma device' "$W/err2.txt"
check $? "another driver's device exits 1: 'not a pgpdma device'" "$W/err2.txt"

# permission: a copy of the node, used by an unprivileged user (root bypasses modes)
mm=$(stat -c '%t %T' "$D")
maj=$((0x${mm% *}))
min=$((0x${mm#* }))
grep -q '^nobody:' /etc/passwd 2>/dev/null || echo 'nobody:x:65534:65534:nobody:/:/bin/sh' >>/etc/passwd
grep -q '^nogroup:' /etc/group 2>/dev/null || echo 'nogroup:x:65534:' >>/etc/group
chmod 755 /tmp "$W" 2>/dev/null
mknod "$W/pgp-copy" c "$maj" "$min" && chmod 000 "$W/pgp-copy"
if ! su -s /bin/sh nobody -c 'id -u' 2>/dev/null | grep -q '^65534$'; then
	skip "chmod 000 copy: permission denied for an unprivileged user" "su to nobody does not work here"
	skip "chmod 444 copy: read-only commands work, engine start is denied" "su to nobody does not work here"
else
	su -s /bin/sh nobody -c "$C -d $W/pgp-copy info" >"$W/err3.txt" 2>&1
	rc=$?
	[ "$rc" = 1 ] && grep -q "$W/pgp-copy: permission denied (run as root or join the device's group)" "$W/err3.txt"
	check $? "chmod 000 copy of the node: exit 1, 'permission denied (run as root ...)'" "$W/err3.txt"
	chmod 444 "$W/pgp-copy"
	su -s /bin/sh nobody -c "$C -d $W/pgp-copy info" >"$W/err4.txt" 2>&1
	r1=$?
	su -s /bin/sh nobody -c "$C -d $W/pgp-copy engine start" >>"$W/err4.txt" 2>&1
	r2=$?
	[ "$r1" = 0 ] && [ "$r2" = 1 ] && grep -q 'permission denied' "$W/err4.txt"
	check $? "chmod 444 copy: info (O_RDONLY) works, engine start (O_RDWR) is denied" "$W/err4.txt"
fi
rm -f "$W/pgp-copy"
[ "$fails" = 0 ]
