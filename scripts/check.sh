#!/bin/bash
# The test command behind `make check`: every suite writes TAP (+ exit
# status) under build/results, and the last line is the count over all of
# them: "N passed, N failed, N skipped". Exit status non-zero on any failure.
#
#   static   checkpatch, sparse, uapi C90/C++, dkms  (scripts/static-check.sh)
#   host     tests of the test bench and tools themselves (tests/host/*.t)
#   unit     Check unit tests, plain and under ASan+UBSan
#   vm-KVER  driver selftests in a VM, one boot per line of tests/vm/suites.conf
#            (on the debug kernel only the [driver] suites)
#
# KERNELS: kernel versions to run the VM suites on ("all" = the whole
# matrix found by scripts/kernels.sh all, after building the debug kernel
# with scripts/debug-kernel.sh when it is not cached yet); default: KVER.
# KCSAN=1 adds the KCSAN debug kernel (scripts/debug-kernel.sh --kcsan).
set -u
here=$(cd "$(dirname "$0")" && pwd)
top=$(dirname "$here")
cd "$top"
kver=${KVER:-$(scripts/kernels.sh default)}
kernels=${KERNELS:-}
[ -n "$kernels" ] || kernels=$kver
res=build/results
rm -rf "$res"
mkdir -p "$res"

# run_tap NAME DIR CMD...: run a program, keep its TAP and exit status.
run_tap() {
	local name=$1 dir=$2
	shift 2
	mkdir -p "$dir"
	"$@" > "$dir/$name.tap" 2> "$dir/$name.err"
	echo $? > "$dir/$name.rc"
	report "$dir/$name"
}

report() {	# one progress line per program; failures with their output
	local base=$1 rc
	rc=$(cat "$base.rc")
	local p f
	p=$(grep -c '^ok ' "$base.tap")
	f=$(grep -c '^not ok ' "$base.tap")
	if [ "$rc" = 0 ] || [ "$rc" = 4 ]; then
		printf '  %-52s %3d ok\n' "${base#"$res"/}" "$p"
	else
		printf '  %-52s %3d ok, %d not ok, exit %s\n' "${base#"$res"/}" "$p" "$f" "$rc"
		grep '^not ok' "$base.tap" | head -n 20 | sed 's/^/      /'
		# the kselftest harness's reasons (file.c:line:test:...), so
		# that a CI log says why, not only what, failed
		grep -E '^# [^ :]+\.c:[0-9]+:' "$base.tap" | head -n 12 | cut -c 1-300 | sed 's/^/      /'
		[ -f "$base.err" ] && tail -n 20 "$base.err" | sed 's/^/      /'
	fi
}

echo "== static checks ($kver)"
run_tap static "$res/static" scripts/static-check.sh

echo "== host tests (test bench, tools)"
for t in tests/host/*.t; do
	run_tap "$(basename "$t" .t)" "$res/host" "$t"
done

echo "== unit tests"
for t in build/tests/unit/*; do
	[ -x "$t" ] || continue
	run_tap "$(basename "$t")" "$res/unit" "$t"
done
echo "== unit tests under ASan+UBSan"
for t in build/tests/unit-asan/*; do
	[ -x "$t" ] || continue
	ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
		run_tap "$(basename "$t")" "$res/unit-asan" "$t"
done

# The debug kernels (KASAN & co.; KCSAN with KCSAN=1): each built once per
# machine (about 8 min), then cached outside the clone. A failed build is
# one failure; the other kernels still run.
debug_kernel() {	# debug_kernel NAME [--kcsan]
	local name=$1 dir=$res/$1 start rc=0
	shift
	mkdir -p "$dir"
	start=$(date +%s)
	if scripts/debug-kernel.sh "$@" release > /dev/null 2>&1; then
		echo "ok 1 - $name $(scripts/debug-kernel.sh "$@" release) (cached: $(scripts/debug-kernel.sh "$@" dir))" > "$dir/build.tap"
	elif scripts/debug-kernel.sh "$@" build > /dev/null 2> "$dir/build.err"; then
		echo "ok 1 - $name $(scripts/debug-kernel.sh "$@" release) built in $(($(date +%s) - start)) s" > "$dir/build.tap"
	else
		echo "not ok 1 - $name builds (scripts/debug-kernel.sh $*)" > "$dir/build.tap"
		rc=1
	fi
	echo "$rc" > "$dir/build.rc"
	report "$dir/build"
}
if [ "$kernels" = all ]; then
	echo "== debug kernel (scripts/debug-kernel.sh)"
	debug_kernel debug-kernel
	kernels=$(scripts/kernels.sh all)
fi
# KCSAN=1: the KCSAN flavour too (another 8 min build and 6 min of suites:
# not in CI, which would pass its 60 minutes)
if [ "${KCSAN:-0}" = 1 ]; then
	echo "== KCSAN debug kernel (scripts/debug-kernel.sh --kcsan)"
	debug_kernel kcsan-kernel --kcsan
	kernels="$kernels $(scripts/kernels.sh kcsan 2>/dev/null)"
fi

for k in $kernels; do
	echo "== driver selftests in a VM ($k)"
	if ! scripts/kernels.sh check "$k" 2> "$res/kernel-$k.err"; then
		cat "$res/kernel-$k.err"
		mkdir -p "$res/vm-$k"
		echo "not ok 1 - kernel $k available: $(cat "$res/kernel-$k.err")" > "$res/vm-$k/setup.tap"
		continue
	fi
	if ! make --no-print-directory -s modules KVER="$k" > "$res/build-$k.log" 2>&1; then
		tail -n 30 "$res/build-$k.log"
		mkdir -p "$res/vm-$k"
		echo "not ok 1 - pgpdma.ko builds against $k" > "$res/vm-$k/setup.tap"
		continue
	fi
	for suite in $(scripts/vm-run --kver "$k" --list-suites); do
		dir=$res/vm-$k/$suite
		mkdir -p "$dir"
		scripts/vm-run --quiet --kver "$k" --suite "$suite" --out "$dir" 2> "$dir.err" < /dev/null
		rc=$?
		for tap in "$dir"/*.tap; do
			[ -f "$tap" ] && report "${tap%.tap}"
		done
		[ "$rc" = 0 ] && continue
		sed 's/^/      /' "$dir.err" | head -n 40
		# A VM that failed without any test saying so (no boot, hang,
		# a test that never ran) still counts as one failure.
		if scripts/tap-summary "$dir"/*.tap > /dev/null 2>&1; then
			echo "not ok 1 - suite $suite on $k: $(head -n 1 "$dir.err")" > "$dir/vm-run.tap"
		fi
	done
done

echo "== summary"
mapfile -t taps < <(find "$res" -name '*.tap' | sort)
scripts/tap-summary "${taps[@]}"
