// SPDX-License-Identifier: GPL-2.0
/*
 * pgpdma stress test: for a fixed time (argv[1] or $PGPDMA_STRESS_SECONDS,
 * default 60 s) run concurrently
 *   - reader processes, each claiming one dest, reading with random batch
 *     sizes (RX_READ + mmap, or read()), verifying every frame and returning
 *     in random batches;
 *   - writer threads sending frames with write() and zero-copy TX;
 *   - an engine controller switching between loopback (lossless or drop)
 *     and the generator (drop mode, chains), injecting transitions;
 *   - a churn process opening/closing files, holding buffers, and forking
 *     children that are SIGKILLed while holding buffers;
 *   - stats readers checking the state invariant and counter monotonicity
 *     continuously (ioctl, /proc/pgpdma0, sysfs).
 * At the end every buffer must be back and every check clean.
 */
#include <stdarg.h>
#include "pgpdma_util.h"

#define NREADERS	3
#define NWRITERS	3
#define DEST_WRITE	0			/* write() from files claiming nothing */
#define DEST_ZC		PGPDMA_DEST(1, 1)	/* zero-copy TX target */
#define DEST_GEN	PGPDMA_DEST(2, 2)	/* generator + injected transitions */
#define DEST_CHURN	PGPDMA_DEST(3, 3)
#define WMAGIC		0x57524954u

struct wframe {
	__u32 magic;
	__u32 writer;
	__u64 counter;
	__u32 len;
	__u32 seed;
};

struct shared {
	volatile int stop;
	volatile int nerr;
	char first_error[256];
	volatile __u64 rx_frames[NREADERS];
	volatile __u64 rx_bytes[NREADERS];
	volatile __u64 tx_frames[NWRITERS];
	volatile __u64 churn_cycles;
	volatile __u64 stats_snapshots;
	volatile __u64 mode_switches;
	volatile __u64 kills;
};

static struct shared *sh;

