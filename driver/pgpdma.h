/* SPDX-License-Identifier: GPL-2.0 */
/*
 * pgpdma - internal structures shared by the driver's files.
 */
#ifndef _PGPDMA_H
#define _PGPDMA_H

#include <linux/types.h>
#include <linux/cdev.h>
#include <linux/device.h>
#include <linux/dma-mapping.h>
#include <linux/list.h>
#include <linux/mutex.h>
#include <linux/spinlock.h>
#include <linux/srcu.h>
#include <linux/wait.h>
#include <linux/fs.h>
#include <linux/pgpdma.h>

#define PGPDMA_NAME		"pgpdma"
#define PGPDMA_MAX_DEVS		8

struct pgpdma_file;
struct pgpdma_engine_ops;
struct pgpdma_fw_mover;
struct pgpdma_config;

/**
 * struct pgpdma_buf - one DMA buffer of the pool
 * @cpu:      kernel virtual address of the buffer
 * @dma:      bus address the device uses
 * @page:     first page (streaming mode only)
 * @node:     link in the list of the buffer's state (free list, a file's
 *            RX queue, a TX chain or the TX submit queue)
 * @owner:    file holding the buffer (RX_QUEUED, RX_USER, TX_USER and
 *            TX buffers of a chain not yet complete), else NULL. An
 *            RX_USER or TX_USER buffer without an owner is held by a call
 *            in flight (read(), write(), or an RX_READ / TX_ACQUIRE that
 *            has not returned yet): no index-based call can touch it
 * @index:    index of the buffer inside its pool (RX or TX)
 * @state:    enum pgpdma_buf_state
 * @size:     bytes of data in the buffer
 * @flags:    PGPDMA_RXF_* (RX) or PGPDMA_TXF_* (TX)
 * @dest:     destination of the frame the buffer belongs to
 * @error:    PGPDMA_RXE_* bits
 * @nbufs:    buffers in the frame starting here (frame head only)
 * @frame_len: bytes in the frame starting here (frame head only)
 * @seq:      per-destination sequence number of the frame
 * @rx:       an RX buffer (DMA_FROM_DEVICE), else TX (DMA_TO_DEVICE)
 * @mark:     scratch flag for duplicate detection, only set under the lock
 * @posted:   the back-end holds it to fill (pgpdma_rx_take() until its
 *            completion or abort): the only RX buffers a completion may name
 * @pattern:  the emulated engine's PATTERN payload is in place (bytes 32
 *            up to the end); touched only by the engine while it holds the
 *            buffer (taken, not yet completed)
 *
 * Every field but @cpu, @dma, @page, @index, @rx and @pattern is protected by
 * pgpdma_dev.lock.
 */
struct pgpdma_buf {
	void *cpu;
	dma_addr_t dma;
	struct page *page;
	struct list_head node;
	struct pgpdma_file *owner;
	u32 index;
	u32 state;
	u32 size;
	u32 flags;
	u32 dest;
	u32 error;
	u32 nbufs;
	u32 frame_len;
	u64 seq;
	bool rx;
	bool mark;
	bool posted;
	bool pattern;
};

