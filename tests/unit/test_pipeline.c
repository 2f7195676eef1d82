// SPDX-License-Identifier: GPL-2.0
/*
 * Pipeline on the .npy source: one pass archived and read back byte for
 * byte, results file, pacing, drop-mode accounting, stop with nothing
 * lost, and an archive error (EFBIG via RLIMIT_FSIZE in a forked child)
 * that ends the run with everything written so far readable.
 */
#include <dirent.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include <linux/pgpdma.h>
#include "archive_reader.h"
#include "npy.h"
#include "pipeline.h"
#include "source_npy.h"
#include "check_main.h"
#include "pb_test_util.h"

#define W 24
#define H 16
#define NIMG 12

static char tmp[256], imgdir[512], outdir[512];

static void img_fill(unsigned int k, uint16_t *px)
{
	for (unsigned int i = 0; i < W * H; i++)
		px[i] = (uint16_t)(k * 1000 + i * 7);
}

static void make_images(unsigned int n)
{
	uint64_t shape[2] = { H, W };
	uint16_t px[W * H];

	for (unsigned int k = 0; k < n; k++) {
		char p[700];

		snprintf(p, sizeof(p), "%s/img%04u.npy", imgdir, k);
		img_fill(k, px);
		ck_assert_int_eq(npy_save(p, "<u2", 2, shape, px, sizeof(px)), 0);
	}
}

static void setup(void)
{
	pb_test_mkdtemp(tmp, sizeof(tmp), "pipeline");
	snprintf(imgdir, sizeof(imgdir), "%s/img", tmp);
	snprintf(outdir, sizeof(outdir), "%s/out", tmp);
	ck_assert_int_eq(mkdir(imgdir, 0755), 0);
	ck_assert_int_eq(mkdir(outdir, 0755), 0);
	make_images(NIMG);
}

static void teardown(void)
{
	pb_test_rmtree(tmp);
}

struct rig {
	struct pb_pool *pool;
	struct pb_metrics m;
	atomic_int stop;
	struct pb_source *src;
	struct pb_pipeline_options po;
	struct pb_pipeline *pl;
};

static void rig_init(struct rig *r, size_t pebbles, int loop, enum pb_backpressure bp)
{
	struct pb_pool_options popt = { pebbles, 32 + W * H * 2, pebbles, 4096, 0, NULL, NULL };
	struct pb_npy_options no = { imgdir, 0, loop, 1, 0 };
	struct pb_source_env env;
	char err[256];

	memset(r, 0, sizeof(*r));
	ck_assert_int_eq(pb_pool_create(&r->pool, &popt), 0);
	pb_metrics_init(&r->m);
	atomic_init(&r->stop, 0);
	env.pool = r->pool;
	env.metrics = &r->m;
	env.bp = bp;
	env.stop = &r->stop;
	ck_assert_int_eq(pb_source_npy_open(&r->src, &no, &env, err, sizeof(err)), 0);
	ck_assert_uint_eq(r->src->width, W);
	ck_assert_uint_eq(r->src->height, H);
	ck_assert_uint_eq(r->src->dtype, PB_DTYPE_UINT16);
	r->po.src = r->src;
	r->po.pool = r->pool;
	r->po.metrics = &r->m;
	r->po.stop = &r->stop;
	r->po.output_dir = outdir;
	r->po.archive = 1;
	r->po.results = 1;
	r->po.bp = bp;
	r->po.queue_depth = 4;
	r->po.max_payload = popt.size;
	r->po.dtype = PB_DTYPE_UINT16;
	r->po.width = W;
	r->po.height = H;
	r->po.detector = "npy-test";
	r->po.proc.dtype = PB_DTYPE_UINT16;
	r->po.proc.width = W;
	r->po.proc.header_bytes = 32;
	r->po.stop_on_arch_error = 1;
}

static void rig_done(struct rig *r)
{
	ck_assert_uint_eq(pb_pool_in_use(r->pool, 0), 0);
	ck_assert_uint_eq(pb_pool_in_use(r->pool, 1), 0);
	pb_source_close(r->src);
	pb_pool_destroy(r->pool);
}

static int wait_done(struct pb_pipeline *pl, int ms)
{
	for (int i = 0; i < ms / 100; i++)
		if (pb_pipeline_wait(pl, 100))
			return 1;
	return 0;
}

