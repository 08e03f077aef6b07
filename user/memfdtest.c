/*
 * memfdtest.c - memfd_create and file seals (fcntl F_ADD_SEALS/F_GET_SEALS), and
 * close_range (with CLOSE_RANGE_CLOEXEC and CLOSE_RANGE_UNSHARE) and glibc's closefrom.
 *
 * Every expected errno is Linux's. The seals checked are those Linux 6.1 knows (not
 * F_SEAL_EXEC, which came in 6.3); a read-only shared mapping of a write-sealed memfd is
 * not tried (Linux before 6.7 refused it, later ones allow it), nor F_ADD_SEALS with an
 * argument over 32 bits (EINVAL on Linux; qemu-aarch64 cuts it to an int first).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "tap.h"

#define BAD_POINTER ((void *)16)

#ifndef F_ADD_SEALS
#define F_ADD_SEALS 1033
#define F_GET_SEALS 1034
#define F_SEAL_SEAL 0x0001
#define F_SEAL_SHRINK 0x0002
#define F_SEAL_GROW 0x0004
#define F_SEAL_WRITE 0x0008
#endif
#ifndef F_SEAL_FUTURE_WRITE
#define F_SEAL_FUTURE_WRITE 0x0010
#endif
#ifndef CLOSE_RANGE_UNSHARE
#define CLOSE_RANGE_UNSHARE (1U << 1)
#define CLOSE_RANGE_CLOEXEC (1U << 2)
#endif

static int expect(const char *what, long rc, int want)
{
	int got = rc < 0 ? errno : 0;

	if (got != want)
		return fail("%s: expected %s, got %s (rc %ld)", what, errno_name(want),
			    errno_name(got), rc);
	return 1;
}

static long raw_memfd(const void *name, unsigned flags)
{
	return syscall(SYS_memfd_create, name, flags);
}

static int test_create(void)
{
	int fd = raw_memfd("test", 0);
	if (fd < 0)
		return fail("memfd_create: errno %s", errno_name(errno));
	struct stat st;
	if (fstat(fd, &st) != 0)
		return fail("fstat");
	int ok = 1;
	if (!S_ISREG(st.st_mode) || (st.st_mode & 07777) != 0777 || st.st_size != 0 || st.st_nlink != 0)
		ok = fail("fstat: mode %o size %lld nlink %lu", st.st_mode, (long long)st.st_size,
			  (unsigned long)st.st_nlink);
	char path[64], link[300];
	snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	ssize_t n = readlink(path, link, sizeof(link) - 1);
	if (ok && n < 0)
		ok = fail("readlink: errno %s", errno_name(errno));
	if (ok) {
		link[n] = '\0';
		if (strcmp(link, "/memfd:test (deleted)") != 0)
			ok = fail("/proc/self/fd link %s", link);
	}
	int fl = fcntl(fd, F_GETFL);
	if (ok && (fl & O_ACCMODE) != O_RDWR)
		ok = fail("F_GETFL %#x", fl);
	if (ok && fcntl(fd, F_GETFD) != 0)
		ok = fail("close-on-exec without MFD_CLOEXEC");
	close(fd);
	fd = raw_memfd("x", MFD_CLOEXEC);
	if (ok && (fd < 0 || fcntl(fd, F_GETFD) != FD_CLOEXEC))
		ok = fail("MFD_CLOEXEC: F_GETFD %d", fcntl(fd, F_GETFD));
	close(fd);
	return ok;
}

static int test_create_errors(void)
{
	char name[300];
	memset(name, 'n', sizeof(name));
	name[249] = '\0';
	int fd = raw_memfd(name, 0);
	int ok = expect("249-byte name", fd, 0);
	close(fd);
	name[249] = 'n';
	name[250] = '\0';
	return ok && expect("250-byte name", raw_memfd(name, 0), EINVAL) &&
	       expect("flag 0x100", raw_memfd("x", 0x100), EINVAL) &&
	       expect("flag 0x80000000", raw_memfd("x", 0x80000000u), EINVAL) &&
	       expect("NULL name", raw_memfd(NULL, 0), EFAULT) &&
	       expect("bad name", raw_memfd(BAD_POINTER, 0), EFAULT);
}

static int test_io_and_mmap(void)
{
	int fd = raw_memfd("io", 0);
	if (fd < 0)
		return fail("memfd_create");
	int ok = 1;
	char buf[16] = { 0 };
	if (write(fd, "hello", 5) != 5 || lseek(fd, 0, SEEK_CUR) != 5 || pread(fd, buf, 5, 0) != 5 ||
	    memcmp(buf, "hello", 5) != 0)
		ok = fail("write/pread");
	if (ok && ftruncate(fd, 8192) != 0)
		ok = fail("ftruncate: errno %s", errno_name(errno));
	char *p = ok ? mmap(NULL, 8192, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0) : MAP_FAILED;
	if (ok && p == MAP_FAILED)
		ok = fail("mmap MAP_SHARED: errno %s", errno_name(errno));
	if (ok && memcmp(p, "hello", 5) != 0)
		ok = fail("the mapping does not show the file");
	if (ok) {
		memcpy(p + 4096, "world", 5);
		if (pread(fd, buf, 5, 4096) != 5 || memcmp(buf, "world", 5) != 0)
			ok = fail("read does not show the mapping's write");
	}
	if (ok) {
		pid_t pid = fork();
		if (pid == 0) {
			memcpy(p + 100, "child", 5);
			_exit(0);
		}
		waitpid(pid, NULL, 0);
		if (memcmp(p + 100, "child", 5) != 0)
			ok = fail("a child's write through MAP_SHARED is not seen");
	}
	if (p != MAP_FAILED)
		munmap(p, 8192);
	close(fd);
	return ok;
}

static int test_seals_default(void)
{
	int fd = raw_memfd("noseal", 0);
	int ok = expect("F_GET_SEALS without MFD_ALLOW_SEALING", fcntl(fd, F_GET_SEALS) == F_SEAL_SEAL ? 0 : -1, 0) &&
		 expect("F_ADD_SEALS without MFD_ALLOW_SEALING", fcntl(fd, F_ADD_SEALS, F_SEAL_WRITE), EPERM);
	close(fd);
	int pipefd[2];
	if (pipe(pipefd) != 0)
		return fail("pipe");
	ok = ok && expect("F_GET_SEALS on a pipe", fcntl(pipefd[0], F_GET_SEALS), EINVAL) &&
	     expect("F_ADD_SEALS on a pipe", fcntl(pipefd[1], F_ADD_SEALS, F_SEAL_SEAL), EINVAL);
	close(pipefd[0]);
	close(pipefd[1]);
	return ok;
}

static int test_seals(void)
{
	int fd = raw_memfd("sealed", MFD_ALLOW_SEALING);
	if (fd < 0)
		return fail("memfd_create(MFD_ALLOW_SEALING)");
	int ok = expect("F_GET_SEALS is 0", fcntl(fd, F_GET_SEALS), 0) &&
		 expect("ftruncate 8192", ftruncate(fd, 8192), 0) &&
		 expect("F_SEAL_SHRINK", fcntl(fd, F_ADD_SEALS, F_SEAL_SHRINK), 0) &&
		 expect("shrinking", ftruncate(fd, 4096), EPERM) &&
		 expect("growing", ftruncate(fd, 16384), 0) &&
		 expect("F_SEAL_GROW", fcntl(fd, F_ADD_SEALS, F_SEAL_GROW), 0) &&
		 expect("growing past the seal", ftruncate(fd, 20000), EPERM) &&
		 expect("same size", ftruncate(fd, 16384), 0) &&
		 expect("write inside", pwrite(fd, "abc", 3, 100) == 3 ? 0 : -1, 0) &&
		 expect("write past the end", pwrite(fd, "abc", 3, 16384), EPERM) &&
		 expect("write across the end: the pieces before the last page", pwrite(fd, "abc", 3, 16383) == 1 ? 0 : -1, 0) &&
		 expect("F_GET_SEALS", fcntl(fd, F_GET_SEALS) == (F_SEAL_SHRINK | F_SEAL_GROW) ? 0 : -1, 0) &&
		 expect("F_SEAL_WRITE", fcntl(fd, F_ADD_SEALS, F_SEAL_WRITE), 0) &&
		 expect("write when write-sealed", pwrite(fd, "abc", 3, 0), EPERM) &&
		 expect("MAP_SHARED PROT_WRITE when write-sealed",
			mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0) == MAP_FAILED ? -1 : 0, EPERM);
	void *priv = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, 0);
	ok = ok && expect("MAP_PRIVATE PROT_WRITE when write-sealed", priv == MAP_FAILED ? -1 : 0, 0);
	if (priv != MAP_FAILED)
		munmap(priv, 4096);
	char buf[4];
	ok = ok && expect("read when write-sealed", pread(fd, buf, 3, 100) == 3 && memcmp(buf, "abc", 3) == 0 ? 0 : -1, 0) &&
	     expect("unknown seal 0x100", fcntl(fd, F_ADD_SEALS, 0x100), EINVAL) &&
	     expect("F_SEAL_SEAL", fcntl(fd, F_ADD_SEALS, F_SEAL_SEAL), 0) &&
	     expect("adding after F_SEAL_SEAL", fcntl(fd, F_ADD_SEALS, F_SEAL_FUTURE_WRITE), EPERM) &&
	     expect("adding nothing after F_SEAL_SEAL", fcntl(fd, F_ADD_SEALS, 0), EPERM) &&
	     expect("all of them", fcntl(fd, F_GET_SEALS) == (F_SEAL_SEAL | F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE) ? 0 : -1, 0);
	close(fd);
	fd = raw_memfd("midpage", MFD_ALLOW_SEALING);
	ok = ok && expect("ftruncate 10000", ftruncate(fd, 10000), 0) &&
	     expect("F_SEAL_GROW", fcntl(fd, F_ADD_SEALS, F_SEAL_GROW), 0) &&
	     expect("write across a mid-page end", pwrite(fd, "abc", 3, 9999), EPERM) &&
	     expect("write up to a mid-page end", pwrite(fd, "a", 1, 9999) == 1 ? 0 : -1, 0);
	close(fd);
	return ok;
}

static int test_seal_write_busy(void)
{
	int fd = raw_memfd("busy", MFD_ALLOW_SEALING);
	if (fd < 0 || ftruncate(fd, 4096) != 0)
		return fail("setup");
	char *p = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (p == MAP_FAILED)
		return fail("mmap");
	int ok = expect("F_SEAL_WRITE with a writable shared mapping", fcntl(fd, F_ADD_SEALS, F_SEAL_WRITE), EBUSY) &&
		 expect("F_SEAL_FUTURE_WRITE with one", fcntl(fd, F_ADD_SEALS, F_SEAL_FUTURE_WRITE), 0) &&
		 expect("write() after F_SEAL_FUTURE_WRITE", pwrite(fd, "x", 1, 0), EPERM) &&
		 expect("new MAP_SHARED PROT_WRITE after F_SEAL_FUTURE_WRITE",
			mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0) == MAP_FAILED ? -1 : 0, EPERM);
	if (ok) {
		p[0] = 'm'; /* the mapping made before the seal still writes */
		char c = 0;
		if (pread(fd, &c, 1, 0) != 1 || c != 'm')
			ok = fail("the old mapping's write is not seen");
	}
	munmap(p, 4096);
	ok = ok && expect("F_SEAL_WRITE once unmapped", fcntl(fd, F_ADD_SEALS, F_SEAL_WRITE), 0);
	char path[64];
	snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	int ro = open(path, O_RDONLY);
	ok = ok && expect("reopened read-only", ro, 0) &&
	     expect("F_ADD_SEALS on a read-only descriptor", fcntl(ro, F_ADD_SEALS, F_SEAL_SEAL), EPERM) &&
	     expect("F_GET_SEALS on a read-only descriptor", fcntl(ro, F_GET_SEALS) == (F_SEAL_FUTURE_WRITE | F_SEAL_WRITE) ? 0 : -1, 0);
	close(ro);
	close(fd);
	return ok;
}

