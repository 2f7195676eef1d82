#!/bin/bash
# pgpctl without a device: usage errors exit 2, a missing or foreign
# device exits 1 with one line that says what is wrong. The commands
# against the driver itself run in the VM.
set -u
top=$(cd "$(dirname "$0")/../.." && pwd)
ctl=$top/build/pgpctl
n=0
fails=0

expect() {	# expect DESC RC PATTERN -- ARGS...
	local desc=$1 want=$2 pat=$3
	shift 4
	local out rc
	out=$("$ctl" "$@" 2>&1)
	rc=$?
	n=$((n + 1))
	if [ "$rc" = "$want" ] && grep -Eq -- "$pat" <<<"$out" && [ "$(wc -l <<<"$out")" -le 30 ]; then
		echo "ok $n - $desc"
	else
		echo "not ok $n - $desc (exit $rc, wanted $want and /$pat/)"
		sed 's/^/# /' <<<"$out" | head -n 5
		fails=$((fails + 1))
	fi
}

echo "TAP version 13"
echo "1..9"
expect "--help lists the commands" 0 "inject TRANSITION" -- --help
expect "no command is a usage error" 2 "usage: pgpctl" --
expect "an unknown command is named" 2 "unknown command 'frobnicate'" -- frobnicate
expect "a missing device says to load the driver" 1 "/nonexistent/pgpdma9: no such device \(is pgpdma.ko loaded\?\)" -- -d /nonexistent/pgpdma9 info
expect "a device of another driver is refused" 1 "/dev/null: not a pgpdma device" -- -d /dev/null stats
expect "an unknown transition is named" 2 "unknown transition 'Lunch'" -- -d /dev/null inject Lunch
expect "a bad number is named" 2 "'fast' is not a number" -- -d /dev/null engine start --rate fast
expect "an unknown engine subcommand is named" 2 "unknown subcommand 'go'" -- engine go
expect "send without files is a usage error" 2 "usage: send" -- send
[ "$fails" = 0 ]
