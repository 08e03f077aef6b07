/*
 * hugeelf.c - memory that could never be backed is refused: an ELF whose .bss is 64 TiB,
 * one whose segment wraps the address space, and a 64 TiB mmap.
 *
 * The program writes small static arm64 ELF files by hand (a 64-byte header, two program
 * headers, three instructions: exit(42)) into its working directory and execve()s them in
 * children. Linux refuses a 64 TiB .bss (execve fails with ENOMEM, or the new image dies
 * with SIGSEGV/SIGKILL: vm_brk fails past the point of no return); it must never run and
 * exit 42. The same file with a 4 KiB .bss must run and exit 42 (the control, so that a
 * refusal is about the size and not a broken file).
 *
 * Under qemu-aarch64 (user mode) execve runs on the x86 host kernel, which refuses every
 * arm64 ELF with ENOEXEC (see user/README.md): the refusals then pass for that reason, and
 * the control is only checked under the test /init (our parent is PID 1, an arm64 kernel).
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdint.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include "tap.h"

#define TIB (1ULL << 40)
#define BASE 0x400000ULL
#define DATA 0x410000ULL

/* Write an ELF that exits 42, whose second PT_LOAD (read-write, no file bytes) is at
 * `data_vaddr` with `data_memsz` bytes. */
static int write_elf(const char *path, uint64_t data_vaddr, uint64_t data_memsz)
{
	unsigned char f[64 + 2 * 56 + 12];
	static const uint32_t code[] = {
		0xd2800540, /* mov x0, #42 */
		0xd2800ba8, /* mov x8, #93 (exit) */
		0xd4000001, /* svc #0 */
	};
	uint64_t phdrs[2][7] = {
		/* p_type|p_flags, p_offset, p_vaddr, p_paddr, p_filesz, p_memsz, p_align */
		{ 1 | (5ULL << 32), 0, BASE, BASE, sizeof(f), sizeof(f), 0x1000 },
		{ 1 | (6ULL << 32), 0, data_vaddr, data_vaddr, 0, data_memsz, 0x1000 },
	};

	memset(f, 0, sizeof(f));
	memcpy(f, "\177ELF\2\1\1", 7);      /* 64-bit, little-endian, version 1 */
	f[16] = 2;                          /* e_type ET_EXEC */
	f[18] = 183;                        /* e_machine EM_AARCH64 */
	f[20] = 1;                          /* e_version */
	uint64_t entry = BASE + 64 + 2 * 56;
	memcpy(f + 24, &entry, 8);          /* e_entry */
	uint64_t phoff = 64;
	memcpy(f + 32, &phoff, 8);          /* e_phoff */
	f[52] = 64;                         /* e_ehsize */
	f[54] = 56;                         /* e_phentsize */
	f[56] = 2;                          /* e_phnum */
	f[58] = 64;                         /* e_shentsize */
	memcpy(f + 64, phdrs, sizeof(phdrs));
	memcpy(f + 64 + 2 * 56, code, sizeof(code));

	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0755);
	if (fd < 0)
		return -1;
	int ok = write(fd, f, sizeof(f)) == (ssize_t)sizeof(f);
	return close(fd) == 0 && ok ? 0 : -1;
}

/* Run `path`: -1 - errno if execve failed, the exit status, or 256 + the killing signal. */
static int run(const char *path)
{
	int pipefd[2], status, err = 0;

	if (pipe2(pipefd, O_CLOEXEC) != 0)
		return -1000;
	pid_t pid = fork();
	if (pid < 0)
		return -1000;
	if (pid == 0) {
		char *argv[] = { (char *)path, NULL };
		execve(path, argv, environ);
		err = errno;
		if (write(pipefd[1], &err, sizeof(err)) < 0)
			_exit(126);
		_exit(127);
	}
	close(pipefd[1]);
	if (read(pipefd[0], &err, sizeof(err)) != (ssize_t)sizeof(err))
		err = 0;
	close(pipefd[0]);
	if (waitpid(pid, &status, 0) != pid)
		return -1000;
	if (err)
		return -1 - err;
	if (WIFSIGNALED(status))
		return 256 + WTERMSIG(status);
	return WEXITSTATUS(status);
}

/* The file must not run to its exit(42). */
static int refused(uint64_t data_vaddr, uint64_t data_memsz)
{
	if (write_elf("huge.elf", data_vaddr, data_memsz) != 0)
		return fail("cannot write huge.elf: %s", errno_name(errno));
	int r = run("./huge.elf");
	unlink("huge.elf");
	if (r == 42)
		return fail("it ran and exited 42");
	if (r == -1000)
		return fail("fork/wait failed");
	return 1;
}

static int test_control(void)
{
	if (getppid() != 1)
		return 1; /* on a host that cannot run arm64 ELFs: see the header */
	if (write_elf("small.elf", DATA, 0x1000) != 0)
		return fail("cannot write small.elf: %s", errno_name(errno));
	int r = run("./small.elf");
	unlink("small.elf");
	if (r != 42)
		return fail("ended with %d", r);
	return 1;
}

static int test_huge_bss(void)
{
	return refused(DATA, 64 * TIB);
}

static int test_wrapping_segment(void)
{
	return refused(DATA, -DATA + 0x1000);
}

static int test_past_task_size(void)
{
	return refused(DATA, 1ULL << 48);
}

static int test_mmap_64tib(void)
{
	void *p = mmap(NULL, 64 * TIB, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (p != MAP_FAILED) {
		munmap(p, 64 * TIB);
		return fail("mmap of 64 TiB succeeded");
	}
	if (errno != ENOMEM)
		return fail("mmap: %s, expected ENOMEM", errno_name(errno));
	return 1;
}

int main(void)
{
	static const struct test tests[] = {
		{ "the hand-made ELF with a 4 KiB .bss runs and exits 42", test_control },
		{ "execve of an ELF with a 64 TiB .bss does not run it", test_huge_bss },
		{ "execve of an ELF whose segment wraps past 2^64 does not run it",
		  test_wrapping_segment },
		{ "execve of an ELF whose segment ends past TASK_SIZE does not run it",
		  test_past_task_size },
		{ "mmap of 64 TiB of private writable memory fails with ENOMEM", test_mmap_64tib },
	};

	return run_tests(tests, TEST_COUNT(tests));
}
