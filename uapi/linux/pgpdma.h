/* SPDX-License-Identifier: GPL-2.0 WITH Linux-syscall-note */
/*
 * pgpdma - PGP-style DMA ring driver: userspace ABI.
 *
 * This header is an ABI. Once a structure is in a released version it is
 * changed only by adding a new command or by spending reserved fields.
 * Every reserved field and every unknown flag bit must be zero on input
 * (else the ioctl fails with -EINVAL); the driver zeroes them on output.
 *
 * Buffer layout: one mmap() of the device maps the whole pool. RX buffer i
 * starts at rx_offset + i * stride and TX buffer i at tx_offset + i * stride;
 * clients read all of these from PGPDMA_IOC_GET_INFO, never hard-code them.
 * Mappings must be MAP_SHARED (else -EINVAL); one may start at any
 * page-aligned offset and must end inside the pool (else -EINVAL).
 * PROT_EXEC is refused (-EPERM) and PROT_WRITE needs the file open for
 * writing. RX buffers are the device's: they are mapped read-only in every
 * mapping, a store into one raises SIGBUS (the buffer is unchanged) and no
 * mprotect() changes that; TX buffers are writable. A mapping is not
 * inherited by fork() (the child sees no mapping there: SIGSEGV).
 *
 * Trust model. A device is shared by several DAQ processes; the device
 * node's permissions (udev: group daq) decide who may open it. Then:
 *  - any open file may: GET_INFO, GET_STATS, GET_DEST, ENGINE_GET, poll,
 *    and RX_READ / RX_RETURN / read() the frames of the dests it claims
 *    (a file open read-only can claim none: it is a monitor);
 *  - a file open for writing may also: SET_DEST, TX_ACQUIRE, TX_SUBMIT,
 *    TX_RELEASE, write(), writable mappings, and INJECT to a dest it
 *    claims; without FMODE_WRITE these fail with -EBADF;
 *  - CAP_SYS_ADMIN is needed in addition for engine control: ENGINE_SET
 *    (-EPERM), INJECT to a dest the caller does not claim (-EACCES),
 *    raising a file's RX hold limit (-EPERM), and sysfs emulate_unplug.
 * One file may hold at most rx_hold_max RX buffers through RX_READ
 * (cfgRxHoldMax, default half the ring), so a stalled client cannot take
 * the whole ring.
 *
 * Files, buffers and claims. A new file claims no dest until SET_DEST;
 * its write()s go to the lowest dest it claims, dest 0 while it claims
 * none. Buffers a file holds and the dests it claims stay with it while
 * any mapping made through it exists, even after close(): the kernel
 * releases the file, which gives everything back (counted in reclaimed),
 * at the last munmap() or when the process exits or is killed.
 *
 * Errors every call may return: -ENODEV once the device is gone (sysfs
 * emulate_unplug, a lost card); -ENOTTY for an unknown command, including
 * a known one with another size or direction; -EFAULT when a user pointer
 * cannot be read or written; -EINVAL for a reserved field or unknown flag
 * that is not zero, or a value out of range; -EBADF / -EPERM / -EACCES as
 * the trust model says. Blocking calls return -EINTR (or are restarted by
 * the C library's SA_RESTART rules: the driver returns -ERESTARTSYS) when
 * a signal arrives. Per call, in addition:
 *   GET_INFO, GET_STATS, GET_DEST, ENGINE_GET  (none)
 *   RX_READ      -ENOBUFS (this file holds rx_hold_max buffers already)
 *   RX_RETURN, TX_RELEASE  -EINVAL (any index bad: nothing changes)
 *   TX_ACQUIRE   -EAGAIN (none free, no PGPDMA_TXA_WAIT or O_NONBLOCK)
 *   TX_SUBMIT    -EINVAL (index not acquired by this file), -EMSGSIZE
 *   SET_DEST     -EBUSY (a dest is claimed by another file)
 *   SET_RX_HOLD  -EINVAL (above rx_count)
 *   ENGINE_SET   -EINVAL, -EOPNOTSUPP (a back-end without settings)
 *   INJECT       -EAGAIN (64 transitions already waiting), -EOPNOTSUPP
 *   read()       -EAGAIN (O_NONBLOCK, nothing queued), -EMSGSIZE (the
 *                frame is larger than the buffer given; it stays queued)
 *   write()      -EAGAIN (O_NONBLOCK, not enough free TX buffers),
 *                -EMSGSIZE (longer than max_frame)
 *   mmap()       -EINVAL (MAP_PRIVATE, outside the pool), -EPERM (exec),
 *                -EACCES (PROT_WRITE on a file open read-only)
 */