/* One pass, every frame archived: compare each image byte for byte. */
START_TEST(one_pass_round_trip)
{
	struct rig r;
	struct pb_pipeline_stats st;
	struct pb_archive_reader *ar;
	struct pb_ar_rec rec;
	struct pb_ar_seg_header sh;
	char run[700], csv[800], line[1024];
	uint16_t want[W * H];
	unsigned int img = 0;
	uint64_t seq = 0;
	FILE *f;
	int rows = -1;
	static const unsigned int trs[] = { 2, 4, 8 };

	rig_init(&r, 4, 0, PB_BP_LOSSLESS);
	ck_assert_int_eq(pb_pipeline_start(&r.pl, &r.po), 0);
	ck_assert(wait_done(r.pl, 10000));
	ck_assert_int_eq(pb_pipeline_join(r.pl, &st), 0);
	ck_assert_int_eq(st.source_end, -ENODATA);
	ck_assert_uint_eq(st.events, NIMG + 5);
	ck_assert_uint_eq(st.runs_opened, 1);
	ck_assert_uint_eq(st.runs_closed, 1);
	ck_assert_uint_eq(st.last_run, 1);
	ck_assert_uint_eq(st.transitions, 5);
	ck_assert_uint_eq(st.damaged, 0);
	ck_assert_uint_eq(st.evt_jumps, 0);
	ck_assert_uint_eq(st.results_rows, NIMG);
	ck_assert_uint_eq(atomic_load(&r.m.dma_frames), NIMG + 5);
	ck_assert_uint_eq(atomic_load(&r.m.arch_frames), NIMG + 5);
	ck_assert_uint_eq(atomic_load(&r.m.dma_arch_offered), NIMG + 5);
	ck_assert_uint_eq(atomic_load(&r.m.proc_frames), NIMG + 5);
	ck_assert_uint_eq(atomic_load(&r.m.arch_io_errors), 0);

	snprintf(run, sizeof(run), "%s/run000001", outdir);
	ck_assert_int_eq(pb_test_count_suffix(run, ".tmp"), 0);
	ck_assert_int_eq(pb_ar_open(&ar, run), 0);
	ck_assert_int_eq(pb_ar_segment_header(ar, 0, &sh), 0);
	ck_assert_uint_eq(sh.width, W);
	ck_assert_uint_eq(sh.height, H);
	ck_assert_uint_eq(sh.dtype, PB_DTYPE_UINT16);
	while (pb_ar_next(ar, &rec) == 1) {
		ck_assert_uint_eq(rec.status, 0);
		ck_assert_uint_eq(rec.hdr.seq, seq);
		ck_assert_uint_eq(rec.hdr.damage, 0);
		if (seq < 3) {
			ck_assert_uint_eq(rec.hdr.transition, trs[seq]);
			ck_assert_uint_eq(rec.hdr.length, 32);
		} else if (seq < 3 + NIMG) {
			ck_assert_uint_eq(rec.hdr.transition, PGPDMA_TR_L1ACCEPT);
			ck_assert_uint_eq(rec.hdr.length, 32 + sizeof(want));
			img_fill(img++, want);
			ck_assert_int_eq(memcmp((const uint8_t *)rec.payload + 32, want, sizeof(want)), 0);
		} else {
			ck_assert_uint_eq(rec.hdr.transition, seq == 3 + NIMG ? 9 : 5);
		}
		seq++;
	}
	ck_assert_uint_eq(seq, NIMG + 5);
	ck_assert_uint_eq(img, NIMG);
	pb_ar_close(ar);

	/* results file: a header line and one row per image, sums right */
	snprintf(csv, sizeof(csv), "%s/run000001-results.csv", run);
	f = fopen(csv, "r");
	ck_assert_ptr_nonnull(f);
	while (fgets(line, sizeof(line), f)) {
		if (rows >= 0) {
			unsigned long long s, pid;
			double sum;
			uint64_t expect = 0;

			ck_assert_int_eq(sscanf(line, "%llu,%llu,%*u,%*u,%*u,%*u,%*u,%*u,%*u,%lf", &s, &pid, &sum), 3);
			img_fill((unsigned int)rows, want);
			for (unsigned int i = 0; i < W * H; i++)
				expect += want[i];
			ck_assert_double_eq(sum, (double)expect);
		}
		rows++;
	}
	fclose(f);
	ck_assert_int_eq(rows, NIMG);
	rig_done(&r);
}
END_TEST

/* arch_hz pacing: fewer L1Accepts archived, every transition archived, accounted. */
START_TEST(pacing)
{
	struct rig r;
	struct pb_pipeline_stats st;
	uint64_t arch;

	rig_init(&r, 4, 0, PB_BP_LOSSLESS);
	r.po.arch_hz = 1;	/* at most ~1 L1Accept per second */
	ck_assert_int_eq(pb_pipeline_start(&r.pl, &r.po), 0);
	ck_assert(wait_done(r.pl, 10000));
	ck_assert_int_eq(pb_pipeline_join(r.pl, &st), 0);
	arch = atomic_load(&r.m.arch_frames);
	ck_assert_uint_ge(arch, 5 + 1);
	ck_assert_uint_lt(arch, NIMG + 5);
	ck_assert_uint_eq(arch + st.arch_paced_out, NIMG + 5);
	ck_assert_uint_eq(st.results_rows, NIMG);	/* proc_hz 0: every frame */
	rig_done(&r);
}
END_TEST

