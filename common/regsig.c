/*
 * regsig.c - the model contract: MLflow column-spec signatures, their
 * comparison by name, position and type (asin-rank reads features by
 * index, so a promotion must be stricter than MLflow's own by-name
 * enforcement), MLflow metric names, content keys and time stamps.
 */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "registry.h"

/* MLflow's DataType words for column specs. */
static const char *const sig_types[] = { "boolean", "integer", "long",
    "float", "double", "string", "binary", "datetime", NULL };

static int
known_type(const char *t)
{
	size_t i;

	for (i = 0; sig_types[i] != NULL; i++)
		if (strcmp(sig_types[i], t) == 0)
			return 1;
	return 0;
}

/* Check one column list; returns the normalised list or invalid. */
static jv
check_cols(jv cols, const char *what, char **err)
{
	jv res = jv_array(), seen = jv_object();
	int i, n;

	if (jv_get_kind(cols) != JV_KIND_ARRAY) {
		*err = xasprintf("signature: \"%s\" must be an array of "
		    "{\"name\",\"type\"}", what);
		goto bad;
	}
	n = jv_array_length(jv_copy(cols));
	for (i = 0; i < n; i++) {
		jv c = jv_array_get(jv_copy(cols), i);
		jv nm = reg_get(jv_copy(c), jv_string("name"));
		jv ty = reg_get(jv_copy(c), jv_string("type"));
		jv rq = reg_get(jv_copy(c), jv_string("required"));
		jv e;

		if (jv_get_kind(c) != JV_KIND_OBJECT ||
		    jv_get_kind(nm) != JV_KIND_STRING ||
		    jv_string_length_bytes(jv_copy(nm)) == 0) {
			*err = xasprintf("signature: %s[%d]: expected an "
			    "object with a non-empty string \"name\"", what, i);
			goto badc;
		}
		if (jv_get_kind(ty) != JV_KIND_STRING ||
		    !known_type(jv_string_value(ty))) {
			*err = xasprintf("signature: %s[%d] \"%s\": type must "
			    "be one of boolean, integer, long, float, double, "
			    "string, binary, datetime", what, i,
			    jv_string_value(nm));
			goto badc;
		}
		if (jv_get_kind(rq) != JV_KIND_INVALID &&
		    jv_get_kind(rq) != JV_KIND_NULL &&
		    jv_get_kind(rq) != JV_KIND_TRUE &&
		    jv_get_kind(rq) != JV_KIND_FALSE) {
			*err = xasprintf("signature: %s[%d] \"%s\": required "
			    "must be true or false", what, i,
			    jv_string_value(nm));
			goto badc;
		}
		if (jv_get_kind(reg_get(jv_copy(seen), jv_copy(nm))) !=
		    JV_KIND_INVALID) {
			*err = xasprintf("signature: %s: duplicate name \"%s\"",
			    what, jv_string_value(nm));
			goto badc;
		}
		seen = jv_object_set(seen, jv_copy(nm), jv_true());
		e = jv_object();
		e = jv_object_set(e, jv_string("name"), nm);
		e = jv_object_set(e, jv_string("type"), ty);
		e = jv_object_set(e, jv_string("required"),
		    jv_get_kind(rq) == JV_KIND_FALSE ? jv_false() : jv_true());
		jv_free(rq);
		jv_free(c);
		res = jv_array_append(res, e);
		continue;
badc:
		jv_free(c);
		jv_free(nm);
		jv_free(ty);
		jv_free(rq);
		goto bad;
	}
	jv_free(cols);
	jv_free(seen);
	return res;
bad:
	jv_free(cols);
	jv_free(seen);
	jv_free(res);
	return jv_invalid();
}

jv
sig_check(jv sig, char **err)
{
	jv in, outc, res;

	if (jv_get_kind(sig) != JV_KIND_OBJECT) {
		jv_free(sig);
		*err = xstrdup("signature: expected a JSON object with "
		    "\"inputs\" and \"outputs\"");
		return jv_invalid();
	}
	in = check_cols(reg_get(jv_copy(sig), jv_string("inputs")),
	    "inputs", err);
	if (!jv_is_valid(in)) {
		jv_free(sig);
		return in;
	}
	if (jv_array_length(jv_copy(in)) == 0) {
		jv_free(sig);
		jv_free(in);
		*err = xstrdup("signature: \"inputs\" is empty");
		return jv_invalid();
	}
	outc = check_cols(reg_get(sig, jv_string("outputs")), "outputs",
	    err);
	if (!jv_is_valid(outc)) {
		jv_free(in);
		return outc;
	}
	res = jv_object_set(jv_object(), jv_string("inputs"), in);
	return jv_object_set(res, jv_string("outputs"), outc);
}

