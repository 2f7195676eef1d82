// SPDX-License-Identifier: GPL-2.0
/*
 * pgpdma - character device: open/release/mmap/ioctl/read/write/poll.
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
#include "compat.h"

static bool pgpdma_rx_ready(struct pgpdma_file *f)
{
	bool ret;

	spin_lock(&f->pd->lock);
	ret = f->rxq_frames > 0 || f->pd->gone;
	spin_unlock(&f->pd->lock);
	return ret;
}

static bool pgpdma_tx_avail(struct pgpdma_dev *pd, u32 n)
{
	bool ret;

	spin_lock(&pd->lock);
	ret = pd->tx_free_n >= n || pd->gone;
	spin_unlock(&pd->lock);
	return ret;
}

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

/* Map @len bytes of buffer @b starting @boff bytes into it at @uaddr. */
static int pgpdma_mmap_buf(struct pgpdma_dev *pd, struct vm_area_struct *vma,
			   struct pgpdma_buf *b, unsigned long uaddr,
			   unsigned long boff, unsigned long len)
{
	unsigned long start, end, pgoff;
	int ret;

	if (pd->streaming)
		return remap_pfn_range(vma, uaddr,
				       page_to_pfn(b->page) + (boff >> PAGE_SHIFT),
				       len, vma->vm_page_prot);

	/*
	 * dma_mmap_coherent() maps at vm_start with vm_pgoff as the offset
	 * into the buffer; narrow the vma to this buffer's window for the
	 * call. The vma is not yet visible to anyone else during ->mmap.
	 */
	start = vma->vm_start;
	end = vma->vm_end;
	pgoff = vma->vm_pgoff;
	vma->vm_start = uaddr;
	vma->vm_end = uaddr + len;
	vma->vm_pgoff = boff >> PAGE_SHIFT;
	ret = dma_mmap_coherent(pd->dma_dev, vma, b->cpu, b->dma, pd->stride);
	vma->vm_start = start;
	vma->vm_end = end;
	vma->vm_pgoff = pgoff;
	return ret;
}

static int pgpdma_mmap(struct file *file, struct vm_area_struct *vma)
{
	struct pgpdma_file *f = file->private_data;
	struct pgpdma_dev *pd = f->pd;
	u64 map_size = (u64)(pd->rx_count + pd->tx_count) * pd->stride;
	u64 off = (u64)vma->vm_pgoff << PAGE_SHIFT;
	u64 len = vma->vm_end - vma->vm_start;
	u64 pos, bstart, from, to;
	struct pgpdma_buf *b;
	u32 i;
	int ret;

	if (pgpdma_dev_gone(pd))
		return -ENODEV;
	if (vma->vm_flags & VM_EXEC)
		return -EPERM;
	/* MAP_SHARED only (VM_SHARED is cleared for read-only files). */
	if (!(vma->vm_flags & VM_MAYSHARE))
		return -EINVAL;
	if (vma->vm_pgoff >= (map_size >> PAGE_SHIFT) || len > map_size - off)
		return -EINVAL;

	pgpdma_vm_flags_set(vma, VM_DONTEXPAND | VM_DONTDUMP);
	pgpdma_vm_flags_clear(vma, VM_MAYEXEC);

	for (pos = off; pos < off + len; pos = to) {
		i = div_u64(pos, pd->stride);
		bstart = (u64)i * pd->stride;
		from = pos;
		to = min(off + len, bstart + pd->stride);
		b = i < pd->rx_count ? &pd->rx[i] : &pd->tx[i - pd->rx_count];
		ret = pgpdma_mmap_buf(pd, vma, b, vma->vm_start + (from - off),
				      from - bstart, to - from);
		if (ret)
			return ret;
	}
	return 0;
}

/*
 * Hand up to @count queued buffers to @f; chains split only if > @count.
 * Returns how many, or -ENODEV once the device is gone.
 */
