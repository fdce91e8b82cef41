/*
 * genfacts - deterministic generator of daily ASIN fact rows (NDJSON), the
 * data behind the tests and `make bench`.
 *
 * Every (asin, marketplace) series draws its daily values from its own
 * xoshiro256** stream, seeded from --seed and the series number, so the
 * rows of a series do not depend on the order in which they are written:
 * --sorted (asin, marketplace, date order) writes the same rows as the
 * default day-major order (one day's crawl after another, shuffled within
 * the day), only reordered, as long as --rows does not cut the output.
 * Each row draws its re-fetch and corruption dice whatever the rates, so
 * a change of --bad-rate corrupts rows in place and leaves the rest of
 * the output byte-identical.
 *
 * The model: prices walk around a category level with repricings and
 * promotions (10-40% off for 1-7 days), log-BSR reverts to a per-series
 * target, promotions lift it, about 3% of long series "break out" (BSR
 * improves 5-50x over 14 days and stays), reviews never decrease and grow
 * with sales ~ bsr^-0.8, rating is null until the first review.
 */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "asin.h"

#define OUTBUF (1u << 20)
#define ROWMAX 2048		/* bytes; a title is at most TITLEMAX raw */
#define TITLEMAX 240

struct mkt {
	const char *code;
	const char *currency;
	double share;		/* of new ASIN codes */
	double fx;		/* price level against USD */
	double sales;		/* sales scale against US */
	int whole;		/* prices in whole units (JPY) */
	int lang;		/* title word pool: 0 en, 1 de, 2 fr, 3 ja */
};

static const struct mkt mkts[] = {
	{ "US", "USD", 0.50, 1.0, 1.00, 0, 0 },
	{ "DE", "EUR", 0.18, 0.92, 0.30, 0, 1 },
	{ "GB", "GBP", 0.14, 0.79, 0.25, 0, 0 },
	{ "JP", "JPY", 0.10, 148.0, 0.24, 1, 3 },
	{ "FR", "EUR", 0.08, 0.92, 0.15, 0, 2 },
};
#define NMKT (sizeof(mkts) / sizeof(mkts[0]))

/* Ordered roughly by share of listings; weights fall off as 1/(i+1)^0.9. */
static const char *const categories[] = {
	"Home & Kitchen", "Beauty & Personal Care", "Clothing, Shoes & Jewelry",
	"Health & Household", "Toys & Games", "Sports & Outdoors",
	"Electronics", "Tools & Home Improvement", "Pet Supplies",
	"Kitchen & Dining", "Office Products", "Automotive", "Baby Products",
	"Patio, Lawn & Garden", "Cell Phones & Accessories",
	"Computers & Accessories", "Grocery & Gourmet Food",
	"Arts, Crafts & Sewing", "Books", "Video Games",
	"Industrial & Scientific", "Musical Instruments", "Appliances",
	"Garden & Outdoor", "Camera & Photo", "Luggage & Travel Gear",
	"Handmade Products", "Software", "Movies & TV", "CDs & Vinyl",
	"Household Supplies", "Smart Home", "Collectibles & Fine Art",
	"Amazon Devices", "Watches", "Party Supplies", "Lighting",
	"Bedding", "Storage & Organization", "Everything Else",
};
#define NCAT (sizeof(categories) / sizeof(categories[0]))

static const char *const brands[] = {
	"Orvane", "Kestrel", "Brightnest", "Tamaro", "Fjordline", "Quillon",
	"Marlowe & Finch", "Zephra", "Castora", "Helvik", "Lumo", "Pinecrest",
	"Arkwell", "Sorella", "Vexa", "Bramble", "Northtide", "Calyx",
	"Tidewell", "Emberly", "Koru", "Galvan", "Sable&Oak", "Nuvio",
	"Wrenfield", "Ostara", "Plume", "Ridgeback", "Solenne", "Tekko",
};
#define NBRAND (sizeof(brands) / sizeof(brands[0]))

static const char *const adjectives[] = {
	"Premium", "Heavy Duty", "Portable", "Stainless Steel", "Cordless",
	"Waterproof", "Ergonomic", "Compact", "Adjustable", "Anti-Slip",
	"Rechargeable", "Reusable", "Professional", "Slim", "Collapsible",
	"Organic", "Insulated", "Extra Large", "Smart", "Lightweight",
};
#define NADJ (sizeof(adjectives) / sizeof(adjectives[0]))

