/*
 * model.c - reading the model file (JSON, through libjq: a file read once,
 * not a record), predicting with it, and writing it out as an XGBoost
 * 1.7 JSON model.  The file's format is checked field by field, so a
 * hand-edited or newer model is refused with a message, not misread.
 */
#include <float.h>
#include <limits.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "rank.h"

static char *
slurp(const char *path, size_t *len)
{
	FILE *f = fopen(path, "r");
	struct buf b;
	char chunk[65536];
	size_t got;

	if (f == NULL)
		die("%s: cannot open:", path);
	buf_init(&b);
	buf_adds(&b, "");
	while ((got = fread(chunk, 1, sizeof(chunk), f)) > 0)
		buf_add(&b, chunk, got);
	if (ferror(f))
		die("%s: read error:", path);
	fclose(f);
	*len = b.len;
	return b.data;
}

/* Member k of object o (borrowed o, owned result); dies when absent or
 * of another kind. */
static jv
need(const char *path, jv o, const char *k, jv_kind kind)
{
	jv v = jv_object_get(jv_copy(o), jv_string(k));

	if (jv_get_kind(v) != kind)
		die("%s: model member \"%s\": expected %s", path, k,
		    jv_kind_name(kind));
	return v;
}

static double
num_at(const char *path, jv a, int i, const char *what)
{
	jv v = jv_array_get(jv_copy(a), i);
	double d;

	if (jv_get_kind(v) != JV_KIND_NUMBER)
		die("%s: %s[%d]: expected a number", path, what, i);
	d = jv_number_value(v);
	jv_free(v);
	return d;
}

/* An integer in [lo, hi] at a[i]; dies naming it otherwise. */
static long long
int_at(const char *path, jv a, int i, const char *what, double lo,
    double hi)
{
	double d = num_at(path, a, i, what);

	if (!(d >= lo && d <= hi) || d != floor(d))
		die("%s: %s[%d]: expected an integer from %.0f to %.0f", path,
		    what, i, lo, hi);
	return (long long)d;
}

/* A number a float holds (thresholds, leaves), as predictions use it. */
static double
flt_at(const char *path, jv a, int i, const char *what)
{
	double d = num_at(path, a, i, what);

	if (!(fabs(d) <= FLT_MAX))
		die("%s: %s[%d]: number out of range", path, what, i);
	return d;
}

static char **
strings(const char *path, jv a, const char *what, size_t *n)
{
	int i, len = jv_array_length(jv_copy(a));
	char **s = xcalloc((size_t)len + 1, sizeof(char *));

	for (i = 0; i < len; i++) {
		jv v = jv_array_get(jv_copy(a), i);

		if (jv_get_kind(v) != JV_KIND_STRING)
			die("%s: %s[%d]: expected a string", path, what, i);
		s[i] = xstrdup(jv_string_value(v));
		jv_free(v);
	}
	*n = (size_t)len;
	return s;
}

static void
load_tree(const char *path, jv t, size_t ti, size_t nf, struct gbdt_tree *out)
{
	static const char *const arr[] = { "feature", "threshold",
		"default_left", "left", "right", "value", "gain", "hess",
		"count" };
	jv a[9];
	int i, n, k;
	char what[64];

	for (k = 0; k < 9; k++) {
		a[k] = need(path, t, arr[k], JV_KIND_ARRAY);
		if (k > 0 && jv_array_length(jv_copy(a[k])) !=
		    jv_array_length(jv_copy(a[0])))
			die("%s: tree %zu: \"%s\" has another length", path,
			    ti, arr[k]);
	}
	n = jv_array_length(jv_copy(a[0]));
	if (n < 1)
		die("%s: tree %zu: no nodes", path, ti);
	out->n = (size_t)n;
	out->node = xcalloc((size_t)n, sizeof(*out->node));
	snprintf(what, sizeof(what), "tree %zu", ti);
	for (i = 0; i < n; i++) {
		struct gbdt_node *nd = &out->node[i];

		/* Found by tests/fuzz/model.c: casts of out-of-range numbers
		 * (1e300 as a feature, a count, a threshold) were undefined. */
		nd->feat = (int)int_at(path, a[0], i, what, INT_MIN, INT_MAX);
		nd->thr = flt_at(path, a[1], i, what);
		nd->dleft = (int)int_at(path, a[2], i, what, INT_MIN, INT_MAX);
		nd->left = (int)int_at(path, a[3], i, what, INT_MIN, INT_MAX);
		nd->right = (int)int_at(path, a[4], i, what, INT_MIN, INT_MAX);
		nd->value = flt_at(path, a[5], i, what);
		nd->gain = flt_at(path, a[6], i, what);
		nd->hess = flt_at(path, a[7], i, what);
		nd->count = int_at(path, a[8], i, what, 0, 9007199254740992.0);
		nd->parent = -1;
		if (nd->feat >= 0 && ((size_t)nd->feat >= nf ||
		    nd->left <= i || nd->right <= i || nd->left >= n ||
		    nd->right >= n))
			die("%s: tree %zu, node %d: bad feature or child", path,
			    ti, i);
	}
	for (k = 0; k < 9; k++)
		jv_free(a[k]);
}

