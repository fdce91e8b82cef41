/*
 * auth.c - Login with Amazon for SP-API: the refresh token is exchanged
 * for an access token, which is cached for the run and renewed five
 * minutes before it expires (or at once after a 401/403).  Every value
 * involved is registered with the redactor before it can be logged.
 */
#include <stdlib.h>
#include <string.h>

#include "fetch.h"

static size_t
on_data(char *p, size_t size, size_t n, void *arg)
{
	struct buf *b = arg;

	if (b->len + size * n > (1u << 20))
		return 0;
	buf_add(b, p, size * n);
	return size * n;
}

static char *
form_value(struct run *r, const char *tmpl)
{
	struct tvars tv = { 0 };
	char *err, *v;

	v = tmpl_expand(tmpl, &tv, 0, &r->sec, &err);
	if (v == NULL) {
		r->fatal = err;
		return NULL;
	}
	secrets_add(&r->sec, v);
	return v;
}

int
lwa_token(struct run *r, int force)
{
	const struct profile *p = r->prof;
	char *id = NULL, *secret = NULL, *refresh = NULL, *e[3];
	struct buf form, body;
	CURL *h = NULL;
	long code = 0;
	CURLcode rc;
	int ret = -1;
	jv v, tok, exp;

	if (!force && r->access_token != NULL &&
	    mono_now() < r->token_expiry - 300)
		return 0;
	buf_init(&form);
	buf_init(&body);
	if ((id = form_value(r, p->lwa_id)) == NULL ||
	    (secret = form_value(r, p->lwa_secret)) == NULL ||
	    (refresh = form_value(r, p->lwa_refresh)) == NULL)
		goto out;
	e[0] = curl_easy_escape(NULL, refresh, 0);
	e[1] = curl_easy_escape(NULL, id, 0);
	e[2] = curl_easy_escape(NULL, secret, 0);
	buf_printf(&form, "grant_type=refresh_token&refresh_token=%s&"
	    "client_id=%s&client_secret=%s", e[0], e[1], e[2]);
	curl_free(e[0]);
	curl_free(e[1]);
	curl_free(e[2]);
	if ((h = curl_easy_init()) == NULL)
		die("cannot start libcurl");
	curl_easy_setopt(h, CURLOPT_URL, p->lwa_url);
	curl_easy_setopt(h, CURLOPT_POSTFIELDS, form.data);
	curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, (long)(r->timeout * 1000));
	curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS,
	    (long)(r->connect_timeout * 1000));
	curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_data);
	curl_easy_setopt(h, CURLOPT_WRITEDATA, &body);
	curl_easy_setopt(h, CURLOPT_USERAGENT, "asin-fetch/" ASIN_VERSION);
	rc = curl_easy_perform(h);
	curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &code);
	r->c.requests++;
	if (rc != CURLE_OK) {
		r->fatal = xasprintf("LWA token exchange failed: %s",
		    curl_easy_strerror(rc));
		goto out;
	}
	v = jv_parse_sized(body.data ? body.data : "", (int)body.len);
	tok = jv_object_get(jv_copy(v), jv_string("access_token"));
	exp = jv_object_get(jv_copy(v), jv_string("expires_in"));
	if (code != 200 || jv_get_kind(tok) != JV_KIND_STRING) {
		r->fatal = xasprintf("LWA token exchange failed: HTTP %ld: %.200s",
		    code, body.data ? body.data : "");
	} else {
		free(r->access_token);
		r->access_token = xstrdup(jv_string_value(tok));
		secrets_add(&r->sec, r->access_token);
		r->token_expiry = mono_now() + (jv_get_kind(exp) ==
		    JV_KIND_NUMBER ? jv_number_value(exp) : 3600);
		ret = 0;
	}
	jv_free(tok);
	jv_free(exp);
	jv_free(v);
out:
	if (h != NULL)
		curl_easy_cleanup(h);
	if (form.data != NULL)
		explicit_bzero(form.data, form.len);
	buf_free(&form);
	buf_free(&body);
	free(id);
	free(secret);
	free(refresh);
	return ret;
}
