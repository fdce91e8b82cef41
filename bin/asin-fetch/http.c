/*
 * http.c - the transfer loop: libcurl's multi interface with at most
 * --parallel requests in flight over kept-alive connections, each start
 * gated by the throttle, each answer classified (done, retry after a
 * delay, failed, or fatal for the whole run) per the retry policy:
 * Retry-After first, Keepa's token figures next, else full-jitter
 * exponential backoff, under an attempt cap and a wall-clock budget.
 */
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "fetch.h"

/* Batches at most this far ahead of the oldest unwritten one may start,
 * which bounds the answers held for in-order output. */
#define WINDOW(r) ((size_t)(r)->parallel * 4 + 8)

struct xfer {
	struct run *r;
	struct batch *b;
	CURL *h;
	struct curl_slist *hdrs;
	char *url_shown;	/* redacted */
	char err[CURL_ERROR_SIZE];
	double rate_hint;
	int too_big;
};

static size_t
on_data(char *p, size_t size, size_t n, void *arg)
{
	struct xfer *x = arg;

	if (x->b->body.len + size * n > x->r->max_body) {
		x->too_big = 1;
		return 0;
	}
	buf_add(&x->b->body, p, size * n);
	return size * n;
}

static size_t
on_header(char *p, size_t size, size_t n, void *arg)
{
	struct xfer *x = arg;
	const char *name = x->r->prof->rate_header;
	size_t len = size * n, nl;

	if (name != NULL && len > (nl = strlen(name)) && p[nl] == ':' &&
	    strncasecmp(p, name, nl) == 0) {
		char tmp[64];
		size_t vl = len - nl - 1 < sizeof tmp - 1 ? len - nl - 1 :
		    sizeof tmp - 1;

		memcpy(tmp, p + nl + 1, vl);
		tmp[vl] = '\0';
		x->rate_hint = strtod(tmp, NULL);
	}
	return len;
}

