/*
 * recint.h - what record.c tells out.c and nothing else: the link between
 * the parser behind the record API and the appending writer.  Not for
 * tools.
 */
#ifndef RECINT_H
#define RECINT_H

#include <stddef.h>

struct record;
struct scan;

/* 1 if the current record has the top-level key (bytes, not escaped). */
int rec_has_key(struct record *, const char *key, size_t keylen);

/*
 * The scanner's index of the current record (offsets into rec_raw()), or
 * NULL when the libjq backend holds it (ASIN_PARSER=jq).  Borrowed.
 */
const struct scan *rec_scan(const struct record *);

#endif
