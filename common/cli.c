/*
 * cli.c - what every tool's command line shares: the common flags, strict
 * number parsing for flag values, list splitting, and the record
 * accounting behind --rejects, --max-rejects and --stats.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "asin.h"

const char cli_common_help[] =
    "Common options:\n"
    "  -h, --help            print this help and exit\n"
    "  -V, --version         print the version and exit\n"
    "  -q, --quiet           print no warnings, only errors\n"
    "  -v, --verbose         print a summary line on stderr at the end\n"
    "      --rejects FILE    write bad records to FILE as JSON and go on\n"
    "      --max-rejects N   fail past N rejects (N% for a share of input)\n"
    "      --stats FILE      write the record counts to FILE as JSON\n"
    "      --max-line SIZE   longest input line accepted (default 16M)\n"
    "      --allow-duplicate-keys\n"
    "                        take a key that appears twice in a record (the\n"
    "                        last value counts) instead of rejecting it\n"
    "      --keyed K         strip K leading TAB-separated key fields from\n"
    "                        each line (asin-shard --emit-key, Hadoop, Spark)\n";

void
cli_init(struct cli_common *co, const char *usage)
{
	memset(co, 0, sizeof(*co));
	co->usage = usage;
	co->max_rejects = -1;
	co->max_rejects_pct = -1;
	co->max_line = ND_MAX_LINE_DEFAULT;
}

/* "16M", "64K", "1048576": a size in bytes with an optional suffix. */
static size_t
parse_size(const char *flag, const char *arg)
{
	char *end;
	unsigned long long v, mul = 1;

	errno = 0;
	if (*arg < '0' || *arg > '9')
		goto bad;
	v = strtoull(arg, &end, 10);
	if (errno != 0)
		goto bad;
	if (*end == 'K' || *end == 'k')
		mul = 1ull << 10, end++;
	else if (*end == 'M' || *end == 'm')
		mul = 1ull << 20, end++;
	else if (*end == 'G' || *end == 'g')
		mul = 1ull << 30, end++;
	if (*end != '\0' || v == 0 || v > (1ull << 40) / mul)
		goto bad;
	return (size_t)(v * mul);
bad:
	usage_error("option %s: expected a size such as 65536, 64K or 16M, "
	    "got '%s'", flag, arg);
}

int
cli_common_opt(struct cli_common *co, int ch, const char *arg)
{
	size_t n;

	switch (ch) {
	case 'h':
		fputs(co->usage, stdout);
		fputs(cli_common_help, stdout);
		if (fflush(stdout) != 0 || ferror(stdout))
			die("<stdout>: write error:");
		exit(EXIT_OK);
	case 'V':
		printf("%s %s\n", diag_prog(), ASIN_VERSION);
		if (fflush(stdout) != 0 || ferror(stdout))
			die("<stdout>: write error:");
		exit(EXIT_OK);
	case 'q':
		co->quiet = 1;
		return 1;
	case 'v':
		co->verbose = 1;
		return 1;
	case OPT_REJECTS:
		co->rejects_path = arg;
		return 1;
	case OPT_STATS:
		co->stats_path = arg;
		return 1;
	case OPT_MAX_LINE:
		co->max_line = parse_size("--max-line", arg);
		return 1;
	case OPT_ALLOW_DUP_KEYS:
		co->allow_dup_keys = 1;
		rec_allow_duplicate_keys(1);
		return 1;
	case OPT_KEYED:
		co->keyed = (int)cli_int("--keyed", arg, 0, 64);
		nd_keyed_default(co->keyed);
		return 1;
	case OPT_MAX_REJECTS:
		n = strlen(arg);
		if (n > 1 && arg[n - 1] == '%') {
			char *num = xstrndup(arg, n - 1);
			double pct;

			if (!parse_double(num, n - 1, &pct) || pct < 0 ||
			    pct > 100) {
				free(num);
				usage_error("option --max-rejects: expected a "
				    "count or a percentage from 0%% to 100%%, "
				    "got '%s'", arg);
			}
			free(num);
			co->max_rejects_pct = pct / 100;
			co->max_rejects = -1;
		} else {
			co->max_rejects = cli_int("--max-rejects", arg, 0,
			    LLONG_MAX);
			co->max_rejects_pct = -1;
		}
		return 1;
	case '?':
		/*
		 * A tool calling getopt_long itself: getopt has named the
		 * bad option.  cli_getopt() words it as every other message.
		 */
		fprintf(stderr, "Try '%s --help' for more information.\n",
		    diag_prog());
		exit(EXIT_USAGE);
	case ':':
		fprintf(stderr, "Try '%s --help' for more information.\n",
		    diag_prog());
		exit(EXIT_USAGE);
	}
	return 0;
}

