/*
 * jspan.c - the byte spans of the items a simple jq path selects, so an
 * envelope's payload is the upstream's own bytes (only the white space
 * between tokens removed) rather than libjq's re-encoding, which would
 * round big integers and rewrite 1.0 as 1.  A small validating scanner;
 * libjq still parses every body, this only finds where items are.
 */
#include <stdlib.h>
#include <string.h>

#include "fetch.h"

#define MAX_DEPTH 512

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

struct scan {
	const char *p, *end;
	const struct jspan *path;
	size_t **spans;
	size_t *cap;
	long count;
	const char *base;
	int depth;
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

static void
ws(struct scan *sc)
{
	while (sc->p < sc->end && (*sc->p == ' ' || *sc->p == '\t' ||
	    *sc->p == '\n' || *sc->p == '\r'))
		sc->p++;
}

/* Skip a string; sc->p at the opening quote.  0 on error. */
static int
skip_string(struct scan *sc)
{
	const char *p = sc->p + 1;

	for (; p < sc->end; p++) {
		if (*p == '"') {
			sc->p = p + 1;
			return 1;
		}
		if (*p == '\\') {
			p++;
			if (p >= sc->end)
				return 0;
		} else if ((unsigned char)*p < 0x20)
			return 0;
	}
	return 0;
}

static int value(struct scan *, size_t step);

static void
add_span(struct scan *sc, const char *from, const char *to)
{
	size_t i = (size_t)sc->count * 2;

	if (i + 2 > *sc->cap) {
		*sc->cap = *sc->cap ? *sc->cap * 2 : 64;
		*sc->spans = xreallocarray(*sc->spans, *sc->cap,
		    sizeof **sc->spans);
	}
	(*sc->spans)[i] = from - sc->base;
	(*sc->spans)[i + 1] = to - from;
	sc->count++;
}

/*
 * Scan one value.  step is the index of the path step to apply to it;
 * step == n means the value is selected; step > n means just skip.
 */
static int
value(struct scan *sc, size_t step)
{
	const struct jspan *j = sc->path;
	const char *start;
	size_t skip = j->n + 1;
	long idx = 0;

	ws(sc);
	if (sc->p >= sc->end)
		return 0;
	start = sc->p;
	if (*sc->p == '{' || *sc->p == '[') {
		int obj = *sc->p == '{';
		char close = obj ? '}' : ']';

		if (++sc->depth > MAX_DEPTH)
			return 0;
		sc->p++;
		ws(sc);
		if (sc->p < sc->end && *sc->p == close)
			sc->p++;
		else
			for (;;) {
				size_t next = skip;

				if (obj) {
					const char *k;

					ws(sc);
					if (sc->p >= sc->end || *sc->p != '"')
						return 0;
					k = sc->p + 1;
					if (!skip_string(sc))
						return 0;
					if (step < j->n &&
					    j->s[step].kind == STEP_KEY &&
					    (size_t)(sc->p - 1 - k) ==
					    j->s[step].keylen &&
					    memcmp(k, j->s[step].key,
					    j->s[step].keylen) == 0)
						next = step + 1;
					ws(sc);
					if (sc->p >= sc->end || *sc->p != ':')
						return 0;
					sc->p++;
				} else if (step < j->n &&
				    (j->s[step].kind == STEP_ALL ||
				    (j->s[step].kind == STEP_INDEX &&
				    j->s[step].index == idx)))
					next = step + 1;
				if (!value(sc, next))
					return 0;
				idx++;
				ws(sc);
				if (sc->p >= sc->end)
					return 0;
				if (*sc->p == ',') {
					sc->p++;
					continue;
				}
				if (*sc->p != close)
					return 0;
				sc->p++;
				break;
			}
		sc->depth--;
	} else if (*sc->p == '"') {
		if (!skip_string(sc))
			return 0;
	} else {
		const char *p = sc->p;

		/* Numbers and literals; libjq has judged their spelling. */
		while (p < sc->end && ((*p >= '0' && *p <= '9') ||
		    (*p >= 'a' && *p <= 'z') || *p == '-' || *p == '+' ||
		    *p == '.' || *p == 'E'))
			p++;
		if (p == sc->p)
			return 0;
		sc->p = p;
	}
	if (step == j->n)
		add_span(sc, start, sc->p);
	return 1;
}

long
jspan_find(const struct jspan *j, const char *body, size_t len,
    size_t **spans, size_t *cap)
{
	struct scan sc = { 0 };

	sc.p = sc.base = body;
	sc.end = body + len;
	sc.path = j;
	sc.spans = spans;
	sc.cap = cap;
	if (!value(&sc, 0))
		return -1;
	ws(&sc);
	return sc.p == sc.end ? sc.count : -1;
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
