/*
 * feat.c - unit tests of the windowed feature engine: calendar dates, the
 * listing quality score, duplicate days, segments at long gaps, and the
 * members one row gets (values worked out by hand).
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "asin.h"
#include "feat.h"
#include "tap.h"

static void
blank(struct feat_row *r, long day)
{
	size_t i;

	memset(r, 0, sizeof(*r));
	for (i = 0; i < FV_N; i++)
		r->v[i] = NAN;
	r->v[FV_DAY] = (double)day;
}

/* The text of member key in out, or NULL. */
static const char *
member(const struct feat_out *out, const char *key, char *dst, size_t n)
{
	size_t i, len;

	for (i = 0; i < out->n; i++)
		if (strcmp(out->m[i].key, key) == 0) {
			len = out->m[i].len < n - 1 ? out->m[i].len : n - 1;
			memcpy(dst, out->text.data + out->m[i].off, len);
			dst[len] = '\0';
			return dst;
		}
	return NULL;
}

static void
test_dates(void)
{
	long d;
	char s[11];

	tap_ok(feat_parse_date("1970-01-01", 10, &d) && d == 0, "epoch is day 0");
	tap_ok(feat_parse_date("2024-02-29", 10, &d) && d == 19782,
	    "2024-02-29 is day 19782");
	tap_ok(!feat_parse_date("2023-02-29", 10, &d), "2023-02-29 refused");
	tap_ok(!feat_parse_date("1900-02-29", 10, &d), "1900 is no leap year");
	tap_ok(feat_parse_date("2000-02-29", 10, &d), "2000 is a leap year");
	tap_ok(!feat_parse_date("2024-13-01", 10, &d), "month 13 refused");
	tap_ok(!feat_parse_date("2024-1-01", 9, &d), "short date refused");
	tap_ok(!feat_parse_date("2024-01-0a", 10, &d), "letter refused");
	tap_ok(feat_parse_date("1969-12-31", 10, &d) && d == -1,
	    "the day before the epoch is -1");
	feat_fmt_date(s, 19782);
	tap_str(s, "2024-02-29", "day 19782 prints back");
	feat_fmt_date(s, -1);
	tap_str(s, "1969-12-31", "day -1 prints back");
}

static void
test_lqs(void)
{
	static const double w[LQS_N] = { .20, .10, .05, .20, .05, .10, .15,
	    .15 };
	struct feat_row r;

	blank(&r, 0);
	tap_ok(isnan(feat_lqs(r.v, w)), "no component: null");
	r.v[FV_TITLE] = 40;
	tap_near(feat_lqs(r.v, w), 5, 1e-15, "title alone, 40 of 80: 5");
	r.v[FV_TITLE] = 250;
	tap_near(feat_lqs(r.v, w), 5, 1e-15, "title of 250 falls to 5");
	r.v[FV_TITLE] = 300;
	tap_near(feat_lqs(r.v, w), 0, 1e-15, "title of 300: 0");
	r.v[FV_TITLE] = 80;
	r.v[FV_APLUS] = 0;
	r.v[FV_DESC] = 1200;
	/* (.2 * 1 + .1 * 1) / .3 */
	tap_near(feat_lqs(r.v, w), 10, 1e-15,
	    "a long description counts as A+");
	r.v[FV_DESC] = NAN;
	tap_near(feat_lqs(r.v, w), 10 * .2 / .3, 1e-15, "no A+ is 0");
	r.v[FV_RATING] = 3.0;
	tap_near(feat_lqs(r.v, w), 10 * .2 / .45, 1e-15,
	    "rating under 3.5 scores 0");
}

static void
test_row(void)
{
	struct feat_opts o;
	struct feat_hist *h;
	struct feat_out out;
	struct feat_row rows[6];
	size_t a, b, first, n;
	char v[64];
	int i;

	memset(&o, 0, sizeof(o));
	o.win[0] = 3;
	o.nwin = 1;
	o.min_cov = 0.6;
	o.top_q = 1;
	o.bsr_cap = 500000;
	h = feat_new(&o);
	feat_out_init(&out);

	/* Days 10, 11, 12 and, past a long gap, 400: two segments. */
	for (i = 0; i < 4; i++)
		blank(&rows[i], i < 3 ? 10 + i : 400);
	rows[0].v[FV_BSR] = 100;
	rows[1].v[FV_BSR] = 50;
	rows[2].v[FV_BSR] = 25;
	rows[3].v[FV_BSR] = 7;
	rows[0].v[FV_PRICE] = 10;
	rows[2].v[FV_PRICE] = 14;
	tap_ok(feat_load(h, rows, 4, &a, &b), "distinct days load");
	tap_ok(feat_next_segment(h, &first, &n) && first == 0 && n == 3,
	    "first segment: three rows");
	feat_row(h, 12, INFINITY, &out);
	tap_str(member(&out, "bsr_median_3", v, sizeof(v)), "50", "median");
	tap_near(strtod(member(&out, "bsr_log_slope_3", v, sizeof(v)), NULL),
	    -M_LN2, 1e-14, "slope is -ln 2");
	tap_str(member(&out, "rank_drops_3", v, sizeof(v)), "2",
	    "two daily drops");
	tap_str(member(&out, "price_mean_3", v, sizeof(v)), "12",
	    "price mean of the in-stock days");
	tap_str(member(&out, "oos_pct_3", v, sizeof(v)), "0.3333333333333333",
	    "one day of three out of stock");
	tap_str(member(&out, "price_changes_3", v, sizeof(v)), "0",
	    "no two in-stock days in a row");
	tap_str(member(&out, "feat_version", v, sizeof(v)), "\"" FEAT_VERSION
	    "\"", "the version");
	tap_ok(member(&out, "bsr_log_mom_3", v, sizeof(v)) == NULL,
	    "no momentum in a window of 3");
	tap_ok(feat_next_segment(h, &first, &n) && first == 3 && n == 1,
	    "the gap starts a second segment");
	feat_row(h, 400, INFINITY, &out);
	tap_str(member(&out, "bsr_null_3", v, sizeof(v)), "\"coverage\"",
	    "one day of three is below coverage");
	tap_str(member(&out, "bsr_last", v, sizeof(v)), "7", "bsr_last");
	tap_ok(!feat_next_segment(h, &first, &n), "no third segment");

	/* Two rows on one day: the pair is named. */
	blank(&rows[4], 11);
	tap_ok(!feat_load(h, rows, 5, &a, &b) && a == 1 && b == 4,
	    "a duplicate day names both rows");

	feat_out_free(&out);
	feat_free(h);
}

int
main(void)
{
	test_dates();
	test_lqs();
	test_row();
	return tap_done();
}
