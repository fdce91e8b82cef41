/*
 * keepa.c - Keepa product objects decoded into series and read as the
 * value in force at the end of each UTC day.  The contract is in keepa.h.
 * The text is walked with the scanner's span helpers: it was validated
 * once, so nothing here validates JSON again, and numbers inside the
 * series are read as integers straight from the bytes.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "asin.h"
#include "keepa.h"
#include "scan.h"

static const char *
skip_ws(const char *p, const char *e)
{
	while (p < e && (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r'))
		p++;
	return p;
}

void
keepa_series_free(struct keepa_series *s)
{
	free(s->t);
	free(s->v);
	memset(s, 0, sizeof(*s));
}

static void
series_push(struct keepa_series *s, int64_t t, int64_t v)
{
	if (s->n == s->cap) {
		s->cap = s->cap ? s->cap * 2 : 64;
		s->t = xreallocarray(s->t, s->cap, sizeof(*s->t));
		s->v = xreallocarray(s->v, s->cap, sizeof(*s->v));
	}
	s->t[s->n] = t;
	s->v[s->n] = v;
	s->n++;
}

/* An integer at *pp (valid JSON number text); 0 if it has a fraction. */
static int
read_int(const char **pp, const char *e, int64_t *out)
{
	const char *p = *pp;
	int neg = 0;
	uint64_t v = 0;
	int digits = 0;

	if (p < e && *p == '-') {
		neg = 1;
		p++;
	}
	while (p < e && *p >= '0' && *p <= '9') {
		if (digits++ > 17)
			return 0;
		v = v * 10 + (uint64_t)(*p++ - '0');
	}
	if (digits == 0 || (p < e && (*p == '.' || *p == 'e' || *p == 'E')))
		return 0;
	*out = neg ? -(int64_t)v : (int64_t)v;
	*pp = p;
	return 1;
}

/*
 * keepa_series_parse() of the value at json (n bytes to the end of the
 * text that holds it), the end of the value into *end: the csv array is
 * read in one pass, without first measuring each element.
 */
static int
series_parse(struct keepa_series *s, const char *json, size_t n, int stride,
    const char **end)
{
	const char *p = json, *e = json + n;
	int64_t x[3];
	int k = 0;

	s->n = 0;
	s->present = 0;
	p = skip_ws(p, e);
	*end = p;
	if (p == e)
		return 1;
	if (*p == 'n') {
		*end = p + (e - p >= 4 ? 4 : e - p);
		return 1;
	}
	if (*p != '[')
		return 0;
	s->present = 1;
	p = skip_ws(p + 1, e);
	if (p < e && *p == ']') {
		*end = p + 1;
		return 1;
	}
	for (;;) {
		p = skip_ws(p, e);
		if (!read_int(&p, e, &x[k]))
			return 0;
		if (++k == stride) {
			/* price + shipping, -1 when either says none */
			if (stride == 3)
				x[1] = x[1] < 0 ? x[1] :
				    x[1] + (x[2] > 0 ? x[2] : 0);
			series_push(s, x[0], x[1]);
			k = 0;
		}
		p = skip_ws(p, e);
		if (p < e && *p == ',') {
			p++;
			continue;
		}
		break;
	}
	*end = p + 1;
	return k == 0 && p < e && *p == ']';
}

int
keepa_series_parse(struct keepa_series *s, const char *json, size_t n,
    int stride)
{
	const char *end;

	return series_parse(s, json, n, stride, &end);
}

void
keepa_product_init(struct keepa_product *kp)
{
	memset(kp, 0, sizeof(*kp));
	kp->sc = xmalloc(sizeof(*kp->sc));
	scan_init(kp->sc);
}

void
keepa_product_free(struct keepa_product *kp)
{
	size_t i;

	for (i = 0; i < KEEPA_CSV_MAX; i++)
		keepa_series_free(&kp->csv[i]);
	keepa_series_free(&kp->ref_hist);
	keepa_series_free(&kp->sold_hist);
	for (i = 0; i < kp->capranks; i++)
		keepa_series_free(&kp->ranks[i]);
	free(kp->ranks);
	free(kp->rank_cat);
	if (kp->sc != NULL) {
		scan_free(kp->sc);
		free(kp->sc);
	}
	memset(kp, 0, sizeof(*kp));
}

