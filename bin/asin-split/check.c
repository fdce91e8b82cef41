/*
 * check.c - asin-split --check: run GrowthBook's cross-SDK test vectors
 * (the sections of the SDK's cases.json, or one file per section) and our
 * own SDK-derived vectors through gbhash/gbexp.  Cases that need parts of
 * the SDK the tool does not implement (URL targeting, forced variations,
 * general conditions, ...) are counted as skipped, never as passed.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "asin.h"
#include "gbexp.h"
#include "split.h"

struct tally {
	long pass;
	long fail;
	long skip;
	int verbose;
	enum gb_unicode mode;
	const char *file;
};

/* Experiment and rule fields the assignment path implements. */
static const char *const run_exp_fields[] = {
	"key", "variations", "weights", "coverage", "hashAttribute", "seed",
	"hashVersion", "ranges", "namespace", "filters", "active", "meta",
	"name", "phase", NULL
};
static const char *const feature_ctx_fields[] = {
	"attributes", "features", NULL
};
static const char *const rule_fields[] = {
	"id", "force", "coverage", "hashVersion", "seed", "range",
	"hashAttribute", "variations", "weights", "ranges", "namespace",
	"filters", "key", "meta", "name", "phase", "condition", NULL
};

static void
result(struct tally *t, int ok, const char *section, jv name, const char *got)
{
	const char *nm = jv_get_kind(name) == JV_KIND_STRING ?
	    jv_string_value(name) : "";

	if (ok)
		t->pass++;
	else
		t->fail++;
	if (!ok || t->verbose)
		printf("%s %s: %s %s%s%s\n", ok ? "ok  " : "FAIL", t->file,
		    section, nm, got && !ok ? ": got " : "",
		    got && !ok ? got : "");
}

static jv
at(jv a, int i)
{
	return jv_array_get(jv_copy(a), i);
}

static jv
get(jv o, const char *k)
{
	if (jv_get_kind(o) != JV_KIND_OBJECT)
		return jv_invalid();
	return jv_object_get(jv_copy(o), jv_string(k));
}

/* Every key of object o is in names (borrows o). */
static int
only_fields(jv o, const char *const *names)
{
	const char *const *p;
	int it, ok = 1;

	if (jv_get_kind(o) != JV_KIND_OBJECT)
		return jv_get_kind(o) == JV_KIND_INVALID ||
		    jv_get_kind(o) == JV_KIND_NULL;
	for (it = jv_object_iter(o); ok && jv_object_iter_valid(o, it);
	    it = jv_object_iter_next(o, it)) {
		jv k = jv_object_iter_key(o, it);

		for (p = names; *p != NULL; p++)
			if (strcmp(*p, jv_string_value(k)) == 0)
				break;
		ok = *p != NULL;
		jv_free(k);
	}
	return ok;
}

static double
floor8(double x)
{
	return floor(x * 1e8) / 1e8;
}

static const char *
str_or_empty(jv v)
{
	return jv_get_kind(v) == JV_KIND_STRING ? jv_string_value(v) : "";
}

/* hash, unicodeHash: [seed, value, version, expected|null] */
static void
check_hash(struct tally *t, jv rows, const char *section)
{
	char got[64];
	int i, n = jv_array_length(jv_copy(rows));

	for (i = 0; i < n; i++) {
		jv row = at(rows, i), seed = at(row, 0), val = at(row, 1);
		jv ver = at(row, 2), want = at(row, 3), name;
		double h = gb_hash(str_or_empty(seed),
		    strlen(str_or_empty(seed)), str_or_empty(val),
		    strlen(str_or_empty(val)),
		    (int)jv_number_value(ver), t->mode);
		int ok = jv_get_kind(want) == JV_KIND_NULL ? h == -1 :
		    jv_get_kind(want) == JV_KIND_NUMBER &&
		    h == jv_number_value(want);

		snprintf(got, sizeof(got), "%.17g", h);
		name = jv_string_fmt("(%s, %s, v%d)", str_or_empty(seed),
		    str_or_empty(val), (int)jv_number_value(ver));
		result(t, ok, section, name, got);
		jv_free(name);
		jv_free(seed);
		jv_free(val);
		jv_free(ver);
		jv_free(want);
		jv_free(row);
	}
}

