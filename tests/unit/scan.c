/*
 * Unit tests of common/scan.c: conformance cases over the ground of the
 * public JSON test suites (must accept, must reject, and each
 * implementation-defined decision pinned), error columns, the member
 * index, lazy value access and exact number conversion.
 */
#include <float.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "asin.h"
#include "scan.h"
#include "tap.h"

/* A text with its length (NUL bytes allowed), the verdict and column. */
struct tcase {
	const char *s;
	size_t n;		/* 0: strlen(s) */
	enum scan_err err;	/* SCAN_OK: must accept */
	size_t col;		/* 1-based column of the error */
};

#define Y(s) { s, 0, SCAN_OK, 0 }
#define N(s, e, c) { s, 0, e, c }
#define NZ(s, e, c) { s, sizeof(s) - 1, e, c }

/* Must accept (JSONTestSuite y_ ground). */
static const struct tcase accept[] = {
	Y("{}"), Y("[]"), Y("\"\""), Y("0"), Y("-0"), Y("-0.0"), Y("1"),
	Y("-1"), Y("123"), Y("1.5"), Y("0.5"), Y("1e5"), Y("1E5"), Y("1e+5"),
	Y("1e-5"), Y("1.5E+10"), Y("0e0"), Y("-0e-0"), Y("1e400"),
	Y("-1e400"), Y("1e-400"), Y("123456789012345678901234567890"),
	Y("true"), Y("false"), Y("null"), Y(" \t\r\n{} \t\r\n"),
	Y("[1,2,3]"), Y("[ 1 , 2 ]"), Y("[[[]]]"), Y("[{}]"),
	Y("{\"a\":1}"), Y("{ \"a\" : 1 , \"b\" : [ ] }"),
	Y("{\"\":0}"), Y("{\"a\":1,\"a\":2}"), Y("[\"\\u0000\"]"),
	Y("\"\\\" \\\\ \\/ \\b \\f \\n \\r \\t\""), Y("\"\\u00e9\\u00E9\""),
	Y("\"\\ud83d\\ude00\""), Y("\"\\uDBFF\\uDFFF\""), Y("\"\\uffff\""),
	Y("\"\\ufdd0\""), Y("\"\x7f\""), Y("\"\xc2\x80\""),
	Y("\"\xdf\xbf\""), Y("\"\xe0\xa0\x80\""), Y("\"\xed\x9f\xbf\""),
	Y("\"\xee\x80\x80\""), Y("\"\xef\xbf\xbf\""),
	Y("\"\xf0\x90\x80\x80\""), Y("\"\xf4\x8f\xbf\xbf\""),
	Y("\"\xe6\x97\xa5\xe6\x9c\xac\""),
	Y("{\"a\":{\"b\":[1,{\"c\":null}]},\"d\":\"x\"}"),
	Y("[1e1,0.1e1,-1E-1,1E+1]"), Y("\"a/*b*/\""),
	Y("{\"title\":\"15.6\\\" screen\"}"),
};

