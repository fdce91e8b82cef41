/*
 * scan.h - the record scanner: validates one JSON text exactly as RFC 8259
 * defines it and, in the same pass, indexes the members of a top-level
 * object as byte spans, so values are parsed only when asked for, straight
 * from the caller's buffer.
 *
 * Decisions a conforming parser leaves to the implementation:
 * - nesting deeper than SCAN_MAX_DEPTH arrays and objects is rejected
 *   (the limit of libjq 1.6, so every text the scanner accepts libjq can
 *   parse as well);
 * - duplicate keys are kept in the index; lookups return the last one,
 *   as jq does; scan_dup_key() finds them for callers that refuse them
 *   (the record layer does, as I-JSON, RFC 7493, has it);
 * - numbers of any size are accepted; converted, those beyond the double
 *   range become +-infinity and tiny ones round to zero (as in libjq);
 * - "\u0000" unescapes to a NUL byte;
 * - a byte order mark is not white space: it is rejected.
 *
 * Where libjq 1.6 (jv_parse_sized) accepts what JSON does not, found by
 * the differential fuzzer and pinned in tests/unit/scan.c, the scanner
 * rejects: bad UTF-8 and lone surrogate escapes (libjq puts U+FFFD),
 * numbers strtod reads (01, 1., .5, +1, -nan), the literals nan, NaN and
 * infinity, a BOM and \f or \v as white space, raw NUL and 0x1f bytes in
 * strings (its control check is off by one), text after a NUL byte, and
 * an unfinished second value after the first ("1 [2").
 */
#ifndef SCAN_H
#define SCAN_H

#include <stddef.h>

#define SCAN_MAX_DEPTH 256

/* JSON kinds; the same values as enum rec_kind in asin.h. */
enum scan_kind {
	SCAN_NONE = 0,
	SCAN_NULL,
	SCAN_FALSE,
	SCAN_TRUE,
	SCAN_NUMBER,
	SCAN_STRING,
	SCAN_ARRAY,
	SCAN_OBJECT
};

/* Why a text was rejected; scan_strerror() gives the words. */
enum scan_err {
	SCAN_OK = 0,
	SCAN_E_EMPTY,		/* nothing but white space */
	SCAN_E_TRUNCATED,	/* the text ends inside a value */
	SCAN_E_VALUE,		/* a byte that starts no value */
	SCAN_E_LITERAL,		/* tru, nul, nan, True, ... */
	SCAN_E_NUMBER,		/* 1., .5, +1, 1e, -, ... */
	SCAN_E_LEADING_ZERO,	/* 01, -00 */
	SCAN_E_ESCAPE,		/* \x, \u12G4, \U0041 */
	SCAN_E_SURROGATE,	/* \ud800 alone, \udc00 first */
	SCAN_E_CONTROL,		/* raw byte < 0x20 in a string */
	SCAN_E_UTF8,		/* bad or overlong UTF-8, encoded surrogate */
	SCAN_E_DEPTH,		/* deeper than SCAN_MAX_DEPTH */
	SCAN_E_KEY,		/* object member name is not a string */
	SCAN_E_COLON,		/* expected ':' after a member name */
	SCAN_E_OBJ_SEP,		/* expected ',' or '}' */
	SCAN_E_ARR_SEP,		/* expected ',' or ']' */
	SCAN_E_TRAILING_COMMA,	/* [1,] {"a":1,} */
	SCAN_E_EXTRA		/* more after the value */
};

/*
 * One member of the top-level object.  Offsets are from the start of the
 * scanned buffer.  The key span is the bytes between its quotes, still
 * escaped if key_esc; the value span is the value's whole JSON text
 * (quotes included for a string).
 */
struct scan_member {
	size_t key;
	size_t key_len;
	size_t val;
	size_t val_len;
	unsigned char kind;	/* enum scan_kind */
	unsigned char key_esc;	/* the key holds backslash escapes */
	unsigned char val_esc;	/* a string value holds backslash escapes */
};

/*
 * Scanner state and the index of the last text scanned.  Reuse one for
 * every line: the member array grows to the widest record and stays.
 */
