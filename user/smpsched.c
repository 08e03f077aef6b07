/*
 * smpsched.c - the scheduler on every CPU: CPU-bound processes keep all CPUs busy, and the
 * CPUs are shared fairly among them.
 *
 * With N = the online CPUs (what `nproc` prints, sysconf(_SC_NPROCESSORS_ONLN)):
 *
 *   - N is the machine's CPU count when xtask says it (`smpsched 4`: QEMU's -smp), and
 *     /proc/stat has one `cpuK` line per online CPU, and /proc/cpuinfo one `processor` line;
 *   - N processes spin on the CPU for SPIN_SECONDS: over a window inside that time, every
 *     CPU is at least 95% busy (its /proc/stat ticks other than idle and iowait, against all
 *     of its ticks), and each process got at least 90% of a CPU (its user + system time
 *     from wait4's rusage, against the wall time it spun);
 *   - 2N processes spin the same way: every CPU is again at least 95% busy, and each
 *     process got between 40% and 60% of a CPU (fair sharing: two per CPU).
 *
 * Children never print: each writes the wall time it spun into a shared page; the parent
 * reads /proc/stat at the start and end of the window and reaps the children with wait4.
 * Only verdicts are printed, so Linux and Cradle print the same; `smpsched vN` (`v` alone
 * when the count is not known) adds the measured figures as TAP comments, for choosing and
 * checking the bounds by hand.
 *
 * It judges a whole machine: xtask runs it as PID 1's child on Debian's arm64 kernel and on
 * Cradle, both in qemu-system-aarch64 with the same -smp, never under qemu-aarch64 (the
 * host's CPUs are shared with everything else running there).
 */
#define _GNU_SOURCE
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "tap.h"

/* How long every child spins. */
#define SPIN_SECONDS 3.0
/* The /proc/stat window: from this long after the children were forked ... */
#define WINDOW_START 0.5
/* ... to this long before they stop. */
#define WINDOW_END_BEFORE 0.3
/* At most this many CPUs (Cradle's NR_CPUS is 16). */
#define MAX_CPUS 64
/* At most 2 * MAX_CPUS children. */
#define MAX_CHILDREN (2 * MAX_CPUS)

static int verbose;
static int cpus;
/* The machine's CPUs, from the argument; 0 if not given. */
static int expected_cpus;

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void sleep_until(double when)
{
	double left;

	while ((left = when - now()) > 0) {
		struct timespec ts = {
			.tv_sec = (time_t)left,
			.tv_nsec = (long)((left - (double)(time_t)left) * 1e9),
		};
		nanosleep(&ts, NULL);
	}
}

/* One CPU's /proc/stat ticks: busy (all but idle and iowait) and total. */
struct cpu_ticks {
	unsigned long long busy, total;
};

/*
 * Read the `cpuK` lines of /proc/stat into ticks[0..MAX_CPUS); returns how many there were,
 * or -1 if the file cannot be read or a line does not parse.
 */
static int read_stat(struct cpu_ticks *ticks)
{
	char line[512];
	int count = 0;
	FILE *f = fopen("/proc/stat", "r");

	if (!f)
		return -1;
	memset(ticks, 0, sizeof(*ticks) * MAX_CPUS);
	while (fgets(line, sizeof(line), f)) {
		unsigned long long v[8] = { 0 };
		unsigned cpu;
		int fields;

		if (strncmp(line, "cpu", 3) != 0 || line[3] < '0' || line[3] > '9')
			continue;
		fields = sscanf(line + 3, "%u %llu %llu %llu %llu %llu %llu %llu %llu", &cpu, &v[0],
				&v[1], &v[2], &v[3], &v[4], &v[5], &v[6], &v[7]);
		if (fields < 5 || cpu >= MAX_CPUS) {
			fclose(f);
			return -1;
		}
		for (int i = 0; i < 8; i++)
			ticks[cpu].total += v[i];
		/* user nice system idle iowait irq softirq steal: idle and iowait are not busy. */
		ticks[cpu].busy = ticks[cpu].total - v[3] - v[4];
		count++;
	}
	fclose(f);
	return count;
}

/* Lines of `path` that start with `prefix`, or -1. */
static int count_lines(const char *path, const char *prefix)
{
	char line[512];
	int count = 0;
	FILE *f = fopen(path, "r");

	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		if (strncmp(line, prefix, strlen(prefix)) == 0)
			count++;
	fclose(f);
	return count;
}

/* What one run of `children` spinning processes measured. */
struct run {
	int children;
	/* Lowest per-CPU busy share over the window, and the CPU it was. */
	double min_busy;
	int min_busy_cpu;
	/* Lowest and highest share of a CPU a child got. */
	double min_share, max_share;
	/* Why the run itself failed, or "" */
	char error[128];
};

/* The child: spin until `deadline`, then store the wall time it spun. */
static void spin(double deadline, double *spun)
{
	double start = now(), t;
	volatile unsigned long work = 0;

	while ((t = now()) < deadline)
		for (int i = 0; i < 1000; i++)
			work++;
	*spun = t - start;
	_exit(0);
}

