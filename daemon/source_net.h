/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Network-ingress source (detector = "network", the seed's PVA case;
 * docs/network-ingress.md).
 *
 * The DMA ring carries timing headers only (64-byte frames: 32-byte
 * header + 32 bytes of overhead, cfgSize can be 4 KiB). They are read by
 * an inner device source (nowait mode) into a small private header pool
 * (not the pebbles): L1Accept headers go to the matcher's pending FIFO
 * and their DMA buffer is returned at once; transitions are copied into a
 * transition buffer of the main pool and queued in order.
 *
 * Images arrive as UDP datagrams (net_proto.h) on a bound address. Each
 * datagram's 64-byte header is peeked (MSG_PEEK), the matcher says where
 * the payload goes, and one recvmsg() with iovecs [header scratch,
 * pebble + fragment offset, discard] puts the bytes straight into the
 * pebble: no intermediate full-size copy. The kernel's socket-buffer
 * drops are read with SO_RXQ_OVFL.
 *
 * next() emits events in DMA order as the matcher resolves them
 * (net_ingress.h): matched image, truncated, missing, timed out. It
 * blocks in poll() on the device fd, the socket and an eventfd, never
 * longer than the next matcher deadline (or 100 ms).
 */
#ifndef PEBBLED_SOURCE_NET_H
#define PEBBLED_SOURCE_NET_H

#include <stddef.h>
#include <stdint.h>
#include "net_ingress.h"
#include "source.h"

/**
 * struct pb_net_options
 * @device, @dests, @ndests: the timing-header device (as pb_device_options)
 * @bind, @port:  UDP address to bind (e.g. "127.0.0.1", 0.0.0.0 = any)
 * @rcvbuf:       socket receive buffer in bytes (SO_RCVBUFFORCE when
 *                permitted, else SO_RCVBUF capped by net.core.rmem_max)
 * @window_ns, @timeout_ns, @max_images, @max_headers: matcher (net_ingress.h)
 * @hdr_buf_size: buffer size of the private header pool (>= largest
 *                transition), @hdr_buf_count its buffers
 * @fd:           an already bound socket to use (pb_net_probe()), -1 = open one
 */
struct pb_net_options {
	const char *device;
	const uint32_t *dests;
	unsigned int ndests;
	const char *bind;
	uint16_t port;
	uint64_t rcvbuf;
	uint64_t window_ns, timeout_ns;
	unsigned int max_images, max_headers;
	size_t hdr_buf_size, hdr_buf_count;
	int fd;
};

/* Bind the UDP socket (non-blocking). Returns the fd or -errno; @err says why. */
int pb_net_socket(const char *bind, uint16_t port, uint64_t rcvbuf, char *err, size_t errlen);

/**
 * pb_net_probe() - wait up to @wait_ms for the first datagram on @fd and
 * read (peek: it stays queued) its header. Used for sizing when the image
 * geometry is not configured. Returns 0, -ETIMEDOUT, -EBADMSG (not our
 * header), -errno.
 */
int pb_net_probe(int fd, int wait_ms, struct pb_net_hdr *h);

int pb_source_net_open(struct pb_source **s, const struct pb_net_options *o,
		       const struct pb_source_env *env, char *err, size_t errlen);

/* Snapshot of the matcher counters (any thread). */
void pb_source_net_stats(struct pb_source *s, struct pb_ni_stats *st);

/* The inner device source (driver counters for the exit report). */
struct pb_source *pb_source_net_device(struct pb_source *s);

#endif /* PEBBLED_SOURCE_NET_H */
