/*
 * scan.c - the record scanner (see scan.h): one pass that validates a JSON
 * text byte for byte against RFC 8259 and records where each top-level
 * member's key and value are.  Plain string bytes are skipped 16 at a
 * time with SSE2; everything else is a small hand-written state walk.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#ifdef __SSE2__
#include <emmintrin.h>
#endif

#include "asin.h"
#include "scan.h"

#define LIKELY(x) __builtin_expect(!!(x), 1)
#define UNLIKELY(x) __builtin_expect(!!(x), 0)

/* The state of one scan: the text and where the first error was. */
struct sc {
	const unsigned char *base;
	const unsigned char *end;
	enum scan_err err;
	const unsigned char *errp;
};

static const unsigned char *fail(struct sc *, const unsigned char *,
    enum scan_err);
static const unsigned char *ws(const unsigned char *, const unsigned char *);
static const unsigned char *string_body(struct sc *, const unsigned char *,
    unsigned char *);
static const unsigned char *escape(struct sc *, const unsigned char *);
static const unsigned char *utf8(struct sc *, const unsigned char *);
static const unsigned char *number(struct sc *, const unsigned char *);
static const unsigned char *literal(struct sc *, const unsigned char *,
    const char *, size_t);
static const unsigned char *value(struct sc *, const unsigned char *, int,
    unsigned char *, unsigned char *);
static const unsigned char *object(struct sc *, const unsigned char *, int,
    struct scan *);
static const unsigned char *array(struct sc *, const unsigned char *, int);
static int hexval(int);
static unsigned hex4(const unsigned char *);
static const char *skip_string(const char *, const char *);
static size_t put_utf8(char *, unsigned long);
static unsigned key_bit(const char *, size_t);

/*
 * Bytes that end a run of plain string bytes: '"', '\\', controls and
 * every byte of a multi-byte UTF-8 sequence (validated one by one).
 */
static const unsigned char str_special[256] = {
	[0x00] = 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
	[0x10] = 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
	['"'] = 1, ['\\'] = 1,
	[0x80] = 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
	[0x90] = 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
	[0xa0] = 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
	[0xb0] = 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
	[0xc0] = 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
	[0xd0] = 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
	[0xe0] = 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
	[0xf0] = 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
};

static const char *const errstr[] = {
	[SCAN_OK] = "no error",
	[SCAN_E_EMPTY] = "no value",
	[SCAN_E_TRUNCATED] = "unexpected end of input",
	[SCAN_E_VALUE] = "expected a value",
	[SCAN_E_LITERAL] = "invalid literal",
	[SCAN_E_NUMBER] = "invalid number",
	[SCAN_E_LEADING_ZERO] = "leading zero in number",
	[SCAN_E_ESCAPE] = "invalid escape",
	[SCAN_E_SURROGATE] = "lone surrogate in \\u escape",
	[SCAN_E_CONTROL] = "unescaped control character in string",
	[SCAN_E_UTF8] = "invalid UTF-8",
	[SCAN_E_DEPTH] = "nesting deeper than 256",
	[SCAN_E_KEY] = "expected a string as member name",
	[SCAN_E_COLON] = "expected ':' after member name",
	[SCAN_E_OBJ_SEP] = "expected ',' or '}'",
	[SCAN_E_ARR_SEP] = "expected ',' or ']'",
	[SCAN_E_TRAILING_COMMA] = "trailing comma",
	[SCAN_E_EXTRA] = "unexpected data after the value",
};

void
scan_init(struct scan *s)
{
	memset(s, 0, sizeof(*s));
}

void
scan_free(struct scan *s)
{
	free(s->m);
	free(s->dk);
	free(s->dslot);
	if (s->names != NULL) {
		buf_free(s->names);
		free(s->names);
	}
	memset(s, 0, sizeof(*s));
}

const char *
scan_strerror(enum scan_err e)
{
	if ((size_t)e >= sizeof(errstr) / sizeof(errstr[0]) || errstr[e] == NULL)
		return "invalid JSON";
	return errstr[e];
}

int
scan_errmsg(const struct scan *s, char *dst, size_t n)
{
	return snprintf(dst, n, "invalid JSON at column %zu: %s",
	    s->err_off + 1, scan_strerror(s->err));
}

