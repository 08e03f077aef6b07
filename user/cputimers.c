/*
 * cputimers.c - POSIX timers and clock_nanosleep on the CPU-time clocks (Linux's
 * kernel/time/posix-cpu-timers.c), 10 checks. A timer on CLOCK_PROCESS_CPUTIME_ID fires
 * once the process has spent its time and not before (the handler reads the clock); a
 * periodic one counts overruns while its signal is blocked; a timer on one thread's clock
 * (pthread_getcpuclockid, SIGEV_THREAD_ID) does not move while another thread spins; a
 * SIGEV_NONE timer counts down only while the process runs; an absolute time is on the CPU
 * clock, one already passed fires at once; clock_nanosleep on the process clock ends when
 * a second, spinning thread has spent the time, and a handled signal ends it with EINTR
 * and the CPU time left in rem; a timer on a child's clock
 * (clock_getcpuclockid) follows the child and is ESRCH once it is reaped; the errnos.
 * Bounds are one-sided CPU-time bounds only: nothing depends on how loaded the host is.
 */
#define _GNU_SOURCE
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "tap.h"

#define MS 1000000ULL
/* The most CPU time a test spins waiting for a timer before it gives up. */
#define SPIN_LIMIT (5000 * MS)

static uint64_t clock_ns(clockid_t clock)
{
	struct timespec ts;

	if (clock_gettime(clock, &ts) != 0)
		return 0;
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

static struct timespec ns_ts(uint64_t ns)
{
	struct timespec ts = { .tv_sec = ns / 1000000000ULL, .tv_nsec = ns % 1000000000ULL };

	return ts;
}

/* Spin on `clock` until `flag` is set or `limit` ns of it have passed. */
static void spin_until(volatile sig_atomic_t *flag, clockid_t clock, uint64_t limit)
{
	uint64_t start = clock_ns(clock);

	while (!(flag && *flag) && clock_ns(clock) - start < limit)
		;
}

static int set_timer(timer_t t, int flags, uint64_t value, uint64_t interval)
{
	struct itimerspec its = { .it_value = ns_ts(value), .it_interval = ns_ts(interval) };

	return timer_settime(t, flags, &its, NULL);
}

static uint64_t timer_left(timer_t t)
{
	struct itimerspec its;

	if (timer_gettime(t, &its) != 0)
		return UINT64_MAX;
	return (uint64_t)its.it_value.tv_sec * 1000000000ULL + (uint64_t)its.it_value.tv_nsec;
}

static volatile sig_atomic_t fired;
static volatile int fired_code, fired_value;
static volatile uint64_t fired_clock;
static clockid_t handler_clock = CLOCK_PROCESS_CPUTIME_ID;

static void handler(int sig, siginfo_t *si, void *uc)
{
	(void)sig;
	(void)uc;
	fired_clock = clock_ns(handler_clock);
	fired_code = si->si_code;
	fired_value = si->si_value.sival_int;
	fired++;
}

static void install(int sig)
{
	struct sigaction sa = { .sa_sigaction = handler, .sa_flags = SA_SIGINFO };

	sigemptyset(&sa.sa_mask);
	sigaction(sig, &sa, NULL);
}

static void reset(clockid_t clock)
{
	fired = 0;
	fired_code = fired_value = 0;
	fired_clock = 0;
	handler_clock = clock;
}

static int make_timer(clockid_t clock, int notify, int sig, int value, pid_t tid, timer_t *t)
{
	struct sigevent sev = { .sigev_notify = notify, .sigev_signo = sig };

	sev.sigev_value.sival_int = value;
	if (notify == SIGEV_THREAD_ID)
		sev._sigev_un._tid = tid;
	return timer_create(clock, &sev, t);
}

/* 1: a process CPU timer fires once the process has spent its time, not before. */
static int test_process_timer(void)
{
	timer_t t;

	install(SIGUSR1);
	reset(CLOCK_PROCESS_CPUTIME_ID);
	if (make_timer(CLOCK_PROCESS_CPUTIME_ID, SIGEV_SIGNAL, SIGUSR1, 42, 0, &t) != 0)
		return fail("timer_create: %s", errno_name(errno));
	uint64_t start = clock_ns(CLOCK_PROCESS_CPUTIME_ID);
	if (set_timer(t, 0, 100 * MS, 0) != 0)
		return fail("timer_settime: %s", errno_name(errno));
	uint64_t left = timer_left(t);
	if (left == 0 || left > 100 * MS)
		return fail("timer_gettime just after arming: %llu ns of 100 ms", (unsigned long long)left);
	spin_until(&fired, CLOCK_PROCESS_CPUTIME_ID, SPIN_LIMIT);
	if (fired != 1)
		return fail("fired %d times", (int)fired);
	if (fired_clock < start + 100 * MS)
		return fail("fired with only %llu ns of 100 ms spent",
			    (unsigned long long)(fired_clock - start));
	if (fired_code != SI_TIMER || fired_value != 42)
		return fail("si_code %d, si_value %d", fired_code, fired_value);
	if (timer_left(t) != 0)
		return fail("a one-shot timer still armed after firing");
	timer_delete(t);
	return 1;
}

/*
 * 2: a periodic CPU timer whose signal is blocked counts overruns: taken with sigtimedwait
 * (still blocked, so no second one can come), its si_overrun is timer_getoverrun's.
 */
static int test_periodic_overrun(void)
{
	timer_t t;
	sigset_t set;
	siginfo_t si;
	struct timespec zero = { 0, 0 };

	if (make_timer(CLOCK_PROCESS_CPUTIME_ID, SIGEV_SIGNAL, SIGUSR1, 7, 0, &t) != 0)
		return fail("timer_create: %s", errno_name(errno));
	sigemptyset(&set);
	sigaddset(&set, SIGUSR1);
	sigprocmask(SIG_BLOCK, &set, NULL);
	if (set_timer(t, 0, 10 * MS, 10 * MS) != 0)
		return fail("timer_settime: %s", errno_name(errno));
	spin_until(NULL, CLOCK_PROCESS_CPUTIME_ID, 150 * MS);
	struct itimerspec its;
	timer_gettime(t, &its);
	int got = sigtimedwait(&set, &si, &zero);
	int later = timer_getoverrun(t);
	set_timer(t, 0, 0, 0);
	timer_delete(t);
	while (sigtimedwait(&set, NULL, &zero) == SIGUSR1)
		;
	sigprocmask(SIG_UNBLOCK, &set, NULL);
	if (got != SIGUSR1 || si.si_code != SI_TIMER || si.si_value.sival_int != 7)
		return fail("sigtimedwait: %d (%s)", got, errno_name(errno));
	if (its.it_interval.tv_nsec != (long)(10 * MS))
		return fail("interval %ld ns", its.it_interval.tv_nsec);
	if (si.si_overrun < 3)
		return fail("si_overrun %d after 150 ms of a 10 ms timer", si.si_overrun);
	if (later != si.si_overrun)
		return fail("timer_getoverrun %d, si_overrun %d", later, si.si_overrun);
	return 1;
}

static int pipefd[2];
static volatile sig_atomic_t thread_fired;
static volatile uint64_t thread_fired_clock;

static void thread_handler(int sig)
{
	(void)sig;
	thread_fired_clock = clock_ns(CLOCK_THREAD_CPUTIME_ID);
	thread_fired = 1;
}

static void *waiting_spinner(void *arg)
{
	char c;
	(void)arg;
	if (read(pipefd[0], &c, 1) != 1)
		return NULL;
	spin_until(&thread_fired, CLOCK_THREAD_CPUTIME_ID, SPIN_LIMIT);
	return NULL;
}

/*
 * 3: a timer on a thread's clock (pthread_getcpuclockid), SIGEV_THREAD_ID to it, does not
 * move while another thread spins, and fires in that thread once it has spun its time.
 */
static int test_thread_timer(void)
{
	pthread_t th;
	clockid_t clock;
	timer_t t;

	signal(SIGUSR2, thread_handler);
	thread_fired = 0;
	if (pipe(pipefd) != 0 || pthread_create(&th, NULL, waiting_spinner, NULL) != 0)
		return fail("pipe or pthread_create");
	if (pthread_getcpuclockid(th, &clock) != 0)
		return fail("pthread_getcpuclockid");
	/* pthread's clock ID encodes the TID: ~tid << 3 | CPUCLOCK_PERTHREAD | SCHED. */
	pid_t tid = ~(clock >> 3);
	int ok = 1;
	if (make_timer(clock, SIGEV_THREAD_ID, SIGUSR2, 0, tid, &t) != 0) {
		ok = fail("timer_create: %s", errno_name(errno));
	} else {
		uint64_t start = clock_ns(clock);
		set_timer(t, 0, 30 * MS, 0);
		spin_until(NULL, CLOCK_THREAD_CPUTIME_ID, 100 * MS);
		uint64_t left = timer_left(t);
		if (thread_fired)
			ok = fail("fired while another thread spun");
		else if (left < 20 * MS)
			ok = fail("%llu ns left of 30 ms while another thread spun",
				  (unsigned long long)left);
		if (write(pipefd[1], "x", 1) != 1)
			ok = fail("write");
		pthread_join(th, NULL);
		if (ok && !thread_fired)
			ok = fail("never fired");
		else if (ok && thread_fired_clock < start + 30 * MS)
			ok = fail("fired when the thread had spent %llu ns of 30 ms",
				  (unsigned long long)(thread_fired_clock - start));
		timer_delete(t);
	}
	close(pipefd[0]);
	close(pipefd[1]);
	return ok;
}

/* 4: SIGEV_NONE: the time left moves only while the process runs; expiry disarms it. */
static int test_sigev_none(void)
{
	timer_t t;
	struct timespec nap = { 0, 200 * MS };

	if (make_timer(CLOCK_PROCESS_CPUTIME_ID, SIGEV_NONE, 0, 0, 0, &t) != 0)
		return fail("timer_create: %s", errno_name(errno));
	set_timer(t, 0, 100 * MS, 0);
	nanosleep(&nap, NULL);
	uint64_t slept = timer_left(t);
	spin_until(NULL, CLOCK_PROCESS_CPUTIME_ID, 40 * MS);
	uint64_t spun = timer_left(t);
	uint64_t start = clock_ns(CLOCK_PROCESS_CPUTIME_ID);
	/* Expired: 0, or 1 ns ("about to expire") where the tick has not disarmed it. */
	while (timer_left(t) > 1 && clock_ns(CLOCK_PROCESS_CPUTIME_ID) - start < SPIN_LIMIT)
		;
	uint64_t end = timer_left(t);
	timer_delete(t);
	if (slept < 80 * MS)
		return fail("%llu ns left of 100 ms after 200 ms asleep", (unsigned long long)slept);
	if (spun > 70 * MS || spun == 0)
		return fail("%llu ns left of 100 ms after 40 ms spinning", (unsigned long long)spun);
	if (end > 1)
		return fail("never expired");
	return 1;
}

/* 5: TIMER_ABSTIME is a time on the CPU clock; one already passed fires at once. */
static int test_absolute(void)
{
	timer_t t;
	struct timespec nap = { 0, 50 * MS };

	install(SIGUSR1);
	reset(CLOCK_PROCESS_CPUTIME_ID);
	if (make_timer(CLOCK_PROCESS_CPUTIME_ID, SIGEV_SIGNAL, SIGUSR1, 5, 0, &t) != 0)
		return fail("timer_create: %s", errno_name(errno));
	uint64_t at = clock_ns(CLOCK_PROCESS_CPUTIME_ID) + 50 * MS;
	set_timer(t, TIMER_ABSTIME, at, 0);
	uint64_t left = timer_left(t);
	if (left == 0 || left > 50 * MS)
		return fail("%llu ns left of an absolute 50 ms", (unsigned long long)left);
	spin_until(&fired, CLOCK_PROCESS_CPUTIME_ID, SPIN_LIMIT);
	if (fired != 1 || fired_clock < at)
		return fail("fired %d times, %lld ns from its time", (int)fired,
			    (long long)(fired_clock - at));
	reset(CLOCK_PROCESS_CPUTIME_ID);
	set_timer(t, TIMER_ABSTIME, 1, 0);
	for (int i = 0; i < 20 && !fired; i++)
		nanosleep(&nap, NULL);
	timer_delete(t);
	if (fired != 1)
		return fail("a time already passed: fired %d times", (int)fired);
	return 1;
}

static volatile sig_atomic_t stop_spinning;

static void *spinner(void *arg)
{
	(void)arg;
	spin_until(&stop_spinning, CLOCK_THREAD_CPUTIME_ID, 20 * SPIN_LIMIT);
	return NULL;
}

/* 6: clock_nanosleep on the process clock ends once a spinning thread spent the time. */
static int test_nanosleep(void)
{
	pthread_t th;

	stop_spinning = 0;
	if (pthread_create(&th, NULL, spinner, NULL) != 0)
		return fail("pthread_create");
	uint64_t start = clock_ns(CLOCK_PROCESS_CPUTIME_ID);
	struct timespec req = ns_ts(100 * MS);
	int rel = clock_nanosleep(CLOCK_PROCESS_CPUTIME_ID, 0, &req, NULL);
	uint64_t after_rel = clock_ns(CLOCK_PROCESS_CPUTIME_ID);
	uint64_t at = after_rel + 100 * MS;
	req = ns_ts(at);
	int abs = clock_nanosleep(CLOCK_PROCESS_CPUTIME_ID, TIMER_ABSTIME, &req, NULL);
	uint64_t after_abs = clock_ns(CLOCK_PROCESS_CPUTIME_ID);
	req = ns_ts(1);
	int past = clock_nanosleep(CLOCK_PROCESS_CPUTIME_ID, TIMER_ABSTIME, &req, NULL);
	stop_spinning = 1;
	pthread_join(th, NULL);
	if (rel != 0 || abs != 0 || past != 0)
		return fail("returned %s, %s, %s", errno_name(rel), errno_name(abs), errno_name(past));
	if (after_rel < start + 100 * MS)
		return fail("relative: woke after %llu ns of 100 ms",
			    (unsigned long long)(after_rel - start));
	if (after_abs < at)
		return fail("absolute: woke %llu ns early", (unsigned long long)(at - after_abs));
	return 1;
}

/* 7: a timer on a child's process clock follows the child; ESRCH once it is reaped. */
static int test_child_clock(void)
{
	clockid_t clock;
	timer_t t;
	sigset_t set;
	siginfo_t si;
	struct timespec wait = { 30, 0 };

	pid_t child = fork();
	if (child == 0) {
		spin_until(NULL, CLOCK_PROCESS_CPUTIME_ID, 20 * SPIN_LIMIT);
		_exit(0);
	}
	if (child < 0)
		return fail("fork");
	int ok = 1;
	sigemptyset(&set);
	sigaddset(&set, SIGUSR1);
	sigprocmask(SIG_BLOCK, &set, NULL);
	if (clock_getcpuclockid(child, &clock) != 0) {
		ok = fail("clock_getcpuclockid");
	} else if (make_timer(clock, SIGEV_SIGNAL, SIGUSR1, 9, 0, &t) != 0) {
		ok = fail("timer_create: %s", errno_name(errno));
	} else {
		set_timer(t, 0, 50 * MS, 0);
		int got = sigtimedwait(&set, &si, &wait);
		uint64_t child_time = clock_ns(clock);
		if (got != SIGUSR1 || si.si_code != SI_TIMER || si.si_value.sival_int != 9)
			ok = fail("sigtimedwait: %d (%s)", got, errno_name(errno));
		else if (child_time < 50 * MS)
			ok = fail("fired when the child had %llu ns of 50 ms",
				  (unsigned long long)child_time);
		kill(child, SIGKILL);
		waitpid(child, NULL, 0);
		child = 0;
		errno = 0;
		if (ok && set_timer(t, 0, 50 * MS, 0) != -1)
			ok = fail("timer_settime after the child was reaped succeeded");
		else if (ok && errno != ESRCH)
			ok = fail("timer_settime after the child was reaped: %s", errno_name(errno));
		else if (ok && timer_left(t) != 0)
			ok = fail("timer_gettime after the child was reaped: armed");
		timer_delete(t);
	}
	if (child > 0) {
		kill(child, SIGKILL);
		waitpid(child, NULL, 0);
	}
	sigprocmask(SIG_UNBLOCK, &set, NULL);
	return ok;
}

static void *sleeper(void *arg)
{
	char c;
	(void)arg;
	if (read(pipefd[0], &c, 1) != 1)
		return NULL;
	return NULL;
}

/* Linux's encodings (include/linux/posix-timers.h). */
#define PROCESS_CLOCK(pid) ((clockid_t)((~(unsigned)(pid) << 3) | 2))
#define THREAD_CLOCK(pid) ((clockid_t)((~(unsigned)(pid) << 3) | 4 | 2))

static int expect_create(clockid_t clock, int want, const char *what)
{
	timer_t t;

	errno = 0;
	int r = timer_create(clock, NULL, &t);
	if (r == 0)
		timer_delete(t);
	if ((want == 0 && r != 0) || (want != 0 && (r != -1 || errno != want)))
		return fail("timer_create on %s: %s, not %s", what, errno_name(r ? errno : 0),
			    errno_name(want));
	return 1;
}

static int expect_sleep(clockid_t clock, int want, const char *what)
{
	struct timespec req = { 0, 1 };

	/* An absolute time already passed: no sleep when it is allowed. */
	errno = 0;
	long r = syscall(SYS_clock_nanosleep, clock, TIMER_ABSTIME, &req, NULL);
	if ((want == 0 && r != 0) || (want != 0 && (r != -1 || errno != want)))
		return fail("clock_nanosleep on %s: %s, not %s", what, errno_name(r ? errno : 0),
			    errno_name(want));
	return 1;
}

/*
 * 8: the errnos (Linux's pid_for_clock and posix_cpu_nsleep): timers on the process's,
 * the thread's, another thread's and a child's clocks are allowed; a child's thread clock,
 * the process clock named by a thread's own ID, and a reaped child's clocks are EINVAL;
 * a PTP clock ID is EOPNOTSUPP. clock_nanosleep: CLOCK_THREAD_CPUTIME_ID is EOPNOTSUPP in
 * the kernel (glibc says EINVAL itself), the caller's own thread clock EINVAL, another
 * thread's allowed, a reaped child's EINVAL.
 */
static int test_errnos(void)
{
	pthread_t th;
	clockid_t other;

	if (pipe(pipefd) != 0 || pthread_create(&th, NULL, sleeper, NULL) != 0)
		return fail("pipe or pthread_create");
	pthread_getcpuclockid(th, &other);
	pid_t other_tid = ~(other >> 3);
	clockid_t self_thread;
	pthread_getcpuclockid(pthread_self(), &self_thread);
	struct timespec req = { 0, 1 };
	int ok = expect_create(CLOCK_PROCESS_CPUTIME_ID, 0, "CLOCK_PROCESS_CPUTIME_ID") &&
		 expect_create(CLOCK_THREAD_CPUTIME_ID, 0, "CLOCK_THREAD_CPUTIME_ID") &&
		 expect_create(other, 0, "another thread's clock") &&
		 expect_create(PROCESS_CLOCK(getpid()), 0, "its own process clock by PID") &&
		 expect_create(PROCESS_CLOCK(other_tid), EINVAL, "a process clock by a thread's ID") &&
		 expect_create(PROCESS_CLOCK(0) - 1, 0, "its own CPUCLOCK_VIRT") &&
		 expect_create(PROCESS_CLOCK(0) + 1, EOPNOTSUPP, "a PTP clock ID") &&
		 expect_sleep(CLOCK_THREAD_CPUTIME_ID, EOPNOTSUPP, "CLOCK_THREAD_CPUTIME_ID") &&
		 expect_sleep(self_thread, EINVAL, "its own thread clock") &&
		 expect_sleep(THREAD_CLOCK(0), EINVAL, "thread clock 0") &&
		 expect_sleep(CLOCK_PROCESS_CPUTIME_ID, 0, "CLOCK_PROCESS_CPUTIME_ID") &&
		 expect_sleep(other, 0, "another thread's clock");
	if (ok && clock_nanosleep(CLOCK_THREAD_CPUTIME_ID, 0, &req, NULL) != EINVAL)
		ok = fail("glibc's clock_nanosleep(CLOCK_THREAD_CPUTIME_ID) is not EINVAL");
	if (write(pipefd[1], "x", 1) != 1)
		ok = fail("write");
	pthread_join(th, NULL);
	close(pipefd[0]);
	close(pipefd[1]);
	if (!ok)
		return 0;
	int status;
	pid_t child = fork();
	if (child == 0) {
		pause();
		_exit(0);
	}
	if (child < 0)
		return fail("fork");
	ok = expect_create(PROCESS_CLOCK(child), 0, "a child's process clock") &&
	     expect_create(THREAD_CLOCK(child), EINVAL, "a child's thread clock");
	kill(child, SIGKILL);
	waitpid(child, &status, 0);
	return ok && expect_create(PROCESS_CLOCK(child), EINVAL, "a reaped child's clock") &&
	       expect_sleep(PROCESS_CLOCK(child), EINVAL, "a reaped child's clock");
}

/*
 * 9: a process timer counts every thread's time, a thread timer only its own thread's: the
 * main thread sleeps while another spins. The sleeping thread's timer must have moved by
 * what its own clock says it spent (a tick either way), not by the spinner's time. (Its own
 * clock is not assumed small: a vCPU the host holds up while this thread runs charges it the
 * wait, on Linux too.)
 */
static int test_process_counts_threads(void)
{
	pthread_t th;
	timer_t t;

	install(SIGUSR1);
	reset(CLOCK_PROCESS_CPUTIME_ID);
	if (make_timer(CLOCK_THREAD_CPUTIME_ID, SIGEV_NONE, 0, 0, 0, &t) != 0)
		return fail("timer_create: %s", errno_name(errno));
	timer_t pt;
	if (make_timer(CLOCK_PROCESS_CPUTIME_ID, SIGEV_SIGNAL, SIGUSR1, 3, 0, &pt) != 0)
		return fail("timer_create: %s", errno_name(errno));
	stop_spinning = 0;
	uint64_t own_start = clock_ns(CLOCK_THREAD_CPUTIME_ID);
	set_timer(t, 0, 50 * MS, 0);
	uint64_t start = clock_ns(CLOCK_PROCESS_CPUTIME_ID);
	set_timer(pt, 0, 60 * MS, 0);
	if (pthread_create(&th, NULL, spinner, NULL) != 0)
		return fail("pthread_create");
	/* This thread sleeps; the other spins: the process timer fires. */
	struct timespec nap = { 0, 20 * MS };
	for (int i = 0; i < 1500 && !fired; i++)
		nanosleep(&nap, NULL);
	stop_spinning = 1;
	pthread_join(th, NULL);
	uint64_t left = timer_left(t);
	uint64_t own = clock_ns(CLOCK_THREAD_CPUTIME_ID) - own_start;
	uint64_t process = clock_ns(CLOCK_PROCESS_CPUTIME_ID) - start;
	timer_delete(t);
	timer_delete(pt);
	if (fired != 1 || fired_clock < start + 60 * MS)
		return fail("process timer: fired %d times, at %lld ns of 60 ms", (int)fired,
			    (long long)(fired_clock - start));
	/* What the thread timer says its thread spent, against the thread's own clock. */
	uint64_t counted = 50 * MS - (left > 50 * MS ? 50 * MS : left);
	uint64_t slack = 10 * MS;
	if (left == 0 ? own + slack < 50 * MS : counted > own + slack || own > counted + slack)
		return fail("the sleeping thread's timer counted %llu ns (%llu left of 50 ms); its "
			    "thread spent %llu ns, the process %llu ns",
			    (unsigned long long)counted, (unsigned long long)left,
			    (unsigned long long)own, (unsigned long long)process);
	return 1;
}

/*
 * 10: a signal handled during clock_nanosleep on the process clock ends it with EINTR and
 * the CPU time left in rem (all of it but what the sleeper itself spent).
 */
static int test_nanosleep_eintr(void)
{
	timer_t t;
	struct timespec req = { 10, 0 }, rem = { 0, 0 };

	install(SIGUSR1);
	reset(CLOCK_PROCESS_CPUTIME_ID);
	if (make_timer(CLOCK_MONOTONIC, SIGEV_SIGNAL, SIGUSR1, 1, 0, &t) != 0)
		return fail("timer_create: %s", errno_name(errno));
	set_timer(t, 0, 50 * MS, 0);
	int r = clock_nanosleep(CLOCK_PROCESS_CPUTIME_ID, 0, &req, &rem);
	timer_delete(t);
	if (r != EINTR || fired != 1)
		return fail("returned %s with %d signals", errno_name(r), (int)fired);
	if (rem.tv_sec < 9 || rem.tv_sec > 10)
		return fail("rem %lld s of 10", (long long)rem.tv_sec);
	return 1;
}

static const struct test tests[] = {
	{ "a CLOCK_PROCESS_CPUTIME_ID timer fires once its CPU time is spent", test_process_timer },
	{ "a periodic CPU timer counts overruns while its signal is blocked", test_periodic_overrun },
	{ "a thread clock timer counts only its thread (SIGEV_THREAD_ID)", test_thread_timer },
	{ "SIGEV_NONE: timer_gettime moves only while the process runs", test_sigev_none },
	{ "TIMER_ABSTIME on the CPU clock, and a time already passed", test_absolute },
	{ "clock_nanosleep(CLOCK_PROCESS_CPUTIME_ID) with a spinning thread", test_nanosleep },
	{ "a timer on a child's clock; ESRCH once it is reaped", test_child_clock },
	{ "the errnos of CPU timers and CPU-clock sleeps", test_errnos },
	{ "a process timer counts all threads, a thread timer one", test_process_counts_threads },
	{ "clock_nanosleep on the CPU clock interrupted: EINTR, CPU time left in rem", test_nanosleep_eintr },
};

int main(void)
{
	return run_tests(tests, TEST_COUNT(tests));
}
