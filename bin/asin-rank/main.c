/*
 * asin-rank - learning to rank: trains LambdaMART (LightGBM's lambdarank
 * gradient on histogram gradient boosted trees) on labelled feature rows,
 * scores candidates with the model, evaluates rankings (ndcg@k, MAP,
 * recall@k and their lift over a baseline), explains and exports models.
 * main() parses the one option table and hands over to a subcommand.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "rank.h"

static const char usage_text[] =
    "usage: asin-rank train --label FIELD --group FIELDS\n"
    "                 (--features LIST | --features-from SCHEMA) -o MODEL\n"
    "                 [options] [file ...]\n"
    "       asin-rank score --model MODEL [--group FIELDS] [file ...]\n"
    "       asin-rank eval --label FIELD --score FIELD --group FIELDS\n"
    "                 [--baseline-score-column FIELD] [--k LIST]\n"
    "                 --output-dir DIR [file ...]\n"
    "       asin-rank explain --model MODEL\n"
    "       asin-rank export --model MODEL --format xgboost [-o FILE]\n"
    "       asin-rank export --format libsvm --label FIELD --group FIELDS\n"
    "                 --features LIST -o FILE [file ...]\n"
    "Train, apply and evaluate ranking models on NDJSON feature rows.\n"
    "\n"
    "Data:\n"
    "      --label FIELD     relevance label: an integer from 0\n"
    "      --group FIELDS    query (group) key; -k/--key is the same\n"
    "  -k, --key FIELDS      the same as --group\n"
    "      --features LIST   feature fields, comma separated\n"
    "      --features-from SCHEMA  the features of a JSON Schema\n"
    "      --libsvm          input is libsvm (label [qid:Q] i:v ...)\n"
    "      --query FILE      libsvm group sizes (default FILE.query)\n"
    "      --absent-as-missing  an absent feature is a missing value\n"
    "                        (default: an error; null is missing)\n"
    "      --date-field FIELD  data span field (default date)\n"
    "Training:\n"
    "  -o, --output FILE     the model (train), the export (export)\n"
    "      --objective O     lambdarank (default), pairwise, regression\n"
    "      --trees N         boosting rounds (default 100)\n"
    "      --lr X            learning rate (default 0.1)\n"
    "      --leaves N        leaves per tree (default 31)\n"
    "      --max-depth N     depth limit (default 0: none)\n"
    "      --min-leaf N      rows per leaf (default 20)\n"
    "      --min-hess X      hessian sum per leaf (default 0.001)\n"
    "      --l2 X            L2 regularisation of leaves (default 0)\n"
    "      --bins N          histogram bins per feature, 2..255\n"
    "                        (default 255)\n"
    "      --feature-fraction F  features tried per tree (default 1)\n"
    "      --bagging-fraction F  groups used per tree (default 1)\n"
    "      --seed N          seed of the sampling (default 0)\n"
    "      --truncation N    lambdarank top-T pairs (default 30)\n"
    "      --sigma X         sigmoid slope (default 1)\n"
    "      --label-gain G    exp2 (default), linear or a list\n"
    "      --valid FILE      validation rows\n"
    "      --valid-frac F    hold out this fraction of the groups\n"
    "      --early-stop N    stop after N rounds without a better\n"
    "                        validation metric\n"
    "      --early-stop-metric M  ndcg@K (default ndcg@10)\n"
    "      --runs FILE       runs index (default runs/index.ndjson)\n"
    "      --no-runs         do not append to the runs index\n"
    "Scoring and evaluation:\n"
    "      --model FILE      the model file (-m is the same)\n"
    "      --score FIELD     the score to evaluate\n"
    "      --baseline-score-column FIELD  the score to compare with\n"
    "      --k LIST          cut-offs (default 1,3,5,10)\n"
    "      --ties RULE       input (default: ties in input order) or\n"
    "                        average (tied rows share their gain)\n"
    "      --rel-min N       relevant means label >= N (default 1)\n"
    "      --output-dir DIR  where eval writes its files\n"
    "      --format F        export format: xgboost or libsvm\n"
    "\n";

enum {
	OPT_LABEL = OPT_COMMON_END,
	OPT_GROUP,
	OPT_FEATURES,
	OPT_FEATURES_FROM,
	OPT_LIBSVM,
	OPT_QUERY,
	OPT_ABSENT,
	OPT_DATE_FIELD,
	OPT_OBJECTIVE,
	OPT_TREES,
	OPT_LR,
	OPT_LEAVES,
	OPT_MAX_DEPTH,
	OPT_MIN_LEAF,
	OPT_MIN_HESS,
	OPT_L2,
	OPT_BINS,
	OPT_FEATURE_FRACTION,
	OPT_BAGGING_FRACTION,
	OPT_SEED,
	OPT_TRUNCATION,
	OPT_SIGMA,
	OPT_LABEL_GAIN,
	OPT_VALID,
	OPT_VALID_FRAC,
	OPT_EARLY_STOP,
	OPT_EARLY_METRIC,
	OPT_RUNS,
	OPT_NO_RUNS,
	OPT_MODEL,
	OPT_SCORE,
	OPT_BASELINE,
	OPT_K,
	OPT_TIES,
	OPT_REL_MIN,
	OPT_OUTPUT_DIR,
	OPT_FORMAT
};

static const struct option longopts[] = {
	CLI_COMMON_LONGOPTS,
	{ "label", required_argument, NULL, OPT_LABEL },
	{ "group", required_argument, NULL, OPT_GROUP },
	{ "key", required_argument, NULL, 'k' },
	{ "features", required_argument, NULL, OPT_FEATURES },
	{ "features-from", required_argument, NULL, OPT_FEATURES_FROM },
	{ "libsvm", no_argument, NULL, OPT_LIBSVM },
	{ "query", required_argument, NULL, OPT_QUERY },
	{ "absent-as-missing", no_argument, NULL, OPT_ABSENT },
	{ "date-field", required_argument, NULL, OPT_DATE_FIELD },
	{ "output", required_argument, NULL, 'o' },
	{ "objective", required_argument, NULL, OPT_OBJECTIVE },
	{ "trees", required_argument, NULL, OPT_TREES },
	{ "lr", required_argument, NULL, OPT_LR },
	{ "leaves", required_argument, NULL, OPT_LEAVES },
	{ "max-depth", required_argument, NULL, OPT_MAX_DEPTH },
	{ "min-leaf", required_argument, NULL, OPT_MIN_LEAF },
	{ "min-hess", required_argument, NULL, OPT_MIN_HESS },
	{ "l2", required_argument, NULL, OPT_L2 },
	{ "bins", required_argument, NULL, OPT_BINS },
	{ "feature-fraction", required_argument, NULL, OPT_FEATURE_FRACTION },
	{ "bagging-fraction", required_argument, NULL, OPT_BAGGING_FRACTION },
	{ "seed", required_argument, NULL, OPT_SEED },
	{ "truncation", required_argument, NULL, OPT_TRUNCATION },
	{ "sigma", required_argument, NULL, OPT_SIGMA },
	{ "label-gain", required_argument, NULL, OPT_LABEL_GAIN },
	{ "valid", required_argument, NULL, OPT_VALID },
	{ "valid-frac", required_argument, NULL, OPT_VALID_FRAC },
	{ "early-stop", required_argument, NULL, OPT_EARLY_STOP },
	{ "early-stop-metric", required_argument, NULL, OPT_EARLY_METRIC },
	{ "runs", required_argument, NULL, OPT_RUNS },
	{ "no-runs", no_argument, NULL, OPT_NO_RUNS },
	{ "model", required_argument, NULL, OPT_MODEL },
	{ "score", required_argument, NULL, OPT_SCORE },
	{ "baseline-score-column", required_argument, NULL, OPT_BASELINE },
	{ "k", required_argument, NULL, OPT_K },
	{ "ties", required_argument, NULL, OPT_TIES },
	{ "rel-min", required_argument, NULL, OPT_REL_MIN },
	{ "output-dir", required_argument, NULL, OPT_OUTPUT_DIR },
	{ "format", required_argument, NULL, OPT_FORMAT },
	{ NULL, 0, NULL, 0 }
};

void
jnum(struct buf *b, double v)
{
	char tmp[40];

	if (!isfinite(v)) {
		buf_adds(b, "null");
		return;
	}
	buf_add(b, tmp, fmt_double(tmp, v));
}

void
save_file(const char *path, const struct buf *b)
{
	if (write_atomic(path, b->data, b->len) != 0)
		die("%s: cannot write:", path);
}

double *
gain_parse(const char *spec, size_t *n)
{
	double *g;
	size_t i;

	if (strcmp(spec, "exp2") == 0) {
		g = xmalloc(31 * sizeof(double));
		for (i = 0; i < 31; i++)
			g[i] = (double)((1UL << i) - 1);
		*n = 31;
		return g;
	}
	if (strcmp(spec, "linear") == 0) {
		/* Label L gains L: grades beyond 30 are fine. */
		g = xmalloc(1001 * sizeof(double));
		for (i = 0; i <= 1000; i++)
			g[i] = (double)i;
		*n = 1001;
		return g;
	}
	{
		char **it = cli_split("--label-gain", spec, n);

		g = xmalloc(*n * sizeof(double));
		for (i = 0; i < *n; i++) {
			if (!parse_double(it[i], strlen(it[i]), &g[i]) ||
			    g[i] < 0)
				usage_error("option --label-gain: expected "
				    "exp2, linear or a list of non-negative "
				    "numbers, got '%s'", it[i]);
			if (i > 0 && g[i] < g[i - 1])
				usage_error("option --label-gain: gains must "
				    "not decrease with the label");
		}
		strv_free(it);
	}
	return g;
}

