/*
 * data.c - reading rows into memory for training and evaluation.  NDJSON
 * rows go through the record layer (one typed get per field, no jv);
 * libsvm rows ("label [qid:Q] idx:value ...") with their group sizes in
 * a .query file as LightGBM reads them.  Groups need no sorting: rows are
 * bucketed by the JSON text of their key, groups ordered by the bytes of
 * that key, rows inside a group kept in input order.  So a data set, and
 * the model trained on it, depends on which rows came, not on how the
 * groups were interleaved.
 */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "rank.h"
#include "reckeys.h"
#include "scan.h"

struct gmap {
	char **key;
	size_t *klen;
	uint64_t *hash;
	long *slot;		/* open addressing: group id or -1 */
	size_t nslot, n, cap;
};

static uint64_t
fnv(const char *s, size_t n)
{
	uint64_t h = 1469598103934665603ULL;
	size_t i;

	for (i = 0; i < n; i++) {
		h ^= (unsigned char)s[i];
		h *= 1099511628211ULL;
	}
	return h;
}

static void
gmap_grow(struct gmap *m)
{
	size_t i, ns = m->nslot ? m->nslot * 2 : 1024;
	long *sl = xmalloc(ns * sizeof(long));

	for (i = 0; i < ns; i++)
		sl[i] = -1;
	for (i = 0; i < m->n; i++) {
		size_t j = m->hash[i] & (ns - 1);

		while (sl[j] >= 0)
			j = (j + 1) & (ns - 1);
		sl[j] = (long)i;
	}
	free(m->slot);
	m->slot = sl;
	m->nslot = ns;
}

/* The id of the group with key k (added when new). */
static size_t
gmap_id(struct gmap *m, const char *k, size_t n)
{
	uint64_t h = fnv(k, n);
	size_t j;

	if (2 * (m->n + 1) > m->nslot)
		gmap_grow(m);
	for (j = h & (m->nslot - 1); m->slot[j] >= 0;
	    j = (j + 1) & (m->nslot - 1)) {
		size_t id = (size_t)m->slot[j];

		if (m->hash[id] == h && m->klen[id] == n &&
		    memcmp(m->key[id], k, n) == 0)
			return id;
	}
	if (m->n == m->cap) {
		m->cap = m->cap ? m->cap * 2 : 256;
		m->key = xreallocarray(m->key, m->cap, sizeof(char *));
		m->klen = xreallocarray(m->klen, m->cap, sizeof(size_t));
		m->hash = xreallocarray(m->hash, m->cap, sizeof(uint64_t));
	}
	m->key[m->n] = xstrndup(k, n);
	m->klen[m->n] = n;
	m->hash[m->n] = h;
	m->slot[j] = (long)m->n;
	return m->n++;
}

/* Growing columns while reading. */
struct loader {
	const struct loadspec *sp;
	struct dataset *d;
	size_t cap;
	size_t *gid;		/* group id per row */
	struct gmap gm;
	struct buf key;
	struct rec_keys *rk;	/* the features, found fast, or NULL */
};

static void
grow_rows(struct loader *L)
{
	struct dataset *d = L->d;

	if (d->n < L->cap)
		return;
	L->cap = L->cap ? L->cap * 2 : 4096;
	d->x = xreallocarray(d->x, L->cap, (d->nf ? d->nf : 1) *
	    sizeof(double));
	d->label = xreallocarray(d->label, L->cap, sizeof(int));
	L->gid = xreallocarray(L->gid, L->cap, sizeof(size_t));
	if (L->sp->col[0] != NULL)
		d->col[0] = xreallocarray(d->col[0], L->cap, sizeof(double));
	if (L->sp->col[1] != NULL)
		d->col[1] = xreallocarray(d->col[1], L->cap, sizeof(double));
}

