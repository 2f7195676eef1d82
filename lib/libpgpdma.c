// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * libpgpdma: thin, checked wrappers over the pgpdma ioctl ABI.
 */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <strings.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

#include "libpgpdma.h"

static int xioctl(int fd, unsigned long cmd, void *arg)
{
	int rc;

	do {
		rc = ioctl(fd, cmd, arg);
	} while (rc < 0 && errno == EINTR && cmd != PGPDMA_IOC_RX_READ &&
		 cmd != PGPDMA_IOC_TX_ACQUIRE);
	return rc < 0 ? -errno : rc;
}

int pgpdma_open(struct pgpdma_dev *dev, const char *path, int flags)
{
	int rc;

	memset(dev, 0, sizeof(*dev));
	dev->fd = open(path, flags | O_CLOEXEC);
	if (dev->fd < 0)
		return -errno;
	rc = xioctl(dev->fd, PGPDMA_IOC_GET_INFO, &dev->info);
	if (rc == -ENOTTY)
		rc = -EPROTO;	/* not a pgpdma device at all */
	if (!rc && dev->info.api_version != PGPDMA_API_VERSION)
		rc = -EPROTO;
	if (rc) {
		close(dev->fd);
		dev->fd = -1;
	}
	return rc;
}

void pgpdma_close(struct pgpdma_dev *dev)
{
	if (dev->map) {
		munmap(dev->map, dev->info.map_size);
		dev->map = NULL;
	}
	if (dev->fd >= 0)
		close(dev->fd);
	dev->fd = -1;
}

int pgpdma_map(struct pgpdma_dev *dev, int writable)
{
	void *p;

	if (dev->map)
		return 0;
	p = mmap(NULL, dev->info.map_size,
		 PROT_READ | (writable ? PROT_WRITE : 0), MAP_SHARED, dev->fd, 0);
	if (p == MAP_FAILED)
		return -errno;
	dev->map = p;
	return 0;
}

void *pgpdma_rx_buf(const struct pgpdma_dev *dev, uint32_t index)
{
	if (!dev->map || index >= dev->info.rx_count)
		return NULL;
	return dev->map + dev->info.rx_offset + (uint64_t)index * dev->info.stride;
}

void *pgpdma_tx_buf(const struct pgpdma_dev *dev, uint32_t index)
{
	if (!dev->map || index >= dev->info.tx_count)
		return NULL;
	return dev->map + dev->info.tx_offset + (uint64_t)index * dev->info.stride;
}

int pgpdma_rx_read(struct pgpdma_dev *dev, struct pgpdma_rx_desc *descs,
		   uint32_t max, int wait)
{
	struct pgpdma_rx_read rd = {
		.descs = (uintptr_t)descs,
		.count = max > PGPDMA_MAX_BATCH ? PGPDMA_MAX_BATCH : max,
		.flags = wait ? PGPDMA_READ_WAIT : 0,
	};
	int rc = xioctl(dev->fd, PGPDMA_IOC_RX_READ, &rd);

	return rc < 0 ? rc : (int)rd.filled;
}

static int index_list(int fd, unsigned long cmd, const uint32_t *indexes,
		      uint32_t count)
{
	struct pgpdma_index_list l = {
		.indexes = (uintptr_t)indexes,
		.count = count,
	};

	return xioctl(fd, cmd, &l);
}

int pgpdma_rx_return(struct pgpdma_dev *dev, const uint32_t *indexes,
		     uint32_t count)
{
	return index_list(dev->fd, PGPDMA_IOC_RX_RETURN, indexes, count);
}

int pgpdma_tx_release(struct pgpdma_dev *dev, const uint32_t *indexes,
		      uint32_t count)
{
	return index_list(dev->fd, PGPDMA_IOC_TX_RELEASE, indexes, count);
}

int pgpdma_tx_acquire(struct pgpdma_dev *dev, uint32_t *index, int wait)
{
	struct pgpdma_tx_acquire a = { .flags = wait ? PGPDMA_TXA_WAIT : 0 };
	int rc = xioctl(dev->fd, PGPDMA_IOC_TX_ACQUIRE, &a);

	if (!rc)
		*index = a.index;
	return rc;
}

int pgpdma_tx_submit(struct pgpdma_dev *dev, uint32_t index, uint32_t size,
		     uint32_t dest, int more)
{
	struct pgpdma_tx_desc d = {
		.index = index,
		.size = size,
		.dest = dest,
		.flags = more ? PGPDMA_TXF_CONT : 0,
	};

	return xioctl(dev->fd, PGPDMA_IOC_TX_SUBMIT, &d);
}

