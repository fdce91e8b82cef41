/*
 * uplift.c - moments per (segment, variant) and the A/B tests on them.
 * Sums are exact (Shewchuk partials), so the same set of rows gives the
 * same bytes in any order and on any partitioning.  Every formula and
 * fallback mirrors uplift_reference.py, including its control flow for
 * notes, so the two can be diffed field by field.
 */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "asin.h"
#include "uplift.h"

const char *const up_field_name[UF_NFIELDS] = {
	"impressions", "clicks", "conversions", "gmv", "spend", "gmv_sq",
	"roas", "roas_sq", "units", "impressions_sq", "clicks_sq",
	"conversions_sq", "spend_sq", "clicks_x_impressions",
	"conversions_x_clicks", "gmv_x_impressions", "gmv_x_spend"
};

#define BIT(f)	(1u << (f))

struct up_arm {
	char *seg;
	size_t seglen;
	char *var;
	size_t varlen;
	unsigned present;
	struct xsum s[UF_NFIELDS];
	/* filled by up_evaluate() */
	double v[UF_NFIELDS];
};

struct up_table {
	struct up_arm **arms;
	size_t narms;
	size_t cap;
	size_t *slot;		/* hash slots: arm index + 1, 0 = empty */
	size_t nslot;
};

/* The metrics: name, numerator, denominator, kind without unit moments. */
enum up_kind { K_PROPORTION, K_MEAN_PER_IMPRESSION, K_RATIO_OF_SUMS };
static const struct {
	const char *name;
	enum up_field num, den, num_sq, den_sq, cross;
	enum up_kind kind;
} metrics[] = {
	{ "ctr", UF_CLICKS, UF_IMPRESSIONS, UF_CLICKS_SQ, UF_IMPRESSIONS_SQ,
	    UF_CLICKS_X_IMPRESSIONS, K_PROPORTION },
	{ "cr", UF_CONVERSIONS, UF_CLICKS, UF_CONVERSIONS_SQ, UF_CLICKS_SQ,
	    UF_CONVERSIONS_X_CLICKS, K_PROPORTION },
	{ "gmv_per_impression", UF_GMV, UF_IMPRESSIONS, UF_GMV_SQ,
	    UF_IMPRESSIONS_SQ, UF_GMV_X_IMPRESSIONS, K_MEAN_PER_IMPRESSION },
	{ "roas", UF_GMV, UF_SPEND, UF_GMV_SQ, UF_SPEND_SQ, UF_GMV_X_SPEND,
	    K_RATIO_OF_SUMS },
};
#define NMETRICS (sizeof(metrics) / sizeof(metrics[0]))

static const char M_DELTA[] = "delta method on ratio of sums, unit=units "
    "(gbstats RatioStatistic), unpooled";
static const char M_DELTA_UNDEF[] = "delta method, unit-level moments";
static const char M_PROP[] = "two-proportion z";
static const char M_PROP_FULL[] = "two-proportion z: pooled-variance z/p "
    "(statsmodels proportions_ztest), unpooled Wald CI "
    "(confint_proportions_2indep wald), delta-method relative CI";
static const char M_MEANS[] = "two-sample z on means";
static const char M_POINT[] = "point estimate only";
static const char M_ROAS_UNIT[] = "two-sample z on the mean of per-unit ROAS "
    "(n = %s), unpooled";

static uint64_t hash_key(const char *, size_t, const char *, size_t);
static struct up_arm *find_arm(struct up_table *, const char *, size_t,
    const char *, size_t);
static int bytecmp(const char *, size_t, const char *, size_t);
static int cmp_arm(const void *, const void *);
static double sample_cov(double, double, double, double);
static int cmp_pidx(const void *, const void *);
static int bad_sq(double, double, double);
static int ratio_units(const struct up_arm *, size_t, double[4], char *,
    size_t);
static int unit_moments(const struct up_arm *, size_t);
static void metric_init(struct up_metric *);
static double p_of(double, double);
static void compare(struct up_metric *, const struct up_opts *, double,
    double, double, double, const double *);
static void eval_metric(struct up_metric *, size_t, const struct up_arm *,
    const struct up_arm *, const struct up_opts *);
static int eval_roas_unit(struct up_metric *, const struct up_arm *,
    const struct up_arm *, const struct up_opts *);
static double arm_get(const struct up_arm *, enum up_field);
static int has(const struct up_arm *, enum up_field);

void
xsum_init(struct xsum *x)
{
	x->n = 0;
	x->special = 0;
}

/* Shewchuk's grow-expansion: the partials stay non-overlapping. */
void
xsum_add(struct xsum *x, double v)
{
	double y, hi, lo, t;
	int i = 0, j;

	if (v == 0)	/* common in sparse metrics; changes no sum */
		return;
	if (!isfinite(v)) {
		x->special = 1;
		return;
	}
	for (j = 0; j < x->n; j++) {
		y = x->p[j];
		if (fabs(v) < fabs(y)) {
			t = v;
			v = y;
			y = t;
		}
		hi = v + y;
		lo = y - (hi - v);
		if (lo != 0)
			x->p[i++] = lo;
		v = hi;
	}
	if (!isfinite(v)) {
		x->special = 1;
		return;
	}
	/* Non-overlapping doubles span 2098 bits: at most 41 partials. */
	if (i >= XSUM_MAX)
		i = XSUM_MAX - 1;
	x->p[i++] = v;
	x->n = i;
}

