// SPDX-License-Identifier: GPL-2.0
/*
 * pgpdma - buffer pool: DMA allocation and the ownership state machine.
 *
 * Every buffer is in exactly one enum pgpdma_buf_state. State changes go
 * through pgpdma_set_state() with pgpdma_dev.lock held, which keeps the
 * per-state counts and high-watermarks in pgpdma_dev.st exact.
 */
#include <linux/dma-mapping.h>
#include <linux/gfp.h>
#include <linux/mm.h>
#include <linux/poll.h>
#include <linux/slab.h>
#include "pgpdma.h"
#include "engine.h"

/* RX buffers are only ever written by the device, TX ones only read. */
static enum dma_data_direction pgpdma_dir(const struct pgpdma_buf *b)
{
	return b->rx ? DMA_FROM_DEVICE : DMA_TO_DEVICE;
}

static void pgpdma_buf_free(struct pgpdma_dev *pd, struct pgpdma_buf *b);

static int pgpdma_buf_alloc(struct pgpdma_dev *pd, struct pgpdma_buf *b)
{
	if (!pd->streaming) {
		b->cpu = dma_alloc_coherent(pd->dma_dev, pd->stride, &b->dma,
					    GFP_KERNEL | __GFP_NOWARN);
		if (!b->cpu)
			return -ENOMEM;
		/* The fault handler maps it page by page (mmap.c). */
		if (!is_vmalloc_addr(b->cpu) && !virt_addr_valid(b->cpu)) {
			dev_err(pd->dma_dev, "coherent DMA memory without struct pages here: use cfgMode=streaming\n");
			pgpdma_buf_free(pd, b);
			return -EOPNOTSUPP;
		}
		return 0;
	}

	b->page = alloc_pages_node(dev_to_node(pd->dma_dev),
				   GFP_KERNEL | __GFP_NOWARN | __GFP_ZERO,
				   get_order(pd->stride));
	if (!b->page)
		return -ENOMEM;
	b->cpu = page_address(b->page);
	b->dma = dma_map_page(pd->dma_dev, b->page, 0, pd->stride,
			      pgpdma_dir(b));
	if (dma_mapping_error(pd->dma_dev, b->dma)) {
		__free_pages(b->page, get_order(pd->stride));
		b->page = NULL;
		b->cpu = NULL;
		return -ENOMEM;
	}
	return 0;
}

static void pgpdma_buf_free(struct pgpdma_dev *pd, struct pgpdma_buf *b)
{
	if (!b->cpu)
		return;
	if (!pd->streaming) {
		dma_free_coherent(pd->dma_dev, pd->stride, b->cpu, b->dma);
	} else {
		dma_unmap_page(pd->dma_dev, b->dma, pd->stride, pgpdma_dir(b));
		__free_pages(b->page, get_order(pd->stride));
	}
	b->cpu = NULL;
	b->page = NULL;
}

static void pgpdma_bufs_free(struct pgpdma_dev *pd, struct pgpdma_buf *bufs,
			     u32 n)
{
	u32 i;

	if (!bufs)
		return;
	for (i = 0; i < n; i++)
		pgpdma_buf_free(pd, &bufs[i]);
	kvfree(bufs);
}

static struct pgpdma_buf *pgpdma_bufs_alloc(struct pgpdma_dev *pd, u32 n,
					    bool rx, int *err)
{
	struct pgpdma_buf *bufs;
	u32 i;

	*err = -ENOMEM;
	bufs = kvzalloc_node(array_size(n, sizeof(*bufs)), GFP_KERNEL,
			     dev_to_node(pd->dma_dev));
	if (!bufs)
		return NULL;
	for (i = 0; i < n; i++) {
		bufs[i].index = i;
		bufs[i].rx = rx;
		INIT_LIST_HEAD(&bufs[i].node);
		*err = pgpdma_buf_alloc(pd, &bufs[i]);
		if (*err) {
			pgpdma_bufs_free(pd, bufs, i);
			return NULL;
		}
	}
	return bufs;
}