/* The label as a gain index, or NULL with *msg set. */
static int
check_label(const struct loadspec *sp, double v, int *out, char *msg,
    size_t n)
{
	if (!(v >= 0) || v != floor(v)) {
		snprintf(msg, n, "field \"%s\": label %.17g is not a "
		    "non-negative integer", sp->label, v);
		return 0;
	}
	if (v > sp->max_label) {
		snprintf(msg, n, "field \"%s\": label %.17g is beyond %d, the "
		    "largest --label-gain %s allows", sp->label, v,
		    sp->max_label, sp->gain_name);
		return 0;
	}
	*out = (int)v;
	return 1;
}

static int
bytes_cmp(const char *a, size_t an, const char *b, size_t bn)
{
	int c = memcmp(a, b, an < bn ? an : bn);

	return c != 0 ? c : (an > bn) - (an < bn);
}

/* The first and last date (as bytes) of the rows: the data span. */
static void
span_update(struct dataset *d, const char *s, size_t n)
{
	if (d->span_min == NULL ||
	    bytes_cmp(s, n, d->span_min, strlen(d->span_min)) < 0) {
		free(d->span_min);
		d->span_min = xstrndup(s, n);
	}
	if (d->span_max == NULL ||
	    bytes_cmp(s, n, d->span_max, strlen(d->span_max)) > 0) {
		free(d->span_max);
		d->span_max = xstrndup(s, n);
	}
}

const char *
feature_error(struct record *rec, struct rec_field *f, enum rec_status st,
    char *msg, size_t mn)
{
	if (st == REC_OK)
		snprintf(msg, mn, "field \"%s\": not a finite number",
		    rec_field_name(f));
	else if (st == REC_ABSENT)
		snprintf(msg, mn, "field \"%s\": missing (null marks a "
		    "missing value; see --absent-as-missing)",
		    rec_field_name(f));
	else
		snprintf(msg, mn, "%s", rec_errmsg(rec, f, REC_NUMBER));
	return msg;
}

/* One NDJSON row: 1 kept, 0 rejected (the message in msg). */
static int
read_json_row(struct loader *L, struct record *rec,
    struct rec_field **ff, struct rec_field *lf, struct rec_field **gf,
    struct rec_field **cf, struct rec_field *df, char *msg, size_t mn)
{
	const struct loadspec *sp = L->sp;
	struct dataset *d = L->d;
	double v, *x;
	size_t i;
	const char *s;
	size_t sl;
	enum rec_status st;

	grow_rows(L);
	x = d->x + d->n * d->nf;
	d->label[d->n] = -1;
	if (lf != NULL) {
		if ((st = rec_num(rec, lf, &v)) != REC_OK) {
			snprintf(msg, mn, "%s", rec_errmsg(rec, lf, REC_NUMBER));
			return 0;
		}
		if (!isfinite(v)) {
			feature_error(rec, lf, REC_OK, msg, mn);
			return 0;
		}
		if (!check_label(sp, v, &d->label[d->n], msg, mn))
			return 0;
	}
	for (i = 0; i < 2; i++) {
		if (cf[i] == NULL)
			continue;
		st = rec_num(rec, cf[i], &d->col[i][d->n]);
		if (st != REC_OK || !isfinite(d->col[i][d->n])) {
			feature_error(rec, cf[i], st, msg, mn);
			return 0;
		}
	}
	/* Every feature a finite number: the common row, read at the
	 * places the last row had them; else one by one, for the
	 * message. */
	for (i = L->rk != NULL && rec_keys_nums(L->rk, rec, x) ? d->nf : 0;
	    i < d->nf; i++) {
		st = rec_num(rec, ff[i], &x[i]);
		if (st == REC_OK && isfinite(x[i]))
			continue;
		if (st == REC_ISNULL || (st == REC_ABSENT &&
		    sp->absent_missing)) {
			x[i] = NAN;
			continue;
		}
		feature_error(rec, ff[i], st, msg, mn);
		return 0;
	}
	L->key.len = 0;
	for (i = 0; i < sp->ngroup; i++) {
		if (rec_json(rec, gf[i], &s, &sl) != REC_OK) {
			snprintf(msg, mn, "%s", rec_errmsg(rec, gf[i],
			    REC_STRING));
			return 0;
		}
		if (i > 0)
			buf_addc(&L->key, ',');
		buf_add(&L->key, s, sl);
	}
	if (df != NULL && rec_str(rec, df, &s, &sl) == REC_OK)
		span_update(d, s, sl);
	L->gid[d->n] = sp->ngroup > 0 ? gmap_id(&L->gm, L->key.data,
	    L->key.len) : d->n;
	d->n++;
	return 1;
}

