// SPDX-License-Identifier: GPL-2.0
/*
 * pgpdma - engine interface: dispatch to the back-end and the services
 * a back-end uses to take, complete and recycle buffers.
 *
 * The services take pgpdma_dev.lock without disabling interrupts: a
 * back-end calls them from process context (a threaded IRQ handler, a
 * kthread, a workqueue), never from a hard IRQ handler or a softirq;
 * might_sleep() makes the debug kernel say so.
 */
#include <linux/errno.h>
#include <linux/poll.h>
#include "pgpdma.h"
#include "engine.h"

/**
 * pgpdma_engine_kick() - tell the engine RX buffers or TX frames changed
 * @pd: device
 *
 * Does not sleep; called without pd->lock held. Callers run inside
 * the device's SRCU guard (a file operation) or are the back-end itself,
 * so a device seen present here is not halted before the kick returns.
 */
void pgpdma_engine_kick(struct pgpdma_dev *pd)
{
	if (!READ_ONCE(pd->gone) && pd->eng_ops->kick)
		pd->eng_ops->kick(pd);
}

/**
 * pgpdma_engine_get() - read the engine settings
 * @pd: device
 * @cfg: output, zeroed by the caller
 *
 * Return: 0, or -EOPNOTSUPP if the back-end has no settings.
 */
int pgpdma_engine_get(struct pgpdma_dev *pd, struct pgpdma_engine *cfg)
{
	if (!pd->eng_ops->get)
		return -EOPNOTSUPP;
	return pd->eng_ops->get(pd, cfg);
}

/**
 * pgpdma_engine_set() - apply engine settings
 * @pd: device
 * @cfg: settings from userspace, not yet validated
 *
 * Return: 0, -EINVAL for bad settings, or -EOPNOTSUPP.
 */
int pgpdma_engine_set(struct pgpdma_dev *pd, const struct pgpdma_engine *cfg)
{
	if (!pd->eng_ops->set)
		return -EOPNOTSUPP;
	return pd->eng_ops->set(pd, cfg);
}

/**
 * pgpdma_engine_inject() - queue a transition frame
 * @pd: device
 * @inj: request from userspace, not yet validated
 *
 * Return: 0, -EINVAL, -EAGAIN if too many are queued, or -EOPNOTSUPP.
 */
int pgpdma_engine_inject(struct pgpdma_dev *pd,
			 const struct pgpdma_inject *inj)
{
	if (!pd->eng_ops->inject)
		return -EOPNOTSUPP;
	return pd->eng_ops->inject(pd, inj);
}

/**
 * pgpdma_engine_show() - append the engine state to a seq_file
 * @pd: device
 * @m: seq_file of /proc/pgpdmaN
 */
void pgpdma_engine_show(struct pgpdma_dev *pd, struct seq_file *m)
{
	seq_printf(m, "engine           : %s\n", pd->eng_ops->name);
	if (pd->eng_ops->show)
		pd->eng_ops->show(pd, m);
}

/**
 * pgpdma_tx_queue_frame() - hand a complete TX frame to the engine
 * @pd: device
 * @chain: TX_USER or TX_HW buffers of the frame, in order; emptied
 * @nbufs: number of buffers in @chain
 *
 * The buffers become TX_HW and unowned. Caller holds pd->lock and kicks
 * the engine (pgpdma_engine_kick()) once it has dropped it.
 */
void pgpdma_tx_queue_frame(struct pgpdma_dev *pd, struct list_head *chain,
			   u32 nbufs)
{
	struct pgpdma_buf *b, *next;
	bool head = true;

	lockdep_assert_held(&pd->lock);
	list_for_each_entry_safe(b, next, chain, node) {
		b->owner = NULL;
		if (b->state != PGPDMA_ST_TX_HW)
			pgpdma_set_state(pd, b, PGPDMA_ST_TX_HW);
		b->nbufs = head ? nbufs : 0;
		head = false;
		list_move_tail(&b->node, &pd->tx_queue);
	}
}

/**
 * pgpdma_rx_free_count() - RX buffers the engine could take now
 * @pd: device
 *
 * Return: the count; a hint unless the caller holds pd->lock.
 */
