/*
 * asin-fetch - a list of ASINs in, one NDJSON envelope per ASIN out, with
 * the raw upstream data fetched from Keepa, SP-API or any templated API
 * described by a provider profile: rate-limited, retried, archived and
 * resumable.  This file holds the options, the input and the plan of
 * batches, and the in-order output; the rest is split by concern
 * (profile.c, secrets.c, throttle.c, http.c, extract.c, archive.c,
 * auth.c, jspan.c).
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "fetch.h"

static const char usage_text[] =
    "usage: asin-fetch [-hqVv] [-p provider] [-m marketplace] [-b base-url]\n"
    "                  [-j parallel] [--batch n] [--archive dir | --replay dir]\n"
    "                  [--force] [--date YYYY-MM-DD] [--env-file file]\n"
    "                  [--qpm n] [--burst n] [--workers n] [--acquire-cmd cmd]\n"
    "                  [--retries n] [--retry-base s]\n"
    "                  [--retry-cap s] [--max-wait s] [--timeout s]\n"
    "                  [--connect-timeout s] [--max-time s] [--max-body bytes]\n"
    "                  [--rejects file] [--max-rejects n] [--stats file]\n"
    "                  [--max-line bytes] [file ...]\n"
    "Fetch raw API data for ASINs (one per line, or NDJSON with \"asin\" and\n"
    "\"marketplace\") and write one envelope per distinct ASIN.\n"
    "  -p, --provider NAME|FILE   provider profile (default keepa)\n"
    "  -m, --marketplace CODE     default marketplace (default US)\n"
    "  -b, --base-url URL         send requests to this scheme://host:port\n"
    "  -j, --parallel N           requests in flight (default 4)\n"
    "      --batch N              ASINs per request (default: the profile's)\n"
    "      --archive DIR          keep raw responses and a journal; resume\n"
    "      --replay DIR           emit envelopes from the archive, no network\n"
    "      --force                refetch batches the archive already has\n"
    "      --date YYYY-MM-DD      the archive day and {date} (default today)\n"
    "      --env-file FILE        secrets file (default $ASIN_ENV_FILE, .env)\n"
    "      --qpm N                throttle: tokens per minute (0 = unlimited)\n"
    "      --burst N              throttle: bucket capacity\n"
    "      --workers N            processes sharing the quota: each takes\n"
    "                             1/N of it (default $ASIN_FETCH_WORKERS, 1)\n"
    "      --acquire-cmd CMD      run CMD before each request; exit 0 grants\n"
    "                             it (a central token bucket), else stop\n"
    "      --retries N            retries per batch (default 5)\n"
    "      --retry-base S         backoff base in seconds (default 1)\n"
    "      --retry-cap S          backoff cap in seconds (default 60)\n"
    "      --max-wait S           longest Retry-After obeyed (default 900)\n"
    "      --timeout S            per request (default 60)\n"
    "      --connect-timeout S    per connection (default 10)\n"
    "      --max-time S           wall-clock budget of the run (default none)\n"
    "      --max-body BYTES       largest response accepted (default 256 MiB)\n";

enum {
	OPT_BATCH = OPT_COMMON_END,
	OPT_ARCHIVE,
	OPT_REPLAY,
	OPT_FORCE,
	OPT_DATE,
	OPT_ENV_FILE,
	OPT_QPM,
	OPT_BURST,
	OPT_RETRIES,
	OPT_RETRY_BASE,
	OPT_RETRY_CAP,
	OPT_MAX_WAIT,
	OPT_TIMEOUT,
	OPT_CONNECT_TIMEOUT,
	OPT_MAX_TIME,
	OPT_MAX_BODY,
	OPT_WORKERS,
	OPT_ACQUIRE_CMD
};

static const struct option longopts[] = {
	CLI_COMMON_LONGOPTS,
	{ "provider", required_argument, NULL, 'p' },
	{ "marketplace", required_argument, NULL, 'm' },
	{ "base-url", required_argument, NULL, 'b' },
	{ "parallel", required_argument, NULL, 'j' },
	{ "batch", required_argument, NULL, OPT_BATCH },
	{ "archive", required_argument, NULL, OPT_ARCHIVE },
	{ "replay", required_argument, NULL, OPT_REPLAY },
	{ "force", no_argument, NULL, OPT_FORCE },
	{ "date", required_argument, NULL, OPT_DATE },
	{ "env-file", required_argument, NULL, OPT_ENV_FILE },
	{ "qpm", required_argument, NULL, OPT_QPM },
	{ "burst", required_argument, NULL, OPT_BURST },
	{ "retries", required_argument, NULL, OPT_RETRIES },
	{ "retry-base", required_argument, NULL, OPT_RETRY_BASE },
	{ "retry-cap", required_argument, NULL, OPT_RETRY_CAP },
	{ "max-wait", required_argument, NULL, OPT_MAX_WAIT },
	{ "timeout", required_argument, NULL, OPT_TIMEOUT },
	{ "connect-timeout", required_argument, NULL, OPT_CONNECT_TIMEOUT },
	{ "max-time", required_argument, NULL, OPT_MAX_TIME },
	{ "max-body", required_argument, NULL, OPT_MAX_BODY },
	{ "workers", required_argument, NULL, OPT_WORKERS },
	{ "acquire-cmd", required_argument, NULL, OPT_ACQUIRE_CMD },
	{ NULL, 0, NULL, 0 }
};

/* One requested ASIN: the marketplace index orders the plan. */
struct want {
	char id[11];
	unsigned char mkt;
};

