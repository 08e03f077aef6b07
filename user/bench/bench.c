/*
 * bench.c - Cradle's benchmark (`cargo xtask bench`), run as /bench by the benchmark's
 * /init (init.c) on Cradle and on Linux, in the same QEMU configuration.
 *
 * Each metric is a per-operation cost: a warm-up (a tenth of the iterations, at least one)
 * that is not timed, then a timed loop, then the elapsed time divided by the number of
 * operations. Time is the virtual counter CNTVCT_EL0 (read at EL0, which needs
 * CNTKCTL_EL1.EL0VCTEN): under QEMU's -icount shift=0 each guest instruction is 1 ns of
 * virtual time and the counter runs at CNTFRQ_EL0 (62.5 MHz on cortex-a72: one tick per
 * 16 instructions), so ticks x 10^9 / CNTFRQ are instruction counts, and they repeat.
 * `cargo xtask bench` does that conversion; this program prints raw ticks, and a
 * calibration line (`per_1000_instructions`) that checks it. With the argument `tcg` (QEMU
 * without -icount) time is CLOCK_MONOTONIC in nanoseconds instead.
 *
 * Output, one line per metric, easy to cut out of a serial transcript:
 *
 *     bench: unit ticks|ns
 *     bench: iters <N or "default">
 *     bench: per_1000_instructions <timer units a 1000-instruction loop took>
 *     bench: <metric> <cost per operation>        e.g. "bench: null_syscall 312.0"
 *     bench: <metric> FAILED <why>                a metric that could not run
 *     bench: done
 *
 * Metrics: null_syscall (syscall(SYS_getpid)); fork_exit (fork + _exit + waitpid);
 * fork_exec (fork + execve of /noop, a freestanding static program that only exits, +
 * waitpid); pipe_pingpong (one byte there and back between two processes: a round trip);
 * mmap_page (mmap 1 MiB anonymous, write one byte in every 4 KiB page, munmap: cost per
 * page); open_read_close (open + read 512 bytes + close of /etc/bench.dat from the
 * initramfs); ctxsw_yield (two processes calling sched_yield in turn: cost per switch);
 * fork_exec_busybox (fork + execve of Debian's static busybox, 2 MB, as `true` + waitpid);
 * fork_exec_glibc (fork + execve of /glibc_true, a 700 KB static glibc program, +
 * waitpid); shell_pipeline (busybox sh running `echo x | sed s/x/y/ | grep -q y` and
 * `i=$(expr $i + 1)`: cost per loop iteration, four short processes); idle_kib (20 ×
 * fork + execve `busybox sleep 1000`, then free memory before minus after, divided by
 * 20: KiB per idle process, not a time; free memory is sysinfo(2)'s, plus on Linux the
 * pages on its per-CPU free lists, which MemFree leaves out);
 * futex_pingpong (two threads of one process passing a turn through a futex word with
 * FUTEX_WAIT/FUTEX_WAKE: a round trip, two waits and two wakes); thread_create_join
 * (pthread_create of a thread that returns at once + pthread_join);
 * fork_exec_dynamic (fork + execve of Debian's dynamically linked /usr/bin/true, which
 * glibc's ld.so loads with libc.so.6, + waitpid); clock_gettime (clock_gettime of
 * CLOCK_MONOTONIC, which glibc answers in the vDSO when the kernel maps one);
 * fork_exit_x4 (4 processes each running fork + _exit + waitpid loops at once: cost per
 * fork of all of them); pipe_pingpong_x2 (2 pipe ping-pong pairs at once, each process
 * pinned to a CPU of its own when there are 4: cost per round trip of both pairs). These
 * two are the -smp 4 column's throughput rows; see fork_workers. `bench: cpus N` says how
 * many CPUs were online, and `parallel_per_1000_instructions` how QEMU's clock counts
 * instructions run on several CPUs at once.
 *
 * Arguments: `tcg` (nanoseconds), `iters=N` (every timed loop runs N iterations; the smoke
 * test uses 1), `only=METRIC` (run one metric, for profiling). Children never print; they
 * report through exit statuses and pipes.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/futex.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysinfo.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static int use_ns;
static long iters_override;
static const char *only;

static uint64_t now(void)
{
	if (use_ns) {
		struct timespec ts;
		clock_gettime(CLOCK_MONOTONIC, &ts);
		return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
	}
	uint64_t v;
	__asm__ volatile("isb\n\tmrs %0, cntvct_el0" : "=r"(v) : : "memory");
	return v;
}

/* Print with one write(2), so that nothing is left in a stdio buffer across fork. */
static void say(const char *fmt, ...)
{
	char buf[256];
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	if (n > (int)sizeof(buf) - 1)
		n = sizeof(buf) - 1;
	if (n > 0 && write(1, buf, n) < 0)
		_exit(2);
}

