// SPDX-License-Identifier: GPL-2.0
/*
 * SPSC ring: creation errors, full/empty, peek, wrap-around, batches
 * across the wrap, and a two-thread run that checks every descriptor
 * arrives once and in order (an outcome, not a timing).
 */
#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <string.h>
#include "spsc_ring.h"
#include "check_main.h"

struct desc {
	uint64_t seq;
	uint32_t index;
	uint32_t size;
};

START_TEST(create_errors)
{
	struct pb_ring *r = NULL;

	ck_assert_int_eq(pb_ring_create(&r, 0, 8), -EINVAL);
	ck_assert_int_eq(pb_ring_create(&r, 3, 8), -EINVAL);
	ck_assert_int_eq(pb_ring_create(&r, 100, 8), -EINVAL);
	ck_assert_int_eq(pb_ring_create(&r, 8, 0), -EINVAL);
	ck_assert_int_eq(pb_ring_create(NULL, 8, 8), -EINVAL);
	ck_assert_int_eq(pb_ring_create(&r, (size_t)1 << 62, 16), -EOVERFLOW);
	ck_assert_int_eq(pb_ring_create(&r, 1, 8), 0);
	ck_assert_uint_eq(pb_ring_capacity(r), 1);
	pb_ring_destroy(r);
	pb_ring_destroy(NULL);
}
END_TEST

START_TEST(full_and_empty)
{
	struct pb_ring *r;
	struct desc d = { 0 }, o;

	ck_assert_int_eq(pb_ring_create(&r, 4, sizeof(struct desc)), 0);
	ck_assert_uint_eq(pb_ring_elem_size(r), sizeof(struct desc));
	ck_assert_uint_eq(pb_ring_size(r), 0);
	ck_assert_int_eq(pb_ring_pop(r, &o), -EAGAIN);
	ck_assert_int_eq(pb_ring_peek(r, &o), -EAGAIN);
	for (int i = 0; i < 4; i++) {
		d.seq = (uint64_t)i;
		ck_assert_int_eq(pb_ring_push(r, &d), 0);
	}
	ck_assert_uint_eq(pb_ring_size(r), 4);
	d.seq = 99;
	ck_assert_int_eq(pb_ring_push(r, &d), -EAGAIN);	/* full: all 4 slots usable */
	ck_assert_int_eq(pb_ring_peek(r, &o), 0);
	ck_assert_uint_eq(o.seq, 0);
	ck_assert_uint_eq(pb_ring_size(r), 4);			/* peek leaves it */
	ck_assert_int_eq(pb_ring_pop(r, &o), 0);
	ck_assert_uint_eq(o.seq, 0);
	ck_assert_int_eq(pb_ring_push(r, &d), 0);		/* room again */
	for (uint64_t want = 1; want <= 3; want++) {
		ck_assert_int_eq(pb_ring_pop(r, &o), 0);
		ck_assert_uint_eq(o.seq, want);
	}
	ck_assert_int_eq(pb_ring_pop(r, &o), 0);
	ck_assert_uint_eq(o.seq, 99);
	ck_assert_int_eq(pb_ring_pop(r, &o), -EAGAIN);
	ck_assert_uint_eq(pb_ring_size(r), 0);
	pb_ring_destroy(r);
}
END_TEST

START_TEST(wrap_around)
{
	struct pb_ring *r;
	uint64_t next_in = 0, next_out = 0, v;

	ck_assert_int_eq(pb_ring_create(&r, 8, sizeof(uint64_t)), 0);
	for (int round = 0; round < 1000; round++) {
		int n = 1 + round % 8;

		for (int i = 0; i < n; i++) {
			ck_assert_int_eq(pb_ring_push(r, &next_in), 0);
			next_in++;
		}
		for (int i = 0; i < n; i++) {
			ck_assert_int_eq(pb_ring_pop(r, &v), 0);
			ck_assert_uint_eq(v, next_out);
			next_out++;
		}
	}
	pb_ring_destroy(r);
}
END_TEST

START_TEST(batches)
{
	struct pb_ring *r;
	uint64_t in[16], out[16];

	for (int i = 0; i < 16; i++)
		in[i] = 100 + (uint64_t)i;
	ck_assert_int_eq(pb_ring_create(&r, 8, sizeof(uint64_t)), 0);
	ck_assert_uint_eq(pb_ring_push_batch(r, in, 5), 5);
	ck_assert_uint_eq(pb_ring_pop_batch(r, out, 3), 3);	/* head at 3 */
	ck_assert_uint_eq(out[0], 100);
	ck_assert_uint_eq(out[2], 102);
	/* 3 free at the end of the array + 3 at the start: wraps */
	ck_assert_uint_eq(pb_ring_push_batch(r, in + 5, 16 - 5), 6);
	ck_assert_uint_eq(pb_ring_size(r), 8);
	ck_assert_uint_eq(pb_ring_push_batch(r, in, 1), 0);	/* full */
	memset(out, 0, sizeof(out));
	ck_assert_uint_eq(pb_ring_pop_batch(r, out, 16), 8);
	for (int i = 0; i < 8; i++)
		ck_assert_uint_eq(out[i], 103 + (uint64_t)i);
	ck_assert_uint_eq(pb_ring_pop_batch(r, out, 4), 0);	/* empty */
	ck_assert_uint_eq(pb_ring_push_batch(r, in, 0), 0);
	pb_ring_destroy(r);
}
END_TEST

#define N_ITEMS 2000000ULL

static void *producer(void *arg)
{
	struct pb_ring *r = arg;
	struct desc batch[7];
	uint64_t seq = 0;

	while (seq < N_ITEMS) {
		if (seq % 3 == 0) {
			struct desc d = { seq, (uint32_t)seq * 7, (uint32_t)(seq >> 3) };

			if (pb_ring_push(r, &d) == 0)
				seq++;
		} else {
			size_t n = 0, k;

			while (n < 7 && seq + n < N_ITEMS) {
				batch[n] = (struct desc){ seq + n, (uint32_t)(seq + n) * 7,
							  (uint32_t)((seq + n) >> 3) };
				n++;
			}
			k = pb_ring_push_batch(r, batch, n);
			seq += k;
		}
	}
	return NULL;
}

START_TEST(two_threads_in_order)
{
	struct pb_ring *r;
	pthread_t t;
	struct desc batch[5];
	uint64_t want = 0;
	int bad = 0;

	ck_assert_int_eq(pb_ring_create(&r, 64, sizeof(struct desc)), 0);
	ck_assert_int_eq(pthread_create(&t, NULL, producer, r), 0);
	while (want < N_ITEMS) {
		size_t n = pb_ring_pop_batch(r, batch, want % 2 ? 5 : 1);

		for (size_t i = 0; i < n; i++, want++)
			if (batch[i].seq != want || batch[i].index != (uint32_t)want * 7 ||
			    batch[i].size != (uint32_t)(want >> 3))
				bad++;
	}
	ck_assert_int_eq(pthread_join(t, NULL), 0);
	ck_assert_int_eq(bad, 0);
	ck_assert_uint_eq(want, N_ITEMS);
	ck_assert_uint_eq(pb_ring_size(r), 0);
	pb_ring_destroy(r);
}
END_TEST

static Suite *suite(void)
{
	Suite *s = suite_create("spsc_ring");
	TCase *tc = tcase_create("ring");

	tcase_add_test(tc, create_errors);
	tcase_add_test(tc, full_and_empty);
	tcase_add_test(tc, wrap_around);
	tcase_add_test(tc, batches);
	tcase_add_test(tc, two_threads_in_order);
	tcase_set_timeout(tc, 120);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return pgp_check_run(suite());
}
