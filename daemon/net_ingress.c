// SPDX-License-Identifier: GPL-2.0
/* pebbled network-ingress matcher and reassembly; see net_ingress.h. */
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <linux/pgpdma.h>
#include "archive_format.h"
#include "net_ingress.h"

#define REJECT_RING 64

enum { H_PENDING = 0, H_RESOLVED = 1 };

struct img {
	int used;
	int complete;
	int overflow;
	uint64_t frame_id;
	uint64_t pulse;
	uint64_t t;		/* EPICS ns */
	uint32_t ts_sec, ts_nsec;
	uint64_t total, stride;
	uint32_t count, seen;
	uint8_t *bits;
	uint32_t h;
	size_t cap;
	uint64_t t_first;
	uint64_t order;
};

struct hent {
	struct pb_event ev;
	int l1;
	int state;
	uint64_t t_arr;
	uint64_t t;		/* EPICS ns of the header */
};

struct pb_ni {
	struct pb_ni_options o;
	struct img *img;
	struct hent *fifo;
	unsigned int head, n;	/* FIFO of o.max_headers entries */
	uint64_t order;
	int have_last;
	uint64_t last_pulse, last_t;
	int too_old_mark;
	uint64_t rejected[REJECT_RING];
	unsigned int nrej, rej_pos;
	struct pb_ni_stats st;
};

static uint64_t epics_ns(uint32_t sec, uint32_t nsec)
{
	return (uint64_t)sec * 1000000000ULL + nsec;
}

/* Image relative to a header key: -1 older, 0 match, 1 newer. */
static int key_cmp(const struct pb_ni *m, uint64_t ip, uint64_t it, uint64_t hp, uint64_t ht)
{
	if (ip && hp)
		return ip < hp ? -1 : ip > hp;
	if (it + m->o.window_ns < ht)
		return -1;
	if (it > ht + m->o.window_ns)
		return 1;
	return 0;
}

static uint64_t dist(uint64_t a, uint64_t b)
{
	return a > b ? a - b : b - a;
}

int pb_ni_create(struct pb_ni **out, const struct pb_ni_options *o)
{
	struct pb_ni *m;

	if (!out || !o || !o->pool || !o->max_images || o->max_images > 1024 ||
	    !o->max_headers || o->max_headers > 65536 || !o->timeout_ns)
		return -EINVAL;
	m = calloc(1, sizeof(*m));
	if (!m)
		return -ENOMEM;
	m->o = *o;
	m->img = calloc(o->max_images, sizeof(*m->img));
	m->fifo = calloc(o->max_headers, sizeof(*m->fifo));
	if (!m->img || !m->fifo) {
		pb_ni_destroy(m);
		return -ENOMEM;
	}
	*out = m;
	return 0;
}

static void img_free(struct pb_ni *m, struct img *im, int put)
{
	if (put && im->h != PB_POOL_NONE)
		pb_pool_put(m->o.pool, im->h);
	free(im->bits);
	memset(im, 0, sizeof(*im));
	im->h = PB_POOL_NONE;
}

void pb_ni_destroy(struct pb_ni *m)
{
	if (!m)
		return;
	for (unsigned int i = 0; m->img && i < m->o.max_images; i++)
		if (m->img[i].used)
			img_free(m, &m->img[i], 1);
	for (unsigned int k = 0; m->fifo && k < m->n; k++) {
		struct hent *e = &m->fifo[(m->head + k) % m->o.max_headers];

		if (e->ev.buf != PB_POOL_NONE)
			pb_pool_put(m->o.pool, e->ev.buf);
	}
	free(m->img);
	free(m->fifo);
	free(m);
}

static void reject(struct pb_ni *m, uint64_t frame_id)
{
	m->rejected[m->rej_pos] = frame_id;
	m->rej_pos = (m->rej_pos + 1) % REJECT_RING;
	if (m->nrej < REJECT_RING)
		m->nrej++;
}

static int rejected(const struct pb_ni *m, uint64_t frame_id)
{
	for (unsigned int i = 0; i < m->nrej; i++)
		if (m->rejected[i] == frame_id)
			return 1;
	return 0;
}

static struct hent *fifo_at(struct pb_ni *m, unsigned int k)
{
	return &m->fifo[(m->head + k) % m->o.max_headers];
}

