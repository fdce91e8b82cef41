/*
 * benchtime - run a command and report its wall time, CPU time and peak
 * RSS, for tests/bench/lib.sh.  GNU time does the same with 10 ms steps
 * and is not always installed; this reads the clock in nanoseconds and
 * the rusage of wait4() in microseconds.  CPU time and peak RSS include
 * the children the command waited for, so `sh -c 'a | b'` counts every
 * stage's CPU and reports the largest single process's RSS.
 *
 * The report is one line "WALL_S USER_S SYS_S MAXRSS_KB", to -o FILE or
 * else standard error.  The exit status is the command's, 128 + N when
 * signal N killed it, 127 when it could not be run.
 */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "asin.h"

static const char usage_text[] =
    "usage: benchtime [-o file] command [argument ...]\n"
    "Run command; report \"wall_s user_s sys_s maxrss_kb\" on one line.\n"
    "\n"
    "  -o, --output FILE     write the report to FILE, not standard error\n"
    "  -h, --help            print this help and exit\n"
    "  -V, --version         print the version and exit\n";

static double
tv_seconds(const struct timeval *tv)
{
	return (double)tv->tv_sec + (double)tv->tv_usec / 1e6;
}

int
main(int argc, char *argv[])
{
	static const struct option longopts[] = {
		{ "output", required_argument, NULL, 'o' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 }
	};
	struct timespec t0, t1;
	struct rusage ru;
	const char *path = NULL;
	FILE *rep = stderr;
	pid_t pid;
	int ch, st;

	diag_init(argv[0]);
	/* "+": options end at the command, whose own flags are its own. */
	while ((ch = getopt_long(argc, argv, "+o:hV", longopts, NULL)) != -1) {
		switch (ch) {
		case 'o':
			path = optarg;
			break;
		case 'h':
			fputs(usage_text, stdout);
			return fflush(stdout) == 0 ? EXIT_OK : EXIT_FAIL;
		case 'V':
			printf("%s %s\n", diag_prog(), ASIN_VERSION);
			return fflush(stdout) == 0 ? EXIT_OK : EXIT_FAIL;
		default:
			fprintf(stderr, "Try '%s --help' for more "
			    "information.\n", diag_prog());
			return EXIT_USAGE;
		}
	}
	if (optind >= argc)
		usage_error("no command given");
	if (path != NULL && (rep = fopen(path, "w")) == NULL)
		die("%s:", path);

	clock_gettime(CLOCK_MONOTONIC, &t0);
	if ((pid = fork()) < 0)
		die("fork:");
	if (pid == 0) {
		execvp(argv[optind], argv + optind);
		warn("%s:", argv[optind]);
		_exit(127);
	}
	/* Like GNU time: the command gets the terminal's signals, we wait. */
	signal(SIGINT, SIG_IGN);
	signal(SIGQUIT, SIG_IGN);
	while (wait4(pid, &st, 0, &ru) < 0)
		if (errno != EINTR)
			die("wait4:");
	clock_gettime(CLOCK_MONOTONIC, &t1);

	fprintf(rep, "%.6f %.6f %.6f %ld\n",
	    (double)(t1.tv_sec - t0.tv_sec) +
	    (double)(t1.tv_nsec - t0.tv_nsec) / 1e9,
	    tv_seconds(&ru.ru_utime), tv_seconds(&ru.ru_stime), ru.ru_maxrss);
	if (fflush(rep) != 0 || (rep != stderr && fclose(rep) != 0))
		die("%s: write error:", path ? path : "<stderr>");
	if (WIFSIGNALED(st))
		return 128 + WTERMSIG(st);
	return WEXITSTATUS(st);
}
