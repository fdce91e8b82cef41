/*
 * asin-split - deterministic A/B assignment of records (or bare IDs),
 * bucket for bucket what the GrowthBook SDKs assign: each record gets the
 * variant of every experiment defined on the command line or in a JSON
 * file.  Same input and definitions, same output, on any machine.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "asin.h"
#include "gbexp.h"
#include "split.h"

static const char usage_text[] =
    "usage: asin-split [-hqVv] [-e KEY] [--variants LIST] [--coverage F]\n"
    "                  [--seed S] [--hash-version 1|2] [--id-field NAME]\n"
    "                  [--namespace NS:LO-HI] [--ranges LIST]\n"
    "                  [--by FIELD --rule VALUE[=WEIGHTS][@COVERAGE] ...]\n"
    "                  [--rules FILE] [--config FILE] [--only-in] [--log FILE]\n"
    "                  [--unicode utf16|utf8|codepoint] [FILE ...]\n"
    "                  [--partial] [FILE ...]\n"
    "       asin-split --merge PARTIAL-STATS ...\n"
    "       asin-split --check FILE ...\n"
    "\n"
    "Add a GrowthBook-compatible assignment (variant, variation_id,\n"
    "in_experiment, bucket, experiment, hash_version) to each record or\n"
    "bare ID line.\n"
    "\n"
    "Experiment:\n"
    "  -e, --experiment KEY  experiment key (and default seed)\n"
    "      --variants LIST   names and weights: control:50,treatment:50\n"
    "                        (default control,treatment, equal weights)\n"
    "      --coverage F      share of units in the experiment (default 1)\n"
    "      --seed S          hash seed (default: the key)\n"
    "      --hash-version N  1 or 2 (default 2; the SDK's default is 1)\n"
    "      --id-field NAME   the field to hash (default asin)\n"
    "      --namespace NS:LO-HI  only units of namespace NS in [LO, HI)\n"
    "      --ranges LIST     explicit ranges, one per variant: 0-0.3,0.5-0.8\n"
    "      --by FIELD        one rule per value of FIELD (see --rule)\n"
    "      --rule VALUE[=WEIGHTS][@COVERAGE]\n"
    "                        weights and coverage where FIELD is VALUE;\n"
    "                        VALUE * is every other value\n"
    "      --rules FILE      a table of rules, one --rule value a line\n"
    "      --config FILE     read experiments from a JSON file\n"
    "\n"
    "Output:\n"
    "      --only-in         drop records outside the experiment\n"
    "      --log FILE        append an audit line per assignment to FILE\n"
    "      --unicode MODE    hash non-ASCII IDs as utf16 (JavaScript SDK,\n"
    "                        default), utf8 (Go) or codepoint (Python)\n"
    "      --check           run GrowthBook test-vector files instead\n"
    "      --partial         --stats for a shard: mergeable counts, no SRM\n"
    "                        warning\n"
    "      --merge           add the --partial --stats files and print the\n"
    "                        whole run's --stats, with the SRM check\n"
    "\n";

enum {
	OPT_VARIANTS = OPT_COMMON_END,
	OPT_COVERAGE,
	OPT_SEED,
	OPT_HASH_VERSION,
	OPT_ID_FIELD,
	OPT_NAMESPACE,
	OPT_RANGES,
	OPT_BY,
	OPT_RULE,
	OPT_RULES,
	OPT_ONLY_IN,
	OPT_LOG,
	OPT_UNICODE,
	OPT_CHECK,
	OPT_PARTIAL,
	OPT_MERGE
};

static const struct option longopts[] = {
	CLI_COMMON_LONGOPTS,
	{ "experiment", required_argument, NULL, 'e' },
	{ "config", required_argument, NULL, 'f' },
	{ "variants", required_argument, NULL, OPT_VARIANTS },
	{ "coverage", required_argument, NULL, OPT_COVERAGE },
	{ "seed", required_argument, NULL, OPT_SEED },
	{ "hash-version", required_argument, NULL, OPT_HASH_VERSION },
	{ "id-field", required_argument, NULL, OPT_ID_FIELD },
	{ "namespace", required_argument, NULL, OPT_NAMESPACE },
	{ "ranges", required_argument, NULL, OPT_RANGES },
	{ "by", required_argument, NULL, OPT_BY },
	{ "rule", required_argument, NULL, OPT_RULE },
	{ "rules", required_argument, NULL, OPT_RULES },
	{ "only-in", no_argument, NULL, OPT_ONLY_IN },
	{ "log", required_argument, NULL, OPT_LOG },
	{ "unicode", required_argument, NULL, OPT_UNICODE },
	{ "check", no_argument, NULL, OPT_CHECK },
	{ "partial", no_argument, NULL, OPT_PARTIAL },
	{ "merge", no_argument, NULL, OPT_MERGE },
	{ NULL, 0, NULL, 0 }
};

/* Everything the command line says, set once in main(). */
struct opts {
	struct cli_common co;
	const char *key;
	const char *variants;
	const char *coverage;
	const char *seed;
	int hash_version;
	const char *id_field;
	const char *namespace;
	const char *ranges;
	const char *by;
	const char **rules;	/* VALUE[=WEIGHTS][@COVERAGE] specs */
	const char **rule_where;	/* "option --rule" or "FILE:LINE" */
	int nrules;
	char **owned;		/* what --rules files added, to free */
	int nowned;
	const char *file;
	int only_in;
	const char *log;
	enum gb_unicode mode;
	int check;
	int partial;
	int merge;
};

