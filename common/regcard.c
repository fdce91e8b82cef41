/*
 * regcard.c - model cards: a Markdown template with {{key}} placeholders
 * filled from the version record, its change history and asin-rank's
 * eval output.  What the registry cannot know (owners, approval, the
 * narrative of limits) stays a visible marked blank for a person, and a
 * placeholder the renderer does not know is an error, so a template typo
 * cannot turn into a silent empty field.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "registry.h"

/* Keys a person fills in: always rendered as marked blanks. */
static const char *const person_keys[] = { "owners", "contact", "license",
    "approved_by", "approved_on", "limitations", "compliance_notes",
    "intended_users", NULL };

static void
md_cell(struct buf *b, const char *s)
{
	/* a table cell may not hold a pipe or a line break */
	for (; *s != '\0'; s++) {
		if (*s == '|')
			buf_adds(b, "\\|");
		else if (*s == '\n' || *s == '\r')
			buf_addc(b, ' ');
		else
			buf_addc(b, *s);
	}
}

static void
num(struct buf *b, jv x)
{
	char tmp[40];

	if (jv_get_kind(x) == JV_KIND_NUMBER && isfinite(jv_number_value(x)))
		buf_add(b, tmp, fmt_double(tmp, jv_number_value(x)));
	else
		buf_adds(b, "–");
	jv_free(x);
}

static char *
str_of(jv v, const char *k)
{
	jv x = reg_get(jv_copy(v), jv_string(k));
	char *r = NULL;

	if (jv_get_kind(x) == JV_KIND_STRING)
		r = xstrdup(jv_string_value(x));
	else if (jv_get_kind(x) == JV_KIND_NUMBER) {
		char tmp[40];

		fmt_double(tmp, jv_number_value(x));
		r = xstrdup(tmp);
	}
	jv_free(x);
	return r;
}

static char *
features_table(jv sig, const char *which)
{
	jv cols = reg_get(jv_copy(sig), jv_string(which));
	struct buf b;
	int i, n;

	if (jv_get_kind(cols) != JV_KIND_ARRAY) {
		jv_free(cols);
		return NULL;
	}
	buf_init(&b);
	buf_adds(&b, "| # | name | type | required |\n|---|---|---|---|\n");
	n = jv_array_length(jv_copy(cols));
	for (i = 0; i < n; i++) {
		jv c = jv_array_get(jv_copy(cols), i);
		char *nm = str_of(c, "name"), *ty = str_of(c, "type");
		jv rq = reg_get(c, jv_string("required"));

		buf_printf(&b, "| %d | ", i + 1);
		md_cell(&b, nm ? nm : "");
		buf_adds(&b, " | ");
		md_cell(&b, ty ? ty : "");
		buf_printf(&b, " | %s |\n", jv_get_kind(rq) == JV_KIND_FALSE ?
		    "no" : "yes");
		jv_free(rq);
		free(nm);
		free(ty);
	}
	jv_free(cols);
	while (b.len > 0 && b.data[b.len - 1] == '\n')
		b.data[--b.len] = '\0';
	return b.data;
}

