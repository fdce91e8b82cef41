/*
 * regmlflow.c - the registry on an MLflow server through its REST API
 * (registered models, model versions, aliases as the stages, tags for
 * the contract), and asin-rank's runs index pushed to MLflow tracking.
 * MLflow's version create and run create are not idempotent, so both are
 * preceded by a search for the content key the call itself carries as a
 * tag: a retried or rerun register finds its version instead of making a
 * second one.  Promotion writes nothing before the alias moves (the
 * commit point) and only idempotent calls after it, so a rerun converges.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "registry.h"

#define API "/api/2.0/mlflow/"
#define TAG_MAX 5000		/* bytes in a model-registry tag value */
#define SEARCH_PAGE "1000"

struct mlflow {
	const struct mlflow_opts *o;
	struct rest *rc;
};

/* Text from a server, made safe for a one-line message; fresh. */
static char *
safe(const char *s)
{
	char *r = xstrdup(s ? s : ""), *p;

	for (p = r; *p != '\0'; p++)
		if ((unsigned char)*p < 0x20 || *p == 0x7f)
			*p = ' ';
	return r;
}

/* error_code of an MLflow error body (borrowed), or "" */
static const char *
ecode(jv out, char *buf, size_t n)
{
	jv c;

	buf[0] = '\0';
	if (jv_get_kind(out) != JV_KIND_OBJECT)
		return buf;
	c = reg_get(jv_copy(out), jv_string("error_code"));
	if (jv_get_kind(c) == JV_KIND_STRING)
		snprintf(buf, n, "%s", jv_string_value(c));
	jv_free(c);
	return buf;
}

/* "HTTP 400 RESOURCE_ALREADY_EXISTS: message" for a failed call. */
static char *
fail_msg(const char *what, int st, jv out, char *text)
{
	char code[64];
	jv m = jv_get_kind(out) == JV_KIND_OBJECT ? reg_get(jv_copy(out),
	    jv_string("message")) : jv_null();
	char *s, *t;

	ecode(out, code, sizeof code);
	t = safe(jv_get_kind(out) == JV_KIND_OBJECT &&
	    jv_get_kind(m) == JV_KIND_STRING ? jv_string_value(m) : text);
	s = xasprintf("%s: HTTP %d%s%s%s%s", what, st, code[0] ? " " : "",
	    code, t[0] ? ": " : "", t);
	if (st == 401 || st == 403)
		s = (free(s), xasprintf("%s: HTTP %d: %s (check "
		    "MLFLOW_TRACKING_USERNAME/PASSWORD or "
		    "MLFLOW_TRACKING_TOKEN)", what, st, st == 401 ?
		    "not authenticated" : "permission denied"));
	free(t);
	jv_free(m);
	return s;
}

/* A call under API; see rest_call.  what names it in messages. */
static int
call(struct mlflow *m, const char *method, const char *ep, const char *query,
    jv body, int retry, jv *out, char **text, char **err)
{
	char *path = xasprintf(API "%s", ep);
	int st = rest_call(m->rc, method, path, query, body, retry, out, text,
	    err);

	free(path);
	return st;
}

static jv
tag(const char *k, const char *v)
{
	return jv_object_set(jv_object_set(jv_object(), jv_string("key"),
	    jv_string(k)), jv_string("value"), jv_string(v));
}

/* tags[] of an MLflow object (borrowed) as a key -> value object. */
static jv
tag_map(jv obj)
{
	jv tags = reg_get(jv_copy(obj), jv_string("tags")), res =
	    jv_object();
	int i, n;

	if (jv_get_kind(tags) != JV_KIND_ARRAY) {
		jv_free(tags);
		return res;
	}
	n = jv_array_length(jv_copy(tags));
	for (i = 0; i < n; i++) {
		jv t = jv_array_get(jv_copy(tags), i);
		jv k = reg_get(jv_copy(t), jv_string("key"));
		jv v = reg_get(t, jv_string("value"));

		if (jv_get_kind(k) == JV_KIND_STRING &&
		    jv_get_kind(v) == JV_KIND_STRING)
			res = jv_object_set(res, k, v);
		else {
			jv_free(k);
			jv_free(v);
		}
	}
	jv_free(tags);
	return res;
}

static const char *
tget(jv tm, const char *k)
{
	jv v = reg_get(jv_copy(tm), jv_string(k));
	const char *r = jv_get_kind(v) == JV_KIND_STRING ?
	    jv_string_value(v) : NULL;

	jv_free(v);	/* tm still holds the string */
	return r;
}