static int
cmp_want(const void *a, const void *b)
{
	const struct want *x = a, *y = b;

	if (x->mkt != y->mkt)
		return x->mkt < y->mkt ? -1 : 1;
	return memcmp(x->id, y->id, 10);
}

static int
valid_asin(const char *s, size_t n)
{
	size_t i;

	if (n != 10)
		return 0;
	for (i = 0; i < n; i++)
		if (!((s[i] >= 'A' && s[i] <= 'Z') || (s[i] >= '0' && s[i] <= '9')))
			return 0;
	return 1;
}

/* An index into a fixed table order, so the plan is sorted by code. */
static int
mkt_index(const struct mkt *m)
{
	static const char order[] = "BRCADEESFRGBINITJPMXUS";
	const char *p;

	for (p = order; *p != '\0'; p += 2)
		if (memcmp(p, m->code, 2) == 0)
			return (int)(p - order) / 2;
	return 0;
}

static const struct mkt *
mkt_of_index(int i)
{
	static const char order[] = "BRCADEESFRGBINITJPMXUS";

	return mkt_find(order + 2 * i, 2);
}

/*
 * Read every operand: one ASIN per line, or an NDJSON record with "asin"
 * and an optional "marketplace".  Bad lines are rejects; the result is
 * sorted and duplicates are counted as merged.
 */
static struct want *
read_input(char **paths, int npaths, const struct cli_common *co,
    struct acct *ac, const struct mkt *defmkt, size_t *np)
{
	struct nd_reader *rd = nd_open(paths, npaths, co->max_line);
	struct record *rec = rec_new();
	struct rec_field *fa = rec_field("asin");
	struct rec_field *fm = rec_field("marketplace");
	struct want *w = NULL;
	size_t n = 0, cap = 0, i, j;
	struct nd_line ln;