/* Must reject (n_ ground), with the reason and its column. */
static const struct tcase reject[] = {
	N("", SCAN_E_EMPTY, 1), N("  ", SCAN_E_EMPTY, 3),
	N("{", SCAN_E_TRUNCATED, 2), N("[", SCAN_E_TRUNCATED, 2),
	N("[1", SCAN_E_TRUNCATED, 3), N("[1,", SCAN_E_TRUNCATED, 4),
	N("{\"a\"", SCAN_E_TRUNCATED, 5), N("{\"a\":", SCAN_E_TRUNCATED, 6),
	N("{\"a\":1", SCAN_E_TRUNCATED, 7), N("\"abc", SCAN_E_TRUNCATED, 5),
	N("\"abc\\", SCAN_E_TRUNCATED, 6), N("\"\\u12", SCAN_E_TRUNCATED, 6),
	N("tru", SCAN_E_TRUNCATED, 4), N("nul", SCAN_E_TRUNCATED, 4),
	N("[1,]", SCAN_E_TRAILING_COMMA, 4),
	N("{\"a\":1,}", SCAN_E_TRAILING_COMMA, 8),
	N("[,1]", SCAN_E_VALUE, 2), N("[1,,2]", SCAN_E_VALUE, 4),
	N("[1 2]", SCAN_E_ARR_SEP, 4), N("{\"a\":1 \"b\":2}", SCAN_E_OBJ_SEP, 8),
	N("{\"a\" 1}", SCAN_E_COLON, 6), N("{\"a\"=1}", SCAN_E_COLON, 5),
	N("{1:2}", SCAN_E_KEY, 2), N("{a:1}", SCAN_E_KEY, 2),
	N("{'a':1}", SCAN_E_KEY, 2), N("{,}", SCAN_E_KEY, 2),
	N("[1]]", SCAN_E_EXTRA, 4), N("{}}", SCAN_E_EXTRA, 3),
	N("1 2", SCAN_E_EXTRA, 3), N("{} {}", SCAN_E_EXTRA, 4),
	N("\"a\"b", SCAN_E_EXTRA, 4), N("]", SCAN_E_VALUE, 1),
	N("}", SCAN_E_VALUE, 1), N(":", SCAN_E_VALUE, 1),
	N("'a'", SCAN_E_VALUE, 1),
	/* numbers */
	N("01", SCAN_E_LEADING_ZERO, 1), N("-01", SCAN_E_LEADING_ZERO, 2),
	N("[00]", SCAN_E_LEADING_ZERO, 2), N("1.", SCAN_E_NUMBER, 3),
	N("[1.]", SCAN_E_NUMBER, 4), N(".5", SCAN_E_NUMBER, 1),
	N("+1", SCAN_E_NUMBER, 1), N("-", SCAN_E_NUMBER, 2),
	N("--1", SCAN_E_NUMBER, 2), N("- 1", SCAN_E_NUMBER, 2),
	N("1e", SCAN_E_NUMBER, 3), N("1e+", SCAN_E_NUMBER, 4),
	N("1E-x", SCAN_E_NUMBER, 4), N("1.e5", SCAN_E_NUMBER, 3),
	N("0x10", SCAN_E_EXTRA, 2), N("1.5e3.2", SCAN_E_EXTRA, 6),
	N("1true", SCAN_E_EXTRA, 2), N("[-]", SCAN_E_NUMBER, 3),
	N("[1e1.5]", SCAN_E_ARR_SEP, 5), N("\xef\xbc\x91", SCAN_E_VALUE, 1),
	/* literals, where libjq 1.6 is lax about nan and infinity */
	N("nan", SCAN_E_LITERAL, 1), N("NaN", SCAN_E_LITERAL, 1),
	N("-nan", SCAN_E_NUMBER, 2), N("infinity", SCAN_E_LITERAL, 1),
	N("Infinity", SCAN_E_LITERAL, 1), N("-Infinity", SCAN_E_NUMBER, 2),
	N("True", SCAN_E_LITERAL, 1), N("nulL", SCAN_E_LITERAL, 1),
	N("truefalse", SCAN_E_EXTRA, 5), N("[true1]", SCAN_E_ARR_SEP, 6),
	N("undefined", SCAN_E_LITERAL, 1),
	/* strings */
	N("\"\\x41\"", SCAN_E_ESCAPE, 3), N("\"\\U0041\"", SCAN_E_ESCAPE, 3),
	N("\"\\u12G4\"", SCAN_E_ESCAPE, 6), N("\"\\'\"", SCAN_E_ESCAPE, 3),
	N("\"\\a\"", SCAN_E_ESCAPE, 3), N("\"\\0\"", SCAN_E_ESCAPE, 3),
	N("\"\\ud800\"", SCAN_E_SURROGATE, 2),
	N("\"\\udc00\"", SCAN_E_SURROGATE, 2),
	N("\"\\udfff\\ud800\"", SCAN_E_SURROGATE, 2),
	N("\"a\\ud800x\"", SCAN_E_SURROGATE, 3),
	N("\"\\ud800\\n\"", SCAN_E_SURROGATE, 2),
	N("\"\\ud800\\u0041\"", SCAN_E_SURROGATE, 2),
	N("\"\\ud800\\ud800\"", SCAN_E_SURROGATE, 2),
	N("\"\\ud800", SCAN_E_TRUNCATED, 8),
	N("\"\t\"", SCAN_E_CONTROL, 2), N("\"a\nb\"", SCAN_E_CONTROL, 3),
	N("\"\x1f\"", SCAN_E_CONTROL, 2), NZ("\"\0\"", SCAN_E_CONTROL, 2),
	N("[\"0123456789abcdef0123456789\x01\"]", SCAN_E_CONTROL, 29),
	/* UTF-8 */
	N("\"\x80\"", SCAN_E_UTF8, 2), N("\"\xbf\"", SCAN_E_UTF8, 2),
	N("\"\xc0\x80\"", SCAN_E_UTF8, 2), N("\"\xc1\xbf\"", SCAN_E_UTF8, 2),
	N("\"\xc2\"", SCAN_E_UTF8, 2), N("\"\xc2\x41\"", SCAN_E_UTF8, 2),
	N("\"\xe0\x80\x80\"", SCAN_E_UTF8, 2),
	N("\"\xe0\x9f\xbf\"", SCAN_E_UTF8, 2),
	N("\"\xed\xa0\x80\"", SCAN_E_UTF8, 2),
	N("\"\xed\xbf\xbf\"", SCAN_E_UTF8, 2),
	N("\"\xf0\x80\x80\x80\"", SCAN_E_UTF8, 2),
	N("\"\xf0\x8f\xbf\xbf\"", SCAN_E_UTF8, 2),
	N("\"\xf4\x90\x80\x80\"", SCAN_E_UTF8, 2),
	N("\"\xf5\x80\x80\x80\"", SCAN_E_UTF8, 2),
	N("\"\xff\"", SCAN_E_UTF8, 2), N("\"\xfe\xff\"", SCAN_E_UTF8, 2),
	N("\"\xe6\x97\"", SCAN_E_UTF8, 2), N("\"\xe6\x97", SCAN_E_UTF8, 2),
	N("\"\xf0\x9f\x98\"", SCAN_E_UTF8, 2),
	N("\"0123456789abcdefgh\xe6\x97\xa5\xe6\x97\"", SCAN_E_UTF8, 23),
	N("[\xc3\xa9]", SCAN_E_VALUE, 2),
	/* white space JSON does not have, a BOM, NUL, comments */
	N("\xef\xbb\xbf{}", SCAN_E_VALUE, 1), N("\f1", SCAN_E_VALUE, 1),
	N("\v1", SCAN_E_VALUE, 1), N("[1,\xc2\xa0 2]", SCAN_E_VALUE, 4),
	NZ("{}\0", SCAN_E_EXTRA, 3), NZ("\0{}", SCAN_E_VALUE, 1),
	N("[1]//c", SCAN_E_EXTRA, 4), N("/*c*/1", SCAN_E_VALUE, 1),
};

