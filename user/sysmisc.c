/*
 * sysmisc.c - memory locking and residency: mlock, munlock, mlockall, munlockall,
 * MAP_LOCKED, RLIMIT_MEMLOCK, VmLck in /proc/self/status, mincore; and the small file
 * calls: fallocate, fadvise64, readahead, sync_file_range, syncfs. preadv2/pwritev2 and
 * mlock2 are in sysmisckern.c: qemu-aarch64 does not pass them on faithfully.
 *
 * The file calls work on memfds: tmpfs files on both kernels (under qemu-aarch64 the
 * working directory is the host's, whose file system would answer fallocate its own way).
 *
 * What changed in Linux after 6.1 is left out: mode combinations such as
 * COLLAPSE_RANGE|KEEP_SIZE (EINVAL then, EOPNOTSUPP now), fadvise with a negative length
 * on tmpfs.
 *
 * Run as root (CAP_IPC_LOCK); the limits are checked in a child that takes an otherwise
 * unused UID. Every expected errno is Linux's. mlockall(MCL_CURRENT) is only tried where
 * it must fail (past RLIMIT_MEMLOCK): under qemu-aarch64 it would lock the emulator's own
 * memory. VmLck is checked as a difference, never as an absolute size.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <unistd.h>
#include <linux/falloc.h>

#include "tap.h"

#define BAD_POINTER ((void *)16)
#define TEST_UID 43218
#define PAGE 4096

#ifndef MLOCK_ONFAULT
#define MLOCK_ONFAULT 1
#endif
#ifndef MCL_ONFAULT
#define MCL_ONFAULT 4
#endif

static int expect(const char *what, long rc, int want)
{
	int got = rc < 0 ? errno : 0;

	if (got != want)
		return fail("%s: expected %s, got %s (rc %ld)", what, errno_name(want),
			    errno_name(got), rc);
	return 1;
}

/* VmLck of this process in kB, or -1. */
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

/* The residency bytes of `pages` pages at `p` as a string of 0s and 1s. */
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

static int test_mlock(void)
{
	char *p = map_pages(4);
	if (!p)
		return fail("mmap");
	long base = vm_lck();
	const char *r = residency(p, 4);
	if (strcmp(r, "0000") != 0)
		return fail("fresh anonymous pages: %s", r);
	if (mlock(p, 3 * PAGE) != 0)
		return fail("mlock: errno %s", errno_name(errno));
	r = residency(p, 4);
	long locked = vm_lck() - base;
	int ok = 1;
	if (strcmp(r, "1110") != 0 || locked != 12)
		ok = fail("after mlock of 3 pages: residency %s, VmLck +%ld kB", r, locked);
	if (ok && (munlock(p + PAGE, PAGE) != 0 || vm_lck() - base != 8))
		ok = fail("munlock of the middle page: VmLck +%ld kB", vm_lck() - base);
	if (ok && (munlock(p, 4 * PAGE) != 0 || vm_lck() != base))
		ok = fail("munlock of all: VmLck +%ld kB", vm_lck() - base);
	/* An unaligned start locks from its page, the length rounded up from there. */
	if (ok && (mlock(p + PAGE + 100, PAGE) != 0 || vm_lck() - base != 8))
		ok = fail("mlock(p + 4196, 4096): VmLck +%ld kB", vm_lck() - base);
	if (ok && (mlock(p, 0) != 0 || munlock(p, 0) != 0))
		ok = fail("zero length");
	munlock(p, 4 * PAGE);
	munmap(p, 4 * PAGE);
	return ok;
}

static int test_mlock_errors(void)
{
	char *p = map_pages(3);
	if (!p || munmap(p + PAGE, PAGE) != 0)
		return fail("mmap");
	int ok = expect("mlock over a hole", mlock(p, 3 * PAGE), ENOMEM) &&
		 expect("munlock over a hole", munlock(p, 3 * PAGE), ENOMEM) &&
		 expect("mlock of the hole", mlock(p + PAGE, PAGE), ENOMEM) &&
		 expect("mlockall(0)", mlockall(0), EINVAL) &&
		 expect("mlockall(MCL_ONFAULT)", mlockall(MCL_ONFAULT), EINVAL) &&
		 expect("mlockall(8)", mlockall(8), EINVAL);
	munlock(p, PAGE);
	munlock(p + 2 * PAGE, PAGE);
	munmap(p, PAGE);
	munmap(p + 2 * PAGE, PAGE);
	return ok;
}

