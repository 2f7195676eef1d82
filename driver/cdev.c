// SPDX-License-Identifier: GPL-2.0
/*
 * pgpdma - character device: open/release/read/write/poll (ioctl.c has the
 * ioctl commands, mmap.c the mapping).
 *
 * Once the device is gone (pgpdma_dev.gone, set by emulate_unplug) every
 * operation but release fails with -ENODEV, sleepers wake up and poll
 * reports EPOLLERR | EPOLLHUP; release takes everything back as usual.
 */
#include <linux/fs.h>
#include <linux/mm.h>
#include <linux/poll.h>
#include <linux/slab.h>
#include <linux/uaccess.h>
#include "pgpdma.h"
#include "engine.h"

static int pgpdma_open(struct inode *inode, struct file *file)
{
	struct pgpdma_dev *pd = container_of(inode->i_cdev, struct pgpdma_dev,
					     cdev);
	struct pgpdma_file *f;

	f = kzalloc(sizeof(*f), GFP_KERNEL);
	if (!f)
		return -ENOMEM;
	f->pd = pd;
	INIT_LIST_HEAD(&f->rxq);
	INIT_LIST_HEAD(&f->tx_chain);
	init_waitqueue_head(&f->rx_wq);
	f->tx_want = 1;
	f->rx_hold_max = pd->rx_hold_max;
	spin_lock(&pd->lock);
	if (pd->gone) {
		spin_unlock(&pd->lock);
		kfree(f);
		return -ENODEV;
	}
	list_add_tail(&f->node, &pd->files);
	spin_unlock(&pd->lock);
	file->private_data = f;
	return nonseekable_open(inode, file);
}

static int pgpdma_release(struct inode *inode, struct file *file)
{
	struct pgpdma_file *f = file->private_data;

	pgpdma_file_reclaim(f->pd, f);
	kfree(f);
	return 0;
}

static ssize_t pgpdma_read(struct file *file, char __user *ubuf,
			   size_t count, loff_t *ppos)
{
	struct pgpdma_file *f = file->private_data;
	struct pgpdma_dev *pd = f->pd;
	struct pgpdma_buf *b, *next;
	LIST_HEAD(frame);
	size_t off = 0;
	u32 i, nb = 0;
	int ret = 0;

	for (;;) {
		spin_lock(&pd->lock);
		if (pd->gone) {
			spin_unlock(&pd->lock);
			return -ENODEV;
		}
		if (!list_empty(&f->rxq)) {
			b = list_first_entry(&f->rxq, struct pgpdma_buf, node);
			if (b->frame_len > count) {
				spin_unlock(&pd->lock);
				return -EMSGSIZE;
			}
			nb = b->nbufs;
			for (i = 0; i < nb; i++) {
				b = pgpdma_list_take(&f->rxq);
				if (!b)
					break;
				/* owner NULL: no ioctl may return it meanwhile */
				b->owner = NULL;
				pgpdma_set_state(pd, b, PGPDMA_ST_RX_USER);
				list_move_tail(&b->node, &frame);
			}
			nb = i;
			f->rxq_frames--;
			pd->st.user_reads += nb;
			spin_unlock(&pd->lock);
			break;
		}
		spin_unlock(&pd->lock);
		if (file->f_flags & O_NONBLOCK)
			return -EAGAIN;
		ret = wait_event_interruptible(f->rx_wq, pgpdma_rx_ready(f));
		if (ret)
			return ret;
	}

	list_for_each_entry(b, &frame, node) {
		pgpdma_rx_sync_for_cpu(pd, b);
		if (!ret && copy_to_user(ubuf + off, b->cpu, b->size))
			ret = -EFAULT;
		off += b->size;
	}

	spin_lock(&pd->lock);
	list_for_each_entry_safe(b, next, &frame, node)
		pgpdma_rx_recycle(pd, b);
	pd->st.user_returns += nb;
	spin_unlock(&pd->lock);
	pgpdma_engine_kick(pd);
	return ret ? ret : off;
}

static u32 pgpdma_lowest_dest(const struct pgpdma_file *f)
{
	u32 w;

	for (w = 0; w < PGPDMA_DEST_MASK_WORDS; w++)
		if (f->mask[w])
			return w * 64 + __ffs64(f->mask[w]);
	return 0;
}

/*
 * Take @nb free TX buffers for a write() into @chain (TX_USER, no owner).
 * Return: 0, -EAGAIN (none free, non-blocking: poll's EPOLLOUT then waits
 * for @nb), -EIO with part of @chain taken if the free list is corrupt
 * (warned), -ENODEV, or -ERESTARTSYS.
 */
