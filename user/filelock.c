/*
 * filelock.c - file locks as dpkg, apt, sqlite and flock(1) use them: POSIX record locks
 * (F_GETLK, F_SETLK, F_SETLKW) with byte ranges, l_len 0 and negative, SEEK_CUR/SEEK_END,
 * split and merged ranges, upgrades and downgrades; their owner (the process: released by a
 * close of any descriptor of the file and by exit, not inherited by fork); F_SETLKW woken by
 * an unlock and ended by a signal (EINTR); deadlock detection (EDEADLK); OFD locks (owned by
 * the open file description, l_pid -1); flock(2) (shared across fork, converted in place,
 * released at the last close, independent of POSIX locks); /proc/locks; and every errno of
 * the calls, bad pointers included.
 *
 * The parent holds locks and forked children test them; children report through their exit
 * status or a pipe, so nothing depends on which process runs first. A child that must block
 * tells the parent it is about to (a pipe), and the outcome does not depend on whether it
 * had blocked yet when the parent lets it go.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <unistd.h>

#include "tap.h"

static char path[64];

/* The exit status of a child that ran `expr` (200 + signal if it was killed). */
#define IN_CHILD(expr)                                                                 \
	({                                                                             \
		fflush(stdout);                                                        \
		pid_t pid_ = fork();                                                   \
		if (pid_ == 0)                                                         \
			_exit(expr);                                                   \
		int st_ = 0;                                                           \
		waitpid(pid_, &st_, 0);                                                \
		WIFEXITED(st_) ? WEXITSTATUS(st_) : 200 + WTERMSIG(st_);               \
	})

static int expect_errno(long ret, int want, const char *what)
{
	if (ret != -1 || errno != want)
		return fail("%s: ret %ld errno %s, want %s", what, ret,
			    ret == -1 ? errno_name(errno) : "-", errno_name(want));
	return 1;
}

static int expect_status(int got, int want, const char *what)
{
	if (got != want)
		return fail("%s: child status %d (%s), want %d (%s)", what, got, errno_name(got),
			    want, errno_name(want));
	return 1;
}

/* fcntl(fd, cmd) with a struct flock; 0 or an errno. */
static int lk(int fd, int cmd, short type, short whence, off_t start, off_t len)
{
	struct flock fl = { .l_type = type, .l_whence = whence, .l_start = start, .l_len = len };
	return fcntl(fd, cmd, &fl) == 0 ? 0 : errno;
}

/* A fresh descriptor of the test file (its own open file description). */
static int open_rw(void)
{
	return open(path, O_RDWR);
}

/* In a child: F_SETLK on its own descriptor; 0 or the errno. */
static int try_lock(int cmd, short type, off_t start, off_t len)
{
	int fd = open_rw();
	if (fd < 0)
		return 100;
	return lk(fd, cmd, type, SEEK_SET, start, len);
}

/* F_GETLK (or F_OFD_GETLK) in a child on its own descriptor; the answer in *out. */
static int child_getlk(int cmd, short type, off_t start, off_t len, struct flock *out)
{
	int p[2];
	if (pipe(p))
		return fail("pipe");
	fflush(stdout);
	pid_t pid = fork();
	if (pid == 0) {
		struct flock fl = { .l_type = type, .l_whence = SEEK_SET, .l_start = start,
				    .l_len = len };
		int fd = open_rw();
		if (fd < 0 || fcntl(fd, cmd, &fl))
			fl.l_type = -1;
		if (write(p[1], &fl, sizeof(fl)) != sizeof(fl))
			_exit(1);
		_exit(0);
	}
	close(p[1]);
	int got = read(p[0], out, sizeof(*out)) == sizeof(*out);
	close(p[0]);
	waitpid(pid, NULL, 0);
	return got ? 1 : fail("no answer from the child");
}

/* The child's F_GETLK sees exactly this lock. */
static int sees(short type, off_t start, off_t len, short want_type, off_t want_start,
		off_t want_len, pid_t want_pid, const char *what)
{
	struct flock fl;
	if (!child_getlk(F_GETLK, type, start, len, &fl))
		return 0;
	if (fl.l_type != want_type)
		return fail("%s: l_type %d, want %d", what, fl.l_type, want_type);
	if (want_type == F_UNLCK)
		return 1;
	if (fl.l_whence != SEEK_SET || fl.l_start != want_start || fl.l_len != want_len ||
	    fl.l_pid != want_pid)
		return fail("%s: whence %d start %lld len %lld pid %s", what, fl.l_whence,
			    (long long)fl.l_start, (long long)fl.l_len,
			    fl.l_pid == want_pid ? "right" : "wrong");
	return 1;
}