static int
depth_of(const struct gbdt_tree *t, int n)
{
	int l, r;

	if (t->node[n].feat < 0)
		return 0;
	l = depth_of(t, t->node[n].left);
	r = depth_of(t, t->node[n].right);
	return 1 + (l > r ? l : r);
}

/* The trees as one array of struct pnode, for model_predict(). */
static void
pack(struct model *m)
{
	size_t t, i, n = 0, base;

	for (t = 0; t < m->ntrees; t++)
		n += m->tree[t].n;
	m->pn = xcalloc(n + 1, sizeof(*m->pn));
	m->proot = xcalloc(m->ntrees + 1, sizeof(size_t));
	m->pdepth = xcalloc(m->ntrees + 1, sizeof(int));
	m->xf = xcalloc(m->nf + 1, sizeof(float));
	for (t = 0, base = 0; t < m->ntrees; t++) {
		m->proot[t] = base;
		m->pdepth[t] = depth_of(&m->tree[t], 0);
		for (i = 0; i < m->tree[t].n; i++) {
			const struct gbdt_node *nd = &m->tree[t].node[i];
			struct pnode *p = &m->pn[base + i];

			if (nd->feat < 0) {
				/* the slot xf[nf] is always 0 */
				p->feat = (int32_t)m->nf;
				p->v = (float)nd->value;
				p->kid[0] = p->kid[1] = (int32_t)i;
				continue;
			}
			p->feat = nd->feat | (nd->dleft ? PNODE_DLEFT : 0);
			p->v = (float)nd->thr;
			p->kid[0] = nd->left;
			p->kid[1] = nd->right;
		}
		base += m->tree[t].n;
	}
}

struct model *
model_load(const char *path)
{
	struct model *m = xcalloc(1, sizeof(*m));
	char *text, *err;
	size_t len, i, n;
	jv root, v, sig, trees, p;
	int ver;

	text = slurp(path, &len);
	root = json_parse(text, len, &err);
	free(text);
	if (!jv_is_valid(root))
		die("%s: invalid JSON: %s", path, err);
	if (jv_get_kind(root) != JV_KIND_OBJECT)
		die("%s: not an asin-rank model", path);
	v = jv_object_get(jv_copy(root), jv_string("format"));
	if (jv_get_kind(v) != JV_KIND_STRING ||
	    strcmp(jv_string_value(v), RANK_MODEL_FORMAT) != 0)
		die("%s: not an asin-rank model (no \"format\": \"%s\")", path,
		    RANK_MODEL_FORMAT);
	jv_free(v);
	v = need(path, root, "format_version", JV_KIND_NUMBER);
	/* Found by tests/fuzz/model.c: (int)1e101 was undefined. */
	if (!(jv_number_value(v) >= 0 && jv_number_value(v) <= INT_MAX) ||
	    jv_number_value(v) != floor(jv_number_value(v)))
		die("%s: bad model format version %g", path,
		    jv_number_value(v));
	ver = (int)jv_number_value(v);
	jv_free(v);
	if (ver > RANK_MODEL_VERSION)
		die("%s: model format version %d is newer than this asin-rank "
		    "reads (%d): upgrade asin-rank", path, ver,
		    RANK_MODEL_VERSION);
	if (ver < 1)
		die("%s: bad model format version %d", path, ver);
	v = need(path, root, "objective", JV_KIND_STRING);
	if (strcmp(jv_string_value(v), "lambdarank") == 0)
		m->objective = LR_LAMBDARANK;
	else if (strcmp(jv_string_value(v), "pairwise") == 0)
		m->objective = LR_PAIRWISE;
	else if (strcmp(jv_string_value(v), "regression") == 0)
		m->objective = LR_REGRESSION;
	else
		die("%s: unknown objective \"%s\"", path, jv_string_value(v));
	jv_free(v);
	sig = need(path, root, "signature", JV_KIND_OBJECT);
	v = need(path, sig, "features", JV_KIND_ARRAY);
	m->feat = strings(path, v, "signature.features", &m->nf);
	jv_free(v);
	v = need(path, sig, "label", JV_KIND_STRING);
	m->label = xstrdup(jv_string_value(v));
	jv_free(v);
	v = need(path, sig, "group", JV_KIND_ARRAY);
	m->group = strings(path, v, "signature.group", &m->ngroup);
	jv_free(v);
	v = jv_object_get(jv_copy(sig), jv_string("feature_schema_version"));
	if (jv_get_kind(v) == JV_KIND_STRING)
		m->schema_version = xstrdup(jv_string_value(v));
	jv_free(v);
	jv_free(sig);
	p = need(path, root, "params", JV_KIND_OBJECT);
	v = need(path, p, "label_gain", JV_KIND_ARRAY);
	m->ngain = (size_t)jv_array_length(jv_copy(v));
	m->gain = xcalloc(m->ngain + 1, sizeof(double));
	for (i = 0; i < m->ngain; i++)
		m->gain[i] = num_at(path, v, (int)i, "params.label_gain");
	jv_free(v);
	jv_free(p);
	v = need(path, root, "base_score", JV_KIND_NUMBER);
	m->base_score = jv_number_value(v);
	jv_free(v);
	trees = need(path, root, "trees", JV_KIND_ARRAY);
	n = (size_t)jv_array_length(jv_copy(trees));
	m->ntrees = n;
	m->tree = xcalloc(n + 1, sizeof(*m->tree));
	for (i = 0; i < n; i++) {
		jv t = jv_array_get(jv_copy(trees), (int)i);

		if (jv_get_kind(t) != JV_KIND_OBJECT)
			die("%s: tree %zu: expected an object", path, i);
		load_tree(path, t, i, m->nf, &m->tree[i]);
		jv_free(t);
	}
	jv_free(trees);
	jv_free(root);
	pack(m);
	return m;
}

