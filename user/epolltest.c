/*
 * epolltest.c - epoll and eventfd as programs use them (glib, libuv, systemd-free daemons):
 * readiness of pipes, level- and edge-triggered items, EPOLLONESHOT re-armed with
 * EPOLL_CTL_MOD, EPOLLHUP/EPOLLERR when the other end of a pipe goes, an item that goes
 * with the last reference to its file (and stays while a dup lives), epoll across fork,
 * an epoll inside an epoll, maxevents, EINTR and epoll_pwait's signal mask, every errno of
 * epoll_create1/epoll_ctl/epoll_pwait/epoll_pwait2; eventfd's counter and semaphore rules,
 * its 8-byte reads and writes, EAGAIN and the overflow limit.
 *
 * Nothing here depends on timing: waits that must time out use a timeout of 0, and waits
 * that must be woken use no timeout (a child does the waking).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <poll.h>
#include <sys/epoll.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/select.h>
#include <sys/sendfile.h>
#include <sys/eventfd.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "tap.h"

static const char *self_path;

static int expect_errno(long ret, int want, const char *what)
{
	if (ret != -1 || errno != want)
		return fail("%s: ret %ld errno %s, want %s", what, ret, ret == -1 ? errno_name(errno) : "-",
			    errno_name(want));
	return 1;
}

static int add(int ep, int fd, uint32_t events, uint64_t data)
{
	struct epoll_event ev = { .events = events, .data.u64 = data };
	return epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev);
}

static int mod(int ep, int fd, uint32_t events, uint64_t data)
{
	struct epoll_event ev = { .events = events, .data.u64 = data };
	return epoll_ctl(ep, EPOLL_CTL_MOD, fd, &ev);
}

/* One wait of `timeout` ms for one event: its count (0 or 1), the event in *out. */
static int wait1(int ep, int timeout, struct epoll_event *out)
{
	memset(out, 0, sizeof(*out));
	return epoll_wait(ep, out, 1, timeout);
}

static int test_create(void)
{
	if (!expect_errno(epoll_create1(0x1234), EINVAL, "epoll_create1(bad flags)"))
		return 0;
	if (!expect_errno(epoll_create(0), EINVAL, "epoll_create(0)"))
		return 0;
	int ep = epoll_create1(EPOLL_CLOEXEC);
	if (ep < 0)
		return fail("epoll_create1: %s", errno_name(errno));
	if (!(fcntl(ep, F_GETFD) & FD_CLOEXEC))
		return fail("EPOLL_CLOEXEC did not set FD_CLOEXEC");
	char buf[8];
	if (!expect_errno(read(ep, buf, sizeof(buf)), EINVAL, "read(epoll fd)"))
		return 0;
	close(ep);
	ep = epoll_create1(0);
	if (fcntl(ep, F_GETFD) & FD_CLOEXEC)
		return fail("FD_CLOEXEC without EPOLL_CLOEXEC");
	close(ep);
	return 1;
}

