// SPDX-License-Identifier: GPL-2.0
/*
 * pgpdma - statistics: sysfs attributes on the class device
 * (/sys/class/pgpdma/pgpdmaN/) and the text status file /proc/pgpdmaN.
 *
 * One attribute is not a statistic: emulate_unplug (0200, root only),
 * see emulate_unplug_store().
 */
#include <linux/capability.h>
#include <linux/device.h>
#include <linux/kernel.h>
#include <linux/proc_fs.h>
#include <linux/seq_file.h>
#include <linux/stddef.h>
#include <linux/sysfs.h>
#include "pgpdma.h"
#include "engine.h"

/**
 * struct pgpdma_stat_attr - a read-only sysfs file showing one value
 * @attr: the device attribute
 * @off:  offset of the value in struct pgpdma_stats, or in struct
 *        pgpdma_dev when @cfg is set
 * @is32: the value is a u32 (else a u64)
 * @cfg:  the value is a configuration field of struct pgpdma_dev
 */
struct pgpdma_stat_attr {
	struct device_attribute attr;
	size_t off;
	bool is32;
	bool cfg;
};

static ssize_t pgpdma_stat_show(struct device *dev,
				struct device_attribute *attr, char *buf)
{
	struct pgpdma_stat_attr *sa = container_of(attr,
						   struct pgpdma_stat_attr,
						   attr);
	struct pgpdma_dev *pd = dev_get_drvdata(dev);
	struct pgpdma_stats st;
	const u8 *base;
	u64 val;

	if (sa->cfg) {
		base = (const u8 *)pd;
	} else {
		pgpdma_stats_snapshot(pd, &st);
		base = (const u8 *)&st;
	}
	if (sa->is32)
		val = *(const u32 *)(base + sa->off);
	else
		val = *(const u64 *)(base + sa->off);
	return sysfs_emit(buf, "%llu\n", val);
}

#define PGPDMA_DATTR(_str) {						\
	.attr = { .name = _str, .mode = 0444 },				\
	.show = pgpdma_stat_show,					\
}

#define PGPDMA_STAT(_name) {						\
	.attr = PGPDMA_DATTR(#_name),					\
	.off = offsetof(struct pgpdma_stats, _name),			\
}

#define PGPDMA_STATE(_name, _st) {					\
	.attr = PGPDMA_DATTR(#_name),					\
	.off = offsetof(struct pgpdma_stats, state[_st]),		\
	.is32 = true,							\
}

#define PGPDMA_HWM(_name, _st) {					\
	.attr = PGPDMA_DATTR(#_name),					\
	.off = offsetof(struct pgpdma_stats, state_hwm[_st]),		\
	.is32 = true,							\
}

#define PGPDMA_CFG(_name) {						\
	.attr = PGPDMA_DATTR(#_name),					\
	.off = offsetof(struct pgpdma_dev, _name),			\
	.is32 = true,							\
	.cfg = true,							\
}

static struct pgpdma_stat_attr pgpdma_stat_attrs[] = {
	PGPDMA_STAT(rx_frames),
	PGPDMA_STAT(rx_bytes),
	PGPDMA_STAT(rx_buffers),
	PGPDMA_STAT(rx_cont_frames),
	PGPDMA_STAT(rx_errors),
	PGPDMA_STAT(rx_drop_nobuf),
	PGPDMA_STAT(rx_drop_unclaimed),
	PGPDMA_STAT(deadtime_ns),
	PGPDMA_STAT(deadtime_events),
	PGPDMA_STAT(tx_frames),
	PGPDMA_STAT(tx_bytes),
	PGPDMA_STAT(tx_buffers),
	PGPDMA_STAT(user_reads),
	PGPDMA_STAT(user_returns),
	PGPDMA_STAT(reclaimed),
	PGPDMA_STAT(gen_frames),
	PGPDMA_STAT(transitions),
	PGPDMA_STAT(rx_drop_fault),
	PGPDMA_STAT(rx_hold_limited),
	PGPDMA_STAT(tx_drop_oversize),
	PGPDMA_STAT(rx_bad_completion),
	PGPDMA_STATE(state_rx_hw, PGPDMA_ST_RX_HW),
	PGPDMA_STATE(state_rx_queued, PGPDMA_ST_RX_QUEUED),
	PGPDMA_STATE(state_rx_user, PGPDMA_ST_RX_USER),
	PGPDMA_STATE(state_tx_free, PGPDMA_ST_TX_FREE),
	PGPDMA_STATE(state_tx_user, PGPDMA_ST_TX_USER),
	PGPDMA_STATE(state_tx_hw, PGPDMA_ST_TX_HW),
	PGPDMA_HWM(hwm_rx_hw, PGPDMA_ST_RX_HW),
	PGPDMA_HWM(hwm_rx_queued, PGPDMA_ST_RX_QUEUED),
	PGPDMA_HWM(hwm_rx_user, PGPDMA_ST_RX_USER),
	PGPDMA_HWM(hwm_tx_free, PGPDMA_ST_TX_FREE),
	PGPDMA_HWM(hwm_tx_user, PGPDMA_ST_TX_USER),
	PGPDMA_HWM(hwm_tx_hw, PGPDMA_ST_TX_HW),
	PGPDMA_CFG(rx_count),
	PGPDMA_CFG(tx_count),
	PGPDMA_CFG(buf_size),
	PGPDMA_CFG(stride),
	PGPDMA_CFG(rx_hold_max),
};

