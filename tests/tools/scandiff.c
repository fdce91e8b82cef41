/*
 * scandiff - differential test of common/scan.c against libjq 1.6
 * (jv_parse_sized): every text the scanner accepts libjq must accept with
 * the same value in every field, at every depth (numbers bit for bit,
 * strings byte for byte, duplicate keys last-wins), found through the
 * member index and the lazy span walkers; a text the scanner rejects and
 * libjq accepts must fall in a documented place where libjq 1.6 is lax.
 *
 *   scandiff [--gen N] [--seed S] [--doc] [FILE...]
 *
 * --gen N checks N generated records and 8 mutations of each; FILE
 * operands are checked line by line, or as one text each with --doc.
 * Prints one summary line; exits 1 at the first disagreement.
 */
#include <getopt.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jv.h>

#include "asin.h"
#include "scan.h"
#include "scanjv.h"

const char *__lsan_default_suppressions(void);
const char *__lsan_default_options(void);

/*
 * Under make sanitize: libjq 1.6 leaks a token buffer on some of the bad
 * texts this program feeds it on purpose; those reports are libjq's, not
 * ours (libjq has no frame pointers, so the report names only libjq).
 * In a build without LeakSanitizer nothing calls this.
 */
const char *
__lsan_default_suppressions(void)
{
	return "leak:libjq.so\n";
}

/* ... and says nothing of them, so a clean run prints only its tally. */
const char *
__lsan_default_options(void)
{
	return "print_suppressions=0";
}

struct tally {
	long long texts;
	long long accepted;
	long long lax;		/* rejected here, accepted by libjq */
	long long values;	/* values compared */
};



/* Count the values of v (all depths); consumes v. */
static long long
count_values(jv v)
{
	long long n = 1;

	if (jv_get_kind(v) == JV_KIND_ARRAY) {
		jv_array_foreach(v, i, e) {
			(void)i;
			n += count_values(e);
		}
	} else if (jv_get_kind(v) == JV_KIND_OBJECT) {
		jv_object_foreach(v, k, e) {
			jv_free(k);
			n += count_values(e);
		}
	}
	jv_free(v);
	return n;
}

/* Check one text; 0 and a message on stderr when they disagree. */
static int
check(struct scan *s, struct tally *ty, const char *where, const char *t,
    size_t n)
{
	jv v;
	int ok = 1;

	ty->texts++;
	v = jv_parse_sized(t, (int)n);
	if (scan_text(s, t, n)) {
		ty->accepted++;
		if (!jv_is_valid(v)) {
			fprintf(stderr, "scandiff: %s: libjq rejects what the "
			    "scanner accepts\n", where);
			ok = 0;
		} else if (!same(jv_copy(v), from_span(t + s->val, s->val_len))) {
			fprintf(stderr, "scandiff: %s: values differ\n", where);
			ok = 0;
		} else if (s->kind == SCAN_OBJECT &&
		    !index_agrees(s, t, jv_copy(v))) {
			fprintf(stderr, "scandiff: %s: index differs\n", where);
			ok = 0;
		} else {
			ty->values += count_values(jv_copy(v));
		}
	} else if (jv_is_valid(v)) {
		ty->lax++;
		if (!jq_lax(s, t, n)) {
			fprintf(stderr, "scandiff: %s: libjq accepts what the "
			    "scanner rejects as %s at column %zu\n", where,
			    scan_strerror(s->err), s->err_off + 1);
			ok = 0;
		}
	}
	jv_free(v);
	if (!ok)
		fprintf(stderr, "scandiff: text: %.*s\n", (int)(n > 400 ? 400 : n),
		    t);
	return ok;
}

/* xorshift64*: the generator's only randomness, seeded by --seed. */
static uint64_t
rnd(uint64_t *st)
{
	*st ^= *st >> 12;
	*st ^= *st << 25;
	*st ^= *st >> 27;
	return *st * 0x2545f4914f6cdd1dull;
}

static void
gen_ws(struct buf *b, uint64_t *st)
{
	static const char ws[] = " \t\r\n";

	if (rnd(st) % 8 == 0)
		buf_addc(b, ws[rnd(st) % 4]);
}

