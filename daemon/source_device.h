/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Device source: events from a pgpdma device through libpgpdma.
 *
 * Opens the device O_NONBLOCK, claims its dests, maps the pool read-only
 * and bulk-reads completed RX descriptors (RX_READ, up to @batch at a
 * time). The buffers of a continuation chain (SOF ... CONT ... last) are
 * copied into one pebble (or, for a transition that fits, a transition
 * buffer); each DMA buffer is queued for return as soon as it has been
 * copied and the queue is handed back with one RX_RETURN per batch (and
 * always before the source waits). When nothing is ready it blocks in
 * poll() on the device fd and an eventfd (wake), never spinning.
 *
 * Per event it records dest, driver seq, error bits (-> PB_DMG_DMA_ERROR,
 * a cut chain also PB_DMG_TRUNCATED), size, the parsed timing header
 * (pulse ID, timestamp, transition, event counter). Driver sequence gaps
 * per dest are counted (seq_gaps/seq_missing) and flag the next event
 * PB_DMG_EVT_GAP. An event larger than a pebble is cut and flagged
 * PB_DMG_OVERFLOW; a continuation buffer without a first buffer is
 * returned and counted (orphans). A buffer with error bits stays part of
 * its event: damaged events are kept.
 *
 * Payload verification (PB_EV_VERIFY on L1Accept frames) is on while the
 * emulated engine reports generator mode (checked at open and about once
 * a second), off on hardware (-EOPNOTSUPP) and in loopback mode.
 *
 * Stopping (env.stop set): next() finishes the batch already read and the
 * chain in progress, then reads, without waiting, what the driver had
 * already completed into this file's queue when the stop was first seen
 * (bounded by the queued RX buffer count of GET_STATS at that moment, the
 * ring's rx_count if that fails; an empty read ends it), delivers those
 * events like any other (stats.drained_at_stop counts them) and returns 0.
 * Nothing delivered before the stop is left for the driver to recycle at
 * close (rx_drop_unclaimed).
 *
 * A read error ENODEV (device removed / driver unloaded) sets
 * stats.device_lost and next() returns -ENODEV; the pipeline then stops
 * cleanly.
 */
#ifndef PEBBLED_SOURCE_DEVICE_H
#define PEBBLED_SOURCE_DEVICE_H

#include <stddef.h>
#include <stdint.h>
#include <linux/pgpdma.h>
#include "source.h"

#define PB_DEVICE_BATCH_DEFAULT	256

/**
 * struct pb_device_options
 * @path:   device node, e.g. "/dev/pgpdma0"
 * @dests:  dests to claim (NULL/0 = dest 0)
 * @ndests: entries in @dests
 * @batch:  RX_READ batch (1..PGPDMA_MAX_BATCH), 0 = 256
 * @verify: 1 = always verify payloads, 0 = never, -1 = auto (see above)
 * @nowait: 1 = next() never blocks: with nothing ready it returns 0 at
 *          once (the caller polls pb_source_device_fd(); network ingress)
 */
struct pb_device_options {
	const char *path;
	const uint32_t *dests;
	unsigned int ndests;
	uint32_t batch;
	int verify;
	int nowait;
};

/**
 * pb_device_probe() - open @path, read its layout (GET_INFO), close
 * Returns 0 or -errno (-ENOENT: driver not loaded, -EACCES, -EPROTO,
 * -ENOTTY: not a pgpdma device).
 */
int pb_device_probe(const char *path, struct pgpdma_info *info);

/**
 * pb_source_device_open() - open, claim, map
 * @err: one-line message on failure
 * Returns 0 or -errno (-EBUSY: a dest is claimed by another process).
 */
int pb_source_device_open(struct pb_source **s, const struct pb_device_options *o,
			  const struct pb_source_env *env, char *err, size_t errlen);

/* The device's file descriptor (for poll(POLLIN) with nowait). */
int pb_source_device_fd(struct pb_source *s);

/* Driver counters of the source's device (for the exit report). */
int pb_source_device_stats(struct pb_source *s, struct pgpdma_stats *st);

/* Human text for a libpgpdma open error ("no such device (is pgpdma.ko loaded?)"). */
const char *pb_device_strerror(int err);

#endif /* PEBBLED_SOURCE_DEVICE_H */
