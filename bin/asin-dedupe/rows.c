/*
 * rows.c - the row store of asin-dedupe: each fact row is checked and
 * read once when it comes in (key, row-level anomalies, the few values
 * the checks across rows need), kept as its JSON text, and at the end
 * (or, with --sorted, as soon as no later row can share its key) sorted
 * by asin, marketplace, date; the rows of one key are merged field by
 * field, the newest fetched_at winning per non-null field, and each row
 * goes out with its anomalies appended to its bytes.
 */
#include <limits.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "dedupe.h"
#include "recint.h"

const char *const an_name[AN_COUNT] = {
	"price_nonpositive", "bsr_below_1", "rating_out_of_range",
	"bsr_lost", "review_count_fall", "price_jump", "stale",
	"category_change"
};

const char *const price_field[NPRICE] = {
	"price", "price_buybox", "price_new", "price_amazon", "list_price"
};

const char *const nf_default[] = {
	"bsr", "bsr_cat", "sub_bsr", "sub_cat", "category", "price",
	"price_buybox", "price_new", "price_amazon", "list_price", "currency",
	"offers_new", "rating", "review_count", "monthly_sold", "deal_active",
	"bsr_events", "bsr_drops", "title", "title_len", "bullet_count",
	"bullet_chars_mean", "image_count", "has_video", "has_aplus",
	"desc_chars", "listed_since", "source_last_update", "source",
	"fetched_at", NULL
};

/* What a member name means to the checks. */
enum {
	F_OTHER = 0,
	F_ASIN,
	F_MKT,
	F_DATE,
	F_FETCHED,
	F_SLU,
	F_ANOM,
	F_ANOMV,
	F_BSR,
	F_SUBBSR,
	F_RATING,
	F_REVIEWS,
	F_BSRCAT,
	F_CATEGORY,
	F_PRICE		/* F_PRICE + i for price_field[i] */
};

#define FTAB_SIZE 256
#define CAT_ID (1ULL << 63)	/* rowsum.cat hashes bsr_cat, not category */

/*
 * A property schema made only of type, bounds and a date format, as the
 * tests the engine would make: checking numbers, booleans and nulls (and
 * strings without escapes) needs no jv.  The engine's rules: "number"
 * admits integers, "integer" a number equal to its floor; a bound fails
 * NaN; format only looks at strings.
 */
enum {
	LT_NULL = 1, LT_BOOL = 2, LT_INT = 4, LT_NUM = 8, LT_STR = 16,
	LT_ARR = 32, LT_OBJ = 64
};
struct leaf {
	int ok;			/* the schema is only these keywords */
	unsigned types;		/* LT_ bits; all when no "type" */
	unsigned has;		/* 1 min, 2 exclusive min, 4 max, 8 exclusive max */
	double min, xmin, max, xmax;
	int format;		/* 0 none, 1 date, 2 date-time */
};

struct fslot {
	uint64_t h;
	const char *name;
	size_t len;
	int code;
	int nf;			/* null-rate index, -1 none */
	/*
	 * The property's own schema, when the root schema is only
	 * properties (see rows_init): a member is checked alone, and the
	 * string values found valid are remembered by their hash.
	 */
	struct schema *sub;
	struct vcache *valid;	/* VCACHE entries */
	int null_ok;		/* -1 not known yet */
	int any_string;		/* the schema takes every string */
	uint64_t seen;		/* run.gen of the last row that had it */
	int skip;		/* a key field examine() checks exactly so */
	struct leaf leaf;	/* the property as plain tests, when it can be */
};

/*
 * The name table's answer for the name last seen at member position i
 * of a row: the next row most often has the same name there.
 */
#define PC_MAX 64
#define PC_KEY 24
struct pcache {
	unsigned char len;	/* PC_EMPTY: nothing yet */
	char key[PC_KEY];
	struct fslot *f;	/* NULL: a name the table lacks */
	uint64_t h;
};
#define PC_EMPTY 255

/* A short string value known to pass its property, bytes kept. */
#define VCACHE 1024
#define VCACHE_LEN 32
struct vcache {
	unsigned char len;	/* 0: empty */
	char s[VCACHE_LEN];
};

struct mentry {
	const char *key;	/* the name's bytes as written, quotes excluded */
	size_t klen;
	const char *val;
	size_t vlen;
	int isnull;
};

struct achunk {
	struct achunk *next;
	size_t used, cap;
	char data[];
};

int
an_lookup(const char *s, size_t n)
{
	int k;

	for (k = 0; k < AN_COUNT; k++)
		if (strlen(an_name[k]) == n && memcmp(an_name[k], s, n) == 0)
			return k;
	return -1;
}

/* A 64-bit hash, eight bytes a step; never 0. */
static uint64_t
hash_bytes(const char *p, size_t n)
{
	uint64_t h = 0x9e3779b97f4a7c15ULL ^ n, w;

	while (n >= 8) {
		memcpy(&w, p, 8);
		h = (h ^ w) * 0xff51afd7ed558ccdULL;
		h ^= h >> 32;
		p += 8;
		n -= 8;
	}
	w = 0;
	memcpy(&w, p, n);
	h = (h ^ w) * 0xc4ceb9fe1a85ec53ULL;
	h ^= h >> 29;
	return h ? h : 1;
}

static struct fslot *
ftab_find(struct fslot *ftab, const char *name, size_t len, uint64_t h)
{
	size_t i = h & (FTAB_SIZE - 1);

	while (ftab[i].name != NULL) {
		if (ftab[i].h == h && ftab[i].len == len &&
		    memcmp(ftab[i].name, name, len) == 0)
			return &ftab[i];
		i = (i + 1) & (FTAB_SIZE - 1);
	}
	return NULL;
}

static struct fslot *
ftab_add(struct fslot *ftab, const char *name)
{
	size_t len = strlen(name);
	uint64_t h = hash_bytes(name, len);
	struct fslot *f = ftab_find(ftab, name, len, h);
	size_t i;

	if (f != NULL)
		return f;
	i = h & (FTAB_SIZE - 1);
	while (ftab[i].name != NULL)
		i = (i + 1) & (FTAB_SIZE - 1);
	ftab[i].h = h;
	ftab[i].name = name;
	ftab[i].len = len;
	ftab[i].code = F_OTHER;
	ftab[i].nf = -1;
	ftab[i].null_ok = -1;
	return &ftab[i];
}

static void prop_shortcuts(struct fslot *, jv);

/* Whether the root of the schema document (borrowed) only lists properties. */
static int
root_is_properties(jv doc)
{
	int ok = jv_get_kind(doc) == JV_KIND_OBJECT;
	jv props;

	if (!ok)
		return 0;
	jv_object_foreach(doc, k, v) {
		const char *s = jv_string_value(k);

		if (strcmp(s, "type") == 0)
			ok &= jv_get_kind(v) == JV_KIND_STRING &&
			    strcmp(jv_string_value(v), "object") == 0;
		else if (strcmp(s, "additionalProperties") == 0)
			ok &= jv_get_kind(v) == JV_KIND_TRUE;
		else if (strcmp(s, "required") == 0) {
			/* the key fields, which examine() checks itself */
			ok &= jv_get_kind(v) == JV_KIND_ARRAY;
			if (ok)
				jv_array_foreach(v, i, e) {
					const char *n = jv_get_kind(e) ==
					    JV_KIND_STRING ? jv_string_value(e) :
					    "";

					(void)i;
					ok &= strcmp(n, "asin") == 0 ||
					    strcmp(n, "marketplace") == 0 ||
					    strcmp(n, "date") == 0;
					jv_free(e);
				}
		} else
			ok &= strcmp(s, "properties") == 0 ||
			    strcmp(s, "$schema") == 0 ||
			    strcmp(s, "$id") == 0 ||
			    strcmp(s, "$comment") == 0 ||
			    strcmp(s, "title") == 0 ||
			    strcmp(s, "description") == 0;
		jv_free(k);
		jv_free(v);
	}
	props = jv_object_get(jv_copy(doc), jv_string("properties"));
	ok &= jv_get_kind(props) == JV_KIND_OBJECT;
	jv_free(props);
	return ok;
}

