/*
 * uplift.h - the evaluation engine of asin-uplift: exact, order-free
 * moment sums per (segment, variant), and the tests on them (pooled
 * two-proportion z, delta method for ratios, Welch t, SRM, Holm and
 * Benjamini-Hochberg, MDE).  The statistical choices follow
 * uplift_reference.py point by point; the man page lists them.
 */
#ifndef UPLIFT_H
#define UPLIFT_H

#include <stddef.h>

/* The moment fields of one arm, named as in the input schema. */
enum up_field {
	UF_IMPRESSIONS,
	UF_CLICKS,
	UF_CONVERSIONS,
	UF_GMV,
	UF_SPEND,
	UF_GMV_SQ,
	UF_ROAS,
	UF_ROAS_SQ,
	UF_UNITS,
	UF_IMPRESSIONS_SQ,
	UF_CLICKS_SQ,
	UF_CONVERSIONS_SQ,
	UF_SPEND_SQ,
	UF_CLICKS_X_IMPRESSIONS,
	UF_CONVERSIONS_X_CLICKS,
	UF_GMV_X_IMPRESSIONS,
	UF_GMV_X_SPEND,
	UF_NFIELDS
};
/* "impressions", "clicks", ...; static storage. */
extern const char *const up_field_name[UF_NFIELDS];

/*
 * An exact running sum of doubles (Shewchuk's non-overlapping partials,
 * as Python's math.fsum): the value is the exact sum rounded once, so
 * it does not depend on the order of the additions.
 */
#define XSUM_MAX 48
struct xsum {
	double p[XSUM_MAX];
	int n;
	int special;	/* an infinite or NaN term was added */
};
void xsum_init(struct xsum *);
void xsum_add(struct xsum *, double x);
/* The exact sum rounded to nearest; NAN if a non-finite term was added. */
double xsum_value(const struct xsum *);

/*
 * The arms of a run.  up_add_row() sums a variant-level row (fields with
 * present bit i set in mask); up_add_unit() adds one randomisation unit
 * (an ASIN) and derives its moments.  segment and variant are byte
 * strings copied on first sight; segment is the canonical JSON text of
 * the --by value or "" without --by.
 */
struct up_table;
struct up_table *up_table_new(void);
void up_table_free(struct up_table *);
void up_add_row(struct up_table *, const char *seg, size_t seglen,
    const char *var, size_t varlen, const double *vals, unsigned mask);
void up_add_unit(struct up_table *, const char *seg, size_t seglen,
    const char *var, size_t varlen, double impressions, double clicks,
    double conversions, double gmv, double spend);

/*
 * Partial sums for a run split over shards (--partial, --merge).  A
 * cell is one (segment, variant) arm with its exact sums; merging adds
 * each partial of a shard's expansion exactly, so the merged sums round
 * to the very doubles of a single run over all rows.
 */
struct up_cell {
	const char *seg;	/* borrowed from the table */
	size_t seglen;
	const char *var;
	size_t varlen;
	unsigned present;	/* bit f: field f was given */
	const struct xsum *s;	/* UF_NFIELDS sums */
};
/*
 * The table's arms in byte order of (segment, variant), as a fresh
 * array the caller frees (the strings stay the table's); *n gets the
 * count.
 */
struct up_cell *up_table_cells(const struct up_table *, size_t *n);
/*
 * Add a shard's sum of field f to an arm (made on first sight): every
 * partial of x, exactly; a non-finite x stays non-finite.
 */
void up_add_sum(struct up_table *, const char *seg, size_t seglen,
    const char *var, size_t varlen, enum up_field f, const struct xsum *x);

enum up_correction {
	UP_CORR_NONE,
	UP_CORR_HOLM,
	UP_CORR_BH
};

struct up_opts {
	const char *control;	/* control variant name */
	double alpha;		/* two-sided level */
	double power;		/* for the MDE */
	double srm_threshold;
	int t_test;		/* Welch t with Satterthwaite dof */
	enum up_correction correction;
	const double *weights;	/* SRM weights in variant order, or NULL */
	size_t nweights;
	enum up_field roas_n;	/* n of roas/roas_sq (default units) */
};

/*
 * One (segment, variant, metric) result.  Doubles are NAN where the
 * value is not computable (the writer prints null).  Strings are
 * borrowed from the run (static text or the table's names).
 */
struct up_metric {
	const char *segment;
	const char *variant;
	const char *control;
	const char *metric;
	const char *method;
	const char *note;
	char notebuf[200];
	double control_value, variant_value, abs_uplift, rel_uplift;
	double se_abs, z, p_value, ci_abs[2];
	double se_rel, z_rel, p_value_rel, ci_rel[2];
	double dof, se_pooled, p_value_adj, mde_abs, mde_rel;
	int has_values;		/* point estimates defined */
	int significant;
};

/* The sample-ratio check of one segment. */
struct up_srm {
	const char *segment;
	const char *field;	/* "units" or "impressions" */
	size_t k;
	const char **variants;	/* sorted by name (bytes) */
	double *counts;
	double *weights;
	double chi2, p_value;
	int detected;
	const char *note;
};

struct up_run {
	struct up_srm *srm;	/* one per segment, segments sorted */
	size_t nsrm;
	struct up_metric *m;	/* segment, variant, metric order */
	size_t nm;
};

/*
 * Evaluate every non-control variant against the control in every
 * segment.  Segments and variants are taken in byte order, so the
 * result depends only on the set of rows.  On a problem (no control in
 * a segment, --weights of the wrong length) returns NULL with *err set
 * to a fresh message the caller frees.  The run borrows the table: free
 * it with up_run_free() before up_table_free().
 */
struct up_run *up_evaluate(struct up_table *, const struct up_opts *,
    char **err);
void up_run_free(struct up_run *);

/*
 * Primitives, exposed for the tests and the gbstats conformance runner.
 * up_sample_var(): (ss - s^2/n)/(n-1), 0 when n <= 1.
 * up_var_ratio(): delta-method variance of M/D (gbstats
 * variance_of_ratios), 0 when mean_d is 0.
 * up_welch_dof(): Satterthwaite dof from per-unit variances, or NAN
 * where gbstats would divide by zero.
 * up_srm_test(): gbstats check_srm; returns p, *chi2 gets the statistic.
 * up_holm()/up_bh(): adjusted p-values into adj, in input order.
 */
double up_sample_var(double s, double ss, double n);
double up_var_ratio(double mean_m, double var_m, double mean_d, double var_d,
    double cov);
double up_welch_dof(double v_c, double n_c, double v_t, double n_t);
double up_srm_test(const double *counts, const double *weights, size_t k,
    double *chi2);
void up_holm(const double *p, double *adj, size_t m);
void up_bh(const double *p, double *adj, size_t m);

#endif
