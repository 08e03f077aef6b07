/*
 * forkbomb.c - a fork bomb with a group kill, then a mass exit: every child is reaped and
 * the memory comes back.
 *
 * Round 1 forks N children (argv[1], default 256) that each pause(), then sends SIGTERM to
 * its own process group with kill(0, ...): every child must die of SIGTERM and be reaped.
 * Round 2 forks N children that block reading a pipe; closing the write end makes all of
 * them exit at once (a mass exit), each with its own status. Round 3: a middle process forks
 * N pausing children and kills its whole group, itself included; init reaps the orphans. fork may fail when the system
 * runs out of PIDs or memory; it must then fail with EAGAIN or ENOMEM (as Linux's
 * copy_process does), and the rounds go on with the children they have.
 *
 * Memory: MemFree (/proc/meminfo) is read after a warm-up round and again after the two
 * rounds; it must be back within 1 MiB (Linux: slab caches may keep a few pages). That is
 * only meaningful on a machine of our own: under the test /init (our parent is PID 1, on
 * Cradle or on Linux in QEMU) the check is made; on a shared host (qemu-aarch64 user mode)
 * other processes move MemFree by megabytes, so the check is not made and reports ok. The
 * verdict is printed, never the numbers, so the output is the same everywhere.
 *
 * Run it by hand with a count: `forkbomb 3000` (the /init of the tests takes
 * `/bin/forkbomb,3000`).
 */
#define _GNU_SOURCE
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "tap.h"

static int count = 256;
static long memfree_before = -1;
static int forked_round1, forked_round2;

/* MemFree in kB from /proc/meminfo, or -1. */
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

/* True when we run under the test /init, on a machine of our own. */
static int own_machine(void)
{
	return getppid() == 1;
}

/* Fork `n` children running `child`; returns how many were made, or -1 (detail set) if
 * fork failed with anything but EAGAIN/ENOMEM. */
static int fork_children(int n, void (*child)(int), int arg)
{
	int made = 0;

	while (made < n) {
		pid_t pid = fork();
		if (pid == 0) {
			child(arg);
			_exit(0);
		}
		if (pid < 0) {
			if (errno == EAGAIN || errno == ENOMEM)
				break;
			fail("fork: %s", errno_name(errno));
			return -1;
		}
		made++;
	}
	return made;
}

/* SIGTERM to our process group: the children, and us, who ignore it just for this. The
 * children were forked with SIGTERM's default action, so it kills them. */
static int group_kill(void)
{
	signal(SIGTERM, SIG_IGN);
	int ret = kill(0, SIGTERM);
	signal(SIGTERM, SIG_DFL);
	return ret;
}

static void pause_forever(int unused)
{
	(void)unused;
	for (;;)
		pause();
}

/* Reap `n` children; each must end as `want` says (signal number, or exit status + 256). */
static int reap(int n, int want_signal, int want_code)
{
	int bad = 0, status;

	for (int i = 0; i < n; i++) {
		pid_t pid = waitpid(-1, &status, 0);
		if (pid < 0)
			return fail("waitpid after %d of %d: %s", i, n, errno_name(errno));
		if (want_signal ? !(WIFSIGNALED(status) && WTERMSIG(status) == want_signal)
				: !(WIFEXITED(status) && WEXITSTATUS(status) == want_code))
			bad++;
	}
	if (bad)
		return fail("%d children ended otherwise (last status %#x)", bad, status);
	if (waitpid(-1, &status, WNOHANG) != -1 || errno != ECHILD)
		return fail("a child is left after reaping all");
	return 1;
}

static int test_warmup(void)
{
	/* One small round first, so lazily made kernel structures exist before we measure. */
	int n = fork_children(16, pause_forever, 0);
	if (n < 0)
		return 0;
	if (n != 16)
		return fail("fork: %s after %d", errno_name(errno), n);
	group_kill();
	if (!reap(n, SIGTERM, 0))
		return 0;
	memfree_before = memfree_kb();
	if (memfree_before < 0)
		return fail("no MemFree in /proc/meminfo");
	return 1;
}

