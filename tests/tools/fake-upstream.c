/*
 * fake-upstream - a deterministic stand-in for the Keepa and SP-API
 * endpoints, for asin-fetch's tests, its benchmark and the demo.  One
 * single-threaded poll(2) loop on 127.0.0.1 (port chosen by the OS and
 * printed on start), HTTP/1.1 with keep-alive.  Every response is a pure
 * function of the seed, the clock given with --now and the request, so
 * tests can pin bytes.  Faults are injected on request (--fault), every
 * request is logged with its arrival time (--log), and --files serves real
 * Keepa sample responses from a directory: the file of the request's
 * domain whose products are the ASINs asked for, else one holding them
 * all, else an answer put together from the products of every file
 * (libjq's dump of them: integers stay exact, which is all Keepa sends
 * in a product's history).
 *
 * Endpoints:
 *   GET  /product?key=&domain=&asin=A,B      Keepa-shaped products
 *   GET  /token?key=                          Keepa token status
 *   GET  /catalog/2022-04-01/items?identifiers=A,B&marketplaceIds=M
 *                                             SP-API searchCatalogItems
 *   POST /auth/o2/token                       LWA refresh-token exchange
 *   GET  /v1/reviews?asins=A,B&marketplace=US a generic review endpoint
 */
#include <sys/socket.h>
#include <sys/stat.h>

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <arpa/inet.h>

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <math.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <jv.h>

#define MAX_CONN	1024
#define MAX_REQ		(1 << 20)
#define MAX_IDS		200
#define MAX_FAULTS	64
#define KEEPA_EPOCH_MIN	21564000LL
#define ORIGIN_DAY	20089	/* 2025-01-01: where every random walk starts */

/* A growable byte string, local so the server needs nothing but libc. */
struct sbuf {
	char *p;
	size_t len, cap;
};

struct fault {
	char kind[16];
	long arg;		/* seconds or milliseconds, by kind */
	char asin[11];		/* "" = any request */
	long reqno;		/* > 0: only the request with this number */
	long times;		/* how often it fires; 0 = always */
	long fired;
};

struct sample {
	char *name;
	char *body;
	size_t len;
	char **ids;
	char **texts;		/* each product's JSON text, for assembling */
	int nids;
	int domain;		/* domainId of its products; 0: not given */
};

struct conn {
	int fd;
	struct sbuf in;
	struct sbuf out;
	size_t off;
	double ready_at;	/* do not write before (slow responses) */
	size_t cut;		/* > 0: close after this many bytes */
	int close_after;
	double rx_ms;		/* kernel arrival time of the request's start */
};

struct server {
	uint64_t seed;
	long long now;		/* epoch seconds the data is "as of" */
	double delay_ms;
	const char *key;
	const char *lwa_id, *lwa_secret, *lwa_refresh, *bearer;
	long expires_in;
	double kp_cap, kp_rate, kp_tokens, kp_last;
	double sp_rate, sp_burst, sp_tokens, sp_last;
	struct fault faults[MAX_FAULTS];
	int nfaults;
	struct sample *samples;
	int nsamples;
	long reqno;
	int logfd;
	struct conn conns[MAX_CONN];
	int nconns;
};

static volatile sig_atomic_t stop;

