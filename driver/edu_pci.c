// SPDX-License-Identifier: GPL-2.0
/*
 * pgpdma - PCI back-end for QEMU's edu device (1234:11e8), the stand-in
 * for a PGP card: a real PCI function with a 1 MiB MMIO BAR, MSI, and a
 * bus-master DMA engine that copies between host memory (by bus address)
 * and a 4 KiB buffer inside the device (QEMU docs/specs/edu.rst).
 *
 * The card's firmware is the firmware model of emu_engine.c (generator,
 * TX->RX loopback, transitions, lossless or drop backpressure); every byte
 * it delivers moves by the device's DMA: a generated frame is built piece
 * by piece in a coherent staging buffer, read by the device into its own
 * buffer and written by it into the RX buffer at that buffer's bus
 * address; a looped-back TX frame is read by the device from the TX
 * buffer and written into the RX buffer. Each transfer ends with an MSI;
 * the hard IRQ handler acknowledges it and wakes the firmware thread.
 *
 * Nothing the device reports is trusted: a transfer that does not end
 * within PGPDMA_EDU_TIMEOUT, or a device reading all ones (gone), fails
 * the frame (PGPDMA_RXE_LINK); only the DMA-complete status bit is acted
 * on. Transfers never leave the device's buffer nor the pool buffer they
 * were asked for.
 */
#include <linux/completion.h>
#include <linux/dma-mapping.h>
#include <linux/interrupt.h>
#include <linux/io.h>
#include <linux/io-64-nonatomic-lo-hi.h>
#include <linux/iopoll.h>
#include <linux/module.h>
#include <linux/pci.h>
#include "pgpdma.h"
#include "engine.h"
#include "compat.h"

#define PGPDMA_EDU_VENDOR	0x1234
#define PGPDMA_EDU_DEVICE	0x11e8

/* Registers of BAR0; below 0x80 only 32-bit accesses work. */
#define EDU_REG_ID		0x00	/* 0xMMmm00ed, version MM.mm */
#define EDU_REG_LIVE		0x04	/* reads back the complement */
#define EDU_REG_IRQ_STATUS	0x24
#define EDU_REG_IRQ_ACK		0x64
#define EDU_REG_DMA_SRC		0x80
#define EDU_REG_DMA_DST		0x88
#define EDU_REG_DMA_CNT		0x90
#define EDU_REG_DMA_CMD		0x98
#define EDU_DMA_RUN		BIT(0)
#define EDU_DMA_TO_RAM		BIT(1)
#define EDU_DMA_IRQ		BIT(2)
#define EDU_IRQ_DMA		0x100
#define EDU_ID_MAGIC		0xed
#define EDU_BUF			0x40000	/* the device's buffer, 4 KiB */

/*
 * Bytes per transfer: half the device's buffer. QEMU 7.2's edu refuses
 * (aborting the whole VM) a transfer that ends exactly at the end of its
 * buffer, an off-by-one in its range check.
 */
#define PGPDMA_EDU_CHUNK	2048U
#define PGPDMA_EDU_TIMEOUT	(10 * HZ)

static unsigned int edu_dma_bits = 28;
module_param(edu_dma_bits, uint, 0444);
MODULE_PARM_DESC(edu_dma_bits, "DMA mask the edu back-end sets, bits, 20..64 (default 28, what the device reaches unless QEMU's dma_mask= widens it; a wider value than the device's is a deliberately wrong mask)");

/**
 * struct pgpdma_edu - one edu function
 * @pdev:      the PCI function
 * @regs:      BAR0
 * @irq:       its interrupt (MSI, or INTx without MSI)
 * @done:      completed by the IRQ handler when a transfer ends
 * @stage:     coherent staging buffer of PGPDMA_EDU_CHUNK bytes
 * @stage_dma: its bus address
 * @dead:      the firmware model is halting or the device is gone: no new
 *             transfer starts, a waiting one gives up
 * @xfers:     transfers that ended with their interrupt
 * @failed:    transfers that timed out or found the device gone
 * @stray:     interrupts without the DMA-complete bit
 * @pd:        the instance, once registered
 *
 * @done, @dead and the counters are used by the firmware thread and the
 * IRQ handler only; transfers are serialised by the single firmware
 * thread, so no lock is needed.
 */
struct pgpdma_edu {
	struct pci_dev *pdev;
	void __iomem *regs;
	int irq;
	struct completion done;
	void *stage;
	dma_addr_t stage_dma;
	bool dead;
	u64 xfers;
	u64 failed;
	u64 stray;
	struct pgpdma_dev *pd;
};

static bool pgpdma_edu_gone(struct pgpdma_edu *edu)
{
	return readl(edu->regs + EDU_REG_ID) == ~0U;
}

/*
 * One transfer of @len bytes: from host bus address @src into the device
 * buffer (@to_ram false) or from the device buffer to @dst (@to_ram
 * true); waits for its interrupt. Return: 0, -ENODEV (gone or halting) or
 * -ETIMEDOUT.
 */
