/*
 * sigtest.c - signal delivery: handlers and their frames, masks, restarts, default
 * actions, job-control stops, SIGCHLD and SIGPIPE.
 *
 * Every test leaves the signal state as it found it (handlers back to SIG_DFL, nothing
 * blocked), so children start alike on Linux and on Cradle. Where a test needs the parent
 * to be asleep in a system call before a child signals it, the child waits until
 * /proc/<ppid>/stat says 'S' and then a little longer.
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <ucontext.h>
#include <unistd.h>

#include "tap.h"

static volatile sig_atomic_t got_signo;
static volatile sig_atomic_t got_count;
static volatile int got_code;
static volatile pid_t got_pid;
static volatile int got_status;
static volatile int got_self_blocked;
static volatile int got_uc_mask_has_sig;
static volatile uint64_t got_x8;
static volatile uint64_t got_x0;
static volatile char order[8];
static volatile int order_len;

static void reset_globals(void)
{
	got_signo = 0;
	got_count = 0;
	got_code = -1;
	got_pid = 0;
	got_status = -1;
	got_self_blocked = 0;
	got_uc_mask_has_sig = -1;
	got_x8 = 0;
	got_x0 = 1;
	order_len = 0;
}

static int set_action(int sig, void (*fn)(int, siginfo_t *, void *), int flags, const sigset_t *mask)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_sigaction = fn;
	sa.sa_flags = flags | SA_SIGINFO;
	if (mask)
		sa.sa_mask = *mask;
	else
		sigemptyset(&sa.sa_mask);
	return sigaction(sig, &sa, NULL);
}

static void set_default(int sig)
{
	signal(sig, SIG_DFL);
}

static void info_handler(int sig, siginfo_t *info, void *ucv)
{
	ucontext_t *uc = ucv;
	sigset_t now;

	got_signo = sig;
	got_count++;
	got_code = info->si_code;
	got_pid = info->si_pid;
	got_status = info->si_status;
	sigprocmask(SIG_BLOCK, NULL, &now);
	got_self_blocked = sigismember(&now, sig);
	if (uc) {
		got_uc_mask_has_sig = sigismember(&uc->uc_sigmask, sig);
		got_x8 = uc->uc_mcontext.regs[8];
		got_x0 = uc->uc_mcontext.regs[0];
	}
}

/* kill(getpid()) runs an SA_SIGINFO handler with the right signo, siginfo and ucontext. */
static int test_kill_self(void)
{
	reset_globals();
	if (set_action(SIGUSR1, info_handler, 0, NULL) != 0)
		return fail("sigaction: errno=%d (%s)", errno, errno_name(errno));
	if (kill(getpid(), SIGUSR1) != 0)
		return fail("kill: errno=%d (%s)", errno, errno_name(errno));
	set_default(SIGUSR1);
	if (got_count != 1 || got_signo != SIGUSR1)
		return fail("handler ran %d times, signo %d", got_count, got_signo);
	if (got_code != SI_USER || got_pid != getpid())
		return fail("si_code %d, si_pid is %s", got_code, got_pid == getpid() ? "ours" : "not ours");
	if (!got_self_blocked)
		return fail("the signal was not blocked inside its handler");
	if (got_uc_mask_has_sig != 0)
		return fail("uc_sigmask says the signal was blocked before");
	if (got_x8 != SYS_kill || got_x0 != 0)
		return fail("uc_mcontext x8=%llu x0=%llu, expected the kill syscall returning 0",
			    (unsigned long long)got_x8, (unsigned long long)got_x0);
	return 1;
}

/* raise(SIGTERM) with a handler installed: the handler runs (si_code SI_TKILL). */
static int test_raise_term(void)
{
	reset_globals();
	set_action(SIGTERM, info_handler, 0, NULL);
	int r = raise(SIGTERM);
	set_default(SIGTERM);
	if (r != 0)
		return fail("raise returned %d", r);
	if (got_count != 1 || got_signo != SIGTERM || got_code != SI_TKILL)
		return fail("handler ran %d times, signo %d, si_code %d", got_count, got_signo, got_code);
	return 1;
}

