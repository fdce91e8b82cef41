/*
 * out.c - the buffered NDJSON writer.  A tool's new fields are spliced in
 * before the closing brace of the original line, so every byte the record
 * came with goes out unchanged.  When a tool replaces a field the record
 * already has, the record's other members are copied by their spans from
 * the scanner's index, without the replaced ones (every copy of a
 * duplicated key), so keys stay unique; only the libjq backend rebuilds
 * the record with a dump.
 */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "asin.h"
#include "recint.h"
#include "scan.h"

#define OUT_BUFSZ (1u << 20)

struct member {
	size_t key_off, key_len;	/* in o->fields */
	size_t val_off, val_len;
};

struct out {
	int fd;
	char *name;
	char *buf;
	size_t len;
	/* the line being built */
	struct record *rec;	/* NULL for out_begin_empty() */
	struct buf fields;	/* keys and JSON values of the new members */
	struct buf line;	/* the new members as JSON text */
	struct member *m;
	size_t nm, capm;
	int replaces;		/* a new member replaces one of rec's */
};

struct out *
out_new(int fd, const char *name)
{
	struct out *o = xcalloc(1, sizeof(*o));

	o->fd = fd;
	o->name = xstrdup(name);
	o->buf = xmalloc(OUT_BUFSZ);
	buf_init(&o->fields);
	buf_init(&o->line);
	return o;
}

static void
flush_bytes(struct out *o, const char *p, size_t n)
{
	ssize_t w;

	while (n > 0) {
		w = write(o->fd, p, n);
		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0 && errno == EPIPE)
			exit(EXIT_OK);	/* the reader went away: quiet stop */
		if (w <= 0)
			die("%s: write error:", o->name);
		p += w;
		n -= (size_t)w;
	}
}

void
out_flush(struct out *o)
{
	flush_bytes(o, o->buf, o->len);
	o->len = 0;
}

void
out_write(struct out *o, const void *p, size_t n)
{
	if (n >= OUT_BUFSZ) {
		out_flush(o);
		flush_bytes(o, p, n);
		return;
	}
	if (o->len + n > OUT_BUFSZ)
		out_flush(o);
	memcpy(o->buf + o->len, p, n);
	o->len += n;
}

void
out_close(struct out *o)
{
	if (o == NULL)
		return;
	out_flush(o);
	if (o->fd > 2 && close(o->fd) != 0)
		die("%s: write error:", o->name);
	buf_free(&o->fields);
	buf_free(&o->line);
	free(o->m);
	free(o->buf);
	free(o->name);
	free(o);
}

void
out_line(struct out *o, const char *p, size_t n)
{
	out_write(o, p, n);
	out_write(o, "\n", 1);
}

void
out_line_append(struct out *o, const char *line, size_t len,
    const char *members, size_t mlen)
{
	const char *open = memchr(line, '{', len);
	size_t end = len, i;
	int empty = 1;

	/* The line parsed as an object: its last '}' closes it. */
	while (end > 0 && line[end - 1] != '}')
		end--;
	end--;
	for (i = (size_t)(open - line) + 1; i < end; i++)
		if (line[i] != ' ' && line[i] != '\t' && line[i] != '\r' &&
		    line[i] != '\n') {
			empty = 0;
			break;
		}
	if (empty && mlen > 0) {
		members++;
		mlen--;
	}
	out_write(o, line, end);
	out_write(o, members, mlen);
	out_write(o, line + end, len - end);
	out_write(o, "\n", 1);
}

void
out_begin(struct out *o, struct record *rec)
{
	o->rec = rec;
	o->fields.len = 0;
	o->nm = 0;
	o->replaces = 0;
}

void
out_begin_empty(struct out *o)
{
	out_begin(o, NULL);
}

/* Start a member: find or add the key; the caller appends the value. */
static struct member *
member(struct out *o, const char *key)
{
	size_t i, kl = strlen(key);
	struct member *m;

	for (i = 0; i < o->nm; i++) {
		m = &o->m[i];
		if (m->key_len == kl &&
		    memcmp(o->fields.data + m->key_off, key, kl) == 0) {
			/* Set twice: the later value wins; the old text stays
			 * unused in the buffer. */
			m->val_off = o->fields.len;
			return m;
		}
	}
	if (o->nm == o->capm) {
		o->capm = o->capm ? o->capm * 2 : 16;
		o->m = xreallocarray(o->m, o->capm, sizeof(*o->m));
	}
	m = &o->m[o->nm++];
	m->key_off = o->fields.len;
	m->key_len = kl;
	buf_add(&o->fields, key, kl);
	m->val_off = o->fields.len;
	if (o->rec != NULL && rec_has_key(o->rec, key, kl))
		o->replaces = 1;
	return m;
}

static void
member_end(struct out *o, struct member *m)
{
	m->val_len = o->fields.len - m->val_off;
}

void
out_set_json(struct out *o, const char *key, const char *json, size_t n)
{
	struct member *m = member(o, key);

	buf_add(&o->fields, json, n);
	member_end(o, m);
}

void
out_set_num(struct out *o, const char *key, double v)
{
	char tmp[40];
	size_t n;

	if (!isfinite(v)) {
		out_set_null(o, key);
		return;
	}
	n = fmt_double(tmp, v);
	out_set_json(o, key, tmp, n);
}

