/*
 * asin-registry - model versions with a contract: register a ranking model
 * with its artifact URI, signature, metrics, data span and feature
 * version; promote it to staging or production only when its signature
 * matches the version it replaces; list, show and resolve versions; push
 * asin-rank's runs index to MLflow tracking; write model cards.  The
 * store is a local JSON file or an MLflow server (common/registry.h).
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "registry.h"

#define DEFAULT_REGISTRY "runs/registry.json"
#define DEFAULT_RUNS "runs/index.ndjson"
#define MAX_FILE (64u << 20)

static const char usage_text[] =
    "usage: asin-registry register --name NAME --artifact-uri URI\n"
    "           (--signature FILE | --model FILE) [--metric K=V ...]\n"
    "           [--metrics-file FILE] [--data-span FROM:TO]\n"
    "           [--feature-version V] [--run-id ID] [--description TEXT]\n"
    "       asin-registry promote --name NAME --version N\n"
    "           --to staging|production [--feature-version V] [--force]\n"
    "           [--note TEXT]\n"
    "       asin-registry list --name NAME [--format ndjson|table]\n"
    "       asin-registry show NAME[@VERSION|@ALIAS] [--format ndjson|table]\n"
    "       asin-registry resolve NAME[@VERSION|@ALIAS]\n"
    "       asin-registry log-runs [--experiment NAME] [--dry-run] [file ...]\n"
    "       asin-registry card NAME[@VERSION|@ALIAS] [--eval DIR]\n"
    "           [--template FILE] [-o FILE]\n"
    "Record model versions, promote them under a signature contract, and\n"
    "write model cards; in a local JSON file or an MLflow server.\n"
    "\n"
    "Store:\n"
    "      --local           use the local registry file even when\n"
    "                        MLFLOW_TRACKING_URI is set\n"
    "      --registry-file FILE  the local registry (default\n"
    "                        " DEFAULT_REGISTRY ")\n"
    "      --tracking-uri URI    the MLflow server (default\n"
    "                        $MLFLOW_TRACKING_URI)\n"
    "      --alias-map MAP   MLflow aliases for the stages, e.g.\n"
    "                        production=champion,staging=challenger\n"
    "      --mlflow-stages   also move the deprecated MLflow stage\n"
    "      --by WHO          who acts, for the history (default $USER)\n"
    "Register:\n"
    "      --name NAME       the registered model\n"
    "      --artifact-uri URI    where the model file lives\n"
    "      --signature FILE  inputs and outputs, MLflow column-spec JSON\n"
    "      --model FILE      take signature, metrics, span and feature\n"
    "                        version from an asin-rank model file\n"
    "      --metric K=V      a metric (repeatable; beats --model)\n"
    "      --metrics-file FILE   the model metrics of asin-rank eval's\n"
    "                        metrics.json\n"
    "      --data-span FROM:TO   the training data's first and last day\n"
    "      --feature-version V   the feature schema version\n"
    "      --run-id ID       the training run\n"
    "      --description TEXT    free text\n"
    "Promote:\n"
    "      --version N       the version to promote (after promote,\n"
    "                        --version takes a number)\n"
    "      --to STAGE        staging or production\n"
    "      --force           promote despite a changed contract (the\n"
    "                        history says so)\n"
    "      --note TEXT       a note for the history\n"
    "Read:\n"
    "      --format FMT      ndjson (default) or table\n"
    "Runs and cards:\n"
    "      --experiment NAME the MLflow experiment (default asin-rank)\n"
    "      --dry-run         print the runs as they would be sent\n"
    "      --eval DIR        asin-rank eval's output (metrics.json,\n"
    "                        lift_curve.csv) for the card\n"
    "      --template FILE   the card template (default\n"
    "                        schemas/model-card.md.tmpl)\n"
    "  -o, --output FILE     write the card to FILE (atomically)\n"
    "\n"
    "The record options (--rejects ... --allow-duplicate-keys) apply to\n"
    "the runs index that log-runs reads; -v also notes each request.\n"
    "\n";

enum {
	OPT_LOCAL = OPT_COMMON_END,
	OPT_REGISTRY_FILE,
	OPT_TRACKING_URI,
	OPT_ALIAS_MAP,
	OPT_MLFLOW_STAGES,
	OPT_BY,
	OPT_NAME,
	OPT_ARTIFACT_URI,
	OPT_SIGNATURE,
	OPT_MODEL,
	OPT_METRIC,
	OPT_METRICS_FILE,
	OPT_DATA_SPAN,
	OPT_FEATURE_VERSION,
	OPT_RUN_ID,
	OPT_DESCRIPTION,
	OPT_VERSION_N,
	OPT_TO,
	OPT_FORCE,
	OPT_NOTE,
	OPT_FORMAT,
	OPT_EXPERIMENT,
	OPT_DRY_RUN,
	OPT_EVAL,
	OPT_TEMPLATE,
	OPT_OUTPUT
};

static const struct option longopts[] = {
	CLI_COMMON_LONGOPTS,
	{ "output", required_argument, NULL, 'o' },
	{ "local", no_argument, NULL, OPT_LOCAL },
	{ "registry-file", required_argument, NULL, OPT_REGISTRY_FILE },
	{ "tracking-uri", required_argument, NULL, OPT_TRACKING_URI },
	{ "alias-map", required_argument, NULL, OPT_ALIAS_MAP },
	{ "mlflow-stages", no_argument, NULL, OPT_MLFLOW_STAGES },
	{ "by", required_argument, NULL, OPT_BY },
	{ "name", required_argument, NULL, OPT_NAME },
	{ "artifact-uri", required_argument, NULL, OPT_ARTIFACT_URI },
	{ "signature", required_argument, NULL, OPT_SIGNATURE },
	{ "model", required_argument, NULL, OPT_MODEL },
	{ "metric", required_argument, NULL, OPT_METRIC },
	{ "metrics-file", required_argument, NULL, OPT_METRICS_FILE },
	{ "data-span", required_argument, NULL, OPT_DATA_SPAN },
	{ "feature-version", required_argument, NULL, OPT_FEATURE_VERSION },
	{ "run-id", required_argument, NULL, OPT_RUN_ID },
	{ "description", required_argument, NULL, OPT_DESCRIPTION },
	{ "model-version", required_argument, NULL, OPT_VERSION_N },
	{ "to", required_argument, NULL, OPT_TO },
	{ "force", no_argument, NULL, OPT_FORCE },
	{ "note", required_argument, NULL, OPT_NOTE },
	{ "format", required_argument, NULL, OPT_FORMAT },
	{ "experiment", required_argument, NULL, OPT_EXPERIMENT },
	{ "dry-run", no_argument, NULL, OPT_DRY_RUN },
	{ "eval", required_argument, NULL, OPT_EVAL },
	{ "template", required_argument, NULL, OPT_TEMPLATE },
	{ NULL, 0, NULL, 0 }
};

/* Everything the flags decide. */
struct opts {
	struct cli_common co;
	const char *cmd;
	int local;
	const char *registry_file;
	const char *tracking_uri;
	char *alias_prod;
	char *alias_stag;
	int stages;
	const char *by;
	const char *name;
	const char *artifact_uri;
	const char *signature;
	const char *model;
	char **metrics;		/* K=V as given */
	size_t nmetrics;
	const char *metrics_file;
	const char *data_span;
	const char *feature_version;
	const char *run_id;
	const char *description;
	long long version;
	const char *to;
	int force;
	const char *note;
	int table;
	const char *experiment;
	int dry_run;
	const char *eval;
	const char *template;
	const char *output;
	/* which flags were given, to refuse those a command does not take */
	unsigned long long given;
};

