// SPDX-License-Identifier: GPL-2.0
/*
 * pebbled - detector data-acquisition daemon: device (or .npy replay)
 * -> pebble pool -> processing + archive, with metrics. See --help.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <libgen.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <dirent.h>
#include <time.h>
#include <unistd.h>
#include <systemd/sd-daemon.h>
#include "archive_reader.h"
#include "config.h"
#include "metrics.h"
#include "metrics_http.h"
#include "pebble_pool.h"
#include "pipeline.h"
#include "sizing.h"
#include "source_device.h"
#include "source_npy.h"
#include "source_net.h"
#include "npy.h"
#include "timing.h"

enum {
	EXIT_OK = 0, EXIT_FAIL = 1, EXIT_USAGE = 2, EXIT_ARCHIVE = 3, EXIT_DEVICE_LOST = 4,
};

static const char usage_text[] =
"usage: pebbled [-c FILE] [--device PATH | --npy DIR] [--output DIR] [--seconds N]\n"
"               [--proc-hz N] [--arch-hz N] [--lossless|--drop] [--metrics-port N]\n"
"               [--progress] [--plan] [--help]\n"
"       pebbled --verify DIR [--generator] [--dump OUTDIR]\n"
"\n"
"Reads events from a pgpdma device (or replays a directory of .npy images),\n"
"one event per pebble buffer, processes them (sum/min/max/mean/ROI sums,\n"
"payload check) and archives them (O_DIRECT, libaio) into DIR/runNNNNNN/.\n"
"Configure/BeginRun open a run, EndRun closes it.\n"
"\n"
"options:\n"
"  -c, --config FILE     libconfig file (see pebbled.conf; default: built-in defaults)\n"
"  -d, --device PATH     pgpdma device (default from config: /dev/pgpdma0)\n"
"      --dest N          dest to claim (repeatable; default 0)\n"
"  -n, --npy DIR         replay the .npy files of DIR instead of a device\n"
"      --rate HZ         npy replay rate, 0 = unpaced (default 0)\n"
"      --loop            npy: loop over the files (default: one pass, then exit)\n"
"      --no-transitions  npy: do not synthesize Configure/BeginRun/Enable ... EndRun\n"
"  -o, --output DIR      archive directory (config output_dir)\n"
"  -s, --seconds N       stop after N seconds (0 = until SIGTERM)\n"
"      --proc-hz N       processing pacing, 0 = every frame (config proc_hz)\n"
"      --arch-hz N       archive pacing, 0 = every frame (config arch_hz)\n"
"      --lossless        no free pebble: stop reading (driver counts deadtime)\n"
"      --drop            no free pebble / archive queue full: drop and count\n"
"      --no-archive      process only, write nothing\n"
"      --metrics-port N  Prometheus on 127.0.0.1:N, 0 = off (config metrics_port)\n"
"      --progress        live progress line on stderr (default when stderr is a TTY)\n"
"      --plan            print the buffer plan (seed rules) and exit\n"
"      --verify DIR      check an archive (a run dir or a dir of runs): checksums,\n"
"                        record order; with --generator also the generator payloads\n"
"      --dump OUTDIR     with --verify: write each L1Accept payload as OUTDIR/l1_NNNNNN.npy\n"
"                        (dtype/geometry from the archive header; raw bytes if unknown)\n"
"  -h, --help            this text\n"
"\n"
"signals: SIGTERM/SIGINT drain in-flight events, close the run, exit;\n"
"         SIGHUP reloads proc_hz/arch_hz from the config file (and says so).\n"
"\n"
"exit status:\n"
"  0  success (stopped by signal, --seconds, or end of a one-pass replay)\n"
"  1  runtime failure: the buffer plan does not fit (plan printed), device\n"
"     cannot be opened or claimed, another pebbled holds the lock, --verify failed\n"
"  2  usage or configuration error\n"
"  3  archive or results I/O error (disk full, ...): run closed, what was\n"
"     written is readable, lost results rows counted (results_lost)\n"
"  4  the device disappeared (ENODEV): run closed cleanly\n";

struct opts {
	const char *config;
	const char *npy;
	const char *verify;
	const char *dump;
	int generator;
	double rate;
	int loop;
	int transitions;
	int progress;
	int plan;
	int no_archive;
	uint32_t dests[16];
	unsigned int ndests;
	/* CLI overrides (-1 = not given) */
	const char *device, *output;
	long long seconds, proc_hz, arch_hz, metrics_port;
	int bp;
};

