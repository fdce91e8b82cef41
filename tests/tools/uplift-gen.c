/*
 * uplift-gen - deterministic per-ASIN experiment rows for asin-uplift's
 * tests and benchmark: one NDJSON row per ASIN with its variant, a
 * category and the five metrics.  Variant k gets a CTR lift of
 * k * --lift; --skew sends that share of control rows to the first
 * treatment instead, to provoke a sample-ratio mismatch.
 *
 * usage: uplift-gen [-n ROWS] [-k VARIANTS] [--seed N] [--lift L]
 *                   [--skew S] [--categories C]
 */
#include <getopt.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "asin.h"

static const char usage_text[] =
    "usage: uplift-gen [-n ROWS] [-k VARIANTS] [--seed N] [--lift L] "
    "[--skew S]\n"
    "                  [--categories C]\n";

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
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	long long rows = 1000, i;
	int k = 2, ncat = 5, ch, v;
	uint64_t s = 1;
	double lift = 0.05, skew = 0, imp, ctr, clk, conv, gmv, spend;
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
		case 'h':
			fputs(usage_text, stdout);
			return 0;
		default:
			usage_error("unexpected option");
		}
	}
	for (i = 0; i < rows; i++) {
		v = (int)(next(&s) % (uint64_t)k);
		if (v == 0 && k > 1 && unif(&s) < skew)
			v = 1;
		if (v == 0)
			snprintf(name, sizeof(name), "control");
		else
			snprintf(name, sizeof(name), "%c", 'A' + v - 1);
		/* heavy-tailed traffic per ASIN, as real catalogues have */
		imp = floor(20 * exp(2.0 * unif(&s) + 1.5 * unif(&s)));
		ctr = 0.01 + 0.04 * unif(&s);
		ctr *= 1 + lift * v;
		clk = floor(imp * ctr + unif(&s));
		conv = floor(clk * 0.12 * unif(&s) * 2 + unif(&s) * 0.5);
		if (conv > clk)
			conv = clk;
		gmv = round(conv * (8 + 40 * unif(&s)) * 100) / 100;
		spend = round(clk * (0.2 + 0.6 * unif(&s)) * 100) / 100;
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
