/*
 * stats.c - the numerics of the suite: order statistics, running moments
 * and the distribution functions the tests need (normal, Student t,
 * chi-square) with the special functions behind them.  Pure functions of
 * their arguments; accuracy targets are stated in asin.h.
 */
#include <float.h>
#include <math.h>
#include <stddef.h>

#include "asin.h"

#define LN_SQRT_2PI	0.91893853320467274178032973640562
#define SQRT_2PI	2.50662827463100050241576528481105
#define CF_TINY		1e-300
#define CF_EPS		1e-16

static double select_kth(double *, size_t, size_t);
static double min_above(const double *, size_t, size_t);
static double stirling_err(double);
static double beta_front(double, double, double, double);
static double beta_cf_n(double, double, double, double, long);
static double beta_cf(double, double, double, double);
static double ibeta_xy(double, double, double, double);
static double gamma_front(double, double);
static double gamma_p_series(double, double);
static double gamma_q_cf(double, double);
static double t_lower_tail(double, double);
static double t_pdf(double, double);

/*
 * Wirth's selection: afterwards x[k] is the k-th smallest, everything
 * left of it is <= and everything right of it is >=.  The pivot is the
 * median of three so sorted and reversed input stay linear.
 */
static double
select_kth(double *x, size_t n, size_t k)
{
	size_t l = 0, r = n - 1;

	while (l < r) {
		double a = x[l], b = x[l + (r - l) / 2], c = x[r], p, t;
		size_t i = l, j = r;

		if (a < b)
			p = b < c ? b : (a < c ? c : a);
		else
			p = a < c ? a : (b < c ? c : b);
		do {
			while (x[i] < p)
				i++;
			while (p < x[j])
				j--;
			if (i <= j) {
				t = x[i];
				x[i] = x[j];
				x[j] = t;
				i++;
				if (j == 0)
					break;
				j--;
			}
		} while (i <= j);
		if (j < k)
			l = i;
		if (k < i)
			r = j;
	}
	return x[k];
}

/* The smallest of x[k+1..n-1]; after select_kth() that is the (k+1)-th. */
static double
min_above(const double *x, size_t n, size_t k)
{
	double m = x[k + 1];
	size_t i;

	for (i = k + 2; i < n; i++)
		if (x[i] < m)
			m = x[i];
	return m;
}

double
stats_median(double *x, size_t n)
{
	double lo;

	if (n == 0)
		return NAN;
	lo = select_kth(x, n, (n - 1) / 2);
	if (n % 2)
		return lo;
	return lo + (min_above(x, n, (n - 1) / 2) - lo) / 2;
}

double
stats_mad(double *x, size_t n, double med)
{
	size_t i;

	for (i = 0; i < n; i++)
		x[i] = fabs(x[i] - med);
	return stats_median(x, n);
}

double
stats_quantile(double *x, size_t n, double q)
{
	double h, lo, hi;
	size_t k;

	if (n == 0 || !(q >= 0 && q <= 1))
		return NAN;
	h = (double)(n - 1) * q;
	k = (size_t)floor(h);
	if (k >= n - 1)
		return select_kth(x, n, n - 1);
	lo = select_kth(x, n, k);
	if (h == (double)k)
		return lo;
	hi = min_above(x, n, k);
	return lo + (h - (double)k) * (hi - lo);
}

void
welford_init(struct welford *w)
{
	w->n = 0;
	w->mean = 0;
	w->m2 = 0;
}

void
welford_push(struct welford *w, double x)
{
	double d = x - w->mean;

	w->n++;
	w->mean += d / (double)w->n;
	w->m2 += d * (x - w->mean);
}

double
welford_var(const struct welford *w)
{
	if (w->n < 2)
		return NAN;
	return w->m2 / (double)(w->n - 1);
}

