/*
 * numfmt.c - doubles in the shortest decimal form that reads back to the
 * same value, in JSON syntax, without printf.
 *
 * Four ways, cheapest first.  Integers below 2^53 are written digit by
 * digit.  A value with at most 15 significant digits is found with one
 * multiply and checked exactly.  One of 16 or 17 digits between 1e-5 and
 * 2^53 is picked from the few candidates around a long double product and
 * checked against its rounding interval exactly in 128-bit integers.
 * Anything else goes through the free-format digit generation of Steele &
 * White as refined by Burger & Dybvig, on exact big integers.  Each way
 * gives the shortest digit string inside the value's rounding interval,
 * the closest to the value when several are that short.
 *
 * Layout, as printf's %.Pg with P the larger of 15 and the digit count
 * (what the suite wrote before, so outputs do not change): integers below
 * 2^53 in full, plain digits for 1e-4 <= |v| < 10^P, else d.ddde-05,
 * d.ddde+21 (two exponent digits at least).
 */
#include <math.h>
#include <stdint.h>
#include <string.h>

#include "asin.h"

/* Enough 32-bit limbs for 2 * 2^1074 * 10^324 with room for a * 10. */
#define BN_LIMBS 40

/* A non-negative big integer, little-endian limbs, n in use. */
struct bn {
	uint32_t d[BN_LIMBS];
	int n;
};

static int e10_estimate(double);

static const double pow10d[] = {
	1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11,
	1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22
};

static void
bn_set(struct bn *a, uint64_t v)
{
	a->n = 0;
	while (v != 0) {
		a->d[a->n++] = (uint32_t)v;
		v >>= 32;
	}
}

static void
bn_shl(struct bn *a, int bits)
{
	int w = bits / 32, b = bits % 32, i;

	if (a->n == 0)
		return;
	if (b != 0) {
		a->d[a->n] = 0;
		for (i = a->n; i > 0; i--)
			a->d[i] = a->d[i] << b | a->d[i - 1] >> (32 - b);
		a->d[0] <<= b;
		if (a->d[a->n] != 0)
			a->n++;
	}
	if (w != 0) {
		memmove(a->d + w, a->d, a->n * sizeof(a->d[0]));
		memset(a->d, 0, w * sizeof(a->d[0]));
		a->n += w;
	}
}

static void
bn_mul_small(struct bn *a, uint32_t m)
{
	uint64_t carry = 0;
	int i;

	for (i = 0; i < a->n; i++) {
		carry += (uint64_t)a->d[i] * m;
		a->d[i] = (uint32_t)carry;
		carry >>= 32;
	}
	if (carry != 0)
		a->d[a->n++] = (uint32_t)carry;
}

static void
bn_mul_pow10(struct bn *a, int k)
{
	static const uint32_t p10[] = {
		1, 10, 100, 1000, 10000, 100000, 1000000, 10000000,
		100000000, 1000000000
	};

	for (; k >= 9; k -= 9)
		bn_mul_small(a, p10[9]);
	if (k > 0)
		bn_mul_small(a, p10[k]);
}

static int
bn_cmp(const struct bn *a, const struct bn *b)
{
	int i;

	if (a->n != b->n)
		return a->n < b->n ? -1 : 1;
	for (i = a->n - 1; i >= 0; i--)
		if (a->d[i] != b->d[i])
			return a->d[i] < b->d[i] ? -1 : 1;
	return 0;
}

/* dst = a + b (dst may be a). */
static void
bn_add(struct bn *dst, const struct bn *a, const struct bn *b)
{
	const struct bn *big = a->n >= b->n ? a : b;
	const struct bn *small = big == a ? b : a;
	uint64_t carry = 0;
	int i, n = big->n;

	for (i = 0; i < n; i++) {
		carry += (uint64_t)big->d[i] + (i < small->n ? small->d[i] : 0);
		dst->d[i] = (uint32_t)carry;
		carry >>= 32;
	}
	dst->n = n;
	if (carry != 0)
		dst->d[dst->n++] = (uint32_t)carry;
}

