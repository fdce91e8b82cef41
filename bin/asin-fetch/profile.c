/*
 * profile.c - provider profiles: JSON files that say how to ask one
 * upstream for a batch of ASINs (URL template, headers, auth, batch size,
 * throttle model) and how to read its answer (jq programs for the items,
 * their ids and an "invalid" test), so a new endpoint needs no C.  Also
 * the marketplace table and the URL template expander.
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fetch.h"

static const struct mkt mkts[] = {
	{ "US", 1, "ATVPDKIKX0DER", "na" },
	{ "GB", 2, "A1F83G8C2ARO7P", "eu" },
	{ "DE", 3, "A1PA6795UKMFR9", "eu" },
	{ "FR", 4, "A13V1IB3VIYZZH", "eu" },
	{ "JP", 5, "A1VC38T7YXB528", "fe" },
	{ "CA", 6, "A2EUQ1WTGCTBG2", "na" },
	{ "IT", 8, "APJ6JRA9NG5V4", "eu" },
	{ "ES", 9, "A1RKKUPIHCS9HS", "eu" },
	{ "IN", 10, "A21TJRUUN4KGV", "eu" },
	{ "MX", 11, "A1AM78C64UM0Y8", "na" },
	{ "BR", 12, "A2Q3Y263D00KWC", "na" },
};

const struct mkt *
mkt_find(const char *code, size_t len)
{
	size_t i;

	if (len == 2 && code[0] == 'U' && code[1] == 'K')
		return &mkts[1];
	for (i = 0; i < sizeof mkts / sizeof mkts[0]; i++)
		if (len == 2 && memcmp(mkts[i].code, code, 2) == 0)
			return &mkts[i];
	return NULL;
}

static uint64_t
fnv(uint64_t h, const char *s)
{
	for (; *s != '\0'; s++)
		h = (h ^ (unsigned char)*s) * 0x100000001b3ULL;
	return (h ^ '|') * 0x100000001b3ULL;
}

static char *
slurp(const char *path, size_t *len)
{
	FILE *fp = fopen(path, "rb");
	struct buf b;
	char tmp[8192];
	size_t n;

	if (fp == NULL)
		return NULL;
	buf_init(&b);
	while ((n = fread(tmp, 1, sizeof tmp, fp)) > 0)
		buf_add(&b, tmp, n);
	if (ferror(fp))
		die("%s: read error:", path);
	fclose(fp);
	*len = b.len;
	return b.data ? b.data : xstrdup("");
}

/* The profile file for name, or NULL with the places searched in *where. */
static char *
find_profile(const char *name, struct buf *where)
{
	const char *env = getenv("ASIN_PROVIDERS");
	char exe[PATH_MAX], *slash;
	const char *rel[] = { "../../schemas/providers",
	    "../share/asin-tools/providers" };
	ssize_t n;
	size_t i;
	char *p;

	if (strchr(name, '/') != NULL || (strlen(name) > 5 &&
	    strcmp(name + strlen(name) - 5, ".json") == 0))
		return access(name, R_OK) == 0 ? xstrdup(name) : NULL;
	for (i = 0; name[i] != '\0'; i++)
		if (!(name[i] == '-' || name[i] == '_' ||
		    (name[i] >= 'a' && name[i] <= 'z') ||
		    (name[i] >= '0' && name[i] <= '9')))
			return NULL;
	if (env != NULL && *env != '\0') {
		p = xasprintf("%s/%s.json", env, name);
		buf_printf(where, " %s", p);
		if (access(p, R_OK) == 0)
			return p;
		free(p);
	}
	n = readlink("/proc/self/exe", exe, sizeof exe - 1);
	if (n <= 0)
		return NULL;
	exe[n] = '\0';
	if ((slash = strrchr(exe, '/')) != NULL)
		*slash = '\0';
	for (i = 0; i < 2; i++) {
		p = xasprintf("%s/%s/%s.json", exe, rel[i], name);
		buf_printf(where, " %s", p);
		if (access(p, R_OK) == 0)
			return p;
		free(p);
	}
	return NULL;
}