/*
 * One assignment: an experiment, or rules sharing its key (one per
 * category), of which the first whose condition holds and which takes
 * the unit decides.
 */
struct group {
	struct gb_experiment *rules;
	int nrules;
	int nvar;
	struct rec_field *idf;	/* the hash attribute */
	char **log_weights;	/* per rule: weights and coverage as JSON */
	char **log_coverage;
	struct buf *pre_in;	/* per variant: ,"variant":..."bucket": */
	struct buf *tail;	/* per rule: ,"experiment":...} */
	double *share;		/* [rule * nvar]: expected share of the in */
	long long *count;	/* [rule * nvar]: units assigned */
	long long not_in;
};

/* Attribute lookup for filters and rule conditions over one input line. */
struct attrs {
	struct record *rec;	/* NULL for a bare ID line */
	const char *id;		/* the bare ID */
	size_t idlen;
	const char *idname;	/* the name a bare ID answers to */
	char **names;
	struct rec_field **fields;
	int n;
	char num[32];
};

/* -------------------------------------------------------------------- */
/* Definitions from flags                                                */
/* -------------------------------------------------------------------- */

/* "a-b": two numbers in [0, 1]; usage error naming flag otherwise. */
static void
parse_span(const char *flag, const char *s, size_t n, double *lo, double *hi)
{
	const char *dash = memchr(s, '-', n);

	if (dash == NULL || !parse_double(s, (size_t)(dash - s), lo) ||
	    !parse_double(dash + 1, n - (size_t)(dash + 1 - s), hi) ||
	    !(*lo >= 0 && *lo <= *hi && *hi <= 1))
		usage_error("option %s: expected START-END with 0 <= START <= "
		    "END <= 1, got '%.*s'", flag, (int)n, s);
}

/*
 * A comma list of numbers (weights), normalised to sum 1; usage error
 * naming where ("option --rule", "FILE:LINE") when one is not a number
 * >= 0 or they sum to 0.
 */
static jv
weights_jv(const char *where, char **items, size_t n)
{
	double *w = xcalloc(n, sizeof(*w)), sum = 0;
	jv arr = jv_array();
	size_t i;

	for (i = 0; i < n; i++) {
		if (!parse_double(items[i], strlen(items[i]), &w[i]) ||
		    w[i] < 0)
			usage_error("%s: expected a weight >= 0, got '%s'",
			    where, items[i]);
		sum += w[i];
	}
	if (!(sum > 0))
		usage_error("%s: the weights sum to 0", where);
	for (i = 0; i < n; i++)
		arr = jv_array_append(arr, jv_number(w[i] / sum));
	free(w);
	return arr;
}

/* --variants: names, with optional :weight on every one or none. */
static void
variants_jv(const char *list, jv *names, jv *weights)
{
	size_t n, i, withw = 0;
	char **items = cli_split("--variants", list, &n), **ws;
	char *colon;

	if (n < 2)
		usage_error("option --variants: expected at least 2 variants, "
		    "got '%s'", list);
	ws = xcalloc(n + 1, sizeof(*ws));
	*names = jv_array();
	for (i = 0; i < n; i++) {
		colon = strrchr(items[i], ':');
		if (colon != NULL) {
			*colon = '\0';
			ws[withw++] = colon + 1;
		}
		if (items[i][0] == '\0')
			usage_error("option --variants: empty variant name in "
			    "'%s'", list);
		*names = jv_array_append(*names, jv_string(items[i]));
	}
	if (withw != 0 && withw != n)
		usage_error("option --variants: give a weight to every variant "
		    "or to none, got '%s'", list);
	*weights = withw ? weights_jv("option --variants", ws, n) : jv_null();
	free(ws);
	strv_free(items);
}

/* The experiment the flags describe, as a GrowthBook definition. */
static jv
flags_definition(const struct opts *o)
{
	jv def = jv_object(), names, weights, r;
	double lo, hi;
	size_t n, i;
	char **items;
	const char *colon;

	def = jv_object_set(def, jv_string("key"), jv_string(o->key));
	if (o->seed != NULL)
		def = jv_object_set(def, jv_string("seed"), jv_string(o->seed));
	def = jv_object_set(def, jv_string("hashVersion"),
	    jv_number(o->hash_version));
	variants_jv(o->variants ? o->variants : "control,treatment", &names,
	    &weights);
	n = (size_t)jv_array_length(jv_copy(names));
	def = jv_object_set(def, jv_string("variations"), names);
	if (jv_get_kind(weights) != JV_KIND_NULL)
		def = jv_object_set(def, jv_string("weights"), weights);
	else
		jv_free(weights);
	if (o->coverage != NULL)
		def = jv_object_set(def, jv_string("coverage"),
		    jv_number(cli_double("--coverage", o->coverage, 0, 1)));
	if (o->namespace != NULL) {
		colon = strrchr(o->namespace, ':');
		if (colon == NULL || colon == o->namespace)
			usage_error("option --namespace: expected NS:START-END, "
			    "got '%s'", o->namespace);
		parse_span("--namespace", colon + 1, strlen(colon + 1), &lo,
		    &hi);
		def = jv_object_set(def, jv_string("namespace"),
		    JV_ARRAY(jv_string_sized(o->namespace,
		    (int)(colon - o->namespace)), jv_number(lo),
		    jv_number(hi)));
	}
	if (o->ranges != NULL) {
		items = cli_split("--ranges", o->ranges, &i);
		if (i != n)
			usage_error("option --ranges: expected %zu ranges, one "
			    "per variant, got %zu", n, i);
		r = jv_array();
		for (i = 0; i < n; i++) {
			parse_span("--ranges", items[i], strlen(items[i]), &lo,
			    &hi);
			r = jv_array_append(r, JV_ARRAY(jv_number(lo),
			    jv_number(hi)));
		}
		strv_free(items);
		def = jv_object_set(def, jv_string("ranges"), r);
	}
	return def;
}

