// SPDX-License-Identifier: GPL-2.0
/*
 * Archive writer + reader: round trip across segment rotations (size and
 * frames), the O_DIRECT -> buffered fallback, directory errors, a file
 * size limit hit mid-run (EFBIG through RLIMIT_FSIZE: reported, counted,
 * earlier records stay readable and indexed), corrupted records, a
 * truncated last segment, a missing or damaged index; segment
 * preallocation (sized while written, cut back at close, fallocate
 * failures fall back to plain writes) and the zero tail a crash leaves.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <dirent.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <sys/wait.h>
#include <unistd.h>
#include "archive_writer.h"
#include "archive_reader.h"
#include "check_main.h"
#include "pb_test_util.h"

static char tmp[256];
static char run[512];

static void setup(void)
{
	pb_test_mkdtemp(tmp, sizeof(tmp), "archive");
	snprintf(run, sizeof(run), "%s/run", tmp);
}

static void teardown(void)
{
	pb_test_rmtree(tmp);
}

static void fill(uint64_t seq, unsigned char *p, size_t len)
{
	uint64_t x = seq * 0x9e3779b97f4a7c15ULL + 1;

	for (size_t i = 0; i < len; i++) {
		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		p[i] = (unsigned char)x;
	}
}

static size_t len_of(uint64_t seq)
{
	static const size_t lens[] = { 0, 1, 4032, 4033, 10000, 100000, 32, 8000 };

	return lens[seq % (sizeof(lens) / sizeof(lens[0]))];
}

static struct pb_aw_record rec_of(uint64_t seq)
{
	struct pb_aw_record r = {
		.seq = seq, .pulse_id = 1000 + 3 * seq, .ts_sec = 1100000000U + (uint32_t)seq,
		.ts_nsec = (uint32_t)seq * 7, .transition = seq == 0 ? 4 : 12,
		.damage = seq % 5 == 4 ? PB_DMG_EVT_GAP : 0,
	};
	return r;
}

static void opts_init(struct pb_aw_options *o)
{
	memset(o, 0, sizeof(*o));
	o->dir = run;
	o->run = 42;
	o->queue_depth = 4;
	o->max_payload = 100000;
	o->dtype = PB_DTYPE_UINT16;
	o->width = 64;
	o->height = 32;
	o->lanes = 2;
	o->detector = "emulated-pgp";
}

/* Write records 0..n-1; returns the writer's close status. */
static int write_run(const struct pb_aw_options *o, uint64_t n, struct pb_aw_stats *st)
{
	struct pb_archive_writer *w;
	unsigned char *buf = malloc(100000);

	ck_assert_ptr_nonnull(buf);
	ck_assert_int_eq(pb_aw_open(&w, o), 0);
	for (uint64_t s = 0; s < n; s++) {
		struct pb_aw_record r = rec_of(s);

		fill(s, buf, len_of(s));
		ck_assert_int_eq(pb_aw_write(w, &r, buf, len_of(s)), 0);
	}
	free(buf);
	return pb_aw_close(w, st);
}

static void check_record(const struct pb_ar_rec *rec, uint64_t seq)
{
	struct pb_aw_record r = rec_of(seq);
	unsigned char *want = malloc(len_of(seq) + 1);

	ck_assert_uint_eq(rec->status, 0);
	ck_assert_uint_eq(rec->hdr.seq, seq);
	ck_assert_uint_eq(rec->hdr.pulse_id, r.pulse_id);
	ck_assert_uint_eq(rec->hdr.ts_sec, r.ts_sec);
	ck_assert_uint_eq(rec->hdr.ts_nsec, r.ts_nsec);
	ck_assert_uint_eq(rec->hdr.transition, r.transition);
	ck_assert_uint_eq(rec->hdr.damage, r.damage);
	ck_assert_uint_eq(rec->hdr.length, len_of(seq));
	ck_assert_uint_eq(rec->payload_len, len_of(seq));
	ck_assert_uint_eq(rec->offset % PB_AR_ALIGN, 0);
	fill(seq, want, len_of(seq));
	if (len_of(seq))
		ck_assert_int_eq(memcmp(rec->payload, want, len_of(seq)), 0);
	free(want);
}

static void seg_path(char *out, size_t len, uint32_t seg)
{
	char name[64];

	snprintf(name, sizeof(name), PB_AR_SEG_FMT, 42U, seg);
	snprintf(out, len, "%s/%s", run, name);
}

static void idx_path(char *out, size_t len)
{
	char name[64];

	snprintf(name, sizeof(name), PB_AR_IDX_FMT, 42U);
	snprintf(out, len, "%s/%s", run, name);
}