/*
 * The words for the option getopt_long just refused (opterr off): its
 * name as the user typed it, from argv, and what is wrong with it.
 */
ASIN_NORETURN static void
bad_option(int argc, char *const argv[], const char *shortopts,
    const struct option *longopts)
{
	const char *e = optind > 0 && optind <= argc ? argv[optind - 1] : "";
	const struct option *lo, *hit = NULL;
	size_t len;
	int nhit = 0;

	if (strncmp(e, "--", 2) == 0 && e[2] != '\0') {
		len = strcspn(e + 2, "=");
		for (lo = longopts; lo != NULL && lo->name != NULL; lo++) {
			if (strncmp(lo->name, e + 2, len) != 0)
				continue;
			if (strlen(lo->name) == len) {
				hit = lo, nhit = 1;
				break;
			}
			hit = lo, nhit++;
		}
		if (nhit > 1)
			usage_error("option '--%.*s' is ambiguous", (int)len,
			    e + 2);
		if (hit == NULL || optopt == 0)
			usage_error("unknown option '--%.*s'", (int)len, e + 2);
		if (hit->has_arg == no_argument)
			usage_error("option '--%s' takes no argument",
			    hit->name);
		usage_error("option '--%s' needs an argument", hit->name);
	}
	if (optopt > 0 && optopt < 256 && optopt != ':' &&
	    strchr(shortopts, optopt) != NULL)
		usage_error("option '-%c' needs an argument", optopt);
	if (optopt > 0 && optopt < 256)
		usage_error("unknown option '-%c'", optopt);
	usage_error("unknown option '%s'", e);
}

int
cli_getopt(int argc, char *const argv[], const char *shortopts,
    const struct option *longopts)
{
	return cli_getopt_index(argc, argv, shortopts, longopts, NULL);
}

int
cli_getopt_index(int argc, char *const argv[], const char *shortopts,
    const struct option *longopts, int *longindex)
{
	int ch;

	opterr = 0;
	ch = getopt_long(argc, argv, shortopts, longopts, longindex);
	if (ch == '?' || ch == ':')
		bad_option(argc, argv, shortopts, longopts);
	return ch;
}

int
parse_int(const char *s, size_t n, long long *out)
{
	char tmp[32], *end;
	long long v;

	if (n == 0 || n >= sizeof(tmp))
		return 0;
	memcpy(tmp, s, n);
	tmp[n] = '\0';
	if (tmp[0] == ' ' || tmp[0] == '\t' || tmp[0] == '+')
		return 0;
	errno = 0;
	v = strtoll(tmp, &end, 10);
	if (errno != 0 || *end != '\0')
		return 0;
	*out = v;
	return 1;
}

int
parse_double(const char *s, size_t n, double *out)
{
	char tmp[64], *end;
	double v;

	if (n == 0 || n >= sizeof(tmp))
		return 0;
	memcpy(tmp, s, n);
	tmp[n] = '\0';
	/* strtod accepts what a flag value should not: space, hex, inf. */
	if (tmp[0] == ' ' || tmp[0] == '\t' || tmp[0] == '+' ||
	    strpbrk(tmp, "xXnNiI") != NULL)
		return 0;
	errno = 0;
	v = strtod(tmp, &end);
	if (*end != '\0' || end == tmp || !isfinite(v) ||
	    (errno == ERANGE && fabs(v) > 1))
		return 0;
	*out = v;
	return 1;
}

long long
cli_int(const char *flag, const char *arg, long long min, long long max)
{
	long long v;

	if (!parse_int(arg, strlen(arg), &v) || v < min || v > max) {
		if (max == LLONG_MAX)
			usage_error("option %s: expected an integer of at "
			    "least %lld, got '%s'", flag, min, arg);
		usage_error("option %s: expected an integer from %lld to "
		    "%lld, got '%s'", flag, min, max, arg);
	}
	return v;
}

double
cli_double(const char *flag, const char *arg, double min, double max)
{
	double v;

	if (!parse_double(arg, strlen(arg), &v) || v < min || v > max)
		usage_error("option %s: expected a number from %g to %g, "
		    "got '%s'", flag, min, max, arg);
	return v;
}

