/*
 * asin-feat - rolling per-ASIN features over calendar-day windows, and on
 * request the forward labels, appended to each fact row.  Rows are grouped
 * by (asin, marketplace) and leave in byte order of that key and then by
 * date, so the output is a function of the set of input rows; the sorted
 * mode holds one series at a time.  The arithmetic lives in common/feat.c.
 */
#include <getopt.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "asin.h"
#include "feat.h"
#include "group.h"
#include "keygroup.h"
#include "recint.h"
#include "scan.h"

#define DEFAULT_WINDOWS "7,30,90"
#define ROW_REPLACES 0x1	/* the line already has one of our fields */
#define ROW_DUP 0x2		/* rejected: another row has its day */
#define V_CAT FV_N		/* val[] slot of the interned category id */
#define NVAL (FV_N + 1)
#define PREFETCH_AHEAD 8	/* rows: see prefetch_line() */
#define KEYLEN 12		/* asin (10) and marketplace (2) */

/* Interned category texts: a series keeps ids, not line bytes. */
struct intern {
	char **s;
	size_t *len;
	size_t n, cap;
	size_t *slot;		/* open addressing: id + 1, 0 empty */
	size_t nslot;
};

/* Slots of the fast path's index of a line's members. */
enum {
	K_ASIN,
	K_MKT,
	K_DATE,
	K_BSR_CAT,
	K_CATEGORY,
	K_PNEW,
	K_PRICE,
	K_TITLE,
	K_LISTED,
	K_VAL,			/* + FV_ index: the field of each value */
	K_N = K_VAL + FV_N
};

/* A member name the fast path knows: the slot it fills (-1: none) and
 * whether it is one of our own output keys. */
struct fkey {
	const char *name;	/* borrowed; NULL: an empty entry */
	size_t len;
	int slot;
	int out;
};

/* The rows of one group, whichever engine grouped them.  The groups of
 * one emit_groups() call lie back to back in one array of rows. */
struct gspan {
	struct group_row **row;
	size_t n;
};

/* One (category, day) of the labels' cross-section. */
struct xentry {
	const char *cat;
	long day;
	double m7;
};

struct run {
	struct feat_opts fo;
	struct feat_hist *h;
	struct feat_out fout;
	struct out *o;
	struct acct *ac;
	struct record *rec;
	struct intern cats;
	struct feat_row *rows;
	size_t rowcap;
	struct keygroup *kg;	/* the hash mode's grouping; NULL: group.c */
	struct gspan *spans;	/* a batch of group.c's, as spans */
	size_t spancap;
	struct group_row **gbuf;	/* their rows */
	size_t gbufcap;
	long *asof;		/* sorted days of --as-of */
	size_t nasof;
	long since;
	int have_since;
	int sorted;
	int labels_xs;		/* labels with the cross-section (hash) */
	struct xentry *xs;	/* thresholds by (category, day) */
	size_t nxs, xscap;
	double *qtmp;
	size_t qcap;
	struct rec_field *f_asin, *f_mkt, *f_date, *f_bsr, *f_bsr_cat,
	    *f_category, *f_pbb, *f_pnew, *f_price, *f_list, *f_offers,
	    *f_rating, *f_reviews, *f_deal, *f_drops, *f_kd30, *f_kd90,
	    *f_listed, *f_title_len, *f_title, *f_bullets, *f_bullet_len,
	    *f_images, *f_video, *f_aplus, *f_desc;
	struct rec_field *vf[FV_N];	/* the field of each value */
	int need[FV_N];		/* read it at all? */
	int need_cat;
	struct rec_field **outf;	/* our own keys, to spot them */
	size_t noutf;
	struct fkey *ftab;	/* open addressing, a power of two long */
	size_t nftab;
	struct buf tmp;		/* an unescaped title */
	int store[NVAL];	/* the values a row keeps, in val[] order */
	size_t nstore;
	long long dups;
};

static const char usage_text[] =
    "usage: asin-feat [--windows LIST] [--min-coverage R] [--min-drop R]\n"
    "                 [--as-of DATES | --since DATE] [--lqs-weights LIST]\n"
    "                 [--units-calibration FILE] [--label-horizon H]\n"
    "                 [--top-q Q] [--bsr-cap N] [--features LIST]\n"
    "                 [--sorted] [file ...]\n"
    "Add rolling per-ASIN features over calendar-day windows to fact rows.\n"
    "\n"
    "      --windows LIST    window lengths in days (default 7,30,90)\n"
    "      --min-coverage R  least fraction of a window's days with a value\n"
    "                        (default 0.6)\n"
    "      --min-drop R      least relative BSR improvement counted as a\n"
    "                        day-to-day rank drop (default 0)\n"
    "      --as-of DATES     emit only the rows of these days\n"
    "      --since DATE      emit only the rows of this day and later\n"
    "      --lqs-weights LIST  listing-quality weights as NAME=W,...\n"
    "      --units-calibration FILE  BSR to units curves: add est_units_N\n"
    "      --label-horizon H add the forward labels over H days\n"
    "      --top-q Q         breakout: future median BSR in the top Q of\n"
    "                        its category (default 0.2; 1 turns it off)\n"
    "      --bsr-cap N       label_excluded above this bsr_median_7\n"
    "                        (default 500000)\n"
    "      --features LIST   write only these features (names without\n"
    "                        _N; the coverages are always written)\n"
    "      --sorted          input is sorted by asin, marketplace, date:\n"
    "                        hold one series at a time\n"
    "\n";

enum {
	OPT_WINDOWS = OPT_COMMON_END,
	OPT_MIN_COV,
	OPT_MIN_DROP,
	OPT_AS_OF,
	OPT_SINCE,
	OPT_LQS_WEIGHTS,
	OPT_UNITS,
	OPT_HORIZON,
	OPT_TOP_Q,
	OPT_BSR_CAP,
	OPT_FEATURES,
	OPT_SORTED
};

static const struct option longopts[] = {
	CLI_COMMON_LONGOPTS,
	{ "windows", required_argument, NULL, OPT_WINDOWS },
	{ "min-coverage", required_argument, NULL, OPT_MIN_COV },
	{ "min-drop", required_argument, NULL, OPT_MIN_DROP },
	{ "as-of", required_argument, NULL, OPT_AS_OF },
	{ "since", required_argument, NULL, OPT_SINCE },
	{ "lqs-weights", required_argument, NULL, OPT_LQS_WEIGHTS },
	{ "units-calibration", required_argument, NULL, OPT_UNITS },
	{ "label-horizon", required_argument, NULL, OPT_HORIZON },
	{ "top-q", required_argument, NULL, OPT_TOP_Q },
	{ "bsr-cap", required_argument, NULL, OPT_BSR_CAP },
	{ "features", required_argument, NULL, OPT_FEATURES },
	{ "sorted", no_argument, NULL, OPT_SORTED },
	{ NULL, 0, NULL, 0 }
};

