/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * libpgpdma - the userspace library over the pgpdma ioctl ABI.
 *
 * Every DAQ tool of this project (pebbled, pgpctl, tests) talks to the
 * driver through these calls; there is no second copy of ioctl code.
 * Every function returns 0 (or a documented non-negative count) on success
 * and -errno on failure; none prints anything.
 */
#ifndef LIBPGPDMA_H
#define LIBPGPDMA_H

#include <stddef.h>
#include <stdint.h>
#include <linux/pgpdma.h>

/**
 * struct pgpdma_dev - an open device and (optionally) its mapped pool
 * @fd:   the open file descriptor
 * @info: GET_INFO result, read at open
 * @map:  start of the pool mapping, NULL until pgpdma_map()
 */
struct pgpdma_dev {
	int fd;
	struct pgpdma_info info;
	uint8_t *map;
};

/**
 * pgpdma_open() - open a device and read its layout
 * @dev:   filled on success
 * @path:  e.g. "/dev/pgpdma0"
 * @flags: open(2) flags, e.g. O_RDWR, O_RDWR | O_NONBLOCK
 *
 * Return: 0; -ENOENT (no such device: is pgpdma.ko loaded?), -EACCES
 * (permissions: are you in the device's group?), -EPROTO (the driver speaks
 * another API version than this library), or another -errno.
 */
int pgpdma_open(struct pgpdma_dev *dev, const char *path, int flags);

/** pgpdma_close() - unmap (if mapped) and close; buffers held are reclaimed by the driver. */
void pgpdma_close(struct pgpdma_dev *dev);

/**
 * pgpdma_map() - map the whole pool (RX and TX buffers) with one mmap()
 * @writable: map writable (needs the device open for writing); TX
 *            zero-copy needs it
 */
int pgpdma_map(struct pgpdma_dev *dev, int writable);

/** pgpdma_rx_buf() - address of RX buffer @index in the mapping (NULL if unmapped or out of range) */
void *pgpdma_rx_buf(const struct pgpdma_dev *dev, uint32_t index);

/** pgpdma_tx_buf() - address of TX buffer @index in the mapping (NULL if unmapped or out of range) */
void *pgpdma_tx_buf(const struct pgpdma_dev *dev, uint32_t index);

/**
 * pgpdma_rx_read() - take up to @max completed RX buffers (zero-copy)
 * @wait: block until at least one is ready (unless opened O_NONBLOCK)
 *
 * Return: the number of descriptors filled (0 when none is ready and not
 * waiting), or -errno (-EINTR when a signal interrupted the wait).
 */
int pgpdma_rx_read(struct pgpdma_dev *dev, struct pgpdma_rx_desc *descs,
		   uint32_t max, int wait);

/** pgpdma_rx_return() - give @count RX buffers back to the engine (all or nothing) */
int pgpdma_rx_return(struct pgpdma_dev *dev, const uint32_t *indexes,
		     uint32_t count);

/**
 * pgpdma_tx_acquire() - take a free TX buffer to fill in place
 * Return: 0 and *@index; -EAGAIN when none is free and not waiting.
 */
int pgpdma_tx_acquire(struct pgpdma_dev *dev, uint32_t *index, int wait);

/** pgpdma_tx_submit() - send @size bytes of TX buffer @index to @dest; @more: PGPDMA_TXF_CONT */
int pgpdma_tx_submit(struct pgpdma_dev *dev, uint32_t index, uint32_t size,
		     uint32_t dest, int more);

/** pgpdma_tx_release() - give acquired TX buffers back unsent (all or nothing) */
int pgpdma_tx_release(struct pgpdma_dev *dev, const uint32_t *indexes,
		      uint32_t count);

/**
 * pgpdma_send() - send one frame of any length up to tx_count * buf_size
 * through zero-copy TX: acquires buffers, copies, chains with CONT.
 * Needs a writable mapping. Return: 0 or -errno (-EMSGSIZE if too long).
 */
int pgpdma_send(struct pgpdma_dev *dev, const void *data, size_t len,
		uint32_t dest);

/** pgpdma_dest_set() - claim dests (bit d of mask[d/64]); -EBUSY if another file holds one */
int pgpdma_dest_set(struct pgpdma_dev *dev, const struct pgpdma_dest_mask *m);

/** pgpdma_dest_get() - the dests this file claims */
int pgpdma_dest_get(struct pgpdma_dev *dev, struct pgpdma_dest_mask *m);

/** pgpdma_dest_claim() - claim exactly one dest (convenience over pgpdma_dest_set) */
int pgpdma_dest_claim(struct pgpdma_dev *dev, uint32_t dest);

/** pgpdma_stats() - counters and per-state buffer counts */
int pgpdma_stats(struct pgpdma_dev *dev, struct pgpdma_stats *st);

/** pgpdma_engine_get() - emulated engine settings; -EOPNOTSUPP on hardware */
int pgpdma_engine_get(struct pgpdma_dev *dev, struct pgpdma_engine *eng);

/** pgpdma_engine_set() - apply emulated engine settings (mode IDLE stops it) */
int pgpdma_engine_set(struct pgpdma_dev *dev, const struct pgpdma_engine *eng);

/** pgpdma_inject() - emit one transition frame to @dest */
int pgpdma_inject(struct pgpdma_dev *dev, uint32_t transition, uint32_t dest);

/** pgpdma_state_name() - short name of an enum pgpdma_buf_state ("rx_hw", ...) */
const char *pgpdma_state_name(unsigned int state);

/** pgpdma_transition_name() - name of a transition id ("Configure", ...; "Unknown"); never NULL */
const char *pgpdma_transition_name(unsigned int id);

/** pgpdma_transition_from_name() - id of a transition name (case-insensitive), or -EINVAL */
int pgpdma_transition_from_name(const char *name);

/**
 * pgpdma_stats_consistent() - the ownership invariant: RX states add up
 * to rx_count and TX states to tx_count. Return: 0 or -EPROTO.
 */
int pgpdma_stats_consistent(const struct pgpdma_info *info,
			    const struct pgpdma_stats *st);

#endif /* LIBPGPDMA_H */
