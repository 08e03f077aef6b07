/*
 * cputime.c - CPU time is time on a CPU: the CPU-time clocks, getrusage, times, wait4's
 * rusage, /proc/<pid>/stat's utime..cstime, /proc/stat's cpu lines, and the CPU interval
 * timers, as Linux counts them.
 *
 * Every bound is loose and one-sided where the machine's load could move it: a process
 * that spins for 0.5 s of its own CPU time has had at least 0.45 s, and never more than the
 * wall time that passed; a process asleep gains (almost) none. Nothing depends on the tick
 * rate or the number of CPUs. The user/system split is judged with reads of /dev/zero
 * (the kernel clears the buffer, so the time is the kernel's on any kernel, and also under
 * qemu-aarch64, where a cheap system call like getppid costs more in qemu than in the
 * host's kernel) against a loop with no system calls but the clock reads. It mounts proc
 * on /proc first where it is not there yet (Cradle's test initramfs).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <sys/times.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "tap.h"

/* A user address nothing is mapped at (page 0 is never mapped). */
#define BAD_POINTER ((void *)16)
/* A PID no process has (above Linux's PID_MAX_LIMIT). */
#define NO_SUCH_PID 0x7ffffff0

/* Linux's encoding of CPU clock IDs (include/linux/posix-timers.h). */
#define CPUCLOCK_PROF 0
#define CPUCLOCK_VIRT 1
#define CPUCLOCK_SCHED 2
#define MAKE_PROCESS_CPUCLOCK(pid, clock) ((int)((~(unsigned)(pid) << 3) | (clock)))
#define MAKE_THREAD_CPUCLOCK(tid, clock) MAKE_PROCESS_CPUCLOCK(tid, (clock) | 4)

static double ts_s(const struct timespec *ts)
{
	return ts->tv_sec + ts->tv_nsec / 1e9;
}

static double tv_s(const struct timeval *tv)
{
	return tv->tv_sec + tv->tv_usec / 1e6;
}

static double clock_s(clockid_t clock)
{
	struct timespec ts;
	if (clock_gettime(clock, &ts) != 0)
		return -1;
	return ts_s(&ts);
}

/* Run in user space until `clock` has advanced by `secs`. */
static void spin_user(clockid_t clock, double secs)
{
	double end = clock_s(clock) + secs;
	volatile unsigned long x = 0;
	while (clock_s(clock) < end)
		for (int i = 0; i < 20000; i++)
			x++;
}

/* Read /dev/zero (the kernel's work) until `clock` has advanced by `secs`. */
static void spin_kernel(clockid_t clock, double secs)
{
	static char buf[256 * 1024];
	int fd = open("/dev/zero", O_RDONLY);
	double end = clock_s(clock) + secs;
	while (clock_s(clock) < end)
		if (read(fd, buf, sizeof(buf)) < 0)
			break;
	close(fd);
}

static void usage_s(int who, double *user, double *sys)
{
	struct rusage ru;
	getrusage(who, &ru);
	*user = tv_s(&ru.ru_utime);
	*sys = tv_s(&ru.ru_stime);
}

static int expect_errno(long ret, int want, const char *what)
{
	if (ret != -1 || errno != want)
		return fail("%s: ret %ld errno %s, want %s", what, ret,
			    ret == -1 ? errno_name(errno) : "-", errno_name(want));
	return 1;
}

/* Wait until `pid` is a zombie (its /proc/<pid>/stat says Z), at most ~20 s. */
static int wait_zombie(pid_t pid)
{
	char path[64], buf[512];
	snprintf(path, sizeof(path), "/proc/%d/stat", pid);
	for (int i = 0; i < 2000; i++) {
		int fd = open(path, O_RDONLY);
		if (fd < 0)
			return 0;
		ssize_t n = read(fd, buf, sizeof(buf) - 1);
		close(fd);
		if (n > 0) {
			buf[n] = 0;
			char *p = strrchr(buf, ')');
			if (p && p[1] == ' ' && p[2] == 'Z')
				return 1;
		}
		struct timespec ten_ms = {0, 10 * 1000 * 1000};
		nanosleep(&ten_ms, NULL);
	}
	return 0;
}

