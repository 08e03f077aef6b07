/*
 * vdsotest.c - the vDSO's clocks agree with the kernel's (run as root, on an arm64 kernel).
 *
 * glibc answers clock_gettime, gettimeofday and clock_getres in the vDSO (found through
 * AT_SYSINFO_EHDR); syscall(2) asks the kernel. Checks:
 *  - the vDSO is there (AT_SYSINFO_EHDR points at an ELF header);
 *  - for every clock the vDSO computes, readings taken alternately through the vDSO and the
 *    system call never go backwards, in 20000 pairs, and tv_nsec is below a second;
 *  - a _COARSE clock is never ahead of its fine clock read after it;
 *  - gettimeofday lies between two CLOCK_REALTIME readings, through the vDSO and the kernel;
 *  - clock_getres is the same both ways;
 *  - clock_settime and settimeofday are seen by the very next vDSO reading (the clock is
 *    then put back where it would have been);
 *  - a forked child's vDSO clock continues its parent's.
 * Only verdicts are printed. The last two need root and change the wall clock, so xtask
 * runs this program on Debian's arm64 kernel in qemu-system-aarch64 (never under
 * qemu-aarch64, where it would set the host's clock) and compares Cradle's output with it.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdint.h>
#include <string.h>
#include <sys/auxv.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "tap.h"

#define NSEC_PER_SEC 1000000000LL

static int64_t ts_ns(const struct timespec *ts)
{
	return (int64_t)ts->tv_sec * NSEC_PER_SEC + ts->tv_nsec;
}

static int sys_clock_gettime(clockid_t clock, struct timespec *ts)
{
	return (int)syscall(SYS_clock_gettime, clock, ts);
}

static int test_vdso_present(void)
{
	const unsigned char *ehdr = (const unsigned char *)getauxval(AT_SYSINFO_EHDR);

	if (!ehdr)
		return fail("no AT_SYSINFO_EHDR");
	if (memcmp(ehdr, "\177ELF", 4) != 0)
		return fail("AT_SYSINFO_EHDR is not an ELF header");
	return 1;
}

/* 20000 readings of `clock`, alternately through the vDSO and the system call. */
static int monotonic_both_ways(clockid_t clock, const char *name)
{
	struct timespec ts;
	int64_t last = INT64_MIN;

	for (int i = 0; i < 20000; i++) {
		int vdso = i % 2 == 0;
		int r = vdso ? clock_gettime(clock, &ts) : sys_clock_gettime(clock, &ts);
		if (r != 0)
			return fail("%s: %s: errno=%s", name, vdso ? "vDSO" : "syscall",
				    errno_name(errno));
		if (ts.tv_nsec < 0 || ts.tv_nsec >= NSEC_PER_SEC)
			return fail("%s: tv_nsec out of range", name);
		int64_t now = ts_ns(&ts);
		if (now < last)
			return fail("%s: reading %d (%s) went back by %lld ns", name, i,
				    vdso ? "vDSO" : "syscall", (long long)(last - now));
		last = now;
	}
	return 1;
}

static int test_realtime(void) { return monotonic_both_ways(CLOCK_REALTIME, "REALTIME"); }
static int test_monotonic(void) { return monotonic_both_ways(CLOCK_MONOTONIC, "MONOTONIC"); }
static int test_raw(void) { return monotonic_both_ways(CLOCK_MONOTONIC_RAW, "MONOTONIC_RAW"); }
static int test_boottime(void) { return monotonic_both_ways(CLOCK_BOOTTIME, "BOOTTIME"); }
static int test_tai(void) { return monotonic_both_ways(CLOCK_TAI, "TAI"); }

static int test_realtime_coarse(void)
{
	return monotonic_both_ways(CLOCK_REALTIME_COARSE, "REALTIME_COARSE");
}

static int test_monotonic_coarse(void)
{
	return monotonic_both_ways(CLOCK_MONOTONIC_COARSE, "MONOTONIC_COARSE");
}

