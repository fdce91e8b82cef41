/*
 * asin-uplift - offline A/B evaluation.  Reads variant-level aggregates
 * or per-ASIN rows (--unit asin), sums them exactly per variant (and
 * segment), and writes one record per variant and metric against the
 * control plus one sample-ratio record, as NDJSON, a table or markdown.
 */
#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "asin.h"
#include "uplift.h"

static const char usage_text[] =
    "usage: asin-uplift [-hqVv] [-c NAME] [-u variant|asin] [--by FIELD]\n"
    "           [--alpha A] [--power P] [-w W1,W2,...] [--srm-threshold P]\n"
    "           [--correction none|holm|bh] [--t-test] [--roas-n-field F]\n"
    "           [--format ndjson|table|markdown] [--partial | --merge]\n"
    "           [--rejects FILE] [--max-rejects N]"
    " [--stats FILE] [--max-line SIZE]\n"
    "           [--keyed K] [FILE ...]\n"
    "Evaluate an A/B test: every variant against the control on ctr, cr,\n"
    "gmv_per_impression and roas, with a sample-ratio check first.\n"
    "\n"
    "  -c, --control NAME      the control variant (default control)\n"
    "  -u, --unit KIND         variant: rows are variant aggregates "
    "(default);\n"
    "                          asin: one row per ASIN, the randomisation "
    "unit\n"
    "      --by FIELD          evaluate each value of FIELD as a segment\n"
    "      --alpha A           two-sided level, CI 1-A (default 0.05)\n"
    "      --power P           power of the minimum detectable effect "
    "(0.8)\n"
    "  -w, --weights LIST      expected traffic shares in variant name "
    "order\n"
    "      --srm-threshold P   flag a sample-ratio mismatch below P "
    "(0.001)\n"
    "      --correction KIND   none, holm or bh over all p-values "
    "(none)\n"
    "      --t-test            Welch t with Satterthwaite dof, not the "
    "normal\n"
    "      --roas-n-field F    count field that is n for roas/roas_sq "
    "(units)\n"
    "      --format KIND       ndjson (default), table or markdown\n"
    "      --partial           write this shard's exact sums, not the tests\n"
    "      --merge             read --partial outputs, add them, evaluate\n"
    "\n";

enum {
	OPT_POWER = OPT_COMMON_END,
	OPT_SRM,
	OPT_CORRECTION,
	OPT_T_TEST,
	OPT_ROAS_N,
	OPT_PARTIAL,
	OPT_MERGE
};

/*
 * --by, --alpha and --format have no short form: -b, -a and -f mean
 * --base-url, --all-errors and --features in the other tools.
 */
static const struct option longopts[] = {
	CLI_COMMON_LONGOPTS,
	{ "control", required_argument, NULL, 'c' },
	{ "unit", required_argument, NULL, 'u' },
	{ "by", required_argument, NULL, 'b' },
	{ "alpha", required_argument, NULL, 'a' },
	{ "power", required_argument, NULL, OPT_POWER },
	{ "weights", required_argument, NULL, 'w' },
	{ "srm-threshold", required_argument, NULL, OPT_SRM },
	{ "correction", required_argument, NULL, OPT_CORRECTION },
	{ "t-test", no_argument, NULL, OPT_T_TEST },
	{ "roas-n-field", required_argument, NULL, OPT_ROAS_N },
	{ "format", required_argument, NULL, 'f' },
	{ "partial", no_argument, NULL, OPT_PARTIAL },
	{ "merge", no_argument, NULL, OPT_MERGE },
	{ NULL, 0, NULL, 0 }
};

enum format { FMT_NDJSON, FMT_TABLE, FMT_MARKDOWN };

/* Options main() sets before the first record. */
struct opts {
	struct up_opts up;
	int unit_asin;
	const char *by;
	enum format format;
	int partial;		/* --partial: write the sums */
	int merge;		/* --merge: read partial sums */
};

/* The compiled field handles of one run. */
struct fields {
	struct rec_field *variant;
	struct rec_field *in_experiment;
	struct rec_field *by;
	struct rec_field *f[UF_NFIELDS];
	/* --merge: the members of a partial record */
	struct rec_field *p_record, *p_unit, *p_by, *p_segment;
	struct rec_field *p_sum[UF_NFIELDS];
};

static const char *label(struct record *, const struct rec_field *, int,
    struct buf *);
static const char *take(struct record *, const struct fields *,
    const struct opts *, struct up_table *, struct buf *, struct buf *,
    struct buf *, int *);
static void add_num(struct buf *, double);
static void set_pair(struct out *, const char *, const double *,
    struct buf *);