/* Python's fsum rounding: round-half-even on the exact expansion. */
double
xsum_value(const struct xsum *x)
{
	double hi = 0, lo = 0, y, yr, s;
	int n = x->n;

	if (x->special)
		return NAN;
	if (n == 0)
		return 0;
	hi = x->p[--n];
	while (n > 0) {
		s = hi;
		y = x->p[--n];
		hi = s + y;
		yr = hi - s;
		lo = y - yr;
		if (lo != 0)
			break;
	}
	if (n > 0 && ((lo < 0 && x->p[n - 1] < 0) ||
	    (lo > 0 && x->p[n - 1] > 0))) {
		y = lo * 2;
		s = hi + y;
		yr = s - hi;
		if (y == yr)
			hi = s;
	}
	return hi;
}

struct up_table *
up_table_new(void)
{
	struct up_table *t = xcalloc(1, sizeof(*t));

	t->nslot = 64;
	t->slot = xcalloc(t->nslot, sizeof(*t->slot));
	return t;
}

void
up_table_free(struct up_table *t)
{
	size_t i;

	if (t == NULL)
		return;
	for (i = 0; i < t->narms; i++) {
		free(t->arms[i]->seg);
		free(t->arms[i]->var);
		free(t->arms[i]);
	}
	free(t->arms);
	free(t->slot);
	free(t);
}

/* FNV-1a over segment, a separator that no length confuses, variant. */
static uint64_t
hash_key(const char *seg, size_t seglen, const char *var, size_t varlen)
{
	uint64_t h = 1469598103934665603ULL;
	size_t i;

	for (i = 0; i < seglen; i++)
		h = (h ^ (unsigned char)seg[i]) * 1099511628211ULL;
	h = (h ^ (uint64_t)seglen) * 1099511628211ULL;
	for (i = 0; i < varlen; i++)
		h = (h ^ (unsigned char)var[i]) * 1099511628211ULL;
	return h;
}

static struct up_arm *
find_arm(struct up_table *t, const char *seg, size_t seglen, const char *var,
    size_t varlen)
{
	struct up_arm *a;
	size_t i, k, mask = t->nslot - 1;

	i = (size_t)hash_key(seg, seglen, var, varlen) & mask;
	while (t->slot[i]) {
		a = t->arms[t->slot[i] - 1];
		if (a->seglen == seglen && a->varlen == varlen &&
		    memcmp(a->seg, seg, seglen) == 0 &&
		    memcmp(a->var, var, varlen) == 0)
			return a;
		i = (i + 1) & mask;
	}
	a = xcalloc(1, sizeof(*a));
	a->seg = xstrndup(seg, seglen);
	a->seglen = seglen;
	a->var = xmalloc(varlen + 1);
	memcpy(a->var, var, varlen);
	a->var[varlen] = '\0';
	a->varlen = varlen;
	for (k = 0; k < UF_NFIELDS; k++)
		xsum_init(&a->s[k]);
	if (t->narms == t->cap) {
		t->cap = t->cap ? 2 * t->cap : 16;
		t->arms = xreallocarray(t->arms, t->cap, sizeof(*t->arms));
	}
	t->arms[t->narms++] = a;
	t->slot[i] = t->narms;
	if (2 * t->narms > t->nslot) {
		free(t->slot);
		t->nslot *= 2;
		t->slot = xcalloc(t->nslot, sizeof(*t->slot));
		mask = t->nslot - 1;
		for (k = 0; k < t->narms; k++) {
			struct up_arm *b = t->arms[k];

			i = (size_t)hash_key(b->seg, b->seglen, b->var,
			    b->varlen) & mask;
			while (t->slot[i])
				i = (i + 1) & mask;
			t->slot[i] = k + 1;
		}
	}
	return a;
}

void
up_add_row(struct up_table *t, const char *seg, size_t seglen,
    const char *var, size_t varlen, const double *vals, unsigned mask)
{
	struct up_arm *a = find_arm(t, seg, seglen, var, varlen);
	int f;

	for (f = 0; f < UF_NFIELDS; f++)
		if (mask & BIT(f))
			xsum_add(&a->s[f], vals[f]);
	a->present |= mask;
}