static void
test_cases(void)
{
	struct scan s;
	char what[200], msg[200];
	size_t i, n;
	int ok;

	scan_init(&s);
	for (i = 0; i < sizeof(accept) / sizeof(accept[0]); i++) {
		n = accept[i].n ? accept[i].n : strlen(accept[i].s);
		ok = scan_text(&s, accept[i].s, n);
		snprintf(what, sizeof(what), "accept #%zu", i);
		if (!tap_ok(ok, what)) {
			scan_errmsg(&s, msg, sizeof(msg));
			printf("#   %s\n", msg);
		}
	}
	for (i = 0; i < sizeof(reject) / sizeof(reject[0]); i++) {
		n = reject[i].n ? reject[i].n : strlen(reject[i].s);
		ok = scan_text(&s, reject[i].s, n);
		snprintf(what, sizeof(what), "reject #%zu: %s at column %zu",
		    i, scan_strerror(reject[i].err), reject[i].col);
		if (!tap_ok(!ok && s.err == reject[i].err &&
		    s.err_off + 1 == reject[i].col, what)) {
			if (ok)
				printf("#   accepted\n");
			else
				printf("#   got %s at column %zu\n",
				    scan_strerror(s.err), s.err_off + 1);
		}
	}
	scan_free(&s);
}

/* Depth: 256 nested containers pass (as in libjq 1.6), 257 do not. */
static void
test_depth(void)
{
	struct scan s;
	char buf[2 * 600 + 16];
	int d, ok;

	scan_init(&s);
	for (d = 255; d <= 258; d++) {
		memset(buf, '[', d);
		memset(buf + d, ']', d);
		ok = scan_text(&s, buf, 2 * d);
		if (d <= SCAN_MAX_DEPTH)
			tap_ok(ok, d == 256 ? "depth 256 arrays accepted" :
			    "depth 255 arrays accepted");
		else
			tap_ok(!ok && s.err == SCAN_E_DEPTH &&
			    s.err_off == SCAN_MAX_DEPTH, d == 257 ?
			    "depth 257 arrays rejected at column 257" :
			    "depth 258 arrays rejected at column 257");
	}
	/* Mixed, inside the indexed top-level object. */
	strcpy(buf, "{\"a\":");
	for (d = 1; d < 256; d++)
		strcat(buf, d & 1 ? "[" : "{\"k\":");
	strcat(buf, "1");
	for (d = 255; d >= 1; d--)
		strcat(buf, d & 1 ? "]" : "}");
	strcat(buf, "}");
	tap_ok(scan_text(&s, buf, strlen(buf)), "depth 256 mixed accepted");
	memset(buf, 0, sizeof(buf));
	for (d = 0; d < 600; d++)
		buf[d] = '[';
	tap_ok(!scan_text(&s, buf, 600) && s.err == SCAN_E_DEPTH,
	    "depth 600 unclosed: depth error before truncation");
	scan_free(&s);
}

