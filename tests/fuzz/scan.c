/*
 * fuzz/scan.c - libFuzzer target for common/scan.c, differential three
 * ways: the scanner must accept exactly what a plain, slow, obviously
 * strict recursive-descent validator written here accepts; whatever it
 * accepts libjq 1.6 must accept too, with equal values (numbers bit for
 * bit, strings byte for byte, duplicate keys last-wins), found through the
 * member index and the lazy span walkers; and where libjq accepts what
 * both strict validators reject, the scanner's reason must be one of the
 * documented places where libjq 1.6 is lax.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jv.h>

#include "scan.h"
#include "../tools/scanjv.h"

int LLVMFuzzerTestOneInput(const uint8_t *, size_t);
const char *__lsan_default_suppressions(void);

/*
 * libjq 1.6 leaks a token buffer on some parse errors; that is not ours
 * to find, so leak reports whose stack is inside libjq are suppressed.
 */
const char *
__lsan_default_suppressions(void)
{
	return "leak:libjq.so\n";
}

/* ---- the reference validator: byte by byte, recursive, no speed ---- */

struct ref {
	const uint8_t *s;
	size_t n;
	size_t i;
};

static int ref_value(struct ref *, int depth);

static int
ref_peek(struct ref *r)
{
	return r->i < r->n ? r->s[r->i] : -1;
}

static void
ref_ws(struct ref *r)
{
	int c;

	while ((c = ref_peek(r)) == ' ' || c == '\t' || c == '\n' || c == '\r')
		r->i++;
}

static int
ref_hex(int c)
{
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') ||
	    (c >= 'A' && c <= 'F');
}

/* \uXXXX at r->i (after the backslash and 'u'); the code unit or -1. */
static long
ref_u4(struct ref *r)
{
	long u = 0;
	int k, c;

	for (k = 0; k < 4; k++) {
		c = ref_peek(r);
		if (c < 0 || !ref_hex(c))
			return -1;
		u = u * 16 + (c <= '9' ? c - '0' : (c | 0x20) - 'a' + 10);
		r->i++;
	}
	return u;
}

/* Decode one UTF-8 scalar value and check it is the shortest form. */
static int
ref_utf8(struct ref *r)
{
	int c = ref_peek(r), len, k;
	long cp, min;

	if (c < 0x80)
		return 0;
	if ((c & 0xe0) == 0xc0)
		len = 2, cp = c & 0x1f, min = 0x80;
	else if ((c & 0xf0) == 0xe0)
		len = 3, cp = c & 0x0f, min = 0x800;
	else if ((c & 0xf8) == 0xf0)
		len = 4, cp = c & 0x07, min = 0x10000;
	else
		return 0;
	r->i++;
	for (k = 1; k < len; k++) {
		c = ref_peek(r);
		if (c < 0 || (c & 0xc0) != 0x80)
			return 0;
		cp = cp << 6 | (c & 0x3f);
		r->i++;
	}
	return cp >= min && cp <= 0x10ffff && !(cp >= 0xd800 && cp <= 0xdfff);
}

static int
ref_string(struct ref *r)
{
	int c;
	long u, lo;

	r->i++;
	for (;;) {
		c = ref_peek(r);
		if (c < 0 || c < 0x20)
			return 0;
		if (c == '"') {
			r->i++;
			return 1;
		}
		if (c >= 0x80) {
			if (!ref_utf8(r))
				return 0;
			continue;
		}
		r->i++;
		if (c != '\\')
			continue;
		c = ref_peek(r);
		r->i++;
		if (c < 0 || strchr("\"\\/bfnrtu", c) == NULL || c == 0)
			return 0;
		if (c != 'u')
			continue;
		if ((u = ref_u4(r)) < 0)
			return 0;
		if (u >= 0xdc00 && u <= 0xdfff)
			return 0;
		if (u >= 0xd800 && u <= 0xdbff) {
			if (ref_peek(r) != '\\')
				return 0;
			r->i++;
			if (ref_peek(r) != 'u')
				return 0;
			r->i++;
			lo = ref_u4(r);
			if (lo < 0xdc00 || lo > 0xdfff)
				return 0;
		}
	}
}

