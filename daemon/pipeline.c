// SPDX-License-Identifier: GPL-2.0
/* pebbled pipeline: reader, processor, archiver; see pipeline.h. */
#include <dirent.h>
#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/stat.h>
#include <unistd.h>
#include <linux/pgpdma.h>
#include "archive_writer.h"
#include "libpgpdma.h"
#include "pipeline.h"
#include "results.h"
#include "sizing.h"
#include "spsc_ring.h"

struct waitq {
	pthread_mutex_t m;
	pthread_cond_t c;
	atomic_int waiting;
};

struct pb_pipeline {
	struct pb_pipeline_options o;
	struct pb_ring *proc_q, *arch_q;
	struct waitq proc_wq, arch_wq, space_wq, done_wq;
	pthread_t reader, proc, arch;
	int started[3];
	atomic_int reader_done;
	_Atomic uint32_t proc_hz, arch_hz;
#define PB_PS_FIELD(n, h) _Atomic uint64_t n;
	PB_PIPELINE_COUNTERS(PB_PS_FIELD)
#undef PB_PS_FIELD
	_Atomic uint32_t current_run, last_run;
	atomic_int arch_error, source_end;
	/* reader-private */
	uint32_t next_run;
	int in_run;
	uint32_t run;
	uint64_t run_seq;
	struct pb_gap_detector *gap;	/* per dest */
	struct timespec proc_next, arch_next;
	/* archiver-private: totals of closed writers */
	uint64_t arch_base_records, arch_base_bytes, arch_base_rot, arch_base_err;
};

#define ADD(pl, n, v) atomic_fetch_add_explicit(&(pl)->n, (uint64_t)(v), memory_order_relaxed)

static void logf_(struct pb_pipeline *pl, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
static void logf_(struct pb_pipeline *pl, const char *fmt, ...)
{
	char msg[512];
	va_list ap;

	if (!pl->o.log)
		return;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	pl->o.log(pl->o.log_ctx, msg);
}

static void wq_init(struct waitq *q)
{
	pthread_condattr_t ca;

	pthread_mutex_init(&q->m, NULL);
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&q->c, &ca);
	pthread_condattr_destroy(&ca);
	atomic_init(&q->waiting, 0);
}

static void wq_destroy(struct waitq *q)
{
	pthread_cond_destroy(&q->c);
	pthread_mutex_destroy(&q->m);
}

static void deadline(struct timespec *ts, int ms)
{
	clock_gettime(CLOCK_MONOTONIC, ts);
	ts->tv_nsec += (long)ms * 1000000L;
	while (ts->tv_nsec >= 1000000000L) {
		ts->tv_sec++;
		ts->tv_nsec -= 1000000000L;
	}
}

/* Block until @ready(arg) or a signal, at most @ms. */
static void wq_wait(struct waitq *q, int (*ready)(void *), void *arg, int ms)
{
	struct timespec ts;

	deadline(&ts, ms);
	pthread_mutex_lock(&q->m);
	atomic_store(&q->waiting, 1);
	atomic_thread_fence(memory_order_seq_cst);
	if (!ready(arg))
		pthread_cond_timedwait(&q->c, &q->m, &ts);
	atomic_store(&q->waiting, 0);
	pthread_mutex_unlock(&q->m);
}

static void wq_signal(struct waitq *q)
{
	atomic_thread_fence(memory_order_seq_cst);
	if (atomic_load(&q->waiting)) {
		pthread_mutex_lock(&q->m);
		pthread_cond_broadcast(&q->c);
		pthread_mutex_unlock(&q->m);
	}
}

static void wq_broadcast(struct waitq *q)
{
	pthread_mutex_lock(&q->m);
	pthread_cond_broadcast(&q->c);
	pthread_mutex_unlock(&q->m);
}

static int stopping(const struct pb_pipeline *pl)
{
	return atomic_load(pl->o.stop);
}

/* ---- shared: payload verification, once per event ---------------- */