jv
sig_from_rank(jv rsig, char **err)
{
	jv f = reg_get(jv_copy(rsig), jv_string("features"));
	jv t = reg_get(rsig, jv_string("types"));
	jv in = jv_array(), out, sig;
	int i, n;

	if (jv_get_kind(f) != JV_KIND_ARRAY ||
	    jv_get_kind(t) != JV_KIND_ARRAY ||
	    jv_array_length(jv_copy(f)) != jv_array_length(jv_copy(t))) {
		jv_free(f);
		jv_free(t);
		jv_free(in);
		*err = xstrdup("model: signature: expected \"features\" and "
		    "\"types\" arrays of one length");
		return jv_invalid();
	}
	n = jv_array_length(jv_copy(f));
	for (i = 0; i < n; i++) {
		jv nm = jv_array_get(jv_copy(f), i);
		jv ty = jv_array_get(jv_copy(t), i);
		const char *mt;

		if (jv_get_kind(nm) != JV_KIND_STRING ||
		    jv_get_kind(ty) != JV_KIND_STRING) {
			jv_free(nm);
			jv_free(ty);
			jv_free(f);
			jv_free(t);
			jv_free(in);
			*err = xasprintf("model: signature: feature %d is not "
			    "a name with a type", i);
			return jv_invalid();
		}
		mt = jv_string_value(ty);
		if (strcmp(mt, "number") == 0)
			mt = "double";
		else if (strcmp(mt, "integer") == 0)
			mt = "long";
		else if (!known_type(mt))
			mt = "string";
		in = jv_array_append(in, jv_object_set(jv_object_set(
		    jv_object_set(jv_object(), jv_string("name"), nm),
		    jv_string("type"), jv_string(mt)), jv_string("required"),
		    jv_true()));
		jv_free(ty);
	}
	jv_free(f);
	jv_free(t);
	out = jv_array_append(jv_array(), jv_object_set(jv_object_set(
	    jv_object_set(jv_object(), jv_string("name"),
	    jv_string("rank_score")), jv_string("type"), jv_string("double")),
	    jv_string("required"), jv_true()));
	sig = jv_object_set(jv_object(), jv_string("inputs"), in);
	return sig_check(jv_object_set(sig, jv_string("outputs"), out), err);
}

/* Index of the column named nm in cols (borrowed both), or -1. */
static int
col_index(jv cols, const char *nm, jv *type)
{
	int i, n = jv_array_length(jv_copy(cols));

	for (i = 0; i < n; i++) {
		jv c = jv_array_get(jv_copy(cols), i);
		jv cn = reg_get(jv_copy(c), jv_string("name"));
		int hit = jv_get_kind(cn) == JV_KIND_STRING &&
		    strcmp(jv_string_value(cn), nm) == 0;

		jv_free(cn);
		if (hit) {
			if (type != NULL)
				*type = reg_get(c, jv_string("type"));
			else
				jv_free(c);
			return i;
		}
		jv_free(c);
	}
	return -1;
}

/* Append one clause (consumed) to msg, "; "-separated. */
static void
clause(struct buf *msg, int *n, char *s)
{
	if ((*n)++ > 0)
		buf_adds(msg, "; ");
	buf_adds(msg, s);
	free(s);
}

