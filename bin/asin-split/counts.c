/*
 * counts.c - asin-split's counts summary (the --stats members): units per
 * variant against what the weights expect and the sample-ratio check on
 * them, for one run, as a mergeable partial (--partial) and as the merge
 * of partials from shards (--merge), which gives the single run's bytes:
 * counts are integers and the expectation is recomputed from the merged
 * per-rule counts, in the same order.
 */
#include <stdlib.h>
#include <string.h>

#include "asin.h"
#include "split.h"

/*
 * The -v line, the SRM warning (never for a partial: a shard's sample is
 * not the experiment's) and the report members of one experiment.
 */
static void
report_one(struct buf *b, const struct split_count *c, int first,
    const struct split_report_opts *ro)
{
	struct buf line;
	char num[40];
	double *expct, chi2, p;
	long long in = 0, *obs;
	int v, ri, df;

	obs = xcalloc((size_t)c->nvar, sizeof(*obs));
	expct = xcalloc((size_t)c->nvar, sizeof(*expct));
	for (ri = 0; ri < c->nrules; ri++) {
		long long nr = 0;

		for (v = 0; v < c->nvar; v++)
			nr += c->count[ri * c->nvar + v];
		for (v = 0; v < c->nvar; v++) {
			obs[v] += c->count[ri * c->nvar + v];
			expct[v] += (double)nr * c->share[ri * c->nvar + v];
		}
		in += nr;
	}
	chi2 = 0;
	df = -1;
	for (v = 0; v < c->nvar; v++)
		if (expct[v] > 0) {
			chi2 += (obs[v] - expct[v]) * (obs[v] - expct[v]) /
			    expct[v];
			df++;
		}
	p = df >= 1 ? stats_chi2_sf(chi2, df) : 0;
	buf_printf(b, "%s{\"experiment\":", first ? "" : ",");
	buf_add_jstr(b, c->key, strlen(c->key));
	buf_printf(b, ",\"in\":%lld,\"not_in\":%lld,\"variants\":[",
	    in, c->not_in);
	buf_init(&line);
	buf_printf(&line, "experiment %s: %lld in (", c->key, in);
	for (v = 0; v < c->nvar; v++) {
		buf_adds(b, v ? ",{\"variant\":" : "{\"variant\":");
		buf_add_jstr(b, c->names[v], strlen(c->names[v]));
		fmt_double(num, expct[v]);
		buf_printf(b, ",\"count\":%lld,\"expected\":%s}", obs[v],
		    num);
		buf_printf(&line, "%s%s %lld", v ? ", " : "", c->names[v],
		    obs[v]);
	}
	if (df >= 1) {
		fmt_double(num, chi2);
		buf_printf(b, "],\"chi2\":%s,\"df\":%d,", num, df);
		fmt_double(num, p);
		buf_printf(b, "\"p\":%s}", num);
		buf_printf(&line, "), %lld not in; sample ratio chi2 "
		    "%.4g, df %d, p %.4g", c->not_in, chi2, df, p);
	} else {
		buf_adds(b, "],\"chi2\":null,\"df\":null,\"p\":null}");
		buf_printf(&line, "), %lld not in", c->not_in);
	}
	if (ro->verbose)
		note("%s", line.data);
	if (!ro->partial && df >= 1 && p < 0.001 && in >= 8LL * c->nvar &&
	    !ro->quiet)
		warn("experiment %s: sample ratio mismatch: chi2 %.4g, "
		    "df %d, p %.3g", c->key, chi2, df, p);
	buf_free(&line);
	free(obs);
	free(expct);
}