/* Registry metrics, with eval's model/baseline/lift side by side. */
static char *
metrics_table(jv v, jv evalm)
{
	jv m = reg_get(jv_copy(v), jv_string("metrics"));
	jv em = jv_null(), eb = jv_null(), el = jv_null();
	struct buf b;
	int rows = 0;

	buf_init(&b);
	if (jv_get_kind(evalm) == JV_KIND_OBJECT) {
		em = reg_get(jv_copy(evalm), jv_string("model"));
		eb = reg_get(jv_copy(evalm), jv_string("baseline_metrics"));
		el = reg_get(jv_copy(evalm), jv_string("lift"));
	}
	if (jv_get_kind(em) == JV_KIND_OBJECT) {
		char *bl = str_of(evalm, "baseline");

		{
			char *rws = str_of(evalm, "rows");
			char *qs = str_of(evalm, "queries");

			buf_printf(&b, "Holdout evaluation (asin-rank eval: %s "
			    "rows, %s groups); the baseline is the score "
			    "`%s`.\n\n", rws ? rws : "?", qs ? qs : "?",
			    bl ? bl : "none");
			free(rws);
			free(qs);
		}
		free(bl);
		buf_adds(&b, "| metric | MLflow name | model | baseline | "
		    "lift |\n|---|---|---|---|---|\n");
		jv_object_keys_foreach(em, k) {
			char *mn = metric_mlflow_name(jv_string_value(k));

			buf_adds(&b, "| ");
			md_cell(&b, jv_string_value(k));
			buf_printf(&b, " | %s | ", mn);
			num(&b, reg_get(jv_copy(em), jv_copy(k)));
			buf_adds(&b, " | ");
			num(&b, jv_get_kind(eb) == JV_KIND_OBJECT ?
			    reg_get(jv_copy(eb), jv_copy(k)) : jv_null());
			buf_adds(&b, " | ");
			num(&b, jv_get_kind(el) == JV_KIND_OBJECT ?
			    reg_get(jv_copy(el), jv_copy(k)) : jv_null());
			buf_adds(&b, " |\n");
			free(mn);
			jv_free(k);
			rows++;
		}
		buf_adds(&b, "\n");
	}
	if (jv_get_kind(m) == JV_KIND_OBJECT &&
	    jv_object_length(jv_copy(m)) > 0) {
		buf_adds(&b, "Metrics recorded with the version:\n\n"
		    "| metric | MLflow name | value |\n|---|---|---|\n");
		jv_object_keys_foreach(m, k) {
			char *mn = metric_mlflow_name(jv_string_value(k));

			buf_adds(&b, "| ");
			md_cell(&b, jv_string_value(k));
			buf_printf(&b, " | %s | ", mn);
			num(&b, reg_get(jv_copy(m), jv_copy(k)));
			buf_adds(&b, " |\n");
			free(mn);
			jv_free(k);
			rows++;
		}
	}
	jv_free(m);
	jv_free(em);
	jv_free(eb);
	jv_free(el);
	if (rows == 0) {
		buf_free(&b);
		return NULL;
	}
	while (b.len > 0 && b.data[b.len - 1] == '\n')
		b.data[--b.len] = '\0';
	return b.data;
}

/* lift_curve.csv (k,recall,baseline_recall,lift) as a Markdown table. */
static char *
lift_table(const char *csv)
{
	struct buf b;
	const char *p = csv, *nl;
	int line = 0;

	if (csv == NULL)
		return NULL;
	buf_init(&b);
	for (; *p != '\0'; p = nl + 1, line++) {
		const char *f;

		nl = strchr(p, '\n');
		if (nl == NULL)
			nl = p + strlen(p);
		if (nl > p) {
			buf_adds(&b, "| ");
			for (f = p; f < nl; f++) {
				if (*f == ',')
					buf_adds(&b, " | ");
				else if (*f != '\r' && *f != '|')
					buf_addc(&b, *f);
			}
			buf_adds(&b, " |\n");
			if (line == 0)
				buf_adds(&b, "|---|---|---|---|\n");
		}
		if (*nl == '\0')
			break;
	}
	if (b.data == NULL)
		return NULL;
	while (b.len > 0 && b.data[b.len - 1] == '\n')
		b.data[--b.len] = '\0';
	return b.data;
}

