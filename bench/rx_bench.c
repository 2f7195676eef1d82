// SPDX-License-Identifier: GPL-2.0
/*
 * rx_bench - receive-path benchmark of pgpdma (runs inside the VM guest).
 *
 *   rx_bench matrix [-d DEV] [-t SECONDS] [-w WARMUP] [-r REPS] SIZE...
 *       For each repetition and each frame SIZE (bytes), side by side:
 *         memcpy     in-guest memcpy bandwidth, SIZE-byte copies out of a
 *                    source region as large as the RX pool (cache-cold-ish)
 *         genfill    the emulated engine's payload fill (pgpdma_payload_word
 *                    per 32-bit word, as driver/emu_engine.c does) run in
 *                    userspace: the ceiling the in-kernel generator puts on
 *                    the driver figure
 *         bulk1, bulk32, bulk1000
 *                    zero-copy RX_READ with that batch, every byte of every
 *                    buffer read through the mapping (64-bit sum), buffers
 *                    returned with one RX_RETURN per batch
 *         bulk32nt   the same with batch 32, data not touched (ioctl cost)
 *         read       copy interface: read() of one whole frame per call
 *         bulk32h    bulk32 with the generator computing every payload word
 *                    (hash payload) instead of copying its template
 *       The generator runs at rate 0 (as fast as possible) in lossless mode
 *       (waits for a free buffer, so no frame is generated and then
 *       dropped) with PGPDMA_ENGF_PATTERN (payload copied from a template,
 *       i.e. at memcpy cost) except for bulk32h; its fill is part of the
 *       driver figure.
 *
 *   rx_bench lat [-d DEV] -n FRAMES -z SIZE [-T TIMEOUT]
 *       One frame at a time: the generator makes FRAMES frames of SIZE
 *       bytes (lossless, rate 0) to dest 0, claimed here; each is taken with
 *       RX_READ WAIT, its bytes read through the mapping, and returned.
 *       Latency per frame = arrival in userspace (CLOCK_REALTIME) minus the
 *       timestamp the firmware wrote into its timing header when it built
 *       the frame, i.e. before the device moved it (on the edu device that
 *       includes its DMA transfers, 100 ms each).
 *
 *   rx_bench gen [-d DEV] -n FRAMES -z SIZE [-T TIMEOUT] [-a ARCHIVE_DIR]
 *       End-to-end helper: starts the generator (rate 0, lossless, pattern
 *       payload, FRAMES frames of SIZE bytes) while another process (pebbled) consumes, and
 *       waits until every frame was generated and every RX buffer is back
 *       with the engine; prints one CSV line.
 *
 * Output: CSV lines prefixed "csv," (the TAP file of vm-run keeps them):
 *   csv,rx,REP,SIZE,PATH,FRAMES,BYTES,SECONDS,FPS,GBPS,DROP_NOBUF,GEN_FRAMES,DEADTIME_NS
 *   csv,e2e,SIZE,FRAMES,BYTES,SECONDS,FPS,GBPS,DROP_NOBUF,GEN_FRAMES,DEADTIME_NS,RX_SECONDS
 *   csv,lat,SIZE,FRAMES,SECONDS,FPS,LAT_MEDIAN_US,LAT_MAX_US,RX_ERRORS
 *   (SECONDS: generator start until the archive under -a DIR holds every
 *   frame; RX_SECONDS: until every RX buffer was back with the engine)
 */
#include <errno.h>
#include <ftw.h>
#include <sys/stat.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "libpgpdma.h"

#define MAX_SIZES 16

static volatile uint64_t sink;

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static void die(const char *what, int err)
{
	fprintf(stderr, "rx_bench: %s: %s\n", what, strerror(err < 0 ? -err : err));
	exit(1);
}

/* Read every byte of @p (what a consumer of the mapping does at least). */
static uint64_t touch(const uint8_t *p, size_t n)
{
	const uint64_t *q = (const uint64_t *)p;
	uint64_t s0 = 0, s1 = 0, s2 = 0, s3 = 0;
	size_t i, w = n / 8;

	for (i = 0; i + 4 <= w; i += 4) {
		s0 += q[i];
		s1 += q[i + 1];
		s2 += q[i + 2];
		s3 += q[i + 3];
	}
	for (; i < w; i++)
		s0 += q[i];
	for (i = w * 8; i < n; i++)
		s1 += p[i];
	return s0 + s1 + s2 + s3;
}

