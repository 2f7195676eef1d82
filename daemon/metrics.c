// SPDX-License-Identifier: GPL-2.0
/* pebbled metrics; see metrics.h. */
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include "metrics.h"
#include "textbuf.h"

void pb_metrics_init(struct pb_metrics *m)
{
#define PB_M_ZERO(n, h) atomic_init(&m->n, 0);
	PB_METRICS_COUNTERS(PB_M_ZERO)
	PB_METRICS_GAUGES(PB_M_ZERO)
#undef PB_M_ZERO
	atomic_init(&m->drp_event_rate_bits, 0);
	clock_gettime(CLOCK_MONOTONIC, &m->start);
}

void pb_metrics_set_event_rate(struct pb_metrics *m, double hz)
{
	uint64_t bits;

	memcpy(&bits, &hz, sizeof(bits));
	atomic_store_explicit(&m->drp_event_rate_bits, bits, memory_order_relaxed);
}

void pb_metrics_derive(struct pb_metrics_snapshot *s)
{
	double e = s->elapsed_sec;

	if (e > 0) {
		s->dma_fps = (double)s->dma_frames / e;
		s->proc_fps = (double)s->proc_frames / e;
		s->arch_fps = (double)s->arch_frames / e;
		s->arch_gbps = (double)s->arch_bytes / e / 1e9;
		s->arch_gibps = (double)s->arch_bytes / e / 1073741824.0;
	} else {
		s->dma_fps = s->proc_fps = s->arch_fps = 0;
		s->arch_gbps = s->arch_gibps = 0;
	}
}

void pb_metrics_snapshot(const struct pb_metrics *m, struct pb_metrics_snapshot *s,
			 double elapsed_sec)
{
	struct pb_metrics *mm = (struct pb_metrics *)(uintptr_t)m;
	uint64_t bits;

	memset(s, 0, sizeof(*s));
#define PB_M_LOAD(n, h) s->n = atomic_load_explicit(&mm->n, memory_order_relaxed);
	PB_METRICS_COUNTERS(PB_M_LOAD)
	PB_METRICS_GAUGES(PB_M_LOAD)
#undef PB_M_LOAD
	bits = atomic_load_explicit(&mm->drp_event_rate_bits, memory_order_relaxed);
	memcpy(&s->drp_event_rate, &bits, sizeof(bits));
	if (elapsed_sec < 0) {
		struct timespec now;

		clock_gettime(CLOCK_MONOTONIC, &now);
		elapsed_sec = (double)(now.tv_sec - m->start.tv_sec) +
			      (double)(now.tv_nsec - m->start.tv_nsec) / 1e9;
		if (elapsed_sec < 0)
			elapsed_sec = 0;
	}
	s->elapsed_sec = elapsed_sec;
	pb_metrics_derive(s);
}

int pb_metrics_format_summary(const struct pb_metrics_snapshot *s, char *buf, size_t len)
{
	struct pb_textbuf o = PB_TEXTBUF(buf, len);

	if (!s || !buf || !len)
		return -EINVAL;
	buf[0] = '\0';
	pb_textbuf_printf(&o, "=== Component Stats ===\n");
	pb_textbuf_printf(&o, "DMA:    produced=%" PRIu64 "  archived_offered=%" PRIu64 "  pool_exhaust=%" PRIu64 "\n",
	    s->dma_frames, s->dma_arch_offered, s->dma_pool_exhaust);
	pb_textbuf_printf(&o, "PROC:   frames=%" PRIu64 "  stale_desc=%" PRIu64 "  empty_polls=%" PRIu64
	    " dropped_proc_queue=%" PRIu64 "\n",
	    s->proc_frames, s->proc_stale_desc, s->proc_empty_polls, s->drops_proc_queue);
	pb_textbuf_printf(&o, "ARCH:   frames=%" PRIu64 "  bytes=%" PRIu64 "  rotations=%" PRIu64
	    "  stale_desc=%" PRIu64 "  io_errors=%" PRIu64 " dropped_arch_queue=%" PRIu64 "\n",
	    s->arch_frames, s->arch_bytes, s->arch_rotations, s->arch_stale_desc,
	    s->arch_io_errors, s->drops_arch_queue);
	pb_textbuf_printf(&o, "\n=== End-to-end Throughput ===\n");
	pb_textbuf_printf(&o, "Elapsed: %.3f s\n", s->elapsed_sec);
	pb_textbuf_printf(&o, "DMA:     %.1f fps\n", s->dma_fps);
	pb_textbuf_printf(&o, "PROC:    %.1f fps\n", s->proc_fps);
	pb_textbuf_printf(&o, "ARCH:    %.1f fps | %.3f GB/s (%.3f GiB/s)\n",
	    s->arch_fps, s->arch_gbps, s->arch_gibps);
	return pb_textbuf_finish(&o);
}

