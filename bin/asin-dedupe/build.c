/*
 * build.c - asin-fetch envelopes to fact rows.  A status other than ok
 * is counted, not rejected.  A Keepa product becomes one row per day of
 * --days (the value in force at the end of each UTC day, keepa.c); an
 * SP-API catalog item one row for the fetch day; any other provider, or
 * one named in --map, goes through a jq program.  Rows are built as JSON
 * text and handed to row_take(), which checks them like any input row.
 */
#include <jq.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "dedupe.h"
#include "recint.h"

struct mapprog {
	char *provider;		/* NULL: every provider without a decoder */
	char *path;
	jq_state *jq;
};

/* A marketplace's SP-API id and currency; JP prices have no cents. */
static const struct {
	const char *code, *id, *cur;
} mkts[] = {
	{ "US", "ATVPDKIKX0DER", "USD" }, { "CA", "A2EUQ1WTGCTBG2", "CAD" },
	{ "MX", "A1AM78C64UM0Y8", "MXN" }, { "BR", "A2Q3Y263D00KWC", "BRL" },
	{ "GB", "A1F83G8C2ARO7P", "GBP" }, { "DE", "A1PA6795UKMFR9", "EUR" },
	{ "FR", "A13V1IB3VIYZZH", "EUR" }, { "IT", "APJ6JRA9NG5V4", "EUR" },
	{ "ES", "A1RKKUPIHCS9HS", "EUR" }, { "JP", "A1VC38T7YXB528", "JPY" },
	{ "IN", "A21TJRUUN4KGV", "INR" }
};

static int
mkt_index(const char *m)
{
	size_t i;

	for (i = 0; i < sizeof(mkts) / sizeof(mkts[0]); i++)
		if (strcmp(mkts[i].code, m) == 0)
			return (int)i;
	return -1;
}

/* The envelope's members this file reads. */
struct env {
	const char *raw;	/* the input line */
	size_t len;
	char asin[11], mkt[3], date[11], status[16];
	char *provider;
	const char *fetched;	/* JSON string text, quotes included */
	size_t flen;
	const char *payload;
	size_t plen;
	long day;
};

/* Member key of the envelope as a span; 0 when absent. */
static int
get(const struct scan *sc, const char *raw, const char *key, const char **v,
    size_t *n, enum scan_kind *kind)
{
	long i = scan_find(sc, raw, key, strlen(key));

	if (i < 0)
		return 0;
	*v = raw + sc->m[i].val;
	*n = sc->m[i].val_len;
	*kind = (enum scan_kind)sc->m[i].kind;
	return 1;
}

/* A string member unescaped into a fresh allocation, or NULL. */
static char *
get_str(const struct scan *sc, const char *raw, const char *key)
{
	const char *v;
	size_t n, m;
	enum scan_kind k;
	char *s;

	if (!get(sc, raw, key, &v, &n, &k) || k != SCAN_STRING)
		return NULL;
	s = xmalloc(n);
	m = scan_unescape(s, v + 1, n - 2);
	s[m] = '\0';
	return s;
}

/*
 * Rows are built by the million: members go straight into run.b, and
 * each is indexed in run.bscan as it is written (key span, value span,
 * kind), the index the scanner would make of the finished text, so the
 * row need not be scanned again.  A value is written after its key()
 * with room reserved for a number; the index closes it at the next key()
 * or at row_end().
 */
#define VAL_ROOM 48	/* the longest number a value writes, and more */

static void
member_close(struct run *r)
{
	struct scan_member *m;
	const char *v;

	if (r->bopen < 0)
		return;
	m = &r->bscan.m[r->bopen];
	v = r->b.data + m->val;
	m->val_len = r->b.len - m->val;
	m->kind = (unsigned char)scan_kind_of(*v);
	m->val_esc = m->kind == SCAN_STRING &&
	    memchr(v, '\\', m->val_len) != NULL;
	r->bopen = -1;
}