static void measure(struct run *r, int children)
{
	struct cpu_ticks before[MAX_CPUS], after[MAX_CPUS];
	pid_t pids[MAX_CHILDREN];
	double *spun;
	double start, deadline;
	int forked = 0;

	memset(r, 0, sizeof(*r));
	r->children = children;
	r->min_busy = 1.0;
	r->min_share = 1e9;
	spun = mmap(NULL, sizeof(double) * MAX_CHILDREN, PROT_READ | PROT_WRITE,
		    MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (spun == MAP_FAILED) {
		snprintf(r->error, sizeof(r->error), "mmap: %s", errno_name(errno));
		return;
	}
	start = now();
	deadline = start + SPIN_SECONDS;
	for (; forked < children; forked++) {
		pids[forked] = fork();
		if (pids[forked] == 0)
			spin(deadline, &spun[forked]);
		if (pids[forked] < 0) {
			snprintf(r->error, sizeof(r->error), "fork: %s", errno_name(errno));
			break;
		}
	}
	sleep_until(start + WINDOW_START);
	int n_before = read_stat(before);
	sleep_until(deadline - WINDOW_END_BEFORE);
	int n_after = read_stat(after);
	for (int i = 0; i < forked; i++) {
		struct rusage ru;
		int status;

		if (wait4(pids[i], &status, 0, &ru) != pids[i] || !WIFEXITED(status) ||
		    WEXITSTATUS(status) != 0) {
			snprintf(r->error, sizeof(r->error), "child %d did not exit 0", i);
			continue;
		}
		double cpu = (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec / 1e6 +
			     (double)ru.ru_stime.tv_sec + (double)ru.ru_stime.tv_usec / 1e6;
		double share = spun[i] > 0 ? cpu / spun[i] : 0;
		if (verbose)
			printf("# %d processes: child %d: %.3f s CPU in %.3f s: %.1f%%\n", children,
			       i, cpu, spun[i], 100 * share);
		if (share < r->min_share)
			r->min_share = share;
		if (share > r->max_share)
			r->max_share = share;
	}
	munmap(spun, sizeof(double) * MAX_CHILDREN);
	if (r->error[0])
		return;
	if (n_before != cpus || n_after != cpus) {
		snprintf(r->error, sizeof(r->error), "/proc/stat has %d then %d cpuK lines, not %d",
			 n_before, n_after, cpus);
		return;
	}
	for (int c = 0; c < cpus; c++) {
		unsigned long long total = after[c].total - before[c].total;
		unsigned long long busy = after[c].busy - before[c].busy;
		double share = total ? (double)busy / (double)total : 0;

		if (verbose)
			printf("# %d processes: cpu%d: %llu of %llu ticks busy: %.1f%%\n", children,
			       c, busy, total, 100 * share);
		if (share < r->min_busy) {
			r->min_busy = share;
			r->min_busy_cpu = c;
		}
	}
}

static struct run one_per_cpu, two_per_cpu;

static int test_stat_lines(void)
{
	struct cpu_ticks ticks[MAX_CPUS];
	int stat = read_stat(ticks);
	int cpuinfo = count_lines("/proc/cpuinfo", "processor");

	if (expected_cpus && cpus != expected_cpus)
		return fail("%d online CPUs, the machine has %d", cpus, expected_cpus);
	if (stat != cpus)
		return fail("/proc/stat has %d cpuK lines for %d online CPUs", stat, cpus);
	if (cpuinfo != cpus)
		return fail("/proc/cpuinfo has %d processor lines for %d online CPUs", cpuinfo,
			    cpus);
	return 1;
}

static int busy_verdict(const struct run *r)
{
	if (r->error[0])
		return fail("%s", r->error);
	if (r->min_busy < 0.95)
		return fail("cpu%d was %.0f%% busy", r->min_busy_cpu, 100 * r->min_busy);
	return 1;
}

static int test_one_per_cpu_busy(void)
{
	return busy_verdict(&one_per_cpu);
}

static int test_one_per_cpu_share(void)
{
	if (one_per_cpu.error[0])
		return fail("%s", one_per_cpu.error);
	if (one_per_cpu.min_share < 0.90)
		return fail("a process got %.0f%% of a CPU", 100 * one_per_cpu.min_share);
	return 1;
}

static int test_two_per_cpu_busy(void)
{
	return busy_verdict(&two_per_cpu);
}

static int test_two_per_cpu_fair(void)
{
	if (two_per_cpu.error[0])
		return fail("%s", two_per_cpu.error);
	if (two_per_cpu.min_share < 0.40 || two_per_cpu.max_share > 0.60)
		return fail("the processes got %.0f%% to %.0f%% of a CPU",
			    100 * two_per_cpu.min_share, 100 * two_per_cpu.max_share);
	return 1;
}

int main(int argc, char **argv)
{
	static const struct test tests[] = {
		{ "every CPU is online; /proc/stat has a cpuK line and /proc/cpuinfo a processor "
		  "line for each",
		  test_stat_lines },
		{ "one CPU-bound process per CPU: every CPU at least 95% busy (/proc/stat)",
		  test_one_per_cpu_busy },
		{ "one CPU-bound process per CPU: each gets at least 90% of a CPU (wait4 rusage)",
		  test_one_per_cpu_share },
		{ "two CPU-bound processes per CPU: every CPU at least 95% busy (/proc/stat)",
		  test_two_per_cpu_busy },
		{ "two CPU-bound processes per CPU: each gets 40% to 60% of a CPU (wait4 rusage)",
		  test_two_per_cpu_fair },
	};

	if (argc > 1) {
		const char *arg = argv[1];
		verbose = arg[0] == 'v';
		expected_cpus = atoi(arg + verbose);
	}
	/* Under the test /init nothing is mounted yet; elsewhere proc is there already. */
	mkdir("/proc", 0555);
	mount("proc", "/proc", "proc", 0, NULL);
	cpus = (int)sysconf(_SC_NPROCESSORS_ONLN);
	if (cpus < 1 || cpus > MAX_CPUS) {
		printf("Bail out! %d online CPUs\n", cpus);
		return 1;
	}
	if (verbose)
		printf("# %d online CPUs (the machine: %d)\n", cpus, expected_cpus);
	measure(&one_per_cpu, cpus);
	measure(&two_per_cpu, 2 * cpus);
	return run_tests(tests, sizeof(tests) / sizeof(tests[0]));
}
