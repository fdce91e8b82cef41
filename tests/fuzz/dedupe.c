/*
 * fuzz/dedupe.c - libFuzzer target for asin-dedupe's provider mappings:
 * each input line goes where asin-dedupe's main loop sends it, an
 * envelope to envelope_take() (the Keepa product to day rows, the SP-API
 * catalog item to a fact row, the status and reason tallies) and a flat
 * row to row_take(), against the installed fact schema; then the rows are
 * merged and written (to /dev/null).  Nothing may crash, and nothing may
 * be lost: records in = out + rejected + merged + dropped, as --stats
 * promises.
 *
 * FUZZ-LINK: bin/asin-dedupe/build.c bin/asin-dedupe/rows.c
 * FUZZ-LINK: bin/asin-dedupe/report.c
 */
#include <fcntl.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../../bin/asin-dedupe/dedupe.h"
#include "recint.h"

int LLVMFuzzerTestOneInput(const uint8_t *, size_t);
int LLVMFuzzerInitialize(int *, char ***);

static struct cli_common co;
static struct opts o;
static struct schema *fact;
static jv fact_doc;

/* The fact schema, as asin-dedupe finds it. */
int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	char exe[PATH_MAX], *slash, *path, *err = NULL;
	ssize_t n;
	int k;

	diag_init("fuzz-dedupe");
	/* $ASIN_SCHEMAS, else build-fuzz/../schemas */
	if ((slash = getenv("ASIN_SCHEMAS")) != NULL && *slash != '\0')
		snprintf(exe, sizeof(exe), "%s", slash);
	else {
		if ((n = readlink("/proc/self/exe", exe, sizeof(exe) - 1)) < 0)
			die("/proc/self/exe:");
		exe[n] = '\0';
		if ((slash = strrchr(exe, '/')) != NULL)
			*slash = '\0';
		strncat(exe, "/../schemas", sizeof(exe) - strlen(exe) - 1);
	}
	path = xasprintf("%s/fact.schema.json", exe);
	if ((fact = schema_load(path, &err)) == NULL)
		die("%s: %s", path, err);
	fact_doc = json_config_file(path);
	free(path);
	cli_init(&co, "");
	co.rejects_path = "/dev/null";
	co.max_rejects = -1;
	co.quiet = 1;
	memset(&o, 0, sizeof(o));
	o.days = 3;
	/* --since's path too: the rare row dated before 2000 is left out */
	parse_day("2000-01-01", 10, &o.since);
	o.max_price_jump = 3;
	o.stale_hours = 48;
	o.min_coverage = -1;
	for (k = 0; k < AN_COUNT; k++)
		o.anomaly_gate[k] = -1;
	return 0;
}

static int
is_envelope(struct run *r, const struct nd_line *ln)
{
	const struct scan *sc = rec_scan(r->rec);

	if (sc == NULL) {
		if (!scan_text(&r->scan, ln->buf, ln->len))
			return 0;
		sc = &r->scan;
	}
	return scan_find(sc, ln->buf, "status", 6) >= 0 &&
	    scan_find(sc, ln->buf, "provider", 8) >= 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *p = (const char *)data, *end = p + size, *nl;
	struct nd_line ln;
	struct run r;
	const char *err;
	size_t i;
	long long sum;
	int fd;

	if (size > 1 << 18)
		return 0;
	memset(&r, 0, sizeof(r));
	r.opt = &o;
	r.co = &co;
	r.since = o.since;
	for (i = 0; nf_default[i] != NULL; i++)
		r.nf[r.nnf++] = nf_default[i];
	r.sc = fact;
	rows_init(&r, jv_copy(fact_doc));
	run_work_init(&r);
	acct_init(&r.ac, &co);
	/* out_close() closes its descriptor */
	if ((fd = open("/dev/null", O_WRONLY)) < 0)
		die("/dev/null:");
	r.o = out_new(fd, "/dev/null");
	r.ac.sink = r.o;
	memset(&ln, 0, sizeof(ln));
	ln.source = "<fuzz>";
	for (; p < end; p = nl + 1) {
		if ((nl = memchr(p, '\n', (size_t)(end - p))) == NULL)
			nl = end;
		ln.buf = p;
		ln.len = (size_t)(nl - p);
		ln.lineno++;
		if (ln.len == 0)
			continue;
		r.records++;
		r.ac.in++;
		if (!rec_parse(r.rec, &ln, &err)) {
			reject_line(&r, ln.source, ln.lineno, ln.buf, ln.len,
			    "", err);
			continue;
		}
		if (is_envelope(&r, &ln))
			envelope_take(&r, &ln);
		else
			row_take(&r, r.rec, ln.buf, ln.len, NULL, 0, "");
	}
	rows_flush_all(&r);
	out_close(r.o);
	sum = r.ac.out + r.ac.rejected + r.ac.merged + r.ac.dropped;
	if (r.ac.in != sum) {
		fprintf(stderr, "in %lld != out %lld + rejected %lld + merged "
		    "%lld + dropped %lld\n", r.ac.in, r.ac.out, r.ac.rejected,
		    r.ac.merged, r.ac.dropped);
		abort();
	}
	if (r.ac.rejects != NULL)
		fclose(r.ac.rejects);
	rows_free(&r);
	run_work_free(&r);
	return 0;
}
