/*
 * dbrow.c - the row checks of asin-db's engines (see dbrow.h): one
 * reading of a line, whichever database the values go to.
 */
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "asin.h"
#include "dbrow.h"
#include "scan.h"

void
dbrow_init(struct dbrow *r, const char *table)
{
	memset(r, 0, sizeof(*r));
	r->table = table;
	r->extra = -1;
	scan_init(&r->sc);
	buf_init(&r->xtra);
	buf_init(&r->text);
}

void
dbrow_add_col(struct dbrow *r, const char *name, enum dbrow_type type,
    int key)
{
	struct dbrow_col *c;

	r->col = xreallocarray(r->col, r->ncol + 1, sizeof(*r->col));
	r->val = xreallocarray(r->val, r->ncol + 1, sizeof(*r->val));
	c = &r->col[r->ncol];
	c->name = xstrdup(name);
	c->len = strlen(name);
	c->type = type;
	c->key = key;
	if (strcmp(name, "extra") == 0 && type == DBROW_JSON)
		r->extra = r->ncol;
	r->ncol++;
}

int
dbrow_keys(const struct dbrow *r)
{
	int i, n = 0;

	for (i = 0; i < r->ncol; i++)
		n += r->col[i].key;
	return n;
}

void
dbrow_free(struct dbrow *r)
{
	int i;

	for (i = 0; i < r->ncol; i++)
		free(r->col[i].name);
	free(r->col);
	free(r->val);
	free(r->err);
	scan_free(&r->sc);
	buf_free(&r->xtra);
	buf_free(&r->text);
}

void
dbrow_too_new(const char *name, int v, int latest)
{
	die("%s: schema version %d is newer than this asin-db (%d): "
	    "use a newer asin-db", name, v, latest);
}

void
dbrow_require_schema(const char *name, int v, int latest, int readonly)
{
	if (v == 0)
		die("%s: not an asin-db database (run 'asin-db init %s')",
		    name, name);
	if (v > latest && !readonly)
		dbrow_too_new(name, v, latest);
	if (v < latest)
		die("%s: schema version %d is older than this asin-db (%d): "
		    "run 'asin-db init %s' to upgrade it", name, v, latest,
		    name);
}

int
dbrow_ident_ok(const char *s, size_t max)
{
	const char *p;

	if (*s == '\0' || strlen(s) > max)
		return 0;
	for (p = s; *p; p++)
		if (!((*p >= 'a' && *p <= 'z') || *p == '_' ||
		    (p > s && *p >= '0' && *p <= '9')))
			return 0;
	return 1;
}

enum db_row
dbrow_reject(struct dbrow *r, const char *fmt, ...)
{
	va_list ap;

	free(r->err);
	va_start(ap, fmt);
	if (vasprintf(&r->err, fmt, ap) < 0)
		die("out of memory");
	va_end(ap);
	return DB_ROW_REJECT;
}

