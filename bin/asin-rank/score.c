/*
 * score.c - `asin-rank score`: the model's score of every row, added to
 * the row as rank_score.  Streams row by row; with --group the rows are
 * held per group to add rank_in_group (1 is the best; equal scores in
 * input order) and come out group by group in byte order of the key.
 * --libsvm input gives one score per line, as LightGBM's predict does.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "group.h"
#include "ltrmetrics.h"
#include "rank.h"
#include "reckeys.h"

/* Rows scored together: enough that a tree's walk over them pays for
 * bringing the tree in, few enough that their slots stay in cache. */
#define SCORE_BATCH 256

/*
 * Rows waiting for their scores: the lines' bytes (copied, as the
 * reader's buffer moves on) and their predictor slots.  Flushed before
 * anything else is written or rejected, so output and rejects keep the
 * input order.
 */
struct batch {
	struct predictor *p;
	size_t n, w;
	struct buf text;
	size_t off[SCORE_BATCH + 1];
	uint16_t *slot;
	double sc[SCORE_BATCH];
};

static void
batch_flush(struct batch *b, struct out *o, struct acct *ac)
{
	char mem[64];
	size_t i, k, head;

	if (b->n == 0)
		return;
	pred_batch(b->p, b->slot, b->n, b->sc);
	head = strlen(",\"rank_score\":");
	memcpy(mem, ",\"rank_score\":", head);
	for (i = 0; i < b->n; i++) {
		if (isfinite(b->sc[i]))
			k = head + fmt_double(mem + head, b->sc[i]);
		else {
			memcpy(mem + head, "null", 4);
			k = head + 4;
		}
		out_line_append(o, b->text.data + b->off[i],
		    b->off[i + 1] - b->off[i], mem, k);
		ac->out++;
	}
	b->n = 0;
	b->text.len = 0;
}

struct sctx {
	struct model *m;
	struct out *o;
	struct record *rec;
	struct acct *ac;
};

/* The features of rec into x; 0 with *msg set when one does not fit
 * the model's signature. */
static int
features_of(struct record *rec, struct rec_field **ff, size_t nf,
    int absent_missing, double *x, const char **msg, char *buf, size_t bufn)
{
	size_t i;
	enum rec_status st;

	for (i = 0; i < nf; i++) {
		st = rec_num(rec, ff[i], &x[i]);
		if (st == REC_OK && isfinite(x[i]))
			continue;
		if (st == REC_ISNULL || (st == REC_ABSENT && absent_missing)) {
			x[i] = NAN;
			continue;
		}
		*msg = feature_error(rec, ff[i], st, buf, bufn);
		return 0;
	}
	return 1;
}

/* A batch of one group: rank by score and write the rows. */
static void
emit_group(void *ctx, struct group **gs, size_t ng)
{
	struct sctx *c = ctx;
	size_t gi, i, *ord = NULL, *rk = NULL, cap = 0;
	double *sc = NULL;
	const char *err;

	for (gi = 0; gi < ng; gi++) {
		struct group *g = gs[gi];

		if (g->n > cap) {
			cap = g->n;
			ord = xreallocarray(ord, cap, sizeof(size_t));
			rk = xreallocarray(rk, cap, sizeof(size_t));
			sc = xreallocarray(sc, cap, sizeof(double));
		}
		for (i = 0; i < g->n; i++)
			sc[i] = group_row(g, i)->val[0];
		ltr_order(sc, g->n, ord);
		for (i = 0; i < g->n; i++)
			rk[ord[i]] = i + 1;
		for (i = 0; i < g->n; i++) {
			struct group_row *r = group_row(g, i);
			struct nd_line ln;

			ln.buf = r->line;
			ln.len = r->len;
			ln.source = r->source;
			ln.lineno = r->lineno;
			ln.error = NULL;
			if (!rec_parse(c->rec, &ln, &err))
				die_at(r->source, r->lineno, "%s", err);
			out_begin(c->o, c->rec);
			out_set_num(c->o, "rank_score", r->val[0]);
			out_set_int(c->o, "rank_in_group", (long long)rk[i]);
			out_end(c->o);
			c->ac->out++;
		}
	}
	free(ord);
	free(rk);
	free(sc);
}

static int
score_libsvm(struct ropts *o, struct model *m, char **files,
    int nfiles, struct acct *ac, struct out *out)
{
	struct nd_reader *rd = nd_open(files, nfiles, o->co.max_line);
	struct nd_line ln;
	double *x = xmalloc((m->nf + 1) * sizeof(double));
	char tmp[48];
	size_t i;

	while (nd_next(rd, &ln)) {
		const char *p = ln.buf, *e = ln.buf + ln.len;
		int bad = 0;

		ac->in++;
		for (i = 0; i < m->nf; i++)
			x[i] = 0;
		/* skip the label */
		while (p < e && *p != ' ' && *p != '\t')
			p++;
		while (p < e && !bad) {
			const char *t, *colon;
			long long idx;
			double v;

			while (p < e && (*p == ' ' || *p == '\t' || *p == '\r'))
				p++;
			if (p == e || *p == '#')
				break;
			t = p;
			while (p < e && *p != ' ' && *p != '\t' && *p != '\r')
				p++;
			colon = memchr(t, ':', (size_t)(p - t));
			if (colon == NULL)
				bad = 1;
			else if ((size_t)(colon - t) == 3 &&
			    memcmp(t, "qid", 3) == 0)
				continue;
			else if (!parse_int(t, (size_t)(colon - t), &idx) ||
			    idx < 1 || !parse_double(colon + 1,
			    (size_t)(p - colon - 1), &v))
				bad = 1;
			else if ((size_t)idx <= m->nf)
				x[idx - 1] = v;
		}
		if (bad || ln.error != NULL) {
			acct_reject(ac, ln.source, ln.lineno, ln.buf, ln.len,
			    ln.error ? ln.error : "libsvm: expected "
			    "INDEX:VALUE tokens");
			continue;
		}
		i = fmt_double(tmp, model_predict(m, x));
		tmp[i++] = '\n';
		out_write(out, tmp, i);
		ac->out++;
	}
	nd_close(rd);
	free(x);
	return 0;
}

