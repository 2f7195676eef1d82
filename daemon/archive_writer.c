// SPDX-License-Identifier: GPL-2.0
/* pebbled archive writer (libaio + O_DIRECT); see archive_writer.h. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <time.h>
#include <unistd.h>
#include <libaio.h>
#include <xxhash.h>
#include "archive_writer.h"

#define AW_DEFAULT_SEGMENT	(1ULL << 30)
#define AW_DEFAULT_QD		8U
#define AW_MAX_QD		1024U
#define AW_DEFAULT_PAYLOAD	(1U << 20)
#define AW_IDX_BATCH		1024U
#define AW_HASH_CHUNK		(64U * 1024U)	/* copy+checksum step (cache) */
#define AW_IDX_RESERVE		(64U * 1024U)	/* index space reserved ahead */
/*
 * Segments are preallocated (fallocate mode 0: size and blocks) in steps of
 * at most this many bytes, up to segment_bytes. A write inside i_size is
 * asynchronous on ext4/xfs; a write that extends the file is completed
 * synchronously inside io_submit(), so without this the queue never fills.
 */
#define AW_PREALLOC_STEP	(1ULL << 30)
/*
 * Free space a preallocation leaves for everything else (the index, the
 * results file, the filesystem's own metadata): a step is cut to fit.
 */
#define AW_PREALLOC_SPARE	(8ULL << 20)
#define AW_TMPFS_MAGIC		0x01021994L
#define AW_RAMFS_MAGIC		0x858458f6L

enum slot_state { SLOT_FREE = 0, SLOT_INFLIGHT, SLOT_DONE };

struct slot {
	void *buf;
	struct iocb cb;
	enum slot_state state;
	long res;
	size_t len;			/* bytes submitted */
	uint64_t off;			/* file offset */
	int is_record;
	struct pb_ar_idx_entry ent;	/* index entry of a record */
};

/* A full segment to finish: cut back, sync, close, rename. */
struct seg_job {
	int fd;
	int direct;			/* fsync (O_DIRECT) or fdatasync */
	uint64_t good;			/* end of the last complete record */
	uint64_t end;			/* the file may be this long (writes, fallocate) */
	char tmp[PATH_MAX];
	char final[PATH_MAX];
};

/*
 * The closer thread finishes full segments while the writer goes on with
 * the next one, so a rotation costs the writer only the drain of its
 * writes in flight, not the sync (a journal commit and a disk cache flush)
 * or the rename. One job at a time: a writer that rotates again before
 * the last job is done waits for it.
 */
struct closer {
	pthread_t thread;
	int started;			/* thread running (else jobs run inline) */
	pthread_mutex_t lock;		/* protects every field below */
	pthread_cond_t cond;		/* job posted, job done, quit */
	int pending;			/* @job posted and not finished */
	int quit;
	struct seg_job job;
	uint64_t renamed;		/* segments completed (renamed) */
	uint64_t errors;		/* failed steps */
	int first_err;			/* first failure, 0 if none */
	const char *first_what;
	char first_path[PATH_MAX];
};

struct pb_archive_writer {
	struct pb_aw_options opt;
	char dir[PATH_MAX];
	io_context_t ctx;
	unsigned int qd;
	size_t cap;			/* bytes per slot buffer */
	struct slot *slots;
	struct io_event *events;
	unsigned int head, count;	/* FIFO of slots in submission order */

	int direct;			/* O_DIRECT in use */
	int prealloc;			/* preallocating segments */
	int fallback_reported;
	int prealloc_cut_reported;	/* "preallocating only ..." said */
	int err;			/* sticky first error */

	/* current segment */
	int seg_fd;
	uint32_t seg_no;
	uint64_t seg_off;		/* next submission offset */
	uint64_t seg_good;		/* end of the last complete write */
	uint64_t seg_submitted;		/* records submitted to it */
	uint64_t seg_records;		/* records complete in it */
	uint64_t seg_alloc;		/* file size may be up to this (fallocate) */
	char seg_tmp[PATH_MAX];
	char seg_final[PATH_MAX];

	/* index */
	int idx_fd;
	char idx_tmp[PATH_MAX];
	char idx_final[PATH_MAX];
	struct pb_ar_idx_entry *idx_buf;
	unsigned int idx_n;
	uint64_t idx_accepted;		/* records submitted, so index entries owed */
	uint64_t idx_reserved;		/* index bytes reserved on disk (0 = cannot) */
	int idx_no_reserve;		/* filesystem cannot reserve: write as we go */