	while (nd_next(rd, &ln)) {
		const char *s = ln.buf, *err = NULL, *ms;
		size_t len = ln.len, ml;
		const struct mkt *m = defmkt;
		char msg[128];

		ac->in++;
		while (len > 0 && (*s == ' ' || *s == '\t')) {
			s++;
			len--;
		}
		while (len > 0 && (s[len - 1] == ' ' || s[len - 1] == '\t'))
			len--;
		if (ln.error != NULL)
			err = ln.error;
		else if (len > 0 && *s == '{') {
			enum rec_status st;

			if (!rec_parse(rec, &ln, &err))
				;
			else if ((st = rec_str(rec, fa, &s, &len)) != REC_OK)
				err = rec_errmsg(rec, fa, REC_STRING);
			else if ((st = rec_str(rec, fm, &ms, &ml)) == REC_OK) {
				if ((m = mkt_find(ms, ml)) == NULL) {
					snprintf(msg, sizeof msg, "unknown "
					    "marketplace \"%.*s\"",
					    (int)(ml > 20 ? 20 : ml), ms);
					err = msg;
				}
			} else if (st != REC_ABSENT && st != REC_ISNULL)
				err = rec_errmsg(rec, fm, REC_STRING);
		}
		if (err == NULL && !valid_asin(s, len)) {
			snprintf(msg, sizeof msg, "invalid ASIN \"%.*s\": "
			    "expected 10 characters A-Z or 0-9",
			    (int)(len > 40 ? 40 : len), s);
			err = msg;
		}
		if (err != NULL) {
			acct_reject(ac, ln.source, ln.lineno, ln.buf, ln.len,
			    err);
			continue;
		}
		if (n == cap) {
			cap = cap ? cap * 2 : 1024;
			w = xreallocarray(w, cap, sizeof *w);
		}
		memcpy(w[n].id, s, 10);
		w[n].id[10] = '\0';
		w[n].mkt = (unsigned char)mkt_index(m);
		n++;
	}
	nd_close(rd);
	rec_field_free(fa);
	rec_field_free(fm);
	rec_free(rec);
	if (n > 1)	/* qsort(NULL, 0) is undefined: empty input */
		qsort(w, n, sizeof *w, cmp_want);
	for (i = j = 0; i < n; i++) {
		if (j > 0 && cmp_want(&w[j - 1], &w[i]) == 0) {
			ac->merged++;
			continue;
		}
		w[j++] = w[i];
	}
	*np = j;
	return w;
}

static uint64_t
fnv(uint64_t h, const void *p, size_t n)
{
	const unsigned char *s = p;

	while (n-- > 0)
		h = (h ^ *s++) * 0x100000001b3ULL;
	return h;
}

/* Cut the sorted ASINs into batches of at most bsize per marketplace. */
static void
plan(struct run *r, struct want *w, size_t n, char (*ids)[11], int bsize)
{
	size_t i = 0, k;

	r->b = xcalloc(n / bsize + 12, sizeof *r->b);
	for (k = 0; k < n; k++)
		memcpy(ids[k], w[k].id, 11);
	while (i < n) {
		struct batch *b = &r->b[r->nb++];
		uint64_t h = r->prof->hash;
		int j;

		b->mkt = mkt_of_index(w[i].mkt);
		b->ids = ids + i;
		for (b->n = 0; i < n && b->n < bsize && w[i].mkt ==
		    w[i - b->n].mkt; i++)
			b->n++;
		h = fnv(h, r->prof->name, strlen(r->prof->name) + 1);
		h = fnv(h, b->mkt->code, 3);
		h = fnv(h, r->date, strlen(r->date) + 1);
		for (j = 0; j < b->n; j++)
			h = fnv(h, b->ids[j], 10);
		snprintf(b->bid, sizeof b->bid, "%016llx",
		    (unsigned long long)h);
		b->cost = r->prof->cost_req + r->prof->cost_item * b->n;
	}
}

void
emit_ready(struct run *r)
{
	while (r->emitted < r->nb) {
		struct batch *b = &r->b[r->emitted];

		if (b->state == B_ARCHIVED) {
			const struct arc_entry *e = archive_find(r->arc, b->bid);
			struct buf body;
			char *err = NULL;

			buf_init(&body);
			snprintf(b->fetched_at, sizeof b->fetched_at, "%s",
			    e->fetched_at);
			b->http = e->http;
			b->attempts = e->attempts;
			if (archive_read(r->arc, e, &body) != 0)
				err = xasprintf("archive: %s: %s", e->file,
				    strerror(errno));
			else if (extract(r, b, body.data ? body.data : "",
			    body.len, &err) != 0) {
				char *m = xasprintf("archive: %s", err);

				free(err);
				err = m;
			}
			if (err != NULL) {
				b->reason = redact(&r->sec, err);
				free(err);
				render_failed(r, b);
			}
			buf_free(&body);
			r->c.archived += b->n;
			b->state = B_DONE;
		}
		if (b->state != B_DONE)
			break;
		if (b->env.len > 0)
			out_write(r->out, b->env.data, b->env.len);
		buf_free(&b->env);
		buf_free(&b->body);
		free(b->reason);
		b->reason = NULL;
		r->emitted++;
	}
}

