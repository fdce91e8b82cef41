/*
 * record.c - typed access to the fields of one NDJSON record.  Tools ask
 * for fields through compiled field handles and never see the parser, so
 * the parser behind this file can change without touching a tool.
 *
 * The backend is the record scanner (scan.c): one pass validates the line
 * and indexes its top-level members, and a getter parses only the value it
 * is asked for, straight from the line.  What needs a jv (rec_jv, a
 * container's rec_json, the error text of a bad line) goes to libjq, on
 * the value's own bytes.  ASIN_PARSER=jq in the environment selects the
 * old libjq backend for the whole run (libjq parses every line, after a
 * UTF-8 check, since libjq would silently replace bad bytes), so a
 * benchmark can show both.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "asin.h"
#include "recint.h"
#include "scan.h"

enum seg_kind {
	SEG_KEY,
	SEG_INDEX
};

struct seg {
	enum seg_kind kind;
	char *key;
	size_t keylen;
	jv jkey;		/* key as a libjq string, hashed once */
	long long index;
};

struct rec_field {
	char *expr;
	struct seg *segs;
	size_t nsegs;
};

/*
 * --allow-duplicate-keys, set once while the options are read, before
 * the first rec_new(): an option, not state.
 */
static int allow_dup_default;

void
rec_allow_duplicate_keys(int allow)
{
	allow_dup_default = allow;
}

int
rec_duplicate_keys_allowed(void)
{
	return allow_dup_default;
}

struct record {
	int use_jq;		/* ASIN_PARSER=jq: libjq parses every line */
	int allow_dup;		/* a key twice: the last one counts */
	struct scan sc;		/* the scanner's index of the line */
	int scanned;		/* sc indexes the current line */
	jv obj;			/* libjq's tree of the line, or jv_invalid() */
	int have_obj;		/* obj is built (always, with use_jq) */
	const char *raw;
	size_t rawlen;
	const char *source;
	long lineno;
	struct buf err;		/* rec_parse() and rec_errmsg() messages */
	struct buf *scratch;	/* rec_json() texts, freed at the next parse */
	size_t nscratch, capscratch;
	size_t usedscratch;
};

const char *
rec_kind_name(enum rec_kind k)
{
	static const char *const names[] = {
		"missing", "null", "boolean", "boolean", "number", "string",
		"array", "object"
	};

	return k <= REC_OBJECT ? names[k] : "unknown";
}

static void
field_add(struct rec_field *f, enum seg_kind kind, const char *key,
    size_t keylen, long long index)
{
	struct seg *s;

	f->segs = xreallocarray(f->segs, f->nsegs + 1, sizeof(*f->segs));
	s = &f->segs[f->nsegs++];
	s->kind = kind;
	s->key = key ? xstrndup(key, keylen) : NULL;
	s->keylen = keylen;
	s->jkey = key ? jv_string_sized(key, (int)keylen) : jv_null();
	s->index = index;
}

/* Parse a quoted key inside ["..."]: JSON string rules via libjq. */
static int
parse_quoted(struct rec_field *f, const char **pp)
{
	const char *p = *pp, *q = p + 1;
	jv s;

	while (*q && *q != '"') {
		if (*q == '\\' && q[1])
			q++;
		q++;
	}
	if (*q != '"')
		return 0;
	s = jv_parse_sized(p, (int)(q - p + 1));
	if (!jv_is_valid(s) || jv_get_kind(s) != JV_KIND_STRING) {
		jv_free(s);
		return 0;
	}
	field_add(f, SEG_KEY, jv_string_value(s),
	    (size_t)jv_string_length_bytes(jv_copy(s)), 0);
	jv_free(s);
	*pp = q + 1;
	return 1;
}

