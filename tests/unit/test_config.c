// SPDX-License-Identifier: GPL-2.0
/*
 * Configuration: the shipped daemon/pebbled.conf equals the built-in
 * defaults; every key can be set; unknown keys, wrong types, bad values
 * and syntax errors are rejected with "FILE:LINE: message" and leave the
 * configuration unchanged.
 */
#include <errno.h>
#include <libgen.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include "config.h"
#include "check_main.h"
#include "pb_test_util.h"

static char dir[256];
static char path[300];

static void setup(void)
{
	pb_test_mkdtemp(dir, sizeof(dir), "config");
	snprintf(path, sizeof(path), "%s/test.conf", dir);
}

static void teardown(void)
{
	pb_test_rmtree(dir);
}

/*
 * daemon/pebbled.conf: under $PEBBLED_SRCDIR if set, else relative to this
 * source file's path as compiled (tests run from the repository root).
 */
static void shipped_conf(char *out, size_t len)
{
	const char *top = getenv("PEBBLED_SRCDIR");
	char src[PATH_MAX];

	if (top && *top) {
		snprintf(out, len, "%s/daemon/pebbled.conf", top);
		return;
	}
	snprintf(src, sizeof(src), "%s", __FILE__);
	/* tests/unit/test_config.c -> repo root */
	snprintf(out, len, "%s/../../daemon/pebbled.conf", dirname(src));
	if (access(out, R_OK) != 0)
		snprintf(out, len, "daemon/pebbled.conf");
}

START_TEST(shipped_file_equals_defaults)
{
	struct pb_config def, c;
	char conf[PATH_MAX + 64], err[512];

	shipped_conf(conf, sizeof(conf));
	pb_config_defaults(&def);
	/* start from something else, so every key must really be there */
	memset(&c, 0x5a, sizeof(c));
	c.device[0] = c.output_dir[0] = '\0';
	c.roi_count = 3;
	ck_assert_msg(pb_config_load(&c, conf, err, sizeof(err)) == 0, "%s", err);
	ck_assert_msg(pb_config_equal(&c, &def), "pebbled.conf differs from the defaults");
	ck_assert_str_eq(def.device, "/dev/pgpdma0");
	ck_assert_uint_eq(def.proc_hz, 1000);
	ck_assert_uint_eq(def.arch_hz, 200);
	ck_assert_uint_eq(def.metrics_port, 9464);
	ck_assert_int_eq(def.backpressure, PB_BP_LOSSLESS);
	ck_assert_int_eq(def.detector, PB_DET_LINK);
	ck_assert_uint_eq(def.pebble_buf_count, 0);
	ck_assert_uint_eq(def.pebble_buf_size, 0);
}
END_TEST

START_TEST(every_key)
{
	struct pb_config c;
	char err[512];

	pb_test_write_file(path,
		"device = \"/dev/pgpdma3\";\n"
		"output_dir = \"/data/run\";\n"
		"run_seconds = 60;\n"
		"proc_hz = 0;\n"
		"arch_hz = 0;\n"
		"pebbleBufCount = 256;\n"
		"pebbleBufSize = 88080384;\n"
		"max_transition_size = 77594624;\n"
		"backpressure = \"drop\";\n"
		"segment_bytes = 4294967296L;\n"
		"segment_frames = 1000;\n"
		"archive_queue_depth = 32;\n"
		"metrics_port = 0;\n"
		"roi = ( { x = 1; y = 2; w = 3; h = 4; }, { x = 10; y = 20; w = 30; h = 40; } );\n"
		"detector = \"network\";\n"
		"image_width = 2048;\n"
		"image_height = 2048;\n"
		"image_dtype = \"float32\";\n"
		"lanes = 4;\n");
	pb_config_defaults(&c);
	ck_assert_msg(pb_config_load(&c, path, err, sizeof(err)) == 0, "%s", err);
	ck_assert_str_eq(c.device, "/dev/pgpdma3");
	ck_assert_str_eq(c.output_dir, "/data/run");
	ck_assert_uint_eq(c.run_seconds, 60);
	ck_assert_uint_eq(c.proc_hz, 0);
	ck_assert_uint_eq(c.arch_hz, 0);
	ck_assert_uint_eq(c.pebble_buf_count, 256);
	ck_assert_uint_eq(c.pebble_buf_size, 84ULL << 20);
	ck_assert_uint_eq(c.max_transition_size, 74ULL << 20);
	ck_assert_int_eq(c.backpressure, PB_BP_DROP);
	ck_assert_uint_eq(c.segment_bytes, 4ULL << 30);
	ck_assert_uint_eq(c.segment_frames, 1000);
	ck_assert_uint_eq(c.archive_queue_depth, 32);
	ck_assert_uint_eq(c.metrics_port, 0);
	ck_assert_uint_eq(c.roi_count, 2);
	ck_assert_uint_eq(c.roi[1].x, 10);
	ck_assert_uint_eq(c.roi[1].h, 40);
	ck_assert_int_eq(c.detector, PB_DET_NETWORK);
	ck_assert_uint_eq(c.image_width, 2048);
	ck_assert_int_eq(c.image_dtype, PB_DTYPE_FLOAT32);
	ck_assert_uint_eq(c.lanes, 4);
	ck_assert_uint_eq(pb_config_image_size(&c), 2048ULL * 2048 * 4);
	ck_assert_str_eq(pb_backpressure_name(c.backpressure), "drop");
	ck_assert_str_eq(pb_detector_name(c.detector), "network");

	/* a partial file overrides only what it names */
	pb_test_write_file(path, "# comment\nlanes = 2;\n");
	ck_assert_int_eq(pb_config_load(&c, path, err, sizeof(err)), 0);
	ck_assert_uint_eq(c.lanes, 2);
	ck_assert_str_eq(c.device, "/dev/pgpdma3");
}
END_TEST

