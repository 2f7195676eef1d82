/* SPDX-License-Identifier: GPL-2.0 */
/*
 * pgpdma selftests: shared helpers (static inline, header only).
 *
 * Every test binary includes this file first.  It pulls in the kernel
 * selftest harness (kselftest_harness.h from linux-source-6.1, extracted at
 * build time) and the driver ABI <linux/pgpdma.h>.
 *
 * Device node: /dev/pgpdma0, or $PGPDMA_DEV.
 */
#ifndef PGPDMA_UTIL_H
#define PGPDMA_UTIL_H

#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <poll.h>
#include <pthread.h>
#include <sched.h>
#include <setjmp.h>
#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

/*
 * The 6.1 harness has two unused parameters of its own (the SIGALRM
 * handler's ucontext and TEST()'s wrapper variant) that -Wextra -Werror
 * rejects.  Silence -Wunused-parameter for the harness only; our tests use
 * TEST_F() exclusively, whose expansions mark their parameters unused.
 */
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wunused-parameter"
#include "kselftest_harness.h"
#pragma GCC diagnostic pop

#include <linux/pgpdma.h>

#define PG_DEFAULT_DEV	"/dev/pgpdma0"
#define PG_ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

static inline const char *pg_dev_path(void)
{
	const char *p = getenv("PGPDMA_DEV");

	return (p && *p) ? p : PG_DEFAULT_DEV;
}

/* N of /dev/pgpdmaN (the instance the tests run on). */
static inline unsigned int pg_dev_instance(void)
{
	const char *p = pg_dev_path() + strlen(pg_dev_path());

	while (p > pg_dev_path() && p[-1] >= '0' && p[-1] <= '9')
		p--;
	return (unsigned int)strtoul(p, NULL, 10);
}

/* /proc/pgpdmaN of the test's device (a static buffer). */
static inline const char *pg_proc_path(void)
{
	static char path[64];

	snprintf(path, sizeof(path), "/proc/pgpdma%u", pg_dev_instance());
	return path;
}

/* /sys/class/pgpdma/pgpdmaN/@attr of the test's device (a static buffer). */
static inline const char *pg_sysfs_path(const char *attr)
{
	static char path[128];

	snprintf(path, sizeof(path), "/sys/class/pgpdma/pgpdma%u/%s",
		 pg_dev_instance(), attr);
	return path;
}

/*
 * PGPDMA_SLOW_DEVICE=1: the device moves each 2 KiB by two real DMA
 * transfers of 100 ms each (QEMU's edu, suites tagged edu), so counts of
 * frames a test pushes through it shrink 20-fold (at least 3 are kept,
 * or @n if smaller): the same checks on fewer frames.
 */
static inline bool pg_slow_device(void)
{
	const char *e = getenv("PGPDMA_SLOW_DEVICE");

	return e && *e && *e != '0';
}

static inline unsigned long pg_scale(unsigned long n)
{
	if (!pg_slow_device())
		return n;
	return n / 20 > 3 ? n / 20 : (n < 3 ? n : 3);
}

/* A time to wait for the engine: 30 times longer on a slow device. */
static inline unsigned int pg_slow_ms(unsigned int ms)
{
	return pg_slow_device() ? ms * 30 : ms;
}

static void __attribute__((constructor)) pg_require_device(void)
{
	int i;

	for (i = 0; i < 20 && access(pg_dev_path(), F_OK); i++)
		usleep(100000);
	if (access(pg_dev_path(), F_OK)) {
		ksft_print_header();
		ksft_exit_skip("%s missing (pgpdma not loaded)\n", pg_dev_path());
	}
}

static inline int pg_open(int flags)
{
	return open(pg_dev_path(), flags | O_CLOEXEC);
}

/* ioctl returning 0 or -errno. */
static inline int pg_ioctl(int fd, unsigned long cmd, void *arg)
{
	return ioctl(fd, cmd, arg) < 0 ? -errno : 0;
}

static inline int pg_info(int fd, struct pgpdma_info *info)
{
	memset(info, 0xa5, sizeof(*info));
	return pg_ioctl(fd, PGPDMA_IOC_GET_INFO, info);
}