static void
gen_string(struct buf *b, uint64_t *st)
{
	static const char *const pieces[] = {
		"a", "Z", "0", " ", "15.6\\\"", "\\\\", "\\/", "\\b", "\\f",
		"\\n", "\\r", "\\t", "\\u0000", "\\u001f", "\\u00e9", "\\u20AC",
		"\\ud83d\\ude00", "\\uDBFF\\uDFFF", "\\uffff", "\xc3\xa9",
		"\xe6\x97\xa5\xe6\x9c\xac", "\xf0\x9f\x98\x80", "\x7f",
		"\xef\xbf\xbf", "\xf4\x8f\xbf\xbf", "'", "{", "]", ",", ":",
		"B0Y2HDG2YX", "2024-01-01T23:03:01Z",
	};
	int n = (int)(rnd(st) % 12), i;

	buf_addc(b, '"');
	for (i = 0; i < n; i++)
		buf_adds(b, pieces[rnd(st) % (sizeof(pieces) / sizeof(pieces[0]))]);
	buf_addc(b, '"');
}

static void
gen_number(struct buf *b, uint64_t *st)
{
	uint64_t r = rnd(st);
	int k, nd;

	if (r & 1)
		buf_addc(b, '-');
	switch (r >> 1 & 7) {
	case 0:
		buf_printf(b, "%llu", (unsigned long long)(rnd(st) >> (r >> 4 & 63)));
		break;
	case 1:
		buf_printf(b, "%llu.%02llu", (unsigned long long)(rnd(st) % 100000),
		    (unsigned long long)(rnd(st) % 100));
		break;
	case 2:
		buf_printf(b, "%.17g", (double)(rnd(st) >> 11) * 0x1p-53 *
		    (double)(rnd(st) % 1000));
		break;
	case 3:
		buf_printf(b, "%llue%d", (unsigned long long)(rnd(st) % 1000),
		    (int)(rnd(st) % 700) - 350);
		break;
	case 4:
		/* Long digit strings, past the fast path. */
		buf_addc(b, '1' + (char)(rnd(st) % 9));
		nd = (int)(rnd(st) % 40);
		for (k = 0; k < nd; k++)
			buf_addc(b, '0' + (char)(rnd(st) % 10));
		if (rnd(st) & 1) {
			buf_addc(b, '.');
			buf_addc(b, '0' + (char)(rnd(st) % 10));
		}
		if (rnd(st) & 1)
			buf_printf(b, "E%+d", (int)(rnd(st) % 40) - 20);
		break;
	case 5:
		buf_adds(b, r & 16 ? "0" : "0.0");
		break;
	default:
		{
			union { double d; uint64_t u; } x;

			do
				x.u = rnd(st);
			while ((x.u >> 52 & 0x7ff) == 0x7ff);
			buf_printf(b, "%.*g", 1 + (int)(rnd(st) % 17), x.d < 0 ?
			    -x.d : x.d);
		}
		break;
	}
}

static void gen_value(struct buf *, uint64_t *, int);

static void
gen_object(struct buf *b, uint64_t *st, int depth, int members)
{
	static const char *const keys[] = {
		"asin", "price", "bsr", "title", "a", "", "k\\u00e9y", "\\u0061",
		"n\xc3\xa9", "date", "x y",
	};
	int i;

	buf_addc(b, '{');
	for (i = 0; i < members; i++) {
		if (i > 0)
			buf_addc(b, ',');
		gen_ws(b, st);
		buf_addc(b, '"');
		buf_adds(b, keys[rnd(st) % (sizeof(keys) / sizeof(keys[0]))]);
		if (rnd(st) % 3 == 0)
			buf_printf(b, "%d", (int)(rnd(st) % 20));
		buf_addc(b, '"');
		gen_ws(b, st);
		buf_addc(b, ':');
		gen_ws(b, st);
		gen_value(b, st, depth + 1);
		gen_ws(b, st);
	}
	buf_addc(b, '}');
}

static void
gen_value(struct buf *b, uint64_t *st, int depth)
{
	int i, n;
	uint64_t r = rnd(st) % (depth > 4 ? 6 : 8);

	switch (r) {
	case 0:
		buf_adds(b, "null");
		break;
	case 1:
		buf_adds(b, rnd(st) & 1 ? "true" : "false");
		break;
	case 2:
	case 3:
		gen_number(b, st);
		break;
	case 4:
	case 5:
		gen_string(b, st);
		break;
	case 6:
		n = (int)(rnd(st) % 5);
		buf_addc(b, '[');
		for (i = 0; i < n; i++) {
			if (i > 0)
				buf_addc(b, ',');
			gen_ws(b, st);
			gen_value(b, st, depth + 1);
			gen_ws(b, st);
		}
		buf_addc(b, ']');
		break;
	default:
		gen_object(b, st, depth, (int)(rnd(st) % 5));
		break;
	}
}

