// SPDX-License-Identifier: GPL-2.0
/*
 * pgpdma emulated engine generator tests: timing headers, payload words,
 * continuation chains, count, bulk read/return with random batch sizes,
 * pool exhaustion in drop and lossless mode.
 */
#include "pgpdma_util.h"

#define MYDEST		PGPDMA_DEST(1, 2)
#define RG		0x0025u

FIXTURE(gen) {
	struct pg_dev d;
	uint8_t *buf;
	size_t cap;
};

FIXTURE_SETUP(gen)
{
	if (!pg_fixture_open(&self->d, MYDEST))
		return;
	self->cap = 8 * (size_t)self->d.info.buf_size + 4096;
	self->buf = malloc(self->cap);
	ASSERT_NE(NULL, self->buf);
	check_states(self->d.fd);
}

FIXTURE_TEARDOWN(gen)
{
	free(self->buf);
	pg_fixture_close(&self->d, 20);
}

/* Continuity checker over a stream of frames of one dest. */
struct stream {
	unsigned long frames;
	unsigned long l1;
	unsigned long transitions;
	__u64 last_pid, last_seq;
	__u32 last_evt;
	__u32 rg;
	size_t frame_size;	/* expected L1Accept size, 0 = any */
	__u32 payload;		/* expected PGPDMA_TH_PAYLOAD_* of L1Accepts */
	__u32 buf_size;		/* expected opaque[1] of PATTERN frames */
	uint64_t seq_gaps;	/* frames missing according to seq */
	bool allow_gaps;
};

static const char *stream_check(struct stream *s, const struct pg_frame *f,
				const uint8_t *data)
{
	static char why[160];
	struct pgpdma_timing_header th;
	int64_t now = (int64_t)pg_epics_now();
	const char *p;
	unsigned int tr;

	if (f->len < PGPDMA_TH_SIZE)
		return "frame shorter than the timing header";
	memcpy(&th, data, sizeof(th));
	tr = pgpdma_th_transition(&th);
	if (f->d[0].error)
		return "error bits set";
	if (f->d[0].dest != MYDEST)
		return "wrong dest";
	if (s->frames) {
		if (f->d[0].seq <= s->last_seq)
			return "seq not increasing";
		if (f->d[0].seq != s->last_seq + 1) {
			if (!s->allow_gaps)
				return "seq gap";
			s->seq_gaps += f->d[0].seq - s->last_seq - 1;
		}
		if (pgpdma_th_pulse_id(&th) <= s->last_pid) {
			snprintf(why, sizeof(why), "pulse id %llu after %llu",
				 (unsigned long long)pgpdma_th_pulse_id(&th),
				 (unsigned long long)s->last_pid);
			return why;
		}
		if (!s->allow_gaps &&
		    (th.evt_counter & PGPDMA_TH_EVT_COUNTER_MASK) !=
		    ((s->last_evt + 1) & PGPDMA_TH_EVT_COUNTER_MASK)) {
			snprintf(why, sizeof(why), "evt_counter %u after %u",
				 th.evt_counter, s->last_evt);
			return why;
		}
	}
	if (th.evt_counter & ~PGPDMA_TH_EVT_COUNTER_MASK)
		return "evt_counter uses more than 24 bits";
	if (th.nanoseconds >= 1000000000u)
		return "nanoseconds >= 1e9";
	if ((int64_t)th.seconds < now - 86400 || (int64_t)th.seconds > now + 86400) {
		snprintf(why, sizeof(why), "seconds %u not near EPICS now %lld",
			 th.seconds, (long long)now);
		return why;
	}
	if (th.pulse_id_ctl & PGPDMA_TH_ERROR)
		return "header error bit set";
	if (tr == PGPDMA_TR_L1ACCEPT) {
		if ((th.env & PGPDMA_TH_READOUT_GROUP_MASK) != s->rg) {
			snprintf(why, sizeof(why), "env %#x, readout group %#x expected",
				 th.env, s->rg);
			return why;
		}
		if (s->frame_size && f->len != s->frame_size) {
			snprintf(why, sizeof(why), "frame len %zu, expected %zu",
				 f->len, s->frame_size);
			return why;
		}
		if (f->len > PGPDMA_TH_SIZE && th.opaque[0] != s->payload) {
			snprintf(why, sizeof(why), "opaque[0] %u, payload kind %u expected",
				 th.opaque[0], s->payload);
			return why;
		}
		if (s->payload == PGPDMA_TH_PAYLOAD_PATTERN && th.opaque[1] != s->buf_size)
			return "PATTERN frame: opaque[1] is not the buffer size";
		if (s->payload == PGPDMA_TH_PAYLOAD_HASH && th.opaque[1])
			return "HASH frame: opaque[1] not zero";
		p = pg_check_gen_payload(data, f->len);
		if (p)
			return p;
		s->l1++;
	} else {
		if (f->len != PGPDMA_TH_SIZE)
			return "transition frame not 32 bytes";
		s->transitions++;
	}
	s->frames++;
	s->last_pid = pgpdma_th_pulse_id(&th);
	s->last_seq = f->d[0].seq;
	s->last_evt = th.evt_counter & PGPDMA_TH_EVT_COUNTER_MASK;
	return NULL;
}

