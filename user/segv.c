/*
 * segv.c - faults in a child are fatal signals the parent can see; a handler gets them with
 * the fault's si_code and si_addr.
 *
 * Each of the first tests forks a child that faults on purpose; the parent waits and
 * checks, with WIFSIGNALED/WTERMSIG, which signal killed it. The core-dump flag is not
 * checked: it depends on RLIMIT_CORE (and qemu-aarch64 never sets it). A blocked or ignored
 * SIGSEGV kills just the same. Then an SA_SIGINFO handler catches the faults and leaves by
 * siglongjmp: SEGV_MAPERR with the address for an unmapped one, SEGV_ACCERR for a write to
 * a PROT_READ page, and for `udf` SIGILL with si_addr at the instruction (its si_code is not
 * checked: Linux says ILL_ILLOPC, qemu-aarch64 ILL_ILLOPN).
 */
#define _GNU_SOURCE
#include <setjmp.h>
#include <signal.h>
#include <stdint.h>
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

static void block_sigsegv_then_read_null(void)
{
	sigset_t set;

	sigemptyset(&set);
	sigaddset(&set, SIGSEGV);
	sigprocmask(SIG_BLOCK, &set, NULL);
	read_null();
}

static void ignore_sigsegv_then_read_null(void)
{
	signal(SIGSEGV, SIG_IGN);
	read_null();
}

static int test_blocked(void)
{
	return child_killed_by(block_sigsegv_then_read_null, SIGSEGV);
}

static int test_ignored(void)
{
	return child_killed_by(ignore_sigsegv_then_read_null, SIGSEGV);
}

static sigjmp_buf caught_jump;
static volatile int caught_signo, caught_code;
static volatile uintptr_t caught_addr;

static void catch_fault(int signo, siginfo_t *info, void *uc)
{
	(void)uc;
	caught_signo = signo;
	caught_code = info->si_code;
	caught_addr = (uintptr_t)info->si_addr;
	siglongjmp(caught_jump, 1);
}

/* Run `fault` with a handler for `signo`; 1 if the handler ran. */
static int caught(int signo, void (*fault)(void))
{
	struct sigaction sa = { .sa_sigaction = catch_fault, .sa_flags = SA_SIGINFO };
	int ran = 0;

	sigemptyset(&sa.sa_mask);
	sigaction(signo, &sa, NULL);
	caught_signo = caught_code = 0;
	caught_addr = 0;
	if (sigsetjmp(caught_jump, 1) == 0)
		fault();
	else
		ran = 1;
	signal(signo, SIG_DFL);
	return ran;
}

static volatile char *fault_page;

static void read_unmapped(void)
{
	(void)fault_page[24];
}

static void write_fault_page(void)
{
	fault_page[40] = 1;
}

static int test_handler_maperr(void)
{
	fault_page = mmap(NULL, 4096, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (fault_page == MAP_FAILED)
		return fail("mmap: %s", errno_name(errno));
	munmap((void *)fault_page, 4096);
	if (!caught(SIGSEGV, read_unmapped))
		return fail("the read did not fault");
	if (caught_signo != SIGSEGV || caught_code != SEGV_MAPERR ||
	    caught_addr != (uintptr_t)fault_page + 24)
		return fail("signal %d, si_code %d, si_addr %s", caught_signo, caught_code,
			    caught_addr == (uintptr_t)fault_page + 24 ? "right" : "wrong");
	return 1;
}

static int test_handler_accerr(void)
{
	fault_page = mmap(NULL, 4096, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (fault_page == MAP_FAILED)
		return fail("mmap: %s", errno_name(errno));
	int ran = caught(SIGSEGV, write_fault_page);

	munmap((void *)fault_page, 4096);
	if (!ran)
		return fail("the write did not fault");
	if (caught_signo != SIGSEGV || caught_code != SEGV_ACCERR ||
	    caught_addr != (uintptr_t)fault_page + 40)
		return fail("signal %d, si_code %d, si_addr %s", caught_signo, caught_code,
			    caught_addr == (uintptr_t)fault_page + 40 ? "right" : "wrong");
	return 1;
}

/* `udf #0` at a known address: the function's first instruction. */
void udf_here(void);
__asm__(".text\n"
	".globl udf_here\n"
	".type udf_here, %function\n"
	"udf_here:\n"
	"	udf #0\n"
	"	ret\n"
	".size udf_here, . - udf_here\n");

static int test_handler_sigill(void)
{
	if (!caught(SIGILL, udf_here))
		return fail("udf did not trap");
	if (caught_signo != SIGILL || caught_addr != (uintptr_t)udf_here)
		return fail("signal %d, si_addr %s", caught_signo,
			    caught_addr == (uintptr_t)udf_here ? "right" : "wrong");
	return 1;
}

static const struct test tests[] = {
	{ "child killed by signal 11 (SIGSEGV) reading NULL", test_null },
	{ "child killed by signal 11 (SIGSEGV) writing a PROT_READ page", test_read_only },
	{ "child killed by signal 4 (SIGILL) on an undefined instruction", test_undefined },
	{ "a blocked SIGSEGV still kills the child that faults", test_blocked },
	{ "an ignored SIGSEGV still kills the child that faults", test_ignored },
	{ "a handler gets SIGSEGV, SEGV_MAPERR and the address of an unmapped read",
	  test_handler_maperr },
	{ "a handler gets SIGSEGV, SEGV_ACCERR and the address of a write to PROT_READ",
	  test_handler_accerr },
	{ "a handler gets SIGILL with si_addr at the undefined instruction", test_handler_sigill },
};

int main(void)
{
	return run_tests(tests, TEST_COUNT(tests));
}