void
rows_init(struct run *r, jv doc)
{
	static const struct {
		const char *name;
		int code;
	} known[] = {
		{ "asin", F_ASIN }, { "marketplace", F_MKT }, { "date", F_DATE },
		{ "fetched_at", F_FETCHED }, { "source_last_update", F_SLU },
		{ "anomalies", F_ANOM }, { "anomaly_values", F_ANOMV },
		{ "bsr", F_BSR }, { "sub_bsr", F_SUBBSR },
		{ "rating", F_RATING }, { "review_count", F_REVIEWS },
		{ "bsr_cat", F_BSRCAT }, { "category", F_CATEGORY }
	};
	struct fslot *f;
	char *err = NULL;
	size_t i;

	r->ftab = xcalloc(FTAB_SIZE, sizeof(*r->ftab));
	r->pc = xcalloc(PC_MAX, sizeof(*r->pc));
	for (i = 0; i < PC_MAX; i++)
		r->pc[i].len = PC_EMPTY;
	for (i = 0; i < sizeof(known) / sizeof(known[0]); i++)
		ftab_add(r->ftab, known[i].name)->code = known[i].code;
	for (i = 0; i < NPRICE; i++)
		ftab_add(r->ftab, price_field[i])->code = F_PRICE + (int)i;
	for (i = 0; i < r->nnf; i++)
		ftab_add(r->ftab, r->nf[i])->nf = (int)i;
	/*
	 * A schema that is only per-property rules accepts a row exactly when
	 * each member passes its property's schema: check members alone, with
	 * the same engine, and skip the walk over every property per row.
	 */
	r->fast = root_is_properties(doc);
	if (r->fast) {
		jv props = jv_object_get(jv_copy(doc), jv_string("properties"));

		jv_object_foreach(props, k, v) {
			if (r->nprop == FTAB_SIZE / 2) {
				r->fast = 0;
				jv_free(k);
				jv_free(v);
				continue;
			}
			r->props[r->nprop] = xstrdup(jv_string_value(k));
			f = ftab_add(r->ftab, r->props[r->nprop++]);
			prop_shortcuts(f, v);
			f->sub = schema_compile(v, &err);
			f->valid = xcalloc(VCACHE, sizeof(*f->valid));
			if (f->sub == NULL) {
				free(err);
				err = NULL;
				r->fast = 0;
			}
			jv_free(k);
		}
		jv_free(props);
	}
	jv_free(doc);
}

/* The type name s as an LT_ bit; 0 when unknown. */
static unsigned
leaf_type(const char *s)
{
	static const struct {
		const char *name;
		unsigned bit;
	} names[] = {
		{ "null", LT_NULL }, { "boolean", LT_BOOL },
		{ "integer", LT_INT }, { "number", LT_NUM },
		{ "string", LT_STR }, { "array", LT_ARR }, { "object", LT_OBJ }
	};
	size_t i;

	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (strcmp(s, names[i].name) == 0)
			return names[i].bit;
	return 0;
}

/* The plain tests of property schema v (borrowed), if it is only those. */
static void
leaf_of(struct leaf *l, jv v)
{
	static const char *const bound[4] = { "minimum", "exclusiveMinimum",
		"maximum", "exclusiveMaximum" };
	unsigned b;
	int ok = 1, i;

	memset(l, 0, sizeof(*l));
	l->types = LT_NULL | LT_BOOL | LT_INT | LT_NUM | LT_STR | LT_ARR |
	    LT_OBJ;
	jv_object_foreach(v, k, x) {
		const char *s = jv_string_value(k);

		if (strcmp(s, "type") == 0) {
			l->types = 0;
			if (jv_get_kind(x) == JV_KIND_STRING)
				ok &= (l->types = leaf_type(jv_string_value(x)))
				    != 0;
			else if (jv_get_kind(x) == JV_KIND_ARRAY) {
				jv_array_foreach(x, j, e) {
					(void)j;
					b = jv_get_kind(e) == JV_KIND_STRING ?
					    leaf_type(jv_string_value(e)) : 0;
					ok &= b != 0;
					l->types |= b;
					jv_free(e);
				}
			} else
				ok = 0;
		} else if (strcmp(s, "format") == 0) {
			if (jv_get_kind(x) == JV_KIND_STRING &&
			    strcmp(jv_string_value(x), "date") == 0)
				l->format = 1;
			else if (jv_get_kind(x) == JV_KIND_STRING &&
			    strcmp(jv_string_value(x), "date-time") == 0)
				l->format = 2;
			else
				ok = 0;
		} else {
			for (i = 0; i < 4; i++)
				if (strcmp(s, bound[i]) == 0)
					break;
			if (i == 4 || jv_get_kind(x) != JV_KIND_NUMBER)
				ok = 0;
			else {
				double d = jv_number_value(x);

				l->has |= 1u << i;
				if (i == 0)
					l->min = d;
				else if (i == 1)
					l->xmin = d;
				else if (i == 2)
					l->max = d;
				else
					l->xmax = d;
			}
		}
		jv_free(k);
		jv_free(x);
	}
	l->ok = ok;
}

/*
 * What the plain tests say of one value (x: a number's value): 1 passes,
 * 0 fails, -1 ask the engine (a string with escapes, an array or object).
 */
static int
leaf_check(const struct leaf *l, const char *v, size_t n, enum scan_kind kind,
    int esc, double x)
{

	switch (kind) {
	case SCAN_NULL:
		return (l->types & LT_NULL) != 0;
	case SCAN_TRUE:
	case SCAN_FALSE:
		return (l->types & LT_BOOL) != 0;
	case SCAN_NUMBER:
		if (!(l->types & LT_NUM) && !((l->types & LT_INT) &&
		    x == floor(x)))
			return 0;
		/* written as the engine's: NaN fails every bound */
		if (((l->has & 1) && !(x >= l->min)) ||
		    ((l->has & 2) && !(x > l->xmin)) ||
		    ((l->has & 4) && !(x <= l->max)) ||
		    ((l->has & 8) && !(x < l->xmax)))
			return 0;
		return 1;
	case SCAN_STRING:
		if (!(l->types & LT_STR))
			return 0;
		if (l->format == 0)
			return 1;
		if (esc)
			return -1;
		return l->format == 1 ? date_valid(v + 1, n - 2) != 0 :
		    date_time_valid(v + 1, n - 2) != 0;
	default:
		return -1;
	}
}

/*
 * What a property schema v (borrowed) allows without the engine: every
 * string when it has no rule but its type; nothing to check for a key
 * field whose rule is the one examine() applies itself.
 */