static int test_ctl_errors(void)
{
	int ep = epoll_create1(0), ep2 = epoll_create1(0), p[2];
	struct epoll_event ev = { .events = EPOLLIN };
	if (pipe(p))
		return fail("pipe");
	int ok = expect_errno(epoll_ctl(ep, EPOLL_CTL_ADD, 1000, &ev), EBADF, "ADD of a closed fd") &&
		 expect_errno(epoll_ctl(1000, EPOLL_CTL_ADD, p[0], &ev), EBADF, "ADD on a closed epfd") &&
		 expect_errno(epoll_ctl(p[1], EPOLL_CTL_ADD, p[0], &ev), EINVAL, "epfd not an epoll") &&
		 expect_errno(epoll_ctl(ep, EPOLL_CTL_ADD, ep, &ev), EINVAL, "an epoll in itself") &&
		 expect_errno(epoll_ctl(ep, 42, p[0], &ev), EINVAL, "unknown op") &&
		 expect_errno(epoll_ctl(ep, EPOLL_CTL_ADD, p[0], (void *)16), EFAULT, "bad event pointer") &&
		 expect_errno(epoll_ctl(ep, EPOLL_CTL_DEL, p[0], NULL), ENOENT, "DEL of an fd not added") &&
		 expect_errno(mod(ep, p[0], EPOLLIN, 0), ENOENT, "MOD of an fd not added");
	if (!ok)
		return 0;
	if (add(ep, p[0], EPOLLIN, 1))
		return fail("ADD: %s", errno_name(errno));
	if (!expect_errno(add(ep, p[0], EPOLLIN, 1), EEXIST, "ADD twice"))
		return 0;
	/* The same file under another descriptor is another item. */
	int d = dup(p[0]);
	if (add(ep, d, EPOLLIN, 2))
		return fail("ADD of a dup: %s", errno_name(errno));
	if (!expect_errno(add(ep, p[1], EPOLLOUT | EPOLLEXCLUSIVE | EPOLLONESHOT, 0), EINVAL,
			  "EPOLLEXCLUSIVE with EPOLLONESHOT"))
		return 0;
	if (add(ep, p[1], EPOLLOUT | EPOLLEXCLUSIVE, 3))
		return fail("ADD EPOLLEXCLUSIVE: %s", errno_name(errno));
	if (!expect_errno(mod(ep, p[1], EPOLLOUT, 3), EINVAL, "MOD of an EPOLLEXCLUSIVE item"))
		return 0;
	if (!expect_errno(add(ep2, ep, EPOLLIN | EPOLLEXCLUSIVE, 0), EINVAL, "EPOLLEXCLUSIVE on an epoll"))
		return 0;
	/* A cycle of epolls. */
	if (add(ep2, ep, EPOLLIN, 0))
		return fail("ADD of an epoll: %s", errno_name(errno));
	if (!expect_errno(add(ep, ep2, EPOLLIN, 0), ELOOP, "a cycle"))
		return fail("%s (ELOOP is %d)", tap_detail, ELOOP);
	if (epoll_ctl(ep, EPOLL_CTL_DEL, d, NULL))
		return fail("DEL: %s", errno_name(errno));
	if (!expect_errno(epoll_ctl(ep, EPOLL_CTL_DEL, d, NULL), ENOENT, "DEL twice"))
		return 0;
	/* Regular files and directories cannot be polled. */
	int dir = open("/", O_RDONLY | O_DIRECTORY);
	int reg = open(self_path, O_RDONLY);
	if (dir < 0 || reg < 0)
		return fail("open: %s", errno_name(errno));
	if (!expect_errno(add(ep, dir, EPOLLIN, 0), EPERM, "a directory") ||
	    !expect_errno(add(ep, reg, EPOLLIN, 0), EPERM, "a regular file"))
		return 0;
	close(dir), close(reg), close(d), close(p[0]), close(p[1]), close(ep), close(ep2);
	return 1;
}

static int test_wait_errors(void)
{
	int ep = epoll_create1(0), p[2];
	struct epoll_event ev[2];
	if (pipe(p))
		return fail("pipe");
	/* Raw calls: glibc's declaration lets the compiler refuse the bad counts. */
	int ok = expect_errno(syscall(SYS_epoll_pwait, ep, ev, 0, 0, NULL, 8), EINVAL, "maxevents 0") &&
		 expect_errno(syscall(SYS_epoll_pwait, ep, ev, -1, 0, NULL, 8), EINVAL, "maxevents -1") &&
		 expect_errno(syscall(SYS_epoll_pwait, ep, ev, INT32_MAX, 0, NULL, 8), EINVAL,
			      "maxevents INT_MAX") &&
		 expect_errno(epoll_wait(1000, ev, 1, 0), EBADF, "closed epfd") &&
		 expect_errno(epoll_wait(p[0], ev, 1, 0), EINVAL, "epfd not an epoll");
	if (!ok)
		return 0;
	struct timespec bad = { .tv_sec = 0, .tv_nsec = 1000000000 };
	/* qemu-aarch64 has no epoll_pwait2 (ENOSYS): checked where the kernel has it. */
	if (syscall(SYS_epoll_pwait2, ep, ev, 1, &bad, NULL, 8) == -1 && errno == ENOSYS) {
		close(p[0]), close(p[1]), close(ep);
		return 1;
	}
	if (!expect_errno(syscall(SYS_epoll_pwait2, ep, ev, 1, &bad, NULL, 8), EINVAL,
			  "epoll_pwait2 with tv_nsec 1e9"))
		return 0;
	struct timespec zero = { 0, 0 };
	if (syscall(SYS_epoll_pwait2, ep, ev, 1, &zero, NULL, 8) != 0)
		return fail("epoll_pwait2 with a zero timeout: %s", errno_name(errno));
	sigset_t set;
	sigemptyset(&set);
	if (!expect_errno(syscall(SYS_epoll_pwait, ep, ev, 1, 0, &set, 4), EINVAL, "sigsetsize 4"))
		return 0;
	close(p[0]), close(p[1]), close(ep);
	return 1;
}

