// SPDX-License-Identifier: GPL-2.0
/*
 * pgpdma selftest: ENGINE_SET against the running engine thread.
 *
 * One thread changes the engine's settings as fast as it can (generator at
 * rates from 100 kHz to the 929 kHz pulse rate and "as fast as possible",
 * frame sizes across the buffer size, loopback), while the engine thread
 * produces and a reader drains the generator's dest. Every call must
 * succeed, frames must arrive, and afterwards every buffer is back.
 *
 * What it is for: issue 10, bug 4 (ENGINE_SET wrote emu->next while the
 * engine thread read it unlocked) is a data race with no visible effect on
 * x86-64, which only KCSAN sees. On the KCSAN debug kernel
 * (scripts/debug-kernel.sh --kcsan) the test makes KCSAN watch one access
 * in 50 instead of one in 4000 (kcsan.skip_watch) while it runs, so that a
 * race between the two sides is reported within seconds; vm-run fails the
 * run on a KCSAN report with a pgpdma frame (scripts/kernel-log-check).
 * Elsewhere it is a short stress of the ENGINE_SET barrier.
 *
 * PGPDMA_RACE_SECONDS sets the duration (default 15).
 */
#include "pgpdma_util.h"

#include <pthread.h>
#include <stdatomic.h>

#define DEST_GEN	3
#define KCSAN_SKIP	"/sys/module/kcsan/parameters/skip_watch"

static atomic_int stop;
static atomic_ullong frames;
static atomic_int reader_err;

static void *reader_main(void *arg)
{
	struct pgpdma_rx_desc dd[64];
	__u32 idx[64];
	int fd = *(int *)arg, r, i;

	while (!atomic_load(&stop)) {
		if (pg_wait_in(fd, 20) <= 0)
			continue;
		r = pg_rx_read(fd, dd, 64, 0);
		if (r < 0) {
			atomic_store(&reader_err, r);
			break;
		}
		for (i = 0; i < r; i++) {
			idx[i] = dd[i].index;
			if (dd[i].flags & PGPDMA_RXF_SOF)
				atomic_fetch_add(&frames, 1);
		}
		if (r && pg_rx_return(fd, idx, (__u32)r) < 0) {
			atomic_store(&reader_err, -errno);
			break;
		}
	}
	return NULL;
}

/* Write @val to KCSAN's skip_watch; the old value in @old (if asked). */
static bool kcsan_skip_watch(const char *val, char *old, size_t cap)
{
	FILE *f;

	if (old && pg_read_file(KCSAN_SKIP, old, cap) <= 0)
		return false;
	f = fopen(KCSAN_SKIP, "w");
	if (!f)
		return false;
	fputs(val, f);
	return fclose(f) == 0;
}

FIXTURE(race) {
	int unused;
};

FIXTURE_SETUP(race)
{
	self->unused = 0;
}

FIXTURE_TEARDOWN(race)
{
}

TEST_F_TIMEOUT(race, engine_set_against_the_engine_thread, 600)
{
	static const __u32 rates[] = { 929000, 200000, 0, 500000, 100000 };
	const char *s = getenv("PGPDMA_RACE_SECONDS");
	unsigned int secs = s && *s ? (unsigned int)strtoul(s, NULL, 0) : 15;
	unsigned int seed = pg_seed(), n = 0, bad = 0;
	char skip0[32] = "";
	bool kcsan;
	struct pgpdma_info info;
	struct timespec t0, t;
	pthread_t th;
	int ctl, rfd, e;

	ctl = pg_open(O_RDWR);
	ASSERT_LE(0, ctl);
	ASSERT_EQ(0, pg_info(ctl, &info));
	rfd = pg_open(O_RDWR | O_NONBLOCK);
	ASSERT_LE(0, rfd);
	ASSERT_EQ(0, pg_set_dest_one(rfd, DEST_GEN));
	e = pg_rx_hold(rfd, info.rx_count);	/* -ENOTTY: a driver without limits */
	ASSERT_TRUE(e == 0 || e == -ENOTTY);
	ASSERT_EQ(0, pthread_create(&th, NULL, reader_main, &rfd));

	kcsan = kcsan_skip_watch("50", skip0, sizeof(skip0));
	ksft_print_msg("%s, %u s\n", kcsan ? "KCSAN watching 1 access in 50" :
		       "not a KCSAN kernel: a stress of the ENGINE_SET barrier", secs);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	do {
		__u32 fs = PGPDMA_TH_SIZE + rand_r(&seed) % (2 * info.buf_size);

		if (n % 5 == 4)
			e = pg_loopback(ctl, 0);
		else
			e = pg_engine_set(ctl, PGPDMA_ENG_GENERATOR, 0,
					  rates[n % PG_ARRAY_SIZE(rates)], fs,
					  DEST_GEN, 0, 0);
		if (e) {
			if (!bad++)
				TH_LOG("ENGINE_SET %u: %s", n, strerror(-e));
		}
		n++;
		clock_gettime(CLOCK_MONOTONIC, &t);
	} while (t.tv_sec - t0.tv_sec < (time_t)secs);
	if (kcsan)
		kcsan_skip_watch(skip0, NULL, 0);

	EXPECT_EQ(0, pg_engine_idle(ctl));
	atomic_store(&stop, 1);
	pthread_join(th, NULL);
	ksft_print_msg("%u ENGINE_SETs, %llu frames read\n", n,
		       (unsigned long long)atomic_load(&frames));
	EXPECT_EQ(0u, bad);
	EXPECT_EQ(0, atomic_load(&reader_err));
	EXPECT_LT(0ull, atomic_load(&frames));
	EXPECT_LE(0, pg_drain(rfd, 50));
	close(rfd);
	close(ctl);
	check_idle();
}

TEST_HARNESS_MAIN
