/*
 * ltr.c - unit tests of the ranking engines: the metrics of one query
 * (ltrmetrics.c), the lambdarank gradient of a two-row query worked out
 * by hand (lambdarank.c), and binning and a tree (gbdt.c).
 */
#include <math.h>
#include <stdlib.h>

#include "asin.h"
#include "gbdt.h"
#include "lambdarank.h"
#include "ltrmetrics.h"
#include "tap.h"

static double gain[31];

static void
test_metrics(void)
{
	int lab[] = { 0, 2, 1, 0 };
	double s[] = { 0.5, 0.5, 0.9, 0.1 };
	int zero[] = { 0, 0 };
	double zs[] = { 1, 2 };
	int ap[] = { 1, 0, 1, 0, 1, 0 };
	double aps[] = { 6, 5, 4, 3, 2, 1 };
	double nanv[] = { NAN, 1, NAN, 2 };
	size_t ord[8];
	int empty;
	double d0 = ltr_discount(0), d1 = ltr_discount(1), d2 = ltr_discount(2);

	ltr_order(s, 4, ord);
	tap_ok(ord[0] == 2 && ord[1] == 0 && ord[2] == 1 && ord[3] == 3,
	    "order: descending, ties in input order");
	ltr_order(nanv, 4, ord);
	tap_ok(ord[0] == 3 && ord[1] == 1 && ord[2] == 0 && ord[3] == 2,
	    "order: NaN last, in input order");
	ltr_order(s, 4, ord);
	tap_near(ltr_ndcg(lab, s, ord, 4, 3, gain, 0, NULL),
	    (1 * d0 + 0 * d1 + 3 * d2) / (3 * d0 + 1 * d1), 1e-15,
	    "ndcg@3 with a tie in input order");
	tap_near(ltr_ndcg(lab, s, ord, 4, 3, gain, 1, NULL),
	    (1 * d0 + 1.5 * d1 + 1.5 * d2) / (3 * d0 + 1 * d1), 1e-15,
	    "ndcg@3 tie-averaged");
	tap_near(ltr_ndcg(lab, s, ord, 4, 100, gain, 0, NULL),
	    (1 * d0 + 3 * d2) / (3 * d0 + 1 * d1), 1e-15, "k beyond n clips");
	ltr_order(zs, 2, ord);
	tap_ok(ltr_ndcg(zero, zs, ord, 2, 10, gain, 0, &empty) == 1 && empty,
	    "an all-zero query scores 1 and is counted empty");
	tap_ok(ltr_ap(zero, ord, 2, 0, 1, LTR_MAP_LIGHTGBM, &empty) == 1 &&
	    empty, "MAP of a query without relevant rows is 1");
	tap_ok(ltr_recall(zero, ord, 2, 1, 1) < 0,
	    "recall of a query without relevant rows is left out");
	ltr_order(aps, 6, ord);
	tap_near(ltr_ap(ap, ord, 6, 1, 1, LTR_MAP_LIGHTGBM, NULL), 1, 1e-15,
	    "map@1 LightGBM divides by min(npos, k)");
	tap_near(ltr_ap(ap, ord, 6, 1, 1, LTR_MAP_XGBOOST, NULL), 1.0 / 3,
	    1e-15, "map@1 XGBoost divides by npos");
	tap_near(ltr_ap(ap, ord, 6, 0, 1, LTR_MAP_LIGHTGBM, NULL),
	    (1 + 2.0 / 3 + 3.0 / 5) / 3, 1e-15, "MAP of the whole query");
	tap_near(ltr_recall(ap, ord, 6, 3, 1), 2.0 / 3, 1e-15, "recall@3");
	tap_near(ltr_precision(ap, ord, 6, 10, 1), 0.3, 1e-15,
	    "precision@10 divides by k, not by n");
}

static void
test_gradient(void)
{
	int lab[] = { 1, 0, 0, 0 };
	size_t b[] = { 0, 2, 4 };
	double s[] = { 0, 0, 3, 1 }, g[4], h[4];
	double w = 1 - 1 / log2(3.0), f = log2(1 + w);
	struct lambdarank *lr;

	lr = lambdarank_new(LR_LAMBDARANK, lab, b, 2, gain, 31, 30, 1, 1);
	lambdarank_grad(lr, s, g, h);
	tap_near(g[0], -0.5 * f, 1e-15, "lambda of the relevant row");
	tap_near(g[1], 0.5 * f, 1e-15, "lambda of the other row");
	tap_near(h[0], 0.25 * f, 1e-15, "hessian");
	tap_ok(g[2] == 0 && g[3] == 0 && h[2] == 0,
	    "an all-zero query has no gradient");
	tap_near(lambdarank_inv_max_dcg(lr, 0), 1, 1e-15, "1 / max DCG");
	lambdarank_free(lr);
	lr = lambdarank_new(LR_REGRESSION, lab, b, 2, gain, 31, 30, 1, 1);
	lambdarank_grad(lr, s, g, h);
	tap_ok(g[0] == -1 && g[2] == 3 && h[1] == 1,
	    "regression: score minus label");
	lambdarank_free(lr);
}

static void
test_gbdt(void)
{
	double x[200], y[200], g[200], h[200], row[1];
	size_t rows[200], i;
	struct gbdt_binning *bn;
	struct gbdt_data *d;
	struct gbdt_learner *l;
	struct gbdt_params p = { 2, 0, 5, 1e-3, 0, 0, 1 };
	struct gbdt_tree t;
	unsigned char ok[1] = { 1 };

	for (i = 0; i < 200; i++) {
		x[i] = i < 100 ? (double)(i % 10) : 10 + (double)(i % 10);
		y[i] = i < 100 ? -1 : 1;
		x[i] = i == 7 ? NAN : x[i];
		g[i] = 0 - y[i];	/* squared error at score 0 */
		h[i] = 1;
		rows[i] = i;
	}
	bn = gbdt_binning_new(x, 200, 1, 255, 3, 200000);
	tap_ok(bn->nthr[0] == 19, "one boundary between each of 20 values");
	tap_ok(bn->thr[0][9] == 9.5f, "boundary at the midpoint, float32");
	tap_ok(gbdt_bin_of(bn, 0, NAN) == 20, "missing has its own bin");
	d = gbdt_data_new(x, 200, 1, bn);
	l = gbdt_learner_new(d, &p);
	gbdt_grow(l, g, h, rows, 200, ok, &t);
	tap_ok(t.n == 3 && t.node[0].thr == 9.5, "the split separates");
	row[0] = 3;
	tap_near(gbdt_tree_predict(&t, row), -1, 1e-6, "left leaf");
	row[0] = 15;
	tap_near(gbdt_tree_predict(&t, row), 1, 1e-6, "right leaf");
	row[0] = NAN;
	tap_ok(gbdt_tree_predict(&t, row) < 0,
	    "missing goes where the training row went");
	free(t.node);
	gbdt_learner_free(l);
	gbdt_data_free(d);
	gbdt_binning_free(bn);
}

int
main(void)
{
	size_t i;

	for (i = 0; i < 31; i++)
		gain[i] = (double)((1UL << i) - 1);
	test_metrics();
	test_gradient();
	test_gbdt();
	return tap_done();
}