/* Flag bit of an option code; OPT_LOCAL.. map to bits 0.. */
#define GIVEN(o) (1ull << ((o) - OPT_COMMON_END))
#define STORE_FLAGS (GIVEN(OPT_LOCAL) | GIVEN(OPT_REGISTRY_FILE) | \
    GIVEN(OPT_TRACKING_URI) | GIVEN(OPT_ALIAS_MAP) | \
    GIVEN(OPT_MLFLOW_STAGES) | GIVEN(OPT_BY))

/* The flags each command takes beyond the store flags. */
static const struct {
	const char *cmd;
	unsigned long long flags;
	int operands;		/* -1 any, else exactly */
} commands[] = {
	{ "register", GIVEN(OPT_NAME) | GIVEN(OPT_ARTIFACT_URI) |
	    GIVEN(OPT_SIGNATURE) | GIVEN(OPT_MODEL) | GIVEN(OPT_METRIC) |
	    GIVEN(OPT_METRICS_FILE) | GIVEN(OPT_DATA_SPAN) |
	    GIVEN(OPT_FEATURE_VERSION) | GIVEN(OPT_RUN_ID) |
	    GIVEN(OPT_DESCRIPTION), 0 },
	{ "promote", GIVEN(OPT_NAME) | GIVEN(OPT_VERSION_N) | GIVEN(OPT_TO) |
	    GIVEN(OPT_FEATURE_VERSION) | GIVEN(OPT_FORCE) | GIVEN(OPT_NOTE),
	    0 },
	{ "list", GIVEN(OPT_NAME) | GIVEN(OPT_FORMAT), 0 },
	{ "show", GIVEN(OPT_FORMAT), 1 },
	{ "resolve", 0, 1 },
	{ "log-runs", GIVEN(OPT_EXPERIMENT) | GIVEN(OPT_DRY_RUN), -1 },
	{ "card", GIVEN(OPT_EVAL) | GIVEN(OPT_TEMPLATE) | GIVEN(OPT_OUTPUT),
	    1 },
};

/* The whole of a file (NUL-terminated), or die naming it. */
static char *
slurp(const char *path, size_t *len)
{
	struct buf b;
	char tmp[65536];
	ssize_t n;
	int fd;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0)
		die("%s: cannot open:", path);
	buf_init(&b);
	while ((n = read(fd, tmp, sizeof tmp)) != 0) {
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			die("%s: read error:", path);
		if (b.len + (size_t)n > MAX_FILE)
			die("%s: larger than %u bytes", path, MAX_FILE);
		buf_add(&b, tmp, (size_t)n);
	}
	close(fd);
	if (b.data == NULL)
		buf_adds(&b, "");
	if (len != NULL)
		*len = b.len;
	return b.data;
}

