/*
 * asin-dedupe - the ETL stage: asin-fetch envelopes and flat fact rows
 * in, one fact row per (asin, marketplace, date) out, merged field by
 * field (the newest fetched_at wins per non-null field), checked against
 * the fact schema, with anomalies flagged on the row, a quality report
 * and gates that fail the run after every row is written.
 */
#include <getopt.h>
#include <limits.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "dedupe.h"
#include "recint.h"
#include "shard.h"

static const char usage_text[] =
    "usage: asin-dedupe [--days N] [--since DATE] [--shard I/N] [--sorted]\n"
    "                   [--map [PROVIDER=]FILE.jq]\n"
    "                   [--max-price-jump F] [--stale-hours H]\n"
    "                   [--drop-anomalies KIND,...] [--report FILE]\n"
    "                   [--expect FILE] [--previous-report FILE]\n"
    "                   [--min-coverage R] [--max-null-rate FIELD=R]\n"
    "                   [--max-anomaly-rate KIND=R] [--schema FILE] "
    "[--partial]\n"
    "                   [file ...]\n"
    "       asin-dedupe --merge-reports [--report FILE] [gates] "
    "FRAGMENT ...\n"
    "Turn asin-fetch envelopes and fact rows into one fact row per asin,\n"
    "marketplace and date: merged, checked against the fact schema, with\n"
    "anomalies flagged, a quality report and gates.\n"
    "\n"
    "  --days N              rows for the N days up to each envelope's date\n"
    "                        from Keepa histories (default 1)\n"
    "  --since DATE          leave out rows dated before DATE (YYYY-MM-DD)\n"
    "                        before they are checked or merged\n"
    "  --shard I/N           read only the records of shard I of N by asin\n"
    "                        (those of asin-shard -k asin --only I/N)\n"
    "  --sorted              input is ordered by asin, marketplace, date:\n"
    "                        hold one key at a time\n"
    "  --map [PROVIDER=]FILE a jq program turning an envelope into fact\n"
    "                        rows, for PROVIDER or any without a built-in\n"
    "                        mapping (repeatable)\n"
    "  --max-price-jump F    flag a price that changes by more than the\n"
    "                        factor F from the previous row (default 3)\n"
    "  --stale-hours H       flag source_last_update older than H hours at\n"
    "                        fetch time (default 48)\n"
    "  --drop-anomalies LIST send rows with these anomaly kinds to\n"
    "                        --rejects instead of the output\n"
    "  --report FILE         write the quality report (JSON) to FILE\n"
    "  --partial             write a report fragment instead, for\n"
    "                        --merge-reports; no gate is judged\n"
    "  --merge-reports       read report fragments (the operands) and\n"
    "                        write the report of one run over all their\n"
    "                        input, then judge the gates\n"
    "  --expect FILE         the ASINs that were asked for, one a line\n"
    "  --previous-report FILE  the last run's report, for the row change\n"
    "  --min-coverage R      exit 1 when fewer than R of --expect have a "
    "row\n"
    "  --max-null-rate FIELD=R  exit 1 when FIELD is null in more than R\n"
    "                        of the rows (repeatable)\n"
    "  --max-anomaly-rate KIND=R  exit 1 when more than R of the rows have\n"
    "                        the anomaly KIND (repeatable)\n"
    "  --schema FILE         the fact schema (default: the installed\n"
    "                        fact.schema.json)\n"
    "\n";

enum {
	OPT_DAYS = OPT_COMMON_END,
	OPT_SINCE,
	OPT_SHARD,
	OPT_SORTED,
	OPT_MAP,
	OPT_MAX_PRICE_JUMP,
	OPT_STALE_HOURS,
	OPT_DROP,
	OPT_REPORT,
	OPT_PARTIAL,
	OPT_MERGE,
	OPT_EXPECT,
	OPT_PREVIOUS,
	OPT_MIN_COVERAGE,
	OPT_MAX_NULL,
	OPT_MAX_ANOMALY,
	OPT_SCHEMA
};