struct rec_field *
rec_field_try(const char *expr, const char **err)
{
	struct rec_field *f = xcalloc(1, sizeof(*f));
	const char *p = expr;

	f->expr = xstrdup(expr);
	if (*p != '.') {
		if (*p == '\0') {
			*err = "empty field name";
			goto fail;
		}
		field_add(f, SEG_KEY, p, strlen(p), 0);
		return f;
	}
	if (p[1] == '\0') {
		*err = "the path '.' names the whole record, not a field";
		goto fail;
	}
	while (*p) {
		if (*p == '.' && p[1] != '[') {
			const char *q = ++p;

			while (*q && *q != '.' && *q != '[')
				q++;
			if (q == p) {
				*err = "empty key in path";
				goto fail;
			}
			for (const char *c = p; c < q; c++)
				if (!(*c == '_' || (*c >= 'a' && *c <= 'z') ||
				    (*c >= 'A' && *c <= 'Z') ||
				    (c > p && *c >= '0' && *c <= '9'))) {
					*err = "a key that is not an identifier "
					    "needs [\"...\"]";
					goto fail;
				}
			field_add(f, SEG_KEY, p, (size_t)(q - p), 0);
			p = q;
		} else if (*p == '[' || (*p == '.' && p[1] == '[')) {
			if (*p == '.')
				p++;
			p++;
			if (*p == '"') {
				if (!parse_quoted(f, &p)) {
					*err = "bad quoted key in path";
					goto fail;
				}
			} else {
				char *end;
				long long i = strtoll(p, &end, 10);

				if (end == p) {
					*err = "expected an index or a quoted "
					    "key inside []";
					goto fail;
				}
				field_add(f, SEG_INDEX, NULL, 0, i);
				p = end;
			}
			if (*p != ']') {
				*err = "missing ] in path";
				goto fail;
			}
			p++;
		} else {
			*err = "expected . or [ in path";
			goto fail;
		}
	}
	return f;
fail:
	rec_field_free(f);
	return NULL;
}

struct rec_field *
rec_field(const char *expr)
{
	const char *err = NULL;
	struct rec_field *f = rec_field_try(expr, &err);

	if (f == NULL)
		usage_error("field '%s': %s", expr, err);
	return f;
}

const char *
rec_field_name(const struct rec_field *f)
{
	return f->expr;
}

void
rec_field_free(struct rec_field *f)
{
	size_t i;

	if (f == NULL)
		return;
	for (i = 0; i < f->nsegs; i++) {
		free(f->segs[i].key);
		jv_free(f->segs[i].jkey);
	}
	free(f->segs);
	free(f->expr);
	free(f);
}

struct record *
rec_new(void)
{
	struct record *r = xcalloc(1, sizeof(*r));
	const char *p = getenv("ASIN_PARSER");

	r->use_jq = p != NULL && strcmp(p, "jq") == 0;
	r->allow_dup = allow_dup_default;
	scan_init(&r->sc);
	r->obj = jv_invalid();
	buf_init(&r->err);
	return r;
}

void
rec_free(struct record *r)
{
	size_t i;

	if (r == NULL)
		return;
	jv_free(r->obj);
	scan_free(&r->sc);
	buf_free(&r->err);
	for (i = 0; i < r->nscratch; i++)
		buf_free(&r->scratch[i]);
	free(r->scratch);
	free(r);
}

static enum rec_kind
kind_of(jv v)
{
	switch (jv_get_kind(v)) {
	case JV_KIND_INVALID: return REC_MISSING;
	case JV_KIND_NULL: return REC_NULL;
	case JV_KIND_FALSE: return REC_FALSE;
	case JV_KIND_TRUE: return REC_TRUE;
	case JV_KIND_NUMBER: return REC_NUMBER;
	case JV_KIND_STRING: return REC_STRING;
	case JV_KIND_ARRAY: return REC_ARRAY;
	case JV_KIND_OBJECT: return REC_OBJECT;
	}
	return REC_MISSING;
}

/*
 * The libjq reading of a line the UTF-8 check passed: its tree, or its
 * error message in r->err.
 */
static jv
parse_jq(struct record *r, const char *p, size_t n)
{
	char *msg;
	jv v;

	if (n > (size_t)INT32_MAX) {
		buf_adds(&r->err, "line too long for the parser");
		return jv_invalid();
	}
	v = json_parse(p, n, &msg);
	if (jv_is_valid(v))
		return v;
	buf_printf(&r->err, "invalid JSON: %s", msg);
	free(msg);
	return jv_invalid();
}

/*
 * A line the scanner rejected: its located reason.  libjq is not asked,
 * so a bad line costs no second parse (and libjq 1.6 leaks on some parse
 * errors), and every message has the same "at column N" form.
 */
static void
scan_failed(struct record *r)
{
	char msg[128];

	r->err.len = 0;
	scan_errmsg(&r->sc, msg, sizeof(msg));
	buf_adds(&r->err, msg);
}

