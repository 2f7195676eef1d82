// SPDX-License-Identifier: GPL-2.0
/*
 * The uapi header is an ABI: its layouts are pinned here at compile time,
 * and its inline helpers (timing header fields, generator payload) are
 * checked against values worked out by hand from DESIGN.md section 2.
 */
#include <stddef.h>
#include <string.h>
#include <linux/pgpdma.h>
#include "check_main.h"

#define LAYOUT(type, size) _Static_assert(sizeof(struct type) == (size), #type " size")
#define AT(type, field, off) \
	_Static_assert(offsetof(struct type, field) == (off), #type "." #field " offset")

LAYOUT(pgpdma_timing_header, 32);
AT(pgpdma_timing_header, nanoseconds, 8);
AT(pgpdma_timing_header, seconds, 12);
AT(pgpdma_timing_header, env, 16);
AT(pgpdma_timing_header, evt_counter, 20);
AT(pgpdma_timing_header, opaque, 24);
LAYOUT(pgpdma_info, 88);
AT(pgpdma_info, rx_offset, 32);
AT(pgpdma_info, map_size, 48);
LAYOUT(pgpdma_rx_desc, 32);
AT(pgpdma_rx_desc, seq, 24);
LAYOUT(pgpdma_rx_read, 32);
AT(pgpdma_rx_read, filled, 12);
LAYOUT(pgpdma_index_list, 24);
LAYOUT(pgpdma_tx_acquire, 16);
LAYOUT(pgpdma_tx_desc, 32);
LAYOUT(pgpdma_dest_mask, 32);
LAYOUT(pgpdma_stats, 256);
AT(pgpdma_stats, state, 192);
AT(pgpdma_stats, state_hwm, 224);
LAYOUT(pgpdma_engine, 64);
AT(pgpdma_engine, count, 24);
AT(pgpdma_engine, running, 32);
LAYOUT(pgpdma_inject, 16);
_Static_assert(PGPDMA_ST_COUNT <= PGPDMA_STATE_SLOTS, "state slots");
_Static_assert(PGPDMA_IOC_GET_INFO == 0x8058d700, "GET_INFO number");
_Static_assert(PGPDMA_IOC_RX_READ == 0xc020d710, "RX_READ number");

START_TEST(timing_header_fields)
{
	/* pulse ID 0x123456789abcde, transition 4 (BeginRun), error bit */
	struct pgpdma_timing_header th = {
		.pulse_id_ctl = 0x00123456789abcdeULL | (4ULL << 56) | (1ULL << 63),
	};

	ck_assert_uint_eq(pgpdma_th_pulse_id(&th), 0x00123456789abcdeULL);
	ck_assert_uint_eq(pgpdma_th_transition(&th), PGPDMA_TR_BEGIN_RUN);
	ck_assert(th.pulse_id_ctl & PGPDMA_TH_ERROR);
	ck_assert(!(th.pulse_id_ctl & PGPDMA_TH_EOL));
}
END_TEST

START_TEST(transition_ids)
{
	ck_assert_int_eq(PGPDMA_TR_CONFIGURE, 2);
	ck_assert_int_eq(PGPDMA_TR_ENABLE, 8);
	ck_assert_int_eq(PGPDMA_TR_SLOW_UPDATE, 10);
	ck_assert_int_eq(PGPDMA_TR_L1ACCEPT, 12);
	ck_assert_uint_eq(PGPDMA_EPICS_EPOCH_OFFSET, 631152000u); /* 1990-01-01 */
}
END_TEST

START_TEST(payload_is_deterministic_and_varied)
{
	unsigned int i, same = 0;

	for (i = 0; i < 1024; i++) {
		ck_assert_uint_eq(pgpdma_payload_word(42, i), pgpdma_payload_word(42, i));
		if (pgpdma_payload_word(42, i) == pgpdma_payload_word(43, i))
			same++;
	}
	/* Two pulse IDs must give different payloads almost everywhere. */
	ck_assert_uint_lt(same, 4);
	ck_assert_uint_ne(pgpdma_payload_word(0, 0), pgpdma_payload_word(0, 1));
}
END_TEST

static Suite *uapi_suite(void)
{
	Suite *s = suite_create("uapi");
	TCase *tc = tcase_create("abi");

	tcase_add_test(tc, timing_header_fields);
	tcase_add_test(tc, transition_ids);
	tcase_add_test(tc, payload_is_deterministic_and_varied);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return pgp_check_run(uapi_suite());
}