static long iterations(long deflt)
{
	return iters_override > 0 ? iters_override : deflt;
}

static long warmup(long iters)
{
	return iters / 10 > 0 ? iters / 10 : 1;
}

/* Three decimals: a counter tick is 16 instructions, so one decimal would round the cheap
 * rows (clock_gettime: under 2 ticks) to 1.6 instructions. */
static void report(const char *name, uint64_t elapsed, long ops)
{
	say("bench: %s %.3f\n", name, (double)elapsed / (double)ops);
}

/* A metric's verdict: NULL if it ran, else why not. */
typedef const char *(*metric_fn)(const char *name, long iters);

static char why[160];

static const char *fail(const char *what)
{
	snprintf(why, sizeof(why), "%s: errno=%d (%s)", what, errno, strerror(errno));
	return why;
}

static const char *null_syscall(const char *name, long iters)
{
	long w = warmup(iters);
	for (long i = 0; i < w; i++)
		if (syscall(SYS_getpid) <= 0)
			return fail("getpid");
	uint64_t t0 = now();
	for (long i = 0; i < iters; i++)
		syscall(SYS_getpid);
	uint64_t t1 = now();
	report(name, t1 - t0, iters);
	return NULL;
}

/* fork, the child runs `child` (which must not return), the parent waits: 0 or an error. */
static const char *fork_wait(void (*child)(void))
{
	pid_t pid = fork();
	if (pid < 0)
		return fail("fork");
	if (pid == 0)
		child();
	int status;
	if (waitpid(pid, &status, 0) != pid)
		return fail("waitpid");
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
		snprintf(why, sizeof(why), "child status %#x", status);
		return why;
	}
	return NULL;
}

static void child_exit(void)
{
	_exit(0);
}

static void child_exec(void)
{
	char *const argv[] = { "/noop", NULL };
	char *const envp[] = { NULL };
	execve("/noop", argv, envp);
	_exit(127);
}

static const char *fork_loop(const char *name, long iters, void (*child)(void))
{
	const char *err;
	long w = warmup(iters);
	for (long i = 0; i < w; i++)
		if ((err = fork_wait(child)))
			return err;
	uint64_t t0 = now();
	for (long i = 0; i < iters; i++)
		if ((err = fork_wait(child)))
			return err;
	uint64_t t1 = now();
	report(name, t1 - t0, iters);
	return NULL;
}

static const char *fork_exit(const char *name, long iters)
{
	return fork_loop(name, iters, child_exit);
}

static const char *fork_exec(const char *name, long iters)
{
	return fork_loop(name, iters, child_exec);
}

static void child_exec_dynamic(void)
{
	char *const argv[] = { "/usr/bin/true", NULL };
	char *const envp[] = { NULL };
	execve("/usr/bin/true", argv, envp);
	_exit(127);
}

static const char *fork_exec_dynamic(const char *name, long iters)
{
	return fork_loop(name, iters, child_exec_dynamic);
}

