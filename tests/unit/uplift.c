/*
 * uplift.c - unit tests for common/uplift.c: exact order-free sums, the
 * gbstats primitives, and the evaluation of a small table against values
 * worked out by hand.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "asin.h"
#include "tap.h"
#include "uplift.h"

static void
test_xsum(void)
{
	double v[2000], a, b;
	unsigned seed = 99;
	struct xsum x, y;
	size_t i, j;

	xsum_init(&x);
	xsum_add(&x, 1e100);
	xsum_add(&x, 1);
	xsum_add(&x, -1e100);
	tap_near(xsum_value(&x), 1, 0, "xsum keeps 1 next to 1e100");

	xsum_init(&x);
	for (i = 0; i < 10; i++)
		xsum_add(&x, 0.1);
	tap_ok(xsum_value(&x) == 1.0, "ten 0.1 sum to 1 exactly rounded");

	for (i = 0; i < 2000; i++) {
		seed = seed * 1103515245u + 12345u;
		v[i] = ((double)(seed >> 8) / 3.7) * ((seed & 1) ? 1e-3 : 1e5);
	}
	xsum_init(&x);
	for (i = 0; i < 2000; i++)
		xsum_add(&x, v[i]);
	a = xsum_value(&x);
	/* a different order: stride through the array */
	xsum_init(&y);
	for (j = 0; j < 7; j++)
		for (i = j; i < 2000; i += 7)
			xsum_add(&y, v[1999 - i]);
	b = xsum_value(&y);
	tap_ok(a == b, "xsum is independent of the order");

	xsum_init(&x);
	xsum_add(&x, NAN);
	tap_ok(isnan(xsum_value(&x)), "a NaN term makes the sum NaN");
	xsum_init(&x);
	tap_ok(xsum_value(&x) == 0, "an empty sum is 0");
}

static void
test_primitives(void)
{
	double p[] = { 0.01, 0.04, 0.03, 0.005, 0.55, 0.6 }, adj[6], chi2;
	double holm[] = { 0.05, 0.12, 0.12, 0.03, 1, 1 };
	double bh[] = { 0.03, 0.06, 0.06, 0.03, 0.6, 0.6 };
	double c[] = { 5000, 5200 }, w[] = { 1, 1 }, w0[] = { 1, 0, 1 };
	double c3[] = { 100, 50, 100 };
	size_t i;
	int ok;

	up_holm(p, adj, 6);
	for (i = 0, ok = 1; i < 6; i++)
		ok &= fabs(adj[i] - holm[i]) < 1e-15;
	tap_ok(ok, "Holm step-down with running max");
	up_bh(p, adj, 6);
	for (i = 0, ok = 1; i < 6; i++)
		ok &= fabs(adj[i] - bh[i]) < 1e-15;
	tap_ok(ok, "Benjamini-Hochberg step-up with running min");

	/* chi2 = 2 * 100^2 / 5100 */
	tap_near(up_srm_test(c, w, 2, &chi2), stats_chi2_sf(200.0 / 51, 1),
	    1e-15, "SRM p of two arms");
	tap_near(chi2, 200.0 / 51, 1e-15, "SRM chi-square");
	/* expected 125 for the two weighted arms: chi2 = 2 * 25^2 / 125 */
	tap_near(up_srm_test(c3, w0, 3, &chi2), stats_chi2_sf(10, 2), 1e-15,
	    "a zero weight leaves its arm out but counts in df");
	tap_near(chi2, 10, 1e-15, "chi-square over the weighted arms");
	c[0] = c[1] = 0;
	tap_ok(up_srm_test(c, w, 2, &chi2) == 1 && chi2 == 0,
	    "SRM of no units is p 1");

	tap_near(up_sample_var(6, 14, 3), 1, 0, "sample variance of 1,2,3");
	tap_ok(up_sample_var(5, 25, 1) == 0, "sample variance of one is 0");
	/* (vm/md^2 + vd mm^2/md^4 - 2 cov mm/md^3) at mm 2, md 4 */
	tap_near(up_var_ratio(2, 1, 4, 2, 0.5), 1.0 / 16 + 8.0 / 256 -
	    2.0 / 64, 1e-15, "delta-method variance of a ratio");
	tap_ok(up_var_ratio(2, 1, 0, 2, 0.5) == 0, "ratio over zero mean");
	tap_near(up_welch_dof(2, 10, 2, 10), 18, 1e-15,
	    "Welch dof of equal arms is n1 + n2 - 2");
	tap_ok(isnan(up_welch_dof(2, 1, 2, 10)), "Welch dof of n 1 is NaN");
	tap_ok(isnan(up_welch_dof(0, 10, 0, 10)), "Welch dof of zero variance");
}

static void
test_evaluate(void)
{
	struct up_table *tb = up_table_new();
	struct up_opts o;
	struct up_run *r;
	double v[UF_NFIELDS] = { 0 };
	unsigned mask = (1u << UF_IMPRESSIONS) | (1u << UF_CLICKS);
	char *err;
	size_t i;

	memset(&o, 0, sizeof(o));
	o.control = "control";
	o.alpha = 0.05;
	o.power = 0.8;
	o.srm_threshold = 0.001;
	o.roas_n = UF_UNITS;
	v[UF_IMPRESSIONS] = 600;
	v[UF_CLICKS] = 12;
	up_add_row(tb, "", 0, "control", 7, v, mask);
	v[UF_IMPRESSIONS] = 400;
	v[UF_CLICKS] = 8;
	up_add_row(tb, "", 0, "control", 7, v, mask);
	v[UF_IMPRESSIONS] = 1000;
	v[UF_CLICKS] = 30;
	up_add_row(tb, "", 0, "B", 1, v, mask);
	r = up_evaluate(tb, &o, &err);
	tap_ok(r != NULL, "evaluate a two-arm table");
	if (r == NULL) {
		up_table_free(tb);
		return;
	}
	tap_ok(r->nsrm == 1 && strcmp(r->srm[0].field, "impressions") == 0,
	    "SRM on impressions without units");
	tap_ok(r->nm == 4 && strcmp(r->m[0].metric, "ctr") == 0 &&
	    strcmp(r->m[0].variant, "B") == 0, "four metrics for B");
	tap_near(r->m[0].control_value, 0.02, 1e-15, "repeated rows summed");
	/* pooled: p = 0.025, z = 0.01 / sqrt(p (1-p) 2/1000) */
	tap_near(r->m[0].z, 0.01 / sqrt(0.025 * 0.975 * 0.002), 1e-14,
	    "pooled two-proportion z");
	tap_ok(r->m[1].control_value == 0 && isnan(r->m[1].p_value) &&
	    r->m[1].note != NULL && strcmp(r->m[1].note, "no successes or "
	    "no failures in either arm") == 0,
	    "cr without conversions: no test, and the note says why");
	tap_ok(isnan(r->m[3].z) && r->m[3].note != NULL &&
	    strncmp(r->m[3].note, "ratio of sums needs units", 25) == 0,
	    "roas without moments is a point estimate with a note");
	for (i = 0; i < r->nm; i++)
		if (isnan(r->m[i].p_value) && r->m[i].significant)
			break;
	tap_ok(i == r->nm, "no test without a p-value is significant");
	up_run_free(r);

	o.control = "ctl";
	r = up_evaluate(tb, &o, &err);
	tap_ok(r == NULL, "a missing control is an error");
	tap_str(err, "control variant 'ctl' not in input (have B, control)",
	    "the error names the variants");
	free(err);
	up_table_free(tb);
}

int
main(void)
{
	test_xsum();
	test_primitives();
	test_evaluate();
	return tap_done();
}
