/*
 * extract.c - one upstream answer into one envelope per requested ASIN.
 * libjq parses the body and runs the profile's programs (items, id,
 * invalid test); the payload written is the item's own bytes whenever the
 * items path is simple enough for jspan.c to find them, so it matches the
 * upstream byte for byte.  Requested ASINs the answer lacks are "missing";
 * items nobody asked for are counted and dropped.
 */
#include <stdlib.h>
#include <string.h>

#include "fetch.h"

static void
env_head(struct run *r, struct batch *b, int i, const char *status,
    const char *reason)
{
	struct buf *e = &b->env;
	const struct profile *p = r->prof;

	buf_adds(e, "{\"asin\":\"");
	buf_add(e, b->ids[i], 10);
	buf_printf(e, "\",\"marketplace\":\"%s\",\"provider\":", b->mkt->code);
	buf_add_jstr(e, p->name, strlen(p->name));
	buf_adds(e, ",\"endpoint\":");
	buf_add_jstr(e, p->endpoint, strlen(p->endpoint));
	buf_printf(e, ",\"date\":\"%s\",\"fetched_at\":\"%s\",\"status\":\"%s\"",
	    r->date, b->fetched_at, status);
	if (reason != NULL) {
		buf_adds(e, ",\"reason\":");
		buf_add_jstr(e, reason, strlen(reason));
	}
	if (b->http > 0)
		buf_printf(e, ",\"http_status\":%ld", b->http);
	else
		buf_adds(e, ",\"http_status\":null");
	buf_printf(e, ",\"attempts\":%d,\"batch\":\"%s\"", b->attempts, b->bid);
}

void
render_failed(struct run *r, struct batch *b)
{
	int i;

	for (i = 0; i < b->n; i++) {
		env_head(r, b, i, "failed", b->reason ? b->reason : "failed");
		buf_adds(&b->env, "}\n");
	}
	r->c.failed += b->n;
	r->done_ids += b->n;
}

static int
cmp_id(const void *a, const void *b)
{
	return memcmp(a, b, 10);
}

/* The first output of prog on item that is a 10-byte string, or -1. */
static int
item_slot(struct run *r, struct batch *b, jv item)
{
	jv ids = jq_all(r->prof->id, item), id;
	char (*hit)[11];
	int slot = -1;

	if (jv_get_kind(ids) == JV_KIND_ARRAY && jv_array_length(jv_copy(ids))
	    > 0) {
		id = jv_array_get(jv_copy(ids), 0);
		if (jv_get_kind(id) == JV_KIND_STRING &&
		    jv_string_length_bytes(jv_copy(id)) == 10) {
			hit = bsearch(jv_string_value(id), b->ids, b->n,
			    sizeof *b->ids, cmp_id);
			if (hit != NULL)
				slot = (int)(hit - b->ids);
		}
		jv_free(id);
	}
	jv_free(ids);
	return slot;
}

static int
is_invalid(struct run *r, jv item)
{
	jv res;
	int yes = 0;

	if (r->prof->invalid == NULL) {
		jv_free(item);
		return 0;
	}
	res = jq_all(r->prof->invalid, item);
	if (jv_get_kind(res) == JV_KIND_ARRAY &&
	    jv_array_length(jv_copy(res)) > 0) {
		jv x = jv_array_get(jv_copy(res), 0);

		yes = jv_get_kind(x) == JV_KIND_TRUE;
		jv_free(x);
	}
	jv_free(res);
	return yes;
}

int
extract(struct run *r, struct batch *b, const char *body, size_t len,
    char **err)
{
	const struct profile *p = r->prof;
	size_t *spans = NULL, cap = 0;
	long nsp = -1;
	int *slot, nitems, i;
	char *perr;
	jv v, items;

	v = json_parse(body, len, &perr);
	if (!jv_is_valid(v)) {
		*err = xasprintf("invalid JSON in response: %s", perr);
		free(perr);
		return -1;
	}
	items = jq_all(p->items, v);
	if (!jv_is_valid(items)) {
		jv m = jv_invalid_get_msg(items);

		*err = xasprintf("no items at %s: %s", p->items_src,
		    jv_get_kind(m) == JV_KIND_STRING ? jv_string_value(m) :
		    "error");
		jv_free(m);
		return -1;
	}
	nitems = jv_array_length(jv_copy(items));
	if (p->span != NULL)
		nsp = jspan_find(p->span, body, len, &spans, &cap);
	if (nsp != nitems)
		nsp = -1;
	slot = xcalloc(b->n, sizeof *slot);
	for (i = 0; i < b->n; i++)
		slot[i] = -1;
	for (i = 0; i < nitems; i++) {
		int s = item_slot(r, b, jv_array_get(jv_copy(items), i));

		if (s < 0 || slot[s] >= 0)
			r->c.unexpected++;
		else
			slot[s] = i;
	}
	for (i = 0; i < b->n; i++) {
		jv item;

		if (slot[i] < 0) {
			env_head(r, b, i, "missing", "not in the response");
			buf_adds(&b->env, "}\n");
			r->c.missing++;
			continue;
		}
		item = jv_array_get(jv_copy(items), slot[i]);
		if (is_invalid(r, jv_copy(item))) {
			env_head(r, b, i, "invalid", NULL);
			r->c.invalid++;
		} else {
			env_head(r, b, i, "ok", NULL);
			r->c.ok++;
		}
		buf_adds(&b->env, ",\"payload\":");
		if (nsp >= 0)
			json_compact(&b->env, body + spans[2 * slot[i]],
			    spans[2 * slot[i] + 1]);
		else {
			jv d = jv_dump_string(item, 0);

			item = jv_null();
			buf_adds(&b->env, jv_string_value(d));
			jv_free(d);
		}
		jv_free(item);
		buf_adds(&b->env, "}\n");
	}
	r->done_ids += b->n;
	free(slot);
	free(spans);
	jv_free(items);
	return 0;
}
