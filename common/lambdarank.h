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

/*
 * Sort every query's rows into rank order at scores s (ltr_order()'s
 * order: higher score first, ties in input order), starting from the
 * order of the last scores sorted, which costs little when few rows
 * moved.  lambdarank_grad() sorts too (for lambdarank and pairwise;
 * regression needs no order); the order stays readable until
 * the next sort through lambdarank_order(): query q's rows (numbered
 * from 0 within the query) best first, owned by the engine.
 */
void lambdarank_sort(struct lambdarank *, const double *s);
const size_t *lambdarank_order(const struct lambdarank *, size_t q);

/* 1 / maxDCG@trunc of query q (0 when all its labels are 0). */
double lambdarank_inv_max_dcg(const struct lambdarank *, size_t q);

#endif