static int test_mlockall_future(void)
{
	long base = vm_lck();
	if (mlockall(MCL_FUTURE) != 0)
		return fail("mlockall(MCL_FUTURE): errno %s", errno_name(errno));
	char *p = map_pages(2);
	const char *r = p ? residency(p, 2) : "mmap failed";
	long locked = vm_lck() - base;
	int ok = 1;
	if (strcmp(r, "11") != 0 || locked != 8)
		ok = fail("a mapping after MCL_FUTURE: residency %s, VmLck +%ld kB", r, locked);
	munlockall();
	if (ok && vm_lck() != 0)
		ok = fail("munlockall: VmLck %ld kB", vm_lck());
	char *q = map_pages(1);
	if (ok && (!q || strcmp(residency(q, 1), "0") != 0))
		ok = fail("a mapping after munlockall is resident");
	if (p)
		munmap(p, 2 * PAGE);
	if (q)
		munmap(q, PAGE);
	return ok;
}

static int test_map_locked(void)
{
	long base = vm_lck();
	char *p = mmap(NULL, 2 * PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_LOCKED, -1, 0);
	if (p == MAP_FAILED)
		return fail("mmap(MAP_LOCKED): errno %s", errno_name(errno));
	const char *r = residency(p, 2);
	int ok = 1;
	if (strcmp(r, "11") != 0 || vm_lck() - base != 8)
		ok = fail("MAP_LOCKED: residency %s, VmLck +%ld kB", r, vm_lck() - base);
	if (ok) {
		pid_t pid = fork();
		if (pid == 0)
			_exit(vm_lck() == 0 ? 0 : 1);
		int status;
		waitpid(pid, &status, 0);
		if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
			ok = fail("a forked child inherits locked memory");
	}
	munmap(p, 2 * PAGE);
	return ok;
}

static int limits_child(void)
{
	struct rlimit rl = { 2 * PAGE, 2 * PAGE };
	if (setrlimit(RLIMIT_MEMLOCK, &rl) != 0 || setuid(TEST_UID) != 0)
		return fail("setup");
	char *p = map_pages(4);
	if (!p)
		return fail("mmap");
	int ok = expect("mlock 3 pages past a 2-page limit", mlock(p, 3 * PAGE), ENOMEM) &&
		 expect("mlock 2 pages", mlock(p, 2 * PAGE), 0) &&
		 expect("mlock a third", mlock(p + 2 * PAGE, PAGE), ENOMEM) &&
		 expect("mlock the same 2 again", mlock(p, 2 * PAGE), 0) &&
		 expect("mlockall(MCL_CURRENT)", mlockall(MCL_CURRENT), ENOMEM) &&
		 expect("MAP_LOCKED past the limit",
			mmap(NULL, PAGE, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS | MAP_LOCKED, -1, 0) == MAP_FAILED ? -1 : 0,
			EAGAIN) &&
		 expect("munlock", munlock(p, 2 * PAGE), 0);
	rl.rlim_cur = rl.rlim_max = 0;
	ok = ok && expect("setrlimit 0", setrlimit(RLIMIT_MEMLOCK, &rl), 0) &&
	     expect("mlock with RLIMIT_MEMLOCK 0", mlock(p, PAGE), EPERM) &&
	     expect("mlockall with RLIMIT_MEMLOCK 0", mlockall(MCL_FUTURE), EPERM) &&
	     expect("MAP_LOCKED with RLIMIT_MEMLOCK 0",
		    mmap(NULL, PAGE, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS | MAP_LOCKED, -1, 0) == MAP_FAILED ? -1 : 0,
		    EPERM) &&
	     expect("munlock needs no right", munlock(p, PAGE), 0) &&
	     expect("munlockall needs no right", munlockall(), 0);
	return ok;
}

