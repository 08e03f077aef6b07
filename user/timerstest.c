/*
 * timerstest.c - timers and signals as files and as signals: timerfd (one-shot, periodic,
 * absolute, epoll, the 8-byte read, EAGAIN, every errno), signalfd (reading a raised signal,
 * several at once, a new mask for an existing one, a blocking read woken by another
 * process, poll readiness, errnos) and POSIX timers (SIGEV_SIGNAL with si_value and
 * SI_TIMER, overruns while the signal is blocked, SIGEV_NONE, SIGEV_THREAD_ID, glibc's
 * SIGEV_THREAD, absolute CLOCK_REALTIME, errnos).
 *
 * Timing is loose: a periodic timer must have expired at least a few times after a sleep
 * several periods long, never an exact number; waits for a timer use no timeout.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/signalfd.h>
#include <sys/syscall.h>
#include <sys/timerfd.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "tap.h"

#define MS 1000000L

static int expect_errno(long ret, int want, const char *what)
{
	if (ret != -1 || errno != want)
		return fail("%s: ret %ld errno %s, want %s", what, ret, ret == -1 ? errno_name(errno) : "-",
			    errno_name(want));
	return 1;
}

static struct itimerspec its(long value_ns, long interval_ns)
{
	struct itimerspec t = {
		.it_value = { value_ns / 1000000000L, value_ns % 1000000000L },
		.it_interval = { interval_ns / 1000000000L, interval_ns % 1000000000L },
	};
	return t;
}

static void sleep_ns(long ns)
{
	struct timespec ts = { ns / 1000000000L, ns % 1000000000L };
	while (nanosleep(&ts, &ts) == -1 && errno == EINTR)
		;
}

static long ts_ns(const struct timespec *t)
{
	return t->tv_sec * 1000000000L + t->tv_nsec;
}

static int test_timerfd_errors(void)
{
	int p[2];
	if (pipe(p))
		return fail("pipe");
	struct itimerspec t = its(10 * MS, 0), bad = its(0, 0), cur;
	bad.it_value.tv_nsec = 1000000000;
	int ok = expect_errno(timerfd_create(CLOCK_PROCESS_CPUTIME_ID, 0), EINVAL, "CPU clock") &&
		 expect_errno(timerfd_create(100, 0), EINVAL, "clock 100") &&
		 expect_errno(timerfd_create(CLOCK_MONOTONIC, 0x42), EINVAL, "bad flags");
	if (!ok)
		return 0;
	int fd = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC | TFD_NONBLOCK);
	if (fd < 0)
		return fail("timerfd_create: %s", errno_name(errno));
	if (!(fcntl(fd, F_GETFD) & FD_CLOEXEC) || !(fcntl(fd, F_GETFL) & O_NONBLOCK))
		return fail("TFD_CLOEXEC/TFD_NONBLOCK not set");
	ok = expect_errno(timerfd_settime(fd, 0x100, &t, NULL), EINVAL, "settime bad flags") &&
	     expect_errno(timerfd_settime(fd, 0, &bad, NULL), EINVAL, "tv_nsec 1e9") &&
	     expect_errno(timerfd_settime(1000, 0, &t, NULL), EBADF, "settime on a closed fd") &&
	     expect_errno(timerfd_settime(p[0], 0, &t, NULL), EINVAL, "settime on a pipe") &&
	     expect_errno(timerfd_settime(fd, 0, (void *)16, NULL), EFAULT, "settime bad pointer") &&
	     expect_errno(timerfd_gettime(p[0], &cur), EINVAL, "gettime on a pipe") &&
	     expect_errno(timerfd_gettime(1000, &cur), EBADF, "gettime on a closed fd");
	if (!ok)
		return 0;
	bad = its(0, 0);
	bad.it_interval.tv_sec = -1;
	if (!expect_errno(timerfd_settime(fd, 0, &bad, NULL), EINVAL, "negative interval"))
		return 0;
	uint32_t small;
	uint64_t n;
	if (!expect_errno(read(fd, &small, 4), EINVAL, "4-byte read") ||
	    !expect_errno(read(fd, &n, 8), EAGAIN, "read of a disarmed timer") ||
	    !expect_errno(write(fd, &n, 8), EINVAL, "write"))
		return 0;
	if (timerfd_gettime(fd, &cur) || ts_ns(&cur.it_value) || ts_ns(&cur.it_interval))
		return fail("a disarmed timer's gettime is not 0");
	close(fd), close(p[0]), close(p[1]);
	return 1;
}

static int test_timerfd_oneshot(void)
{
	int fd = timerfd_create(CLOCK_MONOTONIC, 0);
	struct itimerspec t = its(10 * MS, 0), cur;
	uint64_t n = 0;
	if (timerfd_settime(fd, 0, &t, NULL))
		return fail("settime: %s", errno_name(errno));
	if (timerfd_gettime(fd, &cur) || ts_ns(&cur.it_value) <= 0 || ts_ns(&cur.it_value) > 10 * MS)
		return fail("armed: value %ld ns", ts_ns(&cur.it_value));
	if (read(fd, &n, 8) != 8 || n != 1)
		return fail("blocking read: %llu", (unsigned long long)n);
	if (timerfd_gettime(fd, &cur) || ts_ns(&cur.it_value) != 0)
		return fail("an expired one-shot timer's value is %ld", ts_ns(&cur.it_value));
	fcntl(fd, F_SETFL, O_NONBLOCK);
	if (!expect_errno(read(fd, &n, 8), EAGAIN, "a second read"))
		return 0;
	/* Disarming with a zero value; the old value comes back. */
	t = its(10L * 1000 * MS, 0);
	timerfd_settime(fd, 0, &t, NULL);
	struct itimerspec zero = its(0, 0), old;
	if (timerfd_settime(fd, 0, &zero, &old))
		return fail("disarm: %s", errno_name(errno));
	if (ts_ns(&old.it_value) <= 9L * 1000 * MS || ts_ns(&old.it_value) > 10L * 1000 * MS)
		return fail("old value %ld ns, want about 10 s", ts_ns(&old.it_value));
	close(fd);
	return 1;
}