/*
 * A record with a key twice is ambiguous: jq and this layer read the
 * last value, sqlite's json_extract and many others the first, so the
 * bytes passed on would mean something else downstream.  1 (and the
 * message in r->err) when the scanned line has one.
 */
static int
dup_found(struct record *r)
{
	const char *k;
	size_t off, kl;

	if (r->allow_dup || !scan_dup_key(&r->sc, r->raw, &off, &k, &kl))
		return 0;
	r->err.len = 0;
	buf_adds(&r->err, "duplicate key ");
	buf_add_jstr(&r->err, k, kl);
	buf_printf(&r->err, " at column %zu", off + 1);
	return 1;
}

int
rec_parse(struct record *r, const struct nd_line *line, const char **err)
{
	long bad;
	jv v;

	if (r->have_obj) {
		jv_free(r->obj);
		r->obj = jv_invalid();
		r->have_obj = 0;
	}
	r->scanned = 0;
	r->raw = line->buf;
	r->rawlen = line->len;
	r->source = line->source;
	r->lineno = line->lineno;
	r->usedscratch = 0;
	r->err.len = 0;
	if (line->error != NULL) {
		buf_adds(&r->err, line->error);
		*err = r->err.data;
		return 0;
	}
	if (!r->use_jq) {
		if (scan_text(&r->sc, line->buf, line->len)) {
			if (r->sc.kind == SCAN_OBJECT) {
				if (dup_found(r)) {
					*err = r->err.data;
					return 0;
				}
				r->scanned = 1;
				return 1;
			}
			buf_printf(&r->err, "expected a JSON object, got %s",
			    rec_kind_name((enum rec_kind)r->sc.kind));
			*err = r->err.data;
			return 0;
		}
	}
	bad = utf8_invalid_at((const unsigned char *)line->buf, line->len);
	if (bad >= 0) {
		buf_printf(&r->err, "invalid UTF-8 at byte %ld", bad + 1);
		*err = r->err.data;
		return 0;
	}
	if (!r->use_jq) {
		scan_failed(r);
		*err = r->err.data;
		return 0;
	}
	v = parse_jq(r, line->buf, line->len);
	if (!jv_is_valid(v)) {
		*err = r->err.data;
		return 0;
	}
	if (jv_get_kind(v) != JV_KIND_OBJECT) {
		buf_printf(&r->err, "expected a JSON object, got %s",
		    rec_kind_name(kind_of(v)));
		jv_free(v);
		*err = r->err.data;
		return 0;
	}
	/* libjq keeps the last of two keys silently: ask the scanner. */
	if (!r->allow_dup && scan_text(&r->sc, line->buf, line->len) &&
	    dup_found(r)) {
		jv_free(v);
		*err = r->err.data;
		return 0;
	}
	r->obj = v;
	r->have_obj = 1;
	return 1;
}

const char *
rec_source(const struct record *r)
{
	return r->source;
}

long
rec_lineno(const struct record *r)
{
	return r->lineno;
}

const char *
rec_raw(const struct record *r, size_t *len)
{
	*len = r->rawlen;
	return r->raw;
}

/* libjq's tree of the current line (borrowed), built on first need. */
static jv
tree(struct record *r)
{
	if (!r->have_obj && r->raw != NULL && r->rawlen <= (size_t)INT32_MAX) {
		r->obj = jv_parse_sized(r->raw, (int)r->rawlen);
		r->have_obj = 1;
	}
	return r->obj;
}

/* The value at f, borrowed from the tree (jv_invalid() if absent). */
static jv
lookup(struct record *r, const struct rec_field *f)
{
	jv cur = jv_copy(tree(r));
	size_t i;

	for (i = 0; i < f->nsegs && jv_is_valid(cur); i++) {
		const struct seg *s = &f->segs[i];

		if (s->kind == SEG_KEY) {
			if (jv_get_kind(cur) != JV_KIND_OBJECT) {
				jv_free(cur);
				return jv_invalid();
			}
			cur = jv_object_get(cur, jv_copy(s->jkey));
		} else {
			int len;
			long long idx = s->index;

			if (jv_get_kind(cur) != JV_KIND_ARRAY) {
				jv_free(cur);
				return jv_invalid();
			}
			len = jv_array_length(jv_copy(cur));
			if (idx < 0)
				idx += len;
			if (idx < 0 || idx >= len) {
				jv_free(cur);
				return jv_invalid();
			}
			cur = jv_array_get(cur, (int)idx);
		}
	}
	/*
	 * The tree owns the value, so dropping this reference keeps what
	 * the getters hand out (string bytes) alive until the next parse.
	 */
	jv_free(jv_copy(cur));
	return cur;
}