static const char *const lqs_names[LQS_N] = {
	"title", "bullets", "bullet_len", "images", "video", "aplus",
	"rating", "reviews"
};
static const double lqs_default[LQS_N] = {
	0.20, 0.10, 0.05, 0.20, 0.05, 0.10, 0.15, 0.15
};

static void parse_windows(struct feat_opts *, const char *);
static void parse_lqs(struct feat_opts *, const char *);
static long parse_day(const char *, const char *);
static void parse_asof(struct run *, const char *);
static void load_curves(struct feat_opts *, const char *);
static void add_curve(struct feat_opts *, const char *, jv, const char *);
static size_t intern(struct intern *, const char *, size_t);
static void intern_free(struct intern *);
static int cmp_long(const void *, const void *);
static int cmp_xentry(const void *, const void *);
static int is_upper_alnum(const char *, size_t, int);
static int get_num(struct run *, const struct nd_line *, struct rec_field *,
    double *);
static int get_bool(struct run *, const struct nd_line *,
    struct rec_field *, double *);
static void add_row(struct run *, struct group_set *, const struct nd_line *,
    const char *, const char *, double *, unsigned);
static uint64_t name_hash(const char *, size_t);
static void fkey_add(struct run *, const char *, int, int);
static const struct fkey *fkey_find(const struct run *, const char *,
    size_t);
static void fkey_build(struct run *, const char *const *, size_t);
static int plain_str(const struct scan *, const char *, const long *, int,
    const char **, size_t *);
static int fast_num(const struct scan *, const char *, const long *, int,
    double *);
static int fast_cat(struct run *, const struct scan *, const char *,
    const long *, int, struct rec_field *, double *);
static int read_fast(struct run *, struct group_set *,
    const struct nd_line *);
static void read_slow(struct run *, struct group_set *,
    const struct nd_line *);
static void read_row(struct run *, struct group_set *, const struct nd_line *);
static void reject_row(struct run *, const struct group_row *, const char *);
static size_t load_group(struct run *, const struct gspan *);
static void cross_section(struct run *, const struct gspan *, size_t);
static void emit_groups(struct run *, const struct gspan *, size_t);
static double threshold(struct run *, const char *, long);
static void emit_batch(void *, struct group **, size_t);
static int selected(const struct run *, long);
static void write_row(struct run *, const struct group_row *);

static void
parse_windows(struct feat_opts *fo, const char *list)
{
	char **items = cli_split("--windows", list, &fo->nwin);
	size_t i;

	if (fo->nwin > FEAT_MAX_WIN)
		usage_error("option --windows: at most %d windows",
		    FEAT_MAX_WIN);
	for (i = 0; i < fo->nwin; i++) {
		fo->win[i] = (int)cli_int("--windows", items[i], 1,
		    FEAT_MAX_WINDAYS);
		if (i > 0 && fo->win[i] <= fo->win[i - 1])
			usage_error("option --windows: expected ascending "
			    "distinct lengths, got '%s'", list);
	}
	strv_free(items);
}

static void
parse_lqs(struct feat_opts *fo, const char *list)
{
	char **items = cli_split("--lqs-weights", list, NULL);
	char *eq;
	double w;
	size_t i, k;

	for (i = 0; items[i] != NULL; i++) {
		eq = strchr(items[i], '=');
		if (eq == NULL || eq == items[i])
			usage_error("option --lqs-weights: expected NAME=W, "
			    "got '%s'", items[i]);
		*eq = '\0';
		for (k = 0; k < LQS_N; k++)
			if (strcmp(items[i], lqs_names[k]) == 0)
				break;
		if (k == LQS_N)
			usage_error("option --lqs-weights: no component named "
			    "'%s' (title, bullets, bullet_len, images, video, "
			    "aplus, rating, reviews)", items[i]);
		if (!parse_double(eq + 1, strlen(eq + 1), &w) || w < 0)
			usage_error("option --lqs-weights: weight of '%s': "
			    "expected a number >= 0, got '%s'", items[i],
			    eq + 1);
		fo->lqs_w[k] = w;
	}
	strv_free(items);
}

static long
parse_day(const char *flag, const char *s)
{
	long d;

	if (!feat_parse_date(s, strlen(s), &d))
		usage_error("option %s: expected a date YYYY-MM-DD, got '%s'",
		    flag, s);
	return d;
}

static int
cmp_long(const void *a, const void *b)
{
	long x = *(const long *)a, y = *(const long *)b;

	return x < y ? -1 : x > y;
}

static void
parse_asof(struct run *r, const char *list)
{
	char **items = cli_split("--as-of", list, &r->nasof);
	size_t i;

	r->asof = xcalloc(r->nasof, sizeof(*r->asof));
	for (i = 0; i < r->nasof; i++)
		r->asof[i] = parse_day("--as-of", items[i]);
	qsort(r->asof, r->nasof, sizeof(*r->asof), cmp_long);
	strv_free(items);
}

/*
 * The calibration file: {"default": {"a": A, "b": B}, "categories":
 * {"NAME": {"a": A, "b": B}, ...}}.  A name matches a category given as
 * that string, or as that number when the name is one.
 */
static void
load_curves(struct feat_opts *fo, const char *path)
{
	jv cfg, cats, keys, k;
	int i, n;

	cfg = json_config_file(path);
	keys = jv_keys(jv_copy(cfg));
	n = jv_array_length(jv_copy(keys));
	for (i = 0; i < n; i++) {
		k = jv_array_get(jv_copy(keys), i);
		if (strcmp(jv_string_value(k), "default") != 0 &&
		    strcmp(jv_string_value(k), "categories") != 0)
			usage_error("%s: unknown setting \"%s\"", path,
			    jv_string_value(k));
		jv_free(k);
	}
	jv_free(keys);
	if (jv_object_has(jv_copy(cfg), jv_string("default")))
		add_curve(fo, NULL, jv_object_get(jv_copy(cfg),
		    jv_string("default")), path);
	cats = jv_object_get(jv_copy(cfg), jv_string("categories"));
	if (jv_get_kind(cats) == JV_KIND_OBJECT) {
		keys = jv_keys(jv_copy(cats));
		n = jv_array_length(jv_copy(keys));
		for (i = 0; i < n; i++) {
			k = jv_array_get(jv_copy(keys), i);
			add_curve(fo, jv_string_value(k), jv_object_get(
			    jv_copy(cats), jv_copy(k)), path);
			jv_free(k);
		}
		jv_free(keys);
	} else if (jv_get_kind(cats) != JV_KIND_INVALID)
		usage_error("%s: \"categories\": expected an object", path);
	jv_free(cats);
	jv_free(cfg);
	if (fo->ncurve == 0)
		usage_error("%s: no curve: expected \"default\" or "
		    "\"categories\"", path);
}