static int test_timerfd_periodic(void)
{
	int fd = timerfd_create(CLOCK_BOOTTIME, TFD_NONBLOCK);
	struct itimerspec t = its(10 * MS, 10 * MS), cur;
	uint64_t n = 0;
	if (timerfd_settime(fd, 0, &t, NULL))
		return fail("settime: %s", errno_name(errno));
	sleep_ns(100 * MS);
	if (read(fd, &n, 8) != 8 || n < 5)
		return fail("after 100 ms of a 10 ms timer: %llu expirations", (unsigned long long)n);
	if (timerfd_gettime(fd, &cur) || ts_ns(&cur.it_interval) != 10 * MS || ts_ns(&cur.it_value) <= 0 ||
	    ts_ns(&cur.it_value) > 10 * MS)
		return fail("gettime: interval %ld value %ld", ts_ns(&cur.it_interval), ts_ns(&cur.it_value));
	close(fd);
	return 1;
}

static int test_timerfd_absolute(void)
{
	int fd = timerfd_create(CLOCK_MONOTONIC, 0);
	struct timespec now;
	uint64_t n = 0;
	clock_gettime(CLOCK_MONOTONIC, &now);
	struct itimerspec t = its(ts_ns(&now) + 20 * MS, 0);
	if (timerfd_settime(fd, TFD_TIMER_ABSTIME, &t, NULL))
		return fail("settime: %s", errno_name(errno));
	if (read(fd, &n, 8) != 8 || n != 1)
		return fail("absolute: %llu", (unsigned long long)n);
	/* In the past, periodic: every period since counts. */
	t = its(ts_ns(&now) - 1000 * MS, 100 * MS);
	if (t.it_value.tv_sec <= 0)
		t.it_value.tv_sec = 0, t.it_value.tv_nsec = 1;
	if (timerfd_settime(fd, TFD_TIMER_ABSTIME, &t, NULL))
		return fail("settime in the past: %s", errno_name(errno));
	if (read(fd, &n, 8) != 8 || n < 2)
		return fail("a periodic timer 1 s in the past: %llu", (unsigned long long)n);
	/* CLOCK_REALTIME with TFD_TIMER_CANCEL_ON_SET is accepted and armed. */
	int rt = timerfd_create(CLOCK_REALTIME, TFD_NONBLOCK);
	struct itimerspec cur;
	clock_gettime(CLOCK_REALTIME, &now);
	t = its(ts_ns(&now) + 10L * 1000 * MS, 0);
	if (timerfd_settime(rt, TFD_TIMER_ABSTIME | TFD_TIMER_CANCEL_ON_SET, &t, NULL) ||
	    timerfd_gettime(rt, &cur) || ts_ns(&cur.it_value) <= 9L * 1000 * MS)
		return fail("CANCEL_ON_SET: %s, value %ld", errno_name(errno), ts_ns(&cur.it_value));
	if (!expect_errno(read(rt, &n, 8), EAGAIN, "read before expiry"))
		return 0;
	close(rt), close(fd);
	return 1;
}

