// SPDX-License-Identifier: GPL-2.0
/* pebbled device source; see source_device.h. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>
#include "archive_format.h"
#include "libpgpdma.h"
#include "source_device.h"

struct chain {
	int active;
	int dropping;
	uint32_t h;
	size_t off;
	uint64_t total;
	uint32_t dest;
	uint64_t seq;
	uint32_t error;
	int drained;
};

struct dev_src {
	struct pb_source base;
	struct pgpdma_dev dev;
	int opened;
	int efd;
	uint32_t batch;
	int verify_opt;
	int verify;
	int nowait;
	struct timespec last_engine_check;
	struct pgpdma_rx_desc *descs;
	uint32_t ndesc, pos;
	uint32_t *ret;
	uint32_t nret;
	uint64_t held;
	int draining;
	uint64_t drain_left;
	int batch_drained;
	struct chain ch;
	uint64_t last_seq[PGPDMA_MAX_DEST];
	uint8_t seq_primed[PGPDMA_MAX_DEST];
	uint8_t gap_pending[PGPDMA_MAX_DEST];
	struct pb_source_stats st;
	char path[256];
};

const char *pb_device_strerror(int err)
{
	switch (err) {
	case -ENOENT:
		return "no such device (is pgpdma.ko loaded?)";
	case -EACCES:
	case -EPERM:
		return "permission denied (are you in the device's group, e.g. daq?)";
	case -EPROTO:
		return "the driver speaks another API version than this pebbled";
	case -ENOTTY:
	case -EINVAL:
		return "not a pgpdma device";
	case -ENODEV:
		return "device disappeared (ENODEV)";
	default:
		return strerror(-err);
	}
}

int pb_device_probe(const char *path, struct pgpdma_info *info)
{
	struct pgpdma_dev d;
	int ret = pgpdma_open(&d, path, O_RDONLY | O_NONBLOCK);

	if (ret)
		return ret;
	*info = d.info;
	pgpdma_close(&d);
	return 0;
}

static int stopped(const struct dev_src *d)
{
	return d->base.env.stop && atomic_load(d->base.env.stop);
}

static void set_gauge(struct dev_src *d)
{
	PB_METRIC_SET(d->base.env.metrics, drp_dma_in_use, d->held);
}

static int flush_returns(struct dev_src *d)
{
	int ret;

	if (!d->nret)
		return 0;
	ret = pgpdma_rx_return(&d->dev, d->ret, d->nret);
	if (ret == 0) {
		d->held -= d->nret;
		d->nret = 0;
		set_gauge(d);
	}
	return ret;
}

static void check_engine(struct dev_src *d)
{
	struct timespec now;
	struct pgpdma_engine eng;

	if (d->verify_opt >= 0) {
		d->verify = d->verify_opt;
		return;
	}
	clock_gettime(CLOCK_MONOTONIC, &now);
	if (d->last_engine_check.tv_sec && now.tv_sec - d->last_engine_check.tv_sec < 1)
		return;
	d->last_engine_check = now;
	if (pgpdma_engine_get(&d->dev, &eng) == 0)
		d->verify = eng.mode == PGPDMA_ENG_GENERATOR;
	else
		d->verify = 0;
}

static int device_gone(struct dev_src *d, int err)
{
	if (err == -ENODEV || err == -EIO || err == -ENXIO) {
		d->st.device_lost = 1;
		return -ENODEV;
	}
	return err;
}

static void take_batch(struct dev_src *d, int n, int drained)
{
	d->ndesc = (uint32_t)n;
	d->pos = 0;
	d->batch_drained = drained;
	d->held += (uint64_t)n;
	set_gauge(d);
}

/* Refill the descriptor batch; 1 = got some, 0 = none (waited), <0 error. */
static int refill(struct dev_src *d)
{
	int n, ret;

	ret = flush_returns(d);
	if (ret)
		return device_gone(d, ret);
	n = pgpdma_rx_read(&d->dev, d->descs, d->batch, 0);
	if (n == -EAGAIN || n == -EINTR || n == 0) {
		struct pollfd pfd[2] = { { d->dev.fd, POLLIN, 0 }, { d->efd, POLLIN, 0 } };

		check_engine(d);
		if (stopped(d) || d->nowait)
			return 0;
		ret = poll(pfd, 2, 500);
		if (ret > 0 && (pfd[0].revents & (POLLERR | POLLHUP | POLLNVAL))) {
			n = pgpdma_rx_read(&d->dev, d->descs, d->batch, 0);
			if (n < 0 && n != -EAGAIN && n != -EINTR)
				return device_gone(d, n);
			if (n <= 0)
				return pfd[0].revents & POLLNVAL ? device_gone(d, -ENODEV) : 0;
			goto got;
		}
		return 0;
	}
	if (n < 0)
		return device_gone(d, n);
got:
	take_batch(d, n, 0);
	return 1;
}

