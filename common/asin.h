/*
 * asin.h - the one public header of libasin, the shared layer of asin-tools.
 * Prototypes are grouped under the file that implements them.  Ownership
 * follows libjq's rule: a function consumes the jv values it is given and
 * returns owned ones, unless its comment says it borrows.
 */
#ifndef ASIN_H
#define ASIN_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <jv.h>

#ifndef ASIN_VERSION
#define ASIN_VERSION "0.0.0"
#endif

#define ASIN_PRINTF(f, a) __attribute__((format(printf, f, a)))
#define ASIN_NORETURN __attribute__((noreturn))

/* Exit status shared by every tool (CONVENTIONS.md section 4). */
enum {
	EXIT_OK = 0,
	EXIT_FAIL = 1,
	EXIT_USAGE = 2
};

/* ------------------------------------------------------------------ */
/* diag.c: program name, diagnostics, logs, progress                   */
/* ------------------------------------------------------------------ */

/*
 * Set the program name from argv[0] and read ASIN_LOG (text or json).
 * Call first in main().  Also makes SIGPIPE a quiet stop (see out.c).
 */
void diag_init(const char *argv0);
/* The program name set by diag_init(); borrowed, static storage. */
const char *diag_prog(void);

/*
 * One-line diagnostics on stderr, prefixed "prog: ".  A format ending in
 * ':' gets ": strerror(errno)" appended (sbase's eprintf rule).  No
 * format may contain a newline: the helper adds it.  With ASIN_LOG=json
 * each line is a JSON object {ts, level, tool, msg[, source, line]}.
 */
ASIN_NORETURN void die(const char *fmt, ...) ASIN_PRINTF(1, 2);
void warn(const char *fmt, ...) ASIN_PRINTF(1, 2);
/* As die()/warn() with a "source:line: " location (line 0: no line). */
ASIN_NORETURN void die_at(const char *src, long line, const char *fmt, ...)
    ASIN_PRINTF(3, 4);
void warn_at(const char *src, long line, const char *fmt, ...)
    ASIN_PRINTF(3, 4);
/* A usage error: the message, then "Try 'prog --help' ...", exit 2. */
ASIN_NORETURN void usage_error(const char *fmt, ...) ASIN_PRINTF(1, 2);
/* An informational line (shown with -v); same format rules as warn(). */
void note(const char *fmt, ...) ASIN_PRINTF(1, 2);

/*
 * Progress on stderr, only when stderr is a terminal and ASIN_LOG is not
 * json: "done/total rate/s ETA errors" redrawn at most 5 times a second.
 * total 0 means unknown.  progress_end() clears the line.  A NULL or
 * inactive progress is a no-op, so callers need no checks.
 */
struct progress;
struct progress *progress_new(const char *what, long long total);
void progress_update(struct progress *, long long done, long long errors,
    const char *extra);
void progress_end(struct progress *);

/* ------------------------------------------------------------------ */
/* xalloc.c: allocation that never returns NULL (OOM: die, exit 1)     */
/* ------------------------------------------------------------------ */

void *xmalloc(size_t);
void *xcalloc(size_t, size_t);
void *xrealloc(void *, size_t);
/* realloc of n * size elements, dying on multiplication overflow. */
void *xreallocarray(void *, size_t n, size_t size);
char *xstrdup(const char *);
char *xstrndup(const char *, size_t);
/* printf into a fresh allocation the caller frees. */
char *xasprintf(const char *fmt, ...) ASIN_PRINTF(1, 2);

/* A growable byte buffer; data is always NUL-terminated after len. */
struct buf {
	char *data;
	size_t len;
	size_t cap;
};
void buf_init(struct buf *);
void buf_free(struct buf *);
void buf_reserve(struct buf *, size_t extra);
void buf_add(struct buf *, const void *p, size_t n);
void buf_addc(struct buf *, int c);
void buf_adds(struct buf *, const char *s);
void buf_printf(struct buf *, const char *fmt, ...) ASIN_PRINTF(2, 3);
/* Append s as a JSON string literal, quotes included. */
void buf_add_jstr(struct buf *, const char *s, size_t n);

