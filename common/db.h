/*
 * db.h - the SQLite engine of asin-db: the schema and its migrations,
 * NDJSON rows in (upsert by a table's key, batched), query rows out as
 * NDJSON or CSV.  The migrations are schemas/db-NNNN-*.sql, compiled into
 * the library, so a binary and the schema version it writes always agree.
 *
 * Every function here dies (exit 1, message naming the database file) on
 * an SQLite error it cannot turn into a reject.
 */
#ifndef DB_H
#define DB_H

#include <stddef.h>

struct db;
struct out;

/* The schema version this build writes: the highest migration. */
int db_schema_latest(void);

/*
 * Open path.  DB_CREATE creates a missing file (init); DB_READONLY opens
 * for reading only (query).  Neither: the file must exist.  Sets WAL mode
 * on a writable handle and a busy timeout on every handle.  The path is
 * borrowed for the handle's lifetime.
 */
enum {
	DB_CREATE = 1,
	DB_READONLY = 2
};
struct db *db_open(const char *path, int flags);
/* Close; dies if SQLite cannot (unfinalised statements are a bug). */
void db_close(struct db *);

/* The version recorded in the file (PRAGMA user_version); 0 = empty. */
int db_version(struct db *);
/*
 * Bring the file up to db_schema_latest(), one transaction per
 * migration, each recorded in schema_migrations.  A file newer than this
 * build is refused (die).  Returns the number of migrations applied.
 */
int db_migrate(struct db *);
/*
 * Die unless the file holds exactly this build's schema: an empty file
 * needs "asin-db init", an older one "asin-db init" to upgrade, a newer
 * one a newer asin-db.  readonly: a newer file is accepted (reading
 * tables this build knows is safe).
 */
void db_require_schema(struct db *, int readonly);

/* ---- loading ------------------------------------------------------ */

/* What db_load_row() did with a row. */
enum db_row {
	DB_ROW_REJECT = -1,	/* *err says why; nothing was written */
	DB_ROW_SAME = 0,	/* the table already held exactly this row */
	DB_ROW_WRITTEN = 1	/* inserted, or an existing row changed */
};

/*
 * A loader into table, which must be a table of the file's schema (the
 * name is checked against sqlite_master, never pasted unchecked).  Rows
 * are upserted by the table's PRIMARY KEY, batch rows per transaction.
 * The db is borrowed.
 */
struct db_loader *db_loader_new(struct db *, const char *table, long batch);
/*
 * Load one NDJSON line (buf[0..len), borrowed for the call).  Fields
 * with a column are bound by the column's declared type; the others go
 * into the table's extra column as one JSON object.  On DB_ROW_REJECT
 * *err (owned by the loader, valid until the next call) holds a message
 * without location, e.g. 'field "bsr": expected integer, got string'.
 */
enum db_row db_load_row(struct db_loader *, const char *buf, size_t len,
    const char **err);
/* Commit the open batch, if any (before a fatal reject, at the end). */
void db_loader_commit(struct db_loader *);
/* Commit and free. */
void db_loader_free(struct db_loader *);

/* ---- querying ----------------------------------------------------- */

enum db_format {
	DB_NDJSON,
	DB_CSV
};

/*
 * Run one SQL statement and write its rows to o: NDJSON objects with
 * types kept (INTEGER and REAL as numbers, TEXT as strings, BOOLEAN
 * columns as true/false, JSON columns as JSON; a JSON-object column
 * named extra is spread into the row, or left out when NULL), or CSV
 * with a header line.
 * params is NULL or "name=value" strings, bound as text to :name, @name
 * or $name; a parameter of the SQL without a value, or a value no
 * parameter takes, is a usage error.  Returns the number of rows.
 */
long long db_query(struct db *, const char *sql, char **params,
    size_t nparams, enum db_format fmt, struct out *o);

#endif
