// SPDX-License-Identifier: GPL-2.0
/*
 * pgpdma - ioctl commands (the ABI of uapi/linux/pgpdma.h).
 *
 * Who may do what (the trust model, also in the uapi header):
 *  - any open file: GET_INFO, GET_STATS, GET_DEST, ENGINE_GET, and RX_READ,
 *    RX_RETURN and read() of the frames of dests it claims;
 *  - a file open for writing: SET_DEST, INJECT to dests it claims, the TX
 *    calls and write(), writable mappings; else -EBADF;
 *  - CAP_SYS_ADMIN in addition: ENGINE_SET (generator, loopback), INJECT
 *    to any dest (-EACCES without it), raising a file's RX hold limit above
 *    the device default (-EPERM without it).
 *
 * Buffers an RX_READ or TX_ACQUIRE takes belong to no file until the call
 * has copied its answer out: until then no index-based call can return,
 * release or submit them, so a failing copy can recycle them safely.
 */
#include <linux/capability.h>
#include <linux/fs.h>
#include <linux/slab.h>
#include <linux/uaccess.h>
#include "pgpdma.h"
#include "engine.h"

/**
 * struct pgpdma_take - what one RX_READ took from a file's queue
 * @n:     descriptors filled
 * @rest:  first buffer of the part of a split chain left queued, or NULL
 * @seq:   sequence number of that chain
 */
struct pgpdma_take {
	u32 n;
	struct pgpdma_buf *rest;
	u64 seq;
};

/*
 * Move one queued buffer to RX_USER, held by the call (no owner yet).
 * Its DMA sync for the CPU runs after the lock is dropped.
 */
static void pgpdma_rx_take_one(struct pgpdma_dev *pd, struct pgpdma_buf *b,
			       struct pgpdma_rx_desc *d)
{
	d->index = b->index;
	d->size = b->size;
	d->flags = b->flags;
	d->dest = b->dest;
	d->error = b->error;
	d->seq = b->seq;
	list_del_init(&b->node);
	b->owner = NULL;
	pgpdma_set_state(pd, b, PGPDMA_ST_RX_USER);
}

/*
 * Take up to @limit queued buffers of @f; a chain splits only when longer
 * than @limit. Caller holds pd->lock.
 */
static void pgpdma_rx_take_locked(struct pgpdma_file *f,
				  struct pgpdma_rx_desc *d, u32 limit,
				  struct pgpdma_take *t)
{
	struct pgpdma_dev *pd = f->pd;
	struct pgpdma_buf *head, *b;
	u32 i, nb, taken_len;

	while (t->n < limit && !list_empty(&f->rxq)) {
		head = list_first_entry(&f->rxq, struct pgpdma_buf, node);
		nb = head->nbufs;
		if (nb > limit - t->n && t->n)
			break;
		nb = min(nb, limit - t->n);
		taken_len = 0;
		for (i = 0; i < nb; i++) {
			b = pgpdma_list_take(&f->rxq);
			if (!b)
				return;
			taken_len += b->size;
			pgpdma_rx_take_one(pd, b, &d[t->n++]);
		}
		if (nb < head->nbufs) {
			b = pgpdma_list_take(&f->rxq);
			if (!b)
				return;
			b->nbufs = head->nbufs - nb;
			b->frame_len = head->frame_len - taken_len;
			t->rest = b;
			t->seq = b->seq;
			return;
		}
		f->rxq_frames--;
	}
}

/*
 * Hand up to @count queued buffers to the call, within the file's hold
 * limit, and let the CPU see what the device wrote into them: the syncs
 * (a copy out of a bounce buffer each, behind an IOMMU or swiotlb) run
 * without pd->lock, on buffers no one else can touch (held by the call),
 * inside the file operation's SRCU guard, so the pool is still there.
 * Return: 0, -ENOBUFS when the file already holds its limit, or -ENODEV
 * once the device is gone.
 */
