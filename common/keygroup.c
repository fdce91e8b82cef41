/*
 * keygroup.c - grouping by a fixed-width key (see keygroup.h).  The cost
 * per row is one probe of a small table and one append to a block of
 * rows; blocks are never moved or copied.  The group layout at the end
 * is a counting sort over the group ids.
 */
#include <sys/mman.h>

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "asin.h"
#include "keygroup.h"

#define BLOCK_BYTES (4u << 20)	/* a block of rows: two huge pages */
#define HUGE_BYTES (2u << 20)

/*
 * A table entry: the key's bytes and the group id + 1 (0: empty), 16
 * bytes, so the table of ten thousand groups stays in the core's own
 * cache: a probe per row is the cost of grouping day-major input.
 */
struct kslot {
	unsigned char key[KEYGROUP_MAXKEY];
	uint32_t id1;
};

/* The line copies of an unstable input: chunks that never move. */
struct kchunk {
	struct kchunk *next;
	size_t cap, used;
	char data[];
};

struct keygroup {
	size_t keylen;
	size_t rowsize;
	int stable;
	int done;

	char **block;		/* rows, rowsize bytes apart, per block */
	size_t nblock, blockcap;
	size_t perblock;	/* rows a block holds */
	size_t nrow, rowcap;
	uint32_t *gid;		/* each row's group, until the layout */

	struct kslot *tab;	/* open addressing, a power of two long */
	size_t tcap;
	unsigned char *keys;	/* group id -> its key, keylen bytes each */
	size_t *count;		/* group id -> rows; then its first slot */
	size_t ngroup, gcap;

	struct group_row **ord;	/* every row, grouped, groups in key order */
	size_t *start;		/* key rank -> its first index in ord */

	struct kchunk *chunks;
	struct src_names src;	/* input names the rows point to */
};

/*
 * n bytes (a multiple of HUGE_BYTES) aligned to a huge page and hinted to
 * get huge pages: filling them then takes a page fault per 2 MB instead
 * of per 4 KB (a fault is dear, more so in a virtual machine).  Only a
 * hint: where the kernel gives none, nothing changes.
 */
static void *
huge_alloc(size_t n)
{
	void *p;

	if (posix_memalign(&p, HUGE_BYTES, n) != 0)
		die("out of memory (%zu bytes)", n);
#ifdef MADV_HUGEPAGE
	(void)madvise(p, n, MADV_HUGEPAGE);
#endif
	return p;
}

/* The key's bytes, zero-padded to the slot's width. */
static void
key_pad(unsigned char *dst, const void *key, size_t n)
{
	memset(dst, 0, KEYGROUP_MAXKEY);
	memcpy(dst, key, n);
}

static uint64_t
key_hash(const unsigned char *k)
{
	uint64_t a, b;
	uint32_t c;

	memcpy(&a, k, 8);
	memcpy(&c, k + 8, 4);
	b = c;
	a = (a ^ (b << 29 | b >> 35)) * 0xbf58476d1ce4e5b9ull;
	a ^= a >> 31;
	a *= 0x94d049bb133111ebull;
	return a ^ (a >> 29);
}

struct keygroup *
keygroup_new(size_t keylen, size_t nval, int stable)
{
	struct keygroup *kg;

	if (keylen < 1 || keylen > KEYGROUP_MAXKEY)
		die("keygroup_new: bad key width %zu", keylen);
	kg = xcalloc(1, sizeof(*kg));
	kg->keylen = keylen;
	/* Keep val[] of every row aligned for doubles. */
	kg->rowsize = (sizeof(struct group_row) + nval * sizeof(double) +
	    sizeof(double) - 1) & ~(sizeof(double) - 1);
	kg->stable = stable;
	kg->perblock = BLOCK_BYTES / kg->rowsize;
	kg->tcap = 1024;
	kg->tab = xcalloc(kg->tcap, sizeof(*kg->tab));
	return kg;
}

void
keygroup_free(struct keygroup *kg)
{
	struct kchunk *c, *next;
	size_t i;

	if (kg == NULL)
		return;
	for (c = kg->chunks; c != NULL; c = next) {
		next = c->next;
		free(c);
	}
	src_names_free(&kg->src);
	for (i = 0; i < kg->nblock; i++)
		free(kg->block[i]);
	free(kg->block);
	free(kg->gid);
	free(kg->tab);
	free(kg->keys);
	free(kg->count);
	free(kg->ord);
	free(kg->start);
	free(kg);
}

static void
table_grow(struct keygroup *kg)
{
	struct kslot *old = kg->tab;
	size_t i, j, ocap = kg->tcap;

	kg->tcap *= 2;
	kg->tab = xcalloc(kg->tcap, sizeof(*kg->tab));
	for (i = 0; i < ocap; i++) {
		if (old[i].id1 == 0)
			continue;
		for (j = key_hash(old[i].key) & (kg->tcap - 1);
		    kg->tab[j].id1 != 0;
		    j = (j + 1) & (kg->tcap - 1))
			;
		kg->tab[j] = old[i];
	}
	free(old);
}

