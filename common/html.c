/*
 * html.c - HTML escaping, number formatting for people and SVG sparkline
 * paths.  The escaper is the one gate between input bytes and the page:
 * nothing from a record reaches asin-report's output without it.
 */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "html.h"

#define REPLACEMENT "\xef\xbf\xbd"	/* U+FFFD in UTF-8 */

/*
 * Length of the well-formed UTF-8 sequence at s[0..n) (Unicode table
 * 3-7: no overlong forms, no surrogates, nothing above U+10FFFF), or 0.
 */
static size_t
utf8_seq(const unsigned char *s, size_t n)
{
	unsigned char c = s[0];
	size_t len, i;

	if (c < 0x80)
		return 1;
	if (c >= 0xc2 && c <= 0xdf)
		len = 2;
	else if (c >= 0xe0 && c <= 0xef)
		len = 3;
	else if (c >= 0xf0 && c <= 0xf4)
		len = 4;
	else
		return 0;
	if (n < len)
		return 0;
	for (i = 1; i < len; i++)
		if ((s[i] & 0xc0) != 0x80)
			return 0;
	if ((c == 0xe0 && s[1] < 0xa0) || (c == 0xed && s[1] > 0x9f) ||
	    (c == 0xf0 && s[1] < 0x90) || (c == 0xf4 && s[1] > 0x8f))
		return 0;
	return len;
}

/* Escape up to max code points (0: no limit); *cut set if it stopped. */
static size_t
esc(struct buf *b, const char *s, size_t n, size_t max, int *cut)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t i = 0, run = 0, bad = 0, chars = 0, k;

	*cut = 0;
	while (i < n) {
		unsigned char c = p[i];

		if (max > 0 && chars == max) {
			*cut = 1;
			break;
		}
		chars++;
		k = utf8_seq(p + i, n - i);
		if (k > 1) {
			i += k;
			continue;
		}
		if (k == 1 && c >= 0x20 && c != 0x7f && c != '&' && c != '<' &&
		    c != '>' && c != '"' && c != '\'') {
			i++;
			continue;
		}
		if (k == 1 && (c == '\t' || c == '\n' || c == '\r')) {
			i++;
			continue;
		}
		buf_add(b, s + run, i - run);
		switch (k == 0 ? 0 : c) {
		case '&':
			buf_adds(b, "&amp;");
			break;
		case '<':
			buf_adds(b, "&lt;");
			break;
		case '>':
			buf_adds(b, "&gt;");
			break;
		case '"':
			buf_adds(b, "&quot;");
			break;
		case '\'':
			buf_adds(b, "&#39;");
			break;
		default:
			buf_adds(b, REPLACEMENT);
			bad++;
		}
		i++;
		run = i;
	}
	buf_add(b, s + run, i - run);
	return bad;
}

size_t
html_esc(struct buf *b, const char *s, size_t n)
{
	int cut;

	return esc(b, s, n, 0, &cut);
}

size_t
html_escs(struct buf *b, const char *s)
{
	return html_esc(b, s, strlen(s));
}

int
html_esc_max(struct buf *b, const char *s, size_t n, size_t max)
{
	int cut;

	esc(b, s, n, max, &cut);
	if (cut)
		buf_adds(b, "\xe2\x80\xa6");	/* U+2026 */
	return cut;
}

char *
html_num(char *dst, double v, int dec, int sign)
{
	char tmp[HTML_NUMLEN];
	char *p = dst, *dot;
	size_t ilen, i;
	const char *digits;

	/* -0.00 reads as a loss that is not there. */
	snprintf(tmp, sizeof(tmp), "%.*f", dec, v);
	if (tmp[0] == '-' && strspn(tmp + 1, "0.") == strlen(tmp + 1))
		memmove(tmp, tmp + 1, strlen(tmp));
	digits = tmp[0] == '-' ? tmp + 1 : tmp;
	if (tmp[0] == '-')
		*p++ = '-';
	else if (sign && strspn(tmp, "0.") != strlen(tmp))
		*p++ = '+';
	dot = strchr(digits, '.');
	ilen = dot ? (size_t)(dot - digits) : strlen(digits);
	/* A value too large for the buffer with commas keeps its digits. */
	if (ilen > 30) {
		snprintf(dst, HTML_NUMLEN, "%.6g", v);
		return dst;
	}
	for (i = 0; i < ilen; i++) {
		if (i > 0 && (ilen - i) % 3 == 0)
			*p++ = ',';
		*p++ = digits[i];
	}
	strcpy(p, digits + ilen);
	return dst;
}

char *
html_pct(char *dst, double v, int dec, int sign)
{
	html_num(dst, v * 100, dec, sign);
	strcat(dst, "%");
	return dst;
}