static void order_handler(int sig, siginfo_t *info, void *uc)
{
	(void)info;
	(void)uc;
	if (order_len < (int)sizeof(order))
		order[order_len++] = sig == SIGUSR1 ? '1' : '2';
	if (sig == SIGUSR1) {
		raise(SIGUSR2); /* blocked by sa_mask: runs after this handler returns */
		if (order_len < (int)sizeof(order))
			order[order_len++] = 'e';
	}
}

/* sa_mask blocks SIGUSR2 while the SIGUSR1 handler runs. */
static int test_sa_mask(void)
{
	sigset_t mask;

	reset_globals();
	sigemptyset(&mask);
	sigaddset(&mask, SIGUSR2);
	set_action(SIGUSR1, order_handler, 0, &mask);
	set_action(SIGUSR2, order_handler, 0, NULL);
	raise(SIGUSR1);
	set_default(SIGUSR1);
	set_default(SIGUSR2);
	if (order_len != 3 || order[0] != '1' || order[1] != 'e' || order[2] != '2')
		return fail("handlers ran in order '%.*s', expected '1e2'", order_len, (const char *)order);
	return 1;
}

/* SA_RESETHAND: the action is back to SIG_DFL once the handler has been entered. */
static int test_resethand(void)
{
	struct sigaction old;

	reset_globals();
	set_action(SIGUSR1, info_handler, SA_RESETHAND, NULL);
	raise(SIGUSR1);
	sigaction(SIGUSR1, NULL, &old);
	set_default(SIGUSR1);
	if (got_count != 1)
		return fail("handler ran %d times", got_count);
	if (old.sa_handler != SIG_DFL)
		return fail("the action was not reset to SIG_DFL");
	return 1;
}

/* A blocked signal stays pending (sigpending) and is delivered once unblocked. */
static int test_block_pending(void)
{
	sigset_t block, pending;

	reset_globals();
	set_action(SIGUSR1, info_handler, 0, NULL);
	sigemptyset(&block);
	sigaddset(&block, SIGUSR1);
	sigprocmask(SIG_BLOCK, &block, NULL);
	kill(getpid(), SIGUSR1);
	kill(getpid(), SIGUSR1); /* a standard signal is not queued twice */
	int ran_while_blocked = got_count;
	sigpending(&pending);
	int was_pending = sigismember(&pending, SIGUSR1);
	sigprocmask(SIG_UNBLOCK, &block, NULL);
	set_default(SIGUSR1);
	if (ran_while_blocked)
		return fail("the handler ran while the signal was blocked");
	if (!was_pending)
		return fail("sigpending does not show the blocked signal");
	if (got_count != 1)
		return fail("handler ran %d times after unblocking", got_count);
	return 1;
}

/* rt_sigsuspend: waits with a temporary mask, returns EINTR, and restores the mask. */
static int test_sigsuspend(void)
{
	sigset_t block, empty, after;

	reset_globals();
	set_action(SIGUSR1, info_handler, 0, NULL);
	sigemptyset(&block);
	sigaddset(&block, SIGUSR1);
	sigprocmask(SIG_BLOCK, &block, NULL);
	raise(SIGUSR1);
	sigemptyset(&empty);
	int r = sigsuspend(&empty);
	int err = errno;
	int in_handler_uc_mask = got_uc_mask_has_sig;
	sigprocmask(SIG_BLOCK, NULL, &after);
	int still_blocked = sigismember(&after, SIGUSR1);
	sigprocmask(SIG_UNBLOCK, &block, NULL);
	set_default(SIGUSR1);
	if (r != -1 || err != EINTR)
		return fail("sigsuspend returned %d, errno=%d (%s)", r, err, errno_name(err));
	if (got_count != 1)
		return fail("handler ran %d times", got_count);
	if (in_handler_uc_mask != 1)
		return fail("the frame does not record the caller's mask");
	if (!still_blocked)
		return fail("the caller's mask was not restored");
	return 1;
}

