// SPDX-License-Identifier: GPL-2.0
/*
 * pgpdma - mmap of the whole pool: RX buffers, then TX buffers, at a fixed
 * stride (pgpdma_info gives the layout).
 *
 * RX buffers belong to the device: userspace may read them, never write
 * them. Their pages are mapped read-only, and the vma asks to be told of
 * the first write to each page (pfn_mkwrite), which the RX range refuses
 * with SIGBUS; mprotect() cannot make them writable, since with write
 * notification the kernel never maps a clean shared page writable behind
 * pfn_mkwrite's back. TX buffers stay writable for files open for writing.
 * Mappings are not inherited across fork() (VM_DONTCOPY): a child would
 * copy every PTE of a large pool and keep buffers it does not own.
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

static const struct vm_operations_struct pgpdma_vm_ops = {
	.pfn_mkwrite	= pgpdma_pfn_mkwrite,
};

/* Map @len bytes of buffer @b starting @boff bytes into it at @uaddr. */
static int pgpdma_mmap_buf(struct pgpdma_dev *pd, struct vm_area_struct *vma,
			   struct pgpdma_buf *b, unsigned long uaddr,
			   unsigned long boff, unsigned long len)
{
	unsigned long start, end, pgoff;
	pgprot_t prot = vma->vm_page_prot;
	int ret;

	if (b->rx)
		vma->vm_page_prot = vm_get_page_prot(vma->vm_flags & ~VM_WRITE);
	if (pd->streaming) {
		ret = remap_pfn_range(vma, uaddr,
				      page_to_pfn(b->page) + (boff >> PAGE_SHIFT),
				      len, vma->vm_page_prot);
		vma->vm_page_prot = prot;
		return ret;
	}

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
	vma->vm_page_prot = prot;
	return ret;
}

/**
 * pgpdma_mmap() - map (part of) the pool
 * @file: open file; MAP_SHARED only
 * @vma: page-aligned window inside the pool
 *
 * Return: 0, -EINVAL (private, or outside the pool), -EPERM (PROT_EXEC),
 * -ENODEV once the device is gone, or an error of the page mapping.
 */
int pgpdma_mmap(struct file *file, struct vm_area_struct *vma)
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

	pgpdma_vm_flags_set(vma, VM_DONTEXPAND | VM_DONTDUMP | VM_DONTCOPY);
	pgpdma_vm_flags_clear(vma, VM_MAYEXEC);
	vma->vm_ops = &pgpdma_vm_ops;

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
