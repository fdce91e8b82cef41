/*
 * faultinject - an LD_PRELOAD shim that fails the Nth I/O or allocation
 * call of a run, for the fault walk (tests/faultwalk.bats) in the manner
 * of SQLite's failure-path tests and jq's I/O error injection.  Built by
 * the Makefile as $(BUILD)/tests/faultinject.so (-fPIC -shared); it is
 * not a tool and is not linked with libasin.
 *
 * Environment (read once, when main() is entered):
 *   FAULT_CALL   comma list of the calls counted and failed, or "all"
 *                (the default): read write writev pread pwrite fsync
 *                fdatasync ftruncate rename renameat open openat close
 *                mmap malloc calloc realloc fread fwrite fflush fclose
 *                recv send
 *   FAULT_N      the 1-based number of the counted call that fails; 0 or
 *                unset fails nothing (counting mode)
 *   FAULT_PERSIST=1  every counted call from the Nth on fails (a disk
 *                that stays full), not only the Nth
 *   FAULT_SHORT=1    a failing write, writev or pwrite writes half its
 *                bytes and returns that count instead of failing
 *   FAULT_ERRNO  the errno to fail with, as a number, instead of the
 *                call's own (read EIO, write ENOSPC, malloc ENOMEM, ...)
 *   FAULT_REPORT a file that gets, when the process exits through exit(),
 *                one line "calls N injected M"
 *   FAULT_LOG    a file that gets one line per injected fault:
 *                "fault CALL #N errno E"
 *   FAULT_SKIP   comma list of shared-object name parts whose calls
 *                (theirs, or made with one of them on the stack) are
 *                neither counted nor failed (default
 *                "libjq,libonig": libjq aborts on a failed allocation,
 *                which is its documented behaviour, not a bug of ours)
 *   FAULT_STDERR=1   count and fail writes to fd 2 too; by default the
 *                located message a fault causes must get through
 *   FAULT_PROG   a pattern (fnmatch) for the program's name: other
 *                programs in the run (timeout, env) stay unarmed
 *
 * Calls made before main() (the dynamic loader, library constructors)
 * are never counted: the shim wraps __libc_start_main and arms itself in
 * a trampoline around main.  The malloc family is interposed with glibc's
 * __libc_malloc and friends, so no dlsym() runs inside malloc.  Counters
 * are atomic: asin-fetch's workers call in from several threads (the
 * walk runs it with -j 1, so the order of calls is the same each run).
 *
 * Under AddressSanitizer the sanitizer owns malloc; the walk does not run
 * on sanitizer builds.  glibc only (stdio error flags, __libc_malloc).
 */
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/types.h>
#include <sys/uio.h>

#include <dlfcn.h>
#include <execinfo.h>
#include <errno.h>
#include <fcntl.h>
#include <fnmatch.h>
#include <link.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

enum call {
	C_READ, C_WRITE, C_WRITEV, C_PREAD, C_PWRITE, C_FSYNC, C_FDATASYNC,
	C_FTRUNCATE, C_RENAME, C_RENAMEAT, C_OPEN, C_OPENAT, C_CLOSE, C_MMAP,
	C_MALLOC, C_CALLOC, C_REALLOC, C_FREAD, C_FWRITE, C_FFLUSH, C_FCLOSE,
	C_RECV, C_SEND, C_NCALLS
};

static const struct {
	const char *name;
	int err;
} calls[C_NCALLS] = {
	[C_READ] = { "read", EIO },
	[C_WRITE] = { "write", ENOSPC },
	[C_WRITEV] = { "writev", ENOSPC },
	[C_PREAD] = { "pread", EIO },
	[C_PWRITE] = { "pwrite", ENOSPC },
	[C_FSYNC] = { "fsync", EIO },
	[C_FDATASYNC] = { "fdatasync", EIO },
	[C_FTRUNCATE] = { "ftruncate", EIO },
	[C_RENAME] = { "rename", EIO },
	[C_RENAMEAT] = { "renameat", EIO },
	[C_OPEN] = { "open", EMFILE },
	[C_OPENAT] = { "openat", EMFILE },
	[C_CLOSE] = { "close", EIO },
	[C_MMAP] = { "mmap", ENOMEM },
	[C_MALLOC] = { "malloc", ENOMEM },
	[C_CALLOC] = { "calloc", ENOMEM },
	[C_REALLOC] = { "realloc", ENOMEM },
	[C_FREAD] = { "fread", EIO },
	[C_FWRITE] = { "fwrite", ENOSPC },
	[C_FFLUSH] = { "fflush", ENOSPC },
	[C_FCLOSE] = { "fclose", ENOSPC },
	[C_RECV] = { "recv", ECONNRESET },
	[C_SEND] = { "send", ECONNRESET },
};