/* Whether s[0..n) is a JSON number, which scan_number() reads. */
static int
json_number(const char *s, size_t n)
{
	size_t i = 0;

#define DIGIT(k) ((k) < n && s[k] >= '0' && s[k] <= '9')
	if (i < n && s[i] == '-')
		i++;
	if (i < n && s[i] == '0')
		i++;
	else if (DIGIT(i))
		while (DIGIT(i))
			i++;
	else
		return 0;
	if (i < n && s[i] == '.') {
		if (!DIGIT(i + 1))
			return 0;
		for (i++; DIGIT(i); i++)
			;
	}
	if (i < n && (s[i] == 'e' || s[i] == 'E')) {
		i++;
		if (i < n && (s[i] == '+' || s[i] == '-'))
			i++;
		if (!DIGIT(i))
			return 0;
		while (DIGIT(i))
			i++;
	}
#undef DIGIT
	return i == n;
}

/*
 * The usual feature token, INDEX:VALUE with INDEX 1 to 999999999 in
 * plain digits and VALUE a finite JSON number, into the row x (nf
 * features); 0 for anything else, which the general path reads (and
 * words the error of).  scan_number() rounds correctly, as strtod()
 * does, so the value is the same either way; this way skips copying
 * and re-scanning the token, a third of reading rank.train.
 */
static int
svm_feature(const char *t, size_t len, double *x, size_t nf)
{
	size_t i, idx = 0;
	double v;

	if (len < 3 || t[0] < '1' || t[0] > '9')
		return 0;
	for (i = 0; i < len && i < 10 && t[i] >= '0' && t[i] <= '9'; i++)
		idx = idx * 10 + (size_t)(t[i] - '0');
	if (i == 10 || i >= len || t[i] != ':' ||
	    !json_number(t + i + 1, len - i - 1))
		return 0;
	v = scan_number(t + i + 1, len - i - 1);
	if (!isfinite(v))
		return 0;
	if (idx <= nf)
		x[idx - 1] = v;
	return 1;
}

/* One libsvm line into the current row. */
static int
read_svm_row(struct loader *L, const char *p, size_t n, long long *qid,
    char *msg, size_t mn)
{
	struct dataset *d = L->d;
	const char *e = p + n, *t;
	char tok[128];
	double v;
	size_t i, len;
	int first = 1;

	grow_rows(L);
	for (i = 0; i < d->nf; i++)
		d->x[d->n * d->nf + i] = 0;
	*qid = -1;
	while (p < e) {
		while (p < e && (*p == ' ' || *p == '\t' || *p == '\r'))
			p++;
		if (p == e || *p == '#')
			break;
		t = p;
		while (p < e && *p != ' ' && *p != '\t' && *p != '\r')
			p++;
		len = (size_t)(p - t);
		if (!first && svm_feature(t, len, d->x + d->n * d->nf,
		    d->nf))
			continue;
		if (len >= sizeof(tok)) {
			snprintf(msg, mn, "libsvm: token too long");
			return 0;
		}
		memcpy(tok, t, len);
		tok[len] = '\0';
		if (first) {
			first = 0;
			if (!parse_double(tok, len, &v)) {
				snprintf(msg, mn, "libsvm: label '%s' is not a "
				    "number", tok);
				return 0;
			}
			d->label[d->n] = -1;
			if (L->sp->label != NULL && !check_label(L->sp, v,
			    &d->label[d->n], msg, mn))
				return 0;
			continue;
		}
		{
			char *colon = strchr(tok, ':');
			long long idx;

			if (colon == NULL) {
				snprintf(msg, mn, "libsvm: expected INDEX:VALUE, "
				    "got '%s'", tok);
				return 0;
			}
			*colon = '\0';
			if (strcmp(tok, "qid") == 0) {
				if (!parse_int(colon + 1, strlen(colon + 1),
				    qid)) {
					snprintf(msg, mn, "libsvm: bad qid '%s'",
					    colon + 1);
					return 0;
				}
				continue;
			}
			if (!parse_int(tok, strlen(tok), &idx) || idx < 1 ||
			    !parse_double(colon + 1, strlen(colon + 1), &v)) {
				snprintf(msg, mn, "libsvm: bad feature '%s:%s'",
				    tok, colon + 1);
				return 0;
			}
			/* f<idx> is feature idx-1; others are not the
			 * model's and are not read */
			if ((size_t)idx <= d->nf)
				d->x[d->n * d->nf + (size_t)idx - 1] = v;
		}
	}
	if (first) {
		snprintf(msg, mn, "libsvm: empty line");
		return 0;
	}
	return 1;
}

