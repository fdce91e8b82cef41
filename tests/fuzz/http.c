/*
 * fuzz/http.c - libFuzzer target for asin-fetch's handling of an HTTP
 * response: the input, after its first byte (which picks the provider
 * profile), is sent as the raw answer (status line, headers, body) by a
 * server on 127.0.0.1 to every request of a real fetch_all() run
 * (bin/asin-fetch/http.c) of two batches, so libcurl parses it and the
 * tool's own code classifies it: the status, Retry-After against
 * --max-wait, the rate header (on_header), Keepa's token figures in the
 * body (keepa_field, throttle.c), the body size cap, retries and backoff,
 * the extraction.  The run must end (within its --max-time), every
 * batch done, one envelope line per ASIN, each a JSON object, and the
 * counts must add up.  The spapi-catalog profile is used without LWA
 * (its statuses, rate header and paths still apply).
 *
 * FUZZ-LINK: bin/asin-fetch/http.c bin/asin-fetch/throttle.c
 * FUZZ-LINK: bin/asin-fetch/extract.c bin/asin-fetch/jspan.c
 * FUZZ-LINK: bin/asin-fetch/profile.c bin/asin-fetch/secrets.c
 * FUZZ-LINK: bin/asin-fetch/auth.c bin/asin-fetch/archive.c
 */
#include <arpa/inet.h>
#include <limits.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "../../bin/asin-fetch/fetch.h"
#include "scan.h"

int LLVMFuzzerTestOneInput(const uint8_t *, size_t);
int LLVMFuzzerInitialize(int *, char ***);
const char *__lsan_default_suppressions(void);

/* libjq 1.6 leaks a token buffer on some parse errors; not ours. */
const char *
__lsan_default_suppressions(void)
{
	return "leak:libjq.so\n";
}

#define NPROF 3
static const char *const prof_names[NPROF] = { "keepa", "reviews-template",
    "spapi-catalog" };
static struct profile *prof[NPROF];
static struct secrets sec;
static struct scan sc;

/* What the server answers, set before each run and cleared after. */
static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static const char *answer;
static size_t answer_len;
static int lfd;

static void *
serve(void *arg)
{
	char req[8192];
	size_t got;
	ssize_t n;
	int fd;

	for (;;) {
		if ((fd = accept(lfd, NULL, NULL)) < 0)
			continue;
		/* The request, up to its blank line. */
		for (got = 0; got < sizeof(req) - 1; got += (size_t)n) {
			if ((n = read(fd, req + got, sizeof(req) - 1 - got)) <= 0)
				break;
			req[got + (size_t)n] = '\0';
			if (strstr(req, "\r\n\r\n") != NULL)
				break;
		}
		pthread_mutex_lock(&mu);
		/* A client gone is its own business. */
		if (answer_len > 0 && send(fd, answer, answer_len,
		    MSG_NOSIGNAL) < 0)
			;
		pthread_mutex_unlock(&mu);
		/* One answer a connection: curl must not wait for more. */
		shutdown(fd, SHUT_WR);
		close(fd);
	}
	return NULL;
}

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	struct sockaddr_in sa;
	socklen_t sl = sizeof(sa);
	char exe[PATH_MAX], *slash, *path, *base;
	pthread_t th;
	ssize_t n;
	size_t i;

	diag_init("fuzz-http");
	/* $ASIN_SCHEMAS, else build-fuzz/../schemas */
	if ((slash = getenv("ASIN_SCHEMAS")) != NULL && *slash != '\0')
		snprintf(exe, sizeof(exe), "%s", slash);
	else {
		if ((n = readlink("/proc/self/exe", exe, sizeof(exe) - 1)) < 0)
			die("/proc/self/exe:");
		exe[n] = '\0';
		if ((slash = strrchr(exe, '/')) != NULL)
			*slash = '\0';
		strncat(exe, "/../schemas", sizeof(exe) - strlen(exe) - 1);
	}
	if ((lfd = socket(AF_INET, SOCK_STREAM, 0)) < 0)
		die("socket:");
	memset(&sa, 0, sizeof(sa));
	sa.sin_family = AF_INET;
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (bind(lfd, (struct sockaddr *)&sa, sizeof(sa)) < 0 ||
	    listen(lfd, 16) < 0 ||
	    getsockname(lfd, (struct sockaddr *)&sa, &sl) < 0)
		die("127.0.0.1:");
	if (pthread_create(&th, NULL, serve, NULL) != 0)
		die("pthread_create failed");
	base = xasprintf("http://127.0.0.1:%d", ntohs(sa.sin_port));
	setenv("KEEPA_API_KEY", "fuzz-key", 1);
	setenv("ASIN_API_TOKEN", "fuzz-token", 1);
	if (curl_global_init(CURL_GLOBAL_DEFAULT) != 0)
		die("cannot start libcurl");
	for (i = 0; i < NPROF; i++) {
		path = xasprintf("%s/providers/%s.json", exe,
		    prof_names[i]);
		prof[i] = profile_load(path, base, &sec);
		free(path);
	}
	prof[1]->rate_header = xstrdup("x-ratelimit-limit");
	prof[2]->auth = AUTH_NONE;
	free(base);
	scan_init(&sc);
	return 0;
}

