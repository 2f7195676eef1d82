// SPDX-License-Identifier: GPL-2.0
/* pebbled pebble and transition-buffer pools; see pebble_pool.h. */
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>
#include "pebble_pool.h"

struct sub {
	size_t count;
	size_t size;		/* usable bytes */
	size_t stride;		/* size rounded to pages + one guard page */
	uint8_t *base;
	size_t map_len;
	uint32_t *free;		/* stack of free indexes */
	size_t nfree;
	_Atomic unsigned int *refs;
	_Atomic uint32_t *mark;
};

struct pb_pool {
	pthread_mutex_t lock;
	pthread_cond_t cond;
	struct sub sub[2];
	uint64_t exhausted;
	unsigned int wake_gen;
	int locked;
};

static int sub_init(struct sub *s, size_t count, size_t size, size_t page)
{
	size_t rounded, len;

	s->count = count;
	s->size = size;
	if (!count)
		return 0;
	if (size > SIZE_MAX - 2 * page)
		return -EOVERFLOW;
	rounded = (size + page - 1) / page * page;
	s->stride = rounded + page;
	if (count > SIZE_MAX / s->stride)
		return -EOVERFLOW;
	len = count * s->stride;
	s->base = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (s->base == MAP_FAILED) {
		s->base = NULL;
		return -ENOMEM;
	}
	s->map_len = len;
	for (size_t i = 0; i < count; i++)
		if (mprotect(s->base + i * s->stride + rounded, page, PROT_NONE) < 0)
			return -errno;
	s->free = malloc(count * sizeof(*s->free));
	s->refs = calloc(count, sizeof(*s->refs));
	s->mark = calloc(count, sizeof(*s->mark));
	if (!s->free || !s->refs || !s->mark)
		return -ENOMEM;
	/* stack: lowest index on top, so a quiet pipeline reuses few pages */
	for (size_t i = 0; i < count; i++)
		s->free[i] = (uint32_t)(count - 1 - i);
	s->nfree = count;
	return 0;
}

static void sub_free(struct sub *s)
{
	if (s->base)
		munmap(s->base, s->map_len);
	free(s->free);
	free((void *)s->refs);
	free((void *)s->mark);
}

void pb_pool_destroy(struct pb_pool *p)
{
	if (!p)
		return;
	sub_free(&p->sub[0]);
	sub_free(&p->sub[1]);
	pthread_cond_destroy(&p->cond);
	pthread_mutex_destroy(&p->lock);
	free(p);
}

int pb_pool_create(struct pb_pool **out, const struct pb_pool_options *o)
{
	size_t page = (size_t)sysconf(_SC_PAGESIZE);
	struct pb_pool *p;
	pthread_condattr_t ca;
	int ret;

	if (!out || !o || !o->count || !o->size || (o->tr_count && !o->tr_size))
		return -EINVAL;
	if (o->count >= PB_POOL_TR || o->tr_count >= PB_POOL_TR)
		return -EOVERFLOW;
	p = calloc(1, sizeof(*p));
	if (!p)
		return -ENOMEM;
	pthread_mutex_init(&p->lock, NULL);
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&p->cond, &ca);
	pthread_condattr_destroy(&ca);
	ret = sub_init(&p->sub[0], o->count, o->size, page);
	if (!ret)
		ret = sub_init(&p->sub[1], o->tr_count, o->tr_size, page);
	if (ret) {
		pb_pool_destroy(p);
		return ret;
	}
	if (o->mlock) {
		int ok = 1, err = 0;

		/* lock each buffer, not the PROT_NONE guard pages */
		for (int k = 0; k < 2 && ok; k++)
			for (size_t i = 0; i < p->sub[k].count && ok; i++)
				if (mlock(p->sub[k].base + i * p->sub[k].stride, p->sub[k].stride - page) < 0) {
					err = errno;
					ok = 0;
				}
		if (!ok)
			for (int k = 0; k < 2; k++)
				if (p->sub[k].base)
					munlock(p->sub[k].base, p->sub[k].map_len);
		p->locked = ok;
		if (!ok && o->log) {
			struct rlimit rl = { 0, 0 };
			char msg[256];

			getrlimit(RLIMIT_MEMLOCK, &rl);
			if (rl.rlim_cur == RLIM_INFINITY)
				snprintf(msg, sizeof(msg), "pebble pool not locked in memory: mlock: %s", strerror(err));
			else
				snprintf(msg, sizeof(msg),
					 "pebble pool not locked in memory: mlock: %s (RLIMIT_MEMLOCK %llu KiB < %zu KiB needed; "
					 "set LimitMEMLOCK=infinity or ulimit -l)", strerror(err),
					 (unsigned long long)rl.rlim_cur / 1024,
					 (p->sub[0].map_len + p->sub[1].map_len) / 1024);
			o->log(o->log_ctx, msg);
		}
	}
	*out = p;
	return 0;
}

static struct sub *sub_of(const struct pb_pool *p, uint32_t h, uint32_t *idx)
{
	const struct sub *s;