void
model_free(struct model *m)
{
	size_t i;

	if (m == NULL)
		return;
	for (i = 0; i < m->ntrees; i++)
		free(m->tree[i].node);
	free(m->tree);
	free(m->pn);
	free(m->proot);
	free(m->pdepth);
	free(m->xf);
	strv_free(m->feat);
	strv_free(m->group);
	free(m->label);
	free(m->schema_version);
	free(m->gain);
	free(m);
}

/* One step down from node n; a leaf stays where it is. */
static inline int32_t
step(const struct pnode *p, int32_t n, const float *xf)
{
	float v = xf[p[n].feat & PNODE_FEAT];
	int go = isnan(v) ? !(p[n].feat & PNODE_DLEFT) : !(v < p[n].v);

	return p[n].kid[go];
}

#define PBLOCK 8

/*
 * The same walk as gbdt_tree_predict(), on the packed nodes: a value
 * rounded to float32 goes left when below the float32 threshold, a
 * missing one to its default side.  PBLOCK trees walk side by side for
 * as many steps as the deepest of them needs, so their (hard to predict)
 * branches overlap instead of following one another; the leaves are then
 * added in tree order, in double, so the sum is the same bits as one
 * tree after another.
 */
double
model_predict(struct model *m, const double *x)
{
	double s = m->base_score;
	size_t t, i, k, nb;
	float *xf = m->xf;
	int32_t n[PBLOCK];
	const struct pnode *p[PBLOCK];
	int d, depth;

	for (i = 0; i < m->nf; i++)
		xf[i] = (float)x[i];
	xf[m->nf] = 0;
	for (t = 0; t < m->ntrees; t += nb) {
		nb = m->ntrees - t < PBLOCK ? m->ntrees - t : PBLOCK;
		depth = 0;
		for (k = 0; k < nb; k++) {
			p[k] = m->pn + m->proot[t + k];
			n[k] = 0;
			if (m->pdepth[t + k] > depth)
				depth = m->pdepth[t + k];
		}
		for (d = 0; d < depth; d++)
			for (k = 0; k < nb; k++)
				n[k] = step(p[k], n[k], xf);
		for (k = 0; k < nb; k++)
			s += (double)p[k][n[k]].v;
	}
	return s;
}

static void
int_array(struct buf *b, const char *k, const struct gbdt_tree *t, int which)
{
	size_t i;

	buf_printf(b, "\"%s\":[", k);
	for (i = 0; i < t->n; i++) {
		const struct gbdt_node *nd = &t->node[i];
		long v = 0;

		switch (which) {
		case 0: v = nd->left; break;
		case 1: v = nd->right; break;
		case 2: v = nd->feat >= 0 ? nd->dleft : 0; break;
		case 3: v = nd->feat >= 0 ? nd->feat : 0; break;
		case 4: v = 0; break;
		}
		buf_printf(b, "%s%ld", i ? "," : "", v);
	}
	buf_adds(b, "],");
}

