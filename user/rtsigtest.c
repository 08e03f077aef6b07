/*
 * rtsigtest.c - queued real-time signals and sigqueue: every instance of a real-time signal
 * is queued with its own siginfo and taken in order (lowest signal number first, standard
 * signals before real-time ones, FIFO within one number), a standard signal sent twice while
 * pending is delivered once; si_value reaches SA_SIGINFO handlers, sigwaitinfo and
 * signalfd; rt_sigqueueinfo and rt_tgsigqueueinfo with Linux's errnos (EPERM for a code
 * only the kernel or kill may use, to another process; ESRCH; EINVAL; EFAULT); the
 * RLIMIT_SIGPENDING limit (EAGAIN for a real-time signal with information, a kill() still
 * pending without it; a POSIX timer holds one while it exists, timer_create EAGAIN over it)
 * and /proc/self/status's SigQ.
 *
 * Nothing depends on timing: every signal is sent while blocked and taken afterwards.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/signalfd.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "tap.h"

#define RT(n) (SIGRTMIN + (n))

static int expect_errno(long ret, int want, const char *what)
{
	if (ret != -1 || errno != want)
		return fail("%s: ret %ld errno %s, want %s", what, ret, ret == -1 ? errno_name(errno) : "-",
			    errno_name(want));
	return 1;
}

static long qinfo(pid_t pid, int sig, siginfo_t *si)
{
	return syscall(SYS_rt_sigqueueinfo, pid, sig, si);
}

static long tgqinfo(pid_t tgid, pid_t tid, int sig, siginfo_t *si)
{
	return syscall(SYS_rt_tgsigqueueinfo, tgid, tid, sig, si);
}

static void make_info(siginfo_t *si, int sig, int code, int value)
{
	memset(si, 0, sizeof(*si));
	si->si_signo = sig;
	si->si_code = code;
	si->si_pid = getpid();
	si->si_uid = getuid();
	si->si_value.sival_int = value;
}

static void block(int sig)
{
	sigset_t s;

	sigemptyset(&s);
	sigaddset(&s, sig);
	sigprocmask(SIG_BLOCK, &s, NULL);
}

static void unblock(int sig)
{
	sigset_t s;

	sigemptyset(&s);
	sigaddset(&s, sig);
	sigprocmask(SIG_UNBLOCK, &s, NULL);
}

/* Take one pending signal of `sig` without waiting: its number, or -1 (errno EAGAIN). */
static int take(int sig, siginfo_t *si)
{
	sigset_t s;
	struct timespec zero = { 0, 0 };

	sigemptyset(&s);
	sigaddset(&s, sig);
	return sigtimedwait(&s, si, &zero);
}

/* Three sigqueue()s of one real-time signal are three deliveries, in order, each with its
 * own si_value, SI_QUEUE, the sender's PID and UID. */
static int test_queued_fifo(void)
{
	siginfo_t si;

	block(RT(1));
	for (int i = 0; i < 3; i++) {
		union sigval v = { .sival_int = 100 + i };
		if (sigqueue(getpid(), RT(1), v) != 0)
			return fail("sigqueue %d: %s", i, errno_name(errno));
	}
	for (int i = 0; i < 3; i++) {
		if (take(RT(1), &si) != RT(1))
			return fail("take %d: %s", i, errno_name(errno));
		if (si.si_value.sival_int != 100 + i || si.si_code != SI_QUEUE || si.si_pid != getpid() ||
		    si.si_uid != getuid())
			return fail("take %d: value %d code %d pid ok %d uid ok %d", i, si.si_value.sival_int,
				    si.si_code, si.si_pid == getpid(), si.si_uid == getuid());
	}
	if (take(RT(1), &si) != -1 || errno != EAGAIN)
		return fail("a fourth instance was pending");
	unblock(RT(1));
	return 1;
}

