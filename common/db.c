/*
 * db.c - the SQLite engine behind asin-db (see db.h).  Rows are read with
 * the record scanner and bound straight from the line's bytes: no jv, no
 * second parse.  Names reach SQL only after they were found in the
 * file's own schema; values are always bound.
 */
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sqlite3.h>

#include "asin.h"
#include "db.h"
#include "dbrow.h"
#include "dbschema.h"	/* generated from schemas/db-*.sql */
#include "scan.h"

#define BUSY_TIMEOUT_MS 10000

struct db {
	sqlite3 *h;
	const char *path;
	int readonly;
};

struct db_loader {
	struct db *db;
	char *table;
	struct dbrow row;	/* the columns and the row's checked values */
	sqlite3_stmt *ins;
	long batch;
	long inbatch;
};

static ASIN_NORETURN void
db_die(struct db *d, const char *what)
{
	die("%s: %s: %s", d->path, what, sqlite3_errmsg(d->h));
}

static void
exec(struct db *d, const char *sql)
{
	char *msg = NULL;

	if (sqlite3_exec(d->h, sql, NULL, NULL, &msg) != SQLITE_OK) {
		char *m = xstrdup(msg != NULL ? msg : "error");

		sqlite3_free(msg);
		die("%s: %s", d->path, m);
	}
}

int
db_schema_latest(void)
{
	return (int)(sizeof(db_migrations) / sizeof(db_migrations[0]));
}

struct db *
db_open(const char *path, int flags)
{
	struct db *d = xcalloc(1, sizeof(*d));
	int of;

	d->path = path;
	d->readonly = (flags & DB_READONLY) != 0;
	of = d->readonly ? SQLITE_OPEN_READONLY : SQLITE_OPEN_READWRITE;
	if (flags & DB_CREATE)
		of |= SQLITE_OPEN_CREATE;
	if (sqlite3_open_v2(path, &d->h, of | SQLITE_OPEN_NOMUTEX, NULL) !=
	    SQLITE_OK) {
		if (d->h == NULL)
			die("%s: cannot open: out of memory", path);
		die("%s: cannot open: %s", path, sqlite3_errmsg(d->h));
	}
	sqlite3_extended_result_codes(d->h, 1);
	sqlite3_busy_timeout(d->h, BUSY_TIMEOUT_MS);
	/* A file that is not a database fails on the first read. */
	if (sqlite3_exec(d->h, "SELECT count(*) FROM sqlite_master", NULL,
	    NULL, NULL) != SQLITE_OK)
		die("%s: not an SQLite database: %s", path,
		    sqlite3_errmsg(d->h));
	if (!d->readonly) {
		/*
		 * WAL: readers go on while a load writes, and a kill at any
		 * point leaves the last committed batch.  NORMAL sync is safe
		 * against a killed process in WAL mode; only a power loss
		 * can cost the last commits, never consistency.
		 */
		exec(d, "PRAGMA journal_mode=WAL");
		exec(d, "PRAGMA synchronous=NORMAL");
	}
	return d;
}

void
db_close(struct db *d)
{
	if (d == NULL)
		return;
	if (sqlite3_close(d->h) != SQLITE_OK)
		db_die(d, "close");
	free(d);
}

int
db_version(struct db *d)
{
	sqlite3_stmt *st;
	int v = 0;

	if (sqlite3_prepare_v2(d->h, "PRAGMA user_version", -1, &st, NULL) !=
	    SQLITE_OK)
		db_die(d, "user_version");
	if (sqlite3_step(st) == SQLITE_ROW)
		v = sqlite3_column_int(st, 0);
	sqlite3_finalize(st);
	return v;
}

