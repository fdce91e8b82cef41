/*
 * fetch.h - the internal header of asin-fetch, split by the file that
 * implements each part (curl's tool_*.c shape): provider profiles, secrets,
 * throttle and backoff, raw JSON spans, extraction, the archive, LWA and
 * the transfer loop.  Nothing here is part of libasin.
 */
#ifndef FETCH_H
#define FETCH_H

#include <stddef.h>
#include <stdint.h>

#include <curl/curl.h>
#include <jq.h>

#include "asin.h"

/* Exit status of a run in which some ASINs are missing or failed. */
#define EXIT_PARTIAL 3

/* ------------------------------------------------------------------ */
/* secrets.c: the env file, {env:NAME} look-ups, redaction              */
/* ------------------------------------------------------------------ */

struct secrets {
	char **names, **vals;	/* env-file entries */
	size_t n;
	char **redact;		/* values to scrub, longest first */
	size_t nredact;
	char **params;		/* query/header names whose values are scrubbed */
	size_t nparams;
};

/*
 * Read an env file of NAME=VALUE lines (# comments, optional "export ",
 * single or double quotes).  A missing file is fatal only if required.
 * A bad line dies with "path:N: ..." and never prints the value.
 */
void secrets_load(struct secrets *, const char *path, int required);
/* The value of NAME: the environment first, then the env file; NULL if
 * unset.  Borrowed.  The value is registered for redaction. */
const char *secrets_get(struct secrets *, const char *name);
/* Register a value (copied) that must never be shown. */
void secrets_add(struct secrets *, const char *value);
/* Register a query parameter or header name whose value is scrubbed. */
void secrets_param(struct secrets *, const char *name);
/* A copy of s with every secret value and scrubbed parameter replaced by
 * "REDACTED"; the caller frees it. */
char *redact(const struct secrets *, const char *s);
void secrets_free(struct secrets *);

/* ------------------------------------------------------------------ */
/* profile.c: provider profiles, marketplaces, URL templates           */
/* ------------------------------------------------------------------ */

struct mkt {
	const char *code;		/* US */
	int domain;			/* Keepa domain id */
	const char *marketplace_id;	/* SP-API id */
	const char *region;		/* na, eu, fe */
};
/* The marketplace with this upper-case code, or NULL. */
const struct mkt *mkt_find(const char *code, size_t len);

enum { AUTH_NONE, AUTH_LWA };
enum { THR_NONE, THR_BUCKET, THR_KEEPA };

struct profile {
	char *name, *endpoint, *method;
	char *url;			/* template, base URL applied */
	int batch_max;
	char *id_join;
	char **hnames, **hvals;		/* extra header templates */
	size_t nheaders;
	int auth;
	char *lwa_url, *lwa_id, *lwa_secret, *lwa_refresh, *lwa_header;
	char *items_src, *id_src, *invalid_src;
	jq_state *items, *id, *invalid;	/* compiled once */
	struct jspan *span;		/* raw item path, NULL if not simple */
	int throttle;
	double qpm, burst, cost_req, cost_item;
	char *rate_header;
	int *fatal;			/* HTTP statuses that abort the run */
	size_t nfatal;
	uint64_t hash;			/* of the whole profile, for batch ids */
};

/*
 * Find and load a profile: a NAME is looked up as NAME.json in
 * $ASIN_PROVIDERS, then next to the executable (../../schemas/providers
 * in the build tree, ../share/asin-tools/providers when installed); a
 * value with a '/' or ending in .json is a file.  base_url (or NULL)
 * replaces scheme, host and port of every URL in it.  Dies with a
 * message naming the file and member on any error.
 */
struct profile *profile_load(const char *name, const char *base_url,
    struct secrets *);
void profile_free(struct profile *);

/* What a template may refer to. */
struct tvars {
	char (*ids)[11];
	int nids;
	const char *join;	/* between ids */
	const struct mkt *mkt;
	const char *date;
};
/*
 * Expand {ids} {domain} {marketplace} {marketplace_id} {region} {date}
 * and {env:NAME} in tmpl.  url != 0 escapes each value for a URL.  On an
 * unset variable returns NULL with *err a fresh message.  The result is
 * the caller's to free.
 */
