/*
 * fuzz/extract.c - libFuzzer target for asin-fetch's extraction of
 * records from a response body (bin/asin-fetch/extract.c, jspan.c) with
 * the shipped provider profiles.  The input's first line picks the
 * profile (its first byte) and lists the ASINs asked for (comma
 * separated, those asin-fetch would take); the rest is the body.  Besides not crashing: a refused body
 * has a message, an accepted one gives exactly one envelope line per ASIN,
 * each a JSON object the record scanner accepts, and the counts add up.
 * Differentially, wherever jspan_find() finds as many items as libjq's
 * program outputs (extract() then writes the upstream's own bytes), each
 * span must hold the value libjq found, for the profiles' paths and a few
 * more.
 *
 * FUZZ-LINK: bin/asin-fetch/extract.c bin/asin-fetch/jspan.c
 * FUZZ-LINK: bin/asin-fetch/profile.c bin/asin-fetch/secrets.c
 */
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../../bin/asin-fetch/fetch.h"
#include "scan.h"

int LLVMFuzzerTestOneInput(const uint8_t *, size_t);
int LLVMFuzzerInitialize(int *, char ***);
const char *__lsan_default_suppressions(void);

/* libjq 1.6 leaks a token buffer on some parse errors; not ours. */
const char *
__lsan_default_suppressions(void)
{
	return "leak:libjq.so\n";
}

#define NPROF 3
#define MAX_IDS 16

static const char *const prof_names[NPROF] = { "keepa", "spapi-catalog",
    "reviews-template" };
static struct profile *prof[NPROF];
static struct secrets sec;

/* Paths jspan.c must agree with libjq on, besides the profiles'. */
static const char *const paths[] = { ".products[]?", ".items[]", ".[]",
    ".a.b", ".a[1]", ".[0][]?", ".\"k y\"[]?.v", ".x?[2]?", ".", ".a[]?[]" };
#define NPATHS (sizeof(paths) / sizeof(paths[0]))
static struct jspan *span[NPATHS];
static jq_state *jq[NPATHS];

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	char exe[PATH_MAX], *slash, *path;
	ssize_t n;
	size_t i;

	diag_init("fuzz-extract");
	/* $ASIN_SCHEMAS, else build-fuzz/../schemas */
	if ((slash = getenv("ASIN_SCHEMAS")) != NULL && *slash != '\0')
		snprintf(exe, sizeof(exe), "%s", slash);
	else {
		if ((n = readlink("/proc/self/exe", exe, sizeof(exe) - 1)) < 0)
			die("/proc/self/exe:");
		exe[n] = '\0';
		if ((slash = strrchr(exe, '/')) != NULL)
			*slash = '\0';
		strncat(exe, "/../schemas", sizeof(exe) - strlen(exe) - 1);
	}
	for (i = 0; i < NPROF; i++) {
		path = xasprintf("%s/providers/%s.json", exe,
		    prof_names[i]);
		prof[i] = profile_load(path, NULL, &sec);
		free(path);
	}
	for (i = 0; i < NPATHS; i++) {
		if ((span[i] = jspan_compile(paths[i])) == NULL)
			die("jspan_compile(%s) refused", paths[i]);
		jq[i] = jq_init();
		if (!jq_compile(jq[i], paths[i]))
			die("jq_compile(%s) refused", paths[i]);
	}
	return 0;
}

/* As asin-fetch's main.c takes them: ten of A-Z and 0-9. */
static int
valid_asin(const char *s, size_t n)
{
	size_t i;

	if (n != 10)
		return 0;
	for (i = 0; i < n; i++)
		if (!((s[i] >= 'A' && s[i] <= 'Z') || (s[i] >= '0' &&
		    s[i] <= '9')))
			return 0;
	return 1;
}

static int
cmp_id(const void *a, const void *b)
{
	return memcmp(a, b, 10);
}

