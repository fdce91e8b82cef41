/*
 * throttle.c - pacing for asin-fetch.  One token bucket whose cost per
 * request is the profile's cost per request plus its cost per item, so
 * Keepa's per-ASIN tokens and SP-API's per-request quota are one model.
 * The server's own figures correct it: Keepa's tokensLeft/refillRate
 * replace the local mirror, an SP-API rate header lowers the rate.  A
 * crawl split over several processes (--workers) divides the account's
 * quota and the server's figures evenly.  Also the full-jitter backoff
 * and its seedable generator.
 */
#include <sys/wait.h>

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "fetch.h"

double
mono_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

void
thr_init(struct throttle *t, int model, double per_min, double burst,
    double now)
{
	t->model = model;
	t->rate = per_min > 0 ? per_min / 60 : 0;
	t->cap = burst > 0 ? burst : 1;
	t->tokens = t->cap;
	t->last = now;
	t->known = 0;
	t->left_seen = -1;
	t->workers = 1;
	t->hold_until = 0;
}

void
thr_share(struct throttle *t, int workers)
{
	if (workers <= 1)
		return;
	t->workers = workers;
	t->rate /= workers;
	/* Below one token no request could ever go. */
	t->cap = t->cap / workers < 1 ? 1 : t->cap / workers;
	if (t->tokens > t->cap)
		t->tokens = t->cap;
}

static void
refill(struct throttle *t, double now)
{
	/* Callers may pass a time read before a slow step; the clock of
	 * the bucket never goes back, or the same interval refills twice. */
	if (now <= t->last)
		return;
	t->tokens += (now - t->last) * t->rate;
	if (t->tokens > t->cap)
		t->tokens = t->cap;
	t->last = now;
}

double
thr_wait(struct throttle *t, double cost, int inflight, double now)
{
	double need;

	if (t->model == THR_NONE)
		return 0;
	if (t->hold_until > now)
		return t->hold_until - now;
	/* Until Keepa has told us where its bucket stands, probe with one
	 * request at a time rather than guess. */
	if (t->model == THR_KEEPA && !t->known && inflight > 0)
		return 0.05;
	if (t->rate <= 0)
		return 0;
	refill(t, now);
	/* A request dearer than the whole bucket waits for a full bucket. */
	need = cost < t->cap ? cost : t->cap;
	if (t->tokens >= need - 1e-9)
		return 0;
	return (need - t->tokens) / t->rate;
}

void
thr_take(struct throttle *t, double cost, double now)
{
	if (t->model == THR_NONE || t->rate <= 0)
		return;
	refill(t, now);
	t->tokens -= cost;
}

void
thr_keepa(struct throttle *t, double left, double rate_per_min,
    double pending, double refill_ms, double now)
{
	int w = t->workers > 1 ? t->workers : 1;

	/*
	 * Keepa's figures are the account's, shared by every worker: each
	 * takes its share of the refill and of the tokens left, less what
	 * it has in flight itself.
	 */
	if (rate_per_min > 0) {
		t->rate = rate_per_min / 60 / w;
		/* Unused Keepa tokens expire after an hour. */
		t->cap = rate_per_min * 60 / w;
	}
	t->tokens = left / w - pending;
	/* No token left on the server: nothing goes before its refill. */
	if (left <= 0 && refill_ms > 0 && refill_ms < 3.6e6)
		t->hold_until = now + refill_ms / 1000;
	t->last = now;
	t->known = 1;
	t->left_seen = left;
}

void
thr_rate_hint(struct throttle *t, double per_sec, double now)
{
	if (t->model == THR_NONE || per_sec <= 0 || !isfinite(per_sec))
		return;
	per_sec /= t->workers > 1 ? t->workers : 1;
	if (t->rate <= 0 || per_sec < t->rate) {
		refill(t, now);
		t->rate = per_sec;
	}
}

extern char **environ;

int
acquire_token(const char *cmd, double cost, const char *provider,
    char **why)
{
	posix_spawn_file_actions_t fa;
	char *argv[] = { "sh", "-c", (char *)cmd, NULL };
	char num[32];
	pid_t pid;
	int st, rc;

	snprintf(num, sizeof num, "%.17g", cost);
	if (setenv("ASIN_FETCH_COST", num, 1) != 0 ||
	    setenv("ASIN_FETCH_PROVIDER", provider, 1) != 0) {
		*why = xasprintf("--acquire-cmd: cannot set its environment");
		return -1;
	}
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
	posix_spawn_file_actions_adddup2(&fa, 2, 1);
	rc = posix_spawn(&pid, "/bin/sh", &fa, NULL, argv, environ);
	posix_spawn_file_actions_destroy(&fa);
	if (rc != 0) {
		*why = xasprintf("--acquire-cmd: cannot start /bin/sh: %s",
		    strerror(rc));
		return -1;
	}
	while (waitpid(pid, &st, 0) < 0)
		if (errno != EINTR) {
			*why = xasprintf("--acquire-cmd: wait: %s",
			    strerror(errno));
			return -1;
		}
	if (WIFEXITED(st) && WEXITSTATUS(st) == 0)
		return 0;
	if (WIFEXITED(st))
		*why = xasprintf("--acquire-cmd exited with status %d: no "
		    "token granted, stopping the run", WEXITSTATUS(st));
	else
		*why = xasprintf("--acquire-cmd killed by signal %d: no token "
		    "granted, stopping the run", WTERMSIG(st));
	return -1;
}

void
rng_seed(struct rng *r, uint64_t seed)
{
	r->s = seed ? seed : 0x9e3779b97f4a7c15ULL;
}

double
rng_unif(struct rng *r)
{
	r->s ^= r->s >> 12;
	r->s ^= r->s << 25;
	r->s ^= r->s >> 27;
	return ((r->s * 0x2545f4914f6cdd1dULL) >> 11) *
	    (1.0 / 9007199254740992.0);
}

double
backoff(struct rng *r, double base, double cap, int n)
{
	double hi = base * ldexp(1, n > 60 ? 60 : n);

	if (hi > cap)
		hi = cap;
	return rng_unif(r) * hi;
}