static void
test_errmsg(void)
{
	struct scan s;
	char msg[100];
	const char *t = "{\"asin\":\"B0\",\"x\":\"\\q\"}";

	scan_init(&s);
	scan_text(&s, t, strlen(t));
	scan_errmsg(&s, msg, sizeof(msg));
	tap_str(msg, "invalid JSON at column 20: invalid escape",
	    "error message names the column");
	scan_free(&s);
}

static void
test_index(void)
{
	struct scan s;
	const char *t = " {\"asin\":\"B0X\", \"price\" : 7.80,\"t\\u0069tle\":"
	    "\"15.6\\\" \\u00e9\",\"n\":null,\"a\":[1,{\"b\":[10,20,30]}],"
	    "\"price\":8,\"o\":{\"k\":1,\"k\":2},\"ok\":true} ";
	char buf[64];
	size_t n, off, len;
	long i;
	const struct scan_member *m;

	scan_init(&s);
	tap_ok(scan_text(&s, t, strlen(t)), "record scans");
	tap_ok(s.kind == SCAN_OBJECT && s.n == 8, "8 members indexed");
	tap_ok(s.val == 1 && s.val_len == strlen(t) - 2, "top-level span");
	i = scan_find(&s, t, "asin", 4);
	tap_ok(i == 0 && s.m[0].kind == SCAN_STRING && !s.m[0].val_esc &&
	    s.m[0].val_len == 5 && memcmp(t + s.m[0].val, "\"B0X\"", 5) == 0,
	    "asin: string span with quotes, no escapes");
	i = scan_find(&s, t, "price", 5);
	tap_ok(i == 5, "duplicate key: the last one wins");
	tap_ok(scan_number(t + s.m[i].val, s.m[i].val_len) == 8.0,
	    "duplicate key: value of the last");
	i = scan_find(&s, t, "title", 5);
	tap_ok(i == 2 && s.m[2].key_esc && s.m[2].val_esc,
	    "escaped key found by its unescaped name");
	m = &s.m[2];
	n = scan_unescape(buf, t + m->val + 1, m->val_len - 2);
	tap_ok(n == 8 && memcmp(buf, "15.6\" \xc3\xa9", 8) == 0,
	    "string unescaped on request");
	tap_ok(scan_find(&s, t, "titlex", 6) == -1 &&
	    scan_find(&s, t, "titl", 4) == -1 && scan_find(&s, t, "", 0) == -1,
	    "absent keys");
	i = scan_find(&s, t, "n", 1);
	tap_ok(s.m[i].kind == SCAN_NULL, "null kind");
	i = scan_find(&s, t, "a", 1);
	m = &s.m[i];
	tap_ok(m->kind == SCAN_ARRAY, "array kind");
	tap_ok(scan_arr_get(t + m->val, m->val_len, 1, &off, &len) &&
	    scan_obj_get(t + m->val + off, len, "b", 1, &off, &len),
	    ".a[1].b located");
	{
		const char *b = t + m->val + 1 + 2 + 5;	/* [10,20,30] */
		size_t o2, l2;

		tap_ok(scan_arr_get(b, 10, -1, &o2, &l2) && l2 == 2 &&
		    memcmp(b + o2, "30", 2) == 0, ".b[-1] is the last");
		tap_ok(!scan_arr_get(b, 10, 3, &o2, &l2) &&
		    !scan_arr_get(b, 10, -4, &o2, &l2), "out of range");
	}
	i = scan_find(&s, t, "o", 1);
	m = &s.m[i];
	tap_ok(scan_obj_get(t + m->val, m->val_len, "k", 1, &off, &len) &&
	    t[m->val + off] == '2', "nested duplicate key: the last wins");
	tap_ok(!scan_text(&s, "{\"a\":1,}", 8) && s.n == 0,
	    "a failed scan leaves no index");
	tap_ok(scan_text(&s, "[1]", 3) && s.n == 0 && s.kind == SCAN_ARRAY,
	    "non-object top level: kind, no members");
	scan_free(&s);
}