static int verify_event(struct pb_pipeline *pl, const struct pb_event *ev)
{
	uint32_t m;

	if (!(ev->flags & PB_EV_VERIFY))
		return PB_PAYLOAD_UNCHECKED;
	m = pb_pool_marked(pl->o.pool, ev->buf);
	if (!m) {
		ssize_t r = pb_payload_verify(pb_pool_addr(pl->o.pool, ev->buf), ev->len);

		m = r == -1 ? PB_PAYLOAD_OK : PB_PAYLOAD_BAD;
		if (pb_pool_mark(pl->o.pool, ev->buf, m) && m == PB_PAYLOAD_BAD) {
			ADD(pl, payload_bad, 1);
			ADD(pl, damaged, (ev->damage ? 0 : 1));
			logf_(pl, "payload of pulse %" PRIu64 " (seq %" PRIu64 ") does not verify at byte %zd",
			      ev->pulse_id, ev->seq, r);
		}
		m = pb_pool_marked(pl->o.pool, ev->buf);
	}
	return (int)m;
}

static void run_dir(const struct pb_pipeline *pl, uint32_t run, char *buf, size_t len)
{
	snprintf(buf, len, "%s/run%06u", pl->o.output_dir, run);
}

/* ---- reader --------------------------------------------------------- */

#define PB_RUN_MAX 999999u	/* run%06u: what scan_next_run() recognises */

/*
 * The number of the run that begins: the first free one from next_run on.
 * Its directory is created here with an exclusive mkdir, so a second writer
 * on the same output directory (which found the same highest run when it
 * started) gets the next number instead of writing into this run's files.
 * Any other mkdir error keeps the number: the archiver then reports it.
 */
static uint32_t claim_run(struct pb_pipeline *pl)
{
	uint32_t run;
	char dir[2048];

	if ((!pl->o.archive && !pl->o.results) || !pl->o.output_dir)
		return pl->next_run;
	for (run = pl->next_run; run <= PB_RUN_MAX; run++) {
		run_dir(pl, run, dir, sizeof(dir));
		if (mkdir(dir, 0755) == 0)
			break;
		if (errno != EEXIST) {
			logf_(pl, "run directory %s: %s", dir, strerror(errno));
			break;
		}
		ADD(pl, run_conflicts, 1);
	}
	if (run > PB_RUN_MAX) {
		logf_(pl, "runs %u..%u all exist in %s: run %u goes past them",
		      pl->next_run, PB_RUN_MAX, pl->o.output_dir, run);
	} else if (run != pl->next_run) {
		logf_(pl, "run %u exists in %s (another writer?): this run is %u",
		      pl->next_run, pl->o.output_dir, run);
	}
	return run;
}

static int tap_due(struct timespec *next, uint32_t hz)
{
	struct timespec now;
	long long n, nx, period;

	if (!hz)
		return 1;
	clock_gettime(CLOCK_MONOTONIC, &now);
	n = (long long)now.tv_sec * 1000000000LL + now.tv_nsec;
	nx = (long long)next->tv_sec * 1000000000LL + next->tv_nsec;
	if (n < nx)
		return 0;
	period = 1000000000LL / hz;
	nx += period;
	if (nx < n - period)	/* no catching up after a pause */
		nx = n;
	next->tv_sec = nx / 1000000000LL;
	next->tv_nsec = nx % 1000000000LL;
	return 1;
}

static int arch_has_space(void *arg)
{
	struct pb_pipeline *pl = arg;

	return pb_ring_size(pl->arch_q) < pb_ring_capacity(pl->arch_q);
}