/* The partial member: what a merge needs to redo the report exactly. */
static void
partial_member(struct buf *b, const struct split_count *c, int nc)
{
	char num[40];
	int i, v, ri;

	buf_adds(b, ",\"partial\":{\"version\":1,\"experiments\":[");
	for (i = 0; i < nc; i++) {
		buf_adds(b, i ? ",{\"experiment\":" : "{\"experiment\":");
		buf_add_jstr(b, c[i].key, strlen(c[i].key));
		buf_adds(b, ",\"variants\":[");
		for (v = 0; v < c[i].nvar; v++) {
			if (v)
				buf_addc(b, ',');
			buf_add_jstr(b, c[i].names[v], strlen(c[i].names[v]));
		}
		buf_printf(b, "],\"not_in\":%lld,\"rules\":[", c[i].not_in);
		for (ri = 0; ri < c[i].nrules; ri++) {
			buf_adds(b, ri ? ",{\"share\":[" : "{\"share\":[");
			for (v = 0; v < c[i].nvar; v++) {
				fmt_double(num, c[i].share[ri * c[i].nvar + v]);
				buf_printf(b, "%s%s", v ? "," : "", num);
			}
			buf_adds(b, "],\"count\":[");
			for (v = 0; v < c[i].nvar; v++)
				buf_printf(b, "%s%lld", v ? "," : "",
				    c[i].count[ri * c[i].nvar + v]);
			buf_adds(b, "]}");
		}
		buf_adds(b, "]}");
	}
	buf_adds(b, "]}");
}

char *
split_report(const struct split_count *c, int nc, long long lines_out,
    const struct split_report_opts *ro)
{
	struct buf b;
	int i;

	buf_init(&b);
	buf_printf(&b, "\"lines_out\":%lld,\"experiments\":[", lines_out);
	for (i = 0; i < nc; i++)
		report_one(&b, &c[i], i == 0, ro);
	buf_addc(&b, ']');
	if (ro->partial)
		partial_member(&b, c, nc);
	return b.data;
}

/* A member that must be a non-negative integer; dies naming the file. */
static long long
get_count(jv obj, const char *key, const char *path)
{
	jv v = jv_object_get(jv_copy(obj), jv_string(key));
	double d;

	if (jv_get_kind(v) != JV_KIND_NUMBER || (d = jv_number_value(v)) < 0 ||
	    d > 9007199254740992.0 || d != (double)(long long)d)
		die("%s: member \"%s\": expected a count", path, key);
	jv_free(v);
	return (long long)d;
}

/* Add file's experiment e into c (made from it when fresh); dies on a mismatch. */
static void
merge_experiment(struct split_count *c, int fresh, jv e, const char *path,
    const char *first)
{
	jv key = jv_object_get(jv_copy(e), jv_string("experiment"));
	jv names = jv_object_get(jv_copy(e), jv_string("variants"));
	jv rules = jv_object_get(jv_copy(e), jv_string("rules"));
	int v, ri, nvar, nrules;

	if (jv_get_kind(key) != JV_KIND_STRING ||
	    jv_get_kind(names) != JV_KIND_ARRAY ||
	    jv_get_kind(rules) != JV_KIND_ARRAY)
		die("%s: not an asin-split --partial --stats file", path);
	nvar = jv_array_length(jv_copy(names));
	nrules = jv_array_length(jv_copy(rules));
	if (fresh) {
		c->key = xstrdup(jv_string_value(key));
		c->nvar = nvar;
		c->nrules = nrules;
		c->names = xcalloc((size_t)nvar, sizeof(*c->names));
		for (v = 0; v < nvar; v++) {
			jv n = jv_array_get(jv_copy(names), v);

			if (jv_get_kind(n) != JV_KIND_STRING)
				die("%s: variant names must be strings", path);
			c->names[v] = xstrdup(jv_string_value(n));
			jv_free(n);
		}
		c->share = xcalloc((size_t)(nvar * nrules), sizeof(*c->share));
		c->count = xcalloc((size_t)(nvar * nrules), sizeof(*c->count));
	} else if (strcmp(c->key, jv_string_value(key)) != 0 ||
	    c->nvar != nvar || c->nrules != nrules) {
		goto differ;
	}
	for (v = 0; !fresh && v < nvar; v++) {
		jv n = jv_array_get(jv_copy(names), v);
		int same = jv_get_kind(n) == JV_KIND_STRING &&
		    strcmp(c->names[v], jv_string_value(n)) == 0;

		jv_free(n);
		if (!same)
			goto differ;
	}
	for (ri = 0; ri < nrules; ri++) {
		jv r = jv_array_get(jv_copy(rules), ri);
		jv sh = jv_object_get(jv_copy(r), jv_string("share"));
		jv ct = jv_object_get(r, jv_string("count"));

		if (jv_get_kind(sh) != JV_KIND_ARRAY ||
		    jv_get_kind(ct) != JV_KIND_ARRAY ||
		    jv_array_length(jv_copy(sh)) != nvar ||
		    jv_array_length(jv_copy(ct)) != nvar)
			die("%s: rule %d: expected share and count arrays of "
			    "%d", path, ri + 1, nvar);
		for (v = 0; v < nvar; v++) {
			jv s = jv_array_get(jv_copy(sh), v);
			jv n = jv_array_get(jv_copy(ct), v);
			double d;

			if (jv_get_kind(s) != JV_KIND_NUMBER ||
			    jv_get_kind(n) != JV_KIND_NUMBER ||
			    (d = jv_number_value(n)) < 0 ||
			    d != (double)(long long)d)
				die("%s: rule %d: bad share or count", path,
				    ri + 1);
			if (fresh)
				c->share[ri * nvar + v] = jv_number_value(s);
			else if (c->share[ri * nvar + v] != jv_number_value(s))
				goto differ;
			c->count[ri * nvar + v] += (long long)d;
			jv_free(s);
			jv_free(n);
		}
		jv_free(sh);
		jv_free(ct);
	}
	c->not_in += get_count(e, "not_in", path);
	jv_free(key);
	jv_free(names);
	jv_free(rules);
	jv_free(e);
	return;
differ:
	die("%s: partial of other experiment definitions than %s (experiment "
	    "\"%s\")", path, first, c->key);
}