/*
 * --rule VALUE[=WEIGHTS][@COVERAGE] over the flags' definition: the same
 * key and seed with the rule's weights, coverage and condition.
 */
static jv
rule_definition(const struct opts *o, jv base, int ri, size_t nvar)
{
	const char *spec = o->rules[ri], *where = o->rule_where[ri];
	char *s = xstrdup(spec), *at, *eq;
	char **items;
	size_t n;
	double cov;
	jv def = base;

	at = strrchr(s, '@');
	if (at != NULL) {
		*at++ = '\0';
		if (!parse_double(at, strlen(at), &cov) || cov < 0 || cov > 1)
			usage_error("%s: expected a coverage from 0 to 1, got "
			    "'%s'", where, at);
		def = jv_object_set(def, jv_string("coverage"), jv_number(cov));
	}
	eq = strchr(s, '=');
	if (eq != NULL) {
		*eq++ = '\0';
		items = cli_split(where[0] == 'o' ? "--rule" : "--rules", eq, &n);
		if (n != nvar) {
			strv_free(items);
			free(s);
			jv_free(def);
			usage_error("%s: expected %zu weights, got '%s'", where,
			    nvar, spec);
		}
		def = jv_object_set(def, jv_string("weights"),
		    weights_jv(where, items, n));
		strv_free(items);
	}
	if (s[0] == '\0')
		usage_error("%s: expected VALUE[=WEIGHTS][@COVERAGE], got '%s'",
		    where, spec);
	if (strcmp(s, "*") != 0)
		def = jv_object_set(def, jv_string("condition"),
		    jv_object_set(jv_object(), jv_string(o->by),
		    jv_string(s)));
	free(s);
	return def;
}

/* Every definition the flags give, in rule order ('*' last). */
static jv
flags_definitions(const struct opts *o)
{
	jv base = flags_definition(o), all = jv_array();
	size_t nvar = (size_t)jv_array_length(jv_object_get(jv_copy(base),
	    jv_string("variations")));
	int i, star = -1;

	if (o->by == NULL) {
		all = jv_array_append(all, base);
		return all;
	}
	for (i = 0; i < o->nrules; i++) {
		if (strncmp(o->rules[i], "*", 1) == 0 && (o->rules[i][1] ==
		    '\0' || o->rules[i][1] == '=' || o->rules[i][1] == '@')) {
			if (star >= 0)
				usage_error("%s: '*' given twice",
				    o->rule_where[i]);
			star = i;
			continue;
		}
		all = jv_array_append(all, rule_definition(o, jv_copy(base),
		    i, nvar));
	}
	if (star >= 0)
		all = jv_array_append(all, rule_definition(o, jv_copy(base),
		    star, nvar));
	jv_free(base);
	return all;
}

/* The experiments of a --config file: an object, an array of them, or
 * {"experiments": [...]}. */
static jv
file_definitions(const char *path)
{
	jv v, m, inner;
	char msg[512];

	/* jv_load_file()'s own message names the file twice. */
	if (access(path, R_OK) != 0)
		die("%s:", path);
	v = jv_load_file(path, 0);
	if (!jv_is_valid(v)) {
		m = jv_invalid_get_msg(v);
		snprintf(msg, sizeof(msg), "%s", jv_get_kind(m) ==
		    JV_KIND_STRING ? jv_string_value(m) : "cannot read");
		jv_free(m);
		die("%s: %s", path, msg);
	}
	/* jv_load_file() gives an array of the file's JSON texts. */
	if (jv_array_length(jv_copy(v)) != 1) {
		jv_free(v);
		die("%s: expected one JSON value", path);
	}
	inner = jv_array_get(v, 0);
	if (jv_get_kind(inner) == JV_KIND_OBJECT &&
	    jv_object_has(jv_copy(inner), jv_string("experiments")))
		inner = jv_object_get(inner, jv_string("experiments"));
	if (jv_get_kind(inner) == JV_KIND_OBJECT)
		inner = JV_ARRAY(inner);
	if (jv_get_kind(inner) != JV_KIND_ARRAY ||
	    jv_array_length(jv_copy(inner)) == 0) {
		jv_free(inner);
		die("%s: expected an experiment object or a non-empty array "
		    "of them", path);
	}
	return inner;
}

/*
 * The effective share of each variant of a rule: the width of range i
 * less what earlier ranges already cover (the first match wins), over the
 * total.  What a sample-ratio test expects.
 */
static void
rule_shares(const struct gb_experiment *e, int nvar, double *share)
{
	double pts[64], total = 0, mid;
	int np = 0, i, j, k, v;

	for (i = 0; i < nvar; i++)
		share[i] = 0;
	if (2 * e->nvar > (int)(sizeof(pts) / sizeof(pts[0]))) {
		for (i = 0; i < e->nvar && i < nvar; i++)
			share[i] = e->ranges[i].hi - e->ranges[i].lo;
	} else {
		for (i = 0; i < e->nvar; i++) {
			pts[np++] = e->ranges[i].lo;
			pts[np++] = e->ranges[i].hi;
		}
		for (i = 1; i < np; i++)	/* insertion sort, tiny n */
			for (j = i; j > 0 && pts[j - 1] > pts[j]; j--) {
				mid = pts[j], pts[j] = pts[j - 1];
				pts[j - 1] = mid;
			}
		for (k = 0; k + 1 < np; k++) {
			if (!(pts[k + 1] > pts[k]))
				continue;
			mid = (pts[k] + pts[k + 1]) / 2;
			v = gb_choose_variation(mid, e->ranges, e->nvar);
			if (v >= 0 && v < nvar)
				share[v] += pts[k + 1] - pts[k];
		}
	}
	for (i = 0; i < nvar; i++)
		total += share[i];
	for (i = 0; i < nvar && total > 0; i++)
		share[i] /= total;
}