/**
 * struct pgpdma_dev - one instance, /dev/pgpdmaN
 * @instance:  N
 * @dev:       the instance's device in class pgpdma (sysfs attributes live
 *             here); its reference count keeps this structure alive until
 *             the back-end has unregistered and the last file is closed
 * @dma_dev:   the back-end's device (PCI function, emulator platform
 *             device): its DMA mask and NUMA node apply to the pool
 * @cdev:      character device
 * @proc:      /proc/pgpdmaN
 * @srcu:      guards every file operation against removal: an operation
 *             that saw @gone clear runs to its end before the pool is
 *             freed (pgpdma_dev_lost() waits for it)
 * @files_mutex: serialises changes of @files with the removal's walk over
 *             it (which sleeps); taken outside @lock
 * @lost_mutex: serialises pgpdma_dev_lost() callers (removal, a back-end
 *             finding its device gone, emulate_unplug)
 * @pool_freed: the DMA memory is gone (after pgpdma_dev_lost()); set once,
 *             before the memory is freed, read under @lock
 * @streaming: streaming DMA buffers instead of coherent ones
 * @rx_count:  RX buffers
 * @tx_count:  TX buffers
 * @buf_size:  usable bytes per buffer (cfgSize)
 * @stride:    PAGE_ALIGN(buf_size): distance between buffers in the mapping
 * @rx:        RX buffer array
 * @tx:        TX buffer array
 * @lock:      protects buffer states and lists, all counters in @st,
 *             @rx_free_n, @tx_free_n, @rx_partial*, @dest_owner, @dest_seq,
 *             @files,
 *             @gone, every pgpdma_file's queue and chain, and the
 *             engine's settings (see emu_engine.c)
 * @rx_free:   RX_HW buffers the engine may fill
 * @rx_free_n: length of @rx_free
 * @tx_free:   TX_FREE buffers
 * @tx_free_n: length of @tx_free
 * @tx_queue:  complete TX frames submitted to the engine (TX_HW)
 * @rx_partial: buffers of the frame the back-end is completing (their
 *             completions had PGPDMA_RXF_CONT), in order
 * @rx_partial_n: buffers in @rx_partial
 * @rx_partial_dest: dest of that frame
 * @rx_partial_error: PGPDMA_RXE_* bits gathered over it
 * @tx_wq:     waiters for a free TX buffer
 * @files:     open files of this device; changed under @files_mutex and
 *             @lock both, walked under either
 * @dest_owner: file claiming each dest, or NULL
 * @dest_seq:  next sequence number of each dest
 * @st:        counters and state counts (reserved fields stay zero)
 * @gone:      the device disappeared (removal or emulate_unplug): set once
 *             under @lock by pgpdma_dev_lost() and never cleared; every
 *             file operation but release reads it inside @srcu and fails
 *             with -ENODEV
 * @gen_mode:  engine mode at load (cfgGenMode)
 * @gen_rate_hz: generator rate at load (cfgGenRate)
 * @gen_frame_size: generator frame size at load (cfgGenSize)
 * @rx_hold_max: RX buffers one file may hold at once by default
 *             (cfgRxHoldMax, 0 there meaning half of @rx_count)
 * @mover:     data path of the firmware model (struct pgpdma_config)
 * @mover_ctx: its private data
 * @eng_ops:   engine back-end; NULL once it has unregistered
 * @eng:       back-end private data
 */
struct pgpdma_dev {
	int instance;
	struct device dev;
	struct device *dma_dev;
	struct cdev cdev;
	struct proc_dir_entry *proc;
	struct srcu_struct srcu;
	struct mutex files_mutex; /* membership of @files vs. removal */
	struct mutex lost_mutex; /* one pgpdma_dev_lost() at a time */
	bool pool_freed;
	bool streaming;
	u32 rx_count;
	u32 tx_count;
	u32 buf_size;
	u32 stride;
	struct pgpdma_buf *rx;
	struct pgpdma_buf *tx;

	spinlock_t lock; /* buffer states, lists, counters, claims, gone */
	struct list_head rx_free;
	u32 rx_free_n;
	struct list_head tx_free;
	u32 tx_free_n;
	struct list_head tx_queue;
	struct list_head rx_partial;
	u32 rx_partial_n;
	u32 rx_partial_dest;
	u32 rx_partial_error;
	wait_queue_head_t tx_wq;
	struct list_head files;
	struct pgpdma_file *dest_owner[PGPDMA_MAX_DEST];
	u64 dest_seq[PGPDMA_MAX_DEST];
	struct pgpdma_stats st;
	bool gone;

	u32 gen_mode;
	u32 gen_rate_hz;
	u32 gen_frame_size;
	u32 rx_hold_max;
	const struct pgpdma_fw_mover *mover;
	void *mover_ctx;
	const struct pgpdma_engine_ops *eng_ops;
	void *eng;
};

/**
 * struct pgpdma_file - per open file state
 * @pd:       device
 * @node:     link in pgpdma_dev.files
 * @mask:     dests this file claims
 * @rxq:      completed RX frames for this file's dests (RX_QUEUED)
 * @rxq_frames: frames in @rxq
 * @tx_chain: TX buffers submitted with PGPDMA_TXF_CONT, frame not complete
 * @tx_chain_n: buffers in @tx_chain
 * @tx_chain_bytes: bytes in @tx_chain
 * @tx_want:  TX buffers the last write() that failed with -EAGAIN needed
 *            (1 otherwise): poll reports EPOLLOUT once that many are free
 * @rx_held:  RX_USER buffers this file holds through RX_READ, counting
 *            those of a call still in flight
 * @rx_hold_max: limit of @rx_held (PGPDMA_IOC_SET_RX_HOLD)
 * @rx_wq:    waiters for a frame in @rxq
 * @mapping:  the file's address_space, whose mappings removal zaps
 *
 * All fields but @pd, @rx_wq and @mapping are protected by pgpdma_dev.lock.
 */
