// SPDX-License-Identifier: GPL-2.0
/*
 * pgpdma - emulated firmware engine.
 *
 * One kthread per instance plays the part of the card's firmware: it
 * generates timing-system frames (generator mode), delivers submitted TX
 * frames back to RX (loopback mode) or just consumes them (other modes),
 * and emits injected transitions. It fills RX buffers through the engine
 * interface exactly as DMA would, then completes them as a frame.
 */
#include <linux/kthread.h>
#include <linux/ktime.h>
#include <linux/sched.h>
#include <linux/slab.h>
#include <linux/string.h>
#include <linux/timekeeping.h>
#include "pgpdma.h"
#include "engine.h"

#define PGPDMA_EMU_INJECT_MAX	64
#define PGPDMA_EMU_PULSE_BASE	0x1000ULL
#define PGPDMA_EMU_WAIT_SLICE	(HZ / 10)

/**
 * struct pgpdma_emu - state of the emulated engine of one instance
 * @pd:        device
 * @thread:    engine kthread; NULL once halted (device gone)
 * @wq:        the kthread sleeps here; woken by kick, set, inject, stop
 * @cfg:       current settings (running always 0 here)
 * @running:   generator/loopback active
 * @epoch:     bumped by every ENGINE_SET, aborts a lossless wait
 * @produced:  generator frames since the last ENGINE_SET
 * @inj:       ring of queued transitions
 * @inj_head:  oldest entry of @inj
 * @inj_n:     entries queued in @inj
 * @pulse_id:  pulse ID of the next frame
 * @evt_counter: event counter of the next frame
 * @in_flight: the kthread has committed to delivering a frame (its epoch
 *             checked) and has not completed it yet
 * @flight_epoch: the @epoch of the frame in flight
 * @idle_wq:   ENGINE_SET waits here until no frame of older settings is
 *             in flight
 * @next:      when the generator's next frame is due; kthread only (it
 *             restarts the schedule itself when it sees a new @epoch)
 * @stage:     mover->chunk bytes where the kthread builds a piece of a
 *             generated frame for the device to DMA (pgpdma_dev.mover set)
 *
 * @cfg, @running, @epoch, @produced, @inj*, @pulse_id, @evt_counter and
 * @in_flight are protected by pgpdma_dev.lock.
 */
struct pgpdma_emu {
	struct pgpdma_dev *pd;
	struct task_struct *thread;
	wait_queue_head_t wq;
	struct pgpdma_engine cfg;
	u32 running;
	u32 epoch;
	u64 produced;
	struct pgpdma_inject inj[PGPDMA_EMU_INJECT_MAX];
	u32 inj_head;
	u32 inj_n;
	u64 pulse_id;
	u32 evt_counter;
	bool in_flight;
	u32 flight_epoch;
	wait_queue_head_t idle_wq;
	ktime_t next;
	u8 *stage;
};

/* The frame in flight was completed or given up: release ENGINE_SET. */
static void pgpdma_emu_landed(struct pgpdma_emu *emu)
{
	spin_lock(&emu->pd->lock);
	emu->in_flight = false;
	spin_unlock(&emu->pd->lock);
	wake_up(&emu->idle_wq);
}

/*
 * No frame of settings older than @epoch is in flight. Frames of @epoch
 * itself do not count: on a slow device (edu) the next one is always in
 * flight, and ENGINE_SET would wait for the whole run.
 */
static bool pgpdma_emu_settled(struct pgpdma_emu *emu, u32 epoch)
{
	bool ret;

	spin_lock(&emu->pd->lock);
	ret = !emu->in_flight || emu->flight_epoch == epoch;
	spin_unlock(&emu->pd->lock);
	return ret;
}

static bool pgpdma_emu_changed(struct pgpdma_emu *emu, u32 epoch)
{
	bool ret;

	spin_lock(&emu->pd->lock);
	ret = emu->epoch != epoch;
	spin_unlock(&emu->pd->lock);
	return ret;
}

