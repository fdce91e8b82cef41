/*
 * reckeys.h - a fixed set of top-level number members read from every
 * record with their places remembered: rows of one producer put their
 * members in the same order, so the member found at index i of the last
 * record is tried first and the name search runs only when it moved.
 * For hot loops that read many numbers a row (asin-rank score); the
 * answers are the record layer's own (rec_num()'s values, the last of
 * duplicate keys), only found faster.
 */
#ifndef RECKEYS_H
#define RECKEYS_H

#include <stddef.h>

#include "asin.h"

struct rec_keys;

/*
 * A reader of the members named names[0..n) (borrowed: they must
 * outlive it).  Returns NULL when a name is not a plain top-level key
 * (a path such as ".a.b"): the caller reads those with rec_num().
 */
struct rec_keys *rec_keys_new(char *const *names, size_t n);
void rec_keys_free(struct rec_keys *);

/*
 * The n numbers of rec into out[0..n).  Returns 1 when every member is
 * present and holds a number finite as a double, exactly as rec_num()
 * would read it; 0 otherwise (out partly written), and the caller asks
 * rec_num() for the one that failed and its message.  Always 0 when the
 * record was parsed by libjq (ASIN_PARSER=jq).
 */
int rec_keys_nums(struct rec_keys *, struct record *rec, double *out);

#endif
