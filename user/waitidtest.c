/*
 * waitidtest.c - waitid(2) and pidfds: P_PID, P_PGID, P_ALL and P_PIDFD; WEXITED, WSTOPPED,
 * WCONTINUED, WNOHANG and WNOWAIT; the siginfo (SIGCHLD, CLD_EXITED/KILLED/STOPPED/
 * CONTINUED, si_status, si_pid, si_uid), a NULL infop, the rusage argument; EINVAL, ECHILD
 * and EFAULT. pidfd_open (PIDFD_NONBLOCK, close-on-exec, EINVAL, ESRCH; a thread that is not
 * a leader is threads.c's, judged on Debian's kernel: later kernels say ENOENT), a pidfd polling readable once its process has exited, /proc/self/fdinfo's
 * Pid line, pidfd_send_signal (flags, EBADF, si_signo, EPERM, ESRCH once reaped) and
 * waitid(P_PIDFD) (EAGAIN on a PIDFD_NONBLOCK pidfd of a running child), pidfd_getfd.
 *
 * Nothing depends on timing: a child that must still run blocks on a pipe or in pause()
 * until the parent acts.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "tap.h"

#ifndef P_PIDFD
#define P_PIDFD 3
#endif
#ifndef PIDFD_NONBLOCK
#define PIDFD_NONBLOCK O_NONBLOCK
#endif

static int expect_errno(long ret, int want, const char *what)
{
	if (ret != -1 || errno != want)
		return fail("%s: ret %ld errno %s, want %s", what, ret, ret == -1 ? errno_name(errno) : "-",
			    errno_name(want));
	return 1;
}

static long sys_waitid(int idtype, int id, siginfo_t *info, int options, struct rusage *ru)
{
	return syscall(SYS_waitid, idtype, id, info, options, ru);
}

static int pidfd_open(pid_t pid, unsigned int flags)
{
	return syscall(SYS_pidfd_open, pid, flags);
}

static int pidfd_send_signal(int fd, int sig, siginfo_t *info, unsigned int flags)
{
	return syscall(SYS_pidfd_send_signal, fd, sig, info, flags);
}

/* A child that exits with `code` once the parent writes to (or closes) the pipe. */
static pid_t spawn_waiting(int code, int *release_fd)
{
	int p[2];
	pid_t pid;
	char c;

	if (pipe(p) != 0)
		return -1;
	pid = fork();
	if (pid == 0) {
		close(p[1]);
		(void)read(p[0], &c, 1);
		_exit(code);
	}
	close(p[0]);
	*release_fd = p[1];
	return pid;
}

static pid_t spawn_exit(int code)
{
	pid_t pid = fork();

	if (pid == 0)
		_exit(code);
	return pid;
}

static pid_t spawn_pause(void)
{
	pid_t pid = fork();

	if (pid == 0) {
		for (;;)
			pause();
	}
	return pid;
}

static int check_info(const siginfo_t *si, pid_t pid, int code, int status, const char *what)
{
	if (si->si_signo != SIGCHLD || si->si_code != code || si->si_pid != pid ||
	    si->si_status != status || si->si_uid != getuid())
		return fail("%s: signo %d code %d status %d pid ok %d uid ok %d", what, si->si_signo,
			    si->si_code, si->si_status, si->si_pid == pid, si->si_uid == getuid());
	return 1;
}

/* WEXITED on an exited child: CLD_EXITED, its status, PID and UID; reaped. */
static int test_exited(void)
{
	siginfo_t si;
	pid_t pid = spawn_exit(7);

	memset(&si, 0, sizeof(si));
	if (sys_waitid(P_PID, pid, &si, WEXITED, NULL) != 0)
		return fail("waitid: %s", errno_name(errno));
	if (!check_info(&si, pid, CLD_EXITED, 7, "exited"))
		return 0;
	return expect_errno(sys_waitid(P_PID, pid, &si, WEXITED, NULL), ECHILD, "after reaping");
}

