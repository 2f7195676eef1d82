// SPDX-License-Identifier: GPL-2.0
/*
 * Metrics: the seed's exit block reproduced byte for byte, derived rates,
 * the progress line, Prometheus exposition, concurrent atomic updates and
 * buffer-too-small errors.
 */
#include <errno.h>
#include <pthread.h>
#include <string.h>
#include "metrics.h"
#include "check_main.h"

/*
 * The seed's example with its counters. Note: the seed prints
 * bytes=179910000 but "17.991 GB/s (16.756 GiB/s)" over 10 s: that
 * throughput line needs between 179910600000 and 179915000000 bytes (the
 * printed count lost a factor of 1000 and some digits). The block below
 * uses 179912000000 bytes, which gives the seed's throughput line exactly;
 * every other character is the seed's.
 */
static const char seed_block[] =
	"=== Component Stats ===\n"
	"DMA:    produced=1000000  archived_offered=998450  pool_exhaust=12\n"
	"PROC:   frames=998400  stale_desc=5  empty_polls=100 dropped_proc_queue=2\n"
	"ARCH:   frames=998350  bytes=179912000000  rotations=2  stale_desc=1  io_errors=0 dropped_arch_queue=0\n"
	"\n"
	"=== End-to-end Throughput ===\n"
	"Elapsed: 10.000 s\n"
	"DMA:     100000.0 fps\n"
	"PROC:    99840.0 fps\n"
	"ARCH:    99835.0 fps | 17.991 GB/s (16.756 GiB/s)\n";

static void seed_counters(struct pb_metrics *m)
{
	pb_metrics_init(m);
	PB_METRIC_ADD(m, dma_frames, 1000000);
	PB_METRIC_ADD(m, dma_arch_offered, 998450);
	PB_METRIC_ADD(m, dma_pool_exhaust, 12);
	PB_METRIC_ADD(m, proc_frames, 998400);
	PB_METRIC_ADD(m, proc_stale_desc, 5);
	PB_METRIC_ADD(m, proc_empty_polls, 100);
	PB_METRIC_ADD(m, drops_proc_queue, 2);
	PB_METRIC_ADD(m, arch_frames, 998350);
	PB_METRIC_ADD(m, arch_bytes, 179912000000ULL);
	PB_METRIC_ADD(m, arch_rotations, 2);
	PB_METRIC_ADD(m, arch_stale_desc, 1);
	PB_METRIC_ADD(m, arch_io_errors, 0);
	PB_METRIC_ADD(m, drops_arch_queue, 0);
}

START_TEST(seed_exit_block)
{
	struct pb_metrics m;
	struct pb_metrics_snapshot s;
	char buf[2048];

	seed_counters(&m);
	pb_metrics_snapshot(&m, &s, 10.0);
	ck_assert_int_eq(pb_metrics_format_summary(&s, buf, sizeof(buf)),
			 (int)strlen(seed_block));
	ck_assert_str_eq(buf, seed_block);
	ck_assert_double_eq_tol(s.dma_fps, 100000.0, 1e-9);
	ck_assert_double_eq_tol(s.arch_gbps, 17.9912, 1e-9);
	ck_assert_double_eq_tol(s.arch_gibps, 179912000000.0 / 10.0 / 1073741824.0, 1e-12);

	/* the seed's literal byte count gives the honest rate */
	atomic_store(&m.arch_bytes, 179910000ULL);
	pb_metrics_snapshot(&m, &s, 10.0);
	ck_assert_int_gt(pb_metrics_format_summary(&s, buf, sizeof(buf)), 0);
	ck_assert_ptr_nonnull(strstr(buf, "bytes=179910000  rotations=2"));
	ck_assert_ptr_nonnull(strstr(buf, "ARCH:    99835.0 fps | 0.018 GB/s (0.017 GiB/s)\n"));
}
END_TEST

START_TEST(zero_elapsed)
{
	struct pb_metrics m;
	struct pb_metrics_snapshot s;
	char buf[2048];

	seed_counters(&m);
	pb_metrics_snapshot(&m, &s, 0.0);
	ck_assert_double_eq(s.dma_fps, 0.0);
	ck_assert_int_gt(pb_metrics_format_summary(&s, buf, sizeof(buf)), 0);
	ck_assert_ptr_nonnull(strstr(buf, "Elapsed: 0.000 s\nDMA:     0.0 fps\n"));
	/* live clock: elapsed is non-negative, derived values finite */
	pb_metrics_snapshot(&m, &s, -1);
	ck_assert(s.elapsed_sec >= 0);
}
END_TEST

START_TEST(progress_line)
{
	struct pb_metrics m;
	struct pb_metrics_snapshot s;
	char buf[512];
	int n;

	seed_counters(&m);
	PB_METRIC_SET(&m, drp_dma_in_use, 3);
	PB_METRIC_SET(&m, drp_pebble_in_use, 5);
	PB_METRIC_SET(&m, drp_num_pgp_jump, 1);
	pb_metrics_snapshot(&m, &s, 10.0);
	n = pb_metrics_format_progress(&s, buf, sizeof(buf));
	ck_assert_int_eq(n, (int)strlen(buf));
	ck_assert_ptr_null(strchr(buf, '\n'));
	ck_assert_str_eq(buf,
		"[   10.0s] dma 1000000 (100000.0 fps) proc 998400 (99840.0 fps) "
		"arch 998350 (99835.0 fps, 17.991 GB/s) drops proc=2 arch=0 exhaust=12 "
		"in_use dma=3 pebble=5 tr=0 jumps=1 io_err=0");
}
END_TEST