/* A ranges value (borrowed) into r (room for 64); count or -1. */
static int
ranges_of(jv a, struct gb_range *r)
{
	int i, n;

	if (jv_get_kind(a) != JV_KIND_ARRAY)
		return -1;
	n = jv_array_length(jv_copy(a));
	if (n > 64)
		return -1;
	for (i = 0; i < n; i++) {
		jv p = at(a, i), lo = at(p, 0), hi = at(p, 1);

		r[i].lo = jv_number_value(lo);
		r[i].hi = jv_number_value(hi);
		jv_free(p);
		jv_free(lo);
		jv_free(hi);
	}
	return n;
}

/* getBucketRange: [name, [nvar, coverage, weights|null], ranges] */
static void
check_ranges(struct tally *t, jv rows)
{
	struct gb_range got[64], want[64];
	double w[64];
	int i, j, n = jv_array_length(jv_copy(rows)), nv, nw, nwant, ok;

	for (i = 0; i < n; i++) {
		jv row = at(rows, i), name = at(row, 0), args = at(row, 1);
		jv wj = at(args, 2), cov = at(args, 1), nvj = at(args, 0);
		jv wantj = at(row, 2);

		nv = (int)jv_number_value(nvj);
		nw = -1;
		if (jv_get_kind(wj) == JV_KIND_ARRAY) {
			nw = jv_array_length(jv_copy(wj));
			for (j = 0; j < nw && j < 64; j++) {
				jv x = at(wj, j);

				w[j] = jv_number_value(x);
				jv_free(x);
			}
		}
		nwant = ranges_of(wantj, want);
		ok = nv >= 0 && nv <= 64 && nwant == (nv > 0 ? nv : 0) &&
		    gb_bucket_ranges(nv, jv_get_kind(cov) == JV_KIND_NUMBER ?
		    jv_number_value(cov) : 1, nw >= 0 ? w : NULL,
		    nw >= 0 ? nw : 0, got) == nwant;
		for (j = 0; ok && j < nwant; j++)
			ok = floor8(got[j].lo) == floor8(want[j].lo) &&
			    floor8(got[j].hi) == floor8(want[j].hi);
		result(t, ok, "getBucketRange", name, NULL);
		jv_free(name);
		jv_free(args);
		jv_free(wj);
		jv_free(cov);
		jv_free(nvj);
		jv_free(wantj);
		jv_free(row);
	}
}

/* chooseVariation: [name, n, ranges, index] */
static void
check_choose(struct tally *t, jv rows)
{
	struct gb_range r[64];
	char got[16];
	int i, n = jv_array_length(jv_copy(rows)), nr, v;

	for (i = 0; i < n; i++) {
		jv row = at(rows, i), name = at(row, 0), x = at(row, 1);
		jv rj = at(row, 2), want = at(row, 3);

		nr = ranges_of(rj, r);
		v = nr < 0 ? -2 : gb_choose_variation(jv_number_value(x), r,
		    nr);
		snprintf(got, sizeof(got), "%d", v);
		result(t, v == (int)jv_number_value(want), "chooseVariation",
		    name, got);
		jv_free(name);
		jv_free(x);
		jv_free(rj);
		jv_free(want);
		jv_free(row);
	}
}

