/*
 * archive.c - the resume protocol.  Under DIR/DATE/PROVIDER/ each finished
 * batch's raw body is written atomically as MKT/BATCH.json, and only then
 * is one line appended (and fsynced) to journal.ndjson: the journal line
 * is the commit marker, so a kill at any moment leaves each batch either
 * finished and whole or not finished at all.  A rerun of the day skips
 * the journalled batches; --replay reads them back.  flock(2) on .lock
 * keeps a second run out.
 */
#include <sys/file.h>
#include <sys/stat.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fetch.h"

struct archive {
	char *dir;		/* DIR/DATE/PROVIDER */
	int lockfd;
	int jfd;		/* journal, append; -1 for replay */
	struct arc_entry *e;
	size_t n;
};

static void
mkdirs(const char *path)
{
	char *p = xstrdup(path), *s;

	for (s = p + 1; *s != '\0'; s++) {
		if (*s != '/')
			continue;
		*s = '\0';
		if (mkdir(p, 0755) != 0 && errno != EEXIST)
			die("%s:", p);
		*s = '/';
	}
	if (mkdir(p, 0755) != 0 && errno != EEXIST)
		die("%s:", p);
	free(p);
}

/* Remove the temp files a killed run left behind in dir and below. */
static void
sweep(const char *dir, int depth)
{
	DIR *d = opendir(dir);
	struct dirent *de;

	if (d == NULL)
		return;
	while ((de = readdir(d)) != NULL) {
		char *p;

		if (de->d_name[0] == '.' && (de->d_name[1] == '\0' ||
		    (de->d_name[1] == '.' && de->d_name[2] == '\0')))
			continue;
		p = xasprintf("%s/%s", dir, de->d_name);
		if (strstr(de->d_name, ".tmp.") != NULL)
			(void)unlink(p);
		else if (depth == 0 && de->d_type == DT_DIR)
			sweep(p, 1);
		free(p);
	}
	closedir(d);
}

static int
cmp_entry(const void *a, const void *b)
{
	const struct arc_entry *x = a, *y = b;
	int c = strcmp(x->bid, y->bid);

	/* Same batch twice (--force): keep journal order, the later wins. */
	return c != 0 ? c : (x->seq < y->seq ? -1 : x->seq > y->seq);
}

static void
load_journal(struct archive *a, const char *path, int writer)
{
	int fd = open(path, writer ? O_RDWR : O_RDONLY);
	struct buf b;
	char tmp[65536], *line, *nl;
	ssize_t r;
	long lineno = 0;
	size_t keep;

	if (fd < 0) {
		if (errno == ENOENT)
			return;
		die("%s:", path);
	}
	buf_init(&b);
	while ((r = read(fd, tmp, sizeof tmp)) > 0)
		buf_add(&b, tmp, r);
	if (r < 0)
		die("%s:", path);
	/* A torn last line is a batch that never finished. */
	keep = b.len;
	while (keep > 0 && b.data[keep - 1] != '\n')
		keep--;
	if (writer && keep != b.len && ftruncate(fd, keep) != 0)
		die("%s:", path);
	close(fd);
	for (line = b.data; line != NULL && line < b.data + keep; line = nl + 1) {
		struct arc_entry e;
		jv v, f;

		nl = memchr(line, '\n', b.data + keep - line);
		lineno++;
		v = jv_parse_sized(line, nl - line);
		if (jv_get_kind(v) != JV_KIND_OBJECT)
			die_at(path, lineno, "not a journal line");
		memset(&e, 0, sizeof e);
		f = jv_object_get(jv_copy(v), jv_string("batch"));
		if (jv_get_kind(f) != JV_KIND_STRING ||
		    jv_string_length_bytes(jv_copy(f)) != 16)
			die_at(path, lineno, "bad \"batch\"");
		memcpy(e.bid, jv_string_value(f), 17);
		jv_free(f);
		f = jv_object_get(jv_copy(v), jv_string("file"));
		if (jv_get_kind(f) != JV_KIND_STRING ||
		    strstr(jv_string_value(f), "..") != NULL)
			die_at(path, lineno, "bad \"file\"");
		e.file = xstrdup(jv_string_value(f));
		jv_free(f);
		f = jv_object_get(jv_copy(v), jv_string("fetched_at"));
		if (jv_get_kind(f) == JV_KIND_STRING)
			snprintf(e.fetched_at, sizeof e.fetched_at, "%s",
			    jv_string_value(f));
		jv_free(f);
		f = jv_object_get(jv_copy(v), jv_string("http_status"));
		e.http = jv_get_kind(f) == JV_KIND_NUMBER ?
		    (long)jv_number_value(f) : 0;
		jv_free(f);
		f = jv_object_get(jv_copy(v), jv_string("attempts"));
		e.attempts = jv_get_kind(f) == JV_KIND_NUMBER ?
		    (int)jv_number_value(f) : 0;
		jv_free(f);
		jv_free(v);
		e.seq = lineno;
		a->e = xreallocarray(a->e, a->n + 1, sizeof *a->e);
		a->e[a->n++] = e;
	}
	buf_free(&b);
	qsort(a->e, a->n, sizeof *a->e, cmp_entry);
}

