/*
 * feat.c - rolling per-ASIN features over calendar-day windows and the
 * forward labels (reference/data-sources.md sections 3.3 and 3.4).  A
 * history is cut into segments at gaps no window or label can reach
 * across, and each segment is laid out densely by day, so a window is a
 * plain index range and a missing day is a NAN; memory is bounded by the
 * rows of one series times the longest reach, whatever its dates.
 */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "asin.h"
#include "feat.h"

/* Row-level features, in output order. */
enum {
	RF_BSR_LAST,
	RF_RATING_LAST,
	RF_OFFERS_LAST,
	RF_DISCOUNT,
	RF_REVIEW_ACCEL,
	RF_AGE,
	RF_LQS,
	RF_N
};
static const char *const rf_name[RF_N] = {
	"bsr_last", "rating_last", "offers_new_last", "discount_vs_list",
	"review_accel", "age_days", "lqs"
};

/* Features of each window, in output order; names get "_N". */
enum {
	WF_COV,
	WF_BSR_COV,
	WF_PRICE_COV,
	WF_BSR_MEDIAN,
	WF_BSR_SLOPE,
	WF_BSR_MOM,
	WF_BSR_CV,
	WF_BSR_NULL,
	WF_DROPS,
	WF_DROPS_SRC,
	WF_DROPS_DAY,
	WF_EST_UNITS,
	WF_PRICE_MEAN,
	WF_PRICE_CV,
	WF_PRICE_RANGE,
	WF_PRICE_CHANGES,
	WF_OOS,
	WF_REV_VEL,
	WF_REV_GROWTH,
	WF_REV_DROP,
	WF_RATING_DELTA,
	WF_OFFERS_DELTA,
	WF_N
};
static const char *const wf_name[WF_N] = {
	"coverage", "bsr_coverage", "price_coverage", "bsr_median",
	"bsr_log_slope", "bsr_log_mom", "bsr_cv", "bsr_null", "rank_drops",
	"rank_drops_src", "drops_per_day", "est_units", "price_mean",
	"price_cv", "price_range_pct", "price_changes", "oos_pct",
	"review_velocity", "review_growth_pct", "review_drop",
	"rating_delta", "offers_new_delta"
};

/* Labels; names get "_H". */
enum {
	LF_GAIN,
	LF_BREAKOUT,
	LF_GRADE,
	LF_PROMO,
	LF_EXCLUDED,
	LF_N
};
static const char *const lf_name[LF_N] = {
	"gain", "breakout", "grade", "promo_driven", "label_excluded"
};

/* How a value is written. */
enum vkind {
	VK_NUM,
	VK_BOOL,	/* NAN null, 0 false, else true */
	VK_STR		/* from a small table of strings; NULL is null */
};

struct key {
	char *name;	/* NULL: not written under these options */
	char *pre;	/* ,"name": */
	size_t prelen;
	enum vkind kind;
	/* The last number written and its text: a series repeats values
	 * from day to day (a price, a count), so it is often the same. */
	uint64_t lastbits;
	char last[32];
	size_t lastlen;
};

/* The prefix counts of a segment. */
enum {
	PC_ROW,		/* days with a row */
	PC_BSR,
	PC_PRICE,
	PC_REV,
	PC_RATING,
	PC_OFFERS,
	PC_CHG,		/* price changes from the day before */
	PC_DROP,	/* daily BSR drops from the day before */
	PC_DROPS,	/* days with an upstream count of drops */
	PC_DROPSUM,	/* their sum */
	PC_N
};

/*
 * The sorted finite values of x over days [lo, hi] of the segment of
 * generation gen: a window's median by sliding it a day at a time,
 * removing and inserting one value, instead of selecting afresh.  The
 * median depends on the values alone, so it is the same number.
 */
struct mwin {
	const double *x;
	unsigned gen;
	long lo, hi;
	double *v;
	size_t n, cap;
};

/* The medians' caches: one per window series, so each slides. */
enum {
	MW_B7,		/* BSR, 7 days ending on the row's day */
	MW_B7F,		/* BSR, 7 days ending on the label's day */
	MW_P30,		/* price, 30 days: the promo test */
	MW_FIXED	/* then per window: BSR, price, first 7 days' BSR */
};
#define MW_BSR(w) (MW_FIXED + 3 * (w))
#define MW_PRICE(w) (MW_FIXED + 3 * (w) + 1)
#define MW_MOM(w) (MW_FIXED + 3 * (w) + 2)

struct feat_hist {
	const struct feat_opts *o;
	struct feat_row **row;	/* sorted by day */
	size_t n, cap;
	size_t gap;		/* a larger gap between days splits segments */
	size_t sa, sb;		/* current segment: rows [sa, sb) */
	long d0;		/* its first day */
	size_t span, spancap;
	struct feat_row **at;	/* per day of the segment; NULL: no row */
	double *bsr, *lbsr, *price, *rev, *rating, *offers, *deal, *drops;
	double *tmp;
	size_t tmpcap;
	/*
	 * Per segment, so a window costs its valid days, not its length:
	 * prefix counts (pc[k][d] counts days before d), the valid BSR and
	 * price days packed in day order, and for the category test the
	 * nearest BSR day with a known category at or before and at or after
	 * each day, and before each such day the last one whose category
	 * differs (-1: none).
	 */
	size_t *pc[PC_N];
	long *bday, *pday;	/* the days with a BSR, with a price */
	double *bval, *pval;	/* their ln BSR, their price */
	long *cprev, *cnext, *cdiff;
	unsigned gen;		/* counts segments: the medians' caches */
	struct mwin mw[MW_FIXED + 3 * FEAT_MAX_WIN];
	char *covtxt;		/* k/N written, for every window and k */
	size_t *covoff;		/* window w's k/N is covoff[covbase[w] + k] */
	size_t covbase[FEAT_MAX_WIN];
	size_t rowmax;		/* bytes the members of a row can take */
	struct key *keys;	/* RF_N + nwin * WF_N + LF_N */
	size_t nkeys;
	const char **names;	/* the written keys, for feat_keys() */
	size_t nnames;
	/* Which families of window features anything asks for. */
	int want_bsr, want_drops, want_price, want_oos, want_rev, want_rating,
	    want_offers;
};