static const char *clock_gettime_loop(const char *name, long iters)
{
	struct timespec ts;
	long w = warmup(iters);
	for (long i = 0; i < w; i++)
		if (clock_gettime(CLOCK_MONOTONIC, &ts) != 0)
			return fail("clock_gettime");
	uint64_t t0 = now();
	for (long i = 0; i < iters; i++)
		clock_gettime(CLOCK_MONOTONIC, &ts);
	uint64_t t1 = now();
	report(name, t1 - t0, iters);
	return NULL;
}

static char *const bench_envp[] = { "PATH=/bin", NULL };

static void child_exec_busybox(void)
{
	char *const argv[] = { "true", NULL };
	execve("/bin/busybox", argv, bench_envp);
	_exit(127);
}

static const char *fork_exec_busybox(const char *name, long iters)
{
	return fork_loop(name, iters, child_exec_busybox);
}

static void child_exec_glibc(void)
{
	char *const argv[] = { "/glibc_true", NULL };
	execve("/glibc_true", argv, bench_envp);
	_exit(127);
}

static const char *fork_exec_glibc(const char *name, long iters)
{
	return fork_loop(name, iters, child_exec_glibc);
}

/* The shell loop: `n` iterations of a three-process pipeline and an expr. */
static long shell_iterations;

static void child_shell(void)
{
	char script[256];
	snprintf(script, sizeof(script),
		 "i=0; while [ $i -lt %ld ]; do echo x | sed s/x/y/ | grep -q y || exit 1; "
		 "i=$(expr $i + 1); done",
		 shell_iterations);
	char *const argv[] = { "sh", "-c", script, NULL };
	execve("/bin/busybox", argv, bench_envp);
	_exit(127);
}

static const char *shell_pipeline(const char *name, long iters)
{
	const char *err;
	shell_iterations = warmup(iters);
	if ((err = fork_wait(child_shell)))
		return err;
	shell_iterations = iters;
	uint64_t t0 = now();
	if ((err = fork_wait(child_shell)))
		return err;
	uint64_t t1 = now();
	report(name, t1 - t0, iters);
	return NULL;
}

/*
 * Pages on Linux's per-CPU free lists, in KiB: free, but not in MemFree (allocations take
 * them and frees refill them without touching the count). The "count:" lines of
 * /proc/zoneinfo's pagesets; 0 where there is no such file (Cradle counts its hot list in
 * MemFree already).
 */
static long pcp_kib(void)
{
	static char buf[16384];
	int fd = open("/proc/zoneinfo", O_RDONLY);
	if (fd < 0)
		return 0;
	long n = 0, got;
	while (n < (long)sizeof(buf) - 1 && (got = read(fd, buf + n, sizeof(buf) - 1 - n)) > 0)
		n += got;
	close(fd);
	buf[n] = '\0';
	long pages = 0;
	for (char *p = buf; (p = strstr(p, "count:")) != NULL; p += 6)
		pages += atol(p + 6);
	return pages * 4;
}

/* Free memory in KiB: MemFree (sysinfo) plus Linux's per-CPU free pages. */
static long free_kib(void)
{
	struct sysinfo si;
	if (sysinfo(&si) != 0)
		return -1;
	return (long)(si.freeram * si.mem_unit / 1024) + pcp_kib();
}

static void settle(void)
{
	struct timespec ts = { 1, 0 };
	nanosleep(&ts, NULL);
}

static const char *idle_kib(const char *name, long iters)
{
	enum { N = 20 };
	pid_t pids[N];
	(void)iters; /* always 20: a memory figure, not a loop */
	settle();
	long before = free_kib();
	for (int i = 0; i < N; i++) {
		pids[i] = fork();
		if (pids[i] < 0)
			return fail("fork");
		if (pids[i] == 0) {
			char *const argv[] = { "sleep", "1000", NULL };
			execve("/bin/busybox", argv, bench_envp);
			_exit(127);
		}
	}
	settle();
	long after = free_kib();
	for (int i = 0; i < N; i++)
		kill(pids[i], SIGKILL);
	for (int i = 0; i < N; i++)
		waitpid(pids[i], NULL, 0);
	if (before < 0 || after < 0)
		return fail("sysinfo");
	say("bench: %s %.1f\n", name, (double)(before - after) / N);
	return NULL;
}

