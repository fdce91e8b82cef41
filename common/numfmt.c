/*
 * numfmt.c - doubles in the shortest decimal form that reads back to the
 * same value, in JSON syntax.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "asin.h"

size_t
fmt_double(char *dst, double v)
{
	int prec;
	size_t n;

	/* Integers are the common case (ranks, counts): no printf at all. */
	if (v == (double)(long long)v && fabs(v) < 9007199254740992.0) {
		long long i = (long long)v;
		char tmp[24];
		size_t k = 0;
		unsigned long long u;

		if (i == 0 && signbit(v)) {
			memcpy(dst, "-0", 3);
			return 2;
		}
		u = i < 0 ? (unsigned long long)(-i) : (unsigned long long)i;
		do {
			tmp[k++] = (char)('0' + u % 10);
			u /= 10;
		} while (u);
		n = 0;
		if (i < 0)
			dst[n++] = '-';
		while (k)
			dst[n++] = tmp[--k];
		dst[n] = '\0';
		return n;
	}
	for (prec = 15; prec <= 17; prec++) {
		snprintf(dst, 32, "%.*g", prec, v);
		if (strtod(dst, NULL) == v)
			break;
	}
	return strlen(dst);
}
