// SPDX-License-Identifier: GPL-2.0
/*
 * pgpdma - the char-device core as a library for back-ends: registration,
 * the lifetime of an instance, and its removal.
 *
 * An instance (struct pgpdma_dev) lives in the reference count of its
 * embedded struct device: the registration holds one reference and every
 * open file one more, so a file still open after the back-end is gone
 * (PCI unbind, hot-unplug, the emulator's unbind) keeps a valid structure
 * whose every operation but close fails with -ENODEV.
 *
 * Removal, in the order that makes it safe (pgpdma_dev_lost()): mark the
 * device gone and wake every sleeper; wait until no file operation that
 * saw it present is still running (SRCU); halt the back-end, which then
 * never touches a buffer again; zap every user mapping of the pool, so a
 * later access faults (SIGBUS) instead of reaching freed memory; free the
 * DMA memory. The buffer bookkeeping stays until the last reference goes,
 * so that close still takes back, and counts, what a file held.
 */
#include <linux/device.h>
#include <linux/idr.h>
#include <linux/mm.h>
#include <linux/poll.h>
#include <linux/slab.h>
#include "pgpdma.h"
#include "engine.h"
#include "compat.h"

/* Set once at load, read-only afterwards. */
static struct class *pgpdma_class;
static dev_t pgpdma_devt;
static DEFINE_IDA(pgpdma_ida);

/* The last reference went: no file is open and the back-end is gone. */
static void pgpdma_dev_release(struct device *dev)
{
	struct pgpdma_dev *pd = container_of(dev, struct pgpdma_dev, dev);

	pgpdma_pool_free(pd);
	cleanup_srcu_struct(&pd->srcu);
	mutex_destroy(&pd->files_mutex);
	mutex_destroy(&pd->lost_mutex);
	ida_free(&pgpdma_ida, pd->instance);
	kfree(pd);
}

/* Allocate and initialise an instance; its device is not added yet. */
static struct pgpdma_dev *pgpdma_dev_alloc(struct device *parent,
					   const struct pgpdma_config *cfg)
{
	struct pgpdma_dev *pd;
	int ret;

	pd = kzalloc_node(sizeof(*pd), GFP_KERNEL, dev_to_node(parent));
	if (!pd)
		return ERR_PTR(-ENOMEM);
	pd->instance = ida_alloc_max(&pgpdma_ida, PGPDMA_MAX_DEVS - 1,
				     GFP_KERNEL);
	if (pd->instance < 0) {
		ret = pd->instance;
		goto err_free_pd;
	}
	ret = init_srcu_struct(&pd->srcu);
	if (ret)
		goto err_free_instance;

	pd->dma_dev = parent;
	pd->streaming = cfg->streaming;
	pd->rx_count = cfg->rx_count;
	pd->tx_count = cfg->tx_count;
	pd->buf_size = cfg->buf_size;
	pd->stride = PAGE_ALIGN(cfg->buf_size);
	pd->gen_mode = cfg->gen_mode;
	pd->gen_rate_hz = cfg->gen_rate_hz;
	pd->gen_frame_size = cfg->gen_frame_size;
	pd->mover = cfg->mover;
	pd->mover_ctx = cfg->mover_ctx;
	pd->rx_hold_max = cfg->rx_hold_max ? cfg->rx_hold_max :
			  max(cfg->rx_count / 2, 1U);
	spin_lock_init(&pd->lock);
	mutex_init(&pd->files_mutex);
	mutex_init(&pd->lost_mutex);
	INIT_LIST_HEAD(&pd->rx_free);
	INIT_LIST_HEAD(&pd->tx_free);
	INIT_LIST_HEAD(&pd->tx_queue);
	INIT_LIST_HEAD(&pd->rx_partial);
	INIT_LIST_HEAD(&pd->files);
	init_waitqueue_head(&pd->tx_wq);

	/* From here on the last put_device() frees everything. */
	device_initialize(&pd->dev);
	pd->dev.class = pgpdma_class;
	pd->dev.parent = parent;
	pd->dev.devt = MKDEV(MAJOR(pgpdma_devt), pd->instance);
	pd->dev.groups = pgpdma_attr_groups;
	pd->dev.release = pgpdma_dev_release;
	dev_set_drvdata(&pd->dev, pd);
	ret = dev_set_name(&pd->dev, PGPDMA_NAME "%d", pd->instance);
	if (ret) {
		put_device(&pd->dev);
		return ERR_PTR(ret);
	}
	return pd;

err_free_instance:
	ida_free(&pgpdma_ida, pd->instance);
err_free_pd:
	kfree(pd);
	return ERR_PTR(ret);
}