static size_t *
read_query_file(const char *path, size_t *nq)
{
	FILE *f = fopen(path, "r");
	size_t *v = NULL, n = 0, cap = 0;
	char line[128];
	long ln = 0;
	long long x;

	if (f == NULL)
		return NULL;
	while (fgets(line, sizeof(line), f) != NULL) {
		size_t len = strcspn(line, "\r\n");

		ln++;
		if (len == 0)
			continue;
		if (!parse_int(line, len, &x) || x < 1)
			die_at(path, ln, "expected a group size (a positive "
			    "integer)");
		if (n == cap) {
			cap = cap ? cap * 2 : 256;
			v = xreallocarray(v, cap, sizeof(size_t));
		}
		v[n++] = (size_t)x;
	}
	fclose(f);
	*nq = n;
	return v;
}

static int
cmp_gkey(const void *a, const void *b, void *ctx)
{
	const struct gmap *m = ctx;
	size_t x = *(const size_t *)a, y = *(const size_t *)b;
	size_t n = m->klen[x] < m->klen[y] ? m->klen[x] : m->klen[y];
	int c = memcmp(m->key[x], m->key[y], n);

	if (c != 0)
		return c;
	return (m->klen[x] > m->klen[y]) - (m->klen[x] < m->klen[y]);
}

/* Make groups contiguous: groups in key order, rows in input order. */
/* Move every row to its place in group order: row i goes to
 * pos[rank[gid[i]]]++ (pos: where each group starts). */
static void
permute_rows(struct loader *L, const size_t *rank, size_t *pos)
{
	struct dataset *d = L->d;
	size_t i, k, nf = d->nf, n1 = d->n ? d->n : 1;
	double *x2, *c2[2] = { NULL, NULL };
	int *l2;

	x2 = xmalloc(n1 * (nf ? nf : 1) * sizeof(double));
	l2 = xmalloc(n1 * sizeof(int));
	for (k = 0; k < 2; k++)
		if (d->col[k] != NULL)
			c2[k] = xmalloc(n1 * sizeof(double));
	for (i = 0; i < d->n; i++) {
		size_t to = pos[rank[L->gid[i]]]++;

		memcpy(x2 + to * nf, d->x + i * nf, nf * sizeof(double));
		l2[to] = d->label[i];
		for (k = 0; k < 2; k++)
			if (c2[k] != NULL)
				c2[k][to] = d->col[k][i];
	}
	free(d->x);
	free(d->label);
	d->x = x2;
	d->label = l2;
	for (k = 0; k < 2; k++)
		if (c2[k] != NULL) {
			free(d->col[k]);
			d->col[k] = c2[k];
		}
}

