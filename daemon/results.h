/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The run's results file: RUNDIR/run%06u-results.csv, one row per
 * processed L1Accept (docs/results-format.md).
 *
 * Rows are written in blocks of whole lines; a failed or short write
 * (ENOSPC, EIO, EFBIG) cuts the file back to the last complete row, and
 * from then on rows are counted as lost instead of written. At close the
 * file is synced; with nothing lost it is renamed from .tmp to its final
 * name and the directory is synced. A file that lost rows is never given
 * the final name: it becomes run%06u-results-incomplete.csv, every line
 * in it complete, and the counts say how many rows are missing.
 */
#ifndef PEBBLED_RESULTS_H
#define PEBBLED_RESULTS_H

#include <stdint.h>
#include "processing.h"
#include "source.h"

#define PB_RESULTS_FMT			"run%06u-results.csv"
#define PB_RESULTS_INCOMPLETE_FMT	"run%06u-results-incomplete.csv"

struct pb_results;

/**
 * struct pb_results_stats
 * @rows:  rows in the file (complete lines; at close: synced)
 * @lost:  rows that could not be written (0 unless @err)
 * @err:   the first error (-errno), 0 = none
 * @path:  the file's name at close ("" before)
 */
struct pb_results_stats {
	uint64_t rows;
	uint64_t lost;
	int err;
	char path[4200];
};

/**
 * pb_results_open() - create RUNDIR/run%06u-results.csv.tmp with its header line
 * @nroi: number of roiN_sum columns
 * Creates @dir (one level) if missing. Returns 0 or -errno.
 */
int pb_results_open(struct pb_results **r, const char *dir, uint32_t run, unsigned int nroi);

/**
 * pb_results_write() - add one row
 * Returns the number of rows this call put in the file (0 while they are
 * buffered, more when a block was written), or -errno: the first error
 * and every row after it (each counted as lost).
 */
int pb_results_write(struct pb_results *r, const struct pb_event *ev,
		     const struct pb_proc_result *res);

/**
 * pb_results_close() - write what is buffered, sync, name and free the file
 * @st: the final counts and name (may be NULL)
 * NULL @r is fine. Returns 0 or the first error.
 */
int pb_results_close(struct pb_results *r, struct pb_results_stats *st);

#endif /* PEBBLED_RESULTS_H */