/*
 * Fields 14-17 (utime stime cutime cstime) of /proc/<pid>/stat, in clock ticks; 0 on
 * success.
 */
static int proc_stat_times(pid_t pid, long long t[4])
{
	char path[64], buf[1024];
	snprintf(path, sizeof(path), "/proc/%d/stat", pid);
	int fd = open(path, O_RDONLY);
	if (fd < 0)
		return -1;
	ssize_t n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return -1;
	buf[n] = 0;
	char *p = strrchr(buf, ')');
	if (!p)
		return -1;
	p += 2; /* field 3, the state */
	for (int field = 3; field < 14; field++) {
		p = strchr(p, ' ');
		if (!p)
			return -1;
		p++;
	}
	return sscanf(p, "%lld %lld %lld %lld", &t[0], &t[1], &t[2], &t[3]) == 4 ? 0 : -1;
}

/*
 * A child that spins for 0.5 s of its own process CPU time is worth at least 0.45 s to
 * its parent once reaped (RUSAGE_CHILDREN, times' cutime + cstime, wait4's rusage), and
 * nothing before: not while it runs, not as an unreaped zombie. Never more than the wall
 * time that passed.
 */
static int test_children(void)
{
	double start = clock_s(CLOCK_MONOTONIC);
	pid_t pid = fork();
	if (pid < 0)
		return fail("fork: %s", errno_name(errno));
	if (pid == 0) {
		spin_user(CLOCK_PROCESS_CPUTIME_ID, 0.5);
		_exit(0);
	}
	if (!wait_zombie(pid))
		return fail("the child never became a zombie");
	double u, s;
	usage_s(RUSAGE_CHILDREN, &u, &s);
	struct tms tms;
	times(&tms);
	if (u + s != 0 || tms.tms_cutime + tms.tms_cstime != 0)
		return fail("an unreaped child already counts (%.3f s, %ld ticks)", u + s,
			    (long)(tms.tms_cutime + tms.tms_cstime));
	int status;
	struct rusage ru;
	if (wait4(pid, &status, 0, &ru) != pid || !WIFEXITED(status))
		return fail("wait4 failed");
	double wall = clock_s(CLOCK_MONOTONIC) - start;
	double waited = tv_s(&ru.ru_utime) + tv_s(&ru.ru_stime);
	usage_s(RUSAGE_CHILDREN, &u, &s);
	times(&tms);
	double ticks = (double)(tms.tms_cutime + tms.tms_cstime) / sysconf(_SC_CLK_TCK);
	if (u + s < 0.45 || u + s > wall + 0.01)
		return fail("RUSAGE_CHILDREN %.3f s for 0.5 s spun in %.3f s", u + s, wall);
	if (ticks < 0.45 || ticks > wall + 0.02)
		return fail("times cutime+cstime %.2f s for 0.5 s spun in %.3f s", ticks, wall);
	if (waited < 0.45 || waited > wall + 0.01)
		return fail("wait4's rusage %.3f s for 0.5 s spun in %.3f s", waited, wall);
	if (u < s)
		return fail("a spinning child was mostly system time (%.3f user, %.3f system)", u, s);
	return 1;
}

/* Sleeping costs no CPU time: 0.5 s asleep gains less than 0.1 s by every measure. */
static int test_sleep(void)
{
	double p0 = clock_s(CLOCK_PROCESS_CPUTIME_ID), t0 = clock_s(CLOCK_THREAD_CPUTIME_ID);
	double u0, s0;
	usage_s(RUSAGE_SELF, &u0, &s0);
	struct tms tms0, tms1;
	times(&tms0);
	struct timespec half = {0, 500 * 1000 * 1000};
	nanosleep(&half, NULL);
	double p1 = clock_s(CLOCK_PROCESS_CPUTIME_ID), t1 = clock_s(CLOCK_THREAD_CPUTIME_ID);
	double u1, s1;
	usage_s(RUSAGE_SELF, &u1, &s1);
	times(&tms1);
	if (p1 - p0 >= 0.1 || t1 - t0 >= 0.1)
		return fail("0.5 s asleep: process clock +%.3f s, thread clock +%.3f s", p1 - p0,
			    t1 - t0);
	if ((u1 + s1) - (u0 + s0) >= 0.1)
		return fail("0.5 s asleep: RUSAGE_SELF +%.3f s", (u1 + s1) - (u0 + s0));
	long dt = (tms1.tms_utime + tms1.tms_stime) - (tms0.tms_utime + tms0.tms_stime);
	if (dt >= 10)
		return fail("0.5 s asleep: times +%ld ticks", dt);
	if (p1 < p0 || t1 < t0)
		return fail("a CPU clock went backwards");
	return 1;
}

