/*
 * uplift-gen - deterministic per-ASIN experiment rows for asin-uplift's
 * tests and benchmark: one NDJSON row per ASIN with its variant, a
 * category and the five metrics.  Variant k gets a CTR lift of
 * k * --lift; --skew sends that share of control rows to the first
 * treatment instead, to provoke a sample-ratio mismatch.
 * --assigned FILE simulates results for the rows asin-split wrote
 * instead: one row per ASIN in the experiment, with its variant, category
 * and marketplace, every variant but control getting the lift, so the
 * names agree from the split to the readout.
 *
 * usage: uplift-gen [-n ROWS] [-k VARIANTS] [--seed N] [--lift L]
 *                   [--skew S] [--categories C] [--assigned FILE]
 */
#include <getopt.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "asin.h"

static const char usage_text[] =
    "usage: uplift-gen [-n ROWS] [-k VARIANTS] [--seed N] [--lift L] "
    "[--skew S]\n"
    "                  [--categories C] [--assigned FILE]\n";

/* splitmix64: small, seedable, the same on every platform. */
static uint64_t
next(uint64_t *s)
{
	uint64_t z = (*s += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

static double
unif(uint64_t *s)
{
	return (double)(next(s) >> 11) * 0x1.0p-53;
}

/* One simulated row of metrics, for variant rank v (0: control). */
static void
metrics(uint64_t *s, double lift, int v, double *imp, double *clk,
    double *conv, double *gmv, double *spend)
{
	double ctr;

	/* heavy-tailed traffic per ASIN, as real catalogues have */
	*imp = floor(20 * exp(2.0 * unif(s) + 1.5 * unif(s)));
	ctr = 0.01 + 0.04 * unif(s);
	ctr *= 1 + lift * v;
	*clk = floor(*imp * ctr + unif(s));
	*conv = floor(*clk * 0.12 * unif(s) * 2 + unif(s) * 0.5);
	if (*conv > *clk)
		*conv = *clk;
	*gmv = round(*conv * (8 + 40 * unif(s)) * 100) / 100;
	*spend = round(*clk * (0.2 + 0.6 * unif(s)) * 100) / 100;
}

/* Results for asin-split's rows in path: variant and category kept. */
static void
from_assigned(const char *path, uint64_t *s, double lift)
{
	char *paths[1] = { (char *)path };
	struct nd_reader *rd = nd_open(paths, 1, ND_MAX_LINE_DEFAULT);
	struct rec_field *fa = rec_field("asin"), *fv = rec_field("variant"),
	    *fc = rec_field("category"), *fm = rec_field("marketplace"),
	    *fi = rec_field("in_experiment");
	struct record *rec = rec_new();
	struct nd_line ln;
	const char *err, *a, *v, *c, *m;
	size_t al, vl, cl, ml;
	double imp, clk, conv, gmv, spend;
	struct buf b;
	int in;

	buf_init(&b);
	while (nd_next(rd, &ln)) {
		if (ln.error != NULL || !rec_parse(rec, &ln, &err))
			die_at(ln.source, ln.lineno, "%s",
			    ln.error ? ln.error : err);
		if (rec_bool(rec, fi, &in) == REC_OK && !in)
			continue;
		if (rec_str(rec, fa, &a, &al) != REC_OK ||
		    rec_str(rec, fv, &v, &vl) != REC_OK)
			die_at(ln.source, ln.lineno, "no asin or variant");
		if (rec_str(rec, fc, &c, &cl) != REC_OK)
			c = NULL;
		if (rec_str(rec, fm, &m, &ml) != REC_OK)
			m = NULL;
		metrics(s, lift, !(vl == 7 && memcmp(v, "control", 7) == 0),
		    &imp, &clk, &conv, &gmv, &spend);
		b.len = 0;
		buf_adds(&b, "{\"asin\":");
		buf_add_jstr(&b, a, al);
		buf_adds(&b, ",\"marketplace\":");
		if (m != NULL)
			buf_add_jstr(&b, m, ml);
		else
			buf_adds(&b, "null");
		buf_adds(&b, ",\"variant\":");
		buf_add_jstr(&b, v, vl);
		buf_adds(&b, ",\"category\":");
		if (c != NULL)
			buf_add_jstr(&b, c, cl);
		else
			buf_adds(&b, "null");
		buf_printf(&b, ",\"impressions\":%.0f,\"clicks\":%.0f,"
		    "\"conversions\":%.0f,\"gmv\":%.2f,\"spend\":%.2f}\n",
		    imp, clk, conv, gmv, spend);
		fwrite(b.data, 1, b.len, stdout);
	}
	buf_free(&b);
	rec_free(rec);
	rec_field_free(fa);
	rec_field_free(fv);
	rec_field_free(fc);
	rec_field_free(fm);
	rec_field_free(fi);
	nd_close(rd);
}

int
main(int argc, char *argv[])
{
	static const struct option longopts[] = {
		{ "rows", required_argument, NULL, 'n' },
		{ "variants", required_argument, NULL, 'k' },
		{ "seed", required_argument, NULL, 's' },
		{ "lift", required_argument, NULL, 'l' },
		{ "skew", required_argument, NULL, 'w' },
		{ "categories", required_argument, NULL, 'c' },
		{ "assigned", required_argument, NULL, 'a' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	long long rows = 1000, i;
	int k = 2, ncat = 5, ch, v;
	uint64_t s = 1;
	double lift = 0.05, skew = 0, imp, clk, conv, gmv, spend;
	const char *assigned = NULL;
	char name[16];

	diag_init(argv[0]);
	while ((ch = getopt_long(argc, argv, "hk:n:", longopts, NULL)) != -1) {
		switch (ch) {
		case 'n':
			rows = cli_int("--rows", optarg, 0, 1000000000LL);
			break;
		case 'k':
			k = (int)cli_int("--variants", optarg, 1, 26);
			break;
		case 's':
			s = (uint64_t)cli_int("--seed", optarg, 0,
			    INT64_MAX);
			break;
		case 'l':
			lift = cli_double("--lift", optarg, -0.9, 10);
			break;
		case 'w':
			skew = cli_double("--skew", optarg, 0, 1);
			break;
		case 'c':
			ncat = (int)cli_int("--categories", optarg, 1, 1000);
			break;
		case 'a':
			assigned = optarg;
			break;
		case 'h':
			fputs(usage_text, stdout);
			return 0;
		default:
			usage_error("unexpected option");
		}
	}
	if (assigned != NULL) {
		from_assigned(assigned, &s, lift);
		rows = 0;
	}
	for (i = 0; i < rows; i++) {
		v = (int)(next(&s) % (uint64_t)k);
		if (v == 0 && k > 1 && unif(&s) < skew)
			v = 1;
		if (v == 0)
			snprintf(name, sizeof(name), "control");
		else
			snprintf(name, sizeof(name), "%c", 'A' + v - 1);
		metrics(&s, lift, v, &imp, &clk, &conv, &gmv, &spend);
		printf("{\"asin\":\"B%09lld\",\"variant\":\"%s\","
		    "\"category\":\"c%d\",\"impressions\":%.0f,\"clicks\":%.0f,"
		    "\"conversions\":%.0f,\"gmv\":%.2f,\"spend\":%.2f}\n",
		    i, name, (int)(next(&s) % (uint64_t)ncat), imp, clk, conv,
		    gmv, spend);
	}
	if (fflush(stdout) != 0 || ferror(stdout))
		die("<stdout>: write error:");
	return 0;
}