static void set_last(struct pb_ni *m, const struct hent *e)
{
	m->have_last = 1;
	m->last_pulse = e->ev.pulse_id;
	m->last_t = e->t;
}

static void resolve_empty(struct pb_ni *m, struct hent *e, uint32_t dmg)
{
	e->state = H_RESOLVED;
	e->ev.buf = PB_POOL_NONE;
	e->ev.len = 0;
	e->ev.orig_len = 0;
	e->ev.damage |= dmg;
	if (dmg & PB_DMG_MISSING_IMAGE)
		m->st.missing++;
	else
		m->st.timed_out++;
	set_last(m, e);
}

static void resolve_image(struct pb_ni *m, struct hent *e, struct img *im)
{
	e->state = H_RESOLVED;
	e->ev.buf = im->h;
	e->ev.len = (uint32_t)(im->total < im->cap ? im->total : im->cap);
	e->ev.orig_len = im->total;
	if (im->overflow)
		e->ev.damage |= PB_DMG_OVERFLOW;
	if (!im->complete) {
		uint8_t *p = pb_pool_addr(m->o.pool, im->h);

		for (uint32_t i = 0; i < im->count; i++) {
			uint64_t a, b;

			if (im->bits[i / 8] & (1U << (i % 8)))
				continue;
			a = (uint64_t)i * im->stride;
			b = a + im->stride < im->total ? a + im->stride : im->total;
			if (b > im->cap)
				b = im->cap;
			if (a < b)
				memset(p + a, 0, b - a);
		}
		e->ev.damage |= PB_DMG_TRUNCATED;
		m->st.truncated++;
	} else {
		m->st.matched++;
	}
	reject(m, im->frame_id);	/* late duplicates: frag_late */
	im->h = PB_POOL_NONE;
	img_free(m, im, 0);
	set_last(m, e);
}

static int img_matches_later(struct pb_ni *m, unsigned int k, const struct img *im, uint64_t d)
{
	for (unsigned int j = k + 1; j < m->n; j++) {
		struct hent *f = fifo_at(m, j);

		if (!f->l1 || f->state != H_PENDING)
			continue;
		if (key_cmp(m, im->pulse, im->t, f->ev.pulse_id, f->t) == 0 && dist(im->t, f->t) < d)
			return 1;
	}
	return 0;
}

static int claimed(struct pb_ni *m, const struct img *im)
{
	for (unsigned int k = 0; k < m->n; k++) {
		struct hent *e = fifo_at(m, k);

		if (e->l1 && e->state == H_PENDING &&
		    key_cmp(m, im->pulse, im->t, e->ev.pulse_id, e->t) == 0)
			return 1;
	}
	return 0;
}

static void reconcile(struct pb_ni *m, uint64_t now)
{
	for (unsigned int k = 0; k < m->n; k++) {
		struct hent *e = fifo_at(m, k);
		struct img *best = NULL;
		uint64_t bd = 0;
		int newer = 0;

		if (!e->l1 || e->state != H_PENDING)
			continue;
		for (unsigned int i = 0; i < m->o.max_images; i++) {
			struct img *im = &m->img[i];
			int c;
			uint64_t d;

			if (!im->used)
				continue;
			c = key_cmp(m, im->pulse, im->t, e->ev.pulse_id, e->t);
			if (c > 0)
				newer = 1;
			if (c)
				continue;
			d = (im->pulse && e->ev.pulse_id) ? 0 : dist(im->t, e->t);
			if (d && img_matches_later(m, k, im, d))
				continue;	/* nearer to a later header */
			if (!best || d < bd ||
			    (d == bd && (im->pulse == e->ev.pulse_id) > (best->pulse == e->ev.pulse_id)) ||
			    (d == bd && (im->pulse == e->ev.pulse_id) == (best->pulse == e->ev.pulse_id) &&
			     im->order < best->order)) {
				best = im;
				bd = d;
			}
		}
		if (best) {
			if (best->complete || now >= e->t_arr + m->o.timeout_ns)
				resolve_image(m, e, best);
			continue;
		}
		if (newer)
			resolve_empty(m, e, PB_DMG_MISSING_IMAGE);
		else if (now >= e->t_arr + m->o.timeout_ns)
			resolve_empty(m, e, PB_DMG_TIMEOUT);
	}
	for (unsigned int i = 0; i < m->o.max_images; i++) {
		struct img *im = &m->img[i];

		if (!im->used || claimed(m, im))
			continue;
		if (m->have_last && key_cmp(m, im->pulse, im->t, m->last_pulse, m->last_t) <= 0) {
			m->st.too_old++;
			m->too_old_mark = 1;
			reject(m, im->frame_id);
			img_free(m, im, 1);
		} else if (now >= im->t_first + 2 * m->o.timeout_ns) {	/* may lead its header */
			m->st.unmatched++;
			reject(m, im->frame_id);
			img_free(m, im, 1);
		}
	}
}