/* kill() of a real-time signal queues every instance too (SI_USER). */
static int test_kill_rt_queued(void)
{
	siginfo_t si;

	block(RT(2));
	kill(getpid(), RT(2));
	kill(getpid(), RT(2));
	for (int i = 0; i < 2; i++) {
		if (take(RT(2), &si) != RT(2))
			return fail("take %d: %s", i, errno_name(errno));
		if (si.si_code != SI_USER || si.si_pid != getpid())
			return fail("take %d: code %d", i, si.si_code);
	}
	if (take(RT(2), &si) != -1)
		return fail("a third instance was pending");
	unblock(RT(2));
	return 1;
}

/* A standard signal queued twice while pending is delivered once, with the first one's
 * information. */
static int test_standard_merged(void)
{
	siginfo_t si;

	block(SIGUSR1);
	sigqueue(getpid(), SIGUSR1, (union sigval){ .sival_int = 7 });
	sigqueue(getpid(), SIGUSR1, (union sigval){ .sival_int = 8 });
	if (take(SIGUSR1, &si) != SIGUSR1)
		return fail("take: %s", errno_name(errno));
	if (si.si_value.sival_int != 7 || si.si_code != SI_QUEUE)
		return fail("value %d code %d", si.si_value.sival_int, si.si_code);
	if (take(SIGUSR1, &si) != -1)
		return fail("SIGUSR1 was pending twice");
	unblock(SIGUSR1);
	return 1;
}

/* sigwaitinfo takes the lowest signal number first, FIFO within one number, standard
 * signals before real-time ones. */
static int test_order(void)
{
	sigset_t set;
	siginfo_t si;
	const int want_sig[] = { SIGUSR1, SIGUSR2, RT(2), RT(5), RT(5), RT(9) };
	const int want_val[] = { 4, 0, 2, 1, 3, 5 };
	struct timespec zero = { 0, 0 };

	sigemptyset(&set);
	sigaddset(&set, SIGUSR1);
	sigaddset(&set, SIGUSR2);
	sigaddset(&set, RT(2));
	sigaddset(&set, RT(5));
	sigaddset(&set, RT(9));
	sigprocmask(SIG_BLOCK, &set, NULL);
	sigqueue(getpid(), RT(9), (union sigval){ .sival_int = 5 });
	sigqueue(getpid(), RT(5), (union sigval){ .sival_int = 1 });
	sigqueue(getpid(), RT(2), (union sigval){ .sival_int = 2 });
	sigqueue(getpid(), RT(5), (union sigval){ .sival_int = 3 });
	kill(getpid(), SIGUSR2);
	sigqueue(getpid(), SIGUSR1, (union sigval){ .sival_int = 4 });
	for (int i = 0; i < 6; i++) {
		int got = sigtimedwait(&set, &si, &zero);
		if (got != want_sig[i] || (want_val[i] && si.si_value.sival_int != want_val[i]))
			return fail("take %d: signal %d value %d, want %d value %d", i, got,
				    si.si_value.sival_int, want_sig[i], want_val[i]);
	}
	if (sigtimedwait(&set, &si, &zero) != -1)
		return fail("a seventh signal was pending");
	sigprocmask(SIG_UNBLOCK, &set, NULL);
	return 1;
}

static volatile int handled_sig[8];
static volatile int handled_val[8];
static volatile int handled_code[8];
static volatile int handled_n;

static void record(int sig, siginfo_t *si, void *uc)
{
	(void)uc;
	if (handled_n < 8) {
		handled_sig[handled_n] = sig;
		handled_val[handled_n] = si->si_value.sival_int;
		handled_code[handled_n] = si->si_code;
	}
	handled_n++;
}

/* Unblocking runs the SA_SIGINFO handlers once per instance, in order, each seeing its
 * si_value (the handlers block everything, so they run one after the other). */