static int fd_open(int fd)
{
	return fcntl(fd, F_GETFD) >= 0;
}

static int test_close_range(void)
{
	for (int fd = 100; fd <= 105; fd++)
		if (dup2(1, fd) != fd)
			return fail("dup2");
	int ok = expect("close_range(101, 103)", syscall(SYS_close_range, 101, 103, 0), 0);
	if (ok && (!fd_open(100) || fd_open(101) || fd_open(102) || fd_open(103) || !fd_open(104)))
		ok = fail("close_range(101, 103) closed the wrong ones");
	ok = ok && expect("close_range(104, ~0, CLOEXEC)", syscall(SYS_close_range, 104, ~0u, CLOSE_RANGE_CLOEXEC), 0);
	if (ok && (fcntl(104, F_GETFD) != FD_CLOEXEC || fcntl(105, F_GETFD) != FD_CLOEXEC || fcntl(100, F_GETFD) != 0))
		ok = fail("CLOSE_RANGE_CLOEXEC marked the wrong ones");
	ok = ok && expect("first > last", syscall(SYS_close_range, 5, 4, 0), EINVAL) &&
	     expect("flag 1", syscall(SYS_close_range, 100, 100, 1), EINVAL) &&
	     expect("flag 8", syscall(SYS_close_range, 100, 100, 8), EINVAL) &&
	     expect("nothing open there", syscall(SYS_close_range, 500, 600, 0), 0);
	closefrom(100);
	if (ok && (fd_open(100) || fd_open(104) || fd_open(105) || !fd_open(1)))
		ok = fail("closefrom(100)");
	return ok;
}

