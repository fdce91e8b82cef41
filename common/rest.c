/*
 * rest.c - JSON over HTTP(S) with libcurl for the MLflow client: one
 * blocking call at a time, transient failures (transport errors, 408,
 * 429, 500, 502, 503, 504) retried after Retry-After when the server
 * sends one, else after an exponential backoff, as asin-fetch does.
 * Credentials go to libcurl only: they never appear in a URL, a message
 * or a log line, and a user:password@ in the base URL is cut out of
 * every message.
 */
#include <curl/curl.h>
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "registry.h"

#define MAX_BODY (64u << 20)

struct rest {
	const struct rest_opts *o;
	CURL *h;
	char *shown;		/* base URL without credentials */
};

struct answer {
	struct buf body;
	double retry_after;	/* seconds; < 0: none */
	int too_big;
};

static size_t
on_data(char *p, size_t size, size_t n, void *arg)
{
	struct answer *a = arg;

	if (a->body.len + size * n > MAX_BODY) {
		a->too_big = 1;
		return 0;
	}
	buf_add(&a->body, p, size * n);
	return size * n;
}

/* Retry-After as seconds (an HTTP date is honoured too). */
static size_t
on_header(char *p, size_t size, size_t n, void *arg)
{
	struct answer *a = arg;
	size_t len = size * n;
	char tmp[128];
	size_t vl;

	if (len > 12 && strncasecmp(p, "Retry-After:", 12) == 0) {
		vl = len - 12 < sizeof tmp - 1 ? len - 12 : sizeof tmp - 1;
		memcpy(tmp, p + 12, vl);
		tmp[vl] = '\0';
		while (vl > 0 && (tmp[vl - 1] == '\r' || tmp[vl - 1] == '\n' ||
		    tmp[vl - 1] == ' '))
			tmp[--vl] = '\0';
		{
			char *s = tmp, *end;
			double d;

			while (*s == ' ')
				s++;
			d = strtod(s, &end);
			if (end != s && *end == '\0' && isfinite(d) && d >= 0)
				a->retry_after = d;
			else {
				time_t t = curl_getdate(s, NULL);

				if (t > 0)
					a->retry_after = difftime(t,
					    time(NULL)) > 0 ? difftime(t,
					    time(NULL)) : 0;
			}
		}
	}
	return len;
}

char *
rest_redact_url(const char *url)
{
	const char *s = strstr(url, "://"), *at, *slash;

	if (s == NULL)
		return xstrdup(url);
	s += 3;
	slash = strpbrk(s, "/?#");
	at = strchr(s, '@');
	if (at == NULL || (slash != NULL && at > slash))
		return xstrdup(url);
	return xasprintf("%.*s***@%s", (int)(s - url), url, at + 1);
}

char *
rest_escape(const char *s)
{
	static const char hex[] = "0123456789ABCDEF";
	struct buf b;

	buf_init(&b);
	for (; *s != '\0'; s++) {
		unsigned char c = (unsigned char)*s;

		if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		    (c >= '0' && c <= '9') || c == '-' || c == '_' ||
		    c == '.' || c == '~')
			buf_addc(&b, c);
		else {
			buf_addc(&b, '%');
			buf_addc(&b, hex[c >> 4]);
			buf_addc(&b, hex[c & 15]);
		}
	}
	if (b.data == NULL)
		buf_adds(&b, "");
	return b.data;
}

struct rest *
rest_new(const struct rest_opts *o)
{
	struct rest *r = xcalloc(1, sizeof *r);
	static int inited;

	if (!inited) {
		if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
			die("cannot start libcurl");
		inited = 1;
	}
	r->o = o;
	r->shown = rest_redact_url(o->base);
	if ((r->h = curl_easy_init()) == NULL)
		die("cannot start libcurl");
	return r;
}

void
rest_free(struct rest *r)
{
	if (r == NULL)
		return;
	curl_easy_cleanup(r->h);
	free(r->shown);
	free(r);
}

static int
transient_status(long st)
{
	return st == 408 || st == 429 || st == 500 || st == 502 ||
	    st == 503 || st == 504;
}

static int
transient_curl(CURLcode rc)
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
		return 1;
	default:
		return 0;
	}
}

static void
sleep_s(double s)
{
	struct timespec ts;

	if (s <= 0)
		return;
	ts.tv_sec = (time_t)s;
	ts.tv_nsec = (long)((s - (double)ts.tv_sec) * 1e9);
	while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
		;
}