static void
prop_shortcuts(struct fslot *f, jv v)
{
	static const char *const keys[][2] = {
		{ "asin", "{\"type\":\"string\",\"pattern\":\"^[A-Z0-9]{10}$\"}" },
		{ "marketplace", "{\"type\":\"string\",\"pattern\":\"^[A-Z]{2}$\"}" },
		{ "date", "{\"type\":\"string\",\"format\":\"date\"}" }
	};
	jv bare, t, want;
	size_t i;
	int only_type = 1;

	if (jv_get_kind(v) != JV_KIND_OBJECT)
		return;
	bare = jv_object_delete(jv_object_delete(jv_copy(v),
	    jv_string("description")), jv_string("title"));
	for (i = 0; i < 3; i++) {
		if (strcmp(f->name, keys[i][0]) != 0)
			continue;
		want = jv_parse(keys[i][1]);
		f->skip = jv_equal(jv_copy(bare), want);
	}
	jv_object_foreach(bare, k, x) {
		only_type &= strcmp(jv_string_value(k), "type") == 0;
		jv_free(k);
		jv_free(x);
	}
	leaf_of(&f->leaf, bare);
	t = jv_object_get(bare, jv_string("type"));
	if (only_type && jv_get_kind(t) == JV_KIND_STRING)
		f->any_string = strcmp(jv_string_value(t), "string") == 0;
	else if (only_type && jv_get_kind(t) == JV_KIND_ARRAY) {
		jv_array_foreach(t, j, e) {
			(void)j;
			if (jv_get_kind(e) == JV_KIND_STRING &&
			    strcmp(jv_string_value(e), "string") == 0)
				f->any_string = 1;
			jv_free(e);
		}
	}
	jv_free(t);
}

/* Whether one member's value passes its property's schema. */
static int
member_ok(struct fslot *f, const char *v, size_t n, enum scan_kind kind,
    int esc, double num)
{
	struct vcache *c = NULL;
	jv val;
	char *tmp, *err;
	size_t m;
	int ok;

	if (f->leaf.ok && (ok = leaf_check(&f->leaf, v, n, kind, esc, num)) >= 0)
		return ok;
	switch (kind) {
	case SCAN_NULL:
		if (f->null_ok < 0)
			f->null_ok = schema_check(f->sub, jv_null(), 0, NULL) == 0;
		return f->null_ok;
	case SCAN_NUMBER:
		return schema_check(f->sub, jv_number(num), 0,
		    NULL) == 0;
	case SCAN_STRING:
		if (f->any_string)
			return 1;
		/* short values repeat (categories, days, codes): remember them */
		if (n <= VCACHE_LEN) {
			c = &f->valid[hash_bytes(v, n) & (VCACHE - 1)];
			if (c->len == n && memcmp(c->s, v, n) == 0)
				return 1;
		}
		tmp = xmalloc(n);
		m = scan_unescape(tmp, v + 1, n - 2);
		val = jv_string_sized(tmp, (int)m);
		free(tmp);
		break;
	case SCAN_TRUE:
		val = jv_true();
		break;
	case SCAN_FALSE:
		val = jv_false();
		break;
	default:
		val = json_parse(v, n, &err);
		if (!jv_is_valid(val)) {
			free(err);
			jv_free(val);
			return 0;
		}
		break;
	}
	ok = schema_check(f->sub, val, 0, NULL) == 0;
	if (ok && c != NULL) {
		memcpy(c->s, v, n);
		c->len = (unsigned char)n;
	}
	return ok;
}

/* ---------------------------------------------------------------- */
/* dates and times                                                   */
/* ---------------------------------------------------------------- */

static long
days_from_civil(long y, unsigned m, unsigned d)
{
	long era;
	unsigned yoe, doy, doe;

	y -= m <= 2;
	era = (y >= 0 ? y : y - 399) / 400;
	yoe = (unsigned)(y - era * 400);
	doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + (long)doe - 719468;
}

void
format_day(long z, char *dst)
{
	long era, y;
	unsigned doe, yoe, doy, mp, d, m;

	z += 719468;
	era = (z >= 0 ? z : z - 146096) / 146097;
	doe = (unsigned)(z - era * 146097);
	yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	y = (long)yoe + era * 400;
	doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	mp = (5 * doy + 2) / 153;
	d = doy - (153 * mp + 2) / 5 + 1;
	m = mp < 10 ? mp + 3 : mp - 9;
	y += m <= 2;
	y = (y % 10000 + 10000) % 10000;
	dst[0] = (char)('0' + y / 1000);
	dst[1] = (char)('0' + y / 100 % 10);
	dst[2] = (char)('0' + y / 10 % 10);
	dst[3] = (char)('0' + y % 10);
	dst[4] = '-';
	dst[5] = (char)('0' + m / 10 % 10);
	dst[6] = (char)('0' + m % 10);
	dst[7] = '-';
	dst[8] = (char)('0' + d / 10 % 10);
	dst[9] = (char)('0' + d % 10);
	dst[10] = '\0';
}

static int
digits(const char *s, size_t n, unsigned *v)
{
	size_t i;

	*v = 0;
	for (i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return 0;
		*v = *v * 10 + (unsigned)(s[i] - '0');
	}
	return 1;
}

int
parse_day(const char *s, size_t n, long *day)
{
	static const unsigned mdays[] = { 31, 28, 31, 30, 31, 30, 31, 31,
		30, 31, 30, 31 };
	unsigned y, m, d, lim;

	if (n != 10 || s[4] != '-' || s[7] != '-' || !digits(s, 4, &y) ||
	    !digits(s + 5, 2, &m) || !digits(s + 8, 2, &d))
		return 0;
	if (m < 1 || m > 12 || d < 1)
		return 0;
	lim = mdays[m - 1];
	if (m == 2 && (y % 4 == 0 && (y % 100 != 0 || y % 400 == 0)))
		lim = 29;
	if (d > lim)
		return 0;
	*day = days_from_civil((long)y, m, d);
	return 1;
}

int
parse_time(const char *s, size_t n, double *t)
{
	unsigned hh, mm, ss, oh, om;
	size_t i;
	double frac = 0, scale = 0.1, off = 0;
	long day;

	if (n < 20 || !parse_day(s, 10, &day) || (s[10] != 'T' &&
	    s[10] != 't') || s[13] != ':' || s[16] != ':' ||
	    !digits(s + 11, 2, &hh) || !digits(s + 14, 2, &mm) ||
	    !digits(s + 17, 2, &ss) || hh > 23 || mm > 59 || ss > 60)
		return 0;
	i = 19;
	if (s[i] == '.') {
		if (++i == n || s[i] < '0' || s[i] > '9')
			return 0;
		while (i < n && s[i] >= '0' && s[i] <= '9') {
			frac += (s[i++] - '0') * scale;
			scale /= 10;
		}
	}
	if (i < n && (s[i] == 'Z' || s[i] == 'z'))
		i++;
	else if (i + 6 == n && (s[i] == '+' || s[i] == '-') &&
	    s[i + 3] == ':' && digits(s + i + 1, 2, &oh) &&
	    digits(s + i + 4, 2, &om) && oh < 24 && om < 60) {
		off = (oh * 60.0 + om) * 60 * (s[i] == '+' ? 1 : -1);
		i += 6;
	} else
		return 0;
	if (i != n)
		return 0;
	*t = (double)day * 86400 + hh * 3600.0 + mm * 60.0 + ss + frac - off;
	return 1;
}

/* ---------------------------------------------------------------- */
/* keys                                                              */
/* ---------------------------------------------------------------- */

#define DAY_BIAS 1000000L	/* days before 1970 stay positive */

int
pack_key(const char *asin, size_t alen, const char *mkt, size_t mlen,
    long day, uint64_t *hi, uint64_t *lo)
{
	uint64_t h = 0;
	size_t i;
	int c;

	if (alen != 10 || mlen != 2)
		return 0;
	for (i = 0; i < 10; i++) {
		c = (unsigned char)asin[i];
		if (c >= '0' && c <= '9')
			h = h * 36 + (uint64_t)(c - '0');
		else if (c >= 'A' && c <= 'Z')
			h = h * 36 + 10 + (uint64_t)(c - 'A');
		else
			return 0;
	}
	for (i = 0; i < 2; i++)
		if (mkt[i] < 'A' || mkt[i] > 'Z')
			return 0;
	*hi = h;
	*lo = (uint64_t)((mkt[0] - 'A') * 26 + (mkt[1] - 'A')) << 32 |
	    (uint64_t)(day + DAY_BIAS);
	return 1;
}

