/*
 * dbpg.c - the PostgreSQL engine behind asin-db (see dbpg.h).  Rows are
 * read with the record scanner like db.c does and written as COPY text
 * lines (every value COPY-escaped, none pasted into SQL) into a staging
 * table; one INSERT ... SELECT ... ON CONFLICT per batch moves them into
 * the table.  A batch of rows that are all new is COPYed straight into
 * the table instead (see start_copy()).  Names reach SQL only after the
 * catalogue named them.
 */
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libpq-fe.h>

#include "asin.h"
#include "dbpg.h"
#include "dbrow.h"
#include "dbschema-pg.h"	/* schemas/db-*.sql via schemas/pg-dialect.pl */
#include "scan.h"

/* Any constant: the advisory lock two concurrent inits queue on. */
#define MIGRATE_LOCK 0x6173696eLL
/* Bytes of COPY data gathered before they go to the server. */
#define COPY_CHUNK (1 << 20)
/* Bytes of a batch's COPY data kept for a batch COPYed straight into the
 * table, to stage them if the table refuses one; past them the rest of
 * the batch is staged.  A default batch (50000 fact rows) is ~18 MB. */
#define DIRECT_CAP (64 << 20)

/* PostgreSQL type OIDs (pg_type.h), as the result describes columns. */
enum {
	OID_BOOL = 16,
	OID_INT8 = 20,
	OID_INT2 = 21,
	OID_INT4 = 23,
	OID_OID = 26,
	OID_JSON = 114,
	OID_FLOAT4 = 700,
	OID_FLOAT8 = 701,
	OID_NUMERIC = 1700,
	OID_JSONB = 3802
};

struct dbpg {
	PGconn *c;
	char *name;
};

struct dbpg_loader {
	struct dbpg *db;
	char *table;
	struct dbrow row;	/* the columns and the row's checked values */
	char *upsert;		/* the batch's INSERT ... SELECT */
	char *checks;		/* the staged rows a CHECK refuses, or NULL */
	char *copy_table;	/* COPY straight into the table */
	char *copy_stage;	/* COPY into the staging table */
	char **check_words;	/* SQLite's words, per CHECK */
	int ncheck;
	long inbatch;		/* rows COPYed in the open batch */
	long staged_from;	/* of them, the first staged (from 0) */
	long long direct;	/* rows of the batch the table took by COPY */
	int indirect;		/* the open COPY is straight into the table */
	int nodirect;		/* a batch was refused: stage every later one */
	struct dbpg_refused *bad;	/* the committed batch's refusals */
	size_t nbad, badcap;
	long stop_after;	/* refusals the commit may pass; -1: any */
	int stopped;		/* a refusal past stop_after ended the batch */
	long long written, same;
	struct buf copy;	/* COPY data not yet sent; when indirect, the
				 * batch's COPY data from its start */
	size_t sent;		/* of it, bytes sent (indirect only) */
	struct buf json;	/* a JSONB string's JSON text */
};

/* ---- connection ------------------------------------------------------- */

int
dbpg_is_uri(const char *s)
{
	return strncmp(s, "postgresql://", 13) == 0 ||
	    strncmp(s, "postgres://", 11) == 0;
}

/* uri with the password of its user info replaced by ***. */
static char *
redact(const char *uri)
{
	const char *p = strstr(uri, "://"), *at, *colon, *end;
	struct buf b;

	if (p == NULL)
		return xstrdup(uri);
	p += 3;
	end = p + strcspn(p, "/?");
	at = memchr(p, '@', (size_t)(end - p));
	if (at == NULL)
		return xstrdup(uri);
	colon = memchr(p, ':', (size_t)(at - p));
	if (colon == NULL)
		return xstrdup(uri);
	buf_init(&b);
	buf_add(&b, uri, (size_t)(colon + 1 - uri));
	buf_adds(&b, "***");
	buf_adds(&b, at);
	return b.data;
}

/* The server's one-line message for res (or the connection's). */
static const char *
pg_msg(struct dbpg *d, const PGresult *res)
{
	const char *m = res != NULL ?
	    PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY) : NULL;
	static const char none[] = "error";

	if (m != NULL)
		return m;
	m = PQerrorMessage(d->c);
	return m != NULL && *m ? m : none;
}

static ASIN_NORETURN void
pg_die(struct dbpg *d, const char *what, PGresult *res)
{
	const char *det = res != NULL ?
	    PQresultErrorField(res, PG_DIAG_MESSAGE_DETAIL) : NULL;
	char *m = xstrdup(pg_msg(d, res));

	m[strcspn(m, "\n")] = '\0';
	if (det != NULL)
		die("%s: %s: %s (%.*s)", d->name, what, m,
		    (int)strcspn(det, "\n"), det);
	die("%s: %s: %s", d->name, what, m);
}

/* Run sql (no parameters, no rows wanted); die on an error. */
static void
exec(struct dbpg *d, const char *sql)
{
	PGresult *r = PQexec(d->c, sql);

	if (PQresultStatus(r) != PGRES_COMMAND_OK &&
	    PQresultStatus(r) != PGRES_TUPLES_OK)
		pg_die(d, "SQL", r);
	PQclear(r);
}

/* Run sql with text parameters; the result is the caller's to PQclear. */
static PGresult *
query(struct dbpg *d, const char *sql, int n, const char *const *v)
{
	PGresult *r = PQexecParams(d->c, sql, n, NULL, v, NULL, NULL, 0);

	if (PQresultStatus(r) != PGRES_COMMAND_OK &&
	    PQresultStatus(r) != PGRES_TUPLES_OK)
		pg_die(d, "SQL", r);
	return r;
}

