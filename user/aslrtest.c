/*
 * aslrtest.c - address-space layout randomization as Linux 6.1 arm64 has it (run as root,
 * on an arm64 kernel). Built as a static-PIE program (xtask's STATIC_PIE list): an ET_DYN
 * file without an interpreter, which Linux maps in the mmap area.
 *
 * The program re-executes itself (`aslrtest child`), and the child reports where its
 * stack, program, heap (sbrk(0)), first anonymous mmap and vDSO are, and its personality.
 * Only invariants Linux guarantees are checked, never addresses:
 *  - the stack lies below TASK_SIZE, within its random range (1 GiB and some KiB);
 *  - the program lies in the mmap area, far above ELF_ET_DYN_BASE and below the stack,
 *    with the vDSO and anonymous mmaps below it;
 *  - the program's heap starts at ELF_ET_DYN_BASE (up to 1 GiB above it when randomized),
 *    not after the program (Debian's 6.1 moves it there even without randomization);
 *  - two execs differ in stack, program, mmap and heap addresses (2^-18 chance each of a
 *    false alarm);
 *  - personality(ADDR_NO_RANDOMIZE) is kept across execve, and two such execs get the
 *    same layout;
 *  - /proc/sys/kernel/randomize_va_space: 0 gives the same layout twice, 1 randomizes
 *    all but the heap; any int is taken (3 too: Linux's proc_dointvec), a word is EINVAL;
 *    only root may write it (EACCES for nobody).
 * xtask runs it on Debian's arm64 kernel in qemu-system-aarch64 and on Cradle and compares
 * (qemu-aarch64 lays out the guest itself, and the test writes a sysctl).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/auxv.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/personality.h>
#include <sys/wait.h>
#include <unistd.h>

#include "tap.h"

#define TASK_SIZE (1ull << 48)
#define ELF_ET_DYN_BASE 0xaaaaaaaaa000ull
#define GIB (1ull << 30)
#define MIB (1ull << 20)

struct layout {
	unsigned long long stack, base, brk, mmap, vdso;
	unsigned pers;
};

static const char *sysctl = "/proc/sys/kernel/randomize_va_space";
static char self[4096];

static int child(void)
{
	int local = 0;
	void *m = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	/* AT_PHDR is the program headers, right after the 64-byte ELF header at the base. */
	printf("%llx %llx %llx %llx %llx %x\n", (unsigned long long)(uintptr_t)&local,
	       (unsigned long long)(getauxval(AT_PHDR) & ~0xfffull),
	       (unsigned long long)(uintptr_t)sbrk(0), (unsigned long long)(uintptr_t)m,
	       (unsigned long long)getauxval(AT_SYSINFO_EHDR), personality(0xffffffff));
	return local;
}

/* exec a copy of this program and read its layout; 0 on failure. */
static int run_child(struct layout *l)
{
	int fds[2];
	if (pipe(fds) != 0)
		return 0;
	pid_t pid = fork();
	if (pid == 0) {
		dup2(fds[1], 1);
		close(fds[0]);
		execl(self, "aslrtest", "child", (char *)NULL);
		_exit(127);
	}
	close(fds[1]);
	char buf[256] = { 0 };
	ssize_t n = read(fds[0], buf, sizeof(buf) - 1);
	close(fds[0]);
	int status;
	waitpid(pid, &status, 0);
	if (n <= 0 || !WIFEXITED(status) || WEXITSTATUS(status) != 0)
		return 0;
	return sscanf(buf, "%llx %llx %llx %llx %llx %x", &l->stack, &l->base, &l->brk, &l->mmap,
		      &l->vdso, &l->pers) == 6;
}

static int write_sysctl(const char *value)
{
	int fd = open(sysctl, O_WRONLY);
	if (fd < 0)
		return -errno;
	ssize_t n = write(fd, value, strlen(value));
	int err = n < 0 ? errno : 0;
	close(fd);
	return n < 0 ? -err : 0;
}

static int read_sysctl(void)
{
	char buf[16] = { 0 };
	int fd = open(sysctl, O_RDONLY);
	if (fd < 0)
		return -1;
	ssize_t n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	return n > 0 ? atoi(buf) : -1;
}

/* The invariants every layout has, randomized or not. */
static int sane(const struct layout *l, const char *what)
{
	if (l->stack >= TASK_SIZE || l->stack < TASK_SIZE - GIB - 16 * MIB)
		return fail("%s: the stack is not in its range below TASK_SIZE", what);
	if (l->base < ELF_ET_DYN_BASE + 64 * GIB || l->base >= l->stack - 8 * MIB)
		return fail("%s: the static-PIE program is not in the mmap area", what);
	/* Both kernels fill holes between the program's segments top-down: either side. */
	if (l->vdso + GIB - l->base > 2 * GIB || l->mmap + GIB - l->base > 2 * GIB)
		return fail("%s: the vDSO or an mmap is not next to the program", what);
	/* The heap of a program without an interpreter: ELF_ET_DYN_BASE, maybe randomized. */
	if (l->brk < ELF_ET_DYN_BASE || l->brk >= ELF_ET_DYN_BASE + GIB + 16 * MIB)
		return fail("%s: the heap is not at ELF_ET_DYN_BASE", what);
	return 1;
}

static int same(const struct layout *a, const struct layout *b)
{
	return a->stack == b->stack && a->base == b->base && a->brk == b->brk &&
	       a->mmap == b->mmap && a->vdso == b->vdso;
}