/* A loop without system calls is mostly user time; reading /dev/zero mostly system. */
static int test_user_system_split(void)
{
	double u0, s0, u1, s1, u2, s2;
	usage_s(RUSAGE_THREAD, &u0, &s0);
	spin_user(CLOCK_THREAD_CPUTIME_ID, 0.3);
	usage_s(RUSAGE_THREAD, &u1, &s1);
	spin_kernel(CLOCK_THREAD_CPUTIME_ID, 0.3);
	usage_s(RUSAGE_THREAD, &u2, &s2);
	if (u1 - u0 <= s1 - s0)
		return fail("user loop: +%.3f user, +%.3f system", u1 - u0, s1 - s0);
	if (s2 - s1 <= u2 - u1)
		return fail("/dev/zero reads: +%.3f user, +%.3f system", u2 - u1, s2 - s1);
	if (u1 < u0 || s1 < s0 || u2 < u1 || s2 < s1)
		return fail("RUSAGE_THREAD went backwards");
	double su, ss;
	usage_s(RUSAGE_SELF, &su, &ss);
	if (su + ss < u2 + s2 - 0.02)
		return fail("RUSAGE_SELF %.3f s < RUSAGE_THREAD %.3f s", su + ss, u2 + s2);
	return 1;
}

static double thread_spent[2];
static clockid_t thread_clock[2];

static void *spinner(void *arg)
{
	int i = (int)(intptr_t)arg;
	spin_user(CLOCK_THREAD_CPUTIME_ID, 0.2);
	thread_spent[i] = clock_s(CLOCK_THREAD_CPUTIME_ID);
	return NULL;
}

/*
 * Two threads spinning: the process clock is at least the sum of what the threads' own
 * clocks said, and each thread's clock read from the main thread (pthread_getcpuclockid)
 * is at most the process's.
 */
static int test_threads(void)
{
	double main0 = clock_s(CLOCK_THREAD_CPUTIME_ID);
	pthread_t t[2];
	for (int i = 0; i < 2; i++)
		if (pthread_create(&t[i], NULL, spinner, (void *)(intptr_t)i) != 0)
			return fail("pthread_create");
	for (int i = 0; i < 2; i++) {
		int err = pthread_getcpuclockid(t[i], &thread_clock[i]);
		if (err != 0)
			return fail("pthread_getcpuclockid: %s", errno_name(err));
		double seen = clock_s(thread_clock[i]);
		double process = clock_s(CLOCK_PROCESS_CPUTIME_ID);
		if (seen < 0)
			return fail("clock_gettime(a live thread's clock): %s", errno_name(errno));
		if (seen > process)
			return fail("thread clock %.3f s > process clock %.3f s", seen, process);
	}
	for (int i = 0; i < 2; i++)
		pthread_join(t[i], NULL);
	double main1 = clock_s(CLOCK_THREAD_CPUTIME_ID);
	double process = clock_s(CLOCK_PROCESS_CPUTIME_ID);
	double sum = thread_spent[0] + thread_spent[1] + (main1 - main0);
	if (thread_spent[0] < 0.2 || thread_spent[1] < 0.2)
		return fail("a thread's clock stopped short: %.3f, %.3f", thread_spent[0],
			    thread_spent[1]);
	if (process < sum)
		return fail("process clock %.3f s < the threads' %.3f s", process, sum);
	double u, s;
	usage_s(RUSAGE_SELF, &u, &s);
	if (u + s < thread_spent[0] + thread_spent[1] - 0.05)
		return fail("RUSAGE_SELF %.3f s lost the exited threads' %.3f s", u + s,
			    thread_spent[0] + thread_spent[1]);
	return 1;
}

static volatile sig_atomic_t vtalrm_count, prof_count;