/* Start member k (klen bytes, no escapes): ,"k": */
static void
key_n(struct run *r, const char *k, size_t klen)
{
	struct buf *b = &r->b;
	struct scan *sc = &r->bscan;
	struct scan_member *m;
	char *p;

	member_close(r);
	if (b->cap - b->len < klen + 4 + VAL_ROOM)
		buf_reserve(b, b->len + klen + 4 + VAL_ROOM);
	if (sc->n == sc->cap) {
		sc->cap = sc->cap ? sc->cap * 2 : 64;
		sc->m = xreallocarray(sc->m, sc->cap, sizeof(*sc->m));
	}
	p = b->data + b->len;
	if (sc->n > 0)
		*p++ = ',';
	*p++ = '"';
	m = &sc->m[sc->n];
	m->key = (size_t)(p - b->data);
	m->key_len = klen;
	m->key_esc = 0;
	memcpy(p, k, klen);
	p += klen;
	*p++ = '"';
	*p++ = ':';
	b->len = (size_t)(p - b->data);
	m->val = b->len;
	r->bopen = (long)sc->n++;
}
#define key(r, k) key_n(r, k, sizeof(k) - 1)

/* Append n bytes of a value (after key(): VAL_ROOM is reserved). */
static void
val(struct run *r, const char *v, size_t n)
{
	if (n <= 8 && r->b.cap - r->b.len >= 8) {
		memcpy(r->b.data + r->b.len, v, n);
		r->b.len += n;
	} else
		buf_add(&r->b, v, n);
}
#define val_lit(r, s) val(r, s, sizeof(s) - 1)

static void
row_begin(struct run *r)
{
	r->b.len = 0;
	buf_addc(&r->b, '{');
	r->bscan.n = 0;
	r->bopen = -1;
}

static void
row_end(struct run *r)
{
	struct scan *sc = &r->bscan;

	member_close(r);
	buf_addc(&r->b, '}');
	sc->kind = SCAN_OBJECT;
	sc->val = 0;
	sc->val_len = r->b.len;
	sc->err = SCAN_OK;
	sc->keys_ok = 0;
}

/* Decimal digits of v into p (room for 20); returns the end. */
static char *
digits_of(char *p, uint64_t u)
{
	char t[24], *q = t + sizeof(t);
	size_t n;

	do
		*--q = (char)('0' + u % 10);
	while ((u /= 10) != 0);
	n = (size_t)(t + sizeof(t) - q);
	memcpy(p, q, n);
	return p + n;
}

static void
add_int(struct run *r, int64_t v)
{
	char *p = r->b.data + r->b.len;

	if (v < 0)
		*p++ = '-';
	p = digits_of(p, v < 0 ? -(uint64_t)v : (uint64_t)v);
	r->b.len = (size_t)(p - r->b.data);
}

static void
put_int_n(struct run *r, const char *k, size_t klen, int64_t v)
{
	key_n(r, k, klen);
	if (v == KEEPA_NONE)
		val_lit(r, "null");
	else
		add_int(r, v);
}
#define put_int(r, k, v) put_int_n(r, k, sizeof(k) - 1, v)

static void
put_num_n(struct run *r, const char *k, size_t klen, double v)
{
	key_n(r, k, klen);
	if (!isfinite(v))
		val_lit(r, "null");
	else
		r->b.len += fmt_double(r->b.data + r->b.len, v);
}
#define put_num(r, k, v) put_num_n(r, k, sizeof(k) - 1, v)

/*
 * v / 10^places, places 1 or 2, as fmt_double() writes it: for a whole
 * v from 0 to 10^13 the shortest form of the double nearest v / 10^places
 * is that decimal, trailing zeros dropped (compared with fmt_double for
 * every v below 10^8 and 4 * 10^7 random ones below 10^13, both places:
 * no difference).  Others go through fmt_double.
 */
static void
put_scaled_n(struct run *r, const char *k, size_t klen, int64_t v,
    int places)
{
	uint64_t div = places == 2 ? 100 : 10, f;
	char *p;

	key_n(r, k, klen);
	if (v == KEEPA_NONE) {
		val_lit(r, "null");
		return;
	}
	if (v < 0 || v >= 10000000000000LL) {
		r->b.len += fmt_double(r->b.data + r->b.len,
		    (double)v / (double)div);
		return;
	}
	p = digits_of(r->b.data + r->b.len, (uint64_t)v / div);
	f = (uint64_t)v % div;
	if (f != 0) {
		*p++ = '.';
		if (places == 2) {
			*p++ = (char)('0' + f / 10);
			if (f % 10 != 0)
				*p++ = (char)('0' + f % 10);
		} else
			*p++ = (char)('0' + f);
	}
	r->b.len = (size_t)(p - r->b.data);
}

