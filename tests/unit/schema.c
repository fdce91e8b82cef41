/*
 * Unit tests of common/schema.c: every keyword's pass and fail cases with
 * the exact message, the compile-time errors, the pattern dialect and the
 * two formats.
 */
#include <stdlib.h>
#include <string.h>

#include "asin.h"
#include "schema.h"
#include "tap.h"

static struct schema *
compile_text(const char *text, char **err)
{
	*err = NULL;
	return schema_compile(jv_parse(text), err);
}

/* Check value against schema; want is the message, "" for valid. */
static void
check_all(const char *schema, const char *value, int all, const char *want)
{
	struct schema *s;
	struct buf msg;
	char *err, what[512];
	size_t n;

	snprintf(what, sizeof(what), "%s | %s", schema, value);
	if ((s = compile_text(schema, &err)) == NULL) {
		tap_str(err, "(compiles)", what);
		free(err);
		return;
	}
	buf_init(&msg);
	n = schema_check(s, jv_parse(value), all, &msg);
	tap_str(n ? msg.data : "", want, what);
	/* A record gives the same answer through the record API. */
	if (value[0] == '{') {
		struct record *rec = rec_new();
		struct nd_line ln;
		const char *perr;
		size_t m;

		memset(&ln, 0, sizeof(ln));
		ln.buf = value;
		ln.len = strlen(value);
		ln.source = "<test>";
		ln.lineno = 1;
		if (rec_parse(rec, &ln, &perr)) {
			msg.len = 0;
			m = schema_check_record(s, rec, all, &msg);
			tap_str(m ? msg.data : "", want, "same by record");
		}
		rec_free(rec);
	}
	/* The count agrees with the message, and a NULL msg is allowed. */
	if (n != schema_check(s, jv_parse(value), all, NULL))
		tap_ok(0, "count without a message buffer");
	buf_free(&msg);
	schema_free(s);
}

static void
check(const char *schema, const char *value, const char *want)
{
	check_all(schema, value, 0, want);
}

static void
compile_err(const char *schema, const char *want)
{
	struct schema *s;
	char *err;

	s = compile_text(schema, &err);
	tap_str(s == NULL ? err : "(compiled)", want, schema);
	schema_free(s);
	free(err);
}

static void
test_types(void)
{
	check("{\"type\":\"string\"}", "\"x\"", "");
	check("{\"type\":\"string\"}", "1", ".: type string, got number 1");
	check("{\"type\":\"number\"}", "1.5", "");
	check("{\"type\":\"number\"}", "3", "");
	check("{\"type\":\"integer\"}", "3.0", "");
	check("{\"type\":\"integer\"}", "3.5", ".: type integer, got number 3.5");
	check("{\"type\":\"integer\"}", "\"3\"", ".: type integer, got string");
	check("{\"type\":\"boolean\"}", "false", "");
	check("{\"type\":\"boolean\"}", "null", ".: type boolean, got null");
	check("{\"type\":\"null\"}", "null", "");
	check("{\"type\":\"array\"}", "{}", ".: type array, got object");
	check("{\"type\":\"object\"}", "[]", ".: type object, got array");
	check("{\"type\":[\"number\",\"null\"]}", "null", "");
	check("{\"type\":[\"number\",\"null\"]}", "2", "");
	check("{\"type\":[\"number\",\"null\"]}", "true",
	    ".: type number or null, got boolean");
	check("true", "[1]", "");
	check("false", "1", ".: schema false, got 1");
	check("{}", "{\"a\":[1,{}]}", "");
}