/* rt_sigtimedwait takes a blocked pending signal without running its handler. */
static int test_sigtimedwait(void)
{
	sigset_t set;
	siginfo_t info;
	struct timespec zero = { 0, 0 };

	reset_globals();
	set_action(SIGUSR2, info_handler, 0, NULL);
	sigemptyset(&set);
	sigaddset(&set, SIGUSR2);
	sigprocmask(SIG_BLOCK, &set, NULL);
	raise(SIGUSR2);
	int r = sigtimedwait(&set, &info, &zero);
	int r2 = sigtimedwait(&set, &info, &zero);
	int err2 = errno;
	sigprocmask(SIG_UNBLOCK, &set, NULL);
	set_default(SIGUSR2);
	if (r != SIGUSR2 || info.si_signo != SIGUSR2)
		return fail("sigtimedwait returned %d (si_signo %d)", r, info.si_signo);
	if (got_count != 0)
		return fail("the handler ran");
	if (r2 != -1 || err2 != EAGAIN)
		return fail("second sigtimedwait returned %d, errno=%d (%s)", r2, err2, errno_name(err2));
	return 1;
}

/* Child side: wait until `pid` sleeps (state S in /proc/<pid>/stat), then a bit more. */
static void wait_until_sleeping(pid_t pid)
{
	char path[64], buf[256];

	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	for (int i = 0; i < 2000; i++) {
		int fd = open(path, O_RDONLY);
		if (fd < 0)
			break;
		ssize_t n = read(fd, buf, sizeof(buf) - 1);
		close(fd);
		if (n > 0) {
			buf[n] = '\0';
			char *p = strrchr(buf, ')');
			if (p && p[1] == ' ' && p[2] == 'S')
				break;
		}
		usleep(1000);
	}
	usleep(50000);
}

static void plain_handler(int sig)
{
	got_signo = sig;
	got_count++;
}

/*
 * The parent blocks in read() on a pipe; a child sends SIGUSR1, then writes a byte.
 * With SA_RESTART the read is restarted and returns the byte; without, it fails with EINTR.
 */
static int read_interrupted(int restart, ssize_t *result, int *err)
{
	int fds[2];
	char c = 0;
	struct sigaction sa;

	reset_globals();
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = plain_handler;
	sa.sa_flags = restart ? SA_RESTART : 0;
	sigemptyset(&sa.sa_mask);
	if (pipe(fds) != 0)
		return fail("pipe: errno=%d (%s)", errno, errno_name(errno));
	pid_t parent = getpid();
	pid_t pid = fork();
	if (pid == 0) {
		close(fds[0]);
		wait_until_sleeping(parent);
		kill(parent, SIGUSR1);
		wait_until_sleeping(parent);
		if (write(fds[1], "x", 1) != 1)
			_exit(1);
		_exit(0);
	}
	sigaction(SIGUSR1, &sa, NULL);
	close(fds[1]);
	*result = read(fds[0], &c, 1);
	*err = errno;
	int status;
	waitpid(pid, &status, 0);
	close(fds[0]);
	set_default(SIGUSR1);
	if (got_count != 1)
		return fail("handler ran %d times", got_count);
	if (*result == 1 && c != 'x')
		return fail("read the wrong byte");
	return 1;
}

static int test_read_restart(void)
{
	ssize_t r;
	int err;

	if (!read_interrupted(1, &r, &err))
		return 0;
	if (r != 1)
		return fail("read returned %zd, errno=%d (%s)", r, err, errno_name(err));
	return 1;
}

static int test_read_eintr(void)
{
	ssize_t r;
	int err;

	if (!read_interrupted(0, &r, &err))
		return 0;
	if (r != -1 || err != EINTR)
		return fail("read returned %zd, errno=%d (%s)", r, err, errno_name(err));
	return 1;
}

/* A child sleeping in read() is killed by SIGTERM's default action. */
static int test_child_sigterm(void)
{
	int fds[2], status;
	char c;

	if (pipe(fds) != 0)
		return fail("pipe: errno=%d (%s)", errno, errno_name(errno));
	pid_t pid = fork();
	if (pid == 0) {
		close(fds[1]);
		if (read(fds[0], &c, 1) < 0)
			_exit(2);
		_exit(1);
	}
	close(fds[0]);
	kill(pid, SIGTERM);
	pid_t w = waitpid(pid, &status, 0);
	close(fds[1]);
	if (w != pid)
		return fail("waitpid: errno=%d (%s)", errno, errno_name(errno));
	if (!WIFSIGNALED(status) || WTERMSIG(status) != SIGTERM)
		return fail("status %#x", status);
	return 1;
}

