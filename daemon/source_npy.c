// SPDX-License-Identifier: GPL-2.0
/* pebbled .npy replay source; see source_npy.h. */
#include <dirent.h>
#include <errno.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>
#include <linux/pgpdma.h>
#include "archive_format.h"
#include "npy.h"
#include "source_npy.h"

/*
 * The files of a directory, loaded and checked: one geometry and dtype, and
 * each file a whole number of frames (a 1-D or 2-D array is one frame, the
 * leading dimensions of a higher one a stack of frames).
 */
struct npy_set {
	struct npy_array *arr;
	size_t n;
	uint32_t dtype, width, height;
	size_t frame_bytes;
	uint64_t frames;
};

struct npy_src {
	struct pb_source base;
	struct pb_npy_options opt;
	struct npy_set set;
	size_t next_file;	/* the next frame: file ... */
	uint64_t next_in_file;	/* ... and frame of its stack */
	int efd;
	/* synthesized transitions still to emit: queue of ids */
	unsigned int pending[4];
	unsigned int npending;
	int end_emitted;
	uint64_t pulse_id;
	uint32_t evt_counter;
	struct timespec next_due;
	struct pb_source_stats st;
};

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static int has_npy_suffix(const char *n)
{
	size_t l = strlen(n);

	return l > 4 && !strcmp(n + l - 4, ".npy");
}

/* Sorted list of .npy names in @dir. */
static int list_files(const char *dir, char ***names, size_t *count)
{
	DIR *d = opendir(dir);
	struct dirent *de;
	char **v = NULL;
	size_t n = 0, cap = 0;

	if (!d)
		return -errno;
	while ((de = readdir(d))) {
		if (!has_npy_suffix(de->d_name))
			continue;
		if (n == cap) {
			char **nv = realloc(v, (cap = cap ? 2 * cap : 16) * sizeof(*v));

			if (!nv)
				goto nomem;
			v = nv;
		}
		if (!(v[n] = strdup(de->d_name)))
			goto nomem;
		n++;
	}
	closedir(d);
	if (n)
		qsort(v, n, sizeof(*v), cmp_str);
	*names = v;
	*count = n;
	return n ? 0 : -ENOENT;
nomem:
	closedir(d);
	while (n)
		free(v[--n]);
	free(v);
	return -ENOMEM;
}

static void free_names(char **v, size_t n)
{
	while (n)
		free(v[--n]);
	free(v);
}