static void
test_objects(void)
{
	const char *s = "{\"type\":\"object\",\"required\":[\"asin\",\"date\"],"
	    "\"properties\":{\"asin\":{\"type\":\"string\"},"
	    "\"price\":{\"type\":\"number\",\"minimum\":0},"
	    "\"odd key\":{\"type\":\"string\"},"
	    "\"dims\":{\"type\":\"object\",\"properties\":"
	    "{\"w\":{\"type\":\"number\"}}}}}";

	check(s, "{\"asin\":\"A\",\"date\":\"d\"}", "");
	check(s, "{\"date\":\"d\"}", ".asin: required, missing");
	check(s, "{\"asin\":null,\"date\":\"d\"}",
	    ".asin: type string, got null");
	check(s, "{\"asin\":\"A\",\"date\":\"d\",\"price\":-1}",
	    ".price: minimum 0, got -1");
	check(s, "{\"asin\":\"A\",\"date\":\"d\",\"odd key\":1}",
	    ".[\"odd key\"]: type string, got number 1");
	check(s, "{\"asin\":\"A\",\"date\":\"d\",\"dims\":{\"w\":\"x\"}}",
	    ".dims.w: type number, got string");
	/* Required first, then properties, in schema order. */
	check_all(s, "{\"price\":-2,\"asin\":5}", 1,
	    ".date: required, missing; .asin: type string, got number 5; "
	    ".price: minimum 0, got -2");
}

static void
test_objects_all(void)
{
	const char *s = "{\"required\":[\"a\",\"b\"],\"properties\":"
	    "{\"a\":{\"type\":\"string\"},\"p\":{\"minimum\":0}}}";

	check_all(s, "{\"p\":-2,\"a\":5}", 1,
	    ".b: required, missing; .a: type string, got number 5; "
	    ".p: minimum 0, got -2");
	check_all(s, "{\"a\":5,\"p\":-2}", 1,
	    ".b: required, missing; .a: type string, got number 5; "
	    ".p: minimum 0, got -2");
	check_all(s, "{\"p\":-2,\"a\":5}", 0, ".b: required, missing");
	check_all(s, "{\"a\":\"x\",\"b\":1}", 1, "");
}

static void
test_additional(void)
{
	const char *f = "{\"properties\":{\"a\":{}},"
	    "\"additionalProperties\":false}";
	const char *t = "{\"properties\":{\"a\":{}},"
	    "\"additionalProperties\":{\"type\":\"integer\"}}";

	check(f, "{\"a\":1}", "");
	check(f, "{\"a\":1,\"b\":\"x\"}",
	    ".b: additionalProperties false, got \"x\"");
	check(f, "{\"b\":{\"c\":1}}",
	    ".b: additionalProperties false, got object");
	check_all(f, "{\"z\":1,\"a\":1,\"y\":2}", 1,
	    ".z: additionalProperties false, got 1; "
	    ".y: additionalProperties false, got 2");
	check(t, "{\"a\":\"s\",\"b\":2}", "");
	check_all("{\"properties\":{\"a\":{\"type\":\"string\"}},"
	    "\"additionalProperties\":false}", "{\"z\":1,\"a\":2,\"y\":3}", 1,
	    ".a: type string, got number 2; "
	    ".z: additionalProperties false, got 1; "
	    ".y: additionalProperties false, got 3");
	check(t, "{\"a\":\"s\",\"b\":2.5}", ".b: type integer, got number 2.5");
	check("{\"additionalProperties\":true}", "{\"q\":1}", "");
}

static void
test_enum_const(void)
{
	check("{\"enum\":[\"US\",\"GB\",null]}", "\"GB\"", "");
	check("{\"enum\":[\"US\",\"GB\",null]}", "null", "");
	check("{\"enum\":[\"US\",\"GB\",null]}", "\"XX\"",
	    ".: enum [\"US\",\"GB\",null], got \"XX\"");
	check("{\"enum\":[1,[1,2],{\"a\":1}]}", "{\"a\":1}", "");
	check("{\"enum\":[1,[1,2],{\"a\":1}]}", "1.0", "");
	check("{\"enum\":[1,[1,2],{\"a\":1}]}", "[2,1]",
	    ".: enum [1,[1,2],{\"a\":1}], got array");
	check("{\"enum\":[\"aaaaaaaaaaaaaaaaaaaa\",\"bbbbbbbbbbbbbbbbbbbb\","
	    "\"cccccccccccccccccccc\"]}", "\"d\"",
	    ".: enum [\"aaaaaaaaaaaaaaaaaaaa\",\"bbbbbbbbbbbbbbbbbbbb\","
	    "\"ccccccccc..., got \"d\"");
	check("{\"const\":\"keepa\"}", "\"keepa\"", "");
	check("{\"const\":\"keepa\"}", "\"spapi\"",
	    ".: const \"keepa\", got \"spapi\"");
	check("{\"const\":false}", "0", ".: const false, got 0");
}