/* SIGSTOP stops a child (WUNTRACED), SIGCONT resumes it (WCONTINUED); its read restarts. */
static int test_stop_cont(void)
{
	int fds[2], status;
	char c;

	if (pipe(fds) != 0)
		return fail("pipe: errno=%d (%s)", errno, errno_name(errno));
	pid_t pid = fork();
	if (pid == 0) {
		close(fds[1]);
		ssize_t n = read(fds[0], &c, 1);
		_exit(n == 1 && c == 'y' ? 7 : 1);
	}
	close(fds[0]);
	kill(pid, SIGSTOP);
	pid_t w = waitpid(pid, &status, WUNTRACED);
	if (w != pid || !WIFSTOPPED(status) || WSTOPSIG(status) != SIGSTOP) {
		kill(pid, SIGKILL);
		waitpid(pid, &status, 0);
		return fail("after SIGSTOP: waitpid %s, status %#x", w == pid ? "ok" : "failed", status);
	}
	if (waitpid(pid, &status, WNOHANG | WUNTRACED) != 0) {
		kill(pid, SIGKILL);
		waitpid(pid, &status, 0);
		return fail("the stop was reported twice");
	}
	kill(pid, SIGCONT);
	w = waitpid(pid, &status, WCONTINUED);
	if (w != pid || !WIFCONTINUED(status)) {
		kill(pid, SIGKILL);
		waitpid(pid, &status, 0);
		return fail("after SIGCONT: status %#x", status);
	}
	if (write(fds[1], "y", 1) != 1)
		return fail("write: errno=%d (%s)", errno, errno_name(errno));
	w = waitpid(pid, &status, 0);
	close(fds[1]);
	if (w != pid || !WIFEXITED(status) || WEXITSTATUS(status) != 7)
		return fail("the child ended with status %#x", status);
	return 1;
}

/* SIGCHLD's handler runs when a child exits, with CLD_EXITED, its pid and status. */
static int test_sigchld(void)
{
	int status;

	reset_globals();
	set_action(SIGCHLD, info_handler, 0, NULL);
	pid_t pid = fork();
	if (pid == 0)
		_exit(3);
	pid_t w = waitpid(pid, &status, 0);
	for (int i = 0; i < 100 && got_count == 0; i++)
		usleep(10000);
	set_default(SIGCHLD);
	if (w != pid || !WIFEXITED(status) || WEXITSTATUS(status) != 3)
		return fail("waitpid status %#x", status);
	if (got_count != 1 || got_signo != SIGCHLD)
		return fail("handler ran %d times", got_count);
	if (got_code != CLD_EXITED || got_pid != pid || got_status != 3)
		return fail("si_code %d, si_status %d, si_pid %s", got_code, got_status,
			    got_pid == pid ? "the child's" : "wrong");
	return 1;
}

/* SIGCHLD set to SIG_IGN: children reap themselves, and wait finds none (ECHILD). */
static int test_sigchld_ignored(void)
{
	int status;

	signal(SIGCHLD, SIG_IGN);
	pid_t pid = fork();
	if (pid == 0)
		_exit(0);
	pid_t w = waitpid(pid, &status, 0);
	int err = errno;
	set_default(SIGCHLD);
	if (w != -1 || err != ECHILD)
		return fail("waitpid returned %s, errno=%d (%s)", w == pid ? "the child" : "?", err,
			    errno_name(err));
	return 1;
}

static char altstack[65536] __attribute__((aligned(16)));
static volatile int on_alt;
static volatile int alt_flags;

static void alt_handler(int sig)
{
	char here;
	stack_t now;

	(void)sig;
	on_alt = &here >= altstack && &here < altstack + sizeof(altstack);
	sigaltstack(NULL, &now);
	alt_flags = now.ss_flags;
}

