/*
 * ndjson.c - the line reader under every tool.  It reads the operands in
 * turn with large read(2) calls (or maps them, for two-pass tools), cuts
 * lines at '\n', drops a '\r' before it, skips blank lines, and keeps the
 * source name and physical line number of every line.  A line longer than
 * the limit is handed back with an error instead of growing memory without
 * bound.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "asin.h"

#define ND_CHUNK (256u << 10)

struct nd_reader {
	char **paths;		/* borrowed from argv */
	int npaths;
	int next;		/* index of the next operand to open */
	int fd;			/* current operand, -1 between operands */
	const char *name;	/* current source name */
	long lineno;
	size_t max_line;
	int keyed;		/* leading TAB-separated key fields to strip */
	/* read(2) mode */
	char *buf;
	size_t cap, start, end;
	int eof;
	int skipping;		/* inside the rest of an over-long line */
	/* mapped mode */
	int mapped;
	char **maps;
	size_t *maplens;
	const char *mp;		/* cursor in the current map */
	const char *mend;
};

/*
 * --keyed K, set once while the options are read, before the first
 * nd_open(): an option, not state.
 */
static int keyed_default;

void
nd_keyed_default(int k)
{
	keyed_default = k;
}

void
nd_keyed(struct nd_reader *r, int k)
{
	r->keyed = k;
}

static const char *
operand_name(const char *p)
{
	return p == NULL || strcmp(p, "-") == 0 ? "<stdin>" : p;
}