int
db_migrate(struct db *d)
{
	int v, n = 0, i;
	sqlite3_stmt *st;

	/* BEGIN IMMEDIATE first: two inits at once migrate once. */
	for (i = 0; i < db_schema_latest(); i++) {
		exec(d, "BEGIN IMMEDIATE");
		v = db_version(d);
		if (v > db_schema_latest())
			dbrow_too_new(d->path, v, db_schema_latest());
		if (v >= db_migrations[i].version) {
			exec(d, "COMMIT");
			continue;
		}
		if (v == 0)
			exec(d, "CREATE TABLE IF NOT EXISTS schema_migrations ("
			    "version INTEGER PRIMARY KEY, name TEXT NOT NULL, "
			    "applied_at TEXT NOT NULL)");
		exec(d, db_migrations[i].sql);
		if (sqlite3_prepare_v2(d->h, "INSERT INTO schema_migrations "
		    "VALUES (?1, ?2, strftime('%Y-%m-%dT%H:%M:%SZ','now'))",
		    -1, &st, NULL) != SQLITE_OK)
			db_die(d, "schema_migrations");
		sqlite3_bind_int(st, 1, db_migrations[i].version);
		sqlite3_bind_text(st, 2, db_migrations[i].name, -1,
		    SQLITE_STATIC);
		if (sqlite3_step(st) != SQLITE_DONE)
			db_die(d, "schema_migrations");
		sqlite3_finalize(st);
		{
			char sql[64];

			/* A pragma takes no bound value; the number is ours. */
			snprintf(sql, sizeof(sql), "PRAGMA user_version=%d",
			    db_migrations[i].version);
			exec(d, sql);
		}
		exec(d, "COMMIT");
		n++;
	}
	return n;
}

void
db_require_schema(struct db *d, int readonly)
{
	dbrow_require_schema(d->path, db_version(d), db_schema_latest(),
	    readonly);
}

/* ---- loading ---------------------------------------------------------- */

static enum dbrow_type
coltype_of(const char *decl)
{
	if (decl == NULL || *decl == '\0')
		return DBROW_ANY;
	if (strcasecmp(decl, "INTEGER") == 0)
		return DBROW_INTEGER;
	if (strcasecmp(decl, "REAL") == 0)
		return DBROW_REAL;
	if (strcasecmp(decl, "TEXT") == 0)
		return DBROW_TEXT;
	if (strcasecmp(decl, "BOOLEAN") == 0)
		return DBROW_BOOLEAN;
	if (strcasecmp(decl, "JSON") == 0)
		return DBROW_JSON;
	return DBROW_ANY;
}

static void
read_columns(struct db_loader *l)
{
	sqlite3_stmt *st;
	struct db *d = l->db;
	int found = 0, rc;

	if (sqlite3_prepare_v2(d->h, "SELECT name FROM sqlite_master WHERE "
	    "type = 'table' AND name = ?1 AND name NOT LIKE 'sqlite\\_%' "
	    "ESCAPE '\\' AND name <> 'schema_migrations'", -1, &st, NULL) !=
	    SQLITE_OK)
		db_die(d, "schema");
	sqlite3_bind_text(st, 1, l->table, -1, SQLITE_STATIC);
	/* Out of memory or I/O is no missing table: say which it was. */
	if ((rc = sqlite3_step(st)) != SQLITE_ROW && rc != SQLITE_DONE)
		db_die(d, "schema");
	found = rc == SQLITE_ROW;
	sqlite3_finalize(st);
	if (!found || !dbrow_ident_ok(l->table, 64))
		usage_error("%s: no table '%s' (tables: products, categories, "
		    "marketplaces, fetch_log, facts, features, scores, "
		    "assignments, uplift, model_runs)", d->path, l->table);
	/* table_xinfo would show hidden columns; table_info is the schema. */
	if (sqlite3_prepare_v2(d->h, "SELECT name, type, pk FROM "
	    "pragma_table_info(?1) ORDER BY cid", -1, &st, NULL) != SQLITE_OK)
		db_die(d, "table_info");
	sqlite3_bind_text(st, 1, l->table, -1, SQLITE_STATIC);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		const char *name = (const char *)sqlite3_column_text(st, 0);

		if (name == NULL && sqlite3_errcode(d->h) == SQLITE_NOMEM)
			db_die(d, "table_info");
		if (name == NULL || !dbrow_ident_ok(name, 64))
			die("%s: table %s: column name '%s' is not an "
			    "identifier", d->path, l->table,
			    name ? name : "");
		dbrow_add_col(&l->row, name, coltype_of((const char *)
		    sqlite3_column_text(st, 1)), sqlite3_column_int(st, 2) > 0);
	}
	/* A step that fails is no end of the columns. */
	if (rc != SQLITE_DONE)
		db_die(d, "table_info");
	sqlite3_finalize(st);
}