static int fail(char *err, size_t errlen, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static int fail(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	if (err && errlen) {
		va_start(ap, fmt);
		vsnprintf(err, errlen, fmt, ap);
		va_end(ap);
	}
	return -EINVAL;
}

/* Geometry and dtype of one loaded file, or -EINVAL with the reason in @err. */
static int file_geometry(const char *path, const struct npy_array *a, struct npy_set *g,
			 char *err, size_t errlen)
{
	char name[32], shape[96], known[160];
	uint64_t frames = 1, h, w;

	g->dtype = pb_dtype_from_npy(a->descr[1], a->itemsize);
	if (!g->dtype)
		return fail(err, errlen, "%s: dtype %s ('%s') is not one the archive records (%s)",
			    path, npy_dtype_name(a, name, sizeof(name)), a->descr,
			    pb_dtype_list(known, sizeof(known)));
	if (a->ndim == 0)
		return fail(err, errlen, "%s: a 0-d array (one number) is not an image", path);
	if (!a->data_len)
		return fail(err, errlen, "%s: empty array, shape %s", path,
			    npy_shape_str(a, shape, sizeof(shape)));
	/* npy_load() checked that the product of the shape fits in data_len */
	for (unsigned int i = 0; i + 2 < a->ndim; i++)
		frames *= a->shape[i];
	h = a->ndim >= 2 ? a->shape[a->ndim - 2] : 1;
	w = a->shape[a->ndim - 1];
	if (h > UINT32_MAX || w > UINT32_MAX)
		return fail(err, errlen, "%s: shape %s: an image dimension exceeds 2^32",
			    path, npy_shape_str(a, shape, sizeof(shape)));
	g->height = (uint32_t)h;
	g->width = (uint32_t)w;
	g->frame_bytes = a->data_len / frames;
	g->frames = frames;
	return 0;
}

/* Load and check every .npy file of @dir into @set; the reason in @err. */
static int load_set(const char *dir, struct npy_set *set, char *err, size_t errlen)
{
	char **names = NULL, path[4096], name[32], first[4096] = "";
	size_t count = 0;
	int ret;

	memset(set, 0, sizeof(*set));
	ret = list_files(dir, &names, &count);
	if (ret) {
		fail(err, errlen, "%s: %s", dir, ret == -ENOENT ? "no .npy files" : strerror(-ret));
		return ret;
	}
	set->arr = calloc(count, sizeof(*set->arr));
	if (!set->arr) {
		free_names(names, count);
		return -ENOMEM;
	}
	for (size_t i = 0; i < count && !ret; i++) {
		struct npy_array *a = &set->arr[i];
		struct npy_set g = { 0 };

		snprintf(path, sizeof(path), "%s/%s", dir, names[i]);
		ret = npy_load(path, a);
		if (ret) {
			if (ret == -EINVAL)
				fail(err, errlen, "%s: %s", path, a->error);
			else
				fail(err, errlen, "%s: %s", path, strerror(-ret));
			break;
		}
		set->n++;
		ret = file_geometry(path, a, &g, err, errlen);
		if (ret)
			break;
		if (i == 0) {
			set->dtype = g.dtype;
			set->width = g.width;
			set->height = g.height;
			set->frame_bytes = g.frame_bytes;
			snprintf(first, sizeof(first), "%s", names[i]);
		} else if (g.dtype != set->dtype || g.width != set->width || g.height != set->height) {
			ret = fail(err, errlen, "%s: %ux%u %s images, but %s has %ux%u %s: "
				   "every file of a replay must have the first file's geometry and dtype",
				   path, g.width, g.height, npy_dtype_name(a, name, sizeof(name)),
				   first, set->width, set->height, pb_dtype_name(set->dtype));
		}
		set->frames += g.frames;
	}
	free_names(names, count);
	return ret;
}

static void free_set(struct npy_set *set)
{
	for (size_t i = 0; i < set->n; i++)
		npy_free(&set->arr[i]);
	free(set->arr);
	memset(set, 0, sizeof(*set));
}

int pb_source_npy_scan(const char *dir, uint64_t *max_event, uint64_t *frames,
		       char *err, size_t errlen)
{
	struct npy_set set;
	int ret = load_set(dir, &set, err, errlen);

	if (!ret) {
		*max_event = set.frame_bytes + PGPDMA_TH_SIZE;
		if (frames)
			*frames = set.frames;
	}
	free_set(&set);
	return ret;
}

static void npy_wake(struct pb_source *s)
{
	struct npy_src *n = (struct npy_src *)s;
	uint64_t one = 1;

	if (write(n->efd, &one, sizeof(one)) < 0) {
		/* counter full: already woken */
	}
	pb_pool_wake(s->env.pool);
}

static int stopped(const struct npy_src *n)
{
	return n->base.env.stop && atomic_load(n->base.env.stop);
}

/* Wait until the next event is due; 0 if stopped meanwhile. */
static int pace(struct npy_src *n)
{
	struct timespec now;

	if (n->opt.rate_hz <= 0)
		return !stopped(n);
	for (;;) {
		long long ms;
		struct pollfd pfd = { n->efd, POLLIN, 0 };

		if (stopped(n))
			return 0;
		clock_gettime(CLOCK_MONOTONIC, &now);
		ms = (long long)(n->next_due.tv_sec - now.tv_sec) * 1000 +
		     (n->next_due.tv_nsec - now.tv_nsec) / 1000000;
		if (now.tv_sec > n->next_due.tv_sec ||
		    (now.tv_sec == n->next_due.tv_sec && now.tv_nsec >= n->next_due.tv_nsec))
			break;
		if (ms <= 0) {
			struct timespec d = n->next_due;

			clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &d, NULL);
			break;
		}
		poll(&pfd, 1, (int)(ms > 200 ? 200 : ms));
	}
	/* schedule the next one; do not try to catch up more than 1 s */
	{
		long long step = (long long)(1e9 / n->opt.rate_hz);
		long long due = (long long)n->next_due.tv_sec * 1000000000LL + n->next_due.tv_nsec + step;
		long long nw = (long long)now.tv_sec * 1000000000LL + now.tv_nsec;

		if (due < nw - 1000000000LL)
			due = nw;
		n->next_due.tv_sec = due / 1000000000LL;
		n->next_due.tv_nsec = due % 1000000000LL;
	}
	return 1;
}

/* Past the frame just taken: the next of the stack, or the next file's first. */
static void next_frame(struct npy_src *n)
{
	const struct npy_array *a = &n->set.arr[n->next_file];

	if (++n->next_in_file * n->set.frame_bytes >= a->data_len) {
		n->next_file++;
		n->next_in_file = 0;
	}
}

