/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Network-ingress matcher (the seed's PVA case; docs/network-ingress.md):
 * reassembles UDP image fragments straight into pebbles and pairs each
 * image with the timing header that the DMA ring delivered for it.
 *
 * No I/O and no clock of its own: the caller passes "now" (monotonic ns)
 * to every call, so the unit tests are deterministic.
 *
 * Fragments (two-phase, zero-copy):
 *   pb_ni_frag_begin() validates a fragment header and says where its
 *   payload goes: a pointer into the image's pebble at the fragment
 *   offset (the caller receives the datagram there with recvmsg() iovecs,
 *   or memcpy()s in tests), plus how many bytes must be discarded (the
 *   part beyond the pebble of an oversized image). Then
 *   pb_ni_frag_commit() marks the fragment received. Rejected fragments
 *   (bad header, inconsistent with the image, duplicate, no pebble free,
 *   too old) give no destination: receive them into scratch and drop.
 *
 * Headers: pb_ni_push_header() appends a timing header (L1Accept: waits
 * for its image) or a transition (carries its own buffer) to a FIFO.
 * Events leave through pb_ni_next_event() in FIFO (= DMA) order, each L1
 * once resolved:
 *   matched    image found: event = the image's pebble, no damage
 *              (PB_DMG_OVERFLOW if the image was larger than a pebble,
 *              cut at the pebble size)
 *   truncated  only part of the image arrived by the header's deadline:
 *              the pebble with the missing fragments zeroed,
 *              PB_DMG_TRUNCATED
 *   missing    a newer image arrived, so this header's image will not:
 *              empty event, PB_DMG_MISSING_IMAGE
 *   timed out  no image within timeout_ns of the header's arrival:
 *              empty event, PB_DMG_TIMEOUT
 * An image older than (or equal to) the newest header already resolved
 * is too old: dropped and counted; the next L1 event carries
 * PB_DMG_TOO_OLD as a marker. An image no header claims within
 * 2 x timeout_ns of its first fragment is dropped (unmatched).
 *
 * Matching rule: when both the header and the image carry a pulse ID
 * (image pulse_id != 0) they match iff the pulse IDs are equal and are
 * ordered by pulse ID. Otherwise by timestamp: |t_image - t_header| <=
 * window_ns matches, the nearest pending header wins, a tie goes to the
 * header whose pulse ID equals the image's, then to the older header.
 *
 * Bounds: at most max_images images in assembly/pending (each holds one
 * pebble; when full the oldest gives its slot up: if a pending header
 * claims it, that header is resolved with it at once (truncated if
 * incomplete, counted as forced), else it is dropped, unmatched), at most
 * max_headers headers pending (when full the oldest L1 is resolved at
 * once: timed out). Nothing waits longer than timeout_ns.
 *
 * Thread safety: one thread (the source's reader).
 */
#ifndef PEBBLED_NET_INGRESS_H
#define PEBBLED_NET_INGRESS_H

#include <stddef.h>
#include <stdint.h>
#include "net_proto.h"
#include "pebble_pool.h"
#include "source.h"

/* X-macro of the counters: X(name, help). */
#define PB_NI_COUNTERS(X) \
	X(matched, "Images matched to their timing header") \
	X(missing, "Timing headers archived without image: a newer image arrived (missing data)") \
	X(too_old, "Images dropped: older than any pending timing header") \
	X(timed_out, "Timing headers archived without image: no image within the timeout") \
	X(truncated, "Events archived with a partial image (fragments lost)") \
	X(overflow, "Images larger than a pebble (cut, damaged)") \
	X(unmatched, "Images dropped: no timing header claimed them in time") \
	X(images, "Images whose first fragment was accepted") \
	X(datagrams, "Datagrams received") \
	X(bytes, "Network bytes received (datagram payloads incl. headers)") \
	X(frag_bad, "Fragments rejected: bad header or inconsistent with their image") \
	X(frag_dup, "Fragments rejected: duplicate") \
	X(frag_late, "Fragments of images already dropped or emitted") \
	X(drops_pool, "Images dropped: no free pebble") \
	X(drops_socket, "Datagrams the kernel dropped (socket buffer full, SO_RXQ_OVFL)") \
	X(headers, "L1Accept timing headers received") \
	X(forced, "Headers resolved early because the header table or the image table was full")

struct pb_ni_stats {
#define PB_NI_FIELD(n, h) uint64_t n;
	PB_NI_COUNTERS(PB_NI_FIELD)
#undef PB_NI_FIELD
};

/**
 * struct pb_ni_options
 * @pool:        the pebble pool images are assembled into (pebbles) and
 *               empty events are taken from (transition buffers, else pebbles)
 * @window_ns:   timestamp tolerance when matching without pulse IDs
 * @timeout_ns:  how long a header waits for its image, and an image for its header
 * @max_images:  images in assembly / waiting (1..1024)
 * @max_headers: headers pending (1..65536)
 */
struct pb_ni_options {
	struct pb_pool *pool;
	uint64_t window_ns;
	uint64_t timeout_ns;
	unsigned int max_images;
	unsigned int max_headers;
};

struct pb_ni;

int pb_ni_create(struct pb_ni **m, const struct pb_ni_options *o);
/* Free everything, returning every pebble held (pending events are dropped). */
void pb_ni_destroy(struct pb_ni *m);

/**
 * struct pb_ni_dest - where a fragment's payload goes
 * @dst:     pointer into the pebble (NULL = discard the whole payload)
 * @len:     bytes to receive at @dst
 * @discard: bytes after them to discard (part beyond the pebble)
 * @slot, @frag: tokens for pb_ni_frag_commit()
 */
struct pb_ni_dest {
	uint8_t *dst;
	size_t len;
	size_t discard;
	int slot;
	uint32_t frag;
};

/**
 * pb_ni_frag_begin() - validate a fragment and find its destination
 * @h:       decoded fragment header (pb_net_hdr_decode() succeeded)
 * @payload: payload bytes of the datagram (datagram length - 64)
 * Returns 1 (@d->dst set: receive there, then commit), 0 (rejected and
 * counted: receive into scratch and forget it).
 */
int pb_ni_frag_begin(struct pb_ni *m, const struct pb_net_hdr *h, uint64_t payload,
		     uint64_t now, struct pb_ni_dest *d);

/* The payload was received at d->dst (@ok = 0: it was not; the fragment is forgotten). */
void pb_ni_frag_commit(struct pb_ni *m, const struct pb_ni_dest *d, int ok, uint64_t now);

/* Convenience for tests and copies: begin + memcpy + commit. Returns 1 accepted, 0 rejected. */
int pb_ni_frag_copy(struct pb_ni *m, const struct pb_net_hdr *h, const void *payload,
		    uint64_t len, uint64_t now);

/* A datagram that could not be decoded (short, bad magic): count it. */
void pb_ni_count_bad(struct pb_ni *m);
/* Account a received datagram of @bytes; pb_ni_set_socket_drops(): SO_RXQ_OVFL total so far. */
void pb_ni_count_rx(struct pb_ni *m, uint64_t bytes);
void pb_ni_set_socket_drops(struct pb_ni *m, uint64_t total);

/**
 * pb_ni_push_header() - a timing header from the DMA ring
 * @ev: event description; for an L1Accept @ev->buf is ignored (the
 *      image supplies the buffer); for a transition @ev->buf is its buffer
 *      (one reference, passed on with the event)
 * Returns 0, or -ENOSPC if the FIFO is full of unresolvable entries
 * (transitions behind unresolved headers): call pb_ni_next_event() first.
 */
int pb_ni_push_header(struct pb_ni *m, const struct pb_event *ev, uint64_t now);

/**
 * pb_ni_next_event() - the next event in header order, if resolved
 * Resolves timeouts against @now first. Returns 1 (@ev filled, buffer
 * with one reference, the caller's), 0 (nothing ready), -EAGAIN (ready
 * but no free buffer for an empty event: try again later).
 */
int pb_ni_next_event(struct pb_ni *m, uint64_t now, struct pb_event *ev);

/* Earliest deadline (monotonic ns) of anything pending, UINT64_MAX if none. */
uint64_t pb_ni_next_deadline(const struct pb_ni *m);

/* Entries pending: headers in the FIFO, images held. */
unsigned int pb_ni_pending_headers(const struct pb_ni *m);
unsigned int pb_ni_pending_images(const struct pb_ni *m);

void pb_ni_get_stats(const struct pb_ni *m, struct pb_ni_stats *st);

/* Renderings of @st: exit block section and Prometheus text (pebbled_net_<name>_total). */
int pb_ni_format_summary(const struct pb_ni_stats *st, char *buf, size_t len);
int pb_ni_format_prometheus(const struct pb_ni_stats *st, char *buf, size_t len);

#endif /* PEBBLED_NET_INGRESS_H */
