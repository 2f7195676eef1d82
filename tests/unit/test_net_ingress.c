// SPDX-License-Identifier: GPL-2.0
/*
 * Network-ingress matcher (daemon/net_ingress.c): reassembly of
 * out-of-order fragments straight into a pebble, rejection of duplicate,
 * oversized and inconsistent fragments, and every matching outcome with
 * synthetic headers and images (matched, missing, too old, timed out,
 * truncated, overflow, timestamp window). Time is passed explicitly:
 * deterministic, no timing assertions.
 */
#include <errno.h>
#include <string.h>
#include <linux/pgpdma.h>
#include "archive_format.h"
#include "net_ingress.h"
#include "check_main.h"

#define PEB 1000
#define MS 1000000ULL

static struct pb_pool *pool;
static struct pb_ni *m;

static void setup(void)
{
	struct pb_pool_options po = { 8, PEB, 8, 4096, 0, NULL, NULL };
	struct pb_ni_options o = { NULL, 2 * MS, 100 * MS, 4, 64 };

	ck_assert_int_eq(pb_pool_create(&pool, &po), 0);
	o.pool = pool;
	ck_assert_int_eq(pb_ni_create(&m, &o), 0);
}

static void teardown(void)
{
	pb_ni_destroy(m);
	ck_assert_uint_eq(pb_pool_in_use(pool, 0), 0);
	ck_assert_uint_eq(pb_pool_in_use(pool, 1), 0);
	pb_pool_destroy(pool);
}

static uint8_t img[4096];

static void fill(uint64_t seed, size_t len)
{
	for (size_t i = 0; i < len; i++)
		img[i] = (uint8_t)(seed * 31 + i * 7 + (i >> 8));
}

static struct pb_net_hdr hdr(uint64_t frame, uint64_t pulse, uint64_t t_ms, uint64_t total,
			     uint32_t count)
{
	struct pb_net_hdr h;

	memset(&h, 0, sizeof(h));
	h.magic = PB_NET_MAGIC;
	h.version = PB_NET_VERSION;
	h.header_size = PB_NET_HDR_SIZE;
	h.frame_id = frame;
	h.pulse_id = pulse;
	h.ts_sec = (uint32_t)(1000 + t_ms / 1000);
	h.ts_nsec = (uint32_t)((t_ms % 1000) * MS);
	h.total_size = total;
	h.frag_count = count;
	return h;
}

/* send fragment i of an image fragmented with stride s */
static int frag(struct pb_net_hdr h, uint32_t i, uint64_t s, uint64_t now)
{
	uint64_t off = i * s, len = h.total_size - off < s ? h.total_size - off : s;

	h.frag_index = i;
	h.frag_offset = off;
	return pb_ni_frag_copy(m, &h, img + off, len, now);
}

static void push_l1(uint64_t pulse, uint64_t t_ms, uint64_t now)
{
	struct pb_event ev;

	memset(&ev, 0, sizeof(ev));
	ev.flags = PB_EV_HAS_TIMING;
	ev.transition = PGPDMA_TR_L1ACCEPT;
	ev.pulse_id = pulse;
	ev.ts_sec = (uint32_t)(1000 + t_ms / 1000);
	ev.ts_nsec = (uint32_t)((t_ms % 1000) * MS);
	ck_assert_int_eq(pb_ni_push_header(m, &ev, now), 0);
}

static struct pb_ni_stats stats(void)
{
	struct pb_ni_stats s;

	pb_ni_get_stats(m, &s);
	return s;
}

