/*
 * feat.h - the windowed feature engine of asin-feat: one (asin,
 * marketplace) history of daily fact values in, the features of chosen
 * days out as JSON members ready to append to the fact row.  Windows are
 * calendar days ending on the row's day, so a missing day is a missing
 * value, never a shift (reference/data-sources.md sections 3.3 and 3.4).
 * The engine reads no JSON: the tool extracts the values, the engine only
 * does arithmetic on them, so it can be tested and cross-checked alone.
 */
#ifndef FEAT_H
#define FEAT_H

#include <stddef.h>

#include "asin.h"

/* The version of the feature definitions (schemas/feature.schema.json). */
#define FEAT_VERSION "1.0.0"

#define FEAT_MAX_WIN 8
#define FEAT_MAX_WINDAYS 3660

/*
 * The values of one fact row, as doubles; NAN is null or absent.  Booleans
 * are 0/1, dates are days since 1970-01-01.  cat/catlen are the raw JSON
 * text of the category the BSR is measured in (borrowed; NULL: unknown).
 */
enum {
	FV_DAY,
	FV_BSR,
	FV_PRICE,	/* price_buybox, else price_new, else price */
	FV_LIST,
	FV_OFFERS,
	FV_RATING,
	FV_REVIEWS,
	FV_DEAL,
	FV_DROPS,	/* bsr_drops: event-level rank drops inside the day */
	FV_KDROPS30,	/* Keepa's salesRankDrops30 as of the day */
	FV_KDROPS90,
	FV_LISTED,
	FV_TITLE,
	FV_BULLETS,
	FV_BULLET_LEN,
	FV_IMAGES,
	FV_VIDEO,
	FV_APLUS,
	FV_DESC,
	/*
	 * The listing quality score, feat_lqs() of the values above: a tool
	 * that holds many rows may work it out as it reads a row and keep
	 * one number instead of seven.  NAN: the engine works it out.
	 */
	FV_LQS,
	FV_N
};

/* Listing-quality components, in the order of --lqs-weights. */
enum {
	LQS_TITLE,
	LQS_BULLETS,
	LQS_BULLET_LEN,
	LQS_IMAGES,
	LQS_VIDEO,
	LQS_APLUS,
	LQS_RATING,
	LQS_REVIEWS,
	LQS_N
};

/* Per-category BSR to units/day curve: units = exp(a - b ln bsr). */
struct feat_curve {
	char *cat;		/* raw JSON text of the category; NULL: default */
	size_t catlen;
	double a, b;
};

/* What the flags decide; filled by the tool, read-only to the engine. */
struct feat_opts {
	int win[FEAT_MAX_WIN];	/* ascending, distinct, 1..FEAT_MAX_WINDAYS */
	size_t nwin;
	double min_cov;		/* fraction of the window's days */
	double min_drop;	/* theta of the daily drop count */
	double lqs_w[LQS_N];
	int horizon;		/* label horizon in days; 0: no labels */
	double top_q;		/* breakout: future median in the top q */
	double bsr_cap;		/* label_excluded above this bsr_median_7 */
	struct feat_curve *curve;	/* est_units when ncurve > 0 */
	size_t ncurve;
	char **only;		/* feature names to write (no _N); NULL: all */
};

/* One input row of a history. */
struct feat_row {
	double v[FV_N];
	const char *cat;
	size_t catlen;
	void *tag;		/* the caller's; the engine never reads it */
};

/* The new members of one row: `,"key":value' text and where each is. */
struct feat_member {
	const char *key;	/* static or owned by the engine */
	size_t off, len;	/* the value's text in the buffer */
};
struct feat_out {
	struct buf text;
	struct feat_member *m;
	size_t n, cap;
};

/*
 * One history being worked on; reused for every series so its arrays
 * grow to the longest span seen and stay.  Holds no row past the call
 * that loaded it.
 */
struct feat_hist;

/* An engine for the options o (borrowed; must outlive the engine). */
struct feat_hist *feat_new(const struct feat_opts *o);
void feat_free(struct feat_hist *);

/*
 * Load the rows of one series (rows[0..n-1], n > 0, any order, distinct
 * days; borrowed until the next feat_load()).  Returns 1, or 0 when two
 * rows share a day, with rows[*dup_a] and rows[*dup_b] the pair.
 */
int feat_load(struct feat_hist *, struct feat_row *rows, size_t n,
    size_t *dup_a, size_t *dup_b);
/* The loaded rows in ascending day order (borrowed). */
struct feat_row **feat_sorted(struct feat_hist *, size_t *n);

/*
 * Lay out the next segment of the loaded history: the rows between gaps
 * wider than any window or label reaches.  Returns 1 with the sorted
 * rows [*first, *first + *count) of the segment, 0 after the last.  The
 * calls below work on the current segment.
 */
int feat_next_segment(struct feat_hist *, size_t *first, size_t *count);
/* The first day of the segment and its length in days. */
void feat_span(struct feat_hist *, long *d0, size_t *span);

/*
 * The median BSR of the 7 days ending on day (NAN below coverage or
 * across a category change), for the cross-section of the labels; *cat
 * gets the category of those days (borrowed, NULL when unknown).
 */
double feat_median7(struct feat_hist *, long day, const char **cat,
    size_t *catlen);

/*
 * The features of the segment's row that falls on day, written to out
 * (cleared first) as members in schema order.  With labels on, thresh is
 * the top-q cutoff of the future median in the row's category on day +
 * horizon (NAN: unknown, so no breakout can be declared).
 */
void feat_row(struct feat_hist *, long day, double thresh,
    struct feat_out *out);

void feat_out_init(struct feat_out *);
void feat_out_free(struct feat_out *);

/* The key names of every member feat_row() may write, in order; the
 * array and names are owned by the engine. */
const char *const *feat_keys(struct feat_hist *, size_t *n);

/*
 * "YYYY-MM-DD" (exactly 10 bytes, a real day of the Gregorian calendar)
 * to days since 1970-01-01: 1 on success.
 */
int feat_parse_date(const char *s, size_t n, long *day);
/* Days since 1970-01-01 to "YYYY-MM-DD" (dst holds at least 11 bytes). */
void feat_fmt_date(char *dst, long day);

/*
 * Does any feature the options ask for read value fv (an FV_ index, or
 * FEAT_NEEDS_CATEGORY)?  A tool may leave the others NAN unread.
 */
#define FEAT_NEEDS_CATEGORY (-1)
int feat_needs(struct feat_hist *, int fv);

/*
 * Is name a feature of --features: a row-level name or a windowed one
 * without its _N?  The coverages and feat_version are always written.
 */
int feat_known(const char *name);

/* The listing quality score 0..10 of one row's values, NAN when no
 * component is present; weights renormalised over those present. */
double feat_lqs(const double *v, const double *w);

#endif