static void set_str_or_null(struct out *, const char *, const char *);
static void write_srm(struct out *, const struct up_srm *,
    const struct opts *, struct buf *);
static void write_metric(struct out *, const struct up_metric *,
    const struct opts *, struct buf *);
static const char *g6(char *, size_t, double);
static const char *pct(char *, size_t, double);
static const char *decision(const struct up_metric *);
static void write_table(struct out *, const struct up_run *,
    const struct opts *, struct buf *);
static void write_markdown(struct out *, const struct up_run *,
    const struct opts *, struct buf *);
static void parse_weights(struct opts *, const char *, double **);
static enum up_field field_by_name(const char *, const char *);
static int run(struct nd_reader *, const struct opts *,
    const struct cli_common *);
static void write_partial(struct out *, const struct up_table *,
    const struct opts *, struct buf *, size_t *);
static const char *take_partial(struct record *, const struct fields *,
    const struct opts *, struct up_table *, struct buf *, struct buf *,
    struct buf *);

/*
 * A label value (variant or segment) into key: strings as their bytes
 * (seg: as canonical JSON text, so output can copy it), numbers as their
 * JSON text.  Returns NULL or an error message.
 */
static const char *
label(struct record *rec, const struct rec_field *f, int as_json,
    struct buf *key)
{
	const char *s;
	size_t n;

	key->len = 0;
	switch (rec_kind(rec, f)) {
	case REC_STRING:
		rec_str(rec, f, &s, &n);
		if (as_json)
			buf_add_jstr(key, s, n);
		else if (memchr(s, '\0', n) != NULL)
			return "contains a NUL character";
		else
			buf_add(key, s, n);
		return NULL;
	case REC_NUMBER:
		rec_json(rec, f, &s, &n);
		buf_add(key, s, n);
		return NULL;
	default:
		return rec_errmsg(rec, f, REC_STRING);
	}
}

/*
 * Read one record into the table; NULL or the reason to reject it.
 * *skipped is set for a row asin-split marked "in_experiment": false.
 */
static const char *
take(struct record *rec, const struct fields *fl, const struct opts *op,
    struct up_table *tb, struct buf *var, struct buf *seg, struct buf *msg,
    int *skipped)
{
	static const enum up_field unit_fields[] = { UF_IMPRESSIONS,
	    UF_CLICKS, UF_CONVERSIONS, UF_GMV, UF_SPEND };
	double v[UF_NFIELDS] = { 0 };
	unsigned mask = 0;
	const char *e;
	size_t i;
	int f, in;

	*skipped = 0;
	if (rec_bool(rec, fl->in_experiment, &in) == REC_OK && !in) {
		*skipped = 1;
		return NULL;
	}
	if ((e = label(rec, fl->variant, 0, var)) != NULL) {
		if (strncmp(e, "field", 5) == 0)
			return e;
		msg->len = 0;
		buf_printf(msg, "field \"variant\": %s", e);
		return msg->data;
	}
	seg->len = 0;
	if (fl->by != NULL && (e = label(rec, fl->by, 1, seg)) != NULL)
		return e;
	for (f = 0; f < UF_NFIELDS; f++) {
		int need = 0;

		if (op->unit_asin) {
			for (i = 0; i < 5; i++)
				need |= unit_fields[i] == (enum up_field)f;
			if (!need)
				continue;
		}
		switch (rec_num(rec, fl->f[f], &v[f])) {
		case REC_OK:
			break;
		case REC_ABSENT:
		case REC_ISNULL:
			if (need)
				return rec_errmsg(rec, fl->f[f], REC_NUMBER);
			continue;
		default:
			return rec_errmsg(rec, fl->f[f], REC_NUMBER);
		}
		if (!isfinite(v[f])) {
			msg->len = 0;
			buf_printf(msg, "field \"%s\": not a finite number",
			    up_field_name[f]);
			return msg->data;
		}
		/* squares and products of it must stay finite */
		if (v[f] > 1e150) {
			msg->len = 0;
			buf_printf(msg, "field \"%s\": value %g above 1e150",
			    up_field_name[f], v[f]);
			return msg->data;
		}
		if (v[f] < 0) {
			msg->len = 0;
			buf_printf(msg, "field \"%s\": negative value %g",
			    up_field_name[f], v[f]);
			return msg->data;
		}
		mask |= 1u << f;
	}
	if (op->unit_asin)
		up_add_unit(tb, seg->data ? seg->data : "", seg->len,
		    var->data, var->len, v[UF_IMPRESSIONS], v[UF_CLICKS],
		    v[UF_CONVERSIONS], v[UF_GMV], v[UF_SPEND]);
	else
		up_add_row(tb, seg->data ? seg->data : "", seg->len,
		    var->data, var->len, v, mask);
	return NULL;
}