u32 pgpdma_rx_free_count(struct pgpdma_dev *pd)
{
	return READ_ONCE(pd->rx_free_n);
}

/**
 * pgpdma_rx_take() - take free RX buffers to fill
 * @pd: device
 * @n: buffers wanted
 * @out: empty list that receives them, in order
 *
 * All or nothing. The buffers stay RX_HW (owned by the engine) but leave
 * the free list until completed or aborted.
 *
 * Return: 0, or -ENOBUFS when fewer than @n are free.
 */
int pgpdma_rx_take(struct pgpdma_dev *pd, u32 n, struct list_head *out)
{
	struct pgpdma_buf *b;
	u32 i;

	might_sleep();	/* process context: a threaded IRQ, a kthread */

	spin_lock(&pd->lock);
	if (pd->rx_free_n < n) {
		spin_unlock(&pd->lock);
		return -ENOBUFS;
	}
	for (i = 0; i < n; i++) {
		b = pgpdma_list_take(&pd->rx_free);
		if (!b)
			break;
		list_move_tail(&b->node, out);
		b->posted = true;
		pd->rx_free_n--;
	}
	spin_unlock(&pd->lock);
	if (i < n) {
		pgpdma_rx_abort(pd, out);
		return -ENOBUFS;
	}
	return 0;
}

/**
 * pgpdma_rx_abort() - put taken RX buffers back unused
 * @pd: device
 * @bufs: list from pgpdma_rx_take(); emptied
 */
void pgpdma_rx_abort(struct pgpdma_dev *pd, struct list_head *bufs)
{
	struct pgpdma_buf *b, *next;

	spin_lock(&pd->lock);
	list_for_each_entry_safe(b, next, bufs, node)
		pgpdma_rx_recycle(pd, b);
	spin_unlock(&pd->lock);
}

/*
 * Hand the frame in pd->rx_partial to the file claiming its dest, or
 * recycle it (rx_drop_unclaimed). Caller holds pd->lock; returns whether
 * the engine should be kicked (buffers went back to it).
 */
static bool pgpdma_rx_deliver_locked(struct pgpdma_dev *pd)
{
	u32 dest = pd->rx_partial_dest, error = pd->rx_partial_error;
	u32 nbufs = pd->rx_partial_n, len = 0;
	struct pgpdma_buf *b, *next, *head;
	struct pgpdma_file *f;
	u64 seq;

	lockdep_assert_held(&pd->lock);
	pd->rx_partial_n = 0;
	pd->rx_partial_error = 0;
	seq = pd->dest_seq[dest]++;
	f = pd->dest_owner[dest];
	if (!f) {
		list_for_each_entry_safe(b, next, &pd->rx_partial, node)
			pgpdma_rx_recycle(pd, b);
		pd->st.rx_drop_unclaimed++;
		return true;
	}
	head = list_first_entry(&pd->rx_partial, struct pgpdma_buf, node);
	list_for_each_entry(b, &pd->rx_partial, node) {
		len += b->size;
		b->flags = list_is_last(&b->node, &pd->rx_partial) ?
			   0 : PGPDMA_RXF_CONT;
		b->nbufs = 0;
		b->frame_len = 0;
		b->dest = dest;
		b->error = error;
		b->seq = seq;
		b->owner = f;
		pgpdma_set_state(pd, b, PGPDMA_ST_RX_QUEUED);
	}
	head->flags |= PGPDMA_RXF_SOF;
	head->nbufs = nbufs;
	head->frame_len = len;
	list_splice_tail_init(&pd->rx_partial, &f->rxq);
	f->rxq_frames++;
	pd->st.rx_frames++;
	pd->st.rx_bytes += len;
	pd->st.rx_buffers += nbufs;
	if (nbufs > 1)
		pd->st.rx_cont_frames++;
	if (error)
		pd->st.rx_errors++;
	pgpdma_wake_rx(f);
	return false;
}

