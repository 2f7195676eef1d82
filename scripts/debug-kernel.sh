#!/bin/bash
# The debug kernel of the VM test matrix: Debian's linux-source-6.1 built
# with a small configuration of its own (allnoconfig + the fragment
# scripts/debug-kernel.config: KASAN, lockdep, DMA-API debug, UBSAN, ...),
# booted by scripts/vm-run like the Debian kernels.
#
# Usage: scripts/debug-kernel.sh [--kcsan] [build]
#                                          build it once per machine (cached),
#                                          print the cache entry
#        scripts/debug-kernel.sh release   its kernel release, exit 1 if not built
#        scripts/debug-kernel.sh dir       the cache entry of the current key
#        scripts/debug-kernel.sh key       the cache key
#        scripts/debug-kernel.sh verify CONFIG [FRAGMENT]
#                                          every line of the fragment holds in CONFIG
#        scripts/debug-kernel.sh prune     remove the entries of other keys
#
# --kcsan: the second flavour, 6.1.SUBLEVEL-pgpdma-kcsan: KCSAN (the data
# race detector, which cannot be combined with KASAN) instead of the
# checkers section of the fragment (scripts/debug-kernel-kcsan.config),
# cached in kcsan-kernel/ instead of debug-kernel/.
#
# The cache is ${PGPDMA_CACHE:-/var/cache/pgpdma}/debug-kernel/KEY/, outside
# the clone: bzImage, release, build.log and linux/ (the build tree, usable
# as KDIR). KEY = the linux-source-6.1 package version + a hash of the
# fragment and of the configure/compile steps below. A build runs in a
# temporary directory renamed into place at the end, under a lock.
# PGPDMA_DEBUG_CONFIG overrides the fragment; JOBS (default 2) make -j.
set -eu

here=$(cd "$(dirname "$0")" && pwd)
flavour=debug
if [ "${1:-}" = --kcsan ]; then
	flavour=kcsan
	shift
fi
frag=${PGPDMA_DEBUG_CONFIG:-$here/debug-kernel.config}
cache=${PGPDMA_CACHE:-/var/cache/pgpdma}/$flavour-kernel
tarball=/usr/src/linux-source-6.1.tar.xz
jobs=${JOBS:-2}

die() { echo "debug-kernel: $*" >&2; exit 1; }

# The KCSAN fragment: the debug one with its checkers section (from
# "# --- the checkers" to the next "# --- " heading) replaced.
kcsan_fragment() {
	awk '/^# --- the checkers/ { skip = 1; next } /^# --- / { skip = 0 } !skip' "$1" |
		sed 's/^CONFIG_LOCALVERSION="-pgpdma-debug"$/CONFIG_LOCALVERSION="-pgpdma-kcsan"/'
	sed -n '/^# --- the checkers/,$p' "$here/debug-kernel-kcsan.config"
}
if [ "$flavour" = kcsan ]; then
	[ -r "$frag" ] || die "no fragment $frag"
	kfrag=$(mktemp "${TMPDIR:-/tmp}/kcsan-fragment.XXXXXX")
	trap 'rm -f "$kfrag"' EXIT	# build() adds its temporary tree
	kcsan_fragment "$frag" > "$kfrag"
	frag=$kfrag
fi

src_version() {
	local v
	v=$(dpkg-query -W -f='${Version}' linux-source-6.1 2>/dev/null || true)
	if [ -z "$v" ] || [ ! -r "$tarball" ]; then
		die "linux-source-6.1 is not installed ($tarball); run: scripts/deps.sh"
	fi
	echo "$v"
}

# --- the two steps that decide what gets built (hashed into the key) ----
configure() {	# configure TREE: allnoconfig for x86_64 + the fragment
	make -C "$1" -s ARCH=x86_64 KCONFIG_ALLCONFIG="$frag" allnoconfig
}

compile() {	# compile TREE: vmlinux, bzImage, Module.symvers
	# LOCALVERSION= (set, empty): no "+" appended when inside a git tree
	make -C "$1" -j"$jobs" ARCH=x86_64 LOCALVERSION= all
}
# -------------------------------------------------------------------------

key() {
	local v sum
	v=$(src_version)
	[ -r "$frag" ] || die "no fragment $frag"
	sum=$({
		echo "linux-source-6.1 $v"
		sha256sum < "$frag"
		declare -f configure compile
	} | sha256sum | cut -c1-16)
	echo "$v-$sum"
}

entry() { echo "$cache/$(key)"; }

release() {
	local e
	e=$(entry)
	if [ ! -s "$e/release" ] || [ ! -r "$e/bzImage" ]; then
		die "not built ($e); run: scripts/debug-kernel.sh$([ "$flavour" = kcsan ] && echo ' --kcsan')"
	fi
	cat "$e/release"
}