#ifndef _UAPI_LINUX_PGPDMA_H
#define _UAPI_LINUX_PGPDMA_H

#include <linux/types.h>
#include <linux/ioctl.h>

#define PGPDMA_API_VERSION	1

/* Number of destinations (lane x virtual channel) a device can address. */
#define PGPDMA_MAX_DEST		256
#define PGPDMA_DEST_LANE_SHIFT	5
#define PGPDMA_DEST_VC_MASK	0x1f
/* dest = lane * 32 + vc: 8 lanes of 32 virtual channels each. */
#define PGPDMA_DEST(lane, vc)	(((lane) << PGPDMA_DEST_LANE_SHIFT) | \
				 ((vc) & PGPDMA_DEST_VC_MASK))
#define PGPDMA_DEST_MASK_WORDS	(PGPDMA_MAX_DEST / 64)

/* ------------------------------------------------------------------ */
/* Timing header: first 32 bytes of every frame the emulated engine   */
/* generates (LCLS-II timing system layout, little-endian).           */
/* ------------------------------------------------------------------ */

struct pgpdma_timing_header {
	__u64 pulse_id_ctl;	/* bits 0-55 pulse ID, 56-59 transition id, */
				/* 60-61 type, 62 end-of-list, 63 error */
	__u32 nanoseconds;
	__u32 seconds;		/* EPICS epoch: seconds since 1990-01-01 UTC */
	__u32 env;		/* bits 0-15 readout-group mask */
	__u32 evt_counter;	/* 24 bits used */
	__u32 opaque[2];
};

#define PGPDMA_TH_SIZE			32
#define PGPDMA_TH_PULSE_ID_MASK		((((__u64)1) << 56) - 1)
#define PGPDMA_TH_TRANSITION_SHIFT	56
#define PGPDMA_TH_TRANSITION_MASK	0xfU
#define PGPDMA_TH_TYPE_SHIFT		60
#define PGPDMA_TH_TYPE_MASK		0x3U
/* Type bits (60-61): the emulated engine writes 0 in every frame. */
#define PGPDMA_TH_EOL			(((__u64)1) << 62)
#define PGPDMA_TH_ERROR			(((__u64)1) << 63)
#define PGPDMA_TH_EVT_COUNTER_MASK	0x00ffffffU
#define PGPDMA_TH_READOUT_GROUP_MASK	0x0000ffffU

/* Seconds between the Unix epoch (1970) and the EPICS epoch (1990). */
#define PGPDMA_EPICS_EPOCH_OFFSET	631152000U

/*
 * Base rate of the LCLS-II timing system: one pulse ID per 1/929 kHz. The
 * generator at rate_hz advances the pulse ID by PGPDMA_PULSE_RATE_HZ /
 * rate_hz (integer division; 1 at rate 0, "as fast as possible") per
 * frame, an injected transition by 1. The event counter advances by one
 * per frame and, like the per-dest seq of pgpdma_rx_desc, also for frames
 * the driver dropped, so a receiver sees every loss as a gap.
 */
#define PGPDMA_PULSE_RATE_HZ		929000U

enum pgpdma_transition {
	PGPDMA_TR_CLEAR_READOUT	= 0,
	PGPDMA_TR_RESET		= 1,
	PGPDMA_TR_CONFIGURE	= 2,
	PGPDMA_TR_UNCONFIGURE	= 3,
	PGPDMA_TR_BEGIN_RUN	= 4,
	PGPDMA_TR_END_RUN	= 5,
	PGPDMA_TR_BEGIN_STEP	= 6,
	PGPDMA_TR_END_STEP	= 7,
	PGPDMA_TR_ENABLE	= 8,
	PGPDMA_TR_DISABLE	= 9,
	PGPDMA_TR_SLOW_UPDATE	= 10,
	PGPDMA_TR_L1ACCEPT	= 12
};