/**
 * pgpdma_pool_alloc() - allocate all RX and TX buffers of an instance
 * @pd: device; rx_count, tx_count, buf_size, stride and streaming are set,
 *      and dma_dev's DMA mask (the back-end sets it before registering)
 *
 * All or nothing: on failure every buffer allocated so far is freed.
 * On success all RX buffers are RX_HW and all TX buffers TX_FREE.
 *
 * Return: 0, -ENOMEM, or -EOPNOTSUPP (coherent memory the fault handler
 * could not map).
 */
int pgpdma_pool_alloc(struct pgpdma_dev *pd)
{
	int ret;
	u32 i;

	pd->rx = pgpdma_bufs_alloc(pd, pd->rx_count, true, &ret);
	if (!pd->rx)
		return ret;
	pd->tx = pgpdma_bufs_alloc(pd, pd->tx_count, false, &ret);
	if (!pd->tx)
		goto err_free_rx;

	for (i = 0; i < pd->rx_count; i++) {
		pd->rx[i].state = PGPDMA_ST_RX_HW;
		list_add_tail(&pd->rx[i].node, &pd->rx_free);
	}
	pd->rx_free_n = pd->rx_count;
	for (i = 0; i < pd->tx_count; i++) {
		pd->tx[i].state = PGPDMA_ST_TX_FREE;
		list_add_tail(&pd->tx[i].node, &pd->tx_free);
	}
	pd->tx_free_n = pd->tx_count;
	pd->st.state[PGPDMA_ST_RX_HW] = pd->rx_count;
	pd->st.state_hwm[PGPDMA_ST_RX_HW] = pd->rx_count;
	pd->st.state[PGPDMA_ST_TX_FREE] = pd->tx_count;
	pd->st.state_hwm[PGPDMA_ST_TX_FREE] = pd->tx_count;
	return 0;

err_free_rx:
	pgpdma_bufs_free(pd, pd->rx, pd->rx_count);
	pd->rx = NULL;
	return ret;
}

/**
 * pgpdma_pool_free_dma() - free the DMA memory of every buffer
 * @pd: device; the engine is halted, no mapping of the pool is left and
 *      pd->pool_freed is set (or the pool was never handed out)
 *
 * The bookkeeping (states, lists, owners) stays, so files can still be
 * closed and reclaimed; pgpdma_pool_free() frees it.
 */
void pgpdma_pool_free_dma(struct pgpdma_dev *pd)
{
	u32 i;

	for (i = 0; pd->rx && i < pd->rx_count; i++)
		pgpdma_buf_free(pd, &pd->rx[i]);
	for (i = 0; pd->tx && i < pd->tx_count; i++)
		pgpdma_buf_free(pd, &pd->tx[i]);
}

/**
 * pgpdma_pool_free() - free the buffer bookkeeping of an instance
 * @pd: device being released; its DMA memory is freed already
 */
void pgpdma_pool_free(struct pgpdma_dev *pd)
{
	pgpdma_bufs_free(pd, pd->tx, pd->tx_count);
	pgpdma_bufs_free(pd, pd->rx, pd->rx_count);
	pd->tx = NULL;
	pd->rx = NULL;
}

/**
 * pgpdma_buf_pfn() - page frame of page @i of a buffer, for the fault handler
 * @b: buffer whose DMA memory is allocated
 * @i: page index inside the buffer (below pgpdma_dev.stride / PAGE_SIZE)
 *
 * Return: the pfn; coherent memory may be remapped (an IOMMU), streaming
 * and directly mapped coherent memory is physically contiguous.
 */
unsigned long pgpdma_buf_pfn(const struct pgpdma_buf *b, unsigned long i)
{
	const u8 *va = (const u8 *)b->cpu + (i << PAGE_SHIFT);

	if (is_vmalloc_addr(va))
		return vmalloc_to_pfn(va);
	return page_to_pfn(virt_to_page(b->cpu)) + i;
}

/**
 * pgpdma_set_state() - move a buffer to a new ownership state
 * @pd: device
 * @b: buffer
 * @state: enum pgpdma_buf_state
 *
 * Keeps the per-state counts and high-watermarks. Caller holds pd->lock.
 */
