/* SPDX-License-Identifier: GPL-2.0 */
/*
 * pebbled pipeline metrics (the seed's names) and their three renderings:
 * the exit block, a live progress line, Prometheus text exposition.
 *
 * Counters and gauges are C11 atomics; any thread may update them with
 * the PB_METRIC_* macros (relaxed ordering: they are statistics, not
 * synchronisation). Renderings work on a snapshot, so a test can format
 * fixed numbers.
 *
 * Prometheus names: pebbled's own metrics are "pebbled_" + the seed's
 * name; counters end in "_total" (pebbled_dma_frames_total,
 * pebbled_arch_bytes_total, ...), derived values are gauges under their
 * seed names (pebbled_elapsed_sec, pebbled_dma_fps, pebbled_arch_gbps,
 * pebbled_arch_gibps, ...). The buffer-occupancy gauges keep the names
 * DAQ dashboards already use for the DRP, unprefixed: drp_dma_in_use,
 * drp_pebble_in_use, drp_trbufs_in_use, drp_event_rate, drp_num_pgp_jump.
 */
#ifndef PEBBLED_METRICS_H
#define PEBBLED_METRICS_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

/* X-macro of the counters (seed names): X(name, Prometheus help text). */
#define PB_METRICS_COUNTERS(X) \
	X(dma_frames, "Frames ingested from DMA") \
	X(dma_arch_offered, "Frames offered by the reader to the archiver") \
	X(dma_pool_exhaust, "Times the pebble pool was exhausted") \
	X(proc_frames, "Frames processed") \
	X(proc_stale_desc, "Stale descriptors dropped at the processor") \
	X(proc_empty_polls, "Empty polls of the processor queue") \
	X(drops_proc_queue, "Frames dropped: processor queue full") \
	X(arch_frames, "Frames archived") \
	X(arch_bytes, "Payload bytes archived") \
	X(arch_rotations, "Archive segment rotations") \
	X(arch_stale_desc, "Stale descriptors dropped at the archiver") \
	X(arch_io_errors, "Archive I/O errors") \
	X(drops_arch_queue, "Frames dropped: archiver queue full")

/* Integer gauges (buffer occupancy and jumps). */
#define PB_METRICS_GAUGES(X) \
	X(drp_dma_in_use, "DMA buffers held by pebbled") \
	X(drp_pebble_in_use, "Pebble buffers in use") \
	X(drp_trbufs_in_use, "Transition buffers in use") \
	X(drp_num_pgp_jump, "Event-counter jumps seen on the link")

struct pb_metrics {
#define PB_M_FIELD(n, h) _Atomic uint64_t n;
	PB_METRICS_COUNTERS(PB_M_FIELD)
	PB_METRICS_GAUGES(PB_M_FIELD)
#undef PB_M_FIELD
	_Atomic uint64_t drp_event_rate_bits;	/* double, events/s */
	struct timespec start;			/* CLOCK_MONOTONIC at init */
};

/* Add @n to counter @name: PB_METRIC_ADD(m, dma_frames, 1). */
#define PB_METRIC_ADD(m, name, n) \
	atomic_fetch_add_explicit(&(m)->name, (uint64_t)(n), memory_order_relaxed)
/* Set gauge @name: PB_METRIC_SET(m, drp_pebble_in_use, k). */
#define PB_METRIC_SET(m, name, v) \
	atomic_store_explicit(&(m)->name, (uint64_t)(v), memory_order_relaxed)

/**
 * struct pb_metrics_snapshot - plain values at one instant
 * Derived: elapsed_sec; *_fps = frames / elapsed; arch_gbps = bytes /
 * elapsed / 1e9; arch_gibps = bytes / elapsed / 2^30 (all 0 when
 * elapsed is 0).
 */
struct pb_metrics_snapshot {
#define PB_M_FIELD(n, h) uint64_t n;
	PB_METRICS_COUNTERS(PB_M_FIELD)
	PB_METRICS_GAUGES(PB_M_FIELD)
#undef PB_M_FIELD
	double drp_event_rate;
	double elapsed_sec;
	double dma_fps;
	double proc_fps;
	double arch_fps;
	double arch_gbps;
	double arch_gibps;
};

/* Zero everything and start the clock (CLOCK_MONOTONIC). */
void pb_metrics_init(struct pb_metrics *m);

/* Set the drp_event_rate gauge (events per second). */
void pb_metrics_set_event_rate(struct pb_metrics *m, double hz);

/*
 * Take a snapshot. @elapsed_sec < 0 means "now - start"; a value >= 0 is
 * used as is (tests, or a run whose clock stopped). Derived values are
 * computed from it.
 */
void pb_metrics_snapshot(const struct pb_metrics *m, struct pb_metrics_snapshot *s,
			 double elapsed_sec);

/* Fill in the derived values of @s from its counters and elapsed_sec. */
void pb_metrics_derive(struct pb_metrics_snapshot *s);

/*
 * The three renderings. Each writes a NUL-terminated text to @buf and
 * returns its length, or -ENOSPC if @len is too small (text truncated),
 * -EINVAL for NULL.
 *
 * pb_metrics_format_summary(): the seed's exit block, two sections
 *   "=== Component Stats ===" and "=== End-to-end Throughput ===".
 * pb_metrics_format_progress(): one line without newline, e.g.
 *   "[  12.0s] dma 1200 (100.0 fps) proc 1199 (99.9 fps) arch 240 (20.0 fps,
 *    0.001 GB/s) drops proc=0 arch=0 exhaust=0 in_use dma=3 pebble=5 tr=0
 *    jumps=0 io_err=0"
 * pb_metrics_format_prometheus(): text exposition format 0.0.4, a
 *   # HELP and # TYPE line per metric.
 */
int pb_metrics_format_summary(const struct pb_metrics_snapshot *s, char *buf, size_t len);
int pb_metrics_format_progress(const struct pb_metrics_snapshot *s, char *buf, size_t len);
int pb_metrics_format_prometheus(const struct pb_metrics_snapshot *s, char *buf, size_t len);

#endif /* PEBBLED_METRICS_H */