/* The member key of the product object as a span; 0 when absent. */
static int
member(const struct keepa_product *kp, const char *key, const char **v,
    size_t *n)
{
	long i = scan_find(kp->sc, kp->txt, key, strlen(key));

	if (i < 0)
		return 0;
	*v = kp->txt + kp->sc->m[i].val;
	*n = kp->sc->m[i].val_len;
	return 1;
}

/* An integer member; def when absent, null or not an integer. */
static int64_t
int_member(const struct keepa_product *kp, const char *key, int64_t def)
{
	const char *v;
	size_t n;
	int64_t x;

	if (!member(kp, key, &v, &n) || !read_int(&v, v + n, &x))
		return def;
	return x;
}

/* A count in the stats object o[0..n); KEEPA_NONE when absent or < 0. */
static int64_t
stats_int(const char *o, size_t n, const char *key)
{
	size_t off, len;
	const char *p;
	int64_t x;

	if (!scan_obj_get(o, n, key, strlen(key), &off, &len))
		return KEEPA_NONE;
	p = o + off;
	if (!read_int(&p, o + off + len, &x) || x < 0)
		return KEEPA_NONE;
	return x;
}

/* Characters (code points) of the JSON string text s[0..n). */
static long
str_chars(const char *s, size_t n)
{
	char *tmp;
	size_t m, i;
	long c = 0;

	if (n < 2 || s[0] != '"')
		return -1;
	tmp = xmalloc(n);
	m = scan_unescape(tmp, s + 1, n - 2);
	for (i = 0; i < m; i++)
		if (((unsigned char)tmp[i] & 0xc0) != 0x80)
			c++;
	free(tmp);
	return c;
}

/* Elements of the array text a[0..n), calling fn on each; -1 if not one. */
static long
each_elem(const char *a, size_t n, void (*fn)(void *, const char *, size_t),
    void *ctx)
{
	const char *p = a, *e = a + n;
	size_t len;
	long count = 0;

	p = skip_ws(p, e);
	if (p == e || *p != '[')
		return -1;
	p = skip_ws(p + 1, e);
	if (p < e && *p == ']')
		return 0;
	while (p < e) {
		p = skip_ws(p, e);
		len = scan_skip(p, (size_t)(e - p));
		if (fn != NULL)
			fn(ctx, p, len);
		count++;
		p = skip_ws(p + len, e);
		if (p < e && *p == ',')
			p++;
		else
			break;
	}
	return count;
}

static void
add_chars(void *ctx, const char *s, size_t n)
{
	long c = str_chars(s, n);

	if (c > 0)
		*(double *)ctx += (double)c;
}

/* Decode salesRanks: {"catId": [t, rank, ...], ...}. */
static int
parse_ranks(struct keepa_product *kp, const char *o, size_t n)
{
	const char *p = o, *e = o + n, *k;
	size_t klen, vlen;
	int64_t cat;

	kp->nranks = 0;
	p = skip_ws(p, e);
	if (p == e || *p != '{')
		return p < e && *p == 'n';
	p = skip_ws(p + 1, e);
	while (p < e && *p == '"') {
		klen = scan_skip(p, (size_t)(e - p));
		k = p + 1;
		/* the key is a category id: digits only */
		if (!read_int(&k, p + klen - 1, &cat) || k != p + klen - 1)
			return 0;
		p = skip_ws(p + klen, e);
		p = skip_ws(p + 1, e);	/* past ':' */
		vlen = scan_skip(p, (size_t)(e - p));
		if (kp->nranks == kp->capranks) {
			size_t old = kp->capranks;

			kp->capranks = old ? old * 2 : 4;
			kp->ranks = xreallocarray(kp->ranks, kp->capranks,
			    sizeof(*kp->ranks));
			kp->rank_cat = xreallocarray(kp->rank_cat,
			    kp->capranks, sizeof(*kp->rank_cat));
			memset(kp->ranks + old, 0,
			    (kp->capranks - old) * sizeof(*kp->ranks));
		}
		if (!keepa_series_parse(&kp->ranks[kp->nranks], p, vlen, 2))
			return 0;
		kp->rank_cat[kp->nranks++] = cat;
		p = skip_ws(p + vlen, e);
		if (p < e && *p == ',')
			p = skip_ws(p + 1, e);
	}
	return 1;
}

