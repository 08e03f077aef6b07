/*
 * fuzz.c - a system call fuzzer for Cradle, run as PID 1 (`cargo xtask test`, the
 * `fuzz` group; `cargo xtask fuzz` to run it alone).
 *
 * The kernel must survive whatever a process asks of it: a bad pointer, a wild length, an
 * unknown flag or command gets an error, never a panic, and a process that wrecks its own
 * address space dies alone. This program checks that the crude way: it forks children
 * that each make hundreds of system calls with random arguments (from a seeded generator,
 * so a run is repeatable), reaps them (killing any that block for a second), and at the end
 * says the kernel is still there, how many calls the children made, and powers off.
 *
 * Arguments are drawn from values that find bugs: 0, 1, -1, small numbers, random 64-bit
 * numbers, pointers into a writable buffer, into a read-only page, into an inaccessible
 * page, across the end of the buffer into that page, into the kernel's half, and pointers
 * to real paths. The calls are every syscall Cradle implements except those that would
 * end the test rather than exercise the kernel: exit, kill and friends, reboot, mount,
 * execve of real programs, and the console-level syslog actions. Priority and policy
 * changes aim at the calling process only, and the calls that fill memory on request
 * (fallocate, mlock, mlockall(MCL_FUTURE)) are kept small. `futex` gets random
 * arguments too; `clone` and `clone3` get random flags (from the ones threads use), stacks
 * and TID pointers, and a child they make exits at once, before it touches memory.
 *
 * Each child fuzzes from THREADS threads at once (its own and THREADS - 1 more), each with
 * its own seed, so that system calls race with each other on one address space, one file
 * table and one thread group.
 *
 * It refuses to run unless it is PID 1, so running it on a host by mistake does nothing.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/reboot.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define CHILDREN 64
#define THREADS 3
#define CALLS_PER_CHILD 400
#define CHILD_TIME_LIMIT_MS 1000

static __thread uint64_t state;

static uint64_t rnd(void)
{
	/* xorshift64 */
	state ^= state << 13;
	state ^= state >> 7;
	state ^= state << 17;
	return state;
}

static char *buf;      /* one writable page, followed by an inaccessible one */
static char *ro_page;  /* a read-only page */

static const char *const paths[] = {
	"/proc/self/stat", "/proc/self/fd", "/proc/1/status", "/proc/meminfo", "/dev/null",
	"/dev/zero", "/tmp/fuzz-file", "/tmp", "/", "/nonexistent/x", "/proc/self/exe", "",
	"/init", "/proc/self/comm", "/dev/tty",
};

static uint64_t arg(void)
{
	switch (rnd() % 13) {
	case 0: return 0;
	case 1: return 1;
	case 2: return (uint64_t)-1;
	case 3: return rnd() % 64;
	case 4: return rnd();
	case 5: return (uint64_t)(buf + rnd() % 4096);
	case 6: return (uint64_t)(ro_page + rnd() % 4096);
	case 7: return (uint64_t)(buf + 4096 + rnd() % 4096);
	case 8: return 0xffff000000000000ull + (rnd() & 0xffffff);
	case 9: return (uint64_t)(buf + 4096 - 1 - rnd() % 16);
	case 10: return (uint64_t)paths[rnd() % (sizeof(paths) / sizeof(paths[0]))];
	case 11: return rnd() % 4096 + 1;
	default: return 0x7fffffff;
	}
}