static int pgpdma_rx_take_user(struct pgpdma_file *f,
			       struct pgpdma_rx_desc *d, u32 count)
{
	struct pgpdma_dev *pd = f->pd;
	struct pgpdma_buf *head, *b;
	u32 n = 0, i, nb, taken_len;
	bool split;

	spin_lock(&pd->lock);
	if (pd->gone) {
		spin_unlock(&pd->lock);
		return -ENODEV;
	}
	while (n < count && !list_empty(&f->rxq)) {
		head = list_first_entry(&f->rxq, struct pgpdma_buf, node);
		nb = head->nbufs;
		split = false;
		if (nb > count - n) {
			if (n)
				break;
			nb = count;
			split = true;
		}
		taken_len = 0;
		for (i = 0; i < nb; i++) {
			b = list_first_entry(&f->rxq, struct pgpdma_buf, node);
			d[n].index = b->index;
			d[n].size = b->size;
			d[n].flags = b->flags;
			d[n].dest = b->dest;
			d[n].error = b->error;
			d[n].seq = b->seq;
			taken_len += b->size;
			list_del_init(&b->node);
			pgpdma_set_state(pd, b, PGPDMA_ST_RX_USER);
			pgpdma_sync_for_cpu(pd, b);
			n++;
		}
		if (split) {
			b = list_first_entry(&f->rxq, struct pgpdma_buf, node);
			b->nbufs = head->nbufs - nb;
			b->frame_len = head->frame_len - taken_len;
			break;
		}
		f->rxq_frames--;
	}
	pd->st.user_reads += n;
	spin_unlock(&pd->lock);
	return n;
}

static int pgpdma_ioc_rx_read(struct pgpdma_file *f, struct file *file,
			      void __user *argp)
{
	struct pgpdma_dev *pd = f->pd;
	struct pgpdma_rx_desc *d;
	struct pgpdma_rx_read rr;
	bool wait;
	u32 n, i;
	int ret = 0;
	int got;

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
		got = pgpdma_rx_take_user(f, d, rr.count);
		if (got < 0) {
			ret = got;
			goto out_free;
		}
		n = got;
		if (n || !wait)
			break;
		ret = wait_event_interruptible(f->rx_wq, pgpdma_rx_ready(f));
		if (ret)
			goto out_free;
	}

	rr.filled = n;
	if ((n && copy_to_user(u64_to_user_ptr(rr.descs), d,
			       n * sizeof(*d))) ||
	    copy_to_user(argp, &rr, sizeof(rr))) {
		/* The caller cannot know the indexes: recycle them. */
		spin_lock(&pd->lock);
		for (i = 0; i < n; i++) {
			pgpdma_sync_for_device(pd, &pd->rx[d[i].index]);
			pgpdma_rx_recycle(pd, &pd->rx[d[i].index]);
		}
		pd->st.user_returns += n;
		spin_unlock(&pd->lock);
		pgpdma_engine_kick(pd);
		ret = -EFAULT;
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

static int pgpdma_ioc_tx_acquire(struct pgpdma_file *f, struct file *file,
				 void __user *argp)
{
	struct pgpdma_dev *pd = f->pd;
	struct pgpdma_tx_acquire ta;
	struct pgpdma_buf *b = NULL;
	int ret;

	if (copy_from_user(&ta, argp, sizeof(ta)))
		return -EFAULT;
	if (ta.flags & ~PGPDMA_TXA_WAIT || ta.reserved[0] || ta.reserved[1])
		return -EINVAL;

	for (;;) {
		spin_lock(&pd->lock);
		if (pd->gone) {
			spin_unlock(&pd->lock);
			return -ENODEV;
		}
		if (pd->tx_free_n) {
			b = list_first_entry(&pd->tx_free, struct pgpdma_buf,
					     node);
			list_del_init(&b->node);
			pd->tx_free_n--;
			pgpdma_set_state(pd, b, PGPDMA_ST_TX_USER);
			b->owner = f;
		}
		spin_unlock(&pd->lock);
		if (b)
			break;
		if (!(ta.flags & PGPDMA_TXA_WAIT) ||
		    (file->f_flags & O_NONBLOCK))
			return -EAGAIN;
		ret = wait_event_interruptible(pd->tx_wq,
					       pgpdma_tx_avail(pd, 1));
		if (ret)
			return ret;
	}
	pgpdma_sync_for_cpu(pd, b);

	memset(&ta, 0, sizeof(ta));
	ta.index = b->index;
	if (copy_to_user(argp, &ta, sizeof(ta))) {
		spin_lock(&pd->lock);
		pgpdma_tx_recycle(pd, b);
		spin_unlock(&pd->lock);
		wake_up_interruptible_all(&pd->tx_wq);
		return -EFAULT;
	}
	return 0;
}

static int pgpdma_ioc_tx_submit(struct pgpdma_file *f, void __user *argp)
{
	struct pgpdma_dev *pd = f->pd;
	struct pgpdma_tx_desc td;
	struct pgpdma_buf *b;
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
		spin_unlock(&pd->lock);
		return -ENODEV;
	}
	if (b->state != PGPDMA_ST_TX_USER || b->owner != f) {
		spin_unlock(&pd->lock);
		return -EINVAL;
	}
	pgpdma_sync_for_device(pd, b);
	b->size = td.size;
	b->dest = td.dest;
	b->flags = td.flags;
	pgpdma_set_state(pd, b, PGPDMA_ST_TX_HW);
	list_move_tail(&b->node, &f->tx_chain);
	f->tx_chain_n++;
	if (!(td.flags & PGPDMA_TXF_CONT)) {
		pgpdma_tx_queue_frame(pd, &f->tx_chain, f->tx_chain_n);
		f->tx_chain_n = 0;
	}
	spin_unlock(&pd->lock);
	return 0;
}