static void
put_price_n(struct run *r, const char *k, size_t klen, int64_t v,
    double unit)
{
	if (unit == 100)
		put_scaled_n(r, k, klen, v, 2);
	else if (v == KEEPA_NONE || (v > -(1LL << 53) && v < (1LL << 53)))
		/* whole units: fmt_double writes these digit by digit */
		put_int_n(r, k, klen, v);
	else
		put_num_n(r, k, klen, (double)v / unit);
}
#define put_price(r, k, v, unit) put_price_n(r, k, sizeof(k) - 1, v, unit)

static void
put_bool_n(struct run *r, const char *k, size_t klen, int v)
{
	key_n(r, k, klen);
	if (v < 0)
		val_lit(r, "null");
	else if (v)
		val_lit(r, "true");
	else
		val_lit(r, "false");
}
#define put_bool(r, k, v) put_bool_n(r, k, sizeof(k) - 1, v)

/* Characters of a JSON string text; -1 when it is not one. */
static long
chars(const char *s, size_t n)
{
	char *tmp;
	size_t m, i;
	long c = 0;

	if (n < 2 || *s != '"')
		return -1;
	tmp = xmalloc(n);
	m = scan_unescape(tmp, s + 1, n - 2);
	for (i = 0; i < m; i++)
		c += ((unsigned char)tmp[i] & 0xc0) != 0x80;
	free(tmp);
	return c;
}

static void
row_head(struct run *r, const struct env *e, long day, const char *source)
{
	char d[12];

	format_day(day, d + 1);
	row_begin(r);
	key(r, "asin");
	val_lit(r, "\"");
	val(r, e->asin, 10);
	val_lit(r, "\"");
	key(r, "marketplace");
	val_lit(r, "\"");
	val(r, e->mkt, 2);
	val_lit(r, "\"");
	key(r, "date");
	d[0] = '"';
	d[11] = '"';
	val(r, d, 12);
	key(r, "source");
	buf_add_jstr(&r->b, source, strlen(source));
	if (e->fetched != NULL) {
		key(r, "fetched_at");
		val(r, e->fetched, e->flen);
	}
}

/* Give the row in r->b to row_take; what names the day in a reject. */
static int
take_built(struct run *r, const struct env *e, long day)
{
	struct nd_line nl;
	const char *err;
	char what[40], d[11];
	struct record *rec = r->recb;

	format_day(day, d);
	snprintf(what, sizeof(what), "row for %s: ", d);
	nl.buf = r->b.data;
	nl.len = r->b.len;
	nl.source = rec_source(r->rec);
	nl.lineno = rec_lineno(r->rec);
	nl.error = NULL;
	/* row_take may parse a rebuilt row into rec2: this one is recb */
	if (!rec_parse(rec, &nl, &err)) {
		reject_line(r, nl.source, nl.lineno, e->raw, e->len, what, err);
		return 0;
	}
	r->rows_built++;
	return row_take(r, rec, r->b.data, r->b.len, e->raw, e->len, what);
}

/* The same for a row built with key() and row_end(): indexed already. */
static int
take_indexed(struct run *r, const struct env *e, long day)
{
	char what[40], d[11];

	format_day(day, d);
	memcpy(what, "row for ", 8);
	memcpy(what + 8, d, 10);
	memcpy(what + 18, ": ", 3);
	r->rows_built++;
	return row_take_scan(r, &r->bscan, rec_source(r->rec),
	    rec_lineno(r->rec), r->b.data, r->b.len, e->raw, e->len, what);
}

