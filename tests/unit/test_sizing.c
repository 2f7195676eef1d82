// SPDX-License-Identifier: GPL-2.0
/*
 * Buffer-sizing plan: the seed's worked examples (80 x 4 KiB = 320 KiB,
 * 128 x 84 MiB, 128 x 74 MiB), defaults, refusals with the balance rules
 * and the real numbers, and MemAvailable parsing.
 */
#include <errno.h>
#include <stdint.h>
#include <string.h>
#include "sizing.h"
#include "check_main.h"
#include "pb_test_util.h"

#define KiB 1024ULL
#define MiB (1024ULL * KiB)
#define GiB (1024ULL * MiB)

START_TEST(next_pow2)
{
	ck_assert_uint_eq(pb_sizing_next_pow2(0), 1);
	ck_assert_uint_eq(pb_sizing_next_pow2(1), 1);
	ck_assert_uint_eq(pb_sizing_next_pow2(3), 4);
	ck_assert_uint_eq(pb_sizing_next_pow2(64), 64);
	ck_assert_uint_eq(pb_sizing_next_pow2(65), 128);
	ck_assert_uint_eq(pb_sizing_next_pow2(80), 128);
	ck_assert_uint_eq(pb_sizing_next_pow2(1ULL << 63), 1ULL << 63);
	ck_assert_uint_eq(pb_sizing_next_pow2((1ULL << 63) + 1), 0);
}
END_TEST

START_TEST(format_bytes)
{
	char b[32];

	ck_assert_str_eq(pb_format_bytes(0, b, sizeof(b)), "0 B");
	ck_assert_str_eq(pb_format_bytes(32, b, sizeof(b)), "32 B");
	ck_assert_str_eq(pb_format_bytes(1023, b, sizeof(b)), "1023 B");
	ck_assert_str_eq(pb_format_bytes(1024, b, sizeof(b)), "1 KiB");
	ck_assert_str_eq(pb_format_bytes(1536, b, sizeof(b)), "1.5 KiB");
	ck_assert_str_eq(pb_format_bytes(80 * 4 * KiB, b, sizeof(b)), "320 KiB");
	ck_assert_str_eq(pb_format_bytes(84 * MiB, b, sizeof(b)), "84 MiB");
	ck_assert_str_eq(pb_format_bytes(84 * MiB + 4 * KiB, b, sizeof(b)), "~84 MiB");
	ck_assert_str_eq(pb_format_bytes(128 * 74 * MiB, b, sizeof(b)), "9.25 GiB");
	ck_assert_str_eq(pb_format_bytes(128 * 84 * MiB, b, sizeof(b)), "10.5 GiB");
}
END_TEST

/* Seed example 1: the DMA pool of a PVA detector, 80 x 4 KiB = 320 KiB. */
START_TEST(seed_dma_320k)
{
	struct pb_sizing_input in = {
		.cfg_rx_count = 80, .cfg_size = 4 * KiB, .kind = PB_DET_NETWORK,
		.image_size = 74 * MiB,
	};
	struct pb_sizing_plan p;
	char buf[4096];

	ck_assert_int_eq(pb_sizing_compute(&in, &p), 0);
	ck_assert_uint_eq(p.dma_total, 320 * KiB);
	ck_assert_int_ge(pb_sizing_format(&p, buf, sizeof(buf)), 0);
	ck_assert_ptr_nonnull(strstr(buf, "80 x 4 KiB"));
	ck_assert_ptr_nonnull(strstr(buf, "= 320 KiB"));
	/* network-ingress: the DMA rule is about timing headers only */
	ck_assert_int_eq(p.rule[PB_RULE_DMA_IMAGE], PB_RULE_PASS);
	ck_assert_ptr_nonnull(strstr(buf, "[PASS] cfgSize >= one timing header"));
}
END_TEST

/*
 * Seed examples 2 and 3: RIX Axis (PVA), cfgRxCount 80 -> 128 pebbles
 * (next power of two), pebbleBufSize 84 MiB, transitions of 74 MiB.
 * 128 x 84 MiB = 10752 MiB = 10.5 GiB exactly (the seed's "10.8GiB" is
 * 10752/1000: a units slip); 128 x 74 MiB = 9.25 GiB (seed: ~9.2 GiB).
 */
static void rix_axis(struct pb_sizing_input *in)
{
	memset(in, 0, sizeof(*in));
	in->cfg_rx_count = 80;
	in->cfg_size = 4 * KiB;
	in->kind = PB_DET_NETWORK;
	in->image_size = 74 * MiB;
	in->pebble_buf_size = 84 * MiB;
	in->max_transition_size = 74 * MiB;
	in->archive_buf_count = 8;
	in->archive_buf_size = 84 * MiB + 4 * KiB;
}

