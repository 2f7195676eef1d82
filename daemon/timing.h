/* SPDX-License-Identifier: GPL-2.0 */
/*
 * LCLS-II timing header (uapi/linux/pgpdma.h, DESIGN.md section 2):
 * parsing from raw frame bytes, transition names, EPICS -> Unix time,
 * a gap detector across frames, and verification of the emulated
 * generator's deterministic payload.
 */
#ifndef PEBBLED_TIMING_H
#define PEBBLED_TIMING_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <time.h>

/**
 * struct pb_timing - a decoded timing header
 * @pulse_id:     56-bit pulse ID
 * @transition:   transition id (enum pgpdma_transition, 4 bits)
 * @type:         2-bit header type
 * @eol:          end-of-list bit
 * @error:        error bit
 * @nanoseconds:  timestamp nanoseconds
 * @seconds:      timestamp seconds, EPICS epoch (1990-01-01 UTC)
 * @env:          raw env word
 * @readout_groups: env bits 0-15
 * @evt_counter:  24-bit event counter
 * @opaque:       the two opaque words
 */
struct pb_timing {
	uint64_t pulse_id;
	unsigned int transition;
	unsigned int type;
	int eol;
	int error;
	uint32_t nanoseconds;
	uint32_t seconds;
	uint32_t env;
	uint32_t readout_groups;
	uint32_t evt_counter;
	uint32_t opaque[2];
};

/**
 * pb_timing_parse() - decode the 32-byte header at the start of @buf
 * @buf: frame bytes (any alignment, little-endian fields)
 * @len: bytes available at @buf
 * @out: decoded header
 *
 * Returns 0, -EINVAL for NULL arguments, -EMSGSIZE if @len < 32.
 */
int pb_timing_parse(const void *buf, size_t len, struct pb_timing *out);

/**
 * pb_timing_encode() - write @t as 32 little-endian bytes at @buf
 * (the inverse of pb_timing_parse(); for tests and the npy source).
 * Fields are masked to their widths. Returns 0 or -EINVAL.
 */
int pb_timing_encode(const struct pb_timing *t, void *buf, size_t len);

/* Transition names: pgpdma_transition_name() and
 * pgpdma_transition_from_name() in lib/pgpdma.h. */

/*
 * Unix time of an EPICS timestamp (seconds since 1990-01-01 UTC plus
 * nanoseconds): tv_sec = sec + 631152000, tv_nsec = nsec.
 */
struct timespec pb_epics_to_unix(uint32_t sec, uint32_t nsec);

/**
 * struct pb_gap_detector - event-counter and pulse-ID continuity
 * @max_pulse_step: if > 0, a pulse ID more than this many pulses after the
 *                  previous one is a jump (0 = only backwards/repeated
 *                  pulse IDs are jumps); set after pb_gap_init()
 * @frames:         frames seen
 * @evt_jumps:      frames whose event counter was not previous + 1
 *                  (mod 2^24): the DRP's drp_num_pgp_jump
 * @evt_missing:    events missing in total ((delta - 1) mod 2^24 summed
 *                  over forward jumps)
 * @evt_repeats:    frames with the same event counter as the previous
 * @pulse_jumps:    frames whose pulse ID went backwards, repeated, or
 *                  advanced more than max_pulse_step
 * @pulse_backwards: of those, backwards or repeated
 * The remaining fields are private state.
 */
struct pb_gap_detector {
	uint64_t max_pulse_step;
	uint64_t frames;
	uint64_t evt_jumps;
	uint64_t evt_missing;
	uint64_t evt_repeats;
	uint64_t pulse_jumps;
	uint64_t pulse_backwards;
	/* private */
	int primed;
	uint32_t last_evt;
	uint64_t last_pulse;
};

/* Reset all counters and forget the previous frame. */
void pb_gap_init(struct pb_gap_detector *g);

/**
 * pb_gap_update() - account one frame
 * Returns the number of events missing before this frame (0 when the
 * counter advanced by exactly one, or on the first frame). A frame with
 * the same counter as the previous counts as a jump and an evt_repeat
 * with 0 missing.
 */
uint32_t pb_gap_update(struct pb_gap_detector *g, const struct pb_timing *t);

/**
 * pb_payload_verify() - check a generator frame's payload
 * @frame: the whole frame, starting with its timing header
 * @len:   frame bytes
 *
 * Word i of the payload (bytes after the 32-byte header) must be
 * pgpdma_gen_payload_word(header, i), little-endian (a hash of the pulse ID
 * and i, or for PATTERN frames a word fixed by the offset inside the DMA
 * buffer); a last partial word holds the low-order bytes of the next word.
 *
 * Returns -1 if every payload byte matches (also for a header-only
 * frame), the offset from the start of @frame of the first mismatching
 * byte (>= 32), or -EMSGSIZE if @len < 32 (-EINVAL for NULL). Note that
 * -1 here means "intact", not -EPERM.
 */
ssize_t pb_payload_verify(const void *frame, size_t len);

/* Fill @len payload bytes as the generator does for @pulse_id (tests, TX). */
void pb_payload_fill(uint64_t pulse_id, void *payload, size_t len);

#endif /* PEBBLED_TIMING_H */
