// SPDX-License-Identifier: GPL-2.0
/* lib/npy: round trip, raw files, and each malformed input it must refuse. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "npy.h"
#include "check_main.h"

static char dir[64];

static void setup(void)
{
	strcpy(dir, "/tmp/test_npy.XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(dir));
}

static void teardown(void)
{
	char cmd[128];

	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	ck_assert_int_eq(system(cmd), 0);
}

static void path(char *out, const char *name)
{
	snprintf(out, 128, "%s/%s", dir, name);
}

static void write_file(const char *p, const void *b, size_t n)
{
	FILE *f = fopen(p, "wb");

	ck_assert_ptr_nonnull(f);
	ck_assert_uint_eq(fwrite(b, 1, n, f), n);
	fclose(f);
}

START_TEST(round_trip_u16_image)
{
	uint16_t img[3 * 5];
	uint64_t shape[2] = { 3, 5 };
	struct npy_array a;
	char p[128];
	unsigned int i;

	for (i = 0; i < 15; i++)
		img[i] = (uint16_t)(i * 4099);
	path(p, "img.npy");
	ck_assert_int_eq(npy_save(p, "<u2", 2, shape, img, sizeof(img)), 0);
	ck_assert_int_eq(npy_load(p, &a), 0);
	ck_assert_str_eq(a.descr, "<u2");
	ck_assert_uint_eq(a.itemsize, 2);
	ck_assert_uint_eq(a.ndim, 2);
	ck_assert_uint_eq(a.shape[0], 3);
	ck_assert_uint_eq(a.shape[1], 5);
	ck_assert_uint_eq(a.data_len, sizeof(img));
	ck_assert_mem_eq(a.data, img, sizeof(img));
	/* data starts 64-byte aligned in the file, as numpy writes it */
	ck_assert_uint_eq(((char *)a.data - (char *)a.buf) % 64, 0);
	npy_free(&a);
}
END_TEST

START_TEST(raw_file_is_bytes)
{
	struct npy_array a;
	char p[128];

	path(p, "raw.bin");
	write_file(p, "hello", 5);
	ck_assert_int_eq(npy_load(p, &a), -EINVAL);
	ck_assert_str_eq(a.error, "not a .npy file (no \\x93NUMPY magic)");
	ck_assert_int_eq(npy_load_or_raw(p, &a), 0);
	ck_assert_str_eq(a.descr, "|u1");
	ck_assert_uint_eq(a.shape[0], 5);
	ck_assert_mem_eq(a.data, "hello", 5);
	npy_free(&a);
}
END_TEST

static struct npy_array parsed;	/* of the last parse_header() */

static int parse_header(const char *dict, size_t data_len)
{
	unsigned char b[512] = { 0x93, 'N', 'U', 'M', 'P', 'Y', 1, 0 };
	size_t n = strlen(dict);

	b[8] = (unsigned char)n;
	b[9] = 0;
	memcpy(b + 10, dict, n);
	return npy_parse(b, 10 + n + data_len, &parsed);
}

