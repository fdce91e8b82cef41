/*
 * contract.c - unit tests of the "no silent wrong result" rules the
 * shared layer enforces for every tool (issue 10): input bytes made
 * visible in messages, calendar dates, duplicate keys at any depth,
 * numbers no double holds, a byte-order mark on any line, fds 0-2 opened
 * before anything else, getopt's messages in the suite's words and
 * --stats written on a failed run.  Cases that exit run in a child.
 */
#include <fcntl.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "asin.h"
#include "scan.h"
#include "tap.h"

static char tmpdir[] = "/tmp/asin-contract-XXXXXX";

static char *
slurp(const char *path)
{
	struct buf b;
	char tmp[4096];
	ssize_t n;
	int fd = open(path, O_RDONLY);

	buf_init(&b);
	buf_adds(&b, "");
	if (fd < 0)
		return b.data;
	while ((n = read(fd, tmp, sizeof(tmp))) > 0)
		buf_add(&b, tmp, (size_t)n);
	close(fd);
	return b.data;
}

static void
test_visible(void)
{
	struct buf b;

	buf_init(&b);
	buf_add_visible(&b, "AB\x1b[31mRED\x07", 11);
	tap_str(b.data, "AB\\x1b[31mRED\\x07", "visible: ESC and BEL escaped");
	b.len = 0;
	buf_add_visible(&b, "\xef\xbb\xbf" "B0\xff\xc3\xa9\xc2\x85\x7f", 11);
	tap_str(b.data, "\\ufeffB0\\xff\xc3\xa9\\u0085\\x7f",
	    "visible: BOM, bad byte, C1 and DEL escaped, UTF-8 kept");
	b.len = 0;
	buf_add_visible(&b, "\xe2\x82", 2);
	tap_str(b.data, "\\xe2\\x82", "visible: a cut sequence byte by byte");
	buf_free(&b);
}

static void
test_dates(void)
{
	tap_ok(date_valid("2024-02-29", 10), "date: leap day");
	tap_ok(!date_valid("2026-02-29", 10), "date: no leap day in 2026");
	tap_ok(!date_valid("2026-02-30", 10), "date: 2026-02-30 refused");
	tap_ok(!date_valid("1900-02-29", 10), "date: 1900 is no leap year");
	tap_ok(date_valid("2000-02-29", 10), "date: 2000 is a leap year");
	tap_ok(!date_valid("2026-13-01", 10), "date: month 13 refused");
	tap_ok(!date_valid("2026-04-31", 10), "date: April 31 refused");
	tap_ok(!date_valid("2026-4-01", 9), "date: one-digit month refused");
	tap_ok(!date_valid("2026-01-01x", 11), "date: trailing byte refused");
	tap_ok(date_time_valid("2026-01-01T00:00:00Z", 20), "date-time");
	tap_ok(!date_time_valid("2026-02-30T00:00:00Z", 20),
	    "date-time: impossible day refused");
}

/* rec_parse() of one line; the error text or "ok". */
static const char *
parse(struct record *r, const char *s)
{
	struct nd_line ln = { s, strlen(s), "<t>", 1, NULL };
	const char *err;

	return rec_parse(r, &ln, &err) ? "ok" : err;
}

static void
test_dups(void)
{
	struct record *r = rec_new();
	struct rec_field *price = rec_field("price");
	struct buf big;
	double x = 0;
	int i;

	tap_str(parse(r, "{\"price\":-1,\"price\":5}"),
	    "duplicate key \"price\" at column 13", "dup: top level");
	tap_str(parse(r, "{\"a\":{\"b\":[1,{\"x\":1,\"y\":2,\"x\":3}]}}"),
	    "duplicate key \"x\" at column 27", "dup: nested in an array");
	tap_str(parse(r, "{\"p\\u0072ice\":1,\"price\":2}"),
	    "duplicate key \"price\" at column 17",
	    "dup: an escaped name equals its plain spelling");
	tap_str(parse(r, "{\"a\":{\"x\":1},\"b\":{\"x\":1},\"c\":[{\"x\":1},"
	    "{\"x\":2}]}"), "ok", "dup: the same key in sibling objects is fine");
	tap_str(parse(r, "{\"\":1,\"a\":[\"{\\\"x\\\":1,\\\"x\\\":2}\"]}"), "ok",
	    "dup: braces inside strings are not objects");
	buf_init(&big);
	buf_adds(&big, "{");
	for (i = 0; i < 5000; i++)
		buf_printf(&big, "%s\"k%d\":%d", i ? "," : "", i, i);
	buf_adds(&big, "}");
	tap_str(parse(r, big.data), "ok", "dup: 5000 distinct keys");
	big.len--;
	buf_adds(&big, ",\"k4321\":0}");
	tap_str(parse(r, big.data), "duplicate key \"k4321\" at column 62782",
	    "dup: one repeat among 5000 keys (hashed path)");
	/* Names alike in their first and last eight bytes share a hash. */
	big.len = 0;
	buf_adds(&big, "{");
	for (i = 0; i < 40; i++)
		buf_printf(&big, "%s\"feature_%02d_window_30\":%d", i ? "," : "",
		    i, i);
	buf_adds(&big, "}");
	tap_str(parse(r, big.data), "ok", "dup: 40 names alike but for the middle");
	big.len--;
	buf_adds(&big, ",\"feature_17_window_30\":0}");
	tap_str(parse(r, big.data), "duplicate key \"feature_17_window_30\" at "
	    "column 1032", "dup: a repeat among names alike but for the middle");
	buf_free(&big);
	rec_free(r);

	setenv("ASIN_PARSER", "jq", 1);
	r = rec_new();
	tap_str(parse(r, "{\"price\":-1,\"price\":5}"),
	    "duplicate key \"price\" at column 13",
	    "dup: the libjq backend refuses it too");
	rec_free(r);
	unsetenv("ASIN_PARSER");

	rec_allow_duplicate_keys(1);
	r = rec_new();
	tap_str(parse(r, "{\"price\":-1,\"price\":5}"), "ok",
	    "dup: --allow-duplicate-keys takes the record");
	tap_ok(rec_num(r, price, &x) == REC_OK && x == 5,
	    "dup: and the last value counts");
	rec_free(r);
	rec_allow_duplicate_keys(0);
	rec_field_free(price);
}