struct pgpdma_file {
	struct pgpdma_dev *pd;
	struct address_space *mapping;
	struct list_head node;
	u64 mask[PGPDMA_DEST_MASK_WORDS];
	struct list_head rxq;
	u32 rxq_frames;
	struct list_head tx_chain;
	u32 tx_chain_n;
	u64 tx_chain_bytes;
	u32 tx_want;
	u32 rx_held;
	u32 rx_hold_max;
	wait_queue_head_t rx_wq;
};

/* Is dest @d set in a PGPDMA_DEST_MASK_WORDS mask? */
static inline bool pgpdma_mask_has(const u64 *mask, u32 d)
{
	return mask[d / 64] & (1ULL << (d % 64));
}

/* core.c */
int pgpdma_core_init(void);
void pgpdma_core_exit(void);
bool pgpdma_dev_lost(struct pgpdma_dev *pd);

/* main.c: the module parameters, as every back-end's settings */
extern struct pgpdma_config pgpdma_module_config;

/* emu_device.c */
int pgpdma_emu_devices_add(unsigned int count);
void pgpdma_emu_devices_remove(void);

/* edu_pci.c */
int pgpdma_edu_init(void);
void pgpdma_edu_exit(void);

/* pool.c */
int pgpdma_pool_alloc(struct pgpdma_dev *pd);
void pgpdma_pool_free_dma(struct pgpdma_dev *pd);
void pgpdma_pool_free(struct pgpdma_dev *pd);
unsigned long pgpdma_buf_pfn(const struct pgpdma_buf *b, unsigned long i);
void pgpdma_set_state(struct pgpdma_dev *pd, struct pgpdma_buf *b, u32 state);
struct pgpdma_buf *pgpdma_list_take(struct list_head *list);
void pgpdma_rx_sync_for_cpu(struct pgpdma_dev *pd, struct pgpdma_buf *b);
void pgpdma_tx_sync_for_cpu(struct pgpdma_dev *pd, struct pgpdma_buf *b);
void pgpdma_tx_sync_for_device(struct pgpdma_dev *pd, struct pgpdma_buf *b);
void pgpdma_rx_recycle(struct pgpdma_dev *pd, struct pgpdma_buf *b);
void pgpdma_tx_recycle(struct pgpdma_dev *pd, struct pgpdma_buf *b);
u32 pgpdma_rxq_drop_unclaimed(struct pgpdma_dev *pd, struct pgpdma_file *f);
void pgpdma_file_reclaim(struct pgpdma_dev *pd, struct pgpdma_file *f);
int pgpdma_rx_return(struct pgpdma_dev *pd, struct pgpdma_file *f,
		     const u32 *idx, u32 n);
int pgpdma_tx_release(struct pgpdma_dev *pd, struct pgpdma_file *f,
		      const u32 *idx, u32 n);
bool pgpdma_rx_ready(struct pgpdma_file *f);
bool pgpdma_tx_avail(struct pgpdma_dev *pd, u32 n);
void pgpdma_wake_rx(struct pgpdma_file *f);
void pgpdma_wake_tx(struct pgpdma_dev *pd);
void pgpdma_stats_snapshot(struct pgpdma_dev *pd, struct pgpdma_stats *st);

/* cdev.c */
extern const struct file_operations pgpdma_fops;

/* ioctl.c */
long pgpdma_ioctl(struct file *file, unsigned int cmd, unsigned long arg);

/* mmap.c */
int pgpdma_mmap(struct file *file, struct vm_area_struct *vma);

/* stats.c */
int pgpdma_stats_init(struct pgpdma_dev *pd);
void pgpdma_stats_exit(struct pgpdma_dev *pd);
extern const struct attribute_group *pgpdma_attr_groups[];
void pgpdma_stats_setup(void);

#endif /* _PGPDMA_H */