static inline int pg_stats(int fd, struct pgpdma_stats *st)
{
	memset(st, 0xa5, sizeof(*st));
	return pg_ioctl(fd, PGPDMA_IOC_GET_STATS, st);
}

/*
 * Wait (up to timeout_ms) until the u64 counter at byte offset off of
 * struct pgpdma_stats reaches at least target; returns its last value.
 * The engine runs asynchronously: poll instead of sleeping a fixed time.
 */
#define PG_STAT_OFF(field) offsetof(struct pgpdma_stats, field)
static inline __u64 pg_wait_counter(int fd, size_t off, __u64 target,
				    unsigned int timeout_ms);

static inline uint64_t pg_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static inline void pg_msleep(unsigned int ms)
{
	struct timespec ts = { ms / 1000, (long)(ms % 1000) * 1000000L };

	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}

/*
 * State invariant of one snapshot.  Returns NULL when fine, else a short
 * description of what is wrong (static buffer).
 */
static inline const char *pg_states_bad(const struct pgpdma_info *info,
					const struct pgpdma_stats *st)
{
	static __thread char why[160];
	uint64_t rx = (uint64_t)st->state[PGPDMA_ST_RX_HW] +
		      st->state[PGPDMA_ST_RX_QUEUED] + st->state[PGPDMA_ST_RX_USER];
	uint64_t tx = (uint64_t)st->state[PGPDMA_ST_TX_FREE] +
		      st->state[PGPDMA_ST_TX_USER] + st->state[PGPDMA_ST_TX_HW];
	int i;

	if (rx != info->rx_count) {
		snprintf(why, sizeof(why), "RX states %u+%u+%u=%" PRIu64 " != rx_count %u",
			 st->state[PGPDMA_ST_RX_HW], st->state[PGPDMA_ST_RX_QUEUED],
			 st->state[PGPDMA_ST_RX_USER], rx, info->rx_count);
		return why;
	}
	if (tx != info->tx_count) {
		snprintf(why, sizeof(why), "TX states %u+%u+%u=%" PRIu64 " != tx_count %u",
			 st->state[PGPDMA_ST_TX_FREE], st->state[PGPDMA_ST_TX_USER],
			 st->state[PGPDMA_ST_TX_HW], tx, info->tx_count);
		return why;
	}
	for (i = 0; i < PGPDMA_ST_COUNT; i++) {
		if (st->state_hwm[i] < st->state[i]) {
			snprintf(why, sizeof(why), "state_hwm[%d]=%u < state[%d]=%u",
				 i, st->state_hwm[i], i, st->state[i]);
			return why;
		}
	}
	for (i = PGPDMA_ST_COUNT; i < PGPDMA_STATE_SLOTS; i++) {
		if (st->state[i] || st->state_hwm[i]) {
			snprintf(why, sizeof(why), "unused state slot %d not zero", i);
			return why;
		}
	}
	for (i = 0; i < (int)PG_ARRAY_SIZE(st->reserved); i++) {
		if (st->reserved[i]) {
			snprintf(why, sizeof(why), "stats.reserved[%d] not zero", i);
			return why;
		}
	}
	return NULL;
}

/*
 * check_states(fd): every buffer is in exactly one state, the RX states add
 * up to rx_count and the TX states to tx_count.  Used in every teardown.
 */
static inline void __check_states(struct __test_metadata *_metadata, int fd)
{
	struct pgpdma_info info;
	struct pgpdma_stats st;
	const char *why;

	ASSERT_EQ(0, pg_info(fd, &info));
	ASSERT_EQ(0, pg_stats(fd, &st));
	why = pg_states_bad(&info, &st);
	EXPECT_EQ(NULL, why) {
		TH_LOG("state invariant broken: %s", why);
	}
}
#define check_states(fd) __check_states(_metadata, (fd))