static void build_keys(struct feat_hist *);
static void build_coverages(struct feat_hist *);
static void set_key(struct key *, const char *, int, enum vkind);
static int cmp_day(const void *, const void *);
static void grow(struct feat_hist *, size_t);
static double median_of(struct feat_hist *, int, const double *, long,
    long, size_t *);
static int cat_change(struct feat_hist *, long, long, const char **,
    size_t *);
static double window_median7(struct feat_hist *, int, long,
    const char **, size_t *);
static void put(struct feat_out *, struct key *, double, const char *);
static void put_cov(struct feat_hist *, struct feat_out *, struct key *,
    size_t, size_t);
static const struct feat_curve *find_curve(const struct feat_opts *,
    const char *, size_t);

struct feat_hist *
feat_new(const struct feat_opts *o)
{
	struct feat_hist *h = xcalloc(1, sizeof(*h));

	h->o = o;
	/* Windows look back win + 1 days (endpoints, day-to-day changes),
	 * labels forward horizon days, back 6 and 29 for the price. */
	h->gap = (size_t)(o->win[o->nwin - 1] + 1 > 30 ?
	    o->win[o->nwin - 1] + 1 : 30) + (size_t)o->horizon + 7;
	build_keys(h);
	return h;
}

void
feat_free(struct feat_hist *h)
{
	size_t i;

	if (h == NULL)
		return;
	for (i = 0; i < h->nkeys; i++) {
		free(h->keys[i].name);
		free(h->keys[i].pre);
	}
	free(h->keys);
	free(h->names);
	free(h->covtxt);
	free(h->covoff);
	free(h->row);
	free(h->at);
	free(h->bsr);
	free(h->lbsr);
	free(h->price);
	free(h->rev);
	free(h->rating);
	free(h->offers);
	free(h->deal);
	free(h->drops);
	free(h->tmp);
	for (i = 0; i < PC_N; i++)
		free(h->pc[i]);
	free(h->bday);
	free(h->pday);
	free(h->bval);
	free(h->pval);
	free(h->cprev);
	free(h->cnext);
	free(h->cdiff);
	for (i = 0; i < sizeof(h->mw) / sizeof(h->mw[0]); i++)
		free(h->mw[i].v);
	free(h);
}

static void
set_key(struct key *k, const char *name, int suffix, enum vkind kind)
{
	k->name = suffix > 0 ? xasprintf("%s_%d", name, suffix) :
	    xstrdup(name);
	k->pre = xasprintf(",\"%s\":", k->name);
	k->prelen = strlen(k->pre);
	k->kind = kind;
	k->lastbits = 0x7ff8000000000000ULL;	/* a NAN: never written */
	k->lastlen = 0;
}

static int
wanted(const struct feat_opts *o, const char *name)
{
	size_t i;

	if (o->only == NULL)
		return 1;
	for (i = 0; o->only[i] != NULL; i++)
		if (strcmp(o->only[i], name) == 0)
			return 1;
	return 0;
}

int
feat_needs(struct feat_hist *h, int fv)
{
	const struct key *k = h->keys;
	int lqs = k[RF_LQS].name != NULL, lab = h->o->horizon > 0;

	switch (fv) {
	case FV_DAY:
	case FV_BSR:
	case FV_PRICE:		/* the coverages are always written */
		return 1;
	case FV_LIST:
		return k[RF_DISCOUNT].name != NULL;
	case FV_OFFERS:
		return h->want_offers || k[RF_OFFERS_LAST].name != NULL;
	case FV_RATING:
		return h->want_rating || lqs || k[RF_RATING_LAST].name != NULL;
	case FV_REVIEWS:
		return h->want_rev || lqs;
	case FV_DEAL:
		return lab;
	case FV_DROPS:
	case FV_KDROPS30:
	case FV_KDROPS90:
		return h->want_drops;
	case FV_LISTED:
		return k[RF_AGE].name != NULL;
	case FEAT_NEEDS_CATEGORY:
		return h->want_bsr || h->want_drops || lab;
	default:		/* the listing-quality inputs */
		return lqs;
	}
}

int
feat_known(const char *name)
{
	size_t i;

	for (i = 0; i < RF_N; i++)
		if (strcmp(rf_name[i], name) == 0)
			return 1;
	for (i = 0; i < WF_N; i++)
		if (strcmp(wf_name[i], name) == 0)
			return 1;
	return 0;
}

