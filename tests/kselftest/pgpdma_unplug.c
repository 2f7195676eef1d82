// SPDX-License-Identifier: GPL-2.0
/*
 * pgpdma emulated unplug: /sys/class/pgpdma/pgpdma0/emulate_unplug.
 *
 * Writing 1 makes the device disappear for good (until the module is
 * reloaded), so this binary has its own suite line (unplug). One test:
 * sleepers in RX_READ WAIT, TX_ACQUIRE WAIT, read(), write() and poll()
 * wake with ENODEV / EPOLLERR|EPOLLHUP; every ioctl, read, write and mmap
 * on an open file gives ENODEV, open() gives ENODEV; a touch of the old
 * mapping gets SIGBUS and the pool's memory is back (MemFree); sysfs and /proc stay
 * readable and the engine stops; close takes every buffer back; rmmod
 * works; the module is then loaded again with the same parameters so the
 * tests after this one in the VM boot find a working device.
 */
#include "pgpdma_util.h"

#define DEST_MAIN	PGPDMA_DEST(0, 20)
#define DEST_SLEEP	PGPDMA_DEST(1, 21)
#define DEST_POLL	PGPDMA_DEST(2, 22)
#define DEST_GEN	PGPDMA_DEST(3, 23)
#define SYSFS		"/sys/class/pgpdma/pgpdma0/"
#define NSLEEPERS	5

static long sysfs_val(const char *name)
{
	char path[128], buf[64];

	snprintf(path, sizeof(path), SYSFS "%s", name);
	if (pg_read_file(path, buf, sizeof(buf)) <= 0)
		return -1;
	return strtol(buf, NULL, 0);
}

static int sysfs_write(const char *name, const char *val)
{
	char path[128];

	snprintf(path, sizeof(path), SYSFS "%s", name);
	return pg_write_file(path, val);
}

struct sleeper {
	pthread_t th;
	int kind;		/* 0 RX_READ WAIT, 1 TX_ACQUIRE WAIT, 2 read, 3 write, 4 poll */
	int fd;
	int txbytes;
	volatile int done;
	int ret;		/* -errno, or poll revents */
};

static void *sleeper_main(void *arg)
{
	struct sleeper *s = arg;
	struct pgpdma_rx_desc d[4];
	struct pollfd p = { .fd = s->fd, .events = POLLIN };
	static __thread char buf[65536];
	ssize_t n;

	switch (s->kind) {
	case 0:
		s->ret = pg_rx_read(s->fd, d, 4, PGPDMA_READ_WAIT);
		break;
	case 1:
		s->ret = pg_tx_acquire(s->fd, PGPDMA_TXA_WAIT);
		break;
	case 2:
		n = read(s->fd, buf, sizeof(buf));
		s->ret = n < 0 ? -errno : (int)n;
		break;
	case 3:
		n = write(s->fd, buf, (size_t)s->txbytes);
		s->ret = n < 0 ? -errno : (int)n;
		break;
	default:
		n = poll(&p, 1, 20000);
		s->ret = n == 1 ? p.revents : -1000 - (int)n;
		break;
	}
	s->done = 1;
	return NULL;
}

/* Module parameters to load it again after rmmod. */
static void module_params(char *out, size_t cap)
{
	static const char * const names[] = { "cfgRxCount", "cfgTxCount",
		"cfgSize", "cfgMode", "cfgDevCount", "cfgPoolMaxPct" };
	char path[128], val[64];
	size_t i, len = 0;

	out[0] = 0;
	for (i = 0; i < PG_ARRAY_SIZE(names); i++) {
		snprintf(path, sizeof(path), "/sys/module/pgpdma/parameters/%s",
			 names[i]);
		if (pg_read_file(path, val, sizeof(val)) <= 0)
			continue;
		val[strcspn(val, "\n")] = 0;
		len += (size_t)snprintf(out + len, cap - len, " %s=%s",
					names[i], val);
	}
}

FIXTURE(unplug) {
	struct pg_dev d;
};

FIXTURE_SETUP(unplug)
{
	pg_fixture_open(&self->d, DEST_MAIN);
}

FIXTURE_TEARDOWN(unplug)
{
	pg_dev_close(&self->d);
}

