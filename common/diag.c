/*
 * diag.c - the program name, one-line diagnostics and the TTY progress
 * line.  Every message a tool prints to stderr goes through here, so the
 * "prog: source:line: message" shape and ASIN_LOG=json hold everywhere.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "asin.h"

/* Set once by diag_init() before any work: option-like, not mutable state. */
static const char *prog = "asin";
static int log_json;

/*
 * Make sure fds 0, 1 and 2 are open before the tool opens anything, as
 * coreutils and OpenBSD tools do: a closed one would be handed out by the
 * next open() and records would land in a rejects file or a lock file.
 * The stand-in is /dev/null opened the wrong way round, so a read of a
 * closed stdin and a write to a closed stdout or stderr fail (EBADF)
 * instead of succeeding into nothing: the tool reports a write error and
 * exits 1.  Nothing can be said when this fails: exit 1 quietly.
 */
static void
std_fds_open(void)
{
	int fd;

	for (fd = 0; fd <= 2; fd++) {
		if (fcntl(fd, F_GETFD) >= 0 || errno != EBADF)
			continue;
		if (open("/dev/null", fd == 0 ? O_WRONLY : O_RDONLY) != fd)
			_exit(EXIT_FAIL);
	}
}

void
diag_init(const char *argv0)
{
	const char *s, *slash;

	std_fds_open();

	if (argv0 != NULL && *argv0 != '\0') {
		slash = strrchr(argv0, '/');
		prog = slash ? slash + 1 : argv0;
	}
	s = getenv("ASIN_LOG");
	log_json = s != NULL && strcmp(s, "json") == 0;
	/*
	 * A closed pipe downstream ends the run quietly: the default SIGPIPE
	 * action does exactly that, and a shell may have set it to ignore.
	 */
	signal(SIGPIPE, SIG_DFL);
}

const char *
diag_prog(void)
{
	return prog;
}

/*
 * Format one message and write it with a single write(2), so lines from
 * tools sharing a terminal do not interleave mid-line.
 */
static void
vemit(const char *level, const char *src, long line, const char *hint,
    const char *fmt, va_list ap)
{
	struct buf raw, msg, out;
	int saved = errno;
	size_t fl = strlen(fmt);
	va_list aq;
	int n;

	buf_init(&raw);
	va_copy(aq, ap);
	n = vsnprintf(NULL, 0, fmt, aq);
	va_end(aq);
	if (n > 0) {
		buf_reserve(&raw, (size_t)n);
		vsnprintf(raw.data, (size_t)n + 1, fmt, ap);
		raw.len = (size_t)n;
	}
	if (fl > 0 && fmt[fl - 1] == ':')
		buf_printf(&raw, " %s", strerror(saved));
	/*
	 * Messages quote input bytes (an ID, a file name, a field value):
	 * escape what a terminal would act on, so a hostile line cannot
	 * recolour or retitle the user's terminal, nor hide a byte.
	 */
	buf_init(&msg);
	buf_add_visible(&msg, raw.data ? raw.data : "", raw.len);
	buf_free(&raw);

	buf_init(&out);
	if (log_json) {
		char ts[32];
		struct timespec now;
		struct tm tm;

		clock_gettime(CLOCK_REALTIME, &now);
		gmtime_r(&now.tv_sec, &tm);
		strftime(ts, sizeof(ts), "%Y-%m-%dT%H:%M:%S", &tm);
		buf_printf(&out, "{\"ts\":\"%s.%03ldZ\",\"level\":\"%s\","
		    "\"tool\":", ts, now.tv_nsec / 1000000, level);
		buf_add_jstr(&out, prog, strlen(prog));
		buf_adds(&out, ",\"msg\":");
		buf_add_jstr(&out, msg.data ? msg.data : "", msg.len);
		if (src != NULL) {
			buf_adds(&out, ",\"source\":");
			buf_add_jstr(&out, src, strlen(src));
			if (line > 0)
				buf_printf(&out, ",\"line\":%ld", line);
		}
		if (hint != NULL) {
			buf_adds(&out, ",\"hint\":");
			buf_add_jstr(&out, hint, strlen(hint));
		}
		buf_adds(&out, "}\n");
	} else {
		buf_printf(&out, "%s: ", prog);
		if (src != NULL) {
			buf_add_visible(&out, src, strlen(src));
			buf_adds(&out, line > 0 ? ":" : ": ");
		}
		if (src != NULL && line > 0)
			buf_printf(&out, "%ld: ", line);
		buf_add(&out, msg.data ? msg.data : "", msg.len);
		buf_addc(&out, '\n');
		if (hint != NULL) {
			buf_adds(&out, hint);
			buf_addc(&out, '\n');
		}
	}
	{
		const char *p = out.data;
		size_t left = out.len;
		ssize_t w;

		while (left > 0) {
			w = write(2, p, left);
			if (w < 0 && errno == EINTR)
				continue;
			if (w <= 0)
				break;
			p += w;
			left -= (size_t)w;
		}
	}
	buf_free(&msg);
	buf_free(&out);
	errno = saved;
}