/* The csv indexes a day row reads, and their strides. */
static const struct {
	int idx, stride;
} csv_used[] = {
	{ KEEPA_AMAZON, 2 }, { KEEPA_NEW, 2 }, { KEEPA_SALES, 2 },
	{ KEEPA_LISTPRICE, 2 }, { KEEPA_LIGHTNING_DEAL, 2 },
	{ KEEPA_COUNT_NEW, 2 }, { KEEPA_RATING, 2 },
	{ KEEPA_COUNT_REVIEWS, 2 }, { KEEPA_BUY_BOX_SHIPPING, 3 }
};

static int
parse_csv(struct keepa_product *kp, const char *a, size_t n, char *err,
    size_t errsz)
{
	const char *p = a, *e = a + n;
	size_t len, i, u;
	int idx = 0;

	p = skip_ws(p, e);
	if (p < e && *p == 'n')
		return 1;
	if (p == e || *p != '[') {
		snprintf(err, errsz, "csv: expected an array");
		return 0;
	}
	p = skip_ws(p + 1, e);
	while (p < e && *p != ']' && idx < KEEPA_CSV_MAX) {
		const char *end = NULL;

		for (u = 0; u < sizeof(csv_used) / sizeof(csv_used[0]); u++) {
			if (csv_used[u].idx != idx)
				continue;
			i = (size_t)idx;
			if (!series_parse(&kp->csv[i], p, (size_t)(e - p),
			    csv_used[u].stride, &end)) {
				snprintf(err, errsz, "csv[%d]: expected null or "
				    "an array of integers in groups of %d", idx,
				    csv_used[u].stride);
				return 0;
			}
		}
		/* the series read ends where its value does; others skipped */
		len = end != NULL ? (size_t)(end - p) :
		    scan_skip(p, (size_t)(e - p));
		idx++;
		p = skip_ws(p + len, e);
		if (p < e && *p == ',')
			p = skip_ws(p + 1, e);
	}
	return 1;
}

/* The Keepa minute of 9999-12-31 23:59 UTC. */
#define KEEPA_MAX_MIN 4201807679LL

/* A point in time (or KEEPA_NONE) within the dates there are. */
static int
time_ok(int64_t km, const char *name, char *err, size_t errsz)
{
	if (km == KEEPA_NONE || (km >= -KEEPA_EPOCH_MIN &&
	    km <= KEEPA_MAX_MIN))
		return 1;
	snprintf(err, errsz, "%s: Keepa minute %lld is outside the years "
	    "1970 to 9999", name, (long long)km);
	return 0;
}

