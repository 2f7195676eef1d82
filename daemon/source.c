// SPDX-License-Identifier: GPL-2.0
/* pebbled sources: shared helpers; see source.h. */
#include <errno.h>
#include "archive_format.h"
#include "source.h"

void pb_event_set_timing(struct pb_event *ev, const struct pb_timing *t)
{
	ev->flags |= PB_EV_HAS_TIMING;
	ev->transition = t->transition;
	ev->pulse_id = t->pulse_id;
	ev->ts_sec = t->seconds;
	ev->ts_nsec = t->nanoseconds;
	ev->evt_counter = t->evt_counter;
}

int pb_source_take(const struct pb_source_env *e, int tr, uint32_t *h)
{
	int counted = 0;
	/* transitions are never dropped: they wait even in drop mode */
	enum pb_backpressure bp = tr ? PB_BP_LOSSLESS : e->bp;

	if (tr && !pb_pool_count(e->pool, 1))
		tr = 0;
	for (;;) {
		int ret = pb_pool_alloc(e->pool, tr, 1, bp == PB_BP_DROP ? 0 : 200, h);

		if (!ret)
			return 1;
		if (!counted && (ret == -EAGAIN || ret == -ETIMEDOUT || ret == -EINTR)) {
			PB_METRIC_ADD(e->metrics, dma_pool_exhaust, 1);
			counted = 1;
		}
		if (bp == PB_BP_DROP && ret == -EAGAIN)
			return 0;
		if (e->stop && atomic_load(e->stop))
			return -EINTR;
		if (ret != -ETIMEDOUT && ret != -EINTR && ret != -EAGAIN)
			return ret;
	}
}