/*
 * The stop was seen: what the driver has completed into our queue by now
 * was delivered before the stop and is read too. The count of queued RX
 * buffers bounds that drain, so that a producer that keeps going cannot
 * make the shutdown endless.
 */
static void start_drain(struct dev_src *d)
{
	struct pgpdma_stats ds;

	d->draining = 1;
	if (pgpdma_stats(&d->dev, &ds) == 0)
		d->drain_left = ds.state[PGPDMA_ST_RX_QUEUED];
	else
		d->drain_left = d->dev.info.rx_count;
}

/*
 * Refill while draining: read without waiting, at most what is left of
 * the bound; past it, one buffer at a time and only to finish the chain
 * in progress. 1 = got some, 0 = the drain is over (bound reached or
 * queue empty), <0 error.
 */
static int drain_refill(struct dev_src *d)
{
	uint32_t max = d->batch;
	int n, ret;

	ret = flush_returns(d);
	if (ret)
		return device_gone(d, ret);
	if (d->drain_left < max)
		max = (uint32_t)d->drain_left;
	if (!max && d->ch.active)
		max = 1;
	if (!max)
		return 0;
	n = pgpdma_rx_read(&d->dev, d->descs, max, 0);
	if (n == -EAGAIN || n == -EINTR || n == 0) {
		d->drain_left = 0;
		return 0;
	}
	if (n < 0)
		return device_gone(d, n);
	d->drain_left -= (uint64_t)n < d->drain_left ? (uint64_t)n : d->drain_left;
	take_batch(d, n, 1);
	return 1;
}

static void finish_event(struct dev_src *d, struct pb_event *ev)
{
	struct chain *c = &d->ch;
	struct pb_pool *pool = d->base.env.pool;
	uint32_t dest = c->dest < PGPDMA_MAX_DEST ? c->dest : 0;
	struct pb_timing t;

	memset(ev, 0, sizeof(*ev));
	ev->buf = c->h;
	ev->len = (uint32_t)c->off;
	ev->orig_len = c->total;
	ev->dest = c->dest;
	ev->dma_seq = c->seq;
	ev->dma_error = c->error;
	ev->transition = PB_AR_TRANSITION_NONE;
	if (c->total > c->off) {
		ev->damage |= PB_DMG_OVERFLOW;
		d->st.overflows++;
	}
	if (c->error) {
		ev->damage |= PB_DMG_DMA_ERROR;
		if (c->error & PGPDMA_RXE_CHAIN)
			ev->damage |= PB_DMG_TRUNCATED;
		d->st.dma_errors++;
	}
	if (d->gap_pending[dest]) {
		ev->damage |= PB_DMG_EVT_GAP;
		d->gap_pending[dest] = 0;
	}
	if (pb_timing_parse(pb_pool_addr(pool, c->h), c->off, &t) == 0) {
		pb_event_set_timing(ev, &t);
		if (d->verify && t.transition == PGPDMA_TR_L1ACCEPT && !c->error && c->total == c->off)
			ev->flags |= PB_EV_VERIFY;
	} else {
		ev->damage |= PB_DMG_TRUNCATED;
	}
	d->st.events++;
	if (c->drained)
		d->st.drained_at_stop++;
	PB_METRIC_ADD(d->base.env.metrics, dma_frames, 1);
}

