/*
 * rank.h - the parts of asin-rank shared by its subcommands: options, the
 * in-memory data set, the model file.  Engines live in common/
 * (gbdt.h, lambdarank.h, ltrmetrics.h); this is the tool's wiring.
 */
#ifndef RANK_H
#define RANK_H

#include <stddef.h>
#include <stdint.h>

#include "asin.h"
#include "gbdt.h"
#include "lambdarank.h"

#define RANK_MODEL_FORMAT "asin-rank-model"
#define RANK_MODEL_VERSION 1
#define RANK_MAX_K 64

/* Every flag of every subcommand; main.c fills it, the subcommand reads
 * what applies to it. */
struct ropts {
	struct cli_common co;
	const char *cmd;
	const char *label;
	const char *group;
	const char *features;
	const char *features_from;
	const char *output;
	const char *model;
	const char *valid;
	const char *score;
	const char *baseline;
	const char *ks;
	const char *output_dir;
	const char *runs;
	const char *format;
	const char *query;
	const char *date_field;
	const char *label_gain;
	const char *early_metric;
	enum lr_objective objective;
	int libsvm;
	int absent_missing;
	int ties_average;
	int no_runs;
	long long trees, leaves, bins, min_leaf, trunc, patience, rel_min;
	long long max_depth;
	double lr, l2, min_hess, sigma, feature_fraction, bagging_fraction;
	double valid_frac;
	unsigned long long seed;
	int seed_set;
	int nopt;		/* options given, for the per-command check */
	const char *given[64];
};

/* Rows read into memory: features row-major, groups contiguous. */
struct dataset {
	size_t n, nf;
	double *x;		/* n x nf, NaN for missing */
	int *label;		/* label indices; -1 when not read */
	double *col[2];		/* eval: score and baseline columns */
	size_t nq;
	size_t *bounds;		/* nq + 1 */
	char **qkey;		/* each group's key as JSON text */
	char *span_min, *span_max;	/* of the date field, or NULL */
	long long in, rejected;
};

/* What to read from each row. */
struct loadspec {
	const char *label;	/* NULL: no label */
	char **group;		/* NULL: no groups (one row each) */
	size_t ngroup;
	char **feat;
	size_t nf;
	const char *col[2];	/* extra number columns, or NULL */
	const char *date_field;
	int absent_missing;
	int max_label;		/* labels beyond are an error */
	const char *gain_name;	/* for the message */
	int libsvm;
	const char *query;	/* libsvm: the group sizes file */
};

/* data.c */
struct dataset *ds_load(const struct loadspec *, char **paths, int npaths,
    struct acct *);
void ds_free(struct dataset *);
/* The message (into msg, returned) for a feature or column that is not
 * a finite number: st is what rec_num() said (REC_OK: it was not finite). */
const char *feature_error(struct record *, struct rec_field *,
    enum rec_status st, char *msg, size_t mn);
/* The rows of groups[0..ng) of d as a new data set (a copy). */
struct dataset *ds_subset(const struct dataset *, const size_t *groups,
    size_t ng);

/* model.c: the model file */

/* A tree node packed for prediction: 16 bytes, so a tree sits in few
 * cache lines.  The feature is in the low 30 bits, bit 30 set when
 * missing values go left.  A leaf holds its value in v and points to
 * itself through both kids (its feature is a constant 0 slot), so a walk
 * can take a fixed number of steps without testing for leaves. */
struct pnode {
	int32_t feat;
	float v;		/* threshold, or the leaf value */
	int32_t kid[2];		/* left, right */
};
#define PNODE_DLEFT 0x40000000
#define PNODE_FEAT 0x3fffffff

struct model {
	enum lr_objective objective;
	char **feat;
	size_t nf;
	char *label;
	char **group;
	size_t ngroup;
	char *schema_version;	/* or NULL */
	char *schema_path;
	double base_score;
	struct gbdt_tree *tree;
	size_t ntrees;
	struct pnode *pn;	/* every tree's nodes, packed */
	size_t *proot;		/* tree t starts at pn[proot[t]] */
	int *pdepth;		/* the depth of tree t */
	float *xf;		/* scratch: the row as float32 */
	double *gain;		/* the label gains */
	size_t ngain;
	char *gain_name;
};
/* Read and check a model file; dies with a located message. */
struct model *model_load(const char *path);
void model_free(struct model *);
/* The model's score of feature vector x (NaN: missing). */
double model_predict(struct model *, const double *x);
/* The XGBoost 1.7 JSON model of m into b. */
void model_xgboost(const struct model *, struct buf *b);

/* predict.c: the batch predictor of `score` (same bits as
 * model_predict()).  pred_new() borrows nothing from m once it returns;
 * NULL when the model is too wide for it (more than 32767 features or
 * 65534 distinct thresholds of one feature). */
struct predictor;
struct predictor *pred_new(const struct model *m);
void pred_free(struct predictor *);
/* The uint16 slots one row takes in a batch. */
size_t pred_width(const struct predictor *);
/* The row x (nf values, NaN: missing) as its pred_width() slots. */
void pred_row(const struct predictor *, const double *x, uint16_t *slot);
/* out[i] = the score of row i of the n rows of slots x. */
void pred_batch(const struct predictor *, const uint16_t *x, size_t n,
    double *out);

/* label gains: exp2, linear or a list */
double *gain_parse(const char *spec, size_t *n);

/* Append one line to the runs index (unless --no-runs). */
void runs_append(const struct ropts *, const char *line);
/* An ISO 8601 UTC time stamp for the runs index. */
void runs_now(char *dst, size_t n);

/* The subcommands. */
int cmd_train(struct ropts *, char **files, int nfiles);
int cmd_score(struct ropts *, char **files, int nfiles);
int cmd_eval(struct ropts *, char **files, int nfiles);
int cmd_explain(struct ropts *, char **files, int nfiles);
int cmd_export(struct ropts *, char **files, int nfiles);

/* Shortest round-trip number, or null for non-finite. */
void jnum(struct buf *, double);
/* Write b to path atomically or die. */
void save_file(const char *path, const struct buf *b);

#endif