/* inNamespace: [name, id, [ns, lo, hi], bool] */
static void
check_namespace(struct tally *t, jv rows)
{
	int i, n = jv_array_length(jv_copy(rows)), got;

	for (i = 0; i < n; i++) {
		jv row = at(rows, i), name = at(row, 0), id = at(row, 1);
		jv ns = at(row, 2), want = at(row, 3);
		jv nid = at(ns, 0), lo = at(ns, 1), hi = at(ns, 2);

		got = gb_in_namespace(str_or_empty(id),
		    strlen(str_or_empty(id)), str_or_empty(nid),
		    strlen(str_or_empty(nid)), jv_number_value(lo),
		    jv_number_value(hi), t->mode);
		result(t, got == (jv_get_kind(want) == JV_KIND_TRUE),
		    "inNamespace", name, got ? "true" : "false");
		jv_free(name);
		jv_free(id);
		jv_free(ns);
		jv_free(want);
		jv_free(nid);
		jv_free(lo);
		jv_free(hi);
		jv_free(row);
	}
}

/* getEqualWeights: [n, weights] */
static void
check_weights(struct tally *t, jv rows)
{
	double w[64];
	int i, j, n = jv_array_length(jv_copy(rows)), k, nw, ok;

	for (i = 0; i < n; i++) {
		jv row = at(rows, i), nj = at(row, 0), want = at(row, 1);
		jv name;

		k = (int)jv_number_value(nj);
		nw = jv_array_length(jv_copy(want));
		ok = k <= 64 && gb_equal_weights(k, w) == nw;
		for (j = 0; ok && j < nw; j++) {
			jv x = at(want, j);

			ok = floor8(w[j]) == floor8(jv_number_value(x));
			jv_free(x);
		}
		name = jv_string_fmt("%d", k);
		result(t, ok, "getEqualWeights", name, NULL);
		jv_free(name);
		jv_free(nj);
		jv_free(want);
		jv_free(row);
	}
}

/* JavaScript truthiness of an attribute value. */
static int
truthy(jv v)
{
	switch (jv_get_kind(v)) {
	case JV_KIND_INVALID:
	case JV_KIND_NULL:
	case JV_KIND_FALSE:
		return 0;
	case JV_KIND_NUMBER:
		return jv_number_value(v) != 0 && !isnan(jv_number_value(v));
	case JV_KIND_STRING:
		return jv_string_length_bytes(jv_copy(v)) > 0;
	default:
		return 1;
	}
}

/* Attribute lookup over a context's "attributes" object. */
struct ctx_attrs {
	jv attrs;
	char num[32];
	char *str;
};

/* String(v) of a truthy string, integer or boolean; 0 otherwise. */
static int
ctx_get(void *ctx, const char *name, const char **s, size_t *n)
{
	struct ctx_attrs *c = ctx;
	jv v = get(c->attrs, name);
	int ok = truthy(v);

	if (ok && jv_get_kind(v) == JV_KIND_STRING) {
		free(c->str);
		c->str = xstrdup(jv_string_value(v));
		*s = c->str;
		*n = strlen(c->str);
	} else if (ok && jv_get_kind(v) == JV_KIND_NUMBER &&
	    jv_number_value(v) == trunc(jv_number_value(v)) &&
	    fabs(jv_number_value(v)) < 9007199254740992.0) {
		*n = gb_int_string(c->num, (long long)jv_number_value(v));
		*s = c->num;
	} else if (ok && jv_get_kind(v) == JV_KIND_TRUE) {
		*s = "true";
		*n = 4;
	} else
		ok = 0;
	jv_free(v);
	return ok;
}

/* The hash attribute of e in the context, copied to buf (room 256). */
static int
ctx_id(struct ctx_attrs *c, const char *attr, char *buf, size_t *len)
{
	const char *s;
	size_t n;

	if (!ctx_get(c, attr, &s, &n) || n >= 256)
		return 0;
	memcpy(buf, s, n);
	*len = n;
	return 1;
}