int
keepa_product_parse(struct keepa_product *kp, const char *txt, size_t len,
    char *err, size_t errsz)
{
	const char *v;
	size_t n, i;
	long c;

	kp->txt = txt;
	kp->len = len;
	for (i = 0; i < KEEPA_CSV_MAX; i++) {
		kp->csv[i].n = 0;
		kp->csv[i].present = 0;
	}
	kp->ref_hist.n = kp->sold_hist.n = 0;
	kp->ref_hist.present = kp->sold_hist.present = 0;
	kp->nranks = 0;
	/* one pass indexes the members: each lookup is then a short walk */
	if (!scan_text(kp->sc, txt, len) || kp->sc->kind != SCAN_OBJECT) {
		snprintf(err, errsz, "expected a product object");
		return 0;
	}
	kp->product_type = (int)int_member(kp, "productType", -1);
	if (member(kp, "csv", &v, &n) && !parse_csv(kp, v, n, err, errsz))
		return 0;
	if (member(kp, "salesRanks", &v, &n) && !parse_ranks(kp, v, n)) {
		snprintf(err, errsz, "salesRanks: expected an object of "
		    "category ids to [time, rank, ...] arrays");
		return 0;
	}
	if (member(kp, "salesRankReferenceHistory", &v, &n) &&
	    !keepa_series_parse(&kp->ref_hist, v, n, 2)) {
		snprintf(err, errsz, "salesRankReferenceHistory: expected "
		    "an array of integers in pairs");
		return 0;
	}
	if (member(kp, "monthlySoldHistory", &v, &n) &&
	    !keepa_series_parse(&kp->sold_hist, v, n, 2)) {
		snprintf(err, errsz, "monthlySoldHistory: expected an array "
		    "of integers in pairs");
		return 0;
	}
	kp->ref = int_member(kp, "salesRankReference", -1);
	kp->root = int_member(kp, "rootCategory", 0);
	kp->monthly_sold = int_member(kp, "monthlySold", KEEPA_NONE);
	kp->last_update = int_member(kp, "lastUpdate", KEEPA_NONE);
	kp->listed_since = int_member(kp, "listedSince", KEEPA_NONE);
	/* Times the tools turn into dates: a minute outside 1970 to 9999
	 * has no date of ours and, far enough, overflows keepa_unix(). */
	if (!time_ok(kp->last_update, "lastUpdate", err, errsz) ||
	    !time_ok(kp->listed_since, "listedSince", err, errsz))
		return 0;

	kp->title.off = kp->title.len = 0;
	if (member(kp, "title", &v, &n) && *v == '"') {
		kp->title.off = (size_t)(v - txt);
		kp->title.len = n;
	}
	kp->features = -1;
	kp->feature_chars = 0;
	if (member(kp, "features", &v, &n))
		kp->features = each_elem(v, n, add_chars,
		    &kp->feature_chars);
	kp->images = -1;
	if (member(kp, "images", &v, &n))
		kp->images = each_elem(v, n, NULL, NULL);
	if (kp->images < 0 && member(kp, "imagesCSV", &v, &n) && *v == '"') {
		kp->images = n > 2 ? 1 : 0;
		for (i = 1; i + 1 < n; i++)
			kp->images += v[i] == ',';
	}
	kp->has_video = -1;
	if (member(kp, "videos", &v, &n))
		kp->has_video = (c = each_elem(v, n, NULL, NULL)) < 0 ? -1 :
		    c > 0;
	kp->has_aplus = -1;
	if (member(kp, "aPlus", &v, &n))
		kp->has_aplus = (c = each_elem(v, n, NULL, NULL)) < 0 ? -1 :
		    c > 0;
	kp->desc_chars = -1;
	if (member(kp, "description", &v, &n) && *v == '"')
		kp->desc_chars = str_chars(v, n);
	kp->have_stats = 0;
	kp->drops30 = kp->drops90 = KEEPA_NONE;
	if (member(kp, "stats", &v, &n) && *v == '{') {
		kp->have_stats = 1;
		kp->drops30 = stats_int(v, n, "salesRankDrops30");
		kp->drops90 = stats_int(v, n, "salesRankDrops90");
	}
	kp->tree.off = kp->tree.len = 0;
	if (member(kp, "categoryTree", &v, &n) && *v == '[') {
		kp->tree.off = (size_t)(v - txt);
		kp->tree.len = n;
	}
	return 1;
}

long
keepa_asof(const struct keepa_series *s, int64_t km)
{
	size_t lo = 0, hi = s->n, mid;

	/* the first point with t > km, less one */
	while (lo < hi) {
		mid = lo + (hi - lo) / 2;
		if (s->t[mid] <= km)
			lo = mid + 1;
		else
			hi = mid;
	}
	return (long)lo - 1;
}

int64_t
keepa_day_first(long day)
{
	return (int64_t)day * 1440 - KEEPA_EPOCH_MIN;
}

int64_t
keepa_day_last(long day)
{
	return ((int64_t)day + 1) * 1440 - 1 - KEEPA_EPOCH_MIN;
}

int64_t
keepa_unix(int64_t km)
{
	return (km + KEEPA_EPOCH_MIN) * 60;
}

/* As-of value of s at km; KEEPA_NONE when none or -1 (*lost set then). */
static int64_t
asof_value(const struct keepa_series *s, int64_t km, int *lost)
{
	long i = keepa_asof(s, km);

	if (lost != NULL)
		*lost = 0;
	if (i < 0)
		return KEEPA_NONE;
	if (s->v[i] < 0) {
		if (lost != NULL)
			*lost = 1;
		return KEEPA_NONE;
	}
	return s->v[i];
}

int64_t
keepa_drops(const struct keepa_series *s, int64_t from, int64_t to)
{
	long i, last = keepa_asof(s, to);
	int64_t n = 0;

	for (i = keepa_asof(s, from - 1) + 1; i <= last; i++)
		if (i > 0 && s->v[i] >= 0 && s->v[i - 1] >= 0 &&
		    s->v[i] < s->v[i - 1])
			n++;
	return n;
}