static void
test_numbers(void)
{
	check("{\"minimum\":0}", "0", "");
	check("{\"minimum\":0}", "-0.5", ".: minimum 0, got -0.5");
	check("{\"exclusiveMinimum\":0}", "0", ".: exclusiveMinimum 0, got 0");
	check("{\"exclusiveMinimum\":0}", "1e-300", "");
	check("{\"maximum\":5}", "5", "");
	check("{\"maximum\":5}", "5.01", ".: maximum 5, got 5.01");
	check("{\"exclusiveMaximum\":5}", "5", ".: exclusiveMaximum 5, got 5");
	check("{\"exclusiveMaximum\":1e300}", "1e308",
	    ".: exclusiveMaximum 1e+300, got 1e+308");
	/* Number keywords do not apply to other types. */
	check("{\"minimum\":0}", "\"-1\"", "");
	/* libjq 1.6 reads NaN: no type admits it and it fails every bound;
	 * a number beyond the double range is out of range, as in records. */
	check("{\"type\":\"number\"}", "NaN", ".: type number, got number NaN");
	check("{\"type\":\"number\"}", "-1e999",
	    ".: number is out of range");
	check("{\"maximum\":1}", "nan", ".: maximum 1, got NaN");
	check("{\"exclusiveMinimum\":1}", "NaN",
	    ".: exclusiveMinimum 1, got NaN");
	check_all("{\"minimum\":10,\"maximum\":0}", "5", 1,
	    ".: minimum 10, got 5");
}

static void
test_strings(void)
{
	check("{\"minLength\":2}", "\"ab\"", "");
	check("{\"minLength\":2}", "\"a\"", ".: minLength 2, got length 1");
	check("{\"maxLength\":3}", "\"abcd\"", ".: maxLength 3, got length 4");
	/* Code points, not bytes: four characters, eleven bytes. */
	check("{\"maxLength\":4}", "\"\\u00e9t\\u00e9\\u3042\"", "");
	check("{\"maxLength\":3}", "\"\\u00e9t\\u00e9\\u3042\"",
	    ".: maxLength 3, got length 4");
	check("{\"maxLength\":1}", "\"\\ud83d\\ude00\"", "");
	check("{\"minLength\":1}", "5", "");
	check_all("{\"minLength\":5,\"pattern\":\"^b\"}", "\"abc\"", 1,
	    ".: minLength 5, got length 3; .: pattern ^b, got \"abc\"");
	/* Long strings are cut in messages. */
	check("{\"const\":1}",
	    "\"0123456789012345678901234567890123456789xyz\"",
	    ".: const 1, got \"0123456789012345678901234567890123456789\"...");
	check("{\"const\":1}", "\"a\\nb\\u0000\"",
	    ".: const 1, got \"a\\nb\\u0000\"");
}