/* run: [name, context, experiment, value, inExperiment, hashUsed] */
static void
check_run(struct tally *t, jv rows)
{
	struct gb_parse_opts po = { 1, 0, NULL, "id", GB_UTF16 };
	struct gb_experiment e;
	struct gb_result r;
	struct ctx_attrs c = { jv_null(), "", NULL };
	struct gb_lookup lk = { ctx_get, &c };
	char id[256], *err, got[96];
	size_t idlen;
	int i, n = jv_array_length(jv_copy(rows)), hasid, ok;

	po.mode = t->mode;
	for (i = 0; i < n; i++) {
		jv row = at(rows, i), name = at(row, 0), ctx = at(row, 1);
		jv exp = at(row, 2), want = at(row, 3), win = at(row, 4);
		jv wused = at(row, 5), value;
		static const char *const ctx_fields[] = { "attributes", NULL };

		if (!only_fields(ctx, ctx_fields) ||
		    !only_fields(exp, run_exp_fields)) {
			t->skip++;
			jv_free(ctx);
			jv_free(exp);
			goto next;
		}
		jv_free(c.attrs);
		c.attrs = get(ctx, "attributes");
		jv_free(ctx);
		if (!gb_exp_parse(&e, exp, &po, &err)) {
			result(t, 0, "run", name, err);
			free(err);
			goto next;
		}
		hasid = ctx_id(&c, e.hash_attribute, id, &idlen);
		gb_exp_run(&e, hasid ? id : NULL, hasid ? idlen : 0, &lk, &r);
		value = e.nvar > 0 ? at(e.variations, r.variation >= 0 ?
		    r.variation : 0) : jv_null();
		ok = jv_equal(jv_copy(value), jv_copy(want)) &&
		    (r.variation >= 0) == (jv_get_kind(win) == JV_KIND_TRUE) &&
		    (r.variation >= 0) == (jv_get_kind(wused) == JV_KIND_TRUE);
		snprintf(got, sizeof(got), "variation %d bucket %.17g",
		    r.variation, r.bucket);
		result(t, ok, "run", name, got);
		jv_free(value);
		gb_exp_free(&e);
next:
		jv_free(name);
		jv_free(want);
		jv_free(win);
		jv_free(wused);
		jv_free(row);
	}
	jv_free(c.attrs);
	free(c.str);
}

/* The result of one feature evaluation, in the SDK's terms. */
struct feat_res {
	jv value;
	const char *source;
	jv rule_id;
	int has_exp;
	struct gb_result r;
	jv hash_attr;
	jv hash_value;
	jv key;
};

/* A condition {"attr": "value"} holds (1) or not (0); -1 for others. */
static int
condition_holds(jv cond, struct ctx_attrs *c)
{
	jv k, v, a;
	int it, ok;

	if (jv_get_kind(cond) == JV_KIND_INVALID)
		return 1;
	if (jv_get_kind(cond) != JV_KIND_OBJECT ||
	    jv_object_length(jv_copy(cond)) != 1) {
		jv_free(cond);
		return -1;
	}
	it = jv_object_iter(cond);
	k = jv_object_iter_key(cond, it);
	v = jv_object_iter_value(cond, it);
	a = get(c->attrs, jv_string_value(k));
	ok = jv_get_kind(v) != JV_KIND_STRING ? -1 :
	    jv_equal(jv_copy(a), jv_copy(v));
	jv_free(k);
	jv_free(v);
	jv_free(a);
	jv_free(cond);
	return ok;
}

/* isIncludedInRollout for a force rule (borrowed). */
static int
in_rollout(jv rule, const char *fkey, const char *id, size_t idlen,
    enum gb_unicode mode)
{
	jv cov = get(rule, "coverage"), rng = get(rule, "range");
	jv seed = get(rule, "seed"), hv = get(rule, "hashVersion");
	struct gb_range r1[64];
	const char *sd = fkey;
	double h = -1;
	int in, ver = 1;

