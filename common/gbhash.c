/*
 * gbhash.c - GrowthBook-compatible bucketing (see gbhash.h).  The order
 * of floating-point operations follows the SDK's so that the doubles come
 * out identical; the build must not contract a*b+c into an FMA (C11 mode
 * on x86-64 does not).
 */
#include <math.h>
#include <string.h>

#include "gbhash.h"

#define FNV_PRIME 0x01000193u

static uint32_t
fnv_unit(uint32_t h, uint32_t u)
{
	return (h ^ u) * FNV_PRIME;
}

/*
 * Decode one UTF-8 sequence at s (n > 0 bytes left); store the code
 * point and return the bytes used.  Invalid input yields U+FFFD for one
 * byte, the way a WHATWG decoder resynchronises.
 */
static size_t
utf8_decode(const unsigned char *s, size_t n, uint32_t *cp)
{
	uint32_t c = s[0], min;
	size_t len, i;

	if (c < 0x80) {
		*cp = c;
		return 1;
	}
	if (c >= 0xc2 && c <= 0xdf) {
		len = 2;
		c &= 0x1f;
		min = 0x80;
	} else if (c >= 0xe0 && c <= 0xef) {
		len = 3;
		c &= 0x0f;
		min = 0x800;
	} else if (c >= 0xf0 && c <= 0xf4) {
		len = 4;
		c &= 0x07;
		min = 0x10000;
	} else
		goto bad;
	if (len > n)
		goto bad;
	for (i = 1; i < len; i++) {
		if ((s[i] & 0xc0) != 0x80)
			goto bad;
		c = c << 6 | (s[i] & 0x3f);
	}
	if (c < min || c > 0x10ffff || (c >= 0xd800 && c <= 0xdfff))
		goto bad;
	*cp = c;
	return len;
bad:
	*cp = 0xfffd;
	return 1;
}

uint32_t
gb_fnv_update(uint32_t h, const char *s, size_t n, enum gb_unicode mode)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t i = 0, used;
	uint32_t cp;

	if (mode == GB_UTF8) {
		for (; i < n; i++)
			h = fnv_unit(h, p[i]);
		return h;
	}
	while (i < n) {
		/* ASCII, all an ASIN holds, is the same unit in every mode. */
		while (i < n && p[i] < 0x80)
			h = fnv_unit(h, p[i++]);
		if (i == n)
			break;
		used = utf8_decode(p + i, n - i, &cp);
		i += used;
		if (mode == GB_UTF16 && cp > 0xffff) {
			cp -= 0x10000;
			h = fnv_unit(h, 0xd800 + (cp >> 10));
			h = fnv_unit(h, 0xdc00 + (cp & 0x3ff));
		} else
			h = fnv_unit(h, cp);
	}
	return h;
}

/* Decimal digits of v, no leading zeros (JavaScript's number + ""). */
static size_t
u32_decimal(char *dst, uint32_t v)
{
	char tmp[10];
	size_t n = 0, i;

	do {
		tmp[n++] = (char)('0' + v % 10);
		v /= 10;
	} while (v != 0);
	for (i = 0; i < n; i++)
		dst[i] = tmp[n - 1 - i];
	return n;
}

static double
hash_v2_finish(uint32_t inner)
{
	char dec[10];
	size_t n = u32_decimal(dec, inner), i;
	uint32_t h = GB_FNV_OFFSET;

	/* The decimal is ASCII, so every unicode mode hashes it alike. */
	for (i = 0; i < n; i++)
		h = fnv_unit(h, (unsigned char)dec[i]);
	return (double)(h % 10000) / 10000;
}

double
gb_hash(const char *seed, size_t seedlen, const char *value, size_t vlen,
    int version, enum gb_unicode mode)
{
	struct gb_hasher hs;

	gb_hasher_init(&hs, seed, seedlen, version, mode);
	return gb_hasher_hash(&hs, value, vlen);
}

void
gb_hasher_init(struct gb_hasher *hs, const char *seed, size_t seedlen,
    int version, enum gb_unicode mode)
{
	hs->seed = seed;
	hs->seedlen = seedlen;
	hs->version = version;
	hs->mode = mode;
	hs->seed_state = gb_fnv_update(GB_FNV_OFFSET, seed, seedlen, mode);
}

