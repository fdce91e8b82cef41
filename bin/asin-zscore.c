/*
 * asin-zscore - robust z-scores of features within groups of rows (by
 * default date, marketplace, category) and a weighted score with the
 * rank of each row in its group.  z = (x - median) / (1.4826 * MAD), with
 * exact medians; small groups back off to their parent key.  Results are a
 * function of each group's rows as a set, and groups come out in byte
 * order of their key, so runs over partitions by the first key field (the
 * back-off root) give, together, the records of a single run.
 */
#include <getopt.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "asin.h"
#include "group.h"

#define MAD_SCALE 1.4826	/* MAD to sigma under normality */
#define MEANAD_SCALE 1.253314	/* mean absolute deviation to sigma */

#define DEFAULT_KEY "date,marketplace,category"
#define DEFAULT_FEATURES \
	"-bsr_log_slope_30,log1p:rank_drops_30,log1p:review_velocity_30," \
	"-bsr_log_mom_30"
#define DEFAULT_MIN_GROUP 8

#define ROW_REPLACES 0x1	/* the line already has one of our fields */

enum xform {
	XF_NONE,
	XF_LOG,
	XF_LOG1P
};

struct feature {
	char *name;		/* the name in z_<name> and --weights */
	char *zkey;		/* "z_" name */
	struct rec_field *field;
	enum xform xf;
	int dir;		/* -1: lower is better */
	double weight;
};

/* Everything the flags and the config file decide. */
struct opts {
	char **key;
	size_t nkey;
	struct rec_field **kfield;
	struct feature *feat;
	size_t nfeat;
	long long min_group;
	double clip;		/* 0: no clipping */
	long long top;		/* 0: every row */
	int sorted;
	int explain;
};

/* The statistics of one feature over one group. */
struct fstat {
	size_t n;		/* values present */
	double median;
	double mad;
	double scale;		/* divisor of x - median; 0: flat */
};

/* The statistics of one feature set at one back-off level, cached while
 * the batch's groups go by in order. */
struct level_cache {
	size_t a, b;		/* the groups [a, b) of the batch */
	size_t rows;
	int valid;
	int have_stats;
	struct fstat *fs;	/* nfeat */
};

/* A member being added: its key and where its value is in run.line. */
struct member {
	const char *key;
	size_t off, len;
};

/* One row of a group on its way out. */
struct item {
	struct group_row *row;
	double score;		/* NAN: no feature present */
	double *z;		/* nfeat, NAN for null */
};

struct run {
	const struct opts *opt;
	struct out *o;
	struct acct *ac;
	struct record *rec;	/* for lines that need a full rebuild */
	struct level_cache *lc;	/* per key level 1..nkey */
	double *vals, *tmp;	/* gather space */
	size_t valcap;
	struct item *items;
	double *zbuf;
	size_t itemcap;
	struct buf line;	/* `,"key":value' text of the new members */
	struct member *mem;	/* the same, member by member */
	size_t nmem, memcap;
	struct rec_field **outf;	/* our own keys, to spot them in input */
	size_t noutf;
	long long dropped;	/* rows left out by --top */
	long long backed_off;
	long long flat;
};

static const char usage_text[] =
    "usage: asin-zscore [-k fields] [-f features] [-w weights] [--clip C]\n"
    "                   [--min-group N] [--top N] [--sorted] [--explain]\n"
    "                   [--config FILE] [file ...]\n"
    "Add robust z-scores of features within groups, a weighted score and\n"
    "each row's rank in its group.\n"
    "\n"
    "  -k, --key FIELDS      group by these fields (default\n"
    "                        date,marketplace,category)\n"
    "  -f, --features LIST   features as [-][log:|log1p:]FIELD; a leading\n"
    "                        - means lower is better (default\n"
    "                        " DEFAULT_FEATURES ")\n"
    "  -w, --weights LIST    score weights as NAME=W,... (default 1 each)\n"
    "      --clip C          limit every z to -C..C\n"
    "      --min-group N     back off to the parent key below N rows\n"
    "                        (default 8; 1 turns back-off off)\n"
    "      --top N           keep the N best rows of each group\n"
    "      --sorted          input is sorted by the key: hold one group\n"
    "      --explain         add each feature's part of the score\n"
    "      --config FILE     read these settings from a JSON file\n"
    "\n";

enum {
	OPT_CLIP = OPT_COMMON_END,
	OPT_MIN_GROUP,
	OPT_TOP,
	OPT_SORTED,
	OPT_EXPLAIN,
	OPT_CONFIG
};

