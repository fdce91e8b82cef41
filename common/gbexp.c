/*
 * gbexp.c - GrowthBook experiment definitions and runExperiment's
 * assignment path (see gbexp.h).  The lenient reading reproduces what the
 * SDK does with odd definitions, for the conformance vectors; the strict
 * one turns each silent fix-up into an error, for definitions a user
 * writes.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "asin.h"
#include "gbexp.h"

static const char *const exp_fields[] = {
	"key", "variations", "weights", "coverage", "seed", "hashVersion",
	"hashAttribute", "ranges", "namespace", "filters", "active", "meta",
	"name", "condition", NULL
};
static const char *const filter_fields[] = {
	"seed", "ranges", "attribute", "hashVersion", NULL
};

/* obj[k] (borrows obj); jv_invalid() when absent. */
static jv
get(jv obj, const char *k)
{
	return jv_object_get(jv_copy(obj), jv_string(k));
}

static int
is_kind(jv v, jv_kind k)
{
	return jv_get_kind(v) == k;
}

/* Strict mode: every member of obj must be in names. */
static char *
unknown_field(jv obj, const char *const *names, const char *what)
{
	char *msg = NULL;
	const char *const *p;
	int it;

	for (it = jv_object_iter(obj); jv_object_iter_valid(obj, it) &&
	    msg == NULL; it = jv_object_iter_next(obj, it)) {
		jv k = jv_object_iter_key(obj, it);

		for (p = names; *p != NULL; p++)
			if (strcmp(*p, jv_string_value(k)) == 0)
				break;
		if (*p == NULL)
			msg = xasprintf("%s: unknown field \"%s\"", what,
			    jv_string_value(k));
		jv_free(k);
	}
	return msg;
}

/*
 * A [[lo, hi], ...] array (borrowed) into a fresh range array; NULL with
 * *err set when it is not one.
 */
static struct gb_range *
parse_ranges(jv arr, int *n, const char *what, char **err)
{
	struct gb_range *r;
	int i, len;

	if (!is_kind(arr, JV_KIND_ARRAY)) {
		*err = xasprintf("%s: ranges: expected an array", what);
		return NULL;
	}
	len = jv_array_length(jv_copy(arr));
	r = xcalloc(len > 0 ? (size_t)len : 1, sizeof(*r));
	for (i = 0; i < len; i++) {
		jv p = jv_array_get(jv_copy(arr), i);
		jv lo, hi;

		if (!is_kind(p, JV_KIND_ARRAY) ||
		    jv_array_length(jv_copy(p)) != 2) {
			jv_free(p);
			goto bad;
		}
		lo = jv_array_get(jv_copy(p), 0);
		hi = jv_array_get(p, 1);
		if (!is_kind(lo, JV_KIND_NUMBER) ||
		    !is_kind(hi, JV_KIND_NUMBER)) {
			jv_free(lo);
			jv_free(hi);
			goto bad;
		}
		r[i].lo = jv_number_value(lo);
		r[i].hi = jv_number_value(hi);
		jv_free(lo);
		jv_free(hi);
	}
	*n = len;
	return r;
bad:
	free(r);
	*err = xasprintf("%s: ranges: expected [[start, end], ...]", what);
	return NULL;
}

static int
check_ranges_strict(const struct gb_range *r, int n, const char *what,
    char **err)
{
	int i;

	for (i = 0; i < n; i++)
		if (!(r[i].lo >= 0 && r[i].lo <= r[i].hi && r[i].hi <= 1)) {
			*err = xasprintf("%s: range %d: expected 0 <= start "
			    "<= end <= 1", what, i + 1);
			return 0;
		}
	return 1;
}

/*
 * Variant ranges that share buckets: a bucket in two goes to the first,
 * so the second variant silently gets less traffic than its range says.
 */