/* Our version record from an MLflow model_version (consumed). */
static jv
from_mv(jv mv)
{
	jv tm = tag_map(mv), res = jv_object(), x, metrics = jv_object(),
	    names = jv_null();
	const char *s;
	char ts[24];
	struct buf sig;

	x = reg_get(jv_copy(mv), jv_string("name"));
	res = jv_object_set(res, jv_string("name"),
	    jv_get_kind(x) == JV_KIND_STRING ? x : (jv_free(x), jv_null()));
	x = reg_get(jv_copy(mv), jv_string("version"));
	res = jv_object_set(res, jv_string("version"), jv_number(
	    jv_get_kind(x) == JV_KIND_STRING ? strtod(jv_string_value(x),
	    NULL) : jv_get_kind(x) == JV_KIND_NUMBER ? jv_number_value(x) :
	    0));
	jv_free(x);
	x = reg_get(jv_copy(mv), jv_string("creation_timestamp"));
	reg_iso(jv_get_kind(x) == JV_KIND_NUMBER ?
	    (long long)(jv_number_value(x) / 1000) : 0, ts);
	jv_free(x);
	res = jv_object_set(res, jv_string("created_at"), jv_string(ts));
	x = reg_get(jv_copy(mv), jv_string("source"));
	res = jv_object_set(res, jv_string("artifact_uri"),
	    jv_get_kind(x) == JV_KIND_STRING ? x : (jv_free(x), jv_null()));
	if ((s = tget(tm, "asin.metric_names")) != NULL) {
		char *perr = NULL;

		names = json_parse(s, strlen(s), &perr);
		free(perr);
	}
	jv_object_keys_foreach(tm, k) {
		const char *key = jv_string_value(k);

		if (strncmp(key, "asin.metric.", 12) == 0) {
			jv on = jv_get_kind(names) == JV_KIND_OBJECT ?
			    reg_get(jv_copy(names), jv_string(key + 12)) :
			    jv_invalid();
			double d;

			s = tget(tm, key);
			if (parse_double(s, strlen(s), &d))
				metrics = jv_object_set(metrics,
				    jv_get_kind(on) == JV_KIND_STRING ? on :
				    (jv_free(on), jv_string(key + 12)),
				    jv_number(d));
			else
				jv_free(on);
		}
		jv_free(k);
	}
	jv_free(names);
	res = jv_object_set(res, jv_string("metrics"), metrics);
	if ((s = tget(tm, "asin.data_span")) != NULL && strchr(s, ':')) {
		const char *c = strchr(s, ':');

		res = jv_object_set(res, jv_string("data_span"), jv_object_set(
		    jv_object_set(jv_object(), jv_string("from"),
		    jv_string_sized(s, (int)(c - s))), jv_string("to"),
		    jv_string(c + 1)));
	} else
		res = jv_object_set(res, jv_string("data_span"), jv_null());
	s = tget(tm, "asin.feature_version");
	res = jv_object_set(res, jv_string("feature_version"), s ?
	    jv_string(s) : jv_null());
	buf_init(&sig);
	if ((s = tget(tm, "asin.signature.parts")) != NULL) {
		long n = strtol(s, NULL, 10), i;

		for (i = 1; i <= n && i < 1000; i++) {
			char k[40];
			const char *part;

			snprintf(k, sizeof k, "asin.signature.%ld", i);
			if ((part = tget(tm, k)) != NULL)
				buf_adds(&sig, part);
		}
	} else if ((s = tget(tm, "asin.signature")) != NULL)
		buf_adds(&sig, s);
	if (sig.data != NULL) {
		char *perr = NULL;

		x = json_parse(sig.data, sig.len, &perr);
		free(perr);
		res = jv_object_set(res, jv_string("signature"),
		    jv_is_valid(x) ? x : (jv_free(x), jv_null()));
	} else
		res = jv_object_set(res, jv_string("signature"), jv_null());
	buf_free(&sig);
	x = reg_get(jv_copy(mv), jv_string("run_id"));
	res = jv_object_set(res, jv_string("run_id"),
	    jv_get_kind(x) == JV_KIND_STRING && jv_string_length_bytes(
	    jv_copy(x)) > 0 ? x : (jv_free(x), jv_null()));
	x = reg_get(jv_copy(mv), jv_string("description"));
	res = jv_object_set(res, jv_string("description"),
	    jv_get_kind(x) == JV_KIND_STRING && jv_string_length_bytes(
	    jv_copy(x)) > 0 ? x : (jv_free(x), jv_null()));
	s = tget(tm, "asin.content_key");
	res = jv_object_set(res, jv_string("content_key"), s ? jv_string(s) :
	    jv_null());
	s = tget(tm, "asin.registered_by");
	res = jv_object_set(res, jv_string("registered_by"), s ?
	    jv_string(s) : jv_null());
	s = tget(tm, "asin.status");
	res = jv_object_set(res, jv_string("status"), jv_string(s ? s :
	    "active"));
	x = reg_get(mv, jv_string("aliases"));
	res = jv_object_set(res, jv_string("aliases"),
	    jv_get_kind(x) == JV_KIND_ARRAY ? jv_sort(jv_copy(x), x) :
	    (jv_free(x), jv_array()));
	jv_free(tm);
	return res;
}

/* alias -> version of a registered model, from registered-models/get. */
static jv
model_get(struct mlflow *m, const char *name, char **err)
{
	char *q, *en = rest_escape(name), *text = NULL, code[64];
	jv out;
	int st;

	q = xasprintf("name=%s", en);
	free(en);
	st = call(m, "GET", "registered-models/get", q, jv_invalid(), 1, &out,
	    &text, err);
	free(q);
	if (st < 0)
		return jv_invalid();
	if (st == 404 && ecode(out, code, sizeof code)[0] != '\0') {
		jv_free(out);
		free(text);
		return jv_null();
	}
	if (st != 200) {
		*err = fail_msg(name, st, out, text);
		jv_free(out);
		free(text);
		return jv_invalid();
	}
	free(text);
	return reg_get(out, jv_string("registered_model"));
}

static jv
alias_fill(jv rec, jv rm)
{
	jv al = reg_get(jv_copy(rm), jv_string("aliases")), res =
	    jv_array();
	jv ver = reg_get(jv_copy(rec), jv_string("version"));
	int i, n = jv_get_kind(al) == JV_KIND_ARRAY ?
	    jv_array_length(jv_copy(al)) : 0;

	for (i = 0; i < n; i++) {
		jv a = jv_array_get(jv_copy(al), i);
		jv v = reg_get(jv_copy(a), jv_string("version"));

		if (jv_get_kind(v) == JV_KIND_STRING &&
		    strtod(jv_string_value(v), NULL) == jv_number_value(ver))
			res = jv_array_append(res, reg_get(jv_copy(a),
			    jv_string("alias")));
		jv_free(v);
		jv_free(a);
	}
	jv_free(al);
	jv_free(ver);
	jv_free(rm);
	return jv_object_set(rec, jv_string("aliases"), jv_sort(jv_copy(res),
	    res));
}

static int
vcmp(const void *a, const void *b)
{
	const double *x = a, *y = b;

	return (*x > *y) - (*x < *y);
}