static int test_timerfd_epoll(void)
{
	int fd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK), ep = epoll_create1(0);
	struct epoll_event ev = { .events = EPOLLIN, .data.u64 = 77 };
	if (epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev))
		return fail("epoll_ctl: %s", errno_name(errno));
	if (epoll_wait(ep, &ev, 1, 0) != 0)
		return fail("a disarmed timerfd is ready");
	struct itimerspec t = its(10 * MS, 0);
	timerfd_settime(fd, 0, &t, NULL);
	memset(&ev, 0, sizeof(ev));
	if (epoll_wait(ep, &ev, 1, -1) != 1 || ev.events != EPOLLIN || ev.data.u64 != 77)
		return fail("epoll_wait: events %#x", ev.events);
	uint64_t n;
	if (read(fd, &n, 8) != 8 || n != 1)
		return fail("read");
	if (epoll_wait(ep, &ev, 1, 0) != 0)
		return fail("ready after the read");
	struct pollfd pfd = { .fd = fd, .events = POLLIN };
	timerfd_settime(fd, 0, &t, NULL);
	if (poll(&pfd, 1, -1) != 1 || pfd.revents != POLLIN)
		return fail("poll: revents %#x", pfd.revents);
	close(fd), close(ep);
	return 1;
}

static int test_signalfd_errors(void)
{
	sigset_t set;
	int p[2];
	sigemptyset(&set);
	sigaddset(&set, SIGUSR1);
	if (pipe(p))
		return fail("pipe");
	/* (A sizemask other than 8 is EINVAL on Linux, but qemu-aarch64 does not check it.) */
	int ok = expect_errno(syscall(SYS_signalfd4, -1, &set, 8, 0x42), EINVAL, "bad flags") &&
		 expect_errno(syscall(SYS_signalfd4, -1, (void *)16, 8, 0), EFAULT, "bad mask pointer") &&
		 expect_errno(syscall(SYS_signalfd4, p[0], &set, 8, 0), EINVAL, "a pipe") &&
		 expect_errno(syscall(SYS_signalfd4, 1000, &set, 8, 0), EBADF, "a closed fd");
	close(p[0]), close(p[1]);
	return ok;
}

