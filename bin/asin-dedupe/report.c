/*
 * report.c - the quality report of asin-dedupe and its gates.  The report
 * is written (atomically) before the gates are judged, so a failed gate
 * leaves every row and the report behind for a person to look at.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "dedupe.h"

#define MISSING_LISTED 100	/* expected ASINs named in the report */

void
tally_add(struct tally *t, const char *name, size_t len)
{
	size_t i;

	for (i = 0; i < t->len; i++)
		if (strlen(t->name[i]) == len &&
		    memcmp(t->name[i], name, len) == 0) {
			t->n[i]++;
			return;
		}
	/* past this many distinct reasons, count the rest together */
	if (t->len == 200) {
		name = "(other reasons)";
		len = strlen(name);
		for (i = 0; i < t->len; i++)
			if (strcmp(t->name[i], name) == 0) {
				t->n[i]++;
				return;
			}
	}
	if (t->len == t->cap) {
		t->cap = t->cap ? t->cap * 2 : 8;
		t->name = xreallocarray(t->name, t->cap, sizeof(*t->name));
		t->n = xreallocarray(t->n, t->cap, sizeof(*t->n));
	}
	t->name[t->len] = xstrndup(name, len);
	t->n[t->len++] = 1;
}

void
tally_free(struct tally *t)
{
	size_t i;

	for (i = 0; i < t->len; i++)
		free(t->name[i]);
	free(t->name);
	free(t->n);
	memset(t, 0, sizeof(*t));
}

static int
cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static int
cmp_asin(const void *a, const void *b)
{
	return memcmp(a, b, 11);
}

void
expect_load(struct run *r, const char *path)
{
	FILE *fp = fopen(path, "r");
	char *line = NULL, *p, *e;
	size_t cap = 0, n = 0, i, j;
	long lineno = 0;
	ssize_t len;
	uint64_t hi, lo;

	if (fp == NULL)
		die("%s: cannot open:", path);
	while ((len = getline(&line, &cap, fp)) >= 0) {
		lineno++;
		p = line;
		e = line + len;
		while (p < e && (*p == ' ' || *p == '\t'))
			p++;
		while (e > p && (e[-1] == '\n' || e[-1] == '\r' ||
		    e[-1] == ' ' || e[-1] == '\t'))
			e--;
		if (p == e || *p == '#')
			continue;
		/* asin-fetch's other input form: NDJSON with "asin" */
		if (*p == '{') {
			char *err = NULL;
			jv o = json_parse(p, (size_t)(e - p), &err), a;

			if (!jv_is_valid(o))
				die_at(path, lineno, "invalid JSON: %s", err);
			a = jv_object_get(o, jv_string("asin"));
			if (jv_get_kind(a) != JV_KIND_STRING ||
			    jv_string_length_bytes(jv_copy(a)) != 10)
				die_at(path, lineno, "expected an \"asin\" of 10 "
				    "characters");
			memcpy(p, jv_string_value(a), 10);
			e = p + 10;
			jv_free(a);
		}
		if (!pack_key(p, (size_t)(e - p), "US", 2, 0, &hi, &lo)) {
			*e = '\0';
			die_at(path, lineno, "expected an ASIN (10 upper-case "
			    "letters or digits), got '%.40s'", p);
		}
		if (n % 1024 == 0)
			r->expected = xreallocarray(r->expected, n + 1024, 11);
		memcpy(r->expected + n * 11, p, 10);
		r->expected[n * 11 + 10] = '\0';
		n++;
	}
	if (ferror(fp))
		die("%s: read error:", path);
	fclose(fp);
	free(line);
	if (n > 0)
		qsort(r->expected, n, 11, cmp_asin);
	for (i = j = 0; i < n; i++)
		if (j == 0 || memcmp(r->expected + (j - 1) * 11,
		    r->expected + i * 11, 11) != 0)
			memmove(r->expected + j++ * 11, r->expected + i * 11,
			    11);
	r->nexpected = j;
	r->seen = xcalloc(j + 1, 1);
	/* an empty list still gates: coverage of nothing asked is 1 */
	if (j == 0)
		r->nexpected = 0;
}

void
expect_mark(struct run *r, const char *asin)
{
	char key[11];
	char *hit;

	memcpy(key, asin, 10);
	key[10] = '\0';
	hit = bsearch(key, r->expected, r->nexpected, 11, cmp_asin);
	if (hit != NULL)
		r->seen[(size_t)(hit - r->expected) / 11] = 1;
}

static void
put_rate(struct buf *b, double num, double den)
{
	char t[40];

	if (den <= 0)
		buf_adds(b, "null");
	else
		buf_add(b, t, fmt_double(t, num / den));
}