/* Marketplace code, symbol, decimals; the symbol comes before the number. */
static const struct {
	const char *mp;
	const char *sym;
	int dec;
} currencies[] = {
	{ "AE", "AED\xc2\xa0", 2 }, { "AU", "A$", 2 }, { "BE", "\xe2\x82\xac", 2 },
	{ "BR", "R$", 2 }, { "CA", "CA$", 2 }, { "DE", "\xe2\x82\xac", 2 },
	{ "EG", "EGP\xc2\xa0", 2 }, { "ES", "\xe2\x82\xac", 2 },
	{ "FR", "\xe2\x82\xac", 2 }, { "GB", "\xc2\xa3", 2 },
	{ "IE", "\xe2\x82\xac", 2 }, { "IN", "\xe2\x82\xb9", 2 },
	{ "IT", "\xe2\x82\xac", 2 }, { "JP", "\xc2\xa5", 0 },
	{ "MX", "MX$", 2 }, { "NL", "\xe2\x82\xac", 2 },
	{ "PL", "PLN\xc2\xa0", 2 }, { "SA", "SAR\xc2\xa0", 2 },
	{ "SE", "SEK\xc2\xa0", 2 }, { "SG", "S$", 2 },
	{ "TR", "TRY\xc2\xa0", 2 }, { "UK", "\xc2\xa3", 2 },
	{ "US", "$", 2 }
};

char *
html_money(char *dst, double v, const char *mp)
{
	char num[HTML_NUMLEN];
	size_t i;

	for (i = 0; i < sizeof(currencies) / sizeof(currencies[0]); i++)
		if (mp != NULL && strcmp(mp, currencies[i].mp) == 0) {
			html_num(num, fabs(v), currencies[i].dec, 0);
			/* Numbers stay far below the room: 30 digits at most. */
			if (strlen(num) + strlen(currencies[i].sym) + 2 >
			    HTML_NUMLEN)
				return html_num(dst, v, 2, 0);
			strcpy(dst, v < 0 ? "-" : "");
			strcat(dst, currencies[i].sym);
			strcat(dst, num);
			return dst;
		}
	return html_num(dst, v, 2, 0);
}

char *
html_sig(char *dst, double v)
{
	if (fabs(v) >= 1000)
		return html_num(dst, v, 0, 0);
	snprintf(dst, HTML_NUMLEN, "%.4g", v);
	return dst;
}

size_t
html_ticks(double *lo, double *hi, size_t max, double *t)
{
	static const double steps[] = { 1, 2, 5, 10 };
	double span = *hi - *lo, mag, step = 1, a, b;
	size_t i, n;

	if (max < 2)
		max = 2;
	mag = pow(10, floor(log10(span / (double)(max - 1))));
	for (i = 0; i < 4; i++) {
		step = steps[i] * mag;
		a = floor(*lo / step + 1e-9) * step;
		b = ceil(*hi / step - 1e-9) * step;
		if ((b - a) / step + 1 <= (double)max + 1e-9)
			break;
	}
	a = floor(*lo / step + 1e-9) * step;
	b = ceil(*hi / step - 1e-9) * step;
	n = 0;
	for (i = 0; n < max; i++) {
		double v = a + (double)i * step;

		if (v > b + step * 1e-6)
			break;
		/* Keep 0 an exact zero, not 1e-17. */
		t[n++] = fabs(v) < step * 1e-9 ? 0 : v;
	}
	*lo = t[0];
	*hi = t[n - 1];
	return n;
}

/* Append a number to a path, with a space only where one is needed. */
static void
path_num(struct buf *b, int v)
{
	char c = b->len > 0 ? b->data[b->len - 1] : 'M';

	if (v >= 0 && c >= '0' && c <= '9')
		buf_addc(b, ' ');
	buf_printf(b, "%d", v);
}

size_t
html_spark_path(struct buf *b, const int *x, const double *y, size_t n,
    int w, int h, double ymin, double ymax, int invert)
{
	double span = ymax - ymin;
	size_t i, drawn = 0, run = 0;
	int px = 0, py = 0, hx = 0, pairs = 0;

	(void)w;
	for (i = 0; i <= n; i++) {
		int cx = 0, cy = 0;
		double f;

		if (i < n && !isnan(y[i])) {
			f = span > 0 ? (y[i] - ymin) / span : 0.5;
			if (f < 0)
				f = 0;
			if (f > 1)
				f = 1;
			cx = x[i];
			cy = (int)lround((invert ? f : 1 - f) * (h - 1));
			/* A flat stretch is one "h": a third of the bytes. */
			if (run > 0 && cy == py) {
				hx += cx - px;
				px = cx;
				run++;
				drawn++;
				continue;
			}
		}
		if (hx > 0) {
			buf_printf(b, "h%d", hx);
			hx = 0;
			pairs = 0;
		}
		if (i == n || isnan(y[i])) {
			if (run == 1)
				buf_adds(b, "h0");
			run = 0;
			continue;
		}
		if (run == 0) {
			/*
			 * A new stretch: a relative move (the first m of a
			 * path is absolute); the pairs after it are lines.
			 * A stretch of one point is drawn as a dot.
			 */
			buf_addc(b, 'm');
			pairs = 1;
		} else if (!pairs) {
			buf_addc(b, 'l');
			pairs = 1;
		}
		path_num(b, cx - px);
		path_num(b, cy - py);
		px = cx;
		py = cy;
		run++;
		drawn++;
	}
	return drawn;
}