void
up_add_unit(struct up_table *t, const char *seg, size_t seglen,
    const char *var, size_t varlen, double imp, double clk, double conv,
    double gmv, double spend)
{
	struct up_arm *a = find_arm(t, seg, seglen, var, varlen);

	xsum_add(&a->s[UF_UNITS], 1);
	xsum_add(&a->s[UF_IMPRESSIONS], imp);
	xsum_add(&a->s[UF_CLICKS], clk);
	xsum_add(&a->s[UF_CONVERSIONS], conv);
	xsum_add(&a->s[UF_GMV], gmv);
	xsum_add(&a->s[UF_SPEND], spend);
	xsum_add(&a->s[UF_IMPRESSIONS_SQ], imp * imp);
	xsum_add(&a->s[UF_CLICKS_SQ], clk * clk);
	xsum_add(&a->s[UF_CONVERSIONS_SQ], conv * conv);
	xsum_add(&a->s[UF_GMV_SQ], gmv * gmv);
	xsum_add(&a->s[UF_SPEND_SQ], spend * spend);
	xsum_add(&a->s[UF_CLICKS_X_IMPRESSIONS], clk * imp);
	xsum_add(&a->s[UF_CONVERSIONS_X_CLICKS], conv * clk);
	xsum_add(&a->s[UF_GMV_X_IMPRESSIONS], gmv * imp);
	xsum_add(&a->s[UF_GMV_X_SPEND], gmv * spend);
	a->present |= BIT(UF_UNITS) | BIT(UF_IMPRESSIONS) | BIT(UF_CLICKS) |
	    BIT(UF_CONVERSIONS) | BIT(UF_GMV) | BIT(UF_SPEND) |
	    BIT(UF_IMPRESSIONS_SQ) | BIT(UF_CLICKS_SQ) |
	    BIT(UF_CONVERSIONS_SQ) | BIT(UF_GMV_SQ) | BIT(UF_SPEND_SQ) |
	    BIT(UF_CLICKS_X_IMPRESSIONS) | BIT(UF_CONVERSIONS_X_CLICKS) |
	    BIT(UF_GMV_X_IMPRESSIONS) | BIT(UF_GMV_X_SPEND);
}

static int
bytecmp(const char *a, size_t na, const char *b, size_t nb)
{
	int c = memcmp(a, b, na < nb ? na : nb);

	if (c)
		return c;
	return na < nb ? -1 : na > nb;
}

static int
cmp_arm(const void *pa, const void *pb)
{
	const struct up_arm *a = *(struct up_arm *const *)pa;
	const struct up_arm *b = *(struct up_arm *const *)pb;
	int c = bytecmp(a->seg, a->seglen, b->seg, b->seglen);

	return c ? c : bytecmp(a->var, a->varlen, b->var, b->varlen);
}

struct up_cell *
up_table_cells(const struct up_table *t, size_t *n)
{
	struct up_arm **arms = xreallocarray(NULL, t->narms ? t->narms : 1,
	    sizeof(*arms));
	struct up_cell *c = xreallocarray(NULL, t->narms ? t->narms : 1,
	    sizeof(*c));
	size_t i;

	/* An empty table has no arms array: memcpy(NULL) is undefined. */
	if (t->narms > 0) {
		memcpy(arms, t->arms, t->narms * sizeof(*arms));
		qsort(arms, t->narms, sizeof(*arms), cmp_arm);
	}
	for (i = 0; i < t->narms; i++) {
		c[i].seg = arms[i]->seg;
		c[i].seglen = arms[i]->seglen;
		c[i].var = arms[i]->var;
		c[i].varlen = arms[i]->varlen;
		c[i].present = arms[i]->present;
		c[i].s = arms[i]->s;
	}
	free(arms);
	*n = t->narms;
	return c;
}

void
up_add_sum(struct up_table *t, const char *seg, size_t seglen,
    const char *var, size_t varlen, enum up_field f, const struct xsum *x)
{
	struct up_arm *a = find_arm(t, seg, seglen, var, varlen);
	int i;

	/*
	 * The partials of a shard's expansion sum exactly to its sum, and
	 * xsum_add() keeps the expansion exact: the merged value is the
	 * exact total rounded once, as in one run.
	 */
	for (i = 0; i < x->n; i++)
		xsum_add(&a->s[f], x->p[i]);
	if (x->special)
		a->s[f].special = 1;
	a->present |= BIT(f);
}

double
up_sample_var(double s, double ss, double n)
{
	if (n <= 1)
		return 0;
	return (ss - s * s / n) / (n - 1);
}

static double
sample_cov(double sx, double sy, double sxy, double n)
{
	if (n <= 1)
		return 0;
	return (sxy - sx * sy / n) / (n - 1);
}

/* pow() as Python's ** does, so the two round alike. */
double
up_var_ratio(double mm, double vm, double md, double vd, double cov)
{
	if (md == 0)
		return 0;
	return vm / pow(md, 2) + vd * pow(mm, 2) / pow(md, 4) -
	    2 * cov * mm / pow(md, 3);
}

double
up_welch_dof(double v_c, double n_c, double v_t, double n_t)
{
	double d1 = pow(n_t, 2) * (n_t - 1), d2 = pow(n_c, 2) * (n_c - 1);
	double den;

	if (d1 == 0 || d2 == 0)
		return NAN;
	den = pow(v_t, 2) / d1 + pow(v_c, 2) / d2;
	if (den == 0)
		return NAN;
	return pow(v_t / n_t + v_c / n_c, 2) / den;
}