/* Every version of name as records, by number; aliases filled in. */
static jv
search_all(struct mlflow *m, const char *name, char **err)
{
	jv res = jv_array(), rm, sorted;
	char *tok = NULL, *text = NULL;
	char *filt, *en, *q;
	double *nums;
	int i, n;

	filt = xasprintf("name='%s'", name);
	en = rest_escape(filt);
	free(filt);
	for (;;) {
		jv out, list, t;
		int st;
		char *et = tok ? rest_escape(tok) : NULL;

		q = xasprintf("filter=%s&max_results=" SEARCH_PAGE "%s%s", en,
		    et ? "&page_token=" : "", et ? et : "");
		free(et);
		st = call(m, "GET", "model-versions/search", q, jv_invalid(),
		    1, &out, &text, err);
		free(q);
		if (st < 0)
			goto fail;
		if (st != 200) {
			*err = fail_msg(name, st, out, text);
			jv_free(out);
			goto fail;
		}
		list = reg_get(jv_copy(out), jv_string("model_versions"));
		n = jv_get_kind(list) == JV_KIND_ARRAY ?
		    jv_array_length(jv_copy(list)) : 0;
		for (i = 0; i < n; i++)
			res = jv_array_append(res, from_mv(jv_array_get(
			    jv_copy(list), i)));
		jv_free(list);
		t = reg_get(out, jv_string("next_page_token"));
		free(tok);
		tok = NULL;
		if (jv_get_kind(t) == JV_KIND_STRING &&
		    jv_string_length_bytes(jv_copy(t)) > 0)
			tok = xstrdup(jv_string_value(t));
		jv_free(t);
		if (tok == NULL)
			break;
	}
	free(en);
	free(text);
	/* sort by version number */
	n = jv_array_length(jv_copy(res));
	nums = xcalloc((size_t)n + 1, sizeof *nums);
	for (i = 0; i < n; i++) {
		jv v = reg_get(jv_array_get(jv_copy(res), i),
		    jv_string("version"));

		nums[i] = jv_number_value(v);
		jv_free(v);
	}
	qsort(nums, (size_t)n, sizeof *nums, vcmp);
	sorted = jv_array();
	for (i = 0; i < n; i++) {
		int j;

		for (j = 0; j < n; j++) {
			jv e = jv_array_get(jv_copy(res), j);
			jv v = reg_get(jv_copy(e), jv_string("version"));

			if (jv_number_value(v) == nums[i] &&
			    (i == 0 || nums[i] != nums[i - 1])) {
				sorted = jv_array_append(sorted, e);
				jv_free(v);
				break;
			}
			jv_free(v);
			jv_free(e);
		}
	}
	free(nums);
	jv_free(res);
	if (jv_array_length(jv_copy(sorted)) == 0)
		return sorted;
	rm = model_get(m, name, err);
	if (!jv_is_valid(rm)) {
		jv_free(sorted);
		return rm;
	}
	n = jv_array_length(jv_copy(sorted));
	for (i = 0; i < n; i++)
		sorted = jv_array_set(sorted, i, alias_fill(jv_array_get(
		    jv_copy(sorted), i), jv_copy(rm)));
	jv_free(rm);
	return sorted;
fail:
	free(en);
	free(tok);
	free(text);
	jv_free(res);
	return jv_invalid();
}

static jv
by_key(jv all, const char *key)
{
	int i, n = jv_array_length(jv_copy(all));

	for (i = 0; i < n; i++) {
		jv e = jv_array_get(jv_copy(all), i);
		jv k = reg_get(jv_copy(e), jv_string("content_key"));

		if (jv_get_kind(k) == JV_KIND_STRING &&
		    strcmp(jv_string_value(k), key) == 0) {
			jv_free(k);
			jv_free(all);
			return e;
		}
		jv_free(k);
		jv_free(e);
	}
	jv_free(all);
	return jv_null();
}

static jv
m_get(void *st, const char *name, const char *ref, char **err)
{
	struct mlflow *m = st;
	char *q, *en = rest_escape(name), *er = rest_escape(ref), *text = NULL;
	char code[64];
	const char *p;
	jv out, mv, rm;
	int s, digits = 1;

	for (p = ref; *p != '\0'; p++)
		digits &= *p >= '0' && *p <= '9';
	if (strcmp(ref, "latest") == 0) {
		jv all = search_all(m, name, err);
		int n;

		free(en);
		free(er);
		if (!jv_is_valid(all))
			return all;
		n = jv_array_length(jv_copy(all));
		return n ? jv_array_get(all, n - 1) : (jv_free(all),
		    jv_null());
	}
	if (digits) {
		q = xasprintf("name=%s&version=%s", en, er);
		s = call(m, "GET", "model-versions/get", q, jv_invalid(), 1,
		    &out, &text, err);
	} else {
		q = xasprintf("name=%s&alias=%s", en, er);
		s = call(m, "GET", "registered-models/alias", q, jv_invalid(),
		    1, &out, &text, err);
	}
	free(q);
	free(en);
	free(er);
	if (s < 0)
		return jv_invalid();
	ecode(out, code, sizeof code);
	if ((s == 404 && code[0] != '\0') || (!digits && s == 400 &&
	    strcmp(code, "INVALID_PARAMETER_VALUE") == 0)) {
		jv_free(out);
		free(text);
		return jv_null();
	}
	if (!digits && s == 404) {
		*err = xasprintf("%s@%s: the server lacks model aliases "
		    "(HTTP 404 on registered-models/alias); MLflow 2.3 or "
		    "later is needed", name, ref);
		jv_free(out);
		free(text);
		return jv_invalid();
	}
	if (s != 200) {
		char *w = xasprintf("%s@%s", name, ref);

		*err = fail_msg(w, s, out, text);
		free(w);
		jv_free(out);
		free(text);
		return jv_invalid();
	}
	free(text);
	mv = from_mv(reg_get(out, jv_string("model_version")));
	rm = model_get(m, name, err);
	if (!jv_is_valid(rm)) {
		jv_free(mv);
		return rm;
	}
	return alias_fill(mv, rm);
}

static jv
m_list(void *st, const char *name, char **err)
{
	return search_all(st, name, err);
}

