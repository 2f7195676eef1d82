// SPDX-License-Identifier: GPL-2.0
/* Lock-free SPSC ring; see spsc_ring.h. */
#include <errno.h>
#include <stdalign.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "spsc_ring.h"

#define PB_CACHELINE 64

/*
 * head and tail are free-running counters (they wrap at SIZE_MAX + 1,
 * which is a multiple of any power-of-two capacity); slot = counter & mask.
 */
struct pb_ring {
	/* read-only after create */
	alignas(PB_CACHELINE) size_t mask;
	size_t capacity;
	size_t elem_size;
	unsigned char *slots;

	/* consumer line */
	alignas(PB_CACHELINE) _Atomic size_t head;
	size_t tail_cache;		/* consumer's copy of tail */

	/* producer line */
	alignas(PB_CACHELINE) _Atomic size_t tail;
	size_t head_cache;		/* producer's copy of head */
	char pad[PB_CACHELINE - 2 * sizeof(size_t)];
};

int pb_ring_create(struct pb_ring **ring, size_t capacity, size_t elem_size)
{
	struct pb_ring *r;
	size_t bytes;

	if (!ring || !capacity || !elem_size || (capacity & (capacity - 1)))
		return -EINVAL;
	if (__builtin_mul_overflow(capacity, elem_size, &bytes) ||
	    bytes > SIZE_MAX - PB_CACHELINE)
		return -EOVERFLOW;
	r = aligned_alloc(PB_CACHELINE, sizeof(*r));
	if (!r)
		return -ENOMEM;
	memset(r, 0, sizeof(*r));
	bytes = (bytes + PB_CACHELINE - 1) / PB_CACHELINE * PB_CACHELINE;
	r->slots = aligned_alloc(PB_CACHELINE, bytes);
	if (!r->slots) {
		free(r);
		return -ENOMEM;
	}
	r->capacity = capacity;
	r->mask = capacity - 1;
	r->elem_size = elem_size;
	atomic_init(&r->head, 0);
	atomic_init(&r->tail, 0);
	*ring = r;
	return 0;
}

void pb_ring_destroy(struct pb_ring *r)
{
	if (!r)
		return;
	free(r->slots);
	free(r);
}

static inline void *slot(const struct pb_ring *r, size_t i)
{
	return r->slots + (i & r->mask) * r->elem_size;
}

/* Producer: free slots, refreshing the cached head only when needed. */
static size_t room(struct pb_ring *r, size_t tail, size_t want)
{
	size_t free_slots = r->capacity - (tail - r->head_cache);

	if (free_slots < want) {
		r->head_cache = atomic_load_explicit(&r->head, memory_order_acquire);
		free_slots = r->capacity - (tail - r->head_cache);
	}
	return free_slots;
}

/* Consumer: filled slots, refreshing the cached tail only when needed. */
static size_t avail(struct pb_ring *r, size_t head, size_t want)
{
	size_t n = r->tail_cache - head;

	if (n < want) {
		r->tail_cache = atomic_load_explicit(&r->tail, memory_order_acquire);
		n = r->tail_cache - head;
	}
	return n;
}

int pb_ring_push(struct pb_ring *r, const void *elem)
{
	size_t tail = atomic_load_explicit(&r->tail, memory_order_relaxed);

	if (room(r, tail, 1) < 1)
		return -EAGAIN;
	memcpy(slot(r, tail), elem, r->elem_size);
	atomic_store_explicit(&r->tail, tail + 1, memory_order_release);
	return 0;
}

/* Copy @n elements between the ring (from counter @at) and a flat array. */
static void copy_span(struct pb_ring *r, size_t at, unsigned char *flat, size_t n, int to_ring)
{
	size_t first = r->capacity - (at & r->mask);
	size_t n1 = n < first ? n : first;
	unsigned char *s = slot(r, at);

	if (to_ring) {
		memcpy(s, flat, n1 * r->elem_size);
		if (n > n1)
			memcpy(r->slots, flat + n1 * r->elem_size, (n - n1) * r->elem_size);
	} else {
		memcpy(flat, s, n1 * r->elem_size);
		if (n > n1)
			memcpy(flat + n1 * r->elem_size, r->slots, (n - n1) * r->elem_size);
	}
}

size_t pb_ring_push_batch(struct pb_ring *r, const void *elems, size_t n)
{
	size_t tail = atomic_load_explicit(&r->tail, memory_order_relaxed);
	size_t k = room(r, tail, n);

	if (k > n)
		k = n;
	if (!k)
		return 0;
	copy_span(r, tail, (unsigned char *)(uintptr_t)elems, k, 1);
	atomic_store_explicit(&r->tail, tail + k, memory_order_release);
	return k;
}

int pb_ring_pop(struct pb_ring *r, void *elem)
{
	size_t head = atomic_load_explicit(&r->head, memory_order_relaxed);

	if (avail(r, head, 1) < 1)
		return -EAGAIN;
	memcpy(elem, slot(r, head), r->elem_size);
	atomic_store_explicit(&r->head, head + 1, memory_order_release);
	return 0;
}

size_t pb_ring_pop_batch(struct pb_ring *r, void *elems, size_t n)
{
	size_t head = atomic_load_explicit(&r->head, memory_order_relaxed);
	size_t k = avail(r, head, n);

	if (k > n)
		k = n;
	if (!k)
		return 0;
	copy_span(r, head, elems, k, 0);
	atomic_store_explicit(&r->head, head + k, memory_order_release);
	return k;
}

int pb_ring_peek(struct pb_ring *r, void *elem)
{
	size_t head = atomic_load_explicit(&r->head, memory_order_relaxed);

	if (avail(r, head, 1) < 1)
		return -EAGAIN;
	memcpy(elem, slot(r, head), r->elem_size);
	return 0;
}

size_t pb_ring_size(const struct pb_ring *r)
{
	/* Read head first: tail only grows, so tail - head never underflows. */
	size_t head = atomic_load_explicit(&((struct pb_ring *)(uintptr_t)r)->head,
					   memory_order_acquire);
	size_t tail = atomic_load_explicit(&((struct pb_ring *)(uintptr_t)r)->tail,
					   memory_order_acquire);
	size_t n = tail - head;

	return n > r->capacity ? r->capacity : n;
}

size_t pb_ring_capacity(const struct pb_ring *r)
{
	return r->capacity;
}

size_t pb_ring_elem_size(const struct pb_ring *r)
{
	return r->elem_size;
}
