/*
 * uplift-gbstats - run the GrowthBook gbstats fixtures that asin-uplift's
 * engine covers (fixed-horizon t tests on sample means, proportions and
 * ratios, Holm and Benjamini-Hochberg, SRM) through common/uplift.c and
 * common/stats.c.  Prints one TAP line per checked value; sequential,
 * CUPED and Bayesian cases are counted as skipped.
 *
 * usage: uplift-gbstats DIR
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "asin.h"
#include "uplift.h"

static int n_ok, n_bad, n_skip;

static jv
load(const char *dir, const char *name)
{
	char *path = xasprintf("%s/%s", dir, name);
	jv v = jv_load_file(path, 0);

	/* jv_load_file() returns the file's values as an array */
	if (!jv_is_valid(v) || jv_get_kind(v) != JV_KIND_ARRAY ||
	    jv_array_length(jv_copy(v)) != 1)
		die("%s: cannot load", path);
	free(path);
	return jv_array_get(v, 0);
}

static double
num(jv obj, const char *key)
{
	jv v = jv_object_get(jv_copy(obj), jv_string(key));
	double d = jv_get_kind(v) == JV_KIND_NUMBER ? jv_number_value(v) : NAN;

	jv_free(v);
	return d;
}

/* The fixture's rule: equal after rounding to dec places, or within 0.6 ulp
 * of that rounding. */
static void
check(const char *name, const char *what, double got, double want, int dec)
{
	double s = pow(10, dec);
	int ok = round(got * s) == round(want * s) ||
	    fabs(got - want) <= 0.6 / s;

	if (ok)
		n_ok++;
	else
		n_bad++;
	printf("%sok %d - %s [%s]\n", ok ? "" : "not ", n_ok + n_bad, name,
	    what);
	if (!ok)
		printf("#   got  %.17g\n#   want %.17g\n", got, want);
}

struct arm {
	double n, mean, var;
};

/* Mean, per-unit variance and n of a gbstats statistic; consumes s. */
static int
stat_of(jv s, struct arm *a)
{
	jv t = jv_object_get(jv_copy(s), jv_string("type"));
	const char *type = jv_string_value(t);
	int ok = 1;

	a->n = num(s, "n");
	if (strcmp(type, "sample_mean") == 0) {
		a->mean = num(s, "sum") / a->n;
		a->var = up_sample_var(num(s, "sum"), num(s, "sum_squares"),
		    a->n);
	} else if (strcmp(type, "proportion") == 0) {
		a->mean = num(s, "sum") / a->n;
		a->var = a->mean * (1 - a->mean);
	} else if (strcmp(type, "ratio") == 0) {
		jv m = jv_object_get(jv_copy(s), jv_string("m"));
		jv d = jv_object_get(jv_copy(s), jv_string("d"));
		double sm = num(m, "sum"), sd = num(d, "sum"), n = a->n;
		double mm = sm / n, md = sd / n, cov;

		a->mean = sd != 0 ? sm / sd : 0;
		if (md == 0 || n <= 1)
			a->var = 0;
		else {
			cov = (num(s, "m_d_sum_of_products") - sm * sd / n) /
			    (n - 1);
			a->var = up_var_ratio(mm, up_sample_var(sm,
			    num(m, "sum_squares"), n), md, up_sample_var(sd,
			    num(d, "sum_squares"), n), cov);
		}
		jv_free(m);
		jv_free(d);
	} else
		ok = 0;
	jv_free(t);
	jv_free(s);
	return ok;
}