/*
 * INSERT ... ON CONFLICT (key) DO UPDATE SET every other column, only
 * where one differs: then sqlite3_changes() tells a rerun's identical row
 * (0) from a write (1), and an identical row costs no page write.
 */
static void
prepare_upsert(struct db_loader *l)
{
	const struct dbrow_col *col = l->row.col;
	struct buf s;
	int i, first, nonkey = 0;

	buf_init(&s);
	buf_printf(&s, "INSERT INTO \"%s\" (", l->table);
	for (i = 0; i < l->row.ncol; i++)
		buf_printf(&s, "%s\"%s\"", i ? ", " : "", col[i].name);
	buf_adds(&s, ") VALUES (");
	for (i = 0; i < l->row.ncol; i++)
		buf_printf(&s, "%s?%d", i ? ", " : "", i + 1);
	buf_adds(&s, ") ON CONFLICT (");
	for (i = 0, first = 1; i < l->row.ncol; i++)
		if (col[i].key) {
			buf_printf(&s, "%s\"%s\"", first ? "" : ", ",
			    col[i].name);
			first = 0;
		} else
			nonkey++;
	if (nonkey == 0) {
		buf_adds(&s, ") DO NOTHING");
	} else {
		buf_adds(&s, ") DO UPDATE SET ");
		for (i = 0, first = 1; i < l->row.ncol; i++)
			if (!col[i].key) {
				buf_printf(&s, "%s\"%s\" = excluded.\"%s\"",
				    first ? "" : ", ", col[i].name,
				    col[i].name);
				first = 0;
			}
		buf_adds(&s, " WHERE ");
		for (i = 0, first = 1; i < l->row.ncol; i++)
			if (!col[i].key) {
				buf_printf(&s, "%s\"%s\" IS NOT excluded.\"%s\"",
				    first ? "" : " OR ", col[i].name,
				    col[i].name);
				first = 0;
			}
	}
	if (sqlite3_prepare_v3(l->db->h, s.data, (int)s.len + 1,
	    SQLITE_PREPARE_PERSISTENT, &l->ins, NULL) != SQLITE_OK)
		db_die(l->db, "prepare");
	buf_free(&s);
}

struct db_loader *
db_loader_new(struct db *d, const char *table, long batch)
{
	struct db_loader *l = xcalloc(1, sizeof(*l));

	l->db = d;
	l->table = xstrdup(table);
	l->batch = batch > 0 ? batch : 1;
	dbrow_init(&l->row, l->table);
	read_columns(l);
	if (dbrow_keys(&l->row) == 0)
		die("%s: table %s has no primary key to upsert by", d->path,
		    table);
	prepare_upsert(l);
	/* A large page cache keeps the key's B-tree in memory. */
	exec(d, "PRAGMA cache_size=-65536");
	return l;
}

void
db_loader_commit(struct db_loader *l)
{
	if (l->inbatch == 0)
		return;
	exec(l->db, "COMMIT");
	l->inbatch = 0;
}

void
db_loader_free(struct db_loader *l)
{
	if (l == NULL)
		return;
	db_loader_commit(l);
	sqlite3_finalize(l->ins);
	dbrow_free(&l->row);
	free(l->table);
	free(l);
}

/* Bind column c's checked value (1-based parameter c + 1). */
static void
bind_value(struct db_loader *l, int c)
{
	const struct dbrow_val *v = &l->row.val[c];
	sqlite3_stmt *st = l->ins;
	int p = c + 1;

	if (c == l->row.extra) {
		if (l->row.nxtra > 0)
			sqlite3_bind_text(st, p, l->row.xtra.data,
			    (int)l->row.xtra.len, SQLITE_STATIC);
		else
			sqlite3_bind_null(st, p);
		return;
	}
	switch (v->kind) {
	case DBV_ABSENT:
	case DBV_NULL:
		sqlite3_bind_null(st, p);
		break;
	case DBV_INT:
	case DBV_BOOL:
		sqlite3_bind_int64(st, p, v->i);
		break;
	case DBV_REAL:
		sqlite3_bind_double(st, p, v->d);
		break;
	case DBV_TEXT:
	case DBV_JSON:
		sqlite3_bind_text(st, p, v->s, (int)v->n, SQLITE_STATIC);
		break;
	}
}

