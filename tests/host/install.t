#!/bin/bash
# make install / uninstall into a staging DESTDIR: every file lands where a
# Debian admin expects it, the unit points at the installed pebbled, an
# existing config is kept, and uninstall removes everything but the config.
set -u
top=$(cd "$(dirname "$0")/../.." && pwd)
dest=$(mktemp -d "${TMPDIR:-/tmp}/install-t.XXXXXX")
trap 'rm -rf "$dest"' EXIT
n=0
fails=0
check() { n=$((n + 1)); if [ "$1" = 0 ]; then echo "ok $n - $2"; else echo "not ok $n - $2"; fails=$((fails + 1)); fi; }

echo "TAP version 13"
echo "1..7"
make -s -C "$top" install DESTDIR="$dest" PREFIX=/usr > "$dest.log" 2>&1
check $? "make install DESTDIR=... PREFIX=/usr"
missing=
for f in usr/bin/pebbled usr/bin/pgpctl usr/bin/pvasend usr/bin/pebble-decode usr/bin/pebble-image \
	usr/bin/npydiff etc/systemd/system/pebbled.service etc/udev/rules.d/60-pgpdma.rules \
	etc/modprobe.d/pgpdma.conf etc/pebbled/pebbled.conf usr/include/linux/pgpdma.h \
	usr/include/libpgpdma.h usr/lib/libpgpdma.a usr/src/pgpdma-*/dkms.conf; do
	ls "$dest"/$f > /dev/null 2>&1 || missing="$missing $f"
done
[ -z "$missing" ]
check $? "every file installed${missing:+ (missing:$missing)}"
ls "$dest"/lib/modules/*/updates/pgpdma.ko > /dev/null 2>&1
check $? "module installed under /lib/modules/KVER/updates"
grep -q '^ExecStart=/usr/bin/pebbled ' "$dest/etc/systemd/system/pebbled.service"
check $? "the unit starts the installed pebbled"
echo "# admin's edit" >> "$dest/etc/pebbled/pebbled.conf"
make -s -C "$top" install DESTDIR="$dest" PREFIX=/usr > "$dest.log" 2>&1 &&
	grep -q "admin's edit" "$dest/etc/pebbled/pebbled.conf" && [ -f "$dest/etc/pebbled/pebbled.conf.dist" ]
check $? "a second install keeps the admin's config (new one as .dist)"
make -s -C "$top" uninstall DESTDIR="$dest" PREFIX=/usr > "$dest.log" 2>&1
check $? "make uninstall"
left=$(cd "$dest" && find . -type f ! -path ./etc/pebbled/pebbled.conf)
[ -z "$left" ] && [ -f "$dest/etc/pebbled/pebbled.conf" ]
check $? "uninstall leaves only the admin's config${left:+ (left: $left)}"
rm -f "$dest.log"
[ "$fails" = 0 ]
