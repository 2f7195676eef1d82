// SPDX-License-Identifier: GPL-2.0
/*
 * edu_dma - the raw speed of QEMU's edu PCI device (1234:11e8), driven
 * from userspace in the guest, without any driver: the limit the PCI
 * back-end of issue 11 runs against, measured in the same VM boot.
 *
 * Maps BAR0 through sysfs (resource0), enables bus mastering in the
 * config space, and has the device copy a 4 KiB page of this process
 * (locked; bus address from /proc/self/pagemap, so the VM needs
 * -device edu,dma_mask=0xffffffffffffffff: with the default 28-bit mask
 * the device would clamp a higher address and write elsewhere) into its
 * buffer and back, N times, checking the bytes. Waits for each transfer
 * either by polling the command register or by sleeping between polls
 * (under -icount ...,sleep=off the guest's idle time is skipped).
 *
 *   edu_dma [-n N] [-s BYTES] [-m poll|sleep] [PCI-DIR]
 *
 * Prints one "csv,edu,MODE,BYTES,N,SECONDS,US_PER_XFER" line. Exit 1 if
 * the device is missing or a byte comes back wrong.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <errno.h>
#include <fcntl.h>
#include <glob.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

/* edu registers (QEMU docs/specs/edu.rst) */
#define EDU_ID		0x00
#define EDU_LIVE	0x04
#define EDU_DMA_SRC	0x80
#define EDU_DMA_DST	0x88
#define EDU_DMA_CNT	0x90
#define EDU_DMA_CMD	0x98
#define EDU_CMD_RUN	0x1
#define EDU_CMD_TO_RAM	0x2
#define EDU_BUF		0x40000
#define EDU_BUF_SIZE	4096

static volatile uint8_t *bar;

static uint32_t rd32(unsigned int off)
{
	return *(volatile uint32_t *)(bar + off);
}

static void wr32(unsigned int off, uint32_t v)
{
	*(volatile uint32_t *)(bar + off) = v;
}

static void wr64(unsigned int off, uint64_t v)
{
	*(volatile uint64_t *)(bar + off) = v;
}

static double now(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return t.tv_sec + t.tv_nsec / 1e9;
}

static int find_dev(char *dir, size_t cap)
{
	glob_t g;
	size_t i;
	int ret = -ENODEV;

	if (glob("/sys/bus/pci/devices/*", 0, NULL, &g))
		return -ENODEV;
	for (i = 0; i < g.gl_pathc && ret; i++) {
		char p[512], v[16] = "", d[16] = "";
		FILE *f;

		snprintf(p, sizeof(p), "%s/vendor", g.gl_pathv[i]);
		f = fopen(p, "r");
		if (!f || !fgets(v, sizeof(v), f)) {
			if (f)
				fclose(f);
			continue;
		}
		fclose(f);
		snprintf(p, sizeof(p), "%s/device", g.gl_pathv[i]);
		f = fopen(p, "r");
		if (!f || !fgets(d, sizeof(d), f)) {
			if (f)
				fclose(f);
			continue;
		}
		fclose(f);
		if (!strncmp(v, "0x1234", 6) && !strncmp(d, "0x11e8", 6)) {
			snprintf(dir, cap, "%s", g.gl_pathv[i]);
			ret = 0;
		}
	}
	globfree(&g);
	return ret;
}

/* set memory space + bus master in the PCI command register */
static int enable_master(const char *dir)
{
	char p[600];
	uint16_t cmd;
	int fd, ret = 0;

	snprintf(p, sizeof(p), "%s/config", dir);
	fd = open(p, O_RDWR);
	if (fd < 0)
		return -errno;
	if (pread(fd, &cmd, 2, 4) != 2)
		ret = -EIO;
	cmd |= 0x6;
	if (!ret && pwrite(fd, &cmd, 2, 4) != 2)
		ret = -EIO;
	close(fd);
	return ret;
}

