// SPDX-License-Identifier: GPL-2.0
/* Timing header helpers; see timing.h. */
#include <errno.h>
#include <string.h>
#include <strings.h>
#include <linux/pgpdma.h>
#include "timing.h"

static uint32_t ld32(const unsigned char *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
	       (uint32_t)p[3] << 24;
}

static uint64_t ld64(const unsigned char *p)
{
	return (uint64_t)ld32(p) | (uint64_t)ld32(p + 4) << 32;
}

static void st32(unsigned char *p, uint32_t v)
{
	p[0] = (unsigned char)v;
	p[1] = (unsigned char)(v >> 8);
	p[2] = (unsigned char)(v >> 16);
	p[3] = (unsigned char)(v >> 24);
}

static void st64(unsigned char *p, uint64_t v)
{
	st32(p, (uint32_t)v);
	st32(p + 4, (uint32_t)(v >> 32));
}

int pb_timing_parse(const void *buf, size_t len, struct pb_timing *t)
{
	const unsigned char *p = buf;
	uint64_t w;

	if (!buf || !t)
		return -EINVAL;
	if (len < PGPDMA_TH_SIZE)
		return -EMSGSIZE;
	w = ld64(p);
	t->pulse_id = w & PGPDMA_TH_PULSE_ID_MASK;
	t->transition = (unsigned int)(w >> PGPDMA_TH_TRANSITION_SHIFT) & PGPDMA_TH_TRANSITION_MASK;
	t->type = (unsigned int)(w >> PGPDMA_TH_TYPE_SHIFT) & PGPDMA_TH_TYPE_MASK;
	t->eol = !!(w & PGPDMA_TH_EOL);
	t->error = !!(w & PGPDMA_TH_ERROR);
	t->nanoseconds = ld32(p + 8);
	t->seconds = ld32(p + 12);
	t->env = ld32(p + 16);
	t->readout_groups = t->env & PGPDMA_TH_READOUT_GROUP_MASK;
	t->evt_counter = ld32(p + 20) & PGPDMA_TH_EVT_COUNTER_MASK;
	t->opaque[0] = ld32(p + 24);
	t->opaque[1] = ld32(p + 28);
	return 0;
}

int pb_timing_encode(const struct pb_timing *t, void *buf, size_t len)
{
	unsigned char *p = buf;
	uint64_t w;

	if (!t || !buf)
		return -EINVAL;
	if (len < PGPDMA_TH_SIZE)
		return -EMSGSIZE;
	w = (t->pulse_id & PGPDMA_TH_PULSE_ID_MASK) |
	    (uint64_t)(t->transition & PGPDMA_TH_TRANSITION_MASK) << PGPDMA_TH_TRANSITION_SHIFT |
	    (uint64_t)(t->type & PGPDMA_TH_TYPE_MASK) << PGPDMA_TH_TYPE_SHIFT |
	    (t->eol ? PGPDMA_TH_EOL : 0) | (t->error ? PGPDMA_TH_ERROR : 0);
	st64(p, w);
	st32(p + 8, t->nanoseconds);
	st32(p + 12, t->seconds);
	st32(p + 16, t->env);
	st32(p + 20, t->evt_counter & PGPDMA_TH_EVT_COUNTER_MASK);
	st32(p + 24, t->opaque[0]);
	st32(p + 28, t->opaque[1]);
	return 0;
}

struct timespec pb_epics_to_unix(uint32_t sec, uint32_t nsec)
{
	struct timespec ts;

	ts.tv_sec = (time_t)sec + (time_t)PGPDMA_EPICS_EPOCH_OFFSET;
	ts.tv_nsec = (long)nsec;
	return ts;
}

void pb_gap_init(struct pb_gap_detector *g)
{
	memset(g, 0, sizeof(*g));
}

uint32_t pb_gap_update(struct pb_gap_detector *g, const struct pb_timing *t)
{
	uint32_t evt = t->evt_counter & PGPDMA_TH_EVT_COUNTER_MASK;
	uint32_t missing = 0;

	g->frames++;
	if (g->primed) {
		uint32_t delta = (evt - g->last_evt) & PGPDMA_TH_EVT_COUNTER_MASK;

		if (delta == 0) {
			g->evt_jumps++;
			g->evt_repeats++;
		} else if (delta != 1) {
			g->evt_jumps++;
			missing = delta - 1;
			g->evt_missing += missing;
		}
		if (t->pulse_id <= g->last_pulse) {
			g->pulse_jumps++;
			g->pulse_backwards++;
		} else if (g->max_pulse_step &&
			   t->pulse_id - g->last_pulse > g->max_pulse_step) {
			g->pulse_jumps++;
		}
	}
	g->primed = 1;
	g->last_evt = evt;
	g->last_pulse = t->pulse_id;
	return missing;
}

ssize_t pb_payload_verify(const void *frame, size_t len)
{
	const unsigned char *p = frame;
	struct pgpdma_timing_header th;
	size_t n, i;

	if (!frame)
		return -EINVAL;
	if (len < PGPDMA_TH_SIZE)
		return -EMSGSIZE;
	memset(&th, 0, sizeof(th));
	th.pulse_id_ctl = ld64(p);
	th.opaque[0] = ld32(p + 24);
	th.opaque[1] = ld32(p + 28);
	p += PGPDMA_TH_SIZE;
	n = len - PGPDMA_TH_SIZE;
	for (i = 0; i < n; i += 4) {
		uint32_t want = pgpdma_gen_payload_word(&th, (uint32_t)(i / 4));

		if (i + 4 <= n && ld32(p + i) == want)
			continue;
		for (unsigned int b = 0; b < 4 && i + b < n; b++)
			if (p[i + b] != (unsigned char)(want >> (8 * b)))
				return (ssize_t)(PGPDMA_TH_SIZE + i + b);
	}
	return -1;
}

void pb_payload_fill(uint64_t pulse_id, void *payload, size_t len)
{
	unsigned char *p = payload;
	size_t i;

	for (i = 0; i < len; i += 4) {
		uint32_t w = pgpdma_payload_word(pulse_id, (uint32_t)(i / 4));

		for (unsigned int b = 0; b < 4 && i + b < len; b++)
			p[i + b] = (unsigned char)(w >> (8 * b));
	}
}