static void on_vtalrm(int sig)
{
	(void)sig;
	vtalrm_count++;
}

static void on_prof(int sig)
{
	(void)sig;
	prof_count++;
}

/* Spin until `*count` reaches `want`, for at most `limit` s of thread CPU time. */
static void spin_until(volatile sig_atomic_t *count, int want, double limit)
{
	double end = clock_s(CLOCK_THREAD_CPUTIME_ID) + limit;
	volatile unsigned long x = 0;
	while (*count < want && clock_s(CLOCK_THREAD_CPUTIME_ID) < end)
		for (int i = 0; i < 20000; i++)
			x++;
}

/*
 * ITIMER_VIRTUAL counts user time: it does not move while the process sleeps, counts
 * down while it spins, fires SIGVTALRM, and reloads from its interval.
 */
static int test_itimer_virtual(void)
{
	signal(SIGVTALRM, on_vtalrm);
	struct itimerval it = {{0, 0}, {10, 0}}, cur, old;
	if (setitimer(ITIMER_VIRTUAL, &it, NULL) != 0)
		return fail("setitimer(ITIMER_VIRTUAL): %s", errno_name(errno));
	struct timespec third = {0, 300 * 1000 * 1000};
	nanosleep(&third, NULL);
	getitimer(ITIMER_VIRTUAL, &cur);
	if (tv_s(&cur.it_value) < 9.9)
		return fail("0.3 s asleep moved ITIMER_VIRTUAL to %.3f s", tv_s(&cur.it_value));
	spin_user(CLOCK_PROCESS_CPUTIME_ID, 0.2);
	getitimer(ITIMER_VIRTUAL, &cur);
	if (tv_s(&cur.it_value) >= 9.95 || tv_s(&cur.it_value) < 8)
		return fail("after 0.2 s spinning ITIMER_VIRTUAL says %.3f s of 10",
			    tv_s(&cur.it_value));
	struct itimerval fast = {{0, 50000}, {0, 50000}};
	setitimer(ITIMER_VIRTUAL, &fast, &old);
	if (old.it_interval.tv_sec != 0 || old.it_interval.tv_usec != 0 || tv_s(&old.it_value) >= 10)
		return fail("setitimer's old value: interval %.3f value %.3f",
			    tv_s(&old.it_interval), tv_s(&old.it_value));
	spin_until(&vtalrm_count, 3, 5.0);
	struct itimerval off = {{0, 0}, {0, 0}};
	setitimer(ITIMER_VIRTUAL, &off, &old);
	if (vtalrm_count < 3)
		return fail("SIGVTALRM came %d times in 5 s of CPU for a 50 ms timer",
			    (int)vtalrm_count);
	if (old.it_interval.tv_sec != 0 || old.it_interval.tv_usec != 50000)
		return fail("the interval read back as %ld.%06ld", (long)old.it_interval.tv_sec,
			    (long)old.it_interval.tv_usec);
	getitimer(ITIMER_VIRTUAL, &cur);
	if (cur.it_value.tv_sec || cur.it_value.tv_usec || cur.it_interval.tv_usec)
		return fail("a disarmed ITIMER_VIRTUAL reads %.3f", tv_s(&cur.it_value));
	signal(SIGVTALRM, SIG_DFL);
	return 1;
}

/* ITIMER_PROF counts user and system time: it fires while the process reads /dev/zero. */
static int test_itimer_prof(void)
{
	signal(SIGPROF, on_prof);
	struct itimerval it = {{0, 0}, {0, 100000}}, cur;
	if (setitimer(ITIMER_PROF, &it, NULL) != 0)
		return fail("setitimer(ITIMER_PROF): %s", errno_name(errno));
	getitimer(ITIMER_PROF, &cur);
	if (tv_s(&cur.it_value) <= 0 || tv_s(&cur.it_value) > 0.2)
		return fail("ITIMER_PROF just set to 0.1 s reads %.3f s", tv_s(&cur.it_value));
	double end = clock_s(CLOCK_THREAD_CPUTIME_ID) + 5.0;
	while (prof_count == 0 && clock_s(CLOCK_THREAD_CPUTIME_ID) < end)
		spin_kernel(CLOCK_THREAD_CPUTIME_ID, 0.02);
	if (prof_count != 1)
		return fail("SIGPROF came %d times for a one-shot timer", (int)prof_count);
	getitimer(ITIMER_PROF, &cur);
	if (cur.it_value.tv_sec || cur.it_value.tv_usec)
		return fail("a fired one-shot ITIMER_PROF reads %.3f", tv_s(&cur.it_value));
	signal(SIGPROF, SIG_DFL);
	return 1;
}