static char *
json_weights(const struct gb_experiment *e)
{
	struct buf b;
	char num[40];
	int i;

	buf_init(&b);
	buf_addc(&b, '[');
	for (i = 0; i < e->nvar; i++) {
		if (i > 0)
			buf_addc(&b, ',');
		buf_add(&b, num, fmt_double(num, e->weights[i]));
	}
	buf_addc(&b, ']');
	return b.data;
}

/*
 * The rules of one experiment (adjacent definitions with one key) share
 * the variations and the hash attribute, and a key is not used again
 * further on.  0 with msg filled otherwise.
 */
static int
check_rules(const struct gb_experiment *all, int n, char *msg, size_t msz)
{
	int i, j, k;

	for (i = 1; i < n; i++) {
		if (strcmp(all[i].key, all[i - 1].key) == 0) {
			int same = all[i].nvar == all[i - 1].nvar &&
			    strcmp(all[i].hash_attribute,
			    all[i - 1].hash_attribute) == 0;

			for (k = 0; same && k < all[i].nvar; k++)
				same = strcmp(all[i].names[k],
				    all[i - 1].names[k]) == 0;
			if (!same) {
				snprintf(msg, msz, "experiment \"%s\": its "
				    "rules must share the variations and the "
				    "hash attribute", all[i].key);
				return 0;
			}
			continue;
		}
		for (j = 0; j < i - 1; j++)
			if (strcmp(all[j].key, all[i].key) == 0) {
				snprintf(msg, msz, "experiment \"%s\": defined "
				    "twice; rules of one experiment must be "
				    "adjacent", all[i].key);
				return 0;
			}
	}
	return 1;
}

/*
 * Read every definition (consumed) strictly into groups: consecutive
 * definitions sharing a key are the rules of one group.
 */
static struct group *
build_groups(const struct opts *o, jv defs, int *ngroups)
{
	struct gb_parse_opts po = { o->hash_version, 1, NULL, o->id_field,
	    o->mode };
	struct gb_experiment *all;
	struct group *g = NULL;
	char num[40], msg[512], *err;
	int n = jv_array_length(jv_copy(defs)), i, j, ng = 0, start;

	all = xcalloc((size_t)n, sizeof(*all));
	for (i = 0; i < n; i++)
		if (!gb_exp_parse(&all[i], jv_array_get(jv_copy(defs), i),
		    &po, &err)) {
			snprintf(msg, sizeof(msg), "%s", err);
			free(err);
			break;
		}
	jv_free(defs);
	if (i < n || !check_rules(all, n, msg, sizeof(msg))) {
		/* Free all first, so that sanitizers see no leak at exit. */
		for (j = 0; j < i; j++)
			gb_exp_free(&all[j]);
		free(all);
		if (o->file != NULL)
			die("%s: %s", o->file, msg);
		usage_error("%s", msg);
	}
	for (start = 0; start < n; start = i) {
		for (i = start + 1; i < n && strcmp(all[i].key,
		    all[start].key) == 0; i++)
			;
		g = xreallocarray(g, (size_t)ng + 1, sizeof(*g));
		memset(&g[ng], 0, sizeof(g[ng]));
		g[ng].rules = &all[start];
		g[ng].nrules = i - start;
		g[ng].nvar = all[start].nvar;
		g[ng].idf = rec_field(all[start].hash_attribute);
		g[ng].log_weights = xcalloc((size_t)g[ng].nrules,
		    sizeof(char *));
		g[ng].log_coverage = xcalloc((size_t)g[ng].nrules,
		    sizeof(char *));
		g[ng].share = xcalloc((size_t)(g[ng].nrules * g[ng].nvar),
		    sizeof(double));
		g[ng].count = xcalloc((size_t)(g[ng].nrules * g[ng].nvar),
		    sizeof(long long));
		g[ng].pre_in = xcalloc((size_t)g[ng].nvar, sizeof(struct buf));
		for (j = 0; j < g[ng].nvar; j++) {
			const char *nm = all[start].names[j];

			buf_init(&g[ng].pre_in[j]);
			buf_adds(&g[ng].pre_in[j], ",\"variant\":");
			buf_add_jstr(&g[ng].pre_in[j], nm, strlen(nm));
			buf_printf(&g[ng].pre_in[j], ",\"variation_id\":%d,"
			    "\"in_experiment\":true,\"bucket\":", j);
		}
		g[ng].tail = xcalloc((size_t)g[ng].nrules, sizeof(struct buf));
		for (j = 0; j < g[ng].nrules; j++) {
			struct gb_experiment *e = &g[ng].rules[j];

			buf_init(&g[ng].tail[j]);
			buf_adds(&g[ng].tail[j], ",\"experiment\":");
			buf_add_jstr(&g[ng].tail[j], e->key, strlen(e->key));
			buf_printf(&g[ng].tail[j], ",\"hash_version\":%d}",
			    e->hash_version);

			g[ng].log_weights[j] = json_weights(e);
			fmt_double(num, e->coverage);
			g[ng].log_coverage[j] = xstrdup(num);
			rule_shares(e, g[ng].nvar, &g[ng].share[j * g[ng].nvar]);
		}
		ng++;
	}
	*ngroups = ng;
	return g;
}

