/*
 * tap.h - a tiny TAP producer shared by the Cradle user-space test programs.
 *
 * A program lists its tests as { description, function } pairs; each function returns 1 on
 * success, or calls fail() (which records a detail and returns 0). run_tests() prints
 *
 *     1..N
 *     ok 1 - description
 *     not ok 2 - description # detail
 *
 * flushing after every line (so output never sits in a stdio buffer across fork()), and
 * returns the exit status: 0 only if every test passed.
 *
 * Output must be byte-identical on Linux and on Cradle: descriptions and details never
 * contain PIDs, addresses, times or paths that depend on the machine.
 */
#ifndef CRADLE_TAP_H
#define CRADLE_TAP_H

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

struct test {
	const char *description;
	int (*run)(void);
};

static char tap_detail[256];

/* Record why the current test failed; returns 0 so a test can `return fail(...)`. */
__attribute__((format(printf, 1, 2))) static int fail(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(tap_detail, sizeof(tap_detail), fmt, ap);
	va_end(ap);
	return 0;
}

/* The symbolic name of the errno values these tests expect. */
static const char *errno_name(int err)
{
	switch (err) {
	case 0: return "0";
	case EPERM: return "EPERM";
	case ENOENT: return "ENOENT";
	case ESRCH: return "ESRCH";
	case EINTR: return "EINTR";
	case EIO: return "EIO";
	case ENOEXEC: return "ENOEXEC";
	case EBADF: return "EBADF";
	case ECHILD: return "ECHILD";
	case EAGAIN: return "EAGAIN";
	case ENOMEM: return "ENOMEM";
	case EACCES: return "EACCES";
	case EFAULT: return "EFAULT";
	case EEXIST: return "EEXIST";
	case ENOTDIR: return "ENOTDIR";
	case EISDIR: return "EISDIR";
	case EINVAL: return "EINVAL";
	case EMFILE: return "EMFILE";
	case ENOTTY: return "ENOTTY";
	case ESPIPE: return "ESPIPE";
	case EPIPE: return "EPIPE";
	case ERANGE: return "ERANGE";
	case ENOSYS: return "ENOSYS";
	case ENOTEMPTY: return "ENOTEMPTY";
	case ENODEV: return "ENODEV";
	case EOVERFLOW: return "EOVERFLOW";
	case ENODATA: return "ENODATA";
	case EOPNOTSUPP: return "EOPNOTSUPP";
	case E2BIG: return "E2BIG";
	case EDEADLK: return "EDEADLK";
	case ENOLCK: return "ENOLCK";
	default: return "other";
	}
}

/* Print the plan and one line per test; the exit status for main(). */
static int run_tests(const struct test *tests, int count)
{
	int failures = 0;

	printf("1..%d\n", count);
	fflush(stdout);
	for (int i = 0; i < count; i++) {
		tap_detail[0] = '\0';
		if (tests[i].run()) {
			printf("ok %d - %s\n", i + 1, tests[i].description);
		} else {
			failures++;
			printf("not ok %d - %s # %s\n", i + 1, tests[i].description,
			       tap_detail[0] ? tap_detail : "failed");
		}
		fflush(stdout);
	}
	return failures == 0 ? 0 : 1;
}

#define TEST_COUNT(tests) ((int)(sizeof(tests) / sizeof((tests)[0])))

#endif
