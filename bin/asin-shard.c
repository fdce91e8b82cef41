/*
 * asin-shard - hash-partition NDJSON records by key fields (FNV-1a 32 of
 * the key bytes, mod N) into N files written atomically in one pass, or
 * keep one shard (--only I/N), or prefix each record with its key
 * (--emit-key) for sort, Hadoop Streaming and Spark; --merge puts
 * partitioned outputs back into the single run's key order.
 */
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "asin.h"
#include "shard.h"

#define SHARD_MAX_FILES 1024

static const char usage_text[] =
    "usage: asin-shard -k FIELDS -n N (-o DIR | --prefix PREFIX) [--no-sync]\n"
    "                  [FILE ...]\n"
    "       asin-shard -k FIELDS --only I/N [--emit-key] [FILE ...]\n"
    "       asin-shard -k FIELDS --emit-key [FILE ...]\n"
    "       asin-shard -k FIELDS --merge [FILE ...]\n"
    "Partition records by the FNV-1a 32 hash of their key fields, mod N,\n"
    "so every record of a key lands in the same shard on every machine.\n"
    "\n"
    "  -k, --key FIELDS      comma-separated string fields forming the key\n"
    "  -n, --shards N        write N partition files (1 to 1024)\n"
    "  -o, --output DIR      partition files DIR/part-00000.ndjson ...\n"
    "      --prefix PREFIX   partition files PREFIX00000.ndjson ...\n"
    "      --only I/N        write only the records of shard I of N\n"
    "      --emit-key        prefix each record with its key fields and "
    "a TAB\n"
    "      --merge           merge FILEs, each in key order, into one key "
    "order\n"
    "      --no-sync         rename the partition files into place without "
    "syncing\n"
    "                        them to disk first (scratch partitions)\n"
    "\n";

enum {
	OPT_PREFIX = OPT_COMMON_END,
	OPT_ONLY,
	OPT_EMIT_KEY,
	OPT_MERGE,
	OPT_NO_SYNC
};

static const struct option longopts[] = {
	CLI_COMMON_LONGOPTS,
	{ "key", required_argument, NULL, 'k' },
	{ "shards", required_argument, NULL, 'n' },
	{ "output", required_argument, NULL, 'o' },
	{ "prefix", required_argument, NULL, OPT_PREFIX },
	{ "only", required_argument, NULL, OPT_ONLY },
	{ "emit-key", no_argument, NULL, OPT_EMIT_KEY },
	{ "merge", no_argument, NULL, OPT_MERGE },
	{ "no-sync", no_argument, NULL, OPT_NO_SYNC },
	{ NULL, 0, NULL, 0 }
};

struct opts {
	const char *key;
	long long n;		/* -n; 0 = unset */
	const char *dir;
	const char *prefix;
	long long only_i;	/* -1 = unset */
	long long only_n;
	int emit_key;
	int merge;
	int no_sync;		/* --no-sync: commit without fsync(2) */
};

/* "I/N" with 0 <= I < N. */
static void
parse_only(const char *arg, struct opts *op)
{
	unsigned i, n;

	shard_spec_parse("--only", arg, &i, &n);
	op->only_i = i;
	op->only_n = n;
}

/* A printf pattern for the partition files, '%' in the user's text
 * doubled so it stays literal. */
static char *
file_pattern(const struct opts *op)
{
	const char *s = op->dir != NULL ? op->dir : op->prefix;
	struct buf b;

	buf_init(&b);
	for (; *s != '\0'; s++) {
		if (*s == '%')
			buf_addc(&b, '%');
		buf_addc(&b, *s);
	}
	if (op->dir != NULL)
		buf_adds(&b, "/part-%05u.ndjson");
	else
		buf_adds(&b, "%05u.ndjson");
	buf_addc(&b, '\0');
	return b.data;
}

