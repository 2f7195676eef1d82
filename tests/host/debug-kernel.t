#!/bin/bash
# The debug-kernel lane without building a kernel: the cache key
# (scripts/debug-kernel.sh key) follows the fragment; the fragment check
# names a dropped option; a (fake) cache entry makes kernels.sh report the
# debug kernel in the matrix with its KDIR and image, the Makefile build
# against it and vm-run pick only the [driver] suites for it; an
# interrupted build (a temporary directory) is no kernel. When the real
# debug kernel is built, its .config satisfies the fragment.
set -u
top=$(cd "$(dirname "$0")/../.." && pwd)
dk=$top/scripts/debug-kernel.sh
ks=$top/scripts/kernels.sh
frag=$top/scripts/debug-kernel.config
W=$(mktemp -d "${TMPDIR:-/tmp}/debug-kernel-t.XXXXXX")
trap 'rm -rf "$W"' EXIT
n=0
fails=0

ok() { n=$((n + 1)); echo "ok $n - $1"; }
nok() { n=$((n + 1)); echo "not ok $n - $1"; fails=$((fails + 1)); [ -f "$W/out" ] && sed 's/^/# /' "$W/out" | head -n 15; }
check() { if [ "$1" = 0 ]; then ok "$2"; else nok "$2"; fi; }

echo "TAP version 13"
real_key=$(PGPDMA_CACHE=/nonexistent "$dk" key 2>/dev/null || true)
if [ -z "$real_key" ]; then
	echo "1..0 # SKIP linux-source-6.1 is not installed (scripts/deps.sh)"
	exit 0
fi
echo "1..24"
srcver=$(dpkg-query -W -f='${Version}' linux-source-6.1)

real=${PGPDMA_CACHE:-/var/cache/pgpdma}/debug-kernel/$real_key
export PGPDMA_CACHE=$W/cache
k1=$("$dk" key)
k2=$("$dk" key)
[ "$k1" = "$k2" ] && [ "${k1%-*}" = "$srcver" ]
check $? "the cache key is stable and starts with the linux-source-6.1 version ($k1)"

cp "$frag" "$W/frag"
echo "CONFIG_DEBUG_PAGEALLOC=y" >> "$W/frag"
k3=$(PGPDMA_DEBUG_CONFIG=$W/frag "$dk" key)
[ -n "$k3" ] && [ "$k3" != "$k1" ]
check $? "a changed fragment gives another cache key ($k3)"

[ "$("$dk" dir)" = "$PGPDMA_CACHE/debug-kernel/$k1" ]
check $? "the cache entry is PGPDMA_CACHE/debug-kernel/KEY, outside the clone"

# The KCSAN flavour: the same fragment with its checkers section replaced.
kk=$("$dk" --kcsan key)
[ -n "$kk" ] && [ "$kk" != "$k1" ] && [ "${kk%-*}" = "$srcver" ] &&
	[ "$("$dk" --kcsan dir)" = "$PGPDMA_CACHE/kcsan-kernel/$kk" ]
check $? "the --kcsan flavour has its own key and cache entry ($kk)"
"$dk" --kcsan verify /dev/null > "$W/out" 2>&1
grep -q 'CONFIG_KCSAN: wanted' "$W/out" && grep -q 'CONFIG_LOCALVERSION: wanted .*-pgpdma-kcsan' "$W/out" &&
	grep -q 'CONFIG_SERIAL_8250_CONSOLE: wanted' "$W/out" && ! grep -q 'CONFIG_KASAN' "$W/out" &&
	! grep -q 'CONFIG_PROVE_LOCKING' "$W/out"
check $? "its fragment: the boot options and KCSAN, no KASAN or lockdep, version -pgpdma-kcsan"
"$ks" check 6.1.999-pgpdma-kcsan > "$W/out" 2>&1
rc=$?
[ "$rc" = 1 ] && grep -q 'debug kernel 6.1.999-pgpdma-kcsan is not built.*debug-kernel.sh --kcsan' "$W/out" &&
	"$ks" is-debug 6.1.999-pgpdma-kcsan
check $? "kernels.sh: a KCSAN kernel is a debug kernel; unbuilt, the fix is named"

# Every checker the lane promises is asked for by the fragment.
missing=""
for o in DEBUG_KERNEL KASAN KASAN_GENERIC PROVE_LOCKING DEBUG_ATOMIC_SLEEP DMA_API_DEBUG \
	UBSAN UBSAN_BOUNDS UBSAN_SANITIZE_ALL DEBUG_LIST SLUB_DEBUG SLUB_DEBUG_ON KALLSYMS \
	DEBUG_INFO_NONE MODULES MODULE_UNLOAD PCI_MSI; do
	grep -qx "CONFIG_$o=y" "$frag" || missing="$missing $o"
done
grep -qx 'CONFIG_LOCALVERSION="-pgpdma-debug"' "$frag" || missing="$missing LOCALVERSION"
[ -z "$missing" ]
check $? "the fragment asks for every checker (missing:${missing:- none})"

# The fragment check: Kconfig drops options with unmet dependencies silently.
grep -E '^(CONFIG_|# CONFIG_.* is not set$)' "$frag" > "$W/good.config"
"$dk" verify "$W/good.config" > "$W/out" 2>&1
check $? "a .config holding every fragment line passes the check"
grep -v '^CONFIG_PROVE_LOCKING=y$' "$W/good.config" > "$W/bad.config"
"$dk" verify "$W/bad.config" > "$W/out" 2>&1
rc=$?
[ "$rc" = 1 ] && grep -q 'CONFIG_PROVE_LOCKING: wanted .y., got: not in .config' "$W/out"
check $? "a dropped option fails the check, named"
sed 's/^CONFIG_KASAN_INLINE=y$/# CONFIG_KASAN_INLINE is not set/; s/^# CONFIG_MODULE_SIG is not set$/CONFIG_MODULE_SIG=y/' \
	"$W/good.config" > "$W/bad2.config"
