// SPDX-License-Identifier: GPL-2.0
/*
 * pgpdma - PGP-style DMA ring driver: the emulated card and the PCI
 * back-end (QEMU's edu device) on one char-device core.
 *
 * Module init/exit, module parameters and their validation.
 */
#include <linux/module.h>
#include <linux/moduleparam.h>
#include <linux/mm.h>
#include <linux/slab.h>
#include <linux/string.h>
#include "pgpdma.h"
#include "engine.h"
#include "compat.h"

#define PGPDMA_MIN_SIZE		64U
#define PGPDMA_MAX_SIZE		(4U << 20)	/* largest page-allocator block */
#define PGPDMA_MAX_COUNT	1048576U
#define PGPDMA_MAX_POOL_PCT	90U

/*
 * Module parameters. The names users type are the ones DAQ nodes already
 * use with the reference driver (cfgRxCount, ...); the C variables stay
 * lower case. All are read-only after load (0444).
 */
static unsigned int rx_count = 64;
module_param_named(cfgRxCount, rx_count, uint, 0444);
MODULE_PARM_DESC(cfgRxCount, "RX buffers per device, 1..1048576 (default 64)");

static unsigned int tx_count = 16;
module_param_named(cfgTxCount, tx_count, uint, 0444);
MODULE_PARM_DESC(cfgTxCount, "TX buffers per device, 1..1048576 (default 16)");

static unsigned int buf_size = 65536;
module_param_named(cfgSize, buf_size, uint, 0444);
MODULE_PARM_DESC(cfgSize, "bytes per buffer, multiple of 4 in 64..4194304 (default 65536)");

static char *buf_mode = "coherent";
module_param_named(cfgMode, buf_mode, charp, 0444);
MODULE_PARM_DESC(cfgMode, "buffer type, coherent (dma_alloc_coherent) or streaming (pages + dma_map_page) (default coherent)");

static unsigned int dev_count = 1;
module_param_named(cfgDevCount, dev_count, uint, 0444);
MODULE_PARM_DESC(cfgDevCount, "devices /dev/pgpdma0.., 1..8 (default 1)");

static unsigned int pool_max_pct = 50;
module_param_named(cfgPoolMaxPct, pool_max_pct, uint, 0444);
MODULE_PARM_DESC(cfgPoolMaxPct, "limit of all pools together, percent of RAM, 1..90 (default 50)");

static unsigned int gen_mode;
module_param_named(cfgGenMode, gen_mode, uint, 0444);
MODULE_PARM_DESC(cfgGenMode, "engine mode at load, 0 idle, 1 generator, 2 loopback (default 0)");

static unsigned int gen_rate = 1000;
module_param_named(cfgGenRate, gen_rate, uint, 0444);
MODULE_PARM_DESC(cfgGenRate, "generator rate at load, frames per second, 0 = as fast as possible (default 1000)");

static unsigned int gen_size = 4096;
module_param_named(cfgGenSize, gen_size, uint, 0444);
MODULE_PARM_DESC(cfgGenSize, "generator frame size at load, bytes, 32..cfgRxCount*cfgSize (default 4096)");

static unsigned int rx_hold_max;
module_param_named(cfgRxHoldMax, rx_hold_max, uint, 0444);
MODULE_PARM_DESC(cfgRxHoldMax, "RX buffers one open file may hold at once through RX_READ, 0..cfgRxCount; 0 = half of cfgRxCount, at least 1 (default 0)");

/* Set once at load, read-only afterwards. */
static bool pgpdma_streaming;
struct pgpdma_config pgpdma_module_config;

static int pgpdma_check_count(const char *name, unsigned int val)
{
	if (val >= 1 && val <= PGPDMA_MAX_COUNT)
		return 0;
	pr_err("pgpdma: %s=%u invalid: must be 1..%u\n", name, val,
	       PGPDMA_MAX_COUNT);
	return -EINVAL;
}