/* The id of key's group, made if new. */
static size_t
group_id(struct keygroup *kg, const char *key)
{
	unsigned char k[KEYGROUP_MAXKEY];
	struct kslot *s;
	size_t j;

	key_pad(k, key, kg->keylen);
	for (j = key_hash(k) & (kg->tcap - 1); (s = &kg->tab[j])->id1 != 0;
	    j = (j + 1) & (kg->tcap - 1))
		if (memcmp(s->key, k, KEYGROUP_MAXKEY) == 0)
			return s->id1 - 1;
	if (kg->ngroup == UINT32_MAX - 1)
		die("keygroup: more than %u groups", (unsigned)UINT32_MAX);
	if (kg->ngroup == kg->gcap) {
		kg->gcap = kg->gcap ? kg->gcap * 2 : 1024;
		kg->keys = xreallocarray(kg->keys, kg->gcap, kg->keylen);
		kg->count = xreallocarray(kg->count, kg->gcap,
		    sizeof(*kg->count));
	}
	memcpy(kg->keys + kg->ngroup * kg->keylen, k, kg->keylen);
	kg->count[kg->ngroup] = 0;
	memcpy(s->key, k, KEYGROUP_MAXKEY);
	s->id1 = (uint32_t)++kg->ngroup;
	/* Linear probing stays short below 70% full. */
	if (kg->ngroup * 10 > kg->tcap * 7)
		table_grow(kg);
	return kg->ngroup - 1;
}

static char *
copy_line(struct keygroup *kg, const char *line, size_t len)
{
	struct kchunk *c = kg->chunks;
	size_t cap;
	char *p;

	if (c == NULL || c->cap - c->used < len + 1) {
		if (sizeof(*c) + len + 1 <= BLOCK_BYTES) {
			cap = BLOCK_BYTES - sizeof(*c);
			c = huge_alloc(BLOCK_BYTES);
		} else {
			cap = len + 1;
			c = xmalloc(sizeof(*c) + cap);
		}
		c->cap = cap;
		c->used = 0;
		c->next = kg->chunks;
		kg->chunks = c;
	}
	p = c->data + c->used;
	memcpy(p, line, len);
	p[len] = '\0';
	c->used += len + 1;
	return p;
}

struct group_row *
keygroup_add(struct keygroup *kg, const char *key, const char *line,
    size_t len, const char *source, long lineno)
{
	struct group_row *r;
	size_t id;

	if (kg->done)
		die("keygroup_add: after keygroup_finish");
	id = group_id(kg, key);
	if (kg->nrow == kg->rowcap) {
		kg->rowcap = kg->rowcap ? kg->rowcap * 2 : 4096;
		kg->gid = xreallocarray(kg->gid, kg->rowcap, sizeof(*kg->gid));
	}
	if (kg->nrow == kg->nblock * kg->perblock) {
		if (kg->nblock == kg->blockcap) {
			kg->blockcap = kg->blockcap ? kg->blockcap * 2 : 16;
			kg->block = xreallocarray(kg->block, kg->blockcap,
			    sizeof(*kg->block));
		}
		kg->block[kg->nblock++] = huge_alloc(BLOCK_BYTES);
	}
	kg->gid[kg->nrow] = (uint32_t)id;
	kg->count[id]++;
	r = (struct group_row *)(void *)(kg->block[kg->nblock - 1] +
	    (kg->nrow % kg->perblock) * kg->rowsize);
	kg->nrow++;
	r->line = kg->stable ? line : copy_line(kg, line, len);
	r->len = len;
	r->source = src_names_intern(&kg->src, source);
	r->lineno = lineno;
	r->flags = 0;
	return r;
}

/* qsort() has no context argument: the width rides in the entries. */
struct kref {
	const unsigned char *key;
	size_t len;
	size_t id;
};

static int
cmp_kref(const void *a, const void *b)
{
	const struct kref *x = a, *y = b;

	return memcmp(x->key, y->key, x->len);
}

size_t
keygroup_finish(struct keygroup *kg)
{
	struct kref *ref;
	size_t i, id, at, b, k;

	if (kg->done)
		return kg->ngroup;
	kg->done = 1;
	/* Rank the groups by key; count[] then holds each group's next
	 * slot in ord[], start[] each rank's first. */
	ref = xcalloc(kg->ngroup + 1, sizeof(*ref));
	for (i = 0; i < kg->ngroup; i++) {
		ref[i].key = kg->keys + i * kg->keylen;
		ref[i].len = kg->keylen;
		ref[i].id = i;
	}
	qsort(ref, kg->ngroup, sizeof(*ref), cmp_kref);
	kg->start = xcalloc(kg->ngroup + 1, sizeof(*kg->start));
	for (i = at = 0; i < kg->ngroup; i++) {
		id = ref[i].id;
		kg->start[i] = at;
		at += kg->count[id];
		kg->count[id] = kg->start[i];
	}
	kg->start[kg->ngroup] = at;
	free(ref);
	/* One stable pass: rows keep their arrival order in a group. */
	kg->ord = huge_alloc(((kg->nrow + 1) * sizeof(*kg->ord) +
	    HUGE_BYTES - 1) & ~(size_t)(HUGE_BYTES - 1));
	for (i = b = k = 0; i < kg->nrow; i++) {
		kg->ord[kg->count[kg->gid[i]]++] = (struct group_row *)(void *)
		    (kg->block[b] + k * kg->rowsize);
		if (++k == kg->perblock) {
			b++;
			k = 0;
		}
	}
	free(kg->gid);
	kg->gid = NULL;
	free(kg->tab);
	kg->tab = NULL;
	return kg->ngroup;
}

struct group_row **
keygroup_rows(struct keygroup *kg, size_t i, size_t *n)
{
	*n = kg->start[i + 1] - kg->start[i];
	return kg->ord + kg->start[i];
}

size_t
keygroup_held(const struct keygroup *kg)
{
	return kg->nrow;
}