static char *
history_table(jv hist)
{
	struct buf b;
	int i, n = jv_get_kind(hist) == JV_KIND_ARRAY ?
	    jv_array_length(jv_copy(hist)) : 0;

	buf_init(&b);
	buf_adds(&b, "| date | tag | version | what changed | who |\n"
	    "|---|---|---|---|---|");
	for (i = 0; i < n; i++) {
		jv e = jv_array_get(jv_copy(hist), i);
		char *ts = str_of(e, "ts"), *act = str_of(e, "action");
		char *st = str_of(e, "stage"), *ver = str_of(e, "version");
		char *prev = str_of(e, "previous"), *ch = str_of(e, "changes");
		char *by = str_of(e, "by"), *note = str_of(e, "note");
		jv forced = reg_get(jv_copy(e), jv_string("forced"));

		buf_adds(&b, "\n| ");
		md_cell(&b, ts ? ts : "");
		buf_adds(&b, " | ");
		if (act != NULL && strcmp(act, "promote") == 0)
			md_cell(&b, st ? st : "");
		else
			md_cell(&b, act ? act : "");
		buf_adds(&b, " | ");
		if (prev != NULL)
			buf_printf(&b, "%s -> ", prev);
		md_cell(&b, ver ? ver : "");
		buf_adds(&b, " | ");
		if (act != NULL && strcmp(act, "register") == 0)
			buf_adds(&b, "registered");
		else {
			if (jv_get_kind(forced) == JV_KIND_TRUE)
				buf_adds(&b, "**forced**: ");
			md_cell(&b, ch ? ch : "");
		}
		if (note != NULL) {
			buf_adds(&b, " (");
			md_cell(&b, note);
			buf_adds(&b, ")");
		}
		buf_adds(&b, " | ");
		md_cell(&b, by ? by : "");
		buf_adds(&b, " |");
		jv_free(forced);
		jv_free(e);
		free(ts);
		free(act);
		free(st);
		free(ver);
		free(prev);
		free(ch);
		free(by);
		free(note);
	}
	return b.data;
}

/* front-matter metric list: "  - {name: X, value: Y}" lines. */
static char *
yaml_metrics(jv v)
{
	jv m = reg_get(jv_copy(v), jv_string("metrics"));
	struct buf b;

	buf_init(&b);
	if (jv_get_kind(m) == JV_KIND_OBJECT)
		jv_object_keys_foreach(m, k) {
			char *mn = metric_mlflow_name(jv_string_value(k));

			buf_printf(&b, "%s          - type: %s\n"
			    "            value: ", b.len ? "\n" : "", mn);
			num(&b, reg_get(jv_copy(m), jv_copy(k)));
			free(mn);
			jv_free(k);
		}
	jv_free(m);
	if (b.data == NULL)
		return xstrdup("          []");
	return b.data;
}

static jv
set_s(jv vals, const char *k, char *s)
{
	if (s == NULL)
		return vals;
	vals = jv_object_set(vals, jv_string(k), jv_string(s));
	free(s);
	return vals;
}