void
runs_now(char *dst, size_t n)
{
	time_t t = time(NULL);
	struct tm tm;

	gmtime_r(&t, &tm);
	strftime(dst, n, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

void
runs_append(const struct ropts *o, const char *line)
{
	const char *path = o->runs != NULL ? o->runs : "runs/index.ndjson";
	size_t len = strlen(line);
	char *dir, *slash;
	int fd;

	if (o->no_runs)
		return;
	if (o->runs == NULL && mkdir("runs", 0777) != 0 && errno != EEXIST)
		die("runs: cannot create:");
	dir = xstrdup(path);
	if ((slash = strrchr(dir, '/')) != NULL && slash != dir) {
		*slash = '\0';
		if (mkdir(dir, 0777) != 0 && errno != EEXIST)
			die("%s: cannot create:", dir);
	}
	free(dir);
	/* One write of one line with O_APPEND: concurrent runs each add a
	 * whole line. */
	if ((fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC,
	    0666)) < 0)
		die("%s: cannot open:", path);
	if (write(fd, line, len) != (ssize_t)len || close(fd) != 0)
		die("%s: write error:", path);
}

static void
given(struct ropts *o, const char *name)
{
	if (o->nopt < 64)
		o->given[o->nopt++] = name;
}

/* Options that mean nothing to cmd are a usage error, not ignored. */
static void
check_applies(const struct ropts *o)
{
	static const struct {
		const char *cmd;
		const char *opts;
	} ok[] = {
		{ "train", " label group key features features-from libsvm "
		    "query absent-as-missing date-field output objective trees "
		    "lr leaves max-depth min-leaf min-hess l2 bins "
		    "feature-fraction bagging-fraction seed truncation sigma "
		    "label-gain valid valid-frac early-stop early-stop-metric "
		    "runs no-runs " },
		{ "score", " model group key libsvm absent-as-missing query " },
		{ "eval", " label group key score baseline-score-column k ties "
		    "rel-min output-dir label-gain runs no-runs " },
		{ "explain", " model " },
		{ "export", " model format output label group key features "
		    "features-from absent-as-missing label-gain " },
	};
	size_t i;
	int j;
	char pat[64];

	for (i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
		if (strcmp(ok[i].cmd, o->cmd) != 0)
			continue;
		for (j = 0; j < o->nopt; j++) {
			snprintf(pat, sizeof(pat), " %s ", o->given[j]);
			if (strstr(ok[i].opts, pat) == NULL)
				usage_error("option --%s does not apply to "
				    "'asin-rank %s'", o->given[j], o->cmd);
		}
	}
}

int
main(int argc, char *argv[])
{
	struct ropts o;
	int ch, idx;
	const char *cmd;

	diag_init(argv[0]);
	memset(&o, 0, sizeof(o));
	cli_init(&o.co, usage_text);
	o.objective = LR_LAMBDARANK;
	o.trees = 100;
	o.lr = 0.1;
	o.leaves = 31;
	o.min_leaf = 20;
	o.min_hess = 1e-3;
	o.bins = 255;
	o.feature_fraction = 1;
	o.bagging_fraction = 1;
	o.trunc = 30;
	o.sigma = 1;
	o.rel_min = 1;
	o.label_gain = "exp2";
	o.early_metric = "ndcg@10";
	o.date_field = "date";
	/* The subcommand comes first; a flag first (--help) is main's. */
	cmd = argc > 1 && argv[1][0] != '-' ? argv[1] : NULL;
	if (cmd != NULL) {
		argv[1] = argv[0];
		argv++;
		argc--;
	}
	while ((ch = cli_getopt_index(argc, argv, "hVqvk:o:m:", longopts,
	    &idx)) != -1) {
		if (cli_common_opt(&o.co, ch, optarg))
			continue;
		if (ch == 'k')
			given(&o, "key");
		else if (ch == 'o')
			given(&o, "output");
		else if (ch == 'm')
			given(&o, "model");
		else
			given(&o, longopts[idx].name);
		switch (ch) {
		case OPT_LABEL: o.label = optarg; break;
		case 'k':
		case OPT_GROUP: o.group = optarg; break;
		case OPT_FEATURES: o.features = optarg; break;
		case OPT_FEATURES_FROM: o.features_from = optarg; break;
		case OPT_LIBSVM: o.libsvm = 1; break;
		case OPT_QUERY: o.query = optarg; break;
		case OPT_ABSENT: o.absent_missing = 1; break;
		case OPT_DATE_FIELD: o.date_field = optarg; break;
		case 'o': o.output = optarg; break;
		case OPT_OBJECTIVE:
			if (strcmp(optarg, "lambdarank") == 0)
				o.objective = LR_LAMBDARANK;
			else if (strcmp(optarg, "pairwise") == 0)
				o.objective = LR_PAIRWISE;
			else if (strcmp(optarg, "regression") == 0)
				o.objective = LR_REGRESSION;
			else
				usage_error("option --objective: expected "
				    "lambdarank, pairwise or regression, got "
				    "'%s'", optarg);
			break;
		case OPT_TREES:
			o.trees = cli_int("--trees", optarg, 1, 100000);
			break;
		case OPT_LR:
			o.lr = cli_double("--lr", optarg, 1e-9, 100);
			break;
		case OPT_LEAVES:
			o.leaves = cli_int("--leaves", optarg, 2, 65536);
			break;
		case OPT_MAX_DEPTH:
			o.max_depth = cli_int("--max-depth", optarg, 0, 64);
			break;
		case OPT_MIN_LEAF:
			o.min_leaf = cli_int("--min-leaf", optarg, 1,
			    1000000000);
			break;
		case OPT_MIN_HESS:
			o.min_hess = cli_double("--min-hess", optarg, 0, 1e300);
			break;
		case OPT_L2:
			o.l2 = cli_double("--l2", optarg, 0, 1e300);
			break;
		case OPT_BINS:
			o.bins = cli_int("--bins", optarg, 2, 255);
			break;
		case OPT_FEATURE_FRACTION:
			o.feature_fraction = cli_double("--feature-fraction",
			    optarg, 1e-9, 1);
			break;
		case OPT_BAGGING_FRACTION:
			o.bagging_fraction = cli_double("--bagging-fraction",
			    optarg, 1e-9, 1);
			break;
		case OPT_SEED:
			o.seed = (unsigned long long)cli_int("--seed", optarg,
			    0, 9007199254740992LL);
			o.seed_set = 1;
			break;
		case OPT_TRUNCATION:
			o.trunc = cli_int("--truncation", optarg, 1, 1000000);
			break;
		case OPT_SIGMA:
			o.sigma = cli_double("--sigma", optarg, 1e-6, 1e6);
			break;
		case OPT_LABEL_GAIN: o.label_gain = optarg; break;
		case OPT_VALID: o.valid = optarg; break;
		case OPT_VALID_FRAC:
			o.valid_frac = cli_double("--valid-frac", optarg, 1e-9,
			    0.9);
			break;
		case OPT_EARLY_STOP:
			o.patience = cli_int("--early-stop", optarg, 1, 100000);
			break;
		case OPT_EARLY_METRIC: o.early_metric = optarg; break;
		case OPT_RUNS: o.runs = optarg; break;
		case OPT_NO_RUNS: o.no_runs = 1; break;
		case 'm':
		case OPT_MODEL: o.model = optarg; break;
		case OPT_SCORE: o.score = optarg; break;
		case OPT_BASELINE: o.baseline = optarg; break;
		case OPT_K: o.ks = optarg; break;
		case OPT_TIES:
			if (strcmp(optarg, "average") == 0)
				o.ties_average = 1;
			else if (strcmp(optarg, "input") != 0)
				usage_error("option --ties: expected input or "
				    "average, got '%s'", optarg);
			break;
		case OPT_REL_MIN:
			o.rel_min = cli_int("--rel-min", optarg, 1, 1000000);
			break;
		case OPT_OUTPUT_DIR: o.output_dir = optarg; break;
		case OPT_FORMAT:
			if (strcmp(optarg, "xgboost") != 0 &&
			    strcmp(optarg, "libsvm") != 0)
				usage_error("option --format: expected xgboost "
				    "or libsvm, got '%s'", optarg);
			o.format = optarg;
			break;
		default:
			usage_error("unknown option");
		}
	}
	if (cmd == NULL)
		usage_error("expected a command: train, score, eval, explain "
		    "or export");
	o.cmd = cmd;
	if (strcmp(cmd, "train") == 0 || strcmp(cmd, "score") == 0 ||
	    strcmp(cmd, "eval") == 0 || strcmp(cmd, "explain") == 0 ||
	    strcmp(cmd, "export") == 0)
		check_applies(&o);
	argv += optind;
	argc -= optind;
	if (strcmp(cmd, "train") == 0)
		return cmd_train(&o, argv, argc);
	if (strcmp(cmd, "score") == 0)
		return cmd_score(&o, argv, argc);
	if (strcmp(cmd, "eval") == 0)
		return cmd_eval(&o, argv, argc);
	if (strcmp(cmd, "explain") == 0)
		return cmd_explain(&o, argv, argc);
	if (strcmp(cmd, "export") == 0)
		return cmd_export(&o, argv, argc);
	usage_error("unknown command '%s': expected train, score, eval, "
	    "explain or export", cmd);
}