static bool pgpdma_emu_urgent(struct pgpdma_emu *emu, u32 epoch)
{
	bool ret;

	spin_lock(&emu->pd->lock);
	ret = emu->epoch != epoch || emu->inj_n ||
	      !list_empty(&emu->pd->tx_queue);
	spin_unlock(&emu->pd->lock);
	return ret;
}

static bool pgpdma_emu_has_work(struct pgpdma_emu *emu)
{
	bool ret;

	spin_lock(&emu->pd->lock);
	ret = emu->inj_n || !list_empty(&emu->pd->tx_queue) ||
	      (emu->running && emu->cfg.mode == PGPDMA_ENG_GENERATOR);
	spin_unlock(&emu->pd->lock);
	return ret;
}

/*
 * Take @n RX buffers. Without LOSSLESS fail at once when too few are free;
 * with it wait (deadtime) until they are, the settings change or the
 * module unloads.
 */
static bool pgpdma_emu_get_bufs(struct pgpdma_emu *emu, u32 flags, u32 epoch,
				u32 n, struct list_head *bufs)
{
	struct pgpdma_dev *pd = emu->pd;
	ktime_t t0, now;
	bool ok = false;

	if (n > pd->rx_count)
		return false;
	if (!pgpdma_rx_take(pd, n, bufs))
		return true;
	if (!(flags & PGPDMA_ENGF_LOSSLESS))
		return false;

	pgpdma_eng_count(pd, &pd->st.deadtime_events, 1);
	t0 = ktime_get();
	for (;;) {
		wait_event_interruptible_timeout(emu->wq,
						 kthread_should_stop() ||
						 pgpdma_emu_changed(emu, epoch) ||
						 pgpdma_rx_free_count(pd) >= n,
						 PGPDMA_EMU_WAIT_SLICE);
		now = ktime_get();
		pgpdma_eng_count(pd, &pd->st.deadtime_ns,
				 ktime_to_ns(ktime_sub(now, t0)));
		t0 = now;
		if (!pgpdma_rx_take(pd, n, bufs)) {
			ok = true;
			break;
		}
		if (kthread_should_stop() || pgpdma_emu_changed(emu, epoch))
			break;
	}
	return ok;
}

/* Write payload words of buffer offsets [@from, @to) of a PATTERN buffer. */
static void pgpdma_emu_pattern(u8 *p, u32 from, u32 to)
{
	__le32 v;
	u32 off;

	for (off = from; off < to; off += 4) {
		v = cpu_to_le32(pgpdma_payload_word(0, off / 4));
		memcpy(p + off, &v, 4);
	}
}

/*
 * Bytes [@boff, @boff + @len) of one buffer of a frame into @p: the buffer
 * starts at byte @fbase of the frame, @head says it is the first. HASH
 * (@pattern false): the 32-byte header @hdr, then word i of the payload
 * computed from the pulse ID. PATTERN: the header in the head buffer, the
 * word at buffer offset o everywhere else pgpdma_payload_word(0, o / 4).
 * @boff is a multiple of 4.
 */
static void pgpdma_emu_gen_bytes(u8 *p, const __le32 *hdr, u64 pulse,
				 bool head, u32 fbase, u32 boff, u32 len,
				 bool pattern)
{
	u32 o, bo, fo, pw;
	__le32 v;

	for (o = 0; o < len; o += 4) {
		bo = boff + o;
		fo = fbase + bo;
		pw = (fo - PGPDMA_TH_SIZE) / 4;
		if (pattern)
			v = head && bo < PGPDMA_TH_SIZE ? hdr[bo / 4] :
			    cpu_to_le32(pgpdma_payload_word(0, bo / 4));
		else
			v = fo < PGPDMA_TH_SIZE ? hdr[fo / 4] :
			    cpu_to_le32(pgpdma_payload_word(pulse, pw));
		memcpy(p + o, &v, min(4U, len - o));
	}
}

/*
 * Fill @bufs with @len bytes by the CPU (the emulated card): 32-byte
 * header @hdr, then the payload (pgpdma_emu_gen_bytes()). PATTERN: the
 * payload depends only on the offset inside the buffer, so it is written
 * once per buffer and from then on only the header (and, in a buffer that
 * held a header before, its first 32 bytes) changes: like DMA, the engine
 * costs the CPU (almost) nothing per byte.
 */
