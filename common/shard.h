/*
 * shard.h - hash partitioning of NDJSON records by key fields, and the
 * k-way merge that puts partitioned outputs back into one key order
 * (asin-shard's engine).
 *
 * Key bytes: for each key field in turn, its JSON-decoded UTF-8 string
 * followed by one 0x1F byte; a missing or null field is the two bytes
 * 0x00 0x1F, so it never equals the empty string.  Shard of a record =
 * FNV-1a 32 of those bytes modulo N.  Any other kind of key value (a
 * number, an object) is an error: every key of the suite is a string.
 */
#ifndef SHARD_H
#define SHARD_H

#include <stddef.h>
#include <stdint.h>

#include "asin.h"

#define SHARD_FNV_OFFSET 0x811c9dc5u
#define SHARD_FNV_PRIME 0x01000193u

/* A compiled key: the fields named by -k, in order. */
struct shard_key {
	struct rec_field **f;
	char **names;
	size_t n;
};

/* Compile "a,b,c" (usage error on a bad list or path).  Free with
 * shard_key_free(). */
void shard_key_init(struct shard_key *, const char *list);
void shard_key_free(struct shard_key *);

/* FNV-1a 32 over n bytes, continuing from h (start: SHARD_FNV_OFFSET). */
uint32_t shard_fnv1a32(uint32_t h, const void *p, size_t n);

/*
 * The key of rec, into each buffer that is not NULL (each cleared first):
 * raw gets the key bytes above (what is hashed); text its text form, the
 * fields' JSON-escaped string contents (no quotes) joined by TAB, a
 * missing or null field as \N, which no escaped string can spell; sort a
 * form whose memcmp order is the key order: field by field, a missing or
 * null field before any string, strings by unsigned bytes, a prefix
 * before the longer string (the order of LC_ALL=C sort on the fields).
 * Returns NULL, or a message owned by rec naming the field whose value is
 * not a string.
 */
const char *shard_key_get(const struct shard_key *, struct record *rec,
    struct buf *raw, struct buf *text, struct buf *sort);

/* Compare two keys in sortable form (memcmp, then length): <0, 0, >0. */
int shard_key_cmp(const char *a, size_t alen, const char *b, size_t blen);

/*
 * N partition files written in one pass: each is created as a hidden
 * temporary next to its final name and renamed only by
 * shard_files_commit(), so readers never see a partial partition.  If the
 * process exits before the commit (die(), exit(), SIGINT, SIGTERM or
 * SIGHUP), the temporaries are removed; installs those signal handlers.
 */
struct shard_files;
/*
 * Open n files named by pattern, a printf format with one integer
 * conversion (e.g. "parts/part-%05d.ndjson").  With sync non-zero the
 * commit fsyncs every file before the renames, and the writeback starts
 * during the pass.  Without it a crash of the machine (not of the
 * process) may leave renamed files whose data never reached the disk:
 * only for scratch partitions that are rebuilt from their input.  Dies
 * naming the file on error.
 */
struct shard_files *shard_files_open(const char *pattern, unsigned n,
    int sync);
/* Append len bytes plus a newline to partition i; dies on write error. */
void shard_files_write(struct shard_files *, unsigned i, const char *line,
    size_t len, const char *prefix, size_t plen);
/* Rows and bytes written to partition i so far. */
void shard_files_count(const struct shard_files *, unsigned i,
    long long *rows, long long *bytes);
/*
 * Flush every partition, fsync it if opened with sync, then rename each
 * into place; frees sf.
 */
void shard_files_commit(struct shard_files *);

/*
 * The k-way merge.  Each input must be in key order (ties in any order);
 * the output is every line of every input, in key order, ties kept in
 * file order then line order, so merging the partition outputs of a tool
 * that writes in key order gives the bytes of its single run.  A line
 * out of key order in its file, a bad JSON line or a key that is not a
 * string is a located error (exit 1).  Returns the number of lines.
 */
long long shard_merge(const struct shard_key *, char **paths, int npaths,
    size_t max_line, struct out *o);

/* "I/N" (0 <= I < N <= INT_MAX) into *i and *n; a usage error naming flag
 * otherwise. */
void shard_spec_parse(const char *flag, const char *arg, unsigned *i,
    unsigned *n);

/*
 * One shard's records picked out of a whole input, as a job of N reads
 * the shared file itself instead of a partition written for it: the
 * records asin-shard -k FIELDS --only I/N gives, without the partition
 * pass.  A line that is no record, or whose key is not a string, belongs
 * to shard 0, so that of the N jobs exactly one sees it and rejects it.
 */
struct shard_pick {
	struct shard_key key;
	unsigned i, n;
	char *prefix;		/* {"FIELD":" of a one-field key, else NULL */
	size_t plen;
	struct buf raw;		/* key bytes, scratch */
};

/* Pick shard i of n by the key fields (as -k).  Free with
 * shard_pick_free(). */
void shard_pick_init(struct shard_pick *, const char *fields, unsigned i,
    unsigned n);
void shard_pick_free(struct shard_pick *);

/*
 * Whether line ln (borrowed) belongs to the picked shard.  A line that
 * starts {"FIELD":"value" with a plain value (no escape, no control
 * byte) is decided from those bytes alone, unparsed, so the lines of
 * other shards cost little more than finding their end: a line that is
 * then no valid record is rejected by the job that owns its first key
 * value, the only one to parse it.  Any other line is parsed into rec;
 * *parsed is then 1 if rec holds it, parsed without error, else 0.
 * Without --allow-duplicate-keys' last-one-counts the fast path holds,
 * as a record with a key twice is rejected anyway; with it, every line
 * is parsed.
 */
int shard_pick_line(struct shard_pick *, struct record *rec,
    const struct nd_line *ln, int *parsed);

#endif