static int pgpdma_rx_take_user(struct pgpdma_file *f,
			       struct pgpdma_rx_desc *d, u32 count,
			       struct pgpdma_take *t)
{
	struct pgpdma_dev *pd = f->pd;
	u32 room, limit, i;

	spin_lock(&pd->lock);
	if (pd->gone) {
		spin_unlock(&pd->lock);
		return -ENODEV;
	}
	room = f->rx_hold_max > f->rx_held ? f->rx_hold_max - f->rx_held : 0;
	limit = min(count, room);
	if (!limit) {
		if (!list_empty(&f->rxq))
			pd->st.rx_hold_limited++;
		spin_unlock(&pd->lock);
		return -ENOBUFS;
	}
	pgpdma_rx_take_locked(f, d, limit, t);
	if (t->n == limit && limit < count && !list_empty(&f->rxq))
		pd->st.rx_hold_limited++;
	f->rx_held += t->n;
	pd->st.user_reads += t->n;
	spin_unlock(&pd->lock);
	for (i = 0; i < t->n; i++)
		pgpdma_rx_sync_for_cpu(pd, &pd->rx[d[i].index]);
	return 0;
}

/* The answer reached the caller: the buffers are now the file's. */
static void pgpdma_rx_commit(struct pgpdma_file *f,
			     const struct pgpdma_rx_desc *d, u32 n)
{
	struct pgpdma_dev *pd = f->pd;
	u32 i;

	spin_lock(&pd->lock);
	for (i = 0; i < n; i++)
		pd->rx[d[i].index].owner = f;
	spin_unlock(&pd->lock);
}

/*
 * The answer could not be copied out: recycle what the call took, and the
 * rest of a chain it split if that is still queued (it would start without
 * its start-of-frame). Counted in user_returns and rx_drop_fault.
 */
static void pgpdma_rx_unwind(struct pgpdma_file *f,
			     const struct pgpdma_rx_desc *d,
			     const struct pgpdma_take *t)
{
	struct pgpdma_dev *pd = f->pd;
	struct pgpdma_buf *b = t->rest;
	u32 i, frames = 0, left;

	spin_lock(&pd->lock);
	for (i = 0; i < t->n; i++) {
		if (d[i].flags & PGPDMA_RXF_SOF || !i)
			frames++;
		/* Held by this call alone (RX_USER, no owner) since the take. */
		pgpdma_rx_recycle(pd, &pd->rx[d[i].index]);
	}
	f->rx_held -= t->n;
	pd->st.user_returns += t->n;
	if (b && b->state == PGPDMA_ST_RX_QUEUED && b->owner == f &&
	    b->seq == t->seq && list_first_entry(&f->rxq, struct pgpdma_buf,
						 node) == b) {
		for (left = b->nbufs; left; left--) {
			b = pgpdma_list_take(&f->rxq);
			if (!b)
				break;
			pgpdma_rx_recycle(pd, b);
		}
		f->rxq_frames--;
	}
	pd->st.rx_drop_fault += frames;
	spin_unlock(&pd->lock);
	pgpdma_engine_kick(pd);
}

static int pgpdma_ioc_rx_read(struct pgpdma_file *f, struct file *file,
			      void __user *argp)
{
	struct pgpdma_take t = { 0 };
	struct pgpdma_rx_desc *d;
	struct pgpdma_rx_read rr;
	bool wait;
	int ret;

	if (copy_from_user(&rr, argp, sizeof(rr)))
		return -EFAULT;
	if (!rr.count || rr.count > PGPDMA_MAX_BATCH ||
	    rr.flags & ~PGPDMA_READ_WAIT || rr.reserved[0] ||
	    rr.reserved[1] || rr.reserved[2])
		return -EINVAL;
	wait = (rr.flags & PGPDMA_READ_WAIT) && !(file->f_flags & O_NONBLOCK);

	d = kvcalloc(rr.count, sizeof(*d), GFP_KERNEL);
	if (!d)
		return -ENOMEM;
	for (;;) {
		ret = pgpdma_rx_take_user(f, d, rr.count, &t);
		if (ret || t.n || !wait)
			break;
		ret = wait_event_interruptible(f->rx_wq, pgpdma_rx_ready(f));
		if (ret)
			break;
	}
	if (ret)
		goto out_free;

	rr.filled = t.n;
	if ((t.n && copy_to_user(u64_to_user_ptr(rr.descs), d,
				 t.n * sizeof(*d))) ||
	    copy_to_user(argp, &rr, sizeof(rr))) {
		pgpdma_rx_unwind(f, d, &t);
		ret = -EFAULT;
	} else {
		pgpdma_rx_commit(f, d, t.n);
	}
out_free:
	kvfree(d);
	return ret;
}