/* A JSON file as an owned jv, or die with a located message. */
static jv
json_file(const char *path)
{
	size_t len;
	char *text = slurp(path, &len), *err = NULL;
	jv v = json_parse(text, len, &err);

	free(text);
	if (!jv_is_valid(v))
		die("%s: %s", path, err);
	return v;
}

/* Write the jv (consumed) as one compact JSON line. */
static void
emit(struct out *out, jv v)
{
	jv s = jv_dump_string(v, 0);

	out_line(out, jv_string_value(s),
	    (size_t)jv_string_length_bytes(jv_copy(s)));
	jv_free(s);
}

/* A member of an object as a display string (fresh). */
static char *
cell(jv v, const char *k)
{
	jv x = reg_get(jv_copy(v), jv_string(k));
	char *r;

	switch (jv_get_kind(x)) {
	case JV_KIND_STRING:
		r = xstrdup(jv_string_value(x));
		break;
	case JV_KIND_NUMBER:
		r = xasprintf("%.17g", jv_number_value(x));
		break;
	case JV_KIND_ARRAY: {
		struct buf b;
		int i, n = jv_array_length(jv_copy(x));

		buf_init(&b);
		for (i = 0; i < n; i++) {
			jv e = jv_array_get(jv_copy(x), i);

			buf_printf(&b, "%s%s", i ? "," : "",
			    jv_get_kind(e) == JV_KIND_STRING ?
			    jv_string_value(e) : "?");
			jv_free(e);
		}
		r = xstrdup(b.data ? b.data : "-");
		if (n == 0) {
			free(r);
			r = xstrdup("-");
		}
		buf_free(&b);
		break;
	}
	case JV_KIND_OBJECT: {
		jv f = reg_get(jv_copy(x), jv_string("from"));
		jv t = reg_get(jv_copy(x), jv_string("to"));

		r = xasprintf("%s:%s", jv_get_kind(f) == JV_KIND_STRING ?
		    jv_string_value(f) : "?", jv_get_kind(t) ==
		    JV_KIND_STRING ? jv_string_value(t) : "?");
		jv_free(f);
		jv_free(t);
		break;
	}
	default:
		r = xstrdup("-");
	}
	jv_free(x);
	return r;
}

/* Versions (consumed array) as an aligned table for people. */
static void
table(struct out *out, jv vers)
{
	static const char *const keys[] = { "version", "status", "aliases",
	    "feature_version", "data_span", "created_at", "artifact_uri" };
	static const char *const heads[] = { "VERSION", "STATUS", "ALIASES",
	    "FEATURES", "DATA_SPAN", "CREATED", "ARTIFACT_URI" };
	enum { NCOL = 7 };
	size_t w[NCOL], i, c, l;
	int n = jv_array_length(jv_copy(vers)), r;
	char ***cells = xcalloc((size_t)n + 1, sizeof *cells);
	struct buf b;

	for (c = 0; c < NCOL; c++)
		w[c] = strlen(heads[c]);
	for (r = 0; r < n; r++) {
		jv v = jv_array_get(jv_copy(vers), r);

		cells[r] = xcalloc(NCOL, sizeof **cells);
		for (c = 0; c < NCOL; c++) {
			cells[r][c] = cell(v, keys[c]);
			if ((l = strlen(cells[r][c])) > w[c])
				w[c] = l;
		}
		jv_free(v);
	}
	buf_init(&b);
	for (c = 0; c < NCOL; c++)
		buf_printf(&b, "%-*s%s", c + 1 < NCOL ? (int)w[c] : 0,
		    heads[c], c + 1 < NCOL ? "  " : "");
	out_line(out, b.data, b.len);
	for (r = 0; r < n; r++) {
		b.len = 0;
		for (c = 0; c < NCOL; c++)
			buf_printf(&b, "%-*s%s", c + 1 < NCOL ? (int)w[c] :
			    0, cells[r][c], c + 1 < NCOL ? "  " : "");
		out_line(out, b.data, b.len);
		for (i = 0; i < NCOL; i++)
			free(cells[r][i]);
		free(cells[r]);
	}
	buf_free(&b);
	free(cells);
	jv_free(vers);
}

