/*
 * fuzz/model.c - libFuzzer target for asin-rank's model file loader
 * (bin/asin-rank/model.c): the input is the file.  model_load() refuses a
 * bad file by dying with a located message, as the tool must; here exit()
 * is wrapped (-Wl,--wrap=exit) so that a refusal returns to the next
 * input.  A model that loads is then used as the tool uses it: scored on
 * a few rows (missing values, extremes) and exported as XGBoost JSON,
 * which must be one valid JSON text.  Leak checks are off: a refusal
 * leaves what the dying loader held, which exit() would have freed.  That
 * piles up (2 GB after about a million refusals, libFuzzer's default RSS
 * limit), so model.options raises the limit for make fuzz.
 *
 * FUZZ-LINK: bin/asin-rank/model.c
 * FUZZ-LDFLAGS: -Wl,--wrap=exit
 */
#include <math.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "../../bin/asin-rank/rank.h"
#include "scan.h"

int LLVMFuzzerTestOneInput(const uint8_t *, size_t);
void __wrap_exit(int);
const char *__asan_default_options(void);
void __real_exit(int) __attribute__((noreturn));

/* main.c's number writer (rank.h), which a target cannot link. */
void
jnum(struct buf *b, double v)
{
	char tmp[40];

	if (!isfinite(v)) {
		buf_adds(b, "null");
		return;
	}
	buf_add(b, tmp, fmt_double(tmp, v));
}

static jmp_buf back;
static int armed;

const char *
__asan_default_options(void)
{
	return "detect_leaks=0";
}

/* A die() inside the loader: back to the harness instead. */
void
__wrap_exit(int status)
{
	if (armed) {
		armed = 0;
		longjmp(back, 1);
	}
	__real_exit(status);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static int fd = -1;
	static char path[64];
	static struct scan sc;
	static struct model *volatile m;
	double x[8], s;
	struct buf b;
	size_t i, r;

	if (size > 1 << 20)
		return 0;
	if (fd < 0) {
		diag_init("fuzz-model");
		if ((fd = memfd_create("model", 0)) < 0)
			die("memfd_create:");
		snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
		scan_init(&sc);
	}
	if (ftruncate(fd, 0) != 0 || pwrite(fd, data, size, 0) !=
	    (ssize_t)size)
		die("%s: write error:", path);
	m = NULL;
	armed = 1;
	if (setjmp(back) != 0)
		return 0;	/* refused, with a message */
	m = model_load(path);
	armed = 0;
	for (r = 0; r < 4; r++) {
		for (i = 0; i < 8; i++)
			x[i] = r == 0 ? NAN : r == 1 ? 0 : r == 2 ?
			    (double)i * 1.5 - 3 : -1e30;
		if (m->nf > 8)
			break;
		s = model_predict(m, x);
		(void)s;
	}
	buf_init(&b);
	model_xgboost(m, &b);
	if (!scan_text(&sc, b.data, b.len)) {
		fprintf(stderr, "the XGBoost export is not JSON: %s at %zu\n",
		    scan_strerror(sc.err), sc.err_off);
		abort();
	}
	buf_free(&b);
	model_free(m);
	return 0;
}
