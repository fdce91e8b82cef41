/*
 * scanbench - time the record scanner alone, without the record layer:
 * read NDJSON in 1 MiB blocks, cut lines, and per line
 *
 *   scan   validate and index the line (scan_text)
 *   get    + find asin, price and bsr, unescape and convert them
 *
 * A checksum of what was read is printed with -v so nothing can be
 * optimised away.  A line the scanner rejects stops the run (exit 1)
 * with its located message: the benchmark input is clean.
 *
 *   scanbench [-v] [--mode scan|get] [file]
 */
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "asin.h"
#include "scan.h"

#define BLOCK (1u << 20)

struct run {
	struct scan sc;
	int get;
	long long lines;
	double sum;
	char tmp[256];
};

static void
line(struct run *r, const char *p, size_t n)
{
	char msg[128];
	long i;

	if (n > 0 && p[n - 1] == '\r')
		n--;
	if (n == 0)
		return;
	r->lines++;
	if (!scan_text(&r->sc, p, n)) {
		scan_errmsg(&r->sc, msg, sizeof(msg));
		die("line %lld: %s", r->lines, msg);
	}
	if (!r->get)
		return;
	if ((i = scan_find(&r->sc, p, "asin", 4)) >= 0 &&
	    r->sc.m[i].val_len - 2 <= sizeof(r->tmp))
		r->sum += (double)scan_unescape(r->tmp, p + r->sc.m[i].val + 1,
		    r->sc.m[i].val_len - 2);
	if ((i = scan_find(&r->sc, p, "price", 5)) >= 0)
		r->sum += scan_number(p + r->sc.m[i].val, r->sc.m[i].val_len);
	if ((i = scan_find(&r->sc, p, "bsr", 3)) >= 0)
		r->sum += scan_number(p + r->sc.m[i].val, r->sc.m[i].val_len);
}

int
main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "mode", required_argument, NULL, 'm' },
		{ "verbose", no_argument, NULL, 'v' },
		{ NULL, 0, NULL, 0 }
	};
	struct run r;
	char *buf, *p, *nl;
	size_t have = 0, cap = BLOCK;
	ssize_t got;
	int ch, fd = 0, verbose = 0;

	diag_init(argv[0]);
	memset(&r, 0, sizeof(r));
	scan_init(&r.sc);
	while ((ch = getopt_long(argc, argv, "m:v", longopts, NULL)) != -1) {
		if (ch == 'm' && strcmp(optarg, "scan") == 0)
			r.get = 0;
		else if (ch == 'm' && strcmp(optarg, "get") == 0)
			r.get = 1;
		else if (ch == 'v')
			verbose = 1;
		else
			usage_error("usage: scanbench [-v] [--mode scan|get] "
			    "[file]");
	}
	if (optind < argc && (fd = open(argv[optind], O_RDONLY)) < 0)
		die("%s:", argv[optind]);
	buf = xmalloc(cap);
	for (;;) {
		if (have == cap)
			buf = xrealloc(buf, cap *= 2);
		if ((got = read(fd, buf + have, cap - have)) < 0)
			die("read:");
		if (got == 0)
			break;
		have += (size_t)got;
		for (p = buf; (nl = memchr(p, '\n', have - (p - buf))) != NULL;
		    p = nl + 1)
			line(&r, p, nl - p);
		have -= p - buf;
		memmove(buf, p, have);
	}
	line(&r, buf, have);
	if (verbose)
		fprintf(stderr, "scanbench: %lld lines, checksum %.17g\n",
		    r.lines, r.sum);
	free(buf);
	scan_free(&r.sc);
	return 0;
}