double
up_srm_test(const double *counts, const double *weights, size_t k,
    double *chi2)
{
	double total = 0, tw = 0, x = 0, e;
	size_t i;

	for (i = 0; i < k; i++) {
		total += counts[i];
		tw += weights[i];
	}
	*chi2 = 0;
	if (total == 0)
		return 1;
	for (i = 0; i < k; i++) {
		if (weights[i] <= 0)
			continue;
		e = weights[i] / tw * total;
		x += pow(counts[i] - e, 2) / e;
	}
	*chi2 = x;
	if (k < 2)
		return 1;
	return stats_chi2_sf(x, (double)(k - 1));
}

/* Index order by p (ties by index, as a stable sort); qsort_r is GNU. */
struct pidx {
	double p;
	size_t i;
};

static int
cmp_pidx(const void *a, const void *b)
{
	const struct pidx *x = a, *y = b;

	if (x->p != y->p)
		return x->p < y->p ? -1 : 1;
	return x->i < y->i ? -1 : x->i > y->i;
}

void
up_holm(const double *p, double *adj, size_t m)
{
	struct pidx *o = xcalloc(m ? m : 1, sizeof(*o));
	double run = 0, v;
	size_t r;

	for (r = 0; r < m; r++) {
		o[r].p = p[r];
		o[r].i = r;
	}
	qsort(o, m, sizeof(*o), cmp_pidx);
	for (r = 0; r < m; r++) {
		v = o[r].p * (double)(m - r);
		v = v < 1 ? v : 1;
		run = run > v ? run : v;
		adj[o[r].i] = run;
	}
	free(o);
}

void
up_bh(const double *p, double *adj, size_t m)
{
	struct pidx *o = xcalloc(m ? m : 1, sizeof(*o));
	double run = 1, v;
	size_t r, k;

	for (r = 0; r < m; r++) {
		o[r].p = p[r];
		o[r].i = r;
	}
	qsort(o, m, sizeof(*o), cmp_pidx);
	/* descending p; among ties the later index first (reverse stable) */
	for (r = 0; r < m; r++) {
		k = m - 1 - r;
		v = o[k].p * (double)m / (double)(m - r);
		v = v < 1 ? v : 1;
		run = run < v ? run : v;
		adj[o[k].i] = run;
	}
	free(o);
}

static void
metric_init(struct up_metric *m)
{
	memset(m, 0, sizeof(*m));
	m->control_value = m->variant_value = m->abs_uplift = NAN;
	m->rel_uplift = m->se_abs = m->z = m->p_value = NAN;
	m->ci_abs[0] = m->ci_abs[1] = NAN;
	m->se_rel = m->z_rel = m->p_value_rel = NAN;
	m->ci_rel[0] = m->ci_rel[1] = NAN;
	m->dof = m->se_pooled = m->p_value_adj = NAN;
	m->mde_abs = m->mde_rel = NAN;
}

/* Two-sided p of statistic z: normal, or t with dof when dof is a number. */
static double
p_of(double z, double dof)
{
	if (isnan(dof))
		return 2 * stats_norm_sf(fabs(z));
	return 2 * stats_t_cdf(-fabs(z), dof);
}

/*
 * The reference's compare(): point estimates c and t (NAN = undefined),
 * their standard errors (NAN = no inference), and for the t test the
 * per-unit variances and counts {v_c, n_c, v_t, n_t}.
 */
static void
compare(struct up_metric *m, const struct up_opts *o, double c, double t,
    double se_c, double se_t, const double *tt)
{
	double diff, se, q, srel, rel, dof = NAN;

	m->control_value = c;
	m->variant_value = t;
	if (isnan(c) || isnan(t)) {
		m->note = "undefined point estimate (zero denominator)";
		return;
	}
	m->has_values = 1;
	diff = t - c;
	m->abs_uplift = diff;
	m->rel_uplift = c != 0 ? diff / fabs(c) : NAN;
	if (isnan(se_c) || isnan(se_t))
		return;
	se = sqrt(se_c * se_c + se_t * se_t);
	q = stats_norm_ppf(1 - o->alpha / 2);
	if (tt != NULL) {
		dof = up_welch_dof(tt[0], tt[1], tt[2], tt[3]);
		if (dof == 0)
			dof = NAN;
		if (!isnan(dof)) {
			q = stats_t_ppf(1 - o->alpha / 2, dof);
			m->dof = dof;
		}
	}
	m->se_abs = se;
	if (se > 0) {
		m->z = diff / se;
		m->p_value = p_of(m->z, dof);
		m->ci_abs[0] = diff - q * se;
		m->ci_abs[1] = diff + q * se;
	} else
		m->note = "zero variance";
	if (c == 0)
		return;
	srel = sqrt(up_var_ratio(t, se_t * se_t, c, se_c * se_c, 0));
	if (srel > 0) {
		rel = diff / fabs(c);
		m->se_rel = srel;
		m->z_rel = rel / srel;
		m->p_value_rel = p_of(rel / srel, dof);
		m->ci_rel[0] = rel - q * srel;
		m->ci_rel[1] = rel + q * srel;
	}
}

