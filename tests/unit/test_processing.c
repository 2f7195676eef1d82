// SPDX-License-Identifier: GPL-2.0
/* Processing: stats per dtype, ROI clipping, header skip, payload check. */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include "archive_format.h"
#include "processing.h"
#include "timing.h"
#include "check_main.h"
#include "pb_test_util.h"

START_TEST(stats_uint16_roi)
{
	uint8_t buf[32 + 4 * 3 * 2];
	uint16_t *px = (uint16_t *)(buf + 32);
	struct pb_roi roi[3] = { { 1, 0, 2, 2 }, { 3, 2, 5, 5 }, { 10, 10, 1, 1 } };
	struct pb_proc_params p = { PB_DTYPE_UINT16, 4, 32, roi, 3 };
	struct pb_proc_result r;

	memset(buf, 0xff, 32);	/* header bytes must be ignored */
	for (int i = 0; i < 12; i++)
		px[i] = (uint16_t)(i * 10);	/* rows: 0 10 20 30 / 40 50 60 70 / 80 90 100 110 */
	ck_assert_int_eq(pb_proc_compute(&p, buf, sizeof(buf), &r), 0);
	ck_assert_uint_eq(r.npix, 12);
	ck_assert_double_eq(r.sum, 660);
	ck_assert_double_eq(r.min, 0);
	ck_assert_double_eq(r.max, 110);
	ck_assert_double_eq(r.mean, 55);
	ck_assert_uint_eq(r.nroi, 3);
	ck_assert_double_eq(r.roi_sum[0], 10 + 20 + 50 + 60);
	ck_assert_uint_eq(r.roi_npix[0], 4);
	ck_assert_double_eq(r.roi_sum[1], 110);	/* clipped to one pixel */
	ck_assert_uint_eq(r.roi_npix[1], 1);
	ck_assert_double_eq(r.roi_sum[2], 0);	/* outside */
	ck_assert_uint_eq(r.roi_npix[2], 0);
}
END_TEST

START_TEST(other_dtypes)
{
	float f[4] = { -1.5f, 2.5f, 0.0f, 3.0f };
	int16_t s[3] = { -5, 7, -9 };
	uint8_t b[5] = { 9, 1, 200, 3, 4 };
	struct pb_proc_params p = { PB_DTYPE_FLOAT32, 0, 0, NULL, 0 };
	struct pb_proc_result r;

	ck_assert_int_eq(pb_proc_compute(&p, f, sizeof(f), &r), 0);
	ck_assert_double_eq(r.sum, 4.0);
	ck_assert_double_eq(r.min, -1.5);
	ck_assert_double_eq(r.max, 3.0);
	p.dtype = PB_DTYPE_INT16;
	ck_assert_int_eq(pb_proc_compute(&p, s, sizeof(s), &r), 0);
	ck_assert_double_eq(r.sum, -7);
	ck_assert_double_eq(r.min, -9);
	p.dtype = PB_DTYPE_UINT8;
	ck_assert_int_eq(pb_proc_compute(&p, b, sizeof(b), &r), 0);
	ck_assert_double_eq(r.max, 200);
	ck_assert_uint_eq(r.npix, 5);
	/* header only / partial pixel */
	p.dtype = PB_DTYPE_UINT32;
	p.header_bytes = 4;
	ck_assert_int_eq(pb_proc_compute(&p, b, 4, &r), 0);
	ck_assert_uint_eq(r.npix, 0);
	ck_assert_int_eq(pb_proc_compute(&p, b, 5, &r), 0);
	ck_assert_uint_eq(r.npix, 0);
	ck_assert_int_eq(pb_proc_compute(NULL, b, 5, &r), -EINVAL);
}
END_TEST

/* int8, uint64, int64 and float16 (binary16 bit patterns as NumPy writes them) */
START_TEST(detector_dtypes)
{
	int8_t i8[3] = { -128, 5, 127 };
	uint64_t u64[2] = { 1ULL << 40, 3 };
	int64_t i64[2] = { -(1LL << 40), 1 };
	/* 1.0, -2.5, 65504 (largest), 2^-24 (smallest subnormal), -0.0 */
	uint16_t f16[5] = { 0x3c00, 0xc100, 0x7bff, 0x0001, 0x8000 };
	uint16_t inf[2] = { 0x7c00, 0x3c00 };
	struct pb_proc_params p = { PB_DTYPE_INT8, 0, 0, NULL, 0 };
	struct pb_proc_result r;

	ck_assert_int_eq(pb_proc_compute(&p, i8, sizeof(i8), &r), 0);
	ck_assert_double_eq(r.sum, 4);
	ck_assert_double_eq(r.min, -128);
	p.dtype = PB_DTYPE_UINT64;
	ck_assert_int_eq(pb_proc_compute(&p, u64, sizeof(u64), &r), 0);
	ck_assert_double_eq(r.max, 1099511627776.0);
	ck_assert_uint_eq(r.npix, 2);
	p.dtype = PB_DTYPE_INT64;
	ck_assert_int_eq(pb_proc_compute(&p, i64, sizeof(i64), &r), 0);
	ck_assert_double_eq(r.sum, -1099511627775.0);
	p.dtype = PB_DTYPE_FLOAT16;
	ck_assert_int_eq(pb_proc_compute(&p, f16, sizeof(f16), &r), 0);
	ck_assert_uint_eq(r.npix, 5);
	ck_assert_double_eq(r.min, -2.5);
	ck_assert_double_eq(r.max, 65504.0);
	ck_assert_double_eq(r.sum, 1.0 - 2.5 + 65504.0 + 0x1p-24);
	ck_assert_int_eq(pb_proc_compute(&p, inf, sizeof(inf), &r), 0);
	ck_assert(isinf(r.max));
	ck_assert_uint_eq(pb_dtype_size(PB_DTYPE_FLOAT16), 2);
	ck_assert_int_eq(pb_dtype_from_name("int64"), PB_DTYPE_INT64);
	ck_assert_uint_eq(pb_dtype_from_npy('f', 2), PB_DTYPE_FLOAT16);
	ck_assert_uint_eq(pb_dtype_from_npy('b', 1), PB_DTYPE_UNKNOWN);
	ck_assert_uint_eq(pb_dtype_from_npy('c', 8), PB_DTYPE_UNKNOWN);
}
END_TEST

/* A corrupted generator payload is found by pb_payload_verify (the pipeline flags PB_DMG_PAYLOAD). */
START_TEST(payload_check)
{
	uint8_t frame[32 + 1001];
	struct pb_timing t = { 0 };

	t.pulse_id = 12345;
	t.transition = 12;
	ck_assert_int_eq(pb_timing_encode(&t, frame, sizeof(frame)), 0);
	pb_payload_fill(12345, frame + 32, 1001);
	ck_assert_int_eq(pb_payload_verify(frame, sizeof(frame)), -1);
	frame[32 + 500] ^= 1;
	ck_assert_int_eq(pb_payload_verify(frame, sizeof(frame)), 32 + 500);
}
END_TEST

static Suite *suite(void)
{
	Suite *s = suite_create("processing");
	TCase *tc = tcase_create("processing");

	tcase_add_test(tc, stats_uint16_roi);
	tcase_add_test(tc, other_dtypes);
	tcase_add_test(tc, detector_dtypes);
	tcase_add_test(tc, payload_check);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return pgp_check_run(suite());
}
