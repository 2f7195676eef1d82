#!/bin/bash
# scripts/tap-summary counts what the suites report and never lets a crash,
# a silent program or a skip-only run pass as something else.
set -u
top=$(cd "$(dirname "$0")/../.." && pwd)
sum=$top/scripts/tap-summary
work=$(mktemp -d "${TMPDIR:-/tmp}/tap-t.XXXXXX")
trap 'rm -rf "$work"' EXIT
n=0
fails=0

case_() {	# case_ DESC WANT_LINE WANT_RC FILE:CONTENT:RC...
	local desc=$1 want=$2 wrc=$3 spec name body rc files=()
	shift 3
	rm -f "$work"/*
	for spec in "$@"; do
		IFS='|' read -r name body rc <<<"$spec"
		printf '%b' "$body" > "$work/$name.tap"
		[ -n "$rc" ] && echo "$rc" > "$work/$name.rc"
		files+=("$work/$name.tap")
	done
	local got grc
	got=$("$sum" "${files[@]}" 2>/dev/null | tail -n 1)
	grc=$?
	"$sum" "${files[@]}" >/dev/null 2>&1
	grc=$?
	n=$((n + 1))
	if [ "$got" = "$want" ] && [ "$grc" = "$wrc" ]; then
		echo "ok $n - $desc"
	else
		echo "not ok $n - $desc: got '$got' (exit $grc), wanted '$want' (exit $wrc)"
		fails=$((fails + 1))
	fi
}

echo "TAP version 13"
echo "1..9"
case_ "passes, failures and skips are counted" "2 passed, 1 failed, 1 skipped" 1 \
	'a|1..4\nok 1 - x\nok 2 - y\nnot ok 3 - z\nok 4 - w # SKIP no dev\n|1'
case_ "all passing exits 0" "3 passed, 0 failed, 0 skipped" 0 \
	'a|ok 1\nok 2\n|0' 'b|ok 1 - z\n|0'
case_ "a crash after passing cases is a failure" "1 passed, 1 failed, 0 skipped" 1 \
	'a|ok 1\n|139'
case_ "a program that reports nothing is a failure" "0 passed, 1 failed, 0 skipped" 1 \
	'a||0'
case_ "kselftest skip status (4) with no cases is a skip" "0 passed, 0 failed, 1 skipped" 0 \
	'a|# no device\n|4'
case_ "indented subtest lines are not counted twice" "1 passed, 0 failed, 0 skipped" 0 \
	'a|    ok 1 - sub\nok 1 - top\n|0'
case_ "TODO failures are not failures" "1 passed, 0 failed, 1 skipped" 0 \
	'a|ok 1\nnot ok 2 - later # TODO\n|0'
case_ "results short of the plan are a failure" "2 passed, 1 failed, 0 skipped" 1 \
	'a|1..3\nok 1\nok 2\n|0'
case_ "a skip-all plan (1..0) is not short" "0 passed, 0 failed, 1 skipped" 0 \
	'a|1..0 # SKIP no device\n|4'
[ "$fails" = 0 ]