static void
stamp(struct batch *b)
{
	time_t t = time(NULL);
	struct tm tm;

	gmtime_r(&t, &tm);
	strftime(b->fetched_at, sizeof b->fetched_at, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

static void
fail(struct run *r, struct batch *b, char *reason)
{
	free(b->reason);
	b->reason = redact(&r->sec, reason);
	free(reason);
	if (b->fetched_at[0] == '\0')
		stamp(b);
	buf_free(&b->body);
	render_failed(r, b);
	b->state = B_DONE;
}

static struct xfer *
start(struct run *r, CURLM *m, struct batch *b)
{
	const struct profile *p = r->prof;
	struct tvars tv = { b->ids, b->n, p->id_join, b->mkt, r->date };
	struct xfer *x = xcalloc(1, sizeof *x);
	char *url, *err, *v, *line;
	size_t i;

	if (p->auth == AUTH_LWA && lwa_token(r, 0) != 0) {
		free(x);
		return NULL;
	}
	if ((url = tmpl_expand(p->url, &tv, 1, &r->sec, &err)) == NULL) {
		r->fatal = err;
		free(x);
		return NULL;
	}
	x->r = r;
	x->b = b;
	x->url_shown = redact(&r->sec, url);
	x->hdrs = curl_slist_append(NULL, "Accept: application/json");
	for (i = 0; i < p->nheaders; i++) {
		if ((v = tmpl_expand(p->hvals[i], &tv, 0, &r->sec, &err)) ==
		    NULL) {
			r->fatal = err;
			curl_slist_free_all(x->hdrs);
			free(x->url_shown);
			free(x);
			free(url);
			return NULL;
		}
		line = xasprintf("%s: %s", p->hnames[i], v);
		x->hdrs = curl_slist_append(x->hdrs, line);
		explicit_bzero(line, strlen(line));
		free(line);
		free(v);
	}
	if (p->auth == AUTH_LWA) {
		line = xasprintf("%s: %s", p->lwa_header, r->access_token);
		x->hdrs = curl_slist_append(x->hdrs, line);
		free(line);
	}
	if ((x->h = curl_easy_init()) == NULL)
		die("cannot start libcurl");
	curl_easy_setopt(x->h, CURLOPT_URL, url);
	curl_easy_setopt(x->h, CURLOPT_PRIVATE, x);
	curl_easy_setopt(x->h, CURLOPT_HTTPHEADER, x->hdrs);
	curl_easy_setopt(x->h, CURLOPT_ACCEPT_ENCODING, "");
	curl_easy_setopt(x->h, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(x->h, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(x->h, CURLOPT_TIMEOUT_MS, (long)(r->timeout * 1000));
	curl_easy_setopt(x->h, CURLOPT_CONNECTTIMEOUT_MS,
	    (long)(r->connect_timeout * 1000));
	curl_easy_setopt(x->h, CURLOPT_WRITEFUNCTION, on_data);
	curl_easy_setopt(x->h, CURLOPT_WRITEDATA, x);
	curl_easy_setopt(x->h, CURLOPT_HEADERFUNCTION, on_header);
	curl_easy_setopt(x->h, CURLOPT_HEADERDATA, x);
	curl_easy_setopt(x->h, CURLOPT_ERRORBUFFER, x->err);
	curl_easy_setopt(x->h, CURLOPT_USERAGENT, "asin-fetch/" ASIN_VERSION);
	curl_multi_add_handle(m, x->h);
	explicit_bzero(url, strlen(url));
	free(url);
	buf_free(&b->body);
	b->state = B_FLIGHT;
	b->attempts++;
	r->c.requests++;
	thr_take(&r->thr, b->cost, mono_now());
	return x;
}

static void
xfer_free(CURLM *m, struct xfer *x)
{
	curl_multi_remove_handle(m, x->h);
	curl_easy_cleanup(x->h);
	curl_slist_free_all(x->hdrs);
	free(x->url_shown);
	free(x);
}

/* A number after "name": in a Keepa body's top level, or NAN. */
static double
keepa_field(const struct buf *body, const char *name)
{
	char key[32];
	const char *p;

	snprintf(key, sizeof key, "\"%s\":", name);
	if (body->data == NULL || (p = strstr(body->data, key)) == NULL)
		return -1e300;
	return strtod(p + strlen(key), NULL);
}

static int
transient(CURLcode rc)
{
	switch (rc) {
	case CURLE_COULDNT_RESOLVE_HOST:
	case CURLE_COULDNT_CONNECT:
	case CURLE_OPERATION_TIMEDOUT:
	case CURLE_SEND_ERROR:
	case CURLE_RECV_ERROR:
	case CURLE_GOT_NOTHING:
	case CURLE_PARTIAL_FILE:
	case CURLE_SSL_CONNECT_ERROR:
	case CURLE_HTTP2:
	case CURLE_HTTP2_STREAM:
	case CURLE_BAD_CONTENT_ENCODING:
		return 1;
	default:
		return 0;
	}
}

/* Schedule another attempt after delay seconds, or fail the batch. */
static void
retry(struct run *r, struct batch *b, char *why, double delay, int charge)
{
	double now = mono_now();

	if (charge)
		b->charged++;
	/* Uncharged waits (Keepa's token refills) still end some time. */
	if ((charge && b->charged > r->retries) ||
	    b->attempts > r->retries + 50) {
		char *m = xasprintf("%s (%d attempts)", why, b->attempts);

		free(why);
		fail(r, b, m);
		return;
	}
	if (r->max_time > 0 && now + delay > r->started + r->max_time) {
		char *m = xasprintf("%s; time budget (--max-time) exhausted",
		    why);

		free(why);
		fail(r, b, m);
		return;
	}
	free(why);
	buf_free(&b->body);
	b->state = B_WAIT;
	b->not_before = now + delay;
	r->c.retries++;
}

static int
is_fatal(const struct profile *p, long code)
{
	size_t i;

	for (i = 0; i < p->nfatal; i++)
		if (p->fatal[i] == code)
			return 1;
	return 0;
}

static void
finish(struct run *r, CURLM *m, struct xfer *x, CURLcode rc, double pending)
{
	struct batch *b = x->b;
	const struct profile *p = r->prof;
	long code = 0;
	curl_off_t ra = 0;
	double now = mono_now(), left, rate, refill;
	char *err;

	curl_easy_getinfo(x->h, CURLINFO_RESPONSE_CODE, &code);
	curl_easy_getinfo(x->h, CURLINFO_RETRY_AFTER, &ra);
	b->http = code;
	stamp(b);
	if (x->rate_hint > 0)
		thr_rate_hint(&r->thr, x->rate_hint, now);
	if (p->throttle == THR_KEEPA && code > 0) {
		left = keepa_field(&b->body, "tokensLeft");
		rate = keepa_field(&b->body, "refillRate");
		refill = keepa_field(&b->body, "refillIn");
		if (left > -1e299)
			thr_keepa(&r->thr, left, rate > 0 ? rate : 0, pending,
			    refill > 0 ? refill : 0, now);
	}
	if (r->verbose)
		note("%s: %s%ld (%zu bytes)", x->url_shown, rc != CURLE_OK ?
		    "error, HTTP " : "HTTP ", code, b->body.len);
	if (rc != CURLE_OK) {
		char *why = xasprintf("%s", x->err[0] ? x->err :
		    curl_easy_strerror(rc));

		if (x->too_big) {
			free(why);
			fail(r, b, xasprintf("response larger than %zu bytes "
			    "(--max-body)", r->max_body));
		} else if (transient(rc))
			retry(r, b, why, backoff(&r->rng, r->retry_base,
			    r->retry_cap, b->charged), 1);
		else
			fail(r, b, why);
		return;
	}
	if (code >= 200 && code < 300) {
		if (extract(r, b, b->body.data ? b->body.data : "", b->body.len,
		    &err) != 0) {
			/* A damaged body is worth another try. */
			retry(r, b, err, backoff(&r->rng, r->retry_base,
			    r->retry_cap, b->charged), 1);
			return;
		}
		if (r->arc != NULL)
			archive_store(r->arc, b, x->url_shown,
			    b->body.data ? b->body.data : "", b->body.len);
		buf_free(&b->body);
		b->state = B_DONE;
		return;
	}
	if ((code == 401 || code == 403) && p->auth == AUTH_LWA &&
	    !b->auth_retried) {
		b->auth_retried = 1;
		if (lwa_token(r, 1) == 0)
			retry(r, b, xasprintf("HTTP %ld", code), 0, 0);
		return;
	}
	if (is_fatal(p, code)) {
		r->fatal = xasprintf("HTTP %ld from %s: %s; stopping the run "
		    "(check the account and its credentials)", code, p->name,
		    code == 402 ? "payment required" : code == 401 ?
		    "unauthorized" : "forbidden");
		b->http = code;
		return;
	}
	if (code == 408 || code == 429 || code >= 500) {
		char *why = xasprintf("HTTP %ld", code);

		if (ra > 0) {
			if ((double)ra > r->max_wait) {
				free(why);
				fail(r, b, xasprintf("HTTP %ld with Retry-After "
				    "%lld s, beyond --max-wait", code,
				    (long long)ra));
				return;
			}
			retry(r, b, why, (double)ra, 1);
		} else if (code == 429 && p->throttle == THR_KEEPA &&
		    r->thr.known)
			/* The mirror now holds Keepa's figures: the throttle
			 * itself waits for the refill. */
			retry(r, b, why, 0, 0);
		else
			retry(r, b, why, backoff(&r->rng, r->retry_base,
			    r->retry_cap, b->charged), 1);
		return;
	}
	fail(r, b, xasprintf("HTTP %ld", code));
}

/* Give up on every batch not yet answered, with reason. */
static void
fail_rest(struct run *r, const char *reason)
{
	size_t i;

	for (i = r->emitted; i < r->nb; i++) {
		struct batch *b = &r->b[i];

		if (b->state == B_PENDING || b->state == B_WAIT ||
		    b->state == B_FLIGHT)
			fail(r, b, xstrdup(reason));
	}
}

void
fetch_all(struct run *r)
{
	CURLM *m = curl_multi_init();
	struct xfer **act = xcalloc(r->parallel, sizeof *act);
	int inflight = 0, running, k;
	double pending = 0;

	if (m == NULL)
		die("cannot start libcurl");
	curl_multi_setopt(m, CURLMOPT_MAX_TOTAL_CONNECTIONS,
	    (long)r->parallel);
	curl_multi_setopt(m, CURLMOPT_MAXCONNECTS, (long)r->parallel + 2);
	while (r->emitted < r->nb && r->fatal == NULL) {
		double now = mono_now(), until = now + 1;
		size_t i, lim = r->emitted + WINDOW(r);
		CURLMsg *msg;
		int left;

		if (r->max_time > 0 && now > r->started + r->max_time &&
		    inflight == 0) {
			fail_rest(r, "time budget (--max-time) exhausted");
			break;
		}
		if (lim > r->nb)
			lim = r->nb;
		/* Wake for the end of --max-time too, not up to 1 s past it
		 * (once past, transfers still on the wire are waited for). */
		if (r->max_time > 0 && r->started + r->max_time > now &&
		    r->started + r->max_time < until)
			until = r->started + r->max_time;
		for (i = r->emitted; i < lim && inflight < r->parallel; i++) {
			struct batch *b = &r->b[i];
			double w;

			if (b->state == B_WAIT && b->not_before > now) {
				if (b->not_before < until)
					until = b->not_before;
				continue;
			}
			if (b->state != B_PENDING && b->state != B_WAIT)
				continue;
			if (r->max_time > 0 && now > r->started + r->max_time)
				break;
			now = mono_now();
			w = thr_wait(&r->thr, b->cost, inflight, now);
			if (w > 0) {
				if (now + w < until)
					until = now + w;
				break;
			}
			if (r->acquire_cmd != NULL && acquire_token(
			    r->acquire_cmd, b->cost, r->prof->name,
			    &r->fatal) != 0)
				break;
			if ((act[inflight] = start(r, m, b)) == NULL)
				break;
			inflight++;
			pending += b->cost;
			/*
			 * A granted request goes now: held until the next
			 * hook has waited, it would leave together with the
			 * next one, a burst the central bucket never granted.
			 */
			if (r->acquire_cmd != NULL)
				curl_multi_perform(m, &running);
		}
		if (r->fatal != NULL)
			break;
		{
			double ms = (until - now) * 1000;

			curl_multi_poll(m, NULL, 0, ms < 0 ? 0 : ms > 1000 ?
			    1000 : (int)ms + 1, NULL);
		}
		curl_multi_perform(m, &running);
		while ((msg = curl_multi_info_read(m, &left)) != NULL) {
			struct xfer *x;

			if (msg->msg != CURLMSG_DONE)
				continue;
			curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE,
			    (char **)&x);
			for (k = 0; k < inflight && act[k] != x; k++)
				;
			act[k] = act[--inflight];
			pending -= x->b->cost;
			finish(r, m, x, msg->data.result, pending);
			xfer_free(m, x);
			if (r->fatal != NULL)
				break;
		}
		emit_ready(r);
		if (r->prog != NULL) {
			char extra[96];

			if (r->thr.left_seen >= 0)
				snprintf(extra, sizeof extra, "tokens %.0f, "
				    "retries %lld", r->thr.left_seen,
				    r->c.retries);
			else
				snprintf(extra, sizeof extra, "retries %lld",
				    r->c.retries);
			progress_update(r->prog, r->done_ids,
			    r->c.failed + r->c.missing, extra);
		}
	}
	if (r->fatal != NULL) {
		char *why = xasprintf("aborted: %s", r->fatal);

		/* Abandon the transfers still on the wire. */
		for (k = 0; k < inflight; k++) {
			act[k]->b->state = B_PENDING;
			xfer_free(m, act[k]);
		}
		fail_rest(r, why);
		free(why);
	}
	emit_ready(r);
	free(act);
	curl_multi_cleanup(m);
}
