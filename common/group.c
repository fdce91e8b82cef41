/*
 * group.c - the grouping engine (see group.h).  Each group keeps its rows
 * in one growing array; keys and line copies live in a chunked arena so
 * their addresses never move.  The sorted mode rewinds it after every
 * batch, which is what bounds its memory by the largest batch.  Groups are found by an open-addressing hash table in the
 * hash mode and by comparing with the previous key in the sorted mode.
 */
#include <stdlib.h>
#include <string.h>

#include "asin.h"
#include "group.h"

/*
 * Key encoding: each field's bytes, a NUL byte escaped as 00 FF, fields
 * separated by 00 01.  The separator sorts below every content byte and
 * an escaped NUL sorts where a NUL would, so memcmp order is tuple order.
 */
#define SEP_BYTE 0x01
#define NUL_BYTE 0xff

#define CHUNK_MIN (1u << 20)

struct chunk {
	struct chunk *next;
	size_t cap;
	size_t used;
	max_align_t data[];
};

/* A bump allocator; rewinding keeps the first chunk for reuse. */
struct arena {
	struct chunk *head;	/* the chunk being filled */
	struct chunk *first;
};

struct group_set {
	int nfields;
	int root;
	size_t nval;
	int sorted;
	int stable;
	group_emit_fn *emit;
	void *ctx;

	struct arena mem;
	struct buf key;		/* the key being built */
	struct buf prev;	/* sorted mode: the last key added */
	int have_prev;
	int key_fields;

	struct group **groups;	/* the groups held, arrival order */
	size_t ngroups;
	size_t gcap;
	struct group **table;	/* hash mode: open addressing */
	size_t tcap;		/* a power of two */

	size_t held;		/* rows held now */
	size_t peak;
	struct src_names src;	/* input names the rows point to */
	struct buf err;
};

static void *arena_alloc(struct arena *, size_t);
static void arena_rewind(struct arena *);
static void arena_free(struct arena *);
static uint64_t hash_bytes(const char *, size_t);
static struct group *new_group(struct group_set *, uint64_t);
static struct group *find_group(struct group_set *, uint64_t);
static void table_grow(struct group_set *);
static void emit_batches(struct group_set *);
static void release(struct group_set *);
static int cmp_groups(const void *, const void *);

static void *
arena_alloc(struct arena *a, size_t n)
{
	struct chunk *c = a->head;
	size_t cap;
	void *p;

	n = (n + sizeof(max_align_t) - 1) & ~(sizeof(max_align_t) - 1);
	while (c != NULL && c->cap - c->used < n) {
		/* After a rewind the next chunks are reused in turn. */
		if (c->next == NULL)
			break;
		c = c->next;
		c->used = 0;
		a->head = c;
	}
	if (c == NULL || c->cap - c->used < n) {
		cap = n > CHUNK_MIN ? n : CHUNK_MIN;
		struct chunk *nc = xmalloc(sizeof(*nc) + cap);
		nc->next = NULL;
		nc->cap = cap;
		nc->used = 0;
		if (c != NULL)
			c->next = nc;
		else
			a->first = nc;
		a->head = c = nc;
	}
	p = (char *)c->data + c->used;
	c->used += n;
	return p;
}

static void
arena_rewind(struct arena *a)
{
	struct chunk *c, *next;

	if (a->first == NULL)
		return;
	/* Keep the first chunk; free oversized tails so one huge batch
	 * does not pin its memory for the rest of the run. */
	for (c = a->first->next; c != NULL; c = next) {
		next = c->next;
		free(c);
	}
	a->first->next = NULL;
	a->first->used = 0;
	a->head = a->first;
}

static void
arena_free(struct arena *a)
{
	struct chunk *c, *next;

	for (c = a->first; c != NULL; c = next) {
		next = c->next;
		free(c);
	}
	a->first = a->head = NULL;
}

/* FNV-1a, 64 bits: keys are short, so a simple hash is fast enough. */
static uint64_t
hash_bytes(const char *s, size_t n)
{
	uint64_t h = 0xcbf29ce484222325ull;
	size_t i;

	for (i = 0; i < n; i++) {
		h ^= (unsigned char)s[i];
		h *= 0x100000001b3ull;
	}
	return h;
}

struct group_set *
group_set_new(int nfields, int root, size_t nval, int sorted, int stable,
    group_emit_fn *emit, void *ctx)
{
	struct group_set *gs;

	if (nfields < 1 || nfields > 64 || root < 1 || root > nfields)
		die("group_set_new: bad key shape %d/%d", root, nfields);
	gs = xcalloc(1, sizeof(*gs));
	gs->nfields = nfields;
	gs->root = root;
	gs->nval = nval;
	gs->sorted = sorted;
	gs->stable = stable;
	gs->emit = emit;
	gs->ctx = ctx;
	buf_init(&gs->key);
	buf_init(&gs->prev);
	buf_init(&gs->err);
	/* Keys are never NULL pointers, even empty ones. */
	buf_addc(&gs->key, '\0');
	buf_addc(&gs->prev, '\0');
	gs->key.len = gs->prev.len = 0;
	if (!sorted) {
		gs->tcap = 1024;
		gs->table = xcalloc(gs->tcap, sizeof(*gs->table));
	}
	return gs;
}