/* Escaped members read the same through the record API and the tree. */
static void
test_escapes(void)
{
	const char *s = "{\"properties\":{\"t\":{\"maxLength\":3,"
	    "\"pattern\":\"^[^a]+$\"},\"n\":{\"type\":\"integer\","
	    "\"maximum\":1e3}}}";

	check(s, "{\"t\":\"\\u00e9\\\"\\\\\"}", "");
	check(s, "{\"t\":\"\\u00e9\\\"\\\\x\"}",
	    ".t: maxLength 3, got length 4");
	check(s, "{\"t\":\"\\u0061\"}", ".t: pattern ^[^a]+$, got \"a\"");
	check(s, "{\"t\":\"\\u0000\\ud83d\\ude00\"}", "");
	check(s, "{\"n\":-0.0}", "");
	check(s, "{\"n\":1E3}", "");
	check(s, "{\"n\":1000.5}", ".n: type integer, got number 1000.5");
	check(s, "{\"n\":1e1000}", ".n: number is out of range");
	check(s, "{\"n\":1001}", ".n: maximum 1000, got 1001");
	check(s, "{\"t\":\"b\",\"t\":\"a\"}", ".t: pattern ^[^a]+$, got \"a\"");
}

static void
test_patterns(void)
{
	const char *asin = "{\"pattern\":\"^[A-Z0-9]{10}$\"}";

	check(asin, "\"B000000001\"", "");
	check(asin, "\"B00000001\"",
	    ".: pattern ^[A-Z0-9]{10}$, got \"B00000001\"");
	check(asin, "\"b000000001\"",
	    ".: pattern ^[A-Z0-9]{10}$, got \"b000000001\"");
	/* Unanchored, as in ECMA-262. */
	check("{\"pattern\":\"ab\"}", "\"xxabyy\"", "");
	check("{\"pattern\":\"^\\\\d{4}-\\\\d\\\\d$\"}", "\"2024-01\"", "");
	check("{\"pattern\":\"^\\\\d+$\"}", "\"12a\"",
	    ".: pattern ^\\d+$, got \"12a\"");
	check("{\"pattern\":\"^\\\\D\\\\W\\\\S\\\\s\\\\w$\"}", "\"a!x _\"", "");
	check("{\"pattern\":\"^[\\\\w-]+$\"}", "\"a-b_c9\"", "");
	check("{\"pattern\":\"^[\\\\w-]+$\"}", "\"a b\"",
	    ".: pattern ^[\\w-]+$, got \"a b\"");
	/* Characters that are special in POSIX brackets. */
	check("{\"pattern\":\"^[\\\\]\\\\[^-]+$\"}", "\"]^[-\"", "");
	check("{\"pattern\":\"^[\\\\]\\\\[^-]+$\"}", "\"a\"",
	    ".: pattern ^[\\]\\[^-]+$, got \"a\"");
	check("{\"pattern\":\"^[^\\\\]]$\"}", "\"a\"", "");
	check("{\"pattern\":\"^[^\\\\]]$\"}", "\"]\"",
	    ".: pattern ^[^\\]]$, got \"]\"");
	check("{\"pattern\":\"^[\\\\^]$\"}", "\"^\"", "");
	check("{\"pattern\":\"^[[:]+$\"}", "\"[:[\"", "");
	/* Escaped punctuation, non-capturing groups, lazy quantifiers. */
	check("{\"pattern\":\"^\\\\.\\\\$\\\\(\\\\)\\\\/\\\\{$\"}", "\".$()/{\"",
	    "");
	check("{\"pattern\":\"^(?:ab)+?c$\"}", "\"ababc\"", "");
	check("{\"pattern\":\"^a{2,}?$\"}", "\"aaa\"", "");
	check("{\"pattern\":\"^a{x}$\"}", "\"a{x}\"", "");
	check("{\"pattern\":\"^(US|GB)$\"}", "\"DE\"",
	    ".: pattern ^(US|GB)$, got \"DE\"");
	/* Escapes for characters. */
	check("{\"pattern\":\"^\\\\x41\\\\u00e9\\\\t$\"}", "\"A\\u00e9\\t\"",
	    "");
	check("{\"pattern\":\"^\\\\ud83d\\\\ude00$\"}", "\"\\ud83d\\ude00\"", "");
	check("{\"pattern\":\"^caf\\u00e9$\"}", "\"caf\\u00e9\"", "");
	/* Dot: any character but a line end; NUL inside a string is fine. */
	check("{\"pattern\":\"^a.c$\"}", "\"a\\u0000c\"", "");
	check("{\"pattern\":\"^a.c$\"}", "\"a\\nc\"",
	    ".: pattern ^a.c$, got \"a\\nc\"");
	check("{\"pattern\":\"^a$\"}", "\"a\\u0000\"",
	    ".: pattern ^a$, got \"a\\u0000\"");
	check("{\"pattern\":\"x\"}", "1", "");
}