static int test_level_triggered(void)
{
	int ep = epoll_create1(0), p[2];
	struct epoll_event ev;
	if (pipe(p) || add(ep, p[0], EPOLLIN, 0x1122334455667788ull))
		return fail("setup: %s", errno_name(errno));
	if (wait1(ep, 0, &ev) != 0)
		return fail("an empty pipe is ready");
	if (write(p[1], "ab", 2) != 2)
		return fail("write");
	for (int i = 0; i < 2; i++) {
		if (wait1(ep, 0, &ev) != 1 || ev.events != EPOLLIN || ev.data.u64 != 0x1122334455667788ull)
			return fail("wait %d: events %#x data %#llx", i, ev.events,
				    (unsigned long long)ev.data.u64);
	}
	char buf[4];
	if (read(p[0], buf, sizeof(buf)) != 2)
		return fail("read");
	if (wait1(ep, 0, &ev) != 0)
		return fail("a drained pipe is still ready (%#x)", ev.events);
	/* The write end is writable. */
	if (add(ep, p[1], EPOLLOUT, 7) || wait1(ep, 0, &ev) != 1 || ev.events != EPOLLOUT || ev.data.u64 != 7)
		return fail("write end: events %#x", ev.events);
	close(p[0]), close(p[1]), close(ep);
	return 1;
}

static int test_edge_triggered(void)
{
	int ep = epoll_create1(0), p[2];
	struct epoll_event ev;
	if (pipe(p) || add(ep, p[0], EPOLLIN | EPOLLET, 5))
		return fail("setup: %s", errno_name(errno));
	if (write(p[1], "a", 1) != 1)
		return fail("write");
	if (wait1(ep, 0, &ev) != 1 || ev.events != EPOLLIN)
		return fail("first wait: events %#x", ev.events);
	if (wait1(ep, 0, &ev) != 0)
		return fail("reported twice without a new write");
	if (write(p[1], "b", 1) != 1)
		return fail("write");
	if (wait1(ep, 0, &ev) != 1 || ev.events != EPOLLIN)
		return fail("a second write was not reported");
	if (wait1(ep, 0, &ev) != 0)
		return fail("the second write reported twice");
	close(p[0]), close(p[1]), close(ep);
	return 1;
}