void
unpack_asin(uint64_t hi, char *dst)
{
	int i, d;

	for (i = 9; i >= 0; i--) {
		d = (int)(hi % 36);
		hi /= 36;
		dst[i] = (char)(d < 10 ? '0' + d : 'A' + d - 10);
	}
	dst[10] = '\0';
}

static long
key_day(uint64_t lo)
{
	return (long)(lo & 0xffffffffu) - DAY_BIAS;
}

/* ---------------------------------------------------------------- */
/* the arena                                                         */
/* ---------------------------------------------------------------- */

const char *
arena_copy(struct arena *a, const char *p, size_t n)
{
	struct achunk *c = a->head;
	char *dst;

	if (c == NULL || c->cap - c->used < n) {
		size_t cap = n > (1u << 20) ? n : (1u << 20);

		c = xmalloc(sizeof(*c) + cap);
		c->cap = cap;
		c->used = 0;
		c->next = a->head;
		a->head = c;
		a->total += cap;
	}
	dst = c->data + c->used;
	memcpy(dst, p, n);
	c->used += n;
	return dst;
}

void
arena_reset(struct arena *a)
{
	struct achunk *c, *next;

	/* keep the newest chunk: the next group reuses it */
	if (a->head == NULL)
		return;
	for (c = a->head->next; c != NULL; c = next) {
		next = c->next;
		free(c);
	}
	a->head->next = NULL;
	a->head->used = 0;
	a->total = a->head->cap;
}

static void
arena_free(struct arena *a)
{
	struct achunk *c, *next;

	for (c = a->head; c != NULL; c = next) {
		next = c->next;
		free(c);
	}
	a->head = NULL;
}

/* ---------------------------------------------------------------- */
/* reading a row                                                     */
/* ---------------------------------------------------------------- */

/* What examine() found in one row. */
struct exam {
	uint64_t hi, lo;
	double fetched;
	struct rowsum sum;
	long fix[NPRICE + 3];	/* members to null */
	int fixkind[NPRICE + 3];
	size_t nfix;
	long anom, anomv;	/* member indexes, -1 none */
	int invalid;		/* a member failed its property's schema */
};

/* The value kinds named in an anomalies array text. */
static unsigned
value_kinds(const char *v, size_t n)
{
	const char *p = v + 1, *e = v + n - 1;
	unsigned f = 0;
	size_t len;
	int k;

	if (*v != '[')
		return 0;
	while (p < e) {
		while (p < e && (*p == ' ' || *p == ',' || *p == '\t' ||
		    *p == '\n' || *p == '\r'))
			p++;
		if (p >= e)
			break;
		len = scan_skip(p, (size_t)(e - p));
		if (*p == '"' && (k = an_lookup(p + 1, len - 2)) >= 0 &&
		    (AN_VALUE_KINDS & (1u << k)))
			f |= 1u << k;
		p += len;
	}
	return f;
}

/* Append a value's JSON text (already escaped), cut short when long. */
static void
add_val(struct buf *b, const char *v, size_t n)
{
	if (n <= 60) {
		buf_add(b, v, n);
		return;
	}
	n = 40;
	while (n > 0 && ((unsigned char)v[n] & 0xc0) == 0x80)
		n--;
	buf_add_jstr(b, v, n);
	buf_adds(b, "...");
}

/*
 * Read the members of one row (scan sc over raw).  Returns 1, or 0 with
 * the reason in r->msg.
 */
static int
examine(struct run *r, const char *raw, const struct scan *sc,
    struct exam *x)
{
	const char *asin = NULL, *mkt = NULL, *date = NULL, *k, *v;
	size_t alen = 0, mlen = 0, dlen = 0, i, j, klen, vlen, nunk = 0;
	int dup;
	struct fslot *f;
	uint64_t h;
	long day;
	double d, num = 0;
	int code;
	char tmp[64];