/* SA_ONSTACK runs the handler on the sigaltstack, and sigaltstack reports SS_ONSTACK. */
static int test_sigaltstack(void)
{
	stack_t ss = { .ss_sp = altstack, .ss_size = sizeof(altstack), .ss_flags = 0 };
	stack_t old, after;
	struct sigaction sa;

	on_alt = 0;
	alt_flags = -1;
	if (sigaltstack(&ss, &old) != 0)
		return fail("sigaltstack: errno=%d (%s)", errno, errno_name(errno));
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = alt_handler;
	sa.sa_flags = SA_ONSTACK;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGUSR1, &sa, NULL);
	raise(SIGUSR1);
	set_default(SIGUSR1);
	sigaltstack(NULL, &after);
	ss.ss_flags = SS_DISABLE;
	sigaltstack(&ss, NULL);
	if (!(old.ss_flags & SS_DISABLE))
		return fail("an alternate stack was already set");
	if (!on_alt)
		return fail("the handler did not run on the alternate stack");
	if (alt_flags != SS_ONSTACK)
		return fail("ss_flags in the handler %d", alt_flags);
	if (after.ss_flags != 0 || after.ss_sp != altstack || after.ss_size != sizeof(altstack))
		return fail("after the handler: ss_flags %d", after.ss_flags);
	return 1;
}

static void fp_clobber_handler(int sig)
{
	volatile double d = 2.0;

	(void)sig;
	for (int i = 0; i < 4; i++)
		d = d * 3.5 + 1.0;
	__asm__ volatile("movi v16.16b, #0xa5\n\t"
			 "movi v8.16b, #0x5a\n\t"
			 "movi v0.16b, #0x33\n\t"
			 "msr fpsr, xzr" ::: "v0", "v8", "v16");
}

/* FP/SIMD registers (all 128 bits, caller-saved ones too) survive a handler that clobbers them. */
static int test_fp_preserved(void)
{
	static const uint64_t pattern[2] = { 0x0123456789abcdefULL, 0xfedcba9876543210ULL };
	uint64_t v16[2], v8[2];
	volatile double kept = 3.25;

	pid_t self = getpid();

	signal(SIGUSR1, fp_clobber_handler);
	register long x0 __asm__("x0") = self;
	register long x1 __asm__("x1") = SIGUSR1;
	register long x8 __asm__("x8") = SYS_kill;
	__asm__ volatile("ldr q16, [%[p]]\n\t"
			 "ldr q8, [%[p]]\n\t"
			 "svc #0\n\t"
			 "str q16, [%[o16]]\n\t"
			 "str q8, [%[o8]]"
			 : "+r"(x0)
			 : "r"(x1), "r"(x8), [p] "r"(pattern), [o16] "r"(v16), [o8] "r"(v8)
			 : "v8", "v16", "memory");
	long ret = x0;

	set_default(SIGUSR1);
	if (ret != 0)
		return fail("kill returned %ld", ret);
	if (memcmp(v16, pattern, 16) != 0)
		return fail("v16 changed: %016llx%016llx", (unsigned long long)v16[1],
			    (unsigned long long)v16[0]);
	if (memcmp(v8, pattern, 16) != 0)
		return fail("v8 changed");
	if (kept * 2 != 6.5)
		return fail("a double in main changed");
	return 1;
}

static void corrupt_frame_handler(int sig, siginfo_t *info, void *ucv)
{
	ucontext_t *uc = ucv;
	struct _aarch64_ctx *head = (struct _aarch64_ctx *)uc->uc_mcontext.__reserved;

	(void)sig;
	(void)info;
	head->magic = 0x0badf00d; /* the FPSIMD record becomes one nobody knows */
}

/* rt_sigreturn refuses a frame with an unknown record: the task dies of SIGSEGV. */
static int test_bad_frame(void)
{
	int status;
	pid_t pid = fork();

	if (pid == 0) {
		set_action(SIGUSR1, corrupt_frame_handler, 0, NULL);
		raise(SIGUSR1);
		_exit(0);
	}
	if (waitpid(pid, &status, 0) != pid)
		return fail("waitpid: errno=%d (%s)", errno, errno_name(errno));
	if (!WIFSIGNALED(status) || WTERMSIG(status) != SIGSEGV)
		return fail("status %#x", status);
	return 1;
}