static int test_signalfd_read(void)
{
	sigset_t set;
	sigemptyset(&set);
	sigaddset(&set, SIGUSR1);
	sigaddset(&set, SIGUSR2);
	sigprocmask(SIG_BLOCK, &set, NULL);
	int fd = signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC);
	if (fd < 0)
		return fail("signalfd: %s", errno_name(errno));
	if (!(fcntl(fd, F_GETFD) & FD_CLOEXEC))
		return fail("SFD_CLOEXEC not set");
	struct signalfd_siginfo si[2];
	if (!expect_errno(read(fd, si, sizeof(si)), EAGAIN, "read with nothing pending") ||
	    !expect_errno(read(fd, si, 64), EINVAL, "64-byte read"))
		return 0;
	struct pollfd pfd = { .fd = fd, .events = POLLIN };
	if (poll(&pfd, 1, 0) != 0)
		return fail("readable with nothing pending");
	kill(getpid(), SIGUSR2);
	kill(getpid(), SIGUSR1);
	if (poll(&pfd, 1, 0) != 1 || pfd.revents != POLLIN)
		return fail("not readable with signals pending");
	memset(si, 0, sizeof(si));
	ssize_t got = read(fd, si, sizeof(si));
	if (got != 2 * (ssize_t)sizeof(si[0]))
		return fail("read %zd bytes, want two signalfd_siginfo", got);
	if (si[0].ssi_signo != SIGUSR1 || si[1].ssi_signo != SIGUSR2)
		return fail("signals %u, %u, want SIGUSR1, SIGUSR2", si[0].ssi_signo, si[1].ssi_signo);
	if (si[0].ssi_code != SI_USER || si[0].ssi_pid != (uint32_t)getpid() || si[0].ssi_uid != getuid())
		return fail("code %d pid %u uid %u", si[0].ssi_code, si[0].ssi_pid, si[0].ssi_uid);
	sigset_t pending;
	sigpending(&pending);
	if (sigismember(&pending, SIGUSR1) || sigismember(&pending, SIGUSR2))
		return fail("the signals read are still pending");
	/* A new mask: SIGUSR2 only. */
	sigset_t two;
	sigemptyset(&two);
	sigaddset(&two, SIGUSR2);
	if (signalfd(fd, &two, 0) != fd)
		return fail("signalfd(fd, new mask): %s", errno_name(errno));
	kill(getpid(), SIGUSR1);
	if (!expect_errno(read(fd, si, sizeof(si)), EAGAIN, "SIGUSR1 after the mask dropped it"))
		return 0;
	struct timespec zero = { 0, 0 };
	sigset_t one;
	sigemptyset(&one);
	sigaddset(&one, SIGUSR1);
	if (sigtimedwait(&one, NULL, &zero) != SIGUSR1)
		return fail("SIGUSR1 was not left pending");
	close(fd);
	sigprocmask(SIG_UNBLOCK, &set, NULL);
	return 1;
}

static int test_signalfd_blocking(void)
{
	sigset_t set;
	sigemptyset(&set);
	sigaddset(&set, SIGUSR1);
	sigprocmask(SIG_BLOCK, &set, NULL);
	int fd = signalfd(-1, &set, 0), ep = epoll_create1(0);
	struct epoll_event ev = { .events = EPOLLIN };
	epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev);
	pid_t parent = getpid(), pid = fork();
	if (pid == 0)
		_exit(kill(parent, SIGUSR1) == 0 ? 0 : 1);
	if (epoll_wait(ep, &ev, 1, -1) != 1 || ev.events != EPOLLIN)
		return fail("epoll_wait on the signalfd: events %#x", ev.events);
	struct signalfd_siginfo si;
	if (read(fd, &si, sizeof(si)) != sizeof(si) || si.ssi_signo != SIGUSR1 || si.ssi_pid != (uint32_t)pid)
		return fail("read: signo %u pid %u, want %d", si.ssi_signo, si.ssi_pid, (int)pid);
	waitpid(pid, NULL, 0);
	/* Blocking: woken by the child's kill. */
	pid = fork();
	if (pid == 0) {
		sleep_ns(20 * MS);
		_exit(kill(parent, SIGUSR1) == 0 ? 0 : 1);
	}
	if (read(fd, &si, sizeof(si)) != sizeof(si) || si.ssi_signo != SIGUSR1)
		return fail("blocking read: %s", errno_name(errno));
	waitpid(pid, NULL, 0);
	close(fd), close(ep);
	sigprocmask(SIG_UNBLOCK, &set, NULL);
	return 1;
}

