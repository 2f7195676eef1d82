// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * .npy reader/writer. Format: "\x93NUMPY", major, minor, header length
 * (u16 LE for 1.x, u32 LE for 2.x/3.x), then a Python dict literal such as
 * {'descr': '<u2', 'fortran_order': False, 'shape': (300, 300), }
 * padded with spaces and '\n' so the data starts 64-byte aligned.
 */
#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
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

/* Say why in @a->error; -EINVAL. */
static int npy_fail(struct npy_array *a, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
static int npy_fail(struct npy_array *a, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(a->error, sizeof(a->error), fmt, ap);
	va_end(ap);
	return -EINVAL;
}

static int parse_descr(const char *v, struct npy_array *a)
{
	size_t n = 0;
	char *end;
	unsigned long size;

	if (*v != '\'')
		return npy_fail(a, "header: 'descr' is not a simple dtype string");
	v++;
	while (v[n] && v[n] != '\'' && n < sizeof(a->descr) - 1)
		n++;
	if (v[n] != '\'' || n < 3)
		return npy_fail(a, "header: 'descr' is not a simple dtype string");
	memcpy(a->descr, v, n);
	a->descr[n] = '\0';
	/* byte order: little-endian or not applicable; kinds: b i u f c */
	if (a->descr[0] == '>')
		return npy_fail(a, "big-endian data ('%s')", a->descr);
	if ((a->descr[0] != '<' && a->descr[0] != '|') || !strchr("biufc", a->descr[1]))
		return npy_fail(a, "dtype '%s' is not a number", a->descr);
	size = strtoul(a->descr + 2, &end, 10);
	if (*end || !size || size > 16)
		return npy_fail(a, "dtype '%s' is not a number", a->descr);
	a->itemsize = (unsigned int)size;
	return 0;
}

static int parse_shape(const char *v, struct npy_array *a)
{
	if (*v++ != '(')
		return npy_fail(a, "header: 'shape' is not a tuple");
	a->ndim = 0;
	for (;;) {
		char *end;
		unsigned long long d;

		while (*v == ' ' || *v == ',')
			v++;
		if (*v == ')')
			return 0;
		if (!isdigit((unsigned char)*v))
			return npy_fail(a, "header: 'shape' is not a tuple of integers");
		if (a->ndim == NPY_MAX_DIMS)
			return npy_fail(a, "more than %d dimensions", NPY_MAX_DIMS);
		d = strtoull(v, &end, 10);
		a->shape[a->ndim++] = d;
		v = end;
	}
}

/* The dict of a header that starts at @b (version byte at b[6]). */
static int header_span(const unsigned char *b, size_t len, struct npy_array *a,
		       size_t *start, size_t *hlen)
{
	if (len < 10)
		return npy_fail(a, "cut short in the header (%zu bytes)", len);
	if (b[6] == 1) {
		*hlen = b[8] | (size_t)b[9] << 8;
		*start = 10;
	} else if ((b[6] == 2 || b[6] == 3) && len >= 12) {
		*hlen = b[8] | (size_t)b[9] << 8 | (size_t)b[10] << 16 | (size_t)b[11] << 24;
		*start = 12;
	} else {
		return npy_fail(a, "format version %u.%u is not 1.0-3.0", b[6], b[7]);
	}
	if (*hlen > len - *start)
		return npy_fail(a, "cut short in the header (%zu of %zu bytes)",
				len - *start, *hlen);
	return 0;
}

int npy_parse(const void *buf, size_t len, struct npy_array *a)
{
	const unsigned char *b = buf;
	size_t hlen = 0, start = 0, n = 1, need, have;
	char *h, shape[96];
	const char *v;
	unsigned int i;
	int rc;

	memset(a, 0, sizeof(*a));
	if (len < sizeof(magic) || memcmp(b, magic, sizeof(magic)))
		return npy_fail(a, "not a .npy file (no \\x93NUMPY magic)");
	rc = header_span(b, len, a, &start, &hlen);
	if (rc)
		return rc;
	h = strndup((const char *)b + start, hlen);
	if (!h)
		return -ENOMEM;
	rc = -EINVAL;
	v = dict_value(h, "descr");
	if (!v) {
		npy_fail(a, "header: no 'descr'");
		goto out;
	}
	if (parse_descr(v, a))
		goto out;
	v = dict_value(h, "fortran_order");
	if (!v || strncmp(v, "False", 5)) {
		npy_fail(a, "%s", v ? "Fortran-ordered array" : "header: no 'fortran_order'");
		goto out;
	}
	v = dict_value(h, "shape");
	if (!v) {
		npy_fail(a, "header: no 'shape'");
		goto out;
	}
	if (parse_shape(v, a))
		goto out;
	for (i = 0; i < a->ndim; i++)
		if (__builtin_mul_overflow(n, a->shape[i], &n))
			break;
	have = len - start - hlen;
	if (i < a->ndim || __builtin_mul_overflow(n, (size_t)a->itemsize, &need)) {
		npy_fail(a, "shape %s of '%s' is larger than memory",
			 npy_shape_str(a, shape, sizeof(shape)), a->descr);
		goto out;
	}
	if (need != have) {
		npy_fail(a, "data is %zu bytes, shape %s of '%s' needs %zu", have,
			 npy_shape_str(a, shape, sizeof(shape)), a->descr, need);
		goto out;
	}
	a->data = (void *)(b + start + hlen);
	a->data_len = need;
	rc = 0;
out:
	free(h);
	return rc;
}

static int load(const char *path, struct npy_array *a, int raw_ok)
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
	if (raw_ok && (got < sizeof(magic) || memcmp(buf, magic, sizeof(magic)))) {
		strcpy(a->descr, "|u1");
		a->itemsize = 1;
		a->ndim = 1;
		a->shape[0] = got;
		a->data = buf;
		a->data_len = got;
		a->buf = buf;
		return 0;
	}
	rc = npy_parse(buf, got, a);
	if (rc) {
		free(buf);
		return rc;
	}
	a->buf = buf;
	return 0;
}

int npy_load(const char *path, struct npy_array *a)
{
	return load(path, a, 0);
}

int npy_load_or_raw(const char *path, struct npy_array *a)
{
	return load(path, a, 1);
}

const char *npy_dtype_name(const struct npy_array *a, char *buf, size_t len)
{
	static const char *const kinds[] = { "b", "bool", "i", "int", "u", "uint",
					     "f", "float", "c", "complex" };

	for (size_t k = 0; k < sizeof(kinds) / sizeof(kinds[0]); k += 2) {
		if (a->descr[1] != kinds[k][0])
			continue;
		if (a->descr[1] == 'b')
			snprintf(buf, len, "%s", a->itemsize == 1 ? "bool" : a->descr);
		else
			snprintf(buf, len, "%s%u", kinds[k + 1], a->itemsize * 8);
		return buf;
	}
	snprintf(buf, len, "%s", a->descr);
	return buf;
}

const char *npy_shape_str(const struct npy_array *a, char *buf, size_t len)
{
	size_t off = 0;

	off += (size_t)snprintf(buf, len, "(");
	for (unsigned int i = 0; i < a->ndim && off < len; i++)
		off += (size_t)snprintf(buf + off, len - off, "%s%llu", i ? ", " : "",
					(unsigned long long)a->shape[i]);
	if (off < len)
		snprintf(buf + off, len - off, "%s)", a->ndim == 1 ? "," : "");
	return buf;
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
