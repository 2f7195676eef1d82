// SPDX-License-Identifier: GPL-2.0
/* pebbled per-frame processing and results file; see processing.h. */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
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

struct pb_results {
	FILE *f;
	char tmp[4200];
	char final[4096];
	unsigned int nroi;
	uint64_t rows;
	int err;
};

int pb_results_open(struct pb_results **out, const char *dir, uint32_t run, unsigned int nroi)
{
	struct pb_results *r;
	char name[64];

	if (!out || !dir)
		return -EINVAL;
	if (mkdir(dir, 0755) < 0 && errno != EEXIST)
		return -errno;
	r = calloc(1, sizeof(*r));
	if (!r)
		return -ENOMEM;
	r->nroi = nroi > PB_CONFIG_MAX_ROI ? PB_CONFIG_MAX_ROI : nroi;
	snprintf(name, sizeof(name), PB_RESULTS_FMT, run);
	snprintf(r->final, sizeof(r->final), "%s/%s", dir, name);
	snprintf(r->tmp, sizeof(r->tmp), "%s%s", r->final, PB_AR_TMP_SUFFIX);
	r->f = fopen(r->tmp, "we");
	if (!r->f) {
		int e = -errno;

		free(r);
		return e;
	}
	fprintf(r->f, "seq,pulse_id,ts_sec,ts_nsec,transition,dest,damage,length,npix,sum,min,max,mean,payload");
	for (unsigned int k = 0; k < r->nroi; k++)
		fprintf(r->f, ",roi%u_sum", k);
	fputc('\n', r->f);
	*out = r;
	return 0;
}

int pb_results_write(struct pb_results *r, const struct pb_event *ev, const struct pb_proc_result *res)
{
	static const char *const pl[] = { "unchecked", "ok", "bad" };

	if (!r || !ev || !res)
		return -EINVAL;
	if (r->err)
		return r->err;
	fprintf(r->f, "%" PRIu64 ",%" PRIu64 ",%u,%u,%u,%u,%u,%u,%" PRIu64 ",%.17g,%.17g,%.17g,%.17g,%s",
		ev->seq, ev->pulse_id, ev->ts_sec, ev->ts_nsec, ev->transition, ev->dest,
		ev->damage, ev->len, res->npix, res->sum, res->min, res->max, res->mean,
		pl[res->payload >= 0 && res->payload <= 2 ? res->payload : 0]);
	for (unsigned int k = 0; k < r->nroi; k++)
		fprintf(r->f, ",%.17g", k < res->nroi ? res->roi_sum[k] : 0.0);
	if (fputc('\n', r->f) == EOF) {
		r->err = -(errno ? errno : EIO);
		return r->err;
	}
	r->rows++;
	return 0;
}

uint64_t pb_results_rows(const struct pb_results *r)
{
	return r ? r->rows : 0;
}

int pb_results_close(struct pb_results *r)
{
	int ret;

	if (!r)
		return 0;
	ret = r->err;
	if (fflush(r->f) != 0 && !ret)
		ret = -errno;
	if (fsync(fileno(r->f)) < 0 && !ret)
		ret = -errno;
	if (fclose(r->f) != 0 && !ret)
		ret = -errno;
	if (rename(r->tmp, r->final) < 0 && !ret)
		ret = -errno;
	free(r);
	return ret;
}