static void pgpdma_emu_fill_cpu(struct pgpdma_dev *pd, struct list_head *bufs,
				const __le32 *hdr, u64 pulse, u32 len,
				bool pattern)
{
	struct pgpdma_buf *b;
	bool head = true;
	u32 fbase = 0;

	list_for_each_entry(b, bufs, node) {
		u32 chunk = min(len, pd->buf_size);
		u8 *p = b->cpu;

		if (pattern) {
			if (!b->pattern)
				pgpdma_emu_pattern(p, PGPDMA_TH_SIZE,
						   pd->buf_size);
			if (head)
				memcpy(p, hdr, min_t(u32, chunk, PGPDMA_TH_SIZE));
			else
				pgpdma_emu_pattern(p, 0, PGPDMA_TH_SIZE);
			b->pattern = true;
		} else {
			pgpdma_emu_gen_bytes(p, hdr, pulse, head, fbase, 0,
					     chunk, false);
			b->pattern = false;
		}
		b->size = chunk;
		fbase += chunk;
		len -= chunk;
		head = false;
	}
}

/*
 * Fill @bufs with the same bytes through the device's DMA: each piece of
 * at most mover->chunk bytes is built in @emu->stage and written by the
 * device into the buffer. Return: 0 or the mover's error.
 */
static int pgpdma_emu_fill_dma(struct pgpdma_emu *emu, struct list_head *bufs,
			       const __le32 *hdr, u64 pulse, u32 len,
			       bool pattern)
{
	struct pgpdma_dev *pd = emu->pd;
	const struct pgpdma_fw_mover *mv = pd->mover;
	struct pgpdma_buf *b;
	u32 fbase = 0, off, c;
	bool head = true;
	int ret = 0;

	list_for_each_entry(b, bufs, node) {
		b->size = min(len, pd->buf_size);
		b->pattern = false;
		for (off = 0; !ret && off < b->size; off += c) {
			c = min(b->size - off, mv->chunk);
			pgpdma_emu_gen_bytes(emu->stage, hdr, pulse, head,
					     fbase, off, c, pattern);
			ret = mv->write(pd, b, off, emu->stage, c);
		}
		fbase += b->size;
		len -= b->size;
		head = false;
	}
	return ret;
}