START_TEST(round_trip_rotation)
{
	struct pb_aw_options o;
	struct pb_aw_stats st;
	struct pb_archive_reader *r;
	struct pb_ar_stats rs;
	struct pb_ar_rec rec;
	struct pb_ar_seg_header h;
	struct pb_ar_idx_entry e;
	uint64_t seq = 0, payload = 0;
	const uint64_t n = 40;

	opts_init(&o);
	o.segment_bytes = 256 * 1024;
	ck_assert_int_eq(write_run(&o, n, &st), 0);
	for (uint64_t s = 0; s < n; s++)
		payload += len_of(s);
	ck_assert_uint_eq(st.records, n);
	ck_assert_uint_eq(st.submitted, n);
	ck_assert_uint_eq(st.payload_bytes, payload);
	ck_assert_int_eq(st.direct, 1);
	ck_assert_int_eq(st.error, 0);
	ck_assert_uint_eq(st.io_errors, 0);
	ck_assert_uint_gt(st.rotations, 0);
	ck_assert_uint_eq(st.segments, st.rotations + 1);
	ck_assert_int_eq(pb_test_count_suffix(run, ".tmp"), 0);
	ck_assert_int_eq(pb_test_count_suffix(run, ".pseg"), (int)st.segments);

	/* every segment within the size limit (one record may exceed alone) */
	for (uint32_t s = 0; s < st.segments; s++) {
		char p[600];
		struct stat sb;

		seg_path(p, sizeof(p), s);
		ck_assert_int_eq(stat(p, &sb), 0);
		ck_assert_uint_le((uint64_t)sb.st_size, o.segment_bytes);
		ck_assert_uint_eq((uint64_t)sb.st_size % PB_AR_ALIGN, 0);
	}

	ck_assert_int_eq(pb_ar_open(&r, run), 0);
	ck_assert_uint_eq(pb_ar_run(r), 42);
	ck_assert_int_eq(pb_ar_segment_header(r, 0, &h), 0);
	ck_assert_uint_eq(h.version, PB_AR_VERSION);
	ck_assert_uint_eq(h.run, 42);
	ck_assert_uint_eq(h.segment, 0);
	ck_assert_uint_eq(h.dtype, PB_DTYPE_UINT16);
	ck_assert_uint_eq(h.width, 64);
	ck_assert_uint_eq(h.height, 32);
	ck_assert_uint_eq(h.lanes, 2);
	ck_assert_str_eq(h.detector, "emulated-pgp");
	ck_assert_uint_gt(h.created_ns, 1600000000ULL * 1000000000ULL);
	ck_assert_int_eq(pb_ar_segment_header(r, 1, &h), 0);
	ck_assert_uint_eq(h.segment, 1);
	ck_assert_int_eq(pb_ar_segment_header(r, 1000, &h), -ENOENT);

	while (pb_ar_next(r, &rec) == 1)
		check_record(&rec, seq++);
	ck_assert_uint_eq(seq, n);
	pb_ar_get_stats(r, &rs);
	ck_assert_uint_eq(rs.records, n);
	ck_assert_uint_eq(rs.ok, n);
	ck_assert_uint_eq(rs.segments, st.segments);
	ck_assert_uint_eq(rs.missing_segments, 0);
	ck_assert_uint_eq(rs.index_entries, n);
	ck_assert_int_eq(rs.index_missing, 0);

	/* random access through the index, backwards */
	for (uint64_t s = n; s-- > 0;) {
		ck_assert_int_eq(pb_ar_lookup(r, s, &rec), 0);
		check_record(&rec, s);
	}
	ck_assert_int_eq(pb_ar_lookup(r, n + 5, &rec), -ENOENT);
	ck_assert_int_eq(pb_ar_index_entry(r, 3, &e), 0);
	ck_assert_uint_eq(e.seq, 3);
	ck_assert_uint_eq(e.length, len_of(3));
	ck_assert_uint_eq(e.pulse_id, 1009);
	ck_assert_int_eq(pb_ar_index_entry(r, n, &e), -ENOENT);

	/* rewind reads it all again */
	pb_ar_rewind(r);
	ck_assert_int_eq(pb_ar_next(r, &rec), 1);
	check_record(&rec, 0);
	pb_ar_close(r);

	/* a single segment file can be opened on its own */
	{
		char p[600];
		uint64_t k = 0;

		seg_path(p, sizeof(p), 1);
		ck_assert_int_eq(pb_ar_open(&r, p), 0);
		while (pb_ar_next(r, &rec) == 1) {
			ck_assert_uint_eq(rec.segment, 1);
			ck_assert_uint_eq(rec.status, 0);
			k++;
		}
		ck_assert_uint_gt(k, 0);
		ck_assert_int_eq(pb_ar_lookup(r, 0, &rec), -ENODATA);
		pb_ar_close(r);
	}
}
END_TEST

START_TEST(rotation_by_frames)
{
	struct pb_aw_options o;
	struct pb_aw_stats st;
	struct pb_archive_reader *r;
	struct pb_ar_rec rec;
	uint64_t k = 0;

	opts_init(&o);
	o.segment_frames = 3;
	o.queue_depth = 1;
	ck_assert_int_eq(write_run(&o, 10, &st), 0);
	ck_assert_uint_eq(st.segments, 4);
	ck_assert_uint_eq(st.rotations, 3);
	ck_assert_int_eq(pb_ar_open(&r, run), 0);
	while (pb_ar_next(r, &rec) == 1) {
		ck_assert_uint_eq(rec.segment, k / 3);
		check_record(&rec, k++);
	}
	ck_assert_uint_eq(k, 10);
	pb_ar_close(r);
}
END_TEST

START_TEST(writev_and_limits)
{
	struct pb_aw_options o;
	struct pb_archive_writer *w;
	struct pb_archive_reader *r;
	struct pb_ar_rec rec;
	struct pb_aw_record ar = rec_of(1);
	unsigned char hdr[32], body[100];
	static unsigned char big[100001];
	struct iovec iov[2] = { { hdr, sizeof(hdr) }, { body, sizeof(body) } };
	struct pb_aw_stats st;

	memset(hdr, 0xaa, sizeof(hdr));
	memset(body, 0x55, sizeof(body));
	opts_init(&o);
	ck_assert_int_eq(pb_aw_open(&w, &o), 0);
	ck_assert_int_eq(pb_aw_writev(w, &ar, iov, 2), 0);
	/* too large: refused, not sticky */
	ar.seq = 2;
	ck_assert_int_eq(pb_aw_write(w, &ar, big, sizeof(big)), -EMSGSIZE);
	ck_assert_int_eq(pb_aw_write(w, NULL, big, 1), -EINVAL);
	ck_assert_int_eq(pb_aw_write(w, &ar, big, 10), 0);
	ck_assert_int_eq(pb_aw_flush(w), 0);
	pb_aw_get_stats(w, &st);
	ck_assert_uint_eq(st.records, 2);
	ck_assert_int_eq(pb_aw_close(w, NULL), 0);

	ck_assert_int_eq(pb_ar_open(&r, run), 0);
	ck_assert_int_eq(pb_ar_next(r, &rec), 1);
	ck_assert_uint_eq(rec.payload_len, 132);
	ck_assert_int_eq(memcmp(rec.payload, hdr, 32), 0);
	ck_assert_int_eq(memcmp((const char *)rec.payload + 32, body, 100), 0);
	ck_assert_int_eq(pb_ar_next(r, &rec), 1);
	ck_assert_uint_eq(rec.hdr.seq, 2);
	ck_assert_int_eq(pb_ar_next(r, &rec), 0);
	pb_ar_close(r);

	/* the same run cannot be written twice into one directory */
	ck_assert_int_eq(pb_aw_open(&w, &o), -EEXIST);
	o.queue_depth = 5000;
	ck_assert_int_eq(pb_aw_open(&w, &o), -EINVAL);
	ck_assert_int_eq(pb_aw_open(&w, NULL), -EINVAL);
	ck_assert_int_eq(pb_aw_close(NULL, NULL), 0);
}
END_TEST