static int test_oneshot(void)
{
	int ep = epoll_create1(0), p[2];
	struct epoll_event ev;
	if (pipe(p) || add(ep, p[0], EPOLLIN | EPOLLONESHOT, 9))
		return fail("setup: %s", errno_name(errno));
	if (write(p[1], "a", 1) != 1)
		return fail("write");
	if (wait1(ep, 0, &ev) != 1 || ev.data.u64 != 9)
		return fail("first wait");
	if (wait1(ep, 0, &ev) != 0)
		return fail("a fired one-shot item reported again");
	if (write(p[1], "b", 1) != 1 || wait1(ep, 0, &ev) != 0)
		return fail("a fired one-shot item reported a new write");
	if (!expect_errno(add(ep, p[0], EPOLLIN, 0), EEXIST, "ADD of a disabled item"))
		return 0;
	if (mod(ep, p[0], EPOLLIN | EPOLLONESHOT, 10))
		return fail("MOD: %s", errno_name(errno));
	if (wait1(ep, 0, &ev) != 1 || ev.data.u64 != 10 || ev.events != EPOLLIN)
		return fail("re-armed item: events %#x data %llu", ev.events, (unsigned long long)ev.data.u64);
	if (wait1(ep, 0, &ev) != 0)
		return fail("re-armed item reported twice");
	close(p[0]), close(p[1]), close(ep);
	return 1;
}

static int test_hup_err(void)
{
	int ep = epoll_create1(0), p[2];
	struct epoll_event ev;
	if (pipe(p) || add(ep, p[0], EPOLLIN, 1))
		return fail("setup: %s", errno_name(errno));
	close(p[1]);
	if (wait1(ep, 0, &ev) != 1 || ev.events != EPOLLHUP)
		return fail("reader after the writer closed: events %#x, want EPOLLHUP", ev.events);
	close(p[0]);
	/* Data and a gone writer: both. */
	if (pipe(p) || add(ep, p[0], EPOLLIN, 2))
		return fail("setup 2");
	if (write(p[1], "x", 1) != 1)
		return fail("write");
	close(p[1]);
	if (wait1(ep, 0, &ev) != 1 || ev.events != (EPOLLIN | EPOLLHUP))
		return fail("events %#x, want EPOLLIN|EPOLLHUP", ev.events);
	close(p[0]);
	/* A writer whose reader is gone: EPOLLERR, even when asked only for EPOLLIN. */
	if (pipe(p) || add(ep, p[1], EPOLLIN, 3))
		return fail("setup 3");
	close(p[0]);
	if (wait1(ep, 0, &ev) != 1 || ev.events != EPOLLERR)
		return fail("writer after the reader closed: events %#x, want EPOLLERR", ev.events);
	close(p[1]), close(ep);
	return 1;
}

static int test_last_close(void)
{
	int ep = epoll_create1(0), p[2];
	struct epoll_event ev;
	if (pipe(p) || add(ep, p[0], EPOLLIN, 1))
		return fail("setup: %s", errno_name(errno));
	int keep = dup(p[0]);
	if (write(p[1], "x", 1) != 1)
		return fail("write");
	close(p[0]);
	/* A dup keeps the file, so the item lives (and can no longer be deleted by fd). */
	if (wait1(ep, 0, &ev) != 1 || ev.data.u64 != 1)
		return fail("the item went while a dup still held the file");
	if (!expect_errno(epoll_ctl(ep, EPOLL_CTL_DEL, keep, NULL), ENOENT, "DEL under the dup"))
		return 0;
	close(keep);
	if (wait1(ep, 0, &ev) != 0)
		return fail("an item of a closed file was reported (data %llu)", (unsigned long long)ev.data.u64);
	/* The descriptor number can be added again, for a new file. */
	int q[2];
	if (pipe(q) || add(ep, q[0], EPOLLIN, 2))
		return fail("re-adding: %s", errno_name(errno));
	close(q[0]), close(q[1]), close(p[1]), close(ep);
	return 1;
}

static int test_maxevents(void)
{
	int ep = epoll_create1(0), p[2], q[2];
	struct epoll_event ev[4];
	if (pipe(p) || pipe(q) || add(ep, p[0], EPOLLIN, 1) || add(ep, q[0], EPOLLIN, 2))
		return fail("setup: %s", errno_name(errno));
	if (write(p[1], "x", 1) != 1 || write(q[1], "y", 1) != 1)
		return fail("write");
	if (epoll_wait(ep, ev, 4, 0) != 2)
		return fail("two ready pipes, not two events");
	/* One at a time: a level-triggered item goes to the back, so both come in turn. */
	uint64_t seen = 0;
	for (int i = 0; i < 2; i++) {
		if (epoll_wait(ep, ev, 1, 0) != 1)
			return fail("maxevents 1: not one event");
		seen |= 1ull << ev[0].data.u64;
	}
	if (seen != 6)
		return fail("maxevents 1 twice gave the same item (mask %#llx)", (unsigned long long)seen);
	close(p[0]), close(p[1]), close(q[0]), close(q[1]), close(ep);
	return 1;
}