static void
test_formats(void)
{
	const char *d = "{\"format\":\"date\"}";
	const char *t = "{\"format\":\"date-time\"}";

	check(d, "\"2024-02-29\"", "");
	check(d, "\"2000-02-29\"", "");
	check(d, "\"2023-02-29\"", ".: format date, got \"2023-02-29\"");
	check(d, "\"1900-02-29\"", ".: format date, got \"1900-02-29\"");
	check(d, "\"2024-04-31\"", ".: format date, got \"2024-04-31\"");
	check(d, "\"2024-12-31\"", "");
	check(d, "\"2024-13-01\"", ".: format date, got \"2024-13-01\"");
	check(d, "\"2024-00-10\"", ".: format date, got \"2024-00-10\"");
	check(d, "\"2024-01-00\"", ".: format date, got \"2024-01-00\"");
	check(d, "\"2024-1-01\"", ".: format date, got \"2024-1-01\"");
	check(d, "\"2024-01-01T00:00:00Z\"",
	    ".: format date, got \"2024-01-01T00:00:00Z\"");
	check(d, "\"\"", ".: format date, got \"\"");
	check(d, "17", "");
	check(t, "\"2024-01-01T12:30:59Z\"", "");
	check(t, "\"2024-01-01t12:30:59z\"", "");
	check(t, "\"2024-01-01T12:30:59.123456Z\"", "");
	check(t, "\"2024-01-01T12:30:59+05:30\"", "");
	check(t, "\"2024-01-01T12:30:59-00:00\"", "");
	check(t, "\"2016-12-31T23:59:60Z\"", "");
	check(t, "\"2016-12-31T18:59:60-05:00\"", "");
	check(t, "\"2017-01-01T00:59:60.5+01:00\"", "");
	check(t, "\"2016-12-31T23:58:60Z\"",
	    ".: format date-time, got \"2016-12-31T23:58:60Z\"");
	check(t, "\"2016-12-31T23:59:60+01:00\"",
	    ".: format date-time, got \"2016-12-31T23:59:60+01:00\"");
	check(t, "\"2016-12-31T23:59:61Z\"",
	    ".: format date-time, got \"2016-12-31T23:59:61Z\"");
	check(t, "\"2024-01-01 12:30:59Z\"",
	    ".: format date-time, got \"2024-01-01 12:30:59Z\"");
	check(t, "\"2024-01-01T24:00:00Z\"",
	    ".: format date-time, got \"2024-01-01T24:00:00Z\"");
	check(t, "\"2024-01-01T12:60:00Z\"",
	    ".: format date-time, got \"2024-01-01T12:60:00Z\"");
	check(t, "\"2024-01-01T12:30:59\"",
	    ".: format date-time, got \"2024-01-01T12:30:59\"");
	check(t, "\"2024-01-01T12:30:59.Z\"",
	    ".: format date-time, got \"2024-01-01T12:30:59.Z\"");
	check(t, "\"2024-01-01T12:30:59+0530\"",
	    ".: format date-time, got \"2024-01-01T12:30:59+0530\"");
	check(t, "\"2024-01-01T12:30:59+24:00\"",
	    ".: format date-time, got \"2024-01-01T12:30:59+24:00\"");
	check(t, "\"2023-02-29T00:00:00Z\"",
	    ".: format date-time, got \"2023-02-29T00:00:00Z\"");
}