static const struct option longopts[] = {
	CLI_COMMON_LONGOPTS,
	{ "days", required_argument, NULL, OPT_DAYS },
	{ "since", required_argument, NULL, OPT_SINCE },
	{ "shard", required_argument, NULL, OPT_SHARD },
	{ "sorted", no_argument, NULL, OPT_SORTED },
	{ "map", required_argument, NULL, OPT_MAP },
	{ "max-price-jump", required_argument, NULL, OPT_MAX_PRICE_JUMP },
	{ "stale-hours", required_argument, NULL, OPT_STALE_HOURS },
	{ "drop-anomalies", required_argument, NULL, OPT_DROP },
	{ "report", required_argument, NULL, OPT_REPORT },
	{ "partial", no_argument, NULL, OPT_PARTIAL },
	{ "merge-reports", no_argument, NULL, OPT_MERGE },
	{ "expect", required_argument, NULL, OPT_EXPECT },
	{ "previous-report", required_argument, NULL, OPT_PREVIOUS },
	{ "min-coverage", required_argument, NULL, OPT_MIN_COVERAGE },
	{ "max-null-rate", required_argument, NULL, OPT_MAX_NULL },
	{ "max-anomaly-rate", required_argument, NULL, OPT_MAX_ANOMALY },
	{ "schema", required_argument, NULL, OPT_SCHEMA },
	{ NULL, 0, NULL, 0 }
};

/* KIND list of --drop-anomalies as a bit set. */
static unsigned
parse_kinds(const char *flag, const char *list)
{
	char **v = cli_split(flag, list, NULL);
	unsigned f = 0;
	size_t i;
	int k;

	for (i = 0; v[i] != NULL; i++) {
		if ((k = an_lookup(v[i], strlen(v[i]))) < 0)
			usage_error("option %s: unknown anomaly kind '%s'", flag,
			    v[i]);
		f |= 1u << k;
	}
	strv_free(v);
	return f;
}

/* NAME=R: the name into *name (fresh), the rate returned. */
static double
parse_pair(const char *flag, const char *arg, char **name)
{
	const char *eq = strrchr(arg, '=');

	if (eq == NULL || eq == arg)
		usage_error("option %s: expected NAME=RATE, got '%s'", flag,
		    arg);
	*name = xstrndup(arg, (size_t)(eq - arg));
	return cli_double(flag, eq + 1, 0, 1);
}

/* The fact schema beside the executable or in $ASIN_SCHEMAS. */
static char *
find_schema(void)
{
	const char *env = getenv("ASIN_SCHEMAS");
	const char *rel[] = { "../../schemas", "../share/asin-tools/schemas" };
	char exe[PATH_MAX], *slash, *p;
	ssize_t n;
	size_t i;

	if (env != NULL && *env != '\0')
		return xasprintf("%s/fact.schema.json", env);
	n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	if (n > 0) {
		exe[n] = '\0';
		if ((slash = strrchr(exe, '/')) != NULL)
			*slash = '\0';
		for (i = 0; i < 2; i++) {
			p = xasprintf("%s/%s/fact.schema.json", exe, rel[i]);
			if (access(p, R_OK) == 0)
				return p;
			free(p);
		}
	}
	die("cannot find fact.schema.json: give --schema FILE or set "
	    "ASIN_SCHEMAS");
}

/* The schema file as a jv, for rows_init(); schema_load() checked it. */
static jv
load_doc(const char *path)
{
	FILE *fp = fopen(path, "r");
	struct buf text;
	char tmp[8192], *err = NULL;
	size_t n;
	jv doc;

	if (fp == NULL)
		die("%s:", path);
	buf_init(&text);
	while ((n = fread(tmp, 1, sizeof(tmp), fp)) > 0)
		buf_add(&text, tmp, n);
	if (ferror(fp))
		die("%s: read error:", path);
	fclose(fp);
	doc = json_parse(text.data ? text.data : "", text.len, &err);
	buf_free(&text);
	if (!jv_is_valid(doc))
		die("%s: %s", path, err);
	return doc;
}

/* Whether the current record is an asin-fetch envelope. */
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

