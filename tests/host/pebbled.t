#!/bin/bash
# pebbled on the host, on the .npy replay source (no driver needed): its
# configuration errors, the preflight refusal, an unusable output
# directory, the Prometheus endpoint, SIGHUP reload, and SIGTERM draining
# with every taken event archived and verifiable.
set -u
top=$(cd "$(dirname "$0")/../.." && pwd)
P=$top/build/pebbled
py=/usr/bin/python3
w=$(mktemp -d "${TMPDIR:-/tmp}/pebbled-t.XXXXXX")
trap 'pkill -KILL -f "$w/" 2>/dev/null; rm -rf "$w"' EXIT
n=0
fails=0
check() { n=$((n + 1)); if [ "$1" = 0 ]; then echo "ok $n - $2"; else echo "not ok $n - $2"; fails=$((fails + 1)); fi; }
port=$((20000 + RANDOM % 20000))

echo "TAP version 13"
echo "1..10"
mkdir -p "$w/npy"
"$py" -c "
import numpy as np
for i in range(4):
    np.save('$w/npy/img%d.npy' % i, (np.arange(300 * 300, dtype=np.uint16).reshape(300, 300) + i))
"

"$P" --help | grep -q '^exit status'
check $? "--help documents the exit status"

printf 'proc_hz = 10;\nbogus_key = 3;\n' > "$w/bad.conf"
out=$("$P" -c "$w/bad.conf" --npy "$w/npy" 2>&1); rc=$?
[ "$rc" = 2 ] && grep -q "bad.conf:2: unknown key 'bogus_key'" <<<"$out"
check $? "an unknown config key: exit 2 with file:line ($rc)"

printf 'proc_hz = "fast";\n' > "$w/type.conf"
out=$("$P" -c "$w/type.conf" --npy "$w/npy" 2>&1); rc=$?
[ "$rc" = 2 ] && grep -q "type.conf:1:" <<<"$out"
check $? "a wrongly typed value: exit 2 with file:line ($rc)"

printf 'pebbleBufCount = 1048576;\npebbleBufSize = 1073741824;\n' > "$w/big.conf"
out=$("$P" -c "$w/big.conf" --npy "$w/npy" --output "$w/big" 2>&1); rc=$?
[ "$rc" = 1 ] && grep -q '\[FAIL\] pebbleBufCount x pebbleBufSize fits: 1048576 x 1 GiB' <<<"$out" &&
	[ ! -e "$w/big" ]
check $? "a plan that does not fit is refused before anything is created ($rc)"

touch "$w/afile"
out=$("$P" --npy "$w/npy" --output "$w/afile/sub" 2>&1); rc=$?
[ "$rc" != 0 ] && grep -q 'afile/sub: Not a directory' <<<"$out"
check $? "an unusable output directory is named ($rc)"

printf 'proc_hz = 0;\narch_hz = 0;\n' > "$w/run.conf"
"$P" -c "$w/run.conf" --npy "$w/npy" --loop --rate 100 --output "$w/out" \
	--metrics-port "$port" > "$w/stdout" 2> "$w/stderr" &
pid=$!
sleep 2
metrics=$("$py" -c "import urllib.request,sys; print(urllib.request.urlopen('http://127.0.0.1:$port/metrics', timeout=5).read().decode())" 2>&1)
grep -q '^# TYPE pebbled_dma_frames_total counter' <<<"$metrics" &&
	grep -Eq '^pebbled_dma_frames_total [1-9][0-9]*' <<<"$metrics" &&
	grep -q '^drp_pebble_in_use ' <<<"$metrics"
check $? "Prometheus endpoint on 127.0.0.1:$port serves live counters and gauges"

printf 'proc_hz = 5;\narch_hz = 0;\n' > "$w/run.conf"
kill -HUP "$pid"
sleep 1
grep -qi 'reload' "$w/stderr" && grep -q 'proc_hz' "$w/stderr"
check $? "SIGHUP reloads the pacing and says so"
kill -0 "$pid"
check $? "still running after SIGHUP"

kill -TERM "$pid"
wait "$pid"
rc=$?
taken=$(sed -n 's/.*EVENTS: taken=\([0-9]*\).*/\1/p' "$w/stdout")
archived=$(sed -n 's/^ARCH: *frames=\([0-9]*\).*/\1/p' "$w/stdout")
[ "$rc" = 0 ] && [ -n "$taken" ] && [ "$taken" -gt 0 ] && [ "$taken" = "$archived" ]
check $? "SIGTERM drains: exit $rc, every taken event archived ($taken taken, $archived archived)"
"$P" --verify "$w/out" > "$w/verify" 2>&1
check $? "the archive of the stopped run verifies"
[ "$fails" = 0 ]