static void
put_tally(struct buf *b, const char *key, const struct tally *t)
{
	char **names = xreallocarray(NULL, t->len + 1, sizeof(char *));
	size_t i, j;

	for (i = 0; i < t->len; i++)
		names[i] = t->name[i];
	qsort(names, t->len, sizeof(char *), cmp_str);
	buf_printf(b, ",\"%s\":{", key);
	for (i = 0; i < t->len; i++) {
		for (j = 0; j < t->len; j++)
			if (t->name[j] == names[i])
				break;
		if (i > 0)
			buf_addc(b, ',');
		buf_add_jstr(b, names[i], strlen(names[i]));
		buf_printf(b, ":%lld", t->n[j]);
	}
	buf_addc(b, '}');
	free(names);
}

/*
 * rows_out of the previous report; -1 (with a warning) when the file does
 * not exist; dies when it cannot be read or has no count.
 */
static long long
previous_rows(const char *path)
{
	FILE *fp = fopen(path, "r");
	struct buf text;
	char tmp[8192], *err = NULL;
	size_t n;
	jv doc, v;
	long long rows;

	/* the first run of a daily job has none yet: say so and go on */
	if (fp == NULL && access(path, F_OK) != 0 && errno == ENOENT) {
		warn("%s: no previous report, so no row change", path);
		return -1;
	}
	if (fp == NULL)
		die("%s: cannot open previous report:", path);
	buf_init(&text);
	while ((n = fread(tmp, 1, sizeof(tmp), fp)) > 0)
		buf_add(&text, tmp, n);
	if (ferror(fp))
		die("%s: read error:", path);
	fclose(fp);
	doc = json_parse(text.data ? text.data : "", text.len, &err);
	buf_free(&text);
	if (!jv_is_valid(doc))
		die("%s: previous report is not JSON: %s", path, err);
	v = jv_object_get(jv_copy(doc), jv_string("rows_out"));
	if (jv_get_kind(doc) != JV_KIND_OBJECT ||
	    jv_get_kind(v) != JV_KIND_NUMBER || jv_number_value(v) < 0)
		die("%s: previous report has no \"rows_out\" count", path);
	rows = (long long)jv_number_value(v);
	jv_free(v);
	jv_free(doc);
	return rows;
}

struct gate {
	char *what;		/* the flag as given */
	double value, limit;
	int ok;
	char *line;		/* the breach message */
};