/* Emit one generated or injected frame of @len bytes. */
static void pgpdma_emu_frame(struct pgpdma_emu *emu,
			     const struct pgpdma_engine *cfg, u32 epoch,
			     u32 transition, u32 dest, u32 len)
{
	struct pgpdma_dev *pd = emu->pd;
	u32 n = DIV_ROUND_UP(len, pd->buf_size);
	bool l1 = transition == PGPDMA_TR_L1ACCEPT;
	bool pattern = l1 && cfg->flags & PGPDMA_ENGF_PATTERN;
	struct timespec64 ts;
	__le32 hdr[PGPDMA_TH_SIZE / 4];
	LIST_HEAD(bufs);
	u64 pulse, step;
	u32 evt, err = 0;
	bool ok;

	ok = pgpdma_emu_get_bufs(emu, cfg->flags, epoch, n, &bufs);

	step = 1;
	if (l1 && cfg->rate_hz && cfg->rate_hz < PGPDMA_PULSE_RATE_HZ)
		step = PGPDMA_PULSE_RATE_HZ / cfg->rate_hz;
	spin_lock(&pd->lock);
	if (l1 && emu->epoch != epoch) {
		/*
		 * ENGINE_SET changed the settings while this frame waited
		 * for buffers: it was never produced. Once SET returns, no
		 * generator frame of the old settings is counted.
		 */
		spin_unlock(&pd->lock);
		if (ok)
			pgpdma_rx_abort(pd, &bufs);
		return;
	}
	pulse = emu->pulse_id;
	evt = emu->evt_counter;
	emu->pulse_id = (emu->pulse_id + step) & PGPDMA_TH_PULSE_ID_MASK;
	emu->evt_counter = (emu->evt_counter + 1) & PGPDMA_TH_EVT_COUNTER_MASK;
	/* Counted whether or not a buffer was free: the frame was produced. */
	if (l1)
		pd->st.gen_frames++;
	else
		pd->st.transitions++;
	/* From here on ENGINE_SET waits until the frame is delivered. */
	emu->in_flight = ok;
	emu->flight_epoch = epoch;
	spin_unlock(&pd->lock);

	if (!ok) {
		pgpdma_rx_drop_nobuf(pd, dest);
		return;
	}

	ktime_get_real_ts64(&ts);
	memset(hdr, 0, sizeof(hdr));
	pulse |= (u64)(transition & PGPDMA_TH_TRANSITION_MASK) <<
		 PGPDMA_TH_TRANSITION_SHIFT;
	hdr[0] = cpu_to_le32(lower_32_bits(pulse));
	hdr[1] = cpu_to_le32(upper_32_bits(pulse));
	hdr[2] = cpu_to_le32(ts.tv_nsec);
	hdr[3] = cpu_to_le32((u32)(ts.tv_sec - PGPDMA_EPICS_EPOCH_OFFSET));
	hdr[4] = cpu_to_le32(cfg->readout_group &
			     PGPDMA_TH_READOUT_GROUP_MASK);
	hdr[5] = cpu_to_le32(evt);
	if (pattern) {
		hdr[6] = cpu_to_le32(PGPDMA_TH_PAYLOAD_PATTERN);
		hdr[7] = cpu_to_le32(pd->buf_size);
	}
	pulse &= PGPDMA_TH_PULSE_ID_MASK;
	if (pd->mover)
		err = pgpdma_emu_fill_dma(emu, &bufs, hdr, pulse, len, pattern) ?
		      PGPDMA_RXE_LINK : 0;
	else
		pgpdma_emu_fill_cpu(pd, &bufs, hdr, pulse, len, pattern);
	pgpdma_rx_complete(pd, &bufs, dest, err);
	pgpdma_emu_landed(emu);
}

/* One generator step: wait for the next due time or emit a frame. */
static void pgpdma_emu_gen_step(struct pgpdma_emu *emu,
				const struct pgpdma_engine *cfg, u32 epoch)
{
	struct pgpdma_dev *pd = emu->pd;
	ktime_t now;

	if (cfg->rate_hz) {
		now = ktime_get();
		if (ktime_before(now, emu->next)) {
			wait_event_interruptible_hrtimeout(emu->wq,
							   kthread_should_stop() ||
							   pgpdma_emu_urgent(emu, epoch),
							   ktime_sub(emu->next, now));
			return;
		}
		emu->next = ktime_add_ns(emu->next,
					 NSEC_PER_SEC / cfg->rate_hz);
		/* After a long stall (deadtime) do not burst to catch up. */
		if (ktime_before(emu->next, ktime_sub_ns(now, NSEC_PER_SEC)))
			emu->next = now;
	}

	pgpdma_emu_frame(emu, cfg, epoch, PGPDMA_TR_L1ACCEPT, cfg->dest,
			 cfg->frame_size);

	spin_lock(&pd->lock);
	if (emu->epoch == epoch) {
		emu->produced++;
		if (cfg->count && emu->produced >= cfg->count)
			emu->running = 0;
	}
	spin_unlock(&pd->lock);
}

/*
 * Copy @len bytes of TX buffer @tb from @toff into RX buffer @rb at @roff:
 * by the CPU, or by the device's DMA in pieces of at most mover->chunk.
 */
static int pgpdma_emu_copy(struct pgpdma_dev *pd, struct pgpdma_buf *rb,
			   u32 roff, struct pgpdma_buf *tb, u32 toff, u32 len)
{
	const struct pgpdma_fw_mover *mv = pd->mover;
	int ret;
	u32 c;

	if (!mv) {
		memcpy((u8 *)rb->cpu + roff, (u8 *)tb->cpu + toff, len);
		return 0;
	}
	for (; len; len -= c, roff += c, toff += c) {
		c = min(len, mv->chunk);
		ret = mv->copy(pd, rb, roff, tb, toff, c);
		if (ret)
			return ret;
	}
	return 0;
}