/* Invariant on a fresh descriptor once nothing is held by anyone. */
static inline void __check_idle(struct __test_metadata *_metadata)
{
	struct pgpdma_stats st;
	int fd = pg_open(O_RDWR);

	ASSERT_LE(0, fd);
	check_states(fd);
	ASSERT_EQ(0, pg_stats(fd, &st));
	EXPECT_EQ(0u, st.state[PGPDMA_ST_RX_USER]);
	EXPECT_EQ(0u, st.state[PGPDMA_ST_TX_USER]);
	close(fd);
}
#define check_idle() __check_idle(_metadata)

/* ------------------------------------------------------------------ */

static inline int pg_engine_get(int fd, struct pgpdma_engine *e)
{
	memset(e, 0, sizeof(*e));
	return pg_ioctl(fd, PGPDMA_IOC_ENGINE_GET, e);
}

static inline int pg_engine_set(int fd, __u32 mode, __u32 flags, __u32 rate_hz,
				__u32 frame_size, __u32 dest, __u32 rg,
				__u64 count)
{
	struct pgpdma_engine e;

	memset(&e, 0, sizeof(e));
	e.mode = mode;
	e.flags = flags;
	e.rate_hz = rate_hz;
	e.frame_size = frame_size;
	e.dest = dest;
	e.readout_group = rg;
	e.count = count;
	return pg_ioctl(fd, PGPDMA_IOC_ENGINE_SET, &e);
}

static inline int pg_engine_idle(int fd)
{
	return pg_engine_set(fd, PGPDMA_ENG_IDLE, 0, 0, PGPDMA_TH_SIZE, 0, 0, 0);
}

static inline int pg_loopback(int fd, __u32 flags)
{
	return pg_engine_set(fd, PGPDMA_ENG_LOOPBACK, flags, 0, PGPDMA_TH_SIZE,
			     0, 0, 0);
}

static inline __u64 pg_wait_counter(int fd, size_t off, __u64 target,
				    unsigned int timeout_ms)
{
	uint64_t end = pg_now_ns() + (uint64_t)pg_slow_ms(timeout_ms) * 1000000ull;
	struct pgpdma_stats st;
	__u64 v = 0;

	for (;;) {
		if (pg_stats(fd, &st))
			return v;
		memcpy(&v, (const char *)&st + off, sizeof(v));
		if (v >= target || pg_now_ns() > end)
			return v;
		pg_msleep(2);
	}
}

/* Wait until the generator stopped (running == 0); 0 or -ETIMEDOUT. */
static inline int pg_engine_wait_stopped(int fd, unsigned int timeout_ms)
{
	uint64_t end = pg_now_ns() + (uint64_t)pg_slow_ms(timeout_ms) * 1000000ull;
	struct pgpdma_engine e;

	for (;;) {
		if (pg_engine_get(fd, &e))
			return -errno;
		if (!e.running)
			return 0;
		if (pg_now_ns() > end)
			return -ETIMEDOUT;
		pg_msleep(2);
	}
}

static inline int pg_set_dest_one(int fd, unsigned int dest)
{
	struct pgpdma_dest_mask m;

	memset(&m, 0, sizeof(m));
	if (dest < PGPDMA_MAX_DEST)
		m.mask[dest / 64] = 1ull << (dest % 64);
	return pg_ioctl(fd, PGPDMA_IOC_SET_DEST, &m);
}

static inline int pg_set_dest_none(int fd)
{
	return pg_set_dest_one(fd, PGPDMA_MAX_DEST);
}

/*
 * INJECT; the engine's queue of pending transitions is bounded (-EAGAIN when
 * full), so retry for up to 2 s while it drains.
 */
static inline int pg_inject(int fd, __u32 tr, __u32 dest)
{
	struct pgpdma_inject in;
	int r, tries = 0;

	memset(&in, 0, sizeof(in));
	in.transition = tr;
	in.dest = dest;
	while ((r = pg_ioctl(fd, PGPDMA_IOC_INJECT, &in)) == -EAGAIN && tries++ < 1000)
		pg_msleep(2);
	return r;
}

/* RX_READ: returns filled (>= 0) or -errno. */
static inline int pg_rx_read(int fd, struct pgpdma_rx_desc *d, __u32 count,
			     __u32 flags)
{
	struct pgpdma_rx_read r;

	memset(&r, 0, sizeof(r));
	r.descs = (__u64)(uintptr_t)d;
	r.count = count;
	r.flags = flags;
	r.filled = 0xdeadbeef;
	if (ioctl(fd, PGPDMA_IOC_RX_READ, &r) < 0)
		return -errno;
	return (int)r.filled;
}

