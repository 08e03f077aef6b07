/*
 * schedtest.c - the scheduler's system calls as programs use them: CPU affinity (what
 * `nproc` asks), policy and priority.
 *
 * The raw sched_getaffinity returns the bytes it wrote (the kernel's cpumask size, which
 * depends on its configuration: 8 on Cradle, more on a kernel built for many CPUs), so
 * the tests check only what every kernel agrees on: a positive multiple of 8, no more
 * than asked for, naming at least one CPU. The number of CPUs differs too (what QEMU's
 * -smp gave the kernel, the host's under qemu-aarch64) and is never printed.
 *
 * Affinity is checked on every CPU the process may use, whatever their number, as
 * `taskset -c N` does it: pinned to one CPU, the process and a child it forks run there
 * (sched_getcpu, and /proc/self/stat's field 39 where the kernel writes it: qemu-aarch64
 * emulates that file with 44 fields, the processor among those it leaves 0).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <sched.h>
#include <stdint.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "tap.h"

/* A user address nothing is mapped at (page 0 is never mapped). */
#define BAD_POINTER ((void *)16)
/* A PID no process has (above Linux's PID_MAX_LIMIT). */
#define NO_SUCH_PID 0x7ffffff0

static long raw_getaffinity(pid_t pid, unsigned long len, void *mask)
{
	return syscall(SYS_sched_getaffinity, pid, len, mask);
}

static long raw_setaffinity(pid_t pid, unsigned long len, const void *mask)
{
	return syscall(SYS_sched_setaffinity, pid, len, mask);
}

static int expect_errno(long ret, int want, const char *what)
{
	if (ret != -1 || errno != want)
		return fail("%s: ret %ld errno %s, want %s", what, ret, ret == -1 ? errno_name(errno) : "-",
			    errno_name(want));
	return 1;
}

static int test_getaffinity_raw(void)
{
	uint64_t mask[16];
	memset(mask, 0xff, sizeof(mask));
	long n = raw_getaffinity(0, sizeof(mask), mask);
	if (n <= 0 || n % 8 != 0 || n > (long)sizeof(mask))
		return fail("raw sched_getaffinity returned %ld", n);
	int cpus = 0;
	for (long i = 0; i < n / 8; i++)
		cpus += __builtin_popcountll(mask[i]);
	if (cpus < 1)
		return fail("the mask names no CPU");
	/* Bytes past the returned length are not written. */
	if (n < (long)sizeof(mask) && mask[n / 8] != UINT64_MAX)
		return fail("wrote past the %ld bytes it returned", n);
	return 1;
}

static int test_getaffinity_glibc(void)
{
	cpu_set_t set;
	CPU_ZERO(&set);
	if (sched_getaffinity(0, sizeof(set), &set) != 0)
		return fail("sched_getaffinity: errno %s", errno_name(errno));
	if (CPU_COUNT(&set) < 1)
		return fail("CPU_COUNT is %d", CPU_COUNT(&set));
	/* The same by PID. */
	cpu_set_t by_pid;
	CPU_ZERO(&by_pid);
	if (sched_getaffinity(getpid(), sizeof(by_pid), &by_pid) != 0)
		return fail("sched_getaffinity(getpid()): errno %s", errno_name(errno));
	if (!CPU_EQUAL(&set, &by_pid))
		return fail("the masks for 0 and getpid() differ");
	return 1;
}

static int test_getaffinity_errors(void)
{
	uint64_t mask[16];
	if (!expect_errno(raw_getaffinity(0, 0, mask), EINVAL, "len 0"))
		return 0;
	if (!expect_errno(raw_getaffinity(0, 4, mask), EINVAL, "len 4"))
		return 0;
	if (!expect_errno(raw_getaffinity(0, 12, mask), EINVAL, "len 12"))
		return 0;
	if (!expect_errno(raw_getaffinity(0, sizeof(mask), BAD_POINTER), EFAULT, "bad pointer"))
		return 0;
	if (!expect_errno(raw_getaffinity(NO_SUCH_PID, sizeof(mask), mask), ESRCH, "no such pid"))
		return 0;
	return expect_errno(raw_getaffinity(-1, sizeof(mask), mask), ESRCH, "pid -1");
}