START_TEST(empty_run)
{
	struct pb_aw_options o;
	struct pb_archive_writer *w;
	struct pb_archive_reader *r;
	struct pb_ar_rec rec;
	struct pb_ar_stats rs;
	char p[600];

	opts_init(&o);
	ck_assert_int_eq(pb_aw_open(&w, &o), 0);
	ck_assert_int_eq(pb_aw_close(w, NULL), 0);
	ck_assert_int_eq(pb_test_count_suffix(run, ".pseg"), 0);
	idx_path(p, sizeof(p));
	ck_assert_int_eq(access(p, F_OK), 0);
	ck_assert_int_eq(pb_ar_open(&r, run), 0);
	ck_assert_int_eq(pb_ar_next(r, &rec), 0);
	pb_ar_get_stats(r, &rs);
	ck_assert_uint_eq(rs.index_entries, 0);
	ck_assert_int_eq(pb_ar_lookup(r, 0, &rec), -ENOENT);
	pb_ar_close(r);
	/* a directory without any run */
	ck_assert_int_eq(pb_ar_open(&r, tmp), -ENOENT);
	snprintf(p, sizeof(p), "%s/nothing-here", tmp);
	ck_assert_int_eq(pb_ar_open(&r, p), -ENOENT);
}
END_TEST

START_TEST(bad_directories)
{
	struct pb_aw_options o;
	struct pb_archive_writer *w = NULL;
	char file[300], bad[400];

	opts_init(&o);
	/* a path under a regular file: ENOTDIR (works as root too) */
	snprintf(file, sizeof(file), "%s/file", tmp);
	pb_test_write_file(file, "x");
	snprintf(bad, sizeof(bad), "%s/dir", file);
	o.dir = bad;
	ck_assert_int_eq(pb_aw_open(&w, &o), -ENOTDIR);
	/* a parent that does not exist: ENOENT */
	snprintf(bad, sizeof(bad), "%s/no/such/parent", tmp);
	ck_assert_int_eq(pb_aw_open(&w, &o), -ENOENT);
	/* the directory itself is a regular file */
	o.dir = file;
	ck_assert_int_eq(pb_aw_open(&w, &o), -ENOTDIR);
	ck_assert_ptr_null(w);
}
END_TEST

/* open(2) of a filesystem that refuses O_DIRECT. */
static int no_direct_open(const char *path, int flags, mode_t mode)
{
	if (flags & O_DIRECT) {
		errno = EINVAL;
		return -1;
	}
	return open(path, flags, mode);
}

static int log_calls, log_err;
static char log_text[512];

static int falloc_fd = -1;		/* the file of the last failing fallocate */
static off_t falloc_off;		/* ... and its size before that call */
static off_t size_at_log = -1;		/* falloc_fd's size when the writer logged */

static void log_cb(void *ctx, int err, const char *msg)
{
	struct stat sb;

	(void)ctx;
	log_calls++;
	log_err = err;
	snprintf(log_text, sizeof(log_text), "%s", msg);
	if (falloc_fd >= 0 && fstat(falloc_fd, &sb) == 0)
		size_at_log = sb.st_size;
}

START_TEST(odirect_fallback)
{
	struct pb_aw_options o;
	struct pb_aw_stats st;
	struct pb_archive_reader *r;
	struct pb_ar_rec rec;
	uint64_t k = 0;

	opts_init(&o);
	o.open_fn = no_direct_open;
	o.log = log_cb;
	o.segment_frames = 4;		/* several segments: reported once */
	log_calls = 0;
	ck_assert_int_eq(write_run(&o, 12, &st), 0);
	ck_assert_int_eq(st.direct, 0);
	ck_assert_uint_eq(st.segments, 3);
	ck_assert_int_eq(log_calls, 1);
	ck_assert_int_eq(log_err, -EINVAL);
	ck_assert_ptr_nonnull(strstr(log_text, "refuses O_DIRECT"));
	ck_assert_int_eq(pb_ar_open(&r, run), 0);
	while (pb_ar_next(r, &rec) == 1)
		check_record(&rec, k++);
	ck_assert_uint_eq(k, 12);
	pb_ar_close(r);
}
END_TEST

struct efbig_result {
	int first_err;		/* first non-zero pb_aw_write() result */
	int later_err;		/* a write after that (sticky) */
	int close_ret;
	uint64_t accepted;	/* writes that returned 0 */
	struct pb_aw_stats st;
	int log_calls;
	int log_err;
};

/*
 * In a child: limit files to @limit bytes (SIGXFSZ ignored, so writes
 * fail with EFBIG, as a full disk fails with ENOSPC), write 8000-byte
 * records (8192 on disk) until the writer reports the error.
 */
