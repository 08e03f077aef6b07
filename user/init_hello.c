/*
 * init_hello.c - a tiny /init for Cradle's boot tests.
 *
 * It says who it is (PID 1, its argv[0], its parent PID 0), then runs each program named
 * in its arguments (default: /bin/syscalls) with fork + execve + wait, in /tmp, and
 * reports how each one ended. Then it powers the machine off with reboot(2), which makes
 * QEMU exit. The kernel passes the words after "--" on its command line to init as
 * arguments, so a test can choose the programs:  -append "... -- /bin/segv /bin/execbad".
 * A program takes one argument after a comma:  "/bin/forkbomb,3000".
 *
 * Each program's output is framed by two lines a test can cut it out with:
 *
 *     /init: running /bin/syscalls
 *     ... what the program printed ...
 *     /init: /bin/syscalls exited with status 0
 *
 * It refuses to power off unless it is PID 1, so running it by mistake on a host is harmless.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <linux/reboot.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

/*
 * Run `spec` in a child and report how it ended; returns its exit status (or 128 + signal).
 * `spec` is a path, or a path and one argument joined by a comma ("/bin/forkbomb,3000").
 */
static int run(const char *spec)
{
	char path[256];
	char *arg;

	snprintf(path, sizeof(path), "%s", spec);
	arg = strchr(path, ',');
	if (arg != NULL)
		*arg++ = '\0';
	char *const argv[] = { path, arg, NULL };
	char *const envp[] = { "HOME=/", "PATH=/bin:/sbin", "TERM=linux", NULL };
	int status;

	printf("/init: running %s\n", path);
	fflush(stdout);
	pid_t pid = fork();
	if (pid < 0) {
		printf("/init: fork failed: errno=%d\n", errno);
		return 127;
	}
	if (pid == 0) {
		if (chdir("/tmp") != 0)
			printf("/init: chdir /tmp failed (errno=%d), staying in /\n", errno);
		execve(path, argv, envp);
		printf("/init: execve %s failed: errno=%d\n", path, errno);
		fflush(stdout);
		_exit(127);
	}
	/* Reap every child that ends (orphans are re-parented to us) until ours does. */
	for (;;) {
		pid_t done = wait4(-1, &status, 0, NULL);
		if (done == pid)
			break;
		if (done < 0) {
			printf("/init: wait4 failed: errno=%d\n", errno);
			return 127;
		}
	}
	if (WIFEXITED(status)) {
		printf("/init: %s exited with status %d\n", path, WEXITSTATUS(status));
		return WEXITSTATUS(status);
	}
	if (WIFSIGNALED(status)) {
		printf("/init: %s killed by signal %d\n", path, WTERMSIG(status));
		return 128 + WTERMSIG(status);
	}
	printf("/init: %s ended with status %#x\n", path, status);
	return 127;
}

int main(int argc, char *argv[])
{
	static char *const default_programs[] = { "/bin/syscalls", NULL };
	char *const *programs = argc > 1 ? argv + 1 : default_programs;
	int worst = 0;

	printf("Hello from /init as PID %d\n", getpid());
	printf("/init: argv[0] is %s\n", argc > 0 ? argv[0] : "(none)");
	printf("/init: parent is PID %d\n", getppid());
	fflush(stdout);
	for (int i = 0; programs[i] != NULL; i++) {
		int status = run(programs[i]);
		if (status > worst)
			worst = status;
	}
	if (getpid() != 1) {
		printf("/init: not PID 1, so not powering off\n");
		return worst;
	}
	printf("/init: powering off\n");
	fflush(stdout);
	syscall(SYS_reboot, LINUX_REBOOT_MAGIC1, LINUX_REBOOT_MAGIC2, LINUX_REBOOT_CMD_POWER_OFF,
		0);
	/* Returning from PID 1 panics the kernel: a visible failure, which is what we want. */
	printf("/init: reboot(POWER_OFF) failed: errno=%d\n", errno);
	return 1;
}