/* Load @text, expect -EINVAL and exactly "PATH:@line: @msg". */
static void expect_error(const char *text, int line, const char *msg)
{
	struct pb_config c, before;
	char err[512], want[1024];

	pb_test_write_file(path, text);
	pb_config_defaults(&c);
	before = c;
	ck_assert_int_eq(pb_config_load(&c, path, err, sizeof(err)), -EINVAL);
	snprintf(want, sizeof(want), "%s:%d: %s", path, line, msg);
	ck_assert_str_eq(err, want);
	ck_assert_msg(pb_config_equal(&c, &before), "config changed by a failed load");
}

START_TEST(unknown_key)
{
	expect_error("lanes = 2;\nproc_hz = 10;\nbogus_key = 1;\n", 3,
		     "unknown key 'bogus_key'");
	expect_error("pebblebufcount = 8;\n", 1, "unknown key 'pebblebufcount'");
	expect_error("lanes = 2;\n\nextra : { a = 1; };\n", 3, "unknown key 'extra'");
}
END_TEST

START_TEST(wrong_type)
{
	expect_error("device = \"/dev/x\";\nproc_hz = \"fast\";\n", 2,
		     "'proc_hz' must be an integer, not a string");
	expect_error("device = 5;\n", 1, "'device' must be a string, not an integer");
	expect_error("lanes = 1.5;\n", 1, "'lanes' must be an integer, not a float");
	expect_error("arch_hz = true;\n", 1, "'arch_hz' must be an integer, not a boolean");
	expect_error("roi = 5;\n", 1, "'roi' must be a list of groups { x; y; w; h; }, not an integer");
	expect_error("roi = ( 1 );\n", 1, "'roi' entry 0 must be a group { x; y; w; h; }, not an integer");
}
END_TEST

START_TEST(bad_values)
{
	expect_error("metrics_port = 70000;\n", 1,
		     "'metrics_port' = 70000 is out of range [0, 65535]");
	expect_error("\nlanes = 0;\n", 2, "'lanes' = 0 is out of range [1, 8]");
	expect_error("proc_hz = -1;\n", 1, "'proc_hz' = -1 is out of range [0, 10000000]");
	expect_error("backpressure = \"maybe\";\n", 1,
		     "'backpressure' must be \"lossless\" or \"drop\", not \"maybe\"");
	expect_error("detector = \"pva\";\n", 1,
		     "'detector' must be \"link\" or \"network\", not \"pva\"");
	expect_error("image_dtype = \"uint12\";\n", 1,
		     "'image_dtype' must be one of uint8, uint16, uint32, int16, int32, float32, float64, int8, uint64, int64, float16, not \"uint12\"");
	expect_error("device = \"\";\n", 1, "'device' must not be empty");
	expect_error("roi = ( { x = 1; y = 2; w = 3; h = 4; z = 5; } );\n", 1,
		     "unknown key 'roi.[0].z' (expected x, y, w, h)");
	expect_error("roi = (\n  { x = 1; y = 2; w = 3; h = 4; },\n  { x = 1; y = 2; w = 3; }\n);\n", 3,
		     "'roi' entry 1 has no 'h'");
	expect_error("roi = ( { x = 1; y = 2; w = 0; h = 4; } );\n", 1,
		     "'roi.[0].w' = 0 is out of range [1, 1048576]");
	expect_error("image_width = 100;\nimage_height = 100;\nroi = (\n { x = 90; y = 0; w = 20; h = 4; } );\n",
		     4, "roi entry 0 (x=90 y=0 w=20 h=4) is outside the 100x100 image");
}
END_TEST

START_TEST(syntax_error)
{
	struct pb_config c;
	char err[512], want[400];

	pb_test_write_file(path, "lanes = 2;\nproc_hz = ;\n");
	pb_config_defaults(&c);
	ck_assert_int_eq(pb_config_load(&c, path, err, sizeof(err)), -EINVAL);
	snprintf(want, sizeof(want), "%s:2: ", path);
	ck_assert_msg(strncmp(err, want, strlen(want)) == 0, "got '%s'", err);
	ck_assert_ptr_nonnull(strstr(err, "syntax error"));
}
END_TEST

START_TEST(missing_file)
{
	struct pb_config c;
	char err[512], want[400], p[300];

	snprintf(p, sizeof(p), "%s/nope.conf", dir);
	pb_config_defaults(&c);
	ck_assert_int_eq(pb_config_load(&c, p, err, sizeof(err)), -ENOENT);
	snprintf(want, sizeof(want), "%s: No such file or directory", p);
	ck_assert_str_eq(err, want);
	ck_assert_int_eq(pb_config_load(NULL, p, NULL, 0), -EINVAL);
}
END_TEST

static Suite *suite(void)
{
	Suite *s = suite_create("config");
	TCase *tc = tcase_create("config");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, shipped_file_equals_defaults);
	tcase_add_test(tc, every_key);
	tcase_add_test(tc, unknown_key);
	tcase_add_test(tc, wrong_type);
	tcase_add_test(tc, bad_values);
	tcase_add_test(tc, syntax_error);
	tcase_add_test(tc, missing_file);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return pgp_check_run(suite());
}