/*
 * clock_getcpuclockid of a child names its process clock; /proc/<pid>/stat shows its
 * utime+stime and, once it reaped a grandchild, cutime+cstime. Once the child is reaped
 * its clock is gone (EINVAL) and its PID has no clock (ESRCH).
 */
static int test_getcpuclockid(void)
{
	int ready[2], go[2];
	if (pipe(ready) != 0 || pipe(go) != 0)
		return fail("pipe");
	pid_t pid = fork();
	if (pid == 0) {
		pid_t grandchild = fork();
		if (grandchild == 0) {
			spin_user(CLOCK_PROCESS_CPUTIME_ID, 0.2);
			_exit(0);
		}
		waitpid(grandchild, NULL, 0);
		spin_user(CLOCK_PROCESS_CPUTIME_ID, 0.2);
		char c = 1;
		write(ready[1], &c, 1);
		read(go[0], &c, 1);
		_exit(0);
	}
	char c;
	if (read(ready[0], &c, 1) != 1)
		return fail("the child never got ready");
	clockid_t cid;
	int err = clock_getcpuclockid(pid, &cid);
	if (err != 0)
		return fail("clock_getcpuclockid(child): %s", errno_name(err));
	if (cid != MAKE_PROCESS_CPUCLOCK(pid, CPUCLOCK_SCHED))
		return fail("clock_getcpuclockid gave %d, not Linux's encoding", cid);
	double spent = clock_s(cid);
	if (spent < 0.2)
		return fail("the child's clock reads %.3f s after 0.2 s spun", spent);
	struct timespec res;
	if (clock_getres(cid, &res) != 0 || res.tv_sec != 0 || res.tv_nsec != 1)
		return fail("clock_getres(child's clock) %ld.%09ld", (long)res.tv_sec, res.tv_nsec);
	long long t[4];
	if (proc_stat_times(pid, t) != 0)
		return fail("cannot read /proc/<child>/stat");
	double hz = sysconf(_SC_CLK_TCK);
	if ((t[0] + t[1]) / hz < 0.15 || (t[0] + t[1]) / hz > spent + 0.02)
		return fail("/proc/<child>/stat utime+stime %lld ticks for %.3f s", t[0] + t[1],
			    spent);
	if ((t[2] + t[3]) / hz < 0.15)
		return fail("/proc/<child>/stat cutime+cstime %lld ticks for a 0.2 s grandchild",
			    t[2] + t[3]);
	/* A thread clock of another process is not ours to read. */
	struct timespec ts;
	if (!expect_errno(clock_gettime(MAKE_THREAD_CPUCLOCK(pid, CPUCLOCK_SCHED), &ts), EINVAL,
			  "another process's thread clock"))
		return 0;
	/* The PROF and VIRT clocks of the child: sampled, but there. */
	double prof = clock_s(MAKE_PROCESS_CPUCLOCK(pid, CPUCLOCK_PROF));
	double virt = clock_s(MAKE_PROCESS_CPUCLOCK(pid, CPUCLOCK_VIRT));
	if (prof < 0 || virt < 0 || virt > prof)
		return fail("child's PROF %.3f VIRT %.3f", prof, virt);
	c = 1;
	write(go[1], &c, 1);
	waitpid(pid, NULL, 0);
	if (!expect_errno(clock_gettime(cid, &ts), EINVAL, "a reaped child's clock"))
		return 0;
	err = clock_getcpuclockid(pid, &cid);
	if (err != ESRCH)
		return fail("clock_getcpuclockid(reaped child): %s, want ESRCH", errno_name(err));
	close(ready[0]);
	close(ready[1]);
	close(go[0]);
	close(go[1]);
	return 1;
}