/* Receive and check frames until n arrived or timeout (ms of silence). */
static int recv_n(struct __test_metadata *_metadata, struct pg_dev *d,
		  struct stream *s, uint8_t *buf, size_t cap, unsigned long n,
		  int quiet_ms)
{
	struct pg_frame f;
	const char *why;
	unsigned long got = 0;
	int r;

	while (got < n) {
		r = pg_recv_frame(d, &f, buf, cap, quiet_ms, &why);
		if (r == 0)
			break;
		EXPECT_EQ(1, r) {
			TH_LOG("recv after %lu frames: %s", got, why ? why : strerror(-r));
			return -1;
		}
		why = stream_check(s, &f, buf);
		EXPECT_EQ(NULL, why) {
			TH_LOG("frame %lu (seq %llu): %s", got,
			       (unsigned long long)f.d[0].seq, why);
			pg_frame_return(d, &f);
			return -1;
		}
		if (s->frame_size > d->info.buf_size) {
			size_t nb = (s->frame_size + d->info.buf_size - 1) / d->info.buf_size;

			EXPECT_EQ(nb, (size_t)f.n);
		}
		EXPECT_EQ(0, pg_frame_return(d, &f));
		got++;
	}
	return (int)got;
}

static void gen_run_flags(struct __test_metadata *_metadata, struct pg_dev *d,
			  uint8_t *buf, size_t cap, __u32 frame_size, __u32 rate,
			  unsigned long n, __u32 flags)
{
	struct pgpdma_stats before, after;
	struct pgpdma_engine e;
	struct stream s = {
		.rg = RG, .frame_size = frame_size,
		.payload = flags & PGPDMA_ENGF_PATTERN ? PGPDMA_TH_PAYLOAD_PATTERN :
			   PGPDMA_TH_PAYLOAD_HASH,
		.buf_size = d->info.buf_size,
	};
	size_t nb = (frame_size + d->info.buf_size - 1) / d->info.buf_size;

	n = pg_scale(n);
	ASSERT_EQ(0, pg_stats(d->fd, &before));
	ASSERT_EQ(0, pg_engine_set(d->fd, PGPDMA_ENG_GENERATOR,
				   PGPDMA_ENGF_LOSSLESS | flags,
				   rate, frame_size, MYDEST, RG, n));
	ASSERT_EQ(0, pg_engine_get(d->fd, &e));
	EXPECT_EQ((__u32)PGPDMA_ENG_GENERATOR, e.mode);
	EXPECT_EQ(frame_size, e.frame_size);
	EXPECT_EQ((__u32)MYDEST, e.dest);
	EXPECT_EQ(RG, e.readout_group);
	EXPECT_EQ((__u64)n, e.count);
	EXPECT_EQ((__u32)PGPDMA_ENGF_LOSSLESS | flags, e.flags);
	EXPECT_EQ((long)n, (long)recv_n(_metadata, d, &s, buf, cap, n, 5000));
	EXPECT_EQ(n, s.l1);	/* every generated frame is an L1Accept (12) */
	EXPECT_EQ(0, pg_engine_wait_stopped(d->fd, 3000));
	/* exactly n: nothing more arrives */
	EXPECT_EQ(0, pg_wait_in(d->fd, 200));
	ASSERT_EQ(0, pg_engine_get(d->fd, &e));
	EXPECT_EQ(0u, e.running);
	ASSERT_EQ(0, pg_stats(d->fd, &after));
	EXPECT_EQ(before.gen_frames + n, after.gen_frames);
	EXPECT_EQ(before.rx_frames + n, after.rx_frames);
	EXPECT_EQ(before.rx_bytes + (__u64)n * frame_size, after.rx_bytes);
	EXPECT_EQ(before.rx_buffers + (__u64)n * nb, after.rx_buffers);
	EXPECT_EQ(before.rx_cont_frames + (nb > 1 ? n : 0), after.rx_cont_frames);
	EXPECT_EQ(before.rx_drop_nobuf, after.rx_drop_nobuf);
	EXPECT_EQ(before.rx_errors, after.rx_errors);
	EXPECT_EQ(before.user_reads + (__u64)n * nb, after.user_reads);
	EXPECT_EQ(before.user_returns + (__u64)n * nb, after.user_returns);
	EXPECT_EQ(0u, after.state[PGPDMA_ST_RX_USER]);
	check_states(d->fd);
}