static void
regroup(struct loader *L)
{
	struct dataset *d = L->d;
	size_t ng = L->gm.n, i, *ord, *rank, *cnt, *pos;
	int sorted;

	if (L->sp->ngroup == 0 && !L->sp->libsvm) {
		d->nq = d->n;
		d->bounds = xmalloc((d->n + 1) * sizeof(size_t));
		for (i = 0; i <= d->n; i++)
			d->bounds[i] = i;
		return;
	}
	ord = xmalloc((ng + 1) * sizeof(size_t));
	rank = xmalloc((ng + 1) * sizeof(size_t));
	for (i = 0; i < ng; i++)
		ord[i] = i;
	qsort_r(ord, ng, sizeof(size_t), cmp_gkey, &L->gm);
	for (i = 0; i < ng; i++)
		rank[ord[i]] = i;
	cnt = xcalloc(ng + 1, sizeof(size_t));
	sorted = 1;
	for (i = 0; i < d->n; i++) {
		cnt[rank[L->gid[i]] + 1]++;
		if (i > 0 && rank[L->gid[i]] < rank[L->gid[i - 1]])
			sorted = 0;
	}
	for (i = 0; i < ng; i++)
		cnt[i + 1] += cnt[i];
	d->nq = ng;
	d->bounds = xmalloc((ng + 1) * sizeof(size_t));
	memcpy(d->bounds, cnt, (ng + 1) * sizeof(size_t));
	pos = cnt;
	/* Rows already in group order (the usual input) stay where they
	 * are: no second copy of the features, which would double the
	 * peak memory of a large training set. */
	if (!sorted)
		permute_rows(L, rank, pos);
	d->qkey = xmalloc((ng + 1) * sizeof(char *));
	for (i = 0; i < ng; i++) {
		d->qkey[i] = L->gm.key[ord[i]];
		L->gm.key[ord[i]] = NULL;
	}
	free(ord);
	free(rank);
	free(cnt);
}

struct dataset *
ds_load(const struct loadspec *sp, char **paths, int npaths, struct acct *ac)
{
	struct loader L;
	struct dataset *d = xcalloc(1, sizeof(*d));
	struct nd_reader *rd;
	struct nd_line ln;
	struct record *rec = NULL;
	struct rec_field **ff = NULL, *lf = NULL, **gf = NULL, *cf[2] = {
		NULL, NULL }, *df = NULL;
	char msg[512];
	const char *err;
	size_t i, *qsizes = NULL, nqs = 0;
	long long qid;
	char qk[32];

	memset(&L, 0, sizeof(L));
	L.sp = sp;
	L.d = d;
	buf_init(&L.key);
	d->nf = sp->nf;
	if (!sp->libsvm) {
		rec = rec_new();
		ff = xcalloc(sp->nf + 1, sizeof(*ff));
		for (i = 0; i < sp->nf; i++)
			ff[i] = rec_field(sp->feat[i]);
		if (sp->label != NULL)
			lf = rec_field(sp->label);
		gf = xcalloc(sp->ngroup + 1, sizeof(*gf));
		for (i = 0; i < sp->ngroup; i++)
			gf[i] = rec_field(sp->group[i]);
		for (i = 0; i < 2; i++)
			if (sp->col[i] != NULL)
				cf[i] = rec_field(sp->col[i]);
		if (sp->date_field != NULL && *sp->date_field != '\0')
			df = rec_field(sp->date_field);
		L.rk = rec_keys_new(sp->feat, sp->nf);
	} else {
		char *qp = NULL;

		if (sp->query != NULL)
			qsizes = read_query_file(sp->query, &nqs);
		else if (npaths == 1 && strcmp(paths[0], "-") != 0) {
			qp = xasprintf("%s.query", paths[0]);
			qsizes = read_query_file(qp, &nqs);
			free(qp);
		}
		if (sp->query != NULL && qsizes == NULL)
			die("%s: cannot open:", sp->query);
	}
	rd = nd_open(paths, npaths, ac->opt->max_line);
	while (nd_next(rd, &ln)) {
		int ok;

		ac->in++;
		if (ln.error != NULL) {
			acct_reject(ac, ln.source, ln.lineno, ln.buf, ln.len,
			    ln.error);
			continue;
		}
		if (!sp->libsvm) {
			if (!rec_parse(rec, &ln, &err)) {
				acct_reject(ac, ln.source, ln.lineno, ln.buf,
				    ln.len, err);
				continue;
			}
			ok = read_json_row(&L, rec, ff, lf, gf, cf, df, msg,
			    sizeof(msg));
		} else {
			ok = read_svm_row(&L, ln.buf, ln.len, &qid, msg,
			    sizeof(msg));
			if (ok) {
				/* groups: the .query file, else qid runs */
				if (qsizes == NULL && qid < 0)
					snprintf(qk, sizeof(qk), "%zu", d->n);
				else if (qsizes == NULL)
					snprintf(qk, sizeof(qk), "%020lld",
					    qid);
				L.gid[d->n] = qsizes != NULL ? 0 :
				    gmap_id(&L.gm, qk, strlen(qk));
				d->n++;
			}
		}
		if (!ok)
			acct_reject(ac, ln.source, ln.lineno, ln.buf, ln.len,
			    msg);
		else
			ac->out++;
	}
	nd_close(rd);
	if (qsizes != NULL) {
		size_t sum = 0, q, r = 0;

		for (q = 0; q < nqs; q++)
			sum += qsizes[q];
		if (sum != d->n)
			die("%s: the group sizes sum to %zu, the data has %zu "
			    "rows", sp->query != NULL ? sp->query :
			    "the .query file", sum, d->n);
		for (q = 0; q < nqs; q++) {
			snprintf(qk, sizeof(qk), "%020zu", q);
			gmap_id(&L.gm, qk, strlen(qk));
			for (i = 0; i < qsizes[q]; i++)
				L.gid[r++] = q;
		}
		free(qsizes);
	}
	if (sp->libsvm && L.gm.n == 0)
		for (i = 0; i < d->n; i++) {
			snprintf(qk, sizeof(qk), "%020zu", i);
			L.gid[i] = gmap_id(&L.gm, qk, strlen(qk));
		}
	regroup(&L);
	d->rejected = ac->rejected;
	d->in = ac->in;
	for (i = 0; i < L.gm.n; i++)
		free(L.gm.key[i]);
	free(L.gm.key);
	free(L.gm.klen);
	free(L.gm.hash);
	free(L.gm.slot);
	free(L.gid);
	buf_free(&L.key);
	rec_keys_free(L.rk);
	if (ff != NULL)
		for (i = 0; i < sp->nf; i++)
			rec_field_free(ff[i]);
	free(ff);
	if (gf != NULL)
		for (i = 0; i < sp->ngroup; i++)
			rec_field_free(gf[i]);
	free(gf);
	rec_field_free(lf);
	rec_field_free(cf[0]);
	rec_field_free(cf[1]);
	rec_field_free(df);
	if (rec != NULL)
		rec_free(rec);
	return d;
}