static u32 *pgpdma_get_index_list(void __user *argp, u32 *count)
{
	struct pgpdma_index_list il;
	u32 *idx;

	if (copy_from_user(&il, argp, sizeof(il)))
		return ERR_PTR(-EFAULT);
	if (!il.count || il.count > PGPDMA_MAX_BATCH || il.reserved[0] ||
	    il.reserved[1] || il.reserved[2])
		return ERR_PTR(-EINVAL);
	idx = kvmalloc_array(il.count, sizeof(*idx), GFP_KERNEL);
	if (!idx)
		return ERR_PTR(-ENOMEM);
	if (copy_from_user(idx, u64_to_user_ptr(il.indexes),
			   il.count * sizeof(*idx))) {
		kvfree(idx);
		return ERR_PTR(-EFAULT);
	}
	*count = il.count;
	return idx;
}

static int pgpdma_ioc_index_list(struct pgpdma_file *f, void __user *argp,
				 bool rx)
{
	u32 *idx, n = 0;
	int ret;

	idx = pgpdma_get_index_list(argp, &n);
	if (IS_ERR(idx))
		return PTR_ERR(idx);
	if (rx)
		ret = pgpdma_rx_return(f->pd, f, idx, n);
	else
		ret = pgpdma_tx_release(f->pd, f, idx, n);
	kvfree(idx);
	return ret;
}

/*
 * Take a free TX buffer for the call (TX_USER, no owner yet). Return: the
 * buffer, ERR_PTR(-EAGAIN) when none is free, or -ENODEV.
 */
static struct pgpdma_buf *pgpdma_tx_take(struct pgpdma_file *f)
{
	struct pgpdma_dev *pd = f->pd;
	struct pgpdma_buf *b = ERR_PTR(-EAGAIN);

	spin_lock(&pd->lock);
	if (pd->gone) {
		b = ERR_PTR(-ENODEV);
	} else if (pd->tx_free_n) {
		b = pgpdma_list_take(&pd->tx_free);
		if (b) {
			list_del_init(&b->node);
			pd->tx_free_n--;
			b->owner = NULL;
			pgpdma_set_state(pd, b, PGPDMA_ST_TX_USER);
		} else {
			b = ERR_PTR(-EAGAIN);
		}
	}
	spin_unlock(&pd->lock);
	return b;
}

static int pgpdma_ioc_tx_acquire(struct pgpdma_file *f, struct file *file,
				 void __user *argp)
{
	struct pgpdma_dev *pd = f->pd;
	struct pgpdma_tx_acquire ta;
	struct pgpdma_buf *b;
	int ret;

	if (copy_from_user(&ta, argp, sizeof(ta)))
		return -EFAULT;
	if (ta.flags & ~PGPDMA_TXA_WAIT || ta.reserved[0] || ta.reserved[1])
		return -EINVAL;

	for (;;) {
		b = pgpdma_tx_take(f);
		if (!IS_ERR(b))
			break;
		if (PTR_ERR(b) != -EAGAIN || !(ta.flags & PGPDMA_TXA_WAIT) ||
		    (file->f_flags & O_NONBLOCK))
			return PTR_ERR(b);
		ret = wait_event_interruptible(pd->tx_wq, pgpdma_tx_avail(pd, 1));
		if (ret)
			return ret;
	}
	pgpdma_tx_sync_for_cpu(pd, b);

	memset(&ta, 0, sizeof(ta));
	ta.index = b->index;
	ret = copy_to_user(argp, &ta, sizeof(ta)) ? -EFAULT : 0;
	spin_lock(&pd->lock);
	if (ret)
		/* Held by this call alone (TX_USER, no owner) since the take. */
		pgpdma_tx_recycle(pd, b);
	else
		b->owner = f;
	spin_unlock(&pd->lock);
	if (ret)
		pgpdma_wake_tx(pd);
	return ret;
}

