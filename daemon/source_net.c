// SPDX-License-Identifier: GPL-2.0
/* pebbled network-ingress source; see source_net.h. */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>
#include <linux/pgpdma.h>
#include <linux/sock_diag.h>
#include "source_device.h"
#include "source_net.h"

#define RX_BATCH_BYTES	(4U << 20)	/* datagram bytes per batch between header reads */

struct net_src {
	struct pb_source base;
	struct pb_source *dev;
	struct pb_pool *hpool;
	struct pb_ni *m;
	int fd, efd;
	uint8_t *scratch;
	struct pb_event stash;
	int have_stash;
	struct pb_source_stats st;
	pthread_mutex_t lock;
	struct pb_ni_stats snap;
};

static uint64_t mono_ns(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (uint64_t)t.tv_sec * 1000000000ULL + (uint64_t)t.tv_nsec;
}

int pb_net_socket(const char *bind_addr, uint16_t port, uint64_t rcvbuf, char *err, size_t errlen)
{
	struct sockaddr_in a;
	int fd, one = 1, ret;
	int sz = rcvbuf > 0x7fffffff ? 0x7fffffff : (int)rcvbuf;

	memset(&a, 0, sizeof(a));
	a.sin_family = AF_INET;
	a.sin_port = htons(port);
	if (inet_pton(AF_INET, bind_addr, &a.sin_addr) != 1) {
		snprintf(err, errlen, "net_bind '%s' is not an IPv4 address", bind_addr);
		return -EINVAL;
	}
	fd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		ret = -errno;
		snprintf(err, errlen, "socket: %s", strerror(-ret));
		return ret;
	}
	if (sz && setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &sz, sizeof(sz)) < 0)
		setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &sz, sizeof(sz));
	setsockopt(fd, SOL_SOCKET, SO_RXQ_OVFL, &one, sizeof(one));
	if (bind(fd, (struct sockaddr *)&a, sizeof(a)) < 0) {
		ret = -errno;
		snprintf(err, errlen, "bind %s:%u: %s", bind_addr, port, strerror(-ret));
		close(fd);
		return ret;
	}
	return fd;
}

int pb_net_probe(int fd, int wait_ms, struct pb_net_hdr *h)
{
	uint8_t b[PB_NET_HDR_SIZE];
	struct pollfd p = { fd, POLLIN, 0 };
	int r = poll(&p, 1, wait_ms);
	ssize_t n;

	if (r < 0)
		return -errno;
	if (r == 0)
		return -ETIMEDOUT;
	n = recv(fd, b, sizeof(b), MSG_PEEK | MSG_DONTWAIT);
	if (n < 0)
		return -errno;
	if ((size_t)n < sizeof(b) || pb_net_hdr_decode(b, h))
		return -EBADMSG;
	return 0;
}

static int stopped(const struct net_src *n)
{
	return n->base.env.stop && atomic_load(n->base.env.stop);
}

/*
 * Datagrams the kernel dropped on this socket so far. SO_RXQ_OVFL only
 * reports the total on the next datagram received, so drops at the end of
 * a burst would stay unseen: read sk_drops with SO_MEMINFO as well.
 */
static void read_socket_drops(struct net_src *n)
{
	uint32_t mi[SK_MEMINFO_VARS];
	socklen_t len = sizeof(mi);

	if (n->fd >= 0 && getsockopt(n->fd, SOL_SOCKET, SO_MEMINFO, mi, &len) == 0 &&
	    len > SK_MEMINFO_DROPS * sizeof(uint32_t))
		pb_ni_set_socket_drops(n->m, mi[SK_MEMINFO_DROPS]);
}

static void publish(struct net_src *n)
{
	read_socket_drops(n);
	pthread_mutex_lock(&n->lock);
	pb_ni_get_stats(n->m, &n->snap);
	pthread_mutex_unlock(&n->lock);
}

