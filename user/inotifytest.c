/*
 * inotifytest.c - inotify as `tail -f` and file managers use it: the errnos of
 * inotify_init1/inotify_add_watch/inotify_rm_watch, and the events a directory watch and a
 * file watch get for create, write (two writes merged into one IN_MODIFY), close, chmod,
 * rename (one cookie for IN_MOVED_FROM and IN_MOVED_TO), unlink (IN_ATTRIB,
 * IN_DELETE_SELF, IN_IGNORED, then the directory's IN_DELETE), mkdir and rmdir, open/read/close of a watched file;
 * IN_ONESHOT, IN_MASK_ADD, IN_MASK_CREATE, inotify_rm_watch's IN_IGNORED, a read buffer
 * too small (EINVAL), FIONREAD, and a blocking read and epoll woken by another process.
 *
 * It works in `inotify.work` under the current directory (a tmpfs on Linux's side, ramfs
 * on Cradle's).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/inotify.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "tap.h"

#define DIR_ "inotify.work"

static int expect_errno(long ret, int want, const char *what)
{
	if (ret != -1 || errno != want)
		return fail("%s: ret %ld errno %s, want %s", what, ret, ret == -1 ? errno_name(errno) : "-",
			    errno_name(want));
	return 1;
}

static const char *name_of(uint32_t bit)
{
	switch (bit) {
	case IN_ACCESS: return "ACCESS";
	case IN_MODIFY: return "MODIFY";
	case IN_ATTRIB: return "ATTRIB";
	case IN_CLOSE_WRITE: return "CLOSE_WRITE";
	case IN_CLOSE_NOWRITE: return "CLOSE_NOWRITE";
	case IN_OPEN: return "OPEN";
	case IN_MOVED_FROM: return "MOVED_FROM";
	case IN_MOVED_TO: return "MOVED_TO";
	case IN_CREATE: return "CREATE";
	case IN_DELETE: return "DELETE";
	case IN_DELETE_SELF: return "DELETE_SELF";
	case IN_MOVE_SELF: return "MOVE_SELF";
	case IN_IGNORED: return "IGNORED";
	case IN_ISDIR: return "ISDIR";
	case IN_Q_OVERFLOW: return "OVERFLOW";
	default: return "?";
	}
}

static uint32_t cookies[8];
static int n_cookies;

/* Every queued event as "wd:MASK|MASK:name ..." (a non-blocking fd); cookies noted. */
static const char *drain(int fd)
{
	static char out[2048];
	char buf[4096] __attribute__((aligned(8)));
	out[0] = '\0';
	n_cookies = 0;
	for (;;) {
		ssize_t n = read(fd, buf, sizeof(buf));
		if (n <= 0)
			break;
		for (char *p = buf; p < buf + n;) {
			struct inotify_event *e = (struct inotify_event *)p;
			char one[128];
			int len = snprintf(one, sizeof(one), "%s%d:", out[0] ? " " : "", e->wd);
			for (uint32_t bit = 1; bit; bit <<= 1)
				if (e->mask & bit)
					len += snprintf(one + len, sizeof(one) - len, "%s%s",
							one[len - 1] == ':' ? "" : "|", name_of(bit));
			if (e->len)
				snprintf(one + len, sizeof(one) - len, ":%s", e->name);
			strncat(out, one, sizeof(out) - strlen(out) - 1);
			if (e->cookie && n_cookies < 8)
				cookies[n_cookies++] = e->cookie;
			p += sizeof(*e) + e->len;
		}
	}
	return out;
}

static int expect_events(int fd, const char *want)
{
	const char *got = drain(fd);
	if (strcmp(got, want) != 0)
		return fail("events \"%s\", want \"%s\"", got, want);
	return 1;
}

static void clean(void)
{
	unlink(DIR_ "/f");
	unlink(DIR_ "/g");
	unlink(DIR_ "/h");
	rmdir(DIR_ "/sub");
	rmdir(DIR_);
}

