// SPDX-License-Identifier: GPL-2.0
/*
 * pgpdma multi-process tests: processes sharing the device through
 * destination claims, and buffers held by exiting or killed processes
 * coming back (reclaim).
 */
#include "pgpdma_util.h"

#define DEST_A		PGPDMA_DEST(0, 10)
#define DEST_B		PGPDMA_DEST(4, 11)
#define DEST_NONE	PGPDMA_DEST(5, 12)

FIXTURE(mp) {
	struct pg_dev d;
};

FIXTURE_SETUP(mp)
{
	if (!pg_fixture_open(&self->d, DEST_A))
		return;
}

FIXTURE_TEARDOWN(mp)
{
	pg_fixture_close(&self->d, 20);
}

static int wait_child(pid_t pid)
{
	int st;

	if (waitpid(pid, &st, 0) != pid)
		return -1;
	if (WIFEXITED(st))
		return WEXITSTATUS(st);
	return 128 + WTERMSIG(st);
}

/* Child: claim DEST_B, receive n frames, all must be DEST_B transitions. */
static int child_receiver(int n, int ready_fd)
{
	struct pg_dev d;
	struct pg_frame f;
	const char *why;
	uint8_t buf[256];
	int got = 0, r;
	char c = 'r';

	if (pg_dev_open(&d, O_RDWR, true))
		return 10;
	if (pg_set_dest_one(d.fd, DEST_B))
		return 11;
	/* claiming the parent's dest is refused */
	if (pg_set_dest_one(d.fd, DEST_A) != -EBUSY)
		return 12;
	if (write(ready_fd, &c, 1) != 1)
		return 13;
	while (got < n) {
		r = pg_recv_frame(&d, &f, buf, sizeof(buf), 5000, &why);
		if (r != 1)
			return 14;
		if (f.d[0].dest != DEST_B || f.len != PGPDMA_TH_SIZE)
			return 15;
		if (pg_frame_return(&d, &f))
			return 16;
		got++;
	}
	/* nothing else for us */
	if (pg_wait_in(d.fd, 200) != 0)
		return 17;
	pg_dev_close(&d);
	return 0;
}

TEST_F(mp, two_processes_separate_dests)
{
	struct pgpdma_stats before, after;
	struct pg_frame f;
	const char *why;
	uint8_t buf[256];
	int p[2], n = (int)pg_scale(50), k, got = 0;
	pid_t pid;
	char c;

	ASSERT_EQ(0, pipe(p));
	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		close(p[0]);
		_exit(child_receiver(n, p[1]));
	}
	close(p[1]);
	ASSERT_EQ(1, read(p[0], &c, 1));
	close(p[0]);
	/* the child's dest is taken now */
	EXPECT_EQ(-EBUSY, pg_set_dest_one(self->d.fd, DEST_B));
	ASSERT_EQ(0, pg_stats(self->d.fd, &before));
	for (k = 0; k < n; k++) {
		ASSERT_EQ(0, pg_inject(self->d.fd, PGPDMA_TR_SLOW_UPDATE, DEST_A));
		ASSERT_EQ(0, pg_inject(self->d.fd, PGPDMA_TR_SLOW_UPDATE, DEST_B));
		ASSERT_EQ(0, pg_inject(self->d.fd, PGPDMA_TR_SLOW_UPDATE, DEST_NONE));
		ASSERT_EQ(1, pg_recv_frame(&self->d, &f, buf, sizeof(buf), 5000, &why));
		EXPECT_EQ((__u32)DEST_A, f.d[0].dest);
		ASSERT_EQ(0, pg_frame_return(&self->d, &f));
		got++;
	}
	EXPECT_EQ(0, wait_child(pid));
	EXPECT_EQ(0, pg_wait_in(self->d.fd, 100));
	ASSERT_EQ(0, pg_stats(self->d.fd, &after));
	EXPECT_EQ(before.rx_drop_unclaimed + (__u64)n, after.rx_drop_unclaimed);
	EXPECT_EQ(before.rx_frames + 2 * (__u64)n, after.rx_frames);
	/* the child closed: DEST_B is free again */
	EXPECT_EQ(0, pg_set_dest_one(self->d.fd, DEST_B));
	EXPECT_EQ(0, pg_set_dest_one(self->d.fd, DEST_A));
}

