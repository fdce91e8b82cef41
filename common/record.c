/*
 * record.c - typed access to the fields of one NDJSON record.  Tools ask
 * for fields through compiled field handles and never see the parser, so
 * the parser behind this file can change without touching a tool.  This
 * backend parses each line with libjq's jv_parse_sized after checking the
 * bytes are UTF-8 (libjq would silently replace bad bytes).
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "asin.h"
#include "recint.h"

enum seg_kind {
	SEG_KEY,
	SEG_INDEX
};

struct seg {
	enum seg_kind kind;
	char *key;
	size_t keylen;
	long long index;
};

struct rec_field {
	char *expr;
	struct seg *segs;
	size_t nsegs;
};

struct record {
	jv obj;			/* the parsed line, or jv_invalid() */
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
	for (i = 0; i < f->nsegs; i++)
		free(f->segs[i].key);
	free(f->segs);
	free(f->expr);
	free(f);
}

struct record *
rec_new(void)
{
	struct record *r = xcalloc(1, sizeof(*r));

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
	buf_free(&r->err);
	for (i = 0; i < r->nscratch; i++)
		buf_free(&r->scratch[i]);
	free(r->scratch);
	free(r);
}

/*
 * Offset of the first byte that is not well-formed UTF-8, or -1.  Rejects
 * overlong forms, UTF-16 surrogates and code points above U+10FFFF.
 */
long
utf8_invalid_at(const unsigned char *s, size_t n)
{
	size_t i = 0;

	while (i < n) {
		unsigned c = s[i];

		if (c < 0x80) {
			i++;
			continue;
		}
		if (c >= 0xc2 && c <= 0xdf) {
			if (i + 1 >= n || (s[i + 1] & 0xc0) != 0x80)
				return (long)i;
			i += 2;
		} else if (c >= 0xe0 && c <= 0xef) {
			if (i + 2 >= n || (s[i + 1] & 0xc0) != 0x80 ||
			    (s[i + 2] & 0xc0) != 0x80 ||
			    (c == 0xe0 && s[i + 1] < 0xa0) ||
			    (c == 0xed && s[i + 1] > 0x9f))
				return (long)i;
			i += 3;
		} else if (c >= 0xf0 && c <= 0xf4) {
			if (i + 3 >= n || (s[i + 1] & 0xc0) != 0x80 ||
			    (s[i + 2] & 0xc0) != 0x80 ||
			    (s[i + 3] & 0xc0) != 0x80 ||
			    (c == 0xf0 && s[i + 1] < 0x90) ||
			    (c == 0xf4 && s[i + 1] > 0x8f))
				return (long)i;
			i += 4;
		} else {
			return (long)i;
		}
	}
	return -1;
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

int
rec_parse(struct record *r, const struct nd_line *line, const char **err)
{
	long bad;
	jv v;

	jv_free(r->obj);
	r->obj = jv_invalid();
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
	bad = utf8_invalid_at((const unsigned char *)line->buf, line->len);
	if (bad >= 0) {
		buf_printf(&r->err, "invalid UTF-8 at byte %ld", bad + 1);
		*err = r->err.data;
		return 0;
	}
	if (line->len > (size_t)INT32_MAX) {
		buf_adds(&r->err, "line too long for the parser");
		*err = r->err.data;
		return 0;
	}
	v = jv_parse_sized(line->buf, (int)line->len);
	if (!jv_is_valid(v)) {
		jv msg = jv_invalid_get_msg(v);

		buf_adds(&r->err, "invalid JSON: ");
		if (jv_get_kind(msg) == JV_KIND_STRING)
			buf_adds(&r->err, jv_string_value(msg));
		else
			buf_adds(&r->err, "parse error");
		jv_free(msg);
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
	r->obj = v;
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

/* The value at f, borrowed from r->obj's tree (jv_invalid() if absent). */
static jv
lookup(struct record *r, const struct rec_field *f)
{
	jv cur = jv_copy(r->obj);
	size_t i;

	for (i = 0; i < f->nsegs && jv_is_valid(cur); i++) {
		const struct seg *s = &f->segs[i];

		if (s->kind == SEG_KEY) {
			if (jv_get_kind(cur) != JV_KIND_OBJECT) {
				jv_free(cur);
				return jv_invalid();
			}
			cur = jv_object_get(cur,
			    jv_string_sized(s->key, (int)s->keylen));
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

enum rec_kind
rec_kind(struct record *r, const struct rec_field *f)
{
	jv v = lookup(r, f);
	enum rec_kind k = kind_of(v);

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

enum rec_status
rec_num(struct record *r, const struct rec_field *f, double *out)
{
	jv v = lookup(r, f);
	enum rec_status st = status_of(v, JV_KIND_NUMBER);

	if (st == REC_OK)
		*out = jv_number_value(v);
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

enum rec_status
rec_str(struct record *r, const struct rec_field *f, const char **s,
    size_t *len)
{
	jv v = lookup(r, f);
	enum rec_status st = status_of(v, JV_KIND_STRING);

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
	jv v = lookup(r, f);
	enum rec_status st;

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
rec_json(struct record *r, const struct rec_field *f, const char **s,
    size_t *len)
{
	jv v = lookup(r, f), d;
	struct buf *b;

	if (!jv_is_valid(v)) {
		jv_free(v);
		return REC_ABSENT;
	}
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
	return lookup(r, f);
}

jv
rec_jv_all(struct record *r)
{
	return jv_copy(r->obj);
}

int
rec_has_key(struct record *r, const char *key, size_t keylen)
{
	jv v;
	int has;

	if (!jv_is_valid(r->obj))
		return 0;
	v = jv_object_get(jv_copy(r->obj), jv_string_sized(key, (int)keylen));
	has = jv_is_valid(v);
	jv_free(v);
	return has;
}

const char *
rec_errmsg(struct record *r, const struct rec_field *f, enum rec_kind want)
{
	enum rec_kind got = rec_kind(r, f);

	r->err.len = 0;
	if (got == REC_MISSING)
		buf_printf(&r->err, "field \"%s\": missing", f->expr);
	else
		buf_printf(&r->err, "field \"%s\": expected %s, got %s",
		    f->expr, rec_kind_name(want), rec_kind_name(got));
	return r->err.data;
}