/* Writing to a pipe nobody reads: SIGPIPE kills the writer by default; ignored, EPIPE. */
static int test_sigpipe(void)
{
	int fds[2], go[2], status;
	char c;

	if (pipe(fds) != 0 || pipe(go) != 0)
		return fail("pipe: errno=%d (%s)", errno, errno_name(errno));
	pid_t pid = fork();
	if (pid == 0) {
		close(fds[0]);
		close(go[1]);
		/* Write only once the parent's read end is closed too: then no reader is left. */
		if (read(go[0], &c, 1) != 0)
			_exit(3);
		if (write(fds[1], "z", 1) < 0)
			_exit(2);
		_exit(1);
	}
	close(fds[0]);
	close(fds[1]);
	close(go[0]);
	close(go[1]);
	if (waitpid(pid, &status, 0) != pid)
		return fail("waitpid: errno=%d (%s)", errno, errno_name(errno));
	if (!WIFSIGNALED(status) || WTERMSIG(status) != SIGPIPE)
		return fail("the writer ended with status %#x", status);

	signal(SIGPIPE, SIG_IGN);
	if (pipe(fds) != 0)
		return fail("pipe: errno=%d (%s)", errno, errno_name(errno));
	close(fds[0]);
	ssize_t r = write(fds[1], "z", 1);
	int err = errno;
	close(fds[1]);
	set_default(SIGPIPE);
	if (r != -1 || err != EPIPE)
		return fail("write with SIGPIPE ignored returned %zd, errno=%d (%s)", r, err,
			    errno_name(err));
	return 1;
}

/* SIGKILL cannot be caught or blocked, SIGSTOP cannot be caught. */
static int test_uncatchable(void)
{
	struct sigaction sa;
	sigset_t all, now;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = plain_handler;
	if (sigaction(SIGKILL, &sa, NULL) != -1 || errno != EINVAL)
		return fail("sigaction(SIGKILL) did not fail with EINVAL");
	if (sigaction(SIGSTOP, &sa, NULL) != -1 || errno != EINVAL)
		return fail("sigaction(SIGSTOP) did not fail with EINVAL");
	sigfillset(&all);
	sigprocmask(SIG_BLOCK, &all, &now);
	sigset_t blocked;
	sigprocmask(SIG_SETMASK, &now, &blocked);
	if (sigismember(&blocked, SIGKILL) || sigismember(&blocked, SIGSTOP))
		return fail("SIGKILL or SIGSTOP could be blocked");
	return 1;
}

static const struct test tests[] = {
	{ "kill(getpid(), SIGUSR1) runs the SA_SIGINFO handler with siginfo and ucontext", test_kill_self },
	{ "raise(SIGTERM) with a handler runs it (SI_TKILL)", test_raise_term },
	{ "sa_mask blocks SIGUSR2 until the SIGUSR1 handler returns", test_sa_mask },
	{ "SA_RESETHAND resets the action to SIG_DFL", test_resethand },
	{ "a blocked signal is pending, then delivered once on unblock", test_block_pending },
	{ "sigsuspend returns EINTR after the handler and restores the mask", test_sigsuspend },
	{ "sigtimedwait takes a pending signal; EAGAIN when none", test_sigtimedwait },
	{ "read on a pipe is restarted under SA_RESTART", test_read_restart },
	{ "read on a pipe fails with EINTR without SA_RESTART", test_read_eintr },
	{ "a child killed by SIGTERM is WIFSIGNALED", test_child_sigterm },
	{ "SIGSTOP/SIGCONT are reported by WUNTRACED/WCONTINUED", test_stop_cont },
	{ "the SIGCHLD handler runs when a child exits", test_sigchld },
	{ "SIGCHLD ignored: children reap themselves", test_sigchld_ignored },
	{ "SA_ONSTACK runs the handler on the sigaltstack", test_sigaltstack },
	{ "FP/SIMD registers survive a handler that clobbers them", test_fp_preserved },
	{ "a frame with an unknown record kills the task with SIGSEGV", test_bad_frame },
	{ "SIGPIPE kills a writer to a broken pipe; ignored, EPIPE", test_sigpipe },
	{ "SIGKILL and SIGSTOP cannot be caught or blocked", test_uncatchable },
};

int main(void)
{
	return run_tests(tests, TEST_COUNT(tests));
}