static int test_handlers(void)
{
	struct sigaction sa;
	sigset_t set;
	const int want_sig[] = { RT(3), RT(3), RT(4) };
	const int want_val[] = { 31, 32, 41 };

	memset(&sa, 0, sizeof(sa));
	sa.sa_sigaction = record;
	sa.sa_flags = SA_SIGINFO;
	sigfillset(&sa.sa_mask);
	sigaction(RT(3), &sa, NULL);
	sigaction(RT(4), &sa, NULL);
	sigemptyset(&set);
	sigaddset(&set, RT(3));
	sigaddset(&set, RT(4));
	sigprocmask(SIG_BLOCK, &set, NULL);
	handled_n = 0;
	sigqueue(getpid(), RT(4), (union sigval){ .sival_int = 41 });
	sigqueue(getpid(), RT(3), (union sigval){ .sival_int = 31 });
	sigqueue(getpid(), RT(3), (union sigval){ .sival_int = 32 });
	sigprocmask(SIG_UNBLOCK, &set, NULL);
	signal(RT(3), SIG_DFL);
	signal(RT(4), SIG_DFL);
	if (handled_n != 3)
		return fail("%d handler runs, want 3", handled_n);
	for (int i = 0; i < 3; i++)
		if (handled_sig[i] != want_sig[i] || handled_val[i] != want_val[i] ||
		    handled_code[i] != SI_QUEUE)
			return fail("run %d: signal %d value %d code %d", i, handled_sig[i], handled_val[i],
				    handled_code[i]);
	return 1;
}

/* signalfd reads each queued instance with its ssi_int/ssi_ptr and SI_QUEUE. */
static int test_signalfd(void)
{
	sigset_t set;
	struct signalfd_siginfo ssi[3];
	int fd;
	ssize_t n;

	sigemptyset(&set);
	sigaddset(&set, RT(6));
	sigprocmask(SIG_BLOCK, &set, NULL);
	fd = signalfd(-1, &set, SFD_NONBLOCK);
	if (fd < 0)
		return fail("signalfd: %s", errno_name(errno));
	sigqueue(getpid(), RT(6), (union sigval){ .sival_int = 61 });
	sigqueue(getpid(), RT(6), (union sigval){ .sival_int = 62 });
	n = read(fd, ssi, sizeof(ssi));
	if (n != 2 * (ssize_t)sizeof(ssi[0]))
		return fail("read %zd bytes, want two records", n);
	for (int i = 0; i < 2; i++)
		if ((int)ssi[i].ssi_signo != RT(6) || ssi[i].ssi_int != 61 + i ||
		    ssi[i].ssi_ptr != (uint64_t)(61 + i) || ssi[i].ssi_code != SI_QUEUE ||
		    ssi[i].ssi_pid != (uint32_t)getpid())
			return fail("record %d: signo %u int %d code %d", i, ssi[i].ssi_signo, ssi[i].ssi_int,
				    ssi[i].ssi_code);
	n = read(fd, ssi, sizeof(ssi));
	if (n != -1 || errno != EAGAIN)
		return fail("third read: %zd %s", n, errno_name(errno));
	close(fd);
	sigprocmask(SIG_UNBLOCK, &set, NULL);
	return 1;
}

/* A child that waits to be killed. */
static pid_t spawn_sleeper(void)
{
	pid_t pid = fork();

	if (pid == 0) {
		for (;;)
			pause();
	}
	return pid;
}

static void reap(pid_t pid)
{
	kill(pid, SIGKILL);
	waitpid(pid, NULL, 0);
}