START_TEST(reassembly_out_of_order_into_pebble)
{
	struct pb_net_hdr h = hdr(1, 100, 0, 1000, 4);
	static const uint32_t order[4] = { 3, 1, 0, 2 };
	struct pb_event ev;

	fill(1, 1000);
	push_l1(100, 0, 0);
	for (int k = 0; k < 4; k++) {
		ck_assert_int_eq(pb_ni_next_event(m, 0, &ev), 0);
		ck_assert_int_eq(frag(h, order[k], 300, 0), 1);
	}
	ck_assert_int_eq(pb_ni_next_event(m, 0, &ev), 1);
	ck_assert_uint_eq(ev.buf & PB_POOL_TR, 0);	/* the image's own pebble */
	ck_assert_uint_eq(ev.len, 1000);
	ck_assert_uint_eq(ev.damage, 0);
	ck_assert_uint_eq(ev.pulse_id, 100);
	ck_assert_int_eq(memcmp(pb_pool_addr(pool, ev.buf), img, 1000), 0);
	pb_pool_put(pool, ev.buf);
	ck_assert_uint_eq(stats().matched, 1);
	ck_assert_uint_eq(stats().images, 1);
}
END_TEST

START_TEST(image_before_header)
{
	struct pb_net_hdr h = hdr(1, 100, 0, 600, 2);
	struct pb_event ev;

	fill(2, 600);
	ck_assert_int_eq(frag(h, 1, 300, 0), 1);
	ck_assert_int_eq(frag(h, 0, 300, 0), 1);
	ck_assert_int_eq(pb_ni_pending_images(m), 1);
	push_l1(100, 0, 5 * MS);
	ck_assert_int_eq(pb_ni_next_event(m, 5 * MS, &ev), 1);
	ck_assert_uint_eq(ev.damage, 0);
	ck_assert_int_eq(memcmp(pb_pool_addr(pool, ev.buf), img, 600), 0);
	pb_pool_put(pool, ev.buf);
}
END_TEST

START_TEST(duplicate_and_bad_fragments_rejected)
{
	struct pb_net_hdr h = hdr(1, 100, 0, 1000, 4), b;
	uint8_t junk[2000];

	memset(junk, 0xee, sizeof(junk));
	fill(3, 1000);
	ck_assert_int_eq(frag(h, 0, 300, 0), 1);
	ck_assert_int_eq(frag(h, 0, 300, 0), 0);		/* duplicate */
	ck_assert_uint_eq(stats().frag_dup, 1);
	b = h;					/* payload beyond total_size */
	b.frag_index = 3;
	b.frag_offset = 900;
	ck_assert_int_eq(pb_ni_frag_copy(m, &b, junk, 200, 0), 0);
	b = h;					/* fragment larger than the stride */
	b.frag_index = 1;
	b.frag_offset = 300;
	ck_assert_int_eq(pb_ni_frag_copy(m, &b, junk, 400, 0), 0);
	b = h;					/* not on the uniform grid */
	b.frag_index = 2;
	b.frag_offset = 610;
	ck_assert_int_eq(pb_ni_frag_copy(m, &b, junk, 300, 0), 0);
	b = h;					/* index >= count */
	b.frag_index = 4;
	b.frag_offset = 1200;
	ck_assert_int_eq(pb_ni_frag_copy(m, &b, junk, 300, 0), 0);
	b = hdr(1, 100, 0, 2000, 7);		/* same frame, other geometry */
	b.frag_index = 1;
	b.frag_offset = 300;
	ck_assert_int_eq(pb_ni_frag_copy(m, &b, junk, 300, 0), 0);
	b = hdr(2, 101, 0, 1000, 1);		/* a huge datagram claim */
	ck_assert_int_eq(pb_ni_frag_copy(m, &b, junk, 1500, 0), 0);
	ck_assert_uint_eq(stats().frag_bad, 6);
	/* nothing written past the pebble data of frame 1 */
	ck_assert_int_eq(memcmp(pb_pool_addr(pool, 0), img, 300), 0);
}
END_TEST

START_TEST(header_timeout)
{
	struct pb_event ev;

	push_l1(100, 0, 0);
	ck_assert_int_eq(pb_ni_next_event(m, 99 * MS, &ev), 0);
	ck_assert_uint_eq(pb_ni_next_deadline(m), 100 * MS);
	ck_assert_int_eq(pb_ni_next_event(m, 100 * MS, &ev), 1);
	ck_assert_uint_eq(ev.damage, PB_DMG_TIMEOUT);
	ck_assert_uint_eq(ev.len, 0);
	pb_pool_put(pool, ev.buf);
	ck_assert_uint_eq(stats().timed_out, 1);
}
END_TEST

