// SPDX-License-Identifier: GPL-2.0
/*
 * Timing header: parsing from unaligned bytes, transition names, EPICS
 * time, the gap detector (24-bit wrap, repeats, pulse-ID jumps) and the
 * generator payload check.
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <linux/pgpdma.h>
#include "timing.h"
#include "libpgpdma.h"
#include "check_main.h"

START_TEST(parse_unaligned_le)
{
	/* Hand-built little-endian bytes, one byte off alignment. */
	unsigned char raw[1 + 32] = { 0 };
	unsigned char *p = raw + 1;
	struct pb_timing t;
	uint64_t w = 0x00123456789abcdeULL | (4ULL << 56) | (2ULL << 60) | (1ULL << 63);

	for (int i = 0; i < 8; i++)
		p[i] = (unsigned char)(w >> (8 * i));
	p[8] = 0x15; p[9] = 0xcd; p[10] = 0x5b; p[11] = 0x07;	/* ns 123456789 */
	p[12] = 0x00; p[13] = 0x00; p[14] = 0x00; p[15] = 0x40;	/* s 0x40000000 */
	p[16] = 0x05; p[17] = 0x00; p[18] = 0x01; p[19] = 0x00;	/* env 0x10005 */
	p[20] = 0xff; p[21] = 0xff; p[22] = 0xff; p[23] = 0xab;	/* evt 0xffffff + junk */
	p[24] = 1; p[28] = 2;
	memset(&t, 0, sizeof(t));	/* padding, for the memcmp below */
	ck_assert_int_eq(pb_timing_parse(p, 32, &t), 0);
	ck_assert_uint_eq(t.pulse_id, 0x00123456789abcdeULL);
	ck_assert_uint_eq(t.transition, PGPDMA_TR_BEGIN_RUN);
	ck_assert_uint_eq(t.type, 2);
	ck_assert_int_eq(t.eol, 0);
	ck_assert_int_eq(t.error, 1);
	ck_assert_uint_eq(t.nanoseconds, 123456789);
	ck_assert_uint_eq(t.seconds, 0x40000000);
	ck_assert_uint_eq(t.env, 0x10005);
	ck_assert_uint_eq(t.readout_groups, 0x5);
	ck_assert_uint_eq(t.evt_counter, 0xffffff);
	ck_assert_uint_eq(t.opaque[0], 1);
	ck_assert_uint_eq(t.opaque[1], 2);

	/* round trip through the encoder */
	unsigned char q[33];
	struct pb_timing t2;

	ck_assert_int_eq(pb_timing_encode(&t, q + 1, 32), 0);
	memset(&t2, 0, sizeof(t2));
	ck_assert_int_eq(pb_timing_parse(q + 1, 32, &t2), 0);
	ck_assert_mem_eq(&t, &t2, sizeof(t));

	ck_assert_int_eq(pb_timing_parse(p, 31, &t), -EMSGSIZE);
	ck_assert_int_eq(pb_timing_parse(NULL, 32, &t), -EINVAL);
	ck_assert_int_eq(pb_timing_encode(&t, q, 8), -EMSGSIZE);
}
END_TEST

START_TEST(transition_names)
{
	ck_assert_str_eq(pgpdma_transition_name(PGPDMA_TR_CLEAR_READOUT), "ClearReadout");
	ck_assert_str_eq(pgpdma_transition_name(PGPDMA_TR_CONFIGURE), "Configure");
	ck_assert_str_eq(pgpdma_transition_name(PGPDMA_TR_BEGIN_RUN), "BeginRun");
	ck_assert_str_eq(pgpdma_transition_name(PGPDMA_TR_END_RUN), "EndRun");
	ck_assert_str_eq(pgpdma_transition_name(PGPDMA_TR_SLOW_UPDATE), "SlowUpdate");
	ck_assert_str_eq(pgpdma_transition_name(PGPDMA_TR_L1ACCEPT), "L1Accept");
	ck_assert_str_eq(pgpdma_transition_name(11), "Unknown");
	ck_assert_str_eq(pgpdma_transition_name(15), "Unknown");
	ck_assert_str_eq(pgpdma_transition_name(1000), "Unknown");
	ck_assert_int_eq(pgpdma_transition_from_name("enable"), PGPDMA_TR_ENABLE);
	ck_assert_int_eq(pgpdma_transition_from_name("Disable"), PGPDMA_TR_DISABLE);
	ck_assert_int_eq(pgpdma_transition_from_name("Bogus"), -EINVAL);
	ck_assert_int_eq(pgpdma_transition_from_name(NULL), -EINVAL);
}
END_TEST