/* Why a completion is refused, or NULL. Caller holds pd->lock. */
static const char *pgpdma_rx_completion_bad(struct pgpdma_dev *pd,
					    const struct pgpdma_rx_completion *c)
{
	if (c->index >= pd->rx_count)
		return "index out of range";
	if (!pd->rx[c->index].posted)
		return "buffer not posted to the device";
	if (c->size > pd->buf_size)
		return "size larger than the buffer";
	if (c->dest >= PGPDMA_MAX_DEST)
		return "dest out of range";
	if (pd->rx_partial_n && c->dest != pd->rx_partial_dest)
		return "dest changed inside a frame";
	if (c->flags & ~PGPDMA_RXF_CONT)
		return "unknown flags";
	return NULL;
}

/*
 * One completion, pd->lock held. A refused one gives its buffer (if it
 * names one the device holds) and the frame it was part of back to the
 * free list and is counted in rx_bad_completion. Returns 0 or -EINVAL;
 * sets *@kick when buffers went back to the engine.
 */
static int pgpdma_rx_complete_locked(struct pgpdma_dev *pd,
				     const struct pgpdma_rx_completion *c,
				     bool *kick)
{
	const char *why = pgpdma_rx_completion_bad(pd, c);
	struct pgpdma_buf *b, *next;

	lockdep_assert_held(&pd->lock);
	if (why) {
		pd->st.rx_bad_completion++;
		dev_warn_ratelimited(&pd->dev, "refused RX completion (index %u size %u flags %#x dest %u): %s\n",
				     c->index, c->size, c->flags, c->dest, why);
		if (c->index < pd->rx_count && pd->rx[c->index].posted)
			pgpdma_rx_recycle(pd, &pd->rx[c->index]);
		list_for_each_entry_safe(b, next, &pd->rx_partial, node)
			pgpdma_rx_recycle(pd, b);
		pd->rx_partial_n = 0;
		pd->rx_partial_error = 0;
		*kick = true;
		return -EINVAL;
	}
	b = &pd->rx[c->index];
	b->posted = false;
	b->size = c->size;
	list_move_tail(&b->node, &pd->rx_partial);
	pd->rx_partial_n++;
	pd->rx_partial_dest = c->dest;
	pd->rx_partial_error |= c->error;
	if (!(c->flags & PGPDMA_RXF_CONT) && pgpdma_rx_deliver_locked(pd))
		*kick = true;
	return 0;
}

/**
 * pgpdma_rx_complete_one() - the device completed one RX buffer
 * @pd: device
 * @c: what the device reported, not yet trusted
 *
 * The hardware-shaped completion: a back-end reads its device's
 * completion descriptors and reports each, in order. The buffer must be
 * one the back-end took (pgpdma_rx_take()) and not completed since, its
 * size within the buffer, its dest in range and the same throughout a
 * frame. A frame ends with a completion without PGPDMA_RXF_CONT and then
 * gets its sequence number and the SOF/CONT flags and is queued to the
 * file claiming its dest, or recycled (rx_drop_unclaimed) when nobody
 * does. A refused completion is counted in rx_bad_completion and never
 * changes the state of a buffer the device does not hold.
 *
 * Return: 0, or -EINVAL for a refused completion.
 */
int pgpdma_rx_complete_one(struct pgpdma_dev *pd,
			   const struct pgpdma_rx_completion *c)
{
	bool kick = false;
	int ret;

	might_sleep();	/* process context: a threaded IRQ, a kthread */

	spin_lock(&pd->lock);
	ret = pgpdma_rx_complete_locked(pd, c, &kick);
	spin_unlock(&pd->lock);
	if (kick)
		pgpdma_engine_kick(pd);
	return ret;
}

/**
 * pgpdma_rx_complete() - complete a filled frame
 * @pd: device
 * @bufs: buffers of the frame in order, each with ->size set; emptied
 * @dest: destination of the frame
 * @error: PGPDMA_RXE_* bits for the frame
 *
 * For a back-end that holds the buffers themselves (the firmware model):
 * one pgpdma_rx_complete_one() per buffer under one hold of the lock, so
 * the same checks apply.
 */
