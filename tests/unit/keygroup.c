/*
 * keygroup.c - unit tests of the fixed-width grouping engine: the same
 * groups, in the same order, with the same rows in the same order, as
 * group.c's hash mode on random keys (enough groups to grow the table);
 * line copies versus borrowed lines, a line longer than a block, and an
 * empty run.
 */
#include <stdlib.h>
#include <string.h>

#include "asin.h"
#include "group.h"
#include "keygroup.h"
#include "tap.h"

#define NROWS 20000
#define NKEYS 3000

static struct buf glog;

static void
log_row(struct buf *b, const struct group_row *r)
{
	buf_printf(b, "%.*s@%s:%ld=%g/%u,", (int)r->len, r->line, r->source,
	    r->lineno, r->val[0], r->flags);
}

static void
group_cb(void *ctx, struct group **g, size_t n)
{
	size_t i, j;

	(void)ctx;
	for (i = 0; i < n; i++) {
		group_key_json(&glog, g[i]->key, g[i]->keylen);
		buf_addc(&glog, ':');
		for (j = 0; j < g[i]->n; j++)
			log_row(&glog, group_row(g[i], j));
		buf_addc(&glog, ';');
	}
}

/* Key number k as an ASIN and a marketplace: 12 bytes. */
static void
make_key(char *key, unsigned k)
{
	static const char *const mkt[] = { "DE", "GB", "US" };

	snprintf(key, 13, "B%09u%s", k / 3 * 7919 % 1000000000u, mkt[k % 3]);
}

static void
same_as_group_c(int stable)
{
	struct group_set *gs = group_set_new(2, 2, 1, 0, stable, group_cb,
	    NULL);
	struct keygroup *kg = keygroup_new(12, 1, stable);
	struct buf klog, *lines = xcalloc(NROWS, sizeof(*lines));
	struct group_row *r, **rows;
	char key[13], line[64];
	size_t i, j, ng, n;
	unsigned k, seed = 12345;
	int borrowed = 1;
	char *seen = xcalloc(NKEYS, 1);
	size_t nseen = 0;

	buf_init(&klog);
	glog.len = 0;
	for (i = 0; i < NROWS; i++) {
		seed = seed * 1103515245u + 12345u;
		k = (seed >> 8) % NKEYS;
		nseen += !seen[k];
		seen[k] = 1;
		make_key(key, k);
		snprintf(line, sizeof(line), "{\"n\":%zu}", i);
		buf_init(&lines[i]);
		buf_adds(&lines[i], line);
		group_key_begin(gs);
		group_key_add(gs, key, 10);
		group_key_add(gs, key + 10, 2);
		r = group_add(gs, lines[i].data, lines[i].len,
		    i < NROWS / 2 ? "a" : "b", (long)i + 1);
		r->val[0] = (double)k;
		r->flags = (unsigned)(i % 5);
		r = keygroup_add(kg, key, lines[i].data, lines[i].len,
		    i < NROWS / 2 ? "a" : "b", (long)i + 1);
		r->val[0] = (double)k;
		r->flags = (unsigned)(i % 5);
	}
	group_set_finish(gs);
	tap_ok(keygroup_held(kg) == NROWS, "every row is held");
	ng = keygroup_finish(kg);
	tap_ok(ng == nseen && ng > 2000, "one group per key");
	for (i = 0; i < ng; i++) {
		rows = keygroup_rows(kg, i, &n);
		/* The key of the group, as group.c writes it. */
		make_key(key, (unsigned)rows[0]->val[0]);
		buf_printf(&klog, "[\"%.10s\",\"%.2s\"]:", key, key + 10);
		for (j = 0; j < n; j++) {
			log_row(&klog, rows[j]);
			if (rows[j]->line != lines[rows[j]->lineno - 1].data)
				borrowed = 0;
		}
		buf_addc(&klog, ';');
	}
	tap_ok(klog.len == glog.len && memcmp(klog.data, glog.data,
	    klog.len) == 0, stable ? "group.c's groups and rows, in order "
	    "(borrowed lines)" : "group.c's groups and rows, in order "
	    "(copied lines)");
	tap_ok(borrowed == stable, stable ? "a stable engine borrows the "
	    "lines" : "an unstable engine copies the lines");
	/* Copies must not care what the caller does with its bytes. */
	if (!stable) {
		for (i = 0; i < NROWS; i++)
			memset(lines[i].data, 'X', lines[i].len);
		klog.len = 0;
		for (i = 0; i < ng; i++) {
			rows = keygroup_rows(kg, i, &n);
			make_key(key, (unsigned)rows[0]->val[0]);
			buf_printf(&klog, "[\"%.10s\",\"%.2s\"]:", key,
			    key + 10);
			for (j = 0; j < n; j++)
				log_row(&klog, rows[j]);
			buf_addc(&klog, ';');
		}
		tap_ok(klog.len == glog.len && memcmp(klog.data, glog.data,
		    klog.len) == 0, "the copies outlive the caller's bytes");
	}
	for (i = 0; i < NROWS; i++)
		buf_free(&lines[i]);
	free(lines);
	free(seen);
	buf_free(&klog);
	keygroup_free(kg);
	group_set_free(gs);
}

int
main(void)
{
	struct keygroup *kg;
	struct group_row *r, **rows;
	size_t big = (size_t)5 << 20, n, i;
	char *line = xmalloc(big);
	int ok;

	buf_init(&glog);
	same_as_group_c(0);
	same_as_group_c(1);

	/* Lines longer than a block get a chunk of their own, and the
	 * short ones around them still go in the blocks. */
	kg = keygroup_new(3, 0, 0);
	memset(line, 'y', big);
	keygroup_add(kg, "abc", "short", 5, NULL, 1);
	keygroup_add(kg, "abc", line, big, NULL, 2);
	keygroup_add(kg, "abd", "tail", 4, NULL, 3);
	memset(line, 'z', big);
	tap_ok(keygroup_finish(kg) == 2, "two groups");
	rows = keygroup_rows(kg, 0, &n);
	ok = n == 2 && rows[0]->len == 5 && memcmp(rows[0]->line, "short",
	    6) == 0 && rows[1]->len == big && rows[1]->line[big] == '\0';
	for (i = 0; ok && i < big; i++)
		ok = rows[1]->line[i] == 'y';
	tap_ok(ok, "a line longer than a block is copied whole");
	rows = keygroup_rows(kg, 1, &n);
	tap_ok(n == 1 && strcmp(rows[0]->line, "tail") == 0 &&
	    strcmp(rows[0]->source, "<stdin>") == 0,
	    "the next short line, its source named <stdin>");
	keygroup_free(kg);

	kg = keygroup_new(12, 2, 0);
	tap_ok(keygroup_finish(kg) == 0 && keygroup_held(kg) == 0,
	    "no rows: no groups");
	keygroup_free(kg);

	/* Rows are 8-byte aligned for their doubles. */
	kg = keygroup_new(1, 3, 1);
	r = keygroup_add(kg, "k", "x", 1, "s", 1);
	tap_ok(((uintptr_t)r->val & 7) == 0, "val[] is aligned");
	keygroup_free(kg);

	free(line);
	buf_free(&glog);
	return tap_done();
}
