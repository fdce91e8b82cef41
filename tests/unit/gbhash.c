/*
 * gbhash.c - unit tests of the GrowthBook bucketing primitives and the
 * experiment reader.  The expected hashes come from the published npm
 * SDK (tests/growthbook/derive-vectors.js); the utf8 and codepoint ones
 * from a plain FNV-1a over the UTF-8 bytes and the code points.
 */
#include <stdlib.h>
#include <string.h>

#include "asin.h"
#include "gbexp.h"
#include "gbhash.h"
#include "tap.h"

static void
hash_is(const char *seed, const char *id, int v, enum gb_unicode m,
    double want)
{
	char what[128];
	double got = gb_hash(seed, strlen(seed), id, strlen(id), v, m);

	snprintf(what, sizeof(what), "hash(%s, %s, v%d, %s) == %g", seed, id,
	    v, gb_unicode_name(m), want);
	if (!tap_ok(got == want, what))
		printf("#   got %.17g\n", got);
}

static void
test_hash(void)
{
	struct gb_hasher hs;

	hash_is("asin-split", "B0C1O7F8T2", 1, GB_UTF16, 0.319);
	hash_is("asin-split", "B0C1O7F8T2", 2, GB_UTF16, 0.793);
	hash_is("price-test-2024", "B0C1O7F8T2", 1, GB_UTF16, 0.052);
	hash_is("price-test-2024", "B0C1O7F8T2", 2, GB_UTF16, 0.2184);
	hash_is("asin-split", "x", 2, GB_UTF16, 0.9712);
	/* Beyond ASCII the SDKs part ways: UTF-16 units, bytes, points. */
	hash_is("asin-split", "caf\xc3\xa9", 1, GB_UTF16, 0.01);
	hash_is("asin-split", "caf\xc3\xa9", 2, GB_UTF16, 0.0864);
	hash_is("asin-split", "caf\xc3\xa9", 1, GB_UTF8, 0.747);
	hash_is("asin-split", "caf\xc3\xa9", 2, GB_UTF8, 0.6828);
	hash_is("asin-split", "caf\xc3\xa9", 2, GB_CODEPOINT, 0.0864);
	/* A code point past U+FFFF is a surrogate pair in UTF-16. */
	hash_is("asin-split", "\xf0\x9f\x98\x80", 1, GB_UTF16, 0.294);
	hash_is("asin-split", "\xf0\x9f\x98\x80", 2, GB_UTF16, 0.0805);
	hash_is("asin-split", "\xf0\x9f\x98\x80", 2, GB_UTF8, 0.2125);
	hash_is("asin-split", "\xf0\x9f\x98\x80", 1, GB_CODEPOINT, 0.517);
	hash_is("price-test-2024", "a\xf0\x9f\x98\x80" "b", 2, GB_UTF16,
	    0.7549);
	hash_is("a\xc3\xa9\xe6\x97\xa5", "B0C1O7F8T2", 2, GB_UTF16, 0.1551);
	tap_ok(gb_hash("abc", 3, "def", 3, 99, GB_UTF16) == -1,
	    "unknown version is -1 (null)");
	gb_hasher_init(&hs, "asin-split", 10, 2, GB_UTF16);
	tap_ok(gb_hasher_hash(&hs, "B0C1O7F8T2", 10) == 0.793,
	    "prepared hasher equals gb_hash");
	/* A stray byte reads as U+FFFD, as a JavaScript decoder has it. */
	tap_ok(gb_fnv_update(GB_FNV_OFFSET, "\xff", 1, GB_UTF16) ==
	    gb_fnv_update(GB_FNV_OFFSET, "\xef\xbf\xbd", 3, GB_UTF16),
	    "invalid UTF-8 byte hashes as U+FFFD");
}

static void
test_bucket_string(void)
{
	char a[40], b[40];
	int v, k, bad = 0;

	/* Every bucket value of both versions prints as fmt_double has it. */
	for (v = 1; v <= 2; v++)
		for (k = 0; k < (v == 1 ? 1000 : 10000); k++) {
			double n = (double)k / (v == 1 ? 1000 : 10000);

			gb_bucket_string(a, n, v);
			fmt_double(b, n);
			if (strcmp(a, b) != 0 && bad++ < 3)
				printf("# k %d v%d: %s != %s\n", k, v, a, b);
		}
	tap_ok(bad == 0, "gb_bucket_string agrees with fmt_double on all buckets");
	gb_bucket_string(a, 0.2184, 2);
	tap_str(a, "0.2184", "bucket 0.2184");
	gb_bucket_string(a, 0.5, 1);
	tap_str(a, "0.5", "bucket 0.5");
	gb_bucket_string(a, -1, 2);
	tap_str(a, "null", "no bucket is null");
}