START_TEST(epics_time)
{
	struct timespec ts = pb_epics_to_unix(0, 5);

	ck_assert_int_eq(ts.tv_sec, 631152000);	/* 1990-01-01T00:00:00Z */
	ck_assert_int_eq(ts.tv_nsec, 5);
	ts = pb_epics_to_unix(1100000000U, 999999999U);
	ck_assert_int_eq(ts.tv_sec, 1731152000);
	ck_assert_int_eq(ts.tv_nsec, 999999999);
	ts = pb_epics_to_unix(UINT32_MAX, 0);	/* no 32-bit overflow */
	ck_assert_int_eq(ts.tv_sec, (time_t)UINT32_MAX + 631152000);
}
END_TEST

static struct pb_timing th(uint64_t pulse, uint32_t evt)
{
	struct pb_timing t = { .pulse_id = pulse, .evt_counter = evt,
			       .transition = PGPDMA_TR_L1ACCEPT };
	return t;
}

START_TEST(gaps_and_wrap)
{
	struct pb_gap_detector g;
	struct pb_timing t;

	pb_gap_init(&g);
	t = th(1000, 0xfffffd);
	ck_assert_uint_eq(pb_gap_update(&g, &t), 0);	/* first frame */
	t = th(1001, 0xfffffe);
	ck_assert_uint_eq(pb_gap_update(&g, &t), 0);
	t = th(1002, 0xffffff);
	ck_assert_uint_eq(pb_gap_update(&g, &t), 0);
	t = th(1003, 0x000000);				/* clean 24-bit wrap */
	ck_assert_uint_eq(pb_gap_update(&g, &t), 0);
	ck_assert_uint_eq(g.evt_jumps, 0);
	t = th(1010, 0x000004);				/* 3 events lost */
	ck_assert_uint_eq(pb_gap_update(&g, &t), 3);
	ck_assert_uint_eq(g.evt_jumps, 1);
	ck_assert_uint_eq(g.evt_missing, 3);
	ck_assert_uint_eq(g.pulse_jumps, 0);		/* forward pulses: no jump */

	/* a jump across the wrap: 0xfffffe -> 0x000001 misses 2 */
	pb_gap_init(&g);
	t = th(1, 0xfffffe);
	pb_gap_update(&g, &t);
	t = th(2, 0x000001);
	ck_assert_uint_eq(pb_gap_update(&g, &t), 2);
	ck_assert_uint_eq(g.evt_missing, 2);
	ck_assert_uint_eq(g.evt_jumps, 1);

	/* repeat and backwards: counted, nothing "missing" for a repeat */
	t = th(2, 0x000001);
	ck_assert_uint_eq(pb_gap_update(&g, &t), 0);
	ck_assert_uint_eq(g.evt_repeats, 1);
	ck_assert_uint_eq(g.evt_jumps, 2);
	ck_assert_uint_eq(g.pulse_jumps, 1);
	ck_assert_uint_eq(g.pulse_backwards, 1);
	t = th(1, 0x000002);				/* pulse goes back */
	pb_gap_update(&g, &t);
	ck_assert_uint_eq(g.pulse_backwards, 2);
	/* backwards event counter = a huge forward jump mod 2^24 */
	t = th(3, 0x000000);
	ck_assert_uint_eq(pb_gap_update(&g, &t), 0xffffff - 2);
	ck_assert_uint_eq(g.frames, 5);
}
END_TEST

START_TEST(pulse_step_limit)
{
	struct pb_gap_detector g;
	struct pb_timing t;

	pb_gap_init(&g);
	g.max_pulse_step = 10;
	t = th(100, 1);
	pb_gap_update(&g, &t);
	t = th(110, 2);		/* step 10: fine */
	pb_gap_update(&g, &t);
	ck_assert_uint_eq(g.pulse_jumps, 0);
	t = th(121, 3);		/* step 11: jump */
	pb_gap_update(&g, &t);
	ck_assert_uint_eq(g.pulse_jumps, 1);
	ck_assert_uint_eq(g.pulse_backwards, 0);
	ck_assert_uint_eq(g.evt_jumps, 0);
}
END_TEST