/* Consume one submitted TX frame; in loopback mode deliver it to RX. */
static void pgpdma_emu_tx(struct pgpdma_emu *emu,
			  const struct pgpdma_engine *cfg, u32 epoch)
{
	struct pgpdma_dev *pd = emu->pd;
	struct pgpdma_buf *tb, *rb;
	LIST_HEAD(tx);
	LIST_HEAD(rx);
	u32 len, left, dest = 0, roff, toff, c;
	bool deliver;
	int err = 0;

	len = pgpdma_tx_fetch(pd, &tx, &dest);
	if (!len)
		return;

	if (cfg->mode == PGPDMA_ENG_LOOPBACK) {
		if (!pgpdma_emu_get_bufs(emu, cfg->flags, epoch,
					 DIV_ROUND_UP(len, pd->buf_size),
					 &rx)) {
			pgpdma_rx_drop_nobuf(pd, dest);
			goto out;
		}
		/* Deliver only if ENGINE_SET left loopback on meanwhile. */
		spin_lock(&pd->lock);
		deliver = emu->cfg.mode == PGPDMA_ENG_LOOPBACK;
		emu->in_flight = deliver;
		emu->flight_epoch = emu->epoch;
		spin_unlock(&pd->lock);
		if (!deliver) {
			pgpdma_rx_abort(pd, &rx);
			goto out;
		}
		left = len;
		list_for_each_entry(rb, &rx, node) {
			rb->size = min(left, pd->buf_size);
			rb->pattern = false;
			left -= rb->size;
		}
		rb = list_first_entry(&rx, struct pgpdma_buf, node);
		roff = 0;
		list_for_each_entry(tb, &tx, node) {
			toff = 0;
			while (toff < tb->size) {
				if (roff == rb->size) {
					rb = list_next_entry(rb, node);
					roff = 0;
				}
				c = min(tb->size - toff, rb->size - roff);
				if (!err)
					err = pgpdma_emu_copy(pd, rb, roff, tb,
							      toff, c);
				roff += c;
				toff += c;
			}
		}
		pgpdma_rx_complete(pd, &rx, dest, err ? PGPDMA_RXE_LINK : 0);
		pgpdma_emu_landed(emu);
	}
out:
	pgpdma_tx_done(pd, &tx);
}

static int pgpdma_emu_thread(void *data)
{
	struct pgpdma_emu *emu = data;
	struct pgpdma_dev *pd = emu->pd;
	struct pgpdma_engine cfg;
	struct pgpdma_inject inj;
	bool have_inj, gen;
	u32 epoch, seen = 0;

	while (!kthread_should_stop()) {
		spin_lock(&pd->lock);
		have_inj = emu->inj_n > 0;
		if (have_inj) {
			inj = emu->inj[emu->inj_head];
			emu->inj_head = (emu->inj_head + 1) %
					PGPDMA_EMU_INJECT_MAX;
			emu->inj_n--;
		}
		cfg = emu->cfg;
		epoch = emu->epoch;
		gen = emu->running && cfg.mode == PGPDMA_ENG_GENERATOR;
		spin_unlock(&pd->lock);
		if (epoch != seen) {
			/* New settings: the generator's schedule starts now. */
			emu->next = ktime_get();
			seen = epoch;
		}

		if (have_inj)
			pgpdma_emu_frame(emu, &cfg, epoch, inj.transition,
					 inj.dest, PGPDMA_TH_SIZE);
		else if (pgpdma_tx_pending(pd))
			pgpdma_emu_tx(emu, &cfg, epoch);
		else if (gen)
			pgpdma_emu_gen_step(emu, &cfg, epoch);
		else
			wait_event_interruptible(emu->wq,
						 kthread_should_stop() ||
						 pgpdma_emu_has_work(emu));
		cond_resched();
	}
	return 0;
}