static double
arm_get(const struct up_arm *a, enum up_field f)
{
	return (a->present & BIT(f)) ? a->v[f] : 0;
}

static int
has(const struct up_arm *a, enum up_field f)
{
	return (a->present & BIT(f)) != 0;
}

/* A sum of squares below sum^2/n (beyond rounding): impossible data. */
static int
bad_sq(double s, double ss, double n)
{
	return n > 1 && ss - s * s / n < -1e-12 * fabs(ss);
}

/*
 * One ratio arm from unit moments: out = {mean, se, n, var_R}.  Returns
 * 1, 0 when undefined (n <= 1 or no denominator), or -1 when the sums
 * of squares or the cross sum contradict the sums (Cauchy-Schwarz), with
 * the reason in note.
 */
static int
ratio_units(const struct up_arm *a, size_t k, double out[4], char *note,
    size_t nlen)
{
	double n = a->v[UF_UNITS], num = a->v[metrics[k].num];
	double den = a->v[metrics[k].den], nsq = a->v[metrics[k].num_sq];
	double dsq = a->v[metrics[k].den_sq], x = a->v[metrics[k].cross];
	double mm, md, vm, vd, cov, vr, cxy;

	if (n <= 1 || den == 0)
		return 0;
	if (bad_sq(num, nsq, n) || bad_sq(den, dsq, n)) {
		snprintf(note, nlen, "inconsistent moments in variant %s: "
		    "%s_sq or %s_sq is below the squared sum over units",
		    a->var, up_field_name[metrics[k].num],
		    up_field_name[metrics[k].den]);
		return -1;
	}
	cxy = x - num * den / n;
	if (cxy * cxy > (nsq - num * num / n) * (dsq - den * den / n) +
	    1e-12 * fabs(nsq * dsq)) {
		snprintf(note, nlen, "inconsistent moments in variant %s: %s "
		    "implies a correlation beyond 1", a->var,
		    up_field_name[metrics[k].cross]);
		return -1;
	}
	mm = num / n;
	md = den / n;
	vm = up_sample_var(num, nsq, n);
	vd = up_sample_var(den, dsq, n);
	cov = sample_cov(num, den, x, n);
	vr = up_var_ratio(mm, vm, md, vd, cov);
	out[0] = num / den;
	out[1] = sqrt((vr > 0 ? vr : 0) / n);
	out[2] = n;
	out[3] = vr;
	return 1;
}

static int
unit_moments(const struct up_arm *a, size_t k)
{
	return has(a, UF_UNITS) && has(a, metrics[k].num) &&
	    has(a, metrics[k].den) && has(a, metrics[k].num_sq) &&
	    has(a, metrics[k].den_sq) && has(a, metrics[k].cross);
}

/*
 * Counts that contradict each other (clicks above impressions) make
 * every proportion built on them meaningless, not only the one whose
 * numerator is too big: cr divides by the same clicks.  1, with point
 * estimates and the reason and no test, when proportion k shares a field
 * with a proportion whose numerator exceeds its denominator in an arm.
 */
static int
not_counts(struct up_metric *m, size_t k, const struct up_arm *ca,
    const struct up_arm *ta, const struct up_opts *o)
{
	const struct up_arm *arm[2] = { ca, ta };
	double cd, td;
	size_t j, i;

	for (j = 0; j < NMETRICS; j++) {
		if (metrics[j].kind != K_PROPORTION || (j != k &&
		    metrics[j].num != metrics[k].num &&
		    metrics[j].num != metrics[k].den &&
		    metrics[j].den != metrics[k].num &&
		    metrics[j].den != metrics[k].den))
			continue;
		for (i = 0; i < 2; i++)
			if (has(arm[i], metrics[j].num) &&
			    has(arm[i], metrics[j].den) &&
			    (arm[i]->v[metrics[j].num] >
			    arm[i]->v[metrics[j].den] ||
			    arm[i]->v[metrics[j].num] < 0))
				goto bad;
	}
	return 0;
bad:
	cd = arm_get(ca, metrics[k].den);
	td = arm_get(ta, metrics[k].den);
	m->method = M_PROP;
	compare(m, o, cd != 0 ? arm_get(ca, metrics[k].num) / cd : NAN,
	    td != 0 ? arm_get(ta, metrics[k].num) / td : NAN, NAN, NAN, NULL);
	if (j == k)
		snprintf(m->notebuf, sizeof(m->notebuf), "%s > %s: not a "
		    "proportion; no test", up_field_name[metrics[j].num],
		    up_field_name[metrics[j].den]);
	else
		snprintf(m->notebuf, sizeof(m->notebuf), "%s > %s in "
		    "variant %s: the counts contradict each other; no test",
		    up_field_name[metrics[j].num],
		    up_field_name[metrics[j].den], arm[i]->var);
	m->note = m->notebuf;
	return 1;
}