static int test_limits(void)
{
	int fds[2];
	if (pipe(fds) != 0)
		return fail("pipe");
	pid_t pid = fork();
	if (pid == 0) {
		close(fds[0]);
		int ok = limits_child();
		if (!ok && write(fds[1], tap_detail, strlen(tap_detail)) < 0)
			_exit(2);
		_exit(ok ? 0 : 1);
	}
	close(fds[1]);
	char buf[sizeof(tap_detail)];
	ssize_t n = read(fds[0], buf, sizeof(buf) - 1);
	close(fds[0]);
	int status;
	waitpid(pid, &status, 0);
	if (WIFEXITED(status) && WEXITSTATUS(status) == 0)
		return 1;
	if (n > 0) {
		buf[n] = '\0';
		return fail("%s", buf);
	}
	return fail("child status %#x", status);
}

static int test_mincore(void)
{
	char *p = map_pages(3);
	if (!p)
		return fail("mmap");
	p[0] = 1;
	p[2 * PAGE] = 1;
	const char *r = residency(p, 3);
	int ok = 1;
	if (strcmp(r, "101") != 0)
		ok = fail("touched first and last: %s", r);
	unsigned char vec[4];
	/* A length that is not a multiple of the page size counts its last page. */
	memset(vec, 7, sizeof(vec));
	if (ok && (mincore(p, 2 * PAGE + 1, vec) != 0 || vec[0] != 1 || vec[1] != 0 || vec[2] != 1 || vec[3] != 7))
		ok = fail("mincore(2 pages + 1 byte): %d %d %d %d", vec[0], vec[1], vec[2], vec[3]);
	ok = ok && expect("unaligned start", mincore(p + 1, PAGE, vec), EINVAL) &&
	     expect("length 0", mincore(p, 0, vec), 0) &&
	     expect("bad vector", mincore(p, PAGE, BAD_POINTER), EFAULT);
	munmap(p + PAGE, PAGE);
	ok = ok && expect("over a hole", mincore(p, 3 * PAGE, vec), ENOMEM) &&
	     expect("the hole", mincore(p + PAGE, PAGE, vec), ENOMEM);
	munmap(p, PAGE);
	munmap(p + 2 * PAGE, PAGE);
	return ok;
}

static int test_mincore_file(void)
{
	char path[] = "sysmisc.mincore";
	int fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0600);
	if (fd < 0)
		return fail("open");
	unlink(path);
	char page[PAGE];
	memset(page, 'f', sizeof(page));
	int ok = 1;
	if (write(fd, page, PAGE) != PAGE || ftruncate(fd, 2 * PAGE) != 0)
		ok = fail("write");
	char *p = ok ? mmap(NULL, 2 * PAGE, PROT_READ, MAP_SHARED, fd, 0) : MAP_FAILED;
	if (ok && p == MAP_FAILED)
		ok = fail("mmap");
	/* The written page is in the page cache, mapped or not; the hole is not. */
	const char *r = ok ? residency(p, 2) : "";
	if (ok && strcmp(r, "10") != 0)
		ok = fail("a file mapping, first page written: %s", r);
	if (p != MAP_FAILED)
		munmap(p, 2 * PAGE);
	close(fd);
	return ok;
}

static long raw_fallocate(int fd, int mode, long offset, long len)
{
	return syscall(SYS_fallocate, fd, mode, offset, len);
}