/* Damage a copy of a valid text in one of the ways input goes bad. */
static void
mutate(struct buf *dst, const struct buf *src, uint64_t *st)
{
	static const char specials[] = "\"\\{}[],:0-.eE+ \x01\x1f\x80\xc0\xed"
	    "\xf4\xff\x00tnfu";
	size_t at = src->len ? rnd(st) % src->len : 0;
	char ch = specials[rnd(st) % (sizeof(specials) - 1)];

	dst->len = 0;
	switch (rnd(st) % 4) {
	case 0:		/* replace a byte */
		buf_add(dst, src->data, src->len);
		if (at < dst->len)
			dst->data[at] = ch;
		break;
	case 1:		/* insert a byte */
		buf_add(dst, src->data, at);
		buf_addc(dst, ch);
		buf_add(dst, src->data + at, src->len - at);
		break;
	case 2:		/* delete a byte */
		buf_add(dst, src->data, at);
		if (at < src->len)
			buf_add(dst, src->data + at + 1, src->len - at - 1);
		break;
	default:	/* truncate */
		buf_add(dst, src->data, at);
		break;
	}
}

static int
run_gen(struct scan *s, struct tally *ty, long long n, uint64_t seed)
{
	struct buf b, m;
	uint64_t st = seed * 0x9e3779b97f4a7c15ull + 1;
	char where[64];
	long long i;
	int k, ok = 1;

	buf_init(&b);
	buf_init(&m);
	for (i = 0; i < n && ok; i++) {
		b.len = 0;
		gen_object(&b, &st, 0, 1 + (int)(rnd(&st) % 16));
		snprintf(where, sizeof(where), "generated #%lld", i);
		if (!scan_text(s, b.data, b.len)) {
			char msg[128];

			scan_errmsg(s, msg, sizeof(msg));
			fprintf(stderr, "scandiff: %s: the scanner rejects a "
			    "valid record: %s\n%s\n", where, msg, b.data);
			ok = 0;
			break;
		}
		ok = check(s, ty, where, b.data, b.len);
		for (k = 0; k < 8 && ok; k++) {
			mutate(&m, &b, &st);
			snprintf(where, sizeof(where), "mutation %d of #%lld",
			    k, i);
			ok = check(s, ty, where, m.data, m.len);
		}
	}
	buf_free(&b);
	buf_free(&m);
	return ok;
}

static int
run_file(struct scan *s, struct tally *ty, const char *path, int doc)
{
	FILE *f = fopen(path, "rb");
	struct buf b;
	char where[512], tmp[65536];
	size_t n, start, end;
	long line = 0;
	int ok = 1;

	if (f == NULL)
		die("%s:", path);
	buf_init(&b);
	while ((n = fread(tmp, 1, sizeof(tmp), f)) > 0)
		buf_add(&b, tmp, n);
	fclose(f);
	if (doc) {
		ok = check(s, ty, path, b.data, b.len);
	} else {
		for (start = 0; start < b.len && ok; start = end + 1) {
			end = start;
			while (end < b.len && b.data[end] != '\n')
				end++;
			line++;
			if (end == start)
				continue;
			snprintf(where, sizeof(where), "%s:%ld", path, line);
			ok = check(s, ty, where, b.data + start, end - start);
		}
	}
	buf_free(&b);
	return ok;
}

int
main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "gen", required_argument, NULL, 'g' },
		{ "seed", required_argument, NULL, 's' },
		{ "doc", no_argument, NULL, 'd' },
		{ NULL, 0, NULL, 0 }
	};
	struct scan s;
	struct tally ty = { 0, 0, 0, 0 };
	long long gen = 0;
	uint64_t seed = 1;
	int ch, doc = 0, ok = 1, i;

	diag_init(argv[0]);
	while ((ch = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
		switch (ch) {
		case 'g':
			gen = cli_int("--gen", optarg, 0, 100000000);
			break;
		case 's':
			seed = (uint64_t)cli_int("--seed", optarg, 0, INT64_MAX);
			break;
		case 'd':
			doc = 1;
			break;
		default:
			usage_error("usage: scandiff [--gen N] [--seed S] "
			    "[--doc] [FILE...]");
		}
	}
	scan_init(&s);
	if (gen > 0)
		ok = run_gen(&s, &ty, gen, seed);
	for (i = optind; i < argc && ok; i++)
		ok = run_file(&s, &ty, argv[i], doc);
	scan_free(&s);
	printf("%lld texts, %lld accepted, %lld values equal, %lld lax in "
	    "libjq, %s\n", ty.texts, ty.accepted, ty.values, ty.lax,
	    ok ? "no disagreement" : "DISAGREEMENT");
	return ok ? 0 : 1;
}
