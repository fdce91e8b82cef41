/*
 * gbdt.h - histogram gradient boosted trees: feature binning (at most 255
 * bins, a bin of its own for missing values), leaf-wise (best-first)
 * growth to a number of leaves, L2-regularised Newton leaves, a learned
 * default direction for missing values, and prediction.  The objective
 * is the caller's: it hands in per-row gradients and hessians.
 *
 * Thresholds and leaf values are float32 numbers held in doubles, and a
 * value, rounded to float32, goes left when it is below the threshold:
 * a tree means the same here as in XGBoost's float32
 * "x < split_condition".
 */
#ifndef GBDT_H
#define GBDT_H

#include <stddef.h>
#include <stdint.h>

struct gbdt_params {
	int leaves;		/* leaf-wise growth stops at this many */
	int max_depth;		/* 0: no limit */
	long long min_leaf;	/* rows in each child */
	double min_hess;	/* sum of hessians in each child */
	double l2;		/* lambda_l2 */
	double min_gain;	/* a split must gain more than this */
	double lr;		/* shrinkage of every leaf value */
};

/* Bin boundaries of every feature: bin(v) = #{t in thr : t <= v}. */
struct gbdt_binning {
	size_t nf;
	size_t *nthr;
	double **thr;		/* ascending float32 values */
};

/*
 * Find the bin boundaries of the nf columns of the row-major n x nf
 * matrix x (NaN: missing) as LightGBM's greedy binning does: with at most
 * maxbins distinct values, a boundary between neighbours once
 * min_data_in_bin values are in the bin; else roughly equal counts.
 * At most `sample' rows are looked at (every k-th row).  Owned by the
 * caller: gbdt_binning_free().
 */
struct gbdt_binning *gbdt_binning_new(const double *x, size_t n, size_t nf,
    int maxbins, int min_data_in_bin, size_t sample);
void gbdt_binning_free(struct gbdt_binning *);
/* The bin of v in feature f (missing: nthr[f] + 1). */
int gbdt_bin_of(const struct gbdt_binning *, size_t f, double v);

/* A binned training set; borrows the binning. */
struct gbdt_data {
	size_t n, nf;
	/* nf x n, feature-major: splitting a leaf's rows on a feature and
	 * walking the rows through a tree read one column, in row order */
	uint8_t *bin;
	const struct gbdt_binning *bn;
	/*
	 * The same rows sparse: each row's entries whose bin is not the
	 * feature's most common one, dflt[f].  A histogram adds only these
	 * and gets the common bin by subtraction, which on sparse data
	 * (mostly zeros) skips most of the work.  An entry is the index of
	 * its bin in the learner's histogram (feature f's nthr[f] + 2 bins
	 * after those of the features before it), so adding it reads one
	 * word and the learner needs no copy.
	 */
	uint8_t *dflt;
	size_t *rowptr;		/* n + 1 */
	uint32_t *ent;
};
struct gbdt_data *gbdt_data_new(const double *x, size_t n, size_t nf,
    const struct gbdt_binning *);
void gbdt_data_free(struct gbdt_data *);

/*
 * One tree node.  A leaf has feat -1 and value; an inner node sends a row
 * left when its value is below thr (bin <= bin), missing values to the
 * default side.
 */
struct gbdt_node {
	int feat;
	int bin;
	int dleft;
	int left, right;
	int parent;
	double thr;
	double value;		/* leaf: the output; inner: its would-be value */
	double gain;		/* inner: the split's gain */
	double hess;		/* sum of hessians of the node's rows */
	long long count;
};

struct gbdt_tree {
	size_t n;
	struct gbdt_node *node;	/* node 0 is the root */
};

struct gbdt_learner;
/* A learner over data (borrowed) with params (copied). */
struct gbdt_learner *gbdt_learner_new(const struct gbdt_data *,
    const struct gbdt_params *);
void gbdt_learner_free(struct gbdt_learner *);

/*
 * Grow one tree on rows[0..nrows) (ascending row numbers) with gradients
 * g and hessians h (indexed by row), trying only features with
 * featok[f] != 0.  The tree is written to *out (its node array owned by
 * the caller: free(out->node)).
 */
void gbdt_grow(struct gbdt_learner *, const double *g, const double *h,
    const size_t *rows, size_t nrows, const unsigned char *featok,
    struct gbdt_tree *out);

/*
 * score[r] += t's value for every row the learner's last gbdt_grow()
 * grew t on, from the leaves those rows ended in: the same values
 * gbdt_tree_apply() adds to them, without walking the tree.
 */
void gbdt_grow_apply(const struct gbdt_learner *, const struct gbdt_tree *t,
    double *score);

/* score[r] += the tree's value for every row of the binned data. */
void gbdt_tree_apply(const struct gbdt_tree *, const struct gbdt_data *,
    double *score);
/* The tree's value for the raw feature vector x (NaN: missing). */
double gbdt_tree_predict(const struct gbdt_tree *, const double *x);

/* splitmix64: the one random source, seeded by --seed. */
uint64_t gbdt_rand(uint64_t *state);

#endif