/* A new, empty test file of `size` bytes; its descriptor (O_RDWR). */
static int fresh(off_t size)
{
	unlink(path);
	int fd = open(path, O_RDWR | O_CREAT | O_EXCL, 0644);
	if (fd >= 0 && ftruncate(fd, size))
		return -1;
	return fd;
}

static int t_getlk_unlocked(void)
{
	int fd = fresh(100);
	struct flock fl = { .l_type = F_WRLCK, .l_whence = SEEK_SET, .l_start = 3, .l_len = 7,
			    .l_pid = 1234 };
	int ok = fcntl(fd, F_GETLK, &fl) == 0 && fl.l_type == F_UNLCK && fl.l_start == 3 &&
		 fl.l_len == 7 && fl.l_pid == 1234;
	close(fd);
	return ok ? 1 : fail("F_GETLK on an unlocked file: type %d start %lld len %lld",
			     fl.l_type, (long long)fl.l_start, (long long)fl.l_len);
}

static int t_conflicts(void)
{
	int fd = fresh(100);
	pid_t me = getpid();
	int ok = lk(fd, F_SETLK, F_WRLCK, SEEK_SET, 0, 10) == 0 &&
		 sees(F_WRLCK, 5, 1, F_WRLCK, 0, 10, me, "write lock seen") &&
		 sees(F_RDLCK, 9, 100, F_WRLCK, 0, 10, me, "seen by a read probe") &&
		 sees(F_WRLCK, 10, 5, F_UNLCK, 0, 0, 0, "past its end") &&
		 expect_status(IN_CHILD(try_lock(F_SETLK, F_WRLCK, 9, 1)), EAGAIN, "write on write") &&
		 expect_status(IN_CHILD(try_lock(F_SETLK, F_RDLCK, 0, 1)), EAGAIN, "read on write") &&
		 expect_status(IN_CHILD(try_lock(F_SETLK, F_WRLCK, 10, 0)), 0, "beside it") &&
		 lk(fd, F_SETLK, F_RDLCK, SEEK_SET, 50, 10) == 0 &&
		 expect_status(IN_CHILD(try_lock(F_SETLK, F_RDLCK, 55, 1)), 0, "read on read") &&
		 expect_status(IN_CHILD(try_lock(F_SETLK, F_WRLCK, 59, 1)), EAGAIN, "write on read") &&
		 sees(F_WRLCK, 40, 0, F_RDLCK, 50, 10, me, "read lock seen by a write probe") &&
		 sees(F_RDLCK, 40, 0, F_UNLCK, 0, 0, 0, "read lock not seen by a read probe") &&
		 expect_status(IN_CHILD(lk(fd, F_SETLK, F_WRLCK, SEEK_SET, 0, 1)), EAGAIN,
			       "a fork child does not own its parent's locks");
	close(fd);
	return ok;
}

static int t_split_merge(void)
{
	int fd = fresh(100);
	pid_t me = getpid();
	int ok = lk(fd, F_SETLK, F_WRLCK, SEEK_SET, 0, 0) == 0 &&
		 lk(fd, F_SETLK, F_UNLCK, SEEK_SET, 10, 10) == 0 &&
		 sees(F_WRLCK, 10, 10, F_UNLCK, 0, 0, 0, "the hole") &&
		 sees(F_WRLCK, 0, 11, F_WRLCK, 0, 10, me, "the piece before") &&
		 sees(F_WRLCK, 15, 100, F_WRLCK, 20, 0, me, "the piece after, to EOF") &&
		 lk(fd, F_SETLK, F_UNLCK, SEEK_SET, 0, 0) == 0 &&
		 sees(F_WRLCK, 0, 0, F_UNLCK, 0, 0, 0, "all unlocked") &&
		 lk(fd, F_SETLK, F_RDLCK, SEEK_SET, 0, 10) == 0 &&
		 lk(fd, F_SETLK, F_RDLCK, SEEK_SET, 10, 10) == 0 &&
		 lk(fd, F_SETLK, F_RDLCK, SEEK_SET, 30, 10) == 0 &&
		 sees(F_WRLCK, 0, 30, F_RDLCK, 0, 20, me, "touching read locks merged") &&
		 lk(fd, F_SETLK, F_RDLCK, SEEK_SET, 15, 20) == 0 &&
		 sees(F_WRLCK, 0, 0, F_RDLCK, 0, 40, me, "overlapping read locks merged") &&
		 lk(fd, F_SETLK, F_WRLCK, SEEK_SET, 5, 5) == 0 &&
		 sees(F_WRLCK, 0, 0, F_RDLCK, 0, 5, me, "a write lock splits a read lock: before") &&
		 sees(F_RDLCK, 0, 0, F_WRLCK, 5, 5, me, "the write lock in the middle") &&
		 sees(F_WRLCK, 10, 0, F_RDLCK, 10, 30, me, "a write lock splits a read lock: after") &&
		 lk(fd, F_SETLK, F_UNLCK, SEEK_SET, 0, 0) == 0 &&
		 lk(fd, F_SETLK, F_WRLCK, SEEK_SET, 60, 10) == 0 &&
		 lk(fd, F_SETLK, F_RDLCK, SEEK_SET, 40, 10) == 0 &&
		 lk(fd, F_SETLK, F_WRLCK, SEEK_SET, 20, 10) == 0 &&
		 sees(F_WRLCK, 0, 0, F_WRLCK, 20, 10, me, "F_GETLK reports the lowest of several") &&
		 sees(F_WRLCK, 35, 0, F_RDLCK, 40, 10, me, "the lowest past the start");
	close(fd);
	return ok;
}