/* One attempt; returns the status or -1 with the curl error in err. */
static long
attempt(struct rest *r, const char *method, const char *url,
    const char *body, int idempotent, struct answer *a, char *cerr)
{
	struct curl_slist *h = NULL;
	const struct rest_opts *o = r->o;
	CURLcode rc;
	long st = -1;

	curl_easy_reset(r->h);
	h = curl_slist_append(h, "Accept: application/json");
	if (body != NULL)
		h = curl_slist_append(h, "Content-Type: application/json");
	curl_easy_setopt(r->h, CURLOPT_URL, url);
	curl_easy_setopt(r->h, CURLOPT_HTTPHEADER, h);
	curl_easy_setopt(r->h, CURLOPT_CUSTOMREQUEST, method);
	if (body != NULL) {
		curl_easy_setopt(r->h, CURLOPT_POSTFIELDS, body);
		curl_easy_setopt(r->h, CURLOPT_POSTFIELDSIZE, (long)strlen(body));
	}
	if (o->user != NULL && *o->user != '\0' && o->pass != NULL) {
		curl_easy_setopt(r->h, CURLOPT_HTTPAUTH, CURLAUTH_BASIC);
		curl_easy_setopt(r->h, CURLOPT_USERNAME, o->user);
		curl_easy_setopt(r->h, CURLOPT_PASSWORD, o->pass);
	} else if (o->token != NULL && *o->token != '\0') {
		curl_easy_setopt(r->h, CURLOPT_HTTPAUTH, CURLAUTH_BEARER);
		curl_easy_setopt(r->h, CURLOPT_XOAUTH2_BEARER, o->token);
	}
	curl_easy_setopt(r->h, CURLOPT_NOSIGNAL, 1L);
	/*
	 * libcurl silently sends a request again when a reused connection
	 * turns out closed: harmless for reads, a second version or run for
	 * a create.  A fresh connection makes such a call go out once.
	 */
	if (!idempotent)
		curl_easy_setopt(r->h, CURLOPT_FRESH_CONNECT, 1L);
	curl_easy_setopt(r->h, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(r->h, CURLOPT_TIMEOUT_MS, o->timeout_ms);
	curl_easy_setopt(r->h, CURLOPT_CONNECTTIMEOUT_MS, 30000L);
	curl_easy_setopt(r->h, CURLOPT_WRITEFUNCTION, on_data);
	curl_easy_setopt(r->h, CURLOPT_WRITEDATA, a);
	curl_easy_setopt(r->h, CURLOPT_HEADERFUNCTION, on_header);
	curl_easy_setopt(r->h, CURLOPT_HEADERDATA, a);
	curl_easy_setopt(r->h, CURLOPT_ERRORBUFFER, cerr);
	curl_easy_setopt(r->h, CURLOPT_USERAGENT, "asin-registry/"
	    ASIN_VERSION);
	if (o->insecure) {
		curl_easy_setopt(r->h, CURLOPT_SSL_VERIFYPEER, 0L);
		curl_easy_setopt(r->h, CURLOPT_SSL_VERIFYHOST, 0L);
	}
	if (o->ca_path != NULL && *o->ca_path != '\0')
		curl_easy_setopt(r->h, CURLOPT_CAINFO, o->ca_path);
	cerr[0] = '\0';
	rc = curl_easy_perform(r->h);
	if (rc == CURLE_OK)
		curl_easy_getinfo(r->h, CURLINFO_RESPONSE_CODE, &st);
	else {
		if (cerr[0] == '\0')
			snprintf(cerr, CURL_ERROR_SIZE, "%s",
			    curl_easy_strerror(rc));
		if (transient_curl(rc))
			st = -2;
	}
	curl_slist_free_all(h);
	return st;
}

int
rest_call(struct rest *r, const char *method, const char *path,
    const char *query, jv body, int retry, jv *out, char **text,
    char **err)
{
	const struct rest_opts *o = r->o;
	char *url, *btext = NULL, cerr[CURL_ERROR_SIZE];
	struct answer a;
	long st = -1;
	int n;
	size_t bl;

	url = xasprintf("%s%s%s%s", o->base, path, query ? "?" : "",
	    query ? query : "");
	/* no trailing slash doubling: base/path joins as given */
	if (jv_is_valid(body)) {
		jv s = jv_dump_string(body, 0);

		btext = xstrdup(jv_string_value(s));
		jv_free(s);
	} else
		jv_free(body);
	*out = jv_null();
	for (n = 0;; n++) {
		memset(&a, 0, sizeof a);
		buf_init(&a.body);
		a.retry_after = -1;
		if (o->verbose)
			note("%s %s%s%s%s", method, r->shown, path,
			    query ? "?" : "", query ? query : "");
		st = attempt(r, method, url, btext, retry, &a, cerr);
		if (a.too_big) {
			*err = xasprintf("%s %s%s: answer larger than %u bytes",
			    method, r->shown, path, MAX_BODY);
			buf_free(&a.body);
			st = -1;
			break;
		}
		if (retry && n < o->max_retries && (st == -2 ||
		    transient_status(st))) {
			double wait = a.retry_after >= 0 ? a.retry_after :
			    o->backoff * pow(2, n);

			if (wait > o->max_wait)
				wait = o->max_wait;
			if (o->verbose)
				note("%s %s%s: %s; retry %d of %d in %.3gs",
				    method, r->shown, path, st == -2 ? cerr :
				    "transient status", n + 1, o->max_retries,
				    wait);
			buf_free(&a.body);
			sleep_s(wait);
			continue;
		}
		if (st < 0) {
			*err = xasprintf("%s %s%s: %s%s", method, r->shown, path,
			    cerr, n > 0 ? " (after retries)" : "");
			buf_free(&a.body);
			st = -1;
			break;
		}
		bl = a.body.len;
		if (bl > 0) {
			char *perr = NULL;
			jv v = json_parse(a.body.data, bl, &perr);

			if (jv_is_valid(v))
				*out = v;
			else {
				free(perr);
				if (text != NULL) {
					while (bl > 0 && (a.body.data[bl - 1] ==
					    '\n' || a.body.data[bl - 1] == '\r'))
						bl--;
					if (bl > 200)
						bl = 200;
					*text = xstrndup(a.body.data, bl);
				}
			}
		}
		buf_free(&a.body);
		break;
	}
	if (btext != NULL) {
		explicit_bzero(btext, strlen(btext));
		free(btext);
	}
	free(url);
	return (int)st;
}