static __inline__ __u64 pgpdma_th_pulse_id(const struct pgpdma_timing_header *th)
{
	return th->pulse_id_ctl & PGPDMA_TH_PULSE_ID_MASK;
}

static __inline__ unsigned int
pgpdma_th_transition(const struct pgpdma_timing_header *th)
{
	return (unsigned int)((th->pulse_id_ctl >> PGPDMA_TH_TRANSITION_SHIFT) &
			      PGPDMA_TH_TRANSITION_MASK);
}

/*
 * Deterministic generator payload. After the 32-byte timing header, a
 * generated frame carries 32-bit little-endian words; word i (counting from
 * the first byte after the header) of the frame whose header holds pulse ID
 * p is pgpdma_payload_word(p, i). A frame whose length is not a multiple of
 * four ends with the low-order bytes of the next word.
 */
static __inline__ __u32 pgpdma_payload_word(__u64 pulse_id, __u32 i)
{
	__u32 x = (__u32)pulse_id ^ (__u32)(pulse_id >> 32) ^ (i * 0x9e3779b1U);

	x ^= x >> 16;
	x *= 0x7feb352dU;
	x ^= x >> 15;
	x *= 0x846ca68bU;
	x ^= x >> 16;
	return x;
}

/*
 * opaque[0] of a generated L1Accept frame says how its payload was made.
 * HASH (0, the default): word i is pgpdma_payload_word(pulse ID, i), new
 * in every frame. PATTERN (engine flag PGPDMA_ENGF_PATTERN): the payload
 * depends only on the offset inside the buffer, whose size opaque[1]
 * holds: the word at buffer offset o is pgpdma_payload_word(0, o / 4).
 * The engine then writes a buffer's payload once and afterwards only the
 * header, costing the CPU as little as DMA would: for benchmarks.
 */
#define PGPDMA_TH_PAYLOAD_HASH		0U
#define PGPDMA_TH_PAYLOAD_PATTERN	1U

/* Payload word i (after the header) of the generated frame with header th. */
static __inline__ __u32
pgpdma_gen_payload_word(const struct pgpdma_timing_header *th, __u32 i)
{
	if (th->opaque[0] == PGPDMA_TH_PAYLOAD_PATTERN && th->opaque[1] >= 64 &&
	    !(th->opaque[1] & 3))
		return pgpdma_payload_word(0, (PGPDMA_TH_SIZE / 4 + i) %
					      (th->opaque[1] / 4));
	return pgpdma_payload_word(pgpdma_th_pulse_id(th), i);
}

/* ------------------------------------------------------------------ */
/* Device information                                                 */
/* ------------------------------------------------------------------ */

/* pgpdma_info.flags */
#define PGPDMA_INFO_COHERENT	(1U << 0)	/* cfgMode=coherent buffers */
#define PGPDMA_INFO_STREAMING	(1U << 1)	/* cfgMode=streaming buffers */

struct pgpdma_info {
	__u32 api_version;	/* PGPDMA_API_VERSION of the driver */
	__u32 flags;		/* PGPDMA_INFO_* */
	__u32 instance;		/* N of /dev/pgpdmaN */
	__u32 rx_count;		/* cfgRxCount */
	__u32 tx_count;		/* cfgTxCount */
	__u32 buf_size;		/* cfgSize: usable bytes per buffer */
	__u32 stride;		/* bytes between buffers in the mapping */
	__u32 max_dest;		/* PGPDMA_MAX_DEST */
	__u64 rx_offset;	/* mmap offset of RX buffer 0 */
	__u64 tx_offset;	/* mmap offset of TX buffer 0 */
	__u64 map_size;		/* length of the whole mapping */
	__u32 max_frame;	/* largest TX frame in bytes (write(), TX chains) */
	__u32 rx_hold_max;	/* RX buffers this file may hold (SET_RX_HOLD) */
	__u64 reserved[3];
};

/* ------------------------------------------------------------------ */
/* Receive                                                            */
/* ------------------------------------------------------------------ */