static int t_upgrade_downgrade(void)
{
	int fd = fresh(100);
	pid_t me = getpid();
	int ok = lk(fd, F_SETLK, F_RDLCK, SEEK_SET, 0, 0) == 0 &&
		 lk(fd, F_SETLK, F_WRLCK, SEEK_SET, 0, 0) == 0 &&
		 sees(F_RDLCK, 0, 1, F_WRLCK, 0, 0, me, "upgraded") &&
		 lk(fd, F_SETLK, F_RDLCK, SEEK_SET, 0, 0) == 0 &&
		 sees(F_RDLCK, 0, 1, F_UNLCK, 0, 0, 0, "downgraded: readers pass") &&
		 expect_status(IN_CHILD(try_lock(F_SETLK, F_WRLCK, 0, 1)), EAGAIN,
			       "downgraded: writers wait") &&
		 expect_status(IN_CHILD(try_lock(F_SETLK, F_RDLCK, 0, 1)), 0, "shared by a child");
	close(fd);
	return ok;
}

static int t_ranges(void)
{
	int fd = fresh(100);
	pid_t me = getpid();
	int ok = lk(fd, F_SETLK, F_WRLCK, SEEK_SET, 10, -5) == 0 &&
		 sees(F_WRLCK, 0, 0, F_WRLCK, 5, 5, me, "negative l_len covers the bytes before") &&
		 lk(fd, F_SETLK, F_UNLCK, SEEK_SET, 0, 0) == 0 && lseek(fd, 50, SEEK_SET) == 50 &&
		 lk(fd, F_SETLK, F_WRLCK, SEEK_CUR, -10, 20) == 0 &&
		 sees(F_WRLCK, 0, 0, F_WRLCK, 40, 20, me, "SEEK_CUR") &&
		 lk(fd, F_SETLK, F_WRLCK, SEEK_END, -10, 0) == 0 &&
		 sees(F_WRLCK, 60, 0, F_WRLCK, 90, 0, me, "SEEK_END to EOF") &&
		 lk(fd, F_SETLK, F_WRLCK, SEEK_SET, LLONG_MAX, 1) == 0 &&
		 lk(fd, F_SETLK, F_UNLCK, SEEK_SET, LLONG_MAX - 1, 0) == 0 &&
		 sees(F_WRLCK, 60, 0, F_WRLCK, 90, LLONG_MAX - 1 - 90, me,
		      "unlock near the top leaves a bounded lock");
	close(fd);
	return ok;
}