/*
 * The scanner's way to the value at f: the top-level member from the
 * index, then each further step walked on the value's bytes.  1 with the
 * value's JSON text in *p and *n, 0 when absent.
 */
static int
span(const struct record *r, const struct rec_field *f, const char **p,
    size_t *n)
{
	const struct seg *s = &f->segs[0];
	const struct scan_member *m;
	size_t k, off, len;
	long i;

	if (s->kind != SEG_KEY)
		return 0;
	if ((i = scan_find(&r->sc, r->raw, s->key, s->keylen)) < 0)
		return 0;
	m = &r->sc.m[i];
	*p = r->raw + m->val;
	*n = m->val_len;
	for (k = 1; k < f->nsegs; k++) {
		s = &f->segs[k];
		if (s->kind == SEG_KEY) {
			if (**p != '{' || !scan_obj_get(*p, *n, s->key,
			    s->keylen, &off, &len))
				return 0;
		} else if (**p != '[' ||
		    !scan_arr_get(*p, *n, s->index, &off, &len)) {
			return 0;
		}
		*p += off;
		*n = len;
	}
	return 1;
}

/* The kind at f by the scanner, with the span when present. */
static enum rec_kind
span_kind(const struct record *r, const struct rec_field *f, const char **p,
    size_t *n)
{
	if (!span(r, f, p, n))
		return REC_MISSING;
	return (enum rec_kind)scan_kind_of(**p);
}

enum rec_kind
rec_kind(struct record *r, const struct rec_field *f)
{
	jv v;
	enum rec_kind k;
	const char *p;
	size_t n;

	if (r->scanned)
		return span_kind(r, f, &p, &n);
	v = lookup(r, f);
	k = kind_of(v);
	jv_free(v);
	return k;
}

static enum rec_status
status_of(jv v, jv_kind want)
{
	if (!jv_is_valid(v))
		return REC_ABSENT;
	if (jv_get_kind(v) == JV_KIND_NULL)
		return want == JV_KIND_NULL ? REC_OK : REC_ISNULL;
	if (jv_get_kind(v) != want)
		return REC_BADTYPE;
	return REC_OK;
}

/* The status of a scanner get of kind want, from the kind found. */
static enum rec_status
span_status(enum rec_kind got, enum rec_kind want)
{
	if (got == REC_MISSING)
		return REC_ABSENT;
	if (got == REC_NULL)
		return REC_ISNULL;
	return got == want ? REC_OK : REC_BADTYPE;
}

enum rec_status
rec_num(struct record *r, const struct rec_field *f, double *out)
{
	double x;
	jv v;
	enum rec_status st;
	const char *p;
	size_t n;

	if (r->scanned) {
		st = span_status(span_kind(r, f, &p, &n), REC_NUMBER);
		if (st == REC_OK) {
			x = scan_number(p, n);
			/* 1e999: no double holds it; never a silent inf. */
			if (!isfinite(x))
				return REC_BADTYPE;
			*out = x;
		}
		return st;
	}
	v = lookup(r, f);
	st = status_of(v, JV_KIND_NUMBER);
	if (st == REC_OK) {
		x = jv_number_value(v);
		if (!isfinite(x))
			st = REC_BADTYPE;
		else
			*out = x;
	}
	jv_free(v);
	return st;
}

enum rec_status
rec_int(struct record *r, const struct rec_field *f, long long *out)
{
	double d;
	enum rec_status st = rec_num(r, f, &d);

	if (st != REC_OK)
		return st;
	if (d != floor(d) || fabs(d) > 9007199254740992.0)
		return REC_BADTYPE;
	*out = (long long)d;
	return REC_OK;
}