/* rt_sigqueueinfo's errnos, in Linux's order. */
static int test_sigqueueinfo_errors(void)
{
	siginfo_t si;
	pid_t child, gone;
	int ok = 1;

	child = spawn_sleeper();
	gone = fork();
	if (gone == 0)
		_exit(0);
	waitpid(gone, NULL, 0);
	block(RT(7));
	make_info(&si, RT(7), SI_USER, 1);
	ok = ok && expect_errno(qinfo(child, RT(7), &si), EPERM, "SI_USER to another process");
	make_info(&si, RT(7), SI_KERNEL, 1);
	ok = ok && expect_errno(qinfo(child, RT(7), &si), EPERM, "SI_KERNEL to another process");
	make_info(&si, RT(7), SI_TKILL, 1);
	ok = ok && expect_errno(qinfo(child, RT(7), &si), EPERM, "SI_TKILL to another process");
	make_info(&si, RT(7), SI_QUEUE, 1);
	ok = ok && expect_errno(qinfo(gone, RT(7), &si), ESRCH, "a reaped process");
	ok = ok && expect_errno(qinfo(0, RT(7), &si), ESRCH, "pid 0");
	ok = ok && expect_errno(qinfo(-1, RT(7), &si), ESRCH, "pid -1");
	ok = ok && expect_errno(qinfo(getpid(), 65, &si), EINVAL, "signal 65");
	ok = ok && expect_errno(qinfo(getpid(), -1, &si), EINVAL, "signal -1");
	ok = ok && expect_errno(qinfo(gone, 65, &si), ESRCH, "signal 65 to a reaped process");
	ok = ok && expect_errno(qinfo(getpid(), RT(7), (siginfo_t *)8), EFAULT, "siginfo at 8");
	make_info(&si, RT(7), SI_USER, 1);
	ok = ok && expect_errno(qinfo(child, RT(7), (siginfo_t *)8), EFAULT, "EFAULT before EPERM");
	if (ok && qinfo(getpid(), 0, &si) != 0)
		ok = fail("signal 0 to self: %s", errno_name(errno));
	if (ok && qinfo(child, 0, &(siginfo_t){ .si_code = SI_QUEUE }) != 0)
		ok = fail("signal 0 to a child: %s", errno_name(errno));
	reap(child);
	unblock(RT(7));
	return ok;
}

/* rt_sigqueueinfo to itself may use any code, and the information arrives as given
 * (si_signo is the call's signal number). */
static int test_sigqueueinfo_self(void)
{
	siginfo_t si, got;

	block(RT(8));
	make_info(&si, 0, SI_USER, 0);
	si.si_pid = 4242;
	si.si_uid = 4343;
	if (qinfo(getpid(), RT(8), &si) != 0)
		return fail("SI_USER to self: %s", errno_name(errno));
	make_info(&si, 0, -40, 77);
	si.si_pid = 1;
	if (qinfo(getpid(), RT(8), &si) != 0)
		return fail("code -40 to self: %s", errno_name(errno));
	if (take(RT(8), &got) != RT(8) || got.si_signo != RT(8) || got.si_code != SI_USER ||
	    got.si_pid != 4242 || got.si_uid != 4343)
		return fail("first: signo %d code %d pid %d uid %d", got.si_signo, got.si_code, got.si_pid,
			    got.si_uid);
	if (take(RT(8), &got) != RT(8) || got.si_code != -40 || got.si_pid != 1 ||
	    got.si_value.sival_int != 77)
		return fail("second: code %d pid %d value %d", got.si_code, got.si_pid,
			    got.si_value.sival_int);
	unblock(RT(8));
	return 1;
}

/* rt_tgsigqueueinfo: to the calling thread; EINVAL for IDs <= 0 (after EFAULT), ESRCH for
 * a thread of another process, EPERM for SI_TKILL to another thread. */
static int test_tgsigqueueinfo(void)
{
	siginfo_t si, got;
	sigset_t pend;
	pid_t child;
	int ok = 1;

	block(RT(10));
	make_info(&si, RT(10), SI_QUEUE, 55);
	if (tgqinfo(getpid(), gettid(), RT(10), &si) != 0)
		return fail("to self: %s", errno_name(errno));
	sigpending(&pend);
	if (!sigismember(&pend, RT(10)))
		return fail("not pending");
	if (take(RT(10), &got) != RT(10) || got.si_value.sival_int != 55 || got.si_code != SI_QUEUE)
		return fail("took code %d value %d", got.si_code, got.si_value.sival_int);
	child = spawn_sleeper();
	ok = ok && expect_errno(tgqinfo(0, gettid(), RT(10), &si), EINVAL, "tgid 0");
	ok = ok && expect_errno(tgqinfo(getpid(), 0, RT(10), &si), EINVAL, "tid 0");
	ok = ok && expect_errno(tgqinfo(getpid(), -3, RT(10), &si), EINVAL, "tid -3");
	ok = ok && expect_errno(tgqinfo(0, 0, RT(10), (siginfo_t *)8), EFAULT, "EFAULT before EINVAL");
	ok = ok && expect_errno(tgqinfo(getpid(), child, RT(10), &si), ESRCH, "another process's thread");
	make_info(&si, RT(10), SI_TKILL, 0);
	ok = ok && expect_errno(tgqinfo(child, child, RT(10), &si), EPERM, "SI_TKILL to another thread");
	make_info(&si, RT(10), SI_QUEUE, 0);
	ok = ok && expect_errno(tgqinfo(getpid(), gettid(), 99, &si), EINVAL, "signal 99");
	reap(child);
	unblock(RT(10));
	return ok;
}

