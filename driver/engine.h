/* SPDX-License-Identifier: GPL-2.0 */
/*
 * pgpdma - the narrow interface between the char-device core and a DMA
 * engine back-end (the emulated firmware engine today, a PCI card later).
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
 * @halt:   the device is gone (pgpdma_engine_unplug()): stop for good and
 *          touch no buffer afterwards, but keep the state that @get,
 *          @set, @inject, @kick and @show use until @stop; may sleep;
 *          called at most once; may be NULL
 * @kick:   RX buffers became free or a TX frame was queued; may be called
 *          with pgpdma_dev.lock held, so it must not sleep
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

extern const struct pgpdma_engine_ops pgpdma_emu_ops;

/* Core side, used by cdev.c and main.c. */
int pgpdma_engine_start(struct pgpdma_dev *pd);
void pgpdma_engine_stop(struct pgpdma_dev *pd);
bool pgpdma_engine_unplug(struct pgpdma_dev *pd);
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
void pgpdma_rx_drop_nobuf(struct pgpdma_dev *pd, u32 dest);
void pgpdma_eng_count(struct pgpdma_dev *pd, u64 *counter, u64 add);
bool pgpdma_tx_pending(struct pgpdma_dev *pd);
u32 pgpdma_tx_fetch(struct pgpdma_dev *pd, struct list_head *out, u32 *dest);
void pgpdma_tx_done(struct pgpdma_dev *pd, struct list_head *bufs);

#endif /* _PGPDMA_ENGINE_H */
