/*
 * report.c - the quality report of asin-dedupe and its gates.  The report
 * is written (atomically) before the gates are judged, so a failed gate
 * leaves every row and the report behind for a person to look at.
 */
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "dedupe.h"

#define MISSING_LISTED 100	/* expected ASINs named in the report */

void
tally_add(struct tally *t, const char *name, size_t len)
{
	tally_addn(t, name, len, 1);
}

void
tally_addn(struct tally *t, const char *name, size_t len, long long n)
{
	size_t i;

	for (i = 0; i < t->len; i++)
		if (strlen(t->name[i]) == len &&
		    memcmp(t->name[i], name, len) == 0) {
			t->n[i] += n;
			return;
		}
	/* past this many distinct reasons, count the rest together */
	if (t->len == 200) {
		name = "(other reasons)";
		len = strlen(name);
		for (i = 0; i < t->len; i++)
			if (strcmp(t->name[i], name) == 0) {
				t->n[i] += n;
				return;
			}
	}
	if (t->len == t->cap) {
		t->cap = t->cap ? t->cap * 2 : 8;
		t->name = xreallocarray(t->name, t->cap, sizeof(*t->name));
		t->n = xreallocarray(t->n, t->cap, sizeof(*t->n));
	}
	t->name[t->len] = xstrndup(name, len);
	t->n[t->len++] = n;
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

/*
 * A bad line of the watch list: a record in, rejected, kept apart for a
 * fragment so that a merge counts it once however many shards read it.
 */
static void
expect_reject(struct run *r, const char *path, long lineno, const char *raw,
    size_t len, const char *why)
{
	struct buf f;

	buf_init(&f);
	reason_fold(&f, "--expect: ", why);
	r->xrej = xreallocarray(r->xrej, r->nxrej + 1, sizeof(*r->xrej));
	r->xrej[r->nxrej].src = xstrdup(path);
	r->xrej[r->nxrej].line = lineno;
	r->xrej[r->nxrej++].reason = xstrdup(f.data);
	buf_free(&f);
	r->ac.in++;
	reject_line(r, path, lineno, raw, len, "--expect: ", why);
}

/* Sort the n ASINs of run.expected and drop repeats; coverage starts. */
static void
expect_finish(struct run *r, size_t n)
{
	size_t i, j;

	if (n > 0)
		qsort(r->expected, n, 11, cmp_asin);
	for (i = j = 0; i < n; i++)
		if (j == 0 || memcmp(r->expected + (j - 1) * 11,
		    r->expected + i * 11, 11) != 0)
			memmove(r->expected + j++ * 11, r->expected + i * 11,
			    11);
	/* an empty list still gates: coverage of nothing asked is 1 */
	r->nexpected = j;
	r->seen = xcalloc(j + 1, 1);
	r->have_expect = 1;
}

static void
expect_add(struct run *r, size_t *n, const char *asin)
{
	if (*n % 1024 == 0)
		r->expected = xreallocarray(r->expected, *n + 1024, 11);
	memcpy(r->expected + *n * 11, asin, 10);
	r->expected[*n * 11 + 10] = '\0';
	(*n)++;
}

void
expect_load(struct run *r, const char *path)
{
	FILE *fp = fopen(path, "r");
	char *line = NULL, *p, *e, why[120];
	size_t cap = 0, n = 0, rawlen;
	long lineno = 0;
	ssize_t len;
	uint64_t hi, lo;

	if (fp == NULL)
		die("%s: cannot open:", path);
	while ((len = getline(&line, &cap, fp)) >= 0) {
		lineno++;
		rawlen = (size_t)len;
		if (rawlen > 0 && line[rawlen - 1] == '\n')
			rawlen--;
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

			if (!jv_is_valid(o)) {
				snprintf(why, sizeof(why), "invalid JSON: %s",
				    err);
				free(err);
				jv_free(o);
				expect_reject(r, path, lineno, line, rawlen,
				    why);
				continue;
			}
			a = jv_object_get(o, jv_string("asin"));
			if (jv_get_kind(a) != JV_KIND_STRING ||
			    jv_string_length_bytes(jv_copy(a)) != 10) {
				jv_free(a);
				expect_reject(r, path, lineno, line, rawlen,
				    "expected an \"asin\" of 10 characters");
				continue;
			}
			if (!pack_key(jv_string_value(a), 10, "US", 2, 0, &hi,
			    &lo)) {
				snprintf(why, sizeof(why), "expected an ASIN "
				    "(10 upper-case letters or digits), got "
				    "'%s'", jv_string_value(a));
				jv_free(a);
				expect_reject(r, path, lineno, line, rawlen,
				    why);
				continue;
			}
			expect_add(r, &n, jv_string_value(a));
			jv_free(a);
			continue;
		}
		if (!pack_key(p, (size_t)(e - p), "US", 2, 0, &hi, &lo)) {
			snprintf(why, sizeof(why), "expected an ASIN (10 "
			    "upper-case letters or digits), got '%.*s'",
			    (int)(e - p > 40 ? 40 : e - p), p);
			expect_reject(r, path, lineno, line, rawlen, why);
			continue;
		}
		expect_add(r, &n, p);
	}
	if (ferror(fp))
		die("%s: read error:", path);
	fclose(fp);
	free(line);
	expect_finish(r, n);
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

/* ---------------------------------------------------------------- */
/* fragments: --partial and --merge-reports                          */
/* ---------------------------------------------------------------- */

#define FRAGMENT_VERSION 2

static void
put_counts(struct buf *b, const char *key, const struct tally *t,
    const struct xrej *x, size_t nx)
{
	size_t i, j;
	long long n;
	int first = 1;

	buf_printf(b, ",\"%s\":{", key);
	for (i = 0; i < t->len; i++) {
		/* the watch list's rejects go apart: a merge counts them once */
		n = t->n[i];
		for (j = 0; j < nx; j++)
			n -= strcmp(x[j].reason, t->name[i]) == 0;
		if (n <= 0)
			continue;
		if (!first)
			buf_addc(b, ',');
		first = 0;
		buf_add_jstr(b, t->name[i], strlen(t->name[i]));
		buf_printf(b, ":%lld", n);
	}
	buf_addc(b, '}');
}

/* The report's "since": the day rows before it were left out, or null. */
static void
put_since(struct buf *b, long since)
{
	char d[11];

	if (since == LONG_MIN) {
		buf_adds(b, ",\"since\":null");
		return;
	}
	format_day(since, d);
	buf_printf(b, ",\"since\":\"%s\"", d);
}

/*
 * The fragment: every count the report is made of, in sums a merge can
 * add (null counts, not rates; anomalies with the rows checked), and the
 * watch list as sets, so that shards with the whole list or with parts
 * of it combine to the coverage of one run.
 */
static int
write_partial(struct run *r)
{
	const long long nx = (long long)r->nxrej;
	struct buf b;
	size_t i, n;
	int k;

	buf_init(&b);
	buf_printf(&b, "{\"asin_dedupe_fragment\":%d,\"records\":%lld,"
	    "\"envelopes\":%lld,\"rows_built\":%lld,\"rows_in\":%lld,"
	    "\"rows_out\":%lld,\"merged\":%lld,\"rejected\":%lld,"
	    "\"dropped\":%lld,\"before_since\":%lld,\"rows_checked\":%lld",
	    FRAGMENT_VERSION, r->records, r->envelopes, r->rows_built,
	    r->ac.in - nx, r->rows_out, r->ac.merged, r->ac.rejected - nx,
	    r->ac.dropped, r->before_since, r->rows_checked);
	put_since(&b, r->since);
	put_counts(&b, "envelopes_by_status", &r->status, NULL, 0);
	put_counts(&b, "envelope_reasons", &r->reasons, NULL, 0);
	put_counts(&b, "rejects_by_reason", &r->rejects, r->xrej, r->nxrej);
	buf_adds(&b, ",\"nulls\":{");
	for (i = 0; i < r->nnf; i++) {
		if (i > 0)
			buf_addc(&b, ',');
		buf_add_jstr(&b, r->nf[i], strlen(r->nf[i]));
		buf_printf(&b, ":%lld", r->nulls[i]);
	}
	buf_adds(&b, "},\"anomalies\":{");
	for (k = 0; k < AN_COUNT; k++)
		buf_printf(&b, "%s\"%s\":%lld", k ? "," : "", an_name[k],
		    r->an_rows[k]);
	buf_addc(&b, '}');
	if (r->have_expect) {
		buf_adds(&b, ",\"expect\":{\"expected\":[");
		for (i = 0; i < r->nexpected; i++)
			buf_printf(&b, "%s\"%s\"", i ? "," : "",
			    r->expected + i * 11);
		buf_adds(&b, "],\"covered\":[");
		for (i = n = 0; i < r->nexpected; i++)
			if (r->seen[i])
				buf_printf(&b, "%s\"%s\"", n++ ? "," : "",
				    r->expected + i * 11);
		buf_adds(&b, "],\"rejects\":[");
		for (i = 0; i < r->nxrej; i++) {
			buf_adds(&b, i ? ",{\"source\":" : "{\"source\":");
			buf_add_jstr(&b, r->xrej[i].src, strlen(r->xrej[i].src));
			buf_printf(&b, ",\"line\":%ld,\"reason\":",
			    r->xrej[i].line);
			buf_add_jstr(&b, r->xrej[i].reason,
			    strlen(r->xrej[i].reason));
			buf_addc(&b, '}');
		}
		buf_adds(&b, "]}");
	} else
		buf_adds(&b, ",\"expect\":null");
	buf_adds(&b, "}\n");
	if (write_atomic(r->opt->report, b.data, b.len) != 0)
		die("%s: cannot write report:", r->opt->report);
	buf_free(&b);
	if (r->co->verbose) {
		long long an = 0;

		for (k = 0; k < AN_COUNT; k++)
			an += r->an_rows[k];
		note("report fragment: %lld records, %lld envelopes, %lld rows "
		    "out, %lld merged, %lld rejected, %lld anomalies",
		    r->records, r->envelopes, r->rows_out, r->ac.merged,
		    r->ac.rejected, an);
	}
	return EXIT_OK;
}

/* A count member of fragment f (borrowed): a whole number >= 0, else dies. */
static long long
frag_count(const char *path, jv f, const char *key)
{
	jv v = jv_object_get(jv_copy(f), jv_string(key));
	double d;

	if (jv_get_kind(v) != JV_KIND_NUMBER || (d = jv_number_value(v)) < 0 ||
	    d != (double)(long long)d)
		die("%s: fragment has no count \"%s\"", path, key);
	jv_free(v);
	return (long long)d;
}

/* Member key of f (borrowed) as an object (owned), else dies. */
static jv
frag_object(const char *path, jv f, const char *key)
{
	jv v = jv_object_get(jv_copy(f), jv_string(key));

	if (jv_get_kind(v) != JV_KIND_OBJECT)
		die("%s: fragment has no object \"%s\"", path, key);
	return v;
}

static void
frag_tally(const char *path, jv f, const char *key, struct tally *t)
{
	jv o = frag_object(path, f, key);

	jv_object_foreach(o, k, v) {
		double d = jv_get_kind(v) == JV_KIND_NUMBER ?
		    jv_number_value(v) : -1;

		if (d < 0 || d != (double)(long long)d)
			die("%s: fragment: \"%s\" counts must be whole numbers",
			    path, key);
		tally_addn(t, jv_string_value(k),
		    (size_t)jv_string_length_bytes(jv_copy(k)),
		    (long long)d);
		jv_free(k);
		jv_free(v);
	}
	jv_free(o);
}

/* The ASINs of array a (consumed), 10 characters each, else dies. */
static void
frag_asins(const char *path, jv a, const char *key, char **dst, size_t *n)
{
	if (jv_get_kind(a) != JV_KIND_ARRAY)
		die("%s: fragment: \"expect\" has no array \"%s\"", path, key);
	jv_array_foreach(a, i, e) {
		(void)i;
		if (jv_get_kind(e) != JV_KIND_STRING ||
		    jv_string_length_bytes(jv_copy(e)) != 10)
			die("%s: fragment: \"%s\" holds a value that is not an "
			    "ASIN", path, key);
		if (*n % 1024 == 0)
			*dst = xreallocarray(*dst, *n + 1024, 11);
		memcpy(*dst + *n * 11, jv_string_value(e), 10);
		(*dst)[*n * 11 + 10] = '\0';
		(*n)++;
		jv_free(e);
	}
	jv_free(a);
}

void
report_merge(struct run *r, char **paths, int nfrag)
{
	char *covered = NULL;
	size_t nexp = 0, ncov = 0, i, j;
	int fi, k, with_expect = -1;
	long day;

	for (fi = 0; fi < nfrag; fi++) {
		const char *path = paths[fi];
		FILE *fp = strcmp(path, "-") == 0 ? stdin : fopen(path, "r");
		struct buf text;
		char tmp[8192], *err = NULL;
		size_t n;
		jv f, v;

		if (fp == NULL)
			die("%s: cannot open:", path);
		buf_init(&text);
		while ((n = fread(tmp, 1, sizeof(tmp), fp)) > 0)
			buf_add(&text, tmp, n);
		if (ferror(fp))
			die("%s: read error:", path);
		if (fp != stdin)
			fclose(fp);
		f = json_parse(text.data ? text.data : "", text.len, &err);
		buf_free(&text);
		if (!jv_is_valid(f))
			die("%s: not a report fragment: %s", path, err);
		v = jv_get_kind(f) == JV_KIND_OBJECT ? jv_object_get(jv_copy(f),
		    jv_string("asin_dedupe_fragment")) : jv_invalid();
		if (jv_get_kind(v) != JV_KIND_NUMBER)
			die("%s: not a report fragment (write one with "
			    "--partial --report FILE)", path);
		if (jv_number_value(v) != FRAGMENT_VERSION)
			die("%s: report fragment version %g, this asin-dedupe "
			    "reads %d", path, jv_number_value(v),
			    FRAGMENT_VERSION);
		jv_free(v);
		r->records += frag_count(path, f, "records");
		r->envelopes += frag_count(path, f, "envelopes");
		r->rows_built += frag_count(path, f, "rows_built");
		r->ac.in += frag_count(path, f, "rows_in");
		r->rows_out += frag_count(path, f, "rows_out");
		r->ac.out = r->rows_out;
		r->ac.merged += frag_count(path, f, "merged");
		r->ac.rejected += frag_count(path, f, "rejected");
		r->ac.dropped += frag_count(path, f, "dropped");
		r->before_since += frag_count(path, f, "before_since");
		r->rows_checked += frag_count(path, f, "rows_checked");
		frag_tally(path, f, "envelopes_by_status", &r->status);
		frag_tally(path, f, "envelope_reasons", &r->reasons);
		frag_tally(path, f, "rejects_by_reason", &r->rejects);
		v = frag_object(path, f, "nulls");
		for (i = 0; i < r->nnf; i++)
			r->nulls[i] += frag_count(path, v, r->nf[i]);
		jv_free(v);
		v = frag_object(path, f, "anomalies");
		for (k = 0; k < AN_COUNT; k++)
			r->an_rows[k] += frag_count(path, v, an_name[k]);
		jv_free(v);
		/* every fragment cut at the same --since day, or none */
		v = jv_object_get(jv_copy(f), jv_string("since"));
		day = LONG_MIN;
		if (jv_get_kind(v) == JV_KIND_STRING) {
			if (!parse_day(jv_string_value(v),
			    (size_t)jv_string_length_bytes(jv_copy(v)), &day))
				die("%s: fragment: \"since\" is not a date",
				    path);
		} else if (jv_get_kind(v) != JV_KIND_NULL)
			die("%s: fragment has no \"since\"", path);
		jv_free(v);
		if (fi > 0 && day != r->since)
			die("%s: fragment cut at another --since day than %s",
			    path, paths[0]);
		r->since = day;
		/* every fragment with a watch list, or none */
		v = jv_object_get(jv_copy(f), jv_string("expect"));
		if (with_expect >= 0 && with_expect != (jv_get_kind(v) ==
		    JV_KIND_OBJECT))
			die("%s: fragment %s --expect, unlike %s", path,
			    with_expect ? "lacks" : "has", paths[0]);
		with_expect = jv_get_kind(v) == JV_KIND_OBJECT;
		if (with_expect) {
			jv x;

			frag_asins(path, jv_object_get(jv_copy(v),
			    jv_string("expected")), "expected", &r->expected,
			    &nexp);
			frag_asins(path, jv_object_get(jv_copy(v),
			    jv_string("covered")), "covered", &covered, &ncov);
			x = jv_object_get(jv_copy(v), jv_string("rejects"));
			if (jv_get_kind(x) != JV_KIND_ARRAY)
				die("%s: fragment: \"expect\" has no array "
				    "\"rejects\"", path);
			jv_array_foreach(x, xi, e) {
				jv s = jv_object_get(jv_copy(e),
				    jv_string("source"));
				jv why = jv_object_get(jv_copy(e),
				    jv_string("reason"));
				long long line;

				(void)xi;
				if (jv_get_kind(e) != JV_KIND_OBJECT ||
				    jv_get_kind(s) != JV_KIND_STRING ||
				    jv_get_kind(why) != JV_KIND_STRING)
					die("%s: fragment: a watch-list reject "
					    "needs a source and a reason", path);
				line = frag_count(path, e, "line");
				/* the same line read by several shards: once */
				for (j = 0; j < r->nxrej; j++)
					if (r->xrej[j].line == line &&
					    strcmp(r->xrej[j].src,
					    jv_string_value(s)) == 0)
						break;
				if (j == r->nxrej) {
					r->xrej = xreallocarray(r->xrej,
					    r->nxrej + 1, sizeof(*r->xrej));
					r->xrej[j].src =
					    xstrdup(jv_string_value(s));
					r->xrej[j].line = (long)line;
					r->xrej[j].reason =
					    xstrdup(jv_string_value(why));
					r->nxrej++;
					r->ac.in++;
					r->ac.rejected++;
					tally_add(&r->rejects,
					    jv_string_value(why),
					    strlen(jv_string_value(why)));
				}
				jv_free(s);
				jv_free(why);
				jv_free(e);
			}
			jv_free(x);
		}
		jv_free(v);
		jv_free(f);
	}
	if (with_expect == 1) {
		expect_finish(r, nexp);
		for (i = 0; i < ncov; i++)
			expect_mark(r, covered + i * 11);
	}
	free(covered);
}

void
report_free(struct run *r)
{
	size_t i;

	for (i = 0; i < r->nxrej; i++) {
		free(r->xrej[i].src);
		free(r->xrej[i].reason);
	}
	free(r->xrej);
	free(r->expected);
	free(r->seen);
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
	if (o->partial)
		return write_partial(r);
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
	    "\"rejected\":%lld,\"dropped\":%lld,\"before_since\":%lld",
	    r->records, r->envelopes, r->rows_built, r->ac.in, r->rows_out,
	    r->ac.merged, r->ac.rejected, r->ac.dropped, r->before_since);
	put_since(&b, r->since);
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
	if (r->have_expect) {
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
		    r->ac.rejected, an, !r->have_expect ? "n/a" :
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
