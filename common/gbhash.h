/*
 * gbhash.h - GrowthBook-compatible bucketing primitives: FNV-1a 32 over
 * the string's code units, hash versions 1 and 2, bucket ranges, variation
 * choice, namespaces and equal weights.  Each function gives the same
 * result, bit for bit, as the function of the same name in the GrowthBook
 * JavaScript SDK (packages/sdk-js/src/util.ts), so an assignment made here
 * is the one a live SDK makes.  Pure functions, no allocation.
 */
#ifndef GBHASH_H
#define GBHASH_H

#include <stddef.h>
#include <stdint.h>

/*
 * Which units of a UTF-8 string feed the hash.  The SDKs agree on ASCII
 * and disagree beyond it: JavaScript hashes UTF-16 code units (the
 * reference, our default), Go UTF-8 bytes, Python code points.
 */
enum gb_unicode {
	GB_UTF16 = 0,
	GB_UTF8,
	GB_CODEPOINT
};

#define GB_FNV_OFFSET 0x811c9dc5u

/* A half-open range [lo, hi) of the unit interval. */
struct gb_range {
	double lo;
	double hi;
};

/*
 * Continue an FNV-1a 32 hash h (start from GB_FNV_OFFSET) over the n
 * bytes of UTF-8 text s, taken as units of the given kind.  A byte that
 * is not valid UTF-8 counts as U+FFFD, as a JavaScript decoder reads it.
 */
uint32_t gb_fnv_update(uint32_t h, const char *s, size_t n,
    enum gb_unicode mode);

/*
 * GrowthBook's hash(seed, value, version): the bucket in [0, 1).
 * Version 1 is (fnv(value seed) % 1000) / 1000, version 2 is
 * (fnv(decimal(fnv(seed value))) % 10000) / 10000.  Any other version
 * returns -1 (the SDK's null).
 */
double gb_hash(const char *seed, size_t seedlen, const char *value,
    size_t vlen, int version, enum gb_unicode mode);

/*
 * The same for many values under one seed: gb_hasher_init() borrows
 * seed (it must outlive the hasher) and precomputes what version 2 can.
 */
struct gb_hasher {
	const char *seed;
	size_t seedlen;
	uint32_t seed_state;	/* fnv over the seed, for version 2 */
	int version;
	enum gb_unicode mode;
};
void gb_hasher_init(struct gb_hasher *, const char *seed, size_t seedlen,
    int version, enum gb_unicode mode);
/* As gb_hash() with the hasher's seed and version. */
double gb_hasher_hash(const struct gb_hasher *, const char *value,
    size_t vlen);

/*
 * getEqualWeights(n): n weights of 1/n into w (room for n); returns n,
 * or 0 when n <= 0.
 */
int gb_equal_weights(int n, double *w);

/*
 * getBucketRanges(nvar, coverage, weights): fill out[0..nvar-1].
 * Coverage is clamped to [0, 1]; weights (nweights of them, or NULL for
 * none) fall back to equal weights when their count is not nvar or their
 * left-to-right sum is outside [0.99, 1.01].  Range i is
 * [start, start + coverage * w[i]) with start the sum of the weights
 * before i, so lowering coverage leaves gaps and never moves anyone.
 * Returns nvar (0 when nvar <= 0).
 */
int gb_bucket_ranges(int nvar, double coverage, const double *weights,
    int nweights, struct gb_range *out);

/* inRange: lo <= n < hi. */
int gb_in_range(double n, const struct gb_range *r);

/* chooseVariation: the index of the first range holding n, or -1. */
int gb_choose_variation(double n, const struct gb_range *r, int nranges);

/*
 * inNamespace(id, [ns, lo, hi]): hash("__" ns, id, 1) in [lo, hi).
 * Always hash version 1, whatever the experiment's version.
 */
int gb_in_namespace(const char *id, size_t idlen, const char *ns,
    size_t nslen, double lo, double hi, enum gb_unicode mode);

/*
 * The bucket n (a gb_hash() result of the given version) as the shortest
 * decimal that reads back to it, the way JavaScript prints it: "0",
 * "0.5", "0.2184".  Exact because n is k/1000 or k/10000; far cheaper
 * than a general shortest-double formatter.  dst needs 8 bytes; returns
 * the length (a NUL is written).  Other versions or n < 0: "null".
 */
size_t gb_bucket_string(char *dst, double n, int version);

/*
 * Format v as JavaScript's String(v) would for the integers a hash
 * attribute may hold (|v| < 2^53): plain decimal.  Returns the length;
 * dst needs 24 bytes.
 */
size_t gb_int_string(char *dst, long long v);

#endif