static void
eval_metric(struct up_metric *m, size_t k, const struct up_arm *ca,
    const struct up_arm *ta, const struct up_opts *o)
{
	const char *num = up_field_name[metrics[k].num];
	const char *den = up_field_name[metrics[k].den];
	double a[4], b[4], cn, cd, tn, td, c, t, se_c, se_t, tt[4];
	double v_c, v_t, pp, se0, diff;
	int ra, rb;

	m->metric = metrics[k].name;
	if (metrics[k].kind == K_PROPORTION && not_counts(m, k, ca, ta, o))
		return;
	if (unit_moments(ca, k) && unit_moments(ta, k)) {
		ra = ratio_units(ca, k, a, m->notebuf, sizeof(m->notebuf));
		rb = ra > 0 ? ratio_units(ta, k, b, m->notebuf,
		    sizeof(m->notebuf)) : ra;
		if (rb == 0) {
			m->method = M_DELTA_UNDEF;
			compare(m, o, NAN, NAN, NAN, NAN, NULL);
			return;
		}
		if (rb < 0) {
			m->method = M_DELTA;
			compare(m, o, ca->v[metrics[k].num] /
			    ca->v[metrics[k].den], ta->v[metrics[k].num] /
			    ta->v[metrics[k].den], NAN, NAN, NULL);
			m->note = m->notebuf;
			return;
		}
		m->method = M_DELTA;
		tt[0] = a[3];
		tt[1] = a[2];
		tt[2] = b[3];
		tt[3] = b[2];
		compare(m, o, a[0], b[0], a[1], b[1], o->t_test ? tt : NULL);
		return;
	}
	cn = arm_get(ca, metrics[k].num);
	cd = arm_get(ca, metrics[k].den);
	tn = arm_get(ta, metrics[k].num);
	td = arm_get(ta, metrics[k].den);
	c = cd != 0 ? cn / cd : NAN;
	t = td != 0 ? tn / td : NAN;

	switch (metrics[k].kind) {
	case K_PROPORTION:
		if (isnan(c) || isnan(t)) {
			m->method = M_PROP;
			compare(m, o, NAN, NAN, NAN, NAN, NULL);
			return;
		}
		if (cn > cd || tn > td || cn < 0 || tn < 0) {
			m->method = M_PROP;
			compare(m, o, c, t, NAN, NAN, NULL);
			snprintf(m->notebuf, sizeof(m->notebuf),
			    "%s > %s: not a proportion; no test", num, den);
			m->note = m->notebuf;
			return;
		}
		se_c = sqrt(c * (1 - c) / cd);
		se_t = sqrt(t * (1 - t) / td);
		tt[0] = c * (1 - c);
		tt[1] = cd;
		tt[2] = t * (1 - t);
		tt[3] = td;
		m->method = M_PROP_FULL;
		compare(m, o, c, t, se_c, se_t, o->t_test ? tt : NULL);
		if (has(ca, UF_UNITS) || has(ta, UF_UNITS)) {
			snprintf(m->notebuf, sizeof(m->notebuf),
			    "%s treated as independent trials although rows "
			    "carry units; give %s_sq, %s_sq, %s_x_%s for the "
			    "cluster-robust delta method", den, num, den, num,
			    den);
			m->note = m->notebuf;
		}
		if (!o->t_test && 0 < cn + tn && cn + tn < cd + td) {
			/* statsmodels proportions_ztest, operand order kept */
			pp = (tn + cn) / (td + cd);
			se0 = sqrt(pp * (1 - pp) * (1 / td + 1 / cd));
			diff = tn / td - cn / cd;
			m->z = diff / se0;
			m->p_value = 2 * stats_norm_sf(fabs(m->z));
			m->se_pooled = m->z != 0 ? (t - c) / m->z : NAN;
			se0 = -stats_norm_ppf(o->alpha / 2) *
			    sqrt(t * (1 - t) / td + c * (1 - c) / cd);
			m->ci_abs[0] = diff - se0;
			m->ci_abs[1] = diff + se0;
		} else if (!o->t_test) {
			m->z = NAN;
			m->p_value = NAN;
			m->note = "no successes or no failures in either arm";
		}
		return;
	case K_MEAN_PER_IMPRESSION:
		if (isnan(c) || isnan(t)) {
			m->method = M_MEANS;
			compare(m, o, NAN, NAN, NAN, NAN, NULL);
			return;
		}
		if (has(ca, UF_UNITS) || has(ta, UF_UNITS)) {
			m->method = M_POINT;
			compare(m, o, c, t, NAN, NAN, NULL);
			snprintf(m->notebuf, sizeof(m->notebuf),
			    "rows carry units: need %s_sq and %s_x_%s "
			    "(per-unit sums) for the delta method", den, num,
			    den);
			m->note = m->notebuf;
			return;
		}
		if (has(ca, metrics[k].num_sq) && has(ta, metrics[k].num_sq) &&
		    (bad_sq(cn, ca->v[metrics[k].num_sq], cd) ||
		    bad_sq(tn, ta->v[metrics[k].num_sq], td))) {
			m->method = M_POINT;
			compare(m, o, c, t, NAN, NAN, NULL);
			snprintf(m->notebuf, sizeof(m->notebuf),
			    "inconsistent moments: %s_sq is below %s^2/%s",
			    num, num, den);
			m->note = m->notebuf;
			return;
		}
		if (has(ca, metrics[k].num_sq) && has(ta, metrics[k].num_sq)) {
			v_c = up_sample_var(cn, ca->v[metrics[k].num_sq], cd);
			v_t = up_sample_var(tn, ta->v[metrics[k].num_sq], td);
			tt[0] = v_c;
			tt[1] = cd;
			tt[2] = v_t;
			tt[3] = td;
			m->method = "two-sample z on means, unit=impression, "
			    "unpooled (Welch) variance, gmv_sq = sum of squares "
			    "over impressions";
			compare(m, o, c, t, sqrt((v_c > 0 ? v_c : 0) / cd),
			    sqrt((v_t > 0 ? v_t : 0) / td),
			    o->t_test ? tt : NULL);
			return;
		}
		m->method = M_POINT;
		compare(m, o, c, t, NAN, NAN, NULL);
		snprintf(m->notebuf, sizeof(m->notebuf),
		    "no %s (sum of squares) in both rows: no inference",
		    up_field_name[metrics[k].num_sq]);
		m->note = m->notebuf;
		return;
	case K_RATIO_OF_SUMS:
		m->method = M_POINT;
		compare(m, o, c, t, NAN, NAN, NULL);
		snprintf(m->notebuf, sizeof(m->notebuf),
		    "ratio of sums needs units, %s_sq, %s_sq, %s_x_%s for the "
		    "delta method; see roas_unit_mean for the mean-of-ratios "
		    "test", num, den, num, den);
		m->note = m->notebuf;
		return;
	}
}