double
gb_hasher_hash(const struct gb_hasher *hs, const char *value, size_t vlen)
{
	uint32_t h;

	switch (hs->version) {
	case 1:
		/* Version 1 hashes value before seed. */
		h = gb_fnv_update(GB_FNV_OFFSET, value, vlen, hs->mode);
		h = gb_fnv_update(h, hs->seed, hs->seedlen, hs->mode);
		return (double)(h % 1000) / 1000;
	case 2:
		h = gb_fnv_update(hs->seed_state, value, vlen, hs->mode);
		return hash_v2_finish(h);
	default:
		return -1;
	}
}

int
gb_equal_weights(int n, double *w)
{
	int i;

	if (n <= 0)
		return 0;
	for (i = 0; i < n; i++)
		w[i] = 1.0 / n;
	return n;
}

int
gb_bucket_ranges(int nvar, double coverage, const double *weights,
    int nweights, struct gb_range *out)
{
	double cum, start, total, w;
	int i, equal;

	if (nvar <= 0)
		return 0;
	if (coverage < 0)
		coverage = 0;
	if (coverage > 1)
		coverage = 1;
	equal = weights == NULL || nweights != nvar;
	if (!equal) {
		total = 0;
		for (i = 0; i < nvar; i++)
			total = total + weights[i];
		if (total < 0.99 || total > 1.01)
			equal = 1;
	}
	cum = 0;
	for (i = 0; i < nvar; i++) {
		w = equal ? 1.0 / nvar : weights[i];
		start = cum;
		cum += w;
		out[i].lo = start;
		out[i].hi = start + coverage * w;
	}
	return nvar;
}

int
gb_in_range(double n, const struct gb_range *r)
{
	return r->lo <= n && n < r->hi;
}

int
gb_choose_variation(double n, const struct gb_range *r, int nranges)
{
	int i;

	for (i = 0; i < nranges; i++)
		if (gb_in_range(n, &r[i]))
			return i;
	return -1;
}

int
gb_in_namespace(const char *id, size_t idlen, const char *ns, size_t nslen,
    double lo, double hi, enum gb_unicode mode)
{
	uint32_t h;
	double n;

	/* hash("__" + ns, id, 1) = fnv(id "__" ns): no seed buffer needed. */
	h = gb_fnv_update(GB_FNV_OFFSET, id, idlen, mode);
	h = gb_fnv_update(h, "__", 2, mode);
	h = gb_fnv_update(h, ns, nslen, mode);
	n = (double)(h % 1000) / 1000;
	return lo <= n && n < hi;
}

size_t
gb_bucket_string(char *dst, double n, int version)
{
	int digits = version == 1 ? 3 : 4, k, i;
	long m;

	if ((version != 1 && version != 2) || !(n >= 0 && n < 1)) {
		memcpy(dst, "null", 5);
		return 4;
	}
	m = lround(n * (version == 1 ? 1000 : 10000));
	if (m == 0) {
		memcpy(dst, "0", 2);
		return 1;
	}
	/* Drop trailing zeros: 0.5000 is printed 0.5. */
	while (m % 10 == 0) {
		m /= 10;
		digits--;
	}
	dst[0] = '0';
	dst[1] = '.';
	for (i = digits - 1, k = 2 + digits; i >= 0; i--, m /= 10)
		dst[2 + i] = (char)('0' + m % 10);
	dst[k] = '\0';
	return (size_t)k;
}

size_t
gb_int_string(char *dst, long long v)
{
	unsigned long long u = v < 0 ? 0ULL - (unsigned long long)v :
	    (unsigned long long)v;
	char tmp[24];
	size_t n = 0, i, k = 0;

	do {
		tmp[n++] = (char)('0' + u % 10);
		u /= 10;
	} while (u != 0);
	if (v < 0)
		dst[k++] = '-';
	for (i = 0; i < n; i++)
		dst[k++] = tmp[n - 1 - i];
	dst[k] = '\0';
	return k;
}
