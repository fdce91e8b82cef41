/*
 * common.c - unit tests of the shared layer: buffers and JSON string
 * escaping, strict number parsing, the line reader (CRLF, blank lines,
 * over-long lines, several operands), typed getters that tell missing,
 * null and wrong type apart, the appending writer and number formatting.
 */
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "asin.h"
#include "tap.h"

static char tmpdir[] = "/tmp/asin-unit-XXXXXX";

static char *
write_tmp(const char *name, const char *data, size_t n)
{
	char *p = xasprintf("%s/%s", tmpdir, name);
	int fd = open(p, O_WRONLY | O_CREAT | O_TRUNC, 0600);

	if (fd < 0 || write(fd, data, n) != (ssize_t)n)
		die("%s: cannot write:", p);
	close(fd);
	return p;
}

static void
test_buf(void)
{
	struct buf b;

	buf_init(&b);
	buf_add_jstr(&b, "a\"b\\c\n\x01\x7f\xc3\xa9", 10);
	tap_str(b.data, "\"a\\\"b\\\\c\\n\\u0001\\u007f\xc3\xa9\"",
	    "buf_add_jstr escapes quote, backslash, controls and DEL");
	b.len = 0;
	buf_printf(&b, "%d-%s", 42, "x");
	tap_str(b.data, "42-x", "buf_printf");
	buf_free(&b);
}

static void
test_parse(void)
{
	double d;
	long long i;

	tap_ok(parse_double("1.5", 3, &d) && d == 1.5, "parse_double 1.5");
	tap_ok(parse_double("-2e3", 4, &d) && d == -2000, "parse_double -2e3");
	tap_ok(!parse_double("1.5x", 4, &d), "parse_double rejects trailing junk");
	tap_ok(!parse_double("inf", 3, &d), "parse_double rejects inf");
	tap_ok(!parse_double("nan", 3, &d), "parse_double rejects nan");
	tap_ok(!parse_double("0x10", 4, &d), "parse_double rejects hex");
	tap_ok(!parse_double(" 1", 2, &d), "parse_double rejects leading space");
	tap_ok(!parse_double("", 0, &d), "parse_double rejects empty");
	tap_ok(parse_int("-12", 3, &i) && i == -12, "parse_int -12");
	tap_ok(!parse_int("12.0", 4, &i), "parse_int rejects 12.0");
	tap_ok(!parse_int("99999999999999999999", 20, &i),
	    "parse_int rejects overflow");
}

static void
test_split(void)
{
	size_t n;
	char **v = cli_split("-k", "date,marketplace,category", &n);

	tap_ok(n == 3 && strcmp(v[0], "date") == 0 &&
	    strcmp(v[2], "category") == 0 && v[3] == NULL, "cli_split");
	strv_free(v);
}

/* Read every line of a reader into one string "N:text|N:text|..." */
static char *
read_all(struct nd_reader *r)
{
	struct nd_line l;
	struct buf b;

	buf_init(&b);
	while (nd_next(r, &l)) {
		buf_printf(&b, "%s:%ld:", l.source, l.lineno);
		if (l.error)
			buf_printf(&b, "ERR(%zu)", l.len);
		else
			buf_add(&b, l.buf, l.len);
		buf_addc(&b, '|');
	}
	if (b.data == NULL)
		buf_adds(&b, "");
	return b.data;
}

static void
test_reader(void)
{
	const char data[] = "{\"a\":1}\r\n\n  \t\n{\"b\":2}\n\r\n{\"c\":3}";
	char *f1 = write_tmp("one", data, sizeof(data) - 1);
	char *f2 = write_tmp("two", "x\n", 2);
	char *f3 = write_tmp("long", "0123456789\nab\n0123456789", 24);
	char *f4 = write_tmp("empty", "", 0);
	char *want, *got;
	char *paths[3];
	struct nd_reader *r;
	int mode;

	for (mode = 0; mode < 2; mode++) {
		const char *m = mode ? " (mapped)" : "";

		paths[0] = f1;
		paths[1] = f4;
		paths[2] = f2;
		r = nd_open(paths, 3, 1024);
		if (mode)
			tap_ok(nd_stable(r), "nd_stable maps regular files");
		got = read_all(r);
		want = xasprintf("%s:1:{\"a\":1}|%s:4:{\"b\":2}|%s:6:{\"c\":3}|"
		    "%s:1:x|", f1, f1, f1, f2);
		tap_str(got, want, mode ? "reader: CRLF, blank lines, no final "
		    "newline, empty and several files (mapped)" :
		    "reader: CRLF, blank lines, no final newline, empty and "
		    "several files");
		free(got);
		free(want);
		nd_close(r);

		paths[0] = f3;
		r = nd_open(paths, 1, 5);
		if (mode)
			nd_stable(r);
		got = read_all(r);
		want = xasprintf("%s:1:ERR(5)|%s:2:ab|%s:3:ERR(5)|", f3, f3, f3);
		tap_str(got, want, "reader: over-long lines are errors and "
		    "skipped whole");
		(void)m;
		free(got);
		free(want);
		nd_close(r);
	}
	unlink(f1);
	unlink(f2);
	unlink(f3);
	unlink(f4);
	free(f1);
	free(f2);
	free(f3);
	free(f4);
}