static void efbig_child(int fd, rlim_t limit, int direct)
{
	struct efbig_result res = { 0 };
	struct pb_aw_options o;
	struct pb_archive_writer *w;
	struct rlimit rl = { limit, limit };
	unsigned char buf[8000];

	signal(SIGXFSZ, SIG_IGN);
	opts_init(&o);
	o.queue_depth = 4;
	o.log = log_cb;
	if (!direct)
		o.open_fn = no_direct_open;
	log_calls = 0;
	if (pb_aw_open(&w, &o) != 0)
		_exit(2);
	if (setrlimit(RLIMIT_FSIZE, &rl) != 0)
		_exit(3);
	for (uint64_t s = 0; s < 50; s++) {
		struct pb_aw_record r = rec_of(s);
		int ret;

		fill(s, buf, sizeof(buf));
		ret = pb_aw_write(w, &r, buf, sizeof(buf));
		if (ret == 0) {
			res.accepted++;
			continue;
		}
		res.first_err = ret;
		res.later_err = pb_aw_write(w, &r, buf, sizeof(buf));
		break;
	}
	res.close_ret = pb_aw_close(w, &res.st);
	res.log_calls = log_calls;
	res.log_err = log_err;
	if (write(fd, &res, sizeof(res)) != (ssize_t)sizeof(res))
		_exit(4);
	_exit(0);
}

static void efbig_case(int direct)
{
	/* header 4096 + 5 records of 8192 + half of the 6th */
	const rlim_t limit = 4096 + 5 * 8192 + 4096;
	struct efbig_result res;
	struct pb_archive_reader *r;
	struct pb_ar_stats rs;
	struct pb_ar_rec rec;
	struct stat sb;
	char p[600];
	int pfd[2], status;
	uint64_t k = 0;
	pid_t pid;

	ck_assert_int_eq(pipe(pfd), 0);
	pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		close(pfd[0]);
		efbig_child(pfd[1], limit, direct);
	}
	close(pfd[1]);
	ck_assert_int_eq(read(pfd[0], &res, sizeof(res)), (ssize_t)sizeof(res));
	close(pfd[0]);
	ck_assert_int_eq(waitpid(pid, &status, 0), pid);
	ck_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0);

	ck_assert_int_eq(res.first_err, -EFBIG);
	ck_assert_int_eq(res.later_err, -EFBIG);	/* sticky */
	ck_assert_int_eq(res.close_ret, -EFBIG);
	ck_assert_int_eq(res.st.error, -EFBIG);
	ck_assert_uint_ge(res.st.io_errors, 1);
	ck_assert_uint_eq(res.st.records, 5);
	ck_assert_uint_ge(res.accepted, 5);
	ck_assert_uint_eq(res.st.segments, 1);
	/*
	 * the error is logged once, plus one note: the O_DIRECT fallback in
	 * buffered mode; the failed preallocation (EFBIG too) with O_DIRECT
	 */
	ck_assert_int_eq(res.log_calls, 2);
	ck_assert_int_eq(res.log_err, -EFBIG);

	/* everything before the error is there, whole, and indexed */
	ck_assert_int_eq(pb_test_count_suffix(run, ".tmp"), 0);
	seg_path(p, sizeof(p), 0);
	ck_assert_int_eq(stat(p, &sb), 0);
	ck_assert_int_eq(sb.st_size, 4096 + 5 * 8192);
	ck_assert_int_eq(pb_ar_open(&r, run), 0);
	while (pb_ar_next(r, &rec) == 1) {
		ck_assert_uint_eq(rec.status, 0);
		ck_assert_uint_eq(rec.hdr.seq, k);
		ck_assert_uint_eq(rec.payload_len, 8000);
		k++;
	}
	ck_assert_uint_eq(k, 5);
	pb_ar_get_stats(r, &rs);
	ck_assert_uint_eq(rs.index_entries, 5);
	ck_assert_uint_eq(rs.truncated + rs.bad_header + rs.bad_checksum, 0);
	ck_assert_int_eq(pb_ar_lookup(r, 4, &rec), 0);
	ck_assert_uint_eq(rec.status, 0);
	ck_assert_int_eq(pb_ar_lookup(r, 5, &rec), -ENOENT);
	pb_ar_close(r);
}

START_TEST(file_size_limit_direct)
{
	efbig_case(1);
}
END_TEST

START_TEST(file_size_limit_buffered)
{
	efbig_case(0);
}
END_TEST

static void flip_byte(const char *path, off_t off)
{
	unsigned char b;
	int fd = open(path, O_RDWR);

	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(pread(fd, &b, 1, off), 1);
	b ^= 0x80;
	ck_assert_int_eq(pwrite(fd, &b, 1, off), 1);
	close(fd);
}