static long raw_timer_create(clockid_t clock, struct sigevent *sev, int *id)
{
	return syscall(SYS_timer_create, clock, sev, id);
}

static int test_timer_errors(void)
{
	struct sigevent sev = { .sigev_notify = SIGEV_SIGNAL, .sigev_signo = SIGUSR1 };
	struct itimerspec t = its(10 * MS, 0), cur;
	int id;
	int ok = expect_errno(raw_timer_create(100, &sev, &id), EINVAL, "clock 100") &&
		 expect_errno(raw_timer_create(CLOCK_MONOTONIC, (void *)16, &id), EFAULT, "bad sigevent");
	if (!ok)
		return 0;
	sev.sigev_notify = 99;
	if (!expect_errno(raw_timer_create(CLOCK_MONOTONIC, &sev, &id), EINVAL, "sigev_notify 99"))
		return 0;
	sev.sigev_notify = SIGEV_SIGNAL;
	sev.sigev_signo = 0;
	if (!expect_errno(raw_timer_create(CLOCK_MONOTONIC, &sev, &id), EINVAL, "signal 0"))
		return 0;
	sev.sigev_signo = 65;
	if (!expect_errno(raw_timer_create(CLOCK_MONOTONIC, &sev, &id), EINVAL, "signal 65"))
		return 0;
	sev.sigev_signo = SIGUSR1;
	sev.sigev_notify = SIGEV_THREAD_ID;
	sev._sigev_un._tid = 0x7ffffff0;
	if (!expect_errno(raw_timer_create(CLOCK_MONOTONIC, &sev, &id), EINVAL, "SIGEV_THREAD_ID of no thread"))
		return 0;
	sev.sigev_notify = SIGEV_NONE;
	if (raw_timer_create(CLOCK_MONOTONIC, &sev, &id))
		return fail("timer_create: %s", errno_name(errno));
	struct itimerspec bad = its(0, 0);
	bad.it_value.tv_nsec = -1;
	ok = expect_errno(syscall(SYS_timer_settime, id + 1000, 0, &t, NULL), EINVAL, "settime of no timer") &&
	     expect_errno(syscall(SYS_timer_settime, id, 0, &bad, NULL), EINVAL, "tv_nsec -1") &&
	     expect_errno(syscall(SYS_timer_settime, id, 0, (void *)16, NULL), EFAULT, "settime bad pointer") &&
	     expect_errno(syscall(SYS_timer_gettime, id + 1000, &cur), EINVAL, "gettime of no timer") &&
	     expect_errno(syscall(SYS_timer_getoverrun, id + 1000), EINVAL, "getoverrun of no timer");
	if (!ok)
		return 0;
	if (syscall(SYS_timer_delete, id))
		return fail("timer_delete: %s", errno_name(errno));
	return expect_errno(syscall(SYS_timer_delete, id), EINVAL, "delete twice");
}