	if (!p || h == PB_POOL_NONE)
		return NULL;
	s = &p->sub[(h & PB_POOL_TR) ? 1 : 0];
	*idx = h & ~PB_POOL_TR;
	if (*idx >= s->count)
		return NULL;
	return (struct sub *)s;
}

int pb_pool_alloc(struct pb_pool *p, int tr, unsigned int refs, int timeout_ms, uint32_t *h)
{
	struct sub *s;
	struct timespec dl;
	unsigned int gen;
	int counted = 0, ret = 0;

	if (!p || !h || !refs)
		return -EINVAL;
	s = &p->sub[tr ? 1 : 0];
	if (!s->count)
		return -ENOENT;
	if (timeout_ms > 0) {
		clock_gettime(CLOCK_MONOTONIC, &dl);
		dl.tv_sec += timeout_ms / 1000;
		dl.tv_nsec += (long)(timeout_ms % 1000) * 1000000L;
		if (dl.tv_nsec >= 1000000000L) {
			dl.tv_sec++;
			dl.tv_nsec -= 1000000000L;
		}
	}
	pthread_mutex_lock(&p->lock);
	gen = p->wake_gen;
	while (!s->nfree) {
		if (!counted) {
			p->exhausted++;
			counted = 1;
		}
		if (timeout_ms == 0) {
			ret = -EAGAIN;
			break;
		}
		if (p->wake_gen != gen) {
			ret = -EINTR;
			break;
		}
		if (timeout_ms < 0) {
			pthread_cond_wait(&p->cond, &p->lock);
		} else if (pthread_cond_timedwait(&p->cond, &p->lock, &dl) == ETIMEDOUT && !s->nfree) {
			ret = -ETIMEDOUT;
			break;
		}
	}
	if (!ret) {
		uint32_t i = s->free[--s->nfree];

		atomic_store(&s->refs[i], refs);
		atomic_store(&s->mark[i], 0);
		*h = i | (tr ? PB_POOL_TR : 0);
	}
	pthread_mutex_unlock(&p->lock);
	return ret;
}

void pb_pool_ref(struct pb_pool *p, uint32_t h, unsigned int n)
{
	uint32_t i;
	struct sub *s = sub_of(p, h, &i);

	if (s)
		atomic_fetch_add(&s->refs[i], n);
}

unsigned int pb_pool_put(struct pb_pool *p, uint32_t h)
{
	uint32_t i;
	struct sub *s = sub_of(p, h, &i);
	unsigned int left;

	if (!s)
		return 0;
	left = atomic_fetch_sub(&s->refs[i], 1) - 1;
	if (left == 0) {
		pthread_mutex_lock(&p->lock);
		s->free[s->nfree++] = i;
		pthread_cond_broadcast(&p->cond);
		pthread_mutex_unlock(&p->lock);
	}
	return left;
}

void *pb_pool_addr(const struct pb_pool *p, uint32_t h)
{
	uint32_t i;
	struct sub *s = sub_of(p, h, &i);

	return s ? s->base + (size_t)i * s->stride : NULL;
}

size_t pb_pool_bufsize(const struct pb_pool *p, int tr)
{
	return p ? p->sub[tr ? 1 : 0].size : 0;
}

size_t pb_pool_count(const struct pb_pool *p, int tr)
{
	return p ? p->sub[tr ? 1 : 0].count : 0;
}

size_t pb_pool_in_use(const struct pb_pool *p, int tr)
{
	const struct sub *s;
	size_t n;

	if (!p)
		return 0;
	s = &p->sub[tr ? 1 : 0];
	pthread_mutex_lock((pthread_mutex_t *)&p->lock);
	n = s->count - s->nfree;
	pthread_mutex_unlock((pthread_mutex_t *)&p->lock);
	return n;
}

uint64_t pb_pool_exhausted(const struct pb_pool *p)
{
	uint64_t n;

	if (!p)
		return 0;
	pthread_mutex_lock((pthread_mutex_t *)&p->lock);
	n = p->exhausted;
	pthread_mutex_unlock((pthread_mutex_t *)&p->lock);
	return n;
}

int pb_pool_locked(const struct pb_pool *p)
{
	return p ? p->locked : 0;
}

void pb_pool_wake(struct pb_pool *p)
{
	if (!p)
		return;
	pthread_mutex_lock(&p->lock);
	p->wake_gen++;
	pthread_cond_broadcast(&p->cond);
	pthread_mutex_unlock(&p->lock);
}

int pb_pool_mark(struct pb_pool *p, uint32_t h, uint32_t v)
{
	uint32_t i, zero = 0;
	struct sub *s = sub_of(p, h, &i);

	return s && atomic_compare_exchange_strong(&s->mark[i], &zero, v);
}

uint32_t pb_pool_marked(const struct pb_pool *p, uint32_t h)
{
	uint32_t i;
	struct sub *s = sub_of(p, h, &i);

	return s ? atomic_load(&s->mark[i]) : 0;
}
