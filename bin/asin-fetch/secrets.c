/*
 * secrets.c - where asin-fetch's secrets come from (the environment, then
 * an env file) and how they are kept out of every line it writes: each
 * value looked up is remembered and scrubbed from logs, envelopes, the
 * journal and error messages, as are the values of named URL parameters.
 */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fetch.h"

static void
push(char ***v, size_t *n, char *s)
{
	*v = xreallocarray(*v, *n + 1, sizeof **v);
	(*v)[(*n)++] = s;
}

void
secrets_load(struct secrets *s, const char *path, int required)
{
	FILE *fp = fopen(path, "r");
	char *line = NULL;
	size_t cap = 0;
	ssize_t len;
	long lineno = 0;

	if (fp == NULL) {
		if (required || errno != ENOENT)
			die("%s:", path);
		return;
	}
	while ((len = getline(&line, &cap, fp)) >= 0) {
		char *p = line, *eq, *v, *end;

		lineno++;
		while (len > 0 && (line[len - 1] == '\n' || line[len - 1] == '\r'))
			line[--len] = '\0';
		while (isspace((unsigned char)*p))
			p++;
		if (*p == '\0' || *p == '#')
			continue;
		if (strncmp(p, "export ", 7) == 0)
			p += 7;
		eq = strchr(p, '=');
		if (eq == NULL || eq == p)
			die_at(path, lineno, "expected NAME=VALUE");
		for (end = p; end < eq; end++)
			if (!(isalnum((unsigned char)*end) || *end == '_'))
				die_at(path, lineno, "bad variable name");
		*eq = '\0';
		v = eq + 1;
		if (*v == '"' || *v == '\'') {
			char q = *v++, *d = v, *r = v;

			for (; *r != '\0' && *r != q; r++) {
				if (q == '"' && *r == '\\' && r[1] != '\0')
					r++;
				*d++ = *r;
			}
			if (*r != q)
				die_at(path, lineno, "unterminated quote");
			*d = '\0';
		} else {
			end = v + strlen(v);
			while (end > v && isspace((unsigned char)end[-1]))
				*--end = '\0';
		}
		push(&s->names, &s->n, xstrdup(p));
		s->vals = xreallocarray(s->vals, s->n, sizeof *s->vals);
		s->vals[s->n - 1] = xstrdup(v);
	}
	if (ferror(fp))
		die("%s: read error:", path);
	free(line);
	fclose(fp);
}

static void
add_one(struct secrets *s, const char *value)
{
	size_t i;

	for (i = 0; i < s->nredact; i++)
		if (strcmp(s->redact[i], value) == 0)
			return;
	push(&s->redact, &s->nredact, xstrdup(value));
	/* Longest first, so a secret that contains another is removed whole. */
	for (i = s->nredact - 1; i > 0 &&
	    strlen(s->redact[i]) > strlen(s->redact[i - 1]); i--) {
		char *t = s->redact[i];

		s->redact[i] = s->redact[i - 1];
		s->redact[i - 1] = t;
	}
}

void
secrets_add(struct secrets *s, const char *value)
{
	char *esc;

	/* Short values would scrub ordinary text and hide nothing. */
	if (value == NULL || strlen(value) < 4)
		return;
	add_one(s, value);
	/* In a URL the value appears escaped. */
	esc = curl_easy_escape(NULL, value, 0);
	if (esc != NULL && strcmp(esc, value) != 0)
		add_one(s, esc);
	curl_free(esc);
}

const char *
secrets_get(struct secrets *s, const char *name)
{
	const char *v = getenv(name);
	size_t i;

	if (v == NULL)
		for (i = s->n; i-- > 0;)
			if (strcmp(s->names[i], name) == 0) {
				v = s->vals[i];
				break;
			}
	if (v != NULL && *v == '\0')
		v = NULL;
	secrets_add(s, v);
	return v;
}

void
secrets_param(struct secrets *s, const char *name)
{
	push(&s->params, &s->nparams, xstrdup(name));
}

char *
redact(const struct secrets *s, const char *str)
{
	struct buf b;
	size_t i;
	const char *p;
	char *cur = xstrdup(str);

	for (i = 0; i < s->nredact; i++) {
		const char *v = s->redact[i], *hit;
		size_t vl = strlen(v);

		if (strstr(cur, v) == NULL)
			continue;
		buf_init(&b);
		for (p = cur; (hit = strstr(p, v)) != NULL; p = hit + vl) {
			buf_add(&b, p, hit - p);
			buf_adds(&b, "REDACTED");
		}
		buf_adds(&b, p);
		free(cur);
		cur = b.data;
	}
	/* name=value in a query string: scrub up to the next & or space. */
	for (i = 0; i < s->nparams; i++) {
		size_t nl = strlen(s->params[i]);

		buf_init(&b);
		for (p = cur; *p != '\0'; p++) {
			if ((p == cur || p[-1] == '?' || p[-1] == '&') &&
			    strncmp(p, s->params[i], nl) == 0 && p[nl] == '=') {
				buf_add(&b, p, nl + 1);
				buf_adds(&b, "REDACTED");
				p += nl + 1;
				while (*p != '\0' && *p != '&' && *p != ' ' &&
				    *p != '"')
					p++;
				p--;
				continue;
			}
			buf_addc(&b, *p);
		}
		free(cur);
		cur = b.data ? b.data : xstrdup("");
	}
	return cur;
}

void
secrets_free(struct secrets *s)
{
	size_t i;

	for (i = 0; i < s->n; i++) {
		/* Do not leave secrets lying around in freed memory. */
		explicit_bzero(s->vals[i], strlen(s->vals[i]));
		free(s->vals[i]);
		free(s->names[i]);
	}
	for (i = 0; i < s->nredact; i++) {
		explicit_bzero(s->redact[i], strlen(s->redact[i]));
		free(s->redact[i]);
	}
	for (i = 0; i < s->nparams; i++)
		free(s->params[i]);
	free(s->names);
	free(s->vals);
	free(s->redact);
	free(s->params);
	memset(s, 0, sizeof *s);
}