/* Two passes about the means: no cancellation from raw cross sums. */
double
stats_ols_slope(const double *x, const double *y, size_t n)
{
	double mx = 0, my = 0, sxx = 0, sxy = 0;
	size_t i;

	if (n < 2)
		return NAN;
	for (i = 0; i < n; i++) {
		mx += x[i];
		my += y[i];
	}
	mx /= (double)n;
	my /= (double)n;
	for (i = 0; i < n; i++) {
		sxx += (x[i] - mx) * (x[i] - mx);
		sxy += (x[i] - mx) * (y[i] - my);
	}
	if (sxx == 0)
		return NAN;
	return sxy / sxx;
}

double
stats_norm_cdf(double z)
{
	if (isnan(z))
		return NAN;
	return 0.5 * erfc(-z * M_SQRT1_2);
}

double
stats_norm_sf(double z)
{
	if (isnan(z))
		return NAN;
	return 0.5 * erfc(z * M_SQRT1_2);
}

/*
 * A rational start (Abramowitz and Stegun 26.2.23, 4.5e-4 absolute)
 * polished by Halley steps on the lower tail, where erfc() keeps full
 * relative precision: two steps reach the double nearest the root.
 */
double
stats_norm_ppf(double p)
{
	double q, t, z, e, u;
	int i, neg;

	if (isnan(p) || p < 0 || p > 1)
		return NAN;
	if (p == 0)
		return -INFINITY;
	if (p == 1)
		return INFINITY;
	if (p == 0.5)
		return 0;
	neg = p < 0.5;
	q = neg ? p : 1 - p;	/* exact for p >= 0.5 (Sterbenz) */
	t = sqrt(-2 * log(q));
	z = -(t - (2.515517 + 0.802853 * t + 0.010328 * t * t) /
	    (1 + 1.432788 * t + 0.189269 * t * t + 0.001308 * t * t * t));
	for (i = 0; i < 4; i++) {
		e = stats_norm_cdf(z) - q;
		u = e * SQRT_2PI * exp(z * z / 2);
		t = u / (1 + z * u / 2);
		z -= t;
		if (fabs(t) <= 1e-17 * fabs(z))
			break;
	}
	return neg ? z : -z;
}

/*
 * lgamma(a) - ((a - 0.5) log a - a + log sqrt(2 pi)): the Stirling
 * remainder, by its series for large a so that differences of big
 * lgamma values keep their precision.
 */
static double
stirling_err(double a)
{
	double r, r2;

	if (a < 15)
		return lgamma(a) - (a - 0.5) * log(a) + a - LN_SQRT_2PI;
	r = 1 / a;
	r2 = r * r;
	return r * (1.0 / 12 - r2 * (1.0 / 360 - r2 * (1.0 / 1260 -
	    r2 * (1.0 / 1680 - r2 * (1.0 / 1188)))));
}

/*
 * x^a y^b / B(a, b) with y = 1 - x given separately.  Written around
 * the Stirling form so the huge a of a t test with many degrees of
 * freedom loses nothing: a log(x (a+b) / a) + b log(y (a+b) / b) with
 * the ratios as log1p of a small difference.
 */
static double
beta_front(double a, double b, double x, double y)
{
	double s = a + b, d, la, lb;

	d = b * x - a * y;	/* x (a+b) - a, without cancellation */
	/* log1p only where it helps: near -1 it would lose the tail. */
	if (fabs(d) < 0.5 * a)
		la = a * log1p(d / a);
	else
		la = a * (log(x) + log(s / a));
	if (fabs(d) < 0.5 * b)
		lb = b * log1p(-d / b);
	else
		lb = b * (log(y) + log(s / b));
	return exp(la + lb + 0.5 * log(a * b / s) - LN_SQRT_2PI +
	    stirling_err(s) - stirling_err(a) - stirling_err(b));
}

/*
 * The continued fraction of I_x(a, b) (Numerical Recipes' even and odd
 * terms), summed backwards from depth n.  Forward Lentz steps near the
 * switch point x = (a+1)/(a+b+2) change the value by less than an ulp
 * each, and rounding drops them all; the backward sum keeps them.  Near
 * x = 1 with a large (a t test with many degrees of freedom) the value
 * is sensitive to x itself, so x is rebuilt from the exact y = 1 - x in
 * long double where that type is wider.
 */