static int bus_addr(const void *p, uint64_t *out)
{
	uint64_t ent, page = (uintptr_t)p / 4096;
	int fd = open("/proc/self/pagemap", O_RDONLY);

	if (fd < 0)
		return -errno;
	if (pread(fd, &ent, 8, (off_t)(page * 8)) != 8) {
		close(fd);
		return -EIO;
	}
	close(fd);
	if (!(ent & (1ULL << 63)) || !(ent & ((1ULL << 55) - 1)))
		return -EPERM;	/* not present, or PFNs hidden (not root) */
	*out = (ent & ((1ULL << 55) - 1)) * 4096 + (uintptr_t)p % 4096;
	return 0;
}

/* one transfer; waits for it by polling or sleeping */
static void xfer(uint64_t src, uint64_t dst, uint32_t n, uint32_t cmd, int sleep_wait)
{
	wr64(EDU_DMA_SRC, src);
	wr64(EDU_DMA_DST, dst);
	wr64(EDU_DMA_CNT, n);
	wr32(EDU_DMA_CMD, cmd | EDU_CMD_RUN);
	while (rd32(EDU_DMA_CMD) & EDU_CMD_RUN)
		if (sleep_wait)
			usleep(50);
}

int main(int argc, char **argv)
{
	unsigned int n = 20, i, bad = 0, size = EDU_BUF_SIZE;
	int opt, sleep_wait = 1, fd;
	char dir[512], p[600];
	uint8_t *page;
	uint64_t pa = 0;
	double t0, t;

	while ((opt = getopt(argc, argv, "n:s:m:")) != -1) {
		switch (opt) {
		case 'n': n = (unsigned int)strtoul(optarg, NULL, 0); break;
		case 's': size = (unsigned int)strtoul(optarg, NULL, 0); break;
		case 'm': sleep_wait = strcmp(optarg, "poll") != 0; break;
		default:
			fprintf(stderr, "usage: edu_dma [-n N] [-s BYTES] [-m poll|sleep] [PCI-DIR]\n");
			return 2;
		}
	}
	if (!size || size > EDU_BUF_SIZE) {
		fprintf(stderr, "edu_dma: -s must be 1..%u\n", EDU_BUF_SIZE);
		return 2;
	}
	if (optind < argc)
		snprintf(dir, sizeof(dir), "%s", argv[optind]);
	else if (find_dev(dir, sizeof(dir))) {
		fprintf(stderr, "edu_dma: no edu device (1234:11e8); run QEMU with -device edu\n");
		return 1;
	}
	if (enable_master(dir)) {
		fprintf(stderr, "edu_dma: cannot enable bus mastering on %s\n", dir);
		return 1;
	}
	snprintf(p, sizeof(p), "%s/resource0", dir);
	fd = open(p, O_RDWR | O_SYNC);
	if (fd < 0) {
		perror(p);
		return 1;
	}
	bar = mmap(NULL, 1 << 20, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (bar == MAP_FAILED) {
		perror("mmap resource0");
		return 1;
	}
	wr32(EDU_LIVE, 0x12345678);
	printf("# %s: id %#x, liveness %#x (want 0xedcba987)\n", dir, rd32(EDU_ID),
	       rd32(EDU_LIVE));
	page = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_LOCKED,
		    -1, 0);
	if (page == MAP_FAILED || bus_addr(memset(page, 1, 4096), &pa)) {
		fprintf(stderr, "edu_dma: no locked page with a known bus address (root?)\n");
		return 1;
	}
	t0 = now();
	for (i = 0; i < n; i++) {
		unsigned int k;

		for (k = 0; k < size; k++)
			page[k] = (uint8_t)(i * 7 + k);
		xfer(pa, EDU_BUF, size, 0, sleep_wait);			/* RAM -> device */
		memset(page, 0, size);
		xfer(EDU_BUF, pa, size, EDU_CMD_TO_RAM, sleep_wait);	/* device -> RAM */
		for (k = 0; k < size; k++)
			bad += page[k] != (uint8_t)(i * 7 + k);
	}
	t = now() - t0;
	printf("csv,edu,%s,%u,%u,%.3f,%.1f\n", sleep_wait ? "sleep" : "poll", size, 2 * n, t,
	       t * 1e6 / (2.0 * n));
	if (bad)
		printf("# %u bytes came back wrong\n", bad);
	return bad ? 1 : 0;
}
