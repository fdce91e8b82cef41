/*
 * predict.c - the batch predictor behind `asin-rank score`: the model's
 * score of many rows at once, the same bits as model_predict().
 *
 * Why it is fast: a row's features are turned once into their ranks
 * among the float32 thresholds the trees split that feature at, so a
 * node's test "x < threshold" becomes "rank <= j", an integer compare,
 * and a node fits one 64-bit word: slot (16 bits), threshold rank
 * (16 bits), the index of its left child (32 bits), the right child
 * being next to it.  Missing values need no test: a row carries each
 * rank twice, a low copy where missing is 0 (goes left of every split)
 * and a high copy where it is 0xffff (goes right), and a node reads the
 * copy its default direction asks for.  A leaf points to itself with
 * threshold 0xffff, so a walk takes the tree's depth in steps without
 * looking for leaves.  Trees are walked one at a time over the whole
 * batch, 8 rows side by side, so the tree stays in L1 cache and the
 * 8 walks' loads overlap instead of waiting for one another.
 *
 * When the trees have at most 32 leaves and read few features, a faster
 * way needs no walk at all (QuickScorer, Lucchese et al., SIGIR 2015, on
 * ranks): number each tree's leaves left to right; a node the row
 * leaves by the right clears the bits of its left subtree's leaves, and
 * the row's leaf is the lowest bit left standing.  Which nodes of
 * feature f a row leaves by the right depends only on its rank there,
 * so the AND of their masks is a table row M_f[rank] of one word per
 * tree, made when the model is read.  A row's leaves are then the AND
 * of one table row per feature (a loop the compiler vectorises) and a
 * count of trailing zeros per tree.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "rank.h"

#define PRED_MISSING_HI 0xffff

struct predictor {
	size_t nf;
	size_t ntrees;
	double base;
	uint64_t *node;		/* every tree's nodes */
	float *leaf;		/* the leaf value of each node (0: inner) */
	uint32_t *root;		/* of tree t */
	int *depth;
	float **thr;		/* per feature: ascending distinct thresholds */
	size_t *nthr;
	/* per feature: thresholds in buckets of equal width from thr[0],
	 * start[b] of them below bucket b (see pred_row()) */
	uint16_t **start;
	unsigned *nbk;
	double *scale;
	/* the table way, or NULL: per used feature qf[i], rows qrow[i] +
	 * rank * ntrees of qs (rank nthr + 1: missing) */
	uint32_t *qs;
	size_t *qf, *qrow, nq;
	float *qleaf;		/* tree t's leaf k: qleaf[t * 32 + k] */
};

/* The table way costs more than walking beyond this many bytes. */
#define PRED_TABLE_MAX (32u << 20)

static int
cmp_float(const void *a, const void *b)
{
	float x = *(const float *)a, y = *(const float *)b;

	return (x > y) - (x < y);
}

static int
tree_depth(const struct gbdt_tree *t, int n)
{
	int l, r;

	if (t->node[n].feat < 0)
		return 0;
	l = tree_depth(t, t->node[n].left);
	r = tree_depth(t, t->node[n].right);
	return 1 + (l > r ? l : r);
}