int pgpdma_send(struct pgpdma_dev *dev, const void *data, size_t len,
		uint32_t dest)
{
	const uint8_t *p = data;
	uint32_t bs = dev->info.buf_size;
	uint32_t index;
	int rc;

	if (!dev->map)
		return -EINVAL;
	if (!len || len > (uint64_t)dev->info.tx_count * bs)
		return -EMSGSIZE;
	while (len) {
		uint32_t n = len > bs ? bs : (uint32_t)len;

		rc = pgpdma_tx_acquire(dev, &index, 1);
		if (rc)
			return rc;
		memcpy(pgpdma_tx_buf(dev, index), p, n);
		rc = pgpdma_tx_submit(dev, index, n, dest, len > n);
		if (rc) {
			pgpdma_tx_release(dev, &index, 1);
			return rc;
		}
		p += n;
		len -= n;
	}
	return 0;
}

int pgpdma_dest_set(struct pgpdma_dev *dev, const struct pgpdma_dest_mask *m)
{
	return xioctl(dev->fd, PGPDMA_IOC_SET_DEST, (void *)m);
}

int pgpdma_dest_get(struct pgpdma_dev *dev, struct pgpdma_dest_mask *m)
{
	return xioctl(dev->fd, PGPDMA_IOC_GET_DEST, m);
}

int pgpdma_dest_claim(struct pgpdma_dev *dev, uint32_t dest)
{
	struct pgpdma_dest_mask m = { { 0 } };

	if (dest >= PGPDMA_MAX_DEST)
		return -EINVAL;
	m.mask[dest / 64] = 1ULL << (dest % 64);
	return pgpdma_dest_set(dev, &m);
}

int pgpdma_stats(struct pgpdma_dev *dev, struct pgpdma_stats *st)
{
	return xioctl(dev->fd, PGPDMA_IOC_GET_STATS, st);
}

int pgpdma_engine_get(struct pgpdma_dev *dev, struct pgpdma_engine *eng)
{
	return xioctl(dev->fd, PGPDMA_IOC_ENGINE_GET, eng);
}

int pgpdma_engine_set(struct pgpdma_dev *dev, const struct pgpdma_engine *eng)
{
	return xioctl(dev->fd, PGPDMA_IOC_ENGINE_SET, (void *)eng);
}

int pgpdma_inject(struct pgpdma_dev *dev, uint32_t transition, uint32_t dest)
{
	struct pgpdma_inject in = { .transition = transition, .dest = dest };

	return xioctl(dev->fd, PGPDMA_IOC_INJECT, &in);
}

const char *pgpdma_state_name(unsigned int state)
{
	static const char *const names[PGPDMA_ST_COUNT] = {
		[PGPDMA_ST_RX_HW] = "rx_hw",
		[PGPDMA_ST_RX_QUEUED] = "rx_queued",
		[PGPDMA_ST_RX_USER] = "rx_user",
		[PGPDMA_ST_TX_FREE] = "tx_free",
		[PGPDMA_ST_TX_USER] = "tx_user",
		[PGPDMA_ST_TX_HW] = "tx_hw",
	};

	return state < PGPDMA_ST_COUNT ? names[state] : "unknown";
}

static const char *const transition_names[16] = {
	[PGPDMA_TR_CLEAR_READOUT] = "ClearReadout",
	[PGPDMA_TR_RESET] = "Reset",
	[PGPDMA_TR_CONFIGURE] = "Configure",
	[PGPDMA_TR_UNCONFIGURE] = "Unconfigure",
	[PGPDMA_TR_BEGIN_RUN] = "BeginRun",
	[PGPDMA_TR_END_RUN] = "EndRun",
	[PGPDMA_TR_BEGIN_STEP] = "BeginStep",
	[PGPDMA_TR_END_STEP] = "EndStep",
	[PGPDMA_TR_ENABLE] = "Enable",
	[PGPDMA_TR_DISABLE] = "Disable",
	[PGPDMA_TR_SLOW_UPDATE] = "SlowUpdate",
	[PGPDMA_TR_L1ACCEPT] = "L1Accept",
};

const char *pgpdma_transition_name(unsigned int id)
{
	return id < 16 && transition_names[id] ? transition_names[id] : "Unknown";
}

int pgpdma_transition_from_name(const char *name)
{
	int i;

	for (i = 0; name && i < 16; i++)
		if (transition_names[i] && !strcasecmp(name, transition_names[i]))
			return i;
	return -EINVAL;
}

int pgpdma_stats_consistent(const struct pgpdma_info *info,
			    const struct pgpdma_stats *st)
{
	uint64_t rx = (uint64_t)st->state[PGPDMA_ST_RX_HW] +
		      st->state[PGPDMA_ST_RX_QUEUED] + st->state[PGPDMA_ST_RX_USER];
	uint64_t tx = (uint64_t)st->state[PGPDMA_ST_TX_FREE] +
		      st->state[PGPDMA_ST_TX_USER] + st->state[PGPDMA_ST_TX_HW];

	return rx == info->rx_count && tx == info->tx_count ? 0 : -EPROTO;
}