static long
keepa_rows(struct run *r, const struct env *e)
{
	struct keepa_product *kp = &r->kp;
	struct keepa_day d;
	const char *name = NULL;
	size_t nlen = 0, n;
	long day, rows = 0;
	int mi = mkt_index(e->mkt);
	double unit = mi >= 0 && strcmp(mkts[mi].cur, "JPY") == 0 ? 1 : 100;
	char err[160], t[24], since[32], slu[64];
	int64_t name_id = KEEPA_NONE;

	if (!keepa_product_parse(kp, e->payload, e->plen, err, sizeof(err))) {
		reject_line(r, rec_source(r->rec), rec_lineno(r->rec), e->raw,
		    e->len, "keepa payload: ", err);
		return -1;
	}
	/* the product's dates, the same on every day's row */
	snprintf(since, sizeof(since), "null");
	if (kp->listed_since != KEEPA_NONE && kp->listed_since > 0) {
		format_day((long)(keepa_unix(kp->listed_since) / 86400), t);
		snprintf(since, sizeof(since), "\"%s\"", t);
	}
	snprintf(slu, sizeof(slu), "null");
	if (kp->last_update != KEEPA_NONE && kp->last_update > 0) {
		int64_t u = keepa_unix(kp->last_update);

		format_day((long)(u / 86400), t);
		snprintf(slu, sizeof(slu), "\"%sT%02d:%02d:%02dZ\"", t,
		    (int)(u % 86400 / 3600), (int)(u % 3600 / 60),
		    (int)(u % 60));
	}
	for (day = e->day - r->opt->days + 1; day <= e->day; day++) {
		if (day != e->day && !keepa_has_data(kp, day))
			continue;
		keepa_day(kp, day, &d);
		row_head(r, e, day, "keepa");
		put_int(r, "bsr", d.bsr);
		put_int(r, "bsr_cat", d.bsr_cat);
		/* the rank's category rarely changes: look its name up once */
		if (d.bsr_cat != name_id) {
			name_id = d.bsr_cat;
			name = d.bsr_cat == KEEPA_NONE ? NULL :
			    keepa_cat_name(kp, d.bsr_cat, &nlen);
		}
		key(r, "category");
		if (name != NULL && nlen > 2)
			val(r, name, nlen);
		else
			val_lit(r, "null");
		put_int(r, "sub_bsr", d.sub_bsr);
		put_int(r, "sub_cat", d.sub_cat);
		put_price(r, "price", d.price_buybox != KEEPA_NONE ?
		    d.price_buybox : d.price_new, unit);
		put_price(r, "price_buybox", d.price_buybox, unit);
		put_price(r, "price_new", d.price_new, unit);
		put_price(r, "price_amazon", d.price_amazon, unit);
		put_price(r, "list_price", d.list_price, unit);
		key(r, "currency");
		if (mi >= 0) {
			val_lit(r, "\"");
			val(r, mkts[mi].cur, 3);
			val_lit(r, "\"");
		} else
			val_lit(r, "null");
		put_int(r, "offers_new", d.offers_new);
		/* 0 is Keepa's "no rating yet" */
		put_scaled_n(r, "rating", 6, d.rating10 == 0 ? KEEPA_NONE :
		    d.rating10, 1);
		put_int(r, "review_count", d.review_count);
		put_int(r, "monthly_sold", d.monthly_sold == KEEPA_NONE &&
		    day == e->day ? kp->monthly_sold : d.monthly_sold);
		put_bool(r, "deal_active", d.deal_active);
		put_int(r, "bsr_events", d.bsr_events);
		put_int(r, "bsr_drops", d.bsr_drops);
		key(r, "listed_since");
		val(r, since, strlen(since));
		key(r, "source_last_update");
		val(r, slu, strlen(slu));
		if (day == e->day) {
			/* the listing is a snapshot: only the fetch day has it */
			key(r, "title");
			if (kp->title.len > 0) {
				val(r, kp->txt + kp->title.off, kp->title.len);
				put_int(r, "title_len",
				    chars(kp->txt + kp->title.off,
				    kp->title.len));
			} else {
				val_lit(r, "null");
				put_int(r, "title_len", KEEPA_NONE);
			}
			put_int(r, "bullet_count", kp->features < 0 ?
			    KEEPA_NONE : kp->features);
			put_num(r, "bullet_chars_mean", kp->features > 0 ?
			    kp->feature_chars / (double)kp->features : NAN);
			put_int(r, "image_count", kp->images < 0 ?
			    KEEPA_NONE : kp->images);
			put_bool(r, "has_video", kp->has_video);
			put_bool(r, "has_aplus", kp->has_aplus);
			put_int(r, "desc_chars", kp->desc_chars < 0 ?
			    KEEPA_NONE : kp->desc_chars);
			/* Keepa's counts end at lastUpdate: the fetch day */
			if (kp->have_stats) {
				put_int(r, "sales_rank_drops_30",
				    kp->drops30);
				put_int(r, "sales_rank_drops_90",
				    kp->drops90);
			}
		}
		if (d.bsr_lost) {
			key(r, "anomalies");
			buf_adds(&r->b, "[\"bsr_lost\"]");
		}
		row_end(r);
		take_indexed(r, e, day);
		rows++;
	}
	(void)n;
	return rows;
}

/* ---------------------------------------------------------------- */
/* SP-API catalog items                                              */
/* ---------------------------------------------------------------- */