	XXH3_state_t *xxh;		/* copy+checksum of large payloads */

	struct closer cl;
	uint64_t cl_renamed;		/* cl.renamed already in st.segments */
	uint64_t cl_errors;		/* cl.errors already in st.io_errors */

	struct pb_aw_stats st;
};

__attribute__((format(printf, 3, 4)))
static void logmsg(struct pb_archive_writer *w, int err, const char *fmt, ...)
{
	char msg[512];
	va_list ap;

	if (!w->opt.log)
		return;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	w->opt.log(w->opt.log_ctx, err, msg);
}

/* Record the first error (sticky), count every error. */
static int set_error(struct pb_archive_writer *w, int err, const char *what, const char *path)
{
	w->st.io_errors++;
	if (!w->err) {
		w->err = err;
		w->st.error = err;
		logmsg(w, err, "%s %s failed; closing the run cleanly", what, path);
	}
	return w->err;
}

static int do_open(struct pb_archive_writer *w, const char *path, int flags, mode_t mode)
{
	int fd = w->opt.open_fn ? w->opt.open_fn(path, flags, mode) : open(path, flags, mode);

	return fd < 0 ? -errno : fd;
}

static int fmt_path(char *dst, const char *dir, const char *name, const char *suffix)
{
	int n = snprintf(dst, PATH_MAX, "%s/%s%s", dir, name, suffix);

	return n < 0 || n >= PATH_MAX ? -ENAMETOOLONG : 0;
}