int
report_finish(struct run *r)
{
	const struct opts *o = r->opt;
	struct buf b;
	struct gate g[NF_MAX + AN_COUNT + 1];
	size_t ng = 0, i, j, covered = 0, listed = 0;
	long long prev = -1;
	double den = (double)r->rows_checked, rows = (double)r->rows_out;
	double cov = 1;
	int rc = EXIT_OK, k;
	char t[40];

	for (i = 0; i < r->nexpected; i++)
		covered += r->seen[i];
	if (r->nexpected > 0)
		cov = (double)covered / (double)r->nexpected;
	if (o->previous != NULL)
		prev = previous_rows(o->previous);

	/* the gates */
	if (o->min_coverage >= 0) {
		g[ng].what = xasprintf("--min-coverage %g", o->min_coverage);
		g[ng].value = cov;
		g[ng].limit = o->min_coverage;
		g[ng].ok = cov >= o->min_coverage;
		g[ng].line = xasprintf("gate --min-coverage %g failed: "
		    "coverage %s (%zu of %zu expected ASINs have a row)",
		    o->min_coverage, (fmt_double(t, cov), t), covered,
		    r->nexpected);
		ng++;
	}
	for (i = 0; i < o->nnull_gate; i++) {
		double rate;

		for (j = 0; j < r->nnf; j++)
			if (strcmp(r->nf[j], o->null_gate_field[i]) == 0)
				break;
		rate = rows > 0 ? (double)r->nulls[j] / rows : 0;
		g[ng].what = xasprintf("--max-null-rate %s=%g",
		    o->null_gate_field[i], o->null_gate[i]);
		g[ng].value = rate;
		g[ng].limit = o->null_gate[i];
		g[ng].ok = rate <= o->null_gate[i];
		g[ng].line = xasprintf("gate --max-null-rate %s=%g failed: "
		    "%s is null in %s of the rows (%lld of %lld)",
		    o->null_gate_field[i], o->null_gate[i],
		    o->null_gate_field[i], (fmt_double(t, rate), t),
		    r->nulls[j], r->rows_out);
		ng++;
	}
	for (k = 0; k < AN_COUNT; k++) {
		double rate;

		if (o->anomaly_gate[k] < 0)
			continue;
		rate = den > 0 ? (double)r->an_rows[k] / den : 0;
		g[ng].what = xasprintf("--max-anomaly-rate %s=%g", an_name[k],
		    o->anomaly_gate[k]);
		g[ng].value = rate;
		g[ng].limit = o->anomaly_gate[k];
		g[ng].ok = rate <= o->anomaly_gate[k];
		g[ng].line = xasprintf("gate --max-anomaly-rate %s=%g failed: "
		    "%s in %s of the rows (%lld of %lld)", an_name[k],
		    o->anomaly_gate[k], an_name[k], (fmt_double(t, rate), t),
		    r->an_rows[k], r->rows_checked);
		ng++;
	}

	buf_init(&b);
	buf_printf(&b, "{\"records\":%lld,\"envelopes\":%lld,\"rows_built\":"
	    "%lld,\"rows_in\":%lld,\"rows_out\":%lld,\"merged\":%lld,"
	    "\"rejected\":%lld,\"dropped\":%lld", r->records, r->envelopes,
	    r->rows_built, r->ac.in, r->rows_out, r->ac.merged,
	    r->ac.rejected, r->ac.dropped);
	put_tally(&b, "envelopes_by_status", &r->status);
	put_tally(&b, "envelope_reasons", &r->reasons);
	put_tally(&b, "rejects_by_reason", &r->rejects);
	buf_adds(&b, ",\"null_rate\":{");
	for (i = 0; i < r->nnf; i++) {
		buf_printf(&b, "%s\"%s\":", i ? "," : "", r->nf[i]);
		put_rate(&b, (double)r->nulls[i], rows);
	}
	buf_adds(&b, "},\"anomalies\":{");
	for (k = 0; k < AN_COUNT; k++)
		buf_printf(&b, "%s\"%s\":%lld", k ? "," : "", an_name[k],
		    r->an_rows[k]);
	buf_adds(&b, "},\"anomaly_rate\":{");
	for (k = 0; k < AN_COUNT; k++) {
		buf_printf(&b, "%s\"%s\":", k ? "," : "", an_name[k]);
		put_rate(&b, (double)r->an_rows[k], den);
	}
	buf_addc(&b, '}');
	if (o->expect != NULL) {
		buf_printf(&b, ",\"coverage\":{\"expected\":%zu,\"covered\":%zu,"
		    "\"rate\":", r->nexpected, covered);
		buf_add(&b, t, fmt_double(t, cov));
		buf_adds(&b, ",\"missing\":[");
		for (i = 0; i < r->nexpected && listed < MISSING_LISTED; i++)
			if (!r->seen[i])
				buf_printf(&b, "%s\"%s\"", listed++ ? "," : "",
				    r->expected + i * 11);
		buf_adds(&b, "]}");
	} else
		buf_adds(&b, ",\"coverage\":null");
	if (prev >= 0) {
		buf_printf(&b, ",\"previous\":{\"rows_out\":%lld,\"change\":%lld,"
		    "\"change_rate\":", prev, r->rows_out - prev);
		put_rate(&b, (double)(r->rows_out - prev), (double)prev);
		buf_addc(&b, '}');
	} else
		buf_adds(&b, ",\"previous\":null");
	buf_adds(&b, ",\"gates\":[");
	for (i = 0; i < ng; i++) {
		buf_adds(&b, i ? ",{\"gate\":" : "{\"gate\":");
		buf_add_jstr(&b, g[i].what, strlen(g[i].what));
		buf_adds(&b, ",\"value\":");
		buf_add(&b, t, fmt_double(t, g[i].value));
		buf_adds(&b, ",\"limit\":");
		buf_add(&b, t, fmt_double(t, g[i].limit));
		buf_printf(&b, ",\"ok\":%s}", g[i].ok ? "true" : "false");
	}
	buf_adds(&b, "]}\n");
	if (o->report != NULL && write_atomic(o->report, b.data, b.len) != 0)
		die("%s: cannot write report:", o->report);
	buf_free(&b);

	if (r->co->verbose) {
		long long an = 0;

		for (k = 0; k < AN_COUNT; k++)
			an += r->an_rows[k];
		note("report: %lld records, %lld envelopes, %lld rows out, "
		    "%lld merged, %lld rejected, %lld anomalies, coverage %s",
		    r->records, r->envelopes, r->rows_out, r->ac.merged,
		    r->ac.rejected, an, o->expect == NULL ? "n/a" :
		    (fmt_double(t, cov), t));
	}
	for (i = 0; i < ng; i++) {
		if (!g[i].ok) {
			warn("%s", g[i].line);
			rc = EXIT_FAIL;
		}
		free(g[i].what);
		free(g[i].line);
	}
	return rc;
}