static void
test_arrays(void)
{
	const char *s = "{\"type\":\"array\",\"minItems\":1,\"maxItems\":3,"
	    "\"items\":{\"type\":\"object\",\"required\":[\"t\"],"
	    "\"properties\":{\"t\":{\"type\":\"integer\"}}}}";

	check(s, "[{\"t\":1},{\"t\":2}]", "");
	check(s, "[]", ".: minItems 1, got 0 items");
	check(s, "[{\"t\":1},{\"t\":1},{\"t\":1},{\"t\":1}]",
	    ".: maxItems 3, got 4 items");
	check(s, "[{\"t\":1},{\"t\":\"x\"}]", ".[1].t: type integer, got string");
	check(s, "[{\"t\":1},{}]", ".[1].t: required, missing");
	check("{\"properties\":{\"ev\":{\"items\":{\"items\":"
	    "{\"minimum\":0}}}}}", "{\"ev\":[[1],[2,-3]]}",
	    ".ev[1][1]: minimum 0, got -3");
	check_all("{\"items\":{\"type\":\"string\"}}", "[1,\"a\",null]", 1,
	    ".[0]: type string, got number 1; .[2]: type string, got null");
}

static void
test_compile_errors(void)
{
	compile_err("{\"type\":\"float\"}", ".type: unknown type \"float\"");
	compile_err("{\"type\":[]}", ".type: empty list of types");
	compile_err("{\"type\":[\"null\",\"null\"]}",
	    ".type: type \"null\" given twice");
	compile_err("{\"type\":5}", ".type: expected a type name, got number");
	compile_err("{\"multipleOf\":2}", ".: unsupported keyword \"multipleOf\"");
	compile_err("{\"properties\":{\"a\":{\"$ref\":\"#/x\"}}}",
	    ".properties.a: unsupported keyword \"$ref\"");
	compile_err("{\"properties\":{\"odd key\":{\"requried\":[]}}}",
	    ".properties[\"odd key\"]: unsupported keyword \"requried\"");
	compile_err("{\"items\":{\"anyOf\":[]}}",
	    ".items: unsupported keyword \"anyOf\"");
	compile_err("{\"items\":[{}]}",
	    ".items: the array (tuple) form is not supported");
	compile_err("{\"additionalProperties\":1}",
	    ".additionalProperties: expected a schema (object or boolean), "
	    "got number");
	compile_err("{\"required\":\"a\"}",
	    ".required: expected an array of names, got string");
	compile_err("{\"required\":[\"a\",1]}",
	    ".required: expected an array of names, got number at [1]");
	compile_err("{\"properties\":[]}",
	    ".properties: expected an object, got array");
	compile_err("{\"minimum\":\"0\"}",
	    ".minimum: expected a number, got string");
	compile_err("{\"exclusiveMinimum\":true}",
	    ".exclusiveMinimum: expected a number (the draft-4 boolean form "
	    "is not supported)");
	compile_err("{\"minLength\":-1}",
	    ".minLength: expected a non-negative integer");
	compile_err("{\"maxItems\":1.5}",
	    ".maxItems: expected a non-negative integer");
	compile_err("{\"format\":\"email\"}",
	    ".format: unsupported format \"email\"");
	compile_err("{\"enum\":\"US\"}", ".enum: expected an array, got string");
	compile_err("[]", ".: expected a schema (object or boolean), got array");
	compile_err("{\"pattern\":1}", ".pattern: expected a string, got number");
	compile_err("{\"pattern\":\"(?=a)\"}",
	    ".pattern: lookaround and named groups are not supported");
	compile_err("{\"pattern\":\"(?<n>a)\"}",
	    ".pattern: lookaround and named groups are not supported");
	compile_err("{\"pattern\":\"(a)\\\\1\"}",
	    ".pattern: backreferences are not supported");
	compile_err("{\"pattern\":\"\\\\bword\"}",
	    ".pattern: word boundaries (\\b, \\B) are not supported");
	compile_err("{\"pattern\":\"\\\\p{L}\"}", ".pattern: unsupported escape");
	compile_err("{\"pattern\":\"a\\\\\"}", ".pattern: trailing backslash");
	compile_err("{\"pattern\":\"[a-\"}",
	    ".pattern: unterminated bracket class");
	/* ECMA's [] matches nothing and [^] anything: POSIX reads both
	 * differently, so neither is accepted. */
	compile_err("{\"pattern\":\"[]\"}", ".pattern: empty bracket class");
	compile_err("{\"pattern\":\"^[^]]$\"}", ".pattern: empty bracket class");
	/* Found by tests/fuzz/schema.c: glibc copies a repeated atom per
	 * count, so these took gigabytes in regcomp(). */
	compile_err("{\"pattern\":\"\\\\d{2,}++++++++++++++++++++\"}",
	    ".pattern: nothing to repeat");
	compile_err("{\"pattern\":\"(a{1000}){1000}\"}",
	    ".pattern: pattern too large once its repeats are expanded");
	compile_err("{\"pattern\":\"*a\"}", ".pattern: nothing to repeat");
	compile_err("{\"pattern\":\"(|+)\"}", ".pattern: nothing to repeat");
	check("{\"pattern\":\"^(a{100}){100}$\"}", "\"a\"",
	    ".: pattern ^(a{100}){100}$, got \"a\"");
	compile_err("{\"pattern\":\"[z-a]\"}",
	    ".pattern: bad range in a bracket class");
	compile_err("{\"pattern\":\"[\\u00e9]\"}",
	    ".pattern: non-ASCII characters in a bracket class are not "
	    "supported");
	compile_err("{\"pattern\":\"\\\\u12\"}",
	    ".pattern: malformed \\x or \\u escape");
	compile_err("{\"pattern\":\"\\\\udc00\"}",
	    ".pattern: malformed \\x or \\u escape");
	compile_err("{\"pattern\":\"a\\u0000\"}", ".pattern: NUL in pattern");
	compile_err("{\"pattern\":\"(a\"}",
	    ".pattern: invalid regular expression: Unmatched ( or \\(");
	/* Annotations and x- extensions are ignored. */
	check("{\"title\":\"t\",\"description\":\"d\",\"$schema\":\"s\","
	    "\"$id\":\"i\",\"$comment\":\"c\",\"examples\":[1],"
	    "\"default\":1,\"x-unit\":\"cents\",\"$defs\":{\"q\":1}}",
	    "1", "");
}