/* In the array text a, the element whose marketplaceId is id, else the first. */
static int
by_marketplace(const char *a, size_t n, const char *id, size_t *off,
    size_t *len)
{
	size_t eo, el, mo, ml;
	long i;
	int found = 0;

	for (i = 0; scan_arr_get(a, n, i, &eo, &el); i++) {
		if (i == 0) {
			*off = eo;
			*len = el;
			found = 1;
		}
		if (id != NULL && a[eo] == '{' && scan_obj_get(a + eo, el,
		    "marketplaceId", 13, &mo, &ml) && ml == strlen(id) + 2 &&
		    memcmp(a + eo + mo + 1, id, ml - 2) == 0) {
			*off = eo;
			*len = el;
			return 1;
		}
	}
	return found;
}

/* The member key of object text o as a span (absolute pointer). */
static int
oget(const char *o, size_t n, const char *k, const char **v, size_t *vl)
{
	size_t off, len;

	if (n == 0 || *o != '{' || !scan_obj_get(o, n, k, strlen(k), &off,
	    &len))
		return 0;
	*v = o + off;
	*vl = len;
	return 1;
}

static int64_t
span_int(const char *v, size_t n)
{
	double d;

	if (n == 0 || scan_kind_of(*v) != SCAN_NUMBER)
		return KEEPA_NONE;
	d = scan_number(v, n);
	return d == floor(d) && fabs(d) < 9e15 ? (int64_t)d : KEEPA_NONE;
}

static long
spapi_rows(struct run *r, const struct env *e)
{
	const char *p = e->payload, *v, *s, *x, *y;
	size_t n = e->plen, vl, sl, xl, yl, off, len, i;
	int mi = mkt_index(e->mkt);
	const char *id = mi >= 0 ? mkts[mi].id : NULL;
	int64_t rank, best = KEEPA_NONE;
	long count = 0;
	double total = 0;
	char seen[64][8];
	size_t nseen = 0;

	row_head(r, e, e->day, "spapi");
	/* summaries: the title and the leaf classification */
	s = NULL;
	sl = 0;
	if (oget(p, n, "summaries", &v, &vl) && by_marketplace(v, vl, id,
	    &off, &len)) {
		s = v + off;
		sl = len;
	}
	key(r, "title");
	if (oget(s, sl, "itemName", &x, &xl) && *x == '"') {
		buf_add(&r->b, x, xl);
		put_int(r, "title_len", chars(x, xl));
	} else {
		buf_adds(&r->b, "null");
		put_int(r, "title_len", KEEPA_NONE);
	}
	/* salesRanks: the display group rank is the root BSR */
	s = NULL;
	sl = 0;
	if (oget(p, n, "salesRanks", &v, &vl) && by_marketplace(v, vl, id,
	    &off, &len)) {
		s = v + off;
		sl = len;
	}
	key(r, "bsr");
	if (oget(s, sl, "displayGroupRanks", &v, &vl) &&
	    scan_arr_get(v, vl, 0, &off, &len) &&
	    oget(v + off, len, "rank", &x, &xl) &&
	    (rank = span_int(x, xl)) != KEEPA_NONE) {
		buf_printf(&r->b, "%lld", (long long)rank);
		key(r, "bsr_cat");
		if (oget(v + off, len, "websiteDisplayGroup", &x, &xl))
			buf_add(&r->b, x, xl);
		else
			buf_adds(&r->b, "null");
		key(r, "category");
		if (oget(v + off, len, "title", &x, &xl) && xl > 2)
			buf_add(&r->b, x, xl);
		else
			buf_adds(&r->b, "null");
	} else
	{
		val_lit(r, "null");
		key(r, "bsr_cat");
		val_lit(r, "null");
		key(r, "category");
		val_lit(r, "null");
	}
	x = y = NULL;
	xl = yl = 0;
	if (oget(s, sl, "classificationRanks", &v, &vl))
		for (i = 0; scan_arr_get(v, vl, (long long)i, &off, &len);
		    i++) {
			const char *rk, *cid;
			size_t rkl, cidl;

			if (!oget(v + off, len, "rank", &rk, &rkl) ||
			    (rank = span_int(rk, rkl)) == KEEPA_NONE)
				continue;
			if (best == KEEPA_NONE || rank < best) {
				best = rank;
				y = NULL;
				if (oget(v + off, len, "classificationId", &cid,
				    &cidl)) {
					y = cid;
					yl = cidl;
				}
			}
		}
	put_int(r, "sub_bsr", best);
	key(r, "sub_cat");
	if (y != NULL)
		buf_add(&r->b, y, yl);
	else
		buf_adds(&r->b, "null");
	/* images: distinct variants, each comes in several sizes */
	key(r, "image_count");
	if (oget(p, n, "images", &v, &vl) && by_marketplace(v, vl, id, &off,
	    &len) && oget(v + off, len, "images", &x, &xl)) {
		for (i = 0; scan_arr_get(x, xl, (long long)i, &off, &len);
		    i++) {
			const char *vt;
			size_t vtl, j;

			if (!oget(x + off, len, "variant", &vt, &vtl) ||
			    vtl < 2 || vtl - 2 >= sizeof(seen[0]))
				continue;
			for (j = 0; j < nseen; j++)
				if (strlen(seen[j]) == vtl - 2 &&
				    memcmp(seen[j], vt + 1, vtl - 2) == 0)
					break;
			if (j == nseen && nseen < 64) {
				memcpy(seen[nseen], vt + 1, vtl - 2);
				seen[nseen++][vtl - 2] = '\0';
			}
		}
		buf_printf(&r->b, "%zu", nseen);
	} else
		buf_adds(&r->b, "null");
	/* attributes: bullets and the list price */
	x = NULL;
	xl = 0;
	if (oget(p, n, "attributes", &v, &vl))
		oget(v, vl, "bullet_point", &x, &xl);
	if (x != NULL) {
		for (i = 0; scan_arr_get(x, xl, (long long)i, &off, &len);
		    i++) {
			const char *bv;
			size_t bvl;

			if (oget(x + off, len, "value", &bv, &bvl) &&
			    *bv == '"') {
				count++;
				total += (double)chars(bv, bvl);
			}
		}
		put_int(r, "bullet_count", count);
		put_num(r, "bullet_chars_mean", count > 0 ? total /
		    (double)count : NAN);
	} else
	{
		put_int(r, "bullet_count", KEEPA_NONE);
		put_num(r, "bullet_chars_mean", NAN);
	}
	key(r, "list_price");
	if (oget(p, n, "attributes", &v, &vl) && oget(v, vl, "list_price",
	    &x, &xl) && scan_arr_get(x, xl, 0, &off, &len) &&
	    oget(x + off, len, "value", &y, &yl) &&
	    scan_kind_of(*y) == SCAN_NUMBER) {
		buf_add(&r->b, y, yl);
		if (oget(x + off, len, "currency", &y, &yl) && *y == '"') {
			key(r, "currency");
			buf_add(&r->b, y, yl);
		}
	} else {
		buf_adds(&r->b, "null");
		if (mi >= 0)
		{
			key(r, "currency");
			val_lit(r, "\"");
			val(r, mkts[mi].cur, 3);
			val_lit(r, "\"");
		}
	}
	row_end(r);
	take_indexed(r, e, e->day);
	return 1;
}