static void gen_run(struct __test_metadata *_metadata, struct pg_dev *d,
		    uint8_t *buf, size_t cap, __u32 frame_size, __u32 rate,
		    unsigned long n)
{
	gen_run_flags(_metadata, d, buf, cap, frame_size, rate, n, 0);
}

TEST_F(gen, small_frames)
{
	gen_run(_metadata, &self->d, self->buf, self->cap, 64, 0, 1000);
}

TEST_F(gen, odd_size_frames)
{
	gen_run(_metadata, &self->d, self->buf, self->cap, PGPDMA_TH_SIZE + 4 * 10 + 3, 0, 300);
}

TEST_F(gen, header_only_frames)
{
	gen_run(_metadata, &self->d, self->buf, self->cap, PGPDMA_TH_SIZE, 0, 300);
}

TEST_F(gen, exactly_buf_size)
{
	gen_run(_metadata, &self->d, self->buf, self->cap, self->d.info.buf_size, 0, 200);
}

TEST_F_TIMEOUT(gen, chained_frames, 90)
{
	__u32 fs = 2 * self->d.info.buf_size + 100;

	if (3 * 2 > self->d.info.rx_count)
		SKIP(return, "pool too small for chains");
	gen_run(_metadata, &self->d, self->buf, self->cap, fs, 0, 200);
}

/*
 * PATTERN payloads: fixed by the offset inside the buffer, written once
 * per buffer, then only the header changes (opaque[0] says PATTERN,
 * opaque[1] the buffer size). Sizes that end mid-word, exactly one buffer,
 * chains (a buffer that held a header becomes a middle chunk and must get
 * its first 32 bytes back), and buffers overwritten by HASH frames in
 * between (their payload must be rewritten) all verify byte for byte.
 */
TEST_F_TIMEOUT(gen, pattern_payload, 120)
{
	__u32 bs = self->d.info.buf_size;
	__u32 rxc = self->d.info.rx_count;
	unsigned long many = 3 * rxc;	/* every buffer used several times */

	gen_run_flags(_metadata, &self->d, self->buf, self->cap, 64, 0, many,
		      PGPDMA_ENGF_PATTERN);
	gen_run_flags(_metadata, &self->d, self->buf, self->cap,
		      PGPDMA_TH_SIZE + 4 * 10 + 3, 0, many, PGPDMA_ENGF_PATTERN);
	gen_run_flags(_metadata, &self->d, self->buf, self->cap, PGPDMA_TH_SIZE,
		      0, 100, PGPDMA_ENGF_PATTERN);
	gen_run_flags(_metadata, &self->d, self->buf, self->cap, bs, 0, many,
		      PGPDMA_ENGF_PATTERN);
	if (3 * 2 > rxc)
		SKIP(return, "pool too small for chains");
	gen_run_flags(_metadata, &self->d, self->buf, self->cap, 2 * bs + 101,
		      0, many, PGPDMA_ENGF_PATTERN);
	/* computed payloads overwrite the buffers; opaque[0] is HASH again */
	gen_run(_metadata, &self->d, self->buf, self->cap, 2 * bs + 101, 0, rxc);
	gen_run_flags(_metadata, &self->d, self->buf, self->cap, 3 * bs - 5,
		      0, many, PGPDMA_ENGF_PATTERN);
}