/* Drop the frame @f is chaining: it would exceed PGPDMA_MAX_FRAME. */
static void pgpdma_tx_drop_chain(struct pgpdma_dev *pd, struct pgpdma_file *f)
{
	struct pgpdma_buf *b, *next;

	lockdep_assert_held(&pd->lock);
	list_for_each_entry_safe(b, next, &f->tx_chain, node)
		pgpdma_tx_recycle(pd, b);
	f->tx_chain_n = 0;
	f->tx_chain_bytes = 0;
	pd->st.tx_drop_oversize++;
}

static int pgpdma_ioc_tx_submit(struct pgpdma_file *f, void __user *argp)
{
	struct pgpdma_dev *pd = f->pd;
	struct pgpdma_tx_desc td;
	struct pgpdma_buf *b;
	int ret = 0;
	u32 i;

	if (copy_from_user(&td, argp, sizeof(td)))
		return -EFAULT;
	for (i = 0; i < ARRAY_SIZE(td.reserved); i++)
		if (td.reserved[i])
			return -EINVAL;
	if (td.flags & ~PGPDMA_TXF_CONT || !td.size ||
	    td.size > pd->buf_size || td.dest >= PGPDMA_MAX_DEST ||
	    td.index >= pd->tx_count)
		return -EINVAL;

	b = &pd->tx[td.index];
	spin_lock(&pd->lock);
	if (pd->gone) {
		ret = -ENODEV;
		goto out_unlock;
	}
	if (b->state != PGPDMA_ST_TX_USER || b->owner != f) {
		ret = -EINVAL;
		goto out_unlock;
	}
	if (f->tx_chain_bytes + td.size > PGPDMA_MAX_FRAME) {
		/* The buffer stays the caller's; the frame so far is lost. */
		pgpdma_tx_drop_chain(pd, f);
		ret = -EMSGSIZE;
		goto out_unlock;
	}
	b->size = td.size;
	b->dest = td.dest;
	b->flags = td.flags;
	pgpdma_tx_sync_for_device(pd, b);
	pgpdma_set_state(pd, b, PGPDMA_ST_TX_HW);
	list_move_tail(&b->node, &f->tx_chain);
	f->tx_chain_n++;
	f->tx_chain_bytes += td.size;
	if (!(td.flags & PGPDMA_TXF_CONT)) {
		pgpdma_tx_queue_frame(pd, &f->tx_chain, f->tx_chain_n);
		f->tx_chain_n = 0;
		f->tx_chain_bytes = 0;
	}
out_unlock:
	spin_unlock(&pd->lock);
	if (ret == -EMSGSIZE)
		pgpdma_wake_tx(pd);
	if (!ret && !(td.flags & PGPDMA_TXF_CONT))
		pgpdma_engine_kick(pd);
	return ret;
}

static int pgpdma_ioc_set_dest(struct pgpdma_file *f, void __user *argp)
{
	struct pgpdma_dev *pd = f->pd;
	struct pgpdma_dest_mask dm;
	u32 d;

	if (copy_from_user(&dm, argp, sizeof(dm)))
		return -EFAULT;

	spin_lock(&pd->lock);
	if (pd->gone) {
		spin_unlock(&pd->lock);
		return -ENODEV;
	}
	for (d = 0; d < PGPDMA_MAX_DEST; d++) {
		if (pgpdma_mask_has(dm.mask, d) && pd->dest_owner[d] &&
		    pd->dest_owner[d] != f) {
			spin_unlock(&pd->lock);
			return -EBUSY;
		}
	}
	for (d = 0; d < PGPDMA_MAX_DEST; d++) {
		if (pgpdma_mask_has(dm.mask, d))
			pd->dest_owner[d] = f;
		else if (pd->dest_owner[d] == f)
			pd->dest_owner[d] = NULL;
	}
	memcpy(f->mask, dm.mask, sizeof(f->mask));
	pgpdma_rxq_drop_unclaimed(pd, f);
	spin_unlock(&pd->lock);
	pgpdma_engine_kick(pd);
	return 0;
}