char **
cli_split(const char *flag, const char *list, size_t *np)
{
	char **v;
	size_t n = 1, i = 0;
	const char *p, *q;

	for (p = list; *p; p++)
		if (*p == ',')
			n++;
	v = xcalloc(n + 1, sizeof(*v));
	for (p = list;; p = q + 1) {
		q = strchr(p, ',');
		if (q == NULL)
			q = p + strlen(p);
		if (q == p) {
			strv_free(v);
			usage_error("option %s: empty item in list '%s'",
			    flag, list);
		}
		v[i++] = xstrndup(p, (size_t)(q - p));
		if (*q == '\0')
			break;
	}
	if (np != NULL)
		*np = i;
	return v;
}

void
strv_free(char **v)
{
	char **p;

	if (v == NULL)
		return;
	for (p = v; *p; p++)
		free(*p);
	free(v);
}

/*
 * The accounting of the run, while it is open: a run that dies after
 * reading input (--max-rejects passed, a bad line, a write error) still
 * leaves its counts in --stats, from an exit handler.  Set by acct_init()
 * and cleared by acct_finish(), once per run, as an option is.
 */
static struct acct *live_acct;

static void
write_stats(const struct acct *ac, const char *extra, int at_exit)
{
	char *s;

	s = xasprintf("{\"in\":%lld,\"out\":%lld,\"rejected\":%lld,"
	    "\"merged\":%lld,\"dropped\":%lld%s%s}\n", ac->in, ac->out,
	    ac->rejected, ac->merged, ac->dropped,
	    extra && *extra ? "," : "", extra ? extra : "");
	if (write_atomic(ac->opt->stats_path, s, strlen(s)) != 0) {
		free(s);
		/* Not die(): this also runs from the exit handler. */
		warn("%s: cannot write stats:", ac->opt->stats_path);
		if (!at_exit)
			exit(EXIT_FAIL);
		return;
	}
	free(s);
}

static void
stats_at_exit(void)
{
	struct acct *ac = live_acct;

	if (ac == NULL)
		return;
	live_acct = NULL;
	if (ac->rejects != NULL)
		fflush(ac->rejects);
	if (ac->opt->stats_path != NULL)
		write_stats(ac, NULL, 1);
}

void
acct_init(struct acct *ac, const struct cli_common *opt)
{
	static int registered;

	memset(ac, 0, sizeof(*ac));
	ac->opt = opt;
	if (opt->stats_path != NULL && !registered) {
		atexit(stats_at_exit);
		registered = 1;
	}
	live_acct = ac;
	if (opt->rejects_path != NULL) {
		ac->rejects = fopen(opt->rejects_path, "w");
		if (ac->rejects == NULL)
			die("%s: cannot open rejects file:", opt->rejects_path);
	}
}

static void
add_base64(struct buf *b, const unsigned char *p, size_t n)
{
	static const char tab[] =
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	size_t i;

	buf_addc(b, '"');
	for (i = 0; i + 2 < n; i += 3) {
		unsigned v = (unsigned)p[i] << 16 | (unsigned)p[i + 1] << 8 |
		    p[i + 2];
		char q[4] = { tab[v >> 18], tab[v >> 12 & 63], tab[v >> 6 & 63],
		    tab[v & 63] };
		buf_add(b, q, 4);
	}
	if (n - i == 1) {
		unsigned v = (unsigned)p[i] << 16;
		char q[4] = { tab[v >> 18], tab[v >> 12 & 63], '=', '=' };
		buf_add(b, q, 4);
	} else if (n - i == 2) {
		unsigned v = (unsigned)p[i] << 16 | (unsigned)p[i + 1] << 8;
		char q[4] = { tab[v >> 18], tab[v >> 12 & 63], tab[v >> 6 & 63],
		    '=' };
		buf_add(b, q, 4);
	}
	buf_addc(b, '"');
}

