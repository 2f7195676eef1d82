// SPDX-License-Identifier: GPL-2.0
/*
 * pgpctl - control and inspect a pgpdma device from the command line.
 *
 *   pgpctl [-d DEV] [--json] info
 *   pgpctl [-d DEV] [--json] stats [--watch [SECONDS]]
 *   pgpctl [-d DEV] [--json] engine [show]
 *   pgpctl [-d DEV] engine start [--loopback] [--rate HZ] [--size BYTES]
 *                        [--dest D] [--count N] [--group MASK] [--lossless]
 *                        [--pattern]
 *   pgpctl [-d DEV] engine stop
 *   pgpctl [-d DEV] inject TRANSITION [--dest D]
 *   pgpctl [-d DEV] send [--dest D] [--timing [--transition NAME] [--pulse-id N]
 *                        [--evt-counter N] [--group MASK]] FILE...
 *   pgpctl [--json] plan --rx-count N --size BYTES [--lanes L] [--network]
 *                        [--image BYTES | --image-shape WxH [--dtype T]]
 *                        [--pebble-count N] [--pebble-size BYTES]
 *                        [--transition-size BYTES] [--archive-count N]
 *                        [--archive-size BYTES] [--mem BYTES|auto]
 *
 * plan needs no device: it computes pebbled's buffer plan (daemon/sizing.h)
 * and exits 1 when a balance rule fails.
 *
 * Everything goes through libpgpdma; exit status 0 on success, 1 on a
 * failed operation, 2 on bad usage.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/stat.h>
#include <jansson.h>

#include "libpgpdma.h"
#include "npy.h"
#include "sizing.h"
#include "timing.h"

static const char *device = "/dev/pgpdma0";
static int json_out;
static volatile sig_atomic_t stop;

static void usage(FILE *f)
{
	fputs("usage: pgpctl [-d DEVICE] [--json] COMMAND [ARGS]\n"
	      "\n"
	      "commands:\n"
	      "  info                       driver version, pool layout, mode\n"
	      "  stats [--watch [SEC]]      counters and buffer states (live with rates)\n"
	      "  engine [show]              emulated engine settings\n"
	      "  engine start [--loopback] [--rate HZ] [--size BYTES] [--dest D]\n"
	      "               [--count N] [--group MASK] [--lossless] [--pattern]\n"
	      "                             start the generator (default) or TX loopback\n"
	      "                             (--pattern: payload written once per buffer)\n"
	      "  engine stop                stop the engine\n"
	      "  inject TRANSITION [--dest D]  emit a transition (name or id)\n"
	      "  send [--dest D] FILE...    send files as frames through TX (.npy: the\n"
	      "                             array data; other files: raw bytes)\n"
	      "  send --timing [--transition NAME] [--pulse-id N] [--evt-counter N] [FILE...]\n"
	      "                             frames = 32-byte timing header (L1Accept, +1 per\n"
	      "                             frame, time now) + data; no FILE: header only\n"
	      "  plan --rx-count N --size BYTES [--lanes L] [--network]\n"
	      "       [--image BYTES | --image-shape WxH [--dtype u1|u2|u4|i2|i4|f4|f8]]\n"
	      "       [--pebble-count N] [--pebble-size BYTES] [--transition-size BYTES]\n"
	      "       [--archive-count N] [--archive-size BYTES] [--mem BYTES|auto]\n"
	      "                             pebbled buffer plan and balance rules (no\n"
	      "                             device needed); exit 1 if a rule fails.\n"
	      "                             BYTES takes K/KB/KiB, M/MB/MiB, G/GB/GiB\n"
	      "                             (all binary: 4KB = 4096)\n"
	      "\n"
	      "options:\n"
	      "  -d, --device PATH   device (default /dev/pgpdma0)\n"
	      "  -j, --json          machine-readable output\n"
	      "  -h, --help          this text\n", f);
}

/* One clear line for the ways opening a device goes wrong. */
static int open_dev(struct pgpdma_dev *dev, int flags)
{
	int rc = pgpdma_open(dev, device, flags);

	switch (rc) {
	case 0:
		return 0;
	case -ENOENT:
		fprintf(stderr, "pgpctl: %s: no such device (is pgpdma.ko loaded?)\n", device);
		break;
	case -EACCES:
	case -EPERM:
		fprintf(stderr, "pgpctl: %s: permission denied (run as root or join the device's group)\n",
			device);
		break;
	case -EPROTO:
		fprintf(stderr, "pgpctl: %s: not a pgpdma device of API version %d (driver and tools differ?)\n",
			device, PGPDMA_API_VERSION);
		break;
	default:
		fprintf(stderr, "pgpctl: %s: %s\n", device, strerror(-rc));
	}
	return rc;
}

static int fail(const char *what, int rc)
{
	fprintf(stderr, "pgpctl: %s: %s\n", what, strerror(-rc));
	return 1;
}