static int t_errors(void)
{
	int fd = fresh(100);
	int ro = open(path, O_RDONLY), wo = open(path, O_WRONLY), opath = open(path, O_PATH);
	struct flock fl = { .l_type = F_RDLCK, .l_whence = SEEK_SET };
	int ok = lk(fd, F_SETLK, 3, SEEK_SET, 0, 0) == EINVAL &&
		 lk(fd, F_SETLK, F_RDLCK, 3, 0, 0) == EINVAL &&
		 lk(fd, F_SETLK, F_RDLCK, -1, 0, 0) == EINVAL &&
		 lk(fd, F_GETLK, F_UNLCK, SEEK_SET, 0, 0) == EINVAL &&
		 lk(fd, F_GETLK, 7, SEEK_SET, 0, 0) == EINVAL &&
		 lk(fd, F_SETLK, F_RDLCK, SEEK_SET, -1, 0) == EINVAL &&
		 lk(fd, F_SETLK, F_RDLCK, SEEK_SET, 5, -6) == EINVAL &&
		 lk(fd, F_SETLK, F_RDLCK, SEEK_SET, LLONG_MAX, 2) == EOVERFLOW &&
		 lk(fd, F_SETLK, F_RDLCK, SEEK_END, LLONG_MAX, 0) == EOVERFLOW &&
		 lk(fd, F_SETLK, F_RDLCK, SEEK_END, -101, 0) == EINVAL &&
		 lk(wo, F_SETLK, F_RDLCK, SEEK_SET, 0, 0) == EBADF &&
		 lk(ro, F_SETLK, F_WRLCK, SEEK_SET, 0, 0) == EBADF &&
		 lk(wo, F_SETLK, F_WRLCK, SEEK_SET, 0, 0) == 0 &&
		 lk(ro, F_SETLK, F_RDLCK, SEEK_SET, 0, 0) == 0 &&
		 lk(ro, F_SETLK, F_UNLCK, SEEK_SET, 0, 0) == 0 &&
		 lk(ro, F_OFD_SETLK, F_RDLCK, SEEK_SET, 0, 0) == 0 &&
		 lk(ro, F_OFD_SETLK, F_UNLCK, SEEK_SET, 0, 0) == 0 &&
		 expect_errno(fcntl(fd, F_SETLK, (void *)16), EFAULT, "F_SETLK bad pointer") &&
		 expect_errno(fcntl(fd, F_GETLK, (void *)16), EFAULT, "F_GETLK bad pointer") &&
		 expect_errno(fcntl(fd, F_OFD_SETLKW, (void *)16), EFAULT, "F_OFD_SETLKW bad pointer") &&
		 expect_errno(fcntl(999, F_SETLK, &fl), EBADF, "F_SETLK bad fd") &&
		 expect_errno(fcntl(opath, F_SETLK, &fl), EBADF, "F_SETLK on an O_PATH fd") &&
		 expect_errno(fcntl(opath, F_GETLK, &fl), EBADF, "F_GETLK on an O_PATH fd") &&
		 expect_errno(flock(opath, LOCK_SH), EBADF, "flock on an O_PATH fd") &&
		 expect_errno(flock(opath, LOCK_UN), EBADF, "LOCK_UN on an O_PATH fd") &&
		 expect_errno(fcntl(-1, F_GETLK, &fl), EBADF, "F_GETLK bad fd");
	if (ok) {
		fl.l_pid = 1;
		ok = expect_errno(fcntl(fd, F_OFD_SETLK, &fl), EINVAL, "F_OFD_SETLK with l_pid") &&
		     expect_errno(fcntl(fd, F_OFD_GETLK, &fl), EINVAL, "F_OFD_GETLK with l_pid");
	} else if (!tap_detail[0]) {
		fail("an errno differs");
	}
	close(ro);
	close(wo);
	close(opath);
	close(fd);
	return ok;
}

static int t_close_any_fd(void)
{
	int fd = fresh(100);
	int other = open_rw(), dup_fd = dup(fd);
	int ok = lk(fd, F_SETLK, F_WRLCK, SEEK_SET, 0, 10) == 0 &&
		 lk(other, F_SETLK, F_WRLCK, SEEK_SET, 20, 10) == 0 &&
		 expect_status(IN_CHILD(try_lock(F_SETLK, F_WRLCK, 0, 1)), EAGAIN, "held") &&
		 close(dup_fd) == 0 &&
		 expect_status(IN_CHILD(try_lock(F_SETLK, F_WRLCK, 0, 1)), 0,
			       "closing a dup of the file drops the process's locks") &&
		 expect_status(IN_CHILD(try_lock(F_SETLK, F_WRLCK, 20, 1)), 0,
			       "even those taken through another open") &&
		 lk(fd, F_SETLK, F_WRLCK, SEEK_SET, 0, 10) == 0 && close(other) == 0 &&
		 expect_status(IN_CHILD(try_lock(F_SETLK, F_WRLCK, 5, 1)), 0,
			       "closing another open of the file drops them too");
	close(fd);
	return ok;
}

static int t_child_unlock_and_exit(void)
{
	int fd = fresh(100);
	int ok = lk(fd, F_SETLK, F_WRLCK, SEEK_SET, 0, 10) == 0 &&
		 expect_status(IN_CHILD(lk(fd, F_SETLK, F_UNLCK, SEEK_SET, 0, 0)), 0,
			       "a child's unlock succeeds") &&
		 expect_status(IN_CHILD(try_lock(F_SETLK, F_WRLCK, 0, 1)), EAGAIN,
			       "and does not drop the parent's lock") &&
		 lk(fd, F_SETLK, F_UNLCK, SEEK_SET, 0, 0) == 0 &&
		 expect_status(IN_CHILD(({
				       int c = open_rw();
				       lk(c, F_SETLK, F_WRLCK, SEEK_SET, 0, 0); /* held at exit */
			       })),
			       0, "a child locks and exits") &&
		 lk(fd, F_SETLK, F_WRLCK, SEEK_SET, 0, 0) == 0;
	close(fd);
	return ok ? 1 : (tap_detail[0] ? 0 : fail("exit did not drop the child's lock"));
}

/* In a child: tell the parent we are about to block, then F_SETLKW; 0 or the errno. */
static int wait_lock(int ready, int cmd, short type, off_t start, off_t len)
{
	int fd = open_rw();
	if (fd < 0)
		return 100;
	if (write(ready, "r", 1) != 1)
		return 101;
	return lk(fd, cmd, type, SEEK_SET, start, len);
}

