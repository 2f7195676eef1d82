// SPDX-License-Identifier: GPL-2.0
/*
 * pgpdma - mmap of the whole pool: RX buffers, then TX buffers, at a fixed
 * stride (pgpdma_info gives the layout).
 *
 * Pages are inserted on demand, by the fault handler, one buffer's worth
 * at a time, never at mmap(): a fault runs inside the device's SRCU guard
 * and refuses (SIGBUS) once the device is gone, so the removal's zap of
 * every mapping (pgpdma_dev_lost()) leaves no page of freed DMA memory
 * mapped, even for an mmap() racing with it. One vma covers the whole
 * window and is never split or narrowed by the driver.
 *
 * RX buffers belong to the device: userspace may read them, never write
 * them. The vma asks to be told of the first write to each page
 * (pfn_mkwrite), so its pages are mapped read-only, and a write to the RX
 * range is refused with SIGBUS; mprotect() cannot make them writable,
 * since with write notification the kernel never maps a clean shared page
 * writable behind pfn_mkwrite's back. TX buffers stay writable for files
 * open for writing. Mappings are not inherited across fork() (VM_DONTCOPY):
 * a child would keep buffers it does not own.
 */
#include <linux/fs.h>
#include <linux/mm.h>
#include "pgpdma.h"
#include "engine.h"
#include "compat.h"

static bool pgpdma_pgoff_is_rx(const struct pgpdma_dev *pd, pgoff_t pgoff)
{
	return (u64)pgoff << PAGE_SHIFT < (u64)pd->rx_count * pd->stride;
}

static vm_fault_t pgpdma_pfn_mkwrite(struct vm_fault *vmf)
{
	struct pgpdma_file *f = vmf->vma->vm_file->private_data;

	return pgpdma_pgoff_is_rx(f->pd, vmf->pgoff) ? VM_FAULT_SIGBUS : 0;
}

/* Insert the pages of buffer @b that lie inside @vma. */
static vm_fault_t pgpdma_insert_buf(struct pgpdma_dev *pd,
				    struct vm_area_struct *vma,
				    struct pgpdma_buf *b, pgoff_t buf_pgoff)
{
	pgoff_t npages = pd->stride >> PAGE_SHIFT, i, pgoff;
	unsigned long addr;
	vm_fault_t ret;

	for (i = 0; i < npages; i++) {
		pgoff = buf_pgoff + i;
		if (pgoff < vma->vm_pgoff)
			continue;
		addr = vma->vm_start + ((pgoff - vma->vm_pgoff) << PAGE_SHIFT);
		if (addr >= vma->vm_end)
			break;
		ret = vmf_insert_pfn(vma, addr, pgpdma_buf_pfn(b, i));
		if (ret != VM_FAULT_NOPAGE)
			return ret;
	}
	return VM_FAULT_NOPAGE;
}

static vm_fault_t pgpdma_fault(struct vm_fault *vmf)
{
	struct vm_area_struct *vma = vmf->vma;
	struct pgpdma_file *f = vma->vm_file->private_data;
	struct pgpdma_dev *pd = f->pd;
	u64 off = (u64)vmf->pgoff << PAGE_SHIFT;
	struct pgpdma_buf *b;
	vm_fault_t ret;
	u32 i;
	int idx;

	idx = srcu_read_lock(&pd->srcu);
	if (pgpdma_dev_gone(pd)) {
		ret = VM_FAULT_SIGBUS;
		goto out;
	}
	i = div_u64(off, pd->stride);
	if (i >= pd->rx_count + pd->tx_count) {
		ret = VM_FAULT_SIGBUS;
		goto out;
	}
	b = i < pd->rx_count ? &pd->rx[i] : &pd->tx[i - pd->rx_count];
	ret = pgpdma_insert_buf(pd, vma, b,
				(pgoff_t)div_u64((u64)i * pd->stride,
						 PAGE_SIZE));
out:
	srcu_read_unlock(&pd->srcu, idx);
	return ret;
}

static const struct vm_operations_struct pgpdma_vm_ops = {
	.fault		= pgpdma_fault,
	.pfn_mkwrite	= pgpdma_pfn_mkwrite,
};

/**
 * pgpdma_mmap() - map (part of) the pool
 * @file: open file; MAP_SHARED only
 * @vma: page-aligned window inside the pool
 *
 * Called inside the device's SRCU guard (cdev.c). Maps nothing yet: the
 * fault handler inserts pages when they are first touched.
 *
 * Return: 0, -EINVAL (private, or outside the pool), -EPERM (PROT_EXEC),
 * or -ENODEV once the device is gone.
 */
int pgpdma_mmap(struct file *file, struct vm_area_struct *vma)
{
	struct pgpdma_file *f = file->private_data;
	struct pgpdma_dev *pd = f->pd;
	u64 map_size = (u64)(pd->rx_count + pd->tx_count) * pd->stride;
	u64 off = (u64)vma->vm_pgoff << PAGE_SHIFT;
	u64 len = vma->vm_end - vma->vm_start;

	if (pgpdma_dev_gone(pd))
		return -ENODEV;
	if (vma->vm_flags & VM_EXEC)
		return -EPERM;
	/* MAP_SHARED only (VM_SHARED is cleared for read-only files). */
	if (!(vma->vm_flags & VM_MAYSHARE))
		return -EINVAL;
	if (vma->vm_pgoff >= (map_size >> PAGE_SHIFT) || len > map_size - off)
		return -EINVAL;

	pgpdma_vm_flags_set(vma, VM_PFNMAP | VM_IO | VM_DONTEXPAND |
			    VM_DONTDUMP | VM_DONTCOPY);
	pgpdma_vm_flags_clear(vma, VM_MAYEXEC);
	vma->vm_ops = &pgpdma_vm_ops;
	return 0;
}