	if (jv_get_kind(hv) == JV_KIND_NUMBER && jv_number_value(hv) != 0)
		ver = (int)jv_number_value(hv);
	if (jv_get_kind(seed) == JV_KIND_STRING &&
	    jv_string_length_bytes(jv_copy(seed)) > 0)
		sd = jv_string_value(seed);
	if (!jv_is_valid(rng) && !jv_is_valid(cov))
		in = 1;
	else if (!jv_is_valid(rng) && jv_number_value(cov) == 0)
		in = 0;
	else if (id == NULL || (h = gb_hash(sd, strlen(sd), id, idlen, ver,
	    mode)) < 0)
		in = 0;
	else if (jv_is_valid(rng)) {
		jv one = JV_ARRAY(jv_copy(rng));

		in = ranges_of(one, r1) == 1 && gb_in_range(h, &r1[0]);
		jv_free(one);
	} else
		in = h <= jv_number_value(cov);	/* rollouts are inclusive */
	jv_free(cov);
	jv_free(rng);
	jv_free(seed);
	jv_free(hv);
	return in;
}

/* meta[i].key || String(i), the SDK's variation key. */
static jv
variation_key(jv rule, int i)
{
	jv meta = get(rule, "meta"), m, k;

	if (jv_get_kind(meta) == JV_KIND_ARRAY &&
	    i < jv_array_length(jv_copy(meta))) {
		m = at(meta, i);
		k = get(m, "key");
		jv_free(m);
		if (jv_get_kind(k) == JV_KIND_STRING) {
			jv_free(meta);
			return k;
		}
		jv_free(k);
	}
	jv_free(meta);
	return jv_string_fmt("%d", i);
}

/* meta[i].passthrough is true. */
static int
passthrough(jv rule, int i)
{
	jv meta = get(rule, "meta"), m = jv_invalid(), p = jv_invalid();
	int yes;

	if (jv_get_kind(meta) == JV_KIND_ARRAY &&
	    i < jv_array_length(jv_copy(meta))) {
		m = at(meta, i);
		p = get(m, "passthrough");
	}
	yes = jv_get_kind(p) == JV_KIND_TRUE;
	jv_free(meta);
	jv_free(m);
	jv_free(p);
	return yes;
}

/*
 * evalFeature over force and experiment rules.  Returns 0 when the case
 * needs what is not implemented (the caller skips it).
 */
