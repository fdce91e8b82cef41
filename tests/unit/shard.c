/*
 * shard.c - unit tests of asin-shard's engine: FNV-1a 32 against the
 * published test vectors, the key bytes and text of records, and the
 * order of the sortable key form.
 */
#include <stdio.h>
#include <string.h>

#include "asin.h"
#include "shard.h"
#include "tap.h"

/* Parse line into rec and take the key of k from it. */
static const char *
key_of(struct shard_key *k, struct record *rec, const char *line,
    struct buf *raw, struct buf *text, struct buf *sort)
{
	struct nd_line ln = { line, strlen(line), "<test>", 1, NULL };
	const char *err;

	if (!rec_parse(rec, &ln, &err))
		return err;
	return shard_key_get(k, rec, raw, text, sort);
}

static void
test_fnv(void)
{
	/* FNV-1a 32 vectors of the reference implementation's test suite. */
	tap_ok(shard_fnv1a32(SHARD_FNV_OFFSET, "", 0) == 0x811c9dc5u,
	    "fnv1a32(\"\")");
	tap_ok(shard_fnv1a32(SHARD_FNV_OFFSET, "a", 1) == 0xe40c292cu,
	    "fnv1a32(\"a\")");
	tap_ok(shard_fnv1a32(SHARD_FNV_OFFSET, "foobar", 6) == 0xbf9cf968u,
	    "fnv1a32(\"foobar\")");
	/* Continuing a hash equals hashing the concatenation. */
	tap_ok(shard_fnv1a32(shard_fnv1a32(SHARD_FNV_OFFSET, "foo", 3),
	    "bar", 3) == 0xbf9cf968u, "fnv1a32 continues");
}

static void
test_key(void)
{
	struct shard_key k;
	struct record *rec = rec_new();
	struct buf raw, text, sort;
	const char *err;

	buf_init(&raw);
	buf_init(&text);
	buf_init(&sort);
	shard_key_init(&k, "a,b");
	err = key_of(&k, rec, "{\"b\":\"x\\ty\",\"a\":\"\\u00e9\"}", &raw,
	    &text, &sort);
	tap_ok(err == NULL, "key of a string pair");
	tap_ok(raw.len == 7 && memcmp(raw.data, "\xc3\xa9\x1fx\ty\x1f", 7) == 0,
	    "raw key: decoded strings, each ended by 0x1F");
	buf_addc(&text, '\0');
	tap_str(text.data, "\xc3\xa9\tx\\ty", "text key: escaped, TAB-joined");
	err = key_of(&k, rec, "{\"a\":null}", &raw, &text, NULL);
	tap_ok(err == NULL && raw.len == 4 &&
	    memcmp(raw.data, "\0\x1f\0\x1f", 4) == 0,
	    "raw key: null and missing are 0x00 0x1F");
	buf_addc(&text, '\0');
	tap_str(text.data, "\\N\t\\N", "text key: null and missing are \\N");
	err = key_of(&k, rec, "{\"a\":1,\"b\":\"x\"}", &raw, NULL, NULL);
	tap_str(err != NULL ? err : "(none)",
	    "field \"a\": expected string, got number",
	    "a number key is refused");
	shard_key_free(&k);
	buf_free(&raw);
	buf_free(&text);
	buf_free(&sort);
	rec_free(rec);
}

static void
test_order(void)
{
	/* Increasing key order of (a, b), as LC_ALL=C sort on the fields. */
	static const char *const lines[] = {
		"{\"a\":null,\"b\":\"z\"}",
		"{\"a\":\"\",\"b\":\"z\"}",
		"{\"a\":\"\\u0000\",\"b\":\"a\"}",
		"{\"a\":\"a\",\"b\":null}",
		"{\"a\":\"a\",\"b\":\"\"}",
		"{\"a\":\"a\",\"b\":\"z\"}",
		"{\"a\":\"a\\u0000\",\"b\":\"a\"}",
		"{\"a\":\"a\\u0001\",\"b\":\"a\"}",
		"{\"a\":\"ab\",\"b\":\"a\"}",
		"{\"a\":\"\\u00e9\",\"b\":\"a\"}",
	};
	size_t n = sizeof(lines) / sizeof(lines[0]), i;
	struct shard_key k;
	struct record *rec = rec_new();
	struct buf prev, cur, t;
	char what[160];

	buf_init(&prev);
	buf_init(&cur);
	shard_key_init(&k, "a,b");
	for (i = 0; i < n; i++) {
		if (key_of(&k, rec, lines[i], NULL, NULL, &cur) != NULL) {
			tap_ok(0, lines[i]);
			continue;
		}
		if (i > 0) {
			snprintf(what, sizeof(what), "%s < %s", lines[i - 1],
			    lines[i]);
			tap_ok(shard_key_cmp(prev.data, prev.len, cur.data,
			    cur.len) < 0, what);
		}
		tap_ok(shard_key_cmp(cur.data, cur.len, cur.data, cur.len) ==
		    0, "a key equals itself");
		t = prev;
		prev = cur;
		cur = t;
	}
	shard_key_free(&k);
	buf_free(&prev);
	buf_free(&cur);
	rec_free(rec);
}

