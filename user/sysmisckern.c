/*
 * sysmisckern.c - system calls whose Linux behaviour qemu-aarch64 cannot show, judged on
 * Debian's arm64 kernel (6.1) instead: execveat (qemu-aarch64 would hand the arm64
 * program to the host), chroot (it would move the host's root), mlock2 and
 * preadv2/pwritev2 flags (qemu-aarch64 does not pass them on), membarrier, ioprio_get/set.
 *
 * Run as root from the test initramfs, as /bin/sysmisckern: it re-executes itself with
 * `exec-child EXPECTED-AT_EXECFN` as its arguments, and that child exits 42 if its
 * AT_EXECFN is what the caller expected (43 if not). The task's new name after an
 * execveat by descriptor is not checked: Linux changed it in 6.14.
 *
 * membarrier's QUERY is checked for the commands Cradle has: Linux built with rseq also
 * reports the RSEQ ones. Every expected errno is Linux's.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/membarrier.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/auxv.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <unistd.h>

#include "tap.h"

#define BAD_POINTER ((void *)16)
#define NO_SUCH_PID 0x7ffffff0
#define TEST_UID 43217
#define PAGE 4096
#define SELF "/bin/sysmisckern"

#ifndef MLOCK_ONFAULT
#define MLOCK_ONFAULT 1
#endif

extern char **environ;

static int expect(const char *what, long rc, int want)
{
	int got = rc < 0 ? errno : 0;

	if (got != want)
		return fail("%s: expected %s, got %s (rc %ld)", what, errno_name(want),
			    errno_name(got), rc);
	return 1;
}

/* Run `fn` in a child; 1 if it exited 0. Its failure detail comes back through a pipe. */
static int in_child(int (*fn)(void))
{
	int fds[2];

	if (pipe(fds) != 0)
		return fail("pipe");
	pid_t pid = fork();
	if (pid < 0)
		return fail("fork");
	if (pid == 0) {
		close(fds[0]);
		int ok = fn();
		if (!ok && write(fds[1], tap_detail, strlen(tap_detail)) < 0)
			_exit(2);
		_exit(ok ? 0 : 1);
	}
	close(fds[1]);
	char buf[sizeof(tap_detail)];
	ssize_t n = read(fds[0], buf, sizeof(buf) - 1);
	close(fds[0]);
	int status;
	if (waitpid(pid, &status, 0) != pid)
		return fail("waitpid");
	if (WIFEXITED(status) && WEXITSTATUS(status) == 0)
		return 1;
	if (n > 0) {
		buf[n] = '\0';
		return fail("%s", buf);
	}
	return fail("child status %#x", status);
}

/* execveat(dirfd, path, flags) of this program in a child expecting AT_EXECFN `execfn`:
 * the child's exit status (42: ran, AT_EXECFN right), or -errno of a failed execveat. */
static int run_execveat(int dirfd, const char *path, int flags, const char *execfn)
{
	int fds[2];
	if (pipe2(fds, O_CLOEXEC) != 0)
		return -1000;
	pid_t pid = fork();
	if (pid == 0) {
		char *argv[] = { "sysmisckern", "exec-child", (char *)execfn, NULL };
		syscall(SYS_execveat, dirfd, path, argv, environ, flags);
		int err = errno;
		if (write(fds[1], &err, sizeof(err)) < 0)
			_exit(3);
		_exit(0);
	}
	close(fds[1]);
	int err = 0;
	ssize_t n = read(fds[0], &err, sizeof(err));
	close(fds[0]);
	int status;
	waitpid(pid, &status, 0);
	if (n == sizeof(err))
		return -err;
	return WIFEXITED(status) ? WEXITSTATUS(status) : -2000;
}

static int expect_exec(const char *what, int got, int want)
{
	if (got == want)
		return 1;
	if (got < 0)
		return fail("%s: errno %s (%d)", what, errno_name(-got), got);
	return fail("%s: status %d", what, got);
}

