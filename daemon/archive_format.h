/* SPDX-License-Identifier: GPL-2.0 */
/*
 * pebbled archive: on-disk format (version 1).
 *
 * docs/archive-format.md describes the same thing in prose; the two must
 * agree. All integers are little-endian; all structures below have no
 * implicit padding (checked with _Static_assert) and are written as-is on
 * little-endian hosts.
 *
 * A run is a directory entry set:
 *   run%06u-s%05u.pseg   segment files, numbered from 0
 *   run%06u.pidx         the index of the run
 * Each file is first written as NAME.tmp and renamed to NAME once it is
 * complete (written, synced). A *.tmp file is what a crash left behind;
 * a *.tmp segment may end in zeros up to its preallocated size (from a
 * record boundary to the end of the file: not a record, the data ends).
 *
 * Segment file:
 *   [segment header, padded with zeros to header_size (4096)]
 *   [record][record]...     each record starts at a multiple of align
 * Record:
 *   [record header, 64 bytes][payload, length bytes][zeros up to align]
 * Index file:
 *   [index header, 64 bytes][entry, 48 bytes]...   (a trailing partial
 *   entry is ignored; entries are appended only for records whose write
 *   completed, in sequence order)
 */
#ifndef PEBBLED_ARCHIVE_FORMAT_H
#define PEBBLED_ARCHIVE_FORMAT_H

#include <stddef.h>
#include <stdint.h>

#define PB_AR_VERSION		1U
#define PB_AR_ALIGN		4096U	/* record alignment = O_DIRECT block */
#define PB_AR_SEG_HEADER_SIZE	4096U	/* bytes before the first record */

#define PB_AR_SEG_MAGIC		"PEBBLSEG"	/* 8 bytes, no NUL */
#define PB_AR_IDX_MAGIC		"PEBBLIDX"	/* 8 bytes, no NUL */
#define PB_AR_REC_MAGIC		0x31434552U	/* "REC1" read as bytes */

#define PB_AR_SEG_FMT		"run%06u-s%05u.pseg"
#define PB_AR_IDX_FMT		"run%06u.pidx"
#define PB_AR_TMP_SUFFIX	".tmp"

/* Pixel data types (segment header dtype; also pebbled.conf image_dtype). */
enum pb_dtype {
	PB_DTYPE_UNKNOWN = 0,
	PB_DTYPE_UINT8 = 1,
	PB_DTYPE_UINT16 = 2,
	PB_DTYPE_UINT32 = 3,
	PB_DTYPE_INT16 = 4,
	PB_DTYPE_INT32 = 5,
	PB_DTYPE_FLOAT32 = 6,
	PB_DTYPE_FLOAT64 = 7,
	PB_DTYPE_INT8 = 8,
	PB_DTYPE_UINT64 = 9,
	PB_DTYPE_INT64 = 10,
	PB_DTYPE_FLOAT16 = 11,
	PB_DTYPE_COUNT
};

/*
 * enum pb_dtype of a NumPy element type: @kind 'u', 'i' or 'f' (the
 * second character of a little-endian descr such as "<u2"), @size in
 * bytes; PB_DTYPE_UNKNOWN for one the archive does not record.
 */
static inline unsigned int pb_dtype_from_npy(char kind, unsigned int size)
{
	static const struct { char kind; unsigned char size, t; } m[] = {
		{ 'u', 1, PB_DTYPE_UINT8 }, { 'u', 2, PB_DTYPE_UINT16 },
		{ 'u', 4, PB_DTYPE_UINT32 }, { 'u', 8, PB_DTYPE_UINT64 },
		{ 'i', 1, PB_DTYPE_INT8 }, { 'i', 2, PB_DTYPE_INT16 },
		{ 'i', 4, PB_DTYPE_INT32 }, { 'i', 8, PB_DTYPE_INT64 },
		{ 'f', 2, PB_DTYPE_FLOAT16 }, { 'f', 4, PB_DTYPE_FLOAT32 },
		{ 'f', 8, PB_DTYPE_FLOAT64 },
	};

	for (size_t i = 0; i < sizeof(m) / sizeof(m[0]); i++)
		if (m[i].kind == kind && m[i].size == size)
			return m[i].t;
	return PB_DTYPE_UNKNOWN;
}

/* Record damage bits (set by whoever produced the event). */
#define PB_DMG_TRUNCATED	(1U << 0)	/* event shorter than expected */
#define PB_DMG_DMA_ERROR	(1U << 1)	/* DMA/link error bits on a buffer */
#define PB_DMG_MISSING_IMAGE	(1U << 2)	/* network: a newer image came first (docs/network-ingress.md) */
#define PB_DMG_TOO_OLD		(1U << 3)	/* network: a too-old image was dropped before this event */
#define PB_DMG_TIMEOUT		(1U << 4)	/* network: no image within net_timeout_ms */
#define PB_DMG_PAYLOAD		(1U << 5)	/* generator payload mismatch */
#define PB_DMG_EVT_GAP		(1U << 6)	/* event counter jumped before it */
#define PB_DMG_OVERFLOW		(1U << 7)	/* event larger than a pebble */

#define PB_AR_TRANSITION_NONE	0xffffffffU	/* record has no timing header */