/* --all-errors names 20 violations and counts the rest. */
static void
test_many(void)
{
	struct buf v, want;
	int i;

	buf_init(&v);
	buf_init(&want);
	buf_addc(&v, '[');
	for (i = 0; i < 25; i++) {
		buf_printf(&v, "%s%d", i ? "," : "", -i - 1);
		if (i < 20)
			buf_printf(&want, "%s.[%d]: minimum 0, got %d",
			    i ? "; " : "", i, -i - 1);
	}
	buf_addc(&v, ']');
	buf_adds(&want, "; and 5 more");
	check_all("{\"items\":{\"minimum\":0}}", v.data, 1, want.data);
	buf_free(&v);
	buf_free(&want);
}

static void
test_deep(void)
{
	struct buf b, want;
	int i;

	buf_init(&b);
	buf_init(&want);
	for (i = 0; i < 65; i++)
		buf_adds(&want, ".items");
	buf_adds(&want, ": schema nested deeper than 64 levels");
	for (i = 0; i < 65; i++)
		buf_adds(&b, "{\"items\":");
	buf_adds(&b, "{}");
	for (i = 0; i < 65; i++)
		buf_addc(&b, '}');
	compile_err(b.data, want.data);
	buf_free(&b);
	buf_free(&want);
}

int
main(void)
{
	test_types();
	test_objects();
	test_objects_all();
	test_additional();
	test_enum_const();
	test_numbers();
	test_strings();
	test_escapes();
	test_patterns();
	test_formats();
	test_arrays();
	test_compile_errors();
	test_many();
	test_deep();
	return tap_done();
}