/* ------------------------------------------------------------------ */
/* cli.c: shared flags, strict number parsing, accounting              */
/* ------------------------------------------------------------------ */

/*
 * Long-option codes of the flags every tool shares.  A tool lists
 * CLI_COMMON_LONGOPTS in its option table, adds "hVqv" to its short
 * options, and passes each getopt_long result to cli_common_opt() first.
 */
enum {
	OPT_REJECTS = 0x1000,
	OPT_MAX_REJECTS,
	OPT_STATS,
	OPT_MAX_LINE,
	OPT_ALLOW_DUP_KEYS,
	OPT_KEYED,
	OPT_COMMON_END = 0x1100	/* tools number their own options from here */
};
#define CLI_COMMON_LONGOPTS \
	{ "help", no_argument, NULL, 'h' }, \
	{ "version", no_argument, NULL, 'V' }, \
	{ "quiet", no_argument, NULL, 'q' }, \
	{ "verbose", no_argument, NULL, 'v' }, \
	{ "rejects", required_argument, NULL, OPT_REJECTS }, \
	{ "max-rejects", required_argument, NULL, OPT_MAX_REJECTS }, \
	{ "stats", required_argument, NULL, OPT_STATS }, \
	{ "max-line", required_argument, NULL, OPT_MAX_LINE }, \
	{ "allow-duplicate-keys", no_argument, NULL, OPT_ALLOW_DUP_KEYS }, \
	{ "keyed", required_argument, NULL, OPT_KEYED }

/* The help text lines for the common flags, for usage(). */
extern const char cli_common_help[];

struct cli_common {
	const char *usage;	/* the tool's full --help text */
	const char *rejects_path;
	const char *stats_path;
	long long max_rejects;	/* count; -1 = unlimited */
	double max_rejects_pct;	/* fraction of records in; < 0 = unset */
	size_t max_line;	/* bytes; default 16 MiB */
	int quiet;
	int verbose;
	int allow_dup_keys;	/* --allow-duplicate-keys: last one counts */
	int keyed;		/* --keyed K: key fields before each record */
};

/* Fill defaults; usage is the --help text printed by -h. */
void cli_init(struct cli_common *, const char *usage);
/*
 * Handle one getopt_long result if it is a common flag: -h prints the
 * usage and exits 0, -V prints "prog VERSION" and exits 0, '?' is a usage
 * error (getopt already printed the problem; this adds the Try line).
 * Returns 1 if handled, 0 if the tool must handle ch itself.
 */
int cli_common_opt(struct cli_common *, int ch, const char *arg);
/*
 * getopt_long(argc, argv, shortopts, longopts, NULL) with getopt's own
 * messages off: an unknown option, a missing argument or an ambiguous
 * long option is a usage_error() naming it as typed ("unknown option
 * '--x'", "option '--schema' needs an argument"), so usage errors have
 * the suite's shape and follow ASIN_LOG=json.  Call it in place of
 * getopt_long(); the result goes to cli_common_opt() as before.
 */
struct option;
int cli_getopt(int argc, char *const argv[], const char *shortopts,
    const struct option *longopts);
/*
 * As cli_getopt(), also storing in *longindex (when not NULL) the index in
 * longopts of a long option matched, for tools that tell their many long
 * options apart by name rather than by a value of their own.
 */
int cli_getopt_index(int argc, char *const argv[], const char *shortopts,
    const struct option *longopts, int *longindex);

/*
 * Strict number parsing for flag values: the whole string must be a
 * number in [min, max], or usage_error() names the flag:
 * "option --top: expected an integer from 1 to 1000, got 'x'".
 */
long long cli_int(const char *flag, const char *arg, long long min,
    long long max);
