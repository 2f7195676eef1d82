// SPDX-License-Identifier: GPL-2.0
/* pebbled results file; see results.h. */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "archive_format.h"
#include "results.h"

#define PB_RESULTS_BLOCK	(64 * 1024)	/* written at once, whole rows only */
#define PB_RESULTS_LINE		1024		/* longest row: 14 + 16 ROI fields */

struct pb_results {
	int fd;
	char dir[4096];
	char tmp[4200];
	uint32_t run;
	unsigned int nroi;
	char buf[PB_RESULTS_BLOCK];
	size_t len;		/* bytes in buf, whole rows */
	uint64_t buffered;	/* rows in buf */
	off_t off;		/* file size: the end of its last complete row */
	struct pb_results_stats st;
};

/* Write every byte of @p; 0 or -errno (a short write that makes no progress is -ENOSPC). */
static int write_all(int fd, const char *p, size_t n)
{
	while (n) {
		ssize_t w = write(fd, p, n);

		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0)
			return -errno;
		if (w == 0)
			return -ENOSPC;
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

/*
 * Put the buffered rows in the file. On failure the file is cut back to
 * its last complete row, the buffered rows are lost and the error sticks.
 * Returns the rows written, or -errno.
 */
static int flush_rows(struct pb_results *r)
{
	uint64_t n = r->buffered;
	int ret;

	if (!r->len)
		return 0;
	ret = write_all(r->fd, r->buf, r->len);
	if (ret) {
		if (ftruncate(r->fd, r->off) < 0) {
			/* the cut line stays; the lost count still says so */
		}
		r->st.err = ret;
		r->st.lost += n;
	} else {
		r->off += (off_t)r->len;
		r->st.rows += n;
	}
	r->len = 0;
	r->buffered = 0;
	return ret ? ret : (int)n;
}

/* Add one line (with its '\n') to the block; 0 or -errno. */
static int add_line(struct pb_results *r, const char *line, size_t n, int is_row)
{
	int ret = 0;

	if (r->st.err) {
		r->st.lost += is_row;
		return r->st.err;
	}
	if (r->len + n > sizeof(r->buf)) {
		ret = flush_rows(r);
		if (ret < 0) {
			r->st.lost += is_row;
			return ret;
		}
	}
	memcpy(r->buf + r->len, line, n);
	r->len += n;
	r->buffered += is_row;
	return ret;
}

int pb_results_open(struct pb_results **out, const char *dir, uint32_t run, unsigned int nroi)
{
	struct pb_results *r;
	char line[PB_RESULTS_LINE];
	size_t n;

	if (!out || !dir || strlen(dir) >= sizeof(r->dir))
		return -EINVAL;
	if (mkdir(dir, 0755) < 0 && errno != EEXIST)
		return -errno;
	r = calloc(1, sizeof(*r));
	if (!r)
		return -ENOMEM;
	r->nroi = nroi > PB_CONFIG_MAX_ROI ? PB_CONFIG_MAX_ROI : nroi;
	r->run = run;
	snprintf(r->dir, sizeof(r->dir), "%s", dir);
	snprintf(r->tmp, sizeof(r->tmp), "%s/" PB_RESULTS_FMT "%s", dir, run, PB_AR_TMP_SUFFIX);
	r->fd = open(r->tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (r->fd < 0) {
		int e = -errno;

		free(r);
		return e;
	}
	n = (size_t)snprintf(line, sizeof(line),
			     "seq,pulse_id,ts_sec,ts_nsec,transition,dest,damage,length,npix,sum,min,max,mean,payload");
	for (unsigned int k = 0; k < r->nroi; k++)
		n += (size_t)snprintf(line + n, sizeof(line) - n, ",roi%u_sum", k);
	line[n++] = '\n';
	add_line(r, line, n, 0);
	*out = r;
	return 0;
}

int pb_results_write(struct pb_results *r, const struct pb_event *ev, const struct pb_proc_result *res)
{
	static const char *const pl[] = { "unchecked", "ok", "bad" };
	char line[PB_RESULTS_LINE];
	int n;

	if (!r || !ev || !res)
		return -EINVAL;
	n = snprintf(line, sizeof(line),
		     "%" PRIu64 ",%" PRIu64 ",%u,%u,%u,%u,%u,%u,%" PRIu64 ",%.17g,%.17g,%.17g,%.17g,%s",
		     ev->seq, ev->pulse_id, ev->ts_sec, ev->ts_nsec, ev->transition, ev->dest,
		     ev->damage, ev->len, res->npix, res->sum, res->min, res->max, res->mean,
		     pl[res->payload >= 0 && res->payload <= 2 ? res->payload : 0]);
	for (unsigned int k = 0; k < r->nroi && n > 0 && (size_t)n < sizeof(line); k++)
		n += snprintf(line + n, sizeof(line) - (size_t)n, ",%.17g",
			      k < res->nroi ? res->roi_sum[k] : 0.0);
	if (n < 0 || (size_t)n >= sizeof(line) - 1)
		return -EOVERFLOW;	/* cannot happen with %.17g fields */
	line[n++] = '\n';
	return add_line(r, line, (size_t)n, 1);
}

/* fsync() of the directory @dir, so that a rename in it is durable. */
static int sync_dir(const char *dir)
{
	int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC), ret = 0;

	if (fd < 0)
		return -errno;
	if (fsync(fd) < 0)
		ret = -errno;
	close(fd);
	return ret;
}

int pb_results_close(struct pb_results *r, struct pb_results_stats *st)
{
	char final[sizeof(r->st.path)];
	int ret;

	if (!r) {
		if (st)
			memset(st, 0, sizeof(*st));
		return 0;
	}
	if (!r->st.err)
		flush_rows(r);
	if (!r->st.err && fsync(r->fd) < 0)
		r->st.err = -errno;
	if (close(r->fd) < 0 && !r->st.err)
		r->st.err = -errno;
	if (r->st.err)
		snprintf(final, sizeof(final), "%s/" PB_RESULTS_INCOMPLETE_FMT, r->dir, r->run);
	else
		snprintf(final, sizeof(final), "%s/" PB_RESULTS_FMT, r->dir, r->run);
	if (rename(r->tmp, final) < 0) {
		if (!r->st.err)
			r->st.err = -errno;
		snprintf(r->st.path, sizeof(r->st.path), "%s", r->tmp);
	} else {
		snprintf(r->st.path, sizeof(r->st.path), "%s", final);
		ret = sync_dir(r->dir);
		if (ret && !r->st.err)
			r->st.err = ret;
	}
	ret = r->st.err;
	if (st)
		*st = r->st;
	free(r);
	return ret;
}
