// SPDX-License-Identifier: GPL-2.0
/*
 * pvasend - stream .npy images over UDP to pebbled's network-ingress
 * detector mode (the seed's PVA case), in the fragment format of
 * daemon/net_proto.h (docs/network-ingress.md).
 *
 *   pvasend [options] FILE.npy|DIR...        send
 *   pvasend --make DIR --shape HxW [--dtype u1|u2|u4] [--count N] [--seed S]
 *                                            write deterministic test images
 *
 * Each image is tagged with a timestamp (now, EPICS epoch) and, with
 * --first-pulse, the pulse ID the emulated engine gives the matching
 * timing header: first-pulse + k * pulse-step (pulse-step defaults to
 * PGPDMA_PULSE_RATE_HZ / rate, what the generator advances per frame).
 * Fault injection (all seeded, deterministic): --loss PCT drops fragments,
 * --reorder shuffles the fragments of each image, --delay-ms sends every
 * image late, --oversize BYTES appends bytes to every image.
 * The last line on stdout summarises what was sent:
 *   pvasend: images=N complete=C partial=P lost=L datagrams=D bytes=B
 */
#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>
#include <linux/pgpdma.h>
#include "archive_format.h"
#include "npy.h"
#include "net_proto.h"

static const char usage[] =
"usage: pvasend [--to ADDR:PORT] [--rate HZ] [--count N] [--first-pulse P]\n"
"               [--pulse-step S] [--mtu BYTES] [--loss PCT] [--seed S] [--reorder]\n"
"               [--delay-ms MS] [--oversize BYTES] [--quiet] FILE.npy|DIR...\n"
"       pvasend --make DIR --shape HxW [--dtype u1|u2|u4] [--count N] [--seed S]\n"
"\n"
"  --to ADDR:PORT    destination (default 127.0.0.1:17000)\n"
"  --rate HZ         images per second (default 10; 0 = as fast as possible)\n"
"  --count N         images to send, cycling over the files (default: each file once)\n"
"  --first-pulse P   pulse ID of the first image (0 = send no pulse IDs: timestamp matching)\n"
"  --pulse-step S    pulse ID step per image (default 929000 / rate)\n"
"  --mtu BYTES       largest IP datagram (default 1500; fragment data = MTU - 28 - 64)\n"
"  --loss PCT        drop each fragment with this probability (percent, seeded)\n"
"  --seed S          seed of --loss/--reorder/--make (default 1)\n"
"  --reorder         send the fragments of each image in a shuffled order\n"
"  --delay-ms MS     start sending MS milliseconds late (every image late by MS)\n"
"  --oversize BYTES  append BYTES to every image (larger than pebbled's pebble)\n";

static uint64_t rng;

static uint64_t rnd(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return rng;
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static int add_path(char ***v, size_t *n, const char *p)
{
	struct stat sb;

	if (stat(p, &sb) < 0) {
		fprintf(stderr, "pvasend: %s: %s\n", p, strerror(errno));
		return -1;
	}
	if (S_ISDIR(sb.st_mode)) {
		DIR *d = opendir(p);
		struct dirent *de;
		size_t first = *n;

		if (!d)
			return -1;
		while ((de = readdir(d))) {
			size_t l = strlen(de->d_name);
			char buf[4096];

			if (l <= 4 || strcmp(de->d_name + l - 4, ".npy"))
				continue;
			snprintf(buf, sizeof(buf), "%s/%s", p, de->d_name);
			*v = realloc(*v, (*n + 1) * sizeof(**v));
			(*v)[(*n)++] = strdup(buf);
		}
		closedir(d);
		qsort(*v + first, *n - first, sizeof(**v), cmp_str);
		return 0;
	}
	*v = realloc(*v, (*n + 1) * sizeof(**v));
	(*v)[(*n)++] = strdup(p);
	return 0;
}

static int make_images(const char *dir, const char *shape, const char *dt, unsigned long count,
		       uint64_t seed)
{
	unsigned long h, w;
	unsigned int isz;
	const char *descr;
	uint64_t sh[2];
	uint8_t *buf;

	if (sscanf(shape, "%lux%lu", &h, &w) != 2 || !h || !w) {
		fprintf(stderr, "pvasend: --shape wants HxW\n");
		return 2;
	}
	if (!strcmp(dt, "u1")) { isz = 1; descr = "|u1"; }
	else if (!strcmp(dt, "u2")) { isz = 2; descr = "<u2"; }
	else if (!strcmp(dt, "u4")) { isz = 4; descr = "<u4"; }
	else { fprintf(stderr, "pvasend: --dtype u1, u2 or u4\n"); return 2; }
	if (mkdir(dir, 0755) < 0 && errno != EEXIST) {
		fprintf(stderr, "pvasend: %s: %s\n", dir, strerror(errno));
		return 1;
	}
	buf = malloc((size_t)h * w * isz);
	if (!buf)
		return 1;
	sh[0] = h;
	sh[1] = w;
	for (unsigned long k = 0; k < count; k++) {
		char p[4096];
		uint32_t x = (uint32_t)(seed * 2654435761U + k * 40503U + 1);

		for (size_t i = 0; i < (size_t)h * w * isz; i++) {
			x ^= x << 13;
			x ^= x >> 17;
			x ^= x << 5;
			buf[i] = (uint8_t)x;
		}
		snprintf(p, sizeof(p), "%s/img%04lu.npy", dir, k);
		if (npy_save(p, descr, 2, sh, buf, (size_t)h * w * isz)) {
			fprintf(stderr, "pvasend: cannot write %s\n", p);
			free(buf);
			return 1;
		}
	}
	free(buf);
	printf("pvasend: wrote %lu images of %lux%lu %s in %s\n", count, h, w, descr, dir);
	return 0;
}

static void sleep_until(const struct timespec *t)
{
	while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, t, NULL) == EINTR)
		;
}

