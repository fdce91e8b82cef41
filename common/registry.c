/*
 * registry.c - the operations both backends share: parsing NAME@REF and
 * the promotion contract (same signature and feature version as the
 * stage's holder and as the pipeline declares, else refused naming each
 * feature), which runs before the backend's commit so a refusal never
 * changes anything.
 */
#include <stdlib.h>
#include <string.h>

#include "registry.h"

int
reg_valid_name(const char *s)
{
	size_t i, n = strlen(s), dots = 0;

	if (n == 0 || n > 200)
		return 0;
	for (i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c == '.')
			dots++;
		else if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		    (c >= '0' && c <= '9') || c == '_' || c == '-'))
			return 0;
	}
	return dots < n;
}

int
reg_parse_ref(const char *s, char **name, char **ref)
{
	const char *at = strchr(s, '@');
	size_t i;

	*name = at ? xstrndup(s, (size_t)(at - s)) : xstrdup(s);
	*ref = xstrdup(at ? at + 1 : "latest");
	if (!reg_valid_name(*name) || **ref == '\0' || strlen(*ref) > 255)
		goto bad;
	for (i = 0; (*ref)[i] != '\0'; i++) {
		unsigned char c = (unsigned char)(*ref)[i];

		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		    (c >= '0' && c <= '9') || c == '_' || c == '-'))
			goto bad;
	}
	return 0;
bad:
	free(*name);
	free(*ref);
	*name = *ref = NULL;
	return -1;
}

/* A string member of v (borrowed) or NULL; valid while v lives. */
static const char *
sfield(jv v, const char *k)
{
	jv s = reg_get(jv_copy(v), jv_string(k));
	const char *r = NULL;

	/* The string's storage belongs to v, which outlives the result. */
	if (jv_get_kind(s) == JV_KIND_STRING)
		r = jv_string_value(s);
	jv_free(s);
	return r;
}

static long long
vnum(jv v)
{
	jv n = reg_get(jv_copy(v), jv_string("version"));
	long long r = jv_get_kind(n) == JV_KIND_NUMBER ?
	    (long long)jv_number_value(n) : 0;

	jv_free(n);
	return r;
}

int
reg_promote(struct registry *r, const struct reg_promote *p, jv *event,
    char **err)
{
	char ref[32], ts[24];
	jv cand, hold = jv_null(), ev;
	struct buf why, diff;
	const char *cfv, *hfv;
	long long prev = 0;
	int nd = 0, rc = -1;

	snprintf(ref, sizeof ref, "%lld", p->version);
	cand = r->be->get(r->state, p->name, ref, err);
	if (!jv_is_valid(cand))
		return -1;
	if (jv_get_kind(cand) == JV_KIND_NULL) {
		*err = xasprintf("%s: no version %lld", p->name, p->version);
		return -1;
	}
	hold = r->be->get(r->state, p->name, p->stage, err);
	if (!jv_is_valid(hold)) {
		jv_free(cand);
		return -1;
	}
	buf_init(&why);
	buf_init(&diff);
	cfv = sfield(cand, "feature_version");
	if (jv_get_kind(hold) == JV_KIND_OBJECT) {
		prev = vnum(hold);
		if (prev == p->version) {
			*err = xasprintf("%s: version %lld already holds %s",
			    p->name, p->version, p->stage);
			rc = 1;
			goto out;
		}
		{
			char *e1 = NULL, *e2 = NULL;
			jv hs = sig_check(reg_get(jv_copy(hold),
			    jv_string("signature")), &e1);
			jv cs = sig_check(reg_get(jv_copy(cand),
			    jv_string("signature")), &e2);

			/* a hand-edited store must not be compared blindly */
			if (!jv_is_valid(hs) || !jv_is_valid(cs)) {
				*err = xasprintf("%s: version %lld: stored %s",
				    p->name, jv_is_valid(hs) ? p->version :
				    prev, jv_is_valid(hs) ? e2 : e1);
				free(e1);
				free(e2);
				jv_free(hs);
				jv_free(cs);
				goto out;
			}
			nd = sig_diff(hs, cs, &diff);
			jv_free(hs);
			jv_free(cs);
		}
		hfv = sfield(hold, "feature_version");
		if ((cfv == NULL) != (hfv == NULL) ||
		    (cfv != NULL && strcmp(cfv, hfv) != 0)) {
			buf_printf(&diff, "%sfeature version %s -> %s",
			    nd ? "; " : "", hfv ? hfv : "none",
			    cfv ? cfv : "none");
			nd++;
		}
		if (nd > 0)
			buf_printf(&why, "signature differs from version %lld "
			    "(%s): %s", prev, p->stage, diff.data);
	}
	if (p->feature_version != NULL && (cfv == NULL ||
	    strcmp(cfv, p->feature_version) != 0)) {
		buf_printf(&why, "%sfeature version %s, the pipeline declares %s",
		    why.len ? "; " : "", cfv ? cfv : "none", p->feature_version);
		nd++;
	}
	if (nd > 0 && !p->force) {
		*err = xasprintf("%s: promote version %lld to %s refused: %s "
		    "(--force overrides)", p->name, p->version, p->stage,
		    why.data);
		rc = 1;
		goto out;
	}
	reg_iso(reg_now(), ts);
	ev = jv_object();
	ev = jv_object_set(ev, jv_string("ts"), jv_string(ts));
	ev = jv_object_set(ev, jv_string("action"), jv_string("promote"));
	ev = jv_object_set(ev, jv_string("name"), jv_string(p->name));
	ev = jv_object_set(ev, jv_string("version"),
	    jv_number((double)p->version));
	ev = jv_object_set(ev, jv_string("stage"), jv_string(p->stage));
	ev = jv_object_set(ev, jv_string("previous"), prev ?
	    jv_number((double)prev) : jv_null());
	ev = jv_object_set(ev, jv_string("by"), jv_string(reg_who(p->by)));
	ev = jv_object_set(ev, jv_string("forced"), nd > 0 ? jv_true() :
	    jv_false());
	ev = jv_object_set(ev, jv_string("changes"), nd > 0 ?
	    jv_string(why.data) : jv_string(prev ? "same signature and "
	    "feature version" : "first holder"));
	ev = jv_object_set(ev, jv_string("note"), p->note ?
	    jv_string(p->note) : jv_null());
	if (r->be->promote(r->state, p->name, p->version, p->stage, prev,
	    jv_copy(ev), err) != 0) {
		jv_free(ev);
		goto out;
	}
	*event = ev;
	rc = 0;
out:
	buf_free(&why);
	buf_free(&diff);
	jv_free(cand);
	jv_free(hold);
	return rc;
}

void
reg_close(struct registry *r)
{
	if (r == NULL)
		return;
	r->be->close(r->state);
	free(r);
}
