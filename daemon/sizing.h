/* SPDX-License-Identifier: GPL-2.0 */
/*
 * pebbled buffer-sizing plan (DESIGN.md section 3, seed 000).
 *
 * Four pools are added up before anything is allocated:
 *   DMA         cfgRxCount x cfgSize            (owned by the driver)
 *   pebble      pebbleBufCount x pebbleBufSize  (one event per pebble)
 *   transition  pebbleBufCount x max transition (tied 1:1 to pebbles)
 *   archive     archive buffers x their size    (O_DIRECT write buffers)
 * Defaults: pebbleBufCount = smallest power of two >= cfgRxCount;
 * pebbleBufSize = lanes x cfgSize for link (PGP) detectors, the image size
 * for network-ingress (PVA) detectors. For a link detector whose image is
 * known to be larger than lanes x cfgSize (the image spans several DMA
 * buffers), the default pebble size is the image size, since one pebble
 * holds one whole event.
 *
 * Balance rules (each PASS, FAIL or SKIP):
 *   1 dma_image    link: cfgRxCount x cfgSize >= one image
 *                  network: cfgSize >= one timing header (32 B)
 *   2 pebble_image pebbleBufSize >= one image (image size known)
 *   3 pebble_fits  pebbleBufCount x pebbleBufSize <= available memory
 *   4 total_fits   grand total <= available memory
 * SKIP when the value needed is unknown (image size 0, memory 0).
 */
#ifndef PEBBLED_SIZING_H
#define PEBBLED_SIZING_H

#include <stddef.h>
#include <stdint.h>

enum pb_detector_kind {
	PB_DET_LINK = 0,	/* PGP: full events arrive through DMA */
	PB_DET_NETWORK = 1,	/* PVA: DMA carries timing headers only */
};

/* Transition buffer size used when max_transition_size is 0. */
#define PB_SIZING_DEFAULT_TRANSITION	4096U

/**
 * struct pb_sizing_input - what the plan is computed from
 * @cfg_rx_count:     driver RX buffer count (cfgRxCount), > 0
 * @cfg_size:         driver buffer size in bytes (cfgSize), > 0
 * @lanes:            link lanes per event (>= 1; 0 is taken as 1)
 * @kind:             enum pb_detector_kind
 * @image_size:       bytes of one image, 0 = unknown (required > 0 for
 *                    network detectors unless pebble_buf_size is given)
 * @pebble_buf_count: override, 0 = auto
 * @pebble_buf_size:  override, 0 = auto
 * @max_transition_size: largest transition in bytes, 0 = default 4 KiB
 * @archive_buf_count: archive write buffers (e.g. queue depth)
 * @archive_buf_size: bytes each
 * @mem_available:    bytes of available memory, 0 = unknown
 */
struct pb_sizing_input {
	uint64_t cfg_rx_count;
	uint64_t cfg_size;
	uint32_t lanes;
	enum pb_detector_kind kind;
	uint64_t image_size;
	uint64_t pebble_buf_count;
	uint64_t pebble_buf_size;
	uint64_t max_transition_size;
	uint64_t archive_buf_count;
	uint64_t archive_buf_size;
	uint64_t mem_available;
};

enum pb_rule_result { PB_RULE_PASS = 0, PB_RULE_FAIL = 1, PB_RULE_SKIP = 2 };

enum pb_rule_id {
	PB_RULE_DMA_IMAGE = 0,
	PB_RULE_PEBBLE_IMAGE,
	PB_RULE_PEBBLE_FITS,
	PB_RULE_TOTAL_FITS,
	PB_RULE_COUNT
};

/**
 * struct pb_sizing_plan - the computed plan
 * @in:             copy of the input
 * @pebble_count:   pebble buffers; @pebble_count_auto if defaulted
 * @pebble_size:    bytes per pebble; @pebble_size_auto if defaulted
 * @trbuf_count:    transition buffers (= pebble_count)
 * @trbuf_size:     bytes per transition buffer
 * @dma_total, @pebble_total, @trbuf_total, @archive_total: pool bytes
 * @grand_total:    sum of the four
 * @rule:           result of each enum pb_rule_id
 * @ok:             1 if no rule is PB_RULE_FAIL
 */
struct pb_sizing_plan {
	struct pb_sizing_input in;
	uint64_t pebble_count;
	uint64_t pebble_size;
	int pebble_count_auto;
	int pebble_size_auto;
	uint64_t trbuf_count;
	uint64_t trbuf_size;
	uint64_t dma_total;
	uint64_t pebble_total;
	uint64_t trbuf_total;
	uint64_t archive_total;
	uint64_t grand_total;
	enum pb_rule_result rule[PB_RULE_COUNT];
	int ok;
};

/**
 * pb_sizing_next_pow2() - smallest power of two >= @n (1 for 0)
 * Returns 0 if the result does not fit in 64 bits.
 */
uint64_t pb_sizing_next_pow2(uint64_t n);

/**
 * pb_sizing_compute() - compute the plan and check the balance rules
 * @in:   the input
 * @plan: out; filled completely whenever the return value is 0 or -ENOMEM
 *        or -ENOBUFS
 *
 * Returns 0 if every rule passes (or is skipped); -ENOBUFS if a
 * rule about one image fails (rule 1 or 2: the DMA ring or a pebble
 * cannot hold one event); -ENOMEM if only a memory rule fails (3 or 4);
 * -EINVAL for an invalid input (zero cfgRxCount/cfgSize, network detector
 * with neither image size nor pebbleBufSize, NULL); -EOVERFLOW if a
 * product does not fit in 64 bits.
 */
int pb_sizing_compute(const struct pb_sizing_input *in, struct pb_sizing_plan *plan);

/**
 * pb_sizing_format() - the plan as a human-readable table with the rules
 * @plan: a plan from pb_sizing_compute()
 * @buf, @len: output buffer, always NUL-terminated when len > 0
 *
 * Returns the length of the text (excluding the NUL), or -ENOSPC if @len
 * was too small (the text is truncated), -EINVAL for NULL arguments.
 */
int pb_sizing_format(const struct pb_sizing_plan *plan, char *buf, size_t len);

/**
 * pb_format_bytes() - binary-unit size: "320 KiB", "9.25 GiB", "32 B"
 *
 * The largest unit (B, KiB, MiB, GiB, TiB, PiB) in which the value is
 * >= 1; exact multiples print as integers, others with up to two decimals
 * (trailing zeros dropped); a value that is not exact but rounds to a
 * whole number is prefixed with "~" ("~84 MiB" for 84 MiB + 4 KiB).
 * Returns @buf.
 */
char *pb_format_bytes(uint64_t bytes, char *buf, size_t len);

/**
 * pb_meminfo_available() - MemAvailable from a meminfo file
 * @path:  "/proc/meminfo" or, in tests, a file of the same format
 * @bytes: out: MemAvailable in bytes
 *
 * Returns 0, -errno if the file cannot be read, -ENODATA if it has no
 * well-formed "MemAvailable: N kB" line.
 */
int pb_meminfo_available(const char *path, uint64_t *bytes);

/* Short names of rules and results, for logs ("dma_image", "PASS"). */
const char *pb_rule_name(enum pb_rule_id id);
const char *pb_rule_result_name(enum pb_rule_result r);

#endif /* PEBBLED_SIZING_H */