static int t_setlkw_woken(void)
{
	int fd = fresh(100);
	int p[2];
	if (pipe(p) || lk(fd, F_SETLK, F_WRLCK, SEEK_SET, 0, 10))
		return fail("setup");
	fflush(stdout);
	pid_t pid = fork();
	if (pid == 0)
		_exit(wait_lock(p[1], F_SETLKW, F_WRLCK, 5, 1));
	char c;
	int ok = read(p[0], &c, 1) == 1;
	usleep(50000); /* let it block; the result is the same if it has not yet */
	ok = ok && lk(fd, F_SETLK, F_UNLCK, SEEK_SET, 0, 0) == 0;
	int st;
	waitpid(pid, &st, 0);
	close(p[0]);
	close(p[1]);
	close(fd);
	return ok && expect_status(WIFEXITED(st) ? WEXITSTATUS(st) : 200, 0,
				   "F_SETLKW granted after the unlock");
}

static void on_alarm(int sig)
{
	(void)sig;
}

static int t_setlkw_eintr(void)
{
	int fd = fresh(100);
	if (lk(fd, F_SETLK, F_WRLCK, SEEK_SET, 0, 0))
		return fail("setup");
	int st = IN_CHILD(({
		struct sigaction sa = { .sa_handler = on_alarm }; /* no SA_RESTART */
		sigaction(SIGALRM, &sa, NULL);
		alarm(1);
		try_lock(F_SETLKW, F_WRLCK, 0, 1);
	}));
	int ok = expect_status(st, EINTR, "F_SETLKW ended by a signal") &&
		 expect_status(IN_CHILD(try_lock(F_SETLK, F_WRLCK, 0, 1)), EAGAIN,
			       "the parent still holds its lock");
	close(fd);
	return ok;
}

static int t_setlkw_restart(void)
{
	int fd = fresh(100);
	int p[2];
	if (pipe(p) || lk(fd, F_SETLK, F_WRLCK, SEEK_SET, 0, 0))
		return fail("setup");
	fflush(stdout);
	pid_t pid = fork();
	if (pid == 0) {
		struct sigaction sa = { .sa_handler = on_alarm, .sa_flags = SA_RESTART };
		sigaction(SIGALRM, &sa, NULL);
		alarm(1);
		_exit(wait_lock(p[1], F_SETLKW, F_WRLCK, 0, 1));
	}
	char c;
	int ok = read(p[0], &c, 1) == 1;
	/* Most often the alarm comes while the child waits and the call restarts; either
	 * way it must end with the lock once the parent lets go. */
	usleep(1500000);
	ok = ok && lk(fd, F_SETLK, F_UNLCK, SEEK_SET, 0, 0) == 0;
	int st;
	waitpid(pid, &st, 0);
	close(p[0]);
	close(p[1]);
	close(fd);
	return ok && expect_status(WIFEXITED(st) ? WEXITSTATUS(st) : 200, 0,
				   "F_SETLKW restarted after an SA_RESTART handler");
}

static int t_deadlock(void)
{
	int fd = fresh(100);
	int p[2];
	if (pipe(p) || lk(fd, F_SETLK, F_WRLCK, SEEK_SET, 0, 1))
		return fail("setup");
	int q[2];
	if (pipe(q))
		return fail("pipe");
	fflush(stdout);
	pid_t pid = fork();
	if (pid == 0) {
		int c = open_rw();
		if (lk(c, F_SETLK, F_WRLCK, SEEK_SET, 1, 1))
			_exit(100);
		/* Holding byte 1, wait for byte 0, which the parent holds. */
		if (write(p[1], "r", 1) != 1)
			_exit(101);
		_exit(lk(c, F_SETLKW, F_WRLCK, SEEK_SET, 0, 1));
	}
	char c;
	int ok = read(p[0], &c, 1) == 1;
	usleep(50000);
	/* The parent asks for byte 1: whichever of the two asked second gets EDEADLK. */
	int mine = lk(fd, F_SETLKW, F_WRLCK, SEEK_SET, 1, 1);
	if (mine == EDEADLK)
		lk(fd, F_SETLK, F_UNLCK, SEEK_SET, 0, 0); /* let the child through */
	int st;
	waitpid(pid, &st, 0);
	int theirs = WIFEXITED(st) ? WEXITSTATUS(st) : 200;
	close(p[0]);
	close(p[1]);
	close(q[0]);
	close(q[1]);
	close(fd);
	if (!ok)
		return fail("setup");
	if ((mine == EDEADLK && theirs == 0) || (mine == 0 && theirs == EDEADLK))
		return 1;
	return fail("parent %s, child %s", errno_name(mine), errno_name(theirs));
}