static void
fatal(const char *fmt, ...)
{
	va_list ap;

	fputs("fake-upstream: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	exit(1);
}

static void *
xmem(void *p)
{
	if (p == NULL)
		fatal("out of memory");
	return p;
}

static void
sb_add(struct sbuf *b, const void *s, size_t n)
{
	if (b->len + n + 1 > b->cap) {
		b->cap = (b->len + n + 1) * 2;
		b->p = xmem(realloc(b->p, b->cap));
	}
	memcpy(b->p + b->len, s, n);
	b->len += n;
	b->p[b->len] = '\0';
}

static void
sb_puts(struct sbuf *b, const char *s)
{
	sb_add(b, s, strlen(s));
}

static void sb_printf(struct sbuf *, const char *, ...)
    __attribute__((format(printf, 2, 3)));

static void
sb_printf(struct sbuf *b, const char *fmt, ...)
{
	va_list ap;
	char tmp[512];
	int n;

	va_start(ap, fmt);
	n = vsnprintf(tmp, sizeof tmp, fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	if ((size_t)n < sizeof tmp) {
		sb_add(b, tmp, n);
		return;
	}
	{
		char *big = xmem(malloc(n + 1));

		va_start(ap, fmt);
		vsnprintf(big, n + 1, fmt, ap);
		va_end(ap);
		sb_add(b, big, n);
		free(big);
	}
}

static double
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

/* splitmix64: one well-mixed 64-bit value from any 64-bit state. */
static uint64_t
mix64(uint64_t x)
{
	x += 0x9e3779b97f4a7c15ULL;
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
	x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
	return x ^ (x >> 31);
}

static uint64_t
hash_str(uint64_t h, const char *s)
{
	for (; *s != '\0'; s++)
		h = (h ^ (unsigned char)*s) * 0x100000001b3ULL;
	return mix64(h);
}

/* Uniform double in [0, 1) from a state that advances. */
static double
unif(uint64_t *st)
{
	*st = mix64(*st);
	return (*st >> 11) * (1.0 / 9007199254740992.0);
}

static double
gauss(uint64_t *st)
{
	double u = unif(st), v = unif(st);

	if (u < 1e-12)
		u = 1e-12;
	return sqrt(-2 * log(u)) * cos(2 * M_PI * v);
}

/* ---- request parsing ------------------------------------------------ */

static int
hexval(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	c = tolower(c);
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

static void
urldecode(char *s)
{
	char *d = s;

	for (; *s != '\0'; s++) {
		if (*s == '%' && hexval(s[1]) >= 0 && hexval(s[2]) >= 0) {
			*d++ = hexval(s[1]) * 16 + hexval(s[2]);
			s += 2;
		} else if (*s == '+')
			*d++ = ' ';
		else
			*d++ = *s;
	}
	*d = '\0';
}

/* The decoded value of name in a query or form string, or NULL. */
static char *
param(const char *query, const char *name)
{
	size_t nl = strlen(name);
	const char *p = query;

	while (p != NULL && *p != '\0') {
		const char *end = strchr(p, '&');
		size_t len = end ? (size_t)(end - p) : strlen(p);

		if (len > nl && strncmp(p, name, nl) == 0 && p[nl] == '=') {
			char *v = xmem(strndup(p + nl + 1, len - nl - 1));

			urldecode(v);
			return v;
		}
		p = end ? end + 1 : NULL;
	}
	return NULL;
}

/* The value of a request header (case-insensitive name), or NULL. */
static char *
header(const char *head, const char *name)
{
	size_t nl = strlen(name);
	const char *p = strstr(head, "\r\n");

	while (p != NULL && p[2] != '\r') {
		p += 2;
		if (strncasecmp(p, name, nl) == 0 && p[nl] == ':') {
			const char *v = p + nl + 1, *e = strstr(v, "\r\n");

			while (*v == ' ')
				v++;
			return xmem(strndup(v, e - v));
		}
		p = strstr(p, "\r\n");
	}
	return NULL;
}

static int
split_ids(char *list, char **ids)
{
	int n = 0;
	char *save = NULL, *t;

	if (list == NULL)
		return 0;
	for (t = strtok_r(list, ",", &save); t != NULL && n < MAX_IDS;
	    t = strtok_r(NULL, ",", &save))
		ids[n++] = t;
	return n;
}

/* ---- faults ---------------------------------------------------------- */

/*
 * KIND[=ARG][@ASIN|@#N][xTIMES].  Kinds: 429, 429ra (Retry-After seconds),
 * 429date (Retry-After as an HTTP-date ARG seconds ahead), 500, 503,
 * 503ra, 401, 402, 403, 400, slow (ARG ms), truncate, badjson, empty,
 * reset.  Default TIMES is 1; x0 means every matching request.
 */
static void
parse_fault(struct server *s, const char *spec)
{
	struct fault *f;
	const char *p;
	char *end;
	size_t n;

	if (s->nfaults == MAX_FAULTS)
		fatal("too many --fault");
	f = &s->faults[s->nfaults++];
	memset(f, 0, sizeof *f);
	f->times = 1;
	n = strcspn(spec, "=@x");
	if (n == 0 || n >= sizeof f->kind)
		fatal("bad fault '%s'", spec);
	memcpy(f->kind, spec, n);
	p = spec + n;
	if (*p == '=') {
		f->arg = strtol(p + 1, &end, 10);
		p = end;
	}
	if (*p == '@') {
		p++;
		if (*p == '#') {
			f->reqno = strtol(p + 1, &end, 10);
			p = end;
		} else {
			n = strcspn(p, "x");
			if (n != 10)
				fatal("bad fault ASIN in '%s'", spec);
			memcpy(f->asin, p, 10);
			p += 10;
		}
	}
	if (*p == 'x') {
		f->times = strtol(p + 1, &end, 10);
		p = end;
	}
	if (*p != '\0')
		fatal("bad fault '%s'", spec);
}

static struct fault *
match_fault(struct server *s, char **ids, int nids)
{
	int i, j;

	for (i = 0; i < s->nfaults; i++) {
		struct fault *f = &s->faults[i];
		int hit = 1;

		if (f->times > 0 && f->fired >= f->times)
			continue;
		if (f->reqno > 0 && f->reqno != s->reqno)
			continue;
		if (f->asin[0] != '\0') {
			hit = 0;
			for (j = 0; j < nids; j++)
				if (strcmp(ids[j], f->asin) == 0)
					hit = 1;
		}
		if (hit) {
			f->fired++;
			return f;
		}
	}
	return NULL;
}

/* ---- generated data ------------------------------------------------- */

struct walk {
	long rank[400];		/* daily BSR, last 'days' days */
	long price[400];	/* cents */
	long deal[400];		/* deal price or -1 */
	long reviews[400];
	int rating[400];	/* 0..50 */
	int days;
	long cat, leaf;
	int missing, invalid;
};

/*
 * Daily dynamics from 2025-01-01 up to the data day, the same for every
 * request: a log-normal BSR walk with a rare breakout (rank falls 5-20x
 * over a week), sticky prices with occasional deals, reviews that grow
 * faster when the rank is good.  ASINs starting B0MISS are unknown to the
 * upstream, B0INVL come back with productType 4.
 */
static void
gen_walk(const struct server *s, const char *asin, int domain, int days,
    struct walk *w)
{
	uint64_t st = hash_str(s->seed * 31 + domain, asin);
	long today = s->now / 86400;
	long d, breakout_day, i;
	double lr, price, rev, rating;

	memset(w, 0, sizeof *w);
	w->missing = strncmp(asin, "B0MISS", 6) == 0;
	w->invalid = strncmp(asin, "B0INVL", 6) == 0;
	if (days < 1)
		days = 1;
	if (days > 400)
		days = 400;
	w->days = days;
	w->cat = 1000 + (long)(unif(&st) * 20) * 1111;
	w->leaf = w->cat * 1000 + (long)(unif(&st) * 50);
	lr = log(500 + unif(&st) * 300000);
	price = 500 + (long)(unif(&st) * 9000);
	rev = (long)(unif(&st) * 2000);
	rating = 35 + unif(&st) * 14;
	breakout_day = unif(&st) < 0.15 ? ORIGIN_DAY +
	    (long)(unif(&st) * (today - ORIGIN_DAY + 30)) : -1;
	for (d = ORIGIN_DAY; d <= today; d++) {
		double drift = 0;
		long deal = -1;

		if (breakout_day >= 0 && d >= breakout_day &&
		    d < breakout_day + 7)
			drift = -0.3;
		lr += drift + 0.08 * gauss(&st) + 0.002 * (log(2e5) - lr);
		if (lr < 0)
			lr = 0;
		if (unif(&st) < 0.05)
			price = round(price * (0.85 + unif(&st) * 0.3));
		if (unif(&st) < 0.03)
			deal = (long)(price * 0.8);
		rev += exp(log(60) - 0.45 * (lr - log(100))) * unif(&st) * 2;
		rating += 0.05 * gauss(&st);
		if (rating < 10)
			rating = 10;
		if (rating > 50)
			rating = 50;
		i = d - (today - days + 1);
		if (i >= 0) {
			w->rank[i] = (long)exp(lr) + 1;
			w->price[i] = (long)price;
			w->deal[i] = deal;
			w->reviews[i] = (long)rev;
			w->rating[i] = (int)rating;
		}
	}
}

static long
day_km(long day)
{
	return day * 1440 - KEEPA_EPOCH_MIN;
}

static void
series(struct sbuf *b, const struct walk *w, long today, const long *v)
{
	int i;

	sb_puts(b, "[");
	for (i = 0; i < w->days; i++)
		sb_printf(b, "%s%ld,%ld", i ? "," : "",
		    day_km(today - w->days + 1 + i), v[i]);
	sb_puts(b, "]");
}

static void
keepa_product(const struct server *s, struct sbuf *b, const char *asin,
    int domain, int days)
{
	struct walk w;
	long today = s->now / 86400, tmp[400];
	int i, last;

	gen_walk(s, asin, domain, days, &w);
	last = w.days - 1;
	if (w.invalid) {
		sb_printf(b, "{\"asin\":\"%s\",\"domainId\":%d,"
		    "\"productType\":4,\"csv\":null}", asin, domain);
		return;
	}
	sb_printf(b, "{\"asin\":\"%s\",\"domainId\":%d,\"productType\":0,"
	    "\"title\":\"Fake product %s\",\"brand\":\"Brand %ld\","
	    "\"rootCategory\":%ld,\"categories\":[%ld],"
	    "\"categoryTree\":[{\"catId\":%ld,\"name\":\"Category %ld\"},"
	    "{\"catId\":%ld,\"name\":\"Leaf %ld\"}],"
	    "\"salesRankReference\":%ld,\"lastUpdate\":%lld,"
	    "\"listedSince\":%ld,\"csv\":[", asin, domain, asin,
	    w.cat % 97, w.cat, w.leaf, w.cat, w.cat, w.leaf, w.leaf, w.cat,
	    s->now / 60 - KEEPA_EPOCH_MIN, day_km(ORIGIN_DAY - 30));
	for (i = 0; i < 18; i++) {
		if (i)
			sb_puts(b, ",");
		switch (i) {
		case 1:
			series(b, &w, today, w.price);
			break;
		case 3:
			series(b, &w, today, w.rank);
			break;
		case 8:
			series(b, &w, today, w.deal);
			break;
		case 16:
			for (int k = 0; k < w.days; k++)
				tmp[k] = w.rating[k];
			series(b, &w, today, tmp);
			break;
		case 17:
			series(b, &w, today, w.reviews);
			break;
		default:
			sb_puts(b, "null");
		}
	}
	sb_printf(b, "],\"salesRanks\":{\"%ld\":", w.leaf);
	for (i = 0; i < w.days; i++)
		tmp[i] = w.rank[i] / 7 + 1;
	series(b, &w, today, tmp);
	sb_printf(b, "},\"stats\":{\"current\":[-1,%ld,-1,%ld],"
	    "\"salesRankDrops30\":%ld},\"monthlySold\":%ld}",
	    w.price[last], w.rank[last],
	    (long)(30 * exp(-0.3 * (log(w.rank[last]) - log(50)))),
	    w.rank[last] < 5000 ? 1000L : 0L);
}

static void
spapi_item(const struct server *s, struct sbuf *b, const char *asin,
    const char *mkt)
{
	struct walk w;
	int last;

	gen_walk(s, asin, 1, 1, &w);
	last = w.days - 1;
	sb_printf(b, "{\"asin\":\"%s\",\"summaries\":[{\"marketplaceId\":"
	    "\"%s\",\"brand\":\"Brand %ld\",\"browseClassification\":"
	    "{\"displayName\":\"Leaf %ld\",\"classificationId\":\"%ld\"},"
	    "\"itemName\":\"Fake product %s\"}],\"salesRanks\":[{"
	    "\"marketplaceId\":\"%s\",\"classificationRanks\":[{"
	    "\"classificationId\":\"%ld\",\"title\":\"Leaf %ld\","
	    "\"rank\":%ld}],\"displayGroupRanks\":[{\"websiteDisplayGroup\":"
	    "\"category_%ld\",\"title\":\"Category %ld\",\"rank\":%ld}]}],"
	    "\"images\":[{\"marketplaceId\":\"%s\",\"images\":[{\"variant\":"
	    "\"MAIN\",\"link\":\"https://images.invalid/%s.jpg\","
	    "\"height\":500,\"width\":500}]}]}", asin, mkt, w.cat % 97,
	    w.leaf, w.leaf, asin, mkt, w.leaf, w.leaf, w.rank[last] / 7 + 1,
	    w.cat, w.cat, w.rank[last], mkt, asin);
}

/* ---- responses ------------------------------------------------------- */

static const char *
reason(int code)
{
	switch (code) {
	case 200: return "OK";
	case 400: return "Bad Request";
	case 401: return "Unauthorized";
	case 402: return "Payment Required";
	case 403: return "Forbidden";
	case 404: return "Not Found";
	case 429: return "Too Many Requests";
	case 500: return "Internal Server Error";
	case 503: return "Service Unavailable";
	default: return "Status";
	}
}

static void
respond(struct conn *c, int code, const char *extra_headers,
    const char *body, size_t len)
{
	sb_printf(&c->out, "HTTP/1.1 %d %s\r\nContent-Type: application/json"
	    "\r\nContent-Length: %zu\r\n%s\r\n", code, reason(code), len,
	    extra_headers ? extra_headers : "");
	sb_add(&c->out, body, len);
}

static void
refill(double *tokens, double cap, double per_ms, double *last, double t)
{
	/* Requests on other connections may be handled out of arrival order. */
	if (t <= *last)
		return;
	*tokens += (t - *last) * per_ms;
	if (*tokens > cap)
		*tokens = cap;
	*last = t;
}

/* Keepa's status fields, shared by every /product and /token answer. */
static void
keepa_status(struct server *s, struct sbuf *b, long consumed)
{
	long left = s->kp_cap > 0 ? (long)floor(s->kp_tokens) : 100000;
	long rate = s->kp_cap > 0 ? (long)s->kp_rate : 100000;
	long refill_in = 0;

	if (s->kp_cap > 0 && s->kp_rate > 0) {
		double frac = s->kp_tokens - floor(s->kp_tokens);

		refill_in = (long)ceil((1 - frac) * 60000 / s->kp_rate);
	}
	sb_printf(b, "\"timestamp\":%lld000,\"tokensLeft\":%ld,"
	    "\"refillIn\":%ld,\"refillRate\":%ld,\"tokenFlowReduction\":0,"
	    "\"tokensConsumed\":%ld,\"processingTimeInMs\":1", s->now, left,
	    refill_in, rate, consumed);
}

/*
 * The sample of the request's domain whose products are exactly ids,
 * else one holding them all.
 */
static struct sample *
find_sample(struct server *s, char **ids, int nids, int domain)
{
	int i, j, k, pass;

	for (pass = 0; pass < 2; pass++)
		for (i = 0; i < s->nsamples; i++) {
			struct sample *sm = &s->samples[i];
			int all = 1;

			if (sm->domain != 0 && sm->domain != domain)
				continue;
			if (pass == 0 && sm->nids != nids)
				continue;
			for (j = 0; j < nids && all; j++) {
				all = 0;
				for (k = 0; k < sm->nids; k++)
					if (strcmp(sm->ids[k], ids[j]) == 0)
						all = 1;
			}
			if (all)
				return sm;
		}
	return NULL;
}

/* The JSON text of product id of domain in any sample, or NULL. */
static const char *
sample_product(struct server *s, const char *id, int domain)
{
	int i, k;

	for (i = 0; i < s->nsamples; i++) {
		struct sample *sm = &s->samples[i];

		if (sm->domain != 0 && sm->domain != domain)
			continue;
		for (k = 0; k < sm->nids; k++)
			if (strcmp(sm->ids[k], id) == 0)
				return sm->texts[k];
	}
	return NULL;
}

static int
handle_product(struct server *s, struct conn *c, const char *query,
    char **ids, int nids, const struct fault *f)
{
	struct sbuf b = { 0 };
	char *key = param(query, "key"), *dom = param(query, "domain");
	char *days = param(query, "days"), *rating = param(query, "rating");
	/* Keepa charges one token per product, one more with rating=1. */
	int cost = rating != NULL && strcmp(rating, "1") == 0 ? 2 : 1;
	int domain = dom ? atoi(dom) : 1, i, code = 200, first = 1;
	double t = c->rx_ms > 0 ? c->rx_ms : now_ms();

	if (s->key != NULL && (key == NULL || strcmp(key, s->key) != 0)) {
		sb_puts(&b, "{\"error\":{\"type\":\"invalidAccessKey\"}}");
		code = 401;
		goto done;
	}
	if (s->kp_cap > 0)
		refill(&s->kp_tokens, s->kp_cap, s->kp_rate / 60000,
		    &s->kp_last, t);
	if (f != NULL && strcmp(f->kind, "tokens") == 0) {
		sb_puts(&b, "{");
		keepa_status(s, &b, 0);
		sb_puts(&b, ",\"error\":{\"type\":\"NOT_ENOUGH_TOKEN\"}}");
		code = 429;
		goto done;
	}
	if (s->kp_cap > 0) {
		if (s->kp_tokens <= 0) {
			sb_puts(&b, "{");
			keepa_status(s, &b, 0);
			sb_puts(&b, ",\"error\":{\"type\":\"NOT_ENOUGH_TOKEN\"}}");
			code = 429;
			goto done;
		}
		s->kp_tokens -= (double)nids * cost;
	}
	if (s->nsamples > 0) {
		struct sample *sm = find_sample(s, ids, nids, domain);

		if (sm != NULL) {
			respond(c, 200, NULL, sm->body, sm->len);
			goto out;
		}
		/*
		 * No one sample answers: put the answer together from the
		 * products of every sample of the domain (a catalogue of one
		 * file per product, as the demo's).
		 */
		sb_puts(&b, "{");
		keepa_status(s, &b, nids);
		sb_puts(&b, ",\"products\":[");
		for (i = 0; i < nids; i++) {
			const char *pt = sample_product(s, ids[i], domain);

			if (pt == NULL)
				continue;
			if (!first)
				sb_puts(&b, ",");
			first = 0;
			sb_puts(&b, pt);
		}
		sb_puts(&b, "]}");
		goto done;
	}
	sb_puts(&b, "{");
	keepa_status(s, &b, (long)nids * cost);
	sb_puts(&b, ",\"products\":[");
	for (i = 0; i < nids; i++) {
		if (strncmp(ids[i], "B0MISS", 6) == 0)
			continue;
		if (!first)
			sb_puts(&b, ",");
		first = 0;
		keepa_product(s, &b, ids[i], domain, days ? atoi(days) : 90);
	}
	sb_puts(&b, "]}");
done:
	respond(c, code, NULL, b.p, b.len);
out:
	free(b.p);
	free(key);
	free(dom);
	free(days);
	free(rating);
	return code;
}

static int
handle_catalog(struct server *s, struct conn *c, const char *head,
    const char *query, char **ids, int nids)
{
	struct sbuf b = { 0 };
	char *tok = header(head, "x-amz-access-token");
	char *mkt = param(query, "marketplaceIds");
	int i, code = 200, first = 1;
	double t = c->rx_ms > 0 ? c->rx_ms : now_ms();

	if (s->lwa_id != NULL && (tok == NULL ||
	    strncmp(tok, "Atza|fake-", 10) != 0)) {
		sb_puts(&b, "{\"errors\":[{\"code\":\"Unauthorized\",\"message\":"
		    "\"Access to requested resource is denied.\"}]}");
		code = 403;
		goto done;
	}
	if (s->sp_rate > 0) {
		refill(&s->sp_tokens, s->sp_burst, s->sp_rate / 1000,
		    &s->sp_last, t);
		/* 25 ms of slack: connection set-up delays the first requests
		 * of a burst, which must not turn a paced client into a rate
		 * violation. */
		if (s->sp_tokens < 1 - s->sp_rate * 0.025) {
			sb_puts(&b, "{\"errors\":[{\"code\":\"QuotaExceeded\","
			    "\"message\":\"You exceeded your quota for the "
			    "requested resource.\"}]}");
			code = 429;
			goto done;
		}
		s->sp_tokens -= 1;
	}
	sb_puts(&b, "{\"numberOfResults\":0,\"items\":[");
	for (i = 0; i < nids; i++) {
		if (strncmp(ids[i], "B0MISS", 6) == 0)
			continue;
		if (!first)
			sb_puts(&b, ",");
		first = 0;
		spapi_item(s, &b, ids[i], mkt ? mkt : "ATVPDKIKX0DER");
	}
	sb_puts(&b, "]}");
done:
	{
		char hdr[128];

		if (s->sp_rate > 0)
			snprintf(hdr, sizeof hdr, "x-amzn-RequestId: fake-%ld\r\n"
			    "x-amzn-RateLimit-Limit: %g\r\n", s->reqno,
			    s->sp_rate);
		else
			snprintf(hdr, sizeof hdr, "x-amzn-RequestId: fake-%ld\r\n",
			    s->reqno);
		respond(c, code, hdr, b.p, b.len);
	}
	free(b.p);
	free(tok);
	free(mkt);
	return code;
}

static int
handle_lwa(struct server *s, struct conn *c, const char *body)
{
	struct sbuf b = { 0 };
	char *gt = param(body, "grant_type"), *id = param(body, "client_id");
	char *sec = param(body, "client_secret");
	char *rt = param(body, "refresh_token");
	int code = 200;

	if (gt == NULL || strcmp(gt, "refresh_token") != 0 || id == NULL ||
	    sec == NULL || rt == NULL ||
	    (s->lwa_id && strcmp(id, s->lwa_id) != 0) ||
	    (s->lwa_secret && strcmp(sec, s->lwa_secret) != 0) ||
	    (s->lwa_refresh && strcmp(rt, s->lwa_refresh) != 0)) {
		sb_puts(&b, "{\"error\":\"invalid_client\",\"error_description\":"
		    "\"Client authentication failed\"}");
		code = 401;
	} else
		sb_printf(&b, "{\"access_token\":\"Atza|fake-%ld\","
		    "\"refresh_token\":\"unused\",\"token_type\":\"bearer\","
		    "\"expires_in\":%ld}", s->reqno, s->expires_in);
	respond(c, code, NULL, b.p, b.len);
	free(b.p);
	free(gt);
	free(id);
	free(sec);
	free(rt);
	return code;
}

static int
handle_reviews(struct server *s, struct conn *c, const char *head,
    char **ids, int nids)
{
	struct sbuf b = { 0 };
	char *auth = header(head, "Authorization");
	int i, code = 200, first = 1;

	if (s->bearer != NULL && (auth == NULL || strncmp(auth, "Bearer ", 7)
	    != 0 || strcmp(auth + 7, s->bearer) != 0)) {
		sb_puts(&b, "{\"error\":\"unauthorized\"}");
		code = 401;
		goto done;
	}
	sb_puts(&b, "{\"items\":[");
	for (i = 0; i < nids; i++) {
		struct walk w;
		int last;

		if (strncmp(ids[i], "B0MISS", 6) == 0)
			continue;
		gen_walk(s, ids[i], 1, 8, &w);
		last = w.days - 1;
		sb_printf(&b, "%s{\"asin\":\"%s\",\"review_count\":%ld,"
		    "\"rating\":%.1f,\"reviews_7d\":%ld}", first ? "" : ",",
		    ids[i], w.reviews[last], w.rating[last] / 10.0,
		    w.reviews[last] - w.reviews[0]);
		first = 0;
	}
	sb_puts(&b, "]}");
done:
	respond(c, code, NULL, b.p, b.len);
	free(b.p);
	free(auth);
	return code;
}

/*
 * One line per request: arrival time (epoch ms), request number, method,
 * path, status (0: connection dropped), number of ids, the first id, the
 * fault injected.  Query strings are not logged: they hold the key.
 */
static void
log_request(struct server *s, double t, const char *method,
    const char *path, int code, char **ids, int nids, const char *fault)
{
	char line[512];
	int n;

	if (s->logfd < 0)
		return;
	n = snprintf(line, sizeof line, "%.3f %ld %s %s %d %d %s %s\n", t,
	    s->reqno, method, path, code, nids, nids > 0 ? ids[0] : "-",
	    fault ? fault : "-");
	if (n > 0 && write(s->logfd, line, n) != n)
		fatal("log: %s", strerror(errno));
}

/*
 * Answer one complete request (head NUL-terminated, body after it).
 * Returns 0, or -1 if the connection must be dropped at once.
 */
static int
handle(struct server *s, struct conn *c, char *head, char *body)
{
	char method[8], target[8192], *query, *idlist = NULL;
	char *ids[MAX_IDS];
	int nids = 0, code = 0;
	double t = c->rx_ms > 0 ? c->rx_ms : now_ms();
	struct fault *f;
	char ra[160];

	s->reqno++;
	if (sscanf(head, "%7s %8191s", method, target) != 2) {
		log_request(s, t, "?", "?", 400, NULL, 0, NULL);
		respond(c, 400, NULL, "{}", 2);
		c->close_after = 1;
		return 0;
	}
	query = strchr(target, '?');
	if (query != NULL)
		*query++ = '\0';
	else
		query = "";
	if (strcmp(target, "/product") == 0)
		idlist = param(query, "asin");
	else if (strcmp(target, "/catalog/2022-04-01/items") == 0)
		idlist = param(query, "identifiers");
	else if (strcmp(target, "/v1/reviews") == 0)
		idlist = param(query, "asins");
	nids = split_ids(idlist, ids);
	f = match_fault(s, ids, nids);
	if (s->delay_ms > 0)
		c->ready_at = t + s->delay_ms;
	if (f != NULL) {
		const char *k = f->kind;

		if (strcmp(k, "reset") == 0) {
			log_request(s, t, method, target, 0, ids, nids, k);
			free(idlist);
			return -1;
		}
		if (strcmp(k, "slow") == 0)
			c->ready_at = t + f->arg;
		else if (strcmp(k, "429ra") == 0 || strcmp(k, "503ra") == 0) {
			code = k[0] == '4' ? 429 : 503;
			snprintf(ra, sizeof ra, "Retry-After: %ld\r\n", f->arg);
			respond(c, code, ra, "{}", 2);
		} else if (strcmp(k, "429date") == 0) {
			time_t when = time(NULL) + f->arg;
			struct tm tm;

			gmtime_r(&when, &tm);
			strftime(ra, sizeof ra, "Retry-After: %a, %d %b %Y "
			    "%H:%M:%S GMT\r\n", &tm);
			code = 429;
			respond(c, code, ra, "{}", 2);
		} else if (strcmp(k, "truncate") == 0 ||
		    strcmp(k, "badjson") == 0 || strcmp(k, "empty") == 0) {
			/* Built below from the real answer. */
		} else if (isdigit((unsigned char)k[0])) {
			code = atoi(k);
			respond(c, code, NULL, "{\"error\":\"injected\"}", 20);
		}
	}
	if (code == 0) {
		if (strcmp(target, "/product") == 0 && strcmp(method, "GET") == 0)
			code = handle_product(s, c, query, ids, nids, f);
		else if (strcmp(target, "/token") == 0) {
			struct sbuf b = { 0 };

			sb_puts(&b, "{");
			keepa_status(s, &b, 0);
			sb_puts(&b, "}");
			respond(c, code = 200, NULL, b.p, b.len);
			free(b.p);
		} else if (strcmp(target, "/catalog/2022-04-01/items") == 0)
			code = handle_catalog(s, c, head, query, ids, nids);
		else if (strcmp(target, "/auth/o2/token") == 0 &&
		    strcmp(method, "POST") == 0)
			code = handle_lwa(s, c, body);
		else if (strcmp(target, "/v1/reviews") == 0)
			code = handle_reviews(s, c, head, ids, nids);
		else
			respond(c, code = 404, NULL, "{\"error\":\"not found\"}",
			    21);
		if (f != NULL && code == 200) {
			/* Damage the body of a real answer, headers intact. */
			char *hend = strstr(c->out.p, "\r\n\r\n") + 4;
			size_t hlen = hend - c->out.p, blen = c->out.len - hlen;

			if (strcmp(f->kind, "truncate") == 0)
				c->cut = hlen + blen / 2;
			else if (strcmp(f->kind, "badjson") == 0 && blen > 2)
				hend[blen / 2] = '}';
			else if (strcmp(f->kind, "empty") == 0) {
				c->out.len = 0;
				respond(c, 200, NULL, "", 0);
			}
		}
	}
	log_request(s, t, method, target, code, ids, nids,
	    f ? f->kind : NULL);
	free(idlist);
	return 0;
}

/* ---- samples ---------------------------------------------------------- */

static int
cmp_name(const void *a, const void *b)
{
	return strcmp(((const struct sample *)a)->name,
	    ((const struct sample *)b)->name);
}

static void
load_samples(struct server *s, const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *e;

	if (d == NULL)
		fatal("%s: %s", dir, strerror(errno));
	while ((e = readdir(d)) != NULL) {
		size_t nl = strlen(e->d_name);
		struct sample *sm;
		char path[4096];
		jv v, prods;
		FILE *fp;
		long sz;
		int i, n;

		if (nl < 6 || strcmp(e->d_name + nl - 5, ".json") != 0)
			continue;
		snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
		if ((fp = fopen(path, "rb")) == NULL)
			fatal("%s: %s", path, strerror(errno));
		fseek(fp, 0, SEEK_END);
		sz = ftell(fp);
		rewind(fp);
		s->samples = xmem(realloc(s->samples,
		    (s->nsamples + 1) * sizeof *s->samples));
		sm = &s->samples[s->nsamples];
		sm->body = xmem(malloc(sz + 1));
		sm->len = fread(sm->body, 1, sz, fp);
		fclose(fp);
		v = jv_parse_sized(sm->body, sm->len);
		if (!jv_is_valid(v) || jv_get_kind(v) != JV_KIND_OBJECT) {
			jv_free(v);
			free(sm->body);
			continue;
		}
		prods = jv_object_get(v, jv_string("products"));
		if (jv_get_kind(prods) != JV_KIND_ARRAY) {
			jv_free(prods);
			free(sm->body);
			continue;
		}
		n = jv_array_length(jv_copy(prods));
		sm->ids = xmem(calloc(n + 1, sizeof *sm->ids));
		sm->texts = xmem(calloc(n + 1, sizeof *sm->texts));
		sm->nids = 0;
		sm->domain = 0;
		for (i = 0; i < n; i++) {
			jv p = jv_array_get(jv_copy(prods), i);
			jv a = jv_object_get(jv_copy(p), jv_string("asin"));
			jv dom = jv_object_get(jv_copy(p),
			    jv_string("domainId"));

			if (jv_get_kind(dom) == JV_KIND_NUMBER)
				sm->domain = (int)jv_number_value(dom);
			jv_free(dom);
			if (jv_get_kind(a) == JV_KIND_STRING) {
				jv t = jv_dump_string(jv_copy(p), 0);

				sm->ids[sm->nids] = xmem(strdup(
				    jv_string_value(a)));
				sm->texts[sm->nids++] = xmem(strdup(
				    jv_string_value(t)));
				jv_free(t);
			}
			jv_free(a);
			jv_free(p);
		}
		jv_free(prods);
		sm->name = xmem(strdup(e->d_name));
		s->nsamples++;
	}
	closedir(d);
	qsort(s->samples, s->nsamples, sizeof *s->samples, cmp_name);
}

/* ---- the loop ---------------------------------------------------------- */

static void
drop(struct server *s, int i)
{
	close(s->conns[i].fd);
	free(s->conns[i].in.p);
	free(s->conns[i].out.p);
	s->conns[i] = s->conns[--s->nconns];
}

/* Parse and answer every complete request in c->in.  -1: drop c. */
static int
serve_input(struct server *s, struct conn *c)
{
	for (;;) {
		char *end, *cl;
		size_t hlen, blen = 0;

		if (c->in.len == 0 || c->out.len > c->off || c->close_after)
			return 0;
		end = strstr(c->in.p, "\r\n\r\n");
		if (end == NULL)
			return c->in.len > MAX_REQ ? -1 : 0;
		hlen = end - c->in.p + 4;
		end[2] = '\0';
		cl = header(c->in.p, "Content-Length");
		if (cl != NULL) {
			blen = strtoul(cl, NULL, 10);
			free(cl);
		}
		if (blen > MAX_REQ)
			return -1;
		if (c->in.len < hlen + blen) {
			end[2] = '\r';
			return 0;
		}
		{
			char *body = xmem(strndup(c->in.p + hlen, blen));

			c->out.len = c->off = 0;
			c->cut = 0;
			if (handle(s, c, c->in.p, body) < 0) {
				free(body);
				return -1;
			}
			free(body);
		}
		memmove(c->in.p, c->in.p + hlen + blen,
		    c->in.len - hlen - blen);
		c->in.len -= hlen + blen;
		c->in.p[c->in.len] = '\0';
	}
}

/*
 * read(2) that also returns when the kernel received the data
 * (SO_TIMESTAMPNS), so the request log and the rate limiter see arrival
 * times even when this process was not scheduled at that moment.
 */
static ssize_t
read_stamped(int fd, char *buf, size_t len, double *when)
{
	union {
		char buf[CMSG_SPACE(sizeof(struct timespec))];
		struct cmsghdr align;
	} ctl;
	struct iovec iov = { buf, len };
	struct msghdr msg;
	struct cmsghdr *cm;
	ssize_t r;

	memset(&msg, 0, sizeof msg);
	msg.msg_iov = &iov;
	msg.msg_iovlen = 1;
	msg.msg_control = ctl.buf;
	msg.msg_controllen = sizeof ctl.buf;
	r = recvmsg(fd, &msg, 0);
	*when = now_ms();
	for (cm = CMSG_FIRSTHDR(&msg); r > 0 && cm != NULL;
	    cm = CMSG_NXTHDR(&msg, cm))
		if (cm->cmsg_level == SOL_SOCKET &&
		    cm->cmsg_type == SCM_TIMESTAMPNS) {
			struct timespec ts;

			memcpy(&ts, CMSG_DATA(cm), sizeof ts);
			*when = ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
		}
	return r;
}

static void
on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

static void
run(struct server *s, int lfd)
{
	struct pollfd pfd[MAX_CONN + 1];

	while (!stop) {
		double t = now_ms(), wait = 1000;
		int i, n;

		pfd[0].fd = lfd;
		pfd[0].events = s->nconns < MAX_CONN ? POLLIN : 0;
		for (i = 0; i < s->nconns; i++) {
			struct conn *c = &s->conns[i];

			pfd[i + 1].fd = c->fd;
			pfd[i + 1].events = POLLIN;
			if (c->out.len > c->off) {
				if (c->ready_at <= t)
					pfd[i + 1].events |= POLLOUT;
				else if (c->ready_at - t < wait)
					wait = c->ready_at - t;
			}
		}
		n = poll(pfd, s->nconns + 1, (int)ceil(wait));
		if (n < 0) {
			if (errno == EINTR)
				continue;
			fatal("poll: %s", strerror(errno));
		}
		for (i = s->nconns - 1; i >= 0; i--) {
			struct conn *c = &s->conns[i];
			short re = pfd[i + 1].revents;

			if (re & POLLIN) {
				char tmp[65536];
				double when;
				ssize_t r = read_stamped(c->fd, tmp, sizeof tmp,
				    &when);

				if (r <= 0) {
					drop(s, i);
					continue;
				}
				if (c->in.len == 0)
					c->rx_ms = when;
				sb_add(&c->in, tmp, r);
			}
			if (serve_input(s, c) < 0) {
				drop(s, i);
				continue;
			}
			if (c->out.len > c->off && c->ready_at <= now_ms()) {
				size_t lim = c->cut ? c->cut : c->out.len;
				ssize_t w = write(c->fd, c->out.p + c->off,
				    lim - c->off);

				if (w < 0 && errno != EAGAIN) {
					drop(s, i);
					continue;
				}
				if (w > 0)
					c->off += w;
				if (c->off >= lim) {
					if (c->cut || c->close_after) {
						drop(s, i);
						continue;
					}
					c->out.len = c->off = 0;
					if (serve_input(s, c) < 0) {
						drop(s, i);
						continue;
					}
				}
			} else if (re & (POLLHUP | POLLERR)) {
				drop(s, i);
				continue;
			}
		}
		if (pfd[0].revents & POLLIN) {
			int fd = accept(lfd, NULL, NULL), one = 1;

			if (fd >= 0) {
				struct conn *c = &s->conns[s->nconns++];

				fcntl(fd, F_SETFL, O_NONBLOCK);
				setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one,
				    sizeof one);
				setsockopt(fd, SOL_SOCKET, SO_TIMESTAMPNS, &one,
				    sizeof one);
				memset(c, 0, sizeof *c);
				c->fd = fd;
			}
		}
	}
}

static void
usage(FILE *fp, int status)
{
	fputs("usage: fake-upstream [--port N] [--port-file FILE] [--log FILE]"
	    " [--seed N]\n"
	    "       [--now EPOCH] [--delay MS] [--key KEY] [--tokens N]"
	    " [--refill N]\n"
	    "       [--rps R] [--burst B] [--lwa ID:SECRET:REFRESH]"
	    " [--expires-in S]\n"
	    "       [--bearer TOKEN] [--files DIR] [--fault SPEC]...\n",
	    fp);
	exit(status);
}

int
main(int argc, char *argv[])
{
	static const struct option longopts[] = {
		{ "port", required_argument, NULL, 'p' },
		{ "port-file", required_argument, NULL, 'P' },
		{ "log", required_argument, NULL, 'l' },
		{ "seed", required_argument, NULL, 's' },
		{ "now", required_argument, NULL, 'n' },
		{ "delay", required_argument, NULL, 'd' },
		{ "key", required_argument, NULL, 'k' },
		{ "tokens", required_argument, NULL, 't' },
		{ "refill", required_argument, NULL, 'r' },
		{ "rps", required_argument, NULL, 'R' },
		{ "burst", required_argument, NULL, 'B' },
		{ "lwa", required_argument, NULL, 'L' },
		{ "expires-in", required_argument, NULL, 'E' },
		{ "bearer", required_argument, NULL, 'b' },
		{ "files", required_argument, NULL, 'F' },
		{ "fault", required_argument, NULL, 'f' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	struct server *s = xmem(calloc(1, sizeof *s));
	struct sockaddr_in sa;
	socklen_t salen = sizeof sa;
	const char *port_file = NULL;
	int ch, lfd, one = 1, port = 0;

	s->seed = 1;
	s->now = 1778371200;	/* 2026-05-10T00:00:00Z */
	s->logfd = -1;
	s->expires_in = 3600;
	s->sp_burst = 1;
	while ((ch = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
		switch (ch) {
		case 'p': port = atoi(optarg); break;
		case 'P': port_file = optarg; break;
		case 'l':
			s->logfd = open(optarg, O_WRONLY | O_CREAT | O_APPEND,
			    0644);
			if (s->logfd < 0)
				fatal("%s: %s", optarg, strerror(errno));
			break;
		case 's': s->seed = strtoull(optarg, NULL, 10); break;
		case 'n': s->now = strtoll(optarg, NULL, 10); break;
		case 'd': s->delay_ms = atof(optarg); break;
		case 'k': s->key = optarg; break;
		case 't': s->kp_cap = s->kp_tokens = atof(optarg); break;
		case 'r': s->kp_rate = atof(optarg); break;
		case 'R': s->sp_rate = atof(optarg); break;
		case 'B': s->sp_burst = s->sp_tokens = atof(optarg); break;
		case 'L': {
			char *a = strdup(optarg), *b = strchr(a, ':'), *c;

			if (b == NULL || (c = strchr(b + 1, ':')) == NULL)
				fatal("--lwa wants ID:SECRET:REFRESH");
			*b++ = '\0';
			*c++ = '\0';
			s->lwa_id = a;
			s->lwa_secret = b;
			s->lwa_refresh = c;
			break;
		}
		case 'E': s->expires_in = atol(optarg); break;
		case 'b': s->bearer = optarg; break;
		case 'F': load_samples(s, optarg); break;
		case 'f': parse_fault(s, optarg); break;
		case 'h': usage(stdout, 0); break;
		default: usage(stderr, 2);
		}
	}
	if (optind != argc)
		usage(stderr, 2);
	if (s->sp_rate > 0 && s->sp_tokens == 0)
		s->sp_tokens = s->sp_burst;
	s->kp_last = s->sp_last = now_ms();
	signal(SIGPIPE, SIG_IGN);
	signal(SIGTERM, on_signal);
	signal(SIGINT, on_signal);
	if ((lfd = socket(AF_INET, SOCK_STREAM, 0)) < 0)
		fatal("socket: %s", strerror(errno));
	setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
	memset(&sa, 0, sizeof sa);
	sa.sin_family = AF_INET;
	sa.sin_port = htons(port);
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (bind(lfd, (struct sockaddr *)&sa, sizeof sa) < 0 ||
	    listen(lfd, 512) < 0 ||
	    getsockname(lfd, (struct sockaddr *)&sa, &salen) < 0)
		fatal("listen: %s", strerror(errno));
	fcntl(lfd, F_SETFL, O_NONBLOCK);
	port = ntohs(sa.sin_port);
	printf("port %d\n", port);
	fflush(stdout);
	if (port_file != NULL) {
		char tmp[4096];
		FILE *fp;

		snprintf(tmp, sizeof tmp, "%s.tmp", port_file);
		if ((fp = fopen(tmp, "w")) == NULL)
			fatal("%s: %s", tmp, strerror(errno));
		fprintf(fp, "%d\n", port);
		if (fclose(fp) != 0 || rename(tmp, port_file) != 0)
			fatal("%s: %s", port_file, strerror(errno));
	}
	run(s, lfd);
	return 0;
}
