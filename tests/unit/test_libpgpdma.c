// SPDX-License-Identifier: GPL-2.0
/*
 * libpgpdma without a device: the failure returns a tool sees when the
 * driver is missing or the file is not a pgpdma device, and the pure
 * helpers. The calls against the real driver run in the VM selftests.
 */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include "libpgpdma.h"
#include "check_main.h"

START_TEST(open_missing_device_is_enoent)
{
	struct pgpdma_dev d;

	ck_assert_int_eq(pgpdma_open(&d, "/nonexistent/pgpdma0", O_RDWR), -ENOENT);
	ck_assert_int_eq(d.fd, -1);
}
END_TEST

START_TEST(open_other_device_is_eproto)
{
	struct pgpdma_dev d;

	/* /dev/null answers every ioctl with ENOTTY: not our driver. */
	ck_assert_int_eq(pgpdma_open(&d, "/dev/null", O_RDWR), -EPROTO);
	ck_assert_int_eq(d.fd, -1);
}
END_TEST

START_TEST(unmapped_buffers_are_null)
{
	struct pgpdma_dev d;

	memset(&d, 0, sizeof(d));
	d.fd = -1;
	d.info.rx_count = 4;
	d.info.tx_count = 2;
	d.info.buf_size = 4096;
	d.info.stride = 4096;
	ck_assert_ptr_null(pgpdma_rx_buf(&d, 0));
	ck_assert_ptr_null(pgpdma_tx_buf(&d, 0));
	ck_assert_int_eq(pgpdma_send(&d, "x", 1, 0), -EINVAL);
	pgpdma_close(&d);
}
END_TEST

START_TEST(buffer_addresses_follow_the_reported_layout)
{
	static unsigned char pool[6 * 8192];
	struct pgpdma_dev d;

	memset(&d, 0, sizeof(d));
	d.fd = -1;
	d.map = pool;
	d.info.rx_count = 4;
	d.info.tx_count = 2;
	d.info.stride = 8192;
	d.info.tx_offset = 4 * 8192;
	ck_assert_ptr_eq(pgpdma_rx_buf(&d, 3), pool + 3 * 8192);
	ck_assert_ptr_null(pgpdma_rx_buf(&d, 4));
	ck_assert_ptr_eq(pgpdma_tx_buf(&d, 1), pool + 5 * 8192);
	ck_assert_ptr_null(pgpdma_tx_buf(&d, 2));
}
END_TEST

START_TEST(dest_claim_out_of_range)
{
	struct pgpdma_dev d = { .fd = -1 };

	ck_assert_int_eq(pgpdma_dest_claim(&d, PGPDMA_MAX_DEST), -EINVAL);
}
END_TEST

START_TEST(names)
{
	ck_assert_str_eq(pgpdma_transition_name(PGPDMA_TR_CONFIGURE), "Configure");
	ck_assert_str_eq(pgpdma_transition_name(PGPDMA_TR_L1ACCEPT), "L1Accept");
	ck_assert_str_eq(pgpdma_transition_name(11), "Unknown");
	ck_assert_str_eq(pgpdma_transition_name(99), "Unknown");
	ck_assert_str_eq(pgpdma_state_name(PGPDMA_ST_RX_USER), "rx_user");
	ck_assert_str_eq(pgpdma_state_name(PGPDMA_ST_COUNT), "unknown");
}
END_TEST

START_TEST(state_invariant)
{
	struct pgpdma_info info = { .rx_count = 10, .tx_count = 4 };
	struct pgpdma_stats st;

	memset(&st, 0, sizeof(st));
	st.state[PGPDMA_ST_RX_HW] = 7;
	st.state[PGPDMA_ST_RX_QUEUED] = 2;
	st.state[PGPDMA_ST_RX_USER] = 1;
	st.state[PGPDMA_ST_TX_FREE] = 3;
	st.state[PGPDMA_ST_TX_HW] = 1;
	ck_assert_int_eq(pgpdma_stats_consistent(&info, &st), 0);
	st.state[PGPDMA_ST_RX_USER] = 2;	/* one buffer counted twice */
	ck_assert_int_eq(pgpdma_stats_consistent(&info, &st), -EPROTO);
}
END_TEST

static Suite *lib_suite(void)
{
	Suite *s = suite_create("libpgpdma");
	TCase *tc = tcase_create("no-device");

	tcase_add_test(tc, open_missing_device_is_enoent);
	tcase_add_test(tc, open_other_device_is_eproto);
	tcase_add_test(tc, unmapped_buffers_are_null);
	tcase_add_test(tc, buffer_addresses_follow_the_reported_layout);
	tcase_add_test(tc, dest_claim_out_of_range);
	tcase_add_test(tc, names);
	tcase_add_test(tc, state_invariant);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return pgp_check_run(lib_suite());
}