/* Each refusal says why, in words a user can act on. */
START_TEST(refusals_say_why)
{
	char buf[64];

	ck_assert_int_eq(parse_header("{'descr': '<u2', 'fortran_order': False, 'shape': (3, 2), }", 14), -EINVAL);
	ck_assert_str_eq(parsed.error, "data is 14 bytes, shape (3, 2) of '<u2' needs 12");
	ck_assert_int_eq(parse_header("{'descr': '<u2', 'fortran_order': False, 'shape': (7,), }", 4), -EINVAL);
	ck_assert_str_eq(parsed.error, "data is 4 bytes, shape (7,) of '<u2' needs 14");
	ck_assert_int_eq(parse_header("{'descr': '<u2', 'fortran_order': False, 'shape': (4294967296, 4294967296, 4294967296), }", 4), -EINVAL);
	ck_assert_str_eq(parsed.error, "shape (4294967296, 4294967296, 4294967296) of '<u2' is larger than memory");
	ck_assert_int_eq(parse_header("{'descr': '>u2', 'fortran_order': False, 'shape': (2,), }", 4), -EINVAL);
	ck_assert_str_eq(parsed.error, "big-endian data ('>u2')");
	ck_assert_int_eq(parse_header("{'descr': '<u2', 'fortran_order': True, 'shape': (2,), }", 4), -EINVAL);
	ck_assert_str_eq(parsed.error, "Fortran-ordered array");
	ck_assert_int_eq(parse_header("{'descr': '|O', 'fortran_order': False, 'shape': (2,), }", 16), -EINVAL);
	ck_assert_str_eq(parsed.error, "header: 'descr' is not a simple dtype string");
	ck_assert_int_eq(parse_header("{'descr': '<U8', 'fortran_order': False, 'shape': (2,), }", 64), -EINVAL);
	ck_assert_str_eq(parsed.error, "dtype '<U8' is not a number");
	/* names as NumPy prints them */
	ck_assert_int_eq(parse_header("{'descr': '|b1', 'fortran_order': False, 'shape': (), }", 1), 0);
	ck_assert_str_eq(npy_dtype_name(&parsed, buf, sizeof(buf)), "bool");
	ck_assert_str_eq(npy_shape_str(&parsed, buf, sizeof(buf)), "()");
	ck_assert_int_eq(parse_header("{'descr': '<c8', 'fortran_order': False, 'shape': (1, 2), }", 16), 0);
	ck_assert_str_eq(npy_dtype_name(&parsed, buf, sizeof(buf)), "complex64");
	ck_assert_str_eq(npy_shape_str(&parsed, buf, sizeof(buf)), "(1, 2)");
	ck_assert_int_eq(parse_header("{'descr': '<f2', 'fortran_order': False, 'shape': (1,), }", 2), 0);
	ck_assert_str_eq(npy_dtype_name(&parsed, buf, sizeof(buf)), "float16");
}
END_TEST

START_TEST(refuses_malformed)
{
	ck_assert_int_eq(parse_header("{'descr': '<u2', 'fortran_order': False, 'shape': (2,), }", 4), 0);
	/* data shorter or longer than the shape says */
	ck_assert_int_eq(parse_header("{'descr': '<u2', 'fortran_order': False, 'shape': (2,), }", 3), -EINVAL);
	ck_assert_int_eq(parse_header("{'descr': '<u2', 'fortran_order': False, 'shape': (2,), }", 5), -EINVAL);
	ck_assert_int_eq(parse_header("{'descr': '<u2', 'fortran_order': True, 'shape': (2,), }", 4), -EINVAL);
	ck_assert_int_eq(parse_header("{'descr': '>u2', 'fortran_order': False, 'shape': (2,), }", 4), -EINVAL);
	ck_assert_int_eq(parse_header("{'descr': '<U8', 'fortran_order': False, 'shape': (2,), }", 16), -EINVAL);
	ck_assert_int_eq(parse_header("{'fortran_order': False, 'shape': (2,), }", 4), -EINVAL);
	ck_assert_int_eq(parse_header("{'descr': '<u2', 'fortran_order': False, 'shape': 2, }", 4), -EINVAL);
	ck_assert_int_eq(parse_header("{'descr': '<u2', 'fortran_order': False, 'shape': (1,1,1,1,1,1,1,1,1), }", 4), -EINVAL);
}
END_TEST

START_TEST(refuses_bad_version_and_missing_file)
{
	unsigned char b[16] = { 0x93, 'N', 'U', 'M', 'P', 'Y', 9, 0, 0, 0 };
	struct npy_array a;

	ck_assert_int_eq(npy_parse(b, sizeof(b), &a), -EINVAL);
	ck_assert_int_eq(npy_load("/nonexistent/x.npy", &a), -ENOENT);
}
END_TEST

START_TEST(save_to_missing_directory_fails)
{
	uint64_t shape[1] = { 1 };

	ck_assert_int_eq(npy_save("/nonexistent/dir/x.npy", "|u1", 1, shape, "x", 1), -ENOENT);
}
END_TEST

static Suite *npy_suite(void)
{
	Suite *s = suite_create("npy");
	TCase *tc = tcase_create("npy");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, round_trip_u16_image);
	tcase_add_test(tc, raw_file_is_bytes);
	tcase_add_test(tc, refuses_malformed);
	tcase_add_test(tc, refusals_say_why);
	tcase_add_test(tc, refuses_bad_version_and_missing_file);
	tcase_add_test(tc, save_to_missing_directory_fails);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return pgp_check_run(npy_suite());
}
