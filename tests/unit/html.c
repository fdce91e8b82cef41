/*
 * Unit tests of common/html.c: escaping (markup, quotes, bad UTF-8,
 * control bytes, cutting at a character limit), numbers for people,
 * currencies, axis ticks and the compact sparkline path.
 */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "asin.h"
#include "html.h"
#include "tap.h"

static void
check_esc(const char *in, size_t n, const char *want, size_t wantbad,
    const char *what)
{
	struct buf b;
	size_t bad;

	buf_init(&b);
	bad = html_esc(&b, in, n);
	buf_adds(&b, "");
	tap_str(b.data, want, what);
	tap_ok(bad == wantbad, "replacement count");
	buf_free(&b);
}

static void
test_esc(void)
{
	struct buf b;

	check_esc("<script>alert(\"x\")</script>", 27,
	    "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;", 0,
	    "markup becomes text");
	check_esc("Bob's & co", 10, "Bob&#39;s &amp; co", 0,
	    "both quotes and ampersand");
	check_esc("a\xff" "b", 3, "a\xef\xbf\xbd" "b", 1,
	    "a stray byte becomes U+FFFD");
	check_esc("\xc3(", 2, "\xef\xbf\xbd(", 1, "a cut sequence");
	check_esc("\xe0\x80\xaf", 3, "\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd", 3,
	    "an overlong form, byte by byte");
	check_esc("\xed\xa0\x80", 3, "\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd", 3,
	    "an encoded surrogate");
	check_esc("x\0y\x01\x7f", 5,
	    "x\xef\xbf\xbdy\xef\xbf\xbd\xef\xbf\xbd", 3,
	    "NUL, C0 and DEL");
	check_esc("t\tn\nr\r", 6, "t\tn\nr\r", 0, "white space kept");
	check_esc("sp\xc3\xbcl \xe2\x82\xac \xf0\x9f\x98\x80", 14,
	    "sp\xc3\xbcl \xe2\x82\xac \xf0\x9f\x98\x80", 0,
	    "good UTF-8 of every length kept");

	buf_init(&b);
	tap_ok(html_esc_max(&b, "\xc3\xa4" "bcdef", 7, 3) == 1, "cut");
	buf_adds(&b, "");
	tap_str(b.data, "\xc3\xa4" "bc\xe2\x80\xa6", "cut at 3 characters");
	b.len = 0;
	tap_ok(html_esc_max(&b, "abc", 3, 3) == 0, "no cut at the limit");
	buf_adds(&b, "");
	tap_str(b.data, "abc", "whole");
	buf_free(&b);
}

static void
test_numbers(void)
{
	char d[HTML_NUMLEN];

	tap_str(html_num(d, 1234567.891, 2, 0), "1,234,567.89", "thousands");
	tap_str(html_num(d, -1234, 0, 0), "-1,234", "negative");
	tap_str(html_num(d, 999, 0, 0), "999", "no separator below 1000");
	tap_str(html_num(d, 12, 0, 1), "+12", "sign");
	tap_str(html_num(d, -0.001, 2, 1), "0.00", "no minus zero");
	tap_str(html_num(d, 0, 2, 1), "0.00", "no plus zero");
	tap_str(html_pct(d, 0.0727, 2, 1), "+7.27%", "percentage");
	tap_str(html_pct(d, -0.5, 0, 0), "-50%", "negative percentage");
	tap_str(html_money(d, 1999.5, "US"), "$1,999.50", "dollars");
	tap_str(html_money(d, 19.99, "DE"), "\xe2\x82\xac" "19.99", "euros");
	tap_str(html_money(d, 1999, "JP"), "\xc2\xa5" "1,999",
	    "yen without decimals");
	tap_str(html_money(d, -5, "GB"), "-\xc2\xa3" "5.00", "negative pounds");
	tap_str(html_money(d, 5, "XX"), "5.00", "unknown marketplace");
	tap_str(html_money(d, 5, NULL), "5.00", "no marketplace");
	tap_str(html_sig(d, 0.021990049), "0.02199", "4 significant digits");
	tap_str(html_sig(d, 123456.7), "123,457", "large: whole number");
}

static void
test_ticks(void)
{
	double t[12], lo = -0.1423, hi = 0.6534;
	size_t n = html_ticks(&lo, &hi, 7, t);

	tap_ok(n == 6 && t[0] == -0.2 && t[1] == 0 &&
	    fabs(t[5] - 0.8) < 1e-12 && lo == -0.2 && hi == t[5],
	    "ticks -0.2 to 0.8 by 0.2, 0 exact");
	lo = 1;
	hi = 20;
	n = html_ticks(&lo, &hi, 11, t);
	tap_ok(n == 11 && t[0] == 0 && t[10] == 20, "ticks 0 to 20 by 2");
	lo = 0;
	hi = 1;
	n = html_ticks(&lo, &hi, 6, t);
	tap_ok(n == 6 && fabs(t[3] - 0.6) < 1e-12, "ticks 0 to 1 by 0.2");
}

static void
test_spark(void)
{
	struct buf b;
	int x[] = { 0, 1, 2, 3, 4, 5, 6 };
	double y[] = { 1, 1, 1, 2, NAN, 3, 3 };
	double one[] = { NAN, 2, NAN };

	buf_init(&b);
	tap_ok(html_spark_path(&b, x, y, 7, 7, 11, 1, 3, 0) == 6,
	    "points drawn");
	buf_adds(&b, "");
	tap_str(b.data, "m0 10h2l1-5m2-5h1",
	    "flat runs as h, a gap as m, up is up");
	b.len = 0;
	html_spark_path(&b, x, y, 4, 7, 11, 1, 3, 1);
	buf_adds(&b, "");
	tap_str(b.data, "m0 0h2l1 5", "inverted: the lowest value on top");
	b.len = 0;
	html_spark_path(&b, x, one, 3, 7, 11, 2, 2, 0);
	buf_adds(&b, "");
	tap_str(b.data, "m1 5h0", "a lone point is a dot in the middle");
	buf_free(&b);
}

int
main(void)
{
	test_esc();
	test_numbers();
	test_ticks();
	test_spark();
	return tap_done();
}