static void print_json(json_t *j)
{
	char *s = json_dumps(j, JSON_INDENT(2) | JSON_PRESERVE_ORDER);

	if (s) {
		puts(s);
		free(s);
	}
	json_decref(j);
}

static int parse_u64(const char *s, uint64_t *v)
{
	char *end;

	errno = 0;
	*v = strtoull(s, &end, 0);
	if (errno || end == s || *end || s[0] == '-') {
		fprintf(stderr, "pgpctl: '%s' is not a number\n", s);
		return -EINVAL;
	}
	return 0;
}

static int parse_u32(const char *s, uint32_t *v)
{
	uint64_t x;

	if (parse_u64(s, &x))
		return -EINVAL;
	if (x > UINT32_MAX) {
		fprintf(stderr, "pgpctl: '%s' is too large\n", s);
		return -EINVAL;
	}
	*v = (uint32_t)x;
	return 0;
}

static int cmd_info(void)
{
	struct pgpdma_dev dev;
	struct pgpdma_info *i = &dev.info;

	if (open_dev(&dev, O_RDONLY))
		return 1;
	if (json_out) {
		print_json(json_pack("{s:s, s:i, s:i, s:s, s:i, s:i, s:i, s:i, s:I, s:I, s:I, s:I, s:I}",
				     "device", device, "api_version", i->api_version,
				     "instance", i->instance,
				     "mode", i->flags & PGPDMA_INFO_STREAMING ? "streaming" : "coherent",
				     "rx_count", i->rx_count, "tx_count", i->tx_count,
				     "buf_size", i->buf_size, "stride", i->stride,
				     "rx_offset", (json_int_t)i->rx_offset,
				     "tx_offset", (json_int_t)i->tx_offset,
				     "map_size", (json_int_t)i->map_size,
				     "max_frame", (json_int_t)i->max_frame,
				     "rx_hold_max", (json_int_t)i->rx_hold_max));
	} else {
		printf("device       %s (instance %u)\n", device, i->instance);
		printf("api version  %u\n", i->api_version);
		printf("buffers      %s\n", i->flags & PGPDMA_INFO_STREAMING ? "streaming" : "coherent");
		printf("rx           %u x %u bytes (stride %u, offset %" PRIu64 ")\n",
		       i->rx_count, i->buf_size, i->stride, (uint64_t)i->rx_offset);
		printf("tx           %u x %u bytes (offset %" PRIu64 ")\n",
		       i->tx_count, i->buf_size, (uint64_t)i->tx_offset);
		printf("mapping      %" PRIu64 " bytes\n", (uint64_t)i->map_size);
		printf("limits       TX frame %u bytes, RX held per file %u buffers\n",
		       i->max_frame, i->rx_hold_max);
	}
	pgpdma_close(&dev);
	return 0;
}

static json_t *stats_json(const struct pgpdma_stats *s)
{
	json_t *j = json_pack("{s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:I}",
			      "rx_frames", (json_int_t)s->rx_frames,
			      "rx_bytes", (json_int_t)s->rx_bytes,
			      "rx_buffers", (json_int_t)s->rx_buffers,
			      "rx_cont_frames", (json_int_t)s->rx_cont_frames,
			      "rx_errors", (json_int_t)s->rx_errors,
			      "rx_drop_nobuf", (json_int_t)s->rx_drop_nobuf,
			      "rx_drop_unclaimed", (json_int_t)s->rx_drop_unclaimed,
			      "deadtime_ns", (json_int_t)s->deadtime_ns,
			      "deadtime_events", (json_int_t)s->deadtime_events,
			      "tx_frames", (json_int_t)s->tx_frames,
			      "tx_bytes", (json_int_t)s->tx_bytes,
			      "tx_buffers", (json_int_t)s->tx_buffers,
			      "user_reads", (json_int_t)s->user_reads,
			      "user_returns", (json_int_t)s->user_returns,
			      "reclaimed", (json_int_t)s->reclaimed,
			      "gen_frames", (json_int_t)s->gen_frames,
			      "transitions", (json_int_t)s->transitions,
			      "rx_drop_fault", (json_int_t)s->rx_drop_fault,
			      "rx_hold_limited", (json_int_t)s->rx_hold_limited,
			      "tx_drop_oversize", (json_int_t)s->tx_drop_oversize,
			      "rx_bad_completion", (json_int_t)s->rx_bad_completion);
	json_t *st = json_object(), *hwm = json_object();
	unsigned int k;

	for (k = 0; k < PGPDMA_ST_COUNT; k++) {
		json_object_set_new(st, pgpdma_state_name(k), json_integer(s->state[k]));
		json_object_set_new(hwm, pgpdma_state_name(k), json_integer(s->state_hwm[k]));
	}
	json_object_set_new(j, "state", st);
	json_object_set_new(j, "state_hwm", hwm);
	return j;
}