/* What main.c does with finished batches: here, check the envelopes. */
void
emit_ready(struct run *r)
{
	const char *ln, *nl;
	struct batch *b;
	int lines;

	while (r->emitted < r->nb) {
		b = &r->b[r->emitted];
		if (b->state != B_DONE)
			break;
		lines = 0;
		for (ln = b->env.data; ln != NULL && ln < b->env.data +
		    b->env.len; ln = nl + 1, lines++) {
			nl = memchr(ln, '\n', b->env.len - (size_t)(ln -
			    b->env.data));
			if (nl == NULL || !scan_text(&sc, ln, (size_t)(nl -
			    ln)) || sc.kind != SCAN_OBJECT) {
				fprintf(stderr, "envelope %d is not one JSON "
				    "object line: %s\n", lines, ln);
				abort();
			}
		}
		if (lines != b->n) {
			fprintf(stderr, "%d ASINs, %d envelopes\n", b->n,
			    lines);
			abort();
		}
		buf_free(&b->env);
		buf_free(&b->body);
		r->emitted++;
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static char ids[3][11] = { "B0TEST0001", "B0TEST0002", "B0TEST0003" };
	struct batch bs[2];
	struct run r;
	double t0;
	size_t i;

	if (size == 0 || size > 1 << 16)
		return 0;
	pthread_mutex_lock(&mu);
	answer = (const char *)data + 1;
	answer_len = size - 1;
	pthread_mutex_unlock(&mu);

	memset(&r, 0, sizeof(r));
	r.prof = prof[data[0] % NPROF];
	r.date = "2026-05-10";
	r.parallel = 2;
	r.retries = 1;
	r.retry_base = 0.001;
	r.retry_cap = 0.002;
	r.max_wait = 1;
	r.timeout = 2;
	r.connect_timeout = 2;
	r.max_time = 0.1;
	r.max_body = 1 << 14;
	rng_seed(&r.rng, 42);
	r.started = t0 = mono_now();
	thr_init(&r.thr, r.prof->throttle, r.prof->qpm, r.prof->burst,
	    r.started);
	memset(bs, 0, sizeof(bs));
	for (i = 0; i < 2; i++) {
		bs[i].mkt = mkt_find("US", 2);
		bs[i].ids = ids + i;
		bs[i].n = i == 0 ? 1 : 2;
		snprintf(bs[i].bid, sizeof(bs[i].bid), "%016zx", i);
		bs[i].cost = 1;
		buf_init(&bs[i].body);
		buf_init(&bs[i].env);
	}
	r.b = bs;
	r.nb = 2;
	r.total_ids = 3;
	fetch_all(&r);
	if (r.fatal == NULL && r.emitted != r.nb) {
		fprintf(stderr, "fetch_all returned with %zu of %zu batches "
		    "written\n", r.emitted, r.nb);
		abort();
	}
	if (r.fatal == NULL && r.c.ok + r.c.missing + r.c.invalid +
	    r.c.failed != 3) {
		fprintf(stderr, "3 ASINs: ok %lld, missing %lld, invalid %lld, "
		    "failed %lld\n", r.c.ok, r.c.missing, r.c.invalid,
		    r.c.failed);
		abort();
	}
	if (mono_now() - t0 > 5) {
		fprintf(stderr, "a run with --max-time 0.1 took %.1f s\n",
		    mono_now() - t0);
		abort();
	}
	/* A connection of this run may still come in after it: the input
	 * is libFuzzer's again from here. */
	pthread_mutex_lock(&mu);
	answer = NULL;
	answer_len = 0;
	pthread_mutex_unlock(&mu);
	free(r.fatal);
	free(r.access_token);
	secrets_free(&r.sec);
	for (i = 0; i < 2; i++) {
		free(bs[i].reason);
		buf_free(&bs[i].body);
		buf_free(&bs[i].env);
	}
	return 0;
}