static int
eval_feature(struct tally *t, jv ctx, const char *fkey, struct feat_res *fr)
{
	struct gb_parse_opts po = { 1, 0, fkey, "id", GB_UTF16 };
	struct ctx_attrs c = { jv_null(), "", NULL };
	struct gb_lookup lk = { ctx_get, &c };
	struct gb_experiment e;
	struct gb_filter *f;
	jv feat, rules, rule, ha, def;
	char id[256], *err;
	size_t idlen = 0;
	int i, n, hasid, cond, pass, nf, ok = 1;

	po.mode = t->mode;
	fr->value = jv_null();
	fr->source = "unknownFeature";
	fr->rule_id = jv_string("");
	fr->has_exp = 0;
	if (!only_fields(ctx, feature_ctx_fields))
		return 0;
	feat = get(ctx, "features");
	feat = jv_get_kind(feat) == JV_KIND_OBJECT ? jv_object_get(feat,
	    jv_string(fkey)) : (jv_free(feat), jv_invalid());
	if (jv_get_kind(feat) != JV_KIND_OBJECT) {
		jv_free(feat);
		return 1;
	}
	jv_free(c.attrs);
	c.attrs = get(ctx, "attributes");
	rules = get(feat, "rules");
	n = jv_get_kind(rules) == JV_KIND_ARRAY ?
	    jv_array_length(jv_copy(rules)) : 0;
	for (i = 0; i < n; i++) {
		rule = at(rules, i);
		if (!only_fields(rule, rule_fields) ||
		    (cond = condition_holds(get(rule, "condition"), &c)) < 0) {
			jv_free(rule);
			ok = 0;
			break;
		}
		ha = get(rule, "hashAttribute");
		hasid = ctx_id(&c, jv_get_kind(ha) == JV_KIND_STRING ?
		    jv_string_value(ha) : "id", id, &idlen);
		jv_free(ha);
		pass = 1;
		def = get(rule, "filters");
		if (jv_get_kind(def) == JV_KIND_ARRAY) {
			if (!gb_filters_parse(def, &po, &f, &nf, &err)) {
				free(err);
				jv_free(rule);
				ok = 0;
				break;
			}
			pass = gb_filters_pass(f, nf, hasid ? id : NULL,
			    hasid ? idlen : 0, &lk, t->mode);
			gb_filters_free(f, nf);
		} else
			jv_free(def);
		if (!pass || !cond) {
			jv_free(rule);
			continue;
		}
		if (jv_object_has(jv_copy(rule), jv_string("force"))) {
			if (!in_rollout(rule, fkey, hasid ? id : NULL, idlen,
			    t->mode)) {
				jv_free(rule);
				continue;
			}
			jv_free(fr->value);
			jv_free(fr->rule_id);
			fr->value = get(rule, "force");
			fr->source = "force";
			fr->rule_id = get(rule, "id");
			if (jv_get_kind(fr->rule_id) != JV_KIND_STRING) {
				jv_free(fr->rule_id);
				fr->rule_id = jv_string("");
			}
			jv_free(rule);
			goto out;
		}
		if (!jv_object_has(jv_copy(rule), jv_string("variations"))) {
			jv_free(rule);
			continue;
		}
		/* The rule as an experiment keyed rule.key || the feature. */
		def = jv_object_delete(jv_object_delete(jv_object_delete(
		    jv_object_delete(jv_copy(rule), jv_string("id")),
		    jv_string("force")), jv_string("range")),
		    jv_string("condition"));
		if (!gb_exp_parse(&e, def, &po, &err)) {
			free(err);
			jv_free(rule);
			ok = 0;
			break;
		}
		gb_exp_run(&e, hasid ? id : NULL, hasid ? idlen : 0, &lk,
		    &fr->r);
		if (fr->r.variation >= 0 && passthrough(rule,
		    fr->r.variation)) {
			/* A holdout's passthrough arm: on to the next rule. */
			gb_exp_free(&e);
			jv_free(rule);
			continue;
		}
		if (fr->r.variation >= 0) {
			jv_free(fr->value);
			jv_free(fr->rule_id);
			fr->value = at(e.variations, fr->r.variation);
			fr->source = "experiment";
			fr->rule_id = get(rule, "id");
			if (jv_get_kind(fr->rule_id) != JV_KIND_STRING) {
				jv_free(fr->rule_id);
				fr->rule_id = jv_string("");
			}
			fr->has_exp = 1;
			fr->hash_attr = jv_string(e.hash_attribute);
			fr->hash_value = get(c.attrs, e.hash_attribute);
			fr->key = variation_key(rule, fr->r.variation);
			gb_exp_free(&e);
			jv_free(rule);
			goto out;
		}
		gb_exp_free(&e);
		jv_free(rule);
	}
	jv_free(fr->value);
	fr->value = get(feat, "defaultValue");
	if (!jv_is_valid(fr->value))
		fr->value = jv_null();
	fr->source = "defaultValue";
out:
	jv_free(rules);
	jv_free(feat);
	jv_free(c.attrs);
	free(c.str);
	return ok;
}

/* want[k] is absent or equal to got (consumed). */
static int
same_if_given(jv want, const char *k, jv got)
{
	jv w = get(want, k);
	int ok = !jv_is_valid(w) || jv_equal(jv_copy(w), jv_copy(got));

	jv_free(w);
	jv_free(got);
	return ok;
}