/* ---------------------------------------------------------------- */
/* --map programs                                                    */
/* ---------------------------------------------------------------- */

static void
map_err(void *ctx, jv msg)
{
	struct buf *b = ctx;

	const char *s, *nl;

	/* the first error, first line: libjq quotes the program after it */
	if (b->len == 0) {
		s = jv_get_kind(msg) == JV_KIND_STRING ? jv_string_value(msg) :
		    "jq error";
		if (strncmp(s, "jq: error: ", 11) == 0)
			s += 11;
		nl = strchr(s, '\n');
		buf_add(b, s, nl != NULL ? (size_t)(nl - s) : strlen(s));
		while (b->len > 0 && (b->data[b->len - 1] == ':' ||
		    b->data[b->len - 1] == ' '))
			b->data[--b->len] = '\0';
	}
	jv_free(msg);
}

static void
map_quiet(void *ctx, jv msg)
{
	(void)ctx;
	jv_free(msg);
}

struct mapprog *
map_load(const char *arg)
{
	struct mapprog *m = xcalloc(1, sizeof(*m));
	const char *eq = strchr(arg, '=');
	struct buf text, err;
	char tmp[8192];
	FILE *fp;
	size_t n;

	if (eq != NULL && strchr(arg, '/') != NULL && strchr(arg, '/') < eq)
		eq = NULL;
	if (eq != NULL) {
		m->provider = xstrndup(arg, (size_t)(eq - arg));
		if (*m->provider == '\0')
			usage_error("option --map: empty provider in '%s'", arg);
		arg = eq + 1;
	}
	m->path = xstrdup(arg);
	if ((fp = fopen(m->path, "r")) == NULL)
		die("%s: cannot open jq program:", m->path);
	buf_init(&text);
	while ((n = fread(tmp, 1, sizeof(tmp), fp)) > 0)
		buf_add(&text, tmp, n);
	if (ferror(fp))
		die("%s: read error:", m->path);
	fclose(fp);
	buf_init(&err);
	m->jq = jq_init();
	if (m->jq == NULL)
		die("%s: cannot start libjq", m->path);
	jq_set_error_cb(m->jq, map_err, &err);
	if (!jq_compile(m->jq, text.data ? text.data : "")) {
		die("%s: jq program does not compile: %s", m->path,
		    err.len ? err.data : "syntax error");
	}
	jq_set_error_cb(m->jq, map_quiet, NULL);
	buf_free(&err);
	buf_free(&text);
	return m;
}