struct scan {
	struct scan_member *m;	/* members in text order, duplicates kept */
	size_t n;
	size_t cap;
	enum scan_kind kind;	/* of the top-level value */
	size_t val;		/* span of the top-level value */
	size_t val_len;
	enum scan_err err;	/* SCAN_OK after a successful scan */
	size_t err_off;		/* byte offset of the error (0-based) */
	/*
	 * A one-word Bloom filter of the member names, so that asking for
	 * a key the record lacks (a tool checking for its own output
	 * fields) is one test instead of a walk; unusable (keys_ok 0) when
	 * a name holds escapes.
	 */
	unsigned long long keys;
	int keys_ok;
	/* scan_dup_key()'s work space, kept for the next record. */
	struct scan_dkey *dk;
	size_t ndk, capdk;
	struct buf *names;	/* unescaped member names */
	/* Its hash table of the top-level names of a wide record: slots
	 * of (generation, member index + 1), a power of two long. */
	struct scan_dslot *dslot;
	size_t capdslot;
	unsigned dgen;
};

void scan_init(struct scan *);
void scan_free(struct scan *);

/*
 * Validate buf[0..len) as one JSON text (white space around it allowed)
 * and index its members if it is an object.  Returns 1, or 0 with err and
 * err_off set.  buf is only read, never beyond len, and need not be
 * NUL-terminated.  The index refers to buf by offset; it stays valid for
 * as long as the caller keeps buf and the scan.
 */
int scan_text(struct scan *, const char *buf, size_t len);

/* The reason for err in words, e.g. "invalid escape"; static storage. */
const char *scan_strerror(enum scan_err);

/*
 * Write "invalid JSON at column N: reason" for the last failed scan into
 * dst (size n, NUL-terminated, truncated to fit).  Columns count bytes
 * from 1.  Returns the length it wanted to write, as snprintf.
 */
int scan_errmsg(const struct scan *, char *dst, size_t n);

/*
 * The index of the last top-level member named key (keylen bytes,
 * unescaped, may hold NUL), or -1.  buf is the buffer that was scanned.
 */
long scan_find(const struct scan *, const char *buf, const char *key,
    size_t keylen);

/*
 * After scan_text() accepted buf as an object: whether some object in it,
 * at any depth, has a member name twice (compared unescaped).  Returns 1
 * with the byte offset of the second one's opening quote in *off and its
 * unescaped name in *key and *keylen (valid until the next call), or 0.
 * Costs one walk of the nested objects; arrays without '{' are skipped.
 */
int scan_dup_key(struct scan *, const char *buf, size_t *off,
    const char **key, size_t *keylen);

/* The kind of the valid JSON value whose text starts with c. */
enum scan_kind scan_kind_of(int c);

/*
 * Unescape the body of a valid JSON string (the bytes between its quotes,
 * as the scanner accepted them) into dst, which must hold n bytes: the
 * result is never longer.  Returns the length written; no NUL is added.
 */
size_t scan_unescape(char *dst, const char *s, size_t n);

/*
 * Whether the body of a valid JSON string (escaped, n bytes) equals the
 * unescaped bytes want[0..wantlen), without unescaping into memory.
 */
int scan_streq(const char *s, size_t n, const char *want, size_t wantlen);

/*
 * The exact value of a valid JSON number text s[0..n): correctly rounded
 * to the nearest double (ties to even), +-HUGE_VAL beyond the range.
 * Short numbers take an exact fast path; the rest go to strtod, which
 * glibc rounds correctly.  Needs the C locale's decimal point, as every
 * tool of the suite runs with.
 */
double scan_number(const char *s, size_t n);

/*
 * Walk a valid value's text without building it.  The length of the
 * valid JSON value that starts at s (within s[0..n)).
 */
size_t scan_skip(const char *s, size_t n);

/*
 * In the valid object text v[0..n), find the last member named key
 * (unescaped) and store its value span, relative to v, in *off and *len.
 * Returns 1, or 0 when there is no such member.
 */
int scan_obj_get(const char *v, size_t n, const char *key, size_t keylen,
    size_t *off, size_t *len);

/*
 * In the valid array text v[0..n), find element idx (negative counts
 * from the end, as jq's .[-1]) and store its span in *off and *len.
 * Returns 1, or 0 when out of range.
 */
int scan_arr_get(const char *v, size_t n, long long idx, size_t *off,
    size_t *len);

#endif