/**
 * emulate_unplug_store() - sysfs emulate_unplug: make the device disappear
 * @dev: class device
 * @attr: the attribute
 * @buf: "1" (anything else is -EINVAL; there is no re-plug)
 * @count: bytes in @buf
 *
 * Emulates a surprise removal (a PCIe card pulled, its link lost) through
 * the removal path itself, pgpdma_dev_lost(): the engine stops, every
 * sleeper wakes, poll reports EPOLLERR | EPOLLHUP, every operation on an
 * open file but close fails with -ENODEV, as does open(); every mapping
 * of the pool is zapped (a later access gets SIGBUS) and its DMA memory
 * freed. Close reclaims buffers as usual; sysfs and /proc stay readable
 * until the device is removed (unbind, rmmod). Writing 1 again does
 * nothing.
 *
 * Return: @count or -EINVAL.
 */
static ssize_t emulate_unplug_store(struct device *dev,
				    struct device_attribute *attr,
				    const char *buf, size_t count)
{
	struct pgpdma_dev *pd = dev_get_drvdata(dev);
	unsigned int val;
	int ret;

	if (!capable(CAP_SYS_ADMIN))
		return -EPERM;
	ret = kstrtouint(buf, 0, &val);
	if (ret)
		return ret;
	if (val != 1)
		return -EINVAL;
	if (pgpdma_dev_lost(pd))
		dev_warn(dev, "emulated unplug: device gone, its pool freed; operations fail with ENODEV until it is removed\n");
	return count;
}
static DEVICE_ATTR_WO(emulate_unplug);

/* The statistics, emulate_unplug and the NULL end. */
static struct attribute *pgpdma_attrs[ARRAY_SIZE(pgpdma_stat_attrs) + 2];

static const struct attribute_group pgpdma_attr_group = {
	.attrs = pgpdma_attrs,
};

const struct attribute_group *pgpdma_attr_groups[] = {
	&pgpdma_attr_group,
	NULL,
};

/**
 * pgpdma_stats_setup() - fill the attribute list of the class devices
 *
 * Called once at module load, before any class device is created.
 */
void pgpdma_stats_setup(void)
{
	size_t i;

	for (i = 0; i < ARRAY_SIZE(pgpdma_stat_attrs); i++)
		pgpdma_attrs[i] = &pgpdma_stat_attrs[i].attr.attr;
	pgpdma_attrs[i] = &dev_attr_emulate_unplug.attr;
}

static const char * const pgpdma_state_names[PGPDMA_ST_COUNT] = {
	[PGPDMA_ST_RX_HW]	= "rx_hw",
	[PGPDMA_ST_RX_QUEUED]	= "rx_queued",
	[PGPDMA_ST_RX_USER]	= "rx_user",
	[PGPDMA_ST_TX_FREE]	= "tx_free",
	[PGPDMA_ST_TX_USER]	= "tx_user",
	[PGPDMA_ST_TX_HW]	= "tx_hw",
};