static unsigned char *gen_frame(uint64_t pulse, size_t len)
{
	unsigned char *f = malloc(len);
	struct pb_timing t = th(pulse, 7);

	ck_assert_ptr_nonnull(f);
	ck_assert_int_eq(pb_timing_encode(&t, f, len), 0);
	pb_payload_fill(pulse, f + 32, len - 32);
	return f;
}

START_TEST(payload_verify)
{
	static const size_t lens[] = { 32, 33, 35, 36, 37, 4096, 4099 };

	for (size_t k = 0; k < sizeof(lens) / sizeof(lens[0]); k++) {
		unsigned char *f = gen_frame(0x00abcdef01234567ULL, lens[k]);

		ck_assert_int_eq(pb_payload_verify(f, lens[k]), -1);
		if (lens[k] > 32) {
			/* corrupt the last byte: that offset is reported */
			f[lens[k] - 1] ^= 0x40;
			ck_assert_int_eq(pb_payload_verify(f, lens[k]), (ssize_t)lens[k] - 1);
		}
		free(f);
	}
	/* first mismatch wins, byte-exact inside a word */
	unsigned char *f = gen_frame(42, 128);
	uint32_t w0 = pgpdma_payload_word(42, 0);

	ck_assert_uint_eq(f[32], (unsigned char)w0);		/* little-endian */
	ck_assert_uint_eq(f[35], (unsigned char)(w0 >> 24));
	f[32 + 4 * 5 + 2] ^= 1;
	f[100] ^= 1;
	ck_assert_int_eq(pb_payload_verify(f, 128), 32 + 4 * 5 + 2);
	/* a frame whose header says another pulse ID does not verify */
	free(f);
	f = gen_frame(42, 64);
	f[0] ^= 1;				/* pulse 43 now */
	ck_assert_int_ge(pb_payload_verify(f, 64), 32);
	ck_assert_int_eq(pb_payload_verify(f, 31), -EMSGSIZE);
	ck_assert_int_eq(pb_payload_verify(NULL, 64), -EINVAL);
	free(f);
}
END_TEST

/*
 * PATTERN frames (opaque[0] = 1, opaque[1] = DMA buffer size B) carry at
 * buffer offset o the word pgpdma_payload_word(0, o / 4), whatever the pulse.
 */
START_TEST(payload_verify_pattern)
{
	const size_t len = 203;			/* 3 buffers of 64 B + 11 B */
	unsigned char *f = gen_frame(77, len);

	for (size_t o = 32; o < len; o++) {
		uint32_t w = pgpdma_payload_word(0, (uint32_t)(o % 64) / 4);

		f[o] = (unsigned char)(w >> (8 * (o % 4)));
	}
	ck_assert_int_ge(pb_payload_verify(f, len), 32);	/* read as HASH */
	f[24] = PGPDMA_TH_PAYLOAD_PATTERN;
	f[28] = 64;
	ck_assert_int_eq(pb_payload_verify(f, len), -1);
	f[202] ^= 0x80;
	ck_assert_int_eq(pb_payload_verify(f, len), 202);
	f[202] ^= 0x80;
	f[70] ^= 1;				/* second buffer, offset 6 */
	ck_assert_int_eq(pb_payload_verify(f, len), 70);
	f[70] ^= 1;
	f[28] = 128;				/* another buffer size: differs */
	ck_assert_int_ge(pb_payload_verify(f, len), 32);
	f[28] = 66;				/* not a usable size: HASH rules */
	ck_assert_int_ge(pb_payload_verify(f, len), 32);
	f[28] = 64;
	f[24] = 2;				/* unknown kind: HASH rules */
	ck_assert_int_ge(pb_payload_verify(f, len), 32);
	free(f);
}
END_TEST

static Suite *suite(void)
{
	Suite *s = suite_create("timing");
	TCase *tc = tcase_create("timing");

	tcase_add_test(tc, parse_unaligned_le);
	tcase_add_test(tc, transition_names);
	tcase_add_test(tc, epics_time);
	tcase_add_test(tc, gaps_and_wrap);
	tcase_add_test(tc, pulse_step_limit);
	tcase_add_test(tc, payload_verify);
	tcase_add_test(tc, payload_verify_pattern);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return pgp_check_run(suite());
}