/* ru_maxrss is in KiB and covers memory the process touched and still has. */
static int test_maxrss(void)
{
	size_t size = 8 << 20;
	volatile char *p = malloc(size);
	if (!p)
		return fail("malloc");
	for (size_t i = 0; i < size; i += 1024)
		p[i] = 1;
	struct rusage ru;
	getrusage(RUSAGE_SELF, &ru);
	long self = ru.ru_maxrss;
	getrusage(RUSAGE_THREAD, &ru);
	long thread = ru.ru_maxrss;
	free((char *)p);
	if (self < 8192 || thread < 8192)
		return fail("ru_maxrss %ld KiB (thread %ld) with 8 MiB touched", self, thread);
	return 1;
}

static int xcpu_pipe = -1;

static void on_xcpu(int sig)
{
	char c = (char)sig;
	write(xcpu_pipe, &c, 1);
}

/*
 * RLIMIT_CPU: a process past its soft limit gets SIGXCPU (the soft limit then moves on a
 * second), and at its hard limit SIGKILL. The limit is inherited by a child.
 */
static int test_rlimit_cpu(void)
{
	int fds[2];
	if (pipe(fds) != 0)
		return fail("pipe");
	pid_t pid = fork();
	if (pid == 0) {
		close(fds[0]);
		xcpu_pipe = fds[1];
		signal(SIGXCPU, on_xcpu);
		struct rlimit rl = {1, 2}, back;
		if (setrlimit(RLIMIT_CPU, &rl) != 0)
			_exit(10);
		pid_t grandchild = fork();
		if (grandchild == 0) {
			getrlimit(RLIMIT_CPU, &back);
			_exit(back.rlim_cur == 1 && back.rlim_max == 2 ? 0 : 11);
		}
		int status;
		waitpid(grandchild, &status, 0);
		if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
			_exit(12);
		spin_user(CLOCK_PROCESS_CPUTIME_ID, 10.0);
		_exit(13);
	}
	close(fds[1]);
	int status;
	waitpid(pid, &status, 0);
	char buf[16];
	ssize_t n = read(fds[0], buf, sizeof(buf));
	close(fds[0]);
	if (WIFEXITED(status))
		return fail("the child exited with %d", WEXITSTATUS(status));
	if (!WIFSIGNALED(status) || WTERMSIG(status) != SIGKILL)
		return fail("the child was not killed by SIGKILL (status %#x)", status);
	if (n < 1 || buf[0] != SIGXCPU)
		return fail("no SIGXCPU before the hard limit");
	struct rlimit rl;
	if (getrlimit(RLIMIT_CPU, &rl) != 0 || rl.rlim_cur != RLIM_INFINITY)
		return fail("the parent's RLIMIT_CPU changed");
	struct rlimit bad = {3, 2};
	if (!expect_errno(setrlimit(RLIMIT_CPU, &bad), EINVAL, "setrlimit(RLIMIT_CPU, cur > max)"))
		return 0;
	return 1;
}

