/*
 * mmaptest.c - files are memory: shared and private file mappings, shared anonymous memory,
 * and the errors mmap gives, as Linux has them.
 *
 * Shared mappings are the same pages for every mapper and for read()/write(), across fork
 * too; private ones copy a page on its first write; a page wholly past the end of the file
 * gives SIGBUS, and so does one that ftruncate cut off; mremap, MADV_DONTNEED, msync,
 * PROT_EXEC, mapping offsets. Files are made in a scratch directory `mmaptest.work` of the
 * current directory. Children never print: they report through their exit status.
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "tap.h"

#define PAGE 4096
#define DIR_NAME "mmaptest.work"

/* A new file `name` in the scratch directory with `len` bytes of pattern `seed`. */
static int make_file(const char *name, size_t len, unsigned char seed)
{
	char path[128];
	snprintf(path, sizeof(path), DIR_NAME "/%s", name);
	int fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0644);
	if (fd < 0)
		return -1;
	unsigned char buf[PAGE];
	for (size_t done = 0; done < len;) {
		size_t n = len - done < PAGE ? len - done : PAGE;
		for (size_t i = 0; i < n; i++)
			buf[i] = (unsigned char)(seed + (done + i) / PAGE);
		if (write(fd, buf, n) != (ssize_t)n)
			return -1;
		done += n;
	}
	return fd;
}

/* Fork; the child runs `child(arg)` and exits with its result; returns the wait status. */
static int in_child(int (*child)(void *), void *arg)
{
	pid_t pid = fork();
	if (pid < 0)
		return -1;
	if (pid == 0)
		_exit(child(arg));
	int status;
	if (waitpid(pid, &status, 0) != pid)
		return -1;
	return status;
}

static int write_shared(void *p)
{
	strcpy((char *)p, "written by the child");
	return 0;
}