/* Drop mode with a slow archiver: drops are counted, nothing unaccounted. */
START_TEST(drop_accounting)
{
	struct rig r;
	struct pb_pipeline_stats st;
	uint64_t offered, dq, produced;

	pb_test_rmtree(imgdir);
	ck_assert_int_eq(mkdir(imgdir, 0755), 0);
	make_images(60);
	rig_init(&r, 2, 0, PB_BP_DROP);
	r.po.ring_capacity = 2;
	r.po.arch_delay_us = 3000;
	ck_assert_int_eq(pb_pipeline_start(&r.pl, &r.po), 0);
	ck_assert(wait_done(r.pl, 20000));
	ck_assert_int_eq(pb_pipeline_join(r.pl, &st), 0);
	offered = atomic_load(&r.m.dma_arch_offered);
	dq = atomic_load(&r.m.drops_arch_queue);
	produced = st.events + st.src.dropped_pool;
	ck_assert_uint_eq(produced, 60 + 5);
	ck_assert_uint_gt(dq + st.src.dropped_pool, 0);
	/* every pool drop was counted as an exhaustion */
	ck_assert_uint_ge(atomic_load(&r.m.dma_pool_exhaust), st.src.dropped_pool);
	ck_assert_uint_eq(st.events, offered + dq + st.arch_paced_out + st.l1_outside_run + st.tr_outside_run);
	ck_assert_uint_eq(atomic_load(&r.m.arch_frames), offered);
	ck_assert_uint_eq(st.runs_closed, 1);	/* transitions are never dropped */
	ck_assert_uint_eq(st.transitions, 5);
	rig_done(&r);
}
END_TEST

/* Looping source stopped from outside (SIGTERM path): nothing lost. */
START_TEST(stop_nothing_lost)
{
	struct rig r;
	struct pb_pipeline_stats st;
	struct pb_archive_reader *ar;
	struct pb_ar_rec rec;
	struct pb_ar_stats rs;
	char run[700];
	uint64_t seq = 0;

	rig_init(&r, 8, 1, PB_BP_LOSSLESS);
	ck_assert_int_eq(pb_pipeline_start(&r.pl, &r.po), 0);
	/* stop mid-stream, once it is well under way (however fast this machine is) */
	for (int i = 0; i < 30000 && atomic_load(&r.m.dma_frames) <= 100; i++)
		usleep(1000);
	ck_assert(!pb_pipeline_wait(r.pl, 0));
	pb_pipeline_stop(r.pl);
	ck_assert_int_eq(pb_pipeline_join(r.pl, &st), 0);
	ck_assert_int_eq(st.source_end, 0);
	ck_assert_uint_gt(st.events, 100);
	ck_assert_uint_eq(st.runs_closed, 1);
	ck_assert_uint_eq(atomic_load(&r.m.dma_frames), st.events);
	ck_assert_uint_eq(atomic_load(&r.m.dma_arch_offered), st.events);
	ck_assert_uint_eq(atomic_load(&r.m.arch_frames), st.events);
	snprintf(run, sizeof(run), "%s/run000001", outdir);
	ck_assert_int_eq(pb_test_count_suffix(run, ".tmp"), 0);
	ck_assert_int_eq(pb_ar_open(&ar, run), 0);
	while (pb_ar_next(ar, &rec) == 1) {
		ck_assert_uint_eq(rec.status, 0);
		ck_assert_uint_eq(rec.hdr.seq, seq);
		seq++;
	}
	pb_ar_get_stats(ar, &rs);
	ck_assert_uint_eq(seq, st.events);
	ck_assert_uint_eq(rs.index_entries, st.events);
	pb_ar_close(ar);
	rig_done(&r);
}
END_TEST

/*
 * A source whose first next() is still waiting when the stop comes (it
 * sets the stop itself, then returns 0 "nothing now") and which, on the
 * next call, hands out one event it holds: the stop came after that wait
 * began, so the 0 does not mean drained and the event is taken.
 */
struct late_stop_src {
	struct pb_source base;
	int calls;
};