double cli_double(const char *flag, const char *arg, double min, double max);
/* Strict parse without dying: 1 on success.  Finite values only. */
int parse_double(const char *s, size_t n, double *out);
int parse_int(const char *s, size_t n, long long *out);

/*
 * Split a comma-separated list into a NULL-terminated array of fresh
 * strings (empty items are a usage error naming flag).  Free with
 * strv_free().  *n gets the count if n is not NULL.
 */
char **cli_split(const char *flag, const char *list, size_t *n);
void strv_free(char **);

/*
 * Record accounting: records in = out + rejected + merged + dropped.  A rejected
 * record either stops the run (no --rejects: a located error, exit 1) or
 * goes to the rejects file as {"source","line","error","raw"} and the run
 * goes on until --max-rejects is passed.
 */
struct out;
struct acct {
	const struct cli_common *opt;
	FILE *rejects;
	/*
	 * The tool's record writer, if it has one: flushed before a fatal
	 * reject so the records that passed before the bad one are not lost.
	 * Borrowed; set it after acct_init().
	 */
	struct out *sink;
	long long in;
	long long out;
	long long rejected;
	long long merged;	/* folded into another record (dedupe, sums) */
	long long dropped;	/* left out on purpose (--top, --only-in) */
};
/*
 * Open the rejects file named by opt (if any).  Borrows opt and ac: from
 * here until acct_finish(), any exit (a fatal reject, a write error, any
 * die()) still writes --stats with the counts so far, without the tool's
 * own members.  One open accounting per run.
 */
void acct_init(struct acct *, const struct cli_common *opt);
/*
 * Reject one input line: raw/len are the line as it came (without its
 * newline), error a message without location.  Dies (exit 1) without
 * --rejects or past --max-rejects as a count.
 */
void acct_reject(struct acct *, const char *src, long line, const char *raw,
    size_t len, const char *error);
/*
 * Finish: close the rejects file, check a percentage --max-rejects,
 * write --stats atomically as {"in","out","rejected","merged","dropped"}
 * plus the
 * tool's own members (extra: a JSON object's members without braces, or
 * NULL), print the -v summary.  Returns EXIT_OK or EXIT_FAIL.
 */
int acct_finish(struct acct *, const char *extra);

/*
 * Write len bytes to path atomically: temp file, fsync, rename, fsync dir.
 * A path that exists and is not a regular file (/dev/stdout, a FIFO) is
 * written in place instead: renaming over it would replace the device.
 * Returns 0, or -1 with errno set (the temp file is removed).
 */
int write_atomic(const char *path, const void *data, size_t len);

/* ------------------------------------------------------------------ */
/* ndjson.c: line reader over the operands                             */
/* ------------------------------------------------------------------ */

#define ND_MAX_LINE_DEFAULT (16u << 20)

struct nd_line {
	const char *buf;	/* the line without '\n' or "\r\n"; borrowed */
	size_t len;
	const char *source;	/* "<stdin>" or the file name */
	long lineno;		/* 1-based physical line number */
	const char *error;	/* non-NULL: the line is bad (too long, BOM) */
};

/*
 * Open a reader over the operands (none or "-" is stdin), read in turn.
 * An operand that cannot be opened is fatal (die).  Lines longer than
 * max_line are returned with error set and buf holding the first
 * max_line bytes; the rest of the line is skipped.  Blank lines (empty
 * or only white space) are skipped but counted in lineno.
 */
struct nd_reader *nd_open(char **paths, int npaths, size_t max_line);
/* Next line: 1 with *line filled (valid until the next call), 0 at end. */
int nd_next(struct nd_reader *, struct nd_line *line);
/*
 * Whole-input access for two-pass tools: if every operand is a regular
 * file, map them and return 1; lines then stay valid until nd_close().
 * Must be called before the first nd_next().  0 means lines are only
 * valid until the next call (the caller must copy what it keeps).
 */
