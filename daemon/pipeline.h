/* SPDX-License-Identifier: GPL-2.0 */
/*
 * pebbled pipeline: reader thread -> processing worker -> archiver thread.
 *
 *   source --next()--> reader --proc ring (SPSC)--> processor --> results file
 *                        \----arch ring (SPSC)----> archiver  --> archive (libaio)
 *
 * The reader takes events from the source (one pebble each), accounts
 * them (event-counter/pulse-ID gaps: drp_num_pgp_jump and PB_DMG_EVT_GAP;
 * damaged events are counted and kept), drives the run state and offers
 * each event to the two taps. A pebble goes back to the pool when every
 * tap it was offered to is done with it (reference count).
 *
 * Runs: Configure or BeginRun outside a run opens run N (the next free
 * number in the output directory: DIR/run%06u/), EndRun closes it (the
 * archive's files are synced and renamed, the results file too). A
 * BeginRun inside a run opened by Configure continues it. An L1Accept (or
 * any other transition) outside a run cannot be archived: it is counted
 * (l1_outside_run / tr_outside_run) and dropped. At stop an open run is
 * closed as if EndRun had come.
 *
 * Taps: processing gets every transition and L1Accepts paced at proc_hz
 * (0 = every frame); it never blocks acquisition: when its ring is full
 * the event is dropped for processing (drops_proc_queue). The archiver
 * gets every transition and L1Accepts paced at arch_hz (0 = every frame);
 * events paced out are counted (arch_paced_out). When the archive ring is
 * full: lossless = the reader waits (then the pool empties, the source
 * stops pulling and the driver asserts deadtime); drop = the event is
 * dropped and counted (drops_arch_queue). Transitions always wait. Order
 * is kept: one reader, FIFO rings.
 *
 * Idle threads block on condition variables (consumers: ring empty;
 * reader: ring full; source: poll/eventfd), bounded by 200 ms waits.
 *
 * Archive errors (disk full, EFBIG, EIO): the run's writer is closed at
 * once (everything completed is readable and indexed), the error counted
 * (arch_io_errors) and, with stop_on_arch_error, the pipeline stops; the
 * events that could not be written are counted (arch_dropped_error).
 *
 * Stop (pb_pipeline_stop(), e.g. on SIGTERM): the reader stops taking
 * events, both consumers drain their rings, open files are closed.
 * Nothing the reader took is lost: dma_frames = outside-run events +
 * events offered to the archiver + arch_paced_out + drops_arch_queue
 * (+ arch_dropped_error for events refused after an error).
 */
#ifndef PEBBLED_PIPELINE_H
#define PEBBLED_PIPELINE_H

#include <stddef.h>
#include <stdint.h>
#include "config.h"
#include "metrics.h"
#include "pebble_pool.h"
#include "processing.h"
#include "source.h"

struct pb_pipeline;

/**
 * struct pb_pipeline_options
 * @src, @pool, @metrics: the source (opened with this pool), its pool and
 *               the metrics to update; the pipeline owns none of them
 * @stop:        the atomic flag given to the source's env
 * @output_dir:  where run directories go; NULL = no archive, no results
 * @archive:     1 = write the archive
 * @results:     1 = write the results file
 * @proc_hz, @arch_hz: pacing, 0 = every frame
 * @bp:          backpressure policy
 * @segment_bytes, @segment_frames, @queue_depth: archive writer options
 * @max_payload: largest event (pebble size)
 * @dtype, @width, @height, @lanes, @detector: archive header fields
 * @proc:        processing parameters
 * @ring_capacity: slots per ring (power of two), 0 = enough for every buffer
 * @first_run:   first run number, 0 = one more than the highest runNNNNNN
 *               directory in @output_dir (1 if none)
 * @stop_on_arch_error: stop the pipeline on an archive error
 * @arch_delay_us: test/benchmark hook: the archiver sleeps this long per
 *               event (simulates a slow disk)
 * @log, @log_ctx: messages (run opened/closed, errors)
 */