START_TEST(corrupted_records)
{
	struct pb_aw_options o;
	struct pb_aw_stats st;
	struct pb_archive_reader *r;
	struct pb_ar_idx_entry e3, e5;
	struct pb_ar_stats rs;
	struct pb_ar_rec rec;
	char p[600];
	uint64_t seen[16] = { 0 }, k = 0;

	opts_init(&o);
	ck_assert_int_eq(write_run(&o, 8, &st), 0);
	ck_assert_int_eq(pb_ar_open(&r, run), 0);
	ck_assert_int_eq(pb_ar_index_entry(r, 3, &e3), 0);
	ck_assert_int_eq(pb_ar_index_entry(r, 5, &e5), 0);
	pb_ar_close(r);
	seg_path(p, sizeof(p), 0);
	/* record 3: one payload bit; record 5: one bit of its header */
	flip_byte(p, (off_t)(e3.offset + 64 + 100));
	flip_byte(p, (off_t)(e5.offset + 16));

	ck_assert_int_eq(pb_ar_open(&r, run), 0);
	while (pb_ar_next(r, &rec) == 1) {
		ck_assert_uint_lt(k, 16);
		if (rec.status & PB_AR_BAD_HEADER)
			seen[k] = 1000 + rec.offset;
		else
			seen[k] = rec.hdr.seq * 10 + rec.status;
		k++;
	}
	/* 0,1,2 ok; 3 bad checksum; 4 ok; bad header at 5; resync; 6, 7 ok */
	ck_assert_uint_eq(k, 8);
	ck_assert_uint_eq(seen[0], 0);
	ck_assert_uint_eq(seen[3], 30 + PB_AR_BAD_CHECKSUM);
	ck_assert_uint_eq(seen[4], 40);
	ck_assert_uint_eq(seen[5], 1000 + e5.offset);
	ck_assert_uint_eq(seen[6], 60);
	ck_assert_uint_eq(seen[7], 70);
	pb_ar_get_stats(r, &rs);
	ck_assert_uint_eq(rs.ok, 6);
	ck_assert_uint_eq(rs.bad_checksum, 1);
	ck_assert_uint_eq(rs.bad_header, 1);
	/* and through the index */
	ck_assert_int_eq(pb_ar_lookup(r, 3, &rec), 0);
	ck_assert_uint_eq(rec.status, PB_AR_BAD_CHECKSUM);
	ck_assert_int_eq(pb_ar_lookup(r, 5, &rec), 0);
	ck_assert_uint_eq(rec.status, PB_AR_BAD_HEADER);
	ck_assert_int_eq(pb_ar_lookup(r, 6, &rec), 0);
	check_record(&rec, 6);
	pb_ar_close(r);

	/* a damaged segment header is reported, records still read */
	flip_byte(p, 20);
	ck_assert_int_eq(pb_ar_open(&r, run), 0);
	{
		struct pb_ar_seg_header h;

		ck_assert_int_eq(pb_ar_segment_header(r, 0, &h), -EBADMSG);
	}
	k = 0;
	while (pb_ar_next(r, &rec) == 1)
		k++;
	ck_assert_uint_eq(k, 8);
	pb_ar_get_stats(r, &rs);
	ck_assert_uint_eq(rs.bad_segment_headers, 1);
	pb_ar_close(r);
}
END_TEST

START_TEST(truncated_last_segment)
{
	struct pb_aw_options o;
	struct pb_aw_stats st;
	struct pb_archive_reader *r;
	struct pb_ar_idx_entry last;
	struct pb_ar_stats rs;
	struct pb_ar_rec rec;
	char p[600];
	uint64_t k = 0, n = 12;

	opts_init(&o);
	o.segment_frames = 5;		/* segments 0, 1, 2 (2 records) */
	ck_assert_int_eq(write_run(&o, n, &st), 0);
	ck_assert_int_eq(pb_ar_open(&r, run), 0);
	ck_assert_int_eq(pb_ar_index_entry(r, n - 1, &last), 0);
	pb_ar_close(r);
	ck_assert_uint_eq(last.segment, 2);
	ck_assert_uint_gt(last.length, 200);
	seg_path(p, sizeof(p), 2);
	/* cut inside the last record's payload */
	ck_assert_int_eq(truncate(p, (off_t)(last.offset + 64 + 200)), 0);

	ck_assert_int_eq(pb_ar_open(&r, run), 0);
	while (pb_ar_next(r, &rec) == 1) {
		if (k < n - 1) {
			check_record(&rec, k);
		} else {
			ck_assert_uint_eq(rec.status, PB_AR_TRUNCATED);
			ck_assert_uint_eq(rec.hdr.seq, n - 1);
			ck_assert_uint_eq(rec.payload_len, 200);
		}
		k++;
	}
	ck_assert_uint_eq(k, n);
	pb_ar_get_stats(r, &rs);
	ck_assert_uint_eq(rs.truncated, 1);
	ck_assert_uint_eq(rs.ok, n - 1);
	ck_assert_int_eq(pb_ar_lookup(r, n - 1, &rec), 0);
	ck_assert_uint_eq(rec.status, PB_AR_TRUNCATED);
	pb_ar_close(r);

	/* cut inside the record header */
	ck_assert_int_eq(truncate(p, (off_t)(last.offset + 10)), 0);
	ck_assert_int_eq(pb_ar_open(&r, run), 0);
	k = 0;
	while (pb_ar_next(r, &rec) == 1) {
		if (k == n - 1)
			ck_assert_uint_eq(rec.status, PB_AR_TRUNCATED);
		k++;
	}
	ck_assert_uint_eq(k, n);
	ck_assert_int_eq(pb_ar_lookup(r, n - 1, &rec), 0);
	ck_assert_uint_eq(rec.status, PB_AR_TRUNCATED);
	pb_ar_close(r);

	/* the last segment is gone altogether: a gap the index still knows */
	ck_assert_int_eq(unlink(p), 0);
	seg_path(p, sizeof(p), 1);
	ck_assert_int_eq(unlink(p), 0);
	ck_assert_int_eq(pb_ar_open(&r, run), 0);
	pb_ar_get_stats(r, &rs);
	ck_assert_uint_eq(rs.segments, 1);
	ck_assert_int_eq(pb_ar_lookup(r, 7, &rec), 0);
	ck_assert_uint_eq(rec.status, PB_AR_TRUNCATED);
	pb_ar_close(r);
}
END_TEST