static int pgpdma_ioc_set_dest(struct pgpdma_file *f, void __user *argp)
{
	struct pgpdma_dev *pd = f->pd;
	struct pgpdma_dest_mask dm;
	u32 d;
	bool want;

	if (copy_from_user(&dm, argp, sizeof(dm)))
		return -EFAULT;

	spin_lock(&pd->lock);
	if (pd->gone) {
		spin_unlock(&pd->lock);
		return -ENODEV;
	}
	for (d = 0; d < PGPDMA_MAX_DEST; d++) {
		want = dm.mask[d / 64] & (1ULL << (d % 64));
		if (want && pd->dest_owner[d] && pd->dest_owner[d] != f) {
			spin_unlock(&pd->lock);
			return -EBUSY;
		}
	}
	for (d = 0; d < PGPDMA_MAX_DEST; d++) {
		want = dm.mask[d / 64] & (1ULL << (d % 64));
		if (want)
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
	return copy_to_user(argp, &info, sizeof(info)) ? -EFAULT : 0;
}

static long pgpdma_ioctl(struct file *file, unsigned int cmd,
			 unsigned long arg)
{
	struct pgpdma_file *f = file->private_data;
	struct pgpdma_dev *pd = f->pd;
	void __user *argp = (void __user *)arg;
	struct pgpdma_dest_mask dm;
	struct pgpdma_engine eng;
	struct pgpdma_inject inj;
	struct pgpdma_stats *st;
	int ret;

	/* Those changing state check again under pd->lock. */
	if (pgpdma_dev_gone(pd))
		return -ENODEV;

	switch (cmd) {
	case PGPDMA_IOC_GET_INFO:
		return pgpdma_ioc_get_info(f, argp);
	case PGPDMA_IOC_GET_STATS:
		st = kzalloc(sizeof(*st), GFP_KERNEL);
		if (!st)
			return -ENOMEM;
		pgpdma_stats_snapshot(pd, st);
		ret = copy_to_user(argp, st, sizeof(*st)) ? -EFAULT : 0;
		kfree(st);
		return ret;
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
		memset(&dm, 0, sizeof(dm));
		spin_lock(&pd->lock);
		memcpy(dm.mask, f->mask, sizeof(dm.mask));
		spin_unlock(&pd->lock);
		return copy_to_user(argp, &dm, sizeof(dm)) ? -EFAULT : 0;
	case PGPDMA_IOC_ENGINE_GET:
		memset(&eng, 0, sizeof(eng));
		ret = pgpdma_engine_get(pd, &eng);
		if (ret)
			return ret;
		return copy_to_user(argp, &eng, sizeof(eng)) ? -EFAULT : 0;
	case PGPDMA_IOC_ENGINE_SET:
		if (copy_from_user(&eng, argp, sizeof(eng)))
			return -EFAULT;
		return pgpdma_engine_set(pd, &eng);
	case PGPDMA_IOC_INJECT:
		if (copy_from_user(&inj, argp, sizeof(inj)))
			return -EFAULT;
		return pgpdma_engine_inject(pd, &inj);
	default:
		return -ENOTTY;
	}
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
				b = list_first_entry(&f->rxq, struct pgpdma_buf,
						     node);
				/* owner NULL: no ioctl may return it meanwhile */
				b->owner = NULL;
				pgpdma_set_state(pd, b, PGPDMA_ST_RX_USER);
				list_move_tail(&b->node, &frame);
			}
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
		pgpdma_sync_for_cpu(pd, b);
		if (!ret && copy_to_user(ubuf + off, b->cpu, b->size))
			ret = -EFAULT;
		off += b->size;
	}

	spin_lock(&pd->lock);
	list_for_each_entry_safe(b, next, &frame, node) {
		pgpdma_sync_for_device(pd, b);
		pgpdma_rx_recycle(pd, b);
	}
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