static int test_fallocate(void)
{
	int fd = syscall(SYS_memfd_create, "falloc", 0);
	if (fd < 0)
		return fail("memfd_create");
	struct stat st;
	int ok = expect("fallocate(0, 10000)", raw_fallocate(fd, 0, 0, 10000), 0) &&
		 expect("size 10000", fstat(fd, &st) == 0 && st.st_size == 10000 ? 0 : -1, 0) &&
		 expect("KEEP_SIZE past the end", raw_fallocate(fd, FALLOC_FL_KEEP_SIZE, 8000, 10000), 0) &&
		 expect("size still 10000", fstat(fd, &st) == 0 && st.st_size == 10000 ? 0 : -1, 0) &&
		 expect("inside: no change", raw_fallocate(fd, 0, 100, 100), 0) &&
		 expect("size still 10000 after an inside allocation", fstat(fd, &st) == 0 && st.st_size == 10000 ? 0 : -1, 0);
	char buf[64];
	memset(buf, 'x', sizeof(buf));
	ok = ok && expect("write", pwrite(fd, buf, sizeof(buf), 5000) == sizeof(buf) ? 0 : -1, 0) &&
	     expect("PUNCH_HOLE|KEEP_SIZE", raw_fallocate(fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, 5010, 20), 0);
	if (ok) {
		char got[64];
		if (pread(fd, got, sizeof(got), 5000) != sizeof(got))
			ok = fail("pread");
		else
			for (int i = 0; i < 64; i++)
				if (got[i] != ((i >= 10 && i < 30) ? 0 : 'x'))
					ok = fail("after the punch, byte %d is %d", i, got[i]);
	}
	ok = ok && expect("size still 10000 after the punch", fstat(fd, &st) == 0 && st.st_size == 10000 ? 0 : -1, 0) &&
	     expect("PUNCH_HOLE alone", raw_fallocate(fd, FALLOC_FL_PUNCH_HOLE, 0, 10), EOPNOTSUPP) &&
	     expect("PUNCH_HOLE|ZERO_RANGE", raw_fallocate(fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_ZERO_RANGE | FALLOC_FL_KEEP_SIZE, 0, 10), EOPNOTSUPP) &&
	     expect("ZERO_RANGE on tmpfs", raw_fallocate(fd, FALLOC_FL_ZERO_RANGE, 0, 10), EOPNOTSUPP) &&
	     expect("mode 0x100", raw_fallocate(fd, 0x100, 0, 10), EOPNOTSUPP) &&
	     expect("length 0", raw_fallocate(fd, 0, 0, 0), EINVAL) &&
	     expect("negative offset", raw_fallocate(fd, 0, -1, 10), EINVAL) &&
	     expect("wrapping past the largest offset", raw_fallocate(fd, 0, 0x7ffffffffffffff0L, 0x100), EFBIG) &&
	     expect("bad descriptor", raw_fallocate(-1, 0, 0, 10), EBADF) &&
	     expect("closed descriptor", raw_fallocate(999, 0, 0, 10), EBADF);
	close(fd);
	int pipefd[2];
	if (pipe(pipefd) != 0)
		return fail("pipe");
	ok = ok && expect("a pipe", raw_fallocate(pipefd[1], 0, 0, 10), ESPIPE) &&
	     expect("a pipe's read end (not writable)", raw_fallocate(pipefd[0], 0, 0, 10), EBADF);
	close(pipefd[0]);
	close(pipefd[1]);
	int null = open("/dev/null", O_WRONLY);
	ok = ok && expect("/dev/null", raw_fallocate(null, 0, 0, 10), ENODEV);
	close(null);
	int dir = open(".", O_RDONLY | O_DIRECTORY);
	ok = ok && expect("a directory opened read-only", raw_fallocate(dir, 0, 0, 10), EBADF);
	close(dir);
	fd = syscall(SYS_memfd_create, "ro", 0);
	char path[64];
	snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	int ro = open(path, O_RDONLY);
	ok = ok && expect("read-only", raw_fallocate(ro, 0, 0, 10), EBADF);
	close(ro);
	close(fd);
	fd = syscall(SYS_memfd_create, "sealed", MFD_ALLOW_SEALING);
	ok = ok && expect("F_SEAL_GROW", fcntl(fd, F_ADD_SEALS, F_SEAL_GROW), 0) &&
	     expect("fallocate past a GROW seal", raw_fallocate(fd, 0, 0, 10), EPERM) &&
	     expect("KEEP_SIZE past a GROW seal", raw_fallocate(fd, FALLOC_FL_KEEP_SIZE, 0, 10), EPERM) &&
	     expect("F_SEAL_WRITE", fcntl(fd, F_ADD_SEALS, F_SEAL_WRITE), 0) &&
	     expect("punching a write-sealed file", raw_fallocate(fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, 0, 10), EPERM);
	close(fd);
	return ok;
}