static int pgpdma_edu_xfer(struct pgpdma_edu *edu, dma_addr_t host, u32 len,
			   bool to_ram)
{
	if (READ_ONCE(edu->dead))
		return -ENODEV;
	if (WARN_ON_ONCE(!len || len > PGPDMA_EDU_CHUNK))
		return -EINVAL;

	reinit_completion(&edu->done);
	lo_hi_writeq(to_ram ? EDU_BUF : host, edu->regs + EDU_REG_DMA_SRC);
	lo_hi_writeq(to_ram ? host : EDU_BUF, edu->regs + EDU_REG_DMA_DST);
	lo_hi_writeq(len, edu->regs + EDU_REG_DMA_CNT);
	/* writel orders the CPU's stores to the staging buffer before it. */
	writel(EDU_DMA_RUN | EDU_DMA_IRQ | (to_ram ? EDU_DMA_TO_RAM : 0),
	       edu->regs + EDU_REG_DMA_CMD);

	if (!wait_for_completion_timeout(&edu->done, PGPDMA_EDU_TIMEOUT) ||
	    READ_ONCE(edu->dead)) {
		edu->failed++;
		if (pgpdma_edu_gone(edu))
			return -ENODEV;
		return READ_ONCE(edu->dead) ? -ENODEV : -ETIMEDOUT;
	}
	edu->xfers++;
	return 0;
}

/* Is [@off, @off + @len) inside buffer @b and one transfer long? */
static bool pgpdma_edu_range_ok(struct pgpdma_dev *pd, u32 off, u32 len)
{
	return len && len <= PGPDMA_EDU_CHUNK && off <= pd->buf_size &&
	       len <= pd->buf_size - off;
}

static int pgpdma_edu_write(struct pgpdma_dev *pd, struct pgpdma_buf *dst,
			    u32 off, const void *src, u32 len)
{
	struct pgpdma_edu *edu = pd->mover_ctx;
	int ret;

	if (WARN_ON_ONCE(!pgpdma_edu_range_ok(pd, off, len)))
		return -EINVAL;
	memcpy(edu->stage, src, len);
	ret = pgpdma_edu_xfer(edu, edu->stage_dma, len, false);
	if (!ret)
		ret = pgpdma_edu_xfer(edu, dst->dma + off, len, true);
	return ret;
}

static int pgpdma_edu_copy(struct pgpdma_dev *pd, struct pgpdma_buf *dst,
			   u32 doff, struct pgpdma_buf *src, u32 soff, u32 len)
{
	struct pgpdma_edu *edu = pd->mover_ctx;
	int ret;

	if (WARN_ON_ONCE(!pgpdma_edu_range_ok(pd, doff, len) ||
			 !pgpdma_edu_range_ok(pd, soff, len)))
		return -EINVAL;
	ret = pgpdma_edu_xfer(edu, src->dma + soff, len, false);
	if (!ret)
		ret = pgpdma_edu_xfer(edu, dst->dma + doff, len, true);
	return ret;
}

/*
 * The firmware model halts: wake a waiting transfer, wait until the
 * device has finished the one it runs (its timer may still fire and
 * write into a buffer about to be freed), and for its interrupt handler.
 */
static void pgpdma_edu_halt(struct pgpdma_dev *pd)
{
	struct pgpdma_edu *edu = pd->mover_ctx;
	u32 cmd;

	WRITE_ONCE(edu->dead, true);
	complete_all(&edu->done);
	if (readl_poll_timeout(edu->regs + EDU_REG_DMA_CMD, cmd,
			       cmd == ~0U || !(cmd & EDU_DMA_RUN), 1000,
			       jiffies_to_usecs(PGPDMA_EDU_TIMEOUT)))
		dev_warn(&edu->pdev->dev, "DMA still running at halt\n");
	synchronize_irq(edu->irq);
}

static const struct pgpdma_fw_mover pgpdma_edu_mover = {
	.name	= "edu bus-master DMA",
	.write	= pgpdma_edu_write,
	.copy	= pgpdma_edu_copy,
	.halt	= pgpdma_edu_halt,
	.chunk	= PGPDMA_EDU_CHUNK,
};

static irqreturn_t pgpdma_edu_irq(int irq, void *data)
{
	struct pgpdma_edu *edu = data;
	u32 st = readl(edu->regs + EDU_REG_IRQ_STATUS);

	if (!st || st == ~0U)	/* not ours (INTx), or the device is gone */
		return IRQ_NONE;
	writel(st, edu->regs + EDU_REG_IRQ_ACK);
	if (st & EDU_IRQ_DMA)
		complete(&edu->done);
	else
		edu->stray++;
	return IRQ_HANDLED;
}