static inline int pg_rx_return(int fd, const __u32 *idx, __u32 count)
{
	struct pgpdma_index_list l;

	memset(&l, 0, sizeof(l));
	l.indexes = (__u64)(uintptr_t)idx;
	l.count = count;
	return pg_ioctl(fd, PGPDMA_IOC_RX_RETURN, &l);
}

static inline int pg_rx_return1(int fd, __u32 idx)
{
	return pg_rx_return(fd, &idx, 1);
}

static inline int pg_tx_release(int fd, const __u32 *idx, __u32 count)
{
	struct pgpdma_index_list l;

	memset(&l, 0, sizeof(l));
	l.indexes = (__u64)(uintptr_t)idx;
	l.count = count;
	return pg_ioctl(fd, PGPDMA_IOC_TX_RELEASE, &l);
}

/* TX_ACQUIRE: returns index (>= 0) or -errno. */
static inline int pg_tx_acquire(int fd, __u32 flags)
{
	struct pgpdma_tx_acquire a;

	memset(&a, 0, sizeof(a));
	a.flags = flags;
	a.index = 0xdeadbeef;
	if (ioctl(fd, PGPDMA_IOC_TX_ACQUIRE, &a) < 0)
		return -errno;
	return (int)a.index;
}

static inline int pg_tx_submit(int fd, __u32 index, __u32 size, __u32 dest,
			       __u32 flags)
{
	struct pgpdma_tx_desc t;

	memset(&t, 0, sizeof(t));
	t.index = index;
	t.size = size;
	t.dest = dest;
	t.flags = flags;
	return pg_ioctl(fd, PGPDMA_IOC_TX_SUBMIT, &t);
}

/* Wait for POLLIN up to timeout_ms; 1 = readable, 0 = timeout, <0 error. */
static inline int pg_wait_in(int fd, int timeout_ms)
{
	struct pollfd p = { .fd = fd, .events = POLLIN };
	int r;

	do {
		r = poll(&p, 1, timeout_ms);
	} while (r < 0 && errno == EINTR);
	if (r < 0)
		return -errno;
	return r > 0 && (p.revents & POLLIN) ? 1 : 0;
}

/* ------------------------------------------------------------------ */
/* Mapping and frame assembly                                         */
/* ------------------------------------------------------------------ */

struct pg_dev {
	int fd;
	struct pgpdma_info info;
	uint8_t *map;		/* whole pool, or NULL */
	size_t map_len;
};

static inline uint8_t *pg_rx_buf(const struct pg_dev *d, __u32 i)
{
	return d->map + d->info.rx_offset + (uint64_t)i * d->info.stride;
}

static inline uint8_t *pg_tx_buf(const struct pg_dev *d, __u32 i)
{
	return d->map + d->info.tx_offset + (uint64_t)i * d->info.stride;
}

/* Limit of RX buffers this file may hold (PGPDMA_IOC_SET_RX_HOLD). */
static inline int pg_rx_hold(int fd, __u32 max)
{
	struct pgpdma_rx_hold rh = { .max = max };

	return pg_ioctl(fd, PGPDMA_IOC_SET_RX_HOLD, &rh);
}

/*
 * open + GET_INFO + mmap the whole pool; 0 or -errno. The tests run as
 * root and many hold the whole RX ring: a file open for writing lifts its
 * hold limit to rx_count (pgpdma_safety tests the default limit).
 */