void
keepa_day(const struct keepa_product *kp, long day, struct keepa_day *d)
{
	int64_t end = keepa_day_last(day), first = keepa_day_first(day), r;
	const struct keepa_series *s;
	long i, j;
	size_t k;

	d->bsr = asof_value(&kp->csv[KEEPA_SALES], end, &d->bsr_lost);
	d->bsr_cat = asof_value(&kp->ref_hist, end, NULL);
	if (d->bsr_cat == KEEPA_NONE && kp->ref >= 0)
		d->bsr_cat = kp->ref;
	if (d->bsr_cat == KEEPA_NONE && kp->root > 0)
		d->bsr_cat = kp->root;
	d->sub_bsr = d->sub_cat = KEEPA_NONE;
	for (k = 0; k < kp->nranks; k++) {
		if (kp->rank_cat[k] == d->bsr_cat)
			continue;
		r = asof_value(&kp->ranks[k], end, NULL);
		if (r == KEEPA_NONE || r < 1)
			continue;
		if (d->sub_bsr == KEEPA_NONE || r < d->sub_bsr ||
		    (r == d->sub_bsr && kp->rank_cat[k] < d->sub_cat)) {
			d->sub_bsr = r;
			d->sub_cat = kp->rank_cat[k];
		}
	}
	d->price_buybox = asof_value(&kp->csv[KEEPA_BUY_BOX_SHIPPING], end,
	    NULL);
	d->price_new = asof_value(&kp->csv[KEEPA_NEW], end, NULL);
	d->price_amazon = asof_value(&kp->csv[KEEPA_AMAZON], end, NULL);
	d->list_price = asof_value(&kp->csv[KEEPA_LISTPRICE], end, NULL);
	d->offers_new = asof_value(&kp->csv[KEEPA_COUNT_NEW], end, NULL);
	d->rating10 = asof_value(&kp->csv[KEEPA_RATING], end, NULL);
	d->review_count = asof_value(&kp->csv[KEEPA_COUNT_REVIEWS], end, NULL);
	d->monthly_sold = asof_value(&kp->sold_hist, end, NULL);
	s = &kp->csv[KEEPA_LIGHTNING_DEAL];
	if (!s->present)
		d->deal_active = -1;
	else
		d->deal_active = asof_value(s, end, NULL) != KEEPA_NONE;
	s = &kp->csv[KEEPA_SALES];
	d->bsr_events = d->bsr_drops = KEEPA_NONE;
	if (s->present) {
		i = keepa_asof(s, end);
		j = keepa_asof(s, first - 1);
		d->bsr_events = i - j;
		d->bsr_drops = keepa_drops(s, first, end);
	}
}

int
keepa_has_data(const struct keepa_product *kp, long day)
{
	int64_t end = keepa_day_last(day);
	size_t i;

	for (i = 0; i < KEEPA_CSV_MAX; i++)
		if (kp->csv[i].n > 0 && kp->csv[i].t[0] <= end)
			return 1;
	for (i = 0; i < kp->nranks; i++)
		if (kp->ranks[i].n > 0 && kp->ranks[i].t[0] <= end)
			return 1;
	return 0;
}

struct name_find {
	int64_t id;
	const char *name;
	size_t len;
};

static void
tree_node(void *ctx, const char *o, size_t n)
{
	struct name_find *nf = ctx;
	size_t off, len;
	const char *p;
	int64_t id;

	if (nf->name != NULL || *o != '{' ||
	    !scan_obj_get(o, n, "catId", 5, &off, &len))
		return;
	p = o + off;
	if (!read_int(&p, o + off + len, &id) || id != nf->id)
		return;
	if (scan_obj_get(o, n, "name", 4, &off, &len) && o[off] == '"') {
		nf->name = o + off;
		nf->len = len;
	}
}

const char *
keepa_cat_name(const struct keepa_product *kp, int64_t id, size_t *len)
{
	struct name_find nf = { id, NULL, 0 };

	if (kp->tree.len == 0)
		return NULL;
	each_elem(kp->txt + kp->tree.off, kp->tree.len, tree_node, &nf);
	*len = nf.len;
	return nf.name;
}
