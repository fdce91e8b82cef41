/*
 * html.h - writing HTML for people: text escaped so that input bytes can
 * never become markup, numbers formatted the way a reader expects, and
 * the small SVG pieces (sparklines, axis ticks) every chart is made of.
 * Everything appends to a struct buf (asin.h).
 */
#ifndef HTML_H
#define HTML_H

#include <stddef.h>

#include "asin.h"

/*
 * Append s[0..n) as HTML text, safe both between tags and inside a
 * double- or single-quoted attribute: & < > " ' become references, and
 * bytes that are not well-formed UTF-8, NUL and the control characters
 * HTML forbids (all of C0 but tab, newline and carriage return, and DEL)
 * become U+FFFD, so invalid input shows as a visible replacement
 * character instead of breaking the page.  Returns the number of
 * replacement characters written.
 */
size_t html_esc(struct buf *, const char *s, size_t n);
/* html_esc() of a NUL-terminated string. */
size_t html_escs(struct buf *, const char *s);
/*
 * As html_esc() but stops after max characters (code points), ending
 * with an ellipsis when it cut.  Returns 1 if it cut.
 */
int html_esc_max(struct buf *, const char *s, size_t n, size_t max);

/*
 * Format v with dec decimals and a comma between thousands
 * ("1,234,567.89", "-0.5").  sign: put a '+' before positive values.
 * v must be finite.  dst holds at least HTML_NUMLEN bytes.  Returns dst.
 */
#define HTML_NUMLEN 64
char *html_num(char *dst, double v, int dec, int sign);
/* v as a percentage: 0.0727 with dec 2 gives "7.27%" ("+7.27%" with sign). */
char *html_pct(char *dst, double v, int dec, int sign);
/*
 * v as money in the currency of marketplace (an Amazon marketplace code:
 * US "$19.99", DE "€19.99", JP "¥1,999").  An unknown marketplace gives
 * the bare number with two decimals.
 */
char *html_money(char *dst, double v, const char *marketplace);
/* A number with about 4 significant digits for tables ("0.02199"). */
char *html_sig(char *dst, double v);

/*
 * Axis ticks for the range [lo, hi]: at most max "nice" values (1, 2 or
 * 5 times a power of ten apart) covering the range.  Writes them to
 * t[0..max) and returns their count; *lo and *hi are widened to the
 * outer ticks.  lo < hi.
 */
size_t html_ticks(double *lo, double *hi, size_t max, double *t);

/*
 * An SVG path that draws y[0..n) on a w x h grid of whole units: point i
 * at column x[i] (0 <= x[i] < w, increasing), row y scaled so that ymin
 * is at the bottom (or the top when invert is set) and ymax at the other
 * edge.  Points are joined by lines; a NAN value leaves a gap.  Coordinates are whole numbers and
 * moves relative, so a point costs about 3 bytes: the path is meant for
 * a viewBox of w x h drawn larger.  Appends only the d attribute's
 * value.  Returns the number of points drawn.
 */
size_t html_spark_path(struct buf *, const int *x, const double *y,
    size_t n, int w, int h, double ymin, double ymax, int invert);

#endif
