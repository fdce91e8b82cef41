/*
 * Unit tests of common/numfmt.c: the layout (printf's %.Pg, P = max(15,
 * digits), as the suite wrote before) pinned case by case, then
 * millions of doubles from a fixed seed read back with strtod bit for
 * bit, and a sample checked to be no longer than the shortest %.Ng that
 * round-trips.
 */
#include <float.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "asin.h"
#include "tap.h"

static uint64_t
rnd(uint64_t *st)
{
	*st ^= *st >> 12;
	*st ^= *st << 25;
	*st ^= *st >> 27;
	return *st * 0x2545f4914f6cdd1dull;
}

static double
from_bits(uint64_t u)
{
	double d;

	memcpy(&d, &u, sizeof(d));
	return d;
}

static void
test_layout(void)
{
	static const struct {
		double v;
		const char *want;
	} cases[] = {
		{ 0, "0" }, { -0.0, "-0" }, { 1, "1" }, { -42, "-42" },
		{ 7.8, "7.8" }, { 7499, "7499" }, { 3.99, "3.99" },
		{ 0.1, "0.1" }, { 0.3, "0.3" }, { 0.1 + 0.2, "0.30000000000000004" },
		{ 1.0 / 3, "0.3333333333333333" }, { 2.0 / 3, "0.6666666666666666" },
		{ 123456.789, "123456.789" }, { 1e21, "1e+21" },
		{ 1e20, "1e+20" }, { 1.5e21, "1.5e+21" },
		{ 9007199254740992.0, "9007199254740992" },
		{ 9007199254740994.0, "9007199254740994" },
		{ 1e-7, "1e-07" }, { 1.5e-7, "1.5e-07" }, { 1e-6, "1e-06" }, { 1e-4, "0.0001" },
		{ 0.00001234, "1.234e-05" }, { 2.5e-7, "2.5e-07" },
		{ 5e-324, "5e-324" }, { -5e-324, "-5e-324" },
		{ 2.2250738585072014e-308, "2.2250738585072014e-308" },
		{ 1.7976931348623157e308, "1.7976931348623157e+308" },
		{ 1e23, "1e+23" }, { 8.41e21, "8.41e+21" },
		{ 5e-310, "5e-310" }, { 123e-20, "1.23e-18" }, { 1e15 + 0.5, "1000000000000000.5" }, { 1e16 + 2, "10000000000000002" }, { 3e16, "3e+16" }, { 1.2345e15, "1234500000000000" },
		{ 4.35, "4.35" }, { 2.675, "2.675" }, { 1e15 + 0.3, "1000000000000000.2" },
		{ 0.1 * 3, "0.30000000000000004" }, { 100.0 / 7, "14.285714285714286" },
		{ -1.25e-300, "-1.25e-300" }, { 9.999999999999999e22, "1e+23" },
	};
	char tmp[40], what[120];
	size_t i, n;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		n = fmt_double(tmp, cases[i].v);
		snprintf(what, sizeof(what), "fmt_double %.17g is %s",
		    cases[i].v, cases[i].want);
		tap_ok(n == strlen(tmp), "returned length is the string's");
		tap_str(tmp, cases[i].want, what);
	}
}

/* The fewest digits %.Ng needs to round-trip v (the slow reference). */
static int
printf_digits(double v)
{
	char tmp[40];
	int p;

	for (p = 1; p < 17; p++) {
		snprintf(tmp, sizeof(tmp), "%.*e", p - 1, v);
		if (strtod(tmp, NULL) == v)
			return p;
	}
	return 17;
}

/* Significant digits of a fmt_double text. */
static int
our_digits(const char *s)
{
	int n = 0, lead = 1, trail = 0;

	for (; *s && *s != 'e'; s++) {
		if (*s < '0' || *s > '9')
			continue;
		if (lead && *s == '0')
			continue;
		lead = 0;
		n++;
		trail = *s == '0' ? trail + 1 : 0;
	}
	/* Trailing zeros of an integer are not significant. */
	return n - trail > 0 ? n - trail : 1;
}

static void
test_random(void)
{
	uint64_t st = 0x243f6a8885a308d3ull;
	char tmp[40];
	long i, bad = 0, longer = 0;
	double v, back;
	int want;

	/* Any finite double: random bit patterns. */
	for (i = 0; i < 1000000; i++) {
		v = from_bits(rnd(&st));
		if (!isfinite(v))
			continue;
		fmt_double(tmp, v);
		back = strtod(tmp, NULL);
		if (memcmp(&back, &v, sizeof(v)) != 0 && bad++ < 5)
			printf("#   %a -> %s -> %a\n", v, tmp, back);
	}
	tap_ok(bad == 0, "1M random bit patterns read back bit for bit");
	/* Values as tools make them: ratios, logs, z-scores, prices. */
	bad = 0;
	for (i = 0; i < 1000000; i++) {
		uint64_t r = rnd(&st);

		switch (r & 3) {
		case 0:
			v = (double)(r >> 20) / (double)((r >> 2 & 0xffff) + 1);
			break;
		case 1:
			v = log((double)(r >> 11) + 1) - 20;
			break;
		case 2:
			v = (double)(r >> 40) / 100;
			break;
		default:
			v = (double)(r >> 11) * 0x1p-53 * pow(10,
			    (double)(int)(r >> 2 & 31) - 15);
			break;
		}
		fmt_double(tmp, v);
		back = strtod(tmp, NULL);
		if (memcmp(&back, &v, sizeof(v)) != 0 && bad++ < 5)
			printf("#   %.17g -> %s -> %.17g\n", v, tmp, back);
	}
	tap_ok(bad == 0, "1M tool-like values read back bit for bit");
	/* Shortest: never more digits than the fewest %.Ne needs. */
	for (i = 0; i < 20000; i++) {
		v = from_bits(rnd(&st));
		if (!isfinite(v) || v == 0)
			continue;
		fmt_double(tmp, v);
		want = printf_digits(v);
		if (our_digits(tmp) > want && longer++ < 5)
			printf("#   %.17g -> %s, %d digits would do\n", v, tmp,
			    want);
	}
	tap_ok(longer == 0, "20k random doubles: shortest digit count");
	longer = 0;
	for (i = 0; i < 20000; i++) {
		v = (double)(rnd(&st) % 100000000) / 1000;
		fmt_double(tmp, v);
		if (our_digits(tmp) > printf_digits(v) && longer++ < 5)
			printf("#   %.17g -> %s\n", v, tmp);
	}
	tap_ok(longer == 0, "20k 3-decimal values: shortest digit count");
}

int
main(void)
{
	test_layout();
	test_random();
	return tap_done();
}