void pb_ni_count_bad(struct pb_ni *m)
{
	m->st.frag_bad++;
}

void pb_ni_count_rx(struct pb_ni *m, uint64_t bytes)
{
	m->st.datagrams++;
	m->st.bytes += bytes;
}

void pb_ni_set_socket_drops(struct pb_ni *m, uint64_t total)
{
	if (total > m->st.drops_socket)	/* a running total: never goes back */
		m->st.drops_socket = total;
}

/*
 * The pending L1 header that takes @im (as reconcile() would pick it: the
 * nearest; a tie to the header of the image's pulse ID, then the older),
 * or NULL if no pending header claims it.
 */
static struct hent *claimer(struct pb_ni *m, const struct img *im)
{
	struct hent *best = NULL;
	uint64_t bd = 0;

	for (unsigned int k = 0; k < m->n; k++) {
		struct hent *e = fifo_at(m, k);
		uint64_t d;

		if (!e->l1 || e->state != H_PENDING ||
		    key_cmp(m, im->pulse, im->t, e->ev.pulse_id, e->t) != 0)
			continue;
		d = (im->pulse && e->ev.pulse_id) ? 0 : dist(im->t, e->t);
		if (!best || d < bd ||
		    (d == bd && im->pulse == e->ev.pulse_id && im->pulse != best->ev.pulse_id)) {
			best = e;
			bd = d;
		}
	}
	return best;
}

/*
 * A free image slot. When all are in use the oldest image gives its slot
 * up: if a pending header claims it, that header is resolved with it now
 * (matched, or truncated if fragments are still missing: the data that
 * arrived is kept and the header is counted as forced); otherwise it is
 * dropped as unmatched.
 */
static struct img *new_slot(struct pb_ni *m)
{
	struct img *old = NULL;
	struct hent *e;

	for (unsigned int i = 0; i < m->o.max_images; i++) {
		if (!m->img[i].used)
			return &m->img[i];
		if (!old || m->img[i].order < old->order)
			old = &m->img[i];
	}
	e = claimer(m, old);
	if (e) {
		m->st.forced++;
		resolve_image(m, e, old);	/* frees the slot, the pebble goes with the event */
		return old;
	}
	m->st.unmatched++;
	reject(m, old->frame_id);
	img_free(m, old, 1);
	return old;
}