static void
test_unescape(void)
{
	char buf[64];
	size_t n;
	const char *e = "a\\u0000b\\ud83d\\ude00\\/\\\\\\\"\\b\\f\\n\\r\\t\\u20AC";

	n = scan_unescape(buf, e, strlen(e));
	tap_ok(n == 18 && memcmp(buf, "a\0b\xf0\x9f\x98\x80/\\\"\b\f\n\r\t"
	    "\xe2\x82\xac", 18) == 0, "every escape, \\u0000 is a NUL byte");
	tap_ok(scan_streq(e, strlen(e), buf, n), "streq on escapes");
	tap_ok(!scan_streq(e, strlen(e), buf, n - 1), "streq shorter");
	tap_ok(!scan_streq("ab", 2, "abc", 3) && !scan_streq("abc", 3, "ab", 2),
	    "streq lengths");
	tap_ok(scan_skip("\"a\\\\\"]", 6) == 5, "skip: escaped backslash");
	tap_ok(scan_skip("\"a\\\"b\"]", 7) == 6, "skip: escaped quote");
	tap_ok(scan_skip("{\"}\":[\"]\"]},1", 13) == 11, "skip: brackets in strings");
	tap_ok(scan_skip("-1.5e3,", 7) == 6, "skip: number");
}

/* Numbers: exact, correctly rounded, against glibc strtod. */
static void
test_numbers(void)
{
	static const char *const nums[] = {
		"0", "-0", "7.80", "7499.00", "0.1", "0.3", "123456789012345",
		"1234567890123456", "12345678901234567890", "9007199254740993",
		"2.2250738585072011e-308", "2.2250738585072012e-308",
		"4.9e-324", "2.4e-324", "2.5e-324", "1e-400", "1.7976931348623157e308",
		"1.7976931348623158e308", "1.7976931348623159e308", "1e23",
		"8.589973e9", "0.000001", "100000000000000000000000",
		"3.141592653589793238462643383279", "-5e-1", "1E22", "1e-22",
		"0.9999999999999999", "99999999999999.99",
		"0.000000000000000000000000000000000000001",
	};
	uint64_t state = 0x9e3779b97f4a7c15ull, r;
	char buf[64], what[100];
	size_t i;
	int bad = 0, j;
	double want, got;

	for (i = 0; i < sizeof(nums) / sizeof(nums[0]); i++) {
		want = strtod(nums[i], NULL);
		got = scan_number(nums[i], strlen(nums[i]));
		snprintf(what, sizeof(what), "number %s", nums[i]);
		tap_ok(memcmp(&got, &want, sizeof(got)) == 0, what);
	}
	tap_ok(signbit(scan_number("-0", 2)), "-0 keeps its sign");
	tap_ok(scan_number("1e400", 5) == HUGE_VAL &&
	    scan_number("-1e400", 6) == -HUGE_VAL, "beyond range: infinity");
	/* Random short decimals through the fast path and beyond it. */
	for (i = 0; i < 200000; i++) {
		state ^= state << 13;
		state ^= state >> 7;
		state ^= state << 17;
		r = state;
		j = snprintf(buf, sizeof(buf), "%s%llu.%0*llu",
		    r & 1 ? "-" : "", (unsigned long long)(r >> 40),
		    (int)(r >> 1 & 15) + 1,
		    (unsigned long long)((r >> 5) % 10000000000ull));
		if (i & 1)
			j += snprintf(buf + j, sizeof(buf) - j, "e%d",
			    (int)(r >> 20 & 63) - 32);
		want = strtod(buf, NULL);
		got = scan_number(buf, j);
		if (memcmp(&got, &want, sizeof(got)) != 0 && bad++ < 5)
			printf("#   %s: got %.17g want %.17g\n", buf, got, want);
	}
	tap_ok(bad == 0, "200000 random decimals equal strtod bit for bit");
}

int
main(void)
{
	test_cases();
	test_depth();
	test_errmsg();
	test_index();
	test_unescape();
	test_numbers();
	return tap_done();
}
