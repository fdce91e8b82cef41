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

#endif
