/*
 * recbench - drive the record layer the way a per-record tool does, one
 * stage more per mode, so `make bench` can time each stage on its own:
 *
 *   read   nd_next() only: the line reader
 *   parse  + rec_parse()
 *   get    + rec_str(asin), rec_num(price), rec_num(bsr)
 *   rw     + out_begin(), out_set_num(price_x2), out_end(): the whole
 *          read-get-append-write path of a map tool
 *
 * and, outside the layer, a reference:
 *
 *   jv     libjq's own streaming parser (jv_parser over 64 KiB reads),
 *          no line splitting, no checks: what libjq parses at best,
 *          the bar the layer's read-get-append-write is held to
 *
 * Only rw writes records.  The other modes print nothing, so what they
 * cost is not hidden behind the writer; a checksum of what was read is
 * kept (and shown with -v) so no stage can be optimised away.  A bad line
 * or a missing or mistyped field stops the run with a located error, as
 * in every tool: the benchmark input is clean.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "asin.h"

enum mode {
	MODE_READ,
	MODE_PARSE,
	MODE_GET,
	MODE_RW,
	MODE_JV
};

static const char *const mode_names[] = {
	"read", "parse", "get", "rw", "jv"
};

static const char usage_text[] =
    "usage: recbench [-v] [--mode read|parse|get|rw|jv] [file ...]\n"
    "Time the record layer: read NDJSON, parse each record, get asin,\n"
    "price and bsr, and (rw) write it back with a price_x2 field appended.\n"
    "\n"
    "  -m, --mode MODE       read, parse, get, rw (default), or jv: libjq's\n"
    "                        own parser alone, for reference\n";

static enum mode
parse_mode(const char *arg)
{
	size_t i;

	for (i = 0; i < sizeof(mode_names) / sizeof(mode_names[0]); i++)
		if (strcmp(arg, mode_names[i]) == 0)
			return (enum mode)i;
	usage_error("option --mode: expected read, parse, get, rw or jv, "
	    "got '%s'", arg);
}

/*
 * File scope, so that what is live when a bad record ends the run through
 * die() stays reachable and LeakSanitizer does not call it a leak.
 */
static struct nd_reader *rd;
static struct record *rec;
static struct rec_field *f_asin, *f_price, *f_bsr;
static struct out *out;
static jv_parser *jvp;

/* Die with the record's location and the getter's message. */
static void
bad_field(struct record *r, const struct rec_field *f, enum rec_kind want)
{
	die_at(rec_source(r), rec_lineno(r), "%s", rec_errmsg(r, f, want));
}

/*
 * libjq's streaming parser over the operands, values freed unseen: the
 * fastest libjq parses, with none of the layer's per-line work.
 */
static long long
jv_only(char **paths, int npaths, unsigned long long *sum)
{
	static char chunk[1 << 16];
	const char *name;
	jv v, msg;
	ssize_t got;
	long long n = 0;
	int i, fd;

	for (i = 0; i < (npaths ? npaths : 1); i++) {
		name = npaths && strcmp(paths[i], "-") != 0 ? paths[i] : NULL;
		fd = name ? open(name, O_RDONLY) : STDIN_FILENO;
		if (fd < 0)
			die("%s:", name);
		jvp = jv_parser_new(0);
		do {
			got = read(fd, chunk, sizeof(chunk));
			if (got < 0 && errno == EINTR)
				continue;
			if (got < 0)
				die("%s:", name ? name : "<stdin>");
			jv_parser_set_buf(jvp, chunk, (int)got, got > 0);
			while (jv_is_valid(v = jv_parser_next(jvp))) {
				*sum += (unsigned)jv_get_kind(v);
				jv_free(v);
				n++;
			}
			if (jv_invalid_has_msg(jv_copy(v))) {
				msg = jv_invalid_get_msg(v);
				die("%s: %s", name ? name : "<stdin>",
				    jv_string_value(msg));
			}
			jv_free(v);
		} while (got > 0);
		jv_parser_free(jvp);
		if (name)
			close(fd);
	}
	return n;
}

int
main(int argc, char *argv[])
{
	static const struct option longopts[] = {
		CLI_COMMON_LONGOPTS,
		{ "mode", required_argument, NULL, 'm' },
		{ NULL, 0, NULL, 0 }
	};
	struct cli_common co;
	struct nd_line line;
	enum mode mode = MODE_RW;
	const char *err, *asin;
	size_t asinlen;
	unsigned long long sum = 0;
	long long n = 0, bytes = 0;
	double price, bsr;
	int ch;

	diag_init(argv[0]);
	cli_init(&co, usage_text);
	while ((ch = getopt_long(argc, argv, "hVqvm:", longopts, NULL)) != -1) {
		if (cli_common_opt(&co, ch, optarg))
			continue;
		switch (ch) {
		case 'm':
			mode = parse_mode(optarg);
			break;
		default:
			usage_error("unexpected option");
		}
	}
	argc -= optind;
	argv += optind;
	if (mode == MODE_JV) {
		n = jv_only(argv, argc, &sum);
		if (co.verbose)
			note("mode jv: %lld records, checksum %llu", n, sum);
		return EXIT_OK;
	}

	rd = nd_open(argv, argc, co.max_line);
	rec = rec_new();
	f_asin = rec_field("asin");
	f_price = rec_field("price");
	f_bsr = rec_field("bsr");
	if (mode == MODE_RW)
		out = out_new(STDOUT_FILENO, "<stdout>");

	while (nd_next(rd, &line)) {
		n++;
		bytes += (long long)line.len + 1;
		if (line.error != NULL)
			die_at(line.source, line.lineno, "%s", line.error);
		if (mode == MODE_READ) {
			sum += (unsigned char)line.buf[line.len / 2];
			continue;
		}
		if (!rec_parse(rec, &line, &err))
			die_at(line.source, line.lineno, "%s", err);
		if (mode == MODE_PARSE)
			continue;
		if (rec_str(rec, f_asin, &asin, &asinlen) != REC_OK)
			bad_field(rec, f_asin, REC_STRING);
		if (rec_num(rec, f_price, &price) != REC_OK)
			bad_field(rec, f_price, REC_NUMBER);
		if (rec_num(rec, f_bsr, &bsr) != REC_OK)
			bad_field(rec, f_bsr, REC_NUMBER);
		sum += asinlen + (unsigned long long)bsr +
		    (unsigned long long)(price * 100);
		if (mode == MODE_GET)
			continue;
		out_begin(out, rec);
		out_set_num(out, "price_x2", price * 2);
		out_end(out);
	}
	if (out != NULL)
		out_close(out);
	if (co.verbose)
		note("mode %s: %lld records, %lld bytes, checksum %llu",
		    mode_names[mode], n, bytes, sum);
	rec_field_free(f_asin);
	rec_field_free(f_price);
	rec_field_free(f_bsr);
	rec_free(rec);
	nd_close(rd);
	return EXIT_OK;
}