static int pgpdma_ioc_get_dest(struct pgpdma_file *f, void __user *argp)
{
	struct pgpdma_dest_mask dm;

	memset(&dm, 0, sizeof(dm));
	spin_lock(&f->pd->lock);
	memcpy(dm.mask, f->mask, sizeof(dm.mask));
	spin_unlock(&f->pd->lock);
	return copy_to_user(argp, &dm, sizeof(dm)) ? -EFAULT : 0;
}

static int pgpdma_ioc_set_rx_hold(struct pgpdma_file *f, void __user *argp)
{
	struct pgpdma_dev *pd = f->pd;
	struct pgpdma_rx_hold rh;

	if (copy_from_user(&rh, argp, sizeof(rh)))
		return -EFAULT;
	if (rh.reserved[0] || rh.reserved[1] || rh.reserved[2] ||
	    rh.max > pd->rx_count)
		return -EINVAL;
	if (!rh.max)
		rh.max = pd->rx_hold_max;
	if (rh.max > pd->rx_hold_max && !capable(CAP_SYS_ADMIN))
		return -EPERM;
	spin_lock(&pd->lock);
	f->rx_hold_max = rh.max;
	spin_unlock(&pd->lock);
	return 0;
}

static int pgpdma_ioc_get_info(struct pgpdma_file *f, void __user *argp)
{
	struct pgpdma_dev *pd = f->pd;
	struct pgpdma_info info;

	memset(&info, 0, sizeof(info));
	info.api_version = PGPDMA_API_VERSION;
	info.flags = pd->streaming ? PGPDMA_INFO_STREAMING :
				     PGPDMA_INFO_COHERENT;
	info.instance = pd->instance;
	info.rx_count = pd->rx_count;
	info.tx_count = pd->tx_count;
	info.buf_size = pd->buf_size;
	info.stride = pd->stride;
	info.max_dest = PGPDMA_MAX_DEST;
	info.rx_offset = 0;
	info.tx_offset = (u64)pd->rx_count * pd->stride;
	info.map_size = (u64)(pd->rx_count + pd->tx_count) * pd->stride;
	info.max_frame = min_t(u64, PGPDMA_MAX_FRAME,
			       (u64)pd->tx_count * pd->buf_size);
	spin_lock(&pd->lock);
	info.rx_hold_max = f->rx_hold_max;
	spin_unlock(&pd->lock);
	return copy_to_user(argp, &info, sizeof(info)) ? -EFAULT : 0;
}

static int pgpdma_ioc_get_stats(struct pgpdma_dev *pd, void __user *argp)
{
	struct pgpdma_stats *st;
	int ret;

	st = kzalloc(sizeof(*st), GFP_KERNEL);
	if (!st)
		return -ENOMEM;
	pgpdma_stats_snapshot(pd, st);
	ret = copy_to_user(argp, st, sizeof(*st)) ? -EFAULT : 0;
	kfree(st);
	return ret;
}

static int pgpdma_ioc_engine_get(struct pgpdma_dev *pd, void __user *argp)
{
	struct pgpdma_engine eng;
	int ret;

	memset(&eng, 0, sizeof(eng));
	ret = pgpdma_engine_get(pd, &eng);
	if (ret)
		return ret;
	return copy_to_user(argp, &eng, sizeof(eng)) ? -EFAULT : 0;
}

