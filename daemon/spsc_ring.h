/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Lock-free single-producer / single-consumer ring of fixed-size
 * descriptors (C11 atomics).
 *
 * Exactly one thread may call the producer functions (push, push_batch)
 * and exactly one thread the consumer functions (pop, pop_batch, peek)
 * at a time; size/capacity may be called from anywhere (the size is a
 * snapshot). The capacity is a power of two and all of it is usable.
 * head (written by the consumer) and tail (written by the producer) live
 * on separate cache lines, each side keeps a private cached copy of the
 * other's index so that it touches the shared line only when it must.
 * A push publishes the element with a release store; a pop reads it after
 * an acquire load, so the descriptor contents are visible to the consumer.
 */
#ifndef PEBBLED_SPSC_RING_H
#define PEBBLED_SPSC_RING_H

#include <stddef.h>

struct pb_ring;

/**
 * pb_ring_create() - allocate a ring
 * @ring:      out: the ring
 * @capacity:  number of slots, a power of two >= 1
 * @elem_size: bytes per descriptor, >= 1
 *
 * Returns 0, -EINVAL (capacity not a power of two, zero sizes, NULL),
 * -EOVERFLOW (capacity x elem_size too large) or -ENOMEM.
 */
int pb_ring_create(struct pb_ring **ring, size_t capacity, size_t elem_size);

/* pb_ring_destroy() - free a ring (NULL is fine). No thread may use it. */
void pb_ring_destroy(struct pb_ring *ring);

/* Producer: copy one descriptor in. Returns 0 or -EAGAIN if full. */
int pb_ring_push(struct pb_ring *ring, const void *elem);

/*
 * Producer: copy up to @n descriptors (contiguous array) in, in order.
 * Returns how many were pushed (0..n; fewer when the ring fills).
 */
size_t pb_ring_push_batch(struct pb_ring *ring, const void *elems, size_t n);

/* Consumer: copy the oldest descriptor out and remove it. 0 or -EAGAIN if empty. */
int pb_ring_pop(struct pb_ring *ring, void *elem);

/* Consumer: copy up to @n oldest descriptors out. Returns how many (0..n). */
size_t pb_ring_pop_batch(struct pb_ring *ring, void *elems, size_t n);

/* Consumer: copy the oldest descriptor out, leave it. 0 or -EAGAIN if empty. */
int pb_ring_peek(struct pb_ring *ring, void *elem);

/* Descriptors in the ring now (snapshot, 0..capacity). */
size_t pb_ring_size(const struct pb_ring *ring);

/* Slots in the ring. */
size_t pb_ring_capacity(const struct pb_ring *ring);

/* Bytes per descriptor. */
size_t pb_ring_elem_size(const struct pb_ring *ring);

#endif /* PEBBLED_SPSC_RING_H */