int nd_stable(struct nd_reader *);
void nd_close(struct nd_reader *);
/*
 * --keyed K: every line carries K leading TAB-terminated key fields
 * (asin-shard --emit-key, sort, Hadoop Streaming, Spark) that the reader
 * strips, handing out the rest as the line without a copy.  A line with
 * fewer than K tabs comes back with error set and its whole bytes.
 * nd_keyed_default() (from cli_common_opt) sets K for every reader opened
 * after it; nd_keyed() sets one reader's K, as 0 for a side file named by
 * a flag, before its first nd_next().
 */
void nd_keyed_default(int k);
void nd_keyed(struct nd_reader *, int k);

/* ------------------------------------------------------------------ */
/* record.c: typed field access                                         */
/* ------------------------------------------------------------------ */

/*
 * A field handle: a plain name ("price") or a jq-style path
 * (".payload.stats.current[3]", ".a[\"odd key\"]").  Compile once, use
 * for every record.  rec_field() dies with a usage error naming the
 * expression when it is not a valid path.
 */
struct rec_field;
struct rec_field *rec_field(const char *expr);
/* As rec_field() but returns NULL and sets *err (static text) on error. */
struct rec_field *rec_field_try(const char *expr, const char **err);
/* The expression as given; borrowed. */
const char *rec_field_name(const struct rec_field *);
void rec_field_free(struct rec_field *);

/* JSON kinds, plus MISSING for an absent key or index. */
enum rec_kind {
	REC_MISSING = 0,
	REC_NULL,
	REC_FALSE,
	REC_TRUE,
	REC_NUMBER,
	REC_STRING,
	REC_ARRAY,
	REC_OBJECT
};
/* Status of a typed get. */
enum rec_status {
	REC_OK = 0,
	REC_ABSENT,	/* key or index not present */
	REC_ISNULL,	/* present, JSON null */
	REC_BADTYPE	/* present, another type; *out untouched */
};

/*
 * A parsed record.  One record object is reused for every line; what
 * its getters return is borrowed and valid until the next rec_parse().
 */
struct record;
struct record *rec_new(void);
void rec_free(struct record *);
/*
 * Parse one line (borrowed; must stay valid until the next rec_parse()).
 * Returns 1, or 0 with *err set to a message without location such as
 * "invalid JSON: ..." , "invalid UTF-8 at byte 12",
 * "expected a JSON object, got array".  *err is owned by the record.
 */
int rec_parse(struct record *, const struct nd_line *line, const char **err);
/* Location and raw bytes of the current record; borrowed. */
/*
 * For readers that hand a whole record to libjq (configs, run logs,
 * small side files), which reads 1e999 as the largest double: the first
 * number anywhere in the parsed record that no double holds.  Returns
 * NULL, or the record layer's message for it ('field "metrics": number
 * 1e999 is out of range', naming the top-level member that holds it),
 * owned by the record and valid until the next rec_parse().
 */
const char *rec_nonfinite_any(struct record *);
const char *rec_source(const struct record *);
long rec_lineno(const struct record *);
const char *rec_raw(const struct record *, size_t *len);

/*
 * A record with a key twice in one object, at any depth, is ambiguous
 * (I-JSON, RFC 7493, forbids it; consumers read either value):
 * rec_parse() refuses it with 'duplicate key "price" at column 12'.
 * allow 1 (--allow-duplicate-keys, which cli_common_opt() handles) takes
 * such records, the last value counting.  Applies to the records created
 * after the call.
 */
void rec_allow_duplicate_keys(int allow);
/* What rec_allow_duplicate_keys() last set, for readers that scan lines
 * themselves (asin-db's loader) and must refuse the same records. */
int rec_duplicate_keys_allowed(void);

enum rec_kind rec_kind(struct record *, const struct rec_field *);
/*
 * A number that is finite as a double.  A number beyond the double range
 * (1e999) is REC_BADTYPE, never an infinity, and rec_errmsg() words it
 * the one way every tool prints: 'field "price": number 1e999 is out of
 * range'.
 */
