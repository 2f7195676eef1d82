// SPDX-License-Identifier: GPL-2.0
/*
 * The core does not trust what a device reports. The emulated card can
 * report any RX completion (debugfs inject_completion, see
 * driver/emu_device.c); each refused one must be counted in
 * rx_bad_completion, give back the buffers of its frame, and change
 * nothing else: no frame queued, no buffer of a file touched, the state
 * counts whole. Valid completions still make frames, chains included.
 */
#include <stdarg.h>
#include <sys/mount.h>
#include "pgpdma_util.h"

#define DEST	PGPDMA_DEST(0, 40)
#define DEST2	PGPDMA_DEST(0, 41)

FIXTURE(trust) {
	struct pg_dev d;
	char knob[128];
	bool ready;	/* the 6.1 harness runs a body after SKIP() in setup */
};

FIXTURE_SETUP(trust)
{
	if (!pg_fixture_open(&self->d, DEST))
		return;
	if (access("/sys/kernel/debug/pgpdma", F_OK))
		mount("debugfs", "/sys/kernel/debug", "debugfs", 0, NULL);
	snprintf(self->knob, sizeof(self->knob),
		 "/sys/kernel/debug/pgpdma/pgpdma%u/inject_completion",
		 self->d.info.instance);
	if (access(self->knob, W_OK))
		SKIP(return, "%s missing: not the emulated card", self->knob);
	self->ready = true;
}

FIXTURE_TEARDOWN(trust)
{
	pg_fixture_close(&self->d, 0);
}

/* Report a completion ("INDEX|next SIZE FLAGS DEST ERROR"); 0 or -errno. */
static int report(const char *knob, const char *fmt, ...)
{
	char buf[96];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	return pg_write_file(knob, buf);
}

TEST_F(trust, refused_completions_change_nothing)
{
	const struct pgpdma_info *i = &self->d.info;
	struct pgpdma_stats before, after;

	if (!self->ready)
		return;
	ASSERT_EQ(0, pg_stats(self->d.fd, &before));
	EXPECT_EQ(-EINVAL, report(self->knob, "%u 100 0 %u 0", i->rx_count, DEST));
	EXPECT_EQ(-EINVAL, report(self->knob, "99999999 100 0 %u 0", DEST));
	/* engine idle: no buffer is posted to the device */
	EXPECT_EQ(-EINVAL, report(self->knob, "0 100 0 %u 0", DEST));
	EXPECT_EQ(-EINVAL, report(self->knob, "next %u 0 %u 0", i->buf_size + 1, DEST));
	EXPECT_EQ(-EINVAL, report(self->knob, "next 100 0 %u 0", PGPDMA_MAX_DEST));
	EXPECT_EQ(-EINVAL, report(self->knob, "next 100 0x4 %u 0", DEST));
	/* a chain whose dest changes half way: both buffers go back */
	EXPECT_EQ(0, report(self->knob, "next 100 1 %u 0", DEST));
	EXPECT_EQ(-EINVAL, report(self->knob, "next 100 0 %u 0", DEST2));
	ASSERT_EQ(0, pg_stats(self->d.fd, &after));
	EXPECT_EQ(before.rx_bad_completion + 7, after.rx_bad_completion);
	EXPECT_EQ(before.rx_frames, after.rx_frames);
	EXPECT_EQ(before.rx_drop_unclaimed, after.rx_drop_unclaimed);
	EXPECT_EQ(i->rx_count, after.state[PGPDMA_ST_RX_HW]);
	EXPECT_EQ(0, pg_wait_in(self->d.fd, 50));
	check_states(self->d.fd);
}

TEST_F(trust, valid_completions_make_frames)
{
	struct pgpdma_rx_desc dd[4];
	struct pgpdma_stats before, after;
	__u32 idx[2];

	if (!self->ready)
		return;
	ASSERT_EQ(0, pg_stats(self->d.fd, &before));
	ASSERT_EQ(0, report(self->knob, "next 100 1 %u 0", DEST));
	ASSERT_EQ(0, report(self->knob, "next 52 0 %u 2", DEST));
	ASSERT_EQ(1, pg_wait_in(self->d.fd, 1000));
	ASSERT_EQ(2, pg_rx_read(self->d.fd, dd, 4, 0));
	EXPECT_EQ((__u32)(PGPDMA_RXF_SOF | PGPDMA_RXF_CONT), dd[0].flags);
	EXPECT_EQ(0u, dd[1].flags);
	EXPECT_EQ(100u, dd[0].size);
	EXPECT_EQ(52u, dd[1].size);
	EXPECT_EQ(dd[0].seq, dd[1].seq);
	EXPECT_EQ(2u, dd[0].error);	/* the error bits of the frame */
	EXPECT_EQ((__u32)DEST, dd[1].dest);

	/* the device reports a buffer the file now holds: refused, untouched */
	EXPECT_EQ(-EINVAL, report(self->knob, "%u 10 0 %u 0", dd[0].index, DEST));
	ASSERT_EQ(0, pg_stats(self->d.fd, &after));
	EXPECT_EQ(2u, after.state[PGPDMA_ST_RX_USER]);
	EXPECT_EQ(before.rx_frames + 1, after.rx_frames);
	EXPECT_EQ(before.rx_errors + 1, after.rx_errors);
	EXPECT_EQ(before.rx_bad_completion + 1, after.rx_bad_completion);
	idx[0] = dd[0].index;
	idx[1] = dd[1].index;
	EXPECT_EQ(0, pg_rx_return(self->d.fd, idx, 2));
	check_states(self->d.fd);
}

TEST_HARNESS_MAIN
