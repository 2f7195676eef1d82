// SPDX-License-Identifier: GPL-2.0
/* pebbled archive reader; see archive_reader.h. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <xxhash.h>
#include "archive_reader.h"

struct seg {
	uint32_t no;
	char *path;
};

struct pb_archive_reader {
	uint32_t run;
	int single;			/* opened on one segment file */
	struct seg *segs;
	size_t nsegs;

	struct pb_ar_idx_entry *idx;
	uint64_t nidx;
	int idx_usable;
	int idx_sorted;

	/* iteration */
	size_t cur;
	int fd;
	uint64_t size, off, align;

	unsigned char *buf;
	size_t bufcap;
	struct pb_ar_stats st;
};

static ssize_t pread_full(int fd, void *buf, size_t len, uint64_t off)
{
	size_t done = 0;

	while (done < len) {
		ssize_t n = pread(fd, (char *)buf + done, len - done, (off_t)(off + done));

		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		if (n == 0)
			break;
		done += (size_t)n;
	}
	return (ssize_t)done;
}

static int grow(struct pb_archive_reader *r, size_t len)
{
	unsigned char *b;

	if (len <= r->bufcap)
		return 0;
	b = realloc(r->buf, len);
	if (!b)
		return -ENOMEM;
	r->buf = b;
	r->bufcap = len;
	return 0;
}

static int seg_header_valid(const struct pb_ar_seg_header *h)
{
	return !memcmp(h->magic, PB_AR_SEG_MAGIC, 8) && h->version == PB_AR_VERSION &&
	       h->checksum == XXH3_64bits(h, offsetof(struct pb_ar_seg_header, checksum)) &&
	       h->header_size >= sizeof(*h) && h->align >= 64 &&
	       !(h->align & (h->align - 1));
}

static int cmp_seg(const void *a, const void *b)
{
	const struct seg *x = a, *y = b;

	return x->no < y->no ? -1 : x->no > y->no;
}

static int add_seg(struct pb_archive_reader *r, const char *path, uint32_t no)
{
	struct seg *s = realloc(r->segs, (r->nsegs + 1) * sizeof(*s));

	if (!s)
		return -ENOMEM;
	r->segs = s;
	s[r->nsegs].no = no;
	s[r->nsegs].path = strdup(path);
	if (!s[r->nsegs].path)
		return -ENOMEM;
	r->nsegs++;
	return 0;
}

/* Parse "run%06u-s%05u.pseg" exactly; 1 if it matches. */
static int parse_seg_name(const char *name, uint32_t *run, uint32_t *seg)
{
	unsigned int a, b;
	char want[64];

	if (sscanf(name, "run%u-s%u.pseg", &a, &b) != 2)
		return 0;
	snprintf(want, sizeof(want), PB_AR_SEG_FMT, a, b);
	if (strcmp(want, name))
		return 0;
	*run = a;
	*seg = b;
	return 1;
}

static int parse_idx_name(const char *name, uint32_t *run)
{
	unsigned int a;
	char want[64];

	if (sscanf(name, "run%u.pidx", &a) != 1)
		return 0;
	snprintf(want, sizeof(want), PB_AR_IDX_FMT, a);
	if (strcmp(want, name))
		return 0;
	*run = a;
	return 1;
}

static void load_index(struct pb_archive_reader *r, const char *path)
{
	struct pb_ar_idx_header h;
	struct stat sb;
	uint64_t n;
	ssize_t got;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0) {
		r->st.index_missing = 1;
		return;
	}
	if (fstat(fd, &sb) < 0 || pread_full(fd, &h, sizeof(h), 0) != (ssize_t)sizeof(h) ||
	    memcmp(h.magic, PB_AR_IDX_MAGIC, 8) || h.version != PB_AR_VERSION ||
	    h.entry_size != sizeof(struct pb_ar_idx_entry) || h.header_size < sizeof(h) ||
	    h.run != r->run ||
	    h.checksum != XXH3_64bits(&h, offsetof(struct pb_ar_idx_header, checksum)) ||
	    (uint64_t)sb.st_size < h.header_size) {
		r->st.index_bad = 1;
		close(fd);
		return;
	}
	n = ((uint64_t)sb.st_size - h.header_size) / h.entry_size;
	r->st.index_partial = ((uint64_t)sb.st_size - h.header_size) % h.entry_size != 0;
	r->idx = n ? malloc(n * sizeof(*r->idx)) : NULL;
	if (n && !r->idx) {
		r->st.index_bad = 1;
		close(fd);
		return;
	}
	got = n ? pread_full(fd, r->idx, n * sizeof(*r->idx), h.header_size) : 0;
	close(fd);
	if (got < 0 || (uint64_t)got != n * sizeof(*r->idx)) {
		free(r->idx);
		r->idx = NULL;
		r->st.index_bad = 1;
		return;
	}
	r->nidx = n;
	r->st.index_entries = n;
	r->idx_usable = 1;
	r->idx_sorted = 1;
	for (uint64_t i = 1; i < n; i++)
		if (r->idx[i].seq <= r->idx[i - 1].seq)
			r->idx_sorted = 0;
}