static int
run_input(struct run *r, char **files, int nfiles)
{
	struct nd_reader *rd = nd_open(files, nfiles, r->co->max_line);
	struct shard_pick pick;
	struct nd_line ln;
	const char *err;
	int rc, parsed = 0;

	if (r->opt->shard_n > 0)
		shard_pick_init(&pick, "asin", r->opt->shard_i,
		    r->opt->shard_n);
	/* --sorted must not map the input: its memory is one key's rows */
	r->stable = !r->opt->sorted && nd_stable(rd);
	while (nd_next(rd, &ln)) {
		/*
		 * Another shard's line is not this run's input: counted
		 * nowhere, so the shards' counts add up to one run's.
		 */
		if (r->opt->shard_n > 0 &&
		    !shard_pick_line(&pick, r->rec, &ln, &parsed))
			continue;
		r->records++;
		r->ac.in++;
		if (ln.error != NULL ||
		    (!parsed && !rec_parse(r->rec, &ln, &err))) {
			reject_line(r, ln.source, ln.lineno, ln.buf, ln.len,
			    "", ln.error != NULL ? ln.error : err);
			continue;
		}
		if (is_envelope(r, &ln))
			envelope_take(r, &ln);
		else
			row_take(r, r->rec, ln.buf, ln.len, NULL, 0, "");
	}
	if (r->opt->shard_n > 0)
		shard_pick_free(&pick);
	rows_flush_all(r);
	out_close(r->o);
	r->o = NULL;
	r->ac.sink = NULL;
	rc = report_finish(r);
	if (acct_finish(&r->ac, NULL) != EXIT_OK)
		rc = EXIT_FAIL;
	nd_close(rd);
	return rc;
}

/*
 * --merge-reports: the report of the fragments' runs as one.  Reads no
 * records, so its own --stats counts none.
 */
static int
run_merge(struct run *r, char **files, int nfiles)
{
	const struct opts *o = r->opt;
	struct acct none;
	int rc;

	memset(&none, 0, sizeof(none));
	acct_init(&none, r->co);
	report_merge(r, files, nfiles);
	if (o->min_coverage >= 0 && !r->have_expect)
		die("option --min-coverage: the fragments were written "
		    "without --expect");
	rc = report_finish(r);
	if (acct_finish(&none, NULL) != EXIT_OK)
		rc = EXIT_FAIL;
	tally_free(&r->status);
	tally_free(&r->reasons);
	tally_free(&r->rejects);
	report_free(r);
	for (nfiles = 0; (size_t)nfiles < o->nnull_gate; nfiles++)
		free(o->null_gate_field[nfiles]);
	free(o->null_gate_field);
	free(o->null_gate);
	return rc;
}

