/*
 * threadexec.c - what needs a real kernel to judge: execve from a thread of a process with
 * several (Linux's de_thread: the other threads go, the process keeps its PID), the parent's
 * wait4 seeing a process end only once its last thread has, robust futexes released at
 * their owner's death, clone3, and posix_spawn (CLONE_VM | CLONE_VFORK). qemu-aarch64 cannot
 * run it (it passes execve to the host, which cannot run arm64 programs, ignores
 * set_robust_list and has no clone3), so xtask judges it against Debian's arm64 kernel in
 * the same QEMU.
 *
 * `threadexec --exec-child PID` is the program a thread execs: it checks that it runs as the
 * process PID, single-threaded, and exits 42.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <spawn.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "tap.h"

static const char *self_path;

static void sleep_ms(int ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };

	while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
		;
}

static void *sleeper(void *arg)
{
	(void)arg;
	for (;;)
		sleep_ms(1000);
	return NULL;
}

static void do_exec(void)
{
	char pid[32];
	char *argv[] = { (char *)self_path, "--exec-child", pid, NULL };
	char *envp[] = { NULL };

	snprintf(pid, sizeof(pid), "%d", getpid());
	execve(self_path, argv, envp);
	_exit(120 + (errno & 7)); /* exec failed */
}

static void *exec_thread(void *arg)
{
	(void)arg;
	sleep_ms(20);
	do_exec();
	return NULL;
}

/* Run `body` in a child; its wait status. */
static int in_child(void (*body)(void))
{
	int status;
	pid_t pid = fork();

	if (pid == 0) {
		body();
		_exit(99);
	}
	if (waitpid(pid, &status, 0) != pid)
		return -1;
	return status;
}

static void child_thread_execs(void)
{
	pthread_t t;

	pthread_create(&t, NULL, sleeper, NULL);
	pthread_create(&t, NULL, sleeper, NULL);
	pthread_create(&t, NULL, exec_thread, NULL);
	for (;;)
		sleep_ms(1000);
}

static void child_main_execs(void)
{
	pthread_t t;

	pthread_create(&t, NULL, sleeper, NULL);
	pthread_create(&t, NULL, sleeper, NULL);
	sleep_ms(20);
	do_exec();
}

static int test_exec_from_thread(void)
{
	int st = in_child(child_thread_execs);

	if (!WIFEXITED(st) || WEXITSTATUS(st) != 42)
		return fail("status %#x, want exit 42", st);
	return 1;
}

static int test_exec_from_main_thread(void)
{
	int st = in_child(child_main_execs);

	if (!WIFEXITED(st) || WEXITSTATUS(st) != 42)
		return fail("status %#x, want exit 42", st);
	return 1;
}

/* The leader ends first; wait4 must not report the process while a thread lives. */
static int to_parent[2], from_parent[2];

static void *last_thread(void *arg)
{
	char c = 'x';

	(void)arg;
	if (write(to_parent[1], &c, 1) != 1 || read(from_parent[0], &c, 1) != 1)
		_exit(98);
	return NULL; /* the last thread ends: the process exits with 0 */
}

static void child_leader_ends_first(void)
{
	pthread_t t;

	pthread_create(&t, NULL, last_thread, NULL);
	pthread_exit(NULL);
}

static int test_wait_sees_last_thread(void)
{
	char c;
	int st;
	pid_t pid;

	if (pipe(to_parent) || pipe(from_parent))
		return fail("pipe failed");
	pid = fork();
	if (pid == 0) {
		child_leader_ends_first();
		_exit(99);
	}
	if (read(to_parent[0], &c, 1) != 1)
		return fail("no word from the thread");
	sleep_ms(50); /* the leader has had time to end */
	if (waitpid(pid, &st, WNOHANG) != 0)
		return fail("wait4 reported the process while a thread lived");
	if (kill(pid, 0) != 0)
		return fail("kill(pid, 0) with the leader gone: %s", errno_name(errno));
	c = 'y';
	if (write(from_parent[1], &c, 1) != 1)
		return fail("write failed");
	if (waitpid(pid, &st, 0) != pid || !WIFEXITED(st) || WEXITSTATUS(st) != 0)
		return fail("status %#x", st);
	close(to_parent[0]);
	close(to_parent[1]);
	close(from_parent[0]);
	close(from_parent[1]);
	return 1;
}

static pthread_mutex_t robust;
static volatile int owner_holds;

static void *robust_owner(void *arg)
{
	pthread_mutex_lock(&robust);
	owner_holds = 1;
	if (arg)
		sleep_ms(50); /* let the main thread block on the lock */
	return NULL; /* ends holding it */
}

static int test_robust_mutex(void)
{
	pthread_mutexattr_t attr;
	pthread_t owner;
	int rc;

	pthread_mutexattr_init(&attr);
	pthread_mutexattr_setrobust(&attr, PTHREAD_MUTEX_ROBUST);
	pthread_mutex_init(&robust, &attr);
	pthread_create(&owner, NULL, robust_owner, NULL);
	pthread_join(owner, NULL);
	rc = pthread_mutex_lock(&robust);
	if (rc != EOWNERDEAD)
		return fail("lock after the owner ended: %d", rc);
	pthread_mutex_consistent(&robust);
	pthread_mutex_unlock(&robust);
	/* Asleep on the lock when its owner ends: woken with EOWNERDEAD. */
	owner_holds = 0;
	pthread_create(&owner, NULL, robust_owner, (void *)1);
	while (!owner_holds)
		sleep_ms(1);
	rc = pthread_mutex_lock(&robust);
	pthread_join(owner, NULL);
	if (rc != EOWNERDEAD)
		return fail("a waiter when the owner ended got %d", rc);
	pthread_mutex_consistent(&robust);
	pthread_mutex_unlock(&robust);
	if (pthread_mutex_lock(&robust) != 0)
		return fail("lock after consistent failed");
	pthread_mutex_unlock(&robust);
	return 1;
}