int
cmd_score(struct ropts *o, char **files, int nfiles)
{
	struct model *m;
	struct acct ac;
	struct out *out;
	struct rec_field **ff, **gf = NULL;
	struct record *rec;
	struct nd_reader *rd;
	struct nd_line ln;
	struct group_set *gs = NULL;
	struct sctx c;
	struct rec_keys *rk;
	struct rec_field *has_score;
	struct batch bt;
	char **group = NULL;
	size_t nf, ng = 0, i;
	double *x;
	const char *err;
	char emsg[512];

	if (o->model == NULL)
		usage_error("score needs --model FILE");
	m = model_load(o->model);
	nf = m->nf;
	acct_init(&ac, &o->co);
	out = out_new(1, "<stdout>");
	ac.sink = out;
	if (o->libsvm) {
		score_libsvm(o, m, files, nfiles, &ac, out);
		out_close(out);
		model_free(m);
		return acct_finish(&ac, NULL);
	}
	ff = xcalloc(nf + 1, sizeof(*ff));
	for (i = 0; i < nf; i++)
		ff[i] = rec_field(m->feat[i]);
	x = xmalloc((nf + 1) * sizeof(double));
	rk = rec_keys_new(m->feat, nf);
	has_score = rec_field("rank_score");
	memset(&bt, 0, sizeof(bt));
	buf_init(&bt.text);
	bt.p = o->group == NULL ? pred_new(m) : NULL;
	if (bt.p != NULL) {
		bt.w = pred_width(bt.p);
		bt.slot = xcalloc(SCORE_BATCH * bt.w, sizeof(uint16_t));
	}
	rec = rec_new();
	rd = nd_open(files, nfiles, o->co.max_line);
	if (o->group != NULL) {
		group = cli_split("--group", o->group, &ng);
		gf = xcalloc(ng + 1, sizeof(*gf));
		for (i = 0; i < ng; i++)
			gf[i] = rec_field(group[i]);
		c.m = m;
		c.o = out;
		c.rec = rec_new();
		c.ac = &ac;
		gs = group_set_new((int)ng, (int)ng, 1, 0, nd_stable(rd),
		    emit_group, &c);
	}
	while (nd_next(rd, &ln)) {
		double sc;

		ac.in++;
		if (ln.error != NULL) {
			batch_flush(&bt, out, &ac);
			acct_reject(&ac, ln.source, ln.lineno, ln.buf, ln.len,
			    ln.error);
			continue;
		}
		if (!rec_parse(rec, &ln, &err) ||
		    ((rk == NULL || !rec_keys_nums(rk, rec, x)) &&
		    !features_of(rec, ff, nf, o->absent_missing, x, &err,
		    emsg, sizeof(emsg)))) {
			batch_flush(&bt, out, &ac);
			acct_reject(&ac, ln.source, ln.lineno, ln.buf, ln.len,
			    err);
			continue;
		}
		/* A row that has rank_score already gets it replaced, which
		 * out_begin() does; the rest are appended to in batches. */
		if (bt.p != NULL && rec_kind(rec, has_score) == REC_MISSING) {
			if (bt.n == SCORE_BATCH)
				batch_flush(&bt, out, &ac);
			pred_row(bt.p, x, bt.slot + bt.n * bt.w);
			bt.off[bt.n] = bt.text.len;
			buf_add(&bt.text, ln.buf, ln.len);
			bt.off[++bt.n] = bt.text.len;
			continue;
		}
		batch_flush(&bt, out, &ac);
		sc = model_predict(m, x);
		if (gs == NULL) {
			out_begin(out, rec);
			out_set_num(out, "rank_score", sc);
			out_end(out);
			ac.out++;
			continue;
		}
		{
			struct group_row *r;
			const char *s;
			size_t sl;
			int bad = 0;

			group_key_begin(gs);
			for (i = 0; i < ng && !bad; i++) {
				if (rec_str(rec, gf[i], &s, &sl) == REC_OK ||
				    rec_json(rec, gf[i], &s, &sl) == REC_OK)
					group_key_add(gs, s, sl);
				else
					bad = 1;
			}
			if (bad) {
				acct_reject(&ac, ln.source, ln.lineno, ln.buf,
				    ln.len, rec_errmsg(rec, gf[i - 1],
				    REC_STRING));
				continue;
			}
			r = group_add(gs, ln.buf, ln.len, ln.source, ln.lineno);
			r->val[0] = sc;
		}
	}
	batch_flush(&bt, out, &ac);
	pred_free(bt.p);
	free(bt.slot);
	buf_free(&bt.text);
	rec_keys_free(rk);
	rec_field_free(has_score);
	if (gs != NULL) {
		group_set_finish(gs);
		group_set_free(gs);
		rec_free(c.rec);
		for (i = 0; i < ng; i++)
			rec_field_free(gf[i]);
		free(gf);
		strv_free(group);
	}
	out_close(out);
	nd_close(rd);
	for (i = 0; i < nf; i++)
		rec_field_free(ff[i]);
	free(ff);
	free(x);
	rec_free(rec);
	model_free(m);
	return acct_finish(&ac, NULL);
}