/* The syscalls to call (asm-generic numbers), with the ones left out said above. */
static const int calls[] = {
	17 /* getcwd */, 23 /* dup */, 24 /* dup3 */, 25 /* fcntl */, 29 /* ioctl */, 32 /* flock */,
	33 /* mknodat */, 34 /* mkdirat */, 35 /* unlinkat */, 36 /* symlinkat */,
	37 /* linkat */, 38 /* renameat */, 43 /* statfs */, 44 /* fstatfs */,
	45 /* truncate */, 46 /* ftruncate */, 48 /* faccessat */, 49 /* chdir */,
	50 /* fchdir */, 52 /* fchmod */, 53 /* fchmodat */, 56 /* openat */, 57 /* close */,
	59 /* pipe2 */, 61 /* getdents64 */, 62 /* lseek */, 63 /* read */, 64 /* write */,
	65 /* readv */, 66 /* writev */, 67 /* pread64 */, 68 /* pwrite64 */,
	71 /* sendfile */, 72 /* pselect6 */, 73 /* ppoll */, 78 /* readlinkat */,
	79 /* newfstatat */, 80 /* fstat */, 81 /* sync */, 82 /* fsync */, 88 /* utimensat */,
	96 /* set_tid_address */, 101 /* nanosleep */, 102 /* getitimer */,
	103 /* setitimer */, 113 /* clock_gettime */, 114 /* clock_getres */,
	115 /* clock_nanosleep */, 116 /* syslog (safe actions) */, 124 /* sched_yield */,
	132 /* sigaltstack */, 133 /* rt_sigsuspend */, 134 /* rt_sigaction */,
	135 /* rt_sigprocmask */, 136 /* rt_sigpending */, 137 /* rt_sigtimedwait */,
	153 /* times */, 154 /* setpgid */, 155 /* getpgid */, 156 /* getsid */,
	157 /* setsid */, 158 /* getgroups */, 159 /* setgroups */, 160 /* uname */,
	161 /* sethostname */, 163 /* getrlimit */, 165 /* getrusage */, 166 /* umask */,
	167 /* prctl */, 169 /* gettimeofday */, 172 /* getpid */, 173 /* getppid */,
	178 /* gettid */, 179 /* sysinfo */, 214 /* brk */, 215 /* munmap */, 216 /* mremap */,
	221 /* execve (bad pointers only) */, 222 /* mmap */, 226 /* mprotect */, 227 /* msync */,
	233 /* madvise */, 260 /* wait4 */, 261 /* prlimit64 */, 276 /* renameat2 */,
	278 /* getrandom */, 293 /* rseq */, 439 /* faccessat2 */, 999 /* unknown */,
	98 /* futex */, 99 /* set_robust_list */, 100 /* get_robust_list */, 130 /* tkill (0) */,
	131 /* tgkill (0) */, 220 /* clone */, 435 /* clone3 */,
	19 /* eventfd2 */, 20 /* epoll_create1 */, 21 /* epoll_ctl */, 22 /* epoll_pwait */,
	441 /* epoll_pwait2 */, 74 /* signalfd4 */, 85 /* timerfd_create */,
	86 /* timerfd_settime */, 87 /* timerfd_gettime */, 107 /* timer_create (see below) */,
	108 /* timer_gettime */, 109 /* timer_getoverrun */, 110 /* timer_settime */,
	111 /* timer_delete */, 26 /* inotify_init1 */, 27 /* inotify_add_watch */,
	28 /* inotify_rm_watch */,
	30 /* ioprio_set (self) */, 31 /* ioprio_get */, 47 /* fallocate (up to 1 MiB) */,
	51 /* chroot */, 84 /* sync_file_range */, 118 /* sched_setparam (self) */,
	119 /* sched_setscheduler (self) */, 120 /* sched_getscheduler */,
	121 /* sched_getparam */, 127 /* sched_rr_get_interval */, 140 /* setpriority (self) */,
	141 /* getpriority */, 213 /* readahead */, 228 /* mlock (up to 1 MiB) */,
	229 /* munlock */, 230 /* mlockall (not MCL_FUTURE) */, 231 /* munlockall */,
	232 /* mincore */, 267 /* syncfs */, 274 /* sched_setattr (self) */,
	275 /* sched_getattr */, 279 /* memfd_create */, 281 /* execveat (no real program) */,
	283 /* membarrier */, 284 /* mlock2 (up to 1 MiB) */, 286 /* preadv2 */,
	287 /* pwritev2 */, 436 /* close_range (below the counting descriptor) */,
	95 /* waitid */, 138 /* rt_sigqueueinfo (0, SIGURG) */,
	240 /* rt_tgsigqueueinfo (0, SIGURG) */, 424 /* pidfd_send_signal (0, SIGURG) */,
	434 /* pidfd_open */, 438 /* pidfd_getfd */,
	198 /* socket */, 199 /* socketpair */, 200 /* bind */, 201 /* listen */,
	202 /* accept */, 203 /* connect */, 204 /* getsockname */, 205 /* getpeername */,
	206 /* sendto */, 207 /* recvfrom */, 208 /* setsockopt */, 209 /* getsockopt */,
	210 /* shutdown */, 211 /* sendmsg */, 212 /* recvmsg */, 242 /* accept4 */,
	243 /* recvmmsg */, 269 /* sendmmsg */,
};

/* What timer_create gets when not a random pointer: a timer that sends nothing, or SIGURG
 * (ignored by default), so that no timer ends a child by its signal. */
static struct sigevent timer_events[2] = {
	{ .sigev_notify = SIGEV_NONE },
	{ .sigev_notify = SIGEV_SIGNAL, .sigev_signo = SIGURG },
};

