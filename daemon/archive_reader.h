/* SPDX-License-Identifier: GPL-2.0 */
/*
 * pebbled archive reader: iterate the records of a run (or of one
 * segment file), verify their checksums, report damage and truncation,
 * and look records up through the index.
 */
#ifndef PEBBLED_ARCHIVE_READER_H
#define PEBBLED_ARCHIVE_READER_H

#include <stddef.h>
#include <stdint.h>
#include "archive_format.h"

struct pb_archive_reader;

/* pb_ar_rec.status bits; 0 = intact record. */
#define PB_AR_BAD_CHECKSUM	(1U << 0)	/* payload does not match its checksum */
#define PB_AR_TRUNCATED		(1U << 1)	/* file ends inside this record */
#define PB_AR_BAD_HEADER	(1U << 2)	/* no valid record header here */
#define PB_AR_INDEX_MISMATCH	(1U << 3)	/* lookup: header differs from index */

/**
 * struct pb_ar_rec - one record as read
 * @hdr:         its header (zeroed when PB_AR_BAD_HEADER)
 * @segment:     segment number
 * @offset:      byte offset of the record in the segment file
 * @payload:     payload bytes read; valid until the next call on the reader
 * @payload_len: bytes at @payload (< hdr.length when truncated; for a
 *               bad header, the bytes skipped to the next valid record)
 * @status:      PB_AR_* bits
 */
struct pb_ar_rec {
	struct pb_ar_rec_header hdr;
	uint32_t segment;
	uint64_t offset;
	const void *payload;
	size_t payload_len;
	unsigned int status;
};

/**
 * struct pb_ar_stats - what the reader found
 * @segments:        segment files in the run
 * @missing_segments: gaps in the segment numbering
 * @bad_segment_headers: segment headers with a bad magic/version/checksum
 * @tmp_files:       NAME.tmp files (left by a crash) seen and ignored
 * @records:         records returned by pb_ar_next() so far
 * @ok, @bad_checksum, @truncated, @bad_header: of those, by status
 * @zero_tails:      segments that end in zeros instead of a record (the
 *                   preallocated, unwritten tail of a segment a crash left
 *                   behind); the end of that segment's data, not a record
 * @index_missing:   1 if the run has no index file
 * @index_bad:       1 if the index header is invalid (index not used)
 * @index_partial:   1 if the index ends with a partial entry (ignored)
 * @index_entries:   entries in the index
 */
struct pb_ar_stats {
	uint64_t segments;
	uint64_t missing_segments;
	uint64_t bad_segment_headers;
	uint64_t tmp_files;
	uint64_t records;
	uint64_t ok;
	uint64_t bad_checksum;
	uint64_t truncated;
	uint64_t bad_header;
	uint64_t zero_tails;
	int index_missing;
	int index_bad;
	int index_partial;
	uint64_t index_entries;
};

/**
 * pb_ar_open() - open a run directory or a single segment file
 * @r:    out: the reader
 * @path: a directory holding one run (if it holds several, the lowest run
 *        number is opened; see pb_ar_open_run()), or a .pseg file (then
 *        only that segment is read and the index is not used)
 *
 * Returns 0, -errno from the filesystem, -ENOENT if the directory holds
 * no segment and no index, -ENOMEM.
 */
int pb_ar_open(struct pb_archive_reader **r, const char *path);

/* pb_ar_open() of run @run in directory @dir. */
int pb_ar_open_run(struct pb_archive_reader **r, const char *dir, uint32_t run);

/* Run number being read. */
uint32_t pb_ar_run(const struct pb_archive_reader *r);

/**
 * pb_ar_segment_header() - header of segment @i (0-based position in the
 * run, not the segment number). Returns 0, -ENOENT if there is no such
 * segment, -EBADMSG if its header is invalid (copied anyway), -errno.
 */
int pb_ar_segment_header(struct pb_archive_reader *r, unsigned int i,
			 struct pb_ar_seg_header *h);

/**
 * pb_ar_next() - the next record in (segment, offset) order
 * Returns 1 with @rec filled, 0 at the end of the run, -errno on an I/O
 * error. Damaged records are returned with status bits set; after a bad
 * header the reader resynchronises at the next valid record header
 * (records start on PB_AR_ALIGN boundaries); after a truncated record it
 * goes on with the next segment. Zeros from a record boundary to the end of
 * a segment (a crashed writer's preallocated tail) end that segment
 * without a record (counted in zero_tails).
 */
int pb_ar_next(struct pb_archive_reader *r, struct pb_ar_rec *rec);

/* Start pb_ar_next() from the first record again. */
void pb_ar_rewind(struct pb_archive_reader *r);

/**
 * pb_ar_lookup() - read the record with sequence number @seq via the index
 * Returns 0 with @rec filled (check rec->status), -ENODATA if the run has
 * no usable index, -ENOENT if @seq is not in the index, -errno if its
 * segment cannot be read.
 */
int pb_ar_lookup(struct pb_archive_reader *r, uint64_t seq, struct pb_ar_rec *rec);

/**
 * pb_ar_index_entry() - entry @i of the index (0-based)
 * Returns 0, -ENODATA (no index), -ENOENT (i out of range).
 */
int pb_ar_index_entry(const struct pb_archive_reader *r, uint64_t i,
		      struct pb_ar_idx_entry *e);

/* Copy the counters. */
void pb_ar_get_stats(const struct pb_archive_reader *r, struct pb_ar_stats *st);

/* Close and free (NULL is fine). */
void pb_ar_close(struct pb_archive_reader *r);

#endif /* PEBBLED_ARCHIVE_READER_H */