/* The CPU clocks' resolution and the errors of the calls. */
static int test_errors(void)
{
	struct timespec res;
	if (clock_getres(CLOCK_PROCESS_CPUTIME_ID, &res) != 0 || res.tv_sec || res.tv_nsec != 1)
		return fail("clock_getres(CLOCK_PROCESS_CPUTIME_ID)");
	if (clock_getres(CLOCK_THREAD_CPUTIME_ID, &res) != 0 || res.tv_sec || res.tv_nsec != 1)
		return fail("clock_getres(CLOCK_THREAD_CPUTIME_ID)");
	if (syscall(SYS_clock_getres, CLOCK_PROCESS_CPUTIME_ID, NULL) != 0)
		return fail("clock_getres with NULL: %s", errno_name(errno));
	if (syscall(SYS_clock_getres, MAKE_PROCESS_CPUCLOCK(0, CPUCLOCK_SCHED), &res) != 0 ||
	    res.tv_nsec != 1)
		return fail("clock_getres(own process's dynamic clock)");
	clockid_t cid;
	if (clock_getcpuclockid(0, &cid) != 0 || cid != MAKE_PROCESS_CPUCLOCK(0, CPUCLOCK_SCHED))
		return fail("clock_getcpuclockid(0)");
	if (clock_getcpuclockid(getpid(), &cid) != 0)
		return fail("clock_getcpuclockid(getpid())");
	if (clock_s(MAKE_THREAD_CPUCLOCK(0, CPUCLOCK_SCHED)) < 0)
		return fail("own thread's dynamic clock: %s", errno_name(errno));
	if (clock_s(MAKE_THREAD_CPUCLOCK(syscall(SYS_gettid), CPUCLOCK_SCHED)) < 0)
		return fail("own thread's clock by TID: %s", errno_name(errno));
	if (clock_getcpuclockid(NO_SUCH_PID, &cid) != ESRCH)
		return fail("clock_getcpuclockid(no such PID) is not ESRCH");
	struct timespec ts = {0, 0};
	if (!expect_errno(syscall(SYS_clock_gettime, MAKE_PROCESS_CPUCLOCK(0, 3), &ts), EINVAL,
			  "clock_gettime(reserved CPU clock 3)") ||
	    !expect_errno(syscall(SYS_clock_gettime, MAKE_PROCESS_CPUCLOCK(NO_SUCH_PID, 2), &ts),
			  EINVAL, "clock_gettime(no such process's clock)") ||
	    !expect_errno(syscall(SYS_clock_getres, MAKE_PROCESS_CPUCLOCK(NO_SUCH_PID, 2), &ts),
			  EINVAL, "clock_getres(no such process's clock)") ||
	    !expect_errno(syscall(SYS_clock_gettime, CLOCK_PROCESS_CPUTIME_ID, BAD_POINTER), EFAULT,
			  "clock_gettime(CLOCK_PROCESS_CPUTIME_ID, bad pointer)") ||
	    !expect_errno(syscall(SYS_clock_gettime, CLOCK_THREAD_CPUTIME_ID, BAD_POINTER), EFAULT,
			  "clock_gettime(CLOCK_THREAD_CPUTIME_ID, bad pointer)") ||
	    !expect_errno(syscall(SYS_clock_settime, CLOCK_PROCESS_CPUTIME_ID, &ts), EINVAL,
			  "clock_settime(CLOCK_PROCESS_CPUTIME_ID)") ||
	    !expect_errno(syscall(SYS_clock_settime, CLOCK_THREAD_CPUTIME_ID, &ts), EINVAL,
			  "clock_settime(CLOCK_THREAD_CPUTIME_ID)") ||
	    !expect_errno(syscall(SYS_clock_settime, MAKE_PROCESS_CPUCLOCK(0, CPUCLOCK_SCHED), &ts),
			  EPERM, "clock_settime(own process's dynamic clock)") ||
	    !expect_errno(syscall(SYS_clock_settime, MAKE_PROCESS_CPUCLOCK(NO_SUCH_PID, 2), &ts),
			  EINVAL, "clock_settime(no such process's clock)") ||
	    !expect_errno(syscall(SYS_clock_settime, MAKE_PROCESS_CPUCLOCK(0, CPUCLOCK_SCHED),
				  BAD_POINTER),
			  EFAULT, "clock_settime(own process's clock, bad pointer)"))
		return 0;
	struct rusage ru;
	if (!expect_errno(syscall(SYS_getrusage, 5, &ru), EINVAL, "getrusage(5)") ||
	    !expect_errno(syscall(SYS_getrusage, -2, &ru), EINVAL, "getrusage(-2)") ||
	    !expect_errno(syscall(SYS_getrusage, RUSAGE_SELF, BAD_POINTER), EFAULT,
			  "getrusage(RUSAGE_SELF, bad pointer)") ||
	    !expect_errno(syscall(SYS_getrusage, RUSAGE_CHILDREN, BAD_POINTER), EFAULT,
			  "getrusage(RUSAGE_CHILDREN, bad pointer)") ||
	    !expect_errno(syscall(SYS_times, BAD_POINTER), EFAULT, "times(bad pointer)"))
		return 0;
	struct itimerval it = {{0, 0}, {0, 1000000}}, valid = {{0, 0}, {1, 0}}, cur;
	if (!expect_errno(syscall(SYS_setitimer, 5, &valid, NULL), EINVAL, "setitimer(5)") ||
	    !expect_errno(syscall(SYS_setitimer, ITIMER_VIRTUAL, &it, NULL), EINVAL,
			  "setitimer(ITIMER_VIRTUAL, 1000000 us)") ||
	    !expect_errno(syscall(SYS_setitimer, ITIMER_PROF, BAD_POINTER, NULL), EFAULT,
			  "setitimer(ITIMER_PROF, bad pointer)") ||
	    !expect_errno(syscall(SYS_getitimer, ITIMER_PROF, BAD_POINTER), EFAULT,
			  "getitimer(ITIMER_PROF, bad pointer)") ||
	    !expect_errno(syscall(SYS_getitimer, 3, &cur), EINVAL, "getitimer(3)"))
		return 0;
	/* times() returns clock ticks that move on with the wall clock. */
	struct tms tms;
	clock_t a = times(&tms);
	struct timespec tenth = {0, 100 * 1000 * 1000};
	nanosleep(&tenth, NULL);
	clock_t b = times(NULL);
	if (b - a < 5 || b - a > 1000)
		return fail("times() moved %ld ticks in 0.1 s", (long)(b - a));
	return 1;
}

