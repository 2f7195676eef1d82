// SPDX-License-Identifier: GPL-2.0
/*
 * pgpdma selftests: memory safety and isolation between clients (issue 10).
 *
 * Each test provokes one hole a client could use to corrupt kernel memory
 * or take a shared device over, and checks the outcome a client sees:
 * errors, buffer states and counters, and the data in the buffers.
 *
 *  - an RX_READ / TX_ACQUIRE whose answer cannot be copied out, while
 *    another thread returns the indexes it saw (double recycle);
 *  - the same for a split chain: its rest must not stay queued headless;
 *  - TX chains longer than PGPDMA_MAX_FRAME (suite bigframe: the pool
 *    must be larger than the limit);
 *  - ENGINE_SET as a stop barrier;
 *  - poll: EPOLLOUT means the refused write would fit, and RX-only pollers
 *    are not woken by TX completions;
 *  - mmap: RX pages cannot be written by any mapping, mappings are not
 *    inherited by fork();
 *  - DMA directions (on a kernel with DMA-API debugging);
 *  - access rules: read-only files, unprivileged callers, the RX hold
 *    limit.
 */
#include "pgpdma_util.h"

#include <stdatomic.h>
#include <sys/mount.h>
#include <sys/syscall.h>

#define MYDEST		PGPDMA_DEST(2, 3)
#define OTHERDEST	PGPDMA_DEST(2, 4)
#define NOBODY		65534
#define SENTINEL	0xffffffffu

FIXTURE(safe) {
	struct pg_dev d;
};

FIXTURE_SETUP(safe)
{
	pg_fixture_open(&self->d, MYDEST);
}

FIXTURE_TEARDOWN(safe)
{
	pg_fixture_close(&self->d, 20);
}