/* The flags clone may get: what threads, vfork and posix_spawn use. The exit signal is
 * SIGCHLD or none: any other would kill the fuzzing process when its clone exits (as it
 * would on Linux), ending its run early. */
#define CLONE_FLAG_POOL                                                                      \
	(CLONE_VM | CLONE_FS | CLONE_FILES | CLONE_SIGHAND | CLONE_THREAD | CLONE_SYSVSEM |   \
	 CLONE_SETTLS | CLONE_PARENT_SETTID | CLONE_CHILD_SETTID | CLONE_CHILD_CLEARTID |     \
	 CLONE_VFORK | CLONE_PARENT)

/* clone or clone3 by hand: a child exits (exit, not exit_group) straight from the svc
 * instruction, before it touches the stack it may share with its parent. */
static long clone_and_exit(long nr, uint64_t a0, uint64_t a1, uint64_t a2, uint64_t a3,
			   uint64_t a4)
{
	register uint64_t x0 __asm__("x0") = a0;
	register uint64_t x1 __asm__("x1") = a1;
	register uint64_t x2 __asm__("x2") = a2;
	register uint64_t x3 __asm__("x3") = a3;
	register uint64_t x4 __asm__("x4") = a4;
	register long x8 __asm__("x8") = nr;

	__asm__ volatile("svc #0\n\t"
			 "cbnz x0, 1f\n\t"
			 "mov x0, #0\n\t"
			 "mov x8, #93\n\t" /* exit */
			 "svc #0\n"
			 "1:"
			 : "+r"(x0)
			 : "r"(x1), "r"(x2), "r"(x3), "r"(x4), "r"(x8)
			 : "memory");
	return (long)x0;
}

/* With a list on the command line, only those calls (to narrow a failure down). */
static int only[64], n_only;

/* Each child writes one byte to a pipe at this descriptor before each call, so PID 1 can
 * count the calls even of a child killed in the middle. Random arguments name it only by
 * chance (as a number up to 4096); PID 1 counts at most CALLS_PER_CHILD bytes a child. */
#define COUNT_FD 1023

static void fuzz_calls(uint64_t seed)
{
	state = seed * 0x9e3779b97f4a7c15ull + 1;
	for (int i = 0; i < CALLS_PER_CHILD; i++) {
		long nr = calls[rnd() % (sizeof(calls) / sizeof(calls[0]))];
		if (n_only) {
			nr = only[rnd() % n_only];
		}
		uint64_t a[6];
		for (int j = 0; j < 6; j++)
			a[j] = arg();
		if (nr == 116) {
			/* syslog: only the reading and counting actions (not console off/level). */
			static const int actions[] = { 0, 1, 3, 4, 9, 10, 99, -1 };
			a[0] = actions[rnd() % 8];
		}
		if (nr == 33) {
			/* mknodat: major 0 only, so no node reaches the console (root may make
			 * one and write to it: correct, but it would scribble on the test's log). */
			a[3] &= 0xff;
		}
		if (nr == 221) {
			/* execve: never a real program; a path that is not executable at best. */
			a[0] = (uint64_t)"/proc/self/stat";
		}
		if (nr == 107 && (a[1] == 0 || rnd() % 2)) {
			/* timer_create: NULL would mean SIGALRM, which kills. */
			a[1] = (uint64_t)&timer_events[rnd() % 2];
		}
		if (nr == 130 || nr == 131) {
			/* tkill/tgkill: signal 0 only (a real one could end the test's children
			 * in ways that test nothing new). */
			a[nr == 130 ? 1 : 2] = 0;
		}
		if (nr == 30 || nr == 118 || nr == 119 || nr == 140 || nr == 274) {
			/* Priorities and policies of this process only: PID 1 at nice 19 or
			 * SCHED_IDLE would starve behind its spinning children. */
			if (nr == 30 || nr == 140) {
				a[0] = nr == 30 ? 1 : 0; /* IOPRIO_WHO_PROCESS, PRIO_PROCESS */
				a[1] = 0;
			} else {
				a[0] = 0;
			}
		}
		if (nr == 47)
			a[3] %= 1 << 20; /* fallocate: no memory-filling files */
		if (nr == 228 || nr == 284)
			a[1] %= 1 << 20; /* mlock: no memory-filling populate */
		if (nr == 230)
			a[0] &= ~2ull; /* mlockall: no MCL_FUTURE, which would populate every mmap */
		if (nr == 281) {
			/* execveat: never a real program. */
			a[1] = (uint64_t)"/proc/self/stat";
			a[4] &= ~0x1000ull; /* AT_EMPTY_PATH */
		}
		if (nr == 436 && a[1] >= COUNT_FD)
			a[1] = COUNT_FD - 1; /* close_range: keep the counting pipe */
		if (nr == 25 && rnd() % 2) {
			/* fcntl: half the time a lock command on a low descriptor with a
			 * struct flock of small random values (random bytes are nearly always
			 * EINVAL), so record locks split, merge, block and conflict. */
			static const int cmds[] = { 5, 6, 7, 36, 37, 38 };
			struct flock *fl = (struct flock *)(buf + 64 * (rnd() % 8));
			fl->l_type = rnd() % 4;
			fl->l_whence = rnd() % 4;
			fl->l_start = (long)(rnd() % 64) - 8;
			fl->l_len = (long)(rnd() % 64) - 16;
			fl->l_pid = rnd() % 4 ? 0 : (int)rnd();
			a[0] = rnd() % 8;
			a[1] = cmds[rnd() % 6];
			a[2] = (uint64_t)fl;
		}
		if (nr == 138 || nr == 240 || nr == 424) {
			/* Queued signals: 0 or SIGURG (ignored by default) only, as for tkill. */
			a[nr == 240 ? 2 : 1] = rnd() % 2 ? SIGURG : 0;
		}
		if (write(COUNT_FD, "", 1) != 1) {
			/* The pipe is gone (a random close or dup3): this call is not counted. */
		}
		if (nr == 220) {
			a[0] = (a[0] & CLONE_FLAG_POOL) | (rnd() % 2 ? SIGCHLD : 0);
			if (rnd() % 2)
				a[1] = 0; /* no new stack: the child exits before it would use one */
			clone_and_exit(nr, a[0], a[1], a[2], a[3], a[4]);
			continue;
		}
		if (nr == 435) {
			/* clone3 reads its flags and exit signal from memory: a random pointer
			 * mostly fails; the buffer's bytes ('A's) make a bad struct. */
			clone_and_exit(nr, a[0], a[1] % 128, 0, 0, 0);
			continue;
		}
		syscall(nr, a[0], a[1], a[2], a[3], a[4], a[5]);
	}
}