static void offer(struct pb_pipeline *pl, struct pb_event *ev)
{
	struct pb_metrics *m = pl->o.metrics;
	int is_tr = (ev->flags & PB_EV_HAS_TIMING) && ev->transition != PGPDMA_TR_L1ACCEPT;
	int to_proc, to_arch;

	to_proc = 1;
	if (!is_tr && !tap_due(&pl->proc_next, atomic_load(&pl->proc_hz))) {
		to_proc = 0;
		ADD(pl, proc_paced_out, 1);
	}
	to_arch = pl->o.archive;
	if (to_arch && !is_tr && !tap_due(&pl->arch_next, atomic_load(&pl->arch_hz))) {
		to_arch = 0;
		ADD(pl, arch_paced_out, 1);
	}
	if (to_proc) {
		ev->flags |= PB_EV_PROC;
		pb_pool_ref(pl->o.pool, ev->buf, 1);
		if (pb_ring_push(pl->proc_q, ev) == 0) {
			wq_signal(&pl->proc_wq);
		} else {
			PB_METRIC_ADD(m, drops_proc_queue, 1);
			pb_pool_put(pl->o.pool, ev->buf);
		}
	}
	if (to_arch) {
		ev->flags |= PB_EV_ARCH;
		pb_pool_ref(pl->o.pool, ev->buf, 1);
		for (;;) {
			if (pb_ring_push(pl->arch_q, ev) == 0) {
				PB_METRIC_ADD(m, dma_arch_offered, 1);
				wq_signal(&pl->arch_wq);
				break;
			}
			if (pl->o.bp == PB_BP_DROP && !is_tr) {
				PB_METRIC_ADD(m, drops_arch_queue, 1);
				pb_pool_put(pl->o.pool, ev->buf);
				break;
			}
			ADD(pl, arch_waits, 1);
			wq_wait(&pl->space_wq, arch_has_space, pl, 200);
		}
	}
}

static void account(struct pb_pipeline *pl, struct pb_event *ev)
{
	struct pb_gap_detector *g;
	struct pb_timing t;
	uint64_t before;
	uint32_t missing;

	ADD(pl, events, 1);
	if (!(ev->flags & PB_EV_HAS_TIMING))
		goto out;
	g = &pl->gap[ev->dest < PGPDMA_MAX_DEST ? ev->dest : 0];
	memset(&t, 0, sizeof(t));
	t.pulse_id = ev->pulse_id;
	t.evt_counter = ev->evt_counter;
	before = g->evt_jumps + g->pulse_jumps;
	missing = pb_gap_update(g, &t);
	if (g->evt_jumps + g->pulse_jumps != before) {
		uint64_t j = atomic_fetch_add(&pl->evt_jumps, 1) + 1;

		ADD(pl, evt_missing, missing);
		PB_METRIC_SET(pl->o.metrics, drp_num_pgp_jump, j);
		ev->damage |= PB_DMG_EVT_GAP;
	}
	if (ev->transition != PGPDMA_TR_L1ACCEPT)
		ADD(pl, transitions, 1);
out:
	if (ev->damage)
		ADD(pl, damaged, 1);
}

static void handle(struct pb_pipeline *pl, struct pb_event *ev)
{
	unsigned int tr = (ev->flags & PB_EV_HAS_TIMING) ? ev->transition : PGPDMA_TR_L1ACCEPT;

	account(pl, ev);
	if ((tr == PGPDMA_TR_CONFIGURE || tr == PGPDMA_TR_BEGIN_RUN) && !pl->in_run) {
		pl->in_run = 1;
		pl->run = claim_run(pl);
		pl->next_run = pl->run + 1;
		pl->run_seq = 0;
		ev->flags |= PB_EV_RUN_BEGIN;
		atomic_store(&pl->current_run, pl->run);
		atomic_store(&pl->last_run, pl->run);
		ADD(pl, runs_opened, 1);
		logf_(pl, "run %u begins (%s)", pl->run, pgpdma_transition_name(tr));
	}
	if (!pl->in_run) {
		if (tr == PGPDMA_TR_L1ACCEPT)
			ADD(pl, l1_outside_run, 1);
		else
			ADD(pl, tr_outside_run, 1);
		pb_pool_put(pl->o.pool, ev->buf);
		return;
	}
	ev->run = pl->run;
	ev->seq = pl->run_seq++;
	if (tr == PGPDMA_TR_END_RUN) {
		ev->flags |= PB_EV_RUN_END;
		pl->in_run = 0;
		atomic_store(&pl->current_run, 0);
		ADD(pl, runs_closed, 1);
		logf_(pl, "run %u ends (EndRun, %" PRIu64 " events)", pl->run, pl->run_seq);
	}
	offer(pl, ev);
	pb_pool_put(pl->o.pool, ev->buf);	/* the reader's own reference */
}

