// SPDX-License-Identifier: GPL-2.0
/* pebbled Prometheus endpoint; see metrics_http.h. */
#include <arpa/inet.h>
#include <errno.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include "metrics_http.h"

struct pb_http {
	struct MHD_Daemon *d;
	pb_http_render_fn fn;
	void *ctx;
	uint16_t port;
};

static enum MHD_Result handler(void *cls, struct MHD_Connection *c, const char *url,
			       const char *method, const char *version, const char *upload,
			       size_t *upload_size, void **state)
{
	struct pb_http *h = cls;
	struct MHD_Response *r;
	enum MHD_Result ret;
	size_t cap = 65536;
	char *buf = NULL;
	int n = -ENOSPC;

	(void)url; (void)version; (void)upload; (void)upload_size; (void)state;
	if (strcmp(method, "GET") && strcmp(method, "HEAD"))
		return MHD_NO;
	while (n == -ENOSPC && cap <= (1U << 24)) {
		free(buf);
		buf = malloc(cap);
		if (!buf)
			return MHD_NO;
		n = h->fn(h->ctx, buf, cap);
		cap *= 2;
	}
	if (n < 0) {
		free(buf);
		return MHD_NO;
	}
	r = MHD_create_response_from_buffer((size_t)n, buf, MHD_RESPMEM_MUST_FREE);
	if (!r) {
		free(buf);
		return MHD_NO;
	}
	MHD_add_response_header(r, "Content-Type", "text/plain; version=0.0.4; charset=utf-8");
	ret = MHD_queue_response(c, MHD_HTTP_OK, r);
	MHD_destroy_response(r);
	return ret;
}

int pb_http_start(struct pb_http **out, uint16_t port, pb_http_render_fn fn, void *ctx)
{
	struct sockaddr_in sin;
	struct pb_http *h;
	const union MHD_DaemonInfo *info;

	if (!out || !fn)
		return -EINVAL;
	h = calloc(1, sizeof(*h));
	if (!h)
		return -ENOMEM;
	h->fn = fn;
	h->ctx = ctx;
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_port = htons(port);
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	h->d = MHD_start_daemon(MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_ERROR_LOG, port, NULL, NULL,
				handler, h, MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&sin,
				MHD_OPTION_CONNECTION_LIMIT, 16U, MHD_OPTION_CONNECTION_TIMEOUT, 10U,
				MHD_OPTION_END);
	if (!h->d) {
		int e = errno ? errno : EADDRINUSE;

		free(h);
		return -e;
	}
	info = MHD_get_daemon_info(h->d, MHD_DAEMON_INFO_BIND_PORT);
	h->port = info ? info->port : port;
	*out = h;
	return 0;
}

uint16_t pb_http_port(const struct pb_http *h)
{
	return h ? h->port : 0;
}

void pb_http_stop(struct pb_http *h)
{
	if (!h)
		return;
	MHD_stop_daemon(h->d);
	free(h);
}