void pgpdma_set_state(struct pgpdma_dev *pd, struct pgpdma_buf *b, u32 state)
{
	lockdep_assert_held(&pd->lock);
	pd->st.state[b->state]--;
	b->state = state;
	pd->st.state[state]++;
	if (pd->st.state[state] > pd->st.state_hwm[state])
		pd->st.state_hwm[state] = pd->st.state[state];
}

/**
 * pgpdma_list_take() - first buffer of a list whose count says non-empty
 * @list: free list, TX queue or a file's RX queue
 *
 * The lists and their counts change together under pd->lock; a list that
 * is empty while its count is not is a bug, never a buffer to hand out:
 * a list head taken for a buffer would let the engine or a client write
 * over kernel memory.
 *
 * Return: the first buffer (still linked), or NULL with a warning.
 */
struct pgpdma_buf *pgpdma_list_take(struct list_head *list)
{
	if (WARN_ON_ONCE(list_empty(list)))
		return NULL;
	return list_first_entry(list, struct pgpdma_buf, node);
}

/**
 * pgpdma_rx_sync_for_cpu() - let the CPU read what the device wrote
 * @pd: device
 * @b: RX buffer holding @b->size bytes of a completed frame
 *
 * No-op for coherent buffers. Safe in atomic context.
 */
void pgpdma_rx_sync_for_cpu(struct pgpdma_dev *pd, struct pgpdma_buf *b)
{
	if (pd->streaming && b->size)
		dma_sync_single_for_cpu(pd->dma_dev, b->dma, b->size,
					DMA_FROM_DEVICE);
}

/*
 * Give an RX buffer back to the device, which may write all of it. Runs
 * under pd->lock, which orders it against pool_freed.
 */
static void pgpdma_rx_sync_for_device(struct pgpdma_dev *pd,
				      struct pgpdma_buf *b)
{
	if (pd->streaming && !pd->pool_freed)
		dma_sync_single_for_device(pd->dma_dev, b->dma, pd->buf_size,
					   DMA_FROM_DEVICE);
}

/**
 * pgpdma_tx_sync_for_cpu() - let the CPU fill a TX buffer
 * @pd: device
 * @b: TX buffer about to be handed to a writer
 *
 * No-op for coherent buffers. Safe in atomic context.
 */
void pgpdma_tx_sync_for_cpu(struct pgpdma_dev *pd, struct pgpdma_buf *b)
{
	if (pd->streaming)
		dma_sync_single_for_cpu(pd->dma_dev, b->dma, pd->buf_size,
					DMA_TO_DEVICE);
}

/**
 * pgpdma_tx_sync_for_device() - hand the @b->size bytes written to the device
 * @pd: device
 * @b: TX buffer with ->size set
 *
 * No-op for coherent buffers. Safe in atomic context.
 */
void pgpdma_tx_sync_for_device(struct pgpdma_dev *pd, struct pgpdma_buf *b)
{
	if (pd->streaming && b->size)
		dma_sync_single_for_device(pd->dma_dev, b->dma, b->size,
					   DMA_TO_DEVICE);
}

/**
 * pgpdma_rx_recycle() - give an RX buffer back to the engine (RX_HW)
 * @pd: device
 * @b: RX buffer, in any list or none
 *
 * Hands the whole buffer back to the device (DMA sync). Caller holds
 * pd->lock and kicks the engine afterwards.
 */
void pgpdma_rx_recycle(struct pgpdma_dev *pd, struct pgpdma_buf *b)
{
	lockdep_assert_held(&pd->lock);
	if (b->state == PGPDMA_ST_RX_USER && b->owner)
		b->owner->rx_held--;
	pgpdma_rx_sync_for_device(pd, b);
	b->owner = NULL;
	b->mark = false;
	b->posted = false;
	if (b->state != PGPDMA_ST_RX_HW)
		pgpdma_set_state(pd, b, PGPDMA_ST_RX_HW);
	list_move_tail(&b->node, &pd->rx_free);
	pd->rx_free_n++;
}

/**
 * pgpdma_tx_recycle() - put a TX buffer back on the free list (TX_FREE)
 * @pd: device
 * @b: TX buffer, in any list or none
 *
 * Caller holds pd->lock and wakes pd->tx_wq afterwards.
 */