static void *reader_main(void *arg)
{
	struct pb_pipeline *pl = arg;
	struct pb_event ev;
	int end = 0;

	/*
	 * After a stop the source still hands out what it already holds
	 * (e.g. DMA buffers read from the driver, or already queued for it);
	 * it returns 0 when done. Only a 0 from a call that began after the
	 * stop means done: a call that was waiting when the stop came has
	 * not drained anything yet.
	 */
	for (;;) {
		int was_stopping = stopping(pl);
		int r = pb_source_next(pl->o.src, &ev);

		if (r == 0) {
			if (was_stopping)
				break;
			continue;
		}
		if (r < 0) {
			end = r;
			break;
		}
		handle(pl, &ev);
	}
	if (pl->in_run) {
		ADD(pl, runs_closed, 1);
		logf_(pl, "run %u closed at stop (no EndRun; %" PRIu64 " events)", pl->run, pl->run_seq);
		atomic_store(&pl->current_run, 0);
	}
	atomic_store(&pl->source_end, end);
	atomic_store(&pl->reader_done, 1);
	wq_broadcast(&pl->proc_wq);
	wq_broadcast(&pl->arch_wq);
	wq_broadcast(&pl->done_wq);
	return NULL;
}

/* ---- processor ------------------------------------------------------ */

static int proc_ready(void *arg)
{
	struct pb_pipeline *pl = arg;

	return pb_ring_size(pl->proc_q) || atomic_load(&pl->reader_done);
}

/* The processor's results file of the current run. */
struct proc_results {
	struct pb_results *f;	/* NULL: none (not wanted, or it failed to open) */
	uint32_t run;
	uint64_t counted;	/* its rows already added to results_rows */
	int failed;		/* a write failed: said once */
};

static void results_close(struct pb_pipeline *pl, struct proc_results *pr)
{
	struct pb_results_stats st;

	if (!pr->f)
		return;
	pb_results_close(pr->f, &st);
	pr->f = NULL;
	ADD(pl, results_rows, st.rows - pr->counted);
	ADD(pl, results_lost, st.lost);
	if (st.err) {
		ADD(pl, results_errors, 1);
		logf_(pl, "results of run %u: %" PRIu64 " rows written, %" PRIu64 " lost (%s): kept as %s",
		      pr->run, st.rows, st.lost, strerror(-st.err), st.path);
	}
}

static void results_open(struct pb_pipeline *pl, struct proc_results *pr, uint32_t run)
{
	char dir[2048];
	int r;

	results_close(pl, pr);
	memset(pr, 0, sizeof(*pr));
	pr->run = run;
	run_dir(pl, run, dir, sizeof(dir));
	r = pb_results_open(&pr->f, dir, run, pl->o.proc.nroi);
	if (r) {
		ADD(pl, results_errors, 1);
		logf_(pl, "results file of run %u: %s: its rows are lost", run, strerror(-r));
		pr->f = NULL;
	}
}

static void results_row(struct pb_pipeline *pl, struct proc_results *pr,
			const struct pb_event *ev, const struct pb_proc_result *r)
{
	int n;

	if (!pr->f) {
		ADD(pl, results_lost, 1);
		return;
	}
	n = pb_results_write(pr->f, ev, r);
	if (n > 0) {
		ADD(pl, results_rows, n);
		pr->counted += (uint64_t)n;
	} else if (n < 0 && !pr->failed) {
		pr->failed = 1;
		logf_(pl, "results file of run %u: %s: rows from seq %" PRIu64 " on are lost",
		      pr->run, strerror(-n), ev->seq);
	}
}

static void *proc_main(void *arg)
{
	struct pb_pipeline *pl = arg;
	struct proc_results res = { 0 };
	struct pb_event ev;

	for (;;) {
		int is_tr;

		if (pb_ring_pop(pl->proc_q, &ev) != 0) {
			if (atomic_load(&pl->reader_done) && !pb_ring_size(pl->proc_q))
				break;
			PB_METRIC_ADD(pl->o.metrics, proc_empty_polls, 1);
			wq_wait(&pl->proc_wq, proc_ready, pl, 200);
			continue;
		}
		is_tr = (ev.flags & PB_EV_HAS_TIMING) && ev.transition != PGPDMA_TR_L1ACCEPT;
		if (!ev.run) {
			PB_METRIC_ADD(pl->o.metrics, proc_stale_desc, 1);
			pb_pool_put(pl->o.pool, ev.buf);
			continue;
		}
		if (pl->o.results && pl->o.output_dir && ev.run != res.run)
			results_open(pl, &res, ev.run);
		if (!is_tr) {
			struct pb_proc_result r;
			const uint8_t *p = pb_pool_addr(pl->o.pool, ev.buf);

			pb_proc_compute(&pl->o.proc, p, ev.len, &r);
			r.payload = verify_event(pl, &ev);
			if (r.payload == PB_PAYLOAD_BAD)
				ev.damage |= PB_DMG_PAYLOAD;
			if (pl->o.results && pl->o.output_dir)
				results_row(pl, &res, &ev, &r);
		}
		PB_METRIC_ADD(pl->o.metrics, proc_frames, 1);
		if (ev.flags & PB_EV_RUN_END)
			results_close(pl, &res);
		pb_pool_put(pl->o.pool, ev.buf);
	}
	results_close(pl, &res);
	return NULL;
}