static int test_timer_signal(void)
{
	sigset_t set;
	sigemptyset(&set);
	sigaddset(&set, SIGUSR1);
	sigprocmask(SIG_BLOCK, &set, NULL);
	struct sigevent sev = { .sigev_notify = SIGEV_SIGNAL, .sigev_signo = SIGUSR1 };
	sev.sigev_value.sival_ptr = (void *)0x12345678;
	timer_t t;
	if (timer_create(CLOCK_MONOTONIC, &sev, &t))
		return fail("timer_create: %s", errno_name(errno));
	struct itimerspec v = its(10 * MS, 0);
	if (timer_settime(t, 0, &v, NULL))
		return fail("timer_settime: %s", errno_name(errno));
	siginfo_t si;
	if (sigwaitinfo(&set, &si) != SIGUSR1)
		return fail("sigwaitinfo: %s", errno_name(errno));
	if (si.si_code != SI_TIMER || si.si_value.sival_ptr != (void *)0x12345678 || si.si_overrun != 0)
		return fail("si_code %d si_value %p si_overrun %d", si.si_code, si.si_value.sival_ptr, si.si_overrun);
	struct itimerspec cur;
	if (timer_gettime(t, &cur) || ts_ns(&cur.it_value) != 0)
		return fail("an expired one-shot timer's value is %ld", ts_ns(&cur.it_value));
	timer_delete(t);
	/* The same through a signalfd. */
	int fd = signalfd(-1, &set, 0);
	if (timer_create(CLOCK_REALTIME, &sev, &t))
		return fail("timer_create: %s", errno_name(errno));
	struct timespec now;
	clock_gettime(CLOCK_REALTIME, &now);
	v = its(ts_ns(&now) + 20 * MS, 0);
	if (timer_settime(t, TIMER_ABSTIME, &v, NULL))
		return fail("absolute timer_settime: %s", errno_name(errno));
	struct signalfd_siginfo ssi;
	if (read(fd, &ssi, sizeof(ssi)) != sizeof(ssi))
		return fail("read: %s", errno_name(errno));
	if (ssi.ssi_signo != SIGUSR1 || ssi.ssi_code != SI_TIMER || ssi.ssi_ptr != 0x12345678 ||
	    ssi.ssi_int != 0x12345678 || ssi.ssi_overrun != 0)
		return fail("ssi: signo %u code %d ptr %#llx int %#x overrun %u", ssi.ssi_signo, ssi.ssi_code,
			    (unsigned long long)ssi.ssi_ptr, ssi.ssi_int, ssi.ssi_overrun);
	timer_delete(t);
	close(fd);
	sigprocmask(SIG_UNBLOCK, &set, NULL);
	return 1;
}

static int test_timer_overrun(void)
{
	sigset_t set;
	sigemptyset(&set);
	sigaddset(&set, SIGUSR2);
	sigprocmask(SIG_BLOCK, &set, NULL);
	struct sigevent sev = { .sigev_notify = SIGEV_SIGNAL, .sigev_signo = SIGUSR2 };
	timer_t t;
	if (timer_create(CLOCK_MONOTONIC, &sev, &t))
		return fail("timer_create: %s", errno_name(errno));
	struct itimerspec v = its(5 * MS, 5 * MS);
	timer_settime(t, 0, &v, NULL);
	if (timer_getoverrun(t) != 0)
		return fail("overrun before any signal: %d", timer_getoverrun(t));
	sleep_ns(100 * MS);
	siginfo_t si;
	if (sigwaitinfo(&set, &si) != SIGUSR2)
		return fail("sigwaitinfo: %s", errno_name(errno));
	int over = timer_getoverrun(t);
	if (si.si_code != SI_TIMER || si.si_overrun < 1 || over != si.si_overrun)
		return fail("si_code %d si_overrun %d timer_getoverrun %d", si.si_code, si.si_overrun, over);
	struct itimerspec old, zero = its(0, 0);
	if (timer_settime(t, 0, &zero, &old) || ts_ns(&old.it_interval) != 5 * MS)
		return fail("old interval %ld", ts_ns(&old.it_interval));
	timer_delete(t);
	struct timespec z = { 0, 0 };
	sigtimedwait(&set, NULL, &z);
	sigprocmask(SIG_UNBLOCK, &set, NULL);
	return 1;
}

static int test_timer_none(void)
{
	struct sigevent sev = { .sigev_notify = SIGEV_NONE };
	timer_t t;
	if (timer_create(CLOCK_BOOTTIME, &sev, &t))
		return fail("timer_create: %s", errno_name(errno));
	struct itimerspec v = its(10L * 1000 * MS, 1000 * MS), cur;
	timer_settime(t, 0, &v, NULL);
	if (timer_gettime(t, &cur) || ts_ns(&cur.it_value) <= 9L * 1000 * MS ||
	    ts_ns(&cur.it_value) > 10L * 1000 * MS || ts_ns(&cur.it_interval) != 1000 * MS)
		return fail("gettime: value %ld interval %ld", ts_ns(&cur.it_value), ts_ns(&cur.it_interval));
	/* A SIGEV_NONE timer that expires sends nothing. */
	v = its(1 * MS, 0);
	timer_settime(t, 0, &v, NULL);
	sleep_ns(20 * MS);
	timer_delete(t);
	return 1;
}

