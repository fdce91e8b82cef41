/*
 * ltrmetrics.h - ranking metrics of one query (group): ndcg@k, MAP and
 * recall@k with the conventions of LightGBM and XGBoost 1.7 spelled out
 * (reference/ranking.md sections 2 and 4).  Every function reads one
 * query's labels and scores and allocates nothing; the caller passes an
 * order computed once with ltr_order().
 */
#ifndef LTRMETRICS_H
#define LTRMETRICS_H

#include <stddef.h>

/* The value a query scores when no ranking can be wrong (no relevant
 * item, all labels 0): 1, as both LightGBM and XGBoost count it. */
#define LTR_EMPTY_VALUE 1.0

/*
 * Fill order[0..n) with the row indices of the query by descending
 * score; equal scores keep input order (std::stable_sort in LightGBM and
 * XGBoost).  NaN scores sort last, in input order.
 */
void ltr_order(const double *score, size_t n, size_t *order);

/* 1 / log2(r + 2): the discount at 0-based rank r. */
double ltr_discount(size_t r);

/*
 * NDCG@k with gains gain[label] of the rows in order (ltr_order()).
 * lab[] are label indices into gain[] (checked by the caller).  k is
 * clipped to n.  A query whose ideal DCG@k is 0 scores LTR_EMPTY_VALUE
 * and *empty (if not NULL) is set to 1.  tie_avg: tied scores share
 * the mean gain of their tie block (the order-free form of McSherry and
 * Najork, sklearn's ndcg_score); score is read only for that.
 */
double ltr_ndcg(const int *lab, const double *score, const size_t *order,
    size_t n, size_t k, const double *gain, int tie_avg, int *empty);

/* The ideal DCG@k of a query, and the DCG@k of an order: ltr_ndcg()
 * without tie averaging is dcg / idcg (or LTR_EMPTY_VALUE when idcg is
 * 0), for callers that score the same query many times. */
double ltr_idcg(const int *lab, size_t n, size_t k, const double *gain);
double ltr_dcg(const int *lab, const size_t *order, size_t n, size_t k,
    const double *gain);

/* The two MAP conventions, named after the library that uses each. */
enum ltr_map_style {
	LTR_MAP_LIGHTGBM,	/* divide by min(npos, k) */
	LTR_MAP_XGBOOST		/* divide by npos */
};

/*
 * Average precision over the first k rows (k == 0: the whole query).
 * Relevant means label >= rel_min.  A query with no relevant row scores
 * LTR_EMPTY_VALUE and sets *empty.
 */
double ltr_ap(const int *lab, const size_t *order, size_t n, size_t k,
    int rel_min, enum ltr_map_style style, int *empty);

/*
 * Recall@k: relevant rows in the first k over all relevant rows.
 * Returns -1 for a query without relevant rows: such a query is left out
 * of the mean (it has nothing to recall).
 */
double ltr_recall(const int *lab, const size_t *order, size_t n, size_t k,
    int rel_min);

/* Precision@k as XGBoost's pre@k: hits in the first k divided by k. */
double ltr_precision(const int *lab, const size_t *order, size_t n,
    size_t k, int rel_min);

#endif