/* a -= b, where a >= b. */
static void
bn_sub(struct bn *a, const struct bn *b)
{
	int64_t borrow = 0;
	int i;

	for (i = 0; i < a->n; i++) {
		borrow += (int64_t)a->d[i] - (i < b->n ? b->d[i] : 0);
		a->d[i] = (uint32_t)borrow;
		borrow = borrow < 0 ? -1 : 0;
	}
	while (a->n > 0 && a->d[a->n - 1] == 0)
		a->n--;
}

/*
 * The shortest digits of v > 0 (finite) into dig, with v = 0.DIG * 10^k.
 * Returns the digit count; *k gets the exponent.
 */
static int
shortest_exact(double v, char *dig, int *kout)
{
	struct bn r, s, mp, mm, t;
	uint64_t bits, f;
	int be, e, k, n = 0, d, c, tc1, tc2, closer, even, i;

	memcpy(&bits, &v, sizeof(bits));
	be = (int)(bits >> 52 & 0x7ff);
	f = bits & ((1ull << 52) - 1);
	if (be == 0) {
		e = -1074;
	} else {
		f |= 1ull << 52;
		e = be - 1075;
	}
	even = (f & 1) == 0;
	closer = f == 1ull << 52 && be > 1;
	/* v = r/s; mp/s and mm/s are the half-gaps to the neighbours. */
	bn_set(&r, f);
	if (e >= 0) {
		bn_shl(&r, e + 1 + closer);
		bn_set(&s, 2u << closer);
		bn_set(&mp, 1);
		bn_shl(&mp, e + closer);
		bn_set(&mm, 1);
		bn_shl(&mm, e);
	} else {
		bn_shl(&r, 1 + closer);
		bn_set(&s, 1);
		bn_shl(&s, 1 - e + closer);
		bn_set(&mp, 1u << closer);
		bn_set(&mm, 1);
	}
	k = (int)ceil(log10(v) - 1e-10);
	if (k >= 0) {
		bn_mul_pow10(&s, k);
	} else {
		bn_mul_pow10(&r, -k);
		bn_mul_pow10(&mp, -k);
		bn_mul_pow10(&mm, -k);
	}
	/* Fix the estimate so that 10^(k-1) < v + half-gap <= 10^k. */
	for (;;) {
		bn_add(&t, &r, &mp);
		c = bn_cmp(&t, &s);
		if (even ? c >= 0 : c > 0) {
			bn_mul_small(&s, 10);
			k++;
			continue;
		}
		bn_mul_small(&t, 10);
		c = bn_cmp(&t, &s);
		if (even ? c < 0 : c <= 0) {
			bn_mul_small(&r, 10);
			bn_mul_small(&mp, 10);
			bn_mul_small(&mm, 10);
			k--;
			continue;
		}
		break;
	}
	for (;;) {
		bn_mul_small(&r, 10);
		bn_mul_small(&mp, 10);
		bn_mul_small(&mm, 10);
		for (d = 0; bn_cmp(&r, &s) >= 0; d++)
			bn_sub(&r, &s);
		c = bn_cmp(&r, &mm);
		tc1 = even ? c <= 0 : c < 0;
		bn_add(&t, &r, &mp);
		c = bn_cmp(&t, &s);
		tc2 = even ? c >= 0 : c > 0;
		if (!tc1 && !tc2) {
			dig[n++] = (char)('0' + d);
			continue;
		}
		if (tc1 && tc2) {
			/* Both ends reach: the nearer digit, ties to even. */
			bn_add(&t, &r, &r);
			c = bn_cmp(&t, &s);
			if (c > 0 || (c == 0 && (d & 1)))
				d++;
		} else if (tc2) {
			d++;
		}
		dig[n++] = (char)('0' + d);
		break;
	}
	/* A rounded-up 9 carries (kept for safety; B&D show it is rare). */
	for (i = n - 1; i > 0 && dig[i] > '9'; i--) {
		dig[i] = '0';
		dig[i - 1]++;
	}
	if (dig[0] > '9') {
		dig[0] = '1';
		n = 1;
		k++;
	}
	while (n > 1 && dig[n - 1] == '0')
		n--;
	*kout = k;
	return n;
}