int
sig_diff(jv old_sig, jv new_sig, struct buf *msg)
{
	jv oi = reg_get(jv_copy(old_sig), jv_string("inputs"));
	jv ni = reg_get(jv_copy(new_sig), jv_string("inputs"));
	jv oo = reg_get(jv_copy(old_sig), jv_string("outputs"));
	jv no = reg_get(jv_copy(new_sig), jv_string("outputs"));
	int i, j, nn, on, cnt = 0;

	if (jv_get_kind(oi) != JV_KIND_ARRAY)
		oi = (jv_free(oi), jv_array());
	if (jv_get_kind(ni) != JV_KIND_ARRAY)
		ni = (jv_free(ni), jv_array());
	nn = jv_array_length(jv_copy(ni));
	on = jv_array_length(jv_copy(oi));
	for (i = 0; i < nn; i++) {
		jv c = jv_array_get(jv_copy(ni), i);
		jv cn = reg_get(jv_copy(c), jv_string("name"));
		jv ct = reg_get(c, jv_string("type"));
		jv ot = jv_invalid();

		j = col_index(oi, jv_string_value(cn), &ot);
		if (j < 0)
			clause(msg, &cnt, xasprintf("added feature \"%s\" (%s)",
			    jv_string_value(cn), jv_string_value(ct)));
		else if (strcmp(jv_string_value(ot), jv_string_value(ct)) != 0)
			clause(msg, &cnt, xasprintf("retyped feature \"%s\" "
			    "(%s -> %s)", jv_string_value(cn),
			    jv_string_value(ot), jv_string_value(ct)));
		jv_free(ot);
		jv_free(cn);
		jv_free(ct);
	}
	for (i = 0; i < on; i++) {
		jv c = jv_array_get(jv_copy(oi), i);
		jv cn = reg_get(c, jv_string("name"));

		if (col_index(ni, jv_string_value(cn), NULL) < 0)
			clause(msg, &cnt, xasprintf("removed feature \"%s\"",
			    jv_string_value(cn)));
		jv_free(cn);
	}
	/*
	 * Order matters to a model that reads features by index: among the
	 * features both sides have, report each whose relative position
	 * moved (added or removed ones already shift the rest).
	 */
	if (cnt == 0) {
		for (i = 0; i < nn; i++) {
			jv c = jv_array_get(jv_copy(ni), i);
			jv cn = reg_get(c, jv_string("name"));

			j = col_index(oi, jv_string_value(cn), NULL);
			if (j >= 0 && j != i) {
				clause(msg, &cnt, xasprintf("moved feature "
				    "\"%s\" (%d -> %d)", jv_string_value(cn),
				    j + 1, i + 1));
			}
			jv_free(cn);
		}
	}
	if (!jv_equal(jv_copy(oo), jv_copy(no)))
		clause(msg, &cnt, xstrdup("output changed"));
	jv_free(oo);
	jv_free(no);
	jv_free(oi);
	jv_free(ni);
	return cnt;
}

char *
metric_mlflow_name(const char *name)
{
	struct buf b;
	const char *p;

	buf_init(&b);
	for (p = name; *p != '\0'; p++) {
		unsigned char c = (unsigned char)*p;

		if (c == '@')
			buf_adds(&b, "_at_");
		else if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		    (c >= '0' && c <= '9') || c == '_' || c == '.' ||
		    c == '-' || c == '/' || c == ' ')
			buf_addc(&b, c);
		else
			buf_addc(&b, '_');
	}
	if (b.data == NULL)
		buf_adds(&b, "");
	return b.data;
}

void
content_key(const char *s, size_t n, char *dst)
{
	uint64_t h = 0xcbf29ce484222325ULL;
	size_t i;

	for (i = 0; i < n; i++) {
		h ^= (unsigned char)s[i];
		h *= 0x100000001b3ULL;
	}
	snprintf(dst, 17, "%016llx", (unsigned long long)h);
}

long long
reg_now(void)
{
	const char *e = getenv("SOURCE_DATE_EPOCH");
	long long t;

	if (e != NULL && *e != '\0' && parse_int(e, strlen(e), &t) && t >= 0)
		return t;
	return (long long)time(NULL);
}

void
reg_iso(long long t, char *dst)
{
	time_t tt = (time_t)t;
	struct tm tm;

	gmtime_r(&tt, &tm);
	strftime(dst, 21, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

const char *
reg_who(const char *by)
{
	const char *u;

	if (by != NULL && *by != '\0')
		return by;
	if ((u = getenv("USER")) != NULL && *u != '\0')
		return u;
	if ((u = getenv("LOGNAME")) != NULL && *u != '\0')
		return u;
	return "unknown";
}

jv
reg_get(jv o, jv k)
{
	if (jv_get_kind(o) != JV_KIND_OBJECT) {
		jv_free(o);
		jv_free(k);
		return jv_invalid();
	}
	return jv_object_get(o, k);
}