/* Open the store the flags and the environment name. */
static struct registry *
open_store(struct opts *o, struct mlflow_opts *mo)
{
	const char *uri = o->tracking_uri, *e;

	if (uri == NULL && !o->local)
		uri = getenv("MLFLOW_TRACKING_URI");
	if (o->local || uri == NULL || *uri == '\0')
		return reg_open_local(o->registry_file);
	if (strncmp(uri, "http://", 7) != 0 && strncmp(uri, "https://", 8) != 0)
		usage_error("tracking URI '%s': asin-registry talks to an "
		    "MLflow server over http(s); use --local for a file",
		    uri);
	memset(mo, 0, sizeof *mo);
	mo->rest.base = uri;
	mo->rest.user = getenv("MLFLOW_TRACKING_USERNAME");
	mo->rest.pass = getenv("MLFLOW_TRACKING_PASSWORD");
	mo->rest.token = getenv("MLFLOW_TRACKING_TOKEN");
	mo->rest.max_retries = 5;
	mo->rest.backoff = 2;
	mo->rest.max_wait = 60;
	mo->rest.timeout_ms = 120000;
	if ((e = getenv("MLFLOW_HTTP_REQUEST_MAX_RETRIES")) != NULL && *e)
		mo->rest.max_retries = (int)cli_int(
		    "MLFLOW_HTTP_REQUEST_MAX_RETRIES", e, 0, 100);
	if ((e = getenv("MLFLOW_HTTP_REQUEST_BACKOFF_FACTOR")) != NULL && *e)
		mo->rest.backoff = cli_double(
		    "MLFLOW_HTTP_REQUEST_BACKOFF_FACTOR", e, 0, 600);
	if ((e = getenv("MLFLOW_HTTP_REQUEST_TIMEOUT")) != NULL && *e)
		mo->rest.timeout_ms = 1000 * cli_int(
		    "MLFLOW_HTTP_REQUEST_TIMEOUT", e, 1, 86400);
	if ((e = getenv("MLFLOW_TRACKING_INSECURE_TLS")) != NULL &&
	    strcmp(e, "true") == 0)
		mo->rest.insecure = 1;
	mo->rest.ca_path = getenv("MLFLOW_TRACKING_SERVER_CERT_PATH");
	mo->rest.verbose = o->co.verbose;
	mo->alias_production = o->alias_prod ? o->alias_prod : "production";
	mo->alias_staging = o->alias_stag ? o->alias_stag : "staging";
	mo->stages = o->stages;
	return reg_open_mlflow(mo);
}

/* The MLflow alias a stage word maps to (local mode: the word). */
static const char *
stage_alias(const struct mlflow_opts *mo, const char *stage)
{
	if (mo->rest.base == NULL)
		return stage;
	if (strcmp(stage, "production") == 0)
		return mo->alias_production;
	if (strcmp(stage, "staging") == 0)
		return mo->alias_staging;
	return stage;
}

static void
need(const struct opts *o, const void *v, const char *flag)
{
	if (v == NULL)
		usage_error("%s needs %s", o->cmd, flag);
}

/* Add the metrics of a JSON object (borrowed) whose values are numbers. */
static jv
add_metrics(jv m, jv obj, const char *prefix, const char *src, int quiet)
{
	if (jv_get_kind(obj) != JV_KIND_OBJECT)
		return m;
	jv_object_foreach(obj, k, v) {
		if (jv_get_kind(v) == JV_KIND_NUMBER) {
			char *key = xasprintf("%s%s", prefix,
			    jv_string_value(k));

			m = jv_object_set(m, jv_string(key), v);
			free(key);
		} else {
			/* asin-rank writes null for a metric it could not
			 * compute (no relevant row, say): say it is left out */
			if (!quiet)
				warn("%s: metric \"%s\" is %s, not a "
				    "number: left out", src,
				    jv_string_value(k),
				    jv_kind_name(jv_get_kind(v)));
			jv_free(v);
		}
		jv_free(k);
	}
	return m;
}

