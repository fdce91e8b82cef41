/*
 * ltrgrad - print the lambdarank gradient and hessian of every row, for
 * the fidelity test against the reference port (ltr_reference.py).
 * usage: ltrgrad LABELS QUERY [SCORES]
 * LABELS: a libsvm file (only the label of each line is read); QUERY:
 * its group sizes; SCORES: one score per line (default: all 0, the
 * first iteration).  Prints "g h" per row with 17 digits.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "asin.h"
#include "lambdarank.h"

static double *
read_col(const char *path, size_t *n, int label)
{
	FILE *f = fopen(path, "r");
	double *v = NULL;
	size_t cap = 0;
	char *line = NULL;
	size_t lcap = 0;

	if (f == NULL)
		die("%s: cannot open:", path);
	*n = 0;
	while (getline(&line, &lcap, f) > 0) {
		if (line[0] == '\n')
			continue;
		if (*n == cap) {
			cap = cap ? cap * 2 : 1024;
			v = xreallocarray(v, cap, sizeof(double));
		}
		v[(*n)++] = label ? strtod(line, NULL) : strtod(line, NULL);
	}
	free(line);
	fclose(f);
	return v;
}

int
main(int argc, char *argv[])
{
	size_t n, nq, ns, i, q, *bounds;
	double *lab, *qs, *s, *g, *h, gain[31];
	int *li;
	struct lambdarank *lr;

	diag_init(argv[0]);
	if (argc < 3 || argc > 4)
		usage_error("usage: ltrgrad LABELS QUERY [SCORES]");
	lab = read_col(argv[1], &n, 1);
	qs = read_col(argv[2], &nq, 0);
	bounds = xmalloc((nq + 1) * sizeof(size_t));
	bounds[0] = 0;
	for (q = 0; q < nq; q++)
		bounds[q + 1] = bounds[q] + (size_t)qs[q];
	if (bounds[nq] != n)
		die("query sizes sum to %zu, %zu rows", bounds[nq], n);
	li = xmalloc(n * sizeof(int));
	for (i = 0; i < n; i++)
		li[i] = (int)lab[i];
	for (i = 0; i < 31; i++)
		gain[i] = (double)((1UL << i) - 1);
	if (argc == 4) {
		s = read_col(argv[3], &ns, 0);
		if (ns != n)
			die("%zu scores for %zu rows", ns, n);
	} else
		s = xcalloc(n, sizeof(double));
	g = xmalloc(n * sizeof(double));
	h = xmalloc(n * sizeof(double));
	lr = lambdarank_new(LR_LAMBDARANK, li, bounds, nq, gain, 31, 30, 1.0,
	    1);
	lambdarank_grad(lr, s, g, h);
	for (i = 0; i < n; i++)
		printf("%.17g %.17g\n", g[i], h[i]);
	lambdarank_free(lr);
	free(lab);
	free(qs);
	free(bounds);
	free(li);
	free(s);
	free(g);
	free(h);
	return fclose(stdout) != 0;
}