START_TEST(missing_then_match)
{
	struct pb_net_hdr h = hdr(2, 200, 10, 300, 1);
	struct pb_event ev;

	fill(4, 300);
	push_l1(100, 0, 0);
	push_l1(200, 10, 0);
	ck_assert_int_eq(pb_ni_next_event(m, 0, &ev), 0);
	ck_assert_int_eq(frag(h, 0, 300, 1 * MS), 1);	/* newer image: 100's will not come */
	ck_assert_int_eq(pb_ni_next_event(m, 1 * MS, &ev), 1);
	ck_assert_uint_eq(ev.pulse_id, 100);
	ck_assert_uint_eq(ev.damage, PB_DMG_MISSING_IMAGE);
	pb_pool_put(pool, ev.buf);
	ck_assert_int_eq(pb_ni_next_event(m, 1 * MS, &ev), 1);
	ck_assert_uint_eq(ev.pulse_id, 200);
	ck_assert_uint_eq(ev.damage, 0);
	pb_pool_put(pool, ev.buf);
	ck_assert_uint_eq(stats().missing, 1);
	ck_assert_uint_eq(stats().matched, 1);
}
END_TEST

START_TEST(too_old_dropped_and_marked)
{
	struct pb_net_hdr h = hdr(1, 100, 0, 300, 1), h2 = hdr(2, 200, 10, 300, 1);
	struct pb_event ev;

	push_l1(100, 0, 0);
	ck_assert_int_eq(pb_ni_next_event(m, 100 * MS, &ev), 1);	/* timed out */
	pb_pool_put(pool, ev.buf);
	push_l1(200, 10, 100 * MS);
	ck_assert_int_eq(frag(h, 0, 300, 101 * MS), 0);	/* its header is gone */
	ck_assert_uint_eq(stats().too_old, 1);
	ck_assert_int_eq(frag(h, 0, 300, 101 * MS), 0);	/* the rest: late, not recounted */
	ck_assert_uint_eq(stats().too_old, 1);
	ck_assert_uint_eq(stats().frag_late, 1);
	ck_assert_int_eq(frag(h2, 0, 300, 102 * MS), 1);
	ck_assert_int_eq(pb_ni_next_event(m, 102 * MS, &ev), 1);
	ck_assert_uint_eq(ev.pulse_id, 200);
	ck_assert_uint_eq(ev.damage, PB_DMG_TOO_OLD);	/* marker: an image was dropped */
	pb_pool_put(pool, ev.buf);
}
END_TEST

START_TEST(partial_image_truncated)
{
	struct pb_net_hdr h = hdr(1, 100, 0, 900, 3);
	struct pb_event ev;
	const uint8_t *p;

	fill(5, 900);
	memset(pb_pool_addr(pool, 0), 0x77, PEB);	/* stale data in the pebble */
	push_l1(100, 0, 0);
	ck_assert_int_eq(frag(h, 0, 300, 0), 1);
	ck_assert_int_eq(frag(h, 2, 300, 0), 1);
	ck_assert_int_eq(pb_ni_next_event(m, 50 * MS, &ev), 0);	/* still waiting */
	ck_assert_int_eq(pb_ni_next_event(m, 100 * MS, &ev), 1);
	ck_assert_uint_eq(ev.damage, PB_DMG_TRUNCATED);
	ck_assert_uint_eq(ev.len, 900);
	p = pb_pool_addr(pool, ev.buf);
	ck_assert_int_eq(memcmp(p, img, 300), 0);
	for (int i = 300; i < 600; i++)
		ck_assert_uint_eq(p[i], 0);			/* the hole is zeroed */
	ck_assert_int_eq(memcmp(p + 600, img + 600, 300), 0);
	pb_pool_put(pool, ev.buf);
	ck_assert_uint_eq(stats().truncated, 1);
}
END_TEST