static int test_fork_wakes(void)
{
	int ep = epoll_create1(0), p[2], go[2];
	struct epoll_event ev;
	if (pipe(p) || pipe(go) || add(ep, p[0], EPOLLIN, 4))
		return fail("setup: %s", errno_name(errno));
	pid_t pid = fork();
	if (pid == 0) {
		/* The child shares the epoll: it sees nothing yet, then writes. */
		char c;
		if (read(go[0], &c, 1) != 1)
			_exit(2);
		if (epoll_wait(ep, &ev, 1, 0) != 0)
			_exit(3);
		_exit(write(p[1], "z", 1) == 1 ? 0 : 4);
	}
	if (write(go[1], "g", 1) != 1)
		return fail("write");
	/* Blocks until the child's write. */
	int n = wait1(ep, -1, &ev);
	int status;
	waitpid(pid, &status, 0);
	if (n != 1 || ev.data.u64 != 4)
		return fail("parent's wait: %d events", n);
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
		return fail("child status %#x", status);
	close(p[0]), close(p[1]), close(go[0]), close(go[1]), close(ep);
	return 1;
}

static int test_nested(void)
{
	int inner = epoll_create1(0), outer = epoll_create1(0), p[2];
	struct epoll_event ev;
	if (pipe(p) || add(inner, p[0], EPOLLIN, 1) || add(outer, inner, EPOLLIN, 2))
		return fail("setup: %s", errno_name(errno));
	if (wait1(outer, 0, &ev) != 0)
		return fail("an idle inner epoll is ready");
	pid_t pid = fork();
	if (pid == 0)
		_exit(write(p[1], "n", 1) == 1 ? 0 : 1);
	int n = wait1(outer, -1, &ev);
	waitpid(pid, NULL, 0);
	if (n != 1 || ev.events != EPOLLIN || ev.data.u64 != 2)
		return fail("outer: %d events %#x", n, ev.events);
	if (wait1(inner, 0, &ev) != 1 || ev.data.u64 != 1)
		return fail("inner");
	close(p[0]), close(p[1]), close(inner), close(outer);
	return 1;
}

static volatile sig_atomic_t handled;
static void on_signal(int sig)
{
	(void)sig;
	handled++;
}

static int test_eintr(void)
{
	int ep = epoll_create1(0), p[2];
	struct epoll_event ev;
	struct sigaction sa = { .sa_handler = on_signal, .sa_flags = SA_RESTART };
	if (pipe(p) || add(ep, p[0], EPOLLIN, 1))
		return fail("setup");
	sigaction(SIGALRM, &sa, NULL);
	handled = 0;
	struct itimerval it = { .it_value = { .tv_usec = 20000 } };
	setitimer(ITIMER_REAL, &it, NULL);
	/* Never restarted, even with SA_RESTART. */
	int n = wait1(ep, -1, &ev);
	int err = errno;
	signal(SIGALRM, SIG_DFL);
	if (n != -1 || err != EINTR || handled != 1)
		return fail("ret %d errno %s handled %d", n, errno_name(err), (int)handled);
	close(p[0]), close(p[1]), close(ep);
	return 1;
}

