/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Minimal .npy (NumPy array file, format versions 1-3) reader and writer,
 * for C-ordered arrays of fixed-size little-endian numbers: what detector
 * images are. Used by pgpctl send, pebbled's npy source and the tests.
 */
#ifndef LIBPGPDMA_NPY_H
#define LIBPGPDMA_NPY_H

#include <stddef.h>
#include <stdint.h>

#define NPY_MAX_DIMS 8

/**
 * struct npy_array - a loaded array
 * @descr:    dtype string as in the file, e.g. "<u2", "|u1", "<f4"
 * @itemsize: bytes per element
 * @ndim:     number of dimensions
 * @shape:    dimensions, outermost first
 * @data:     the elements (C order), @data_len bytes
 * @buf:      the allocation that holds @data (free with npy_free())
 * @error:    why npy_load()/npy_parse() refused the file (-EINVAL), e.g.
 *            "data is 179400 bytes, shape (300, 299) of <u2 needs 179400"
 */
struct npy_array {
	char descr[16];
	unsigned int itemsize;
	unsigned int ndim;
	uint64_t shape[NPY_MAX_DIMS];
	void *data;
	size_t data_len;
	void *buf;
	char error[128];
};

/**
 * npy_load() - read a whole .npy file
 * Return: 0; -EINVAL (reason in @a->error) for a file without the .npy
 * magic, a malformed header, a Fortran-ordered or big-endian array, or
 * data whose length is not exactly what shape x itemsize says; other -errno.
 */
int npy_load(const char *path, struct npy_array *a);

/**
 * npy_load_or_raw() - npy_load(), but a file without the .npy magic is
 * loaded as raw bytes: descr "|u1", ndim 1, shape[0] = its size
 */
int npy_load_or_raw(const char *path, struct npy_array *a);

/** npy_parse() - npy_load() from memory; @a->data points into @buf (not copied, npy_free() not needed). */
int npy_parse(const void *buf, size_t len, struct npy_array *a);

/**
 * npy_dtype_name() - NumPy's name of @a's element type ("uint16", "int64",
 * "float16", "bool", "complex64"), or its descr when NumPy has none
 */
const char *npy_dtype_name(const struct npy_array *a, char *buf, size_t len);

/** npy_shape_str() - "(300, 299)", as NumPy prints a shape */
const char *npy_shape_str(const struct npy_array *a, char *buf, size_t len);

/** npy_free() - release what npy_load() allocated */
void npy_free(struct npy_array *a);

/**
 * npy_save() - write a version 1.0 .npy file
 * @descr: dtype, e.g. "<u2"; @shape: @ndim dimensions; @data: the elements
 */
int npy_save(const char *path, const char *descr, unsigned int ndim,
	     const uint64_t *shape, const void *data, size_t data_len);

#endif /* LIBPGPDMA_NPY_H */