/* pgpdma_rx_desc.flags */
#define PGPDMA_RXF_CONT		(1U << 0)	/* more buffers of this frame follow */
#define PGPDMA_RXF_SOF		(1U << 1)	/* first buffer of a frame */

/* pgpdma_rx_desc.error: bits the link/engine reports for a buffer */
#define PGPDMA_RXE_OVERFLOW	(1U << 0)	/* frame longer than the engine allowed */
#define PGPDMA_RXE_LINK		(1U << 1)	/* link/framing error on the wire */
#define PGPDMA_RXE_CHAIN	(1U << 2)	/* reserved for hardware back-ends: chain */
						/* cut short; the emulated engine drops */
						/* such frames whole and never sets it */

/**
 * struct pgpdma_rx_desc - one completed RX buffer handed to the caller
 * @index:  RX buffer index; the caller owns it until it returns it
 * @size:   bytes of frame data in this buffer
 * @flags:  PGPDMA_RXF_*
 * @dest:   destination (lane/virtual channel) of the frame
 * @error:  PGPDMA_RXE_* bits
 * @reserved: zero
 * @seq:    per-destination frame sequence number, starting at 0 when the
 *          module loads; every buffer of one frame carries the same value,
 *          and a gap means frames for this dest were lost (and counted)
 */
struct pgpdma_rx_desc {
	__u32 index;
	__u32 size;
	__u32 flags;
	__u32 dest;
	__u32 error;
	__u32 reserved;
	__u64 seq;
};

/* pgpdma_rx_read.flags */
#define PGPDMA_READ_WAIT	(1U << 0)	/* block until >= 1 buffer (unless O_NONBLOCK) */

/**
 * struct pgpdma_rx_read - bulk read of completed RX buffers (zero-copy)
 * @descs:  user pointer to an array of @count struct pgpdma_rx_desc
 * @count:  capacity of @descs (1..PGPDMA_MAX_BATCH)
 * @filled: out: number of descriptors written; the caller now owns them
 * @flags:  PGPDMA_READ_*
 * @reserved: zero
 *
 * Buffers of a continuation chain are handed out in order and never split
 * across two calls unless the chain is longer than @count (or than what
 * the file may still hold); then the next call continues the chain (its
 * first descriptor has no PGPDMA_RXF_SOF), and a read() after a split
 * returns only the rest of the chain.
 * The buffers become the caller's when the call returns 0; until then no
 * RX_RETURN can give them back (-EINVAL), even one racing with the call
 * from another thread. If the descriptors or this structure cannot be
 * copied out (-EFAULT) the frames taken are dropped: their buffers are
 * recycled (counted in user_returns), as is the rest of a chain the call
 * split, and the frames are counted in rx_drop_fault; nothing leaks.
 * The number taken is bounded by the file's hold limit (rx_hold_max of
 * GET_INFO): a call cut short by it counts in rx_hold_limited, and a call
 * while the file already holds that many fails with -ENOBUFS.
 * Without PGPDMA_READ_WAIT, or with O_NONBLOCK, an empty queue gives
 * @filled = 0 and returns 0.
 */
struct pgpdma_rx_read {
	__u64 descs;
	__u32 count;
	__u32 filled;
	__u32 flags;
	__u32 reserved[3];
};

#define PGPDMA_MAX_BATCH	4096

/*
 * Largest frame in bytes: the TX limit (pgpdma_info.max_frame reports it;
 * a TX chain or write() beyond it fails with -EMSGSIZE) and the largest
 * generator frame_size.
 */
#define PGPDMA_MAX_FRAME	(1U << 30)

/**
 * struct pgpdma_index_list - a batch of buffer indexes
 * @indexes: user pointer to an array of @count __u32 indexes
 * @count:   number of indexes (1..PGPDMA_MAX_BATCH)
 * @reserved: zero
 *
 * All or nothing: if any index is out of range, not held by this file, or
 * repeated, the call fails with -EINVAL and no buffer changes state.
 */
struct pgpdma_index_list {
	__u64 indexes;
	__u32 count;
	__u32 reserved[3];
};

/* ------------------------------------------------------------------ */
/* Transmit                                                           */
/* ------------------------------------------------------------------ */

