// SPDX-License-Identifier: GPL-2.0
/* pebbled configuration with libconfig; see config.h. */
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <libconfig.h>
#include "config.h"

void pb_config_defaults(struct pb_config *c)
{
	memset(c, 0, sizeof(*c));
	snprintf(c->device, sizeof(c->device), "%s", "/dev/pgpdma0");
	snprintf(c->output_dir, sizeof(c->output_dir), "%s", "/var/lib/pebbled");
	c->run_seconds = 0;
	c->proc_hz = 1000;
	c->arch_hz = 200;
	c->pebble_buf_count = 0;
	c->pebble_buf_size = 0;
	c->max_transition_size = 4096;
	c->backpressure = PB_BP_LOSSLESS;
	c->segment_bytes = 1ULL << 30;
	c->segment_frames = 0;
	c->archive_queue_depth = 8;
	c->metrics_port = 9464;
	c->roi_count = 0;
	c->detector = PB_DET_LINK;
	c->image_width = 0;
	c->image_height = 0;
	c->image_dtype = PB_DTYPE_UINT16;
	c->lanes = 1;
	snprintf(c->net_bind, sizeof(c->net_bind), "%s", "127.0.0.1");
	c->net_port = 17000;
	c->net_window_us = 1000;
	c->net_timeout_ms = 1000;
	c->net_max_images = 16;
	c->net_rcvbuf = 64ULL << 20;
	c->net_probe_ms = 10000;
}

const char *pb_backpressure_name(enum pb_backpressure bp)
{
	return bp == PB_BP_DROP ? "drop" : "lossless";
}

const char *pb_detector_name(enum pb_detector_kind k)
{
	return k == PB_DET_NETWORK ? "network" : "link";
}

uint64_t pb_config_image_size(const struct pb_config *c)
{
	return (uint64_t)c->image_width * c->image_height * pb_dtype_size(c->image_dtype);
}

enum key_type { K_STR, K_SSTR, K_U32, K_U64, K_BP, K_DET, K_DTYPE, K_ROI };

struct key {
	const char *name;
	enum key_type type;
	size_t off;
	uint64_t min, max;
};

#define F(m) offsetof(struct pb_config, m)
static const struct key keys[] = {
	{ "device", K_STR, F(device), 1, 0 },
	{ "output_dir", K_STR, F(output_dir), 1, 0 },
	{ "run_seconds", K_U64, F(run_seconds), 0, UINT64_MAX / 1000000000ULL },
	{ "proc_hz", K_U32, F(proc_hz), 0, 10000000 },
	{ "arch_hz", K_U32, F(arch_hz), 0, 10000000 },
	{ "pebbleBufCount", K_U64, F(pebble_buf_count), 0, 1ULL << 32 },
	{ "pebbleBufSize", K_U64, F(pebble_buf_size), 0, 1ULL << 40 },
	{ "max_transition_size", K_U64, F(max_transition_size), 32, 1ULL << 40 },
	{ "backpressure", K_BP, F(backpressure), 0, 0 },
	{ "segment_bytes", K_U64, F(segment_bytes),
	  PB_AR_SEG_HEADER_SIZE + PB_AR_ALIGN, 1ULL << 50 },
	{ "segment_frames", K_U64, F(segment_frames), 0, UINT64_MAX },
	{ "archive_queue_depth", K_U32, F(archive_queue_depth), 1, 1024 },
	{ "metrics_port", K_U32, F(metrics_port), 0, 65535 },
	{ "roi", K_ROI, 0, 0, 0 },
	{ "detector", K_DET, F(detector), 0, 0 },
	{ "image_width", K_U32, F(image_width), 0, 1U << 20 },
	{ "image_height", K_U32, F(image_height), 0, 1U << 20 },
	{ "image_dtype", K_DTYPE, F(image_dtype), 0, 0 },
	{ "lanes", K_U32, F(lanes), 1, 8 },
	{ "net_bind", K_SSTR, F(net_bind), 7, 0 },
	{ "net_port", K_U32, F(net_port), 1, 65535 },
	{ "net_window_us", K_U32, F(net_window_us), 0, 10000000 },
	{ "net_timeout_ms", K_U32, F(net_timeout_ms), 1, 600000 },
	{ "net_max_images", K_U32, F(net_max_images), 1, 1024 },
	{ "net_rcvbuf", K_U64, F(net_rcvbuf), 0, 1ULL << 31 },
	{ "net_probe_ms", K_U32, F(net_probe_ms), 0, 3600000 },
};
#undef F

