/* SPDX-License-Identifier: GPL-2.0 */
/*
 * pgpdma - the narrow interface between the char-device core and a DMA
 * engine back-end (the emulated firmware engine, a PCI card).
 *
 * A back-end's probe sets its device's DMA mask and registers with
 * pgpdma_register(); the core allocates the pool on that device, starts
 * the engine and creates /dev/pgpdmaN. Its remove calls pgpdma_unregister().
 *
 * The core owns the buffers and their states. A back-end takes free RX
 * buffers, fills them and completes them as a frame; it fetches submitted
 * TX frames and hands them back when sent. It never touches a file.
 */
#ifndef _PGPDMA_ENGINE_H
#define _PGPDMA_ENGINE_H

#include <linux/list.h>
#include <linux/seq_file.h>
#include "pgpdma.h"

/**
 * struct pgpdma_engine_ops - a DMA engine back-end
 * @name:   short name shown in /proc
 * @start:  set up and start the engine; buffers are allocated already
 * @stop:   stop the engine; it must not touch a buffer afterwards
 * @halt:   the device is gone (pgpdma_dev_lost()): stop for good and
 *          touch no buffer afterwards (the pool is freed next), but keep
 *          the state that @show uses until @stop; may sleep; called at
 *          most once; may be NULL
 * @kick:   RX buffers became free or a TX frame was queued; called without
 *          pgpdma_dev.lock held, from file operations and the back-end's
 *          own completions; must not sleep; never called once the device
 *          is gone
 * @get:    report settings (PGPDMA_IOC_ENGINE_GET); NULL = -EOPNOTSUPP
 * @set:    apply settings (PGPDMA_IOC_ENGINE_SET); NULL = -EOPNOTSUPP
 * @inject: queue a transition frame (PGPDMA_IOC_INJECT); NULL = -EOPNOTSUPP
 * @show:   append engine state to /proc/pgpdmaN; may be NULL
 */
struct pgpdma_engine_ops {
	const char *name;
	int (*start)(struct pgpdma_dev *pd);
	void (*stop)(struct pgpdma_dev *pd);
	void (*halt)(struct pgpdma_dev *pd);
	void (*kick)(struct pgpdma_dev *pd);
	int (*get)(struct pgpdma_dev *pd, struct pgpdma_engine *cfg);
	int (*set)(struct pgpdma_dev *pd, const struct pgpdma_engine *cfg);
	int (*inject)(struct pgpdma_dev *pd, const struct pgpdma_inject *inj);
	void (*show)(struct pgpdma_dev *pd, struct seq_file *m);
};

/**
 * struct pgpdma_config - what a back-end asks of the core at registration
 * @rx_count:  RX buffers (1..PGPDMA_MAX_COUNT)
 * @tx_count:  TX buffers (1..PGPDMA_MAX_COUNT)
 * @buf_size:  bytes per buffer, a multiple of 4 in 64..4 MiB
 * @streaming: streaming DMA buffers instead of coherent ones
 * @rx_hold_max: RX buffers one file may hold by default, 0 = half of
 *             @rx_count (at least 1)
 * @gen_mode:  engine mode at start (PGPDMA_ENG_*)
 * @gen_rate_hz: generator rate at start
 * @gen_frame_size: generator frame size at start
 * @mover:     how the firmware model (emu_engine.c, pgpdma_emu_ops) moves
 *             frame bytes into RX buffers: NULL for the CPU (the emulated
 *             card), else a device's DMA (struct pgpdma_fw_mover)
 * @mover_ctx: the mover's private data
 *
 * The module parameters (cfgRxCount, ...) fill the numbers for every
 * back-end; they are validated once at load.
 */
struct pgpdma_config {
	u32 rx_count;
	u32 tx_count;
	u32 buf_size;
	bool streaming;
	u32 rx_hold_max;
	u32 gen_mode;
	u32 gen_rate_hz;
	u32 gen_frame_size;
	const struct pgpdma_fw_mover *mover;
	void *mover_ctx;
};

