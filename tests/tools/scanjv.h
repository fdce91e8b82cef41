/*
 * scanjv.h - the scanner's values as libjq values, for the tests that
 * compare the two parsers (tests/tools/scandiff.c, tests/fuzz/scan.c).
 * Header-only, static functions: each test program is a single file.
 */
#ifndef SCANJV_H
#define SCANJV_H

#include <stdlib.h>
#include <string.h>

#include <jv.h>

#include "scan.h"

static jv
from_span(const char *v, size_t n)
{
	char *tmp;
	size_t k, off, len, i, voff, vlen, goff, glen;
	jv a, key;

	switch (scan_kind_of(*v)) {
	case SCAN_NULL:
		return jv_null();
	case SCAN_TRUE:
		return jv_true();
	case SCAN_FALSE:
		return jv_false();
	case SCAN_NUMBER:
		return jv_number(scan_number(v, n));
	case SCAN_STRING:
		tmp = malloc(n);
		k = scan_unescape(tmp, v + 1, n - 2);
		a = jv_string_sized(tmp, (int)k);
		free(tmp);
		return a;
	case SCAN_ARRAY:
		a = jv_array();
		for (i = 0; scan_arr_get(v, n, (long long)i, &off, &len); i++)
			a = jv_array_append(a, from_span(v + off, len));
		return a;
	default:
		/* Walk the members by hand, then check scan_obj_get agrees. */
		a = jv_object();
		off = 1;
		for (;;) {
			while (strchr(" \t\r\n,", v[off]) != NULL)
				off++;
			if (v[off] != '"')
				break;
			k = scan_skip(v + off, n - off);
			tmp = malloc(k);
			len = scan_unescape(tmp, v + off + 1, k - 2);
			key = jv_string_sized(tmp, (int)len);
			voff = off + k;
			while (strchr(" \t\r\n:", v[voff]) != NULL)
				voff++;
			vlen = scan_skip(v + voff, n - voff);
			if (!scan_obj_get(v, n, tmp, len, &goff, &glen))
				abort();
			/* The last member of that name is the one found. */
			if (goff < voff)
				abort();
			free(tmp);
			a = jv_object_set(a, key, from_span(v + voff, vlen));
			off = voff + vlen;
		}
		return a;
	}
}

/* Equal kinds and values, numbers compared bit for bit; consumes both. */
static int
same(jv a, jv b)
{
	int ok = 1, i, n;
	double x, y;

	if (jv_get_kind(a) != jv_get_kind(b)) {
		ok = 0;
	} else if (jv_get_kind(a) == JV_KIND_NUMBER) {
		x = jv_number_value(a);
		y = jv_number_value(b);
		ok = memcmp(&x, &y, sizeof(x)) == 0;
	} else if (jv_get_kind(a) == JV_KIND_STRING) {
		ok = jv_string_length_bytes(jv_copy(a)) ==
		    jv_string_length_bytes(jv_copy(b)) &&
		    memcmp(jv_string_value(a), jv_string_value(b),
		    jv_string_length_bytes(jv_copy(a))) == 0;
	} else if (jv_get_kind(a) == JV_KIND_ARRAY) {
		n = jv_array_length(jv_copy(a));
		ok = n == jv_array_length(jv_copy(b));
		for (i = 0; ok && i < n; i++)
			ok = same(jv_array_get(jv_copy(a), i),
			    jv_array_get(jv_copy(b), i));
	} else if (jv_get_kind(a) == JV_KIND_OBJECT) {
		ok = jv_object_length(jv_copy(a)) == jv_object_length(jv_copy(b));
		jv_object_foreach(a, k, v) {
			if (ok)
				ok = same(v, jv_object_get(jv_copy(b), jv_copy(k)));
			else
				jv_free(v);
			jv_free(k);
		}
	}
	jv_free(a);
	jv_free(b);
	return ok;
}

/* The index of the top-level object agrees with libjq's object. */
static int
index_agrees(const struct scan *s, const char *buf, jv obj)
{
	int ok = 1;
	long i;

	jv_object_foreach(obj, k, v) {
		i = scan_find(s, buf, jv_string_value(k),
		    (size_t)jv_string_length_bytes(jv_copy(k)));
		if (i < 0)
			ok = 0;
		else if (ok)
			ok = s->m[i].kind == scan_kind_of(buf[s->m[i].val]) &&
			    same(jv_copy(v), from_span(buf + s->m[i].val,
			    s->m[i].val_len));
		jv_free(k);
		jv_free(v);
	}
	jv_free(obj);
	return ok;
}

/*
 * Whether libjq 1.6 is known to accept the text t[0..n) that the scanner
 * rejected as s->err.  libjq is lax here, by design or by bug: it
 * replaces bad UTF-8 and lone surrogates with U+FFFD, reads numbers with
 * strtod (01, 1., .5, +1, -nan), takes nan and infinity literals, a byte
 * order mark and \f or \v as white space, raw 0x1f inside strings (its
 * control check is off by one), with a NUL byte anywhere it may stop
 * reading, and jv_parse_sized ignores an unfinished second value after
 * the first ("1 [2", "{} {").
 */
static int
jq_lax(const struct scan *s, const char *t, size_t n)
{
	if (memchr(t, 0, n) != NULL)
		return 1;
	switch (s->err) {
	case SCAN_E_UTF8:
	case SCAN_E_SURROGATE:
	case SCAN_E_NUMBER:
	case SCAN_E_LEADING_ZERO:
	case SCAN_E_LITERAL:
	case SCAN_E_VALUE:
	case SCAN_E_EXTRA:
		return 1;
	case SCAN_E_CONTROL:
		return s->err_off < n && t[s->err_off] == 0x1f;
	default:
		return 0;
	}
}

#endif