enum db_row
db_load_row(struct db_loader *l, const char *buf, size_t len,
    const char **err)
{
	enum db_row r;
	int c, rc;

	if ((r = dbrow_read(&l->row, buf, len, err)) == DB_ROW_REJECT)
		return r;
	for (c = 0; c < l->row.ncol; c++)
		bind_value(l, c);
	if (l->inbatch == 0)
		exec(l->db, "BEGIN IMMEDIATE");
	rc = sqlite3_step(l->ins);
	if (rc == SQLITE_DONE) {
		r = sqlite3_changes(l->db->h) > 0 ? DB_ROW_WRITTEN :
		    DB_ROW_SAME;
		l->inbatch++;
	} else if ((rc & 0xff) == SQLITE_CONSTRAINT ||
	    (rc & 0xff) == SQLITE_MISMATCH || (rc & 0xff) == SQLITE_TOOBIG) {
		/* The statement failed alone; the batch goes on. */
		r = dbrow_reject(&l->row, "%s", sqlite3_errmsg(l->db->h));
		*err = l->row.err;
		l->inbatch++;
	} else
		db_die(l->db, "load");
	sqlite3_reset(l->ins);
	if (l->inbatch >= l->batch)
		db_loader_commit(l);
	return r;
}

/* ---- querying --------------------------------------------------------- */

static void
bind_params(struct db *d, sqlite3_stmt *st, char **params, size_t np)
{
	int n = sqlite3_bind_parameter_count(st), i;
	unsigned char *used = xcalloc(np ? np : 1, 1);
	size_t j;

	for (i = 1; i <= n; i++) {
		const char *name = sqlite3_bind_parameter_name(st, i);

		if (name == NULL || (name[0] != ':' && name[0] != '@' &&
		    name[0] != '$'))
			usage_error("SQL parameter %d: only named parameters "
			    "(:name) take values from --param", i);
		for (j = 0; j < np; j++) {
			const char *eq = strchr(params[j], '=');

			if (eq != NULL && (size_t)(eq - params[j]) ==
			    strlen(name + 1) && memcmp(params[j], name + 1,
			    eq - params[j]) == 0) {
				sqlite3_bind_text(st, i, eq + 1, -1,
				    SQLITE_STATIC);
				used[j] = 1;
				break;
			}
		}
		if (j == np && (free(used), 1))
			usage_error("SQL parameter %s has no value "
			    "(--param %s=VALUE)", name, name + 1);
	}
	for (j = 0; j < np; j++)
		if (!used[j] && (free(used), 1))
			usage_error("option --param: the SQL has no parameter "
			    ":%.*s", (int)strcspn(params[j], "="), params[j]);
	free(used);
	(void)d;
}

/* Append value i of the current row as JSON (csv: as a CSV field). */
static void
put_value(struct db *d, sqlite3_stmt *st, int i, enum dbrow_type t, int csv,
    struct buf *b, struct scan *sc)
{
	char num[40];
	const char *s;
	size_t n;

	switch (sqlite3_column_type(st, i)) {
	case SQLITE_NULL:
		if (!csv)
			buf_adds(b, "null");
		return;
	case SQLITE_INTEGER:
		if (t == DBROW_BOOLEAN) {
			buf_adds(b, sqlite3_column_int64(st, i) ? "true" :
			    "false");
			return;
		}
		buf_printf(b, "%lld", (long long)sqlite3_column_int64(st, i));
		return;
	case SQLITE_FLOAT: {
		double v = sqlite3_column_double(st, i);

		if (!isfinite(v)) {
			if (!csv)
				buf_adds(b, "null");
			return;
		}
		buf_add(b, num, fmt_double(num, v));
		return;
	}
	case SQLITE_TEXT:
		s = (const char *)sqlite3_column_text(st, i);
		n = (size_t)sqlite3_column_bytes(st, i);
		if (csv) {
			dbrow_csv_field(b, s, n);
			return;
		}
		if (t == DBROW_JSON && scan_text(sc, s, n)) {
			buf_add(b, s, n);
			return;
		}
		if (utf8_invalid_at((const unsigned char *)s, n) >= 0)
			die("%s: column %s: text is not valid UTF-8", d->path,
			    sqlite3_column_name(st, i));
		buf_add_jstr(b, s, n);
		return;
	default:
		die("%s: column %s: BLOB values cannot be written as JSON",
		    d->path, sqlite3_column_name(st, i));
	}
}