TEST_F_TIMEOUT(unplug, everything_fails_but_close, 60)
{
	struct pg_dev *d = &self->d;
	struct sleeper sl[NSLEEPERS];
	struct pgpdma_rx_desc desc[4];
	struct pgpdma_stats st0;
	struct pgpdma_engine eng;
	struct pgpdma_dest_mask dm;
	struct pgpdma_info info, eng_info;
	struct pollfd p;
	struct stat sb;
	char buf[8192], params[512], cmd[700];
	const char *ko;
	long rec0, g0, g1, rxq_before;
	long long mem0, mem1;
	long long pool;
	int fd2, fd3, i, n, rx_held, tx_held[64], ntx = 0, txc;
	void *m;

	info = d->info;
	txc = (int)info.tx_count;
	ASSERT_LE(txc, 64);
	ASSERT_EQ(0, pg_stats(d->fd, &st0));
	rec0 = (long)st0.reclaimed;

	/* the attribute: root-only write, no read; only "1" is accepted */
	ASSERT_EQ(0, stat(SYSFS "emulate_unplug", &sb));
	EXPECT_EQ(0200u, sb.st_mode & 0777u);
	EXPECT_EQ(-EINVAL, sysfs_write("emulate_unplug", "0"));
	EXPECT_EQ(-EINVAL, sysfs_write("emulate_unplug", "2"));

	/* hold one RX buffer, leave one frame queued, hold every TX buffer */
	ASSERT_EQ(0, pg_inject(d->fd, PGPDMA_TR_CONFIGURE, DEST_MAIN));
	ASSERT_EQ(1, pg_wait_in(d->fd, 2000));
	ASSERT_EQ(1, pg_rx_read(d->fd, desc, 1, 0));
	rx_held = (int)desc[0].index;
	ASSERT_EQ(0, pg_inject(d->fd, PGPDMA_TR_BEGIN_RUN, DEST_MAIN));
	ASSERT_EQ(1, pg_wait_in(d->fd, 2000));
	for (i = 0; i < txc; i++) {
		n = pg_tx_acquire(d->fd, 0);
		ASSERT_LE(0, n);
		tx_held[ntx++] = n;
	}
	EXPECT_EQ(-EAGAIN, pg_tx_acquire(d->fd, 0));

	/* the engine running: generator to an unclaimed dest */
	ASSERT_EQ(0, pg_engine_set(d->fd, PGPDMA_ENG_GENERATOR, 0, 1000, 256,
				   DEST_GEN, 0, 0));

	/* sleepers on two more files with nothing queued */
	fd2 = pg_open(O_RDWR);
	ASSERT_LE(0, fd2);
	ASSERT_EQ(0, pg_set_dest_one(fd2, DEST_SLEEP));
	fd3 = pg_open(O_RDWR);
	ASSERT_LE(0, fd3);
	ASSERT_EQ(0, pg_set_dest_one(fd3, DEST_POLL));
	memset(sl, 0, sizeof(sl));
	for (i = 0; i < NSLEEPERS; i++) {
		sl[i].kind = i;
		sl[i].fd = (i == 2 || i == 4) ? fd3 : fd2;
		sl[i].txbytes = 100;
		ASSERT_EQ(0, pthread_create(&sl[i].th, NULL, sleeper_main,
					    &sl[i]));
	}
	pg_msleep(300);
	for (i = 0; i < NSLEEPERS; i++)
		EXPECT_EQ(0, sl[i].done) TH_LOG("sleeper %d did not block", i);

	/* unplug: the mapping was in use until now */
	EXPECT_EQ(0, pg_probe_read(pg_rx_buf(d, (__u32)rx_held)));
	EXPECT_EQ(0, pg_probe_read(pg_tx_buf(d, (__u32)tx_held[0])));
	pool = (long long)info.map_size;
	mem0 = pg_mem_free();
	ASSERT_EQ(0, sysfs_write("emulate_unplug", "1"));
	for (i = 0; i < NSLEEPERS; i++) {
		int w;

		for (w = 0; w < 500 && !sl[i].done; w++)
			pg_msleep(10);
		ASSERT_EQ(1, sl[i].done) TH_LOG("sleeper %d not woken", i);
		pthread_join(sl[i].th, NULL);
	}
	EXPECT_EQ(-ENODEV, sl[0].ret);	/* RX_READ WAIT */
	EXPECT_EQ(-ENODEV, sl[1].ret);	/* TX_ACQUIRE WAIT */
	EXPECT_EQ(-ENODEV, sl[2].ret);	/* read */
	EXPECT_EQ(-ENODEV, sl[3].ret);	/* write */
	EXPECT_EQ(POLLERR | POLLHUP, sl[4].ret);	/* poll: no POLLIN */

	/* writing 1 again is harmless */
	EXPECT_EQ(0, sysfs_write("emulate_unplug", "1"));

	/* poll on the file with a queued frame: error, not readable */
	p.fd = d->fd;
	p.events = POLLIN | POLLOUT;
	p.revents = 0;
	EXPECT_EQ(1, poll(&p, 1, 0));
	EXPECT_EQ(POLLERR | POLLHUP, p.revents);

	/* every ioctl: ENODEV */
	memset(&dm, 0, sizeof(dm));
	EXPECT_EQ(-ENODEV, pg_info(d->fd, &eng_info));
	EXPECT_EQ(-ENODEV, pg_stats(d->fd, &st0));
	EXPECT_EQ(-ENODEV, pg_rx_read(d->fd, desc, 4, 0));
	EXPECT_EQ(-ENODEV, pg_rx_read(d->fd, desc, 4, PGPDMA_READ_WAIT));
	EXPECT_EQ(-ENODEV, pg_rx_return1(d->fd, (__u32)rx_held));
	EXPECT_EQ(-ENODEV, pg_tx_acquire(d->fd, 0));
	EXPECT_EQ(-ENODEV, pg_tx_acquire(d->fd, PGPDMA_TXA_WAIT));
	EXPECT_EQ(-ENODEV, pg_tx_submit(d->fd, (__u32)tx_held[0], 64,
					DEST_MAIN, 0));
	EXPECT_EQ(-ENODEV, pg_tx_release(d->fd, (__u32 *)tx_held, 1));
	EXPECT_EQ(-ENODEV, pg_ioctl(d->fd, PGPDMA_IOC_SET_DEST, &dm));
	EXPECT_EQ(-ENODEV, pg_ioctl(d->fd, PGPDMA_IOC_GET_DEST, &dm));
	EXPECT_EQ(-ENODEV, pg_engine_get(d->fd, &eng));
	EXPECT_EQ(-ENODEV, pg_engine_idle(d->fd));
	EXPECT_EQ(-ENODEV, pg_inject(d->fd, PGPDMA_TR_ENABLE, DEST_MAIN));

	/* read, write, mmap: ENODEV; the old mapping faults, the pool is freed */
	EXPECT_EQ(-1, read(d->fd, buf, sizeof(buf)));
	EXPECT_EQ(ENODEV, errno);
	EXPECT_EQ(-1, write(d->fd, buf, 64));
	EXPECT_EQ(ENODEV, errno);
	m = mmap(NULL, d->map_len, PROT_READ, MAP_SHARED, d->fd, 0);
	EXPECT_EQ(MAP_FAILED, m);
	EXPECT_EQ(ENODEV, errno);
	if (m != MAP_FAILED)
		munmap(m, d->map_len);
	EXPECT_EQ(SIGBUS, pg_probe_read(pg_rx_buf(d, (__u32)rx_held)));
	EXPECT_EQ(SIGBUS, pg_probe_read(pg_tx_buf(d, (__u32)tx_held[0])));
	mem1 = pg_mem_free();
	TH_LOG("MemFree %+lld KiB across the unplug (pool %lld KiB)",
	       (mem1 - mem0) / 1024, pool / 1024);
	EXPECT_LE(pool * 3 / 4, mem1 - mem0)
		TH_LOG("the pool was not freed at the unplug");

	/* open: ENODEV */
	EXPECT_EQ(-1, pg_open(O_RDWR));
	EXPECT_EQ(ENODEV, errno);
	EXPECT_EQ(-1, pg_open(O_RDONLY));
	EXPECT_EQ(ENODEV, errno);

	/* sysfs and /proc readable; the engine has stopped */
	g0 = sysfs_val("gen_frames");
	ASSERT_LE(0, g0);
	pg_msleep(200);
	g1 = sysfs_val("gen_frames");
	EXPECT_EQ(g0, g1) TH_LOG("engine still generating after unplug");
	EXPECT_EQ(1, sysfs_val("state_rx_user"));
	EXPECT_EQ(txc, sysfs_val("state_tx_user"));
	rxq_before = sysfs_val("state_rx_queued");
	EXPECT_LE(1, rxq_before);
	ASSERT_LT(0, pg_read_file("/proc/pgpdma0", buf, sizeof(buf)));
	EXPECT_NE(NULL, strstr(buf, "gone"));
	EXPECT_NE(NULL, strstr(buf, "engine running   : 0"));

	/* close: everything back, counters consistent */
	close(fd2);
	close(fd3);
	pg_dev_close(d);
	EXPECT_EQ(0, sysfs_val("state_rx_user"));
	EXPECT_EQ(0, sysfs_val("state_rx_queued"));
	EXPECT_EQ((long)info.rx_count, sysfs_val("state_rx_hw"));
	EXPECT_EQ(0, sysfs_val("state_tx_user"));
	EXPECT_EQ(0, sysfs_val("state_tx_hw"));
	EXPECT_EQ((long)info.tx_count, sysfs_val("state_tx_free"));
	EXPECT_EQ(rec0 + 1 + txc, sysfs_val("reclaimed"));
	EXPECT_EQ(-1, pg_open(O_RDWR));

	/* rmmod works, then load it again for the tests after this one */
	module_params(params, sizeof(params));
	EXPECT_EQ(0, system("rmmod pgpdma"));
	EXPECT_NE(0, access(SYSFS, F_OK));
	ko = getenv("PGPDMA_KO");
	snprintf(cmd, sizeof(cmd), "insmod %s%s",
		 ko && *ko ? ko : "/lib/modules/pgpdma.ko", params);
	TH_LOG("%s", cmd);
	ASSERT_EQ(0, system(cmd));
	for (i = 0; i < 50 && access(pg_dev_path(), F_OK); i++)
		pg_msleep(100);
	n = pg_open(O_RDWR);
	ASSERT_LE(0, n) TH_LOG("reloaded device does not open");
	EXPECT_EQ(0, pg_info(n, &info));
	close(n);
}

TEST_HARNESS_MAIN