static struct pb_archive_reader *reader_new(void)
{
	struct pb_archive_reader *r = calloc(1, sizeof(*r));

	if (r)
		r->fd = -1;
	return r;
}

/* Lowest run number found in @dir, -ENOENT if none. */
static int64_t lowest_run(const char *dir)
{
	int64_t best = -ENOENT;
	struct dirent *de;
	DIR *d = opendir(dir);

	if (!d)
		return -errno;
	while ((de = readdir(d))) {
		uint32_t run, seg;

		if (parse_seg_name(de->d_name, &run, &seg) || parse_idx_name(de->d_name, &run))
			if (best < 0 || run < best)
				best = run;
	}
	closedir(d);
	return best;
}

int pb_ar_open_run(struct pb_archive_reader **rp, const char *dir, uint32_t run)
{
	struct pb_archive_reader *r;
	char path[PATH_MAX], name[64], tmpname[64];
	struct dirent *de;
	int have_idx = 0, ret = 0;
	DIR *d;

	if (!rp || !dir)
		return -EINVAL;
	d = opendir(dir);
	if (!d)
		return -errno;
	r = reader_new();
	if (!r) {
		closedir(d);
		return -ENOMEM;
	}
	r->run = run;
	snprintf(tmpname, sizeof(tmpname), "run%06u", run);
	while (!ret && (de = readdir(d))) {
		uint32_t rn, sn;
		size_t l = strlen(de->d_name);

		if (parse_seg_name(de->d_name, &rn, &sn) && rn == run) {
			if (snprintf(path, sizeof(path), "%s/%s", dir, de->d_name) >= (int)sizeof(path))
				ret = -ENAMETOOLONG;
			else
				ret = add_seg(r, path, sn);
		} else if (parse_idx_name(de->d_name, &rn) && rn == run) {
			have_idx = 1;
		} else if (l > 4 && !strcmp(de->d_name + l - 4, PB_AR_TMP_SUFFIX) &&
			   !strncmp(de->d_name, tmpname, strlen(tmpname))) {
			r->st.tmp_files++;
		}
	}
	closedir(d);
	if (ret) {
		pb_ar_close(r);
		return ret;
	}
	if (!r->nsegs && !have_idx) {
		pb_ar_close(r);
		return -ENOENT;
	}
	if (r->nsegs)
		qsort(r->segs, r->nsegs, sizeof(*r->segs), cmp_seg);
	r->st.segments = r->nsegs;
	if (r->nsegs)
		r->st.missing_segments = (uint64_t)r->segs[r->nsegs - 1].no + 1 - r->nsegs;
	snprintf(name, sizeof(name), PB_AR_IDX_FMT, run);
	if (snprintf(path, sizeof(path), "%s/%s", dir, name) >= (int)sizeof(path)) {
		pb_ar_close(r);
		return -ENAMETOOLONG;
	}
	load_index(r, path);
	*rp = r;
	return 0;
}

int pb_ar_open(struct pb_archive_reader **rp, const char *path)
{
	struct pb_archive_reader *r;
	struct pb_ar_seg_header h;
	struct stat sb;
	int64_t run;
	int fd, ret;

	if (!rp || !path)
		return -EINVAL;
	if (stat(path, &sb) < 0)
		return -errno;
	if (S_ISDIR(sb.st_mode)) {
		run = lowest_run(path);
		if (run < 0)
			return (int)run;
		return pb_ar_open_run(rp, path, (uint32_t)run);
	}
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	r = reader_new();
	if (!r) {
		close(fd);
		return -ENOMEM;
	}
	r->single = 1;
	if (pread_full(fd, &h, sizeof(h), 0) == (ssize_t)sizeof(h) && seg_header_valid(&h)) {
		r->run = h.run;
		ret = add_seg(r, path, h.segment);
	} else {
		ret = add_seg(r, path, 0);
	}
	close(fd);
	if (ret) {
		pb_ar_close(r);
		return ret;
	}
	r->st.segments = 1;
	*rp = r;
	return 0;
}