static const struct option longopts[] = {
	CLI_COMMON_LONGOPTS,
	{ "key", required_argument, NULL, 'k' },
	{ "features", required_argument, NULL, 'f' },
	{ "weights", required_argument, NULL, 'w' },
	{ "clip", required_argument, NULL, OPT_CLIP },
	{ "min-group", required_argument, NULL, OPT_MIN_GROUP },
	{ "top", required_argument, NULL, OPT_TOP },
	{ "sorted", no_argument, NULL, OPT_SORTED },
	{ "explain", no_argument, NULL, OPT_EXPLAIN },
	{ "config", required_argument, NULL, OPT_CONFIG },
	{ NULL, 0, NULL, 0 }
};

/* The flags as given; NULL where not given (the config may fill). */
struct flags {
	const char *key;
	const char *features;
	const char *weights;
	const char *clip;
	const char *min_group;
	const char *top;
	const char *config;
	int sorted;
	int explain;
	jv cfg_weights;		/* from the config file, or invalid */
	char *owned[8];		/* strings the config file filled in */
	int nowned;
};

static void parse_features(struct opts *, const char *, const char *);
static void parse_weights(struct opts *, const char *, const char *);
static void set_weight(struct opts *, const char *, const char *, double);
static char *feature_name(const char *, enum xform);
static void load_config(struct flags *, const char *);
static char *config_list(const char *, jv, const char *);
static void setup(struct opts *, struct flags *);
static void opts_free(struct opts *, struct flags *);
static void run_free(struct run *);
static int read_row(struct run *, struct group_set *, const struct nd_line *,
    struct record *);
static void emit_batch(void *, struct group **, size_t);
static void feature_stats(struct run *, struct group **, size_t, size_t,
    size_t, struct fstat *);
static void score_group(struct run *, struct group *, int,
    struct level_cache *);
static int cmp_items(const void *, const void *);
static void write_item(struct run *, const struct item *, long long,
    long long, long long, int, const struct level_cache *);
static void member_begin(struct run *, const char *);
static void member_end(struct run *);
static void member_num(struct run *, const char *, double);
static void pair_num(struct buf *, const char *, double, int);
static struct level_cache *range_for(struct run *, struct group **, size_t,
    size_t, int);
static int has_our_keys(struct run *, struct record *);
static int cmp_double(const void *, const void *);

/*
 * A feature spec: [-|+][log:|log1p:]FIELD.  The name of its z field is
 * the field with every character outside [A-Za-z0-9_] made '_', led by
 * the transform ("log:bsr" -> z_log_bsr).
 */
static void
parse_features(struct opts *o, const char *flag, const char *list)
{
	char **items = cli_split(flag, list, &o->nfeat);
	const char *s, *err;
	struct feature *f;
	size_t i, j;

	o->feat = xcalloc(o->nfeat, sizeof(*o->feat));
	for (i = 0; i < o->nfeat; i++) {
		f = &o->feat[i];
		s = items[i];
		f->dir = 1;
		if (*s == '-' || *s == '+')
			f->dir = *s++ == '-' ? -1 : 1;
		if (strncmp(s, "log:", 4) == 0) {
			f->xf = XF_LOG;
			s += 4;
		} else if (strncmp(s, "log1p:", 6) == 0) {
			f->xf = XF_LOG1P;
			s += 6;
		}
		f->field = rec_field_try(s, &err);
		if (f->field == NULL)
			usage_error("option %s: '%s': %s", flag, items[i], err);
		f->name = feature_name(s, f->xf);
		f->zkey = xasprintf("z_%s", f->name);
		f->weight = 1;
		if (i >= 64)
			usage_error("option %s: at most 64 features", flag);
		/* z_backoff and z_flat are ours. */
		if (strcmp(f->name, "backoff") == 0 ||
		    strcmp(f->name, "flat") == 0)
			usage_error("option %s: a feature named '%s' would "
			    "clash with z_%s", flag, f->name, f->name);
		for (j = 0; j < i; j++)
			if (strcmp(o->feat[j].name, f->name) == 0)
				usage_error("option %s: feature '%s' given "
				    "twice", flag, f->name);
	}
	strv_free(items);
}