int
scan_text(struct scan *s, const char *buf, size_t len)
{
	struct sc c;
	const unsigned char *p;
	unsigned char kind = SCAN_NONE, esc = 0;

	c.base = (const unsigned char *)buf;
	c.end = c.base + len;
	c.err = SCAN_OK;
	c.errp = NULL;
	s->n = 0;
	s->kind = SCAN_NONE;
	s->keys = 0;
	s->keys_ok = 1;
	p = ws(c.base, c.end);
	if (p == c.end) {
		p = fail(&c, p, SCAN_E_EMPTY);
	} else if (*p == '{') {
		s->val = p - c.base;
		kind = SCAN_OBJECT;
		p = object(&c, p, 1, s);
	} else {
		s->val = p - c.base;
		p = value(&c, p, 0, &kind, &esc);
	}
	if (p != NULL) {
		s->val_len = p - c.base - s->val;
		p = ws(p, c.end);
		if (p != c.end)
			p = fail(&c, p, SCAN_E_EXTRA);
	}
	if (p == NULL) {
		s->err = c.err;
		s->err_off = c.errp - c.base;
		s->n = 0;
		return 0;
	}
	s->kind = kind;
	s->err = SCAN_OK;
	s->err_off = 0;
	return 1;
}

static const unsigned char *
fail(struct sc *c, const unsigned char *p, enum scan_err e)
{
	c->err = e;
	c->errp = p;
	return NULL;
}

