/*
 * gbdt.c - binning and the leaf-wise histogram tree learner (LightGBM's
 * design as reference/ranking.md 1.6 describes it): per-leaf histograms
 * of (sum g, sum h, count), the smaller child's built from its rows and
 * the larger one's as parent minus smaller, the leaf with the largest
 * gain split next.  Ties between equal gains go to the lower feature,
 * bin and leaf number, so a run is a function of its inputs alone.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "asin.h"
#include "gbdt.h"

#ifdef __SSE2__
#include <emmintrin.h>
#endif

struct hbin {
	double g, h;
	long long c;
};

struct split {
	double gain;		/* -1: none */
	int feat, bin, dleft;
	double lg, lh;
	long long lc;
};

struct leaf {
	size_t begin, end;	/* in the learner's row list */
	double g, h;
	long long c;
	int depth;
	int node;		/* its node in the tree */
	struct hbin *hist;
	struct split best;
};

struct gbdt_learner {
	const struct gbdt_data *d;
	struct gbdt_params p;
	size_t *off;		/* of each feature's histogram */
	int *nb;		/* value bins of each feature (missing: nb) */
	size_t nhist;		/* entries of one histogram */
	struct hbin *pool;	/* p.leaves histograms */
	struct hbin **free_hist;
	size_t nfree;
	size_t *idx, *tmp;
	size_t cap;
	int *feats;		/* the features tried in this tree */
	size_t nfeats;
	size_t nsplittable;	/* features with two bins or more */
	/* the last tree's leaves: rows idx[lbeg[i]..lend[i]) reached the
	 * leaf node lnode[i] (gbdt_grow_apply()) */
	size_t *lbeg, *lend;
	int *lnode;
	size_t nleaf;
};