static int
open_operand(const char *p)
{
	int fd;

	if (p == NULL || strcmp(p, "-") == 0)
		return 0;
	fd = open(p, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		die("%s: cannot open:", p);
	return fd;
}

struct nd_reader *
nd_open(char **paths, int npaths, size_t max_line)
{
	struct nd_reader *r = xcalloc(1, sizeof(*r));

	r->paths = paths;
	r->npaths = npaths;
	r->fd = -1;
	r->max_line = max_line ? max_line : ND_MAX_LINE_DEFAULT;
	r->keyed = keyed_default;
	return r;
}

int
nd_stable(struct nd_reader *r)
{
	int i, n = r->npaths > 0 ? r->npaths : 1;
	struct stat st;

	if (r->next != 0 || r->fd >= 0)
		return r->mapped;
	for (i = 0; i < n; i++) {
		const char *p = r->npaths > 0 ? r->paths[i] : NULL;

		if (p == NULL || strcmp(p, "-") == 0) {
			if (fstat(0, &st) != 0 || !S_ISREG(st.st_mode))
				return 0;
		} else if (stat(p, &st) != 0 || !S_ISREG(st.st_mode)) {
			return 0;
		}
	}
	r->maps = xcalloc((size_t)n, sizeof(*r->maps));
	r->maplens = xcalloc((size_t)n, sizeof(*r->maplens));
	for (i = 0; i < n; i++) {
		const char *p = r->npaths > 0 ? r->paths[i] : NULL;
		int fd = open_operand(p);

		if (fstat(fd, &st) != 0)
			die("%s: cannot stat:", operand_name(p));
		if (st.st_size > 0) {
			void *m = mmap(NULL, (size_t)st.st_size, PROT_READ,
			    MAP_PRIVATE, fd, 0);

			if (m == MAP_FAILED)
				die("%s: cannot map:", operand_name(p));
			/* Two-pass callers read every line again: not SEQUENTIAL. */
			madvise(m, (size_t)st.st_size, MADV_WILLNEED);
			r->maps[i] = m;
			r->maplens[i] = (size_t)st.st_size;
		}
		if (fd != 0)
			close(fd);
	}
	r->mapped = 1;
	return 1;
}

/*
 * A byte-order mark at the start of a line (after blanks), on any line:
 * JSON forbids it, and as part of a bare ID it would hash a different
 * ID.  One rule for every tool: the line is bad, with this reason.
 */
static int
has_bom(const char *p, size_t n)
{
	while (n > 0 && (*p == ' ' || *p == '\t'))
		p++, n--;
	return n >= 3 && memcmp(p, "\xef\xbb\xbf", 3) == 0;
}

/* Strip "\r" and report whether the line is blank (only white space). */
static int
finish_line(struct nd_line *l)
{
	size_t i;

	if (l->len > 0 && l->buf[l->len - 1] == '\r')
		l->len--;
	for (i = 0; i < l->len; i++)
		if (l->buf[i] != ' ' && l->buf[i] != '\t' && l->buf[i] != '\r')
			return 0;
	return 1;
}

/*
 * --keyed K: step past K leading TAB-terminated key fields (the framing
 * of sort, Hadoop Streaming and Spark), so the record is the rest of the
 * line, still borrowed: no copy.  A line with fewer than K tabs, or with
 * nothing after them, is bad and keeps its whole bytes for the reject.
 */
static int
strip_keys(struct nd_line *l, int k)
{
	const char *p = l->buf, *end = l->buf + l->len, *tab;
	int i;

	for (i = 0; i < k; i++) {
		tab = memchr(p, '\t', (size_t)(end - p));
		if (tab == NULL) {
			l->error = "keyed line: fewer TAB-separated key "
			    "fields than --keyed";
			return 0;
		}
		p = tab + 1;
	}
	if (p == end) {
		l->error = "keyed line: no record after the key fields";
		return 0;
	}
	l->len = (size_t)(end - p);
	l->buf = p;
	return 1;
}

/*
 * Fill *l with the next physical line p[0..n); 1 if it is to be handed
 * out, 0 if it is blank and skipped.
 */
static int
emit(struct nd_reader *r, struct nd_line *l, const char *p, size_t n)
{
	l->buf = p;
	l->len = n;
	l->source = r->name;
	l->lineno = ++r->lineno;
	l->error = NULL;
	if (l->len > r->max_line) {
		l->len = r->max_line;
		l->error = "line too long (see --max-line)";
		return 1;
	}
	if (finish_line(l))
		return 0;
	if (r->keyed > 0 && !strip_keys(l, r->keyed))
		return 1;
	if (has_bom(l->buf, l->len))
		l->error = "byte-order mark at the start of the line (save "
		    "the file as UTF-8 without BOM)";
	return 1;
}

static int
next_mapped(struct nd_reader *r, struct nd_line *l)
{
	int n = r->npaths > 0 ? r->npaths : 1;

	for (;;) {
		const char *nl, *line;

		if (r->mp == NULL || r->mp >= r->mend) {
			if (r->next >= n)
				return 0;
			r->name = operand_name(r->npaths > 0 ?
			    r->paths[r->next] : NULL);
			r->mp = r->maps[r->next];
			r->mend = r->mp + r->maplens[r->next];
			r->next++;
			r->lineno = 0;
			continue;
		}
		line = r->mp;
		nl = memchr(r->mp, '\n', (size_t)(r->mend - r->mp));
		/* Step past the line before handing it out, or it repeats. */
		r->mp = nl ? nl + 1 : r->mend;
		if (emit(r, l, line, (size_t)((nl ? nl : r->mend) - line)))
			return 1;
	}
}

/* Read more bytes of the current operand; 0 at its end. */
static int
fill(struct nd_reader *r)
{
	ssize_t n;
	size_t want;

	if (r->start > 0 && (r->start == r->end || r->cap - r->end < ND_CHUNK)) {
		memmove(r->buf, r->buf + r->start, r->end - r->start);
		r->end -= r->start;
		r->start = 0;
	}
	if (r->cap - r->end < ND_CHUNK) {
		size_t cap = r->cap ? r->cap * 2 : 4 * ND_CHUNK;

		while (cap - r->end < ND_CHUNK)
			cap *= 2;
		r->buf = xrealloc(r->buf, cap);
		r->cap = cap;
	}
	want = r->cap - r->end;
	do
		n = read(r->fd, r->buf + r->end, want);
	while (n < 0 && errno == EINTR);
	if (n < 0)
		die("%s: read error:", r->name);
	r->end += (size_t)n;
	return n > 0;
}

int
nd_next(struct nd_reader *r, struct nd_line *l)
{
	if (r->mapped)
		return next_mapped(r, l);
	for (;;) {
		char *nl;

		if (r->fd < 0) {
			int n = r->npaths > 0 ? r->npaths : 1;

			if (r->next >= n)
				return 0;
			const char *p = r->npaths > 0 ? r->paths[r->next] :
			    NULL;
			r->fd = open_operand(p);
			r->name = operand_name(p);
			r->next++;
			r->lineno = 0;
			r->eof = 0;
			r->skipping = 0;
			r->start = r->end = 0;
		}
		nl = r->start < r->end ?
		    memchr(r->buf + r->start, '\n', r->end - r->start) : NULL;
		if (r->skipping) {
			if (nl != NULL) {
				r->start = (size_t)(nl - r->buf) + 1;
				r->skipping = 0;
			} else {
				r->start = r->end;
				if (!r->eof && !fill(r))
					r->eof = 1;
				if (r->eof)
					r->skipping = 0;
			}
			continue;
		}
		if (nl == NULL && r->end - r->start > r->max_line) {
			l->buf = r->buf + r->start;
			l->len = r->max_line;
			l->source = r->name;
			l->lineno = ++r->lineno;
			l->error = "line too long (see --max-line)";
			r->start = r->end;
			r->skipping = 1;
			return 1;
		}
		if (nl == NULL && !r->eof) {
			if (!fill(r))
				r->eof = 1;
			continue;
		}
		if (nl == NULL && r->start == r->end) {
			/* End of this operand. */
			if (r->fd != 0)
				close(r->fd);
			r->fd = -1;
			continue;
		}
		{
			size_t at = r->start;

			r->start = nl ? (size_t)(nl - r->buf) + 1 : r->end;
			if (emit(r, l, r->buf + at, nl ? (size_t)(nl - r->buf) -
			    at : r->end - at))
				return 1;
		}
	}
}

void
nd_close(struct nd_reader *r)
{
	int i, n;

	if (r == NULL)
		return;
	if (r->fd > 0)
		close(r->fd);
	if (r->mapped) {
		n = r->npaths > 0 ? r->npaths : 1;
		for (i = 0; i < n; i++)
			if (r->maps[i] != NULL)
				munmap(r->maps[i], r->maplens[i]);
		free(r->maps);
		free(r->maplens);
	}
	free(r->buf);
	free(r);
}