/* Skip JSON white space; compact NDJSON has none, so test that first. */
static inline const unsigned char *
ws(const unsigned char *p, const unsigned char *end)
{
	while (p < end && *p <= ' ' &&
	    (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r'))
		p++;
	return p;
}

/*
 * p is just past an opening quote.  Returns the byte after the closing
 * quote; *esc is set when the body holds escapes.
 */
static const unsigned char *
string_body(struct sc *c, const unsigned char *p, unsigned char *esc)
{
	const unsigned char *end = c->end;
#ifdef __SSE2__
	const __m128i quote = _mm_set1_epi8('"');
	const __m128i bslash = _mm_set1_epi8('\\');
	const __m128i space = _mm_set1_epi8(' ');
#endif

	for (;;) {
#ifdef __SSE2__
		/*
		 * A signed compare with ' ' flags controls and, being signed,
		 * every byte >= 0x80 too: both need a closer look.
		 */
		while (end - p >= 16) {
			__m128i v = _mm_loadu_si128((const __m128i *)p);
			unsigned m = _mm_movemask_epi8(_mm_or_si128(
			    _mm_or_si128(_mm_cmpeq_epi8(v, quote),
			    _mm_cmpeq_epi8(v, bslash)),
			    _mm_cmplt_epi8(v, space)));
			if (m != 0) {
				p += __builtin_ctz(m);
				goto special;
			}
			p += 16;
		}
#endif
		while (p < end && !str_special[*p])
			p++;
		if (p == end)
			return fail(c, p, SCAN_E_TRUNCATED);
#ifdef __SSE2__
special:
#endif
		if (*p == '"')
			return p + 1;
		if (*p == '\\') {
			*esc = 1;
			if ((p = escape(c, p)) == NULL)
				return NULL;
		} else if (*p < 0x20) {
			return fail(c, p, SCAN_E_CONTROL);
		} else {
			/* Runs of non-ASCII text: stay in the scalar loop. */
			do {
				if ((p = utf8(c, p)) == NULL)
					return NULL;
			} while (p < end && *p >= 0x80);
		}
	}
}

static int
hexval(int ch)
{
	if (ch >= '0' && ch <= '9')
		return ch - '0';
	ch |= 0x20;
	if (ch >= 'a' && ch <= 'f')
		return ch - 'a' + 10;
	return -1;
}

/* Four hex digits at p (already checked) as a number. */
static unsigned
hex4(const unsigned char *p)
{
	return (unsigned)hexval(p[0]) << 12 | (unsigned)hexval(p[1]) << 8 |
	    (unsigned)hexval(p[2]) << 4 | (unsigned)hexval(p[3]);
}

/* Check that p[0..4) are hex digits: NULL with the error if not. */
static const unsigned char *
check_hex4(struct sc *c, const unsigned char *p)
{
	int i;

	for (i = 0; i < 4; i++) {
		if (p + i == c->end)
			return fail(c, p + i, SCAN_E_TRUNCATED);
		if (hexval(p[i]) < 0)
			return fail(c, p + i, SCAN_E_ESCAPE);
	}
	return p + 4;
}

/* p is at a backslash.  Returns the byte after the escape. */
static const unsigned char *
escape(struct sc *c, const unsigned char *p)
{
	const unsigned char *bs = p;
	unsigned u, lo;

	if (++p == c->end)
		return fail(c, p, SCAN_E_TRUNCATED);
	switch (*p) {
	case '"': case '\\': case '/': case 'b': case 'f': case 'n': case 'r':
	case 't':
		return p + 1;
	case 'u':
		break;
	default:
		return fail(c, p, SCAN_E_ESCAPE);
	}
	if (check_hex4(c, p + 1) == NULL)
		return NULL;
	u = hex4(p + 1);
	p += 5;
	if (u < 0xd800 || u > 0xdfff)
		return p;
	if (u >= 0xdc00)
		return fail(c, bs, SCAN_E_SURROGATE);
	/* A high surrogate must be followed at once by a low one. */
	if (p == c->end)
		return fail(c, p, SCAN_E_TRUNCATED);
	if (*p != '\\')
		return fail(c, bs, SCAN_E_SURROGATE);
	if (p + 1 == c->end)
		return fail(c, p + 1, SCAN_E_TRUNCATED);
	if (p[1] != 'u')
		return fail(c, bs, SCAN_E_SURROGATE);
	if (check_hex4(c, p + 2) == NULL)
		return NULL;
	lo = hex4(p + 2);
	if (lo < 0xdc00 || lo > 0xdfff)
		return fail(c, bs, SCAN_E_SURROGATE);
	return p + 6;
}

/*
 * p is at a byte >= 0x80: check one UTF-8 sequence (RFC 3629: no
 * overlong forms, no surrogates, nothing past U+10FFFF).
 */
static const unsigned char *
utf8(struct sc *c, const unsigned char *p)
{
	const unsigned char *end = c->end;
	unsigned b0 = p[0];
	unsigned lo = 0x80, hi = 0xbf;
	int n, i;

	if (b0 >= 0xc2 && b0 <= 0xdf) {
		n = 1;
	} else if (b0 >= 0xe0 && b0 <= 0xef) {
		n = 2;
		if (b0 == 0xe0)
			lo = 0xa0;
		else if (b0 == 0xed)
			hi = 0x9f;
	} else if (b0 >= 0xf0 && b0 <= 0xf4) {
		n = 3;
		if (b0 == 0xf0)
			lo = 0x90;
		else if (b0 == 0xf4)
			hi = 0x8f;
	} else {
		return fail(c, p, SCAN_E_UTF8);
	}
	if (end - p <= n)
		return fail(c, p, SCAN_E_UTF8);
	if (p[1] < lo || p[1] > hi)
		return fail(c, p, SCAN_E_UTF8);
	for (i = 2; i <= n; i++)
		if ((p[i] & 0xc0) != 0x80)
			return fail(c, p, SCAN_E_UTF8);
	return p + n + 1;
}

#define ISDIGIT(ch) ((unsigned)(ch) - '0' < 10)

/*
 * p is at '-' or a digit.  Returns the byte after the number.  The end
 * of the text ends a number, so running out inside one ("1.", "1e", "-")
 * is an invalid number rather than a truncated text.
 */
static const unsigned char *
number(struct sc *c, const unsigned char *p)
{
	const unsigned char *end = c->end;

	if (*p == '-')
		p++;
	if (p < end && *p == '0') {
		p++;
		if (p < end && ISDIGIT(*p))
			return fail(c, p - 1, SCAN_E_LEADING_ZERO);
	} else if (p < end && ISDIGIT(*p)) {
		do
			p++;
		while (p < end && ISDIGIT(*p));
	} else {
		return fail(c, p, SCAN_E_NUMBER);
	}
	if (p < end && *p == '.') {
		if (++p == end || !ISDIGIT(*p))
			return fail(c, p, SCAN_E_NUMBER);
		do
			p++;
		while (p < end && ISDIGIT(*p));
	}
	if (p < end && (*p == 'e' || *p == 'E')) {
		if (++p < end && (*p == '+' || *p == '-'))
			p++;
		if (p == end || !ISDIGIT(*p))
			return fail(c, p, SCAN_E_NUMBER);
		do
			p++;
		while (p < end && ISDIGIT(*p));
	}
	return p;
}

static const unsigned char *
literal(struct sc *c, const unsigned char *p, const char *word, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		if (p + i == c->end)
			return fail(c, p + i, SCAN_E_TRUNCATED);
		if (p[i] != (unsigned char)word[i])
			return fail(c, p, SCAN_E_LITERAL);
	}
	return p + n;
}

/*
 * One value at p (p < end, not white space) inside depth containers.
 * Sets *kind, and *esc for a string with escapes.  Returns the byte after
 * the value.
 */
static const unsigned char *
value(struct sc *c, const unsigned char *p, int depth, unsigned char *kind,
    unsigned char *esc)
{
	switch (*p) {
	case '"':
		*kind = SCAN_STRING;
		return string_body(c, p + 1, esc);
	case '{':
		*kind = SCAN_OBJECT;
		if (depth >= SCAN_MAX_DEPTH)
			return fail(c, p, SCAN_E_DEPTH);
		return object(c, p, depth + 1, NULL);
	case '[':
		*kind = SCAN_ARRAY;
		if (depth >= SCAN_MAX_DEPTH)
			return fail(c, p, SCAN_E_DEPTH);
		return array(c, p, depth + 1);
	case 't':
		*kind = SCAN_TRUE;
		return literal(c, p, "true", 4);
	case 'f':
		*kind = SCAN_FALSE;
		return literal(c, p, "false", 5);
	case 'n':
		*kind = SCAN_NULL;
		return literal(c, p, "null", 4);
	case '-': case '0': case '1': case '2': case '3': case '4': case '5':
	case '6': case '7': case '8': case '9':
		*kind = SCAN_NUMBER;
		return number(c, p);
	default:
		if ((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z'))
			return fail(c, p, SCAN_E_LITERAL);
		if (*p == '+' || *p == '.')
			return fail(c, p, SCAN_E_NUMBER);
		return fail(c, p, SCAN_E_VALUE);
	}
}

/* Append one member to the index. */
static void
add_member(struct scan *s, const unsigned char *base,
    const unsigned char *key, const unsigned char *keyend, unsigned char kesc,
    const unsigned char *val, const unsigned char *valend, unsigned char kind,
    unsigned char vesc)
{
	struct scan_member *m;

	if (s->n == s->cap) {
		s->cap = s->cap ? s->cap * 2 : 32;
		s->m = xreallocarray(s->m, s->cap, sizeof(*s->m));
	}
	if (kesc)
		s->keys_ok = 0;
	else
		s->keys |= 1ull << key_bit((const char *)key, keyend - key);
	m = &s->m[s->n++];
	m->key = key - base;
	m->key_len = keyend - key;
	m->val = val - base;
	m->val_len = valend - val;
	m->kind = kind;
	m->key_esc = kesc;
	m->val_esc = vesc;
}

/*
 * p is at '{' of an object at the given depth.  With idx (the top-level
 * object) each member is recorded.
 */
static const unsigned char *
object(struct sc *c, const unsigned char *p, int depth, struct scan *idx)
{
	const unsigned char *end = c->end, *key, *keyend, *val;
	unsigned char kind, kesc, vesc;

	p = ws(p + 1, end);
	if (p == end)
		return fail(c, p, SCAN_E_TRUNCATED);
	if (*p == '}')
		return p + 1;
	for (;;) {
		if (*p != '"')
			return fail(c, p, SCAN_E_KEY);
		key = p + 1;
		kesc = 0;
		if ((p = string_body(c, key, &kesc)) == NULL)
			return NULL;
		keyend = p - 1;
		p = ws(p, end);
		if (p == end)
			return fail(c, p, SCAN_E_TRUNCATED);
		if (*p != ':')
			return fail(c, p, SCAN_E_COLON);
		p = ws(p + 1, end);
		if (p == end)
			return fail(c, p, SCAN_E_TRUNCATED);
		val = p;
		vesc = 0;
		if ((p = value(c, p, depth, &kind, &vesc)) == NULL)
			return NULL;
		if (idx != NULL)
			add_member(idx, c->base, key, keyend, kesc, val, p, kind,
			    vesc);
		p = ws(p, end);
		if (p == end)
			return fail(c, p, SCAN_E_TRUNCATED);
		if (*p == '}')
			return p + 1;
		if (*p != ',')
			return fail(c, p, SCAN_E_OBJ_SEP);
		p = ws(p + 1, end);
		if (p == end)
			return fail(c, p, SCAN_E_TRUNCATED);
		if (*p == '}')
			return fail(c, p, SCAN_E_TRAILING_COMMA);
	}
}

static const unsigned char *
array(struct sc *c, const unsigned char *p, int depth)
{
	const unsigned char *end = c->end;
	unsigned char kind, esc;

	p = ws(p + 1, end);
	if (p == end)
		return fail(c, p, SCAN_E_TRUNCATED);
	if (*p == ']')
		return p + 1;
	for (;;) {
		if ((p = value(c, p, depth, &kind, &esc)) == NULL)
			return NULL;
		p = ws(p, end);
		if (p == end)
			return fail(c, p, SCAN_E_TRUNCATED);
		if (*p == ']')
			return p + 1;
		if (*p != ',')
			return fail(c, p, SCAN_E_ARR_SEP);
		p = ws(p + 1, end);
		if (p == end)
			return fail(c, p, SCAN_E_TRUNCATED);
		if (*p == ']')
			return fail(c, p, SCAN_E_TRAILING_COMMA);
	}
}

/* The Bloom filter bit of a member name: its length and end bytes. */
static unsigned
key_bit(const char *k, size_t n)
{
	if (n == 0)
		return 0;
	return ((unsigned)n * 37u + (unsigned char)k[0] * 11u +
	    (unsigned char)k[n - 1]) & 63u;
}

long
scan_find(const struct scan *s, const char *buf, const char *key,
    size_t keylen)
{
	size_t i;
	const struct scan_member *m;

	if (s->keys_ok && !(s->keys >> key_bit(key, keylen) & 1))
		return -1;

	/* Backwards, so that the last of duplicate keys wins. */
	for (i = s->n; i-- > 0;) {
		m = &s->m[i];
		if (!m->key_esc) {
			/* The first byte settles most mismatches of equal length. */
			if (m->key_len == keylen && (keylen == 0 ||
			    (buf[m->key] == key[0] &&
			    memcmp(buf + m->key, key, keylen) == 0)))
				return (long)i;
		} else if (scan_streq(buf + m->key, m->key_len, key, keylen)) {
			return (long)i;
		}
	}
	return -1;
}

enum scan_kind
scan_kind_of(int ch)
{
	switch (ch) {
	case '"':
		return SCAN_STRING;
	case '{':
		return SCAN_OBJECT;
	case '[':
		return SCAN_ARRAY;
	case 't':
		return SCAN_TRUE;
	case 'f':
		return SCAN_FALSE;
	case 'n':
		return SCAN_NULL;
	default:
		return SCAN_NUMBER;
	}
}

/* Encode code point u as UTF-8 at dst; returns the length. */
static size_t
put_utf8(char *dst, unsigned long u)
{
	unsigned char *d = (unsigned char *)dst;

	if (u < 0x80) {
		d[0] = u;
		return 1;
	}
	if (u < 0x800) {
		d[0] = 0xc0 | u >> 6;
		d[1] = 0x80 | (u & 0x3f);
		return 2;
	}
	if (u < 0x10000) {
		d[0] = 0xe0 | u >> 12;
		d[1] = 0x80 | (u >> 6 & 0x3f);
		d[2] = 0x80 | (u & 0x3f);
		return 3;
	}
	d[0] = 0xf0 | u >> 18;
	d[1] = 0x80 | (u >> 12 & 0x3f);
	d[2] = 0x80 | (u >> 6 & 0x3f);
	d[3] = 0x80 | (u & 0x3f);
	return 4;
}

/*
 * Decode the escape at s (a backslash, valid) into out (at most 4 bytes;
 * an escape is never shorter than what it stands for).  Returns the
 * escape's length; *outlen gets the decoded length.
 */
static size_t
decode_escape(const char *s, char *out, size_t *outlen)
{
	const unsigned char *p = (const unsigned char *)s;
	unsigned long u, lo;

	switch (p[1]) {
	case 'b': *out = '\b'; break;
	case 'f': *out = '\f'; break;
	case 'n': *out = '\n'; break;
	case 'r': *out = '\r'; break;
	case 't': *out = '\t'; break;
	case 'u':
		u = hex4(p + 2);
		if (u >= 0xd800 && u <= 0xdbff) {
			lo = hex4(p + 8);
			u = 0x10000 + ((u - 0xd800) << 10) + (lo - 0xdc00);
			*outlen = put_utf8(out, u);
			return 12;
		}
		*outlen = put_utf8(out, u);
		return 6;
	default:
		*out = (char)p[1];
		break;
	}
	*outlen = 1;
	return 2;
}

size_t
scan_unescape(char *dst, const char *s, size_t n)
{
	const char *end = s + n, *bs;
	char *d = dst;
	size_t run, outlen;

	while (s < end) {
		bs = memchr(s, '\\', end - s);
		run = (bs != NULL ? bs : end) - s;
		memmove(d, s, run);
		d += run;
		s += run;
		if (bs == NULL)
			break;
		s += decode_escape(s, d, &outlen);
		d += outlen;
	}
	return d - dst;
}

int
scan_streq(const char *s, size_t n, const char *want, size_t wantlen)
{
	const char *end = s + n, *wend = want + wantlen;
	char tmp[4];
	size_t outlen, k;

	while (s < end) {
		if (*s != '\\') {
			if (want == wend || *s != *want)
				return 0;
			s++;
			want++;
			continue;
		}
		k = decode_escape(s, tmp, &outlen);
		if ((size_t)(wend - want) < outlen ||
		    memcmp(want, tmp, outlen) != 0)
			return 0;
		s += k;
		want += outlen;
	}
	return want == wend;
}

/* Exact powers of ten: every one up to 1e22 is a double without error. */
static const double pow10tab[] = {
	1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11,
	1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22
};

double
scan_number(const char *s, size_t n)
{
	const char *p = s, *end = s + n;
	uint64_t w = 0;
	int neg = 0, digits = 0, frac = 0;
	char tmp[64], *copy;
	double d;

	/*
	 * Clinger's fast path: with at most 15 significant digits the
	 * significand w is exact, 10^k for k <= 22 is exact, and one IEEE
	 * multiply or divide of two exact doubles rounds correctly.
	 */
	if (p < end && *p == '-') {
		neg = 1;
		p++;
	}
	while (p < end && ISDIGIT(*p)) {
		w = w * 10 + (*p++ - '0');
		digits++;
	}
	if (p < end && *p == '.') {
		p++;
		while (p < end && ISDIGIT(*p)) {
			w = w * 10 + (*p++ - '0');
			digits++;
			frac++;
		}
	}
	if (p == end && digits <= 15) {
		d = (double)w;
		if (frac > 0)
			d /= pow10tab[frac];
		return neg ? -d : d;
	}
	if (n < sizeof(tmp)) {
		copy = tmp;
	} else {
		copy = xmalloc(n + 1);
	}
	memcpy(copy, s, n);
	copy[n] = '\0';
	d = strtod(copy, NULL);
	if (copy != tmp)
		free(copy);
	return d;
}

/* s is just past an opening quote of a valid string: the byte after it. */
static const char *
skip_string(const char *s, const char *end)
{
	const char *q, *b;

	for (;;) {
		q = memchr(s, '"', end - s);
		if (q == NULL)
			return end;
		/* An odd run of backslashes before it escapes the quote. */
		b = q;
		while (b > s && b[-1] == '\\')
			b--;
		if (((q - b) & 1) == 0)
			return q + 1;
		s = q + 1;
	}
}

size_t
scan_skip(const char *s, size_t n)
{
	const char *p = s, *end = s + n;
	int depth = 0;

	switch (*p) {
	case '"':
		return skip_string(p + 1, end) - s;
	case '{':
	case '[':
		for (; p < end; p++) {
			switch (*p) {
			case '"':
				p = skip_string(p + 1, end) - 1;
				break;
			case '{':
			case '[':
				depth++;
				break;
			case '}':
			case ']':
				if (--depth == 0)
					return p + 1 - s;
				break;
			}
		}
		return n;
	default:
		while (p < end && *p != ',' && *p != ']' && *p != '}' &&
		    *p != ' ' && *p != '\t' && *p != '\n' && *p != '\r')
			p++;
		return p - s;
	}
}

/* Skip white space in valid text. */
static const char *
vws(const char *p, const char *end)
{
	while (p < end && (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r'))
		p++;
	return p;
}

int
scan_obj_get(const char *v, size_t n, const char *key, size_t keylen,
    size_t *off, size_t *len)
{
	const char *p = v, *end = v + n, *k, *kend;
	size_t vlen;
	int found = 0;

	if (n == 0 || *p != '{')
		return 0;
	p = vws(p + 1, end);
	while (p < end && *p == '"') {
		k = p + 1;
		kend = skip_string(k, end) - 1;
		p = vws(kend + 1, end);
		p = vws(p + 1, end);	/* the ':' */
		vlen = scan_skip(p, end - p);
		if (scan_streq(k, kend - k, key, keylen)) {
			*off = p - v;
			*len = vlen;
			found = 1;	/* keep going: the last one wins */
		}
		p = vws(p + vlen, end);
		if (p < end && *p == ',')
			p = vws(p + 1, end);
	}
	return found;
}

int
scan_arr_get(const char *v, size_t n, long long idx, size_t *off,
    size_t *len)
{
	const char *p = v, *end = v + n, *q;
	long long count = 0, i = 0;
	size_t vlen;

	if (n == 0 || *p != '[')
		return 0;
	if (idx < 0) {
		for (q = vws(p + 1, end); q < end && *q != ']';) {
			count++;
			q = vws(q + scan_skip(q, end - q), end);
			if (q < end && *q == ',')
				q = vws(q + 1, end);
		}
		idx += count;
		if (idx < 0)
			return 0;
	}
	p = vws(p + 1, end);
	while (p < end && *p != ']') {
		vlen = scan_skip(p, end - p);
		if (i == idx) {
			*off = p - v;
			*len = vlen;
			return 1;
		}
		i++;
		p = vws(p + vlen, end);
		if (p < end && *p == ',')
			p = vws(p + 1, end);
	}
	return 0;
}

/*
 * Duplicate member names.  Each object's names go on a stack (an object
 * nested in a member's value pushes above its parent's names and pops
 * them when done), then the object's own names are compared: pairwise
 * when few, sorted when many, so a hostile object of 100000 members costs
 * n log n, not n squared.  Escaped names are unescaped into s->names and
 * referred to by offset, since that buffer moves as it grows.
 */
struct scan_dkey {
	const char *p;		/* the name's bytes, or NULL: in s->names */
	size_t at;		/* offset in s->names when p is NULL */
	size_t len;
	size_t off;		/* offset of the opening quote in the text */
};

struct dupwalk {
	struct scan *s;
	const char *base;
	size_t hit;		/* index into s->dk of the duplicate */
};

static void
dk_push(struct scan *s, const char *k, size_t len, int esc, size_t off)
{
	struct scan_dkey *d;

	if (s->ndk == s->capdk) {
		s->capdk = s->capdk ? s->capdk * 2 : 64;
		s->dk = xreallocarray(s->dk, s->capdk, sizeof(*s->dk));
	}
	d = &s->dk[s->ndk++];
	d->off = off;
	if (!esc) {
		d->p = k;
		d->len = len;
		return;
	}
	if (s->names == NULL) {
		s->names = xmalloc(sizeof(*s->names));
		buf_init(s->names);
	}
	buf_reserve(s->names, len);
	d->p = NULL;
	d->at = s->names->len;
	d->len = scan_unescape(s->names->data + s->names->len, k, len);
	s->names->len += d->len;
}

static const char *
dk_name(const struct scan *s, const struct scan_dkey *d)
{
	return d->p != NULL ? d->p : s->names->data + d->at;
}

static int
dk_cmp(const void *a, const void *b, void *arg)
{
	const struct scan *s = arg;
	const struct scan_dkey *x = a, *y = b;
	int c;

	if (x->len != y->len)
		return x->len < y->len ? -1 : 1;
	if ((c = memcmp(dk_name(s, x), dk_name(s, y), x->len)) != 0)
		return c;
	/* Equal names in text order, so the later one is reported. */
	return x->off < y->off ? -1 : x->off > y->off;
}

/* Whether names dk[from..ndk) hold a duplicate; sets w->hit. */
static int
dk_check(struct dupwalk *w, size_t from)
{
	struct scan *s = w->s;
	struct scan_dkey *d = s->dk + from;
	size_t n = s->ndk - from, i, j;

	if (n < 2)
		return 0;
	if (n <= 32) {
		for (i = 1; i < n; i++)
			for (j = 0; j < i; j++)
				if (d[i].len == d[j].len &&
				    memcmp(dk_name(s, &d[i]), dk_name(s, &d[j]),
				    d[i].len) == 0) {
					w->hit = from + i;
					return 1;
				}
		return 0;
	}
	qsort_r(d, n, sizeof(*d), dk_cmp, s);
	for (i = 1; i < n; i++)
		if (d[i].len == d[i - 1].len && memcmp(dk_name(s, &d[i]),
		    dk_name(s, &d[i - 1]), d[i].len) == 0) {
			w->hit = from + i;
			return 1;
		}
	return 0;
}

static const char *dup_value(struct dupwalk *, const char *, const char *);

/* p at '{' of a valid object: the byte after it, or NULL on a duplicate. */
static const char *
dup_object(struct dupwalk *w, const char *p, const char *end)
{
	size_t from = w->s->ndk;
	const char *k, *kend;

	p = vws(p + 1, end);
	if (p < end && *p == '}')
		return p + 1;
	while (p < end && *p == '"') {
		k = p + 1;
		kend = skip_string(k, end) - 1;
		dk_push(w->s, k, kend - k, memchr(k, '\\', kend - k) != NULL,
		    p - w->base);
		p = vws(kend + 1, end);
		p = vws(p + 1, end);	/* the ':' */
		if ((p = dup_value(w, p, end)) == NULL)
			return NULL;
		p = vws(p, end);
		if (p < end && *p == ',')
			p = vws(p + 1, end);
		else
			break;
	}
	if (dk_check(w, from))
		return NULL;
	w->s->ndk = from;
	return p + 1;	/* the '}' */
}

/* p at a valid value: the byte after it, or NULL on a duplicate. */
static const char *
dup_value(struct dupwalk *w, const char *p, const char *end)
{
	size_t n;

	if (*p == '{')
		return dup_object(w, p, end);
	n = scan_skip(p, end - p);
	if (*p != '[' || memchr(p, '{', n) == NULL)
		return p + n;
	p = vws(p + 1, end);
	while (p < end && *p != ']') {
		if ((p = dup_value(w, p, end)) == NULL)
			return NULL;
		p = vws(p, end);
		if (p < end && *p == ',')
			p = vws(p + 1, end);
	}
	return p + 1;
}

struct scan_dslot {
	unsigned gen;		/* the record it belongs to; stale otherwise */
	unsigned idx;		/* member index + 1 */
};

/*
 * A cheap hash of a member name: its length and its first and last eight
 * bytes, multiplied through.  Names that differ only in their middle
 * collide and are told apart by the comparison, so it is exact anyway.
 */
static size_t
name_hash(const char *k, size_t n)
{
	uint64_t a = 0, b = 0, h;

	if (n >= 8) {
		memcpy(&a, k, 8);
		memcpy(&b, k + n - 8, 8);
	} else
		memcpy(&a, k, n);
	h = (a * 0x9E3779B97F4A7C15ull) ^ (b * 0xC2B2AE3D27D4EB4Full) ^ n;
	h ^= h >> 31;
	h *= 0xFF51AFD7ED558CCDull;
	return (size_t)(h ^ h >> 29);
}

/*
 * Whether two plain top-level names of s are equal, by a hash table: one
 * pass over the names whatever their number.  The Bloom word saturates
 * past a few dozen names (a feature row has over a hundred), where the
 * sort that escaped names take cost most of a tool's run.  Returns the
 * index of the second of a pair, or -1.
 */
static long
dup_top_hashed(struct scan *s, const char *buf)
{
	size_t cap = 64, mask, i, h;
	const struct scan_member *m;
	struct scan_dslot *t;

	while (cap < s->n * 2)
		cap *= 2;
	if (cap > s->capdslot) {
		free(s->dslot);
		s->dslot = xcalloc(cap, sizeof(*s->dslot));
		s->capdslot = cap;
		s->dgen = 0;
	}
	if (++s->dgen == 0) {
		memset(s->dslot, 0, s->capdslot * sizeof(*s->dslot));
		s->dgen = 1;
	}
	cap = s->capdslot;
	mask = cap - 1;
	t = s->dslot;
	for (i = 0; i < s->n; i++) {
		m = &s->m[i];
		h = name_hash(buf + m->key, m->key_len);
		for (h &= mask; t[h].gen == s->dgen; h = (h + 1) & mask) {
			const struct scan_member *o = &s->m[t[h].idx - 1];

			if (o->key_len == m->key_len && memcmp(buf + o->key,
			    buf + m->key, m->key_len) == 0)
				return (long)i;
		}
		t[h].gen = s->dgen;
		t[h].idx = (unsigned)i + 1;
	}
	return -1;
}

int
scan_dup_key(struct scan *s, const char *buf, size_t *off, const char **key,
    size_t *keylen)
{
	struct dupwalk w = { s, buf, 0 };
	const struct scan_member *m;
	const char *v;
	size_t i;

	s->ndk = 0;
	if (s->names != NULL)
		s->names->len = 0;
	/*
	 * The top level from the index, then each nested container.  The
	 * common record (a few dozen plain names) takes the Bloom bits of
	 * its names: only names whose bit was seen before are compared, so
	 * a record without duplicates costs one pass.
	 */
	if (s->keys_ok && s->n > 24) {
		long d = dup_top_hashed(s, buf);

		if (d >= 0) {
			m = &s->m[d];
			*off = m->key - 1;
			*key = buf + m->key;
			*keylen = m->key_len;
			return 1;
		}
	} else if (s->keys_ok) {
		unsigned long long seen = 0;
		unsigned b;
		size_t j;

		for (i = 0; i < s->n; i++) {
			m = &s->m[i];
			b = key_bit(buf + m->key, m->key_len);
			if (seen >> b & 1)
				for (j = 0; j < i; j++)
					if (s->m[j].key_len == m->key_len &&
					    memcmp(buf + s->m[j].key,
					    buf + m->key, m->key_len) == 0) {
						*off = m->key - 1;
						*key = buf + m->key;
						*keylen = m->key_len;
						return 1;
					}
			seen |= 1ull << b;
		}
	} else {
		for (i = 0; i < s->n; i++) {
			m = &s->m[i];
			dk_push(s, buf + m->key, m->key_len, m->key_esc,
			    m->key - 1);
		}
		if (dk_check(&w, 0))
			goto found;
		s->ndk = 0;
	}
	for (i = 0; i < s->n; i++) {
		m = &s->m[i];
		if (m->kind != SCAN_OBJECT && m->kind != SCAN_ARRAY)
			continue;
		v = buf + m->val;
		if (dup_value(&w, v, v + m->val_len) == NULL)
			goto found;
	}
	return 0;
found:
	*off = s->dk[w.hit].off;
	*key = dk_name(s, &s->dk[w.hit]);
	*keylen = s->dk[w.hit].len;
	return 1;
}