int main(int argc, char **argv)
{
	static const struct option lo[] = {
		{ "to", required_argument, NULL, 't' },
		{ "rate", required_argument, NULL, 'r' },
		{ "count", required_argument, NULL, 'n' },
		{ "first-pulse", required_argument, NULL, 'p' },
		{ "pulse-step", required_argument, NULL, 'P' },
		{ "mtu", required_argument, NULL, 'm' },
		{ "loss", required_argument, NULL, 'l' },
		{ "seed", required_argument, NULL, 's' },
		{ "reorder", no_argument, NULL, 'R' },
		{ "delay-ms", required_argument, NULL, 'd' },
		{ "oversize", required_argument, NULL, 'o' },
		{ "make", required_argument, NULL, 'M' },
		{ "shape", required_argument, NULL, 'S' },
		{ "dtype", required_argument, NULL, 'D' },
		{ "quiet", no_argument, NULL, 'q' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *to = "127.0.0.1:17000", *make = NULL, *shape = NULL, *dt = "u2";
	double rate = 10, loss = 0;
	unsigned long count = 0, mtu = 1500, delay_ms = 0, oversize = 0;
	uint64_t first_pulse = 0, pulse_step = 0, seed = 1;
	int reorder = 0, quiet = 0, c, fd;
	char **files = NULL;
	size_t nfiles = 0;
	struct npy_array *arr;
	struct sockaddr_in dst;
	char host[64];
	unsigned int port;
	uint64_t frag_data, ncomplete = 0, npartial = 0, nlost = 0, ndgram = 0, nbytes = 0;
	uint32_t *order = NULL;
	struct timespec t0;

	while ((c = getopt_long(argc, argv, "h", lo, NULL)) != -1) {
		switch (c) {
		case 't': to = optarg; break;
		case 'r': rate = strtod(optarg, NULL); break;
		case 'n': count = strtoul(optarg, NULL, 0); break;
		case 'p': first_pulse = strtoull(optarg, NULL, 0); break;
		case 'P': pulse_step = strtoull(optarg, NULL, 0); break;
		case 'm': mtu = strtoul(optarg, NULL, 0); break;
		case 'l': loss = strtod(optarg, NULL); break;
		case 's': seed = strtoull(optarg, NULL, 0); break;
		case 'R': reorder = 1; break;
		case 'd': delay_ms = strtoul(optarg, NULL, 0); break;
		case 'o': oversize = strtoul(optarg, NULL, 0); break;
		case 'M': make = optarg; break;
		case 'S': shape = optarg; break;
		case 'D': dt = optarg; break;
		case 'q': quiet = 1; break;
		case 'h': fputs(usage, stdout); return 0;
		default: fputs(usage, stderr); return 2;
		}
	}
	if (make) {
		if (!shape) {
			fputs(usage, stderr);
			return 2;
		}
		return make_images(make, shape, dt, count ? count : 1, seed);
	}
	if (optind >= argc || mtu < 28 + 64 + 1 || mtu > 65535 || loss < 0 || loss > 100 || rate < 0) {
		fputs(usage, stderr);
		return 2;
	}
	for (int i = optind; i < argc; i++)
		if (add_path(&files, &nfiles, argv[i]))
			return 1;
	if (!nfiles) {
		fprintf(stderr, "pvasend: no .npy files\n");
		return 1;
	}
	arr = calloc(nfiles, sizeof(*arr));
	if (!arr) {
		fprintf(stderr, "pvasend: out of memory for %zu files\n", nfiles);
		return 1;
	}
	for (size_t i = 0; i < nfiles; i++) {
		int rc = npy_load(files[i], &arr[i]);

		if (rc) {
			fprintf(stderr, "pvasend: %s: %s\n", files[i],
				rc == -EINVAL ? arr[i].error : strerror(-rc));
			return 1;
		}
	}
	if (!count)
		count = nfiles;
	if (!pulse_step)
		pulse_step = rate > 0 && rate < PGPDMA_PULSE_RATE_HZ ? (uint64_t)(PGPDMA_PULSE_RATE_HZ / rate) : 1;
	if (sscanf(to, "%63[^:]:%u", host, &port) != 2 || port > 65535) {
		fprintf(stderr, "pvasend: --to wants ADDR:PORT\n");
		return 2;
	}
	memset(&dst, 0, sizeof(dst));
	dst.sin_family = AF_INET;
	dst.sin_port = htons((uint16_t)port);
	if (inet_pton(AF_INET, host, &dst.sin_addr) != 1) {
		fprintf(stderr, "pvasend: %s is not an IPv4 address\n", host);
		return 2;
	}
	fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0 || connect(fd, (struct sockaddr *)&dst, sizeof(dst)) < 0) {
		fprintf(stderr, "pvasend: socket/connect %s: %s\n", to, strerror(errno));
		return 1;
	}
	{
		int sz = 8 << 20;

		setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &sz, sizeof(sz));
	}
	rng = seed * 0x9e3779b97f4a7c15ULL + 0x1234567ULL;
	frag_data = mtu - 28 - PB_NET_HDR_SIZE;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	t0.tv_sec += (time_t)(delay_ms / 1000);
	t0.tv_nsec += (long)(delay_ms % 1000) * 1000000L;
	if (t0.tv_nsec >= 1000000000L) {
		t0.tv_sec++;
		t0.tv_nsec -= 1000000000L;
	}
	for (unsigned long k = 0; k < count; k++) {
		const struct npy_array *a = &arr[k % nfiles];
		uint64_t total = a->data_len + oversize, nfr = (total + frag_data - 1) / frag_data, sent = 0;
		uint8_t *img = a->data, *tmp = NULL;
		struct timespec now, due = t0;
		struct pb_net_hdr h;

		if (oversize) {
			tmp = malloc(total);
			if (!tmp)
				return 1;
			memcpy(tmp, a->data, a->data_len);
			memset(tmp + a->data_len, 0xa5, oversize);
			img = tmp;
		}
		if (rate > 0) {
			uint64_t ns = (uint64_t)((double)k * 1e9 / rate);

			due.tv_sec += (time_t)(ns / 1000000000ULL);
			due.tv_nsec += (long)(ns % 1000000000ULL);
			if (due.tv_nsec >= 1000000000L) {
				due.tv_sec++;
				due.tv_nsec -= 1000000000L;
			}
		}
		sleep_until(&due);
		clock_gettime(CLOCK_REALTIME, &now);
		memset(&h, 0, sizeof(h));
		h.dtype = (uint8_t)pb_dtype_from_npy(a->descr[1], a->itemsize);
		h.frame_id = k + 1;
		h.ts_sec = (uint32_t)(now.tv_sec - PGPDMA_EPICS_EPOCH_OFFSET);
		h.ts_nsec = (uint32_t)now.tv_nsec;
		h.pulse_id = first_pulse ? (first_pulse + k * pulse_step) & PGPDMA_TH_PULSE_ID_MASK : 0;
		h.frag_count = (uint32_t)nfr;
		h.total_size = total;
		if (a->ndim >= 2) {
			h.height = (uint32_t)a->shape[a->ndim - 2];
			h.width = (uint32_t)a->shape[a->ndim - 1];
		} else {
			h.height = 1;
			h.width = (uint32_t)(a->ndim ? a->shape[0] : 0);
		}
		order = realloc(order, nfr * sizeof(*order));
		for (uint32_t i = 0; i < nfr; i++)
			order[i] = i;
		if (reorder)
			for (uint32_t i = (uint32_t)nfr; i > 1; i--) {
				uint32_t j = (uint32_t)(rnd() % i), t = order[i - 1];

				order[i - 1] = order[j];
				order[j] = t;
			}
		for (uint32_t f = 0; f < nfr; f++) {
			uint8_t hb[PB_NET_HDR_SIZE];
			struct iovec iov[2];
			uint64_t off = (uint64_t)order[f] * frag_data;
			uint64_t len = total - off < frag_data ? total - off : frag_data;

			if (loss > 0 && (double)(rnd() % 1000000) < loss * 10000.0)
				continue;
			h.frag_index = order[f];
			h.frag_offset = off;
			pb_net_hdr_encode(&h, hb);
			iov[0] = (struct iovec){ hb, sizeof(hb) };
			iov[1] = (struct iovec){ img + off, len };
			if (writev(fd, iov, 2) < 0) {
				if (errno == ECONNREFUSED)	/* nobody listening yet: counts as lost */
					continue;
				fprintf(stderr, "pvasend: send: %s\n", strerror(errno));
				return 1;
			}
			sent++;
			ndgram++;
			nbytes += sizeof(hb) + len;
		}
		if (sent == nfr)
			ncomplete++;
		else if (sent)
			npartial++;
		else
			nlost++;
		if (!quiet)
			printf("image %lu: pulse 0x%" PRIx64 " %" PRIu64 " bytes %" PRIu64 "/%" PRIu64 " fragments\n",
			       k, h.pulse_id, total, sent, nfr);
		free(tmp);
	}
	printf("pvasend: images=%lu complete=%" PRIu64 " partial=%" PRIu64 " lost=%" PRIu64
	       " datagrams=%" PRIu64 " bytes=%" PRIu64 "\n", count, ncomplete, npartial, nlost, ndgram, nbytes);
	for (size_t i = 0; i < nfiles; i++) {
		npy_free(&arr[i]);
		free(files[i]);
	}
	free(arr);
	free(files);
	free(order);
	close(fd);
	return 0;
}