/* -------------------------------------------------------------------- */
/* Streaming                                                             */
/* -------------------------------------------------------------------- */

static int
attrs_get(void *ctx, const char *name, const char **s, size_t *n)
{
	struct attrs *a = ctx;
	long long iv;
	int i, b;

	if (a->rec == NULL) {
		if (strcmp(name, a->idname) != 0)
			return 0;
		*s = a->id;
		*n = a->idlen;
		return a->idlen > 0;
	}
	for (i = 0; i < a->n && strcmp(a->names[i], name) != 0; i++)
		;
	if (i == a->n) {
		a->names = xreallocarray(a->names, (size_t)a->n + 1,
		    sizeof(char *));
		a->fields = xreallocarray(a->fields, (size_t)a->n + 1,
		    sizeof(struct rec_field *));
		a->names[i] = xstrdup(name);
		a->fields[i] = rec_field(name);
		a->n++;
	}
	/* What JavaScript's String() makes of the value, when truthy. */
	if (rec_str(a->rec, a->fields[i], s, n) == REC_OK)
		return *n > 0;
	if (rec_int(a->rec, a->fields[i], &iv) == REC_OK && iv != 0) {
		*n = gb_int_string(a->num, iv);
		*s = a->num;
		return 1;
	}
	if (rec_bool(a->rec, a->fields[i], &b) == REC_OK && b) {
		*s = "true";
		*n = 4;
		return 1;
	}
	return 0;
}

/*
 * The hash attribute of a record as a string; NULL/0 for an empty or zero
 * value (not in the experiment, as the SDK has it).  Returns 0 and sets
 * *err when the field is missing or not a string or integer.
 */
static int
record_id(struct attrs *a, const struct rec_field *f, const char **id,
    size_t *len, const char **err)
{
	long long iv;

	switch (rec_str(a->rec, f, id, len)) {
	case REC_OK:
		return 1;
	case REC_BADTYPE:
		if (rec_int(a->rec, f, &iv) == REC_OK) {
			*len = iv == 0 ? 0 : gb_int_string(a->num, iv);
			*id = a->num;
			return 1;
		}
		/* FALLTHROUGH */
	default:
		*err = rec_errmsg(a->rec, f, REC_STRING);
		return 0;
	}
}

/*
 * A bare ID line: trimmed of blanks; NULL, or the reason it is bad.
 */
static const char *
bare_id(const char *p, size_t n, const char **id, size_t *len)
{
	const unsigned char *s;
	size_t i;
	int ascii = 1;

	while (n > 0 && (*p == ' ' || *p == '\t'))
		p++, n--;
	while (n > 0 && (p[n - 1] == ' ' || p[n - 1] == '\t'))
		n--;
	s = (const unsigned char *)p;
	for (i = 0; i < n; i++) {
		if (s[i] < 0x20 || s[i] == 0x7f)
			return "bare ID: control character";
		if (s[i] >= 0x80)
			ascii = 0;
	}
	if (!ascii && utf8_invalid_at(s, n) >= 0)
		return "bare ID: invalid UTF-8";
	*id = p;
	*len = n;
	return NULL;
}

/* The state of one run, built by main() before the first line. */
struct run {
	const struct opts *o;
	struct group *g;
	int ng;
	struct out *out;
	struct out *log;
	struct attrs attrs;
	const char *bare_key;	/* the key bare IDs are written under */
	/* per group, for the line at hand */
	struct gb_result *res;
	int *rule;
	const char **id;
	size_t *idlen;
	char (*idnum)[24];
	/* the --log time stamp, redone when the second changes */
	time_t stamp_at;
	char stamp[32];
	long long lines_out;
	/* the bare-ID fast path: {"asin": and the line being built */
	struct buf head;
	struct buf line;
};

/* Not in the experiment: the members before the bucket. */
static const char pre_out[] =
    ",\"variant\":null,\"variation_id\":null,\"in_experiment\":false,"
    "\"bucket\":";

static void
write_log(struct run *r, const struct nd_line *ln, int gi)
{
	const struct group *g = &r->g[gi];
	const struct gb_result *res = &r->res[gi];
	const struct gb_experiment *e;
	int ri = r->rule[gi] >= 0 ? r->rule[gi] : 0;
	time_t now = time(NULL);
	char bk[8];
	size_t bn;

	e = &g->rules[ri];
	if (now != r->stamp_at) {
		struct tm tm;

		gmtime_r(&now, &tm);
		strftime(r->stamp, sizeof(r->stamp), "%Y-%m-%dT%H:%M:%SZ", &tm);
		r->stamp_at = now;
	}
	out_begin_empty(r->log);
	out_set_str(r->log, "id", r->id[gi] ? r->id[gi] : "",
	    r->id[gi] ? r->idlen[gi] : 0);
	out_set_str(r->log, "experiment", e->key, strlen(e->key));
	out_set_str(r->log, "seed", e->seed, strlen(e->seed));
	out_set_int(r->log, "hash_version", e->hash_version);
	bn = gb_bucket_string(bk, res->bucket, e->hash_version);
	out_set_json(r->log, "bucket", bk, bn);
	if (res->variation >= 0) {
		out_set_int(r->log, "variation_id", res->variation);
		out_set_str(r->log, "variant", e->names[res->variation],
		    strlen(e->names[res->variation]));
	} else {
		out_set_null(r->log, "variation_id");
		out_set_null(r->log, "variant");
	}
	out_set_bool(r->log, "in_experiment", res->variation >= 0);
	out_set_json(r->log, "weights", g->log_weights[ri],
	    strlen(g->log_weights[ri]));
	out_set_json(r->log, "coverage", g->log_coverage[ri],
	    strlen(g->log_coverage[ri]));
	if (r->rule[gi] >= 0 && e->cond_value != NULL)
		out_set_str(r->log, "rule", e->cond_value,
		    strlen(e->cond_value));
	else
		out_set_null(r->log, "rule");
	out_set_str(r->log, "source", ln->source, strlen(ln->source));
	out_set_int(r->log, "line", ln->lineno);
	out_set_str(r->log, "time", r->stamp, strlen(r->stamp));
	out_end(r->log);
}

