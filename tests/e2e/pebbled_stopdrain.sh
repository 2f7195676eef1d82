#!/bin/sh
# SIGTERM drains what the driver had already queued for pebbled (runs inside
# the QEMU guest, busybox sh, TAP on stdout). Module e.g.
# cfgRxCount=64,cfgTxCount=16,cfgSize=8192.
#
# pebbled runs --lossless, proc_hz 0, arch_hz 0, so every event it takes is
# archived. After Configure/BeginRun/Enable (taken and returned), pebbled's
# reading is frozen and the generator produces N frames (lossless, one 8000 B
# buffer each): every one is completed into pebbled's RX queue (rx_queued = N)
# and none is read. Then SIGTERM, and reading resumes. Two ways:
#
#  - thread: only the reader thread is frozen (cgroup v2 freezer, a threaded
#    cgroup of its own); SIGTERM is handled by the main thread, which sets the
#    stop, and only then is the reader thawed. The reader sees the stop with
#    all N frames still queued, every time: without the drain at stop they
#    are recycled at close (rx_drop_unclaimed +N), with it they are read
#    after the stop (drained_at_stop = N).
#  - process: the whole daemon is frozen (SIGSTOP), then SIGTERM, SIGCONT,
#    as an operator would. Which thread runs first after SIGCONT is up to the
#    scheduler: the reader may read the frames before the main thread has
#    set the stop (drained_at_stop 0) or after (up to N); either way all N
#    must be archived.
#
# Checks, each way: pebbled exits 0; the frames delivered before the stop are
# read and archived, none recycled at close (rx_drop_unclaimed does not grow);
# the archive verifies with the 3 transitions and the N generator frames,
# payloads ok, the run closed (no .tmp); every RX buffer is back with the
# driver (nothing reclaimed at close).
. "${VM_HELPERS:-/tests/lib/vm-helpers.sh}"
P=${PEBBLED:-pebbled}
C=${PGPCTL:-pgpctl}
D=$DEV
W=/tmp/pebbled-stopdrain
CG=/sys/fs/cgroup
G=$CG/pebbled-stopdrain
N=40

need_device

# wait_for CMD...: up to ~10 s for CMD to succeed
wait_for() {
	_i=0
	while [ $_i -lt 100 ]; do
		"$@" && return 0
		sleep 0.1
		_i=$((_i + 1))
	done
	return 1
}
queued_is() { [ "$(st rx_queued)" = "$1" ]; }
# pebbled has read and returned everything completed to it: rx_frames = $1,
# nothing queued, nothing held
taken_back() {
	[ "$(st rx_frames)" = "$1" ] && [ "$(st rx_queued)" = 0 ] && [ "$(st rx_user)" = 0 ]
}
# all_stopped PID: every thread of PID is stopped (state T)
all_stopped() {
	for _s in /proc/"$1"/task/*/stat; do
		[ "$(sed 's/.*) \(.\).*/\1/' "$_s")" = T ] || return 1
	done
	return 0
}
# reader_tid PID: the device reader thread, found waiting in poll(2) on its
# two fds (device, wake eventfd) with its 500 ms timeout; the main thread
# polls one fd (signalfd) for 200 ms
reader_tid() {
	for _t in /proc/"$1"/task/*; do
		grep -q '^7 0x[0-9a-f]* 0x2 0x1f4 ' "$_t/syscall" 2>/dev/null || continue
		echo "${_t##*/}"
		return 0
	done
	return 1
}
frozen() { grep -q '^frozen 1' "$G/reader/cgroup.events"; }
said_stop() { grep -q 'draining and closing' "$W/stderr.txt"; }
cg_clean() {
	[ -d "$G/reader" ] && rmdir "$G/reader" 2>/dev/null
	[ -d "$G" ] && rmdir "$G" 2>/dev/null
	[ -n "$cg_mounted" ] && umount "$CG" 2>/dev/null
	cg_mounted=
}
# freeze_reader PID: the reader thread alone in a threaded cgroup, frozen
freeze_reader() {
	if ! grep -q " $CG cgroup2 " /proc/mounts; then
		mount -t cgroup2 none "$CG" || return 1
		cg_mounted=1
	fi
	tid=
	wait_for reader_tid "$1" >/dev/null || { diag "no thread of $1 waits in poll on the device"; return 1; }
	tid=$(reader_tid "$1")
	mkdir -p "$G/reader" &&
		echo "$1" >"$G/cgroup.procs" &&
		echo threaded >"$G/reader/cgroup.type" &&
		echo "$tid" >"$G/reader/cgroup.threads" &&
		echo 1 >"$G/reader/cgroup.freeze" || return 1
	wait_for frozen
}