static int pgpdma_check_params(void)
{
	u64 stride, total, limit;

	if (pgpdma_check_count("cfgRxCount", rx_count) ||
	    pgpdma_check_count("cfgTxCount", tx_count))
		return -EINVAL;
	if (buf_size < PGPDMA_MIN_SIZE || buf_size > PGPDMA_MAX_SIZE ||
	    buf_size % 4) {
		pr_err("pgpdma: cfgSize=%u invalid: must be a multiple of 4 in %u..%u bytes\n",
		       buf_size, PGPDMA_MIN_SIZE, PGPDMA_MAX_SIZE);
		return -EINVAL;
	}
	if (buf_mode && !strcmp(buf_mode, "coherent")) {
		pgpdma_streaming = false;
	} else if (buf_mode && !strcmp(buf_mode, "streaming")) {
		pgpdma_streaming = true;
	} else {
		pr_err("pgpdma: cfgMode=%s invalid: must be coherent or streaming\n",
		       buf_mode ? buf_mode : "(null)");
		return -EINVAL;
	}
	if (dev_count < 1 || dev_count > PGPDMA_MAX_DEVS) {
		pr_err("pgpdma: cfgDevCount=%u invalid: must be 1..%u\n",
		       dev_count, PGPDMA_MAX_DEVS);
		return -EINVAL;
	}
	if (pool_max_pct < 1 || pool_max_pct > PGPDMA_MAX_POOL_PCT) {
		pr_err("pgpdma: cfgPoolMaxPct=%u invalid: must be 1..%u\n",
		       pool_max_pct, PGPDMA_MAX_POOL_PCT);
		return -EINVAL;
	}
	if (gen_mode > PGPDMA_ENG_LOOPBACK) {
		pr_err("pgpdma: cfgGenMode=%u invalid: must be 0 (idle), 1 (generator) or 2 (loopback)\n",
		       gen_mode);
		return -EINVAL;
	}
	if (gen_size < PGPDMA_TH_SIZE ||
	    gen_size > (u64)rx_count * buf_size) {
		pr_err("pgpdma: cfgGenSize=%u invalid: must be %u..%llu (cfgRxCount x cfgSize)\n",
		       gen_size, PGPDMA_TH_SIZE, (u64)rx_count * buf_size);
		return -EINVAL;
	}

	if (gen_size > PGPDMA_MAX_FRAME) {
		pr_err("pgpdma: cfgGenSize=%u invalid: must be at most %u (the largest frame)\n",
		       gen_size, PGPDMA_MAX_FRAME);
		return -EINVAL;
	}
	if (rx_hold_max > rx_count) {
		pr_err("pgpdma: cfgRxHoldMax=%u invalid: must be 0..%u (cfgRxCount)\n",
		       rx_hold_max, rx_count);
		return -EINVAL;
	}

	stride = PAGE_ALIGN(buf_size);
	total = ((u64)rx_count + tx_count) * stride * dev_count;
	limit = div_u64((u64)totalram_pages() * PAGE_SIZE * pool_max_pct, 100);
	if (total > limit) {
		pr_err("pgpdma: cfgRxCount=%u + cfgTxCount=%u buffers x %llu bytes (cfgSize=%u page-aligned) x cfgDevCount=%u = %llu bytes exceeds limit %llu (cfgPoolMaxPct=%u of RAM)\n",
		       rx_count, tx_count, stride, buf_size, dev_count, total,
		       limit, pool_max_pct);
		return -ENOMEM;
	}
	return 0;
}

static int __init pgpdma_init(void)
{
	int ret;

	ret = pgpdma_check_params();
	if (ret)
		return ret;
	pgpdma_module_config = (struct pgpdma_config) {
		.rx_count	= rx_count,
		.tx_count	= tx_count,
		.buf_size	= buf_size,
		.streaming	= pgpdma_streaming,
		.rx_hold_max	= rx_hold_max,
		.gen_mode	= gen_mode,
		.gen_rate_hz	= gen_rate,
		.gen_frame_size	= gen_size,
	};

	ret = pgpdma_core_init();
	if (ret)
		return ret;
	ret = pgpdma_emu_devices_add(dev_count);
	if (ret)
		goto err_core_exit;
	ret = pgpdma_edu_init();
	if (ret)
		goto err_remove_emu;

	pr_info("pgpdma: %u device(s), %u RX + %u TX buffers of %u bytes each (%s)\n",
		dev_count, rx_count, tx_count, buf_size,
		pgpdma_streaming ? "streaming" : "coherent");
	return 0;

err_remove_emu:
	pgpdma_emu_devices_remove();
err_core_exit:
	pgpdma_core_exit();
	return ret;
}

static void __exit pgpdma_exit(void)
{
	pgpdma_edu_exit();
	pgpdma_emu_devices_remove();
	pgpdma_core_exit();
}

module_init(pgpdma_init);
module_exit(pgpdma_exit);

MODULE_DESCRIPTION("PGP-style DMA ring driver: emulated card and PCI back-end");
MODULE_AUTHOR("pgpdma developers");
MODULE_LICENSE("GPL");