static int test_fadvise_readahead(void)
{
	int fd = syscall(SYS_memfd_create, "advice", 0);
	int pipefd[2];
	if (fd < 0 || pipe(pipefd) != 0)
		return fail("setup");
	int ok = expect("POSIX_FADV_WILLNEED", syscall(SYS_fadvise64, fd, 0, 4096, POSIX_FADV_WILLNEED), 0) &&
		 expect("POSIX_FADV_DONTNEED", syscall(SYS_fadvise64, fd, 0, 0, POSIX_FADV_DONTNEED), 0) &&
		 expect("advice 6", syscall(SYS_fadvise64, fd, 0, 0, 6), EINVAL) &&
		 expect("a pipe", syscall(SYS_fadvise64, pipefd[0], 0, 0, POSIX_FADV_NORMAL), ESPIPE) &&
		 expect("bad descriptor", syscall(SYS_fadvise64, -1, 0, 0, POSIX_FADV_NORMAL), EBADF) &&
		 expect("readahead", syscall(SYS_readahead, fd, 0, 4096), 0) &&
		 expect("readahead of a pipe", syscall(SYS_readahead, pipefd[0], 0, 4096), EINVAL) &&
		 expect("readahead of a write end", syscall(SYS_readahead, pipefd[1], 0, 4096), EBADF) &&
		 expect("readahead, bad descriptor", syscall(SYS_readahead, -1, 0, 4096), EBADF);
	close(fd);
	close(pipefd[0]);
	close(pipefd[1]);
	return ok;
}

static int test_sync_calls(void)
{
	int fd = syscall(SYS_memfd_create, "sync", 0);
	int pipefd[2];
	if (fd < 0 || pipe(pipefd) != 0)
		return fail("setup");
	int ok = expect("sync_file_range", sync_file_range(fd, 0, 0, SYNC_FILE_RANGE_WRITE), 0) &&
		 expect("sync_file_range, all flags", sync_file_range(fd, 0, 100, 7), 0) &&
		 expect("sync_file_range flag 8", sync_file_range(fd, 0, 0, 8), EINVAL) &&
		 expect("sync_file_range negative offset", sync_file_range(fd, -1, 0, 0), EINVAL) &&
		 expect("sync_file_range negative length", sync_file_range(fd, 100, -200, 0), EINVAL) &&
		 expect("sync_file_range of a pipe", sync_file_range(pipefd[0], 0, 0, 0), ESPIPE) &&
		 expect("sync_file_range, bad descriptor", sync_file_range(-1, 0, 0, 0), EBADF) &&
		 expect("syncfs", syncfs(fd), 0) &&
		 expect("syncfs of a pipe", syncfs(pipefd[0]), 0) &&
		 expect("syncfs, bad descriptor", syncfs(-1), EBADF);
	close(fd);
	close(pipefd[0]);
	close(pipefd[1]);
	return ok;
}

static const struct test tests[] = {
	{ "mlock/munlock: pages faulted in, VmLck, split VMAs, unaligned start", test_mlock },
	{ "mlock/munlock/mlockall: ENOMEM over holes, EINVAL flags", test_mlock_errors },
	{ "mlockall(MCL_FUTURE): new mappings locked and resident; munlockall", test_mlockall_future },
	{ "MAP_LOCKED: resident and counted; a forked child has no locked memory", test_map_locked },
	{ "RLIMIT_MEMLOCK without CAP_IPC_LOCK: ENOMEM, EAGAIN, EPERM", test_limits },
	{ "mincore: touched pages, a partial last page, EINVAL, EFAULT, ENOMEM", test_mincore },
	{ "mincore: a file mapping shows the page cache", test_mincore_file },
	{ "fallocate on tmpfs: sizes, KEEP_SIZE, PUNCH_HOLE; EOPNOTSUPP, EINVAL, EFBIG, EBADF, ESPIPE, ENODEV, seals", test_fallocate },
	{ "fadvise64 and readahead: advice checked, EINVAL, ESPIPE, EBADF", test_fadvise_readahead },
	{ "sync_file_range and syncfs: EINVAL, ESPIPE, EBADF", test_sync_calls },
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
