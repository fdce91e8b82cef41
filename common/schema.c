/*
 * schema.c - the JSON Schema subset that record contracts need, compiled
 * once into a tree of nodes and checked against jv values, or against a
 * record through the record API so that most records never become a jv.
 *
 * Supported keywords: type (one name or an array of names; "integer" is
 * a number with no fraction), required, properties, additionalProperties
 * (boolean or schema), enum, const, minimum, maximum, exclusiveMinimum,
 * exclusiveMaximum (the numeric draft-6 form), minLength and maxLength
 * (in Unicode code points), pattern, format ("date" and "date-time"),
 * items (one schema for every element), minItems, maxItems.  Boolean
 * schemas (true, false) are accepted wherever a schema is.
 *
 * Annotations are ignored: title, description, $schema, $id, $comment,
 * examples, default, readOnly, writeOnly, deprecated, $defs, definitions,
 * and any keyword starting with "x-".  Every other keyword is an error at
 * load time, because a keyword silently skipped (a typo, or $ref, anyOf,
 * multipleOf, ...) would make the contract weaker than it reads.
 *
 * Patterns are ECMA-262 in JSON Schema; they are translated to a POSIX
 * extended regular expression and matched bytewise (the tools run in
 * the C locale).  What translates: literals, . ^ $ | ( ) (?: ), the
 * quantifiers * + ? {n} {n,} {n,m} and their lazy forms (the lazy form
 * matches the same strings), bracket classes of ASCII characters and
 * ranges, and the escapes \d \D \w \W \s \S \t \n \r \f \v \xHH \uHHHH
 * and \ before punctuation.  Rejected at load time: backreferences,
 * lookaround, named groups, \b \B, \p{..}, non-ASCII characters inside a
 * bracket class, a quantifier with nothing to repeat (ECMA's syntax
 * error, a+* too), groups nested deeper than 100, and counted repeats
 * that expand past 100000 atoms.  Outside a class, a non-ASCII character matches its
 * UTF-8 bytes; . and a negated class match one byte, so counted repeats
 * of them count bytes for non-ASCII text.  Like ECMA, a pattern is not
 * anchored unless it says ^ or $.
 *
 * A violation reads "<jq path>: <keyword> <its value>, got <what>"; the
 * order of checks is fixed (see check_node and check_object), so the
 * same record and schema always give the same message.
 */
#include <errno.h>
#include <math.h>
#include <regex.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "schema.h"

#define SCHEMA_MAX_DEPTH 64	/* subschemas within subschemas */
#define SCHEMA_MAX_FILE (64u << 20)
#define SHOW_MAX 40		/* code points of a string shown in messages */
#define ENUM_SHOW_MAX 60	/* bytes of an enum list shown in messages */
#define SHOW_ALL_MAX 20		/* violations spelt out with all */

enum {
	T_NULL = 1 << 0,
	T_BOOLEAN = 1 << 1,
	T_INTEGER = 1 << 2,
	T_NUMBER = 1 << 3,
	T_STRING = 1 << 4,
	T_ARRAY = 1 << 5,
	T_OBJECT = 1 << 6
};

enum {
	HAS_MIN = 1 << 0,
	HAS_MAX = 1 << 1,
	HAS_XMIN = 1 << 2,
	HAS_XMAX = 1 << 3,
	HAS_CONST = 1 << 4,
	HAS_ENUM = 1 << 5,
	HAS_PATTERN = 1 << 6
};

enum {
	FMT_NONE,
	FMT_DATE,
	FMT_DATE_TIME
};

struct node;

/* A property name of "properties" or "required", with its jv twin. */
struct key {
	char *s;		/* may hold NUL bytes; len counts them */
	size_t len;
	jv j;
	struct node *schema;	/* NULL in required lists */
	struct rec_field *field;	/* the root's keys: for the record API */
};

struct node {
	int never;		/* the schema false */
	unsigned types;		/* T_* mask; 0 = any type */
	char *typedesc;		/* "number or null" for messages */
	unsigned has;
	double min, max, xmin, xmax;
	jv constv;
	jv enumv;
	char *enumdesc;
	long long minlen, maxlen, minitems, maxitems;	/* -1 = unset */
	char *pattern;		/* the ECMA source, for messages */
	regex_t re;
	int format;
	struct key *required;
	size_t nrequired;
	struct key *props;	/* schema order, for deterministic checks */
	size_t nprops;
	struct key **sorted;	/* props by name, for lookup */
	struct node *addl;	/* additionalProperties; NULL = anything */
	struct node *items;
	int leaf;		/* checkable from a scalar, without a jv */
};

struct schema {
	struct node *root;
	/* The root's members can be read through the record API (see
	 * schema_check_record): it is an object schema without enum, const
	 * or additionalProperties, which would need the whole tree. */
	int by_field;
};

/* ------------------------------------------------------------------ */
/* paths and values in messages                                         */
/* ------------------------------------------------------------------ */