/* Replace scheme://host:port of url by base (no trailing slash). */
static char *
rebase(const char *url, const char *base)
{
	const char *p = strstr(url, "://");
	size_t bl;

	if (base == NULL || p == NULL)
		return xstrdup(url);
	p = strpbrk(p + 3, "/?#");
	bl = strlen(base);
	if (bl > 0 && base[bl - 1] == '/')
		bl--;
	return xasprintf("%.*s%s", (int)bl, base, p ? p : "");
}

struct pctx {
	const char *path;
	jv obj;
};

ASIN_NORETURN static void
perr(const struct pctx *c, const char *member, const char *what)
{
	die("%s: member \"%s\": %s", c->path, member, what);
}

/* A string member; def when absent (NULL def: required). */
static char *
pstr(const struct pctx *c, jv obj, const char *member, const char *def)
{
	jv v = jv_object_get(jv_copy(obj), jv_string(member));
	char *s;

	if (jv_get_kind(v) == JV_KIND_INVALID || jv_get_kind(v) == JV_KIND_NULL) {
		jv_free(v);
		if (def == NULL)
			perr(c, member, "missing");
		return xstrdup(def);
	}
	if (jv_get_kind(v) != JV_KIND_STRING)
		perr(c, member, "expected a string");
	s = xstrdup(jv_string_value(v));
	jv_free(v);
	return s;
}

static double
pnum(const struct pctx *c, jv obj, const char *member, double def,
    double min, double max)
{
	jv v = jv_object_get(jv_copy(obj), jv_string(member));
	double d;

	if (jv_get_kind(v) == JV_KIND_INVALID || jv_get_kind(v) == JV_KIND_NULL) {
		jv_free(v);
		return def;
	}
	if (jv_get_kind(v) != JV_KIND_NUMBER)
		perr(c, member, "expected a number");
	d = jv_number_value(v);
	jv_free(v);
	if (!(d >= min && d <= max))
		perr(c, member, "out of range");
	return d;
}

/* A misspelt member would silently take its default: refuse it. */
static void
check_members(const struct pctx *c, jv obj, const char *where,
    const char *const *known)
{
	jv_object_foreach(obj, k, v) {
		const char *const *p;

		for (p = known; *p != NULL; p++)
			if (strcmp(*p, jv_string_value(k)) == 0)
				break;
		if (*p == NULL) {
			char *m = xasprintf("%s%s", where, jv_string_value(k));

			perr(c, m, "unknown member");
		}
		jv_free(k);
		jv_free(v);
	}
}

struct jqerr {
	struct buf msg;
};

static void
jq_errcb(void *data, jv msg)
{
	struct jqerr *e = data;

	if (e->msg.len == 0 && jv_get_kind(msg) == JV_KIND_STRING)
		buf_adds(&e->msg, jv_string_value(msg));
	jv_free(msg);
}

static void
jq_quiet(void *data, jv msg)
{
	jv_free(msg);
}

static jq_state *
compile(const struct pctx *c, const char *member, const char *prog)
{
	jq_state *jq = jq_init();
	struct jqerr *e = xcalloc(1, sizeof *e);

	if (jq == NULL)
		die("cannot start libjq");
	jq_set_error_cb(jq, jq_errcb, e);
	if (!jq_compile(jq, prog)) {
		char *m = xasprintf("invalid jq program: %s",
		    e->msg.data ? e->msg.data : prog);

		perr(c, member, m);
	}
	/* Errors at run time come back from jq_next(); keep them quiet. */
	jq_set_error_cb(jq, jq_quiet, NULL);
	buf_free(&e->msg);
	free(e);
	return jq;
}

jv
jq_all(jq_state *jq, jv input)
{
	jv out = jv_array(), r;

	jq_start(jq, input, 0);
	while (jv_is_valid(r = jq_next(jq)))
		out = jv_array_append(out, r);
	if (jv_invalid_has_msg(jv_copy(r))) {
		jv_free(out);
		return r;
	}
	jv_free(r);
	return out;
}