static int test_setaffinity(void)
{
	cpu_set_t set, again;
	CPU_ZERO(&set);
	if (sched_getaffinity(0, sizeof(set), &set) != 0)
		return fail("sched_getaffinity: errno %s", errno_name(errno));
	if (sched_setaffinity(0, sizeof(set), &set) != 0)
		return fail("setting the mask it has: errno %s", errno_name(errno));
	CPU_ZERO(&again);
	if (sched_getaffinity(0, sizeof(again), &again) != 0 || !CPU_EQUAL(&set, &again))
		return fail("the mask changed");
	/* A mask of 8 bytes is enough: the rest counts as zero. */
	uint64_t first;
	memcpy(&first, &set, sizeof(first));
	if (first != 0 && raw_setaffinity(0, sizeof(first), &first) != 0)
		return fail("an 8-byte mask: errno %s", errno_name(errno));
	return 1;
}

static int test_setaffinity_errors(void)
{
	uint64_t empty[16] = { 0 };
	if (!expect_errno(raw_setaffinity(0, sizeof(empty), empty), EINVAL, "empty mask"))
		return 0;
	if (!expect_errno(raw_setaffinity(0, 0, empty), EINVAL, "len 0"))
		return 0;
	if (!expect_errno(raw_setaffinity(0, 8, BAD_POINTER), EFAULT, "bad pointer"))
		return 0;
	uint64_t all[16];
	memset(all, 0xff, sizeof(all));
	return expect_errno(raw_setaffinity(NO_SUCH_PID, sizeof(all), all), ESRCH, "no such pid");
}

static int test_policy(void)
{
	if (sched_getscheduler(0) != SCHED_OTHER)
		return fail("sched_getscheduler(0) is %d", sched_getscheduler(0));
	struct sched_param param = { .sched_priority = 42 };
	if (sched_getparam(0, &param) != 0 || param.sched_priority != 0)
		return fail("sched_getparam: errno %s, priority %d", errno_name(errno),
			    param.sched_priority);
	if (!expect_errno(sched_getscheduler(-1), EINVAL, "getscheduler(-1)"))
		return 0;
	if (!expect_errno(sched_getscheduler(NO_SUCH_PID), ESRCH, "getscheduler(no such pid)"))
		return 0;
	if (!expect_errno(syscall(SYS_sched_getparam, 0, NULL), EINVAL, "getparam(NULL)"))
		return 0;
	return expect_errno(syscall(SYS_sched_getparam, 0, BAD_POINTER), EFAULT,
			    "getparam(bad pointer)");
}

static int test_priority_range(void)
{
	if (sched_get_priority_max(SCHED_FIFO) != 99 || sched_get_priority_min(SCHED_FIFO) != 1)
		return fail("SCHED_FIFO: %d..%d", sched_get_priority_min(SCHED_FIFO),
			    sched_get_priority_max(SCHED_FIFO));
	if (sched_get_priority_max(SCHED_RR) != 99 || sched_get_priority_min(SCHED_RR) != 1)
		return fail("SCHED_RR");
	if (sched_get_priority_max(SCHED_OTHER) != 0 || sched_get_priority_min(SCHED_OTHER) != 0)
		return fail("SCHED_OTHER");
	if (sched_get_priority_max(SCHED_BATCH) != 0 || sched_get_priority_min(SCHED_IDLE) != 0)
		return fail("SCHED_BATCH/SCHED_IDLE");
	if (!expect_errno(sched_get_priority_max(42), EINVAL, "max(42)"))
		return 0;
	return expect_errno(sched_get_priority_min(-1), EINVAL, "min(-1)");
}

/*
 * The processor field (39) of /proc/self/stat, or -1 if the file cannot be read or is
 * qemu-aarch64's emulation (fewer than Linux 6.1's 52 fields).
 */
static int stat_processor(void)
{
	char buf[1024];
	int fd = open("/proc/self/stat", O_RDONLY);
	if (fd < 0)
		return -1;
	ssize_t n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return -1;
	buf[n] = 0;
	/* Fields after the command name, which ends at the last ')': field 3 on. */
	char *p = strrchr(buf, ')');
	if (!p)
		return -1;
	int field = 2, processor = -1;
	for (char *tok = strtok(p + 1, " \n"); tok; tok = strtok(NULL, " \n")) {
		field++;
		if (field == 39)
			processor = atoi(tok);
	}
	return field >= 52 ? processor : -1;
}