static void
add_num(struct buf *b, double v)
{
	char tmp[40];

	if (!isfinite(v)) {
		buf_adds(b, "null");
		return;
	}
	buf_add(b, tmp, fmt_double(tmp, v));
}

static void
set_pair(struct out *o, const char *key, const double *v, struct buf *b)
{
	if (isnan(v[0]) || isnan(v[1])) {
		out_set_null(o, key);
		return;
	}
	b->len = 0;
	buf_addc(b, '[');
	add_num(b, v[0]);
	buf_addc(b, ',');
	add_num(b, v[1]);
	buf_addc(b, ']');
	out_set_json(o, key, b->data, b->len);
}

static void
set_str_or_null(struct out *o, const char *key, const char *s)
{
	if (s == NULL)
		out_set_null(o, key);
	else
		out_set_str(o, key, s, strlen(s));
}

static void
write_srm(struct out *o, const struct up_srm *s, const struct opts *op,
    struct buf *b)
{
	size_t i;

	out_begin_empty(o);
	out_set_str(o, "record", "srm", 3);
	if (op->by != NULL) {
		out_set_str(o, "by", op->by, strlen(op->by));
		out_set_json(o, "segment", s->segment, strlen(s->segment));
	}
	out_set_str(o, "field", s->field, strlen(s->field));
	b->len = 0;
	buf_addc(b, '[');
	for (i = 0; i < s->k; i++) {
		if (i)
			buf_addc(b, ',');
		buf_add_jstr(b, s->variants[i], strlen(s->variants[i]));
	}
	buf_addc(b, ']');
	out_set_json(o, "variants", b->data, b->len);
	b->len = 0;
	buf_addc(b, '[');
	for (i = 0; i < s->k; i++) {
		if (i)
			buf_addc(b, ',');
		add_num(b, s->counts[i]);
	}
	buf_addc(b, ']');
	out_set_json(o, "counts", b->data, b->len);
	b->len = 0;
	buf_addc(b, '[');
	for (i = 0; i < s->k; i++) {
		if (i)
			buf_addc(b, ',');
		add_num(b, s->weights[i]);
	}
	buf_addc(b, ']');
	out_set_json(o, "weights", b->data, b->len);
	out_set_num(o, "chi2", s->chi2);
	out_set_int(o, "df", (long long)s->k - 1);
	out_set_num(o, "p_value", s->p_value);
	out_set_num(o, "threshold", op->up.srm_threshold);
	out_set_bool(o, "srm_detected", s->detected);
	set_str_or_null(o, "note", s->note);
	out_end(o);
}

static void
write_metric(struct out *o, const struct up_metric *m, const struct opts *op,
    struct buf *b)
{
	static const char *const corr[] = { "none", "holm", "bh" };

	out_begin_empty(o);
	out_set_str(o, "record", "metric", 6);
	if (op->by != NULL) {
		out_set_str(o, "by", op->by, strlen(op->by));
		out_set_json(o, "segment", m->segment, strlen(m->segment));
	}
	out_set_str(o, "variant", m->variant, strlen(m->variant));
	out_set_str(o, "control", m->control, strlen(m->control));
	out_set_str(o, "metric", m->metric, strlen(m->metric));
	out_set_str(o, "method", m->method, strlen(m->method));
	out_set_num(o, "control_value", m->control_value);
	out_set_num(o, "variant_value", m->variant_value);
	out_set_num(o, "abs_uplift", m->abs_uplift);
	out_set_num(o, "rel_uplift", m->rel_uplift);
	out_set_num(o, "se_abs", m->se_abs);
	out_set_num(o, "z", m->z);
	out_set_num(o, "p_value", m->p_value);
	set_pair(o, "ci_abs", m->ci_abs, b);
	out_set_num(o, "se_rel", m->se_rel);
	out_set_num(o, "z_rel", m->z_rel);
	out_set_num(o, "p_value_rel", m->p_value_rel);
	set_pair(o, "ci_rel", m->ci_rel, b);
	if (!isnan(m->se_pooled))
		out_set_num(o, "se_pooled", m->se_pooled);
	if (op->up.t_test)
		out_set_num(o, "dof", m->dof);
	if (op->up.correction != UP_CORR_NONE) {
		out_set_num(o, "p_value_adj", m->p_value_adj);
		out_set_str(o, "correction", corr[op->up.correction],
		    strlen(corr[op->up.correction]));
	}
	out_set_bool(o, "significant", m->significant);
	out_set_num(o, "ci_level", 1 - op->up.alpha);
	out_set_num(o, "mde_abs", m->mde_abs);
	out_set_num(o, "mde_rel", m->mde_rel);
	set_str_or_null(o, "note", m->note);
	out_end(o);
}