static void
test_nonfinite(void)
{
	struct record *r = rec_new();
	struct rec_field *price = rec_field("price");
	struct rec_field *n = rec_field(".a[0]");
	long long iv;
	double x = 7;

	tap_str(parse(r, "{\"price\":1e999,\"a\":[-1e400]}"), "ok",
	    "1e999 is valid JSON");
	tap_ok(rec_num(r, price, &x) == REC_BADTYPE && x == 7,
	    "rec_num: 1e999 is not a number a double holds");
	tap_str(rec_errmsg(r, price, REC_NUMBER),
	    "field \"price\": number 1e999 is out of range",
	    "rec_errmsg: one wording for every tool");
	tap_ok(rec_num(r, n, &x) == REC_BADTYPE, "rec_num: -1e400 in a path");
	tap_str(rec_errmsg(r, n, REC_NUMBER),
	    "field \".a[0]\": number -1e400 is out of range",
	    "rec_errmsg: in a path");
	tap_ok(rec_int(r, price, &iv) == REC_BADTYPE, "rec_int: 1e999");
	tap_str(parse(r, "{\"price\":1e-999}"), "ok", "1e-999 parses");
	tap_ok(rec_num(r, price, &x) == REC_OK && x == 0,
	    "rec_num: underflow is a finite zero");
	tap_ok(rec_nonfinite_any(r) == NULL, "rec_nonfinite_any: 1e-999");
	tap_str(parse(r, "{\"m\":{\"x\":[1,\"9e999\",{\"y\":-2e308}]},"
	    "\"k\":1}"), "ok", "a nested 2e308");
	tap_str(rec_nonfinite_any(r),
	    "field \"m\": number -2e308 is out of range",
	    "rec_nonfinite_any: named by its top-level member, not a string");
	tap_str(parse(r, "{\"a\":\"1e999\",\"b\":[0.5e1, -0]}"), "ok",
	    "numbers in strings");
	tap_ok(rec_nonfinite_any(r) == NULL,
	    "rec_nonfinite_any: a string is not a number");
	rec_field_free(price);
	rec_field_free(n);
	rec_free(r);
}