static int late_stop_next(struct pb_source *s, struct pb_event *ev)
{
	struct late_stop_src *l = (struct late_stop_src *)s;
	uint32_t h;

	switch (l->calls++) {
	case 0:
		atomic_store(s->env.stop, 1);
		return 0;
	case 1:
		if (pb_pool_alloc(s->env.pool, 0, 1, 0, &h))
			return -ENOMEM;
		memset(ev, 0, sizeof(*ev));
		ev->buf = h;
		ev->transition = PB_AR_TRANSITION_NONE;
		return 1;
	default:
		return 0;
	}
}

static void late_stop_wake(struct pb_source *s)
{
	(void)s;
}

static void late_stop_stats(struct pb_source *s, struct pb_source_stats *st)
{
	(void)s;
	memset(st, 0, sizeof(*st));
}

static void late_stop_close(struct pb_source *s)
{
	(void)s;
}

static const struct pb_source_ops late_stop_ops = {
	.next = late_stop_next,
	.wake = late_stop_wake,
	.get_stats = late_stop_stats,
	.close = late_stop_close,
};

START_TEST(stop_during_next_still_drains)
{
	struct rig r;
	struct pb_pipeline_stats st;
	struct late_stop_src ls;

	rig_init(&r, 4, 0, PB_BP_LOSSLESS);
	pb_source_close(r.src);
	memset(&ls, 0, sizeof(ls));
	ls.base.ops = &late_stop_ops;
	ls.base.name = "late-stop";
	ls.base.env.pool = r.pool;
	ls.base.env.metrics = &r.m;
	ls.base.env.bp = PB_BP_LOSSLESS;
	ls.base.env.stop = &r.stop;
	r.src = &ls.base;
	r.po.src = r.src;
	ck_assert_int_eq(pb_pipeline_start(&r.pl, &r.po), 0);
	ck_assert(wait_done(r.pl, 10000));
	ck_assert_int_eq(pb_pipeline_join(r.pl, &st), 0);
	ck_assert_uint_eq(st.events, 1);
	ck_assert_int_eq(ls.calls, 3);
	rig_done(&r);
}
END_TEST

struct efbig_res {
	int ret;
	struct pb_pipeline_stats st;
	uint64_t arch_frames, io_errors;
};

START_TEST(archive_error_ends_run)
{
	/* segment header + 30 records of 4096 + half a record */
	const rlim_t limit = 4096 + 30 * 4096 + 2048;
	struct efbig_res res;
	struct pb_archive_reader *ar;
	struct pb_ar_rec rec;
	struct pb_ar_stats rs;
	char run[700];
	uint64_t seq = 0;
	int pfd[2], status;
	pid_t pid;

	ck_assert_int_eq(pipe(pfd), 0);
	pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		struct rig r;
		struct rlimit rl = { limit, limit };

		close(pfd[0]);
		signal(SIGXFSZ, SIG_IGN);
		rig_init(&r, 4, 1, PB_BP_LOSSLESS);
		r.po.results = 0;
		if (setrlimit(RLIMIT_FSIZE, &rl))
			_exit(3);
		if (pb_pipeline_start(&r.pl, &r.po))
			_exit(2);
		if (!wait_done(r.pl, 10000))
			_exit(4);
		memset(&res, 0, sizeof(res));
		res.ret = pb_pipeline_join(r.pl, &res.st);
		res.arch_frames = atomic_load(&r.m.arch_frames);
		res.io_errors = atomic_load(&r.m.arch_io_errors);
		if (write(pfd[1], &res, sizeof(res)) != (ssize_t)sizeof(res))
			_exit(5);
		_exit(0);
	}
	close(pfd[1]);
	ck_assert_int_eq(read(pfd[0], &res, sizeof(res)), (ssize_t)sizeof(res));
	close(pfd[0]);
	ck_assert_int_eq(waitpid(pid, &status, 0), pid);
	ck_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	ck_assert_int_eq(res.ret, -EFBIG);
	ck_assert_int_eq(res.st.arch_error, -EFBIG);
	ck_assert_uint_ge(res.io_errors, 1);
	ck_assert_uint_eq(res.arch_frames, 30);
	ck_assert_uint_ge(res.st.arch_dropped_error, 1);

	snprintf(run, sizeof(run), "%s/run000001", outdir);
	ck_assert_int_eq(pb_test_count_suffix(run, ".tmp"), 0);
	ck_assert_int_eq(pb_ar_open(&ar, run), 0);
	while (pb_ar_next(ar, &rec) == 1) {
		ck_assert_uint_eq(rec.status, 0);
		ck_assert_uint_eq(rec.hdr.seq, seq);
		seq++;
	}
	pb_ar_get_stats(ar, &rs);
	ck_assert_uint_eq(seq, 30);
	ck_assert_uint_eq(rs.index_entries, 30);
	pb_ar_close(ar);
}
END_TEST