/* struct clone_args (linux/sched.h), version 2 (88 bytes). */
struct clone_args_v2 {
	uint64_t flags, pidfd, child_tid, parent_tid, exit_signal, stack, stack_size, tls;
	uint64_t set_tid, set_tid_size, cgroup;
};

static int test_clone3(void)
{
	struct clone_args_v2 a;
	uint64_t big[16];
	int st;
	pid_t pid, tid = 0;

	memset(&a, 0, sizeof(a));
	a.exit_signal = SIGCHLD;
	a.flags = CLONE_PARENT_SETTID;
	a.parent_tid = (uint64_t)(uintptr_t)&tid;
	pid = syscall(435, &a, 64);
	if (pid == 0)
		_exit(5);
	if (pid < 0)
		return fail("clone3 like fork: %s", errno_name(errno));
	if (tid != pid)
		return fail("CLONE_PARENT_SETTID wrote %d, not the child's pid", tid);
	if (waitpid(pid, &st, 0) != pid || !WIFEXITED(st) || WEXITSTATUS(st) != 5)
		return fail("clone3 child status %#x", st);
	errno = 0;
	if (syscall(435, &a, 8) != -1 || errno != EINVAL)
		return fail("a size below 64: %s", errno_name(errno));
	a.flags = CLONE_THREAD | CLONE_VM;
	a.exit_signal = 0;
	if (syscall(435, &a, 64) != -1 || errno != EINVAL)
		return fail("THREAD without SIGHAND: %s", errno_name(errno));
	a.flags = CLONE_THREAD | CLONE_SIGHAND | CLONE_VM;
	a.exit_signal = SIGCHLD;
	if (syscall(435, &a, 64) != -1 || errno != EINVAL)
		return fail("a thread with an exit signal: %s", errno_name(errno));
	a.flags = 0;
	a.stack = 0x10000;
	if (syscall(435, &a, 64) != -1 || errno != EINVAL)
		return fail("a stack without a size: %s", errno_name(errno));
	/* A larger struct is fine if the bytes Linux does not know are zero... */
	memset(big, 0, sizeof(big));
	memcpy(big, &a, sizeof(a));
	((struct clone_args_v2 *)big)->stack = 0;
	pid = syscall(435, big, sizeof(big));
	if (pid == 0)
		_exit(6);
	if (pid < 0 || waitpid(pid, &st, 0) != pid || WEXITSTATUS(st) != 6)
		return fail("a 128-byte struct: %s", errno_name(errno));
	/* ...and E2BIG if they are not. */
	big[15] = 1;
	if (syscall(435, big, sizeof(big)) != -1 || errno != E2BIG)
		return fail("non-zero unknown bytes: errno %d", errno);
	return 1;
}

static int test_posix_spawn(void)
{
	char *argv[] = { (char *)self_path, "--spawned", NULL };
	char *envp[] = { NULL };
	pid_t pid;
	int st, rc;

	rc = posix_spawn(&pid, self_path, NULL, NULL, argv, envp);
	if (rc != 0)
		return fail("posix_spawn: %s", errno_name(rc));
	if (waitpid(pid, &st, 0) != pid || !WIFEXITED(st) || WEXITSTATUS(st) != 43)
		return fail("spawned status %#x", st);
	rc = posix_spawn(&pid, "/nonexistent", NULL, NULL, argv, envp);
	if (rc != ENOENT)
		return fail("spawning a missing file: %s", errno_name(rc));
	return 1;
}

static int exec_child(const char *want_pid)
{
	DIR *d;
	int threads = 0;

	if (getpid() != atoi(want_pid))
		return 1;
	if (syscall(SYS_gettid) != getpid())
		return 2;
	d = opendir("/proc/self/task");
	if (d) {
		struct dirent *e;

		while ((e = readdir(d)) != NULL)
			threads += e->d_name[0] != '.';
		closedir(d);
		if (threads != 1)
			return 3;
	}
	return 42;
}

int main(int argc, char **argv)
{
	static const struct test tests[] = {
		{ "execve from a thread replaces every thread; the process keeps its PID", test_exec_from_thread },
		{ "execve from the main thread while others run", test_exec_from_main_thread },
		{ "wait4 reports the process only when its last thread ends", test_wait_sees_last_thread },
		{ "a robust mutex whose owner ended is EOWNERDEAD", test_robust_mutex },
		{ "clone3: like fork, and Linux's EINVAL and E2BIG", test_clone3 },
		{ "posix_spawn runs a program (CLONE_VM | CLONE_VFORK); ENOENT", test_posix_spawn },
	};

	if (argc == 3 && strcmp(argv[1], "--exec-child") == 0)
		return exec_child(argv[2]);
	if (argc == 2 && strcmp(argv[1], "--spawned") == 0)
		return 43;
	self_path = argv[0];
	return run_tests(tests, sizeof(tests) / sizeof(tests[0]));
}
