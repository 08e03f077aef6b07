/*
 * oomtest.c - running out of memory kills a process, never the kernel.
 *
 * A child touches fresh anonymous memory (mmap, then brk) until the OOM killer ends it:
 * the parent must see it killed by SIGKILL, then fork and run another child normally, and
 * MemFree must be back within 1 MiB once the victim is reaped.
 *
 * This only makes sense on a machine of our own: under the test /init (our parent is PID
 * 1, on Cradle or on Linux in QEMU). On a shared host (qemu-aarch64 user mode) eating all
 * memory would hurt everyone else, so the tests report ok without running. Only verdicts
 * are printed, so the output is the same everywhere.
 */
#define _GNU_SOURCE
#include <signal.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "tap.h"

#define CHUNK (1 << 20)

static int own_machine(void)
{
	return getppid() == 1;
}

static long memfree_kb(void)
{
	FILE *f = fopen("/proc/meminfo", "r");
	char line[128];
	long kb = -1;

	if (f == NULL)
		return -1;
	while (fgets(line, sizeof(line), f) != NULL)
		if (sscanf(line, "MemFree: %ld kB", &kb) == 1)
			break;
	fclose(f);
	return kb;
}

static void touch(volatile char *p, size_t len)
{
	for (size_t i = 0; i < len; i += 4096)
		p[i] = 1;
}

static void eat_with_mmap(void)
{
	for (;;) {
		char *p = mmap(NULL, CHUNK, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS,
			       -1, 0);
		if (p == MAP_FAILED)
			_exit(3); /* out of address space: not what this tests */
		touch(p, CHUNK);
	}
}

static void eat_with_brk(void)
{
	for (;;) {
		char *p = sbrk(CHUNK);
		if (p == (void *)-1)
			_exit(3);
		touch(p, CHUNK);
	}
}

/* A child running `eat` must die of SIGKILL. */
static int killed(void (*eat)(void))
{
	if (!own_machine())
		return 1;
	pid_t pid = fork();
	if (pid < 0)
		return fail("fork: %s", errno_name(errno));
	if (pid == 0) {
		eat();
		_exit(0);
	}
	int status;
	if (waitpid(pid, &status, 0) != pid)
		return fail("waitpid: %s", errno_name(errno));
	if (!WIFSIGNALED(status) || WTERMSIG(status) != SIGKILL)
		return fail("the child ended with status %#x", status);
	return 1;
}

static long memfree_before;

static int test_mmap_eater(void)
{
	memfree_before = memfree_kb();
	return killed(eat_with_mmap);
}

static int test_brk_eater(void)
{
	return killed(eat_with_brk);
}

static int test_goes_on(void)
{
	pid_t pid = fork();
	if (pid < 0)
		return fail("fork: %s", errno_name(errno));
	if (pid == 0) {
		char *p = malloc(4 * CHUNK);
		if (p == NULL)
			_exit(2);
		touch(p, 4 * CHUNK);
		_exit(5);
	}
	int status;
	if (waitpid(pid, &status, 0) != pid)
		return fail("waitpid: %s", errno_name(errno));
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 5)
		return fail("the child ended with status %#x", status);
	return 1;
}

static int test_memory_back(void)
{
	if (!own_machine())
		return 1;
	if (memfree_before < 0)
		return fail("no MemFree in /proc/meminfo");
	long after = 0;
	for (int tries = 0; tries < 20; tries++) {
		after = memfree_kb();
		if (memfree_before - after <= 1024)
			return 1;
		usleep(20000);
	}
	return fail("MemFree %ld kB before, %ld kB after", memfree_before, after);
}

int main(void)
{
	static const struct test tests[] = {
		{ "a child touching mmap'd memory without end is killed by SIGKILL",
		  test_mmap_eater },
		{ "a child growing brk without end is killed by SIGKILL", test_brk_eater },
		{ "afterwards a child forks, allocates 4 MiB and exits normally", test_goes_on },
		{ "MemFree is back within 1 MiB after the victims are reaped", test_memory_back },
	};

	mkdir("/proc", 0555);
	mount("proc", "/proc", "proc", 0, NULL);
	return run_tests(tests, TEST_COUNT(tests));
}