struct dbpg *
dbpg_open(const char *uri, int readonly)
{
	struct dbpg *d = xcalloc(1, sizeof(*d));

	d->name = redact(uri);
	d->c = PQconnectdb(uri);
	if (d->c == NULL)
		die("%s: cannot connect: out of memory", d->name);
	if (PQstatus(d->c) != CONNECTION_OK) {
		char *m = xstrdup(PQerrorMessage(d->c));

		m[strcspn(m, "\n")] = '\0';
		die("%s: cannot connect: %s", d->name, m);
	}
	if (PQsetClientEncoding(d->c, "UTF8") != 0)
		pg_die(d, "client encoding", NULL);
	/* Shortest round-trip text for doubles; quiet notices; no surprise
	 * from a search_path that puts another schema first. */
	exec(d, "SET extra_float_digits = 1; SET client_min_messages = "
	    "warning; SET TIME ZONE 'UTC'");
	if (readonly)
		exec(d, "SET SESSION CHARACTERISTICS AS TRANSACTION READ ONLY");
	return d;
}

void
dbpg_close(struct dbpg *d)
{
	if (d == NULL)
		return;
	PQfinish(d->c);
	free(d->name);
	free(d);
}

const char *
dbpg_name(const struct dbpg *d)
{
	return d->name;
}

/* ---- schema ----------------------------------------------------------- */

static int
latest(void)
{
	return (int)(sizeof(dbpg_migrations) / sizeof(dbpg_migrations[0]));
}

int
dbpg_version(struct dbpg *d)
{
	PGresult *r;
	int v = 0;

	r = query(d, "SELECT to_regclass('schema_migrations') IS NOT NULL",
	    0, NULL);
	if (strcmp(PQgetvalue(r, 0, 0), "t") != 0) {
		PQclear(r);
		return 0;
	}
	PQclear(r);
	r = query(d, "SELECT coalesce(max(version), 0) FROM "
	    "schema_migrations", 0, NULL);
	v = atoi(PQgetvalue(r, 0, 0));
	PQclear(r);
	return v;
}