/* The tags of a new version: the contract and the metrics. */
static jv
version_tags(jv v)
{
	jv tags = jv_array(), x, names = jv_object();
	char *s;
	const char *cs;

	x = reg_get(jv_copy(v), jv_string("content_key"));
	tags = jv_array_append(tags, tag("asin.content_key",
	    jv_string_value(x)));
	jv_free(x);
	x = reg_get(jv_copy(v), jv_string("registered_by"));
	if (jv_get_kind(x) == JV_KIND_STRING)
		tags = jv_array_append(tags, tag("asin.registered_by",
		    jv_string_value(x)));
	jv_free(x);
	x = reg_get(jv_copy(v), jv_string("feature_version"));
	if (jv_get_kind(x) == JV_KIND_STRING)
		tags = jv_array_append(tags, tag("asin.feature_version",
		    jv_string_value(x)));
	jv_free(x);
	x = reg_get(jv_copy(v), jv_string("data_span"));
	if (jv_get_kind(x) == JV_KIND_OBJECT) {
		jv f = reg_get(jv_copy(x), jv_string("from"));
		jv t = reg_get(jv_copy(x), jv_string("to"));

		s = xasprintf("%s:%s", jv_string_value(f), jv_string_value(t));
		tags = jv_array_append(tags, tag("asin.data_span", s));
		free(s);
		jv_free(f);
		jv_free(t);
	}
	jv_free(x);
	x = jv_dump_string(reg_get(jv_copy(v), jv_string("signature")),
	    0);
	cs = jv_string_value(x);
	{
		char sk[48];
		size_t len = strlen(cs), off, part = 0;
		char hex[17];

		content_key(cs, len, hex);
		tags = jv_array_append(tags, tag("asin.signature_key", hex));
		if (len <= TAG_MAX)
			tags = jv_array_append(tags, tag("asin.signature", cs));
		else {
			for (off = 0; off < len; off += TAG_MAX) {
				char *chunk = xstrndup(cs + off, TAG_MAX);

				snprintf(sk, sizeof sk, "asin.signature.%zu",
				    ++part);
				tags = jv_array_append(tags, tag(sk, chunk));
				free(chunk);
			}
			snprintf(sk, sizeof sk, "%zu", part);
			tags = jv_array_append(tags, tag("asin.signature.parts",
			    sk));
		}
	}
	jv_free(x);
	x = reg_get(jv_copy(v), jv_string("metrics"));
	if (jv_get_kind(x) == JV_KIND_OBJECT)
		jv_object_keys_foreach(x, k) {
			char *mn = metric_mlflow_name(jv_string_value(k));
			char *key = xasprintf("asin.metric.%s", mn), nb[40];
			jv val = reg_get(jv_copy(x), jv_copy(k));

			fmt_double(nb, jv_number_value(val));
			tags = jv_array_append(tags, tag(key, nb));
			names = jv_object_set(names, jv_string(mn), k);
			jv_free(val);
			free(key);
			free(mn);
		}
	jv_free(x);
	x = jv_dump_string(names, JV_PRINT_SORTED);
	tags = jv_array_append(tags, tag("asin.metric_names",
	    jv_string_value(x)));
	jv_free(x);
	return tags;
}

static void
pause_s(double s)
{
	struct timespec ts;

	if (s <= 0)
		return;
	ts.tv_sec = (time_t)s;
	ts.tv_nsec = (long)((s - (double)ts.tv_sec) * 1e9);
	nanosleep(&ts, NULL);
}

/* Append a history event (consumed) as a registered-model tag. */
static int
add_history(struct mlflow *m, const char *name, jv ev, char **err)
{
	jv rm = model_get(m, name, err), tm, out, body, s;
	char key[40], *text = NULL;
	int n = 0, st;

	if (!jv_is_valid(rm)) {
		jv_free(ev);
		return -1;
	}
	tm = tag_map(rm);
	jv_free(rm);
	jv_object_keys_foreach(tm, k) {
		if (strncmp(jv_string_value(k), "asin.history.", 13) == 0)
			n++;
		jv_free(k);
	}
	jv_free(tm);
	snprintf(key, sizeof key, "asin.history.%06d", n + 1);
	s = jv_dump_string(ev, 0);
	body = jv_object_set(jv_object_set(jv_object_set(jv_object(),
	    jv_string("name"), jv_string(name)), jv_string("key"),
	    jv_string(key)), jv_string("value"), s);
	st = call(m, "POST", "registered-models/set-tag", NULL, body, 1, &out,
	    &text, err);
	if (st < 0)
		return -1;
	if (st != 200) {
		*err = fail_msg("registered-models/set-tag", st, out, text);
		jv_free(out);
		free(text);
		return -1;
	}
	jv_free(out);
	free(text);
	return 0;
}

/* The history event of a new version; v and res borrowed. */
static int
register_event(struct mlflow *m, const char *name, jv v, jv res, char **err)
{
	jv ev = jv_object();
	char ts[24];

	reg_iso(reg_now(), ts);
	ev = jv_object_set(ev, jv_string("ts"), jv_string(ts));
	ev = jv_object_set(ev, jv_string("action"), jv_string("register"));
	ev = jv_object_set(ev, jv_string("name"), jv_string(name));
	ev = jv_object_set(ev, jv_string("version"), reg_get(
	    jv_copy(res), jv_string("version")));
	ev = jv_object_set(ev, jv_string("by"), reg_get(jv_copy(v),
	    jv_string("registered_by")));
	return add_history(m, name, ev, err);
}

