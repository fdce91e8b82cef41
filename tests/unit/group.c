/*
 * group.c - unit tests of the grouping engine: key encoding and order,
 * hash and sorted modes giving the same batches, root batches, the
 * not-sorted refusal, line copies versus borrowed lines, and the held-rows
 * bound of the sorted mode.
 */
#include <stdlib.h>
#include <string.h>

#include "asin.h"
#include "group.h"
#include "tap.h"

/* What the callback saw, flattened to one string per run. */
struct seen {
	struct buf log;
	size_t batches;
};

static void
record_batch(void *ctx, struct group **g, size_t n)
{
	struct seen *s = ctx;
	size_t i, j;

	s->batches++;
	buf_addc(&s->log, '{');
	for (i = 0; i < n; i++) {
		group_key_json(&s->log, g[i]->key, g[i]->keylen);
		buf_addc(&s->log, ':');
		for (j = 0; j < g[i]->n; j++)
			buf_printf(&s->log, "%s%.*s@%ld=%g", j ? "," : "",
			    (int)group_row(g[i], j)->len, group_row(g[i], j)->line,
			    group_row(g[i], j)->lineno, group_row(g[i], j)->val[0]);
		buf_addc(&s->log, ';');
	}
	buf_addc(&s->log, '}');
}

/* Add "a|b|line" style rows: fields split on '|', last part is the line. */
static struct group_row *
add(struct group_set *gs, const char *spec, long lineno)
{
	char tmp[256];
	char *p, *bar, *line;
	struct group_row *r;

	snprintf(tmp, sizeof(tmp), "%s", spec);
	line = strrchr(tmp, '|') + 1;
	group_key_begin(gs);
	for (p = tmp; (bar = strchr(p, '|')) != NULL && p < line; p = bar + 1)
		group_key_add(gs, p, bar - p);
	r = group_add(gs, line, strlen(line), "t", lineno);
	if (r != NULL)
		r->val[0] = (double)lineno;
	/* Scribble over the caller's bytes: copies must not care. */
	memset(tmp, 'X', sizeof(tmp) - 1);
	return r;
}

static void
test_key_order(void)
{
	struct group_set *gs = group_set_new(2, 2, 0, 0, 0, record_batch,
	    NULL);
	struct buf a, b, j;

	buf_init(&a);
	buf_init(&b);
	buf_init(&j);
	/* "a","z" must sort before "ab","a": field order, not byte order
	 * of the joined text. */
	group_key_begin(gs);
	group_key_add(gs, "a", 1);
	group_key_add(gs, "z", 1);
	group_key_begin(gs);
	tap_ok(group_key_cmp("a\0\001z", 4, "ab\0\001a", 5) < 0,
	    "separator sorts below content");
	tap_ok(group_key_cmp("a\0\377\0\001z", 6, "a\0\001z", 4) > 0,
	    "escaped NUL sorts after end of field");
	tap_ok(group_key_cmp("a\0\377", 3, "a\001", 2) < 0,
	    "escaped NUL sorts below byte 1");
	tap_ok(group_key_cmp("ab", 2, "ab", 2) == 0, "equal keys");
	tap_ok(group_key_cmp("a", 1, "ab", 2) < 0, "prefix first");
	tap_ok(group_prefix_len("ab\0\001cd\0\001e", 9, 1) == 2,
	    "prefix of 1 field");
	tap_ok(group_prefix_len("ab\0\001cd\0\001e", 9, 2) == 6,
	    "prefix of 2 fields");
	tap_ok(group_prefix_len("ab\0\001cd\0\001e", 9, 3) == 9,
	    "prefix of all fields");
	tap_ok(group_prefix_len("a\0\377b\0\001c", 7, 1) == 4,
	    "prefix skips an escaped NUL");
	group_key_json(&j, "a\0\377\"b\0\001c", 8);
	tap_str(j.data, "[\"a\\u0000\\\"b\",\"c\"]", "key as JSON");
	buf_free(&a);
	buf_free(&b);
	buf_free(&j);
	group_set_free(gs);
}

static const char *rows[] = {
	"US|b|r1", "DE|a|r2", "US|a|r3", "US|b|r4", "DE|a|r5", "US|\xc3\xa9|r6",
	NULL
};
static const char *sorted_rows[] = {
	"DE|a|r2", "DE|a|r5", "US|a|r3", "US|b|r1", "US|b|r4", "US|\xc3\xa9|r6",
	NULL
};