static const char *pipe_pingpong(const char *name, long iters)
{
	int there[2], back[2];
	if (pipe(there) != 0 || pipe(back) != 0)
		return fail("pipe");
	pid_t pid = fork();
	if (pid < 0)
		return fail("fork");
	if (pid == 0) {
		char c;
		close(there[1]);
		close(back[0]);
		while (read(there[0], &c, 1) == 1)
			if (write(back[1], &c, 1) != 1)
				_exit(1);
		_exit(0);
	}
	close(there[0]);
	close(back[1]);
	const char *err = NULL;
	long w = warmup(iters);
	uint64_t t0 = 0;
	for (long i = 0; i < w + iters && !err; i++) {
		char c = (char)i;
		if (i == w)
			t0 = now();
		if (write(there[1], &c, 1) != 1)
			err = fail("write");
		else if (read(back[0], &c, 1) != 1 || c != (char)i)
			err = fail("read back");
	}
	uint64_t t1 = now();
	close(there[1]);
	int status;
	if (waitpid(pid, &status, 0) != pid && !err)
		err = fail("waitpid");
	close(back[0]);
	if (!err)
		report(name, t1 - t0, iters);
	return err;
}

/*
 * The parallel rows: WORKERS processes (or PAIRS pairs) at once, for the -smp 4 column. The
 * cost is the elapsed time divided by all the operations of all of them, so on one CPU it
 * is the serial cost plus switching, and on N CPUs it shows what running them side by side
 * costs: under -icount, where QEMU runs the vCPUs in turn and virtual time advances with
 * the instructions of every vCPU, it is the instructions of all CPUs together per operation
 * (see calibrate_parallel); without -icount, ns of wall time per operation, the inverse of
 * the throughput.
 */
#define WORKERS 4
#define PAIRS 2

/* Pin the caller to `cpu` when the machine has enough CPUs for one each; else leave it. */
static void pin_to(int cpu, int needed)
{
	if (sysconf(_SC_NPROCESSORS_ONLN) < needed)
		return;
	cpu_set_t set;
	CPU_ZERO(&set);
	CPU_SET(cpu, &set);
	sched_setaffinity(0, sizeof(set), &set);
}

/* Fork WORKERS children that each run `work(iters)` (which exits with its verdict). */
static const char *fork_workers(long iters, void (*work)(int worker, long iters))
{
	pid_t pids[WORKERS];
	const char *err = NULL;
	for (int k = 0; k < WORKERS; k++) {
		pids[k] = fork();
		if (pids[k] < 0)
			return fail("fork");
		if (pids[k] == 0)
			work(k, iters);
	}
	for (int k = 0; k < WORKERS; k++) {
		int status;
		if (waitpid(pids[k], &status, 0) != pids[k])
			err = fail("waitpid");
		else if (!err && (!WIFEXITED(status) || WEXITSTATUS(status) != 0)) {
			snprintf(why, sizeof(why), "worker status %#x", status);
			err = why;
		}
	}
	return err;
}

static void fork_exit_worker(int worker, long iters)
{
	(void)worker;
	for (long i = 0; i < iters; i++)
		if (fork_wait(child_exit))
			_exit(1);
	_exit(0);
}

static const char *fork_exit_x4(const char *name, long iters)
{
	const char *err;
	if ((err = fork_workers(warmup(iters), fork_exit_worker)))
		return err;
	uint64_t t0 = now();
	if ((err = fork_workers(iters, fork_exit_worker)))
		return err;
	uint64_t t1 = now();
	report(name, t1 - t0, WORKERS * iters);
	return NULL;
}