/* A child killed by SIGTERM: CLD_KILLED with the signal. */
static int test_killed(void)
{
	siginfo_t si;
	pid_t pid = spawn_pause();

	kill(pid, SIGTERM);
	memset(&si, 0, sizeof(si));
	if (sys_waitid(P_ALL, 0, &si, WEXITED, NULL) != 0)
		return fail("waitid: %s", errno_name(errno));
	return check_info(&si, pid, CLD_KILLED, SIGTERM, "killed");
}

/* WNOWAIT reports without reaping: the next waitid reports it again and reaps it. */
static int test_wnowait(void)
{
	siginfo_t si;
	pid_t pid = spawn_exit(3);

	for (int i = 0; i < 2; i++) {
		memset(&si, 0, sizeof(si));
		if (sys_waitid(P_PID, pid, &si, WEXITED | WNOWAIT, NULL) != 0)
			return fail("WNOWAIT %d: %s", i, errno_name(errno));
		if (!check_info(&si, pid, CLD_EXITED, 3, "WNOWAIT"))
			return 0;
	}
	memset(&si, 0, sizeof(si));
	if (sys_waitid(P_PID, pid, &si, WEXITED, NULL) != 0)
		return fail("reap: %s", errno_name(errno));
	if (!check_info(&si, pid, CLD_EXITED, 3, "reap"))
		return 0;
	return expect_errno(sys_waitid(P_PID, pid, &si, WEXITED, NULL), ECHILD, "reaped twice");
}

/* WNOHANG with a child that has not changed: 0, and si_pid 0. */
static int test_wnohang(void)
{
	siginfo_t si;
	int fd;
	pid_t pid = spawn_waiting(0, &fd);

	memset(&si, 0, sizeof(si));
	if (sys_waitid(P_ALL, 0, &si, WEXITED | WNOHANG, NULL) != 0)
		return fail("waitid: %s", errno_name(errno));
	if (si.si_pid != 0)
		return fail("si_pid set with nothing to report");
	close(fd);
	if (sys_waitid(P_PID, pid, &si, WEXITED, NULL) != 0 || si.si_pid != pid)
		return fail("final wait: %s", errno_name(errno));
	return 1;
}

/* WSTOPPED, WCONTINUED, then the kill: CLD_STOPPED, CLD_CONTINUED, CLD_KILLED; a WEXITED-only
 * wait does not report a stop (WNOHANG: 0). */
static int test_stop_continue(void)
{
	siginfo_t si;
	pid_t pid = spawn_pause();

	kill(pid, SIGSTOP);
	memset(&si, 0, sizeof(si));
	if (sys_waitid(P_PID, pid, &si, WSTOPPED | WNOWAIT, NULL) != 0)
		return fail("WSTOPPED|WNOWAIT: %s", errno_name(errno));
	if (!check_info(&si, pid, CLD_STOPPED, SIGSTOP, "stopped, WNOWAIT"))
		return 0;
	memset(&si, 0, sizeof(si));
	if (sys_waitid(P_PID, pid, &si, WSTOPPED, NULL) != 0)
		return fail("WSTOPPED: %s", errno_name(errno));
	if (!check_info(&si, pid, CLD_STOPPED, SIGSTOP, "stopped"))
		return 0;
	memset(&si, 0, sizeof(si));
	if (sys_waitid(P_PID, pid, &si, WEXITED | WSTOPPED | WNOHANG, NULL) != 0 || si.si_pid != 0)
		return fail("the stop was reported twice");
	kill(pid, SIGCONT);
	memset(&si, 0, sizeof(si));
	if (sys_waitid(P_PID, pid, &si, WCONTINUED, NULL) != 0)
		return fail("WCONTINUED: %s", errno_name(errno));
	if (!check_info(&si, pid, CLD_CONTINUED, SIGCONT, "continued"))
		return 0;
	kill(pid, SIGKILL);
	memset(&si, 0, sizeof(si));
	if (sys_waitid(P_PID, pid, &si, WEXITED, NULL) != 0)
		return fail("WEXITED: %s", errno_name(errno));
	return check_info(&si, pid, CLD_KILLED, SIGKILL, "killed");
}