/*
 * The profile of the run, set once by profile_load(): an exit on the way
 * (a write error, a fatal reject) still tears its jq programs down, since
 * libjq holds its stack by a pointer past the block and LeakSanitizer
 * takes what it holds for a leak.
 */
static struct profile *run_prof;

static void
jq_close(struct profile *p)
{
	if (p->items)
		jq_teardown(&p->items);
	if (p->id)
		jq_teardown(&p->id);
	if (p->invalid)
		jq_teardown(&p->invalid);
}

static void
prof_at_exit(void)
{
	if (run_prof != NULL)
		jq_close(run_prof);
	run_prof = NULL;
}

struct profile *
profile_load(const char *name, const char *base_url, struct secrets *sec)
{
	struct profile *p = xcalloc(1, sizeof *p);
	struct buf where;
	struct pctx c;
	char *path, *text, *s, *jerr;
	size_t len;
	jv v, o;
	uint64_t h = 0xcbf29ce484222325ULL;

	buf_init(&where);
	if ((path = find_profile(name, &where)) == NULL)
		die("provider '%s' not found (looked in:%s)", name,
		    where.data ? where.data : " nowhere");
	buf_free(&where);
	if ((text = slurp(path, &len)) == NULL)
		die("%s:", path);
	v = json_parse(text, len, &jerr);
	free(text);
	if (!jv_is_valid(v))
		die("%s: invalid JSON: %s", path, jerr);
	if (jv_get_kind(v) != JV_KIND_OBJECT)
		die("%s: expected a JSON object", path);
	c.path = path;
	c.obj = v;
	{
		static const char *const top[] = { "name", "endpoint",
		    "description", "method", "url", "batch_max", "id_join",
		    "headers", "auth", "items_path", "id_path", "invalid_if",
		    "throttle", "redact", "fatal_status", "$comment", NULL };
		static const char *const auth[] = { "type", "token_url",
		    "client_id", "client_secret", "refresh_token", "header",
		    NULL };
		static const char *const thr[] = { "model", "qpm", "burst",
		    "cost_per_request", "cost_per_item", "rate_header", NULL };

		check_members(&c, v, "", top);
		o = jv_object_get(jv_copy(v), jv_string("auth"));
		if (jv_get_kind(o) == JV_KIND_OBJECT)
			check_members(&c, o, "auth.", auth);
		else if (jv_is_valid(o) && jv_get_kind(o) != JV_KIND_NULL)
			perr(&c, "auth", "expected an object");
		jv_free(o);
		o = jv_object_get(jv_copy(v), jv_string("throttle"));
		if (jv_get_kind(o) == JV_KIND_OBJECT)
			check_members(&c, o, "throttle.", thr);
		else if (jv_is_valid(o) && jv_get_kind(o) != JV_KIND_NULL)
			perr(&c, "throttle", "expected an object");
		jv_free(o);
	}
	p->name = pstr(&c, v, "name", NULL);
	p->endpoint = pstr(&c, v, "endpoint", NULL);
	p->method = pstr(&c, v, "method", "GET");
	if (strcmp(p->method, "GET") != 0)
		perr(&c, "method", "only GET is supported");
	s = pstr(&c, v, "url", NULL);
	h = fnv(h, s);
	if (strncmp(s, "http://", 7) != 0 && strncmp(s, "https://", 8) != 0)
		perr(&c, "url", "expected an http or https URL");
	p->url = rebase(s, base_url);
	free(s);
	p->batch_max = (int)pnum(&c, v, "batch_max", 1, 1, 1000);
	p->id_join = pstr(&c, v, "id_join", ",");
	h = fnv(h, p->id_join);
	p->items_src = pstr(&c, v, "items_path", NULL);
	p->id_src = pstr(&c, v, "id_path", NULL);
	p->items = compile(&c, "items_path", p->items_src);
	p->id = compile(&c, "id_path", p->id_src);
	p->span = jspan_compile(p->items_src);
	o = jv_object_get(jv_copy(v), jv_string("invalid_if"));
	if (jv_get_kind(o) == JV_KIND_STRING) {
		p->invalid_src = xstrdup(jv_string_value(o));
		p->invalid = compile(&c, "invalid_if", p->invalid_src);
	} else if (jv_is_valid(o) && jv_get_kind(o) != JV_KIND_NULL)
		perr(&c, "invalid_if", "expected a string");
	jv_free(o);

	o = jv_object_get(jv_copy(v), jv_string("headers"));
	if (jv_get_kind(o) == JV_KIND_OBJECT) {
		jv_object_foreach(o, k, hv) {
			if (jv_get_kind(hv) != JV_KIND_STRING)
				perr(&c, "headers", "values must be strings");
			p->hnames = xreallocarray(p->hnames, p->nheaders + 1,
			    sizeof *p->hnames);
			p->hvals = xreallocarray(p->hvals, p->nheaders + 1,
			    sizeof *p->hvals);
			p->hnames[p->nheaders] = xstrdup(jv_string_value(k));
			p->hvals[p->nheaders++] = xstrdup(jv_string_value(hv));
			h = fnv(h, jv_string_value(k));
			h = fnv(h, jv_string_value(hv));
			jv_free(k);
			jv_free(hv);
		}
	} else if (jv_is_valid(o) && jv_get_kind(o) != JV_KIND_NULL)
		perr(&c, "headers", "expected an object");
	jv_free(o);

	o = jv_object_get(jv_copy(v), jv_string("auth"));
	if (jv_get_kind(o) == JV_KIND_OBJECT) {
		char *type = pstr(&c, o, "type", "none");

		if (strcmp(type, "lwa") == 0) {
			p->auth = AUTH_LWA;
			s = pstr(&c, o, "token_url",
			    "https://api.amazon.com/auth/o2/token");
			p->lwa_url = rebase(s, base_url);
			free(s);
			p->lwa_id = pstr(&c, o, "client_id", NULL);
			p->lwa_secret = pstr(&c, o, "client_secret", NULL);
			p->lwa_refresh = pstr(&c, o, "refresh_token", NULL);
			p->lwa_header = pstr(&c, o, "header",
			    "x-amz-access-token");
		} else if (strcmp(type, "none") != 0)
			perr(&c, "auth", "type must be none or lwa");
		free(type);
	}
	jv_free(o);

	o = jv_object_get(jv_copy(v), jv_string("throttle"));
	if (jv_get_kind(o) == JV_KIND_OBJECT) {
		char *model = pstr(&c, o, "model", "bucket");

		if (strcmp(model, "keepa") == 0)
			p->throttle = THR_KEEPA;
		else if (strcmp(model, "bucket") == 0)
			p->throttle = THR_BUCKET;
		else if (strcmp(model, "none") == 0)
			p->throttle = THR_NONE;
		else
			perr(&c, "throttle", "model must be keepa, bucket or "
			    "none");
		free(model);
		p->qpm = pnum(&c, o, "qpm", 0, 0, 1e9);
		p->burst = pnum(&c, o, "burst", 1, 1, 1e9);
		p->cost_req = pnum(&c, o, "cost_per_request", 1, 0, 1e6);
		p->cost_item = pnum(&c, o, "cost_per_item", 0, 0, 1e6);
		p->rate_header = pstr(&c, o, "rate_header", "");
		if (*p->rate_header == '\0') {
			free(p->rate_header);
			p->rate_header = NULL;
		}
	} else {
		p->throttle = THR_NONE;
		p->cost_req = 1;
	}
	jv_free(o);

	o = jv_object_get(jv_copy(v), jv_string("redact"));
	if (jv_get_kind(o) == JV_KIND_ARRAY) {
		jv_array_foreach(o, i, r) {
			if (jv_get_kind(r) != JV_KIND_STRING)
				perr(&c, "redact", "expected strings");
			secrets_param(sec, jv_string_value(r));
			jv_free(r);
		}
	}
	jv_free(o);

	o = jv_object_get(jv_copy(v), jv_string("fatal_status"));
	if (jv_get_kind(o) == JV_KIND_ARRAY) {
		jv_array_foreach(o, i, r) {
			if (jv_get_kind(r) != JV_KIND_NUMBER)
				perr(&c, "fatal_status", "expected numbers");
			p->fatal = xreallocarray(p->fatal, p->nfatal + 1,
			    sizeof *p->fatal);
			p->fatal[p->nfatal++] = (int)jv_number_value(r);
			jv_free(r);
		}
	}
	jv_free(o);
	h = fnv(h, p->items_src);
	h = fnv(h, p->id_src);
	p->hash = h;
	jv_free(v);
	free(path);
	if (run_prof == NULL)
		atexit(prof_at_exit);
	run_prof = p;
	return p;
}