/* The SigQ line of /proc/self/status: queued/limit, or -1. */
static int read_sigq(long *queued, long *limit)
{
	char buf[4096];
	int fd = open("/proc/self/status", O_RDONLY);
	ssize_t n;
	char *p;

	if (fd < 0)
		return -1;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return -1;
	buf[n] = '\0';
	p = strstr(buf, "\nSigQ:\t");
	if (!p || sscanf(p + 7, "%ld/%ld", queued, limit) != 2)
		return -1;
	return 0;
}

/* In a child with a user ID of its own: RLIMIT_SIGPENDING 3 lets three instances queue;
 * the fourth sigqueue() is EAGAIN, a kill() of the real-time signal still succeeds (merged
 * into the pending bit, no information), a standard signal sigqueue()d over the limit is
 * pending with SI_USER and no sender; SigQ shows 3/3, and 0/3 once they are taken. */
static int rlimit_child(void)
{
	struct rlimit rl = { 3, 3 };
	siginfo_t si;
	long queued, limit;

	if (setuid(54321) != 0) {
		printf("setuid: %s\n", errno_name(errno));
		return 10;
	}
	if (setrlimit(RLIMIT_SIGPENDING, &rl) != 0)
		return 11;
	block(RT(11));
	block(SIGUSR2);
	for (int i = 0; i < 3; i++)
		if (sigqueue(getpid(), RT(11), (union sigval){ .sival_int = i }) != 0)
			return 12;
	if (sigqueue(getpid(), RT(11), (union sigval){ .sival_int = 3 }) != -1 || errno != EAGAIN)
		return 13;
	if (kill(getpid(), RT(11)) != 0)
		return 14;
	if (sigqueue(getpid(), SIGUSR2, (union sigval){ .sival_int = 9 }) != 0)
		return 15;
	if (read_sigq(&queued, &limit) != 0 || queued != 3 || limit != 3) {
		printf("SigQ %ld/%ld\n", queued, limit);
		return 16;
	}
	for (int i = 0; i < 3; i++)
		if (take(RT(11), &si) != RT(11) || si.si_value.sival_int != i)
			return 17;
	if (take(RT(11), &si) != -1)
		return 18; /* the kill() was merged into the queued ones */
	if (take(SIGUSR2, &si) != SIGUSR2 || si.si_code != SI_USER || si.si_pid != 0)
		return 19;
	if (read_sigq(&queued, &limit) != 0 || queued != 0 || limit != 3)
		return 20;
	/* Over the limit with nothing queued, kill() leaves the signal pending without
	 * information: SI_USER, no sender. */
	rl.rlim_cur = 0;
	if (setrlimit(RLIMIT_SIGPENDING, &rl) != 0)
		return 21;
	kill(getpid(), RT(11));
	if (take(RT(11), &si) != RT(11) || si.si_code != SI_USER || si.si_pid != 0)
		return 22;
	/* A POSIX timer holds one for as long as it exists: with the limit at 2, two timers,
	 * then EAGAIN; SigQ 2/2; deleting one makes room again. */
	rl.rlim_cur = 2;
	if (setrlimit(RLIMIT_SIGPENDING, &rl) != 0)
		return 23;
	struct sigevent none = { .sigev_notify = SIGEV_NONE };
	timer_t t[3];
	if (timer_create(CLOCK_MONOTONIC, &none, &t[0]) != 0 ||
	    timer_create(CLOCK_MONOTONIC, &none, &t[1]) != 0)
		return 24;
	if (timer_create(CLOCK_MONOTONIC, &none, &t[2]) != -1 || errno != EAGAIN)
		return 25;
	if (read_sigq(&queued, &limit) != 0 || queued != 2 || limit != 2) {
		printf("SigQ %ld/%ld with two timers\n", queued, limit);
		return 26;
	}
	if (timer_delete(t[0]) != 0 || timer_create(CLOCK_MONOTONIC, &none, &t[2]) != 0)
		return 27;
	timer_delete(t[1]);
	timer_delete(t[2]);
	if (read_sigq(&queued, &limit) != 0 || queued != 0)
		return 28;
	return 0;
}

