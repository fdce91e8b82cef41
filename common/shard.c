/*
 * shard.c - hash partitioning by key fields and the k-way merge back into
 * key order; see shard.h for the key bytes and the contracts.
 */
#include <errno.h>
#include <limits.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "asin.h"
#include "shard.h"

void
shard_key_init(struct shard_key *k, const char *list)
{
	size_t i;

	k->names = cli_split("-k", list, &k->n);
	k->f = xcalloc(k->n, sizeof(*k->f));
	for (i = 0; i < k->n; i++)
		k->f[i] = rec_field(k->names[i]);
}

void
shard_key_free(struct shard_key *k)
{
	size_t i;

	for (i = 0; i < k->n; i++)
		rec_field_free(k->f[i]);
	free(k->f);
	strv_free(k->names);
}

uint32_t
shard_fnv1a32(uint32_t h, const void *p, size_t n)
{
	const unsigned char *s = p;
	size_t i;

	for (i = 0; i < n; i++) {
		h ^= s[i];
		h *= SHARD_FNV_PRIME;
	}
	return h;
}

/* Append s as one field of the sortable form (see shard.h). */
static void
add_sortable(struct buf *b, const char *s, size_t n)
{
	const char *z;

	buf_addc(b, 1);
	while (n > 0 && (z = memchr(s, 0, n)) != NULL) {
		buf_add(b, s, (size_t)(z - s));
		buf_add(b, "\0\xff", 2);
		n -= (size_t)(z - s) + 1;
		s = z + 1;
	}
	buf_add(b, s, n);
	buf_add(b, "\0\0", 2);
}

const char *
shard_key_get(const struct shard_key *k, struct record *rec, struct buf *raw,
    struct buf *text, struct buf *sort)
{
	const char *s;
	size_t i, len, start;

	if (raw != NULL)
		raw->len = 0;
	if (text != NULL)
		text->len = 0;
	if (sort != NULL)
		sort->len = 0;
	for (i = 0; i < k->n; i++) {
		if (text != NULL && i > 0)
			buf_addc(text, '\t');
		switch (rec_str(rec, k->f[i], &s, &len)) {
		case REC_OK:
			if (raw != NULL) {
				buf_add(raw, s, len);
				buf_addc(raw, 0x1f);
			}
			if (sort != NULL)
				add_sortable(sort, s, len);
			if (text != NULL) {
				/* The escaped string without its quotes. */
				start = text->len;
				buf_add_jstr(text, s, len);
				memmove(text->data + start,
				    text->data + start + 1,
				    text->len - start - 2);
				text->len -= 2;
			}
			break;
		case REC_ABSENT:
		case REC_ISNULL:
			if (raw != NULL)
				buf_add(raw, "\0\x1f", 2);
			if (sort != NULL)
				buf_addc(sort, 0);
			if (text != NULL)
				buf_add(text, "\\N", 2);
			break;
		default:
			return rec_errmsg(rec, k->f[i], REC_STRING);
		}
	}
	return NULL;
}

int
shard_key_cmp(const char *a, size_t alen, const char *b, size_t blen)
{
	int c = memcmp(a, b, alen < blen ? alen : blen);

	if (c != 0)
		return c;
	return (alen > blen) - (alen < blen);
}

/* ------------------------------------------------------------------ */
/* partition files                                                     */
/* ------------------------------------------------------------------ */

/* Per-partition buffer: large enough that a write(2) moves a good chunk,
 * small enough for 1024 partitions to stay in a few tens of megabytes. */
#define SHARD_BUFSZ (1u << 15)

/* When syncing, start the disk writes of each partition every this many
 * bytes, so they overlap the pass instead of all waiting for the final
 * fsync(2). */
#define SHARD_KICK (1u << 21)

struct shard_file {
	char *path;
	char *tmp;
	int fd;
	char *buf;		/* SHARD_BUFSZ bytes, len used */
	size_t len;
	long long kicked;	/* bytes whose writeback has been started */
	long long rows;
	long long bytes;
};

struct shard_files {
	struct shard_file *f;
	unsigned n;
	int sync;		/* fsync each file before the renames */
};