void pgpdma_tx_recycle(struct pgpdma_dev *pd, struct pgpdma_buf *b)
{
	lockdep_assert_held(&pd->lock);
	b->owner = NULL;
	b->mark = false;
	pgpdma_set_state(pd, b, PGPDMA_ST_TX_FREE);
	list_move_tail(&b->node, &pd->tx_free);
	pd->tx_free_n++;
}

/**
 * pgpdma_rxq_drop_unclaimed() - recycle queued frames a file no longer claims
 * @pd: device
 * @f: file whose queue is scanned
 *
 * Frames in @f's queue for a dest outside @f's mask are recycled and
 * counted in rx_drop_unclaimed. Caller holds pd->lock.
 *
 * Return: number of frames dropped.
 */
u32 pgpdma_rxq_drop_unclaimed(struct pgpdma_dev *pd, struct pgpdma_file *f)
{
	struct pgpdma_buf *b, *next;
	u32 left = 0, dropped = 0;
	bool drop = false;

	lockdep_assert_held(&pd->lock);
	list_for_each_entry_safe(b, next, &f->rxq, node) {
		if (!left) {
			left = b->nbufs;
			drop = !pgpdma_mask_has(f->mask, b->dest);
			if (drop) {
				dropped++;
				f->rxq_frames--;
				pd->st.rx_drop_unclaimed++;
			}
		}
		left--;
		if (drop)
			pgpdma_rx_recycle(pd, b);
	}
	return dropped;
}

/**
 * pgpdma_file_reclaim() - take back everything a closing file holds
 * @pd: device
 * @f: file being released
 *
 * Drops the file's dest claims, recycles its queued frames (counted as
 * rx_drop_unclaimed), and returns its RX_USER buffers to RX_HW and its
 * acquired or half-submitted TX buffers to TX_FREE (counted in reclaimed).
 */
void pgpdma_file_reclaim(struct pgpdma_dev *pd, struct pgpdma_file *f)
{
	struct pgpdma_buf *b, *next;
	u32 i;

	spin_lock(&pd->lock);
	for (i = 0; i < PGPDMA_MAX_DEST; i++)
		if (pd->dest_owner[i] == f)
			pd->dest_owner[i] = NULL;
	memset(f->mask, 0, sizeof(f->mask));
	pgpdma_rxq_drop_unclaimed(pd, f);

	for (i = 0; i < pd->rx_count; i++) {
		b = &pd->rx[i];
		if (b->state == PGPDMA_ST_RX_USER && b->owner == f) {
			pgpdma_rx_recycle(pd, b);
			pd->st.reclaimed++;
		}
	}
	for (i = 0; i < pd->tx_count; i++) {
		b = &pd->tx[i];
		if (b->state == PGPDMA_ST_TX_USER && b->owner == f) {
			pgpdma_tx_recycle(pd, b);
			pd->st.reclaimed++;
		}
	}
	list_for_each_entry_safe(b, next, &f->tx_chain, node) {
		pgpdma_tx_recycle(pd, b);
		pd->st.reclaimed++;
	}
	f->tx_chain_n = 0;
	f->tx_chain_bytes = 0;
	list_del_init(&f->node);
	spin_unlock(&pd->lock);

	pgpdma_wake_tx(pd);
	pgpdma_engine_kick(pd);
}

/* Validate a batch of indexes: all in @bufs, in @state, owned by @f, unique. */
static bool pgpdma_batch_valid(struct pgpdma_buf *bufs, u32 nbufs,
			       struct pgpdma_file *f, u32 state,
			       const u32 *idx, u32 n)
{
	bool ok = true;
	u32 i, j;

	for (i = 0; i < n; i++) {
		struct pgpdma_buf *b;

		if (idx[i] >= nbufs) {
			ok = false;
			break;
		}
		b = &bufs[idx[i]];
		if (b->state != state || b->owner != f || b->mark) {
			ok = false;
			break;
		}
		b->mark = true;
	}
	for (j = 0; j < i; j++)
		bufs[idx[j]].mark = false;
	return ok;
}

/**
 * pgpdma_rx_return() - give RX buffers a file holds back to the engine
 * @pd: device
 * @f: file
 * @idx: RX indexes
 * @n: number of indexes
 *
 * All or nothing: an index out of range, not RX_USER of @f, or repeated
 * fails the whole batch and changes nothing.
 *
 * Return: 0, -EINVAL, or -ENODEV once the device is gone (the buffers
 * stay with @f until it is closed).
 */