static int is_tty;

static void say(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void say(const char *fmt, ...)
{
	va_list ap;

	if (is_tty)
		fputs("\r\033[K", stderr);
	fputs("pebbled: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

static void log_cb(void *ctx, const char *msg)
{
	(void)ctx;
	say("%s", msg);
}

static int parse_num(const char *s, const char *what, long long max, long long *out)
{
	char *end;
	long long v;

	errno = 0;
	v = strtoll(s, &end, 0);
	if (errno || end == s || *end || v < 0 || v > max) {
		fprintf(stderr, "pebbled: %s: '%s' is not a number in 0..%lld\n", what, s, max);
		return -1;
	}
	*out = v;
	return 0;
}

static void apply_overrides(struct pb_config *c, const struct opts *o)
{
	if (o->device)
		snprintf(c->device, sizeof(c->device), "%s", o->device);
	if (o->output)
		snprintf(c->output_dir, sizeof(c->output_dir), "%s", o->output);
	if (o->seconds >= 0)
		c->run_seconds = (uint64_t)o->seconds;
	if (o->proc_hz >= 0)
		c->proc_hz = (uint32_t)o->proc_hz;
	if (o->arch_hz >= 0)
		c->arch_hz = (uint32_t)o->arch_hz;
	if (o->metrics_port >= 0)
		c->metrics_port = (uint32_t)o->metrics_port;
	if (o->bp >= 0)
		c->backpressure = (enum pb_backpressure)o->bp;
}

/* ---- --verify ------------------------------------------------------- */

static const char *dtype_descr(unsigned int t)
{
	static const char *const d[] = { "|u1", "|u1", "<u2", "<u4", "<i2", "<i4", "<f4", "<f8" };

	return t < sizeof(d) / sizeof(d[0]) ? d[t] : "|u1";
}

static const char *dump_dir;
static uint64_t dump_n;

static void dump_rec(struct pb_archive_reader *r, const struct pb_ar_rec *rec)
{
	struct pb_ar_seg_header sh;
	char p[4096];
	uint64_t shape[2];
	unsigned int isz;

	memset(&sh, 0, sizeof(sh));
	pb_ar_segment_header(r, 0, &sh);
	isz = pb_dtype_size(sh.dtype);
	snprintf(p, sizeof(p), "%s/l1_%06" PRIu64 ".npy", dump_dir, dump_n++);
	if (isz && sh.width && sh.height && rec->payload_len == (uint64_t)sh.width * sh.height * isz) {
		shape[0] = sh.height;
		shape[1] = sh.width;
		npy_save(p, dtype_descr(sh.dtype), 2, shape, rec->payload, rec->payload_len);
	} else {
		shape[0] = rec->payload_len;
		npy_save(p, "|u1", 1, shape, rec->payload, rec->payload_len);
	}
}

static int verify_run(const char *dir, int generator, uint64_t *bad_total)
{
	struct pb_archive_reader *r;
	struct pb_ar_rec rec;
	struct pb_ar_stats st;
	uint64_t n = 0, l1 = 0, tr = 0, pok = 0, pbad = 0, order = 0, damaged = 0, last = 0;
	int ret = pb_ar_open(&r, dir);

	if (ret) {
		printf("%s: cannot open: %s\n", dir, strerror(-ret));
		(*bad_total)++;
		return ret;
	}
	while ((ret = pb_ar_next(r, &rec)) == 1) {
		if (n && rec.hdr.seq <= last)
			order++;
		last = rec.hdr.seq;
		n++;
		if (rec.hdr.damage)
			damaged++;
		if (rec.hdr.transition == 12) {
			l1++;
			if (dump_dir)
				dump_rec(r, &rec);
			if (generator && !rec.status && !(rec.hdr.damage & PB_DMG_PAYLOAD)) {
				if (pb_payload_verify(rec.payload, rec.payload_len) == -1)
					pok++;
				else
					pbad++;
			}
		} else {
			tr++;
		}
	}
	pb_ar_get_stats(r, &st);
	printf("%s: run %u: records=%" PRIu64 " ok=%" PRIu64 " bad_checksum=%" PRIu64 " truncated=%" PRIu64
	       " bad_header=%" PRIu64 " l1accept=%" PRIu64 " transitions=%" PRIu64 " damaged=%" PRIu64
	       " out_of_order=%" PRIu64 " index_entries=%" PRIu64 " tmp_files=%" PRIu64,
	       dir, pb_ar_run(r), n, st.ok, st.bad_checksum, st.truncated, st.bad_header, l1, tr,
	       damaged, order, st.index_entries, st.tmp_files);
	if (generator)
		printf(" payload_ok=%" PRIu64 " payload_bad=%" PRIu64, pok, pbad);
	printf("\n");
	*bad_total += st.bad_checksum + st.truncated + st.bad_header + order + pbad +
		      (st.index_missing || st.index_bad || st.index_entries != n) + (ret < 0);
	pb_ar_close(r);
	return 0;
}

static int do_verify(const char *dir, int generator)
{
	DIR *d = opendir(dir);
	struct dirent *de;
	uint64_t bad = 0;
	int runs = 0;
	char **names = NULL;
	size_t n = 0;

	if (!d) {
		fprintf(stderr, "pebbled: --verify %s: %s\n", dir, strerror(errno));
		return EXIT_FAIL;
	}
	while ((de = readdir(d)))
		if (!strncmp(de->d_name, "run", 3) && strlen(de->d_name) == 9) {
			char **nn = realloc(names, (n + 1) * sizeof(*names));

			if (!nn)
				break;
			names = nn;
			names[n++] = strdup(de->d_name);
		}
	closedir(d);
	for (size_t i = 0; i < n; i++) {
		for (size_t j = i + 1; j < n; j++)
			if (strcmp(names[j], names[i]) < 0) {
				char *t = names[i];

				names[i] = names[j];
				names[j] = t;
			}
	}
	for (size_t i = 0; i < n; i++) {
		char p[4096];

		snprintf(p, sizeof(p), "%s/%s", dir, names[i]);
		verify_run(p, generator, &bad);
		runs++;
		free(names[i]);
	}
	free(names);
	if (!runs) {	/* DIR itself is a run directory */
		verify_run(dir, generator, &bad);
		runs = 1;
	}
	printf("verify: %d run(s), %s\n", runs, bad ? "FAILED" : "all records intact");
	return bad ? EXIT_FAIL : EXIT_OK;
}

/* ---- main ----------------------------------------------------------- */

struct ctx {
	struct pb_metrics m;
	struct pb_pipeline *pl;
	struct pb_source *net;	/* network-ingress source, else NULL */
};

static int render(void *arg, char *buf, size_t len)
{
	struct ctx *c = arg;
	struct pb_metrics_snapshot s;
	struct pb_pipeline_stats ps;
	int n, k;

	pb_metrics_snapshot(&c->m, &s, -1);
	n = pb_metrics_format_prometheus(&s, buf, len);
	if (n < 0)
		return n;
	pb_pipeline_get_stats(c->pl, &ps);
	k = pb_pipeline_format_prometheus(&ps, buf + n, len - (size_t)n);
	if (k < 0)
		return k;
	n += k;
	if (c->net) {
		struct pb_ni_stats ns;

		pb_source_net_stats(c->net, &ns);
		k = pb_ni_format_prometheus(&ns, buf + n, len - (size_t)n);
		if (k < 0)
			return k;
		n += k;
	}
	return n;
}

static int take_lock(const char *output_dir, const char *what, int *fd_out)
{
	char path[8192], name[1100];
	const char *dir = "/run/pebbled";
	struct stat sb;
	int fd;

	snprintf(name, sizeof(name), "%s", what);
	for (char *p = name; *p; p++)
		if (*p == '/')
			*p = '_';
	if (stat(dir, &sb) != 0 || !S_ISDIR(sb.st_mode) || access(dir, W_OK) != 0)
		dir = output_dir;
	snprintf(path, sizeof(path), "%s/.pebbled%s.lock", dir, name);
	fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
	if (fd < 0) {
		say("cannot create lock file %s: %s", path, strerror(errno));
		return -1;
	}
	if (flock(fd, LOCK_EX | LOCK_NB) < 0) {
		char pid[32] = "";
		ssize_t k = pread(fd, pid, sizeof(pid) - 1, 0);

		if (k > 0)
			pid[k] = 0;
		while (k > 0 && (pid[k - 1] == '\n'))
			pid[--k] = 0;
		say("another pebbled (pid %s) is already running on %s (lock %s); refusing to start",
		    pid[0] ? pid : "?", what, path);
		close(fd);
		return -1;
	}
	if (ftruncate(fd, 0) == 0) {
		dprintf(fd, "%d\n", (int)getpid());
	}
	*fd_out = fd;
	return 0;
}

int main(int argc, char **argv)
{
	static const struct option lo[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "device", required_argument, NULL, 'd' },
		{ "npy", required_argument, NULL, 'n' },
		{ "output", required_argument, NULL, 'o' },
		{ "seconds", required_argument, NULL, 's' },
		{ "proc-hz", required_argument, NULL, 1 },
		{ "arch-hz", required_argument, NULL, 2 },
		{ "lossless", no_argument, NULL, 3 },
		{ "drop", no_argument, NULL, 4 },
		{ "metrics-port", required_argument, NULL, 5 },
		{ "progress", no_argument, NULL, 6 },
		{ "plan", no_argument, NULL, 7 },
		{ "verify", required_argument, NULL, 8 },
		{ "generator", no_argument, NULL, 9 },
		{ "rate", required_argument, NULL, 10 },
		{ "loop", no_argument, NULL, 11 },
		{ "no-transitions", no_argument, NULL, 12 },
		{ "dest", required_argument, NULL, 13 },
		{ "no-archive", no_argument, NULL, 14 },
		{ "dump", required_argument, NULL, 15 },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct opts o = { .seconds = -1, .proc_hz = -1, .arch_hz = -1, .metrics_port = -1, .bp = -1,
			  .transitions = 1 };
	struct pb_config cfg;
	struct pb_sizing_input si;
	struct pb_sizing_plan plan;
	struct pgpdma_info info;
	struct pb_pool *pool = NULL;
	struct pb_pool_options popt;
	struct pb_source *src = NULL;
	struct pb_source_env env;
	struct pb_pipeline_options po;
	struct pb_pipeline_stats pst;
	struct pb_http *http = NULL;
	static struct ctx ctx;
	atomic_int stop = 0;
	char err[1024], text[16384];
	uint64_t max_event = 0;
	sigset_t sigs;
	int sfd, lockfd = -1, c, ret, rc = EXIT_OK, netfd = -1;
	int network = 0;
	uint32_t net_dtype = 0, net_w = 0, net_h = 0;
	struct timespec t0, now;
	long long tmp;

	is_tty = isatty(STDERR_FILENO);
	while ((c = getopt_long(argc, argv, "c:d:n:o:s:h", lo, NULL)) != -1) {
		switch (c) {
		case 'c': o.config = optarg; break;
		case 'd': o.device = optarg; break;
		case 'n': o.npy = optarg; break;
		case 'o': o.output = optarg; break;
		case 's': if (parse_num(optarg, "--seconds", 1LL << 40, &o.seconds)) return EXIT_USAGE; break;
		case 1: if (parse_num(optarg, "--proc-hz", 100000000, &o.proc_hz)) return EXIT_USAGE; break;
		case 2: if (parse_num(optarg, "--arch-hz", 100000000, &o.arch_hz)) return EXIT_USAGE; break;
		case 3: o.bp = PB_BP_LOSSLESS; break;
		case 4: o.bp = PB_BP_DROP; break;
		case 5: if (parse_num(optarg, "--metrics-port", 65535, &o.metrics_port)) return EXIT_USAGE; break;
		case 6: o.progress = 1; break;
		case 7: o.plan = 1; break;
		case 8: o.verify = optarg; break;
		case 9: o.generator = 1; break;
		case 10: if (parse_num(optarg, "--rate", 100000000, &tmp)) return EXIT_USAGE; o.rate = (double)tmp; break;
		case 11: o.loop = 1; break;
		case 12: o.transitions = 0; break;
		case 13:
			if (parse_num(optarg, "--dest", PGPDMA_MAX_DEST - 1, &tmp)) return EXIT_USAGE;
			if (o.ndests < 16) o.dests[o.ndests++] = (uint32_t)tmp;
			break;
		case 14: o.no_archive = 1; break;
		case 15: o.dump = optarg; break;
		case 'h': fputs(usage_text, stdout); return EXIT_OK;
		default: fputs(usage_text, stderr); return EXIT_USAGE;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "pebbled: unexpected argument '%s'\n%s", argv[optind], usage_text);
		return EXIT_USAGE;
	}
	if (o.verify) {
		if (o.dump && mkdir(o.dump, 0755) < 0 && errno != EEXIST) {
			fprintf(stderr, "pebbled: --dump %s: %s\n", o.dump, strerror(errno));
			return EXIT_FAIL;
		}
		dump_dir = o.dump;
		return do_verify(o.verify, o.generator);
	}
	if (o.npy && o.device) {
		fprintf(stderr, "pebbled: --device and --npy exclude each other\n");
		return EXIT_USAGE;
	}
	pb_config_defaults(&cfg);
	if (o.config && (ret = pb_config_load(&cfg, o.config, err, sizeof(err)))) {
		fprintf(stderr, "pebbled: %s\n", err);
		return EXIT_USAGE;
	}
	apply_overrides(&cfg, &o);
	network = cfg.detector == PB_DET_NETWORK && !o.npy;

	/* ---- preflight: the plan, before anything is allocated ---- */
	memset(&si, 0, sizeof(si));
	si.lanes = cfg.lanes;
	si.kind = cfg.detector;
	si.pebble_buf_count = cfg.pebble_buf_count;
	si.pebble_buf_size = cfg.pebble_buf_size;
	si.max_transition_size = cfg.max_transition_size;
	if (o.npy) {
		ret = pb_source_npy_scan(o.npy, &max_event, NULL, err, sizeof(err));
		if (ret) {
			say("%s", err[0] ? err : strerror(-ret));
			return EXIT_FAIL;
		}
		/* no DMA ring: plan as a 16-buffer virtual ring of the largest event */
		si.cfg_rx_count = 16;
		si.cfg_size = max_event;
		si.kind = PB_DET_LINK;
		si.image_size = max_event;
	} else {
		ret = pb_device_probe(cfg.device, &info);
		if (ret) {
			say("%s: %s", cfg.device, pb_device_strerror(ret));
			return EXIT_FAIL;
		}
		si.cfg_rx_count = info.rx_count;
		si.cfg_size = info.buf_size;
		if (pb_config_image_size(&cfg))
			si.image_size = pb_config_image_size(&cfg) + (cfg.detector == PB_DET_LINK ? PGPDMA_TH_SIZE : 0);
		if (network && !si.image_size && !cfg.pebble_buf_size) {
			/* image size from the first image's header (peeked: it stays queued) */
			struct pb_net_hdr nh;

			netfd = pb_net_socket(cfg.net_bind, (uint16_t)cfg.net_port, cfg.net_rcvbuf, err, sizeof(err));
			if (netfd < 0) {
				say("%s", err);
				return EXIT_FAIL;
			}
			say("image size not configured: waiting up to %u ms for the first image on %s:%u",
			    cfg.net_probe_ms, cfg.net_bind, cfg.net_port);
			ret = pb_net_probe(netfd, (int)cfg.net_probe_ms, &nh);
			if (ret) {
				say("no image header on %s:%u (%s): set image_width/height/dtype or pebbleBufSize",
				    cfg.net_bind, cfg.net_port, strerror(-ret));
				close(netfd);
				return EXIT_FAIL;
			}
			si.image_size = nh.total_size;
			net_dtype = nh.dtype;
			net_w = nh.width;
			net_h = nh.height;
			say("first image: %" PRIu64 " bytes (%ux%u, %s)", nh.total_size, nh.width, nh.height,
			    pb_dtype_name(nh.dtype));
		}
	}
	si.archive_buf_count = o.no_archive ? 0 : cfg.archive_queue_depth;
	si.archive_buf_size = 0;
	pb_meminfo_available("/proc/meminfo", &si.mem_available);
	ret = pb_sizing_compute(&si, &plan);
	if (ret == 0 || ret == -ENOMEM || ret == -ENOBUFS) {
		/* archive buffers: one record (header + pebble) each, 4 KiB aligned */
		si.archive_buf_size = pb_ar_record_span(plan.pebble_size);
		ret = pb_sizing_compute(&si, &plan);
	}
	if (ret && ret != -ENOMEM && ret != -ENOBUFS) {
		say("buffer plan: invalid input: %s", strerror(-ret));
		return EXIT_USAGE;
	}
	if (network) {
		char a[32], b[32];

		printf("network-ingress: DMA memory %s (%" PRIu64 " x %" PRIu64 " B, timing headers of %u B)"
		       " vs pebble memory %s (%" PRIu64 " x %" PRIu64 " B, one whole image each)\n",
		       pb_format_bytes(plan.dma_total, a, sizeof(a)), plan.in.cfg_rx_count, plan.in.cfg_size,
		       2 * PGPDMA_TH_SIZE, pb_format_bytes(plan.pebble_total, b, sizeof(b)),
		       plan.pebble_count, plan.pebble_size);
		fflush(stdout);
	}
	if (o.plan || ret) {
		pb_sizing_format(&plan, text, sizeof(text));
		fputs(text, ret && !o.plan ? stderr : stdout);
		if (text[0] && text[strlen(text) - 1] != '\n')
			fputc('\n', ret && !o.plan ? stderr : stdout);
		if (ret && !o.plan)
			say("refusing to start: the buffer plan does not fit (%s); change cfgRxCount/cfgSize, "
			    "pebbleBufCount/pebbleBufSize", ret == -ENOBUFS ? "one event does not fit" :
			    "not enough memory");
		return ret ? EXIT_FAIL : EXIT_OK;
	}

	/* ---- one instance per device / output directory ---- */
	if (!o.no_archive && mkdir(cfg.output_dir, 0755) < 0 && errno != EEXIST) {
		say("cannot create output directory %s: %s", cfg.output_dir, strerror(errno));
		return EXIT_FAIL;
	}
	if (take_lock(o.no_archive ? "/tmp" : cfg.output_dir, o.npy ? "-npy" : cfg.device, &lockfd))
		return EXIT_FAIL;

	/* signals: handled by the main loop through a signalfd, blocked in every thread */
	sigemptyset(&sigs);
	sigaddset(&sigs, SIGTERM);
	sigaddset(&sigs, SIGINT);
	sigaddset(&sigs, SIGHUP);
	pthread_sigmask(SIG_BLOCK, &sigs, NULL);
	signal(SIGPIPE, SIG_IGN);
	sfd = signalfd(-1, &sigs, SFD_CLOEXEC | SFD_NONBLOCK);

	/* ---- allocate ---- */
	memset(&popt, 0, sizeof(popt));
	popt.count = plan.pebble_count;
	popt.size = plan.pebble_size;
	popt.tr_count = plan.trbuf_count;
	popt.tr_size = plan.trbuf_size;
	popt.mlock = 1;
	popt.log = log_cb;
	ret = pb_pool_create(&pool, &popt);
	if (ret) {
		say("cannot allocate the pebble pool (%" PRIu64 " x %" PRIu64 " B): %s", plan.pebble_count,
		    plan.pebble_size, strerror(-ret));
		return EXIT_FAIL;
	}
	pb_metrics_init(&ctx.m);
	env.pool = pool;
	env.metrics = &ctx.m;
	env.bp = cfg.backpressure;
	env.stop = &stop;
	if (o.npy) {
		struct pb_npy_options no = { o.npy, o.rate, o.loop, o.transitions, 0 };

		ret = pb_source_npy_open(&src, &no, &env, err, sizeof(err));
	} else if (network) {
		struct pb_net_options nopt;

		memset(&nopt, 0, sizeof(nopt));
		nopt.device = cfg.device;
		nopt.dests = o.dests;
		nopt.ndests = o.ndests;
		nopt.bind = cfg.net_bind;
		nopt.port = (uint16_t)cfg.net_port;
		nopt.rcvbuf = cfg.net_rcvbuf;
		nopt.window_ns = (uint64_t)cfg.net_window_us * 1000ULL;
		nopt.timeout_ns = (uint64_t)cfg.net_timeout_ms * 1000000ULL;
		nopt.max_images = cfg.net_max_images;
		nopt.max_headers = 4096;
		nopt.hdr_buf_size = cfg.max_transition_size;
		nopt.hdr_buf_count = 64;
		nopt.fd = netfd;
		ret = pb_source_net_open(&src, &nopt, &env, err, sizeof(err));
		if (ret && netfd >= 0)
			close(netfd);
		if (!ret) {
			ctx.net = src;
			src->dtype = net_dtype;
			src->width = net_w;
			src->height = net_h;
		}
	} else {
		struct pb_device_options dopt = { cfg.device, o.dests, o.ndests, 0, -1, 0 };

		ret = pb_source_device_open(&src, &dopt, &env, err, sizeof(err));
	}
	if (ret) {
		say("%s", err[0] ? err : strerror(-ret));
		pb_pool_destroy(pool);
		return EXIT_FAIL;
	}
	memset(&po, 0, sizeof(po));
	po.src = src;
	po.pool = pool;
	po.metrics = &ctx.m;
	po.stop = &stop;
	po.output_dir = o.no_archive ? NULL : cfg.output_dir;
	po.archive = !o.no_archive;
	po.results = !o.no_archive;
	po.proc_hz = cfg.proc_hz;
	po.arch_hz = cfg.arch_hz;
	po.bp = cfg.backpressure;
	po.segment_bytes = cfg.segment_bytes;
	po.segment_frames = cfg.segment_frames;
	po.queue_depth = cfg.archive_queue_depth;
	po.max_payload = plan.pebble_size;
	po.dtype = src->dtype ? src->dtype : cfg.image_dtype;
	po.width = src->width ? src->width : cfg.image_width;
	po.height = src->height ? src->height : cfg.image_height;
	po.lanes = cfg.lanes;
	po.detector = o.npy ? "npy-replay" : network ? "pgpdma-network" : "pgpdma";
	po.proc.dtype = po.dtype;
	po.proc.width = po.width;
	po.proc.header_bytes = cfg.detector == PB_DET_LINK ? PGPDMA_TH_SIZE : 0;
	po.proc.roi = cfg.roi;
	po.proc.nroi = cfg.roi_count;
	po.stop_on_arch_error = 1;
	po.log = log_cb;
	ret = pb_pipeline_start(&ctx.pl, &po);
	if (ret) {
		say("cannot start the pipeline: %s", strerror(-ret));
		pb_source_close(src);
		pb_pool_destroy(pool);
		return EXIT_FAIL;
	}
	if (cfg.metrics_port) {
		ret = pb_http_start(&http, (uint16_t)cfg.metrics_port, render, &ctx);
		if (ret)
			say("metrics endpoint 127.0.0.1:%u not started: %s (continuing without it)",
			    cfg.metrics_port, strerror(-ret));
		else
			say("metrics on http://127.0.0.1:%u/metrics", pb_http_port(http));
	}
	say("started: source %s%s%s, pool %" PRIu64 " x %" PRIu64 " B pebbles + %" PRIu64 " x %" PRIu64
	    " B transition buffers%s, %s, proc_hz %u, arch_hz %u, output %s",
	    src->name, o.npy ? " " : " ", o.npy ? o.npy : cfg.device, plan.pebble_count, plan.pebble_size,
	    plan.trbuf_count, plan.trbuf_size, pb_pool_locked(pool) ? " (locked)" : "",
	    pb_backpressure_name(cfg.backpressure), cfg.proc_hz, cfg.arch_hz,
	    o.no_archive ? "(none)" : cfg.output_dir);
	sd_notify(0, "READY=1\nSTATUS=acquiring");

	/* ---- main loop: signals, progress, watchdog, time limit ---- */
	clock_gettime(CLOCK_MONOTONIC, &t0);
	{
		uint64_t last_frames = 0, wd_usec = 0;
		int show = is_tty || o.progress;
		int watchdog = sd_watchdog_enabled(0, &wd_usec) > 0;

		for (unsigned int tick = 1;; tick++) {
			struct pollfd pfd = { sfd, POLLIN, 0 };
			struct signalfd_siginfo si2;
			struct pb_metrics_snapshot s;
			double el;
			uint64_t f;

			if (pb_pipeline_wait(ctx.pl, 0))
				break;
			poll(&pfd, 1, 200);
			while (read(sfd, &si2, sizeof(si2)) == (ssize_t)sizeof(si2)) {
				if (si2.ssi_signo == SIGHUP) {
					struct pb_config nc = cfg;

					if (!o.config) {
						say("SIGHUP: no config file (-c) to reload; nothing changed");
						continue;
					}
					pb_config_defaults(&nc);
					if (pb_config_load(&nc, o.config, err, sizeof(err))) {
						say("SIGHUP: %s; keeping the current settings", err);
						continue;
					}
					apply_overrides(&nc, &o);
					pb_pipeline_set_pacing(ctx.pl, nc.proc_hz, nc.arch_hz);
					say("SIGHUP: reloaded %s: proc_hz %u -> %u, arch_hz %u -> %u (other keys need a restart)",
					    o.config, cfg.proc_hz, nc.proc_hz, cfg.arch_hz, nc.arch_hz);
					cfg.proc_hz = nc.proc_hz;
					cfg.arch_hz = nc.arch_hz;
				} else {
					/* stop first: the line means the stop is set */
					pb_pipeline_stop(ctx.pl);
					say("%s: draining and closing", strsignal((int)si2.ssi_signo));
					sd_notify(0, "STOPPING=1\nSTATUS=draining");
				}
			}
			if (tick % 5)
				continue;
			clock_gettime(CLOCK_MONOTONIC, &now);
			el = (double)(now.tv_sec - t0.tv_sec) + (now.tv_nsec - t0.tv_nsec) / 1e9;
			f = atomic_load(&ctx.m.dma_frames);
			pb_metrics_set_event_rate(&ctx.m, (double)(f - last_frames));
			last_frames = f;
			PB_METRIC_SET(&ctx.m, drp_pebble_in_use, pb_pool_in_use(pool, 0));
			PB_METRIC_SET(&ctx.m, drp_trbufs_in_use, pb_pool_in_use(pool, 1));
			pb_metrics_snapshot(&ctx.m, &s, -1);
			if (show && pb_metrics_format_progress(&s, text, sizeof(text)) > 0)
				fprintf(stderr, is_tty ? "\r\033[K%s" : "%s\n", text);
			pb_pipeline_get_stats(ctx.pl, &pst);
			sd_notifyf(0, "STATUS=run %u, %" PRIu64 " events, %.1f fps, %" PRIu64 " archived",
				   pst.current_run, s.dma_frames,
				   s.dma_fps, s.arch_frames);
			if (watchdog)
				sd_notify(0, "WATCHDOG=1");
			if (cfg.run_seconds && el >= (double)cfg.run_seconds && !atomic_load(&stop)) {
				say("%" PRIu64 " s elapsed: stopping", cfg.run_seconds);
				pb_pipeline_stop(ctx.pl);
			}
		}
		if (show && is_tty)
			fputc('\n', stderr);
	}
	ret = pb_pipeline_join(ctx.pl, &pst);
	pb_http_stop(http);
	if (pst.src.device_lost) {
		say("%s disappeared (ENODEV): run closed cleanly", cfg.device);
		rc = EXIT_DEVICE_LOST;
	} else if (pst.arch_error) {
		say("archive error: %s: the run was closed, everything written before it is readable",
		    strerror(-pst.arch_error));
		rc = EXIT_ARCHIVE;
	} else if (pst.results_errors) {
		say("results: %" PRIu64 " file(s) failed, %" PRIu64 " row(s) lost: the archive is complete",
		    pst.results_errors, pst.results_lost);
		rc = EXIT_ARCHIVE;
	} else if (ret) {
		say("source error: %s", strerror(-ret));
		rc = EXIT_FAIL;
	}
	{
		struct pb_metrics_snapshot s;

		PB_METRIC_SET(&ctx.m, drp_pebble_in_use, pb_pool_in_use(pool, 0));
		PB_METRIC_SET(&ctx.m, drp_trbufs_in_use, pb_pool_in_use(pool, 1));
		pb_metrics_snapshot(&ctx.m, &s, -1);
		if (pb_metrics_format_summary(&s, text, sizeof(text)) > 0)
			fputs(text, stdout);
		if (pb_pipeline_format_summary(&pst, text, sizeof(text)) > 0)
			fputs(text, stdout);
		if (network) {
			struct pb_ni_stats ns;

			pb_source_net_stats(src, &ns);
			if (pb_ni_format_summary(&ns, text, sizeof(text)) > 0)
				fputs(text, stdout);
		}
		if (!o.npy) {
			struct pgpdma_stats ds;

			if (!pst.src.device_lost &&
			    pb_source_device_stats(network ? pb_source_net_device(src) : src, &ds) == 0)
				printf("DRIVER: rx_frames=%llu  drop_nobuf=%llu  drop_unclaimed=%llu  deadtime_events=%llu"
				       "  deadtime_ms=%.3f  errors=%llu\n",
				       (unsigned long long)ds.rx_frames, (unsigned long long)ds.rx_drop_nobuf,
				       (unsigned long long)ds.rx_drop_unclaimed,
				       (unsigned long long)ds.deadtime_events, ds.deadtime_ns / 1e6,
				       (unsigned long long)ds.rx_errors);
		}
		fflush(stdout);
	}
	pb_source_close(src);
	pb_pool_destroy(pool);
	if (lockfd >= 0)
		close(lockfd);
	close(sfd);
	return rc;
}