/*
 * The results file hits the end of the file system (RLIMIT_FSIZE; the
 * archive is off): pebbled's counts are what the file holds, the rest is
 * counted as lost, and the file does not get the final name.
 */
START_TEST(results_full_disk_counted)
{
	const rlim_t limit = 300;	/* the header line and about two rows */
	struct efbig_res res;
	char path[800];
	struct stat sb;
	int pfd[2], status;
	pid_t pid;

	ck_assert_int_eq(pipe(pfd), 0);
	pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		struct rig r;
		struct rlimit rl = { limit, limit };

		close(pfd[0]);
		signal(SIGXFSZ, SIG_IGN);
		rig_init(&r, 4, 0, PB_BP_LOSSLESS);
		r.po.archive = 0;
		if (setrlimit(RLIMIT_FSIZE, &rl))
			_exit(3);
		if (pb_pipeline_start(&r.pl, &r.po))
			_exit(2);
		if (!wait_done(r.pl, 10000))
			_exit(4);
		memset(&res, 0, sizeof(res));
		res.ret = pb_pipeline_join(r.pl, &res.st);
		if (write(pfd[1], &res, sizeof(res)) != (ssize_t)sizeof(res))
			_exit(5);
		_exit(0);
	}
	close(pfd[1]);
	ck_assert_int_eq(read(pfd[0], &res, sizeof(res)), (ssize_t)sizeof(res));
	close(pfd[0]);
	ck_assert_int_eq(waitpid(pid, &status, 0), pid);
	ck_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	ck_assert_uint_eq(res.st.results_rows + res.st.results_lost, NIMG);
	ck_assert_uint_ge(res.st.results_lost, 1);
	ck_assert_uint_eq(res.st.results_errors, 1);
	snprintf(path, sizeof(path), "%s/run000001/run000001-results.csv", outdir);
	ck_assert_int_eq(stat(path, &sb), -1);
	snprintf(path, sizeof(path), "%s/run000001/run000001-results-incomplete.csv", outdir);
	ck_assert_int_eq(stat(path, &sb), 0);
	ck_assert_int_le(sb.st_size, (off_t)limit);
}
END_TEST

/* L1Accepts before any Configure/BeginRun are counted and dropped. */
START_TEST(l1_outside_run)
{
	struct rig r;
	struct pb_pipeline_stats st;
	struct pb_npy_options no = { imgdir, 0, 0, 0, 0 };
	struct pb_source_env env = { 0 };
	char err[256];

	rig_init(&r, 4, 0, PB_BP_LOSSLESS);
	pb_source_close(r.src);
	env.pool = r.pool;
	env.metrics = &r.m;
	env.stop = &r.stop;
	ck_assert_int_eq(pb_source_npy_open(&r.src, &no, &env, err, sizeof(err)), 0);
	r.po.src = r.src;
	ck_assert_int_eq(pb_pipeline_start(&r.pl, &r.po), 0);
	ck_assert(wait_done(r.pl, 10000));
	ck_assert_int_eq(pb_pipeline_join(r.pl, &st), 0);
	ck_assert_uint_eq(st.l1_outside_run, NIMG);
	ck_assert_uint_eq(st.runs_opened, 0);
	ck_assert_uint_eq(atomic_load(&r.m.arch_frames), 0);
	rig_done(&r);
}
END_TEST

/* Records of the archive in @dir, all intact, in seq order; -1 on any damage. */
static int count_intact(const char *dir)
{
	struct pb_archive_reader *ar;
	struct pb_ar_rec rec;
	uint64_t seq = 0;

	if (pb_ar_open(&ar, dir))
		return -1;
	while (pb_ar_next(ar, &rec) == 1) {
		if (rec.status || rec.hdr.seq != seq) {
			pb_ar_close(ar);
			return -1;
		}
		seq++;
	}
	pb_ar_close(ar);
	return (int)seq;
}

/*
 * Another writer claimed run 1 after this one scanned the output directory
 * (first_run = 1 stands for that scan): this run takes 2 and leaves run 1's
 * files as they were.
 */
