// SPDX-License-Identifier: GPL-2.0
/* pebbled per-frame processing and results file; see processing.h. */
#include <errno.h>
#include <math.h>
#include <string.h>
#include "archive_format.h"
#include "processing.h"

/* IEEE 754 binary16 -> double (NumPy's float16). */
static double half_to_double(uint16_t h)
{
	unsigned int e = (h >> 10) & 0x1f, m = h & 0x3ff;
	double v;

	if (e == 0)
		v = ldexp(m, -24);			/* zero, subnormal */
	else if (e == 31)
		v = m ? NAN : INFINITY;
	else
		v = ldexp(m | 0x400, (int)e - 25);	/* (1 + m/1024) * 2^(e-15) */
	return (h & 0x8000) ? -v : v;
}

static double pix(const uint8_t *b, uint32_t dtype)
{
	switch (dtype) {
	case PB_DTYPE_INT8: return (int8_t)*b;
	case PB_DTYPE_UINT64: { uint64_t v; memcpy(&v, b, 8); return (double)v; }
	case PB_DTYPE_INT64: { int64_t v; memcpy(&v, b, 8); return (double)v; }
	case PB_DTYPE_FLOAT16: { uint16_t v; memcpy(&v, b, 2); return half_to_double(v); }
	case PB_DTYPE_UINT16: { uint16_t v; memcpy(&v, b, 2); return v; }
	case PB_DTYPE_UINT32: { uint32_t v; memcpy(&v, b, 4); return v; }
	case PB_DTYPE_INT16: { int16_t v; memcpy(&v, b, 2); return v; }
	case PB_DTYPE_INT32: { int32_t v; memcpy(&v, b, 4); return v; }
	case PB_DTYPE_FLOAT32: { float v; memcpy(&v, b, 4); return v; }
	case PB_DTYPE_FLOAT64: { double v; memcpy(&v, b, 8); return v; }
	default: return *b;
	}
}

int pb_proc_compute(const struct pb_proc_params *p, const void *data, size_t len,
		    struct pb_proc_result *r)
{
	unsigned int ps;
	const uint8_t *b;
	uint64_t n;

	if (!p || !r || (!data && len))
		return -EINVAL;
	memset(r, 0, sizeof(*r));
	r->nroi = p->nroi > PB_CONFIG_MAX_ROI ? PB_CONFIG_MAX_ROI : p->nroi;
	ps = pb_dtype_size(p->dtype);
	if (!ps)
		ps = 1;
	if (len <= p->header_bytes)
		return 0;
	b = (const uint8_t *)data + p->header_bytes;
	n = (len - p->header_bytes) / ps;
	r->npix = n;
	if (!n)
		return 0;
	/* fast paths for the common integer types */
	if (p->dtype == PB_DTYPE_UINT16) {
		uint64_t sum = 0;
		uint16_t mn = 0xffff, mx = 0;

		for (uint64_t i = 0; i < n; i++) {
			uint16_t v;

			memcpy(&v, b + 2 * i, 2);
			sum += v;
			mn = v < mn ? v : mn;
			mx = v > mx ? v : mx;
		}
		r->sum = (double)sum;
		r->min = mn;
		r->max = mx;
	} else if (p->dtype == PB_DTYPE_UINT8 || p->dtype == PB_DTYPE_UNKNOWN) {
		uint64_t sum = 0;
		uint8_t mn = 0xff, mx = 0;

		for (uint64_t i = 0; i < n; i++) {
			sum += b[i];
			mn = b[i] < mn ? b[i] : mn;
			mx = b[i] > mx ? b[i] : mx;
		}
		r->sum = (double)sum;
		r->min = mn;
		r->max = mx;
	} else {
		double sum = 0, mn = pix(b, p->dtype), mx = mn;

		for (uint64_t i = 0; i < n; i++) {
			double v = pix(b + i * ps, p->dtype);

			sum += v;
			mn = v < mn ? v : mn;
			mx = v > mx ? v : mx;
		}
		r->sum = sum;
		r->min = mn;
		r->max = mx;
	}
	r->mean = r->sum / (double)n;
	if (p->width) {
		uint64_t rows = n / p->width;

		for (unsigned int k = 0; k < r->nroi; k++) {
			const struct pb_roi *q = &p->roi[k];
			uint64_t x1 = (uint64_t)q->x + q->w, y1 = (uint64_t)q->y + q->h;

			if (x1 > p->width)
				x1 = p->width;
			if (y1 > rows)
				y1 = rows;
			for (uint64_t y = q->y; y < y1; y++)
				for (uint64_t x = q->x; x < x1; x++) {
					r->roi_sum[k] += pix(b + (y * p->width + x) * ps, p->dtype);
					r->roi_npix[k]++;
				}
		}
	}
	return 0;
}