void
out_set_int(struct out *o, const char *key, long long v)
{
	char tmp[24], *p = tmp + sizeof(tmp);
	unsigned long long u = v < 0 ? 0 - (unsigned long long)v :
	    (unsigned long long)v;

	do
		*--p = (char)('0' + u % 10);
	while ((u /= 10) != 0);
	if (v < 0)
		*--p = '-';
	out_set_json(o, key, p, (size_t)(tmp + sizeof(tmp) - p));
}

void
out_set_str(struct out *o, const char *key, const char *s, size_t n)
{
	struct member *m = member(o, key);

	buf_add_jstr(&o->fields, s, n);
	member_end(o, m);
}

void
out_set_bool(struct out *o, const char *key, int v)
{
	out_set_json(o, key, v ? "true" : "false", v ? 4 : 5);
}

void
out_set_null(struct out *o, const char *key)
{
	out_set_json(o, key, "null", 4);
}

void
out_set_jv(struct out *o, const char *key, jv v)
{
	jv d = jv_dump_string(v, 0);

	out_set_json(o, key, jv_string_value(d),
	    (size_t)jv_string_length_bytes(jv_copy(d)));
	jv_free(d);
}

/* Write `"key":value` pairs, comma-separated, led by a comma if lead. */
static void
write_members(struct out *o, int lead)
{
	struct buf *b = &o->line;
	const struct member *m;
	size_t i;

	b->len = 0;
	for (i = 0; i < o->nm; i++) {
		m = &o->m[i];
		if (lead || i > 0)
			buf_addc(b, ',');
		buf_add_jstr(b, o->fields.data + m->key_off, m->key_len);
		buf_addc(b, ':');
		buf_add(b, o->fields.data + m->val_off, m->val_len);
	}
	out_write(o, b->data, b->len);
}

/* Whether the record's member m is one the tool sets anew. */
static int
replaced(const struct out *o, const char *raw, const struct scan_member *m)
{
	size_t i;

	for (i = 0; i < o->nm; i++)
		if (m->key_esc ? scan_streq(raw + m->key, m->key_len,
		    o->fields.data + o->m[i].key_off, o->m[i].key_len) :
		    m->key_len == o->m[i].key_len && memcmp(raw + m->key,
		    o->fields.data + o->m[i].key_off, m->key_len) == 0)
			return 1;
	return 0;
}

/*
 * Copy the record without the members being replaced, each kept member
 * as its original bytes from key to value, then append the new ones.
 * What came before the '{' and after the '}' is kept too.
 */
static void
end_replacing_spans(struct out *o, const struct scan *sc)
{
	const char *raw;
	const struct scan_member *m;
	size_t len, i, end;
	int any = 0;

	raw = rec_raw(o->rec, &len);
	out_write(o, raw, sc->val + 1);
	for (i = 0; i < sc->n; i++) {
		m = &sc->m[i];
		if (replaced(o, raw, m))
			continue;
		if (any)
			out_write(o, ",", 1);
		/* From the key's opening quote to the value's last byte. */
		out_write(o, raw + m->key - 1, m->val + m->val_len -
		    (m->key - 1));
		any = 1;
	}
	write_members(o, any);
	end = sc->val + sc->val_len - 1;	/* the closing '}' */
	out_write(o, raw + end, len - end);
	out_write(o, "\n", 1);
}

/*
 * Rebuild the record without the members being replaced, then append the
 * new ones.  Slow (a full dump); the libjq backend's way.
 */
static void
end_replacing(struct out *o)
{
	jv obj = rec_jv_all(o->rec), d;
	size_t i;
	int empty;

	for (i = 0; i < o->nm; i++)
		obj = jv_object_delete(obj, jv_string_sized(o->fields.data +
		    o->m[i].key_off, (int)o->m[i].key_len));
	empty = jv_object_length(jv_copy(obj)) == 0;
	d = jv_dump_string(obj, 0);
	out_write(o, jv_string_value(d),
	    (size_t)jv_string_length_bytes(jv_copy(d)) - 1);
	jv_free(d);
	write_members(o, !empty);
	out_write(o, "}\n", 2);
}

void
out_end(struct out *o)
{
	const struct scan *sc;
	const char *raw;
	size_t len, end, i;
	int empty;

	if (o->rec == NULL) {
		out_write(o, "{", 1);
		write_members(o, 0);
		out_write(o, "}\n", 2);
		return;
	}
	sc = rec_scan(o->rec);
	if (o->replaces) {
		if (sc != NULL)
			end_replacing_spans(o, sc);
		else
			end_replacing(o);
		return;
	}
	raw = rec_raw(o->rec, &len);
	if (o->nm == 0) {
		out_line(o, raw, len);
		return;
	}
	if (sc != NULL) {
		end = sc->val + sc->val_len - 1;
		empty = sc->n == 0;
	} else {
		/* The record parsed as an object: its last non-blank byte is
		 * '}'. */
		end = len;
		while (end > 0 && raw[end - 1] != '}')
			end--;
		end--;
		empty = 1;
		for (i = (size_t)((const char *)memchr(raw, '{', len) - raw) +
		    1; i < end; i++)
			if (raw[i] != ' ' && raw[i] != '\t' && raw[i] != '\r' &&
			    raw[i] != '\n') {
				empty = 0;
				break;
			}
	}
	out_write(o, raw, end);
	write_members(o, !empty);
	out_write(o, raw + end, len - end);
	out_write(o, "\n", 1);
}