uint64_t
gbdt_rand(uint64_t *s)
{
	uint64_t z = (*s += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

/* The bits of a (non-NaN) double as an unsigned key in the same order:
 * negative numbers flipped whole, the others' sign bit set. */
static inline uint64_t
dkey(double v)
{
	uint64_t u;

	memcpy(&u, &v, sizeof(u));
	return u >> 63 ? ~u : u | 0x8000000000000000ULL;
}

/*
 * Sort v[0..n) ascending (no NaN) by an LSD radix sort of dkey(), a byte
 * a pass, skipping the bytes every value shares; tmp holds n.  qsort()
 * with a comparison callback was a tenth of a run on rank.train (300
 * columns of 3005).  -0 sorts before 0 here; the binning merges equal
 * values and boundary() is blind to the sign of a zero, so the
 * thresholds are the same as any sort's.
 */
static void
sort_doubles(double *v, double *tmp, size_t n)
{
	size_t cnt[8][256], i, sum;
	int p, b;

	if (n < 2)
		return;
	memset(cnt, 0, sizeof(cnt));
	for (i = 0; i < n; i++) {
		uint64_t k = dkey(v[i]);

		for (p = 0; p < 8; p++)
			cnt[p][(k >> (8 * p)) & 0xff]++;
	}
	for (p = 0; p < 8; p++) {
		for (b = 0; b < 256; b++)
			if (cnt[p][b] == n)
				break;
		if (b < 256)
			continue;	/* one value of this byte: no move */
		sum = 0;
		for (b = 0; b < 256; b++) {
			size_t c = cnt[p][b];

			cnt[p][b] = sum;
			sum += c;
		}
		for (i = 0; i < n; i++)
			tmp[cnt[p][(dkey(v[i]) >> (8 * p)) & 0xff]++] = v[i];
		memcpy(v, tmp, n * sizeof(double));
	}
}

/* A float32 boundary t with float(lo) < t <= float(hi), or NAN when
 * float32 cannot tell lo and hi apart: values are compared as float32,
 * as XGBoost compares them. */
static double
boundary(double lo, double hi)
{
	float fl = (float)lo, fh = (float)hi, t;

	if (!(fl < fh))
		return NAN;
	t = (float)(lo + (hi - lo) / 2);
	if (!isfinite(t))
		t = fh;
	while (t <= fl)
		t = nextafterf(t, INFINITY);
	while (t > fh)
		t = nextafterf(t, -INFINITY);
	return t;
}

struct gbdt_binning *
gbdt_binning_new(const double *x, size_t n, size_t nf, int maxbins,
    int min_data_in_bin, size_t sample)
{
	struct gbdt_binning *bn = xcalloc(1, sizeof(*bn));
	size_t step = n > sample && sample > 0 ? (n + sample - 1) / sample : 1;
	size_t f, r, m, i, nd, k;
	double *v = xmalloc((n / step + 1) * sizeof(double));
	double *dv, *thr, target, cur;
	long long *cnt;

	bn->nf = nf;
	bn->nthr = xcalloc(nf ? nf : 1, sizeof(size_t));
	bn->thr = xcalloc(nf ? nf : 1, sizeof(double *));
	dv = xmalloc((n / step + 1) * sizeof(double));
	cnt = xmalloc((n / step + 1) * sizeof(long long));
	for (f = 0; f < nf; f++) {
		m = 0;
		for (r = 0; r < n; r += step)
			if (!isnan(x[r * nf + f]))
				v[m++] = x[r * nf + f];
		sort_doubles(v, dv, m);
		nd = 0;
		for (i = 0; i < m; i++) {
			if (nd > 0 && dv[nd - 1] == v[i])
				cnt[nd - 1]++;
			else {
				dv[nd] = v[i];
				cnt[nd++] = 1;
			}
		}
		thr = xmalloc((size_t)maxbins * sizeof(double));
		k = 0;
		target = nd <= (size_t)maxbins ? min_data_in_bin :
		    (double)m / maxbins;
		if (target < min_data_in_bin)
			target = min_data_in_bin;
		cur = 0;
		for (i = 0; i + 1 < nd && k + 1 < (size_t)maxbins; i++) {
			double t;

			cur += (double)cnt[i];
			/* A value as common as a whole bin gets its own. */
			if (cur < target && (double)cnt[i + 1] < target)
				continue;
			t = boundary(dv[i], dv[i + 1]);
			if (isnan(t))
				continue;
			thr[k++] = t;
			cur = 0;
		}
		bn->nthr[f] = k;
		bn->thr[f] = thr;
	}
	free(v);
	free(dv);
	free(cnt);
	return bn;
}

void
gbdt_binning_free(struct gbdt_binning *bn)
{
	size_t f;

	if (bn == NULL)
		return;
	for (f = 0; f < bn->nf; f++)
		free(bn->thr[f]);
	free(bn->thr);
	free(bn->nthr);
	free(bn);
}

int
gbdt_bin_of(const struct gbdt_binning *bn, size_t f, double v)
{
	const double *t = bn->thr[f];
	size_t lo = 0, hi = bn->nthr[f], mid;
	double fv = (float)v;

	if (isnan(v))
		return (int)bn->nthr[f] + 1;
	while (lo < hi) {
		mid = (lo + hi) / 2;
		if (t[mid] <= fv)
			lo = mid + 1;
		else
			hi = mid;
	}
	return (int)lo;
}

struct gbdt_data *
gbdt_data_new(const double *x, size_t n, size_t nf,
    const struct gbdt_binning *bn)
{
	struct gbdt_data *d = xcalloc(1, sizeof(*d));
	size_t r, f;

	d->n = n;
	d->nf = nf;
	d->bn = bn;
	size_t *cnt, *off, k, ne = 0;

	if (nf >= (1u << 24))
		die("at most %u features", (1u << 24) - 1);
	d->bin = xmalloc(n * nf + 1);
	for (f = 0; f < nf; f++) {
		double last = NAN;
		uint8_t lb = 0;

		/* runs of one value (sparse data's zeros) skip the search;
		 * NaN never equals, so missing values are always looked up */
		for (r = 0; r < n; r++) {
			double v = x[r * nf + f];

			if (v != last) {
				last = v;
				lb = (uint8_t)gbdt_bin_of(bn, f, v);
			}
			d->bin[f * n + r] = lb;
		}
	}
	d->dflt = xcalloc(nf + 1, 1);
	cnt = xmalloc(257 * sizeof(size_t));
	for (f = 0; f < nf; f++) {
		memset(cnt, 0, 257 * sizeof(size_t));
		for (r = 0; r < n; r++)
			cnt[d->bin[f * n + r]]++;
		for (k = 1; k < 256; k++)
			if (cnt[k] > cnt[d->dflt[f]])
				d->dflt[f] = (uint8_t)k;
		ne += n - cnt[d->dflt[f]];
	}
	free(cnt);
	/* where each feature's histogram starts (gbdt_learner_new()
	 * lays them out the same way) */
	off = xmalloc((nf + 1) * sizeof(size_t));
	for (f = 0, k = 0; f < nf; f++) {
		off[f] = k;
		k += bn->nthr[f] + 2;
	}
	d->rowptr = xmalloc((n + 1) * sizeof(size_t));
	d->ent = xmalloc((ne + 1) * sizeof(uint32_t));
	ne = 0;
	for (r = 0; r < n; r++) {
		d->rowptr[r] = ne;
		for (f = 0; f < nf; f++)
			if (d->bin[f * n + r] != d->dflt[f])
				d->ent[ne++] = (uint32_t)(off[f] +
				    d->bin[f * n + r]);
	}
	d->rowptr[n] = ne;
	free(off);
	return d;
}

void
gbdt_data_free(struct gbdt_data *d)
{
	if (d == NULL)
		return;
	free(d->bin);
	free(d->dflt);
	free(d->rowptr);
	free(d->ent);
	free(d);
}

struct gbdt_learner *
gbdt_learner_new(const struct gbdt_data *d, const struct gbdt_params *p)
{
	struct gbdt_learner *l = xcalloc(1, sizeof(*l));
	size_t f, i, nl = p->leaves > 1 ? (size_t)p->leaves : 2;

	l->d = d;
	l->p = *p;
	l->off = xcalloc(d->nf + 1, sizeof(size_t));
	l->nb = xcalloc(d->nf + 1, sizeof(int));
	for (f = 0; f < d->nf; f++) {
		l->off[f] = l->nhist;
		l->nb[f] = (int)d->bn->nthr[f] + 1;
		l->nhist += (size_t)l->nb[f] + 1;
		l->nsplittable += l->nb[f] > 1;
	}
	l->pool = xcalloc(nl * (l->nhist ? l->nhist : 1), sizeof(struct hbin));
	l->free_hist = xmalloc(nl * sizeof(*l->free_hist));
	for (i = 0; i < nl; i++)
		l->free_hist[l->nfree++] = l->pool + (nl - 1 - i) * l->nhist;
	l->feats = xmalloc((d->nf + 1) * sizeof(int));
	l->lbeg = xmalloc(nl * sizeof(size_t));
	l->lend = xmalloc(nl * sizeof(size_t));
	l->lnode = xmalloc(nl * sizeof(int));
	return l;
}

void
gbdt_learner_free(struct gbdt_learner *l)
{
	if (l == NULL)
		return;
	free(l->off);
	free(l->nb);
	free(l->pool);
	free(l->free_hist);
	free(l->idx);
	free(l->tmp);
	free(l->feats);
	free(l->lbeg);
	free(l->lend);
	free(l->lnode);
	free(l);
}

/*
 * The scattered additions of build_hist(): rows idx[0..n) add their g,
 * h and 1 to the bins their entries name, in row order.  Stores were
 * the bound (three an entry); g and h go as one SSE2 pair where there
 * is SSE2, the same IEEE additions.
 */
static void
add_rows(struct hbin *hist, const uint32_t *ent, const size_t *rowptr,
    const size_t *idx, size_t n, const double *g, const double *h)
{
	size_t i;

	for (i = 0; i < n; i++) {
		size_t r = idx[i];
		const uint32_t *e = ent + rowptr[r], *ee = ent + rowptr[r + 1];
#ifdef __SSE2__
		__m128d a = _mm_set_pd(h[r], g[r]);

		for (; e < ee; e++) {
			struct hbin *x = hist + *e;

			_mm_storeu_pd(&x->g, _mm_add_pd(_mm_loadu_pd(&x->g), a));
			x->c++;
		}
#else
		double gr = g[r], hr = h[r];

		for (; e < ee; e++) {
			struct hbin *x = hist + *e;

			x->g += gr;
			x->h += hr;
			x->c++;
		}
#endif
	}
}

/* Zero lf's histogram and add its rows; the default bins are filled
 * later, feature by feature (fix_default()). */
static void
build_hist(struct gbdt_learner *l, struct leaf *lf, const double *g,
    const double *h)
{
	const struct gbdt_data *d = l->d;
	size_t k, nfe = l->nfeats;
	const int *fe = l->feats;
	const size_t *off = l->off;
	struct hbin *hist = lf->hist;

	/* With every feature tried (the default) the histograms are one
	 * run: one memset, not one a feature. */
	if (nfe == l->nsplittable)
		memset(hist, 0, l->nhist * sizeof(*hist));
	else
		for (k = 0; k < nfe; k++)
			memset(hist + off[fe[k]], 0,
			    ((size_t)l->nb[fe[k]] + 1) * sizeof(*hist));
	/* Entries of features not tried land in histograms nobody reads;
	 * adding them is cheaper than testing for them. */
	add_rows(hist, d->ent, d->rowptr, l->idx + lf->begin,
	    lf->end - lf->begin, g, h);
}

/* Feature f's default bin of lf's histogram hs (its nb + 1 bins): the
 * leaf's sums minus the other bins'. */
static void
fix_default(const struct gbdt_learner *l, const struct leaf *lf, int f,
    struct hbin *hs)
{
	size_t b, nb = (size_t)l->nb[f] + 1;
	double sg = 0, sh = 0;
	long long sc = 0;

	for (b = 0; b < nb; b++) {
		sg += hs[b].g;
		sh += hs[b].h;
		sc += hs[b].c;
	}
	b = l->d->dflt[f];
	hs[b].g = lf->g - sg;
	hs[b].h = lf->h - sh;
	hs[b].c = lf->c - sc;
}

static double
leaf_score(double g, double h, double l2)
{
	return g * g / (h + l2);
}

/* parent: leaf_score() of the leaf itself, the same for every
 * candidate (computed once; the same bits as computing it each time). */
static inline __attribute__((always_inline)) void
consider(const struct gbdt_learner *l, const struct leaf *lf,
    struct split *best, int f, int b, int dleft, double lg, double lh,
    long long lc, double parent)
{
	const struct gbdt_params *p = &l->p;
	double rg = lf->g - lg, rh = lf->h - lh, gain;
	long long rc = lf->c - lc;

	if (lc < p->min_leaf || rc < p->min_leaf || lh < p->min_hess ||
	    rh < p->min_hess)
		return;
#ifdef __SSE2__
	{
		/* both sides' leaf_score() in one division: the same IEEE
		 * operations, lane by lane, so the same bits */
		__m128d gg = _mm_set_pd(rg, lg);
		__m128d q = _mm_div_pd(_mm_mul_pd(gg, gg),
		    _mm_add_pd(_mm_set_pd(rh, lh), _mm_set1_pd(p->l2)));

		gain = _mm_cvtsd_f64(q) + _mm_cvtsd_f64(_mm_unpackhi_pd(q, q)) -
		    parent;
	}
#else
	gain = leaf_score(lg, lh, p->l2) + leaf_score(rg, rh, p->l2) -
	    parent;
#endif
	if (!(gain > p->min_gain) || !(gain > best->gain))
		return;
	best->gain = gain;
	best->feat = f;
	best->bin = b;
	best->dleft = dleft;
	best->lg = lg;
	best->lh = lh;
	best->lc = lc;
}

/* Whether lf may be split (else its best split stays none). */
static int
splittable(const struct gbdt_learner *l, const struct leaf *lf)
{
	return !(lf->c < 2 * l->p.min_leaf ||
	    (l->p.max_depth > 0 && lf->depth >= l->p.max_depth));
}

static void
no_split(struct leaf *lf)
{
	lf->best.gain = -1;
	lf->best.feat = -1;
}

/* The candidate splits of feature f (histogram hs) for lf, into
 * lf->best; parent is leaf_score() of lf.  Features go in ascending
 * order, so ties go to the lower feature, then the lower bin. */
static void
scan_feature(const struct gbdt_learner *l, struct leaf *lf, int f,
    const struct hbin *hs, double parent)
{
	int nb = l->nb[f], b;
	const struct hbin *m = hs + nb;
	double lg = 0, lh = 0;
	long long lc = 0;

	for (b = 0; b + 1 < nb; b++) {
		/* An empty bin repeats the previous candidate. */
		if (hs[b].c == 0)
			continue;
		lg += hs[b].g;
		lh += hs[b].h;
		lc += hs[b].c;
		if (lc + m->c < l->p.min_leaf)
			continue;
		if (lf->c - lc < l->p.min_leaf)
			break;
		if (m->c == 0) {
			/* No missing rows here: they would go with the
			 * larger side. */
			consider(l, lf, &lf->best, f, b, lc >= lf->c - lc, lg,
			    lh, lc, parent);
			continue;
		}
		consider(l, lf, &lf->best, f, b, 0, lg, lh, lc, parent);
		consider(l, lf, &lf->best, f, b, 1, lg + m->g, lh + m->h,
		    lc + m->c, parent);
	}
}

/*
 * The histograms after a split, one feature at a time so each feature's
 * bins are read while in cache: the small child's (built, sh) gets its
 * default bins, is scanned when do_s, and taken from the parent's (ph)
 * to make the large child's, which is scanned when do_l.  The root is
 * the small child of no parent (ph NULL).
 */
static void
split_hists(const struct gbdt_learner *l, struct leaf *small,
    struct hbin *sh, int do_s, struct leaf *large, struct hbin *ph,
    int do_l)
{
	size_t k;
	double ps = leaf_score(small->g, small->h, l->p.l2);
	double pl = large != NULL ? leaf_score(large->g, large->h, l->p.l2) :
	    0;

	no_split(small);
	if (large != NULL)
		no_split(large);
	for (k = 0; k < l->nfeats; k++) {
		int f = l->feats[k];
		size_t o = l->off[f], e, nb = (size_t)l->nb[f] + 1;

		fix_default(l, small, f, sh + o);
		if (do_s)
			scan_feature(l, small, f, sh + o, ps);
		if (!do_l)
			continue;
		for (e = 0; e < nb; e++) {
			ph[o + e].g -= sh[o + e].g;
			ph[o + e].h -= sh[o + e].h;
			ph[o + e].c -= sh[o + e].c;
		}
		scan_feature(l, large, f, ph + o, pl);
	}
}

static double
leaf_value(const struct gbdt_learner *l, double g, double h)
{
	/* float32, as the exported model will hold it */
	return (float)(-g / (h + l->p.l2) * l->p.lr);
}

static int
add_node(struct gbdt_tree *t, size_t *cap, int parent)
{
	struct gbdt_node *nd;

	if (t->n == *cap) {
		*cap = *cap ? *cap * 2 : 64;
		t->node = xreallocarray(t->node, *cap, sizeof(*t->node));
	}
	nd = &t->node[t->n];
	memset(nd, 0, sizeof(*nd));
	nd->feat = -1;
	nd->left = nd->right = -1;
	nd->parent = parent;
	return (int)t->n++;
}

void
gbdt_grow(struct gbdt_learner *l, const double *g, const double *h,
    const size_t *rows, size_t nrows, const unsigned char *featok,
    struct gbdt_tree *out)
{
	struct leaf *lv;
	size_t nl = 1, maxl = l->p.leaves > 1 ? (size_t)l->p.leaves : 1;
	size_t cap = 0, i, f, best, a, b, nf = l->d->nf;
	struct gbdt_node *nd;

	out->n = 0;
	out->node = NULL;
	if (nrows > l->cap) {
		l->cap = nrows;
		l->idx = xreallocarray(l->idx, nrows, sizeof(size_t));
		l->tmp = xreallocarray(l->tmp, nrows, sizeof(size_t));
	}
	memcpy(l->idx, rows, nrows * sizeof(size_t));
	l->nfeats = 0;
	for (f = 0; f < nf; f++)
		if (featok[f] && l->nb[f] > 1)
			l->feats[l->nfeats++] = (int)f;
	lv = xcalloc(maxl, sizeof(*lv));
	lv[0].begin = 0;
	lv[0].end = nrows;
	for (i = 0; i < nrows; i++) {
		lv[0].g += g[rows[i]];
		lv[0].h += h[rows[i]];
	}
	lv[0].c = (long long)nrows;
	lv[0].node = add_node(out, &cap, -1);
	lv[0].hist = l->free_hist[--l->nfree];
	no_split(&lv[0]);
	if (maxl > 1 && splittable(l, &lv[0])) {
		build_hist(l, &lv[0], g, h);
		split_hists(l, &lv[0], lv[0].hist, 1, NULL, NULL, 0);
	}
	while (nl < maxl) {
		struct leaf *p, *c0, *c1, *small, *large;
		const struct split *s;
		size_t nl0, nr0;
		const uint8_t *bin;
		int mbin;

		best = nl;
		for (i = 0; i < nl; i++)
			if (lv[i].best.feat >= 0 && (best == nl ||
			    lv[i].best.gain > lv[best].best.gain))
				best = i;
		if (best == nl)
			break;
		p = &lv[best];
		s = &p->best;
		mbin = l->nb[s->feat];
		bin = l->d->bin + (size_t)s->feat * l->d->n;
		/* stable partition: each side keeps ascending rows */
		nl0 = nr0 = 0;
		for (i = p->begin; i < p->end; i++) {
			size_t r = l->idx[i];
			int bv = bin[r];
			int left = bv == mbin ? s->dleft : bv <= s->bin;

			if (left)
				l->idx[p->begin + nl0++] = r;
			else
				l->tmp[nr0++] = r;
		}
		memcpy(l->idx + p->begin + nl0, l->tmp, nr0 * sizeof(size_t));
		nd = &out->node[p->node];
		nd->feat = s->feat;
		nd->bin = s->bin;
		nd->dleft = s->dleft;
		nd->thr = l->d->bn->thr[s->feat][s->bin];
		nd->gain = s->gain;
		a = (size_t)add_node(out, &cap, p->node);
		b = (size_t)add_node(out, &cap, p->node);
		nd = &out->node[p->node];
		nd->left = (int)a;
		nd->right = (int)b;
		c0 = p;
		c1 = &lv[nl++];
		*c1 = *p;
		c1->begin = p->begin + nl0;
		c1->end = p->end;
		c1->g = p->g - s->lg;
		c1->h = p->h - s->lh;
		c1->c = p->c - s->lc;
		c1->node = (int)b;
		c1->depth = p->depth + 1;
		c0->end = p->begin + nl0;
		c0->g = s->lg;
		c0->h = s->lh;
		c0->c = s->lc;
		c0->node = (int)a;
		c0->depth = c1->depth;
		/*
		 * c0 keeps the parent's histogram; the smaller child gets a
		 * fresh one, the larger is parent minus smaller.  A child
		 * that cannot split (too few rows, too deep, or the tree is
		 * full) needs no histogram of its own: when neither can,
		 * none is built.
		 */
		small = c0->c <= c1->c ? c0 : c1;
		large = small == c0 ? c1 : c0;
		{
			struct hbin *ph = c0->hist;
			int ds = nl < maxl && splittable(l, small);
			int dl = nl < maxl && splittable(l, large);

			large->hist = ph;
			small->hist = NULL;
			no_split(small);
			no_split(large);
			if (ds || dl) {
				small->hist = l->free_hist[--l->nfree];
				build_hist(l, small, g, h);
				split_hists(l, small, small->hist, ds, large,
				    ph, dl);
			}
			/* A leaf that will not split gives its histogram
			 * back now, so the next build reuses memory still
			 * in cache instead of touching a new one. */
			if (!ds && small->hist != NULL) {
				l->free_hist[l->nfree++] = small->hist;
				small->hist = NULL;
			}
			if (!dl) {
				l->free_hist[l->nfree++] = large->hist;
				large->hist = NULL;
			}
		}
	}
	for (i = 0; i < nl; i++) {
		nd = &out->node[lv[i].node];
		nd->value = leaf_value(l, lv[i].g, lv[i].h);
		nd->hess = lv[i].h;
		nd->count = lv[i].c;
		l->lbeg[i] = lv[i].begin;
		l->lend[i] = lv[i].end;
		l->lnode[i] = lv[i].node;
		if (lv[i].hist != NULL)
			l->free_hist[l->nfree++] = lv[i].hist;
	}
	/* inner nodes: sums of their children, bottom up */
	for (i = out->n; i-- > 0;) {
		nd = &out->node[i];
		if (nd->feat < 0)
			continue;
		nd->hess = out->node[nd->left].hess + out->node[nd->right].hess;
		nd->count = out->node[nd->left].count +
		    out->node[nd->right].count;
	}
	l->nleaf = nl;
	free(lv);
}

void
gbdt_grow_apply(const struct gbdt_learner *l, const struct gbdt_tree *t,
    double *score)
{
	size_t i, k;

	for (i = 0; i < l->nleaf; i++) {
		double v = t->node[l->lnode[i]].value;

		for (k = l->lbeg[i]; k < l->lend[i]; k++)
			score[l->idx[k]] += v;
	}
}

void
gbdt_tree_apply(const struct gbdt_tree *t, const struct gbdt_data *d,
    double *score)
{
	size_t r, n = d->n;
	const struct gbdt_node *nd = t->node;

	for (r = 0; r < n; r++) {
		const uint8_t *b = d->bin + r;
		int i = 0;

		while (nd[i].feat >= 0) {
			int bv = b[(size_t)nd[i].feat * n];
			int left = bv == (int)d->bn->nthr[nd[i].feat] + 1 ?
			    nd[i].dleft : bv <= nd[i].bin;

			i = left ? nd[i].left : nd[i].right;
		}
		score[r] += nd[i].value;
	}
}

double
gbdt_tree_predict(const struct gbdt_tree *t, const double *x)
{
	const struct gbdt_node *nd = t->node;
	int i = 0;

	while (nd[i].feat >= 0) {
		double v = x[nd[i].feat];

		if (isnan(v))
			i = nd[i].dleft ? nd[i].left : nd[i].right;
		else
			i = (double)(float)v < nd[i].thr ? nd[i].left :
			    nd[i].right;
	}
	return nd[i].value;
}
