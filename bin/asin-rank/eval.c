/*
 * eval.c - `asin-rank eval`: ranking metrics of a score column (and of a
 * baseline column, with the lift of one over the other) per group, and
 * the files a ranking team compares models by: metrics.json,
 * metrics.csv, lift_curve.csv and lift_curve.svg.  Conventions are
 * LightGBM's and are written into metrics.json, so a reader never has
 * to guess what "ndcg@10" meant.
 */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "ltrmetrics.h"
#include "rank.h"

#define CURVE_MIN 20		/* lift curve cut-offs at least 1..20 */

struct metrics {
	size_t nk;
	double *v;		/* per metric, the mean over queries */
	size_t *cnt;
	double *curve;		/* recall@1..ncurve */
	size_t ncurve;
	size_t curve_n;		/* queries with a relevant row */
};

/* The metric names in output order. */
static char **
metric_names(const size_t *ks, size_t nk, size_t *n)
{
	char **v = xcalloc(6 * nk + 3, sizeof(char *));
	size_t i, m = 0;

	for (i = 0; i < nk; i++)
		v[m++] = xasprintf("ndcg@%zu", ks[i]);
	for (i = 0; i < nk; i++)
		v[m++] = xasprintf("ndcg_tieavg@%zu", ks[i]);
	v[m++] = xstrdup("map");
	for (i = 0; i < nk; i++) {
		v[m++] = xasprintf("map@%zu_lgb", ks[i]);
		v[m++] = xasprintf("map@%zu_xgb", ks[i]);
	}
	for (i = 0; i < nk; i++)
		v[m++] = xasprintf("recall@%zu", ks[i]);
	for (i = 0; i < nk; i++)
		v[m++] = xasprintf("precision@%zu", ks[i]);
	*n = m;
	return v;
}

static void
compute(const struct dataset *d, const double *s, const double *gain,
    const size_t *ks, size_t nk, int ties_avg, int rel, size_t ncurve,
    struct metrics *mt, size_t nm, long long *empty_q, long long *norel_q)
{
	size_t q, i, m, maxn = 1, *ord;
	double *sum = xcalloc(nm, sizeof(double));

	mt->cnt = xcalloc(nm, sizeof(size_t));
	mt->curve = xcalloc(ncurve + 1, sizeof(double));
	mt->ncurve = ncurve;
	mt->curve_n = 0;
	*empty_q = *norel_q = 0;
	for (q = 0; q < d->nq; q++)
		if (d->bounds[q + 1] - d->bounds[q] > maxn)
			maxn = d->bounds[q + 1] - d->bounds[q];
	ord = xmalloc(maxn * sizeof(size_t));
	for (q = 0; q < d->nq; q++) {
		size_t a = d->bounds[q], n = d->bounds[q + 1] - a;
		const int *lab = d->label + a;
		const double *sc = s + a;
		double v;
		int empty;

		ltr_order(sc, n, ord);
		m = 0;
		for (i = 0; i < nk; i++) {
			sum[m] += ltr_ndcg(lab, sc, ord, n, ks[i], gain,
			    ties_avg, &empty);
			mt->cnt[m++]++;
			if (i == 0 && empty)
				(*empty_q)++;
		}
		for (i = 0; i < nk; i++) {
			sum[m] += ltr_ndcg(lab, sc, ord, n, ks[i], gain, 1,
			    NULL);
			mt->cnt[m++]++;
		}
		sum[m] += ltr_ap(lab, ord, n, 0, rel, LTR_MAP_LIGHTGBM, &empty);
		mt->cnt[m++]++;
		if (empty)
			(*norel_q)++;
		for (i = 0; i < nk; i++) {
			sum[m] += ltr_ap(lab, ord, n, ks[i], rel,
			    LTR_MAP_LIGHTGBM, NULL);
			mt->cnt[m++]++;
			sum[m] += ltr_ap(lab, ord, n, ks[i], rel,
			    LTR_MAP_XGBOOST, NULL);
			mt->cnt[m++]++;
		}
		for (i = 0; i < nk; i++) {
			v = ltr_recall(lab, ord, n, ks[i], rel);
			if (v >= 0) {
				sum[m] += v;
				mt->cnt[m]++;
			}
			m++;
		}
		for (i = 0; i < nk; i++) {
			sum[m] += ltr_precision(lab, ord, n, ks[i], rel);
			mt->cnt[m++]++;
		}
		if (ltr_recall(lab, ord, n, 1, rel) >= 0) {
			mt->curve_n++;
			for (i = 0; i < ncurve; i++)
				mt->curve[i] += ltr_recall(lab, ord, n, i + 1,
				    rel);
		}
	}
	mt->v = xmalloc(nm * sizeof(double));
	for (m = 0; m < nm; m++)
		mt->v[m] = mt->cnt[m] ? sum[m] / (double)mt->cnt[m] : NAN;
	for (i = 0; i < ncurve; i++)
		mt->curve[i] = mt->curve_n ? mt->curve[i] /
		    (double)mt->curve_n : NAN;
	free(sum);
	free(ord);
}