struct result {
	uint64_t frames, bytes;
	double secs;
	uint64_t drop, gen, dead;
};

static void emit(int rep, uint32_t size, const char *path, const struct result *r)
{
	double fps = r->secs > 0 ? (double)r->frames / r->secs : 0;
	double gbps = r->secs > 0 ? (double)r->bytes / r->secs / 1e9 : 0;

	printf("csv,rx,%d,%u,%s,%llu,%llu,%.4f,%.1f,%.4f,%llu,%llu,%llu\n", rep, size,
	       path, (unsigned long long)r->frames, (unsigned long long)r->bytes, r->secs,
	       fps, gbps, (unsigned long long)r->drop, (unsigned long long)r->gen,
	       (unsigned long long)r->dead);
	fflush(stdout);
}

/* memcpy of @size-byte blocks from a @region-byte source, for @secs. */
static void bench_memcpy(uint32_t size, size_t region, double secs, struct result *r)
{
	uint8_t *src, *dst;
	size_t off = 0, chk = size >= 65536 ? 1 : 65536 / size;
	uint64_t n = 0;
	double t0, t = 0;

	if (region < size)
		region = size;
	src = aligned_alloc(4096, region);
	dst = aligned_alloc(4096, ((size_t)size + 4095) & ~(size_t)4095);
	if (!src || !dst)
		die("alloc", ENOMEM);
	memset(src, 0x5a, region);
	memset(dst, 0, size);
	t0 = now_s();
	for (;;) {
		memcpy(dst, src + off, size);
		__asm__ volatile("" : : "r"(dst) : "memory");
		off += size;
		if (off + size > region)
			off = 0;
		if (++n % chk == 0 && (t = now_s()) - t0 >= secs)
			break;
	}
	sink += dst[size - 1];
	memset(r, 0, sizeof(*r));
	r->frames = n;
	r->bytes = n * size;
	r->secs = t - t0;
	free(src);
	free(dst);
}

/* The generator's fill (driver/emu_engine.c pgpdma_emu_fill) in userspace. */
static void fill(uint8_t *p, uint32_t len, uint64_t pulse)
{
	uint32_t off, w = 0, v;

	for (off = 0; off < len; off += 4, w++) {
		v = w < PGPDMA_TH_SIZE / 4 ? 0 :
		    pgpdma_payload_word(pulse, w - PGPDMA_TH_SIZE / 4);
		memcpy(p + off, &v, len - off < 4 ? len - off : 4);
	}
}

static void bench_fill(uint32_t size, size_t region, double secs, struct result *r)
{
	uint8_t *dst;
	size_t off = 0, chk = size >= 65536 ? 1 : 65536 / size;
	uint64_t n = 0;
	double t0, t = 0;

	if (region < size)
		region = size;
	dst = aligned_alloc(4096, region);
	if (!dst)
		die("alloc", ENOMEM);
	memset(dst, 0, region);
	t0 = now_s();
	for (;;) {
		fill(dst + off, size, n);
		__asm__ volatile("" : : "r"(dst) : "memory");
		off += size;
		if (off + size > region)
			off = 0;
		if (++n % chk == 0 && (t = now_s()) - t0 >= secs)
			break;
	}
	sink += dst[0];
	memset(r, 0, sizeof(*r));
	r->frames = n;
	r->bytes = n * size;
	r->secs = t - t0;
	free(dst);
}

static void engine(struct pgpdma_dev *d, uint32_t mode, uint32_t flags, uint32_t size,
		   uint64_t count)
{
	struct pgpdma_engine e;
	int ret = pgpdma_engine_get(d, &e);

	if (ret)
		die("engine get", ret);
	e.mode = mode;
	e.flags = PGPDMA_ENGF_LOSSLESS | flags;
	e.rate_hz = 0;
	if (size)
		e.frame_size = size;
	e.dest = 0;
	e.count = count;
	ret = pgpdma_engine_set(d, &e);
	if (ret)
		die("engine set", ret);
}

/* Stop the generator and give back everything queued. */
static void drain(struct pgpdma_dev *d, struct pgpdma_rx_desc *descs, uint32_t *idx)
{
	int pass, n, i;

	engine(d, PGPDMA_ENG_IDLE, 0, 0, 0);
	for (pass = 0; pass < 3; pass++) {
		usleep(20000);
		while ((n = pgpdma_rx_read(d, descs, PGPDMA_MAX_BATCH, 0)) > 0) {
			for (i = 0; i < n; i++)
				idx[i] = descs[i].index;
			pgpdma_rx_return(d, idx, (uint32_t)n);
		}
	}
}