static void note_seq(struct dev_src *d, uint32_t dest, uint64_t seq)
{
	if (dest >= PGPDMA_MAX_DEST)
		return;
	if (d->seq_primed[dest] && seq != d->last_seq[dest] + 1 && seq > d->last_seq[dest]) {
		d->st.seq_gaps++;
		d->st.seq_missing += seq - d->last_seq[dest] - 1;
		d->gap_pending[dest] = 1;
	}
	d->seq_primed[dest] = 1;
	d->last_seq[dest] = seq;
}

static int dev_next(struct pb_source *s, struct pb_event *ev)
{
	struct dev_src *d = (struct dev_src *)s;
	struct pb_pool *pool = s->env.pool;
	struct chain *c = &d->ch;

	for (;;) {
		const struct pgpdma_rx_desc *x;
		const uint8_t *src;

		/*
		 * Stopping: finish what was already read from the driver (the
		 * rest of the batch, the rest of a chain) and what it had
		 * already queued for us when the stop was seen (read without
		 * waiting, see start_drain()) instead of leaving it to be
		 * recycled at close; then end.
		 */
		if (stopped(d) && !d->draining)
			start_drain(d);
		if (d->pos == d->ndesc) {
			int ret = d->draining ? drain_refill(d) : refill(d);

			if (ret == 0 && !d->draining && stopped(d))
				continue;	/* the stop came while waiting */
			if (ret == 0 && d->draining) {
				if (c->active) {
					/* the rest of the chain never came: drop it, counted */
					if (!c->dropping)
						pb_pool_put(pool, c->h);
					c->active = 0;
					d->st.dropped_pool++;
				}
				flush_returns(d);
			}
			if (ret <= 0)
				return ret;
		}
		x = &d->descs[d->pos];
		src = pgpdma_rx_buf(&d->dev, x->index);
		if (!c->active) {
			struct pb_timing t;
			uint32_t h;
			int tr = 0, ret, tries;

			if (!(x->flags & PGPDMA_RXF_SOF)) {
				d->st.orphans++;
				d->ret[d->nret++] = x->index;
				d->pos++;
				continue;
			}
			note_seq(d, x->dest, x->seq);
			if (!(x->flags & PGPDMA_RXF_CONT) && src &&
			    pb_timing_parse(src, x->size, &t) == 0 &&
			    t.transition != PGPDMA_TR_L1ACCEPT &&
			    x->size <= pb_pool_bufsize(pool, 1))
				tr = 1;
			/* hand back what is copied before a possible wait */
			if (d->nret && flush_returns(d))
				return device_gone(d, -ENODEV);
			ret = pb_source_take(&s->env, tr, &h);
			/* stopping: the pipeline drains and frees pebbles; wait (bounded) */
			for (tries = 0; ret == -EINTR && stopped(d) && tries < 25; tries++)
				ret = pb_source_take(&s->env, tr, &h);
			if (ret == -EINTR && !stopped(d))
				return 0;
			if (ret < 0 && ret != -EINTR)
				return ret;
			if (ret < 0)
				ret = 0;	/* no pebble even after draining: drop, counted */
			memset(c, 0, sizeof(*c));
			c->active = 1;
			c->dropping = ret == 0;
			c->h = ret ? h : PB_POOL_NONE;
			c->dest = x->dest;
			c->seq = x->seq;
			c->drained = d->batch_drained;
		}
		if (!c->dropping && src) {
			size_t cap = pb_pool_bufsize(pool, (c->h & PB_POOL_TR) != 0);
			size_t n = x->size;

			if (c->off + n > cap)
				n = cap - c->off;
			memcpy((uint8_t *)pb_pool_addr(pool, c->h) + c->off, src, n);
			c->off += n;
		}
		c->total += x->size;
		c->error |= x->error;
		d->ret[d->nret++] = x->index;
		d->pos++;
		if (d->nret >= d->batch / 2 && flush_returns(d))
			return device_gone(d, -ENODEV);
		if (x->flags & PGPDMA_RXF_CONT)
			continue;
		c->active = 0;
		if (c->dropping) {
			d->st.dropped_pool++;
			continue;
		}
		finish_event(d, ev);
		return 1;
	}
}

static void dev_wake(struct pb_source *s)
{
	struct dev_src *d = (struct dev_src *)s;
	uint64_t one = 1;

	if (write(d->efd, &one, sizeof(one)) < 0) {
		/* already signalled */
	}
	pb_pool_wake(s->env.pool);
}

