#!/bin/sh
# Runs inside the demo VM (see scripts/demo.sh): show the loaded driver.
echo "TAP version 13"
echo "1..1"
echo "# --- /sys/module/pgpdma/parameters"
for p in /sys/module/pgpdma/parameters/*; do
	echo "#   $(basename "$p") = $(cat "$p")"
done
for f in /proc/pgpdma*; do
	echo "# --- $f"
	sed 's/^/#   /' "$f"
done
echo "# --- kernel log"
dmesg | grep -i pgpdma | sed 's/^/#   /'
if [ -c /dev/pgpdma0 ]; then
	echo "ok 1 - /dev/pgpdma0 is present"
else
	echo "not ok 1 - /dev/pgpdma0 is present"
	exit 1
fi
