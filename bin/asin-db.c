/*
 * asin-db - SQLite as the suite's sink and source: init applies the
 * schema's migrations, load upserts NDJSON rows into a table by its key,
 * query writes rows back as NDJSON (types kept) or CSV.  The engines are
 * common/db.c (an SQLite file) and common/dbpg.c (a postgresql:// URI);
 * this file is the command line.
 */
#include <getopt.h>
#include <stdlib.h>
#include <string.h>

#include "asin.h"
#include "db.h"
#include "dbpg.h"

#define DEFAULT_BATCH 50000

static const char usage_text[] =
    "usage: asin-db init DB\n"
    "       asin-db load [--batch N] [--tee] DB TABLE [file ...]\n"
    "       asin-db query [--csv] [--param NAME=VALUE]... DB SQL\n"
    "       asin-db query [--csv] [--param NAME=VALUE]... --sql-file FILE DB\n"
    "Keep the suite's records in an SQLite file or a PostgreSQL database\n"
    "(DB is a postgresql:// URI; \"postgresql://\" alone uses the PG*\n"
    "environment): create or upgrade its schema, upsert NDJSON rows into\n"
    "a table by its key, read rows back.\n"
    "\n"
    "      --batch N         rows per transaction when loading (default 50000)\n"
    "      --tee             pass every loaded row through to stdout\n"
    "      --csv             query: CSV with a header line instead of NDJSON\n"
    "      --param NAME=VALUE  query: bind VALUE (as text) to :NAME\n"
    "      --sql-file FILE   query: read the SQL statement from FILE\n"
    "\n";

enum {
	OPT_BATCH = OPT_COMMON_END,
	OPT_TEE,
	OPT_CSV,
	OPT_PARAM,
	OPT_SQL_FILE
};

static const struct option longopts[] = {
	CLI_COMMON_LONGOPTS,
	{ "batch", required_argument, NULL, OPT_BATCH },
	{ "tee", no_argument, NULL, OPT_TEE },
	{ "csv", no_argument, NULL, OPT_CSV },
	{ "param", required_argument, NULL, OPT_PARAM },
	{ "sql-file", required_argument, NULL, OPT_SQL_FILE },
	{ NULL, 0, NULL, 0 }
};

struct flags {
	const char *batch;
	const char *sql_file;
	char **params;
	size_t nparams;
	int tee;
	int csv;
};

static int
cmd_init(struct cli_common *co, char **argv, int argc)
{
	struct db *d;
	int n;

	if (argc != 1)
		usage_error("init takes one operand, the database file");
	if (dbpg_is_uri(argv[0])) {
		struct dbpg *pd = dbpg_open(argv[0], 0);

		n = dbpg_migrate(pd);
		if (co->verbose && !co->quiet)
			note("%s: schema version %d (%d migration%s applied)",
			    dbpg_name(pd), dbpg_version(pd), n,
			    n == 1 ? "" : "s");
		dbpg_close(pd);
		return EXIT_OK;
	}
	d = db_open(argv[0], DB_CREATE);
	n = db_migrate(d);
	if (co->verbose && !co->quiet)
		note("%s: schema version %d (%d migration%s applied)", argv[0],
		    db_version(d), n, n == 1 ? "" : "s");
	db_close(d);
	return EXIT_OK;
}

/*
 * The open PostgreSQL batch's lines, held until it commits: only then is
 * it known which rows the table refused, so --tee passes only rows that
 * were stored, and rejects keep the order of the input.
 */
struct held {
	struct buf bytes;
	struct held_line {
		const char *src;
		long lineno;
		size_t off, len;
	} *v;
	size_t n, cap;
};

static void
hold(struct held *h, const struct nd_line *ln)
{
	if (h->n == h->cap) {
		h->cap = h->cap ? h->cap * 2 : 1024;
		h->v = xreallocarray(h->v, h->cap, sizeof(*h->v));
	}
	h->v[h->n].src = ln->source;
	h->v[h->n].lineno = ln->lineno;
	h->v[h->n].off = h->bytes.len;
	h->v[h->n].len = ln->len;
	buf_add(&h->bytes, ln->buf, ln->len);
	h->n++;
}

