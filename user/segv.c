/*
 * segv.c - faults in a child are fatal signals the parent can see.
 *
 * Each test forks a child that faults on purpose; the parent waits and checks, with
 * WIFSIGNALED/WTERMSIG, which signal killed it. The core-dump flag is not checked: it
 * depends on RLIMIT_CORE (and qemu-aarch64 never sets it).
 */
#define _GNU_SOURCE
#include <signal.h>
#include <stdio.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include "tap.h"

/* Fork a child that runs `fault`, and check that signal `want` killed it. */
static int child_killed_by(void (*fault)(void), int want)
{
	int status;
	pid_t pid = fork();

	if (pid < 0)
		return fail("fork: errno=%d (%s)", errno, errno_name(errno));
	if (pid == 0) {
		fault();
		_exit(0); /* not reached if the fault kills the child */
	}
	if (waitpid(pid, &status, 0) != pid)
		return fail("waitpid: errno=%d (%s)", errno, errno_name(errno));
	if (WIFEXITED(status))
		return fail("the child exited with status %d instead", WEXITSTATUS(status));
	if (!WIFSIGNALED(status))
		return fail("status %#x", status);
	if (WTERMSIG(status) != want)
		return fail("child killed by signal %d", WTERMSIG(status));
	return 1;
}

static void read_null(void)
{
	volatile int *volatile nowhere = NULL;

	(void)*nowhere;
}

static void write_read_only(void)
{
	volatile char *page = mmap(NULL, 4096, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	if (page != MAP_FAILED)
		page[0] = 1;
}

static void undefined_instruction(void)
{
	__asm__ volatile("udf #0");
}

static int test_null(void)
{
	return child_killed_by(read_null, SIGSEGV);
}

static int test_read_only(void)
{
	return child_killed_by(write_read_only, SIGSEGV);
}

static int test_undefined(void)
{
	return child_killed_by(undefined_instruction, SIGILL);
}

static const struct test tests[] = {
	{ "child killed by signal 11 (SIGSEGV) reading NULL", test_null },
	{ "child killed by signal 11 (SIGSEGV) writing a PROT_READ page", test_read_only },
	{ "child killed by signal 4 (SIGILL) on an undefined instruction", test_undefined },
};

int main(void)
{
	return run_tests(tests, TEST_COUNT(tests));
}