static void
add_bytes(struct buf *b, const void *p, size_t n)
{
	memcpy(b->data + b->len, p, n);
	b->len += n;
}

/*
 * The output line of a bare ID, built from the group's prepared pieces:
 * the same bytes out_begin_empty() and out_set_*() would give, at a
 * fraction of the cost (this is the 10M-IDs path).
 */
static void
emit_bare(struct run *r, int gi, const char *id, size_t idlen)
{
	const struct group *g = &r->g[gi];
	const struct gb_result *res = &r->res[gi];
	int ri = r->rule[gi] >= 0 ? r->rule[gi] : 0;
	const struct buf *pre = res->variation >= 0 ?
	    &g->pre_in[res->variation] : NULL;
	char bk[8];
	size_t bn = gb_bucket_string(bk, res->bucket,
	    g->rules[ri].hash_version);

	r->line.len = 0;
	buf_reserve(&r->line, r->head.len + idlen + 2 + (pre ? pre->len :
	    sizeof(pre_out)) + bn + g->tail[ri].len + 1);
	add_bytes(&r->line, r->head.data, r->head.len);
	if (memchr(id, '"', idlen) == NULL && memchr(id, '\\', idlen) == NULL) {
		r->line.data[r->line.len++] = '"';
		add_bytes(&r->line, id, idlen);
		r->line.data[r->line.len++] = '"';
	} else
		buf_add_jstr(&r->line, id, idlen);
	if (pre != NULL)
		buf_add(&r->line, pre->data, pre->len);
	else
		buf_add(&r->line, pre_out, sizeof(pre_out) - 1);
	buf_add(&r->line, bk, bn);
	buf_add(&r->line, g->tail[ri].data, g->tail[ri].len);
	out_line(r->out, r->line.data, r->line.len);
}

/*
 * Reject a line.  When the reject ends the run, what went out before it
 * is flushed first, so the output is the prefix before the bad line.
 */
static void
reject(struct run *r, struct acct *ac, const struct nd_line *ln,
    const char *why)
{
	if (ac->rejects == NULL || (ac->opt->max_rejects >= 0 &&
	    ac->rejected + 1 > ac->opt->max_rejects)) {
		out_flush(r->out);
		if (r->log != NULL)
			out_flush(r->log);
	}
	acct_reject(ac, ln->source, ln->lineno, ln->buf, ln->len, why);
}

/* Assign every experiment to one input line and write its lines out. */
static void
assign_line(struct run *r, struct record *rec, const struct nd_line *ln,
    struct acct *ac)
{
	const struct gb_lookup lk = { attrs_get, &r->attrs };
	const char *err = NULL, *p = ln->buf;
	size_t n = ln->len, bl = 0, bn;
	const char *bid = NULL;
	char bk[8];
	int gi, json, wrote = 0;

	while (n > 0 && (*p == ' ' || *p == '\t'))
		p++, n--;
	json = n > 0 && (*p == '{' || *p == '[' || *p == '"');
	if (json ? !rec_parse(rec, ln, &err) :
	    (err = bare_id(ln->buf, ln->len, &bid, &bl)) != NULL) {
		reject(r, ac, ln, err);
		return;
	}
	r->attrs.rec = json ? rec : NULL;
	r->attrs.id = bid;
	r->attrs.idlen = bl;
	/* Look every id up first: a bad one rejects the whole line. */
	for (gi = 0; gi < r->ng; gi++) {
		if (!json) {
			r->id[gi] = bid;
			r->idlen[gi] = bl;
			continue;
		}
		if (!record_id(&r->attrs, r->g[gi].idf, &r->id[gi],
		    &r->idlen[gi], &err)) {
			reject(r, ac, ln, err);
			return;
		}
		if (r->id[gi] == r->attrs.num) {
			memcpy(r->idnum[gi], r->attrs.num, r->idlen[gi]);
			r->id[gi] = r->idnum[gi];
		}
	}
	for (gi = 0; gi < r->ng; gi++) {
		struct group *g = &r->g[gi];
		struct gb_result *res = &r->res[gi];
		const struct gb_experiment *e;

		r->rule[gi] = gb_rules_run(g->rules, g->nrules, r->id[gi],
		    r->idlen[gi], &lk, res);
		if (res->variation >= 0)
			g->count[r->rule[gi] * g->nvar + res->variation]++;
		else
			g->not_in++;
		if (r->log != NULL)
			write_log(r, ln, gi);
		if (res->variation < 0 && r->o->only_in)
			continue;
		r->lines_out++;
		wrote = 1;
		if (!json) {
			emit_bare(r, gi, bid, bl);
			continue;
		}
		e = &g->rules[r->rule[gi] >= 0 ? r->rule[gi] : 0];
		out_begin(r->out, rec);
		if (res->variation >= 0) {
			out_set_str(r->out, "variant", e->names[res->variation],
			    strlen(e->names[res->variation]));
			out_set_int(r->out, "variation_id", res->variation);
		} else {
			out_set_null(r->out, "variant");
			out_set_null(r->out, "variation_id");
		}
		out_set_bool(r->out, "in_experiment", res->variation >= 0);
		bn = gb_bucket_string(bk, res->bucket, e->hash_version);
		out_set_json(r->out, "bucket", bk, bn);
		out_set_str(r->out, "experiment", e->key, strlen(e->key));
		out_set_int(r->out, "hash_version", e->hash_version);
		out_end(r->out);
	}
	if (wrote)
		ac->out++;
	else
		ac->dropped++;
}

