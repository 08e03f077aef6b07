/*
 * execbad.c - execve of things that are not programs fails with the right errno, and the
 * caller keeps running.
 *
 * argv[1] names the malformed ELF that xtask generates (a valid ELF header whose program
 * headers lie past the end of the file); the default is /bin/bad.elf, where the test
 * initramfs puts it. The other files are made in the current directory.
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "tap.h"

static const char *bad_elf = "/bin/bad.elf";

/* execve `path` and check it fails with `want`; describes the result like the shell would. */
static int expect_exec_errno(const char *path, int want)
{
	char *const argv[] = { (char *)path, NULL };
	char *const envp[] = { NULL };

	execve(path, argv, envp);
	int err = errno;
	if (err != want)
		return fail("execve: errno=%d (%s)", err, errno_name(err));
	return 1;
}

/* Write a file with `contents` and `mode` in the current directory. */
static int make_file(const char *name, const char *contents, mode_t mode)
{
	unlink(name);
	int fd = open(name, O_WRONLY | O_CREAT | O_TRUNC, mode);
	if (fd < 0)
		return fail("creating %s: errno=%d (%s)", name, errno, errno_name(errno));
	ssize_t len = strlen(contents);
	ssize_t n = write(fd, contents, len);
	close(fd);
	if (n != len || chmod(name, mode) != 0)
		return fail("writing %s: errno=%d (%s)", name, errno, errno_name(errno));
	return 1;
}

static int test_malformed_elf(void)
{
	return expect_exec_errno(bad_elf, ENOEXEC);
}

static int test_missing(void)
{
	return expect_exec_errno("no-such-program", ENOENT);
}

static int test_directory(void)
{
	return expect_exec_errno(".", EACCES);
}

static int test_not_executable(void)
{
	if (!make_file("execbad.noexec", "\177ELF not really\n", 0644))
		return 0;
	int ok = expect_exec_errno("./execbad.noexec", EACCES);
	unlink("execbad.noexec");
	return ok;
}

static int test_garbage(void)
{
	if (!make_file("execbad.garbage", "this is neither ELF nor a script\n", 0755))
		return 0;
	int ok = expect_exec_errno("./execbad.garbage", ENOEXEC);
	unlink("execbad.garbage");
	return ok;
}

static const struct test tests[] = {
	{ "execve: errno=8 (ENOEXEC) for an ELF with its program headers past the end",
	  test_malformed_elf },
	{ "execve: errno=2 (ENOENT) for a missing file", test_missing },
	{ "execve: errno=13 (EACCES) for a directory", test_directory },
	{ "execve: errno=13 (EACCES) for a file without execute permission", test_not_executable },
	{ "execve: errno=8 (ENOEXEC) for an executable file of text", test_garbage },
};

int main(int argc, char *argv[])
{
	if (argc > 1)
		bad_elf = argv[1];
	return run_tests(tests, TEST_COUNT(tests));
}