static void stats_text(const struct pgpdma_stats *s)
{
	unsigned int k;

	printf("rx   frames %" PRIu64 "  bytes %" PRIu64 "  buffers %" PRIu64
	       "  cont_frames %" PRIu64 "  errors %" PRIu64 "\n",
	       (uint64_t)s->rx_frames, (uint64_t)s->rx_bytes, (uint64_t)s->rx_buffers,
	       (uint64_t)s->rx_cont_frames, (uint64_t)s->rx_errors);
	printf("drop nobuf %" PRIu64 "  unclaimed %" PRIu64 "  fault %" PRIu64
	       "  tx_oversize %" PRIu64 "  deadtime %" PRIu64 " ns in %" PRIu64
	       " waits  hold_limited %" PRIu64 "  bad_completion %" PRIu64 "\n",
	       (uint64_t)s->rx_drop_nobuf, (uint64_t)s->rx_drop_unclaimed,
	       (uint64_t)s->rx_drop_fault, (uint64_t)s->tx_drop_oversize,
	       (uint64_t)s->deadtime_ns, (uint64_t)s->deadtime_events,
	       (uint64_t)s->rx_hold_limited, (uint64_t)s->rx_bad_completion);
	printf("tx   frames %" PRIu64 "  bytes %" PRIu64 "  buffers %" PRIu64 "\n",
	       (uint64_t)s->tx_frames, (uint64_t)s->tx_bytes, (uint64_t)s->tx_buffers);
	printf("user reads %" PRIu64 "  returns %" PRIu64 "  reclaimed %" PRIu64
	       "  generated %" PRIu64 "  transitions %" PRIu64 "\n",
	       (uint64_t)s->user_reads, (uint64_t)s->user_returns, (uint64_t)s->reclaimed,
	       (uint64_t)s->gen_frames, (uint64_t)s->transitions);
	printf("state");
	for (k = 0; k < PGPDMA_ST_COUNT; k++)
		printf("  %s %u (hwm %u)", pgpdma_state_name(k), s->state[k], s->state_hwm[k]);
	printf("\n");
}

static void on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static int cmd_stats(int argc, char **argv)
{
	struct pgpdma_dev dev;
	struct pgpdma_stats s, prev;
	double interval = 0, t0, t1;
	int rc, i;

	for (i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--watch") || !strcmp(argv[i], "-w")) {
			interval = 1;
			if (i + 1 < argc && argv[i + 1][0] != '-') {
				interval = atof(argv[++i]);
				if (interval <= 0) {
					fprintf(stderr, "pgpctl: bad interval '%s'\n", argv[i]);
					return 2;
				}
			}
		} else {
			fprintf(stderr, "pgpctl: stats: unknown argument '%s'\n", argv[i]);
			return 2;
		}
	}
	if (open_dev(&dev, O_RDONLY))
		return 1;
	rc = pgpdma_stats(&dev, &s);
	if (rc) {
		pgpdma_close(&dev);
		return fail("stats", rc);
	}
	if (!interval) {
		if (json_out)
			print_json(stats_json(&s));
		else
			stats_text(&s);
		pgpdma_close(&dev);
		return 0;
	}
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	t0 = now_s();
	while (!stop) {
		struct timespec ts = { (time_t)interval,
				       (long)((interval - (time_t)interval) * 1e9) };
		double dt;

		prev = s;
		nanosleep(&ts, NULL);
		rc = pgpdma_stats(&dev, &s);
		if (rc) {
			pgpdma_close(&dev);
			return fail("stats", rc);
		}
		t1 = now_s();
		dt = t1 - t0;
		t0 = t1;
		if (json_out) {
			json_t *j = stats_json(&s);

			json_object_set_new(j, "rx_fps", json_real((s.rx_frames - prev.rx_frames) / dt));
			json_object_set_new(j, "rx_Bps", json_real((s.rx_bytes - prev.rx_bytes) / dt));
			json_dumpf(j, stdout, JSON_COMPACT | JSON_PRESERVE_ORDER);
			json_decref(j);
			putchar('\n');
		} else {
			printf("rx %10.1f fps %9.3f MB/s | frames %" PRIu64 " drops %" PRIu64
			       "+%" PRIu64 " deadtime %" PRIu64 " ns | hw %u queued %u user %u\n",
			       (s.rx_frames - prev.rx_frames) / dt,
			       (s.rx_bytes - prev.rx_bytes) / dt / 1e6,
			       (uint64_t)s.rx_frames, (uint64_t)s.rx_drop_nobuf,
			       (uint64_t)s.rx_drop_unclaimed, (uint64_t)s.deadtime_ns,
			       s.state[PGPDMA_ST_RX_HW], s.state[PGPDMA_ST_RX_QUEUED],
			       s.state[PGPDMA_ST_RX_USER]);
		}
		fflush(stdout);
	}
	pgpdma_close(&dev);
	return 0;
}