int
main(int argc, char *argv[])
{
	struct cli_common co;
	struct opts o;
	struct run r;
	char *schema_path = NULL, *err = NULL, *name;
	int ch, k, rc;
	size_t i;

	diag_init(argv[0]);
	cli_init(&co, usage_text);
	memset(&o, 0, sizeof(o));
	o.days = 1;
	o.since = LONG_MIN;
	o.max_price_jump = 3;
	o.stale_hours = 48;
	o.min_coverage = -1;
	for (k = 0; k < AN_COUNT; k++)
		o.anomaly_gate[k] = -1;
	while ((ch = cli_getopt(argc, argv, "hqVv", longopts)) != -1) {
		if (cli_common_opt(&co, ch, optarg))
			continue;
		switch (ch) {
		case OPT_DAYS:
			o.days = (long)cli_int("--days", optarg, 1, 3660);
			break;
		case OPT_SINCE:
			if (!parse_day(optarg, strlen(optarg), &o.since))
				usage_error("option --since: expected a date "
				    "YYYY-MM-DD, got '%s'", optarg);
			break;
		case OPT_SHARD:
			shard_spec_parse("--shard", optarg, &o.shard_i,
			    &o.shard_n);
			break;
		case OPT_SORTED:
			o.sorted = 1;
			break;
		case OPT_MAP:
			o.maps = xreallocarray(o.maps, o.nmaps + 1,
			    sizeof(*o.maps));
			o.maps[o.nmaps++] = map_load(optarg);
			break;
		case OPT_MAX_PRICE_JUMP:
			o.max_price_jump = cli_double("--max-price-jump", optarg,
			    1, 1e12);
			break;
		case OPT_STALE_HOURS:
			o.stale_hours = cli_double("--stale-hours", optarg, 0,
			    1e9);
			break;
		case OPT_DROP:
			o.drop |= parse_kinds("--drop-anomalies", optarg);
			break;
		case OPT_REPORT:
			o.report = optarg;
			break;
		case OPT_PARTIAL:
			o.partial = 1;
			break;
		case OPT_MERGE:
			o.merge = 1;
			break;
		case OPT_EXPECT:
			o.expect = optarg;
			break;
		case OPT_PREVIOUS:
			o.previous = optarg;
			break;
		case OPT_MIN_COVERAGE:
			o.min_coverage = cli_double("--min-coverage", optarg, 0,
			    1);
			break;
		case OPT_MAX_NULL:
			o.null_gate_field = xreallocarray(o.null_gate_field,
			    o.nnull_gate + 1, sizeof(char *));
			o.null_gate = xreallocarray(o.null_gate,
			    o.nnull_gate + 1, sizeof(double));
			o.null_gate[o.nnull_gate] = parse_pair(
			    "--max-null-rate", optarg, &name);
			o.null_gate_field[o.nnull_gate++] = name;
			break;
		case OPT_MAX_ANOMALY:
			{
				double rate = parse_pair("--max-anomaly-rate",
				    optarg, &name);

				if ((k = an_lookup(name, strlen(name))) < 0)
					usage_error("option --max-anomaly-rate: "
					    "unknown anomaly kind '%s'", name);
				o.anomaly_gate[k] = rate;
				free(name);
			}
			break;
		case OPT_SCHEMA:
			schema_path = xstrdup(optarg);
			break;
		default:
			usage_error("unexpected option");
		}
	}
	if (o.merge && o.expect != NULL)
		usage_error("option --expect: with --merge-reports the "
		    "fragments carry the watch list");
	if (o.merge && o.shard_n > 0)
		usage_error("option --shard: with --merge-reports the "
		    "fragments are the shards");
	if (o.merge && o.since != LONG_MIN)
		usage_error("option --since: with --merge-reports the "
		    "fragments were cut already");
	if (o.merge && optind == argc)
		usage_error("option --merge-reports needs report fragments");
	if (o.partial && o.report == NULL)
		usage_error("option --partial needs --report FILE");
	if (o.min_coverage >= 0 && o.expect == NULL && !o.merge)
		usage_error("option --min-coverage needs --expect FILE");
	if (o.drop != 0 && co.rejects_path == NULL)
		usage_error("option --drop-anomalies needs --rejects FILE: "
		    "dropped rows go there");

	memset(&r, 0, sizeof(r));
	r.opt = &o;
	r.co = &co;
	r.since = o.since;
	for (i = 0; nf_default[i] != NULL; i++)
		r.nf[r.nnf++] = nf_default[i];
	for (i = 0; i < o.nnull_gate; i++) {
		size_t j;

		for (j = 0; j < r.nnf; j++)
			if (strcmp(r.nf[j], o.null_gate_field[i]) == 0)
				break;
		if (j == r.nnf) {
			if (r.nnf == NF_MAX)
				usage_error("option --max-null-rate: at most %d "
				    "fields", NF_MAX);
			r.nf[r.nnf++] = o.null_gate_field[i];
		}
	}
	if (o.merge)
		return run_merge(&r, argv + optind, argc - optind);
	if (schema_path == NULL)
		schema_path = find_schema();
	if ((r.sc = schema_load(schema_path, &err)) == NULL)
		die("%s: %s", schema_path, err);
	acct_init(&r.ac, &co);
	/* before --expect: a bad line of it is folded in r.msg */
	run_work_init(&r);
	if (o.expect != NULL)
		expect_load(&r, o.expect);
	rows_init(&r, load_doc(schema_path));
	r.o = out_new(1, "<stdout>");
	r.ac.sink = r.o;

	rc = run_input(&r, argv + optind, argc - optind);

	rows_free(&r);
	run_work_free(&r);
	report_free(&r);
	schema_free(r.sc);
	free(schema_path);
	for (i = 0; i < o.nmaps; i++)
		map_free(o.maps[i]);
	free(o.maps);
	for (i = 0; i < o.nnull_gate; i++)
		free(o.null_gate_field[i]);
	free(o.null_gate_field);
	free(o.null_gate);
	return rc;
}
