/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Per-frame processing: what users want at a glance for every processed
 * frame (its rows go to the run's results file, results.h).
 *
 * pb_proc_compute() reads the pixels of an event (the payload after the
 * timing header, as the configured dtype, little-endian) and computes sum,
 * min, max, mean and the sum over each configured ROI (pixels x..x+w-1 of
 * rows y..y+h-1, clipped to the image; needs the image width). Pixels
 * start at @header_bytes; a trailing partial pixel is ignored.
 *
 * Payload integrity of generator frames is pb_payload_verify() (timing.h);
 * the pipeline runs it once per event for events marked PB_EV_VERIFY.
 */
#ifndef PEBBLED_PROCESSING_H
#define PEBBLED_PROCESSING_H

#include <stddef.h>
#include <stdint.h>
#include "config.h"
#include "source.h"

/**
 * struct pb_proc_params
 * @dtype:        enum pb_dtype of the pixels (unknown = uint8)
 * @width:        image width in pixels (0 = unknown: no ROI sums)
 * @header_bytes: bytes before the first pixel (32 for a timing header)
 * @roi, @nroi:   regions of interest (up to PB_CONFIG_MAX_ROI)
 */
struct pb_proc_params {
	uint32_t dtype;
	uint32_t width;
	uint32_t header_bytes;
	const struct pb_roi *roi;
	unsigned int nroi;
};

/* pb_proc_result.payload */
#define PB_PAYLOAD_UNCHECKED	0
#define PB_PAYLOAD_OK		1
#define PB_PAYLOAD_BAD		2

/**
 * struct pb_proc_result
 * @npix:     pixels summed
 * @sum, @min, @max, @mean: over those pixels (all 0 when npix is 0)
 * @roi_sum:  per ROI, @nroi of them (0 for an ROI outside the image)
 * @roi_npix: pixels inside each ROI after clipping
 * @payload:  PB_PAYLOAD_* (filled by the caller)
 */
struct pb_proc_result {
	uint64_t npix;
	double sum, min, max, mean;
	unsigned int nroi;
	double roi_sum[PB_CONFIG_MAX_ROI];
	uint64_t roi_npix[PB_CONFIG_MAX_ROI];
	int payload;
};

/* Compute @r over @len bytes at @data. Returns 0 or -EINVAL. */
int pb_proc_compute(const struct pb_proc_params *p, const void *data, size_t len,
		    struct pb_proc_result *r);

#endif /* PEBBLED_PROCESSING_H */
