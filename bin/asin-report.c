/*
 * asin-report - the day's candidates, an experiment's readout and a
 * ranking model's evaluation as one self-contained HTML page: inline CSS
 * and SVG, a little inline script for sorting and filtering, nothing
 * fetched.  Every byte that comes from input goes through html_esc().
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "asin.h"
#include "html.h"
#include "scan.h"

#define MAX_PARTS 16
#define SPARK_W 30	/* sparkline grid: columns */
#define SPARK_H 12	/* and rows; drawn at 88 x 24 pixels */
#define TITLE_MAX 50	/* characters of a title shown */
/*
 * Rows the page shows at first (more on request): a browser lays out a
 * 10,000-row table slowly, 200 rows at once.  Printing shows them all.
 */
#define PAGE_ROWS 200
#define PAGE_STR "200"

static const char usage_text[] =
    "usage: asin-report [--candidates FILE] [--history FILE] "
    "[--uplift FILE]\n"
    "           [--metrics DIR] [--model FILE] [-o FILE] [--title TEXT]\n"
    "           [--date DATE] [--days N] [--top N] [--score FIELD]\n"
    "           [-hqVv] [--rejects FILE] [--max-rejects N] [--stats FILE]\n"
    "           [--max-line SIZE] [FILE ...]\n"
    "Write one self-contained HTML page: the day's candidates with their\n"
    "BSR history, an experiment's readout and a ranking model's evaluation.\n"
    "Each section appears only when its input is given.  Operands are more\n"
    "candidate files; with none of them and no section input, candidates\n"
    "are read from standard input.\n"
    "\n"
    "      --candidates FILE asin-zscore or asin-rank score output\n"
    "      --history FILE    fact rows for the sparklines and trends\n"
    "      --uplift FILE     asin-uplift's NDJSON readout\n"
    "      --metrics DIR     asin-rank eval's output directory\n"
    "      --model FILE      an asin-rank model, for feature importances\n"
    "  -o, --output FILE     write the page to FILE atomically (default\n"
    "                        standard output)\n"
    "      --title TEXT      the page title\n"
    "      --date DATE       the report day (default: the latest\n"
    "                        candidate date)\n"
    "      --days N          history window in days (default 120)\n"
    "      --top N           candidates per marketplace and category\n"
    "                        (default all)\n"
    "      --score FIELD     the candidates' score (default score)\n"
    "\n";

enum {
	OPT_CANDIDATES = OPT_COMMON_END,
	OPT_HISTORY,
	OPT_UPLIFT,
	OPT_METRICS,
	OPT_MODEL,
	OPT_TITLE,
	OPT_DATE,
	OPT_DAYS,
	OPT_TOP,
	OPT_SCORE
};

static const struct option longopts[] = {
	CLI_COMMON_LONGOPTS,
	{ "candidates", required_argument, NULL, OPT_CANDIDATES },
	{ "history", required_argument, NULL, OPT_HISTORY },
	{ "uplift", required_argument, NULL, OPT_UPLIFT },
	{ "metrics", required_argument, NULL, OPT_METRICS },
	{ "model", required_argument, NULL, OPT_MODEL },
	{ "output", required_argument, NULL, 'o' },
	{ "title", required_argument, NULL, OPT_TITLE },
	{ "date", required_argument, NULL, OPT_DATE },
	{ "days", required_argument, NULL, OPT_DAYS },
	{ "top", required_argument, NULL, OPT_TOP },
	{ "score", required_argument, NULL, OPT_SCORE },
	{ NULL, 0, NULL, 0 }
};

struct opts {
	struct cli_common co;
	char **cand;		/* candidate files, operands included */
	int ncand;
	int read_stdin;
	const char *history;
	const char *uplift;
	const char *metrics;
	const char *model;
	const char *output;
	const char *title;
	const char *date;
	long long days;
	long long top;
	const char *score;
};

/* One day of an ASIN's history. */
struct hpt {
	int day;
	long seq;		/* input order, for duplicate days */
	double bsr, price, reviews;
};

/* The history of one (asin, marketplace), shared by its candidates. */
struct series {
	const char *asin;	/* borrowed from the first candidate */
	const char *mp;
	size_t asin_len, mp_len;
	struct hpt *p;
	size_t n, cap;
	char *title;		/* the latest title seen, owned */
	size_t title_len;	/* it may hold NUL (\u0000) */
	int title_day;
};

struct cand {
	char *asin, *mp, *date, *category, *title;	/* owned */
	size_t title_len;	/* the title may hold NUL (\u0000) */
	int has_category;
	double score, bsr, price, reviews, rating;	/* NAN: missing */
	double part[MAX_PARTS];
	int rank;		/* in marketplace and category; 0: none */
	int day;
	size_t series;		/* index into the series array */
};

struct srm {
	char *segment, *field, *counts, *note;
	double chi2, p;
	int detected;		/* -1: missing */
};

struct metric {
	char *segment, *variant, *control, *metric, *note;
	double cval, vval, rel, lo, hi, p, padj, level;
	int significant;	/* -1: missing */
};

struct report {
	const struct opts *o;
	struct acct ac;
	struct record *rec;
	struct cand *c;
	size_t nc, capc;
	char *parts[MAX_PARTS];	/* explain feature names, owned */
	size_t nparts;
	struct series *s;
	size_t ns;
	size_t *byasin;		/* candidate indices by asin, mp */
	int end_day;		/* the report day */
	int have_history;
	struct srm *srm;
	size_t nsrm, capsrm;
	struct metric *m;
	size_t nm, capm;
	struct buf page;
	struct scan explain;	/* reused: its member array grows once */
};

/* ------------------------------------------------------------------ */
/* Dates                                                               */
/* ------------------------------------------------------------------ */

/* Days since 1970-01-01 of a YYYY-MM-DD date, or INT32_MIN if invalid. */
static int
day_of(const char *s, size_t n)
{
	static const int mdays[] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31,
	    30, 31 };
	int y, m, d, leap, i;
	long days;

	if (n != 10 || s[4] != '-' || s[7] != '-')
		return INT32_MIN;
	for (i = 0; i < 10; i++)
		if (i != 4 && i != 7 && (s[i] < '0' || s[i] > '9'))
			return INT32_MIN;
	y = (s[0] - '0') * 1000 + (s[1] - '0') * 100 + (s[2] - '0') * 10 +
	    (s[3] - '0');
	m = (s[5] - '0') * 10 + (s[6] - '0');
	d = (s[8] - '0') * 10 + (s[9] - '0');
	leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
	if (m < 1 || m > 12 || d < 1 ||
	    d > mdays[m - 1] + (m == 2 && leap))
		return INT32_MIN;
	/* Howard Hinnant's days_from_civil. */
	{
		long yy = y - (m <= 2);
		long era = (yy >= 0 ? yy : yy - 399) / 400;
		long yoe = yy - era * 400;
		long doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
		long doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;

		days = era * 146097 + doe - 719468;
	}
	return (int)days;
}

/* ------------------------------------------------------------------ */
/* Reading records                                                     */
/* ------------------------------------------------------------------ */

/*
 * An optional number: absent or null is NAN.  Returns 0 with *err set
 * when the field holds another type.
 */
static int
opt_num(struct record *r, const struct rec_field *f, double *v,
    const char **err)
{
	switch (rec_num(r, f, v)) {
	case REC_OK:
		return 1;
	case REC_ABSENT:
	case REC_ISNULL:
		*v = NAN;
		return 1;
	default:
		*err = rec_errmsg(r, f, REC_NUMBER);
		return 0;
	}
}

/* An optional string: absent or null gives NULL. */
static int
opt_str(struct record *r, const struct rec_field *f, const char **s,
    size_t *n, const char **err)
{
	switch (rec_str(r, f, s, n)) {
	case REC_OK:
		return 1;
	case REC_ABSENT:
	case REC_ISNULL:
		*s = NULL;
		*n = 0;
		return 1;
	default:
		*err = rec_errmsg(r, f, REC_STRING);
		return 0;
	}
}

/* A required string. */
static int
req_str(struct record *r, const struct rec_field *f, const char **s,
    size_t *n, const char **err)
{
	if (rec_str(r, f, s, n) == REC_OK)
		return 1;
	*err = rec_errmsg(r, f, REC_STRING);
	return 0;
}

/* Whether the record parsed; a bad line is rejected. */
static int
parse_line(struct report *rp, const struct nd_line *ln)
{
	const char *err;

	rp->ac.in++;
	if (ln->error != NULL || !rec_parse(rp->rec, ln, &err)) {
		acct_reject(&rp->ac, ln->source, ln->lineno, ln->buf, ln->len,
		    ln->error != NULL ? ln->error : err);
		return 0;
	}
	return 1;
}

static void
reject(struct report *rp, const struct nd_line *ln, const char *err)
{
	acct_reject(&rp->ac, ln->source, ln->lineno, ln->buf, ln->len, err);
}

/* The index of explain feature name[0..n), added if new; -1 if full. */
static int
part_index(struct report *rp, const char *name, size_t n)
{
	size_t i;

	for (i = 0; i < rp->nparts; i++)
		if (strlen(rp->parts[i]) == n &&
		    memcmp(rp->parts[i], name, n) == 0)
			return (int)i;
	if (rp->nparts == MAX_PARTS)
		return -1;
	rp->parts[rp->nparts] = xstrndup(name, n);
	return (int)rp->nparts++;
}

/*
 * The explain object of asin-zscore: each feature's contribution to the
 * score goes into c->part.  Returns 0 with *err on a malformed object.
 */
static int
read_explain(struct report *rp, const struct rec_field *f, struct cand *c,
    const char **err)
{
	struct scan *sc = &rp->explain;
	const char *js;
	size_t jn, i, off, len;
	char name[256];

	switch (rec_json(rp->rec, f, &js, &jn)) {
	case REC_OK:
		break;
	case REC_ABSENT:
		return 1;
	default:
		*err = rec_errmsg(rp->rec, f, REC_OBJECT);
		return 0;
	}
	if (js[0] == 'n')
		return 1;
	if (js[0] != '{') {
		*err = rec_errmsg(rp->rec, f, REC_OBJECT);
		return 0;
	}
	if (!scan_text(sc, js, jn)) {
		*err = "field \"explain\": invalid JSON";
		return 0;
	}
	for (i = 0; i < sc->n; i++) {
		const struct scan_member *m = &sc->m[i];
		size_t nl;
		int k;

		if (m->key_len >= sizeof(name))
			continue;
		nl = scan_unescape(name, js + m->key, m->key_len);
		if ((k = part_index(rp, name, nl)) < 0)
			continue;
		if (m->kind != SCAN_OBJECT) {
			*err = "field \"explain\": expected an object per "
			    "feature";
			return 0;
		}
		if (scan_obj_get(js + m->val, m->val_len, "contribution", 12,
		    &off, &len) && js[m->val + off] != 'n') {
			if (scan_kind_of(js[m->val + off]) != SCAN_NUMBER) {
				*err = "field \"explain\": contribution is "
				    "not a number";
				return 0;
			}
			c->part[k] = scan_number(js + m->val + off, len);
		}
	}
	return 1;
}