static int pgpdma_proc_show(struct seq_file *m, void *v)
{
	struct pgpdma_dev *pd = m->private;
	struct pgpdma_stats st;
	struct pgpdma_file *f;
	u32 files = 0, claimed = 0, i;
	bool gone;

	pgpdma_stats_snapshot(pd, &st);
	spin_lock(&pd->lock);
	gone = pd->gone;
	list_for_each_entry(f, &pd->files, node)
		files++;
	for (i = 0; i < PGPDMA_MAX_DEST; i++)
		if (pd->dest_owner[i])
			claimed++;
	spin_unlock(&pd->lock);

	seq_printf(m, "---------- pgpdma%d ----------\n", pd->instance);
	seq_printf(m, "API version      : %u\n", PGPDMA_API_VERSION);
	seq_printf(m, "buffer mode      : %s\n",
		   pd->streaming ? "streaming" : "coherent");
	seq_printf(m, "rx buffers       : %u\n", pd->rx_count);
	seq_printf(m, "tx buffers       : %u\n", pd->tx_count);
	seq_printf(m, "buffer size      : %u\n", pd->buf_size);
	seq_printf(m, "buffer stride    : %u\n", pd->stride);
	seq_printf(m, "rx hold max      : %u (per file)\n", pd->rx_hold_max);
	seq_printf(m, "open files       : %u\n", files);
	seq_printf(m, "claimed dests    : %u\n", claimed);
	seq_printf(m, "device           : %s\n",
		   gone ? "gone (unplugged, pool freed)" : "present");
	seq_puts(m, "\n---------- buffer states (count / high-watermark) ----------\n");
	for (i = 0; i < PGPDMA_ST_COUNT; i++)
		seq_printf(m, "%-17s: %u / %u\n", pgpdma_state_names[i],
			   st.state[i], st.state_hwm[i]);
	seq_puts(m, "\n---------- counters ----------\n");
	seq_printf(m, "rx frames        : %llu\n", st.rx_frames);
	seq_printf(m, "rx bytes         : %llu\n", st.rx_bytes);
	seq_printf(m, "rx buffers       : %llu\n", st.rx_buffers);
	seq_printf(m, "rx cont frames   : %llu\n", st.rx_cont_frames);
	seq_printf(m, "rx errors        : %llu\n", st.rx_errors);
	seq_printf(m, "rx drop nobuf    : %llu\n", st.rx_drop_nobuf);
	seq_printf(m, "rx drop unclaimed: %llu\n", st.rx_drop_unclaimed);
	seq_printf(m, "deadtime ns      : %llu\n", st.deadtime_ns);
	seq_printf(m, "deadtime events  : %llu\n", st.deadtime_events);
	seq_printf(m, "tx frames        : %llu\n", st.tx_frames);
	seq_printf(m, "tx bytes         : %llu\n", st.tx_bytes);
	seq_printf(m, "tx buffers       : %llu\n", st.tx_buffers);
	seq_printf(m, "user reads       : %llu\n", st.user_reads);
	seq_printf(m, "user returns     : %llu\n", st.user_returns);
	seq_printf(m, "reclaimed        : %llu\n", st.reclaimed);
	seq_printf(m, "gen frames       : %llu\n", st.gen_frames);
	seq_printf(m, "transitions      : %llu\n", st.transitions);
	seq_printf(m, "rx drop fault    : %llu\n", st.rx_drop_fault);
	seq_printf(m, "rx hold limited  : %llu\n", st.rx_hold_limited);
	seq_printf(m, "tx drop oversize : %llu\n", st.tx_drop_oversize);
	seq_printf(m, "rx bad completion: %llu\n", st.rx_bad_completion);
	seq_puts(m, "\n---------- engine ----------\n");
	pgpdma_engine_show(pd, m);
	return 0;
}

/**
 * pgpdma_stats_init() - create /proc/pgpdmaN
 * @pd: device
 *
 * Return: 0 or -ENOMEM.
 */
int pgpdma_stats_init(struct pgpdma_dev *pd)
{
	char name[16];

	snprintf(name, sizeof(name), PGPDMA_NAME "%d", pd->instance);
	pd->proc = proc_create_single_data(name, 0444, NULL, pgpdma_proc_show,
					   pd);
	return pd->proc ? 0 : -ENOMEM;
}

/**
 * pgpdma_stats_exit() - remove /proc/pgpdmaN
 * @pd: device
 */
void pgpdma_stats_exit(struct pgpdma_dev *pd)
{
	proc_remove(pd->proc);
	pd->proc = NULL;
}