static double
lift(double m, double b)
{
	return b != 0 && isfinite(b) && isfinite(m) ? m / b : NAN;
}

static void
csv_num(struct buf *b, double v)
{
	if (isfinite(v))
		jnum(b, v);
}

static char *
path_in(const char *dir, const char *name)
{
	return xasprintf("%s/%s", dir, name);
}

/* A line chart of recall@k, model against baseline, as plain SVG. */
static void
svg(struct buf *b, const struct metrics *mm, const struct metrics *mb,
    const char *score, const char *base)
{
	const double W = 640, H = 400, L = 60, R = 20, T = 40, B = 50;
	size_t n = mm->ncurve, i, s;
	double pw = W - L - R, ph = H - T - B;

	buf_printf(b, "<svg xmlns=\"http://www.w3.org/2000/svg\" "
	    "width=\"%g\" height=\"%g\" viewBox=\"0 0 %g %g\" "
	    "font-family=\"sans-serif\" font-size=\"12\">\n", W, H, W, H);
	buf_printf(b, "<rect width=\"%g\" height=\"%g\" fill=\"white\"/>\n",
	    W, H);
	buf_printf(b, "<text x=\"%g\" y=\"22\" font-size=\"15\">recall@k by "
	    "cut-off k (mean over %zu groups with a relevant row)</text>\n",
	    L, mm->curve_n);
	for (i = 0; i <= 10; i++) {
		double y = T + ph - ph * (double)i / 10;

		buf_printf(b, "<line x1=\"%g\" y1=\"%.1f\" x2=\"%g\" "
		    "y2=\"%.1f\" stroke=\"#ddd\"/>\n", L, y, L + pw, y);
		buf_printf(b, "<text x=\"%g\" y=\"%.1f\" text-anchor=\"end\">"
		    "%.1f</text>\n", L - 6, y + 4, (double)i / 10);
	}
	for (i = 1; i <= n; i++) {
		double x = L + pw * (double)(i - 1) / (double)(n > 1 ? n - 1 :
		    1);

		if (n <= 20 || i % 5 == 0 || i == 1)
			buf_printf(b, "<text x=\"%.1f\" y=\"%g\" "
			    "text-anchor=\"middle\">%zu</text>\n", x,
			    T + ph + 18, i);
	}
	buf_printf(b, "<line x1=\"%g\" y1=\"%g\" x2=\"%g\" y2=\"%g\" "
	    "stroke=\"black\"/>\n", L, T + ph, L + pw, T + ph);
	buf_printf(b, "<line x1=\"%g\" y1=\"%g\" x2=\"%g\" y2=\"%g\" "
	    "stroke=\"black\"/>\n", L, T, L, T + ph);
	buf_printf(b, "<text x=\"%g\" y=\"%g\" text-anchor=\"middle\">"
	    "cut-off k</text>\n", L + pw / 2, H - 10);
	for (s = 0; s < 2; s++) {
		const struct metrics *m = s == 0 ? mm : mb;
		const char *color = s == 0 ? "#1f77b4" : "#ff7f0e";
		const char *name = s == 0 ? score : base;

		if (m == NULL)
			continue;
		buf_printf(b, "<polyline fill=\"none\" stroke=\"%s\" "
		    "stroke-width=\"2\" points=\"", color);
		for (i = 0; i < n; i++) {
			double x = L + pw * (double)i / (double)(n > 1 ? n - 1 :
			    1);
			double v = isfinite(m->curve[i]) ? m->curve[i] : 0;

			buf_printf(b, "%s%.1f,%.1f", i ? " " : "", x,
			    T + ph - ph * v);
		}
		buf_adds(b, "\"/>\n");
		buf_printf(b, "<rect x=\"%g\" y=\"%g\" width=\"12\" "
		    "height=\"12\" fill=\"%s\"/>\n", L + pw - 200,
		    T + ph - 40 + 18 * (double)s, color);
		buf_printf(b, "<text x=\"%g\" y=\"%g\">", L + pw - 182,
		    T + ph - 29 + 18 * (double)s);
		{
			/* the column name, escaped for XML */
			const char *p;

			for (p = name; *p != '\0'; p++) {
				if (*p == '<')
					buf_adds(b, "&lt;");
				else if (*p == '&')
					buf_adds(b, "&amp;");
				else if (*p == '>')
					buf_adds(b, "&gt;");
				else
					buf_addc(b, *p);
			}
		}
		buf_adds(b, "</text>\n");
	}
	buf_adds(b, "</svg>\n");
}