/* feature: [name, context, featureKey, FeatureResult] */
static void
check_feature(struct tally *t, jv rows)
{
	struct feat_res fr;
	int i, n = jv_array_length(jv_copy(rows)), ok;

	for (i = 0; i < n; i++) {
		jv row = at(rows, i), name = at(row, 0), ctx = at(row, 1);
		jv key = at(row, 2), want = at(row, 3), we;
		char *got;

		if (!eval_feature(t, ctx, str_or_empty(key), &fr)) {
			t->skip++;
			jv_free(fr.value);
			jv_free(fr.rule_id);
			goto next;
		}
		ok = same_if_given(want, "value", jv_copy(fr.value)) &&
		    same_if_given(want, "on", jv_bool(truthy(fr.value))) &&
		    same_if_given(want, "off", jv_bool(!truthy(fr.value))) &&
		    same_if_given(want, "source", jv_string(fr.source)) &&
		    same_if_given(want, "ruleId", jv_copy(fr.rule_id));
		we = get(want, "experimentResult");
		if (jv_is_valid(we) != fr.has_exp)
			ok = 0;
		else if (fr.has_exp)
			ok = ok && same_if_given(we, "variationId",
			    jv_number(fr.r.variation)) &&
			    same_if_given(we, "inExperiment", jv_true()) &&
			    same_if_given(we, "hashUsed", jv_true()) &&
			    same_if_given(we, "bucket", jv_number(fr.r.bucket)) &&
			    same_if_given(we, "hashAttribute",
			    jv_copy(fr.hash_attr)) &&
			    same_if_given(we, "hashValue",
			    jv_copy(fr.hash_value)) &&
			    same_if_given(we, "key", jv_copy(fr.key)) &&
			    same_if_given(we, "value", jv_copy(fr.value));
		jv_free(we);
		got = xasprintf("%s %s", fr.source, jv_string_value(fr.rule_id));
		result(t, ok, "feature", name, got);
		free(got);
		jv_free(fr.value);
		jv_free(fr.rule_id);
		if (fr.has_exp) {
			jv_free(fr.hash_attr);
			jv_free(fr.hash_value);
			jv_free(fr.key);
		}
next:
		jv_free(name);
		jv_free(ctx);
		jv_free(key);
		jv_free(want);
		jv_free(row);
	}
}

/*
 * experiments + assignments (the ASIN vectors made with the npm SDK):
 * [experimentKey, id, bucket|null, variationId|-1, inExperiment].
 * Consumes exps.
 */
static void
check_assignments(struct tally *t, jv exps, jv rows)
{
	struct gb_parse_opts po = { 1, 0, NULL, "id", GB_UTF16 };
	struct gb_experiment *e;
	struct gb_result r;
	char *err, got[96];
	int i, j, ne = jv_array_length(jv_copy(exps)), ok;
	int n = jv_array_length(jv_copy(rows));

	po.mode = t->mode;
	e = xcalloc(ne > 0 ? (size_t)ne : 1, sizeof(*e));
	for (j = 0; j < ne; j++)
		if (!gb_exp_parse(&e[j], at(exps, j), &po, &err)) {
			printf("FAIL %s: experiments[%d]: %s\n", t->file, j, err);
			t->fail++;
			free(err);
		}
	for (i = 0; i < n; i++) {
		jv row = at(rows, i), key = at(row, 0), id = at(row, 1);
		jv wb = at(row, 2), wv = at(row, 3), win = at(row, 4), name;

		for (j = 0; j < ne; j++)
			if (e[j].key != NULL &&
			    strcmp(e[j].key, str_or_empty(key)) == 0)
				break;
		name = jv_string_fmt("%s %s", str_or_empty(key),
		    str_or_empty(id));
		if (j == ne) {
			result(t, 0, "assignments", name, "no such experiment");
		} else {
			gb_exp_run(&e[j], str_or_empty(id),
			    strlen(str_or_empty(id)), NULL, &r);
			ok = r.variation == (int)jv_number_value(wv) &&
			    (r.variation >= 0) == (jv_get_kind(win) ==
			    JV_KIND_TRUE) && (r.variation < 0 ||
			    r.bucket == jv_number_value(wb));
			snprintf(got, sizeof(got), "variation %d bucket %.17g",
			    r.variation, r.bucket);
			result(t, ok, "assignments", name, got);
		}
		jv_free(name);
		jv_free(key);
		jv_free(id);
		jv_free(wb);
		jv_free(wv);
		jv_free(win);
		jv_free(row);
	}
	for (j = 0; j < ne; j++)
		gb_exp_free(&e[j]);
	free(e);
	jv_free(exps);
}