/* What a process pinned to `cpu` sees: 0 if all agrees, else a code saying what not. */
static int pinned_view(int cpu, const cpu_set_t *want)
{
	cpu_set_t got;
	CPU_ZERO(&got);
	if (sched_getaffinity(0, sizeof(got), &got) != 0)
		return 1;
	if (!CPU_EQUAL(&got, want))
		return 2;
	if (sched_getcpu() != cpu)
		return 3;
	int processor = stat_processor();
	if (processor >= 0 && processor != cpu)
		return 4;
	return 0;
}

static int test_taskset_each_cpu(void)
{
	/* proc may be missing (a test initramfs): mount it; where it is there this fails. */
	mkdir("/proc", 0555);
	mount("proc", "/proc", "proc", 0, NULL);
	cpu_set_t orig;
	CPU_ZERO(&orig);
	if (sched_getaffinity(0, sizeof(orig), &orig) != 0)
		return fail("sched_getaffinity: errno %s", errno_name(errno));
	int ok = 1;
	for (int cpu = 0; cpu < CPU_SETSIZE && ok; cpu++) {
		if (!CPU_ISSET(cpu, &orig))
			continue;
		cpu_set_t one;
		CPU_ZERO(&one);
		CPU_SET(cpu, &one);
		if (sched_setaffinity(0, sizeof(one), &one) != 0) {
			ok = fail("pinning to CPU %d: errno %s", cpu, errno_name(errno));
			break;
		}
		/* Spin a little: a migration must have happened by the time the call returned. */
		for (volatile int i = 0; i < 100000; i++)
			;
		int why = pinned_view(cpu, &one);
		if (why != 0) {
			ok = fail("pinned to CPU %d: check %d failed (getcpu %d, stat %d)", cpu, why,
				  sched_getcpu(), stat_processor());
			break;
		}
		/* fork inherits the mask: the child runs there too. */
		pid_t child = fork();
		if (child == 0)
			_exit(pinned_view(cpu, &one));
		int status;
		if (child < 0 || waitpid(child, &status, 0) != child || !WIFEXITED(status) ||
		    WEXITSTATUS(status) != 0)
			ok = fail("the child of a process pinned to CPU %d: status %#x", cpu,
				  child < 0 ? -1 : status);
	}
	if (sched_setaffinity(0, sizeof(orig), &orig) != 0)
		return fail("restoring the mask: errno %s", errno_name(errno));
	return ok;
}

static int test_getcpu(void)
{
	unsigned cpu = 12345, node = 12345;
	if (syscall(SYS_getcpu, &cpu, &node, NULL) != 0)
		return fail("getcpu: errno %s", errno_name(errno));
	cpu_set_t set;
	CPU_ZERO(&set);
	if (sched_getaffinity(0, sizeof(set), &set) != 0 || !CPU_ISSET(cpu, &set))
		return fail("getcpu says CPU %u, not in the affinity mask", cpu);
	if (node != 0)
		return fail("node %u", node);
	if (syscall(SYS_getcpu, NULL, NULL, NULL) != 0)
		return fail("getcpu(NULL, NULL): errno %s", errno_name(errno));
	return expect_errno(syscall(SYS_getcpu, BAD_POINTER, NULL, NULL), EFAULT, "getcpu(bad pointer)");
}

static const struct test tests[] = {
	{ "raw sched_getaffinity: bytes written, a CPU named, nothing past them", test_getaffinity_raw },
	{ "sched_getaffinity for 0 and getpid() agree", test_getaffinity_glibc },
	{ "sched_getaffinity: EINVAL (len 0, 4, 12), EFAULT, ESRCH", test_getaffinity_errors },
	{ "sched_setaffinity to the current mask, and with 8 bytes", test_setaffinity },
	{ "sched_setaffinity: EINVAL (empty), EFAULT, ESRCH", test_setaffinity_errors },
	{ "sched_getscheduler/sched_getparam: SCHED_OTHER, priority 0, errors", test_policy },
	{ "sched_get_priority_max/min", test_priority_range },
	{ "getcpu: a CPU of the mask, node 0, NULLs allowed, EFAULT", test_getcpu },
	{ "pinned to each CPU in turn, the process and its child run there", test_taskset_each_cpu },
};

int main(void)
{
	return run_tests(tests, sizeof(tests) / sizeof(tests[0]));
}