/* ---- archiver ------------------------------------------------------- */

static int arch_ready(void *arg)
{
	struct pb_pipeline *pl = arg;

	return pb_ring_size(pl->arch_q) || atomic_load(&pl->reader_done);
}

static void aw_log(void *ctx, int err, const char *msg)
{
	struct pb_pipeline *pl = ctx;

	logf_(pl, "archive: %s%s%s", msg, err ? ": " : "", err ? strerror(-err) : "");
}

static void arch_publish(struct pb_pipeline *pl, struct pb_archive_writer *w)
{
	struct pb_aw_stats st = { 0 };
	struct pb_metrics *m = pl->o.metrics;

	if (w)
		pb_aw_get_stats(w, &st);
	PB_METRIC_SET(m, arch_frames, pl->arch_base_records + st.records);
	PB_METRIC_SET(m, arch_bytes, pl->arch_base_bytes + st.payload_bytes);
	PB_METRIC_SET(m, arch_rotations, pl->arch_base_rot + st.rotations);
	PB_METRIC_SET(m, arch_io_errors, pl->arch_base_err + st.io_errors);
}

static int arch_close(struct pb_pipeline *pl, struct pb_archive_writer **w, uint32_t run)
{
	struct pb_aw_stats st;
	int r;

	if (!*w)
		return 0;
	r = pb_aw_close(*w, &st);
	*w = NULL;
	pl->arch_base_records += st.records;
	pl->arch_base_bytes += st.payload_bytes;
	pl->arch_base_rot += st.rotations;
	pl->arch_base_err += st.io_errors;
	arch_publish(pl, NULL);
	if (r)
		logf_(pl, "archive of run %u closed after an error (%" PRIu64 " records readable): %s",
		      run, st.records, strerror(-r));
	else
		logf_(pl, "archive of run %u closed: %" PRIu64 " records, %" PRIu64 " bytes, %" PRIu64
		      " segment(s)", run, st.records, st.payload_bytes, st.segments);
	return r;
}

static void arch_fail(struct pb_pipeline *pl, int err)
{
	int zero = 0;

	atomic_compare_exchange_strong(&pl->arch_error, &zero, err);
	if (pl->o.stop_on_arch_error) {
		atomic_store(pl->o.stop, 1);
		pb_source_wake(pl->o.src);
	}
}