/* Run one frequentist case; consumes c. */
static void
run_case(jv c)
{
	jv nm = jv_object_get(jv_copy(c), jv_string("name"));
	jv test = jv_object_get(jv_copy(c), jv_string("test"));
	jv cfg = jv_object_get(jv_copy(c), jv_string("config"));
	jv exp = jv_object_get(jv_copy(c), jv_string("expected"));
	jv dt = jv_object_get(jv_copy(cfg), jv_string("difference_type"));
	const char *name = jv_string_value(nm), *kind = jv_string_value(test);
	struct arm a, b;
	double alpha = num(cfg, "alpha"), est, var, se, dof, crit, hw, p;
	double lo, hi;
	int dec = (int)num(c, "decimals"), rel, dflt;

	if (isnan(alpha))
		alpha = 0.05;
	rel = strcmp(jv_string_value(dt), "relative") == 0;
	if (strncmp(kind, "sequential", 10) == 0 ||
	    !stat_of(jv_object_get(jv_copy(c), jv_string("stat_a")), &a) ||
	    !stat_of(jv_object_get(jv_copy(c), jv_string("stat_b")), &b)) {
		n_skip++;
		goto out;
	}
	if (rel) {
		est = (b.mean - a.mean) / fabs(a.mean);
		var = up_var_ratio(b.mean, b.var / b.n, a.mean, a.var / a.n, 0);
	} else {
		est = b.mean - a.mean;
		var = b.var / b.n + a.var / a.n;
	}
	dflt = a.var <= 0 || b.var <= 0 || var <= 0 || a.mean == 0;
	if (jv_object_has(jv_copy(exp),
	    jv_string("default_output_equal_to_result"))) {
		check(name, "default output", dflt, 1, 0);
		goto out;
	}
	if (dflt) {
		check(name, "not default", 0, 1, 0);
		goto out;
	}
	se = sqrt(var);
	dof = up_welch_dof(a.var, a.n, b.var, b.n);
	crit = est / se;
	if (strcmp(kind, "two_sided") == 0) {
		hw = stats_t_ppf(1 - alpha / 2, dof) * se;
		p = 2 * stats_t_cdf(-fabs(crit), dof);
		lo = est - hw;
		hi = est + hw;
	} else {
		hw = stats_t_ppf(1 - alpha, dof) * se;
		if (strcmp(kind, "one_sided_greater") == 0) {
			p = stats_t_cdf(-crit, dof);
			lo = est - hw;
			hi = INFINITY;
		} else {
			p = stats_t_cdf(crit, dof);
			lo = -INFINITY;
			hi = est + hw;
		}
	}
	if (!isnan(num(exp, "expected")))
		check(name, "expected", est, num(exp, "expected"), dec);
	if (!isnan(num(exp, "uplift_mean")))
		check(name, "uplift_mean", est, num(exp, "uplift_mean"), dec);
	if (!isnan(num(exp, "uplift_stddev")))
		check(name, "uplift_stddev", se, num(exp, "uplift_stddev"), dec);
	if (!isnan(num(exp, "pValue")))
		check(name, "pValue", p, num(exp, "pValue"), dec);
	if (!isnan(num(exp, "cr_a")))
		check(name, "cr_a", a.mean, num(exp, "cr_a"), dec);
	if (!isnan(num(exp, "cr_b")))
		check(name, "cr_b", b.mean, num(exp, "cr_b"), dec);
	{
		jv ci = jv_object_get(jv_copy(exp), jv_string("ci"));

		if (jv_get_kind(ci) == JV_KIND_ARRAY) {
			jv l = jv_array_get(jv_copy(ci), 0);
			jv h = jv_array_get(jv_copy(ci), 1);

			if (jv_get_kind(l) == JV_KIND_NUMBER)
				check(name, "ci lower", lo,
				    jv_number_value(l), dec);
			else
				check(name, "ci lower open", isinf(lo) != 0, 1, 0);
			if (jv_get_kind(h) == JV_KIND_NUMBER)
				check(name, "ci upper", hi,
				    jv_number_value(h), dec);
			else
				check(name, "ci upper open", isinf(hi) != 0, 1, 0);
			jv_free(l);
			jv_free(h);
		}
		jv_free(ci);
	}
out:
	jv_free(c);
	jv_free(nm);
	jv_free(test);
	jv_free(cfg);
	jv_free(exp);
	jv_free(dt);
}