START_TEST(seed_pebble_and_transition)
{
	struct pb_sizing_input in;
	struct pb_sizing_plan p;
	char buf[4096];

	rix_axis(&in);
	in.mem_available = 64 * GiB;
	ck_assert_int_eq(pb_sizing_compute(&in, &p), 0);
	ck_assert(p.ok);
	ck_assert_uint_eq(p.pebble_count, 128);
	ck_assert(p.pebble_count_auto);
	ck_assert(!p.pebble_size_auto);
	ck_assert_uint_eq(p.pebble_size, 84 * MiB);
	ck_assert_uint_eq(p.pebble_total, 128 * 84 * MiB);
	ck_assert_uint_eq(p.trbuf_count, 128);
	ck_assert_uint_eq(p.trbuf_size, 74 * MiB);
	ck_assert_uint_eq(p.trbuf_total, 128 * 74 * MiB);
	ck_assert_uint_eq(p.grand_total, 320 * KiB + 128 * 84 * MiB + 128 * 74 * MiB +
			  8 * (84 * MiB + 4 * KiB));
	ck_assert_int_ge(pb_sizing_format(&p, buf, sizeof(buf)), 0);
	ck_assert_ptr_nonnull(strstr(buf, "128 x 84 MiB       = 10.5 GiB"));
	ck_assert_ptr_nonnull(strstr(buf, "128 x 74 MiB       = 9.25 GiB"));
	ck_assert_ptr_nonnull(strstr(buf, "plan fits."));
	ck_assert_ptr_null(strstr(buf, "[FAIL]"));
}
END_TEST

/* Refusal: the seed's buffers on a 16 GiB machine. */
START_TEST(refuse_total)
{
	struct pb_sizing_input in;
	struct pb_sizing_plan p;
	char buf[4096];

	rix_axis(&in);
	in.mem_available = 16 * GiB;
	ck_assert_int_eq(pb_sizing_compute(&in, &p), -ENOMEM);
	ck_assert(!p.ok);
	ck_assert_int_eq(p.rule[PB_RULE_PEBBLE_FITS], PB_RULE_PASS);
	ck_assert_int_eq(p.rule[PB_RULE_TOTAL_FITS], PB_RULE_FAIL);
	ck_assert_int_ge(pb_sizing_format(&p, buf, sizeof(buf)), 0);
	ck_assert_ptr_nonnull(strstr(buf,
		"[PASS] pebbleBufCount x pebbleBufSize fits: 128 x 84 MiB = 10.5 GiB <= 16 GiB available"));
	ck_assert_ptr_nonnull(strstr(buf,
		"[FAIL] DMA + pebble + transition + archive fits: 320 KiB + 10.5 GiB + 9.25 GiB + 672.03 MiB = 20.41 GiB > 16 GiB available"));
	ck_assert_ptr_nonnull(strstr(buf, "plan refused."));

	/* 8 GiB: the pebbles alone do not fit either. */
	in.mem_available = 8 * GiB;
	ck_assert_int_eq(pb_sizing_compute(&in, &p), -ENOMEM);
	ck_assert_int_eq(p.rule[PB_RULE_PEBBLE_FITS], PB_RULE_FAIL);
	ck_assert_int_ge(pb_sizing_format(&p, buf, sizeof(buf)), 0);
	ck_assert_ptr_nonnull(strstr(buf,
		"[FAIL] pebbleBufCount x pebbleBufSize fits: 128 x 84 MiB = 10.5 GiB > 8 GiB available"));
}
END_TEST

/* Refusal: a link detector whose DMA ring cannot hold one image. */
START_TEST(refuse_dma_too_small)
{
	struct pb_sizing_input in = {
		.cfg_rx_count = 80, .cfg_size = 4 * KiB, .lanes = 1, .kind = PB_DET_LINK,
		.image_size = 74 * MiB, .mem_available = 1024 * GiB,
	};
	struct pb_sizing_plan p;
	char buf[4096];

	ck_assert_int_eq(pb_sizing_compute(&in, &p), -ENOBUFS);
	ck_assert_int_eq(p.rule[PB_RULE_DMA_IMAGE], PB_RULE_FAIL);
	ck_assert_int_ge(pb_sizing_format(&p, buf, sizeof(buf)), 0);
	ck_assert_ptr_nonnull(strstr(buf,
		"[FAIL] cfgRxCount x cfgSize >= one image: 80 x 4 KiB = 320 KiB < 74 MiB"));
	/* the default pebble still holds the whole image */
	ck_assert_uint_eq(p.pebble_size, 74 * MiB);
	ck_assert_int_eq(p.rule[PB_RULE_PEBBLE_IMAGE], PB_RULE_PASS);

	/* an explicit pebble smaller than the image fails rule 2 */
	in.cfg_rx_count = 32;
	in.cfg_size = 4 * MiB;
	in.pebble_buf_size = 64 * MiB;
	ck_assert_int_eq(pb_sizing_compute(&in, &p), -ENOBUFS);
	ck_assert_int_eq(p.rule[PB_RULE_DMA_IMAGE], PB_RULE_PASS);
	ck_assert_int_eq(p.rule[PB_RULE_PEBBLE_IMAGE], PB_RULE_FAIL);
	ck_assert_int_ge(pb_sizing_format(&p, buf, sizeof(buf)), 0);
	ck_assert_ptr_nonnull(strstr(buf, "[FAIL] pebbleBufSize >= one image: 64 MiB < 74 MiB"));
}
END_TEST

