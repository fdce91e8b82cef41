/*
 * lambdarank.c - per-query gradients of LambdaMART as LightGBM computes
 * them (src/objective/rank_objective.hpp as described in
 * reference/ranking.md 1.2-1.4): rows ranked by a stable sort of the
 * current scores, pairs with at least one member in the top T, |delta
 * NDCG| over the truncated ideal DCG, divided by 0.01 + |delta s|, the
 * sigmoid read from LightGBM's 2^20-bin table (so results agree to the
 * last digits, not only to the table's 5e-5 quantisation), and each
 * query's lambdas scaled by log2(1 + sum) / sum.
 */
#include <sys/mman.h>

#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "asin.h"
#include "lambdarank.h"
#include "ltrmetrics.h"

#define SIG_BINS (1024 * 1024)
#define PF_AHEAD 8

struct lambdarank {
	enum lr_objective obj;
	const int *label;
	const size_t *bounds;
	size_t nq;
	const double *gain;
	int trunc;
	double sigma;
	int norm;
	double *inv_max_dcg;
	double *sig;		/* the sigmoid table */
	void *sig_map;		/* its mapping (table_new()) */
	size_t sig_maplen;
	double sig_min, sig_max, sig_factor;
	double *disc;		/* discounts, grown to the largest query */
	/* every query's rows in rank order at the last scores sorted
	 * (query q's at bounds[q], numbered from 0), kept so the next
	 * sort starts from it: one tree moves few rows */
	size_t *order;
	size_t *sortbuf;	/* ltr_order()'s fallback, maxn */
	double *ls, *hs;	/* per-rank lambdas and hessians */
	double *ss, *gs;	/* per-rank scores and gains */
	int *ll;		/* per-rank labels */
	size_t maxn;
};

static int
cmp_int_desc(const void *a, const void *b)
{
	int x = *(const int *)a, y = *(const int *)b;

	return (x < y) - (x > y);
}

/*
 * The zeroed table, on 2 MB pages where the kernel gives them for the
 * asking (transparent huge pages in madvise mode): with 4 kB pages
 * each bin a run touches first costs a page fault and most table reads
 * a TLB miss, which on a virtual machine were a tenth of a run.
 */