/* "%.6g" or "-" for a value that is not computable. */
static const char *
g6(char *dst, size_t n, double v)
{
	if (isnan(v))
		snprintf(dst, n, "-");
	else
		snprintf(dst, n, "%.6g", v);
	return dst;
}

/* A signed percentage such as "+7.24%", or "-". */
static const char *
pct(char *dst, size_t n, double v)
{
	if (isnan(v))
		snprintf(dst, n, "-");
	else
		snprintf(dst, n, "%+.2f%%", v * 100);
	return dst;
}

static const char *
decision(const struct up_metric *m)
{
	if (isnan(m->p_value))
		return "not tested";
	if (!m->significant)
		return "no significant difference";
	return m->abs_uplift > 0 ? "significant increase" :
	    "significant decrease";
}

/*
 * Every reason a number came without a test or with a caveat, one line
 * each after the table: the formats for people must not drop what the
 * NDJSON says in "note".
 */
static void
write_notes(struct out *o, const struct up_run *r, const struct opts *op,
    struct buf *b, const char *pre, const char *post)
{
	size_t i;

	b->len = 0;
	for (i = 0; i < r->nsrm; i++)
		if (r->srm[i].note != NULL)
			buf_printf(b, "%sSRM%s%s on %s: %s%s\n", pre,
			    op->by ? " " : "", op->by ? r->srm[i].segment : "",
			    r->srm[i].field, r->srm[i].note, post);
	for (i = 0; i < r->nm; i++)
		if (r->m[i].note != NULL)
			buf_printf(b, "%s%s%s%s %s: %s%s\n", pre,
			    op->by ? r->m[i].segment : "", op->by ? " " : "",
			    r->m[i].variant, r->m[i].metric, r->m[i].note,
			    post);
	out_write(o, b->data, b->len);
}

static void
write_table(struct out *o, const struct up_run *r, const struct opts *op,
    struct buf *b)
{
	char c1[32], c2[32], c3[32], c4[32], c5[32], c6[32], c7[32], c8[32];
	size_t i;

	for (i = 0; i < r->nsrm; i++) {
		const struct up_srm *s = &r->srm[i];

		b->len = 0;
		buf_printf(b, "SRM%s%s on %s: chi2=%s p=%s -> %s\n",
		    op->by ? " " : "", op->by ? s->segment : "", s->field,
		    g6(c1, sizeof(c1), s->chi2), g6(c2, sizeof(c2),
		    s->p_value), s->detected ? "MISMATCH" : "ok");
		out_write(o, b->data, b->len);
	}
	b->len = 0;
	if (op->by)
		buf_printf(b, "%-16s ", "segment");
	buf_printf(b, "%-10s %-20s %12s %12s %12s %9s %8s %10s %-21s %s\n",
	    "variant", "metric", "control", "variant", "abs_uplift",
	    "rel", "z", "p_value", "ci_rel", "decision");
	out_write(o, b->data, b->len);
	for (i = 0; i < r->nm; i++) {
		const struct up_metric *m = &r->m[i];
		char ci[80];

		b->len = 0;
		if (op->by)
			buf_printf(b, "%-16s ", m->segment);
		if (isnan(m->ci_rel[0]))
			snprintf(ci, sizeof(ci), "-");
		else
			snprintf(ci, sizeof(ci), "[%s, %s]",
			    pct(c7, sizeof(c7), m->ci_rel[0]),
			    pct(c8, sizeof(c8), m->ci_rel[1]));
		buf_printf(b, "%-10s %-20s %12s %12s %12s %9s %8s %10s "
		    "%-21s %s\n", m->variant, m->metric,
		    g6(c1, sizeof(c1), m->control_value),
		    g6(c2, sizeof(c2), m->variant_value),
		    g6(c3, sizeof(c3), m->abs_uplift),
		    pct(c4, sizeof(c4), m->rel_uplift),
		    g6(c5, sizeof(c5), m->z),
		    g6(c6, sizeof(c6), !isnan(m->p_value_adj) ?
		    m->p_value_adj : m->p_value), ci, decision(m));
		out_write(o, b->data, b->len);
	}
	write_notes(o, r, op, b, "note: ", "");
}

