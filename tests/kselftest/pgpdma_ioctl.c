// SPDX-License-Identifier: GPL-2.0
/*
 * pgpdma ABI tests: every ioctl's success and failure paths, mmap bounds,
 * poll, O_NONBLOCK, copy read() sizing.
 *
 * Needs /dev/pgpdma0 or $PGPDMA_DEV (module loaded before the test).
 */
#include <sys/epoll.h>
#include <sys/time.h>
#include "pgpdma_util.h"

#define MYDEST		PGPDMA_DEST(0, 3)
#define OTHERDEST	PGPDMA_DEST(1, 4)
#define BADPTR		((void *)(uintptr_t)0xffff800000001000ull)

FIXTURE(dev) {
	struct pg_dev d;
};

FIXTURE_SETUP(dev)
{
	if (!pg_fixture_open(&self->d, MYDEST))
		return;
}

FIXTURE_TEARDOWN(dev)
{
	pg_fixture_close(&self->d, 0);
}

/* Fields that an ioctl failing with -EINVAL/-EFAULT must not change. */
static bool same_state(const struct pgpdma_stats *a, const struct pgpdma_stats *b)
{
	return !memcmp(a->state, b->state, sizeof(a->state)) &&
	       a->user_reads == b->user_reads &&
	       a->user_returns == b->user_returns &&
	       a->tx_frames == b->tx_frames && a->tx_buffers == b->tx_buffers &&
	       a->transitions == b->transitions && a->reclaimed == b->reclaimed;
}

/* Inject a transition for dest and receive it: the caller holds 1 buffer. */
static int hold_one(struct pg_dev *d, __u32 dest, struct pg_frame *f)
{
	const char *why;
	int r = pg_inject(d->fd, PGPDMA_TR_SLOW_UPDATE, dest);

	if (r)
		return r;
	r = pg_recv_frame(d, f, NULL, 0, 2000, &why);
	if (r != 1)
		return r ? r : -ETIMEDOUT;
	return f->n == 1 ? 0 : -EPROTO;
}

TEST_F(dev, get_info)
{
	struct pgpdma_info *i = &self->d.info, again;
	long pg = sysconf(_SC_PAGESIZE);
	char buf[64];
	unsigned int k;

	EXPECT_EQ((__u32)PGPDMA_API_VERSION, i->api_version);
	EXPECT_EQ(0u, i->flags & ~(__u32)(PGPDMA_INFO_COHERENT | PGPDMA_INFO_STREAMING));
	EXPECT_TRUE(!!(i->flags & PGPDMA_INFO_COHERENT) ^ !!(i->flags & PGPDMA_INFO_STREAMING));
	EXPECT_EQ(pg_dev_instance(), i->instance);
	EXPECT_LT(0u, i->rx_count);
	EXPECT_LT(0u, i->tx_count);
	EXPECT_LT(0u, i->buf_size);
	EXPECT_LE(i->buf_size, i->stride);
	EXPECT_EQ((__u32)PGPDMA_MAX_DEST, i->max_dest);
	EXPECT_EQ(0u, i->rx_offset % (__u64)pg);
	EXPECT_EQ(0u, i->tx_offset % (__u64)pg);
	EXPECT_EQ(0u, i->map_size % (__u64)pg);
	EXPECT_LE(i->rx_offset + (__u64)i->rx_count * i->stride, i->map_size);
	EXPECT_LE(i->tx_offset + (__u64)i->tx_count * i->stride, i->map_size);
	/* RX and TX regions do not overlap */
	EXPECT_TRUE(i->rx_offset + (__u64)i->rx_count * i->stride <= i->tx_offset ||
		    i->tx_offset + (__u64)i->tx_count * i->stride <= i->rx_offset);
	for (k = 0; k < PG_ARRAY_SIZE(i->reserved); k++)
		EXPECT_EQ(0u, i->reserved[k]);

	/* stable across calls and across files */
	ASSERT_EQ(0, pg_info(self->d.fd, &again));
	EXPECT_EQ(0, memcmp(i, &again, sizeof(again)));

	/* consistent with the module parameters */
	if (pg_read_file("/sys/module/pgpdma/parameters/cfgRxCount", buf, sizeof(buf)) > 0)
		EXPECT_EQ(i->rx_count, (__u32)strtoul(buf, NULL, 0));
	if (pg_read_file("/sys/module/pgpdma/parameters/cfgTxCount", buf, sizeof(buf)) > 0)
		EXPECT_EQ(i->tx_count, (__u32)strtoul(buf, NULL, 0));
	if (pg_read_file("/sys/module/pgpdma/parameters/cfgSize", buf, sizeof(buf)) > 0)
		EXPECT_EQ(i->buf_size, (__u32)strtoul(buf, NULL, 0));
	if (pg_read_file("/sys/module/pgpdma/parameters/cfgMode", buf, sizeof(buf)) > 0) {
		if (!strncmp(buf, "coherent", 8))
			EXPECT_TRUE(!!(i->flags & PGPDMA_INFO_COHERENT));
		if (!strncmp(buf, "streaming", 9))
			EXPECT_TRUE(!!(i->flags & PGPDMA_INFO_STREAMING));
	}
	TH_LOG("rx %u tx %u size %u stride %u rx_off %llu tx_off %llu map %llu flags %#x",
	       i->rx_count, i->tx_count, i->buf_size, i->stride,
	       (unsigned long long)i->rx_offset, (unsigned long long)i->tx_offset,
	       (unsigned long long)i->map_size, i->flags);
}

TEST_F(dev, get_info_rdonly_and_stats)
{
	struct pgpdma_info ri;
	struct pgpdma_stats st;
	int fd = pg_open(O_RDONLY);

	ASSERT_LE(0, fd);
	ASSERT_EQ(0, pg_info(fd, &ri));
	/* the fixture's file lifted its hold limit; a new one has the default */
	EXPECT_EQ(ri.rx_count / 2 ? ri.rx_count / 2 : 1, ri.rx_hold_max);
	EXPECT_EQ(self->d.info.rx_count, self->d.info.rx_hold_max);
	ri.rx_hold_max = self->d.info.rx_hold_max;
	EXPECT_EQ(0, memcmp(&ri, &self->d.info, sizeof(ri)));
	ASSERT_EQ(0, pg_stats(fd, &st));
	EXPECT_EQ(NULL, pg_states_bad(&ri, &st));
	close(fd);
}