/**
 * struct pgpdma_tx_acquire - take a free TX buffer to fill in place
 * @index:  out: TX buffer index, owned by this file until submitted
 *          or released (from when the call returns 0; a failed copy-out
 *          gives the buffer back)
 * @flags:  PGPDMA_TXA_WAIT: block until one is free (unless O_NONBLOCK);
 *          otherwise -EAGAIN when none is free. A waiter waits for any
 *          file (or another thread of its own) to free one: a file that
 *          holds every TX buffer itself waits until a signal.
 * @reserved: zero
 */
struct pgpdma_tx_acquire {
	__u32 index;
	__u32 flags;
	__u32 reserved[2];
};

#define PGPDMA_TXA_WAIT		(1U << 0)

/* pgpdma_tx_desc.flags */
#define PGPDMA_TXF_CONT		(1U << 0)	/* more buffers of this frame follow */

/**
 * struct pgpdma_tx_desc - submit a filled TX buffer
 * @index: TX buffer index owned by this file
 * @size:  bytes to send from the buffer (1..buf_size)
 * @dest:  destination of the frame (< PGPDMA_MAX_DEST); a frame has one
 *         dest: the one given with its first buffer
 * @flags: PGPDMA_TXF_*; a frame is the buffers submitted up to and
 *         including the first one without PGPDMA_TXF_CONT
 * @reserved: zero
 *
 * A frame is at most tx_count buffers and max_frame bytes (GET_INFO; at
 * most PGPDMA_MAX_FRAME). A submit that would make it longer fails with
 * -EMSGSIZE: the buffers already submitted for the frame are dropped
 * (back to TX_FREE, counted in tx_drop_oversize), the buffer of this call
 * stays the caller's.
 */
struct pgpdma_tx_desc {
	__u32 index;
	__u32 size;
	__u32 dest;
	__u32 flags;
	__u32 reserved[4];
};

/* ------------------------------------------------------------------ */
/* Destination claims                                                 */
/* ------------------------------------------------------------------ */

/**
 * struct pgpdma_dest_mask - destinations this file receives
 * @mask: bit d of mask[d / 64] set = this file claims dest d
 *
 * Setting replaces the file's previous claim. Claiming a dest another open
 * file holds fails with -EBUSY and changes nothing. A frame for a dest that
 * no file claims is dropped by the driver and counted (rx_drop_unclaimed);
 * so are frames already queued for a dest when its claim is dropped (by
 * SET_DEST or by closing the file).
 */
struct pgpdma_dest_mask {
	__u64 mask[PGPDMA_DEST_MASK_WORDS];
};

/**
 * struct pgpdma_rx_hold - limit of RX buffers this file may hold
 * @max:      RX_USER buffers this file may hold at once through RX_READ,
 *            1..rx_count; 0 = back to the device default (cfgRxHoldMax)
 * @reserved: zero
 *
 * Any file may lower its own limit; raising it above the default needs
 * CAP_SYS_ADMIN (else -EPERM). GET_INFO reports the file's limit.
 */
struct pgpdma_rx_hold {
	__u32 max;
	__u32 reserved[3];
};

/* ------------------------------------------------------------------ */
/* Statistics                                                         */
/* ------------------------------------------------------------------ */

/* Buffer ownership states; every buffer is in exactly one. */
enum pgpdma_buf_state {
	PGPDMA_ST_RX_HW = 0,	/* RX, free: owned by the engine */
	PGPDMA_ST_RX_QUEUED,	/* RX, completed, waiting to be read */
	PGPDMA_ST_RX_USER,	/* RX, handed to an open file */
	PGPDMA_ST_TX_FREE,	/* TX, free */
	PGPDMA_ST_TX_USER,	/* TX, acquired by an open file */
	PGPDMA_ST_TX_HW,	/* TX, submitted, owned by the engine */
	PGPDMA_ST_COUNT
};

#define PGPDMA_STATE_SLOTS	8

/**
 * struct pgpdma_stats - counters since the module was loaded
 *
 * state[] holds the number of buffers in each enum pgpdma_buf_state;
 * state[RX_*] add up to rx_count and state[TX_*] to tx_count at every
 * snapshot. state_hwm[] is the highest value each state has reached.
 */