static inline int pg_dev_open(struct pg_dev *d, int flags, bool map)
{
	void *p;

	memset(d, 0, sizeof(*d));
	d->fd = pg_open(flags);
	if (d->fd < 0)
		return -errno;
	if (pg_info(d->fd, &d->info))
		return -errno;
	/* -ENOTTY: a driver without hold limits (to run the tests against one) */
	if ((flags & O_ACCMODE) != O_RDONLY && geteuid() == 0 &&
	    pg_rx_hold(d->fd, d->info.rx_count) != -ENOTTY &&
	    pg_info(d->fd, &d->info))
		return -errno;
	if (!map)
		return 0;
	p = mmap(NULL, d->info.map_size,
		 (flags & O_ACCMODE) == O_RDONLY ? PROT_READ :
		 PROT_READ | PROT_WRITE, MAP_SHARED, d->fd, 0);
	if (p == MAP_FAILED)
		return -errno;
	d->map = p;
	d->map_len = d->info.map_size;
	return 0;
}

static inline void pg_dev_close(struct pg_dev *d)
{
	if (d->map)
		munmap(d->map, d->map_len);
	if (d->fd >= 0)
		close(d->fd);
	d->map = NULL;
	d->fd = -1;
}

/*
 * One received frame assembled from its descriptors.  The descriptors are
 * kept (and their buffers held) until pg_frame_return().
 */
#define PG_FRAME_MAX_DESCS 256
struct pg_frame {
	struct pgpdma_rx_desc d[PG_FRAME_MAX_DESCS];
	unsigned int n;
	size_t len;
};

/*
 * Receive one whole frame via RX_READ (count 1 at a time so that no second
 * frame is taken), copying its bytes to buf (if non-NULL, up to cap) and
 * checking the chain flags.  Returns 1 on a frame, 0 on timeout, -errno, or
 * -EPROTO when the chain is malformed (why is set).
 */
static inline int pg_recv_frame(const struct pg_dev *d, struct pg_frame *f,
				uint8_t *buf, size_t cap, int timeout_ms,
				const char **why)
{
	uint64_t end = pg_now_ns() + (uint64_t)timeout_ms * 1000000ull;
	int r;

	f->n = 0;
	f->len = 0;
	*why = NULL;
	for (;;) {
		struct pgpdma_rx_desc *x;

		if (f->n >= PG_FRAME_MAX_DESCS) {
			*why = "chain longer than PG_FRAME_MAX_DESCS";
			return -EPROTO;
		}
		x = &f->d[f->n];
		memset(x, 0xa5, sizeof(*x));
		r = pg_rx_read(d->fd, x, 1, 0);
		if (r < 0)
			return r;
		if (r == 0) {
			int left = (int)((int64_t)(end - pg_now_ns()) / 1000000);

			if ((int64_t)(end - pg_now_ns()) <= 0)
				return f->n ? (*why = "chain incomplete", -EPROTO) : 0;
			r = pg_wait_in(d->fd, left > 50 ? 50 : (left ? left : 1));
			if (r < 0)
				return r;
			continue;
		}
		if (r != 1) {
			*why = "RX_READ filled more than count";
			return -EPROTO;
		}
		if (x->index >= d->info.rx_count) {
			*why = "descriptor index out of range";
			return -EPROTO;
		}
		if (x->size > d->info.buf_size) {
			*why = "descriptor size > buf_size";
			return -EPROTO;
		}
		if (x->reserved) {
			*why = "descriptor reserved not zero";
			return -EPROTO;
		}
		if (x->flags & ~(__u32)(PGPDMA_RXF_CONT | PGPDMA_RXF_SOF)) {
			*why = "unknown descriptor flag";
			return -EPROTO;
		}
		if (f->n == 0 && !(x->flags & PGPDMA_RXF_SOF)) {
			*why = "first buffer of a frame without SOF";
			return -EPROTO;
		}
		if (f->n > 0 && (x->flags & PGPDMA_RXF_SOF)) {
			*why = "SOF inside a chain";
			return -EPROTO;
		}
		if (f->n > 0 && (x->seq != f->d[0].seq || x->dest != f->d[0].dest)) {
			*why = "seq/dest differ inside a chain";
			return -EPROTO;
		}
		if (buf) {
			size_t c = x->size;

			if (f->len + c > cap) {
				*why = "frame larger than caller buffer";
				return -EPROTO;
			}
			memcpy(buf + f->len, pg_rx_buf(d, x->index), c);
		}
		f->len += x->size;
		f->n++;
		if (!(x->flags & PGPDMA_RXF_CONT))
			return 1;
	}
}

