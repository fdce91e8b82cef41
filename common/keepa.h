/*
 * keepa.h - Keepa product objects as daily as-of values.  Keepa keeps
 * every history as an event log of changes ([t0, v0, t1, v1, ...], t in
 * Keepa minutes, or [t, price, shipping, ...] for the *_SHIPPING series):
 * a step function whose value holds until the next point.  The value of a
 * day D is the one in force at D 23:59 UTC, the last point with
 * t <= end of D; -1 inside a series means "none at that time" and is
 * never averaged.  data-sources.md sections 1.4 to 1.9.
 *
 * Contract: keepa_product_parse() reads a product object's JSON text,
 * which must already be valid JSON (the record scanner checked it), and
 * keeps only offsets into it and the decoded series, so the text must
 * outlive the product; everything the product allocates is its own and
 * freed by keepa_product_free().  One product may be parsed again and
 * again (its arrays are reused).  Nothing here builds jv trees.
 */
#ifndef ASIN_KEEPA_H
#define ASIN_KEEPA_H

#include <stddef.h>
#include <stdint.h>

#define KEEPA_EPOCH_MIN 21564000LL	/* minutes 1970-01-01 to 2011-01-01 */
#define KEEPA_NONE INT64_MIN		/* no value: no series, no point yet, -1 */

/* csv[] indexes this file decodes (Product.CsvType). */
enum {
	KEEPA_AMAZON = 0,
	KEEPA_NEW = 1,
	KEEPA_SALES = 3,
	KEEPA_LISTPRICE = 4,
	KEEPA_LIGHTNING_DEAL = 8,
	KEEPA_COUNT_NEW = 11,
	KEEPA_RATING = 16,
	KEEPA_COUNT_REVIEWS = 17,
	KEEPA_BUY_BOX_SHIPPING = 18,
	KEEPA_CSV_MAX = 36
};

/* One decoded history: points in time order (as Keepa sends them). */
struct keepa_series {
	int64_t *t;		/* Keepa minutes */
	int64_t *v;		/* value; price + shipping for stride 3 */
	size_t n, cap;
	int present;		/* the payload had an array (maybe empty) */
};

/* A string of the payload: offsets of its JSON text (quotes included). */
struct keepa_span {
	size_t off, len;	/* len 0: absent or null */
};

struct scan;

struct keepa_product {
	const char *txt;	/* borrowed product text */
	size_t len;
	struct scan *sc;	/* the index of the product's members */
	int product_type;	/* -1 when absent */
	struct keepa_series csv[KEEPA_CSV_MAX];
	struct keepa_series ref_hist;	/* salesRankReferenceHistory */
	int64_t ref;		/* salesRankReference; -1 none */
	int64_t root;		/* rootCategory; 0 unknown */
	struct keepa_series *ranks;	/* salesRanks, one per category */
	int64_t *rank_cat;
	size_t nranks, capranks;
	struct keepa_series sold_hist;	/* monthlySoldHistory */
	int64_t monthly_sold;	/* KEEPA_NONE when absent */
	int64_t last_update;	/* Keepa minutes; KEEPA_NONE when absent */
	int64_t listed_since;	/* Keepa minutes; 0 or KEEPA_NONE unknown */
	/* the listing as it is now (not a history) */
	struct keepa_span title;
	long features;		/* -1: null or absent */
	double feature_chars;	/* sum of characters of the features */
	long images;		/* images[] or imagesCSV entries; -1 unknown */
	int has_video;		/* -1 unknown (not asked for) */
	int has_aplus;
	long desc_chars;	/* -1: null or absent */
	struct keepa_span tree;	/* categoryTree array, for names */
	/*
	 * stats.salesRankDrops30 and 90, Keepa's own counts over the days
	 * ending at lastUpdate; KEEPA_NONE when absent or negative (n/a).
	 * have_stats: the product has a stats object (asked for).
	 */
	int have_stats;
	int64_t drops30, drops90;
};

/* The as-of values of one UTC day.  KEEPA_NONE where there is none. */
struct keepa_day {
	int64_t bsr;		/* csv[3] */
	int bsr_lost;		/* csv[3] is -1 at the end of the day */
	int64_t bsr_cat;	/* reference history, reference, else root */
	int64_t sub_bsr;	/* best rank of the other salesRanks */
	int64_t sub_cat;
	int64_t price_buybox;	/* csv[18], price + shipping, smallest unit */
	int64_t price_new;	/* csv[1] */
	int64_t price_amazon;	/* csv[0] */
	int64_t list_price;	/* csv[4] */
	int64_t offers_new;	/* csv[11] */
	int64_t rating10;	/* csv[16], stars times 10 */
	int64_t review_count;	/* csv[17], the listing's rating count */
	int64_t monthly_sold;	/* monthlySoldHistory as of D */
	int deal_active;	/* csv[8] >= 0 at D; -1: no series */
	int64_t bsr_events;	/* csv[3] points inside D */
	int64_t bsr_drops;	/* csv[3] improvements inside D */
};

void keepa_product_init(struct keepa_product *);
void keepa_product_free(struct keepa_product *);

/*
 * Decode the product object txt[0..len) (valid JSON, borrowed until the
 * next parse).  Returns 1, or 0 with a message in err (size errsz) that
 * names the member, e.g. "csv[3]: expected an array of integers".
 * Unknown members are ignored; absent ones leave their defaults.
 */
int keepa_product_parse(struct keepa_product *, const char *txt,
    size_t len, char *err, size_t errsz);

/*
 * Decode one history array text (valid JSON) with stride 2 or 3 into s
 * (reused).  null leaves s empty and not present.  Returns 0 when an
 * element is not an integer or the count is not a multiple of stride.
 */
int keepa_series_parse(struct keepa_series *s, const char *json, size_t n,
    int stride);
void keepa_series_free(struct keepa_series *);

/*
 * Index of the last point with t <= km, or -1 when none (binary search;
 * Keepa's times only grow).  Points with equal times: the last wins.
 */
long keepa_asof(const struct keepa_series *, int64_t km);

/* Keepa minutes of the first and last minute of UTC day (days since 1970). */
int64_t keepa_day_first(long day);
int64_t keepa_day_last(long day);
/* Unix seconds of a Keepa minute. */
int64_t keepa_unix(int64_t km);

/*
 * Rank drops of a rank series in the Keepa minutes [from, to]: points
 * whose rank is below the point before's (any improvement, threshold 0),
 * neither being -1, so a rank regained after a -1 is no drop.  The point
 * before may lie before from: the drops of consecutive days add up to
 * the drops of their window (data-sources.md 3.3, rank_drops_N).
 */
int64_t keepa_drops(const struct keepa_series *, int64_t from, int64_t to);

/* The as-of values of day into *d. */
void keepa_day(const struct keepa_product *, long day, struct keepa_day *d);

/* Whether any decoded series has a point at or before the end of day. */
int keepa_has_data(const struct keepa_product *, long day);

/*
 * The name of category id in categoryTree, as its JSON string text
 * (borrowed, quotes included), or NULL.
 */
const char *keepa_cat_name(const struct keepa_product *, int64_t id,
    size_t *len);

#endif