static int
ref_digits(struct ref *r)
{
	size_t start = r->i;

	while (ref_peek(r) >= '0' && ref_peek(r) <= '9')
		r->i++;
	return r->i > start;
}

static int
ref_number(struct ref *r)
{
	if (ref_peek(r) == '-')
		r->i++;
	if (ref_peek(r) == '0')
		r->i++;
	else if (!ref_digits(r))
		return 0;
	if (ref_peek(r) == '.') {
		r->i++;
		if (!ref_digits(r))
			return 0;
	}
	if (ref_peek(r) == 'e' || ref_peek(r) == 'E') {
		r->i++;
		if (ref_peek(r) == '+' || ref_peek(r) == '-')
			r->i++;
		if (!ref_digits(r))
			return 0;
	}
	return 1;
}

static int
ref_word(struct ref *r, const char *w)
{
	size_t n = strlen(w);

	if (r->n - r->i < n || memcmp(r->s + r->i, w, n) != 0)
		return 0;
	r->i += n;
	return 1;
}

static int
ref_value(struct ref *r, int depth)
{
	int c = ref_peek(r), first;

	switch (c) {
	case '"':
		return ref_string(r);
	case 't':
		return ref_word(r, "true");
	case 'f':
		return ref_word(r, "false");
	case 'n':
		return ref_word(r, "null");
	case '[':
	case '{':
		if (depth + 1 > SCAN_MAX_DEPTH)
			return 0;
		r->i++;
		for (first = 1;; first = 0) {
			ref_ws(r);
			if (first && ref_peek(r) == (c == '[' ? ']' : '}')) {
				r->i++;
				return 1;
			}
			if (c == '{') {
				if (ref_peek(r) != '"' || !ref_string(r))
					return 0;
				ref_ws(r);
				if (ref_peek(r) != ':')
					return 0;
				r->i++;
				ref_ws(r);
			}
			if (!ref_value(r, depth + 1))
				return 0;
			ref_ws(r);
			if (ref_peek(r) == ',') {
				r->i++;
				continue;
			}
			if (ref_peek(r) == (c == '[' ? ']' : '}')) {
				r->i++;
				return 1;
			}
			return 0;
		}
	default:
		if (c == '-' || (c >= '0' && c <= '9'))
			return ref_number(r);
		return 0;
	}
}

static int
ref_text(const uint8_t *s, size_t n)
{
	struct ref r = { s, n, 0 };

	ref_ws(&r);
	if (!ref_value(&r, 0))
		return 0;
	ref_ws(&r);
	return r.i == n;
}


int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct scan s;
	const char *buf = (const char *)data;
	int r_ok, s_ok;
	jv v;

	if (size > 1 << 20)
		return 0;
	r_ok = ref_text(data, size);
	s_ok = scan_text(&s, buf, size);
	if (r_ok != s_ok) {
		fprintf(stderr, "scanner %s, reference %s (%s at %zu)\n",
		    s_ok ? "accepts" : "rejects", r_ok ? "accepts" : "rejects",
		    scan_strerror(s.err), s.err_off);
		abort();
	}
	v = jv_parse_sized(buf, (int)size);
	if (s_ok) {
		if (!jv_is_valid(v)) {
			fprintf(stderr, "libjq rejects what the scanner accepts\n");
			abort();
		}
		if (!same(jv_copy(v), from_span(buf + s.val, s.val_len))) {
			fprintf(stderr, "values differ\n");
			abort();
		}
		if (s.kind == SCAN_OBJECT && !index_agrees(&s, buf, jv_copy(v))) {
			fprintf(stderr, "index differs\n");
			abort();
		}
	} else if (jv_is_valid(v)) {
		if (!jq_lax(&s, buf, size)) {
			fprintf(stderr, "libjq accepts what the scanner rejects "
			    "as %s at %zu\n", scan_strerror(s.err), s.err_off);
			abort();
		}
	}
	jv_free(v);
	return 0;
}