static inline int pg_frame_return(const struct pg_dev *d, struct pg_frame *f)
{
	__u32 idx[PG_FRAME_MAX_DESCS];
	unsigned int i;

	for (i = 0; i < f->n; i++)
		idx[i] = f->d[i].index;
	if (!f->n)
		return 0;
	f->n = 0;
	return pg_rx_return(d->fd, idx, i);
}

/*
 * Drain: take everything queued for this file (optionally waiting quiet_ms
 * of silence) and return it.  Returns number of buffers drained or -errno.
 */
static inline int pg_drain(int fd, int quiet_ms)
{
	struct pgpdma_rx_desc dd[64];
	__u32 idx[64];
	int total = 0, r, i;

	for (;;) {
		r = pg_rx_read(fd, dd, 64, 0);
		if (r < 0)
			return r;
		if (r == 0) {
			if (quiet_ms <= 0 || pg_wait_in(fd, quiet_ms) <= 0)
				return total;
			continue;
		}
		for (i = 0; i < r; i++)
			idx[i] = dd[i].index;
		r = pg_rx_return(fd, idx, (__u32)r);
		if (r < 0)
			return r;
		total += i;
	}
}

/* Fill a buffer with a deterministic pattern of (seed, offset). */
static inline uint8_t pg_pattern_byte(uint32_t seed, size_t off)
{
	uint32_t x = seed * 0x9e3779b1u + (uint32_t)off * 0x85ebca6bu;

	x ^= x >> 13;
	x *= 0xc2b2ae35u;
	x ^= x >> 16;
	return (uint8_t)x;
}

static inline void pg_pattern_fill(uint8_t *p, size_t len, uint32_t seed,
				   size_t base)
{
	size_t i;

	for (i = 0; i < len; i++)
		p[i] = pg_pattern_byte(seed, base + i);
}

/* Index of the first differing byte, or -1. */
static inline long pg_pattern_check(const uint8_t *p, size_t len, uint32_t seed)
{
	size_t i;

	for (i = 0; i < len; i++)
		if (p[i] != pg_pattern_byte(seed, i))
			return (long)i;
	return -1;
}

/*
 * Check a generated frame (header + payload).  len is the whole frame.
 * Returns NULL or a description of the first problem.
 */
static inline const char *pg_check_gen_payload(const uint8_t *frame, size_t len)
{
	static __thread char why[128];
	struct pgpdma_timing_header th;
	size_t off;
	__u32 i;

	if (len < PGPDMA_TH_SIZE)
		return "frame shorter than a timing header";
	memcpy(&th, frame, sizeof(th));
	for (off = PGPDMA_TH_SIZE, i = 0; off < len; off += 4, i++) {
		__u32 w = pgpdma_gen_payload_word(&th, i);
		uint8_t b[4] = { (uint8_t)w, (uint8_t)(w >> 8),
				 (uint8_t)(w >> 16), (uint8_t)(w >> 24) };
		size_t n = len - off < 4 ? len - off : 4;

		if (memcmp(frame + off, b, n)) {
			snprintf(why, sizeof(why),
				 "payload word %u (byte %zu) of pulse %llu wrong",
				 i, off, (unsigned long long)pgpdma_th_pulse_id(&th));
			return why;
		}
	}
	return NULL;
}

/* Seconds now in the EPICS epoch. */
static inline uint64_t pg_epics_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec - PGPDMA_EPICS_EPOCH_OFFSET;
}

static inline unsigned int pg_seed(void)
{
	const char *s = getenv("PGPDMA_SEED");

	if (s && *s)
		return (unsigned int)strtoul(s, NULL, 0);
	return (unsigned int)(pg_now_ns() ^ (uint64_t)getpid());
}

/* Read a whole small file into buf (NUL-terminated); bytes or -errno. */
static inline int pg_read_file(const char *path, char *buf, size_t cap)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	ssize_t n, tot = 0;

	if (fd < 0)
		return -errno;
	while ((size_t)tot + 1 < cap &&
	       (n = read(fd, buf + tot, cap - 1 - (size_t)tot)) > 0)
		tot += n;
	close(fd);
	buf[tot] = 0;
	return (int)tot;
}