struct ctx {
	const char *path;
	char *err;
	size_t errlen;
};

__attribute__((format(printf, 3, 4)))
static int fail(struct ctx *x, const config_setting_t *s, const char *fmt, ...)
{
	char msg[512];
	va_list ap;
	const char *file = s ? config_setting_source_file(s) : NULL;
	int line = s ? (int)config_setting_source_line(s) : 0;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (!file)
		file = x->path;
	if (x->err && x->errlen) {
		if (line > 0)
			snprintf(x->err, x->errlen, "%s:%d: %s", file, line, msg);
		else
			snprintf(x->err, x->errlen, "%s: %s", file, msg);
	}
	return -EINVAL;
}

static const char *type_name(int t)
{
	switch (t) {
	case CONFIG_TYPE_GROUP: return "a group";
	case CONFIG_TYPE_INT: case CONFIG_TYPE_INT64: return "an integer";
	case CONFIG_TYPE_FLOAT: return "a float";
	case CONFIG_TYPE_STRING: return "a string";
	case CONFIG_TYPE_BOOL: return "a boolean";
	case CONFIG_TYPE_ARRAY: return "an array";
	case CONFIG_TYPE_LIST: return "a list";
	}
	return "an unknown type";
}

static int get_uint(struct ctx *x, const config_setting_t *s, const char *name,
		    uint64_t min, uint64_t max, uint64_t *out)
{
	int t = config_setting_type(s);
	long long v;

	if (t != CONFIG_TYPE_INT && t != CONFIG_TYPE_INT64)
		return fail(x, s, "'%s' must be an integer, not %s", name, type_name(t));
	v = config_setting_get_int64(s);
	if (v < 0 || (uint64_t)v < min || (uint64_t)v > max)
		return fail(x, s, "'%s' = %lld is out of range [%" PRIu64 ", %" PRIu64 "]",
			    name, v, min, max);
	*out = (uint64_t)v;
	return 0;
}

static int get_str(struct ctx *x, const config_setting_t *s, const char *name,
		   const char **out)
{
	int t = config_setting_type(s);

	if (t != CONFIG_TYPE_STRING)
		return fail(x, s, "'%s' must be a string, not %s", name, type_name(t));
	*out = config_setting_get_string(s);
	return 0;
}

static int load_roi(struct ctx *x, const config_setting_t *s, struct pb_config *c)
{
	static const char *const f[4] = { "x", "y", "w", "h" };
	int t = config_setting_type(s);
	int n = config_setting_length(s);

	if (t != CONFIG_TYPE_LIST && t != CONFIG_TYPE_ARRAY)
		return fail(x, s, "'roi' must be a list of groups { x; y; w; h; }, not %s",
			    type_name(t));
	if (n > PB_CONFIG_MAX_ROI)
		return fail(x, s, "'roi' has %d entries, at most %d allowed", n, PB_CONFIG_MAX_ROI);
	for (int i = 0; i < n; i++) {
		const config_setting_t *g = config_setting_get_elem(s, (unsigned int)i);
		uint32_t v[4];

		if (config_setting_type(g) != CONFIG_TYPE_GROUP)
			return fail(x, g, "'roi' entry %d must be a group { x; y; w; h; }, not %s",
				    i, type_name(config_setting_type(g)));
		for (int k = 0; k < config_setting_length(g); k++) {
			const config_setting_t *m = config_setting_get_elem(g, (unsigned int)k);
			const char *nm = config_setting_name(m);

			if (!nm || (strcmp(nm, "x") && strcmp(nm, "y") && strcmp(nm, "w") &&
				    strcmp(nm, "h")))
				return fail(x, m, "unknown key 'roi.[%d].%s' (expected x, y, w, h)",
					    i, nm ? nm : "?");
		}
		for (int k = 0; k < 4; k++) {
			const config_setting_t *m = config_setting_get_member(g, f[k]);
			char name[32];
			uint64_t u;
			int ret;

			snprintf(name, sizeof(name), "roi.[%d].%s", i, f[k]);
			if (!m)
				return fail(x, g, "'roi' entry %d has no '%s'", i, f[k]);
			ret = get_uint(x, m, name, k >= 2 ? 1 : 0, 1U << 20, &u);
			if (ret)
				return ret;
			v[k] = (uint32_t)u;
		}
		c->roi[i] = (struct pb_roi){ v[0], v[1], v[2], v[3] };
	}
	c->roi_count = (uint32_t)n;
	return 0;
}