uint32_t pb_ar_run(const struct pb_archive_reader *r)
{
	return r->run;
}

int pb_ar_segment_header(struct pb_archive_reader *r, unsigned int i,
			 struct pb_ar_seg_header *h)
{
	ssize_t n;
	int fd;

	if (!r || !h)
		return -EINVAL;
	if (i >= r->nsegs)
		return -ENOENT;
	fd = open(r->segs[i].path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	memset(h, 0, sizeof(*h));
	n = pread_full(fd, h, sizeof(*h), 0);
	close(fd);
	if (n < 0)
		return (int)n;
	return n == (ssize_t)sizeof(*h) && seg_header_valid(h) ? 0 : -EBADMSG;
}

static uint64_t span(uint64_t len, uint64_t align)
{
	uint64_t n = sizeof(struct pb_ar_rec_header) + len;

	return (n + align - 1) / align * align;
}

static int seg_begin(struct pb_archive_reader *r)
{
	struct pb_ar_seg_header h;
	struct stat sb;
	int fd = open(r->segs[r->cur].path, O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return -errno;
	if (fstat(fd, &sb) < 0) {
		int e = -errno;

		close(fd);
		return e;
	}
	r->fd = fd;
	r->size = (uint64_t)sb.st_size;
	if (pread_full(fd, &h, sizeof(h), 0) == (ssize_t)sizeof(h) && seg_header_valid(&h)) {
		r->off = h.header_size;
		r->align = h.align;
	} else {
		r->st.bad_segment_headers++;
		r->off = PB_AR_SEG_HEADER_SIZE;
		r->align = PB_AR_ALIGN;
	}
	return 0;
}

/* read_record(): the rest of the segment is zeros (internal status). */
#define AR_ZERO_TAIL	(1U << 31)

static int is_zero(const void *p, size_t n)
{
	const unsigned char *c = p;

	for (size_t i = 0; i < n; i++)
		if (c[i])
			return 0;
	return 1;
}

/*
 * Read the record at @off of @fd (file size @size) into @rec; returns the
 * offset just after it (or where the next valid header starts), -errno.
 */
static int64_t read_record(struct pb_archive_reader *r, int fd, uint64_t size, uint64_t off,
			   uint64_t align, struct pb_ar_rec *rec)
{
	struct pb_ar_rec_header h;
	uint64_t remain = size - off, len, next;
	ssize_t n;

	rec->offset = off;
	if (remain < sizeof(h)) {
		rec->status = PB_AR_TRUNCATED;
		return (int64_t)size;
	}
	n = pread_full(fd, &h, sizeof(h), off);
	if (n < 0)
		return n;
	if (!pb_ar_rec_header_valid(&h)) {
		struct pb_ar_rec_header t;
		int zeros = is_zero(&h, sizeof(h));

		for (next = off + align; next + sizeof(t) <= size; next += align) {
			n = pread_full(fd, &t, sizeof(t), next);
			if (n < 0)
				return n;
			if (pb_ar_rec_header_valid(&t))
				break;
			if (zeros && !is_zero(&t, sizeof(t)))
				zeros = 0;
		}
		if (next > size)
			next = size;
		if (next + sizeof(t) > size)
			next = size;
		if (zeros && next == size) {
			/*
			 * Zeros up to the end: the preallocated, never written
			 * tail of a segment a crash left behind. The end of the
			 * data, not a damaged record.
			 */
			rec->status = AR_ZERO_TAIL;
			return (int64_t)size;
		}
		rec->status = PB_AR_BAD_HEADER;
		rec->payload_len = (size_t)(next - off);
		return (int64_t)next;
	}
	rec->hdr = h;
	len = h.length;
	if (len > remain - sizeof(h)) {
		len = remain - sizeof(h);
		rec->status |= PB_AR_TRUNCATED;
	}
	if (grow(r, len ? (size_t)len : 1))
		return -ENOMEM;
	n = pread_full(fd, r->buf, (size_t)len, off + sizeof(h));
	if (n < 0)
		return n;
	if ((uint64_t)n < len) {
		len = (uint64_t)n;
		rec->status |= PB_AR_TRUNCATED;
	}
	rec->payload = r->buf;
	rec->payload_len = (size_t)len;
	if (rec->status & PB_AR_TRUNCATED)
		return (int64_t)size;
	if (XXH3_64bits(r->buf, (size_t)len) != h.checksum)
		rec->status |= PB_AR_BAD_CHECKSUM;
	next = off + span(h.length, align);
	return (int64_t)(next > size ? size : next);
}

int pb_ar_next(struct pb_archive_reader *r, struct pb_ar_rec *rec)
{
	int64_t next;
	int ret;

	if (!r || !rec)
		return -EINVAL;
	for (;;) {
		if (r->fd < 0) {
			if (r->cur >= r->nsegs)
				return 0;
			ret = seg_begin(r);
			if (ret)
				return ret;
		}
		if (r->off >= r->size) {
			close(r->fd);
			r->fd = -1;
			r->cur++;
			continue;
		}
		memset(rec, 0, sizeof(*rec));
		rec->segment = r->segs[r->cur].no;
		next = read_record(r, r->fd, r->size, r->off, r->align, rec);
		if (next < 0)
			return (int)next;
		r->off = (uint64_t)next;
		if (rec->status == AR_ZERO_TAIL) {
			r->st.zero_tails++;
			continue;
		}
		r->st.records++;
		if (!rec->status)
			r->st.ok++;
		if (rec->status & PB_AR_BAD_CHECKSUM)
			r->st.bad_checksum++;
		if (rec->status & PB_AR_TRUNCATED)
			r->st.truncated++;
		if (rec->status & PB_AR_BAD_HEADER)
			r->st.bad_header++;
		return 1;
	}
}

void pb_ar_rewind(struct pb_archive_reader *r)
{
	if (r->fd >= 0)
		close(r->fd);
	r->fd = -1;
	r->cur = 0;
}

int pb_ar_index_entry(const struct pb_archive_reader *r, uint64_t i, struct pb_ar_idx_entry *e)
{
	if (!r || !e)
		return -EINVAL;
	if (!r->idx_usable)
		return -ENODATA;
	if (i >= r->nidx)
		return -ENOENT;
	*e = r->idx[i];
	return 0;
}

int pb_ar_lookup(struct pb_archive_reader *r, uint64_t seq, struct pb_ar_rec *rec)
{
	const struct pb_ar_idx_entry *e = NULL;
	const struct seg *s = NULL;
	struct stat sb;
	int64_t next;
	int fd;

	if (!r || !rec)
		return -EINVAL;
	if (!r->idx_usable)
		return -ENODATA;
	if (r->idx_sorted) {
		uint64_t lo = 0, hi = r->nidx;

		while (lo < hi) {
			uint64_t mid = lo + (hi - lo) / 2;

			if (r->idx[mid].seq < seq)
				lo = mid + 1;
			else
				hi = mid;
		}
		if (lo < r->nidx && r->idx[lo].seq == seq)
			e = &r->idx[lo];
	} else {
		for (uint64_t i = 0; i < r->nidx && !e; i++)
			if (r->idx[i].seq == seq)
				e = &r->idx[i];
	}
	if (!e)
		return -ENOENT;
	memset(rec, 0, sizeof(*rec));
	rec->segment = e->segment;
	rec->offset = e->offset;
	for (size_t i = 0; i < r->nsegs; i++)
		if (r->segs[i].no == e->segment)
			s = &r->segs[i];
	if (!s) {
		/* The index lists it but its segment is gone. */
		rec->status = PB_AR_TRUNCATED;
		return 0;
	}
	fd = open(s->path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	if (fstat(fd, &sb) < 0) {
		int err = -errno;

		close(fd);
		return err;
	}
	if ((uint64_t)sb.st_size <= e->offset) {
		close(fd);
		rec->status = PB_AR_TRUNCATED;
		return 0;
	}
	next = read_record(r, fd, (uint64_t)sb.st_size, e->offset, PB_AR_ALIGN, rec);
	close(fd);
	if (next < 0)
		return (int)next;
	if (rec->hdr.magic == PB_AR_REC_MAGIC &&
	    (rec->hdr.seq != e->seq || rec->hdr.length != e->length ||
	     rec->hdr.pulse_id != e->pulse_id))
		rec->status |= PB_AR_INDEX_MISMATCH;
	return 0;
}

void pb_ar_get_stats(const struct pb_archive_reader *r, struct pb_ar_stats *st)
{
	if (r && st)
		*st = r->st;
}

void pb_ar_close(struct pb_archive_reader *r)
{
	if (!r)
		return;
	if (r->fd >= 0)
		close(r->fd);
	for (size_t i = 0; i < r->nsegs; i++)
		free(r->segs[i].path);
	free(r->segs);
	free(r->idx);
	free(r->buf);
	free(r);
}