static const char *mode_name(uint32_t mode)
{
	switch (mode) {
	case PGPDMA_ENG_IDLE: return "idle";
	case PGPDMA_ENG_GENERATOR: return "generator";
	case PGPDMA_ENG_LOOPBACK: return "loopback";
	default: return "unknown";
	}
}

static int engine_show(struct pgpdma_dev *dev)
{
	struct pgpdma_engine e;
	int rc = pgpdma_engine_get(dev, &e);

	if (rc)
		return fail("engine", rc);
	if (json_out) {
		print_json(json_pack("{s:s, s:b, s:b, s:s, s:i, s:i, s:i, s:i, s:I}",
				     "mode", mode_name(e.mode), "running", e.running,
				     "lossless", !!(e.flags & PGPDMA_ENGF_LOSSLESS),
				     "payload", e.flags & PGPDMA_ENGF_PATTERN ? "pattern" : "hash",
				     "rate_hz", e.rate_hz, "frame_size", e.frame_size,
				     "dest", e.dest, "readout_group", e.readout_group,
				     "count", (json_int_t)e.count));
	} else {
		printf("mode %s%s  backpressure %s  payload %s  rate %u Hz%s  frame %u bytes  dest %u  group 0x%x  count %" PRIu64 "\n",
		       mode_name(e.mode), e.running ? " (running)" : "",
		       e.flags & PGPDMA_ENGF_LOSSLESS ? "lossless" : "drop",
		       e.flags & PGPDMA_ENGF_PATTERN ? "pattern" : "hash",
		       e.rate_hz, e.rate_hz ? "" : " (unpaced)", e.frame_size,
		       e.dest, e.readout_group, (uint64_t)e.count);
	}
	return 0;
}

static int cmd_engine(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "loopback", no_argument, NULL, 'l' },
		{ "rate", required_argument, NULL, 'r' },
		{ "size", required_argument, NULL, 's' },
		{ "dest", required_argument, NULL, 'D' },
		{ "count", required_argument, NULL, 'c' },
		{ "group", required_argument, NULL, 'g' },
		{ "lossless", no_argument, NULL, 'L' },
		{ "pattern", no_argument, NULL, 'P' },
		{ NULL, 0, NULL, 0 }
	};
	const char *sub = argc > 1 ? argv[1] : "show";
	struct pgpdma_engine e = {
		.mode = PGPDMA_ENG_GENERATOR,
		.rate_hz = 1000,
		.frame_size = 1024,
		.readout_group = 1,
	};
	struct pgpdma_dev dev;
	int c, rc = 0;

	if (strcmp(sub, "show") && strcmp(sub, "start") && strcmp(sub, "stop")) {
		fprintf(stderr, "pgpctl: engine: unknown subcommand '%s' (show, start, stop)\n", sub);
		return 2;
	}
	optind = 2;
	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (c) {
		case 'l': e.mode = PGPDMA_ENG_LOOPBACK; break;
		case 'r': rc = parse_u32(optarg, &e.rate_hz); break;
		case 's': rc = parse_u32(optarg, &e.frame_size); break;
		case 'D': rc = parse_u32(optarg, &e.dest); break;
		case 'c': rc = parse_u64(optarg, (uint64_t *)&e.count); break;
		case 'g': rc = parse_u32(optarg, &e.readout_group); break;
		case 'L': e.flags |= PGPDMA_ENGF_LOSSLESS; break;
		case 'P': e.flags |= PGPDMA_ENGF_PATTERN; break;
		default: return 2;
		}
		if (rc)
			return 2;
	}
	if (optind < argc || (strcmp(sub, "start") && argc > 2)) {
		fprintf(stderr, "pgpctl: engine %s: unexpected argument '%s'\n", sub,
			argv[optind < argc ? optind : 2]);
		return 2;
	}
	if (open_dev(&dev, O_RDWR))
		return 1;
	if (!strcmp(sub, "stop")) {
		struct pgpdma_engine idle = { .mode = PGPDMA_ENG_IDLE, .frame_size = PGPDMA_TH_SIZE };

		rc = pgpdma_engine_set(&dev, &idle);
	} else if (!strcmp(sub, "start")) {
		rc = pgpdma_engine_set(&dev, &e);
	}
	if (rc) {
		pgpdma_close(&dev);
		return fail(sub, rc);
	}
	rc = engine_show(&dev);
	pgpdma_close(&dev);
	return rc;
}

static int parse_transition(const char *s, uint32_t *id)
{
	int rc = pgpdma_transition_from_name(s);

	if (rc >= 0) {
		*id = (uint32_t)rc;
		return 0;
	}
	if (!parse_u32(s, id) && *id < 16)
		return 0;
	fprintf(stderr, "pgpctl: unknown transition '%s' (e.g. Configure, BeginRun, Enable, Disable, EndRun)\n", s);
	return -EINVAL;
}