"$dk" verify "$W/bad2.config" > "$W/out" 2>&1
rc=$?
[ "$rc" = 1 ] && grep -q 'CONFIG_KASAN_INLINE: wanted .y., got: # CONFIG_KASAN_INLINE is not set' "$W/out" &&
	grep -q 'CONFIG_MODULE_SIG: wanted not set, got: CONFIG_MODULE_SIG=y' "$W/out"
check $? "an option off that should be on, and one on that should be off, are named"

# No cache entry yet.
"$ks" debug > "$W/out" 2>&1
rc=$?
[ "$rc" = 1 ] && grep -q 'not built.*scripts/debug-kernel.sh' "$W/out"
check $? "kernels.sh debug: not built, with the command that builds it"
! "$ks" all | grep -q pgpdma-debug
check $? "kernels.sh all: no debug kernel while none is built"
"$ks" check 6.1.999-pgpdma-debug > "$W/out" 2>&1
rc=$?
[ "$rc" = 1 ] && grep -q 'debug kernel 6.1.999-pgpdma-debug is not built' "$W/out"
check $? "kernels.sh check on an unbuilt debug kernel names the fix"

# An interrupted build leaves only a temporary directory: not a kernel.
entry=$PGPDMA_CACHE/debug-kernel/$k1
tmp=$PGPDMA_CACHE/debug-kernel/.build-$k1
mkdir -p "$tmp/linux"
echo 6.1.999-pgpdma-debug > "$tmp/release"
: > "$tmp/bzImage"
: > "$tmp/linux/Makefile"
! "$ks" all | grep -q pgpdma-debug
check $? "a half-built temporary directory is not listed as a kernel"
rm -rf "$tmp"

# A complete (fake) cache entry.
mkdir -p "$entry/linux"
echo 6.1.999-pgpdma-debug > "$entry/release"
: > "$entry/bzImage"
# shellcheck disable=SC2016 # $(M) is for make
printf 'modules:\n\t@echo fake-kdir $(M)\n' > "$entry/linux/Makefile"
[ "$("$ks" debug)" = 6.1.999-pgpdma-debug ]
check $? "kernels.sh debug reports the cached kernel's release"
[ "$("$ks" all | tail -n 1)" = 6.1.999-pgpdma-debug ] && [ "$("$ks" all | wc -l)" -ge 2 ]
check $? "kernels.sh all: the Debian kernels, then the debug kernel"
[ "$("$ks" kdir 6.1.999-pgpdma-debug)" = "$entry/linux" ] &&
	[ "$("$ks" image 6.1.999-pgpdma-debug)" = "$entry/bzImage" ]
check $? "kernels.sh kdir/image VER: the cache entry's build tree and bzImage"
[ "$("$ks" kdir 6.1.0-57-amd64)" = /lib/modules/6.1.0-57-amd64/build ] &&
	[ "$("$ks" image 6.1.0-57-amd64)" = /boot/vmlinuz-6.1.0-57-amd64 ]
check $? "kernels.sh kdir/image VER of a Debian kernel: /lib/modules/VER/build, /boot/vmlinuz-VER"
"$ks" check 6.1.999-pgpdma-debug > "$W/out" 2>&1 && "$ks" is-debug 6.1.999-pgpdma-debug &&
	! "$ks" is-debug 6.1.0-57-amd64
check $? "kernels.sh check/is-debug accept the cached debug kernel"

start=$(date +%s)
out=$("$dk" build 2> "$W/out")
[ "$out" = "$entry" ] && [ $(($(date +%s) - start)) -le 5 ] && [ ! -s "$W/out" ]
check $? "debug-kernel.sh build with a cache entry returns at once, building nothing"

make -s -n -C "$top" modules KVER=6.1.999-pgpdma-debug > "$W/out" 2>&1
grep -q "make.* -C $entry/linux M=$top/build/mod/6.1.999-pgpdma-debug modules" "$W/out"
check $? "make modules KVER=<debug> builds against the cache entry's tree"

want=$(awk '!/^[[:space:]]*(#|$)/ && $2 ~ /^\[(.*,)?driver(,.*)?\]$/ { print $1 }' "$top/tests/vm/suites.conf")
got=$("$top/scripts/vm-run" --kver 6.1.999-pgpdma-debug --list-suites)
[ -n "$want" ] && [ "$got" = "$want" ] && echo "$got" | grep -qx core && ! echo "$got" | grep -qx pebbled
check $? "vm-run --list-suites on the debug kernel: only the [driver] suites ($(echo "$got" | tr '\n' ' '))"
all=$("$top/scripts/vm-run" --kver 6.1.0-57-amd64 --list-suites)
echo "$all" | grep -qx pebbled && echo "$all" | grep -qx core &&
	[ "$(echo "$all" | wc -l)" = "$(grep -cvE '^[[:space:]]*(#|$)' "$top/tests/vm/suites.conf")" ]
check $? "vm-run --list-suites on a Debian kernel: every suite"

# The real build, when this machine has one: its .config meets the fragment.
if [ -f "$real/linux/.config" ] && [ -s "$real/release" ]; then
	"$dk" verify "$real/linux/.config" > "$W/out" 2>&1
	check $? "the built debug kernel's .config satisfies the fragment ($real)"
else
	n=$((n + 1)); echo "ok $n - # SKIP the debug kernel is not built here"
fi
[ "$fails" = 0 ]