struct archive *
archive_open(const char *dir, const char *date, const char *provider,
    int replay)
{
	struct archive *a = xcalloc(1, sizeof *a);
	char *p;

	a->dir = xasprintf("%s/%s/%s", dir, date, provider);
	a->lockfd = a->jfd = -1;
	if (!replay)
		mkdirs(a->dir);
	p = xasprintf("%s/.lock", a->dir);
	a->lockfd = open(p, replay ? O_RDONLY : O_RDWR | O_CREAT | O_CLOEXEC,
	    0644);
	free(p);
	if (a->lockfd < 0 && !(replay && errno == ENOENT))
		die("%s/.lock:", a->dir);
	if (a->lockfd >= 0 && flock(a->lockfd, (replay ? LOCK_SH : LOCK_EX) |
	    LOCK_NB) != 0) {
		if (errno == EWOULDBLOCK)
			die("%s: archive in use by another run", a->dir);
		die("%s/.lock: lock:", a->dir);
	}
	if (!replay)
		sweep(a->dir, 0);
	p = xasprintf("%s/journal.ndjson", a->dir);
	load_journal(a, p, !replay);
	if (!replay) {
		a->jfd = open(p, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC,
		    0644);
		if (a->jfd < 0)
			die("%s:", p);
	}
	free(p);
	return a;
}

const struct arc_entry *
archive_find(const struct archive *a, const char *bid)
{
	size_t lo = 0, hi = a->n;
	const struct arc_entry *hit = NULL;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int c = strcmp(a->e[mid].bid, bid);

		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	/* The last of equal entries is the latest fetch. */
	while (lo < a->n && strcmp(a->e[lo].bid, bid) == 0)
		hit = &a->e[lo++];
	return hit;
}

int
archive_read(const struct archive *a, const struct arc_entry *e,
    struct buf *b)
{
	char *p = xasprintf("%s/%s", a->dir, e->file), tmp[65536];
	int fd = open(p, O_RDONLY | O_CLOEXEC), saved;
	ssize_t r;

	free(p);
	if (fd < 0)
		return -1;
	while ((r = read(fd, tmp, sizeof tmp)) > 0)
		buf_add(b, tmp, r);
	saved = errno;
	close(fd);
	errno = saved;
	return r < 0 ? -1 : 0;
}

void
archive_store(struct archive *a, const struct batch *b, const char *url,
    const char *body, size_t len)
{
	char *sub = xasprintf("%s/%s", a->dir, b->mkt->code);
	char *file = xasprintf("%s/%s.json", sub, b->bid);
	struct buf j;
	int i;

	if (mkdir(sub, 0755) != 0 && errno != EEXIST)
		die("%s:", sub);
	if (write_atomic(file, body, len) != 0)
		die("%s: cannot write:", file);
	buf_init(&j);
	buf_printf(&j, "{\"batch\":\"%s\",\"marketplace\":\"%s\",\"file\":"
	    "\"%s/%s.json\",\"ids\":[", b->bid, b->mkt->code, b->mkt->code,
	    b->bid);
	for (i = 0; i < b->n; i++)
		buf_printf(&j, "%s\"%.10s\"", i ? "," : "", b->ids[i]);
	buf_adds(&j, "],\"url\":");
	buf_add_jstr(&j, url, strlen(url));
	buf_printf(&j, ",\"http_status\":%ld,\"attempts\":%d,\"fetched_at\":"
	    "\"%s\",\"bytes\":%zu}\n", b->http, b->attempts, b->fetched_at,
	    len);
	if (write(a->jfd, j.data, j.len) != (ssize_t)j.len ||
	    fsync(a->jfd) != 0)
		die("%s/journal.ndjson: write error:", a->dir);
	buf_free(&j);
	free(file);
	free(sub);
}

void
archive_close(struct archive *a)
{
	size_t i;

	if (a == NULL)
		return;
	if (a->jfd >= 0)
		close(a->jfd);
	if (a->lockfd >= 0)
		close(a->lockfd);
	for (i = 0; i < a->n; i++)
		free(a->e[i].file);
	free(a->e);
	free(a->dir);
	free(a);
}