/**
 * pgpdma_register() - create an instance /dev/pgpdmaN on a back-end device
 * @parent: the back-end's device, its DMA mask already set; the pool is
 *          allocated on it and on its NUMA node
 * @ops: the engine back-end; must outlive the registration
 * @cfg: buffer and engine settings, validated by the caller
 *
 * Allocates the pool, starts the engine, then makes the device visible
 * (char device, sysfs, /proc). May sleep.
 *
 * Return: the instance, or an ERR_PTR(): -ENOSPC when PGPDMA_MAX_DEVS
 * instances exist, -ENOMEM, or the back-end's or device core's error.
 */
struct pgpdma_dev *pgpdma_register(struct device *parent,
				   const struct pgpdma_engine_ops *ops,
				   const struct pgpdma_config *cfg)
{
	struct pgpdma_dev *pd;
	int ret;

	pd = pgpdma_dev_alloc(parent, cfg);
	if (IS_ERR(pd))
		return pd;

	ret = pgpdma_pool_alloc(pd);
	if (ret) {
		dev_err(parent, "pgpdma%d: cannot allocate %u RX + %u TX buffers of %u bytes (%s)\n",
			pd->instance, pd->rx_count, pd->tx_count, pd->stride,
			pd->streaming ? "streaming" : "coherent");
		goto err_put_dev;
	}

	pd->eng_ops = ops;
	ret = ops->start(pd);
	if (ret) {
		dev_err(parent, "pgpdma%d: cannot start engine: %d\n",
			pd->instance, ret);
		pd->eng_ops = NULL;
		goto err_free_dma;
	}

	cdev_init(&pd->cdev, &pgpdma_fops);
	pd->cdev.owner = THIS_MODULE;
	ret = cdev_device_add(&pd->cdev, &pd->dev);
	if (ret) {
		dev_err(parent, "pgpdma%d: cannot add char device: %d\n",
			pd->instance, ret);
		goto err_stop_engine;
	}

	ret = pgpdma_stats_init(pd);
	if (ret) {
		dev_err(parent, "pgpdma%d: cannot create /proc entry\n",
			pd->instance);
		goto err_del_cdev;
	}
	return pd;

err_del_cdev:
	cdev_device_del(&pd->cdev, &pd->dev);
	pgpdma_dev_lost(pd);	/* a file may have opened it meanwhile */
err_stop_engine:
	ops->stop(pd);
	pd->eng_ops = NULL;
err_free_dma:
	pgpdma_pool_free_dma(pd);
err_put_dev:
	put_device(&pd->dev);
	return ERR_PTR(ret);
}

/**
 * pgpdma_unregister() - remove an instance; the back-end's remove calls it
 * @pd: instance from pgpdma_register()
 *
 * /dev/pgpdmaN and its sysfs directory disappear at once; the device is
 * lost (pgpdma_dev_lost(), if not already) so that the engine is halted,
 * every mapping zapped and the DMA memory freed before this returns; the
 * back-end's @stop runs last. Files still open keep the instance until
 * they close, failing every call with -ENODEV. May sleep.
 */
void pgpdma_unregister(struct pgpdma_dev *pd)
{
	cdev_device_del(&pd->cdev, &pd->dev);
	pgpdma_dev_lost(pd);
	pgpdma_stats_exit(pd);
	pd->eng_ops->stop(pd);
	pd->eng_ops = NULL;
	put_device(&pd->dev);
}

/* Zap every user mapping of the pool: a later access faults (SIGBUS). */
static void pgpdma_zap_mappings(struct pgpdma_dev *pd)
{
	struct pgpdma_file *f;

	mutex_lock(&pd->files_mutex);
	list_for_each_entry(f, &pd->files, node)
		unmap_mapping_range(f->mapping, 0, 0, 1);
	mutex_unlock(&pd->files_mutex);
}