/* The mean of per-unit ROAS; 0 when the fields are not there. */
static int
eval_roas_unit(struct up_metric *m, const struct up_arm *ca,
    const struct up_arm *ta, const struct up_opts *o)
{
	enum up_field nf = o->roas_n;
	double nc, nt, v_c, v_t, tt[4];

	if (!has(ca, UF_ROAS) || !has(ca, UF_ROAS_SQ) || !has(ca, nf) ||
	    !has(ta, UF_ROAS) || !has(ta, UF_ROAS_SQ) || !has(ta, nf))
		return 0;
	nc = ca->v[nf];
	nt = ta->v[nf];
	if (nc <= 1 || nt <= 1)
		return 0;
	m->metric = "roas_unit_mean";
	snprintf(m->notebuf, sizeof(m->notebuf), M_ROAS_UNIT,
	    up_field_name[nf]);
	m->method = m->notebuf;
	if (bad_sq(ca->v[UF_ROAS], ca->v[UF_ROAS_SQ], nc) ||
	    bad_sq(ta->v[UF_ROAS], ta->v[UF_ROAS_SQ], nt)) {
		compare(m, o, ca->v[UF_ROAS] / nc, ta->v[UF_ROAS] / nt, NAN,
		    NAN, NULL);
		m->note = "inconsistent moments: roas_sq is below roas^2/n";
		return 1;
	}
	v_c = up_sample_var(ca->v[UF_ROAS], ca->v[UF_ROAS_SQ], nc);
	v_t = up_sample_var(ta->v[UF_ROAS], ta->v[UF_ROAS_SQ], nt);
	tt[0] = v_c;
	tt[1] = nc;
	tt[2] = v_t;
	tt[3] = nt;
	compare(m, o, ca->v[UF_ROAS] / nc, ta->v[UF_ROAS] / nt,
	    sqrt((v_c > 0 ? v_c : 0) / nc), sqrt((v_t > 0 ? v_t : 0) / nt),
	    o->t_test ? tt : NULL);
	return 1;
}