static void
build_keys(struct feat_hist *h)
{
	const struct feat_opts *o = h->o;
	struct key *k;
	size_t i, w, f;

	h->nkeys = RF_N + o->nwin * WF_N + LF_N + 1;
	h->keys = xcalloc(h->nkeys, sizeof(*h->keys));
	for (i = 0; i < RF_N; i++)
		if ((i != RF_REVIEW_ACCEL || o->nwin >= 2) &&
		    wanted(o, rf_name[i]))
			set_key(&h->keys[i], rf_name[i], 0, VK_NUM);
	for (w = 0; w < o->nwin; w++)
		for (f = 0; f < WF_N; f++) {
			k = &h->keys[RF_N + w * WF_N + f];
			/* Momentum compares the last 7 days with the first
			 * 7: in a window of 7 they are the same days. */
			if (f == WF_BSR_MOM && o->win[w] <= 7)
				continue;
			if (f == WF_EST_UNITS && o->ncurve == 0)
				continue;
			/* The row always says what coverage it had. */
			if (f > WF_PRICE_COV && !wanted(o, wf_name[f]))
				continue;
			if (f >= WF_BSR_MEDIAN && f <= WF_BSR_NULL)
				h->want_bsr = 1;
			else if (f == WF_EST_UNITS)
				h->want_bsr = 1;
			else if (f >= WF_DROPS && f <= WF_DROPS_DAY)
				h->want_drops = 1;
			else if (f >= WF_PRICE_MEAN && f <= WF_PRICE_CHANGES)
				h->want_price = 1;
			else if (f == WF_OOS)
				h->want_oos = 1;
			else if (f >= WF_REV_VEL && f <= WF_REV_DROP)
				h->want_rev = 1;
			else if (f == WF_RATING_DELTA)
				h->want_rating = 1;
			else if (f == WF_OFFERS_DELTA)
				h->want_offers = 1;
			set_key(k, wf_name[f], o->win[w], f == WF_BSR_NULL ||
			    f == WF_DROPS_SRC ? VK_STR : f == WF_REV_DROP ?
			    VK_BOOL : VK_NUM);
		}
	/* review_accel needs the velocities. */
	if (h->keys[RF_REVIEW_ACCEL].name != NULL)
		h->want_rev = 1;
	if (o->horizon > 0)
		for (i = 0; i < LF_N; i++)
			set_key(&h->keys[RF_N + o->nwin * WF_N + i],
			    lf_name[i], o->horizon, i == LF_BREAKOUT ||
			    i == LF_PROMO || i == LF_EXCLUDED ? VK_BOOL :
			    VK_NUM);
	set_key(&h->keys[h->nkeys - 1], "feat_version", 0, VK_STR);
	h->names = xcalloc(h->nkeys, sizeof(*h->names));
	for (i = 0; i < h->nkeys; i++)
		if (h->keys[i].name != NULL) {
			h->names[h->nnames++] = h->keys[i].name;
			/* The longest value: a number, "category_change". */
			h->rowmax += h->keys[i].prelen + 32;
		}
	build_coverages(h);
}

/* The text of every coverage k/N a window can have, written once. */
static void
build_coverages(struct feat_hist *h)
{
	const struct feat_opts *o = h->o;
	struct buf b;
	size_t w, k, n = 0;
	char tmp[40];

	for (w = 0; w < o->nwin; w++) {
		h->covbase[w] = n;
		n += (size_t)o->win[w] + 2;
	}
	h->covoff = xcalloc(n, sizeof(*h->covoff));
	buf_init(&b);
	for (w = 0; w < o->nwin; w++) {
		for (k = 0; k <= (size_t)o->win[w]; k++) {
			h->covoff[h->covbase[w] + k] = b.len;
			buf_add(&b, tmp, fmt_double(tmp, (double)k /
			    (double)o->win[w]));
		}
		h->covoff[h->covbase[w] + k] = b.len;
	}
	h->covtxt = b.data;
}

const char *const *
feat_keys(struct feat_hist *h, size_t *n)
{
	*n = h->nnames;
	return h->names;
}

static int
cmp_day(const void *a, const void *b)
{
	double x = (*(struct feat_row *const *)a)->v[FV_DAY];
	double y = (*(struct feat_row *const *)b)->v[FV_DAY];

	return x < y ? -1 : x > y;
}

int
feat_load(struct feat_hist *h, struct feat_row *rows, size_t n,
    size_t *dup_a, size_t *dup_b)
{
	size_t i;

	if (n > h->cap) {
		h->cap = n;
		h->row = xreallocarray(h->row, n, sizeof(*h->row));
	}
	for (i = 0; i < n; i++)
		h->row[i] = &rows[i];
	h->n = n;
	qsort(h->row, n, sizeof(*h->row), cmp_day);
	for (i = 1; i < n; i++)
		if (h->row[i]->v[FV_DAY] == h->row[i - 1]->v[FV_DAY]) {
			*dup_a = (size_t)(h->row[i - 1] - rows);
			*dup_b = (size_t)(h->row[i] - rows);
			if (*dup_a > *dup_b) {
				size_t t = *dup_a;

				*dup_a = *dup_b;
				*dup_b = t;
			}
			return 0;
		}
	h->sa = h->sb = 0;
	return 1;
}

struct feat_row **
feat_sorted(struct feat_hist *h, size_t *n)
{
	*n = h->n;
	return h->row;
}

static void
grow(struct feat_hist *h, size_t span)
{
	size_t k;

	if (span <= h->spancap)
		return;
	h->spancap = span;
	h->at = xreallocarray(h->at, span, sizeof(*h->at));
	h->bsr = xreallocarray(h->bsr, span, sizeof(double));
	h->lbsr = xreallocarray(h->lbsr, span, sizeof(double));
	h->price = xreallocarray(h->price, span, sizeof(double));
	h->rev = xreallocarray(h->rev, span, sizeof(double));
	h->rating = xreallocarray(h->rating, span, sizeof(double));
	h->offers = xreallocarray(h->offers, span, sizeof(double));
	h->deal = xreallocarray(h->deal, span, sizeof(double));
	h->drops = xreallocarray(h->drops, span, sizeof(double));
	for (k = 0; k < PC_N; k++)
		h->pc[k] = xreallocarray(h->pc[k], span + 1, sizeof(size_t));
	h->bday = xreallocarray(h->bday, span, sizeof(long));
	h->pday = xreallocarray(h->pday, span, sizeof(long));
	h->bval = xreallocarray(h->bval, span, sizeof(double));
	h->pval = xreallocarray(h->pval, span, sizeof(double));
	h->cprev = xreallocarray(h->cprev, span, sizeof(long));
	h->cnext = xreallocarray(h->cnext, span, sizeof(long));
	h->cdiff = xreallocarray(h->cdiff, span, sizeof(long));
}

