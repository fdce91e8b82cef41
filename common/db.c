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
#include "dbschema.h"	/* generated from schemas/db-*.sql */
#include "scan.h"

#define BUSY_TIMEOUT_MS 10000

struct db {
	sqlite3 *h;
	const char *path;
	int readonly;
};

enum coltype {
	COL_ANY,	/* no declared type: scalars keep their JSON type */
	COL_INTEGER,
	COL_REAL,
	COL_TEXT,
	COL_BOOLEAN,
	COL_JSON
};

struct column {
	char *name;
	size_t len;
	enum coltype type;
	int key;
};

struct db_loader {
	struct db *db;
	char *table;
	struct column *col;
	int ncol;
	int extra;		/* index of the extra column, -1: none */
	sqlite3_stmt *ins;
	long batch;
	long inbatch;
	struct scan sc;
	unsigned char *seen;	/* per column, this row */
	struct buf xtra;	/* the extra object being built */
	struct buf text;	/* unescaped strings of this row */
	char *err;
	char num[64];
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

static ASIN_NORETURN void
too_new(struct db *d, int v)
{
	die("%s: schema version %d is newer than this asin-db (%d): "
	    "use a newer asin-db", d->path, v, db_schema_latest());
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
			too_new(d, v);
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
	int v = db_version(d);

	if (v == 0)
		die("%s: not an asin-db database (run 'asin-db init %s')",
		    d->path, d->path);
	if (v > db_schema_latest() && !readonly)
		too_new(d, v);
	if (v < db_schema_latest())
		die("%s: schema version %d is older than this asin-db (%d): "
		    "run 'asin-db init %s' to upgrade it", d->path, v,
		    db_schema_latest(), d->path);
}

/* ---- loading ---------------------------------------------------------- */

static int
ident_ok(const char *s)
{
	const char *p;

	if (*s == '\0' || strlen(s) > 64)
		return 0;
	for (p = s; *p; p++)
		if (!((*p >= 'a' && *p <= 'z') || *p == '_' ||
		    (p > s && *p >= '0' && *p <= '9')))
			return 0;
	return 1;
}

static enum coltype
coltype_of(const char *decl)
{
	if (decl == NULL || *decl == '\0')
		return COL_ANY;
	if (strcasecmp(decl, "INTEGER") == 0)
		return COL_INTEGER;
	if (strcasecmp(decl, "REAL") == 0)
		return COL_REAL;
	if (strcasecmp(decl, "TEXT") == 0)
		return COL_TEXT;
	if (strcasecmp(decl, "BOOLEAN") == 0)
		return COL_BOOLEAN;
	if (strcasecmp(decl, "JSON") == 0)
		return COL_JSON;
	return COL_ANY;
}

static const char *
coltype_name(enum coltype t)
{
	static const char *const names[] = { "scalar", "integer", "number",
	    "string", "boolean", "JSON" };

	return names[t];
}

static void
read_columns(struct db_loader *l)
{
	sqlite3_stmt *st;
	struct db *d = l->db;
	int found = 0, cap = 0, rc;

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
	if (!found || !ident_ok(l->table))
		usage_error("%s: no table '%s' (tables: products, categories, "
		    "marketplaces, fetch_log, facts, features, scores, "
		    "assignments, uplift, model_runs)", d->path, l->table);
	/* table_xinfo would show hidden columns; table_info is the schema. */
	if (sqlite3_prepare_v2(d->h, "SELECT name, type, pk FROM "
	    "pragma_table_info(?1) ORDER BY cid", -1, &st, NULL) != SQLITE_OK)
		db_die(d, "table_info");
	sqlite3_bind_text(st, 1, l->table, -1, SQLITE_STATIC);
	l->extra = -1;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		const char *name = (const char *)sqlite3_column_text(st, 0);
		struct column *c;

		if (name == NULL && sqlite3_errcode(d->h) == SQLITE_NOMEM)
			db_die(d, "table_info");
		if (name == NULL || !ident_ok(name))
			die("%s: table %s: column name '%s' is not an "
			    "identifier", d->path, l->table,
			    name ? name : "");
		if (l->ncol == cap) {
			cap = cap ? cap * 2 : 16;
			l->col = xreallocarray(l->col, cap, sizeof(*l->col));
		}
		c = &l->col[l->ncol];
		c->name = xstrdup(name);
		c->len = strlen(name);
		c->type = coltype_of((const char *)sqlite3_column_text(st, 1));
		c->key = sqlite3_column_int(st, 2) > 0;
		if (strcmp(name, "extra") == 0 && c->type == COL_JSON)
			l->extra = l->ncol;
		l->ncol++;
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
	struct buf s;
	int i, first, nonkey = 0;

	buf_init(&s);
	buf_printf(&s, "INSERT INTO \"%s\" (", l->table);
	for (i = 0; i < l->ncol; i++)
		buf_printf(&s, "%s\"%s\"", i ? ", " : "", l->col[i].name);
	buf_adds(&s, ") VALUES (");
	for (i = 0; i < l->ncol; i++)
		buf_printf(&s, "%s?%d", i ? ", " : "", i + 1);
	buf_adds(&s, ") ON CONFLICT (");
	for (i = 0, first = 1; i < l->ncol; i++)
		if (l->col[i].key) {
			buf_printf(&s, "%s\"%s\"", first ? "" : ", ",
			    l->col[i].name);
			first = 0;
		} else
			nonkey++;
	if (nonkey == 0) {
		buf_adds(&s, ") DO NOTHING");
	} else {
		buf_adds(&s, ") DO UPDATE SET ");
		for (i = 0, first = 1; i < l->ncol; i++)
			if (!l->col[i].key) {
				buf_printf(&s, "%s\"%s\" = excluded.\"%s\"",
				    first ? "" : ", ", l->col[i].name,
				    l->col[i].name);
				first = 0;
			}
		buf_adds(&s, " WHERE ");
		for (i = 0, first = 1; i < l->ncol; i++)
			if (!l->col[i].key) {
				buf_printf(&s, "%s\"%s\" IS NOT excluded.\"%s\"",
				    first ? "" : " OR ", l->col[i].name,
				    l->col[i].name);
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
	int i, keys = 0;

	l->db = d;
	l->table = xstrdup(table);
	l->batch = batch > 0 ? batch : 1;
	read_columns(l);
	for (i = 0; i < l->ncol; i++)
		keys += l->col[i].key;
	if (keys == 0)
		die("%s: table %s has no primary key to upsert by", d->path,
		    table);
	prepare_upsert(l);
	l->seen = xcalloc(l->ncol, 1);
	scan_init(&l->sc);
	buf_init(&l->xtra);
	buf_init(&l->text);
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
	int i;

	if (l == NULL)
		return;
	db_loader_commit(l);
	sqlite3_finalize(l->ins);
	for (i = 0; i < l->ncol; i++)
		free(l->col[i].name);
	free(l->col);
	free(l->seen);
	free(l->table);
	free(l->err);
	scan_free(&l->sc);
	buf_free(&l->xtra);
	buf_free(&l->text);
	free(l);
}

static enum db_row
reject(struct db_loader *l, const char *fmt, ...) ASIN_PRINTF(2, 3);

static enum db_row
reject(struct db_loader *l, const char *fmt, ...)
{
	va_list ap;

	free(l->err);
	va_start(ap, fmt);
	if (vasprintf(&l->err, fmt, ap) < 0)
		die("out of memory");
	va_end(ap);
	return DB_ROW_REJECT;
}

/* A kind's name as the record layer's messages say it. */
static const char *
kind_name(int k)
{
	return rec_kind_name((enum rec_kind)k);
}

/* Whether a valid JSON number's text is written as an integer. */
static int
int_literal(const char *s, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (s[i] == '.' || s[i] == 'e' || s[i] == 'E')
			return 0;
	return 1;
}

/* Convert a JSON number span; 0 when it is beyond the double range. */
static int
num_value(struct db_loader *l, const char *s, size_t n, double *v)
{
	char *tmp = n < sizeof(l->num) ? l->num : xstrndup(s, n);

	if (tmp == l->num) {
		memcpy(l->num, s, n);
		l->num[n] = '\0';
	}
	errno = 0;
	*v = strtod(tmp, NULL);
	if (tmp != l->num)
		free(tmp);
	return isfinite(*v);
}

/* An integer within +-2^53 from a number span, as JSON readers agree. */
static int
int_value(struct db_loader *l, const char *s, size_t n, long long *v)
{
	double d;

	if (int_literal(s, n) && n < 19 && parse_int(s, n, v))
		return 1;
	if (!num_value(l, s, n, &d) || d != floor(d) || fabs(d) > 9007199254740992.0)
		return 0;
	*v = (long long)d;
	return 1;
}

/* Bind one member's value to column c (1-based parameter c + 1). */
static enum db_row
bind_value(struct db_loader *l, int c, const char *line,
    const struct scan_member *m)
{
	const struct column *col = &l->col[c];
	sqlite3_stmt *st = l->ins;
	const char *v = line + m->val;
	long long iv;
	double dv;
	int p = c + 1;

	if (m->kind == SCAN_NULL) {
		sqlite3_bind_null(st, p);
		return DB_ROW_WRITTEN;
	}
	switch (col->type) {
	case COL_JSON:
		sqlite3_bind_text(st, p, v, (int)m->val_len, SQLITE_STATIC);
		return DB_ROW_WRITTEN;
	case COL_INTEGER:
		if (m->kind != SCAN_NUMBER)
			break;
		if (!int_value(l, v, m->val_len, &iv))
			return reject(l, "field \"%s\": expected integer, got "
			    "%.*s", col->name, (int)(m->val_len > 40 ? 40 :
			    m->val_len), v);
		sqlite3_bind_int64(st, p, iv);
		return DB_ROW_WRITTEN;
	case COL_REAL:
		if (m->kind != SCAN_NUMBER)
			break;
		if (!num_value(l, v, m->val_len, &dv))
			return reject(l, "field \"%s\": number %.*s is out of "
			    "range", col->name, (int)(m->val_len > 40 ? 40 :
			    m->val_len), v);
		sqlite3_bind_double(st, p, dv);
		return DB_ROW_WRITTEN;
	case COL_BOOLEAN:
		if (m->kind != SCAN_TRUE && m->kind != SCAN_FALSE)
			break;
		sqlite3_bind_int(st, p, m->kind == SCAN_TRUE);
		return DB_ROW_WRITTEN;
	case COL_TEXT:
	case COL_ANY:
		if (m->kind == SCAN_STRING) {
			const char *s = v + 1;
			size_t n = m->val_len - 2;

			if (m->val_esc) {
				/* text is reserved to the line's length, so
				 * earlier bound pointers into it stay put. */
				char *dst = l->text.data + l->text.len;

				n = scan_unescape(dst, s, n);
				l->text.len += n;
				s = dst;
			}
			sqlite3_bind_text(st, p, s, (int)n, SQLITE_STATIC);
			return DB_ROW_WRITTEN;
		}
		if (col->type == COL_TEXT)
			break;
		if (m->kind == SCAN_TRUE || m->kind == SCAN_FALSE) {
			sqlite3_bind_int(st, p, m->kind == SCAN_TRUE);
			return DB_ROW_WRITTEN;
		}
		if (m->kind != SCAN_NUMBER)
			break;
		if (int_literal(v, m->val_len) &&
		    int_value(l, v, m->val_len, &iv)) {
			sqlite3_bind_int64(st, p, iv);
			return DB_ROW_WRITTEN;
		}
		if (!num_value(l, v, m->val_len, &dv))
			return reject(l, "field \"%s\": number %.*s is out of "
			    "range", col->name, (int)(m->val_len > 40 ? 40 :
			    m->val_len), v);
		sqlite3_bind_double(st, p, dv);
		return DB_ROW_WRITTEN;
	}
	return reject(l, "field \"%s\": expected %s, got %s", col->name,
	    coltype_name(col->type), kind_name(m->kind));
}

/* The column named by member m's key, or -1. */
static int
find_column(struct db_loader *l, const char *line,
    const struct scan_member *m)
{
	const char *k = line + m->key;
	int i;

	for (i = 0; i < l->ncol; i++) {
		const struct column *c = &l->col[i];

		if (i == l->extra)
			continue;	/* a field "extra" is kept in extra */
		if (m->key_esc ? scan_streq(k, m->key_len, c->name, c->len) :
		    (c->len == m->key_len && memcmp(k, c->name, c->len) == 0))
			return i;
	}
	return -1;
}

/*
 * Whether a later member repeats member j's key.  Only asked under
 * --allow-duplicate-keys, where the last one counts: db_load_row() has
 * refused such records otherwise.
 */
static int
repeated_later(struct db_loader *l, const char *line, size_t j)
{
	const struct scan_member *m = &l->sc.m[j];
	size_t i;

	for (i = j + 1; i < l->sc.n; i++) {
		const struct scan_member *o = &l->sc.m[i];

		if (o->key_len == m->key_len && memcmp(line + o->key,
		    line + m->key, m->key_len) == 0)
			return 1;
	}
	return 0;
}

enum db_row
db_load_row(struct db_loader *l, const char *buf, size_t len,
    const char **err)
{
	enum db_row r;
	size_t j;
	int c, rc, nxtra = 0, allow_dup;
	char msg[160];

	*err = NULL;
	if (!scan_text(&l->sc, buf, len)) {
		scan_errmsg(&l->sc, msg, sizeof(msg));
		r = reject(l, "%s", msg);
		goto out;
	}
	if (l->sc.kind != SCAN_OBJECT) {
		r = reject(l, "expected a JSON object, got %s",
		    kind_name(l->sc.kind));
		goto out;
	}
	if (!(allow_dup = rec_duplicate_keys_allowed())) {
		const char *k;
		size_t off, kl;

		/* The record layer's rule (asin(7)): a key twice anywhere in
		 * the record is ambiguous, not only among the columns. */
		if (scan_dup_key(&l->sc, buf, &off, &k, &kl)) {
			r = reject(l, "duplicate key \"%.*s\" at column %zu",
			    (int)(kl > 40 ? 40 : kl), k, off + 1);
			goto out;
		}
	}
	memset(l->seen, 0, l->ncol);
	l->xtra.len = 0;
	l->text.len = 0;
	buf_reserve(&l->text, len + 1);
	buf_addc(&l->xtra, '{');
	for (j = 0; j < l->sc.n; j++) {
		const struct scan_member *m = &l->sc.m[j];

		if (allow_dup && repeated_later(l, buf, j))
			continue;
		c = find_column(l, buf, m);
		if (c >= 0) {
			l->seen[c] = 1;
			if ((r = bind_value(l, c, buf, m)) == DB_ROW_REJECT)
				goto out;
			continue;
		}
		if (l->extra < 0) {
			r = reject(l, "field \"%.*s\": table %s has no such "
			    "column", (int)(m->key_len > 40 ? 40 : m->key_len),
			    buf + m->key, l->table);
			goto out;
		}
		if (nxtra++)
			buf_addc(&l->xtra, ',');
		/* The key's bytes as they came, escapes and all. */
		buf_addc(&l->xtra, '"');
		buf_add(&l->xtra, buf + m->key, m->key_len);
		buf_add(&l->xtra, "\":", 2);
		buf_add(&l->xtra, buf + m->val, m->val_len);
	}
	buf_addc(&l->xtra, '}');
	for (c = 0; c < l->ncol; c++) {
		if (l->seen[c] || c == l->extra)
			continue;
		if (l->col[c].key) {
			r = reject(l, "key field \"%s\": missing",
			    l->col[c].name);
			goto out;
		}
		sqlite3_bind_null(l->ins, c + 1);
	}
	if (l->extra >= 0) {
		if (nxtra > 0)
			sqlite3_bind_text(l->ins, l->extra + 1, l->xtra.data,
			    (int)l->xtra.len, SQLITE_STATIC);
		else
			sqlite3_bind_null(l->ins, l->extra + 1);
	}
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
		r = reject(l, "%s", sqlite3_errmsg(l->db->h));
		l->inbatch++;
	} else
		db_die(l->db, "load");
	sqlite3_reset(l->ins);
	if (l->inbatch >= l->batch)
		db_loader_commit(l);
out:
	*err = r == DB_ROW_REJECT ? l->err : NULL;
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

static void
csv_field(struct buf *b, const char *s, size_t n)
{
	size_t i;

	if (strcspn(s, ",\"\r\n") >= n && (n == 0 || (s[0] != ' ' &&
	    s[n - 1] != ' '))) {
		buf_add(b, s, n);
		return;
	}
	buf_addc(b, '"');
	for (i = 0; i < n; i++) {
		if (s[i] == '"')
			buf_addc(b, '"');
		buf_addc(b, s[i]);
	}
	buf_addc(b, '"');
}

/* Append value i of the current row as JSON (csv: as a CSV field). */
static void
put_value(struct db *d, sqlite3_stmt *st, int i, enum coltype t, int csv,
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
		if (t == COL_BOOLEAN) {
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
			csv_field(b, s, n);
			return;
		}
		if (t == COL_JSON && scan_text(sc, s, n)) {
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

/*
 * Whether a JSON object text (valid, in sc) can be spread into a row whose
 * column names are names: none of its members may repeat one.
 */
static int
spreadable(const struct scan *sc, const char *s, char **names, int nc)
{
	size_t j;
	int i;

	if (sc->kind != SCAN_OBJECT)
		return 0;
	for (j = 0; j < sc->n; j++)
		for (i = 0; i < nc; i++)
			if (scan_streq(s + sc->m[j].key, sc->m[j].key_len,
			    names[i], strlen(names[i])))
				return 0;
	return 1;
}

long long
db_query(struct db *d, const char *sql, char **params, size_t np,
    enum db_format fmt, struct out *o)
{
	sqlite3_stmt *st;
	const char *tail;
	enum coltype *t;
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
			csv_field(&b, names[i], strlen(names[i]));
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
			if (strcmp(names[i], "extra") == 0 && t[i] == COL_JSON &&
			    sqlite3_column_type(st, i) == SQLITE_NULL)
				continue;	/* a row without extra fields */
			if (strcmp(names[i], "extra") == 0 && t[i] == COL_JSON &&
			    sqlite3_column_type(st, i) == SQLITE_TEXT) {
				const char *s = (const char *)
				    sqlite3_column_text(st, i);
				size_t n = (size_t)sqlite3_column_bytes(st, i);

				if (scan_text(&sc, s, n) &&
				    spreadable(&sc, s, names, nc)) {
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