static int
has_notes(const struct up_run *r)
{
	size_t i;

	for (i = 0; i < r->nsrm; i++)
		if (r->srm[i].note != NULL)
			return 1;
	for (i = 0; i < r->nm; i++)
		if (r->m[i].note != NULL)
			return 1;
	return 0;
}

static void
write_markdown(struct out *o, const struct up_run *r, const struct opts *op,
    struct buf *b)
{
	char c1[32], c2[32], c3[32], c4[32], c5[32], c6[32];
	double lvl = (1 - op->up.alpha) * 100;
	size_t i;
	int bad = 0;

	b->len = 0;
	buf_printf(b, "## A/B evaluation against `%s`\n\n", op->up.control);
	for (i = 0; i < r->nsrm; i++) {
		const struct up_srm *s = &r->srm[i];

		bad |= s->detected;
		if (op->by)
			buf_printf(b, "- Segment %s: ", s->segment);
		else
			buf_adds(b, "- ");
		buf_printf(b, "sample ratio on %s: chi2 = %s, p = %s: %s\n",
		    s->field, g6(c1, sizeof(c1), s->chi2),
		    g6(c2, sizeof(c2), s->p_value), s->detected ?
		    "**MISMATCH: the split is broken; do not trust the "
		    "results below**" : "ok");
	}
	buf_printf(b, "\n|%s variant | metric | control | variant | "
	    "uplift | %g%% CI | p%s | decision |\n", op->by ? " segment |" : "",
	    lvl, op->up.correction == UP_CORR_HOLM ? " (Holm)" :
	    op->up.correction == UP_CORR_BH ? " (BH)" : "");
	buf_printf(b, "|%s---|---|---:|---:|---:|---|---:|---|\n",
	    op->by ? "---|" : "");
	for (i = 0; i < r->nm; i++) {
		const struct up_metric *m = &r->m[i];

		if (op->by)
			buf_printf(b, "| %s ", m->segment);
		buf_printf(b, "| %s | %s | %s | %s | %s | ", m->variant,
		    m->metric, g6(c1, sizeof(c1), m->control_value),
		    g6(c2, sizeof(c2), m->variant_value),
		    pct(c3, sizeof(c3), m->rel_uplift));
		if (isnan(m->ci_rel[0]))
			buf_adds(b, "- | ");
		else
			buf_printf(b, "%s to %s | ",
			    pct(c4, sizeof(c4), m->ci_rel[0]),
			    pct(c5, sizeof(c5), m->ci_rel[1]));
		buf_printf(b, "%s | %s |\n", g6(c6, sizeof(c6),
		    !isnan(m->p_value_adj) ? m->p_value_adj : m->p_value),
		    decision(m));
	}
	out_write(o, b->data, b->len);
	b->len = 0;
	if (has_notes(r)) {
		buf_adds(b, "\n**Notes:**\n\n");
		out_write(o, b->data, b->len);
		write_notes(o, r, op, b, "- ", "");
		b->len = 0;
	}
	buf_adds(b, "\n**Decision:**");
	if (bad)
		buf_adds(b, " no decision: the sample ratio check failed, so "
		    "the assignment or the logging is broken.");
	for (i = 0; i < r->nm; i++) {
		const struct up_metric *m = &r->m[i];

		if (!m->significant)
			continue;
		buf_printf(b, " %s%s%s moves %s by %s (%g%% CI %s to %s).",
		    m->variant, op->by ? " in " : "", op->by ? m->segment : "",
		    m->metric, pct(c1, sizeof(c1), m->rel_uplift), lvl,
		    pct(c2, sizeof(c2), m->ci_rel[0]),
		    pct(c3, sizeof(c3), m->ci_rel[1]));
		bad |= 2;
	}
	if (!(bad & 2))
		buf_printf(b, " no metric differs significantly from the "
		    "control at alpha %g%s.", op->up.alpha,
		    op->up.correction != UP_CORR_NONE ? " after correction" :
		    "");
	buf_adds(b, "\n");
	out_write(o, b->data, b->len);
}

static void
parse_weights(struct opts *op, const char *arg, double **store)
{
	char **v = cli_split("--weights", arg, NULL);
	double total = 0;
	size_t n;

	for (n = 0; v[n] != NULL; n++)
		;
	*store = xcalloc(n, sizeof(**store));
	for (n = 0; v[n] != NULL; n++)
		total += (*store)[n] = cli_double("--weights", v[n], 0, 1e300);
	strv_free(v);
	if (!(total > 0))
		usage_error("option --weights: no weight is positive");
	op->up.weights = *store;
	op->up.nweights = n;
}