static int
check_ranges_disjoint(const struct gb_range *r, int n, const char *what,
    char **err)
{
	int i, j;

	for (i = 0; i < n; i++)
		for (j = 0; j < i; j++)
			if (r[j].lo < r[i].hi && r[i].lo < r[j].hi) {
				*err = xasprintf("%s: ranges %d and %d overlap",
				    what, j + 1, i + 1);
				return 0;
			}
	return 1;
}

static int
parse_version(jv v, const struct gb_parse_opts *o, int dflt, int *out,
    const char *what, char **err)
{
	double d;

	if (!jv_is_valid(v) || is_kind(v, JV_KIND_NULL)) {
		jv_free(v);
		*out = dflt;
		return 1;
	}
	if (!is_kind(v, JV_KIND_NUMBER)) {
		jv_free(v);
		*err = xasprintf("%s: hashVersion: expected a number", what);
		return 0;
	}
	d = jv_number_value(v);
	jv_free(v);
	/* The SDK reads 0 as "unset" (hashVersion || default). */
	if (d == 0)
		d = dflt;
	if (o->strict && d != 1 && d != 2) {
		*err = xasprintf("%s: hashVersion: expected 1 or 2", what);
		return 0;
	}
	*out = d == 1 || d == 2 ? (int)d : -1;
	return 1;
}

int
gb_filters_parse(jv arr, const struct gb_parse_opts *o,
    struct gb_filter **out, int *n, char **err)
{
	struct gb_filter *f;
	int i, len;

	*err = NULL;
	if (!is_kind(arr, JV_KIND_ARRAY)) {
		jv_free(arr);
		*err = xstrdup("filters: expected an array");
		return 0;
	}
	len = jv_array_length(jv_copy(arr));
	f = xcalloc(len > 0 ? (size_t)len : 1, sizeof(*f));
	for (i = 0; i < len && *err == NULL; i++) {
		jv fo = jv_array_get(jv_copy(arr), i);
		jv seed, attr, ranges;

		if (!is_kind(fo, JV_KIND_OBJECT)) {
			jv_free(fo);
			*err = xasprintf("filter %d: expected an object", i + 1);
			break;
		}
		if (o->strict)
			*err = unknown_field(fo, filter_fields, "filter");
		seed = get(fo, "seed");
		attr = get(fo, "attribute");
		ranges = get(fo, "ranges");
		if (*err != NULL)
			;
		else if (!is_kind(seed, JV_KIND_STRING))
			*err = xasprintf("filter %d: seed: expected a string",
			    i + 1);
		else if (jv_is_valid(attr) && !is_kind(attr, JV_KIND_NULL) &&
		    !is_kind(attr, JV_KIND_STRING))
			*err = xasprintf("filter %d: attribute: expected a "
			    "string", i + 1);
		else if (parse_version(get(fo, "hashVersion"), o, 2,
		    &f[i].hash_version, "filter", err) &&
		    (f[i].ranges = parse_ranges(ranges, &f[i].nranges,
		    "filter", err)) != NULL &&
		    (!o->strict || check_ranges_strict(f[i].ranges,
		    f[i].nranges, "filter", err))) {
			f[i].seed = xstrdup(jv_string_value(seed));
			if (is_kind(attr, JV_KIND_STRING))
				f[i].attribute = xstrdup(jv_string_value(attr));
		}
		jv_free(seed);
		jv_free(attr);
		jv_free(ranges);
		jv_free(fo);
	}
	jv_free(arr);
	if (*err != NULL) {
		gb_filters_free(f, len);
		return 0;
	}
	*out = f;
	*n = len;
	return 1;
}

void
gb_filters_free(struct gb_filter *f, int n)
{
	int i;

	if (f == NULL)
		return;
	for (i = 0; i < n; i++) {
		free(f[i].attribute);
		free(f[i].seed);
		free(f[i].ranges);
	}
	free(f);
}

