/*
 * jspan.c - the byte spans of the items a simple jq path selects, so an
 * envelope's payload is the upstream's own bytes (only the white space
 * between tokens removed) rather than libjq's re-encoding, which would
 * round big integers and rewrite 1.0 as 1.  The record scanner validates
 * the body and walks it; libjq still parses every body, this only finds
 * where the items are.
 */
#include <stdlib.h>
#include <string.h>

#include "fetch.h"
#include "scan.h"

enum { STEP_KEY, STEP_ALL, STEP_INDEX };

struct step {
	int kind;
	char *key;
	size_t keylen;
	long index;
};

struct jspan {
	struct step *s;
	size_t n;
};

struct jspan *
jspan_compile(const char *path)
{
	struct jspan *j = xcalloc(1, sizeof *j);
	const char *p = path;

	while (*p == ' ')
		p++;
	if (strcmp(p, ".") == 0)
		return j;
	while (*p != '\0') {
		struct step st = { 0 };

		if (*p == ' ') {
			p++;
			continue;
		}
		if (p[0] == '.' && p[1] == '"') {
			const char *q = strchr(p + 2, '"');

			if (q == NULL || memchr(p + 2, '\\', q - p - 2))
				goto bad;
			st.kind = STEP_KEY;
			st.key = xstrndup(p + 2, q - p - 2);
			st.keylen = q - p - 2;
			p = q + 1;
		} else if (p[0] == '.' && (p[1] == '_' ||
		    ((p[1] | 32) >= 'a' && (p[1] | 32) <= 'z'))) {
			size_t n = 1;

			while (p[n] == '_' || (p[n] >= '0' && p[n] <= '9') ||
			    ((p[n] | 32) >= 'a' && (p[n] | 32) <= 'z'))
				n++;
			st.kind = STEP_KEY;
			st.key = xstrndup(p + 1, n - 1);
			st.keylen = n - 1;
			p += n;
		} else if (p[0] == '[' && p[1] == ']') {
			st.kind = STEP_ALL;
			p += 2;
		} else if (p[0] == '[' && p[1] >= '0' && p[1] <= '9') {
			char *e;

			st.kind = STEP_INDEX;
			st.index = strtol(p + 1, &e, 10);
			if (*e != ']')
				goto bad;
			p = e + 1;
		} else if (p[0] == '.' && p[1] == '[') {
			p++;
			continue;
		} else
			goto bad;
		if (*p == '?')
			p++;
		j->s = xreallocarray(j->s, j->n + 1, sizeof *j->s);
		j->s[j->n++] = st;
	}
	return j;
bad:
	jspan_free(j);
	return NULL;
}

void
jspan_free(struct jspan *j)
{
	size_t i;

	if (j == NULL)
		return;
	for (i = 0; i < j->n; i++)
		free(j->s[i].key);
	free(j->s);
	free(j);
}

static int
is_ws(char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

struct found {
	const char *base;
	size_t **spans;
	size_t *cap;
	long count;
};

static void
add_span(struct found *f, const char *v, size_t n)
{
	size_t i = (size_t)f->count * 2;

	if (i + 2 > *f->cap) {
		*f->cap = *f->cap ? *f->cap * 2 : 64;
		*f->spans = xreallocarray(*f->spans, *f->cap,
		    sizeof **f->spans);
	}
	(*f->spans)[i] = (size_t)(v - f->base);
	(*f->spans)[i + 1] = n;
	f->count++;
}

static void pick(const struct jspan *, size_t, const char *, size_t,
    struct found *);

/*
 * Apply step to every element of the valid array or object text v[0..n)
 * (the values of an object, as jq's .[] gives them), in document order.
 */
static void
pick_all(const struct jspan *j, size_t step, const char *v, size_t n,
    struct found *f)
{
	int obj = *v == '{';
	size_t p = 1, l;

	for (;;) {
		while (is_ws(v[p]))
			p++;
		if (v[p] == ']' || v[p] == '}')
			return;
		if (obj) {
			p += scan_skip(v + p, n - p);
			while (is_ws(v[p]))
				p++;
			p++;			/* the ':' */
			while (is_ws(v[p]))
				p++;
		}
		l = scan_skip(v + p, n - p);
		pick(j, step, v + p, l, f);
		p += l;
		while (is_ws(v[p]))
			p++;
		if (v[p] != ',')
			return;
		p++;
	}
}

/* Apply the path from step on to the valid value text v[0..n). */
static void
pick(const struct jspan *j, size_t step, const char *v, size_t n,
    struct found *f)
{
	const struct step *st;
	size_t off, len;

	if (step == j->n) {
		add_span(f, v, n);
		return;
	}
	st = &j->s[step];
	switch (st->kind) {
	case STEP_KEY:
		if (*v == '{' && scan_obj_get(v, n, st->key, st->keylen,
		    &off, &len))
			pick(j, step + 1, v + off, len, f);
		break;
	case STEP_INDEX:
		if (*v == '[' && scan_arr_get(v, n, st->index, &off, &len))
			pick(j, step + 1, v + off, len, f);
		break;
	case STEP_ALL:
		if (*v == '[' || *v == '{')
			pick_all(j, step + 1, v, n, f);
		break;
	}
}

long
jspan_find(const struct jspan *j, const char *body, size_t len,
    size_t **spans, size_t *cap)
{
	struct found f = { body, spans, cap, 0 };
	struct scan sc;
	long k;

	scan_init(&sc);
	if (!scan_text(&sc, body, len)) {
		scan_free(&sc);
		return -1;
	}
	/*
	 * The scan indexed the top-level members: a first .key step takes
	 * its span from there instead of walking the body again.
	 */
	if (j->n > 0 && j->s[0].kind == STEP_KEY && sc.kind == SCAN_OBJECT) {
		k = scan_find(&sc, body, j->s[0].key, j->s[0].keylen);
		if (k >= 0)
			pick(j, 1, body + sc.m[k].val, sc.m[k].val_len, &f);
	} else {
		pick(j, 0, body + sc.val, sc.val_len, &f);
	}
	scan_free(&sc);
	return f.count;
}

void
json_compact(struct buf *b, const char *s, size_t len)
{
	const char *p = s, *end = s + len, *run = s;

	buf_reserve(b, len);
	while (p < end) {
		if (*p == '"') {
			for (p++; p < end && *p != '"'; p++)
				if (*p == '\\')
					p++;
			p++;
		} else if (*p == ' ' || *p == '\n' || *p == '\t' ||
		    *p == '\r') {
			buf_add(b, run, p - run);
			while (p < end && (*p == ' ' || *p == '\n' ||
			    *p == '\t' || *p == '\r'))
				p++;
			run = p;
		} else
			p++;
	}
	if (p > end)
		p = end;
	buf_add(b, run, p - run);
}
