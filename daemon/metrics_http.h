/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Prometheus endpoint (libmicrohttpd) on 127.0.0.1:PORT, any path: the
 * text of a render callback (pebbled: pb_metrics_format_prometheus() plus
 * the pipeline counters). Served from libmicrohttpd's own thread.
 */
#ifndef PEBBLED_METRICS_HTTP_H
#define PEBBLED_METRICS_HTTP_H

#include <stddef.h>
#include <stdint.h>

struct pb_http;

/* Render the page into @buf; return its length or -ENOSPC. */
typedef int (*pb_http_render_fn)(void *ctx, char *buf, size_t len);

/* Start listening on 127.0.0.1:@port (port 0 = an ephemeral port, see pb_http_port()). Returns 0 or -errno. */
int pb_http_start(struct pb_http **h, uint16_t port, pb_http_render_fn fn, void *ctx);

/* The port actually bound. */
uint16_t pb_http_port(const struct pb_http *h);

/* Stop and free (NULL is fine). */
void pb_http_stop(struct pb_http *h);

#endif /* PEBBLED_METRICS_HTTP_H */