int
gb_filters_pass(const struct gb_filter *f, int n, const char *id,
    size_t idlen, const struct gb_lookup *lk, enum gb_unicode mode)
{
	const char *v;
	size_t vlen;
	double h;
	int i, j, hit;

	for (i = 0; i < n; i++) {
		if (f[i].attribute == NULL) {
			v = id;
			vlen = idlen;
		} else if (lk == NULL || !lk->get(lk->ctx, f[i].attribute, &v,
		    &vlen))
			return 0;
		if (v == NULL || vlen == 0)
			return 0;
		h = gb_hash(f[i].seed, strlen(f[i].seed), v, vlen,
		    f[i].hash_version, mode);
		if (h < 0)
			return 0;
		for (hit = 0, j = 0; j < f[i].nranges && !hit; j++)
			hit = gb_in_range(h, &f[i].ranges[j]);
		if (!hit)
			return 0;
	}
	return 1;
}

/* The variant name of variation i: meta[i].key, a string or integer
 * value, else the index. */
static char *
variant_name(jv variations, jv meta, int i)
{
	char num[24];
	jv v, m, k;
	char *s = NULL;

	if (is_kind(meta, JV_KIND_ARRAY) && i < jv_array_length(jv_copy(meta))) {
		m = jv_array_get(jv_copy(meta), i);
		if (is_kind(m, JV_KIND_OBJECT)) {
			k = get(m, "key");
			if (is_kind(k, JV_KIND_STRING))
				s = xstrdup(jv_string_value(k));
			jv_free(k);
		}
		jv_free(m);
		if (s != NULL)
			return s;
	}
	v = jv_array_get(jv_copy(variations), i);
	if (is_kind(v, JV_KIND_STRING))
		s = xstrdup(jv_string_value(v));
	else if (is_kind(v, JV_KIND_NUMBER) &&
	    jv_number_value(v) == trunc(jv_number_value(v)) &&
	    fabs(jv_number_value(v)) < 9007199254740992.0) {
		gb_int_string(num, (long long)jv_number_value(v));
		s = xstrdup(num);
	}
	jv_free(v);
	if (s == NULL) {
		gb_int_string(num, i);
		s = xstrdup(num);
	}
	return s;
}

/* key, seed, hashAttribute: optional strings (borrowed def). */
static int
opt_string(jv def, const char *k, const char *dflt, char **out,
    const char *what, char **err)
{
	jv v = get(def, k);

	if (is_kind(v, JV_KIND_STRING) && jv_string_length_bytes(jv_copy(v)) > 0)
		*out = xstrdup(jv_string_value(v));
	else if (!jv_is_valid(v) || is_kind(v, JV_KIND_NULL) ||
	    is_kind(v, JV_KIND_STRING))
		*out = dflt != NULL ? xstrdup(dflt) : NULL;
	else {
		jv_free(v);
		*err = xasprintf("%s: %s: expected a string", what, k);
		return 0;
	}
	jv_free(v);
	return 1;
}