/* Where the spans and libjq agree on the count, the values agree. */
static void
span_agrees(size_t k, const char *body, size_t len)
{
	size_t *sp = NULL, cap = 0;
	long n, i;
	jv out, a, b;

	n = jspan_find(span[k], body, len, &sp, &cap);
	if (n < 0) {
		free(sp);
		return;
	}
	out = jq_all(jq[k], jv_parse_sized(body, (int)len));
	if (jv_is_valid(out) && jv_array_length(jv_copy(out)) == n)
		for (i = 0; i < n; i++) {
			a = jv_array_get(jv_copy(out), (int)i);
			b = jv_parse_sized(body + sp[2 * i], (int)sp[2 * i + 1]);
			if (!jv_equal(jv_copy(a), jv_copy(b))) {
				fprintf(stderr, "path %s, item %ld: span "
				    "%.*s is not what libjq found\n", paths[k],
				    i, (int)sp[2 * i + 1], body + sp[2 * i]);
				abort();
			}
			jv_free(a);
			jv_free(b);
		}
	jv_free(out);
	free(sp);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct scan sc;
	static int init;
	const char *p = (const char *)data, *nl, *body, *q, *e, *ln;
	char ids[MAX_IDS][11];
	struct run r;
	struct batch b;
	size_t len, i;
	long long before;
	char *err = NULL;
	int nids = 0, lines = 0;

	if (!init) {
		scan_init(&sc);
		init = 1;
	}
	if (size == 0 || size > 1 << 18 ||
	    (nl = memchr(p, '\n', size)) == NULL)
		return 0;
	body = nl + 1;
	len = size - (size_t)(body - p);
	/* The ASINs: the 10-byte items of the first line after its byte. */
	for (q = p + 1; q < nl && nids < MAX_IDS; q = e + 1) {
		if ((e = memchr(q, ',', (size_t)(nl - q))) == NULL)
			e = nl;
		if (valid_asin(q, (size_t)(e - q))) {
			memcpy(ids[nids], q, 10);
			ids[nids++][10] = '\0';
		}
	}
	qsort(ids, (size_t)nids, sizeof(ids[0]), cmp_id);
	for (i = 1; i < (size_t)nids; i++)
		if (memcmp(ids[i - 1], ids[i], 10) == 0) {
			memmove(ids + i, ids + i + 1,
			    ((size_t)nids - i - 1) * sizeof(ids[0]));
			nids--;
			i--;
		}

	memset(&r, 0, sizeof(r));
	r.prof = prof[(unsigned char)p[0] % NPROF];
	r.date = "2026-05-10";
	memset(&b, 0, sizeof(b));
	b.mkt = mkt_find("US", 2);
	b.ids = ids;
	b.n = nids;
	strcpy(b.bid, "0123456789abcdef");
	strcpy(b.fetched_at, "2026-05-10T04:02:00Z");
	b.http = 200;
	b.attempts = 1;
	buf_init(&b.env);
	before = r.c.ok + r.c.missing + r.c.invalid;
	if (extract(&r, &b, body, len, &err) != 0) {
		if (err == NULL || *err == '\0' || b.env.len != 0) {
			fprintf(stderr, "a refused body without a message, "
			    "or with envelopes\n");
			abort();
		}
		free(err);
	} else {
		for (ln = b.env.data; ln != NULL && ln < b.env.data +
		    b.env.len; ln = nl + 1, lines++) {
			nl = memchr(ln, '\n', b.env.len - (size_t)(ln -
			    b.env.data));
			if (nl == NULL || !scan_text(&sc, ln, (size_t)(nl -
			    ln)) || sc.kind != SCAN_OBJECT) {
				fprintf(stderr, "envelope %d is not one JSON "
				    "object line: %s\n", lines, ln);
				abort();
			}
		}
		if (lines != nids || r.c.ok + r.c.missing + r.c.invalid -
		    before != nids) {
			fprintf(stderr, "%d ASINs, %d envelopes\n", nids,
			    lines);
			abort();
		}
	}
	buf_free(&b.env);
	span_agrees((unsigned char)p[0] % NPATHS, body, len);
	return 0;
}