static char *
feature_name(const char *expr, enum xform xf)
{
	const char *pre = xf == XF_LOG ? "log_" : xf == XF_LOG1P ?
	    "log1p_" : "";
	struct buf b;
	const char *p;
	int under = 1;

	buf_init(&b);
	buf_adds(&b, pre);
	for (p = expr; *p != '\0'; p++) {
		if ((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
		    (*p >= '0' && *p <= '9') || *p == '_') {
			buf_addc(&b, *p);
			under = 0;
		} else if (!under) {
			buf_addc(&b, '_');
			under = 1;
		}
	}
	while (b.len > 0 && b.data[b.len - 1] == '_' && b.len > strlen(pre))
		b.data[--b.len] = '\0';
	if (b.len == strlen(pre))
		buf_adds(&b, "x");
	return b.data;
}

/* NAME=W,...: NAME is a feature's name or its field as written. */
static void
parse_weights(struct opts *o, const char *flag, const char *list)
{
	char **items = cli_split(flag, list, NULL);
	char *eq;
	double w;
	size_t i;

	for (i = 0; items[i] != NULL; i++) {
		eq = strchr(items[i], '=');
		if (eq == NULL || eq == items[i])
			usage_error("option %s: expected NAME=WEIGHT, got '%s'",
			    flag, items[i]);
		*eq = '\0';
		if (!parse_double(eq + 1, strlen(eq + 1), &w))
			usage_error("option %s: weight of '%s': expected a "
			    "number, got '%s'", flag, items[i], eq + 1);
		set_weight(o, flag, items[i], w);
	}
	strv_free(items);
}

static void
set_weight(struct opts *o, const char *where, const char *name, double w)
{
	size_t i;

	for (i = 0; i < o->nfeat; i++)
		if (strcmp(o->feat[i].name, name) == 0 ||
		    strcmp(rec_field_name(o->feat[i].field), name) == 0) {
			o->feat[i].weight = w;
			return;
		}
	usage_error("%s%s: no feature named '%s'", where[0] == '-' ?
	    "option " : "", where, name);
}

/* A list in the config: a string as on the command line, or an array of
 * strings.  Returns a fresh comma-joined string; consumes v. */
static char *
config_list(const char *path, jv v, const char *name)
{
	struct buf b;
	int i, n;
	jv e;

	if (jv_get_kind(v) == JV_KIND_STRING) {
		char *s = xstrdup(jv_string_value(v));
		jv_free(v);
		return s;
	}
	if (jv_get_kind(v) != JV_KIND_ARRAY)
		usage_error("%s: \"%s\": expected a string or an array of "
		    "strings", path, name);
	buf_init(&b);
	buf_adds(&b, "");
	n = jv_array_length(jv_copy(v));
	for (i = 0; i < n; i++) {
		e = jv_array_get(jv_copy(v), i);
		if (jv_get_kind(e) != JV_KIND_STRING)
			usage_error("%s: \"%s\": expected a string or an array "
			    "of strings", path, name);
		if (i > 0)
			buf_addc(&b, ',');
		buf_adds(&b, jv_string_value(e));
		jv_free(e);
	}
	jv_free(v);
	return b.data;
}

/*
 * The JSON config: {"key", "features", "weights": {NAME: W}, "clip",
 * "min_group", "top"}.  It fills only what no flag set (flags beat the
 * file); its weights are applied before those of --weights.  Unknown
 * members are an error, so a typo does not pass for a setting.
 */
static void
load_config(struct flags *fl, const char *path)
{
	jv cfg, keys, k, v;
	int i, n;
	const char *name;
	const char **slot;

	cfg = json_config_file(path);
	keys = jv_keys(jv_copy(cfg));
	n = jv_array_length(jv_copy(keys));
	for (i = 0; i < n; i++) {
		k = jv_array_get(jv_copy(keys), i);
		name = jv_string_value(k);
		v = jv_object_get(jv_copy(cfg), jv_copy(k));
		slot = NULL;
		if (strcmp(name, "key") == 0)
			slot = &fl->key;
		else if (strcmp(name, "features") == 0)
			slot = &fl->features;
		else if (strcmp(name, "clip") == 0)
			slot = &fl->clip;
		else if (strcmp(name, "min_group") == 0)
			slot = &fl->min_group;
		else if (strcmp(name, "top") == 0)
			slot = &fl->top;
		else if (strcmp(name, "weights") == 0) {
			if (jv_get_kind(v) != JV_KIND_OBJECT)
				usage_error("%s: \"weights\": expected an "
				    "object", path);
			fl->cfg_weights = v;
			v = jv_invalid();
		} else
			usage_error("%s: unknown setting \"%s\"", path, name);
		if (slot == &fl->key || slot == &fl->features) {
			char *s = config_list(path, v, name);

			if (*slot == NULL)
				*slot = fl->owned[fl->nowned++] = s;
			else
				free(s);
		} else if (slot != NULL) {
			/* Numbers go through the flags' own strict checks. */
			if (jv_get_kind(v) != JV_KIND_NUMBER)
				usage_error("%s: \"%s\": expected a number",
				    path, name);
			if (*slot == NULL)
				*slot = fl->owned[fl->nowned++] =
				    xasprintf("%.17g", jv_number_value(v));
			jv_free(v);
		} else
			jv_free(v);
		jv_free(k);
	}
	jv_free(keys);
	jv_free(cfg);
}

/* Turn the flags (and the config they name) into options; usage errors
 * here, before any input is read. */
static void
setup(struct opts *o, struct flags *fl)
{
	size_t i;
	int n;
	jv keys, k, w;

	fl->cfg_weights = jv_invalid();
	if (fl->config != NULL)
		load_config(fl, fl->config);
	parse_features(o, "--features", fl->features != NULL ?
	    fl->features : DEFAULT_FEATURES);
	if (jv_is_valid(fl->cfg_weights)) {
		keys = jv_keys(jv_copy(fl->cfg_weights));
		n = jv_array_length(jv_copy(keys));
		for (i = 0; i < (size_t)n; i++) {
			k = jv_array_get(jv_copy(keys), (int)i);
			w = jv_object_get(jv_copy(fl->cfg_weights), jv_copy(k));
			if (jv_get_kind(w) != JV_KIND_NUMBER)
				usage_error("%s: weight of \"%s\": expected a "
				    "number", fl->config, jv_string_value(k));
			set_weight(o, fl->config, jv_string_value(k),
			    jv_number_value(w));
			jv_free(w);
			jv_free(k);
		}
		jv_free(keys);
	}
	jv_free(fl->cfg_weights);
	if (fl->weights != NULL)
		parse_weights(o, "--weights", fl->weights);

	o->key = cli_split("--key", fl->key != NULL ? fl->key : DEFAULT_KEY,
	    &o->nkey);
	if (o->nkey > 16)
		usage_error("option --key: at most 16 fields, got %zu",
		    o->nkey);
	o->kfield = xcalloc(o->nkey, sizeof(*o->kfield));
	for (i = 0; i < o->nkey; i++) {
		const char *err;

		o->kfield[i] = rec_field_try(o->key[i], &err);
		if (o->kfield[i] == NULL)
			usage_error("option --key: '%s': %s", o->key[i], err);
	}
	o->min_group = fl->min_group != NULL ? cli_int("--min-group",
	    fl->min_group, 1, 1000000000) : DEFAULT_MIN_GROUP;
	o->clip = fl->clip != NULL ? cli_double("--clip", fl->clip, 0,
	    1e300) : 0;
	if (fl->clip != NULL && !(o->clip > 0))
		usage_error("option --clip: expected a positive number, got "
		    "'%s'", fl->clip);
	o->top = fl->top != NULL ? cli_int("--top", fl->top, 1,
	    1000000000) : 0;
	o->sorted = fl->sorted;
	o->explain = fl->explain;
}

/*
 * Parse one line into the group set: its key and its feature values
 * (transformed; NAN where null or absent).  0 and a reject when the line
 * is bad.
 */
static int
read_row(struct run *r, struct group_set *gs, const struct nd_line *ln,
    struct record *rec)
{
	const struct opts *o = r->opt;
	struct group_row *row;
	const char *err, *s;
	char num[40];
	double x, v[64];
	size_t i, n;
	unsigned flags = 0;
	enum rec_status st;

	if (ln->error != NULL || !rec_parse(rec, ln, &err)) {
		acct_reject(r->ac, ln->source, ln->lineno, ln->buf, ln->len,
		    ln->error != NULL ? ln->error : err);
		return 0;
	}
	group_key_begin(gs);
	for (i = 0; i < o->nkey; i++) {
		st = rec_str(rec, o->kfield[i], &s, &n);
		if (st == REC_BADTYPE && rec_kind(rec, o->kfield[i]) ==
		    REC_NUMBER)
			st = rec_json(rec, o->kfield[i], &s, &n);
		if (st == REC_ISNULL) {
			/*
			 * A null key is no group: lumping every null
			 * category together would rank unrelated products
			 * against each other (asin(7)).
			 */
			err = xasprintf("key field \"%s\" is null",
			    rec_field_name(o->kfield[i]));
			acct_reject(r->ac, ln->source, ln->lineno, ln->buf,
			    ln->len, err);
			free((char *)err);
			return 0;
		}
		if (st != REC_OK) {
			acct_reject(r->ac, ln->source, ln->lineno, ln->buf,
			    ln->len, rec_errmsg(rec, o->kfield[i], REC_STRING));
			return 0;
		}
		group_key_add(gs, s, n);
	}
	for (i = 0; i < o->nfeat; i++) {
		const struct feature *f = &o->feat[i];

		st = rec_num(rec, f->field, &x);
		if (st == REC_BADTYPE) {
			acct_reject(r->ac, ln->source, ln->lineno, ln->buf,
			    ln->len, rec_errmsg(rec, f->field, REC_NUMBER));
			return 0;
		}
		if (st != REC_OK) {
			v[i] = NAN;
			continue;
		}
		if ((f->xf == XF_LOG && !(x > 0)) ||
		    (f->xf == XF_LOG1P && !(x > -1))) {
			fmt_double(num, x);
			err = xasprintf("field \"%s\": %s needs a number above "
			    "%s, got %s", rec_field_name(f->field),
			    f->xf == XF_LOG ? "log" : "log1p",
			    f->xf == XF_LOG ? "0" : "-1", num);
			acct_reject(r->ac, ln->source, ln->lineno, ln->buf,
			    ln->len, err);
			free((char *)err);
			return 0;
		}
		v[i] = f->xf == XF_LOG ? log(x) : f->xf == XF_LOG1P ?
		    log1p(x) : x;
	}
	/* A line that already carries one of our fields (a second run over
	 * our own output) is rebuilt on the way out, to keep keys unique. */
	flags = has_our_keys(r, rec) ? ROW_REPLACES : 0;

	row = group_add(gs, ln->buf, ln->len, ln->source, ln->lineno);
	if (row == NULL)
		die_at(ln->source, ln->lineno, "%s", group_set_error(gs));
	memcpy(row->val, v, o->nfeat * sizeof(double));
	row->flags = flags;
	return 1;
}

static int
cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

/*
 * Median, MAD and the scale of one feature over the rows of groups
 * [a, b).  The result depends only on the set of values: the medians
 * are exact and the mean absolute deviation is summed in sorted order.
 */
static void
feature_stats(struct run *r, struct group **g, size_t a, size_t b,
    size_t fi, struct fstat *fs)
{
	size_t i, j, n = 0;
	double x, sum;

	for (i = a; i < b; i++)
		for (j = 0; j < g[i]->n; j++) {
			x = group_row(g[i], j)->val[fi];
			if (!isnan(x))
				r->vals[n++] = x;
		}
	fs->n = n;
	fs->median = fs->mad = NAN;
	fs->scale = 0;
	if (n == 0)
		return;
	fs->median = stats_median(r->vals, n);
	memcpy(r->tmp, r->vals, n * sizeof(double));
	fs->mad = stats_mad(r->tmp, n, fs->median);
	if (fs->mad > 0) {
		fs->scale = MAD_SCALE * fs->mad;
		return;
	}
	qsort(r->vals, n, sizeof(double), cmp_double);
	sum = 0;
	for (i = 0; i < n; i++)
		sum += fabs(r->vals[i] - fs->median);
	fs->scale = MEANAD_SCALE * (sum / (double)n);
}

/*
 * The range of groups around group i of the batch that share its first
 * `level' key fields, with its row count; cached per level while the
 * batch's groups go by in order.  Its statistics are computed on demand.
 */
static struct level_cache *
range_for(struct run *r, struct group **g, size_t ng, size_t i, int level)
{
	struct level_cache *c = &r->lc[level];
	size_t a, b, pl, rows = 0;

	if (c->valid && i >= c->a && i < c->b)
		return c;
	pl = group_prefix_len(g[i]->key, g[i]->keylen, level);
	for (a = i; a > 0 && group_prefix_len(g[a - 1]->key,
	    g[a - 1]->keylen, level) == pl &&
	    memcmp(g[a - 1]->key, g[i]->key, pl) == 0; a--)
		;
	for (b = i + 1; b < ng && group_prefix_len(g[b]->key, g[b]->keylen,
	    level) == pl && memcmp(g[b]->key, g[i]->key, pl) == 0; b++)
		;
	for (i = a; i < b; i++)
		rows += g[i]->n;
	c->a = a;
	c->b = b;
	c->rows = rows;
	c->valid = 1;
	c->have_stats = 0;
	return c;
}

/* The batch callback: every group of one back-off root, in key order. */
static void
emit_batch(void *ctx, struct group **g, size_t ng)
{
	struct run *r = ctx;
	const struct opts *o = r->opt;
	struct level_cache *c;
	size_t i, f;
	int level;

	for (level = 1; level <= (int)o->nkey; level++)
		r->lc[level].valid = 0;
	for (i = 0; i < ng; i++) {
		level = (int)o->nkey;
		while (level > 1 && (long long)range_for(r, g, ng, i,
		    level)->rows < o->min_group)
			level--;
		c = range_for(r, g, ng, i, level);
		if (!c->have_stats) {
			if (c->rows > r->valcap) {
				r->valcap = c->rows;
				free(r->vals);
				free(r->tmp);
				r->vals = xreallocarray(NULL, c->rows,
				    sizeof(double));
				r->tmp = xreallocarray(NULL, c->rows,
				    sizeof(double));
			}
			for (f = 0; f < o->nfeat; f++)
				feature_stats(r, g, c->a, c->b, f, &c->fs[f]);
			c->have_stats = 1;
		}
		score_group(r, g[i], (int)o->nkey - level, c);
	}
}

static int
cmp_items(const void *pa, const void *pb)
{
	const struct item *a = pa, *b = pb;
	int na = isnan(a->score), nb = isnan(b->score), c;

	if (na != nb)
		return na - nb;
	if (!na && a->score != b->score)
		return a->score > b->score ? -1 : 1;
	/* Ties by the bytes of the line, so arrival order never shows. */
	c = memcmp(a->row->line, b->row->line, a->row->len < b->row->len ?
	    a->row->len : b->row->len);
	if (c != 0)
		return c;
	return a->row->len < b->row->len ? -1 : a->row->len > b->row->len;
}

/* z of every row, the score, the rank; then the rows go out best first. */
static void
score_group(struct run *r, struct group *g, int backoff,
    struct level_cache *c)
{
	const struct opts *o = r->opt;
	size_t i, f, nscored = 0;
	long long rank = 0;
	struct item *it;
	double z;

	if (backoff > 0)
		r->backed_off += (long long)g->n;
	if (g->n > r->itemcap) {
		r->itemcap = g->n;
		free(r->items);
		free(r->zbuf);
		r->items = xreallocarray(NULL, g->n, sizeof(*r->items));
		r->zbuf = xreallocarray(NULL, g->n * (o->nfeat ? o->nfeat : 1),
		    sizeof(double));
	}
	for (i = 0; i < g->n; i++) {
		it = &r->items[i];
		it->row = group_row(g, i);
		it->z = r->zbuf + i * o->nfeat;
		it->score = NAN;
		for (f = 0; f < o->nfeat; f++) {
			const struct feature *ft = &o->feat[f];
			double x = it->row->val[f];

			if (isnan(x))
				z = NAN;
			else if (c->fs[f].scale > 0) {
				z = ft->dir * (x - c->fs[f].median) /
				    c->fs[f].scale;
				if (!isfinite(z))
					z = NAN;
				else if (o->clip > 0 && fabs(z) > o->clip)
					z = z > 0 ? o->clip : -o->clip;
				z += 0.0;	/* no "-0" in output */
			} else
				z = 0;	/* no spread at all: flagged */
			it->z[f] = z;
			if (!isnan(z))
				it->score = isnan(it->score) ?
				    ft->weight * z : it->score + ft->weight * z;
		}
		if (!isnan(it->score)) {
			it->score += 0.0;
			nscored++;
		}
	}
	qsort(r->items, g->n, sizeof(*r->items), cmp_items);
	for (i = 0; i < g->n; i++) {
		it = &r->items[i];
		/* The lines were read long ago: fetch the next ones' ends
		 * (where the new members go) while this one is written. */
		if (i + 2 < g->n) {
			const struct group_row *nx = r->items[i + 2].row;

			__builtin_prefetch(nx->line);
			__builtin_prefetch(nx->line + nx->len - 1);
		}
		if (!isnan(it->score) && (i == 0 ||
		    it->score != r->items[i - 1].score))
			rank = (long long)i + 1;
		if (o->top > 0 && (isnan(it->score) || rank > o->top)) {
			r->dropped++;
			continue;
		}
		write_item(r, it, (long long)g->n, isnan(it->score) ? 0 :
		    rank, (long long)nscored, backoff, c);
	}
}

/*
 * Start a new member: `,"key":' in r->line; the value follows.  Our keys
 * are made of [A-Za-z0-9_] only (feature_name() sees to it), so they go
 * in without escaping.
 */
static void
member_begin(struct run *r, const char *key)
{
	size_t n = strlen(key);

	if (r->nmem == r->memcap) {
		r->memcap = r->memcap ? r->memcap * 2 : 16;
		r->mem = xreallocarray(r->mem, r->memcap, sizeof(*r->mem));
	}
	buf_reserve(&r->line, n + 4);
	memcpy(r->line.data + r->line.len, ",\"", 2);
	memcpy(r->line.data + r->line.len + 2, key, n);
	memcpy(r->line.data + r->line.len + 2 + n, "\":", 3);
	r->line.len += n + 4;
	r->line.data[r->line.len] = '\0';
	r->mem[r->nmem].key = key;
	r->mem[r->nmem].off = r->line.len;
}

static void
member_end(struct run *r)
{
	r->mem[r->nmem].len = r->line.len - r->mem[r->nmem].off;
	r->nmem++;
}

/* A number, or null when it is not finite (NaN stands for null here). */
static void
member_num(struct run *r, const char *key, double v)
{
	member_begin(r, key);
	pair_num(&r->line, NULL, v, 0);
	member_end(r);
}

/* `"key":v' (or just v when key is NULL) into b, led by a comma if comma. */
static void
pair_num(struct buf *b, const char *key, double v, int comma)
{
	char tmp[40];

	if (comma)
		buf_addc(b, ',');
	if (key != NULL) {
		buf_add_jstr(b, key, strlen(key));
		buf_addc(b, ':');
	}
	if (isfinite(v))
		buf_add(b, tmp, fmt_double(tmp, v));
	else
		buf_adds(b, "null");
}

/*
 * Write one row with its new members.  A plain row gets the `,"key":value'
 * text spliced in before its closing brace, exactly as out_end() would;
 * a row that already has one of the keys goes through out_*(), which
 * replaces the old values.
 */
static void
write_item(struct run *r, const struct item *it, long long n, long long rank,
    long long nscored, int backoff, const struct level_cache *c)
{
	const struct opts *o = r->opt;
	const struct group_row *row = it->row;
	size_t f, i;
	int flat = 0;
	struct nd_line ln;
	const char *err;

	r->line.len = 0;
	r->nmem = 0;
	for (f = 0; f < o->nfeat; f++)
		member_num(r, o->feat[f].zkey, it->z[f]);
	member_num(r, "score", it->score);
	member_num(r, "group_n", (double)n);
	member_num(r, "group_rank", rank > 0 ? (double)rank : NAN);
	member_num(r, "group_pct", rank > 0 ? (double)rank / (double)nscored :
	    NAN);
	member_num(r, "z_backoff", backoff);
	for (f = 0; f < o->nfeat; f++) {
		if (isnan(row->val[f]) || c->fs[f].scale > 0)
			continue;
		if (!flat++) {
			member_begin(r, "z_flat");
			buf_addc(&r->line, '[');
		} else
			buf_addc(&r->line, ',');
		buf_add_jstr(&r->line, o->feat[f].name,
		    strlen(o->feat[f].name));
	}
	if (flat) {
		buf_addc(&r->line, ']');
		member_end(r);
		r->flat++;
	}
	if (o->explain) {
		member_begin(r, "explain");
		buf_addc(&r->line, '{');
		for (f = 0; f < o->nfeat; f++) {
			const struct feature *ft = &o->feat[f];
			const struct fstat *fs = &c->fs[f];

			if (f > 0)
				buf_addc(&r->line, ',');
			buf_add_jstr(&r->line, ft->name, strlen(ft->name));
			buf_adds(&r->line, ":{");
			pair_num(&r->line, "value", row->val[f], 0);
			pair_num(&r->line, "median", fs->median, 1);
			pair_num(&r->line, "mad", fs->mad, 1);
			pair_num(&r->line, "scale", fs->scale, 1);
			pair_num(&r->line, "n", (double)fs->n, 1);
			pair_num(&r->line, "z", it->z[f], 1);
			pair_num(&r->line, "weight", ft->weight, 1);
			pair_num(&r->line, "contribution",
			    ft->weight * it->z[f], 1);
			buf_addc(&r->line, '}');
		}
		buf_addc(&r->line, '}');
		member_end(r);
	}
	r->ac->out++;

	if (!(row->flags & ROW_REPLACES)) {
		out_line_append(r->o, row->line, row->len, r->line.data,
		    r->line.len);
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
	for (i = 0; i < r->nmem; i++)
		out_set_json(r->o, r->mem[i].key, r->line.data + r->mem[i].off,
		    r->mem[i].len);
	out_end(r->o);
}

/*
 * Does the line already carry one of the fields we add?  Asked of the
 * record itself (the scanner's index makes it a few compares), since a
 * byte search cannot see keys spelled with \u escapes.
 */
static int
has_our_keys(struct run *r, struct record *rec)
{
	size_t i;

	for (i = 0; i < r->noutf; i++)
		if (rec_kind(rec, r->outf[i]) != REC_MISSING)
			return 1;
	return 0;
}

/* Free what setup() made, so leak checkers see a clean exit. */
static void
opts_free(struct opts *o, struct flags *fl)
{
	size_t i;

	for (i = 0; i < o->nfeat; i++) {
		free(o->feat[i].name);
		free(o->feat[i].zkey);
		rec_field_free(o->feat[i].field);
	}
	free(o->feat);
	for (i = 0; i < o->nkey; i++)
		rec_field_free(o->kfield[i]);
	free(o->kfield);
	strv_free(o->key);
	while (fl->nowned > 0)
		free(fl->owned[--fl->nowned]);
}

static void
run_free(struct run *r)
{
	size_t i;

	for (i = 0; i <= r->opt->nkey; i++)
		free(r->lc[i].fs);
	free(r->lc);
	for (i = 0; i < r->noutf; i++)
		rec_field_free(r->outf[i]);
	free(r->outf);
	free(r->vals);
	free(r->tmp);
	free(r->items);
	free(r->zbuf);
	free(r->mem);
	buf_free(&r->line);
	rec_free(r->rec);
}

int
main(int argc, char *argv[])
{
	struct cli_common co;
	struct flags fl;
	struct opts o;
	struct run r;
	struct acct ac;
	struct nd_reader *rd;
	struct nd_line ln;
	struct record *rec;
	struct group_set *gs;
	char extra[256];
	int ch, root, stable;
	size_t i;

	diag_init(argv[0]);
	cli_init(&co, usage_text);
	memset(&fl, 0, sizeof(fl));
	memset(&o, 0, sizeof(o));
	while ((ch = cli_getopt(argc, argv, "hVqvk:f:w:",
	    longopts)) != -1) {
		if (cli_common_opt(&co, ch, optarg))
			continue;
		switch (ch) {
		case 'f':
			fl.features = optarg;
			break;
		case 'k':
			fl.key = optarg;
			break;
		case 'w':
			fl.weights = optarg;
			break;
		case OPT_CLIP:
			fl.clip = optarg;
			break;
		case OPT_CONFIG:
			fl.config = optarg;
			break;
		case OPT_EXPLAIN:
			fl.explain = 1;
			break;
		case OPT_MIN_GROUP:
			fl.min_group = optarg;
			break;
		case OPT_SORTED:
			fl.sorted = 1;
			break;
		case OPT_TOP:
			fl.top = optarg;
			break;
		default:
			usage_error("unknown option");
		}
	}
	setup(&o, &fl);

	rd = nd_open(argv + optind, argc - optind, co.max_line);
	/* The hash mode holds every line anyway: borrow them from the map.
	 * The sorted mode copies, so it holds one batch and no more. */
	stable = !o.sorted && nd_stable(rd);
	memset(&r, 0, sizeof(r));
	r.opt = &o;
	r.o = out_new(1, "<stdout>");
	r.ac = &ac;
	r.rec = rec_new();
	r.lc = xcalloc(o.nkey + 1, sizeof(*r.lc));
	for (i = 0; i <= o.nkey; i++)
		r.lc[i].fs = xcalloc(o.nfeat ? o.nfeat : 1,
		    sizeof(*r.lc[i].fs));
	buf_init(&r.line);
	r.noutf = o.nfeat + 7;
	r.outf = xcalloc(r.noutf, sizeof(*r.outf));
	for (i = 0; i < o.nfeat; i++)
		r.outf[i] = rec_field(o.feat[i].zkey);
	r.outf[i++] = rec_field("score");
	r.outf[i++] = rec_field("group_n");
	r.outf[i++] = rec_field("group_rank");
	r.outf[i++] = rec_field("group_pct");
	r.outf[i++] = rec_field("z_backoff");
	r.outf[i++] = rec_field("z_flat");
	r.outf[i++] = rec_field("explain");
	acct_init(&ac, &co);
	ac.sink = r.o;
	/* Back-off needs the parent's rows: batches are the root key's. */
	root = o.min_group > 1 ? 1 : (int)o.nkey;
	gs = group_set_new((int)o.nkey, root, o.nfeat, o.sorted, stable,
	    emit_batch, &r);
	rec = rec_new();
	while (nd_next(rd, &ln)) {
		ac.in++;
		read_row(&r, gs, &ln, rec);
	}
	group_set_finish(gs);
	out_close(r.o);
	ac.dropped += r.dropped;
	snprintf(extra, sizeof(extra), "\"backed_off\":%lld,\"flat\":%lld,"
	    "\"peak_rows\":%zu", r.backed_off, r.flat, group_set_peak(gs));
	if (co.verbose)
		note("%lld rows backed off, %lld flat, at most %zu rows held",
		    r.backed_off, r.flat, group_set_peak(gs));
	group_set_free(gs);
	rec_free(rec);
	run_free(&r);
	opts_free(&o, &fl);
	nd_close(rd);
	return acct_finish(&ac, extra);
}