static int dest_arg(int *argc, char **argv, uint32_t *dest)
{
	int i, j;

	for (i = 1; i < *argc; i++) {
		if (strcmp(argv[i], "--dest"))
			continue;
		if (i + 1 >= *argc || parse_u32(argv[i + 1], dest))
			return -EINVAL;
		for (j = i; j + 2 <= *argc; j++)
			argv[j] = argv[j + 2];
		*argc -= 2;
		return 0;
	}
	return 0;
}

static int cmd_inject(int argc, char **argv)
{
	struct pgpdma_dev dev;
	uint32_t id, dest = 0;
	int rc;

	if (dest_arg(&argc, argv, &dest))
		return 2;
	if (argc != 2) {
		fprintf(stderr, "pgpctl: usage: inject TRANSITION [--dest D]\n");
		return 2;
	}
	if (parse_transition(argv[1], &id))
		return 2;
	if (open_dev(&dev, O_RDWR))
		return 1;
	rc = pgpdma_inject(&dev, id, dest);
	pgpdma_close(&dev);
	if (rc)
		return fail("inject", rc);
	if (!json_out)
		printf("injected %s to dest %u\n", pgpdma_transition_name(id), dest);
	return 0;
}

/* Pulse ID of "now" on the LCLS-II base rate, counted from the EPICS epoch. */
static uint64_t pulse_now(const struct timespec *ts)
{
	uint64_t sec = (uint64_t)ts->tv_sec - PGPDMA_EPICS_EPOCH_OFFSET;

	return (sec * PGPDMA_PULSE_RATE_HZ +
		(uint64_t)ts->tv_nsec * PGPDMA_PULSE_RATE_HZ / 1000000000ULL) &
	       PGPDMA_TH_PULSE_ID_MASK;
}

/*
 * send [--dest D] [--timing [--transition NAME] [--pulse-id N] [--evt-counter N]
 *      [--group MASK]] FILE...
 * With --timing every frame is a 32-byte timing header followed by the
 * file's data (a detector frame); the pulse ID and the event counter
 * advance by one per frame. Without FILEs, --timing sends one frame that
 * is only the header (a transition).
 */