TEST_F(gen, paced_rate)
{
	uint64_t t0 = pg_now_ns(), dt;

	if (pg_slow_device())
		SKIP(return, "the device cannot reach 500 Hz (pacing is the firmware model's, tested on the emulator)");
	/* 100 frames at 500 Hz take about 200 ms */
	gen_run(_metadata, &self->d, self->buf, self->cap, 128, 500, 100);
	dt = pg_now_ns() - t0;
	EXPECT_LE(150000000ull, dt);
	TH_LOG("100 frames at 500 Hz took %llu ms", (unsigned long long)(dt / 1000000));
}

/*
 * ENGINE_SET returns while the generator it started still runs: its stop
 * barrier waits for frames of the old settings only. Before the fix it
 * also waited for every frame of the new run whenever the next one was
 * in flight by the time it looked, which on the edu device (400 ms per
 * 4 KiB frame) was always: SET returned once all 5 frames were made. On
 * the emulator 5 frames take microseconds, so there is nothing to see.
 */
TEST_F_TIMEOUT(gen, set_returns_while_generating, 60)
{
	const __u64 count = 5;
	struct pgpdma_stats before, after;

	if (!pg_slow_device())
		SKIP(return, "needs frames slower than a wakeup (PGPDMA_SLOW_DEVICE)");
	ASSERT_EQ(0, pg_stats(self->d.fd, &before));
	ASSERT_EQ(0, pg_engine_set(self->d.fd, PGPDMA_ENG_GENERATOR, PGPDMA_ENGF_LOSSLESS,
				   0, 4096, MYDEST, RG, count));
	ASSERT_EQ(0, pg_stats(self->d.fd, &after));
	EXPECT_GT(count, after.gen_frames - before.gen_frames) {
		TH_LOG("ENGINE_SET returned after %llu of %llu frames",
		       (unsigned long long)(after.gen_frames - before.gen_frames),
		       (unsigned long long)count);
	}
	ASSERT_EQ(0, pg_engine_idle(self->d.fd));
	EXPECT_LE(0, pg_drain(self->d.fd, 500));
}

TEST_F(gen, stop_by_idle)
{
	struct pgpdma_stats a, b;
	struct pgpdma_engine e;

	ASSERT_EQ(0, pg_engine_set(self->d.fd, PGPDMA_ENG_GENERATOR, 0, 2000, 64,
				   MYDEST, RG, 0));
	pg_msleep(200);
	ASSERT_EQ(0, pg_engine_get(self->d.fd, &e));
	EXPECT_EQ(1u, e.running);
	ASSERT_EQ(0, pg_engine_idle(self->d.fd));
	ASSERT_EQ(0, pg_engine_get(self->d.fd, &e));
	EXPECT_EQ(0u, e.running);
	EXPECT_EQ((__u32)PGPDMA_ENG_IDLE, e.mode);
	ASSERT_EQ(0, pg_stats(self->d.fd, &a));
	pg_msleep(200);
	ASSERT_EQ(0, pg_stats(self->d.fd, &b));
	EXPECT_EQ(a.gen_frames, b.gen_frames);
	EXPECT_LT(0u, b.gen_frames);
	EXPECT_LT(0, pg_drain(self->d.fd, 0));
}

