/*
 * Unit tests of the record layer on the scanner backend: lazy getters
 * through paths, escaped and duplicate keys, rec_json's canonical text,
 * which error text a bad line gets, replacing keys by their spans in
 * out.c, and the same answers from the libjq backend (ASIN_PARSER=jq).
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "asin.h"
#include "tap.h"

static const char *tmpdir;

static int
parse(struct record *r, const char *s, const char **err)
{
	struct nd_line l = { s, strlen(s), "<test>", 1, NULL };

	return rec_parse(r, &l, err);
}

/* The answers both backends must give on one line. */
static void
test_getters(const char *backend)
{
	const char *line = "{\"asin\":\"B0X\",\"price\":7.80,\"t\\u0069tle\":"
	    "\"15.6\\\" \\u00e9\",\"z\":\"a\\u0000b\",\"a\":{\"b\":[1,\"x\","
	    "{\"c\":true}],\"odd key\":5},\"n\":null,\"price\":8.25,"
	    "\"big\":12345678901234567890,\"e\":1.50e2}";
	struct record *r = rec_new();
	struct rec_field *price = rec_field("price"), *title = rec_field("title"),
	    *z = rec_field("z"), *c = rec_field(".a.b[2].c"),
	    *last = rec_field(".a.b[-1]"), *odd = rec_field(".a[\"odd key\"]"),
	    *n = rec_field("n"), *miss = rec_field(".a.b[3]"),
	    *a = rec_field("a"), *big = rec_field("big"), *e = rec_field("e"),
	    *asin = rec_field("asin"), *deep = rec_field(".asin.x");
	const char *err, *s;
	char what[160];
	size_t len;
	double d;
	long long i;
	int b;

#define W(x) (snprintf(what, sizeof(what), "%s: %s", backend, x), what)
	tap_ok(parse(r, line, &err), W("record parses"));
	tap_ok(rec_num(r, price, &d) == REC_OK && d == 8.25,
	    W("duplicate key (allowed): the last wins"));
	tap_ok(rec_str(r, title, &s, &len) == REC_OK && len == 8 &&
	    memcmp(s, "15.6\" \xc3\xa9", 9) == 0,
	    W("escaped key found, value unescaped and NUL-terminated"));
	tap_ok(rec_str(r, z, &s, &len) == REC_OK && len == 3 &&
	    memcmp(s, "a\0b", 3) == 0, W("\\u0000 is a NUL byte in the value"));
	tap_ok(rec_bool(r, c, &b) == REC_OK && b == 1, W("nested path"));
	tap_ok(rec_kind(r, last) == REC_OBJECT, W("negative index"));
	tap_ok(rec_int(r, odd, &i) == REC_OK && i == 5, W("quoted key"));
	tap_ok(rec_num(r, n, &d) == REC_ISNULL, W("null"));
	tap_ok(rec_num(r, miss, &d) == REC_ABSENT &&
	    rec_kind(r, miss) == REC_MISSING, W("index past the end"));
	tap_ok(rec_kind(r, deep) == REC_MISSING,
	    W("a key under a string is missing"));
	tap_ok(rec_num(r, asin, &d) == REC_BADTYPE, W("wrong type"));
	tap_ok(rec_int(r, big, &i) == REC_BADTYPE, W("integer beyond 2^53"));
	tap_ok(rec_int(r, e, &i) == REC_OK && i == 150, W("1.50e2 is 150"));
	tap_ok(rec_json(r, price, &s, &len) == REC_OK &&
	    strcmp(s, "8.25") == 0, W("rec_json of a number"));
	tap_ok(rec_json(r, e, &s, &len) == REC_OK && strcmp(s, "150") == 0,
	    W("rec_json is libjq's canonical text"));
	tap_ok(rec_json(r, title, &s, &len) == REC_OK &&
	    strcmp(s, "\"15.6\\\" \xc3\xa9\"") == 0,
	    W("rec_json of an escaped string"));
	tap_ok(rec_json(r, asin, &s, &len) == REC_OK &&
	    strcmp(s, "\"B0X\"") == 0, W("rec_json of a plain string"));
	tap_ok(rec_json(r, a, &s, &len) == REC_OK &&
	    strcmp(s, "{\"b\":[1,\"x\",{\"c\":true}],\"odd key\":5}") == 0,
	    W("rec_json of an object"));
	{
		jv v = rec_jv(r, c), all = rec_jv_all(r);

		tap_ok(jv_get_kind(v) == JV_KIND_TRUE, W("rec_jv"));
		tap_ok(jv_get_kind(all) == JV_KIND_OBJECT &&
		    jv_object_length(jv_copy(all)) == 8, W("rec_jv_all"));
		jv_free(v);
		jv_free(all);
	}
	rec_field_free(price);
	rec_field_free(title);
	rec_field_free(z);
	rec_field_free(c);
	rec_field_free(last);
	rec_field_free(odd);
	rec_field_free(n);
	rec_field_free(miss);
	rec_field_free(a);
	rec_field_free(big);
	rec_field_free(e);
	rec_field_free(asin);
	rec_field_free(deep);
	rec_free(r);
#undef W
}