static int test_errors(void)
{
	int p[2];
	if (pipe(p))
		return fail("pipe");
	if (!expect_errno(inotify_init1(0x42), EINVAL, "inotify_init1(bad flags)"))
		return 0;
	int fd = inotify_init1(IN_CLOEXEC | IN_NONBLOCK);
	if (fd < 0)
		return fail("inotify_init1: %s", errno_name(errno));
	if (!(fcntl(fd, F_GETFD) & FD_CLOEXEC) || !(fcntl(fd, F_GETFL) & O_NONBLOCK))
		return fail("IN_CLOEXEC/IN_NONBLOCK not set");
	clean();
	mkdir(DIR_, 0755);
	close(open(DIR_ "/f", O_CREAT | O_WRONLY, 0644));
	int ok = expect_errno(inotify_add_watch(1000, DIR_, IN_CREATE), EBADF, "closed fd") &&
		 expect_errno(inotify_add_watch(p[0], DIR_, IN_CREATE), EINVAL, "a pipe") &&
		 expect_errno(inotify_add_watch(fd, DIR_, 0), EINVAL, "mask 0") &&
		 expect_errno(inotify_add_watch(fd, DIR_, IN_CREATE | IN_MASK_ADD | IN_MASK_CREATE), EINVAL,
			      "IN_MASK_ADD with IN_MASK_CREATE") &&
		 expect_errno(inotify_add_watch(fd, DIR_ "/none", IN_CREATE), ENOENT, "missing path") &&
		 expect_errno(inotify_add_watch(fd, DIR_ "/f", IN_CREATE | IN_ONLYDIR), ENOTDIR, "IN_ONLYDIR on a file") &&
		 expect_errno(inotify_rm_watch(fd, 12345), EINVAL, "rm_watch of no watch") &&
		 expect_errno(inotify_rm_watch(1000, 1), EBADF, "rm_watch on a closed fd") &&
		 expect_errno(inotify_rm_watch(p[0], 1), EINVAL, "rm_watch on a pipe");
	if (!ok)
		return 0;
	uint64_t v;
	if (!expect_errno(read(fd, &v, 8), EAGAIN, "read of an empty queue"))
		return 0;
	/* Watch descriptors: the same inode, the same one; IN_MASK_CREATE then EEXIST. */
	int a = inotify_add_watch(fd, DIR_, IN_CREATE);
	int b = inotify_add_watch(fd, DIR_ "/", IN_DELETE);
	if (a < 1 || a != b)
		return fail("watch descriptors %d and %d for one directory", a, b);
	if (!expect_errno(inotify_add_watch(fd, DIR_, IN_CREATE | IN_MASK_CREATE), EEXIST, "IN_MASK_CREATE twice"))
		return 0;
	int c = inotify_add_watch(fd, DIR_ "/f", IN_MODIFY);
	if (c == a || c < 1)
		return fail("a second inode got descriptor %d (first %d)", c, a);
	/* rm_watch queues IN_IGNORED. */
	if (inotify_rm_watch(fd, c) || !expect_events(fd, "2:IGNORED"))
		return fail("rm_watch: %s", tap_detail[0] ? tap_detail : errno_name(errno));
	/* b replaced a's mask (IN_DELETE only): a create is not reported. */
	close(open(DIR_ "/g", O_CREAT | O_WRONLY, 0644));
	if (!expect_events(fd, ""))
		return 0;
	close(fd), close(p[0]), close(p[1]);
	clean();
	return 1;
}

static int test_directory_events(void)
{
	clean();
	mkdir(DIR_, 0755);
	int fd = inotify_init1(IN_NONBLOCK);
	int wd = inotify_add_watch(fd, DIR_, IN_ALL_EVENTS & ~(IN_OPEN | IN_ACCESS | IN_CLOSE_NOWRITE));
	if (wd != 1)
		return fail("wd %d, want 1", wd);
	int f = open(DIR_ "/f", O_CREAT | O_WRONLY, 0644);
	if (write(f, "ab", 2) != 2 || write(f, "cd", 2) != 2)
		return fail("write");
	close(f);
	chmod(DIR_ "/f", 0600);
	if (!expect_events(fd, "1:CREATE:f 1:MODIFY:f 1:CLOSE_WRITE:f 1:ATTRIB:f"))
		return 0;
	rename(DIR_ "/f", DIR_ "/g");
	if (!expect_events(fd, "1:MOVED_FROM:f 1:MOVED_TO:g"))
		return 0;
	if (n_cookies != 2 || cookies[0] != cookies[1] || cookies[0] == 0)
		return fail("cookies %d: %u %u", n_cookies, cookies[0], cookies[1]);
	unlink(DIR_ "/g");
	mkdir(DIR_ "/sub", 0755);
	rmdir(DIR_ "/sub");
	if (!expect_events(fd, "1:DELETE:g 1:CREATE|ISDIR:sub 1:DELETE|ISDIR:sub"))
		return 0;
	/* The watched directory itself goes. */
	rmdir(DIR_);
	if (!expect_events(fd, "1:DELETE_SELF 1:IGNORED"))
		return 0;
	close(fd);
	clean();
	return 1;
}

