// SPDX-License-Identifier: GPL-2.0
/*
 * pgpdma ioctl fuzzer: bounded, seeded, concurrent.
 *
 * Every call must return: 0, or -1 with an errno of a small plausible set
 * (see fz_errno_ok()); anything else (EIO, ENODEV - the device is never
 * unplugged here -, a positive return, a bad descriptor, a buffer handed to
 * two files, a broken state snapshot) is a failure reported with the call
 * that produced it. Kernel oopses, BUGs, WARNINGs and KASAN reports are
 * caught by scripts/vm-run from the guest's kernel log.
 *
 * Two cases, each run by a child process of the test (so that its files and
 * mappings are closed by the kernel at exit, as a crashing client's are),
 * then checked from a fresh file: buffer states add up and every buffer is
 * back, counters are consistent, the device still delivers every buffer
 * (lossless generator cycle, payload checked) and lends every TX buffer,
 * and MemFree is back.
 *   fuzz.single_thread_garbage  one thread: random commands around the
 *                               magic and valid commands with random
 *                               contents and bad pointers, mmap/mprotect/
 *                               mremap/munmap of the device, fork, reopen
 *   fuzz.concurrent             FUZZ_THREADS threads doing the same on a
 *                               shared file and a few others, with a mapper
 *                               thread (mmap/munmap/mprotect of the device
 *                               under their feet), an engine controller
 *                               (idle/generator/loopback, lossless and
 *                               pattern flags), a reader verifying the
 *                               generator's payload, fork()ed children,
 *                               fd replacement under concurrent calls, and
 *                               two-thread races on the request copy-out
 *                               (RX_READ / TX_ACQUIRE with the request in a
 *                               read-only page while another thread returns
 *                               guessed indexes of the same file)
 *
 * Environment:
 *   FUZZ_SEED     seed (decimal or 0x...), default from the clock; printed
 *                 first ("# fuzz seed N calls M"): rerun with it to replay
 *   FUZZ_CALLS    ioctl calls of the whole run (default 200000, about 35 s
 *                 under TCG on 2 vCPUs, 70 s on the debug kernel): a quarter
 *                 in the single-threaded case, the rest in the concurrent one
 *   FUZZ_SECONDS  time bound of the whole run (default 200), half for each
 *                 case: a case stops there even when its calls are not done
 *                 and says how many it made; it fails when that is less
 *                 than its share of 10^5 (every run makes at least 10^5)
 *   FUZZ_THREADS  fuzzing threads of the concurrent case (1..8, default 4)
 *   FUZZ_WEIGHTS  op weights, e.g. "race_tx=0,fork=5" (names: fz_op_name[]),
 *                 to steer a run past a known bug
 *   FUZZ_MEMDEBUG  print memory counters for 3 s after each case
 *
 * Each thread draws from its own PRNG (splitmix64 of the seed, the case and
 * the thread id): its sequence of choices is deterministic given the seed
 * (up to what the driver answers); the interleaving of threads is not.
 *
 * Memory safety of the fuzzer itself: the kernel is only ever given
 * pointers into this thread's arena (RW scratch, a read-only area, guard
 * pages, all inside a PROT_NONE reservation), into the device mapping slot
 * (inside its own reservation, with a large guard) or the read-only stable
 * mapping, or pointers that cannot be mapped (NULL, below mmap_min_addr,
 * kernel, non-canonical). The one command that writes through an embedded
 * pointer (RX_READ's descs) always gets a struct the fuzzer controls. Only
 * one thread ever maps (the mapper, or the single thread), so a failed
 * MAP_FIXED leaves no hole that anything else could fill before it is
 * re-reserved.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <dirent.h>
#include <stdarg.h>
#include <sys/time.h>
#include "pgpdma_util.h"

#define FZ_SLOTS	4		/* fd slots: 0 = the shared file */
#define FZ_MAX_THREADS	8
#define FZ_CTX_MAX	(FZ_MAX_THREADS + 3)	/* + reader, controller, mapper */
#define FZ_ARENA	(16UL << 20)	/* per-thread reservation */
#define FZ_RW		(1UL << 20)	/* RW scratch at its start */
#define FZ_RO		(64UL << 10)	/* then a read-only area */
#define FZ_PG		4096UL		/* the arena's sub-layout unit */
#define FZ_SLOT_GUARD	(8UL << 20)	/* PROT_NONE after the device slot */
#define FZ_HELD		128
#define FZ_TXHELD	32
#define FZ_MSGS		8
#define FZ_RW_MAX	(4UL << 20)	/* largest read()/write() count we pass */

#define FZ_DEST_GEN	PGPDMA_DEST(2, 2)	/* the reader's: generator frames */
#define FZ_DEST_SHARED	PGPDMA_DEST(1, 0)	/* what the shared file claims */
#define FZ_DEST_STRICT(k) PGPDMA_DEST(4, (k))	/* thread k's private file */
#define FZ_DEST_CHILD	PGPDMA_DEST(5, 0)	/* fork()ed children's own files */

/* ------------------------------------------------------------------ */
/* PRNG                                                               */
/* ------------------------------------------------------------------ */

struct fz_rng {
	uint64_t s;
};

