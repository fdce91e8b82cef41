/*
 * asin-validate - pass through the NDJSON records that a JSON Schema
 * accepts, byte for byte; a record it rejects is a located error (exit 1)
 * or, with --rejects, a reject record naming the field and the rule.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "asin.h"
#include "schema.h"

static const char usage_text[] =
    "usage: asin-validate -s SCHEMA [-a] [-hqVv] [--rejects FILE]\n"
    "           [--max-rejects N] [--stats FILE] [--max-line SIZE] "
    "[FILE ...]\n"
    "Pass the records that the JSON Schema accepts through unchanged; a\n"
    "record it rejects stops the run (or goes to --rejects) with the\n"
    "field path and the rule it breaks.\n"
    "\n"
    "  -s, --schema FILE     the JSON Schema every record must match\n"
    "  -a, --all-errors      name every violation of a record, not only "
    "the first\n"
    "\n";

static const struct option longopts[] = {
	CLI_COMMON_LONGOPTS,
	{ "schema", required_argument, NULL, 's' },
	{ "all-errors", no_argument, NULL, 'a' },
	{ NULL, 0, NULL, 0 }
};

/* Check every record of rd; returns the exit status. */
static int
validate(struct nd_reader *rd, const struct schema *sc, int all,
    struct cli_common *co)
{
	struct record *rec = rec_new();
	struct out *o = out_new(1, "<stdout>");
	struct nd_line ln;
	struct buf msg;
	struct acct ac;
	const char *err;
	int rc;

	buf_init(&msg);
	acct_init(&ac, co);
	ac.sink = o;
	while (nd_next(rd, &ln)) {
		ac.in++;
		if (ln.error != NULL || !rec_parse(rec, &ln, &err)) {
			acct_reject(&ac, ln.source, ln.lineno, ln.buf, ln.len,
			    ln.error != NULL ? ln.error : err);
			continue;
		}
		msg.len = 0;
		if (schema_check_record(sc, rec, all, &msg) > 0) {
			acct_reject(&ac, ln.source, ln.lineno, ln.buf, ln.len,
			    msg.data);
			continue;
		}
		out_line(o, ln.buf, ln.len);
		ac.out++;
	}
	out_close(o);
	rc = acct_finish(&ac, NULL);
	buf_free(&msg);
	rec_free(rec);
	return rc;
}

int
main(int argc, char *argv[])
{
	struct cli_common co;
	struct nd_reader *rd;
	struct schema *sc;
	const char *schema_path = NULL;
	char *err = NULL;
	int ch, all = 0, rc;

	diag_init(argv[0]);
	cli_init(&co, usage_text);
	while ((ch = cli_getopt(argc, argv, "ahqs:Vv",
	    longopts)) != -1) {
		if (cli_common_opt(&co, ch, optarg))
			continue;
		switch (ch) {
		case 'a':
			all = 1;
			break;
		case 's':
			schema_path = optarg;
			break;
		default:
			usage_error("unexpected option");
		}
	}
	if (schema_path == NULL)
		usage_error("option --schema is required");
	if ((sc = schema_load(schema_path, &err)) == NULL)
		die("%s: %s", schema_path, err);

	rd = nd_open(argv + optind, argc - optind, co.max_line);
	rc = validate(rd, sc, all, &co);
	nd_close(rd);
	schema_free(sc);
	return rc;
}
