// SPDX-License-Identifier: GPL-2.0
/*
 * pgpdma module parameters as seen by clients: GET_INFO agrees with
 * /sys/module/pgpdma/parameters, the whole pool maps and every buffer of it
 * is reachable, all buffers start free.  tests/vm/load_params.sh runs this
 * after each load with different parameters; on its own it checks whatever
 * the module was loaded with (and skips when it is not loaded).
 */
#include "pgpdma_util.h"

#define PARAMS "/sys/module/pgpdma/parameters/"

FIXTURE(params) {
	struct pg_dev d;
};

FIXTURE_SETUP(params)
{
	int r;

	self->d.fd = -1;
	r = pg_dev_open(&self->d, O_RDWR, true);
	if (r == -ENOENT)
		SKIP(return, "%s missing (module not loaded)", pg_dev_path());
	ASSERT_EQ(0, r);
}

FIXTURE_TEARDOWN(params)
{
	if (self->d.fd < 0)
		return;
	check_states(self->d.fd);
	pg_dev_close(&self->d);
	check_idle();
}

static long param(const char *name)
{
	char path[128], buf[64];

	snprintf(path, sizeof(path), PARAMS "%s", name);
	if (pg_read_file(path, buf, sizeof(buf)) <= 0)
		return -1;
	return strtol(buf, NULL, 0);
}

/* Sequence numbers start at 0 when the module loads (fresh load only). */
TEST_F(params, seq_starts_at_zero)
{
	struct pgpdma_stats st;
	struct pg_frame f;
	const char *why;

	ASSERT_EQ(0, pg_stats(self->d.fd, &st));
	if (st.rx_frames || st.rx_drop_nobuf || st.rx_drop_unclaimed)
		SKIP(return, "device already used since load");
	ASSERT_EQ(0, pg_set_dest_one(self->d.fd, 200));
	ASSERT_EQ(0, pg_inject(self->d.fd, PGPDMA_TR_CONFIGURE, 200));
	ASSERT_EQ(1, pg_recv_frame(&self->d, &f, NULL, 0, 3000, &why));
	EXPECT_EQ(0u, f.d[0].seq);
	EXPECT_EQ(0, pg_frame_return(&self->d, &f));
}

TEST_F(params, info_matches_parameters)
{
	const struct pgpdma_info *i = &self->d.info;
	long pg = sysconf(_SC_PAGESIZE);
	char mode[64];
	long v;

	const char *dev = pg_dev_path();
	size_t dl = strlen(dev);

	/* instance N of /dev/pgpdmaN */
	while (dl && dev[dl - 1] >= '0' && dev[dl - 1] <= '9')
		dl--;
	EXPECT_EQ((__u32)strtoul(dev + dl, NULL, 10), i->instance);
	v = param("cfgRxCount");
	ASSERT_LE(0, v);
	EXPECT_EQ((__u32)v, i->rx_count);
	v = param("cfgTxCount");
	ASSERT_LE(0, v);
	EXPECT_EQ((__u32)v, i->tx_count);
	v = param("cfgSize");
	ASSERT_LE(0, v);
	EXPECT_EQ((__u32)v, i->buf_size);
	EXPECT_LE(i->buf_size, i->stride);
	EXPECT_EQ(0u, i->stride % (__u32)pg);
	EXPECT_LE((__u64)(i->rx_count + i->tx_count) * i->stride, i->map_size);
	ASSERT_LT(0, pg_read_file(PARAMS "cfgMode", mode, sizeof(mode)));
	if (!strncmp(mode, "coherent", 8)) {
		EXPECT_EQ((__u32)PGPDMA_INFO_COHERENT, i->flags);
	} else if (!strncmp(mode, "streaming", 9)) {
		EXPECT_EQ((__u32)PGPDMA_INFO_STREAMING, i->flags);
	} else {
		TH_LOG("cfgMode reads '%s'", mode);
	}
	ksft_print_msg("rx %u x %u (stride %u), tx %u, map %llu bytes, %s\n",
		       i->rx_count, i->buf_size, i->stride, i->tx_count,
		       (unsigned long long)i->map_size,
		       i->flags & PGPDMA_INFO_STREAMING ? "streaming" : "coherent");
}

TEST_F(params, all_buffers_free_and_reachable)
{
	const struct pgpdma_info *i = &self->d.info;
	struct pgpdma_stats st;
	volatile uint8_t sink = 0;
	__u32 k;
	int idx;

	ASSERT_EQ(0, pg_stats(self->d.fd, &st));
	EXPECT_EQ(i->rx_count, st.state[PGPDMA_ST_RX_HW] + st.state[PGPDMA_ST_RX_QUEUED]);
	EXPECT_EQ(i->tx_count, st.state[PGPDMA_ST_TX_FREE]);
	/* every RX buffer's first and last usable byte can be read */
	for (k = 0; k < i->rx_count; k++) {
		sink ^= pg_rx_buf(&self->d, k)[0];
		sink ^= pg_rx_buf(&self->d, k)[i->buf_size - 1];
	}
	/* every TX buffer can be acquired and written */
	idx = pg_tx_acquire(self->d.fd, 0);
	ASSERT_LE(0, idx);
	memset(pg_tx_buf(&self->d, (__u32)idx), 0x3c, i->buf_size);
	ASSERT_EQ(0, pg_tx_release(self->d.fd, (__u32 *)&idx, 1));
	for (k = 0; k < i->tx_count; k++)
		pg_tx_buf(&self->d, k)[i->buf_size - 1] = (uint8_t)k;
	(void)sink;
}

TEST_F(params, one_frame_loopback)
{
	size_t len = self->d.info.buf_size + 1 <= self->d.info.tx_count * (size_t)self->d.info.buf_size ?
		     self->d.info.buf_size + 1 : self->d.info.buf_size;
	uint8_t *a = malloc(len), *b = malloc(len + 64);

	ASSERT_TRUE(a && b);
	ASSERT_EQ(0, pg_set_dest_one(self->d.fd, 9));
	ASSERT_EQ(0, pg_loopback(self->d.fd, PGPDMA_ENGF_LOSSLESS));
	if (self->d.info.rx_count < 2 && len > self->d.info.buf_size)
		len = self->d.info.buf_size;
	pg_pattern_fill(a, len, 77, 0);
	ASSERT_EQ((ssize_t)len, write(self->d.fd, a, len));
	ASSERT_EQ(1, pg_wait_in(self->d.fd, 3000));
	EXPECT_EQ((ssize_t)len, read(self->d.fd, b, len + 64));
	EXPECT_EQ(0, memcmp(a, b, len));
	EXPECT_EQ(0, pg_engine_idle(self->d.fd));
	free(a);
	free(b);
}

TEST_HARNESS_MAIN