/*
 * Commit the held batch and account for its lines in input order: a row
 * the table refused is a reject (which may end the run there, as on
 * SQLite: the commit stores no row after it then), every other one is
 * out and, under --tee, written.
 */
static void
commit_held(struct dbpg_loader *pl, struct held *h, struct acct *ac,
    struct out *o)
{
	const struct dbpg_refused *bad;
	long stop = -1;
	size_t nbad, i, j = 0;

	if (ac->rejects == NULL)
		stop = 0;
	else if (ac->opt->max_rejects >= 0)
		stop = ac->opt->max_rejects > ac->rejected ?
		    (long)(ac->opt->max_rejects - ac->rejected) : 0;
	nbad = dbpg_loader_commit(pl, stop, &bad);
	for (i = 0; i < h->n; i++) {
		const struct held_line *hl = &h->v[i];
		const char *raw = h->bytes.data + hl->off;

		ac->in++;
		if (j < nbad && bad[j].row == (long)i) {
			acct_reject(ac, hl->src, hl->lineno, raw, hl->len,
			    bad[j++].err);
			continue;
		}
		ac->out++;
		if (o != NULL)
			out_line(o, raw, hl->len);
	}
	h->n = 0;
	h->bytes.len = 0;
}

static int
cmd_load(struct cli_common *co, const struct flags *fl, char **argv,
    int argc)
{
	long batch = DEFAULT_BATCH;
	long long written = 0, same = 0, nread = 0;
	struct db_loader *l = NULL;
	struct dbpg_loader *pl = NULL;
	struct dbpg *pd = NULL;
	struct nd_reader *rd;
	struct nd_line ln;
	struct progress *pg;
	struct out *o = NULL;
	struct acct ac;
	struct held h;
	struct db *d = NULL;
	const char *err;
	char extra[160];

	if (argc < 2)
		usage_error("load needs a database file and a table");
	if (fl->batch != NULL)
		batch = (long)cli_int("--batch", fl->batch, 1, 100000000);
	if (dbpg_is_uri(argv[0])) {
		pd = dbpg_open(argv[0], 0);
		dbpg_require_schema(pd, 0);
		pl = dbpg_loader_new(pd, argv[1]);
	} else {
		d = db_open(argv[0], 0);
		db_require_schema(d, 0);
		l = db_loader_new(d, argv[1], batch);
	}
	acct_init(&ac, co);
	if (fl->tee) {
		o = out_new(1, "<stdout>");
		ac.sink = o;
	}
	memset(&h, 0, sizeof(h));
	buf_init(&h.bytes);
	rd = nd_open(argv + 2, argc - 2, co->max_line);
	pg = progress_new("rows", 0);
	while (nd_next(rd, &ln)) {
		enum db_row r;

		err = ln.error;
		r = err != NULL ? DB_ROW_REJECT : pl != NULL ?
		    dbpg_load_row(pl, ln.buf, ln.len, &err) :
		    db_load_row(l, ln.buf, ln.len, &err);
		if (r == DB_ROW_REJECT) {
			/* What passed before a fatal reject is kept, and
			 * the batch's own rejects come first. */
			if (pl != NULL)
				commit_held(pl, &h, &ac, o);
			else
				db_loader_commit(l);
			ac.in++;
			acct_reject(&ac, ln.source, ln.lineno, ln.buf, ln.len,
			    err);
			continue;
		}
		if (pl != NULL) {
			hold(&h, &ln);
			if ((long)h.n >= batch)
				commit_held(pl, &h, &ac, o);
		} else {
			ac.in++;
			if (r == DB_ROW_WRITTEN)
				written++;
			else
				same++;
			ac.out++;
			if (o != NULL)
				out_line(o, ln.buf, ln.len);
		}
		if ((++nread & 8191) == 0)
			progress_update(pg, nread, ac.rejected, NULL);
	}
	progress_end(pg);
	nd_close(rd);
	if (pl != NULL) {
		/* A batch's rows are counted when it is upserted. */
		commit_held(pl, &h, &ac, o);
		buf_free(&h.bytes);
		free(h.v);
		dbpg_loader_counts(pl, &written, &same);
		dbpg_loader_free(pl);
		dbpg_close(pd);
	} else {
		db_loader_free(l);
		db_close(d);
	}
	if (o != NULL)
		out_close(o);
	snprintf(extra, sizeof(extra), "\"written\":%lld,\"unchanged\":%lld",
	    written, same);
	return acct_finish(&ac, extra);
}