static int cmd_send(int argc, char **argv)
{
	enum { O_DEST = 1, O_TIMING, O_TR, O_PULSE, O_EVT, O_GROUP };
	static const struct option opts[] = {
		{ "dest", required_argument, NULL, O_DEST },
		{ "timing", no_argument, NULL, O_TIMING },
		{ "transition", required_argument, NULL, O_TR },
		{ "pulse-id", required_argument, NULL, O_PULSE },
		{ "evt-counter", required_argument, NULL, O_EVT },
		{ "group", required_argument, NULL, O_GROUP },
		{ NULL, 0, NULL, 0 }
	};
	struct pgpdma_dev dev;
	struct pb_timing t;
	struct timespec ts;
	uint32_t dest = 0, group = 1, evt = 0, tr = PGPDMA_TR_L1ACCEPT;
	uint64_t pulse = 0;
	int timing = 0, have_pulse = 0, i, c, rc = 0, bad = 0, nfiles;

	optind = 1;
	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (c) {
		case O_DEST: rc = parse_u32(optarg, &dest); break;
		case O_TIMING: timing = 1; break;
		case O_TR: rc = parse_transition(optarg, &tr); timing = 1; break;
		case O_PULSE:
			rc = parse_u64(optarg, &pulse);
			if (!rc && pulse > PGPDMA_TH_PULSE_ID_MASK) {
				fprintf(stderr, "pgpctl: pulse ID '%s' does not fit in 56 bits\n", optarg);
				rc = -EINVAL;
			}
			have_pulse = 1;
			timing = 1;
			break;
		case O_EVT:
			rc = parse_u32(optarg, &evt);
			if (!rc && evt > PGPDMA_TH_EVT_COUNTER_MASK) {
				fprintf(stderr, "pgpctl: event counter '%s' does not fit in 24 bits\n", optarg);
				rc = -EINVAL;
			}
			timing = 1;
			break;
		case O_GROUP: rc = parse_u32(optarg, &group); timing = 1; break;
		default: rc = -EINVAL; break;
		}
		if (rc) {
			fprintf(stderr, "pgpctl: usage: send [--dest D] [--timing [--transition NAME] "
				"[--pulse-id N] [--evt-counter N] [--group MASK]] FILE...\n");
			return 2;
		}
	}
	nfiles = argc - optind;
	if (nfiles < 1 && !timing) {
		fprintf(stderr, "pgpctl: usage: send [--dest D] [--timing [--transition NAME] "
			"[--pulse-id N] [--evt-counter N] [--group MASK]] FILE...\n");
		return 2;
	}
	if (open_dev(&dev, O_RDWR))
		return 1;
	rc = pgpdma_map(&dev, 1);
	if (rc) {
		pgpdma_close(&dev);
		return fail("mmap", rc);
	}
	clock_gettime(CLOCK_REALTIME, &ts);
	if (!have_pulse)
		pulse = pulse_now(&ts);
	for (i = optind; i < argc || (timing && !nfiles && i == optind); i++) {
		const char *name = i < argc ? argv[i] : "(timing header only)";
		struct npy_array a = { 0 };
		unsigned char *frame = NULL;
		const void *data;
		size_t len;

		if (i < argc) {
			rc = npy_load_or_raw(argv[i], &a);
			if (rc) {
				fprintf(stderr, "pgpctl: %s: %s\n", argv[i],
					rc == -EINVAL && a.error[0] ? a.error : strerror(-rc));
				bad = 1;
				continue;
			}
		}
		data = a.data;
		len = a.data_len;
		if (timing) {
			memset(&t, 0, sizeof(t));
			clock_gettime(CLOCK_REALTIME, &ts);
			t.pulse_id = pulse;
			t.transition = tr;
			t.seconds = (uint32_t)(ts.tv_sec - PGPDMA_EPICS_EPOCH_OFFSET);
			t.nanoseconds = (uint32_t)ts.tv_nsec;
			t.env = group & PGPDMA_TH_READOUT_GROUP_MASK;
			t.evt_counter = evt;
			frame = malloc(PGPDMA_TH_SIZE + len);
			if (!frame) {
				fprintf(stderr, "pgpctl: %s: out of memory\n", name);
				npy_free(&a);
				bad = 1;
				break;
			}
			pb_timing_encode(&t, frame, PGPDMA_TH_SIZE);
			if (len)
				memcpy(frame + PGPDMA_TH_SIZE, a.data, len);
			data = frame;
			len += PGPDMA_TH_SIZE;
		}
		rc = pgpdma_send(&dev, data, len, dest);
		if (rc)
			fprintf(stderr, "pgpctl: send %s (%zu bytes): %s\n", name,
				len, rc == -EMSGSIZE ?
				"larger than the whole TX pool" : strerror(-rc));
		else if (!json_out && timing)
			printf("sent %s: %zu bytes to dest %u (%s, pulse ID 0x%" PRIx64
			       ", event counter %u)\n", name, len, dest,
			       pgpdma_transition_name(tr), pulse, evt);
		else if (!json_out)
			printf("sent %s: %zu bytes to dest %u\n", name, len, dest);
		if (!rc && timing) {
			pulse = (pulse + 1) & PGPDMA_TH_PULSE_ID_MASK;
			evt = (evt + 1) & PGPDMA_TH_EVT_COUNTER_MASK;
		}
		bad |= !!rc;
		free(frame);
		if (i < argc)
			npy_free(&a);
	}
	if (timing && !json_out)
		printf("next pulse ID 0x%" PRIx64 " event counter %u\n", pulse, evt);
	pgpdma_close(&dev);
	return bad;
}

/* A byte count with an optional binary suffix: 4096, 4K, 4KB, 4KiB, 84MiB, 1.5G. */
static int parse_bytes(const char *s, uint64_t *v)
{
	static const struct { const char *suf; unsigned int shift; } u[] = {
		{ "", 0 }, { "B", 0 },
		{ "K", 10 }, { "KB", 10 }, { "KiB", 10 }, { "k", 10 }, { "kB", 10 }, { "kiB", 10 },
		{ "M", 20 }, { "MB", 20 }, { "MiB", 20 },
		{ "G", 30 }, { "GB", 30 }, { "GiB", 30 },
		{ "T", 40 }, { "TB", 40 }, { "TiB", 40 },
	};
	char *end;
	unsigned int k;

	if (!s[0] || s[0] == '-')
		goto bad;
	errno = 0;
	if (strchr(s, '.')) {
		double d = strtod(s, &end);

		if (errno || end == s || d < 0)
			goto bad;
		for (k = 0; k < sizeof(u) / sizeof(u[0]); k++) {
			if (strcmp(end, u[k].suf))
				continue;
			d *= (double)(1ULL << u[k].shift);
			if (d >= 18446744073709551615.0)
				goto big;
			*v = (uint64_t)(d + 0.5);
			return 0;
		}
		goto bad;
	}
	*v = strtoull(s, &end, 0);
	if (errno == ERANGE)
		goto big;
	if (errno || end == s)
		goto bad;
	for (k = 0; k < sizeof(u) / sizeof(u[0]); k++) {
		if (strcmp(end, u[k].suf))
			continue;
		if (u[k].shift && *v > (UINT64_MAX >> u[k].shift))
			goto big;
		*v <<= u[k].shift;
		return 0;
	}
bad:
	fprintf(stderr, "pgpctl: '%s' is not a byte count (e.g. 4096, 4KiB, 84MiB)\n", s);
	return -EINVAL;
big:
	fprintf(stderr, "pgpctl: '%s' is too large\n", s);
	return -EINVAL;
}