static int load_key(struct ctx *x, const struct key *k, const config_setting_t *s,
		    struct pb_config *c)
{
	char *base = (char *)c;
	const char *str;
	uint64_t u;
	int ret;

	switch (k->type) {
	case K_STR:
		ret = get_str(x, s, k->name, &str);
		if (ret)
			return ret;
		if (strlen(str) < k->min)
			return fail(x, s, "'%s' must not be empty", k->name);
		if (strlen(str) >= PB_CONFIG_PATH_MAX)
			return fail(x, s, "'%s' is longer than %d bytes", k->name,
				    PB_CONFIG_PATH_MAX - 1);
		snprintf(base + k->off, PB_CONFIG_PATH_MAX, "%s", str);
		return 0;
	case K_SSTR:
		ret = get_str(x, s, k->name, &str);
		if (ret)
			return ret;
		if (strlen(str) < k->min || strlen(str) > 15)
			return fail(x, s, "'%s' must be an IPv4 address like \"127.0.0.1\", not \"%s\"",
				    k->name, str);
		snprintf(base + k->off, 64, "%s", str);
		return 0;
	case K_U32:
		ret = get_uint(x, s, k->name, k->min, k->max, &u);
		if (!ret)
			*(uint32_t *)(base + k->off) = (uint32_t)u;
		return ret;
	case K_U64:
		ret = get_uint(x, s, k->name, k->min, k->max, &u);
		if (!ret)
			*(uint64_t *)(base + k->off) = u;
		return ret;
	case K_BP:
		ret = get_str(x, s, k->name, &str);
		if (ret)
			return ret;
		if (!strcmp(str, "lossless"))
			c->backpressure = PB_BP_LOSSLESS;
		else if (!strcmp(str, "drop"))
			c->backpressure = PB_BP_DROP;
		else
			return fail(x, s, "'backpressure' must be \"lossless\" or \"drop\", not \"%s\"", str);
		return 0;
	case K_DET:
		ret = get_str(x, s, k->name, &str);
		if (ret)
			return ret;
		if (!strcmp(str, "link"))
			c->detector = PB_DET_LINK;
		else if (!strcmp(str, "network"))
			c->detector = PB_DET_NETWORK;
		else
			return fail(x, s, "'detector' must be \"link\" or \"network\", not \"%s\"", str);
		return 0;
	case K_DTYPE:
		ret = get_str(x, s, k->name, &str);
		if (ret)
			return ret;
		ret = pb_dtype_from_name(str);
		if (ret <= 0) {
			char known[160];

			return fail(x, s, "'image_dtype' must be one of %s, not \"%s\"",
				    pb_dtype_list(known, sizeof(known)), str);
		}
		c->image_dtype = (enum pb_dtype)ret;
		return 0;
	case K_ROI:
		return load_roi(x, s, c);
	}
	return fail(x, s, "internal: bad key type");
}