START_TEST(prometheus)
{
	struct pb_metrics m;
	struct pb_metrics_snapshot s;
	static char buf[16384];

	seed_counters(&m);
	PB_METRIC_SET(&m, drp_pebble_in_use, 7);
	PB_METRIC_SET(&m, drp_trbufs_in_use, 2);
	pb_metrics_set_event_rate(&m, 120.5);
	pb_metrics_snapshot(&m, &s, 10.0);
	ck_assert_int_gt(pb_metrics_format_prometheus(&s, buf, sizeof(buf)), 0);
	ck_assert_ptr_nonnull(strstr(buf,
		"# HELP pebbled_dma_frames_total Frames ingested from DMA\n"
		"# TYPE pebbled_dma_frames_total counter\n"
		"pebbled_dma_frames_total 1000000\n"));
	ck_assert_ptr_nonnull(strstr(buf, "\npebbled_arch_bytes_total 179912000000\n"));
	ck_assert_ptr_nonnull(strstr(buf, "\npebbled_drops_arch_queue_total 0\n"));
	ck_assert_ptr_nonnull(strstr(buf, "# TYPE pebbled_dma_fps gauge\npebbled_dma_fps 100000\n"));
	ck_assert_ptr_nonnull(strstr(buf, "\npebbled_elapsed_sec 10\n"));
	ck_assert_ptr_nonnull(strstr(buf, "\npebbled_arch_gbps 17.991"));
	ck_assert_ptr_nonnull(strstr(buf, "\npebbled_arch_gibps 16.755"));
	ck_assert_ptr_nonnull(strstr(buf, "# TYPE drp_pebble_in_use gauge\ndrp_pebble_in_use 7\n"));
	ck_assert_ptr_nonnull(strstr(buf, "\ndrp_trbufs_in_use 2\n"));
	ck_assert_ptr_nonnull(strstr(buf, "\ndrp_dma_in_use 0\n"));
	ck_assert_ptr_nonnull(strstr(buf, "\ndrp_num_pgp_jump 0\n"));
	ck_assert_ptr_nonnull(strstr(buf, "# TYPE drp_event_rate gauge\ndrp_event_rate 120.5\n"));

	/* every sample line has a HELP and a TYPE line before it */
	int samples = 0, helps = 0, types = 0;

	for (char *l = buf; *l; l = strchr(l, '\n') + 1) {
		if (!strncmp(l, "# HELP ", 7))
			helps++;
		else if (!strncmp(l, "# TYPE ", 7))
			types++;
		else
			samples++;
	}
	ck_assert_int_eq(samples, 13 + 6 + 5);
	ck_assert_int_eq(helps, samples);
	ck_assert_int_eq(types, samples);
}
END_TEST

START_TEST(too_small)
{
	struct pb_metrics m;
	struct pb_metrics_snapshot s;
	char buf[40];

	seed_counters(&m);
	pb_metrics_snapshot(&m, &s, 1.0);
	ck_assert_int_eq(pb_metrics_format_summary(&s, buf, sizeof(buf)), -ENOSPC);
	ck_assert_uint_eq(strlen(buf), sizeof(buf) - 1);
	ck_assert_int_eq(pb_metrics_format_progress(&s, buf, sizeof(buf)), -ENOSPC);
	ck_assert_int_eq(pb_metrics_format_prometheus(&s, buf, sizeof(buf)), -ENOSPC);
	ck_assert_int_eq(pb_metrics_format_prometheus(NULL, buf, sizeof(buf)), -EINVAL);
	ck_assert_int_eq(pb_metrics_format_summary(&s, NULL, 10), -EINVAL);
}
END_TEST

static struct pb_metrics shared;

static void *bump(void *arg)
{
	(void)arg;
	for (int i = 0; i < 100000; i++) {
		PB_METRIC_ADD(&shared, dma_frames, 1);
		PB_METRIC_ADD(&shared, arch_bytes, 4096);
	}
	return NULL;
}

START_TEST(concurrent_updates)
{
	pthread_t t[4];
	struct pb_metrics_snapshot s;

	pb_metrics_init(&shared);
	for (int i = 0; i < 4; i++)
		ck_assert_int_eq(pthread_create(&t[i], NULL, bump, NULL), 0);
	for (int i = 0; i < 4; i++)
		ck_assert_int_eq(pthread_join(t[i], NULL), 0);
	pb_metrics_snapshot(&shared, &s, 1.0);
	ck_assert_uint_eq(s.dma_frames, 400000);
	ck_assert_uint_eq(s.arch_bytes, 400000ULL * 4096);
}
END_TEST

static Suite *suite(void)
{
	Suite *s = suite_create("metrics");
	TCase *tc = tcase_create("metrics");

	tcase_add_test(tc, seed_exit_block);
	tcase_add_test(tc, zero_elapsed);
	tcase_add_test(tc, progress_line);
	tcase_add_test(tc, prometheus);
	tcase_add_test(tc, too_small);
	tcase_add_test(tc, concurrent_updates);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return pgp_check_run(suite());
}