static void
corrections(jv all, const char *key, int holm)
{
	jv list = jv_object_get(jv_copy(all), jv_string(key));
	double p[64], adj[64];
	int i, j, n, m;
	char what[64];

	n = jv_array_length(jv_copy(list));
	for (i = 0; i < n; i++) {
		jv c = jv_array_get(jv_copy(list), i);
		jv ps = jv_object_get(jv_copy(c), jv_string("p"));
		jv want = jv_object_get(jv_copy(c), jv_string("adjusted"));

		m = jv_array_length(jv_copy(ps));
		for (j = 0; j < m && j < 64; j++) {
			jv x = jv_array_get(jv_copy(ps), j);

			p[j] = jv_number_value(x);
			jv_free(x);
		}
		if (holm)
			up_holm(p, adj, (size_t)m);
		else
			up_bh(p, adj, (size_t)m);
		for (j = 0; j < m && j < 64; j++) {
			jv x = jv_array_get(jv_copy(want), j);

			snprintf(what, sizeof(what), "case %d p[%d]", i, j);
			check(key, what, adj[j], jv_number_value(x), 8);
			jv_free(x);
		}
		jv_free(c);
		jv_free(ps);
		jv_free(want);
	}
	jv_free(list);
}

static void
srm(jv all)
{
	jv cases = jv_object_get(all, jv_string("cases"));
	double counts[16], weights[16], chi2, p, want;
	int i, j, n, k;

	n = jv_array_length(jv_copy(cases));
	for (i = 0; i < n; i++) {
		jv c = jv_array_get(jv_copy(cases), i);
		jv cs = jv_object_get(jv_copy(c), jv_string("counts"));
		jv ws = jv_object_get(jv_copy(c), jv_string("weights"));
		int ok;

		k = jv_array_length(jv_copy(cs));
		for (j = 0; j < k && j < 16; j++) {
			jv x = jv_array_get(jv_copy(cs), j);
			jv y = jv_array_get(jv_copy(ws), j);

			counts[j] = jv_number_value(x);
			weights[j] = jv_number_value(y);
			jv_free(x);
			jv_free(y);
		}
		p = up_srm_test(counts, weights, (size_t)k, &chi2);
		want = num(c, "p_value");
		ok = fabs(p - want) <= 1e-12 * fmax(1, want) &&
		    fabs(chi2 - num(c, "chi2")) < 1e-9 &&
		    (fabs(p - want) <= 1e-9 * want || want < 1e-300);
		if (ok)
			n_ok++;
		else
			n_bad++;
		printf("%sok %d - srm case %d\n", ok ? "" : "not ", n_ok + n_bad,
		    i);
		if (!ok)
			printf("#   got p %.17g chi2 %.17g, want %.17g %.17g\n",
			    p, chi2, want, num(c, "chi2"));
		jv_free(c);
		jv_free(cs);
		jv_free(ws);
	}
	jv_free(cases);
}

int
main(int argc, char *argv[])
{
	jv cases, corr;
	int i, n;

	diag_init(argv[0]);
	if (argc != 2)
		usage_error("usage: uplift-gbstats DIR");
	for (n = 0; n < 2; n++) {
		cases = load(argv[1], n ? "engine-metrics.json" :
		    "frequentist-tests.json");
		for (i = 0; i < jv_array_length(jv_copy(cases)); i++)
			run_case(jv_array_get(jv_copy(cases), i));
		jv_free(cases);
	}
	corr = load(argv[1], "pvalue-corrections.json");
	corrections(corr, "holm_bonferroni", 1);
	corrections(corr, "benjamini_hochberg", 0);
	jv_free(corr);
	srm(load(argv[1], "srm-generated.json"));
	printf("1..%d\n# %d passed, %d failed, %d cases skipped (sequential, "
	    "CUPED)\n", n_ok + n_bad, n_ok, n_bad, n_skip);
	return n_bad ? 1 : 0;
}
