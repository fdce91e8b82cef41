/*
 * schema.h - a JSON Schema engine for the subset that record contracts
 * need.  A schema is compiled once from a jv document, then checks any
 * number of values.  The subset, the pattern dialect and the message
 * wording are documented in schema.c and in asin-validate(1).
 */
#ifndef ASIN_SCHEMA_H
#define ASIN_SCHEMA_H

#include <jv.h>

#include "asin.h"

struct schema;

/*
 * Compile a schema document (consumed).  Returns the compiled schema, or
 * NULL with *err set to a fresh message the caller frees, naming the
 * place in the schema as a jq path, for example
 * '.properties.price: unsupported keyword "multipleOf"'.
 */
struct schema *schema_compile(jv doc, char **err);

/*
 * Read and compile the schema file at path.  Returns NULL with *err set
 * (caller frees; the message does not repeat the path) when the file
 * cannot be read, is not one JSON value, or is not a valid schema.
 */
struct schema *schema_load(const char *path, char **err);

/*
 * Check value (consumed) against the schema.  Returns the number of
 * violations found: 0 when the value is valid.  Only the first violation
 * is looked for unless all is non-zero.  Each violation is appended to
 * msg (borrowed; may be NULL) as "<path>: <rule>, got <what>", several
 * joined with "; ", for example ".price: minimum 0, got -1".  The
 * schema is not modified, so one schema may check values concurrently.
 */
size_t schema_check(const struct schema *, jv value, int all,
    struct buf *msg);

/*
 * Check a parsed record (borrowed): the same count and messages as
 * schema_check(s, rec_jv_all(rec), all, msg), but the record's members
 * are read through the record API, so the record builds its jv tree only
 * when a member's schema needs more than a scalar (nested objects and
 * arrays, enum, const) or the root has additionalProperties.
 */
size_t schema_check_record(const struct schema *, struct record *rec,
    int all, struct buf *msg);

/* Free a compiled schema; NULL is a no-op. */
void schema_free(struct schema *);

#endif