/**
 * struct pb_ar_seg_header - first bytes of a segment file
 * @magic:       PB_AR_SEG_MAGIC
 * @version:     PB_AR_VERSION
 * @header_size: offset of the first record (PB_AR_SEG_HEADER_SIZE)
 * @align:       record alignment in bytes (PB_AR_ALIGN)
 * @run:         run number
 * @segment:     segment number within the run, from 0
 * @dtype:       enum pb_dtype of the image payload, 0 = unknown
 * @width:       image width in pixels, 0 = unknown
 * @height:      image height in pixels, 0 = unknown
 * @lanes:       link lanes of the detector, 0 = unknown
 * @created_ns:  creation time, ns since the Unix epoch (CLOCK_REALTIME)
 * @detector:    detector name, NUL-padded (not necessarily terminated)
 * @reserved:    zero
 * @checksum:    XXH3_64bits of the bytes before this field
 */
struct pb_ar_seg_header {
	char magic[8];
	uint32_t version;
	uint32_t header_size;
	uint32_t align;
	uint32_t run;
	uint32_t segment;
	uint32_t dtype;
	uint32_t width;
	uint32_t height;
	uint32_t lanes;
	uint32_t reserved0;
	uint64_t created_ns;
	char detector[32];
	uint64_t reserved[4];
	uint64_t checksum;
};

/**
 * struct pb_ar_rec_header - header of one record (64 bytes)
 * @magic:       PB_AR_REC_MAGIC
 * @header_size: 64; the payload starts this many bytes after the header
 * @length:      payload bytes (without padding)
 * @seq:         event sequence number (monotonic within a run)
 * @pulse_id:    56-bit pulse ID from the timing header
 * @ts_sec:      timestamp seconds, EPICS epoch (1990-01-01 UTC) as in the
 *               timing header; Unix = ts_sec + 631152000
 * @ts_nsec:     timestamp nanoseconds
 * @transition:  transition id (12 = L1Accept), PB_AR_TRANSITION_NONE if
 *               the event had no timing header
 * @damage:      PB_DMG_* bits
 * @checksum:    XXH3_64bits of the payload (length bytes)
 * @reserved:    zero
 * @header_check: low 32 bits of XXH3_64bits of bytes 0..59 of this header
 */
struct pb_ar_rec_header {
	uint32_t magic;
	uint32_t header_size;
	uint64_t length;
	uint64_t seq;
	uint64_t pulse_id;
	uint32_t ts_sec;
	uint32_t ts_nsec;
	uint32_t transition;
	uint32_t damage;
	uint64_t checksum;
	uint32_t reserved;
	uint32_t header_check;
};

/**
 * struct pb_ar_idx_header - first 64 bytes of the index file
 * @magic:       PB_AR_IDX_MAGIC
 * @version:     PB_AR_VERSION
 * @header_size: 64: offset of the first entry
 * @entry_size:  48: sizeof(struct pb_ar_idx_entry)
 * @run:         run number
 * @reserved:    zero
 * @checksum:    XXH3_64bits of the bytes before this field
 */
struct pb_ar_idx_header {
	char magic[8];
	uint32_t version;
	uint32_t header_size;
	uint32_t entry_size;
	uint32_t run;
	uint64_t reserved[4];
	uint64_t checksum;
};

/**
 * struct pb_ar_idx_entry - one complete record (48 bytes)
 * @seq:        record seq
 * @pulse_id:   record pulse_id
 * @offset:     byte offset of the record header in its segment
 * @length:     payload length
 * @segment:    segment number (file run%06u-s%05u.pseg of this run)
 * @damage:     record damage bits
 * @transition: record transition id
 * @reserved:   zero
 */
struct pb_ar_idx_entry {
	uint64_t seq;
	uint64_t pulse_id;
	uint64_t offset;
	uint64_t length;
	uint32_t segment;
	uint32_t damage;
	uint32_t transition;
	uint32_t reserved;
};

_Static_assert(sizeof(struct pb_ar_seg_header) == 128, "segment header size");
_Static_assert(sizeof(struct pb_ar_rec_header) == 64, "record header size");
_Static_assert(offsetof(struct pb_ar_rec_header, header_check) == 60, "rec check");
_Static_assert(sizeof(struct pb_ar_idx_header) == 64, "index header size");
_Static_assert(sizeof(struct pb_ar_idx_entry) == 48, "index entry size");

/* Bytes a record of @length payload bytes occupies in a segment. */
static inline uint64_t pb_ar_record_span(uint64_t length)
{
	uint64_t n = sizeof(struct pb_ar_rec_header) + length;

	return (n + PB_AR_ALIGN - 1) / PB_AR_ALIGN * PB_AR_ALIGN;
}

/* Name of a dtype ("uint16", ...), "unknown" for anything else. */
const char *pb_dtype_name(unsigned int dtype);
/* Bytes per pixel of a dtype, 0 if unknown. */
unsigned int pb_dtype_size(unsigned int dtype);
/* enum pb_dtype for a name, or -EINVAL. */
int pb_dtype_from_name(const char *name);
/* "uint8, uint16, ..." (every known dtype) into @buf; returns @buf. */
const char *pb_dtype_list(char *buf, size_t len);

/* Fill in hdr->header_check (all other fields must be set). */
void pb_ar_rec_header_seal(struct pb_ar_rec_header *hdr);
/* 1 if magic, header_size and header_check are right, else 0. */
int pb_ar_rec_header_valid(const struct pb_ar_rec_header *hdr);

#endif /* PEBBLED_ARCHIVE_FORMAT_H */