static uint64_t fz_mix(uint64_t z)
{
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

static uint64_t rnd64(struct fz_rng *r)
{
	r->s += 0x9e3779b97f4a7c15ULL;
	return fz_mix(r->s);
}

static uint32_t rnd32(struct fz_rng *r)
{
	return (uint32_t)(rnd64(r) >> 32);
}

static uint32_t rbelow(struct fz_rng *r, uint64_t n)
{
	return n ? (uint32_t)(rnd64(r) % n) : 0;
}

static bool rpct(struct fz_rng *r, unsigned int pct)
{
	return rbelow(r, 100) < pct;
}

static unsigned int rpick(struct fz_rng *r, const unsigned short *w, unsigned int n)
{
	unsigned int i, tot = 0, x;

	for (i = 0; i < n; i++)
		tot += w[i];
	x = rbelow(r, tot);
	for (i = 0; i < n; i++) {
		if (x < w[i])
			return i;
		x -= w[i];
	}
	return 0;
}

/* ------------------------------------------------------------------ */
/* Shared state (MAP_SHARED: the test process, the fuzz process and   */
/* its fork()ed children all see it)                                  */
/* ------------------------------------------------------------------ */

struct fz_count {
	uint64_t ioctls, others, ok, efault, einval, enotty, eintr, eagain,
		 ebadf, eperm, enobufs, emsgsize, eacces, ebusy, other_err;
};

struct fz_shared {
	volatile int stop;
	volatile int nerr;
	volatile int timed_out;
	char msg[FZ_MSGS][400];
	struct fz_count cnt[FZ_CTX_MAX];
	struct fz_count child;		/* fork()ed children, atomically */
	uint64_t forks, churns, tempfds, maps, unmaps, mprotects, races,
		 strict, verified, frames, engine_sets, kicks, fork_kills;
};

static struct fz_shared *sh;

/* ------------------------------------------------------------------ */
/* Per-run globals of the fuzz process                                */
/* ------------------------------------------------------------------ */

static uint64_t g_seed;
static uint64_t g_calls = 200000;
/* every run makes at least 10^5 calls, a quarter in case 0 (single thread) */
#define FZ_RUN_MIN_CALLS	100000U
#define FZ_MIN_CALLS(cas)	((cas) == 0 ? FZ_RUN_MIN_CALLS / 4 : FZ_RUN_MIN_CALLS - FZ_RUN_MIN_CALLS / 4)
static unsigned int g_seconds = 200;
static unsigned int g_threads = 4;

static struct pgpdma_info g_info;
static int g_own_fd = -1;		/* stable mappings, final engine idle */
static const uint8_t *g_stable;		/* whole pool, PROT_READ */
static uint8_t *g_tx_rw;		/* TX region, RW: fill held buffers */
static int g_slot_fd[FZ_SLOTS];
static volatile uint32_t g_slot_gen[FZ_SLOTS];
static uint8_t *g_slot;			/* device mapping slot + guard */
static size_t g_slot_use;		/* map_size rounded to pages */
static size_t g_pgsz;
static uint64_t g_deadline;
static uint64_t g_target;
static int *g_rx_holder;		/* private-file RX holder (ctx id + 1) */
static int *g_tx_holder;
static bool g_concurrent;
static struct fz_ctx *g_ctx[FZ_CTX_MAX];
static unsigned int g_nctx;

enum fz_pk {
	PK_VALID, PK_NULL, PK_LOW, PK_KERNEL, PK_NONCANON, PK_NONE, PK_RO,
	PK_MISALIGNED, PK_RW_RO, PK_RO_NONE, PK_EDGE_NONE, PK_DEVSLOT,
	PK_DEVRO, PK_RO_STRUCT, PK_INT, PK_N
};

static const char *const fz_pk_name[PK_N] = {
	"valid", "NULL", "low", "kernel", "non-canonical", "unmapped",
	"read-only", "misaligned", "straddling RW/RO", "straddling RO/unmapped",
	"straddling RW/unmapped", "device slot", "device RO map",
	"RO valid struct", "integer"
};

struct fz_ctx {
	int id;
	const char *role;
	struct fz_rng r;
	bool child;			/* running in a fork()ed child */
	pthread_t th;
	volatile int done;		/* the thread's function returned */
	volatile uint64_t busy_since;	/* ns, while in a possibly blocking call */
	uint64_t ncall;
	uint64_t wd_ncall, wd_since;	/* watchdog: last progress seen */
	struct fz_count *cnt;

	uint8_t *arena, *rw, *ro, *none, *edge;

	/* last call, for the failure message */
	const char *op;
	int slot;
	int ka, ki;

	uint32_t rx_held[FZ_SLOTS][FZ_HELD], nrx[FZ_SLOTS];
	uint32_t tx_held[FZ_SLOTS][FZ_TXHELD], ntx[FZ_SLOTS];
	uint32_t gen_seen[FZ_SLOTS];

	/* private ("strict") file: every answer is checked exactly */
	int sfd;
	uint32_t sdest;
	uint64_t smask[PGPDMA_DEST_MASK_WORDS];
	uint32_t s_rx[FZ_HELD], s_nrx;
	uint32_t s_tx[FZ_TXHELD], s_ntx;
	struct pgpdma_rx_desc sd[64];

	/* reader */
	uint8_t *frame;
	size_t frame_cap;
};

/* ------------------------------------------------------------------ */
/* Failures and accounting                                            */
/* ------------------------------------------------------------------ */

static void fz_fail(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void fz_fail(const char *fmt, ...)
{
	int n = __atomic_fetch_add(&sh->nerr, 1, __ATOMIC_SEQ_CST);
	va_list ap;

	if (n < FZ_MSGS) {
		va_start(ap, fmt);
		vsnprintf(sh->msg[n], sizeof(sh->msg[n]), fmt, ap);
		va_end(ap);
	}
	sh->stop = 1;
}

static void fz_add(struct fz_ctx *c, uint64_t *field_of_cnt)
{
	if (c->child) {
		/* the same field in sh->child */
		size_t off = (size_t)((char *)field_of_cnt - (char *)c->cnt);

		__atomic_fetch_add((uint64_t *)((char *)&sh->child + off), 1,
				   __ATOMIC_RELAXED);
	} else {
		(*field_of_cnt)++;
	}
}

static void fz_stat(uint64_t *p)
{
	__atomic_fetch_add(p, 1, __ATOMIC_RELAXED);
}

/* errno a call on the device may plausibly return for garbage */
static bool fz_errno_ok(int e)
{
	switch (e) {
	case EINVAL: case EFAULT: case ENOTTY: case EAGAIN: case EBUSY:
	case EPERM: case EBADF: case ENOMEM: case EMSGSIZE: case EINTR:
	case EOPNOTSUPP: case ENOBUFS: case EACCES: case ENOSPC:
		return true;
	default:
		return false;
	}
}

static void fz_count_errno(struct fz_ctx *c, long r, int e)
{
	struct fz_count *k = c->cnt;

	if (r >= 0) {
		fz_add(c, &k->ok);
		return;
	}
	switch (e) {
	case EFAULT: fz_add(c, &k->efault); break;
	case EINVAL: fz_add(c, &k->einval); break;
	case ENOTTY: fz_add(c, &k->enotty); break;
	case EINTR: fz_add(c, &k->eintr); break;
	case EAGAIN: fz_add(c, &k->eagain); break;
	case EBADF: fz_add(c, &k->ebadf); break;
	case EPERM: fz_add(c, &k->eperm); break;
	case ENOBUFS: fz_add(c, &k->enobufs); break;
	case EMSGSIZE: fz_add(c, &k->emsgsize); break;
	case EACCES: fz_add(c, &k->eacces); break;
	case EBUSY: fz_add(c, &k->ebusy); break;
	default: fz_add(c, &k->other_err); break;
	}
}

static void fz_fail_call(struct fz_ctx *c, const char *sys, int fd,
			 unsigned long cmd, const void *arg, long r, int e,
			 const char *why)
{
	if (strcmp(sys, "ioctl")) {
		fz_fail("%s%s %d call %llu: %s: %s(fd %d slot %d, buffer %p (%s)) = %ld errno %d (%s)%s%s",
			c->role, c->child ? " (fork child)" : "", c->id,
			(unsigned long long)c->ncall, c->op ? c->op : "?", sys, fd, c->slot,
			arg, fz_pk_name[c->ka % PK_N], r, r < 0 ? e : 0,
			r < 0 ? strerror(e) : "-", why ? ": " : "", why ? why : "");
		return;
	}
	fz_fail("%s%s %d call %llu: %s %s(fd %d slot %d, cmd %#lx [type %#x nr %#x dir %u size %u], arg %p (%s), inner %s) = %ld errno %d (%s)%s%s",
		c->role, c->child ? " (fork child)" : "", c->id,
		(unsigned long long)c->ncall, c->op ? c->op : "?", sys, fd,
		c->slot, cmd, (unsigned int)_IOC_TYPE(cmd), (unsigned int)_IOC_NR(cmd),
		(unsigned int)_IOC_DIR(cmd), (unsigned int)_IOC_SIZE(cmd), arg, fz_pk_name[c->ka % PK_N],
		fz_pk_name[c->ki % PK_N], r, r < 0 ? e : 0,
		r < 0 ? strerror(e) : "-", why ? ": " : "", why ? why : "");
}

static long fz_ioctl(struct fz_ctx *c, int fd, unsigned long cmd, void *arg)
{
	long r;
	int e;

	c->ncall++;
	c->busy_since = pg_now_ns();
	r = ioctl(fd, cmd, arg);
	e = errno;
	c->busy_since = 0;
	fz_add(c, &c->cnt->ioctls);
	fz_count_errno(c, r, e);
	if (r < 0 && !fz_errno_ok(e))
		fz_fail_call(c, "ioctl", fd, cmd, arg, r, e, "unexpected errno");
	else if (r > 0)
		fz_fail_call(c, "ioctl", fd, cmd, arg, r, e, "positive return");
	errno = e;
	return r;
}

/* read()/write()/poll()/...: counted as "others" */
static void fz_other(struct fz_ctx *c, const char *sys, int fd, long r, int e,
		     bool ok_errno)
{
	fz_add(c, &c->cnt->others);
	fz_count_errno(c, r, e);
	if (r < 0 && !ok_errno)
		fz_fail_call(c, sys, fd, 0, NULL, r, e, "unexpected errno");
}

static uint64_t fz_total_ioctls(void)
{
	uint64_t n = sh->child.ioctls;
	unsigned int i;

	for (i = 0; i < FZ_CTX_MAX; i++)
		n += *(volatile uint64_t *)&sh->cnt[i].ioctls;
	return n;
}

static bool fz_done(struct fz_ctx *c)
{
	if (sh->stop)
		return true;
	if ((c->ncall & 15) == 0) {
		if (fz_total_ioctls() >= g_target)
			return true;
		if (pg_now_ns() > g_deadline) {
			sh->timed_out = 1;
			return true;
		}
	}
	return false;
}

/* ------------------------------------------------------------------ */
/* Pointers                                                           */
/* ------------------------------------------------------------------ */

#define RO_RXREAD	0		/* 128 x struct pgpdma_rx_read */
#define RO_ILIST	(1 * FZ_PG)	/* 170 x struct pgpdma_index_list */
#define RO_IDX		(2 * FZ_PG)	/* 1024 x __u32 */
#define RO_TXACQ	(3 * FZ_PG)	/* 256 x struct pgpdma_tx_acquire */
#define RO_TXDESC	(4 * FZ_PG)	/* 128 x struct pgpdma_tx_desc */
#define RO_INJECT	(5 * FZ_PG)	/* 256 x struct pgpdma_inject */
#define RO_MASK		(6 * FZ_PG)	/* 128 x struct pgpdma_dest_mask */
#define RO_ENGINE	(7 * FZ_PG)	/* 64 x struct pgpdma_engine */
#define RO_WORDS	(8 * FZ_PG)	/* safe words up to the end */

/* bytes the fuzzer may write at p (its RW scratch or edge page) */
static size_t fz_wr_room(const struct fz_ctx *c, const void *vp)
{
	const uint8_t *p = vp;

	if (p >= c->rw && p < c->rw + FZ_RW)
		return (size_t)(c->rw + FZ_RW - p);
	if (p >= c->edge && p < c->edge + FZ_PG)
		return (size_t)(c->edge + FZ_PG - p);
	return 0;
}

/* copy what fits of src to p (the rest of p, if any, is read-only/unmapped) */
static void fz_put(const struct fz_ctx *c, void *p, const void *src, size_t len)
{
	size_t room = fz_wr_room(c, p);

	memcpy(p, src, len < room ? len : room);
}

static void fz_fill_random(struct fz_ctx *c, void *p, size_t len)
{
	size_t room = fz_wr_room(c, p), i;
	uint8_t *q = p;

	if (len > room)
		len = room;
	for (i = 0; i + 8 <= len; i += 8) {
		uint64_t v = rnd64(&c->r);

		memcpy(q + i, &v, 8);
	}
	for (; i < len; i++)
		q[i] = (uint8_t)rnd32(&c->r);
}

/*
 * A pointer for an object of @size bytes. @ctl: the kernel will read an
 * RX_READ request (which holds an output pointer) there, so only places
 * whose 8-byte words the fuzzer controls: it writes the request into the
 * writable part; read-only words are safe values (fz_ro_fill()).
 */
static void *fz_ptr(struct fz_ctx *c, size_t size, bool ctl, int *kind)
{
	static const unsigned short w[PK_N] = {
		[PK_VALID] = 40, [PK_NULL] = 5, [PK_LOW] = 3, [PK_KERNEL] = 4,
		[PK_NONCANON] = 3, [PK_NONE] = 5, [PK_RO] = 7,
		[PK_MISALIGNED] = 8, [PK_RW_RO] = 6, [PK_RO_NONE] = 4,
		[PK_EDGE_NONE] = 5, [PK_DEVSLOT] = 6, [PK_DEVRO] = 3,
	};
	size_t a = size ? size : 1, k, off;
	int pk = (int)rpick(&c->r, w, PK_N);

	if (ctl && (pk == PK_DEVSLOT || pk == PK_DEVRO))
		pk = PK_VALID;
	*kind = pk;
	switch (pk) {
	case PK_NULL:
		return NULL;
	case PK_LOW:		/* below mmap_min_addr (64 KiB) */
		return (void *)(uintptr_t)(1 + rbelow(&c->r, 0xfff0));
	case PK_KERNEL:
		return (void *)(uintptr_t)(0xffff888000000000ULL +
					   (rnd64(&c->r) & 0xffffffffffULL));
	case PK_NONCANON:
		return (void *)(uintptr_t)(0x0000800000000000ULL |
					   (rnd64(&c->r) & 0x7fffffffffffULL));
	case PK_NONE:
		return c->none + (rbelow(&c->r, FZ_PG) & (ctl ? ~7UL : ~0UL));
	case PK_RO:
		if (ctl) {	/* only among the safe words */
			off = rbelow(&c->r, (FZ_RO - RO_WORDS - (a < FZ_PG ? a : FZ_PG)) / 8);
			return c->ro + RO_WORDS + off * 8;
		}
		off = rbelow(&c->r, FZ_RO - (a < FZ_RO ? a : FZ_RO) + 1);
		return c->ro + off;
	case PK_MISALIGNED:
		off = a + 16 < FZ_RW ? rbelow(&c->r, FZ_RW - a - 16) : 0;
		return c->rw + (off & ~7UL) + 1 + rbelow(&c->r, 7);
	case PK_RW_RO:		/* k bytes in RW, the rest read-only */
		k = 1 + rbelow(&c->r, a > 1 ? a - 1 : 1);
		if (ctl)
			k = (k + 7) & ~7UL;
		return c->rw + FZ_RW - k;
	case PK_RO_NONE:
		k = 1 + rbelow(&c->r, a > 1 ? a - 1 : 1);
		if (ctl)
			k = (k + 7) & ~7UL;
		return c->ro + FZ_RO - k;
	case PK_EDGE_NONE:
		k = 1 + rbelow(&c->r, a > 1 ? (a - 1 < FZ_PG ? a - 1 : FZ_PG) : 1);
		if (ctl)
			k = (k + 7) & ~7UL;
		return c->edge + FZ_PG - k;
	case PK_DEVSLOT:
		off = rbelow(&c->r, g_slot_use);
		if (rpct(&c->r, 50))
			off &= ~(g_pgsz - 1);
		return g_slot + off;
	case PK_DEVRO:
		off = rbelow(&c->r, g_info.map_size);
		return (void *)(uintptr_t)(g_stable + off);
	default:
		off = a + 8 < FZ_RW ? rbelow(&c->r, (FZ_RW - a) / 8) * 8 : 0;
		return c->rw + off;
	}
}

/* ------------------------------------------------------------------ */
/* The read-only area: valid requests (the kernel can read but not    */
/* write them back), index arrays, and elsewhere only safe words      */
/* ------------------------------------------------------------------ */


static uint64_t fz_safe_word(struct fz_ctx *c)
{
	switch (rbelow(&c->r, 6)) {
	case 0:
		return 0;
	case 1:
		return rbelow(&c->r, 0x1000);
	case 2:
		return 0xffff888000000000ULL | (rnd64(&c->r) & 0xffffffffffULL);
	case 3:		/* small low half (a count), unmappable as a pointer */
		return rbelow(&c->r, 80) | ((uint64_t)(rnd32(&c->r) | 0x80000000U) << 32);
	case 4:
		return (uint64_t)(uintptr_t)(c->rw + (rbelow(&c->r, FZ_RW / 2) & ~7UL));
	default:
		return (uint64_t)(uintptr_t)c->none;
	}
}

static void fz_ro_fill(struct fz_ctx *c)
{
	uint8_t *ro = c->ro;
	uint32_t i, bs = g_info.buf_size;
	size_t o;

	for (o = 0; o < FZ_RO; o += 8) {
		uint64_t v = fz_safe_word(c);

		memcpy(ro + o, &v, 8);
	}
	for (i = 0; i < FZ_PG / sizeof(struct pgpdma_rx_read); i++) {
		struct pgpdma_rx_read *r = (void *)(ro + RO_RXREAD) + i * sizeof(*r);

		memset(r, 0, sizeof(*r));
		r->descs = (uintptr_t)(c->rw + FZ_RW / 2 + (i % 16) * 8192);
		if (i % 32 == 31)
			r->descs = (uintptr_t)(c->ro + RO_WORDS);
		r->count = 1 + i % 64;
		r->filled = 0x5a5a5a5a;
		r->flags = i % 16 == 15 ? PGPDMA_READ_WAIT : 0;
	}
	for (i = 0; i < FZ_PG / sizeof(struct pgpdma_index_list); i++) {
		struct pgpdma_index_list *l = (void *)(ro + RO_ILIST) + i * sizeof(*l);

		memset(l, 0, sizeof(*l));
		l->indexes = (uintptr_t)(ro + RO_IDX + 4 * ((i * 7) % 1000));
		l->count = 1 + i % 4;
	}
	for (i = 0; i < 1024; i++) {
		__u32 v = i < 512 ? i % (g_info.tx_count + 1) : i % (g_info.rx_count + 1);

		memcpy(ro + RO_IDX + 4 * i, &v, 4);
	}
	for (i = 0; i < FZ_PG / sizeof(struct pgpdma_tx_acquire); i++) {
		struct pgpdma_tx_acquire *a = (void *)(ro + RO_TXACQ) + i * sizeof(*a);

		memset(a, 0, sizeof(*a));
		a->index = 0xdeadbeef;
		a->flags = i % 16 == 15 ? PGPDMA_TXA_WAIT : 0;
	}
	for (i = 0; i < FZ_PG / sizeof(struct pgpdma_tx_desc); i++) {
		struct pgpdma_tx_desc *t = (void *)(ro + RO_TXDESC) + i * sizeof(*t);

		memset(t, 0, sizeof(*t));
		t->index = i % (g_info.tx_count ? g_info.tx_count : 1);
		t->size = 1 + (i * 37) % bs;
		t->dest = i % 2 ? FZ_DEST_SHARED : 0;
		t->flags = i % 3 == 0 ? PGPDMA_TXF_CONT : 0;
	}
	for (i = 0; i < FZ_PG / sizeof(struct pgpdma_inject); i++) {
		struct pgpdma_inject *in = (void *)(ro + RO_INJECT) + i * sizeof(*in);

		memset(in, 0, sizeof(*in));
		in->transition = i % 11;
		in->dest = i % 3 ? FZ_DEST_SHARED : FZ_DEST_GEN;
	}
	for (i = 0; i < FZ_PG / sizeof(struct pgpdma_dest_mask); i++) {
		struct pgpdma_dest_mask *m = (void *)(ro + RO_MASK) + i * sizeof(*m);

		memset(m, 0, sizeof(*m));
		if (i % 4 == 0)
			m->mask[FZ_DEST_SHARED / 64] = 1ULL << (FZ_DEST_SHARED % 64);
		else if (i % 4 == 2)
			m->mask[FZ_DEST_STRICT(i % 8) / 64] = 1ULL << (FZ_DEST_STRICT(i % 8) % 64);
		else if (i % 4 == 3)
			m->mask[i % 4] = rnd64(&c->r) &
				~(FZ_DEST_GEN / 64 == i % 4 ? 1ULL << (FZ_DEST_GEN % 64) : 0);
	}
	for (i = 0; i < FZ_PG / sizeof(struct pgpdma_engine); i++) {
		struct pgpdma_engine *e = (void *)(ro + RO_ENGINE) + i * sizeof(*e);

		memset(e, 0, sizeof(*e));
		e->mode = i % 3;
		e->flags = i % 4;
		e->rate_hz = 2000;
		e->frame_size = PGPDMA_TH_SIZE + (i * 131) % (2 * bs);
		e->dest = i % 2 ? FZ_DEST_GEN : FZ_DEST_SHARED;
		e->readout_group = i;
		e->count = 200;
	}
}

/* a premade valid request of the area for @cmd, or NULL */
static void *fz_ro_struct(struct fz_ctx *c, unsigned long cmd)
{
	size_t base, sz;

	switch (cmd) {
	case PGPDMA_IOC_RX_READ: base = RO_RXREAD; sz = sizeof(struct pgpdma_rx_read); break;
	case PGPDMA_IOC_RX_RETURN:
	case PGPDMA_IOC_TX_RELEASE: base = RO_ILIST; sz = sizeof(struct pgpdma_index_list); break;
	case PGPDMA_IOC_TX_ACQUIRE: base = RO_TXACQ; sz = sizeof(struct pgpdma_tx_acquire); break;
	case PGPDMA_IOC_TX_SUBMIT: base = RO_TXDESC; sz = sizeof(struct pgpdma_tx_desc); break;
	case PGPDMA_IOC_INJECT: base = RO_INJECT; sz = sizeof(struct pgpdma_inject); break;
	case PGPDMA_IOC_SET_DEST: base = RO_MASK; sz = sizeof(struct pgpdma_dest_mask); break;
	case PGPDMA_IOC_ENGINE_SET: base = RO_ENGINE; sz = sizeof(struct pgpdma_engine); break;
	default: return NULL;
	}
	return c->ro + base + rbelow(&c->r, FZ_PG / sz) * sz;
}

/*
 * Where to put a request of @size for @cmd: mostly valid scratch, else any
 * kind of pointer; the premade read-only request now and then. The
 * request (in @req) is written to whatever part is writable.
 */
static void *fz_arg(struct fz_ctx *c, unsigned long cmd, const void *req,
		    size_t size)
{
	void *p;

	if (rpct(&c->r, 8) && (p = fz_ro_struct(c, cmd))) {
		c->ka = PK_RO_STRUCT;
		return p;
	}
	if (rpct(&c->r, 70)) {
		c->ka = PK_VALID;
		p = c->rw + rbelow(&c->r, (FZ_RW - size) / 8) * 8;
	} else {
		p = fz_ptr(c, size, cmd == PGPDMA_IOC_RX_READ, &c->ka);
	}
	if (req)
		fz_put(c, p, req, size);
	return p;
}

/* ------------------------------------------------------------------ */
/* Random values                                                      */
/* ------------------------------------------------------------------ */

static uint32_t fz_count(struct fz_ctx *c)
{
	switch (rbelow(&c->r, 20)) {
	case 0: return 0;
	case 1: return PGPDMA_MAX_BATCH;
	case 2: return PGPDMA_MAX_BATCH + 1 + rbelow(&c->r, 300);
	case 3: return rnd32(&c->r);
	case 4: case 5: return 65 + rbelow(&c->r, PGPDMA_MAX_BATCH - 64);
	default: return 1 + rbelow(&c->r, 64);
	}
}

static uint32_t fz_dest_tx(struct fz_ctx *c)
{
	uint32_t d;

	switch (rbelow(&c->r, 10)) {
	case 0: case 1: case 2: return FZ_DEST_SHARED;
	case 3: case 4: return FZ_DEST_STRICT(rbelow(&c->r, FZ_MAX_THREADS));
	case 5: return 0;
	case 6: return PGPDMA_MAX_DEST + rbelow(&c->r, 100);
	case 7: d = rnd32(&c->r); break;
	default: d = rbelow(&c->r, PGPDMA_MAX_DEST); break;
	}
	/* never to the reader's dest: it checks the generator's payload */
	return d == FZ_DEST_GEN ? d + 1 : d;
}

static uint32_t fz_tx_size(struct fz_ctx *c)
{
	uint32_t bs = g_info.buf_size;

	switch (rbelow(&c->r, 12)) {
	case 0: return 0;
	case 1: return bs;
	case 2: return bs + 1;
	case 3: return rnd32(&c->r);
	case 4: return PGPDMA_TH_SIZE;
	default: return 1 + rbelow(&c->r, bs);
	}
}

static size_t fz_rw_size(struct fz_ctx *c)
{
	size_t bs = g_info.buf_size, big = (size_t)g_info.rx_count * bs;

	switch (rbelow(&c->r, 14)) {
	case 0: return 0;
	case 1: return 1;
	case 2: return PGPDMA_TH_SIZE - 1;
	case 3: return PGPDMA_TH_SIZE;
	case 4: return bs - 1;
	case 5: return bs;
	case 6: return bs + 1;
	case 7: return (size_t)g_info.tx_count * bs;
	case 8: return (size_t)g_info.tx_count * bs + 1;
	case 9: return big < FZ_RW_MAX ? big : FZ_RW_MAX;
	case 10: return FZ_RW_MAX;
	default: return 1 + rbelow(&c->r, 3 * bs);
	}
}

/* ------------------------------------------------------------------ */
/* Held buffers (best effort on shared files)                         */
/* ------------------------------------------------------------------ */

static void fz_slot_sync(struct fz_ctx *c, int slot)
{
	if (c->gen_seen[slot] != g_slot_gen[slot]) {
		c->gen_seen[slot] = g_slot_gen[slot];
		c->nrx[slot] = 0;
		c->ntx[slot] = 0;
	}
}

static int fz_slot(struct fz_ctx *c, int *slot)
{
	int s = rpct(&c->r, 45) ? 0 : 1 + (int)rbelow(&c->r, FZ_SLOTS - 1);

	fz_slot_sync(c, s);
	*slot = s;
	c->slot = s;
	return g_slot_fd[s];
}

static void fz_return_all(struct fz_ctx *c, int slot, int fd);

/* validate descriptors an RX_READ returned; keep them (or give them back) */
static void fz_take_descs(struct fz_ctx *c, int slot, int fd,
			  const struct pgpdma_rx_desc *d, uint32_t n,
			  const char *who)
{
	uint32_t i;

	for (i = 0; i < n; i++) {
		const struct pgpdma_rx_desc *x = &d[i];

		if (x->index >= g_info.rx_count || !x->size ||
		    x->size > g_info.buf_size || x->reserved ||
		    x->flags & ~(__u32)(PGPDMA_RXF_CONT | PGPDMA_RXF_SOF) ||
		    x->dest >= PGPDMA_MAX_DEST ||
		    x->error & ~(__u32)(PGPDMA_RXE_OVERFLOW | PGPDMA_RXE_LINK | PGPDMA_RXE_CHAIN)) {
			fz_fail("%s %d call %llu: %s: bad descriptor %u/%u: index %u size %u flags %#x dest %u error %#x reserved %#x",
				c->role, c->id, (unsigned long long)c->ncall, who, i, n,
				x->index, x->size, x->flags, x->dest, x->error, x->reserved);
			return;
		}
		if (!c->child && (slot >= 0 || slot == -2)) {
			int h = __atomic_load_n(&g_rx_holder[x->index], __ATOMIC_SEQ_CST);

			if (h)
				fz_fail("%s %d call %llu: %s handed RX buffer %u to slot %d while %s %d's private file holds it",
					c->role, c->id, (unsigned long long)c->ncall, who,
					x->index, slot, g_ctx[h - 1]->role, h - 1);
		}
		if (slot >= 0) {
			if (c->nrx[slot] == FZ_HELD)
				fz_return_all(c, slot, fd);
			c->rx_held[slot][c->nrx[slot]++] = x->index;
		}
	}
}

static long fz_index_call(struct fz_ctx *c, int fd, unsigned long cmd,
			  const uint32_t *idx, uint32_t n)
{
	struct pgpdma_index_list l;
	void *arr = c->rw + FZ_RW - 64 * 1024;	/* upper scratch for the array */
	void *arg = c->rw + FZ_RW - 96 * 1024;

	memcpy(arr, idx, n * sizeof(*idx));
	memset(&l, 0, sizeof(l));
	l.indexes = (uintptr_t)arr;
	l.count = n;
	memcpy(arg, &l, sizeof(l));
	c->ka = PK_VALID;
	c->ki = PK_VALID;
	return fz_ioctl(c, fd, cmd, arg);
}

static void fz_return_all(struct fz_ctx *c, int slot, int fd)
{
	if (c->nrx[slot]) {
		c->op = "RX_RETURN(all held)";
		fz_index_call(c, fd, PGPDMA_IOC_RX_RETURN, c->rx_held[slot], c->nrx[slot]);
	}
	c->nrx[slot] = 0;
}

/* ------------------------------------------------------------------ */
/* Commands                                                           */
/* ------------------------------------------------------------------ */

struct fz_cmd {
	unsigned long cmd;
	const char *name;
};

static const struct fz_cmd fz_cmds[] = {
	{ PGPDMA_IOC_GET_INFO, "GET_INFO" },
	{ PGPDMA_IOC_GET_STATS, "GET_STATS" },
	{ PGPDMA_IOC_RX_READ, "RX_READ" },
	{ PGPDMA_IOC_RX_RETURN, "RX_RETURN" },
	{ PGPDMA_IOC_TX_ACQUIRE, "TX_ACQUIRE" },
	{ PGPDMA_IOC_TX_SUBMIT, "TX_SUBMIT" },
	{ PGPDMA_IOC_TX_RELEASE, "TX_RELEASE" },
	{ PGPDMA_IOC_SET_DEST, "SET_DEST" },
	{ PGPDMA_IOC_GET_DEST, "GET_DEST" },
#ifdef PGPDMA_IOC_SET_RX_HOLD
	{ PGPDMA_IOC_SET_RX_HOLD, "SET_RX_HOLD" },
#endif
	{ PGPDMA_IOC_ENGINE_GET, "ENGINE_GET" },
	{ PGPDMA_IOC_ENGINE_SET, "ENGINE_SET" },
	{ PGPDMA_IOC_INJECT, "INJECT" },
};

/* magics next to ours, and some the VFS or a tty would know */
static const unsigned char fz_magics[] = { 0x00, 0x01, 0xd6, 0xd8, 0xff, 'T', 'f', 0x57 };

static unsigned long fz_rand_cmd(struct fz_ctx *c)
{
	const struct fz_cmd *k = &fz_cmds[rbelow(&c->r, PG_ARRAY_SIZE(fz_cmds))];
	const struct fz_cmd *o = &fz_cmds[rbelow(&c->r, PG_ARRAY_SIZE(fz_cmds))];
	unsigned int dir = _IOC_DIR(k->cmd), nr = _IOC_NR(k->cmd);
	unsigned int size = _IOC_SIZE(k->cmd), type = PGPDMA_IOC_MAGIC;
	unsigned int u = rbelow(&c->r, 100);

	if (u < 15) {			/* right size, wrong direction */
		dir = (dir + 1 + rbelow(&c->r, 3)) & 3;
	} else if (u < 30) {		/* wrong size */
		switch (rbelow(&c->r, 4)) {
		case 0: size = size + 1 + rbelow(&c->r, 8); break;
		case 1: size = size ? size - 1 - rbelow(&c->r, size < 8 ? size : 8) : 1; break;
		case 2: size = 0; break;
		default: size = rbelow(&c->r, 1U << 14); break;
		}
	} else if (u < 40) {
		nr = rbelow(&c->r, 256);
	} else if (u < 50) {
		nr = (nr + (rpct(&c->r, 50) ? 1 : 255)) & 0xff;
	} else if (u < 58) {
		type = fz_magics[rbelow(&c->r, sizeof(fz_magics))];
	} else if (u < 70) {
		dir = rbelow(&c->r, 4);
		nr = rbelow(&c->r, 256);
		size = rbelow(&c->r, 1U << 14);
	} else if (u < 80) {		/* the exact command, garbage contents */
		return k->cmd;
	} else if (u < 92) {		/* size and direction of another */
		dir = _IOC_DIR(o->cmd);
		size = _IOC_SIZE(o->cmd);
	} else {
		type = fz_magics[rbelow(&c->r, sizeof(fz_magics))];
		dir = rbelow(&c->r, 4);
		nr = rbelow(&c->r, 256);
		size = rbelow(&c->r, 1U << 14);
	}
	return _IOC(dir, type, nr, size & 0x3fff);
}

/* an RX_READ request with a safe output pointer */
static void fz_rx_read_req(struct fz_ctx *c, struct pgpdma_rx_read *rr)
{
	uint32_t count = fz_count(c);
	size_t dbytes = (size_t)(count <= PGPDMA_MAX_BATCH + 300 ? count : 64) *
			sizeof(struct pgpdma_rx_desc);

	memset(rr, 0, sizeof(*rr));
	rr->descs = (uintptr_t)fz_ptr(c, dbytes, false, &c->ki);
	rr->count = count;
	rr->filled = rnd32(&c->r);
	rr->flags = rpct(&c->r, 75) ? 0 : rpct(&c->r, 50) ? PGPDMA_READ_WAIT : rnd32(&c->r);
	if (rpct(&c->r, 8))
		rr->reserved[rbelow(&c->r, 3)] = rnd32(&c->r) | 1;
}

static void fz_garbage_on(struct fz_ctx *c, int fd)
{
	unsigned long cmd = fz_rand_cmd(c);
	size_t size = _IOC_SIZE(cmd);
	void *arg;

	c->op = "garbage";
	c->ki = PK_N - 1;
	if (_IOC_TYPE(cmd) == PGPDMA_IOC_MAGIC && _IOC_NR(cmd) == _IOC_NR(PGPDMA_IOC_RX_READ)) {
		struct pgpdma_rx_read rr;

		fz_rx_read_req(c, &rr);
		if (rpct(&c->r, 10)) {
			rr.reserved[0] = rnd32(&c->r);
			rr.flags = rnd32(&c->r);
		}
		arg = fz_ptr(c, sizeof(rr) > size ? sizeof(rr) : size, true, &c->ka);
		fz_put(c, arg, &rr, sizeof(rr));
	} else if (rpct(&c->r, 5)) {
		arg = (void *)(uintptr_t)rbelow(&c->r, 16);	/* an int, not a pointer */
		c->ka = PK_INT;
	} else {
		arg = fz_ptr(c, size < 8 ? 8 : size, false, &c->ka);
		if (fz_wr_room(c, arg))
			fz_fill_random(c, arg, size < 256 ? size + 8 : 256);
	}
	fz_ioctl(c, fd, cmd, arg);
}

static void op_garbage(struct fz_ctx *c)
{
	int slot, fd = fz_slot(c, &slot);

	fz_garbage_on(c, fd);
}

static void op_get(struct fz_ctx *c)
{
	static const unsigned long cmds[] = {
		PGPDMA_IOC_GET_INFO, PGPDMA_IOC_GET_STATS, PGPDMA_IOC_GET_DEST,
		PGPDMA_IOC_ENGINE_GET
	};
	static const char *const names[] = { "GET_INFO", "GET_STATS", "GET_DEST", "ENGINE_GET" };
	unsigned int w = rbelow(&c->r, 4);
	int slot, fd = fz_slot(c, &slot);
	size_t size = _IOC_SIZE(cmds[w]);
	void *arg;
	long r;

	c->op = names[w];
	c->ki = PK_N - 1;
	arg = fz_arg(c, cmds[w], NULL, size);
	if (fz_wr_room(c, arg))
		fz_fill_random(c, arg, size);
	r = fz_ioctl(c, fd, cmds[w], arg);
	if (r || fz_wr_room(c, arg) < size)
		return;
	if (w == 0) {
		struct pgpdma_info in;

		memcpy(&in, arg, sizeof(in));
		if (in.api_version != g_info.api_version || in.rx_count != g_info.rx_count ||
		    in.tx_count != g_info.tx_count || in.buf_size != g_info.buf_size ||
		    in.stride != g_info.stride || in.map_size != g_info.map_size ||
		    in.rx_offset != g_info.rx_offset || in.tx_offset != g_info.tx_offset ||
		    in.max_dest != PGPDMA_MAX_DEST || in.flags != g_info.flags)
			fz_fail_call(c, "ioctl", fd, cmds[w], arg, r, 0, "GET_INFO changed");
	} else if (w == 1) {
		struct pgpdma_stats st;
		const char *why;

		memcpy(&st, arg, sizeof(st));
		why = pg_states_bad(&g_info, &st);
		if (why)
			fz_fail_call(c, "ioctl", fd, cmds[w], arg, r, 0, why);
	} else if (w == 3) {
		struct pgpdma_engine e;
		unsigned int i;
		bool bad = false;

		memcpy(&e, arg, sizeof(e));
		for (i = 0; i < PG_ARRAY_SIZE(e.reserved); i++)
			bad |= e.reserved[i] != 0;
		if (bad || e.mode > PGPDMA_ENG_LOOPBACK || e.dest >= PGPDMA_MAX_DEST ||
		    e.flags & ~(__u32)(PGPDMA_ENGF_LOSSLESS | PGPDMA_ENGF_PATTERN) ||
		    e.running > 1)
			fz_fail_call(c, "ioctl", fd, cmds[w], arg, r, 0, "ENGINE_GET out of range");
	}
}

static void op_rx_read(struct fz_ctx *c)
{
	int slot, fd = fz_slot(c, &slot);
	struct pgpdma_rx_read rr, back;
	uintptr_t d, a;
	size_t dlen;
	void *arg;
	long r;

	c->op = "RX_READ";
	fz_rx_read_req(c, &rr);
	arg = fz_arg(c, PGPDMA_IOC_RX_READ, &rr, sizeof(rr));
	if (c->ka == PK_RO_STRUCT) {
		memcpy(&rr, arg, sizeof(rr));
		c->ki = PK_VALID;
	}
	r = fz_ioctl(c, fd, PGPDMA_IOC_RX_READ, arg);
	if (r || fz_wr_room(c, arg) < sizeof(rr))
		return;
	memcpy(&back, arg, sizeof(back));
	if (back.filled > rr.count || back.descs != rr.descs || back.count != rr.count ||
	    back.flags != rr.flags || back.reserved[0] || back.reserved[1] || back.reserved[2]) {
		fz_fail_call(c, "ioctl", fd, PGPDMA_IOC_RX_READ, arg, r, 0,
			     "request changed on output / filled > count");
		return;
	}
	/*
	 * Copied where we cannot read them, or into memory the request
	 * itself overlaps (the driver writes the request back after the
	 * descriptors, over them): only close() gets them back.
	 */
	dlen = back.filled * sizeof(struct pgpdma_rx_desc);
	d = (uintptr_t)rr.descs;
	a = (uintptr_t)arg;
	if (back.filled && fz_wr_room(c, (void *)d) >= dlen &&
	    (d + dlen <= a || a + sizeof(rr) <= d))
		fz_take_descs(c, slot, fd, (void *)d, back.filled, "RX_READ");
}

/* an index list from what we hold, mutated */
static uint32_t fz_mutate_list(struct fz_ctx *c, uint32_t *out, const uint32_t *held,
			       uint32_t nheld, uint32_t range, bool *pure)
{
	uint32_t n = 0, i, want;

	*pure = true;
	if (nheld && rpct(&c->r, 70)) {
		want = 1 + rbelow(&c->r, nheld);
		for (i = 0; i < want; i++)
			out[n++] = held[i];
	} else {
		want = 1 + rbelow(&c->r, 8);
		for (i = 0; i < want; i++)
			out[n++] = rbelow(&c->r, range + 2);
		*pure = false;
	}
	if (rpct(&c->r, 15)) {
		out[rbelow(&c->r, n)] = range + rbelow(&c->r, 1000);
		*pure = false;
	}
	if (rpct(&c->r, 10) && n < 64) {
		out[n] = out[rbelow(&c->r, n)];
		n++;
		*pure = false;
	}
	if (rpct(&c->r, 3)) {
		out[rbelow(&c->r, n)] = rnd32(&c->r);
		*pure = false;
	}
	return n;
}

static void fz_drop_held(uint32_t *held, uint32_t *nheld, uint32_t n)
{
	if (n > *nheld)
		n = *nheld;
	memmove(held, held + n, (*nheld - n) * sizeof(*held));
	*nheld -= n;
}

/* RX_RETURN (rx) or TX_RELEASE with mutated lists, pointers and fields */
static void op_index_list(struct fz_ctx *c, bool rx)
{
	int slot, fd = fz_slot(c, &slot);
	uint32_t *held = rx ? c->rx_held[slot] : c->tx_held[slot];
	uint32_t *nheld = rx ? &c->nrx[slot] : &c->ntx[slot];
	unsigned long cmd = rx ? PGPDMA_IOC_RX_RETURN : PGPDMA_IOC_TX_RELEASE;
	uint32_t list[FZ_HELD + 64];
	struct pgpdma_index_list l;
	bool pure, whole = true;
	uint32_t n;
	void *arr, *arg;
	long r;

	c->op = rx ? "RX_RETURN" : "TX_RELEASE";
	n = fz_mutate_list(c, list, held, *nheld, rx ? g_info.rx_count : g_info.tx_count, &pure);
	memset(&l, 0, sizeof(l));
	l.count = n;
	if (rpct(&c->r, 10)) {
		l.count = fz_count(c);
		whole = false;
	}
	if (rpct(&c->r, 6)) {
		l.reserved[rbelow(&c->r, 3)] = rnd32(&c->r) | 1;
		whole = false;
	}
	if (rpct(&c->r, 75)) {
		c->ki = PK_VALID;
		arr = c->rw + rbelow(&c->r, (FZ_RW - 32 * 1024) / 4) * 4;
	} else {
		arr = fz_ptr(c, n * sizeof(uint32_t), false, &c->ki);
		whole = false;
	}
	fz_put(c, arr, list, n * sizeof(uint32_t));
	l.indexes = (uintptr_t)arr;
	arg = fz_arg(c, cmd, &l, sizeof(l));
	r = fz_ioctl(c, fd, cmd, arg);
	if (c->ka == PK_RO_STRUCT)
		return;
	if (whole && pure && c->ka == PK_VALID) {
		/* success: they are gone; failure: someone else took them */
		fz_drop_held(held, nheld, n);
	} else if (!r && pure) {
		fz_drop_held(held, nheld, n);
	}
}

static void op_tx_acquire(struct fz_ctx *c)
{
	int slot, fd = fz_slot(c, &slot);
	struct pgpdma_tx_acquire a;
	void *arg;
	long r;

	c->op = "TX_ACQUIRE";
	c->ki = PK_N - 1;
	memset(&a, 0, sizeof(a));
	a.index = rnd32(&c->r);
	a.flags = rpct(&c->r, 80) ? 0 : rpct(&c->r, 60) ? PGPDMA_TXA_WAIT : rnd32(&c->r);
	if (rpct(&c->r, 6))
		a.reserved[rbelow(&c->r, 2)] = rnd32(&c->r) | 1;
	arg = fz_arg(c, PGPDMA_IOC_TX_ACQUIRE, &a, sizeof(a));
	r = fz_ioctl(c, fd, PGPDMA_IOC_TX_ACQUIRE, arg);
	if (r || fz_wr_room(c, arg) < sizeof(a))
		return;
	memcpy(&a, arg, sizeof(a));
	if (a.index >= g_info.tx_count || a.reserved[0] || a.reserved[1]) {
		fz_fail_call(c, "ioctl", fd, PGPDMA_IOC_TX_ACQUIRE, arg, r, 0,
			     "TX_ACQUIRE answer out of range");
		return;
	}
	if (!c->child) {
		int h = __atomic_load_n(&g_tx_holder[a.index], __ATOMIC_SEQ_CST);

		if (h)
			fz_fail("%s %d call %llu: TX_ACQUIRE on slot %d got TX buffer %u that %s %d's private file holds",
				c->role, c->id, (unsigned long long)c->ncall, slot,
				a.index, g_ctx[h - 1]->role, h - 1);
	}
	if (c->ntx[slot] == FZ_TXHELD)
		fz_drop_held(c->tx_held[slot], &c->ntx[slot], 1);
	c->tx_held[slot][c->ntx[slot]++] = a.index;
}

static void op_tx_submit(struct fz_ctx *c)
{
	int slot, fd = fz_slot(c, &slot);
	struct pgpdma_tx_desc t;
	bool from_held = c->ntx[slot] && rpct(&c->r, 75);
	uint32_t hi = 0;
	void *arg;
	long r;

	c->op = "TX_SUBMIT";
	c->ki = PK_N - 1;
	memset(&t, 0, sizeof(t));
	if (from_held) {
		hi = rbelow(&c->r, c->ntx[slot]);
		t.index = c->tx_held[slot][hi];
	} else {
		t.index = rpct(&c->r, 80) ? rbelow(&c->r, g_info.tx_count + 1) : rnd32(&c->r);
	}
	t.size = fz_tx_size(c);
	t.dest = fz_dest_tx(c);
	t.flags = rpct(&c->r, 60) ? 0 : rpct(&c->r, 80) ? PGPDMA_TXF_CONT : rnd32(&c->r);
	if (rpct(&c->r, 6))
		t.reserved[rbelow(&c->r, 4)] = rnd32(&c->r) | 1;
	/* (a fork child may not have the mapping: VM_DONTCOPY) */
	if (from_held && !c->child && t.index < g_info.tx_count && t.size &&
	    t.size <= g_info.buf_size && rpct(&c->r, 30))
		memset(g_tx_rw + (size_t)t.index * g_info.stride, (int)(rnd32(&c->r) & 0xff),
		       t.size);
	arg = fz_arg(c, PGPDMA_IOC_TX_SUBMIT, &t, sizeof(t));
	r = fz_ioctl(c, fd, PGPDMA_IOC_TX_SUBMIT, arg);
	if (!r && from_held && c->ka != PK_RO_STRUCT) {
		c->tx_held[slot][hi] = c->tx_held[slot][--c->ntx[slot]];
	}
}

static void op_set_dest(struct fz_ctx *c)
{
	int slot, fd = fz_slot(c, &slot);
	struct pgpdma_dest_mask m;
	unsigned int i;
	void *arg;

	c->op = "SET_DEST";
	c->ki = PK_N - 1;
	memset(&m, 0, sizeof(m));
	switch (rbelow(&c->r, 10)) {
	case 0: case 1: case 2: case 3:
		m.mask[FZ_DEST_SHARED / 64] |= 1ULL << (FZ_DEST_SHARED % 64);
		break;
	case 4: case 5:
		break;
	case 6:
		for (i = 0; i < PGPDMA_DEST_MASK_WORDS; i++)
			m.mask[i] = ~0ULL;
		break;
	case 7: {
		uint32_t d = FZ_DEST_STRICT(rbelow(&c->r, FZ_MAX_THREADS));

		m.mask[d / 64] |= 1ULL << (d % 64);
		break;
	}
	default:
		for (i = 0; i < PGPDMA_DEST_MASK_WORDS; i++)
			m.mask[i] = rnd64(&c->r) & rnd64(&c->r);
		break;
	}
	arg = fz_arg(c, PGPDMA_IOC_SET_DEST, &m, sizeof(m));
	fz_ioctl(c, fd, PGPDMA_IOC_SET_DEST, arg);
}

/* valid-looking engine settings with random fields */
static void fz_engine_req(struct fz_ctx *c, struct pgpdma_engine *e)
{
	static const uint32_t rates[] = { 100, 500, 1000, 5000, 20000, 929000, 2000000 };
	uint32_t bs = g_info.buf_size;

	memset(e, 0, sizeof(*e));
	e->mode = rpct(&c->r, 95) ? rbelow(&c->r, 3) : rnd32(&c->r);
	e->flags = rpct(&c->r, 90) ? rbelow(&c->r, 4) : rnd32(&c->r);
	e->rate_hz = rates[rbelow(&c->r, PG_ARRAY_SIZE(rates))];
	switch (rbelow(&c->r, 10)) {
	case 0: e->frame_size = PGPDMA_TH_SIZE - 1 - rbelow(&c->r, 32); break;
	case 1: e->frame_size = bs; break;
	case 2: e->frame_size = bs + 1; break;
	case 3: e->frame_size = g_info.rx_count * bs; break;
	case 4: e->frame_size = g_info.rx_count * bs + 1; break;
	case 5: e->frame_size = rnd32(&c->r); break;
	case 6: e->frame_size = UINT32_MAX; break;
	default: e->frame_size = PGPDMA_TH_SIZE + rbelow(&c->r, 4 * bs); break;
	}
	e->dest = rpct(&c->r, 90) ? rbelow(&c->r, PGPDMA_MAX_DEST) : rnd32(&c->r);
	e->readout_group = rnd32(&c->r);
	e->count = rpct(&c->r, 50) ? 0 : rbelow(&c->r, 1000);
	e->running = rnd32(&c->r);
	/* no endless flood: as fast as possible only for a bounded count */
	if (e->rate_hz > 20000 || !e->rate_hz) {
		e->count = 1 + rbelow(&c->r, 300);
	}
	if (rpct(&c->r, 5))
		e->reserved[rbelow(&c->r, 7)] = rnd32(&c->r) | 1;
	if (rpct(&c->r, 2)) {
		e->rate_hz = 0;
		e->count = 1 + rbelow(&c->r, 200);
	}
}

static void op_engine(struct fz_ctx *c)
{
	int slot, fd = fz_slot(c, &slot);
	struct pgpdma_engine e;
	void *arg;

	c->op = "ENGINE_SET";
	c->ki = PK_N - 1;
	fz_engine_req(c, &e);
	arg = fz_arg(c, PGPDMA_IOC_ENGINE_SET, &e, sizeof(e));
	if (!fz_ioctl(c, fd, PGPDMA_IOC_ENGINE_SET, arg))
		fz_stat(&sh->engine_sets);
}

static void op_inject(struct fz_ctx *c)
{
	int slot, fd = fz_slot(c, &slot);
	struct pgpdma_inject in;
	void *arg;

	c->op = "INJECT";
	c->ki = PK_N - 1;
	memset(&in, 0, sizeof(in));
	in.transition = rpct(&c->r, 85) ? rbelow(&c->r, 16) : rnd32(&c->r);
	in.dest = rpct(&c->r, 50) ? FZ_DEST_SHARED : fz_dest_tx(c);
	if (rpct(&c->r, 5))
		in.reserved[rbelow(&c->r, 2)] = rnd32(&c->r) | 1;
	arg = fz_arg(c, PGPDMA_IOC_INJECT, &in, sizeof(in));
	fz_ioctl(c, fd, PGPDMA_IOC_INJECT, arg);
}

static void op_rx_hold(struct fz_ctx *c)
{
#ifdef PGPDMA_IOC_SET_RX_HOLD
	int slot, fd = fz_slot(c, &slot);
	struct pgpdma_rx_hold h;
	void *arg;

	c->op = "SET_RX_HOLD";
	c->ki = PK_N - 1;
	memset(&h, 0, sizeof(h));
	switch (rbelow(&c->r, 6)) {
	case 0: h.max = 0; break;
	case 1: h.max = 1; break;
	case 2: h.max = g_info.rx_count; break;
	case 3: h.max = g_info.rx_count + 1; break;
	case 4: h.max = rnd32(&c->r); break;
	default: h.max = 1 + rbelow(&c->r, g_info.rx_count); break;
	}
	if (rpct(&c->r, 6))
		h.reserved[rbelow(&c->r, 3)] = rnd32(&c->r) | 1;
	arg = fz_arg(c, PGPDMA_IOC_SET_RX_HOLD, &h, sizeof(h));
	fz_ioctl(c, fd, PGPDMA_IOC_SET_RX_HOLD, arg);
#else
	op_garbage(c);
#endif
}

static void op_read(struct fz_ctx *c)
{
	int slot, fd = fz_slot(c, &slot);
	size_t n = fz_rw_size(c);
	void *p = fz_ptr(c, n, false, &c->ka);
	ssize_t r;
	int e;

	c->op = "read";
	c->ki = PK_N - 1;
	c->ncall++;
	c->busy_since = pg_now_ns();
	r = read(fd, p, n);
	e = errno;
	c->busy_since = 0;
	fz_other(c, "read", fd, r, e, fz_errno_ok(e));
	if (r > 0 && (size_t)r > n)
		fz_fail_call(c, "read", fd, 0, p, r, e, "returned more than asked");
}

static void op_write(struct fz_ctx *c)
{
	int slot, fd = fz_slot(c, &slot);
	size_t n = fz_rw_size(c);
	void *p;
	ssize_t r;
	int e;

	if (rpct(&c->r, 3))
		n = rpct(&c->r, 50) ? SIZE_MAX : (size_t)1 << 40;
	p = fz_ptr(c, n > FZ_RW_MAX ? 64 : n, false, &c->ka);
	c->op = "write";
	c->ki = PK_N - 1;
	c->ncall++;
	c->busy_since = pg_now_ns();
	r = write(fd, p, n);
	e = errno;
	c->busy_since = 0;
	fz_other(c, "write", fd, r, e, fz_errno_ok(e));
	if (r >= 0 && (size_t)r != n && r != 0)
		fz_fail_call(c, "write", fd, 0, p, r, e, "partial write");
}

static void op_poll(struct fz_ctx *c)
{
	static const short evs[] = { POLLIN, POLLOUT, POLLIN | POLLOUT, POLLPRI, 0,
				     POLLIN | POLLRDNORM | POLLOUT | POLLWRNORM };
	struct pollfd p[FZ_SLOTS];
	unsigned int i, n = 1 + rbelow(&c->r, FZ_SLOTS);
	int r, e;

	c->op = "poll";
	for (i = 0; i < n; i++) {
		p[i].fd = g_slot_fd[rbelow(&c->r, FZ_SLOTS)];
		p[i].events = rpct(&c->r, 85) ? evs[rbelow(&c->r, PG_ARRAY_SIZE(evs))] :
			      (short)rnd32(&c->r);
		p[i].revents = 0;
	}
	c->ncall++;
	c->busy_since = pg_now_ns();
	r = poll(p, n, (int)rbelow(&c->r, 3));
	e = errno;
	c->busy_since = 0;
	fz_other(c, "poll", p[0].fd, r, e, e == EINTR || e == ENOMEM);
	for (i = 0; r > 0 && i < n; i++)
		if (p[i].revents & (POLLNVAL | POLLERR | POLLHUP))
			fz_fail_call(c, "poll", p[i].fd, 0, NULL, p[i].revents, 0,
				     "POLLNVAL/POLLERR/POLLHUP on a live device");
}

static void op_fcntl(struct fz_ctx *c)
{
	int slot, fd = fz_slot(c, &slot);
	int fl = fcntl(fd, F_GETFL);

	c->op = "fcntl";
	if (fl < 0) {
		fz_other(c, "fcntl", fd, -1, errno, false);
		return;
	}
	fz_other(c, "fcntl", fd, fcntl(fd, F_SETFL, fl ^ O_NONBLOCK), errno, false);
}

static int fz_open_mode(struct fz_ctx *c)
{
	static const int modes[] = { O_RDWR, O_RDWR | O_NONBLOCK, O_RDONLY,
				     O_RDONLY | O_NONBLOCK, O_RDWR };

	return modes[rbelow(&c->r, PG_ARRAY_SIZE(modes))];
}

/* replace a slot's file under concurrent calls (dup2: the number stays valid) */
static void op_churn(struct fz_ctx *c)
{
	int slot = rpct(&c->r, 15) ? 0 : 1 + (int)rbelow(&c->r, FZ_SLOTS - 1);
	int nfd = pg_open(fz_open_mode(c));

	c->op = "reopen";
	c->slot = slot;
	if (nfd < 0) {
		fz_other(c, "open", -1, -1, errno, false);
		return;
	}
	fz_other(c, "dup2", g_slot_fd[slot], dup2(nfd, g_slot_fd[slot]), errno, false);
	close(nfd);
	__atomic_fetch_add((uint32_t *)&g_slot_gen[slot], 1, __ATOMIC_SEQ_CST);
	fz_slot_sync(c, slot);
	if (!c->child)
		fz_stat(&sh->churns);
}

/* ------------------------------------------------------------------ */
/* The private ("strict") file of a thread: exact expectations        */
/* ------------------------------------------------------------------ */

static void fz_strict_close(struct fz_ctx *c)
{
	uint32_t i;

	if (c->sfd < 0)
		return;
	for (i = 0; i < c->s_nrx; i++)
		__atomic_store_n(&g_rx_holder[c->s_rx[i]], 0, __ATOMIC_SEQ_CST);
	for (i = 0; i < c->s_ntx; i++)
		__atomic_store_n(&g_tx_holder[c->s_tx[i]], 0, __ATOMIC_SEQ_CST);
	c->s_nrx = 0;
	c->s_ntx = 0;
	if (close(c->sfd))
		fz_fail("%s %d: close of its private file: %s", c->role, c->id, strerror(errno));
	c->sfd = -1;
}

static void fz_strict_fail(struct fz_ctx *c, const char *what, long r, int e)
{
	fz_fail("%s %d call %llu: private file: %s (got %ld, errno %d %s)",
		c->role, c->id, (unsigned long long)c->ncall, what, r,
		r < 0 ? e : 0, r < 0 ? strerror(e) : "-");
}

static bool fz_strict_open(struct fz_ctx *c)
{
	struct pgpdma_dest_mask m;
	long r;

	if (c->sfd >= 0)
		return true;
	c->sfd = pg_open(O_RDWR | O_NONBLOCK);
	if (c->sfd < 0) {
		fz_strict_fail(c, "open", -1, errno);
		return false;
	}
	memset(&m, 0, sizeof(m));
	m.mask[c->sdest / 64] = 1ULL << (c->sdest % 64);
	c->op = "strict SET_DEST";
	r = fz_ioctl(c, c->sfd, PGPDMA_IOC_SET_DEST, &m);
	memset(c->smask, 0, sizeof(c->smask));
	if (!r)
		memcpy(c->smask, m.mask, sizeof(c->smask));
	else if (errno != EBUSY)	/* a garbage mask of another file may hold it */
		fz_strict_fail(c, "claim of its dest", r, errno);
	return true;
}

static bool fz_in(const uint32_t *a, uint32_t n, uint32_t v)
{
	uint32_t i;

	for (i = 0; i < n; i++)
		if (a[i] == v)
			return true;
	return false;
}

/*
 * A valid request placed in a read-only page: the driver must not complete
 * it (the result cannot be written back) and must fail with EFAULT, or with
 * @busy_errno when it has nothing to hand out anyway. Requests that ask to
 * WAIT are skipped: the strict client's private file would block.
 */
static void fz_strict_ro_request(struct fz_ctx *c, int fd, unsigned long cmd,
				 const char *op, int busy_errno)
{
	void *arg = fz_ro_struct(c, cmd);
	__u32 flags;
	long r;

	if (cmd == PGPDMA_IOC_RX_READ)
		flags = ((const struct pgpdma_rx_read *)arg)->flags;
	else
		flags = ((const struct pgpdma_tx_acquire *)arg)->flags;
	if (flags)
		return;
	c->op = op;
	c->ka = PK_RO_STRUCT;
	r = fz_ioctl(c, fd, cmd, arg);
	if (!r || (errno != EFAULT && errno != busy_errno))
		fz_strict_fail(c, "a request in a read-only page did not fail with EFAULT",
			       r, errno);
}

static void op_strict(struct fz_ctx *c)
{
	int fd, e;
	long r;
	uint32_t i, n, list[FZ_HELD + 4];

	if (c->child || !fz_strict_open(c))
		return;
	fd = c->sfd;
	c->slot = -1;
	fz_stat(&sh->strict);
	switch (rbelow(&c->r, 16)) {
	case 0: case 1: case 2: {		/* RX_READ: new, unique, our dest */
		struct pgpdma_rx_read rr;

		if (c->s_nrx > FZ_HELD - 64)
			break;
		memset(&rr, 0, sizeof(rr));
		rr.descs = (uintptr_t)c->sd;
		rr.count = 1 + rbelow(&c->r, 32);
		rr.filled = 0xdeadbeef;
		c->op = "strict RX_READ";
		r = fz_ioctl(c, fd, PGPDMA_IOC_RX_READ, &rr);
		e = errno;
		if (r) {
			if (e != ENOBUFS)
				fz_strict_fail(c, "RX_READ failed", r, e);
			break;
		}
		if (rr.filled > rr.count) {
			fz_strict_fail(c, "RX_READ filled > count", rr.filled, 0);
			break;
		}
		fz_take_descs(c, -1, fd, c->sd, rr.filled, "private RX_READ");
		for (i = 0; i < rr.filled; i++) {
			uint32_t x = c->sd[i].index;
			int h = 0;

			if (x >= g_info.rx_count)
				return;
			if (c->sd[i].dest != c->sdest || !(c->smask[c->sdest / 64] &
							  (1ULL << (c->sdest % 64)))) {
				fz_strict_fail(c, "RX_READ gave a frame of a dest it does not claim",
					       c->sd[i].dest, 0);
				return;
			}
			if (fz_in(c->s_rx, c->s_nrx, x)) {
				fz_strict_fail(c, "RX_READ handed out a buffer it already holds", x, 0);
				return;
			}
			if (!__atomic_compare_exchange_n(&g_rx_holder[x], &h, c->id + 1, false,
							 __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST)) {
				fz_fail("%s %d call %llu: private RX_READ got RX buffer %u that %s %d's private file holds",
					c->role, c->id, (unsigned long long)c->ncall, x,
					g_ctx[h - 1]->role, h - 1);
				return;
			}
			c->s_rx[c->s_nrx++] = x;
		}
		break;
	}
	case 3: case 4:				/* valid RX_RETURN must work */
		if (!c->s_nrx)
			break;
		n = c->s_nrx > 16 || rpct(&c->r, 30) ? c->s_nrx : 1 + rbelow(&c->r, c->s_nrx);
		for (i = 0; i < n; i++)
			__atomic_store_n(&g_rx_holder[c->s_rx[i]], 0, __ATOMIC_SEQ_CST);
		c->op = "strict RX_RETURN";
		r = fz_index_call(c, fd, PGPDMA_IOC_RX_RETURN, c->s_rx, n);
		if (r)
			fz_strict_fail(c, "RX_RETURN of held buffers failed", r, errno);
		fz_drop_held(c->s_rx, &c->s_nrx, n);
		break;
	case 5: {				/* all or nothing */
		uint32_t bad;

		n = c->s_nrx ? 1 + rbelow(&c->r, c->s_nrx) : 0;
		memcpy(list, c->s_rx, n * sizeof(*list));
		switch (rbelow(&c->r, 3)) {
		case 0:
			bad = g_info.rx_count + rbelow(&c->r, 100);
			break;
		case 1:
			if (n) {
				bad = list[rbelow(&c->r, n)];
				break;
			}
			/* fall through */
		default:
			bad = g_info.rx_count;		/* if we hold them all */
			for (i = 0; i < 64 && c->s_nrx < g_info.rx_count; i++) {
				bad = rbelow(&c->r, g_info.rx_count);
				if (!fz_in(c->s_rx, c->s_nrx, bad))
					break;
				bad = g_info.rx_count;
			}
			break;
		}
		list[n] = bad;
		i = rbelow(&c->r, n + 1);
		list[n] = list[i];
		list[i] = bad;
		c->op = "strict RX_RETURN(bad)";
		r = fz_index_call(c, fd, PGPDMA_IOC_RX_RETURN, list, n + 1);
		if (!r || errno != EINVAL)
			fz_strict_fail(c, "RX_RETURN with a bad index did not fail with EINVAL", r, errno);
		break;
	}
	case 6: case 7: {			/* TX_ACQUIRE */
		struct pgpdma_tx_acquire a;

		if (c->s_ntx >= 6)
			break;
		memset(&a, 0, sizeof(a));
		a.index = 0xdeadbeef;
		c->op = "strict TX_ACQUIRE";
		r = fz_ioctl(c, fd, PGPDMA_IOC_TX_ACQUIRE, &a);
		e = errno;
		if (r) {
			if (e != EAGAIN)
				fz_strict_fail(c, "TX_ACQUIRE failed", r, e);
			break;
		}
		if (a.index >= g_info.tx_count || fz_in(c->s_tx, c->s_ntx, a.index)) {
			fz_strict_fail(c, "TX_ACQUIRE index out of range or already held", a.index, 0);
			break;
		}
		i = 0;
		if (!__atomic_compare_exchange_n(&g_tx_holder[a.index], (int *)&i, c->id + 1,
						 false, __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST)) {
			fz_fail("%s %d call %llu: private TX_ACQUIRE got TX buffer %u that %s %d's private file holds",
				c->role, c->id, (unsigned long long)c->ncall, a.index,
				g_ctx[i - 1]->role, (int)i - 1);
			break;
		}
		c->s_tx[c->s_ntx++] = a.index;
		break;
	}
	case 8: {				/* valid TX_SUBMIT must work */
		struct pgpdma_tx_desc t;
		uint32_t k;

		if (!c->s_ntx)
			break;
		k = rbelow(&c->r, c->s_ntx);
		memset(&t, 0, sizeof(t));
		t.index = c->s_tx[k];
		t.size = 1 + rbelow(&c->r, g_info.buf_size);
		t.dest = rpct(&c->r, 70) ? c->sdest : FZ_DEST_SHARED;
		t.flags = rpct(&c->r, 30) ? PGPDMA_TXF_CONT : 0;
		pg_pattern_fill(g_tx_rw + (size_t)t.index * g_info.stride,
				t.size < 64 ? t.size : 64, t.index, 0);
		__atomic_store_n(&g_tx_holder[t.index], 0, __ATOMIC_SEQ_CST);
		c->op = "strict TX_SUBMIT";
		r = fz_ioctl(c, fd, PGPDMA_IOC_TX_SUBMIT, &t);
		if (r)
			fz_strict_fail(c, "valid TX_SUBMIT failed", r, errno);
		c->s_tx[k] = c->s_tx[--c->s_ntx];
		break;
	}
	case 9: {				/* invalid TX_SUBMIT: EINVAL, still ours */
		struct pgpdma_tx_desc t;

		memset(&t, 0, sizeof(t));
		t.index = c->s_ntx ? c->s_tx[rbelow(&c->r, c->s_ntx)] : 0;
		t.size = 1;
		switch (rbelow(&c->r, 6)) {
		case 0: t.size = 0; break;
		case 1: t.size = g_info.buf_size + 1 + rbelow(&c->r, 100); break;
		case 2: t.dest = PGPDMA_MAX_DEST + rbelow(&c->r, 1000); break;
		case 3: t.reserved[rbelow(&c->r, 4)] = 1; break;
		case 4: t.flags = 1U << (1 + rbelow(&c->r, 31)); break;
		default:
			t.index = g_info.tx_count + rbelow(&c->r, 100);
			if (rpct(&c->r, 50) && c->s_ntx < g_info.tx_count)
				for (i = 0; i < 64; i++) {
					t.index = rbelow(&c->r, g_info.tx_count);
					if (!fz_in(c->s_tx, c->s_ntx, t.index))
						break;
					t.index = g_info.tx_count;
				}
			break;
		}
		c->op = "strict TX_SUBMIT(bad)";
		r = fz_ioctl(c, fd, PGPDMA_IOC_TX_SUBMIT, &t);
		if (!r || errno != EINVAL)
			fz_strict_fail(c, "invalid TX_SUBMIT did not fail with EINVAL", r, errno);
		break;
	}
	case 10:				/* TX_RELEASE valid, or with a bad one */
		if (!c->s_ntx)
			break;
		n = 1 + rbelow(&c->r, c->s_ntx);
		memcpy(list, c->s_tx, n * sizeof(*list));
		if (rpct(&c->r, 30)) {
			list[n] = rpct(&c->r, 50) ? list[0] : g_info.tx_count + rbelow(&c->r, 9);
			c->op = "strict TX_RELEASE(bad)";
			r = fz_index_call(c, fd, PGPDMA_IOC_TX_RELEASE, list, n + 1);
			if (!r || errno != EINVAL)
				fz_strict_fail(c, "TX_RELEASE with a bad index did not fail with EINVAL",
					       r, errno);
			break;
		}
		for (i = 0; i < n; i++)
			__atomic_store_n(&g_tx_holder[list[i]], 0, __ATOMIC_SEQ_CST);
		c->op = "strict TX_RELEASE";
		r = fz_index_call(c, fd, PGPDMA_IOC_TX_RELEASE, list, n);
		if (r)
			fz_strict_fail(c, "TX_RELEASE of held buffers failed", r, errno);
		fz_drop_held(c->s_tx, &c->s_ntx, n);
		break;
	case 11: {				/* GET_DEST is what we set */
		struct pgpdma_dest_mask m;

		memset(&m, 0xa5, sizeof(m));
		c->op = "strict GET_DEST";
		r = fz_ioctl(c, fd, PGPDMA_IOC_GET_DEST, &m);
		if (r || memcmp(m.mask, c->smask, sizeof(m.mask)))
			fz_strict_fail(c, "GET_DEST differs from the claim", r, errno);
		break;
	}
	case 12:				/* request in a read-only page: EFAULT */
		fz_strict_ro_request(c, fd, PGPDMA_IOC_RX_READ, "strict RX_READ(request read-only)",
				     ENOBUFS);
		break;
	case 13:
		fz_strict_ro_request(c, fd, PGPDMA_IOC_TX_ACQUIRE,
				     "strict TX_ACQUIRE(request read-only)", EAGAIN);
		break;
	case 14: {				/* copy paths */
		ssize_t got;

		if (rpct(&c->r, 50)) {
			size_t len = 1 + rbelow(&c->r, 2 * g_info.buf_size);

			if (len > (size_t)g_info.tx_count * g_info.buf_size)
				len = g_info.buf_size;
			pg_pattern_fill(c->rw, len, c->id, 0);
			c->op = "strict write";
			c->ncall++;
			got = write(fd, c->rw, len);
			e = errno;
			fz_other(c, "write", fd, got, e, e == EAGAIN);
			if (got >= 0 && (size_t)got != len)
				fz_strict_fail(c, "write() short", got, 0);
		} else {
			c->op = "strict read";
			c->ncall++;
			got = read(fd, c->rw, FZ_RW);
			e = errno;
			fz_other(c, "read", fd, got, e, e == EAGAIN);
			if (got == 0)
				fz_strict_fail(c, "read() returned 0", got, 0);
		}
		break;
	}
	default:				/* close with whatever we hold */
		if (rpct(&c->r, 40))
			fz_strict_close(c);
		break;
	}
}

/* ------------------------------------------------------------------ */
/* Races on the request copy-out                                      */
/* ------------------------------------------------------------------ */

/*
 * RX_READ / TX_ACQUIRE whose request is read-only: the driver takes the
 * buffers, then cannot copy the answer and must give them back; meanwhile
 * other threads of the same file return guessed indexes.
 */
static void op_race(struct fz_ctx *c, bool tx)
{
	int fd = g_slot_fd[0];
	unsigned int i, n = 16 + rbelow(&c->r, 96), side = rbelow(&c->r, 2) + (tx ? 0 : 2);
	uint32_t base = rnd32(&c->r), idx;

	c->slot = 0;
	fz_slot_sync(c, 0);
	if (!c->child)
		fz_stat(&sh->races);
	for (i = 0; i < n && !sh->stop; i++) {
		switch (side) {
		case 0:
			c->op = "race TX_ACQUIRE(request read-only)";
			c->ka = PK_RO_STRUCT;
			fz_ioctl(c, fd, PGPDMA_IOC_TX_ACQUIRE, c->ro + RO_TXACQ);
			break;
		case 1:
			idx = (base + i) % g_info.tx_count;
			c->op = "race TX_RELEASE(guess)";
			fz_index_call(c, fd, PGPDMA_IOC_TX_RELEASE, &idx, 1);
			break;
		case 2:
			c->op = "race RX_READ(request read-only)";
			c->ka = PK_RO_STRUCT;
			fz_ioctl(c, fd, PGPDMA_IOC_RX_READ, c->ro + RO_RXREAD +
				 sizeof(struct pgpdma_rx_read) * (i % 8));
			break;
		default:
			idx = (base + i) % g_info.rx_count;
			c->op = "race RX_RETURN(guess)";
			fz_index_call(c, fd, PGPDMA_IOC_RX_RETURN, &idx, 1);
			break;
		}
	}
}

/* ------------------------------------------------------------------ */
/* Mappings (one mapping thread only: see the top of the file)        */
/* ------------------------------------------------------------------ */

static void fz_reserve(uint8_t *p, size_t len)
{
	if (mmap(p, len, PROT_NONE, MAP_FIXED | MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE,
		 -1, 0) == MAP_FAILED) {
		fz_fail("re-reserving %p+%zu: %s", (void *)p, len, strerror(errno));
		sh->stop = 1;
	}
}

static bool fz_mm_errno(int e)
{
	return e == EINVAL || e == EPERM || e == EACCES || e == ENOMEM ||
	       e == EAGAIN || e == EOVERFLOW || e == EBADF || e == EFAULT ||
	       e == ESPIPE;
}

static void op_map(struct fz_ctx *c, int fd_rw, int fd_ro)
{
	size_t pg = g_pgsz, npages = g_slot_use / pg, ps, np, off, len;
	uint8_t *addr;
	void *p;
	int prot, fd, e;

	c->slot = -1;
	switch (rbelow(&c->r, 10)) {
	case 0: case 1: case 2: {		/* device into the slot */
		int s = (int)rbelow(&c->r, FZ_SLOTS);

		ps = rbelow(&c->r, npages);
		np = 1 + rbelow(&c->r, npages - ps);
		addr = g_slot + ps * pg;
		len = np * pg;
		off = rpct(&c->r, 70) ? ps * pg : rbelow(&c->r, npages - np + 1) * pg;
		if (off < g_info.tx_offset) {
			prot = PROT_READ;
			fd = rpct(&c->r, 50) ? g_slot_fd[s] : fd_ro;
		} else {
			prot = rpct(&c->r, 70) ? PROT_READ | PROT_WRITE : PROT_READ;
			fd = prot & PROT_WRITE ? fd_rw : g_slot_fd[s];
		}
		c->op = "mmap(slot)";
		p = mmap(addr, len, prot, MAP_SHARED | MAP_FIXED, fd, (off_t)off);
		e = errno;
		fz_other(c, "mmap", fd, p == MAP_FAILED ? -1 : 0, e, fz_mm_errno(e));
		if (p == MAP_FAILED)
			fz_reserve(addr, len);
		else if (p != addr)
			fz_fail("mmap MAP_FIXED at %p returned %p", (void *)addr, p);
		fz_stat(&sh->maps);
		break;
	}
	case 3: case 4:				/* unmap part of the slot */
		ps = rbelow(&c->r, npages);
		np = 1 + rbelow(&c->r, npages - ps);
		c->op = "unmap(slot)";
		fz_reserve(g_slot + ps * pg, np * pg);
		fz_other(c, "mmap", -1, 0, 0, true);
		fz_stat(&sh->unmaps);
		break;
	case 5: {				/* mprotect part of the slot */
		static const int prots[] = { PROT_NONE, PROT_READ, PROT_READ | PROT_EXEC };
		int r;

		ps = rbelow(&c->r, npages);
		np = 1 + rbelow(&c->r, npages - ps);
		prot = prots[rbelow(&c->r, PG_ARRAY_SIZE(prots))];
		c->op = "mprotect(slot)";
		r = mprotect(g_slot + ps * pg, np * pg, prot);
		e = errno;
		fz_other(c, "mprotect", -1, r, e, fz_mm_errno(e));
		fz_stat(&sh->mprotects);
		break;
	}
	default: {				/* own mapping: use, remap, split, drop */
		volatile uint8_t sink = 0;
		bool rw, must_fail = false;
		int flags = MAP_SHARED;
		size_t i, mp = g_info.map_size / pg;
		const char *why = NULL;
		void *q;

		np = 1 + rbelow(&c->r, mp);
		off = rbelow(&c->r, mp - np + 1) * pg;
		rw = off >= g_info.tx_offset && rpct(&c->r, 50);
		fd = rw ? fd_rw : rpct(&c->r, 50) ? fd_ro : g_slot_fd[rbelow(&c->r, FZ_SLOTS)];
		prot = PROT_READ | (rw ? PROT_WRITE : 0);
		len = np * pg;
		switch (rbelow(&c->r, 14)) {
		case 0: flags = MAP_PRIVATE; must_fail = true; why = "MAP_PRIVATE"; fd = fd_ro; break;
		case 1: prot |= PROT_EXEC; must_fail = true; why = "PROT_EXEC"; break;
		case 2: off = g_info.map_size + pg * rbelow(&c->r, 4); len = pg;
			must_fail = true; why = "offset past the pool"; break;
		case 3: off = 0; len = g_info.map_size + pg; must_fail = true;
			why = "length past the pool"; break;
		case 4: prot = PROT_READ | PROT_WRITE; fd = fd_ro; must_fail = true;
			why = "PROT_WRITE on an O_RDONLY file"; break;
		case 5: off += 1 + rbelow(&c->r, pg - 1); must_fail = true;
			why = "unaligned offset"; break;
		case 6: len = 0; must_fail = true; why = "length 0"; break;
		case 7: off = (size_t)rnd64(&c->r) & ~(pg - 1); must_fail = off >= g_info.map_size;
			len = pg; why = "random offset past the pool"; fd = fd_ro; break;
		case 8: flags |= MAP_POPULATE; break;
		default: break;
		}
		c->op = "mmap";
		q = mmap(NULL, len, prot, flags, fd, (off_t)off);
		e = errno;
		fz_other(c, "mmap", fd, q == MAP_FAILED ? -1 : 0, e, fz_mm_errno(e));
		fz_stat(&sh->maps);
		if (q == MAP_FAILED)
			break;
		if (must_fail) {
			fz_fail("mmap with %s (off %zu len %zu prot %#x flags %#x) succeeded",
				why, off, len, prot, flags);
			munmap(q, len);
			break;
		}
		for (i = 0; i < len; i += pg)		/* a SIGBUS here is a bug */
			sink ^= ((volatile uint8_t *)q)[i + rbelow(&c->r, pg)];
		(void)sink;
		if (rw)
			for (i = 0; i < len; i += pg)
				((uint8_t *)q)[i + rbelow(&c->r, pg)] = (uint8_t)rnd32(&c->r);
		switch (rbelow(&c->r, 6)) {
		case 0: {				/* grow: VM_DONTEXPAND */
			void *m = mremap(q, len, len + pg, MREMAP_MAYMOVE);

			fz_other(c, "mremap", fd, m == MAP_FAILED ? -1 : 0, errno,
				 fz_mm_errno(errno));
			if (m != MAP_FAILED) {
				fz_fail("mremap growing a device mapping succeeded");
				q = m;
				len += pg;
			}
			break;
		}
		case 1:					/* shrink */
			if (len > pg) {
				void *m = mremap(q, len, len - pg, 0);

				fz_other(c, "mremap", fd, m == MAP_FAILED ? -1 : 0, errno,
					 fz_mm_errno(errno));
				if (m != MAP_FAILED)
					len -= pg;
			}
			break;
		case 2:					/* split */
			if (len > 2 * pg) {
				fz_other(c, "munmap", fd, munmap((uint8_t *)q + pg, pg), errno, false);
				sink ^= *(volatile uint8_t *)q;
				sink ^= ((volatile uint8_t *)q)[2 * pg];
				fz_other(c, "munmap", fd, munmap(q, pg), errno, false);
				q = (uint8_t *)q + 2 * pg;
				len -= 2 * pg;
			}
			break;
		case 3: {
			static const int adv[] = { MADV_DONTFORK, MADV_DOFORK, MADV_NORMAL,
						   MADV_RANDOM, MADV_DONTNEED, MADV_WILLNEED };
			int a = adv[rbelow(&c->r, PG_ARRAY_SIZE(adv))];

			/* the VFS answers some advice for any file: any errno */
			c->op = "madvise";
			fz_other(c, "madvise", fd, madvise(q, len, a), errno, true);
			break;
		}
		case 4: {				/* read-only -> writable */
			int r = mprotect(q, len, PROT_READ | PROT_WRITE);

			fz_other(c, "mprotect", fd, r, errno, fz_mm_errno(errno));
			if (!r && fd == fd_ro)
				fz_fail("mprotect(PROT_WRITE) of a mapping of an O_RDONLY file succeeded");
			break;
		}
		default:
			break;
		}
		fz_other(c, "munmap", fd, munmap(q, len), errno, false);
		fz_stat(&sh->unmaps);
		break;
	}
	}
}

/* ------------------------------------------------------------------ */
/* fork(), temporary files                                            */
/* ------------------------------------------------------------------ */

static void fz_noop(int sig)
{
	(void)sig;
}

static void fz_one_op(struct fz_ctx *c);

static void __attribute__((noreturn)) fz_child(struct fz_ctx *c)
{
	struct sigaction sa;
	struct itimerval it = { { 0, 20000 }, { 0, 20000 } };
	unsigned int i, n;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = fz_noop;
	sigaction(SIGALRM, &sa, NULL);		/* no SA_RESTART: EINTR */
	setitimer(ITIMER_REAL, &it, NULL);
	c->child = true;
	c->r.s = fz_mix(c->r.s ^ 0x6368696c64ULL);
	n = 1 + rbelow(&c->r, 24);
	for (i = 0; i < n && !sh->stop; i++)
		fz_one_op(c);
	if (rpct(&c->r, 30)) {
		/* die holding buffers of a file of its own and of the shared one */
		int fd = pg_open(O_RDWR | O_NONBLOCK);
		struct pgpdma_rx_desc *d = (void *)c->rw;
		struct pgpdma_tx_acquire a;

		if (fd >= 0) {
			struct pgpdma_inject in;

			memset(&in, 0, sizeof(in));
			in.transition = PGPDMA_TR_SLOW_UPDATE;
			in.dest = FZ_DEST_CHILD;
			pg_set_dest_one(fd, FZ_DEST_CHILD);
			ioctl(fd, PGPDMA_IOC_INJECT, &in);
			pg_msleep(2);
			pg_rx_read(fd, d, 8, 0);
			memset(&a, 0, sizeof(a));
			ioctl(fd, PGPDMA_IOC_TX_ACQUIRE, &a);
		}
		pg_rx_read(g_slot_fd[0], d, 8, 0);
		if (rpct(&c->r, 50))
			kill(getpid(), SIGKILL);
	}
	_exit(0);
}

static void op_fork(struct fz_ctx *c)
{
	uint64_t end;
	pid_t pid;
	int st = 0;

	if (c->child)
		return;
	c->op = "fork";
	pid = fork();
	if (pid == 0)
		fz_child(c);
	if (pid < 0) {
		fz_other(c, "fork", -1, -1, errno, errno == EAGAIN || errno == ENOMEM);
		return;
	}
	fz_stat(&sh->forks);
	/* a few random ops of our own meanwhile, then wait (bounded) */
	end = pg_now_ns() + 20ULL * 1000000000ULL;
	for (;;) {
		pid_t w = waitpid(pid, &st, WNOHANG);

		if (w == pid)
			break;
		if (w < 0 && errno != EINTR) {
			fz_fail("waitpid(%d): %s", pid, strerror(errno));
			return;
		}
		if (pg_now_ns() > end) {
			fz_fail("%s %d: fork child %d did not exit within 20 s (a call stuck?)",
				c->role, c->id, pid);
			kill(pid, SIGKILL);
			waitpid(pid, &st, 0);
			return;
		}
		pg_msleep(1);
	}
	if (WIFSIGNALED(st) && WTERMSIG(st) == SIGKILL) {
		fz_stat(&sh->fork_kills);
	} else if (!WIFEXITED(st) || WEXITSTATUS(st)) {
		fz_fail("%s %d: fork child ended with status %#x%s", c->role, c->id, st,
			WIFSIGNALED(st) ? " (killed by a signal)" : "");
	}
}

static void op_tempfd(struct fz_ctx *c)
{
	int fd = pg_open(fz_open_mode(c));
	unsigned int i, n = 1 + rbelow(&c->r, 6);

	c->op = "open(temp)";
	if (fd < 0) {
		fz_other(c, "open", -1, -1, errno, false);
		return;
	}
	if (!c->child)
		fz_stat(&sh->tempfds);
	for (i = 0; i < n; i++) {
		struct pgpdma_rx_desc *d = (void *)(c->rw + 4096);
		long r;

		c->slot = -1;
		switch (rbelow(&c->r, 5)) {
		case 0:
			c->op = "temp SET_DEST";
			r = pg_set_dest_one(fd, FZ_DEST_SHARED);
			(void)r;
			break;
		case 1: {
			struct pgpdma_rx_read rr;

			memset(&rr, 0, sizeof(rr));
			rr.descs = (uintptr_t)d;
			rr.count = 1 + rbelow(&c->r, 16);
			c->op = "temp RX_READ";
			if (!fz_ioctl(c, fd, PGPDMA_IOC_RX_READ, &rr))
				fz_take_descs(c, -2, fd, d, rr.filled, "temp RX_READ");
			break;
		}
		case 2: {
			struct pgpdma_tx_acquire a;

			memset(&a, 0, sizeof(a));
			c->op = "temp TX_ACQUIRE";
			fz_ioctl(c, fd, PGPDMA_IOC_TX_ACQUIRE, &a);
			break;
		}
		case 3: {
			size_t len = 1 + rbelow(&c->r, g_info.buf_size);
			ssize_t w;

			c->op = "temp write";
			c->ncall++;
			c->busy_since = pg_now_ns();
			w = write(fd, c->rw, len);
			c->busy_since = 0;
			fz_other(c, "write", fd, w, errno, fz_errno_ok(errno));
			break;
		}
		default:
			c->op = "temp garbage";
			fz_garbage_on(c, fd);
			break;
		}
	}
	c->op = "close(temp)";
	fz_other(c, "close", fd, close(fd), errno, false);
}

/* ------------------------------------------------------------------ */
/* The fuzzing threads                                                */
/* ------------------------------------------------------------------ */

enum {
	OP_GARBAGE, OP_GET, OP_RX_READ, OP_RX_RETURN, OP_TX_ACQUIRE, OP_TX_SUBMIT,
	OP_TX_RELEASE, OP_SET_DEST, OP_ENGINE, OP_INJECT, OP_RX_HOLD, OP_READ,
	OP_WRITE, OP_POLL, OP_FCNTL, OP_CHURN, OP_FORK, OP_TEMPFD, OP_RACE_TX,
	OP_RACE_RX, OP_STRICT, OP_MAP, OP_N
};

/* FUZZ_WEIGHTS=name=N,... overrides these (names as below) */
static const char *const fz_op_name[OP_N] = {
	"garbage", "get", "rx_read", "rx_return", "tx_acquire", "tx_submit",
	"tx_release", "set_dest", "engine", "inject", "rx_hold", "read",
	"write", "poll", "fcntl", "reopen", "fork", "tempfd", "race_tx",
	"race_rx", "private", "map"
};

static unsigned short fz_w[OP_N] = {
	[OP_GARBAGE] = 220, [OP_GET] = 60, [OP_RX_READ] = 110, [OP_RX_RETURN] = 90,
	[OP_TX_ACQUIRE] = 70, [OP_TX_SUBMIT] = 70, [OP_TX_RELEASE] = 50,
	[OP_SET_DEST] = 25, [OP_ENGINE] = 6, [OP_INJECT] = 25, [OP_RX_HOLD] = 12,
	[OP_READ] = 30, [OP_WRITE] = 30, [OP_POLL] = 25, [OP_FCNTL] = 6,
	[OP_CHURN] = 3, [OP_FORK] = 1, [OP_TEMPFD] = 5, [OP_RACE_TX] = 2,
	[OP_RACE_RX] = 2,
	[OP_STRICT] = 120, [OP_MAP] = 0,
};

static int g_map_fd_rw = -1, g_map_fd_ro = -1;

static void fz_one_op(struct fz_ctx *c)
{
	unsigned int op = rpick(&c->r, fz_w, OP_N);

	c->ka = PK_VALID;
	c->ki = PK_N - 1;
	if (c->child && (op == OP_FORK || op == OP_STRICT || op == OP_MAP))
		op = OP_GARBAGE;
	switch (op) {
	case OP_GARBAGE: op_garbage(c); break;
	case OP_GET: op_get(c); break;
	case OP_RX_READ: op_rx_read(c); break;
	case OP_RX_RETURN: op_index_list(c, true); break;
	case OP_TX_ACQUIRE: op_tx_acquire(c); break;
	case OP_TX_SUBMIT: op_tx_submit(c); break;
	case OP_TX_RELEASE: op_index_list(c, false); break;
	case OP_SET_DEST: op_set_dest(c); break;
	case OP_ENGINE: op_engine(c); break;
	case OP_INJECT: op_inject(c); break;
	case OP_RX_HOLD: op_rx_hold(c); break;
	case OP_READ: op_read(c); break;
	case OP_WRITE: op_write(c); break;
	case OP_POLL: op_poll(c); break;
	case OP_FCNTL: op_fcntl(c); break;
	case OP_CHURN: op_churn(c); break;
	case OP_FORK: op_fork(c); break;
	case OP_TEMPFD: op_tempfd(c); break;
	case OP_RACE_TX: op_race(c, true); break;
	case OP_RACE_RX: op_race(c, false); break;
	case OP_STRICT: op_strict(c); break;
	default: op_map(c, g_map_fd_rw, g_map_fd_ro); break;
	}
}

static void *fz_worker(void *arg)
{
	struct fz_ctx *c = arg;

	while (!fz_done(c))
		fz_one_op(c);
	fz_strict_close(c);
	c->done = 1;
	return NULL;
}

/* ------------------------------------------------------------------ */
/* Reader, controller, mapper, watchdog (concurrent case)             */
/* ------------------------------------------------------------------ */

/*
 * The reader's file and its claim of FZ_DEST_GEN, made before any worker
 * starts: a worker's SET_DEST with a random or all-ones mask would
 * otherwise take the dest first (and then rightly get EBUSY once the
 * reader holds it).
 */
static int fz_claim_reader(struct fz_ctx *c)
{
	c->sfd = pg_open(O_RDWR | O_NONBLOCK);
	if (c->sfd < 0 || pg_set_dest_one(c->sfd, FZ_DEST_GEN)) {
		fz_fail("reader: open/claim of dest %u: %s", FZ_DEST_GEN, strerror(errno));
		return -1;
	}
	return 0;
}

static void *fz_reader(void *arg)
{
	struct fz_ctx *c = arg;
	struct pgpdma_rx_desc d[64];
	__u32 idx[64];
	size_t flen = 0;
	bool verify = false, in_chain = false;
	uint64_t last_seq = 0, last_pid = 0;
	bool any = false;
	int fd = c->sfd, n, i;	/* opened and claimed by fz_claim_reader() */

	while (!sh->stop) {
		if (rpct(&c->r, 2)) {
			struct pgpdma_inject in;

			c->op = "reader INJECT";
			memset(&in, 0, sizeof(in));
			in.transition = rbelow(&c->r, 11);
			in.dest = FZ_DEST_GEN;
			fz_ioctl(c, fd, PGPDMA_IOC_INJECT, &in);
		}
		if (!in_chain && rpct(&c->r, 10)) {		/* copy path */
			ssize_t got;

			c->op = "reader read";
			c->ncall++;
			got = read(fd, c->frame, c->frame_cap);
			fz_other(c, "read", fd, got, errno, errno == EAGAIN);
			if (got > 0) {
				struct pgpdma_timing_header th;
				const char *why = NULL;

				memcpy(&th, c->frame, sizeof(th));
				fz_stat(&sh->frames);
				if (got >= PGPDMA_TH_SIZE &&
				    pgpdma_th_transition(&th) == PGPDMA_TR_L1ACCEPT) {
					why = pg_check_gen_payload(c->frame, (size_t)got);
					fz_stat(&sh->verified);
				} else if (got != PGPDMA_TH_SIZE) {
					why = "transition frame not 32 bytes";
				}
				if (why)
					fz_fail("reader: read() frame of %zd bytes: %s", got, why);
				any = false;	/* no seq through read() */
			} else if (got < 0 && errno == EAGAIN) {
				pg_wait_in(fd, 5);
			}
			continue;
		}
		memset(d, 0xa5, sizeof(d));
		c->op = "reader RX_READ";
		n = pg_rx_read(fd, d, 1 + rbelow(&c->r, 64), 0);
		c->ncall++;
		fz_add(c, &c->cnt->ioctls);
		fz_count_errno(c, n < 0 ? -1 : 0, -n);
		if (n < 0) {
			fz_fail("reader: RX_READ: %s", strerror(-n));
			break;
		}
		if (!n) {
			pg_wait_in(fd, 5);
			continue;
		}
		fz_take_descs(c, -3, fd, d, (uint32_t)n, "reader RX_READ");
		for (i = 0; i < n; i++) {
			const struct pgpdma_rx_desc *x = &d[i];
			int h = 0;

			if (x->index >= g_info.rx_count)
				break;
			if (!__atomic_compare_exchange_n(&g_rx_holder[x->index], &h, c->id + 1,
							 false, __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST))
				fz_fail("reader: RX_READ got RX buffer %u that %s %d's private file holds",
					x->index, g_ctx[h - 1]->role, h - 1);
			if (x->dest != FZ_DEST_GEN)
				fz_fail("reader: frame of dest %u on a file claiming %u",
					x->dest, FZ_DEST_GEN);
			if (!!(x->flags & PGPDMA_RXF_SOF) == in_chain)
				fz_fail("reader: SOF %#x %s a chain", x->flags,
					in_chain ? "inside" : "missing at the start of");
			if (x->flags & PGPDMA_RXF_SOF) {
				if (any && x->seq <= last_seq)
					fz_fail("reader: seq %llu after %llu",
						(unsigned long long)x->seq,
						(unsigned long long)last_seq);
				last_seq = x->seq;
				any = true;
				flen = 0;
				verify = !x->error;
			} else if (x->seq != last_seq) {
				fz_fail("reader: seq changes inside a chain");
			}
			if (verify && flen + x->size <= c->frame_cap)
				memcpy(c->frame + flen, g_stable + g_info.rx_offset +
				       (uint64_t)x->index * g_info.stride, x->size);
			flen += x->size;
			in_chain = x->flags & PGPDMA_RXF_CONT;
			if (!in_chain) {
				struct pgpdma_timing_header th;
				const char *why = NULL;

				fz_stat(&sh->frames);
				if (verify && flen <= c->frame_cap && flen >= PGPDMA_TH_SIZE) {
					memcpy(&th, c->frame, sizeof(th));
					if (pgpdma_th_transition(&th) == PGPDMA_TR_L1ACCEPT) {
						if (flen <= 65536 || rpct(&c->r, 15)) {
							why = pg_check_gen_payload(c->frame, flen);
							fz_stat(&sh->verified);
						}
					} else if (flen != PGPDMA_TH_SIZE) {
						why = "transition frame not 32 bytes";
					}
					if (!why && last_pid && pgpdma_th_pulse_id(&th) <= last_pid)
						why = "pulse ID not increasing";
					last_pid = pgpdma_th_pulse_id(&th);
				}
				if (why)
					fz_fail("reader: frame seq %llu (%zu bytes, last buffer %u): %s",
						(unsigned long long)x->seq, flen, x->index, why);
			}
		}
		/* give everything back at once: nothing held between calls */
		for (i = 0; i < n; i++) {
			idx[i] = d[i].index;
			if (d[i].index < g_info.rx_count)
				__atomic_store_n(&g_rx_holder[d[i].index], 0, __ATOMIC_SEQ_CST);
		}
		c->op = "reader RX_RETURN";
		if (fz_index_call(c, fd, PGPDMA_IOC_RX_RETURN, idx, (uint32_t)n))
			fz_fail("reader: RX_RETURN of %d buffers it read: %s", n, strerror(errno));
	}
	close(fd);
	c->sfd = -1;
	c->done = 1;
	return NULL;
}

static void *fz_controller(void *arg)
{
	struct fz_ctx *c = arg;
	int fd = pg_open(O_RDWR);
	uint32_t bs = g_info.buf_size;

	if (fd < 0) {
		fz_fail("controller: open: %s", strerror(errno));
		c->done = 1;
		return NULL;
	}
	while (!sh->stop) {
		struct pgpdma_engine e;
		unsigned int m = rbelow(&c->r, 100);
		uint64_t until;

		memset(&e, 0, sizeof(e));
		e.flags = rbelow(&c->r, 4);	/* LOSSLESS, PATTERN */
		if (m < 20) {
			e.mode = PGPDMA_ENG_IDLE;
		} else if (m < 60) {
			static const uint32_t rates[] = { 200, 1000, 5000, 20000 };
			static const uint32_t dests[] = { FZ_DEST_GEN, FZ_DEST_GEN, FZ_DEST_GEN,
							  FZ_DEST_SHARED, FZ_DEST_SHARED, 0 };

			e.mode = PGPDMA_ENG_GENERATOR;
			e.rate_hz = rates[rbelow(&c->r, PG_ARRAY_SIZE(rates))];
			switch (rbelow(&c->r, 8)) {
			case 0: e.frame_size = PGPDMA_TH_SIZE; break;
			case 1: e.frame_size = bs; break;
			case 2: e.frame_size = bs + 1; break;
			case 3: e.frame_size = 3 * bs + 7; break;
			case 4: e.frame_size = g_info.rx_count / 4 * bs + 3; break;
			default: e.frame_size = PGPDMA_TH_SIZE + rbelow(&c->r, 2 * bs); break;
			}
			e.dest = dests[rbelow(&c->r, PG_ARRAY_SIZE(dests))];
			if (rpct(&c->r, 15))
				e.dest = FZ_DEST_STRICT(rbelow(&c->r, g_threads));
			e.readout_group = rnd32(&c->r) & 0xffff;
			e.count = rpct(&c->r, 70) ? 0 : 1 + rbelow(&c->r, 500);
			if (rpct(&c->r, 10)) {
				e.rate_hz = 0;
				e.count = 1 + rbelow(&c->r, 200);
			}
		} else {
			e.mode = PGPDMA_ENG_LOOPBACK;
			e.frame_size = PGPDMA_TH_SIZE;
		}
		c->op = "controller ENGINE_SET";
		if (fz_ioctl(c, fd, PGPDMA_IOC_ENGINE_SET, &e))
			fz_fail("controller: valid ENGINE_SET mode %u flags %u rate %u size %u dest %u count %llu: %s",
				e.mode, e.flags, e.rate_hz, e.frame_size, e.dest,
				(unsigned long long)e.count, strerror(errno));
		fz_stat(&sh->engine_sets);
		until = pg_now_ns() + (50 + rbelow(&c->r, 250)) * 1000000ULL;
		while (!sh->stop && pg_now_ns() < until)
			pg_msleep(10);
	}
	c->op = "controller ENGINE_SET(idle)";
	if (pg_engine_idle(fd))
		fz_fail("controller: engine idle at the end: %s", strerror(errno));
	close(fd);
	c->done = 1;
	return NULL;
}

static void *fz_mapper(void *arg)
{
	struct fz_ctx *c = arg;

	while (!sh->stop) {
		op_map(c, g_map_fd_rw, g_map_fd_ro);
		if (rpct(&c->r, 20))
			sched_yield();
	}
	c->done = 1;
	return NULL;
}

/*
 * Wakes threads sleeping in a call (WAIT flags, blocking read()/write())
 * with SIGUSR1 (no SA_RESTART: the call returns EINTR). Threads are joined
 * only after it stopped, so it never signals a joined thread.
 */
static volatile int g_wd_stop;

static void *fz_watchdog(void *arg)
{
	unsigned int i;

	(void)arg;
	while (!g_wd_stop) {
		uint64_t now = pg_now_ns();

		for (i = 0; i < g_nctx; i++) {
			struct fz_ctx *c = g_ctx[i];
			uint64_t s = c->busy_since;
			uint64_t n = *(volatile uint64_t *)&c->ncall +
				     *(volatile uint64_t *)&c->cnt->others;

			if (n != c->wd_ncall || c->done || !c->wd_since) {
				c->wd_ncall = n;
				c->wd_since = now;
			} else if (now - c->wd_since > 30ULL * 1000000000ULL &&
				   c->wd_since != UINT64_MAX) {
				fz_fail("%s %d: no call for 30 s after call %llu (%s): stuck %s",
					c->role, c->id, (unsigned long long)n, c->op,
					c->busy_since ? "in that call" : "in the fuzzer");
				c->wd_since = UINT64_MAX;
			}

			if (!s || now < s || now - s < 5ULL * 1000000ULL)
				continue;
			pthread_kill(c->th, SIGUSR1);
			fz_stat(&sh->kicks);
			if (now - s > 30ULL * 1000000000ULL) {
				fz_fail("%s %d call %llu: %s did not return for 30 s despite signals",
					c->role, c->id, (unsigned long long)c->ncall, c->op);
				c->busy_since = 0;
			}
		}
		pg_msleep(2);
	}
	return NULL;
}

/* ------------------------------------------------------------------ */
/* The fuzz process                                                   */
/* ------------------------------------------------------------------ */

static struct fz_ctx *fz_ctx_new(int id, const char *role, int cas)
{
	struct fz_ctx *c = calloc(1, sizeof(*c));
	uint8_t *a;

	if (!c)
		return NULL;
	c->id = id;
	c->role = role;
	c->cnt = &sh->cnt[id];
	c->sfd = -1;
	c->sdest = FZ_DEST_STRICT(id % FZ_MAX_THREADS);
	c->r.s = fz_mix(g_seed ^ ((uint64_t)(cas + 1) << 56)) + (uint64_t)(id + 1) * 0x9e3779b97f4a7c15ULL;
	a = mmap(NULL, FZ_ARENA, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (a == MAP_FAILED)
		return NULL;
	c->arena = a;
	c->rw = a;
	c->ro = a + FZ_RW;
	c->none = c->ro + FZ_RO;
	c->edge = c->none + FZ_PG;
	if (mprotect(c->rw, FZ_RW + FZ_RO, PROT_READ | PROT_WRITE) ||
	    mprotect(c->edge, FZ_PG, PROT_READ | PROT_WRITE))
		return NULL;
	fz_ro_fill(c);
	if (mprotect(c->ro, FZ_RO, PROT_READ))
		return NULL;
	memset(c->rw, 0, FZ_RW);
	memset(c->edge, 0, FZ_PG);
	g_ctx[id] = c;
	return c;
}

static void fz_weights_env(void)
{
	const char *e = getenv("FUZZ_WEIGHTS");
	char name[32];
	unsigned int i, w;
	int n;

	while (e && *e && sscanf(e, "%31[a-z_]=%u%n", name, &w, &n) == 2) {
		for (i = 0; i < OP_N; i++)
			if (!strcmp(name, fz_op_name[i]))
				fz_w[i] = (unsigned short)w;
		e += n;
		if (*e == ',')
			e++;
	}
}

static int fz_process(int cas, unsigned int nthreads, uint64_t target, unsigned int secs)
{
	static const int slot_modes[FZ_SLOTS] = { O_RDWR, O_RDWR | O_NONBLOCK, O_RDONLY, O_RDWR };
	struct fz_ctx *ctl = NULL, *rd = NULL, *mp = NULL;
	pthread_t wd;
	struct sigaction sa;
	uint64_t t0 = pg_now_ns(), last = t0;
	unsigned int i, nw;
	int s;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = fz_noop;
	sigaction(SIGUSR1, &sa, NULL);		/* no SA_RESTART: EINTR */
	g_pgsz = (size_t)sysconf(_SC_PAGESIZE);
	g_target = target;
	g_deadline = t0 + (uint64_t)secs * 1000000000ULL;
	g_concurrent = cas == 1;

	g_own_fd = pg_open(O_RDWR);
	if (g_own_fd < 0 || pg_info(g_own_fd, &g_info)) {
		fz_fail("fuzz process: open/GET_INFO: %s", strerror(errno));
		return 1;
	}
	g_stable = mmap(NULL, g_info.map_size, PROT_READ, MAP_SHARED, g_own_fd, 0);
	g_tx_rw = mmap(NULL, (size_t)g_info.tx_count * g_info.stride, PROT_READ | PROT_WRITE,
		       MAP_SHARED, g_own_fd, (off_t)g_info.tx_offset);
	g_map_fd_rw = pg_open(O_RDWR);
	g_map_fd_ro = pg_open(O_RDONLY);
	g_rx_holder = calloc(g_info.rx_count, sizeof(int));
	g_tx_holder = calloc(g_info.tx_count, sizeof(int));
	if (g_stable == MAP_FAILED || g_tx_rw == MAP_FAILED || g_map_fd_rw < 0 ||
	    g_map_fd_ro < 0 || !g_rx_holder || !g_tx_holder) {
		fz_fail("fuzz process: setup (maps, files): %s", strerror(errno));
		return 1;
	}
	for (s = 0; s < FZ_SLOTS; s++) {
		g_slot_fd[s] = pg_open(slot_modes[s]);
		if (g_slot_fd[s] < 0) {
			fz_fail("fuzz process: open slot %d: %s", s, strerror(errno));
			return 1;
		}
	}
	pg_set_dest_one(g_slot_fd[0], FZ_DEST_SHARED);
	g_slot_use = (g_info.map_size + g_pgsz - 1) & ~(g_pgsz - 1);
	g_slot = mmap(NULL, g_slot_use + FZ_SLOT_GUARD, PROT_NONE,
		      MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (g_slot == MAP_FAILED ||
	    mmap(g_slot, g_info.tx_offset, PROT_READ, MAP_SHARED | MAP_FIXED,
		 g_slot_fd[0], 0) == MAP_FAILED ||
	    mmap(g_slot + g_info.tx_offset, g_info.map_size - g_info.tx_offset,
		 PROT_READ | PROT_WRITE, MAP_SHARED | MAP_FIXED, g_map_fd_rw,
		 (off_t)g_info.tx_offset) == MAP_FAILED) {
		fz_fail("fuzz process: device slot mapping: %s", strerror(errno));
		return 1;
	}

	nw = nthreads;
	for (i = 0; i < nw; i++)
		if (!fz_ctx_new((int)i, "thread", cas))
			goto nomem;
	if (g_concurrent) {
		rd = fz_ctx_new((int)nw, "reader", cas);
		ctl = fz_ctx_new((int)nw + 1, "controller", cas);
		mp = fz_ctx_new((int)nw + 2, "mapper", cas);
		if (!rd || !ctl || !mp)
			goto nomem;
		rd->frame_cap = (size_t)(g_info.rx_count > g_info.tx_count ?
					 g_info.rx_count : g_info.tx_count) * g_info.buf_size + 64;
		rd->frame = malloc(rd->frame_cap);
		if (!rd->frame)
			goto nomem;
		if (fz_claim_reader(rd))
			return 1;
		g_nctx = nw + 3;
	} else {
		fz_w[OP_MAP] = 10;
		fz_w[OP_ENGINE] = 20;
		g_nctx = nw;
	}
	fz_weights_env();

	/* create everything first; the watchdog starts once they exist */
	for (i = 0; i < nw; i++)
		if (pthread_create(&g_ctx[i]->th, NULL, fz_worker, g_ctx[i]))
			goto nothread;
	if (g_concurrent) {
		if (pthread_create(&rd->th, NULL, fz_reader, rd) ||
		    pthread_create(&ctl->th, NULL, fz_controller, ctl) ||
		    pthread_create(&mp->th, NULL, fz_mapper, mp))
			goto nothread;
	}
	if (pthread_create(&wd, NULL, fz_watchdog, NULL))
		goto nothread;

	for (i = 0; i < nw; i++) {
		uint64_t stopped = 0;

		while (!g_ctx[i]->done) {
			if (sh->stop && !stopped)
				stopped = pg_now_ns();
			if (stopped && pg_now_ns() - stopped > 40ULL * 1000000000ULL) {
				ksft_print_msg("fuzz: %s %d still in %s 40 s after the stop: giving up\n",
					       g_ctx[i]->role, i, g_ctx[i]->op);
				fflush(stdout);
				_exit(3);	/* the kernel takes back what it can */
			}
			uint64_t now = pg_now_ns();

			if (now - last > 15ULL * 1000000000ULL) {
				last = now;
				ksft_print_msg("fuzz: %.0f s: %llu ioctls, %llu forks, %llu reopens, %llu maps, %llu frames (%llu verified)\n",
					       (double)(now - t0) / 1e9,
					       (unsigned long long)fz_total_ioctls(),
					       (unsigned long long)sh->forks,
					       (unsigned long long)sh->churns,
					       (unsigned long long)sh->maps,
					       (unsigned long long)sh->frames,
					       (unsigned long long)sh->verified);
				fflush(stdout);
			}
			pg_msleep(20);
		}
	}
	if (!sh->stop)
		sh->stop = 1;
	if (g_concurrent) {
		uint64_t stopped = pg_now_ns();

		while (!rd->done || !ctl->done || !mp->done) {
			if (pg_now_ns() - stopped > 40ULL * 1000000000ULL) {
				ksft_print_msg("fuzz: reader/controller/mapper stuck after the stop: giving up\n");
				fflush(stdout);
				_exit(3);
			}
			pg_msleep(5);
		}
	}
	g_wd_stop = 1;
	pthread_join(wd, NULL);
	for (i = 0; i < g_nctx; i++)
		pthread_join(g_ctx[i]->th, NULL);

	/* engine idle, every file closed, every mapping gone */
	if (pg_engine_idle(g_own_fd))
		fz_fail("fuzz process: engine idle at the end: %s", strerror(errno));
	munmap(g_slot, g_slot_use + FZ_SLOT_GUARD);
	munmap((void *)(uintptr_t)g_stable, g_info.map_size);
	munmap(g_tx_rw, (size_t)g_info.tx_count * g_info.stride);
	for (s = 0; s < FZ_SLOTS; s++)
		close(g_slot_fd[s]);
	close(g_map_fd_rw);
	close(g_map_fd_ro);
	close(g_own_fd);
	return 0;

nomem:
	fz_fail("fuzz process: out of memory for thread arenas");
	return 1;
nothread:
	fz_fail("fuzz process: pthread_create failed");
	sh->stop = 1;
	return 1;
}

/* ------------------------------------------------------------------ */
/* The test process: run a case in a child, then check everything     */
/* ------------------------------------------------------------------ */

static long fz_meminfo(const char *key)
{
	char buf[4096], *p;
	size_t kl = strlen(key);

	if (pg_read_file("/proc/meminfo", buf, sizeof(buf)) <= 0)
		return -1;
	for (p = buf; p && *p; p = strchr(p, '\n'), p = p ? p + 1 : NULL)
		if (!strncmp(p, key, kl) && p[kl] == ':')
			return strtol(p + kl + 1, NULL, 10);
	return -1;
}

/*
 * Free memory in kB: MemFree plus the pages parked on the per-CPU free
 * lists (/proc/zoneinfo "count:" of each pageset), which MemFree leaves
 * out and which a burst of allocations and frees fills by megabytes.
 */
static long fz_free_kb(long *pcp_kb)
{
	static char zi[1 << 16];
	long pages = 0;
	char *p;

	if (pg_read_file("/proc/zoneinfo", zi, sizeof(zi)) > 0)
		for (p = strstr(zi, "pagesets"); p; p = strstr(p, "count:")) {
			p += 6;
			pages += strtol(p, NULL, 10);
		}
	*pcp_kb = pages * (long)(sysconf(_SC_PAGESIZE) / 1024);
	return fz_meminfo("MemFree") + *pcp_kb;
}

/*
 * Shrink every slab cache (/sys/kernel/slab/NAME/shrink): gives back empty
 * and per-CPU partial slabs and, on a KASAN kernel, the freed objects its
 * quarantine still holds (megabytes after a fuzz run), so that Slab and
 * MemFree count what is live.
 */
static void fz_shrink_slabs(void)
{
	char path[320];
	struct dirent *de;
	DIR *d = opendir("/sys/kernel/slab");
	int fd;

	if (!d)
		return;
	while ((de = readdir(d))) {
		if (de->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "/sys/kernel/slab/%s/shrink", de->d_name);
		fd = open(path, O_WRONLY | O_CLOEXEC);
		if (fd < 0)
			continue;
		/* a cache that cannot shrink is left as it is */
		(void)!write(fd, "1\n", 2);
		close(fd);
	}
	closedir(d);
}

static void fz_settle_mem(void)
{
	int fd;

	sync();
	fz_shrink_slabs();
	fd = open("/proc/sys/vm/drop_caches", O_WRONLY | O_CLOEXEC);
	if (fd >= 0) {
		ssize_t w = write(fd, "3\n", 2);

		(void)w;
		close(fd);
	}
	pg_msleep(200);
}

static void __attribute__((constructor)) fz_env(void)
{
	const char *s = getenv("FUZZ_SEED");

	if (s && *s)
		g_seed = strtoull(s, NULL, 0);
	else
		g_seed = fz_mix(pg_now_ns() ^ ((uint64_t)getpid() << 32)) >> 1;
	s = getenv("FUZZ_CALLS");
	if (s && *s)
		g_calls = strtoull(s, NULL, 0);
	s = getenv("FUZZ_SECONDS");
	if (s && *s)
		g_seconds = (unsigned int)strtoul(s, NULL, 0);
	s = getenv("FUZZ_THREADS");
	if (s && *s)
		g_threads = (unsigned int)strtoul(s, NULL, 0);
	if (g_threads < 1)
		g_threads = 1;
	if (g_threads > FZ_MAX_THREADS)
		g_threads = FZ_MAX_THREADS;
	if (!g_seconds)
		g_seconds = 1;
}

FIXTURE(fuzz) {
	struct pgpdma_info info;
	long free0, slab0, pcp0;
	bool skip;
};

FIXTURE_SETUP(fuzz)
{
	int fd = pg_open(O_RDWR);

	self->skip = false;
	if (fd < 0 && errno == ENOENT) {
		self->skip = true;
		SKIP(return, "%s missing (module not loaded)", pg_dev_path());
	}
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, pg_info(fd, &self->info));
	ASSERT_EQ(0, pg_engine_idle(fd));
	ASSERT_LE(0, pg_drain(fd, 0));
	check_states(fd);
	close(fd);
	check_idle();
	fz_settle_mem();
	self->free0 = fz_free_kb(&self->pcp0);
	self->slab0 = fz_meminfo("Slab");
}

FIXTURE_TEARDOWN(fuzz)
{
}

#define FZ_U(x) ((unsigned long long)(x))

/* counters that must hold once every file is closed and the engine idle */
static void fz_check_counters(struct __test_metadata *_metadata,
			      const struct pgpdma_info *info,
			      const struct pgpdma_stats *b, const struct pgpdma_stats *a)
{
	const __u64 *pb = (const __u64 *)b, *pa = (const __u64 *)a;
	unsigned int i;

	for (i = 0; i < offsetof(struct pgpdma_stats, reserved) / sizeof(__u64); i++)
		EXPECT_LE(pb[i], pa[i]) {
			TH_LOG("counter %u went back: %llu -> %llu", i, FZ_U(pb[i]), FZ_U(pa[i]));
		}
	/* every return is of a buffer read; every buffer read not returned
	 * was reclaimed at close (reclaimed also counts TX buffers) */
	EXPECT_LE(a->user_returns, a->user_reads) {
		TH_LOG("user_returns %llu > user_reads %llu: a buffer was returned twice",
		       FZ_U(a->user_returns), FZ_U(a->user_reads));
	}
	EXPECT_LE(a->user_reads, a->user_returns + a->reclaimed) {
		TH_LOG("user_reads %llu > user_returns %llu + reclaimed %llu: buffers unaccounted",
		       FZ_U(a->user_reads), FZ_U(a->user_returns), FZ_U(a->reclaimed));
	}
	EXPECT_LE(a->user_reads - b->user_reads,
		  (a->user_returns - b->user_returns) + (a->reclaimed - b->reclaimed));
	/* a buffer is handed to a file only after it was completed */
	EXPECT_LE(a->user_reads, a->rx_buffers) {
		TH_LOG("user_reads %llu > rx_buffers %llu", FZ_U(a->user_reads), FZ_U(a->rx_buffers));
	}
	EXPECT_LE(a->rx_frames, a->rx_buffers);
	EXPECT_LE(a->rx_cont_frames, a->rx_frames);
	EXPECT_LE(a->rx_errors, a->rx_frames);
	EXPECT_LE(a->rx_buffers, a->rx_bytes);
	EXPECT_LE(a->rx_bytes, a->rx_buffers * info->buf_size);
	EXPECT_LE(a->tx_frames, a->tx_buffers);
	EXPECT_LE(a->tx_buffers, a->tx_bytes);
	EXPECT_LE(a->tx_bytes, a->tx_buffers * info->buf_size);
	/* every completed or dropped-for-want-of-buffers frame was generated,
	 * injected or sent */
	EXPECT_LE(a->rx_frames + a->rx_drop_nobuf, a->gen_frames + a->transitions + a->tx_frames) {
		TH_LOG("rx_frames %llu + drop_nobuf %llu > gen %llu + transitions %llu + tx %llu",
		       FZ_U(a->rx_frames), FZ_U(a->rx_drop_nobuf), FZ_U(a->gen_frames),
		       FZ_U(a->transitions), FZ_U(a->tx_frames));
	}
	EXPECT_LE(a->state_hwm[PGPDMA_ST_RX_HW], info->rx_count);
	EXPECT_LE(a->state_hwm[PGPDMA_ST_RX_QUEUED], info->rx_count);
	EXPECT_LE(a->state_hwm[PGPDMA_ST_RX_USER], info->rx_count);
	EXPECT_LE(a->state_hwm[PGPDMA_ST_TX_FREE], info->tx_count);
	EXPECT_LE(a->state_hwm[PGPDMA_ST_TX_USER], info->tx_count);
	EXPECT_LE(a->state_hwm[PGPDMA_ST_TX_HW], info->tx_count);
#ifdef PGPDMA_IOC_SET_RX_HOLD
	EXPECT_LE(a->rx_drop_fault, a->rx_frames);
#endif
}

/* the device still works: every RX buffer cycles, every TX buffer lends */
static void fz_check_device(struct __test_metadata *_metadata)
{
	static struct pg_frame fr;
	struct pg_dev d;
	uint8_t *buf, *seen;
	__u32 i, n, want;
	const char *why;
	int r, idx[256];

	ASSERT_EQ(0, pg_dev_open(&d, O_RDWR, true));
	want = 3 * d.info.rx_count;
	buf = malloc(d.info.buf_size);
	seen = calloc(d.info.rx_count, 1);
	ASSERT_TRUE(buf && seen);
	ASSERT_EQ(0, pg_set_dest_one(d.fd, FZ_DEST_GEN));
	ASSERT_EQ(0, pg_engine_set(d.fd, PGPDMA_ENG_GENERATOR, PGPDMA_ENGF_LOSSLESS, 0,
				   d.info.buf_size, FZ_DEST_GEN, 1, want));
	for (n = 0; n < want; n++) {
		r = pg_recv_frame(&d, &fr, buf, d.info.buf_size, 5000, &why);
		ASSERT_EQ(1, r) {
			TH_LOG("frame %u of %u after the fuzz: %d %s", n, want, r, why ? why : "");
		}
		EXPECT_EQ(1u, fr.n);
		why = pg_check_gen_payload(buf, fr.len);
		EXPECT_EQ(NULL, why) {
			TH_LOG("frame %u after the fuzz: %s", n, why);
		}
		seen[fr.d[0].index] = 1;
		ASSERT_EQ(0, pg_frame_return(&d, &fr));
	}
	for (i = 0, n = 0; i < d.info.rx_count; i++)
		n += seen[i];
	EXPECT_EQ(d.info.rx_count, n) {
		TH_LOG("only %u of %u RX buffers came round in %u lossless frames: some are lost",
		       n, d.info.rx_count, want);
	}
	ASSERT_EQ(0, pg_engine_idle(d.fd));
	ASSERT_LE(d.info.tx_count, 256u);
	for (i = 0; i < d.info.tx_count; i++) {
		idx[i] = pg_tx_acquire(d.fd, 0);
		ASSERT_LE(0, idx[i]) {
			TH_LOG("TX_ACQUIRE %u of %u after the fuzz: %s", i, d.info.tx_count,
			       strerror(-idx[i]));
		}
		ASSERT_GT((int)d.info.tx_count, idx[i]);
		for (n = 0; n < i; n++)
			ASSERT_NE(idx[n], idx[i]);
	}
	r = pg_tx_acquire(d.fd, 0);
	EXPECT_EQ(-EAGAIN, r) {
		TH_LOG("TX_ACQUIRE with all %u held: %d", d.info.tx_count, r);
	}
	for (i = 0; i < d.info.tx_count; i++)
		EXPECT_EQ(0, pg_tx_release(d.fd, (__u32 *)&idx[i], 1));
	free(buf);
	free(seen);
	pg_dev_close(&d);
	check_idle();
}

static void fz_case(struct __test_metadata *_metadata, FIXTURE_DATA(fuzz) *self,
		    int cas, const char *name)
{
	uint64_t target = cas == 0 ? g_calls / 4 : g_calls - g_calls / 4;
	unsigned int secs = cas == 0 ? (g_seconds + 1) / 2 : g_seconds - g_seconds / 2;
	unsigned int nthreads = cas == 0 ? 1 : g_threads, i;
	struct pgpdma_stats before, after;
	struct fz_count tot;
	uint64_t t0, t1, waited;
	long free1, slab1, pcp1, pool_kb, dfree, dslab;
	pid_t pid;
	int st = 0, fd;

	if (self->skip)
		return;
	ksft_print_msg("fuzz seed %llu calls %llu\n", FZ_U(g_seed), FZ_U(target));
	ksft_print_msg("fuzz %s: %u thread(s), rx %u x %u, tx %u, %s, bound %u s (replay: FUZZ_SEED=%llu)\n",
		       name, nthreads, self->info.rx_count, self->info.buf_size,
		       self->info.tx_count,
		       self->info.flags & PGPDMA_INFO_STREAMING ? "streaming" : "coherent",
		       secs, FZ_U(g_seed));
	sh = mmap(NULL, sizeof(*sh), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, sh);
	memset(sh, 0, sizeof(*sh));
	fd = pg_open(O_RDWR);
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, pg_stats(fd, &before));
	close(fd);

	fflush(stdout);
	fflush(stderr);
	t0 = pg_now_ns();
	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0)
		_exit(fz_process(cas, nthreads, target, secs));
	/* bounded: the fuzz process gives up 40 s after a stop it cannot reach */
	for (;;) {
		pid_t w = waitpid(pid, &st, WNOHANG);

		if (w == pid)
			break;
		ASSERT_EQ(0, w);
		if (pg_now_ns() - t0 > ((uint64_t)secs + 120) * 1000000000ULL) {
			for (i = 0; i < (unsigned int)sh->nerr && i < FZ_MSGS; i++)
				TH_LOG("failure %u: %s", i + 1, sh->msg[i]);
			ASSERT_TRUE(false) {
				TH_LOG("fuzz process %d did not exit %u s after its time bound (a task stuck in the kernel?); seed %llu",
				       pid, 120, FZ_U(g_seed));
			}
		}
		pg_msleep(50);
	}
	t1 = pg_now_ns();

	memset(&tot, 0, sizeof(tot));
	for (i = 0; i <= FZ_CTX_MAX; i++) {
		const uint64_t *s = (const uint64_t *)(i < FZ_CTX_MAX ? &sh->cnt[i] : &sh->child);
		uint64_t *t = (uint64_t *)&tot;
		unsigned int k;

		for (k = 0; k < sizeof(tot) / sizeof(uint64_t); k++)
			t[k] += s[k];
	}
	ksft_print_msg("fuzz %s: %llu ioctls + %llu other calls in %.1f s (seed %llu)%s\n",
		       name, FZ_U(tot.ioctls), FZ_U(tot.others), (double)(t1 - t0) / 1e9,
		       FZ_U(g_seed),
		       sh->timed_out ? " - stopped by the time bound (FUZZ_SECONDS)" : "");
	ksft_print_msg("fuzz %s: ok %llu EINVAL %llu EFAULT %llu ENOTTY %llu EAGAIN %llu EINTR %llu EBADF %llu EPERM %llu ENOBUFS %llu EMSGSIZE %llu EACCES %llu EBUSY %llu other %llu\n",
		       name, FZ_U(tot.ok), FZ_U(tot.einval), FZ_U(tot.efault), FZ_U(tot.enotty),
		       FZ_U(tot.eagain), FZ_U(tot.eintr), FZ_U(tot.ebadf), FZ_U(tot.eperm),
		       FZ_U(tot.enobufs), FZ_U(tot.emsgsize), FZ_U(tot.eacces),
		       FZ_U(tot.ebusy), FZ_U(tot.other_err));
	ksft_print_msg("fuzz %s: forks %llu (%llu died by SIGKILL), reopens %llu, temp files %llu, maps %llu, unmaps %llu, mprotects %llu, races %llu, private-file checks %llu, engine sets %llu, frames %llu (payload verified %llu), wakeups %llu\n",
		       name, FZ_U(sh->forks), FZ_U(sh->fork_kills), FZ_U(sh->churns),
		       FZ_U(sh->tempfds), FZ_U(sh->maps), FZ_U(sh->unmaps), FZ_U(sh->mprotects),
		       FZ_U(sh->races), FZ_U(sh->strict), FZ_U(sh->engine_sets),
		       FZ_U(sh->frames), FZ_U(sh->verified), FZ_U(sh->kicks));
	EXPECT_TRUE(WIFEXITED(st) && WEXITSTATUS(st) == 0) {
		TH_LOG("fuzz process ended with status %#x%s%d (seed %llu)", st,
		       WIFSIGNALED(st) ? ", killed by signal " : ", exit ",
		       WIFSIGNALED(st) ? WTERMSIG(st) : WEXITSTATUS(st), FZ_U(g_seed));
	}
	for (i = 0; i < (unsigned int)sh->nerr && i < FZ_MSGS; i++)
		TH_LOG("failure %u: %s", i + 1, sh->msg[i]);
	EXPECT_EQ(0, sh->nerr) {
		TH_LOG("%d failure(s); replay with FUZZ_SEED=%llu", sh->nerr, FZ_U(g_seed));
	}
	if (!sh->timed_out && !sh->nerr)
		EXPECT_LE(target, tot.ioctls);
	/* the time bound is a safety net: a run still makes its 10^5 calls */
	if (sh->timed_out)
		EXPECT_LE(FZ_MIN_CALLS(cas), tot.ioctls) {
			TH_LOG("the time bound (FUZZ_SECONDS=%u) stopped the case after %llu ioctls, before its share of %u: raise FUZZ_SECONDS",
			       g_seconds, FZ_U(tot.ioctls), FZ_MIN_CALLS(cas));
		}

	/* everything back once idle (TX frames in flight drain) */
	fd = pg_open(O_RDWR);
	ASSERT_LE(0, fd);
	EXPECT_EQ(0, pg_engine_idle(fd));
	for (waited = 0; waited < 5000; waited += 10) {
		ASSERT_EQ(0, pg_stats(fd, &after));
		if (after.state[PGPDMA_ST_RX_HW] == self->info.rx_count &&
		    after.state[PGPDMA_ST_TX_FREE] == self->info.tx_count)
			break;
		pg_msleep(10);
	}
	ksft_print_msg("fuzz %s: after: RX hw/queued/user %u/%u/%u TX free/user/hw %u/%u/%u; reads %llu returns %llu reclaimed %llu (+%llu/+%llu/+%llu)\n",
		       name, after.state[PGPDMA_ST_RX_HW], after.state[PGPDMA_ST_RX_QUEUED],
		       after.state[PGPDMA_ST_RX_USER], after.state[PGPDMA_ST_TX_FREE],
		       after.state[PGPDMA_ST_TX_USER], after.state[PGPDMA_ST_TX_HW],
		       FZ_U(after.user_reads), FZ_U(after.user_returns), FZ_U(after.reclaimed),
		       FZ_U(after.user_reads - before.user_reads),
		       FZ_U(after.user_returns - before.user_returns),
		       FZ_U(after.reclaimed - before.reclaimed));
	ksft_print_msg("fuzz %s: engine: gen %llu transitions %llu tx %llu -> rx frames %llu (buffers %llu, chains %llu), dropped nobuf %llu unclaimed %llu, deadtime events %llu\n",
		       name, FZ_U(after.gen_frames - before.gen_frames),
		       FZ_U(after.transitions - before.transitions),
		       FZ_U(after.tx_frames - before.tx_frames),
		       FZ_U(after.rx_frames - before.rx_frames),
		       FZ_U(after.rx_buffers - before.rx_buffers),
		       FZ_U(after.rx_cont_frames - before.rx_cont_frames),
		       FZ_U(after.rx_drop_nobuf - before.rx_drop_nobuf),
		       FZ_U(after.rx_drop_unclaimed - before.rx_drop_unclaimed),
		       FZ_U(after.deadtime_events - before.deadtime_events));
	check_states(fd);
	EXPECT_EQ(self->info.rx_count, after.state[PGPDMA_ST_RX_HW]);
	EXPECT_EQ(0u, after.state[PGPDMA_ST_RX_QUEUED]);
	EXPECT_EQ(0u, after.state[PGPDMA_ST_RX_USER]);
	EXPECT_EQ(self->info.tx_count, after.state[PGPDMA_ST_TX_FREE]);
	EXPECT_EQ(0u, after.state[PGPDMA_ST_TX_USER]);
	EXPECT_EQ(0u, after.state[PGPDMA_ST_TX_HW]);
	fz_check_counters(_metadata, &self->info, &before, &after);
	close(fd);
	fz_check_device(_metadata);

	/* memory: back within the pool's size (MemFree drifts ~2 MiB alone) */
	fz_settle_mem();
	free1 = fz_free_kb(&pcp1);
	slab1 = fz_meminfo("Slab");
	if (getenv("FUZZ_MEMDEBUG")) {
		for (i = 0; i < 10; i++) {
			fz_settle_mem();
			pg_msleep(300);
			long pcp, f = fz_free_kb(&pcp);

			ksft_print_msg("memdebug %u: free %ld (pcp %ld) MemFree %ld Slab %ld PageTables %ld KernelStack %ld Percpu %ld AnonPages %ld Shmem %ld Cached %ld\n",
				       i, f, pcp, fz_meminfo("MemFree"), fz_meminfo("Slab"), fz_meminfo("PageTables"),
				       fz_meminfo("KernelStack"), fz_meminfo("Percpu"), fz_meminfo("AnonPages"),
				       fz_meminfo("Shmem"), fz_meminfo("Cached"));
		}
	}
	pool_kb = (long)(((uint64_t)self->info.rx_count + self->info.tx_count) *
			 self->info.stride / 1024);
	dfree = self->free0 - free1;
	dslab = slab1 - self->slab0;
	ksft_print_msg("fuzz %s: MemFree+per-CPU lists %ld -> %ld kB (%+ld; per-CPU %ld -> %ld), Slab %ld -> %ld kB (%+ld), pool %ld kB\n",
		       name, self->free0, free1, -dfree, self->pcp0, pcp1, self->slab0, slab1,
		       dslab, pool_kb);
	EXPECT_LT(dfree, pool_kb > 1024 ? pool_kb : 1024) {
		TH_LOG("MemFree dropped by %ld kB over the fuzz (pool %ld kB): a leak", dfree, pool_kb);
	}
	EXPECT_LT(dslab, 2048) {
		TH_LOG("Slab grew by %ld kB over the fuzz: a leak", dslab);
	}
	munmap(sh, sizeof(*sh));
}

TEST_F_TIMEOUT(fuzz, single_thread_garbage, 3600)
{
	fz_case(_metadata, self, 0, "single_thread_garbage");
}

TEST_F_TIMEOUT(fuzz, concurrent, 3600)
{
	fz_case(_metadata, self, 1, "concurrent");
}

TEST_HARNESS_MAIN