static void *fuzz_thread(void *seed)
{
	fuzz_calls((uint64_t)(uintptr_t)seed);
	return NULL;
}

/* /dev/null, opened by PID 1 before any child could unlink or replace it. */
static int null_fd = -1;

static int child(uint64_t seed, int count_fd)
{
	if (dup2(count_fd, COUNT_FD) != COUNT_FD)
		return 4;
	close(count_fd);
	/* No console for the children: their writes would scribble on the test's log. */
	if (dup2(null_fd, 0) < 0 || dup2(null_fd, 1) < 0 || dup2(null_fd, 2) < 0)
		return 3;
	close(null_fd);
	buf = mmap(NULL, 8192, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ro_page = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (buf == MAP_FAILED || ro_page == MAP_FAILED)
		return 2;
	memset(buf, 'A', 8192);
	memcpy(ro_page, "/proc/self/stat", 16);
	mprotect(buf + 4096, 4096, PROT_NONE);
	mprotect(ro_page, 4096, PROT_READ);
	pthread_t threads[THREADS - 1];
	for (int t = 0; t < THREADS - 1; t++)
		pthread_create(&threads[t], NULL, fuzz_thread,
			       (void *)(uintptr_t)(seed * 1000003 + t + 1));
	fuzz_calls(seed);
	/* A thread stuck in a call keeps the process alive until PID 1's time limit kills it,
	 * which is a test of group SIGKILL too. */
	for (int t = 0; t < THREADS - 1; t++)
		pthread_join(threads[t], NULL);
	return 0;
}

/* PID 1's memory the children share copy-on-write until they write: it must never change.
 * PID 1 rewrites it before each fork (with that round's pattern), as it does its stdio
 * buffer, so both the first copy-on-write and the reuse of a page no child shares any more
 * are exercised. */
#define CANARY_BYTES (3 * 4096)
static unsigned char canary_data[CANARY_BYTES] = { 1 };
static unsigned char *canary_heap;

static unsigned char pattern(int round, int i, int salt)
{
	return (unsigned char)(i * salt + round * 31 + 1);
}

static void fill_canaries(int round)
{
	if (!canary_heap)
		canary_heap = malloc(CANARY_BYTES);
	for (int i = 0; i < CANARY_BYTES; i++) {
		canary_data[i] = pattern(round, i, 7);
		canary_heap[i] = pattern(round, i, 13);
	}
}

/* 0 if intact, 1 if the data canary changed, 2 if the heap one did. */
static int check_canaries(int round)
{
	for (int i = 0; i < CANARY_BYTES; i++) {
		if (canary_data[i] != pattern(round, i, 7))
			return 1;
		if (canary_heap[i] != pattern(round, i, 13))
			return 2;
	}
	return 0;
}

static void sleep_ms(long ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000 };
	nanosleep(&ts, NULL);
}