static jv
m_create(void *st, jv v, int *existed, char **err)
{
	struct mlflow *m = st;
	jv out, body, x, res;
	char *text = NULL, code[64], *name, *key;
	int s, tries;

	x = reg_get(jv_copy(v), jv_string("name"));
	name = xstrdup(jv_string_value(x));
	jv_free(x);
	x = reg_get(jv_copy(v), jv_string("content_key"));
	key = xstrdup(jv_string_value(x));
	jv_free(x);
	*existed = 0;
	body = jv_object_set(jv_object(), jv_string("name"), jv_string(name));
	s = call(m, "POST", "registered-models/create", NULL, body, 1, &out,
	    &text, err);
	if (s < 0)
		goto fail;
	if (s != 200 && !((s == 400 || s == 409) && strcmp(ecode(out, code,
	    sizeof code), "RESOURCE_ALREADY_EXISTS") == 0)) {
		*err = fail_msg("registered-models/create", s, out, text);
		jv_free(out);
		goto fail;
	}
	jv_free(out);
	free(text);
	text = NULL;
	for (tries = 0;; tries++) {
		jv all = search_all(m, name, err), found;

		if (!jv_is_valid(all))
			goto fail;
		found = by_key(all, key);
		if (jv_get_kind(found) == JV_KIND_OBJECT && tries == 0) {
			*existed = 1;
			jv_free(v);
			free(name);
			free(key);
			return found;
		}
		if (jv_get_kind(found) == JV_KIND_OBJECT) {
			/* our create went through but its answer was lost */
			if (register_event(m, name, v, found, err) != 0) {
				jv_free(found);
				goto fail;
			}
			jv_free(v);
			free(name);
			free(key);
			return found;
		}
		jv_free(found);
		body = jv_object();
		body = jv_object_set(body, jv_string("name"), jv_string(name));
		body = jv_object_set(body, jv_string("source"), reg_get(
		    jv_copy(v), jv_string("artifact_uri")));
		x = reg_get(jv_copy(v), jv_string("run_id"));
		if (jv_get_kind(x) == JV_KIND_STRING)
			body = jv_object_set(body, jv_string("run_id"), x);
		else
			jv_free(x);
		x = reg_get(jv_copy(v), jv_string("description"));
		if (jv_get_kind(x) == JV_KIND_STRING)
			body = jv_object_set(body, jv_string("description"), x);
		else
			jv_free(x);
		body = jv_object_set(body, jv_string("tags"), version_tags(v));
		/* not retried blindly: a lost answer may hide a new version */
		s = call(m, "POST", "model-versions/create", NULL, body, 0, &out,
		    &text, err);
		if ((s < 0 || s == 408 || s == 429 || s >= 500) &&
		    tries < m->o->rest.max_retries) {
			if (s < 0)
				free(*err);
			else
				jv_free(out);
			free(text);
			text = NULL;
			*err = NULL;
			pause_s(m->o->rest.backoff * pow(2, tries));
			continue;
		}
		if (s < 0)
			goto fail;
		if (s != 200) {
			*err = fail_msg("model-versions/create", s, out, text);
			jv_free(out);
			goto fail;
		}
		break;
	}
	free(text);
	text = NULL;
	x = reg_get(out, jv_string("model_version"));
	/* Some backends answer PENDING_REGISTRATION: poll until READY. */
	for (tries = 0;; tries++) {
		jv stt = reg_get(jv_copy(x), jv_string("status"));
		const char *sv = jv_get_kind(stt) == JV_KIND_STRING ?
		    jv_string_value(stt) : "READY";
		int pending = strcmp(sv, "PENDING_REGISTRATION") == 0;

		if (strcmp(sv, "FAILED_REGISTRATION") == 0) {
			*err = xasprintf("%s: registration failed on the "
			    "server", name);
			jv_free(stt);
			jv_free(x);
			goto fail;
		}
		jv_free(stt);
		if (!pending)
			break;
		if (tries >= 60) {
			*err = xasprintf("%s: version still pending "
			    "registration", name);
			jv_free(x);
			goto fail;
		}
		{
			jv ver = reg_get(jv_copy(x), jv_string("version"));
			char *en = rest_escape(name), *q;

			if (jv_get_kind(ver) != JV_KIND_STRING) {
				*err = xasprintf("%s: model-versions/create: "
				    "no version in the answer", name);
				free(en);
				jv_free(ver);
				jv_free(x);
				goto fail;
			}
			q = xasprintf("name=%s&version=%s", en,
			    jv_string_value(ver));
			free(en);
			jv_free(ver);
			jv_free(x);
			pause_s(tries < 10 ? 0.1 : 1);
			s = call(m, "GET", "model-versions/get", q,
			    jv_invalid(), 1, &out, &text, err);
			free(q);
			if (s < 0)
				goto fail;
			if (s != 200) {
				*err = fail_msg("model-versions/get", s, out,
				    text);
				jv_free(out);
				goto fail;
			}
			free(text);
			text = NULL;
			x = reg_get(out, jv_string("model_version"));
		}
	}
	res = from_mv(x);
	if (register_event(m, name, v, res, err) != 0) {
		jv_free(res);
		goto fail;
	}
	jv_free(v);
	free(name);
	free(key);
	return res;
fail:
	free(text);
	jv_free(v);
	free(name);
	free(key);
	return jv_invalid();
}

/* POST a call whose answer we only check; 0 or -1 with *err. */
static int
post(struct mlflow *m, const char *ep, jv body, char **err)
{
	char *text = NULL;
	jv out;
	int s = call(m, "POST", ep, NULL, body, 1, &out, &text, err);

	if (s < 0)
		return -1;
	if (s != 200) {
		*err = s == 404 && jv_get_kind(out) != JV_KIND_OBJECT ?
		    xasprintf("%s: the server lacks this endpoint (HTTP 404); "
		    "aliases need MLflow 2.3 or later", ep) :
		    fail_msg(ep, s, out, text);
		jv_free(out);
		free(text);
		return -1;
	}
	jv_free(out);
	free(text);
	return 0;
}

static jv
vtag(const char *name, long long version, const char *k, const char *val)
{
	char vs[32];

	snprintf(vs, sizeof vs, "%lld", version);
	return jv_object_set(jv_object_set(jv_object_set(jv_object_set(
	    jv_object(), jv_string("name"), jv_string(name)),
	    jv_string("version"), jv_string(vs)), jv_string("key"),
	    jv_string(k)), jv_string("value"), jv_string(val));
}

static jv
alias_body(const char *name, const char *alias, long long version)
{
	char vs[32];

	snprintf(vs, sizeof vs, "%lld", version);
	return jv_object_set(jv_object_set(jv_object_set(jv_object(),
	    jv_string("name"), jv_string(name)), jv_string("alias"),
	    jv_string(alias)), jv_string("version"), jv_string(vs));
}