/* Pair `worker / 2`: the even worker sends, the odd one echoes; each on a CPU of its own. */
static int pair_pipes[PAIRS][2][2];

static void pingpong_worker(int worker, long iters)
{
	int (*p)[2] = pair_pipes[worker / 2];
	char c = 0;
	pin_to(worker, WORKERS);
	if (worker % 2 == 0) {
		for (long i = 0; i < iters; i++)
			if (write(p[0][1], &c, 1) != 1 || read(p[1][0], &c, 1) != 1)
				_exit(1);
	} else {
		for (long i = 0; i < iters; i++)
			if (read(p[0][0], &c, 1) != 1 || write(p[1][1], &c, 1) != 1)
				_exit(1);
	}
	_exit(0);
}

static const char *pipe_pingpong_x2(const char *name, long iters)
{
	for (int k = 0; k < PAIRS; k++)
		if (pipe(pair_pipes[k][0]) != 0 || pipe(pair_pipes[k][1]) != 0)
			return fail("pipe");
	const char *err = fork_workers(warmup(iters), pingpong_worker);
	uint64_t t0 = now();
	if (!err)
		err = fork_workers(iters, pingpong_worker);
	uint64_t t1 = now();
	for (int k = 0; k < PAIRS; k++)
		for (int j = 0; j < 2; j++) {
			close(pair_pipes[k][j][0]);
			close(pair_pipes[k][j][1]);
		}
	if (!err)
		report(name, t1 - t0, PAIRS * iters);
	return err;
}

#define MAP_BYTES (1 << 20)
#define PAGE 4096

static const char *mmap_touch_unmap(void)
{
	char *p = mmap(NULL, MAP_BYTES, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED)
		return fail("mmap");
	for (long off = 0; off < MAP_BYTES; off += PAGE)
		((volatile char *)p)[off] = 1;
	if (munmap(p, MAP_BYTES) != 0)
		return fail("munmap");
	return NULL;
}

static const char *mmap_page(const char *name, long iters)
{
	const char *err;
	long w = warmup(iters);
	for (long i = 0; i < w; i++)
		if ((err = mmap_touch_unmap()))
			return err;
	uint64_t t0 = now();
	for (long i = 0; i < iters; i++)
		if ((err = mmap_touch_unmap()))
			return err;
	uint64_t t1 = now();
	report(name, t1 - t0, iters * (MAP_BYTES / PAGE));
	return NULL;
}

#define DATA_FILE "/etc/bench.dat"

static const char *open_read_close_once(void)
{
	static char buf[512];
	int fd = open(DATA_FILE, O_RDONLY);
	if (fd < 0)
		return fail("open " DATA_FILE);
	ssize_t n = read(fd, buf, sizeof(buf));
	if (n != (ssize_t)sizeof(buf)) {
		close(fd);
		snprintf(why, sizeof(why), "read returned %zd (errno=%d)", n, errno);
		return why;
	}
	if (close(fd) != 0)
		return fail("close");
	return NULL;
}

static const char *open_read_close(const char *name, long iters)
{
	const char *err;
	long w = warmup(iters);
	for (long i = 0; i < w; i++)
		if ((err = open_read_close_once()))
			return err;
	uint64_t t0 = now();
	for (long i = 0; i < iters; i++)
		if ((err = open_read_close_once()))
			return err;
	uint64_t t1 = now();
	report(name, t1 - t0, iters);
	return NULL;
}

