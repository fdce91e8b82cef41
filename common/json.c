/*
 * json.c - whole JSON texts (configuration files, schema files, API
 * bodies) parsed with libjq, with messages fit for one diagnostic line:
 * libjq 1.6 ends a parse error with a copy of the whole text it was given,
 * which may be megabytes.
 */
#include <stdio.h>
#include <string.h>

#include "asin.h"

jv
json_parse(const char *text, size_t len, char **err)
{
	jv v, m;
	const char *t, *cut;

	*err = NULL;
	if (len > (size_t)INT32_MAX) {
		*err = xstrdup("text too long for the parser");
		return jv_invalid();
	}
	v = jv_parse_sized(text != NULL ? text : "", (int)len);
	if (jv_is_valid(v))
		return v;
	m = jv_invalid_get_msg(v);
	t = jv_get_kind(m) == JV_KIND_STRING ? jv_string_value(m) :
	    "no JSON value";
	cut = strstr(t, " (while parsing '");
	*err = xstrndup(t, cut != NULL ? (size_t)(cut - t) : strlen(t));
	jv_free(m);
	return jv_invalid();
}

jv
json_config_file(const char *path)
{
	char chunk[4096], *perr;
	struct buf b;
	size_t got;
	FILE *f;
	jv cfg;

	if ((f = fopen(path, "r")) == NULL)
		die("%s: cannot open:", path);
	buf_init(&b);
	buf_adds(&b, "");
	while ((got = fread(chunk, 1, sizeof(chunk), f)) > 0)
		buf_add(&b, chunk, got);
	if (ferror(f))
		die("%s: read error:", path);
	fclose(f);
	cfg = json_parse(b.data, b.len, &perr);
	buf_free(&b);
	if (!jv_is_valid(cfg))
		usage_error("%s: invalid JSON: %s", path, perr);
	if (jv_get_kind(cfg) != JV_KIND_OBJECT)
		usage_error("%s: expected a JSON object", path);
	return cfg;
}