static int test_file_events(void)
{
	clean();
	mkdir(DIR_, 0755);
	int f = open(DIR_ "/f", O_CREAT | O_WRONLY, 0644);
	if (write(f, "hello", 5) != 5)
		return fail("write");
	close(f);
	int fd = inotify_init1(IN_NONBLOCK);
	int wd = inotify_add_watch(fd, DIR_ "/f", IN_ALL_EVENTS);
	int dwd = inotify_add_watch(fd, DIR_, IN_DELETE);
	if (wd != 1 || dwd != 2)
		return fail("wds %d %d", wd, dwd);
	char buf[8];
	f = open(DIR_ "/f", O_RDONLY);
	if (read(f, buf, sizeof(buf)) != 5)
		return fail("read");
	close(f);
	if (!expect_events(fd, "1:OPEN 1:ACCESS 1:CLOSE_NOWRITE"))
		return 0;
	link(DIR_ "/f", DIR_ "/h");
	unlink(DIR_ "/h");
	/* Two equal events in a row are merged. */
	if (!expect_events(fd, "1:ATTRIB 2:DELETE:h"))
		return 0;
	truncate(DIR_ "/f", 1);
	unlink(DIR_ "/f");
	if (!expect_events(fd, "1:MODIFY 1:ATTRIB 1:DELETE_SELF 1:IGNORED 2:DELETE:f"))
		return 0;
	close(fd);
	clean();
	return 1;
}

static int test_flags(void)
{
	clean();
	mkdir(DIR_, 0755);
	int fd = inotify_init1(IN_NONBLOCK);
	int wd = inotify_add_watch(fd, DIR_, IN_CREATE | IN_ONESHOT);
	close(open(DIR_ "/f", O_CREAT | O_WRONLY, 0644));
	close(open(DIR_ "/g", O_CREAT | O_WRONLY, 0644));
	if (!expect_events(fd, "1:CREATE:f 1:IGNORED"))
		return 0;
	if (!expect_errno(inotify_rm_watch(fd, wd), EINVAL, "rm_watch of a fired IN_ONESHOT watch"))
		return 0;
	/* IN_MASK_ADD keeps what was there. */
	wd = inotify_add_watch(fd, DIR_, IN_CREATE);
	if (inotify_add_watch(fd, DIR_, IN_DELETE | IN_MASK_ADD) != wd)
		return fail("IN_MASK_ADD gave another descriptor");
	close(open(DIR_ "/h", O_CREAT | O_WRONLY, 0644));
	unlink(DIR_ "/h");
	if (!expect_events(fd, "2:CREATE:h 2:DELETE:h"))
		return 0;
	/* A buffer too small for the next event; FIONREAD. */
	close(open(DIR_ "/h", O_CREAT | O_WRONLY, 0644));
	int queued = 0;
	if (ioctl(fd, FIONREAD, &queued) || queued != 32)
		return fail("FIONREAD %d, want 32 (16 + the name padded to 16)", queued);
	char small[20];
	if (!expect_errno(read(fd, small, sizeof(small)), EINVAL, "a 20-byte read of a 32-byte event"))
		return 0;
	if (!expect_events(fd, "2:CREATE:h"))
		return 0;
	close(fd);
	clean();
	return 1;
}

static int test_blocking(void)
{
	clean();
	mkdir(DIR_, 0755);
	close(open(DIR_ "/f", O_CREAT | O_WRONLY, 0644));
	int fd = inotify_init1(0), ep = epoll_create1(0);
	inotify_add_watch(fd, DIR_ "/f", IN_MODIFY);
	struct epoll_event ev = { .events = EPOLLIN, .data.u64 = 8 };
	epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev);
	if (epoll_wait(ep, &ev, 1, 0) != 0)
		return fail("an empty inotify is ready");
	pid_t pid = fork();
	if (pid == 0) {
		int f = open(DIR_ "/f", O_WRONLY | O_APPEND);
		_exit(write(f, "x", 1) == 1 ? 0 : 1);
	}
	/* What `tail -f` does: wait for the file to change. */
	if (epoll_wait(ep, &ev, 1, -1) != 1 || ev.data.u64 != 8)
		return fail("epoll_wait");
	char buf[64] __attribute__((aligned(8)));
	ssize_t n = read(fd, buf, sizeof(buf));
	struct inotify_event *e = (struct inotify_event *)buf;
	waitpid(pid, NULL, 0);
	if (n != sizeof(*e) || e->mask != IN_MODIFY || e->len != 0)
		return fail("read %zd bytes, mask %#x", n, e->mask);
	close(fd), close(ep);
	clean();
	return 1;
}

static const struct test tests[] = {
	{ "inotify_init1/add_watch/rm_watch errnos; descriptors; IN_MASK_CREATE; IN_IGNORED", test_errors },
	{ "a directory's events: create, merged writes, close, chmod, rename cookie, unlink, mkdir, rmdir, itself", test_directory_events },
	{ "a file's events: open, read, close, link count, truncate, delete", test_file_events },
	{ "IN_ONESHOT, IN_MASK_ADD, FIONREAD, EINVAL for a small buffer", test_flags },
	{ "epoll and a read woken by another process's write", test_blocking },
};

int main(void)
{
	return run_tests(tests, TEST_COUNT(tests));
}