/*
 * The partition set being written, for the exit handler that removes
 * the temporaries when the run dies before the commit.  The only mutable
 * state of this file: atexit() takes no argument.
 */
static struct shard_files *live_files;

static void
remove_temps(void)
{
	struct shard_files *sf = live_files;
	unsigned i;

	if (sf == NULL)
		return;
	live_files = NULL;
	for (i = 0; i < sf->n; i++)
		if (sf->f[i].tmp != NULL)
			unlink(sf->f[i].tmp);
}

/* SIGINT, SIGTERM, SIGHUP: remove the temporaries (unlink(2) is
 * async-signal-safe), then die of the signal as if not caught. */
static void
remove_temps_on_signal(int sig)
{
	struct shard_files *sf = live_files;
	unsigned i;

	if (sf != NULL)
		for (i = 0; i < sf->n; i++)
			if (sf->f[i].tmp != NULL)
				unlink(sf->f[i].tmp);
	signal(sig, SIG_DFL);
	raise(sig);
}

/* The temporary for path: ".NAME.tmp.PID" in the same directory, so the
 * rename stays on one file system. */
static char *
temp_name(const char *path)
{
	const char *slash = strrchr(path, '/');
	int dirlen = slash != NULL ? (int)(slash - path + 1) : 0;

	return xasprintf("%.*s.%s.tmp.%ld", dirlen, path, path + dirlen,
	    (long)getpid());
}

struct shard_files *
shard_files_open(const char *pattern, unsigned n, int sync)
{
	static int registered;
	struct shard_files *sf;
	unsigned i;
	int fd;

	sf = xcalloc(1, sizeof(*sf));
	sf->f = xcalloc(n, sizeof(*sf->f));
	sf->n = n;
	sf->sync = sync;
	live_files = sf;
	if (!registered) {
		atexit(remove_temps);
		signal(SIGINT, remove_temps_on_signal);
		signal(SIGTERM, remove_temps_on_signal);
		signal(SIGHUP, remove_temps_on_signal);
		registered = 1;
	}
	for (i = 0; i < n; i++) {
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wformat-nonliteral"
		sf->f[i].path = xasprintf(pattern, i);
#pragma GCC diagnostic pop
		sf->f[i].tmp = temp_name(sf->f[i].path);
		fd = open(sf->f[i].tmp, O_WRONLY | O_CREAT | O_TRUNC |
		    O_CLOEXEC, 0644);
		if (fd < 0) {
			free(sf->f[i].tmp);
			sf->f[i].tmp = NULL;
			die("%s: cannot create:", sf->f[i].path);
		}
		sf->f[i].fd = fd;
		sf->f[i].buf = xmalloc(SHARD_BUFSZ);
	}
	return sf;
}

/* Write the buffer of f out; dies naming the partition on error. */
static void
flush_file(struct shard_file *f)
{
	size_t off = 0;
	ssize_t w;

	while (off < f->len) {
		w = write(f->fd, f->buf + off, f->len - off);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			die("%s: write error:", f->path);
		off += (size_t)w;
	}
	f->len = 0;
}

/*
 * Start the writeback of what write(2) has taken of f (bytes minus the
 * buffered len) once SHARD_KICK more bytes are there, so the fsync(2) at
 * the commit finds most of the data on its way to disk.  A file system
 * that refuses sync_file_range(2) only loses the overlap; the fsync(2)
 * still reports any write error.
 */
static void
start_writeback(struct shard_file *f)
{
	long long written = f->bytes - (long long)f->len;

	if (written - f->kicked < (long long)SHARD_KICK)
		return;
	(void)sync_file_range(f->fd, (off_t)f->kicked,
	    (off_t)(written - f->kicked), SYNC_FILE_RANGE_WRITE);
	f->kicked = written;
}

/* Append n bytes to f's buffer, flushing as it fills. */
static void
add_bytes(struct shard_file *f, const char *p, size_t n)
{
	size_t room;

	while (n > 0) {
		if (f->len == SHARD_BUFSZ)
			flush_file(f);
		room = SHARD_BUFSZ - f->len;
		if (room > n)
			room = n;
		memcpy(f->buf + f->len, p, room);
		f->len += room;
		p += room;
		n -= room;
	}
}

