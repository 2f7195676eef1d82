// SPDX-License-Identifier: GPL-2.0
/* pebbled buffer-sizing plan; see sizing.h. */
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <linux/pgpdma.h>
#include "sizing.h"
#include "textbuf.h"

uint64_t pb_sizing_next_pow2(uint64_t n)
{
	uint64_t p = 1;

	while (p < n) {
		if (p > UINT64_MAX / 2)
			return 0;
		p <<= 1;
	}
	return p;
}

static int mul(uint64_t a, uint64_t b, uint64_t *out)
{
	return __builtin_mul_overflow(a, b, out) ? -EOVERFLOW : 0;
}

static int add(uint64_t a, uint64_t b, uint64_t *out)
{
	return __builtin_add_overflow(a, b, out) ? -EOVERFLOW : 0;
}

int pb_sizing_compute(const struct pb_sizing_input *in, struct pb_sizing_plan *p)
{
	uint64_t lanes, dma_cap, one_event;
	int ret = 0;

	if (!in || !p || !in->cfg_rx_count || !in->cfg_size)
		return -EINVAL;
	if (in->kind != PB_DET_LINK && in->kind != PB_DET_NETWORK)
		return -EINVAL;
	if (in->kind == PB_DET_NETWORK && !in->image_size && !in->pebble_buf_size)
		return -EINVAL;

	memset(p, 0, sizeof(*p));
	p->in = *in;
	lanes = in->lanes ? in->lanes : 1;
	p->in.lanes = (uint32_t)lanes;

	p->pebble_count = in->pebble_buf_count;
	if (!p->pebble_count) {
		p->pebble_count = pb_sizing_next_pow2(in->cfg_rx_count);
		p->pebble_count_auto = 1;
		if (!p->pebble_count)
			return -EOVERFLOW;
	}
	p->pebble_size = in->pebble_buf_size;
	if (!p->pebble_size) {
		p->pebble_size_auto = 1;
		if (in->kind == PB_DET_LINK) {
			if (mul(lanes, in->cfg_size, &one_event))
				return -EOVERFLOW;
			p->pebble_size = one_event > in->image_size ? one_event : in->image_size;
		} else {
			p->pebble_size = in->image_size;
		}
	}
	p->trbuf_count = p->pebble_count;
	p->trbuf_size = in->max_transition_size ? in->max_transition_size
						: PB_SIZING_DEFAULT_TRANSITION;

	if (mul(in->cfg_rx_count, in->cfg_size, &p->dma_total) ||
	    mul(p->pebble_count, p->pebble_size, &p->pebble_total) ||
	    mul(p->trbuf_count, p->trbuf_size, &p->trbuf_total) ||
	    mul(in->archive_buf_count, in->archive_buf_size, &p->archive_total) ||
	    add(p->dma_total, p->pebble_total, &p->grand_total) ||
	    add(p->grand_total, p->trbuf_total, &p->grand_total) ||
	    add(p->grand_total, p->archive_total, &p->grand_total))
		return -EOVERFLOW;

	/* Rule 1: the DMA ring holds one image (link) / one header (network). */
	if (in->kind == PB_DET_LINK) {
		dma_cap = p->dma_total;
		if (!in->image_size)
			p->rule[PB_RULE_DMA_IMAGE] = PB_RULE_SKIP;
		else
			p->rule[PB_RULE_DMA_IMAGE] = dma_cap >= in->image_size ?
						     PB_RULE_PASS : PB_RULE_FAIL;
	} else {
		p->rule[PB_RULE_DMA_IMAGE] = in->cfg_size >= PGPDMA_TH_SIZE ?
					     PB_RULE_PASS : PB_RULE_FAIL;
	}
	/* Rule 2: one pebble holds one image. */
	if (!in->image_size)
		p->rule[PB_RULE_PEBBLE_IMAGE] = PB_RULE_SKIP;
	else
		p->rule[PB_RULE_PEBBLE_IMAGE] = p->pebble_size >= in->image_size ?
						PB_RULE_PASS : PB_RULE_FAIL;
	/* Rules 3 and 4: memory. */
	if (!in->mem_available) {
		p->rule[PB_RULE_PEBBLE_FITS] = PB_RULE_SKIP;
		p->rule[PB_RULE_TOTAL_FITS] = PB_RULE_SKIP;
	} else {
		p->rule[PB_RULE_PEBBLE_FITS] = p->pebble_total <= in->mem_available ?
					       PB_RULE_PASS : PB_RULE_FAIL;
		p->rule[PB_RULE_TOTAL_FITS] = p->grand_total <= in->mem_available ?
					      PB_RULE_PASS : PB_RULE_FAIL;
	}

	if (p->rule[PB_RULE_PEBBLE_FITS] == PB_RULE_FAIL ||
	    p->rule[PB_RULE_TOTAL_FITS] == PB_RULE_FAIL)
		ret = -ENOMEM;
	if (p->rule[PB_RULE_DMA_IMAGE] == PB_RULE_FAIL ||
	    p->rule[PB_RULE_PEBBLE_IMAGE] == PB_RULE_FAIL)
		ret = -ENOBUFS;
	p->ok = ret == 0;
	return ret;
}