static const char *const nouns[] = {
	"Drawer Organizer", "Travel Mug", "Phone Stand", "Reading Lamp",
	"Cat Tree", "Resistance Bands", "Pour Over Kettle", "Soundbar",
	"Knife Set", "Hair Dryer", "Laptop Stand", "Hose Reel", "Dash Cam",
	"Night Light", "Graphics Tablet", "Bath Mat", "Trail Shoes",
	"Silicone Baking Mats", "Power Bank", "Daypack", "Magnesium Tablets",
	"Blackout Curtains", "Label Maker", "Monitor Arm",
};
#define NNOUN (sizeof(nouns) / sizeof(nouns[0]))

/* Attributes; the inch marks put escaped quotes into the JSON. */
static const char *const attr_en[] = {
	"15.6\"", "13.3\"", "27\" Monitor", "Pack of 4", "Set of 2",
	"Charcoal Grey", "Midnight Blue", "BPA Free", "4K UHD", "Unisex",
	"2025 Edition", "500 ml", "with Carry Bag", "Dishwasher Safe",
	"for Toddlers", "USB-C", "XL", "Gift Box", "Travel Size",
	"Bamboo", "100W PD", "Tool-Free Assembly", "Scratch Resistant",
	"Spill Proof", "Lifetime Warranty", "1/4\" Thread",
};
#define NATTR_EN (sizeof(attr_en) / sizeof(attr_en[0]))

static const char *const attr_de[] = {
	"für Küche und Bad", "Größe M", "spritzwassergeschützt", "Edelstahl",
	"spülmaschinengeeignet", "mit Tragegriff", "Anthrazit", "2er Set",
	"kabellos", "rutschfest", "Aufbewahrungskorb", "Thermoskanne",
	"Zubehör", "für Katzen", "Geschenk für Männer", "höhenverstellbar",
	"Stehlampe", "Schutzhülle", "Schnellladegerät", "Bio-Qualität",
	"Weiß", "Maße 40 × 30 cm",
};
#define NATTR_DE (sizeof(attr_de) / sizeof(attr_de[0]))

static const char *const attr_fr[] = {
	"pour la maison", "imperméable", "en acier inoxydable", "avec poignée",
	"Blanc cassé", "lot de 2", "sans fil", "antidérapant", "panier de rangement",
	"bouteille isotherme", "ustensiles de cuisine", "pour chats",
	"cadeau idéal", "réglable en hauteur", "lampadaire", "housse de protection",
	"chargeur rapide", "qualité supérieure", "Édition été", "très léger",
};
#define NATTR_FR (sizeof(attr_fr) / sizeof(attr_fr[0]))

static const char *const attr_ja[] = {
	"ステンレス製", "大容量", "防水", "コードレス", "折りたたみ式", "収納ケース",
	"保温ボトル", "スマホスタンド", "読書灯", "猫用", "ヨガ", "急速充電",
	"グレー", "2個セット", "ギフト", "軽量", "国内正規品", "【2025年モデル】",
	"男女兼用", "送料無料",
};
#define NATTR_JA (sizeof(attr_ja) / sizeof(attr_ja[0]))