static int
cmd_register(struct opts *o, struct registry *r, struct out *out)
{
	jv v, sig = jv_invalid(), metrics = jv_object(), span = jv_null();
	jv fv = jv_null(), model = jv_invalid(), s;
	char *err = NULL, key[17];
	int existed;
	size_t i;

	need(o, o->name, "--name");
	need(o, o->artifact_uri, "--artifact-uri");
	if (!reg_valid_name(o->name))
		usage_error("--name '%s': expected 1 to 200 of A-Z a-z 0-9 _ "
		    ". -", o->name);
	if (o->signature == NULL && o->model == NULL)
		usage_error("register needs --signature or --model");
	if (o->model != NULL) {
		jv t, f;

		model = json_file(o->model);
		t = reg_get(jv_copy(model), jv_string("format"));
		if (jv_get_kind(t) != JV_KIND_STRING ||
		    strcmp(jv_string_value(t), "asin-rank-model") != 0)
			die("%s: not an asin-rank model (no \"format\": "
			    "\"asin-rank-model\")", o->model);
		jv_free(t);
		if (o->signature == NULL) {
			sig = sig_from_rank(reg_get(jv_copy(model),
			    jv_string("signature")), &err);
			if (!jv_is_valid(sig))
				die("%s: %s", o->model, err);
		}
		t = reg_get(jv_copy(model), jv_string("metrics"));
		f = reg_get(jv_copy(t), jv_string("metric"));
		if (jv_get_kind(f) == JV_KIND_STRING) {
			const char *split[] = { "train", "valid" };

			for (i = 0; i < 2; i++) {
				jv x = reg_get(jv_copy(t),
				    jv_string(split[i]));

				if (jv_get_kind(x) == JV_KIND_NUMBER)
					metrics = jv_object_set(metrics,
					    jv_string_fmt("%s_%s", split[i],
					    jv_string_value(f)), x);
				else
					jv_free(x);
			}
		}
		jv_free(f);
		jv_free(t);
		t = reg_get(reg_get(jv_copy(model),
		    jv_string("training")), jv_string("span"));
		if (jv_get_kind(t) == JV_KIND_OBJECT) {
			jv fr = reg_get(jv_copy(t), jv_string("from"));
			jv to = reg_get(jv_copy(t), jv_string("to"));

			if (jv_get_kind(fr) == JV_KIND_STRING &&
			    jv_get_kind(to) == JV_KIND_STRING)
				span = jv_object_set(jv_object_set(
				    jv_object(), jv_string("from"), fr),
				    jv_string("to"), to);
			else {
				jv_free(fr);
				jv_free(to);
			}
		}
		jv_free(t);
		t = reg_get(reg_get(jv_copy(model),
		    jv_string("signature")), jv_string(
		    "feature_schema_version"));
		if (jv_get_kind(t) == JV_KIND_STRING)
			fv = t;
		else if (jv_get_kind(t) == JV_KIND_NUMBER) {
			char nb[40];

			fmt_double(nb, jv_number_value(t));
			fv = jv_string(nb);
			jv_free(t);
		} else
			jv_free(t);
	}
	if (o->signature != NULL) {
		sig = sig_check(json_file(o->signature), &err);
		if (!jv_is_valid(sig))
			die("%s: %s", o->signature, err);
	}
	if (o->metrics_file != NULL) {
		jv mf = json_file(o->metrics_file), mm;

		mm = reg_get(jv_copy(mf), jv_string("model"));
		if (jv_get_kind(mm) != JV_KIND_OBJECT) {
			jv_free(mm);
			mm = jv_copy(mf);
		}
		if (jv_get_kind(mm) != JV_KIND_OBJECT)
			die("%s: expected asin-rank eval's metrics.json or an "
			    "object of numbers", o->metrics_file);
		metrics = add_metrics(metrics, mm, "", o->metrics_file,
		    o->co.quiet);
		jv_free(mm);
		jv_free(mf);
	}
	for (i = 0; i < o->nmetrics; i++) {
		const char *eq = strchr(o->metrics[i], '=');
		double d;

		if (eq == NULL || eq == o->metrics[i] ||
		    !parse_double(eq + 1, strlen(eq + 1), &d))
			usage_error("--metric '%s': expected NAME=NUMBER",
			    o->metrics[i]);
		metrics = jv_object_set(metrics, jv_string_sized(o->metrics[i],
		    (int)(eq - o->metrics[i])), jv_number(d));
	}
	if (o->data_span != NULL) {
		const char *c = strchr(o->data_span, ':');

		if (c == NULL || c == o->data_span || c[1] == '\0' ||
		    strchr(c + 1, ':') != NULL ||
		    strncmp(o->data_span, c + 1, (size_t)(c - o->data_span)) >
		    0)
			usage_error("--data-span '%s': expected FROM:TO with "
			    "FROM <= TO", o->data_span);
		jv_free(span);
		span = jv_object_set(jv_object_set(jv_object(),
		    jv_string("from"), jv_string_sized(o->data_span,
		    (int)(c - o->data_span))), jv_string("to"),
		    jv_string(c + 1));
	}
	if (o->feature_version != NULL) {
		jv_free(fv);
		fv = jv_string(o->feature_version);
	}
	if (reg_is_local(r)) {
		const char *p = o->artifact_uri;

		if (strncmp(p, "file://", 7) == 0)
			p += 7;
		if (strstr(p, "://") == NULL && strchr(p, ':') == NULL &&
		    access(p, F_OK) != 0)
			die("--artifact-uri %s: no such file (register the "
			    "artifact after writing it)", o->artifact_uri);
	}
	v = jv_object();
	v = jv_object_set(v, jv_string("name"), jv_string(o->name));
	v = jv_object_set(v, jv_string("artifact_uri"),
	    jv_string(o->artifact_uri));
	v = jv_object_set(v, jv_string("metrics"), metrics);
	v = jv_object_set(v, jv_string("data_span"), span);
	v = jv_object_set(v, jv_string("feature_version"), fv);
	v = jv_object_set(v, jv_string("signature"), sig);
	v = jv_object_set(v, jv_string("run_id"), o->run_id ?
	    jv_string(o->run_id) : jv_null());
	v = jv_object_set(v, jv_string("description"), o->description ?
	    jv_string(o->description) : jv_null());
	s = jv_dump_string(jv_copy(v), JV_PRINT_SORTED);
	content_key(jv_string_value(s), (size_t)jv_string_length_bytes(
	    jv_copy(s)), key);
	jv_free(s);
	v = jv_object_set(v, jv_string("content_key"), jv_string(key));
	v = jv_object_set(v, jv_string("registered_by"),
	    jv_string(reg_who(o->by)));
	jv_free(model);
	v = r->be->create(r->state, v, &existed, &err);
	if (!jv_is_valid(v))
		die("%s", err);
	if (existed && !o->co.quiet) {
		jv n = reg_get(jv_copy(v), jv_string("version"));

		warn("%s: same content as version %g: not registered again",
		    o->name, jv_number_value(n));
		jv_free(n);
	}
	emit(out, v);
	return EXIT_OK;
}

static int
cmd_promote(struct opts *o, struct registry *r, struct mlflow_opts *mo,
    struct out *out)
{
	struct reg_promote p;
	char *err = NULL;
	jv ev;
	int rc;

