/* SPDX-License-Identifier: GPL-2.0 */
/*
 * pgpdma - shims for the kernel versions we build against (6.1, 6.12, and
 * distribution kernels that backport the same interfaces). Version checks
 * live here and nowhere else; each shim is keyed on the feature it needs.
 */
#ifndef _PGPDMA_COMPAT_H
#define _PGPDMA_COMPAT_H

#include <linux/device.h>
#include <linux/mm.h>
#include <linux/pci.h>
#include <linux/version.h>

#ifndef RHEL_RELEASE_CODE
#define PGPDMA_RHEL_AT_LEAST(a, b)	0
#else
#define PGPDMA_RHEL_AT_LEAST(a, b)	\
	(RHEL_RELEASE_CODE >= RHEL_RELEASE_VERSION(a, b))
#endif

/*
 * class_create(): up to 6.3 a macro taking the owner module, since 6.4 a
 * function of the name only. The macro's presence is the feature itself,
 * so no version is needed (it also follows any backport).
 */
#ifdef class_create
#define pgpdma_class_create(name)	class_create(THIS_MODULE, name)
#else
#define pgpdma_class_create(name)	class_create(name)
#endif

/*
 * vm_flags_set()/vm_flags_clear(): 6.3 made vma->vm_flags read-only and
 * added them (RHEL 9.5 carries the backport). They are inline functions,
 * not macros, so the version decides.
 */
#if LINUX_VERSION_CODE >= KERNEL_VERSION(6, 3, 0) || PGPDMA_RHEL_AT_LEAST(9, 5)
static inline void pgpdma_vm_flags_set(struct vm_area_struct *vma,
				       unsigned long flags)
{
	vm_flags_set(vma, flags);
}

static inline void pgpdma_vm_flags_clear(struct vm_area_struct *vma,
					 unsigned long flags)
{
	vm_flags_clear(vma, flags);
}
#else
static inline void pgpdma_vm_flags_set(struct vm_area_struct *vma,
				       unsigned long flags)
{
	vma->vm_flags |= flags;
}

static inline void pgpdma_vm_flags_clear(struct vm_area_struct *vma,
					 unsigned long flags)
{
	vma->vm_flags &= ~flags;
}
#endif

/*
 * PCI_IRQ_INTX: 6.8 renamed PCI_IRQ_LEGACY (gone in 6.10). A macro, so its
 * presence is the feature.
 */
#ifndef PCI_IRQ_INTX
#define PCI_IRQ_INTX	PCI_IRQ_LEGACY
#endif

#endif /* _PGPDMA_COMPAT_H */