/* Add the curve of category name (NULL: the default); consumes v. */
static void
add_curve(struct feat_opts *fo, const char *name, jv v, const char *path)
{
	struct feat_curve c;
	jv a, b;
	struct buf q;
	long long iv;
	int copies, i;

	if (jv_get_kind(v) != JV_KIND_OBJECT)
		usage_error("%s: curve \"%s\": expected {\"a\": A, \"b\": B}",
		    path, name ? name : "default");
	a = jv_object_get(jv_copy(v), jv_string("a"));
	b = jv_object_get(v, jv_string("b"));
	if (jv_get_kind(a) != JV_KIND_NUMBER ||
	    jv_get_kind(b) != JV_KIND_NUMBER)
		usage_error("%s: curve \"%s\": expected numbers a and b",
		    path, name ? name : "default");
	c.a = jv_number_value(a);
	c.b = jv_number_value(b);
	jv_free(a);
	jv_free(b);
	copies = name != NULL && parse_int(name, strlen(name), &iv) ? 2 : 1;
	for (i = 0; i < copies; i++) {
		if (name == NULL) {
			c.cat = NULL;
			c.catlen = 0;
		} else if (i == 0) {
			buf_init(&q);
			buf_add_jstr(&q, name, strlen(name));
			c.cat = q.data;
			c.catlen = q.len;
		} else {
			c.cat = xstrdup(name);
			c.catlen = strlen(name);
		}
		fo->curve = xreallocarray(fo->curve, fo->ncurve + 1,
		    sizeof(*fo->curve));
		fo->curve[fo->ncurve++] = c;
	}
}

static size_t
intern(struct intern *t, const char *s, size_t n)
{
	uint64_t hv = 1469598103934665603ULL;
	size_t i, k, id;

	for (i = 0; i < n; i++)
		hv = (hv ^ (unsigned char)s[i]) * 1099511628211ULL;
	if (t->n * 2 >= t->nslot) {
		size_t ns = t->nslot ? t->nslot * 2 : 64;

		free(t->slot);
		t->slot = xcalloc(ns, sizeof(*t->slot));
		t->nslot = ns;
		for (id = 0; id < t->n; id++) {
			uint64_t g = 1469598103934665603ULL;

			for (i = 0; i < t->len[id]; i++)
				g = (g ^ (unsigned char)t->s[id][i]) *
				    1099511628211ULL;
			for (k = g & (ns - 1); t->slot[k] != 0;
			    k = (k + 1) & (ns - 1))
				;
			t->slot[k] = id + 1;
		}
	}
	for (k = hv & (t->nslot - 1); t->slot[k] != 0;
	    k = (k + 1) & (t->nslot - 1)) {
		id = t->slot[k] - 1;
		if (t->len[id] == n && memcmp(t->s[id], s, n) == 0)
			return id;
	}
	if (t->n == t->cap) {
		t->cap = t->cap ? t->cap * 2 : 16;
		t->s = xreallocarray(t->s, t->cap, sizeof(*t->s));
		t->len = xreallocarray(t->len, t->cap, sizeof(*t->len));
	}
	t->s[t->n] = xstrndup(s, n);
	t->len[t->n] = n;
	t->slot[k] = ++t->n;
	return t->n - 1;
}

static void
intern_free(struct intern *t)
{
	size_t i;

	for (i = 0; i < t->n; i++)
		free(t->s[i]);
	free(t->s);
	free(t->len);
	free(t->slot);
}

static int
is_upper_alnum(const char *s, size_t n, int digits)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (!((s[i] >= 'A' && s[i] <= 'Z') ||
		    (digits && s[i] >= '0' && s[i] <= '9')))
			return 0;
	return 1;
}

/* A number or null; a bad type rejects the row (returns 0). */
static int
get_num(struct run *r, const struct nd_line *ln, struct rec_field *f,
    double *x)
{
	switch (rec_num(r->rec, f, x)) {
	case REC_OK:
		return 1;
	case REC_ABSENT:
	case REC_ISNULL:
		*x = NAN;
		return 1;
	default:
		acct_reject(r->ac, ln->source, ln->lineno, ln->buf, ln->len,
		    rec_errmsg(r->rec, f, REC_NUMBER));
		return 0;
	}
}

static int
get_bool(struct run *r, const struct nd_line *ln, struct rec_field *f,
    double *x)
{
	int b;

	switch (rec_bool(r->rec, f, &b)) {
	case REC_OK:
		*x = b;
		return 1;
	case REC_ABSENT:
	case REC_ISNULL:
		*x = NAN;
		return 1;
	default:
		acct_reject(r->ac, ln->source, ln->lineno, ln->buf, ln->len,
		    rec_errmsg(r->rec, f, REC_TRUE));
		return 0;
	}
}

/*
 * Add a row whose fields passed, under its (asin, marketplace) key; the
 * key's bytes are copied, the values of v the row keeps are copied into
 * it, with the listing quality score in place of its seven inputs.
 */
static void
add_row(struct run *r, struct group_set *gs, const struct nd_line *ln,
    const char *asin, const char *mkt, double *v, unsigned flags)
{
	struct group_row *row;
	char msg[160], key[KEYLEN];
	size_t i;

	v[FV_LQS] = r->need[FV_LQS] ? feat_lqs(v, r->fo.lqs_w) : NAN;

	if (r->kg != NULL) {
		memcpy(key, asin, 10);
		memcpy(key + 10, mkt, 2);
		row = keygroup_add(r->kg, key, ln->buf, ln->len, ln->source,
		    ln->lineno);
		for (i = 0; i < r->nstore; i++)
			row->val[i] = v[r->store[i]];
		row->flags = flags;
		return;
	}
	group_key_begin(gs);
	if (r->labels_xs)
		group_key_add(gs, "", 0);
	group_key_add(gs, asin, 10);
	group_key_add(gs, mkt, 2);
	row = group_add(gs, ln->buf, ln->len, ln->source, ln->lineno);
	if (row == NULL) {
		snprintf(msg, sizeof(msg), "%s", group_set_error(gs));
		out_flush(r->o);
		die_at(ln->source, ln->lineno, "%s", msg);
	}
	for (i = 0; i < r->nstore; i++)
		row->val[i] = v[r->store[i]];
	row->flags = flags;
}

/* A member name's slot in the fast path's table: a few bytes and the
 * length tell the few dozen names apart well enough for probing. */
static uint64_t
name_hash(const char *s, size_t n)
{
	if (n == 0)
		return 0;
	return n * 31 + (unsigned char)s[0] * 7 +
	    (unsigned char)s[n / 2] * 17 + (unsigned char)s[n - 1] * 131;
}