/* Has day d of the segment a BSR in a known category? */
static int
has_cat(const struct feat_hist *h, long d)
{
	return h->at[d] != NULL && h->at[d]->cat != NULL &&
	    !isnan(h->bsr[d]);
}

static int
same_cat(const struct feat_row *x, const struct feat_row *y)
{
	return x->cat == y->cat || (x->catlen == y->catlen &&
	    memcmp(x->cat, y->cat, x->catlen) == 0);
}

/* The counts, packed values and category links of the segment laid out
 * in the arrays. */
static void
index_segment(struct feat_hist *h)
{
	size_t **pc = h->pc, d, nb = 0, np = 0, k;
	long last = -1, s = (long)h->span, i;
	double lim = 1 - h->o->min_drop;

	for (k = 0; k < PC_N; k++)
		pc[k][0] = 0;
	for (d = 0; d < h->span; d++) {
		pc[PC_ROW][d + 1] = pc[PC_ROW][d] + (h->at[d] != NULL);
		pc[PC_BSR][d + 1] = pc[PC_BSR][d] + !isnan(h->bsr[d]);
		pc[PC_PRICE][d + 1] = pc[PC_PRICE][d] + !isnan(h->price[d]);
		pc[PC_REV][d + 1] = pc[PC_REV][d] + !isnan(h->rev[d]);
		pc[PC_RATING][d + 1] = pc[PC_RATING][d] +
		    !isnan(h->rating[d]);
		pc[PC_OFFERS][d + 1] = pc[PC_OFFERS][d] +
		    !isnan(h->offers[d]);
		pc[PC_CHG][d + 1] = pc[PC_CHG][d] + (d > 0 &&
		    !isnan(h->price[d]) && !isnan(h->price[d - 1]) &&
		    h->price[d] != h->price[d - 1]);
		pc[PC_DROP][d + 1] = pc[PC_DROP][d] + (d > 0 &&
		    !isnan(h->bsr[d]) && !isnan(h->bsr[d - 1]) &&
		    h->bsr[d] < h->bsr[d - 1] * lim);
		pc[PC_DROPS][d + 1] = pc[PC_DROPS][d] + !isnan(h->drops[d]);
		pc[PC_DROPSUM][d + 1] = pc[PC_DROPSUM][d] +
		    (isnan(h->drops[d]) ? 0 : (size_t)h->drops[d]);
		if (!isnan(h->bsr[d])) {
			h->bday[nb] = (long)d;
			h->bval[nb++] = h->lbsr[d];
		}
		if (!isnan(h->price[d])) {
			h->pday[np] = (long)d;
			h->pval[np++] = h->price[d];
		}
		if (has_cat(h, (long)d)) {
			if (last < 0)
				h->cdiff[d] = -1;
			else if (same_cat(h->at[d], h->at[last]))
				h->cdiff[d] = h->cdiff[last];
			else
				h->cdiff[d] = last;
			last = (long)d;
		}
		h->cprev[d] = last;
	}
	for (i = s - 1, last = s; i >= 0; i--) {
		if (has_cat(h, i))
			last = i;
		h->cnext[i] = last;
	}
	h->gen++;
}

int
feat_next_segment(struct feat_hist *h, size_t *first, size_t *count)
{
	size_t a = h->sb, b, j, d;
	const struct feat_row *r;
	double x;

	if (a >= h->n)
		return 0;
	for (b = a + 1; b < h->n; b++)
		if (h->row[b]->v[FV_DAY] - h->row[b - 1]->v[FV_DAY] >
		    (double)h->gap)
			break;
	h->sa = a;
	h->sb = b;
	h->d0 = (long)h->row[a]->v[FV_DAY];
	/* Six days past the last row still have a 7-day median, which the
	 * labels of the days before them can need. */
	h->span = (size_t)((long)h->row[b - 1]->v[FV_DAY] - h->d0) + 1 + 6;
	grow(h, h->span);
	for (d = 0; d < h->span; d++) {
		h->at[d] = NULL;
		h->bsr[d] = h->lbsr[d] = h->price[d] = h->rev[d] = NAN;
		h->rating[d] = h->offers[d] = h->deal[d] = h->drops[d] = NAN;
	}
	for (j = a; j < b; j++) {
		r = h->row[j];
		d = (size_t)((long)r->v[FV_DAY] - h->d0);
		h->at[d] = h->row[j];
		x = r->v[FV_BSR];
		if (isfinite(x) && x > 0) {
			h->bsr[d] = x;
			h->lbsr[d] = log(x);
		}
		x = r->v[FV_PRICE];
		if (isfinite(x) && x > 0)
			h->price[d] = x;
		x = r->v[FV_REVIEWS];
		if (isfinite(x) && x >= 0)
			h->rev[d] = x;
		h->rating[d] = r->v[FV_RATING];
		h->offers[d] = r->v[FV_OFFERS];
		h->deal[d] = r->v[FV_DEAL];
		h->drops[d] = r->v[FV_DROPS];
	}
	if (h->span > h->tmpcap) {
		h->tmpcap = h->span;
		h->tmp = xreallocarray(h->tmp, h->span, sizeof(double));
	}
	index_segment(h);
	*first = a;
	*count = b - a;
	return 1;
}