START_TEST(run_taken_after_scan)
{
	struct rig r;
	struct pb_pipeline_stats st;
	char other[700], seg[800], run2[700], line[64] = "";
	FILE *f;

	snprintf(other, sizeof(other), "%s/run000001", outdir);
	ck_assert_int_eq(mkdir(other, 0755), 0);
	snprintf(seg, sizeof(seg), "%s/run000001-s00000.pseg", other);
	pb_test_write_file(seg, "the other writer's segment\n");
	rig_init(&r, 4, 0, PB_BP_LOSSLESS);
	r.po.first_run = 1;
	ck_assert_int_eq(pb_pipeline_start(&r.pl, &r.po), 0);
	ck_assert(wait_done(r.pl, 10000));
	ck_assert_int_eq(pb_pipeline_join(r.pl, &st), 0);
	ck_assert_uint_eq(st.last_run, 2);
	ck_assert_uint_eq(st.runs_opened, 1);
	ck_assert_uint_eq(st.run_conflicts, 1);
	snprintf(run2, sizeof(run2), "%s/run000002", outdir);
	ck_assert_int_eq(count_intact(run2), NIMG + 5);
	f = fopen(seg, "r");
	ck_assert_ptr_nonnull(f);
	ck_assert_ptr_nonnull(fgets(line, sizeof(line), f));
	fclose(f);
	ck_assert_str_eq(line, "the other writer's segment\n");
	ck_assert_int_eq(pb_test_count_suffix(other, ""), 1);
	rig_done(&r);
}
END_TEST

/* Two pipelines on one output directory, started together: two runs, both whole. */
START_TEST(two_writers_one_dir)
{
	struct rig a, b;
	struct pb_pipeline_stats sa, sb;
	char dir[700];

	rig_init(&a, 4, 0, PB_BP_LOSSLESS);
	rig_init(&b, 4, 0, PB_BP_LOSSLESS);
	ck_assert_int_eq(pb_pipeline_start(&a.pl, &a.po), 0);
	ck_assert_int_eq(pb_pipeline_start(&b.pl, &b.po), 0);
	ck_assert(wait_done(a.pl, 10000));
	ck_assert(wait_done(b.pl, 10000));
	ck_assert_int_eq(pb_pipeline_join(a.pl, &sa), 0);
	ck_assert_int_eq(pb_pipeline_join(b.pl, &sb), 0);
	ck_assert_uint_ne(sa.last_run, sb.last_run);
	ck_assert_uint_eq(sa.last_run + sb.last_run, 3);
	for (unsigned int run = 1; run <= 2; run++) {
		snprintf(dir, sizeof(dir), "%s/run%06u", outdir, run);
		ck_assert_int_eq(count_intact(dir), NIMG + 5);
		ck_assert_int_eq(pb_test_count_suffix(dir, ".tmp"), 0);
	}
	rig_done(&a);
	rig_done(&b);
}
END_TEST

START_TEST(npy_source_errors)
{
	struct pb_pool *pool;
	struct pb_pool_options popt = { 2, 4096, 0, 0, 0, NULL, NULL };
	struct pb_metrics m;
	atomic_int stop = 0;
	struct pb_source_env env = { 0 };
	struct pb_npy_options no = { outdir, 0, 0, 0, 0 };
	struct pb_source *s;
	char err[256], p[700];

	pb_metrics_init(&m);
	ck_assert_int_eq(pb_pool_create(&pool, &popt), 0);
	env.pool = pool;
	env.metrics = &m;
	env.stop = &stop;
	ck_assert_int_eq(pb_source_npy_open(&s, &no, &env, err, sizeof(err)), -ENOENT);
	ck_assert_ptr_nonnull(strstr(err, "no .npy files"));
	snprintf(p, sizeof(p), "%s/bad.npy", outdir);
	pb_test_write_file(p, "\x93NUMPY\x01\x00garbage");
	ck_assert_int_eq(pb_source_npy_open(&s, &no, &env, err, sizeof(err)), -EINVAL);
	ck_assert_ptr_nonnull(strstr(err, "bad.npy"));
	pb_pool_destroy(pool);
}
END_TEST

/* A directory @name under tmp holding the given .npy files; its path in @dir. */
struct npy_file {
	const char *name;
	const char *descr;	/* NULL: write @raw as the whole file */
	unsigned int ndim;
	uint64_t shape[3];
	size_t bytes;		/* data bytes (may disagree with the shape) */
	const char *raw;
};

static void npy_dir(char *dir, size_t len, const char *name, const struct npy_file *f, size_t n)
{
	static uint8_t zeros[4 * W * H * 8];

	snprintf(dir, len, "%s/%s", tmp, name);
	ck_assert_int_eq(mkdir(dir, 0755), 0);
	for (size_t i = 0; i < n; i++) {
		char p[800];

		snprintf(p, sizeof(p), "%s/%s", dir, f[i].name);
		if (!f[i].descr) {
			pb_test_write_file(p, f[i].raw);
			continue;
		}
		ck_assert_uint_le(f[i].bytes, sizeof(zeros));
		ck_assert_int_eq(npy_save(p, f[i].descr, f[i].ndim, f[i].shape, zeros, f[i].bytes), 0);
	}
}