static int test_fork_many(void)
{
	forked_round1 = fork_children(count, pause_forever, 0);
	if (forked_round1 < 0)
		return 0;
	if (forked_round1 < 16)
		return fail("only %d children (%s)", forked_round1, errno_name(errno));
	return 1;
}

static int test_group_kill(void)
{
	if (group_kill() != 0)
		return fail("kill(0, SIGTERM): %s", errno_name(errno));
	return reap(forked_round1, SIGTERM, 0);
}

static int pipe_fds[2];

static void read_then_exit(int code)
{
	char c;

	close(pipe_fds[1]);
	while (read(pipe_fds[0], &c, 1) < 0 && errno == EINTR)
		;
	_exit(code);
}

static int test_mass_exit(void)
{
	if (pipe(pipe_fds) != 0)
		return fail("pipe: %s", errno_name(errno));
	forked_round2 = fork_children(count, read_then_exit, 7);
	close(pipe_fds[0]);
	close(pipe_fds[1]); /* every child's read now returns 0: they all exit */
	if (forked_round2 < 0)
		return 0;
	if (forked_round2 < 16)
		return fail("only %d children (%s)", forked_round2, errno_name(errno));
	return reap(forked_round2, 0, 7);
}

/* A middle process makes its own group of N pausing children and sends SIGTERM to the
 * whole group, itself included: it dies with its children, which are orphaned as they die
 * and reaped by init. */
static int test_group_kill_with_leader(void)
{
	pid_t middle = fork();
	if (middle < 0)
		return fail("fork: %s", errno_name(errno));
	if (middle == 0) {
		setpgid(0, 0);
		int n = fork_children(count, pause_forever, 0);
		if (n < 16)
			_exit(3);
		kill(0, SIGTERM);
		_exit(4); /* not reached: SIGTERM kills us too */
	}
	int status;
	if (waitpid(middle, &status, 0) != middle)
		return fail("waitpid: %s", errno_name(errno));
	if (!WIFSIGNALED(status) || WTERMSIG(status) != SIGTERM)
		return fail("the middle process ended with status %#x", status);
	return 1;
}

static int test_memory_back(void)
{
	if (!own_machine())
		return 1;
	if (memfree_before < 0)
		return fail("no MemFree measured before");
	/* Exiting tasks are freed by the next task to run, and init may still be reaping
	 * round 3's orphans (thousands of them with a large count): wait up to 10 s. */
	long after = 0;
	for (int tries = 0; tries < 200; tries++) {
		after = memfree_kb();
		if (memfree_before - after <= 1024)
			return 1;
		usleep(50000);
	}
	return fail("MemFree %ld kB before, %ld kB after (%ld kB lost)", memfree_before, after,
		    memfree_before - after);
}

int main(int argc, char *argv[])
{
	static const struct test tests[] = {
		{ "a warm-up round of 16 children, killed and reaped", test_warmup },
		{ "fork the children (fork fails only with EAGAIN or ENOMEM)", test_fork_many },
		{ "kill(0, SIGTERM) kills every child; all are reaped", test_group_kill },
		{ "a mass exit: every child exits 7 at once; all are reaped", test_mass_exit },
		{ "a group leader kills its group and itself; init reaps the orphans",
		  test_group_kill_with_leader },
		{ "MemFree is back within 1 MiB after every child is reaped", test_memory_back },
	};

	if (argc > 1)
		count = atoi(argv[1]);
	if (count < 16)
		count = 16;
	/* Our own process group, so that kill(0) reaches only us and our children. */
	setpgid(0, 0);
	/* MemFree comes from procfs: mount it where it is not (under the test /init). */
	mkdir("/proc", 0555);
	mount("proc", "/proc", "proc", 0, NULL);
	int status = run_tests(tests, TEST_COUNT(tests));
	return status;
}
