// SPDX-License-Identifier: GPL-2.0
/*
 * pgpdma - the emulated card as a bound device: the module creates
 * cfgDevCount platform devices "pgpdma.N" and a platform driver binds
 * them, registering each with the core like any other back-end (as
 * netdevsim and vivid do). Unbinding one through sysfs
 * (/sys/bus/platform/drivers/pgpdma/unbind) removes its instance through
 * the same path a PCI remove takes; binding it again brings it back.
 *
 * Like a device with a bug, the emulated card can also report any RX
 * completion a test asks for, through debugfs (root only):
 *   echo "INDEX SIZE FLAGS DEST ERROR" > /sys/kernel/debug/pgpdma/pgpdmaN/inject_completion
 * INDEX "next" takes a free RX buffer first, as the device would before
 * filling it; a number is reported as it is (out of range, not posted).
 * The core's checks (pgpdma_rx_complete_one()) decide what happens.
 * Keep the engine idle meanwhile: an injected frame left unfinished
 * (FLAGS with PGPDMA_RXF_CONT) is the frame the engine's next completion
 * continues.
 */
#include <linux/debugfs.h>
#include <linux/dma-mapping.h>
#include <linux/platform_device.h>
#include <linux/uaccess.h>
#include "pgpdma.h"
#include "engine.h"

/* Set once at load (pgpdma_emu_devices_add()), read-only afterwards. */
static struct platform_device *pgpdma_emu_pdevs[PGPDMA_MAX_DEVS];
static unsigned int pgpdma_emu_count;
static struct dentry *pgpdma_emu_debugfs;

/* Parse "INDEX|next SIZE FLAGS DEST ERROR" and report it to the core. */
static ssize_t pgpdma_emu_inject_write(struct file *file,
				       const char __user *ubuf, size_t len,
				       loff_t *ppos)
{
	struct pgpdma_dev *pd = file->private_data;
	struct pgpdma_rx_completion c;
	struct pgpdma_buf *b;
	char buf[80], idx[16];
	LIST_HEAD(taken);
	int ret;

	if (len >= sizeof(buf))
		return -EINVAL;
	if (copy_from_user(buf, ubuf, len))
		return -EFAULT;
	buf[len] = 0;
	if (sscanf(buf, "%15s %u %i %u %i", idx, &c.size, &c.flags, &c.dest,
		   &c.error) != 5)
		return -EINVAL;
	if (pgpdma_dev_gone(pd))
		return -ENODEV;
	if (!strcmp(idx, "next")) {
		ret = pgpdma_rx_take(pd, 1, &taken);
		if (ret)
			return ret;
		b = list_first_entry(&taken, struct pgpdma_buf, node);
		c.index = b->index;
		/* the core finds it by index; off the local list first */
		list_del_init(&b->node);
	} else if (kstrtou32(idx, 0, &c.index)) {
		return -EINVAL;
	}
	ret = pgpdma_rx_complete_one(pd, &c);
	return ret ? ret : len;
}

static const struct file_operations pgpdma_emu_inject_fops = {
	.owner	= THIS_MODULE,
	.open	= simple_open,
	.write	= pgpdma_emu_inject_write,
};

/* Unbind: the device-managed action undoes the registration. */
static void pgpdma_emu_unregister(void *data)
{
	struct pgpdma_dev *pd = data;
	char name[16];

	snprintf(name, sizeof(name), PGPDMA_NAME "%d", pd->instance);
	debugfs_lookup_and_remove(name, pgpdma_emu_debugfs);
	pgpdma_unregister(pd);
}

static int pgpdma_emu_probe(struct platform_device *pdev)
{
	struct pgpdma_dev *pd;
	struct dentry *dir;
	int ret;

	/* The emulated engine reaches all of memory. */
	ret = dma_coerce_mask_and_coherent(&pdev->dev, DMA_BIT_MASK(64));
	if (ret)
		ret = dma_coerce_mask_and_coherent(&pdev->dev,
						   DMA_BIT_MASK(32));
	if (ret) {
		dev_err(&pdev->dev, "no usable DMA mask: %d\n", ret);
		return ret;
	}
	pd = pgpdma_register(&pdev->dev, &pgpdma_emu_ops,
			     &pgpdma_module_config);
	if (IS_ERR(pd))
		return PTR_ERR(pd);
	dir = debugfs_create_dir(dev_name(&pd->dev), pgpdma_emu_debugfs);
	debugfs_create_file("inject_completion", 0200, dir, pd,
			    &pgpdma_emu_inject_fops);
	ret = devm_add_action_or_reset(&pdev->dev, pgpdma_emu_unregister, pd);
	if (ret)
		return ret;
	platform_set_drvdata(pdev, pd);
	return 0;
}

static struct platform_driver pgpdma_emu_driver = {
	.probe	= pgpdma_emu_probe,
	.driver	= {
		.name	= PGPDMA_NAME,
	},
};

/**
 * pgpdma_emu_devices_add() - register the emulator's driver and devices
 * @count: devices to create, 1..PGPDMA_MAX_DEVS; each gets the settings
 *         of pgpdma_module_config
 *
 * Each device is bound (and its instance created) before the next one is
 * added, so the emulated instances are /dev/pgpdma0 and up, in order.
 *
 * Return: 0, or the first error (a device that fails to bind, with what
 * was created undone).
 */
int pgpdma_emu_devices_add(unsigned int count)
{
	struct platform_device *pdev;
	int ret;

	pgpdma_emu_debugfs = debugfs_create_dir(PGPDMA_NAME, NULL);
	ret = platform_driver_register(&pgpdma_emu_driver);
	if (ret) {
		debugfs_remove(pgpdma_emu_debugfs);
		return ret;
	}
	for (pgpdma_emu_count = 0; pgpdma_emu_count < count;
	     pgpdma_emu_count++) {
		pdev = platform_device_register_simple(PGPDMA_NAME,
						       pgpdma_emu_count,
						       NULL, 0);
		if (IS_ERR(pdev)) {
			ret = PTR_ERR(pdev);
			goto err_remove_devices;
		}
		pgpdma_emu_pdevs[pgpdma_emu_count] = pdev;
		if (!platform_get_drvdata(pdev)) {
			/* the probe failed; it said why */
			ret = -ENODEV;
			pgpdma_emu_count++;
			goto err_remove_devices;
		}
	}
	return 0;

err_remove_devices:
	pgpdma_emu_devices_remove();
	return ret;
}

/**
 * pgpdma_emu_devices_remove() - undo pgpdma_emu_devices_add()
 *
 * Unbinding removes each instance; files still open keep theirs (failing
 * with -ENODEV) until they close, but module unload waits for them.
 */
void pgpdma_emu_devices_remove(void)
{
	while (pgpdma_emu_count) {
		pgpdma_emu_count--;
		platform_device_unregister(pgpdma_emu_pdevs[pgpdma_emu_count]);
		pgpdma_emu_pdevs[pgpdma_emu_count] = NULL;
	}
	platform_driver_unregister(&pgpdma_emu_driver);
	debugfs_remove(pgpdma_emu_debugfs);
}