int
cmd_eval(struct ropts *o, char **files, int nfiles)
{
	struct loadspec sp;
	struct acct ac;
	struct dataset *d;
	char **group, **names, *p;
	size_t ng, nk, nm, i, ks[RANK_MAX_K], ngain, ncurve, maxn = 1;
	double *gain;
	struct metrics mm, mb;
	long long eq, nr, eqb, nrb;
	struct buf b, c, lc, sv, rl;
	char ts[32];

	if (o->label == NULL || o->score == NULL || o->group == NULL ||
	    o->output_dir == NULL)
		usage_error("eval needs --label, --score, --group and "
		    "--output-dir");
	group = cli_split("--group", o->group, &ng);
	{
		char **kv = cli_split("--k", o->ks ? o->ks : "1,3,5,10", &nk);

		if (nk > RANK_MAX_K)
			usage_error("option --k: at most %d cut-offs",
			    RANK_MAX_K);
		for (i = 0; i < nk; i++)
			ks[i] = (size_t)cli_int("--k", kv[i], 1, 1000000);
		strv_free(kv);
	}
	gain = gain_parse(o->label_gain, &ngain);
	if (mkdir(o->output_dir, 0777) != 0 && errno != EEXIST)
		die("%s: cannot create:", o->output_dir);
	memset(&sp, 0, sizeof(sp));
	sp.label = o->label;
	sp.group = group;
	sp.ngroup = ng;
	sp.col[0] = o->score;
	sp.col[1] = o->baseline;
	sp.max_label = (int)ngain - 1;
	sp.gain_name = o->label_gain;
	acct_init(&ac, &o->co);
	d = ds_load(&sp, files, nfiles, &ac);
	if (d->nq == 0)
		die("no rows to evaluate");
	for (i = 0; i + 1 <= d->nq; i++)
		if (d->bounds[i + 1] - d->bounds[i] > maxn)
			maxn = d->bounds[i + 1] - d->bounds[i];
	ncurve = 0;
	for (i = 0; i < nk; i++)
		if (ks[i] > ncurve)
			ncurve = ks[i];
	if (ncurve < CURVE_MIN)
		ncurve = CURVE_MIN;
	if (ncurve > maxn)
		ncurve = maxn;
	names = metric_names(ks, nk, &nm);
	compute(d, d->col[0], gain, ks, nk, o->ties_average, (int)o->rel_min,
	    ncurve, &mm, nm, &eq, &nr);
	if (o->baseline != NULL)
		compute(d, d->col[1], gain, ks, nk, o->ties_average,
		    (int)o->rel_min, ncurve, &mb, nm, &eqb, &nrb);

	buf_init(&b);
	buf_adds(&b, "{\"label\":");
	buf_add_jstr(&b, o->label, strlen(o->label));
	buf_adds(&b, ",\"score\":");
	buf_add_jstr(&b, o->score, strlen(o->score));
	buf_adds(&b, ",\"baseline\":");
	if (o->baseline)
		buf_add_jstr(&b, o->baseline, strlen(o->baseline));
	else
		buf_adds(&b, "null");
	buf_adds(&b, ",\"group\":[");
	for (i = 0; i < ng; i++) {
		if (i)
			buf_addc(&b, ',');
		buf_add_jstr(&b, group[i], strlen(group[i]));
	}
	buf_printf(&b, "],\"rows\":%zu,\"queries\":%zu,\"rejected\":%lld,"
	    "\"n_queries_empty\":%lld,\"n_queries_without_relevant\":%lld,"
	    "\"k\":[", d->n, d->nq, ac.rejected, eq, nr);
	for (i = 0; i < nk; i++)
		buf_printf(&b, "%s%zu", i ? "," : "", ks[i]);
	buf_printf(&b, "],\"conventions\":{\"tie_rule\":\"%s\","
	    "\"empty_query_value\":1,\"label_gain\":",
	    o->ties_average ? "average" : "input order");
	buf_add_jstr(&b, o->label_gain, strlen(o->label_gain));
	buf_printf(&b, ",\"relevant\":\"label >= %lld\","
	    "\"ndcg\":\"LightGBM: DCG@k/IDCG@k, gain label_gain[label], "
	    "discount 1/log2(rank+2); a group whose IDCG@k is 0 counts 1\","
	    "\"ndcg_tieavg\":\"tied scores share the mean gain of their "
	    "tie block\",\"map\":\"average precision over the whole group, "
	    "divided by the relevant rows\",\"map@k_lgb\":\"LightGBM: "
	    "divided by min(relevant, k)\",\"map@k_xgb\":\"XGBoost: divided "
	    "by all relevant rows\",\"map_empty\":\"a group without a "
	    "relevant row counts 1\",\"recall@k\":\"groups without a "
	    "relevant row are left out\",\"precision@k\":\"XGBoost pre@k: "
	    "hits divided by k\"}", o->rel_min);
	buf_adds(&b, ",\"model\":{");
	for (i = 0; i < nm; i++) {
		buf_printf(&b, "%s\"%s\":", i ? "," : "", names[i]);
		jnum(&b, mm.v[i]);
	}
	buf_adds(&b, "},\"baseline_metrics\":");
	if (o->baseline) {
		buf_addc(&b, '{');
		for (i = 0; i < nm; i++) {
			buf_printf(&b, "%s\"%s\":", i ? "," : "", names[i]);
			jnum(&b, mb.v[i]);
		}
		buf_adds(&b, "},\"lift\":{");
		for (i = 0; i < nm; i++) {
			buf_printf(&b, "%s\"%s\":", i ? "," : "", names[i]);
			jnum(&b, lift(mm.v[i], mb.v[i]));
		}
		buf_addc(&b, '}');
	} else
		buf_adds(&b, "null,\"lift\":null");
	buf_adds(&b, "}\n");

	buf_init(&c);
	buf_adds(&c, "metric,model,baseline,lift\n");
	for (i = 0; i < nm; i++) {
		buf_printf(&c, "%s,", names[i]);
		csv_num(&c, mm.v[i]);
		buf_addc(&c, ',');
		if (o->baseline) {
			csv_num(&c, mb.v[i]);
			buf_addc(&c, ',');
			csv_num(&c, lift(mm.v[i], mb.v[i]));
		} else
			buf_addc(&c, ',');
		buf_addc(&c, '\n');
	}
	buf_init(&lc);
	buf_adds(&lc, "k,recall,baseline_recall,lift\n");
	for (i = 0; i < ncurve; i++) {
		buf_printf(&lc, "%zu,", i + 1);
		csv_num(&lc, mm.curve[i]);
		buf_addc(&lc, ',');
		if (o->baseline) {
			csv_num(&lc, mb.curve[i]);
			buf_addc(&lc, ',');
			csv_num(&lc, lift(mm.curve[i], mb.curve[i]));
		} else
			buf_addc(&lc, ',');
		buf_addc(&lc, '\n');
	}
	buf_init(&sv);
	svg(&sv, &mm, o->baseline ? &mb : NULL, o->score, o->baseline);
	p = path_in(o->output_dir, "metrics.json");
	save_file(p, &b);
	free(p);
	p = path_in(o->output_dir, "metrics.csv");
	save_file(p, &c);
	free(p);
	p = path_in(o->output_dir, "lift_curve.csv");
	save_file(p, &lc);
	free(p);
	p = path_in(o->output_dir, "lift_curve.svg");
	save_file(p, &sv);
	free(p);

	buf_init(&rl);
	runs_now(ts, sizeof(ts));
	buf_printf(&rl, "{\"ts\":\"%s\",\"command\":\"eval\",\"inputs\":[",
	    ts);
	for (i = 0; i < (size_t)nfiles; i++) {
		if (i)
			buf_addc(&rl, ',');
		buf_add_jstr(&rl, files[i], strlen(files[i]));
	}
	buf_adds(&rl, "],\"score\":");
	buf_add_jstr(&rl, o->score, strlen(o->score));
	buf_adds(&rl, ",\"baseline\":");
	if (o->baseline)
		buf_add_jstr(&rl, o->baseline, strlen(o->baseline));
	else
		buf_adds(&rl, "null");
	buf_printf(&rl, ",\"rows\":%zu,\"queries\":%zu,\"output_dir\":",
	    d->n, d->nq);
	buf_add_jstr(&rl, o->output_dir, strlen(o->output_dir));
	buf_adds(&rl, ",\"metrics\":{");
	for (i = 0; i < nm; i++) {
		buf_printf(&rl, "%s\"%s\":", i ? "," : "", names[i]);
		jnum(&rl, mm.v[i]);
	}
	buf_adds(&rl, "}}\n");
	runs_append(o, rl.data);
	if (o->co.verbose)
		note("%zu rows in %zu groups, ndcg@%zu %.6f", d->n, d->nq,
		    ks[0], mm.v[0]);

	buf_free(&b);
	buf_free(&c);
	buf_free(&lc);
	buf_free(&sv);
	buf_free(&rl);
	free(mm.v);
	free(mm.cnt);
	free(mm.curve);
	if (o->baseline) {
		free(mb.v);
		free(mb.cnt);
		free(mb.curve);
	}
	for (i = 0; i < nm; i++)
		free(names[i]);
	free(names);
	free(gain);
	strv_free(group);
	ds_free(d);
	return acct_finish(&ac, NULL);
}