/*
 * Child: open its own file, take nrx RX buffers and ntx TX buffers, tell
 * the parent, then either exit without cleanup or wait to be killed.
 */
static void child_hold(int nrx, int ntx, int ready_fd, int go_fd, bool wait_kill)
{
	struct pg_dev d;
	struct pg_frame f;
	const char *why;
	int k;
	char c = 'h';

	if (pg_dev_open(&d, O_RDWR, true))
		_exit(10);
	if (pg_set_dest_one(d.fd, DEST_B))
		_exit(11);
	for (k = 0; k < nrx; k++) {
		if (pg_inject(d.fd, PGPDMA_TR_ENABLE, DEST_B))
			_exit(12);
		if (pg_recv_frame(&d, &f, NULL, 0, 3000, &why) != 1)
			_exit(13);
	}
	for (k = 0; k < ntx; k++)
		if (pg_tx_acquire(d.fd, 0) < 0)
			_exit(14);
	/* one more frame queued, unread */
	if (pg_inject(d.fd, PGPDMA_TR_DISABLE, DEST_B))
		_exit(15);
	if (write(ready_fd, &c, 1) != 1)
		_exit(16);
	if (wait_kill)
		for (;;)
			pause();
	if (read(go_fd, &c, 1) != 1)
		_exit(17);
	_exit(0);	/* no close, no munmap, no return */
}

static void reclaim_case(struct __test_metadata *_metadata, struct pg_dev *d,
			 bool kill_it)
{
	struct pgpdma_stats before, mid, after;
	int p[2], go[2], nrx = 5, ntx = 3;
	pid_t pid;
	char c;

	if ((__u32)ntx > d->info.tx_count)
		ntx = (int)d->info.tx_count;
	if ((__u32)nrx + 1 > d->info.rx_count)
		nrx = (int)d->info.rx_count - 1;
	ASSERT_EQ(0, pg_stats(d->fd, &before));
	ASSERT_EQ(0, pipe(p));
	ASSERT_EQ(0, pipe(go));
	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		close(p[0]);
		close(go[1]);
		child_hold(nrx, ntx, p[1], go[0], kill_it);
	}
	close(p[1]);
	close(go[0]);
	ASSERT_EQ(1, read(p[0], &c, 1));
	close(p[0]);
	pg_msleep(50);
	ASSERT_EQ(0, pg_stats(d->fd, &mid));
	EXPECT_EQ((__u32)nrx, mid.state[PGPDMA_ST_RX_USER]);
	EXPECT_EQ((__u32)ntx, mid.state[PGPDMA_ST_TX_USER]);
	EXPECT_EQ(NULL, pg_states_bad(&d->info, &mid));
	if (kill_it) {
		EXPECT_EQ(0, kill(pid, SIGKILL));
	} else {
		EXPECT_EQ(1, write(go[1], "x", 1));
	}
	close(go[1]);
	EXPECT_EQ(kill_it ? 128 + SIGKILL : 0, wait_child(pid));
	ASSERT_EQ(0, pg_stats(d->fd, &after));
	EXPECT_EQ(0u, after.state[PGPDMA_ST_RX_USER]);
	EXPECT_EQ(0u, after.state[PGPDMA_ST_TX_USER]);
	EXPECT_EQ(0u, after.state[PGPDMA_ST_RX_QUEUED]);
	EXPECT_LE(before.reclaimed + (__u64)(nrx + ntx), after.reclaimed);
	EXPECT_EQ(NULL, pg_states_bad(&d->info, &after));
	/* the child's dest is free again */
	EXPECT_EQ(0, pg_set_dest_one(d->fd, DEST_B));
	EXPECT_EQ(0, pg_set_dest_one(d->fd, DEST_A));
}

TEST_F(mp, child_exit_returns_buffers)
{
	reclaim_case(_metadata, &self->d, false);
}

TEST_F(mp, child_sigkill_returns_buffers)
{
	reclaim_case(_metadata, &self->d, true);
}