/* A coarse clock is the fine one at the last tick: never ahead of a later fine reading. */
static int coarse_behind(clockid_t coarse, clockid_t fine, const char *name)
{
	struct timespec c, f;

	for (int i = 0; i < 2000; i++) {
		int r = i % 2 ? sys_clock_gettime(coarse, &c) : clock_gettime(coarse, &c);
		if (r != 0 || clock_gettime(fine, &f) != 0)
			return fail("%s: errno=%s", name, errno_name(errno));
		if (ts_ns(&c) > ts_ns(&f))
			return fail("%s: coarse ahead of fine by %lld ns", name,
				    (long long)(ts_ns(&c) - ts_ns(&f)));
	}
	return 1;
}

static int test_coarse_behind(void)
{
	return coarse_behind(CLOCK_MONOTONIC_COARSE, CLOCK_MONOTONIC, "MONOTONIC") &&
	       coarse_behind(CLOCK_REALTIME_COARSE, CLOCK_REALTIME, "REALTIME");
}

/* gettimeofday (vDSO or kernel) between two CLOCK_REALTIME readings, in microseconds. */
static int test_gettimeofday(void)
{
	for (int i = 0; i < 2000; i++) {
		struct timespec before, after;
		struct timeval tv;
		int vdso = i % 2 == 0;

		clock_gettime(CLOCK_REALTIME, &before);
		int r = vdso ? gettimeofday(&tv, NULL) : (int)syscall(SYS_gettimeofday, &tv, NULL);
		clock_gettime(CLOCK_REALTIME, &after);
		if (r != 0)
			return fail("gettimeofday: errno=%s", errno_name(errno));
		int64_t us = (int64_t)tv.tv_sec * 1000000 + tv.tv_usec;
		if (tv.tv_usec < 0 || tv.tv_usec >= 1000000 || us < ts_ns(&before) / 1000 ||
		    us > ts_ns(&after) / 1000)
			return fail("%s gettimeofday outside its two clock_gettime readings",
				    vdso ? "vDSO" : "syscall");
	}
	return 1;
}

static int test_getres(void)
{
	const clockid_t clocks[] = { CLOCK_REALTIME, CLOCK_MONOTONIC, CLOCK_MONOTONIC_RAW,
				     CLOCK_REALTIME_COARSE, CLOCK_MONOTONIC_COARSE,
				     CLOCK_BOOTTIME, CLOCK_TAI };

	for (unsigned i = 0; i < sizeof(clocks) / sizeof(clocks[0]); i++) {
		struct timespec v = { -1, -1 }, s = { -2, -2 };
		if (clock_getres(clocks[i], &v) != 0 ||
		    syscall(SYS_clock_getres, clocks[i], &s) != 0)
			return fail("clock %d: errno=%s", clocks[i], errno_name(errno));
		if (v.tv_sec != s.tv_sec || v.tv_nsec != s.tv_nsec)
			return fail("clock %d: vDSO and syscall resolutions differ", clocks[i]);
	}
	return 1;
}

/* Set the wall clock `shift` seconds ahead of where it is (settimeofday or clock_settime). */
static int shift_wall_clock(int64_t base_real, int64_t base_mono, int64_t shift, int use_tod)
{
	struct timespec mono;
	clock_gettime(CLOCK_MONOTONIC, &mono);
	int64_t target = base_real + (ts_ns(&mono) - base_mono) + shift * NSEC_PER_SEC;
	if (use_tod) {
		struct timeval tv = { target / NSEC_PER_SEC, (target % NSEC_PER_SEC) / 1000 };
		return settimeofday(&tv, NULL);
	}
	struct timespec ts = { target / NSEC_PER_SEC, target % NSEC_PER_SEC };
	return clock_settime(CLOCK_REALTIME, &ts);
}

