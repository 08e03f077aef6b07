/*
 * clockset.c - timers on the wall clock when the wall clock is set (run as root, on a
 * machine of its own: it moves CLOCK_REALTIME forward and back). xtask runs it on Debian's
 * arm64 Linux and on Cradle, both in the same QEMU, and compares the output.
 *
 * A CLOCK_REALTIME timerfd set with TFD_TIMER_ABSTIME | TFD_TIMER_CANCEL_ON_SET is cancelled
 * by clock_settime: it polls readable, a read fails with ECANCELED once, then EAGAIN, and
 * the timer itself still runs on the new clock. Absolute CLOCK_REALTIME timers (timerfd and
 * POSIX timers) follow the clock; relative and CLOCK_MONOTONIC ones do not.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <sys/timerfd.h>
#include <time.h>
#include <unistd.h>

#include "tap.h"

#define SEC 1000000000L

static long ts_ns(const struct timespec *t)
{
	return t->tv_sec * SEC + t->tv_nsec;
}

static struct itimerspec at(long ns)
{
	struct itimerspec t = { .it_value = { ns / SEC, ns % SEC } };
	return t;
}

static int cancel_fd, abs_fd, mono_fd;
static timer_t abs_timer;

/* The time left on a timerfd, in whole seconds (rounded down). */
static long left_s(int fd)
{
	struct itimerspec cur;
	if (timerfd_gettime(fd, &cur))
		return -1;
	return cur.it_value.tv_sec;
}

static int shift_clock(long by_ns)
{
	struct timespec now;
	clock_gettime(CLOCK_REALTIME, &now);
	long t = ts_ns(&now) + by_ns;
	struct timespec to = { t / SEC, t % SEC };
	return clock_settime(CLOCK_REALTIME, &to);
}

static int test_setup(void)
{
	struct timespec now;
	clock_gettime(CLOCK_REALTIME, &now);
	cancel_fd = timerfd_create(CLOCK_REALTIME, TFD_NONBLOCK);
	abs_fd = timerfd_create(CLOCK_REALTIME, TFD_NONBLOCK);
	mono_fd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK);
	struct itimerspec in100 = at(ts_ns(&now) + 100 * SEC), rel = at(100 * SEC);
	if (timerfd_settime(cancel_fd, TFD_TIMER_ABSTIME | TFD_TIMER_CANCEL_ON_SET, &in100, NULL) ||
	    timerfd_settime(abs_fd, TFD_TIMER_ABSTIME, &in100, NULL) ||
	    timerfd_settime(mono_fd, 0, &rel, NULL))
		return fail("timerfd_settime: %s", errno_name(errno));
	struct sigevent sev = { .sigev_notify = SIGEV_NONE };
	if (timer_create(CLOCK_REALTIME, &sev, &abs_timer) || timer_settime(abs_timer, TIMER_ABSTIME, &in100, NULL))
		return fail("timer_create/settime: %s", errno_name(errno));
	uint64_t n;
	if (read(cancel_fd, &n, 8) != -1 || errno != EAGAIN)
		return fail("read before the clock moved: %s", errno_name(errno));
	return 1;
}

static int test_cancel_on_set(void)
{
	if (shift_clock(10 * SEC))
		return fail("clock_settime: %s", errno_name(errno));
	struct pollfd pfd = { .fd = cancel_fd, .events = POLLIN };
	if (poll(&pfd, 1, 0) != 1 || pfd.revents != POLLIN)
		return fail("not readable after the clock moved (%#x)", pfd.revents);
	uint64_t n;
	if (read(cancel_fd, &n, 8) != -1 || errno != ECANCELED)
		return fail("first read: %s, want ECANCELED", errno == ECANCELED ? "ECANCELED" : errno_name(errno));
	if (read(cancel_fd, &n, 8) != -1 || errno != EAGAIN)
		return fail("second read: %s, want EAGAIN", errno_name(errno));
	long left = left_s(cancel_fd);
	if (left < 85 || left > 90)
		return fail("the cancelled timer has %ld s left, want about 90", left);
	return 1;
}

static int test_follow(void)
{
	long a = left_s(abs_fd), m = left_s(mono_fd);
	struct itimerspec cur;
	timer_gettime(abs_timer, &cur);
	long p = cur.it_value.tv_sec;
	if (a < 85 || a > 90 || p < 85 || p > 90 || m < 95 || m > 100)
		return fail("left: absolute timerfd %ld s, POSIX timer %ld s, monotonic %ld s", a, p, m);
	/* And back. */
	if (shift_clock(-10 * SEC))
		return fail("clock_settime back: %s", errno_name(errno));
	a = left_s(abs_fd);
	if (a < 95 || a > 100)
		return fail("after the clock went back the absolute timer has %ld s left", a);
	return 1;
}

static const struct test tests[] = {
	{ "timerfds and a POSIX timer on CLOCK_REALTIME and CLOCK_MONOTONIC armed", test_setup },
	{ "TFD_TIMER_CANCEL_ON_SET: readable, ECANCELED once, then EAGAIN; still armed", test_cancel_on_set },
	{ "absolute CLOCK_REALTIME timers follow the clock, monotonic ones do not", test_follow },
};

int main(void)
{
	return run_tests(tests, TEST_COUNT(tests));
}
