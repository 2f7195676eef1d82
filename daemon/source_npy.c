// SPDX-License-Identifier: GPL-2.0
/* pebbled .npy replay source; see source_npy.h. */
#include <dirent.h>
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>
#include <linux/pgpdma.h>
#include "npy.h"
#include "source_npy.h"

struct npy_src {
	struct pb_source base;
	struct pb_npy_options opt;
	struct npy_array *arr;
	size_t n;
	size_t next_file;
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

int pb_source_npy_scan(const char *dir, uint64_t *max_event, uint64_t *files)
{
	char **names;
	size_t n;
	uint64_t max = 0;
	int ret = list_files(dir, &names, &n);

	if (ret)
		return ret;
	for (size_t i = 0; i < n; i++) {
		char path[4096];
		struct npy_array a;

		snprintf(path, sizeof(path), "%s/%s", dir, names[i]);
		ret = npy_load(path, &a);
		if (ret)
			break;
		if (a.data_len + PGPDMA_TH_SIZE > max)
			max = a.data_len + PGPDMA_TH_SIZE;
		npy_free(&a);
	}
	free_names(names, n);
	if (ret)
		return ret;
	*max_event = max;
	if (files)
		*files = n;
	return 0;
}

static uint32_t dtype_of(const char *descr)
{
	static const struct { const char *d; uint32_t t; } m[] = {
		{ "|u1", 1 }, { "<u1", 1 }, { "u1", 1 }, { "<u2", 2 }, { "<u4", 3 },
		{ "<i2", 4 }, { "<i4", 5 }, { "<f4", 6 }, { "<f8", 7 },
	};

	for (size_t i = 0; i < sizeof(m) / sizeof(m[0]); i++)
		if (!strcmp(descr, m[i].d))
			return m[i].t;
	return 0;
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

static int npy_next(struct pb_source *s, struct pb_event *ev)
{
	struct npy_src *n = (struct npy_src *)s;
	struct pb_timing t;
	struct timespec now;
	const struct npy_array *a = NULL;
	unsigned int tr_id = PGPDMA_TR_L1ACCEPT;
	uint8_t *dst;
	size_t cap, len;
	uint32_t h;
	int ret, is_tr;

	if (stopped(n))
		return 0;
	if (!n->npending && n->next_file >= n->n) {
		if (n->opt.loop) {
			n->next_file = 0;
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
		a = &n->arr[n->next_file];
		if (!pace(n))
			return 0;
	}
	ret = pb_source_take(&s->env, is_tr, &h);
	if (ret < 0)
		return ret == -EINTR ? 0 : ret;
	if (ret == 0) {		/* dropped: pool empty in drop mode */
		n->st.dropped_pool++;
		n->next_file++;
		n->pulse_id++;
		n->evt_counter = (n->evt_counter + 1) & PGPDMA_TH_EVT_COUNTER_MASK;
		return 0;
	}
	if (is_tr) {
		memmove(n->pending, n->pending + 1, sizeof(n->pending) - sizeof(n->pending[0]));
		n->npending--;
	} else {
		n->next_file++;
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
	len = PGPDMA_TH_SIZE + (a ? a->data_len : 0);
	ev->orig_len = len;
	if (len > cap) {
		ev->damage |= PB_DMG_OVERFLOW;
		n->st.overflows++;
		len = cap;
	}
	if (a && len > PGPDMA_TH_SIZE)
		memcpy(dst + PGPDMA_TH_SIZE, a->data, len - PGPDMA_TH_SIZE);
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

	for (size_t i = 0; i < n->n; i++)
		npy_free(&n->arr[i]);
	free(n->arr);
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
	char **names = NULL;
	size_t count = 0;
	int ret;

	if (!out || !o || !o->dir || !env || !env->pool)
		return -EINVAL;
	if (err && errlen)
		err[0] = 0;
	ret = list_files(o->dir, &names, &count);
	if (ret) {
		if (err)
			snprintf(err, errlen, "%s: %s", o->dir,
				 ret == -ENOENT ? "no .npy files" : strerror(-ret));
		if (ret != -ENOENT)
			free_names(names, count);
		return ret;
	}
	n = calloc(1, sizeof(*n));
	if (!n || !(n->arr = calloc(count, sizeof(*n->arr)))) {
		free(n);
		free_names(names, count);
		return -ENOMEM;
	}
	n->efd = -1;
	n->base.ops = &npy_ops;
	n->base.name = "npy";
	n->base.env = *env;
	n->opt = *o;
	for (size_t i = 0; i < count; i++) {
		char path[4096];

		snprintf(path, sizeof(path), "%s/%s", o->dir, names[i]);
		ret = npy_load(path, &n->arr[i]);
		if (ret) {
			if (err)
				snprintf(err, errlen, "%s: %s", path,
					 ret == -EINVAL ? "not a valid .npy file" : strerror(-ret));
			break;
		}
		n->n++;
		if (n->arr[i].data_len + PGPDMA_TH_SIZE > n->base.max_event)
			n->base.max_event = n->arr[i].data_len + PGPDMA_TH_SIZE;
	}
	free_names(names, count);
	if (!ret && (n->efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC)) < 0)
		ret = -errno;
	if (ret) {
		npy_close(&n->base);
		return ret;
	}
	n->base.dtype = dtype_of(n->arr[0].descr);
	if (n->arr[0].ndim >= 2) {
		n->base.height = (uint32_t)n->arr[0].shape[n->arr[0].ndim - 2];
		n->base.width = (uint32_t)n->arr[0].shape[n->arr[0].ndim - 1];
	} else if (n->arr[0].ndim == 1) {
		n->base.height = 1;
		n->base.width = (uint32_t)n->arr[0].shape[0];
	}
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