static int test_rlimit_sigpending(void)
{
	pid_t pid;
	int status;

	pid = fork();
	if (pid == 0)
		_exit(rlimit_child());
	if (waitpid(pid, &status, 0) != pid)
		return fail("waitpid: %s", errno_name(errno));
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
		return fail("child status %#x", status);
	return 1;
}

/* SigQ's limit is RLIMIT_SIGPENDING's soft limit, and its count covers signals queued. */
static int test_sigq(void)
{
	struct rlimit rl;
	long queued, limit;
	siginfo_t si;

	if (getrlimit(RLIMIT_SIGPENDING, &rl) != 0)
		return fail("getrlimit: %s", errno_name(errno));
	if (rl.rlim_cur == RLIM_INFINITY || rl.rlim_cur == 0)
		return fail("RLIMIT_SIGPENDING is not a finite default");
	block(RT(12));
	for (int i = 0; i < 2; i++)
		sigqueue(getpid(), RT(12), (union sigval){ .sival_int = i });
	if (read_sigq(&queued, &limit) != 0)
		return fail("no SigQ line");
	while (take(RT(12), &si) == RT(12))
		;
	unblock(RT(12));
	if (limit != (long)rl.rlim_cur)
		return fail("SigQ limit is not RLIMIT_SIGPENDING");
	if (queued < 2)
		return fail("SigQ count %ld with two queued", queued);
	return 1;
}

/* Ignoring a real-time signal discards its queued instances. */
static int test_ignore_flushes(void)
{
	siginfo_t si;

	block(RT(13));
	sigqueue(getpid(), RT(13), (union sigval){ .sival_int = 1 });
	sigqueue(getpid(), RT(13), (union sigval){ .sival_int = 2 });
	signal(RT(13), SIG_IGN);
	signal(RT(13), SIG_DFL);
	if (take(RT(13), &si) != -1 || errno != EAGAIN)
		return fail("an instance survived SIG_IGN");
	unblock(RT(13));
	return 1;
}

static const struct test tests[] = {
	{ "three sigqueue()s of one RT signal are taken three times, FIFO, with si_value",
	  test_queued_fifo },
	{ "kill() of an RT signal queues every instance (SI_USER)", test_kill_rt_queued },
	{ "a standard signal queued twice while pending is taken once", test_standard_merged },
	{ "signals are taken lowest number first, FIFO within one number", test_order },
	{ "SA_SIGINFO handlers run once per instance, in order, with si_value", test_handlers },
	{ "signalfd reads each queued instance with ssi_int and ssi_ptr", test_signalfd },
	{ "rt_sigqueueinfo: EPERM, ESRCH, EINVAL, EFAULT in Linux's order", test_sigqueueinfo_errors },
	{ "rt_sigqueueinfo to itself delivers the information as given", test_sigqueueinfo_self },
	{ "rt_tgsigqueueinfo: to a thread; EINVAL, ESRCH, EPERM, EFAULT", test_tgsigqueueinfo },
	{ "RLIMIT_SIGPENDING: EAGAIN over the limit, kill() pends without info; timers count",
	  test_rlimit_sigpending },
	{ "SigQ shows the queued count and RLIMIT_SIGPENDING", test_sigq },
	{ "SIG_IGN discards queued RT instances", test_ignore_flushes },
};

int main(void)
{
	return run_tests(tests, TEST_COUNT(tests));
}