static void
read_candidates(struct report *rp)
{
	const struct opts *o = rp->o;
	struct rec_field *f_asin = rec_field("asin"),
	    *f_mp = rec_field("marketplace"), *f_date = rec_field("date"),
	    *f_cat = rec_field("category"), *f_title = rec_field("title"),
	    *f_score = rec_field(o->score), *f_bsr = rec_field("bsr"),
	    *f_price = rec_field("price"),
	    *f_rev = rec_field("review_count"),
	    *f_rating = rec_field("rating"), *f_explain = rec_field("explain");
	struct nd_reader *rd;
	struct nd_line ln;
	char *stdin_op[] = { "-", NULL };

	if (o->ncand == 0 && !o->read_stdin)
		goto done;
	rd = o->ncand ? nd_open(o->cand, o->ncand, o->co.max_line) :
	    nd_open(stdin_op, 1, o->co.max_line);
	while (nd_next(rd, &ln)) {
		struct cand c;
		const char *s, *err = NULL;
		size_t n, k;

		if (!parse_line(rp, &ln))
			continue;
		memset(&c, 0, sizeof(c));
		for (k = 0; k < MAX_PARTS; k++)
			c.part[k] = NAN;
		if (!req_str(rp->rec, f_asin, &s, &n, &err))
			goto bad;
		if (memchr(s, '\0', n) != NULL) {
			err = "field \"asin\": holds a NUL character";
			goto bad;
		}
		c.asin = xstrndup(s, n);
		if (!req_str(rp->rec, f_mp, &s, &n, &err))
			goto bad;
		if (memchr(s, '\0', n) != NULL) {
			err = "field \"marketplace\": holds a NUL character";
			goto bad;
		}
		c.mp = xstrndup(s, n);
		if (!req_str(rp->rec, f_date, &s, &n, &err))
			goto bad;
		if ((c.day = day_of(s, n)) == INT32_MIN) {
			err = "field \"date\": expected a date YYYY-MM-DD";
			goto bad;
		}
		c.date = xstrndup(s, n);
		if (!opt_str(rp->rec, f_cat, &s, &n, &err))
			goto bad;
		if (s != NULL && memchr(s, '\0', n) != NULL) {
			err = "field \"category\": holds a NUL character";
			goto bad;
		}
		c.has_category = s != NULL;
		c.category = xstrndup(s ? s : "", n);
		if (!opt_str(rp->rec, f_title, &s, &n, &err))
			goto bad;
		c.title = s ? xstrndup(s, n) : NULL;
		c.title_len = n;
		if (!opt_num(rp->rec, f_score, &c.score, &err) ||
		    !opt_num(rp->rec, f_bsr, &c.bsr, &err) ||
		    !opt_num(rp->rec, f_price, &c.price, &err) ||
		    !opt_num(rp->rec, f_rev, &c.reviews, &err) ||
		    !opt_num(rp->rec, f_rating, &c.rating, &err) ||
		    !read_explain(rp, f_explain, &c, &err))
			goto bad;
		if (rp->nc == rp->capc) {
			rp->capc = rp->capc ? 2 * rp->capc : 256;
			rp->c = xreallocarray(rp->c, rp->capc, sizeof(*rp->c));
		}
		rp->c[rp->nc++] = c;
		continue;
bad:
		free(c.asin);
		free(c.mp);
		free(c.date);
		free(c.category);
		free(c.title);
		reject(rp, &ln, err);
	}
	nd_close(rd);
done:
	rec_field_free(f_asin);
	rec_field_free(f_mp);
	rec_field_free(f_date);
	rec_field_free(f_cat);
	rec_field_free(f_title);
	rec_field_free(f_score);
	rec_field_free(f_bsr);
	rec_field_free(f_price);
	rec_field_free(f_rev);
	rec_field_free(f_rating);
	rec_field_free(f_explain);
}

static void
free_cand(struct cand *c)
{
	free(c->asin);
	free(c->mp);
	free(c->date);
	free(c->category);
	free(c->title);
}

/* Marketplace, category, best score first, then asin and title bytes. */
static int
cmp_rank(const void *a, const void *b)
{
	const struct cand *x = a, *y = b;
	int r;

	if ((r = strcmp(x->mp, y->mp)) != 0)
		return r;
	if ((r = strcmp(x->category, y->category)) != 0)
		return r;
	if (isnan(x->score) != isnan(y->score))
		return isnan(x->score) ? 1 : -1;
	if (!isnan(x->score) && x->score != y->score)
		return x->score > y->score ? -1 : 1;
	if ((r = strcmp(x->asin, y->asin)) != 0)
		return r;
	return strcmp(x->title ? x->title : "", y->title ? y->title : "");
}

/*
 * Keep the report day's candidates, one per asin in a marketplace and
 * category (the best scored; the others are merged), rank them and cut
 * at --top.
 */
static void
select_candidates(struct report *rp)
{
	size_t i, j, n = 0;
	int rank = 0, pos = 0;
	const struct cand *prev = NULL;

	if (rp->nc == 0)
		return;
	if (rp->o->date == NULL) {
		rp->end_day = rp->c[0].day;
		for (i = 1; i < rp->nc; i++)
			if (rp->c[i].day > rp->end_day)
				rp->end_day = rp->c[i].day;
	}
	for (i = 0; i < rp->nc; i++) {
		if (rp->c[i].day != rp->end_day) {
			rp->ac.dropped++;
			free_cand(&rp->c[i]);
			continue;
		}
		rp->c[n++] = rp->c[i];
	}
	rp->nc = n;
	qsort(rp->c, rp->nc, sizeof(*rp->c), cmp_rank);
	n = 0;
	for (i = 0; i < rp->nc; i++) {
		struct cand *c = &rp->c[i];

		if (prev != NULL && strcmp(prev->mp, c->mp) == 0 &&
		    strcmp(prev->category, c->category) == 0) {
			for (j = n; j-- > 0;) {
				if (strcmp(rp->c[j].mp, c->mp) != 0 ||
				    strcmp(rp->c[j].category, c->category) != 0)
					break;
				if (strcmp(rp->c[j].asin, c->asin) == 0)
					break;
			}
			if (j != (size_t)-1 &&
			    strcmp(rp->c[j].mp, c->mp) == 0 &&
			    strcmp(rp->c[j].category, c->category) == 0 &&
			    strcmp(rp->c[j].asin, c->asin) == 0) {
				rp->ac.merged++;
				free_cand(c);
				continue;
			}
			pos++;
			if (isnan(c->score))
				rank = 0;
			else if (c->score != rp->c[n - 1].score)
				rank = pos;
		} else {
			pos = 1;
			rank = isnan(c->score) ? 0 : 1;
		}
		prev = c;
		if (rp->o->top > 0 && (rank == 0 || rank > rp->o->top)) {
			rp->ac.dropped++;
			/* prev must stay valid for the group test. */
			rp->c[n] = *c;
			rp->c[n].rank = -1;
			prev = &rp->c[n];
			n++;
			continue;
		}
		c->rank = rank;
		rp->c[n] = *c;
		prev = &rp->c[n];
		n++;
	}
	/* Drop the ones cut by --top now that the grouping is done. */
	rp->nc = n;
	n = 0;
	for (i = 0; i < rp->nc; i++) {
		if (rp->c[i].rank < 0) {
			free_cand(&rp->c[i]);
			continue;
		}
		rp->c[n++] = rp->c[i];
	}
	rp->nc = n;
}

/* Candidate indices by asin, then marketplace; arg is the array. */
static int
cmp_asin(const void *a, const void *b, void *arg)
{
	const struct cand *c = arg;
	const struct cand *x = &c[*(const size_t *)a],
	    *y = &c[*(const size_t *)b];
	int r;

	if ((r = strcmp(x->asin, y->asin)) != 0)
		return r;
	return strcmp(x->mp, y->mp);
}

/* Candidates by (asin, marketplace), and one series per pair. */
static void
index_series(struct report *rp)
{
	size_t i;

	rp->byasin = xcalloc(rp->nc + 1, sizeof(size_t));
	for (i = 0; i < rp->nc; i++)
		rp->byasin[i] = i;
	qsort_r(rp->byasin, rp->nc, sizeof(size_t), cmp_asin, rp->c);
	rp->s = xcalloc(rp->nc + 1, sizeof(*rp->s));
	for (i = 0; i < rp->nc; i++) {
		struct cand *c = &rp->c[rp->byasin[i]];

		if (i == 0 || cmp_asin(&rp->byasin[i - 1], &rp->byasin[i],
		    rp->c)) {
			rp->s[rp->ns].asin = c->asin;
			rp->s[rp->ns].mp = c->mp;
			rp->s[rp->ns].asin_len = strlen(c->asin);
			rp->s[rp->ns].mp_len = strlen(c->mp);
			rp->s[rp->ns].title_day = INT32_MIN;
			rp->ns++;
		}
		c->series = rp->ns - 1;
	}
}