TEST_F(dev, unknown_ioctl_enotty)
{
	struct pgpdma_info info;
	char big[512];
	int fd = self->d.fd;

	memset(big, 0, sizeof(big));
	EXPECT_EQ(-ENOTTY, pg_ioctl(fd, _IO(PGPDMA_IOC_MAGIC, 0x7f), NULL));
	EXPECT_EQ(-ENOTTY, pg_ioctl(fd, _IOR(PGPDMA_IOC_MAGIC, 0x02, struct pgpdma_stats), big));
	EXPECT_EQ(-ENOTTY, pg_ioctl(fd, _IOWR(PGPDMA_IOC_MAGIC, 0xff, struct pgpdma_info), big));
	/* wrong magic, right number and size */
	EXPECT_EQ(-ENOTTY, pg_ioctl(fd, _IOR(PGPDMA_IOC_MAGIC + 1, 0x00, struct pgpdma_info), &info));
	EXPECT_EQ(-ENOTTY, pg_ioctl(fd, _IOR('T', 0x00, struct pgpdma_info), &info));
	/* right number, wrong size or direction */
	EXPECT_EQ(-ENOTTY, pg_ioctl(fd, _IOR(PGPDMA_IOC_MAGIC, 0x00, __u32), big));
	EXPECT_EQ(-ENOTTY, pg_ioctl(fd, _IOW(PGPDMA_IOC_MAGIC, 0x00, struct pgpdma_info), big));
	EXPECT_EQ(-ENOTTY, pg_ioctl(fd, _IOR(PGPDMA_IOC_MAGIC, 0x10, struct pgpdma_rx_read), big));
	/* a generic tty ioctl */
	EXPECT_EQ(-ENOTTY, pg_ioctl(fd, TCGETS, big));
}

TEST_F(dev, reserved_nonzero_einval)
{
	struct pgpdma_stats before, after;
	struct pgpdma_rx_desc dsc[4];
	struct pgpdma_rx_read rr;
	struct pgpdma_index_list il;
	struct pgpdma_tx_acquire ta;
	struct pgpdma_tx_desc td;
	struct pgpdma_engine e;
	struct pgpdma_inject in;
	struct pg_frame f;
	__u32 idx;
	int fd = self->d.fd, tx, k;

	ASSERT_EQ(0, hold_one(&self->d, MYDEST, &f));
	idx = f.d[0].index;
	ASSERT_EQ(0, pg_inject(fd, PGPDMA_TR_ENABLE, MYDEST)); /* queued, unread */
	ASSERT_EQ(1, pg_wait_in(fd, 2000));
	tx = pg_tx_acquire(fd, 0);
	ASSERT_LE(0, tx);
	ASSERT_EQ(0, pg_stats(fd, &before));

	for (k = 0; k < 3; k++) {
		memset(&rr, 0, sizeof(rr));
		rr.descs = (__u64)(uintptr_t)dsc;
		rr.count = 4;
		rr.reserved[k] = 1u << k;
		EXPECT_EQ(-EINVAL, pg_ioctl(fd, PGPDMA_IOC_RX_READ, &rr));

		memset(&il, 0, sizeof(il));
		il.indexes = (__u64)(uintptr_t)&idx;
		il.count = 1;
		il.reserved[k] = 0x80000000u;
		EXPECT_EQ(-EINVAL, pg_ioctl(fd, PGPDMA_IOC_RX_RETURN, &il));
		EXPECT_EQ(-EINVAL, pg_ioctl(fd, PGPDMA_IOC_TX_RELEASE, &il));
	}
	for (k = 0; k < 2; k++) {
		memset(&ta, 0, sizeof(ta));
		ta.reserved[k] = 1;
		EXPECT_EQ(-EINVAL, pg_ioctl(fd, PGPDMA_IOC_TX_ACQUIRE, &ta));
		memset(&in, 0, sizeof(in));
		in.transition = PGPDMA_TR_CONFIGURE;
		in.dest = MYDEST;
		in.reserved[k] = 1;
		EXPECT_EQ(-EINVAL, pg_ioctl(fd, PGPDMA_IOC_INJECT, &in));
	}
	for (k = 0; k < 4; k++) {
		memset(&td, 0, sizeof(td));
		td.index = (__u32)tx;
		td.size = 1;
		td.dest = MYDEST;
		td.reserved[k] = 1;
		EXPECT_EQ(-EINVAL, pg_ioctl(fd, PGPDMA_IOC_TX_SUBMIT, &td));
	}
	for (k = 0; k < 7; k++) {
		memset(&e, 0, sizeof(e));
		e.mode = PGPDMA_ENG_GENERATOR;
		e.rate_hz = 1000;
		e.frame_size = 64;
		e.dest = OTHERDEST;
		e.count = 1;
		e.reserved[k] = 1;
		EXPECT_EQ(-EINVAL, pg_ioctl(fd, PGPDMA_IOC_ENGINE_SET, &e));
	}
	ASSERT_EQ(0, pg_engine_get(fd, &e));
	EXPECT_EQ((__u32)PGPDMA_ENG_IDLE, e.mode);
	EXPECT_EQ(0u, e.running);
	for (k = 0; k < 7; k++)
		EXPECT_EQ(0u, e.reserved[k]);

	ASSERT_EQ(0, pg_stats(fd, &after));
	EXPECT_TRUE(!!(same_state(&before, &after)));
	EXPECT_EQ(before.rx_frames, after.rx_frames);

	/* nothing changed: the held buffers are still ours */
	EXPECT_EQ(0, pg_frame_return(&self->d, &f));
	EXPECT_EQ(0, pg_tx_release(fd, (__u32 *)&tx, 1));
	EXPECT_EQ(1, pg_drain(fd, 0));
}