static void
test_ranges(void)
{
	struct gb_range r[4];
	double w[4], w3[] = { 0.2, 0.3, 0.5 }, bad[] = { 0.7, 0.6 };
	double near1[] = { 0.4, 0.5999 };

	gb_bucket_ranges(2, 1, NULL, 0, r);
	tap_ok(r[0].lo == 0 && r[0].hi == 0.5 && r[1].lo == 0.5 &&
	    r[1].hi == 1, "ranges: 50/50");
	gb_bucket_ranges(2, 0.5, NULL, 0, r);
	tap_ok(r[0].hi == 0.25 && r[1].lo == 0.5 && r[1].hi == 0.75,
	    "ranges: coverage leaves gaps");
	gb_bucket_ranges(3, 0.2, w3, 3, r);
	/* start + coverage * w, as the SDK computes it: 0.2*0.2 is not 0.04 */
	tap_ok(r[0].hi == 0.2 * 0.2 && r[1].lo == 0.2 &&
	    r[2].hi == 0.5 + 0.2 * 0.5, "ranges: uneven weights, coverage");
	gb_bucket_ranges(2, 1, bad, 2, r);
	tap_ok(r[0].hi == 0.5, "ranges: weights summing to 1.3 -> equal");
	gb_bucket_ranges(2, 1, near1, 2, r);
	tap_ok(r[1].hi == 0.9999, "ranges: weights summing to 0.9999 kept");
	gb_bucket_ranges(2, -0.2, NULL, 0, r);
	tap_ok(r[0].hi == 0 && r[1].hi == 0.5, "ranges: coverage clamped to 0");
	gb_bucket_ranges(4, 1, w3, 3, r);
	tap_ok(r[3].lo == 0.75, "ranges: wrong weight count -> equal");
	tap_ok(gb_equal_weights(3, w) == 3 && w[0] == 1.0 / 3,
	    "equal weights of 3");
	tap_ok(gb_equal_weights(-1, w) == 0, "equal weights of -1 is empty");

	gb_bucket_ranges(2, 0.5, NULL, 0, r);
	tap_ok(gb_choose_variation(0.25, r, 2) == -1,
	    "choose: end of a range is outside it");
	tap_ok(gb_choose_variation(0.5, r, 2) == 1,
	    "choose: start of a range is inside it");
	r[0].lo = 0, r[0].hi = 0.5, r[1].lo = 0.5, r[1].hi = 0.5;
	r[2].lo = 0.5, r[2].hi = 1;
	tap_ok(gb_choose_variation(0.5, r, 3) == 2,
	    "choose: zero-width range never matches");
}

static void
test_namespace(void)
{
	/* Namespaces always use version 1 of the hash of id "__" ns. */
	double n = gb_hash("__pricing", 9, "B0C1O7F8T2", 10, 1, GB_UTF16);

	tap_ok(gb_in_namespace("B0C1O7F8T2", 10, "pricing", 7, n, n + 0.001,
	    GB_UTF16), "namespace: lower bound inclusive");
	tap_ok(!gb_in_namespace("B0C1O7F8T2", 10, "pricing", 7, 0, n,
	    GB_UTF16), "namespace: upper bound exclusive");
}

static struct gb_experiment exp_;

static int
parse(const char *json, int strict, char **err)
{
	struct gb_parse_opts o = { 2, strict, NULL, "asin", GB_UTF16 };

	return gb_exp_parse(&exp_, jv_parse(json), &o, err);
}

static void
parse_fails(const char *json, const char *want)
{
	char *err = NULL;
	int ok = parse(json, 1, &err);

	tap_ok(!ok, want);
	tap_str(err, want, "  message");
	free(err);
	if (ok)
		gb_exp_free(&exp_);
}

static int
lk_get(void *ctx, const char *name, const char **s, size_t *n)
{
	const char *cat = ctx;

	if (strcmp(name, "category") != 0 || cat == NULL)
		return 0;
	*s = cat;
	*n = strlen(cat);
	return 1;
}