static int pgpdma_write_take(struct pgpdma_file *f, struct file *file,
			     u32 nb, struct list_head *chain, u32 *dest)
{
	struct pgpdma_dev *pd = f->pd;
	struct pgpdma_buf *b;
	int ret;
	u32 i;

	for (;;) {
		spin_lock(&pd->lock);
		if (pd->gone) {
			ret = -ENODEV;
		} else if (pd->tx_free_n >= nb) {
			for (i = 0; i < nb; i++) {
				b = pgpdma_list_take(&pd->tx_free);
				if (!b)
					break;
				/* owner NULL: no ioctl may touch it meanwhile */
				b->owner = NULL;
				pgpdma_set_state(pd, b, PGPDMA_ST_TX_USER);
				list_move_tail(&b->node, chain);
				pd->tx_free_n--;
			}
			*dest = pgpdma_lowest_dest(f);
			f->tx_want = 1;
			ret = i == nb ? 0 : -EIO;	/* lists corrupt */
		} else {
			f->tx_want = nb;
			ret = -EAGAIN;
		}
		spin_unlock(&pd->lock);
		if (ret != -EAGAIN || (file->f_flags & O_NONBLOCK))
			return ret;
		ret = wait_event_interruptible(pd->tx_wq,
					       pgpdma_tx_avail(pd, nb));
		if (ret)
			return ret;
	}
}

static ssize_t pgpdma_write(struct file *file, const char __user *ubuf,
			    size_t count, loff_t *ppos)
{
	struct pgpdma_file *f = file->private_data;
	struct pgpdma_dev *pd = f->pd;
	struct pgpdma_buf *b, *next;
	LIST_HEAD(chain);
	u32 nb, dest = 0, c;
	size_t off = 0;
	int ret;

	if (pgpdma_dev_gone(pd))
		return -ENODEV;
	if (!count)
		return 0;
	if (count > PGPDMA_MAX_FRAME ||
	    count > (u64)pd->tx_count * pd->buf_size)
		return -EMSGSIZE;
	nb = DIV_ROUND_UP(count, pd->buf_size);

	ret = pgpdma_write_take(f, file, nb, &chain, &dest);
	if (ret && !list_empty(&chain))
		goto out_recycle;
	if (ret)
		return ret;

	list_for_each_entry(b, &chain, node) {
		c = min_t(size_t, count - off, pd->buf_size);
		pgpdma_tx_sync_for_cpu(pd, b);
		if (copy_from_user(b->cpu, ubuf + off, c))
			ret = -EFAULT;
		b->size = c;
		b->dest = dest;
		b->flags = off + c < count ? PGPDMA_TXF_CONT : 0;
		pgpdma_tx_sync_for_device(pd, b);
		off += c;
		if (ret)
			break;
	}

out_recycle:
	spin_lock(&pd->lock);
	/* Gone meanwhile: the engine would never send it. */
	if (!ret && pd->gone)
		ret = -ENODEV;
	if (ret) {
		list_for_each_entry_safe(b, next, &chain, node)
			pgpdma_tx_recycle(pd, b);
	} else {
		pgpdma_tx_queue_frame(pd, &chain, nb);
	}
	spin_unlock(&pd->lock);
	if (ret) {
		pgpdma_wake_tx(pd);
		return ret;
	}
	return count;
}

static __poll_t pgpdma_poll(struct file *file, poll_table *wait)
{
	struct pgpdma_file *f = file->private_data;
	struct pgpdma_dev *pd = f->pd;
	__poll_t mask = 0;

	poll_wait(file, &f->rx_wq, wait);
	poll_wait(file, &pd->tx_wq, wait);
	spin_lock(&pd->lock);
	if (pd->gone) {
		/* No EPOLLIN/EPOLLOUT: read and write would fail (-ENODEV). */
		mask = EPOLLERR | EPOLLHUP;
	} else {
		if (f->rxq_frames)
			mask |= EPOLLIN | EPOLLRDNORM;
		/* A write() as large as the last refused one would not block. */
		if (pd->tx_free_n >= f->tx_want)
			mask |= EPOLLOUT | EPOLLWRNORM;
	}
	spin_unlock(&pd->lock);
	return mask;
}

const struct file_operations pgpdma_fops = {
	.owner		= THIS_MODULE,
	.open		= pgpdma_open,
	.release	= pgpdma_release,
	.mmap		= pgpdma_mmap,
	.unlocked_ioctl	= pgpdma_ioctl,
	.compat_ioctl	= compat_ptr_ioctl,
	.read		= pgpdma_read,
	.write		= pgpdma_write,
	.poll		= pgpdma_poll,
};