enum rec_status rec_num(struct record *, const struct rec_field *, double *);
/*
 * 1 if the value at f is a JSON number no double holds (1e999), with its
 * JSON text in *text and *len (borrowed) and its value in *v.
 */
int rec_nonfinite(struct record *, const struct rec_field *,
    const char **text, size_t *len, double *v);
/* A number that is an integer within +-2^53. */
enum rec_status rec_int(struct record *, const struct rec_field *,
    long long *);
/* Unescaped UTF-8 bytes (may contain NUL for \u0000); borrowed. */
enum rec_status rec_str(struct record *, const struct rec_field *,
    const char **s, size_t *len);
enum rec_status rec_bool(struct record *, const struct rec_field *, int *);
/* The raw JSON text of the value (any kind); borrowed. */
enum rec_status rec_json(struct record *, const struct rec_field *,
    const char **s, size_t *len);
/* The value as an owned jv (jv_invalid() when missing).  Slow path. */
jv rec_jv(struct record *, const struct rec_field *);
/* The whole record as an owned jv object. */
jv rec_jv_all(struct record *);

/*
 * A message for a failed typed get, owned by the record, for example
 * 'field "price": expected number, got string' or
 * 'field "price": missing'.  want is the kind the tool asked for.
 */
const char *rec_errmsg(struct record *, const struct rec_field *,
    enum rec_kind want);
/* "number", "string", ... for messages; static storage. */
const char *rec_kind_name(enum rec_kind);

/* ------------------------------------------------------------------ */
/* out.c: buffered NDJSON writer that appends to the original bytes    */
/* ------------------------------------------------------------------ */

/*
 * The writer for stdout (or any fd).  out_begin() starts an output line
 * from a record's raw bytes; out_set_*() add a top-level field, or
 * replace it if the record already has that key (no duplicate keys);
 * out_end() emits the line.  A write error is fatal ("<stdout>: write
 * error: ...", exit 1); EPIPE is a quiet exit.  Numbers are written in
 * the shortest form that reads back to the same double; a non-finite
 * double is written as null (callers add a flag field).
 */
struct out;
struct out *out_new(int fd, const char *name);
/* Flush and close; dies on error.  Call before acct_finish(). */
void out_close(struct out *);
void out_flush(struct out *);
/* Start from rec (borrowed until out_end()). */
void out_begin(struct out *, struct record *rec);
/* Start a brand-new object. */
void out_begin_empty(struct out *);
void out_set_num(struct out *, const char *key, double v);
void out_set_int(struct out *, const char *key, long long v);
void out_set_str(struct out *, const char *key, const char *s, size_t n);
void out_set_bool(struct out *, const char *key, int v);
void out_set_null(struct out *, const char *key);
/* Raw JSON text, copied as is (the caller vouches it is valid JSON). */
void out_set_json(struct out *, const char *key, const char *json,
    size_t n);
/* A jv value, dumped compactly; consumes v. */
void out_set_jv(struct out *, const char *key, jv v);
void out_end(struct out *);
/* Write one line as is (a '\n' is added). */
void out_line(struct out *, const char *buf, size_t len);
/* Raw bytes, no newline added. */
void out_write(struct out *, const void *buf, size_t len);
/*
 * Write one line: an object's bytes (borrowed; a valid JSON object, no
 * newline) with members added before its closing brace, then a newline.
 * members is ",\"k\":v,..." (its leading comma is dropped when the object
 * is empty).  For tools that hold rows as bytes and know no key of
 * members is in the row already; out_begin() handles the other case.
 */
void out_line_append(struct out *, const char *line, size_t len,
    const char *members, size_t mlen);

/* ------------------------------------------------------------------ */
/* numfmt.c: shortest round-trip doubles                               */
/* ------------------------------------------------------------------ */

/*
 * Write the shortest decimal that reads back to v into dst (at least 32
 * bytes), JSON syntax (no NaN/Inf: the caller checks isfinite).
 * Integers up to 2^53 print without exponent or fraction.  Returns the
 * length written (no NUL is counted; one is written).
 */