void
acct_reject(struct acct *ac, const char *src, long line, const char *raw,
    size_t len, const char *error)
{
	struct buf b;

	ac->rejected++;
	if (ac->rejects == NULL) {
		if (ac->sink != NULL)
			out_flush(ac->sink);
		die_at(src, line, "%s", error);
	}
	buf_init(&b);
	buf_adds(&b, "{\"source\":");
	buf_add_jstr(&b, src, strlen(src));
	buf_printf(&b, ",\"line\":%ld,\"error\":", line);
	buf_add_jstr(&b, error, strlen(error));
	/* JSON cannot carry bytes that are not UTF-8: keep them in base64. */
	if (utf8_invalid_at((const unsigned char *)raw, len) < 0) {
		buf_adds(&b, ",\"raw\":");
		buf_add_jstr(&b, raw, len);
	} else {
		buf_adds(&b, ",\"raw_base64\":");
		add_base64(&b, (const unsigned char *)raw, len);
	}
	buf_adds(&b, "}\n");
	if (fwrite(b.data, 1, b.len, ac->rejects) != b.len)
		die("%s: write error:", ac->opt->rejects_path);
	buf_free(&b);
	if (!ac->opt->quiet && ac->opt->verbose)
		warn_at(src, line, "rejected: %s", error);
	if (ac->opt->max_rejects >= 0 && ac->rejected > ac->opt->max_rejects) {
		fflush(ac->rejects);
		if (ac->sink != NULL)
			out_flush(ac->sink);
		die_at(src, line, "too many rejects: %lld (--max-rejects %lld)",
		    ac->rejected, ac->opt->max_rejects);
	}
}

int
acct_finish(struct acct *ac, const char *extra)
{
	int status = EXIT_OK;

	if (ac->rejects != NULL) {
		FILE *f = ac->rejects;
		int bad = fflush(f) != 0 || ferror(f);

		ac->rejects = NULL;	/* the exit handler must not touch it */
		if (fclose(f) != 0 || bad)
			die("%s: write error:", ac->opt->rejects_path);
	}
	if (ac->opt->max_rejects_pct >= 0 && ac->in > 0 &&
	    (double)ac->rejected / (double)ac->in > ac->opt->max_rejects_pct) {
		warn("too many rejects: %lld of %lld records (--max-rejects "
		    "%g%%)", ac->rejected, ac->in,
		    ac->opt->max_rejects_pct * 100);
		status = EXIT_FAIL;
	}
	if (live_acct == ac)
		live_acct = NULL;
	if (ac->opt->stats_path != NULL)
		write_stats(ac, extra, 0);
	if (ac->opt->verbose)
		note("%lld in, %lld out, %lld rejected, %lld merged, %lld "
		    "dropped", ac->in, ac->out, ac->rejected, ac->merged,
		    ac->dropped);
	return status;
}

/* Write to a device, FIFO or other special file as it is. */
static int
write_in_place(const char *path, const void *data, size_t len)
{
	const char *p = data;
	int fd = open(path, O_WRONLY | O_CLOEXEC), saved;
	ssize_t w;

	if (fd < 0)
		return -1;
	while (len > 0) {
		w = write(fd, p, len);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0) {
			saved = w < 0 ? errno : EIO;
			close(fd);
			errno = saved;
			return -1;
		}
		p += w;
		len -= (size_t)w;
	}
	return close(fd);
}

int
write_atomic(const char *path, const void *data, size_t len)
{
	char *tmp, *dir, *slash;
	const char *p = data;
	struct stat st;
	int fd, dfd, saved;
	ssize_t w;

	if (stat(path, &st) == 0 && !S_ISREG(st.st_mode))
		return write_in_place(path, data, len);
	tmp = xasprintf("%s.tmp.%ld", path, (long)getpid());
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0) {
		saved = errno;
		free(tmp);
		errno = saved;
		return -1;
	}
	while (len > 0) {
		w = write(fd, p, len);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			goto fail;
		p += w;
		len -= (size_t)w;
	}
	if (fsync(fd) != 0 || close(fd) != 0) {
		fd = -1;
		goto fail;
	}
	fd = -1;
	if (rename(tmp, path) != 0)
		goto fail;
	free(tmp);
	/* The rename is durable only once the directory is synced too. */
	dir = xstrdup(path);
	slash = strrchr(dir, '/');
	if (slash == dir)
		slash[1] = '\0';
	else if (slash != NULL)
		*slash = '\0';
	dfd = open(slash ? dir : ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd >= 0) {
		fsync(dfd);
		close(dfd);
	}
	free(dir);
	return 0;
fail:
	saved = errno ? errno : EIO;
	if (fd >= 0)
		close(fd);
	unlink(tmp);
	free(tmp);
	errno = saved;
	return -1;
}
