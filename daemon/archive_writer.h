/* SPDX-License-Identifier: GPL-2.0 */
/*
 * pebbled archive writer: segmented, indexed, self-describing files
 * (format: archive_format.h, docs/archive-format.md) written with libaio
 * and O_DIRECT.
 *
 * - Each record is assembled in one of queue_depth aligned buffers
 *   (posix_memalign 4096) and written with one asynchronous write; a
 *   buffer is reused only after its write completed. Up to queue_depth
 *   writes are in flight.
 * - Completions are retired in submission order; a record enters the index
 *   only once its write and every earlier write completed in full.
 * - Segments rotate by size (segment_bytes) and optionally by record
 *   count (segment_frames). Files are written as NAME.tmp, synced (fsync;
 *   fdatasync in buffered mode) and renamed to NAME when complete. A full
 *   segment is cut back, synced and renamed by a helper thread while the
 *   next one is written (one at a time), so up to two segments are .tmp at
 *   once; pb_aw_flush() and pb_aw_close() wait for it, and its errors
 *   become the sticky error like any other.
 * - With O_DIRECT on a block filesystem each segment is preallocated with
 *   fallocate(2) (mode 0, sizes the file) to segment_bytes, in steps of at
 *   most 1 GiB: on ext4 a direct write that extends the file completes
 *   synchronously inside io_submit(), one inside i_size does not. At close
 *   the segment is cut back to its last complete record. A crash leaves
 *   a .tmp segment whose tail is zeros (readers stop there). If fallocate
 *   fails (ENOSPC, EFBIG, EOPNOTSUPP, ...) the writer reports it once
 *   through the log callback and goes on without preallocation.
 * - If the filesystem refuses O_DIRECT (open fails with EINVAL, e.g. an
 *   old tmpfs), the writer falls back to buffered writes, sets
 *   stats.direct = 0 and reports it once through the log callback.
 * - The first write error (ENOSPC, EIO, EFBIG, ...) is counted, reported
 *   once through the log callback and becomes sticky: every later
 *   pb_aw_write() returns it. The current segment is cut back to the end
 *   of the last fully written record, so after pb_aw_close() everything
 *   completed before the error is readable and indexed, and nothing else
 *   is presented as a record.
 *
 * One thread uses a writer at a time (the archiver thread).
 */
#ifndef PEBBLED_ARCHIVE_WRITER_H
#define PEBBLED_ARCHIVE_WRITER_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <sys/uio.h>
#include "archive_format.h"

struct pb_archive_writer;

/**
 * struct pb_aw_options - how to write a run
 * @dir:            run directory; created (one level, mode 0755) if missing
 * @run:            run number (file names and headers)
 * @segment_bytes:  rotate before a record would make the segment larger
 *                  than this (a segment always takes at least one record);
 *                  0 = 1 GiB
 * @segment_frames: rotate after this many records, 0 = no limit
 * @queue_depth:    writes in flight (1..1024), 0 = 8
 * @max_payload:    largest payload accepted (sizes the buffers), 0 = 1 MiB
 * @dtype, @width, @height, @lanes: image description for the headers
 *                  (0 = unknown)
 * @detector:       detector name for the headers, may be NULL
 * @log:            called with a message for the O_DIRECT fallback and
 *                  for the first error (err = -errno), may be NULL
 * @log_ctx:        passed to @log
 * @open_fn:        open(2) replacement, NULL = open(2) (for tests)
 * @fallocate_fn:   fallocate(2) replacement, NULL = fallocate(2) (for tests)
 * @no_prealloc:    1 = do not preallocate segments
 */
struct pb_aw_options {
	const char *dir;
	uint32_t run;
	uint64_t segment_bytes;
	uint64_t segment_frames;
	uint32_t queue_depth;
	size_t max_payload;
	uint32_t dtype, width, height, lanes;
	const char *detector;
	void (*log)(void *ctx, int err, const char *msg);
	void *log_ctx;
	int (*open_fn)(const char *path, int flags, mode_t mode);
	int (*fallocate_fn)(int fd, int mode, off_t offset, off_t len);
	int no_prealloc;
};

/**
 * struct pb_aw_record - what a record says about its event
 * @seq, @pulse_id, @ts_sec (EPICS), @ts_nsec, @transition (or
 * PB_AR_TRANSITION_NONE), @damage (PB_DMG_*): copied to the record header
 * and the index entry.
 */
struct pb_aw_record {
	uint64_t seq;
	uint64_t pulse_id;
	uint32_t ts_sec;
	uint32_t ts_nsec;
	uint32_t transition;
	uint32_t damage;
};

/**
 * struct pb_aw_stats - writer counters
 * @records:       records completed and indexed
 * @payload_bytes: their payload bytes
 * @file_bytes:    bytes completed on disk (headers, padding included)
 * @submitted:     records accepted by pb_aw_write()
 * @segments:      segment files completed (renamed)
 * @rotations:     segment rotations
 * @io_errors:     I/O errors (write, sync, truncate, rename, index)
 * @direct:        1 while O_DIRECT is in use, 0 after the fallback
 * @error:         first error, 0 if none
 */
struct pb_aw_stats {
	uint64_t records;
	uint64_t payload_bytes;
	uint64_t file_bytes;
	uint64_t submitted;
	uint64_t segments;
	uint64_t rotations;
	uint64_t io_errors;
	int direct;
	int error;
};

/**
 * pb_aw_open() - start writing a run
 * Creates the directory if needed and the index (as .tmp). Returns 0 or
 * -errno: -EINVAL bad options, -ENOTDIR/-ENOENT/-EACCES/... for the
 * directory, -EEXIST if the run's index already exists there, -ENOMEM,
 * or an io_setup() error.
 */
int pb_aw_open(struct pb_archive_writer **w, const struct pb_aw_options *opt);

/**
 * pb_aw_writev() - queue one record whose payload is @iov[0..iovcnt)
 * Returns 0 once the record is queued (it is complete only after a later
 * completion is retired), -EMSGSIZE if the payload exceeds max_payload
 * (nothing written, not sticky), -EINVAL for bad arguments, or the sticky
 * error after a failure.
 */
int pb_aw_writev(struct pb_archive_writer *w, const struct pb_aw_record *rec,
		 const struct iovec *iov, int iovcnt);

/* pb_aw_writev() with one contiguous payload. */
int pb_aw_write(struct pb_archive_writer *w, const struct pb_aw_record *rec,
		const void *payload, size_t len);

/**
 * pb_aw_flush() - wait for every write in flight and write out the index
 * entries so far. Returns 0 or the sticky error.
 */
int pb_aw_flush(struct pb_archive_writer *w);

/* Copy the counters (any time; also valid after an error). */
void pb_aw_get_stats(const struct pb_archive_writer *w, struct pb_aw_stats *st);

/**
 * pb_aw_close() - finish the run and free the writer (@w may be NULL)
 * @st: final counters, may be NULL
 *
 * Waits for all writes, cuts a failed segment back to its last complete
 * record, syncs and renames every file, syncs the directory. Returns 0 if
 * the whole run was written, else the first error; the files are closed
 * and consistent either way.
 */
int pb_aw_close(struct pb_archive_writer *w, struct pb_aw_stats *st);

#endif /* PEBBLED_ARCHIVE_WRITER_H */