struct pgpdma_stats {
	__u64 rx_frames;		/* frames completed to the queue */
	__u64 rx_bytes;			/* bytes in those frames */
	__u64 rx_buffers;		/* buffers completed */
	__u64 rx_cont_frames;		/* frames that spanned > 1 buffer */
	__u64 rx_errors;		/* frames completed with error bits */
	__u64 rx_drop_nobuf;		/* frames dropped: no free RX buffer */
	__u64 rx_drop_unclaimed;	/* frames dropped: dest not claimed */
	__u64 deadtime_ns;		/* time the engine waited for a buffer */
	__u64 deadtime_events;		/* times the engine had to wait */
	__u64 tx_frames;		/* frames submitted and sent */
	__u64 tx_bytes;
	__u64 tx_buffers;
	__u64 user_reads;		/* buffers handed to files */
	__u64 user_returns;		/* buffers returned by files */
	__u64 reclaimed;		/* RX and TX buffers taken back from closed */
					/* files, and TX frames of a gone device */
	__u64 gen_frames;		/* frames generated, dropped ones included */
	__u64 transitions;		/* transitions injected */
	__u64 rx_drop_fault;		/* frames dropped: RX_READ could not copy out */
	__u64 rx_hold_limited;		/* RX_READs cut short by a file's hold limit */
	__u64 tx_drop_oversize;		/* TX frames dropped: longer than max_frame */
	__u64 rx_bad_completion;	/* completions the device reported that the */
					/* driver refused (index not posted, size, */
					/* dest), each with the frame it was in */
	__u64 reserved[3];
	__u32 state[PGPDMA_STATE_SLOTS];
	__u32 state_hwm[PGPDMA_STATE_SLOTS];
};

/* ------------------------------------------------------------------ */
/* Emulated engine                                                    */
/* ------------------------------------------------------------------ */

/* pgpdma_engine.mode */
#define PGPDMA_ENG_IDLE		0	/* engine stopped */
#define PGPDMA_ENG_GENERATOR	1	/* generate frames at rate_hz */
#define PGPDMA_ENG_LOOPBACK	2	/* deliver TX frames to RX */

/* pgpdma_engine.flags */
#define PGPDMA_ENGF_LOSSLESS	(1U << 0)	/* wait for a free buffer, count deadtime */
#define PGPDMA_ENGF_PATTERN	(1U << 1)	/* payload written once per buffer (fast) */

/**
 * struct pgpdma_engine - emulated engine settings (GET reports, SET applies)
 * @mode:       PGPDMA_ENG_*
 * @flags:      PGPDMA_ENGF_*; without LOSSLESS the engine drops and counts;
 *              PATTERN writes a buffer's payload once, then only headers
 *              (see PGPDMA_TH_PAYLOAD_PATTERN)
 * @rate_hz:    generator frames per second, 0 = as fast as possible,
 *              at most PGPDMA_PULSE_RATE_HZ
 * @frame_size: generator frame size in bytes, PGPDMA_TH_SIZE ..
 *              min(rx_count * buf_size, PGPDMA_MAX_FRAME); larger than
 *              buf_size gives continuation chains
 * @dest:       destination of generated frames (< PGPDMA_MAX_DEST)
 * @readout_group: readout-group mask written into the header env field
 *              (16 bits)
 * @count:      stop the generator after this many frames, 0 = no limit
 * @running:    out: 1 while the generator/loopback is active; ignored by
 *              SET, so GET-modify-SET works
 * @reserved:   zero
 *
 * SET checks, in every mode, mode, flags, reserved, dest, readout_group
 * and rate_hz; in generator mode also frame_size (other modes keep it as
 * given). It needs CAP_SYS_ADMIN and a file open for writing.
 *
 * SET is a stop barrier: when it returns, the frame the engine was
 * delivering under the old settings has been completed, and no other
 * frame of the old settings (generated, or looped back after loopback was
 * switched off) is delivered afterwards.
 *
 * Only the emulated engine implements this; a hardware back-end returns
 * -EOPNOTSUPP.
 */
