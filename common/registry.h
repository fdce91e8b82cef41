/*
 * registry.h - the model registry engine of asin-registry: model versions
 * with a signature contract, stored in a local JSON file or in an MLflow
 * server, plus the JSON-over-HTTP client the MLflow backend uses and the
 * model card renderer.  Values are libjq jv: this is configuration-sized
 * data, never the record hot path.  Every function consumes the jv it is
 * given and returns owned ones unless its comment says it borrows.
 */
#ifndef REGISTRY_H
#define REGISTRY_H

#include "asin.h"

/* ------------------------------------------------------------------ */
/* regsig.c: signatures, metric names, content keys, time stamps        */
/* ------------------------------------------------------------------ */

/*
 * Check a signature in MLflow's column-spec form
 * {"inputs":[{"name","type"[,"required"]}],"outputs":[...]} and return
 * it normalised (required filled in, params dropped).  Returns
 * jv_invalid() and sets *err (caller frees) naming the bad entry.
 */
jv sig_check(jv sig, char **err);

/*
 * The signature of an asin-rank model file's "signature" member
 * (features, types): number becomes double, integer long, string string;
 * the output is rank_score, double.  Borrows nothing; consumes rsig.
 */
jv sig_from_rank(jv rsig, char **err);

/*
 * Compare two signatures (borrowed).  Appends one clause per difference
 * to msg: 'added feature "x" (double)', 'removed feature "y"',
 * 'retyped feature "z" (double -> long)', 'moved feature "w" (3 -> 1)',
 * 'output changed'.  Returns the number of differences.
 */
int sig_diff(jv old_sig, jv new_sig, struct buf *msg);

/*
 * The MLflow form of a metric name: '@' becomes "_at_", any other byte
 * outside [A-Za-z0-9_.\-/ ] becomes '_' (ndcg@10 -> ndcg_at_10).
 * Returns a fresh string.
 */
char *metric_mlflow_name(const char *name);

/*
 * jv_object_get() that also takes a non-object (null, an array: a
 * hostile file or a server's odd answer) and then returns jv_invalid()
 * instead of tripping libjq's assertion.  Consumes o and k.
 */
jv reg_get(jv o, jv k);

/* FNV-1a 64 of a byte string as 16 lower-case hex digits (dst >= 17). */
void content_key(const char *s, size_t n, char *dst);

/*
 * Now as seconds since the epoch: SOURCE_DATE_EPOCH when it is set (for
 * reproducible files), else the clock.  reg_iso() formats t as
 * "YYYY-MM-DDTHH:MM:SSZ" into dst (>= 21 bytes).
 */
long long reg_now(void);
void reg_iso(long long t, char *dst);

/* Who acts: --by, else $USER, else $LOGNAME, else "unknown"; borrowed. */
const char *reg_who(const char *by);

/* ------------------------------------------------------------------ */
/* registry.c: the backend-neutral operations                           */
/* ------------------------------------------------------------------ */

/*
 * A version record, the same in both backends and on stdout:
 * {"name","version","artifact_uri","created_at","metrics","data_span"
 * {from,to}|null,"feature_version","signature","run_id","description",
 * "aliases":[...],"status":"active"|"archived","content_key"}.
 */
struct reg_backend {
	/*
	 * Store a new version from v (consumed: the fields above without
	 * version, created_at, aliases and status).  A version with the same
	 * content_key already stored is returned instead (*existed = 1).
	 * Returns the stored record, or jv_invalid() with *err set.
	 */
	jv (*create)(void *, jv v, int *existed, char **err);
	/*
	 * The version of name that ref names: digits (a version), an alias,
	 * or "latest".  jv_null() when there is none; jv_invalid() with
	 * *err on failure.
	 */
	jv (*get)(void *, const char *name, const char *ref, char **err);
	/* Every version of name, by number; jv_invalid() with *err. */
	jv (*list)(void *, const char *name, char **err);
	/*
	 * Point alias stage at version of name and archive prev (0: no
	 * previous holder), adding event (consumed) to the history.  Returns
	 * 0, or -1 with *err.
	 */
	int (*promote)(void *, const char *name, long long version,
	    const char *stage, long long prev, jv event, char **err);
	/* The change history of name, oldest first. */
	jv (*history)(void *, const char *name, char **err);
	void (*close)(void *);
};

struct registry {
	const struct reg_backend *be;
	void *state;
};

/* A promotion request; strings borrowed. */
struct reg_promote {
	const char *name;
	long long version;
	const char *stage;		/* "production" or "staging" */
	const char *feature_version;	/* declared by the pipeline, or NULL */
	const char *by;
	const char *note;		/* free text for the history, or NULL */
	int force;
};

/*
 * Promote per the contract: the candidate's signature and feature
 * version must equal those of the stage's current holder and the
 * declared feature version.  On a difference it returns 1 with *err
 * naming each feature, unless p->force (then the event says forced and
 * what changed).  Returns 0 with *event (owned) set to the history
 * entry, 1 for a refusal, -1 for another failure (*err set).
 */