/* The series of asin in marketplace mp, or NULL. */
static struct series *
find_series(struct report *rp, const char *asin, size_t an, const char *mp,
    size_t mn)
{
	size_t lo = 0, hi = rp->ns;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		const struct series *s = &rp->s[mid];
		size_t sl = s->asin_len;
		int r = memcmp(s->asin, asin, sl < an ? sl : an);

		if (r == 0)
			r = sl < an ? -1 : sl > an;
		if (r == 0) {
			sl = s->mp_len;
			r = memcmp(s->mp, mp, sl < mn ? sl : mn);
			if (r == 0)
				r = sl < mn ? -1 : sl > mn;
		}
		if (r == 0)
			return &rp->s[mid];
		if (r < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return NULL;
}

static int
cmp_hpt(const void *a, const void *b)
{
	const struct hpt *x = a, *y = b;

	if (x->day != y->day)
		return x->day < y->day ? -1 : 1;
	return (x->seq > y->seq) - (x->seq < y->seq);
}

/*
 * Fact rows of the candidates' ASINs within the window go into their
 * series (merged); the rest are dropped.  One day twice keeps the first.
 */
static void
read_history(struct report *rp)
{
	struct rec_field *f_asin = rec_field("asin"),
	    *f_mp = rec_field("marketplace"), *f_date = rec_field("date"),
	    *f_bsr = rec_field("bsr"), *f_price = rec_field("price"),
	    *f_rev = rec_field("review_count"), *f_title = rec_field("title");
	char *paths[] = { (char *)rp->o->history, NULL };
	struct nd_reader *rd = nd_open(paths, 1, rp->o->co.max_line);
	struct nd_line ln;
	long seq = 0;
	int first = rp->end_day - (int)rp->o->days + 1;
	size_t i, j;

	nd_keyed(rd, 0);	/* --keyed is for the operands, not --history */
	while (nd_next(rd, &ln)) {
		const char *a, *m, *d, *t, *err = NULL;
		size_t an, mn, dn, tn;
		struct series *s;
		struct hpt p;

		if (!parse_line(rp, &ln))
			continue;
		if (!req_str(rp->rec, f_asin, &a, &an, &err) ||
		    !req_str(rp->rec, f_mp, &m, &mn, &err) ||
		    !req_str(rp->rec, f_date, &d, &dn, &err))
			goto bad;
		if ((p.day = day_of(d, dn)) == INT32_MIN) {
			err = "field \"date\": expected a date YYYY-MM-DD";
			goto bad;
		}
		if (!opt_num(rp->rec, f_bsr, &p.bsr, &err) ||
		    !opt_num(rp->rec, f_price, &p.price, &err) ||
		    !opt_num(rp->rec, f_rev, &p.reviews, &err) ||
		    !opt_str(rp->rec, f_title, &t, &tn, &err))
			goto bad;
		if (p.bsr <= 0)
			p.bsr = NAN;	/* no rank, not rank zero */
		if ((s = find_series(rp, a, an, m, mn)) == NULL ||
		    p.day < first || p.day > rp->end_day) {
			rp->ac.dropped++;
			continue;
		}
		p.seq = seq++;
		if (s->n == s->cap) {
			s->cap = s->cap ? 2 * s->cap : 16;
			s->p = xreallocarray(s->p, s->cap, sizeof(*s->p));
		}
		s->p[s->n++] = p;
		if (t != NULL && p.day > s->title_day) {
			if (s->title == NULL || s->title_len != tn ||
			    memcmp(s->title, t, tn) != 0) {
				free(s->title);
				s->title = xstrndup(t, tn);
				s->title_len = tn;
			}
			s->title_day = p.day;
		}
		rp->ac.merged++;
		continue;
bad:
		reject(rp, &ln, err);
	}
	nd_close(rd);
	for (i = 0; i < rp->ns; i++) {
		struct series *s = &rp->s[i];
		size_t n = 0;

		if (s->n == 0)
			continue;
		qsort(s->p, s->n, sizeof(*s->p), cmp_hpt);
		for (j = 0; j < s->n; j++)
			if (n == 0 || s->p[n - 1].day != s->p[j].day)
				s->p[n++] = s->p[j];
		s->n = n;
	}
	rec_field_free(f_asin);
	rec_field_free(f_mp);
	rec_field_free(f_date);
	rec_field_free(f_bsr);
	rec_field_free(f_price);
	rec_field_free(f_rev);
	rec_field_free(f_title);
}

/* A copy of an optional string field; NULL when absent or null. */
static char *
dup_opt(struct report *rp, const char *name, const char **err, int *ok)
{
	struct rec_field *f = rec_field(name);
	const char *s;
	size_t n;
	char *r = NULL;

	if (!opt_str(rp->rec, f, &s, &n, err))
		*ok = 0;
	else if (s != NULL)
		r = xstrndup(s, n);
	rec_field_free(f);
	return r;
}

static double
get_num(struct report *rp, const char *name, const char **err, int *ok)
{
	struct rec_field *f = rec_field(name);
	double v = NAN;

	if (!opt_num(rp->rec, f, &v, err))
		*ok = 0;
	rec_field_free(f);
	return v;
}

static int
get_bool(struct report *rp, const char *name, const char **err, int *ok)
{
	struct rec_field *f = rec_field(name);
	int v = -1;

	switch (rec_bool(rp->rec, f, &v)) {
	case REC_OK:
		break;
	case REC_ABSENT:
	case REC_ISNULL:
		v = -1;
		break;
	default:
		*err = rec_errmsg(rp->rec, f, REC_TRUE);
		*ok = 0;
	}
	rec_field_free(f);
	return v;
}

/* "1,000 / 1,003" from the srm record's counts array, or NULL. */
static char *
srm_counts(struct report *rp)
{
	struct rec_field *f = rec_field("counts");
	const char *js;
	size_t jn, off, len;
	long long i;
	struct buf b;
	char num[HTML_NUMLEN];

	if (rec_json(rp->rec, f, &js, &jn) != REC_OK || js[0] != '[') {
		rec_field_free(f);
		return NULL;
	}
	rec_field_free(f);
	buf_init(&b);
	for (i = 0; scan_arr_get(js, jn, i, &off, &len); i++) {
		if (i > 0)
			buf_adds(&b, " / ");
		if (scan_kind_of(js[off]) == SCAN_NUMBER)
			buf_adds(&b, html_num(num, scan_number(js + off, len),
			    0, 0));
		else
			buf_adds(&b, "missing");
	}
	buf_adds(&b, "");
	return b.data;
}

/*
 * asin-uplift's records: every srm and metric record, in input order.
 * Numbers are read by the record layer, text copied for the page.
 */
static void
read_uplift(struct report *rp)
{
	struct rec_field *f_kind = rec_field("record");
	char *paths[] = { (char *)rp->o->uplift, NULL };
	struct nd_reader *rd = nd_open(paths, 1, rp->o->co.max_line);
	struct nd_line ln;

	nd_keyed(rd, 0);	/* --keyed is for the operands, not --uplift */
	while (nd_next(rd, &ln)) {
		const char *k, *err = NULL;
		size_t kn;
		int ok = 1;

		if (!parse_line(rp, &ln))
			continue;
		if (!req_str(rp->rec, f_kind, &k, &kn, &err)) {
			reject(rp, &ln, err);
			continue;
		}
		if (kn == 3 && memcmp(k, "srm", 3) == 0) {
			struct srm s;

			s.segment = dup_opt(rp, "segment", &err, &ok);
			s.field = dup_opt(rp, "field", &err, &ok);
			s.note = dup_opt(rp, "note", &err, &ok);
			s.chi2 = get_num(rp, "chi2", &err, &ok);
			s.p = get_num(rp, "p_value", &err, &ok);
			s.detected = get_bool(rp, "srm_detected", &err, &ok);
			s.counts = srm_counts(rp);
			if (!ok) {
				free(s.segment);
				free(s.field);
				free(s.note);
				free(s.counts);
				reject(rp, &ln, err);
				continue;
			}
			if (rp->nsrm == rp->capsrm) {
				rp->capsrm = rp->capsrm ? 2 * rp->capsrm : 8;
				rp->srm = xreallocarray(rp->srm, rp->capsrm,
				    sizeof(*rp->srm));
			}
			rp->srm[rp->nsrm++] = s;
		} else if (kn == 6 && memcmp(k, "metric", 6) == 0) {
			struct metric m;

			m.segment = dup_opt(rp, "segment", &err, &ok);
			m.variant = dup_opt(rp, "variant", &err, &ok);
			m.control = dup_opt(rp, "control", &err, &ok);
			m.metric = dup_opt(rp, "metric", &err, &ok);
			m.note = dup_opt(rp, "note", &err, &ok);
			m.cval = get_num(rp, "control_value", &err, &ok);
			m.vval = get_num(rp, "variant_value", &err, &ok);
			m.rel = get_num(rp, "rel_uplift", &err, &ok);
			m.lo = get_num(rp, ".ci_rel[0]", &err, &ok);
			m.hi = get_num(rp, ".ci_rel[1]", &err, &ok);
			m.p = get_num(rp, "p_value", &err, &ok);
			m.padj = get_num(rp, "p_value_adj", &err, &ok);
			m.level = get_num(rp, "ci_level", &err, &ok);
			m.significant = get_bool(rp, "significant", &err, &ok);
			if (ok && (m.variant == NULL || m.metric == NULL)) {
				ok = 0;
				err = "a metric record needs variant and "
				    "metric";
			}
			if (!ok) {
				free(m.segment);
				free(m.variant);
				free(m.control);
				free(m.metric);
				free(m.note);
				reject(rp, &ln, err);
				continue;
			}
			if (rp->nm == rp->capm) {
				rp->capm = rp->capm ? 2 * rp->capm : 16;
				rp->m = xreallocarray(rp->m, rp->capm,
				    sizeof(*rp->m));
			}
			rp->m[rp->nm++] = m;
		} else {
			reject(rp, &ln, "field \"record\": expected \"srm\" "
			    "or \"metric\"");
			continue;
		}
		rp->ac.out++;
	}
	nd_close(rd);
	rec_field_free(f_kind);
}

/* ------------------------------------------------------------------ */
/* Files of asin-rank                                                  */
/* ------------------------------------------------------------------ */

/* The whole file; dies naming it. */
static char *
slurp(const char *path, size_t *len)
{
	struct buf b;
	char tmp[65536];
	ssize_t r;
	int fd;

	if ((fd = open(path, O_RDONLY)) < 0)
		die("%s:", path);
	buf_init(&b);
	while ((r = read(fd, tmp, sizeof(tmp))) != 0) {
		if (r < 0) {
			if (errno == EINTR)
				continue;
			die("%s: read error:", path);
		}
		buf_add(&b, tmp, (size_t)r);
	}
	close(fd);
	buf_adds(&b, "");
	*len = b.len;
	return b.data;
}

/* A JSON file scanned whole; dies with the located reason. */
static char *
scan_file(struct scan *sc, const char *path, size_t *len)
{
	char *t = slurp(path, len);
	char msg[128];

	if (!scan_text(sc, t, *len)) {
		scan_errmsg(sc, msg, sizeof(msg));
		die("%s: %s", path, msg);
	}
	if (sc->kind != SCAN_OBJECT)
		die("%s: expected a JSON object", path);
	return t;
}

/* A member's number, NAN if absent, null or not a number. */
static double
member_num(const char *v, size_t n, const char *key)
{
	size_t off, len;

	if (!scan_obj_get(v, n, key, strlen(key), &off, &len) ||
	    scan_kind_of(v[off]) != SCAN_NUMBER)
		return NAN;
	return scan_number(v + off, len);
}

/* A member's string, unescaped into a fresh allocation, or NULL. */
static char *
member_str(const char *v, size_t n, const char *key)
{
	size_t off, len;
	char *s;

	if (!scan_obj_get(v, n, key, strlen(key), &off, &len) ||
	    v[off] != '"')
		return NULL;
	s = xmalloc(len);
	s[scan_unescape(s, v + off + 1, len - 2)] = '\0';
	return s;
}

/* ------------------------------------------------------------------ */
/* The page                                                            */
/* ------------------------------------------------------------------ */

static const char css[] =
    ":root{--fg:#1b1f24;--mut:#5b6470;--bd:#d5d9de;--up:#137333;"
    "--dn:#b3261e;--ac:#0b57d0;--bg:#fff}\n"
    "*{box-sizing:border-box}\n"
    "body{font:14px/1.4 system-ui,-apple-system,\"Segoe UI\",Roboto,"
    "sans-serif;color:var(--fg);background:var(--bg);margin:0;"
    "padding:1rem}\n"
    "h1{font-size:1.4rem;margin:0 0 .25rem}h2{font-size:1.15rem;"
    "margin:1.5rem 0 .5rem;border-bottom:1px solid var(--bd)}\n"
    "h3{font-size:1rem;margin:1rem 0 .4rem}\n"
    ".meta,.na,small,figcaption{color:var(--mut)}\n"
    "nav a{margin-right:1rem;color:var(--ac)}\n"
    ".scroll{overflow-x:auto;max-width:100%}\n"
    "table{border-collapse:collapse;font-variant-numeric:tabular-nums}\n"
    "th,td{padding:.2rem .45rem;border-bottom:1px solid var(--bd);"
    "text-align:left;vertical-align:middle;white-space:nowrap}\n"
    "td.n,th.n{text-align:right}\n"
    "td.t{white-space:normal;min-width:12rem;max-width:28rem}\n"
    "th button{font:inherit;font-weight:600;background:none;border:0;"
    "padding:0;cursor:pointer;color:inherit}\n"
    "th[aria-sort=ascending] button::after{content:\" \\25B2\"}\n"
    "th[aria-sort=descending] button::after{content:\" \\25BC\"}\n"
    "thead th{position:sticky;top:0;background:var(--bg)}\n"
    ".na{font-style:italic}\n"
    ".ld #cand-table tbody{display:none}#cand-table tr.pg{display:none}\n"
    ".up{color:var(--up)}.dn{color:var(--dn)}\n"
    "#cand-table td{text-align:right}#cand-table td:nth-child(2),"
    "#cand-table td:nth-child(3),#cand-table td:nth-child(4){"
    "text-align:left}\n"
    "#cand-table td:nth-child(2){white-space:normal;min-width:12rem;"
    "max-width:28rem}\n"
    "#cand-table i{font-style:normal;font-size:.85em}\n"
    "#cand-table i:not(.up):not(.dn){color:var(--mut)}\n"
    "#cand-table svg{width:88px;height:24px;display:block}\n"
    "#cand-table path{fill:none;stroke:var(--ac);stroke-width:1.5;"
    "stroke-linecap:round;stroke-linejoin:round;"
    "vector-effect:non-scaling-stroke}\n"
    "figure{margin:.75rem 0}figcaption{max-width:760px}\n"
    "svg.ch{width:100%;max-width:760px;height:auto;display:block}\n"
    "svg.ch text{font:11px system-ui,sans-serif;fill:var(--fg)}\n"
    ".ax{stroke:var(--mut);stroke-width:1}.gr{stroke:var(--bd);"
    "stroke-width:1}\n"
    ".filters{display:flex;flex-wrap:wrap;gap:.5rem;align-items:center;"
    "margin:.5rem 0}\n"
    ".filters input,.filters select{font:inherit;padding:.2rem .4rem}\n"
    ".srm-bad{color:var(--dn);font-weight:600}\n"
    ".decision{font-size:1.05rem;padding:.5rem .75rem;border-left:4px "
    "solid var(--ac);background:#f3f6fb}\n"
    "@media (max-width:600px){body{padding:.5rem;font-size:13px}"
    "td.t,#cand-table td:nth-child(2){min-width:9rem}}\n"
    "@media print{.filters,nav{display:none}.scroll{overflow:visible}"
    "thead th{position:static}tr{break-inside:avoid}"
    "#cand-table tr.pg{display:table-row}"
    "section{break-before:auto}body{padding:0}}\n";

/*
 * Sort on a header click (numbers by data-v, text by its content; a
 * missing value always last) and filter by text and category.  Plain
 * DOM, no library.
 */
static const char js[] =
    "(function(){\n"
    "var t=document.getElementById('cand-table');if(!t)return;\n"
    "var PAGE=" PAGE_STR ",lim=PAGE,tb=t.tBodies[0],"
    "rows=Array.prototype.slice.call(tb.rows),"
    "q=document.getElementById('cand-q'),"
    "cs=document.getElementById('cand-cat'),"
    "cnt=document.getElementById('cand-count'),"
    "more=document.getElementById('cand-more'),"
    "all=document.getElementById('cand-all'),"
    "rest=document.getElementById('cand-rest'),"
    "total=+t.getAttribute('data-n');\n"
    "function whole(){if(!rest)return;"
    "tb.insertAdjacentHTML('beforeend',rest.textContent);"
    "rest.parentNode.removeChild(rest);rest=null;"
    "rows=Array.prototype.slice.call(tb.rows);}\n"
    "var num=Array.prototype.map.call(t.tHead.rows[0].cells,"
    "function(h){return h.className==='n';});\n"
    "function fmt(n){return n.toLocaleString('en-US');}\n"
    "function key(r,i){var c=r.cells[i];if(!c||c.className==='na')"
    "return null;if(!num[i])return c.textContent.toLowerCase();"
    "var v=c.firstChild&&c.firstChild.nodeValue;"
    "v=v?parseFloat(v.replace(/[^0-9.+-]/g,'')):NaN;"
    "return isNaN(v)?null:v;}\n"
    "function render(){var s=q.value.toLowerCase(),c=cs.value,n=0,sh=0;"
    "rows.forEach(function(r){if(r.lc===undefined)"
    "r.lc=r.textContent.toLowerCase();"
    "var ok=(!c||r.cells[2].textContent===c)&&(!s||r.lc.indexOf(s)>=0),"
    "pg=false;if(ok){n++;pg=n>lim;if(!pg)sh++;}"
    "if(r.hidden!==!ok)r.hidden=!ok;"
    "if(r.classList.contains('pg')!==pg)r.classList.toggle('pg',pg);});"
    "if(rest)n=total;"
    "cnt.textContent=fmt(sh)+' of '+fmt(n)+' shown'+(n<total?"
    "' ('+fmt(total)+' in all)':'');"
    "more.hidden=all.hidden=n<=lim;}\n"
    "function sort(i,th){whole();"
    "var d=th.getAttribute('aria-sort')==='ascending'?-1:1;"
    "Array.prototype.forEach.call(t.tHead.rows[0].cells,"
    "function(h){h.removeAttribute('aria-sort');});"
    "th.setAttribute('aria-sort',d>0?'ascending':'descending');"
    "var ks=rows.map(function(r,j){return [key(r,i),j,r];});"
    "ks.sort(function(a,b){if(a[0]===null||b[0]===null){"
    "if(a[0]===b[0])return a[1]-b[1];return a[0]===null?1:-1;}"
    "if(a[0]<b[0])return -d;if(a[0]>b[0])return d;return a[1]-b[1];});"
    "rows=ks.map(function(k){return k[2];});render();"
    "var f=document.createDocumentFragment();"
    "rows.forEach(function(r){f.appendChild(r);});tb.appendChild(f);}\n"
    "Array.prototype.forEach.call(t.tHead.rows[0].cells,function(th,i){"
    "var b=th.querySelector('button');if(b)b.addEventListener('click',"
    "function(){sort(i,th);});});\n"
    "function reset(){whole();lim=PAGE;render();}\n"
    "q.addEventListener('input',reset);"
    "cs.addEventListener('change',reset);"
    "more.addEventListener('click',function(){whole();lim+=PAGE;render();});"
    "all.addEventListener('click',function(){whole();lim=Infinity;"
    "render();});\n"
    "addEventListener('beforeprint',function(){whole();render();});\n"
    "if(q.value||cs.value)whole();\n"
    "render();\n"
    "})();\n"
    "document.documentElement.className='';\n";

static void
esc(struct buf *b, const char *s)
{
	html_escs(b, s);
}

/* A missing value: shown, never as zero. */
static void
td_missing(struct buf *b)
{
	buf_adds(b, "<td class=na>missing");
}

/* A candidate cell: the text, or missing for NAN. */
static void
td_val(struct buf *b, double v, const char *text)
{
	if (isnan(v))
		td_missing(b);
	else
		buf_printf(b, "<td>%s", text);
}

/* A numeric cell with its sort key. */
static void
td_num(struct buf *b, double v, const char *text)
{
	char k[40];

	if (isnan(v)) {
		td_missing(b);
		return;
	}
	fmt_double(k, v);
	buf_printf(b, "<td class=n data-v=%s>%s", k, text);
}

static void
page_head(struct report *rp, const char *date)
{
	struct buf *b = &rp->page;

	buf_adds(b, "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n"
	    "<meta charset=\"utf-8\">\n"
	    "<meta name=\"viewport\" content=\"width=device-width,"
	    "initial-scale=1\">\n"
	    "<meta http-equiv=\"Content-Security-Policy\" "
	    "content=\"default-src 'none'; style-src 'unsafe-inline'; "
	    "script-src 'unsafe-inline'\">\n"
	    "<meta name=\"generator\" content=\"asin-report " ASIN_VERSION
	    "\">\n<title>");
	if (rp->o->title)
		esc(b, rp->o->title);
	else if (date)
		buf_printf(b, "asin-tools report %s", date);
	else
		buf_adds(b, "asin-tools report");
	/*
	 * While a long table is parsed the browser lays it out again and
	 * again; hidden until the end of the page (when scripts run at
	 * all) it is laid out once.
	 */
	buf_printf(b, "</title>\n<style>\n%s</style>\n</head>\n<body>\n"
	    "<script>document.documentElement.className='ld'</script>\n"
	    "<header>\n<h1>", css);
	if (rp->o->title)
		esc(b, rp->o->title);
	else if (date)
		buf_printf(b, "asin-tools report %s", date);
	else
		buf_adds(b, "asin-tools report");
	buf_adds(b, "</h1>\n<p class=meta>Written by asin-report "
	    ASIN_VERSION);
	if (date)
		buf_printf(b, " for %s", date);
	buf_adds(b, ".</p>\n<nav aria-label=\"Sections\">");
	if (rp->o->ncand || rp->o->read_stdin)
		buf_adds(b, "<a href=\"#candidates\">Candidates</a>");
	if (rp->o->uplift)
		buf_adds(b, "<a href=\"#experiments\">Experiments</a>");
	if (rp->o->metrics || rp->o->model)
		buf_adds(b, "<a href=\"#model\">Model</a>");
	buf_adds(b, "</nav>\n</header>\n<main>\n");
}

/* Trend of a series' field over the window: first and last values. */
static int
trend(const struct series *s, size_t field, double *first, double *last)
{
	size_t i;

	*first = *last = NAN;
	for (i = 0; i < s->n; i++) {
		double v = field == 0 ? s->p[i].bsr : field == 1 ?
		    s->p[i].price : s->p[i].reviews;

		if (isnan(v))
			continue;
		if (isnan(*first))
			*first = v;
		*last = v;
	}
	return !isnan(*first);
}

/* The BSR sparkline of a series: log scale, the best rank at the top. */
static void
td_spark(struct report *rp, const struct series *s)
{
	struct buf *b = &rp->page;
	int x[2 * SPARK_W], lastday = 0;
	double y[2 * SPARK_W], lo = INFINITY, hi = -INFINITY, first, last;
	size_t i, n = 0;
	int start = rp->end_day - (int)rp->o->days + 1;
	char n1[HTML_NUMLEN], n2[HTML_NUMLEN], n3[HTML_NUMLEN];

	if (!trend(s, 0, &first, &last)) {
		buf_adds(b, "<td class=na>no history");
		return;
	}
	/*
	 * The window spread over SPARK_W columns, each holding its latest
	 * rank; days without a rank longer than a column leave a gap.
	 */
	for (i = 0; i < s->n; i++) {
		int col;
		double v = s->p[i].bsr;

		if (isnan(v))
			continue;
		col = rp->o->days < 2 ? 0 : (int)((long long)(s->p[i].day -
		    start) * (SPARK_W - 1) / (rp->o->days - 1));
		v = log10(v);
		if (n > 0 && x[n - 1] == col) {
			y[n - 1] = v;
			lastday = s->p[i].day;
			continue;
		}
		if (n > 0 && s->p[i].day - lastday > 1 + (rp->o->days - 1) /
		    SPARK_W && n < 2 * SPARK_W) {
			x[n] = col;
			y[n++] = NAN;
		}
		x[n] = col;
		y[n++] = v;
		lastday = s->p[i].day;
	}
	for (i = 0; i < n; i++) {
		if (isnan(y[i]))
			continue;
		if (y[i] < lo)
			lo = y[i];
		if (y[i] > hi)
			hi = y[i];
	}
	buf_printf(b, "<td><svg viewBox=\"0 0 %d %d\" "
	    "role=img aria-label=\"BSR %s to %s, "
	    "best %s, %zu days\"><path d=\"", SPARK_W - 1, SPARK_H - 1,
	    html_num(n1, first, 0, 0), html_num(n2, last, 0, 0),
	    html_num(n3, pow(10, lo), 0, 0), s->n);
	html_spark_path(b, x, y, n, SPARK_W, SPARK_H, lo, hi, 1);
	buf_adds(b, "\"/></svg>");
}

static int
cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static void
section_candidates(struct report *rp)
{
	struct buf *b = &rp->page;
	char n1[HTML_NUMLEN], n2[HTML_NUMLEN];
	size_t i, k, ncat = 0;

	buf_adds(b, "<section id=\"candidates\" aria-labelledby=\"h-cand\">\n"
	    "<h2 id=\"h-cand\">Candidates</h2>\n");
	if (rp->nc == 0) {
		buf_adds(b, "<p class=na>No candidates for this day.</p>\n"
		    "</section>\n");
		return;
	}
	buf_printf(b, "<p>%s candidates", html_num(n1, (double)rp->nc, 0, 0));
	if (rp->o->top > 0)
		buf_printf(b, ", the top %lld of each marketplace and "
		    "category", rp->o->top);
	buf_adds(b, ", best score first.");
	if (rp->have_history)
		buf_printf(b, " BSR over the last %lld days on a log scale, the "
		    "best rank at the top; price and review changes over the "
		    "same window.", rp->o->days);
	if (rp->nparts)
		buf_adds(b, " The last columns are each feature's part of the "
		    "score (weight times z).");
	buf_adds(b, "</p>\n<div class=filters role=search>"
	    "<label>Filter <input id=cand-q type=search "
	    "placeholder=\"ASIN, title, category\"></label>"
	    "<label>Category <select id=cand-cat><option value=\"\">all"
	    "</option>");
	/* Categories in byte order, once each. */
	{
		char **cats = xcalloc(rp->nc, sizeof(char *));
		size_t j;

		for (i = 0; i < rp->nc; i++) {
			for (j = 0; j < ncat; j++)
				if (strcmp(cats[j], rp->c[i].category) == 0)
					break;
			if (j == ncat)
				cats[ncat++] = rp->c[i].category;
		}
		qsort(cats, ncat, sizeof(char *), cmp_str);
		for (j = 0; j < ncat; j++) {
			buf_adds(b, "<option value=\"");
			esc(b, cats[j][0] ? cats[j] : "missing");
			buf_adds(b, "\">");
			esc(b, cats[j][0] ? cats[j] : "(no category)");
			buf_adds(b, "</option>");
		}
		free(cats);
	}
	buf_printf(b, "</select></label><output id=cand-count>%s of %s "
	    "shown</output><button type=button id=cand-more hidden>Show "
	    PAGE_STR " more</button><button type=button id=cand-all hidden>"
	    "Show all</button></div>\n", html_num(n1, (double)rp->nc, 0, 0),
	    html_num(n2, (double)rp->nc, 0, 0));
	buf_printf(b, "<div class=scroll>\n<table id=cand-table data-n=%zu>\n"
	    "<caption class=meta>Candidates: select a column header to "
	    "sort</caption>\n<thead><tr>"
	    "<th class=n scope=col><button type=button>Rank</button></th>"
	    "<th scope=col><button type=button>ASIN and title</button></th>"
	    "<th scope=col><button type=button>Category</button></th>"
	    "<th scope=col><button type=button>Market</button></th>"
	    "<th class=n scope=col><button type=button>Score</button></th>"
	    "<th class=n scope=col><button type=button>BSR</button></th>",
	    rp->nc);
	if (rp->have_history)
		buf_adds(b, "<th scope=col>BSR history</th>");
	buf_adds(b, "<th class=n scope=col><button type=button>Price</button>"
	    "</th><th class=n scope=col><button type=button>Reviews</button>"
	    "</th><th class=n scope=col><button type=button>Rating</button>"
	    "</th>");
	for (k = 0; k < rp->nparts; k++) {
		buf_adds(b, "<th class=n scope=col><button type=button>");
		esc(b, rp->parts[k]);
		buf_adds(b, "</button></th>");
	}
	buf_adds(b, "</tr></thead>\n<tbody>\n");
	for (i = 0; i < rp->nc; i++) {
		const struct cand *c = &rp->c[i];
		const struct series *s = rp->have_history ?
		    &rp->s[c->series] : NULL;
		const char *title = c->title ? c->title :
		    s != NULL ? s->title : NULL;
		size_t title_len = c->title ? c->title_len :
		    s != NULL ? s->title_len : 0;
		double bsr = c->bsr, price = c->price, rev = c->reviews;
		double f, l;

		/*
		 * Past the first page the rows are text for the script to
		 * insert on demand: a browser parses ten thousand rows of
		 * elements in seconds, the same bytes as text at once.
		 * Input text is escaped, so no "</script" can occur in it.
		 */
		if (i == PAGE_ROWS)
			buf_adds(b, "</tbody>\n</table>\n</div>\n"
			    "<script type=\"text/html\" id=cand-rest>\n");

		/*
		 * Rows are the bulk of a large page: no sort keys, the
		 * script reads the number shown; alignment comes from CSS.
		 */
		buf_adds(b, "<tr>");
		td_val(b, c->rank > 0 ? c->rank : NAN, html_num(n1, c->rank,
		    0, 0));
		buf_adds(b, "<td><b>");
		esc(b, c->asin);
		buf_adds(b, "</b>");
		if (title != NULL) {
			buf_adds(b, " <small>");
			html_esc_max(b, title, title_len, TITLE_MAX);
			buf_adds(b, "</small>");
		}
		if (c->has_category) {
			buf_adds(b, "<td>");
			esc(b, c->category);
		} else
			td_missing(b);
		buf_adds(b, "<td>");
		esc(b, c->mp);
		td_val(b, c->score, html_num(n1, c->score, 2, 0));
		if (isnan(bsr) && s != NULL)
			trend(s, 0, &f, &bsr);
		td_val(b, bsr, html_num(n1, bsr, 0, 0));
		if (s != NULL)
			td_spark(rp, s);
		if (isnan(price) && s != NULL)
			trend(s, 1, &f, &price);
		td_val(b, price, html_money(n1, price, c->mp));
		if (!isnan(price) && s != NULL && trend(s, 1, &f, &l) &&
		    f > 0 && s->n > 1)
			buf_printf(b, " <i class=%s>%s</i>", l > f ? "up" :
			    l < f ? "dn" : "na", html_pct(n2, l / f - 1, 1, 1));
		if (isnan(rev) && s != NULL)
			trend(s, 2, &f, &rev);
		td_val(b, rev, html_num(n1, rev, 0, 0));
		if (!isnan(rev) && s != NULL && trend(s, 2, &f, &l) &&
		    s->n > 1)
			buf_printf(b, " <i>%s</i>", html_num(n2, l - f, 0, 1));
		td_val(b, c->rating, html_num(n1, c->rating, 1, 0));
		for (k = 0; k < rp->nparts; k++) {
			if (isnan(c->part[k])) {
				td_missing(b);
				continue;
			}
			if (c->part[k] != 0)
				buf_printf(b, "<td class=%s>", c->part[k] > 0 ?
				    "up" : "dn");
			else
				buf_adds(b, "<td>");
			buf_adds(b, html_num(n1, c->part[k], 2, 1));
		}
		buf_adds(b, "\n");
	}
	if (rp->nc > PAGE_ROWS)
		buf_adds(b, "</script>\n<noscript><p class=na>Without scripts "
		    "only the first " PAGE_STR " candidates are shown."
		    "</p></noscript>\n</section>\n");
	else
		buf_adds(b, "</tbody>\n</table>\n</div>\n</section>\n");
}

/* x position of v on a linear axis [lo, hi] mapped to [x0, x1]. */
static double
xpos(double v, double lo, double hi, double x0, double x1)
{
	return x0 + (v - lo) / (hi - lo) * (x1 - x0);
}

/* "segment · variant · metric" for a metric row. */
static void
metric_label(struct buf *b, const struct metric *m)
{
	if (m->segment) {
		esc(b, m->segment);
		buf_adds(b, " \xc2\xb7 ");
	}
	esc(b, m->variant);
	buf_adds(b, " \xc2\xb7 ");
	esc(b, m->metric);
}

/* "95%" from a ci_level of 0.95; 95% when missing. */
static char *
level_pct(char *dst, double level)
{
	if (isnan(level))
		level = 0.95;
	snprintf(dst, HTML_NUMLEN, "%g%%", level * 100);
	return dst;
}

/*
 * The forest plot: one row per variant and metric, the relative uplift
 * as a square and its interval as a line, a dashed line at no effect.
 */
static void
forest_plot(struct report *rp)
{
	struct buf *b = &rp->page;
	const double W = 760, L = 250, R = 90, ROW = 24, TOP = 12;
	double lo = 0, hi = 0, ticks[8], x0 = L, x1 = W - R, H, y;
	char n1[HTML_NUMLEN], n2[HTML_NUMLEN], n3[HTML_NUMLEN];
	char lv[HTML_NUMLEN];
	size_t i, nt;

	for (i = 0; i < rp->nm; i++) {
		const struct metric *m = &rp->m[i];
		double v[3] = { m->rel, m->lo, m->hi };
		size_t j;

		for (j = 0; j < 3; j++)
			if (!isnan(v[j])) {
				if (v[j] < lo)
					lo = v[j];
				if (v[j] > hi)
					hi = v[j];
			}
	}
	if (lo == hi) {
		lo = -0.01;
		hi = 0.01;
	}
	nt = html_ticks(&lo, &hi, 7, ticks);
	H = TOP + ROW * (double)rp->nm + 48;
	buf_printf(b, "<figure>\n<svg class=ch viewBox=\"0 0 %g %g\" "
	    "role=img aria-labelledby=\"fp-cap\">\n", W, H);
	for (i = 0; i < nt; i++) {
		double x = xpos(ticks[i], lo, hi, x0, x1);

		buf_printf(b, "<line class=%s x1=\"%.1f\" y1=\"%g\" "
		    "x2=\"%.1f\" y2=\"%g\"%s/>"
		    "<text x=\"%.1f\" y=\"%g\" text-anchor=middle>%s</text>\n",
		    ticks[i] == 0 ? "ax" : "gr", x, TOP - 4, x,
		    TOP + ROW * (double)rp->nm, ticks[i] == 0 ?
		    " stroke-dasharray=\"4 3\"" : "", x,
		    TOP + ROW * (double)rp->nm + 16,
		    html_pct(n1, ticks[i], ticks[nt - 1] - ticks[0] < 0.05 ?
		    1 : 0, 1));
	}
	buf_printf(b, "<line class=ax x1=\"%g\" y1=\"%g\" x2=\"%g\" "
	    "y2=\"%g\"/>\n", x0, TOP + ROW * (double)rp->nm, x1,
	    TOP + ROW * (double)rp->nm);
	buf_printf(b, "<text x=\"%g\" y=\"%g\" text-anchor=middle>relative "
	    "uplift against the control (%%), with its %s confidence "
	    "interval</text>\n", (x0 + x1) / 2, H - 8,
	    level_pct(lv, rp->nm ? rp->m[0].level : NAN));
	for (i = 0; i < rp->nm; i++) {
		const struct metric *m = &rp->m[i];
		const char *col = m->significant == 1 ?
		    (m->rel > 0 ? "var(--up)" : "var(--dn)") : "var(--mut)";

		y = TOP + ROW * (double)i + ROW / 2;
		buf_adds(b, "<g><title>");
		metric_label(b, m);
		buf_adds(b, ": ");
		if (isnan(m->rel))
			buf_adds(b, "uplift not computable");
		else {
			buf_printf(b, "%s", html_pct(n1, m->rel, 2, 1));
			if (!isnan(m->lo) && !isnan(m->hi))
				buf_printf(b, " (%s CI %s to %s)",
				    level_pct(lv, m->level),
				    html_pct(n2, m->lo, 2, 1),
				    html_pct(n3, m->hi, 2, 1));
		}
		buf_printf(b, "</title><text x=\"%g\" y=\"%g\" "
		    "text-anchor=end>", L - 8, y + 4);
		metric_label(b, m);
		buf_adds(b, "</text>");
		if (!isnan(m->lo) && !isnan(m->hi))
			buf_printf(b, "<line x1=\"%.1f\" y1=\"%g\" x2=\"%.1f\" "
			    "y2=\"%g\" stroke=\"%s\" stroke-width=\"2\"/>",
			    xpos(m->lo, lo, hi, x0, x1), y,
			    xpos(m->hi, lo, hi, x0, x1), y, col);
		if (!isnan(m->rel))
			buf_printf(b, "<rect x=\"%.1f\" y=\"%g\" width=\"8\" "
			    "height=\"8\" fill=\"%s\"/><text x=\"%g\" y=\"%g\">"
			    "%s</text>", xpos(m->rel, lo, hi, x0, x1) - 4,
			    y - 4, col, x1 + 8, y + 4,
			    html_pct(n1, m->rel, 1, 1));
		else
			buf_printf(b, "<text x=\"%g\" y=\"%g\" "
			    "class=na>not computable</text>", x1 + 8, y + 4);
		buf_adds(b, "</g>\n");
	}
	buf_adds(b, "</svg>\n<figcaption id=fp-cap>Forest plot of the "
	    "relative uplift of each variant over the control, per metric, "
	    "with confidence intervals; green and red mark significant "
	    "increases and decreases, grey no significant difference. The "
	    "table below holds the same numbers.</figcaption>\n</figure>\n");
}

static const char *
decision_of(const struct metric *m)
{
	if (isnan(m->p) || m->significant < 0)
		return "not tested";
	if (!m->significant)
		return "no significant difference";
	return m->rel > 0 || (isnan(m->rel) && m->vval > m->cval) ?
	    "significant increase" : "significant decrease";
}

static void
section_experiments(struct report *rp)
{
	struct buf *b = &rp->page;
	char n1[HTML_NUMLEN], n2[HTML_NUMLEN], n3[HTML_NUMLEN];
	char lv[HTML_NUMLEN];
	size_t i;
	int bad = 0, sig = 0, adj = 0;

	buf_adds(b, "<section id=\"experiments\" aria-labelledby=\"h-exp\">\n"
	    "<h2 id=\"h-exp\">Experiments</h2>\n");
	if (rp->nm == 0 && rp->nsrm == 0) {
		buf_adds(b, "<p class=na>The readout holds no records.</p>\n"
		    "</section>\n");
		return;
	}
	buf_adds(b, "<h3>Sample ratio check</h3>\n<ul>\n");
	if (rp->nsrm == 0)
		buf_adds(b, "<li class=na>missing: the readout has no srm "
		    "record</li>\n");
	for (i = 0; i < rp->nsrm; i++) {
		const struct srm *s = &rp->srm[i];

		buf_adds(b, "<li>");
		if (s->segment) {
			buf_adds(b, "Segment ");
			esc(b, s->segment);
			buf_adds(b, ": ");
		}
		buf_adds(b, "sample ratio on ");
		if (s->field)
			esc(b, s->field);
		else
			buf_adds(b, "<span class=na>missing field</span>");
		if (s->counts) {
			buf_adds(b, " (");
			esc(b, s->counts);
			buf_adds(b, ")");
		}
		buf_printf(b, ": \xcf\x87\xc2\xb2 = %s, p = %s: ",
		    isnan(s->chi2) ? "missing" : html_sig(n1, s->chi2),
		    isnan(s->p) ? "missing" : html_sig(n2, s->p));
		if (s->detected == 1) {
			bad = 1;
			buf_adds(b, "<span class=srm-bad>mismatch: the split "
			    "is broken; do not trust the results below"
			    "</span>");
		} else if (s->detected == 0)
			buf_adds(b, "<span class=up>ok</span>");
		else
			buf_adds(b, "<span class=na>missing</span>");
		if (s->note) {
			buf_adds(b, " <small>(");
			esc(b, s->note);
			buf_adds(b, ")</small>");
		}
		buf_adds(b, "</li>\n");
	}
	buf_adds(b, "</ul>\n<h3>Decision</h3>\n<p class=decision>");
	if (bad)
		buf_adds(b, "No decision: the sample ratio check failed, so the "
		    "assignment or the logging is broken. ");
	for (i = 0; i < rp->nm; i++) {
		const struct metric *m = &rp->m[i];

		if (!isnan(m->padj))
			adj = 1;
		if (m->significant != 1)
			continue;
		sig = 1;
		esc(b, m->variant);
		if (m->segment) {
			buf_adds(b, " in ");
			esc(b, m->segment);
		}
		buf_adds(b, " moves ");
		esc(b, m->metric);
		buf_printf(b, " by %s", isnan(m->rel) ? "an amount not "
		    "computable" : html_pct(n1, m->rel, 2, 1));
		if (!isnan(m->lo) && !isnan(m->hi))
			buf_printf(b, " (%s CI %s to %s)",
			    level_pct(lv, m->level), html_pct(n2, m->lo, 2, 1),
			    html_pct(n3, m->hi, 2, 1));
		buf_adds(b, ". ");
	}
	if (!sig && rp->nm > 0)
		buf_printf(b, "No metric differs significantly from the control "
		    "at the %s level%s.", level_pct(lv, rp->m[0].level),
		    adj ? " after correction" : "");
	else if (rp->nm == 0)
		buf_adds(b, "<span class=na>missing: the readout has no metric "
		    "records</span>");
	buf_adds(b, "</p>\n");
	if (rp->nm > 0) {
		forest_plot(rp);
		buf_adds(b, "<div class=scroll>\n<table id=exp-table>\n"
		    "<caption class=meta>Every variant against the control"
		    "</caption>\n<thead><tr><th scope=col>Segment</th>"
		    "<th scope=col>Variant</th><th scope=col>Metric</th>"
		    "<th class=n scope=col>Control</th>"
		    "<th class=n scope=col>Variant value</th>"
		    "<th class=n scope=col>Uplift</th>"
		    "<th scope=col>Interval</th>");
		buf_printf(b, "<th class=n scope=col>p%s</th>"
		    "<th scope=col>Decision</th><th scope=col>Note</th></tr>"
		    "</thead>\n<tbody>\n", adj ? " (adjusted)" : "");
	}
	for (i = 0; i < rp->nm; i++) {
		const struct metric *m = &rp->m[i];
		double p = !isnan(m->padj) ? m->padj : m->p;

		buf_adds(b, "<tr>");
		if (m->segment) {
			buf_adds(b, "<td>");
			esc(b, m->segment);
		} else
			buf_adds(b, "<td>all");
		buf_adds(b, "<td>");
		esc(b, m->variant);
		buf_adds(b, "<td>");
		esc(b, m->metric);
		td_num(b, m->cval, html_sig(n1, m->cval));
		td_num(b, m->vval, html_sig(n1, m->vval));
		td_num(b, m->rel, html_pct(n1, m->rel, 2, 1));
		if (isnan(m->lo) || isnan(m->hi))
			td_missing(b);
		else
			buf_printf(b, "<td>%s to %s", html_pct(n2, m->lo, 2, 1),
			    html_pct(n3, m->hi, 2, 1));
		td_num(b, p, html_sig(n1, p));
		buf_printf(b, "<td class=%s>%s", m->significant == 1 ?
		    (m->rel > 0 ? "up" : "dn") : "na", decision_of(m));
		buf_adds(b, "<td class=t>");
		if (m->note)
			esc(b, m->note);
		buf_adds(b, "\n");
	}
	if (rp->nm > 0)
		buf_adds(b, "</tbody>\n</table>\n</div>\n");
	buf_adds(b, "</section>\n");
}

/* One line of lift_curve.csv: k,recall,baseline_recall,lift. */
struct liftpt {
	double k, recall, base;
};

/* Parse a CSV number field; empty is NAN.  0 if it is not a number. */
static int
csv_field(const char *s, size_t n, double *v)
{
	if (n == 0) {
		*v = NAN;
		return 1;
	}
	return parse_double(s, n, v);
}

/* lift_curve.csv of asin-rank eval; dies naming the file and line. */
static struct liftpt *
read_lift(const char *path, size_t *np)
{
	size_t len, n = 0, cap = 0;
	char *t = slurp(path, &len), *p = t, *e;
	struct liftpt *v = NULL;
	long line = 0;

	while (p < t + len) {
		const char *f[4];
		size_t fl[4], nf = 0;
		char *q;
		double d[4];
		size_t i;

		line++;
		e = memchr(p, '\n', (size_t)(t + len - p));
		if (e == NULL)
			e = t + len;
		if (e > p && e[-1] == '\r')
			e[-1] = '\0';
		*e = '\0';
		if (line == 1) {
			if (strcmp(p, "k,recall,baseline_recall,lift") != 0)
				die_at(path, line, "expected the header "
				    "k,recall,baseline_recall,lift");
			p = e + 1;
			continue;
		}
		if (*p == '\0') {
			p = e + 1;
			continue;
		}
		for (q = p; nf < 4; nf++) {
			char *c = strchr(q, ',');

			f[nf] = q;
			fl[nf] = c ? (size_t)(c - q) : strlen(q);
			if (c == NULL) {
				nf++;
				break;
			}
			q = c + 1;
		}
		if (nf != 4 || strchr(f[3], ',') != NULL)
			die_at(path, line, "expected 4 fields");
		for (i = 0; i < 4; i++)
			if (!csv_field(f[i], fl[i], &d[i]))
				die_at(path, line, "field %zu: expected a "
				    "number", i + 1);
		if (isnan(d[0]) || d[0] < 1)
			die_at(path, line, "field 1: expected k of at least 1");
		if (n == cap) {
			cap = cap ? 2 * cap : 32;
			v = xreallocarray(v, cap, sizeof(*v));
		}
		v[n].k = d[0];
		v[n].recall = d[1];
		v[n].base = d[2];
		n++;
		p = e + 1;
	}
	if (line == 0)
		die("%s: empty file", path);
	free(t);
	*np = n;
	return v;
}

/* Recall at each k, model and baseline, as a line chart. */
static void
lift_chart(struct report *rp, const struct liftpt *v, size_t n,
    const char *score, const char *base)
{
	struct buf *b = &rp->page;
	const double W = 760, H = 320, L = 56, R = 20, T = 16, B = 48;
	double kmax = 1, xt[12], yt[12], klo = 1, ylo = 0, yhi = 1;
	size_t i, nx, ny, s;
	char n1[HTML_NUMLEN];
	int hasbase = 0;

	for (i = 0; i < n; i++) {
		if (v[i].k > kmax)
			kmax = v[i].k;
		if (!isnan(v[i].base))
			hasbase = 1;
	}
	if (kmax <= klo)
		kmax = klo + 1;
	nx = html_ticks(&klo, &kmax, 11, xt);
	ny = html_ticks(&ylo, &yhi, 6, yt);
	buf_printf(b, "<figure>\n<svg class=ch viewBox=\"0 0 %g %g\" "
	    "role=img aria-labelledby=\"lc-cap\">\n", W, H);
	for (i = 0; i < ny; i++) {
		double y = T + (1 - yt[i]) * (H - T - B);

		buf_printf(b, "<line class=gr x1=\"%g\" y1=\"%.1f\" "
		    "x2=\"%g\" y2=\"%.1f\"/><text x=\"%g\" y=\"%.1f\" "
		    "text-anchor=end>%s</text>\n", L, y, W - R, y, L - 6,
		    y + 4, html_pct(n1, yt[i], 0, 0));
	}
	for (i = 0; i < nx; i++) {
		double x = xpos(xt[i], klo, kmax, L, W - R);

		buf_printf(b, "<line class=ax x1=\"%.1f\" y1=\"%g\" "
		    "x2=\"%.1f\" y2=\"%g\"/><text x=\"%.1f\" y=\"%g\" "
		    "text-anchor=middle>%s</text>\n", x, H - B, x, H - B + 4,
		    x, H - B + 18, html_num(n1, xt[i], 0, 0));
	}
	buf_printf(b, "<line class=ax x1=\"%g\" y1=\"%g\" x2=\"%g\" "
	    "y2=\"%g\"/><line class=ax x1=\"%g\" y1=\"%g\" x2=\"%g\" "
	    "y2=\"%g\"/>\n", L, H - B, W - R, H - B, L, T, L, H - B);
	buf_printf(b, "<text x=\"%g\" y=\"%g\" text-anchor=middle>k: rows "
	    "taken from the top of each group</text>\n", (L + W - R) / 2,
	    H - 12);
	buf_printf(b, "<text transform=\"translate(14 %g) rotate(-90)\" "
	    "text-anchor=middle>recall@k (share of relevant rows)</text>\n",
	    (T + H - B) / 2);
	for (s = 0; s < 2; s++) {
		int pen = 0;

		if (s == 1 && !hasbase)
			break;
		buf_printf(b, "<path fill=none stroke=\"%s\" stroke-width=\"2\"%s "
		    "d=\"", s == 0 ? "var(--ac)" : "var(--mut)", s == 1 ?
		    " stroke-dasharray=\"6 4\"" : "");
		for (i = 0; i < n; i++) {
			double y = s == 0 ? v[i].recall : v[i].base;

			if (isnan(y)) {
				pen = 0;
				continue;
			}
			buf_printf(b, "%c%.1f %.1f", pen ? 'L' : 'M',
			    xpos(v[i].k, klo, kmax, L, W - R),
			    T + (1 - y) * (H - T - B));
			pen = 1;
		}
		buf_adds(b, "\"/>\n");
		buf_printf(b, "<line x1=\"%g\" y1=\"%g\" x2=\"%g\" y2=\"%g\" "
		    "stroke=\"%s\" stroke-width=\"2\"%s/><text x=\"%g\" y=\"%g\">",
		    W - R - 220, T + 10 + 16 * (double)s, W - R - 196,
		    T + 10 + 16 * (double)s, s == 0 ? "var(--ac)" :
		    "var(--mut)", s == 1 ? " stroke-dasharray=\"6 4\"" : "",
		    W - R - 190, T + 14 + 16 * (double)s);
		buf_adds(b, s == 0 ? "model: " : "baseline: ");
		esc(b, s == 0 ? (score ? score : "model") :
		    (base ? base : "baseline"));
		buf_adds(b, "</text>\n");
	}
	buf_adds(b, "</svg>\n<figcaption id=lc-cap>Lift curve: recall@k, the "
	    "share of each group's relevant rows found in its top k, for k "
	    "from 1 up; ");
	if (hasbase)
		buf_adds(b, "the solid line is the model, the dashed line the "
		    "baseline.");
	else
		buf_adds(b, "no baseline was evaluated.");
	if (n > 0) {
		buf_printf(b, " At k = %s the model finds %s of them",
		    html_num(n1, v[n - 1].k, 0, 0), isnan(v[n - 1].recall) ?
		    "missing" : html_pct(n1, v[n - 1].recall, 1, 0));
		if (hasbase && !isnan(v[n - 1].base))
			buf_printf(b, ", the baseline %s", html_pct(n1,
			    v[n - 1].base, 1, 0));
		buf_adds(b, ".");
	}
	buf_adds(b, "</figcaption>\n</figure>\n");
}

/* The metrics table of metrics.json: model, baseline and their ratio. */
static void
metrics_table(struct report *rp, const char *path)
{
	struct buf *b = &rp->page;
	struct scan sc, sm;
	size_t len, off, ml, boff = 0, bl = 0, loff = 0, ll = 0, i;
	char *t, *score, *base, name[256];
	char n1[HTML_NUMLEN], n2[HTML_NUMLEN];
	double rows, queries;
	int hasbase;

	scan_init(&sc);
	scan_init(&sm);
	t = scan_file(&sc, path, &len);
	if (!scan_obj_get(t, len, "model", 5, &off, &ml) || t[off] != '{')
		die("%s: member \"model\": expected an object", path);
	hasbase = scan_obj_get(t, len, "baseline_metrics", 16, &boff, &bl) &&
	    t[boff] == '{';
	if (hasbase && !(scan_obj_get(t, len, "lift", 4, &loff, &ll) &&
	    t[loff] == '{'))
		ll = 0;
	score = member_str(t, len, "score");
	base = member_str(t, len, "baseline");
	rows = member_num(t, len, "rows");
	queries = member_num(t, len, "queries");
	buf_adds(b, "<p>Evaluated ");
	if (score) {
		buf_adds(b, "score <code>");
		esc(b, score);
		buf_adds(b, "</code>");
	} else
		buf_adds(b, "the model's score");
	if (base) {
		buf_adds(b, " against baseline <code>");
		esc(b, base);
		buf_adds(b, "</code>");
	}
	buf_printf(b, " over %s rows in %s groups.</p>\n",
	    isnan(rows) ? "missing" : html_num(n1, rows, 0, 0),
	    isnan(queries) ? "missing" : html_num(n2, queries, 0, 0));
	if (!scan_text(&sm, t + off, ml))
		die("%s: member \"model\": invalid JSON", path);
	buf_adds(b, "<div class=scroll>\n<table id=metrics-table>\n"
	    "<caption class=meta>Means over groups (LightGBM's conventions, "
	    "see metrics.json)</caption>\n<thead><tr><th scope=col>Metric"
	    "</th><th class=n scope=col>Model</th>"
	    "<th class=n scope=col>Baseline</th>"
	    "<th class=n scope=col>Model / baseline</th></tr></thead>\n"
	    "<tbody>\n");
	for (i = 0; i < sm.n; i++) {
		const struct scan_member *m = &sm.m[i];
		const char *v = t + off;
		size_t nl;
		double mv, bv, lv;

		if (m->key_len >= sizeof(name))
			continue;
		nl = scan_unescape(name, v + m->key, m->key_len);
		name[nl] = '\0';
		mv = m->kind == SCAN_NUMBER ? scan_number(v + m->val,
		    m->val_len) : NAN;
		bv = hasbase ? member_num(t + boff, bl, name) : NAN;
		lv = ll ? member_num(t + loff, ll, name) : NAN;
		buf_adds(b, "<tr><td>");
		html_esc(b, name, nl);
		td_num(b, mv, html_num(n1, mv, 4, 0));
		td_num(b, bv, html_num(n1, bv, 4, 0));
		if (isnan(lv))
			td_missing(b);
		else
			buf_printf(b, "<td class=\"n %s\">%s&times;", lv > 1 ?
			    "up" : lv < 1 ? "dn" : "", html_num(n1, lv, 3, 0));
		buf_adds(b, "\n");
	}
	buf_adds(b, "</tbody>\n</table>\n</div>\n");
	free(score);
	free(base);
	free(t);
	scan_free(&sc);
	scan_free(&sm);
}

/* Feature importances of an asin-rank model: share of the total gain. */
static void
importance_chart(struct report *rp, const char *path)
{
	struct buf *b = &rp->page;
	struct scan sc;
	size_t len, off, al, eo, el, n = 0, i;
	char *t, *fmt;
	double total = 0, top = 0;
	const double W = 760, L = 220, R = 120, ROW = 22, T = 8;
	char n1[HTML_NUMLEN], n2[HTML_NUMLEN];
	struct imp {
		char *name;
		double gain, splits;
	} *v = NULL;

	scan_init(&sc);
	t = scan_file(&sc, path, &len);
	fmt = member_str(t, len, "format");
	if (fmt == NULL || strcmp(fmt, "asin-rank-model") != 0)
		die("%s: not an asin-rank model (member \"format\" is not "
		    "\"asin-rank-model\")", path);
	free(fmt);
	if (!scan_obj_get(t, len, "feature_importance", 18, &off, &al) ||
	    t[off] != '[')
		die("%s: member \"feature_importance\": expected an array",
		    path);
	while (scan_arr_get(t + off, al, (long long)n, &eo, &el)) {
		const char *e = t + off + eo;

		if (*e != '{')
			die("%s: feature_importance[%zu]: expected an object",
			    path, n);
		v = xreallocarray(v, n + 1, sizeof(*v));
		v[n].name = member_str(e, el, "feature");
		v[n].gain = member_num(e, el, "gain");
		v[n].splits = member_num(e, el, "splits");
		if (v[n].name == NULL)
			die("%s: feature_importance[%zu]: member \"feature\": "
			    "expected a string", path, n);
		if (!isnan(v[n].gain)) {
			total += v[n].gain;
			if (v[n].gain > top)
				top = v[n].gain;
		}
		n++;
	}
	buf_adds(b, "<h3>Feature importance</h3>\n");
	if (n == 0) {
		buf_adds(b, "<p class=na>The model lists no features.</p>\n");
		goto out;
	}
	buf_printf(b, "<figure>\n<svg class=ch viewBox=\"0 0 %g %g\" "
	    "role=img aria-labelledby=\"fi-cap\">\n", W,
	    T + ROW * (double)n + 8);
	for (i = 0; i < n; i++) {
		double y = T + ROW * (double)i;
		double w = top > 0 && !isnan(v[i].gain) ?
		    v[i].gain / top * (W - L - R) : 0;

		buf_adds(b, "<g><title>");
		esc(b, v[i].name);
		buf_printf(b, ": %s of the gain, %s splits</title>",
		    total > 0 && !isnan(v[i].gain) ?
		    html_pct(n1, v[i].gain / total, 1, 0) : "missing",
		    isnan(v[i].splits) ? "missing" :
		    html_num(n2, v[i].splits, 0, 0));
		buf_printf(b, "<text x=\"%g\" y=\"%g\" text-anchor=end>",
		    L - 8, y + 15);
		esc(b, v[i].name);
		buf_printf(b, "</text><rect x=\"%g\" y=\"%g\" width=\"%.1f\" "
		    "height=\"16\" fill=\"var(--ac)\"/><text x=\"%.1f\" y=\"%g\">"
		    "%s</text></g>\n", L, y + 2, w, L + w + 6, y + 15,
		    total > 0 && !isnan(v[i].gain) ?
		    html_pct(n1, v[i].gain / total, 1, 0) : "missing");
	}
	buf_adds(b, "</svg>\n<figcaption id=fi-cap>Each feature's share of "
	    "the total split gain of the model's trees.</figcaption>\n"
	    "</figure>\n<div class=scroll>\n<table id=importance-table>\n"
	    "<thead><tr><th scope=col>Feature</th><th class=n scope=col>Gain"
	    "</th><th class=n scope=col>Share</th><th class=n scope=col>"
	    "Splits</th></tr></thead>\n<tbody>\n");
	for (i = 0; i < n; i++) {
		buf_adds(b, "<tr><td>");
		esc(b, v[i].name);
		td_num(b, v[i].gain, html_num(n1, v[i].gain, 2, 0));
		if (total > 0 && !isnan(v[i].gain))
			td_num(b, v[i].gain / total, html_pct(n1, v[i].gain /
			    total, 1, 0));
		else
			td_missing(b);
		td_num(b, v[i].splits, html_num(n1, v[i].splits, 0, 0));
		buf_adds(b, "\n");
	}
	buf_adds(b, "</tbody>\n</table>\n</div>\n");
out:
	for (i = 0; i < n; i++)
		free(v[i].name);
	free(v);
	free(t);
	scan_free(&sc);
}

static void
section_model(struct report *rp)
{
	struct buf *b = &rp->page;

	buf_adds(b, "<section id=\"model\" aria-labelledby=\"h-model\">\n"
	    "<h2 id=\"h-model\">Model</h2>\n");
	if (rp->o->metrics) {
		char *p = xasprintf("%s/metrics.json", rp->o->metrics);
		char *score = NULL, *base = NULL;
		struct liftpt *v;
		size_t n, len;
		struct scan sc;
		char *t;

		buf_adds(b, "<h3>Evaluation</h3>\n");
		metrics_table(rp, p);
		scan_init(&sc);
		t = scan_file(&sc, p, &len);
		score = member_str(t, len, "score");
		base = member_str(t, len, "baseline");
		free(t);
		scan_free(&sc);
		free(p);
		p = xasprintf("%s/lift_curve.csv", rp->o->metrics);
		v = read_lift(p, &n);
		buf_adds(b, "<h3>Lift curve</h3>\n");
		if (n == 0)
			buf_adds(b, "<p class=na>lift_curve.csv holds no "
			    "rows.</p>\n");
		else
			lift_chart(rp, v, n, score, base);
		free(v);
		free(p);
		free(score);
		free(base);
	}
	if (rp->o->model)
		importance_chart(rp, rp->o->model);
	buf_adds(b, "</section>\n");
}

static void
page_tail(struct report *rp)
{
	buf_printf(&rp->page, "</main>\n<script>\n%s</script>\n</body>\n"
	    "</html>\n", js);
}

int
main(int argc, char *argv[])
{
	struct opts o;
	struct report rp;
	char date[16];
	int ch, rc, i;
	size_t k;

	diag_init(argv[0]);
	memset(&o, 0, sizeof(o));
	cli_init(&o.co, usage_text);
	o.days = 120;
	o.score = "score";
	o.cand = xcalloc((size_t)argc + 1, sizeof(char *));
	while ((ch = cli_getopt(argc, argv, "ho:qVv", longopts)) !=
	    -1) {
		if (cli_common_opt(&o.co, ch, optarg))
			continue;
		switch (ch) {
		case OPT_CANDIDATES:
			o.cand[o.ncand++] = optarg;
			break;
		case 'o':
			o.output = optarg;
			break;
		case OPT_HISTORY:
			o.history = optarg;
			break;
		case OPT_UPLIFT:
			o.uplift = optarg;
			break;
		case OPT_METRICS:
			o.metrics = optarg;
			break;
		case OPT_MODEL:
			o.model = optarg;
			break;
		case OPT_TITLE:
			o.title = optarg;
			break;
		case OPT_DATE:
			o.date = optarg;
			break;
		case OPT_DAYS:
			o.days = cli_int("--days", optarg, 1, 3660);
			break;
		case OPT_TOP:
			o.top = cli_int("--top", optarg, 1, 1000000000);
			break;
		case OPT_SCORE:
			o.score = optarg;
			break;
		default:
			usage_error("unexpected option");
		}
	}
	for (i = optind; i < argc; i++)
		o.cand[o.ncand++] = argv[i];
	if (o.ncand == 0 && o.uplift == NULL && o.metrics == NULL &&
	    o.model == NULL)
		o.read_stdin = 1;
	if (o.history != NULL && o.ncand == 0 && !o.read_stdin)
		usage_error("option --history needs candidates");
	{
		struct rec_field *f = rec_field(o.score);

		rec_field_free(f);
	}

	memset(&rp, 0, sizeof(rp));
	rp.o = &o;
	if (o.date != NULL &&
	    (rp.end_day = day_of(o.date, strlen(o.date))) == INT32_MIN)
		usage_error("option --date: expected a date YYYY-MM-DD, got "
		    "'%s'", o.date);
	acct_init(&rp.ac, &o.co);
	rp.rec = rec_new();
	buf_init(&rp.page);
	scan_init(&rp.explain);

	read_candidates(&rp);
	select_candidates(&rp);
	rp.ac.out += (long long)rp.nc;
	if (o.history != NULL) {
		index_series(&rp);
		rp.have_history = 1;
		read_history(&rp);
	}
	if (o.uplift != NULL)
		read_uplift(&rp);

	date[0] = '\0';
	if (o.date != NULL)
		snprintf(date, sizeof(date), "%s", o.date);
	else if (rp.nc > 0)
		snprintf(date, sizeof(date), "%s", rp.c[0].date);
	page_head(&rp, date[0] ? date : NULL);
	if (o.ncand || o.read_stdin)
		section_candidates(&rp);
	if (o.uplift != NULL)
		section_experiments(&rp);
	if (o.metrics != NULL || o.model != NULL)
		section_model(&rp);
	page_tail(&rp);

	if (o.output != NULL) {
		if (write_atomic(o.output, rp.page.data, rp.page.len) != 0)
			die("%s:", o.output);
	} else {
		struct out *out = out_new(1, "<stdout>");

		out_write(out, rp.page.data, rp.page.len);
		out_close(out);
	}
	rc = acct_finish(&rp.ac, NULL);

	for (k = 0; k < rp.nc; k++)
		free_cand(&rp.c[k]);
	free(rp.c);
	for (k = 0; k < rp.ns; k++) {
		free(rp.s[k].p);
		free(rp.s[k].title);
	}
	free(rp.s);
	free(rp.byasin);
	for (k = 0; k < rp.nparts; k++)
		free(rp.parts[k]);
	for (k = 0; k < rp.nsrm; k++) {
		free(rp.srm[k].segment);
		free(rp.srm[k].field);
		free(rp.srm[k].note);
		free(rp.srm[k].counts);
	}
	free(rp.srm);
	for (k = 0; k < rp.nm; k++) {
		free(rp.m[k].segment);
		free(rp.m[k].variant);
		free(rp.m[k].control);
		free(rp.m[k].metric);
		free(rp.m[k].note);
	}
	free(rp.m);
	buf_free(&rp.page);
	scan_free(&rp.explain);
	rec_free(rp.rec);
	free(o.cand);
	return rc;
}