static int dtype_size(const char *s, unsigned int *size)
{
	static const struct { const char *name; unsigned int size; } t[] = {
		{ "u1", 1 }, { "uint8", 1 }, { "i1", 1 }, { "int8", 1 },
		{ "u2", 2 }, { "uint16", 2 }, { "i2", 2 }, { "int16", 2 },
		{ "u4", 4 }, { "uint32", 4 }, { "i4", 4 }, { "int32", 4 }, { "f4", 4 }, { "float32", 4 },
		{ "u8", 8 }, { "uint64", 8 }, { "i8", 8 }, { "int64", 8 }, { "f8", 8 }, { "float64", 8 },
	};
	unsigned int k;

	if (s[0] == '<' || s[0] == '|')
		s++;
	for (k = 0; k < sizeof(t) / sizeof(t[0]); k++) {
		if (!strcmp(s, t[k].name)) {
			*size = t[k].size;
			return 0;
		}
	}
	fprintf(stderr, "pgpctl: unknown dtype '%s' (u1, u2, u4, i2, i4, f4, f8)\n", s);
	return -EINVAL;
}

static json_t *pool_json(uint64_t count, uint64_t size, uint64_t total)
{
	return json_pack("{s:I, s:I, s:I}", "count", (json_int_t)count,
			 "size", (json_int_t)size, "total", (json_int_t)total);
}