static const char *
type_name(enum dbrow_type t)
{
	static const char *const names[] = { "scalar", "integer", "number",
	    "string", "boolean", "JSON" };

	return names[t];
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
num_value(struct dbrow *r, const char *s, size_t n, double *v)
{
	char *tmp = n < sizeof(r->num) ? r->num : xstrndup(s, n);

	if (tmp == r->num) {
		memcpy(r->num, s, n);
		r->num[n] = '\0';
	}
	errno = 0;
	*v = strtod(tmp, NULL);
	if (tmp != r->num)
		free(tmp);
	return isfinite(*v);
}

/* An integer within +-2^53 from a number span, as JSON readers agree. */
static int
int_value(struct dbrow *r, const char *s, size_t n, long long *v)
{
	double d;

	if (int_literal(s, n) && n < 19 && parse_int(s, n, v))
		return 1;
	if (!num_value(r, s, n, &d) || d != floor(d) ||
	    fabs(d) > 9007199254740992.0)
		return 0;
	*v = (long long)d;
	return 1;
}

/* Check member m's value against column c and keep it in val[c]. */
static enum db_row
check_value(struct dbrow *r, int c, const char *line,
    const struct scan_member *m)
{
	const struct dbrow_col *col = &r->col[c];
	struct dbrow_val *v = &r->val[c];
	const char *s = line + m->val;
	int out_of_range = 0;

	if (m->kind == SCAN_NULL) {
		v->kind = DBV_NULL;
		return DB_ROW_WRITTEN;
	}
	switch (col->type) {
	case DBROW_JSON:
		v->kind = DBV_JSON;
		v->s = s;
		v->n = m->val_len;
		return DB_ROW_WRITTEN;
	case DBROW_INTEGER:
		if (m->kind != SCAN_NUMBER)
			break;
		if (!int_value(r, s, m->val_len, &v->i))
			return dbrow_reject(r, "field \"%s\": expected integer, "
			    "got %.*s", col->name, (int)(m->val_len > 40 ? 40 :
			    m->val_len), s);
		v->kind = DBV_INT;
		return DB_ROW_WRITTEN;
	case DBROW_REAL:
		if (m->kind != SCAN_NUMBER)
			break;
		if (!num_value(r, s, m->val_len, &v->d)) {
			out_of_range = 1;
			break;
		}
		v->kind = DBV_REAL;
		return DB_ROW_WRITTEN;
	case DBROW_BOOLEAN:
		if (m->kind != SCAN_TRUE && m->kind != SCAN_FALSE)
			break;
		v->kind = DBV_BOOL;
		v->i = m->kind == SCAN_TRUE;
		return DB_ROW_WRITTEN;
	case DBROW_TEXT:
	case DBROW_ANY:
		if (m->kind == SCAN_STRING) {
			v->kind = DBV_TEXT;
			v->s = s + 1;
			v->n = m->val_len - 2;
			if (m->val_esc) {
				/* text is reserved to the line's length, so
				 * earlier values pointing into it stay put. */
				char *dst = r->text.data + r->text.len;

				v->n = scan_unescape(dst, v->s, v->n);
				r->text.len += v->n;
				v->s = dst;
			}
			return DB_ROW_WRITTEN;
		}
		if (col->type == DBROW_TEXT)
			break;
		/* What SQLite's typeless column keeps: 1/0 for a boolean,
		 * an integer, or a double. */
		if (m->kind == SCAN_TRUE || m->kind == SCAN_FALSE) {
			v->kind = DBV_INT;
			v->i = m->kind == SCAN_TRUE;
			return DB_ROW_WRITTEN;
		}
		if (m->kind != SCAN_NUMBER)
			break;
		if (int_literal(s, m->val_len) &&
		    int_value(r, s, m->val_len, &v->i)) {
			v->kind = DBV_INT;
			return DB_ROW_WRITTEN;
		}
		if (!num_value(r, s, m->val_len, &v->d)) {
			out_of_range = 1;
			break;
		}
		v->kind = DBV_REAL;
		return DB_ROW_WRITTEN;
	}
	if (out_of_range)
		return dbrow_reject(r, "field \"%s\": number %.*s is out of "
		    "range", col->name, (int)(m->val_len > 40 ? 40 :
		    m->val_len), s);
	return dbrow_reject(r, "field \"%s\": expected %s, got %s", col->name,
	    type_name(col->type), rec_kind_name((enum rec_kind)m->kind));
}

/* The column named by member m's key, or -1. */
static int
find_column(const struct dbrow *r, const char *line,
    const struct scan_member *m)
{
	const char *k = line + m->key;
	int i;

	for (i = 0; i < r->ncol; i++) {
		const struct dbrow_col *c = &r->col[i];

		if (i == r->extra)
			continue;	/* a field "extra" is kept in extra */
		if (m->key_esc ? scan_streq(k, m->key_len, c->name, c->len) :
		    (c->len == m->key_len && memcmp(k, c->name, c->len) == 0))
			return i;
	}
	return -1;
}

/*
 * Whether a later member repeats member j's key.  Only asked under
 * --allow-duplicate-keys, where the last one counts: dbrow_read() has
 * refused such records otherwise.
 */
static int
repeated_later(const struct dbrow *r, const char *line, size_t j)
{
	const struct scan_member *m = &r->sc.m[j];
	size_t i;

	for (i = j + 1; i < r->sc.n; i++) {
		const struct scan_member *o = &r->sc.m[i];

		if (o->key_len == m->key_len && memcmp(line + o->key,
		    line + m->key, m->key_len) == 0)
			return 1;
	}
	return 0;
}

enum db_row
dbrow_read(struct dbrow *r, const char *buf, size_t len, const char **err)
{
	enum db_row res = DB_ROW_WRITTEN;
	size_t j;
	int c, allow_dup;
	char msg[160];

	*err = NULL;
	if (!scan_text(&r->sc, buf, len)) {
		scan_errmsg(&r->sc, msg, sizeof(msg));
		res = dbrow_reject(r, "%s", msg);
		goto out;
	}
	if (r->sc.kind != SCAN_OBJECT) {
		res = dbrow_reject(r, "expected a JSON object, got %s",
		    rec_kind_name((enum rec_kind)r->sc.kind));
		goto out;
	}
	if (!(allow_dup = rec_duplicate_keys_allowed())) {
		const char *k;
		size_t off, kl;

		/* The record layer's rule (asin(7)): a key twice anywhere in
		 * the record is ambiguous, not only among the columns. */
		if (scan_dup_key(&r->sc, buf, &off, &k, &kl)) {
			res = dbrow_reject(r, "duplicate key \"%.*s\" at column "
			    "%zu", (int)(kl > 40 ? 40 : kl), k, off + 1);
			goto out;
		}
	}
	for (c = 0; c < r->ncol; c++)
		r->val[c].kind = DBV_ABSENT;
	r->nxtra = 0;
	r->xtra.len = 0;
	r->text.len = 0;
	buf_reserve(&r->text, len + 1);
	buf_addc(&r->xtra, '{');
	for (j = 0; j < r->sc.n; j++) {
		const struct scan_member *m = &r->sc.m[j];

		if (allow_dup && repeated_later(r, buf, j))
			continue;
		c = find_column(r, buf, m);
		if (c >= 0) {
			if ((res = check_value(r, c, buf, m)) == DB_ROW_REJECT)
				goto out;
			continue;
		}
		if (r->extra < 0) {
			res = dbrow_reject(r, "field \"%.*s\": table %s has no "
			    "such column", (int)(m->key_len > 40 ? 40 :
			    m->key_len), buf + m->key, r->table);
			goto out;
		}
		if (r->nxtra++)
			buf_addc(&r->xtra, ',');
		/* The key's bytes as they came, escapes and all. */
		buf_addc(&r->xtra, '"');
		buf_add(&r->xtra, buf + m->key, m->key_len);
		buf_add(&r->xtra, "\":", 2);
		buf_add(&r->xtra, buf + m->val, m->val_len);
	}
	buf_addc(&r->xtra, '}');
	for (c = 0; c < r->ncol; c++)
		if (r->col[c].key && r->val[c].kind == DBV_ABSENT) {
			res = dbrow_reject(r, "key field \"%s\": missing",
			    r->col[c].name);
			goto out;
		}
	/* SQLite's words for a null key (its PRIMARY KEY columns are NOT
	 * NULL); on PostgreSQL it would fail the whole COPY. */
	for (c = 0; c < r->ncol; c++)
		if (r->col[c].key && r->val[c].kind == DBV_NULL) {
			res = dbrow_reject(r, "NOT NULL constraint failed: %s.%s",
			    r->table, r->col[c].name);
			goto out;
		}
out:
	*err = res == DB_ROW_REJECT ? r->err : NULL;
	return res;
}

void
dbrow_csv_field(struct buf *b, const char *s, size_t n)
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

int
dbrow_spreadable(const struct scan *sc, const char *s,
    const char *const *names, int nc)
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