/* P_PGID: a child in a group of its own is found by that group, not by ours (id 0). */
static int test_pgid(void)
{
	siginfo_t si;
	int fd;
	pid_t pid = spawn_waiting(5, &fd);

	setpgid(pid, pid);
	close(fd);
	if (sys_waitid(P_PGID, 0, &si, WEXITED | WNOHANG, NULL) != -1 || errno != ECHILD)
		return fail("our group: %s", errno_name(errno));
	memset(&si, 0, sizeof(si));
	if (sys_waitid(P_PGID, pid, &si, WEXITED, NULL) != 0)
		return fail("its group: %s", errno_name(errno));
	return check_info(&si, pid, CLD_EXITED, 5, "P_PGID");
}

/* infop may be NULL; the rusage argument is written. */
static int test_null_info_rusage(void)
{
	struct rusage ru;
	siginfo_t si;
	pid_t pid = spawn_exit(1);

	memset(&ru, 0xff, sizeof(ru));
	if (sys_waitid(P_PID, pid, NULL, WEXITED | WNOWAIT, &ru) != 0)
		return fail("NULL infop: %s", errno_name(errno));
	if (ru.ru_utime.tv_usec < 0 || ru.ru_utime.tv_usec >= 1000000 || ru.ru_stime.tv_usec < 0 ||
	    ru.ru_stime.tv_usec >= 1000000)
		return fail("rusage not written");
	memset(&si, 0, sizeof(si));
	if (sys_waitid(P_PID, pid, &si, WEXITED, NULL) != 0 || si.si_pid != pid)
		return fail("the NULL-infop wait did not leave it waitable");
	return 1;
}

/* EINVAL for bad options, idtypes and IDs; ECHILD without children; EFAULT for a bad infop
 * (the child is reaped all the same). */
static int test_errors(void)
{
	siginfo_t si;
	int ok = 1;
	pid_t pid;

	ok = ok && expect_errno(sys_waitid(P_ALL, 0, &si, 0, NULL), EINVAL, "no event");
	ok = ok && expect_errno(sys_waitid(P_ALL, 0, &si, WNOHANG, NULL), EINVAL, "WNOHANG alone");
	ok = ok && expect_errno(sys_waitid(P_ALL, 0, &si, WEXITED | 0x10, NULL), EINVAL, "bit 0x10");
	ok = ok && expect_errno(sys_waitid(7, 0, &si, WEXITED, NULL), EINVAL, "idtype 7");
	ok = ok && expect_errno(sys_waitid(P_PID, 0, &si, WEXITED, NULL), EINVAL, "P_PID 0");
	ok = ok && expect_errno(sys_waitid(P_PID, -2, &si, WEXITED, NULL), EINVAL, "P_PID -2");
	ok = ok && expect_errno(sys_waitid(P_PGID, -1, &si, WEXITED, NULL), EINVAL, "P_PGID -1");
	ok = ok && expect_errno(sys_waitid(P_PIDFD, -1, &si, WEXITED, NULL), EINVAL, "P_PIDFD -1");
	ok = ok && expect_errno(sys_waitid(P_PIDFD, 0, &si, WEXITED, NULL), EBADF, "P_PIDFD stdin");
	ok = ok && expect_errno(sys_waitid(P_ALL, 0, &si, WEXITED, NULL), ECHILD, "no children");
	ok = ok && expect_errno(sys_waitid(P_PID, 1, &si, WEXITED, NULL), ECHILD, "not a child");
	if (!ok)
		return 0;
	pid = spawn_exit(2);
	ok = expect_errno(sys_waitid(P_PID, pid, (siginfo_t *)8, WEXITED, NULL), EFAULT, "infop 8");
	return ok && expect_errno(sys_waitid(P_ALL, 0, &si, WEXITED | WNOHANG, NULL), ECHILD,
				  "the child after EFAULT");
}

/* pidfd_open: close-on-exec, PIDFD_NONBLOCK sets O_NONBLOCK; EINVAL for flags and IDs <= 0;
 * ESRCH for no such process. */
