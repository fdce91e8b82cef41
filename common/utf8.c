/*
 * utf8.c - the one UTF-8 check of the suite.  JSON text must be UTF-8, and
 * bytes that are not cannot even be quoted in a reject record, so the
 * record layer, the reject writer and bare-ID input all ask here.
 */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "asin.h"

/*
 * Offset of the first byte that is not well-formed UTF-8, or -1.  Rejects
 * overlong forms, UTF-16 surrogates and code points above U+10FFFF.
 */
long
utf8_invalid_at(const unsigned char *s, size_t n)
{
	size_t i = 0;

	while (i < n) {
		unsigned c = s[i];

		if (c < 0x80) {
			uint64_t w;

			/* Most text is ASCII: skip it eight bytes at a time. */
			while (i + 8 <= n && (memcpy(&w, s + i, 8),
			    (w & 0x8080808080808080ull) == 0))
				i += 8;
			if (i < n && s[i] < 0x80)
				i++;
			continue;
		}
		if (c >= 0xc2 && c <= 0xdf) {
			if (i + 1 >= n || (s[i + 1] & 0xc0) != 0x80)
				return (long)i;
			i += 2;
		} else if (c >= 0xe0 && c <= 0xef) {
			if (i + 2 >= n || (s[i + 1] & 0xc0) != 0x80 ||
			    (s[i + 2] & 0xc0) != 0x80 ||
			    (c == 0xe0 && s[i + 1] < 0xa0) ||
			    (c == 0xed && s[i + 1] > 0x9f))
				return (long)i;
			i += 3;
		} else if (c >= 0xf0 && c <= 0xf4) {
			if (i + 3 >= n || (s[i + 1] & 0xc0) != 0x80 ||
			    (s[i + 2] & 0xc0) != 0x80 ||
			    (s[i + 3] & 0xc0) != 0x80 ||
			    (c == 0xf0 && s[i + 1] < 0x90) ||
			    (c == 0xf4 && s[i + 1] > 0x8f))
				return (long)i;
			i += 4;
		} else {
			return (long)i;
		}
	}
	return -1;
}

/* The length of the well-formed UTF-8 sequence at s[0..n), or 0. */
static size_t
seq_len(const unsigned char *s, size_t n)
{
	size_t k;

	if (s[0] < 0x80)
		return 1;
	k = s[0] >= 0xc2 && s[0] <= 0xdf ? 2 : s[0] >= 0xe0 &&
	    s[0] <= 0xef ? 3 : s[0] >= 0xf0 && s[0] <= 0xf4 ? 4 : 0;
	if (k == 0 || k > n)
		return 0;
	return utf8_invalid_at(s, k) < 0 ? k : 0;
}

void
buf_add_visible(struct buf *b, const char *s, size_t n)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t i = 0, k;

	while (i < n) {
		if (p[i] >= 0x20 && p[i] < 0x7f) {
			for (k = i; k < n && p[k] >= 0x20 && p[k] < 0x7f; k++)
				;
			buf_add(b, p + i, k - i);
			i = k;
			continue;
		}
		k = seq_len(p + i, n - i);
		if (k == 0 || k == 1) {
			/* Controls, DEL and bytes that are not UTF-8. */
			buf_printf(b, "\\x%02x", p[i]);
			i++;
		} else if (k == 2 && p[i] == 0xc2 && p[i + 1] < 0xa0) {
			/* C1 controls: terminals act on some of them. */
			buf_printf(b, "\\u%04x", p[i + 1]);
			i += 2;
		} else if (k == 3 && p[i] == 0xef && p[i + 1] == 0xbb &&
		    p[i + 2] == 0xbf) {
			/* A byte-order mark is invisible: show it. */
			buf_adds(b, "\\ufeff");
			i += 3;
		} else {
			buf_add(b, p + i, k);
			i += k;
		}
	}
}
