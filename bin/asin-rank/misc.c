/*
 * misc.c - `asin-rank explain` (the model's feature importance as NDJSON)
 * and `asin-rank export` (the model as an XGBoost JSON model, or NDJSON
 * rows as libsvm with a .query file, for LightGBM and XGBoost).
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "rank.h"

int
cmd_explain(struct ropts *o, char **files, int nfiles)
{
	struct model *m;
	struct out *out;
	struct acct ac;
	double *gain, total = 0;
	long long *splits;
	size_t i, t, *ord;

	if (o->model == NULL)
		usage_error("explain needs --model FILE");
	if (nfiles > 0)
		usage_error("explain reads no input files");
	m = model_load(o->model);
	gain = xcalloc(m->nf + 1, sizeof(double));
	splits = xcalloc(m->nf + 1, sizeof(long long));
	for (t = 0; t < m->ntrees; t++)
		for (i = 0; i < m->tree[t].n; i++) {
			const struct gbdt_node *nd = &m->tree[t].node[i];

			if (nd->feat >= 0) {
				gain[nd->feat] += nd->gain;
				splits[nd->feat]++;
				total += nd->gain;
			}
		}
	ord = xmalloc((m->nf + 1) * sizeof(size_t));
	for (i = 0; i < m->nf; i++)
		ord[i] = i;
	/* by gain, then by signature order: insertion sort, stable */
	for (i = 1; i < m->nf; i++) {
		size_t x = ord[i], j = i;

		while (j > 0 && gain[ord[j - 1]] < gain[x]) {
			ord[j] = ord[j - 1];
			j--;
		}
		ord[j] = x;
	}
	acct_init(&ac, &o->co);
	out = out_new(1, "<stdout>");
	for (i = 0; i < m->nf; i++) {
		size_t f = ord[i];

		out_begin_empty(out);
		out_set_str(out, "feature", m->feat[f], strlen(m->feat[f]));
		out_set_int(out, "rank", (long long)i + 1);
		out_set_num(out, "gain", gain[f]);
		out_set_num(out, "gain_share", total > 0 ? gain[f] / total :
		    0);
		out_set_int(out, "splits", splits[f]);
		out_end(out);
		ac.out++;
	}
	out_close(out);
	free(gain);
	free(splits);
	free(ord);
	model_free(m);
	return acct_finish(&ac, NULL);
}

/* NDJSON rows as libsvm lines plus a FILE.query of group sizes; a
 * missing value has no libsvm form and is refused. */
static int
export_libsvm(struct ropts *o, char **files, int nfiles)
{
	struct loadspec sp;
	struct acct ac;
	struct dataset *d;
	char **group, **feat, *qp;
	size_t ng, nf, i, r, q, ngain;
	double *gain;
	struct buf b, qb;
	char tmp[40];

	if (o->label == NULL || o->group == NULL || o->features == NULL ||
	    o->output == NULL)
		usage_error("export --format libsvm needs --label, --group, "
		    "--features and -o FILE");
	group = cli_split("--group", o->group, &ng);
	feat = cli_split("--features", o->features, &nf);
	gain = gain_parse(o->label_gain, &ngain);
	memset(&sp, 0, sizeof(sp));
	sp.label = o->label;
	sp.group = group;
	sp.ngroup = ng;
	sp.feat = feat;
	sp.nf = nf;
	sp.max_label = (int)ngain - 1;
	sp.gain_name = o->label_gain;
	sp.absent_missing = o->absent_missing;
	acct_init(&ac, &o->co);
	d = ds_load(&sp, files, nfiles, &ac);
	buf_init(&b);
	buf_init(&qb);
	buf_adds(&b, "");
	buf_adds(&qb, "");
	for (q = 0; q < d->nq; q++) {
		buf_printf(&qb, "%zu\n", d->bounds[q + 1] - d->bounds[q]);
		for (r = d->bounds[q]; r < d->bounds[q + 1]; r++) {
			buf_printf(&b, "%d", d->label[r]);
			for (i = 0; i < nf; i++) {
				double v = d->x[r * nf + i];

				if (isnan(v))
					die("row %zu of group %s: feature \"%s\" "
					    "is missing, which libsvm cannot "
					    "say", r - d->bounds[q] + 1,
					    d->qkey[q], feat[i]);
				if (v == 0)
					continue;
				fmt_double(tmp, v);
				buf_printf(&b, " %zu:%s", i + 1, tmp);
			}
			buf_addc(&b, '\n');
		}
	}
	save_file(o->output, &b);
	qp = xasprintf("%s.query", o->output);
	save_file(qp, &qb);
	free(qp);
	buf_free(&b);
	buf_free(&qb);
	free(gain);
	strv_free(group);
	strv_free(feat);
	ds_free(d);
	return acct_finish(&ac, NULL);
}

int
cmd_export(struct ropts *o, char **files, int nfiles)
{
	struct model *m;
	struct buf b;
	struct out *out;

	if (o->format == NULL)
		usage_error("export needs --format xgboost or libsvm");
	if (strcmp(o->format, "libsvm") == 0)
		return export_libsvm(o, files, nfiles);
	if (o->model == NULL)
		usage_error("export --format xgboost needs --model FILE");
	if (nfiles > 0)
		usage_error("export --format xgboost reads no input files");
	m = model_load(o->model);
	buf_init(&b);
	model_xgboost(m, &b);
	if (o->output != NULL)
		save_file(o->output, &b);
	else {
		out = out_new(1, "<stdout>");
		out_write(out, b.data, b.len);
		out_close(out);
	}
	buf_free(&b);
	model_free(m);
	return 0;
}