static int npy_next(struct pb_source *s, struct pb_event *ev)
{
	struct npy_src *n = (struct npy_src *)s;
	struct pb_timing t;
	struct timespec now;
	const uint8_t *frame = NULL;
	unsigned int tr_id = PGPDMA_TR_L1ACCEPT;
	uint8_t *dst;
	size_t cap, len;
	uint32_t h;
	int ret, is_tr;

	if (stopped(n))
		return 0;
	if (!n->npending && n->next_file >= n->set.n) {
		if (n->opt.loop) {
			n->next_file = 0;
			n->next_in_file = 0;
		} else if (n->opt.transitions && !n->end_emitted) {
			n->pending[0] = PGPDMA_TR_DISABLE;
			n->pending[1] = PGPDMA_TR_END_RUN;
			n->npending = 2;
			n->end_emitted = 1;
		} else {
			return -ENODATA;
		}
	}
	is_tr = n->npending > 0;
	if (is_tr) {
		tr_id = n->pending[0];
	} else {
		frame = (const uint8_t *)n->set.arr[n->next_file].data +
			n->next_in_file * n->set.frame_bytes;
		if (!pace(n))
			return 0;
	}
	ret = pb_source_take(&s->env, is_tr, &h);
	if (ret < 0)
		return ret == -EINTR ? 0 : ret;
	if (ret == 0) {		/* dropped: pool empty in drop mode */
		n->st.dropped_pool++;
		next_frame(n);
		n->pulse_id++;
		n->evt_counter = (n->evt_counter + 1) & PGPDMA_TH_EVT_COUNTER_MASK;
		return 0;
	}
	if (is_tr) {
		memmove(n->pending, n->pending + 1, sizeof(n->pending) - sizeof(n->pending[0]));
		n->npending--;
	} else {
		next_frame(n);
	}
	clock_gettime(CLOCK_REALTIME, &now);
	memset(&t, 0, sizeof(t));
	t.pulse_id = n->pulse_id++;
	t.transition = tr_id;
	t.seconds = (uint32_t)(now.tv_sec - PGPDMA_EPICS_EPOCH_OFFSET);
	t.nanoseconds = (uint32_t)now.tv_nsec;
	t.env = 1;
	t.readout_groups = 1;
	t.evt_counter = n->evt_counter;
	n->evt_counter = (n->evt_counter + 1) & PGPDMA_TH_EVT_COUNTER_MASK;

	dst = pb_pool_addr(s->env.pool, h);
	cap = pb_pool_bufsize(s->env.pool, (h & PB_POOL_TR) != 0);
	pb_timing_encode(&t, dst, cap);
	memset(ev, 0, sizeof(*ev));
	ev->buf = h;
	len = PGPDMA_TH_SIZE + (frame ? n->set.frame_bytes : 0);
	ev->orig_len = len;
	if (len > cap) {
		ev->damage |= PB_DMG_OVERFLOW;
		n->st.overflows++;
		len = cap;
	}
	if (frame && len > PGPDMA_TH_SIZE)
		memcpy(dst + PGPDMA_TH_SIZE, frame, len - PGPDMA_TH_SIZE);
	ev->len = (uint32_t)len;
	ev->dest = n->opt.dest;
	ev->dma_seq = n->st.events;
	ev->flags = PB_EV_HAS_TIMING;
	pb_event_set_timing(ev, &t);
	n->st.events++;
	PB_METRIC_ADD(s->env.metrics, dma_frames, 1);
	return 1;
}

static void npy_stats(struct pb_source *s, struct pb_source_stats *st)
{
	*st = ((struct npy_src *)s)->st;
}

static void npy_close(struct pb_source *s)
{
	struct npy_src *n = (struct npy_src *)s;

	free_set(&n->set);
	if (n->efd >= 0)
		close(n->efd);
	free(n);
}

static const struct pb_source_ops npy_ops = {
	.next = npy_next,
	.wake = npy_wake,
	.get_stats = npy_stats,
	.close = npy_close,
};

int pb_source_npy_open(struct pb_source **out, const struct pb_npy_options *o,
		       const struct pb_source_env *env, char *err, size_t errlen)
{
	struct npy_src *n;
	int ret;

	if (!out || !o || !o->dir || !env || !env->pool)
		return -EINVAL;
	if (err && errlen)
		err[0] = 0;
	n = calloc(1, sizeof(*n));
	if (!n)
		return -ENOMEM;
	n->efd = -1;
	n->base.ops = &npy_ops;
	n->base.name = "npy";
	n->base.env = *env;
	n->opt = *o;
	ret = load_set(o->dir, &n->set, err, errlen);
	if (!ret && (n->efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC)) < 0)
		ret = -errno;
	if (ret) {
		npy_close(&n->base);
		return ret;
	}
	n->base.max_event = n->set.frame_bytes + PGPDMA_TH_SIZE;
	n->base.dtype = n->set.dtype;
	n->base.width = n->set.width;
	n->base.height = n->set.height;
	if (o->transitions) {
		n->pending[0] = PGPDMA_TR_CONFIGURE;
		n->pending[1] = PGPDMA_TR_BEGIN_RUN;
		n->pending[2] = PGPDMA_TR_ENABLE;
		n->npending = 3;
	}
	n->pulse_id = 1;
	clock_gettime(CLOCK_MONOTONIC, &n->next_due);
	*out = &n->base;
	return 0;
}