static const char *
today(char *buf, size_t n)
{
	time_t t = time(NULL);
	struct tm tm;

	gmtime_r(&t, &tm);
	strftime(buf, n, "%Y-%m-%d", &tm);
	return buf;
}

static void
check_base_url(const char *u)
{
	const char *h;

	if (strncmp(u, "http://", 7) == 0)
		h = u + 7;
	else if (strncmp(u, "https://", 8) == 0)
		h = u + 8;
	else
		usage_error("option --base-url: expected http://host[:port] or "
		    "https://host[:port], got '%s'", u);
	{
		size_t n = strcspn(h, "/?#");
		const char *colon = h[0] == '[' ? strchr(h, ']') : h;

		/* A host, and a port of digits if there is a colon. */
		if (n == 0 || colon == NULL || colon >= h + n)
			usage_error("option --base-url: no host in '%s'", u);
		colon = memchr(colon, ':', h + n - colon);
		if (colon == h)
			usage_error("option --base-url: no host in '%s'", u);
		if (colon != NULL && (colon + 1 == h + n ||
		    strspn(colon + 1, "0123456789") != (size_t)(h + n - colon - 1)))
			usage_error("option --base-url: bad port in '%s'", u);
		h += n;
	}
	if (*h != '\0' && strcmp(h, "/") != 0)
		usage_error("option --base-url: only scheme, host and port; the "
		    "profile keeps its path");
}

/* What the command line chose beyond the run's own settings. */
struct opts {
	const char *provider, *base, *archive, *replay, *env_file;
	const struct mkt *defmkt;
	double qpm, burst;
	int workers;		/* 0: not given */
	int bsize;
	char datebuf[16];
};

static void
parse_args(int argc, char *argv[], struct cli_common *co, struct run *r,
    struct opts *o)
{
	int ch;

	o->provider = "keepa";
	o->base = getenv("ASIN_FETCH_BASE_URL");
	o->defmkt = mkt_find("US", 2);
	o->qpm = o->burst = -1;
	r->parallel = 4;
	r->retries = 5;
	r->retry_base = 1;
	r->retry_cap = 60;
	r->max_wait = 900;
	r->timeout = 60;
	r->connect_timeout = 10;
	r->max_body = 256u << 20;
	r->date = today(o->datebuf, sizeof o->datebuf);
	while ((ch = cli_getopt(argc, argv, "hVqvp:m:b:j:",
	    longopts)) != -1) {
		if (cli_common_opt(co, ch, optarg))
			continue;
		switch (ch) {
		case 'p': o->provider = optarg; break;
		case 'm':
			if ((o->defmkt = mkt_find(optarg, strlen(optarg))) ==
			    NULL)
				usage_error("option --marketplace: unknown "
				    "marketplace '%s'", optarg);
			break;
		case 'b': o->base = optarg; break;
		case 'j':
			r->parallel = (int)cli_int("--parallel", optarg, 1, 256);
			break;
		case OPT_BATCH:
			o->bsize = (int)cli_int("--batch", optarg, 1, 1000);
			break;
		case OPT_ARCHIVE: o->archive = optarg; break;
		case OPT_REPLAY: o->replay = optarg; break;
		case OPT_FORCE: r->force = 1; break;
		case OPT_DATE:
			if (!date_valid(optarg, strlen(optarg)))
				usage_error("option --date: expected a calendar "
				    "date YYYY-MM-DD, got '%s'", optarg);
			r->date = optarg;
			break;
		case OPT_ENV_FILE: o->env_file = optarg; break;
		case OPT_QPM:
			o->qpm = cli_double("--qpm", optarg, 0, 1e9);
			break;
		case OPT_BURST:
			o->burst = cli_double("--burst", optarg, 1, 1e9);
			break;
		case OPT_RETRIES:
			r->retries = (int)cli_int("--retries", optarg, 0, 100);
			break;
		case OPT_RETRY_BASE:
			r->retry_base = cli_double("--retry-base", optarg, 0,
			    3600);
			break;
		case OPT_RETRY_CAP:
			r->retry_cap = cli_double("--retry-cap", optarg, 0,
			    86400);
			break;
		case OPT_MAX_WAIT:
			r->max_wait = cli_double("--max-wait", optarg, 0, 86400);
			break;
		case OPT_TIMEOUT:
			r->timeout = cli_double("--timeout", optarg, 0.001,
			    86400);
			break;
		case OPT_CONNECT_TIMEOUT:
			r->connect_timeout = cli_double("--connect-timeout",
			    optarg, 0.001, 3600);
			break;
		case OPT_MAX_TIME:
			r->max_time = cli_double("--max-time", optarg, 0, 1e7);
			break;
		case OPT_WORKERS:
			o->workers = (int)cli_int("--workers", optarg, 1, 100000);
			break;
		case OPT_ACQUIRE_CMD:
			if (*optarg == '\0')
				usage_error("option --acquire-cmd: empty command");
			r->acquire_cmd = optarg;
			break;
		case OPT_MAX_BODY:
			r->max_body = (size_t)cli_int("--max-body", optarg, 1024,
			    (long long)1 << 40);
			break;
		default:
			usage_error("unknown option");
		}
	}
	if (o->archive != NULL && o->replay != NULL)
		usage_error("--archive and --replay exclude each other");
	/*
	 * Flag, then environment; a central bucket (--acquire-cmd) shares
	 * the quota itself, so there the default is no static split.
	 */
	if (o->workers == 0 && r->acquire_cmd == NULL) {
		const char *w = getenv("ASIN_FETCH_WORKERS");

		o->workers = w != NULL && *w != '\0' ?
		    (int)cli_int("ASIN_FETCH_WORKERS", w, 1, 100000) : 1;
	}
	if (o->base != NULL && *o->base != '\0')
		check_base_url(o->base);
	else
		o->base = NULL;
	if (o->env_file == NULL && (o->env_file = getenv("ASIN_ENV_FILE")) !=
	    NULL && *o->env_file == '\0')
		o->env_file = NULL;
	r->verbose = co->verbose;
	r->replay = o->replay != NULL;
}

