/*
 * futexshared.c - a futex in MAP_SHARED memory: a waiter in one process, woken from another
 * (the key is the page's physical address, the same in both).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <linux/futex.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "tap.h"

static long futex(void *uaddr, int op, unsigned val, const struct timespec *ts, void *uaddr2,
		  unsigned val3)
{
	return syscall(SYS_futex, uaddr, op, val, ts, uaddr2, val3);
}

static void sleep_ms(int ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };

	while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
		;
}

/* A futex in MAP_SHARED memory wakes a waiter in another process. */
static int test_futex_shared_across_fork(void)
{
	uint32_t *w = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	int st;
	pid_t pid;

	if (w == MAP_FAILED)
		return fail("mmap MAP_SHARED failed");
	w[0] = 0;
	w[1] = 0;
	pid = fork();
	if (pid == 0) {
		long rc;

		struct timespec limit = { 10, 0 }; /* a failure, not a hang, if not shared */

		__atomic_store_n(&w[1], 1, __ATOMIC_SEQ_CST);
		do
			rc = futex(&w[0], FUTEX_WAIT, 0, &limit, NULL, 0);
		while (rc == -1 && errno == EINTR);
		_exit(rc == 0 && w[0] == 1 ? 0 : 1);
	}
	for (int i = 0; i < 5000 && __atomic_load_n(&w[1], __ATOMIC_SEQ_CST) == 0; i++)
		sleep_ms(1);
	sleep_ms(50);
	__atomic_store_n(&w[0], 1, __ATOMIC_SEQ_CST);
	long n = futex(&w[0], FUTEX_WAKE, 1, NULL, NULL, 0);
	waitpid(pid, &st, 0);
	munmap(w, 4096);
	if (n != 1)
		return fail("wake across processes woke %ld (%s)", n, n < 0 ? errno_name(errno) : "-");
	if (!WIFEXITED(st) || WEXITSTATUS(st) != 0)
		return fail("child status %#x", st);
	return 1;
}

int main(void)
{
	static const struct test tests[] = {
		{ "futex: a MAP_SHARED futex works across processes", test_futex_shared_across_fork },
	};

	return run_tests(tests, sizeof(tests) / sizeof(tests[0]));
}