/* The counts summary of the run (counts.c), from the groups. */
static char *
report(const struct run *r)
{
	struct split_report_opts ro = { r->o->partial, r->o->co.verbose,
	    r->o->co.quiet };
	struct split_count *c = xcalloc((size_t)(r->ng ? r->ng : 1),
	    sizeof(*c));
	char *s;
	int gi;

	for (gi = 0; gi < r->ng; gi++) {
		const struct group *g = &r->g[gi];

		c[gi].key = (char *)g->rules[0].key;
		c[gi].names = g->rules[0].names;
		c[gi].nvar = g->nvar;
		c[gi].nrules = g->nrules;
		c[gi].share = g->share;
		c[gi].count = g->count;
		c[gi].not_in = g->not_in;
	}
	s = split_report(c, r->ng, r->lines_out, &ro);
	free(c);
	return s;
}

static void
free_groups(struct group *g, int ng)
{
	int gi, j;

	for (gi = 0; gi < ng; gi++) {
		for (j = 0; j < g[gi].nrules; j++) {
			gb_exp_free(&g[gi].rules[j]);
			free(g[gi].log_weights[j]);
			free(g[gi].log_coverage[j]);
		}
		for (j = 0; j < g[gi].nvar; j++)
			buf_free(&g[gi].pre_in[j]);
		for (j = 0; j < g[gi].nrules; j++)
			buf_free(&g[gi].tail[j]);
		free(g[gi].pre_in);
		free(g[gi].tail);
		rec_field_free(g[gi].idf);
		free(g[gi].log_weights);
		free(g[gi].log_coverage);
		free(g[gi].share);
		free(g[gi].count);
	}
	if (ng > 0)
		free(g[0].rules);
	free(g);
}

/* Add one rule spec (borrowed) with the place it came from (borrowed). */
static void
add_rule(struct opts *o, const char *spec, const char *where)
{
	o->rules = xreallocarray(o->rules, (size_t)o->nrules + 1,
	    sizeof(*o->rules));
	o->rule_where = xreallocarray(o->rule_where, (size_t)o->nrules + 1,
	    sizeof(*o->rule_where));
	o->rules[o->nrules] = spec;
	o->rule_where[o->nrules++] = where;
}

static char *
keep(struct opts *o, char *s)
{
	o->owned = xreallocarray(o->owned, (size_t)o->nowned + 1,
	    sizeof(*o->owned));
	return o->owned[o->nowned++] = s;
}

/*
 * --rules FILE: a weights table, one VALUE[=WEIGHTS][@COVERAGE] a line,
 * as --rule takes; blank lines and lines starting with # are skipped.
 */
static void
read_rules(struct opts *o, const char *path)
{
	FILE *f = fopen(path, "r");
	char *line = NULL, *p, *e;
	size_t cap = 0;
	ssize_t len;
	long lineno = 0;

	if (f == NULL)
		die("%s:", path);
	while ((len = getline(&line, &cap, f)) != -1) {
		lineno++;
		p = line;
		e = line + len;
		while (e > p && (e[-1] == '\n' || e[-1] == '\r' ||
		    e[-1] == ' ' || e[-1] == '\t'))
			e--;
		*e = '\0';
		while (*p == ' ' || *p == '\t')
			p++;
		if (*p == '\0' || *p == '#')
			continue;
		add_rule(o, keep(o, xstrdup(p)),
		    keep(o, xasprintf("%s:%ld", path, lineno)));
	}
	if (ferror(f))
		die("%s: read error:", path);
	fclose(f);
	free(line);
}

/* Flag combinations, before any input is read. */
static void
validate(const struct opts *o)
{
	if (o->partial && o->co.stats_path == NULL)
		usage_error("option --partial writes the --stats file: give "
		    "--stats FILE");
	if (o->merge) {
		if (o->check || o->partial || o->key || o->file ||
		    o->co.stats_path)
			usage_error("option --merge takes only --partial "
			    "--stats files (the merged counts go to standard "
			    "output)");
		return;
	}
	if (o->check)
		return;
	if (o->file != NULL && o->key != NULL)
		usage_error("options --config and -e are exclusive");
	if (o->file == NULL && o->key == NULL)
		usage_error("expected -e KEY or --config FILE");
	if (o->file != NULL && (o->variants || o->coverage || o->seed ||
	    o->namespace || o->ranges || o->by))
		usage_error("options --variants, --coverage, --seed, "
		    "--namespace, --ranges and --by go with -e, not --config");
	if (o->nrules > 0 && o->by == NULL)
		usage_error("options --rule and --rules need --by FIELD");
	if (o->by != NULL && o->nrules == 0)
		usage_error("option --by needs --rule or --rules");
	if (o->ranges != NULL && o->by != NULL)
		usage_error("options --ranges and --by are exclusive");
}