	memset(&x->sum, 0, sizeof(x->sum));
	x->sum.slu = NAN;
	for (i = 0; i < NPRICE; i++)
		x->sum.price[i] = NAN;
	x->sum.reviews = -1;
	x->fetched = -INFINITY;
	x->nfix = 0;
	x->anom = x->anomv = -1;
	x->invalid = 0;
	if (sc->n > r->capkhash) {
		r->capkhash = sc->n * 2;
		r->khash = xreallocarray(r->khash, r->capkhash,
		    sizeof(*r->khash));
		r->kidx = xreallocarray(r->kidx, r->capkhash,
		    sizeof(*r->kidx));
	}
	r->gen++;
	for (i = 0; i < sc->n; i++) {
		k = raw + sc->m[i].key;
		klen = sc->m[i].key_len;
		v = raw + sc->m[i].val;
		vlen = sc->m[i].val_len;
		if (sc->m[i].key_esc) {
			char *u = xmalloc(klen + 1);
			size_t ul = scan_unescape(u, k, klen);

			h = hash_bytes(u, ul);
			f = ftab_find(r->ftab, u, ul, h);
			free(u);
		} else if (i < PC_MAX && klen <= PC_KEY) {
			/* rows of one source list their names in one order */
			struct pcache *pc = &r->pc[i];

			if (pc->len == klen && memcmp(pc->key, k, klen) == 0) {
				f = pc->f;
				h = pc->h;
			} else {
				h = hash_bytes(k, klen);
				f = ftab_find(r->ftab, k, klen, h);
				pc->len = (unsigned char)klen;
				memcpy(pc->key, k, klen);
				pc->f = f;
				pc->h = h;
			}
		} else {
			h = hash_bytes(k, klen);
			f = ftab_find(r->ftab, k, klen, h);
		}
		/*
		 * Duplicate names: a known name is marked with this row's
		 * number; the others are compared with each other.
		 */
		dup = 0;
		if (f != NULL) {
			dup = f->seen == r->gen;
			f->seen = r->gen;
		} else {
			for (j = 0; j < nunk && !dup; j++)
				dup = r->khash[j] == h && (sc->m[i].key_esc ||
				    sc->m[r->kidx[j]].key_esc ||
				    (sc->m[r->kidx[j]].key_len == klen &&
				    memcmp(raw + sc->m[r->kidx[j]].key, k,
				    klen) == 0));
			r->kidx[nunk] = i;
			r->khash[nunk++] = h;
		}
		/* The record layer refused the record already unless
		 * --allow-duplicate-keys asked for the last value. */
		if (dup && !rec_duplicate_keys_allowed()) {
			r->msg.len = 0;
			buf_adds(&r->msg, "duplicate member name ");
			buf_add_jstr(&r->msg, k, klen > 40 ? 40 : klen);
			buf_adds(&r->msg, " (ambiguous record)");
			return 0;
		}
		/* each number is read once, here */
		if (sc->m[i].kind == SCAN_NUMBER &&
		    !isfinite(num = scan_number(v, vlen))) {
			r->msg.len = 0;
			buf_adds(&r->msg, "field ");
			buf_add_jstr(&r->msg, k, klen > 40 ? 40 : klen);
			buf_printf(&r->msg, ": number %.*s is out of range",
			    (int)(vlen > 40 ? 40 : vlen), v);
			return 0;
		}
		if (f == NULL)
			continue;
		if (f->sub != NULL && !f->skip && !x->invalid &&
		    !member_ok(f, v, vlen,
		    (enum scan_kind)sc->m[i].kind, sc->m[i].val_esc, num))
			x->invalid = 1;
		if (f->nf >= 0 && sc->m[i].kind != SCAN_NULL)
			x->sum.nonnull |= 1ULL << f->nf;
		code = f->code;
		switch (code) {
		case F_OTHER:
			break;
		case F_ASIN:
		case F_MKT:
		case F_DATE:
			if (sc->m[i].kind != SCAN_STRING || sc->m[i].val_esc) {
				r->msg.len = 0;
				buf_printf(&r->msg, "field \"%s\": expected a "
				    "string, got ", f->name);
				add_val(&r->msg, v, vlen);
				return 0;
			}
			if (code == F_ASIN) {
				asin = v + 1;
				alen = vlen - 2;
			} else if (code == F_MKT) {
				mkt = v + 1;
				mlen = vlen - 2;
			} else {
				date = v + 1;
				dlen = vlen - 2;
			}
			break;
		case F_FETCHED:
			if (sc->m[i].kind == SCAN_STRING &&
			    parse_time(v + 1, vlen - 2, &d))
				x->fetched = d;
			break;
		case F_SLU:
			if (sc->m[i].kind == SCAN_STRING &&
			    parse_time(v + 1, vlen - 2, &d))
				x->sum.slu = d;
			break;
		case F_ANOM:
			x->anom = (long)i;
			x->sum.flags |= value_kinds(v, vlen);
			break;
		case F_ANOMV:
			x->anomv = (long)i;
			break;
		case F_BSRCAT:
			if (sc->m[i].kind != SCAN_NULL)
				x->sum.cat = hash_bytes(v, vlen) | CAT_ID;
			break;
		case F_CATEGORY:
			/* bsr_cat, when there is one, decides */
			break;
		default:
			if (sc->m[i].kind != SCAN_NUMBER)
				break;
			d = num;
			if (code >= F_PRICE) {
				if (d <= 0) {
					x->fix[x->nfix] = (long)i;
					x->sum.nonnull &= ~(f->nf >= 0 ?
					    1ULL << f->nf : 0);
					x->fixkind[x->nfix++] = AN_PRICE;
				} else
					x->sum.price[code - F_PRICE] = d;
			} else if (code == F_BSR || code == F_SUBBSR) {
				if (d < 1) {
					x->fix[x->nfix] = (long)i;
					x->sum.nonnull &= ~(f->nf >= 0 ?
					    1ULL << f->nf : 0);
					x->fixkind[x->nfix++] = AN_BSR;
				}
			} else if (code == F_RATING) {
				if (d < 1 || d > 5) {
					x->fix[x->nfix] = (long)i;
					x->sum.nonnull &= ~(f->nf >= 0 ?
					    1ULL << f->nf : 0);
					x->fixkind[x->nfix++] = AN_RATING;
				}
			} else if (code == F_REVIEWS) {
				if (d >= 0 && d < 9007199254740992.0)
					x->sum.reviews = (int64_t)d;
			}
			break;
		}
	}
	if (x->sum.cat == 0) {
		for (i = 0; i < sc->n; i++) {
			k = raw + sc->m[i].key;
			if (sc->m[i].key_len == 8 && memcmp(k, "category", 8) ==
			    0 && sc->m[i].kind == SCAN_STRING)
				x->sum.cat = (hash_bytes(raw + sc->m[i].val,
				    sc->m[i].val_len) & ~CAT_ID) | 1;
		}
	}
	if (asin == NULL || mkt == NULL || date == NULL) {
		r->msg.len = 0;
		buf_printf(&r->msg, "field \"%s\": missing", asin == NULL ?
		    "asin" : mkt == NULL ? "marketplace" : "date");
		return 0;
	}
	if (!parse_day(date, dlen, &day)) {
		r->msg.len = 0;
		buf_adds(&r->msg, "field \"date\": expected a real day "
		    "YYYY-MM-DD, got ");
		add_val(&r->msg, date - 1, dlen + 2);
		return 0;
	}
	if (!pack_key(asin, alen, mkt, mlen, day, &x->hi, &x->lo)) {
		r->msg.len = 0;
		if (alen != 10 || !pack_key(asin, alen, "US", 2, day, &x->hi,
		    &x->lo)) {
			buf_adds(&r->msg, "field \"asin\": expected 10 "
			    "upper-case letters or digits, got ");
			add_val(&r->msg, asin - 1, alen + 2);
		} else {
			buf_adds(&r->msg, "field \"marketplace\": expected two "
			    "upper-case letters, got ");
			add_val(&r->msg, mkt - 1, mlen + 2);
		}
		return 0;
	}
	(void)tmp;
	return 1;
}

/*
 * The row without its anomalies member, the values in x->fix nulled and
 * kept in anomaly_values (after any the row had), into b.
 */
static void
rebuild(const char *raw, const struct scan *sc, const struct exam *x,
    struct buf *b)
{
	size_t i, j, n = 0;
	int nulled;

	b->len = 0;
	buf_addc(b, '{');
	for (i = 0; i < sc->n; i++) {
		if ((long)i == x->anom || (x->nfix > 0 && (long)i == x->anomv))
			continue;
		nulled = 0;
		for (j = 0; j < x->nfix; j++)
			nulled |= x->fix[j] == (long)i;
		if (n++ > 0)
			buf_addc(b, ',');
		buf_addc(b, '"');
		buf_add(b, raw + sc->m[i].key, sc->m[i].key_len);
		buf_adds(b, "\":");
		if (nulled)
			buf_adds(b, "null");
		else
			buf_add(b, raw + sc->m[i].val, sc->m[i].val_len);
	}
	if (x->nfix > 0) {
		const char *ov = NULL;
		size_t on = 0;

		buf_adds(b, ",\"anomaly_values\":{");
		for (j = 0; j < x->nfix; j++) {
			const struct scan_member *m = &sc->m[x->fix[j]];

			if (j > 0)
				buf_addc(b, ',');
			buf_addc(b, '"');
			buf_add(b, raw + m->key, m->key_len);
			buf_adds(b, "\":");
			buf_add(b, raw + m->val, m->val_len);
		}
		/* the earlier values of fields not nulled again */
		if (x->anomv >= 0 && sc->m[x->anomv].kind == SCAN_OBJECT) {
			ov = raw + sc->m[x->anomv].val;
			on = sc->m[x->anomv].val_len;
		}
		if (ov != NULL) {
			struct scan tmp;

			scan_init(&tmp);
			if (scan_text(&tmp, ov, on))
				for (i = 0; i < tmp.n; i++) {
					int again = 0;

					for (j = 0; j < x->nfix; j++) {
						const struct scan_member *m =
						    &sc->m[x->fix[j]];

						again |= m->key_len ==
						    tmp.m[i].key_len &&
						    memcmp(raw + m->key,
						    ov + tmp.m[i].key,
						    m->key_len) == 0;
					}
					if (again)
						continue;
					buf_adds(b, ",\"");
					buf_add(b, ov + tmp.m[i].key,
					    tmp.m[i].key_len);
					buf_adds(b, "\":");
					buf_add(b, ov + tmp.m[i].val,
					    tmp.m[i].val_len);
				}
			scan_free(&tmp);
		}
		buf_addc(b, '}');
	}
	buf_addc(b, '}');
}

static const struct scan *
scan_of(struct run *r, struct record *rec, struct scan *own)
{
	const struct scan *sc = rec_scan(rec);
	const char *raw;
	size_t len;

	if (sc != NULL)
		return sc;
	/* the libjq backend keeps no spans: scan the bytes ourselves */
	raw = rec_raw(rec, &len);
	if (!scan_text(own, raw, len))
		return NULL;
	(void)r;
	return own;
}