static void
test_bom(void)
{
	char *p = xasprintf("%s/bom", tmpdir);
	char *paths[1] = { p };
	struct nd_reader *rd;
	struct nd_line ln;
	int fd = open(p, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	const char data[] = "\xef\xbb\xbf{\"a\":1}\n{\"a\":2}\n \xef\xbb\xbf"
	    "B000000001\n{\"s\":\"\xef\xbb\xbf\"}\n";

	if (fd < 0 || write(fd, data, sizeof(data) - 1) < 0)
		die("%s:", p);
	close(fd);
	rd = nd_open(paths, 1, 1024);
	tap_ok(nd_next(rd, &ln) && ln.error != NULL && strcmp(ln.error,
	    "byte-order mark at the start of the line (save the file as "
	    "UTF-8 without BOM)") == 0, "bom: the first line");
	tap_ok(nd_next(rd, &ln) && ln.error == NULL, "bom: a clean line");
	tap_ok(nd_next(rd, &ln) && ln.error != NULL && ln.lineno == 3,
	    "bom: after blanks, on a later line (a bare ID)");
	tap_ok(nd_next(rd, &ln) && ln.error == NULL,
	    "bom: U+FEFF inside a string is data");
	nd_close(rd);
	free(p);
}

/* Run fn in a child with stderr to a file; its status and stderr. */
static int
child(void (*fn)(void *), void *arg, char **err)
{
	char *path = xasprintf("%s/stderr", tmpdir);
	pid_t pid;
	int st, fd;

	fflush(stdout);
	if ((pid = fork()) == 0) {
		fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
		dup2(fd, 2);
		close(fd);
		fn(arg);
		_exit(99);
	}
	waitpid(pid, &st, 0);
	*err = slurp(path);
	free(path);
	return WIFEXITED(st) ? WEXITSTATUS(st) : 128;
}

static void
closed_stdout(void *arg)
{
	char *p = xasprintf("%s/other", tmpdir);
	struct out *o;
	int fd;

	close(1);
	diag_init("t");
	/* Without the check this file would become fd 1. */
	fd = open(p, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	o = out_new(1, "<stdout>");
	out_line(o, "{\"a\":1}", 7);
	out_close(o);
	close(fd);
	exit(0);
}

static void
getopt_child(void *arg)
{
	static const struct option lo[] = {
		{ "schema", required_argument, NULL, 's' },
		{ "max-rejects", required_argument, NULL, 1 },
		{ "max-line", required_argument, NULL, 2 },
		{ "quiet", no_argument, NULL, 'q' },
		{ NULL, 0, NULL, 0 }
	};
	char **argv = arg;
	int argc = 0;

	while (argv[argc] != NULL)
		argc++;
	diag_init("t");
	optind = 1;
	while (cli_getopt(argc, argv, "qs:", lo) != -1)
		;
	exit(0);
}

static void
test_exits(void)
{
	char *err, *p = xasprintf("%s/other", tmpdir), *got;
	static char *a1[] = { "t", "--bogus", NULL };
	static char *a2[] = { "t", "-s", NULL };
	static char *a3[] = { "t", "--schema", NULL };
	static char *a4[] = { "t", "--max", "1", NULL };
	static char *a5[] = { "t", "--quiet=1", NULL };
	static char *a6[] = { "t", "-qx", NULL };
	static char *a7[] = { "t", "--sch", NULL };
	static const struct {
		char **argv;
		const char *want;
	} cases[] = {
		{ a1, "t: unknown option '--bogus'\n" },
		{ a2, "t: option '-s' needs an argument\n" },
		{ a3, "t: option '--schema' needs an argument\n" },
		{ a4, "t: option '--max' is ambiguous\n" },
		{ a5, "t: option '--quiet' takes no argument\n" },
		{ a6, "t: unknown option '-x'\n" },
		{ a7, "t: option '--schema' needs an argument\n" },
	};
	size_t i;
	int st;

	st = child(closed_stdout, NULL, &err);
	got = slurp(p);
	tap_ok(st == 1 && *got == '\0', "closed stdout: exit 1, no record "
	    "in the file opened next");
	tap_str(err, "t: <stdout>: write error: Bad file descriptor\n",
	    "closed stdout: a write error");
	free(err);
	free(got);
	free(p);
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char *want = xasprintf("%sTry 't --help' for more "
		    "information.\n", cases[i].want);

		st = child(getopt_child, cases[i].argv, &err);
		tap_ok(st == 2, "cli_getopt: exit 2");
		tap_str(err, want, cases[i].argv[1]);
		free(want);
		free(err);
	}
}

static void
stats_child(void *arg)
{
	struct cli_common co;
	struct acct ac;

	diag_init("t");
	cli_init(&co, "usage: t\n");
	co.stats_path = arg;
	acct_init(&ac, &co);
	ac.in = 3;
	ac.out = 2;
	acct_reject(&ac, "<t>", 3, "{bad", 4, "invalid JSON");
	exit(0);
}

static void
test_stats(void)
{
	char *p = xasprintf("%s/stats", tmpdir), *err, *got;
	int st;

	st = child(stats_child, p, &err);
	got = slurp(p);
	tap_ok(st == 1, "stats: a fatal reject is exit 1");
	tap_str(got, "{\"in\":3,\"out\":2,\"rejected\":1,\"merged\":0,"
	    "\"dropped\":0}\n", "stats: still written, with the counts so far");
	tap_str(err, "t: <t>:3: invalid JSON\n", "stats: the located message");
	unlink(p);
	free(got);
	free(err);
	free(p);
}

static void
rm(const char *name)
{
	char *p = xasprintf("%s/%s", tmpdir, name);

	unlink(p);
	free(p);
}

int
main(int argc, char **argv)
{
	diag_init("unit-contract");
	if (mkdtemp(tmpdir) == NULL)
		die("mkdtemp:");
	test_visible();
	test_dates();
	test_dups();
	test_nonfinite();
	test_bom();
	test_exits();
	test_stats();
	rm("other");
	rm("stderr");
	rm("bom");
	rmdir(tmpdir);
	return tap_done();
}