char *
card_render(const char *tmpl, jv v, jv hist, jv evalm, const char *lift,
    char **err)
{
	jv vals = jv_object(), sig, span;
	struct buf b;
	const char *p, *q, *e;
	char ts[24];
	long line = 1;
	size_t i;

	vals = set_s(vals, "name", str_of(v, "name"));
	vals = set_s(vals, "version", str_of(v, "version"));
	vals = set_s(vals, "created_at", str_of(v, "created_at"));
	vals = set_s(vals, "artifact_uri", str_of(v, "artifact_uri"));
	vals = set_s(vals, "run_id", str_of(v, "run_id"));
	vals = set_s(vals, "description", str_of(v, "description"));
	vals = set_s(vals, "registered_by", str_of(v, "registered_by"));
	vals = set_s(vals, "status", str_of(v, "status"));
	vals = set_s(vals, "content_key", str_of(v, "content_key"));
	vals = set_s(vals, "feature_version", str_of(v, "feature_version"));
	{
		jv a = reg_get(jv_copy(v), jv_string("aliases"));
		struct buf ab;
		int n = jv_get_kind(a) == JV_KIND_ARRAY ?
		    jv_array_length(jv_copy(a)) : 0;

		buf_init(&ab);
		for (i = 0; i < (size_t)n; i++) {
			jv x = jv_array_get(jv_copy(a), (int)i);

			buf_printf(&ab, "%s%s", i ? ", " : "",
			    jv_string_value(x));
			jv_free(x);
		}
		vals = set_s(vals, "aliases", xstrdup(n ? ab.data : "none"));
		buf_free(&ab);
		jv_free(a);
	}
	span = reg_get(jv_copy(v), jv_string("data_span"));
	if (jv_get_kind(span) == JV_KIND_OBJECT) {
		vals = set_s(vals, "data_span_from", str_of(span, "from"));
		vals = set_s(vals, "data_span_to", str_of(span, "to"));
	}
	jv_free(span);
	sig = reg_get(jv_copy(v), jv_string("signature"));
	vals = set_s(vals, "features_table", features_table(sig, "inputs"));
	vals = set_s(vals, "outputs_table", features_table(sig, "outputs"));
	{
		jv in = reg_get(jv_copy(sig), jv_string("inputs"));

		if (jv_get_kind(in) == JV_KIND_ARRAY)
			vals = set_s(vals, "feature_count", xasprintf("%d",
			    jv_array_length(jv_copy(in))));
		jv_free(in);
	}
	jv_free(sig);
	vals = set_s(vals, "metrics_table", metrics_table(v, evalm));
	vals = set_s(vals, "metrics_yaml", yaml_metrics(v));
	vals = set_s(vals, "lift_table", lift_table(lift));
	vals = set_s(vals, "history_table", history_table(hist));
	reg_iso(reg_now(), ts);
	vals = set_s(vals, "generated_at", xstrdup(ts));
	vals = set_s(vals, "generator", xstrdup("asin-registry "
	    ASIN_VERSION));

	buf_init(&b);
	for (p = tmpl; *p != '\0'; p = q) {
		const char *open = strstr(p, "{{");
		jv x;
		char *key;

		if (open == NULL) {
			buf_adds(&b, p);
			break;
		}
		for (q = p; q < open; q++)
			if (*q == '\n')
				line++;
		buf_add(&b, p, (size_t)(open - p));
		if ((e = strstr(open + 2, "}}")) == NULL ||
		    memchr(open, '\n', (size_t)(e - open)) != NULL) {
			*err = xasprintf("line %ld: unclosed {{", line);
			goto fail;
		}
		key = xstrndup(open + 2, (size_t)(e - open - 2));
		x = reg_get(jv_copy(vals), jv_string(key));
		if (jv_get_kind(x) == JV_KIND_STRING)
			buf_adds(&b, jv_string_value(x));
		else {
			static const char *const known[] = { "name", "version",
			    "created_at", "artifact_uri", "run_id",
			    "description", "registered_by", "status",
			    "content_key", "feature_version", "aliases",
			    "data_span_from", "data_span_to",
			    "features_table", "outputs_table",
			    "feature_count", "metrics_table", "metrics_yaml",
			    "lift_table", "history_table", "generated_at",
			    "generator", NULL };
			int ok = 0;

			for (i = 0; person_keys[i] != NULL; i++)
				ok |= strcmp(person_keys[i], key) == 0;
			for (i = 0; known[i] != NULL; i++)
				ok |= strcmp(known[i], key) == 0;
			if (!ok) {
				*err = xasprintf("line %ld: unknown placeholder "
				    "{{%s}}", line, key);
				jv_free(x);
				free(key);
				goto fail;
			}
			buf_printf(&b, "_[to fill: %s]_", key);
		}
		jv_free(x);
		free(key);
		q = e + 2;
	}
	jv_free(vals);
	jv_free(v);
	jv_free(hist);
	jv_free(evalm);
	if (b.data == NULL)
		buf_adds(&b, "");
	return b.data;
fail:
	buf_free(&b);
	jv_free(vals);
	jv_free(v);
	jv_free(hist);
	jv_free(evalm);
	return NULL;
}