static double *
table_new(struct lambdarank *lr)
{
	size_t len = SIG_BINS * sizeof(double), huge = (size_t)2 << 20;
	uintptr_t a;

	lr->sig_maplen = len + huge;
	lr->sig_map = mmap(NULL, lr->sig_maplen, PROT_READ | PROT_WRITE,
	    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (lr->sig_map == MAP_FAILED)
		die("cannot map %zu bytes:", lr->sig_maplen);
	a = ((uintptr_t)lr->sig_map + huge - 1) & ~(uintptr_t)(huge - 1);
#ifdef MADV_HUGEPAGE
	/* advice: without huge pages the table works the same */
	(void)madvise((void *)a, len, MADV_HUGEPAGE);
#endif
	return (double *)a;
}

struct lambdarank *
lambdarank_new(enum lr_objective obj, const int *label, const size_t *bounds,
    size_t nq, const double *gain, size_t ngain, int trunc, double sigma,
    int norm)
{
	struct lambdarank *lr = xcalloc(1, sizeof(*lr));
	size_t q, i, n, k, maxn = 1;
	int *tmp;
	double m;

	(void)ngain;
	lr->obj = obj;
	lr->label = label;
	lr->bounds = bounds;
	lr->nq = nq;
	lr->gain = gain;
	lr->trunc = trunc;
	lr->sigma = sigma;
	lr->norm = norm;
	for (q = 0; q < nq; q++)
		if (bounds[q + 1] - bounds[q] > maxn)
			maxn = bounds[q + 1] - bounds[q];
	lr->maxn = maxn;
	lr->disc = xmalloc(maxn * sizeof(double));
	for (i = 0; i < maxn; i++)
		lr->disc[i] = ltr_discount(i);
	lr->order = xmalloc((bounds[nq] + 1) * sizeof(size_t));
	for (q = 0; q < nq; q++)
		for (i = 0; i < bounds[q + 1] - bounds[q]; i++)
			lr->order[bounds[q] + i] = i;
	lr->sortbuf = xmalloc(maxn * sizeof(size_t));
	lr->ls = xmalloc(maxn * sizeof(double));
	lr->hs = xmalloc(maxn * sizeof(double));
	lr->ss = xmalloc(maxn * sizeof(double));
	lr->gs = xmalloc(maxn * sizeof(double));
	lr->ll = xmalloc(maxn * sizeof(int));
	lr->inv_max_dcg = xcalloc(nq ? nq : 1, sizeof(double));
	tmp = xmalloc(maxn * sizeof(int));
	for (q = 0; q < nq; q++) {
		n = bounds[q + 1] - bounds[q];
		memcpy(tmp, label + bounds[q], n * sizeof(int));
		qsort(tmp, n, sizeof(int), cmp_int_desc);
		k = (size_t)trunc < n ? (size_t)trunc : n;
		m = 0;
		for (i = 0; i < k; i++)
			m += gain[tmp[i]] * lr->disc[i];
		lr->inv_max_dcg[q] = m > 0 ? 1.0 / m : 0.0;
	}
	free(tmp);
	if (obj != LR_REGRESSION) {
		/* LightGBM's table: bins over [-50/sigma/2, 50/sigma/2]. */
		lr->sig_min = -50.0 / sigma / 2.0;
		lr->sig_max = -lr->sig_min;
		lr->sig_factor = SIG_BINS / (lr->sig_max - lr->sig_min);
		/* Filled on first use (sig_lookup()): a run reads a small
		 * part of the 2^20 bins, and 8 MB of exp() and page faults
		 * up front cost more than its boosting on small data.
		 * Untouched bins stay 0, which no bin holds: the table spans
		 * sigma x in [-25, 25], so 1 / (1 + exp) > 1e-11. */
		lr->sig = table_new(lr);
	}
	return lr;
}

void
lambdarank_free(struct lambdarank *lr)
{
	if (lr == NULL)
		return;
	free(lr->inv_max_dcg);
	if (lr->sig_map != NULL)
		munmap(lr->sig_map, lr->sig_maplen);
	free(lr->disc);
	free(lr->order);
	free(lr->sortbuf);
	free(lr->ls);
	free(lr->hs);
	free(lr->ss);
	free(lr->gs);
	free(lr->ll);
	free(lr);
}

double
lambdarank_inv_max_dcg(const struct lambdarank *lr, size_t q)
{
	return lr->inv_max_dcg[q];
}

/*
 * Whether row a comes before row b in ltr_order()'s order: higher score
 * first, NaN last, equal scores in input order.  A total order, so any
 * sort by it gives ltr_order()'s result.
 */
static inline int
ahead(const double *s, size_t a, size_t b)
{
	if (isnan(s[a]) || isnan(s[b])) {
		if (isnan(s[a]) != isnan(s[b]))
			return !isnan(s[a]);
		return a < b;
	}
	return s[a] > s[b] || (s[a] == s[b] && a < b);
}

/*
 * Sort ord[0..n) (a permutation of the query's rows) into rank order at
 * scores s, starting from the order it holds: an insertion sort, n - 1
 * comparisons when nothing moved and little more after one tree.  Past
 * a budget of moves it gives up for ltr_order()'s merge sort, so a
 * reshuffled query costs n log n, not n^2.
 */
static void
resort(struct lambdarank *lr, const double *s, size_t n, size_t *ord)
{
	size_t i, j, moves = 0, budget = 8 * n + 64;

	for (i = 1; i < n; i++) {
		size_t x = ord[i];

		for (j = i; j > 0 && ahead(s, x, ord[j - 1]); j--)
			ord[j] = ord[j - 1];
		ord[j] = x;
		moves += i - j;
		if (moves > budget) {
			ltr_order(s, n, lr->sortbuf);
			memcpy(ord, lr->sortbuf, n * sizeof(size_t));
			return;
		}
	}
}

void
lambdarank_sort(struct lambdarank *lr, const double *s)
{
	size_t q;

	for (q = 0; q < lr->nq; q++)
		resort(lr, s + lr->bounds[q], lr->bounds[q + 1] -
		    lr->bounds[q], lr->order + lr->bounds[q]);
}

const size_t *
lambdarank_order(const struct lambdarank *lr, size_t q)
{
	return lr->order + lr->bounds[q];
}

/* Bin i of LightGBM's table, computed as it computes it. */
static double
sig_fill(const struct lambdarank *lr, long i)
{
	lr->sig[i] = 1.0 / (1.0 + exp(lr->sigma * ((double)i /
	    lr->sig_factor + lr->sig_min)));
	return lr->sig[i];
}

/* The table bin of x; outside the table, the end bins. */
static inline long
sig_index(const struct lambdarank *lr, double x)
{
	double f;

	if (x <= lr->sig_min)
		return 0;
	f = (x - lr->sig_min) * lr->sig_factor;
	return f >= SIG_BINS - 1 ? SIG_BINS - 1 : (long)f;
}

/* 1 / (1 + exp(sigma x)) from the table; outside it, the end bins. */
static inline double
sig_lookup(const struct lambdarank *lr, double x)
{
	long i = sig_index(lr, x);
	double v = lr->sig[i];

	return v != 0 ? v : sig_fill(lr, i);
}

static void
one_query(struct lambdarank *lr, size_t q, const double *s, double *g,
    double *h)
{
	size_t a = lr->bounds[q], n = lr->bounds[q + 1] - a;
	const int *lab = lr->label + a;
	const double *sq = s + a, *disc = lr->disc;
	size_t *ord = lr->order + a, i, j, top;
	double *ls = lr->ls, *hs = lr->hs, inv = lr->inv_max_dcg[q];
	double *ss = lr->ss, *gs = lr->gs;
	int *ll = lr->ll;
	double best, worst, sum = 0, sigma = lr->sigma, f;
	int lpair = lr->obj == LR_LAMBDARANK;
	int norm = lpair && lr->norm;

	for (i = 0; i < n; i++)
		g[a + i] = h[a + i] = 0;
	resort(lr, sq, n, ord);
	if (n < 2 || (lpair && inv == 0))
		return;
	/* the query in rank order, so the pair loop reads memory in order */
	for (i = 0; i < n; i++) {
		ls[i] = hs[i] = 0;
		ss[i] = sq[ord[i]];
		ll[i] = lab[ord[i]];
		gs[i] = lr->gain[ll[i]];
	}
	best = ss[0];
	worst = ss[n - 1];
	/* no division by |delta s| when every score is equal */
	norm = norm && best != worst;
	top = n - 1;
	if (lpair && (size_t)lr->trunc < top)
		top = (size_t)lr->trunc;
	for (i = 0; i < top; i++) {
		int li = ll[i];
		/* Row i is in every pair of this loop: its sums live in
		 * registers, not in memory, where each pair's update waited
		 * for the last one's store.  Same additions, same order. */
		double lsi = ls[i], hsi = hs[i], si = ss[i], gi = gs[i];
		double di = disc[i];

		for (j = i + 1; j < n; j++) {
			double ds, w, p, pl, ph, sg;

			/*
			 * The table is 8 MB and a pair's bin is far from the
			 * last one's: ask for the bin of the pair PF_AHEAD on
			 * while this one is computed, so the loads overlap.
			 */
			if (j + PF_AHEAD < n && li != ll[j + PF_AHEAD]) {
				double d = si - ss[j + PF_AHEAD];

				__builtin_prefetch(lr->sig + sig_index(lr,
				    li > ll[j + PF_AHEAD] ? d : -d));
			}
			if (li == ll[j])
				continue;
			/* +1 when row i is the better one (hi), else -1:
			 * x * -1 is -x exactly, and a - b is -(b - a), so
			 * these are the hi-minus-lo differences */
			sg = li > ll[j] ? 1.0 : -1.0;
			ds = (si - ss[j]) * sg;
			if (lpair) {
				w = (gi - gs[j]) * sg * (di - disc[j]) * inv;
				if (norm)
					w /= 0.01 + fabs(ds);
			} else
				w = 1;
			p = sig_lookup(lr, ds);
			pl = -sigma * w * p;
			ph = sigma * sigma * w * p * (1.0 - p);
			/* ls[hi] += pl, ls[lo] -= pl */
			lsi += pl * sg;
			ls[j] -= pl * sg;
			hsi += ph;
			hs[j] += ph;
			sum += -2.0 * pl;
		}
		ls[i] = lsi;
		hs[i] = hsi;
	}
	f = 1;
	if (lpair && lr->norm && sum > 0)
		f = log2(1.0 + sum) / sum;
	for (i = 0; i < n; i++) {
		g[a + ord[i]] = ls[i] * f;
		h[a + ord[i]] = hs[i] * f;
	}
}

void
lambdarank_grad(struct lambdarank *lr, const double *s, double *g, double *h)
{
	size_t q, i;

	if (lr->obj == LR_REGRESSION) {
		for (i = 0; i < lr->bounds[lr->nq]; i++) {
			g[i] = s[i] - (double)lr->label[i];
			h[i] = 1;
		}
		return;
	}
	for (q = 0; q < lr->nq; q++)
		one_query(lr, q, s, g, h);
}
