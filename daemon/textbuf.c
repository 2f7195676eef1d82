// SPDX-License-Identifier: GPL-2.0
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>

#include "textbuf.h"

void pb_textbuf_printf(struct pb_textbuf *t, const char *fmt, ...)
{
	size_t room = t->pos < t->len ? t->len - t->pos : 0;
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(room ? t->buf + t->pos : NULL, room, fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	if ((size_t)n >= room)
		t->trunc = 1;
	t->pos += (size_t)n;
}

int pb_textbuf_finish(const struct pb_textbuf *t)
{
	return t->trunc ? -ENOSPC : (int)t->pos;
}