START_TEST(missing_and_bad_index)
{
	struct pb_aw_options o;
	struct pb_aw_stats st;
	struct pb_archive_reader *r;
	struct pb_ar_stats rs;
	struct pb_ar_rec rec;
	char p[600];
	uint64_t k = 0;
	int fd;

	opts_init(&o);
	o.segment_frames = 4;
	ck_assert_int_eq(write_run(&o, 10, &st), 0);
	idx_path(p, sizeof(p));

	/* a partial trailing entry is ignored */
	fd = open(p, O_WRONLY | O_APPEND);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(write(fd, "0123456789", 10), 10);
	close(fd);
	ck_assert_int_eq(pb_ar_open(&r, run), 0);
	pb_ar_get_stats(r, &rs);
	ck_assert_int_eq(rs.index_partial, 1);
	ck_assert_uint_eq(rs.index_entries, 10);
	ck_assert_int_eq(pb_ar_lookup(r, 9, &rec), 0);
	check_record(&rec, 9);
	pb_ar_close(r);

	/* a damaged index header: not used */
	flip_byte(p, 9);
	ck_assert_int_eq(pb_ar_open(&r, run), 0);
	pb_ar_get_stats(r, &rs);
	ck_assert_int_eq(rs.index_bad, 1);
	ck_assert_int_eq(pb_ar_lookup(r, 1, &rec), -ENODATA);
	pb_ar_close(r);

	/* no index: reading by scanning still works */
	ck_assert_int_eq(unlink(p), 0);
	ck_assert_int_eq(pb_ar_open(&r, run), 0);
	pb_ar_get_stats(r, &rs);
	ck_assert_int_eq(rs.index_missing, 1);
	ck_assert_uint_eq(rs.segments, 3);
	ck_assert_int_eq(pb_ar_lookup(r, 1, &rec), -ENODATA);
	ck_assert_int_eq(pb_ar_index_entry(r, 0, NULL), -EINVAL);
	while (pb_ar_next(r, &rec) == 1)
		check_record(&rec, k++);
	ck_assert_uint_eq(k, 10);
	pb_ar_close(r);

	/* a leftover .tmp from a crash is counted, not read */
	snprintf(p, sizeof(p), "%s/run000042-s00003.pseg.tmp", run);
	pb_test_write_file(p, "partial");
	ck_assert_int_eq(pb_ar_open(&r, run), 0);
	pb_ar_get_stats(r, &rs);
	ck_assert_uint_eq(rs.tmp_files, 1);
	pb_ar_close(r);
}
END_TEST


/* 1 if @dir is on a filesystem where the writer preallocates (not tmpfs) */
static int prealloc_fs(const char *dir)
{
	struct statfs sf;

	ck_assert_int_eq(statfs(dir, &sf), 0);
	return sf.f_type != 0x01021994L && sf.f_type != 0x858458f6L;
}

static off_t file_size(const char *path)
{
	struct stat sb;

	ck_assert_int_eq(stat(path, &sb), 0);
	return sb.st_size;
}

/* bytes records first..last-1 take in a segment */
static uint64_t spans(uint64_t first, uint64_t last)
{
	uint64_t n = 0;

	for (uint64_t s = first; s < last; s++)
		n += pb_ar_record_span(len_of(s));
	return n;
}

static void read_all(uint64_t n, uint64_t segments)
{
	struct pb_archive_reader *r;
	struct pb_ar_stats rs;
	struct pb_ar_rec rec;
	uint64_t k = 0;

	ck_assert_int_eq(pb_ar_open(&r, run), 0);
	while (pb_ar_next(r, &rec) == 1)
		check_record(&rec, k++);
	ck_assert_uint_eq(k, n);
	pb_ar_get_stats(r, &rs);
	ck_assert_uint_eq(rs.segments, segments);
	ck_assert_uint_eq(rs.index_entries, n);
	ck_assert_uint_eq(rs.truncated + rs.bad_header + rs.bad_checksum + rs.zero_tails, 0);
	pb_ar_close(r);
}

/*
 * O_DIRECT on a block filesystem: a segment is sized to segment_bytes
 * while it is written (writes stay inside i_size) and cut back to its last
 * record at close; a segment larger than segment_bytes (one big record)
 * still works.
 */
START_TEST(prealloc_sized_and_cut_back)
{
	struct pb_aw_options o;
	struct pb_archive_writer *w;
	struct pb_aw_stats st;
	unsigned char *buf = malloc(100000);
	char p[600];
	int pre;

	opts_init(&o);
	o.segment_bytes = 256 * 1024;
	o.log = log_cb;
	log_calls = 0;
	ck_assert_ptr_nonnull(buf);
	ck_assert_int_eq(pb_aw_open(&w, &o), 0);
	for (uint64_t s = 0; s < 8; s++) {
		struct pb_aw_record r = rec_of(s);

		fill(s, buf, len_of(s));
		ck_assert_int_eq(pb_aw_write(w, &r, buf, len_of(s)), 0);
	}
	ck_assert_int_eq(pb_aw_flush(w), 0);
	pb_aw_get_stats(w, &st);
	pre = st.direct && prealloc_fs(run);
	seg_path(p, sizeof(p), 0);
	strcat(p, ".tmp");
	if (pre)
		ck_assert_int_eq(file_size(p), 256 * 1024);
	else
		ck_assert_int_eq(file_size(p), 4096 + spans(0, 8));
	ck_assert_int_eq(pb_aw_close(w, &st), 0);
	free(buf);
	ck_assert_int_eq(log_calls, st.direct ? 0 : 1);
	ck_assert_uint_eq(st.records, 8);
	ck_assert_uint_eq(st.segments, 1);
	ck_assert_int_eq(pb_test_count_suffix(run, ".tmp"), 0);
	seg_path(p, sizeof(p), 0);
	ck_assert_int_eq(file_size(p), 4096 + spans(0, 8));
	read_all(8, 1);

	/* records bigger than a segment: one per segment, past the size */
	pb_test_rmtree(run);
	o.segment_bytes = 16 * 1024;
	ck_assert_int_eq(write_run(&o, 8, &st), 0);
	ck_assert_uint_eq(st.records, 8);
	for (uint32_t seg = 0; seg < st.segments; seg++) {
		seg_path(p, sizeof(p), seg);
		ck_assert_int_le(file_size(p), 4096 + 100000 + 4096);
	}
	read_all(8, st.segments);
}
END_TEST

static int fake_falloc_calls;