static void *arch_main(void *arg)
{
	struct pb_pipeline *pl = arg;
	struct pb_archive_writer *w = NULL;
	uint32_t w_run = 0, failed_run = 0;
	struct pb_event ev;
	uint64_t n = 0;

	for (;;) {
		struct pb_aw_record rec;
		int r;

		if (pb_ring_pop(pl->arch_q, &ev) != 0) {
			if (atomic_load(&pl->reader_done) && !pb_ring_size(pl->arch_q))
				break;
			if (w)
				pb_aw_flush(w);	/* idle: make what we have durable-ish and indexed */
			arch_publish(pl, w);
			wq_wait(&pl->arch_wq, arch_ready, pl, 200);
			continue;
		}
		wq_signal(&pl->space_wq);
		if (pl->o.arch_delay_us)
			usleep(pl->o.arch_delay_us);
		if (!ev.run) {
			PB_METRIC_ADD(pl->o.metrics, arch_stale_desc, 1);
			pb_pool_put(pl->o.pool, ev.buf);
			continue;
		}
		if (ev.run != w_run) {
			struct pb_aw_options ao;
			char dir[2048];

			if (w && arch_close(pl, &w, w_run))
				arch_fail(pl, atomic_load(&pl->arch_error) ? atomic_load(&pl->arch_error) : -EIO);
			w_run = ev.run;
			if (failed_run != ev.run) {
				memset(&ao, 0, sizeof(ao));
				run_dir(pl, ev.run, dir, sizeof(dir));
				ao.dir = dir;
				ao.run = ev.run;
				ao.segment_bytes = pl->o.segment_bytes;
				ao.segment_frames = pl->o.segment_frames;
				ao.queue_depth = pl->o.queue_depth;
				ao.max_payload = pl->o.max_payload;
				ao.dtype = pl->o.dtype;
				ao.width = pl->o.width;
				ao.height = pl->o.height;
				ao.lanes = pl->o.lanes;
				ao.detector = pl->o.detector;
				ao.log = aw_log;
				ao.log_ctx = pl;
				r = pb_aw_open(&w, &ao);
				if (r) {
					w = NULL;
					failed_run = ev.run;
					PB_METRIC_ADD(pl->o.metrics, arch_io_errors, 1);
					pl->arch_base_err++;
					logf_(pl, "cannot open the archive of run %u in %s: %s", ev.run, dir, strerror(-r));
					arch_fail(pl, r);
				} else {
					logf_(pl, "archive of run %u: %s", ev.run, dir);
				}
			}
		}
		if (!w) {
			ADD(pl, arch_dropped_error, 1);
			pb_pool_put(pl->o.pool, ev.buf);
			continue;
		}
		if (verify_event(pl, &ev) == PB_PAYLOAD_BAD)
			ev.damage |= PB_DMG_PAYLOAD;
		memset(&rec, 0, sizeof(rec));
		rec.seq = ev.seq;
		rec.pulse_id = ev.pulse_id;
		rec.ts_sec = ev.ts_sec;
		rec.ts_nsec = ev.ts_nsec;
		rec.transition = (ev.flags & PB_EV_HAS_TIMING) ? ev.transition : PB_AR_TRANSITION_NONE;
		rec.damage = ev.damage;
		r = pb_aw_write(w, &rec, pb_pool_addr(pl->o.pool, ev.buf), ev.len);
		pb_pool_put(pl->o.pool, ev.buf);
		if (r) {
			ADD(pl, arch_dropped_error, 1);
			failed_run = w_run;
			arch_close(pl, &w, w_run);
			arch_fail(pl, r);
			continue;
		}
		if (ev.flags & PB_EV_RUN_END) {
			r = arch_close(pl, &w, w_run);
			if (r)
				arch_fail(pl, r);
			w_run = 0;
		} else if ((++n & 63) == 0) {
			arch_publish(pl, w);
		}
	}
	if (w && arch_close(pl, &w, w_run))
		arch_fail(pl, atomic_load(&pl->arch_error) ? atomic_load(&pl->arch_error) : -EIO);
	arch_publish(pl, NULL);
	return NULL;
}

/* ---- control ----------------------------------------------------------- */

static uint32_t scan_next_run(const char *dir)
{
	DIR *d = dir ? opendir(dir) : NULL;
	struct dirent *de;
	uint32_t max = 0;

	if (!d)
		return 1;
	while ((de = readdir(d))) {
		unsigned int r;
		char tail;

		if (sscanf(de->d_name, "run%6u%c", &r, &tail) == 1 && strlen(de->d_name) == 9 && r > max)
			max = r;
	}
	closedir(d);
	return max + 1;
}

static void free_pl(struct pb_pipeline *pl)
{
	pb_ring_destroy(pl->proc_q);
	pb_ring_destroy(pl->arch_q);
	wq_destroy(&pl->proc_wq);
	wq_destroy(&pl->arch_wq);
	wq_destroy(&pl->space_wq);
	wq_destroy(&pl->done_wq);
	free(pl->gap);
	free(pl);
}