static int pgpdma_emu_get(struct pgpdma_dev *pd, struct pgpdma_engine *cfg)
{
	struct pgpdma_emu *emu = pd->eng;

	spin_lock(&pd->lock);
	*cfg = emu->cfg;
	cfg->running = emu->running;
	spin_unlock(&pd->lock);
	return 0;
}

static int pgpdma_emu_set(struct pgpdma_dev *pd,
			  const struct pgpdma_engine *cfg)
{
	struct pgpdma_emu *emu = pd->eng;
	u32 i, epoch;

	if (cfg->mode > PGPDMA_ENG_LOOPBACK ||
	    cfg->flags & ~(PGPDMA_ENGF_LOSSLESS | PGPDMA_ENGF_PATTERN) ||
	    cfg->dest >= PGPDMA_MAX_DEST ||
	    cfg->readout_group & ~PGPDMA_TH_READOUT_GROUP_MASK ||
	    cfg->rate_hz > PGPDMA_PULSE_RATE_HZ)
		return -EINVAL;
	for (i = 0; i < ARRAY_SIZE(cfg->reserved); i++)
		if (cfg->reserved[i])
			return -EINVAL;
	if (cfg->mode == PGPDMA_ENG_GENERATOR &&
	    (cfg->frame_size < PGPDMA_TH_SIZE ||
	     cfg->frame_size > PGPDMA_MAX_FRAME ||
	     cfg->frame_size > (u64)pd->rx_count * pd->buf_size))
		return -EINVAL;

	spin_lock(&pd->lock);
	emu->cfg = *cfg;
	emu->cfg.running = 0;
	emu->running = cfg->mode != PGPDMA_ENG_IDLE;
	epoch = ++emu->epoch;
	emu->produced = 0;
	spin_unlock(&pd->lock);
	wake_up(&emu->wq);
	/*
	 * A stop barrier: a frame of the old settings that the kthread had
	 * already committed to is delivered before we return; any other
	 * sees the new epoch and is never delivered.
	 */
	wait_event(emu->idle_wq, pgpdma_emu_settled(emu, epoch));
	return 0;
}

static int pgpdma_emu_inject(struct pgpdma_dev *pd,
			     const struct pgpdma_inject *inj)
{
	struct pgpdma_emu *emu = pd->eng;
	int ret = 0;

	if (inj->transition > PGPDMA_TR_SLOW_UPDATE ||
	    inj->dest >= PGPDMA_MAX_DEST || inj->reserved[0] ||
	    inj->reserved[1])
		return -EINVAL;

	spin_lock(&pd->lock);
	if (emu->inj_n == PGPDMA_EMU_INJECT_MAX) {
		ret = -EAGAIN;
	} else {
		emu->inj[(emu->inj_head + emu->inj_n) %
			 PGPDMA_EMU_INJECT_MAX] = *inj;
		emu->inj_n++;
	}
	spin_unlock(&pd->lock);
	wake_up(&emu->wq);
	return ret;
}

static void pgpdma_emu_kick(struct pgpdma_dev *pd)
{
	struct pgpdma_emu *emu = pd->eng;

	if (emu)
		wake_up(&emu->wq);
}