void pgpdma_rx_complete(struct pgpdma_dev *pd, struct list_head *bufs,
			u32 dest, u32 error)
{
	struct pgpdma_rx_completion c = { .dest = dest, .error = error };
	struct pgpdma_buf *b, *next;
	bool kick = false;

	might_sleep();	/* process context: a threaded IRQ, a kthread */

	spin_lock(&pd->lock);
	list_for_each_entry_safe(b, next, bufs, node) {
		c.index = b->index;
		c.size = b->size;
		c.flags = list_is_last(&b->node, bufs) ? 0 : PGPDMA_RXF_CONT;
		pgpdma_rx_complete_locked(pd, &c, &kick);
	}
	spin_unlock(&pd->lock);
	if (kick)
		pgpdma_engine_kick(pd);
}

/**
 * pgpdma_rx_drop_nobuf() - count a frame lost for want of RX buffers
 * @pd: device
 * @dest: its destination; its sequence number still advances
 */
void pgpdma_rx_drop_nobuf(struct pgpdma_dev *pd, u32 dest)
{
	spin_lock(&pd->lock);
	pd->dest_seq[dest]++;
	pd->st.rx_drop_nobuf++;
	spin_unlock(&pd->lock);
}

/**
 * pgpdma_eng_count() - add to a counter in pd->st under the lock
 * @pd: device
 * @counter: a field of pd->st
 * @add: amount
 */
void pgpdma_eng_count(struct pgpdma_dev *pd, u64 *counter, u64 add)
{
	spin_lock(&pd->lock);
	*counter += add;
	spin_unlock(&pd->lock);
}

/**
 * pgpdma_tx_pending() - is a submitted TX frame waiting?
 * @pd: device
 *
 * Return: true if pgpdma_tx_fetch() would return a frame.
 */
bool pgpdma_tx_pending(struct pgpdma_dev *pd)
{
	bool ret;

	spin_lock(&pd->lock);
	ret = !list_empty(&pd->tx_queue);
	spin_unlock(&pd->lock);
	return ret;
}

/**
 * pgpdma_tx_fetch() - take the oldest submitted TX frame
 * @pd: device
 * @out: empty list receiving the frame's buffers in order (still TX_HW)
 * @dest: output, the frame's dest (that of its first buffer)
 *
 * Submission keeps a frame within PGPDMA_MAX_FRAME bytes and its chain
 * within the TX pool, so the length fits a u32.
 *
 * Return: bytes in the frame, 0 if none is queued.
 */
u32 pgpdma_tx_fetch(struct pgpdma_dev *pd, struct list_head *out, u32 *dest)
{
	struct pgpdma_buf *b;
	u32 i, n;
	u64 len = 0;

	might_sleep();	/* process context: a threaded IRQ, a kthread */

	spin_lock(&pd->lock);
	if (list_empty(&pd->tx_queue)) {
		spin_unlock(&pd->lock);
		return 0;
	}
	b = list_first_entry(&pd->tx_queue, struct pgpdma_buf, node);
	n = b->nbufs;
	*dest = b->dest;
	for (i = 0; i < n; i++) {
		b = pgpdma_list_take(&pd->tx_queue);
		if (!b)
			break;
		len += b->size;
		list_move_tail(&b->node, out);
	}
	spin_unlock(&pd->lock);
	if (WARN_ON_ONCE(!len || len > PGPDMA_MAX_FRAME)) {
		/* Never hand the engine a frame it could overrun with. */
		pgpdma_tx_done(pd, out);
		return 0;
	}
	return len;
}

/**
 * pgpdma_tx_done() - a TX frame was sent; count it and free its buffers
 * @pd: device
 * @bufs: list from pgpdma_tx_fetch(); emptied
 */
void pgpdma_tx_done(struct pgpdma_dev *pd, struct list_head *bufs)
{
	struct pgpdma_buf *b, *next;

	spin_lock(&pd->lock);
	pd->st.tx_frames++;
	list_for_each_entry_safe(b, next, bufs, node) {
		pd->st.tx_bytes += b->size;
		pd->st.tx_buffers++;
		pgpdma_tx_recycle(pd, b);
	}
	spin_unlock(&pd->lock);
	pgpdma_wake_tx(pd);
}