/* A page made read-only after @len bytes of @src were put in it. */
static void *ro_copy(const void *src, size_t len)
{
	long pg = sysconf(_SC_PAGESIZE);
	void *p = mmap(NULL, (size_t)pg, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	if (p == MAP_FAILED)
		return NULL;
	memcpy(p, src, len);
	if (mprotect(p, (size_t)pg, PROT_READ)) {
		munmap(p, (size_t)pg);
		return NULL;
	}
	return p;
}

static void ro_free(void *p)
{
	munmap(p, (size_t)sysconf(_SC_PAGESIZE));
}

static pid_t gettid_(void)
{
	return (pid_t)syscall(SYS_gettid);
}

/* ------------------------------------------------------------------ */
/* Bug 1: RX_READ / TX_ACQUIRE copy-out failure while another thread   */
/* returns the indexes.                                                */
/* ------------------------------------------------------------------ */

struct returner {
	int fd;
	bool rx;
	volatile struct pgpdma_rx_desc *descs;	/* RX: watched slot */
	__u32 tx_count;				/* TX: indexes to try */
	atomic_bool stop;
	atomic_ulong successes;
	atomic_ulong tries;
};

/* Return every index the failing call lets us see (RX) or guess (TX). */
static void *returner_main(void *arg)
{
	struct returner *r = arg;
	__u32 idx, i = 0;

	while (!atomic_load(&r->stop)) {
		if (r->rx) {
			idx = r->descs[0].index;
			if (idx == SENTINEL)
				continue;
		} else {
			idx = i++ % r->tx_count;
		}
		atomic_fetch_add(&r->tries, 1);
		if (!(r->rx ? pg_rx_return(r->fd, &idx, 1) :
			      pg_tx_release(r->fd, &idx, 1)))
			atomic_fetch_add(&r->successes, 1);
		if (r->rx)
			r->descs[0].index = SENTINEL;
	}
	return NULL;
}

TEST_F_TIMEOUT(safe, rx_read_efault_no_double_recycle, 120)
{
	struct pgpdma_stats before, st;
	struct pgpdma_rx_desc *descs;
	struct pgpdma_rx_read rr;
	struct returner r = { .fd = self->d.fd, .rx = true };
	pthread_t th;
	void *ro;
	int i, efault = 0;

	descs = calloc(4, sizeof(*descs));
	ASSERT_NE(NULL, descs);
	descs[0].index = SENTINEL;
	r.descs = descs;
	memset(&rr, 0, sizeof(rr));
	rr.descs = (__u64)(uintptr_t)descs;
	rr.count = 4;
	rr.flags = PGPDMA_READ_WAIT;
	/* the request is readable (copied in) but not writable (copy-out) */
	ro = ro_copy(&rr, sizeof(rr));
	ASSERT_NE(NULL, ro);
	ASSERT_EQ(0, pg_stats(self->d.fd, &before));
	ASSERT_EQ(0, pg_engine_set(self->d.fd, PGPDMA_ENG_GENERATOR, 0, 0, 64,
				   MYDEST, 1, 0));
	ASSERT_EQ(0, pthread_create(&th, NULL, returner_main, &r));
	for (i = 0; i < 400; i++) {
		descs[0].index = SENTINEL;
		if (ioctl(self->d.fd, PGPDMA_IOC_RX_READ, ro) < 0 &&
		    errno == EFAULT)
			efault++;
	}
	atomic_store(&r.stop, true);
	pthread_join(th, NULL);
	ASSERT_EQ(0, pg_engine_idle(self->d.fd));
	ro_free(ro);
	free(descs);

	EXPECT_EQ(400, efault);
	/* an index from a call that failed is never the caller's */
	EXPECT_EQ(0ul, atomic_load(&r.successes)) {
		TH_LOG("%lu of %lu returns of indexes from failed RX_READs succeeded",
		       atomic_load(&r.successes), atomic_load(&r.tries));
	}
	ASSERT_EQ(0, pg_stats(self->d.fd, &st));
	EXPECT_EQ(NULL, pg_states_bad(&self->d.info, &st));
	EXPECT_EQ(0u, st.state[PGPDMA_ST_RX_USER]);
	EXPECT_EQ(st.user_reads - before.user_reads,
		  st.user_returns - before.user_returns);
	EXPECT_LE(400u, st.rx_drop_fault - before.rx_drop_fault);
}

TEST_F_TIMEOUT(safe, tx_acquire_efault_no_double_recycle, 120)
{
	struct pgpdma_stats st;
	struct pgpdma_tx_acquire ta;
	struct returner r = { .fd = self->d.fd, .tx_count = self->d.info.tx_count };
	pthread_t th;
	void *ro;
	int i, efault = 0;

	memset(&ta, 0, sizeof(ta));
	ro = ro_copy(&ta, sizeof(ta));
	ASSERT_NE(NULL, ro);
	ASSERT_EQ(0, pthread_create(&th, NULL, returner_main, &r));
	for (i = 0; i < 3000; i++)
		if (ioctl(self->d.fd, PGPDMA_IOC_TX_ACQUIRE, ro) < 0 &&
		    errno == EFAULT)
			efault++;
	atomic_store(&r.stop, true);
	pthread_join(th, NULL);
	ro_free(ro);

	EXPECT_EQ(3000, efault);
	EXPECT_EQ(0ul, atomic_load(&r.successes)) {
		TH_LOG("%lu of %lu TX_RELEASEs of buffers nobody acquired succeeded",
		       atomic_load(&r.successes), atomic_load(&r.tries));
	}
	ASSERT_EQ(0, pg_stats(self->d.fd, &st));
	EXPECT_EQ(NULL, pg_states_bad(&self->d.info, &st));
	EXPECT_EQ(self->d.info.tx_count, st.state[PGPDMA_ST_TX_FREE]);
	/* and the free list is whole: every buffer can be taken once */
	for (i = 0; i < (int)self->d.info.tx_count; i++)
		EXPECT_LE(0, pg_tx_acquire(self->d.fd, 0));
	EXPECT_EQ(-EAGAIN, pg_tx_acquire(self->d.fd, 0));
}

/* ------------------------------------------------------------------ */
/* Bug 3: EFAULT on a split chain leaves no headless rest queued.       */
/* ------------------------------------------------------------------ */

TEST_F(safe, split_chain_efault_drops_rest)
{
	size_t len = 4 * (size_t)self->d.info.buf_size;
	struct pgpdma_stats before, st;
	struct pgpdma_rx_desc dd[8];
	struct pgpdma_rx_read rr;
	uint8_t *frame = malloc(len);
	void *ro;
	int n;

	ASSERT_NE(NULL, frame);
	ASSERT_LE(4u, self->d.info.tx_count);
	pg_pattern_fill(frame, len, 7, 0);
	ASSERT_EQ(0, pg_loopback(self->d.fd, 0));
	ASSERT_EQ(0, pg_set_dest_one(self->d.fd, 0));	/* write() uses dest 0 */
	ASSERT_EQ((ssize_t)len, write(self->d.fd, frame, len));
	ASSERT_LT(0, pg_wait_in(self->d.fd, 2000));
	ASSERT_EQ(0, pg_stats(self->d.fd, &before));

	/* the descriptor array is read-only: RX_READ of 2 splits the chain */
	memset(dd, 0, sizeof(dd));
	ro = ro_copy(dd, sizeof(dd));
	ASSERT_NE(NULL, ro);
	memset(&rr, 0, sizeof(rr));
	rr.descs = (__u64)(uintptr_t)ro;
	rr.count = 2;
	EXPECT_EQ(-1, ioctl(self->d.fd, PGPDMA_IOC_RX_READ, &rr));
	EXPECT_EQ(EFAULT, errno);
	ro_free(ro);

	n = pg_rx_read(self->d.fd, dd, 8, 0);
	EXPECT_EQ(0, n) {
		TH_LOG("the rest of the chain stayed queued: %d buffers, first flags 0x%x",
		       n, n > 0 ? dd[0].flags : 0);
	}
	if (n > 0) {
		__u32 idx[8];
		int i;

		for (i = 0; i < n; i++)
			idx[i] = dd[i].index;
		pg_rx_return(self->d.fd, idx, (__u32)n);
	}
	ASSERT_EQ(0, pg_stats(self->d.fd, &st));
	EXPECT_EQ(NULL, pg_states_bad(&self->d.info, &st));
	EXPECT_EQ(0u, st.state[PGPDMA_ST_RX_QUEUED]);
	EXPECT_EQ(1u, st.rx_drop_fault - before.rx_drop_fault);
	EXPECT_EQ(2u, st.user_returns - before.user_returns);
	free(frame);
}

/* ------------------------------------------------------------------ */
/* Bug 2: TX frames are bounded by PGPDMA_MAX_FRAME.                    */
/* ------------------------------------------------------------------ */

TEST_F_TIMEOUT(safe, tx_chain_limit, 240)
{
	const struct pgpdma_info *i = &self->d.info;
	struct pgpdma_stats before, st;
	__u64 sent = 0;
	__u32 k, size;
	int idx, r = 0;

	if ((__u64)i->tx_count * i->buf_size <= PGPDMA_MAX_FRAME)
		SKIP(return, "TX pool (%u x %u) not larger than PGPDMA_MAX_FRAME (suite bigframe)",
		     i->tx_count, i->buf_size);
	EXPECT_EQ(PGPDMA_MAX_FRAME, i->max_frame);
	ASSERT_EQ(0, pg_stats(self->d.fd, &before));

	/* write(): one byte over the limit, refused before anything is taken */
	errno = 0;
	EXPECT_EQ(-1, write(self->d.fd, self->d.map, (size_t)PGPDMA_MAX_FRAME + 1));
	EXPECT_EQ(EMSGSIZE, errno);

	/* a chain of exactly the limit is accepted ... */
	for (k = 0; sent < PGPDMA_MAX_FRAME; k++) {
		size = i->buf_size;
		if (PGPDMA_MAX_FRAME - sent < size)
			size = (__u32)(PGPDMA_MAX_FRAME - sent);
		idx = pg_tx_acquire(self->d.fd, PGPDMA_TXA_WAIT);
		ASSERT_LE(0, idx);
		r = pg_tx_submit(self->d.fd, (__u32)idx, size, 0, PGPDMA_TXF_CONT);
		ASSERT_EQ(0, r);
		sent += size;
	}
	/* ... and one byte more is not: the frame is dropped, the buffer kept */
	idx = pg_tx_acquire(self->d.fd, 0);
	ASSERT_LE(0, idx);
	EXPECT_EQ(-EMSGSIZE, pg_tx_submit(self->d.fd, (__u32)idx, 1, 0, 0));
	ASSERT_EQ(0, pg_stats(self->d.fd, &st));
	EXPECT_EQ(1u, st.tx_drop_oversize - before.tx_drop_oversize);
	EXPECT_EQ(1u, st.state[PGPDMA_ST_TX_USER]);
	EXPECT_EQ(0u, st.state[PGPDMA_ST_TX_HW]);
	EXPECT_EQ(i->tx_count - 1, st.state[PGPDMA_ST_TX_FREE]);
	EXPECT_EQ(before.tx_frames, st.tx_frames);
	/* the kept buffer still sends a frame of its own */
	EXPECT_EQ(0, pg_tx_submit(self->d.fd, (__u32)idx, 64, 0, 0));
	EXPECT_LE(before.tx_frames + 1,
		  pg_wait_counter(self->d.fd, PG_STAT_OFF(tx_frames),
				  before.tx_frames + 1, 2000));
}

/* ------------------------------------------------------------------ */
/* Bug 8: no frame of the old settings after ENGINE_SET returns.        */
/* ------------------------------------------------------------------ */

struct drainer {
	int fd;
	atomic_bool stop;
};

static void *drainer_main(void *arg)
{
	struct drainer *dr = arg;

	while (!atomic_load(&dr->stop))
		if (pg_drain(dr->fd, 0) <= 0)
			pg_msleep(1);
	return NULL;
}

TEST_F_TIMEOUT(safe, engine_set_is_a_stop_barrier, 180)
{
	__u32 ring = self->d.info.rx_count * self->d.info.buf_size;
	struct drainer dr = { .fd = self->d.fd };
	struct pgpdma_stats a, b;
	int round, late = 0;
	pthread_t th;
	__u32 size;

	ASSERT_EQ(0, pthread_create(&th, NULL, drainer_main, &dr));
	for (round = 0; round < 100; round++) {
		size = 49152 + (__u32)(round % 4) * 49152;	/* 48..192 KiB */
		if (size > ring / 2)
			size = ring / 2;
		ASSERT_EQ(0, pg_engine_set(self->d.fd, PGPDMA_ENG_GENERATOR, 0, 0,
					   size, MYDEST, 1, 0));
		pg_msleep(2 + round % 5);
		ASSERT_EQ(0, pg_engine_idle(self->d.fd));
		ASSERT_EQ(0, pg_stats(self->d.fd, &a));
		pg_msleep(10);
		ASSERT_EQ(0, pg_stats(self->d.fd, &b));
		if (b.rx_frames != a.rx_frames || b.gen_frames != a.gen_frames)
			late++;
	}
	atomic_store(&dr.stop, true);
	pthread_join(th, NULL);
	EXPECT_EQ(0, late) {
		TH_LOG("%d of 100 stops were followed by a frame of the old settings",
		       late);
	}
}

/* ------------------------------------------------------------------ */
/* Bug 5: poll.                                                         */
/* ------------------------------------------------------------------ */

static short poll_now(int fd, short events)
{
	struct pollfd p = { .fd = fd, .events = events };

	return poll(&p, 1, 0) == 1 ? p.revents : 0;
}

TEST_F(safe, pollout_means_the_refused_write_fits)
{
	const struct pgpdma_info *i = &self->d.info;
	size_t len = 2 * (size_t)i->buf_size;
	int *held = calloc(i->tx_count, sizeof(*held)), n = 0, nfd;
	uint8_t *buf = calloc(1, len);

	ASSERT_NE(NULL, buf);
	ASSERT_NE(NULL, held);
	ASSERT_LE(3u, i->tx_count);
	/* hold all but one TX buffer (engine idle: nothing completes) */
	while (n < (int)i->tx_count - 1) {
		held[n] = pg_tx_acquire(self->d.fd, 0);
		ASSERT_LE(0, held[n]);
		n++;
	}
	nfd = pg_open(O_RDWR | O_NONBLOCK);
	ASSERT_LE(0, nfd);
	EXPECT_TRUE(poll_now(nfd, POLLOUT) & POLLOUT);	/* one buffer: one fits */
	errno = 0;
	EXPECT_EQ(-1, write(nfd, buf, len));		/* two do not */
	EXPECT_EQ(EAGAIN, errno);
	EXPECT_FALSE(poll_now(nfd, POLLOUT) & POLLOUT) {
		TH_LOG("EPOLLOUT with 1 TX buffer free after a write() of 2 was refused");
	}
	EXPECT_EQ(0, pg_tx_release(self->d.fd, (__u32 *)&held[--n], 1));
	EXPECT_TRUE(poll_now(nfd, POLLOUT) & POLLOUT);
	EXPECT_EQ((ssize_t)len, write(nfd, buf, len));
	close(nfd);
	while (n > 0)
		EXPECT_EQ(0, pg_tx_release(self->d.fd, (__u32 *)&held[--n], 1));
	free(held);
	free(buf);
}

struct poller {
	int fd;
	atomic_int tid;
	atomic_bool stop;
};

static void *poller_main(void *arg)
{
	struct poller *p = arg;
	struct pollfd pfd = { .fd = p->fd, .events = POLLIN };

	atomic_store(&p->tid, gettid_());
	while (!atomic_load(&p->stop))
		poll(&pfd, 1, 1000);
	return NULL;
}

static long ctxt_switches(pid_t tid)
{
	char path[64], buf[2048], *s;

	snprintf(path, sizeof(path), "/proc/self/task/%d/status", (int)tid);
	if (pg_read_file(path, buf, sizeof(buf)) < 0)
		return -1;
	s = strstr(buf, "voluntary_ctxt_switches:");
	return s ? strtol(s + strlen("voluntary_ctxt_switches:"), NULL, 10) : -1;
}

TEST_F_TIMEOUT(safe, rx_pollers_sleep_through_tx_completions, 120)
{
	struct poller p = { .fd = self->d.fd };
	uint8_t frame[256] = { 0 };
	struct pgpdma_stats before, st;
	long c0, c1;
	pthread_t th;
	int k;

	ASSERT_EQ(0, pthread_create(&th, NULL, poller_main, &p));
	while (!atomic_load(&p.tid))
		pg_msleep(1);
	pg_msleep(50);
	ASSERT_EQ(0, pg_stats(self->d.fd, &before));
	c0 = ctxt_switches(atomic_load(&p.tid));
	/*
	 * Engine idle: every frame is sent (consumed) and completes on TX;
	 * one at a time, so that each completion is a wake-up of its own.
	 */
	for (k = 0; k < 300; k++) {
		ASSERT_EQ((ssize_t)sizeof(frame), write(self->d.fd, frame, sizeof(frame)));
		pg_wait_counter(self->d.fd, PG_STAT_OFF(tx_frames),
				before.tx_frames + (__u64)k + 1, 2000);
	}
	c1 = ctxt_switches(atomic_load(&p.tid));
	atomic_store(&p.stop, true);
	pthread_join(th, NULL);
	ASSERT_EQ(0, pg_stats(self->d.fd, &st));
	EXPECT_EQ(before.tx_frames + 300, st.tx_frames);
	ASSERT_LE(0, c0);
	TH_LOG("EPOLLIN-only poller: %ld wake-ups during 300 TX completions", c1 - c0);
	/* its 1 s poll timeout wakes it a few times; 300 completions must not */
	EXPECT_GT(30, c1 - c0) {
		TH_LOG("an EPOLLIN-only poller woke %ld times for 300 TX completions",
		       c1 - c0);
	}
}

/* ------------------------------------------------------------------ */
/* Bug 6: mmap.                                                         */
/* ------------------------------------------------------------------ */

/* In a child: map the pool as @how says and store into RX buffer 0. */
static int store_into_rx(int how)
{
	struct pg_dev d;
	volatile uint8_t *p;

	if (pg_dev_open(&d, O_RDWR, how == 0))
		return 10;
	if (how == 1) {
		/* map read-only, then ask for write access */
		p = mmap(NULL, d.info.map_size, PROT_READ, MAP_SHARED, d.fd, 0);
		if (p == MAP_FAILED)
			return 11;
		if (mprotect((void *)p, d.info.map_size, PROT_READ | PROT_WRITE))
			return 0;	/* refused: also fine, nothing written */
		d.map = (uint8_t *)p;
	} else if (how == 2) {
		/* write a TX buffer first (must work), then RX */
		d.map[d.info.tx_offset] = 0x11;
		if (d.map[d.info.tx_offset] != 0x11)
			return 12;
	}
	d.map[d.info.rx_offset + 100] ^= 0xff;
	return 13;	/* the store went through */
}

TEST_F(safe, rx_pages_not_writable)
{
	uint8_t snap[256];
	int how, status;
	pid_t pid;

	memcpy(snap, self->d.map + self->d.info.rx_offset, sizeof(snap));
	for (how = 0; how < 3; how++) {
		pid = fork();
		ASSERT_LE(0, pid);
		if (pid == 0)
			_exit(store_into_rx(how));
		ASSERT_EQ(pid, waitpid(pid, &status, 0));
		if (how == 1 && WIFEXITED(status) && WEXITSTATUS(status) == 0)
			continue;
		EXPECT_TRUE(WIFSIGNALED(status) &&
			    (WTERMSIG(status) == SIGBUS || WTERMSIG(status) == SIGSEGV)) {
			TH_LOG("store into an RX page (variant %d): %s %d", how,
			       WIFSIGNALED(status) ? "signal" : "exit",
			       WIFSIGNALED(status) ? WTERMSIG(status) : WEXITSTATUS(status));
		}
	}
	EXPECT_EQ(0, memcmp(snap, self->d.map + self->d.info.rx_offset, sizeof(snap)));
}

TEST_F(safe, fork_does_not_inherit_mapping)
{
	volatile uint8_t *p = self->d.map + self->d.info.rx_offset;
	int status;
	pid_t pid;

	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0)
		_exit(p[0] == 0x42 ? 1 : 0);	/* any read of the mapping */
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	EXPECT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGSEGV) {
		TH_LOG("the child could read the parent's pool mapping (%s %d)",
		       WIFSIGNALED(status) ? "signal" : "exit",
		       WIFSIGNALED(status) ? WTERMSIG(status) : WEXITSTATUS(status));
	}
}