/* The device answers as an edu: ID magic and the liveness register. */
static int pgpdma_edu_check(struct pgpdma_edu *edu)
{
	u32 id = readl(edu->regs + EDU_REG_ID);

	if ((id & 0xff) != EDU_ID_MAGIC)
		return -ENODEV;
	writel(0x5a5a1234, edu->regs + EDU_REG_LIVE);
	if (readl(edu->regs + EDU_REG_LIVE) != ~0x5a5a1234U)
		return -ENODEV;
	dev_info(&edu->pdev->dev, "edu %u.%u, DMA mask %u bits\n", id >> 24,
		 (id >> 16) & 0xff, edu_dma_bits);
	return 0;
}

static int pgpdma_edu_irq_setup(struct pgpdma_edu *edu)
{
	struct pci_dev *pdev = edu->pdev;
	int ret;

	ret = pci_alloc_irq_vectors(pdev, 1, 1, PCI_IRQ_MSI | PCI_IRQ_INTX);
	if (ret < 0)
		return ret;
	edu->irq = pci_irq_vector(pdev, 0);
	return devm_request_irq(&pdev->dev, edu->irq, pgpdma_edu_irq,
				pdev->msi_enabled ? 0 : IRQF_SHARED,
				"pgpdma-edu", edu);
}

/* Unbind: the device-managed action undoes the registration first. */
static void pgpdma_edu_unregister(void *pd)
{
	pgpdma_unregister(pd);
}

static int pgpdma_edu_probe(struct pci_dev *pdev,
			    const struct pci_device_id *id)
{
	struct pgpdma_config cfg = pgpdma_module_config;
	struct pgpdma_edu *edu;
	struct pgpdma_dev *pd;
	int ret;

	edu = devm_kzalloc(&pdev->dev, sizeof(*edu), GFP_KERNEL);
	if (!edu)
		return -ENOMEM;
	edu->pdev = pdev;
	init_completion(&edu->done);

	ret = pcim_enable_device(pdev);
	if (ret)
		return ret;
	ret = pcim_iomap_regions(pdev, BIT(0), PGPDMA_NAME);
	if (ret)
		return ret;
	edu->regs = pcim_iomap_table(pdev)[0];
	ret = pgpdma_edu_check(edu);
	if (ret) {
		dev_err(&pdev->dev, "not an edu device (ID 0x%08x)\n",
			readl(edu->regs + EDU_REG_ID));
		return ret;
	}
	/* Before anything is allocated for the device: its pool must fit. */
	ret = dma_set_mask_and_coherent(&pdev->dev,
					DMA_BIT_MASK(edu_dma_bits));
	if (ret) {
		dev_err(&pdev->dev, "DMA mask of %u bits refused: %d\n",
			edu_dma_bits, ret);
		return ret;
	}
	pci_set_master(pdev);
	ret = pgpdma_edu_irq_setup(edu);
	if (ret) {
		dev_err(&pdev->dev, "no interrupt: %d\n", ret);
		return ret;
	}
	edu->stage = dmam_alloc_coherent(&pdev->dev, PGPDMA_EDU_CHUNK,
					 &edu->stage_dma, GFP_KERNEL);
	if (!edu->stage)
		return -ENOMEM;

	cfg.mover = &pgpdma_edu_mover;
	cfg.mover_ctx = edu;
	pd = pgpdma_register(&pdev->dev, &pgpdma_emu_ops, &cfg);
	if (IS_ERR(pd))
		return PTR_ERR(pd);
	edu->pd = pd;
	ret = devm_add_action_or_reset(&pdev->dev, pgpdma_edu_unregister, pd);
	if (ret)
		return ret;
	pci_set_drvdata(pdev, edu);
	dev_info(&pdev->dev, "pgpdma%d: %s, interrupt %d\n", pd->instance,
		 pdev->msi_enabled ? "MSI" : "INTx", edu->irq);
	return 0;
}

static const struct pci_device_id pgpdma_edu_ids[] = {
	{ PCI_DEVICE(PGPDMA_EDU_VENDOR, PGPDMA_EDU_DEVICE) },
	{ }
};
MODULE_DEVICE_TABLE(pci, pgpdma_edu_ids);

static struct pci_driver pgpdma_edu_driver = {
	.name		= "pgpdma-edu",
	.id_table	= pgpdma_edu_ids,
	.probe		= pgpdma_edu_probe,
};

/**
 * pgpdma_edu_init() - register the PCI driver of the edu back-end
 *
 * Return: 0 or a negative errno (edu_dma_bits out of range: -EINVAL).
 */
int pgpdma_edu_init(void)
{
	if (edu_dma_bits < 20 || edu_dma_bits > 64) {
		pr_err("pgpdma: edu_dma_bits=%u invalid: must be 20..64\n",
		       edu_dma_bits);
		return -EINVAL;
	}
	return pci_register_driver(&pgpdma_edu_driver);
}

/**
 * pgpdma_edu_exit() - unregister it; every edu instance is removed
 */
void pgpdma_edu_exit(void)
{
	pci_unregister_driver(&pgpdma_edu_driver);
}