static int
m_promote(void *st, const char *name, long long version, const char *stage,
    long long prev, jv event, char **err)
{
	struct mlflow *m = st;
	char ts[24], *palias;
	const char *by;
	jv x, chk;
	int rc = -1;

	reg_iso(reg_now(), ts);
	x = reg_get(jv_copy(event), jv_string("by"));
	by = jv_string_value(x);
	if (post(m, "model-versions/set-tag", vtag(name, version,
	    "asin.promoted_at", ts), err) != 0 ||
	    post(m, "model-versions/set-tag", vtag(name, version,
	    "asin.promoted_by", by), err) != 0)
		goto out;
	/* the commit point */
	if (post(m, "registered-models/alias", alias_body(name, stage,
	    version), err) != 0)
		goto out;
	if (post(m, "model-versions/set-tag", vtag(name, version,
	    "asin.status", "active"), err) != 0)
		goto out;
	if (prev != 0) {
		palias = xasprintf("%s-previous", stage);
		rc = post(m, "registered-models/alias", alias_body(name, palias,
		    prev), err);
		free(palias);
		if (rc != 0 || post(m, "model-versions/set-tag", vtag(name,
		    prev, "asin.status", "archived"), err) != 0 ||
		    post(m, "model-versions/set-tag", vtag(name, prev,
		    "asin.archived_at", ts), err) != 0) {
			rc = -1;
			goto out;
		}
		rc = -1;
	}
	if (m->o->stages) {
		char vs[32];
		jv b = jv_object();

		snprintf(vs, sizeof vs, "%lld", version);
		b = jv_object_set(b, jv_string("name"), jv_string(name));
		b = jv_object_set(b, jv_string("version"), jv_string(vs));
		b = jv_object_set(b, jv_string("stage"), jv_string(
		    strcmp(stage, m->o->alias_production) == 0 ?
		    "Production" : "Staging"));
		b = jv_object_set(b, jv_string("archive_existing_versions"),
		    jv_true());
		if (post(m, "model-versions/transition-stage", b, err) != 0)
			goto out;
	}
	if (add_history(m, name, jv_copy(event), err) != 0)
		goto out;
	/* MLflow has no compare-and-set: check nobody moved it meanwhile */
	{
		char vs[32];

		snprintf(vs, sizeof vs, "%lld", version);
		chk = m_get(m, name, stage, err);
		if (!jv_is_valid(chk))
			goto out;
		x = (jv_free(x), reg_get(chk, jv_string("version")));
		if (jv_get_kind(x) != JV_KIND_NUMBER ||
		    (long long)jv_number_value(x) != version) {
			*err = xasprintf("%s@%s: another promotion moved the "
			    "alias meanwhile; check with show %s@%s", name,
			    stage, name, stage);
			goto out;
		}
	}
	rc = 0;
out:
	jv_free(x);
	jv_free(event);
	return rc;
}

static jv
m_history(void *st, const char *name, char **err)
{
	struct mlflow *m = st;
	jv rm = model_get(m, name, err), tm, keys, res = jv_array();
	int i, n;

	if (!jv_is_valid(rm)) {
		jv_free(res);
		return rm;
	}
	tm = tag_map(rm);
	jv_free(rm);
	keys = jv_keys(jv_copy(tm));	/* sorted: zero-padded numbers */
	n = jv_array_length(jv_copy(keys));
	for (i = 0; i < n; i++) {
		jv k = jv_array_get(jv_copy(keys), i);

		if (strncmp(jv_string_value(k), "asin.history.", 13) == 0) {
			const char *s = tget(tm, jv_string_value(k));
			char *perr = NULL;
			jv e = json_parse(s, strlen(s), &perr);

			free(perr);
			if (jv_is_valid(e))
				res = jv_array_append(res, e);
			else
				jv_free(e);
		}
		jv_free(k);
	}
	jv_free(keys);
	jv_free(tm);
	return res;
}

static void
m_close(void *st)
{
	struct mlflow *m = st;

	rest_free(m->rc);
	free(m);
}

static const struct reg_backend mlflow_backend = {
	m_create, m_get, m_list, m_promote, m_history, m_close
};

struct registry *
reg_open_mlflow(const struct mlflow_opts *o)
{
	struct registry *r = xcalloc(1, sizeof *r);
	struct mlflow *m = xcalloc(1, sizeof *m);

	m->o = o;
	m->rc = rest_new(&o->rest);
	r->be = &mlflow_backend;
	r->state = m;
	return r;
}

int
reg_is_mlflow(const struct registry *r)
{
	return r->be == &mlflow_backend;
}

/* ------------------------------------------------------------------ */
/* run tracking                                                          */

/* A scalar or structure as a param/tag value string (fresh). */
static char *
valstr(jv v)
{
	char tmp[40];
	jv s;
	char *r;

	switch (jv_get_kind(v)) {
	case JV_KIND_STRING:
		r = xstrdup(jv_string_value(v));
		break;
	case JV_KIND_NUMBER:
		fmt_double(tmp, jv_number_value(v));
		r = xstrdup(tmp);
		break;
	default:
		s = jv_dump_string(jv_copy(v), 0);
		r = xstrdup(jv_string_value(s));
		jv_free(s);
	}
	jv_free(v);
	return r;
}

static jv
flat_metrics(jv res, jv obj, const char *prefix, long long ts)
{
	jv_object_foreach(obj, k, v) {
		char *name = prefix ? xasprintf("%s.%s", prefix,
		    jv_string_value(k)) : xstrdup(jv_string_value(k));

		if (jv_get_kind(v) == JV_KIND_NUMBER) {
			char *mn = metric_mlflow_name(name);
			jv e = jv_object();

			e = jv_object_set(e, jv_string("key"), jv_string(mn));
			e = jv_object_set(e, jv_string("value"), v);
			e = jv_object_set(e, jv_string("timestamp"),
			    jv_number((double)ts));
			e = jv_object_set(e, jv_string("step"), jv_number(0));
			res = jv_array_append(res, e);
			free(mn);
		} else if (jv_get_kind(v) == JV_KIND_OBJECT) {
			res = flat_metrics(res, v, name, ts);
			jv_free(v);
		} else
			jv_free(v);
		free(name);
		jv_free(k);
	}
	return res;
}

