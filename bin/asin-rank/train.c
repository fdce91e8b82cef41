/*
 * train.c - `asin-rank train`: read labelled rows, bin them, boost trees
 * on the chosen objective, follow a validation metric for early
 * stopping, and write the model file (deterministically: the same rows
 * and flags give the same bytes) plus one line in the runs index.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "ltrmetrics.h"
#include "rank.h"

struct curve_pt {
	double train, valid;
};

/* Seconds of wall clock (t[0]) and of this process's CPU (t[1]), for
 * the -v note of where a run's time went: on a busy machine the CPU
 * figure is the steadier one. */
static void
clocks(double *t)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	t[0] = (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
	t[1] = (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* The features named by a JSON Schema: the "x-features" list if it has
 * one, else every property whose type is number or integer, minus the
 * label, group and date fields.  Its version: "x-feature-version",
 * "version" or "x-version", a string or a number. */
static char **
schema_features(const struct ropts *o, char **group, size_t ng, size_t *nf,
    char **version)
{
	FILE *f = fopen(o->features_from, "r");
	struct buf b;
	char chunk[8192], *err;
	size_t got, i, n = 0;
	jv root, props, keys, v;
	char **out;
	int k, len;
	static const char *const vkeys[] = { "x-feature-version", "version",
		"x-version" };

	if (f == NULL)
		die("%s: cannot open:", o->features_from);
	buf_init(&b);
	buf_adds(&b, "");
	while ((got = fread(chunk, 1, sizeof(chunk), f)) > 0)
		buf_add(&b, chunk, got);
	fclose(f);
	root = json_parse(b.data, b.len, &err);
	buf_free(&b);
	if (!jv_is_valid(root))
		die("%s: invalid JSON: %s", o->features_from, err);
	if (jv_get_kind(root) != JV_KIND_OBJECT)
		die("%s: expected a JSON Schema object", o->features_from);
	*version = NULL;
	for (i = 0; i < 3 && *version == NULL; i++) {
		v = jv_object_get(jv_copy(root), jv_string(vkeys[i]));
		if (jv_get_kind(v) == JV_KIND_STRING)
			*version = xstrdup(jv_string_value(v));
		else if (jv_get_kind(v) == JV_KIND_NUMBER) {
			char tmp[40];

			fmt_double(tmp, jv_number_value(v));
			*version = xstrdup(tmp);
		}
		jv_free(v);
	}
	v = jv_object_get(jv_copy(root), jv_string("x-features"));
	if (jv_get_kind(v) == JV_KIND_ARRAY) {
		len = jv_array_length(jv_copy(v));
		out = xcalloc((size_t)len + 1, sizeof(char *));
		for (k = 0; k < len; k++) {
			jv e = jv_array_get(jv_copy(v), k);

			if (jv_get_kind(e) != JV_KIND_STRING)
				die("%s: \"x-features\"[%d]: expected a string",
				    o->features_from, k);
			out[n++] = xstrdup(jv_string_value(e));
			jv_free(e);
		}
		jv_free(v);
		jv_free(root);
		*nf = n;
		return out;
	}
	jv_free(v);
	props = jv_object_get(jv_copy(root), jv_string("properties"));
	if (jv_get_kind(props) != JV_KIND_OBJECT)
		die("%s: no \"properties\" object (or \"x-features\" list)",
		    o->features_from);
	keys = jv_keys(jv_copy(props));	/* sorted: a stable order */
	len = jv_array_length(jv_copy(keys));
	out = xcalloc((size_t)len + 1, sizeof(char *));
	for (k = 0; k < len; k++) {
		jv key = jv_array_get(jv_copy(keys), k), p, t;
		const char *name = jv_string_value(key);
		int numeric = 0, skip = 0;

		p = jv_object_get(jv_copy(props), jv_copy(key));
		t = jv_get_kind(p) == JV_KIND_OBJECT ?
		    jv_object_get(jv_copy(p), jv_string("type")) : jv_null();
		if (jv_get_kind(t) == JV_KIND_STRING)
			numeric = strcmp(jv_string_value(t), "number") == 0 ||
			    strcmp(jv_string_value(t), "integer") == 0;
		else if (jv_get_kind(t) == JV_KIND_ARRAY) {
			int j, tl = jv_array_length(jv_copy(t));

			for (j = 0; j < tl; j++) {
				jv e = jv_array_get(jv_copy(t), j);

				if (jv_get_kind(e) == JV_KIND_STRING &&
				    (strcmp(jv_string_value(e), "number") == 0 ||
				    strcmp(jv_string_value(e), "integer") == 0))
					numeric = 1;
				jv_free(e);
			}
		}
		if (o->label != NULL && strcmp(name, o->label) == 0)
			skip = 1;
		if (o->date_field != NULL && strcmp(name, o->date_field) == 0)
			skip = 1;
		for (i = 0; i < ng; i++)
			if (strcmp(name, group[i]) == 0)
				skip = 1;
		if (numeric && !skip)
			out[n++] = xstrdup(name);
		jv_free(t);
		jv_free(p);
		jv_free(key);
	}
	jv_free(keys);
	jv_free(props);
	jv_free(root);
	if (n == 0)
		die("%s: no numeric properties to use as features",
		    o->features_from);
	*nf = n;
	return out;
}

/* The largest feature index of libsvm input, so f1..fN are its
 * features. */
static size_t
svm_width(char **paths, int npaths, size_t max_line)
{
	struct nd_reader *rd = nd_open(paths, npaths, max_line);
	struct nd_line ln;
	size_t w = 0, i;

	if (!nd_stable(rd))
		die("--libsvm training reads its input twice: give a file, "
		    "not a pipe");
	while (nd_next(rd, &ln)) {
		for (i = 0; i < ln.len; i++) {
			size_t j, v = 0;

			if (ln.buf[i] != ':' || i == 0)
				continue;
			j = i;
			while (j > 0 && ln.buf[j - 1] >= '0' &&
			    ln.buf[j - 1] <= '9')
				j--;
			if (j == i || (j > 0 && ln.buf[j - 1] != ' ' &&
			    ln.buf[j - 1] != '\t'))
				continue;
			for (; j < i; j++)
				v = v * 10 + (size_t)(ln.buf[j] - '0');
			if (v > w && v < 10000000)
				w = v;
		}
	}
	nd_close(rd);
	return w;
}

/* "ndcg@K" or "map@K": the metric early stopping follows. */
static void
parse_metric(const char *s, int *is_map, size_t *k)
{
	long long v;
	const char *at = strchr(s, '@');

	if (at == NULL || !parse_int(at + 1, strlen(at + 1), &v) || v < 1 ||
	    v > 100000 || (((size_t)(at - s) != 4 || strncmp(s, "ndcg", 4)) &&
	    ((size_t)(at - s) != 3 || strncmp(s, "map", 3))))
		usage_error("option --early-stop-metric: expected ndcg@K or "
		    "map@K, got '%s'", s);
	*is_map = s[0] == 'm';
	*k = (size_t)v;
}

/* Mean of ndcg@k or map@k over the queries of d at scores s; idcg[]
 * holds each query's ideal DCG@k (computed once).  With lr (the
 * gradient engine over the same queries) the rows are ranked by it,
 * starting from the order of the last iteration, which one tree
 * changes little; the next gradient then finds them in order. */
static double
mean_metric(const struct dataset *d, const double *s, const double *gain,
    int is_map, size_t k, size_t *ord, const double *idcg,
    struct lambdarank *lr)
{
	size_t q;
	double sum = 0;
	const size_t *o;

	if (d->nq == 0)
		return NAN;
	if (lr != NULL)
		lambdarank_sort(lr, s);
	for (q = 0; q < d->nq; q++) {
		size_t a = d->bounds[q], n = d->bounds[q + 1] - a;

		if (lr != NULL)
			o = lambdarank_order(lr, q);
		else {
			ltr_order(s + a, n, ord);
			o = ord;
		}
		if (is_map)
			sum += ltr_ap(d->label + a, o, n, k, 1,
			    LTR_MAP_LIGHTGBM, NULL);
		else
			sum += idcg[q] > 0 ? ltr_dcg(d->label + a, o, n, k,
			    gain) / idcg[q] : LTR_EMPTY_VALUE;
	}
	return sum / (double)d->nq;
}

static double *
idcgs(const struct dataset *d, const double *gain, size_t k)
{
	double *v = xmalloc((d->nq + 1) * sizeof(double));
	size_t q;

	for (q = 0; q < d->nq; q++)
		v[q] = ltr_idcg(d->label + d->bounds[q], d->bounds[q + 1] -
		    d->bounds[q], k, gain);
	return v;
}

static void
jstr(struct buf *b, const char *s)
{
	if (s == NULL)
		buf_adds(b, "null");
	else
		buf_add_jstr(b, s, strlen(s));
}

static void
jstrv(struct buf *b, char **v, size_t n)
{
	size_t i;

	buf_addc(b, '[');
	for (i = 0; i < n; i++) {
		if (i)
			buf_addc(b, ',');
		jstr(b, v[i]);
	}
	buf_addc(b, ']');
}

static const char *
obj_name(enum lr_objective o)
{
	return o == LR_LAMBDARANK ? "lambdarank" : o == LR_PAIRWISE ?
	    "pairwise" : "regression";
}

static void
params_json(struct buf *b, const struct ropts *o, const double *gain,
    size_t ngain)
{
	size_t i;

	buf_printf(b, "{\"objective\":\"%s\",\"trees\":%lld,\"lr\":",
	    obj_name(o->objective), o->trees);
	jnum(b, o->lr);
	buf_printf(b, ",\"leaves\":%lld,\"max_depth\":%lld,\"min_leaf\":%lld,"
	    "\"min_hess\":", o->leaves, o->max_depth, o->min_leaf);
	jnum(b, o->min_hess);
	buf_adds(b, ",\"l2\":");
	jnum(b, o->l2);
	buf_printf(b, ",\"bins\":%lld,\"feature_fraction\":", o->bins);
	jnum(b, o->feature_fraction);
	buf_adds(b, ",\"bagging_fraction\":");
	jnum(b, o->bagging_fraction);
	buf_printf(b, ",\"seed\":%llu,\"truncation\":%lld,\"sigma\":",
	    o->seed, o->trunc);
	jnum(b, o->sigma);
	buf_adds(b, ",\"label_gain_name\":");
	jstr(b, strchr(o->label_gain, ',') ? "list" : o->label_gain);
	buf_adds(b, ",\"label_gain\":[");
	/* linear's table is long: the used part is what matters */
	for (i = 0; i < ngain && i < 31; i++) {
		if (i)
			buf_addc(b, ',');
		jnum(b, gain[i]);
	}
	buf_printf(b, "],\"early_stop\":%lld,\"early_stop_metric\":",
	    o->patience);
	jstr(b, o->early_metric);
	buf_adds(b, ",\"valid_frac\":");
	jnum(b, o->valid_frac);
	buf_addc(b, '}');
}

struct imp {
	size_t f;
	double gain;
	long long splits;
};

static int
cmp_imp(const void *a, const void *b)
{
	const struct imp *x = a, *y = b;

	if (x->gain != y->gain)
		return x->gain < y->gain ? 1 : -1;
	return (x->f > y->f) - (x->f < y->f);
}

static void
tree_json(struct buf *b, const struct gbdt_tree *t)
{
	static const char *const k[] = { "feature", "threshold",
		"default_left", "left", "right", "value", "gain", "hess",
		"count" };
	size_t i, j;

	buf_addc(b, '{');
	for (j = 0; j < 9; j++) {
		buf_printf(b, "%s\"%s\":[", j ? "," : "", k[j]);
		for (i = 0; i < t->n; i++) {
			const struct gbdt_node *n = &t->node[i];
			int leaf = n->feat < 0;

			if (i)
				buf_addc(b, ',');
			switch (j) {
			case 0: buf_printf(b, "%d", n->feat); break;
			case 1: jnum(b, leaf ? 0 : n->thr); break;
			case 2: buf_printf(b, "%d", leaf ? 0 : n->dleft); break;
			case 3: buf_printf(b, "%d", n->left); break;
			case 4: buf_printf(b, "%d", n->right); break;
			case 5: jnum(b, n->value); break;
			case 6: jnum(b, leaf ? 0 : n->gain); break;
			case 7: jnum(b, n->hess); break;
			case 8: buf_printf(b, "%lld", n->count); break;
			}
		}
		buf_addc(b, ']');
	}
	buf_addc(b, '}');
}

/* Hold out a fraction of the groups: a seeded shuffle of the groups
 * (already in key order), so the split is the same on every run. */
static void
split_valid(const struct ropts *o, struct dataset **tr, struct dataset **va)
{
	struct dataset *d = *tr;
	size_t nq = d->nq, nv, i, *perm = xmalloc((nq + 1) * sizeof(size_t));
	uint64_t st = o->seed ^ 0x5eedULL;

	for (i = 0; i < nq; i++)
		perm[i] = i;
	for (i = nq; i > 1; i--) {
		size_t j = (size_t)(gbdt_rand(&st) % i), t = perm[i - 1];

		perm[i - 1] = perm[j];
		perm[j] = t;
	}
	nv = (size_t)ceil(o->valid_frac * (double)nq);
	if (nv < 1 || nv >= nq)
		die("--valid-frac %g of %zu groups leaves no group on one side",
		    o->valid_frac, nq);
	/* keep key order inside each side */
	{
		unsigned char *isv = xcalloc(nq + 1, 1);
		size_t *a = xmalloc((nq + 1) * sizeof(size_t)), na = 0;
		size_t *b = xmalloc((nq + 1) * sizeof(size_t)), nb = 0;

		for (i = 0; i < nv; i++)
			isv[perm[i]] = 1;
		for (i = 0; i < nq; i++) {
			if (isv[i])
				b[nb++] = i;
			else
				a[na++] = i;
		}
		*tr = ds_subset(d, a, na);
		*va = ds_subset(d, b, nb);
		(*tr)->span_min = d->span_min ? xstrdup(d->span_min) : NULL;
		(*tr)->span_max = d->span_max ? xstrdup(d->span_max) : NULL;
		(*tr)->in = d->in;
		(*tr)->rejected = d->rejected;
		free(isv);
		free(a);
		free(b);
	}
	free(perm);
	ds_free(d);
}

int
cmd_train(struct ropts *o, char **files, int nfiles)
{
	struct loadspec sp;
	struct acct ac, acv;
	struct dataset *tr, *va = NULL;
	char **group = NULL, **feat, *sversion = NULL;
	size_t ng = 0, nf, ngain, i, t, q, k, ntrees = 0, best_it = 0;
	double *gain, *s, *sv = NULL, *g, *h, best = -INFINITY;
	double *idtr, *idva;
	struct gbdt_binning *bn;
	struct gbdt_data *gd;
	struct gbdt_learner *gl;
	struct gbdt_params gp;
	struct lambdarank *lr;
	struct gbdt_tree *trees;
	struct curve_pt *curve;
	unsigned char *featok;
	size_t *rows, nrows, *ord, maxn = 1;
	uint64_t rng;
	int is_map, distinct = 0;
	struct progress *pg;
	struct buf b, rl;
	struct imp *imp;
	double tm[5][2];

	clocks(tm[0]);
	if (o->output == NULL)
		usage_error("train needs -o MODEL");
	if (o->label == NULL && !o->libsvm)
		usage_error("train needs --label FIELD");
	if (o->group == NULL && !o->libsvm && o->objective != LR_REGRESSION)
		usage_error("train needs --group FIELDS (the query key)");
	if (!o->libsvm && (o->features == NULL) == (o->features_from == NULL))
		usage_error("train needs one of --features and "
		    "--features-from");
	if (o->valid != NULL && o->valid_frac > 0)
		usage_error("--valid and --valid-frac exclude each other");
	if (o->patience > 0 && o->valid == NULL && o->valid_frac == 0)
		usage_error("--early-stop needs --valid or --valid-frac");
	parse_metric(o->early_metric, &is_map, &k);
	gain = gain_parse(o->label_gain, &ngain);
	if (o->group != NULL)
		group = cli_split("--group", o->group, &ng);
	if (o->libsvm) {
		nf = svm_width(files, nfiles, o->co.max_line);
		feat = xcalloc(nf + 1, sizeof(char *));
		for (i = 0; i < nf; i++)
			feat[i] = xasprintf("f%zu", i + 1);
	} else if (o->features != NULL)
		feat = cli_split("--features", o->features, &nf);
	else
		feat = schema_features(o, group, ng, &nf, &sversion);
	for (i = 0; i < nf; i++)
		for (t = 0; t < i; t++)
			if (strcmp(feat[i], feat[t]) == 0)
				usage_error("feature '%s' given twice", feat[i]);
	memset(&sp, 0, sizeof(sp));
	sp.label = o->libsvm ? "label" : o->label;
	sp.group = group;
	sp.ngroup = ng;
	sp.feat = feat;
	sp.nf = nf;
	sp.date_field = o->date_field;
	sp.absent_missing = o->absent_missing;
	sp.max_label = (int)ngain - 1;
	sp.gain_name = o->label_gain;
	sp.libsvm = o->libsvm;
	sp.query = o->query;
	acct_init(&ac, &o->co);
	tr = ds_load(&sp, files, nfiles, &ac);
	if (tr->n == 0)
		die("no training rows");
	if (o->valid != NULL) {
		char *vp[1];

		vp[0] = (char *)o->valid;
		sp.query = NULL;
		acct_init(&acv, &o->co);
		va = ds_load(&sp, vp, 1, &acv);
		acct_finish(&acv, NULL);
		if (va->nq == 0)
			die("%s: no validation rows", o->valid);
	} else if (o->valid_frac > 0)
		split_valid(o, &tr, &va);
	for (q = 0; q < tr->nq; q++) {
		size_t a = tr->bounds[q], n = tr->bounds[q + 1] - a;

		if (n > maxn)
			maxn = n;
		for (i = a + 1; i < tr->bounds[q + 1] && !distinct; i++)
			distinct = tr->label[i] != tr->label[a];
	}
	if (va != NULL)
		for (q = 0; q < va->nq; q++)
			if (va->bounds[q + 1] - va->bounds[q] > maxn)
				maxn = va->bounds[q + 1] - va->bounds[q];
	if (!distinct && o->objective != LR_REGRESSION)
		die("no group has two different labels: nothing to rank");

	clocks(tm[1]);
	bn = gbdt_binning_new(tr->x, tr->n, nf, (int)o->bins, 3, 200000);
	gd = gbdt_data_new(tr->x, tr->n, nf, bn);
	/* the bins are all boosting reads: the raw values may go */
	free(tr->x);
	tr->x = NULL;
	memset(&gp, 0, sizeof(gp));
	gp.leaves = (int)o->leaves;
	gp.max_depth = (int)o->max_depth;
	gp.min_leaf = o->min_leaf;
	gp.min_hess = o->min_hess;
	gp.l2 = o->l2;
	gp.lr = o->lr;
	gl = gbdt_learner_new(gd, &gp);
	lr = lambdarank_new(o->objective, tr->label, tr->bounds, tr->nq, gain,
	    ngain, (int)o->trunc, o->sigma, 1);
	s = xcalloc(tr->n, sizeof(double));
	g = xmalloc(tr->n * sizeof(double));
	h = xmalloc(tr->n * sizeof(double));
	rows = xmalloc(tr->n * sizeof(size_t));
	ord = xmalloc(maxn * sizeof(size_t));
	featok = xmalloc(nf + 1);
	trees = xcalloc((size_t)o->trees, sizeof(*trees));
	curve = xcalloc((size_t)o->trees, sizeof(*curve));
	if (va != NULL)
		sv = xcalloc(va->n, sizeof(double));
	idtr = idcgs(tr, gain, k);
	idva = va != NULL ? idcgs(va, gain, k) : NULL;
	rng = o->seed;
	clocks(tm[2]);
	pg = progress_new("trees", o->trees);
	for (t = 0; t < (size_t)o->trees; t++) {
		char extra[96];

		lambdarank_grad(lr, s, g, h);
		nrows = 0;
		for (q = 0; q < tr->nq; q++) {
			if (o->bagging_fraction < 1 && (double)(gbdt_rand(&rng)
			    >> 11) * 0x1p-53 >= o->bagging_fraction)
				continue;
			for (i = tr->bounds[q]; i < tr->bounds[q + 1]; i++)
				rows[nrows++] = i;
		}
		for (i = 0; i < nf; i++)
			featok[i] = 1;
		if (o->feature_fraction < 1) {
			size_t want = (size_t)ceil(o->feature_fraction *
			    (double)nf), *pf = xmalloc(nf * sizeof(size_t));

			for (i = 0; i < nf; i++) {
				pf[i] = i;
				featok[i] = 0;
			}
			for (i = 0; i < want; i++) {
				size_t j = i + (size_t)(gbdt_rand(&rng) %
				    (nf - i)), x = pf[i];

				pf[i] = pf[j];
				pf[j] = x;
				featok[pf[i]] = 1;
			}
			free(pf);
		}
		gbdt_grow(gl, g, h, rows, nrows, featok, &trees[t]);
		ntrees = t + 1;
		/* every row in the tree: its leaves know where they went */
		if (nrows == tr->n)
			gbdt_grow_apply(gl, &trees[t], s);
		else
			gbdt_tree_apply(&trees[t], gd, s);
		curve[t].train = mean_metric(tr, s, gain, is_map, k, ord,
		    idtr, lr);
		curve[t].valid = NAN;
		if (va != NULL) {
			for (i = 0; i < va->n; i++)
				sv[i] += gbdt_tree_predict(&trees[t],
				    va->x + i * nf);
			curve[t].valid = mean_metric(va, sv, gain, is_map, k,
			    ord, idva, NULL);
			if (curve[t].valid > best) {
				best = curve[t].valid;
				best_it = t + 1;
			}
			snprintf(extra, sizeof(extra), "%s train %.4f valid "
			    "%.4f", o->early_metric, curve[t].train,
			    curve[t].valid);
		} else
			snprintf(extra, sizeof(extra), "%s train %.4f",
			    o->early_metric, curve[t].train);
		progress_update(pg, (long long)t + 1, 0, extra);
		if (o->patience > 0 && t + 1 - best_it >= (size_t)o->patience)
			break;
	}
	progress_end(pg);
	clocks(tm[3]);
	if (va == NULL || o->patience == 0)
		best_it = ntrees;

	/* importance over the kept trees */
	imp = xcalloc(nf + 1, sizeof(*imp));
	for (i = 0; i < nf; i++)
		imp[i].f = i;
	for (t = 0; t < best_it; t++)
		for (i = 0; i < trees[t].n; i++) {
			const struct gbdt_node *nd = &trees[t].node[i];

			if (nd->feat >= 0) {
				imp[nd->feat].gain += nd->gain;
				imp[nd->feat].splits++;
			}
		}
	qsort(imp, nf, sizeof(*imp), cmp_imp);

	buf_init(&b);
	buf_printf(&b, "{\"format\":\"%s\",\"format_version\":%d,"
	    "\"tool\":\"asin-rank %s\",\"objective\":\"%s\",\"params\":",
	    RANK_MODEL_FORMAT, RANK_MODEL_VERSION, ASIN_VERSION,
	    obj_name(o->objective));
	params_json(&b, o, gain, ngain);
	buf_adds(&b, ",\"signature\":{\"features\":");
	jstrv(&b, feat, nf);
	buf_adds(&b, ",\"types\":[");
	for (i = 0; i < nf; i++)
		buf_printf(&b, "%s\"number\"", i ? "," : "");
	buf_adds(&b, "],\"label\":");
	jstr(&b, o->libsvm ? "label" : o->label);
	buf_adds(&b, ",\"group\":");
	jstrv(&b, group, ng);
	buf_adds(&b, ",\"feature_schema\":");
	jstr(&b, o->features_from);
	buf_adds(&b, ",\"feature_schema_version\":");
	jstr(&b, sversion);
	buf_adds(&b, ",\"input\":");
	jstr(&b, o->libsvm ? "libsvm" : "ndjson");
	buf_adds(&b, "},\"base_score\":0,\"training\":{\"inputs\":");
	jstrv(&b, files, (size_t)nfiles);
	buf_printf(&b, ",\"rows\":%zu,\"groups\":%zu,\"rejected\":%lld,"
	    "\"span\":", tr->n, tr->nq, tr->rejected);
	if (tr->span_min != NULL) {
		buf_adds(&b, "{\"field\":");
		jstr(&b, o->date_field);
		buf_adds(&b, ",\"from\":");
		jstr(&b, tr->span_min);
		buf_adds(&b, ",\"to\":");
		jstr(&b, tr->span_max);
		buf_addc(&b, '}');
	} else
		buf_adds(&b, "null");
	if (va != NULL)
		buf_printf(&b, ",\"valid\":{\"source\":%s%s%s,\"rows\":%zu,"
		    "\"groups\":%zu}", o->valid ? "\"" : "\"valid-frac",
		    o->valid ? o->valid : "", "\"", va->n, va->nq);
	else
		buf_adds(&b, ",\"valid\":null");
	buf_printf(&b, ",\"trees_grown\":%zu,\"best_iteration\":%zu},",
	    ntrees, best_it);
	buf_adds(&b, "\"metrics\":{\"metric\":");
	jstr(&b, o->early_metric);
	buf_adds(&b, ",\"train\":");
	jnum(&b, best_it ? curve[best_it - 1].train : NAN);
	buf_adds(&b, ",\"valid\":");
	jnum(&b, best_it ? curve[best_it - 1].valid : NAN);
	buf_adds(&b, "},\"curve\":[");
	for (t = 0; t < ntrees; t++) {
		buf_printf(&b, "%s{\"iteration\":%zu,\"train\":", t ? "," : "",
		    t + 1);
		jnum(&b, curve[t].train);
		buf_adds(&b, ",\"valid\":");
		jnum(&b, curve[t].valid);
		buf_addc(&b, '}');
	}
	buf_adds(&b, "],\"feature_importance\":[");
	for (i = 0; i < nf; i++) {
		buf_printf(&b, "%s{\"feature\":", i ? "," : "");
		jstr(&b, feat[imp[i].f]);
		buf_adds(&b, ",\"gain\":");
		jnum(&b, imp[i].gain);
		buf_printf(&b, ",\"splits\":%lld}", imp[i].splits);
	}
	buf_adds(&b, "],\"binning\":[");
	for (i = 0; i < nf; i++) {
		buf_printf(&b, "%s[", i ? "," : "");
		for (t = 0; t < bn->nthr[i]; t++) {
			if (t)
				buf_addc(&b, ',');
			jnum(&b, bn->thr[i][t]);
		}
		buf_addc(&b, ']');
	}
	buf_adds(&b, "],\"trees\":[");
	for (t = 0; t < best_it; t++) {
		if (t)
			buf_addc(&b, ',');
		tree_json(&b, &trees[t]);
	}
	buf_adds(&b, "]}\n");
	save_file(o->output, &b);

	/* the runs index line */
	buf_init(&rl);
	{
		char ts[32];

		runs_now(ts, sizeof(ts));
		buf_printf(&rl, "{\"ts\":\"%s\",\"command\":\"train\","
		    "\"model\":", ts);
		jstr(&rl, o->output);
		buf_adds(&rl, ",\"inputs\":");
		jstrv(&rl, files, (size_t)nfiles);
		buf_adds(&rl, ",\"params\":");
		params_json(&rl, o, gain, ngain);
		buf_printf(&rl, ",\"rows\":%zu,\"groups\":%zu,\"span\":",
		    tr->n, tr->nq);
		if (tr->span_min != NULL) {
			buf_adds(&rl, "[");
			jstr(&rl, tr->span_min);
			buf_addc(&rl, ',');
			jstr(&rl, tr->span_max);
			buf_adds(&rl, "]");
		} else
			buf_adds(&rl, "null");
		buf_printf(&rl, ",\"best_iteration\":%zu,\"metrics\":{\"%s\":"
		    "{\"train\":", best_it, o->early_metric);
		jnum(&rl, best_it ? curve[best_it - 1].train : NAN);
		buf_adds(&rl, ",\"valid\":");
		jnum(&rl, best_it ? curve[best_it - 1].valid : NAN);
		buf_adds(&rl, "}}}\n");
		runs_append(o, rl.data);
	}
	if (o->co.verbose) {
		note("%zu rows in %zu groups, %zu trees (best %zu), %s train "
		    "%.6g", tr->n, tr->nq, ntrees, best_it, o->early_metric,
		    best_it ? curve[best_it - 1].train : NAN);
		clocks(tm[4]);
		note("wall (CPU) seconds: read %.3f (%.3f), bin %.3f (%.3f), "
		    "boost %.3f (%.3f), write %.3f (%.3f)",
		    tm[1][0] - tm[0][0], tm[1][1] - tm[0][1],
		    tm[2][0] - tm[1][0], tm[2][1] - tm[1][1],
		    tm[3][0] - tm[2][0], tm[3][1] - tm[2][1],
		    tm[4][0] - tm[3][0], tm[4][1] - tm[3][1]);
	}
	buf_free(&b);
	buf_free(&rl);
	for (t = 0; t < ntrees; t++)
		free(trees[t].node);
	free(trees);
	free(curve);
	free(imp);
	free(s);
	free(sv);
	free(idtr);
	free(idva);
	free(g);
	free(h);
	free(rows);
	free(ord);
	free(featok);
	free(gain);
	free(sversion);
	strv_free(feat);
	if (group != NULL)
		strv_free(group);
	lambdarank_free(lr);
	gbdt_learner_free(gl);
	gbdt_data_free(gd);
	gbdt_binning_free(bn);
	ds_free(tr);
	ds_free(va);
	return acct_finish(&ac, NULL);
}