/* Write @val to the file @path (sysfs, debugfs) at once; 0 or -errno. */
static inline int pg_write_file(const char *path, const char *val)
{
	ssize_t n;
	int fd;

	fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	n = write(fd, val, strlen(val));
	n = n < 0 ? -errno : 0;
	close(fd);
	return (int)n;
}

/*
 * Free memory in bytes, or -1: MemFree of /proc/meminfo plus the pages
 * waiting on the per-CPU free lists (the "count:" lines of /proc/zoneinfo),
 * which MemFree leaves out: a freed pool of small buffers lands there.
 */
static inline long long pg_mem_free(void)
{
	static char buf[1 << 16];
	long long pcp = 0;
	char *p;

	if (pg_read_file("/proc/zoneinfo", buf, sizeof(buf)) <= 0)
		return -1;
	for (p = buf; (p = strstr(p, " count: ")); p += 8)
		pcp += strtoll(p + 8, NULL, 10);
	if (pg_read_file("/proc/meminfo", buf, sizeof(buf)) <= 0)
		return -1;
	p = strstr(buf, "MemFree:");
	return p ? strtoll(p + 8, NULL, 10) * 1024 + pcp * 4096 : -1;
}

/*
 * Read one byte at @p in this process, catching the fault a zapped
 * mapping gives (a child would not do: pool mappings are VM_DONTCOPY).
 * Returns 0 when the read worked, else the signal (SIGBUS, SIGSEGV).
 */
static sigjmp_buf pg_probe_jmp;
static volatile sig_atomic_t pg_probe_sig;

static void pg_probe_handler(int sig)
{
	pg_probe_sig = sig;
	siglongjmp(pg_probe_jmp, 1);
}

static inline int pg_probe_read(const volatile uint8_t *p)
{
	struct sigaction sa, obus, osegv;
	volatile uint8_t v;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = pg_probe_handler;
	sigaction(SIGBUS, &sa, &obus);
	sigaction(SIGSEGV, &sa, &osegv);
	pg_probe_sig = 0;
	if (!sigsetjmp(pg_probe_jmp, 1))
		v = *p;
	sigaction(SIGBUS, &obus, NULL);
	sigaction(SIGSEGV, &osegv, NULL);
	(void)v;
	return pg_probe_sig;
}

/*
 * The fixture steps every test file shares. pg_fixture_open(): open the
 * device (the test is skipped when the module is not loaded), engine idle,
 * claim @dest, drain what is queued, check the invariant. Returns false
 * when the test was skipped. pg_fixture_close(): engine idle, drain (up to
 * @drain_ms), check the invariant, close, and check no buffer is held.
 */
static inline bool __pg_fixture_open(struct __test_metadata *_metadata,
				     struct pg_dev *d, unsigned int dest)
{
	int r;

	d->fd = -1;
	r = pg_dev_open(d, O_RDWR, true);
	if (r == -ENOENT)
		SKIP(return false, "%s missing (module not loaded)", pg_dev_path());
	ASSERT_EQ(0, r);	/* a failed ASSERT ends the test (longjmp) */
	ASSERT_EQ(0, pg_engine_idle(d->fd));
	ASSERT_EQ(0, pg_set_dest_one(d->fd, dest));
	ASSERT_LE(0, pg_drain(d->fd, 0));
	check_states(d->fd);
	return true;
}
#define pg_fixture_open(d, dest) __pg_fixture_open(_metadata, (d), (dest))

static inline void __pg_fixture_close(struct __test_metadata *_metadata,
				      struct pg_dev *d, int drain_ms)
{
	if (d->fd < 0)
		return;
	EXPECT_EQ(0, pg_engine_idle(d->fd));
	if (drain_ms)
		EXPECT_LE(0, pg_drain(d->fd, drain_ms));
	check_states(d->fd);
	pg_dev_close(d);
	check_idle();
}
#define pg_fixture_close(d, drain_ms) __pg_fixture_close(_metadata, (d), (drain_ms))

#endif /* PGPDMA_UTIL_H */
