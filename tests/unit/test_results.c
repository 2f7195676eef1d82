// SPDX-License-Identifier: GPL-2.0
/*
 * The results file: its rows and header, the final name only when nothing
 * was lost, and a full file system (EFBIG through RLIMIT_FSIZE, which
 * fails a write the way ENOSPC does, short and then with an error) leaving
 * complete rows only, under the incomplete name, with the lost ones
 * counted.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include "archive_format.h"
#include "results.h"
#include "check_main.h"
#include "pb_test_util.h"

static char tmp[256], dir[512];

static void setup(void)
{
	pb_test_mkdtemp(tmp, sizeof(tmp), "results");
	snprintf(dir, sizeof(dir), "%s/run000007", tmp);
}

static void teardown(void)
{
	pb_test_rmtree(tmp);
}

#define LINE_MAX_ 2048

/* Lines of @path, each checked to end in '\n'; -1 if one does not. */
static int whole_lines(const char *path, char first[LINE_MAX_])
{
	char line[LINE_MAX_];
	FILE *f = fopen(path, "r");
	int n = 0;

	ck_assert_msg(f != NULL, "fopen %s", path);
	while (fgets(line, sizeof(line), f)) {
		if (!strchr(line, '\n')) {
			fclose(f);
			return -1;
		}
		if (n++ == 0 && first)
			memcpy(first, line, strlen(line) + 1);
	}
	fclose(f);
	return n;
}

static void row(struct pb_event *ev, struct pb_proc_result *r, uint64_t seq)
{
	memset(ev, 0, sizeof(*ev));
	memset(r, 0, sizeof(*r));
	ev->seq = seq;
	ev->pulse_id = 99;
	ev->transition = 12;
	ev->damage = PB_DMG_PAYLOAD;
	ev->len = 800;
	r->npix = 384;
	r->sum = 1000;
	r->mean = 1000.0 / 384;
	r->nroi = 2;
	r->roi_sum[1] = 42;
	r->payload = PB_PAYLOAD_BAD;
}

START_TEST(rows_and_final_name)
{
	char path[700], line[512];
	struct pb_results *res;
	struct pb_results_stats st;
	struct pb_event ev;
	struct pb_proc_result r;
	struct stat sb;
	FILE *f;
	int n = 0;

	ck_assert_int_eq(pb_results_open(&res, dir, 7, 2), 0);
	snprintf(path, sizeof(path), "%s/run000007-results.csv.tmp", dir);
	ck_assert_int_eq(stat(path, &sb), 0);
	row(&ev, &r, 3);
	ck_assert_int_eq(pb_results_write(res, &ev, &r), 0);	/* buffered */
	ck_assert_int_eq(pb_results_close(res, &st), 0);
	ck_assert_uint_eq(st.rows, 1);
	ck_assert_uint_eq(st.lost, 0);
	ck_assert_int_eq(stat(path, &sb), -1);	/* renamed */
	snprintf(path, sizeof(path), "%s/run000007-results.csv", dir);
	ck_assert_str_eq(st.path, path);
	f = fopen(path, "r");
	ck_assert_ptr_nonnull(f);
	while (fgets(line, sizeof(line), f)) {
		if (n == 0)
			ck_assert_str_eq(line, "seq,pulse_id,ts_sec,ts_nsec,transition,dest,damage,length,npix,sum,min,max,mean,payload,roi0_sum,roi1_sum\n");
		else
			ck_assert_str_eq(line, "3,99,0,0,12,0,32,800,384,1000,0,0,2.6041666666666665,bad,0,42\n");
		n++;
	}
	fclose(f);
	ck_assert_int_eq(n, 2);
	ck_assert_int_eq(pb_test_count_suffix(dir, ""), 1);
	ck_assert_int_eq(pb_results_open(&res, "/nonexistent/x/y", 1, 0), -ENOENT);
	ck_assert_int_eq(pb_results_close(NULL, &st), 0);
}
END_TEST

