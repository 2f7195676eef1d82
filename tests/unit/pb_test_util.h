/* SPDX-License-Identifier: GPL-2.0 */
/* Small helpers shared by the pebbled unit tests: temporary directories, files. */
#ifndef PB_TEST_UTIL_H
#define PB_TEST_UTIL_H

#include <dirent.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <check.h>

static int pb_test_rm_cb(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
	(void)sb; (void)flag; (void)ftw;
	return remove(path);
}

/* Remove a directory tree (best effort). */
static inline void pb_test_rmtree(const char *dir)
{
	nftw(dir, pb_test_rm_cb, 16, FTW_DEPTH | FTW_PHYS);
}

/* mkdtemp() under $TMPDIR or /tmp; @buf gets the path. */
static inline void pb_test_mkdtemp(char *buf, size_t len, const char *tag)
{
	const char *t = getenv("TMPDIR");

	snprintf(buf, len, "%s/pebbled-%s-XXXXXX", t && *t ? t : "/tmp", tag);
	ck_assert_msg(mkdtemp(buf) != NULL, "mkdtemp %s", buf);
}

/* Write @text to @path. */
static inline void pb_test_write_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");

	ck_assert_msg(f != NULL, "fopen %s", path);
	fputs(text, f);
	ck_assert_int_eq(fclose(f), 0);
}

/* Entries of @dir whose name ends in @suffix ("" = every entry but . and ..). */
static inline int pb_test_count_suffix(const char *dir, const char *suffix)
{
	struct dirent *de;
	DIR *d = opendir(dir);
	size_t k = strlen(suffix);
	int n = 0;

	ck_assert_msg(d != NULL, "opendir %s", dir);
	while ((de = readdir(d))) {
		size_t l = strlen(de->d_name);

		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		if (l >= k && !strcmp(de->d_name + l - k, suffix))
			n++;
	}
	closedir(d);
	return n;
}

#endif /* PB_TEST_UTIL_H */
