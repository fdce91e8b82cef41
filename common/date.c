/*
 * date.c - the one check of a date for the suite: YYYY-MM-DD as a real
 * calendar date (2026-02-30 is not one), for flags (asin-fetch --date),
 * schema formats and any field a tool reads a date from.  A regular
 * expression or strptime(3) lets such a date through, and an impossible
 * date then shows up downstream as a record its own schema refuses.
 */
#include <stddef.h>

#include "asin.h"

static int
digits(const char *s, int n, int *out)
{
	int i, v = 0;

	for (i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return 0;
		v = v * 10 + (s[i] - '0');
	}
	*out = v;
	return 1;
}

static int
days_in_month(int y, int m)
{
	static const int mdays[12] = { 31, 28, 31, 30, 31, 30, 31, 31, 30,
	    31, 30, 31 };

	if (m == 2 && y % 4 == 0 && (y % 100 != 0 || y % 400 == 0))
		return 29;
	return mdays[m - 1];
}

int
date_valid(const char *s, size_t n)
{
	int y, m, d;

	if (n != 10 || s[4] != '-' || s[7] != '-' || !digits(s, 4, &y) ||
	    !digits(s + 5, 2, &m) || !digits(s + 8, 2, &d))
		return 0;
	return m >= 1 && m <= 12 && d >= 1 && d <= days_in_month(y, m);
}

/*
 * RFC 3339 date-time: full-date "T" HH:MM:SS [.fraction] ("Z" | +HH:MM |
 * -HH:MM); T and Z in either case.  Second 60 (a leap second) only at
 * 23:59 UTC, as RFC 3339 section 5.7 allows.
 */
int
date_time_valid(const char *s, size_t n)
{
	int hh, mm, ss, oh, om, utc;
	size_t i;

	if (n < 20 || !date_valid(s, 10) || (s[10] != 'T' && s[10] != 't'))
		return 0;
	if (s[13] != ':' || s[16] != ':' || !digits(s + 11, 2, &hh) ||
	    !digits(s + 14, 2, &mm) || !digits(s + 17, 2, &ss) || hh > 23 ||
	    mm > 59 || ss > 60)
		return 0;
	i = 19;
	if (s[i] == '.') {
		i++;
		if (i >= n || s[i] < '0' || s[i] > '9')
			return 0;
		while (i < n && s[i] >= '0' && s[i] <= '9')
			i++;
	}
	utc = hh * 60 + mm;
	if (i != n - 1 || (s[i] != 'Z' && s[i] != 'z')) {
		if (i + 6 != n || (s[i] != '+' && s[i] != '-') ||
		    s[i + 3] != ':' || !digits(s + i + 1, 2, &oh) ||
		    !digits(s + i + 4, 2, &om) || oh > 23 || om > 59)
			return 0;
		utc += (s[i] == '+' ? -1 : 1) * (oh * 60 + om) + 24 * 60;
	}
	return ss < 60 || utc % (24 * 60) == 23 * 60 + 59;
}