/* Many rows: blocks reach the file while the run goes on, counted as they do. */
START_TEST(blocks_are_counted_when_written)
{
	struct pb_results *res;
	struct pb_results_stats st;
	struct pb_event ev;
	struct pb_proc_result r;
	uint64_t in_file = 0;
	char path[700];

	ck_assert_int_eq(pb_results_open(&res, dir, 7, 2), 0);
	for (uint64_t k = 0; k < 5000; k++) {
		int n;

		row(&ev, &r, k);
		n = pb_results_write(res, &ev, &r);
		ck_assert_int_ge(n, 0);
		in_file += (uint64_t)n;
	}
	ck_assert_uint_gt(in_file, 0);
	ck_assert_uint_lt(in_file, 5000);
	ck_assert_int_eq(pb_results_close(res, &st), 0);
	ck_assert_uint_eq(st.rows, 5000);
	snprintf(path, sizeof(path), "%s/run000007-results.csv", dir);
	ck_assert_int_eq(whole_lines(path, NULL), 5001);
}
END_TEST

/* What the child that fills the file system saw. */
struct fill_res {
	int close_ret, bad_errno;
	uint64_t in_file, failed;
	struct pb_results_stats st;
};

/*
 * In a child (RLIMIT_FSIZE would also stop Check's own message file):
 * 5000 rows into a file limited to @limit bytes.
 */
static void fill(rlim_t limit, struct fill_res *out)
{
	int pfd[2], status;
	pid_t pid;

	ck_assert_int_eq(pipe(pfd), 0);
	pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		struct rlimit rl = { limit, limit };
		struct pb_results *res;
		struct fill_res fr = { 0 };
		struct pb_event ev;
		struct pb_proc_result r;

		close(pfd[0]);
		signal(SIGXFSZ, SIG_IGN);
		if (pb_results_open(&res, dir, 7, 2) || setrlimit(RLIMIT_FSIZE, &rl))
			_exit(2);
		for (uint64_t k = 0; k < 5000; k++) {
			int n;

			row(&ev, &r, k);
			n = pb_results_write(res, &ev, &r);
			if (n < 0) {
				fr.failed++;
				if (n != -EFBIG)
					fr.bad_errno = n;
			} else {
				fr.in_file += (uint64_t)n;
			}
		}
		fr.close_ret = pb_results_close(res, &fr.st);
		_exit(write(pfd[1], &fr, sizeof(fr)) == (ssize_t)sizeof(fr) ? 0 : 3);
	}
	close(pfd[1]);
	ck_assert_int_eq(read(pfd[0], out, sizeof(*out)), (ssize_t)sizeof(*out));
	close(pfd[0]);
	ck_assert_int_eq(waitpid(pid, &status, 0), pid);
	ck_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0);
}

/*
 * The file system fills up in the middle of a block: the file keeps whole
 * rows only, is named incomplete, and written + lost = every row.
 */
START_TEST(full_disk_keeps_whole_rows_and_counts_the_rest)
{
	const rlim_t limit = 100000;
	struct fill_res fr;
	char path[700], first[LINE_MAX_] = "";
	struct stat sb;

	fill(limit, &fr);
	ck_assert_int_eq(fr.close_ret, -EFBIG);
	ck_assert_int_eq(fr.bad_errno, 0);
	ck_assert_int_eq(fr.st.err, -EFBIG);
	ck_assert_uint_gt(fr.failed, 0);
	ck_assert_uint_eq(fr.st.rows, fr.in_file);
	ck_assert_uint_eq(fr.st.rows + fr.st.lost, 5000);
	ck_assert_uint_gt(fr.st.lost, fr.failed);	/* the block that failed, too */
	/* not under the final name; the incomplete file holds whole rows only */
	snprintf(path, sizeof(path), "%s/run000007-results.csv", dir);
	ck_assert_int_eq(stat(path, &sb), -1);
	snprintf(path, sizeof(path), "%s/run000007-results-incomplete.csv", dir);
	ck_assert_str_eq(fr.st.path, path);
	ck_assert_int_eq(stat(path, &sb), 0);
	ck_assert_int_le(sb.st_size, (off_t)limit);
	ck_assert_int_eq(whole_lines(path, first), (int)fr.st.rows + 1);
	ck_assert_ptr_nonnull(strstr(first, "seq,pulse_id,"));
	ck_assert_int_eq(pb_test_count_suffix(dir, ""), 1);	/* no .tmp left */
}
END_TEST

static Suite *suite(void)
{
	Suite *s = suite_create("results");
	TCase *tc = tcase_create("results");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, rows_and_final_name);
	tcase_add_test(tc, blocks_are_counted_when_written);
	tcase_add_test(tc, full_disk_keeps_whole_rows_and_counts_the_rest);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return pgp_check_run(suite());
}