/* A record-owned buffer that lives until the next rec_parse(). */
static struct buf *
scratch(struct record *r)
{
	struct buf *b;

	if (r->usedscratch == r->nscratch) {
		if (r->nscratch == r->capscratch) {
			r->capscratch = r->capscratch ? r->capscratch * 2 : 4;
			r->scratch = xreallocarray(r->scratch, r->capscratch,
			    sizeof(*r->scratch));
		}
		buf_init(&r->scratch[r->nscratch++]);
	}
	b = &r->scratch[r->usedscratch++];
	b->len = 0;
	return b;
}

enum rec_status
rec_str(struct record *r, const struct rec_field *f, const char **s,
    size_t *len)
{
	jv v;
	enum rec_status st;
	struct buf *b;
	const char *p;
	size_t n;

	if (r->scanned) {
		st = span_status(span_kind(r, f, &p, &n), REC_STRING);
		if (st == REC_OK) {
			/* A NUL-terminated copy, as libjq's strings were. */
			b = scratch(r);
			buf_reserve(b, n);
			b->len = scan_unescape(b->data, p + 1, n - 2);
			b->data[b->len] = '\0';
			*s = b->data;
			*len = b->len;
		}
		return st;
	}
	v = lookup(r, f);
	st = status_of(v, JV_KIND_STRING);
	if (st == REC_OK) {
		*s = jv_string_value(v);
		*len = (size_t)jv_string_length_bytes(jv_copy(v));
	}
	jv_free(v);
	return st;
}

enum rec_status
rec_bool(struct record *r, const struct rec_field *f, int *out)
{
	jv v;
	enum rec_status st;
	enum rec_kind k;
	const char *p;
	size_t n;

	if (r->scanned) {
		k = span_kind(r, f, &p, &n);
		if (k == REC_TRUE || k == REC_FALSE) {
			*out = k == REC_TRUE;
			return REC_OK;
		}
		return span_status(k, REC_TRUE);
	}
	v = lookup(r, f);
	if (!jv_is_valid(v))
		st = REC_ABSENT;
	else if (jv_get_kind(v) == JV_KIND_NULL)
		st = REC_ISNULL;
	else if (jv_get_kind(v) == JV_KIND_TRUE)
		st = REC_OK, *out = 1;
	else if (jv_get_kind(v) == JV_KIND_FALSE)
		st = REC_OK, *out = 0;
	else
		st = REC_BADTYPE;
	jv_free(v);
	return st;
}

/*
 * Whether the value text p[0..n) is byte for byte what libjq's compact
 * dump of it would be: literals, strings with nothing libjq would write
 * differently (an escape, DEL), integers of at most 15 digits.
 */
static int
dump_is_raw(const char *p, size_t n)
{
	size_t i;

	switch (scan_kind_of(*p)) {
	case SCAN_NULL:
	case SCAN_TRUE:
	case SCAN_FALSE:
		return 1;
	case SCAN_STRING:
		for (i = 1; i + 1 < n; i++)
			if (p[i] == '\\' || p[i] == 0x7f)
				return 0;
		return 1;
	case SCAN_NUMBER:
		i = *p == '-';
		if (n - i > 15)
			return 0;
		for (; i < n; i++)
			if (p[i] < '0' || p[i] > '9')
				return 0;
		return 1;
	default:
		return 0;
	}
}

enum rec_status
rec_json(struct record *r, const struct rec_field *f, const char **s,
    size_t *len)
{
	jv v, d;
	struct buf *b;
	const char *p;
	size_t n;

	if (r->scanned) {
		if (!span(r, f, &p, &n))
			return REC_ABSENT;
		if (dump_is_raw(p, n)) {
			b = scratch(r);
			buf_add(b, p, n);
			*s = b->data;
			*len = b->len;
			return REC_OK;
		}
		v = jv_parse_sized(p, (int)n);
	} else {
		v = lookup(r, f);
		if (!jv_is_valid(v)) {
			jv_free(v);
			return REC_ABSENT;
		}
	}
	/* Canonical text, as libjq writes it: the same value, the same key. */
	d = jv_dump_string(v, 0);
	b = scratch(r);
	buf_add(b, jv_string_value(d),
	    (size_t)jv_string_length_bytes(jv_copy(d)));
	jv_free(d);
	*s = b->data;
	*len = b->len;
	return REC_OK;
}