/* Enter name in the fast path's table: slot (-1: none) or our key. */
static void
fkey_add(struct run *r, const char *name, int slot, int out)
{
	struct fkey *e;
	size_t n = strlen(name), k;

	for (k = name_hash(name, n) & (r->nftab - 1); r->ftab[k].name != NULL;
	    k = (k + 1) & (r->nftab - 1))
		if (r->ftab[k].len == n && memcmp(r->ftab[k].name, name,
		    n) == 0)
			break;
	e = &r->ftab[k];
	e->name = name;
	e->len = n;
	if (slot >= 0)
		e->slot = slot;
	if (out)
		e->out = 1;
}

static const struct fkey *
fkey_find(const struct run *r, const char *s, size_t n)
{
	const struct fkey *e;
	size_t k;

	for (k = name_hash(s, n) & (r->nftab - 1); (e = &r->ftab[k])->name !=
	    NULL; k = (k + 1) & (r->nftab - 1))
		if (e->len == n && memcmp(e->name, s, n) == 0)
			return e;
	return NULL;
}

/* The table of the names the fast path looks for: a power of two at
 * least four times their count. */
static void
fkey_build(struct run *r, const char *const *keys, size_t nkeys)
{
	static const char *const fixed[K_VAL] = {
		"asin", "marketplace", "date", "bsr_cat", "category",
		"price_new", "price", "title", "listed_since"
	};
	size_t i;

	for (r->nftab = 64; r->nftab < 4 * (K_N + nkeys); r->nftab *= 2)
		;
	r->ftab = xcalloc(r->nftab, sizeof(*r->ftab));
	for (i = 0; i < r->nftab; i++)
		r->ftab[i].slot = -1;
	for (i = 0; i < K_VAL; i++)
		fkey_add(r, fixed[i], (int)i, 0);
	for (i = FV_BSR; i < FV_N; i++)
		if (r->vf[i] != NULL)
			fkey_add(r, rec_field_name(r->vf[i]), K_VAL + (int)i,
			    0);
	for (i = 0; i < nkeys; i++)
		fkey_add(r, keys[i], -1, 1);
}

/* The member of slot k as a string without escapes: 1 with its body. */
static int
plain_str(const struct scan *sc, const char *b, const long *at, int k,
    const char **p, size_t *n)
{
	const struct scan_member *m;

	if (at[k] < 0)
		return 0;
	m = &sc->m[at[k]];
	if (m->kind != SCAN_STRING || m->val_esc)
		return 0;
	*p = b + m->val + 1;
	*n = m->val_len - 2;
	return 1;
}

/* The number of slot k into *x (NAN: absent or null); 0: not a finite
 * number, for the slow path to word. */
static int
fast_num(const struct scan *sc, const char *b, const long *at, int k,
    double *x)
{
	const struct scan_member *m;

	*x = NAN;
	if (at[k] < 0)
		return 1;
	m = &sc->m[at[k]];
	if (m->kind == SCAN_NULL)
		return 1;
	if (m->kind != SCAN_NUMBER)
		return 0;
	*x = scan_number(b + m->val, m->val_len);
	return isfinite(*x);
}

/* The category text of slot k as rec_json() gives it: 1 with the id in
 * *id, 0 when the member is absent or null. */
static int
fast_cat(struct run *r, const struct scan *sc, const char *b,
    const long *at, int k, struct rec_field *f, double *id)
{
	const struct scan_member *m;
	const char *s;
	size_t n;

	if (at[k] < 0 || sc->m[at[k]].kind <= SCAN_NULL)
		return 0;
	m = &sc->m[at[k]];
	/* A string libjq would write back as it is: the bytes. */
	if (m->kind == SCAN_STRING && !m->val_esc &&
	    memchr(b + m->val, 0x7f, m->val_len) == NULL) {
		*id = (double)intern(&r->cats, b + m->val, m->val_len);
		return 1;
	}
	if (rec_json(r->rec, f, &s, &n) != REC_OK)
		return 0;
	*id = (double)intern(&r->cats, s, n);
	return 1;
}

/*
 * The fields of a parsed line from one walk over the scanner's index of
 * its members, instead of a lookup by name per field.  Returns 0, having
 * added nothing, for any line that is not plain (a key with escapes, a
 * value of the wrong type, the libjq backend): the slow path takes it
 * and words the reject, so both ways accept and refuse the same lines.
 */
static int
read_fast(struct run *r, struct group_set *gs, const struct nd_line *ln)
{
	const struct scan *sc = rec_scan(r->rec);
	const struct scan_member *m;
	const struct fkey *e;
	const char *b = ln->buf, *asin, *mkt, *p;
	long at[K_N], day;
	double v[NVAL];
	unsigned flags = 0;
	size_t i, n;

	if (sc == NULL)
		return 0;
	for (i = 0; i < K_N; i++)
		at[i] = -1;
	for (i = 0; i < sc->n; i++) {
		m = &sc->m[i];
		if (m->key_esc)
			return 0;
		if ((e = fkey_find(r, b + m->key, m->key_len)) == NULL)
			continue;
		if (e->slot >= 0)
			at[e->slot] = (long)i;	/* the last one wins */
		if (e->out)
			flags |= ROW_REPLACES;
	}
	if (!plain_str(sc, b, at, K_ASIN, &asin, &n) || n != 10 ||
	    !is_upper_alnum(asin, n, 1))
		return 0;
	if (!plain_str(sc, b, at, K_MKT, &mkt, &n) || n != 2 ||
	    !is_upper_alnum(mkt, n, 0))
		return 0;
	if (!plain_str(sc, b, at, K_DATE, &p, &n) ||
	    !feat_parse_date(p, n, &day))
		return 0;
	v[FV_DAY] = (double)day;
	for (i = FV_BSR; i < FV_N; i++) {
		v[i] = NAN;
		if (r->vf[i] == NULL || !r->need[i] || at[K_VAL + i] < 0)
			continue;
		m = &sc->m[at[K_VAL + i]];
		if (i == FV_DEAL || i == FV_VIDEO || i == FV_APLUS) {
			if (m->kind == SCAN_TRUE || m->kind == SCAN_FALSE)
				v[i] = m->kind == SCAN_TRUE;
			else if (m->kind != SCAN_NULL)
				return 0;
		} else if (!fast_num(sc, b, at, K_VAL + (int)i, &v[i]))
			return 0;
	}
	if (!(v[FV_PRICE] > 0) && r->need[FV_PRICE]) {
		if (!fast_num(sc, b, at, K_PNEW, &v[FV_PRICE]))
			return 0;
		if (!(v[FV_PRICE] > 0) &&
		    !fast_num(sc, b, at, K_PRICE, &v[FV_PRICE]))
			return 0;
	}
	if (isnan(v[FV_TITLE]) && r->need[FV_TITLE] && at[K_TITLE] >= 0 &&
	    sc->m[at[K_TITLE]].kind == SCAN_STRING) {
		m = &sc->m[at[K_TITLE]];
		p = b + m->val + 1;
		n = m->val_len - 2;
		if (m->val_esc) {
			buf_reserve(&r->tmp, n);
			n = scan_unescape(r->tmp.data, p, n);
			p = r->tmp.data;
		}
		v[FV_TITLE] = 0;
		for (i = 0; i < n; i++)
			v[FV_TITLE] += ((unsigned char)p[i] & 0xc0) != 0x80;
	}
	v[FV_LISTED] = NAN;
	if (r->need[FV_LISTED] && at[K_LISTED] >= 0 &&
	    sc->m[at[K_LISTED]].kind != SCAN_NULL) {
		if (!plain_str(sc, b, at, K_LISTED, &p, &n) ||
		    !feat_parse_date(p, n, &day))
			return 0;
		v[FV_LISTED] = (double)day;
	}
	v[V_CAT] = NAN;
	if (r->need_cat && !fast_cat(r, sc, b, at, K_BSR_CAT, r->f_bsr_cat,
	    &v[V_CAT]))
		fast_cat(r, sc, b, at, K_CATEGORY, r->f_category, &v[V_CAT]);
	add_row(r, gs, ln, asin, mkt, v, flags);
	return 1;
}