static int
parse_weights(struct gb_experiment *e, jv def, const struct gb_parse_opts *o,
    const char *what, char **err)
{
	jv w = get(def, "weights"), c = get(def, "coverage");
	double *given = NULL, total = 0;
	int i, n = 0, ok = 1;

	e->coverage = 1;
	if (is_kind(c, JV_KIND_NUMBER)) {
		e->coverage = jv_number_value(c);
		if (o->strict && !(e->coverage >= 0 && e->coverage <= 1)) {
			*err = xasprintf("%s: coverage: expected a number "
			    "from 0 to 1", what);
			ok = 0;
		}
	} else if (jv_is_valid(c) && !is_kind(c, JV_KIND_NULL)) {
		*err = xasprintf("%s: coverage: expected a number", what);
		ok = 0;
	}
	if (ok && is_kind(w, JV_KIND_ARRAY)) {
		n = jv_array_length(jv_copy(w));
		given = xcalloc(n > 0 ? (size_t)n : 1, sizeof(*given));
		for (i = 0; i < n && ok; i++) {
			jv x = jv_array_get(jv_copy(w), i);

			if (!is_kind(x, JV_KIND_NUMBER)) {
				*err = xasprintf("%s: weights: expected "
				    "numbers", what);
				ok = 0;
			} else
				given[i] = jv_number_value(x);
			total = total + (ok ? given[i] : 0);
			jv_free(x);
		}
		if (ok && o->strict && n != e->nvar) {
			*err = xasprintf("%s: %d weights for %d variations",
			    what, n, e->nvar);
			ok = 0;
		}
		if (ok && o->strict && (total < 0.99 || total > 1.01)) {
			*err = xasprintf("%s: weights sum to %g, not 1 (the "
			    "SDK would use equal weights)", what, total);
			ok = 0;
		}
		for (i = 0; i < n && ok && o->strict; i++)
			if (given[i] < 0) {
				*err = xasprintf("%s: weights: expected "
				    "numbers >= 0", what);
				ok = 0;
			}
	} else if (ok && jv_is_valid(w) && !is_kind(w, JV_KIND_NULL)) {
		*err = xasprintf("%s: weights: expected an array", what);
		ok = 0;
	}
	jv_free(w);
	jv_free(c);
	if (ok && e->nvar > 0) {
		e->ranges = xcalloc((size_t)e->nvar, sizeof(*e->ranges));
		gb_bucket_ranges(e->nvar, e->coverage, given, given ? n : 0,
		    e->ranges);
		/* Record the weights the ranges were built from. */
		e->weights = xcalloc((size_t)e->nvar, sizeof(*e->weights));
		if (given != NULL && n == e->nvar && total >= 0.99 &&
		    total <= 1.01)
			memcpy(e->weights, given, (size_t)n * sizeof(*given));
		else
			gb_equal_weights(e->nvar, e->weights);
	}
	free(given);
	return ok;
}

static int
parse_namespace(struct gb_experiment *e, jv ns, const struct gb_parse_opts *o,
    const char *what, char **err)
{
	jv id, lo, hi;
	int ok;

	if (!jv_is_valid(ns) || is_kind(ns, JV_KIND_NULL)) {
		jv_free(ns);
		return 1;
	}
	if (!is_kind(ns, JV_KIND_ARRAY) || jv_array_length(jv_copy(ns)) != 3) {
		jv_free(ns);
		*err = xasprintf("%s: namespace: expected [id, start, end]",
		    what);
		return 0;
	}
	id = jv_array_get(jv_copy(ns), 0);
	lo = jv_array_get(jv_copy(ns), 1);
	hi = jv_array_get(ns, 2);
	ok = is_kind(id, JV_KIND_STRING) && is_kind(lo, JV_KIND_NUMBER) &&
	    is_kind(hi, JV_KIND_NUMBER);
	if (ok) {
		e->has_namespace = 1;
		e->ns_id = xstrdup(jv_string_value(id));
		e->ns_lo = jv_number_value(lo);
		e->ns_hi = jv_number_value(hi);
		if (o->strict && !(e->ns_lo >= 0 && e->ns_lo <= e->ns_hi &&
		    e->ns_hi <= 1)) {
			*err = xasprintf("%s: namespace: expected 0 <= start "
			    "<= end <= 1", what);
			ok = 0;
		}
	} else
		*err = xasprintf("%s: namespace: expected [id, start, end]",
		    what);
	jv_free(id);
	jv_free(lo);
	jv_free(hi);
	return ok;
}

/* condition: only {"attr": "value"}, what one rule per category needs. */
static int
parse_condition(struct gb_experiment *e, jv c, const char *what, char **err)
{
	int it, ok = 0;

	if (!jv_is_valid(c) || is_kind(c, JV_KIND_NULL)) {
		jv_free(c);
		return 1;
	}
	if (is_kind(c, JV_KIND_OBJECT) && jv_object_length(jv_copy(c)) == 1) {
		it = jv_object_iter(c);
		jv k = jv_object_iter_key(c, it);
		jv v = jv_object_iter_value(c, it);

		if (is_kind(v, JV_KIND_STRING)) {
			e->cond_attr = xstrdup(jv_string_value(k));
			e->cond_value = xstrdup(jv_string_value(v));
			ok = 1;
		}
		jv_free(k);
		jv_free(v);
	}
	jv_free(c);
	if (!ok)
		*err = xasprintf("%s: condition: only {\"attribute\": "
		    "\"value\"} is supported", what);
	return ok;
}

