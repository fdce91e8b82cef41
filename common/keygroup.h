/*
 * keygroup.h - grouping of held rows by a fixed-width key of at most 12
 * bytes, for a tool whose keys all have one width (asin-feat: the 10
 * characters of an ASIN and the 2 of a marketplace).  Rows are appended
 * in one array in arrival order and each group is one entry of a hash
 * table of the key's bytes; when the input ends, one counting pass lays
 * out every group's rows, so no group ever has storage of its own to grow
 * and copy.  Groups come out in byte order of their key, rows in arrival
 * order inside a group: the same order group.c's hash mode gives.
 *
 * Rows are struct group_row (group.h), so a tool can treat rows from both
 * engines alike.
 */
#ifndef KEYGROUP_H
#define KEYGROUP_H

#include <stddef.h>

#include "group.h"

#define KEYGROUP_MAXKEY 12

struct keygroup;

/*
 * A new engine for keys of keylen bytes (1..KEYGROUP_MAXKEY) and rows of
 * nval doubles.  stable: the caller vouches that line bytes stay valid
 * until keygroup_free() (nd_stable() said 1), so rows point into them
 * instead of copying.
 */
struct keygroup *keygroup_new(size_t keylen, size_t nval, int stable);
void keygroup_free(struct keygroup *);

/*
 * Add a row under key (keylen bytes, borrowed).  line/len/source/lineno
 * as in struct nd_line (borrowed; the line is copied unless the engine
 * is stable).  Returns the row, whose val[] and flags the caller fills
 * in before the next keygroup_add() (which may move it).
 */
struct group_row *keygroup_add(struct keygroup *, const char *key,
    const char *line, size_t len, const char *source, long lineno);

/*
 * Stop adding and lay the groups out; returns how many there are.  After
 * it no row moves until keygroup_free().
 */
size_t keygroup_finish(struct keygroup *);

/*
 * The rows of group i (i < the count keygroup_finish() returned), in
 * ascending byte order of the keys: *n rows, in arrival order.  The array
 * is the engine's.
 */
struct group_row **keygroup_rows(struct keygroup *, size_t i, size_t *n);

/* The rows held (all of them: nothing is let go before the end). */
size_t keygroup_held(const struct keygroup *);

#endif