static int
parse(struct record *r, const char *s, const char **err)
{
	struct nd_line l = { s, strlen(s), "<test>", 7, NULL };

	return rec_parse(r, &l, err);
}

static void
test_record(void)
{
	struct record *r = rec_new();
	struct rec_field *price = rec_field("price");
	struct rec_field *nested = rec_field(".a.b[1]");
	struct rec_field *last = rec_field(".a.b[-1]");
	struct rec_field *odd = rec_field(".a[\"odd key\"]");
	struct rec_field *t = rec_field("t");
	const char *err = NULL, *s;
	size_t n;
	double d;
	long long i;
	int b;

	tap_ok(parse(r, "{\"price\":7.80,\"a\":{\"b\":[1,\"x\",3],"
	    "\"odd key\":5},\"t\":true,\"n\":null,\"s\":\"\\u00e9\\n\"}", &err),
	    "rec_parse accepts an object");
	tap_ok(rec_num(r, price, &d) == REC_OK && d == 7.8, "rec_num");
	tap_ok(rec_str(r, nested, &s, &n) == REC_OK && n == 1 && *s == 'x',
	    "rec_str through a path");
	tap_ok(rec_int(r, last, &i) == REC_OK && i == 3, "negative index");
	tap_ok(rec_num(r, odd, &d) == REC_OK && d == 5, "quoted key in path");
	tap_ok(rec_bool(r, t, &b) == REC_OK && b == 1, "rec_bool");
	tap_ok(rec_num(r, nested, &d) == REC_BADTYPE, "wrong type is BADTYPE");
	tap_str(rec_errmsg(r, nested, REC_NUMBER),
	    "field \".a.b[1]\": expected number, got string", "rec_errmsg");
	{
		struct rec_field *nf = rec_field("n"), *mf = rec_field("zz");

		tap_ok(rec_num(r, nf, &d) == REC_ISNULL, "null is ISNULL");
		tap_ok(rec_num(r, mf, &d) == REC_ABSENT, "missing is ABSENT");
		tap_ok(rec_kind(r, mf) == REC_MISSING, "rec_kind missing");
		tap_str(rec_errmsg(r, mf, REC_NUMBER), "field \"zz\": missing",
		    "rec_errmsg missing");
		rec_field_free(nf);
		rec_field_free(mf);
	}
	{
		struct rec_field *sf = rec_field("s");

		tap_ok(rec_str(r, sf, &s, &n) == REC_OK && n == 3 &&
		    memcmp(s, "\xc3\xa9\n", 3) == 0, "strings are unescaped");
		tap_ok(rec_json(r, price, &s, &n) == REC_OK, "rec_json");
		rec_field_free(sf);
	}
	tap_ok(!parse(r, "[1,2]", &err), "array line rejected");
	tap_str(err, "expected a JSON object, got array", "array message");
	tap_ok(!parse(r, "{\"a\":\xff}", &err), "invalid UTF-8 rejected");
	tap_str(err, "invalid UTF-8 at byte 6", "invalid UTF-8 message");
	tap_ok(!parse(r, "{\"a\":1", &err), "truncated line rejected");
	tap_ok(!parse(r, "{\"a\":1,}", &err), "trailing comma rejected");
	tap_ok(rec_field_try(".a..b", &err) == NULL, "bad path refused");
	tap_ok(rec_field_try("", &err) == NULL, "empty field refused");
	rec_field_free(price);
	rec_field_free(nested);
	rec_field_free(last);
	rec_field_free(odd);
	rec_field_free(t);
	rec_free(r);
}