static int t_ofd(void)
{
	int fd = fresh(100);
	struct flock fl;
	int ok = lk(fd, F_OFD_SETLK, F_WRLCK, SEEK_SET, 0, 10) == 0 &&
		 child_getlk(F_OFD_GETLK, F_WRLCK, 0, 1, &fl) &&
		 (fl.l_type == F_WRLCK && fl.l_pid == -1 && fl.l_start == 0 && fl.l_len == 10
			  ? 1
			  : fail("F_OFD_GETLK: type %d pid %d", fl.l_type, fl.l_pid)) &&
		 sees(F_WRLCK, 0, 1, F_WRLCK, 0, 10, -1, "F_GETLK sees an OFD lock with l_pid -1") &&
		 expect_status(IN_CHILD(try_lock(F_OFD_SETLK, F_RDLCK, 0, 1)), EAGAIN,
			       "another open conflicts") &&
		 expect_status(IN_CHILD(try_lock(F_SETLK, F_RDLCK, 0, 1)), EAGAIN,
			       "a POSIX lock conflicts with an OFD lock") &&
		 expect_status(IN_CHILD(lk(fd, F_OFD_SETLK, F_WRLCK, SEEK_SET, 0, 20)), 0,
			       "the same open file in a child is the owner") &&
		 expect_status(IN_CHILD(try_lock(F_SETLK, F_RDLCK, 15, 1)), EAGAIN,
			       "the child's change is the parent's lock") &&
		 lk(fd, F_SETLK, F_WRLCK, SEEK_SET, 0, 1) == EAGAIN;
	if (!ok) {
		close(fd);
		return tap_detail[0] ? 0 : fail("OFD ownership");
	}
	int d = dup(fd);
	close(d);
	ok = expect_status(IN_CHILD(try_lock(F_OFD_SETLK, F_RDLCK, 0, 1)), EAGAIN,
			   "closing a dup keeps an OFD lock");
	close(fd);
	return ok && expect_status(IN_CHILD(try_lock(F_OFD_SETLK, F_WRLCK, 0, 0)), 0,
				   "the last close drops it");
}

static int t_flock(void)
{
	int fd = fresh(100);
	int ok = flock(fd, LOCK_EX) == 0 &&
		 expect_status(IN_CHILD(flock(open_rw(), LOCK_EX | LOCK_NB) ? errno : 0),
			       EWOULDBLOCK, "another open: LOCK_EX") &&
		 expect_status(IN_CHILD(flock(open_rw(), LOCK_SH | LOCK_NB) ? errno : 0),
			       EWOULDBLOCK, "another open: LOCK_SH") &&
		 expect_status(IN_CHILD(flock(fd, LOCK_EX | LOCK_NB) ? errno : 0), 0,
			       "the inherited open file owns it") &&
		 expect_status(IN_CHILD(try_lock(F_SETLK, F_WRLCK, 0, 0)), 0,
			       "flock and POSIX locks do not conflict") &&
		 flock(fd, LOCK_SH) == 0 &&
		 expect_status(IN_CHILD(flock(open_rw(), LOCK_SH | LOCK_NB) ? errno : 0), 0,
			       "converted to shared") &&
		 expect_status(IN_CHILD(flock(open_rw(), LOCK_EX | LOCK_NB) ? errno : 0),
			       EWOULDBLOCK, "shared still excludes writers");
	if (!ok) {
		close(fd);
		return tap_detail[0] ? 0 : fail("flock");
	}
	int d = dup(fd);
	close(fd);
	ok = expect_status(IN_CHILD(flock(open_rw(), LOCK_EX | LOCK_NB) ? errno : 0), EWOULDBLOCK,
			   "a dup keeps it") &&
	     expect_status(IN_CHILD(flock(d, LOCK_UN) ? errno : 0), 0, "a child unlocks it") &&
	     expect_status(IN_CHILD(flock(open_rw(), LOCK_EX | LOCK_NB) ? errno : 0), 0,
			   "for everyone") &&
	     flock(d, LOCK_EX) == 0;
	close(d);
	return ok && expect_status(IN_CHILD(flock(open_rw(), LOCK_EX | LOCK_NB) ? errno : 0), 0,
				   "the last close drops it");
}

static int t_flock_errors(void)
{
	int fd = fresh(100);
	int ro = open(path, O_RDONLY);
	int ok = expect_errno(flock(fd, 0), EINVAL, "no operation") &&
		 expect_errno(flock(fd, LOCK_SH | LOCK_EX), EINVAL, "two operations") &&
		 expect_errno(flock(fd, LOCK_NB), EINVAL, "LOCK_NB alone") &&
		 expect_errno(flock(fd, 64), EINVAL, "an unknown bit") &&
		 expect_errno(flock(-1, LOCK_SH), EBADF, "fd -1") &&
		 expect_errno(flock(999, LOCK_UN), EBADF, "a closed fd") &&
		 expect_errno(flock(999, 0), EINVAL, "EINVAL before EBADF") &&
		 flock(ro, LOCK_EX) == 0 && flock(fd, LOCK_UN) == 0 &&
		 expect_errno(flock(fd, LOCK_SH | LOCK_NB), EWOULDBLOCK,
			      "a read-only open may hold LOCK_EX");
	close(ro);
	close(fd);
	return ok;
}