void
ds_free(struct dataset *d)
{
	size_t i;

	if (d == NULL)
		return;
	free(d->x);
	free(d->label);
	free(d->col[0]);
	free(d->col[1]);
	free(d->bounds);
	if (d->qkey != NULL)
		for (i = 0; i < d->nq; i++)
			free(d->qkey[i]);
	free(d->qkey);
	free(d->span_min);
	free(d->span_max);
	free(d);
}

struct dataset *
ds_subset(const struct dataset *d, const size_t *groups, size_t ng)
{
	struct dataset *s = xcalloc(1, sizeof(*s));
	size_t i, n = 0, r = 0, k;

	for (i = 0; i < ng; i++)
		n += d->bounds[groups[i] + 1] - d->bounds[groups[i]];
	s->n = n;
	s->nf = d->nf;
	s->nq = ng;
	s->x = xmalloc((n ? n : 1) * (d->nf ? d->nf : 1) * sizeof(double));
	s->label = xmalloc((n ? n : 1) * sizeof(int));
	s->bounds = xmalloc((ng + 1) * sizeof(size_t));
	s->qkey = xcalloc(ng + 1, sizeof(char *));
	for (i = 0; i < ng; i++) {
		size_t a = d->bounds[groups[i]], b = d->bounds[groups[i] + 1];

		s->bounds[i] = r;
		if (d->qkey != NULL)
			s->qkey[i] = xstrdup(d->qkey[groups[i]]);
		for (k = a; k < b; k++, r++) {
			memcpy(s->x + r * d->nf, d->x + k * d->nf, d->nf *
			    sizeof(double));
			s->label[r] = d->label[k];
		}
	}
	s->bounds[ng] = r;
	return s;
}