int
split_merge(char **paths, int n, const struct cli_common *co)
{
	static const char *const acct_keys[] = { "in", "out", "rejected",
	    "merged", "dropped" };
	struct split_report_opts ro = { 0, co->verbose, co->quiet };
	struct split_count *c = NULL;
	long long sums[5] = { 0 }, lines_out = 0;
	struct out *o;
	char *extra, *line;
	int i, k, nc = 0;

	for (i = 0; i < n; i++) {
		jv f = json_config_file(paths[i]);
		jv p = jv_object_get(jv_copy(f), jv_string("partial"));
		jv ex, ver;
		int ne;

		if (jv_get_kind(p) != JV_KIND_OBJECT)
			die("%s: not an asin-split --partial --stats file (no "
			    "\"partial\" member)", paths[i]);
		ver = jv_object_get(jv_copy(p), jv_string("version"));
		if (jv_get_kind(ver) != JV_KIND_NUMBER ||
		    jv_number_value(ver) != 1)
			die("%s: partial version is not 1", paths[i]);
		jv_free(ver);
		ex = jv_object_get(p, jv_string("experiments"));
		if (jv_get_kind(ex) != JV_KIND_ARRAY)
			die("%s: not an asin-split --partial --stats file",
			    paths[i]);
		ne = jv_array_length(jv_copy(ex));
		if (i == 0) {
			nc = ne;
			c = xcalloc((size_t)(nc ? nc : 1), sizeof(*c));
		} else if (ne != nc) {
			die("%s: partial of other experiment definitions than "
			    "%s (%d experiments, not %d)", paths[i], paths[0],
			    ne, nc);
		}
		for (k = 0; k < ne; k++)
			merge_experiment(&c[k], i == 0,
			    jv_array_get(jv_copy(ex), k), paths[i], paths[0]);
		jv_free(ex);
		for (k = 0; k < 5; k++)
			sums[k] += get_count(f, acct_keys[k], paths[i]);
		lines_out += get_count(f, "lines_out", paths[i]);
		jv_free(f);
	}
	/* The merged counts as one run's --stats file, on stdout. */
	extra = split_report(c, nc, lines_out, &ro);
	o = out_new(1, "<stdout>");
	line = xasprintf("{\"in\":%lld,\"out\":%lld,\"rejected\":%lld,"
	    "\"merged\":%lld,\"dropped\":%lld,%s}\n", sums[0], sums[1],
	    sums[2], sums[3], sums[4], extra);
	out_write(o, line, strlen(line));
	out_close(o);
	free(line);
	free(extra);
	for (i = 0; i < nc; i++) {
		for (k = 0; k < c[i].nvar; k++)
			free(c[i].names[k]);
		free(c[i].names);
		free(c[i].key);
		free(c[i].share);
		free(c[i].count);
	}
	free(c);
	return EXIT_OK;
}