static void snap(struct pgpdma_dev *d, struct pgpdma_stats *st)
{
	int ret = pgpdma_stats(d, st);

	if (ret)
		die("stats", ret);
}

/*
 * One receive-path point. @batch 0 = read(); @touch_data: read the data
 * through the mapping.
 */
static void bench_rx(struct pgpdma_dev *d, uint32_t size, uint32_t batch, int touch_data,
		     uint32_t flags, double warm, double secs, struct pgpdma_rx_desc *descs, uint32_t *idx,
		     uint8_t *copybuf, size_t copylen, struct result *r)
{
	struct pgpdma_stats s0 = { 0 }, s1 = { 0 };
	uint64_t frames = 0, bytes = 0, f0 = 0, b0 = 0, acc = 0;
	double tstart, t0 = 0, t = 0;
	int measuring = 0, n, i;

	drain(d, descs, idx);
	engine(d, PGPDMA_ENG_GENERATOR, flags, size, 0);
	tstart = now_s();
	for (;;) {
		if (batch == 0) {
			ssize_t got = read(d->fd, copybuf, copylen);

			if (got < 0) {
				if (errno == EINTR)
					continue;
				die("read", errno);
			}
			frames++;
			bytes += (uint64_t)got;
		} else {
			n = pgpdma_rx_read(d, descs, batch, 1);
			if (n == -EINTR)
				continue;
			if (n < 0)
				die("rx_read", n);
			for (i = 0; i < n; i++) {
				if (touch_data)
					acc += touch(pgpdma_rx_buf(d, descs[i].index), descs[i].size);
				idx[i] = descs[i].index;
				bytes += descs[i].size;
				if (!(descs[i].flags & PGPDMA_RXF_CONT))
					frames++;
			}
			if (n > 0) {
				n = pgpdma_rx_return(d, idx, (uint32_t)n);
				if (n)
					die("rx_return", n);
			}
		}
		t = now_s();
		if (!measuring && t - tstart >= warm) {
			measuring = 1;
			t0 = t;
			f0 = frames;
			b0 = bytes;
			snap(d, &s0);
		} else if (measuring && t - t0 >= secs) {
			snap(d, &s1);
			break;
		}
	}
	sink += acc;
	drain(d, descs, idx);
	r->frames = frames - f0;
	r->bytes = bytes - b0;
	r->secs = t - t0;
	r->drop = s1.rx_drop_nobuf - s0.rx_drop_nobuf;
	r->gen = s1.gen_frames - s0.gen_frames;
	r->dead = s1.deadtime_ns - s0.deadtime_ns;
}

static int cmd_matrix(const char *dev, double secs, double warm, int reps, int nsizes,
		      const uint32_t *sizes)
{
	static const struct {
		const char *name;
		uint32_t batch;
		int touch;
		uint32_t flags;
	} paths[] = {
		{ "bulk1", 1, 1, PGPDMA_ENGF_PATTERN },
		{ "bulk32", 32, 1, PGPDMA_ENGF_PATTERN },
		{ "bulk1000", 1000, 1, PGPDMA_ENGF_PATTERN },
		{ "bulk32nt", 32, 0, PGPDMA_ENGF_PATTERN },
		{ "read", 0, 1, PGPDMA_ENGF_PATTERN },
		{ "bulk32h", 32, 1, 0 },
	};
	struct pgpdma_rx_desc *descs = calloc(PGPDMA_MAX_BATCH, sizeof(*descs));
	uint32_t *idx = calloc(PGPDMA_MAX_BATCH, sizeof(*idx));
	struct pgpdma_dev d;
	struct result r;
	uint8_t *copybuf;
	size_t copylen = 0, region;
	int ret, rep, s;
	unsigned int p;

	ret = pgpdma_open(&d, dev, O_RDWR);
	if (ret)
		die(dev, ret);
	ret = pgpdma_map(&d, 0);
	if (ret)
		die("map", ret);
	ret = pgpdma_dest_claim(&d, 0);
	if (ret)
		die("dest claim", ret);
	for (s = 0; s < nsizes; s++)
		if (sizes[s] > copylen)
			copylen = sizes[s];
	copybuf = aligned_alloc(4096, (copylen + 4095) & ~(size_t)4095);
	if (!descs || !idx || !copybuf)
		die("alloc", ENOMEM);
	memset(copybuf, 0, copylen);
	region = (size_t)d.info.rx_count * d.info.buf_size;
	printf("# info rx_count=%u buf_size=%u stride=%u map_size=%llu flags=%#x\n",
	       d.info.rx_count, d.info.buf_size, d.info.stride,
	       (unsigned long long)d.info.map_size, d.info.flags);
	for (rep = 1; rep <= reps; rep++) {
		for (s = 0; s < nsizes; s++) {
			bench_memcpy(sizes[s], region, secs, &r);
			emit(rep, sizes[s], "memcpy", &r);
			bench_fill(sizes[s], region, secs, &r);
			emit(rep, sizes[s], "genfill", &r);
			for (p = 0; p < sizeof(paths) / sizeof(paths[0]); p++) {
				memset(&r, 0, sizeof(r));
				bench_rx(&d, sizes[s], paths[p].batch, paths[p].touch,
					 paths[p].flags, warm, secs,
					 descs, idx, copybuf, copylen, &r);
				emit(rep, sizes[s], paths[p].name, &r);
			}
		}
	}
	pgpdma_close(&d);
	return 0;
}

