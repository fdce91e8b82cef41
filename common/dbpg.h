/*
 * dbpg.h - the PostgreSQL engine of asin-db, beside the SQLite one of
 * db.h: the same migrations (schemas/db-*.sql, rewritten for PostgreSQL
 * by schemas/pg-dialect.pl at build time), the same row checks, the same
 * NDJSON and CSV out.  Loads COPY a batch into a temporary staging table
 * and upsert it into the table with one statement, in one transaction;
 * while every row of the load was new to the table, a batch is COPYed
 * straight into the table instead, and staged only if the table refuses
 * it.
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
 * on SQLite; accepted rows are COPY-escaped into the staging table until
 * the caller commits them as one batch: one upsert in one transaction.
 */
struct dbpg_loader *dbpg_loader_new(struct dbpg *, const char *table);
/*
 * As db_load_row(), but what a row did is only known when its batch is
 * committed: an accepted row returns DB_ROW_WRITTEN and joins the open
 * batch as its next row (0, 1, 2, ...); dbpg_loader_commit() says which
 * of them the table refused, and dbpg_loader_counts() how many rows
 * changed the table.
 */
enum db_row dbpg_load_row(struct dbpg_loader *, const char *buf,
    size_t len, const char **err);
/* A row of the batch the table refused (a CHECK, NOT NULL, ...). */
struct dbpg_refused {
	long row;	/* its number in the batch, from 0 */
	char *err;	/* SQLite's words where they exist, e.g. "CHECK
			 * constraint failed: marketplace GLOB '[A-Z][A-Z]'";
			 * else the server's message; owned by the loader */
};
/*
 * Upsert and commit the open batch, if any.  Rows the table's
 * constraints refuse are left out, each alone, as SQLite's row-by-row
 * upsert leaves them: every other row is stored.  stop_after >= 0: the
 * refusal after that many others ends the load, so no row of the batch
 * after it is stored (as on SQLite, where the fatal reject stops the
 * run there); -1: no limit.  Returns the refusals, in row order, in
 * *bad (owned by the loader, valid until the next call).
 */
size_t dbpg_loader_commit(struct dbpg_loader *, long stop_after,
    const struct dbpg_refused **bad);
/* Rows that changed the table and rows it already held, so far. */
void dbpg_loader_counts(const struct dbpg_loader *, long long *written,
    long long *same);
/* Free; rows of a batch not committed are rolled back. */
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