static void
test_experiment(void)
{
	struct gb_experiment rules[2];
	struct gb_lookup lk = { lk_get, NULL };
	struct gb_result r;
	char *err = NULL;

	tap_ok(parse("{\"key\":\"price-test\",\"seed\":\"price-test-2024\","
	    "\"variations\":[\"a\",\"b\",\"c\"],\"weights\":[0.2,0.3,0.5],"
	    "\"coverage\":0.8,\"meta\":[{\"key\":\"ctl\"}]}", 1, &err),
	    "parse a full definition");
	tap_str(exp_.names[0], "ctl", "name from meta key");
	tap_str(exp_.names[2], "c", "name from a string variation");
	tap_ok(exp_.hash_version == 2, "default hash version is the caller's");
	tap_str(exp_.hash_attribute, "asin", "default hash attribute");
	/* hash(price-test-2024, B0C1O7F8T2, 2) = 0.2184 in [0.16, 0.4) */
	gb_exp_run(&exp_, "B0C1O7F8T2", 10, NULL, &r);
	tap_ok(r.variation == 1 && r.bucket == 0.2184 && r.why == GB_IN,
	    "run: variation 1 at 0.2184");
	gb_exp_run(&exp_, "", 0, NULL, &r);
	tap_ok(r.variation == -1 && r.bucket == -1 && r.why == GB_NO_ID,
	    "run: an empty id is not in the experiment");
	gb_exp_free(&exp_);

	parse_fails("{\"key\":\"k\",\"variations\":[0,1],\"weights\":[0.7,0.6]}",
	    "experiment \"k\": weights sum to 1.3, not 1 (the SDK would use "
	    "equal weights)");
	parse_fails("{\"key\":\"k\",\"variations\":[0]}",
	    "experiment \"k\": variations: expected at least 2");
	parse_fails("{\"key\":\"k\",\"variations\":[0,1],\"colour\":1}",
	    "experiment \"k\": unknown field \"colour\"");
	parse_fails("{\"key\":\"k\",\"variations\":[0,1],\"coverage\":1.5}",
	    "experiment \"k\": coverage: expected a number from 0 to 1");
	parse_fails("{\"key\":\"k\",\"variations\":[0,1],\"hashVersion\":3}",
	    "experiment \"k\": hashVersion: expected 1 or 2");
	parse_fails("{\"variations\":[0,1]}", "experiment: key: missing");
	parse_fails("{\"key\":\"k\",\"variations\":[0,1],\"namespace\":[1]}",
	    "experiment \"k\": namespace: expected [id, start, end]");
	parse_fails("{\"key\":\"k\",\"variations\":[0,1],"
	    "\"condition\":{\"a\":{\"$gt\":1}}}",
	    "experiment \"k\": condition: only {\"attribute\": \"value\"} "
	    "is supported");
	parse_fails("[]", "experiment: expected a JSON object");

	/* Lenient reading keeps the SDK's fix-ups. */
	tap_ok(parse("{\"key\":\"k\",\"variations\":[0,1],\"weights\":[0.7,0.6],"
	    "\"hashVersion\":99}", 0, &err), "lenient: odd definition accepted");
	tap_ok(exp_.weights[0] == 0.5 && exp_.hash_version == -1,
	    "lenient: equal weights, unknown version");
	gb_exp_run(&exp_, "x", 1, NULL, &r);
	tap_ok(r.why == GB_BAD_VERSION, "lenient: unknown version never assigns");
	gb_exp_free(&exp_);

	/* Rules: Books at 0% coverage falls through to the catch-all. */
	tap_ok(parse("{\"key\":\"r\",\"variations\":[0,1],\"coverage\":0,"
	    "\"condition\":{\"category\":\"Books\"}}", 1, &err),
	    "parse a rule with a condition");
	rules[0] = exp_;
	tap_ok(parse("{\"key\":\"r\",\"variations\":[0,1]}", 1, &err),
	    "parse a catch-all rule");
	rules[1] = exp_;
	lk.ctx = "Books";
	tap_ok(gb_rules_run(rules, 2, "B0C1O7F8T2", 10, &lk, &r) == 1,
	    "rules: excluded by coverage falls through");
	tap_ok(gb_rules_run(rules, 1, "B0C1O7F8T2", 10, &lk, &r) == -1 &&
	    r.why == GB_COVERAGE && r.bucket >= 0,
	    "rules: the first matching rule's reason is kept");
	lk.ctx = "Toys";
	tap_ok(gb_rules_run(rules, 1, "B0C1O7F8T2", 10, &lk, &r) == -1 &&
	    r.why == GB_NO_RULE, "rules: no condition held");
	gb_exp_free(&rules[0]);
	gb_exp_free(&rules[1]);
}

int
main(void)
{
	test_hash();
	test_bucket_string();
	test_ranges();
	test_namespace();
	test_experiment();
	return tap_done();
}