static double
beta_cf_n(double a, double b, double x, double y, long n)
{
	long double t = 1, dm, m2, xl;
	long m;

	xl = x > 0.5 ? 1.0L - (long double)y : (long double)x;
	for (m = n; m >= 1; m--) {
		m2 = 2.0L * (long double)m;
		dm = -(a + (long double)m) * (a + b + (long double)m) * xl /
		    ((a + m2) * (a + m2 + 1));
		t = 1 + dm / t;
		dm = (long double)m * (b - (long double)m) * xl /
		    ((a + m2 - 1) * (a + m2));
		t = 1 + dm / t;
	}
	/* the first odd term, m = 0 */
	t = 1 - (a + b) * xl / (a + 1) / t;
	return (double)(1 / t);
}

/* Double the depth until two evaluations agree to the last bits. */
static double
beta_cf(double a, double b, double x, double y)
{
	long n = 16 + 2 * (long)sqrt(a + b);
	double prev = beta_cf_n(a, b, x, y, n), cur = prev;
	int i;

	for (i = 0; i < 12; i++) {
		n *= 2;
		cur = beta_cf_n(a, b, x, y, n);
		if (fabs(cur - prev) <= 2 * DBL_EPSILON * fabs(cur))
			break;
		prev = cur;
	}
	return cur;
}

/* I_x(a, b) with y = 1 - x known exactly by the caller. */
static double
ibeta_xy(double a, double b, double x, double y)
{
	if (isnan(a) || isnan(b) || isnan(x) || a <= 0 || b <= 0)
		return NAN;
	if (x <= 0)
		return 0;
	if (y <= 0)
		return 1;
	if (x < (a + 1) / (a + b + 2))
		return beta_front(a, b, x, y) * beta_cf(a, b, x, y) / a;
	return 1 - beta_front(b, a, y, x) * beta_cf(b, a, y, x) / b;
}

double
stats_ibeta(double a, double b, double x)
{
	if (isnan(x))
		return NAN;
	if (x >= 1)
		return ibeta_xy(a, b, 1, 0);
	return ibeta_xy(a, b, x, 1 - x);
}

/* x^a e^-x / Gamma(a), kept accurate for large a as in beta_front(). */
static double
gamma_front(double a, double x)
{
	double u, l;

	if (a < 15)
		return exp(a * log(x) - x - lgamma(a));
	u = (x - a) / a;
	/* log1p(u) - u cancels near u = 0; near u = -1 plain logs do better */
	l = fabs(u) < 0.5 ? a * (log1p(u) - u) : a * log(x / a) - (x - a);
	return exp(l + 0.5 * log(a) - LN_SQRT_2PI - stirling_err(a));
}

/* P(a, x) by its power series; for x < a + 1. */
static double
gamma_p_series(double a, double x)
{
	double ap = a, del, sum;
	int n;

	del = sum = 1 / a;
	for (n = 0; n < 1000000; n++) {
		ap += 1;
		del *= x / ap;
		sum += del;
		if (fabs(del) < fabs(sum) * CF_EPS)
			break;
	}
	return sum * gamma_front(a, x);
}

/* Q(a, x) by its continued fraction (Lentz); for x >= a + 1. */
static double
gamma_q_cf(double a, double x)
{
	double b = x + 1 - a, c = 1 / CF_TINY, d = 1 / b, h = d, an, del;
	int i;

	for (i = 1; i < 1000000; i++) {
		an = -i * (i - a);
		b += 2;
		d = an * d + b;
		if (fabs(d) < CF_TINY)
			d = CF_TINY;
		c = b + an / c;
		if (fabs(c) < CF_TINY)
			c = CF_TINY;
		d = 1 / d;
		del = d * c;
		h *= del;
		if (fabs(del - 1) <= CF_EPS)
			break;
	}
	return gamma_front(a, x) * h;
}

double
stats_gammap(double a, double x)
{
	if (isnan(a) || isnan(x) || a <= 0 || x < 0)
		return NAN;
	if (x == 0)
		return 0;
	if (isinf(x))
		return 1;
	if (x < a + 1)
		return gamma_p_series(a, x);
	return 1 - gamma_q_cf(a, x);
}

