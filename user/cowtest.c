/*
 * cowtest.c - copy-on-write keeps a parent's memory its own, whatever the child does to
 * its copy: writes, mprotect round trips, munmap, fresh mappings, syscalls writing into
 * it. Each test forks; the child does its worst and exits; the parent checks its memory.
 *
 * Written while checking what the system call fuzzer (user/fuzz/fuzz.c) does to fork's
 * copy-on-write: mprotect used to drop the COW mark, so READ then READ|WRITE made a page
 * shared with the parent writable in the child (tests 2, 3, 6 and 7 failed).
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include "tap.h"

#define PAGE 4096
#define PAGES 4

static unsigned char data_area[PAGES * PAGE] = { 1 };

/* Fill `p` with the parent's pattern. */
static void fill(unsigned char *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		p[i] = (unsigned char)(i * 7 + 3);
}

static int intact(const unsigned char *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (p[i] != (unsigned char)(i * 7 + 3))
			return 0;
	return 1;
}

/* Fork; the child runs `child(p)` and exits 0; the parent waits and checks `p`. */
static int around_fork(unsigned char *p, void (*child)(unsigned char *))
{
	fill(p, PAGES * PAGE);
	pid_t pid = fork();
	if (pid < 0)
		return fail("fork: %s", errno_name(errno));
	if (pid == 0) {
		child(p);
		_exit(0);
	}
	int status;
	if (waitpid(pid, &status, 0) != pid)
		return fail("waitpid: %s", errno_name(errno));
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
		return fail("child ended with status %#x", status);
	if (!intact(p, PAGES * PAGE))
		return fail("the parent's memory changed");
	/* The parent can still write its own copy. */
	p[0] ^= 0xff;
	p[0] ^= 0xff;
	return intact(p, PAGES * PAGE) ? 1 : fail("the parent's own write went astray");
}

static void child_writes(unsigned char *p)
{
	memset(p, 'A', PAGES * PAGE);
}

static void child_mprotect_round_trip(unsigned char *p)
{
	mprotect(p, PAGES * PAGE, PROT_READ);
	mprotect(p, PAGES * PAGE, PROT_READ | PROT_WRITE);
	memset(p, 'B', PAGES * PAGE);
}

static void child_mprotect_none_then_write(unsigned char *p)
{
	mprotect(p, PAGES * PAGE, PROT_NONE);
	mprotect(p, PAGES * PAGE, PROT_READ | PROT_WRITE | PROT_EXEC);
	memset(p, 'C', PAGES * PAGE);
}

static void child_read_into(unsigned char *p)
{
	int fd = open("/dev/zero", O_RDONLY);
	if (fd >= 0) {
		/* The kernel writes the copy: copy_to_user must break copy-on-write too. */
		if (read(fd, p, PAGES * PAGE) < 0)
			_exit(2);
		close(fd);
	}
	int pipefd[2];
	if (pipe(pipefd) == 0) {
		if (write(pipefd[1], "DDDDDDDD", 8) != 8 || read(pipefd[0], p + PAGE + 5, 8) != 8)
			_exit(3);
	}
}

static void child_unmap_and_remap(unsigned char *p)
{
	munmap(p, PAGES * PAGE);
	void *q = mmap(p, PAGES * PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED,
		       -1, 0);
	if (q == MAP_FAILED)
		_exit(4);
	memset(q, 'E', PAGES * PAGE);
}

static unsigned char *anon(void)
{
	void *p = mmap(NULL, PAGES * PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	return p == MAP_FAILED ? NULL : p;
}

static int t_anon_write(void) { return around_fork(anon(), child_writes); }
static int t_anon_mprotect(void) { return around_fork(anon(), child_mprotect_round_trip); }
static int t_anon_mprotect_none(void) { return around_fork(anon(), child_mprotect_none_then_write); }
static int t_anon_kernel_write(void) { return around_fork(anon(), child_read_into); }
static int t_anon_remap(void) { return around_fork(anon(), child_unmap_and_remap); }
static int t_data_mprotect(void)
{
	/* .data: the page-aligned part of the array. */
	unsigned char *p = (unsigned char *)(((unsigned long)data_area + PAGE - 1) & ~(PAGE - 1UL));
	fill(p, (PAGES - 1) * PAGE);
	pid_t pid = fork();
	if (pid == 0) {
		mprotect(p, (PAGES - 1) * PAGE, PROT_READ);
		mprotect(p, (PAGES - 1) * PAGE, PROT_READ | PROT_WRITE);
		memset(p, 'F', (PAGES - 1) * PAGE);
		_exit(0);
	}
	int status;
	waitpid(pid, &status, 0);
	return intact(p, (PAGES - 1) * PAGE) ? 1 : fail("the parent's .data changed");
}
static int t_heap_mprotect(void)
{
	unsigned char *h = malloc(PAGES * PAGE + PAGE);
	unsigned char *p = (unsigned char *)(((unsigned long)h + PAGE - 1) & ~(PAGE - 1UL));
	return around_fork(p, child_mprotect_round_trip);
}

static const struct test tests[] = {
	{ "a child's writes stay in its copy", t_anon_write },
	{ "mprotect READ then READ|WRITE in the child keeps copy-on-write", t_anon_mprotect },
	{ "mprotect NONE then RWX in the child keeps copy-on-write", t_anon_mprotect_none },
	{ "read(2) and a pipe writing into the child's copy", t_anon_kernel_write },
	{ "munmap and a fresh MAP_FIXED mapping in the child", t_anon_remap },
	{ ".data: mprotect round trip then writes in the child", t_data_mprotect },
	{ "heap: mprotect round trip then writes in the child", t_heap_mprotect },
};

int main(void)
{
	return run_tests(tests, TEST_COUNT(tests));
}