int pb_ni_frag_begin(struct pb_ni *m, const struct pb_net_hdr *h, uint64_t payload,
		     uint64_t now, struct pb_ni_dest *d)
{
	uint64_t s = pb_net_frag_stride(h, payload), t, lim;
	struct img *im = NULL;
	int slot = -1;

	memset(d, 0, sizeof(*d));
	d->slot = -1;
	if (!s || __builtin_mul_overflow((uint64_t)h->frag_count, s, &lim) ||
	    (uint64_t)(h->frag_count - 1) * s >= h->total_size || h->total_size > lim ||
	    payload > s) {
		m->st.frag_bad++;
		return 0;
	}
	if (rejected(m, h->frame_id)) {
		m->st.frag_late++;
		return 0;
	}
	t = epics_ns(h->ts_sec, h->ts_nsec);
	for (unsigned int i = 0; i < m->o.max_images; i++)
		if (m->img[i].used && m->img[i].frame_id == h->frame_id) {
			im = &m->img[i];
			slot = (int)i;
			break;
		}
	if (im) {
		if (im->total != h->total_size || im->count != h->frag_count || im->stride != s ||
		    im->pulse != h->pulse_id || im->t != t) {
			m->st.frag_bad++;
			return 0;
		}
		if (im->bits[h->frag_index / 8] & (1U << (h->frag_index % 8))) {
			m->st.frag_dup++;
			return 0;
		}
	} else {
		int c = m->have_last ? key_cmp(m, h->pulse_id, t, m->last_pulse, m->last_t) : 1;
		uint32_t hh;

		/* strictly older, or the same pulse as a header already resolved */
		if (c < 0 || (c == 0 && h->pulse_id && m->last_pulse)) {
			m->st.too_old++;
			m->too_old_mark = 1;
			reject(m, h->frame_id);
			return 0;
		}
		im = new_slot(m);
		if (pb_pool_alloc(m->o.pool, 0, 1, 0, &hh) != 0) {
			m->st.drops_pool++;
			reject(m, h->frame_id);
			return 0;
		}
		im->bits = calloc((h->frag_count + 7) / 8, 1);
		if (!im->bits) {
			pb_pool_put(m->o.pool, hh);
			m->st.drops_pool++;
			reject(m, h->frame_id);
			return 0;
		}
		im->used = 1;
		im->frame_id = h->frame_id;
		im->pulse = h->pulse_id;
		im->t = t;
		im->ts_sec = h->ts_sec;
		im->ts_nsec = h->ts_nsec;
		im->total = h->total_size;
		im->stride = s;
		im->count = h->frag_count;
		im->h = hh;
		im->cap = pb_pool_bufsize(m->o.pool, 0);
		im->t_first = now;
		im->order = m->order++;
		im->overflow = im->total > im->cap;
		if (im->overflow)
			m->st.overflow++;
		m->st.images++;
		slot = (int)(im - m->img);
	}
	d->slot = slot;
	if (h->frag_offset < im->cap) {
		d->dst = (uint8_t *)pb_pool_addr(m->o.pool, im->h) + h->frag_offset;
		d->len = payload < im->cap - h->frag_offset ? payload : im->cap - h->frag_offset;
	}
	d->discard = payload - d->len;
	d->frag = h->frag_index;
	return 1;
}

void pb_ni_frag_commit(struct pb_ni *m, const struct pb_ni_dest *d, int ok, uint64_t now)
{
	struct img *im;

	if (d->slot < 0 || (unsigned int)d->slot >= m->o.max_images)
		return;
	im = &m->img[d->slot];
	if (!im->used || !ok || d->frag >= im->count)
		return;
	if (im->bits[d->frag / 8] & (1U << (d->frag % 8)))
		return;
	im->bits[d->frag / 8] |= (uint8_t)(1U << (d->frag % 8));
	if (++im->seen == im->count) {
		im->complete = 1;
		reconcile(m, now);
	}
}

int pb_ni_frag_copy(struct pb_ni *m, const struct pb_net_hdr *h, const void *payload,
		    uint64_t len, uint64_t now)
{
	struct pb_ni_dest d;

	if (!pb_ni_frag_begin(m, h, len, now, &d))
		return 0;
	if (d.len)
		memcpy(d.dst, payload, d.len);
	pb_ni_frag_commit(m, &d, 1, now);
	return 1;
}

int pb_ni_push_header(struct pb_ni *m, const struct pb_event *ev, uint64_t now)
{
	int l1 = (ev->flags & PB_EV_HAS_TIMING) && ev->transition == PGPDMA_TR_L1ACCEPT;
	struct hent *e;

	if (m->n == m->o.max_headers) {
		unsigned int k;

		for (k = 0; k < m->n; k++) {
			e = fifo_at(m, k);
			if (e->l1 && e->state == H_PENDING)
				break;
		}
		if (k == m->n)
			return -ENOSPC;
		m->st.forced++;
		resolve_empty(m, e, PB_DMG_TIMEOUT);
		return -ENOSPC;	/* emit first, then push again */
	}
	e = fifo_at(m, m->n);
	memset(e, 0, sizeof(*e));
	e->ev = *ev;
	e->l1 = l1;
	e->t_arr = now;
	e->t = epics_ns(ev->ts_sec, ev->ts_nsec);
	if (l1) {
		e->ev.buf = PB_POOL_NONE;
		e->state = H_PENDING;
		m->st.headers++;
	} else {
		e->state = H_RESOLVED;
	}
	m->n++;
	reconcile(m, now);
	return 0;
}