struct pb_pipeline_options {
	struct pb_source *src;
	struct pb_pool *pool;
	struct pb_metrics *metrics;
	atomic_int *stop;
	const char *output_dir;
	int archive;
	int results;
	uint32_t proc_hz, arch_hz;
	enum pb_backpressure bp;
	uint64_t segment_bytes, segment_frames;
	uint32_t queue_depth;
	size_t max_payload;
	uint32_t dtype, width, height, lanes;
	const char *detector;
	struct pb_proc_params proc;
	size_t ring_capacity;
	uint32_t first_run;
	int stop_on_arch_error;
	uint32_t arch_delay_us;
	void (*log)(void *ctx, const char *msg);
	void *log_ctx;
};

/* Counters the seed metrics do not have (pb_pipeline_get_stats()). */
#define PB_PIPELINE_COUNTERS(X) \
	X(events, "Events taken from the source") \
	X(l1_outside_run, "L1Accepts outside a run (dropped)") \
	X(tr_outside_run, "Transitions outside a run (dropped)") \
	X(transitions, "Transitions seen") \
	X(runs_opened, "Runs opened") \
	X(runs_closed, "Runs closed") \
	X(run_conflicts, "Run numbers found taken by another writer at run begin") \
	X(damaged, "Damaged events (kept)") \
	X(payload_bad, "Generator payloads that did not verify") \
	X(evt_jumps, "Event-counter or pulse-ID jumps") \
	X(evt_missing, "Events missing in event-counter jumps") \
	X(arch_paced_out, "L1Accepts not archived because of arch_hz pacing") \
	X(proc_paced_out, "L1Accepts not processed because of proc_hz pacing") \
	X(arch_dropped_error, "Events not archived after an archive error") \
	X(arch_waits, "Times the reader waited for archive ring space") \
	X(results_rows, "Rows written to results files") \
	X(results_lost, "Results rows that could not be written") \
	X(results_errors, "Results files that failed (open, write or sync)")

struct pb_pipeline_stats {
#define PB_PS_FIELD(n, h) uint64_t n;
	PB_PIPELINE_COUNTERS(PB_PS_FIELD)
#undef PB_PS_FIELD
	uint32_t current_run;	/* 0 = no run open */
	uint32_t last_run;	/* last run opened, 0 = none */
	int arch_error;		/* first archive error, 0 = none */
	int source_end;		/* why the reader ended: 0 stop, -ENODATA, -ENODEV, ... */
	int done;		/* 1 once the reader has ended */
	struct pb_source_stats src;
};

/* Start the three threads. Returns 0 or -errno (-EINVAL bad options). */
int pb_pipeline_start(struct pb_pipeline **pl, const struct pb_pipeline_options *o);

/* Ask the pipeline to stop and drain (any thread; not async-signal-safe). */
void pb_pipeline_stop(struct pb_pipeline *pl);

/* Wait up to @timeout_ms for the reader to end by itself; 1 = ended. */
int pb_pipeline_wait(struct pb_pipeline *pl, int timeout_ms);

/* Change pacing while running (SIGHUP). */
void pb_pipeline_set_pacing(struct pb_pipeline *pl, uint32_t proc_hz, uint32_t arch_hz);

/* Snapshot of the counters (any time). */
void pb_pipeline_get_stats(struct pb_pipeline *pl, struct pb_pipeline_stats *st);

/*
 * Stop (if not yet), join the threads, close open files, free. Returns 0,
 * the first archive error, or the source's error (-ENODEV, ...); a source
 * that ended with -ENODATA (one pass done) counts as success.
 */
int pb_pipeline_join(struct pb_pipeline *pl, struct pb_pipeline_stats *st);

/* Prometheus text of the pipeline counters (pebbled_<name>_total), appended at @buf. */
int pb_pipeline_format_prometheus(const struct pb_pipeline_stats *st, char *buf, size_t len);

/* Human-readable block for the exit report. */
int pb_pipeline_format_summary(const struct pb_pipeline_stats *st, char *buf, size_t len);

#endif /* PEBBLED_PIPELINE_H */