int
gb_exp_parse(struct gb_experiment *e, jv def, const struct gb_parse_opts *o,
    char **err)
{
	char *what = NULL;
	jv v;
	int i, ok = 1;

	memset(e, 0, sizeof(*e));
	e->variations = jv_null();
	e->mode = o->mode;
	*err = NULL;
	if (!is_kind(def, JV_KIND_OBJECT)) {
		jv_free(def);
		*err = xstrdup("experiment: expected a JSON object");
		return 0;
	}
	if (!opt_string(def, "key", o->default_key, &e->key, "experiment",
	    err))
		goto fail;
	if (e->key == NULL) {
		*err = xstrdup("experiment: key: missing");
		goto fail;
	}
	what = xasprintf("experiment \"%s\"", e->key);
	if (o->strict && (*err = unknown_field(def, exp_fields, what)) != NULL)
		goto fail;
	if (!opt_string(def, "seed", e->key, &e->seed, what, err) ||
	    !opt_string(def, "hashAttribute", o->default_attr ?
	    o->default_attr : "id", &e->hash_attribute, what, err) ||
	    !parse_version(get(def, "hashVersion"), o, o->default_version,
	    &e->hash_version, what, err))
		goto fail;
	v = get(def, "active");
	e->active = !is_kind(v, JV_KIND_FALSE);
	jv_free(v);
	e->variations = get(def, "variations");
	if (!is_kind(e->variations, JV_KIND_ARRAY)) {
		*err = xasprintf("%s: variations: expected an array", what);
		goto fail;
	}
	e->nvar = jv_array_length(jv_copy(e->variations));
	if (o->strict && e->nvar < 2) {
		*err = xasprintf("%s: variations: expected at least 2", what);
		goto fail;
	}
	v = get(def, "meta");
	e->names = xcalloc((size_t)e->nvar + 1, sizeof(*e->names));
	for (i = 0; i < e->nvar; i++)
		e->names[i] = variant_name(e->variations, v, i);
	jv_free(v);
	/* Two arms of one name cannot be told apart downstream. */
	for (i = 0; i < e->nvar && o->strict; i++)
		for (int j = 0; j < i; j++)
			if (strcmp(e->names[i], e->names[j]) == 0) {
				*err = xasprintf("%s: variations: \"%s\" "
				    "twice", what, e->names[i]);
				goto fail;
			}
	if (!parse_weights(e, def, o, what, err))
		goto fail;
	v = get(def, "ranges");
	if (jv_is_valid(v) && !is_kind(v, JV_KIND_NULL)) {
		int nr;
		struct gb_range *r = parse_ranges(v, &nr, what, err);

		if (r == NULL || (o->strict && (nr != e->nvar ||
		    !check_ranges_strict(r, nr, what, err) ||
		    !check_ranges_disjoint(r, nr, what, err)))) {
			if (r != NULL && *err == NULL)
				*err = xasprintf("%s: %d ranges for %d "
				    "variations", what, nr, e->nvar);
			free(r);
			jv_free(v);
			goto fail;
		}
		free(e->ranges);
		e->ranges = r;
		/* The SDK chooses over the given ranges, however many. */
		if (nr < e->nvar)
			e->nvar = nr;
		e->explicit_ranges = 1;
		for (i = 0; i < e->nvar; i++)
			e->weights[i] = r[i].hi - r[i].lo;
	}
	jv_free(v);
	if (!parse_namespace(e, get(def, "namespace"), o, what, err) ||
	    !parse_condition(e, get(def, "condition"), what, err))
		goto fail;
	v = get(def, "filters");
	if (jv_is_valid(v) && !is_kind(v, JV_KIND_NULL)) {
		char *ferr;

		if (!gb_filters_parse(v, o, &e->filters, &e->nfilters,
		    &ferr)) {
			*err = xasprintf("%s: %s", what, ferr);
			free(ferr);
			goto fail;
		}
	} else
		jv_free(v);
	gb_hasher_init(&e->hasher, e->seed, strlen(e->seed), e->hash_version,
	    e->mode);
	free(what);
	jv_free(def);
	return ok;
fail:
	free(what);
	jv_free(def);
	gb_exp_free(e);
	return 0;
}

