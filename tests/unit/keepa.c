/*
 * keepa.c - unit tests of common/keepa.c: Keepa time (the worked examples
 * of data-sources.md 1.7), series decoding with stride 2 and 3, the as-of
 * value at the end of a UTC day (a point at 23:59 counts, one at 00:00 the
 * next day does not), -1 as missing and lost, the category fallbacks,
 * sub ranks, event counts, rank drops, names from categoryTree and
 * malformed series.
 */
#include <stdlib.h>
#include <string.h>

#include "asin.h"
#include "keepa.h"
#include "tap.h"

/* Keepa minute of "YYYY-MM-DD" day d plus minutes m. */
static int64_t
km(long day, int m)
{
	return keepa_day_first(day) + m;
}

#define DAY0 20574L	/* 2026-05-01 */

static void
test_time(void)
{
	tap_ok(keepa_unix(411180) * 1000 == 1318510800000LL,
	    "411180 is 2011-10-13T13:00Z (KeepaTime javadoc)");
	tap_ok(keepa_unix(8075762) == 1778385720,
	    "lastUpdate 8075762 is 2026-05-10T04:02Z");
	tap_ok(keepa_day_last(DAY0) + 1 == keepa_day_first(DAY0 + 1),
	    "a day ends the minute before the next begins");
	tap_ok(keepa_unix(keepa_day_first(DAY0)) == DAY0 * 86400L,
	    "the first minute of a day is its midnight");
}

static void
test_series(void)
{
	struct keepa_series s;
	const char *a = "[ 10, 5 ,20,-1, 30,7 ]";
	const char *b = "[10,500,99,20,-1,0,30,700,-1]";

	memset(&s, 0, sizeof(s));
	tap_ok(keepa_series_parse(&s, a, strlen(a), 2) && s.n == 3 &&
	    s.t[1] == 20 && s.v[1] == -1 && s.present, "stride 2, spaces");
	tap_ok(keepa_asof(&s, 9) == -1 && keepa_asof(&s, 10) == 0 &&
	    keepa_asof(&s, 29) == 1 && keepa_asof(&s, 1000) == 2,
	    "as-of: the last point at or before");
	tap_ok(keepa_series_parse(&s, b, strlen(b), 3) && s.n == 3 &&
	    s.v[0] == 599 && s.v[1] == -1 && s.v[2] == 700,
	    "stride 3: price plus shipping, -1 kept, negative shipping is 0");
	tap_ok(keepa_series_parse(&s, "null", 4, 2) && s.n == 0 && !s.present,
	    "null is no series");
	tap_ok(keepa_series_parse(&s, "[]", 2, 2) && s.n == 0 && s.present,
	    "[] is an empty series");
	tap_ok(!keepa_series_parse(&s, "[1,2,3]", 7, 2), "odd count refused");
	tap_ok(!keepa_series_parse(&s, "[1,2.5]", 7, 2), "fraction refused");
	tap_ok(!keepa_series_parse(&s, "[1,\"2\"]", 7, 2), "string refused");
	tap_ok(!keepa_series_parse(&s, "{}", 2, 2), "object refused");
	keepa_series_free(&s);
}

/*
 * Rank drops: any improvement on the point before, neither -1, counted
 * where the improving point lies, so days add up to their window.
 */