static int test_pwait_sigmask(void)
{
	int ep = epoll_create1(0);
	struct epoll_event ev;
	struct sigaction sa = { .sa_handler = on_signal };
	sigaction(SIGUSR1, &sa, NULL);
	sigset_t block, empty, now;
	sigemptyset(&block);
	sigaddset(&block, SIGUSR1);
	sigemptyset(&empty);
	sigprocmask(SIG_BLOCK, &block, NULL);
	handled = 0;
	raise(SIGUSR1);
	if (handled != 0)
		return fail("a blocked signal ran its handler");
	/* A zero timeout with SIGUSR1 still blocked: nothing. */
	if (epoll_pwait(ep, &ev, 1, 0, &block) != 0)
		return fail("epoll_pwait with the signal blocked");
	/* Unblocked only during the wait: EINTR, the handler runs, and it is blocked again. */
	int n = epoll_pwait(ep, &ev, 1, -1, &empty);
	int err = errno;
	sigprocmask(SIG_BLOCK, NULL, &now);
	int still = sigismember(&now, SIGUSR1);
	sigprocmask(SIG_UNBLOCK, &block, NULL);
	signal(SIGUSR1, SIG_DFL);
	if (n != -1 || err != EINTR || handled != 1 || !still)
		return fail("ret %d errno %s handled %d blocked after %d", n, errno_name(err), (int)handled, still);
	close(ep);
	return 1;
}

/* ppoll and pselect6 take a mask the same way. */
static int test_ppoll_pselect_sigmask(void)
{
	struct sigaction sa = { .sa_handler = on_signal };
	sigaction(SIGUSR1, &sa, NULL);
	sigset_t block, empty, now;
	sigemptyset(&block);
	sigaddset(&block, SIGUSR1);
	sigemptyset(&empty);
	sigprocmask(SIG_BLOCK, &block, NULL);
	struct timespec zero = { 0, 0 };
	for (int which = 0; which < 2; which++) {
		handled = 0;
		raise(SIGUSR1);
		int n0 = which ? pselect(0, NULL, NULL, NULL, &zero, &block) : ppoll(NULL, 0, &zero, &block);
		if (n0 != 0 || handled != 0)
			return fail("%s with the signal blocked: %d, handled %d", which ? "pselect" : "ppoll", n0,
				    (int)handled);
		int n = which ? pselect(0, NULL, NULL, NULL, NULL, &empty) : ppoll(NULL, 0, NULL, &empty);
		int err = errno;
		sigprocmask(SIG_BLOCK, NULL, &now);
		if (n != -1 || err != EINTR || handled != 1 || !sigismember(&now, SIGUSR1))
			return fail("%s: ret %d errno %s handled %d blocked after %d", which ? "pselect" : "ppoll", n,
				    errno_name(err), (int)handled, sigismember(&now, SIGUSR1));
	}
	sigprocmask(SIG_UNBLOCK, &block, NULL);
	signal(SIGUSR1, SIG_DFL);
	return 1;
}

