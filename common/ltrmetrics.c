/*
 * ltrmetrics.c - ndcg@k, MAP and recall@k of one query.  The formulas and
 * tie rules are LightGBM's (src/metric/rank_metric.hpp, map_metric.hpp as
 * described in reference/ranking.md); sums run in rank order so results
 * do not depend on anything but the query's rows and their order.
 */
#include <math.h>
#include <stdlib.h>

#include "asin.h"
#include "ltrmetrics.h"

/* A stable merge sort of indices by descending score, NaN last. */
static int
before(const double *s, size_t a, size_t b)
{
	if (isnan(s[b]))
		return !isnan(s[a]);
	return s[a] > s[b];
}

static void
merge_sort(const double *s, size_t *v, size_t *tmp, size_t n)
{
	size_t h, i, j, k;

	if (n < 2)
		return;
	if (n <= 16) {
		/* insertion sort: stable, as only strictly better moves up */
		for (i = 1; i < n; i++) {
			size_t x = v[i];

			for (j = i; j > 0 && before(s, x, v[j - 1]); j--)
				v[j] = v[j - 1];
			v[j] = x;
		}
		return;
	}
	h = n / 2;
	merge_sort(s, v, tmp, h);
	merge_sort(s, v + h, tmp, n - h);
	for (i = 0, j = h, k = 0; i < h && j < n;)
		tmp[k++] = before(s, v[j], v[i]) ? v[j++] : v[i++];
	while (i < h)
		tmp[k++] = v[i++];
	while (j < n)
		tmp[k++] = v[j++];
	for (i = 0; i < n; i++)
		v[i] = tmp[i];
}

void
ltr_order(const double *score, size_t n, size_t *order)
{
	size_t i, *tmp;
	size_t stack[64];

	for (i = 0; i < n; i++)
		order[i] = i;
	tmp = n <= 64 ? stack : xmalloc(n * sizeof(*tmp));
	merge_sort(score, order, tmp, n);
	if (tmp != stack)
		free(tmp);
}

double
ltr_discount(size_t r)
{
	return 1.0 / log2((double)r + 2.0);
}

static int
cmp_gain_desc(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? 1 : x > y ? -1 : 0;
}

double
ltr_idcg(const int *lab, size_t n, size_t k, const double *gain)
{
	double idcg = 0, stackg[64], *g;
	size_t i, r;

	if (k > n)
		k = n;
	g = n <= 64 ? stackg : xmalloc(n * sizeof(*g));
	for (i = 0; i < n; i++)
		g[i] = gain[lab[i]];
	qsort(g, n, sizeof(*g), cmp_gain_desc);
	for (r = 0; r < k; r++)
		idcg += g[r] * ltr_discount(r);
	if (g != stackg)
		free(g);
	return idcg;
}

double
ltr_dcg(const int *lab, const size_t *order, size_t n, size_t k,
    const double *gain)
{
	double dcg = 0;
	size_t r;

	if (k > n)
		k = n;
	for (r = 0; r < k; r++)
		dcg += gain[lab[order[r]]] * ltr_discount(r);
	return dcg;
}

double
ltr_ndcg(const int *lab, const double *score, const size_t *order,
    size_t n, size_t k, const double *gain, int tie_avg, int *empty)
{
	double idcg, dcg = 0, block;
	size_t i, j, r, hi;

	if (empty != NULL)
		*empty = 0;
	if (k > n)
		k = n;
	idcg = ltr_idcg(lab, n, k, gain);
	if (!(idcg > 0)) {
		if (empty != NULL)
			*empty = 1;
		return LTR_EMPTY_VALUE;
	}
	if (!tie_avg)
		return ltr_dcg(lab, order, n, k, gain) / idcg;
	for (i = 0; i < k; i = j + 1) {
		double sg = 0, sd = 0;

		j = i;
		while (j + 1 < n && score[order[j + 1]] == score[order[i]])
			j++;
		for (r = i; r <= j; r++)
			sg += gain[lab[order[r]]];
		block = sg / (double)(j - i + 1);
		hi = j + 1 < k ? j + 1 : k;
		for (r = i; r < hi; r++)
			sd += ltr_discount(r);
		dcg += block * sd;
	}
	return dcg / idcg;
}

double
ltr_ap(const int *lab, const size_t *order, size_t n, size_t k,
    int rel_min, enum ltr_map_style style, int *empty)
{
	size_t i, npos = 0, hits = 0, kk = k == 0 || k > n ? n : k;
	double num = 0, den;

	if (empty != NULL)
		*empty = 0;
	for (i = 0; i < n; i++)
		npos += lab[i] >= rel_min;
	if (npos == 0) {
		if (empty != NULL)
			*empty = 1;
		return LTR_EMPTY_VALUE;
	}
	for (i = 0; i < kk; i++)
		if (lab[order[i]] >= rel_min) {
			hits++;
			num += (double)hits / (double)(i + 1);
		}
	den = (double)npos;
	if (style == LTR_MAP_LIGHTGBM && k != 0 && kk < npos)
		den = (double)kk;
	return num / den;
}

double
ltr_recall(const int *lab, const size_t *order, size_t n, size_t k,
    int rel_min)
{
	size_t i, npos = 0, hits = 0;

	for (i = 0; i < n; i++)
		npos += lab[i] >= rel_min;
	if (npos == 0)
		return -1;
	for (i = 0; i < k && i < n; i++)
		hits += lab[order[i]] >= rel_min;
	return (double)hits / (double)npos;
}

double
ltr_precision(const int *lab, const size_t *order, size_t n, size_t k,
    int rel_min)
{
	size_t i, hits = 0;

	for (i = 0; i < k && i < n; i++)
		hits += lab[order[i]] >= rel_min;
	return (double)hits / (double)k;
}