int pb_pipeline_start(struct pb_pipeline **out, const struct pb_pipeline_options *o)
{
	struct pb_pipeline *pl;
	size_t cap;
	int r = -ENOMEM;

	if (!out || !o || !o->src || !o->pool || !o->metrics || !o->stop ||
	    ((o->archive || o->results) && !o->output_dir))
		return -EINVAL;
	pl = calloc(1, sizeof(*pl));
	if (!pl)
		return -ENOMEM;
	pl->o = *o;
	wq_init(&pl->proc_wq);
	wq_init(&pl->arch_wq);
	wq_init(&pl->space_wq);
	wq_init(&pl->done_wq);
	pl->gap = calloc(PGPDMA_MAX_DEST, sizeof(*pl->gap));
	cap = o->ring_capacity ? o->ring_capacity :
	      pb_sizing_next_pow2(pb_pool_count(o->pool, 0) + pb_pool_count(o->pool, 1));
	if (!pl->gap || (r = pb_ring_create(&pl->proc_q, cap, sizeof(struct pb_event))) ||
	    (r = pb_ring_create(&pl->arch_q, cap, sizeof(struct pb_event)))) {
		free_pl(pl);
		return r;
	}
	for (int i = 0; i < PGPDMA_MAX_DEST; i++)
		pb_gap_init(&pl->gap[i]);
	atomic_store(&pl->proc_hz, o->proc_hz);
	atomic_store(&pl->arch_hz, o->arch_hz);
	pl->next_run = o->first_run ? o->first_run : scan_next_run(o->output_dir);
	if ((r = pthread_create(&pl->arch, NULL, arch_main, pl)))
		goto fail;
	pl->started[2] = 1;
	if ((r = pthread_create(&pl->proc, NULL, proc_main, pl)))
		goto fail;
	pl->started[1] = 1;
	if ((r = pthread_create(&pl->reader, NULL, reader_main, pl)))
		goto fail;
	pl->started[0] = 1;
	*out = pl;
	return 0;
fail:
	atomic_store(o->stop, 1);
	atomic_store(&pl->reader_done, 1);
	wq_broadcast(&pl->proc_wq);
	wq_broadcast(&pl->arch_wq);
	if (pl->started[1])
		pthread_join(pl->proc, NULL);
	if (pl->started[2])
		pthread_join(pl->arch, NULL);
	free_pl(pl);
	return -r;
}

void pb_pipeline_stop(struct pb_pipeline *pl)
{
	if (!pl)
		return;
	atomic_store(pl->o.stop, 1);
	pb_source_wake(pl->o.src);
	wq_broadcast(&pl->space_wq);
}

static int reader_is_done(void *arg)
{
	return atomic_load(&((struct pb_pipeline *)arg)->reader_done);
}

int pb_pipeline_wait(struct pb_pipeline *pl, int timeout_ms)
{
	if (!reader_is_done(pl))
		wq_wait(&pl->done_wq, reader_is_done, pl, timeout_ms);
	return reader_is_done(pl);
}

void pb_pipeline_set_pacing(struct pb_pipeline *pl, uint32_t proc_hz, uint32_t arch_hz)
{
	atomic_store(&pl->proc_hz, proc_hz);
	atomic_store(&pl->arch_hz, arch_hz);
}

void pb_pipeline_get_stats(struct pb_pipeline *pl, struct pb_pipeline_stats *st)
{
	memset(st, 0, sizeof(*st));
#define PB_PS_COPY(n, h) st->n = atomic_load_explicit(&pl->n, memory_order_relaxed);
	PB_PIPELINE_COUNTERS(PB_PS_COPY)
#undef PB_PS_COPY
	st->current_run = atomic_load(&pl->current_run);
	st->last_run = atomic_load(&pl->last_run);
	st->arch_error = atomic_load(&pl->arch_error);
	st->source_end = atomic_load(&pl->source_end);
	st->done = atomic_load(&pl->reader_done);
	pb_source_get_stats(pl->o.src, &st->src);
}

int pb_pipeline_join(struct pb_pipeline *pl, struct pb_pipeline_stats *st)
{
	int ret;

	if (!pl)
		return -EINVAL;
	pb_pipeline_stop(pl);
	pthread_join(pl->reader, NULL);
	pthread_join(pl->proc, NULL);
	pthread_join(pl->arch, NULL);
	PB_METRIC_SET(pl->o.metrics, drp_pebble_in_use, pb_pool_in_use(pl->o.pool, 0));
	PB_METRIC_SET(pl->o.metrics, drp_trbufs_in_use, pb_pool_in_use(pl->o.pool, 1));
	if (st)
		pb_pipeline_get_stats(pl, st);
	ret = atomic_load(&pl->arch_error);
	if (!ret && atomic_load(&pl->source_end) != -ENODATA)
		ret = atomic_load(&pl->source_end);
	free_pl(pl);
	return ret;
}