START_TEST(oversized_image_cut)
{
	struct pb_net_hdr h = hdr(1, 100, 0, 1500, 3);
	struct pb_event ev;

	fill(6, 1500);
	push_l1(100, 0, 0);
	for (uint32_t i = 0; i < 3; i++)
		ck_assert_int_eq(frag(h, i, 500, 0), 1);
	ck_assert_int_eq(pb_ni_next_event(m, 0, &ev), 1);
	ck_assert_uint_eq(ev.damage, PB_DMG_OVERFLOW);
	ck_assert_uint_eq(ev.len, PEB);
	ck_assert_uint_eq(ev.orig_len, 1500);
	ck_assert_int_eq(memcmp(pb_pool_addr(pool, ev.buf), img, PEB), 0);
	pb_pool_put(pool, ev.buf);
	ck_assert_uint_eq(stats().overflow, 1);
}
END_TEST

START_TEST(timestamp_window_nearest)
{
	/* no pulse IDs on the images: timestamp within +-2 ms, nearest wins */
	struct pb_net_hdr a = hdr(1, 0, 101, 300, 1), b = hdr(2, 0, 104, 300, 1);
	struct pb_event ev;

	fill(7, 300);
	push_l1(500, 100, 0);
	push_l1(501, 103, 0);
	ck_assert_int_eq(frag(a, 0, 300, 0), 1);	/* 101: within both, nearer to 100 */
	ck_assert_int_eq(pb_ni_next_event(m, 0, &ev), 1);
	ck_assert_uint_eq(ev.pulse_id, 500);
	ck_assert_uint_eq(ev.damage, 0);
	pb_pool_put(pool, ev.buf);
	ck_assert_int_eq(frag(b, 0, 300, 0), 1);	/* 104: matches 103 only */
	ck_assert_int_eq(pb_ni_next_event(m, 0, &ev), 1);
	ck_assert_uint_eq(ev.pulse_id, 501);
	ck_assert_uint_eq(ev.damage, 0);
	pb_pool_put(pool, ev.buf);
	ck_assert_uint_eq(stats().matched, 2);
}
END_TEST

START_TEST(transitions_keep_order_and_bounds)
{
	struct pb_event ev, tr;
	uint32_t h;

	push_l1(100, 0, 0);
	ck_assert_int_eq(pb_pool_alloc(pool, 1, 1, 0, &h), 0);
	memset(&tr, 0, sizeof(tr));
	tr.flags = PB_EV_HAS_TIMING;
	tr.transition = PGPDMA_TR_END_RUN;
	tr.buf = h;
	tr.len = 32;
	ck_assert_int_eq(pb_ni_push_header(m, &tr, 0), 0);
	ck_assert_int_eq(pb_ni_next_event(m, 0, &ev), 0);	/* EndRun waits behind the L1 */
	ck_assert_int_eq(pb_ni_next_event(m, 100 * MS, &ev), 1);
	ck_assert_uint_eq(ev.transition, PGPDMA_TR_L1ACCEPT);
	pb_pool_put(pool, ev.buf);
	ck_assert_int_eq(pb_ni_next_event(m, 100 * MS, &ev), 1);
	ck_assert_uint_eq(ev.transition, PGPDMA_TR_END_RUN);
	ck_assert_uint_eq(ev.buf, h);
	pb_pool_put(pool, ev.buf);
	/* more images in flight than slots: the oldest is dropped, counted */
	fill(8, 300);
	for (uint64_t k = 0; k < 6; k++) {
		struct pb_net_hdr x = hdr(10 + k, 1000 + k, 0, 600, 2);

		ck_assert_int_eq(frag(x, 0, 300, 200 * MS), 1);
	}
	ck_assert_uint_eq(pb_ni_pending_images(m), 4);
	ck_assert_uint_eq(stats().unmatched, 2);
	ck_assert_int_eq(pb_ni_next_event(m, 400 * MS, &ev), 0);	/* images expire (2 x timeout) */
	ck_assert_uint_eq(pb_ni_pending_images(m), 0);
	ck_assert_uint_eq(stats().unmatched, 6);
}
END_TEST