int main(int argc, char **argv)
{
	int exited = 0, signalled = 0, timed_out = 0, by_signal[65] = { 0 };
	uint64_t base = argc > 1 ? strtoull(argv[1], NULL, 0) : 1;
	for (char *p = argc > 2 ? argv[2] : NULL; p && *p && n_only < 64;) {
		only[n_only++] = (int)strtol(p, &p, 10);
		if (*p == ',')
			p++;
	}

	if (getpid() != 1) {
		fprintf(stderr, "fuzz: runs only as PID 1 (in a VM of its own)\n");
		return 1;
	}
	mkdir("/proc", 0555);
	mkdir("/tmp", 01777);
	syscall(SYS_mount, "proc", "/proc", "proc", 0, NULL);
	null_fd = open("/dev/null", O_RDWR | O_CLOEXEC);
	if (null_fd < 0) {
		printf("fuzz: cannot open /dev/null: errno %d\n", errno);
		return 1;
	}
	printf("fuzz: %d children, %d random system calls each, seeds %llu..%llu\n", CHILDREN,
	       CALLS_PER_CHILD, (unsigned long long)base, (unsigned long long)(base + CHILDREN - 1));
	fflush(stdout);
	int corrupted = 0;
	unsigned long long calls_made = 0;
	for (int i = 0; i < CHILDREN; i++) {
		fill_canaries(i);
		int count_pipe[2];
		if (pipe2(count_pipe, O_CLOEXEC | O_NONBLOCK) < 0) {
			printf("fuzz: pipe2 failed: errno %d\n", errno);
			break;
		}
		pid_t pid = fork();
		if (pid < 0) {
			printf("fuzz: fork failed: errno %d\n", errno);
			break;
		}
		if (pid == 0) {
			close(count_pipe[0]);
			_exit(child(base + i, count_pipe[1]));
		}
		close(count_pipe[1]);
		int status = 0, waited = 0;
		for (;;) {
			/* Reap orphans too (a child's own children come to PID 1). */
			pid_t done = waitpid(-1, &status, WNOHANG);
			if (done == pid)
				break;
			if (done > 0)
				continue;
			if (waited >= CHILD_TIME_LIMIT_MS) {
				kill(pid, SIGKILL);
				waitpid(pid, &status, 0);
				timed_out++;
				status = -1;
				break;
			}
			sleep_ms(10);
			waited += 10;
		}
		char bytes[512];
		ssize_t got, counted = 0;
		while ((got = read(count_pipe[0], bytes, sizeof(bytes))) > 0)
			counted += got;
		close(count_pipe[0]);
		calls_made += counted < CALLS_PER_CHILD ? counted : CALLS_PER_CHILD;
		int bad = check_canaries(i);
		if (bad && !corrupted) {
			corrupted = 1;
			printf("fuzz: PID 1's %s memory changed after the child with seed %llu\n",
			       bad == 1 ? "data" : "heap", (unsigned long long)(base + i));
			fflush(stdout);
		}
		if (status == -1)
			continue;
		if (WIFEXITED(status)) {
			exited++;
		} else {
			signalled++;
			by_signal[WTERMSIG(status) & 63]++;
		}
	}
	printf("fuzz: %d exited, %d killed by a signal, %d stopped after %d ms\n", exited,
	       signalled, timed_out, CHILD_TIME_LIMIT_MS);
	printf("fuzz: %llu system calls made\n", calls_made);
	printf("fuzz: killed by signal:");
	for (int s = 1; s < 65; s++)
		if (by_signal[s])
			printf(" %d x%d", s, by_signal[s]);
	printf("\n");
	if (!corrupted)
		printf("fuzz: the kernel survived\n");
	fflush(stdout);
	sync();
	syscall(SYS_reboot, LINUX_REBOOT_MAGIC1, LINUX_REBOOT_MAGIC2, LINUX_REBOOT_CMD_POWER_OFF,
		NULL);
	return 0;
}