static enum up_field
field_by_name(const char *flag, const char *name)
{
	int f;

	for (f = 0; f < UF_NFIELDS; f++)
		if (strcmp(up_field_name[f], name) == 0)
			return (enum up_field)f;
	usage_error("option %s: unknown field '%s'", flag, name);
}

/*
 * --partial: one record per (segment, variant) arm in byte order, with
 * every given field's exact sum as its expansion (the non-overlapping
 * doubles whose exact sum it is, each printed so it reads back to the
 * same double), null for a sum that overflowed.  --merge adds them.
 */
static void
write_partial(struct out *o, const struct up_table *tb, const struct opts *op,
    struct buf *b, size_t *ncells)
{
	struct up_cell *c = up_table_cells(tb, ncells);
	size_t i;
	int f, k;

	for (i = 0; i < *ncells; i++) {
		out_begin_empty(o);
		out_set_str(o, "record", "uplift_partial", 14);
		out_set_str(o, "unit", op->unit_asin ? "asin" : "variant",
		    op->unit_asin ? 4 : 7);
		if (op->by != NULL) {
			out_set_str(o, "by", op->by, strlen(op->by));
			out_set_json(o, "segment", c[i].seg, c[i].seglen);
		}
		out_set_str(o, "variant", c[i].var, c[i].varlen);
		b->len = 0;
		buf_addc(b, '{');
		for (f = 0; f < UF_NFIELDS; f++) {
			const struct xsum *x = &c[i].s[f];

			if (!(c[i].present & (1u << f)))
				continue;
			if (b->len > 1)
				buf_addc(b, ',');
			buf_printf(b, "\"%s\":", up_field_name[f]);
			if (x->special) {
				buf_adds(b, "null");
				continue;
			}
			buf_addc(b, '[');
			for (k = 0; k < x->n; k++) {
				if (k)
					buf_addc(b, ',');
				add_num(b, x->p[k]);
			}
			buf_addc(b, ']');
		}
		buf_addc(b, '}');
		out_set_json(o, "sums", b->data, b->len);
		out_end(o);
	}
	free(c);
}

/* "[1,2.5e-17]": a flat array of finite numbers into x; 0 if it is not. */
static int
parse_expansion(const char *s, size_t n, struct xsum *x)
{
	const char *end = s + n, *q;
	double d;

	xsum_init(x);
	if (n < 2 || *s != '[' || end[-1] != ']')
		return 0;
	s++, end--;
	while (s < end) {
		while (s < end && (*s == ' ' || *s == '\t' || *s == '\n' ||
		    *s == '\r'))
			s++;
		for (q = s; q < end && *q != ','; q++)
			;
		while (q > s && (q[-1] == ' ' || q[-1] == '\t' ||
		    q[-1] == '\n' || q[-1] == '\r'))
			q--;
		if (x->n >= XSUM_MAX || !parse_double(s, (size_t)(q - s), &d))
			return 0;
		x->p[x->n++] = d;
		while (s < end && *s != ',')
			s++;
		if (s < end && ++s == end)
			return 0;	/* a trailing comma */
	}
	return 1;
}

/*
 * --merge: add one partial record to the table; NULL or the reason to
 * reject it.  The partial must come from a run with the same --unit
 * and --by, or its sums mean something else.
 */
static const char *
take_partial(struct record *rec, const struct fields *fl,
    const struct opts *op, struct up_table *tb, struct buf *var,
    struct buf *seg, struct buf *msg)
{
	const char *s, *e, *unit = op->unit_asin ? "asin" : "variant";
	struct xsum x;
	size_t n;
	int f, any = 0;

