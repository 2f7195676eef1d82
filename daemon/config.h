/* SPDX-License-Identifier: GPL-2.0 */
/*
 * pebbled configuration (libconfig syntax). daemon/pebbled.conf lists
 * every key with its default; a unit test keeps the two in step.
 *
 * Load = start from the caller's struct (normally pb_config_defaults()),
 * override every key the file sets. Unknown keys, wrong types and values
 * out of range are rejected with "FILE:LINE: message"; on any error the
 * caller's struct is left unchanged.
 */
#ifndef PEBBLED_CONFIG_H
#define PEBBLED_CONFIG_H

#include <stddef.h>
#include <stdint.h>
#include "archive_format.h"	/* enum pb_dtype */
#include "sizing.h"		/* enum pb_detector_kind */

#define PB_CONFIG_PATH_MAX	1024
#define PB_CONFIG_MAX_ROI	16

enum pb_backpressure {
	PB_BP_LOSSLESS = 0,	/* stop reading; the driver counts deadtime */
	PB_BP_DROP = 1,		/* drop and count */
};

struct pb_roi {
	uint32_t x, y, w, h;
};

/*
 * Defaults (keys in pebbled.conf in brackets):
 *   device            "/dev/pgpdma0"        [device]
 *   output_dir        "/var/lib/pebbled"    [output_dir]
 *   run_seconds       0 = until stopped     [run_seconds]
 *   proc_hz           1000, 0 = every frame [proc_hz]
 *   arch_hz           200, 0 = every frame  [arch_hz]
 *   pebble_buf_count  0 = auto              [pebbleBufCount]
 *   pebble_buf_size   0 = auto              [pebbleBufSize]
 *   max_transition_size 4096                [max_transition_size]
 *   backpressure      lossless              [backpressure: "lossless"|"drop"]
 *   segment_bytes     1 GiB                 [segment_bytes]
 *   segment_frames    0 = no limit          [segment_frames]
 *   archive_queue_depth 8                   [archive_queue_depth]
 *   metrics_port      9464 (loopback), 0=off [metrics_port]
 *   roi               none                  [roi = ( { x=..; y=..; w=..; h=..; }, ... )]
 *   detector          link                  [detector: "link"|"network"]
 *   image_width/height 0 = unknown          [image_width, image_height]
 *   image_dtype       uint16                [image_dtype]
 *   lanes             1                     [lanes]
 *   net_bind          "127.0.0.1"           [net_bind] (network detector)
 *   net_port          17000                 [net_port]
 *   net_window_us     1000                  [net_window_us] timestamp tolerance
 *   net_timeout_ms    1000                  [net_timeout_ms]
 *   net_max_images    16                    [net_max_images]
 *   net_rcvbuf        64 MiB                [net_rcvbuf]
 *   net_probe_ms      10000                 [net_probe_ms] wait for the first
 *                     image header when the image size is not configured
 */
struct pb_config {
	char device[PB_CONFIG_PATH_MAX];
	char output_dir[PB_CONFIG_PATH_MAX];
	uint64_t run_seconds;
	uint32_t proc_hz;
	uint32_t arch_hz;
	uint64_t pebble_buf_count;
	uint64_t pebble_buf_size;
	uint64_t max_transition_size;
	enum pb_backpressure backpressure;
	uint64_t segment_bytes;
	uint64_t segment_frames;
	uint32_t archive_queue_depth;
	uint32_t metrics_port;
	uint32_t roi_count;
	struct pb_roi roi[PB_CONFIG_MAX_ROI];
	enum pb_detector_kind detector;
	uint32_t image_width;
	uint32_t image_height;
	enum pb_dtype image_dtype;
	uint32_t lanes;
	char net_bind[64];
	uint32_t net_port;
	uint32_t net_window_us;
	uint32_t net_timeout_ms;
	uint32_t net_max_images;
	uint64_t net_rcvbuf;
	uint32_t net_probe_ms;
};

/* Fill @c with the built-in defaults. */
void pb_config_defaults(struct pb_config *c);

/**
 * pb_config_load() - apply a configuration file to @c
 * @c:      in: values to start from; out: with the file applied
 * @path:   file to read
 * @err:    message on failure ("FILE:LINE: message", or "FILE: message"
 *          when there is no line), may be NULL
 * @errlen: size of @err
 *
 * Returns 0; -ENOENT/-EACCES/... if the file cannot be opened; -EINVAL
 * for a syntax error, unknown key, wrong type or value out of range.
 */
int pb_config_load(struct pb_config *c, const char *path, char *err, size_t errlen);

/* Returns 1 if @a and @b hold the same settings, else 0. */
int pb_config_equal(const struct pb_config *a, const struct pb_config *b);

/* "lossless"/"drop" and "link"/"network" names of the enums. */
const char *pb_backpressure_name(enum pb_backpressure bp);
const char *pb_detector_name(enum pb_detector_kind k);

/* Bytes of one image (width x height x dtype size), 0 if unknown. */
uint64_t pb_config_image_size(const struct pb_config *c);

#endif /* PEBBLED_CONFIG_H */