void
map_free(struct mapprog *m)
{
	if (m == NULL)
		return;
	jq_teardown(&m->jq);
	free(m->provider);
	free(m->path);
	free(m);
}

static struct mapprog *
map_for(const struct run *r, const char *provider)
{
	size_t i;

	for (i = 0; i < r->opt->nmaps; i++)
		if (r->opt->maps[i]->provider != NULL &&
		    strcmp(r->opt->maps[i]->provider, provider) == 0)
			return r->opt->maps[i];
	return NULL;
}

static struct mapprog *
map_default(const struct run *r)
{
	size_t i;

	for (i = 0; i < r->opt->nmaps; i++)
		if (r->opt->maps[i]->provider == NULL)
			return r->opt->maps[i];
	return NULL;
}

/* A missing key member of obj filled from the envelope. */
static jv
fill(jv obj, const char *k, jv v)
{
	jv cur = jv_object_get(jv_copy(obj), jv_string(k));

	if (jv_is_valid(cur)) {
		jv_free(cur);
		jv_free(v);
		return obj;
	}
	jv_free(cur);
	return jv_object_set(obj, jv_string(k), v);
}

static long
map_rows(struct run *r, const struct env *e, struct mapprog *m)
{
	jv in, out;
	char *err = NULL, *f;
	long rows = 0;
	const char *src = rec_source(r->rec);
	long line = rec_lineno(r->rec);
	long day;

	in = json_parse(e->raw, e->len, &err);
	if (!jv_is_valid(in)) {
		free(err);
		reject_line(r, src, line, e->raw, e->len, "", "invalid JSON");
		return -1;
	}
	jq_start(m->jq, in, 0);
	while (jv_is_valid(out = jq_next(m->jq))) {
		if (jv_get_kind(out) != JV_KIND_OBJECT) {
			r->msg.len = 0;
			buf_printf(&r->msg, "--map %s: expected objects, got %s",
			    m->path, jv_kind_name(jv_get_kind(out)));
			jv_free(out);
			reject_line(r, src, line, e->raw, e->len, "",
			    r->msg.data);
			rows++;
			continue;
		}
		out = fill(out, "asin", jv_string(e->asin));
		out = fill(out, "marketplace", jv_string(e->mkt));
		out = fill(out, "date", jv_string(e->date));
		out = fill(out, "source", jv_string(e->provider));
		if (e->fetched != NULL) {
			f = xstrndup(e->fetched + 1, e->flen - 2);
			out = fill(out, "fetched_at", jv_string(f));
			free(f);
		}
		day = e->day;
		{
			jv d = jv_object_get(jv_copy(out), jv_string("date"));

			if (jv_get_kind(d) == JV_KIND_STRING)
				parse_day(jv_string_value(d),
				    (size_t)jv_string_length_bytes(jv_copy(d)),
				    &day);
			jv_free(d);
		}
		out = jv_dump_string(out, 0);
		r->b.len = 0;
		buf_adds(&r->b, jv_string_value(out));
		jv_free(out);
		take_built(r, e, day);
		rows++;
	}
	if (jv_invalid_has_msg(jv_copy(out))) {
		jv msg = jv_invalid_get_msg(out);

		r->msg.len = 0;
		buf_printf(&r->msg, "--map %s: %s", m->path,
		    jv_get_kind(msg) == JV_KIND_STRING ?
		    jv_string_value(msg) : "jq error");
		jv_free(msg);
		reject_line(r, src, line, e->raw, e->len, "", r->msg.data);
		rows++;
	} else
		jv_free(out);
	return rows;
}