static void
xnum(struct buf *b, double v)
{
	char tmp[40];
	size_t n = fmt_double(tmp, v);

	buf_add(b, tmp, n);
	if (strpbrk(tmp, ".eE") == NULL)
		buf_adds(b, ".0");
}

static void
num_array(struct buf *b, const char *k, const struct gbdt_tree *t, int which)
{
	size_t i;

	buf_printf(b, "\"%s\":[", k);
	for (i = 0; i < t->n; i++) {
		const struct gbdt_node *nd = &t->node[i];
		double v = 0;

		switch (which) {
		case 0: v = nd->feat >= 0 ? nd->thr : nd->value; break;
		case 1: v = nd->value; break;
		case 2: v = nd->feat >= 0 ? nd->gain : 0; break;
		case 3: v = nd->hess; break;
		}
		if (i)
			buf_addc(b, ',');
		/* XGBoost holds these as float32, and its JSON reader
		 * wants a number with a fraction or exponent */
		xnum(b, (double)(float)v);
	}
	buf_adds(b, "],");
}

void
model_xgboost(const struct model *m, struct buf *b)
{
	size_t t, i;
	const char *obj = m->objective == LR_REGRESSION ?
	    "reg:squarederror" : "rank:pairwise";

	buf_adds(b, "{\"learner\":{\"attributes\":{},\"feature_names\":[");
	for (i = 0; i < m->nf; i++) {
		if (i)
			buf_addc(b, ',');
		buf_add_jstr(b, m->feat[i], strlen(m->feat[i]));
	}
	buf_adds(b, "],\"feature_types\":[");
	for (i = 0; i < m->nf; i++)
		buf_printf(b, "%s\"float\"", i ? "," : "");
	buf_printf(b, "],\"gradient_booster\":{\"model\":{"
	    "\"gbtree_model_param\":{\"num_parallel_tree\":\"1\","
	    "\"num_trees\":\"%zu\",\"size_leaf_vector\":\"0\"},"
	    "\"tree_info\":[", m->ntrees);
	for (t = 0; t < m->ntrees; t++)
		buf_printf(b, "%s0", t ? "," : "");
	buf_adds(b, "],\"trees\":[");
	for (t = 0; t < m->ntrees; t++) {
		const struct gbdt_tree *tr = &m->tree[t];

		if (t)
			buf_addc(b, ',');
		buf_addc(b, '{');
		num_array(b, "base_weights", tr, 1);
		buf_adds(b, "\"categories\":[],\"categories_nodes\":[],"
		    "\"categories_segments\":[],\"categories_sizes\":[],");
		int_array(b, "default_left", tr, 2);
		buf_printf(b, "\"id\":%zu,", t);
		int_array(b, "left_children", tr, 0);
		num_array(b, "loss_changes", tr, 2);
		buf_adds(b, "\"parents\":[");
		for (i = 0; i < tr->n; i++) {
			long par = 2147483647;	/* XGBoost's root mark */
			size_t j;

			for (j = 0; j < i; j++)
				if (tr->node[j].feat >= 0 &&
				    (tr->node[j].left == (int)i ||
				    tr->node[j].right == (int)i))
					par = (long)j;
			buf_printf(b, "%s%ld", i ? "," : "", par);
		}
		buf_adds(b, "],");
		int_array(b, "right_children", tr, 1);
		num_array(b, "split_conditions", tr, 0);
		int_array(b, "split_indices", tr, 3);
		int_array(b, "split_type", tr, 4);
		num_array(b, "sum_hessian", tr, 3);
		buf_printf(b, "\"tree_param\":{\"num_deleted\":\"0\","
		    "\"num_feature\":\"%zu\",\"num_nodes\":\"%zu\","
		    "\"size_leaf_vector\":\"0\"}}", m->nf, tr->n);
	}
	buf_adds(b, "]},\"name\":\"gbtree\"},\"learner_model_param\":{"
	    "\"base_score\":\"");
	jnum(b, m->base_score);
	buf_printf(b, "\",\"boost_from_average\":\"0\",\"num_class\":\"0\","
	    "\"num_feature\":\"%zu\",\"num_target\":\"1\"},"
	    "\"objective\":{", m->nf);
	if (m->objective == LR_REGRESSION)
		buf_adds(b, "\"name\":\"reg:squarederror\",\"reg_loss_param\":"
		    "{\"scale_pos_weight\":\"1\"}");
	else
		buf_printf(b, "\"lambda_rank_param\":{\"fix_list_weight\":\"0\","
		    "\"num_pairsample\":\"1\"},\"name\":\"%s\"", obj);
	buf_adds(b, "}},\"version\":[1,7,4]}\n");
}