static void fail(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void fail(const char *fmt, ...)
{
	va_list ap;

	if (__sync_fetch_and_add(&sh->nerr, 1) == 0) {
		va_start(ap, fmt);
		vsnprintf(sh->first_error, sizeof(sh->first_error), fmt, ap);
		va_end(ap);
	}
}

static unsigned int duration_s(void)
{
	char buf[512];
	const char *e;
	int n = pg_read_file("/proc/self/cmdline", buf, sizeof(buf));

	if (n > 0) {
		size_t l = strlen(buf);

		if ((int)l + 1 < n && buf[l + 1] >= '0' && buf[l + 1] <= '9')
			return (unsigned int)strtoul(buf + l + 1, NULL, 0);
	}
	e = getenv("PGPDMA_STRESS_SECONDS");
	if (e && *e)
		return (unsigned int)strtoul(e, NULL, 0);
	return 60;
}

static __u32 rnd(unsigned int *s)
{
	return (__u32)rand_r(s);
}

/* ------------------------------------------------------------------ */

struct rstate {
	__u64 last_counter[NWRITERS];
	bool seen[NWRITERS];
	__u64 last_seq;
	__u64 last_pid;
	bool any;
};

static void check_frame(int r, struct rstate *st, const uint8_t *p, size_t len,
			__u32 dest, __u64 seq)
{
	if (seq == UINT64_MAX) {		/* read(): no seq to check */
		st->any = false;
	} else {
		if (st->any && seq <= st->last_seq)
			fail("reader %d: seq %llu after %llu", r,
			     (unsigned long long)seq,
			     (unsigned long long)st->last_seq);
		st->last_seq = seq;
		st->any = true;
	}
	if (dest == DEST_GEN) {
		struct pgpdma_timing_header th;
		const char *why;

		if (len < PGPDMA_TH_SIZE) {
			fail("gen frame of %zu bytes", len);
			return;
		}
		memcpy(&th, p, sizeof(th));
		if (pgpdma_th_pulse_id(&th) <= st->last_pid && st->last_pid)
			fail("pulse id %llu after %llu",
			     (unsigned long long)pgpdma_th_pulse_id(&th),
			     (unsigned long long)st->last_pid);
		st->last_pid = pgpdma_th_pulse_id(&th);
		if (pgpdma_th_transition(&th) == PGPDMA_TR_L1ACCEPT) {
			why = pg_check_gen_payload(p, len);
			if (why)
				fail("gen frame: %s", why);
		} else if (len != PGPDMA_TH_SIZE) {
			fail("transition frame of %zu bytes", len);
		}
		return;
	}
	{
		struct wframe w;
		size_t i;

		if (len < sizeof(w)) {
			fail("reader %d: short frame %zu", r, len);
			return;
		}
		memcpy(&w, p, sizeof(w));
		if (w.magic != WMAGIC || w.writer >= NWRITERS || w.len != len) {
			fail("reader %d: bad writer frame magic %#x writer %u len %u/%zu",
			     r, w.magic, w.writer, w.len, len);
			return;
		}
		if (st->seen[w.writer] && w.counter <= st->last_counter[w.writer])
			fail("reader %d: writer %u counter %llu after %llu", r, w.writer,
			     (unsigned long long)w.counter,
			     (unsigned long long)st->last_counter[w.writer]);
		st->seen[w.writer] = true;
		st->last_counter[w.writer] = w.counter;
		for (i = sizeof(w); i < len; i++)
			if (p[i] != pg_pattern_byte(w.seed, i)) {
				fail("reader %d: writer %u frame %llu byte %zu corrupt", r,
				     w.writer, (unsigned long long)w.counter, i);
				break;
			}
	}
}

static int reader_main(int r, __u32 dest)
{
	struct pgpdma_rx_desc *dd = calloc(PGPDMA_MAX_BATCH, sizeof(*dd));
	struct rstate st;
	struct pg_dev d;
	unsigned int seed = (unsigned int)getpid();
	__u32 *held;
	__u32 nheld = 0;
	uint8_t *frame;
	size_t cap, flen = 0;
	int k, n;

	memset(&st, 0, sizeof(st));
	if (pg_dev_open(&d, O_RDWR, true) || pg_set_dest_one(d.fd, dest)) {
		fail("reader %d: open/claim: %s", r, strerror(errno));
		return 1;
	}
	held = calloc(d.info.rx_count, sizeof(*held));
	cap = 64 * (size_t)d.info.buf_size + 4096;
	frame = malloc(cap);
	if (!dd || !held || !frame)
		return 1;
	while (!sh->stop) {
		if (r == 0 && !flen && rnd(&seed) % 4 == 0) {
			/* copy path (never with a chain half taken by RX_READ:
			 * read() would return the rest of that chain) */
			ssize_t got;

			if (pg_wait_in(d.fd, 20) <= 0)
				continue;
			got = read(d.fd, frame, cap);
			if (got < 0) {
				if (errno != EAGAIN)
					fail("reader read(): %s", strerror(errno));
				continue;
			}
			check_frame(r, &st, frame, (size_t)got, dest, UINT64_MAX);
			sh->rx_frames[r]++;
			sh->rx_bytes[r] += (__u64)got;
			continue;
		}
		n = pg_rx_read(d.fd, dd, 1 + rnd(&seed) % 64, 0);
		if (n < 0) {
			fail("reader %d: RX_READ %s", r, strerror(-n));
			break;
		}
		if (n == 0 && !flen)
			pg_wait_in(d.fd, 20);
		for (k = 0; k < n; k++) {
			const struct pgpdma_rx_desc *x = &dd[k];

			if (x->index >= d.info.rx_count || x->size > d.info.buf_size ||
			    x->dest != dest) {
				fail("reader %d: bad desc idx %u size %u dest %u", r,
				     x->index, x->size, x->dest);
				continue;
			}
			if (!!(x->flags & PGPDMA_RXF_SOF) != !flen)
				fail("reader %d: SOF %#x at offset %zu", r, x->flags, flen);
			if (flen + x->size <= cap)
				memcpy(frame + flen, pg_rx_buf(&d, x->index), x->size);
			flen += x->size;
			held[nheld++] = x->index;
			if (!(x->flags & PGPDMA_RXF_CONT)) {
				if (!x->error)
					check_frame(r, &st, frame, flen, dest, x->seq);
				else
					st.last_seq = x->seq;
				sh->rx_frames[r]++;
				sh->rx_bytes[r] += flen;
				flen = 0;
			}
		}
		/* return a random part of what we hold (all when the pool is short) */
		if (nheld && (rnd(&seed) % 2 || nheld > d.info.rx_count / 2)) {
			__u32 m = 1 + rnd(&seed) % nheld;
			int e;

			if (nheld > d.info.rx_count / 2)
				m = nheld;
			e = pg_rx_return(d.fd, held, m);
			if (e)
				fail("reader %d: RX_RETURN %u: %s", r, m, strerror(-e));
			memmove(held, held + m, (nheld - m) * sizeof(*held));
			nheld -= m;
		}
	}
	if (nheld && rnd(&seed) % 2)
		pg_rx_return(d.fd, held, nheld);
	/* else: leave the rest to close() */
	pg_dev_close(&d);
	return 0;
}

/* ------------------------------------------------------------------ */

struct writer_arg {
	int id;
};

static void *writer_main(void *a)
{
	struct writer_arg *wa = a;
	struct pg_dev d;
	unsigned int seed = (unsigned int)wa->id * 7919u + (unsigned int)getpid();
	uint8_t *buf;
	__u64 counter = 0;
	size_t maxlen;

	if (pg_dev_open(&d, O_RDWR | O_NONBLOCK, true)) {
		fail("writer %d: open: %s", wa->id, strerror(errno));
		return NULL;
	}
	maxlen = (size_t)d.info.buf_size * (d.info.tx_count < 3 ? d.info.tx_count : 3);
	if (maxlen > (size_t)d.info.buf_size * 2 + 100)
		maxlen = (size_t)d.info.buf_size * 2 + 100;
	buf = malloc(maxlen);
	while (!sh->stop) {
		size_t len = sizeof(struct wframe) + rnd(&seed) % (maxlen - sizeof(struct wframe) + 1);
		struct wframe w = { WMAGIC, (__u32)wa->id, counter, (__u32)len, rnd(&seed) };

		if (rnd(&seed) % 2) {
			ssize_t r;

			memcpy(buf, &w, sizeof(w));
			pg_pattern_fill(buf + sizeof(w), len - sizeof(w), w.seed, sizeof(w));
			r = write(d.fd, buf, len);
			if (r < 0) {
				if (errno != EAGAIN)
					fail("writer %d: write: %s", wa->id, strerror(errno));
				pg_msleep(1);
				continue;
			}
			if ((size_t)r != len)
				fail("writer %d: short write", wa->id);
		} else {
			/* zero-copy chain; on EAGAIN mid-chain, wait for a buffer */
			size_t off = 0;

			while (off < len) {
				size_t n = len - off;
				int idx, e;

				idx = pg_tx_acquire(d.fd, 0);
				if (idx == -EAGAIN) {
					if (sh->stop)
						break;	/* a partial chain is reclaimed at close */
					pg_msleep(1);
					if (off == 0)
						goto next;	/* try again later */
					continue;
				}
				if (idx < 0 || (__u32)idx >= d.info.tx_count) {
					fail("writer %d: TX_ACQUIRE %d", wa->id, idx);
					goto out;
				}
				if (n > d.info.buf_size)
					n = d.info.buf_size;
				if (off == 0) {
					memcpy(buf, &w, sizeof(w));
					pg_pattern_fill(buf + sizeof(w), len - sizeof(w), w.seed, sizeof(w));
				}
				memcpy(pg_tx_buf(&d, (__u32)idx), buf + off, n);
				off += n;
				e = pg_tx_submit(d.fd, (__u32)idx, (__u32)n, DEST_ZC,
						 off < len ? PGPDMA_TXF_CONT : 0);
				if (e) {
					fail("writer %d: TX_SUBMIT %s", wa->id, strerror(-e));
					goto out;
				}
			}
			if (off < len)
				continue;
		}
		counter++;
		sh->tx_frames[wa->id]++;
next:
		;
	}
out:
	free(buf);
	pg_dev_close(&d);
	return NULL;
}

/* ------------------------------------------------------------------ */

static int controller_main(void)
{
	unsigned int seed = (unsigned int)getpid();
	int fd = pg_open(O_RDWR);
	struct pgpdma_info info;
	static const __u32 trs[] = { 2, 4, 6, 8, 9, 7, 5, 3, 10, 0, 1 };
	unsigned int k = 0;

	if (fd < 0 || pg_info(fd, &info)) {
		fail("controller open");
		return 1;
	}
	while (!sh->stop) {
		int e;

		if (rnd(&seed) % 3 == 0) {
			__u32 fs = PGPDMA_TH_SIZE + rnd(&seed) % (3 * info.buf_size);

			e = pg_engine_set(fd, PGPDMA_ENG_GENERATOR, 0,
					  rnd(&seed) % 2 ? 0 : 20000, fs, DEST_GEN, 3,
					  rnd(&seed) % 2 ? 0 : 1000);
		} else {
			e = pg_loopback(fd, rnd(&seed) % 2 ? PGPDMA_ENGF_LOSSLESS : 0);
		}
		if (e)
			fail("controller ENGINE_SET: %s", strerror(-e));
		sh->mode_switches++;
		for (int t = 0; t < 10 && !sh->stop; t++) {
			pg_msleep(100 + rnd(&seed) % 200);
			e = pg_inject(fd, trs[k++ % PG_ARRAY_SIZE(trs)], DEST_GEN);
			if (e)
				fail("controller INJECT: %s", strerror(-e));
		}
	}
	/* end in lossless loopback so queued TX drains */
	pg_loopback(fd, PGPDMA_ENGF_LOSSLESS);
	close(fd);
	return 0;
}

static void churn_once(unsigned int *seed, bool in_child)
{
	struct pg_dev d;
	struct pgpdma_rx_desc dd[8];
	int k;

	if (pg_dev_open(&d, O_RDWR | O_NONBLOCK, rnd(seed) % 2)) {
		fail("churn open: %s", strerror(errno));
		return;
	}
	if (pg_set_dest_one(d.fd, DEST_CHURN) && !in_child)
		fail("churn claim: %s", strerror(errno));
	for (k = 0; k < 4; k++)
		pg_inject(d.fd, PGPDMA_TR_SLOW_UPDATE, DEST_CHURN);
	pg_wait_in(d.fd, 20);
	pg_rx_read(d.fd, dd, 1 + rnd(seed) % 8, 0);
	for (k = 0; k < (int)(rnd(seed) % 3); k++)
		pg_tx_acquire(d.fd, 0);
	if (in_child)
		for (;;)
			pg_rx_read(d.fd, dd, 8, 0);
	if (rnd(seed) % 2)
		pg_dev_close(&d);
	else
		close(d.fd);	/* mapping released below */
	if (d.map)
		munmap(d.map, d.map_len);
}

static int churn_main(void)
{
	unsigned int seed = (unsigned int)getpid();

	while (!sh->stop) {
		if (rnd(&seed) % 4 == 0) {
			pid_t pid = fork();
			int st;

			if (pid == 0) {
				churn_once(&seed, true);
				_exit(0);
			}
			if (pid < 0) {
				fail("churn fork");
				break;
			}
			pg_msleep(5 + rnd(&seed) % 30);
			kill(pid, SIGKILL);
			waitpid(pid, &st, 0);
			sh->kills++;
		} else {
			churn_once(&seed, false);
		}
		sh->churn_cycles++;
	}
	return 0;
}

/* ------------------------------------------------------------------ */

static void *stats_main(void *a)
{
	struct pgpdma_info info;
	struct pgpdma_stats prev, cur;
	int fd = pg_open(O_RDONLY), i;
	bool have = false;
	char buf[8192];

	(void)a;
	if (fd < 0 || pg_info(fd, &info)) {
		fail("stats open");
		return NULL;
	}
	while (!sh->stop) {
		const char *why;
		const __u64 *p, *c;

		if (pg_stats(fd, &cur)) {
			fail("GET_STATS: %s", strerror(errno));
			break;
		}
		why = pg_states_bad(&info, &cur);
		if (why)
			fail("snapshot: %s", why);
		if (have) {
			/* every u64 counter is monotonic */
			p = (const __u64 *)&prev;
			c = (const __u64 *)&cur;
			for (i = 0; i < 17; i++)
				if (c[i] < p[i])
					fail("counter %d went back %llu -> %llu", i,
					     (unsigned long long)p[i], (unsigned long long)c[i]);
			for (i = 0; i < PGPDMA_ST_COUNT; i++)
				if (cur.state_hwm[i] < prev.state_hwm[i])
					fail("state_hwm[%d] went back", i);
		}
		prev = cur;
		have = true;
		sh->stats_snapshots++;
		if (sh->stats_snapshots % 64 == 0) {
			pg_read_file("/proc/pgpdma0", buf, sizeof(buf));
			pg_read_file("/sys/module/pgpdma/parameters/cfgRxCount", buf, sizeof(buf));
		}
		sched_yield();
	}
	close(fd);
	return NULL;
}

/* ------------------------------------------------------------------ */

FIXTURE(stress) {
	int fd;
	struct pgpdma_info info;
};

FIXTURE_SETUP(stress)
{
	self->fd = pg_open(O_RDWR);
	if (self->fd < 0 && errno == ENOENT)
		SKIP(return, "%s missing (module not loaded)", pg_dev_path());
	ASSERT_LE(0, self->fd);
	ASSERT_EQ(0, pg_info(self->fd, &self->info));
	ASSERT_EQ(0, pg_engine_idle(self->fd));
	check_states(self->fd);
}

FIXTURE_TEARDOWN(stress)
{
	if (self->fd < 0)
		return;
	EXPECT_EQ(0, pg_engine_idle(self->fd));
	check_states(self->fd);
	close(self->fd);
	check_idle();
}

static pid_t spawn(int (*fn)(int, __u32), int a, __u32 b, int (*fn0)(void))
{
	pid_t pid = fork();

	if (pid == 0)
		_exit(fn ? fn(a, b) : fn0());
	return pid;
}

TEST_F_TIMEOUT(stress, concurrent, 7200)
{
	static const __u32 rdest[NREADERS] = { DEST_WRITE, DEST_ZC, DEST_GEN };
	struct writer_arg wa[NWRITERS];
	pthread_t wt[NWRITERS], st[2];
	pid_t pids[NREADERS + 2];
	unsigned int secs = duration_s(), i;
	struct pgpdma_stats before, after;
	uint64_t end;
	__u64 rx = 0, tx = 0;

	sh = mmap(NULL, sizeof(*sh), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, sh);
	memset(sh, 0, sizeof(*sh));
	ksft_print_msg("stress: %u s, %u readers, %u writers, rx %u x %u, tx %u\n",
		       secs, NREADERS, NWRITERS, self->info.rx_count,
		       self->info.buf_size, self->info.tx_count);
	ASSERT_EQ(0, pg_stats(self->fd, &before));

	for (i = 0; i < NREADERS; i++) {
		pids[i] = spawn(reader_main, (int)i, rdest[i], NULL);
		ASSERT_LT(0, pids[i]);
	}
	pg_msleep(100);		/* readers claim their dests first */
	pids[NREADERS] = spawn(NULL, 0, 0, controller_main);
	pids[NREADERS + 1] = spawn(NULL, 0, 0, churn_main);
	ASSERT_LT(0, pids[NREADERS]);
	ASSERT_LT(0, pids[NREADERS + 1]);
	for (i = 0; i < NWRITERS; i++) {
		wa[i].id = (int)i;
		ASSERT_EQ(0, pthread_create(&wt[i], NULL, writer_main, &wa[i]));
	}
	for (i = 0; i < 2; i++)
		ASSERT_EQ(0, pthread_create(&st[i], NULL, stats_main, NULL));

	end = pg_now_ns() + (uint64_t)secs * 1000000000ull;
	while (pg_now_ns() < end && !sh->nerr) {
		pg_msleep(1000);
		ksft_print_msg("stress: rx %llu/%llu/%llu tx %llu/%llu/%llu churn %llu kills %llu switches %llu stats %llu\n",
			       (unsigned long long)sh->rx_frames[0], (unsigned long long)sh->rx_frames[1],
			       (unsigned long long)sh->rx_frames[2], (unsigned long long)sh->tx_frames[0],
			       (unsigned long long)sh->tx_frames[1], (unsigned long long)sh->tx_frames[2],
			       (unsigned long long)sh->churn_cycles, (unsigned long long)sh->kills,
			       (unsigned long long)sh->mode_switches,
			       (unsigned long long)sh->stats_snapshots);
	}
	sh->stop = 1;
	for (i = 0; i < NWRITERS; i++)
		pthread_join(wt[i], NULL);
	for (i = 0; i < 2; i++)
		pthread_join(st[i], NULL);
	for (i = 0; i < NREADERS + 2; i++) {
		int stt = 0;

		EXPECT_EQ(pids[i], waitpid(pids[i], &stt, 0));
		EXPECT_TRUE(WIFEXITED(stt) && WEXITSTATUS(stt) == 0) {
			TH_LOG("process %u ended with status %#x", i, stt);
		}
	}
	EXPECT_EQ(0, sh->nerr) {
		TH_LOG("%d errors, first: %s", sh->nerr, sh->first_error);
	}
	/* let in-flight TX drain, then everything must be back */
	pg_msleep(500);
	ASSERT_EQ(0, pg_engine_idle(self->fd));
	ASSERT_EQ(0, pg_stats(self->fd, &after));
	EXPECT_EQ(NULL, pg_states_bad(&self->info, &after));
	EXPECT_EQ(0u, after.state[PGPDMA_ST_RX_USER]);
	EXPECT_EQ(0u, after.state[PGPDMA_ST_TX_USER]);
	EXPECT_EQ(0u, after.state[PGPDMA_ST_RX_QUEUED]);
	EXPECT_EQ(self->info.tx_count, after.state[PGPDMA_ST_TX_FREE]);
	for (i = 0; i < NREADERS; i++)
		rx += sh->rx_frames[i];
	for (i = 0; i < NWRITERS; i++)
		tx += sh->tx_frames[i];
	ksft_print_msg("stress done: rx %llu frames, tx %llu frames, reclaimed %llu, drops nobuf %llu unclaimed %llu, deadtime events %llu\n",
		       (unsigned long long)rx, (unsigned long long)tx,
		       (unsigned long long)(after.reclaimed - before.reclaimed),
		       (unsigned long long)(after.rx_drop_nobuf - before.rx_drop_nobuf),
		       (unsigned long long)(after.rx_drop_unclaimed - before.rx_drop_unclaimed),
		       (unsigned long long)(after.deadtime_events - before.deadtime_events));
	EXPECT_LT(0u, rx);
	EXPECT_LT(0u, tx);
	EXPECT_LT(0u, sh->rx_frames[2]);
	EXPECT_LT(before.reclaimed, after.reclaimed);
	EXPECT_LE(before.tx_frames + tx, after.tx_frames);
	munmap(sh, sizeof(*sh));
}

TEST_HARNESS_MAIN