int reg_promote(struct registry *, const struct reg_promote *p, jv *event,
    char **err);

/*
 * Parse "NAME[@REF]" into *name and *ref (fresh strings; ref "latest"
 * when absent).  Returns 0, or -1 when it is malformed.
 */
int reg_parse_ref(const char *s, char **name, char **ref);

/* A registered-model name: 1 to 200 of [A-Za-z0-9_.-], not all dots. */
int reg_valid_name(const char *s);

/* ------------------------------------------------------------------ */
/* reglocal.c: the local JSON file backend                              */
/* ------------------------------------------------------------------ */

/*
 * Open the registry file path (it need not exist yet).  Writers take an
 * exclusive flock on path.lock, re-read the file, and replace it
 * atomically (temp, fsync, rename), so two writers and a kill -9 at any
 * point leave a whole file.  Borrows path.
 */
struct registry *reg_open_local(const char *path);
/* 1 if r is the local file backend. */
int reg_is_local(const struct registry *r);
void reg_close(struct registry *);

/* ------------------------------------------------------------------ */
/* rest.c: JSON over HTTP with retries, Retry-After and redaction        */
/* ------------------------------------------------------------------ */

struct rest_opts {
	const char *base;	/* http(s)://host[:port][/prefix] */
	const char *user;	/* Basic auth when user and pass are set */
	const char *pass;
	const char *token;	/* else Bearer */
	int max_retries;	/* transient failures retried this often */
	double backoff;		/* seconds; doubled per attempt */
	double max_wait;	/* cap on one Retry-After wait, seconds */
	long timeout_ms;
	int insecure;		/* skip TLS verification (explicit only) */
	const char *ca_path;
	int verbose;		/* a note per request (URL redacted) */
};

struct rest;
/* Start a client; borrows o's strings for its lifetime. */
struct rest *rest_new(const struct rest_opts *o);
void rest_free(struct rest *);

/*
 * One call: method ("GET", "POST", "DELETE", "PATCH") on base + path,
 * with query (already encoded, or NULL) and body (consumed; jv_invalid()
 * for none).  retry: transient outcomes (transport errors, 408, 429,
 * 5xx) are retried with Retry-After or backoff.  Returns the HTTP status
 * with *out the parsed JSON body (jv_null() when the body is not JSON;
 * then *text gets it, trimmed, if text is not NULL), or -1 with *err
 * (caller frees) for a transport failure after the retries.  Secrets
 * never appear in *err.
 */
int rest_call(struct rest *, const char *method, const char *path,
    const char *query, jv body, int retry, jv *out, char **text,
    char **err);

/* URL-encode s into a fresh string. */
char *rest_escape(const char *s);
/* The base URL without user:password@, for messages; fresh string. */
char *rest_redact_url(const char *url);

/* ------------------------------------------------------------------ */
/* regmlflow.c: the MLflow backend and run tracking                     */
/* ------------------------------------------------------------------ */

struct mlflow_opts {
	struct rest_opts rest;
	const char *alias_production;	/* alias for --to production */
	const char *alias_staging;
	int stages;			/* also transition-stage (compat) */
};

/* Open the MLflow backend; borrows o.  Dies if libcurl cannot start. */
struct registry *reg_open_mlflow(const struct mlflow_opts *o);

/* 1 if r is the MLflow backend. */
int reg_is_mlflow(const struct registry *r);

/*
 * The MLflow batch of one runs-index line (raw/len, borrowed): an object
 * {"run_key","run_name","start_time","params":[{key,value}],
 * "metrics":[{key,value,timestamp,step}],"tags":[{key,value}]}, metric
 * names mapped (ndcg@10 -> ndcg_at_10).  jv_invalid() with *err when the
 * line is not a JSON object.
 */
jv runs_batch(const char *raw, size_t len, char **err);

/*
 * Push one batch (consumed) to experiment exp (created if absent) of the
 * MLflow registry r: idempotent, since a run already carrying the
 * batch's asin.run_key tag is left alone.  *res (owned) gets
 * {"run_key","run_id","status":"logged"|"present"}.  Returns 0, or -1
 * with *err (caller frees).
 */
int mlflow_log_run(struct registry *r, const char *exp, jv batch, jv *res,
    char **err);

/* ------------------------------------------------------------------ */
/* regcard.c: model cards                                               */
/* ------------------------------------------------------------------ */

/*
 * Render the template tmpl (borrowed) for version v with history hist
 * and, if not null, the eval output evalm (asin-rank's metrics.json) and
 * lift (lift_curve.csv text, borrowed, or NULL); consumes the jv.
 * {{key}} is replaced by a known value or by a marked blank
 * "_[to fill: key]_"; an unknown key is an error.  Returns the card
 * (caller frees) or NULL with *err.
 */
char *card_render(const char *tmpl, jv v, jv hist, jv evalm,
    const char *lift, char **err);

#endif