int pb_config_load(struct pb_config *out, const char *path, char *err, size_t errlen)
{
	struct ctx x = { path, err, errlen };
	struct pb_config c;
	config_setting_t *root;
	config_t cf;
	FILE *f;
	int ret = 0;

	if (err && errlen)
		err[0] = '\0';
	if (!out || !path)
		return -EINVAL;
	f = fopen(path, "re");
	if (!f) {
		ret = -errno;
		if (err && errlen)
			snprintf(err, errlen, "%s: %s", path, strerror(-ret));
		return ret;
	}
	fclose(f);

	c = *out;
	config_init(&cf);
	if (config_read_file(&cf, path) != CONFIG_TRUE) {
		const char *file = config_error_file(&cf);

		if (err && errlen)
			snprintf(err, errlen, "%s:%d: %s", file ? file : path,
				 config_error_line(&cf), config_error_text(&cf));
		config_destroy(&cf);
		return -EINVAL;
	}
	root = config_root_setting(&cf);
	for (int i = 0; !ret && i < config_setting_length(root); i++) {
		const config_setting_t *s = config_setting_get_elem(root, (unsigned int)i);
		const char *name = config_setting_name(s);
		const struct key *k = NULL;

		for (size_t j = 0; name && j < sizeof(keys) / sizeof(keys[0]); j++)
			if (!strcmp(keys[j].name, name))
				k = &keys[j];
		if (!k)
			ret = fail(&x, s, "unknown key '%s'", name ? name : "?");
		else
			ret = load_key(&x, k, s, &c);
	}
	/* Cross-checks: ROIs inside the image when its size is known. */
	for (uint32_t i = 0; !ret && i < c.roi_count; i++) {
		const struct pb_roi *r = &c.roi[i];

		if (c.image_width && c.image_height &&
		    ((uint64_t)r->x + r->w > c.image_width ||
		     (uint64_t)r->y + r->h > c.image_height)) {
			const config_setting_t *s = config_lookup(&cf, "roi");

			ret = fail(&x, s ? config_setting_get_elem(s, i) : NULL,
				   "roi entry %u (x=%u y=%u w=%u h=%u) is outside the %ux%u image",
				   i, r->x, r->y, r->w, r->h, c.image_width, c.image_height);
		}
	}
	config_destroy(&cf);
	if (!ret)
		*out = c;
	return ret;
}

int pb_config_equal(const struct pb_config *a, const struct pb_config *b)
{
	if (strcmp(a->device, b->device) || strcmp(a->output_dir, b->output_dir))
		return 0;
	if (a->roi_count != b->roi_count)
		return 0;
	for (uint32_t i = 0; i < a->roi_count && i < PB_CONFIG_MAX_ROI; i++)
		if (memcmp(&a->roi[i], &b->roi[i], sizeof(a->roi[i])))
			return 0;
	return a->run_seconds == b->run_seconds && a->proc_hz == b->proc_hz &&
	       a->arch_hz == b->arch_hz && a->pebble_buf_count == b->pebble_buf_count &&
	       a->pebble_buf_size == b->pebble_buf_size &&
	       a->max_transition_size == b->max_transition_size &&
	       a->backpressure == b->backpressure && a->segment_bytes == b->segment_bytes &&
	       a->segment_frames == b->segment_frames &&
	       a->archive_queue_depth == b->archive_queue_depth &&
	       a->metrics_port == b->metrics_port && a->detector == b->detector &&
	       a->image_width == b->image_width && a->image_height == b->image_height &&
	       a->image_dtype == b->image_dtype && a->lanes == b->lanes &&
	       !strcmp(a->net_bind, b->net_bind) && a->net_port == b->net_port &&
	       a->net_window_us == b->net_window_us && a->net_timeout_ms == b->net_timeout_ms &&
	       a->net_max_images == b->net_max_images && a->net_rcvbuf == b->net_rcvbuf &&
	       a->net_probe_ms == b->net_probe_ms;
}