static void
store(struct run *r, const struct exam *x, const char *raw, size_t len,
    int copy, const char *src, long line)
{
	struct row *w;

	if (r->nrows == r->caprows) {
		r->caprows = r->caprows ? r->caprows * 2 : 1024;
		r->rows = xreallocarray(r->rows, r->caprows, sizeof(*r->rows));
	}
	w = &r->rows[r->nrows++];
	w->hi = x->hi;
	w->lo = x->lo;
	w->fetched = x->fetched;
	w->raw = copy ? arena_copy(&r->arena, raw, len) : raw;
	w->len = len;
	w->line = line;
	if (r->nsrcs == 0 || strcmp(r->srcs[r->nsrcs - 1], src) != 0) {
		r->srcs = xreallocarray(r->srcs, r->nsrcs + 1,
		    sizeof(*r->srcs));
		r->srcs[r->nsrcs++] = xstrdup(src);
	}
	w->src = (unsigned)(r->nsrcs - 1);
	w->sum = x->sum;
}

void
reason_fold(struct buf *dst, const char *what, const char *why)
{
	const char *parts[2] = { what, why };
	size_t i;
	int k;

	/* the report counts reasons, not columns or values: 12 -> N */
	dst->len = 0;
	for (k = 0; k < 2; k++)
		for (i = 0; parts[k][i] != '\0'; i++) {
			if (parts[k][i] >= '0' && parts[k][i] <= '9') {
				if (dst->len == 0 ||
				    dst->data[dst->len - 1] != 'N')
					buf_addc(dst, 'N');
			} else
				buf_addc(dst, parts[k][i]);
		}
	buf_addc(dst, '\0');
	dst->len--;
}

void
reject_line(struct run *r, const char *src, long line, const char *raw,
    size_t len, const char *what, const char *why)
{
	struct buf m;

	buf_init(&m);
	buf_adds(&m, what);
	buf_adds(&m, why);
	/* why may be r->msg itself: fold the copy */
	reason_fold(&r->msg, "", m.data);
	tally_add(&r->rejects, r->msg.data, r->msg.len);
	r->msg.len = 0;
	acct_reject(&r->ac, src, line, raw, len, m.data);
	buf_free(&m);
}

#define reject reject_line

void
rows_check_order(struct run *r, const struct nd_line *ln, uint64_t hi,
    uint64_t lo)
{
	char a[11], b[11], da[11], db[11];

	if (r->have_last && (hi < r->last_hi || (hi == r->last_hi &&
	    lo < r->last_lo))) {
		unpack_asin(r->last_hi, a);
		unpack_asin(hi, b);
		format_day(key_day(r->last_lo), da);
		format_day(key_day(lo), db);
		out_flush(r->o);
		die_at(ln->source, ln->lineno, "input not sorted by asin, "
		    "marketplace, date: %s %c%c %s after %s %c%c %s (drop "
		    "--sorted)", b, 'A' + (int)((lo >> 32) / 26),
		    'A' + (int)((lo >> 32) % 26), db, a,
		    'A' + (int)((r->last_lo >> 32) / 26),
		    'A' + (int)((r->last_lo >> 32) % 26), da);
	}
	r->have_last = 1;
	r->last_hi = hi;
	r->last_lo = lo;
}

/*
 * row_take() and row_take_scan(): sc indexes raw; rec is raw's record,
 * or NULL for a row this tool built and indexed itself (parsed into
 * run.recb only when the whole-record check needs it).
 */
/*
 * Whether the row raw (indexed by sc) is dated before --since.  Only a
 * well-formed date says so: any other row goes on to examine(), which
 * rejects a bad one as it would without --since.
 */
static int
before_since(const struct run *r, const char *raw, const struct scan *sc)
{
	const struct scan_member *m;
	long i, day;

	if ((i = scan_find(sc, raw, "date", 4)) < 0)
		return 0;
	m = &sc->m[i];
	if (m->kind != SCAN_STRING || m->val_esc || m->val_len != 12)
		return 0;
	return parse_day(raw + m->val + 1, 10, &day) && day < r->opt->since;
}

static int
take(struct run *r, struct record *rec, const struct scan *sc,
    const char *src, long line, const char *raw, size_t len,
    const char *env_raw, size_t env_len, const char *what)
{
	const char *q = env_raw ? env_raw : raw;
	size_t qlen = env_raw ? env_len : len;
	struct record *chk = rec;
	struct nd_line nl;
	struct exam x;
	const char *err;
	size_t i;

	/*
	 * Rows older than --since are left out before the member checks,
	 * the schema and the merge: a daily run that needs the last weeks
	 * pays for them only, not for the whole history it is given.
	 */
	if (r->opt->since != LONG_MIN && before_since(r, raw, sc)) {
		r->before_since++;
		r->ac.dropped++;
		return 0;
	}
	if (!examine(r, raw, sc, &x)) {
		reject(r, src, line, q, qlen, what, r->msg.data);
		return 0;
	}
	if (r->opt->sorted && env_raw == NULL) {
		/* a flat row: its key must not go back; older keys are done */
		struct nd_line at = { raw, len, src, line, NULL };

		rows_check_order(r, &at, x.hi, x.lo);
		rows_flush_before(r, x.hi, x.lo);
	}
	for (i = 0; i < x.nfix; i++)
		x.sum.flags |= 1u << x.fixkind[i];
	nl.source = src;
	nl.lineno = line;
	nl.error = NULL;
	if (x.nfix > 0 || x.anom >= 0) {
		/* the row changes: check the bytes that will go out */
		rebuild(raw, sc, &x, &r->b2);
		raw = r->b2.data;
		len = r->b2.len;
		nl.buf = raw;
		nl.len = len;
		if (!rec_parse(r->rec2, &nl, &err)) {
			reject(r, src, line, q, qlen, what, err);
			return 0;
		}
		chk = r->rec2;
	}
	/*
	 * Rebuilt rows, and rows the member checks refused (for the engine's
	 * own message), get the whole-record check.
	 */
	r->msg.len = 0;
	if (!r->fast || chk != rec || x.invalid) {
		if (chk == NULL) {
			nl.buf = raw;
			nl.len = len;
			if (!rec_parse(r->recb, &nl, &err)) {
				reject(r, src, line, q, qlen, what, err);
				return 0;
			}
			chk = r->recb;
		}
		if (schema_check_record(r->sc, chk, 0, &r->msg) > 0) {
			reject(r, src, line, q, qlen, what, r->msg.data);
			return 0;
		}
	}
	store(r, &x, raw, len, chk != rec || env_raw != NULL || !r->stable,
	    src, line);
	return 1;
}

int
row_take(struct run *r, struct record *rec, const char *raw, size_t len,
    const char *env_raw, size_t env_len, const char *what)
{
	const char *src = rec_source(rec);
	long line = rec_lineno(rec);
	const struct scan *sc;

	if ((sc = scan_of(r, rec, &r->scan2)) == NULL) {
		reject(r, src, line, env_raw ? env_raw : raw,
		    env_raw ? env_len : len, what, "invalid JSON");
		return 0;
	}
	return take(r, rec, sc, src, line, raw, len, env_raw, env_len, what);
}

int
row_take_scan(struct run *r, const struct scan *sc, const char *src,
    long line, const char *raw, size_t len, const char *env_raw,
    size_t env_len, const char *what)
{
	return take(r, NULL, sc, src, line, raw, len, env_raw, env_len, what);
}