	need(o, o->name, "--name");
	need(o, o->to, "--to");
	if (o->version <= 0)
		usage_error("promote needs --version N");
	if (strcmp(o->to, "production") != 0 && strcmp(o->to, "staging") != 0)
		usage_error("--to '%s': expected staging or production", o->to);
	memset(&p, 0, sizeof p);
	p.name = o->name;
	p.version = o->version;
	p.stage = stage_alias(mo, o->to);
	p.feature_version = o->feature_version;
	p.by = o->by;
	p.note = o->note;
	p.force = o->force;
	rc = reg_promote(r, &p, &ev, &err);
	if (rc != 0) {
		warn("%s", err);
		free(err);
		return EXIT_FAIL;
	}
	{
		jv f = reg_get(jv_copy(ev), jv_string("forced"));

		if (jv_get_kind(f) == JV_KIND_TRUE && !o->co.quiet) {
			jv c = reg_get(jv_copy(ev), jv_string("changes"));

			warn("%s: version %lld promoted to %s by --force: %s",
			    o->name, o->version, p.stage, jv_string_value(c));
			jv_free(c);
		}
		jv_free(f);
	}
	emit(out, ev);
	return EXIT_OK;
}

/* The version an operand NAME[@REF] names, or die. */
static jv
lookup(struct opts *o, struct registry *r, struct mlflow_opts *mo,
    const char *operand, char **namep)
{
	char *name, *ref, *err = NULL;
	jv v;

	if (reg_parse_ref(operand, &name, &ref) != 0)
		usage_error("'%s': expected NAME, NAME@VERSION or NAME@ALIAS",
		    operand);
	v = r->be->get(r->state, name, stage_alias(mo, ref), &err);
	if (!jv_is_valid(v))
		die("%s", err);
	if (jv_get_kind(v) == JV_KIND_NULL) {
		if (strspn(ref, "0123456789") == strlen(ref) ||
		    strcmp(ref, "latest") == 0)
			die("%s: no such version", operand);
		die("%s: no version holds %s", operand, ref);
	}
	free(ref);
	*namep = name;
	return v;
}

static int
cmd_list(struct opts *o, struct registry *r, struct out *out)
{
	char *err = NULL;
	jv vs;
	int i, n;

	need(o, o->name, "--name");
	if (!reg_valid_name(o->name))
		usage_error("--name '%s': expected 1 to 200 of A-Z a-z 0-9 _ "
		    ". -", o->name);
	vs = r->be->list(r->state, o->name, &err);
	if (!jv_is_valid(vs))
		die("%s", err);
	if (o->table) {
		table(out, vs);
		return EXIT_OK;
	}
	n = jv_array_length(jv_copy(vs));
	for (i = 0; i < n; i++)
		emit(out, jv_array_get(jv_copy(vs), i));
	jv_free(vs);
	return EXIT_OK;
}

/* Find the card template: flag, $ASIN_CARD_TEMPLATE, beside the binary. */
static char *
find_template(const struct opts *o)
{
	const char *rel[] = { "../../schemas", "../share/asin-tools/schemas" };
	const char *e = getenv("ASIN_CARD_TEMPLATE");
	char exe[PATH_MAX], *slash, *p;
	ssize_t n;
	size_t i;

	if (o->template != NULL)
		return xstrdup(o->template);
	if (e != NULL && *e != '\0')
		return xstrdup(e);
	n = readlink("/proc/self/exe", exe, sizeof exe - 1);
	if (n > 0) {
		exe[n] = '\0';
		if ((slash = strrchr(exe, '/')) != NULL)
			*slash = '\0';
		for (i = 0; i < 2; i++) {
			p = xasprintf("%s/%s/model-card.md.tmpl", exe, rel[i]);
			if (access(p, R_OK) == 0)
				return p;
			free(p);
		}
	}
	die("no card template: give --template FILE or set "
	    "ASIN_CARD_TEMPLATE");
}

static int
cmd_card(struct opts *o, struct registry *r, struct mlflow_opts *mo,
    struct out *out, const char *operand)
{
	char *name, *tpath = find_template(o), *tmpl, *lift = NULL;
	char *err = NULL, *card;
	jv v, hist, evalm = jv_null();

	tmpl = slurp(tpath, NULL);
	v = lookup(o, r, mo, operand, &name);
	hist = r->be->history(r->state, name, &err);
	if (!jv_is_valid(hist))
		die("%s", err);
	if (o->eval != NULL) {
		char *p = xasprintf("%s/metrics.json", o->eval);

		evalm = json_file(p);
		free(p);
		p = xasprintf("%s/lift_curve.csv", o->eval);
		if (access(p, F_OK) == 0)
			lift = slurp(p, NULL);
		free(p);
	}
	card = card_render(tmpl, v, hist, evalm, lift, &err);
	if (card == NULL)
		die("%s: %s", tpath, err);
	if (o->output != NULL) {
		if (write_atomic(o->output, card, strlen(card)) != 0)
			die("%s: cannot write:", o->output);
	} else
		out_write(out, card, strlen(card));
	free(card);
	free(lift);
	free(tmpl);
	free(tpath);
	free(name);
	return EXIT_OK;
}

/*
 * Push the runs index: each line is a record of asin-rank's runs log.  A
 * bad line is a reject (--rejects) like any tool's; an MLflow error stops
 * the run.  ac is initialised here; main finishes it after the output.
 */
