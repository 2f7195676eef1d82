// SPDX-License-Identifier: GPL-2.0
/*
 * pgpdma - character device: open/release/read/write/poll (ioctl.c has the
 * ioctl commands, mmap.c the mapping).
 *
 * Every operation runs inside the device's SRCU guard (pgpdma_dev.srcu),
 * so that removal can wait for those that saw the device present before
 * it frees the pool. Once the device is gone (pgpdma_dev.gone: removal,
 * a lost device, emulate_unplug) every operation but release fails with
 * -ENODEV, sleepers wake up and poll reports EPOLLERR | EPOLLHUP; release
 * takes everything back as usual. An open file holds a reference to the
 * instance, which outlives the back-end if need be.
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
	f->mapping = file->f_mapping;
	mutex_lock(&pd->files_mutex);
	spin_lock(&pd->lock);
	if (pd->gone) {
		spin_unlock(&pd->lock);
		mutex_unlock(&pd->files_mutex);
		kfree(f);
		return -ENODEV;
	}
	list_add_tail(&f->node, &pd->files);
	spin_unlock(&pd->lock);
	mutex_unlock(&pd->files_mutex);
	get_device(&pd->dev);
	file->private_data = f;
	return nonseekable_open(inode, file);
}

static int pgpdma_release(struct inode *inode, struct file *file)
{
	struct pgpdma_file *f = file->private_data;
	struct pgpdma_dev *pd = f->pd;
	int idx;

	idx = srcu_read_lock(&pd->srcu);
	mutex_lock(&pd->files_mutex);
	pgpdma_file_reclaim(pd, f);
	mutex_unlock(&pd->files_mutex);
	srcu_read_unlock(&pd->srcu, idx);
	kfree(f);
	put_device(&pd->dev);
	return 0;
}

static ssize_t pgpdma_do_read(struct file *file, char __user *ubuf,
			      size_t count)
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

static ssize_t pgpdma_do_write(struct file *file, const char __user *ubuf,
			       size_t count)
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
	pgpdma_engine_kick(pd);
	return count;
}

static __poll_t pgpdma_do_poll(struct file *file, poll_table *wait)
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

/*
 * The entry points: each runs the operation inside the SRCU guard that
 * removal waits for (see pgpdma_dev_lost()).
 */
static struct pgpdma_dev *pgpdma_file_dev(struct file *file)
{
	return ((struct pgpdma_file *)file->private_data)->pd;
}

static ssize_t pgpdma_read(struct file *file, char __user *ubuf,
			   size_t count, loff_t *ppos)
{
	struct pgpdma_dev *pd = pgpdma_file_dev(file);
	int idx = srcu_read_lock(&pd->srcu);
	ssize_t ret = pgpdma_do_read(file, ubuf, count);

	srcu_read_unlock(&pd->srcu, idx);
	return ret;
}

static ssize_t pgpdma_write(struct file *file, const char __user *ubuf,
			    size_t count, loff_t *ppos)
{
	struct pgpdma_dev *pd = pgpdma_file_dev(file);
	int idx = srcu_read_lock(&pd->srcu);
	ssize_t ret = pgpdma_do_write(file, ubuf, count);

	srcu_read_unlock(&pd->srcu, idx);
	return ret;
}

static __poll_t pgpdma_poll(struct file *file, poll_table *wait)
{
	struct pgpdma_dev *pd = pgpdma_file_dev(file);
	int idx = srcu_read_lock(&pd->srcu);
	__poll_t ret = pgpdma_do_poll(file, wait);

	srcu_read_unlock(&pd->srcu, idx);
	return ret;
}

static long pgpdma_unlocked_ioctl(struct file *file, unsigned int cmd,
				  unsigned long arg)
{
	struct pgpdma_dev *pd = pgpdma_file_dev(file);
	int idx = srcu_read_lock(&pd->srcu);
	long ret = pgpdma_ioctl(file, cmd, arg);

	srcu_read_unlock(&pd->srcu, idx);
	return ret;
}

static int pgpdma_guarded_mmap(struct file *file, struct vm_area_struct *vma)
{
	struct pgpdma_dev *pd = pgpdma_file_dev(file);
	int idx = srcu_read_lock(&pd->srcu);
	int ret = pgpdma_mmap(file, vma);

	srcu_read_unlock(&pd->srcu, idx);
	return ret;
}

const struct file_operations pgpdma_fops = {
	.owner		= THIS_MODULE,
	.open		= pgpdma_open,
	.release	= pgpdma_release,
	.mmap		= pgpdma_guarded_mmap,
	.unlocked_ioctl	= pgpdma_unlocked_ioctl,
	.compat_ioctl	= compat_ptr_ioctl,
	.read		= pgpdma_read,
	.write		= pgpdma_write,
	.poll		= pgpdma_poll,
};