/* ---------------------------------------------------------------- */
/* merging and writing                                               */
/* ---------------------------------------------------------------- */

static int
cmp_rows(const void *pa, const void *pb)
{
	const struct row *a = pa, *b = pb;
	size_t n;
	int c;

	if (a->hi != b->hi)
		return a->hi < b->hi ? -1 : 1;
	if (a->lo != b->lo)
		return a->lo < b->lo ? -1 : 1;
	/* newest first; ties broken by the bytes, so order never matters */
	if (a->fetched != b->fetched)
		return a->fetched > b->fetched ? -1 : 1;
	n = a->len < b->len ? a->len : b->len;
	if ((c = memcmp(a->raw, b->raw, n)) != 0)
		return c;
	return a->len < b->len ? -1 : a->len > b->len;
}

/* The members of rows g[0..k) merged into r->b, newest value first. */
static int
merge(struct run *r, struct row *const *g, size_t k)
{
	size_t j, i, e;
	struct scan *sc;
	struct mentry *m;
	int isnull;

	if (k > r->npool) {
		r->pool = xreallocarray(r->pool, k, sizeof(*r->pool));
		for (j = r->npool; j < k; j++)
			scan_init(&r->pool[j]);
		r->npool = k;
	}
	r->nment = 0;
	for (j = 0; j < k; j++) {
		sc = &r->pool[j];
		if (!scan_text(sc, g[j]->raw, g[j]->len))
			return 0;
		for (i = 0; i < sc->n; i++) {
			const char *key = g[j]->raw + sc->m[i].key;
			size_t klen = sc->m[i].key_len;

			isnull = sc->m[i].kind == SCAN_NULL;
			for (e = 0; e < r->nment; e++)
				if (r->ment[e].klen == klen &&
				    memcmp(r->ment[e].key, key, klen) == 0)
					break;
			if (e == r->nment) {
				if (r->nment == r->capment) {
					r->capment = r->capment ?
					    r->capment * 2 : 32;
					r->ment = xreallocarray(r->ment,
					    r->capment, sizeof(*r->ment));
				}
				r->nment++;
			} else if (!r->ment[e].isnull || isnull)
				continue;
			m = &r->ment[e];
			m->key = key;
			m->klen = klen;
			m->val = g[j]->raw + sc->m[i].val;
			m->vlen = sc->m[i].val_len;
			m->isnull = isnull;
		}
	}
	r->b.len = 0;
	buf_addc(&r->b, '{');
	for (e = 0; e < r->nment; e++) {
		if (e > 0)
			buf_addc(&r->b, ',');
		buf_addc(&r->b, '"');
		buf_add(&r->b, r->ment[e].key, r->ment[e].klen);
		buf_adds(&r->b, "\":");
		buf_add(&r->b, r->ment[e].val, r->ment[e].vlen);
	}
	buf_addc(&r->b, '}');
	return 1;
}

/* The row-to-row anomalies of sum against the previous row. */
static unsigned
relational(struct run *r, uint64_t hi, uint64_t lo, double fetched,
    const struct rowsum *s)
{
	const struct opts *o = r->opt;
	const struct rowsum *p = &r->prev;
	unsigned f = 0;
	double ref, a, b;
	size_t i;

	if (!isnan(s->slu)) {
		ref = ((double)key_day(lo) + 1) * 86400 - 1;
		if (isfinite(fetched) && fetched < ref)
			ref = fetched;
		if (ref - s->slu > o->stale_hours * 3600)
			f |= 1u << AN_STALE;
	}
	if (!r->have_prev || r->prev_hi != hi ||
	    (r->prev_lo >> 32) != (lo >> 32))
		return f;
	if (p->reviews >= 0 && s->reviews >= 0 && s->reviews < p->reviews)
		f |= 1u << AN_REVIEWS_FALL;
	for (i = 0; i < NPRICE; i++) {
		a = p->price[i];
		b = s->price[i];
		if (isnan(a) || isnan(b))
			continue;
		if (a / b > o->max_price_jump || b / a > o->max_price_jump)
			f |= 1u << AN_PRICE_JUMP;
		break;
	}
	/* an id against an id, a name against a name */
	if (p->cat != 0 && s->cat != 0 && (p->cat & CAT_ID) ==
	    (s->cat & CAT_ID) && p->cat != s->cat)
		f |= 1u << AN_CATEGORY;
	return f;
}

/* Write (or drop) the group g[0..k) of one key. */
static void
emit(struct run *r, struct row *const *g, size_t k)
{
	const char *raw = g[0]->raw, *src = r->srcs[g[0]->src], *err;
	size_t len = g[0]->len, i, e;
	struct rowsum sum = g[0]->sum;
	unsigned flags, keep;
	struct nd_line nl;
	struct exam x;
	char asin[11];
	uint64_t bits;

	if (k > 1) {
		r->ac.merged += (long long)k - 1;
		if (!merge(r, g, k)) {
			reject(r, src, g[0]->line, raw, len, "",
			    "merged row is not JSON");
			return;
		}
		raw = r->b.data;
		len = r->b.len;
		nl.buf = raw;
		nl.len = len;
		nl.source = src;
		nl.lineno = g[0]->line;
		nl.error = NULL;
		if (!rec_parse(r->rec2, &nl, &err)) {
			reject(r, src, g[0]->line, raw, len, "merged row: ",
			    err);
			return;
		}
		if (!examine(r, raw, scan_of(r, r->rec2, &r->scan3), &x)) {
			reject(r, src, g[0]->line, raw, len, "merged row: ",
			    r->msg.data);
			return;
		}
		r->msg.len = 0;
		if ((!r->fast || x.invalid) &&
		    schema_check_record(r->sc, r->rec2, 0, &r->msg) > 0) {
			reject(r, src, g[0]->line, raw, len, "merged row: ",
			    r->msg.data);
			return;
		}
		sum = x.sum;
		for (i = 0; i < k; i++)
			sum.flags |= g[i]->sum.flags;
	}
	flags = sum.flags | relational(r, g[0]->hi, g[0]->lo, g[0]->fetched,
	    &sum);
	r->have_prev = 1;
	r->prev_hi = g[0]->hi;
	r->prev_lo = g[0]->lo;
	r->prev = sum;

	/* the row as it goes out: its bytes, then the anomalies */
	while (len > 0 && raw[len - 1] != '}')
		len--;
	r->b2.len = 0;
	buf_adds(&r->b2, len > 2 ? ",\"anomalies\":[" : "\"anomalies\":[");
	for (e = 0, keep = flags; e < AN_COUNT; e++) {
		if (!(flags & (1u << e)))
			continue;
		buf_addc(&r->b2, '"');
		buf_adds(&r->b2, an_name[e]);
		buf_addc(&r->b2, '"');
		keep &= ~(1u << e);
		if (keep)
			buf_addc(&r->b2, ',');
	}
	buf_adds(&r->b2, "]}\n");
	r->rows_checked++;
	for (e = 0; e < AN_COUNT; e++)
		if (flags & (1u << e))
			r->an_rows[e]++;
	if (flags & r->opt->drop) {
		struct buf line;

		buf_init(&line);
		buf_add(&line, raw, len - 1);
		buf_add(&line, r->b2.data, r->b2.len - 1);
		r->msg.len = 0;
		buf_adds(&r->msg, "dropped for anomaly");
		for (e = 0; e < AN_COUNT; e++)
			if (flags & r->opt->drop & (1u << e))
				buf_printf(&r->msg, " %s", an_name[e]);
		buf_adds(&r->msg, " (--drop-anomalies)");
		reject(r, src, g[0]->line, line.data, line.len, "",
		    r->msg.data);
		buf_free(&line);
		return;
	}
	/* straight from the row's bytes: no copy of the line */
	out_write(r->o, raw, len - 1);
	out_write(r->o, r->b2.data, r->b2.len);
	r->ac.out++;
	r->rows_out++;
	bits = ~sum.nonnull & (r->nnf == 64 ? ~0ULL : (1ULL << r->nnf) - 1);
	while (bits) {
		r->nulls[__builtin_ctzll(bits)]++;
		bits &= bits - 1;
	}
	if (r->nexpected > 0) {
		unpack_asin(g[0]->hi, asin);
		expect_mark(r, asin);
	}
}

