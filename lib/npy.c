// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * .npy reader/writer. Format: "\x93NUMPY", major, minor, header length
 * (u16 LE for 1.x, u32 LE for 2.x/3.x), then a Python dict literal such as
 * {'descr': '<u2', 'fortran_order': False, 'shape': (300, 300), }
 * padded with spaces and '\n' so the data starts 64-byte aligned.
 */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "npy.h"

static const char magic[6] = { '\x93', 'N', 'U', 'M', 'P', 'Y' };

/* Find the value after 'key': in the header dict; NULL if absent. */
static const char *dict_value(const char *h, const char *key)
{
	char pat[32];
	const char *p;

	snprintf(pat, sizeof(pat), "'%s'", key);
	p = strstr(h, pat);
	if (!p)
		return NULL;
	p += strlen(pat);
	while (*p == ' ')
		p++;
	if (*p++ != ':')
		return NULL;
	while (*p == ' ')
		p++;
	return p;
}

static int parse_descr(const char *v, struct npy_array *a)
{
	size_t n = 0;
	char *end;
	unsigned long size;

	if (*v != '\'')
		return -EINVAL;
	v++;
	while (v[n] && v[n] != '\'' && n < sizeof(a->descr) - 1)
		n++;
	if (v[n] != '\'' || n < 3)
		return -EINVAL;
	memcpy(a->descr, v, n);
	a->descr[n] = '\0';
	/* byte order: little-endian or not applicable; kinds: b i u f c */
	if (a->descr[0] != '<' && a->descr[0] != '|')
		return -EINVAL;
	if (!strchr("biufc", a->descr[1]))
		return -EINVAL;
	size = strtoul(a->descr + 2, &end, 10);
	if (*end || !size || size > 16)
		return -EINVAL;
	a->itemsize = (unsigned int)size;
	return 0;
}

static int parse_shape(const char *v, struct npy_array *a)
{
	if (*v++ != '(')
		return -EINVAL;
	a->ndim = 0;
	for (;;) {
		char *end;
		unsigned long long d;

		while (*v == ' ' || *v == ',')
			v++;
		if (*v == ')')
			return 0;
		if (!isdigit((unsigned char)*v) || a->ndim == NPY_MAX_DIMS)
			return -EINVAL;
		d = strtoull(v, &end, 10);
		a->shape[a->ndim++] = d;
		v = end;
	}
}

int npy_parse(const void *buf, size_t len, struct npy_array *a)
{
	const unsigned char *b = buf;
	size_t hlen, start, n = 1, need;
	char *h;
	const char *v;
	unsigned int i;
	int rc;

	memset(a, 0, sizeof(*a));
	if (len < sizeof(magic) || memcmp(b, magic, sizeof(magic))) {
		strcpy(a->descr, "|u1");
		a->itemsize = 1;
		a->ndim = 1;
		a->shape[0] = len;
		a->data = (void *)buf;
		a->data_len = len;
		return 0;
	}
	if (len < 10)
		return -EINVAL;
	if (b[6] == 1) {
		hlen = b[8] | (size_t)b[9] << 8;
		start = 10;
	} else if ((b[6] == 2 || b[6] == 3) && len >= 12) {
		hlen = b[8] | (size_t)b[9] << 8 | (size_t)b[10] << 16 | (size_t)b[11] << 24;
		start = 12;
	} else {
		return -EINVAL;
	}
	if (hlen > len - start)
		return -EINVAL;
	h = strndup((const char *)b + start, hlen);
	if (!h)
		return -ENOMEM;
	rc = -EINVAL;
	v = dict_value(h, "descr");
	if (!v || parse_descr(v, a))
		goto out;
	v = dict_value(h, "fortran_order");
	if (!v || strncmp(v, "False", 5))
		goto out;
	v = dict_value(h, "shape");
	if (!v || parse_shape(v, a))
		goto out;
	for (i = 0; i < a->ndim; i++)
		n *= a->shape[i];
	need = n * a->itemsize;
	if (need > len - start - hlen)
		goto out;
	a->data = (void *)(b + start + hlen);
	a->data_len = need;
	rc = 0;
out:
	free(h);
	return rc;
}

int npy_load(const char *path, struct npy_array *a)
{
	struct stat st;
	void *buf;
	size_t got = 0;
	int fd, rc;

	memset(a, 0, sizeof(*a));
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	if (fstat(fd, &st)) {
		rc = -errno;
		close(fd);
		return rc;
	}
	buf = malloc(st.st_size ? (size_t)st.st_size : 1);
	if (!buf) {
		close(fd);
		return -ENOMEM;
	}
	while (got < (size_t)st.st_size) {
		ssize_t r = read(fd, (char *)buf + got, st.st_size - got);

		if (r <= 0) {
			rc = r < 0 ? -errno : -EIO;
			close(fd);
			free(buf);
			return rc;
		}
		got += r;
	}
	close(fd);
	rc = npy_parse(buf, got, a);
	if (rc) {
		free(buf);
		return rc;
	}
	a->buf = buf;
	return 0;
}

void npy_free(struct npy_array *a)
{
	free(a->buf);
	a->buf = NULL;
	a->data = NULL;
}

int npy_save(const char *path, const char *descr, unsigned int ndim,
	     const uint64_t *shape, const void *data, size_t data_len)
{
	char hdr[256];
	int n, pad, rc = 0;
	unsigned int i;
	FILE *f;

	if (ndim > NPY_MAX_DIMS)
		return -EINVAL;
	n = snprintf(hdr, sizeof(hdr), "{'descr': '%s', 'fortran_order': False, 'shape': (", descr);
	for (i = 0; i < ndim; i++)
		n += snprintf(hdr + n, sizeof(hdr) - n, "%llu,%s",
			      (unsigned long long)shape[i], i + 1 < ndim ? " " : "");
	n += snprintf(hdr + n, sizeof(hdr) - n, "), }");
	/* pad so that 10 + header length is a multiple of 64, ending in '\n' */
	pad = 64 - (10 + n + 1) % 64;
	if (pad == 64)
		pad = 0;
	if (n + pad + 1 >= (int)sizeof(hdr))
		return -EINVAL;
	memset(hdr + n, ' ', pad);
	n += pad;
	hdr[n++] = '\n';
	f = fopen(path, "wb");
	if (!f)
		return -errno;
	if (fwrite(magic, 1, sizeof(magic), f) != sizeof(magic) ||
	    fputc(1, f) == EOF || fputc(0, f) == EOF ||
	    fputc(n & 0xff, f) == EOF || fputc(n >> 8, f) == EOF ||
	    fwrite(hdr, 1, n, f) != (size_t)n ||
	    (data_len && fwrite(data, 1, data_len, f) != data_len))
		rc = -EIO;
	if (fclose(f) && !rc)
		rc = -errno;
	return rc;
}