/* ------------------------------------------------------------------ */
/* Bug 7: DMA directions, read from DMA-API debugging's own records.    */
/* ------------------------------------------------------------------ */

TEST_F(safe, dma_directions)
{
	static char buf[1 << 20];
	const char *dump = "/sys/kernel/debug/dma-api/dump";
	char dev[32], *line, *save = NULL;
	unsigned int from = 0, to = 0, bidi = 0;

	if (!(self->d.info.flags & PGPDMA_INFO_STREAMING))
		SKIP(return, "coherent buffers carry no direction");
	if (access(dump, R_OK))
		mount("debugfs", "/sys/kernel/debug", "debugfs", 0, NULL);
	if (access(dump, R_OK))
		SKIP(return, "kernel without DMA-API debugging (%s)", dump);
	ASSERT_LT(0, pg_read_file(dump, buf, sizeof(buf)));
	snprintf(dev, sizeof(dev), "pgpdma.%u ", self->d.info.instance);
	for (line = strtok_r(buf, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		if (strncmp(line, dev, strlen(dev)) || strstr(line, " coherent "))
			continue;
		from += !!strstr(line, "DMA_FROM_DEVICE");
		to += !!strstr(line, "DMA_TO_DEVICE");
		bidi += !!strstr(line, "DMA_BIDIRECTIONAL");
	}
	EXPECT_EQ(self->d.info.rx_count, from);
	EXPECT_EQ(self->d.info.tx_count, to);
	EXPECT_EQ(0u, bidi);
}

/* ------------------------------------------------------------------ */
/* Isolation between clients.                                          */
/* ------------------------------------------------------------------ */

TEST_F(safe, rdonly_file_changes_nothing_shared)
{
	struct pgpdma_dest_mask dm = { { 0 } };
	struct pgpdma_engine e;
	struct pgpdma_inject in = { .transition = PGPDMA_TR_CONFIGURE, .dest = OTHERDEST };
	struct pgpdma_tx_desc td = { .size = 64 };
	struct pgpdma_rx_desc dd[4];
	struct pgpdma_stats st;
	__u32 idx = 0;
	int fd = pg_open(O_RDONLY);

	ASSERT_LE(0, fd);
	dm.mask[OTHERDEST / 64] = 1ull << (OTHERDEST % 64);
	EXPECT_EQ(-EBADF, pg_ioctl(fd, PGPDMA_IOC_SET_DEST, &dm));
	EXPECT_EQ(-EBADF, pg_ioctl(fd, PGPDMA_IOC_INJECT, &in));
	ASSERT_EQ(0, pg_engine_get(fd, &e));
	EXPECT_EQ(-EBADF, pg_ioctl(fd, PGPDMA_IOC_ENGINE_SET, &e));
	EXPECT_EQ(-EBADF, pg_tx_acquire(fd, 0));
	EXPECT_EQ(-EBADF, pg_ioctl(fd, PGPDMA_IOC_TX_SUBMIT, &td));
	EXPECT_EQ(-EBADF, pg_tx_release(fd, &idx, 1));
	/* reading and statistics work */
	EXPECT_EQ(0, pg_stats(fd, &st));
	EXPECT_EQ(0, pg_ioctl(fd, PGPDMA_IOC_GET_DEST, &dm));
	EXPECT_EQ(0, pg_rx_read(fd, dd, 4, 0));
	close(fd);
}

/* In a child without privileges: what it may and may not do. */
static int unprivileged(unsigned int rx_count)
{
	struct pgpdma_inject in = { .transition = PGPDMA_TR_CONFIGURE };
	struct pgpdma_rx_hold rh = { 0 };
	struct pgpdma_engine e;
	struct pgpdma_info info;
	int fd = pg_open(O_RDWR);

	if (fd < 0 || setresgid(NOBODY, NOBODY, NOBODY) ||
	    setresuid(NOBODY, NOBODY, NOBODY))
		return 10;
	if (pg_engine_get(fd, &e))
		return 11;
	if (pg_ioctl(fd, PGPDMA_IOC_ENGINE_SET, &e) != -EPERM)
		return 12;
	in.dest = OTHERDEST;			/* claimed by nobody */
	if (pg_ioctl(fd, PGPDMA_IOC_INJECT, &in) != -EACCES)
		return 13;
	in.dest = MYDEST;			/* claimed by the parent */
	if (pg_ioctl(fd, PGPDMA_IOC_INJECT, &in) != -EACCES)
		return 14;
	if (pg_set_dest_one(fd, OTHERDEST))
		return 15;
	in.dest = OTHERDEST;			/* now its own */
	if (pg_ioctl(fd, PGPDMA_IOC_INJECT, &in))
		return 16;
	if (pg_info(fd, &info))
		return 17;
	rh.max = rx_count;			/* raising: privileged */
	if (info.rx_hold_max < rx_count &&
	    pg_ioctl(fd, PGPDMA_IOC_SET_RX_HOLD, &rh) != -EPERM)
		return 18;
	rh.max = 1;				/* lowering: anyone */
	if (pg_ioctl(fd, PGPDMA_IOC_SET_RX_HOLD, &rh))
		return 19;
	if (!access("/sys/class/pgpdma/pgpdma0/emulate_unplug", W_OK))
		return 20;
	close(fd);
	return 0;
}

TEST_F(safe, unprivileged_client_cannot_take_over)
{
	int status;
	pid_t pid = fork();

	ASSERT_LE(0, pid);
	if (pid == 0)
		_exit(unprivileged(self->d.info.rx_count));
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	ASSERT_TRUE(WIFEXITED(status));
	EXPECT_EQ(0, WEXITSTATUS(status)) {
		TH_LOG("check %d of unprivileged() failed", WEXITSTATUS(status));
	}
	pg_drain(self->d.fd, 20);
}

TEST_F(safe, engine_set_refuses_out_of_range)
{
	EXPECT_EQ(-EINVAL, pg_engine_set(self->d.fd, PGPDMA_ENG_GENERATOR, 0, 10, 64,
					 MYDEST, 0x10000, 0));
	EXPECT_EQ(-EINVAL, pg_engine_set(self->d.fd, PGPDMA_ENG_GENERATOR, 0,
					 PGPDMA_PULSE_RATE_HZ + 1, 64, MYDEST, 1, 0));
	EXPECT_EQ(0, pg_engine_set(self->d.fd, PGPDMA_ENG_GENERATOR, 0,
				   PGPDMA_PULSE_RATE_HZ, 64, MYDEST, 0xffff, 1));
}

/* One stalled client cannot hold more than its share of the ring. */
TEST_F_TIMEOUT(safe, rx_hold_limit, 60)
{
	const struct pgpdma_info *i = &self->d.info;
	struct pgpdma_rx_desc *dd = calloc(i->rx_count, sizeof(*dd));
	struct pgpdma_stats before, st;
	struct pgpdma_info fi;
	__u32 limit = i->rx_count / 2 ? i->rx_count / 2 : 1, idx;
	int fd, n, other;

	ASSERT_NE(NULL, dd);
	fd = pg_open(O_RDWR);			/* default limit */
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, pg_info(fd, &fi));
	EXPECT_EQ(limit, fi.rx_hold_max);
	ASSERT_EQ(0, pg_set_dest_one(self->d.fd, PGPDMA_MAX_DEST));
	ASSERT_EQ(0, pg_set_dest_one(fd, MYDEST));
	ASSERT_EQ(0, pg_stats(fd, &before));
	/* single-buffer frames until the whole ring is queued */
	ASSERT_EQ(0, pg_engine_set(self->d.fd, PGPDMA_ENG_GENERATOR, 0, 0, 64,
				   MYDEST, 1, i->rx_count));
	ASSERT_EQ(0, pg_engine_wait_stopped(self->d.fd, 10000));
	pg_wait_counter(fd, PG_STAT_OFF(rx_frames), before.rx_frames + i->rx_count, 5000);

	n = pg_rx_read(fd, dd, i->rx_count, 0);
	EXPECT_EQ((int)limit, n);
	EXPECT_EQ(-ENOBUFS, pg_rx_read(fd, dd + limit, i->rx_count, 0));
	ASSERT_EQ(0, pg_stats(fd, &st));
	EXPECT_LE(2u, st.rx_hold_limited - before.rx_hold_limited);
	EXPECT_EQ(limit, st.state[PGPDMA_ST_RX_USER]);
	/* returning one lets one more be read */
	if (n > 0) {
		idx = dd[0].index;
		EXPECT_EQ(0, pg_rx_return(fd, &idx, 1));
		EXPECT_EQ(1, pg_rx_read(fd, dd, i->rx_count, 0));
	}
	/* the rest of the ring is not held: another client gets buffers */
	other = pg_open(O_RDWR);
	ASSERT_LE(0, other);
	ASSERT_EQ(0, pg_set_dest_one(other, OTHERDEST));
	/* its queued frames are dropped once it lets go of the dest */
	ASSERT_EQ(0, pg_set_dest_none(fd));
	ASSERT_EQ(0, pg_inject(self->d.fd, PGPDMA_TR_CONFIGURE, OTHERDEST));
	EXPECT_LT(0, pg_wait_in(other, 2000));
	EXPECT_EQ(1, pg_rx_read(other, dd, 1, 0));
	close(other);
	close(fd);			/* reclaims what it held */
	ASSERT_EQ(0, pg_set_dest_one(self->d.fd, MYDEST));
	free(dd);
}

TEST_HARNESS_MAIN