TEST_F(gen, inject_during_generator)
{
	struct stream s = { .rg = RG, .frame_size = 96 };
	unsigned long n = pg_scale(300);
	int k;

	ASSERT_EQ(0, pg_engine_set(self->d.fd, PGPDMA_ENG_GENERATOR, PGPDMA_ENGF_LOSSLESS,
				   1000, 96, MYDEST, RG, n));
	for (k = 0; k < 5; k++) {
		pg_msleep(20);
		ASSERT_EQ(0, pg_inject(self->d.fd, PGPDMA_TR_SLOW_UPDATE, MYDEST));
	}
	EXPECT_EQ((int)n + 5, recv_n(_metadata, &self->d, &s, self->buf, self->cap, n + 5, 3000));
	EXPECT_EQ(n, s.l1);
	EXPECT_EQ(5ul, s.transitions);
	EXPECT_EQ(0, pg_engine_wait_stopped(self->d.fd, 2000));
}

/*
 * Bulk RX_READ with random batch sizes, returns in random batches and random
 * order; every descriptor checked.
 */
TEST_F_TIMEOUT(gen, random_bulk_batches, 120)
{
	const struct pgpdma_info *in = &self->d.info;
	unsigned int seed = pg_seed();
	unsigned long n = pg_scale(4000), frames = 0;
	__u32 fs = 48, *held, nheld = 0;
	struct pgpdma_rx_desc *dd;
	struct pgpdma_stats before, after;
	uint8_t *owned;
	__u64 last_seq = 0, last_pid = 0, reads = 0, rets = 0;
	uint64_t end;
	int r, k;

	ksft_print_msg("random_bulk_batches seed=%u (PGPDMA_SEED to repeat)\n", seed);
	srandom(seed);
	dd = calloc(PGPDMA_MAX_BATCH, sizeof(*dd));
	held = calloc(in->rx_count, sizeof(*held));
	owned = calloc(in->rx_count, 1);
	ASSERT_TRUE(dd && held && owned);
	ASSERT_EQ(0, pg_stats(self->d.fd, &before));
	ASSERT_EQ(0, pg_engine_set(self->d.fd, PGPDMA_ENG_GENERATOR, PGPDMA_ENGF_LOSSLESS,
				   0, fs, MYDEST, RG, n));
	end = pg_now_ns() + 60ull * 1000000000ull;
	while (frames < n && pg_now_ns() < end) {
		__u32 cnt = 1 + (__u32)(random() % (random() % 4 ? 16 : PGPDMA_MAX_BATCH));

		r = pg_rx_read(self->d.fd, dd, cnt, random() % 2 ? PGPDMA_READ_WAIT : 0);
		ASSERT_LE(0, r);
		ASSERT_GE(cnt, (__u32)r);
		reads += (__u64)r;
		for (k = 0; k < r; k++) {
			struct pgpdma_timing_header th;
			const struct pgpdma_rx_desc *x = &dd[k];
			const uint8_t *p;

			ASSERT_GT(in->rx_count, x->index);
			ASSERT_EQ(0, owned[x->index]) {
				TH_LOG("index %u handed out twice", x->index);
			}
			owned[x->index] = 1;
			held[nheld++] = x->index;
			ASSERT_EQ(fs, x->size);
			ASSERT_EQ((__u32)PGPDMA_RXF_SOF, x->flags);
			ASSERT_EQ((__u32)MYDEST, x->dest);
			ASSERT_EQ(0u, x->error);
			ASSERT_EQ(0u, x->reserved);
			if (frames)
				ASSERT_EQ(last_seq + 1, x->seq);
			last_seq = x->seq;
			p = pg_rx_buf(&self->d, x->index);
			memcpy(&th, p, sizeof(th));
			if (frames)
				ASSERT_LT(last_pid, pgpdma_th_pulse_id(&th));
			last_pid = pgpdma_th_pulse_id(&th);
			ASSERT_EQ(NULL, pg_check_gen_payload(p, fs));
			frames++;
		}
		if (!r && pg_wait_in(self->d.fd, 100) < 0)
			break;
		/* return a random subset: shuffle, then give back a random prefix */
		if (nheld && (random() % 3 || nheld == in->rx_count)) {
			__u32 m = 1 + (__u32)random() % nheld, i;

			for (i = nheld - 1; i > 0; i--) {
				__u32 j = (__u32)random() % (i + 1), t = held[i];

				held[i] = held[j];
				held[j] = t;
			}
			ASSERT_EQ(0, pg_rx_return(self->d.fd, held, m));
			for (i = 0; i < m; i++)
				owned[held[i]] = 0;
			memmove(held, held + m, (nheld - m) * sizeof(*held));
			nheld -= m;
			rets += m;
			/* the returned ones can't be returned again */
			if (m && nheld < in->rx_count) {
				ASSERT_EQ(0, pg_stats(self->d.fd, &after));
				EXPECT_EQ(nheld, after.state[PGPDMA_ST_RX_USER]);
				EXPECT_EQ(NULL, pg_states_bad(in, &after));
			}
		}
	}
	if (nheld)
		ASSERT_EQ(0, pg_rx_return(self->d.fd, held, nheld));
	rets += nheld;
	EXPECT_EQ(n, frames);
	EXPECT_EQ(0, pg_engine_wait_stopped(self->d.fd, 2000));
	ASSERT_EQ(0, pg_stats(self->d.fd, &after));
	EXPECT_EQ(before.user_reads + reads, after.user_reads);
	EXPECT_EQ(before.user_returns + rets, after.user_returns);
	EXPECT_EQ(before.rx_drop_nobuf, after.rx_drop_nobuf);
	free(dd);
	free(held);
	free(owned);
}