static int test_execveat(void)
{
	int bin = open("/bin", O_RDONLY | O_DIRECTORY);
	int self = open(SELF, O_RDONLY);
	int self_path = open(SELF, O_PATH);
	if (bin < 0 || self < 0 || self_path < 0)
		return fail("open");
	char fdname[32], relname[64];
	snprintf(fdname, sizeof(fdname), "/dev/fd/%d", self);
	int ok = expect_exec("absolute path", run_execveat(AT_FDCWD, SELF, 0, SELF), 42);
	snprintf(relname, sizeof(relname), "/dev/fd/%d/sysmisckern", bin);
	ok = ok && expect_exec("relative to a directory descriptor", run_execveat(bin, "sysmisckern", 0, relname), 42);
	ok = ok && expect_exec("AT_EMPTY_PATH (fexecve)", run_execveat(self, "", AT_EMPTY_PATH, fdname), 42);
	snprintf(fdname, sizeof(fdname), "/dev/fd/%d", self_path);
	ok = ok && expect_exec("AT_EMPTY_PATH of an O_PATH descriptor", run_execveat(self_path, "", AT_EMPTY_PATH, fdname), 42);
	ok = ok && expect_exec("empty path without AT_EMPTY_PATH", run_execveat(self, "", 0, ""), -ENOENT) &&
	     expect_exec("flag 0x4", run_execveat(AT_FDCWD, SELF, 0x4, SELF), -EINVAL) &&
	     expect_exec("a directory", run_execveat(AT_FDCWD, "/bin", 0, ""), -EACCES) &&
	     expect_exec("relative to a bad descriptor", run_execveat(-5, "sysmisckern", 0, ""), -EBADF) &&
	     expect_exec("relative to a file", run_execveat(self, "x", 0, ""), -ENOTDIR) &&
	     expect_exec("no such file", run_execveat(bin, "no-such-program", 0, ""), -ENOENT) &&
	     expect_exec("bad path pointer", run_execveat(AT_FDCWD, BAD_POINTER, 0, ""), -EFAULT);
	unlink("/sysmisckern.link");
	if (symlink(SELF, "/sysmisckern.link") != 0)
		return fail("symlink: errno %s", errno_name(errno));
	ok = ok && expect_exec("through a symbolic link", run_execveat(AT_FDCWD, "/sysmisckern.link", 0, "/sysmisckern.link"), 42) &&
	     expect_exec("AT_SYMLINK_NOFOLLOW on a symbolic link", run_execveat(AT_FDCWD, "/sysmisckern.link", AT_SYMLINK_NOFOLLOW, ""), -ELOOP);
	unlink("/sysmisckern.link");
	int data = open("/sysmisckern.data", O_RDWR | O_CREAT | O_TRUNC, 0644);
	ok = ok && expect_exec("AT_EMPTY_PATH of a file without x", run_execveat(data, "", AT_EMPTY_PATH, ""), -EACCES);
	close(data);
	unlink("/sysmisckern.data");
	/* fexecve is execveat(fd, "", AT_EMPTY_PATH) in glibc. */
	pid_t pid = fork();
	if (pid == 0) {
		char *argv[] = { "sysmisckern", "exec-child", fdname, NULL };
		fexecve(self_path, argv, environ);
		_exit(99);
	}
	int status;
	waitpid(pid, &status, 0);
	if (ok && (!WIFEXITED(status) || WEXITSTATUS(status) != 42))
		ok = fail("fexecve: status %#x", status);
	close(bin);
	close(self);
	close(self_path);
	return ok;
}

static long vm_lck(void)
{
	char buf[4096];
	int fd = open("/proc/self/status", O_RDONLY);
	if (fd < 0)
		return -1;
	ssize_t n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return -1;
	buf[n] = '\0';
	char *p = strstr(buf, "VmLck:");
	return p ? strtol(p + 6, NULL, 10) : -1;
}

static const char *residency(void *p, int pages)
{
	static char out[64];
	unsigned char vec[64];
	memset(vec, 0, sizeof(vec));
	if (mincore(p, (size_t)pages * PAGE, vec) != 0) {
		snprintf(out, sizeof(out), "mincore errno %s", errno_name(errno));
		return out;
	}
	for (int i = 0; i < pages; i++)
		out[i] = '0' + (vec[i] & 1);
	out[pages] = '\0';
	return out;
}

