/*
 * dbrow.h - the row checks asin-db's two engines share: an NDJSON line
 * read with the record scanner against a table's columns, each value
 * type-checked and converted once, the fields without a column gathered
 * for the extra column.  common/db.c binds the values to SQLite,
 * common/dbpg.c writes them as COPY text: the rejects are the same
 * words, in the same order, on both.
 */
#ifndef DBROW_H
#define DBROW_H

#include <stddef.h>

#include "asin.h"
#include "db.h"
#include "scan.h"

/* A column's declared type, as asin-db load checks it. */
enum dbrow_type {
	DBROW_ANY,	/* no type (SQLite) or JSONB: scalars keep their type */
	DBROW_INTEGER,
	DBROW_REAL,
	DBROW_TEXT,
	DBROW_BOOLEAN,
	DBROW_JSON
};

struct dbrow_col {
	char *name;
	size_t len;
	enum dbrow_type type;
	int key;
};

/* A checked value, in the form the column keeps it. */
enum dbrow_kind {
	DBV_ABSENT,	/* no member: stored as null */
	DBV_NULL,	/* null */
	DBV_INT,	/* i: an integer (a boolean in a typeless column: 1/0) */
	DBV_REAL,	/* d: finite */
	DBV_BOOL,	/* i: 1/0, a BOOLEAN column */
	DBV_TEXT,	/* s[0..n): the string unescaped (may hold NUL) */
	DBV_JSON	/* s[0..n): the member's JSON text as it came */
};

struct dbrow_val {
	enum dbrow_kind kind;
	long long i;
	double d;
	const char *s;
	size_t n;
};

/*
 * One table's row reader.  The columns are added in the table's order
 * (dbrow_add_col); then every line is read by dbrow_read().  Values and
 * the extra object point into the line or the reader's buffers: valid
 * until the next dbrow_read().
 */
struct dbrow {
	const char *table;	/* borrowed */
	struct dbrow_col *col;
	int ncol;
	int extra;		/* the JSON column named extra, -1: none */
	struct dbrow_val *val;	/* per column, the last row read */
	struct buf xtra;	/* its extra object ("{...}"), when nxtra > 0 */
	int nxtra;
	struct scan sc;
	struct buf text;	/* unescaped strings of the last row */
	char *err;
	char num[64];
};

/* A reader for table (borrowed for the reader's life), no columns yet. */
void dbrow_init(struct dbrow *, const char *table);
/* Add the next column (name copied); extra: the JSON column "extra". */
void dbrow_add_col(struct dbrow *, const char *name, enum dbrow_type type,
    int key);
/* The number of key columns. */
int dbrow_keys(const struct dbrow *);
void dbrow_free(struct dbrow *);

/*
 * Read line buf[0..len) (borrowed until the next call) against the
 * columns: DB_ROW_WRITTEN with val[] and the extra object filled, or
 * DB_ROW_REJECT with *err (owned by the reader, valid until the next
 * call) a message without location, the first of, in this order: not
 * JSON, not an object, a duplicate key (unless allowed), a field's value
 * of the wrong type (in the line's order), a field without a column
 * where the table has no extra column, a key field missing, a key field
 * null (in SQLite's words).
 */
enum db_row dbrow_read(struct dbrow *, const char *buf, size_t len,
    const char **err);
/* Set the reader's message (as printf) and return DB_ROW_REJECT. */
enum db_row dbrow_reject(struct dbrow *, const char *fmt, ...)
    ASIN_PRINTF(2, 3);

/*
 * The schema checks of both engines: die unless version v of database
 * name is latest (0: not an asin-db database; older: run init; newer: a
 * newer asin-db, unless readonly, where reading is safe).
 */
void dbrow_require_schema(const char *name, int v, int latest,
    int readonly);
/* Die: database name's schema version v is newer than latest. */
ASIN_NORETURN void dbrow_too_new(const char *name, int v, int latest);

/* Whether s is a lower-case SQL identifier of at most max bytes. */
int dbrow_ident_ok(const char *s, size_t max);

/* Append s[0..n) to b as one CSV field (RFC 4180 quoting). */
void dbrow_csv_field(struct buf *b, const char *s, size_t n);
/*
 * Whether a JSON object (valid, scanned into sc from s) can be spread
 * into a row whose columns are names[0..nc): no member repeats one.
 */
int dbrow_spreadable(const struct scan *sc, const char *s,
    const char *const *names, int nc);

#endif