START_TEST(link_defaults)
{
	struct pb_sizing_input in = {
		.cfg_rx_count = 1000, .cfg_size = 1 * MiB, .lanes = 4, .kind = PB_DET_LINK,
	};
	struct pb_sizing_plan p;

	ck_assert_int_eq(pb_sizing_compute(&in, &p), 0);
	ck_assert_uint_eq(p.pebble_count, 1024);
	ck_assert_uint_eq(p.pebble_size, 4 * MiB);
	ck_assert(p.pebble_size_auto);
	ck_assert_uint_eq(p.trbuf_count, 1024);
	ck_assert_uint_eq(p.trbuf_size, PB_SIZING_DEFAULT_TRANSITION);
	ck_assert_int_eq(p.rule[PB_RULE_DMA_IMAGE], PB_RULE_SKIP);
	ck_assert_int_eq(p.rule[PB_RULE_TOTAL_FITS], PB_RULE_SKIP);
	ck_assert(p.ok);

	in.pebble_buf_count = 100;	/* explicit, not a power of two: kept */
	ck_assert_int_eq(pb_sizing_compute(&in, &p), 0);
	ck_assert_uint_eq(p.pebble_count, 100);
	ck_assert_uint_eq(p.trbuf_count, 100);
	ck_assert(!p.pebble_count_auto);
}
END_TEST

START_TEST(invalid_input)
{
	struct pb_sizing_input in = { .cfg_rx_count = 0, .cfg_size = 4096 };
	struct pb_sizing_plan p;
	char small[16];

	ck_assert_int_eq(pb_sizing_compute(&in, &p), -EINVAL);
	in.cfg_rx_count = 4;
	in.cfg_size = 0;
	ck_assert_int_eq(pb_sizing_compute(&in, &p), -EINVAL);
	in.cfg_size = 4096;
	in.kind = PB_DET_NETWORK;	/* no image size, no pebble size */
	ck_assert_int_eq(pb_sizing_compute(&in, &p), -EINVAL);
	ck_assert_int_eq(pb_sizing_compute(NULL, &p), -EINVAL);
	in.kind = PB_DET_LINK;
	in.cfg_rx_count = UINT64_MAX / 2;
	in.cfg_size = 4;
	ck_assert_int_eq(pb_sizing_compute(&in, &p), -EOVERFLOW);
	in.cfg_rx_count = 4;
	ck_assert_int_eq(pb_sizing_compute(&in, &p), 0);
	ck_assert_int_eq(pb_sizing_format(&p, small, sizeof(small)), -ENOSPC);
	ck_assert_uint_eq(strlen(small), sizeof(small) - 1);
	ck_assert_int_eq(pb_sizing_format(NULL, small, sizeof(small)), -EINVAL);
}
END_TEST

START_TEST(meminfo)
{
	char dir[256], path[300];
	uint64_t v = 0;

	pb_test_mkdtemp(dir, sizeof(dir), "sizing");
	snprintf(path, sizeof(path), "%s/meminfo", dir);
	pb_test_write_file(path,
		"MemTotal:       32768000 kB\n"
		"MemFree:         1000000 kB\n"
		"MemAvailable:   16384000 kB\n"
		"Buffers:          100000 kB\n");
	ck_assert_int_eq(pb_meminfo_available(path, &v), 0);
	ck_assert_uint_eq(v, 16384000ULL * 1024);

	pb_test_write_file(path, "MemTotal:       32768000 kB\nMemFree: 1 kB\n");
	ck_assert_int_eq(pb_meminfo_available(path, &v), -ENODATA);
	pb_test_write_file(path, "MemAvailable:   lots\n");
	ck_assert_int_eq(pb_meminfo_available(path, &v), -ENODATA);
	snprintf(path, sizeof(path), "%s/nonexistent", dir);
	ck_assert_int_eq(pb_meminfo_available(path, &v), -ENOENT);
	/* the real one parses */
	ck_assert_int_eq(pb_meminfo_available("/proc/meminfo", &v), 0);
	ck_assert_uint_gt(v, 0);
	pb_test_rmtree(dir);
}
END_TEST

static Suite *suite(void)
{
	Suite *s = suite_create("sizing");
	TCase *tc = tcase_create("plan");

	tcase_add_test(tc, next_pow2);
	tcase_add_test(tc, format_bytes);
	tcase_add_test(tc, seed_dma_320k);
	tcase_add_test(tc, seed_pebble_and_transition);
	tcase_add_test(tc, refuse_total);
	tcase_add_test(tc, refuse_dma_too_small);
	tcase_add_test(tc, link_defaults);
	tcase_add_test(tc, invalid_input);
	tcase_add_test(tc, meminfo);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return pgp_check_run(suite());
}
