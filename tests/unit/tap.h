/*
 * tap.h - a minimal TAP producer for the C unit tests.  Each check prints
 * "ok N - what" or "not ok N - what"; tap_done() prints the plan and
 * returns the exit status.  Header-only so each test file stays alone.
 */
#ifndef TAP_H
#define TAP_H

#include <math.h>
#include <stdio.h>
#include <string.h>

static int tap_n, tap_failed;

static inline int
tap_ok(int cond, const char *what)
{
	tap_n++;
	if (!cond)
		tap_failed++;
	printf("%sok %d - %s\n", cond ? "" : "not ", tap_n, what);
	return cond;
}

/* Strings equal (NULL-safe). */
static inline int
tap_str(const char *got, const char *want, const char *what)
{
	int ok = got != NULL && want != NULL ? strcmp(got, want) == 0 :
	    got == want;

	if (!tap_ok(ok, what))
		printf("#   got  '%s'\n#   want '%s'\n", got ? got : "(null)",
		    want ? want : "(null)");
	return ok;
}

/* Doubles within rel relative (or abs absolute, whichever is looser). */
static inline int
tap_near(double got, double want, double rel, const char *what)
{
	double d = fabs(got - want);
	int ok = (isnan(got) && isnan(want)) || got == want ||
	    d <= rel * fabs(want) || d <= rel;

	if (!tap_ok(ok, what))
		printf("#   got  %.17g\n#   want %.17g\n", got, want);
	return ok;
}

static inline int
tap_done(void)
{
	printf("1..%d\n", tap_n);
	return tap_failed ? 1 : 0;
}

#endif
