/*
 * numfmt.c - doubles in the shortest decimal form that reads back to the
 * same value, in JSON syntax, without printf.
 *
 * Four ways, cheapest first.  Integers below 2^53 are written digit by
 * digit.  Between 1e-5 and 2^53 the digits are computed exactly in
 * 128-bit integers.  Elsewhere, a value with at most 15 significant
 * digits is found with one multiply and checked exactly.
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

/* 10^j for j <= 21 as 128-bit integers (10^19 is the last below 2^64). */
#define E19 10000000000000000000ull
static const unsigned __int128 p10_128[] = {
	1ull, 10ull, 100ull, 1000ull, 10000ull, 100000ull, 1000000ull,
	10000000ull, 100000000ull, 1000000000ull, 10000000000ull,
	100000000000ull, 1000000000000ull, 10000000000000ull,
	100000000000000ull, 1000000000000000ull, 10000000000000000ull,
	100000000000000000ull, 1000000000000000000ull, E19,
	(unsigned __int128)E19 * 10, (unsigned __int128)E19 * 100
};

/*
 * The decimal digits of u (no leading zeros; "0" for 0) into dst, two at
 * a time from a table: half the dependent divisions of one at a time.
 * Returns the length.
 */
static int
put_digits(char *dst, uint64_t u)
{
	static const char pairs[] =
	    "00010203040506070809101112131415161718192021222324252627282930"
	    "31323334353637383940414243444546474849505152535455565758596061"
	    "62636465666768697071727374757677787980818283848586878889909192"
	    "93949596979899";
	int n = 1, i;

	while (n < 20 && u >= (uint64_t)p10_128[n])
		n++;
	i = n;
	while (u >= 100) {
		i -= 2;
		memcpy(dst + i, pairs + 2 * (u % 100), 2);
		u /= 100;
	}
	if (u >= 10) {
		i -= 2;
		memcpy(dst + i, pairs + 2 * u, 2);
	} else {
		dst[--i] = (char)('0' + u);
	}
	return n;
}


/*
 * 15, 16 or 17 digits for 1e-5 <= v < 2^53, exactly, in 128-bit integers.
 * With v = f * 2^e and sh = 2 - e, v * 10^j is mid / 2^sh where mid =
 * 4f * 10^j, and v's rounding interval is lo..hi = (4f - 2, or 4f - 1 at
 * a power of two) * 10^j .. (4f + 2) * 10^j over 2^sh, ends included when
 * f is even (ties go to even).  The p-digit decimals c * 10^-j inside it
 * are the integers cmin..cmax; the closest to v is the integer nearest
 * mid / 2^sh, clamped to that range.  In this range of v, 4f * 10^j
 * (j <= 21) and c * 2^sh (sh <= 70) fit 128 bits.  At 15 digits or
 * fewer at most one decimal fits (see shortest_fast), so the first p with
 * a candidate gives the shortest.  Returns the digit count, or 0 when v
 * is outside the range.
 */
static int
shortest_128(double v, char *dig, int *kout)
{
	unsigned __int128 lo, hi, mid, pj, c, cmin, cmax, rem, half;
	uint64_t bits, f;
	int be, e, sh, e10, p, j, closer, even, tie, n, tries;

	memcpy(&bits, &v, sizeof(bits));
	be = (int)(bits >> 52 & 0x7ff);
	f = (bits & ((1ull << 52) - 1)) | 1ull << 52;
	e = be - 1075;
	if (be == 0 || e >= 0 || e < -68 || v < 1e-5)
		return 0;
	sh = 2 - e;
	even = (f & 1) == 0;
	closer = f == 1ull << 52;
	half = (unsigned __int128)1 << (sh - 1);
	e10 = e10_estimate(v);
	for (p = 15; p <= 17; p++) {
		for (tries = 0;; tries++) {
			j = p - 1 - e10;
			if (j > 21)
				return 0;
			if (j < 0)
				break;
			pj = p10_128[j];
			mid = (unsigned __int128)(4 * f) * pj;
			c = (mid + half) >> sh;
			/* The estimate was one low: p + 1 digits. */
			if (c >= p10_128[p] && tries == 0) {
				e10++;
				continue;
			}
			break;
		}
		/* No fraction at 10^15 and up: such a v needs 16 digits. */
		if (j < 0)
			continue;
		rem = mid & ((half << 1) - 1);
		tie = rem == half;
		lo = (unsigned __int128)(4 * f - (closer ? 1 : 2)) * pj;
		hi = (unsigned __int128)(4 * f + 2) * pj;
		cmin = lo >> sh;
		if ((cmin << sh) < lo || (!even && (cmin << sh) == lo))
			cmin++;
		cmax = hi >> sh;
		if (!even && (cmax << sh) == hi)
			cmax--;
		if (cmin > cmax)
			continue;
		if (tie && (c & 1) && c > cmin)
			c--;
		if (c < cmin)
			c = cmin;
		else if (c > cmax)
			c = cmax;
		n = put_digits(dig, (uint64_t)c);
		/* v ~ c * 10^-j: the point sits n - j digits in. */
		*kout = n - j;
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
		n += (size_t)put_digits(dst + n, (uint64_t)v);
		dst[n] = '\0';
		return n;
	}
	if ((nd = shortest_128(v, dig, &k)) == 0 &&
	    (nd = shortest_fast(v, dig, &k)) == 0)
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
		n += (size_t)put_digits(dst + n, (uint64_t)(x < 0 ? -x : x));
	}
	dst[n] = '\0';
	return n;
}