char *pb_format_bytes(uint64_t bytes, char *buf, size_t len)
{
	static const char *const unit[] = { "B", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB" };
	unsigned int u = 0;
	uint64_t div = 1;
	char num[32];
	char *e;

	if (!buf || !len)
		return buf;
	while (u < 6 && bytes / div >= 1024) {
		div <<= 10;
		u++;
	}
	if (bytes % div == 0) {
		snprintf(buf, len, "%" PRIu64 " %s", bytes / div, unit[u]);
		return buf;
	}
	snprintf(num, sizeof(num), "%.2f", (double)bytes / (double)div);
	e = num + strlen(num);
	while (e > num && e[-1] == '0')
		*--e = '\0';
	if (e > num && e[-1] == '.')
		*--e = '\0';
	/* rounded to a whole number but not exact: say so */
	snprintf(buf, len, "%s%s %s", strchr(num, '.') ? "" : "~", num, unit[u]);
	return buf;
}

const char *pb_rule_name(enum pb_rule_id id)
{
	static const char *const n[PB_RULE_COUNT] = {
		"dma_image", "pebble_image", "pebble_fits", "total_fits",
	};
	return (unsigned int)id < PB_RULE_COUNT ? n[id] : "unknown";
}

const char *pb_rule_result_name(enum pb_rule_result r)
{
	switch (r) {
	case PB_RULE_PASS: return "PASS";
	case PB_RULE_FAIL: return "FAIL";
	case PB_RULE_SKIP: return "SKIP";
	}
	return "????";
}

#define B(v, s) pb_format_bytes((v), s, sizeof(s))

int pb_sizing_format(const struct pb_sizing_plan *p, char *buf, size_t len)
{
	const struct pb_sizing_input *in;
	struct pb_textbuf o = PB_TEXTBUF(buf, len);
	char a[32], b[32], c[32], d[32], e[32], f[32];
	const char *st;

	if (!p || !buf || !len)
		return -EINVAL;
	in = &p->in;
	buf[0] = '\0';
	pb_textbuf_printf(&o, "pebbled buffer plan: %s detector, %u lane%s, image %s\n",
	    in->kind == PB_DET_LINK ? "link (PGP)" : "network-ingress (PVA)",
	    in->lanes, in->lanes == 1 ? "" : "s",
	    in->image_size ? B(in->image_size, a) : "size unknown");
	pb_textbuf_printf(&o, "  %-12s %10s x %-12s = %s\n", "pool", "count", "size", "total");
	pb_textbuf_printf(&o, "  %-12s %10" PRIu64 " x %-12s = %-12s (cfgRxCount x cfgSize, driver)\n",
	    "DMA", in->cfg_rx_count, B(in->cfg_size, a), B(p->dma_total, b));
	pb_textbuf_printf(&o, "  %-12s %10" PRIu64 " x %-12s = %-12s (pebbleBufCount %s, pebbleBufSize %s)\n",
	    "pebble", p->pebble_count, B(p->pebble_size, a), B(p->pebble_total, b),
	    p->pebble_count_auto ? "auto: next power of two >= cfgRxCount" : "set",
	    p->pebble_size_auto ? (in->kind == PB_DET_LINK ?
				   "auto: lanes x cfgSize or image" : "auto: image size")
				: "set");
	pb_textbuf_printf(&o, "  %-12s %10" PRIu64 " x %-12s = %-12s (tied 1:1 to pebbleBufCount, largest transition)\n",
	    "transition", p->trbuf_count, B(p->trbuf_size, a), B(p->trbuf_total, b));
	pb_textbuf_printf(&o, "  %-12s %10" PRIu64 " x %-12s = %-12s (archive write buffers)\n",
	    "archive", in->archive_buf_count, B(in->archive_buf_size, a), B(p->archive_total, b));
	pb_textbuf_printf(&o, "  %-12s %10s   %-12s = %-12s (%" PRIu64 " bytes)\n",
	    "total", "", "", B(p->grand_total, a), p->grand_total);
	pb_textbuf_printf(&o, "  %-12s %10s   %-12s = %s\n", "available", "", "",
	    in->mem_available ? B(in->mem_available, a) : "unknown");

	pb_textbuf_printf(&o, "balance rules:\n");
	st = pb_rule_result_name(p->rule[PB_RULE_DMA_IMAGE]);
	if (in->kind == PB_DET_LINK) {
		if (in->image_size)
			pb_textbuf_printf(&o, "  [%s] cfgRxCount x cfgSize >= one image: %" PRIu64 " x %s = %s %s %s\n",
			    st, in->cfg_rx_count, B(in->cfg_size, a), B(p->dma_total, b),
			    p->dma_total >= in->image_size ? ">=" : "<", B(in->image_size, c));
		else
			pb_textbuf_printf(&o, "  [%s] cfgRxCount x cfgSize >= one image: %" PRIu64 " x %s = %s, image size unknown\n",
			    st, in->cfg_rx_count, B(in->cfg_size, a), B(p->dma_total, b));
	} else {
		pb_textbuf_printf(&o, "  [%s] cfgSize >= one timing header (network-ingress: DMA carries timing headers only): %s %s %u B\n",
		    st, B(in->cfg_size, a), in->cfg_size >= PGPDMA_TH_SIZE ? ">=" : "<",
		    PGPDMA_TH_SIZE);
	}
	st = pb_rule_result_name(p->rule[PB_RULE_PEBBLE_IMAGE]);
	if (in->image_size)
		pb_textbuf_printf(&o, "  [%s] pebbleBufSize >= one image: %s %s %s\n", st,
		    B(p->pebble_size, a), p->pebble_size >= in->image_size ? ">=" : "<",
		    B(in->image_size, b));
	else
		pb_textbuf_printf(&o, "  [%s] pebbleBufSize >= one image: image size unknown\n", st);
	st = pb_rule_result_name(p->rule[PB_RULE_PEBBLE_FITS]);
	if (in->mem_available)
		pb_textbuf_printf(&o, "  [%s] pebbleBufCount x pebbleBufSize fits: %" PRIu64 " x %s = %s %s %s available\n",
		    st, p->pebble_count, B(p->pebble_size, a), B(p->pebble_total, b),
		    p->pebble_total <= in->mem_available ? "<=" : ">", B(in->mem_available, c));
	else
		pb_textbuf_printf(&o, "  [%s] pebbleBufCount x pebbleBufSize fits: %" PRIu64 " x %s = %s, available memory unknown\n",
		    st, p->pebble_count, B(p->pebble_size, a), B(p->pebble_total, b));
	st = pb_rule_result_name(p->rule[PB_RULE_TOTAL_FITS]);
	if (in->mem_available)
		pb_textbuf_printf(&o, "  [%s] DMA + pebble + transition + archive fits: %s + %s + %s + %s = %s %s %s available\n",
		    st, B(p->dma_total, a), B(p->pebble_total, b), B(p->trbuf_total, c),
		    B(p->archive_total, d), B(p->grand_total, e),
		    p->grand_total <= in->mem_available ? "<=" : ">", B(in->mem_available, f));
	else
		pb_textbuf_printf(&o, "  [%s] DMA + pebble + transition + archive fits: total %s, available memory unknown\n",
		    st, B(p->grand_total, a));
	if (!p->ok) {
		pb_textbuf_printf(&o, "plan refused. Keep cfgRxCount low (just enough for one image) and use\n"
			"pebbleBufCount to bound the events in flight; pebble and transition\n"
			"buffers are large, so count x size grows fast.\n");
	} else {
		pb_textbuf_printf(&o, "plan fits.\n");
	}
	return pb_textbuf_finish(&o);
}

int pb_meminfo_available(const char *path, uint64_t *bytes)
{
	char line[256];
	FILE *f;
	int ret = -ENODATA;

	if (!path || !bytes)
		return -EINVAL;
	f = fopen(path, "re");
	if (!f)
		return -errno;
	while (fgets(line, sizeof(line), f)) {
		unsigned long long kb;
		char unit[8];

		if (strncmp(line, "MemAvailable:", 13) != 0)
			continue;
		if (sscanf(line + 13, "%llu %7s", &kb, unit) == 2 &&
		    strcmp(unit, "kB") == 0 && kb <= UINT64_MAX / 1024) {
			*bytes = (uint64_t)kb * 1024;
			ret = 0;
		}
		break;
	}
	fclose(f);
	return ret;
}