/* A child killed with SIGKILL in the middle of a loop of RX_READ calls. */
TEST_F_TIMEOUT(mp, child_killed_in_rx_read_loop, 90)
{
	struct pgpdma_stats before, after;
	int round;

	ASSERT_EQ(0, pg_stats(self->d.fd, &before));
	for (round = 0; round < 5; round++) {
		pid_t pid = fork();

		ASSERT_LE(0, pid);
		if (pid == 0) {
			struct pgpdma_rx_desc dd[16];
			struct pg_dev d;
			unsigned int i = 0;
			__u32 idx;

			if (pg_dev_open(&d, O_RDWR, true) || pg_set_dest_one(d.fd, DEST_B))
				_exit(10);
			for (;;) {
				int r = pg_rx_read(d.fd, dd, 1 + i % 16, PGPDMA_READ_WAIT);

				/* holding the whole ring: wait to be killed */
				if (r == -ENOBUFS)
					pause();
				if (r < 0)
					_exit(11);
				/* return some, keep some */
				if (r > 0 && i % 3) {
					idx = dd[0].index;
					if (pg_rx_return(d.fd, &idx, 1))
						_exit(12);
				}
				if (r > 0 && i % 5 == 0) {
					int t = pg_tx_acquire(d.fd, 0);

					(void)t;
				}
				i++;
			}
		}
		ASSERT_EQ(0, pg_engine_set(self->d.fd, PGPDMA_ENG_GENERATOR, 0, 0, 64,
					   DEST_B, 1, 0));
		pg_msleep(100 + 50 * round);
		EXPECT_EQ(0, kill(pid, SIGKILL));
		EXPECT_EQ(128 + SIGKILL, wait_child(pid));
		ASSERT_EQ(0, pg_engine_idle(self->d.fd));
		ASSERT_EQ(0, pg_stats(self->d.fd, &after));
		EXPECT_EQ(0u, after.state[PGPDMA_ST_RX_USER]);
		EXPECT_EQ(0u, after.state[PGPDMA_ST_TX_USER]);
		EXPECT_EQ(NULL, pg_states_bad(&self->d.info, &after));
	}
	EXPECT_LT(before.reclaimed, after.reclaimed);
	EXPECT_LT(before.gen_frames, after.gen_frames);
}

/* A forked child using the parent's file: buffers belong to the file. */
TEST_F(mp, shared_file_across_fork)
{
	struct pgpdma_stats st;
	pid_t pid;
	__u32 idx = 0;
	int p[2];

	ASSERT_EQ(0, pipe(p));
	ASSERT_EQ(0, pg_inject(self->d.fd, PGPDMA_TR_BEGIN_RUN, DEST_A));
	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		struct pg_frame f;
		const char *why;

		if (pg_recv_frame(&self->d, &f, NULL, 0, 3000, &why) != 1)
			_exit(10);
		if (write(p[1], &f.d[0].index, sizeof(__u32)) != sizeof(__u32))
			_exit(11);
		_exit(0);
	}
	close(p[1]);
	EXPECT_EQ((ssize_t)sizeof(idx), read(p[0], &idx, sizeof(idx)));
	close(p[0]);
	EXPECT_EQ(0, wait_child(pid));
	ASSERT_EQ(0, pg_stats(self->d.fd, &st));
	EXPECT_EQ(1u, st.state[PGPDMA_ST_RX_USER]);
	EXPECT_EQ(0, pg_rx_return1(self->d.fd, idx));
}

/* A mapping keeps the file alive after close(); munmap releases it. */
TEST_F(mp, mapping_outlives_close)
{
	struct pgpdma_stats st;
	struct pg_dev d;
	struct pg_frame f;
	const char *why;
	uint8_t v;

	ASSERT_EQ(0, pg_dev_open(&d, O_RDWR, true));
	ASSERT_EQ(0, pg_set_dest_one(d.fd, DEST_B));
	ASSERT_EQ(0, pg_inject(d.fd, PGPDMA_TR_CONFIGURE, DEST_B));
	ASSERT_EQ(1, pg_recv_frame(&d, &f, NULL, 0, 3000, &why));
	close(d.fd);
	d.fd = -1;
	/* still mapped and readable */
	v = *(volatile uint8_t *)pg_rx_buf(&d, f.d[0].index);
	(void)v;
	munmap(d.map, d.map_len);
	d.map = NULL;
	ASSERT_EQ(0, pg_stats(self->d.fd, &st));
	EXPECT_EQ(0u, st.state[PGPDMA_ST_RX_USER]);
	EXPECT_EQ(0, pg_set_dest_one(self->d.fd, DEST_B));
	EXPECT_EQ(0, pg_set_dest_one(self->d.fd, DEST_A));
}

TEST_HARNESS_MAIN