static int t_flock_wait(void)
{
	int fd = fresh(100);
	int p[2];
	if (pipe(p) || flock(fd, LOCK_EX))
		return fail("setup");
	fflush(stdout);
	pid_t pid = fork();
	if (pid == 0) {
		int c = open_rw();
		if (write(p[1], "r", 1) != 1)
			_exit(101);
		_exit(flock(c, LOCK_EX) ? errno : 0);
	}
	char c;
	int ok = read(p[0], &c, 1) == 1;
	usleep(50000);
	ok = ok && flock(fd, LOCK_UN) == 0;
	int st;
	waitpid(pid, &st, 0);
	close(p[0]);
	close(p[1]);
	close(fd);
	return ok && expect_status(WIFEXITED(st) ? WEXITSTATUS(st) : 200, 0,
				   "LOCK_EX granted after LOCK_UN");
}

static int t_many(void)
{
	/* 2000 separate one-byte locks, then one unlock of them all. */
	int fd = fresh(100);
	for (int i = 0; i < 2000; i++)
		if (lk(fd, F_SETLK, F_WRLCK, SEEK_SET, 2 * i, 1))
			return fail("lock %d: %s", i, errno_name(errno));
	int ok = sees(F_WRLCK, 1999, 3, F_WRLCK, 2000, 1, getpid(), "one of many") &&
		 lk(fd, F_SETLK, F_UNLCK, SEEK_SET, 0, 0) == 0 &&
		 sees(F_WRLCK, 0, 0, F_UNLCK, 0, 0, 0, "all gone");
	close(fd);
	return ok;
}

/* In each of 4 children, 300 times: lock, read the counter, add one, write it, unlock. */
static int counter_children(int use_flock)
{
	int fd = fresh(16);
	pid_t pids[4];
	fflush(stdout);
	for (int c = 0; c < 4; c++) {
		pids[c] = fork();
		if (pids[c] == 0) {
			int my = open_rw();
			for (int i = 0; i < 300; i++) {
				long v = 0;
				int r = use_flock ? flock(my, LOCK_EX)
						  : lk(my, F_SETLKW, F_WRLCK, SEEK_SET, 0, 1);
				if (r)
					_exit(1);
				if (pread(my, &v, sizeof(v), 8) != sizeof(v))
					_exit(2);
				v++;
				if (pwrite(my, &v, sizeof(v), 8) != sizeof(v))
					_exit(3);
				r = use_flock ? flock(my, LOCK_UN)
					      : lk(my, F_SETLK, F_UNLCK, SEEK_SET, 0, 1);
				if (r)
					_exit(4);
			}
			_exit(0);
		}
	}
	int bad = 0;
	for (int c = 0; c < 4; c++) {
		int st;
		waitpid(pids[c], &st, 0);
		bad |= !WIFEXITED(st) || WEXITSTATUS(st) != 0;
	}
	long v = -1;
	if (pread(fd, &v, sizeof(v), 8) != sizeof(v))
		v = -1;
	close(fd);
	if (bad)
		return fail("a child failed");
	return v == 1200 ? 1 : fail("counter %ld, want 1200", v);
}

static int t_counter_posix(void)
{
	return counter_children(0);
}

static int t_counter_flock(void)
{
	return counter_children(1);
}

static int t_kill_waiter(void)
{
	int fd = fresh(100);
	int p[2];
	if (pipe(p) || lk(fd, F_SETLK, F_WRLCK, SEEK_SET, 0, 0) || flock(fd, LOCK_EX))
		return fail("setup");
	fflush(stdout);
	pid_t a = fork();
	if (a == 0)
		_exit(wait_lock(p[1], F_SETLKW, F_WRLCK, 0, 1));
	pid_t b = fork();
	if (b == 0) {
		int c = open_rw();
		if (write(p[1], "r", 1) != 1)
			_exit(101);
		_exit(flock(c, LOCK_EX) ? errno : 0);
	}
	char c;
	int ok = read(p[0], &c, 1) == 1 && read(p[0], &c, 1) == 1;
	usleep(50000);
	kill(a, SIGKILL);
	kill(b, SIGKILL);
	int sa, sb;
	waitpid(a, &sa, 0);
	waitpid(b, &sb, 0);
	close(p[0]);
	close(p[1]);
	ok = ok && WIFSIGNALED(sa) && WTERMSIG(sa) == SIGKILL && WIFSIGNALED(sb) &&
	     WTERMSIG(sb) == SIGKILL;
	if (!ok) {
		close(fd);
		return fail("the waiters did not die of SIGKILL");
	}
	ok = lk(fd, F_SETLK, F_UNLCK, SEEK_SET, 0, 0) == 0 && flock(fd, LOCK_UN) == 0 &&
	     expect_status(IN_CHILD(try_lock(F_SETLK, F_WRLCK, 0, 0)), 0,
			   "the file is free after the killed waiters") &&
	     expect_status(IN_CHILD(flock(open_rw(), LOCK_EX | LOCK_NB) ? errno : 0), 0,
			   "for flock too");
	close(fd);
	return ok;
}