static void dev_stats(struct pb_source *s, struct pb_source_stats *st)
{
	*st = ((struct dev_src *)s)->st;
}

int pb_source_device_fd(struct pb_source *s)
{
	return ((struct dev_src *)s)->dev.fd;
}

int pb_source_device_stats(struct pb_source *s, struct pgpdma_stats *st)
{
	return pgpdma_stats(&((struct dev_src *)s)->dev, st);
}

static void dev_close(struct pb_source *s)
{
	struct dev_src *d = (struct dev_src *)s;

	if (d->ch.active && !d->ch.dropping)
		pb_pool_put(s->env.pool, d->ch.h);
	if (d->opened) {
		flush_returns(d);
		/* buffers still held (unread part of a batch) come back on close */
		pgpdma_close(&d->dev);
	}
	PB_METRIC_SET(s->env.metrics, drp_dma_in_use, 0);
	if (d->efd >= 0)
		close(d->efd);
	free(d->descs);
	free(d->ret);
	free(d);
}

static const struct pb_source_ops dev_ops = {
	.next = dev_next,
	.wake = dev_wake,
	.get_stats = dev_stats,
	.close = dev_close,
};

int pb_source_device_open(struct pb_source **out, const struct pb_device_options *o,
			  const struct pb_source_env *env, char *err, size_t errlen)
{
	struct dev_src *d;
	struct pgpdma_dest_mask m;
	static const uint32_t dest0 = 0;
	const uint32_t *dests = o && o->ndests ? o->dests : &dest0;
	unsigned int nd = o && o->ndests ? o->ndests : 1;
	int ret;

	if (!out || !o || !o->path || !env || !env->pool)
		return -EINVAL;
	d = calloc(1, sizeof(*d));
	if (!d)
		return -ENOMEM;
	d->efd = -1;
	d->base.ops = &dev_ops;
	d->base.name = "device";
	d->base.env = *env;
	d->batch = o->batch ? o->batch : PB_DEVICE_BATCH_DEFAULT;
	if (d->batch > PGPDMA_MAX_BATCH)
		d->batch = PGPDMA_MAX_BATCH;
	d->verify_opt = o->verify;
	d->nowait = o->nowait;
	snprintf(d->path, sizeof(d->path), "%s", o->path);
	d->descs = calloc(d->batch, sizeof(*d->descs));
	d->ret = calloc(d->batch, sizeof(*d->ret));
	if (!d->descs || !d->ret) {
		ret = -ENOMEM;
		goto fail;
	}
	ret = pgpdma_open(&d->dev, o->path, O_RDWR | O_NONBLOCK | O_CLOEXEC);
	if (ret) {
		snprintf(err, errlen, "%s: %s", o->path, pb_device_strerror(ret));
		goto fail;
	}
	d->opened = 1;
	memset(&m, 0, sizeof(m));
	for (unsigned int i = 0; i < nd; i++) {
		if (dests[i] >= PGPDMA_MAX_DEST) {
			snprintf(err, errlen, "%s: dest %u out of range (0..%u)", o->path, dests[i],
				 PGPDMA_MAX_DEST - 1);
			ret = -EINVAL;
			goto fail;
		}
		m.mask[dests[i] / 64] |= 1ULL << (dests[i] % 64);
	}
	ret = pgpdma_dest_set(&d->dev, &m);
	if (ret) {
		snprintf(err, errlen, "%s: cannot claim dest%s %u%s: %s", o->path, nd > 1 ? "s" : "",
			 dests[0], nd > 1 ? ",..." : "",
			 ret == -EBUSY ? "already claimed by another process" : strerror(-ret));
		goto fail;
	}
	ret = pgpdma_map(&d->dev, 0);
	if (ret) {
		snprintf(err, errlen, "%s: mmap of the DMA pool failed: %s", o->path, strerror(-ret));
		goto fail;
	}
	d->efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (d->efd < 0) {
		ret = -errno;
		goto fail;
	}
	d->base.max_event = 0;
	check_engine(d);
	*out = &d->base;
	return 0;
fail:
	dev_close(&d->base);
	return ret;
}