static void *unshare_thread(void *arg)
{
	(void)arg;
	long r = syscall(SYS_close_range, 100, 100, CLOSE_RANGE_UNSHARE);
	return (void *)(intptr_t)(r == 0 && !fd_open(100) ? 1 : 0);
}

static int test_close_range_unshare(void)
{
	if (dup2(1, 100) != 100)
		return fail("dup2");
	pthread_t t;
	void *res = NULL;
	if (pthread_create(&t, NULL, unshare_thread, NULL) != 0 || pthread_join(t, &res) != 0)
		return fail("thread");
	int ok = 1;
	if (res != (void *)1)
		ok = fail("CLOSE_RANGE_UNSHARE in a thread did not close its copy's fd");
	else if (!fd_open(100))
		ok = fail("CLOSE_RANGE_UNSHARE closed the other thread's descriptor");
	close(100);
	return ok;
}

static const struct test tests[] = {
	{ "memfd_create: a regular file 0777, nlink 0, /memfd:<name> (deleted), O_RDWR, MFD_CLOEXEC", test_create },
	{ "memfd_create: name limit 249, EINVAL for flags, EFAULT", test_create_errors },
	{ "memfd: write, pread, ftruncate, MAP_SHARED shared with read() and a child", test_io_and_mmap },
	{ "seals: F_SEAL_SEAL without MFD_ALLOW_SEALING; EINVAL on a pipe", test_seals_default },
	{ "seals: SHRINK, GROW, WRITE, SEAL: EPERM where sealed, EINVAL for unknown seals", test_seals },
	{ "seals: EBUSY for F_SEAL_WRITE with a writable mapping; FUTURE_WRITE; EPERM read-only", test_seal_write_busy },
	{ "close_range: a range, CLOSE_RANGE_CLOEXEC, EINVAL; closefrom", test_close_range },
	{ "close_range: CLOSE_RANGE_UNSHARE closes in the caller's own copy", test_close_range_unshare },
};

int main(void)
{
	/* proc may be missing (a test initramfs): mount it, only then. */
	if (access("/proc/self/stat", R_OK) != 0) {
		mkdir("/proc", 0555);
		mount("proc", "/proc", "proc", 0, NULL);
	}
	return run_tests(tests, TEST_COUNT(tests));
}
