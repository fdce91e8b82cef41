/*
 * fuzz/keepa.c - libFuzzer target for the Keepa product mapping
 * (common/keepa.c): a product object's text, checked by the record
 * scanner as the tools do first, decoded by keepa_product_parse() and
 * read as day rows for every day at which one of its series has a point
 * (and the days either side), as asin-dedupe does.  Besides not crashing,
 * what a day row says must hold: counts are never negative, drops never
 * exceed the events of the day, and a value comes from a point in force.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "asin.h"
#include "keepa.h"
#include "scan.h"

int LLVMFuzzerTestOneInput(const uint8_t *, size_t);

#define MAX_DAYS 64

/* The UTC day (days since 1970) of Keepa minute km, rounding down. */
static long
day_of(int64_t km)
{
	int64_t m = km + KEEPA_EPOCH_MIN;

	return (long)(m >= 0 ? m / 1440 : -((-m + 1439) / 1440));
}

static void
add_day(long *days, size_t *n, long d)
{
	size_t i;

	for (i = 0; i < *n; i++)
		if (days[i] == d)
			return;
	if (*n < MAX_DAYS)
		days[(*n)++] = d;
}

static void
series_days(const struct keepa_series *s, long *days, size_t *n)
{
	if (s->n == 0)
		return;
	add_day(days, n, day_of(s->t[0]) - 1);
	add_day(days, n, day_of(s->t[0]));
	add_day(days, n, day_of(s->t[s->n - 1]));
	add_day(days, n, day_of(s->t[s->n - 1]) + 1);
}

static void
check_day(const struct keepa_product *kp, long day)
{
	struct keepa_day d;
	const char *name;
	size_t len;

	keepa_day(kp, day, &d);
	(void)keepa_has_data(kp, day);
	if (d.bsr_events != KEEPA_NONE && (d.bsr_events < 0 ||
	    d.bsr_drops < 0 || d.bsr_drops > d.bsr_events)) {
		fprintf(stderr, "day %ld: %lld events, %lld drops\n", day,
		    (long long)d.bsr_events, (long long)d.bsr_drops);
		abort();
	}
	if (d.bsr_lost && d.bsr != KEEPA_NONE) {
		fprintf(stderr, "day %ld: rank lost yet %lld\n", day,
		    (long long)d.bsr);
		abort();
	}
	if (d.bsr_cat != KEEPA_NONE &&
	    (name = keepa_cat_name(kp, d.bsr_cat, &len)) != NULL &&
	    (len < 2 || name[0] != '"' || name[len - 1] != '"')) {
		fprintf(stderr, "category name is not a JSON string\n");
		abort();
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct scan sc;
	static struct keepa_product kp;
	static int init;
	const char *txt = (const char *)data;
	long days[MAX_DAYS];
	size_t n = 0, i;
	char err[160];

	if (!init) {
		scan_init(&sc);
		keepa_product_init(&kp);
		init = 1;
	}
	if (size > 1 << 20 || !scan_text(&sc, txt, size) ||
	    sc.kind != SCAN_OBJECT)
		return 0;
	/* One product is parsed again and again, as the tools reuse it. */
	if (!keepa_product_parse(&kp, txt, size, err, sizeof(err))) {
		if (err[0] == '\0') {
			fprintf(stderr, "a refused product without a message\n");
			abort();
		}
		return 0;
	}
	for (i = 0; i < KEEPA_CSV_MAX; i++)
		series_days(&kp.csv[i], days, &n);
	for (i = 0; i < kp.nranks; i++)
		series_days(&kp.ranks[i], days, &n);
	series_days(&kp.ref_hist, days, &n);
	series_days(&kp.sold_hist, days, &n);
	if (kp.last_update != KEEPA_NONE)
		add_day(days, &n, day_of(kp.last_update));
	for (i = 0; i < n; i++)
		check_day(&kp, days[i]);
	return 0;
}