/**
 * struct pgpdma_fw_mover - a device's DMA as the firmware model's data path
 * @name:  shown in /proc/pgpdmaN ("data path")
 * @write: put @len bytes from kernel memory @src into RX buffer @dst at
 *         byte @off, by the device's DMA
 * @copy:  copy @len bytes of TX buffer @src from byte @soff into RX buffer
 *         @dst at byte @doff, by the device's DMA in both directions
 * @halt:  the firmware model is halting (pgpdma_dev_lost()): make a @write
 *         or @copy in progress give up, and return once the device does
 *         no more DMA; may sleep
 * @chunk: the largest @len @write and @copy are called with
 *
 * @write and @copy are called from the firmware model's kthread only, with
 * buffers it holds (RX taken, TX fetched) and ranges inside them; they may
 * sleep and return 0 or a negative errno (the frame is then completed with
 * PGPDMA_RXE_LINK and counted in rx_errors). The mover's private data is
 * pgpdma_dev.mover_ctx.
 */
struct pgpdma_fw_mover {
	const char *name;
	int (*write)(struct pgpdma_dev *pd, struct pgpdma_buf *dst, u32 off,
		     const void *src, u32 len);
	int (*copy)(struct pgpdma_dev *pd, struct pgpdma_buf *dst, u32 doff,
		    struct pgpdma_buf *src, u32 soff, u32 len);
	void (*halt)(struct pgpdma_dev *pd);
	u32 chunk;
};

extern const struct pgpdma_engine_ops pgpdma_emu_ops;

/* Registration, for a back-end's probe and remove (core.c). */
struct pgpdma_dev *pgpdma_register(struct device *parent,
				   const struct pgpdma_engine_ops *ops,
				   const struct pgpdma_config *cfg);
void pgpdma_unregister(struct pgpdma_dev *pd);

/* Core side, used by cdev.c, ioctl.c and stats.c. */
bool pgpdma_dev_gone(struct pgpdma_dev *pd);
void pgpdma_engine_kick(struct pgpdma_dev *pd);
int pgpdma_engine_get(struct pgpdma_dev *pd, struct pgpdma_engine *cfg);
int pgpdma_engine_set(struct pgpdma_dev *pd, const struct pgpdma_engine *cfg);
int pgpdma_engine_inject(struct pgpdma_dev *pd,
			 const struct pgpdma_inject *inj);
void pgpdma_engine_show(struct pgpdma_dev *pd, struct seq_file *m);
void pgpdma_tx_queue_frame(struct pgpdma_dev *pd, struct list_head *chain,
			   u32 nbufs);

/* Back-end side. */
u32 pgpdma_rx_free_count(struct pgpdma_dev *pd);
int pgpdma_rx_take(struct pgpdma_dev *pd, u32 n, struct list_head *out);
void pgpdma_rx_abort(struct pgpdma_dev *pd, struct list_head *bufs);
void pgpdma_rx_complete(struct pgpdma_dev *pd, struct list_head *bufs,
			u32 dest, u32 error);

/**
 * struct pgpdma_rx_completion - what a device reports for one RX buffer
 * @index: the RX buffer (pgpdma_buf.index of a buffer the back-end took)
 * @size:  bytes the device wrote into it
 * @flags: PGPDMA_RXF_CONT when the frame goes on in the next completion
 * @dest:  destination of the frame (the same in each of its completions)
 * @error: PGPDMA_RXE_* bits
 *
 * Values read from a device's descriptors, not yet trusted.
 */
struct pgpdma_rx_completion {
	u32 index;
	u32 size;
	u32 flags;
	u32 dest;
	u32 error;
};

int pgpdma_rx_complete_one(struct pgpdma_dev *pd,
			   const struct pgpdma_rx_completion *c);
void pgpdma_rx_drop_nobuf(struct pgpdma_dev *pd, u32 dest);
void pgpdma_eng_count(struct pgpdma_dev *pd, u64 *counter, u64 add);
bool pgpdma_tx_pending(struct pgpdma_dev *pd);
u32 pgpdma_tx_fetch(struct pgpdma_dev *pd, struct list_head *out, u32 *dest);
void pgpdma_tx_done(struct pgpdma_dev *pd, struct list_head *bufs);

#endif /* _PGPDMA_ENGINE_H */