static int test_timer_thread_id(void)
{
	sigset_t set;
	sigemptyset(&set);
	sigaddset(&set, SIGUSR1);
	sigprocmask(SIG_BLOCK, &set, NULL);
	struct sigevent sev = { .sigev_notify = SIGEV_THREAD_ID, .sigev_signo = SIGUSR1 };
	sev._sigev_un._tid = gettid();
	sev.sigev_value.sival_int = 99;
	timer_t t;
	if (timer_create(CLOCK_MONOTONIC, &sev, &t))
		return fail("timer_create: %s", errno_name(errno));
	struct itimerspec v = its(10 * MS, 0);
	timer_settime(t, 0, &v, NULL);
	siginfo_t si;
	if (sigwaitinfo(&set, &si) != SIGUSR1 || si.si_code != SI_TIMER || si.si_value.sival_int != 99)
		return fail("si_code %d value %d", si.si_code, si.si_value.sival_int);
	timer_delete(t);
	sigprocmask(SIG_UNBLOCK, &set, NULL);
	return 1;
}

static int notify_pipe[2];
static void on_timer(union sigval v)
{
	char c = (char)v.sival_int;
	if (write(notify_pipe[1], &c, 1) != 1)
		abort();
}

static int test_timer_sigev_thread(void)
{
	if (pipe(notify_pipe))
		return fail("pipe");
	struct sigevent sev = { .sigev_notify = SIGEV_THREAD, .sigev_notify_function = on_timer };
	sev.sigev_value.sival_int = 'k';
	timer_t t;
	if (timer_create(CLOCK_MONOTONIC, &sev, &t))
		return fail("timer_create: %s", errno_name(errno));
	struct itimerspec v = its(10 * MS, 0);
	timer_settime(t, 0, &v, NULL);
	char c = 0;
	if (read(notify_pipe[0], &c, 1) != 1 || c != 'k')
		return fail("the notify function did not run (%d)", c);
	timer_delete(t);
	close(notify_pipe[0]), close(notify_pipe[1]);
	return 1;
}

static const struct test tests[] = {
	{ "timerfd: create/settime/gettime/read/write errnos, a disarmed timer", test_timerfd_errors },
	{ "timerfd: one-shot read blocks until 1 expiry; disarm returns the old value", test_timerfd_oneshot },
	{ "timerfd: a periodic timer counts its expirations (>= 5 in 100 ms of 10 ms)", test_timerfd_periodic },
	{ "timerfd: TFD_TIMER_ABSTIME, in the past, CLOCK_REALTIME with CANCEL_ON_SET", test_timerfd_absolute },
	{ "timerfd: readiness through epoll and poll", test_timerfd_epoll },
	{ "signalfd4: EINVAL, EFAULT, EBADF", test_signalfd_errors },
	{ "signalfd: reads pending signals lowest first, a new mask, poll", test_signalfd_read },
	{ "signalfd: woken by another process's kill (epoll and a blocking read)", test_signalfd_blocking },
	{ "timer_create/settime/gettime/getoverrun/delete errnos", test_timer_errors },
	{ "SIGEV_SIGNAL: SI_TIMER with si_value; absolute CLOCK_REALTIME through a signalfd", test_timer_signal },
	{ "overruns counted while the signal is blocked; timer_getoverrun agrees", test_timer_overrun },
	{ "SIGEV_NONE: gettime counts down, nothing is sent", test_timer_none },
	{ "SIGEV_THREAD_ID to the calling thread", test_timer_thread_id },
	{ "glibc's SIGEV_THREAD runs the notify function", test_timer_sigev_thread },
};

int main(void)
{
	return run_tests(tests, TEST_COUNT(tests));
}