/* The index of v in the ascending distinct a[0..n). */
static size_t
thr_index(const float *a, size_t n, float v)
{
	size_t lo = 0, hi = n, mid;

	while (lo < hi) {
		mid = (lo + hi) / 2;
		if (a[mid] < v)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

/* Tree t's leaves numbered left to right from *k, and each inner
 * node's mask (all bits but its left subtree's leaves) in mask[]. */
static void
number_leaves(const struct gbdt_tree *tr, int n, int *k, int *leafno,
    uint32_t *mask)
{
	int lo;

	if (tr->node[n].feat < 0) {
		leafno[n] = (*k)++;
		return;
	}
	lo = *k;
	number_leaves(tr, tr->node[n].left, k, leafno, mask);
	mask[n] = ~(uint32_t)((((uint64_t)1 << (*k - lo)) - 1) << lo);
	number_leaves(tr, tr->node[n].right, k, leafno, mask);
}

/* Build the table way if the model suits it: 32 leaves a tree at most,
 * a table of bounded size, and cheaper than the walk by a rough count of
 * operations a row. */
static void
table_new(struct predictor *p, const struct model *m)
{
	size_t t, f, i, rows = 0, T = m->ntrees, walk = 0;
	size_t maxn = 0;
	int *leafno, k;
	uint32_t *mask;
	char *used = xcalloc(m->nf + 1, 1);

	for (t = 0; t < T; t++) {
		size_t leaves = 0;

		for (i = 0; i < m->tree[t].n; i++) {
			if (m->tree[t].node[i].feat < 0)
				leaves++;
			else
				used[m->tree[t].node[i].feat] = 1;
		}
		if (leaves > 32) {
			free(used);
			return;
		}
		if (m->tree[t].n > maxn)
			maxn = m->tree[t].n;
		walk += (size_t)p->depth[t];
	}
	for (f = 0; f < m->nf; f++)
		if (used[f]) {
			p->nq++;
			rows += p->nthr[f] + 2;
		}
	/* a walk step is some 8 operations a row; the table a quarter of
	 * an operation a feature and tree, and about 6 a tree for the sum */
	if (T == 0 || rows > PRED_TABLE_MAX / 4 / T ||
	    p->nq * T / 4 + 6 * T >= 8 * walk) {
		p->nq = 0;
		free(used);
		return;
	}
	p->qs = xmalloc(rows * T * sizeof(uint32_t));
	memset(p->qs, 0xff, rows * T * sizeof(uint32_t));
	p->qf = xcalloc(p->nq + 1, sizeof(size_t));
	p->qrow = xcalloc(m->nf + 1, sizeof(size_t));
	p->qleaf = xcalloc(T * 32 + 1, sizeof(float));
	for (f = 0, i = 0, rows = 0; f < m->nf; f++)
		if (used[f]) {
			p->qf[i++] = f;
			p->qrow[f] = rows * T;
			rows += p->nthr[f] + 2;
		}
	leafno = xcalloc(maxn + 1, sizeof(int));
	mask = xcalloc(maxn + 1, sizeof(uint32_t));
	for (t = 0; t < T; t++) {
		const struct gbdt_tree *tr = &m->tree[t];

		k = 0;
		number_leaves(tr, 0, &k, leafno, mask);
		for (i = 0; i < tr->n; i++) {
			const struct gbdt_node *nd = &tr->node[i];
			size_t j;
			uint32_t *q;

			if (nd->feat < 0) {
				p->qleaf[t * 32 + (size_t)leafno[i]] =
				    (float)nd->value;
				continue;
			}
			f = (size_t)nd->feat;
			j = thr_index(p->thr[f], p->nthr[f], (float)nd->thr);
			/* ranks above j leave by the right: mark row j + 1,
			 * the AND down the ranks below spreads it */
			q = p->qs + p->qrow[f];
			q[(j + 1) * T + t] &= mask[i];
			if (!nd->dleft)
				q[(p->nthr[f] + 1) * T + t] &= mask[i];
		}
	}
	for (i = 0; i < p->nq; i++) {
		uint32_t *q = p->qs + p->qrow[p->qf[i]];
		size_t r, n = p->nthr[p->qf[i]];

		for (r = 1; r <= n; r++)
			for (t = 0; t < T; t++)
				q[r * T + t] &= q[(r - 1) * T + t];
	}
	free(leafno);
	free(mask);
	free(used);
}

/* The bucket of v in feature f, thr[0] <= v < thr[n - 1]: a monotone
 * function of v, which is all pred_row() needs of it. */
static inline unsigned
bucket(const struct predictor *p, size_t f, float v)
{
	double b = ((double)v - (double)p->thr[f][0]) * p->scale[f];

	return b < p->nbk[f] ? (unsigned)b : p->nbk[f] - 1;
}

struct predictor *
pred_new(const struct model *m)
{
	struct predictor *p;
	size_t t, i, f, total = 0, at;
	size_t *cnt;
	int *queue, *pos;

	/* slots are 16 bits: 2 nf of them; ranks below 0xffff */
	if (m->nf == 0 || m->nf > 0x7fff)
		return NULL;
	p = xcalloc(1, sizeof(*p));
	p->nf = m->nf;
	p->ntrees = m->ntrees;
	p->base = m->base_score;
	cnt = xcalloc(m->nf, sizeof(size_t));
	for (t = 0; t < m->ntrees; t++) {
		total += m->tree[t].n;
		for (i = 0; i < m->tree[t].n; i++)
			if (m->tree[t].node[i].feat >= 0)
				cnt[m->tree[t].node[i].feat]++;
	}
	p->thr = xcalloc(m->nf, sizeof(float *));
	p->nthr = xcalloc(m->nf, sizeof(size_t));
	for (f = 0; f < m->nf; f++)
		p->thr[f] = xmalloc((cnt[f] + 1) * sizeof(float));
	for (t = 0; t < m->ntrees; t++)
		for (i = 0; i < m->tree[t].n; i++) {
			const struct gbdt_node *nd = &m->tree[t].node[i];

			if (nd->feat >= 0)
				p->thr[nd->feat][p->nthr[nd->feat]++] =
				    (float)nd->thr;
		}
	for (f = 0; f < m->nf; f++) {
		size_t k = 0;

		qsort(p->thr[f], p->nthr[f], sizeof(float), cmp_float);
		for (i = 0; i < p->nthr[f]; i++)
			if (k == 0 || p->thr[f][k - 1] != p->thr[f][i])
				p->thr[f][k++] = p->thr[f][i];
		p->nthr[f] = k;
		if (k >= PRED_MISSING_HI) {
			free(cnt);
			pred_free(p);
			return NULL;
		}
	}
	free(cnt);
	p->start = xcalloc(m->nf, sizeof(uint16_t *));
	p->nbk = xcalloc(m->nf, sizeof(unsigned));
	p->scale = xcalloc(m->nf, sizeof(double));
	for (f = 0; f < m->nf; f++) {
		size_t n = p->nthr[f], b;
		unsigned nb = 1;

		if (n < 2)
			continue;
		while (nb < 4 * n && nb < 4096)
			nb *= 2;
		p->nbk[f] = nb;
		p->scale[f] = nb / ((double)p->thr[f][n - 1] -
		    (double)p->thr[f][0]);
		p->start[f] = xcalloc(nb + 1, sizeof(uint16_t));
		for (i = 0, b = 0; b < nb; b++) {
			while (i < n && bucket(p, f, p->thr[f][i]) < b)
				i++;
			p->start[f][b] = (uint16_t)i;
		}
	}
	p->node = xcalloc(total + 1, sizeof(uint64_t));
	p->leaf = xcalloc(total + 1, sizeof(float));
	p->root = xcalloc(m->ntrees + 1, sizeof(uint32_t));
	p->depth = xcalloc(m->ntrees + 1, sizeof(int));
	queue = xmalloc((total + 1) * sizeof(int));
	pos = xmalloc((total + 1) * sizeof(int));
	at = 0;
	for (t = 0; t < m->ntrees; t++) {
		const struct gbdt_tree *tr = &m->tree[t];
		size_t qh = 0, qt = 0;

		/* breadth first, each node's children side by side */
		p->root[t] = (uint32_t)at;
		p->depth[t] = tree_depth(tr, 0);
		queue[qt++] = 0;
		pos[0] = (int)at++;
		while (qh < qt) {
			int n = queue[qh++];
			const struct gbdt_node *nd = &tr->node[n];
			uint64_t w, self = (uint64_t)pos[n];

			if (nd->feat < 0) {
				p->node[self] = self << 32 |
				    (uint64_t)PRED_MISSING_HI << 16;
				p->leaf[self] = (float)nd->value;
				continue;
			}
			pos[nd->left] = (int)at;
			pos[nd->right] = (int)at + 1;
			queue[qt++] = nd->left;
			queue[qt++] = nd->right;
			w = (uint64_t)thr_index(p->thr[nd->feat],
			    p->nthr[nd->feat], (float)nd->thr);
			p->node[self] = (uint64_t)at << 32 | w << 16 |
			    (uint64_t)((size_t)nd->feat +
			    (nd->dleft ? 0 : m->nf));
			at += 2;
		}
	}
	free(queue);
	free(pos);
	table_new(p, m);
	return p;
}

void
pred_free(struct predictor *p)
{
	size_t f;

	if (p == NULL)
		return;
	for (f = 0; f < p->nf; f++) {
		free(p->thr[f]);
		if (p->start != NULL)
			free(p->start[f]);
	}
	free(p->thr);
	free(p->start);
	free(p->nbk);
	free(p->scale);
	free(p->nthr);
	free(p->node);
	free(p->leaf);
	free(p->root);
	free(p->depth);
	free(p->qs);
	free(p->qf);
	free(p->qrow);
	free(p->qleaf);
	free(p);
}

size_t
pred_width(const struct predictor *p)
{
	return 2 * p->nf;
}

void
pred_row(const struct predictor *p, const double *x, uint16_t *slot)
{
	size_t f, nf = p->nf;

	for (f = 0; f < nf; f++) {
		const float *t = p->thr[f];
		size_t n = p->nthr[f], r;
		float v = (float)x[f];

		if (isnan(x[f])) {
			slot[f] = 0;
			slot[nf + f] = PRED_MISSING_HI;
			continue;
		}
		/*
		 * The rank: how many thresholds are <= v.  The thresholds of
		 * buckets below v's are below v (bucket() is monotone), so
		 * start[] is a lower bound and a few steps finish it.
		 */
		if (n == 0 || v < t[0])
			r = 0;
		else if (v >= t[n - 1])
			r = n;
		else {
			r = p->start[f][bucket(p, f, v)];
			while (t[r] <= v)
				r++;
		}
		slot[f] = slot[nf + f] = (uint16_t)r;
	}
}

/* One step down from node n for the row's slots x. */
#define PRED_STEP(n, x) do { \
	uint64_t w_ = node[n]; \
	(n) = (uint32_t)(w_ >> 32) + \
	    ((x)[w_ & 0xffff] > ((w_ >> 16) & 0xffff)); \
} while (0)

/* The row of feature f's table for the row's slots x. */
static const uint32_t *
table_row(const struct predictor *p, size_t f, const uint16_t *x)
{
	size_t r = x[f];

	if (r == 0 && x[p->nf + f] == PRED_MISSING_HI)
		r = p->nthr[f] + 1;
	return p->qs + p->qrow[f] + r * p->ntrees;
}

#define PRED_TROWS 4

typedef uint32_t pred_v4 __attribute__((vector_size(16)));

/* v[0..n) = the AND of q[0][0..n) .. q[nq - 1][0..n) (nq >= 1), four
 * words an instruction (SSE2, which every x86-64 has; other targets get
 * the same code from GCC's generic vectors).  Four trees at a time
 * through every feature's row, so the running AND stays in a register
 * instead of going through v once per feature. */
static void
and_rows(uint32_t *restrict v, const uint32_t *const *q, size_t nq,
    size_t n)
{
	size_t t = 0, i;

	for (; t + 4 <= n; t += 4) {
		pred_v4 a, b;

		memcpy(&a, q[0] + t, sizeof(a));
		for (i = 1; i < nq; i++) {
			memcpy(&b, q[i] + t, sizeof(b));
			a &= b;
		}
		memcpy(v + t, &a, sizeof(a));
	}
	for (; t < n; t++) {
		uint32_t a = q[0][t];

		for (i = 1; i < nq; i++)
			a &= q[i][t];
		v[t] = a;
	}
}

/* pred_batch() the table way, PRED_TROWS rows at a time so that their
 * sums, each a chain of additions in tree order, overlap. */
static void
table_batch(const struct predictor *p, const uint16_t *x, size_t n,
    double *out)
{
	size_t T = p->ntrees, w = 2 * p->nf, r, i, t, k, nk;
	uint32_t *v = xmalloc(PRED_TROWS * T * sizeof(uint32_t));
	const uint32_t **q = xmalloc(p->nq * sizeof(*q));
	const float *leaf = p->qleaf;

	for (r = 0; r < n; r += nk) {
		nk = n - r < PRED_TROWS ? n - r : PRED_TROWS;
		for (k = 0; k < nk; k++) {
			const uint16_t *xr = x + (r + k) * w;
			uint32_t *vk = v + k * T;

			for (i = 0; i < p->nq; i++)
				q[i] = table_row(p, p->qf[i], xr);
			and_rows(vk, q, p->nq, T);
		}
		if (nk == PRED_TROWS) {
			double s0 = p->base, s1 = p->base, s2 = p->base;
			double s3 = p->base;

			for (t = 0; t < T; t++) {
				const float *lt = leaf + t * 32;

				s0 += (double)lt[__builtin_ctz(v[t])];
				s1 += (double)lt[__builtin_ctz(v[T + t])];
				s2 += (double)lt[__builtin_ctz(v[2 * T + t])];
				s3 += (double)lt[__builtin_ctz(v[3 * T + t])];
			}
			out[r] = s0;
			out[r + 1] = s1;
			out[r + 2] = s2;
			out[r + 3] = s3;
			continue;
		}
		for (k = 0; k < nk; k++) {
			double s = p->base;

			for (t = 0; t < T; t++)
				s += (double)leaf[t * 32 +
				    (size_t)__builtin_ctz(v[k * T + t])];
			out[r + k] = s;
		}
	}
	free(v);
	free(q);
}

void
pred_batch(const struct predictor *p, const uint16_t *x, size_t n,
    double *out)
{
	const uint64_t *node = p->node;
	size_t t, r, w = 2 * p->nf;
	int d;

	if (p->nq > 0) {
		table_batch(p, x, n, out);
		return;
	}

	for (r = 0; r < n; r++)
		out[r] = p->base;
	for (t = 0; t < p->ntrees; t++) {
		uint32_t root = p->root[t];
		int depth = p->depth[t];
		const float *leaf = p->leaf;

		for (r = 0; r + 8 <= n; r += 8) {
			const uint16_t *x0 = x + r * w;
			uint32_t n0 = root, n1 = root, n2 = root, n3 = root;
			uint32_t n4 = root, n5 = root, n6 = root, n7 = root;

			for (d = 0; d < depth; d++) {
				PRED_STEP(n0, x0);
				PRED_STEP(n1, x0 + w);
				PRED_STEP(n2, x0 + 2 * w);
				PRED_STEP(n3, x0 + 3 * w);
				PRED_STEP(n4, x0 + 4 * w);
				PRED_STEP(n5, x0 + 5 * w);
				PRED_STEP(n6, x0 + 6 * w);
				PRED_STEP(n7, x0 + 7 * w);
			}
			out[r] += (double)leaf[n0];
			out[r + 1] += (double)leaf[n1];
			out[r + 2] += (double)leaf[n2];
			out[r + 3] += (double)leaf[n3];
			out[r + 4] += (double)leaf[n4];
			out[r + 5] += (double)leaf[n5];
			out[r + 6] += (double)leaf[n6];
			out[r + 7] += (double)leaf[n7];
		}
		for (; r < n; r++) {
			uint32_t n0 = root;

			for (d = 0; d < depth; d++)
				PRED_STEP(n0, x + r * w);
			out[r] += (double)leaf[n0];
		}
	}
}