static void
test_drops(void)
{
	struct keepa_series s;
	char a[256];
	int len;

	memset(&s, 0, sizeof(s));
	/* day 0: 50, 40 (drop), -1, 30 (regained: no drop); day 1: 20
	 * (drop, on day 0's 30), 25, 25, 24 (drop); day 2: nothing */
	len = snprintf(a, sizeof(a), "[%lld,50,%lld,40,%lld,-1,%lld,30,"
	    "%lld,20,%lld,25,%lld,25,%lld,24]",
	    (long long)km(DAY0, 0), (long long)km(DAY0, 10),
	    (long long)km(DAY0, 20), (long long)km(DAY0, 1439),
	    (long long)km(DAY0 + 1, 0), (long long)km(DAY0 + 1, 5),
	    (long long)km(DAY0 + 1, 6), (long long)km(DAY0 + 1, 1439));
	tap_ok(keepa_series_parse(&s, a, (size_t)len, 2) && s.n == 8,
	    "rank series parses");
	tap_ok(keepa_drops(&s, keepa_day_first(DAY0), keepa_day_last(DAY0)) ==
	    1, "day 0: one drop; none from or to -1");
	tap_ok(keepa_drops(&s, keepa_day_first(DAY0 + 1),
	    keepa_day_last(DAY0 + 1)) == 2,
	    "day 1: the first point compares with day 0's last; ties no drop");
	tap_ok(keepa_drops(&s, keepa_day_first(DAY0 + 2),
	    keepa_day_last(DAY0 + 2)) == 0, "a day without points: 0");
	tap_ok(keepa_drops(&s, keepa_day_first(DAY0),
	    keepa_day_last(DAY0 + 2)) == 3, "the window is the sum of its days");
	tap_ok(keepa_drops(&s, keepa_day_first(DAY0 - 1),
	    keepa_day_last(DAY0 - 1)) == 0, "before the first point: 0");
	keepa_series_free(&s);
}