/*
 * The record layer's way through a parsed line: every field looked up by
 * name.  Takes every line the fast path leaves, and words its rejects.
 */
static void
read_slow(struct run *r, struct group_set *gs, const struct nd_line *ln)
{
	struct record *rec = r->rec;
	double v[NVAL];
	const char *asin, *mkt, *date, *s;
	size_t alen, mlen, dlen, n, i;
	long day;
	unsigned flags;

	if (rec_str(rec, r->f_asin, &asin, &alen) != REC_OK) {
		acct_reject(r->ac, ln->source, ln->lineno, ln->buf, ln->len,
		    rec_errmsg(rec, r->f_asin, REC_STRING));
		return;
	}
	if (alen != 10 || !is_upper_alnum(asin, alen, 1)) {
		acct_reject(r->ac, ln->source, ln->lineno, ln->buf, ln->len,
		    "field \"asin\": expected 10 characters A-Z 0-9");
		return;
	}
	if (rec_str(rec, r->f_mkt, &mkt, &mlen) != REC_OK) {
		acct_reject(r->ac, ln->source, ln->lineno, ln->buf, ln->len,
		    rec_errmsg(rec, r->f_mkt, REC_STRING));
		return;
	}
	if (mlen != 2 || !is_upper_alnum(mkt, mlen, 0)) {
		acct_reject(r->ac, ln->source, ln->lineno, ln->buf, ln->len,
		    "field \"marketplace\": expected 2 letters A-Z");
		return;
	}
	if (rec_str(rec, r->f_date, &date, &dlen) != REC_OK) {
		acct_reject(r->ac, ln->source, ln->lineno, ln->buf, ln->len,
		    rec_errmsg(rec, r->f_date, REC_STRING));
		return;
	}
	if (!feat_parse_date(date, dlen, &day)) {
		acct_reject(r->ac, ln->source, ln->lineno, ln->buf, ln->len,
		    "field \"date\": expected a date YYYY-MM-DD");
		return;
	}
	v[FV_DAY] = (double)day;
	/* Only the values some asked-for feature reads. */
	for (i = FV_BSR; i < FV_N; i++) {
		v[i] = NAN;
		if (r->vf[i] == NULL || !r->need[i])
			continue;
		if (!(i == FV_DEAL || i == FV_VIDEO || i == FV_APLUS ?
		    get_bool(r, ln, r->vf[i], &v[i]) :
		    get_num(r, ln, r->vf[i], &v[i])))
			return;
	}
	/* The price a shopper pays: buy box, else lowest new, else price. */
	if (!(v[FV_PRICE] > 0) && r->need[FV_PRICE]) {
		if (!get_num(r, ln, r->f_pnew, &v[FV_PRICE]))
			return;
		if (!(v[FV_PRICE] > 0) &&
		    !get_num(r, ln, r->f_price, &v[FV_PRICE]))
			return;
	}
	/* No title_len: count the title's characters. */
	if (isnan(v[FV_TITLE]) && r->need[FV_TITLE] &&
	    rec_str(rec, r->f_title, &s, &n) == REC_OK) {
		v[FV_TITLE] = 0;
		for (i = 0; i < n; i++)
			v[FV_TITLE] += ((unsigned char)s[i] & 0xc0) != 0x80;
	}
	v[FV_LISTED] = NAN;
	switch (r->need[FV_LISTED] ? rec_str(rec, r->f_listed, &s, &n) :
	    REC_ABSENT) {
	case REC_OK:
		if (!feat_parse_date(s, n, &day)) {
			acct_reject(r->ac, ln->source, ln->lineno, ln->buf,
			    ln->len, "field \"listed_since\": expected a "
			    "date YYYY-MM-DD");
			return;
		}
		v[FV_LISTED] = (double)day;
		break;
	case REC_BADTYPE:
		acct_reject(r->ac, ln->source, ln->lineno, ln->buf, ln->len,
		    rec_errmsg(rec, r->f_listed, REC_STRING));
		return;
	default:
		break;
	}
	/* The category the rank is measured in: bsr_cat, else category. */
	v[V_CAT] = NAN;
	if (!r->need_cat)
		;
	else if (rec_kind(rec, r->f_bsr_cat) > REC_NULL &&
	    rec_json(rec, r->f_bsr_cat, &s, &n) == REC_OK)
		v[V_CAT] = (double)intern(&r->cats, s, n);
	else if (rec_kind(rec, r->f_category) > REC_NULL &&
	    rec_json(rec, r->f_category, &s, &n) == REC_OK)
		v[V_CAT] = (double)intern(&r->cats, s, n);

	flags = 0;
	for (i = 0; i < r->noutf; i++)
		if (rec_kind(rec, r->outf[i]) != REC_MISSING) {
			flags |= ROW_REPLACES;
			break;
		}
	add_row(r, gs, ln, asin, mkt, v, flags);
}

static void
read_row(struct run *r, struct group_set *gs, const struct nd_line *ln)
{
	const char *err;

	if (ln->error != NULL || !rec_parse(r->rec, ln, &err)) {
		acct_reject(r->ac, ln->source, ln->lineno, ln->buf, ln->len,
		    ln->error != NULL ? ln->error : err);
		return;
	}
	if (!read_fast(r, gs, ln))
		read_slow(r, gs, ln);
}

static void
reject_row(struct run *r, const struct group_row *row, const char *msg)
{
	acct_reject(r->ac, row->source, row->lineno, row->line, row->len,
	    msg);
}

/*
 * Load a group into the engine; rows that share a day with another are
 * all rejected (which one is right cannot be told), so the result does
 * not depend on their order.  Returns the rows left (0: none).
 */