TEST_F(dev, unknown_flags_and_values_einval)
{
	struct pgpdma_stats before, after;
	struct pgpdma_rx_desc dsc[4];
	struct pgpdma_engine e;
	int fd = self->d.fd, tx, k;

	tx = pg_tx_acquire(fd, 0);
	ASSERT_LE(0, tx);
	ASSERT_EQ(0, pg_stats(fd, &before));
	for (k = 1; k < 32; k++) {
		EXPECT_EQ(-EINVAL, pg_rx_read(fd, dsc, 4, 1u << k));
		EXPECT_EQ(-EINVAL, pg_tx_acquire(fd, 1u << k));
		EXPECT_EQ(-EINVAL, pg_tx_submit(fd, (__u32)tx, 1, MYDEST, 1u << k));
		if ((1u << k) & PGPDMA_ENGF_PATTERN)
			continue;	/* known flag */
		EXPECT_EQ(-EINVAL, pg_engine_set(fd, PGPDMA_ENG_GENERATOR, 1u << k,
						 1000, 64, OTHERDEST, 1, 1));
	}
	/* unknown engine mode, undersized frame, bad dest */
	EXPECT_EQ(-EINVAL, pg_engine_set(fd, 3, 0, 1000, 64, OTHERDEST, 1, 1));
	EXPECT_EQ(-EINVAL, pg_engine_set(fd, 0xffffffffu, 0, 1000, 64, OTHERDEST, 1, 1));
	EXPECT_EQ(-EINVAL, pg_engine_set(fd, PGPDMA_ENG_GENERATOR, 0, 1000,
					 PGPDMA_TH_SIZE - 1, OTHERDEST, 1, 1));
	EXPECT_EQ(-EINVAL, pg_engine_set(fd, PGPDMA_ENG_GENERATOR, 0, 1000, 64,
					 PGPDMA_MAX_DEST, 1, 1));
	/* TX descriptor values */
	EXPECT_EQ(-EINVAL, pg_tx_submit(fd, (__u32)tx, 0, MYDEST, 0));
	EXPECT_EQ(-EINVAL, pg_tx_submit(fd, (__u32)tx, self->d.info.buf_size + 1, MYDEST, 0));
	EXPECT_EQ(-EINVAL, pg_tx_submit(fd, (__u32)tx, 1, PGPDMA_MAX_DEST, 0));
	EXPECT_EQ(-EINVAL, pg_tx_submit(fd, (__u32)tx, 1, 0xffffffffu, 0));
	/* inject: L1Accept is not a transition, ids beyond the 4-bit field */
	EXPECT_EQ(-EINVAL, pg_inject(fd, PGPDMA_TR_L1ACCEPT, MYDEST));
	EXPECT_EQ(-EINVAL, pg_inject(fd, 11, MYDEST));
	EXPECT_EQ(-EINVAL, pg_inject(fd, 16, MYDEST));
	EXPECT_EQ(-EINVAL, pg_inject(fd, 0xffffffffu, MYDEST));
	EXPECT_EQ(-EINVAL, pg_inject(fd, PGPDMA_TR_CONFIGURE, PGPDMA_MAX_DEST));

	ASSERT_EQ(0, pg_engine_get(fd, &e));
	EXPECT_EQ((__u32)PGPDMA_ENG_IDLE, e.mode);
	ASSERT_EQ(0, pg_stats(fd, &after));
	EXPECT_TRUE(!!(same_state(&before, &after)));
	EXPECT_EQ(before.gen_frames, after.gen_frames);
	EXPECT_EQ(0, pg_tx_release(fd, (__u32 *)&tx, 1));
	EXPECT_EQ(0, pg_drain(fd, 50));
}

TEST_F(dev, batch_count_bounds)
{
	static struct pgpdma_rx_desc dsc[PGPDMA_MAX_BATCH + 1];
	static __u32 idx[PGPDMA_MAX_BATCH + 1];
	int fd = self->d.fd;

	EXPECT_EQ(-EINVAL, pg_rx_read(fd, dsc, 0, 0));
	EXPECT_EQ(-EINVAL, pg_rx_read(fd, dsc, PGPDMA_MAX_BATCH + 1, 0));
	EXPECT_EQ(-EINVAL, pg_rx_read(fd, dsc, 0xffffffffu, 0));
	EXPECT_EQ(0, pg_rx_read(fd, dsc, PGPDMA_MAX_BATCH, 0));
	EXPECT_EQ(0, pg_rx_read(fd, dsc, 1, 0));
	EXPECT_EQ(-EINVAL, pg_rx_return(fd, idx, 0));
	EXPECT_EQ(-EINVAL, pg_rx_return(fd, idx, PGPDMA_MAX_BATCH + 1));
	EXPECT_EQ(-EINVAL, pg_rx_return(fd, idx, 0xffffffffu));
	EXPECT_EQ(-EINVAL, pg_tx_release(fd, idx, 0));
	EXPECT_EQ(-EINVAL, pg_tx_release(fd, idx, PGPDMA_MAX_BATCH + 1));
	EXPECT_EQ(-EINVAL, pg_tx_release(fd, idx, 0xffffffffu));
}

TEST_F(dev, bad_pointers_efault)
{
	static const unsigned long cmds[] = {
		PGPDMA_IOC_GET_INFO, PGPDMA_IOC_GET_STATS, PGPDMA_IOC_RX_READ,
		PGPDMA_IOC_RX_RETURN, PGPDMA_IOC_TX_ACQUIRE, PGPDMA_IOC_TX_SUBMIT,
		PGPDMA_IOC_TX_RELEASE, PGPDMA_IOC_SET_DEST, PGPDMA_IOC_GET_DEST,
		PGPDMA_IOC_ENGINE_GET, PGPDMA_IOC_ENGINE_SET, PGPDMA_IOC_INJECT,
	};
	struct pgpdma_stats before, after;
	struct pgpdma_rx_read rr;
	struct pgpdma_index_list il;
	struct pg_frame f;
	const char *why;
	char small[16];
	void *gone;
	unsigned int k;
	int fd = self->d.fd;

	gone = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, gone);
	munmap(gone, 4096);

	ASSERT_EQ(0, pg_stats(fd, &before));
	for (k = 0; k < PG_ARRAY_SIZE(cmds); k++) {
		EXPECT_EQ(-EFAULT, pg_ioctl(fd, cmds[k], NULL)) {
			TH_LOG("cmd %#lx with NULL", cmds[k]);
		}
		EXPECT_EQ(-EFAULT, pg_ioctl(fd, cmds[k], BADPTR)) {
			TH_LOG("cmd %#lx with kernel pointer", cmds[k]);
		}
		EXPECT_EQ(-EFAULT, pg_ioctl(fd, cmds[k], gone)) {
			TH_LOG("cmd %#lx with unmapped pointer", cmds[k]);
		}
	}
	ASSERT_EQ(0, pg_stats(fd, &after));
	EXPECT_TRUE(!!(same_state(&before, &after)));

	/* a frame is queued: RX_READ into a bad descs array faults, and so
	 * does read() into a bad buffer, without leaking the buffers to the
	 * file (the ABI leaves open whether the frame stays queued or is
	 * recycled; it must never stay held) */
	for (k = 0; k < 4; k++) {
		void *bad = k == 0 ? BADPTR : k == 1 ? gone : NULL;
		int drained;

		ASSERT_EQ(0, pg_inject(fd, PGPDMA_TR_CONFIGURE, MYDEST));
		ASSERT_EQ(1, pg_wait_in(fd, 2000));
		if (k < 3) {
			memset(&rr, 0, sizeof(rr));
			rr.count = 4;
			rr.descs = (__u64)(uintptr_t)bad;
			EXPECT_EQ(-EFAULT, pg_ioctl(fd, PGPDMA_IOC_RX_READ, &rr)) {
				TH_LOG("RX_READ into %p", bad);
			}
		} else {
			EXPECT_EQ(-1, read(fd, gone, 64));
			EXPECT_EQ(EFAULT, errno);
		}
		ASSERT_EQ(0, pg_stats(fd, &after));
		EXPECT_EQ(0u, after.state[PGPDMA_ST_RX_USER]);
		check_states(fd);
		drained = pg_drain(fd, 0);
		EXPECT_GE(1, drained);
		TH_LOG("%s fault: the frame was %s", k < 3 ? "RX_READ" : "read()",
		       drained == 1 ? "kept queued" : "recycled");
	}
	ASSERT_EQ(0, pg_inject(fd, PGPDMA_TR_CONFIGURE, MYDEST));
	EXPECT_EQ(1, pg_recv_frame(&self->d, &f, NULL, 0, 1000, &why));
	EXPECT_EQ((size_t)PGPDMA_TH_SIZE, f.len);

	/* return/release with a bad index array: fault, buffer still held */
	memset(&il, 0, sizeof(il));
	il.count = 1;
	il.indexes = (__u64)(uintptr_t)BADPTR;
	EXPECT_EQ(-EFAULT, pg_ioctl(fd, PGPDMA_IOC_RX_RETURN, &il));
	EXPECT_EQ(-EFAULT, pg_ioctl(fd, PGPDMA_IOC_TX_RELEASE, &il));
	il.indexes = (__u64)(uintptr_t)gone;
	EXPECT_EQ(-EFAULT, pg_ioctl(fd, PGPDMA_IOC_RX_RETURN, &il));
	ASSERT_EQ(0, pg_stats(fd, &after));
	EXPECT_EQ(1u, after.state[PGPDMA_ST_RX_USER]);
	EXPECT_EQ(0, pg_frame_return(&self->d, &f));

	/* write() from a bad buffer: EFAULT, no TX buffer leaked */
	EXPECT_EQ(-1, write(fd, gone, 64));
	EXPECT_EQ(EFAULT, errno);
	EXPECT_EQ(-1, write(fd, BADPTR, 64));
	EXPECT_EQ(EFAULT, errno);
	ASSERT_EQ(0, pg_stats(fd, &after));
	EXPECT_EQ(0u, after.state[PGPDMA_ST_TX_USER]);
	(void)small;
}