static int test_eventfd_rules(void)
{
	if (!expect_errno(eventfd(0, 0x4242), EINVAL, "eventfd(bad flags)"))
		return 0;
	int fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	uint64_t v = 0;
	uint32_t small = 1;
	if (fd < 0)
		return fail("eventfd: %s", errno_name(errno));
	if (!(fcntl(fd, F_GETFD) & FD_CLOEXEC) || !(fcntl(fd, F_GETFL) & O_NONBLOCK))
		return fail("EFD_CLOEXEC/EFD_NONBLOCK not set");
	int ok = expect_errno(read(fd, &v, 8), EAGAIN, "read of 0, non-blocking") &&
		 expect_errno(read(fd, &small, 4), EINVAL, "4-byte read") &&
		 expect_errno(write(fd, &small, 4), EINVAL, "4-byte write");
	if (!ok)
		return 0;
	v = UINT64_MAX;
	if (!expect_errno(write(fd, &v, 8), EINVAL, "write of UINT64_MAX"))
		return 0;
	v = 3;
	if (write(fd, &v, 8) != 8)
		return fail("write 3");
	v = 4;
	if (write(fd, &v, 8) != 8)
		return fail("write 4");
	/* /proc/self/fdinfo shows the count (and the flags in octal). */
	char path[64], info[512];
	snprintf(path, sizeof(path), "/proc/self/fdinfo/%d", fd);
	int pfd = open(path, O_RDONLY);
	ssize_t got = pfd < 0 ? -1 : read(pfd, info, sizeof(info) - 1);
	close(pfd);
	if (got <= 0)
		return fail("%s: %s", path, errno_name(errno));
	info[got] = '\0';
	char *line = strstr(info, "eventfd-count:");
	unsigned long long shown = 0;
	if (!line || sscanf(line, "eventfd-count: %llx", &shown) != 1 || shown != 7 ||
	    strncmp(info, "pos:\t0\nflags:\t02004002\n", 22) != 0)
		return fail("fdinfo: \"%s\"", info);
	char big[16];
	if (read(fd, big, sizeof(big)) != 8 || memcmp(big, &(uint64_t){ 7 }, 8) != 0)
		return fail("read after 3 + 4 is not 7");
	/* The limit: 0xfffffffffffffffe. */
	v = 0xfffffffffffffffeull;
	if (write(fd, &v, 8) != 8)
		return fail("write of the maximum: %s", errno_name(errno));
	v = 1;
	if (!expect_errno(write(fd, &v, 8), EAGAIN, "write past the maximum"))
		return 0;
	v = 0;
	if (write(fd, &v, 8) != 8)
		return fail("write of 0 at the maximum: %s", errno_name(errno));
	int ep = epoll_create1(0);
	struct epoll_event ev;
	if (add(ep, fd, EPOLLIN | EPOLLOUT, 1) || wait1(ep, 0, &ev) != 1 || ev.events != EPOLLIN)
		return fail("full eventfd: events %#x, want EPOLLIN", ev.events);
	if (read(fd, &v, 8) != 8 || v != 0xfffffffffffffffeull)
		return fail("read of the maximum");
	if (wait1(ep, 0, &ev) != 1 || ev.events != EPOLLOUT)
		return fail("empty eventfd: events %#x, want EPOLLOUT", ev.events);
	close(ep), close(fd);
	return 1;
}

static int test_eventfd_semaphore(void)
{
	int fd = eventfd(3, EFD_SEMAPHORE | EFD_NONBLOCK);
	uint64_t v;
	for (int i = 0; i < 3; i++)
		if (read(fd, &v, 8) != 8 || v != 1)
			return fail("semaphore read %d: %llu", i, (unsigned long long)v);
	if (!expect_errno(read(fd, &v, 8), EAGAIN, "fourth semaphore read"))
		return 0;
	close(fd);
	return 1;
}

static int test_eventfd_blocking(void)
{
	int fd = eventfd(0, 0), ep = epoll_create1(0);
	struct epoll_event ev;
	if (add(ep, fd, EPOLLIN | EPOLLET, 3))
		return fail("add");
	pid_t pid = fork();
	if (pid == 0) {
		uint64_t one = 5;
		_exit(write(fd, &one, 8) == 8 ? 0 : 1);
	}
	uint64_t v = 0;
	/* A blocking read is woken by the child's write. */
	if (read(fd, &v, 8) != 8 || v != 5)
		return fail("blocking read: %llu", (unsigned long long)v);
	waitpid(pid, NULL, 0);
	/* The write was an edge; the read that emptied it leaves nothing to report. */
	int n = wait1(ep, 0, &ev);
	if (n != 0)
		return fail("an emptied eventfd reported %#x", ev.events);
	/* At the maximum a blocking write waits until a read makes room. */
	v = 0xfffffffffffffffeull;
	if (write(fd, &v, 8) != 8)
		return fail("write of the maximum");
	int go[2];
	if (pipe(go))
		return fail("pipe");
	pid = fork();
	if (pid == 0) {
		char c;
		uint64_t r;
		/* Read only once the parent is about to block (it writes to the pipe first). */
		if (read(go[0], &c, 1) != 1 || read(fd, &r, 8) != 8)
			_exit(1);
		_exit(r == 0xfffffffffffffffeull ? 0 : 2);
	}
	uint64_t one = 1;
	if (write(go[1], "g", 1) != 1 || write(fd, &one, 8) != 8)
		return fail("the blocking write: %s", errno_name(errno));
	int status;
	waitpid(pid, &status, 0);
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0 || read(fd, &v, 8) != 8 || v != 1)
		return fail("child status %#x, count after %llu", status, (unsigned long long)v);
	close(go[0]), close(go[1]);
	close(fd), close(ep);
	return 1;
}

