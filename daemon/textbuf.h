/* SPDX-License-Identifier: GPL-2.0 */
/*
 * textbuf - printf into a caller's fixed buffer, remembering truncation,
 * for the formatters that fill caller buffers (metrics, sizing plan).
 */
#ifndef PB_TEXTBUF_H
#define PB_TEXTBUF_H

#include <stddef.h>

struct pb_textbuf {
	char *buf;
	size_t len;	/* capacity of buf */
	size_t pos;	/* bytes the output needs so far (may exceed len) */
	int trunc;	/* set once something did not fit */
};

#define PB_TEXTBUF(b, l) { (b), (l), 0, 0 }

/* Append formatted text; output that does not fit is cut and remembered. */
__attribute__((format(printf, 2, 3)))
void pb_textbuf_printf(struct pb_textbuf *t, const char *fmt, ...);

/* Length of the text (not counting the NUL), or -ENOSPC if it was cut. */
int pb_textbuf_finish(const struct pb_textbuf *t);

#endif /* PB_TEXTBUF_H */