START_TEST(image_table_full_resolves_claimed_image)
{
	/* 5 partial images claimed by their headers, 4 slots: the oldest is not
	 * dropped (its header would be archived as missing) but resolved early:
	 * truncated with the data that arrived, counted as forced */
	struct pb_event ev;
	const uint8_t *p;

	fill(9, 600);
	for (uint64_t k = 0; k < 5; k++)
		push_l1(100 + k, 10 * k, 0);
	for (uint64_t k = 0; k < 5; k++) {
		struct pb_net_hdr x = hdr(20 + k, 100 + k, 10 * k, 600, 2);

		ck_assert_int_eq(frag(x, 0, 300, 1 * MS), 1);
	}
	ck_assert_uint_eq(pb_ni_pending_images(m), 4);
	ck_assert_uint_eq(stats().unmatched, 0);
	ck_assert_uint_eq(stats().forced, 1);
	ck_assert_int_eq(pb_ni_next_event(m, 1 * MS, &ev), 1);
	ck_assert_uint_eq(ev.pulse_id, 100);
	ck_assert_uint_eq(ev.damage, PB_DMG_TRUNCATED);
	ck_assert_uint_eq(ev.len, 600);
	p = pb_pool_addr(pool, ev.buf);
	ck_assert_int_eq(memcmp(p, img, 300), 0);
	for (int i = 300; i < 600; i++)
		ck_assert_uint_eq(p[i], 0);
	pb_pool_put(pool, ev.buf);
	{
		struct pb_net_hdr x = hdr(20, 100, 0, 600, 2);	/* its last fragment: late */

		ck_assert_int_eq(frag(x, 1, 300, 2 * MS), 0);
		ck_assert_uint_eq(stats().frag_late, 1);
	}
	for (uint64_t k = 1; k < 5; k++) {			/* the others time out truncated */
		ck_assert_int_eq(pb_ni_next_event(m, 100 * MS, &ev), 1);
		ck_assert_uint_eq(ev.pulse_id, 100 + k);
		ck_assert_uint_eq(ev.damage, PB_DMG_TRUNCATED);
		pb_pool_put(pool, ev.buf);
	}
	ck_assert_uint_eq(stats().truncated, 5);
	ck_assert_uint_eq(stats().missing, 0);
}
END_TEST

START_TEST(formats)
{
	struct pb_ni_stats s;
	char buf[8192];

	memset(&s, 0, sizeof(s));
	s.matched = 7;
	s.drops_socket = 3;
	ck_assert_int_gt(pb_ni_format_summary(&s, buf, sizeof(buf)), 0);
	ck_assert_ptr_nonnull(strstr(buf, "matched=7"));
	ck_assert_ptr_nonnull(strstr(buf, "drops_socket=3"));
	ck_assert_int_gt(pb_ni_format_prometheus(&s, buf, sizeof(buf)), 0);
	ck_assert_ptr_nonnull(strstr(buf, "\npebbled_net_matched_total 7\n"));
	ck_assert_ptr_nonnull(strstr(buf, "pebbled_net_timed_out_total 0"));
	ck_assert_int_eq(pb_ni_format_prometheus(&s, buf, 10), -ENOSPC);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("net_ingress");
	TCase *tc = tcase_create("net_ingress");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, reassembly_out_of_order_into_pebble);
	tcase_add_test(tc, image_before_header);
	tcase_add_test(tc, duplicate_and_bad_fragments_rejected);
	tcase_add_test(tc, header_timeout);
	tcase_add_test(tc, missing_then_match);
	tcase_add_test(tc, too_old_dropped_and_marked);
	tcase_add_test(tc, partial_image_truncated);
	tcase_add_test(tc, oversized_image_cut);
	tcase_add_test(tc, timestamp_window_nearest);
	tcase_add_test(tc, transitions_keep_order_and_bounds);
	tcase_add_test(tc, image_table_full_resolves_claimed_image);
	tcase_add_test(tc, formats);
	suite_add_tcase(s, tc);
	return pgp_check_run(s);
}