static int cmd_plan(int argc, char **argv)
{
	enum { O_RX = 1, O_SIZE, O_LANES, O_IMAGE, O_SHAPE, O_DTYPE, O_NET, O_PCOUNT,
	       O_PSIZE, O_TSIZE, O_ACOUNT, O_ASIZE, O_MEM };
	static const struct option opts[] = {
		{ "rx-count", required_argument, NULL, O_RX },
		{ "size", required_argument, NULL, O_SIZE },
		{ "lanes", required_argument, NULL, O_LANES },
		{ "image", required_argument, NULL, O_IMAGE },
		{ "image-shape", required_argument, NULL, O_SHAPE },
		{ "dtype", required_argument, NULL, O_DTYPE },
		{ "network", no_argument, NULL, O_NET },
		{ "pebble-count", required_argument, NULL, O_PCOUNT },
		{ "pebble-size", required_argument, NULL, O_PSIZE },
		{ "transition-size", required_argument, NULL, O_TSIZE },
		{ "archive-count", required_argument, NULL, O_ACOUNT },
		{ "archive-size", required_argument, NULL, O_ASIZE },
		{ "mem", required_argument, NULL, O_MEM },
		{ NULL, 0, NULL, 0 }
	};
	struct pb_sizing_input in = { .lanes = 1, .kind = PB_DET_LINK };
	struct pb_sizing_plan p;
	uint64_t w = 0, h = 0;
	unsigned int isz = 2;
	int have_image = 0, have_shape = 0, have_dtype = 0, c, rc = 0;
	char text[4096], *x;

	optind = 1;
	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (c) {
		case O_RX: rc = parse_u64(optarg, &in.cfg_rx_count); break;
		case O_SIZE: rc = parse_bytes(optarg, &in.cfg_size); break;
		case O_LANES: rc = parse_u32(optarg, &in.lanes); break;
		case O_IMAGE: rc = parse_bytes(optarg, &in.image_size); have_image = 1; break;
		case O_SHAPE:
			errno = 0;
			w = strtoull(optarg, &x, 10);
			if (errno || x == optarg || (*x != 'x' && *x != 'X') || optarg[0] == '-') {
				rc = -EINVAL;
			} else {
				char *y;

				h = strtoull(x + 1, &y, 10);
				if (errno || y == x + 1 || *y || x[1] == '-' || !w || !h)
					rc = -EINVAL;
			}
			if (rc)
				fprintf(stderr, "pgpctl: bad image shape '%s' (WIDTHxHEIGHT, e.g. 2048x2048)\n", optarg);
			have_shape = 1;
			break;
		case O_DTYPE: rc = dtype_size(optarg, &isz); have_dtype = 1; break;
		case O_NET: in.kind = PB_DET_NETWORK; break;
		case O_PCOUNT: rc = parse_u64(optarg, &in.pebble_buf_count); break;
		case O_PSIZE: rc = parse_bytes(optarg, &in.pebble_buf_size); break;
		case O_TSIZE: rc = parse_bytes(optarg, &in.max_transition_size); break;
		case O_ACOUNT: rc = parse_u64(optarg, &in.archive_buf_count); break;
		case O_ASIZE: rc = parse_bytes(optarg, &in.archive_buf_size); break;
		case O_MEM:
			if (!strcmp(optarg, "auto")) {
				rc = pb_meminfo_available("/proc/meminfo", &in.mem_available);
				if (rc)
					fprintf(stderr, "pgpctl: /proc/meminfo: no MemAvailable (%s)\n",
						strerror(-rc));
			} else {
				rc = parse_bytes(optarg, &in.mem_available);
			}
			break;
		default:
			fprintf(stderr, "pgpctl: usage: plan --rx-count N --size BYTES [options] (see pgpctl --help)\n");
			return 2;
		}
		if (rc)
			return 2;
	}
	if (optind < argc) {
		fprintf(stderr, "pgpctl: plan: unexpected argument '%s'\n", argv[optind]);
		return 2;
	}
	if (!in.cfg_rx_count || !in.cfg_size) {
		fprintf(stderr, "pgpctl: plan: --rx-count and --size are required and must be > 0 (cfgRxCount, cfgSize)\n");
		return 2;
	}
	if (have_image && have_shape) {
		fprintf(stderr, "pgpctl: plan: give --image or --image-shape, not both\n");
		return 2;
	}
	if (have_dtype && !have_shape) {
		fprintf(stderr, "pgpctl: plan: --dtype goes with --image-shape\n");
		return 2;
	}
	if (have_shape && (__builtin_mul_overflow(w, h, &in.image_size) ||
			   __builtin_mul_overflow(in.image_size, (uint64_t)isz, &in.image_size))) {
		fprintf(stderr, "pgpctl: plan: image size does not fit in 64 bits\n");
		return 2;
	}
	if (in.archive_buf_count && !in.archive_buf_size) {
		fprintf(stderr, "pgpctl: plan: --archive-count needs --archive-size\n");
		return 2;
	}
	rc = pb_sizing_compute(&in, &p);
	if (rc == -EINVAL) {
		fprintf(stderr, "pgpctl: plan: a network-ingress detector needs --image, --image-shape or --pebble-size\n");
		return 2;
	}
	if (rc == -EOVERFLOW) {
		fprintf(stderr, "pgpctl: plan: a pool size does not fit in 64 bits\n");
		return 2;
	}
	if (json_out) {
		json_t *j, *rules = json_array();
		unsigned int k;

		for (k = 0; k < PB_RULE_COUNT; k++)
			json_array_append_new(rules, json_pack("{s:s, s:s}", "rule", pb_rule_name(k),
							       "result", pb_rule_result_name(p.rule[k])));
		j = json_pack("{s:s, s:i, s:I, s:I, s:I, s:o, s:o, s:o, s:o, s:I, s:o, s:o, s:b, s:b, s:b}",
			      "detector", in.kind == PB_DET_LINK ? "link" : "network",
			      "lanes", (int)p.in.lanes,
			      "cfg_rx_count", (json_int_t)in.cfg_rx_count,
			      "cfg_size", (json_int_t)in.cfg_size,
			      "image_size", (json_int_t)in.image_size,
			      "dma", pool_json(in.cfg_rx_count, in.cfg_size, p.dma_total),
			      "pebble", pool_json(p.pebble_count, p.pebble_size, p.pebble_total),
			      "transition", pool_json(p.trbuf_count, p.trbuf_size, p.trbuf_total),
			      "archive", pool_json(in.archive_buf_count, in.archive_buf_size, p.archive_total),
			      "total", (json_int_t)p.grand_total,
			      "mem_available", in.mem_available ? json_integer((json_int_t)in.mem_available)
								: json_null(),
			      "rules", rules,
			      "pebble_count_auto", p.pebble_count_auto,
			      "pebble_size_auto", p.pebble_size_auto,
			      "ok", p.ok);
		print_json(j);
	} else {
		if (pb_sizing_format(&p, text, sizeof(text)) < 0)
			fprintf(stderr, "pgpctl: plan text truncated\n");
		fputs(text, stdout);
	}
	return p.ok ? 0 : 1;
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "device", required_argument, NULL, 'd' },
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	const char *cmd;
	int c;

	while ((c = getopt_long(argc, argv, "+d:jh", opts, NULL)) != -1) {
		switch (c) {
		case 'd': device = optarg; break;
		case 'j': json_out = 1; break;
		case 'h': usage(stdout); return 0;
		default: usage(stderr); return 2;
		}
	}
	if (optind >= argc) {
		usage(stderr);
		return 2;
	}
	cmd = argv[optind];
	argc -= optind;
	argv += optind;
	if (!strcmp(cmd, "info"))
		return argc == 1 ? cmd_info() : 2;
	if (!strcmp(cmd, "stats"))
		return cmd_stats(argc, argv);
	if (!strcmp(cmd, "engine"))
		return cmd_engine(argc, argv);
	if (!strcmp(cmd, "inject"))
		return cmd_inject(argc, argv);
	if (!strcmp(cmd, "send"))
		return cmd_send(argc, argv);
	if (!strcmp(cmd, "plan"))
		return cmd_plan(argc, argv);
	fprintf(stderr, "pgpctl: unknown command '%s' (see pgpctl --help)\n", cmd);
	return 2;
}