# scenario thread|process
scenario() {
	m=$1
	rm -rf "$W"
	mkdir -p "$W/out"
	cat >"$W/pebbled.conf" <<EOC
device = "$D";
output_dir = "$W/out";
proc_hz = 0;
arch_hz = 0;
metrics_port = 0;
EOC
	"$C" -d "$D" engine stop >>"$W/pgpctl.txt" 2>&1
	f0=$(st rx_frames)
	u0=$(st rx_drop_unclaimed)
	nb0=$(st rx_drop_nobuf)
	r0=$(st reclaimed)

	"$P" -c "$W/pebbled.conf" --lossless >"$W/stdout.txt" 2>"$W/stderr.txt" &
	pid=$!
	wait_started "$W/stderr.txt" "$pid" || diag "pebbled did not start: $(tail -n 3 "$W/stderr.txt")"
	transitions Configure BeginRun Enable
	wait_for taken_back $((f0 + 3))
	tap_check "$m: pebbled took the 3 transitions (rx_frames +$(($(st rx_frames) - f0)), none queued or held)" \
		taken_back $((f0 + 3))

	if [ "$m" = thread ]; then
		freeze_reader "$pid"
		tap_check "$m: pebbled's reader thread ($tid) frozen, alone in a threaded cgroup" [ $? = 0 ]
	else
		kill -STOP "$pid"
		wait_for all_stopped "$pid"
		tap_check "$m: pebbled frozen (SIGSTOP, every thread stopped)" all_stopped "$pid"
	fi
	"$C" -d "$D" engine start --lossless --rate 0 --size 8000 --count $N >>"$W/pgpctl.txt" 2>&1
	wait_for queued_is $N
	q=$(st rx_queued)
	tap_check "$m: $N generator frames completed into pebbled's queue, none read (rx_queued $q)" [ "$q" = $N ]
	kill -TERM "$pid"
	if [ "$m" = thread ]; then
		# the main thread sets the stop, then logs the line
		wait_for said_stop
		tap_check "$m: SIGTERM handled while the reader is frozen" said_stop
		echo 0 >"$G/reader/cgroup.freeze"
	else
		kill -CONT "$pid"
	fi
	wait "$pid"
	rc=$?
	"$C" -d "$D" engine stop >>"$W/pgpctl.txt" 2>&1
	cg_clean
	tap_check "$m: pebbled drains and exits 0 on SIGTERM (exit $rc)" [ "$rc" = 0 ]
	[ "$rc" = 0 ] || sed 's/^/# /' "$W/stderr.txt" | tail -n 15
	sed 's/^/# /' "$W/stdout.txt"

	du=$(($(st rx_drop_unclaimed) - u0))
	dnb=$(($(st rx_drop_nobuf) - nb0))
	df=$(($(st rx_frames) - f0))
	taken=$(xf "$W/stdout.txt" EVENTS: taken)
	drained=$(xf "$W/stdout.txt" EVENTS: drained_at_stop)
	arch=$(xf "$W/stdout.txt" ARCH: frames)
	pool=$(xf "$W/stdout.txt" TAPS: pool_drops)
	diag "$m: driver rx_frames +$df, drop_unclaimed +$du, drop_nobuf +$dnb; pebbled taken $taken (drained at stop ${drained:-?}), archived $arch, pool drops $pool"
	tap_check "$m: driver: nothing queued before the stop recycled at close (rx_drop_unclaimed +$du)" [ "$du" = 0 ]
	[ "$df" = $((3 + N)) ] && [ "$dnb" = 0 ]
	tap_check "$m: driver: all $N frames completed to pebbled (rx_frames +$df = 3 + $N, drop_nobuf +$dnb)" [ $? = 0 ]
	tap_check "$m: pebbled took every frame (taken $taken = 3 transitions + $N)" [ "$taken" = $((3 + N)) ]
	if [ "$m" = thread ]; then
		tap_check "$m: all $N read after the stop and counted (drained_at_stop ${drained:-missing})" [ "$drained" = $N ]
	else
		[ -n "$drained" ] && [ "$drained" -le $N ]
		tap_check "$m: frames read after the stop counted (drained_at_stop ${drained:-missing}, 0..$N)" [ $? = 0 ]
	fi
	[ "$arch" = "$taken" ] && [ "$pool" = 0 ]
	tap_check "$m: every event archived, no pool drops (archived $arch, pool_drops $pool)" [ $? = 0 ]

	"$P" --verify "$W/out" --generator >"$W/verify.txt" 2>&1
	vrc=$?
	sed 's/^/# /' "$W/verify.txt"
	n=$(vf "$W/verify.txt" records)
	l1=$(vf "$W/verify.txt" l1accept)
	pok=$(vf "$W/verify.txt" payload_ok)
	[ "$vrc" = 0 ] && [ "$n" = $((3 + N)) ] && [ "$l1" = $N ] && [ "$pok" = $N ] &&
		[ "$(vf "$W/verify.txt" tmp_files)" = 0 ]
	tap_check "$m: archive verifies: $n records, L1Accept $l1 = $N, payload_ok $pok, run closed" [ $? = 0 ]
	rc1=$(($(st reclaimed) - r0))
	hw=$(st rx_hw)
	q=$(st rx_queued)
	u=$(st rx_user)
	[ "$rc1" = 0 ] && [ "$((hw + q))" = "$rxc" ] && [ "$u" = 0 ]
	tap_check "$m: driver: every RX buffer back (reclaimed +$rc1, rx_hw $hw + rx_queued $q = $rxc, rx_user $u)" [ $? = 0 ]
	rm -rf "$W"
}

rxc=$(info_field rx_count)
cg_mounted=
scenario thread
scenario process
tap_done