struct pgpdma_engine {
	__u32 mode;
	__u32 flags;
	__u32 rate_hz;
	__u32 frame_size;
	__u32 dest;
	__u32 readout_group;
	__u64 count;
	__u32 running;
	__u32 reserved[7];
};

/**
 * struct pgpdma_inject - queue one transition frame from the generator
 * @transition: enum pgpdma_transition (not L1ACCEPT)
 * @dest:       destination of the frame
 * @reserved:   zero
 *
 * The engine emits a 32-byte frame (timing header only) with the next
 * pulse ID, the transition id set, and the event counter advanced.
 * Works in any mode, generator running or not. Asynchronous: the frame
 * arrives shortly after the call returns; -EAGAIN when 64 transitions are
 * already waiting to be emitted. A file may inject to dests it claims;
 * to any other dest only with CAP_SYS_ADMIN (else -EACCES).
 */
struct pgpdma_inject {
	__u32 transition;
	__u32 dest;
	__u32 reserved[2];
};

/* ------------------------------------------------------------------ */
/* ioctl commands                                                     */
/* ------------------------------------------------------------------ */

#define PGPDMA_IOC_MAGIC	0xd7

#define PGPDMA_IOC_GET_INFO	_IOR(PGPDMA_IOC_MAGIC, 0x00, struct pgpdma_info)
#define PGPDMA_IOC_GET_STATS	_IOR(PGPDMA_IOC_MAGIC, 0x01, struct pgpdma_stats)
#define PGPDMA_IOC_RX_READ	_IOWR(PGPDMA_IOC_MAGIC, 0x10, struct pgpdma_rx_read)
#define PGPDMA_IOC_RX_RETURN	_IOW(PGPDMA_IOC_MAGIC, 0x11, struct pgpdma_index_list)
#define PGPDMA_IOC_TX_ACQUIRE	_IOWR(PGPDMA_IOC_MAGIC, 0x20, struct pgpdma_tx_acquire)
#define PGPDMA_IOC_TX_SUBMIT	_IOW(PGPDMA_IOC_MAGIC, 0x21, struct pgpdma_tx_desc)
#define PGPDMA_IOC_TX_RELEASE	_IOW(PGPDMA_IOC_MAGIC, 0x22, struct pgpdma_index_list)
#define PGPDMA_IOC_SET_DEST	_IOW(PGPDMA_IOC_MAGIC, 0x30, struct pgpdma_dest_mask)
#define PGPDMA_IOC_GET_DEST	_IOR(PGPDMA_IOC_MAGIC, 0x31, struct pgpdma_dest_mask)
#define PGPDMA_IOC_SET_RX_HOLD	_IOW(PGPDMA_IOC_MAGIC, 0x32, struct pgpdma_rx_hold)
#define PGPDMA_IOC_ENGINE_GET	_IOR(PGPDMA_IOC_MAGIC, 0x40, struct pgpdma_engine)
#define PGPDMA_IOC_ENGINE_SET	_IOW(PGPDMA_IOC_MAGIC, 0x41, struct pgpdma_engine)
#define PGPDMA_IOC_INJECT	_IOW(PGPDMA_IOC_MAGIC, 0x42, struct pgpdma_inject)

/*
 * Copy interface: read() returns one whole frame (all buffers of a
 * continuation chain, concatenated) and recycles its buffers; a buffer
 * smaller than the frame gets -EMSGSIZE and the frame stays queued.
 * write() sends one frame of at most max_frame bytes (else -EMSGSIZE) to
 * the lowest dest this file claims (dest 0 if it claims none), split into
 * TX buffers chained with PGPDMA_TXF_CONT; it waits for all the buffers it
 * needs at once. Both honour O_NONBLOCK (-EAGAIN).
 *
 * poll: EPOLLIN when a frame is queued for this file; EPOLLOUT when a
 * TX_ACQUIRE, and a write() as large as the last one this file had
 * refused with -EAGAIN (one buffer if none was), would not block;
 * EPOLLERR | EPOLLHUP once the device is gone. Wake-ups are keyed: a
 * poller waiting only for EPOLLIN is not woken by TX completions.
 */

#endif /* _UAPI_LINUX_PGPDMA_H */