static ssize_t pgpdma_write(struct file *file, const char __user *ubuf,
			    size_t count, loff_t *ppos)
{
	struct pgpdma_file *f = file->private_data;
	struct pgpdma_dev *pd = f->pd;
	struct pgpdma_buf *b, *next;
	LIST_HEAD(chain);
	u32 i, nb, dest = 0, c;
	size_t off = 0;
	int ret = 0;

	if (pgpdma_dev_gone(pd))
		return -ENODEV;
	if (!count)
		return 0;
	if (count > (u64)pd->tx_count * pd->buf_size)
		return -EMSGSIZE;
	nb = DIV_ROUND_UP(count, pd->buf_size);

	for (;;) {
		spin_lock(&pd->lock);
		if (pd->gone) {
			spin_unlock(&pd->lock);
			return -ENODEV;
		}
		if (pd->tx_free_n >= nb) {
			for (i = 0; i < nb; i++) {
				b = list_first_entry(&pd->tx_free,
						     struct pgpdma_buf, node);
				/* owner NULL: no ioctl may touch it meanwhile */
				b->owner = NULL;
				pgpdma_set_state(pd, b, PGPDMA_ST_TX_USER);
				list_move_tail(&b->node, &chain);
			}
			pd->tx_free_n -= nb;
			dest = pgpdma_lowest_dest(f);
			spin_unlock(&pd->lock);
			break;
		}
		spin_unlock(&pd->lock);
		if (file->f_flags & O_NONBLOCK)
			return -EAGAIN;
		ret = wait_event_interruptible(pd->tx_wq,
					       pgpdma_tx_avail(pd, nb));
		if (ret)
			return ret;
	}

	list_for_each_entry(b, &chain, node) {
		c = min_t(size_t, count - off, pd->buf_size);
		pgpdma_sync_for_cpu(pd, b);
		if (copy_from_user(b->cpu, ubuf + off, c))
			ret = -EFAULT;
		pgpdma_sync_for_device(pd, b);
		b->size = c;
		b->dest = dest;
		b->flags = off + c < count ? PGPDMA_TXF_CONT : 0;
		off += c;
		if (ret)
			break;
	}

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
		wake_up_interruptible_all(&pd->tx_wq);
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
		if (pd->tx_free_n)
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