int pb_pipeline_format_prometheus(const struct pb_pipeline_stats *st, char *buf, size_t len)
{
	size_t off = 0;
	int n;

	if (!st || !buf || !len)
		return -EINVAL;
	buf[0] = 0;
#define PB_PS_PROM(name, help) \
	n = snprintf(buf + off, len - off, "# HELP pebbled_%s_total %s\n# TYPE pebbled_%s_total counter\n" \
		     "pebbled_%s_total %" PRIu64 "\n", #name, help, #name, #name, st->name); \
	if (n < 0 || (size_t)n >= len - off) \
		return -ENOSPC; \
	off += (size_t)n;
	PB_PIPELINE_COUNTERS(PB_PS_PROM)
#undef PB_PS_PROM
	n = snprintf(buf + off, len - off,
		     "# HELP pebbled_run Run open now (0 = none)\n# TYPE pebbled_run gauge\npebbled_run %u\n"
		     "# HELP pebbled_dma_seq_gaps_total Driver sequence gaps\n# TYPE pebbled_dma_seq_gaps_total counter\n"
		     "pebbled_dma_seq_gaps_total %" PRIu64 "\n"
		     "# HELP pebbled_dropped_pool_total Events dropped: no free pebble (drop mode)\n"
		     "# TYPE pebbled_dropped_pool_total counter\npebbled_dropped_pool_total %" PRIu64 "\n"
		     "# HELP pebbled_device_lost Device disappeared\n# TYPE pebbled_device_lost gauge\n"
		     "pebbled_device_lost %d\n",
		     st->current_run, st->src.seq_gaps, st->src.dropped_pool, st->src.device_lost);
	if (n < 0 || (size_t)n >= len - off)
		return -ENOSPC;
	off += (size_t)n;
	return (int)off;
}

int pb_pipeline_format_summary(const struct pb_pipeline_stats *st, char *buf, size_t len)
{
	int n;

	if (!st || !buf || !len)
		return -EINVAL;
	n = snprintf(buf, len,
		     "=== Pipeline ===\n"
		     "RUNS:   opened=%" PRIu64 "  closed=%" PRIu64 "  last=%u  transitions=%" PRIu64
		     "  l1_outside_run=%" PRIu64 "  tr_outside_run=%" PRIu64 "\n"
		     "EVENTS: taken=%" PRIu64 "  damaged=%" PRIu64 "  payload_bad=%" PRIu64 "  evt_jumps=%" PRIu64
		     "  evt_missing=%" PRIu64 "  dma_seq_gaps=%" PRIu64 " (%" PRIu64 " frames)  dma_errors=%" PRIu64
		     "  overflows=%" PRIu64 "  orphans=%" PRIu64 "  drained_at_stop=%" PRIu64 "\n"
		     "TAPS:   proc_paced_out=%" PRIu64 "  arch_paced_out=%" PRIu64 "  pool_drops=%" PRIu64
		     "  arch_waits=%" PRIu64 "  arch_dropped_error=%" PRIu64 "  results_rows=%" PRIu64
		     "  results_lost=%" PRIu64 "  results_errors=%" PRIu64 "\n",
		     st->runs_opened, st->runs_closed, st->last_run, st->transitions, st->l1_outside_run,
		     st->tr_outside_run, st->events, st->damaged, st->payload_bad, st->evt_jumps,
		     st->evt_missing, st->src.seq_gaps, st->src.seq_missing, st->src.dma_errors,
		     st->src.overflows, st->src.orphans, st->src.drained_at_stop, st->proc_paced_out,
		     st->arch_paced_out, st->src.dropped_pool, st->arch_waits, st->arch_dropped_error,
		     st->results_rows, st->results_lost, st->results_errors);
	if (n < 0 || (size_t)n >= len)
		return -ENOSPC;
	return n;
}