void
shard_files_write(struct shard_files *sf, unsigned i, const char *line,
    size_t len, const char *prefix, size_t plen)
{
	struct shard_file *f = &sf->f[i];

	f->rows++;
	f->bytes += (long long)(plen + len + 1);
	if (f->len + plen + len + 1 <= SHARD_BUFSZ) {
		/* The common case: the whole line fits. */
		if (plen > 0)
			memcpy(f->buf + f->len, prefix, plen);
		memcpy(f->buf + f->len + plen, line, len);
		f->len += plen + len;
		f->buf[f->len++] = '\n';
	} else {
		/* The buffer fills: the pass writes it out only here. */
		add_bytes(f, prefix, plen);
		add_bytes(f, line, len);
		add_bytes(f, "\n", 1);
		if (sf->sync)
			start_writeback(f);
	}
}

void
shard_files_count(const struct shard_files *sf, unsigned i, long long *rows,
    long long *bytes)
{
	*rows = sf->f[i].rows;
	*bytes = sf->f[i].bytes;
}

void
shard_files_commit(struct shard_files *sf)
{
	struct shard_file *f;
	unsigned i;

	/* Every file is complete (on disk, when syncing) before the first
	 * one is renamed, so a crash leaves either no partition or all of
	 * them. */
	for (i = 0; i < sf->n; i++) {
		f = &sf->f[i];
		flush_file(f);
		if (sf->sync && fsync(f->fd) != 0)
			die("%s: write error:", f->path);
		if (close(f->fd) != 0) {
			f->fd = -1;
			die("%s: write error:", f->path);
		}
		f->fd = -1;
		free(f->buf);
		f->buf = NULL;
	}
	for (i = 0; i < sf->n; i++) {
		f = &sf->f[i];
		if (rename(f->tmp, f->path) != 0)
			die("%s: cannot rename into place:", f->path);
		free(f->tmp);
		f->tmp = NULL;
	}
	live_files = NULL;
	for (i = 0; i < sf->n; i++)
		free(sf->f[i].path);
	free(sf->f);
	free(sf);
}

/* ------------------------------------------------------------------ */
/* merge                                                               */
/* ------------------------------------------------------------------ */

struct msrc {
	struct nd_reader *rd;
	const char *path;
	long lineno;
	struct buf line;
	struct buf key;		/* sortable form */
	struct buf prev;	/* the key before, for the order check */
	int live;
};

/* Read the next line of s; 0 at its end.  Dies on a bad line or a key
 * out of order. */
static int
msrc_next(struct msrc *s, const struct shard_key *k, struct record *rec,
    int first)
{
	struct nd_line ln;
	const char *err;
	struct buf t;

	if (!nd_next(s->rd, &ln))
		return s->live = 0;
	if (ln.error != NULL)
		die_at(ln.source, ln.lineno, "%s", ln.error);
	if (!rec_parse(rec, &ln, &err))
		die_at(ln.source, ln.lineno, "%s", err);
	t = s->prev;
	s->prev = s->key;
	s->key = t;
	if ((err = shard_key_get(k, rec, NULL, NULL, &s->key)) != NULL)
		die_at(ln.source, ln.lineno, "%s", err);
	if (!first && shard_key_cmp(s->key.data, s->key.len, s->prev.data,
	    s->prev.len) < 0)
		die_at(ln.source, ln.lineno,
		    "not in key order: a partition to merge must be sorted "
		    "by the merge key");
	s->line.len = 0;
	buf_add(&s->line, ln.buf, ln.len);
	s->lineno = ln.lineno;
	return s->live = 1;
}

/* Heap order: key, then file index (ties keep file order). */
static int
mless(const struct msrc *src, int a, int b)
{
	int c = shard_key_cmp(src[a].key.data, src[a].key.len,
	    src[b].key.data, src[b].key.len);

	return c != 0 ? c < 0 : a < b;
}

static void
sift_down(const struct msrc *src, int *h, int n, int i)
{
	int c, t;

	for (;;) {
		c = 2 * i + 1;
		if (c >= n)
			return;
		if (c + 1 < n && mless(src, h[c + 1], h[c]))
			c++;
		if (!mless(src, h[c], h[i]))
			return;
		t = h[c];
		h[c] = h[i];
		h[i] = t;
		i = c;
	}
}