/* Mark the batches the archive has; in replay, fail the others. */
static void
match_archive(struct run *r)
{
	size_t i;

	for (i = 0; i < r->nb; i++) {
		struct batch *b = &r->b[i];

		if (r->arc != NULL && !r->force && archive_find(r->arc, b->bid))
			b->state = B_ARCHIVED;
		else if (r->replay) {
			b->reason = xstrdup("not in the archive");
			render_failed(r, b);
			b->state = B_DONE;
		}
	}
}

/* An unset secret is fatal before the first request, not after some. */
static void
check_secrets(struct run *r, const struct mkt *m)
{
	char one[1][11] = { "B000000000" };
	struct tvars tv = { one, 1, ",", m, r->date };
	char *err, *u;
	size_t i;

	for (i = 0; i < r->nb && r->b[i].state != B_PENDING; i++)
		;
	if (i == r->nb)
		return;
	if ((u = tmpl_expand(r->prof->url, &tv, 1, &r->sec, &err)) == NULL)
		die("provider %s: %s", r->prof->name, err);
	free(u);
	for (i = 0; i < r->prof->nheaders; i++) {
		if ((u = tmpl_expand(r->prof->hvals[i], &tv, 0, &r->sec,
		    &err)) == NULL)
			die("provider %s: %s", r->prof->name, err);
		free(u);
	}
}

static void
fetch(struct run *r, const struct opts *o)
{
	const char *seed = getenv("ASIN_FETCH_SEED");

	if (curl_global_init(CURL_GLOBAL_DEFAULT) != 0)
		die("cannot start libcurl");
	rng_seed(&r->rng, seed != NULL ? strtoull(seed, NULL, 10) :
	    (uint64_t)time(NULL) ^ ((uint64_t)getpid() << 32));
	r->started = mono_now();
	thr_init(&r->thr, r->prof->throttle, o->qpm >= 0 ? o->qpm :
	    r->prof->qpm, o->burst >= 0 ? o->burst : r->prof->burst,
	    r->started);
	if (o->qpm == 0)
		r->thr.model = THR_NONE;
	thr_share(&r->thr, o->workers);
	r->prog = progress_new("fetch", r->total_ids);
	fetch_all(r);
	progress_end(r->prog);
	curl_global_cleanup();
}