jv
runs_batch(const char *raw, size_t len, char **err)
{
	char *perr = NULL, key[17], *rn;
	jv v = json_parse(raw, len, &perr), b, params = jv_array(), tags,
	    metrics, x;
	long long start = reg_now() * 1000;

	if (!jv_is_valid(v)) {
		*err = xasprintf("invalid JSON: %s", perr);
		free(perr);
		jv_free(params);
		return v;
	}
	if (jv_get_kind(v) != JV_KIND_OBJECT) {
		*err = xasprintf("expected a runs-index object, got %s",
		    jv_kind_name(jv_get_kind(v)));
		jv_free(v);
		jv_free(params);
		return jv_invalid();
	}
	content_key(raw, len, key);
	x = reg_get(jv_copy(v), jv_string("ts"));
	if (jv_get_kind(x) == JV_KIND_STRING) {
		struct tm tm;
		const char *e;

		memset(&tm, 0, sizeof tm);
		e = strptime(jv_string_value(x), "%Y-%m-%dT%H:%M:%SZ", &tm);
		if (e == NULL || *e != '\0') {
			*err = xasprintf("field \"ts\": expected "
			    "YYYY-MM-DDTHH:MM:SSZ, got '%s'",
			    jv_string_value(x));
			jv_free(x);
			jv_free(v);
			jv_free(params);
			return jv_invalid();
		}
		start = (long long)timegm(&tm) * 1000;
	}
	jv_free(x);
	x = reg_get(jv_copy(v), jv_string("command"));
	rn = xasprintf("%s-%s", jv_get_kind(x) == JV_KIND_STRING ?
	    jv_string_value(x) : "run", key);
	jv_free(x);
	tags = jv_array();
	tags = jv_array_append(tags, tag("asin.run_key", key));
	tags = jv_array_append(tags, tag("mlflow.runName", rn));
	tags = jv_array_append(tags, tag("mlflow.source.name", "asin-rank"));
	tags = jv_array_append(tags, tag("mlflow.source.type", "LOCAL"));
	x = reg_get(jv_copy(v), jv_string("params"));
	if (jv_get_kind(x) == JV_KIND_OBJECT)
		jv_object_foreach(x, k, pv) {
			char *s = valstr(pv);

			if (strlen(s) > 6000)
				s[6000] = '\0';	/* MLflow's param limit */
			params = jv_array_append(params, tag(jv_string_value(k),
			    s));
			free(s);
			jv_free(k);
		}
	jv_free(x);
	x = reg_get(jv_copy(v), jv_string("metrics"));
	metrics = jv_array();
	if (jv_get_kind(x) == JV_KIND_OBJECT)
		metrics = flat_metrics(metrics, x, NULL, start);
	jv_free(x);
	jv_object_foreach(v, k, tv) {
		const char *kn = jv_string_value(k);

		if (strcmp(kn, "params") == 0 || strcmp(kn, "metrics") == 0 ||
		    jv_get_kind(tv) == JV_KIND_NULL) {
			jv_free(tv);
		} else {
			char *tk, *s;

			/* paths of what the run wrote are its artifacts */
			tk = strcmp(kn, "model") == 0 || strcmp(kn,
			    "output_dir") == 0 ? xasprintf("asin.artifact.%s",
			    kn) : xasprintf("asin.%s", kn);
			if (strcmp(kn, "span") == 0 &&
			    jv_get_kind(tv) == JV_KIND_ARRAY &&
			    jv_array_length(jv_copy(tv)) == 2) {
				jv a = jv_array_get(jv_copy(tv), 0);
				jv z = jv_array_get(jv_copy(tv), 1);

				free(tk);
				tk = xstrdup("asin.data_span");
				s = xasprintf("%s:%s", jv_get_kind(a) ==
				    JV_KIND_STRING ? jv_string_value(a) : "",
				    jv_get_kind(z) == JV_KIND_STRING ?
				    jv_string_value(z) : "");
				jv_free(a);
				jv_free(z);
				jv_free(tv);
			} else
				s = valstr(tv);
			if (strlen(s) > TAG_MAX)
				s[TAG_MAX] = '\0';
			tags = jv_array_append(tags, tag(tk, s));
			free(tk);
			free(s);
		}
		jv_free(k);
	}
	jv_free(v);
	b = jv_object();
	b = jv_object_set(b, jv_string("run_key"), jv_string(key));
	b = jv_object_set(b, jv_string("run_name"), jv_string(rn));
	b = jv_object_set(b, jv_string("start_time"), jv_number((double)start));
	b = jv_object_set(b, jv_string("params"), params);
	b = jv_object_set(b, jv_string("metrics"), metrics);
	b = jv_object_set(b, jv_string("tags"), tags);
	free(rn);
	return b;
}

/* The id of experiment exp, created when absent. */
static char *
experiment_id(struct mlflow *m, const char *exp, char **err)
{
	char *q, *ee = rest_escape(exp), *text = NULL, code[64], *id = NULL;
	jv out, x;
	int s, round;

	q = xasprintf("experiment_name=%s", ee);
	free(ee);
	for (round = 0; round < 2 && id == NULL; round++) {
		s = call(m, "GET", "experiments/get-by-name", q, jv_invalid(),
		    1, &out, &text, err);
		if (s < 0)
			break;
		if (s == 200) {
			x = reg_get(reg_get(out,
			    jv_string("experiment")), jv_string(
			    "experiment_id"));
			if (jv_get_kind(x) == JV_KIND_STRING)
				id = xstrdup(jv_string_value(x));
			else
				*err = xasprintf("experiments/get-by-name: no "
				    "experiment_id in the answer");
			jv_free(x);
			break;
		}
		if (s != 404 || strcmp(ecode(out, code, sizeof code),
		    "RESOURCE_DOES_NOT_EXIST") != 0) {
			*err = fail_msg("experiments/get-by-name", s, out, text);
			jv_free(out);
			break;
		}
		jv_free(out);
		free(text);
		text = NULL;
		s = call(m, "POST", "experiments/create", NULL, jv_object_set(
		    jv_object(), jv_string("name"), jv_string(exp)), 1, &out,
		    &text, err);
		if (s < 0)
			break;
		if (s == 200) {
			x = reg_get(out, jv_string("experiment_id"));
			if (jv_get_kind(x) == JV_KIND_STRING)
				id = xstrdup(jv_string_value(x));
			jv_free(x);
			continue;
		}
		/* created meanwhile by someone else: read it again */
		if (strcmp(ecode(out, code, sizeof code),
		    "RESOURCE_ALREADY_EXISTS") != 0) {
			*err = fail_msg("experiments/create", s, out, text);
			jv_free(out);
			break;
		}
		jv_free(out);
		free(text);
		text = NULL;
	}
	free(q);
	free(text);
	if (id == NULL && *err == NULL)
		*err = xasprintf("experiment %s: cannot find or create it", exp);
	return id;
}

/* The run tagged with key: its run_id and status, or jv_null(). */
static jv
find_run(struct mlflow *m, const char *eid, const char *key, char **err)
{
	char *filt = xasprintf("tags.`asin.run_key` = '%s'", key), *text = NULL;
	jv body = jv_object(), out, runs;
	int s;

	body = jv_object_set(body, jv_string("experiment_ids"),
	    jv_array_append(jv_array(), jv_string(eid)));
	body = jv_object_set(body, jv_string("filter"), jv_string(filt));
	body = jv_object_set(body, jv_string("max_results"), jv_number(1));
	free(filt);
	s = call(m, "POST", "runs/search", NULL, body, 1, &out, &text, err);
	if (s < 0)
		return jv_invalid();
	if (s != 200) {
		*err = fail_msg("runs/search", s, out, text);
		jv_free(out);
		free(text);
		return jv_invalid();
	}
	free(text);
	runs = reg_get(out, jv_string("runs"));
	if (jv_get_kind(runs) != JV_KIND_ARRAY ||
	    jv_array_length(jv_copy(runs)) == 0) {
		jv_free(runs);
		return jv_null();
	}
	return reg_get(jv_array_get(runs, 0), jv_string("info"));
}

