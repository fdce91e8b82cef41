/*
 * fuzz/schema.c - libFuzzer target for the JSON Schema engine
 * (common/schema.c), fuzzing the schema document and the instances
 * together.  The input's first line is the schema, every further line an
 * instance.  A schema that compiles must check each instance without a
 * crash, and, being two roads to one answer, schema_check() on the jv and
 * schema_check_record() through the record layer must give the same
 * count and the same message, first violation or all of them; the count
 * without a message buffer must be the same too.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "asin.h"
#include "scan.h"
#include "schema.h"

int LLVMFuzzerTestOneInput(const uint8_t *, size_t);
const char *__lsan_default_suppressions(void);

/*
 * libjq 1.6 leaks a token buffer on some parse errors; not ours.  Texts
 * go to libjq only once the scanner accepted them, as in the tools, so
 * the leak check (slow) runs only when something really leaked.
 */
const char *
__lsan_default_suppressions(void)
{
	return "leak:libjq.so\n";
}

static void
check_line(const struct schema *s, struct record *rec, struct scan *sc,
    const char *p, size_t n)
{
	struct nd_line ln;
	struct buf a, b;
	const char *perr;
	size_t na, nb;
	jv v;
	int all;

	if (!scan_text(sc, p, n))
		return;
	v = jv_parse_sized(p, (int)n);
	if (!jv_is_valid(v)) {
		jv_free(v);
		return;
	}
	memset(&ln, 0, sizeof(ln));
	ln.buf = p;
	ln.len = n;
	ln.source = "<fuzz>";
	ln.lineno = 1;
	if (!rec_parse(rec, &ln, &perr)) {
		/* Not a record (an array, a duplicate key): the jv road only. */
		buf_init(&a);
		schema_check(s, v, 1, &a);
		buf_free(&a);
		return;
	}
	for (all = 0; all <= 1; all++) {
		buf_init(&a);
		buf_init(&b);
		na = schema_check(s, jv_copy(v), all, &a);
		nb = schema_check_record(s, rec, all, &b);
		if (na != nb || (na > 0 && strcmp(a.data, b.data) != 0)) {
			fprintf(stderr, "all=%d: jv %zu \"%s\", record %zu "
			    "\"%s\"\n", all, na, na ? a.data : "", nb,
			    nb ? b.data : "");
			abort();
		}
		if (schema_check(s, jv_copy(v), all, NULL) != na) {
			fprintf(stderr, "count differs without a buffer\n");
			abort();
		}
		buf_free(&a);
		buf_free(&b);
	}
	jv_free(v);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct scan sc;
	static int init;
	const char *p = (const char *)data, *end = p + size, *nl;
	struct schema *s;
	struct record *rec;
	char *err = NULL;
	jv doc;

	if (size > 1 << 16)
		return 0;
	if (!init) {
		scan_init(&sc);
		init = 1;
	}
	nl = memchr(p, '\n', size);
	if (!scan_text(&sc, p, nl != NULL ? (size_t)(nl - p) : size))
		return 0;
	doc = jv_parse_sized(p, (int)(nl != NULL ? (size_t)(nl - p) : size));
	if (!jv_is_valid(doc)) {
		jv_free(doc);
		return 0;
	}
	if ((s = schema_compile(doc, &err)) == NULL) {
		if (err == NULL || *err == '\0') {
			fprintf(stderr, "a refused schema without a message\n");
			abort();
		}
		free(err);
		return 0;
	}
	rec = rec_new();
	while (nl != NULL) {
		p = nl + 1;
		nl = memchr(p, '\n', (size_t)(end - p));
		check_line(s, rec, &sc, p, nl != NULL ? (size_t)(nl - p) :
		    (size_t)(end - p));
	}
	rec_free(rec);
	schema_free(s);
	return 0;
}