static const char alnum[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";

enum bad_kind {
	BAD_NONE = -1,
	BAD_NULL_PRICE,
	BAD_NEG_PRICE,
	BAD_BSR_ZERO,
	BAD_NO_ASIN,
	BAD_MALFORMED,
	NBAD
};

struct rng {
	uint64_t s[4];
};

struct series {
	struct rng rng;
	char asin[11];
	int mkt;
	int cat;
	char *title;		/* JSON string body, escaped, no quotes */
	size_t title_len;
	double base_lp;		/* log price level */
	double lp;
	int promo_left;
	double promo_f;
	int psych;		/* x.99 pricing */
	double target_lb;	/* log BSR the walk reverts to */
	double lb;
	int bo_day;		/* breakout start day, -1: none */
	double bo_step;
	double rating_base;
	double rating;
	long long reviews;
	double review_rate;
	int bullets;
	int images;
	int aplus;
	int start, end;		/* first and last listed day */
	int slot;		/* usual crawl second of the day */
};

/* Command-line settings. */
static uint64_t seed = 42;
static long long nrows = -1;	/* -1: every row of the universe */
static long long nasins = -1;	/* -1: sized from --rows, else 1000 */
static int ndays = 100;
static double dup_rate = 0.02;
static double bad_rate = 0.0;
static int sorted;
static int verbose;
static int start_y = 2024, start_m = 1, start_d = 1;

static char **dates;		/* "YYYY-MM-DD" per day */
static struct series *ser;
static size_t nser;

static char *obuf;
static size_t olen;
static long long written;

/* splitmix64: expands one seed word into well-mixed state words. */
static uint64_t
splitmix(uint64_t *x)
{
	uint64_t z = (*x += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

static void
rng_seed(struct rng *r, uint64_t a, uint64_t b)
{
	uint64_t x = a ^ splitmix(&b);
	int i;

	for (i = 0; i < 4; i++)
		r->s[i] = splitmix(&x);
}

static inline uint64_t
rotl(uint64_t x, int k)
{
	return (x << k) | (x >> (64 - k));
}

/* xoshiro256** */
static inline uint64_t
rng_next(struct rng *r)
{
	uint64_t *s = r->s;
	uint64_t out = rotl(s[1] * 5, 7) * 9;
	uint64_t t = s[1] << 17;

	s[2] ^= s[0];
	s[3] ^= s[1];
	s[1] ^= s[2];
	s[0] ^= s[3];
	s[2] ^= t;
	s[3] = rotl(s[3], 45);
	return out;
}

/* Uniform in [0, 1). */
static inline double
uni(struct rng *r)
{
	return (double)(rng_next(r) >> 11) * 0x1.0p-53;
}

static inline double
uniform(struct rng *r, double lo, double hi)
{
	return lo + (hi - lo) * uni(r);
}

/* Uniform integer in [0, n); the modulo bias is far below what matters. */
static inline long
below(struct rng *r, long n)
{
	return (long)(rng_next(r) % (uint64_t)n);
}

static double
gauss(struct rng *r, double mu, double sigma)
{
	double u = 1.0 - uni(r), v = uni(r);

	return mu + sigma * sqrt(-2.0 * log(u)) * cos(2.0 * M_PI * v);
}

static long long
poisson(struct rng *r, double lam)
{
	double limit, p;
	long long k;

	if (lam <= 0)
		return 0;
	if (lam > 30) {
		k = llround(gauss(r, lam, sqrt(lam)));
		return k < 0 ? 0 : k;
	}
	limit = exp(-lam);
	for (k = 0, p = uni(r); p > limit; k++)
		p *= uni(r);
	return k;
}

static inline double
clamp(double x, double lo, double hi)
{
	return x < lo ? lo : x > hi ? hi : x;
}

/* Index drawn with probability w[i] / sum(w). */
static int
pick(struct rng *r, const double *w, int n)
{
	double sum = 0, u;
	int i;

	for (i = 0; i < n; i++)
		sum += w[i];
	u = uni(r) * sum;
	for (i = 0; i < n - 1; i++) {
		if (u < w[i])
			return i;
		u -= w[i];
	}
	return n - 1;
}

/* Days since 1970-01-01 of a civil date (proleptic Gregorian). */
static long
days_from_civil(int y, int m, int d)
{
	long era, yoe, doy, doe;

	y -= m <= 2;
	era = (y >= 0 ? y : y - 399) / 400;
	yoe = y - era * 400;
	doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + doe - 719468;
}

static void
civil_from_days(long z, int *y, int *m, int *d)
{
	long era, doe, yoe, doy, mp;

	z += 719468;
	era = (z >= 0 ? z : z - 146096) / 146097;
	doe = z - era * 146097;
	yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	mp = (5 * doy + 2) / 153;
	*d = (int)(doy - (153 * mp + 2) / 5 + 1);
	*m = (int)(mp < 10 ? mp + 3 : mp - 9);
	*y = (int)(yoe + era * 400 + (*m <= 2));
}

/* Append s to the title as JSON string content. */
static size_t
title_add(char *t, size_t n, const char *s)
{
	for (; *s != '\0'; s++) {
		if (*s == '"' || *s == '\\')
			t[n++] = '\\';
		t[n++] = *s;
	}
	return n;
}

/*
 * A listing title of about target bytes: brand, adjective, noun and
 * attributes in the marketplace's language (70% of JP titles are all
 * Japanese), joined the ways sellers join them.
 */
static void
make_title(struct series *x, struct rng *r)
{
	const char *const *pool;
	const char *sep, *parts[40];
	char t[TITLEMAX * 2 + 16];
	size_t n = 0, raw, npool, np = 0, i, j;
	int lang = mkts[x->mkt].lang;
	size_t target = (size_t)clamp(gauss(r, 120, 35), 60, 200);

	if (lang == 3 && uni(r) < 0.7) {
		pool = attr_ja, npool = NATTR_JA, sep = " ";
		parts[np++] = brands[below(r, NBRAND)];
	} else {
		if (lang == 1)
			pool = attr_de, npool = NATTR_DE;
		else if (lang == 2)
			pool = attr_fr, npool = NATTR_FR;
		else
			pool = attr_en, npool = NATTR_EN;
		sep = uni(r) < 0.6 ? ", " : " - ";
		parts[np++] = brands[below(r, NBRAND)];
		parts[np++] = adjectives[below(r, NADJ)];
		parts[np++] = nouns[below(r, NNOUN)];
	}
	/* Attributes in a random order, each at most once. */
	for (i = 0; i < npool; i++)
		parts[np + i] = pool[i];
	for (i = npool; i > 1; i--) {
		const char *tmp;

		j = (size_t)below(r, (long)i);
		tmp = parts[np + i - 1];
		parts[np + i - 1] = parts[np + j];
		parts[np + j] = tmp;
	}
	np += npool;
	raw = 0;
	for (i = 0; i < np; i++) {
		size_t w = strlen(parts[i]) + (i ? strlen(sep) : 0);

		if (i >= 3 && raw >= target)
			break;
		if (raw + w > TITLEMAX)
			break;
		if (i)
			n = title_add(t, n, sep);
		n = title_add(t, n, parts[i]);
		raw += w;
	}
	x->title = xmalloc(n + 1);
	memcpy(x->title, t, n);
	x->title[n] = '\0';
	x->title_len = n;
}

/* Open-addressing set of ASIN codes, to keep new codes unique. */
static char (*codes)[10];
static size_t codes_cap;

static int
code_insert(const char *c)
{
	uint64_t h = 1469598103934665603ULL;
	size_t i;

	for (i = 0; i < 10; i++)
		h = (h ^ (unsigned char)c[i]) * 1099511628211ULL;
	for (i = h & (codes_cap - 1);; i = (i + 1) & (codes_cap - 1)) {
		if (codes[i][0] == '\0') {
			memcpy(codes[i], c, 10);
			return 1;
		}
		if (memcmp(codes[i], c, 10) == 0)
			return 0;
	}
}

/*
 * Create the series: lifetimes first (85% span the window, 10% launch
 * mid-window, 5% are delisted), enough of them to reach --rows when
 * --asins is not given; then each series' code, marketplace, category,
 * title and starting state.
 */
static void
make_series(void)
{
	struct rng g;
	double catw[NCAT], catmu[NCAT], mktw[NMKT], want = 0, unique = 0;
	size_t cap = 0, i;
	int c, prev_single = 0;

	rng_seed(&g, seed, 0);
	for (i = 0; i < NCAT; i++) {
		catw[i] = 1.0 / pow((double)i + 1, 0.9);
		catmu[i] = uniform(&g, log(8), log(120));
	}
	for (i = 0; i < NMKT; i++)
		mktw[i] = mkts[i].share;
	if (nasins < 0 && nrows >= 0)
		want = nrows / (1 + dup_rate) + 4 * sqrt(nrows * dup_rate) +
		    0.0005 * nrows;
	for (;;) {
		struct series *x;
		double u;

		if (nasins >= 0 ? (long long)nser >= nasins :
		    nrows >= 0 ? unique >= want : nser >= 1000)
			break;
		if (nser == cap) {
			cap = cap ? cap * 2 : 1024;
			ser = xrealloc(ser, cap * sizeof(*ser));
		}
		x = &ser[nser];
		memset(x, 0, sizeof(*x));
		u = uni(&g);
		if (u < 0.85 || ndays == 1) {
			x->start = 0, x->end = ndays - 1;
		} else if (u < 0.95) {
			x->start = 1 + (int)below(&g, ndays - 1);
			x->end = ndays - 1;
		} else {
			x->start = 0;
			x->end = (int)below(&g, ndays - 1);
		}
		unique += x->end - x->start + 1;
		nser++;
	}

	/* Room for every code at load factor <= 1/2. */
	for (codes_cap = 1024; codes_cap < 2 * nser; codes_cap *= 2)
		;
	codes = xcalloc(codes_cap, sizeof(*codes));

	for (i = 0; i < nser; i++) {
		struct series *x = &ser[i];
		struct rng *r = &x->rng;
		double sales0;

		rng_seed(r, seed, i + 1);
		/* About 8% of codes are listed in a second marketplace. */
		if (prev_single && uni(&g) < 0.08) {
			double w[NMKT];

			memcpy(w, mktw, sizeof(w));
			w[ser[i - 1].mkt] = 0;
			memcpy(x->asin, ser[i - 1].asin, 11);
			x->mkt = pick(&g, w, NMKT);
			x->cat = ser[i - 1].cat;
			prev_single = 0;
		} else {
			do {
				x->asin[0] = 'B', x->asin[1] = '0';
				for (c = 2; c < 10; c++)
					x->asin[c] = alnum[below(&g, 36)];
			} while (!code_insert(x->asin));
			x->mkt = pick(&g, mktw, NMKT);
			x->cat = pick(&g, catw, NCAT);
			prev_single = 1;
		}
		make_title(x, r);
		x->base_lp = catmu[x->cat] + gauss(r, 0, 0.7) +
		    log(mkts[x->mkt].fx);
		x->lp = x->base_lp;
		x->promo_f = 1.0;
		x->psych = uni(r) < 0.55;
		/* Kumaraswamy(2.2, 1.5): a skewed target between 10 and 1e6. */
		x->target_lb = log(10) * (1 + 5 * pow(1 - pow(1 - uni(r),
		    1 / 1.5), 1 / 2.2));
		x->lb = x->target_lb + gauss(r, 0, 0.2);
		x->bo_day = -1;
		if (uni(r) < 0.03 && x->end - x->start > 20) {
			x->bo_day = x->start + (int)below(r,
			    x->end - x->start - 14);
			x->bo_step = log(uniform(r, 5, 50)) / 14.0;
		}
		x->rating_base = clamp(4.6 - fabs(gauss(r, 0, 0.45)), 1, 5);
		x->rating = x->rating_base;
		x->review_rate = uniform(r, 0.005, 0.03);
		if (x->start == 0 && uni(r) < 0.97) {
			sales0 = 30000.0 * mkts[x->mkt].sales *
			    pow(exp(x->lb), -0.8);
			x->reviews = (long long)(sales0 * x->review_rate *
			    uniform(r, 30, 2000) * uniform(r, 0.3, 1.5));
		}
		x->bullets = (int)clamp(llround(gauss(r, 5, 1.8)), 0, 10);
		x->images = 1 + (int)below(r, 12);
		x->aplus = uni(r) < 0.35;
		x->slot = (int)below(r, 86400);
	}
}

static void
flush_out(void)
{
	size_t off = 0;
	ssize_t n;

	while (off < olen) {
		n = write(STDOUT_FILENO, obuf + off, olen - off);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			if (errno == EPIPE)
				exit(0);
			die("<stdout>: write error:");
		}
		off += (size_t)n;
	}
	olen = 0;
}

static inline char *
put(char *p, const char *s, size_t n)
{
	memcpy(p, s, n);
	return p + n;
}
#define PUTS(p, lit) put((p), (lit), sizeof(lit) - 1)

static char *
put_uint(char *p, unsigned long long v)
{
	char t[24];
	int n = 0;

	do
		t[n++] = (char)('0' + v % 10);
	while ((v /= 10) != 0);
	while (n > 0)
		*p++ = t[--n];
	return p;
}

static inline char *
put2(char *p, int v)
{
	*p++ = (char)('0' + v / 10);
	*p++ = (char)('0' + v % 10);
	return p;
}

/* A price in cents (whole units for whole-unit currencies) as JSON text. */
static char *
put_price(char *p, long long cents, int whole, int neg)
{
	if (neg)
		*p++ = '-';
	if (whole)
		return put_uint(p, (unsigned long long)(cents / 100));
	p = put_uint(p, (unsigned long long)(cents / 100));
	*p++ = '.';
	return put2(p, (int)(cents % 100));
}

/* The price the listing shows, in cents; x.99 for psychological pricing. */
static long long
shelf_cents(const struct series *x, double price)
{
	if (mkts[x->mkt].whole)
		return 100 * (price < 1 ? 1 : llround(price));
	if (x->psych && price >= 2)
		return (long long)floor(price) * 100 + 99;
	return price < 0.01 ? 1 : llround(price * 100);
}

/*
 * Render one row into p (at least ROWMAX bytes); returns its length
 * without the newline, which is written after it.
 */
static size_t
render(char *p0, const struct series *x, int day, long long cents,
    long bsr, int secs, int bad, double cut)
{
	const struct mkt *m = &mkts[x->mkt];
	const char *date = dates[day];
	const char *cat = categories[x->cat];
	char *p = p0;
	size_t len;
	int r10;

	*p++ = '{';
	if (bad != BAD_NO_ASIN) {
		p = PUTS(p, "\"asin\":\"");
		p = put(p, x->asin, 10);
		p = PUTS(p, "\",");
	}
	p = PUTS(p, "\"marketplace\":\"");
	p = put(p, m->code, 2);
	p = PUTS(p, "\",\"date\":\"");
	p = put(p, date, 10);
	p = PUTS(p, "\",\"category\":\"");
	p = put(p, cat, strlen(cat));
	p = PUTS(p, "\",\"price\":");
	if (bad == BAD_NULL_PRICE)
		p = PUTS(p, "null");
	else
		p = put_price(p, cents, m->whole, bad == BAD_NEG_PRICE);
	p = PUTS(p, ",\"currency\":\"");
	p = put(p, m->currency, 3);
	p = PUTS(p, "\",\"bsr\":");
	p = put_uint(p, bad == BAD_BSR_ZERO ? 0 : (unsigned long)bsr);
	p = PUTS(p, ",\"rating\":");
	if (x->reviews == 0) {
		p = PUTS(p, "null");
	} else {
		r10 = (int)lround(x->rating * 10);
		p = put_uint(p, (unsigned)(r10 / 10));
		*p++ = '.';
		*p++ = (char)('0' + r10 % 10);
	}
	p = PUTS(p, ",\"review_count\":");
	p = put_uint(p, (unsigned long long)x->reviews);
	p = PUTS(p, ",\"title\":\"");
	p = put(p, x->title, x->title_len);
	p = PUTS(p, "\",\"bullet_count\":");
	p = put_uint(p, (unsigned)x->bullets);
	p = PUTS(p, ",\"image_count\":");
	p = put_uint(p, (unsigned)x->images);
	p = x->aplus ? PUTS(p, ",\"has_aplus\":true") :
	    PUTS(p, ",\"has_aplus\":false");
	p = PUTS(p, ",\"fetched_at\":\"");
	p = put(p, date, 10);
	*p++ = 'T';
	p = put2(p, secs / 3600);
	*p++ = ':';
	p = put2(p, secs / 60 % 60);
	*p++ = ':';
	p = put2(p, secs % 60);
	p = PUTS(p, "Z\"}");
	len = (size_t)(p - p0);
	if (bad == BAD_MALFORMED) {
		/* A line cut short, as a crashed writer leaves it; whole
		 * UTF-8 characters, so only the JSON is broken. */
		len = (size_t)(len * cut);
		while (len > 1 && ((unsigned char)p0[len] & 0xC0) == 0x80)
			len--;
	}
	return len;
}

/* Per-row dice: re-fetch and corruption are drawn whatever the rates. */
static int
bad_dice(struct rng *r, double *cut)
{
	double u = uni(r);
	int kind = (int)below(r, NBAD);

	*cut = uniform(r, 0.2, 0.9);
	return u < bad_rate ? kind : BAD_NONE;
}

/*
 * Advance series x by one day and render its rows (the fact and its
 * same-day re-fetches) through emit().
 */
static void
step(struct series *x, int day, void (*emit)(const char *, size_t))
{
	struct rng *r = &x->rng;
	char row[ROWMAX];
	double price, tgt, sales, p2, cut;
	long long cents, fresh;
	long bsr, b2;
	int secs, s2, bad;

	if (x->promo_left > 0) {
		if (--x->promo_left == 0)
			x->promo_f = 1.0;
	} else if (uni(r) < 0.015) {
		x->promo_left = 1 + (int)below(r, 7);
		x->promo_f = uniform(r, 0.6, 0.9);
	}
	if (uni(r) < 0.05)
		x->lp += gauss(r, 0, 0.06) + 0.2 * (x->base_lp - x->lp);
	price = exp(x->lp) * x->promo_f;

	if (x->bo_day >= 0 && day >= x->bo_day && day < x->bo_day + 14) {
		x->target_lb -= x->bo_step;
		x->lb -= x->bo_step;
	}
	tgt = x->target_lb - (x->promo_left > 0 ? 0.9 : 0.0);
	x->lb += 0.1 * (tgt - x->lb) + gauss(r, 0, 0.12);
	bsr = lround(exp(x->lb));
	if (bsr < 1)
		bsr = 1;

	sales = 30000.0 * mkts[x->mkt].sales * pow((double)bsr, -0.8);
	if ((fresh = poisson(r, sales * x->review_rate)) > 0) {
		x->reviews += fresh;
		x->rating = clamp(x->rating + 0.05 * (x->rating_base -
		    x->rating) + gauss(r, 0, 0.03) * fmin(1.0, fresh / 3.0),
		    1, 5);
	}
	if (uni(r) < 0.002 && x->images < 12)
		x->images++;
	if (uni(r) < 0.001)
		x->aplus = !x->aplus;
	secs = (int)clamp(x->slot + gauss(r, 0, 1200), 0, 86399);

	cents = shelf_cents(x, price);
	bad = bad_dice(r, &cut);
	emit(row, render(row, x, day, cents, bsr, secs, bad, cut));
	while (uni(r) < dup_rate) {
		s2 = (int)below(r, 86400);
		if (s2 == secs)
			s2 = (s2 + 1) % 86400;
		p2 = price * (uni(r) < 0.3 ? uniform(r, 0.97, 1.0) : 1.0);
		b2 = lround(bsr * exp(gauss(r, 0, 0.05)));
		if (b2 < 1)
			b2 = 1;
		bad = bad_dice(r, &cut);
		emit(row, render(row, x, day, shelf_cents(x, p2), b2, s2,
		    bad, cut));
	}
}

/* Sorted mode: rows go straight to the output buffer. */
static void
emit_out(const char *row, size_t len)
{
	if (nrows >= 0 && written >= nrows)
		return;
	if (olen + len + 1 > OUTBUF)
		flush_out();
	memcpy(obuf + olen, row, len);
	olen += len;
	obuf[olen++] = '\n';
	written++;
}

/* Day-major mode: rows of one day gather here, then are shuffled. */
static char *day_buf;
static size_t day_len, day_cap;
static size_t *day_off;
static size_t day_n, day_ncap;

static void
emit_day(const char *row, size_t len)
{
	if (day_len + len + 1 > day_cap) {
		day_cap = (day_len + len + 1) * 2;
		day_buf = xrealloc(day_buf, day_cap);
	}
	if (day_n + 1 >= day_ncap) {
		day_ncap = day_ncap ? day_ncap * 2 : 4096;
		day_off = xrealloc(day_off, day_ncap * sizeof(*day_off));
	}
	day_off[day_n++] = day_len;
	memcpy(day_buf + day_len, row, len);
	day_len += len;
	day_buf[day_len++] = '\n';
}

static int
cmp_series(const void *a, const void *b)
{
	const struct series *x = *(struct series *const *)a;
	const struct series *y = *(struct series *const *)b;
	int c = memcmp(x->asin, y->asin, 10);

	return c ? c : strcmp(mkts[x->mkt].code, mkts[y->mkt].code);
}

static void
run_sorted(void)
{
	struct series **order = xmalloc(nser * sizeof(*order));
	size_t i;
	int d;

	for (i = 0; i < nser; i++)
		order[i] = &ser[i];
	qsort(order, nser, sizeof(*order), cmp_series);
	for (i = 0; i < nser && (nrows < 0 || written < nrows); i++)
		for (d = order[i]->start; d <= order[i]->end; d++)
			step(order[i], d, emit_out);
	free(order);
}

static void
run_day_major(void)
{
	struct rng shuf;
	size_t *idx = NULL, i, j, k, t, len;
	int d;

	rng_seed(&shuf, seed, (uint64_t)-1);
	for (d = 0; d < ndays && (nrows < 0 || written < nrows); d++) {
		day_len = day_n = 0;
		for (i = 0; i < nser; i++)
			if (d >= ser[i].start && d <= ser[i].end)
				step(&ser[i], d, emit_day);
		if (day_n == 0)
			continue;
		day_off[day_n] = day_len;
		/* Shuffle an index of the rows, not the rows themselves. */
		idx = xreallocarray(idx, day_n, sizeof(*idx));
		for (i = 0; i < day_n; i++)
			idx[i] = i;
		for (i = day_n; i > 1; i--) {
			j = (size_t)below(&shuf, (long)i);
			t = idx[i - 1], idx[i - 1] = idx[j], idx[j] = t;
		}
		for (k = 0; k < day_n && (nrows < 0 || written < nrows); k++) {
			i = idx[k];
			len = day_off[i + 1] - day_off[i];
			if (olen + len > OUTBUF)
				flush_out();
			memcpy(obuf + olen, day_buf + day_off[i], len);
			olen += len;
			written++;
		}
	}
	free(idx);
}

/* A valid calendar date written YYYY-MM-DD, year 1000 or later. */
static int
parse_date(const char *s, int *y, int *m, int *d)
{
	int yy, mm, dd, i;

	for (i = 0; i < 10; i++)
		if (i == 4 || i == 7 ? s[i] != '-' :
		    s[i] < '0' || s[i] > '9')
			return 0;
	if (s[10] != '\0')
		return 0;
	yy = atoi(s), mm = atoi(s + 5), dd = atoi(s + 8);
	if (yy < 1000 || mm < 1 || mm > 12 || dd < 1 || dd > 31)
		return 0;
	civil_from_days(days_from_civil(yy, mm, dd), y, m, d);
	return *y == yy && *m == mm && *d == dd;
}

static const char usage_text[] =
    "usage: genfacts [-v] [--seed N] [--rows N] [--asins N] [--days N]\n"
    "                [--dup-rate R] [--bad-rate R] [--start YYYY-MM-DD]\n"
    "                [--sorted]\n"
    "Write deterministic daily ASIN fact rows as NDJSON on standard output.\n"
    "\n"
    "  --seed N          random seed (default 42)\n"
    "  --rows N          write exactly N rows (default: every row of the\n"
    "                    series, 1000 series unless --asins is given)\n"
    "  --asins N         number of (asin, marketplace) series (default:\n"
    "                    enough for --rows)\n"
    "  --days N          days in the window (default 100)\n"
    "  --dup-rate R      chance of a same-day re-fetch (default 0.02)\n"
    "  --bad-rate R      chance that a row is corrupted: null or negative\n"
    "                    price, bsr 0, no asin, or cut-off JSON (default 0)\n"
    "  --start DATE      first day (default 2024-01-01)\n"
    "  --sorted          order by asin, marketplace, date instead of by day\n"
    "  -v, --verbose     print a summary line on standard error\n"
    "  -h, --help        print this help and exit\n"
    "  -V, --version     print the version and exit\n";

/* A rate in [0, 1): 1 would loop forever on re-fetches. */
static double
rate_arg(const char *flag, const char *arg)
{
	double v = cli_double(flag, arg, 0, 1);

	if (v >= 1)
		usage_error("option %s: expected a number from 0 to below 1, "
		    "got '%s'", flag, arg);
	return v;
}

enum {
	OPT_SEED = 0x1100,
	OPT_ROWS,
	OPT_ASINS,
	OPT_DAYS,
	OPT_DUP,
	OPT_BAD,
	OPT_START,
	OPT_SORTED
};

static const struct option longopts[] = {
	{ "seed", required_argument, NULL, OPT_SEED },
	{ "rows", required_argument, NULL, OPT_ROWS },
	{ "asins", required_argument, NULL, OPT_ASINS },
	{ "days", required_argument, NULL, OPT_DAYS },
	{ "dup-rate", required_argument, NULL, OPT_DUP },
	{ "bad-rate", required_argument, NULL, OPT_BAD },
	{ "start", required_argument, NULL, OPT_START },
	{ "sorted", no_argument, NULL, OPT_SORTED },
	{ "verbose", no_argument, NULL, 'v' },
	{ "help", no_argument, NULL, 'h' },
	{ "version", no_argument, NULL, 'V' },
	{ NULL, 0, NULL, 0 }
};

int
main(int argc, char *argv[])
{
	long z;
	int ch, y, m, d, i;

	diag_init(argv[0]);
	while ((ch = getopt_long(argc, argv, "hVv", longopts, NULL)) != -1) {
		switch (ch) {
		case OPT_SEED:
			seed = (uint64_t)cli_int("--seed", optarg, 0,
			    LLONG_MAX);
			break;
		case OPT_ROWS:
			nrows = cli_int("--rows", optarg, 0, 1LL << 40);
			break;
		case OPT_ASINS:
			nasins = cli_int("--asins", optarg, 1, 100000000);
			break;
		case OPT_DAYS:
			ndays = (int)cli_int("--days", optarg, 1, 36500);
			break;
		case OPT_DUP:
			dup_rate = rate_arg("--dup-rate", optarg);
			break;
		case OPT_BAD:
			bad_rate = rate_arg("--bad-rate", optarg);
			break;
		case OPT_START:
			if (!parse_date(optarg, &start_y, &start_m, &start_d))
				usage_error("option --start: expected a date "
				    "YYYY-MM-DD, got '%s'", optarg);
			break;
		case OPT_SORTED:
			sorted = 1;
			break;
		case 'v':
			verbose = 1;
			break;
		case 'h':
			fputs(usage_text, stdout);
			if (fflush(stdout) != 0)
				die("<stdout>: write error:");
			return EXIT_OK;
		case 'V':
			printf("%s %s\n", diag_prog(), ASIN_VERSION);
			if (fflush(stdout) != 0)
				die("<stdout>: write error:");
			return EXIT_OK;
		default:
			fprintf(stderr, "Try '%s --help' for more "
			    "information.\n", diag_prog());
			return EXIT_USAGE;
		}
	}
	if (optind < argc)
		usage_error("unexpected operand '%s'", argv[optind]);

	dates = xmalloc((size_t)ndays * sizeof(*dates));
	z = days_from_civil(start_y, start_m, start_d);
	for (i = 0; i < ndays; i++) {
		civil_from_days(z + i, &y, &m, &d);
		dates[i] = xmalloc(16);
		snprintf(dates[i], 16, "%04d-%02d-%02d", y, m, d);
	}
	obuf = xmalloc(OUTBUF);
	make_series();
	if (sorted)
		run_sorted();
	else
		run_day_major();
	flush_out();
	if (verbose)
		note("%lld rows, %zu series, %d days", written, nser, ndays);
	if (nrows >= 0 && written < nrows)
		die("only %lld of %lld rows: the series ran out (raise "
		    "--asins or --days)", written, nrows);
	return 0;
}