/**
 * pgpdma_dev_lost() - the device is gone: stop it, wake everyone, free it
 * @pd: device
 *
 * Called by removal (pgpdma_unregister()), by a back-end that finds its
 * hardware gone, and by sysfs emulate_unplug. Sets pd->gone under pd->lock
 * and wakes every sleeper (blocked RX reads, TX waits, pollers); from here
 * on every file operation but release fails with -ENODEV. Once the file
 * operations that saw the device present have finished, halts the
 * back-end, takes back the TX frames it will never send (counted in
 * reclaimed), zaps every mapping of the pool and frees its DMA memory.
 * Buffers that files hold or have queued stay theirs, in the bookkeeping,
 * until close, which reclaims them as usual. May sleep.
 *
 * Return: true if this call made the device gone, false if it was already.
 */
bool pgpdma_dev_lost(struct pgpdma_dev *pd)
{
	struct pgpdma_buf *b, *next;
	struct pgpdma_file *f;

	/* a second caller returns only once the first has freed the pool */
	mutex_lock(&pd->lost_mutex);
	spin_lock(&pd->lock);
	if (pd->gone) {
		spin_unlock(&pd->lock);
		mutex_unlock(&pd->lost_mutex);
		return false;
	}
	WRITE_ONCE(pd->gone, true);
	list_for_each_entry(f, &pd->files, node)
		wake_up_interruptible_poll(&f->rx_wq,
					   EPOLLIN | EPOLLERR | EPOLLHUP);
	spin_unlock(&pd->lock);
	wake_up_interruptible_poll(&pd->tx_wq, EPOLLOUT | EPOLLERR | EPOLLHUP);

	synchronize_srcu(&pd->srcu);
	if (pd->eng_ops && pd->eng_ops->halt)
		pd->eng_ops->halt(pd);

	spin_lock(&pd->lock);
	list_for_each_entry_safe(b, next, &pd->tx_queue, node) {
		pgpdma_tx_recycle(pd, b);
		pd->st.reclaimed++;
	}
	/* a frame the back-end had half completed */
	list_for_each_entry_safe(b, next, &pd->rx_partial, node)
		pgpdma_rx_recycle(pd, b);
	pd->rx_partial_n = 0;
	pd->pool_freed = true;
	spin_unlock(&pd->lock);
	pgpdma_wake_tx(pd);

	pgpdma_zap_mappings(pd);
	pgpdma_pool_free_dma(pd);
	mutex_unlock(&pd->lost_mutex);
	return true;
}

/**
 * pgpdma_dev_gone() - has the device disappeared?
 * @pd: device
 *
 * Return: pd->gone, read under pd->lock.
 */
bool pgpdma_dev_gone(struct pgpdma_dev *pd)
{
	bool ret;

	spin_lock(&pd->lock);
	ret = pd->gone;
	spin_unlock(&pd->lock);
	return ret;
}

/**
 * pgpdma_core_init() - class and char device numbers of all instances
 *
 * Return: 0 or a negative errno.
 */
int pgpdma_core_init(void)
{
	int ret;

	ret = alloc_chrdev_region(&pgpdma_devt, 0, PGPDMA_MAX_DEVS,
				  PGPDMA_NAME);
	if (ret) {
		pr_err("pgpdma: cannot allocate char device numbers: %d\n",
		       ret);
		return ret;
	}
	pgpdma_class = pgpdma_class_create(PGPDMA_NAME);
	if (IS_ERR(pgpdma_class)) {
		ret = PTR_ERR(pgpdma_class);
		pr_err("pgpdma: cannot create class: %d\n", ret);
		unregister_chrdev_region(pgpdma_devt, PGPDMA_MAX_DEVS);
		return ret;
	}
	pgpdma_stats_setup();
	return 0;
}

/**
 * pgpdma_core_exit() - undo pgpdma_core_init(); every instance is gone
 */
void pgpdma_core_exit(void)
{
	class_destroy(pgpdma_class);
	unregister_chrdev_region(pgpdma_devt, PGPDMA_MAX_DEVS);
	ida_destroy(&pgpdma_ida);
}