static size_t
load_group(struct run *r, const struct gspan *g)
{
	struct group_row *gr;
	size_t i, n = 0, a, b, j, k;
	double cat;
	char msg[200], d[11];

	if (g->n > r->rowcap) {
		r->rowcap = g->n;
		r->rows = xreallocarray(r->rows, g->n, sizeof(*r->rows));
	}
	for (i = 0; i < g->n; i++) {
		gr = g->row[i];
		if (gr->flags & ROW_DUP)
			continue;
		for (k = 0; k < FV_N; k++)
			r->rows[n].v[k] = NAN;
		cat = NAN;
		for (k = 0; k < r->nstore; k++)
			if (r->store[k] == V_CAT)
				cat = gr->val[k];
			else
				r->rows[n].v[r->store[k]] = gr->val[k];
		if (isnan(cat)) {
			r->rows[n].cat = NULL;
			r->rows[n].catlen = 0;
		} else {
			r->rows[n].cat = r->cats.s[(size_t)cat];
			r->rows[n].catlen = r->cats.len[(size_t)cat];
		}
		r->rows[n].tag = gr;
		n++;
	}
	while (n > 0 && !feat_load(r->h, r->rows, n, &a, &b)) {
		double day = r->rows[a].v[FV_DAY];
		const struct group_row *keep = r->rows[a].tag;
		int same = 1;

		/* Byte-identical copies are one row seen twice: merged.
		 * Rows that differ cannot be told apart: all rejected. */
		for (j = 0; j < n; j++) {
			gr = r->rows[j].tag;
			if (r->rows[j].v[FV_DAY] == day && (gr->len !=
			    keep->len || memcmp(gr->line, keep->line,
			    keep->len) != 0))
				same = 0;
		}
		feat_fmt_date(d, (long)day);
		for (j = 0; j < n; j++) {
			gr = r->rows[j].tag;
			if (r->rows[j].v[FV_DAY] != day || (same && gr == keep))
				continue;
			gr->flags |= ROW_DUP;
			if (same) {
				r->ac->merged++;
				continue;
			}
			snprintf(msg, sizeof(msg), "duplicate row for this "
			    "asin, marketplace and date %s (asin-dedupe "
			    "merges them)", d);
			reject_row(r, gr, msg);
			r->dups++;
		}
		for (i = j = 0; j < n; j++)
			if (!(((struct group_row *)r->rows[j].tag)->flags &
			    ROW_DUP))
				r->rows[i++] = r->rows[j];
		n = i;
	}
	return n;
}

static int
cmp_xentry(const void *a, const void *b)
{
	const struct xentry *x = a, *y = b;

	if (x->cat != y->cat)
		return (uintptr_t)x->cat < (uintptr_t)y->cat ? -1 : 1;
	if (x->day != y->day)
		return x->day < y->day ? -1 : 1;
	return x->m7 < y->m7 ? -1 : x->m7 > y->m7;
}

/*
 * The labels' cross-section: every series' 7-day median BSR on every day
 * of its span, by category and day, reduced to the top-q cutoff of each
 * (category, day).  Categories are interned, so a pointer names one.
 */
static void
cross_section(struct run *r, const struct gspan *groups, size_t ng)
{
	struct xentry *e;
	const char *cat;
	size_t g, first, cnt, span, d, catlen, i, j, k;
	long d0;
	double m;

	r->nxs = 0;
	for (g = 0; g < ng; g++) {
		if (load_group(r, &groups[g]) == 0)
			continue;
		while (feat_next_segment(r->h, &first, &cnt)) {
			feat_span(r->h, &d0, &span);
			for (d = 0; d < span; d++) {
				m = feat_median7(r->h, d0 + (long)d, &cat,
				    &catlen);
				if (isnan(m) || cat == NULL)
					continue;
				if (r->nxs == r->xscap) {
					r->xscap = r->xscap ? r->xscap * 2 :
					    1024;
					r->xs = xreallocarray(r->xs, r->xscap,
					    sizeof(*r->xs));
				}
				e = &r->xs[r->nxs++];
				e->cat = cat;
				e->day = d0 + (long)d;
				e->m7 = m;
			}
		}
	}
	qsort(r->xs, r->nxs, sizeof(*r->xs), cmp_xentry);
	/* One entry per (category, day) holding the cutoff. */
	for (i = k = 0; i < r->nxs; i = j) {
		for (j = i; j < r->nxs && r->xs[j].cat == r->xs[i].cat &&
		    r->xs[j].day == r->xs[i].day; j++)
			;
		if (j - i > r->qcap) {
			r->qcap = j - i;
			r->qtmp = xreallocarray(r->qtmp, r->qcap,
			    sizeof(double));
		}
		for (d = i; d < j; d++)
			r->qtmp[d - i] = r->xs[d].m7;
		r->xs[k] = r->xs[i];
		r->xs[k].m7 = stats_quantile(r->qtmp, j - i, r->fo.top_q);
		k++;
	}
	r->nxs = k;
}