static int
is_ident(const char *s, size_t n)
{
	size_t i;

	if (n == 0 || (s[0] >= '0' && s[0] <= '9'))
		return 0;
	for (i = 0; i < n; i++) {
		unsigned char c = s[i];

		if (!(c == '_' || (c >= 'a' && c <= 'z') ||
		    (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')))
			return 0;
	}
	return 1;
}

/* Append a key to a jq-style path: .name or ["odd key"]. */
static void
path_key(struct buf *p, const char *k, size_t n)
{
	if (is_ident(k, n)) {
		buf_addc(p, '.');
		buf_add(p, k, n);
		return;
	}
	if (p->len == 0)
		buf_addc(p, '.');
	buf_addc(p, '[');
	buf_add_jstr(p, k, n);
	buf_addc(p, ']');
}

/* Cut a path back to n bytes (a saved length). */
static void
path_trunc(struct buf *p, size_t n)
{
	p->len = n;
	if (p->data != NULL)
		p->data[n] = '\0';
}

static const char *
path_str(const struct buf *p)
{
	return p->len ? p->data : ".";
}

/* A number for a message; libjq 1.6 reads NaN and 1e999, so say so. */
static void
add_num(struct buf *b, double v)
{
	char tmp[40];

	if (isnan(v))
		buf_adds(b, "NaN");
	else if (isinf(v))
		buf_adds(b, v > 0 ? "Infinity" : "-Infinity");
	else
		buf_add(b, tmp, fmt_double(tmp, v));
}

/* A string as a JSON literal, cut after SHOW_MAX code points. */
static void
add_shown_str(struct buf *b, const char *s, size_t n)
{
	size_t i, cps = 0;

	for (i = 0; i < n; i++) {
		if (((unsigned char)s[i] & 0xc0) != 0x80 && cps++ == SHOW_MAX)
			break;
	}
	buf_add_jstr(b, s, i);
	if (i < n)
		buf_adds(b, "...");
}

static const char *
kind_name(jv_kind k)
{
	switch (k) {
	case JV_KIND_NULL:
		return "null";
	case JV_KIND_TRUE:
	case JV_KIND_FALSE:
		return "boolean";
	case JV_KIND_NUMBER:
		return "number";
	case JV_KIND_STRING:
		return "string";
	case JV_KIND_ARRAY:
		return "array";
	case JV_KIND_OBJECT:
		return "object";
	default:
		return "invalid";
	}
}

/* A value (borrowed) for a message: scalars in full, containers by kind. */
static void
add_value(struct buf *b, jv v)
{
	switch (jv_get_kind(v)) {
	case JV_KIND_NUMBER:
		add_num(b, jv_number_value(v));
		break;
	case JV_KIND_STRING:
		add_shown_str(b, jv_string_value(v),
		    (size_t)jv_string_length_bytes(jv_copy(v)));
		break;
	case JV_KIND_TRUE:
		buf_adds(b, "true");
		break;
	case JV_KIND_FALSE:
		buf_adds(b, "false");
		break;
	default:
		buf_adds(b, kind_name(jv_get_kind(v)));
		break;
	}
}

/* ------------------------------------------------------------------ */
/* formats                                                              */
/* ------------------------------------------------------------------ */

/* Calendar dates and RFC 3339 date-times: date.c. */

/* ------------------------------------------------------------------ */
/* ECMA-262 pattern to POSIX ERE                                        */
/* ------------------------------------------------------------------ */

static void
ere_lit(struct buf *o, unsigned char c)
{
	if (c != '\0' && strchr(".[]\\()*+?{}|^$", c) != NULL)
		buf_addc(o, '\\');
	buf_addc(o, c);
}

static int
hexval(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* n hex digits at s (bounds checked by the caller) or -1. */
static long
hexn(const char *s, size_t avail, int n)
{
	long v = 0;
	int i, h;

	if (avail < (size_t)n)
		return -1;
	for (i = 0; i < n; i++) {
		if ((h = hexval((unsigned char)s[i])) < 0)
			return -1;
		v = v * 16 + h;
	}
	return v;
}

static size_t
utf8_encode(unsigned char *d, long cp)
{
	if (cp < 0x80) {
		d[0] = cp;
		return 1;
	}
	if (cp < 0x800) {
		d[0] = 0xc0 | (cp >> 6);
		d[1] = 0x80 | (cp & 0x3f);
		return 2;
	}
	if (cp < 0x10000) {
		d[0] = 0xe0 | (cp >> 12);
		d[1] = 0x80 | ((cp >> 6) & 0x3f);
		d[2] = 0x80 | (cp & 0x3f);
		return 3;
	}
	d[0] = 0xf0 | (cp >> 18);
	d[1] = 0x80 | ((cp >> 12) & 0x3f);
	d[2] = 0x80 | ((cp >> 6) & 0x3f);
	d[3] = 0x80 | (cp & 0x3f);
	return 4;
}

/*
 * The code point of a \x or \u escape whose letter is at s[*i]; advances
 * *i past it.  A surrogate pair of two \u escapes is joined.  -1 when
 * malformed.
 */
static long
esc_codepoint(const char *s, size_t n, size_t *i)
{
	long cp, lo;

	if (s[*i] == 'x') {
		if ((cp = hexn(s + *i + 1, n - *i - 1, 2)) < 0)
			return -1;
		*i += 3;
		return cp;
	}
	if ((cp = hexn(s + *i + 1, n - *i - 1, 4)) < 0)
		return -1;
	*i += 5;
	if (cp >= 0xdc00 && cp <= 0xdfff)
		return -1;
	if (cp >= 0xd800 && cp <= 0xdbff) {
		if (*i + 1 >= n || s[*i] != '\\' || s[*i + 1] != 'u' ||
		    (lo = hexn(s + *i + 2, n - *i - 2, 4)) < 0xdc00 ||
		    lo > 0xdfff)
			return -1;
		*i += 6;
		cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
	}
	return cp;
}

/* A 128-bit set of ASCII bytes, for bracket classes. */
struct cset {
	unsigned char in[128];
};

static void
cset_range(struct cset *cs, int lo, int hi)
{
	for (; lo <= hi; lo++)
		cs->in[lo] = 1;
}

static void
cset_class(struct cset *cs, int letter)
{
	switch (letter) {
	case 'd':
		cset_range(cs, '0', '9');
		break;
	case 'w':
		cset_range(cs, '0', '9');
		cset_range(cs, 'A', 'Z');
		cset_range(cs, 'a', 'z');
		cs->in['_'] = 1;
		break;
	case 's':
		cset_range(cs, '\t', '\r');
		cs->in[' '] = 1;
		break;
	}
}

/*
 * Emit a set as a POSIX bracket expression.  The characters with a
 * meaning inside brackets go where POSIX reads them literally: ] first,
 * [ ^ - last; runs of the others become ranges (C locale: byte order).
 */
static void
cset_emit(struct buf *o, const struct cset *cs, int neg)
{
	int c, end;

	buf_addc(o, '[');
	if (neg)
		buf_addc(o, '^');
	if (cs->in[']'])
		buf_addc(o, ']');
	for (c = 1; c < 128; c++) {
		if (!cs->in[c] || strchr("]^-[", c) != NULL)
			continue;
		for (end = c; end + 1 < 128 && cs->in[end + 1] &&
		    strchr("]^-[", end + 1) == NULL; end++)
			;
		buf_addc(o, c);
		if (end - c >= 2)
			buf_addc(o, '-');
		if (end - c >= 1)
			buf_addc(o, end);
		c = end;
	}
	if (cs->in['['])
		buf_addc(o, '[');
	if (cs->in['^'])
		buf_addc(o, '^');
	if (cs->in['-'])
		buf_addc(o, '-');
	buf_addc(o, ']');
}

/*
 * One member of a bracket class at s[*i]: returns its byte and advances,
 * or returns -2 after adding a class escape (\d \w \s) to cs, or -1 with
 * *why set.
 */
static int
class_atom(const char *s, size_t n, size_t *i, struct cset *cs,
    const char **why)
{
	unsigned char c = s[*i];
	long cp;

	if (c != '\\') {
		if (c >= 0x80 || c == '\0') {
			*why = "non-ASCII characters in a bracket class are "
			    "not supported";
			return -1;
		}
		(*i)++;
		return c;
	}
	if (*i + 1 >= n) {
		*why = "trailing backslash";
		return -1;
	}
	c = s[++*i];
	switch (c) {
	case 'd':
	case 'w':
	case 's':
		cset_class(cs, c);
		(*i)++;
		return -2;
	case 't':
		(*i)++;
		return '\t';
	case 'n':
		(*i)++;
		return '\n';
	case 'r':
		(*i)++;
		return '\r';
	case 'f':
		(*i)++;
		return '\f';
	case 'v':
		(*i)++;
		return '\v';
	case 'b':
		(*i)++;
		return '\b';
	case 'x':
	case 'u':
		cp = esc_codepoint(s, n, i);
		if (cp < 0) {
			*why = "malformed \\x or \\u escape";
			return -1;
		}
		if (cp == 0 || cp >= 0x80) {
			*why = "non-ASCII characters in a bracket class are "
			    "not supported";
			return -1;
		}
		return (int)cp;
	}
	if (c < 0x80 && c > ' ' && !(c >= '0' && c <= '9') &&
	    !(c >= 'a' && c <= 'z') && !(c >= 'A' && c <= 'Z')) {
		(*i)++;
		return c;
	}
	*why = "unsupported escape in a bracket class";
	return -1;
}

/* A bracket class starting at s[*i] == '['. */
static int
ere_class(struct buf *o, const char *s, size_t n, size_t *i,
    const char **why)
{
	struct cset cs;
	int neg = 0, lo, hi, any = 0;

	memset(&cs, 0, sizeof(cs));
	(*i)++;
	if (*i < n && s[*i] == '^') {
		neg = 1;
		(*i)++;
	}
	for (;;) {
		if (*i >= n) {
			*why = "unterminated bracket class";
			return -1;
		}
		if (s[*i] == ']')
			break;
		if ((lo = class_atom(s, n, i, &cs, why)) == -1)
			return -1;
		any = 1;
		if (lo == -2)
			continue;
		if (*i + 1 < n && s[*i] == '-' && s[*i + 1] != ']') {
			(*i)++;
			if ((hi = class_atom(s, n, i, &cs, why)) == -1)
				return -1;
			if (hi == -2 || hi < lo) {
				*why = "bad range in a bracket class";
				return -1;
			}
			cset_range(&cs, lo, hi);
		} else
			cs.in[lo] = 1;
	}
	(*i)++;
	if (!any) {
		*why = "empty bracket class";
		return -1;
	}
	if (!neg && cs.in['^']) {
		int c, only = 1;

		for (c = 0; c < 128; c++)
			if (cs.in[c] && c != '^')
				only = 0;
		if (only) {
			buf_adds(o, "\\^");
			return 0;
		}
	}
	cset_emit(o, &cs, neg);
	return 0;
}

/* A valid {n}, {n,} or {n,m} at s[i]: its length, else 0. */
static size_t
brace_quant(const char *s, size_t n, size_t i)
{
	size_t j = i + 1, d;

	for (d = 0; j < n && s[j] >= '0' && s[j] <= '9'; j++, d++)
		;
	if (d == 0)
		return 0;
	if (j < n && s[j] == ',')
		for (j++; j < n && s[j] >= '0' && s[j] <= '9'; j++)
			;
	if (j < n && s[j] == '}')
		return j - i + 1;
	return 0;
}

/*
 * The size of a pattern once regcomp() has expanded its counted repeats:
 * glibc copies the repeated atom for each count, so (a{1000}){1000} or
 * quantifiers piled on one another (a+++, accepted by ERE, a syntax error
 * in ECMA) would take gigabytes to compile.  Atoms are counted per open
 * group; a quantifier multiplies the last atom.
 */
#define PAT_MAX_ATOMS 100000
#define PAT_MAX_DEPTH 100

struct pat_size {
	size_t sum[PAT_MAX_DEPTH + 1];	/* atoms in each open group */
	size_t depth;
	size_t last;		/* atoms of the last atom; 0: nothing to repeat */
};

static int
pat_atom(struct pat_size *ps, size_t atoms, const char **why)
{
	ps->sum[ps->depth] += atoms;
	ps->last = atoms;
	if (ps->sum[ps->depth] > PAT_MAX_ATOMS) {
		*why = "pattern too large once its repeats are expanded";
		return -1;
	}
	return 0;
}

/* A quantifier allowing up to times copies (0 for *, + and ?). */
static int
pat_quant(struct pat_size *ps, size_t times, const char **why)
{
	size_t last = ps->last;

	if (last == 0) {
		*why = "nothing to repeat";
		return -1;
	}
	if (times > 1 && last > PAT_MAX_ATOMS / times) {
		*why = "pattern too large once its repeats are expanded";
		return -1;
	}
	ps->sum[ps->depth] -= last;
	if (pat_atom(ps, times > 1 ? last * times : last * 2, why) < 0)
		return -1;
	ps->last = 0;	/* a quantifier is not repeated again */
	return 0;
}

/* The largest count of a valid {n}, {n,} or {n,m} (capped). */
static size_t
brace_max(const char *s, size_t q)
{
	size_t v = 0, best = 0, j;

	for (j = 1; j < q; j++) {
		if (s[j] >= '0' && s[j] <= '9') {
			v = v * 10 + (size_t)(s[j] - '0');
			if (v > PAT_MAX_ATOMS)
				v = PAT_MAX_ATOMS + 1;
		} else
			v = 0;
		if (v > best)
			best = v;
	}
	/* {n,} is n copies and a star */
	return best + 1;
}

/* Translate an ECMA-262 pattern; NULL with *why when not in the subset. */
static char *
ecma_to_ere(const char *s, size_t n, const char **why)
{
	struct buf o;
	struct pat_size ps;
	size_t i = 0, q;
	unsigned char c, u8[4];
	long cp;
	size_t k, m;

	buf_init(&o);
	memset(&ps, 0, sizeof(ps));
	while (i < n) {
		c = s[i];
		switch (c) {
		case '\0':
			*why = "NUL in pattern";
			goto fail;
		case '[':
			if (ere_class(&o, s, n, &i, why) < 0 ||
			    pat_atom(&ps, 1, why) < 0)
				goto fail;
			continue;
		case '(':
			if (ps.depth == PAT_MAX_DEPTH) {
				*why = "groups nest too deep";
				goto fail;
			}
			ps.sum[++ps.depth] = 0;
			ps.last = 0;
			if (i + 1 < n && s[i + 1] == '?') {
				if (i + 2 < n && s[i + 2] == ':') {
					buf_addc(&o, '(');
					i += 3;
					continue;
				}
				*why = "lookaround and named groups are not "
				    "supported";
				goto fail;
			}
			buf_addc(&o, '(');
			i++;
			continue;
		case '.':
			/* ECMA's dot stops at line ends; POSIX's at NUL. */
			buf_adds(&o, "[^\n\r]");
			if (pat_atom(&ps, 1, why) < 0)
				goto fail;
			i++;
			continue;
		case '*':
		case '+':
		case '?':
			if (pat_quant(&ps, 0, why) < 0)
				goto fail;
			buf_addc(&o, c);
			i++;
			goto lazy;
		case '{':
			if ((q = brace_quant(s, n, i)) == 0) {
				ere_lit(&o, c);
				if (pat_atom(&ps, 1, why) < 0)
					goto fail;
				i++;
				continue;
			}
			if (pat_quant(&ps, brace_max(s + i, q), why) < 0)
				goto fail;
			buf_add(&o, s + i, q);
			i += q;
			goto lazy;
		case ')':
			if (ps.depth > 0) {
				ps.depth--;
				if (pat_atom(&ps, ps.sum[ps.depth + 1] + 1,
				    why) < 0)
					goto fail;
			}
			buf_addc(&o, c);
			i++;
			continue;
		case '^':
		case '$':
		case '|':
			ps.last = 0;
			buf_addc(&o, c);
			i++;
			continue;
		case '\\':
			break;
		default:
			ere_lit(&o, c);
			if (pat_atom(&ps, 1, why) < 0)
				goto fail;
			i++;
			continue;
		}
		if (pat_atom(&ps, 1, why) < 0)
			goto fail;
		/* An escape outside a class. */
		if (i + 1 >= n) {
			*why = "trailing backslash";
			goto fail;
		}
		c = s[++i];
		switch (c) {
		case 'd':
			buf_adds(&o, "[0-9]");
			break;
		case 'D':
			buf_adds(&o, "[^0-9]");
			break;
		case 'w':
			buf_adds(&o, "[0-9A-Z_a-z]");
			break;
		case 'W':
			buf_adds(&o, "[^0-9A-Z_a-z]");
			break;
		case 's':
			buf_adds(&o, "[\t\n\v\f\r ]");
			break;
		case 'S':
			buf_adds(&o, "[^\t\n\v\f\r ]");
			break;
		case 't':
			buf_addc(&o, '\t');
			break;
		case 'n':
			buf_addc(&o, '\n');
			break;
		case 'r':
			buf_addc(&o, '\r');
			break;
		case 'f':
			buf_addc(&o, '\f');
			break;
		case 'v':
			buf_addc(&o, '\v');
			break;
		case 'x':
		case 'u':
			if ((cp = esc_codepoint(s, n, &i)) < 0) {
				*why = "malformed \\x or \\u escape";
				goto fail;
			}
			if (cp == 0) {
				*why = "NUL in pattern";
				goto fail;
			}
			m = utf8_encode(u8, cp);
			for (k = 0; k < m; k++)
				ere_lit(&o, u8[k]);
			continue;
		case 'b':
		case 'B':
			*why = "word boundaries (\\b, \\B) are not supported";
			goto fail;
		default:
			if (c >= '1' && c <= '9') {
				*why = "backreferences are not supported";
				goto fail;
			}
			if (c < 0x80 && c > ' ' && !(c >= '0' && c <= '9') &&
			    !(c >= 'a' && c <= 'z') &&
			    !(c >= 'A' && c <= 'Z')) {
				ere_lit(&o, c);
				break;
			}
			*why = "unsupported escape";
			goto fail;
		}
		i++;
		continue;
lazy:
		/* A lazy quantifier accepts the same strings as a greedy one. */
		if (i < n && s[i] == '?')
			i++;
	}
	return o.data ? o.data : xstrdup("");
fail:
	buf_free(&o);
	return NULL;
}

/* ------------------------------------------------------------------ */
/* compiling                                                            */
/* ------------------------------------------------------------------ */

struct comp {
	struct buf path;	/* the schema path of the current node */
	char *err;
};

static void comp_fail(struct comp *, const char *kw, const char *fmt, ...)
    ASIN_PRINTF(3, 4);

/* Record the first compile error at path (plus keyword kw, if any). */
static void
comp_fail(struct comp *c, const char *kw, const char *fmt, ...)
{
	struct buf b;
	size_t save = c->path.len;
	va_list ap;
	char *m;

	if (c->err != NULL)
		return;
	if (kw != NULL)
		path_key(&c->path, kw, strlen(kw));
	buf_init(&b);
	buf_adds(&b, path_str(&c->path));
	buf_adds(&b, ": ");
	va_start(ap, fmt);
	if (vasprintf(&m, fmt, ap) < 0)
		die("out of memory");
	va_end(ap);
	buf_adds(&b, m);
	free(m);
	c->err = b.data;
	path_trunc(&c->path, save);
}

static void node_free(struct node *);
static struct node *compile_node(struct comp *, jv s, int depth);

static int
keycmp(const char *a, size_t alen, const char *b, size_t blen)
{
	int r = memcmp(a, b, alen < blen ? alen : blen);

	if (r != 0)
		return r;
	return alen < blen ? -1 : alen > blen;
}

static int
sort_keys(const void *a, const void *b)
{
	const struct key *x = *(struct key *const *)a;
	const struct key *y = *(struct key *const *)b;

	return keycmp(x->s, x->len, y->s, y->len);
}

static void
key_set(struct key *k, jv name)
{
	k->len = (size_t)jv_string_length_bytes(jv_copy(name));
	k->s = xmalloc(k->len + 1);
	memcpy(k->s, jv_string_value(name), k->len);
	k->s[k->len] = '\0';
	k->j = name;
	k->schema = NULL;
}

static const struct {
	const char *name;
	unsigned bit;
} type_names[] = {
	{ "null", T_NULL },
	{ "boolean", T_BOOLEAN },
	{ "integer", T_INTEGER },
	{ "number", T_NUMBER },
	{ "string", T_STRING },
	{ "array", T_ARRAY },
	{ "object", T_OBJECT },
};

static int
type_one(struct comp *c, struct node *nd, jv t, struct buf *desc)
{
	size_t i;

	if (jv_get_kind(t) != JV_KIND_STRING) {
		comp_fail(c, "type", "expected a type name, got %s",
		    kind_name(jv_get_kind(t)));
		return 0;
	}
	for (i = 0; i < sizeof(type_names) / sizeof(type_names[0]); i++) {
		if (strcmp(jv_string_value(t), type_names[i].name) != 0)
			continue;
		if (nd->types & type_names[i].bit) {
			comp_fail(c, "type", "type \"%s\" given twice",
			    type_names[i].name);
			return 0;
		}
		nd->types |= type_names[i].bit;
		if (desc->len)
			buf_adds(desc, " or ");
		buf_adds(desc, type_names[i].name);
		return 1;
	}
	comp_fail(c, "type", "unknown type \"%s\"", jv_string_value(t));
	return 0;
}

static void
kw_type(struct comp *c, struct node *nd, jv v)
{
	struct buf desc;
	int i, n;

	buf_init(&desc);
	if (jv_get_kind(v) == JV_KIND_ARRAY) {
		n = jv_array_length(jv_copy(v));
		if (n == 0)
			comp_fail(c, "type", "empty list of types");
		for (i = 0; i < n; i++) {
			jv t = jv_array_get(jv_copy(v), i);
			int ok = type_one(c, nd, t, &desc);

			jv_free(t);
			if (!ok)
				break;
		}
	} else
		type_one(c, nd, v, &desc);
	nd->typedesc = desc.data ? desc.data : xstrdup("");
}

static int
get_number(struct comp *c, const char *kw, jv v, double *out)
{
	if (jv_get_kind(v) != JV_KIND_NUMBER) {
		if (jv_get_kind(v) == JV_KIND_TRUE ||
		    jv_get_kind(v) == JV_KIND_FALSE)
			comp_fail(c, kw, "expected a number (the draft-4 "
			    "boolean form is not supported)");
		else
			comp_fail(c, kw, "expected a number, got %s",
			    kind_name(jv_get_kind(v)));
		return 0;
	}
	*out = jv_number_value(v);
	return 1;
}

static void
get_count(struct comp *c, const char *kw, jv v, long long *out)
{
	double d;

	if (jv_get_kind(v) != JV_KIND_NUMBER || (d = jv_number_value(v)) < 0 ||
	    d != floor(d) || d > 9007199254740992.0) {
		comp_fail(c, kw, "expected a non-negative integer");
		return;
	}
	*out = (long long)d;
}

static void
kw_required(struct comp *c, struct node *nd, jv v)
{
	int i, n;

	if (jv_get_kind(v) != JV_KIND_ARRAY) {
		comp_fail(c, "required", "expected an array of names, got %s",
		    kind_name(jv_get_kind(v)));
		return;
	}
	n = jv_array_length(jv_copy(v));
	nd->required = xcalloc((size_t)n + 1, sizeof(*nd->required));
	for (i = 0; i < n; i++) {
		jv k = jv_array_get(jv_copy(v), i);

		if (jv_get_kind(k) != JV_KIND_STRING) {
			comp_fail(c, "required", "expected an array of names, "
			    "got %s at [%d]", kind_name(jv_get_kind(k)), i);
			jv_free(k);
			return;
		}
		key_set(&nd->required[nd->nrequired++], k);
	}
}

static void
kw_properties(struct comp *c, struct node *nd, jv v, int depth)
{
	size_t save = c->path.len, i;
	int it;

	if (jv_get_kind(v) != JV_KIND_OBJECT) {
		comp_fail(c, "properties", "expected an object, got %s",
		    kind_name(jv_get_kind(v)));
		return;
	}
	nd->props = xcalloc((size_t)jv_object_length(jv_copy(v)) + 1,
	    sizeof(*nd->props));
	path_key(&c->path, "properties", 10);
	for (it = jv_object_iter(v); jv_object_iter_valid(v, it);
	    it = jv_object_iter_next(v, it)) {
		struct key *k = &nd->props[nd->nprops++];
		size_t sub = c->path.len;

		key_set(k, jv_object_iter_key(v, it));
		path_key(&c->path, k->s, k->len);
		k->schema = compile_node(c, jv_object_iter_value(v, it),
		    depth + 1);
		path_trunc(&c->path, sub);
		if (k->schema == NULL)
			break;
	}
	path_trunc(&c->path, save);
	nd->sorted = xcalloc(nd->nprops + 1, sizeof(*nd->sorted));
	for (i = 0; i < nd->nprops; i++)
		nd->sorted[i] = &nd->props[i];
	qsort(nd->sorted, nd->nprops, sizeof(*nd->sorted), sort_keys);
}

/* A subschema under keyword kw (consumes v). */
static struct node *
sub_schema(struct comp *c, const char *kw, jv v, int depth)
{
	size_t save = c->path.len;
	struct node *n;

	path_key(&c->path, kw, strlen(kw));
	n = compile_node(c, v, depth + 1);
	path_trunc(&c->path, save);
	return n;
}

static void
kw_pattern(struct comp *c, struct node *nd, jv v)
{
	const char *why = NULL;
	char *ere, msg[200];
	int e;

	if (jv_get_kind(v) != JV_KIND_STRING) {
		comp_fail(c, "pattern", "expected a string, got %s",
		    kind_name(jv_get_kind(v)));
		return;
	}
	ere = ecma_to_ere(jv_string_value(v),
	    (size_t)jv_string_length_bytes(jv_copy(v)), &why);
	if (ere == NULL) {
		comp_fail(c, "pattern", "%s", why);
		return;
	}
	e = regcomp(&nd->re, ere, REG_EXTENDED | REG_NOSUB);
	free(ere);
	if (e != 0) {
		regerror(e, &nd->re, msg, sizeof(msg));
		comp_fail(c, "pattern", "invalid regular expression: %s", msg);
		return;
	}
	nd->has |= HAS_PATTERN;
	nd->pattern = xstrdup(jv_string_value(v));
}

static void
kw_format(struct comp *c, struct node *nd, jv v)
{
	if (jv_get_kind(v) != JV_KIND_STRING)
		comp_fail(c, "format", "expected a string, got %s",
		    kind_name(jv_get_kind(v)));
	else if (strcmp(jv_string_value(v), "date") == 0)
		nd->format = FMT_DATE;
	else if (strcmp(jv_string_value(v), "date-time") == 0)
		nd->format = FMT_DATE_TIME;
	else
		comp_fail(c, "format", "unsupported format \"%s\"",
		    jv_string_value(v));
}

static void
kw_enum(struct comp *c, struct node *nd, jv v)
{
	jv d;
	size_t n;

	if (jv_get_kind(v) != JV_KIND_ARRAY) {
		comp_fail(c, "enum", "expected an array, got %s",
		    kind_name(jv_get_kind(v)));
		return;
	}
	nd->has |= HAS_ENUM;
	nd->enumv = jv_copy(v);
	d = jv_dump_string(jv_copy(v), JV_PRINT_ASCII);
	n = (size_t)jv_string_length_bytes(jv_copy(d));
	if (n > ENUM_SHOW_MAX)
		nd->enumdesc = xasprintf("%.*s...", ENUM_SHOW_MAX - 3,
		    jv_string_value(d));
	else
		nd->enumdesc = xstrdup(jv_string_value(d));
	jv_free(d);
}

static const char *const annotations[] = {
	"$comment", "$defs", "$id", "$schema", "default", "definitions",
	"deprecated", "description", "examples", "readOnly", "title",
	"writeOnly", NULL
};

/* One keyword of an object schema; v is borrowed. */
static void
compile_kw(struct comp *c, struct node *nd, const char *kw, jv v, int depth)
{
	const char *const *a;

	if (strcmp(kw, "type") == 0)
		kw_type(c, nd, v);
	else if (strcmp(kw, "required") == 0)
		kw_required(c, nd, v);
	else if (strcmp(kw, "properties") == 0)
		kw_properties(c, nd, v, depth);
	else if (strcmp(kw, "additionalProperties") == 0) {
		if (jv_get_kind(v) != JV_KIND_TRUE)
			nd->addl = sub_schema(c, kw, jv_copy(v), depth);
	} else if (strcmp(kw, "items") == 0) {
		if (jv_get_kind(v) == JV_KIND_ARRAY)
			comp_fail(c, kw, "the array (tuple) form is not "
			    "supported");
		else
			nd->items = sub_schema(c, kw, jv_copy(v), depth);
	} else if (strcmp(kw, "enum") == 0)
		kw_enum(c, nd, v);
	else if (strcmp(kw, "const") == 0) {
		nd->has |= HAS_CONST;
		nd->constv = jv_copy(v);
	} else if (strcmp(kw, "minimum") == 0) {
		if (get_number(c, kw, v, &nd->min))
			nd->has |= HAS_MIN;
	} else if (strcmp(kw, "maximum") == 0) {
		if (get_number(c, kw, v, &nd->max))
			nd->has |= HAS_MAX;
	} else if (strcmp(kw, "exclusiveMinimum") == 0) {
		if (get_number(c, kw, v, &nd->xmin))
			nd->has |= HAS_XMIN;
	} else if (strcmp(kw, "exclusiveMaximum") == 0) {
		if (get_number(c, kw, v, &nd->xmax))
			nd->has |= HAS_XMAX;
	} else if (strcmp(kw, "minLength") == 0)
		get_count(c, kw, v, &nd->minlen);
	else if (strcmp(kw, "maxLength") == 0)
		get_count(c, kw, v, &nd->maxlen);
	else if (strcmp(kw, "minItems") == 0)
		get_count(c, kw, v, &nd->minitems);
	else if (strcmp(kw, "maxItems") == 0)
		get_count(c, kw, v, &nd->maxitems);
	else if (strcmp(kw, "pattern") == 0)
		kw_pattern(c, nd, v);
	else if (strcmp(kw, "format") == 0)
		kw_format(c, nd, v);
	else if (strncmp(kw, "x-", 2) != 0) {
		for (a = annotations; *a != NULL; a++)
			if (strcmp(kw, *a) == 0)
				return;
		comp_fail(c, NULL, "unsupported keyword \"%s\"", kw);
	}
}

/* Compile one schema (consumed); NULL after comp_fail(). */
static struct node *
compile_node(struct comp *c, jv s, int depth)
{
	struct node *nd;
	int it;

	if (depth > SCHEMA_MAX_DEPTH) {
		comp_fail(c, NULL, "schema nested deeper than %d levels",
		    SCHEMA_MAX_DEPTH);
		jv_free(s);
		return NULL;
	}
	nd = xcalloc(1, sizeof(*nd));
	nd->constv = jv_null();
	nd->enumv = jv_null();
	nd->minlen = nd->maxlen = nd->minitems = nd->maxitems = -1;
	switch (jv_get_kind(s)) {
	case JV_KIND_TRUE:
		break;
	case JV_KIND_FALSE:
		nd->never = 1;
		break;
	case JV_KIND_OBJECT:
		for (it = jv_object_iter(s); c->err == NULL &&
		    jv_object_iter_valid(s, it);
		    it = jv_object_iter_next(s, it)) {
			jv k = jv_object_iter_key(s, it);
			jv v = jv_object_iter_value(s, it);

			compile_kw(c, nd, jv_string_value(k), v, depth);
			jv_free(k);
			jv_free(v);
		}
		break;
	default:
		comp_fail(c, NULL, "expected a schema (object or boolean), "
		    "got %s", kind_name(jv_get_kind(s)));
		break;
	}
	jv_free(s);
	if (c->err != NULL) {
		node_free(nd);
		return NULL;
	}
	nd->leaf = !nd->never && nd->nrequired == 0 && nd->nprops == 0 &&
	    nd->addl == NULL && nd->items == NULL && nd->minitems < 0 &&
	    nd->maxitems < 0 && !(nd->has & (HAS_CONST | HAS_ENUM));
	return nd;
}

/* A record API handle for a top-level key: .["key"] takes any name. */
static struct rec_field *
key_field(const struct key *key)
{
	struct rec_field *f;
	const char *err;
	struct buf e;

	buf_init(&e);
	buf_adds(&e, ".[");
	buf_add_jstr(&e, key->s, key->len);
	buf_addc(&e, ']');
	f = rec_field_try(e.data, &err);
	buf_free(&e);
	return f;
}

/* Set up the record path for the root, if its keywords allow it. */
static int
root_by_field(struct node *nd)
{
	size_t i;

	if (nd->never || nd->addl != NULL ||
	    (nd->has & (HAS_CONST | HAS_ENUM)) ||
	    (nd->types != 0 && !(nd->types & T_OBJECT)))
		return 0;
	for (i = 0; i < nd->nrequired; i++)
		if ((nd->required[i].field = key_field(&nd->required[i])) ==
		    NULL)
			return 0;
	for (i = 0; i < nd->nprops; i++)
		if ((nd->props[i].field = key_field(&nd->props[i])) == NULL)
			return 0;
	return 1;
}

static void
node_free(struct node *nd)
{
	size_t i;

	if (nd == NULL)
		return;
	free(nd->typedesc);
	jv_free(nd->constv);
	jv_free(nd->enumv);
	free(nd->enumdesc);
	if (nd->has & HAS_PATTERN)
		regfree(&nd->re);
	free(nd->pattern);
	for (i = 0; i < nd->nrequired; i++) {
		free(nd->required[i].s);
		jv_free(nd->required[i].j);
		if (nd->required[i].field != NULL)
			rec_field_free(nd->required[i].field);
	}
	free(nd->required);
	for (i = 0; i < nd->nprops; i++) {
		free(nd->props[i].s);
		jv_free(nd->props[i].j);
		node_free(nd->props[i].schema);
		if (nd->props[i].field != NULL)
			rec_field_free(nd->props[i].field);
	}
	free(nd->props);
	free(nd->sorted);
	node_free(nd->addl);
	node_free(nd->items);
	free(nd);
}

struct schema *
schema_compile(jv doc, char **err)
{
	struct comp c;
	struct node *root;
	struct schema *s;

	buf_init(&c.path);
	c.err = NULL;
	root = compile_node(&c, doc, 0);
	buf_free(&c.path);
	if (root == NULL) {
		*err = c.err;
		return NULL;
	}
	s = xmalloc(sizeof(*s));
	s->root = root;
	s->by_field = root_by_field(root);
	return s;
}

struct schema *
schema_load(const char *path, char **err)
{
	struct buf text;
	char chunk[65536], *perr;
	size_t n;
	FILE *f;
	jv doc;

	if ((f = fopen(path, "r")) == NULL) {
		*err = xstrdup(strerror(errno));
		return NULL;
	}
	buf_init(&text);
	while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0) {
		if (text.len + n > SCHEMA_MAX_FILE) {
			fclose(f);
			buf_free(&text);
			*err = xasprintf("larger than %u bytes",
			    SCHEMA_MAX_FILE);
			return NULL;
		}
		buf_add(&text, chunk, n);
	}
	if (ferror(f)) {
		*err = xstrdup(strerror(errno));
		fclose(f);
		buf_free(&text);
		return NULL;
	}
	fclose(f);
	doc = json_parse(text.data, text.len, &perr);
	buf_free(&text);
	if (!jv_is_valid(doc)) {
		*err = xasprintf("invalid JSON: %s", perr);
		free(perr);
		return NULL;
	}
	return schema_compile(doc, err);
}

void
schema_free(struct schema *s)
{
	if (s == NULL)
		return;
	node_free(s->root);
	free(s);
}

/* ------------------------------------------------------------------ */
/* checking                                                             */
/* ------------------------------------------------------------------ */

/* One step of the path to the value being checked. */
struct seg {
	const char *key;	/* NULL: an array index */
	size_t len;
	long long index;
};

struct check {
	/* Steps are recorded as they are taken and rendered only for a
	 * violation: most values are valid. */
	struct seg segs[SCHEMA_MAX_DEPTH + 2];
	int depth;
	struct buf *msg;
	struct buf scratch;	/* takes the messages when msg is NULL */
	int all;
	size_t n;
};

static void
push_key(struct check *k, const char *s, size_t len)
{
	k->segs[k->depth].key = s;
	k->segs[k->depth].len = len;
	k->depth++;
}

static void
push_index(struct check *k, long long i)
{
	k->segs[k->depth].key = NULL;
	k->segs[k->depth].index = i;
	k->depth++;
}

/* Start a violation at the current path; append its text to the result. */
static struct buf *
viol(struct check *k)
{
	struct buf *b = k->msg ? k->msg : &k->scratch;
	size_t start;
	int i;

	/* Past SHOW_ALL_MAX the violations are counted, not spelt out: a
	 * hostile record must not make a message of megabytes. */
	if (k->msg == NULL || k->n >= SHOW_ALL_MAX) {
		b = &k->scratch;
		b->len = 0;
	} else if (k->n > 0)
		buf_adds(b, "; ");
	k->n++;
	start = b->len;
	for (i = 0; i < k->depth; i++) {
		if (k->segs[i].key != NULL && is_ident(k->segs[i].key,
		    k->segs[i].len)) {
			buf_addc(b, '.');
			buf_add(b, k->segs[i].key, k->segs[i].len);
			continue;
		}
		/* A path starts with a dot: .["odd key"], .[3]. */
		if (b->len == start)
			buf_addc(b, '.');
		if (k->segs[i].key != NULL) {
			buf_addc(b, '[');
			buf_add_jstr(b, k->segs[i].key, k->segs[i].len);
			buf_addc(b, ']');
		} else
			buf_printf(b, "[%lld]", k->segs[i].index);
	}
	if (b->len == start)
		buf_addc(b, '.');
	buf_adds(b, ": ");
	return b;
}

static int
done(const struct check *k)
{
	return !k->all && k->n > 0;
}

/* Close a check: say how many violations went unnamed; returns them all. */
static size_t
check_end(struct check *k)
{
	if (k->msg != NULL && k->n > SHOW_ALL_MAX)
		buf_printf(k->msg, "; and %zu more", k->n - SHOW_ALL_MAX);
	buf_free(&k->scratch);
	return k->n;
}

static void check_node(struct check *, const struct node *, jv v);

static void
check_number(struct check *k, const struct node *nd, double x)
{
	struct buf *b;

	/* Written so that NaN fails every bound. */
	if ((nd->has & HAS_MIN) && !(x >= nd->min)) {
		b = viol(k);
		buf_adds(b, "minimum ");
		add_num(b, nd->min);
	} else if ((nd->has & HAS_XMIN) && !(x > nd->xmin)) {
		b = viol(k);
		buf_adds(b, "exclusiveMinimum ");
		add_num(b, nd->xmin);
	} else if ((nd->has & HAS_MAX) && !(x <= nd->max)) {
		b = viol(k);
		buf_adds(b, "maximum ");
		add_num(b, nd->max);
	} else if ((nd->has & HAS_XMAX) && !(x < nd->xmax)) {
		b = viol(k);
		buf_adds(b, "exclusiveMaximum ");
		add_num(b, nd->xmax);
	} else
		return;
	buf_adds(b, ", got ");
	add_num(b, x);
}

static void
check_string(struct check *k, const struct node *nd, const char *s,
    size_t n)
{
	size_t i, cps = 0;
	regmatch_t m[1];
	int e;
	struct buf *b;

	if (nd->minlen >= 0 || nd->maxlen >= 0) {
		for (i = 0; i < n; i++)
			if (((unsigned char)s[i] & 0xc0) != 0x80)
				cps++;
		if (nd->minlen >= 0 && cps < (size_t)nd->minlen) {
			buf_printf(viol(k), "minLength %lld, got length %zu",
			    nd->minlen, cps);
			if (done(k))
				return;
		}
		if (nd->maxlen >= 0 && cps > (size_t)nd->maxlen) {
			buf_printf(viol(k), "maxLength %lld, got length %zu",
			    nd->maxlen, cps);
			if (done(k))
				return;
		}
	}
	if (nd->has & HAS_PATTERN) {
		m[0].rm_so = 0;
		m[0].rm_eo = (regoff_t)n;
		errno = 0;
		e = regexec(&nd->re, s, 1, m, REG_STARTEND);
		/*
		 * The matcher out of memory is no mismatch; glibc's regexec
		 * says REG_NOMATCH for it too, with malloc's errno behind.
		 */
		if (e != 0 && (e != REG_NOMATCH || errno == ENOMEM))
			die("pattern %s: out of memory", nd->pattern);
		if (e != 0) {
			b = viol(k);
			buf_adds(b, "pattern ");
			buf_adds(b, nd->pattern);
			buf_adds(b, ", got ");
			add_shown_str(b, s, n);
			if (done(k))
				return;
		}
	}
	if ((nd->format == FMT_DATE && !date_valid(s, n)) ||
	    (nd->format == FMT_DATE_TIME && !date_time_valid(s, n))) {
		b = viol(k);
		buf_adds(b, nd->format == FMT_DATE ? "format date, got " :
		    "format date-time, got ");
		add_shown_str(b, s, n);
	}
}

static void
check_array(struct check *k, const struct node *nd, jv v)
{
	int i, n = jv_array_length(jv_copy(v));

	if (nd->minitems >= 0 && n < nd->minitems) {
		buf_printf(viol(k), "minItems %lld, got %d items",
		    nd->minitems, n);
		if (done(k))
			return;
	}
	if (nd->maxitems >= 0 && n > nd->maxitems) {
		buf_printf(viol(k), "maxItems %lld, got %d items",
		    nd->maxitems, n);
		if (done(k))
			return;
	}
	if (nd->items == NULL)
		return;
	for (i = 0; i < n && !done(k); i++) {
		push_index(k, i);
		check_node(k, nd->items, jv_array_get(jv_copy(v), i));
		k->depth--;
	}
}

static const struct key *
find_prop(const struct node *nd, const char *s, size_t len)
{
	size_t lo = 0, hi = nd->nprops, mid;
	int r;

	while (lo < hi) {
		mid = (lo + hi) / 2;
		r = keycmp(s, len, nd->sorted[mid]->s, nd->sorted[mid]->len);
		if (r == 0)
			return nd->sorted[mid];
		if (r < 0)
			hi = mid;
		else
			lo = mid + 1;
	}
	return NULL;
}

/*
 * Required names first, then the properties, both in schema order, then
 * the other members in record order against additionalProperties.  The
 * record path (schema_check_record) keeps the same order.
 */
static void
check_object(struct check *k, const struct node *nd, jv v)
{
	struct buf *b;
	size_t i;
	int it;

	for (i = 0; i < nd->nrequired && !done(k); i++) {
		if (!jv_object_has(jv_copy(v), jv_copy(nd->required[i].j))) {
			push_key(k, nd->required[i].s, nd->required[i].len);
			buf_adds(viol(k), "required, missing");
			k->depth--;
		}
	}
	for (i = 0; i < nd->nprops && !done(k); i++) {
		jv f = jv_object_get(jv_copy(v), jv_copy(nd->props[i].j));

		if (!jv_is_valid(f)) {
			jv_free(f);
			continue;
		}
		push_key(k, nd->props[i].s, nd->props[i].len);
		check_node(k, nd->props[i].schema, f);
		k->depth--;
	}
	if (nd->addl == NULL)
		return;
	for (it = jv_object_iter(v); !done(k) && jv_object_iter_valid(v, it);
	    it = jv_object_iter_next(v, it)) {
		jv key = jv_object_iter_key(v, it);
		const char *s = jv_string_value(key);
		size_t len = (size_t)jv_string_length_bytes(jv_copy(key));

		if (find_prop(nd, s, len) == NULL) {
			push_key(k, s, len);
			if (nd->addl->never) {
				jv f = jv_object_iter_value(v, it);

				b = viol(k);
				buf_adds(b, "additionalProperties false, got ");
				add_value(b, f);
				jv_free(f);
			} else
				check_node(k, nd->addl,
				    jv_object_iter_value(v, it));
			k->depth--;
		}
		jv_free(key);
	}
}

static void
type_viol(struct check *k, const struct node *nd, const char *kind,
    int is_num, double x)
{
	struct buf *b = viol(k);

	buf_printf(b, "type %s, got %s", nd->typedesc, kind);
	if (is_num) {
		buf_addc(b, ' ');
		add_num(b, x);
	}
}

/* T_* of a number: NaN and infinities, which libjq reads, have none. */
static unsigned
num_types(double x)
{
	if (!isfinite(x))
		return 0;
	return T_NUMBER | (x == floor(x) ? T_INTEGER : 0);
}

/* Check v (consumed) against nd, at the path in k. */
static void
check_node(struct check *k, const struct node *nd, jv v)
{
	jv_kind kind = jv_get_kind(v);
	unsigned t = 0;
	double x = 0;
	struct buf *b;

	if (nd->never) {
		b = viol(k);
		buf_adds(b, "schema false, got ");
		add_value(b, v);
		goto out;
	}
	switch (kind) {
	case JV_KIND_NULL:
		t = T_NULL;
		break;
	case JV_KIND_TRUE:
	case JV_KIND_FALSE:
		t = T_BOOLEAN;
		break;
	case JV_KIND_NUMBER:
		x = jv_number_value(v);
		if (isinf(x)) {
			/* 1e999 as libjq reads it: the record layer's words. */
			b = viol(k);
			buf_adds(b, "number is out of range");
			goto out;
		}
		t = num_types(x);
		break;
	case JV_KIND_STRING:
		t = T_STRING;
		break;
	case JV_KIND_ARRAY:
		t = T_ARRAY;
		break;
	case JV_KIND_OBJECT:
		t = T_OBJECT;
		break;
	default:
		break;
	}
	/* "number" admits integers; "integer" admits only them. */
	if (nd->types != 0 && !(nd->types & t)) {
		type_viol(k, nd, kind_name(kind), kind == JV_KIND_NUMBER, x);
		goto out;
	}
	if ((nd->has & HAS_CONST) && !jv_equal(jv_copy(v),
	    jv_copy(nd->constv))) {
		b = viol(k);
		buf_adds(b, "const ");
		add_value(b, nd->constv);
		buf_adds(b, ", got ");
		add_value(b, v);
		if (done(k))
			goto out;
	}
	if (nd->has & HAS_ENUM) {
		int i, n = jv_array_length(jv_copy(nd->enumv)), hit = 0;

		for (i = 0; i < n && !hit; i++)
			hit = jv_equal(jv_copy(v),
			    jv_array_get(jv_copy(nd->enumv), i));
		if (!hit) {
			b = viol(k);
			buf_printf(b, "enum %s, got ", nd->enumdesc);
			add_value(b, v);
			if (done(k))
				goto out;
		}
	}
	if (kind == JV_KIND_NUMBER)
		check_number(k, nd, x);
	else if (kind == JV_KIND_STRING)
		check_string(k, nd, jv_string_value(v),
		    (size_t)jv_string_length_bytes(jv_copy(v)));
	else if (kind == JV_KIND_ARRAY)
		check_array(k, nd, v);
	else if (kind == JV_KIND_OBJECT)
		check_object(k, nd, v);
out:
	jv_free(v);
}

size_t
schema_check(const struct schema *s, jv value, int all, struct buf *msg)
{
	struct check k;

	k.depth = 0;
	buf_init(&k.scratch);
	k.msg = msg;
	k.all = all;
	k.n = 0;
	check_node(&k, s->root, value);
	return check_end(&k);
}

/* ------------------------------------------------------------------ */
/* checking a record through the record API                            */
/* ------------------------------------------------------------------ */

/*
 * One member of the record against its schema.  A leaf schema is checked
 * from the scalar the record API returns; anything else gets the
 * member's jv, which makes the record build its tree.
 */
static void
check_member(struct check *k, const struct node *nd, struct record *rec,
    const struct rec_field *f, enum rec_kind kind)
{
	const char *s, *text;
	size_t n, tlen;
	double x = 0;
	unsigned t = 0;
	struct buf *b;

	if (!nd->leaf) {
		check_node(k, nd, rec_jv(rec, f));
		return;
	}
	switch (kind) {
	case REC_NULL:
		t = T_NULL;
		break;
	case REC_TRUE:
	case REC_FALSE:
		t = T_BOOLEAN;
		break;
	case REC_NUMBER:
		if (rec_nonfinite(rec, f, &text, &tlen, &x)) {
			/* 1e999: the words of check_node() for the tree. */
			b = viol(k);
			buf_adds(b, "number is out of range");
			return;
		}
		if (rec_num(rec, f, &x) != REC_OK) {
			/* Out of the range rec_num() reads: ask the tree. */
			check_node(k, nd, rec_jv(rec, f));
			return;
		}
		t = num_types(x);
		break;
	case REC_STRING:
		t = T_STRING;
		break;
	case REC_ARRAY:
		t = T_ARRAY;
		break;
	case REC_OBJECT:
		t = T_OBJECT;
		break;
	case REC_MISSING:
		return;
	}
	if (nd->types != 0 && !(nd->types & t)) {
		type_viol(k, nd, kind == REC_TRUE || kind == REC_FALSE ?
		    "boolean" : rec_kind_name(kind), kind == REC_NUMBER, x);
		return;
	}
	if (kind == REC_NUMBER)
		check_number(k, nd, x);
	else if (kind == REC_STRING && rec_str(rec, f, &s, &n) == REC_OK)
		check_string(k, nd, s, n);
}

size_t
schema_check_record(const struct schema *sc, struct record *rec, int all,
    struct buf *msg)
{
	const struct node *nd = sc->root;
	struct check k;
	enum rec_kind kind;
	size_t i;

	if (!sc->by_field)
		return schema_check(sc, rec_jv_all(rec), all, msg);
	k.depth = 0;
	buf_init(&k.scratch);
	k.msg = msg;
	k.all = all;
	k.n = 0;
	for (i = 0; i < nd->nrequired && !done(&k); i++) {
		if (rec_kind(rec, nd->required[i].field) == REC_MISSING) {
			push_key(&k, nd->required[i].s, nd->required[i].len);
			buf_adds(viol(&k), "required, missing");
			k.depth--;
		}
	}
	for (i = 0; i < nd->nprops && !done(&k); i++) {
		kind = rec_kind(rec, nd->props[i].field);
		if (kind == REC_MISSING)
			continue;
		push_key(&k, nd->props[i].s, nd->props[i].len);
		check_member(&k, nd->props[i].schema, rec, nd->props[i].field,
		    kind);
		k.depth--;
	}
	return check_end(&k);
}