/* Read (and keep) every RX buffer of the pool; returns their indexes. */
static __u32 hold_all(struct __test_metadata *_metadata, struct pg_dev *d,
		      __u32 *held, __u64 *last_seq)
{
	struct pgpdma_rx_desc dd[64];
	struct pgpdma_stats st;
	__u32 n = 0;
	int r, k;

	EXPECT_EQ(0, pg_engine_set(d->fd, PGPDMA_ENG_GENERATOR, PGPDMA_ENGF_LOSSLESS,
				   0, 64, MYDEST, RG, d->info.rx_count));
	while (n < d->info.rx_count) {
		r = pg_rx_read(d->fd, dd, 64, 0);
		EXPECT_LE(0, r);
		if (r < 0)
			break;
		if (r == 0 && pg_wait_in(d->fd, 3000) <= 0)
			break;
		for (k = 0; k < r; k++) {
			held[n++] = dd[k].index;
			*last_seq = dd[k].seq;
		}
	}
	EXPECT_EQ(0, pg_engine_wait_stopped(d->fd, 2000));
	EXPECT_EQ(0, pg_stats(d->fd, &st));
	EXPECT_EQ(d->info.rx_count, st.state[PGPDMA_ST_RX_USER]);
	EXPECT_EQ(0u, st.state[PGPDMA_ST_RX_HW]);
	return n;
}

TEST_F(gen, exhaustion_drop_mode)
{
	const unsigned long K = 37;
	struct pgpdma_stats before, after;
	struct stream s = { .rg = RG, .frame_size = 64, .allow_gaps = true };
	struct pg_frame f;
	const char *why;
	__u32 *held = calloc(self->d.info.rx_count, sizeof(__u32)), n;
	__u64 last_seq = 0;

	ASSERT_NE(NULL, held);
	n = hold_all(_metadata, &self->d, held, &last_seq);
	ASSERT_EQ(self->d.info.rx_count, n);
	ASSERT_EQ(0, pg_stats(self->d.fd, &before));
	ASSERT_EQ(0, pg_engine_set(self->d.fd, PGPDMA_ENG_GENERATOR, 0, 0, 64,
				   MYDEST, RG, K));
	ASSERT_EQ(0, pg_engine_wait_stopped(self->d.fd, 5000));
	ASSERT_EQ(0, pg_stats(self->d.fd, &after));
	EXPECT_EQ(before.rx_drop_nobuf + K, after.rx_drop_nobuf);
	TH_LOG("gen_frames counted %llu of %lu dropped frames",
	       (unsigned long long)(after.gen_frames - before.gen_frames), K);
	EXPECT_EQ(before.rx_frames, after.rx_frames);
	EXPECT_EQ(before.deadtime_events, after.deadtime_events);
	EXPECT_EQ(0, pg_wait_in(self->d.fd, 0));
	EXPECT_EQ(0, pg_rx_return(self->d.fd, held, n));

	/* the next frame shows the gap in its seq */
	ASSERT_EQ(0, pg_engine_set(self->d.fd, PGPDMA_ENG_GENERATOR, 0, 0, 64,
				   MYDEST, RG, 1));
	ASSERT_EQ(1, pg_recv_frame(&self->d, &f, self->buf, self->cap, 3000, &why));
	EXPECT_EQ(last_seq + K + 1, f.d[0].seq);
	EXPECT_EQ(NULL, stream_check(&s, &f, self->buf));
	EXPECT_EQ(0, pg_frame_return(&self->d, &f));
	free(held);
}