long long
shard_merge(const struct shard_key *k, char **paths, int npaths,
    size_t max_line, struct out *o)
{
	struct msrc *src = xcalloc((size_t)npaths, sizeof(*src));
	struct record *rec = rec_new();
	int *heap = xcalloc((size_t)npaths, sizeof(*heap));
	int i, n = 0;
	long long lines = 0;

	for (i = 0; i < npaths; i++) {
		src[i].path = paths[i];
		src[i].rd = nd_open(paths + i, 1, max_line);
		buf_init(&src[i].line);
		buf_init(&src[i].key);
		buf_init(&src[i].prev);
		if (msrc_next(&src[i], k, rec, 1))
			heap[n++] = i;
	}
	for (i = n / 2 - 1; i >= 0; i--)
		sift_down(src, heap, n, i);
	while (n > 0) {
		i = heap[0];
		out_line(o, src[i].line.data, src[i].line.len);
		lines++;
		if (!msrc_next(&src[i], k, rec, 0))
			heap[0] = heap[--n];
		sift_down(src, heap, n, 0);
	}
	for (i = 0; i < npaths; i++) {
		nd_close(src[i].rd);
		buf_free(&src[i].line);
		buf_free(&src[i].key);
		buf_free(&src[i].prev);
	}
	free(heap);
	free(src);
	rec_free(rec);
	return lines;
}

void
shard_spec_parse(const char *flag, const char *arg, unsigned *i,
    unsigned *n)
{
	const char *slash = strchr(arg, '/');
	char *head;

	if (slash == NULL)
		usage_error("option %s: expected I/N, got '%s'", flag, arg);
	head = xstrndup(arg, (size_t)(slash - arg));
	*n = (unsigned)cli_int(flag, slash + 1, 1, INT_MAX);
	*i = (unsigned)cli_int(flag, head, 0, (long long)*n - 1);
	free(head);
}

void
shard_pick_init(struct shard_pick *p, const char *fields, unsigned i,
    unsigned n)
{
	const char *f;

	memset(p, 0, sizeof(*p));
	shard_key_init(&p->key, fields);
	p->i = i;
	p->n = n;
	buf_init(&p->raw);
	/* The fast path: a one-field key named by a plain top-level name. */
	if (p->key.n != 1)
		return;
	for (f = p->key.names[0]; *f != '\0'; f++)
		if (!((*f >= 'a' && *f <= 'z') || (*f >= 'A' && *f <= 'Z') ||
		    (*f >= '0' && *f <= '9') || *f == '_'))
			return;
	p->prefix = xasprintf("{\"%s\":\"", p->key.names[0]);
	p->plen = strlen(p->prefix);
}

void
shard_pick_free(struct shard_pick *p)
{
	shard_key_free(&p->key);
	free(p->prefix);
	buf_free(&p->raw);
}

int
shard_pick_line(struct shard_pick *p, struct record *rec,
    const struct nd_line *ln, int *parsed)
{
	const unsigned char *v, *end, *q;
	const char *err;
	uint32_t h;

	*parsed = 0;
	if (p->n == 1)
		return 1;
	if (ln->error != NULL)
		return p->i == 0;
	if (p->prefix != NULL && !rec_duplicate_keys_allowed() &&
	    ln->len > p->plen && memcmp(ln->buf, p->prefix, p->plen) == 0) {
		v = (const unsigned char *)ln->buf + p->plen;
		end = (const unsigned char *)ln->buf + ln->len;
		for (q = v; q < end && *q != '"' && *q != '\\' && *q >= 0x20;
		    q++)
			;
		if (q < end && *q == '"') {
			h = shard_fnv1a32(SHARD_FNV_OFFSET, v, (size_t)(q - v));
			h = shard_fnv1a32(h, "\x1f", 1);
			return h % p->n == p->i;
		}
	}
	if (!rec_parse(rec, ln, &err) ||
	    shard_key_get(&p->key, rec, &p->raw, NULL, NULL) != NULL)
		return p->i == 0;
	*parsed = 1;
	return shard_fnv1a32(SHARD_FNV_OFFSET, p->raw.data, p->raw.len) %
	    p->n == p->i;
}