int
dbpg_migrate(struct dbpg *d)
{
	char ver[16], lock[64];
	const char *pv[2];
	int v, n = 0, i;

	snprintf(lock, sizeof(lock), "SELECT pg_advisory_xact_lock(%lld)",
	    MIGRATE_LOCK);
	for (i = 0; i < latest(); i++) {
		exec(d, "BEGIN");
		exec(d, lock);
		exec(d, "CREATE TABLE IF NOT EXISTS schema_migrations ("
		    "version INTEGER PRIMARY KEY, name TEXT NOT NULL, "
		    "applied_at TEXT NOT NULL)");
		v = dbpg_version(d);
		if (v > latest())
			dbrow_too_new(d->name, v, latest());
		if (v >= dbpg_migrations[i].version) {
			exec(d, "COMMIT");
			continue;
		}
		exec(d, dbpg_migrations[i].sql);
		snprintf(ver, sizeof(ver), "%d", dbpg_migrations[i].version);
		pv[0] = ver;
		pv[1] = dbpg_migrations[i].name;
		PQclear(query(d, "INSERT INTO schema_migrations VALUES ($1, $2, "
		    "to_char(now() AT TIME ZONE 'UTC', "
		    "'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"'))", 2, pv));
		exec(d, "COMMIT");
		n++;
	}
	return n;
}

void
dbpg_require_schema(struct dbpg *d, int readonly)
{
	dbrow_require_schema(d->name, dbpg_version(d), latest(), readonly);
}

/* ---- loading ---------------------------------------------------------- */

static enum dbrow_type
pgtype_of(const char *t)
{
	if (strcmp(t, "bigint") == 0 || strcmp(t, "integer") == 0 ||
	    strcmp(t, "smallint") == 0)
		return DBROW_INTEGER;
	if (strcmp(t, "double precision") == 0 || strcmp(t, "real") == 0)
		return DBROW_REAL;
	if (strcmp(t, "boolean") == 0)
		return DBROW_BOOLEAN;
	if (strcmp(t, "json") == 0)
		return DBROW_JSON;
	if (strcmp(t, "jsonb") == 0)
		return DBROW_ANY;
	return DBROW_TEXT;
}

static void
read_columns(struct dbpg_loader *l)
{
	struct dbpg *d = l->db;
	const char *pv[1] = { l->table };
	PGresult *r;
	int i;

	r = query(d, "SELECT a.attname, format_type(a.atttypid, NULL), "
	    "coalesce(a.attnum = ANY (x.indkey), false) "
	    "FROM pg_class AS c "
	    "JOIN pg_attribute AS a ON a.attrelid = c.oid "
	    "LEFT JOIN pg_index AS x ON x.indrelid = c.oid AND x.indisprimary "
	    "WHERE c.oid = to_regclass(quote_ident($1)) AND c.relkind = 'r' "
	    "AND $1 <> 'schema_migrations' "
	    "AND a.attnum > 0 AND NOT a.attisdropped ORDER BY a.attnum",
	    1, pv);
	if (PQntuples(r) == 0 || !dbrow_ident_ok(l->table, 63))
		usage_error("%s: no table '%s' (tables: products, categories, "
		    "marketplaces, fetch_log, facts, features, scores, "
		    "assignments, uplift, model_runs)", d->name, l->table);
	for (i = 0; i < PQntuples(r); i++) {
		const char *name = PQgetvalue(r, i, 0);

		if (!dbrow_ident_ok(name, 63))
			die("%s: table %s: column name '%s' is not an "
			    "identifier", d->name, l->table, name);
		dbrow_add_col(&l->row, name, pgtype_of(PQgetvalue(r, i, 1)),
		    strcmp(PQgetvalue(r, i, 2), "t") == 0);
	}
	PQclear(r);
}

/*
 * The batch's upsert: the staging table's rows, the last of each key
 * (DISTINCT ON ... asin_seq DESC: as row-by-row upserts would leave it),
 * into the table; an existing row is only rewritten where a column
 * differs, so the command's row count is the rows written.
 */
static void
build_upsert(struct dbpg_loader *l)
{
	const struct dbrow_col *col = l->row.col;
	struct buf s, keys;
	int i, first, nonkey = 0;

	buf_init(&s);
	buf_init(&keys);
	for (i = 0, first = 1; i < l->row.ncol; i++)
		if (col[i].key) {
			buf_printf(&keys, "%s\"%s\"", first ? "" : ", ",
			    col[i].name);
			first = 0;
		}
	buf_printf(&s, "INSERT INTO \"%s\" AS t (", l->table);
	for (i = 0; i < l->row.ncol; i++)
		buf_printf(&s, "%s\"%s\"", i ? ", " : "", col[i].name);
	buf_printf(&s, ") SELECT DISTINCT ON (%s) ", keys.data);
	for (i = 0; i < l->row.ncol; i++)
		buf_printf(&s, "%s\"%s\"", i ? ", " : "", col[i].name);
	/* $1, $2: the batch's rows by number, all of them or (finding the
	 * rows the table refuses) a part. */
	buf_printf(&s, " FROM asin_stage WHERE asin_seq BETWEEN $1 AND $2 "
	    "ORDER BY %s, asin_seq DESC ON CONFLICT (%s) ", keys.data,
	    keys.data);
	for (i = 0; i < l->row.ncol; i++)
		nonkey += !col[i].key;
	if (nonkey == 0) {
		buf_adds(&s, "DO NOTHING");
	} else {
		buf_adds(&s, "DO UPDATE SET ");
		for (i = 0, first = 1; i < l->row.ncol; i++)
			if (!col[i].key) {
				buf_printf(&s, "%s\"%s\" = excluded.\"%s\"",
				    first ? "" : ", ", col[i].name,
				    col[i].name);
				first = 0;
			}
		buf_adds(&s, " WHERE ");
		/* json has no equality: its text is compared. */
		for (i = 0, first = 1; i < l->row.ncol; i++)
			if (!col[i].key) {
				const char *cast = col[i].type == DBROW_JSON ?
				    "::text" : "";

				buf_printf(&s, "%st.\"%s\"%s IS DISTINCT FROM "
				    "excluded.\"%s\"%s", first ? "" : " OR ",
				    col[i].name, cast, col[i].name, cast);
				first = 0;
			}
	}
	l->upsert = s.data;
	buf_free(&keys);
}

/* The words SQLite's message quotes for CHECK name of l's table. */
static const char *
sqlite_words(const struct dbpg_loader *l, const char *name)
{
	size_t j;

	for (j = 0; j < sizeof(dbpg_checks) / sizeof(dbpg_checks[0]); j++)
		if (strcmp(dbpg_checks[j].table, l->table) == 0 &&
		    strcmp(dbpg_checks[j].name, name) == 0)
			return dbpg_checks[j].sqlite;
	return name;
}

/*
 * The query that finds the staged rows a CHECK of the table refuses, and
 * which CHECK (the first, in the order of the columns it stands on, as
 * SQLite tries them): every staged row is asked, not only the last of
 * its key that the upsert would try.  The expressions are the
 * catalogue's own (pg_get_expr), not input.  No CHECK: no query.
 */
static void
build_checks(struct dbpg_loader *l)
{
	struct dbpg *d = l->db;
	const char *pv[1] = { l->table };
	struct buf s;
	PGresult *r;
	int i;

	r = query(d, "SELECT conname, pg_get_expr(conbin, conrelid) "
	    "FROM pg_constraint WHERE conrelid = to_regclass(quote_ident($1)) "
	    "AND contype = 'c' ORDER BY conkey[1] NULLS LAST, oid", 1, pv);
	l->ncheck = PQntuples(r);
	if (l->ncheck == 0) {
		PQclear(r);
		return;
	}
	l->check_words = xcalloc(l->ncheck, sizeof(*l->check_words));
	buf_init(&s);
	buf_adds(&s, "SELECT * FROM (SELECT asin_seq, CASE");
	for (i = 0; i < l->ncheck; i++) {
		const char *name = PQgetvalue(r, i, 0);

		buf_printf(&s, " WHEN (%s) IS FALSE THEN %d", PQgetvalue(r, i,
		    1), i);
		l->check_words[i] = xstrdup(sqlite_words(l, name));
	}
	buf_adds(&s, " END AS k FROM asin_stage) AS s WHERE k IS NOT NULL "
	    "ORDER BY asin_seq");
	l->checks = s.data;
	PQclear(r);
}

struct dbpg_loader *
dbpg_loader_new(struct dbpg *d, const char *table)
{
	struct dbpg_loader *l = xcalloc(1, sizeof(*l));
	struct buf s;
	int i;

	l->db = d;
	l->table = xstrdup(table);
	dbrow_init(&l->row, l->table);
	read_columns(l);
	if (dbrow_keys(&l->row) == 0)
		die("%s: table %s has no primary key to upsert by", d->name,
		    table);
	build_upsert(l);
	build_checks(l);
	/* A batch's staging rows and the sort of DISTINCT ON in memory,
	 * not in temporary files (temp_buffers only counts before the
	 * session's first temporary table). */
	exec(d, "SET temp_buffers = '256MB'; SET work_mem = '256MB'");
	/* LIKE copies the columns and NOT NULL, not the CHECKs: a row a
	 * CHECK refuses is found by build_checks()'s query, not by a
	 * failed COPY that would take the whole batch with it. */
	/* asin_seq numbers the staged rows in COPY order, from where
	 * stage_copy() sets the sequence: the COPY lines are the table's
	 * columns only, the same lines for the table and the stage. */
	buf_init(&s);
	buf_printf(&s, "CREATE TEMP TABLE asin_stage (LIKE \"%s\"); "
	    "CREATE TEMP SEQUENCE asin_stage_seq; "
	    "ALTER TABLE asin_stage ADD COLUMN asin_seq BIGINT "
	    "DEFAULT nextval('asin_stage_seq')", l->table);
	exec(d, s.data);
	buf_free(&s);
	buf_init(&s);
	buf_printf(&s, "COPY \"%s\" FROM STDIN", l->table);
	l->copy_table = s.data;
	buf_init(&s);
	buf_adds(&s, "COPY asin_stage (");
	for (i = 0; i < l->row.ncol; i++)
		buf_printf(&s, "%s\"%s\"", i ? ", " : "", l->row.col[i].name);
	buf_adds(&s, ") FROM STDIN");
	l->copy_stage = s.data;
	buf_init(&l->copy);
	buf_init(&l->json);
	return l;
}

/* Send the COPY data not sent yet: all of it when staging; when
 * indirect, what follows l->sent, kept for a fallback. */
static void
send_copy(struct dbpg_loader *l)
{
	size_t from = l->indirect ? l->sent : 0;

	if (l->copy.len == from)
		return;
	if (PQputCopyData(l->db->c, l->copy.data + from,
	    (int)(l->copy.len - from)) != 1)
		pg_die(l->db, "COPY", NULL);
	if (l->indirect)
		l->sent = l->copy.len;
	else
		l->copy.len = 0;
}

static void
free_refused(struct dbpg_loader *l)
{
	size_t i;

	for (i = 0; i < l->nbad; i++)
		free(l->bad[i].err);
	l->nbad = 0;
}

/* Note row (from 0) as refused with err (consumed), in row order. */
static void
add_refused(struct dbpg_loader *l, long row, char *err)
{
	size_t i;

	if (l->nbad == l->badcap) {
		l->badcap = l->badcap ? l->badcap * 2 : 16;
		l->bad = xreallocarray(l->bad, l->badcap, sizeof(*l->bad));
	}
	for (i = l->nbad; i > 0 && l->bad[i - 1].row > row; i--)
		l->bad[i] = l->bad[i - 1];
	l->bad[i].row = row;
	l->bad[i].err = err;
	l->nbad++;
}

/*
 * Past stop_after refusals: keep the refusals up to the one that ends
 * the load, and whether rows after it are still staged is the caller's.
 * Returns the row number (from 0) that ends it, or -1.
 */
static long
over_limit(struct dbpg_loader *l)
{
	size_t i;

	if (l->stop_after < 0 || l->nbad <= (size_t)l->stop_after)
		return -1;
	for (i = (size_t)l->stop_after + 1; i < l->nbad; i++)
		free(l->bad[i].err);
	l->nbad = (size_t)l->stop_after + 1;
	l->stopped = 1;
	return l->bad[l->nbad - 1].row;
}

/* Whether a failed statement's error is the row's, not the load's: a
 * data exception (class 22) or an integrity violation (class 23). */
static int
row_error(const PGresult *r)
{
	const char *st = PQresultErrorField(r, PG_DIAG_SQLSTATE);

	return st != NULL && (strncmp(st, "22", 2) == 0 ||
	    strncmp(st, "23", 2) == 0);
}

/* A refused row's message: SQLite's words where the error has some. */
static char *
refusal(struct dbpg_loader *l, const PGresult *r)
{
	const char *st = PQresultErrorField(r, PG_DIAG_SQLSTATE);
	const char *con = PQresultErrorField(r, PG_DIAG_CONSTRAINT_NAME);
	const char *col = PQresultErrorField(r, PG_DIAG_COLUMN_NAME);
	char *m;

	if (strcmp(st, "23514") == 0 && con != NULL) {
		if (asprintf(&m, "CHECK constraint failed: %s",
		    sqlite_words(l, con)) < 0)
			die("out of memory");
		return m;
	}
	if (strcmp(st, "23505") == 0 && con != NULL) {
		/* SQLite names a unique index by its columns. */
		const char *pv[2] = { con, l->table };
		PGresult *q = query(l->db, "SELECT string_agg($2 || '.' || "
		    "a.attname, ', ' ORDER BY k.n) FROM pg_index AS x "
		    "CROSS JOIN LATERAL unnest(x.indkey) WITH ORDINALITY "
		    "AS k(attnum, n) JOIN pg_attribute AS a ON a.attrelid = "
		    "x.indrelid AND a.attnum = k.attnum "
		    "WHERE x.indexrelid = to_regclass(quote_ident($1))", 2,
		    pv);

		if (!PQgetisnull(q, 0, 0)) {
			if (asprintf(&m, "UNIQUE constraint failed: %s",
			    PQgetvalue(q, 0, 0)) < 0)
				die("out of memory");
			PQclear(q);
			return m;
		}
		PQclear(q);
	}
	if (strcmp(st, "23502") == 0 && col != NULL) {
		if (asprintf(&m, "NOT NULL constraint failed: %s.%s",
		    l->table, col) < 0)
			die("out of memory");
		return m;
	}
	m = xstrdup(pg_msg(l->db, r));
	m[strcspn(m, "\n")] = '\0';
	return m;
}

/* Upsert staged rows lo..hi (asin_seq); NULL: done, else the error. */
static PGresult *
upsert(struct dbpg_loader *l, long lo, long hi, long long *n)
{
	char a[24], b[24];
	const char *pv[2] = { a, b };
	PGresult *r;

	snprintf(a, sizeof(a), "%ld", lo);
	snprintf(b, sizeof(b), "%ld", hi);
	r = PQexecParams(l->db->c, l->upsert, 2, NULL, pv, NULL, NULL, 0);
	if (PQresultStatus(r) == PGRES_COMMAND_OK) {
		*n += atoll(PQcmdTuples(r));
		PQclear(r);
		return NULL;
	}
	if (!row_error(r)) {
		char what[96];

		snprintf(what, sizeof(what), "load into %s: a batch of %ld "
		    "rows rolled back", l->table, l->inbatch);
		pg_die(l->db, what, r);
	}
	return r;
}

/*
 * Upsert rows lo..hi, each half alone under a savepoint when the whole
 * fails, down to the single rows the table refuses.  In row order, so
 * that a refusal past stop_after leaves the rows after it unstored.
 */
static void
upsert_bisect(struct dbpg_loader *l, long lo, long hi, long long *n)
{
	PGresult *r;
	long mid;

	if (l->stopped || lo > hi)
		return;
	exec(l->db, "SAVEPOINT asin_part");
	if ((r = upsert(l, lo, hi, n)) == NULL) {
		exec(l->db, "RELEASE asin_part");
		return;
	}
	exec(l->db, "ROLLBACK TO asin_part; RELEASE asin_part");
	if (lo == hi) {
		add_refused(l, lo - 1, refusal(l, r));
		PQclear(r);
		over_limit(l);
		return;
	}
	PQclear(r);
	mid = lo + (hi - lo) / 2;
	upsert_bisect(l, lo, mid, n);
	upsert_bisect(l, mid + 1, hi, n);
}

/* Start COPY sql; die unless the server takes it. */
static void
begin_copy(struct dbpg *d, const char *sql)
{
	PGresult *r = PQexec(d->c, sql);

	if (PQresultStatus(r) != PGRES_COPY_IN)
		pg_die(d, "COPY", r);
	PQclear(r);
}

/* End the open COPY; NULL: done, else its error (the caller's). */
static PGresult *
end_copy(struct dbpg *d, long long *n)
{
	PGresult *r, *err = NULL;

	if (PQputCopyEnd(d->c, NULL) != 1)
		pg_die(d, "COPY", NULL);
	while ((r = PQgetResult(d->c)) != NULL) {
		if (PQresultStatus(r) == PGRES_COMMAND_OK && err == NULL) {
			*n += atoll(PQcmdTuples(r));
			PQclear(r);
		} else if (err == NULL) {
			err = r;
		} else {
			PQclear(r);
		}
	}
	return err;
}

/* Stage the batch's rows from row "from" (from 0) on: they are numbered
 * from + 1, ... in asin_stage. */
static void
stage_copy(struct dbpg_loader *l, long from)
{
	char sql[64];

	snprintf(sql, sizeof(sql), "SELECT setval('asin_stage_seq', %ld, "
	    "false)", from + 1);
	exec(l->db, sql);
	begin_copy(l->db, l->copy_stage);
	l->staged_from = from;
}

/*
 * A batch begins.  While every batch of this load was new to the table,
 * the rows are COPYed straight into it, as a plain COPY would: no
 * staging table, no upsert, no CHECK query (the table checks them).
 * Where the table refuses that COPY (a key it holds, a key twice in the
 * batch, a CHECK), end_direct() rolls it back and stages the batch, and
 * every later batch of the load is staged (a rerun, an overlap).
 */
static void
start_copy(struct dbpg_loader *l)
{
	exec(l->db, "BEGIN");
	l->direct = 0;
	l->sent = 0;
	if (l->nodirect) {
		l->indirect = 0;
		stage_copy(l, 0);
		return;
	}
	l->indirect = 1;
	begin_copy(l->db, l->copy_table);
}

/*
 * End the COPY straight into the table: its rows are stored (counted
 * in l->direct) and, more rows to come, the rest of the batch is staged
 * (else l->staged_from is l->inbatch: nothing staged); or the
 * table refused one of them and the transaction is rolled back and
 * begun again with the kept rows staged.  The rows the refused COPY
 * wrote are dead tuples for VACUUM: at most one batch a load.
 */
static void
end_direct(struct dbpg_loader *l, int more)
{
	struct dbpg *d = l->db;
	PGresult *r;
	size_t off;

	send_copy(l);
	l->indirect = 0;
	if ((r = end_copy(d, &l->direct)) == NULL) {
		l->copy.len = 0;
		if (more)
			stage_copy(l, l->inbatch);
		else
			l->staged_from = l->inbatch;
		return;
	}
	if (!row_error(r))
		pg_die(d, "COPY", r);
	PQclear(r);
	l->nodirect = 1;
	exec(d, "ROLLBACK");
	exec(d, "BEGIN");
	stage_copy(l, 0);
	for (off = 0; off < l->copy.len; off += COPY_CHUNK) {
		size_t n = l->copy.len - off;

		if (n > COPY_CHUNK)
			n = COPY_CHUNK;
		if (PQputCopyData(d->c, l->copy.data + off, (int)n) != 1)
			pg_die(d, "COPY", NULL);
	}
	l->copy.len = 0;
}

/* End the COPY into the staging table; die on its error. */
static void
end_copy_staged(struct dbpg_loader *l)
{
	long long n = 0;
	PGresult *r;

	send_copy(l);
	if ((r = end_copy(l->db, &n)) != NULL)
		pg_die(l->db, "COPY", r);
}

size_t
dbpg_loader_commit(struct dbpg_loader *l, long stop_after,
    const struct dbpg_refused **bad)
{
	struct dbpg *d = l->db;
	PGresult *r;
	long long n = 0;
	long cut;
	int i;

	free_refused(l);
	*bad = l->bad;
	if (l->inbatch == 0)
		return 0;
	l->stop_after = stop_after;
	l->stopped = 0;
	if (l->indirect) {
		end_direct(l, 0);
		if (l->staged_from == l->inbatch) {
			/* The table took every row: no stage, no upsert. */
			exec(d, "COMMIT");
			l->written += l->direct;
			l->inbatch = 0;
			return 0;
		}
	}
	end_copy_staged(l);
	if (l->checks != NULL) {
		struct buf del;

		r = query(d, l->checks, 0, NULL);
		buf_init(&del);
		buf_adds(&del, "DELETE FROM asin_stage WHERE asin_seq = ANY "
		    "('{");
		for (i = 0; i < PQntuples(r); i++) {
			long seq = atol(PQgetvalue(r, i, 0));
			char *m;

			if (asprintf(&m, "CHECK constraint failed: %s",
			    l->check_words[atoi(PQgetvalue(r, i, 1))]) < 0)
				die("out of memory");
			add_refused(l, seq - 1, m);
			/* Numbers the server gave: no input in this SQL. */
			buf_printf(&del, "%s%ld", i ? "," : "", seq);
		}
		buf_adds(&del, "}'::bigint[])");
		if (PQntuples(r) > 0)
			exec(d, del.data);
		buf_free(&del);
		PQclear(r);
	}
	if ((cut = over_limit(l)) >= 0) {
		char sql[80];

		snprintf(sql, sizeof(sql), "DELETE FROM asin_stage WHERE "
		    "asin_seq > %ld", cut + 1);
		exec(d, sql);
	}
	/* Any other refusal (a constraint added by hand, a value the
	 * server will not take) is found by halves. */
	exec(d, "SAVEPOINT asin_batch");
	if ((r = upsert(l, l->staged_from + 1, l->inbatch, &n)) == NULL) {
		exec(d, "RELEASE asin_batch");
	} else {
		PQclear(r);
		exec(d, "ROLLBACK TO asin_batch; RELEASE asin_batch");
		n = 0;
		upsert_bisect(l, l->staged_from + 1, l->inbatch, &n);
	}
	n += l->direct;
	exec(d, "TRUNCATE asin_stage");
	exec(d, "COMMIT");
	/* The rows the batch took: up to the refusal that ended it. */
	l->written += n;
	l->same += (l->stopped ? l->bad[l->nbad - 1].row + 1 : l->inbatch) -
	    (long long)l->nbad - n;
	l->inbatch = 0;
	*bad = l->bad;
	return l->nbad;
}

void
dbpg_loader_counts(const struct dbpg_loader *l, long long *written,
    long long *same)
{
	*written = l->written;
	*same = l->same;
}

void
dbpg_loader_free(struct dbpg_loader *l)
{
	int i;

	if (l == NULL)
		return;
	free_refused(l);
	free(l->bad);
	for (i = 0; i < l->ncheck; i++)
		free(l->check_words[i]);
	free(l->check_words);
	free(l->checks);
	free(l->copy_table);
	free(l->copy_stage);
	dbrow_free(&l->row);
	free(l->table);
	free(l->upsert);
	buf_free(&l->copy);
	buf_free(&l->json);
	free(l);
}

/* Append s[0..n) to the COPY data, escaped for COPY's text format. */
static void
copy_text(struct buf *b, const char *s, size_t n)
{
	size_t i, run = 0;

	for (i = 0; i < n; i++) {
		const char *e;

		switch (s[i]) {
		case '\\': e = "\\\\"; break;
		case '\n': e = "\\n"; break;
		case '\r': e = "\\r"; break;
		case '\t': e = "\\t"; break;
		default: continue;
		}
		buf_add(b, s + run, i - run);
		buf_add(b, e, 2);
		run = i + 1;
	}
	buf_add(b, s + run, n - run);
}

/* Append column c's COPY field, from the row's checked value. */
static enum db_row
put_field(struct dbpg_loader *l, int c)
{
	const struct dbrow_val *v = &l->row.val[c];
	struct buf *b = &l->copy;
	char num[40];

	if (c == l->row.extra) {
		if (l->row.nxtra > 0)
			copy_text(b, l->row.xtra.data, l->row.xtra.len);
		else
			buf_add(b, "\\N", 2);
		return DB_ROW_WRITTEN;
	}
	switch (v->kind) {
	case DBV_ABSENT:
	case DBV_NULL:
		buf_add(b, "\\N", 2);
		break;
	case DBV_INT:
		buf_printf(b, "%lld", v->i);
		break;
	case DBV_BOOL:
		buf_addc(b, v->i ? 't' : 'f');
		break;
	case DBV_REAL:
		buf_add(b, num, fmt_double(num, v->d));
		break;
	case DBV_JSON:
		copy_text(b, v->s, v->n);
		break;
	case DBV_TEXT:
		if (memchr(v->s, '\0', v->n) != NULL)
			return dbrow_reject(&l->row, "field \"%s\": PostgreSQL "
			    "text cannot hold \\u0000", l->row.col[c].name);
		if (l->row.col[c].type == DBROW_TEXT) {
			copy_text(b, v->s, v->n);
			break;
		}
		/* A JSONB string: as JSON, escaped the suite's way. */
		l->json.len = 0;
		buf_add_jstr(&l->json, v->s, v->n);
		copy_text(b, l->json.data, l->json.len);
		break;
	}
	return DB_ROW_WRITTEN;
}

enum db_row
dbpg_load_row(struct dbpg_loader *l, const char *buf, size_t len,
    const char **err)
{
	size_t mark;
	int c;

	if (dbrow_read(&l->row, buf, len, err) == DB_ROW_REJECT)
		return DB_ROW_REJECT;
	/* The line goes into the COPY data; a reject takes it back. */
	mark = l->copy.len;
	for (c = 0; c < l->row.ncol; c++) {
		if (c > 0)
			buf_addc(&l->copy, '\t');
		if (put_field(l, c) == DB_ROW_REJECT) {
			l->copy.len = mark;
			*err = l->row.err;
			return DB_ROW_REJECT;
		}
	}
	buf_addc(&l->copy, '\n');
	if (l->inbatch == 0)
		start_copy(l);
	l->inbatch++;
	if (l->indirect && l->copy.len >= DIRECT_CAP)
		end_direct(l, 1);
	else if (l->copy.len - (l->indirect ? l->sent : 0) >= COPY_CHUNK)
		send_copy(l);
	return DB_ROW_WRITTEN;
}

/* ---- querying --------------------------------------------------------- */

/*
 * Rewrite the SQL's :name parameters (outside quotes, comments and ::
 * casts) as $1, $2, ... and gather their values from params, with the
 * same usage errors as on SQLite.  Returns the rewritten SQL; *vals
 * (owned by the caller, pointing into params) holds *nv values.
 */
static char *
bind_params(const char *sql, char **params, size_t np, const char ***vals,
    int *nv)
{
	unsigned char *used = xcalloc(np ? np : 1, 1);
	char **names = NULL, *missing = NULL;
	const char *unused = NULL;
	struct buf b;
	const char *p = sql;
	size_t j;
	int i;

	buf_init(&b);
	*vals = NULL;
	*nv = 0;
	while (*p && missing == NULL) {
		if (*p == '\'' || *p == '"') {
			const char *q = strchr(p + 1, *p);

			q = q != NULL ? q + 1 : p + strlen(p);
			buf_add(&b, p, (size_t)(q - p));
			p = q;
		} else if (p[0] == '-' && p[1] == '-') {
			size_t n = strcspn(p, "\n");

			buf_add(&b, p, n);
			p += n;
		} else if (p[0] == '/' && p[1] == '*') {
			const char *q = strstr(p + 2, "*/");

			q = q != NULL ? q + 2 : p + strlen(p);
			buf_add(&b, p, (size_t)(q - p));
			p = q;
		} else if (p[0] == ':' && p[1] == ':') {
			buf_add(&b, p, 2);
			p += 2;
		} else if (p[0] == ':' && (p[1] == '_' ||
		    (p[1] >= 'a' && p[1] <= 'z') ||
		    (p[1] >= 'A' && p[1] <= 'Z'))) {
			size_t n = 1 + strspn(p + 1, "abcdefghijklmnopqrstuvwxyz"
			    "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_");

			for (i = 0; i < *nv; i++)
				if (strlen(names[i]) == n - 1 &&
				    memcmp(names[i], p + 1, n - 1) == 0)
					break;
			if (i == *nv) {
				for (j = 0; j < np; j++) {
					const char *eq = strchr(params[j], '=');

					if ((size_t)(eq - params[j]) == n - 1 &&
					    memcmp(params[j], p + 1, n - 1) == 0)
						break;
				}
				if (j == np) {
					missing = xstrndup(p + 1, n - 1);
					break;
				}
				used[j] = 1;
				names = xreallocarray(names, *nv + 1,
				    sizeof(*names));
				*vals = xreallocarray(*vals, *nv + 1,
				    sizeof(**vals));
				names[*nv] = xstrndup(p + 1, n - 1);
				(*vals)[*nv] = strchr(params[j], '=') + 1;
				(*nv)++;
			}
			buf_printf(&b, "$%d", i + 1);
			p += n;
		} else {
			buf_addc(&b, *p++);
		}
	}
	for (j = 0; missing == NULL && j < np; j++)
		if (!used[j])
			unused = params[j];
	/* Everything freed before a usage error exits. */
	for (i = 0; i < *nv; i++)
		free(names[i]);
	free(names);
	free(used);
	if (missing != NULL || unused != NULL) {
		char m[128];

		free(*vals);
		buf_free(&b);
		if (missing != NULL) {
			snprintf(m, sizeof(m), "%s", missing);
			free(missing);
			usage_error("SQL parameter :%s has no value "
			    "(--param %s=VALUE)", m, m);
		}
		usage_error("option --param: the SQL has no parameter :%.*s",
		    (int)strcspn(unused, "="), unused);
	}
	return b.data != NULL ? b.data : xstrdup("");
}

/* A number's text as SQLite's engine prints it: integers as they are,
 * the others through fmt_double (non-finite: null, or empty in CSV). */
static void
put_number(struct buf *b, const char *s, int csv)
{
	char num[40];
	double v;

	if (strpbrk(s, ".eEnN") == NULL) {
		buf_adds(b, s);
		return;
	}
	v = strtod(s, NULL);
	if (!isfinite(v)) {
		if (!csv)
			buf_adds(b, "null");
		return;
	}
	buf_add(b, num, fmt_double(num, v));
}

static void
put_value(struct dbpg *d, PGresult *r, int row, int i, Oid t, int csv,
    struct buf *b, struct buf *tmp)
{
	const char *s;
	size_t n;

	if (PQgetisnull(r, row, i)) {
		if (!csv)
			buf_adds(b, "null");
		return;
	}
	s = PQgetvalue(r, row, i);
	n = (size_t)PQgetlength(r, row, i);
	switch (t) {
	case OID_BOOL:
		buf_adds(b, *s == 't' ? "true" : "false");
		return;
	case OID_INT2:
	case OID_INT4:
	case OID_INT8:
	case OID_OID:
		buf_add(b, s, n);
		return;
	case OID_FLOAT4:
	case OID_FLOAT8:
	case OID_NUMERIC:
		put_number(b, s, csv);
		return;
	case OID_JSONB:
		/* A scalar is printed as SQLite prints a typeless value. */
		if (*s == '"') {
			tmp->len = 0;
			buf_reserve(tmp, n);
			n = scan_unescape(tmp->data, s + 1, n - 2);
			tmp->data[n] = '\0';	/* dbrow_csv_field() reads a C string */
			s = tmp->data;
			break;
		}
		if (*s == '-' || (*s >= '0' && *s <= '9')) {
			put_number(b, s, csv);
			return;
		}
		/* FALLTHROUGH */
	case OID_JSON:
		if (csv)
			dbrow_csv_field(b, s, n);
		else
			buf_add(b, s, n);
		return;
	default:
		break;
	}
	if (csv) {
		dbrow_csv_field(b, s, n);
		return;
	}
	if (utf8_invalid_at((const unsigned char *)s, n) >= 0)
		die("%s: column %s: text is not valid UTF-8", d->name,
		    PQfname(r, i));
	buf_add_jstr(b, s, n);
}

/* Whether an extra object (in sc) can be spread into r's row. */
static int
spreadable(const struct scan *sc, const char *s, const PGresult *r)
{
	int nc = PQnfields(r), i, ok;
	const char **names = xcalloc(nc ? nc : 1, sizeof(*names));

	for (i = 0; i < nc; i++)
		names[i] = PQfname(r, i);
	ok = dbrow_spreadable(sc, s, names, nc);
	free(names);
	return ok;
}

/* Format row row of r into b. */
static void
put_row(struct dbpg *d, PGresult *r, int row, enum db_format fmt,
    struct buf *b, struct buf *tmp, struct scan *sc)
{
	int nc = PQnfields(r), i;

	b->len = 0;
	if (fmt == DB_CSV) {
		for (i = 0; i < nc; i++) {
			if (i)
				buf_addc(b, ',');
			put_value(d, r, row, i, PQftype(r, i), 1, b, tmp);
		}
		return;
	}
	buf_addc(b, '{');
	for (i = 0; i < nc; i++) {
		const char *name = PQfname(r, i);

		if (strcmp(name, "extra") == 0 && PQftype(r, i) == OID_JSON) {
			const char *s = PQgetvalue(r, row, i);
			size_t n = (size_t)PQgetlength(r, row, i);

			if (PQgetisnull(r, row, i))
				continue;
			if (scan_text(sc, s, n) && spreadable(sc, s, r)) {
				if (sc->n == 0)
					continue;
				if (b->len > 1)
					buf_addc(b, ',');
				buf_add(b, s + sc->m[0].key - 1,
				    sc->m[sc->n - 1].val +
				    sc->m[sc->n - 1].val_len -
				    sc->m[0].key + 1);
				continue;
			}
		}
		if (b->len > 1)
			buf_addc(b, ',');
		buf_add_jstr(b, name, strlen(name));
		buf_addc(b, ':');
		put_value(d, r, row, i, PQftype(r, i), 0, b, tmp);
	}
	buf_addc(b, '}');
}

/* Whether q (after blanks and comments) is a SELECT a cursor can run. */
static int
is_select(const char *q)
{
	static const char *const kw[] = { "select", "with", "values",
	    "table" };
	size_t i, n;

	for (;;) {
		q += strspn(q, " \t\r\n");
		if (q[0] == '-' && q[1] == '-')
			q += strcspn(q, "\n");
		else if (q[0] == '/' && q[1] == '*' && strstr(q, "*/") != NULL)
			q = strstr(q, "*/") + 2;
		else
			break;
	}
	for (i = 0; i < sizeof(kw) / sizeof(kw[0]); i++) {
		n = strlen(kw[i]);
		if (strncasecmp(q, kw[i], n) == 0 && !(q[n] == '_' ||
		    (q[n] >= 'a' && q[n] <= 'z') || (q[n] >= 'A' &&
		    q[n] <= 'Z') || (q[n] >= '0' && q[n] <= '9')))
			return 1;
	}
	return 0;
}

/* Rows a cursor fetches at a time. */
#define FETCH_ROWS 10000

/* Write the CSV header of r's columns. */
static void
csv_head(PGresult *r, struct buf *b, struct out *o)
{
	int i;

	b->len = 0;
	for (i = 0; i < PQnfields(r); i++) {
		if (i)
			buf_addc(b, ',');
		dbrow_csv_field(b, PQfname(r, i), strlen(PQfname(r, i)));
	}
	out_line(o, b->data, b->len);
}

/*
 * A SELECT through a cursor, FETCH_ROWS rows a result: the million-row
 * result is never held whole, and a row costs no result of its own (as
 * in single-row mode, which copies the column descriptions every row).
 */
static long long
query_cursor(struct dbpg *d, const char *q, int nv, const char **vals,
    enum db_format fmt, struct out *o)
{
	struct buf b, tmp, decl;
	struct scan sc;
	PGresult *r;
	long long rows = 0;
	int n, i, head = 0;
	char fetch[64];

	buf_init(&b);
	buf_init(&tmp);
	buf_init(&decl);
	scan_init(&sc);
	exec(d, "BEGIN");
	buf_printf(&decl, "DECLARE asin_q NO SCROLL CURSOR FOR %s", q);
	PQclear(query(d, decl.data, nv, vals));
	snprintf(fetch, sizeof(fetch), "FETCH FORWARD %d FROM asin_q",
	    FETCH_ROWS);
	do {
		r = query(d, fetch, 0, NULL);
		if (fmt == DB_CSV && !head && PQnfields(r) > 0) {
			csv_head(r, &b, o);
			head = 1;
		}
		n = PQntuples(r);
		for (i = 0; i < n; i++) {
			put_row(d, r, i, fmt, &b, &tmp, &sc);
			out_line(o, b.data, b.len);
		}
		rows += n;
		PQclear(r);
	} while (n == FETCH_ROWS);
	exec(d, "COMMIT");
	buf_free(&b);
	buf_free(&tmp);
	buf_free(&decl);
	scan_free(&sc);
	return rows;
}

long long
dbpg_query(struct dbpg *d, const char *sql, char **params, size_t np,
    enum db_format fmt, struct out *o)
{
	const char **vals;
	struct buf b, tmp;
	struct scan sc;
	PGresult *r;
	long long rows = 0;
	char *q;
	int nv, head = 0;

	q = bind_params(sql, params, np, &vals, &nv);
	if (q[strspn(q, " \t\r\n;")] == '\0')
		usage_error("the SQL holds no statement");
	if (is_select(q)) {
		rows = query_cursor(d, q, nv, vals, fmt, o);
		free(vals);
		free(q);
		return rows;
	}
	/* Anything else (SHOW, EXPLAIN, ...) row by row. */
	if (!PQsendQueryParams(d->c, q, nv, NULL, vals, NULL, NULL, 0))
		pg_die(d, "SQL", NULL);
	/* Row by row: a million-row result is never held whole. */
	if (!PQsetSingleRowMode(d->c))
		pg_die(d, "SQL", NULL);
	buf_init(&b);
	buf_init(&tmp);
	scan_init(&sc);
	while ((r = PQgetResult(d->c)) != NULL) {
		ExecStatusType st = PQresultStatus(r);

		if (st != PGRES_SINGLE_TUPLE && st != PGRES_TUPLES_OK &&
		    st != PGRES_COMMAND_OK) {
			if (st == PGRES_EMPTY_QUERY)
				usage_error("the SQL holds no statement");
			pg_die(d, "SQL", r);
		}
		if (fmt == DB_CSV && !head && PQnfields(r) > 0) {
			csv_head(r, &b, o);
			head = 1;
		}
		if (st == PGRES_SINGLE_TUPLE) {
			put_row(d, r, 0, fmt, &b, &tmp, &sc);
			out_line(o, b.data, b.len);
			rows++;
		}
		PQclear(r);
	}
	buf_free(&b);
	buf_free(&tmp);
	scan_free(&sc);
	free(vals);
	free(q);
	return rows;
}