void
profile_free(struct profile *p)
{
	size_t i;

	if (p == NULL)
		return;
	for (i = 0; i < p->nheaders; i++) {
		free(p->hnames[i]);
		free(p->hvals[i]);
	}
	free(p->hnames);
	free(p->hvals);
	free(p->name);
	free(p->endpoint);
	free(p->method);
	free(p->url);
	free(p->id_join);
	free(p->lwa_url);
	free(p->lwa_id);
	free(p->lwa_secret);
	free(p->lwa_refresh);
	free(p->lwa_header);
	free(p->items_src);
	free(p->id_src);
	free(p->invalid_src);
	free(p->rate_header);
	free(p->fatal);
	jq_close(p);
	if (run_prof == p)
		run_prof = NULL;
	jspan_free(p->span);
	free(p);
}

static void
add_escaped(struct buf *b, const char *s, size_t n, int url)
{
	char *e;

	if (!url) {
		buf_add(b, s, n);
		return;
	}
	e = curl_easy_escape(NULL, s, (int)n);
	if (e == NULL)
		die("out of memory");
	buf_adds(b, e);
	curl_free(e);
}

char *
tmpl_expand(const char *tmpl, const struct tvars *tv, int url,
    struct secrets *sec, char **err)
{
	struct buf b;
	const char *p = tmpl;
	char num[32];
	int i;