/* The partition and filter modes; returns the exit status. */
static int
shard(struct nd_reader *rd, const struct opts *op, struct cli_common *co)
{
	struct shard_key key;
	struct record *rec = rec_new();
	struct shard_files *sf = NULL;
	struct out *o = NULL;
	struct buf raw, text, extra;
	struct nd_line ln;
	struct acct ac;
	const char *err;
	char *pat;
	unsigned nshard = 1, s;
	long long rows, bytes;
	int rc;

	shard_key_init(&key, op->key);
	buf_init(&raw);
	buf_init(&text);
	buf_init(&extra);
	if (op->n > 0) {
		nshard = (unsigned)op->n;
		pat = file_pattern(op);
		sf = shard_files_open(pat, nshard, !op->no_sync);
		free(pat);
	} else {
		if (op->only_i >= 0)
			nshard = (unsigned)op->only_n;
		o = out_new(1, "<stdout>");
	}
	acct_init(&ac, co);
	ac.sink = o;
	while (nd_next(rd, &ln)) {
		ac.in++;
		if (ln.error != NULL || !rec_parse(rec, &ln, &err)) {
			acct_reject(&ac, ln.source, ln.lineno, ln.buf, ln.len,
			    ln.error != NULL ? ln.error : err);
			continue;
		}
		if ((err = shard_key_get(&key, rec, &raw,
		    op->emit_key ? &text : NULL, NULL)) != NULL) {
			acct_reject(&ac, ln.source, ln.lineno, ln.buf, ln.len,
			    err);
			continue;
		}
		s = shard_fnv1a32(SHARD_FNV_OFFSET, raw.data, raw.len) %
		    nshard;
		if (op->emit_key)
			buf_addc(&text, '\t');
		if (sf != NULL) {
			shard_files_write(sf, s, ln.buf, ln.len, text.data,
			    op->emit_key ? text.len : 0);
		} else if (op->only_i >= 0 && s != (unsigned)op->only_i) {
			ac.dropped++;
			continue;
		} else {
			if (op->emit_key)
				out_write(o, text.data, text.len);
			out_line(o, ln.buf, ln.len);
		}
		ac.out++;
	}
	if (sf != NULL) {
		buf_printf(&extra, "\"shards\":%u,\"rows_per_shard\":[",
		    nshard);
		for (s = 0; s < nshard; s++) {
			shard_files_count(sf, s, &rows, &bytes);
			buf_printf(&extra, "%s%lld", s > 0 ? "," : "", rows);
		}
		buf_adds(&extra, "]");
		buf_addc(&extra, '\0');
		/* A percentage --max-rejects passed fails the run: then no
		 * partition is renamed into place (the exit handler removes
		 * the temporaries). */
		rc = acct_finish(&ac, extra.data);
		if (rc == EXIT_OK)
			shard_files_commit(sf);
	} else {
		out_close(o);
		rc = acct_finish(&ac, NULL);
	}
	buf_free(&raw);
	buf_free(&text);
	buf_free(&extra);
	rec_free(rec);
	shard_key_free(&key);
	return rc;
}

static int
merge(char **paths, int npaths, const struct opts *op, struct cli_common *co)
{
	static char *stdin_path[] = { "-", NULL };
	struct shard_key key;
	struct out *o = out_new(1, "<stdout>");
	struct acct ac;

	shard_key_init(&key, op->key);
	acct_init(&ac, co);
	ac.sink = o;
	if (npaths == 0) {
		paths = stdin_path;
		npaths = 1;
	}
	ac.in = shard_merge(&key, paths, npaths, co->max_line, o);
	ac.out = ac.in;
	out_close(o);
	shard_key_free(&key);
	return acct_finish(&ac, NULL);
}

int
main(int argc, char *argv[])
{
	struct cli_common co;
	struct nd_reader *rd;
	struct opts op = { .only_i = -1 };
	int ch, rc;

	diag_init(argv[0]);
	cli_init(&co, usage_text);
	while ((ch = cli_getopt(argc, argv, "hk:n:o:qVv", longopts)) != -1) {
		if (cli_common_opt(&co, ch, optarg))
			continue;
		switch (ch) {
		case 'k':
			op.key = optarg;
			break;
		case 'n':
			op.n = cli_int("--shards", optarg, 1,
			    SHARD_MAX_FILES);
			break;
		case 'o':
			op.dir = optarg;
			break;
		case OPT_PREFIX:
			op.prefix = optarg;
			break;
		case OPT_ONLY:
			parse_only(optarg, &op);
			break;
		case OPT_EMIT_KEY:
			op.emit_key = 1;
			break;
		case OPT_MERGE:
			op.merge = 1;
			break;
		case OPT_NO_SYNC:
			op.no_sync = 1;
			break;
		default:
			usage_error("unexpected option");
		}
	}
	if (op.key == NULL)
		usage_error("option --key is required");
	if (op.dir != NULL && op.prefix != NULL)
		usage_error("options --output and --prefix exclude each other");
	if (op.merge) {
		if (op.n > 0 || op.only_i >= 0 || op.emit_key ||
		    op.dir != NULL || op.prefix != NULL || op.no_sync)
			usage_error("option --merge takes only --key and the "
			    "common options");
		return merge(argv + optind, argc - optind, &op, &co);
	}
	if (op.n > 0 && op.only_i >= 0)
		usage_error("options --shards and --only exclude each other");
	if (op.n > 0 && op.dir == NULL && op.prefix == NULL)
		usage_error("option --shards needs --output or --prefix");
	if (op.n == 0 && (op.dir != NULL || op.prefix != NULL))
		usage_error("options --output and --prefix need --shards");
	if (op.n == 0 && op.no_sync)
		usage_error("option --no-sync needs --shards");
	if (op.n == 0 && op.only_i < 0 && !op.emit_key)
		usage_error("one of --shards, --only, --emit-key or --merge "
		    "is required");
	rd = nd_open(argv + optind, argc - optind, co.max_line);
	/* Files are mapped, not read: no copy into a read buffer. */
	(void)nd_stable(rd);
	rc = shard(rd, &op, &co);
	nd_close(rd);
	return rc;
}