# verify CONFIG FRAGMENT: every CONFIG_X=V line of the fragment is in the
# .config, and no "# CONFIG_X is not set" option got set. Kconfig drops a
# requested option silently when its dependencies are not met.
verify() {
	local config=$1 fragment=$2 line sym bad=0
	while IFS= read -r line; do
		case "$line" in
		CONFIG_*=*)
			grep -qxF -- "$line" "$config" && continue
			sym=${line%%=*}
			echo "debug-kernel: $sym: wanted '${line#*=}', got: $(grep -E "^$sym=|^# $sym is not set" "$config" || echo 'not in .config (unmet dependency)')" >&2
			bad=1 ;;
		'# CONFIG_'*' is not set')
			sym=${line#\# }
			sym=${sym%% *}
			grep -q "^$sym=" "$config" || continue
			echo "debug-kernel: $sym: wanted not set, got: $(grep "^$sym=" "$config")" >&2
			bad=1 ;;
		esac
	done < "$fragment"
	[ "$bad" = 0 ] || echo "debug-kernel: $config does not satisfy $fragment" >&2
	return "$bad"
}

need_tools() {
	local t missing=""
	for t in make gcc flex bison bc tar xz perl flock; do
		command -v "$t" > /dev/null || missing="$missing $t"
	done
	[ -r /usr/include/libelf.h ] || missing="$missing libelf-dev"
	[ -z "$missing" ] || die "missing:$missing; run: scripts/deps.sh --kernels"
}

# lock: one build per machine at a time; a second caller waits for it
lock() {
	exec 9> "$cache/.lock"
	if ! flock -n 9; then
		echo "debug-kernel: another build is running; waiting for it" >&2
		flock 9
	fi
}

build() {
	local e k tmp start log
	k=$(key)
	e=$cache/$k
	if [ -s "$e/release" ]; then echo "$e"; return 0; fi
	need_tools
	mkdir -p "$cache" || die "cannot create $cache (set PGPDMA_CACHE)"
	lock
	if [ -s "$e/release" ]; then echo "$e"; return 0; fi
	rm -rf "$cache"/.build-*	# left by an interrupted build
	tmp=$cache/.build-$k
	log=$tmp/build.log
	# shellcheck disable=SC2064
	trap "rm -rf '$tmp' ${kfrag:-}" EXIT
	trap 'exit 129' HUP
	trap 'exit 130' INT
	trap 'exit 143' TERM
	mkdir "$tmp"
	start=$(date +%s)
	echo "debug-kernel: building linux-source-6.1 $(src_version) with $(basename "$frag") (make -j$jobs, about 8 min on 2 cores); log: $log" >&2
	tar -xf "$tarball" -C "$tmp"
	mv "$tmp/linux-source-6.1" "$tmp/linux"
	configure "$tmp/linux" > "$log" 2>&1 || fail "$tmp" configuration
	verify "$tmp/linux/.config" "$frag" || fail "$tmp" "configuration check"
	compile "$tmp/linux" >> "$log" 2>&1 || fail "$tmp" build
	cp "$tmp/linux/arch/x86/boot/bzImage" "$tmp/bzImage"
	cp "$tmp/linux/include/config/kernel.release" "$tmp/release"
	case "$(cat "$tmp/release")" in
	*-pgpdma-$flavour) ;;
	*) fail "$tmp" "release '$(cat "$tmp/release")' (want *-pgpdma-$flavour)" ;;
	esac
	mv -T "$tmp" "$e"
	trap - EXIT HUP INT TERM
	rm -f "${kfrag:-}"
	echo "debug-kernel: built $(cat "$e/release") in $(($(date +%s) - start)) s: $e" >&2
	echo "$e"
}

fail() {	# fail TMP STEP: keep the log next to the cache, show its end
	local keep
	keep=$cache/failed-$(basename "$1" | sed 's/^\.build-//').log
	cp "$1/build.log" "$keep" 2>/dev/null || true
	tail -n 30 "$keep" >&2 2>/dev/null || true
	die "$2 failed; log: $keep"
}

prune() {
	local k d
	k=$(key)
	for d in "$cache"/*/; do
		[ -d "$d" ] || continue
		[ "$(basename "$d")" = "$k" ] && continue
		echo "debug-kernel: removing $d" >&2
		rm -rf "$d"
	done
	rm -f "$cache"/failed-*.log
}

case "${1:-build}" in
build) build ;;
release) release ;;
dir) entry ;;
key) key ;;
verify) verify "${2:?usage: $0 verify CONFIG [FRAGMENT]}" "${3:-$frag}" ;;
prune) prune ;;
-h|--help) sed -n '2,/^set -eu/p' "$0" | sed '$d; s/^# \{0,1\}//' ;;
*) echo "usage: $0 [build|release|dir|key|verify CONFIG [FRAGMENT]|prune]" >&2; exit 2 ;;
esac