/*
 * /proc/stat: a `cpu` line of ten counters, then one per CPU from cpu0, btime, ctxt,
 * processes; the busy counters move on by at least part of what this process spins.
 */
static int read_proc_stat(char *buf, size_t size)
{
	int fd = open("/proc/stat", O_RDONLY);
	if (fd < 0)
		return -1;
	size_t len = 0;
	ssize_t n;
	while (len < size - 1 && (n = read(fd, buf + len, size - 1 - len)) > 0)
		len += n;
	close(fd);
	buf[len] = 0;
	return 0;
}

static int cpu_line(const char *buf, unsigned long long v[10])
{
	return sscanf(buf, "cpu  %llu %llu %llu %llu %llu %llu %llu %llu %llu %llu", &v[0], &v[1],
		      &v[2], &v[3], &v[4], &v[5], &v[6], &v[7], &v[8], &v[9]);
}

static int test_proc_stat(void)
{
	static char buf[65536];
	unsigned long long v0[10], v1[10];
	if (read_proc_stat(buf, sizeof(buf)) != 0)
		return fail("cannot read /proc/stat");
	if (cpu_line(buf, v0) != 10)
		return fail("the cpu line has not ten counters");
	if (!strstr(buf, "\ncpu0 ") || !strstr(buf, "\nbtime ") || !strstr(buf, "\nctxt ") ||
	    !strstr(buf, "\nprocesses ") || !strstr(buf, "\nprocs_running "))
		return fail("a line is missing");
	spin_user(CLOCK_THREAD_CPUTIME_ID, 0.3);
	read_proc_stat(buf, sizeof(buf));
	cpu_line(buf, v1);
	unsigned long long busy = (v1[0] + v1[1] + v1[2]) - (v0[0] + v0[1] + v0[2]);
	if (busy < 10)
		return fail("0.3 s spinning moved user+nice+system by %llu ticks", busy);
	return 1;
}

int main(void)
{
	/* Where proc is already mounted (Linux, qemu-aarch64, an earlier test) these fail. */
	mkdir("/proc", 0555);
	mount("proc", "/proc", "proc", 0, NULL);
	static const struct test tests[] = {
		{"a reaped child's CPU time counts, an unreaped one's does not", test_children},
		{"sleeping costs no CPU time", test_sleep},
		{"user loop is user time, /dev/zero reads system time", test_user_system_split},
		{"process clock covers its threads' clocks", test_threads},
		{"ITIMER_VIRTUAL counts user time and fires SIGVTALRM", test_itimer_virtual},
		{"ITIMER_PROF counts system time too and fires SIGPROF", test_itimer_prof},
		{"clock_getcpuclockid and /proc/<pid>/stat of a child", test_getcpuclockid},
		{"ru_maxrss counts touched memory in KiB", test_maxrss},
		{"RLIMIT_CPU: SIGXCPU at the soft limit, SIGKILL at the hard", test_rlimit_cpu},
		{"CPU clocks' resolution and errors", test_errors},
		{"/proc/stat cpu lines count busy time", test_proc_stat},
	};
	return run_tests(tests, sizeof(tests) / sizeof(tests[0]));
}