/*
 * At most 15 significant digits: the one 15-digit decimal in v's rounding
 * interval (at most one fits: their spacing, 10^(e10-14), is wider than
 * an ulp of v) is the rounded product m = v * 10^(14-e10), off by well
 * under 1/2, and it is checked by converting back exactly (m < 2^53 and
 * 10^j with j <= 22 are exact doubles, so one multiply or divide rounds
 * correctly).  Returns the digit count, or 0 when v needs 16 or 17.
 */
static int
shortest_fast(double v, char *dig, int *kout)
{
	int e10, j, n, i;
	double x, back;
	uint64_t m;

	if (v < 2.2250738585072014e-308)
		return 0;
	e10 = e10_estimate(v);
	for (i = 0; i < 3; i++) {
		j = 14 - e10;
		if (j < -22 || j > 22)
			return 0;
		x = j >= 0 ? v * pow10d[j] : v / pow10d[-j];
		m = (uint64_t)llrint(x);
		if (m >= 1000000000000000ull)
			e10++;
		else if (m < 100000000000000ull)
			e10--;
		else
			break;
	}
	if (i == 3)
		return 0;
	back = j >= 0 ? (double)m / pow10d[j] : (double)m * pow10d[-j];
	if (back != v)
		return 0;
	for (n = 15; n > 0; n--) {
		dig[n - 1] = (char)('0' + m % 10);
		m /= 10;
	}
	n = 15;
	while (n > 1 && dig[n - 1] == '0')
		n--;
	*kout = e10 + 1;
	return n;
}

/* 10^j as a 128-bit integer, j <= 38. */
static unsigned __int128
pow10_128(int j)
{
	unsigned __int128 p = 1;

	while (j-- > 0)
		p *= 10;
	return p;
}

/*
 * 16 or 17 digits for 1e-5 <= v < 2^53 (the range where every product
 * below fits 128 bits).  Scaled by 2^(2-e) * 10^j, v is 4f * 10^j and its
 * rounding interval runs from (4f - 2, or 4f - 1 at a power of two) to
 * (4f + 2) times 10^j, ends included when f is even (ties go to even); a
 * p-digit candidate c is c * 2^(2-e).  The long double product v * 10^j
 * is within 0.01 of the exact one and the interval at most 2.3 units wide
 * each way, so the candidates worth trying are within 3 of it.  Returns
 * the digit count, or 0 when v is outside the range.
 */
static int
shortest_128(double v, char *dig, int *kout)
{
	static const long double p10l[] = {
		1e0L, 1e1L, 1e2L, 1e3L, 1e4L, 1e5L, 1e6L, 1e7L, 1e8L, 1e9L,
		1e10L, 1e11L, 1e12L, 1e13L, 1e14L, 1e15L, 1e16L, 1e17L, 1e18L,
		1e19L, 1e20L, 1e21L, 1e22L
	};
	unsigned __int128 lo, hi, mid, t, dist, bestdist = 0, pj;
	uint64_t bits, f, c, best = 0, m0, top;
	int be, e, e10, p, j, closer, even, found, n, tries;
	char tmp[24];

	memcpy(&bits, &v, sizeof(bits));
	be = (int)(bits >> 52 & 0x7ff);
	f = (bits & ((1ull << 52) - 1)) | 1ull << 52;
	e = be - 1075;
	if (be == 0 || e >= 0 || e < -68 || v < 1e-5)
		return 0;
	even = (f & 1) == 0;
	closer = f == 1ull << 52;
	e10 = e10_estimate(v);
	for (p = 16; p <= 17; p++) {
		for (tries = 0;; tries++) {
			j = p - 1 - e10;
			if (j < 0 || j > 22)
				return 0;
			m0 = (uint64_t)llrintl((long double)v * p10l[j]);
			top = (uint64_t)pow10_128(p);
			if (m0 + 3 >= top && tries == 0) {
				e10++;
				continue;
			}
			break;
		}
		pj = pow10_128(j);
		lo = (unsigned __int128)(4 * f - (closer ? 1 : 2)) * pj;
		hi = (unsigned __int128)(4 * f + 2) * pj;
		mid = (unsigned __int128)(4 * f) * pj;
		found = 0;
		for (c = m0 >= 3 ? m0 - 3 : 0; c <= m0 + 3; c++) {
			t = (unsigned __int128)c << (2 - e);
			if (even ? t < lo || t > hi : t <= lo || t >= hi)
				continue;
			dist = t > mid ? t - mid : mid - t;
			if (!found || dist < bestdist ||
			    (dist == bestdist && (c & 1) == 0)) {
				best = c;
				bestdist = dist;
				found = 1;
			}
		}
		if (!found)
			continue;
		n = 0;
		do {
			tmp[n++] = (char)('0' + best % 10);
			best /= 10;
		} while (best != 0);
		/* v ~ best * 10^-j: the point sits n - j digits in. */
		*kout = n - j;
		for (p = 0; p < n; p++)
			dig[p] = tmp[n - 1 - p];
		while (n > 1 && dig[n - 1] == '0')
			n--;
		return n;
	}
	return 0;
}