/* ---------------------------------------------------------------- */
/* routing                                                           */
/* ---------------------------------------------------------------- */

static int
copy_key(const struct scan *sc, const char *raw, const char *k, char *dst,
    size_t cap)
{
	char *s = get_str(sc, raw, k);
	int ok = s != NULL && strlen(s) < cap;

	if (ok)
		strcpy(dst, s);
	free(s);
	return ok;
}

long
envelope_take(struct run *r, const struct nd_line *ln)
{
	const struct scan *sc = rec_scan(r->rec);
	struct env e;
	struct mapprog *m;
	enum scan_kind kind;
	const char *v, *bad = NULL;
	size_t n;
	char *reason;
	long rows = 0;
	uint64_t hi, lo;

	if (sc == NULL) {
		if (!scan_text(&r->scan, ln->buf, ln->len))
			return 0;
		sc = &r->scan;
	}
	memset(&e, 0, sizeof(e));
	e.raw = ln->buf;
	e.len = ln->len;
	r->envelopes++;
	if (!copy_key(sc, ln->buf, "asin", e.asin, sizeof(e.asin)))
		bad = "field \"asin\": expected a string of 10 characters";
	else if (!copy_key(sc, ln->buf, "marketplace", e.mkt, sizeof(e.mkt)))
		bad = "field \"marketplace\": expected a string of 2 letters";
	else if (!copy_key(sc, ln->buf, "date", e.date, sizeof(e.date)) ||
	    !parse_day(e.date, strlen(e.date), &e.day))
		bad = "field \"date\": expected a real day YYYY-MM-DD";
	else if (!copy_key(sc, ln->buf, "status", e.status, sizeof(e.status)))
		bad = "field \"status\": expected a string";
	else if ((e.provider = get_str(sc, ln->buf, "provider")) == NULL ||
	    *e.provider == '\0')
		bad = "field \"provider\": expected a string";
	else if (!pack_key(e.asin, strlen(e.asin), e.mkt, strlen(e.mkt),
	    e.day, &hi, &lo))
		bad = "envelope key: asin or marketplace does not match its "
		    "pattern";
	if (bad != NULL) {
		free(e.provider);
		reject_line(r, ln->source, ln->lineno, ln->buf, ln->len, "",
		    bad);
		return 0;
	}
	if (r->opt->sorted)
		rows_check_order(r, ln, hi, lo);
	tally_add(&r->status, e.status, strlen(e.status));
	if (strcmp(e.status, "ok") != 0) {
		if ((reason = get_str(sc, ln->buf, "reason")) != NULL) {
			r->msg.len = 0;
			buf_printf(&r->msg, "%s: %s", e.status, reason);
			tally_add(&r->reasons, r->msg.data, r->msg.len);
			free(reason);
		}
		free(e.provider);
		r->ac.dropped++;
		return 0;
	}
	if (get(sc, ln->buf, "fetched_at", &v, &n, &kind) &&
	    kind == SCAN_STRING) {
		e.fetched = v;
		e.flen = n;
	}
	if (!get(sc, ln->buf, "payload", &e.payload, &e.plen, &kind) ||
	    kind != SCAN_OBJECT) {
		free(e.provider);
		bad = "field \"payload\": an ok envelope needs an object";
		reject_line(r, ln->source, ln->lineno, ln->buf, ln->len, "",
		    bad);
		return 0;
	}
	if (r->opt->sorted)
		rows_flush_before(r, hi, lo - (uint64_t)(r->opt->days - 1));
	if ((m = map_for(r, e.provider)) != NULL)
		rows = map_rows(r, &e, m);
	else if (strncmp(e.provider, "keepa", 5) == 0)
		rows = keepa_rows(r, &e);
	else if (strncmp(e.provider, "spapi", 5) == 0)
		rows = spapi_rows(r, &e);
	else if ((m = map_default(r)) != NULL)
		rows = map_rows(r, &e, m);
	else {
		r->msg.len = 0;
		buf_printf(&r->msg, "provider \"%s\": no built-in mapping; "
		    "give one with --map FILE.jq", e.provider);
		reject_line(r, ln->source, ln->lineno, ln->buf, ln->len, "",
		    r->msg.data);
		rows = -1;
	}
	free(e.provider);
	if (rows == 0)
		r->ac.dropped++;
	else if (rows > 1)
		r->ac.in += rows - 1;
	return rows;
}