static void
parse_args(struct opts *o, int argc, char **argv)
{
	int ch, m;

	cli_init(&o->co, usage_text);
	o->hash_version = 2;
	o->id_field = "asin";
	o->mode = GB_UTF16;
	while ((ch = cli_getopt(argc, argv, "hVqve:",
	    longopts)) != -1) {
		if (cli_common_opt(&o->co, ch, optarg))
			continue;
		switch (ch) {
		case 'e':
			if (optarg[0] == '\0')
				usage_error("option -e: expected a key");
			o->key = optarg;
			break;
		case 'f':
			o->file = optarg;
			break;
		case OPT_VARIANTS:
			o->variants = optarg;
			break;
		case OPT_COVERAGE:
			o->coverage = optarg;
			break;
		case OPT_SEED:
			if (optarg[0] == '\0')
				usage_error("option --seed: expected a seed");
			o->seed = optarg;
			break;
		case OPT_HASH_VERSION:
			o->hash_version = (int)cli_int("--hash-version", optarg,
			    1, 2);
			break;
		case OPT_ID_FIELD:
			o->id_field = optarg;
			break;
		case OPT_NAMESPACE:
			o->namespace = optarg;
			break;
		case OPT_RANGES:
			o->ranges = optarg;
			break;
		case OPT_BY:
			o->by = optarg;
			break;
		case OPT_RULE:
			add_rule(o, optarg, "option --rule");
			break;
		case OPT_RULES:
			read_rules(o, optarg);
			break;
		case OPT_ONLY_IN:
			o->only_in = 1;
			break;
		case OPT_LOG:
			o->log = optarg;
			break;
		case OPT_UNICODE:
			if ((m = gb_unicode_parse(optarg)) < 0)
				usage_error("option --unicode: expected utf16, "
				    "utf8 or codepoint, got '%s'", optarg);
			o->mode = (enum gb_unicode)m;
			break;
		case OPT_CHECK:
			o->check = 1;
			break;
		case OPT_PARTIAL:
			o->partial = 1;
			break;
		case OPT_MERGE:
			o->merge = 1;
			break;
		default:
			usage_error("unknown option");
		}
	}
	validate(o);
}

int
main(int argc, char *argv[])
{
	struct opts o;
	struct run r;
	struct nd_reader *rd;
	struct nd_line ln;
	struct record *rec;
	struct acct ac;
	char *extra;
	int fd, status;

	diag_init(argv[0]);
	memset(&o, 0, sizeof(o));
	parse_args(&o, argc, argv);
	if (o.merge) {
		if (optind >= argc)
			usage_error("option --merge: expected --partial "
			    "--stats files");
		return split_merge(argv + optind, argc - optind, &o.co);
	}
	if (o.check) {
		if (optind >= argc)
			usage_error("option --check: expected vector files");
		return split_check(argv + optind, argc - optind, o.mode,
		    o.co.verbose);
	}
	memset(&r, 0, sizeof(r));
	r.o = &o;
	r.g = build_groups(&o, o.file ? file_definitions(o.file) :
	    flags_definitions(&o), &r.ng);
	r.res = xcalloc((size_t)r.ng, sizeof(*r.res));
	r.rule = xcalloc((size_t)r.ng, sizeof(*r.rule));
	r.id = xcalloc((size_t)r.ng, sizeof(*r.id));
	r.idlen = xcalloc((size_t)r.ng, sizeof(*r.idlen));
	r.idnum = xcalloc((size_t)r.ng, sizeof(*r.idnum));
	/* Bare IDs go out under the id field's name ("id" for a path). */
	r.bare_key = o.id_field[0] == '.' ? "id" : o.id_field;
	r.attrs.idname = o.id_field;
	buf_init(&r.head);
	buf_init(&r.line);
	buf_addc(&r.head, '{');
	buf_add_jstr(&r.head, r.bare_key, strlen(r.bare_key));
	buf_addc(&r.head, ':');
	r.stamp_at = (time_t)-1;
	if (o.log != NULL) {
		fd = open(o.log, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC,
		    0644);
		if (fd < 0)
			die("%s:", o.log);
		r.log = out_new(fd, o.log);
	}
	rd = nd_open(argv + optind, argc - optind, o.co.max_line);
	rec = rec_new();
	r.out = out_new(1, "<stdout>");
	acct_init(&ac, &o.co);
	ac.sink = r.out;
	while (nd_next(rd, &ln)) {
		ac.in++;
		if (ln.error != NULL) {
			reject(&r, &ac, &ln, ln.error);
			continue;
		}
		assign_line(&r, rec, &ln, &ac);
	}
	out_close(r.out);
	if (r.log != NULL)
		out_close(r.log);
	nd_close(rd);
	extra = report(&r);
	status = acct_finish(&ac, extra);
	free(extra);
	rec_free(rec);
	free_groups(r.g, r.ng);
	free(r.res);
	free(r.rule);
	free(r.id);
	free(r.idlen);
	free(r.idnum);
	buf_free(&r.head);
	buf_free(&r.line);
	for (fd = 0; fd < r.attrs.n; fd++) {
		free(r.attrs.names[fd]);
		rec_field_free(r.attrs.fields[fd]);
	}
	free(r.attrs.names);
	free(r.attrs.fields);
	free(o.rules);
	free(o.rule_where);
	for (fd = 0; fd < o.nowned; fd++)
		free(o.owned[fd]);
	free(o.owned);
	return status;
}