/*
 * floor(log10(v)) for a normal v > 0, or one less: from the binary
 * exponent alone, cheaper than log10(); callers correct it upwards.
 */
static int
e10_estimate(double v)
{
	uint64_t bits;

	memcpy(&bits, &v, sizeof(bits));
	return (int)floor((double)((int)(bits >> 52 & 0x7ff) - 1023) *
	    0.30102999566398120);
}

/* Write an int >= 0 in decimal; returns the length. */
static size_t
put_uint(char *dst, unsigned long long u)
{
	char tmp[24];
	size_t k = 0, n;

	do {
		tmp[k++] = (char)('0' + u % 10);
		u /= 10;
	} while (u != 0);
	for (n = 0; k > 0; n++)
		dst[n] = tmp[--k];
	return n;
}

size_t
fmt_double(char *dst, double v)
{
	char dig[24];
	int nd, k, x;
	size_t n = 0;

	if (v == 0) {
		if (signbit(v))
			dst[n++] = '-';
		dst[n++] = '0';
		dst[n] = '\0';
		return n;
	}
	if (v < 0) {
		dst[n++] = '-';
		v = -v;
	}
	/* Integers are the common case (ranks, counts). */
	if (v < 9007199254740992.0 && v == (double)(uint64_t)v) {
		n += put_uint(dst + n, (uint64_t)v);
		dst[n] = '\0';
		return n;
	}
	if ((nd = shortest_fast(v, dig, &k)) == 0 &&
	    (nd = shortest_128(v, dig, &k)) == 0)
		nd = shortest_exact(v, dig, &k);
	/* v = 0.DIG * 10^k; scientific exponent x = k - 1. */
	x = k - 1;
	if (x >= -4 && x < (nd > 15 ? nd : 15)) {
		if (k <= 0) {
			memcpy(dst + n, "0.", 2);
			n += 2;
			memset(dst + n, '0', -k);
			n += -k;
			memcpy(dst + n, dig, nd);
			n += nd;
		} else if (k >= nd) {
			memcpy(dst + n, dig, nd);
			n += nd;
			memset(dst + n, '0', k - nd);
			n += k - nd;
		} else {
			memcpy(dst + n, dig, k);
			n += k;
			dst[n++] = '.';
			memcpy(dst + n, dig + k, nd - k);
			n += nd - k;
		}
	} else {
		dst[n++] = dig[0];
		if (nd > 1) {
			dst[n++] = '.';
			memcpy(dst + n, dig + 1, nd - 1);
			n += nd - 1;
		}
		dst[n++] = 'e';
		dst[n++] = x < 0 ? '-' : '+';
		if (x > -10 && x < 10)
			dst[n++] = '0';
		n += put_uint(dst + n, (unsigned long long)(x < 0 ? -x : x));
	}
	dst[n] = '\0';
	return n;
}