/* Not randomized: the heap starts at ELF_ET_DYN_BASE (sbrk(0) is past glibc's TLS). */
static int brk_not_moved(const struct layout *l)
{
	return l->brk < ELF_ET_DYN_BASE + 16 * MIB;
}

static int test_randomized(void)
{
	struct layout a, b;
	if (write_sysctl("2\n") != 0)
		return fail("cannot write 2 to randomize_va_space");
	if (!run_child(&a) || !run_child(&b))
		return fail("the child did not run");
	if (!sane(&a, "first") || !sane(&b, "second"))
		return 0;
	if (a.stack == b.stack || a.base == b.base || a.mmap == b.mmap)
		return fail("two execs share their stack, program or mmap address");
	if (a.brk == b.brk)
		return fail("two execs share their heap address");
	if (a.pers != 0)
		return fail("personality %#x, not PER_LINUX", a.pers);
	return 1;
}

static int test_no_randomize_personality(void)
{
	struct layout a, b;
	int old = personality(0xffffffff);
	if (personality(ADDR_NO_RANDOMIZE) != old)
		return fail("personality did not return the old value");
	int ok = run_child(&a) && run_child(&b);
	personality(old);
	if (!ok)
		return fail("the child did not run");
	if (a.pers != ADDR_NO_RANDOMIZE)
		return fail("execve dropped ADDR_NO_RANDOMIZE (%#x)", a.pers);
	if (!sane(&a, "ADDR_NO_RANDOMIZE"))
		return 0;
	if (!same(&a, &b))
		return fail("two ADDR_NO_RANDOMIZE execs differ");
	if (!brk_not_moved(&a))
		return fail("ADDR_NO_RANDOMIZE: the heap is not at ELF_ET_DYN_BASE");
	return 1;
}

static int test_sysctl_0(void)
{
	struct layout a, b;
	if (write_sysctl("0") != 0)
		return fail("cannot write 0");
	int got = read_sysctl();
	int ok = run_child(&a) && run_child(&b);
	write_sysctl("2");
	if (got != 0)
		return fail("randomize_va_space reads %d after writing 0", got);
	if (!ok)
		return fail("the child did not run");
	if (!sane(&a, "randomize_va_space=0"))
		return 0;
	if (!same(&a, &b))
		return fail("randomize_va_space=0: two execs differ");
	if (!brk_not_moved(&a))
		return fail("randomize_va_space=0: the heap is not at ELF_ET_DYN_BASE");
	return 1;
}

static int test_sysctl_1(void)
{
	struct layout a, b;
	if (write_sysctl("1\n") != 0)
		return fail("cannot write 1");
	int ok = run_child(&a) && run_child(&b);
	write_sysctl("2");
	if (!ok)
		return fail("the child did not run");
	if (!sane(&a, "randomize_va_space=1"))
		return 0;
	if (a.stack == b.stack || a.base == b.base)
		return fail("randomize_va_space=1: two execs share their stack or program address");
	if (!brk_not_moved(&a) || a.brk != b.brk)
		return fail("randomize_va_space=1: the heap moved");
	return 1;
}

static int test_sysctl_errors(void)
{
	int r;
	/* Linux 6.1's handler is proc_dointvec: any int is taken. */
	if ((r = write_sysctl("3")) != 0 || read_sysctl() != 3)
		return fail("writing 3: %s", r ? errno_name(-r) : "not read back");
	if ((r = write_sysctl("two")) != -EINVAL)
		return fail("writing two: %s", r ? errno_name(-r) : "accepted");
	if (read_sysctl() != 3)
		return fail("a refused write changed the value");
	write_sysctl("2");
	pid_t pid = fork();
	if (pid == 0) {
		if (setgid(65534) != 0 || setuid(65534) != 0)
			_exit(2);
		_exit(write_sysctl("0") == -EACCES ? 0 : 1);
	}
	int status;
	waitpid(pid, &status, 0);
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
		return fail("nobody could write randomize_va_space (or did not get EACCES)");
	return 1;
}

static const struct test tests[] = {
	{ "randomized: stack, static-PIE program and mmap differ per exec, heap above ELF_ET_DYN_BASE",
	  test_randomized },
	{ "personality(ADDR_NO_RANDOMIZE): kept across execve, the same layout twice",
	  test_no_randomize_personality },
	{ "randomize_va_space=0: the same layout twice", test_sysctl_0 },
	{ "randomize_va_space=1: randomized, all but the heap", test_sysctl_1 },
	{ "randomize_va_space: takes any int, EINVAL for a word, EACCES for nobody", test_sysctl_errors },
};

int main(int argc, char **argv)
{
	if (argc > 1 && strcmp(argv[1], "child") == 0)
		return child();
	/* As proctest does: proc may not be mounted yet (the test initramfs). */
	mkdir("/proc", 0555);
	mount("proc", "/proc", "proc", 0, NULL);
	ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);
	if (n <= 0) {
		perror("readlink /proc/self/exe");
		return 1;
	}
	self[n] = 0;
	int original = read_sysctl();
	int status = run_tests(tests, sizeof(tests) / sizeof(tests[0]));
	if (original >= 0) {
		char value[4] = { (char)('0' + original), '\n', 0 };
		write_sysctl(value);
	}
	return status;
}