int pb_metrics_format_progress(const struct pb_metrics_snapshot *s, char *buf, size_t len)
{
	struct pb_textbuf o = PB_TEXTBUF(buf, len);

	if (!s || !buf || !len)
		return -EINVAL;
	buf[0] = '\0';
	pb_textbuf_printf(&o, "[%7.1fs] dma %" PRIu64 " (%.1f fps) proc %" PRIu64 " (%.1f fps) arch %" PRIu64
	    " (%.1f fps, %.3f GB/s) drops proc=%" PRIu64 " arch=%" PRIu64 " exhaust=%" PRIu64
	    " in_use dma=%" PRIu64 " pebble=%" PRIu64 " tr=%" PRIu64 " jumps=%" PRIu64
	    " io_err=%" PRIu64,
	    s->elapsed_sec, s->dma_frames, s->dma_fps, s->proc_frames, s->proc_fps,
	    s->arch_frames, s->arch_fps, s->arch_gbps, s->drops_proc_queue,
	    s->drops_arch_queue, s->dma_pool_exhaust, s->drp_dma_in_use,
	    s->drp_pebble_in_use, s->drp_trbufs_in_use, s->drp_num_pgp_jump,
	    s->arch_io_errors);
	return pb_textbuf_finish(&o);
}

static void prom_u64(struct pb_textbuf *o, const char *name, const char *type, const char *help,
		     uint64_t v)
{
	pb_textbuf_printf(o, "# HELP %s %s\n# TYPE %s %s\n%s %" PRIu64 "\n", name, help, name, type, name, v);
}

static void prom_dbl(struct pb_textbuf *o, const char *name, const char *help, double v)
{
	pb_textbuf_printf(o, "# HELP %s %s\n# TYPE %s gauge\n%s %.17g\n", name, help, name, name, v);
}

int pb_metrics_format_prometheus(const struct pb_metrics_snapshot *s, char *buf, size_t len)
{
	struct pb_textbuf o = PB_TEXTBUF(buf, len);

	if (!s || !buf || !len)
		return -EINVAL;
	buf[0] = '\0';
#define PB_M_PROM_C(n, h) prom_u64(&o, "pebbled_" #n "_total", "counter", h, s->n);
	PB_METRICS_COUNTERS(PB_M_PROM_C)
#undef PB_M_PROM_C
	prom_dbl(&o, "pebbled_elapsed_sec", "Seconds since the pipeline started", s->elapsed_sec);
	prom_dbl(&o, "pebbled_dma_fps", "DMA frames per second since start", s->dma_fps);
	prom_dbl(&o, "pebbled_proc_fps", "Processed frames per second since start", s->proc_fps);
	prom_dbl(&o, "pebbled_arch_fps", "Archived frames per second since start", s->arch_fps);
	prom_dbl(&o, "pebbled_arch_gbps", "Archive write throughput in GB/s (1e9 bytes)",
		 s->arch_gbps);
	prom_dbl(&o, "pebbled_arch_gibps", "Archive write throughput in GiB/s (2^30 bytes)",
		 s->arch_gibps);
#define PB_M_PROM_G(n, h) prom_u64(&o, #n, "gauge", h, s->n);
	PB_METRICS_GAUGES(PB_M_PROM_G)
#undef PB_M_PROM_G
	prom_dbl(&o, "drp_event_rate", "Event rate in events per second", s->drp_event_rate);
	return pb_textbuf_finish(&o);
}