static int test_pidfd_open(void)
{
	int fd, nb, ok = 1;
	pid_t gone;

	fd = pidfd_open(getpid(), 0);
	if (fd < 0)
		return fail("pidfd_open(self): %s", errno_name(errno));
	if (!(fcntl(fd, F_GETFD) & FD_CLOEXEC) || (fcntl(fd, F_GETFL) & O_NONBLOCK))
		return fail("flags of a pidfd");
	nb = pidfd_open(getpid(), PIDFD_NONBLOCK);
	if (nb < 0 || !(fcntl(nb, F_GETFL) & O_NONBLOCK))
		return fail("PIDFD_NONBLOCK");
	close(nb);
	close(fd);
	ok = ok && expect_errno(pidfd_open(getpid(), 1), EINVAL, "flags 1");
	ok = ok && expect_errno(pidfd_open(0, 0), EINVAL, "pid 0");
	ok = ok && expect_errno(pidfd_open(-1, 0), EINVAL, "pid -1");
	gone = spawn_exit(0);
	waitpid(gone, NULL, 0);
	ok = ok && expect_errno(pidfd_open(gone, 0), ESRCH, "a reaped process");
	return ok;
}

/* A pidfd polls readable once its process has exited, not before; /proc/self/fdinfo shows
 * its PID; waitid(P_PIDFD) reaps it; then pidfd_send_signal is ESRCH. */
static int test_pidfd_poll_wait(void)
{
	int release, fd;
	pid_t pid = spawn_waiting(9, &release);
	struct pollfd p;
	siginfo_t si;
	char path[64], buf[512];
	int n, got = -2, pfd;

	fd = pidfd_open(pid, 0);
	if (fd < 0)
		return fail("pidfd_open: %s", errno_name(errno));
	snprintf(path, sizeof(path), "/proc/self/fdinfo/%d", fd);
	pfd = open(path, O_RDONLY);
	if (pfd < 0)
		return fail("open fdinfo: %s", errno_name(errno));
	n = read(pfd, buf, sizeof(buf) - 1);
	close(pfd);
	buf[n > 0 ? n : 0] = '\0';
	char *line = strstr(buf, "Pid:\t");
	if (!line || sscanf(line + 5, "%d", &got) != 1 || got != pid)
		return fail("fdinfo has no Pid line with the child's PID");
	p.fd = fd;
	p.events = POLLIN;
	if (poll(&p, 1, 0) != 0)
		return fail("readable before the child exited");
	close(release);
	p.revents = 0;
	if (poll(&p, 1, -1) != 1 || !(p.revents & POLLIN))
		return fail("not readable after the exit: revents %#x", p.revents);
	memset(&si, 0, sizeof(si));
	if (sys_waitid(P_PIDFD, fd, &si, WEXITED, NULL) != 0)
		return fail("waitid(P_PIDFD): %s", errno_name(errno));
	if (!check_info(&si, pid, CLD_EXITED, 9, "P_PIDFD"))
		return 0;
	if (!expect_errno(pidfd_send_signal(fd, SIGTERM, NULL, 0), ESRCH, "signal after reaping"))
		return 0;
	if (!expect_errno(sys_waitid(P_PIDFD, fd, &si, WEXITED | WNOHANG, NULL), ECHILD,
			  "waitid after reaping"))
		return 0;
	if (poll(&p, 1, 0) != 1)
		return fail("not readable once reaped");
	close(fd);
	return 1;
}

/* waitid(P_PIDFD) on a PIDFD_NONBLOCK pidfd of a running child: EAGAIN; with WNOHANG, 0. */
static int test_pidfd_nonblock_wait(void)
{
	int release, fd, ok;
	pid_t pid = spawn_waiting(0, &release);
	siginfo_t si;

	fd = pidfd_open(pid, PIDFD_NONBLOCK);
	if (fd < 0)
		return fail("pidfd_open: %s", errno_name(errno));
	ok = expect_errno(sys_waitid(P_PIDFD, fd, &si, WEXITED, NULL), EAGAIN, "nonblocking pidfd");
	memset(&si, 0, sizeof(si));
	if (ok && (sys_waitid(P_PIDFD, fd, &si, WEXITED | WNOHANG, NULL) != 0 || si.si_pid != 0))
		ok = fail("WNOHANG on a nonblocking pidfd: %s", errno_name(errno));
	close(release);
	waitpid(pid, NULL, 0);
	close(fd);
	return ok;
}