/* The shard of line by picking: the one of 0..n-1 whose pick takes it. */
static int
picked_by(const char *line, unsigned n, int *parsed_any)
{
	struct nd_line ln = { line, strlen(line), "<test>", 1, NULL };
	struct record *rec = rec_new();
	struct shard_pick p;
	unsigned i;
	int who = -1, parsed;

	*parsed_any = 0;
	for (i = 0; i < n; i++) {
		shard_pick_init(&p, "asin", i, n);
		if (shard_pick_line(&p, rec, &ln, &parsed)) {
			if (who >= 0)
				who = -2;	/* taken twice */
			else if (who == -1)
				who = (int)i;
		}
		*parsed_any |= parsed;
		shard_pick_free(&p);
	}
	rec_free(rec);
	return who;
}

/* The shard of line by its parsed key: what asin-shard writes it to. */
static int
keyed_shard(const char *line, unsigned n)
{
	struct shard_key k;
	struct record *rec = rec_new();
	struct buf raw;
	int s;

	buf_init(&raw);
	shard_key_init(&k, "asin");
	if (key_of(&k, rec, line, &raw, NULL, NULL) != NULL)
		s = -1;
	else
		s = (int)(shard_fnv1a32(SHARD_FNV_OFFSET, raw.data, raw.len) %
		    n);
	shard_key_free(&k);
	buf_free(&raw);
	rec_free(rec);
	return s;
}

static void
test_pick(void)
{
	static const char *const good[] = {
		"{\"asin\":\"B0AAAAAAA1\",\"date\":\"2024-01-01\"}",
		"{\"asin\":\"B0AAAAAAA2\"}",
		"{\"date\":\"2024-01-01\",\"asin\":\"B0AAAAAAA3\"}",
		"{\"asin\":\"B0\\u0041AAAAAA4\"}",
		"{ \"asin\":\"B0AAAAAAA5\"}",
		"{\"asin\":\"\u00e9t\u00e9\"}",
		"{\"asin\":null}",
		"{\"title\":\"no key\"}",
	};
	unsigned n, ok, i;
	int parsed, who;

	/* Every valid line: exactly one pick, the shard asin-shard gives. */
	for (n = 1; n <= 7; n += 3) {
		ok = 1;
		for (i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
			who = picked_by(good[i], n, &parsed);
			if (who < 0 || who != keyed_shard(good[i], n)) {
				printf("# n=%u line %u: picked by %d, keyed %d\n",
				    n, i, who, keyed_shard(good[i], n));
				ok = 0;
			}
		}
		tap_ok(ok, n == 1 ? "pick == asin-shard's shard, n=1" :
		    n == 4 ? "pick == asin-shard's shard, once, n=4" :
		    "pick == asin-shard's shard, once, n=7");
	}
	/* The fast path parses nothing; an escape or another order does. */
	picked_by(good[0], 7, &parsed);
	tap_ok(!parsed, "a leading plain asin is routed unparsed");
	picked_by(good[3], 7, &parsed);
	tap_ok(parsed, "an escaped asin is parsed");
	picked_by(good[2], 7, &parsed);
	tap_ok(parsed, "a later asin is parsed");
	/* Lines that are no record: once, shard 0; a cut line by its asin. */
	tap_ok(picked_by("not json", 7, &parsed) == 0, "not JSON: shard 0");
	tap_ok(picked_by("{\"asin\":1}", 7, &parsed) == 0,
	    "a number key: shard 0");
	who = picked_by("{\"asin\":\"B0AAAAAAA2\",\"x\":", 7, &parsed);
	tap_ok(who == keyed_shard(good[1], 7),
	    "a line cut short goes with its leading asin");
}

int
main(void)
{
	test_fnv();
	test_key();
	test_order();
	test_pick();
	return tap_done();
}