int pb_ni_next_event(struct pb_ni *m, uint64_t now, struct pb_event *ev)
{
	struct hent *e;

	reconcile(m, now);
	if (!m->n)
		return 0;
	e = fifo_at(m, 0);
	if (e->state != H_RESOLVED)
		return 0;
	if (e->ev.buf == PB_POOL_NONE) {
		uint32_t h;
		int tr = pb_pool_count(m->o.pool, 1) > 0;

		if (pb_pool_alloc(m->o.pool, tr, 1, 0, &h) != 0)
			return -EAGAIN;
		e->ev.buf = h;
		e->ev.len = 0;
	}
	if (e->l1 && m->too_old_mark) {
		e->ev.damage |= PB_DMG_TOO_OLD;
		m->too_old_mark = 0;
	}
	*ev = e->ev;
	m->head = (m->head + 1) % m->o.max_headers;
	m->n--;
	return 1;
}

uint64_t pb_ni_next_deadline(const struct pb_ni *m)
{
	uint64_t d = UINT64_MAX;

	for (unsigned int k = 0; k < m->n; k++) {
		const struct hent *e = &m->fifo[(m->head + k) % m->o.max_headers];

		if (e->l1 && e->state == H_PENDING && e->t_arr + m->o.timeout_ns < d)
			d = e->t_arr + m->o.timeout_ns;
	}
	for (unsigned int i = 0; i < m->o.max_images; i++)
		if (m->img[i].used && m->img[i].t_first + 2 * m->o.timeout_ns < d)
			d = m->img[i].t_first + 2 * m->o.timeout_ns;
	return d;
}

unsigned int pb_ni_pending_headers(const struct pb_ni *m)
{
	return m->n;
}

unsigned int pb_ni_pending_images(const struct pb_ni *m)
{
	unsigned int n = 0;

	for (unsigned int i = 0; i < m->o.max_images; i++)
		n += m->img[i].used != 0;
	return n;
}

void pb_ni_get_stats(const struct pb_ni *m, struct pb_ni_stats *st)
{
	*st = m->st;
}

int pb_ni_format_summary(const struct pb_ni_stats *s, char *buf, size_t len)
{
	int n;

	if (!s || !buf || !len)
		return -EINVAL;
	n = snprintf(buf, len,
		     "=== Network ingress ===\n"
		     "MATCH:  matched=%" PRIu64 "  missing=%" PRIu64 "  too_old=%" PRIu64 "  timed_out=%" PRIu64
		     "  truncated=%" PRIu64 "  overflow=%" PRIu64 "  unmatched=%" PRIu64 "  headers=%" PRIu64
		     "  forced=%" PRIu64 "\n"
		     "NET:    images=%" PRIu64 "  datagrams=%" PRIu64 "  bytes=%" PRIu64 "  drops_socket=%" PRIu64
		     "  drops_pool=%" PRIu64 "  frag_bad=%" PRIu64 "  frag_dup=%" PRIu64 "  frag_late=%" PRIu64 "\n",
		     s->matched, s->missing, s->too_old, s->timed_out, s->truncated, s->overflow,
		     s->unmatched, s->headers, s->forced, s->images, s->datagrams, s->bytes,
		     s->drops_socket, s->drops_pool, s->frag_bad, s->frag_dup, s->frag_late);
	if (n < 0 || (size_t)n >= len)
		return -ENOSPC;
	return n;
}

int pb_ni_format_prometheus(const struct pb_ni_stats *s, char *buf, size_t len)
{
	size_t off = 0;
	int n;

	if (!s || !buf || !len)
		return -EINVAL;
	buf[0] = 0;
#define PB_NI_PROM(name, help) \
	n = snprintf(buf + off, len - off, "# HELP pebbled_net_%s_total %s\n# TYPE pebbled_net_%s_total counter\n" \
		     "pebbled_net_%s_total %" PRIu64 "\n", #name, help, #name, #name, s->name); \
	if (n < 0 || (size_t)n >= len - off) \
		return -ENOSPC; \
	off += (size_t)n;
	PB_NI_COUNTERS(PB_NI_PROM)
#undef PB_NI_PROM
	return (int)off;
}