static int
cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static size_t
lower_bound(const double *v, size_t n, double x)
{
	size_t lo = 0, hi = n, mid;

	while (lo < hi) {
		mid = lo + (hi - lo) / 2;
		if (v[mid] < x)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

static void
mw_insert(struct mwin *m, double x)
{
	size_t k;

	if (isnan(x))
		return;
	k = lower_bound(m->v, m->n, x);
	memmove(m->v + k + 1, m->v + k, (m->n - k) * sizeof(double));
	m->v[k] = x;
	m->n++;
}

static void
mw_remove(struct mwin *m, double x)
{
	size_t k;

	if (isnan(x))
		return;
	k = lower_bound(m->v, m->n, x);
	memmove(m->v + k, m->v + k + 1, (m->n - k - 1) * sizeof(double));
	m->n--;
}

/*
 * Median of the finite x[i] for i in [a, b] clipped to the segment, from
 * cache slot mw; *nv gets how many there were.  NAN when none.  The
 * middle two of an even count average as stats_median() does.
 */
static double
median_of(struct feat_hist *h, int mw, const double *x, long a, long b,
    size_t *nv)
{
	struct mwin *m = &h->mw[mw];
	double lo;
	long j;
	size_t k;

	if (a < 0)
		a = 0;
	if (b >= (long)h->span)
		b = (long)h->span - 1;
	if (b < a) {
		*nv = 0;
		return NAN;
	}
	if (m->cap < h->spancap) {
		m->cap = h->spancap;
		m->v = xreallocarray(m->v, m->cap, sizeof(double));
		m->gen = h->gen - 1;
	}
	if (m->gen != h->gen || m->x != x || a < m->lo || b < m->hi ||
	    a > m->hi) {
		m->gen = h->gen;
		m->x = x;
		m->n = 0;
		for (j = a; j <= b; j++)
			if (!isnan(x[j]))
				m->v[m->n++] = x[j];
		qsort(m->v, m->n, sizeof(double), cmp_double);
	} else {
		for (j = m->lo; j < a; j++)
			mw_remove(m, x[j]);
		for (j = m->hi + 1; j <= b; j++)
			mw_insert(m, x[j]);
	}
	m->lo = a;
	m->hi = b;
	*nv = m->n;
	if (m->n == 0)
		return NAN;
	k = (m->n - 1) / 2;
	lo = m->v[k];
	if (m->n % 2)
		return lo;
	return lo + (m->v[k + 1] - lo) / 2;
}

/*
 * Do the days [a, b] with a BSR name more than one category?  Days whose
 * category is unknown take no part.  *cat gets the one category (NULL
 * when none is known).
 */
static int
cat_change(struct feat_hist *h, long a, long b, const char **cat,
    size_t *catlen)
{
	const struct feat_row *r;
	long last;

	if (a < 0)
		a = 0;
	if (b >= (long)h->span)
		b = (long)h->span - 1;
	*cat = NULL;
	*catlen = 0;
	if (b < a || (last = h->cprev[b]) < a)
		return 0;
	/* Two categories in [a, b]: one differs from the last day's, and
	 * the latest such day is in it. */
	if (h->cdiff[last] >= a)
		return 1;
	r = h->at[h->cnext[a]];
	*cat = r->cat;
	*catlen = r->catlen;
	return 0;
}

/* The median BSR of the 7 days ending on segment day i, with coverage
 * and without a category change; NAN otherwise. */
static double
window_median7(struct feat_hist *h, int mw, long i, const char **cat,
    size_t *catlen)
{
	size_t nv;
	double m;

	*cat = NULL;
	*catlen = 0;
	if (i < 0 || i >= (long)h->span)
		return NAN;
	m = median_of(h, mw, h->bsr, i - 6, i, &nv);
	if ((double)nv / 7 < h->o->min_cov)
		return NAN;
	if (cat_change(h, i - 6, i, cat, catlen))
		return NAN;
	return m;
}

double
feat_median7(struct feat_hist *h, long day, const char **cat, size_t *catlen)
{
	return window_median7(h, MW_B7F, day - h->d0, cat, catlen);
}

void
feat_span(struct feat_hist *h, long *d0, size_t *span)
{
	*d0 = h->d0;
	*span = h->span;
}

static const struct feat_curve *
find_curve(const struct feat_opts *o, const char *cat, size_t catlen)
{
	const struct feat_curve *def = NULL;
	size_t i;

	for (i = 0; i < o->ncurve; i++) {
		if (o->curve[i].cat == NULL)
			def = &o->curve[i];
		else if (cat != NULL && o->curve[i].catlen == catlen &&
		    memcmp(o->curve[i].cat, cat, catlen) == 0)
			return &o->curve[i];
	}
	return def;
}

double
feat_lqs(const double *v, const double *w)
{
	double s[LQS_N], num = 0, den = 0, x;
	int have[LQS_N] = { 0 };
	size_t k;

	x = v[FV_TITLE];
	if (isfinite(x) && x >= 0) {
		s[LQS_TITLE] = x <= 200 ? fmin(x / 80, 1) :
		    fmax(0, 1 - (x - 200) / 100);
		have[LQS_TITLE] = 1;
	}
	x = v[FV_BULLETS];
	if (isfinite(x) && x >= 0) {
		s[LQS_BULLETS] = fmin(x, 5) / 5;
		have[LQS_BULLETS] = 1;
	}
	x = v[FV_BULLET_LEN];
	if (isfinite(x) && x >= 0) {
		s[LQS_BULLET_LEN] = fmin(x / 150, 1);
		have[LQS_BULLET_LEN] = 1;
	}
	x = v[FV_IMAGES];
	if (isfinite(x) && x >= 0) {
		s[LQS_IMAGES] = fmin(x, 7) / 7;
		have[LQS_IMAGES] = 1;
	}
	x = v[FV_VIDEO];
	if (!isnan(x)) {
		s[LQS_VIDEO] = x != 0;
		have[LQS_VIDEO] = 1;
	}
	/* A+ content, or a description of 1000 characters or more. */
	x = v[FV_APLUS];
	if (!isnan(x) && x != 0) {
		s[LQS_APLUS] = 1;
		have[LQS_APLUS] = 1;
	} else if (isfinite(v[FV_DESC]) && v[FV_DESC] >= 0) {
		s[LQS_APLUS] = v[FV_DESC] >= 1000;
		have[LQS_APLUS] = 1;
	} else if (!isnan(x)) {
		s[LQS_APLUS] = 0;
		have[LQS_APLUS] = 1;
	}
	x = v[FV_RATING];
	if (isfinite(x)) {
		s[LQS_RATING] = fmin(fmax((x - 3.5) / 1.3, 0), 1);
		have[LQS_RATING] = 1;
	}
	x = v[FV_REVIEWS];
	if (isfinite(x) && x >= 0) {
		s[LQS_REVIEWS] = fmin(log10(1 + x) / 3, 1);
		have[LQS_REVIEWS] = 1;
	}
	for (k = 0; k < LQS_N; k++)
		if (have[k] && w[k] > 0) {
			num += w[k] * s[k];
			den += w[k];
		}
	return den > 0 ? 10 * num / den : NAN;
}

/*
 * Append member k with value v (or string s for VK_STR).  feat_row() has
 * reserved room for every member of the row: the text is written in
 * place.
 */
static void
put(struct feat_out *out, struct key *k, double v, const char *s)
{
	struct feat_member *m;
	char *p;
	size_t off, n;
	uint64_t bits;

	if (k->name == NULL)
		return;
	p = out->text.data + out->text.len;
	memcpy(p, k->pre, k->prelen);
	p += k->prelen;
	off = (size_t)(p - out->text.data);
	switch (k->kind) {
	case VK_NUM:
		if (!isfinite(v)) {
			memcpy(p, "null", 4);
			p += 4;
			break;
		}
		memcpy(&bits, &v, sizeof(bits));
		if (bits != k->lastbits) {
			k->lastlen = fmt_double(k->last, v);
			k->lastbits = bits;
		}
		memcpy(p, k->last, k->lastlen);
		p += k->lastlen;
		break;
	case VK_BOOL:
		if (isnan(v)) {
			memcpy(p, "null", 4);
			p += 4;
		} else if (v != 0) {
			memcpy(p, "true", 4);
			p += 4;
		} else {
			memcpy(p, "false", 5);
			p += 5;
		}
		break;
	case VK_STR:
		/* The engine's own words: nothing to escape. */
		if (s == NULL) {
			memcpy(p, "null", 4);
			p += 4;
		} else {
			n = strlen(s);
			*p++ = '"';
			memcpy(p, s, n);
			p += n;
			*p++ = '"';
		}
		break;
	}
	out->text.len = (size_t)(p - out->text.data);
	m = &out->m[out->n++];
	m->key = k->name;
	m->off = off;
	m->len = out->text.len - off;
}

/* Append coverage member k: window w's count cnt over its length. */
static void
put_cov(struct feat_hist *h, struct feat_out *out, struct key *k, size_t w,
    size_t cnt)
{
	struct feat_member *m;
	const size_t *co = h->covoff + h->covbase[w] + cnt;
	char *p = out->text.data + out->text.len;

	if (k->name == NULL)
		return;
	memcpy(p, k->pre, k->prelen);
	p += k->prelen;
	memcpy(p, h->covtxt + co[0], co[1] - co[0]);
	m = &out->m[out->n++];
	m->key = k->name;
	m->off = out->text.len + k->prelen;
	m->len = co[1] - co[0];
	out->text.len = m->off + m->len;
}

void
feat_out_init(struct feat_out *out)
{
	memset(out, 0, sizeof(*out));
	buf_init(&out->text);
}

void
feat_out_free(struct feat_out *out)
{
	buf_free(&out->text);
	free(out->m);
}

/* Is feature f of window w written? */
#define WANT(h, w, f) ((h)->keys[RF_N + (w) * WF_N + (f)].name != NULL)

/* Is the count of valid days enough for a window of n days? */
#define COVERED(h, cnt, n) ((double)(cnt) / (double)(n) >= (h)->o->min_cov)

void
feat_row(struct feat_hist *h, long day, double thresh, struct feat_out *out)
{
	const struct feat_opts *o = h->o;
	const struct feat_row *r;
	const struct feat_curve *cv;
	double wv[FEAT_MAX_WIN][WF_N];
	const char *ws[FEAT_MAX_WIN][WF_N];
	double vel[FEAT_MAX_WIN];
	double x, y, s, s2, mx, my, sxx, sxy, mn, mxp, m1, m2;
	double now, fut, gain, pmed;
	const char *cat, *c2;
	size_t catlen, cl2, nrow, nb, np, nr, nra, nof, nd, ndv, w, f, k, nv;
	size_t b0, b1, p0, p1, cnt[FEAT_MAX_WIN][WF_PRICE_COV + 1];
	long i, j, a, a0, N, t, dsum;
	int change, promo;

	i = day - h->d0;
	r = h->at[i];
	out->text.len = 0;
	out->n = 0;
	buf_reserve(&out->text, h->rowmax);
	if (out->cap < h->nkeys) {
		out->cap = h->nkeys;
		out->m = xreallocarray(out->m, out->cap, sizeof(*out->m));
	}

	for (w = 0; w < o->nwin; w++) {
		double *v = wv[w];
		const char **vs = ws[w];

		N = o->win[w];
		a = i - N + 1;
		a0 = a < 0 ? 0 : a;
		for (f = 0; f < WF_N; f++) {
			v[f] = NAN;
			vs[f] = NULL;
		}
		/* Counts of [a0, i] from the prefix counts. */
#define CNT(k) (h->pc[k][i + 1] - h->pc[k][a0])
		nrow = CNT(PC_ROW);
		nb = CNT(PC_BSR);
		np = CNT(PC_PRICE);
		nr = CNT(PC_REV);
		nra = CNT(PC_RATING);
		nof = CNT(PC_OFFERS);
		cnt[w][WF_COV] = nrow;
		cnt[w][WF_BSR_COV] = nb;
		cnt[w][WF_PRICE_COV] = np;
		/* The packed BSR and price days of the window: [b0, b1) and
		 * [p0, p1). */
		b1 = h->pc[PC_BSR][i + 1];
		b0 = b1 - nb;
		p1 = h->pc[PC_PRICE][i + 1];
		p0 = p1 - np;

		/* BSR level, trend, volatility, within one category. */
		change = h->want_bsr || h->want_drops ?
		    cat_change(h, a, i, &cat, &catlen) : 0;
		if (!h->want_bsr)
			vs[WF_BSR_NULL] = NULL;
		else if (change)
			vs[WF_BSR_NULL] = "category_change";
		else if (!COVERED(h, nb, N))
			vs[WF_BSR_NULL] = "coverage";
		else {
			if (WANT(h, w, WF_BSR_MEDIAN))
				v[WF_BSR_MEDIAN] = median_of(h, MW_BSR(w),
				    h->bsr, a, i, &nv);
			/* Two passes: the mean first, then deviations, so
			 * no sum of squares cancels.  The sum of the day
			 * offsets is of small integers: exact either way. */
			s = 0;
			dsum = 0;
			for (k = b0; k < b1; k++) {
				s += h->bval[k];
				dsum += h->bday[k] - i;
			}
			mx = (double)dsum;
			my = s / (double)nb;
			mx /= (double)nb;
			s = 0;
			for (k = b0; k < b1; k++)
				s += h->bval[k] - my;
			my += s / (double)nb;
			sxx = sxy = s2 = 0;
			for (k = b0; k < b1; k++) {
				x = (double)(h->bday[k] - i) - mx;
				y = h->bval[k] - my;
				sxx += x * x;
				sxy += x * y;
				s2 += y * y;
			}
			if (nb >= 2 && sxx > 0)
				v[WF_BSR_SLOPE] = sxy / sxx;
			v[WF_BSR_CV] = sqrt(s2 / (double)nb);
			if (WANT(h, w, WF_BSR_MOM)) {
				m1 = median_of(h, MW_B7, h->bsr, i - 6, i,
				    &nv);
				if (!COVERED(h, nv, 7))
					m1 = NAN;
				m2 = median_of(h, MW_MOM(w), h->bsr, a, a + 6,
				    &nv);
				if (!COVERED(h, nv, 7))
					m2 = NAN;
				v[WF_BSR_MOM] = log(m1) - log(m2);
			}
			if (WANT(h, w, WF_EST_UNITS) && (cv = find_curve(o, cat,
			    catlen)) != NULL) {
				s = 0;
				for (k = b0; k < b1; k++)
					s += exp(cv->a - cv->b * h->bval[k]);
				v[WF_EST_UNITS] = s;
			}
		}

		/* Rank drops: Keepa's count of the day, else the events
		 * counted upstream, else day-to-day improvements. */
		x = N == 30 ? r->v[FV_KDROPS30] : N == 90 ?
		    r->v[FV_KDROPS90] : NAN;
		nd = CNT(PC_DROPS);
		ndv = CNT(PC_DROPSUM);
		if (h->want_drops && !isnan(x)) {
			v[WF_DROPS] = x;
			vs[WF_DROPS_SRC] = "keepa";
		} else if (h->want_drops && nd > 0) {
			if (!change && COVERED(h, nd, N)) {
				v[WF_DROPS] = (double)ndv;
				vs[WF_DROPS_SRC] = "local";
			}
		} else if (h->want_drops && !change && COVERED(h, nb, N)) {
			/* From the day before the window on. */
			k = CNT(PC_DROP);
			v[WF_DROPS] = (double)k;
			vs[WF_DROPS_SRC] = "daily";
		}
		v[WF_DROPS_DAY] = v[WF_DROPS] / (double)N;

		/* Price on in-stock days. */
		if (h->want_price && np > 0 && COVERED(h, np, N)) {
			s = 0;
			mn = INFINITY;
			mxp = -INFINITY;
			/* Packed prices are finite and positive: a compare
			 * is fmin() and fmax() without the calls. */
			for (k = p0; k < p1; k++) {
				s += h->pval[k];
				if (h->pval[k] < mn)
					mn = h->pval[k];
				if (h->pval[k] > mxp)
					mxp = h->pval[k];
			}
			mx = s / (double)np;
			/* One correction pass: a constant price gets its own
			 * value as the mean and a CV of exactly 0. */
			s2 = 0;
			for (k = p0; k < p1; k++)
				s2 += h->pval[k] - mx;
			mx += s2 / (double)np;
			s2 = 0;
			for (k = p0; k < p1; k++)
				s2 += (h->pval[k] - mx) * (h->pval[k] - mx);
			v[WF_PRICE_MEAN] = mx;
			v[WF_PRICE_CV] = sqrt(s2 / (double)np) / mx;
			if (WANT(h, w, WF_PRICE_RANGE))
				v[WF_PRICE_RANGE] = (mxp - mn) /
				    median_of(h, MW_PRICE(w), h->price, a, i,
				    &nv);
			/* From the day before the window on. */
			v[WF_PRICE_CHANGES] = (double)CNT(PC_CHG);
		}
#undef CNT
		if (nrow > 0 && COVERED(h, nrow, N))
			v[WF_OOS] = (double)(nrow - np) / (double)nrow;

		/* Reviews, rating and offers: from day D-N to D. */
		t = i - N;
		if (h->want_rev && t >= 0 && !isnan(h->rev[i]) &&
		    !isnan(h->rev[t]) &&
		    COVERED(h, nr, N)) {
			x = h->rev[i] - h->rev[t];
			v[WF_REV_DROP] = x < 0;
			if (x >= 0) {
				v[WF_REV_VEL] = x / (double)N;
				v[WF_REV_GROWTH] = x / fmax(h->rev[t], 1);
			}
		}
		if (h->want_rating && t >= 0 && !isnan(h->rating[i]) &&
		    !isnan(h->rating[t]) &&
		    COVERED(h, nra, N))
			v[WF_RATING_DELTA] = h->rating[i] - h->rating[t];
		if (h->want_offers && t >= 0 && !isnan(h->offers[i]) &&
		    !isnan(h->offers[t]) &&
		    COVERED(h, nof, N))
			v[WF_OFFERS_DELTA] = h->offers[i] - h->offers[t];
		vel[w] = v[WF_REV_VEL];
	}

	/* The row-level features. */
	put(out, &h->keys[RF_BSR_LAST], h->bsr[i], NULL);
	put(out, &h->keys[RF_RATING_LAST], h->rating[i], NULL);
	put(out, &h->keys[RF_OFFERS_LAST], h->offers[i], NULL);
	x = r->v[FV_LIST];
	put(out, &h->keys[RF_DISCOUNT], isfinite(x) && x > 0 ?
	    1 - h->price[i] / x : NAN, NULL);
	put(out, &h->keys[RF_REVIEW_ACCEL], o->nwin >= 2 ? vel[0] - vel[1] :
	    NAN, NULL);
	x = (double)day - r->v[FV_LISTED];
	put(out, &h->keys[RF_AGE], x >= 0 ? x : NAN, NULL);
	if (h->keys[RF_LQS].name != NULL)
		put(out, &h->keys[RF_LQS], isnan(r->v[FV_LQS]) ?
		    feat_lqs(r->v, o->lqs_w) : r->v[FV_LQS], NULL);
	for (w = 0; w < o->nwin; w++) {
		for (f = WF_COV; f <= WF_PRICE_COV; f++)
			put_cov(h, out, &h->keys[RF_N + w * WF_N + f], w,
			    cnt[w][f]);
		for (f = WF_PRICE_COV + 1; f < WF_N; f++)
			put(out, &h->keys[RF_N + w * WF_N + f], wv[w][f],
			    ws[w][f]);
	}

	if (o->horizon > 0) {
		struct key *lk = &h->keys[RF_N + o->nwin * WF_N];
		double lab[LF_N];

		for (f = 0; f < LF_N; f++)
			lab[f] = NAN;
		now = window_median7(h, MW_B7, i, &cat, &catlen);
		fut = window_median7(h, MW_B7F, i + o->horizon, &c2, &cl2);
		if (!isnan(now))
			lab[LF_EXCLUDED] = now > o->bsr_cap;
		if (!isnan(now) && !isnan(fut) &&
		    !cat_change(h, i - 6, i + o->horizon, &c2, &cl2)) {
			gain = log(now) - log(fut);
			lab[LF_GAIN] = gain;
			lab[LF_GRADE] = gain < 0.2 ? 0 : gain < 0.5 ? 1 :
			    gain < M_LN2 ? 2 : 3;
			if (!isnan(thresh))
				lab[LF_BREAKOUT] = gain >= M_LN2 &&
				    fut <= thresh;
			pmed = median_of(h, MW_P30, h->price, i - 29, i, &nv);
			if (!COVERED(h, nv, 30))
				pmed = NAN;
			promo = 0;
			for (j = i + 1; j <= i + o->horizon; j++) {
				if (j >= (long)h->span)
					break;
				if (!isnan(h->deal[j]) && h->deal[j] != 0)
					promo = 1;
				if (!isnan(pmed) && !isnan(h->price[j]) &&
				    h->price[j] < 0.8 * pmed)
					promo = 1;
			}
			lab[LF_PROMO] = promo;
		}
		for (f = 0; f < LF_N; f++)
			put(out, &lk[f], lab[f], NULL);
	}
	put(out, &h->keys[h->nkeys - 1], NAN, FEAT_VERSION);
}

/*
 * Civil-calendar conversions after Howard Hinnant's days_from_civil: exact
 * for every Gregorian date, no time zone, no libc.
 */
int
feat_parse_date(const char *s, size_t n, long *day)
{
	static const int mdays[] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31,
	    30, 31 };
	long y, m, d, era, yoe, doy, doe;
	size_t k;

	if (n != 10 || s[4] != '-' || s[7] != '-')
		return 0;
	for (k = 0; k < 10; k++)
		if (k != 4 && k != 7 && (s[k] < '0' || s[k] > '9'))
			return 0;
	y = (s[0] - '0') * 1000 + (s[1] - '0') * 100 + (s[2] - '0') * 10 +
	    (s[3] - '0');
	m = (s[5] - '0') * 10 + (s[6] - '0');
	d = (s[8] - '0') * 10 + (s[9] - '0');
	if (m < 1 || m > 12 || d < 1)
		return 0;
	if (d > mdays[m - 1] + (m == 2 && y % 4 == 0 &&
	    (y % 100 != 0 || y % 400 == 0)))
		return 0;
	y -= m <= 2;
	era = (y >= 0 ? y : y - 399) / 400;
	yoe = y - era * 400;
	doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	*day = era * 146097 + doe - 719468;
	return 1;
}

void
feat_fmt_date(char *dst, long z)
{
	long era, doe, yoe, y, doy, mp, d, m;

	z += 719468;
	era = (z >= 0 ? z : z - 146096) / 146097;
	doe = z - era * 146097;
	yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	y = yoe + era * 400;
	doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	mp = (5 * doy + 2) / 153;
	d = doy - (153 * mp + 2) / 5 + 1;
	m = mp + (mp < 10 ? 3 : -9);
	y += m <= 2;
	/* Dates come from feat_parse_date(): years 0000 to 9999. */
	dst[0] = (char)('0' + y / 1000 % 10);
	dst[1] = (char)('0' + y / 100 % 10);
	dst[2] = (char)('0' + y / 10 % 10);
	dst[3] = (char)('0' + y % 10);
	dst[4] = '-';
	dst[5] = (char)('0' + m / 10);
	dst[6] = (char)('0' + m % 10);
	dst[7] = '-';
	dst[8] = (char)('0' + d / 10);
	dst[9] = (char)('0' + d % 10);
	dst[10] = '\0';
}