static int shared_file_across_fork(void)
{
	int fd = make_file("shared", 2 * PAGE, 'a');
	if (fd < 0)
		return fail("make_file: %s", errno_name(errno));
	char *p = mmap(NULL, 2 * PAGE, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (p == MAP_FAILED)
		return fail("mmap: %s", errno_name(errno));
	int status = in_child(write_shared, p + PAGE);
	if (status != 0)
		return fail("child status %#x", status);
	if (strcmp(p + PAGE, "written by the child") != 0)
		return fail("the parent's mapping does not show the child's write");
	char buf[32] = { 0 };
	if (pread(fd, buf, 20, PAGE) != 20 || strcmp(buf, "written by the child") != 0)
		return fail("read() does not return what the child wrote: '%s'", buf);
	munmap(p, 2 * PAGE);
	close(fd);
	return 1;
}

static int shared_anon_across_fork(void)
{
	volatile int *counter = mmap(NULL, PAGE, PROT_READ | PROT_WRITE,
				     MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (counter == MAP_FAILED)
		return fail("mmap: %s", errno_name(errno));
	if (*counter != 0)
		return fail("fresh shared memory is not zero");
	for (int i = 0; i < 3; i++) {
		pid_t pid = fork();
		if (pid == 0) {
			*counter += 10;
			_exit(0);
		}
		int status;
		if (pid < 0 || waitpid(pid, &status, 0) != pid || status != 0)
			return fail("child %d failed", i);
	}
	if (*counter != 30)
		return fail("counter is %d, not 30", *counter);
	munmap((void *)counter, PAGE);
	return 1;
}

static int write_through_both_ways(void)
{
	int fd = make_file("through", PAGE, 'x');
	if (fd < 0)
		return fail("make_file: %s", errno_name(errno));
	char *p = mmap(NULL, PAGE, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (p == MAP_FAILED)
		return fail("mmap: %s", errno_name(errno));
	if (pwrite(fd, "hello", 5, 100) != 5)
		return fail("pwrite: %s", errno_name(errno));
	if (memcmp(p + 100, "hello", 5) != 0)
		return fail("the mapping does not show write()");
	memcpy(p + 200, "world", 5);
	char buf[6] = { 0 };
	if (pread(fd, buf, 5, 200) != 5 || strcmp(buf, "world") != 0)
		return fail("read() does not show the store: '%s'", buf);
	/* A second mapping of the same file sees both. */
	char *q = mmap(NULL, PAGE, PROT_READ, MAP_SHARED, fd, 0);
	if (q == MAP_FAILED || memcmp(q + 100, "hello", 5) || memcmp(q + 200, "world", 5))
		return fail("a second mapping differs");
	munmap(q, PAGE);
	munmap(p, PAGE);
	close(fd);
	return 1;
}

static int private_stays_private(void)
{
	int fd = make_file("private", 2 * PAGE, 'p');
	if (fd < 0)
		return fail("make_file: %s", errno_name(errno));
	char *priv = mmap(NULL, 2 * PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, 0);
	char *shared = mmap(NULL, 2 * PAGE, PROT_READ, MAP_SHARED, fd, 0);
	if (priv == MAP_FAILED || shared == MAP_FAILED)
		return fail("mmap: %s", errno_name(errno));
	if (priv[0] != 'p' || priv[PAGE] != 'q')
		return fail("the private mapping does not show the file");
	priv[0] = 'Z';
	char c;
	if (pread(fd, &c, 1, 0) != 1 || c != 'p')
		return fail("the private write reached the file");
	if (shared[0] != 'p')
		return fail("the private write reached a shared mapping");
	/* The copied page keeps the private write; write() to the file does not undo it. */
	if (pwrite(fd, "W", 1, 0) != 1 || priv[0] != 'Z' || shared[0] != 'W')
		return fail("after write(): private %c, shared %c", priv[0], shared[0]);
	/* A child's private copy is its own too. */
	pid_t pid = fork();
	if (pid == 0) {
		priv[PAGE] = 'C';
		_exit(priv[PAGE] == 'C' ? 0 : 1);
	}
	int status;
	if (pid < 0 || waitpid(pid, &status, 0) != pid || status != 0)
		return fail("child failed");
	if (priv[PAGE] != 'q')
		return fail("the child's private write reached the parent");
	munmap(priv, 2 * PAGE);
	munmap(shared, 2 * PAGE);
	close(fd);
	return 1;
}

static int touch(void *p)
{
	return *(volatile char *)p;
}

static int poke(void *p)
{
	*(volatile char *)p = 1;
	return 0;
}

static int sigbus_past_eof(void)
{
	int fd = make_file("short", 100, 's');
	if (fd < 0)
		return fail("make_file: %s", errno_name(errno));
	char *p = mmap(NULL, 3 * PAGE, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (p == MAP_FAILED)
		return fail("mmap: %s", errno_name(errno));
	if (p[99] != 's' || p[100] != 0 || p[PAGE - 1] != 0)
		return fail("the last page is not the file then zeros");
	int status = in_child(touch, p + PAGE);
	if (!WIFSIGNALED(status) || WTERMSIG(status) != SIGBUS)
		return fail("reading past the end: status %#x", status);
	status = in_child(poke, p + 2 * PAGE + 7);
	if (!WIFSIGNALED(status) || WTERMSIG(status) != SIGBUS)
		return fail("writing past the end: status %#x", status);
	/* Growing the file makes the page reachable, reading as zeros. */
	if (ftruncate(fd, 2 * PAGE) != 0)
		return fail("ftruncate: %s", errno_name(errno));
	if (p[PAGE] != 0 || in_child(touch, p + PAGE) != 0)
		return fail("the grown page is not zeros");
	munmap(p, 3 * PAGE);
	close(fd);
	return 1;
}

static int truncate_mapped_file(void)
{
	int fd = make_file("trunc", 3 * PAGE, 't');
	if (fd < 0)
		return fail("make_file: %s", errno_name(errno));
	char *shared = mmap(NULL, 3 * PAGE, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	char *priv = mmap(NULL, 3 * PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, 0);
	if (shared == MAP_FAILED || priv == MAP_FAILED)
		return fail("mmap: %s", errno_name(errno));
	if (shared[2 * PAGE] != 'v' || priv[2 * PAGE] != 'v')
		return fail("the third page does not show the file");
	priv[2 * PAGE] = 'P'; /* a private copy of a page truncation will cut off */
	if (ftruncate(fd, PAGE + 10) != 0)
		return fail("ftruncate: %s", errno_name(errno));
	if (shared[PAGE + 9] != 'u' || shared[PAGE + 10] != 0 || priv[PAGE + 10] != 0)
		return fail("the partial page is not the file then zeros");
	int status = in_child(touch, shared + 2 * PAGE);
	if (!WIFSIGNALED(status) || WTERMSIG(status) != SIGBUS)
		return fail("shared mapping past the new end: status %#x", status);
	status = in_child(touch, priv + 2 * PAGE);
	if (!WIFSIGNALED(status) || WTERMSIG(status) != SIGBUS)
		return fail("private copy past the new end: status %#x", status);
	struct stat st;
	if (fstat(fd, &st) != 0 || st.st_size != PAGE + 10)
		return fail("size after ftruncate");
	munmap(shared, 3 * PAGE);
	munmap(priv, 3 * PAGE);
	close(fd);
	return 1;
}

static int mapping_offsets(void)
{
	int fd = make_file("offsets", 4 * PAGE, '0');
	if (fd < 0)
		return fail("make_file: %s", errno_name(errno));
	char *p = mmap(NULL, 2 * PAGE, PROT_READ, MAP_PRIVATE, fd, 2 * PAGE);
	if (p == MAP_FAILED)
		return fail("mmap: %s", errno_name(errno));
	if (p[0] != '2' || p[PAGE] != '3')
		return fail("offset 2 pages maps '%c' '%c'", p[0], p[PAGE]);
	munmap(p, 2 * PAGE);
	close(fd);
	return 1;
}

static int exec_file_mapping(void)
{
	/* mov w0, #42; ret */
	static const uint32_t code[] = { 0x52800540, 0xd65f03c0 };
	char path[] = DIR_NAME "/code";
	int fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0755);
	if (fd < 0 || write(fd, code, sizeof(code)) != sizeof(code))
		return fail("write code: %s", errno_name(errno));
	void *p = mmap(NULL, PAGE, PROT_READ | PROT_EXEC, MAP_PRIVATE, fd, 0);
	if (p == MAP_FAILED)
		return fail("mmap: %s", errno_name(errno));
	int (*fn)(void) = (int (*)(void))p;
	int got = fn();
	if (got != 42)
		return fail("the mapped code returned %d", got);
	munmap(p, PAGE);
	close(fd);
	return 1;
}

static int mremap_moves_and_keeps(void)
{
	char *p = mmap(NULL, 2 * PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED)
		return fail("mmap: %s", errno_name(errno));
	p[0] = 'a';
	p[PAGE] = 'b';
	/* Keep the page after it taken, so growing must move. */
	void *block = mmap(p + 2 * PAGE, PAGE, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0);
	char *q = mremap(p, 2 * PAGE, 4 * PAGE, MREMAP_MAYMOVE);
	if (q == MAP_FAILED)
		return fail("mremap: %s", errno_name(errno));
	if (block != MAP_FAILED && q == p)
		return fail("grew in place over another mapping");
	if (q[0] != 'a' || q[PAGE] != 'b' || q[3 * PAGE] != 0)
		return fail("contents after the move");
	q[3 * PAGE] = 'd';
	char *r = mremap(q, 4 * PAGE, PAGE, 0);
	if (r != q || r[0] != 'a')
		return fail("shrinking in place");
	/* The three pages after it are free again: growing without MAYMOVE stays put. */
	char *t = mremap(r, PAGE, 3 * PAGE, 0);
	if (t != r || t[0] != 'a' || t[PAGE] != 0)
		return fail("growing in place: %s", t == MAP_FAILED ? errno_name(errno) : "moved");
	errno = 0;
	if (mremap(t + 1, PAGE, PAGE, 0) != MAP_FAILED || errno != EINVAL)
		return fail("unaligned address: %s", errno_name(errno));
	if (block != MAP_FAILED)
		munmap(block, PAGE);
	munmap(t, 3 * PAGE);
	/* A shared file mapping grown in place or moved still maps the file. */
	int fd = make_file("remap", 3 * PAGE, 'm');
	char *f = mmap(NULL, PAGE, PROT_READ, MAP_SHARED, fd, 0);
	if (fd < 0 || f == MAP_FAILED)
		return fail("file mmap: %s", errno_name(errno));
	char *g = mremap(f, PAGE, 3 * PAGE, MREMAP_MAYMOVE);
	if (g == MAP_FAILED || g[0] != 'm' || g[2 * PAGE] != 'o')
		return fail("file mapping after mremap");
	munmap(g, 3 * PAGE);
	close(fd);
	return 1;
}

static int madv_dontneed(void)
{
	char *p = mmap(NULL, 2 * PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED)
		return fail("mmap: %s", errno_name(errno));
	memset(p, 'x', 2 * PAGE);
	if (madvise(p, 2 * PAGE, MADV_DONTNEED) != 0)
		return fail("madvise: %s", errno_name(errno));
	if (p[0] != 0 || p[2 * PAGE - 1] != 0)
		return fail("private anonymous memory did not read back as zeros");
	munmap(p, 2 * PAGE);
	int fd = make_file("dontneed", PAGE, 'd');
	char *s = mmap(NULL, PAGE, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	char *v = mmap(NULL, PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, 0);
	if (fd < 0 || s == MAP_FAILED || v == MAP_FAILED)
		return fail("file mmap: %s", errno_name(errno));
	s[0] = 'S';
	v[1] = 'V';
	if (madvise(s, PAGE, MADV_DONTNEED) != 0 || madvise(v, PAGE, MADV_DONTNEED) != 0)
		return fail("madvise on files: %s", errno_name(errno));
	if (s[0] != 'S')
		return fail("a shared mapping lost its write");
	if (v[1] != 'd' || v[0] != 'S')
		return fail("a private mapping did not go back to the file");
	munmap(s, PAGE);
	munmap(v, PAGE);
	close(fd);
	return 1;
}

static int msync_checks(void)
{
	int fd = make_file("msync", PAGE, 'y');
	char *p = mmap(NULL, PAGE, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (fd < 0 || p == MAP_FAILED)
		return fail("mmap: %s", errno_name(errno));
	p[0] = 'M';
	if (msync(p, PAGE, MS_SYNC) != 0)
		return fail("msync: %s", errno_name(errno));
	char c;
	if (pread(fd, &c, 1, 0) != 1 || c != 'M')
		return fail("the file after msync");
	errno = 0;
	if (msync(p + 1, PAGE, MS_SYNC) != -1 || errno != EINVAL)
		return fail("unaligned: %s", errno_name(errno));
	if (msync(p, PAGE, MS_SYNC | MS_ASYNC) != -1 || errno != EINVAL)
		return fail("MS_SYNC|MS_ASYNC: %s", errno_name(errno));
	munmap(p, PAGE);
	if (msync(p, PAGE, MS_SYNC) != -1 || errno != ENOMEM)
		return fail("unmapped: %s", errno_name(errno));
	close(fd);
	return 1;
}

/* mmap's result as an errno name ("0" for success, the mapping then unmapped). */
static const char *mmap_errno(size_t len, int prot, int flags, int fd, off_t off)
{
	errno = 0;
	void *p = mmap(NULL, len, prot, flags, fd, off);
	if (p != MAP_FAILED) {
		munmap(p, len);
		return "0";
	}
	return errno_name(errno);
}

static int expect(const char *what, const char *got, const char *want)
{
	if (strcmp(got, want) != 0)
		return fail("%s: %s, not %s", what, got, want);
	return 1;
}

static int errno_cases(void)
{
	int rw = make_file("errnos", PAGE, 'e');
	int ro = open(DIR_NAME "/errnos", O_RDONLY);
	int wo = open(DIR_NAME "/errnos", O_WRONLY);
	int dir = open(DIR_NAME, O_RDONLY | O_DIRECTORY);
	int pipes[2];
	if (rw < 0 || ro < 0 || wo < 0 || dir < 0 || pipe(pipes) != 0)
		return fail("setup: %s", errno_name(errno));
	if (!expect("directory", mmap_errno(PAGE, PROT_READ, MAP_PRIVATE, dir, 0), "ENODEV") ||
	    !expect("pipe", mmap_errno(PAGE, PROT_READ, MAP_PRIVATE, pipes[0], 0), "ENODEV") ||
	    !expect("write-only fd", mmap_errno(PAGE, PROT_READ, MAP_SHARED, wo, 0), "EACCES") ||
	    !expect("shared writable, read-only fd",
		    mmap_errno(PAGE, PROT_READ | PROT_WRITE, MAP_SHARED, ro, 0), "EACCES") ||
	    !expect("private writable, read-only fd",
		    mmap_errno(PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE, ro, 0), "0") ||
	    !expect("bad fd", mmap_errno(PAGE, PROT_READ, MAP_SHARED, 999, 0), "EBADF") ||
	    !expect("no map type", mmap_errno(PAGE, PROT_READ, 0, rw, 0), "EINVAL") ||
	    !expect("zero length", mmap_errno(0, PROT_READ, MAP_SHARED, rw, 0), "EINVAL") ||
	    !expect("unaligned offset", mmap_errno(PAGE, PROT_READ, MAP_SHARED, rw, 100), "EINVAL"))
		return 0;
	/* A read-only shared mapping of a read-only fd cannot be made writable. */
	char *p = mmap(NULL, PAGE, PROT_READ, MAP_SHARED, ro, 0);
	if (p == MAP_FAILED)
		return fail("mmap ro: %s", errno_name(errno));
	errno = 0;
	if (mprotect(p, PAGE, PROT_READ | PROT_WRITE) != -1 || errno != EACCES)
		return fail("mprotect(PROT_WRITE) of a read-only shared mapping: %s",
			    errno_name(errno));
	munmap(p, PAGE);
	close(rw);
	close(ro);
	close(wo);
	close(dir);
	close(pipes[0]);
	close(pipes[1]);
	return 1;
}

static int add_to_shm(void *p)
{
	volatile int *counter = p;
	*counter += 5;
	return 0;
}

static int shm_open_across_fork(void)
{
	/* Where no /dev/shm exists (Cradle's test initramfs), make it a tmpfs, as an init
	 * does; never mount over one that exists (under qemu-aarch64 it is the host's). */
	if (mkdir("/dev/shm", 01777) == 0)
		mount("tmpfs", "/dev/shm", "tmpfs", 0, "mode=1777");
	int fd = shm_open("/cradle-mmaptest", O_RDWR | O_CREAT | O_EXCL, 0600);
	if (fd < 0)
		return fail("shm_open: %s", errno_name(errno));
	shm_unlink("/cradle-mmaptest");
	if (ftruncate(fd, PAGE) != 0)
		return fail("ftruncate: %s", errno_name(errno));
	int *counter = mmap(NULL, PAGE, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (counter == MAP_FAILED)
		return fail("mmap: %s", errno_name(errno));
	for (int i = 0; i < 2; i++) {
		int status = in_child(add_to_shm, counter);
		if (status != 0)
			return fail("child status %#x", status);
	}
	int seen = 0;
	if (pread(fd, &seen, sizeof(seen), 0) != sizeof(seen) || seen != 10 || *counter != 10)
		return fail("counter %d, read() %d, not 10", *counter, seen);
	munmap(counter, PAGE);
	close(fd);
	return 1;
}

static const struct test tests[] = {
	{ "MAP_SHARED file: a child's writes reach the parent's mapping and read()", shared_file_across_fork },
	{ "MAP_SHARED|MAP_ANONYMOUS is shared across fork", shared_anon_across_fork },
	{ "write() shows in a shared mapping, a store in read()", write_through_both_ways },
	{ "MAP_PRIVATE copies on write, in the parent and in a child", private_stays_private },
	{ "a page past the end of the file gives SIGBUS; growing the file mends it", sigbus_past_eof },
	{ "ftruncate of a mapped file: SIGBUS past the new end, zeros in the last page", truncate_mapped_file },
	{ "a mapping at a file offset", mapping_offsets },
	{ "PROT_EXEC file mapping runs", exec_file_mapping },
	{ "mremap grows, moves, shrinks and keeps contents", mremap_moves_and_keeps },
	{ "MADV_DONTNEED: private anonymous zeros, files keep their data", madv_dontneed },
	{ "msync writes nothing it need not and checks its arguments", msync_checks },
	{ "mmap errnos: ENODEV, EACCES, EBADF, EINVAL", errno_cases },
	{ "shm_open in /dev/shm: a MAP_SHARED counter children add to", shm_open_across_fork },
};

int main(void)
{
	mkdir(DIR_NAME, 0755);
	return run_tests(tests, TEST_COUNT(tests));
}