void
gb_exp_free(struct gb_experiment *e)
{
	int i;

	free(e->key);
	free(e->seed);
	free(e->hash_attribute);
	jv_free(e->variations);
	if (e->names != NULL)
		for (i = 0; e->names[i] != NULL; i++)
			free(e->names[i]);
	free(e->names);
	free(e->weights);
	free(e->ranges);
	free(e->ns_id);
	gb_filters_free(e->filters, e->nfilters);
	free(e->cond_attr);
	free(e->cond_value);
	memset(e, 0, sizeof(*e));
	e->variations = jv_null();
}

void
gb_exp_run(const struct gb_experiment *e, const char *id, size_t idlen,
    const struct gb_lookup *lk, struct gb_result *r)
{
	r->variation = -1;
	r->bucket = -1;
	if (e->nvar < 2 || !e->active) {
		r->why = GB_INACTIVE;
		return;
	}
	if (id == NULL || idlen == 0) {
		r->why = GB_NO_ID;
		return;
	}
	if (e->nfilters > 0) {
		if (!gb_filters_pass(e->filters, e->nfilters, id, idlen, lk,
		    e->mode)) {
			r->why = GB_FILTER;
			return;
		}
	} else if (e->has_namespace && !gb_in_namespace(id, idlen, e->ns_id,
	    strlen(e->ns_id), e->ns_lo, e->ns_hi, e->mode)) {
		r->why = GB_NAMESPACE;
		return;
	}
	r->bucket = gb_hasher_hash(&e->hasher, id, idlen);
	if (r->bucket < 0) {
		r->why = GB_BAD_VERSION;
		return;
	}
	r->variation = gb_choose_variation(r->bucket, e->ranges, e->nvar);
	r->why = r->variation < 0 ? GB_COVERAGE : GB_IN;
}

int
gb_rules_run(const struct gb_experiment *e, int n, const char *id,
    size_t idlen, const struct gb_lookup *lk, struct gb_result *r)
{
	struct gb_result first;
	const char *v;
	size_t vlen;
	int i, matched = 0;

	first.variation = -1;
	first.bucket = -1;
	first.why = GB_NO_RULE;
	for (i = 0; i < n; i++) {
		if (e[i].cond_attr != NULL && (lk == NULL ||
		    !lk->get(lk->ctx, e[i].cond_attr, &v, &vlen) ||
		    vlen != strlen(e[i].cond_value) ||
		    memcmp(v, e[i].cond_value, vlen) != 0))
			continue;
		gb_exp_run(&e[i], id, idlen, lk, r);
		if (r->variation >= 0)
			return i;
		/* Report why the first matching rule let the unit go. */
		if (!matched)
			first = *r;
		matched = 1;
	}
	*r = first;
	return -1;
}

const char *
gb_unicode_name(enum gb_unicode m)
{
	switch (m) {
	case GB_UTF8:
		return "utf8";
	case GB_CODEPOINT:
		return "codepoint";
	default:
		return "utf16";
	}
}

int
gb_unicode_parse(const char *s)
{
	if (strcmp(s, "utf16") == 0)
		return GB_UTF16;
	if (strcmp(s, "utf8") == 0)
		return GB_UTF8;
	if (strcmp(s, "codepoint") == 0)
		return GB_CODEPOINT;
	return -1;
}