static void
test_hash_vs_sorted(void)
{
	struct seen h, s;
	struct group_set *gs;
	size_t i;

	memset(&h, 0, sizeof(h));
	memset(&s, 0, sizeof(s));
	buf_init(&h.log);
	buf_init(&s.log);
	gs = group_set_new(2, 2, 1, 0, 0, record_batch, &h);
	for (i = 0; rows[i] != NULL; i++)
		add(gs, rows[i], i + 1);
	tap_ok(h.batches == 0, "hash mode holds until finish");
	group_set_finish(gs);
	tap_str(h.log.data,
	    "{[\"DE\",\"a\"]:r2@2=2,r5@5=5;}{[\"US\",\"a\"]:r3@3=3;}"
	    "{[\"US\",\"b\"]:r1@1=1,r4@4=4;}{[\"US\",\"\xc3\xa9\"]:r6@6=6;}",
	    "hash mode: groups in key byte order, rows in arrival order");
	tap_ok(group_set_peak(gs) == 6, "hash mode held every row");
	group_set_free(gs);

	gs = group_set_new(2, 2, 1, 1, 0, record_batch, &s);
	for (i = 0; sorted_rows[i] != NULL; i++) {
		add(gs, sorted_rows[i], atol(strrchr(sorted_rows[i], 'r') + 1));
		if (i == 2)
			tap_ok(s.batches == 1, "sorted mode emits at a new key");
	}
	group_set_finish(gs);
	tap_str(s.log.data, h.log.data, "sorted mode gives the same batches");
	tap_ok(group_set_peak(gs) == 2, "sorted mode held one group");
	group_set_free(gs);
	buf_free(&h.log);
	buf_free(&s.log);
}

static void
test_root_batches(void)
{
	struct seen s;
	struct group_set *gs;
	size_t i;

	memset(&s, 0, sizeof(s));
	buf_init(&s.log);
	gs = group_set_new(2, 1, 1, 0, 0, record_batch, &s);
	for (i = 0; rows[i] != NULL; i++)
		add(gs, rows[i], i + 1);
	group_set_finish(gs);
	tap_ok(s.batches == 2, "hash mode: one batch per root key");
	tap_str(s.log.data,
	    "{[\"DE\",\"a\"]:r2@2=2,r5@5=5;}{[\"US\",\"a\"]:r3@3=3;"
	    "[\"US\",\"b\"]:r1@1=1,r4@4=4;[\"US\",\"\xc3\xa9\"]:r6@6=6;}",
	    "root batch holds all its groups");
	group_set_free(gs);

	s.log.len = 0;
	s.batches = 0;
	gs = group_set_new(2, 1, 1, 1, 0, record_batch, &s);
	for (i = 0; sorted_rows[i] != NULL; i++)
		add(gs, sorted_rows[i], atol(strrchr(sorted_rows[i], 'r') + 1));
	group_set_finish(gs);
	tap_ok(s.batches == 2, "sorted mode: one batch per root key");
	tap_ok(group_set_peak(gs) == 4, "sorted mode held the largest root");
	group_set_free(gs);
	buf_free(&s.log);
}

static void
test_not_sorted(void)
{
	struct seen s;
	struct group_set *gs;

	memset(&s, 0, sizeof(s));
	buf_init(&s.log);
	gs = group_set_new(2, 2, 1, 1, 0, record_batch, &s);
	tap_ok(add(gs, "US|b|r1", 1) != NULL, "first row");
	tap_ok(add(gs, "US|c|r2", 2) != NULL, "second row");
	tap_ok(add(gs, "US|c|r3", 3) != NULL, "equal key");
	/* The earlier batch is already gone; the order is still checked. */
	tap_ok(add(gs, "US|b|r4", 4) == NULL, "an earlier key is refused");
	tap_str(group_set_error(gs),
	    "input not sorted by key: [\"US\",\"b\"] after [\"US\",\"c\"]",
	    "the message names both keys");
	group_set_free(gs);
	buf_free(&s.log);
}

static void
test_stable(void)
{
	struct group_set *gs = group_set_new(1, 1, 0, 0, 1, record_batch,
	    NULL);
	const char *line = "{\"a\":1}";
	struct group_row *r;

	group_key_begin(gs);
	group_key_add(gs, "k", 1);
	r = group_add(gs, line, strlen(line), "f", 1);
	tap_ok(r->line == line, "stable input: the row borrows the line");
	group_set_free(gs);

	gs = group_set_new(1, 1, 0, 0, 0, record_batch, NULL);
	group_key_begin(gs);
	group_key_add(gs, "", 0);
	r = group_add(gs, line, strlen(line), NULL, 1);
	tap_ok(r->line != line && memcmp(r->line, line, r->len) == 0,
	    "unstable input: the row holds a copy");
	tap_str(r->source, "<stdin>", "no source name means stdin");
	group_set_free(gs);
}

static void
test_many(void)
{
	struct seen s;
	struct group_set *gs;
	char k[32];
	long i;
	int ok = 1;

	memset(&s, 0, sizeof(s));
	buf_init(&s.log);
	gs = group_set_new(1, 1, 1, 0, 0, record_batch, &s);
	for (i = 0; i < 20000; i++) {
		snprintf(k, sizeof(k), "%05ld|line", (i * 7919) % 5000);
		ok &= add(gs, k, i + 1) != NULL;
	}
	group_set_finish(gs);
	tap_ok(ok && s.batches == 5000, "5000 groups through table growth");
	tap_ok(strncmp(s.log.data, "{[\"00000\"]:line@1=1,line@5001=5001,",
	    35) == 0, "first group first, four rows each");
	group_set_free(gs);
	buf_free(&s.log);
}

int
main(void)
{
	test_key_order();
	test_hash_vs_sorted();
	test_root_batches();
	test_not_sorted();
	test_stable();
	test_many();
	return tap_done();
}
