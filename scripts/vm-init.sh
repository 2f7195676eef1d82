#!/bin/busybox sh
# /init of the test VM (packed by scripts/vm-run). Loads pgpdma.ko with the
# parameters of the run, runs each test, and reports to the host over the
# second serial port (ttyS1) between markers that scripts/vm-run parses:
#   @@@BEGIN <test>  ... test output (TAP) ...  @@@END <test> <exit status>
# then any fetched files (@@@FILE <path>, base64 of a .tar.gz, @@@ENDFILE),
# then the kernel log between @@@DMESG and @@@DONE. The console (ttyS0)
# carries only the kernel's own messages.
/bin/busybox --install -s /bin
export PATH=/bin:/sbin:/usr/bin:/usr/sbin:/tests
mkdir -p /proc /sys /dev /tmp /run
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
mount -t tmpfs tmpfs /tmp
mount -t tmpfs tmpfs /run

. /run.conf
export PGPDMA_KO=/lib/modules/pgpdma.ko
exec 3>/dev/ttyS1
echo "@@@BOOTED $(uname -r)" >&3

if [ -n "$LOAD_PARAMS" ]; then
	# shellcheck disable=SC2086
	if ! out=$(insmod "$PGPDMA_KO" $LOAD_PARAMS 2>&1); then
		echo "@@@LOADFAIL insmod $LOAD_PARAMS: $out" >&3
	fi
fi

cd /tmp
for t in $TESTS; do
	echo "@@@BEGIN $t" >&3
	timeout "$TEST_TIMEOUT" "/tests/$t" >&3 2>&1
	echo "@@@END $t $?" >&3
done

# Files the host asked for (--fetch): a gzipped tar, base64 on the wire.
for f in $FETCH; do
	[ -e "$f" ] || { echo "@@@NOFILE $f" >&3; continue; }
	echo "@@@FILE $f" >&3
	tar -C "$(dirname "$f")" -czf - "$(basename "$f")" | base64 >&3
	echo "@@@ENDFILE" >&3
done

echo "@@@DMESG" >&3
dmesg >&3
echo "@@@DONE" >&3
sync
poweroff -f