/* Write all of buf with write(2); 0 or -errno (short write -> -ENOSPC). */
static int write_all(int fd, const void *buf, size_t len)
{
	const char *p = buf;

	while (len) {
		ssize_t n = write(fd, p, len);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		if (n == 0)
			return -ENOSPC;
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

/*
 * Reserve disk space for the index entry of one more record before the
 * record is written, so a disk that fills up fails the record, never the
 * index of records already on disk: the run then closes with one index
 * entry per readable record. FALLOC_FL_KEEP_SIZE reserves blocks without
 * changing the file's length; where the filesystem cannot, entries are
 * written as they come (and a full disk may leave the index short).
 */
static int idx_reserve(struct pb_archive_writer *w)
{
	uint64_t need = sizeof(struct pb_ar_idx_header) +
			(w->idx_accepted + 1) * sizeof(struct pb_ar_idx_entry);
	uint64_t want;

	if (w->idx_no_reserve || need <= w->idx_reserved)
		return 0;
	want = (need + AW_IDX_RESERVE) / AW_IDX_RESERVE * AW_IDX_RESERVE;
	if (fallocate(w->idx_fd, FALLOC_FL_KEEP_SIZE, 0, (off_t)want) < 0) {
		int ret = -errno;

		if (ret == -EOPNOTSUPP || ret == -ENOSYS) {
			w->idx_no_reserve = 1;
			return 0;
		}
		return set_error(w, ret, "index space reservation in", w->idx_tmp);
	}
	w->idx_reserved = want;
	return 0;
}

static int idx_flush(struct pb_archive_writer *w)
{
	int ret;

	if (!w->idx_n || w->idx_fd < 0)
		return 0;
	ret = write_all(w->idx_fd, w->idx_buf, (size_t)w->idx_n * sizeof(*w->idx_buf));
	w->idx_n = 0;
	if (ret)
		return set_error(w, ret, "index write to", w->idx_tmp);
	return 0;
}

/* A completed write: account it, or turn it into the sticky error. */
static void retire_one(struct pb_archive_writer *w, struct slot *s)
{
	long res = s->res;

	if (w->err)
		return;		/* after an error nothing more is complete */
	if (res >= 0 && (size_t)res < s->len) {
		/*
		 * Short write (e.g. the file-size limit or the disk filled up
		 * inside this write): try the rest synchronously, which either
		 * finishes it or fails with the real errno (EFBIG, ENOSPC).
		 * With O_DIRECT an unaligned remainder may fail with EINVAL
		 * instead; either way the record is not counted as complete.
		 */
		size_t done = (size_t)res;

		while (done < s->len) {
			ssize_t n = pwrite(w->seg_fd, (char *)s->buf + done, s->len - done,
					   (off_t)(s->off + done));
			if (n < 0 && errno == EINTR)
				continue;
			if (n <= 0) {
				res = n < 0 ? -errno : -ENOSPC;
				break;
			}
			done += (size_t)n;
		}
		if (done == s->len)
			res = (long)s->len;
	}
	if (res < 0) {
		set_error(w, (int)res, "write to", w->seg_tmp);
		return;
	}
	w->seg_good = s->off + s->len;
	w->st.file_bytes += s->len;
	if (s->is_record) {
		w->idx_buf[w->idx_n++] = s->ent;
		w->st.records++;
		w->st.payload_bytes += s->ent.length;
		w->seg_records++;
		if (w->idx_n == AW_IDX_BATCH)
			idx_flush(w);
	}
}

static void retire(struct pb_archive_writer *w)
{
	while (w->count) {
		struct slot *s = &w->slots[w->head];

		if (s->state != SLOT_DONE)
			break;
		retire_one(w, s);
		s->state = SLOT_FREE;
		w->head = (w->head + 1) % w->qd;
		w->count--;
	}
}

/* Collect at least @min completions (0 = whatever is ready). */
static int reap(struct pb_archive_writer *w, unsigned int min)
{
	int n;

	if (!w->count)
		return 0;
	do {
		n = io_getevents(w->ctx, (long)min, (long)w->qd, w->events, NULL);
	} while (n == -EINTR);
	if (n < 0) {
		/* The context is unusable: nothing in flight can be trusted. */
		set_error(w, n, "io_getevents on", w->seg_tmp);
		for (unsigned int i = 0; i < w->qd; i++)
			if (w->slots[i].state == SLOT_INFLIGHT) {
				w->slots[i].state = SLOT_DONE;
				w->slots[i].res = n;
			}
	}
	for (int i = 0; i < n; i++) {
		struct slot *s = w->events[i].data;

		s->res = (long)w->events[i].res;
		s->state = SLOT_DONE;
	}
	retire(w);
	return 0;
}

static void drain(struct pb_archive_writer *w)
{
	while (w->count)
		reap(w, 1);
}

/* The next free slot in FIFO order, waiting for completions if needed. */
static struct slot *get_slot(struct pb_archive_writer *w)
{
	while (w->count == w->qd)
		reap(w, 1);
	return &w->slots[(w->head + w->count) % w->qd];
}

static int submit(struct pb_archive_writer *w, struct slot *s, size_t len, uint64_t off)
{
	struct iocb *cbs[1] = { &s->cb };
	int ret;

	s->len = len;
	s->off = off;
	s->res = 0;
	io_prep_pwrite(&s->cb, w->seg_fd, s->buf, len, (long long)off);
	s->cb.data = s;
	s->state = SLOT_INFLIGHT;
	w->count++;
	do {
		ret = io_submit(w->ctx, 1, cbs);
	} while (ret == -EINTR || ret == -EAGAIN);
	if (ret != 1) {
		/* Not queued: retire it as failed, in order. */
		s->res = ret < 0 ? ret : -EIO;
		s->state = SLOT_DONE;
		retire(w);
		return w->err ? w->err : (int)s->res;
	}
	return 0;
}

static int do_fallocate(struct pb_archive_writer *w, int fd, uint64_t off, uint64_t len)
{
	int ret;

	if (w->opt.fallocate_fn)
		return w->opt.fallocate_fn(fd, 0, (off_t)off, (off_t)len) < 0 ? -errno : 0;
	do {
		ret = fallocate(fd, 0, (off_t)off, (off_t)len);
	} while (ret < 0 && errno == EINTR);
	return ret < 0 ? -errno : 0;
}

/* Bytes an unprivileged writer may still allocate on @fd's filesystem. */
static uint64_t free_bytes(int fd)
{
	struct statfs sf;

	if (fstatfs(fd, &sf) < 0)
		return UINT64_MAX;	/* unknown: let fallocate say */
	return (uint64_t)sf.f_bavail * (uint64_t)sf.f_bsize;
}

/*
 * The end of the next preallocation step towards @end: AW_PREALLOC_STEP
 * at a time, never beyond segment_bytes, and cut to what the filesystem
 * has free less AW_PREALLOC_SPARE (said once); w->seg_alloc if nothing
 * fits.
 */
static uint64_t prealloc_to(struct pb_archive_writer *w, uint64_t end)
{
	uint64_t to = w->seg_alloc + AW_PREALLOC_STEP, avail, room;

	if (to < end)
		to = end;
	if (to > w->opt.segment_bytes)
		to = w->opt.segment_bytes;
	avail = free_bytes(w->seg_fd);
	room = avail > AW_PREALLOC_SPARE ? (avail - AW_PREALLOC_SPARE) & ~(uint64_t)(PB_AR_ALIGN - 1) : 0;
	if (to > w->seg_alloc && to - w->seg_alloc > room) {
		if (!w->prealloc_cut_reported) {
			w->prealloc_cut_reported = 1;
			logmsg(w, 0, "%s: preallocating %llu MiB of the segment, not %llu: "
			       "the filesystem has %llu MiB free",
			       w->seg_tmp, (unsigned long long)((w->seg_alloc + room) >> 20),
			       (unsigned long long)(to >> 20), (unsigned long long)(avail >> 20));
		}
		to = w->seg_alloc + room;
	}
	return to;
}

/*
 * Make the segment at least @end bytes long (prealloc_to()) so that the
 * writes stay inside i_size. If fallocate fails (ENOSPC, EFBIG,
 * EOPNOTSUPP, ...) the blocks it may have taken are given back (the file
 * is cut to its size before the call: every write in flight ends inside
 * it) and the writer goes on without preallocation: the writes themselves
 * then fail or not, and are handled as before. Whatever part of the file
 * was sized but not written is cut off at seg_close().
 */
static void ensure_alloc(struct pb_archive_writer *w, uint64_t end)
{
	uint64_t to;
	int ret;

	if (!w->prealloc || end <= w->seg_alloc || w->seg_alloc >= w->opt.segment_bytes)
		return;
	to = prealloc_to(w, end);
	if (to < end) {
		/* no room left to preallocate: from here the writes extend the file */
		w->prealloc = 0;
		return;
	}
	ret = do_fallocate(w, w->seg_fd, w->seg_alloc, to - w->seg_alloc);
	if (ret) {
		if (ftruncate(w->seg_fd, (off_t)w->seg_alloc) < 0) {
			/* the blocks stay until seg_close() cuts the file */
		}
		w->prealloc = 0;
		logmsg(w, ret, "preallocating %s failed; its blocks given back, "
		       "writing without preallocation (slower on ext4)", w->seg_tmp);
		return;
	}
	w->seg_alloc = to;
}

/* Preallocate only with O_DIRECT on a block filesystem (not tmpfs: RAM). */
static int want_prealloc(int fd)
{
	struct statfs sf;

	if (fstatfs(fd, &sf) < 0)
		return 0;
	return sf.f_type != AW_TMPFS_MAGIC && sf.f_type != AW_RAMFS_MAGIC;
}

static int seg_open(struct pb_archive_writer *w)
{
	char name[64];
	struct pb_ar_seg_header *h;
	struct timespec now;
	struct slot *s;
	int flags = O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC;
	int fd, ret;

	snprintf(name, sizeof(name), PB_AR_SEG_FMT, w->opt.run, w->seg_no);
	if ((ret = fmt_path(w->seg_tmp, w->dir, name, PB_AR_TMP_SUFFIX)) ||
	    (ret = fmt_path(w->seg_final, w->dir, name, "")))
		return set_error(w, ret, "segment name in", w->dir);
	fd = do_open(w, w->seg_tmp, flags | (w->direct ? O_DIRECT : 0), 0644);
	if (fd == -EINVAL && w->direct) {
		w->direct = 0;
		w->st.direct = 0;
		fd = do_open(w, w->seg_tmp, flags, 0644);
		if (fd >= 0 && !w->fallback_reported) {
			w->fallback_reported = 1;
			logmsg(w, -EINVAL, "the filesystem of %s refuses O_DIRECT; "
			       "using buffered writes with fdatasync at segment close", w->dir);
		}
	}
	if (fd < 0)
		return set_error(w, fd, "open of", w->seg_tmp);
	w->seg_fd = fd;
	w->seg_off = 0;
	w->seg_good = 0;
	w->seg_submitted = 0;
	w->seg_records = 0;
	w->seg_alloc = 0;
	if (w->prealloc && (!w->direct || !want_prealloc(fd)))
		w->prealloc = 0;
	ensure_alloc(w, PB_AR_SEG_HEADER_SIZE);

	s = get_slot(w);
	if (w->err)
		return w->err;
	memset(s->buf, 0, PB_AR_SEG_HEADER_SIZE);
	h = s->buf;
	memcpy(h->magic, PB_AR_SEG_MAGIC, 8);
	h->version = PB_AR_VERSION;
	h->header_size = PB_AR_SEG_HEADER_SIZE;
	h->align = PB_AR_ALIGN;
	h->run = w->opt.run;
	h->segment = w->seg_no;
	h->dtype = w->opt.dtype;
	h->width = w->opt.width;
	h->height = w->opt.height;
	h->lanes = w->opt.lanes;
	clock_gettime(CLOCK_REALTIME, &now);
	h->created_ns = (uint64_t)now.tv_sec * 1000000000ULL + (uint64_t)now.tv_nsec;
	if (w->opt.detector)
		memcpy(h->detector, w->opt.detector,
		       strnlen(w->opt.detector, sizeof(h->detector)));
	h->checksum = XXH3_64bits(h, offsetof(struct pb_ar_seg_header, checksum));
	s->is_record = 0;
	ret = submit(w, s, PB_AR_SEG_HEADER_SIZE, 0);
	w->seg_off = PB_AR_SEG_HEADER_SIZE;
	return ret;
}

/*
 * Cut back, sync, close and rename one full segment. Every step is tried
 * (the rename only names what is on disk); returns the number of failed
 * steps, the first one in *err and *what; *renamed says whether it got its
 * final name.
 */
static unsigned int seg_finish(const struct seg_job *j, int *err, const char **what,
			       int *renamed)
{
	unsigned int nerr = 0;

#define SEG_FAIL(w) do { if (!nerr++) { *err = -errno; *what = (w); } } while (0)
	*renamed = 0;
	if (j->good < j->end && ftruncate(j->fd, (off_t)j->good) < 0)
		SEG_FAIL("truncate of");
	if ((j->direct ? fsync(j->fd) : fdatasync(j->fd)) < 0)
		SEG_FAIL("sync of");
	if (close(j->fd) < 0)
		SEG_FAIL("close of");
	if (rename(j->tmp, j->final) < 0)
		SEG_FAIL("rename of");
	else
		*renamed = 1;
#undef SEG_FAIL
	return nerr;
}

static void *closer_main(void *arg)
{
	struct closer *c = arg;

	pthread_mutex_lock(&c->lock);
	for (;;) {
		struct seg_job j;
		const char *what = NULL;
		unsigned int nerr;
		int err = 0, renamed;

		while (!c->pending && !c->quit)
			pthread_cond_wait(&c->cond, &c->lock);
		if (!c->pending)
			break;
		j = c->job;
		pthread_mutex_unlock(&c->lock);
		nerr = seg_finish(&j, &err, &what, &renamed);
		pthread_mutex_lock(&c->lock);
		c->renamed += (uint64_t)renamed;
		c->errors += nerr;
		if (nerr && !c->first_err) {
			c->first_err = err;
			c->first_what = what;
			snprintf(c->first_path, sizeof(c->first_path), "%s", j.tmp);
		}
		c->pending = 0;
		pthread_cond_broadcast(&c->cond);
	}
	pthread_mutex_unlock(&c->lock);
	return NULL;
}

/* Take over what the closer finished: segment count, errors (sticky). */
static void closer_collect(struct pb_archive_writer *w, int wait)
{
	struct closer *c = &w->cl;
	uint64_t renamed, errors;
	const char *what = NULL;
	char path[PATH_MAX];
	int err = 0;

	if (!c->started)
		return;
	pthread_mutex_lock(&c->lock);
	while (wait && c->pending)
		pthread_cond_wait(&c->cond, &c->lock);
	renamed = c->renamed;
	errors = c->errors;
	if (c->first_err) {
		err = c->first_err;
		what = c->first_what;
		snprintf(path, sizeof(path), "%s", c->first_path);
		c->first_err = 0;
	}
	pthread_mutex_unlock(&c->lock);
	w->st.segments += renamed - w->cl_renamed;
	w->cl_renamed = renamed;
	if (errors > w->cl_errors) {
		if (err) {
			set_error(w, err, what, path);	/* counts one */
			w->cl_errors++;
		}
		w->st.io_errors += errors - w->cl_errors;
		w->cl_errors = errors;
	}
}

/*
 * Hand @j to the closer thread (started on first use) when @async, else
 * (or without a thread) finish it here, after any job still pending.
 */
static void closer_post(struct pb_archive_writer *w, const struct seg_job *j, int async)
{
	struct closer *c = &w->cl;
	const char *what = NULL;
	int err = 0, renamed;
	unsigned int nerr;

	if (async && !c->started && !pthread_mutex_init(&c->lock, NULL)) {
		if (pthread_cond_init(&c->cond, NULL)) {
			pthread_mutex_destroy(&c->lock);
		} else if (pthread_create(&c->thread, NULL, closer_main, c)) {
			pthread_cond_destroy(&c->cond);
			pthread_mutex_destroy(&c->lock);
		} else {
			c->started = 1;
		}
	}
	closer_collect(w, 1);
	if (async && c->started) {
		pthread_mutex_lock(&c->lock);
		c->job = *j;
		c->pending = 1;
		pthread_cond_broadcast(&c->cond);
		pthread_mutex_unlock(&c->lock);
		return;
	}
	nerr = seg_finish(j, &err, &what, &renamed);
	w->st.segments += (uint64_t)renamed;
	if (nerr) {
		set_error(w, err, what, j->tmp);
		w->st.io_errors += nerr - 1;
	}
}

static void closer_stop(struct pb_archive_writer *w)
{
	struct closer *c = &w->cl;

	if (!c->started)
		return;
	closer_collect(w, 1);
	pthread_mutex_lock(&c->lock);
	c->quit = 1;
	pthread_cond_broadcast(&c->cond);
	pthread_mutex_unlock(&c->lock);
	pthread_join(c->thread, NULL);
	pthread_cond_destroy(&c->cond);
	pthread_mutex_destroy(&c->lock);
	c->started = 0;
}

/*
 * Finish the current segment: drain its writes, then cut it back after an
 * error, sync and rename it, in the closer thread when @async.
 */
static void seg_close(struct pb_archive_writer *w, int async)
{
	struct seg_job j;
	int fd = w->seg_fd;

	if (fd < 0)
		return;
	drain(w);
	idx_flush(w);
	w->seg_fd = -1;
	if (!w->seg_records) {
		/* Nothing complete in it (failed early): leave no empty file. */
		close(fd);
		unlink(w->seg_tmp);
		return;
	}
	j.fd = fd;
	j.direct = w->direct;
	j.good = w->seg_good;
	j.end = w->seg_off > w->seg_alloc ? w->seg_off : w->seg_alloc;
	memcpy(j.tmp, w->seg_tmp, sizeof(j.tmp));
	memcpy(j.final, w->seg_final, sizeof(j.final));
	closer_post(w, &j, async);
}

int pb_aw_open(struct pb_archive_writer **wp, const struct pb_aw_options *opt)
{
	struct pb_archive_writer *w;
	struct pb_ar_idx_header ih;
	char name[64];
	int ret, fd;

	if (!wp || !opt || !opt->dir || !opt->dir[0] || opt->queue_depth > AW_MAX_QD)
		return -EINVAL;
	if (strlen(opt->dir) >= PATH_MAX - 64)
		return -ENAMETOOLONG;
	w = calloc(1, sizeof(*w));
	if (!w)
		return -ENOMEM;
	w->opt = *opt;
	snprintf(w->dir, sizeof(w->dir), "%s", opt->dir);
	w->opt.dir = w->dir;
	w->opt.detector = NULL;	/* copied into headers below, not kept */
	w->seg_fd = -1;
	w->idx_fd = -1;
	w->direct = 1;
	w->st.direct = 1;
	w->prealloc = !opt->no_prealloc;
	if (!w->opt.segment_bytes)
		w->opt.segment_bytes = AW_DEFAULT_SEGMENT;
	w->qd = w->opt.queue_depth ? w->opt.queue_depth : AW_DEFAULT_QD;
	if (!w->opt.max_payload)
		w->opt.max_payload = AW_DEFAULT_PAYLOAD;
	if (w->opt.max_payload > (1ULL << 40)) {
		free(w);
		return -EINVAL;
	}
	w->cap = (size_t)pb_ar_record_span(w->opt.max_payload);
	if (w->cap < PB_AR_SEG_HEADER_SIZE)
		w->cap = PB_AR_SEG_HEADER_SIZE;

	ret = -ENOMEM;
	w->slots = calloc(w->qd, sizeof(*w->slots));
	w->events = calloc(w->qd, sizeof(*w->events));
	w->idx_buf = calloc(AW_IDX_BATCH, sizeof(*w->idx_buf));
	w->xxh = XXH3_createState();
	if (!w->slots || !w->events || !w->idx_buf || !w->xxh)
		goto fail;
	for (unsigned int i = 0; i < w->qd; i++) {
		if (posix_memalign(&w->slots[i].buf, PB_AR_ALIGN, w->cap)) {
			w->slots[i].buf = NULL;
			goto fail;
		}
	}

	if (mkdir(w->dir, 0755) < 0 && errno != EEXIST) {
		ret = -errno;
		goto fail;
	}
	snprintf(name, sizeof(name), PB_AR_IDX_FMT, w->opt.run);
	if ((ret = fmt_path(w->idx_final, w->dir, name, "")) ||
	    (ret = fmt_path(w->idx_tmp, w->dir, name, PB_AR_TMP_SUFFIX)))
		goto fail;
	if (access(w->idx_final, F_OK) == 0) {
		ret = -EEXIST;
		goto fail;
	}
	fd = do_open(w, w->idx_tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0) {
		ret = fd;
		goto fail;
	}
	w->idx_fd = fd;
	memset(&ih, 0, sizeof(ih));
	memcpy(ih.magic, PB_AR_IDX_MAGIC, 8);
	ih.version = PB_AR_VERSION;
	ih.header_size = sizeof(ih);
	ih.entry_size = sizeof(struct pb_ar_idx_entry);
	ih.run = w->opt.run;
	ih.checksum = XXH3_64bits(&ih, offsetof(struct pb_ar_idx_header, checksum));
	ret = write_all(fd, &ih, sizeof(ih));
	if (ret)
		goto fail_idx;
	ret = io_setup((int)w->qd, &w->ctx);
	if (ret < 0)
		goto fail_idx;
	/* opt->detector is only borrowed for the call: keep a copy. */
	if (opt->detector) {
		char *d = strndup(opt->detector, 31);

		if (!d) {
			io_destroy(w->ctx);
			ret = -ENOMEM;
			goto fail_idx;
		}
		w->opt.detector = d;
	}
	*wp = w;
	return 0;

fail_idx:
	close(w->idx_fd);
	unlink(w->idx_tmp);
fail:
	if (w->slots)
		for (unsigned int i = 0; i < w->qd; i++)
			free(w->slots[i].buf);
	free(w->slots);
	free(w->events);
	free(w->idx_buf);
	XXH3_freeState(w->xxh);
	free(w);
	return ret;
}

int pb_aw_writev(struct pb_archive_writer *w, const struct pb_aw_record *rec,
		 const struct iovec *iov, int iovcnt)
{
	struct pb_ar_rec_header *h;
	struct slot *s;
	uint64_t len = 0, span, csum;
	unsigned char *p;
	int ret;

	if (!w || !rec || iovcnt < 0 || (iovcnt && !iov))
		return -EINVAL;
	closer_collect(w, 0);
	if (w->err)
		return w->err;
	for (int i = 0; i < iovcnt; i++) {
		if (iov[i].iov_len && !iov[i].iov_base)
			return -EINVAL;
		len += iov[i].iov_len;
	}
	if (len > w->opt.max_payload)
		return -EMSGSIZE;
	span = pb_ar_record_span(len);

	if (w->seg_fd >= 0 && w->seg_submitted &&
	    (w->seg_off + span > w->opt.segment_bytes ||
	     (w->opt.segment_frames && w->seg_submitted >= w->opt.segment_frames))) {
		seg_close(w, 1);
		w->seg_no++;
		w->st.rotations++;
		if (w->err)
			return w->err;
	}
	if (w->seg_fd < 0) {
		ret = seg_open(w);
		if (ret)
			return ret;
	}

	ret = idx_reserve(w);
	if (ret)
		return ret;
	s = get_slot(w);
	if (w->err)
		return w->err;
	h = s->buf;
	memset(h, 0, sizeof(*h));
	p = (unsigned char *)s->buf + sizeof(*h);
	if (len <= AW_HASH_CHUNK) {
		for (int i = 0; i < iovcnt; i++) {
			memcpy(p, iov[i].iov_base, iov[i].iov_len);
			p += iov[i].iov_len;
		}
		csum = XXH3_64bits((unsigned char *)s->buf + sizeof(*h), (size_t)len);
	} else {
		/*
		 * Copy and checksum in one pass, a cache-sized chunk at a
		 * time: the checksum reads what was just copied from the
		 * cache instead of reading the whole payload from memory
		 * again (same XXH3 value as the one-shot call).
		 */
		XXH3_state_t *xs = w->xxh;

		XXH3_64bits_reset(xs);
		for (int i = 0; i < iovcnt; i++) {
			const unsigned char *src = iov[i].iov_base;
			size_t left = iov[i].iov_len;

			while (left) {
				size_t n = left < AW_HASH_CHUNK ? left : AW_HASH_CHUNK;

				memcpy(p, src, n);
				XXH3_64bits_update(xs, p, n);
				p += n;
				src += n;
				left -= n;
			}
		}
		csum = XXH3_64bits_digest(xs);
	}
	memset(p, 0, (size_t)(span - sizeof(*h) - len));
	h->magic = PB_AR_REC_MAGIC;
	h->header_size = sizeof(*h);
	h->length = len;
	h->seq = rec->seq;
	h->pulse_id = rec->pulse_id;
	h->ts_sec = rec->ts_sec;
	h->ts_nsec = rec->ts_nsec;
	h->transition = rec->transition;
	h->damage = rec->damage;
	h->checksum = csum;
	pb_ar_rec_header_seal(h);

	s->is_record = 1;
	s->ent = (struct pb_ar_idx_entry){
		.seq = rec->seq, .pulse_id = rec->pulse_id, .offset = w->seg_off,
		.length = len, .segment = w->seg_no, .damage = rec->damage,
		.transition = rec->transition,
	};
	ensure_alloc(w, w->seg_off + span);
	ret = submit(w, s, (size_t)span, w->seg_off);
	w->seg_off += span;
	w->seg_submitted++;
	if (ret)
		return ret;
	w->idx_accepted++;
	w->st.submitted++;
	reap(w, 0);
	return w->err;
}

int pb_aw_write(struct pb_archive_writer *w, const struct pb_aw_record *rec,
		const void *payload, size_t len)
{
	struct iovec iov = { (void *)(uintptr_t)payload, len };

	return pb_aw_writev(w, rec, &iov, len ? 1 : 0);
}

int pb_aw_flush(struct pb_archive_writer *w)
{
	if (!w)
		return -EINVAL;
	drain(w);
	idx_flush(w);
	closer_collect(w, 1);
	return w->err;
}

void pb_aw_get_stats(const struct pb_archive_writer *w, struct pb_aw_stats *st)
{
	if (w && st)
		*st = w->st;
}

int pb_aw_close(struct pb_archive_writer *w, struct pb_aw_stats *st)
{
	int ret, dfd;

	if (!w)
		return 0;
	seg_close(w, 0);
	closer_stop(w);
	drain(w);
	idx_flush(w);
	if (fsync(w->idx_fd) < 0)
		set_error(w, -errno, "sync of", w->idx_tmp);
	if (close(w->idx_fd) < 0)
		set_error(w, -errno, "close of", w->idx_tmp);
	if (rename(w->idx_tmp, w->idx_final) < 0)
		set_error(w, -errno, "rename of", w->idx_tmp);
	dfd = open(w->dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd >= 0) {
		if (fsync(dfd) < 0)
			set_error(w, -errno, "sync of directory", w->dir);
		close(dfd);
	}
	io_destroy(w->ctx);
	ret = w->err;
	if (st)
		*st = w->st;
	for (unsigned int i = 0; i < w->qd; i++)
		free(w->slots[i].buf);
	free(w->slots);
	free(w->events);
	free(w->idx_buf);
	XXH3_freeState(w->xxh);
	free((char *)(uintptr_t)w->opt.detector);
	free(w);
	return ret;
}
