/*
 * group.h - the grouping engine of the keyed tools.  Rows come in with a
 * key of one or more byte strings and leave in batches of whole groups,
 * sorted by the bytes of their key, so a reduction sees every row of a
 * group at once and writes groups in the same order however the input was
 * shuffled (reference/scale-out.md).
 *
 * Two modes.  The hash mode takes unsorted input and holds the rows of
 * every group until group_set_finish().  The sorted mode takes input
 * already in key order and holds one batch at a time; a row whose key
 * sorts before the previous one is refused.  A batch is the run of groups
 * that share the first `root' key fields: a tool whose groups back off to
 * a parent key asks for the back-off root, so the parent's rows are all
 * there; otherwise root is the whole key and a batch is one group.
 */
#ifndef GROUP_H
#define GROUP_H

#include <stddef.h>
#include <stdint.h>

#include "asin.h"

/*
 * One input row.  line is the raw line without its newline: borrowed from
 * the reader when the input is mapped (nd_stable()), else a copy owned by
 * the engine.  Either way it stays valid until the batch holding it has
 * been emitted.  val[] holds the nval doubles the tool stores per row and
 * flags the tool's own bits; the engine never reads either.
 */
struct group_row {
	const char *line;
	size_t len;
	const char *source;	/* input name; valid until group_set_free() */
	long lineno;
	unsigned flags;
	double val[];
};

/*
 * One group: the rows sharing a key.  key is the encoded key (see
 * group_key_add()).  The rows lie one after another in rowbuf, rowsize
 * bytes apart, so a pass over a group reads memory in order; reach them
 * with group_row().  They are in arrival order, which a tool must not let
 * its results depend on.
 */
struct group {
	const char *key;
	size_t keylen;
	uint64_t hash;
	char *rowbuf;
	size_t rowsize;
	size_t n;
	size_t cap;
};

/* Row i of group g (i < g->n). */
static inline struct group_row *
group_row(const struct group *g, size_t i)
{
	return (struct group_row *)(void *)(g->rowbuf + i * g->rowsize);
}

/*
 * The source names a grouping engine has handed out.  Rows keep a pointer
 * to their input's name, but the reader's name may not outlive the next
 * line, so the engine keeps its own copy of each name it has seen.
 * Zero-initialise; free with src_names_free().
 */
struct src_names {
	char **v;		/* every name interned, owned */
	size_t n;
	const char *last;	/* v[n - 1], the name most likely asked next */
};

/*
 * The interned copy of src (NULL means "<stdin>"), made on first sight.
 * src is borrowed; the result is owned by sn and valid until
 * src_names_free(sn).
 */
const char *src_names_intern(struct src_names *sn, const char *src);

/* Free every interned name; sn is empty and reusable afterwards. */
void src_names_free(struct src_names *sn);

/*
 * The callback that receives a batch: groups[0..n-1] in ascending byte
 * order of their key, all sharing the first `root' fields.  Everything in
 * the batch is freed or reused once the callback returns.
 */
typedef void group_emit_fn(void *ctx, struct group **groups, size_t n);

/*
 * A new engine for keys of nfields fields (1..64) whose batches share the
 * first root fields (1..nfields).  nval: doubles stored per row.  sorted:
 * the streaming mode.  stable: the caller vouches that line bytes stay
 * valid until group_set_free() (nd_stable() said 1), so rows point into
 * them instead of copying.  emit and ctx are borrowed.
 */
struct group_set *group_set_new(int nfields, int root, size_t nval,
    int sorted, int stable, group_emit_fn *emit, void *ctx);
void group_set_free(struct group_set *);

/*
 * Build the key of the next row: group_key_begin(), then one
 * group_key_add() per field in key order.  A field is any byte string
 * (NUL included); the encoding keeps the order of the field tuples, so
 * comparing two encoded keys with memcmp (shorter first on a tie) orders
 * them field by field as LC_ALL=C sort would.
 */
void group_key_begin(struct group_set *);
void group_key_add(struct group_set *, const char *s, size_t n);

/*
 * Add a row under the key just built.  line/len/source/lineno as in
 * struct nd_line (all borrowed; copied unless the set is stable).  On
 * success returns the row, whose val[] and flags the caller fills in
 * before the next group_add() (which may move it).  In
 * the sorted mode this may first emit the batch before it; it returns
 * NULL when the key sorts before the previous row's, and then
 * group_set_error() says which keys (the caller reports it with the
 * row's location and stops: the input is not what --sorted promised).
 */
struct group_row *group_add(struct group_set *, const char *line,
    size_t len, const char *source, long lineno);

/* Emit what is held: in the hash mode every group, batch by batch. */
void group_set_finish(struct group_set *);

/* The message of the last failed group_add(); owned by the set. */
const char *group_set_error(const struct group_set *);

/* The most rows held at once so far (the memory bound in rows). */
size_t group_set_peak(const struct group_set *);

/*
 * The length of the first nf fields of an encoded key, so two groups
 * share a parent key when their prefixes have equal length and bytes.
 */
size_t group_prefix_len(const char *key, size_t keylen, int nf);

/* Append an encoded key to b as a JSON array of strings ("[\"US\",1]"). */
void group_key_json(struct buf *b, const char *key, size_t keylen);

/* Compare two encoded keys: <0, 0, >0 as memcmp, shorter first. */
int group_key_cmp(const char *a, size_t alen, const char *b, size_t blen);

#endif