TEST_F(gen, exhaustion_lossless_mode)
{
	const unsigned long K = 25;
	struct pgpdma_stats before, mid, after;
	struct stream s = { .rg = RG, .frame_size = 64 };
	struct pgpdma_engine e;
	__u32 *held = calloc(self->d.info.rx_count, sizeof(__u32)), n;
	__u64 last_seq = 0;

	ASSERT_NE(NULL, held);
	n = hold_all(_metadata, &self->d, held, &last_seq);
	ASSERT_EQ(self->d.info.rx_count, n);
	ASSERT_EQ(0, pg_stats(self->d.fd, &before));
	ASSERT_EQ(0, pg_engine_set(self->d.fd, PGPDMA_ENG_GENERATOR, PGPDMA_ENGF_LOSSLESS,
				   0, 64, MYDEST, RG, K));
	pg_wait_counter(self->d.fd, PG_STAT_OFF(deadtime_events), before.deadtime_events + 1, 3000);
	/* deadtime_ns may be accounted in slices while the engine waits */
	pg_wait_counter(self->d.fd, PG_STAT_OFF(deadtime_ns), before.deadtime_ns + 1, 3000);
	pg_msleep(100);
	ASSERT_EQ(0, pg_engine_get(self->d.fd, &e));
	EXPECT_EQ(1u, e.running);
	ASSERT_EQ(0, pg_stats(self->d.fd, &mid));
	EXPECT_LT(before.deadtime_events, mid.deadtime_events);
	EXPECT_LT(before.deadtime_ns, mid.deadtime_ns);
	EXPECT_EQ(before.rx_drop_nobuf, mid.rx_drop_nobuf);
	EXPECT_EQ(before.rx_frames, mid.rx_frames);
	EXPECT_EQ(0, pg_rx_return(self->d.fd, held, n));

	s.frames = 1;	/* continue from the held frames */
	s.last_seq = last_seq;
	s.last_pid = 0;
	s.last_evt = 0;
	/* evt/pulse continuity against the held frames is not tracked here */
	s.allow_gaps = false;
	{
		struct pg_frame f;
		const char *why;
		unsigned long got = 0;

		while (got < K && pg_recv_frame(&self->d, &f, self->buf, self->cap, 3000, &why) == 1) {
			struct pgpdma_timing_header th;

			memcpy(&th, self->buf, sizeof(th));
			if (got == 0) {
				s.last_pid = pgpdma_th_pulse_id(&th) - 1;
				s.last_evt = (th.evt_counter - 1) & PGPDMA_TH_EVT_COUNTER_MASK;
			}
			why = stream_check(&s, &f, self->buf);
			EXPECT_EQ(NULL, why) {
				TH_LOG("frame %lu: %s", got, why);
			}
			EXPECT_EQ(0, pg_frame_return(&self->d, &f));
			got++;
		}
		EXPECT_EQ(K, got);
	}
	EXPECT_EQ(0, pg_engine_wait_stopped(self->d.fd, 2000));
	ASSERT_EQ(0, pg_stats(self->d.fd, &after));
	EXPECT_EQ(before.rx_drop_nobuf, after.rx_drop_nobuf);
	EXPECT_EQ(before.rx_frames + K, after.rx_frames);
	EXPECT_EQ(before.gen_frames + K, after.gen_frames);
	free(held);
}