/* One datagram: >0 = handled (its length, at least 1), 0 = none queued, <0 error. */
static int recv_one(struct net_src *n, uint64_t now)
{
	uint8_t hb[PB_NET_HDR_SIZE];
	union {
		char buf[CMSG_SPACE(sizeof(uint32_t))];
		struct cmsghdr align;
	} ctl;
	struct pb_net_hdr h;
	struct pb_ni_dest d;
	struct iovec iov[3];
	struct msghdr mh;
	struct cmsghdr *cm;
	ssize_t r = recv(n->fd, hb, sizeof(hb), MSG_PEEK | MSG_TRUNC | MSG_DONTWAIT);
	size_t dlen;
	int ok = 0, k = 0;

	if (r < 0)
		return errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR ? 0 : -errno;
	dlen = (size_t)r;
	iov[k++] = (struct iovec){ hb, sizeof(hb) };
	if (dlen < PB_NET_HDR_SIZE || pb_net_hdr_decode(hb, &h)) {
		pb_ni_count_bad(n->m);
		iov[k++] = (struct iovec){ n->scratch, PB_NET_MAX_DATAGRAM };
	} else {
		ok = pb_ni_frag_begin(n->m, &h, dlen - PB_NET_HDR_SIZE, now, &d);
		if (!ok) {
			iov[k++] = (struct iovec){ n->scratch, PB_NET_MAX_DATAGRAM };
		} else {
			if (d.len)
				iov[k++] = (struct iovec){ d.dst, d.len };
			if (d.discard)
				iov[k++] = (struct iovec){ n->scratch, d.discard };
		}
	}
	memset(&mh, 0, sizeof(mh));
	mh.msg_iov = iov;
	mh.msg_iovlen = (size_t)k;
	mh.msg_control = ctl.buf;
	mh.msg_controllen = sizeof(ctl.buf);
	r = recvmsg(n->fd, &mh, MSG_DONTWAIT);
	if (r < 0) {
		if (ok)
			pb_ni_frag_commit(n->m, &d, 0, now);
		return errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR ? 0 : -errno;
	}
	pb_ni_count_rx(n->m, (uint64_t)r);
	for (cm = CMSG_FIRSTHDR(&mh); cm; cm = CMSG_NXTHDR(&mh, cm))
		if (cm->cmsg_level == SOL_SOCKET && cm->cmsg_type == SO_RXQ_OVFL) {
			uint32_t drops;

			memcpy(&drops, CMSG_DATA(cm), sizeof(drops));
			pb_ni_set_socket_drops(n->m, drops);
		}
	if (ok)
		pb_ni_frag_commit(n->m, &d, (size_t)r == dlen && !(mh.msg_flags & MSG_TRUNC), now);
	return r > 0 ? (int)r : 1;
}

/* A header event from the inner device source: hand it to the matcher. */
static int take_header(struct net_src *n, struct pb_event *hev, uint64_t now)
{
	int l1 = (hev->flags & PB_EV_HAS_TIMING) && hev->transition == PGPDMA_TR_L1ACCEPT;
	int ret;

	hev->flags &= PB_EV_HAS_TIMING;	/* no generator payload check on images */
	if (l1 || !(hev->flags & PB_EV_HAS_TIMING)) {
		pb_pool_put(n->hpool, hev->buf);
		hev->buf = PB_POOL_NONE;
		if (!(hev->flags & PB_EV_HAS_TIMING)) {	/* not a timing frame: count, drop */
			n->st.orphans++;
			return 0;
		}
	} else {
		uint32_t h;
		size_t cap, len;

		ret = pb_source_take(&n->base.env, 1, &h);
		if (ret <= 0) {
			pb_pool_put(n->hpool, hev->buf);
			return ret < 0 ? ret : 0;
		}
		cap = pb_pool_bufsize(n->base.env.pool, (h & PB_POOL_TR) != 0);
		len = hev->len < cap ? hev->len : cap;
		memcpy(pb_pool_addr(n->base.env.pool, h), pb_pool_addr(n->hpool, hev->buf), len);
		pb_pool_put(n->hpool, hev->buf);
		hev->buf = h;
		hev->len = (uint32_t)len;
	}
	ret = pb_ni_push_header(n->m, hev, now);
	if (ret == -ENOSPC) {
		n->stash = *hev;
		n->have_stash = 1;
	}
	return 1;
}

static int net_next(struct pb_source *s, struct pb_event *ev)
{
	struct net_src *n = (struct net_src *)s;

	for (;;) {
		struct pollfd pfd[3];
		uint64_t now, dl;
		int r, progress = 0, blocked = 0, ms;

		if (stopped(n)) {
			publish(n);
			return 0;
		}
		now = mono_ns();
		r = pb_ni_next_event(n->m, now, ev);
		if (r == 1) {
			n->st.events++;
			publish(n);
			return 1;
		}
		blocked = r == -EAGAIN;
		if (n->have_stash) {
			if (pb_ni_push_header(n->m, &n->stash, now) == 0) {
				n->have_stash = 0;
				progress = 1;
			}
		}
		for (int k = 0; !n->have_stash && k < 64; k++) {
			struct pb_event hev;

			r = pb_source_next(n->dev, &hev);
			if (r < 0) {
				n->st.device_lost = r == -ENODEV;
				publish(n);
				return r;
			}
			if (r == 0)
				break;
			r = take_header(n, &hev, now);
			if (r < 0)
				return r == -EINTR ? 0 : r;
			progress = 1;
		}
		/*
		 * A bounded batch (datagrams and bytes), so that the timing
		 * headers on the DMA ring are read between the fragments of a
		 * big image, not only after it (64 KiB datagrams: 512 of them
		 * would be 32 MiB of copying).
		 */
		for (size_t k = 0, got = 0; k < 512 && got < RX_BATCH_BYTES; k++) {
			r = recv_one(n, mono_ns());
			if (r <= 0)
				break;
			got += (size_t)r;
			progress = 1;
		}
		if (progress)
			continue;
		publish(n);
		now = mono_ns();
		dl = pb_ni_next_deadline(n->m);
		ms = 100;
		if (dl != UINT64_MAX)
			ms = dl <= now ? 0 : (int)((dl - now) / 1000000ULL) + 1;
		if (ms > 100)
			ms = 100;
		if (blocked && ms > 10)
			ms = 10;
		pfd[0] = (struct pollfd){ pb_source_device_fd(n->dev), POLLIN, 0 };
		pfd[1] = (struct pollfd){ n->fd, POLLIN, 0 };
		pfd[2] = (struct pollfd){ n->efd, POLLIN, 0 };
		if (ms)
			poll(pfd, 3, ms);
		if (pfd[2].revents & POLLIN) {
			uint64_t v;

			if (read(n->efd, &v, sizeof(v)) < 0) {
				/* nothing */
			}
		}
	}
}

