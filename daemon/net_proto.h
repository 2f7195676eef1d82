/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Network-ingress wire format (docs/network-ingress.md): one image is sent
 * as UDP datagrams, each a 64-byte little-endian fragment header followed
 * by a slice of the image bytes.
 *
 *   off size field
 *     0   4  magic        PB_NET_MAGIC ("PBNI" as bytes)
 *     4   1  version      PB_NET_VERSION (1)
 *     5   1  header_size  64
 *     6   1  dtype        enum pb_dtype (0 = unknown)
 *     7   1  flags        0 (reserved)
 *     8   8  frame_id     sender's image number (all fragments of one image)
 *    16   4  ts_sec       timestamp seconds, EPICS epoch (1990-01-01 UTC)
 *    20   4  ts_nsec      timestamp nanoseconds
 *    24   8  pulse_id     56-bit timing-system pulse ID, 0 = unknown
 *    32   4  frag_index   0 .. frag_count-1
 *    36   4  frag_count   fragments of this image (>= 1)
 *    40   8  total_size   bytes of the whole image
 *    48   8  frag_offset  where this fragment's bytes go in the image
 *    56   4  width        pixels, 0 = unknown
 *    60   4  height       pixels, 0 = unknown
 *
 * Fragmentation is uniform: every fragment but the last carries exactly S
 * bytes and fragment i starts at i * S; the last one ends at total_size.
 * The payload length is the datagram length minus 64.
 *
 * Header-only C11, used by pebbled (source_net) and tools/pvasend.c.
 */
#ifndef PEBBLED_NET_PROTO_H
#define PEBBLED_NET_PROTO_H

#include <stdint.h>
#include <string.h>

#define PB_NET_MAGIC		0x494e4250U	/* "PBNI" */
#define PB_NET_VERSION		1U
#define PB_NET_HDR_SIZE		64U
#define PB_NET_MAX_DATAGRAM	65507U		/* largest UDP/IPv4 payload */
#define PB_NET_MAX_FRAGS	(1U << 24)

struct pb_net_hdr {
	uint32_t magic;
	uint8_t version;
	uint8_t header_size;
	uint8_t dtype;
	uint8_t flags;
	uint64_t frame_id;
	uint32_t ts_sec;
	uint32_t ts_nsec;
	uint64_t pulse_id;
	uint32_t frag_index;
	uint32_t frag_count;
	uint64_t total_size;
	uint64_t frag_offset;
	uint32_t width;
	uint32_t height;
};

_Static_assert(sizeof(struct pb_net_hdr) == PB_NET_HDR_SIZE, "net header size");

static inline uint64_t pb_net_le64(const uint8_t *p)
{
	uint64_t v = 0;

	for (int i = 7; i >= 0; i--)
		v = (v << 8) | p[i];
	return v;
}

static inline uint32_t pb_net_le32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static inline void pb_net_put64(uint8_t *p, uint64_t v)
{
	for (int i = 0; i < 8; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

static inline void pb_net_put32(uint8_t *p, uint32_t v)
{
	for (int i = 0; i < 4; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

/* Encode @h (magic/version/header_size filled in) into 64 bytes at @b. */
static inline void pb_net_hdr_encode(const struct pb_net_hdr *h, uint8_t *b)
{
	memset(b, 0, PB_NET_HDR_SIZE);
	pb_net_put32(b, PB_NET_MAGIC);
	b[4] = PB_NET_VERSION;
	b[5] = PB_NET_HDR_SIZE;
	b[6] = h->dtype;
	b[7] = h->flags;
	pb_net_put64(b + 8, h->frame_id);
	pb_net_put32(b + 16, h->ts_sec);
	pb_net_put32(b + 20, h->ts_nsec);
	pb_net_put64(b + 24, h->pulse_id);
	pb_net_put32(b + 32, h->frag_index);
	pb_net_put32(b + 36, h->frag_count);
	pb_net_put64(b + 40, h->total_size);
	pb_net_put64(b + 48, h->frag_offset);
	pb_net_put32(b + 56, h->width);
	pb_net_put32(b + 60, h->height);
}

/* Decode 64 bytes; 0 or -1 (bad magic, version or header size). */
static inline int pb_net_hdr_decode(const uint8_t *b, struct pb_net_hdr *h)
{
	h->magic = pb_net_le32(b);
	h->version = b[4];
	h->header_size = b[5];
	h->dtype = b[6];
	h->flags = b[7];
	h->frame_id = pb_net_le64(b + 8);
	h->ts_sec = pb_net_le32(b + 16);
	h->ts_nsec = pb_net_le32(b + 20);
	h->pulse_id = pb_net_le64(b + 24);
	h->frag_index = pb_net_le32(b + 32);
	h->frag_count = pb_net_le32(b + 36);
	h->total_size = pb_net_le64(b + 40);
	h->frag_offset = pb_net_le64(b + 48);
	h->width = pb_net_le32(b + 56);
	h->height = pb_net_le32(b + 60);
	if (h->magic != PB_NET_MAGIC || h->version != PB_NET_VERSION ||
	    h->header_size != PB_NET_HDR_SIZE)
		return -1;
	return 0;
}

/*
 * Nominal fragment size S implied by one fragment of @payload bytes, or 0
 * if the fragment is inconsistent (index/count/offset/size out of range,
 * not on the uniform grid).
 */
static inline uint64_t pb_net_frag_stride(const struct pb_net_hdr *h, uint64_t payload)
{
	if (!h->frag_count || h->frag_count > PB_NET_MAX_FRAGS || h->frag_index >= h->frag_count ||
	    !h->total_size || !payload || h->frag_offset >= h->total_size ||
	    payload > h->total_size - h->frag_offset)
		return 0;
	if (h->frag_index + 1 < h->frag_count) {
		if (h->frag_offset != (uint64_t)h->frag_index * payload)
			return 0;
		return payload;
	}
	/* last fragment: ends the image */
	if (h->frag_offset + payload != h->total_size)
		return 0;
	if (!h->frag_index)
		return h->total_size;
	if (h->frag_offset % h->frag_index)
		return 0;
	return h->frag_offset / h->frag_index;
}

#endif /* PEBBLED_NET_PROTO_H */