static int
cmd_log_runs(struct opts *o, struct registry *r, struct out *out,
    struct acct *ac, char **files, int nfiles)
{
	char *defv[] = { (char *)DEFAULT_RUNS, NULL };
	const char *exp = o->experiment ? o->experiment : "asin-rank";
	struct nd_reader *rd;
	struct nd_line ln;
	struct record *rec;
	char *err = NULL;
	long long n = 0, logged = 0;

	if (!o->dry_run && reg_is_local(r))
		die("log-runs pushes to MLflow tracking: set "
		    "MLFLOW_TRACKING_URI or --tracking-uri (or --dry-run)");
	if (nfiles == 0) {
		files = defv;
		nfiles = 1;
	}
	acct_init(ac, &o->co);
	ac->sink = out;
	rd = nd_open(files, nfiles, o->co.max_line);
	rec = rec_new();
	while (nd_next(rd, &ln)) {
		const char *bad;
		jv b, res;
		int st;

		ac->in++;
		if (ln.error != NULL) {
			acct_reject(ac, ln.source, ln.lineno, ln.buf, ln.len,
			    ln.error);
			continue;
		}
		/* The record layer's rules first (asin(7)): libjq would take
		 * a duplicate key or 1e999 without a word. */
		if (!rec_parse(rec, &ln, &bad) ||
		    (bad = rec_nonfinite_any(rec)) != NULL) {
			acct_reject(ac, ln.source, ln.lineno, ln.buf, ln.len,
			    bad);
			continue;
		}
		b = runs_batch(ln.buf, ln.len, &err);
		if (!jv_is_valid(b)) {
			acct_reject(ac, ln.source, ln.lineno, ln.buf, ln.len,
			    err);
			free(err);
			err = NULL;
			continue;
		}
		ac->out++;
		n++;
		if (o->dry_run) {
			emit(out, b);
			continue;
		}
		st = mlflow_log_run(r, exp, b, &res, &err);
		if (st != 0) {
			/* An upstream error ends the run: let go of the
			 * reader (and the location it owns) first. */
			char *src = xstrdup(ln.source);
			long line = ln.lineno;

			nd_close(rd);
			rec_free(rec);
			die_at(src, line, "%s", err);
		}
		logged++;
		emit(out, res);
	}
	nd_close(rd);
	rec_free(rec);
	if (o->co.verbose)
		note("%lld runs read, %lld pushed to experiment %s", n, logged,
		    exp);
	return EXIT_OK;
}

/* 1 if the long option name takes an argument. */
static int
takes_arg(const char *name)
{
	size_t i;

	for (i = 0; longopts[i].name != NULL; i++)
		if (strcmp(longopts[i].name, name) == 0)
			return longopts[i].has_arg == required_argument;
	return 0;
}

/* Split production=A,staging=B into the alias names. */
static void
alias_map(struct opts *o, const char *arg)
{
	char **it = cli_split("--alias-map", arg, NULL), **p;

	for (p = it; *p != NULL; p++) {
		char *eq = strchr(*p, '=');
		char **dst = NULL;

		if (eq != NULL && strncmp(*p, "production=", 11) == 0)
			dst = &o->alias_prod;
		else if (eq != NULL && strncmp(*p, "staging=", 8) == 0)
			dst = &o->alias_stag;
		if (dst == NULL || eq[1] == '\0')
			usage_error("--alias-map '%s': expected "
			    "production=ALIAS,staging=ALIAS", arg);
		free(*dst);
		*dst = xstrdup(eq + 1);
	}
	strv_free(it);
}