TEST_F(gen, unclaimed_dest_counted)
{
	struct pgpdma_stats before, after;
	const unsigned long K = 20;

	ASSERT_EQ(0, pg_stats(self->d.fd, &before));
	ASSERT_EQ(0, pg_engine_set(self->d.fd, PGPDMA_ENG_GENERATOR, 0, 0, 64,
				   PGPDMA_DEST(6, 6), RG, K));
	ASSERT_EQ(0, pg_engine_wait_stopped(self->d.fd, 3000));
	ASSERT_EQ(0, pg_inject(self->d.fd, PGPDMA_TR_CONFIGURE, PGPDMA_DEST(6, 6)));
	pg_wait_counter(self->d.fd, PG_STAT_OFF(rx_drop_unclaimed),
			before.rx_drop_unclaimed + K + 1, 3000);
	pg_msleep(20);
	ASSERT_EQ(0, pg_stats(self->d.fd, &after));
	EXPECT_EQ(before.rx_drop_unclaimed + K + 1, after.rx_drop_unclaimed);
	EXPECT_EQ(before.rx_frames, after.rx_frames);
	EXPECT_EQ(before.gen_frames + K, after.gen_frames);
	EXPECT_EQ(before.rx_drop_nobuf, after.rx_drop_nobuf);
	EXPECT_EQ(0, pg_wait_in(self->d.fd, 0));
}

/*
 * RX_READ hands out a chain in order and splits it across two calls only
 * when it is longer than count.
 */
TEST_F(gen, chains_not_split)
{
	__u32 fs = 2 * self->d.info.buf_size + 100;	/* 3 buffers */
	struct pgpdma_rx_desc dd[8];
	struct pgpdma_stats st;
	__u32 idx[16];
	int r, k, got = 0;

	if (self->d.info.rx_count < 9)
		SKIP(return, "needs 9 RX buffers");
	ASSERT_EQ(0, pg_engine_set(self->d.fd, PGPDMA_ENG_GENERATOR, PGPDMA_ENGF_LOSSLESS,
				   0, fs, MYDEST, RG, 3));
	ASSERT_EQ(0, pg_engine_wait_stopped(self->d.fd, 3000));
	ASSERT_EQ(0, pg_stats(self->d.fd, &st));
	ASSERT_EQ(9u, st.state[PGPDMA_ST_RX_QUEUED]);

	/* count 5 with two whole chains queued: only the first chain */
	r = pg_rx_read(self->d.fd, dd, 5, 0);
	ASSERT_EQ(3, r);
	EXPECT_EQ((__u32)PGPDMA_RXF_SOF | PGPDMA_RXF_CONT, dd[0].flags);
	EXPECT_EQ((__u32)PGPDMA_RXF_CONT, dd[1].flags);
	EXPECT_EQ(0u, dd[2].flags);
	EXPECT_EQ(dd[0].seq, dd[2].seq);
	EXPECT_EQ(100u, dd[2].size);
	for (k = 0; k < 3; k++)
		idx[got++] = dd[k].index;
	/* count 2 < chain length: split, in order */
	r = pg_rx_read(self->d.fd, dd, 2, 0);
	ASSERT_EQ(2, r);
	EXPECT_EQ((__u32)PGPDMA_RXF_SOF | PGPDMA_RXF_CONT, dd[0].flags);
	EXPECT_EQ((__u32)PGPDMA_RXF_CONT, dd[1].flags);
	idx[got++] = dd[0].index;
	idx[got++] = dd[1].index;
	/* the rest of that chain, then not the third chain with it */
	r = pg_rx_read(self->d.fd, dd, 2, 0);
	ASSERT_EQ(1, r);
	EXPECT_EQ(0u, dd[0].flags);
	EXPECT_EQ(100u, dd[0].size);
	idx[got++] = dd[0].index;
	/* count 6: the last chain only */
	r = pg_rx_read(self->d.fd, dd, 6, 0);
	ASSERT_EQ(3, r);
	for (k = 0; k < 3; k++)
		idx[got++] = dd[k].index;
	EXPECT_EQ(0, pg_rx_read(self->d.fd, dd, 6, 0));
	EXPECT_EQ(0, pg_rx_return(self->d.fd, idx, (__u32)got));
}

TEST_HARNESS_MAIN