/* Slices of arr [from, from+n) as an array. */
static jv
slice(jv arr, int from, int n)
{
	jv r = jv_array();
	int i, len = jv_array_length(jv_copy(arr));

	for (i = from; i < from + n && i < len; i++)
		r = jv_array_append(r, jv_array_get(jv_copy(arr), i));
	jv_free(arr);
	return r;
}

int
mlflow_log_run(struct registry *r, const char *exp, jv batch, jv *res,
    char **err)
{
	struct mlflow *m = r->state;
	char *eid, *text = NULL, *rid = NULL;
	jv key = reg_get(jv_copy(batch), jv_string("run_key"));
	jv info, out, params, metrics, tags;
	int s, tries, np, nm, nt, off, rc = -1;
	const char *status = "logged";

	if (r->be != &mlflow_backend) {
		*err = xstrdup("log-runs needs an MLflow server");
		jv_free(key);
		jv_free(batch);
		return -1;
	}
	if ((eid = experiment_id(m, exp, err)) == NULL) {
		jv_free(key);
		jv_free(batch);
		return -1;
	}
	for (tries = 0;; tries++) {
		jv b, x;

		info = find_run(m, eid, jv_string_value(key), err);
		if (!jv_is_valid(info))
			goto out;
		if (jv_get_kind(info) == JV_KIND_OBJECT) {
			jv st = reg_get(jv_copy(info), jv_string("status"));

			x = reg_get(info, jv_string("run_id"));
			if (jv_get_kind(x) != JV_KIND_STRING) {
				*err = xstrdup("runs/search: a run without a "
				    "run_id in the answer");
				jv_free(x);
				jv_free(st);
				goto out;
			}
			rid = xstrdup(jv_string_value(x));
			jv_free(x);
			if (jv_get_kind(st) == JV_KIND_STRING &&
			    strcmp(jv_string_value(st), "FINISHED") == 0)
				status = "present";
			jv_free(st);
			break;
		}
		jv_free(info);
		b = jv_object();
		b = jv_object_set(b, jv_string("experiment_id"), jv_string(eid));
		b = jv_object_set(b, jv_string("run_name"), reg_get(
		    jv_copy(batch), jv_string("run_name")));
		b = jv_object_set(b, jv_string("start_time"), reg_get(
		    jv_copy(batch), jv_string("start_time")));
		b = jv_object_set(b, jv_string("tags"), jv_array_append(
		    jv_array(), tag("asin.run_key", jv_string_value(key))));
		s = call(m, "POST", "runs/create", NULL, b, 0, &out, &text, err);
		if ((s < 0 || s == 408 || s == 429 || s >= 500) &&
		    tries < m->o->rest.max_retries) {
			if (s < 0)
				free(*err);
			else
				jv_free(out);
			*err = NULL;
			free(text);
			text = NULL;
			pause_s(m->o->rest.backoff * pow(2, tries));
			continue;
		}
		if (s < 0)
			goto out;
		if (s != 200) {
			*err = fail_msg("runs/create", s, out, text);
			jv_free(out);
			goto out;
		}
		x = reg_get(reg_get(reg_get(out,
		    jv_string("run")), jv_string("info")), jv_string("run_id"));
		if (jv_get_kind(x) != JV_KIND_STRING) {
			*err = xstrdup("runs/create: no run_id in the answer");
			jv_free(x);
			goto out;
		}
		rid = xstrdup(jv_string_value(x));
		jv_free(x);
		break;
	}
	if (strcmp(status, "present") != 0) {
		params = reg_get(jv_copy(batch), jv_string("params"));
		metrics = reg_get(jv_copy(batch), jv_string("metrics"));
		tags = reg_get(jv_copy(batch), jv_string("tags"));
		np = jv_array_length(jv_copy(params));
		nm = jv_array_length(jv_copy(metrics));
		/* MLflow's limits: 100 params, 1000 metrics, 100 tags, 1000
		 * items per batch; chunks in a fixed order, so a re-send
		 * sends the same ones */
		nt = jv_array_length(jv_copy(tags));
		for (off = 0; off == 0 || off < np || off < nm || off < nt;
		    off += 100) {
			jv b = jv_object();

			b = jv_object_set(b, jv_string("run_id"), jv_string(rid));
			b = jv_object_set(b, jv_string("metrics"), slice(
			    jv_copy(metrics), off, 100));
			b = jv_object_set(b, jv_string("params"), slice(
			    jv_copy(params), off, 100));
			b = jv_object_set(b, jv_string("tags"), slice(
			    jv_copy(tags), off, 100));
			if (post(m, "runs/log-batch", b, err) != 0) {
				jv_free(params);
				jv_free(metrics);
				jv_free(tags);
				goto out;
			}
		}
		jv_free(params);
		jv_free(metrics);
		jv_free(tags);
		{
			jv b = jv_object();

			b = jv_object_set(b, jv_string("run_id"), jv_string(rid));
			b = jv_object_set(b, jv_string("status"),
			    jv_string("FINISHED"));
			b = jv_object_set(b, jv_string("end_time"),
			    reg_get(jv_copy(batch),
			    jv_string("start_time")));
			if (post(m, "runs/update", b, err) != 0)
				goto out;
		}
	}
	*res = jv_object();
	*res = jv_object_set(*res, jv_string("run_key"), jv_copy(key));
	*res = jv_object_set(*res, jv_string("experiment_id"), jv_string(eid));
	*res = jv_object_set(*res, jv_string("run_id"), jv_string(rid));
	*res = jv_object_set(*res, jv_string("status"), jv_string(status));
	rc = 0;
out:
	free(text);
	free(rid);
	free(eid);
	jv_free(key);
	jv_free(batch);
	return rc;
}