size_t fmt_double(char *dst, double v);

/* ------------------------------------------------------------------ */
/* json.c: whole JSON texts through libjq                              */
/* ------------------------------------------------------------------ */

/*
 * Parse text[0..len) as one JSON value.  Returns it (owned), or
 * jv_invalid() with *err set to libjq's message without the copy of the
 * whole text libjq 1.6 appends ("Unfinished JSON term at EOF at line 2,
 * column 0"); the caller frees *err.  For files and bodies, not records:
 * records go through rec_parse().
 */
jv json_parse(const char *text, size_t len, char **err);
/*
 * A configuration file that must hold one JSON object: returns it
 * (owned).  A file that cannot be read dies (exit 1); one that is not a
 * JSON object is a usage_error() naming the file (exit 2).
 */
jv json_config_file(const char *path);

/* ------------------------------------------------------------------ */
/* utf8.c                                                              */
/* ------------------------------------------------------------------ */

/*
 * Offset of the first byte of s[0..n) that is not well-formed UTF-8
 * (overlong forms, UTF-16 surrogates and code points above U+10FFFF are
 * not), or -1 when all of it is.
 */
long utf8_invalid_at(const unsigned char *s, size_t n);
/*
 * Append s[0..n) with every byte a terminal could act on or would hide
 * made visible: controls and DEL as \x1b, bytes that are not UTF-8 as
 * \xff, C1 controls as \u0085, a byte-order mark as \ufeff.  For input
 * bytes quoted in a diagnostic; diag.c applies it to every message.
 */
void buf_add_visible(struct buf *, const char *s, size_t n);

/* ------------------------------------------------------------------ */
/* date.c                                                              */
/* ------------------------------------------------------------------ */

/*
 * 1 if s[0..n) is YYYY-MM-DD and a real calendar date (proleptic
 * Gregorian: 2024-02-29 is one, 2026-02-30 is not).  For every flag and
 * field that takes a date.
 */
int date_valid(const char *s, size_t n);
/*
 * 1 if s[0..n) is an RFC 3339 date-time: a date_valid() date, "T",
 * HH:MM:SS, an optional fraction and "Z" or +HH:MM (T and Z in either
 * case; second 60 only at 23:59 UTC).
 */
int date_time_valid(const char *s, size_t n);

/* ------------------------------------------------------------------ */
/* stats.c: numerics, pure functions                                   */
/* ------------------------------------------------------------------ */

/*
 * Median of x[0..n-1] by quickselect; reorders x.  n > 0.  An even
 * count averages the two middle values.
 */
double stats_median(double *x, size_t n);
/* Median absolute deviation about med; reorders x (overwritten). */
double stats_mad(double *x, size_t n, double med);
/* q-quantile, linear interpolation (type 7, as numpy's default); reorders x. */
double stats_quantile(double *x, size_t n, double q);

/* Welford running mean/variance. */
struct welford {
	long long n;
	double mean;
	double m2;
};
void welford_init(struct welford *);
void welford_push(struct welford *, double x);
/* Sample variance (n-1); NAN when n < 2. */
double welford_var(const struct welford *);

/* OLS slope of y on x; NAN when fewer than 2 points or zero x spread. */
double stats_ols_slope(const double *x, const double *y, size_t n);

/* Standard normal CDF, upper tail and quantile (1e-12 relative). */
double stats_norm_cdf(double z);
double stats_norm_sf(double z);
double stats_norm_ppf(double p);
/* Student-t CDF with df > 0 degrees of freedom (df may be fractional). */
double stats_t_cdf(double t, double df);
/* Student-t quantile. */
double stats_t_ppf(double p, double df);
/* Chi-square upper tail P(X > x) with k degrees of freedom. */
double stats_chi2_sf(double x, double k);
/* Regularized incomplete beta I_x(a, b) and lower gamma P(a, x). */
double stats_ibeta(double a, double b, double x);
double stats_gammap(double a, double x);

#endif