TEST_F(dev, mmap_bounds)
{
	const struct pgpdma_info *i = &self->d.info;
	long pg = sysconf(_SC_PAGESIZE);
	int fd = self->d.fd, tx;
	void *p;

	/* whole pool: ok (the fixture mapped it too) */
	p = mmap(NULL, i->map_size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	ASSERT_NE(MAP_FAILED, p);
	/* same memory as the fixture mapping: a TX buffer written through one
	 * mapping is visible through the other */
	tx = pg_tx_acquire(fd, 0);
	ASSERT_LE(0, tx);
	memset(pg_tx_buf(&self->d, (__u32)tx), 0x5a, 64);
	EXPECT_EQ(0x5a, ((volatile uint8_t *)p)[i->tx_offset + (uint64_t)tx * i->stride + 63]);
	EXPECT_EQ(0, pg_tx_release(fd, (__u32 *)&tx, 1));
	munmap(p, i->map_size);

	/* offset at and past the end of the pool */
	p = mmap(NULL, (size_t)pg, PROT_READ, MAP_SHARED, fd, (off_t)i->map_size);
	EXPECT_EQ(MAP_FAILED, p);
	if (p != MAP_FAILED)
		munmap(p, (size_t)pg);
	p = mmap(NULL, (size_t)pg, PROT_READ, MAP_SHARED, fd, (off_t)i->map_size + 16 * pg);
	EXPECT_EQ(MAP_FAILED, p);
	if (p != MAP_FAILED)
		munmap(p, (size_t)pg);
	/* length past the end */
	p = mmap(NULL, i->map_size + (size_t)pg, PROT_READ, MAP_SHARED, fd, 0);
	EXPECT_EQ(MAP_FAILED, p);
	if (p != MAP_FAILED)
		munmap(p, i->map_size + (size_t)pg);
	if (i->map_size > (__u64)pg) {
		p = mmap(NULL, i->map_size, PROT_READ, MAP_SHARED, fd, (off_t)pg);
		EXPECT_EQ(MAP_FAILED, p);
		if (p != MAP_FAILED)
			munmap(p, i->map_size);
	}
	/* unaligned offset */
	p = mmap(NULL, (size_t)pg, PROT_READ, MAP_SHARED, fd, 1);
	EXPECT_EQ(MAP_FAILED, p);
	if (p != MAP_FAILED)
		munmap(p, (size_t)pg);
	/* executable mapping is refused */
	p = mmap(NULL, i->map_size, PROT_READ | PROT_EXEC, MAP_SHARED, fd, 0);
	EXPECT_EQ(MAP_FAILED, p);
	if (p != MAP_FAILED)
		munmap(p, i->map_size);
	/* and cannot be gained later */
	p = mmap(NULL, i->map_size, PROT_READ, MAP_SHARED, fd, 0);
	ASSERT_NE(MAP_FAILED, p);
	EXPECT_NE(0, mprotect(p, i->map_size, PROT_READ | PROT_EXEC));
	munmap(p, i->map_size);
}

TEST_F(dev, mmap_rdonly_fd)
{
	size_t len = self->d.info.map_size;
	int fd = pg_open(O_RDONLY);
	void *p;

	ASSERT_LE(0, fd);
	p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	EXPECT_EQ(MAP_FAILED, p);
	if (p != MAP_FAILED)
		munmap(p, len);
	p = mmap(NULL, len, PROT_WRITE, MAP_SHARED, fd, 0);
	EXPECT_EQ(MAP_FAILED, p);
	if (p != MAP_FAILED)
		munmap(p, len);
	p = mmap(NULL, len, PROT_READ, MAP_SHARED, fd, 0);
	ASSERT_NE(MAP_FAILED, p);
	EXPECT_NE(0, mprotect(p, len, PROT_READ | PROT_WRITE));
	munmap(p, len);
	close(fd);
}

TEST_F(dev, rx_return_bad_index)
{
	struct pgpdma_stats before, after;
	struct pg_dev other;
	struct pg_frame mine, theirs;
	__u32 v[3];
	int fd = self->d.fd;

	ASSERT_EQ(0, pg_dev_open(&other, O_RDWR, true));
	ASSERT_EQ(0, pg_set_dest_one(other.fd, OTHERDEST));
	ASSERT_EQ(0, hold_one(&self->d, MYDEST, &mine));
	ASSERT_EQ(0, hold_one(&other, OTHERDEST, &theirs));
	ASSERT_NE(mine.d[0].index, theirs.d[0].index);
	ASSERT_EQ(0, pg_stats(fd, &before));
	EXPECT_EQ(2u, before.state[PGPDMA_ST_RX_USER]);

	/* out of range */
	EXPECT_EQ(-EINVAL, pg_rx_return1(fd, self->d.info.rx_count));
	EXPECT_EQ(-EINVAL, pg_rx_return1(fd, 0xffffffffu));
	EXPECT_EQ(-EINVAL, pg_rx_return1(fd, 0x80000000u));
	/* held by another file */
	EXPECT_EQ(-EINVAL, pg_rx_return1(fd, theirs.d[0].index));
	/* repeated in one batch */
	v[0] = v[1] = mine.d[0].index;
	EXPECT_EQ(-EINVAL, pg_rx_return(fd, v, 2));
	/* all or nothing: one good, one bad */
	v[0] = mine.d[0].index;
	v[1] = theirs.d[0].index;
	EXPECT_EQ(-EINVAL, pg_rx_return(fd, v, 2));
	v[1] = self->d.info.rx_count;
	EXPECT_EQ(-EINVAL, pg_rx_return(fd, v, 2));
	v[1] = v[0];
	v[0] = self->d.info.rx_count + 7;
	EXPECT_EQ(-EINVAL, pg_rx_return(fd, v, 2));
	/* never-read (engine-owned) buffer: any index other than ours/theirs */
	for (v[2] = 0; v[2] < self->d.info.rx_count; v[2]++)
		if (v[2] != mine.d[0].index && v[2] != theirs.d[0].index)
			break;
	if (v[2] < self->d.info.rx_count)
		EXPECT_EQ(-EINVAL, pg_rx_return1(fd, v[2]));

	ASSERT_EQ(0, pg_stats(fd, &after));
	EXPECT_TRUE(!!(same_state(&before, &after)));

	/* the real owners can return them; a second return is refused */
	EXPECT_EQ(0, pg_rx_return1(fd, mine.d[0].index));
	ASSERT_EQ(0, pg_stats(fd, &before));
	EXPECT_EQ(-EINVAL, pg_rx_return1(fd, mine.d[0].index));
	ASSERT_EQ(0, pg_stats(fd, &after));
	EXPECT_TRUE(!!(same_state(&before, &after)));
	EXPECT_EQ(0, pg_rx_return1(other.fd, theirs.d[0].index));
	EXPECT_EQ(-EINVAL, pg_rx_return1(other.fd, theirs.d[0].index));
	pg_dev_close(&other);
}

TEST_F(dev, tx_acquire_submit_release)
{
	struct pgpdma_stats before, after;
	struct pg_dev other;
	int fd = self->d.fd, a, b, o;
	__u32 v[2];

	ASSERT_EQ(0, pg_dev_open(&other, O_RDWR, false));
	a = pg_tx_acquire(fd, 0);
	ASSERT_LE(0, a);
	ASSERT_LT((__u32)a, self->d.info.tx_count);
	b = pg_tx_acquire(fd, PGPDMA_TXA_WAIT);
	ASSERT_LE(0, b);
	ASSERT_NE(a, b);
	o = pg_tx_acquire(other.fd, 0);
	ASSERT_LE(0, o);
	ASSERT_EQ(0, pg_stats(fd, &before));
	EXPECT_EQ(3u, before.state[PGPDMA_ST_TX_USER]);

	/* TX buffer memory is writable through the mapping */
	memset(pg_tx_buf(&self->d, (__u32)a), 0xa5, self->d.info.buf_size);

	EXPECT_EQ(-EINVAL, pg_tx_submit(fd, self->d.info.tx_count, 1, MYDEST, 0));
	EXPECT_EQ(-EINVAL, pg_tx_submit(fd, 0xffffffffu, 1, MYDEST, 0));
	EXPECT_EQ(-EINVAL, pg_tx_submit(fd, (__u32)o, 1, MYDEST, 0));
	EXPECT_EQ(-EINVAL, pg_tx_release(fd, (__u32 *)&o, 1));
	v[0] = (__u32)a;
	v[1] = (__u32)a;
	EXPECT_EQ(-EINVAL, pg_tx_release(fd, v, 2));
	v[1] = self->d.info.tx_count;
	EXPECT_EQ(-EINVAL, pg_tx_release(fd, v, 2));
	ASSERT_EQ(0, pg_stats(fd, &after));
	EXPECT_TRUE(!!(same_state(&before, &after)));

	v[0] = (__u32)a;
	v[1] = (__u32)b;
	EXPECT_EQ(0, pg_tx_release(fd, v, 2));
	EXPECT_EQ(-EINVAL, pg_tx_release(fd, v, 1));
	EXPECT_EQ(-EINVAL, pg_tx_submit(fd, (__u32)a, 1, MYDEST, 0));
	ASSERT_EQ(0, pg_stats(fd, &after));
	EXPECT_EQ(1u, after.state[PGPDMA_ST_TX_USER]);
	pg_dev_close(&other);	/* its acquired buffer is reclaimed */
	ASSERT_EQ(0, pg_stats(fd, &after));
	EXPECT_EQ(0u, after.state[PGPDMA_ST_TX_USER]);
	EXPECT_LT(before.reclaimed, after.reclaimed);
}

TEST_F(dev, dest_claims)
{
	struct pgpdma_dest_mask m, got, c;
	int fd = self->d.fd, fd2;

	ASSERT_EQ(0, pg_ioctl(fd, PGPDMA_IOC_GET_DEST, &got));
	memset(&m, 0, sizeof(m));
	m.mask[MYDEST / 64] = 1ull << (MYDEST % 64);
	EXPECT_EQ(0, memcmp(&m, &got, sizeof(m)));

	/* replace the claim with several dests in different words */
	m.mask[0] = 1ull << MYDEST | 1ull << 63;
	m.mask[3] = 1ull << 63;
	ASSERT_EQ(0, pg_ioctl(fd, PGPDMA_IOC_SET_DEST, &m));
	ASSERT_EQ(0, pg_ioctl(fd, PGPDMA_IOC_GET_DEST, &got));
	EXPECT_EQ(0, memcmp(&m, &got, sizeof(m)));

	fd2 = pg_open(O_RDWR);
	ASSERT_LE(0, fd2);
	/* conflicting claim: EBUSY, nothing changes for either file */
	EXPECT_EQ(-EBUSY, pg_set_dest_one(fd2, 255));
	EXPECT_EQ(0, pg_set_dest_one(fd2, OTHERDEST));
	memset(&c, 0, sizeof(c));
	c.mask[OTHERDEST / 64] = 1ull << (OTHERDEST % 64);
	c.mask[1] = 1;	/* dest 64 is free */
	c.mask[3] = 1ull << 63;	/* dest 255 is not */
	EXPECT_EQ(-EBUSY, pg_ioctl(fd2, PGPDMA_IOC_SET_DEST, &c));
	ASSERT_EQ(0, pg_ioctl(fd2, PGPDMA_IOC_GET_DEST, &got));
	memset(&c, 0, sizeof(c));
	c.mask[OTHERDEST / 64] = 1ull << (OTHERDEST % 64);
	EXPECT_EQ(0, memcmp(&c, &got, sizeof(c)));
	ASSERT_EQ(0, pg_ioctl(fd, PGPDMA_IOC_GET_DEST, &got));
	EXPECT_EQ(0, memcmp(&m, &got, sizeof(m)));
	/* re-setting one's own claim is not a conflict */
	EXPECT_EQ(0, pg_ioctl(fd, PGPDMA_IOC_SET_DEST, &m));
	/* releasing the claim frees the dest for others */
	ASSERT_EQ(0, pg_set_dest_one(fd, MYDEST));
	EXPECT_EQ(0, pg_set_dest_one(fd2, 255));
	/* closing frees it as well */
	close(fd2);
	EXPECT_EQ(0, pg_set_dest_one(fd, 255));
	EXPECT_EQ(0, pg_set_dest_one(fd, MYDEST));
}

struct delayed_inject {
	int fd;
	unsigned int ms;
	__u32 dest;
};

static void *inject_later(void *arg)
{
	struct delayed_inject *di = arg;

	pg_msleep(di->ms);
	pg_inject(di->fd, PGPDMA_TR_BEGIN_STEP, di->dest);
	return NULL;
}

TEST_F(dev, poll_in)
{
	struct pollfd p = { .fd = self->d.fd, .events = POLLIN | POLLRDNORM };
	struct delayed_inject di = { self->d.fd, 200, MYDEST };
	struct pg_frame f;
	const char *why;
	pthread_t th;
	uint64_t t0;

	EXPECT_EQ(0, poll(&p, 1, 0));
	/* a frame for another (unclaimed) dest does not wake us */
	ASSERT_EQ(0, pg_inject(self->d.fd, PGPDMA_TR_CONFIGURE, OTHERDEST));
	EXPECT_EQ(0, poll(&p, 1, 100));

	ASSERT_EQ(0, pg_inject(self->d.fd, PGPDMA_TR_CONFIGURE, MYDEST));
	EXPECT_EQ(1, poll(&p, 1, 2000));
	EXPECT_TRUE(!!(p.revents & POLLIN));
	ASSERT_EQ(1, pg_recv_frame(&self->d, &f, NULL, 0, 1000, &why));
	ASSERT_EQ(0, pg_frame_return(&self->d, &f));
	p.revents = 0;
	EXPECT_EQ(0, poll(&p, 1, 0));

	/* a blocked poll is woken by a frame arriving */
	ASSERT_EQ(0, pthread_create(&th, NULL, inject_later, &di));
	t0 = pg_now_ns();
	EXPECT_EQ(1, poll(&p, 1, 5000));
	EXPECT_TRUE(!!(p.revents & POLLIN));
	EXPECT_LT(pg_now_ns() - t0, 4000000000ull);
	EXPECT_LE(150000000ull, pg_now_ns() - t0);
	pthread_join(th, NULL);
	EXPECT_EQ(1, pg_drain(self->d.fd, 0));
}

TEST_F(dev, poll_out)
{
	struct pollfd p = { .fd = self->d.fd, .events = POLLOUT };
	__u32 n = self->d.info.tx_count, k;
	__u32 *idx = calloc(n, sizeof(*idx));
	int r;

	ASSERT_NE(NULL, idx);
	EXPECT_EQ(1, poll(&p, 1, 0));
	EXPECT_TRUE(!!(p.revents & POLLOUT));
	for (k = 0; k < n; k++) {
		r = pg_tx_acquire(self->d.fd, 0);
		ASSERT_LE(0, r);
		idx[k] = (__u32)r;
	}
	EXPECT_EQ(-EAGAIN, pg_tx_acquire(self->d.fd, 0));
	p.revents = 0;
	EXPECT_EQ(0, poll(&p, 1, 0));
	EXPECT_FALSE(!!(p.revents & POLLOUT));
	EXPECT_EQ(0, pg_tx_release(self->d.fd, idx, 1));
	EXPECT_EQ(1, poll(&p, 1, 1000));
	EXPECT_TRUE(!!(p.revents & POLLOUT));
	EXPECT_EQ(0, pg_tx_release(self->d.fd, idx + 1, n - 1));
	free(idx);
}

TEST_F(dev, nonblock)
{
	struct pgpdma_rx_desc dsc[4];
	__u32 n = self->d.info.tx_count, k;
	__u32 *idx = calloc(n, sizeof(*idx));
	char buf[256];
	int nfd, r, fl;

	ASSERT_NE(NULL, idx);
	nfd = pg_open(O_RDWR | O_NONBLOCK);
	ASSERT_LE(0, nfd);
	ASSERT_EQ(0, pg_set_dest_one(nfd, OTHERDEST));
	/* empty queue */
	EXPECT_EQ(-1, read(nfd, buf, sizeof(buf)));
	EXPECT_EQ(EAGAIN, errno);
	EXPECT_EQ(0, pg_rx_read(nfd, dsc, 4, PGPDMA_READ_WAIT));
	EXPECT_EQ(0, pg_rx_read(nfd, dsc, 4, 0));
	/* blocking fd without WAIT: empty gives 0 filled */
	EXPECT_EQ(0, pg_rx_read(self->d.fd, dsc, 4, 0));

	/* TX exhausted */
	for (k = 0; k < n; k++) {
		r = pg_tx_acquire(nfd, PGPDMA_TXA_WAIT);
		ASSERT_LE(0, r);
		idx[k] = (__u32)r;
	}
	EXPECT_EQ(-EAGAIN, pg_tx_acquire(nfd, PGPDMA_TXA_WAIT));
	EXPECT_EQ(-EAGAIN, pg_tx_acquire(nfd, 0));
	EXPECT_EQ(-EAGAIN, pg_tx_acquire(self->d.fd, 0));
	EXPECT_EQ(-1, write(nfd, buf, 16));
	EXPECT_EQ(EAGAIN, errno);
	/* O_NONBLOCK set later with fcntl is honoured too */
	fl = fcntl(self->d.fd, F_GETFL);
	ASSERT_EQ(0, fcntl(self->d.fd, F_SETFL, fl | O_NONBLOCK));
	EXPECT_EQ(-EAGAIN, pg_tx_acquire(self->d.fd, PGPDMA_TXA_WAIT));
	EXPECT_EQ(-1, write(self->d.fd, buf, 16));
	EXPECT_EQ(EAGAIN, errno);
	EXPECT_EQ(-1, read(self->d.fd, buf, sizeof(buf)));
	EXPECT_EQ(EAGAIN, errno);
	ASSERT_EQ(0, fcntl(self->d.fd, F_SETFL, fl));
	EXPECT_EQ(0, pg_tx_release(nfd, idx, n));

	/* with a frame queued, the non-blocking read gets it */
	ASSERT_EQ(0, pg_inject(nfd, PGPDMA_TR_ENABLE, OTHERDEST));
	ASSERT_EQ(1, pg_wait_in(nfd, 2000));
	EXPECT_EQ(PGPDMA_TH_SIZE, read(nfd, buf, sizeof(buf)));
	close(nfd);
	free(idx);
}

TEST_F(dev, blocking_waits_wake)
{
	struct delayed_inject di = { self->d.fd, 200, MYDEST };
	struct pgpdma_rx_desc dsc[4];
	char buf[128];
	pthread_t th;
	uint64_t t0;

	ASSERT_EQ(0, pthread_create(&th, NULL, inject_later, &di));
	t0 = pg_now_ns();
	EXPECT_EQ(1, pg_rx_read(self->d.fd, dsc, 4, PGPDMA_READ_WAIT));
	EXPECT_LE(150000000ull, pg_now_ns() - t0);
	pthread_join(th, NULL);
	EXPECT_EQ(0, pg_rx_return1(self->d.fd, dsc[0].index));

	ASSERT_EQ(0, pthread_create(&th, NULL, inject_later, &di));
	t0 = pg_now_ns();
	EXPECT_EQ(PGPDMA_TH_SIZE, read(self->d.fd, buf, sizeof(buf)));
	EXPECT_LE(150000000ull, pg_now_ns() - t0);
	pthread_join(th, NULL);
}

TEST_F(dev, read_emsgsize)
{
	struct pgpdma_timing_header th;
	struct pgpdma_stats st;
	char buf[64];

	ASSERT_EQ(0, pg_inject(self->d.fd, PGPDMA_TR_BEGIN_RUN, MYDEST));
	ASSERT_EQ(1, pg_wait_in(self->d.fd, 2000));
	EXPECT_EQ(-1, read(self->d.fd, buf, PGPDMA_TH_SIZE - 1));
	EXPECT_EQ(EMSGSIZE, errno);
	EXPECT_EQ(-1, read(self->d.fd, buf, 1));
	EXPECT_EQ(EMSGSIZE, errno);
	/* still queued and readable, nothing leaked to the file */
	ASSERT_EQ(0, pg_stats(self->d.fd, &st));
	EXPECT_EQ(0u, st.state[PGPDMA_ST_RX_USER]);
	EXPECT_LE(1u, st.state[PGPDMA_ST_RX_QUEUED]);
	EXPECT_EQ(1, pg_wait_in(self->d.fd, 0));
	EXPECT_EQ(PGPDMA_TH_SIZE, read(self->d.fd, buf, sizeof(buf)));
	memcpy(&th, buf, sizeof(th));
	EXPECT_EQ((unsigned int)PGPDMA_TR_BEGIN_RUN, pgpdma_th_transition(&th));
	/* read() recycled the buffers */
	ASSERT_EQ(0, pg_stats(self->d.fd, &st));
	EXPECT_EQ(0u, st.state[PGPDMA_ST_RX_USER]);
	/* zero-length read: not a frame */
	EXPECT_EQ(0, pg_wait_in(self->d.fd, 0));
}

TEST_F(dev, inject_every_transition)
{
	static const __u32 trs[] = {
		PGPDMA_TR_CLEAR_READOUT, PGPDMA_TR_RESET, PGPDMA_TR_CONFIGURE,
		PGPDMA_TR_UNCONFIGURE, PGPDMA_TR_BEGIN_RUN, PGPDMA_TR_END_RUN,
		PGPDMA_TR_BEGIN_STEP, PGPDMA_TR_END_STEP, PGPDMA_TR_ENABLE,
		PGPDMA_TR_DISABLE, PGPDMA_TR_SLOW_UPDATE,
	};
	struct pgpdma_stats before, after;
	struct pgpdma_timing_header th;
	struct pg_frame f;
	uint8_t buf[256];
	__u64 last_pid = 0, last_seq = 0;
	__u32 last_evt = 0;
	const char *why;
	unsigned int k;

	ASSERT_EQ(0, pg_stats(self->d.fd, &before));
	for (k = 0; k < PG_ARRAY_SIZE(trs); k++) {
		ASSERT_EQ(0, pg_inject(self->d.fd, trs[k], MYDEST));
		ASSERT_EQ(1, pg_recv_frame(&self->d, &f, buf, sizeof(buf), 2000, &why)) {
			TH_LOG("transition %u: %s", trs[k], why ? why : "timeout");
		}
		EXPECT_EQ((size_t)PGPDMA_TH_SIZE, f.len);
		EXPECT_EQ(1u, f.n);
		EXPECT_EQ((__u32)MYDEST, f.d[0].dest);
		EXPECT_EQ(0u, f.d[0].error);
		memcpy(&th, buf, sizeof(th));
		EXPECT_EQ(trs[k], pgpdma_th_transition(&th));
		EXPECT_FALSE(!!(th.pulse_id_ctl & PGPDMA_TH_ERROR));
		EXPECT_GT(1000000000u, th.nanoseconds);
		if (k) {
			EXPECT_LT(last_pid, pgpdma_th_pulse_id(&th));
			EXPECT_EQ((last_evt + 1) & PGPDMA_TH_EVT_COUNTER_MASK,
				  th.evt_counter & PGPDMA_TH_EVT_COUNTER_MASK);
			EXPECT_EQ(last_seq + 1, f.d[0].seq);
		}
		EXPECT_EQ(0u, th.evt_counter & ~PGPDMA_TH_EVT_COUNTER_MASK);
		last_pid = pgpdma_th_pulse_id(&th);
		last_evt = th.evt_counter;
		last_seq = f.d[0].seq;
		ASSERT_EQ(0, pg_frame_return(&self->d, &f));
	}
	ASSERT_EQ(0, pg_stats(self->d.fd, &after));
	EXPECT_EQ(before.transitions + PG_ARRAY_SIZE(trs), after.transitions);
	EXPECT_EQ(before.rx_frames + PG_ARRAY_SIZE(trs), after.rx_frames);
	EXPECT_EQ(before.user_reads + PG_ARRAY_SIZE(trs), after.user_reads);
	EXPECT_EQ(before.user_returns + PG_ARRAY_SIZE(trs), after.user_returns);
}

TEST_F(dev, proc_and_sysfs_status)
{
	char buf[8192];
	int n;

	n = pg_read_file(pg_proc_path(), buf, sizeof(buf));
	if (n == -ENOENT)
		TH_LOG("no %s (status file elsewhere?)", pg_proc_path());
	else
		EXPECT_LT(0, n);
	n = pg_read_file("/sys/module/pgpdma/parameters/cfgRxCount", buf, sizeof(buf));
	EXPECT_LT(0, n);
}

struct delayed_release {
	int fd;
	__u32 idx;
};

static void *release_later(void *arg)
{
	struct delayed_release *dr = arg;

	pg_msleep(200);
	pg_tx_release(dr->fd, &dr->idx, 1);
	return NULL;
}

/* A poll blocked for POLLOUT is woken when a TX buffer is freed. */
TEST_F(dev, poll_out_wakes)
{
	struct pollfd p = { .fd = self->d.fd, .events = POLLOUT };
	__u32 n = self->d.info.tx_count, k;
	__u32 *idx = calloc(n, sizeof(*idx));
	struct delayed_release dr;
	pthread_t th;
	uint64_t t0;
	int r;

	ASSERT_NE(NULL, idx);
	for (k = 0; k < n; k++) {
		r = pg_tx_acquire(self->d.fd, 0);
		ASSERT_LE(0, r);
		idx[k] = (__u32)r;
	}
	dr.fd = self->d.fd;
	dr.idx = idx[n - 1];
	ASSERT_EQ(0, pthread_create(&th, NULL, release_later, &dr));
	t0 = pg_now_ns();
	EXPECT_EQ(1, poll(&p, 1, 5000));
	EXPECT_TRUE(!!(p.revents & POLLOUT));
	EXPECT_LE(150000000ull, pg_now_ns() - t0);
	pthread_join(th, NULL);
	/* and a blocking TX_ACQUIRE(WAIT) likewise */
	dr.idx = idx[0];
	ASSERT_EQ(0, pthread_create(&th, NULL, release_later, &dr));
	r = pg_tx_acquire(self->d.fd, 0);	/* the one poll saw */
	EXPECT_LE(0, r);
	t0 = pg_now_ns();
	k = (__u32)pg_tx_acquire(self->d.fd, PGPDMA_TXA_WAIT);
	EXPECT_EQ(idx[0], k);
	EXPECT_LE(150000000ull, pg_now_ns() - t0);
	pthread_join(th, NULL);
	if (r >= 0)
		idx[n - 1] = (__u32)r;
	EXPECT_EQ(0, pg_tx_release(self->d.fd, idx, n));
	free(idx);
}

TEST_F(dev, epoll_in_out)
{
	struct epoll_event ev = { .events = EPOLLIN | EPOLLOUT }, out[4];
	int ep = epoll_create1(EPOLL_CLOEXEC);

	ASSERT_LE(0, ep);
	ASSERT_EQ(0, epoll_ctl(ep, EPOLL_CTL_ADD, self->d.fd, &ev));
	ASSERT_EQ(1, epoll_wait(ep, out, 4, 0));
	EXPECT_EQ((__u32)EPOLLOUT, out[0].events);
	ev.events = EPOLLIN;
	ASSERT_EQ(0, epoll_ctl(ep, EPOLL_CTL_MOD, self->d.fd, &ev));
	EXPECT_EQ(0, epoll_wait(ep, out, 4, 0));
	ASSERT_EQ(0, pg_inject(self->d.fd, PGPDMA_TR_ENABLE, MYDEST));
	ASSERT_EQ(1, epoll_wait(ep, out, 4, 2000));
	EXPECT_TRUE(!!(out[0].events & EPOLLIN));
	EXPECT_EQ(1, pg_drain(self->d.fd, 0));
	EXPECT_EQ(0, epoll_wait(ep, out, 4, 0));
	close(ep);
}

static long sysfs_stat(const char *name)
{
	char path[160], buf[64];

	snprintf(path, sizeof(path), "%s", pg_sysfs_path(name));
	if (pg_read_file(path, buf, sizeof(buf)) <= 0)
		return -1;
	return strtol(buf, NULL, 0);
}

/* sysfs, the status file and GET_STATS agree on a quiet device. */
TEST_F(dev, stats_sysfs_proc_agree)
{
	static const char * const names[] = {
		"rx_frames", "rx_bytes", "rx_buffers", "rx_cont_frames",
		"rx_errors", "rx_drop_nobuf", "rx_drop_unclaimed", "deadtime_ns",
		"deadtime_events", "tx_frames", "tx_bytes", "tx_buffers",
		"user_reads", "user_returns", "reclaimed", "gen_frames",
		"transitions",
	};
	static const char * const states[] = {
		"state_rx_hw", "state_rx_queued", "state_rx_user",
		"state_tx_free", "state_tx_user", "state_tx_hw",
	};
	struct pgpdma_stats st;
	struct pg_frame f;
	const char *why;
	const __u64 *c = (const __u64 *)&st;
	char text[8192], line[64];
	unsigned int k;
	int tx;

	/* some state to see: one RX buffer held, one TX buffer acquired */
	ASSERT_EQ(0, pg_inject(self->d.fd, PGPDMA_TR_CONFIGURE, MYDEST));
	ASSERT_EQ(1, pg_recv_frame(&self->d, &f, NULL, 0, 2000, &why));
	tx = pg_tx_acquire(self->d.fd, 0);
	ASSERT_LE(0, tx);
	ASSERT_EQ(0, pg_stats(self->d.fd, &st));
	if (sysfs_stat("rx_frames") < 0) {
		TH_LOG("no %s: sysfs stats not checked", pg_sysfs_path("rx_frames"));
	} else {
		for (k = 0; k < PG_ARRAY_SIZE(names); k++) {
			EXPECT_EQ((long)c[k], sysfs_stat(names[k])) {
				TH_LOG("sysfs %s", names[k]);
			}
		}
		for (k = 0; k < PG_ARRAY_SIZE(states); k++) {
			EXPECT_EQ((long)st.state[k], sysfs_stat(states[k])) {
				TH_LOG("sysfs %s", states[k]);
			}
		}
		EXPECT_EQ((long)self->d.info.rx_count, sysfs_stat("rx_count"));
		EXPECT_EQ((long)self->d.info.buf_size, sysfs_stat("buf_size"));
	}
	ASSERT_LT(0, pg_read_file(pg_proc_path(), text, sizeof(text)));
	snprintf(line, sizeof(line), "%llu", (unsigned long long)st.rx_frames);
	EXPECT_NE(NULL, strstr(text, line));
	EXPECT_NE(NULL, strstr(text, "rx frames")) {
		TH_LOG("status file:\n%s", text);
	}
	EXPECT_EQ(0, pg_frame_return(&self->d, &f));
	EXPECT_EQ(0, pg_tx_release(self->d.fd, (__u32 *)&tx, 1));
}

static void on_alarm(int sig)
{
	(void)sig;
}

/* Blocking waits are interruptible: a signal ends them with EINTR. */
TEST_F(dev, blocking_waits_interruptible)
{
	struct sigaction sa = { .sa_handler = on_alarm };	/* no SA_RESTART */
	struct itimerval it = { .it_value = { 0, 200000 } };
	struct pgpdma_rx_desc dsc[2];
	__u32 n = self->d.info.tx_count, k;
	__u32 *idx = calloc(n, sizeof(*idx));
	char buf[64];
	int r;

	ASSERT_NE(NULL, idx);
	ASSERT_EQ(0, sigaction(SIGALRM, &sa, NULL));

	ASSERT_EQ(0, setitimer(ITIMER_REAL, &it, NULL));
	EXPECT_EQ(-1, read(self->d.fd, buf, sizeof(buf)));
	EXPECT_EQ(EINTR, errno);

	ASSERT_EQ(0, setitimer(ITIMER_REAL, &it, NULL));
	EXPECT_EQ(-EINTR, pg_rx_read(self->d.fd, dsc, 2, PGPDMA_READ_WAIT));

	for (k = 0; k < n; k++) {
		r = pg_tx_acquire(self->d.fd, 0);
		ASSERT_LE(0, r);
		idx[k] = (__u32)r;
	}
	ASSERT_EQ(0, setitimer(ITIMER_REAL, &it, NULL));
	EXPECT_EQ(-EINTR, pg_tx_acquire(self->d.fd, PGPDMA_TXA_WAIT));
	ASSERT_EQ(0, setitimer(ITIMER_REAL, &it, NULL));
	EXPECT_EQ(-1, write(self->d.fd, buf, sizeof(buf)));
	EXPECT_EQ(EINTR, errno);
	EXPECT_EQ(0, pg_tx_release(self->d.fd, idx, n));
	free(idx);
	check_states(self->d.fd);
}

TEST_HARNESS_MAIN
