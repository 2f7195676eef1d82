/* SPDX-License-Identifier: GPL-2.0 */
/*
 * .npy replay source (the seed's offline mode): every *.npy file of a
 * directory, in name order, replayed as events at a set rate (0 = as fast
 * as the pipeline takes them), looping or in one pass.
 *
 * Each event is a synthesized 32-byte timing header (L1Accept, pulse ID
 * and event counter advancing by one per event, timestamp = now in the
 * EPICS epoch, readout group 1) followed by the array data, exactly the
 * layout of a link detector's frame, so the rest of the pipeline does not
 * know the difference. With @transitions the source also emits Configure,
 * BeginRun and Enable before the first image and, at the end of a single
 * pass, Disable and EndRun (so a one-pass replay is one complete run).
 *
 * The files are loaded once at open (they must fit in memory) and checked:
 * each must be a valid .npy (magic, header, data length exactly shape x
 * itemsize) of a dtype the archive records, and every file must have the
 * first one's image geometry and dtype, which the archive's segment header
 * carries for the whole run. A 1-D array is one frame of height 1, a 2-D
 * one a frame, and an array of more dimensions a stack of frames of its
 * last two (in C order: files in name order, then each file's frames in
 * order, one event each). Anything else is refused at open with the file
 * and the reason named.
 */
#ifndef PEBBLED_SOURCE_NPY_H
#define PEBBLED_SOURCE_NPY_H

#include <stddef.h>
#include "source.h"

/**
 * struct pb_npy_options
 * @dir:         directory of .npy files (at least one)
 * @rate_hz:     events per second, 0 = unpaced
 * @loop:        1 = start over after the last file, 0 = one pass
 * @transitions: 1 = synthesize the run transitions (see above)
 * @dest:        dest recorded in the events
 */
struct pb_npy_options {
	const char *dir;
	double rate_hz;
	int loop;
	int transitions;
	uint32_t dest;
};

/**
 * pb_source_npy_open() - load the files and make the source
 * @err: a one-line message on failure (may be NULL)
 * Returns 0, -ENOENT (no .npy files), -EINVAL (a file refused, see above;
 * named with the reason in @err), -errno (also in @err).
 */
int pb_source_npy_open(struct pb_source **s, const struct pb_npy_options *o,
		       const struct pb_source_env *env, char *err, size_t errlen);

/**
 * pb_source_npy_scan() - the checks of pb_source_npy_open() without a source
 * @max_event: the event size (timing header + one frame)
 * @frames:    frames in all files (may be NULL)
 * Returns what pb_source_npy_open() would, with the same message in @err.
 */
int pb_source_npy_scan(const char *dir, uint64_t *max_event, uint64_t *frames,
		       char *err, size_t errlen);

#endif /* PEBBLED_SOURCE_NPY_H */