static uint64_t tree_bytes;

static int add_size(const char *path, const struct stat *sb, int type, struct FTW *f)
{
	(void)path;
	(void)f;
	if (type == FTW_F)
		tree_bytes += (uint64_t)sb->st_size;
	return 0;
}

/* Bytes in the files under @dir (the archive being written). */
static uint64_t dir_bytes(const char *dir)
{
	tree_bytes = 0;
	nftw(dir, add_size, 16, FTW_PHYS);
	return tree_bytes;
}

static int cmd_gen(const char *dev, uint64_t frames, uint32_t size, double timeout,
		   const char *archive)
{
	double trx = 0;
	struct pgpdma_stats s0 = { 0 }, s1 = { 0 };
	struct pgpdma_dev d;
	double t0, t1;
	int ret;

	ret = pgpdma_open(&d, dev, O_RDWR);
	if (ret)
		die(dev, ret);
	snap(&d, &s0);
	engine(&d, PGPDMA_ENG_GENERATOR, PGPDMA_ENGF_PATTERN, size, frames);
	t0 = now_s();
	for (;;) {
		usleep(2000);
		snap(&d, &s1);
		t1 = now_s();
		if (t1 - t0 > timeout)
			break;
		if (s1.gen_frames - s0.gen_frames < frames ||
		    s1.state[PGPDMA_ST_RX_HW] != d.info.rx_count)
			continue;
		if (trx == 0)
			trx = t1 - t0;
		/* every frame archived: record header + payload per frame */
		if (!archive || dir_bytes(archive) >= frames * ((uint64_t)size + 64))
			break;
	}
	printf("csv,e2e,%u,%llu,%llu,%.4f,%.2f,%.4f,%llu,%llu,%llu,%.4f\n", size,
	       (unsigned long long)(s1.rx_frames - s0.rx_frames),
	       (unsigned long long)(s1.rx_bytes - s0.rx_bytes), t1 - t0,
	       (double)(s1.rx_frames - s0.rx_frames) / (t1 - t0),
	       (double)(s1.rx_bytes - s0.rx_bytes) / (t1 - t0) / 1e9,
	       (unsigned long long)(s1.rx_drop_nobuf - s0.rx_drop_nobuf),
	       (unsigned long long)(s1.gen_frames - s0.gen_frames),
	       (unsigned long long)(s1.deadtime_ns - s0.deadtime_ns), trx);
	if (t1 - t0 > timeout)
		fprintf(stderr, "rx_bench: gen: timeout after %.1f s\n", timeout);
	pgpdma_close(&d);
	return t1 - t0 > timeout;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

/* Firmware timestamp of a frame (timing header, EPICS epoch), Unix s. */
static double th_time(const void *frame)
{
	const struct pgpdma_timing_header *th = frame;

	return (double)th->seconds + PGPDMA_EPICS_EPOCH_OFFSET +
	       (double)th->nanoseconds * 1e-9;
}

static double real_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static int cmd_lat(const char *dev, uint64_t frames, uint32_t size, double timeout)
{
	struct pgpdma_rx_desc descs[PGPDMA_MAX_BATCH];
	uint32_t idx[PGPDMA_MAX_BATCH];
	struct pgpdma_stats s0, s1;
	struct pgpdma_dev d;
	double *lat, t0, t1;
	uint64_t got = 0, sum = 0;
	int ret, n, i;

	lat = calloc(frames ? frames : 1, sizeof(*lat));
	if (!lat)
		die("calloc", ENOMEM);
	ret = pgpdma_open(&d, dev, O_RDWR);
	if (!ret)
		ret = pgpdma_map(&d, 0);
	if (!ret)
		ret = pgpdma_dest_claim(&d, 0);
	if (ret)
		die(dev, ret);
	snap(&d, &s0);
	engine(&d, PGPDMA_ENG_GENERATOR, 0, size, frames);
	t0 = now_s();
	while (got < frames && now_s() - t0 < timeout) {
		n = pgpdma_rx_read(&d, descs, PGPDMA_MAX_BATCH, PGPDMA_READ_WAIT);
		if (n < 0)
			die("rx_read", n);
		for (i = 0; i < n; i++) {
			const uint8_t *p = pgpdma_rx_buf(&d, descs[i].index);

			if (descs[i].flags & PGPDMA_RXF_SOF && got < frames)
				lat[got++] = real_s() - th_time(p);
			sum += touch(p, descs[i].size);
			idx[i] = descs[i].index;
		}
		ret = pgpdma_rx_return(&d, idx, (uint32_t)n);
		if (ret)
			die("rx_return", ret);
	}
	t1 = now_s();
	snap(&d, &s1);
	drain(&d, descs, idx);
	qsort(lat, got, sizeof(*lat), cmp_double);
	printf("csv,lat,%u,%llu,%.4f,%.3f,%.1f,%.1f,%llu\n", size,
	       (unsigned long long)got, t1 - t0, (double)got / (t1 - t0),
	       got ? lat[got / 2] * 1e6 : -1, got ? lat[got - 1] * 1e6 : -1,
	       (unsigned long long)(s1.rx_errors - s0.rx_errors));
	fprintf(stderr, "rx_bench: lat: checksum %llx\n", (unsigned long long)sum);
	pgpdma_close(&d);
	free(lat);
	return got < frames;
}

static void usage(void)
{
	fprintf(stderr,
		"usage: rx_bench matrix [-d DEV] [-t SEC] [-w WARMUP] [-r REPS] SIZE...\n"
		"       rx_bench gen [-d DEV] -n FRAMES -z SIZE [-T TIMEOUT] [-a ARCHIVE_DIR]\n"
		"       rx_bench lat [-d DEV] -n FRAMES -z SIZE [-T TIMEOUT]\n");
	exit(2);
}

int main(int argc, char **argv)
{
	const char *dev = "/dev/pgpdma0", *archive = NULL;
	double secs = 1.0, warm = 0.2, timeout = 120;
	uint32_t sizes[MAX_SIZES], size = 1048576;
	uint64_t frames = 100;
	int reps = 3, nsizes = 0, opt, gen, lat;

	if (argc < 2)
		usage();
	gen = !strcmp(argv[1], "gen");
	lat = !strcmp(argv[1], "lat");
	if (!gen && !lat && strcmp(argv[1], "matrix"))
		usage();
	optind = 2;
	while ((opt = getopt(argc, argv, "d:t:w:r:n:z:T:a:")) != -1) {
		switch (opt) {
		case 'd': dev = optarg; break;
		case 't': secs = atof(optarg); break;
		case 'w': warm = atof(optarg); break;
		case 'r': reps = atoi(optarg); break;
		case 'n': frames = strtoull(optarg, NULL, 0); break;
		case 'z': size = (uint32_t)strtoul(optarg, NULL, 0); break;
		case 'T': timeout = atof(optarg); break;
		case 'a': archive = optarg; break;
		default: usage();
		}
	}
	if (gen)
		return cmd_gen(dev, frames, size, timeout, archive);
	if (lat)
		return cmd_lat(dev, frames, size, timeout);
	for (; optind < argc && nsizes < MAX_SIZES; optind++)
		sizes[nsizes++] = (uint32_t)strtoul(argv[optind], NULL, 0);
	if (!nsizes || secs <= 0 || reps < 1)
		usage();
	return cmd_matrix(dev, secs, warm, reps, nsizes, sizes);
}
