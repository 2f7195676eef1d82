/* SPDX-License-Identifier: GPL-2.0 */
/*
 * pgpdma - shims for the kernel versions we build against (6.1, 6.12).
 * Version checks live here and nowhere else.
 */
#ifndef _PGPDMA_COMPAT_H
#define _PGPDMA_COMPAT_H

#include <linux/device.h>
#include <linux/mm.h>

/*
 * Up to 6.3 class_create() is a macro taking the owner module; 6.4 made
 * it a function of the name only. vm_flags_set()/vm_flags_clear() came
 * in 6.3 (vm_flags became read-only). Of the kernels we support, 6.1 has
 * the old forms and 6.12 the new ones, so the class_create macro tells
 * both apart without a version check.
 */
#ifdef class_create
#define pgpdma_class_create(name)	class_create(THIS_MODULE, name)
#else
#define pgpdma_class_create(name)	class_create(name)
#endif

#ifndef class_create
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

#endif /* _PGPDMA_COMPAT_H */