int
main(int argc, char *argv[])
{
	struct opts o;
	struct mlflow_opts mo;
	struct registry *r;
	struct out *out;
	struct acct ac;
	size_t i, ci;
	int ch, rc = EXIT_OK, log_runs = 0;

	diag_init(argv[0]);
	memset(&o, 0, sizeof o);
	memset(&mo, 0, sizeof mo);
	cli_init(&o.co, usage_text);
	o.registry_file = DEFAULT_REGISTRY;
	/*
	 * The promote takes --version N, which is also the
	 * everywhere-else --version: after the promote command it is the
	 * version number.
	 */
	for (i = 1; i < (size_t)argc; i++) {
		if (strcmp(argv[i], "-o") == 0 || (strncmp(argv[i], "--", 2) ==
		    0 && strchr(argv[i], '=') == NULL && takes_arg(argv[i] + 2))) {
			i++;	/* the option's argument */
			continue;
		}
		if (argv[i][0] != '-') {
			if (strcmp(argv[i], "promote") != 0)
				break;
			for (ci = i + 1; ci < (size_t)argc; ci++) {
				if (strcmp(argv[ci], "--") == 0)
					break;
				if (strcmp(argv[ci], "--version") == 0 &&
				    ci + 1 < (size_t)argc)
					argv[ci] = (char *)"--model-version";
				else if (strncmp(argv[ci], "--version=", 10) ==
				    0)
					argv[ci] = xasprintf("--model-version=%s",
					    argv[ci] + 10);
			}
			break;
		}
	}
	while ((ch = cli_getopt(argc, argv, "hVqvo:", longopts)) != -1) {
		if (ch == 'o')
			ch = OPT_OUTPUT;
		if (ch >= OPT_COMMON_END)
			o.given |= GIVEN(ch);
		switch (ch) {
		case OPT_LOCAL: o.local = 1; break;
		case OPT_REGISTRY_FILE: o.registry_file = optarg; break;
		case OPT_TRACKING_URI: o.tracking_uri = optarg; break;
		case OPT_ALIAS_MAP: alias_map(&o, optarg); break;
		case OPT_MLFLOW_STAGES: o.stages = 1; break;
		case OPT_BY: o.by = optarg; break;
		case OPT_NAME: o.name = optarg; break;
		case OPT_ARTIFACT_URI: o.artifact_uri = optarg; break;
		case OPT_SIGNATURE: o.signature = optarg; break;
		case OPT_MODEL: o.model = optarg; break;
		case OPT_METRIC:
			o.metrics = xreallocarray(o.metrics, o.nmetrics + 1,
			    sizeof *o.metrics);
			o.metrics[o.nmetrics++] = optarg;
			break;
		case OPT_METRICS_FILE: o.metrics_file = optarg; break;
		case OPT_DATA_SPAN: o.data_span = optarg; break;
		case OPT_FEATURE_VERSION: o.feature_version = optarg; break;
		case OPT_RUN_ID: o.run_id = optarg; break;
		case OPT_DESCRIPTION: o.description = optarg; break;
		case OPT_VERSION_N:
			o.version = cli_int("--version", optarg, 1,
			    (1LL << 53));
			break;
		case OPT_TO: o.to = optarg; break;
		case OPT_FORCE: o.force = 1; break;
		case OPT_NOTE: o.note = optarg; break;
		case OPT_FORMAT:
			if (strcmp(optarg, "table") == 0)
				o.table = 1;
			else if (strcmp(optarg, "ndjson") != 0)
				usage_error("--format '%s': expected ndjson or "
				    "table", optarg);
			break;
		case OPT_EXPERIMENT: o.experiment = optarg; break;
		case OPT_DRY_RUN: o.dry_run = 1; break;
		case OPT_EVAL: o.eval = optarg; break;
		case OPT_TEMPLATE: o.template = optarg; break;
		case OPT_OUTPUT: o.output = optarg; break;
		case 'h':
			fputs(usage_text, stdout);
			fputs(cli_common_help, stdout);
			if (fflush(stdout) != 0 || ferror(stdout))
				die("<stdout>: write error:");
			exit(EXIT_OK);
		default:
			if (!cli_common_opt(&o.co, ch, optarg))
				usage_error("unhandled option");
		}
	}
	if (optind >= argc)
		usage_error("no command: expected register, promote, list, "
		    "show, resolve, log-runs or card");
	o.cmd = argv[optind++];
	for (ci = 0; ci < sizeof commands / sizeof commands[0]; ci++)
		if (strcmp(commands[ci].cmd, o.cmd) == 0)
			break;
	if (ci == sizeof commands / sizeof commands[0])
		usage_error("unknown command '%s': expected register, promote, "
		    "list, show, resolve, log-runs or card", o.cmd);
	for (i = 0; longopts[i].name != NULL; i++) {
		int c = longopts[i].val == 'o' ? OPT_OUTPUT : longopts[i].val;

		if (c < OPT_COMMON_END || !(o.given & GIVEN(c)) ||
		    (STORE_FLAGS & GIVEN(c)) || (commands[ci].flags &
		    GIVEN(c)))
			continue;
		usage_error("%s does not take --%s", o.cmd,
		    c == OPT_VERSION_N ? "version" : longopts[i].name);
	}
	if (commands[ci].operands >= 0 &&
	    argc - optind != commands[ci].operands)
		usage_error("%s takes %s", o.cmd, commands[ci].operands ?
		    "one NAME[@VERSION|@ALIAS] operand" : "no operands");
	r = open_store(&o, &mo);
	out = out_new(STDOUT_FILENO, "<stdout>");
	if (strcmp(o.cmd, "register") == 0)
		rc = cmd_register(&o, r, out);
	else if (strcmp(o.cmd, "promote") == 0)
		rc = cmd_promote(&o, r, &mo, out);
	else if (strcmp(o.cmd, "list") == 0)
		rc = cmd_list(&o, r, out);
	else if (strcmp(o.cmd, "show") == 0 || strcmp(o.cmd, "resolve") == 0) {
		char *name;
		jv v = lookup(&o, r, &mo, argv[optind], &name);

		if (o.cmd[0] == 'r') {
			jv u = reg_get(v, jv_string("artifact_uri"));

			if (jv_get_kind(u) != JV_KIND_STRING)
				die("%s: the version has no artifact URI",
				    argv[optind]);
			out_line(out, jv_string_value(u),
			    (size_t)jv_string_length_bytes(jv_copy(u)));
			jv_free(u);
		} else if (o.table)
			table(out, jv_array_append(jv_array(), v));
		else
			emit(out, v);
		free(name);
	} else if (strcmp(o.cmd, "log-runs") == 0) {
		rc = cmd_log_runs(&o, r, out, &ac, argv + optind,
		    argc - optind);
		log_runs = 1;
	} else
		rc = cmd_card(&o, r, &mo, out, argv[optind]);
	out_close(out);
	if (log_runs && rc == EXIT_OK)
		rc = acct_finish(&ac, NULL);
	reg_close(r);
	free(o.metrics);
	free(o.alias_prod);
	free(o.alias_stag);
	return rc;
}