/* pb_source_npy_scan() and _open() refuse @dir; @err names @file and says @why. */
static void expect_refused(const char *dir, const char *file, const char *why)
{
	struct pb_pool *pool;
	struct pb_pool_options popt = { 2, 4096, 0, 0, 0, NULL, NULL };
	struct pb_metrics m;
	atomic_int stop = 0;
	struct pb_source_env env = { 0 };
	struct pb_npy_options no = { dir, 0, 0, 0, 0 };
	struct pb_source *s = NULL;
	uint64_t max_event;
	char err[512], where[800];

	pb_metrics_init(&m);
	ck_assert_int_eq(pb_pool_create(&pool, &popt), 0);
	env.pool = pool;
	env.metrics = &m;
	env.stop = &stop;
	snprintf(where, sizeof(where), "%s/%s: ", dir, file);
	ck_assert_int_eq(pb_source_npy_scan(dir, &max_event, NULL, err, sizeof(err)), -EINVAL);
	ck_assert_msg(strstr(err, where) == err && strstr(err, why), "scan: '%s'", err);
	ck_assert_int_eq(pb_source_npy_open(&s, &no, &env, err, sizeof(err)), -EINVAL);
	ck_assert_msg(strstr(err, where) == err && strstr(err, why), "open: '%s'", err);
	ck_assert_ptr_null(s);
	pb_pool_destroy(pool);
}

/*
 * Inputs that used to be archived under the wrong geometry or dtype while
 * every tool said "intact": each refused, naming the file and the reason.
 */
START_TEST(npy_source_refuses_mislabelled)
{
	char d[600];
	const size_t img = W * H * 2;
	const struct npy_file garbage[] = {
		{ "a.npy", "<u2", 2, { H, W }, img, NULL },
		{ "b.npy", NULL, 0, { 0 }, 0, "random bytes, not numpy" },
	};
	const struct npy_file short_shape[] = {
		{ "a.npy", "<u2", 2, { H, W - 1 }, img, NULL },
	};
	const struct npy_file mixed_shape[] = {
		{ "a.npy", "<u2", 2, { H, W }, img, NULL },
		{ "b.npy", "<u2", 2, { W, H }, img, NULL },
	};
	const struct npy_file mixed_dtype[] = {
		{ "a.npy", "<u2", 2, { H, W }, img, NULL },
		{ "b.npy", "<i2", 2, { H, W }, img, NULL },
	};
	static const struct { const char *descr, *name; } unknown[] = {
		{ "|b1", "dtype bool ('|b1')" }, { "<c8", "dtype complex64 ('<c8')" },
		{ "<c16", "dtype complex128 ('<c16')" }, { "<f16", "dtype float128 ('<f16')" },
	};
	const struct npy_file scalar[] = { { "a.npy", "<u2", 0, { 0 }, 2, NULL } };
	const struct npy_file empty[] = { { "a.npy", "<u2", 2, { 0, W }, 0, NULL } };

	npy_dir(d, sizeof(d), "garbage", garbage, 2);
	expect_refused(d, "b.npy", "not a .npy file");
	npy_dir(d, sizeof(d), "short_shape", short_shape, 1);
	expect_refused(d, "a.npy", "data is 768 bytes, shape (16, 23) of '<u2' needs 736");
	npy_dir(d, sizeof(d), "mixed_shape", mixed_shape, 2);
	expect_refused(d, "b.npy", "16x24 uint16 images, but a.npy has 24x16 uint16");
	npy_dir(d, sizeof(d), "mixed_dtype", mixed_dtype, 2);
	expect_refused(d, "b.npy", "24x16 int16 images, but a.npy has 24x16 uint16");
	for (size_t i = 0; i < sizeof(unknown) / sizeof(unknown[0]); i++) {
		char name[32];
		struct npy_file f = { "a.npy", unknown[i].descr, 2, { H, W }, 0, NULL };

		f.bytes = W * H * strtoul(unknown[i].descr + 2, NULL, 10);
		snprintf(name, sizeof(name), "dtype%zu", i);
		npy_dir(d, sizeof(d), name, &f, 1);
		expect_refused(d, "a.npy", unknown[i].name);
	}
	npy_dir(d, sizeof(d), "scalar", scalar, 1);
	expect_refused(d, "a.npy", "a 0-d array (one number) is not an image");
	npy_dir(d, sizeof(d), "empty", empty, 1);
	expect_refused(d, "a.npy", "empty array, shape (0, 24)");
}
END_TEST