static double
threshold(struct run *r, const char *cat, long day)
{
	struct xentry key, *e;
	size_t lo = 0, hi = r->nxs, mid;

	if (!r->labels_xs)
		return INFINITY;
	if (cat == NULL)
		return NAN;
	key.cat = cat;
	key.day = day;
	key.m7 = -INFINITY;
	/* The entries are unique per (category, day). */
	while (lo < hi) {
		mid = lo + (hi - lo) / 2;
		e = &r->xs[mid];
		if (e->cat == key.cat && e->day == key.day)
			return e->m7;
		if (cmp_xentry(e, &key) < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return NAN;
}

/*
 * In the hash mode the rows leave in key order, not in the order they
 * were read: each line is a cold fetch from far away in the input.  Ask
 * for every cache line of a row a few rows ahead, so the fetches overlap
 * the work on the rows before it.
 */
static void
prefetch_line(const struct group_row *row)
{
	const char *p = row->line, *end = row->line + row->len;

	for (; p < end; p += 64)
		__builtin_prefetch(p);
	__builtin_prefetch(end - 1);
}

static int
selected(const struct run *r, long day)
{
	if (r->asof != NULL)
		return bsearch(&day, r->asof, r->nasof, sizeof(*r->asof),
		    cmp_long) != NULL;
	if (r->have_since)
		return day >= r->since;
	return 1;
}

/* A batch of group.c's: its groups as spans, for emit_groups(). */
static void
emit_batch(void *ctx, struct group **groups, size_t ng)
{
	struct run *r = ctx;
	size_t g, i, n = 0;

	for (g = 0; g < ng; g++)
		n += groups[g]->n;
	if (ng > r->spancap) {
		r->spancap = ng;
		r->spans = xreallocarray(r->spans, ng, sizeof(*r->spans));
	}
	if (n > r->gbufcap) {
		r->gbufcap = n;
		r->gbuf = xreallocarray(r->gbuf, n, sizeof(*r->gbuf));
	}
	for (g = n = 0; g < ng; g++) {
		r->spans[g].row = r->gbuf + n;
		r->spans[g].n = groups[g]->n;
		for (i = 0; i < groups[g]->n; i++)
			r->gbuf[n++] = group_row(groups[g], i);
	}
	emit_groups(r, r->spans, ng);
}

/*
 * The feature rows of groups[0..ng-1], in order.  With the labels'
 * cross-section the groups are every series there is.
 */
static void
emit_groups(struct run *r, const struct gspan *groups, size_t ng)
{
	struct feat_row **sorted;
	struct group_row **all;
	const char *cat;
	size_t g, first, cnt, k, ns, catlen, nall, at;
	long day;
	double th;

	if (ng == 0)
		return;
	if (r->labels_xs)
		cross_section(r, groups, ng);
	all = groups[0].row;
	nall = (size_t)(groups[ng - 1].row - all) + groups[ng - 1].n;
	for (g = 0; g < ng; g++) {
		/* In the hash mode the rows were read long ago, far apart:
		 * have the next group's fetched while this one is worked on,
		 * and the lines a few rows ahead (in arrival order, which is
		 * mostly day order) while this row's features are made. */
		if (r->kg != NULL && g + 1 < ng)
			for (k = 0; k < groups[g + 1].n; k++)
				__builtin_prefetch(groups[g + 1].row[k]);
		if (load_group(r, &groups[g]) == 0)
			continue;
		sorted = feat_sorted(r->h, &ns);
		while (feat_next_segment(r->h, &first, &cnt)) {
			for (k = first; k < first + cnt; k++) {
				at = (size_t)(groups[g].row - all) + k +
				    PREFETCH_AHEAD;
				if (r->kg != NULL && at < nall)
					prefetch_line(all[at]);
				day = (long)sorted[k]->v[FV_DAY];
				if (!selected(r, day)) {
					r->ac->dropped++;
					continue;
				}
				th = INFINITY;
				if (r->fo.horizon > 0 && r->labels_xs) {
					feat_median7(r->h, day +
					    r->fo.horizon, &cat, &catlen);
					th = threshold(r, cat, day +
					    r->fo.horizon);
				}
				feat_row(r->h, day, th, &r->fout);
				write_row(r, sorted[k]->tag);
			}
		}
	}
}

/*
 * A plain row gets the members spliced in before its closing brace, the
 * bytes out_end() would write; a row that already has one of our keys
 * goes through out_*(), which replaces the old values.
 */
static void
write_row(struct run *r, const struct group_row *row)
{
	const struct feat_out *fo = &r->fout;
	struct nd_line ln;
	const char *err;
	size_t i;

	r->ac->out++;
	if (!(row->flags & ROW_REPLACES)) {
		out_line_append(r->o, row->line, row->len, fo->text.data,
		    fo->text.len);
		return;
	}
	ln.buf = row->line;
	ln.len = row->len;
	ln.source = row->source;
	ln.lineno = row->lineno;
	ln.error = NULL;
	if (!rec_parse(r->rec, &ln, &err))
		die_at(row->source, row->lineno, "%s", err);
	out_begin(r->o, r->rec);
	for (i = 0; i < fo->n; i++)
		out_set_json(r->o, fo->m[i].key, fo->text.data + fo->m[i].off,
		    fo->m[i].len);
	out_end(r->o);
}

int
main(int argc, char *argv[])
{
	struct cli_common co;
	struct run r;
	struct acct ac;
	struct nd_reader *rd;
	struct nd_line ln;
	struct group_set *gs;
	const char *windows = DEFAULT_WINDOWS, *units = NULL;
	const char *const *keys;
	char extra[256];
	int ch, stable, nkeyf;
	size_t i, nkeys, ng, peak;

	diag_init(argv[0]);
	cli_init(&co, usage_text);
	memset(&r, 0, sizeof(r));
	r.fo.min_cov = 0.6;
	r.fo.top_q = 0.2;
	r.fo.bsr_cap = 500000;
	memcpy(r.fo.lqs_w, lqs_default, sizeof(r.fo.lqs_w));
	while ((ch = cli_getopt(argc, argv, "hVqv", longopts)) != -1) {
		if (cli_common_opt(&co, ch, optarg))
			continue;
		switch (ch) {
		case OPT_AS_OF:
			if (r.have_since)
				usage_error("options --as-of and --since "
				    "exclude each other");
			free(r.asof);
			parse_asof(&r, optarg);
			break;
		case OPT_BSR_CAP:
			r.fo.bsr_cap = cli_double("--bsr-cap", optarg, 1,
			    1e15);
			break;
		case OPT_FEATURES:
			strv_free(r.fo.only);
			r.fo.only = cli_split("--features", optarg, NULL);
			for (i = 0; r.fo.only[i] != NULL; i++)
				if (!feat_known(r.fo.only[i]))
					usage_error("option --features: no "
					    "feature named '%s'",
					    r.fo.only[i]);
			break;
		case OPT_HORIZON:
			r.fo.horizon = (int)cli_int("--label-horizon", optarg,
			    1, FEAT_MAX_WINDAYS);
			break;
		case OPT_LQS_WEIGHTS:
			parse_lqs(&r.fo, optarg);
			break;
		case OPT_MIN_COV:
			r.fo.min_cov = cli_double("--min-coverage", optarg,
			    0, 1);
			break;
		case OPT_MIN_DROP:
			r.fo.min_drop = cli_double("--min-drop", optarg, 0,
			    0.99);
			break;
		case OPT_SINCE:
			if (r.asof != NULL)
				usage_error("options --as-of and --since "
				    "exclude each other");
			r.since = parse_day("--since", optarg);
			r.have_since = 1;
			break;
		case OPT_SORTED:
			r.sorted = 1;
			break;
		case OPT_TOP_Q:
			r.fo.top_q = cli_double("--top-q", optarg, 0, 1);
			if (r.fo.top_q <= 0)
				usage_error("option --top-q: expected a "
				    "number above 0 and at most 1, got '%s'",
				    optarg);
			break;
		case OPT_UNITS:
			units = optarg;
			break;
		case OPT_WINDOWS:
			windows = optarg;
			break;
		default:
			usage_error("unknown option");
		}
	}
	parse_windows(&r.fo, windows);
	if (units != NULL)
		load_curves(&r.fo, units);
	/* The top-q cutoff needs every series of the category. */
	if (r.fo.horizon > 0 && r.fo.top_q < 1) {
		if (r.sorted)
			usage_error("option --label-horizon: breakout's top-q "
			    "test needs every ASIN at once; with --sorted "
			    "give --top-q 1");
		r.labels_xs = 1;
	}

	rd = nd_open(argv + optind, argc - optind, co.max_line);
	stable = !r.sorted && nd_stable(rd);
	r.o = out_new(1, "<stdout>");
	r.ac = &ac;
	r.rec = rec_new();
	r.h = feat_new(&r.fo);
	feat_out_init(&r.fout);
	buf_init(&r.tmp);
	r.f_asin = rec_field("asin");
	r.f_mkt = rec_field("marketplace");
	r.f_date = rec_field("date");
	r.f_bsr = rec_field("bsr");
	r.f_bsr_cat = rec_field("bsr_cat");
	r.f_category = rec_field("category");
	r.f_pbb = rec_field("price_buybox");
	r.f_pnew = rec_field("price_new");
	r.f_price = rec_field("price");
	r.f_list = rec_field("list_price");
	r.f_offers = rec_field("offers_new");
	r.f_rating = rec_field("rating");
	r.f_reviews = rec_field("review_count");
	r.f_deal = rec_field("deal_active");
	r.f_drops = rec_field("bsr_drops");
	r.f_kd30 = rec_field("sales_rank_drops_30");
	r.f_kd90 = rec_field("sales_rank_drops_90");
	r.f_listed = rec_field("listed_since");
	r.f_title_len = rec_field("title_len");
	r.f_title = rec_field("title");
	r.f_bullets = rec_field("bullet_count");
	r.f_bullet_len = rec_field("bullet_chars_mean");
	r.f_images = rec_field("image_count");
	r.f_video = rec_field("has_video");
	r.f_aplus = rec_field("has_aplus");
	r.f_desc = rec_field("desc_chars");
	r.vf[FV_BSR] = r.f_bsr;
	r.vf[FV_PRICE] = r.f_pbb;
	r.vf[FV_LIST] = r.f_list;
	r.vf[FV_OFFERS] = r.f_offers;
	r.vf[FV_RATING] = r.f_rating;
	r.vf[FV_REVIEWS] = r.f_reviews;
	r.vf[FV_DEAL] = r.f_deal;
	r.vf[FV_DROPS] = r.f_drops;
	r.vf[FV_KDROPS30] = r.f_kd30;
	r.vf[FV_KDROPS90] = r.f_kd90;
	r.vf[FV_TITLE] = r.f_title_len;
	r.vf[FV_BULLETS] = r.f_bullets;
	r.vf[FV_BULLET_LEN] = r.f_bullet_len;
	r.vf[FV_IMAGES] = r.f_images;
	r.vf[FV_VIDEO] = r.f_video;
	r.vf[FV_APLUS] = r.f_aplus;
	r.vf[FV_DESC] = r.f_desc;
	for (i = 0; i < FV_N; i++)
		r.need[i] = feat_needs(r.h, (int)i);
	r.need_cat = feat_needs(r.h, FEAT_NEEDS_CATEGORY);
	keys = feat_keys(r.h, &nkeys);
	r.noutf = nkeys;
	r.outf = xcalloc(nkeys, sizeof(*r.outf));
	for (i = 0; i < nkeys; i++)
		r.outf[i] = rec_field(keys[i]);
	fkey_build(&r, keys, nkeys);
	acct_init(&ac, &co);
	ac.sink = r.o;
	/* With the labels' cross-section, one batch holds every series: a
	 * constant first key field makes them share the batch's root. */
	nkeyf = r.labels_xs ? 3 : 2;
	/* A row keeps only the values something reads: less to hold.  The
	 * listing quality score is all the engine reads of the values only
	 * it needs (add_row() works it out). */
	for (i = 0; i < NVAL; i++)
		if (i == FV_DAY || (i == V_CAT ? r.need_cat :
		    i == FV_LISTED || i == FV_LQS ? r.need[i] :
		    i >= FV_TITLE && i <= FV_DESC ? 0 : r.need[i] &&
		    r.vf[i] != NULL))
			r.store[r.nstore++] = (int)i;
	/* Unsorted input is held whole: its keys have one width, so the
	 * fixed-width engine groups it.  Sorted input streams through
	 * group.c one series at a time. */
	gs = NULL;
	if (r.sorted)
		gs = group_set_new(nkeyf, r.labels_xs ? 1 : nkeyf, r.nstore,
		    1, 0, emit_batch, &r);
	else
		r.kg = keygroup_new(KEYLEN, r.nstore, stable);
	while (nd_next(rd, &ln)) {
		ac.in++;
		read_row(&r, gs, &ln);
	}
	if (gs != NULL) {
		group_set_finish(gs);
		peak = group_set_peak(gs);
	} else {
		ng = keygroup_finish(r.kg);
		r.spans = xreallocarray(r.spans, ng + 1, sizeof(*r.spans));
		for (i = 0; i < ng; i++)
			r.spans[i].row = keygroup_rows(r.kg, i,
			    &r.spans[i].n);
		emit_groups(&r, r.spans, ng);
		peak = keygroup_held(r.kg);
	}
	out_close(r.o);
	snprintf(extra, sizeof(extra), "\"duplicates\":%lld,\"peak_rows\":%zu,"
	    "\"feat_version\":\"%s\"", r.dups, peak, FEAT_VERSION);
	if (co.verbose)
		note("%lld duplicate rows rejected, at most %zu rows held",
		    r.dups, peak);
	group_set_free(gs);
	keygroup_free(r.kg);
	free(r.spans);
	free(r.gbuf);
	for (i = 0; i < nkeys; i++)
		rec_field_free(r.outf[i]);
	free(r.outf);
	free(r.ftab);
	buf_free(&r.tmp);
	rec_field_free(r.f_asin);
	rec_field_free(r.f_mkt);
	rec_field_free(r.f_date);
	rec_field_free(r.f_bsr);
	rec_field_free(r.f_bsr_cat);
	rec_field_free(r.f_category);
	rec_field_free(r.f_pbb);
	rec_field_free(r.f_pnew);
	rec_field_free(r.f_price);
	rec_field_free(r.f_list);
	rec_field_free(r.f_offers);
	rec_field_free(r.f_rating);
	rec_field_free(r.f_reviews);
	rec_field_free(r.f_deal);
	rec_field_free(r.f_drops);
	rec_field_free(r.f_kd30);
	rec_field_free(r.f_kd90);
	rec_field_free(r.f_listed);
	rec_field_free(r.f_title_len);
	rec_field_free(r.f_title);
	rec_field_free(r.f_bullets);
	rec_field_free(r.f_bullet_len);
	rec_field_free(r.f_images);
	rec_field_free(r.f_video);
	rec_field_free(r.f_aplus);
	rec_field_free(r.f_desc);
	for (i = 0; i < r.fo.ncurve; i++)
		free(r.fo.curve[i].cat);
	free(r.fo.curve);
	if (r.fo.only != NULL)
		strv_free(r.fo.only);
	feat_out_free(&r.fout);
	feat_free(r.h);
	intern_free(&r.cats);
	free(r.rows);
	free(r.asof);
	free(r.xs);
	free(r.qtmp);
	rec_free(r.rec);
	nd_close(rd);
	return acct_finish(&ac, extra);
}
