/*
 * dbpg.h - the PostgreSQL engine of asin-db, beside the SQLite one of
 * db.h: the same migrations (schemas/db-*.sql, rewritten for PostgreSQL
 * by schemas/pg-dialect.pl at build time), the same row checks, the same
 * NDJSON and CSV out.  Loads COPY a batch into a temporary staging table
 * and upsert it into the table with one statement, in one transaction.
 *
 * A database is a libpq connection URI: postgresql://[user[:pass]@]host
 * [:port]/dbname[?param=value...].  "postgresql://" alone takes every
 * part from libpq's PG* environment (PGHOST, PGPORT, PGDATABASE, ...).
 * Messages name the database by the URI without its password.
 *
 * Every function dies (exit 1) on a server error it cannot turn into a
 * reject.
 */
#ifndef DBPG_H
#define DBPG_H

#include <stddef.h>

#include "db.h"

struct dbpg;
struct dbpg_loader;
struct out;

/* Whether a database operand is a PostgreSQL URI, not an SQLite file. */
int dbpg_is_uri(const char *);

/* Connect (readonly: every transaction READ ONLY, for query); dies
 * naming the redacted URI when the server refuses. */
struct dbpg *dbpg_open(const char *uri, int readonly);
void dbpg_close(struct dbpg *);
/* The name messages use: the URI with its password replaced by ***. */
const char *dbpg_name(const struct dbpg *);

/* The highest migration applied (schema_migrations); 0 = none. */
int dbpg_version(struct dbpg *);
/* As db_migrate(): one transaction per migration, under an advisory
 * lock so that two inits at once migrate once. */
int dbpg_migrate(struct dbpg *);
/* As db_require_schema(). */
void dbpg_require_schema(struct dbpg *, int readonly);

/*
 * As db_loader_new(): table must be a table of the schema (looked up in
 * the catalogue, never pasted unchecked).  Rows pass the same checks as
 * on SQLite; accepted rows are COPY-escaped into the staging table and
 * every batch rows are upserted in one transaction.  A row the table's
 * constraints refuse fails its batch: the batch is rolled back and
 * asin-db dies naming the server's message (earlier batches are kept).
 */
struct dbpg_loader *dbpg_loader_new(struct dbpg *, const char *table,
    long batch);
/*
 * As db_load_row(), but what a row did is only known when its batch is
 * upserted: an accepted row returns DB_ROW_WRITTEN and the counts of
 * dbpg_loader_counts() say how many rows changed the table.
 */
enum db_row dbpg_load_row(struct dbpg_loader *, const char *buf,
    size_t len, const char **err);
/* Upsert and commit the open batch, if any. */
void dbpg_loader_commit(struct dbpg_loader *);
/* Rows that changed the table and rows it already held, so far. */
void dbpg_loader_counts(const struct dbpg_loader *, long long *written,
    long long *same);
/* Commit and free. */
void dbpg_loader_free(struct dbpg_loader *);

/*
 * As db_query(): the same NDJSON (BIGINT and DOUBLE PRECISION as
 * numbers, BOOLEAN as true/false, JSON and JSONB as JSON, extra spread)
 * and CSV.  :name parameters outside literals and comments are bound
 * from params as text.
 */
long long dbpg_query(struct dbpg *, const char *sql, char **params,
    size_t nparams, enum db_format fmt, struct out *o);

#endif