	buf_init(&b);
	*err = NULL;
	while (*p != '\0') {
		const char *close;
		size_t n;

		if (*p != '{' || (close = strchr(p, '}')) == NULL) {
			buf_addc(&b, *p++);
			continue;
		}
		n = close - p - 1;
#define IS(w) (n == sizeof(w) - 1 && memcmp(p + 1, w, n) == 0)
		if (IS("ids")) {
			for (i = 0; i < tv->nids; i++) {
				if (i)
					buf_adds(&b, tv->join ? tv->join : ",");
				add_escaped(&b, tv->ids[i], 10, url);
			}
		} else if (IS("domain")) {
			snprintf(num, sizeof num, "%d", tv->mkt->domain);
			buf_adds(&b, num);
		} else if (IS("marketplace"))
			buf_adds(&b, tv->mkt->code);
		else if (IS("marketplace_id"))
			buf_adds(&b, tv->mkt->marketplace_id);
		else if (IS("region"))
			buf_adds(&b, tv->mkt->region);
		else if (IS("date"))
			buf_adds(&b, tv->date);
		else if (n > 4 && memcmp(p + 1, "env:", 4) == 0) {
			char *name = xstrndup(p + 5, n - 4);
			const char *v = secrets_get(sec, name);

			if (v == NULL) {
				*err = xasprintf("%s is not set: put it in the "
				    "environment or the env file", name);
				free(name);
				buf_free(&b);
				return NULL;
			}
			free(name);
			add_escaped(&b, v, strlen(v), url);
		} else {
			*err = xasprintf("unknown placeholder {%.*s}", (int)n,
			    p + 1);
			buf_free(&b);
			return NULL;
		}
#undef IS
		p = close + 1;
	}
	return b.data ? b.data : xstrdup("");
}