static void pgpdma_emu_show(struct pgpdma_dev *pd, struct seq_file *m)
{
	static const char * const modes[] = { "idle", "generator",
					      "loopback" };
	struct pgpdma_emu *emu = pd->eng;
	struct pgpdma_engine cfg;
	u64 produced, pulse;
	u32 running, evt, inj_n;

	spin_lock(&pd->lock);
	cfg = emu->cfg;
	running = emu->running;
	produced = emu->produced;
	pulse = emu->pulse_id;
	evt = emu->evt_counter;
	inj_n = emu->inj_n;
	spin_unlock(&pd->lock);

	seq_printf(m, "data path        : %s\n",
		   pd->mover ? pd->mover->name : "CPU (emulated card)");
	seq_printf(m, "engine mode      : %s\n", modes[cfg.mode]);
	seq_printf(m, "engine running   : %u\n", running);
	seq_printf(m, "backpressure     : %s\n",
		   cfg.flags & PGPDMA_ENGF_LOSSLESS ? "lossless (deadtime)" :
		   "drop");
	seq_printf(m, "gen payload      : %s\n",
		   cfg.flags & PGPDMA_ENGF_PATTERN ?
		   "pattern (per buffer offset, written once)" :
		   "hash (per pulse ID, every frame)");
	seq_printf(m, "gen rate         : %u Hz%s\n", cfg.rate_hz,
		   cfg.rate_hz ? "" : " (as fast as possible)");
	seq_printf(m, "gen frame size   : %u bytes\n", cfg.frame_size);
	seq_printf(m, "gen dest         : %u\n", cfg.dest);
	seq_printf(m, "gen readout group: 0x%04x\n", cfg.readout_group);
	seq_printf(m, "gen count        : %llu (0 = no limit)\n", cfg.count);
	seq_printf(m, "gen produced     : %llu\n", produced);
	seq_printf(m, "next pulse id    : 0x%llx\n", pulse);
	seq_printf(m, "next evt counter : %u\n", evt);
	seq_printf(m, "inject queued    : %u\n", inj_n);
}

static int pgpdma_emu_start(struct pgpdma_dev *pd)
{
	struct pgpdma_emu *emu;

	emu = kzalloc(sizeof(*emu), GFP_KERNEL);
	if (!emu)
		return -ENOMEM;
	if (pd->mover) {
		emu->stage = kmalloc(pd->mover->chunk, GFP_KERNEL);
		if (!emu->stage) {
			kfree(emu);
			return -ENOMEM;
		}
	}
	emu->pd = pd;
	init_waitqueue_head(&emu->wq);
	init_waitqueue_head(&emu->idle_wq);
	emu->pulse_id = PGPDMA_EMU_PULSE_BASE;
	emu->cfg.mode = pd->gen_mode;
	emu->cfg.rate_hz = pd->gen_rate_hz;
	emu->cfg.frame_size = pd->gen_frame_size;
	emu->running = pd->gen_mode != PGPDMA_ENG_IDLE;
	emu->next = ktime_get();
	pd->eng = emu;

	emu->thread = kthread_run(pgpdma_emu_thread, emu, "pgpdma%d-emu",
				  pd->instance);
	if (IS_ERR(emu->thread)) {
		int ret = PTR_ERR(emu->thread);

		pd->eng = NULL;
		kfree(emu->stage);
		kfree(emu);
		return ret;
	}
	return 0;
}

/*
 * Device gone: end the kthread (it completes or aborts the frame in hand
 * first, so no taken buffer is lost) and show the engine as stopped. The
 * state stays for get/set/inject/kick/show until pgpdma_emu_stop().
 */
static void pgpdma_emu_halt(struct pgpdma_dev *pd)
{
	struct pgpdma_emu *emu = pd->eng;

	if (!emu || !emu->thread)
		return;
	if (pd->mover)
		pd->mover->halt(pd);
	kthread_stop(emu->thread);
	emu->thread = NULL;
	spin_lock(&pd->lock);
	emu->running = 0;
	spin_unlock(&pd->lock);
}

static void pgpdma_emu_stop(struct pgpdma_dev *pd)
{
	struct pgpdma_emu *emu = pd->eng;

	if (!emu)
		return;
	if (emu->thread && pd->mover)
		pd->mover->halt(pd);
	if (emu->thread)
		kthread_stop(emu->thread);
	pd->eng = NULL;
	kfree(emu->stage);
	kfree(emu);
}

const struct pgpdma_engine_ops pgpdma_emu_ops = {
	.name	= "emulated",
	.start	= pgpdma_emu_start,
	.stop	= pgpdma_emu_stop,
	.halt	= pgpdma_emu_halt,
	.kick	= pgpdma_emu_kick,
	.get	= pgpdma_emu_get,
	.set	= pgpdma_emu_set,
	.inject	= pgpdma_emu_inject,
	.show	= pgpdma_emu_show,
};