char *tmpl_expand(const char *tmpl, const struct tvars *, int url,
    struct secrets *, char **err);

/*
 * Run a compiled jq program on input (consumed), collecting outputs in
 * an owned array.  Returns the array, or jv_invalid_with_msg.
 */
jv jq_all(jq_state *, jv input);

/* ------------------------------------------------------------------ */
/* throttle.c: cost-aware token bucket, server feedback, backoff       */
/* ------------------------------------------------------------------ */

struct throttle {
	int model;
	double rate;		/* tokens per second; 0 = unlimited */
	double cap;		/* bucket capacity */
	double tokens;
	double last;		/* time of the last refill, seconds */
	int known;		/* server figures seen (keepa) */
	double left_seen;	/* last tokensLeft, for the progress line */
	int workers;		/* processes sharing the account's quota */
	double hold_until;	/* the server said: nothing before this time */
};

void thr_init(struct throttle *, int model, double per_min, double burst,
    double now);
/* Seconds to wait before a request of this cost may go (0: now).
 * inflight: requests of ours still on the wire. */
double thr_wait(struct throttle *, double cost, int inflight, double now);
void thr_take(struct throttle *, double cost, double now);
/*
 * Share the quota with workers - 1 other processes (--workers): this
 * one's rate and burst are the account's divided by workers, and so
 * are the server's figures below, which count the whole account.
 * Call once, after thr_init().
 */
void thr_share(struct throttle *, int workers);
/* Keepa: overwrite the local mirror from a response's token fields.
 * pending: cost of our requests sent but not yet answered.  refill_ms:
 * Keepa's refillIn; with no token left, nothing goes before it. */
void thr_keepa(struct throttle *, double left, double rate_per_min,
    double pending, double refill_ms, double now);
/* A server's own rate (requests per second), the account's: our share
 * of it is adopted if lower. */
void thr_rate_hint(struct throttle *, double per_sec, double now);

/*
 * --acquire-cmd: run cmd with /bin/sh before a request of this cost
 * (ASIN_FETCH_COST and ASIN_FETCH_PROVIDER in its environment, standard
 * input /dev/null, its standard output to our standard error, never
 * among the records) and wait for it: exit 0 grants the request.
 * Returns 0, or -1 with *why a fresh message for any other end.
 */
int acquire_token(const char *cmd, double cost, const char *provider,
    char **why);

/* xorshift64*: the backoff jitter, seeded from ASIN_FETCH_SEED. */
struct rng {
	uint64_t s;
};
void rng_seed(struct rng *, uint64_t seed);
double rng_unif(struct rng *);
/* Full jitter: U(0, min(cap, base * 2^n)). */
double backoff(struct rng *, double base, double cap, int n);

double mono_now(void);

/* ------------------------------------------------------------------ */
/* jspan.c: byte spans of the items in a response, without re-encoding */
/* ------------------------------------------------------------------ */

/*
 * A jq path made only of .name, ."name", [] and [N] steps (each maybe
 * with ?), e.g. ".products[]".  jspan_compile() returns NULL for any
 * other program; the caller then re-encodes items with libjq.
 */
struct jspan *jspan_compile(const char *path);
void jspan_free(struct jspan *);
/*
 * Find the values the path selects in body, in document order (of a key
 * that appears twice, the last, as jq).  Appends (offset, length) pairs
 * to *spans (grown with xreallocarray) and returns their count, or -1 if
 * body is not one valid JSON text (nesting deeper than 256 is not).
 */
long jspan_find(const struct jspan *, const char *body, size_t len,
    size_t **spans, size_t *cap);
/* Append s without the white space between tokens. */
void json_compact(struct buf *, const char *s, size_t len);

/* ------------------------------------------------------------------ */
/* The batches of a run, and the run itself (main.c owns them)          */
/* ------------------------------------------------------------------ */

enum { B_PENDING, B_WAIT, B_FLIGHT, B_DONE, B_ARCHIVED };