static volatile int got_sig, got_code, got_value, got_pid;

static void handler(int sig, siginfo_t *si, void *uc)
{
	(void)uc;
	got_sig = sig;
	got_code = si->si_code;
	got_value = si->si_value.sival_int;
	got_pid = si->si_pid;
}

/* pidfd_send_signal: EINVAL for flags and a mismatched si_signo, EBADF for a file that is
 * not a pidfd, EPERM for SI_USER information to another process; to itself any info; no
 * info is SI_USER from the caller; the child is killed through its pidfd. */
static int test_pidfd_send_signal(void)
{
	struct sigaction sa;
	siginfo_t si;
	int self, fd, ok = 1;
	pid_t pid;

	memset(&sa, 0, sizeof(sa));
	sa.sa_sigaction = handler;
	sa.sa_flags = SA_SIGINFO;
	sigaction(SIGUSR1, &sa, NULL);
	self = pidfd_open(getpid(), 0);
	if (self < 0)
		return fail("pidfd_open: %s", errno_name(errno));
	ok = ok && expect_errno(pidfd_send_signal(self, SIGUSR1, NULL, 8), EINVAL, "flags 8");
	ok = ok && expect_errno(pidfd_send_signal(0, SIGUSR1, NULL, 0), EBADF, "stdin");
	ok = ok && expect_errno(pidfd_send_signal(999, SIGUSR1, NULL, 0), EBADF, "fd 999");
	ok = ok && expect_errno(pidfd_send_signal(self, 65, NULL, 0), EINVAL, "signal 65");
	memset(&si, 0, sizeof(si));
	si.si_signo = SIGUSR2;
	si.si_code = SI_QUEUE;
	ok = ok && expect_errno(pidfd_send_signal(self, SIGUSR1, &si, 0), EINVAL, "si_signo mismatch");
	ok = ok && expect_errno(pidfd_send_signal(self, SIGUSR1, (siginfo_t *)8, 0), EFAULT, "info at 8");
	if (!ok)
		return 0;
	got_sig = 0;
	if (pidfd_send_signal(self, SIGUSR1, NULL, 0) != 0)
		return fail("to self: %s", errno_name(errno));
	if (got_sig != SIGUSR1 || got_code != SI_USER || got_pid != getpid())
		return fail("no info: signal %d code %d", got_sig, got_code);
	si.si_signo = SIGUSR1;
	si.si_code = SI_QUEUE;
	si.si_value.sival_int = 1234;
	got_sig = 0;
	if (pidfd_send_signal(self, SIGUSR1, &si, 0) != 0)
		return fail("info to self: %s", errno_name(errno));
	if (got_sig != SIGUSR1 || got_code != SI_QUEUE || got_value != 1234)
		return fail("info: signal %d code %d value %d", got_sig, got_code, got_value);
	signal(SIGUSR1, SIG_DFL);
	close(self);
	pid = spawn_pause();
	fd = pidfd_open(pid, 0);
	si.si_code = SI_USER;
	ok = expect_errno(pidfd_send_signal(fd, SIGUSR1, &si, 0), EPERM, "SI_USER to a child");
	si.si_code = SI_TKILL;
	ok = ok && expect_errno(pidfd_send_signal(fd, SIGUSR1, &si, 0), EPERM, "SI_TKILL to a child");
	if (ok && pidfd_send_signal(fd, 0, NULL, 0) != 0)
		ok = fail("signal 0: %s", errno_name(errno));
	if (ok && pidfd_send_signal(fd, SIGKILL, NULL, 0) != 0)
		ok = fail("SIGKILL: %s", errno_name(errno));
	memset(&si, 0, sizeof(si));
	if (sys_waitid(P_PIDFD, fd, &si, WEXITED, NULL) != 0)
		return fail("waitid: %s", errno_name(errno));
	close(fd);
	return ok && check_info(&si, pid, CLD_KILLED, SIGKILL, "killed through the pidfd");
}

