/*
 * split.h - the parts of asin-split shared between its two files: the
 * stream assigner (main.c) and the GrowthBook vector runner (check.c).
 */
#ifndef SPLIT_H
#define SPLIT_H

#include "gbexp.h"

/*
 * Run the GrowthBook test-vector files paths[0..n-1] (the SDK's
 * cases.json layout, one of its per-section files, or our derived
 * vectors).  Prints each failure and a "N passed, N failed, N skipped"
 * line per file and in total on stdout.  verbose prints passes too.
 * Returns EXIT_OK when nothing failed, EXIT_FAIL otherwise.
 */
int split_check(char **paths, int n, enum gb_unicode mode, int verbose);

/*
 * The counts of one experiment (counts.c): units per rule and variant
 * ([rule * nvar + v]) and each rule's expected share of its units.
 * Borrowed by split_report(); owned by split_merge() for its merges.
 */
struct split_count {
	char *key;
	char **names;
	int nvar;
	int nrules;
	double *share;
	long long *count;
	long long not_in;
};
struct split_report_opts {
	int partial;	/* --partial: add the partial member, no SRM warning */
	int verbose;	/* -v lines per experiment */
	int quiet;
};
/*
 * The --stats members after the record counts: lines_out and, per
 * experiment, the count per variant against what the weights expect
 * and Pearson's chi-square of the two (df = variants - 1), plus with
 * --partial what a merge needs.  A mismatch at p < 0.001 with at least 8
 * units per variant is a warning, outside --partial.  Returns a fresh
 * string (members without braces) the caller frees.
 */
char *split_report(const struct split_count *, int n, long long lines_out,
    const struct split_report_opts *);
/*
 * asin-split --merge: add the --partial --stats files paths[0..n-1]
 * (which must come from the same experiment definitions) and write the
 * single run's --stats bytes to standard output, with the SRM warning
 * and -v lines of co.  Dies naming the file on a mismatch.  Returns the
 * exit status.
 */
struct cli_common;
int split_merge(char **paths, int n, const struct cli_common *co);

#endif