/* The line of /proc/locks for a lock of `kind` on `fd` held by `pid` (-1 for OFD). */
static int proc_locks_has(int fd, const char *kind, const char *type, int pid)
{
	struct stat st;
	char want[160], line[256];
	if (fstat(fd, &st))
		return fail("fstat");
	snprintf(want, sizeof(want), "%s ADVISORY  %s %d %02x:%02x:%lu 0 EOF\n", kind, type, pid,
		 major(st.st_dev), minor(st.st_dev), (unsigned long)st.st_ino);
	FILE *f = fopen("/proc/locks", "r");
	if (!f)
		return fail("open /proc/locks: %s", errno_name(errno));
	int found = 0;
	while (fgets(line, sizeof(line), f)) {
		char *rest = strchr(line, ':');
		if (rest && strcmp(rest + 2, want) == 0)
			found = 1;
	}
	fclose(f);
	return found ? 1 : fail("no /proc/locks line '%s %s'", kind, type);
}

static int t_proc_locks(void)
{
	int fd = fresh(100);
	int other = open_rw();
	int ok = lk(fd, F_SETLK, F_WRLCK, SEEK_SET, 0, 0) == 0 &&
		 proc_locks_has(fd, "POSIX ", "WRITE", getpid()) &&
		 flock(fd, LOCK_SH) == 0 && proc_locks_has(fd, "FLOCK ", "READ", getpid()) &&
		 lk(fd, F_SETLK, F_UNLCK, SEEK_SET, 0, 0) == 0 &&
		 lk(other, F_OFD_SETLK, F_RDLCK, SEEK_SET, 0, 0) == 0 &&
		 proc_locks_has(fd, "OFDLCK", "READ", -1);
	close(other);
	close(fd);
	return ok;
}

int main(void)
{
	/* Where proc is already mounted (Linux, qemu-aarch64, a proctest run before) this
	 * fails; that is fine. */
	mkdir("/proc", 0555);
	mount("proc", "/proc", "proc", 0, NULL);
	snprintf(path, sizeof(path), "/tmp/filelock.%d", (int)getpid());
	static const struct test tests[] = {
		{ "F_GETLK on an unlocked file answers F_UNLCK, the rest untouched", t_getlk_unlocked },
		{ "read and write locks conflict as POSIX says; F_GETLK reports the holder", t_conflicts },
		{ "unlocking splits a range; touching and overlapping same-type locks merge", t_split_merge },
		{ "a lock is upgraded and downgraded in place", t_upgrade_downgrade },
		{ "negative l_len, SEEK_CUR, SEEK_END, the top of the range", t_ranges },
		{ "fcntl lock errnos: EINVAL, EOVERFLOW, EBADF, EFAULT", t_errors },
		{ "closing any descriptor of the file drops the process's locks", t_close_any_fd },
		{ "a fork child neither owns nor drops the parent's locks; exit drops a child's",
		  t_child_unlock_and_exit },
		{ "F_SETLKW sleeps until the conflicting lock goes", t_setlkw_woken },
		{ "F_SETLKW ends with EINTR on a signal and leaves no trace", t_setlkw_eintr },
		{ "F_SETLKW restarts after an SA_RESTART handler", t_setlkw_restart },
		{ "two processes waiting on each other: one gets EDEADLK", t_deadlock },
		{ "OFD locks belong to the open file description", t_ofd },
		{ "flock: shared across fork and dup, converted, released at the last close", t_flock },
		{ "flock errnos", t_flock_errors },
		{ "flock LOCK_EX sleeps until LOCK_UN", t_flock_wait },
		{ "2000 separate locks and one unlock", t_many },
		{ "/proc/locks lists POSIX, FLOCK and OFDLCK locks", t_proc_locks },
		{ "4 processes count to 1200 under F_SETLKW", t_counter_posix },
		{ "4 processes count to 1200 under flock", t_counter_flock },
		{ "waiters killed by SIGKILL leave the file free", t_kill_waiter },
	};
	int status = run_tests(tests, TEST_COUNT(tests));
	unlink(path);
	return status;
}