/* fallocate that sizes part of the file, then runs out of space */
static int enospc_fallocate(int fd, int mode, off_t off, off_t len)
{
	fake_falloc_calls++;
	ck_assert_int_eq(mode, 0);
	falloc_fd = fd;
	falloc_off = off;
	if (ftruncate(fd, off + len / 2) < 0)
		return -1;
	errno = ENOSPC;
	return -1;
}

static int eopnotsupp_fallocate(int fd, int mode, off_t off, off_t len)
{
	(void)fd, (void)mode, (void)off, (void)len;
	fake_falloc_calls++;
	errno = EOPNOTSUPP;
	return -1;
}

/*
 * fallocate fails (ENOSPC after sizing part of the file, EOPNOTSUPP): the
 * failure is logged once, the run goes on without preallocation, every
 * record is written, and the files end at their last record.
 */
START_TEST(prealloc_failure_falls_back)
{
	int (*fns[])(int, int, off_t, off_t) = { enospc_fallocate, eopnotsupp_fallocate };

	for (unsigned int i = 0; i < 2; i++) {
		struct pb_aw_options o;
		struct pb_aw_stats st;
		uint64_t first = 0;
		char p[600];

		pb_test_rmtree(run);
		opts_init(&o);
		o.segment_frames = 4;
		o.segment_bytes = 1 << 20;
		o.fallocate_fn = fns[i];
		o.log = log_cb;
		log_calls = 0;
		fake_falloc_calls = 0;
		falloc_fd = -1;
		size_at_log = -1;
		ck_assert_int_eq(write_run(&o, 12, &st), 0);
		ck_assert_uint_eq(st.records, 12);
		ck_assert_uint_eq(st.segments, 3);
		ck_assert_uint_eq(st.io_errors, 0);
		ck_assert_int_eq(st.error, 0);
		ck_assert_int_eq(pb_test_count_suffix(run, ".tmp"), 0);
		if (st.direct && prealloc_fs(run)) {
			/* tried once, then not again (not even for the next segment) */
			ck_assert_int_eq(fake_falloc_calls, 1);
			ck_assert_int_eq(log_calls, 1);
			ck_assert_int_eq(log_err, i == 0 ? -ENOSPC : -EOPNOTSUPP);
			ck_assert_ptr_nonnull(strstr(log_text, "without preallocation"));
			/* what the failed call took was given back before going on */
			if (i == 0)
				ck_assert_int_eq(size_at_log, falloc_off);
		} else {
			ck_assert_int_eq(fake_falloc_calls, 0);
		}
		for (uint32_t seg = 0; seg < 3; seg++, first += 4) {
			seg_path(p, sizeof(p), seg);
			ck_assert_int_eq(file_size(p), 4096 + spans(first, first + 4));
		}
		read_all(12, 3);
	}

	/* no_prealloc: fallocate never called */
	pb_test_rmtree(run);
	{
		struct pb_aw_options o;
		struct pb_aw_stats st;

		opts_init(&o);
		o.fallocate_fn = enospc_fallocate;
		o.no_prealloc = 1;
		fake_falloc_calls = 0;
		ck_assert_int_eq(write_run(&o, 6, &st), 0);
		ck_assert_int_eq(fake_falloc_calls, 0);
		read_all(6, 1);
	}
}
END_TEST

/*
 * A crash (no pb_aw_close) leaves a preallocated .tmp segment whose tail
 * is zeros. Renamed (the recovery in docs/archive-format.md), it reads
 * cleanly: every flushed record, then the zero tail ends the segment
 * (zero_tails, no bad header). A non-zero byte in that tail is damage.
 */
START_TEST(crash_leaves_zero_tail)
{
	struct pb_archive_reader *r;
	struct pb_ar_stats rs;
	struct pb_ar_rec rec;
	char p[600], q[620];
	uint64_t k = 0, end = 4096 + spans(0, 10);
	int status, pre = 0;
	pid_t pid;

	pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		struct pb_aw_options o;
		struct pb_archive_writer *w;
		unsigned char buf[100000];

		opts_init(&o);
		o.segment_bytes = 1 << 20;
		if (pb_aw_open(&w, &o))
			_exit(2);
		for (uint64_t s = 0; s < 10; s++) {
			struct pb_aw_record rr = rec_of(s);

			fill(s, buf, len_of(s));
			if (pb_aw_write(w, &rr, buf, len_of(s)))
				_exit(3);
		}
		if (pb_aw_flush(w))
			_exit(4);
		_exit(0);	/* crash: no pb_aw_close() */
	}
	ck_assert_int_eq(waitpid(pid, &status, 0), pid);
	ck_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0);

	seg_path(p, sizeof(p), 0);
	snprintf(q, sizeof(q), "%s.tmp", p);
	if (prealloc_fs(run) && file_size(q) == 1 << 20)
		pre = 1;
	else
		ck_assert_int_eq(file_size(q), end);	/* buffered: no tail */
	ck_assert_int_eq(rename(q, p), 0);
	snprintf(p, sizeof(p), "%s/run000042.pidx", run);
	snprintf(q, sizeof(q), "%s.tmp", p);
	ck_assert_int_eq(rename(q, p), 0);

	ck_assert_int_eq(pb_ar_open(&r, run), 0);
	while (pb_ar_next(r, &rec) == 1)
		check_record(&rec, k++);
	ck_assert_uint_eq(k, 10);
	pb_ar_get_stats(r, &rs);
	ck_assert_uint_eq(rs.records, 10);
	ck_assert_uint_eq(rs.ok, 10);
	ck_assert_uint_eq(rs.index_entries, 10);
	ck_assert_uint_eq(rs.truncated + rs.bad_header + rs.bad_checksum, 0);
	ck_assert_uint_eq(rs.zero_tails, (uint64_t)pre);
	pb_ar_close(r);

	/* make sure there is a tail, then put one byte of garbage into it */
	seg_path(p, sizeof(p), 0);
	ck_assert_int_eq(truncate(p, 1 << 20), 0);
	ck_assert_int_eq(pb_ar_open(&r, run), 0);
	k = 0;
	while (pb_ar_next(r, &rec) == 1)
		check_record(&rec, k++);
	ck_assert_uint_eq(k, 10);
	pb_ar_get_stats(r, &rs);
	ck_assert_uint_eq(rs.zero_tails, 1);
	ck_assert_uint_eq(rs.bad_header, 0);
	pb_ar_close(r);
	flip_byte(p, (off_t)end + 3 * 4096 + 17);
	ck_assert_int_eq(pb_ar_open(&r, run), 0);
	k = 0;
	while (pb_ar_next(r, &rec) == 1)
		if (k++ < 10)
			check_record(&rec, k - 1);
		else
			ck_assert_uint_eq(rec.status, PB_AR_BAD_HEADER);
	ck_assert_uint_eq(k, 11);
	pb_ar_get_stats(r, &rs);
	ck_assert_uint_eq(rs.zero_tails, 0);
	ck_assert_uint_eq(rs.bad_header, 1);
	pb_ar_close(r);
}
END_TEST