static int pgpdma_ioc_engine_set(struct pgpdma_dev *pd, void __user *argp)
{
	struct pgpdma_engine eng;

	if (!capable(CAP_SYS_ADMIN))
		return -EPERM;
	if (copy_from_user(&eng, argp, sizeof(eng)))
		return -EFAULT;
	return pgpdma_engine_set(pd, &eng);
}

static int pgpdma_ioc_inject(struct pgpdma_file *f, void __user *argp)
{
	struct pgpdma_dev *pd = f->pd;
	struct pgpdma_inject inj;
	bool mine;

	if (copy_from_user(&inj, argp, sizeof(inj)))
		return -EFAULT;
	if (inj.dest >= PGPDMA_MAX_DEST)
		return -EINVAL;
	spin_lock(&pd->lock);
	mine = pd->dest_owner[inj.dest] == f;
	spin_unlock(&pd->lock);
	/* The timing system's controller (CAP_SYS_ADMIN) may target any. */
	if (!mine && !capable(CAP_SYS_ADMIN))
		return -EACCES;
	return pgpdma_engine_inject(pd, &inj);
}

/* Commands that change shared state need the file open for writing. */
static bool pgpdma_cmd_writes(unsigned int cmd)
{
	switch (cmd) {
	case PGPDMA_IOC_TX_ACQUIRE:
	case PGPDMA_IOC_TX_SUBMIT:
	case PGPDMA_IOC_TX_RELEASE:
	case PGPDMA_IOC_SET_DEST:
	case PGPDMA_IOC_ENGINE_SET:
	case PGPDMA_IOC_INJECT:
		return true;
	default:
		return false;
	}
}

/**
 * pgpdma_ioctl() - the ioctl entry point of /dev/pgpdmaN
 * @file: open file
 * @cmd: PGPDMA_IOC_*; anything else (other size or direction too) -ENOTTY
 * @arg: user pointer to the command's structure
 *
 * Return: 0 or a negative errno (see the uapi header's table).
 */
long pgpdma_ioctl(struct file *file, unsigned int cmd, unsigned long arg)
{
	struct pgpdma_file *f = file->private_data;
	struct pgpdma_dev *pd = f->pd;
	void __user *argp = (void __user *)arg;

	/* Those changing state check again under pd->lock. */
	if (pgpdma_dev_gone(pd))
		return -ENODEV;
	if (pgpdma_cmd_writes(cmd) && !(file->f_mode & FMODE_WRITE))
		return -EBADF;

	switch (cmd) {
	case PGPDMA_IOC_GET_INFO:
		return pgpdma_ioc_get_info(f, argp);
	case PGPDMA_IOC_GET_STATS:
		return pgpdma_ioc_get_stats(pd, argp);
	case PGPDMA_IOC_RX_READ:
		return pgpdma_ioc_rx_read(f, file, argp);
	case PGPDMA_IOC_RX_RETURN:
		return pgpdma_ioc_index_list(f, argp, true);
	case PGPDMA_IOC_TX_ACQUIRE:
		return pgpdma_ioc_tx_acquire(f, file, argp);
	case PGPDMA_IOC_TX_SUBMIT:
		return pgpdma_ioc_tx_submit(f, argp);
	case PGPDMA_IOC_TX_RELEASE:
		return pgpdma_ioc_index_list(f, argp, false);
	case PGPDMA_IOC_SET_DEST:
		return pgpdma_ioc_set_dest(f, argp);
	case PGPDMA_IOC_GET_DEST:
		return pgpdma_ioc_get_dest(f, argp);
	case PGPDMA_IOC_SET_RX_HOLD:
		return pgpdma_ioc_set_rx_hold(f, argp);
	case PGPDMA_IOC_ENGINE_GET:
		return pgpdma_ioc_engine_get(pd, argp);
	case PGPDMA_IOC_ENGINE_SET:
		return pgpdma_ioc_engine_set(pd, argp);
	case PGPDMA_IOC_INJECT:
		return pgpdma_ioc_inject(f, argp);
	default:
		return -ENOTTY;
	}
}