void
die(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vemit("error", NULL, 0, NULL, fmt, ap);
	va_end(ap);
	exit(EXIT_FAIL);
}

void
warn(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vemit("warning", NULL, 0, NULL, fmt, ap);
	va_end(ap);
}

void
die_at(const char *src, long line, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vemit("error", src, line, NULL, fmt, ap);
	va_end(ap);
	exit(EXIT_FAIL);
}

void
warn_at(const char *src, long line, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vemit("warning", src, line, NULL, fmt, ap);
	va_end(ap);
}

void
note(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vemit("info", NULL, 0, NULL, fmt, ap);
	va_end(ap);
}

void
usage_error(const char *fmt, ...)
{
	va_list ap;
	char *hint = xasprintf("Try '%s --help' for more information.", prog);

	/* One write, one JSON object: the Try line is part of the message. */
	va_start(ap, fmt);
	vemit("error", NULL, 0, hint, fmt, ap);
	va_end(ap);
	free(hint);
	exit(EXIT_USAGE);
}

struct progress {
	char *what;
	long long total;
	struct timespec start;
	struct timespec last;
	int drawn;
};

static double
elapsed(const struct timespec *a, const struct timespec *b)
{
	return (double)(b->tv_sec - a->tv_sec) +
	    (double)(b->tv_nsec - a->tv_nsec) / 1e9;
}

struct progress *
progress_new(const char *what, long long total)
{
	struct progress *p;

	if (log_json || !isatty(2))
		return NULL;
	p = xcalloc(1, sizeof(*p));
	p->what = xstrdup(what);
	p->total = total;
	clock_gettime(CLOCK_MONOTONIC, &p->start);
	return p;
}

void
progress_update(struct progress *p, long long done, long long errors,
    const char *extra)
{
	struct timespec now;
	double t, rate;
	char eta[32] = "";

	if (p == NULL)
		return;
	clock_gettime(CLOCK_MONOTONIC, &now);
	if (p->drawn && elapsed(&p->last, &now) < 0.2)
		return;
	p->last = now;
	p->drawn = 1;
	t = elapsed(&p->start, &now);
	rate = t > 0 ? (double)done / t : 0;
	if (p->total > 0 && rate > 0 && done < p->total)
		snprintf(eta, sizeof(eta), " ETA %.0fs",
		    (double)(p->total - done) / rate);
	if (p->total > 0)
		fprintf(stderr, "\r%s: %s %lld/%lld %.0f/s%s errors %lld%s%s\033[K",
		    prog, p->what, done, p->total, rate, eta, errors,
		    extra ? " " : "", extra ? extra : "");
	else
		fprintf(stderr, "\r%s: %s %lld %.0f/s errors %lld%s%s\033[K",
		    prog, p->what, done, rate, errors, extra ? " " : "",
		    extra ? extra : "");
}

void
progress_end(struct progress *p)
{
	if (p == NULL)
		return;
	if (p->drawn)
		fprintf(stderr, "\r\033[K");
	free(p->what);
	free(p);
}