static void
test_product(void)
{
	struct keepa_product kp;
	struct keepa_day d;
	char txt[2048], err[128];
	const char *name;
	size_t n;
	int len;

	len = snprintf(txt, sizeof(txt),
	    "{\"asin\":\"B0TEST0001\",\"rootCategory\":100,"
	    "\"salesRankReference\":-1,"
	    "\"salesRankReferenceHistory\":[%lld,200],"
	    "\"categoryTree\":[{\"catId\":100,\"name\":\"Root\"},"
	    "{\"catId\":200,\"name\":\"Other \\u00e9\"}],"
	    "\"salesRanks\":{\"100\":[%lld,50],\"300\":[%lld,9,%lld,4],"
	    "\"400\":[%lld,4]},"
	    "\"csv\":[null,[%lld,1999],null,[%lld,50,%lld,40,%lld,-1],"
	    "null,null,null,null,[%lld,-1],null,null,null,null,null,null,"
	    "null,[%lld,0,%lld,45]],"
	    "\"features\":[\"ab\",\"c\\u00e9\"],\"title\":\"T\\u00e9st\","
	    "\"lastUpdate\":%lld}",
	    (long long)km(DAY0 + 3, 0), (long long)km(DAY0, 60),
	    (long long)km(DAY0, 60), (long long)km(DAY0 + 1, 60),
	    (long long)km(DAY0, 60), (long long)km(DAY0, 60),
	    (long long)km(DAY0, 60), (long long)km(DAY0, 1439),
	    (long long)km(DAY0 + 2, 0), (long long)km(DAY0, 0),
	    (long long)km(DAY0, 0), (long long)km(DAY0 + 1, 0),
	    (long long)km(DAY0 + 2, 0));
	keepa_product_init(&kp);
	tap_ok(keepa_product_parse(&kp, txt, (size_t)len, err, sizeof(err)),
	    "a product parses");
	keepa_day(&kp, DAY0 - 1, &d);
	tap_ok(d.bsr == KEEPA_NONE && !d.bsr_lost && d.bsr_cat == 100,
	    "before the first point: none, category from rootCategory");
	tap_ok(!keepa_has_data(&kp, DAY0 - 1) && keepa_has_data(&kp, DAY0),
	    "has_data from the first point on");
	keepa_day(&kp, DAY0, &d);
	tap_ok(d.bsr == 40 && d.bsr_events == 2,
	    "a point at 23:59 is in the day; two points counted");
	tap_ok(d.bsr_drops == 1, "50 to 40: one drop in the day");
	tap_ok(d.price_new == 1999 && d.price_amazon == KEEPA_NONE,
	    "price as of the day; no series is none");
	tap_ok(d.rating10 == 0 && d.deal_active == 0, "rating 0; deal -1 at end");
	tap_ok(d.sub_bsr == 4 && d.sub_cat == 400,
	    "sub rank: best of the other categories, ties to the lower id");
	keepa_day(&kp, DAY0 + 1, &d);
	tap_ok(d.bsr == 40 && d.rating10 == 45 && d.bsr_events == 0 &&
	    d.bsr_drops == 0, "values hold to the next point");
	tap_ok(d.sub_bsr == 4 && d.sub_cat == 300, "tie of 4: lower id 300");
	keepa_day(&kp, DAY0 + 2, &d);
	tap_ok(d.bsr == KEEPA_NONE && d.bsr_lost && d.bsr_events == 1 &&
	    d.bsr_drops == 0, "-1 at 00:00: rank lost that day, no drop");
	tap_ok(d.bsr_cat == 100, "reference -1 falls back to rootCategory");
	keepa_day(&kp, DAY0 + 3, &d);
	tap_ok(d.bsr_cat == 200, "reference history as of the day");
	name = keepa_cat_name(&kp, 200, &n);
	tap_ok(name != NULL && n == 14 && memcmp(name, "\"Other \\u00e9\"",
	    n) == 0, "category name as JSON text");
	tap_ok(keepa_cat_name(&kp, 999, &n) == NULL, "unknown category");
	tap_ok(kp.features == 2 && kp.feature_chars == 4,
	    "features counted in characters");
	tap_ok(!kp.have_stats && kp.drops30 == KEEPA_NONE &&
	    kp.drops90 == KEEPA_NONE, "no stats object: no Keepa drops");
	tap_ok(kp.last_update == km(DAY0 + 2, 0) && kp.has_video == -1 &&
	    kp.images == -1 && kp.desc_chars == -1, "absent members unknown");
	len = snprintf(txt, sizeof(txt), "{\"stats\":{\"salesRankDrops30\":35,"
	    "\"salesRankDrops90\":-1,\"salesRankDrops180\":165}}");
	tap_ok(keepa_product_parse(&kp, txt, (size_t)len, err, sizeof(err)) &&
	    kp.have_stats && kp.drops30 == 35 && kp.drops90 == KEEPA_NONE,
	    "stats.salesRankDrops30/90; -1 is none");
	len = snprintf(txt, sizeof(txt), "{\"csv\":[null,[1,\"x\"]]}");
	tap_ok(!keepa_product_parse(&kp, txt, (size_t)len, err, sizeof(err)),
	    "bad series refused");
	tap_str(err, "csv[1]: expected null or an array of integers in groups "
	    "of 2", "message names the series");
	tap_ok(!keepa_product_parse(&kp, "[1]", 3, err, sizeof(err)),
	    "not an object");
	/* Found by tests/fuzz/dedupe.c: keepa_unix() overflowed on it. */
	len = snprintf(txt, sizeof(txt), "{\"lastUpdate\":999999999999999999}");
	tap_ok(!keepa_product_parse(&kp, txt, (size_t)len, err, sizeof(err)),
	    "a lastUpdate past the year 9999 refused");
	tap_str(err, "lastUpdate: Keepa minute 999999999999999999 is outside "
	    "the years 1970 to 9999", "message names the member");
	len = snprintf(txt, sizeof(txt), "{\"listedSince\":-21564001}");
	tap_ok(!keepa_product_parse(&kp, txt, (size_t)len, err, sizeof(err)),
	    "a listedSince before 1970 refused");
	len = snprintf(txt, sizeof(txt), "{\"lastUpdate\":4201807679,"
	    "\"listedSince\":-1}");
	tap_ok(keepa_product_parse(&kp, txt, (size_t)len, err, sizeof(err)) &&
	    keepa_unix(kp.last_update) == 253402300740LL,
	    "9999-12-31T23:59Z is the last minute taken");
	len = snprintf(txt, sizeof(txt), "{\"csv\":[[],[]],\"salesRanks\":{}}");
	tap_ok(keepa_product_parse(&kp, txt, (size_t)len, err, sizeof(err)),
	    "empty histories parse");
	keepa_day(&kp, DAY0, &d);
	tap_ok(d.bsr == KEEPA_NONE && !d.bsr_lost && d.bsr_events ==
	    KEEPA_NONE && d.bsr_drops == KEEPA_NONE &&
	    d.price_amazon == KEEPA_NONE &&
	    !keepa_has_data(&kp, DAY0), "empty histories: nothing, no crash");
	keepa_product_free(&kp);
}

int
main(void)
{
	test_time();
	test_series();
	test_drops();
	test_product();
	return tap_done();
}