/* Emit the groups of the rows ord[0..n), in key order. */
static void
emit_all(struct run *r, struct row **ord, size_t n)
{
	size_t a = 0, b;

	while (a < n) {
		/* the rows are scattered: ask for the next ones early */
		if (a + 8 < n) {
			__builtin_prefetch(ord[a + 8]);
			if (a + 4 < n)
				__builtin_prefetch(ord[a + 4]->raw);
		}
		for (b = a + 1; b < n && ord[b]->hi == ord[a]->hi &&
		    ord[b]->lo == ord[a]->lo; b++)
			;
		emit(r, ord + a, b - a);
		a = b;
	}
}

void
rows_flush_before(struct run *r, uint64_t hi, uint64_t lo)
{
	struct row **ord;
	size_t n = 0, i;

	if (r->nrows == 0)
		return;
	qsort(r->rows, r->nrows, sizeof(*r->rows), cmp_rows);
	while (n < r->nrows && (r->rows[n].hi < hi || (r->rows[n].hi == hi &&
	    r->rows[n].lo < lo)))
		n++;
	if (n == 0)
		return;
	ord = xreallocarray(NULL, n, sizeof(*ord));
	for (i = 0; i < n; i++)
		ord[i] = &r->rows[i];
	emit_all(r, ord, n);
	free(ord);
	memmove(r->rows, r->rows + n, (r->nrows - n) * sizeof(*r->rows));
	r->nrows -= n;
	if (r->nrows == 0)
		arena_reset(&r->arena);
}

/* What the in-memory sort moves: the key and the way back to the row. */
struct skey {
	uint64_t hi, lo;
	double fetched;
	const struct row *row;
};

static int
cmp_skey(const void *pa, const void *pb)
{
	const struct skey *a = pa, *b = pb;

	if (a->hi != b->hi)
		return a->hi < b->hi ? -1 : 1;
	if (a->lo != b->lo)
		return a->lo < b->lo ? -1 : 1;
	if (a->fetched != b->fetched)
		return a->fetched > b->fetched ? -1 : 1;
	return cmp_rows(a->row, b->row);
}

/*
 * The sort keys of rows[0..n), sorted.  One pass spreads the keys over
 * buckets by the high bits of hi - min(hi), an order-keeping map, so each
 * bucket holds a few keys to sort in cache: ASINs spread evenly over
 * their range.  Buckets that come out large (a skewed range) get qsort.
 */
static struct skey *
sort_keys(const struct row *rows, size_t n)
{
	struct skey *in = xreallocarray(NULL, n, sizeof(*in)), *out, t;
	uint64_t min = UINT64_MAX, max = 0;
	size_t nb = 1, *start, i, j, a, b;
	int shift = 0;

	for (i = 0; i < n; i++) {
		in[i].hi = rows[i].hi;
		in[i].lo = rows[i].lo;
		in[i].fetched = rows[i].fetched;
		in[i].row = &rows[i];
		if (rows[i].hi < min)
			min = rows[i].hi;
		if (rows[i].hi > max)
			max = rows[i].hi;
	}
	if (n < 64) {
		qsort(in, n, sizeof(*in), cmp_skey);
		return in;
	}
	while (nb < n / 4 && nb < (1u << 22))
		nb <<= 1;
	while (((max - min) >> shift) >= nb)
		shift++;
	start = xcalloc(nb + 1, sizeof(*start));
	for (i = 0; i < n; i++)
		start[((in[i].hi - min) >> shift) + 1]++;
	for (i = 1; i <= nb; i++)
		start[i] += start[i - 1];
	out = xreallocarray(NULL, n, sizeof(*out));
	for (i = 0; i < n; i++)
		out[start[(in[i].hi - min) >> shift]++] = in[i];
	free(in);
	/* start[k] is now the end of bucket k */
	for (a = 0, i = 0; i < nb; a = start[i++]) {
		b = start[i];
		if (b - a > 32) {
			qsort(out + a, b - a, sizeof(*out), cmp_skey);
			continue;
		}
		for (j = a + 1; j < b; j++) {
			size_t k = j;

			t = out[j];
			while (k > a && cmp_skey(&t, &out[k - 1]) < 0) {
				out[k] = out[k - 1];
				k--;
			}
			out[k] = t;
		}
	}
	free(start);
	return out;
}

void
rows_flush_all(struct run *r)
{
	struct skey *keys;
	struct row **ord;
	size_t i, a, b;

	if (r->nrows > 0) {
		/*
		 * Sort small keys side by side, not the rows: the comparisons
		 * then stay in cache; only ties of fetched_at read the bytes.
		 */
		keys = sort_keys(r->rows, r->nrows);
		ord = xreallocarray(NULL, r->nrows, sizeof(*ord));
		for (i = 0; i < r->nrows; i++)
			ord[i] = (struct row *)keys[i].row;
		/* groups from the keys, side by side, not from the rows */
		a = 0;
		while (a < r->nrows) {
			if (a + 8 < r->nrows) {
				__builtin_prefetch(ord[a + 8]);
				__builtin_prefetch(ord[a + 4]->raw);
			}
			for (b = a + 1; b < r->nrows && keys[b].hi ==
			    keys[a].hi && keys[b].lo == keys[a].lo; b++)
				;
			emit(r, ord + a, b - a);
			a = b;
		}
		free(keys);
		free(ord);
	}
	r->nrows = 0;
	arena_reset(&r->arena);
}

void
rows_free(struct run *r)
{
	size_t i;

	for (i = 0; i < FTAB_SIZE && r->ftab != NULL; i++) {
		schema_free(r->ftab[i].sub);
		free(r->ftab[i].valid);
	}
	free(r->ftab);
	free(r->pc);
	for (i = 0; i < r->nprop; i++)
		free(r->props[i]);

	for (i = 0; i < r->npool; i++)
		scan_free(&r->pool[i]);
	free(r->pool);
	free(r->ment);
	free(r->khash);
	free(r->kidx);
	free(r->rows);
	for (i = 0; i < r->nsrcs; i++)
		free(r->srcs[i]);
	free(r->srcs);
	arena_free(&r->arena);
}

void
run_work_init(struct run *r)
{
	r->rec = rec_new();
	r->rec2 = rec_new();
	r->recb = rec_new();
	scan_init(&r->scan);
	scan_init(&r->scan2);
	scan_init(&r->scan3);
	scan_init(&r->bscan);
	keepa_product_init(&r->kp);
	buf_init(&r->b);
	buf_init(&r->b2);
	buf_init(&r->msg);
}

void
run_work_free(struct run *r)
{
	keepa_product_free(&r->kp);
	scan_free(&r->scan);
	scan_free(&r->scan2);
	scan_free(&r->scan3);
	scan_free(&r->bscan);
	rec_free(r->rec);
	rec_free(r->rec2);
	rec_free(r->recb);
	buf_free(&r->b);
	buf_free(&r->b2);
	buf_free(&r->msg);
	tally_free(&r->status);
	tally_free(&r->reasons);
	tally_free(&r->rejects);
}