static int set_and_see(int use_tod)
{
	const char *how = use_tod ? "settimeofday" : "clock_settime";
	const int64_t shift = 1000000; /* seconds: 11.6 days ahead */
	struct timespec real, mono, seen;
	struct timeval tv;

	clock_gettime(CLOCK_REALTIME, &real);
	clock_gettime(CLOCK_MONOTONIC, &mono);
	if (shift_wall_clock(ts_ns(&real), ts_ns(&mono), shift, use_tod) != 0)
		return fail("%s: errno=%s", how, errno_name(errno));
	clock_gettime(CLOCK_REALTIME, &seen);
	gettimeofday(&tv, NULL);
	struct timespec coarse;
	clock_gettime(CLOCK_REALTIME_COARSE, &coarse);
	/* Put the clock back (plus the time that passed) before judging. */
	if (shift_wall_clock(ts_ns(&real), ts_ns(&mono), 0, use_tod) != 0)
		return fail("%s back: errno=%s", how, errno_name(errno));
	int64_t ahead = ts_ns(&seen) - ts_ns(&real);
	if (ahead < shift * NSEC_PER_SEC || ahead > (shift + 5) * NSEC_PER_SEC)
		return fail("%s: CLOCK_REALTIME in the vDSO moved %lld s, not %lld",
			    how, (long long)(ahead / NSEC_PER_SEC), (long long)shift);
	if (tv.tv_sec - real.tv_sec < shift || tv.tv_sec - real.tv_sec > shift + 5)
		return fail("%s: gettimeofday did not follow", how);
	if (coarse.tv_sec - real.tv_sec < shift - 1 || coarse.tv_sec - real.tv_sec > shift + 5)
		return fail("%s: CLOCK_REALTIME_COARSE did not follow", how);
	struct timespec back;
	clock_gettime(CLOCK_REALTIME, &back);
	if (back.tv_sec - real.tv_sec < 0 || back.tv_sec - real.tv_sec > 5)
		return fail("%s: the clock did not come back", how);
	return 1;
}

static int test_clock_settime_seen(void) { return set_and_see(0); }
static int test_settimeofday_seen(void) { return set_and_see(1); }

static int test_fork_continues(void)
{
	struct timespec before;
	clock_gettime(CLOCK_MONOTONIC, &before);
	pid_t pid = fork();
	if (pid < 0)
		return fail("fork: errno=%s", errno_name(errno));
	if (pid == 0) {
		struct timespec now;
		clock_gettime(CLOCK_MONOTONIC, &now);
		_exit(ts_ns(&now) >= ts_ns(&before) ? 0 : 1);
	}
	int status;
	if (waitpid(pid, &status, 0) != pid || !WIFEXITED(status) || WEXITSTATUS(status) != 0)
		return fail("the child's CLOCK_MONOTONIC was behind its parent's");
	return 1;
}

static const struct test tests[] = {
	{ "AT_SYSINFO_EHDR points at the vDSO's ELF header", test_vdso_present },
	{ "CLOCK_REALTIME: vDSO and syscall readings never go back", test_realtime },
	{ "CLOCK_MONOTONIC: vDSO and syscall readings never go back", test_monotonic },
	{ "CLOCK_MONOTONIC_RAW: vDSO and syscall readings never go back", test_raw },
	{ "CLOCK_BOOTTIME: vDSO and syscall readings never go back", test_boottime },
	{ "CLOCK_TAI: vDSO and syscall readings never go back", test_tai },
	{ "CLOCK_REALTIME_COARSE: vDSO and syscall readings never go back",
	  test_realtime_coarse },
	{ "CLOCK_MONOTONIC_COARSE: vDSO and syscall readings never go back",
	  test_monotonic_coarse },
	{ "a _COARSE clock is never ahead of its fine clock", test_coarse_behind },
	{ "gettimeofday (vDSO and syscall) lies between CLOCK_REALTIME readings",
	  test_gettimeofday },
	{ "clock_getres: the vDSO says what the kernel says", test_getres },
	{ "clock_settime is seen by the next vDSO reading", test_clock_settime_seen },
	{ "settimeofday is seen by the next vDSO reading", test_settimeofday_seen },
	{ "a forked child's vDSO clock continues its parent's", test_fork_continues },
};

int main(void)
{
	return run_tests(tests, sizeof(tests) / sizeof(tests[0]));
}