static const char *ctxsw_yield(const char *name, long iters)
{
	int ready[2];
	long w = warmup(iters);
	if (pipe(ready) != 0)
		return fail("pipe");
	pid_t pid = fork();
	if (pid < 0)
		return fail("fork");
	if (pid == 0) {
		close(ready[0]);
		if (write(ready[1], "r", 1) != 1)
			_exit(1);
		for (long i = 0; i < w + iters; i++)
			sched_yield();
		_exit(0);
	}
	close(ready[1]);
	char c;
	if (read(ready[0], &c, 1) != 1)
		return fail("read ready");
	close(ready[0]);
	for (long i = 0; i < w; i++)
		sched_yield();
	uint64_t t0 = now();
	for (long i = 0; i < iters; i++)
		sched_yield();
	uint64_t t1 = now();
	int status;
	if (waitpid(pid, &status, 0) != pid)
		return fail("waitpid");
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
		snprintf(why, sizeof(why), "child status %#x", status);
		return why;
	}
	/* Both processes yield `iters` times in turn: 2 × iters switches. */
	report(name, t1 - t0, 2 * iters);
	return NULL;
}

/* The futex ping-pong: the word says whose turn it is (0: the main thread's, 1: the
 * partner's); each side waits while it is not its turn, then hands the turn over and wakes
 * the other. */
static volatile int turn;
static long pingpong_rounds;

static void futex_wait_while(volatile int *word, int val)
{
	while (__atomic_load_n(word, __ATOMIC_ACQUIRE) == val)
		syscall(SYS_futex, word, FUTEX_WAIT_PRIVATE, val, NULL, NULL, 0);
}

static void futex_hand_over(volatile int *word, int val)
{
	__atomic_store_n(word, val, __ATOMIC_RELEASE);
	syscall(SYS_futex, word, FUTEX_WAKE_PRIVATE, 1, NULL, NULL, 0);
}

static void *pingpong_partner(void *arg)
{
	(void)arg;
	for (long i = 0; i < pingpong_rounds; i++) {
		futex_wait_while(&turn, 0);
		futex_hand_over(&turn, 0);
	}
	return NULL;
}

static const char *futex_pingpong(const char *name, long iters)
{
	long w = warmup(iters);
	pthread_t t;

	turn = 0;
	pingpong_rounds = w + iters;
	if (pthread_create(&t, NULL, pingpong_partner, NULL) != 0)
		return fail("pthread_create");
	for (long i = 0; i < w; i++) {
		futex_hand_over(&turn, 1);
		futex_wait_while(&turn, 1);
	}
	uint64_t t0 = now();
	for (long i = 0; i < iters; i++) {
		futex_hand_over(&turn, 1);
		futex_wait_while(&turn, 1);
	}
	uint64_t t1 = now();
	if (pthread_join(t, NULL) != 0)
		return fail("pthread_join");
	report(name, t1 - t0, iters);
	return NULL;
}

static void *return_at_once(void *arg)
{
	return arg;
}

static const char *thread_create_join_once(void)
{
	pthread_t t;
	void *ret;

	if (pthread_create(&t, NULL, return_at_once, (void *)1) != 0)
		return fail("pthread_create");
	if (pthread_join(t, &ret) != 0 || ret != (void *)1)
		return fail("pthread_join");
	return NULL;
}

static const char *thread_create_join(const char *name, long iters)
{
	const char *err;
	long w = warmup(iters);

	for (long i = 0; i < w; i++)
		if ((err = thread_create_join_once()))
			return err;
	uint64_t t0 = now();
	for (long i = 0; i < iters; i++)
		if ((err = thread_create_join_once()))
			return err;
	uint64_t t1 = now();
	report(name, t1 - t0, iters);
	return NULL;
}