int pgpdma_rx_return(struct pgpdma_dev *pd, struct pgpdma_file *f,
		     const u32 *idx, u32 n)
{
	u32 i;

	spin_lock(&pd->lock);
	if (pd->gone) {
		spin_unlock(&pd->lock);
		return -ENODEV;
	}
	if (!pgpdma_batch_valid(pd->rx, pd->rx_count, f, PGPDMA_ST_RX_USER,
				idx, n)) {
		spin_unlock(&pd->lock);
		return -EINVAL;
	}
	for (i = 0; i < n; i++)
		pgpdma_rx_recycle(pd, &pd->rx[idx[i]]);
	pd->st.user_returns += n;
	spin_unlock(&pd->lock);
	pgpdma_engine_kick(pd);
	return 0;
}

/**
 * pgpdma_tx_release() - give acquired TX buffers back unsent
 * @pd: device
 * @f: file
 * @idx: TX indexes
 * @n: number of indexes
 *
 * All or nothing, like pgpdma_rx_return().
 *
 * Return: 0, -EINVAL, or -ENODEV once the device is gone.
 */
int pgpdma_tx_release(struct pgpdma_dev *pd, struct pgpdma_file *f,
		      const u32 *idx, u32 n)
{
	u32 i;

	spin_lock(&pd->lock);
	if (pd->gone) {
		spin_unlock(&pd->lock);
		return -ENODEV;
	}
	if (!pgpdma_batch_valid(pd->tx, pd->tx_count, f, PGPDMA_ST_TX_USER,
				idx, n)) {
		spin_unlock(&pd->lock);
		return -EINVAL;
	}
	for (i = 0; i < n; i++)
		pgpdma_tx_recycle(pd, &pd->tx[idx[i]]);
	spin_unlock(&pd->lock);
	pgpdma_wake_tx(pd);
	return 0;
}

/**
 * pgpdma_rx_ready() - wait condition of RX readers
 * @f: file
 *
 * Return: true when @f has a frame queued or the device is gone.
 */
bool pgpdma_rx_ready(struct pgpdma_file *f)
{
	bool ret;

	spin_lock(&f->pd->lock);
	ret = f->rxq_frames > 0 || f->pd->gone;
	spin_unlock(&f->pd->lock);
	return ret;
}

/**
 * pgpdma_tx_avail() - wait condition of TX writers
 * @pd: device
 * @n: TX buffers wanted
 *
 * Return: true when @n TX buffers are free or the device is gone.
 */
bool pgpdma_tx_avail(struct pgpdma_dev *pd, u32 n)
{
	bool ret;

	spin_lock(&pd->lock);
	ret = pd->tx_free_n >= n || pd->gone;
	spin_unlock(&pd->lock);
	return ret;
}

/**
 * pgpdma_wake_rx() - wake a file's readers and EPOLLIN pollers
 * @f: file with a new frame queued (or a device gone)
 *
 * Keyed: pollers waiting only for EPOLLOUT stay asleep.
 */
void pgpdma_wake_rx(struct pgpdma_file *f)
{
	wake_up_interruptible_poll(&f->rx_wq, EPOLLIN | EPOLLRDNORM);
}

/**
 * pgpdma_wake_tx() - wake TX waiters and EPOLLOUT pollers
 * @pd: device whose TX buffers were freed (or that is gone)
 *
 * Keyed: pollers waiting only for EPOLLIN stay asleep.
 */
void pgpdma_wake_tx(struct pgpdma_dev *pd)
{
	wake_up_interruptible_poll(&pd->tx_wq, EPOLLOUT | EPOLLWRNORM);
}

/**
 * pgpdma_stats_snapshot() - consistent copy of the counters
 * @pd: device
 * @st: output; the state counts add up to the pool sizes
 */
void pgpdma_stats_snapshot(struct pgpdma_dev *pd, struct pgpdma_stats *st)
{
	spin_lock(&pd->lock);
	*st = pd->st;
	spin_unlock(&pd->lock);
}
