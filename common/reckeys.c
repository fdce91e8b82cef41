/*
 * reckeys.c - top-level number members with remembered places; see
 * reckeys.h.  Reads the scanner's index (recint.h) directly, which is
 * what rec_num() does behind its field handle, minus the name search.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "asin.h"
#include "recint.h"
#include "reckeys.h"
#include "scan.h"

struct rec_keys {
	size_t n;
	char *const *name;
	size_t *len;
	size_t *hint;		/* member index found in the last record */
};

struct rec_keys *
rec_keys_new(char *const *names, size_t n)
{
	struct rec_keys *k;
	size_t i;

	for (i = 0; i < n; i++)
		if (names[i][0] == '.' || names[i][0] == '\0')
			return NULL;
	k = xcalloc(1, sizeof(*k));
	k->n = n;
	k->name = names;
	k->len = xcalloc(n + 1, sizeof(size_t));
	k->hint = xcalloc(n + 1, sizeof(size_t));
	for (i = 0; i < n; i++) {
		k->len[i] = strlen(names[i]);
		k->hint[i] = i;
	}
	return k;
}

void
rec_keys_free(struct rec_keys *k)
{
	if (k == NULL)
		return;
	free(k->len);
	free(k->hint);
	free(k);
}

int
rec_keys_nums(struct rec_keys *k, struct record *rec, double *out)
{
	const struct scan *sc = rec_scan(rec);
	const char *raw;
	size_t i, len;
	/* With duplicate keys allowed the remembered one may not be the
	 * last of its name; only the search knows. */
	int hints = !rec_duplicate_keys_allowed();

	if (sc == NULL)
		return 0;
	raw = rec_raw(rec, &len);
	for (i = 0; i < k->n; i++) {
		const struct scan_member *m;
		size_t h = k->hint[i];
		double x;

		m = h < sc->n ? &sc->m[h] : NULL;
		if (!hints || m == NULL || m->key_esc ||
		    m->key_len != k->len[i] ||
		    memcmp(raw + m->key, k->name[i], k->len[i]) != 0) {
			long f = scan_find(sc, raw, k->name[i], k->len[i]);

			if (f < 0)
				return 0;
			k->hint[i] = (size_t)f;
			m = &sc->m[f];
		}
		if (m->kind != SCAN_NUMBER)
			return 0;
		x = scan_number(raw + m->val, m->val_len);
		if (!isfinite(x))
			return 0;
		out[i] = x;
	}
	return 1;
}