static char *
read_sql_file(const char *path)
{
	FILE *fp = strcmp(path, "-") == 0 ? stdin : fopen(path, "r");
	struct buf b;
	char chunk[8192];
	size_t n;

	if (fp == NULL)
		die("%s:", path);
	buf_init(&b);
	while ((n = fread(chunk, 1, sizeof(chunk), fp)) > 0)
		buf_add(&b, chunk, n);
	if (ferror(fp))
		die("%s: read error:", path);
	if (fp != stdin)
		fclose(fp);
	return b.data != NULL ? b.data : xstrdup("");
}

static int
cmd_query(const struct flags *fl, char **argv, int argc)
{
	char *sql = NULL;
	struct out *o;
	struct db *d;

	if (fl->sql_file != NULL ? argc != 1 : argc != 2)
		usage_error("query takes a database file and one SQL "
		    "statement (or --sql-file FILE)");
	if (fl->sql_file != NULL)
		sql = read_sql_file(fl->sql_file);
	if (dbpg_is_uri(argv[0])) {
		struct dbpg *pd = dbpg_open(argv[0], 1);

		dbpg_require_schema(pd, 1);
		o = out_new(1, "<stdout>");
		dbpg_query(pd, sql != NULL ? sql : argv[1], fl->params,
		    fl->nparams, fl->csv ? DB_CSV : DB_NDJSON, o);
		out_close(o);
		dbpg_close(pd);
		free(sql);
		return EXIT_OK;
	}
	d = db_open(argv[0], DB_READONLY);
	db_require_schema(d, 1);
	o = out_new(1, "<stdout>");
	db_query(d, sql != NULL ? sql : argv[1], fl->params, fl->nparams,
	    fl->csv ? DB_CSV : DB_NDJSON, o);
	out_close(o);
	db_close(d);
	free(sql);
	return EXIT_OK;
}

int
main(int argc, char *argv[])
{
	struct cli_common co;
	struct flags fl;
	const char *cmd;
	int ch, rc;

	diag_init(argv[0]);
	cli_init(&co, usage_text);
	memset(&fl, 0, sizeof(fl));
	while ((ch = cli_getopt(argc, argv, "hVqv", longopts)) != -1) {
		if (cli_common_opt(&co, ch, optarg))
			continue;
		switch (ch) {
		case OPT_BATCH:
			fl.batch = optarg;
			break;
		case OPT_TEE:
			fl.tee = 1;
			break;
		case OPT_CSV:
			fl.csv = 1;
			break;
		case OPT_PARAM:
			if (strchr(optarg, '=') == NULL || *optarg == '=')
				usage_error("option --param: expected "
				    "NAME=VALUE, got '%s'", optarg);
			fl.params = xreallocarray(fl.params, fl.nparams + 1,
			    sizeof(*fl.params));
			fl.params[fl.nparams++] = optarg;
			break;
		case OPT_SQL_FILE:
			fl.sql_file = optarg;
			break;
		default:
			usage_error("unknown option");
		}
	}
	if (optind >= argc)
		usage_error("missing command: init, load or query");
	cmd = argv[optind++];
	argc -= optind;
	argv += optind;
	if (strcmp(cmd, "load") != 0 && (fl.batch != NULL || fl.tee))
		usage_error("--batch and --tee are options of load");
	if (strcmp(cmd, "query") != 0 && (fl.csv || fl.nparams > 0 ||
	    fl.sql_file != NULL))
		usage_error("--csv, --param and --sql-file are options of "
		    "query");
	if (strcmp(cmd, "init") == 0)
		rc = cmd_init(&co, argv, argc);
	else if (strcmp(cmd, "load") == 0)
		rc = cmd_load(&co, &fl, argv, argc);
	else if (strcmp(cmd, "query") == 0)
		rc = cmd_query(&fl, argv, argc);
	else
		usage_error("unknown command '%s': init, load or query", cmd);
	free(fl.params);
	return rc;
}