static void net_wake(struct pb_source *s)
{
	struct net_src *n = (struct net_src *)s;
	uint64_t one = 1;

	if (write(n->efd, &one, sizeof(one)) < 0) {
		/* already signalled */
	}
	pb_pool_wake(s->env.pool);
	if (n->dev)
		pb_source_wake(n->dev);
}

static void net_stats(struct pb_source *s, struct pb_source_stats *st)
{
	struct net_src *n = (struct net_src *)s;
	struct pb_source_stats d;

	memset(&d, 0, sizeof(d));
	if (n->dev)
		pb_source_get_stats(n->dev, &d);
	*st = d;
	st->events = n->st.events;
	st->orphans += n->st.orphans;
	st->device_lost |= n->st.device_lost;
}

void pb_source_net_stats(struct pb_source *s, struct pb_ni_stats *st)
{
	struct net_src *n = (struct net_src *)s;

	pthread_mutex_lock(&n->lock);
	*st = n->snap;
	pthread_mutex_unlock(&n->lock);
}

struct pb_source *pb_source_net_device(struct pb_source *s)
{
	return ((struct net_src *)s)->dev;
}

static void net_close(struct pb_source *s)
{
	struct net_src *n = (struct net_src *)s;

	if (n->have_stash && n->stash.buf != PB_POOL_NONE)
		pb_pool_put(s->env.pool, n->stash.buf);
	pb_ni_destroy(n->m);
	pb_source_close(n->dev);
	pb_pool_destroy(n->hpool);
	if (n->fd >= 0)
		close(n->fd);
	if (n->efd >= 0)
		close(n->efd);
	free(n->scratch);
	pthread_mutex_destroy(&n->lock);
	free(n);
}

static const struct pb_source_ops net_ops = {
	.next = net_next,
	.wake = net_wake,
	.get_stats = net_stats,
	.close = net_close,
};

int pb_source_net_open(struct pb_source **out, const struct pb_net_options *o,
		       const struct pb_source_env *env, char *err, size_t errlen)
{
	struct pb_pool_options hp;
	struct pb_device_options dopt;
	struct pb_source_env henv;
	struct pb_ni_options mo;
	struct net_src *n;
	int ret;

	if (!out || !o || !o->device || !o->bind || !env || !env->pool)
		return -EINVAL;
	if (err && errlen)
		err[0] = 0;
	n = calloc(1, sizeof(*n));
	if (!n)
		return -ENOMEM;
	pthread_mutex_init(&n->lock, NULL);
	n->fd = -1;
	n->efd = -1;
	n->base.ops = &net_ops;
	n->base.name = "network";
	n->base.env = *env;
	n->scratch = malloc(PB_NET_MAX_DATAGRAM);
	memset(&hp, 0, sizeof(hp));
	hp.count = o->hdr_buf_count ? o->hdr_buf_count : 64;
	hp.size = o->hdr_buf_size > 4096 ? o->hdr_buf_size : 4096;
	if (!n->scratch || (ret = pb_pool_create(&n->hpool, &hp))) {
		ret = -ENOMEM;
		goto fail;
	}
	memset(&mo, 0, sizeof(mo));
	mo.pool = env->pool;
	mo.window_ns = o->window_ns;
	mo.timeout_ns = o->timeout_ns ? o->timeout_ns : 1000000000ULL;
	mo.max_images = o->max_images ? o->max_images : 16;
	mo.max_headers = o->max_headers ? o->max_headers : 1024;
	ret = pb_ni_create(&n->m, &mo);
	if (ret) {
		snprintf(err, errlen, "network matcher: %s", strerror(-ret));
		goto fail;
	}
	n->efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (n->efd < 0) {
		ret = -errno;
		goto fail;
	}
	if (o->fd >= 0) {
		n->fd = o->fd;
	} else {
		n->fd = pb_net_socket(o->bind, o->port, o->rcvbuf, err, errlen);
		if (n->fd < 0) {
			ret = n->fd;
			goto fail;
		}
	}
	henv = *env;
	henv.pool = n->hpool;
	henv.bp = PB_BP_LOSSLESS;
	memset(&dopt, 0, sizeof(dopt));
	dopt.path = o->device;
	dopt.dests = o->dests;
	dopt.ndests = o->ndests;
	dopt.verify = 0;
	dopt.nowait = 1;
	ret = pb_source_device_open(&n->dev, &dopt, &henv, err, errlen);
	if (ret) {
		n->dev = NULL;
		goto fail;
	}
	publish(n);
	*out = &n->base;
	return 0;
fail:
	if (o->fd >= 0 && n->fd == o->fd)
		n->fd = -1;	/* the caller's */
	net_close(&n->base);
	return ret;
}