/* Run f with stdout redirected to a pipe; return what it wrote. */
static char *
capture_out(const char *line, void (*f)(struct out *, struct record *))
{
	char *path = xasprintf("%s/out", tmpdir);
	int fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0600);
	struct out *o = out_new(fd, path);
	struct record *r = rec_new();
	const char *err;
	char *res = xcalloc(1, 4096);

	if (line != NULL && !parse(r, line, &err))
		die("capture_out: %s", err);
	f(o, line ? r : NULL);
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
w_append(struct out *o, struct record *r)
{
	out_begin(o, r);
	out_set_num(o, "z", 0.1 + 0.2);
	out_set_str(o, "s", "q\"", 2);
	out_set_null(o, "n");
	out_set_num(o, "inf", 1.0 / 0.0);
	out_set_int(o, "i", -3);
	out_set_bool(o, "b", 0);
	out_end(o);
}

static void
w_twice(struct out *o, struct record *r)
{
	out_begin(o, r);
	out_set_num(o, "z", 1);
	out_set_num(o, "z", 2);
	out_end(o);
}

static void
w_replace(struct out *o, struct record *r)
{
	out_begin(o, r);
	out_set_num(o, "a", 5);
	out_end(o);
}

static void
w_plain(struct out *o, struct record *r)
{
	out_begin(o, r);
	out_end(o);
}

static void
w_empty(struct out *o, struct record *r)
{
	out_begin_empty(o);
	out_set_str(o, "k", "v", 1);
	out_end(o);
}

static void
test_out(void)
{
	char *s;

	s = capture_out("{\"x\":7.80 } ", w_append);
	tap_str(s, "{\"x\":7.80 ,\"z\":0.30000000000000004,\"s\":\"q\\\"\","
	    "\"n\":null,\"inf\":null,\"i\":-3,\"b\":false} \n",
	    "out appends after the original bytes; inf becomes null");
	free(s);
	s = capture_out("{}", w_twice);
	tap_str(s, "{\"z\":2}\n", "out: empty object, a key set twice once");
	free(s);
	s = capture_out("{\"a\":1,\"b\":2}", w_replace);
	tap_str(s, "{\"b\":2,\"a\":5}\n", "out replaces an existing key");
	free(s);
	s = capture_out("{\"a\" : 1.50}", w_plain);
	tap_str(s, "{\"a\" : 1.50}\n", "out passes a record through as is");
	free(s);
	s = capture_out(NULL, w_empty);
	tap_str(s, "{\"k\":\"v\"}\n", "out_begin_empty");
	free(s);
}

static void
test_numfmt(void)
{
	static const struct {
		double v;
		const char *want;
	} cases[] = {
		{ 0, "0" }, { -0.0, "-0" }, { 1, "1" }, { -42, "-42" },
		{ 0.1, "0.1" }, { 1.5, "1.5" }, { 1e21, "1e+21" },
		{ 9007199254740993.0, "9007199254740992" },
		{ 0.30000000000000004, "0.30000000000000004" },
		{ 123456.789, "123456.789" }, { 5e-324, NULL },
		{ 1.7976931348623157e308, NULL }, { 2.5e-7, NULL },
	};
	char tmp[40];
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char *what;

		fmt_double(tmp, cases[i].v);
		what = xasprintf("fmt_double %.17g -> %s", cases[i].v, tmp);
		if (cases[i].want != NULL)
			tap_str(tmp, cases[i].want, what);
		else
			tap_ok(strtod(tmp, NULL) == cases[i].v, what);
		free(what);
	}
	/* Round trip on a deterministic spread of doubles. */
	{
		unsigned long long x = 0x9e3779b97f4a7c15ull;
		int bad = 0, k;

		for (k = 0; k < 200000; k++) {
			double v;

			x ^= x << 13;
			x ^= x >> 7;
			x ^= x << 17;
			memcpy(&v, &x, sizeof(v));
			if (!isfinite(v))
				continue;
			fmt_double(tmp, v);
			if (strtod(tmp, NULL) != v)
				bad++;
		}
		tap_ok(bad == 0, "fmt_double round-trips 200000 random doubles");
	}
}

static void
test_json_parse(void)
{
	char *err;
	jv v = json_parse("{\"a\":[1,2]}", 11, &err);

	tap_ok(jv_get_kind(v) == JV_KIND_OBJECT && err == NULL,
	    "json_parse reads a value");
	jv_free(v);
	v = json_parse("{\"a\":\n", 6, &err);
	tap_ok(!jv_is_valid(v), "json_parse rejects a cut text");
	tap_str(err, "Unfinished JSON term at EOF at line 2, column 0",
	    "json_parse drops libjq's copy of the text");
	free(err);
}

int
main(int argc, char **argv)
{
	diag_init("unit-common");
	if (mkdtemp(tmpdir) == NULL)
		die("mkdtemp:");
	test_buf();
	test_parse();
	test_split();
	test_reader();
	test_record();
	test_out();
	test_numfmt();
	test_json_parse();
	rmdir(tmpdir);
	return tap_done();
}