	if (rec_str(rec, fl->p_record, &s, &n) != REC_OK || n != 14 ||
	    memcmp(s, "uplift_partial", 14) != 0)
		return "not an asin-uplift --partial record "
		    "(\"record\":\"uplift_partial\")";
	if (rec_str(rec, fl->p_unit, &s, &n) != REC_OK)
		return rec_errmsg(rec, fl->p_unit, REC_STRING);
	if (n != strlen(unit) || memcmp(s, unit, n) != 0) {
		msg->len = 0;
		buf_adds(msg, "partial of a run with --unit ");
		buf_add_jstr(msg, s, n);
		buf_printf(msg, ", this run has --unit %s", unit);
		return msg->data;
	}
	switch (rec_str(rec, fl->p_by, &s, &n)) {
	case REC_OK:
		if (op->by != NULL && n == strlen(op->by) &&
		    memcmp(s, op->by, n) == 0)
			break;
		msg->len = 0;
		buf_adds(msg, "partial of a run with --by ");
		buf_add_jstr(msg, s, n);
		buf_printf(msg, ", this run has %s%s", op->by ? "--by " :
		    "no --by", op->by ? op->by : "");
		return msg->data;
	case REC_ABSENT:
		if (op->by == NULL)
			break;
		msg->len = 0;
		buf_printf(msg, "partial of a run without --by, this run has "
		    "--by %s", op->by);
		return msg->data;
	default:
		return rec_errmsg(rec, fl->p_by, REC_STRING);
	}
	if ((e = label(rec, fl->variant, 0, var)) != NULL)
		return e;
	seg->len = 0;
	if (op->by != NULL && (e = label(rec, fl->p_segment, 1, seg)) != NULL)
		return e;
	for (f = 0; f < UF_NFIELDS; f++) {
		switch (rec_json(rec, fl->p_sum[f], &s, &n)) {
		case REC_ABSENT:
			continue;
		case REC_OK:
			break;
		default:
			return rec_errmsg(rec, fl->p_sum[f], REC_ARRAY);
		}
		if (n == 4 && memcmp(s, "null", 4) == 0) {
			xsum_init(&x);
			x.special = 1;
		} else if (!parse_expansion(s, n, &x)) {
			msg->len = 0;
			buf_printf(msg, "field \"sums.%s\": expected an array "
			    "of at most %d finite numbers or null",
			    up_field_name[f], XSUM_MAX);
			return msg->data;
		}
		up_add_sum(tb, seg->data ? seg->data : "", seg->len, var->data,
		    var->len, (enum up_field)f, &x);
		any = 1;
	}
	if (!any)
		return "field \"sums\": no sums";
	return NULL;
}

static int
run(struct nd_reader *rd, const struct opts *op, const struct cli_common *co)
{
	struct record *rec = rec_new();
	struct up_table *tb = up_table_new();
	struct out *o = out_new(1, "<stdout>");
	struct buf var, seg, msg, tmp;
	struct fields fl;
	struct up_run *r;
	struct nd_line ln;
	struct acct ac;
	const char *err;
	char *eerr, extra[96];
	long long excluded = 0;
	size_t i;
	int f, rc, skipped;

	buf_init(&var);
	buf_init(&seg);
	buf_init(&msg);
	buf_init(&tmp);
	fl.variant = rec_field("variant");
	fl.in_experiment = rec_field("in_experiment");
	fl.by = op->by ? rec_field(op->by) : NULL;
	for (f = 0; f < UF_NFIELDS; f++) {
		char path[64];

		fl.f[f] = rec_field(up_field_name[f]);
		snprintf(path, sizeof(path), ".sums.%s", up_field_name[f]);
		fl.p_sum[f] = rec_field(path);
	}
	fl.p_record = rec_field("record");
	fl.p_unit = rec_field("unit");
	fl.p_by = rec_field("by");
	fl.p_segment = rec_field("segment");
	acct_init(&ac, co);
	while (nd_next(rd, &ln)) {
		ac.in++;
		if (ln.error != NULL || !rec_parse(rec, &ln, &err)) {
			acct_reject(&ac, ln.source, ln.lineno, ln.buf, ln.len,
			    ln.error ? ln.error : err);
			continue;
		}
		skipped = 0;
		if ((err = op->merge ? take_partial(rec, &fl, op, tb, &var,
		    &seg, &msg) : take(rec, &fl, op, tb, &var, &seg, &msg,
		    &skipped)) != NULL) {
			acct_reject(&ac, ln.source, ln.lineno, ln.buf, ln.len,
			    err);
			continue;
		}
		excluded += skipped;
		ac.merged++;
	}
	if (op->partial) {
		/* A shard may hold no arm at all: an empty partial. */
		write_partial(o, tb, op, &tmp, &i);
		out_close(o);
		snprintf(extra, sizeof(extra), "\"records_written\":%zu,"
		    "\"excluded\":%lld", i, excluded);
		rc = acct_finish(&ac, extra);
		goto done;
	}
	if (ac.merged == excluded)
		die(op->merge ? "no partial records to merge" :
		    "no input records in the experiment");
	if ((r = up_evaluate(tb, &op->up, &eerr)) == NULL) {
		die("%s", eerr);
	}
	if (op->format == FMT_NDJSON) {
		for (i = 0; i < r->nsrm; i++)
			write_srm(o, &r->srm[i], op, &tmp);
		for (i = 0; i < r->nm; i++)
			write_metric(o, &r->m[i], op, &tmp);
	} else if (op->format == FMT_TABLE)
		write_table(o, r, op, &tmp);
	else
		write_markdown(o, r, op, &tmp);
	out_close(o);
	snprintf(extra, sizeof(extra), "\"records_written\":%zu,"
	    "\"excluded\":%lld", op->format == FMT_NDJSON ? r->nsrm + r->nm :
	    (size_t)0, excluded);
	rc = acct_finish(&ac, extra);
	up_run_free(r);
done:
	up_table_free(tb);
	rec_field_free(fl.variant);
	rec_field_free(fl.in_experiment);
	if (fl.by)
		rec_field_free(fl.by);
	for (f = 0; f < UF_NFIELDS; f++) {
		rec_field_free(fl.f[f]);
		rec_field_free(fl.p_sum[f]);
	}
	rec_field_free(fl.p_record);
	rec_field_free(fl.p_unit);
	rec_field_free(fl.p_by);
	rec_field_free(fl.p_segment);
	rec_free(rec);
	buf_free(&var);
	buf_free(&seg);
	buf_free(&msg);
	buf_free(&tmp);
	return rc;
}