/* pidfd_getfd: a close-on-exec duplicate of another process's descriptor (the same pipe);
 * EINVAL for flags, EBADF for a file that is not a pidfd or a descriptor it lacks, EPERM
 * from another user without CAP_SYS_PTRACE, ESRCH once reaped. */
static int test_pidfd_getfd(void)
{
	int p[2], fd, dup, release, ok = 1, status;
	pid_t pid, other;
	char c = 0;

	if (pipe(p) != 0)
		return fail("pipe");
	pid = spawn_waiting(0, &release);
	close(p[1]); /* only the child has the write end now */
	fd = pidfd_open(pid, 0);
	ok = ok && expect_errno(syscall(SYS_pidfd_getfd, fd, p[0], 1), EINVAL, "flags 1");
	ok = ok && expect_errno(syscall(SYS_pidfd_getfd, 0, p[0], 0), EBADF, "stdin as the pidfd");
	ok = ok && expect_errno(syscall(SYS_pidfd_getfd, fd, 999, 0), EBADF, "a descriptor it lacks");
	ok = ok && expect_errno(syscall(SYS_pidfd_getfd, fd, -1, 0), EBADF, "descriptor -1");
	if (!ok)
		return 0;
	dup = syscall(SYS_pidfd_getfd, fd, p[1], 0);
	if (dup < 0)
		return fail("pidfd_getfd: %s", errno_name(errno));
	if (!(fcntl(dup, F_GETFD) & FD_CLOEXEC))
		return fail("not close-on-exec");
	if (write(dup, "z", 1) != 1 || read(p[0], &c, 1) != 1 || c != 'z')
		return fail("not the child's pipe");
	close(dup);
	/* Another user may not take root's descriptors. */
	other = fork();
	if (other == 0) {
		int self_parent = pidfd_open(getppid(), 0);
		if (setgid(54321) != 0 || setuid(54321) != 0)
			_exit(2);
		if (syscall(SYS_pidfd_getfd, self_parent, 0, 0) != -1 || errno != EPERM)
			_exit(3);
		_exit(0);
	}
	waitpid(other, &status, 0);
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
		return fail("another user: status %#x", status);
	close(release);
	waitpid(pid, NULL, 0);
	ok = expect_errno(syscall(SYS_pidfd_getfd, fd, 0, 0), ESRCH, "a reaped process");
	close(fd);
	close(p[0]);
	return ok;
}

static const struct test tests[] = {
	{ "waitid(P_PID, WEXITED): CLD_EXITED, status, pid, uid; reaped", test_exited },
	{ "waitid(P_ALL): a child killed by SIGTERM is CLD_KILLED", test_killed },
	{ "WNOWAIT leaves the child waitable", test_wnowait },
	{ "WNOHANG with nothing to report: 0 and si_pid 0", test_wnohang },
	{ "WSTOPPED, WCONTINUED: CLD_STOPPED, CLD_CONTINUED, then CLD_KILLED", test_stop_continue },
	{ "P_PGID finds a child by its process group", test_pgid },
	{ "a NULL infop is allowed; rusage is written", test_null_info_rusage },
	{ "waitid: EINVAL, EBADF, ECHILD, EFAULT", test_errors },
	{ "pidfd_open: flags, close-on-exec; EINVAL, ESRCH", test_pidfd_open },
	{ "a pidfd polls readable at exit; fdinfo Pid; waitid(P_PIDFD); ESRCH, ECHILD once reaped",
	  test_pidfd_poll_wait },
	{ "waitid(P_PIDFD) on a PIDFD_NONBLOCK pidfd of a running child: EAGAIN",
	  test_pidfd_nonblock_wait },
	{ "pidfd_send_signal: EINVAL, EBADF, EFAULT, EPERM; info and SI_USER",
	  test_pidfd_send_signal },
	{ "pidfd_getfd: the same file, close-on-exec; EINVAL, EBADF, EPERM, ESRCH", test_pidfd_getfd },
};

int main(void)
{
	return run_tests(tests, TEST_COUNT(tests));
}
