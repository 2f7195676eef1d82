/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Pebble pool: the userspace event buffers of pebbled (seed 000).
 *
 * Two pools in one object, both sized from the sizing plan:
 *   pebbles            pebbleBufCount x pebbleBufSize, one event each
 *   transition buffers trbuf_count (= pebbleBufCount) x max transition size
 * Every buffer is page-aligned and followed by a PROT_NONE guard page, so
 * an overrun faults instead of corrupting the next event. The pools are
 * mlock()ed when the limits allow (RLIMIT_MEMLOCK); otherwise the log
 * callback is told once and the pool works unlocked.
 *
 * A buffer is named by a handle: its index, with PB_POOL_TR set for a
 * transition buffer. pb_pool_alloc() hands out a free buffer with a
 * reference count (one per consumer that will see it: processing,
 * archive); each consumer calls pb_pool_put() when done and the buffer
 * returns to its free list when the count reaches zero. Allocation waits
 * at most a bounded time (condition variable, no spinning).
 *
 * Thread safety: every function may be called from any thread.
 */
#ifndef PEBBLED_PEBBLE_POOL_H
#define PEBBLED_PEBBLE_POOL_H

#include <stddef.h>
#include <stdint.h>

#define PB_POOL_TR	0x80000000U	/* handle bit: transition buffer */
#define PB_POOL_NONE	0xffffffffU	/* no buffer */

struct pb_pool;

/**
 * struct pb_pool_options
 * @count, @size:       pebbles and bytes per pebble (> 0)
 * @tr_count, @tr_size: transition buffers and their size (0 = none)
 * @mlock:              1 = try to lock the pools in memory
 * @log, @log_ctx:      told once when mlock is not possible (may be NULL)
 */
struct pb_pool_options {
	size_t count;
	size_t size;
	size_t tr_count;
	size_t tr_size;
	int mlock;
	void (*log)(void *ctx, const char *msg);
	void *log_ctx;
};

/**
 * pb_pool_create() - map both pools with guard pages
 * Returns 0, -EINVAL (zero count/size, NULL), -EOVERFLOW, -ENOMEM.
 */
int pb_pool_create(struct pb_pool **p, const struct pb_pool_options *o);

/* Unmap everything (NULL is fine). No buffer may be in use by a thread. */
void pb_pool_destroy(struct pb_pool *p);

/**
 * pb_pool_alloc() - take a free buffer
 * @tr:         1 = transition buffer, 0 = pebble
 * @refs:       initial reference count (>= 1)
 * @timeout_ms: 0 = do not wait, < 0 = wait until one is free or
 *              pb_pool_wake(), > 0 = wait at most this long
 * @h:          out: the handle
 * Returns 0, -EAGAIN (none free, no wait), -ETIMEDOUT, -EINTR (woken by
 * pb_pool_wake()), -ENOENT (no transition pool), -EINVAL.
 */
int pb_pool_alloc(struct pb_pool *p, int tr, unsigned int refs, int timeout_ms, uint32_t *h);

/* Add @n references to an allocated buffer. */
void pb_pool_ref(struct pb_pool *p, uint32_t h, unsigned int n);

/* Drop one reference; the last one frees the buffer. Returns the references left. */
unsigned int pb_pool_put(struct pb_pool *p, uint32_t h);

/* Address and capacity of a buffer (NULL / 0 for a bad handle). */
void *pb_pool_addr(const struct pb_pool *p, uint32_t h);
size_t pb_pool_bufsize(const struct pb_pool *p, int tr);
size_t pb_pool_count(const struct pb_pool *p, int tr);

/* Buffers currently allocated. */
size_t pb_pool_in_use(const struct pb_pool *p, int tr);

/* Times an allocation found its pool empty. */
uint64_t pb_pool_exhausted(const struct pb_pool *p);

/* 1 if both pools are locked in memory. */
int pb_pool_locked(const struct pb_pool *p);

/* Wake every thread waiting in pb_pool_alloc() (they return -EINTR). */
void pb_pool_wake(struct pb_pool *p);

/*
 * Per-buffer verification slot, shared by the consumers of one event:
 * 0 = not checked yet. pb_pool_mark() stores @v if the slot is still 0
 * and returns 1 if it did (the caller is the one to count the result).
 * The slot is cleared when the buffer is allocated.
 */
int pb_pool_mark(struct pb_pool *p, uint32_t h, uint32_t v);
uint32_t pb_pool_marked(const struct pb_pool *p, uint32_t h);

#endif /* PEBBLED_PEBBLE_POOL_H */