static void
test_errors(void)
{
	static const struct {
		const char *line;
		const char *want;
	} cases[] = {
		/* The scanner's located reason, whatever libjq says. */
		{ "{\"a\":}", "invalid JSON at column 6: expected a value" },
		{ "[1]", "expected a JSON object, got array" },
		{ "\"s\"", "expected a JSON object, got string" },
		{ "{\"a\":\"\xff\"}", "invalid UTF-8 at byte 7" },
		/* libjq 1.6 reads these; JSON does not have them. */
		{ "{\"a\":01}", "invalid JSON at column 6: leading zero in "
		    "number" },
		{ "{\"a\":NaN}", "invalid JSON at column 6: invalid literal" },
		{ "{\"a\":.5}", "invalid JSON at column 6: invalid number" },
		{ "{\"a\":\"\\udc00\"}", "invalid JSON at column 7: lone "
		    "surrogate in \\u escape" },
		{ "\xef\xbb\xbf{}", "invalid JSON at column 1: expected a value" },
	};
	struct record *r = rec_new();
	const char *err;
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		err = NULL;
		tap_ok(!parse(r, cases[i].line, &err), "bad line rejected");
		tap_str(err, cases[i].want, cases[i].want);
	}
	rec_free(r);
}

/* What out_begin(line), setting key k to 5 (or "k2" too), out_end() write. */
static char *
rewrite(const char *line, const char *k, const char *k2)
{
	char *path = xasprintf("%s/out", tmpdir);
	int fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0600);
	struct out *o = out_new(fd, path);
	struct record *r = rec_new();
	const char *err;
	char *res = xcalloc(1, 4096);

	if (!parse(r, line, &err))
		die("rewrite: %s", err);
	out_begin(o, r);
	out_set_num(o, k, 5);
	if (k2 != NULL)
		out_set_str(o, k2, "v", 1);
	out_end(o);
	out_flush(o);
	if (pread(fd, res, 4095, 0) < 0)
		die("pread:");
	out_close(o);
	rec_free(r);
	unlink(path);
	free(path);
	return res;
}

static void
test_out(const char *backend)
{
	static const struct {
		const char *line, *k, *k2, *scan, *jq;
	} cases[] = {
		{ "{\"a\":1,\"b\":2}", "a", NULL, "{\"b\":2,\"a\":5}\n", NULL },
		{ "{\"a\":1,\"b\":2,\"a\":3}", "a", NULL, "{\"b\":2,\"a\":5}\n",
		    NULL },
		{ "{\"\\u0061\":1,\"b\":2}", "a", NULL, "{\"b\":2,\"a\":5}\n",
		    NULL },
		{ "{\"a\":1}", "a", NULL, "{\"a\":5}\n", NULL },
		{ " { \"x\" : 7.80 , \"y\":2 } ", "y", NULL,
		    " {\"x\" : 7.80,\"y\":5} \n", "{\"x\":7.8,\"y\":5}\n" },
		{ "{\"p\":1.50,\"q\":[1, 2],\"r\":0}", "r", "s",
		    "{\"p\":1.50,\"q\":[1, 2],\"r\":5,\"s\":\"v\"}\n",
		    "{\"p\":1.5,\"q\":[1,2],\"r\":5,\"s\":\"v\"}\n" },
		{ "{ }", "z", NULL, "{ \"z\":5}\n", NULL },
		{ "{\"x\":7.80 } ", "z", NULL, "{\"x\":7.80 ,\"z\":5} \n", NULL },
	};
	char what[200], *s;
	size_t i;
	int jq = strcmp(backend, "libjq") == 0;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		s = rewrite(cases[i].line, cases[i].k, cases[i].k2);
		snprintf(what, sizeof(what), "%s: out sets %s on %s", backend,
		    cases[i].k, cases[i].line);
		tap_str(s, jq && cases[i].jq ? cases[i].jq : cases[i].scan, what);
		free(s);
	}
}

int
main(void)
{
	char tmpl[] = "/tmp/recscan.XXXXXX";

	diag_init("recscan");
	if ((tmpdir = mkdtemp(tmpl)) == NULL)
		die("mkdtemp:");
	unsetenv("ASIN_PARSER");
	/*
	 * The lines below repeat keys on purpose, to pin which value each
	 * backend reads when --allow-duplicate-keys takes such records;
	 * rejecting them is tests/unit/contract.c's part.
	 */
	rec_allow_duplicate_keys(1);
	test_getters("scanner");
	test_errors();
	test_out("scanner");
	setenv("ASIN_PARSER", "jq", 1);
	test_getters("libjq");
	test_out("libjq");
	unsetenv("ASIN_PARSER");
	rmdir(tmpdir);
	return tap_done();
}