/*
 * Full segments are finished (synced, renamed) by the closer thread while
 * the next is written: after pb_aw_flush() every full segment has its
 * final name and only the current one is .tmp.
 */
START_TEST(rotation_closes_behind)
{
	struct pb_aw_options o;
	struct pb_archive_writer *w;
	struct pb_aw_stats st;
	unsigned char *buf = malloc(100000);

	ck_assert_ptr_nonnull(buf);
	opts_init(&o);
	o.segment_frames = 2;
	ck_assert_int_eq(pb_aw_open(&w, &o), 0);
	for (uint64_t s = 0; s < 9; s++) {
		struct pb_aw_record r = rec_of(s);

		fill(s, buf, len_of(s));
		ck_assert_int_eq(pb_aw_write(w, &r, buf, len_of(s)), 0);
	}
	ck_assert_int_eq(pb_aw_flush(w), 0);
	pb_aw_get_stats(w, &st);
	ck_assert_uint_eq(st.rotations, 4);
	ck_assert_uint_eq(st.segments, 4);
	ck_assert_int_eq(pb_test_count_suffix(run, ".pseg"), 4);
	ck_assert_int_eq(pb_test_count_suffix(run, ".pseg.tmp"), 1);
	ck_assert_int_eq(pb_aw_close(w, &st), 0);
	ck_assert_uint_eq(st.segments, 5);
	ck_assert_int_eq(pb_test_count_suffix(run, ".tmp"), 0);
	free(buf);
	read_all(9, 5);
}
END_TEST

/*
 * A step of the closer that fails (here the rename of segment 0: its
 * final name is taken by a directory) becomes the sticky error: logged
 * once, counted, returned by the next call; the segment keeps its .tmp
 * name with every record in it, and the rest of the run closes cleanly.
 */
START_TEST(closer_error_is_sticky)
{
	struct pb_aw_options o;
	struct pb_archive_writer *w;
	struct pb_aw_stats st;
	unsigned char *buf = malloc(100000);
	uint64_t s;
	char p[600];
	int ret = 0;

	ck_assert_ptr_nonnull(buf);
	opts_init(&o);
	o.segment_frames = 2;
	o.log = log_cb;
	log_calls = 0;
	ck_assert_int_eq(mkdir(run, 0755), 0);
	seg_path(p, sizeof(p), 0);
	ck_assert_int_eq(mkdir(p, 0755), 0);
	ck_assert_int_eq(pb_aw_open(&w, &o), 0);
	for (s = 0; s < 3; s++) {		/* the third rotates */
		struct pb_aw_record r = rec_of(s);

		fill(s, buf, len_of(s));
		ck_assert_int_eq(pb_aw_write(w, &r, buf, len_of(s)), 0);
	}
	ck_assert_int_eq(pb_aw_flush(w), -EISDIR);
	{
		struct pb_aw_record r = rec_of(s);

		ck_assert_int_eq(pb_aw_write(w, &r, buf, 10), -EISDIR);
	}
	ret = pb_aw_close(w, &st);
	free(buf);
	ck_assert_int_eq(ret, -EISDIR);
	ck_assert_int_eq(st.error, -EISDIR);
	ck_assert_uint_eq(st.io_errors, 1);
	ck_assert_uint_eq(st.records, 3);
	ck_assert_uint_eq(st.segments, 1);	/* segment 1 renamed at close */
	ck_assert_int_eq(log_calls, 1);
	ck_assert_int_eq(log_err, -EISDIR);
	ck_assert_ptr_nonnull(strstr(log_text, "rename of"));
	strcat(p, ".tmp");
	ck_assert_int_eq(access(p, F_OK), 0);
	ck_assert_int_eq(pb_test_count_suffix(run, ".pseg.tmp"), 1);
}
END_TEST

static Suite *suite(void)
{
	Suite *s = suite_create("archive");
	TCase *tc = tcase_create("archive");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, round_trip_rotation);
	tcase_add_test(tc, rotation_by_frames);
	tcase_add_test(tc, writev_and_limits);
	tcase_add_test(tc, empty_run);
	tcase_add_test(tc, bad_directories);
	tcase_add_test(tc, odirect_fallback);
	tcase_add_test(tc, file_size_limit_direct);
	tcase_add_test(tc, file_size_limit_buffered);
	tcase_add_test(tc, corrupted_records);
	tcase_add_test(tc, truncated_last_segment);
	tcase_add_test(tc, missing_and_bad_index);
	tcase_add_test(tc, prealloc_sized_and_cut_back);
	tcase_add_test(tc, prealloc_failure_falls_back);
	tcase_add_test(tc, crash_leaves_zero_tail);
	tcase_add_test(tc, rotation_closes_behind);
	tcase_add_test(tc, closer_error_is_sticky);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return pgp_check_run(suite());
}
