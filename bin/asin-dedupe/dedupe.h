/*
 * dedupe.h - what the files of asin-dedupe share: the row store, the
 * options and the run's counters.  main.c reads and routes records,
 * build.c turns envelopes into fact rows, rows.c keeps, merges, flags and
 * writes them, report.c writes the quality report and checks the gates.
 */
#ifndef DEDUPE_H
#define DEDUPE_H

#include <stddef.h>
#include <stdint.h>

#include "asin.h"
#include "keepa.h"
#include "scan.h"
#include "schema.h"

/* Anomaly kinds, in the order they are printed. */
enum {
	AN_PRICE,		/* a price <= 0 */
	AN_BSR,			/* bsr or sub_bsr < 1 */
	AN_RATING,		/* rating outside 1 to 5 */
	AN_BSR_LOST,		/* the source's rank went to -1 */
	AN_REVIEWS_FALL,	/* review_count below the previous row's */
	AN_PRICE_JUMP,		/* price changed by more than --max-price-jump */
	AN_STALE,		/* source_last_update older than --stale-hours */
	AN_CATEGORY,		/* bsr_cat (or category) changed */
	AN_COUNT
};
/* Kinds read from one row alone: kept from input rows' anomalies. */
#define AN_VALUE_KINDS ((1u << AN_PRICE) | (1u << AN_BSR) | \
	(1u << AN_RATING) | (1u << AN_BSR_LOST))
extern const char *const an_name[AN_COUNT];
int an_lookup(const char *s, size_t n);	/* kind, or -1 */

/* Fields whose null rate the report gives (bit i of rowsum.nonnull). */
#define NF_MAX 64
extern const char *const nf_default[];

/* The price fields, checked for <= 0 and jumps, in this order. */
#define NPRICE 5
extern const char *const price_field[NPRICE];

/* What the checks across rows need of a row, read once when it comes in. */
struct rowsum {
	double slu;		/* source_last_update, unix seconds; NAN none */
	double price[NPRICE];	/* NAN none */
	int64_t reviews;	/* -1 none */
	uint64_t cat;		/* hash of bsr_cat (else category); 0 none */
	uint64_t nonnull;	/* tracked fields present and not null */
	unsigned flags;		/* value anomaly kinds */
};

struct row {
	uint64_t hi, lo;	/* asin base 36; marketplace and day */
	double fetched;		/* fetched_at, unix seconds; -INFINITY none */
	const char *raw;	/* the row's JSON text, without anomalies */
	size_t len;
	long line;
	unsigned src;		/* index into run.srcs */
	struct rowsum sum;
};

/* Bytes that stay put until arena_reset(). */
struct arena {
	struct achunk *head;
	size_t used, total;
};
const char *arena_copy(struct arena *, const char *p, size_t n);
void arena_reset(struct arena *);

struct mapprog;
struct mentry;
struct fslot;
struct pcache;

struct opts {
	long days;
	long since;		/* first day kept (--since); LONG_MIN: all */
	unsigned shard_i, shard_n;	/* --shard I/N; shard_n 0: all */
	int sorted;
	double max_price_jump;	/* a factor > 1 */
	double stale_hours;
	unsigned drop;		/* kinds sent to rejects */
	const char *report;
	int partial;		/* --partial: write a report fragment */
	int merge;		/* --merge-reports: operands are fragments */
	const char *expect;
	const char *previous;
	const char *schema;
	double min_coverage;	/* < 0: no gate */
	char **null_gate_field;
	double *null_gate;
	size_t nnull_gate;
	double anomaly_gate[AN_COUNT];	/* < 0: no gate */
	struct mapprog **maps;
	size_t nmaps;
};

/* A count by name, for envelope statuses, reasons and rejects. */
struct tally {
	char **name;
	long long *n;
	size_t len, cap;
};
void tally_add(struct tally *, const char *name, size_t len);
void tally_addn(struct tally *, const char *name, size_t len, long long n);
void tally_free(struct tally *);

struct run {
	const struct opts *opt;
	struct cli_common *co;
	struct acct ac;
	struct out *o;
	struct schema *sc;
	struct record *rec;	/* the input line */
	struct record *rec2;	/* a row rebuilt or merged */
	struct record *recb;	/* a row built from an envelope */
	struct scan scan, scan2, scan3;	/* for the libjq backend */
	struct scan bscan;	/* the index of a row built from an envelope */
	long bopen;		/* its member being written; -1 none */
	int stable;		/* input lines stay valid to the end */
	struct arena arena;
	struct row *rows;
	size_t nrows, caprows;
	char **srcs;
	size_t nsrcs;
	struct keepa_product kp;
	struct buf b, b2, msg;	/* scratch */
	/* merging a group: one scan per row, the merged members */
	struct scan *pool;
	size_t npool;
	struct mentry *ment;
	size_t nment, capment;
	uint64_t *khash;	/* hashes of a row's names the table lacks */
	size_t *kidx;		/* and their member indexes */
	uint64_t gen;		/* rows examined, for duplicate names */
	struct fslot *ftab;	/* member names the checks know */
	struct pcache *pc;	/* its answers by member position */
	int fast;		/* check members alone (rows_init) */
	char *props[128];
	size_t nprop;
	size_t capkhash;
	/* the flush order, for rows that look back at the previous row */
	int have_prev;
	uint64_t prev_hi, prev_lo;
	struct rowsum prev;
	/* --sorted: the last input key, for the order check */
	int have_last;
	uint64_t last_hi, last_lo;
	/* the null-rate fields */
	const char *nf[NF_MAX];
	size_t nnf;
	long long nulls[NF_MAX];
	/* counters for the report */
	long long records, envelopes, rows_built, rows_out, rows_checked;
	long long before_since;	/* rows left out by --since */
	long since;		/* the --since day, or the fragments'; LONG_MIN */
	long long an_rows[AN_COUNT];
	struct tally status, reasons, rejects;
	int have_expect;	/* coverage is known (--expect, fragments) */
	char *expected;		/* ASINs of --expect, 11 bytes each */
	unsigned char *seen;
	size_t nexpected;
	/* bad lines of --expect, kept apart for --partial fragments */
	struct xrej {
		char *src;
		long line;
		char *reason;	/* as rejects_by_reason counts it */
	} *xrej;
	size_t nxrej;
};