struct batch {
	const struct mkt *mkt;
	char (*ids)[11];	/* sorted; points into the run's id table */
	int n;
	char bid[17];		/* deterministic batch id, hex */
	int state;
	int attempts;		/* HTTP requests made */
	int charged;		/* attempts charged to --retries */
	int auth_retried;
	double not_before;	/* B_WAIT: monotonic seconds */
	double cost;
	long http;		/* last status; 0 = none */
	char *reason;		/* batch failure, NULL if answered */
	char fetched_at[24];
	struct buf body;	/* the answer, until it is archived */
	struct buf env;		/* rendered envelopes, until emitted */
};

struct counts {
	long long ok, missing, invalid, failed;
	long long requests, retries, archived, unexpected;
};

struct run {
	struct profile *prof;
	struct secrets sec;
	struct archive *arc;
	int replay;
	const char *date;
	int parallel;
	int retries;
	double retry_base, retry_cap, max_wait;
	double timeout, connect_timeout, max_time;
	size_t max_body;
	int force;
	int verbose;
	const char *acquire_cmd;	/* --acquire-cmd: a central bucket */
	struct throttle thr;
	struct rng rng;
	struct batch *b;
	size_t nb;
	size_t emitted;		/* batches [0, emitted) are on stdout */
	struct out *out;
	struct counts c;
	char *fatal;		/* set: the run aborts, exit 1 */
	char *access_token;	/* LWA, cached */
	double token_expiry;
	double started;
	struct progress *prog;
	long long total_ids, done_ids;
};

/* ------------------------------------------------------------------ */
/* extract.c: a response body into per-ASIN envelopes                   */
/* ------------------------------------------------------------------ */

/*
 * Split body into items with the profile's programs and render one
 * envelope per ASIN of b into b->env.  Returns 0, or -1 with *err (a
 * fresh message) when the body is not usable (bad JSON, no items):
 * nothing is rendered then.
 */
int extract(struct run *, struct batch *, const char *body, size_t len,
    char **err);
/* Render a "failed" envelope for every ASIN of b, with b->reason. */
void render_failed(struct run *, struct batch *);

/* ------------------------------------------------------------------ */
/* archive.c: raw responses, the journal per day and provider, the lock */
/* ------------------------------------------------------------------ */

struct arc_entry {
	char bid[17];
	char *file;		/* relative to the provider directory */
	char fetched_at[24];
	long http;
	int attempts;
	long seq;		/* journal line number */
};

/*
 * Open DIR/DATE/PROVIDER: create it (writing), take the lock (shared for
 * replay, exclusive otherwise; a held lock is fatal), drop stale temp
 * files, cut a torn last journal line and load the journal.
 */
struct archive *archive_open(const char *dir, const char *date,
    const char *provider, int replay);
/* The finished batch with this id, or NULL.  Borrowed. */
const struct arc_entry *archive_find(const struct archive *, const char *bid);
/* Read a batch's raw body into b (appended).  0, or -1 with errno. */
int archive_read(const struct archive *, const struct arc_entry *,
    struct buf *b);
/*
 * Keep a finished batch: the body exactly as received, written
 * atomically, then one journal line (appended, fsynced) that marks the
 * batch done.  url is already redacted.  Dies on I/O errors.
 */
void archive_store(struct archive *, const struct batch *, const char *url,
    const char *body, size_t len);
void archive_close(struct archive *);

/* ------------------------------------------------------------------ */
/* auth.c: LWA access tokens                                            */
/* ------------------------------------------------------------------ */

/*
 * Make sure run->access_token is valid for at least five more minutes,
 * exchanging the refresh token when not (force: always).  Returns 0, or
 * -1 with run->fatal set.
 */
int lwa_token(struct run *, int force);

/* ------------------------------------------------------------------ */
/* http.c: the transfer loop                                            */
/* ------------------------------------------------------------------ */

/*
 * Fetch every batch not yet done with libcurl's multi interface,
 * keeping at most run->parallel requests in flight and the throttle's
 * pace, retrying per the policy, and calling emit_ready() as batches
 * finish.  Returns when every batch is done or the run aborted.
 */
void fetch_all(struct run *);

/* main.c: write out the finished batches at the head of the queue. */
void emit_ready(struct run *);

#endif