/* One section by name (v consumed); unknown sections are skipped. */
static void
check_section(struct tally *t, const char *name, jv v, jv whole)
{
	if (jv_get_kind(v) != JV_KIND_ARRAY) {
		jv_free(v);
		return;
	}
	if (strcmp(name, "hash") == 0 || strcmp(name, "unicodeHash") == 0)
		check_hash(t, v, name);
	else if (strcmp(name, "getBucketRange") == 0)
		check_ranges(t, v);
	else if (strcmp(name, "chooseVariation") == 0)
		check_choose(t, v);
	else if (strcmp(name, "inNamespace") == 0)
		check_namespace(t, v);
	else if (strcmp(name, "getEqualWeights") == 0)
		check_weights(t, v);
	else if (strcmp(name, "run") == 0)
		check_run(t, v);
	else if (strcmp(name, "feature") == 0)
		check_feature(t, v);
	else if (strcmp(name, "assignments") == 0)
		check_assignments(t, get(whole, "experiments"), v);
	else if (strcmp(name, "experiments") != 0)
		t->skip += jv_array_length(jv_copy(v));
	jv_free(v);
}

/* The section a per-section file holds, from its base name. */
static char *
section_of(const char *path)
{
	const char *base = strrchr(path, '/');
	char *s, *dash, *dot;

	s = xstrdup(base ? base + 1 : path);
	if ((dot = strrchr(s, '.')) != NULL)
		*dot = '\0';
	/* run-assignment-subset.json holds "run" cases. */
	if ((dash = strchr(s, '-')) != NULL)
		*dash = '\0';
	return s;
}

static void
check_file(struct tally *t, const char *path)
{
	jv all = jv_load_file(path, 0), v, msg;
	char *sec;
	int it;

	if (!jv_is_valid(all)) {
		msg = jv_invalid_get_msg(all);
		die("%s: %s", path, jv_get_kind(msg) == JV_KIND_STRING ?
		    jv_string_value(msg) : "cannot read");
	}
	if (jv_array_length(jv_copy(all)) != 1)
		die("%s: expected one JSON value", path);
	v = jv_array_get(all, 0);
	if (jv_get_kind(v) == JV_KIND_OBJECT) {
		for (it = jv_object_iter(v); jv_object_iter_valid(v, it);
		    it = jv_object_iter_next(v, it)) {
			jv k = jv_object_iter_key(v, it);

			check_section(t, jv_string_value(k),
			    jv_object_iter_value(v, it), v);
			jv_free(k);
		}
	} else if (jv_get_kind(v) == JV_KIND_ARRAY) {
		sec = section_of(path);
		check_section(t, sec, jv_copy(v), jv_null());
		free(sec);
	} else
		die("%s: expected a JSON object or array", path);
	jv_free(v);
}

int
split_check(char **paths, int n, enum gb_unicode mode, int verbose)
{
	struct tally all = { 0, 0, 0, verbose, mode, NULL }, t;
	int i;

	for (i = 0; i < n; i++) {
		t = all;
		t.pass = t.fail = t.skip = 0;
		t.file = paths[i];
		check_file(&t, paths[i]);
		printf("%s: %ld passed, %ld failed, %ld skipped\n", paths[i],
		    t.pass, t.fail, t.skip);
		all.pass += t.pass;
		all.fail += t.fail;
		all.skip += t.skip;
	}
	printf("%ld passed, %ld failed, %ld skipped\n", all.pass, all.fail,
	    all.skip);
	if (fflush(stdout) != 0 || ferror(stdout))
		die("<stdout>: write error:");
	return all.fail == 0 && all.pass > 0 ? EXIT_OK : EXIT_FAIL;
}