static const struct {
	const char *name;
	metric_fn run;
	long iters;
} metrics[] = {
	{ "null_syscall", null_syscall, 20000 },
	{ "fork_exit", fork_exit, 200 },
	{ "fork_exec", fork_exec, 200 },
	{ "pipe_pingpong", pipe_pingpong, 2000 },
	{ "mmap_page", mmap_page, 40 },
	{ "open_read_close", open_read_close, 2000 },
	{ "ctxsw_yield", ctxsw_yield, 2000 },
	{ "fork_exec_busybox", fork_exec_busybox, 100 },
	{ "fork_exec_glibc", fork_exec_glibc, 100 },
	{ "shell_pipeline", shell_pipeline, 200 },
	{ "idle_kib", idle_kib, 1 },
	{ "futex_pingpong", futex_pingpong, 2000 },
	{ "thread_create_join", thread_create_join, 500 },
	{ "fork_exec_dynamic", fork_exec_dynamic, 50 },
	{ "clock_gettime", clock_gettime_loop, 20000 },
	{ "fork_exit_x4", fork_exit_x4, 100 },
	{ "pipe_pingpong_x2", pipe_pingpong_x2, 1000 },
};

/*
 * How many timer units 1000 instructions take: a loop of two instructions (subs, b.ne),
 * run a million times. Under -icount shift=0 each instruction is 1 ns of virtual time.
 */
static void calibrate(void)
{
	uint64_t n = 1000000;
	uint64_t t0 = now();
	__asm__ volatile("1:\n\tsubs %0, %0, #1\n\tb.ne 1b" : "+r"(n) : : "cc");
	uint64_t t1 = now();
	say("bench: per_1000_instructions %.1f\n", (double)(t1 - t0) * 1000.0 / 2000000.0);
}

/*
 * The same loop in WORKERS processes at once, timed from the first fork to the last
 * wait: timer units per 1000 instructions of all of them together. Under -icount on one
 * CPU this is per_1000_instructions plus the forks; on N CPUs it says how QEMU's virtual
 * time counts instructions run side by side (the same figure: the vCPUs' instructions add
 * up; a quarter of it: each vCPU has a clock of its own).
 */
static void calibrate_parallel(void)
{
	uint64_t t0 = now();
	pid_t pids[WORKERS];
	for (int k = 0; k < WORKERS; k++) {
		pids[k] = fork();
		if (pids[k] == 0) {
			uint64_t n = 1000000;
			pin_to(k, WORKERS);
			__asm__ volatile("1:\n\tsubs %0, %0, #1\n\tb.ne 1b" : "+r"(n) : : "cc");
			_exit(0);
		}
	}
	for (int k = 0; k < WORKERS; k++)
		if (pids[k] > 0)
			waitpid(pids[k], NULL, 0);
	uint64_t t1 = now();
	say("bench: parallel_per_1000_instructions %.1f\n",
	    (double)(t1 - t0) * 1000.0 / (WORKERS * 2000000.0));
}

int main(int argc, char *argv[])
{
	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "tcg") == 0)
			use_ns = 1;
		else if (strncmp(argv[i], "iters=", 6) == 0)
			iters_override = atol(argv[i] + 6);
		else if (strncmp(argv[i], "only=", 5) == 0)
			only = argv[i] + 5;
		else
			say("bench: ignoring argument %s\n", argv[i]);
	}
	/* busybox's applets and sh want /proc (a shell's $(...) and /proc/self/exe). */
	mkdir("/proc", 0555);
	mount("proc", "/proc", "proc", 0, NULL);
	say("bench: unit %s\n", use_ns ? "ns" : "ticks");
	if (iters_override > 0)
		say("bench: iters %ld\n", iters_override);
	else
		say("bench: iters default\n");
	calibrate();
	calibrate_parallel();
	say("bench: cpus %ld\n", sysconf(_SC_NPROCESSORS_ONLN));
	int failed = 0;
	for (size_t i = 0; i < sizeof(metrics) / sizeof(metrics[0]); i++) {
		if (only && strcmp(only, metrics[i].name) != 0)
			continue;
		const char *err = metrics[i].run(metrics[i].name, iterations(metrics[i].iters));
		if (err) {
			say("bench: %s FAILED %s\n", metrics[i].name, err);
			failed = 1;
		}
	}
	say("bench: done\n");
	return failed;
}
