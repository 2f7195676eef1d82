// SPDX-License-Identifier: GPL-2.0
/* pebbled archive: small helpers shared by the writer and the reader. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <xxhash.h>
#include "archive_format.h"

static const char *const dtype_names[PB_DTYPE_COUNT] = {
	[PB_DTYPE_UNKNOWN] = "unknown",
	[PB_DTYPE_UINT8] = "uint8",
	[PB_DTYPE_UINT16] = "uint16",
	[PB_DTYPE_UINT32] = "uint32",
	[PB_DTYPE_INT16] = "int16",
	[PB_DTYPE_INT32] = "int32",
	[PB_DTYPE_FLOAT32] = "float32",
	[PB_DTYPE_FLOAT64] = "float64",
	[PB_DTYPE_INT8] = "int8",
	[PB_DTYPE_UINT64] = "uint64",
	[PB_DTYPE_INT64] = "int64",
	[PB_DTYPE_FLOAT16] = "float16",
};

static const unsigned int dtype_sizes[PB_DTYPE_COUNT] = {
	0, 1, 2, 4, 2, 4, 4, 8, 1, 8, 8, 2,
};

const char *pb_dtype_name(unsigned int dtype)
{
	return dtype < PB_DTYPE_COUNT ? dtype_names[dtype] : "unknown";
}

unsigned int pb_dtype_size(unsigned int dtype)
{
	return dtype < PB_DTYPE_COUNT ? dtype_sizes[dtype] : 0;
}

int pb_dtype_from_name(const char *name)
{
	if (!name)
		return -EINVAL;
	for (unsigned int i = 0; i < PB_DTYPE_COUNT; i++)
		if (strcmp(name, dtype_names[i]) == 0)
			return (int)i;
	return -EINVAL;
}

const char *pb_dtype_list(char *buf, size_t len)
{
	size_t off = 0;

	if (!len)
		return buf;
	buf[0] = 0;
	for (unsigned int i = 1; i < PB_DTYPE_COUNT; i++) {
		int n = snprintf(buf + off, len - off, "%s%s", i > 1 ? ", " : "", dtype_names[i]);

		if (n < 0 || (size_t)n >= len - off)
			break;
		off += (size_t)n;
	}
	return buf;
}

static uint32_t rec_check(const struct pb_ar_rec_header *hdr)
{
	return (uint32_t)XXH3_64bits(hdr, offsetof(struct pb_ar_rec_header, header_check));
}

void pb_ar_rec_header_seal(struct pb_ar_rec_header *hdr)
{
	hdr->header_check = rec_check(hdr);
}

int pb_ar_rec_header_valid(const struct pb_ar_rec_header *hdr)
{
	return hdr->magic == PB_AR_REC_MAGIC &&
	       hdr->header_size == sizeof(*hdr) &&
	       hdr->header_check == rec_check(hdr);
}