void
group_set_free(struct group_set *gs)
{
	if (gs == NULL)
		return;
	release(gs);
	arena_free(&gs->mem);
	free(gs->groups);
	free(gs->table);
	src_names_free(&gs->src);
	buf_free(&gs->key);
	buf_free(&gs->prev);
	buf_free(&gs->err);
	free(gs);
}

void
group_key_begin(struct group_set *gs)
{
	gs->key.len = 0;
	gs->key_fields = 0;
}

void
group_key_add(struct group_set *gs, const char *s, size_t n)
{
	const char *p, *end = s + n, *nul;

	if (gs->key_fields++ > 0) {
		buf_addc(&gs->key, '\0');
		buf_addc(&gs->key, SEP_BYTE);
	}
	for (p = s; p < end; p = nul + 1) {
		nul = memchr(p, '\0', end - p);
		if (nul == NULL) {
			buf_add(&gs->key, p, end - p);
			break;
		}
		buf_add(&gs->key, p, nul - p);
		buf_addc(&gs->key, '\0');
		buf_addc(&gs->key, (char)NUL_BYTE);
	}
}

int
group_key_cmp(const char *a, size_t alen, const char *b, size_t blen)
{
	int c = memcmp(a, b, alen < blen ? alen : blen);

	if (c != 0)
		return c;
	return alen < blen ? -1 : alen > blen;
}

size_t
group_prefix_len(const char *key, size_t keylen, int nf)
{
	const char *p = key, *end = key + keylen;

	while (nf > 0 && (p = memchr(p, '\0', end - p)) != NULL) {
		if (p + 1 < end && (unsigned char)p[1] == SEP_BYTE &&
		    --nf == 0)
			return p - key;
		p += 2;
	}
	return keylen;
}

void
group_key_json(struct buf *b, const char *key, size_t keylen)
{
	const char *p = key, *end = key + keylen;
	struct buf f;

	buf_init(&f);
	buf_addc(b, '[');
	for (;;) {
		f.len = 0;
		while (p < end && !(p[0] == '\0' && p + 1 < end &&
		    (unsigned char)p[1] == SEP_BYTE)) {
			if (p[0] == '\0') {
				buf_addc(&f, '\0');
				p += 2;
			} else
				buf_addc(&f, *p++);
		}
		buf_add_jstr(b, f.data != NULL ? f.data : "", f.len);
		if (p >= end)
			break;
		buf_addc(b, ',');
		p += 2;
	}
	buf_addc(b, ']');
	buf_free(&f);
}

static struct group *
new_group(struct group_set *gs, uint64_t h)
{
	struct group *g = arena_alloc(&gs->mem, sizeof(*g) + gs->key.len + 1);
	char *k = (char *)(g + 1);

	memcpy(k, gs->key.data, gs->key.len);
	k[gs->key.len] = '\0';
	g->key = k;
	g->keylen = gs->key.len;
	g->hash = h;
	g->rowbuf = NULL;
	/* Keep val[] of every row aligned for doubles. */
	g->rowsize = (sizeof(struct group_row) + gs->nval * sizeof(double) +
	    sizeof(double) - 1) & ~(sizeof(double) - 1);
	g->n = g->cap = 0;
	if (gs->ngroups == gs->gcap) {
		gs->gcap = gs->gcap ? gs->gcap * 2 : 64;
		gs->groups = xreallocarray(gs->groups, gs->gcap,
		    sizeof(*gs->groups));
	}
	gs->groups[gs->ngroups++] = g;
	return g;
}

static void
table_grow(struct group_set *gs)
{
	struct group **old = gs->table;
	size_t i, j, ocap = gs->tcap;

	gs->tcap *= 2;
	gs->table = xcalloc(gs->tcap, sizeof(*gs->table));
	for (i = 0; i < ocap; i++) {
		if (old[i] == NULL)
			continue;
		for (j = old[i]->hash & (gs->tcap - 1); gs->table[j] != NULL;
		    j = (j + 1) & (gs->tcap - 1))
			;
		gs->table[j] = old[i];
	}
	free(old);
}

/* The hash mode's lookup: the group of the current key, made if new. */
static struct group *
find_group(struct group_set *gs, uint64_t h)
{
	struct group *g;
	size_t j;

	for (j = h & (gs->tcap - 1); (g = gs->table[j]) != NULL;
	    j = (j + 1) & (gs->tcap - 1))
		if (g->hash == h && g->keylen == gs->key.len &&
		    memcmp(g->key, gs->key.data, g->keylen) == 0)
			return g;
	g = new_group(gs, h);
	gs->table[j] = g;
	if (gs->ngroups * 2 > gs->tcap)
		table_grow(gs);
	return g;
}