jv
rec_jv(struct record *r, const struct rec_field *f)
{
	const char *p;
	size_t n;

	if (r->scanned)
		return span(r, f, &p, &n) ? jv_parse_sized(p, (int)n) :
		    jv_invalid();
	return lookup(r, f);
}

jv
rec_jv_all(struct record *r)
{
	return jv_copy(tree(r));
}

int
rec_has_key(struct record *r, const char *key, size_t keylen)
{
	jv v;
	int has;

	if (r->scanned)
		return scan_find(&r->sc, r->raw, key, keylen) >= 0;
	if (!jv_is_valid(tree(r)))
		return 0;
	v = jv_object_get(jv_copy(r->obj), jv_string_sized(key, (int)keylen));
	has = jv_is_valid(v);
	jv_free(v);
	return has;
}

const struct scan *
rec_scan(const struct record *r)
{
	return r->scanned ? &r->sc : NULL;
}

int
rec_nonfinite(struct record *r, const struct rec_field *f, const char **text,
    size_t *len, double *v)
{
	jv j;

	if (r->scanned) {
		if (span_kind(r, f, text, len) != REC_NUMBER)
			return 0;
		*v = scan_number(*text, *len);
		return !isfinite(*v);
	}
	/* libjq has already clamped 1e999 to the largest double. */
	j = lookup(r, f);
	*v = jv_get_kind(j) == JV_KIND_NUMBER ? jv_number_value(j) : 0;
	jv_free(j);
	*text = "";
	*len = 0;
	return !isfinite(*v);
}

const char *
rec_nonfinite_any(struct record *r)
{
	const char *p = r->raw, *end = r->raw + r->rawlen, *key = NULL;
	const char *q;
	size_t keylen = 0;
	int depth = 0;
	char tmp[64];
	double x;

	/* The line is valid JSON (rec_parse() said so): outside strings a
	 * '-' or a digit starts a number, and a string just inside the
	 * top-level object followed by ':' is a member name. */
	while (p < end) {
		if (*p == '"') {
			for (q = p + 1; q < end && *q != '"'; q++)
				if (*q == '\\')
					q++;
			if (depth == 1) {
				const char *c = q + 1;

				while (c < end && (*c == ' ' || *c == '\t' ||
				    *c == '\r' || *c == '\n'))
					c++;
				if (c < end && *c == ':') {
					key = p + 1;
					keylen = (size_t)(q - p - 1);
				}
			}
			p = q + 1;
		} else if (*p == '{' || *p == '[') {
			depth++;
			p++;
		} else if (*p == '}' || *p == ']') {
			depth--;
			p++;
		} else if (*p == '-' || (*p >= '0' && *p <= '9')) {
			size_t n;

			for (q = p; q < end && strchr("+-.0123456789eE", *q) &&
			    *q != '\0'; q++)
				;
			n = (size_t)(q - p);
			if (n < sizeof(tmp)) {
				memcpy(tmp, p, n);
				tmp[n] = '\0';
				x = strtod(tmp, NULL);
			} else {
				char *big = xstrndup(p, n);

				x = strtod(big, NULL);
				free(big);
			}
			if (!isfinite(x)) {
				r->err.len = 0;
				buf_adds(&r->err, "field ");
				buf_add_jstr(&r->err, key ? key : "",
				    key ? keylen : 0);
				buf_printf(&r->err, ": number %.*s is out of "
				    "range", (int)(n > 40 ? 40 : n), p);
				return r->err.data;
			}
			p = q;
		} else
			p++;
	}
	return NULL;
}

const char *
rec_errmsg(struct record *r, const struct rec_field *f, enum rec_kind want)
{
	enum rec_kind got = rec_kind(r, f);

	const char *p;
	size_t n;
	double x;

	r->err.len = 0;
	if (got == REC_MISSING)
		buf_printf(&r->err, "field \"%s\": missing", f->expr);
	else if (got == REC_NUMBER && want == REC_NUMBER &&
	    rec_nonfinite(r, f, &p, &n, &x))
		buf_printf(&r->err, "field \"%s\": number %.*s is out of "
		    "range", f->expr, (int)(n > 40 ? 40 : n), p);
	else
		buf_printf(&r->err, "field \"%s\": expected %s, got %s",
		    f->expr, rec_kind_name(want), rec_kind_name(got));
	return r->err.data;
}