double
stats_chi2_sf(double x, double k)
{
	double a = k / 2, h = x / 2;

	if (isnan(x) || isnan(k) || k <= 0)
		return NAN;
	if (x <= 0)
		return 1;
	if (isinf(x))
		return 0;
	if (h < a + 1)
		return 1 - gamma_p_series(a, h);
	return gamma_q_cf(a, h);
}

/* P(T <= -|t|): the lower tail, with both beta arguments formed exactly. */
static double
t_lower_tail(double t, double df)
{
	double t2 = t * t, x, y;

	if (isinf(t))
		return 0;
	if (t2 < df) {
		x = df / (df + t2);
		y = t2 / (df + t2);
	} else {
		y = 1 / (1 + df / t2);
		x = (df / t2) / (1 + df / t2);
	}
	return 0.5 * ibeta_xy(df / 2, 0.5, x, y);
}

double
stats_t_cdf(double t, double df)
{
	double lo;

	if (isnan(t) || isnan(df) || df <= 0)
		return NAN;
	if (isinf(df))
		return stats_norm_cdf(t);
	lo = t_lower_tail(t, df);
	return t < 0 ? lo : 1 - lo;
}

/* The t density, only as a Newton slope; lgamma differences suffice. */
static double
t_pdf(double t, double df)
{
	return exp(lgamma((df + 1) / 2) - lgamma(df / 2) -
	    0.5 * log(df * M_PI) - (df + 1) / 2 * log1p(t * t / df));
}

/*
 * Newton on the lower tail, kept inside a bracket that bisection
 * shrinks whenever a step would leave it, so it converges for any df.
 * The start is the Cornish-Fisher expansion, or the power-law tail
 * when that is the better guess.
 */
double
stats_t_ppf(double p, double df)
{
	double q, z, t, tail, lo, hi, f, step, g1, g2, g3, g4, z2;
	int i, neg;

	if (isnan(p) || isnan(df) || df <= 0 || p < 0 || p > 1)
		return NAN;
	if (p == 0)
		return -INFINITY;
	if (p == 1)
		return INFINITY;
	if (p == 0.5)
		return 0;
	if (isinf(df))
		return stats_norm_ppf(p);
	neg = p < 0.5;
	q = neg ? p : 1 - p;
	z = stats_norm_ppf(q);
	z2 = z * z;
	g1 = (z2 + 1) * z / 4;
	g2 = ((5 * z2 + 16) * z2 + 3) * z / 96;
	g3 = (((3 * z2 + 19) * z2 + 17) * z2 - 15) * z / 384;
	g4 = ((((79 * z2 + 776) * z2 + 1482) * z2 - 1920) * z2 - 945) * z /
	    92160;
	t = z + g1 / df + g2 / (df * df) + g3 / (df * df * df) +
	    g4 / (df * df * df * df);
	tail = -exp((lgamma((df + 1) / 2) - lgamma(df / 2) -
	    0.5 * log(df * M_PI) + (df - 1) / 2 * log(df) - log(q)) / df);
	if (!isfinite(t) || (isfinite(tail) && tail > t && df < 5))
		t = tail;
	if (!isfinite(t) || t >= 0)
		t = -1;
	/* Bracket the root in (lo, hi] on the negative axis. */
	hi = 0;
	lo = t;
	for (i = 0; i < 2000 && t_lower_tail(lo, df) > q; i++) {
		hi = lo;
		lo *= 2;
	}
	if (t_lower_tail(lo, df) > q)
		return neg ? -INFINITY : INFINITY;
	for (i = 0; i < 200; i++) {
		f = t_lower_tail(t, df) - q;
		if (f > 0)
			hi = t;
		else
			lo = t;
		if (f == 0)
			break;
		step = f / t_pdf(t, df);
		if (!isfinite(step) || t - step <= lo || t - step >= hi)
			step = t - (lo + (hi - lo) / 2);
		t -= step;
		if (fabs(step) <= 4 * DBL_EPSILON * fabs(t) ||
		    hi - lo <= 4 * DBL_EPSILON * fabs(t))
			break;
	}
	return neg ? t : -t;
}