/* rows.c */
/*
 * Take one fact row: raw[0..len) parsed as rec (borrowed).  Checks the
 * key, duplicate names and non-finite numbers, nulls the values that
 * break a row-level rule (flagged), checks the schema and stores it.
 * env_raw/env_len: the input line to quote when the row was built from
 * an envelope (NULL: raw itself); what is the reject prefix ("row for
 * 2026-05-09: ") or "".  Returns 1 when stored, 0 when rejected.
 */
int row_take(struct run *, struct record *rec, const char *raw, size_t len,
    const char *env_raw, size_t env_len, const char *what);
/*
 * The same for a row this tool built as text raw[0..len) (well-formed
 * JSON, no duplicate names) and indexed itself in sc: the row is parsed
 * as a record (into run.recb) only when the whole-record check needs it.
 * src and line locate the envelope.
 */
int row_take_scan(struct run *, const struct scan *sc, const char *src,
    long line, const char *raw, size_t len, const char *env_raw,
    size_t env_len, const char *what);
/*
 * Build the member-name table; call once the null-rate fields are set.
 * doc (consumed) is the schema document: when its root only lists
 * properties, members are checked alone against their property.
 */
void rows_init(struct run *, jv doc);
/*
 * Reject an input line (or the line an envelope came on): counted, its
 * reason tallied for the report with digits folded to N.  what prefixes
 * the reason.
 */
void reject_line(struct run *, const char *src, long line, const char *raw,
    size_t len, const char *what, const char *why);
/* what and why as the report counts the reason (digits folded to N), in dst. */
void reason_fold(struct buf *dst, const char *what, const char *why);
/* --sorted: die unless (hi, lo) comes at or after the last key. */
void rows_check_order(struct run *, const struct nd_line *, uint64_t hi,
    uint64_t lo);
/* --sorted: write what can no longer merge before key (hi, lo-days). */
void rows_flush_before(struct run *, uint64_t hi, uint64_t lo);
/* Sort and write every stored row. */
void rows_flush_all(struct run *);
void rows_free(struct run *);
/*
 * The working buffers every run needs (records, scans, the Keepa
 * product, the row and message buffers): one pair so that asin-dedupe
 * and its fuzz target cannot drift apart.  run_work_free() also frees
 * the status, reason and reject tallies.
 */
void run_work_init(struct run *);
void run_work_free(struct run *);
/* Day number of "YYYY-MM-DD" (exactly 10 bytes); 0 when not a real date. */
int parse_day(const char *s, size_t n, long *day);
/* Unix seconds of an RFC 3339 date-time; 0 when it is not one. */
int parse_time(const char *s, size_t n, double *t);
/* Pack an ASIN and a marketplace; 0 when they do not match the patterns. */
int pack_key(const char *asin, size_t alen, const char *mkt, size_t mlen,
    long day, uint64_t *hi, uint64_t *lo);
/* The 10-byte ASIN of hi into dst (11 bytes, NUL-terminated). */
void unpack_asin(uint64_t hi, char *dst);
/* "YYYY-MM-DD" of day into dst (11 bytes). */
void format_day(long day, char *dst);

/* build.c */
/*
 * Route one envelope (the current record of run.rec, line ln): count a
 * status other than ok, or turn the payload into rows (Keepa, SP-API, a
 * --map program) and give each to row_take().  Returns the number of
 * rows stored; rejects itself.
 */
long envelope_take(struct run *, const struct nd_line *ln);
/* --map [PROVIDER=]FILE: compile; dies with the file's error. */
struct mapprog *map_load(const char *arg);
void map_free(struct mapprog *);

/* report.c */
/* Write --report, print -v's line, check the gates.  Returns the status. */
int report_finish(struct run *);
/*
 * Read --expect into run.expected (sorted, unique).  A bad line is a
 * reject (counted in, rejected), located at path and line; call after
 * acct_init().
 */
void expect_load(struct run *, const char *path);
/*
 * --merge-reports: read the fragments paths[0..n) (written by --partial)
 * into the run's counters, as one run over all their input would have
 * counted; dies naming the file that is not a fragment.
 */
void report_merge(struct run *, char **paths, int n);
/* Free what report_merge() and expect_load() keep. */
void report_free(struct run *);
/* Mark asin (10 bytes) as covered. */
void expect_mark(struct run *, const char *asin);

#endif
