/* SPDX-License-Identifier: GPL-2.0 */
/*
 * pebbled event sources: the common interface of the device source
 * (source_device.h) and the .npy replay source (source_npy.h), and the
 * event descriptor that travels through the pipeline's rings.
 *
 * A source's next() puts one whole event into a pebble (or a transition
 * buffer) taken from the pool and describes it; everything after the
 * source is the same for every source.
 */
#ifndef PEBBLED_SOURCE_H
#define PEBBLED_SOURCE_H

#include <stdatomic.h>
#include <stdint.h>
#include "config.h"
#include "metrics.h"
#include "pebble_pool.h"
#include "timing.h"

/* pb_event.flags */
#define PB_EV_HAS_TIMING	(1U << 0)	/* payload starts with a timing header */
#define PB_EV_VERIFY		(1U << 1)	/* generator payload: verify it */
#define PB_EV_PROC		(1U << 2)	/* offered to processing */
#define PB_EV_ARCH		(1U << 3)	/* offered to the archiver */
#define PB_EV_RUN_BEGIN		(1U << 4)	/* first event of run @run */
#define PB_EV_RUN_END		(1U << 5)	/* last event of run @run */

/**
 * struct pb_event - one event (descriptor; the bytes are in the pool)
 * @buf:        pool handle (PB_POOL_TR bit for a transition buffer)
 * @len:        bytes of the event in the buffer
 * @orig_len:   bytes the event had (> @len when cut: PB_DMG_OVERFLOW)
 * @seq:        event number within the run (set by the pipeline)
 * @dma_seq:    driver sequence number of the frame (per dest)
 * @dest:       destination (lane/VC)
 * @damage:     PB_DMG_* bits
 * @flags:      PB_EV_*
 * @run:        run number (set by the pipeline), 0 = outside a run
 * @transition: transition id, PB_AR_TRANSITION_NONE without timing header
 * @pulse_id, @ts_sec (EPICS), @ts_nsec, @evt_counter: from the header
 * @dma_error:  PGPDMA_RXE_* bits of the frame's buffers
 */
struct pb_event {
	uint32_t buf;
	uint32_t len;
	uint64_t orig_len;
	uint64_t seq;
	uint64_t dma_seq;
	uint32_t dest;
	uint32_t damage;
	uint32_t flags;
	uint32_t run;
	uint32_t transition;
	uint32_t evt_counter;
	uint64_t pulse_id;
	uint32_t ts_sec;
	uint32_t ts_nsec;
	uint32_t dma_error;
	uint32_t reserved;
};

/**
 * struct pb_source_env - what a source gets from the pipeline
 * @pool:    where events are put
 * @metrics: dma_* counters and the drp_dma_in_use gauge
 * @bp:      when the pool is empty: lossless = wait (bounded waits,
 *           checking @stop), drop = drop the event and count it
 * @stop:    set by the pipeline to end next() early
 */
struct pb_source_env {
	struct pb_pool *pool;
	struct pb_metrics *metrics;
	enum pb_backpressure bp;
	atomic_int *stop;
};

/**
 * struct pb_source_stats - what a source counted
 * @events:        events delivered by next()
 * @dropped_pool:  events dropped because no pebble was free (drop mode)
 * @seq_gaps:      driver sequence gaps (frames lost before pebbled)
 * @seq_missing:   frames missing in those gaps
 * @dma_errors:    events with driver error bits (damaged, kept)
 * @overflows:     events larger than a pebble (cut, damaged, kept)
 * @orphans:       continuation buffers without a first buffer (dropped)
 * @drained_at_stop: events read after the stop from what the driver had
 *                 already queued (device source), delivered like the rest
 * @device_lost:   1 if the device disappeared (ENODEV)
 */
struct pb_source_stats {
	uint64_t events;
	uint64_t dropped_pool;
	uint64_t seq_gaps;
	uint64_t seq_missing;
	uint64_t dma_errors;
	uint64_t overflows;
	uint64_t orphans;
	uint64_t drained_at_stop;
	int device_lost;
};

struct pb_source;

struct pb_source_ops {
	/*
	 * next(): 1 = @ev filled (buffer allocated with one reference, the
	 * caller's),
	 * 0 = nothing now (woken, timeout: call again), -ENODATA = the source
	 * is finished (one pass done), -ENODEV = device gone, other -errno.
	 */
	int (*next)(struct pb_source *s, struct pb_event *ev);
	/* wake(): make a blocking next() return soon (any thread). */
	void (*wake)(struct pb_source *s);
	void (*get_stats)(struct pb_source *s, struct pb_source_stats *st);
	void (*close)(struct pb_source *s);
};

/**
 * struct pb_source - a source object (embedded first in each source)
 * @name:   "device" / "npy"
 * @dtype, @width, @height: image description when the source knows it
 *          (npy: from the first file), else 0
 * @max_event: largest event the source can produce (bytes), 0 = unknown
 */
struct pb_source {
	const struct pb_source_ops *ops;
	const char *name;
	struct pb_source_env env;
	uint32_t dtype, width, height;
	uint64_t max_event;
};

static inline int pb_source_next(struct pb_source *s, struct pb_event *ev)
{
	return s->ops->next(s, ev);
}

static inline void pb_source_wake(struct pb_source *s)
{
	s->ops->wake(s);
}

static inline void pb_source_get_stats(struct pb_source *s, struct pb_source_stats *st)
{
	s->ops->get_stats(s, st);
}

static inline void pb_source_close(struct pb_source *s)
{
	if (s)
		s->ops->close(s);
}

/**
 * pb_source_take() - a buffer for the next event, by the backpressure policy
 * @tr: 1 = a transition buffer (falls back to a pebble without that pool)
 * Lossless: waits (in bounded steps) until one is free; drop: does not
 * wait (transitions always wait: they are never dropped). Counts dma_pool_exhaust once per event that found the pool empty.
 * Returns 1 (got @h, one reference), 0 (drop mode, none free: drop the
 * event), -EINTR (stopped while waiting), -errno.
 */
int pb_source_take(const struct pb_source_env *e, int tr, uint32_t *h);

/* Fill the header fields of @ev from the payload's timing header. */
void pb_event_set_timing(struct pb_event *ev, const struct pb_timing *t);

#endif /* PEBBLED_SOURCE_H */