/* The shim's whole state; set once before main, then only counters move. */
static int armed;
static int selected[C_NCALLS];
static long fault_n;
static int persist, shortw, err_override, count_stderr;
static long ncalls, ninjected;
static const char *report_path, *log_path;
#define MAXSKIP 8
static struct {
	uintptr_t lo, hi;
} skip[MAXSKIP];
static int nskip;

extern void *__libc_malloc(size_t);
extern void *__libc_calloc(size_t, size_t);
extern void *__libc_realloc(void *, size_t);

/* The next definition of a symbol; NULL only if libc lacks it. */
static void *
next(const char *name)
{
	return dlsym(RTLD_NEXT, name);
}

#define REAL(type, name, args) \
	static type (*real_##name) args; \
	if (real_##name == NULL) \
		real_##name = (type (*) args)next(#name)

/* A line to a file by raw system calls: safe inside any wrapper. */
static void
logline(const char *path, const char *s)
{
	int fd = (int)syscall(SYS_openat, AT_FDCWD, path,
	    O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);

	if (fd < 0)
		return;
	syscall(SYS_write, fd, s, strlen(s));
	syscall(SYS_close, fd);
}

static int
in_skipped(uintptr_t a)
{
	int i;

	for (i = 0; i < nskip; i++)
		if (a >= skip[i].lo && a < skip[i].hi)
			return 1;
	return 0;
}

static __thread int in_backtrace;

/*
 * Whether a call comes from a skipped library: its caller is in one, or
 * one is on the stack (libjq's parser calls strdup, which calls malloc
 * from libc).  A backtrace costs a microsecond or two: fine for the
 * small runs of a walk.
 */
static int
skipped(const void *ret)
{
	void *frames[48];
	int i, n;

	if (nskip == 0)
		return 0;
	if (in_skipped((uintptr_t)ret))
		return 1;
	in_backtrace = 1;
	n = backtrace(frames, 48);
	in_backtrace = 0;
	for (i = 0; i < n; i++)
		if (in_skipped((uintptr_t)frames[i]))
			return 1;
	return 0;
}

/*
 * Count a call of kind c (from return address ret) and say whether it
 * must fail: 0 no, 1 fail; errno is set for a failure.  Calls from a
 * skipped library are not counted.
 */
static int
hit(enum call c, const void *ret)
{
	long n;
	char msg[96];

	if (!armed || !selected[c] || in_backtrace || skipped(ret))
		return 0;
	n = __atomic_add_fetch(&ncalls, 1, __ATOMIC_SEQ_CST);
	if (fault_n <= 0 || n < fault_n || (n > fault_n && !persist))
		return 0;
	__atomic_add_fetch(&ninjected, 1, __ATOMIC_SEQ_CST);
	if (log_path != NULL) {
		snprintf(msg, sizeof msg, "fault %s #%ld errno %d\n",
		    calls[c].name, n, err_override ? err_override : calls[c].err);
		logline(log_path, msg);
	}
	errno = err_override ? err_override : calls[c].err;
	return 1;
}

#define RET __builtin_return_address(0)

static int
skip_cb(struct dl_phdr_info *info, size_t size, void *data)
{
	const char *names = data, *p;
	char part[64];
	size_t len;
	int i;

	(void)size;

	if (info->dlpi_name == NULL || info->dlpi_name[0] == '\0')
		return 0;
	for (p = names; *p != '\0' && nskip < MAXSKIP; p += len + (p[len] == ',')) {
		len = strcspn(p, ",");
		if (len == 0 || len >= sizeof part)
			continue;
		memcpy(part, p, len);
		part[len] = '\0';
		if (strstr(info->dlpi_name, part) == NULL)
			continue;
		for (i = 0; i < info->dlpi_phnum; i++) {
			const ElfW(Phdr) *ph = &info->dlpi_phdr[i];

			if (ph->p_type != PT_LOAD || !(ph->p_flags & PF_X))
				continue;
			if (nskip < MAXSKIP) {
				skip[nskip].lo = info->dlpi_addr + ph->p_vaddr;
				skip[nskip].hi = skip[nskip].lo + ph->p_memsz;
				nskip++;
			}
		}
		break;
	}
	return 0;
}

static void
report(void)
{
	char msg[96];

	if (report_path == NULL)
		return;
	snprintf(msg, sizeof msg, "calls %ld injected %ld\n", ncalls, ninjected);
	logline(report_path, msg);
}

/* Read the environment and arm the counters; called just before main. */
static void
arm(void)
{
	const char *sel = getenv("FAULT_CALL"), *s;
	int c;

	s = getenv("FAULT_PROG");
	if (s != NULL && fnmatch(s, program_invocation_short_name, 0) != 0)
		return;

	if (sel == NULL || *sel == '\0' || strcmp(sel, "all") == 0) {
		for (c = 0; c < C_NCALLS; c++)
			selected[c] = 1;
	} else {
		for (c = 0; c < C_NCALLS; c++) {
			size_t len = strlen(calls[c].name);

			for (s = sel; (s = strstr(s, calls[c].name)) != NULL; s += len)
				if ((s == sel || s[-1] == ',') &&
				    (s[len] == ',' || s[len] == '\0'))
					selected[c] = 1;
		}
	}
	fault_n = (s = getenv("FAULT_N")) != NULL ? atol(s) : 0;
	persist = (s = getenv("FAULT_PERSIST")) != NULL && *s == '1';
	shortw = (s = getenv("FAULT_SHORT")) != NULL && *s == '1';
	count_stderr = (s = getenv("FAULT_STDERR")) != NULL && *s == '1';
	err_override = (s = getenv("FAULT_ERRNO")) != NULL ? atoi(s) : 0;
	report_path = getenv("FAULT_REPORT");
	log_path = getenv("FAULT_LOG");
	if ((s = getenv("FAULT_SKIP")) == NULL)
		s = "libjq,libonig";
	dl_iterate_phdr(skip_cb, (void *)s);
	if (nskip > 0) {
		void *frames[2];

		/* The first backtrace() loads libgcc_s: not inside malloc. */
		backtrace(frames, 2);
	}
	atexit(report);
	armed = 1;
}

typedef int (*main_fn)(int, char **, char **);
static main_fn real_main;

static int
trampoline(int argc, char **argv, char **envp)
{
	arm();
	return real_main(argc, argv, envp);
}

int __libc_start_main(main_fn, int, char **, void (*)(void), void (*)(void),
    void (*)(void), void *);

int
__libc_start_main(main_fn m, int argc, char **argv, void (*init)(void),
    void (*fini)(void), void (*rtld_fini)(void), void *stack_end)
{
	REAL(int, __libc_start_main, (main_fn, int, char **, void (*)(void),
	    void (*)(void), void (*)(void), void *));
	real_main = m;
	return real___libc_start_main(trampoline, argc, argv, init, fini,
	    rtld_fini, stack_end);
}

/* ---- the malloc family ---- */

void *
malloc(size_t n)
{
	if (hit(C_MALLOC, RET))
		return NULL;
	return __libc_malloc(n);
}

void *
calloc(size_t a, size_t b)
{
	if (hit(C_CALLOC, RET))
		return NULL;
	return __libc_calloc(a, b);
}

void *
realloc(void *p, size_t n)
{
	/* realloc(p, 0) frees: failing it would only leak. */
	if (n != 0 && hit(C_REALLOC, RET))
		return NULL;
	return __libc_realloc(p, n);
}

/* ---- file descriptors ---- */

ssize_t
read(int fd, void *buf, size_t n)
{
	REAL(ssize_t, read, (int, void *, size_t));
	if (hit(C_READ, RET))
		return -1;
	return real_read(fd, buf, n);
}

ssize_t __read_chk(int, void *, size_t, size_t);

ssize_t
__read_chk(int fd, void *buf, size_t n, size_t buflen)
{
	REAL(ssize_t, __read_chk, (int, void *, size_t, size_t));
	if (hit(C_READ, RET))
		return -1;
	return real___read_chk(fd, buf, n, buflen);
}

ssize_t
pread(int fd, void *buf, size_t n, off_t off)
{
	REAL(ssize_t, pread, (int, void *, size_t, off_t));
	if (hit(C_PREAD, RET))
		return -1;
	return real_pread(fd, buf, n, off);
}

ssize_t
pread64(int fd, void *buf, size_t n, off_t off)
{
	REAL(ssize_t, pread64, (int, void *, size_t, off_t));
	if (hit(C_PREAD, RET))
		return -1;
	return real_pread64(fd, buf, n, off);
}

ssize_t
write(int fd, const void *buf, size_t n)
{
	REAL(ssize_t, write, (int, const void *, size_t));
	if ((fd != 2 || count_stderr) && hit(C_WRITE, RET)) {
		if (shortw && n > 1)
			return real_write(fd, buf, n / 2);
		return -1;
	}
	return real_write(fd, buf, n);
}

ssize_t
writev(int fd, const struct iovec *iov, int cnt)
{
	REAL(ssize_t, writev, (int, const struct iovec *, int));
	if ((fd != 2 || count_stderr) && hit(C_WRITEV, RET)) {
		if (shortw && cnt > 0 && iov[0].iov_len > 1) {
			REAL(ssize_t, write, (int, const void *, size_t));
			return real_write(fd, iov[0].iov_base, iov[0].iov_len / 2);
		}
		return -1;
	}
	return real_writev(fd, iov, cnt);
}

ssize_t
pwrite(int fd, const void *buf, size_t n, off_t off)
{
	REAL(ssize_t, pwrite, (int, const void *, size_t, off_t));
	if (hit(C_PWRITE, RET)) {
		if (shortw && n > 1)
			return real_pwrite(fd, buf, n / 2, off);
		return -1;
	}
	return real_pwrite(fd, buf, n, off);
}

ssize_t
pwrite64(int fd, const void *buf, size_t n, off_t off)
{
	REAL(ssize_t, pwrite64, (int, const void *, size_t, off_t));
	if (hit(C_PWRITE, RET)) {
		if (shortw && n > 1)
			return real_pwrite64(fd, buf, n / 2, off);
		return -1;
	}
	return real_pwrite64(fd, buf, n, off);
}

int
fsync(int fd)
{
	REAL(int, fsync, (int));
	if (hit(C_FSYNC, RET))
		return -1;
	return real_fsync(fd);
}

int
fdatasync(int fd)
{
	REAL(int, fdatasync, (int));
	if (hit(C_FDATASYNC, RET))
		return -1;
	return real_fdatasync(fd);
}

int
ftruncate(int fd, off_t len)
{
	REAL(int, ftruncate, (int, off_t));
	if (hit(C_FTRUNCATE, RET))
		return -1;
	return real_ftruncate(fd, len);
}

int
ftruncate64(int fd, off_t len)
{
	REAL(int, ftruncate64, (int, off_t));
	if (hit(C_FTRUNCATE, RET))
		return -1;
	return real_ftruncate64(fd, len);
}

int
rename(const char *from, const char *to)
{
	REAL(int, rename, (const char *, const char *));
	if (hit(C_RENAME, RET))
		return -1;
	return real_rename(from, to);
}

int
renameat(int dfrom, const char *from, int dto, const char *to)
{
	REAL(int, renameat, (int, const char *, int, const char *));
	if (hit(C_RENAMEAT, RET))
		return -1;
	return real_renameat(dfrom, from, dto, to);
}

/* open's mode argument exists only with O_CREAT or O_TMPFILE. */
static mode_t
open_mode(int flags, va_list ap)
{
	if ((flags & O_CREAT) || (flags & O_TMPFILE) == O_TMPFILE)
		return (mode_t)va_arg(ap, int);
	return 0;
}

int
open(const char *path, int flags, ...)
{
	va_list ap;
	mode_t mode;

	REAL(int, open, (const char *, int, ...));
	va_start(ap, flags);
	mode = open_mode(flags, ap);
	va_end(ap);
	if (hit(C_OPEN, RET))
		return -1;
	return real_open(path, flags, mode);
}

int
open64(const char *path, int flags, ...)
{
	va_list ap;
	mode_t mode;

	REAL(int, open64, (const char *, int, ...));
	va_start(ap, flags);
	mode = open_mode(flags, ap);
	va_end(ap);
	if (hit(C_OPEN, RET))
		return -1;
	return real_open64(path, flags, mode);
}

int __open_2(const char *, int);
int __open64_2(const char *, int);
int __openat_2(int, const char *, int);

int
__open_2(const char *path, int flags)
{
	REAL(int, __open_2, (const char *, int));
	if (hit(C_OPEN, RET))
		return -1;
	return real___open_2(path, flags);
}

int
__open64_2(const char *path, int flags)
{
	REAL(int, __open64_2, (const char *, int));
	if (hit(C_OPEN, RET))
		return -1;
	return real___open64_2(path, flags);
}

int
__openat_2(int dfd, const char *path, int flags)
{
	REAL(int, __openat_2, (int, const char *, int));
	if (hit(C_OPENAT, RET))
		return -1;
	return real___openat_2(dfd, path, flags);
}

int
openat(int dfd, const char *path, int flags, ...)
{
	va_list ap;
	mode_t mode;

	REAL(int, openat, (int, const char *, int, ...));
	va_start(ap, flags);
	mode = open_mode(flags, ap);
	va_end(ap);
	if (hit(C_OPENAT, RET))
		return -1;
	return real_openat(dfd, path, flags, mode);
}

int
openat64(int dfd, const char *path, int flags, ...)
{
	va_list ap;
	mode_t mode;

	REAL(int, openat64, (int, const char *, int, ...));
	va_start(ap, flags);
	mode = open_mode(flags, ap);
	va_end(ap);
	if (hit(C_OPENAT, RET))
		return -1;
	return real_openat64(dfd, path, flags, mode);
}

int
close(int fd)
{
	REAL(int, close, (int));
	/* Linux frees the descriptor even when close fails (NFS, EIO). */
	if (fd != 2 && hit(C_CLOSE, RET)) {
		int e = errno;

		real_close(fd);
		errno = e;
		return -1;
	}
	return real_close(fd);
}

void *
mmap(void *addr, size_t len, int prot, int flags, int fd, off_t off)
{
	REAL(void *, mmap, (void *, size_t, int, int, int, off_t));
	/* Anonymous maps are the allocators' and the loader's business. */
	if (fd >= 0 && hit(C_MMAP, RET))
		return MAP_FAILED;
	return real_mmap(addr, len, prot, flags, fd, off);
}

void *
mmap64(void *addr, size_t len, int prot, int flags, int fd, off_t off)
{
	REAL(void *, mmap64, (void *, size_t, int, int, int, off_t));
	if (fd >= 0 && hit(C_MMAP, RET))
		return MAP_FAILED;
	return real_mmap64(addr, len, prot, flags, fd, off);
}

ssize_t
recv(int fd, void *buf, size_t n, int flags)
{
	REAL(ssize_t, recv, (int, void *, size_t, int));
	if (hit(C_RECV, RET))
		return -1;
	return real_recv(fd, buf, n, flags);
}

ssize_t
send(int fd, const void *buf, size_t n, int flags)
{
	REAL(ssize_t, send, (int, const void *, size_t, int));
	if (hit(C_SEND, RET))
		return -1;
	return real_send(fd, buf, n, flags);
}

/* ---- stdio: glibc's own calls inside stdio bypass the wrappers above ---- */

/* glibc's _IO_ERR_SEEN: what ferror() reports. */
#define ERR_SEEN 0x0020

static int
is_stderr(FILE *f)
{
	return f == stderr && !count_stderr;
}

size_t
fread(void *buf, size_t size, size_t n, FILE *f)
{
	REAL(size_t, fread, (void *, size_t, size_t, FILE *));
	if (hit(C_FREAD, RET)) {
		f->_flags |= ERR_SEEN;
		return 0;
	}
	return real_fread(buf, size, n, f);
}

size_t __fread_chk(void *, size_t, size_t, size_t, FILE *);

size_t
__fread_chk(void *buf, size_t buflen, size_t size, size_t n, FILE *f)
{
	REAL(size_t, __fread_chk, (void *, size_t, size_t, size_t, FILE *));
	if (hit(C_FREAD, RET)) {
		f->_flags |= ERR_SEEN;
		return 0;
	}
	return real___fread_chk(buf, buflen, size, n, f);
}

size_t
fwrite(const void *buf, size_t size, size_t n, FILE *f)
{
	REAL(size_t, fwrite, (const void *, size_t, size_t, FILE *));
	if (!is_stderr(f) && hit(C_FWRITE, RET)) {
		f->_flags |= ERR_SEEN;
		return 0;
	}
	return real_fwrite(buf, size, n, f);
}

int
fflush(FILE *f)
{
	REAL(int, fflush, (FILE *));
	if (f != NULL && !is_stderr(f) && hit(C_FFLUSH, RET)) {
		f->_flags |= ERR_SEEN;
		return EOF;
	}
	return real_fflush(f);
}

int
fclose(FILE *f)
{
	REAL(int, fclose, (FILE *));
	/* The stream is closed either way, as after a failed final flush. */
	if (!is_stderr(f) && hit(C_FCLOSE, RET)) {
		int e = errno;

		real_fclose(f);
		errno = e;
		return EOF;
	}
	return real_fclose(f);
}