const char *
src_names_intern(struct src_names *sn, const char *src)
{
	if (src == NULL)
		src = "<stdin>";
	/* Names change once per input file, so comparing with the last
	 * one answers almost every call. */
	if (sn->last != NULL && strcmp(sn->last, src) == 0)
		return sn->last;
	sn->v = xreallocarray(sn->v, sn->n + 1, sizeof(*sn->v));
	sn->last = sn->v[sn->n++] = xstrdup(src);
	return sn->last;
}

void
src_names_free(struct src_names *sn)
{
	size_t i;

	for (i = 0; i < sn->n; i++)
		free(sn->v[i]);
	free(sn->v);
	sn->v = NULL;
	sn->n = 0;
	sn->last = NULL;
}

struct group_row *
group_add(struct group_set *gs, const char *line, size_t len,
    const char *source, long lineno)
{
	struct group *g;
	struct group_row *r;
	size_t pl, lpl;
	char *copy;
	int c;

	if (gs->key_fields != gs->nfields)
		die("group_add: %d key fields, want %d", gs->key_fields,
		    gs->nfields);
	if (gs->sorted) {
		/* Compare with the previous key, not the previous group:
		 * the batch before may be gone already. */
		c = gs->have_prev ? group_key_cmp(gs->key.data, gs->key.len,
		    gs->prev.data, gs->prev.len) : 1;
		if (c < 0) {
			gs->err.len = 0;
			buf_adds(&gs->err, "input not sorted by key: ");
			group_key_json(&gs->err, gs->key.data, gs->key.len);
			buf_adds(&gs->err, " after ");
			group_key_json(&gs->err, gs->prev.data, gs->prev.len);
			return NULL;
		}
		if (c == 0)
			g = gs->groups[gs->ngroups - 1];
		else {
			if (gs->have_prev) {
				pl = group_prefix_len(gs->key.data,
				    gs->key.len, gs->root);
				lpl = group_prefix_len(gs->prev.data,
				    gs->prev.len, gs->root);
				if (pl != lpl ||
				    memcmp(gs->key.data, gs->prev.data, pl) != 0)
					emit_batches(gs);
			}
			g = new_group(gs, 0);
			gs->prev.len = 0;
			buf_add(&gs->prev, gs->key.data, gs->key.len);
			gs->have_prev = 1;
		}
	} else
		g = find_group(gs, hash_bytes(gs->key.data, gs->key.len));

	if (g->n == g->cap) {
		g->cap = g->cap ? g->cap * 2 : 4;
		g->rowbuf = xreallocarray(g->rowbuf, g->cap, g->rowsize);
	}
	r = group_row(g, g->n++);
	if (gs->stable)
		r->line = line;
	else {
		copy = arena_alloc(&gs->mem, len + 1);
		memcpy(copy, line, len);
		copy[len] = '\0';
		r->line = copy;
	}
	r->len = len;
	r->source = src_names_intern(&gs->src, source);
	r->lineno = lineno;
	r->flags = 0;
	if (++gs->held > gs->peak)
		gs->peak = gs->held;
	return r;
}

static int
cmp_groups(const void *a, const void *b)
{
	const struct group *ga = *(struct group *const *)a;
	const struct group *gb = *(struct group *const *)b;

	return group_key_cmp(ga->key, ga->keylen, gb->key, gb->keylen);
}

/* Hand every group held to the tool, one root batch at a time, then
 * forget them. */
static void
emit_batches(struct group_set *gs)
{
	size_t i, j, pl;
	struct group *g;

	if (gs->ngroups == 0)
		return;
	if (!gs->sorted)
		qsort(gs->groups, gs->ngroups, sizeof(*gs->groups),
		    cmp_groups);
	for (i = 0; i < gs->ngroups; i = j) {
		g = gs->groups[i];
		pl = group_prefix_len(g->key, g->keylen, gs->root);
		for (j = i + 1; j < gs->ngroups; j++)
			if (group_prefix_len(gs->groups[j]->key,
			    gs->groups[j]->keylen, gs->root) != pl ||
			    memcmp(gs->groups[j]->key, g->key, pl) != 0)
				break;
		gs->emit(gs->ctx, gs->groups + i, j - i);
	}
	release(gs);
}

/* Drop every group and row held; the arena is kept for reuse. */
static void
release(struct group_set *gs)
{
	size_t i;

	for (i = 0; i < gs->ngroups; i++)
		free(gs->groups[i]->rowbuf);
	gs->ngroups = 0;
	gs->held = 0;
	if (gs->table != NULL)
		memset(gs->table, 0, gs->tcap * sizeof(*gs->table));
	arena_rewind(&gs->mem);
}

void
group_set_finish(struct group_set *gs)
{
	emit_batches(gs);
}

const char *
group_set_error(const struct group_set *gs)
{
	return gs->err.data != NULL ? gs->err.data : "";
}

size_t
group_set_peak(const struct group_set *gs)
{
	return gs->peak;
}
