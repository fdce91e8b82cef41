/*
 * fuzz/gbexp.c - libFuzzer target for asin-split's experiment definition
 * parser (common/gbexp.c): the input is a definitions file as asin-split
 * reads it (one experiment object, an array of them, or an object with
 * "experiments").  Each definition is parsed leniently (the SDK's rules)
 * and strictly (asin-split's --experiment-file), under the unicode mode
 * the first byte picks; what the strict parse accepts the lenient one
 * must accept too.  A parsed experiment then assigns a few units, with
 * filter attributes looked up, and the results must be coherent: a
 * variation within the variations only when in the experiment, with a
 * bucket in [0, 1).  Runs of definitions sharing a key are also run as
 * the rules of one feature.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "asin.h"
#include "gbexp.h"
#include "scan.h"

int LLVMFuzzerTestOneInput(const uint8_t *, size_t);

#define MAX_DEFS 8

/* Attributes: "country" is "US", "n" is "7", anything else is missing. */
static int
lookup(void *ctx, const char *name, const char **s, size_t *n)
{
	if (strcmp(name, "country") == 0)
		*s = "US";
	else if (strcmp(name, "n") == 0)
		*s = "7";
	else
		return 0;
	*n = strlen(*s);
	return 1;
}

static void
coherent(const struct gb_experiment *e, const struct gb_result *r,
    const char *id)
{
	if ((r->variation >= 0) != (r->why == GB_IN) ||
	    r->variation >= e->nvar || r->variation < -1 ||
	    (r->variation >= 0 && !(r->bucket >= 0 && r->bucket < 1))) {
		fprintf(stderr, "experiment \"%s\", unit \"%s\": variation %d "
		    "of %d, bucket %g, why %d\n", e->key, id, r->variation,
		    e->nvar, r->bucket, (int)r->why);
		abort();
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char *const ids[] = { "1", "2", "3", "42", "B0TEST0001",
	    "\xc3\xa9t\xc3\xa9", "\xf0\x9f\x98\x80", "", "0" };
	static struct scan sc;
	static int init;
	struct gb_experiment e[MAX_DEFS];
	struct gb_lookup lk = { lookup, NULL };
	struct gb_parse_opts po;
	struct gb_result r;
	const char *txt = (const char *)data + 1;
	char *err;
	int n, i, k, ok, strict, first;
	size_t u;
	jv v, defs;

	if (!init) {
		scan_init(&sc);
		init = 1;
	}
	/* The scanner first, as asin-split's records: libjq leaks on
	 * refusals, and the leak check after each would cost the run. */
	if (size < 1 || size > 1 << 16 || !scan_text(&sc, txt, size - 1))
		return 0;
	v = jv_parse_sized(txt, (int)size - 1);
	if (jv_get_kind(v) == JV_KIND_OBJECT &&
	    jv_object_has(jv_copy(v), jv_string("experiments")))
		v = jv_object_get(v, jv_string("experiments"));
	if (jv_get_kind(v) == JV_KIND_OBJECT)
		v = JV_ARRAY(v);
	if (jv_get_kind(v) != JV_KIND_ARRAY) {
		jv_free(v);
		return 0;
	}
	defs = v;
	n = jv_array_length(jv_copy(defs));
	if (n > MAX_DEFS)
		n = MAX_DEFS;
	memset(&po, 0, sizeof(po));
	po.default_version = 1;
	po.default_attr = "id";
	po.mode = (enum gb_unicode)(data[0] % 3);
	for (i = k = 0; i < n; i++) {
		po.strict = 1;
		strict = gb_exp_parse(&e[k], jv_array_get(jv_copy(defs), i),
		    &po, &err);
		if (!strict) {
			if (err == NULL || *err == '\0')
				abort();
			free(err);
			gb_exp_free(&e[k]);
		} else
			gb_exp_free(&e[k]);
		po.strict = 0;
		ok = gb_exp_parse(&e[k], jv_array_get(jv_copy(defs), i), &po,
		    &err);
		if (!ok) {
			if (strict) {
				fprintf(stderr, "definition %d: strict parse "
				    "accepts, lenient refuses: %s\n", i, err);
				abort();
			}
			free(err);
			continue;
		}
		for (u = 0; u < sizeof(ids) / sizeof(ids[0]); u++) {
			gb_exp_run(&e[k], ids[u], strlen(ids[u]), &lk, &r);
			coherent(&e[k], &r, ids[u]);
		}
		k++;
	}
	jv_free(defs);
	/* Adjacent definitions with one key and variation count: rules. */
	for (i = 0; i < k; i = first) {
		for (first = i + 1; first < k && strcmp(e[first].key,
		    e[i].key) == 0 && e[first].nvar == e[i].nvar; first++)
			;
		for (u = 0; u < sizeof(ids) / sizeof(ids[0]); u++) {
			int rule = gb_rules_run(&e[i], first - i, ids[u],
			    strlen(ids[u]), &lk, &r);

			if (rule >= first - i || (rule >= 0 &&
			    r.variation < 0)) {
				fprintf(stderr, "rule %d of %d\n", rule,
				    first - i);
				abort();
			}
			if (rule >= 0)
				coherent(&e[i + rule], &r, ids[u]);
		}
	}
	for (i = 0; i < k; i++)
		gb_exp_free(&e[i]);
	return 0;
}