/* Every dtype the archive records is replayed under its own code. */
START_TEST(npy_source_dtypes)
{
	static const struct { const char *descr; uint32_t dtype; } t[] = {
		{ "|u1", PB_DTYPE_UINT8 }, { "<u2", PB_DTYPE_UINT16 }, { "<u4", PB_DTYPE_UINT32 },
		{ "<u8", PB_DTYPE_UINT64 }, { "|i1", PB_DTYPE_INT8 }, { "<i2", PB_DTYPE_INT16 },
		{ "<i4", PB_DTYPE_INT32 }, { "<i8", PB_DTYPE_INT64 }, { "<f2", PB_DTYPE_FLOAT16 },
		{ "<f4", PB_DTYPE_FLOAT32 }, { "<f8", PB_DTYPE_FLOAT64 },
	};
	struct pb_pool *pool;
	struct pb_pool_options popt = { 2, 4096, 0, 0, 0, NULL, NULL };
	struct pb_metrics m;
	atomic_int stop = 0;
	struct pb_source_env env = { 0 };

	pb_metrics_init(&m);
	ck_assert_int_eq(pb_pool_create(&pool, &popt), 0);
	env.pool = pool;
	env.metrics = &m;
	env.stop = &stop;
	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		struct npy_file f = { "a.npy", t[i].descr, 2, { H, W }, 0, NULL };
		struct pb_npy_options no = { NULL, 0, 0, 0, 0 };
		struct pb_source *s;
		char d[600], name[32], err[512];

		f.bytes = W * H * strtoul(t[i].descr + 2, NULL, 10);
		snprintf(name, sizeof(name), "dtype%zu", i);
		npy_dir(d, sizeof(d), name, &f, 1);
		no.dir = d;
		ck_assert_msg(pb_source_npy_open(&s, &no, &env, err, sizeof(err)) == 0, "%s", err);
		ck_assert_uint_eq(s->dtype, t[i].dtype);
		ck_assert_uint_eq(s->max_event, 32 + f.bytes);
		pb_source_close(s);
	}
	pb_pool_destroy(pool);
}
END_TEST

/* A 3-D file is a stack of frames: one event each, in order, then the next file. */
START_TEST(npy_stack_is_frames)
{
	struct rig r;
	struct pb_pipeline_stats st;
	struct pb_archive_reader *ar;
	struct pb_ar_rec rec;
	uint64_t shape[3] = { 3, H, W };
	uint16_t stack[3][W * H], want[W * H];
	char p[700], run[700];
	unsigned int img = 0;

	/* img0000.npy becomes a stack of images 100..102; the rest stay */
	for (unsigned int k = 0; k < 3; k++)
		img_fill(100 + k, stack[k]);
	snprintf(p, sizeof(p), "%s/img0000.npy", imgdir);
	ck_assert_int_eq(npy_save(p, "<u2", 3, shape, stack, sizeof(stack)), 0);
	rig_init(&r, 4, 0, PB_BP_LOSSLESS);
	ck_assert_int_eq(pb_pipeline_start(&r.pl, &r.po), 0);
	ck_assert(wait_done(r.pl, 10000));
	ck_assert_int_eq(pb_pipeline_join(r.pl, &st), 0);
	ck_assert_uint_eq(st.events, NIMG + 2 + 5);
	snprintf(run, sizeof(run), "%s/run000001", outdir);
	ck_assert_int_eq(pb_ar_open(&ar, run), 0);
	while (pb_ar_next(ar, &rec) == 1) {
		if (rec.hdr.transition != PGPDMA_TR_L1ACCEPT)
			continue;
		ck_assert_uint_eq(rec.hdr.length, 32 + sizeof(want));
		img_fill(img < 3 ? 100 + img : img - 2, want);
		ck_assert_int_eq(memcmp((const uint8_t *)rec.payload + 32, want, sizeof(want)), 0);
		img++;
	}
	pb_ar_close(ar);
	ck_assert_uint_eq(img, NIMG + 2);
	rig_done(&r);
}
END_TEST

static Suite *suite(void)
{
	Suite *s = suite_create("pipeline");
	TCase *tc = tcase_create("pipeline");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, one_pass_round_trip);
	tcase_add_test(tc, pacing);
	tcase_add_test(tc, drop_accounting);
	tcase_add_test(tc, stop_nothing_lost);
	tcase_add_test(tc, stop_during_next_still_drains);
	tcase_add_test(tc, archive_error_ends_run);
	tcase_add_test(tc, l1_outside_run);
	tcase_add_test(tc, results_full_disk_counted);
	tcase_add_test(tc, run_taken_after_scan);
	tcase_add_test(tc, two_writers_one_dir);
	tcase_add_test(tc, npy_source_errors);
	tcase_add_test(tc, npy_source_refuses_mislabelled);
	tcase_add_test(tc, npy_source_dtypes);
	tcase_add_test(tc, npy_stack_is_frames);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return pgp_check_run(suite());
}