static char *map_pages(int pages)
{
	char *p = mmap(NULL, (size_t)pages * PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	return p == MAP_FAILED ? NULL : p;
}

static int test_mlock2(void)
{
	char *p = map_pages(2);
	if (!p)
		return fail("mmap");
	long base = vm_lck();
	int ok = expect("mlock2(MLOCK_ONFAULT)", syscall(SYS_mlock2, p, 2 * PAGE, MLOCK_ONFAULT), 0);
	const char *r = residency(p, 2);
	if (ok && (strcmp(r, "00") != 0 || vm_lck() - base != 8))
		ok = fail("MLOCK_ONFAULT: residency %s, VmLck +%ld kB", r, vm_lck() - base);
	if (ok) {
		p[PAGE] = 1;
		r = residency(p, 2);
		if (strcmp(r, "01") != 0)
			ok = fail("after touching the second page: %s", r);
	}
	ok = ok && expect("mlock2 flag 2", syscall(SYS_mlock2, p, PAGE, 2), EINVAL) &&
	     expect("mlock2(0)", syscall(SYS_mlock2, p, PAGE, 0), 0);
	r = residency(p, 2);
	if (ok && strcmp(r, "11") != 0)
		ok = fail("mlock2(0) after ONFAULT: %s", r);
	munmap(p, 2 * PAGE);
	if (ok && vm_lck() != base)
		ok = fail("munmap of locked pages: VmLck +%ld kB", vm_lck() - base);
	return ok;
}


static int mlock2_unprivileged(void)
{
	struct rlimit rl = { 0, 0 };
	if (setrlimit(RLIMIT_MEMLOCK, &rl) != 0 || setuid(TEST_UID) != 0)
		return fail("setup");
	char *p = map_pages(1);
	return expect("mlock2 with RLIMIT_MEMLOCK 0", syscall(SYS_mlock2, p, PAGE, 0), EPERM) &&
	       expect("mlock2(MLOCK_ONFAULT) with RLIMIT_MEMLOCK 0", syscall(SYS_mlock2, p, PAGE, MLOCK_ONFAULT), EPERM);
}

static int test_mlock2_limit(void)
{
	return in_child(mlock2_unprivileged);
}

static int test_preadv2(void)
{
	int fd = syscall(SYS_memfd_create, "rw2", 0);
	if (fd < 0 || write(fd, "0123456789", 10) != 10)
		return fail("setup");
	char a[4] = { 0 }, b[4] = { 0 };
	struct iovec iov[2] = { { a, 3 }, { b, 3 } };
	int ok = expect("preadv2 at 2", preadv2(fd, iov, 2, 2, 0) == 6 && memcmp(a, "234", 3) == 0 && memcmp(b, "567", 3) == 0 ? 0 : -1, 0);
	lseek(fd, 1, SEEK_SET);
	ok = ok && expect("preadv2 at -1 reads at the position", preadv2(fd, iov, 1, -1, 0) == 3 && memcmp(a, "123", 3) == 0 ? 0 : -1, 0) &&
	     expect("and moves it", lseek(fd, 0, SEEK_CUR) == 4 ? 0 : -1, 0) &&
	     expect("flag 0x100", preadv2(fd, iov, 1, 0, 0x100), EOPNOTSUPP) &&
	     expect("offset -2", preadv2(fd, iov, 1, -2, 0), EINVAL) &&
	     expect("RWF_HIPRI|RWF_DSYNC|RWF_SYNC", preadv2(fd, iov, 1, 0, RWF_HIPRI | RWF_DSYNC | RWF_SYNC) == 3 ? 0 : -1, 0) &&
	     expect("flag 0x100 with nothing to read", preadv2(fd, iov, 0, 0, 0x100), 0) &&
	     expect("bad descriptor", preadv2(-1, iov, 1, 0, 0), EBADF) &&
	     expect("bad vector", syscall(SYS_preadv2, fd, BAD_POINTER, 1, 0, 0, 0), EFAULT);
	struct iovec w = { "ab", 2 };
	ok = ok && expect("pwritev2 RWF_APPEND at 0 appends", pwritev2(fd, &w, 1, 0, RWF_APPEND) == 2 ? 0 : -1, 0);
	char all[16] = { 0 };
	ok = ok && expect("appended", pread(fd, all, 16, 0) == 12 && memcmp(all, "0123456789ab", 12) == 0 ? 0 : -1, 0);
	lseek(fd, 0, SEEK_SET);
	ok = ok && expect("pwritev2 at -1 writes at the position", pwritev2(fd, &w, 1, -1, 0) == 2 ? 0 : -1, 0) &&
	     expect("and moves it", lseek(fd, 0, SEEK_CUR) == 2 ? 0 : -1, 0) &&
	     expect("pwritev2 at -1 with RWF_APPEND", pwritev2(fd, &w, 1, -1, RWF_APPEND) == 2 ? 0 : -1, 0) &&
	     expect("moves the position to the end", lseek(fd, 0, SEEK_CUR) == 14 ? 0 : -1, 0) &&
	     expect("pwritev2 flag 0x100", pwritev2(fd, &w, 1, 0, 0x100), EOPNOTSUPP);
	int pipefd[2];
	if (pipe(pipefd) != 0)
		return fail("pipe");
	ok = ok && expect("pwritev2 on a pipe at 0", pwritev2(pipefd[1], &w, 1, 0, 0), ESPIPE) &&
	     expect("pwritev2 on a pipe at -1", pwritev2(pipefd[1], &w, 1, -1, 0) == 2 ? 0 : -1, 0) &&
	     expect("preadv2 of a write end", preadv2(pipefd[1], iov, 1, -1, 0), EBADF);
	close(pipefd[0]);
	close(pipefd[1]);
	close(fd);
	return ok;
}


static int chroot_child(void)
{
	mkdir("/sysmisckern.root", 0755);
	mkdir("/sysmisckern.root/sub", 0755);
	int ok = expect("chroot of a file", chroot(SELF), ENOTDIR) &&
		 expect("chroot of nothing", chroot("/no/such/dir"), ENOENT) &&
		 expect("chroot of a bad pointer", chroot(BAD_POINTER), EFAULT) &&
		 expect("chdir /bin", chdir("/bin"), 0) &&
		 expect("chroot", chroot("/sysmisckern.root"), 0);
	if (!ok)
		return 0;
	/* The raw call says "(unreachable)"; glibc's getcwd turns that into ENOENT. */
	char cwd[256];
	if (syscall(SYS_getcwd, cwd, sizeof(cwd)) < 0 || strcmp(cwd, "(unreachable)/bin") != 0)
		return fail("raw getcwd outside the new root: %s", cwd);
	if (getcwd(cwd, sizeof(cwd)) != NULL || errno != ENOENT)
		return fail("glibc's getcwd outside the new root: not ENOENT");
	struct stat root, dotdot, sub;
	ok = expect("the old tree is gone", access(SELF, F_OK), ENOENT) &&
	     expect("stat /", stat("/", &root), 0) &&
	     expect("stat /..", stat("/..", &dotdot), 0) &&
	     expect("/.. is /", root.st_ino == dotdot.st_ino ? 0 : -1, 0) &&
	     expect("stat /sub/../..", stat("/sub/../..", &dotdot), 0) &&
	     expect("/sub/../.. is /", root.st_ino == dotdot.st_ino ? 0 : -1, 0) &&
	     expect("stat /sub", stat("/sub", &sub), 0) &&
	     expect("chdir /sub", chdir("/sub"), 0);
	if (ok && (!getcwd(cwd, sizeof(cwd)) || strcmp(cwd, "/sub") != 0))
		ok = fail("getcwd in the new root: %s", cwd);
	return ok;
}

static int chroot_unprivileged(void)
{
	mkdir("/sysmisckern.closed", 0700);
	if (setuid(TEST_UID) != 0)
		return fail("setuid");
	return expect("chroot without CAP_SYS_CHROOT", chroot("/"), EPERM) &&
	       expect("chroot of a directory it may not search", chroot("/sysmisckern.closed"), EACCES);
}

static int test_chroot(void)
{
	int ok = in_child(chroot_child) && in_child(chroot_unprivileged);
	rmdir("/sysmisckern.root/sub");
	rmdir("/sysmisckern.root");
	rmdir("/sysmisckern.closed");
	return ok;
}

static long membarrier(int cmd, unsigned flags)
{
	return syscall(SYS_membarrier, cmd, flags, 0);
}

static int test_membarrier(void)
{
	long q = membarrier(MEMBARRIER_CMD_QUERY, 0);
	if (q < 0 || (q & 0x7f) != 0x7f)
		return fail("QUERY: %ld", q);
	return expect("PRIVATE_EXPEDITED before registering", membarrier(MEMBARRIER_CMD_PRIVATE_EXPEDITED, 0), EPERM) &&
	       expect("REGISTER_PRIVATE_EXPEDITED", membarrier(MEMBARRIER_CMD_REGISTER_PRIVATE_EXPEDITED, 0), 0) &&
	       expect("PRIVATE_EXPEDITED", membarrier(MEMBARRIER_CMD_PRIVATE_EXPEDITED, 0), 0) &&
	       expect("SYNC_CORE before registering", membarrier(MEMBARRIER_CMD_PRIVATE_EXPEDITED_SYNC_CORE, 0), EPERM) &&
	       expect("REGISTER_PRIVATE_EXPEDITED_SYNC_CORE", membarrier(MEMBARRIER_CMD_REGISTER_PRIVATE_EXPEDITED_SYNC_CORE, 0), 0) &&
	       expect("PRIVATE_EXPEDITED_SYNC_CORE", membarrier(MEMBARRIER_CMD_PRIVATE_EXPEDITED_SYNC_CORE, 0), 0) &&
	       expect("GLOBAL", membarrier(MEMBARRIER_CMD_GLOBAL, 0), 0) &&
	       expect("REGISTER_GLOBAL_EXPEDITED", membarrier(MEMBARRIER_CMD_REGISTER_GLOBAL_EXPEDITED, 0), 0) &&
	       expect("GLOBAL_EXPEDITED", membarrier(MEMBARRIER_CMD_GLOBAL_EXPEDITED, 0), 0) &&
	       expect("flags 1", membarrier(MEMBARRIER_CMD_QUERY, 1), EINVAL) &&
	       expect("command 3", membarrier(3, 0), EINVAL) &&
	       expect("command 1 << 12", membarrier(1 << 12, 0), EINVAL);
}

#define IOPRIO_CLASS_SHIFT 13
#define IOPRIO(class, data) (((class) << IOPRIO_CLASS_SHIFT) | (data))
#define IOPRIO_WHO_PROCESS 1
#define IOPRIO_WHO_PGRP 2
#define IOPRIO_WHO_USER 3

static long ioprio_set(int which, int who, int prio)
{
	return syscall(SYS_ioprio_set, which, who, prio);
}

static long ioprio_get(int which, int who)
{
	return syscall(SYS_ioprio_get, which, who);
}

static int ioprio_inherit(void)
{
	long got = ioprio_get(IOPRIO_WHO_PROCESS, 0);
	return got == IOPRIO(2, 5) ? 1 : fail("a child's ioprio: %#lx", got);
}

static int ioprio_pgrp(void)
{
	if (setpgid(0, 0) != 0 || setpriority(PRIO_PROCESS, 0, 10) != 0 ||
	    ioprio_set(IOPRIO_WHO_PROCESS, 0, 0) != 0)
		return fail("setup");
	long got = ioprio_get(IOPRIO_WHO_PGRP, 0);
	if (got != IOPRIO(2, 6))
		return fail("a group at nice 10 with no ioprio: %#lx", got);
	if (ioprio_set(IOPRIO_WHO_PGRP, 0, IOPRIO(3, 0)) != 0 || ioprio_get(IOPRIO_WHO_PGRP, getpgrp()) != IOPRIO(3, 0))
		return fail("PRIO_PGRP idle: %#lx", ioprio_get(IOPRIO_WHO_PGRP, 0));
	return 1;
}

static int ioprio_unprivileged(void)
{
	pid_t parent = getppid();
	if (setuid(TEST_UID) != 0)
		return fail("setuid");
	return expect("RT without CAP_SYS_NICE", ioprio_set(IOPRIO_WHO_PROCESS, 0, IOPRIO(1, 0)), EPERM) &&
	       expect("root's process", ioprio_set(IOPRIO_WHO_PROCESS, parent, IOPRIO(2, 0)), EPERM) &&
	       expect("its own BE 0", ioprio_set(IOPRIO_WHO_PROCESS, 0, IOPRIO(2, 0)), 0) &&
	       expect("reading root's", ioprio_get(IOPRIO_WHO_PROCESS, parent) >= 0 ? 0 : -1, 0);
}

static int test_ioprio(void)
{
	long got = ioprio_get(IOPRIO_WHO_PROCESS, 0);
	if (got != 0)
		return fail("ioprio never set: %#lx", got);
	int ok = expect("BE 5", ioprio_set(IOPRIO_WHO_PROCESS, 0, IOPRIO(2, 5)), 0) &&
		 expect("is BE 5", ioprio_get(IOPRIO_WHO_PROCESS, getpid()) == IOPRIO(2, 5) ? 0 : -1, 0) &&
		 in_child(ioprio_inherit) &&
		 expect("class 4", ioprio_set(IOPRIO_WHO_PROCESS, 0, IOPRIO(4, 0)), EINVAL) &&
		 expect("BE level 0 with a hint bit", ioprio_set(IOPRIO_WHO_PROCESS, 0, IOPRIO(2, 8)), 0) &&
		 expect("NONE with data", ioprio_set(IOPRIO_WHO_PROCESS, 0, IOPRIO(0, 1)), EINVAL) &&
		 expect("IDLE with data", ioprio_set(IOPRIO_WHO_PROCESS, 0, IOPRIO(3, 7)), 0) &&
		 expect("which 0", ioprio_set(0, 0, IOPRIO(2, 0)), EINVAL) &&
		 expect("which 4, bad class first", ioprio_set(4, 0, IOPRIO(5, 0)), EINVAL) &&
		 expect("get which 4", ioprio_get(4, 0), EINVAL) &&
		 expect("no such pid", ioprio_set(IOPRIO_WHO_PROCESS, NO_SUCH_PID, IOPRIO(2, 0)), ESRCH) &&
		 expect("get no such pid", ioprio_get(IOPRIO_WHO_PROCESS, NO_SUCH_PID), ESRCH) &&
		 expect("unused uid", ioprio_get(IOPRIO_WHO_USER, TEST_UID + 1), ESRCH) &&
		 expect("RT 0 as root", ioprio_set(IOPRIO_WHO_PROCESS, 0, IOPRIO(1, 0)), 0) &&
		 in_child(ioprio_pgrp) && in_child(ioprio_unprivileged) &&
		 expect("back to NONE", ioprio_set(IOPRIO_WHO_PROCESS, 0, 0), 0);
	return ok;
}

static const struct test tests[] = {
	{ "execveat: absolute, dirfd-relative, AT_EMPTY_PATH, fexecve; AT_EXECFN; ELOOP, EACCES, ENOENT, EBADF, ENOTDIR, EINVAL", test_execveat },
	{ "mlock2: MLOCK_ONFAULT locks without faulting in; EINVAL; munmap unlocks", test_mlock2 },
	{ "mlock2: EPERM with RLIMIT_MEMLOCK 0 and no CAP_IPC_LOCK", test_mlock2_limit },
	{ "preadv2/pwritev2: offset -1, RWF_APPEND, flags, EOPNOTSUPP, EINVAL, EBADF, EFAULT, ESPIPE", test_preadv2 },
	{ "chroot: the new root, .. stops there, getcwd; ENOTDIR, ENOENT, EFAULT, EPERM, EACCES", test_chroot },
	{ "membarrier: QUERY, registration, EPERM, EINVAL", test_membarrier },
	{ "ioprio_set/ioprio_get: classes, inheritance, groups, EINVAL, ESRCH, EPERM", test_ioprio },
};

int main(int argc, char **argv)
{
	if (argc >= 2 && strcmp(argv[1], "exec-child") == 0) {
		const char *execfn = (const char *)getauxval(AT_EXECFN);
		return argc >= 3 && execfn && strcmp(execfn, argv[2]) == 0 ? 42 : 43;
	}
	/* proc may be missing (a test initramfs): mount it, only then. */
	if (access("/proc/self/stat", R_OK) != 0) {
		mkdir("/proc", 0555);
		mount("proc", "/proc", "proc", 0, NULL);
	}
	return run_tests(tests, TEST_COUNT(tests));
}