long long
db_query(struct db *d, const char *sql, char **params, size_t np,
    enum db_format fmt, struct out *o)
{
	sqlite3_stmt *st;
	const char *tail;
	enum dbrow_type *t;
	char **names;
	struct scan sc;
	struct buf b;
	long long rows = 0;
	int nc, i, rc;

	if (sqlite3_prepare_v2(d->h, sql, -1, &st, &tail) != SQLITE_OK)
		die("%s: SQL: %s", d->path, sqlite3_errmsg(d->h));
	if (st == NULL)
		usage_error("the SQL holds no statement");
	tail += strspn(tail, " \t\r\n;");
	if (*tail != '\0') {
		sqlite3_finalize(st);
		usage_error("the SQL holds more than one statement");
	}
	bind_params(d, st, params, np);
	nc = sqlite3_column_count(st);
	t = xcalloc(nc ? nc : 1, sizeof(*t));
	names = xcalloc(nc ? nc : 1, sizeof(*names));
	for (i = 0; i < nc; i++) {
		t[i] = coltype_of(sqlite3_column_decltype(st, i));
		names[i] = xstrdup(sqlite3_column_name(st, i));
	}
	scan_init(&sc);
	buf_init(&b);
	if (fmt == DB_CSV && nc > 0) {
		for (i = 0; i < nc; i++) {
			if (i)
				buf_addc(&b, ',');
			dbrow_csv_field(&b, names[i], strlen(names[i]));
		}
		out_line(o, b.data, b.len);
	}
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		b.len = 0;
		if (fmt == DB_CSV) {
			for (i = 0; i < nc; i++) {
				if (i)
					buf_addc(&b, ',');
				put_value(d, st, i, t[i], 1, &b, &sc);
			}
			out_line(o, b.data, b.len);
			rows++;
			continue;
		}
		buf_addc(&b, '{');
		for (i = 0; i < nc; i++) {
			if (strcmp(names[i], "extra") == 0 && t[i] == DBROW_JSON &&
			    sqlite3_column_type(st, i) == SQLITE_NULL)
				continue;	/* a row without extra fields */
			if (strcmp(names[i], "extra") == 0 && t[i] == DBROW_JSON &&
			    sqlite3_column_type(st, i) == SQLITE_TEXT) {
				const char *s = (const char *)
				    sqlite3_column_text(st, i);
				size_t n = (size_t)sqlite3_column_bytes(st, i);

				if (scan_text(&sc, s, n) &&
				    dbrow_spreadable(&sc, s,
				    (const char *const *)names, nc)) {
					if (sc.n == 0)
						continue;
					if (b.len > 1)
						buf_addc(&b, ',');
					/* The members without the braces. */
					buf_add(&b, s + sc.m[0].key - 1,
					    sc.m[sc.n - 1].val +
					    sc.m[sc.n - 1].val_len -
					    sc.m[0].key + 1);
					continue;
				}
			}
			if (b.len > 1)
				buf_addc(&b, ',');
			buf_add_jstr(&b, names[i], strlen(names[i]));
			buf_addc(&b, ':');
			put_value(d, st, i, t[i], 0, &b, &sc);
		}
		buf_addc(&b, '}');
		out_line(o, b.data, b.len);
		rows++;
	}
	if (rc != SQLITE_DONE)
		die("%s: SQL: %s", d->path, sqlite3_errmsg(d->h));
	sqlite3_finalize(st);
	for (i = 0; i < nc; i++)
		free(names[i]);
	free(names);
	free(t);
	scan_free(&sc);
	buf_free(&b);
	return rows;
}