/*
 * sendfile goes through splice, which anonymous inodes do not have: to, from or between
 * eventfds it is EINVAL at once (not 8 bytes at a time until the count runs out), and
 * copy_file_range wants regular files.
 */
static int test_eventfd_no_splice(void)
{
	int fd = eventfd(5, EFD_NONBLOCK), other = eventfd(0, EFD_NONBLOCK);
	int file = open(self_path, O_RDONLY);
	if (fd < 0 || other < 0 || file < 0)
		return fail("eventfd/open: %s", errno_name(errno));
	int ok = expect_errno(sendfile(fd, fd, NULL, 1 << 30), EINVAL, "sendfile(efd, efd)") &&
		 expect_errno(sendfile(other, fd, NULL, 8), EINVAL, "sendfile from an eventfd") &&
		 expect_errno(sendfile(fd, file, NULL, 8), EINVAL, "sendfile to an eventfd") &&
		 expect_errno(copy_file_range(fd, NULL, other, NULL, 8, 0), EINVAL,
			      "copy_file_range between eventfds");
	uint64_t v = 0;
	if (ok && (read(fd, &v, 8) != 8 || v != 5))
		ok = fail("the eventfd's count changed: %llu", (unsigned long long)v);
	close(fd);
	close(other);
	close(file);
	return ok;
}

static const struct test tests[] = {
	{ "epoll_create1: flags, EPOLL_CLOEXEC, EINVAL; read of an epoll is EINVAL", test_create },
	{ "epoll_ctl: EBADF, EINVAL, EFAULT, ENOENT, EEXIST, EPERM, ELOOP, EPOLLEXCLUSIVE rules", test_ctl_errors },
	{ "epoll_wait/pwait/pwait2: maxevents, EBADF, EINVAL, timespec, sigsetsize", test_wait_errors },
	{ "level-triggered: a pipe with data reported until drained; EPOLLOUT", test_level_triggered },
	{ "edge-triggered: one report per write", test_edge_triggered },
	{ "EPOLLONESHOT: disabled after one report, re-armed by EPOLL_CTL_MOD", test_oneshot },
	{ "EPOLLHUP when the writer closes, EPOLLERR when the reader does", test_hup_err },
	{ "an item goes with the last reference to its file, not with its fd", test_last_close },
	{ "maxevents 1 takes ready items in turn", test_maxevents },
	{ "epoll across fork: a child's write wakes a blocked epoll_wait", test_fork_wakes },
	{ "an epoll inside an epoll", test_nested },
	{ "a signal ends epoll_wait with EINTR even with SA_RESTART", test_eintr },
	{ "epoll_pwait's mask is in force only during the wait", test_pwait_sigmask },
	{ "ppoll's and pselect6's masks too", test_ppoll_pselect_sigmask },
	{ "eventfd: 8-byte rules, EAGAIN, UINT64_MAX, the maximum, poll bits, fdinfo", test_eventfd_rules },
	{ "eventfd: EFD_SEMAPHORE reads 1 at a time", test_eventfd_semaphore },
	{ "eventfd: a blocking read woken by a child's write, a blocking write by its read", test_eventfd_blocking },
	{ "eventfd: sendfile and copy_file_range are EINVAL, the count untouched", test_eventfd_no_splice },
};

int main(int argc, char **argv)
{
	(void)argc;
	self_path = argv[0];
	/* On a kernel booted with only the test initramfs, nothing has mounted proc yet. */
	if (access("/proc/self/status", F_OK) != 0) {
		mkdir("/proc", 0555);
		mount("proc", "/proc", "proc", 0, NULL);
	}
	return run_tests(tests, TEST_COUNT(tests));
}