int
main(int argc, char *argv[])
{
	struct cli_common co;
	struct nd_reader *rd;
	struct opts op;
	double *weights = NULL;
	int ch, rc;

	diag_init(argv[0]);
	cli_init(&co, usage_text);
	memset(&op, 0, sizeof(op));
	op.up.control = "control";
	op.up.alpha = 0.05;
	op.up.power = 0.8;
	op.up.srm_threshold = 0.001;
	op.up.roas_n = UF_UNITS;
	while ((ch = cli_getopt(argc, argv, "c:hqu:Vvw:",
	    longopts)) != -1) {
		if (cli_common_opt(&co, ch, optarg))
			continue;
		switch (ch) {
		case 'a':
			op.up.alpha = cli_double("--alpha", optarg, 1e-12,
			    0.999999);
			break;
		case 'b':
			op.by = optarg;
			break;
		case 'c':
			if (*optarg == '\0')
				usage_error("option --control: empty name");
			op.up.control = optarg;
			break;
		case 'f':
			if (strcmp(optarg, "ndjson") == 0)
				op.format = FMT_NDJSON;
			else if (strcmp(optarg, "table") == 0)
				op.format = FMT_TABLE;
			else if (strcmp(optarg, "markdown") == 0)
				op.format = FMT_MARKDOWN;
			else
				usage_error("option --format: expected ndjson, "
				    "table or markdown, got '%s'", optarg);
			break;
		case 'u':
			if (strcmp(optarg, "asin") == 0)
				op.unit_asin = 1;
			else if (strcmp(optarg, "variant") == 0)
				op.unit_asin = 0;
			else
				usage_error("option --unit: expected variant "
				    "or asin, got '%s'", optarg);
			break;
		case 'w':
			free(weights);
			parse_weights(&op, optarg, &weights);
			break;
		case OPT_POWER:
			op.up.power = cli_double("--power", optarg, 0.01,
			    0.9999);
			break;
		case OPT_SRM:
			op.up.srm_threshold = cli_double("--srm-threshold",
			    optarg, 0, 1);
			break;
		case OPT_CORRECTION:
			if (strcmp(optarg, "none") == 0)
				op.up.correction = UP_CORR_NONE;
			else if (strcmp(optarg, "holm") == 0)
				op.up.correction = UP_CORR_HOLM;
			else if (strcmp(optarg, "bh") == 0)
				op.up.correction = UP_CORR_BH;
			else
				usage_error("option --correction: expected "
				    "none, holm or bh, got '%s'", optarg);
			break;
		case OPT_T_TEST:
			op.up.t_test = 1;
			break;
		case OPT_ROAS_N:
			op.up.roas_n = field_by_name("--roas-n-field", optarg);
			break;
		case OPT_PARTIAL:
			op.partial = 1;
			break;
		case OPT_MERGE:
			op.merge = 1;
			break;
		default:
			usage_error("unexpected option");
		}
	}
	if (op.partial && op.merge)
		usage_error("--partial and --merge exclude each other (merge "
		    "the partials, then evaluate)");
	if (op.partial && op.format != FMT_NDJSON)
		usage_error("--partial writes NDJSON sums; --format is for "
		    "the evaluation");
	if (op.by != NULL) {
		const char *e;
		struct rec_field *t = rec_field_try(op.by, &e);

		if (t == NULL)
			usage_error("option --by: %s", e);
		rec_field_free(t);
	}
	rd = nd_open(argv + optind, argc - optind, co.max_line);
	rc = run(rd, &op, &co);
	nd_close(rd);
	free(weights);
	return rc;
}