struct up_run *
up_evaluate(struct up_table *tb, const struct up_opts *o, char **err)
{
	struct up_run *r = xcalloc(1, sizeof(*r));
	struct up_arm **arms = tb->arms, *ca;
	size_t i, j, s0, s1, k, nunits, nvar;
	size_t clen = strlen(o->control);
	double *ps, *adj, zq, zp;
	size_t *idx, np = 0;
	struct up_srm *srm;
	struct up_metric *m;
	int f;

	*err = NULL;
	/* sized once: notes point into the records' own buffers */
	r->m = xcalloc(tb->narms * (NMETRICS + 1) + 1, sizeof(*r->m));
	qsort(arms, tb->narms, sizeof(*arms), cmp_arm);
	for (i = 0; i < tb->narms; i++)
		for (f = 0; f < UF_NFIELDS; f++)
			arms[i]->v[f] = xsum_value(&arms[i]->s[f]);
	/* the hash slots point at old positions; rebuild them lazily */
	memset(tb->slot, 0, tb->nslot * sizeof(*tb->slot));
	for (i = 0; i < tb->narms; i++) {
		size_t h = (size_t)hash_key(arms[i]->seg, arms[i]->seglen,
		    arms[i]->var, arms[i]->varlen) & (tb->nslot - 1);

		while (tb->slot[h])
			h = (h + 1) & (tb->nslot - 1);
		tb->slot[h] = i + 1;
	}

	for (s0 = 0; s0 < tb->narms; s0 = s1) {
		for (s1 = s0 + 1; s1 < tb->narms &&
		    bytecmp(arms[s1]->seg, arms[s1]->seglen, arms[s0]->seg,
		    arms[s0]->seglen) == 0; s1++)
			;
		nvar = s1 - s0;
		ca = NULL;
		for (i = s0; i < s1; i++)
			if (arms[i]->varlen == clen &&
			    memcmp(arms[i]->var, o->control, clen) == 0)
				ca = arms[i];
		if (ca == NULL || nvar < 2) {
			struct buf b;

			buf_init(&b);
			if (arms[s0]->seglen)
				buf_printf(&b, "segment %s: ", arms[s0]->seg);
			if (ca == NULL) {
				buf_printf(&b, "control variant '%s' not in "
				    "input (have ", o->control);
				for (i = s0; i < s1; i++)
					buf_printf(&b, "%s%s", i > s0 ? ", " :
					    "", arms[i]->var);
				buf_adds(&b, ")");
			} else
				buf_adds(&b, "need at least two variants");
			*err = b.data;
			up_run_free(r);
			return NULL;
		}
		if (o->weights != NULL && o->nweights != nvar) {
			*err = xasprintf("--weights has %zu values for %zu "
			    "variants", o->nweights, nvar);
			up_run_free(r);
			return NULL;
		}
		/* SRM on units if every arm has them */
		r->srm = xreallocarray(r->srm, r->nsrm + 1, sizeof(*r->srm));
		srm = &r->srm[r->nsrm++];
		memset(srm, 0, sizeof(*srm));
		srm->segment = arms[s0]->seg;
		srm->k = nvar;
		srm->variants = xcalloc(nvar, sizeof(*srm->variants));
		srm->counts = xcalloc(nvar, sizeof(*srm->counts));
		srm->weights = xcalloc(nvar, sizeof(*srm->weights));
		for (i = s0, nunits = 0; i < s1; i++)
			nunits += has(arms[i], UF_UNITS);
		f = nunits == nvar ? UF_UNITS : UF_IMPRESSIONS;
		srm->field = up_field_name[f];
		for (i = 0; i < nvar; i++) {
			srm->variants[i] = arms[s0 + i]->var;
			srm->counts[i] = arm_get(arms[s0 + i], f);
			srm->weights[i] = o->weights ? o->weights[i] : 1.0;
		}
		srm->p_value = up_srm_test(srm->counts, srm->weights, nvar,
		    &srm->chi2);
		srm->detected = srm->p_value < o->srm_threshold;
		if (f != UF_UNITS)
			srm->note = "impressions are not randomisation units; "
			    "treat this SRM check as indicative only";

		for (i = s0; i < s1; i++) {
			if (arms[i] == ca)
				continue;
			for (k = 0; k <= NMETRICS; k++) {
				m = &r->m[r->nm];
				metric_init(m);
				if (k < NMETRICS)
					eval_metric(m, k, ca, arms[i], o);
				else if (!eval_roas_unit(m, ca, arms[i], o))
					continue;
				m->segment = arms[s0]->seg;
				m->variant = arms[i]->var;
				m->control = ca->var;
				r->nm++;
			}
		}
	}
	if (o->correction != UP_CORR_NONE) {
		ps = xcalloc(r->nm + 1, sizeof(*ps));
		adj = xcalloc(r->nm + 1, sizeof(*adj));
		idx = xcalloc(r->nm + 1, sizeof(*idx));
		for (i = 0; i < r->nm; i++)
			if (!isnan(r->m[i].p_value)) {
				idx[np] = i;
				ps[np++] = r->m[i].p_value;
			}
		if (o->correction == UP_CORR_HOLM)
			up_holm(ps, adj, np);
		else
			up_bh(ps, adj, np);
		for (j = 0; j < np; j++)
			r->m[idx[j]].p_value_adj = adj[j];
		free(ps);
		free(adj);
		free(idx);
	}
	zq = stats_norm_ppf(1 - o->alpha / 2);
	zp = stats_norm_ppf(o->power);
	for (i = 0; i < r->nm; i++) {
		double p;

		m = &r->m[i];
		p = !isnan(m->p_value_adj) ? m->p_value_adj : m->p_value;
		m->significant = !isnan(p) && p < o->alpha;
		if (!isnan(m->se_abs) && m->se_abs > 0) {
			m->mde_abs = (zq + zp) * m->se_abs;
			if (m->has_values && m->control_value != 0)
				m->mde_rel = m->mde_abs /
				    fabs(m->control_value);
		}
	}
	return r;
}

void
up_run_free(struct up_run *r)
{
	size_t i;

	if (r == NULL)
		return;
	for (i = 0; i < r->nsrm; i++) {
		free(r->srm[i].variants);
		free(r->srm[i].counts);
		free(r->srm[i].weights);
	}
	free(r->srm);
	free(r->m);
	free(r);
}