/* The count check, --stats, the exit status. */
static int
report(struct run *r, const struct cli_common *co, struct acct *ac)
{
	char *extra;
	int status;

	ac->out = r->c.ok + r->c.missing + r->c.invalid + r->c.failed;
	if (co->verbose)
		note("requested %lld = ok %lld + missing %lld + invalid %lld + "
		    "failed %lld; %lld requests, %lld retries, %lld from the "
		    "archive", r->total_ids, r->c.ok, r->c.missing,
		    r->c.invalid, r->c.failed, r->c.requests, r->c.retries,
		    r->c.archived);
	extra = xasprintf("\"requested\":%lld,\"ok\":%lld,\"missing\":%lld,"
	    "\"invalid\":%lld,\"failed\":%lld,\"batches\":%zu,\"requests\":%lld,"
	    "\"retries\":%lld,\"archived\":%lld,\"unexpected\":%lld",
	    r->total_ids, r->c.ok, r->c.missing, r->c.invalid, r->c.failed,
	    r->nb, r->c.requests, r->c.retries, r->c.archived,
	    r->c.unexpected);
	status = acct_finish(ac, extra);
	free(extra);
	if (r->fatal != NULL)
		return EXIT_FAIL;
	if (status == EXIT_OK && (r->c.missing > 0 || r->c.failed > 0)) {
		if (!co->quiet)
			warn("%lld of %lld ASINs missing or failed",
			    r->c.missing + r->c.failed, r->total_ids);
		status = EXIT_PARTIAL;
	}
	return status;
}

static void
run_free(struct run *r)
{
	size_t i;

	archive_close(r->arc);
	profile_free(r->prof);
	secrets_free(&r->sec);
	free(r->access_token);
	free(r->fatal);
	for (i = 0; i < r->nb; i++) {
		free(r->b[i].reason);
		buf_free(&r->b[i].body);
		buf_free(&r->b[i].env);
	}
	free(r->b);
}

int
main(int argc, char *argv[])
{
	struct cli_common co;
	struct acct ac;
	struct run r;
	struct opts o;
	char (*ids)[11], fatal[1024] = "";
	struct want *w;
	size_t n;
	int status;

	diag_init(argv[0]);
	cli_init(&co, usage_text);
	memset(&r, 0, sizeof r);
	memset(&o, 0, sizeof o);
	parse_args(argc, argv, &co, &r, &o);

	secrets_load(&r.sec, o.env_file ? o.env_file : ".env",
	    o.env_file != NULL);
	r.prof = profile_load(o.provider, o.base, &r.sec);
	if (o.bsize == 0)
		o.bsize = r.prof->batch_max;
	else if (o.bsize > r.prof->batch_max)
		usage_error("option --batch: %s takes at most %d ASINs per "
		    "request", r.prof->name, r.prof->batch_max);

	acct_init(&ac, &co);
	w = read_input(argv + optind, argc - optind, &co, &ac, o.defmkt, &n);
	ids = xcalloc(n + 1, sizeof *ids);
	plan(&r, w, n, ids, o.bsize);
	free(w);
	r.total_ids = (long long)n;
	if (o.archive != NULL || o.replay != NULL)
		r.arc = archive_open(o.archive ? o.archive : o.replay, r.date,
		    r.prof->name, r.replay);
	match_archive(&r);

	r.out = out_new(1, "<stdout>");
	if (!r.replay) {
		check_secrets(&r, o.defmkt);
		fetch(&r, &o);
	}
	emit_ready(&r);
	out_close(r.out);
	status = report(&r, &co, &ac);
	if (r.fatal != NULL) {
		char *m = redact(&r.sec, r.fatal);

		snprintf(fatal, sizeof fatal, "%s", m);
		free(m);
	}
	run_free(&r);
	free(ids);
	if (fatal[0] != '\0')
		die("%s", fatal);
	return status;
}
