/*
 * lambdarank.h - the gradients of the ranking objectives: LightGBM's
 * lambdarank (LambdaMART with top-T truncation and lambda normalisation,
 * reference/ranking.md section 1), RankNet pairwise, and squared error.
 * Gradients are of a loss, as LightGBM and XGBoost store them: a
 * negative gradient raises a score.
 */
#ifndef LAMBDARANK_H
#define LAMBDARANK_H

#include <stddef.h>

enum lr_objective {
	LR_LAMBDARANK,
	LR_PAIRWISE,
	LR_REGRESSION
};

struct lambdarank;

/*
 * A gradient engine over nq queries: query q holds rows
 * [bounds[q], bounds[q+1]).  label[] are label indices into gain[]
 * (ngain entries, non-decreasing; the caller checked the range).  All
 * arrays are borrowed and must outlive the engine.  trunc: pairs need a
 * member among the current top trunc rows; sigma: the sigmoid's slope;
 * norm: LightGBM's lambdarank_norm.
 */
struct lambdarank *lambdarank_new(enum lr_objective, const int *label,
    const size_t *bounds, size_t nq, const double *gain, size_t ngain,
    int trunc, double sigma, int norm);
void lambdarank_free(struct lambdarank *);

/*
 * Gradients g[] and hessians h[] of every row at scores s[] (all of
 * bounds[nq] rows).  Deterministic: the same scores give the same bits.
 */
void lambdarank_grad(struct lambdarank *, const double *s, double *g,
    double *h);

/* 1 / maxDCG@trunc of query q (0 when all its labels are 0). */
double lambdarank_inv_max_dcg(const struct lambdarank *, size_t q);

#endif
