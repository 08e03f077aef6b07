/*
 * xattrtest.c - extended attributes on tmpfs, as Linux 6.1's (run as root, on an arm64
 * kernel: xtask judges it on Debian's kernel in qemu-system-aarch64, since qemu-aarch64
 * would use the host's file system and kernel).
 *
 * It mounts a tmpfs on ./xattrtest.work and checks, errno for errno: trusted.* and
 * security.* are stored, user.* and unknown namespaces are EOPNOTSUPP (6.1's tmpfs),
 * a missing name is ENODATA, the POSIX ACL names read as absent (and removing one is 0); size 0 asks for the
 * length, a short buffer is ERANGE; XATTR_CREATE (EEXIST) and XATTR_REPLACE (ENODATA),
 * bad flags EINVAL; names empty or over 255 bytes ERANGE, a bare prefix EINVAL; values over
 * 64 KiB E2BIG, an empty value is stored; listxattr's order and sizes; removexattr; the
 * f* variants on a descriptor and the l* ones on a symlink (user.* there is EPERM); a hard
 * link shares the attributes; and as nobody: trusted.* is EPERM to set, ENODATA to read and
 * hidden from lists, security.* may be read, set and removed (Debian's BPF LSM skips
 * commoncap's check), an ACL's removal EPERM, user.* on a root file EACCES.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <sys/xattr.h>
#include <unistd.h>

#include "tap.h"

#define DIR "xattrtest.work"
#define FILE_A DIR "/a"

static long r;

#define EXPECT_ERR(call, err)                                                              \
	do {                                                                               \
		r = (call);                                                                \
		if (r != -1 || errno != (err))                                             \
			return fail("%s: ret %ld errno %s, not %s", #call, r,               \
				    r == -1 ? errno_name(errno) : "-", errno_name(err));    \
	} while (0)

#define EXPECT_RET(call, want)                                                             \
	do {                                                                               \
		r = (call);                                                                \
		if (r != (want))                                                           \
			return fail("%s: ret %ld errno %s, not %ld", #call, r,              \
				    r == -1 ? errno_name(errno) : "-", (long)(want));       \
	} while (0)

static int test_stored_namespaces(void)
{
	char buf[16] = { 0 };
	EXPECT_RET(setxattr(FILE_A, "trusted.a", "hello", 5, 0), 0);
	EXPECT_RET(getxattr(FILE_A, "trusted.a", NULL, 0), 5);
	EXPECT_RET(getxattr(FILE_A, "trusted.a", buf, sizeof(buf)), 5);
	if (memcmp(buf, "hello", 5) != 0)
		return fail("trusted.a reads '%s'", buf);
	EXPECT_ERR(getxattr(FILE_A, "trusted.a", buf, 2), ERANGE);
	EXPECT_RET(setxattr(FILE_A, "security.b", "sec", 3, 0), 0);
	EXPECT_RET(getxattr(FILE_A, "security.b", buf, sizeof(buf)), 3);
	return 1;
}

static int test_unsupported_and_missing(void)
{
	char buf[16];
	EXPECT_ERR(setxattr(FILE_A, "user.c", "x", 1, 0), EOPNOTSUPP);
	EXPECT_ERR(getxattr(FILE_A, "user.c", buf, sizeof(buf)), EOPNOTSUPP);
	EXPECT_ERR(removexattr(FILE_A, "user.c"), EOPNOTSUPP);
	EXPECT_ERR(setxattr(FILE_A, "foo.bar", "x", 1, 0), EOPNOTSUPP);
	EXPECT_ERR(getxattr(FILE_A, "trusted.missing", buf, sizeof(buf)), ENODATA);
	EXPECT_ERR(getxattr(FILE_A, "security.missing", buf, sizeof(buf)), ENODATA);
	EXPECT_ERR(getxattr(FILE_A, "system.posix_acl_access", buf, sizeof(buf)), ENODATA);
	EXPECT_ERR(getxattr(DIR "/nonexistent", "trusted.a", buf, sizeof(buf)), ENOENT);
	return 1;
}

static int test_flags(void)
{
	char buf[16] = { 0 };
	EXPECT_ERR(setxattr(FILE_A, "trusted.a", "x", 1, XATTR_CREATE), EEXIST);
	EXPECT_ERR(setxattr(FILE_A, "trusted.new", "x", 1, XATTR_REPLACE), ENODATA);
	EXPECT_RET(setxattr(FILE_A, "trusted.a", "bye", 3, XATTR_REPLACE), 0);
	EXPECT_RET(getxattr(FILE_A, "trusted.a", buf, sizeof(buf)), 3);
	if (memcmp(buf, "bye", 3) != 0)
		return fail("trusted.a reads '%s' after XATTR_REPLACE", buf);
	EXPECT_ERR(setxattr(FILE_A, "trusted.a", "x", 1, 4), EINVAL);
	EXPECT_RET(setxattr(FILE_A, "trusted.c", "x", 1, XATTR_CREATE), 0);
	return 1;
}

static int test_names_and_sizes(void)
{
	char name[300], buf[8];
	static char big[65537];
	EXPECT_ERR(setxattr(FILE_A, "", "x", 1, 0), ERANGE);
	EXPECT_ERR(getxattr(FILE_A, "", buf, sizeof(buf)), ERANGE);
	strcpy(name, "trusted.");
	memset(name + 8, 'n', 247);
	name[255] = 0;
	EXPECT_RET(setxattr(FILE_A, name, "x", 1, 0), 0);
	EXPECT_RET(removexattr(FILE_A, name), 0);
	name[255] = 'n';
	name[256] = 0;
	EXPECT_ERR(setxattr(FILE_A, name, "x", 1, 0), ERANGE);
	EXPECT_ERR(getxattr(FILE_A, name, buf, sizeof(buf)), ERANGE);
	EXPECT_ERR(setxattr(FILE_A, "trusted.", "x", 1, 0), EINVAL);
	EXPECT_ERR(setxattr(FILE_A, "trusted.big", big, sizeof(big), 0), E2BIG);
	EXPECT_RET(setxattr(FILE_A, "trusted.big", big, sizeof(big) - 1, 0), 0);
	EXPECT_RET(getxattr(FILE_A, "trusted.big", NULL, 0), 65536);
	EXPECT_RET(removexattr(FILE_A, "trusted.big"), 0);
	EXPECT_RET(setxattr(FILE_A, "trusted.empty", "", 0, 0), 0);
	EXPECT_RET(getxattr(FILE_A, "trusted.empty", buf, sizeof(buf)), 0);
	EXPECT_ERR(syscall(SYS_setxattr, FILE_A, "trusted.x", (void *)16, 4, 0), EFAULT);
	EXPECT_ERR(getxattr(FILE_A, "trusted.x", buf, sizeof(buf)), ENODATA);
	return 1;
}

/* The list as "name,name,..." (in the kernel's order). */
static int list_names(const char *path, char *out, size_t outsize)
{
	char buf[1024];
	ssize_t n = listxattr(path, buf, sizeof(buf));
	if (n < 0)
		return -1;
	out[0] = 0;
	for (ssize_t i = 0; i < n; i += strlen(buf + i) + 1) {
		if (out[0])
			strncat(out, ",", outsize - strlen(out) - 1);
		strncat(out, buf + i, outsize - strlen(out) - 1);
	}
	return (int)n;
}

static int test_list_and_remove(void)
{
	char names[512], small[4];
	/* Now: trusted.a, security.b, trusted.c, trusted.empty. */
	ssize_t total = listxattr(FILE_A, NULL, 0);
	int n = list_names(FILE_A, names, sizeof(names));
	if (n < 0 || n != total)
		return fail("listxattr: size 0 says %zd, the list is %d bytes", total, n);
	printf("# list: %s\n", names);
	if (strlen(names) + 1 != (size_t)n)
		return fail("listxattr's names do not add up: %s", names);
	EXPECT_ERR(listxattr(FILE_A, small, sizeof(small)), ERANGE);
	EXPECT_RET(removexattr(FILE_A, "trusted.empty"), 0);
	EXPECT_ERR(removexattr(FILE_A, "trusted.empty"), ENODATA);
	EXPECT_ERR(removexattr(FILE_A, "security.missing"), ENODATA);
	/* Removing an ACL the file does not have succeeds (set_posix_acl with NULL). */
	EXPECT_RET(removexattr(FILE_A, "system.posix_acl_access"), 0);
	EXPECT_RET(listxattr(DIR, NULL, 0), 0);
	return 1;
}

static int test_fd_and_link_variants(void)
{
	char buf[16] = { 0 }, names[256];
	int fd = open(FILE_A, O_RDONLY);
	if (fd < 0)
		return fail("open: %s", errno_name(errno));
	EXPECT_RET(fsetxattr(fd, "trusted.fd", "fd", 2, 0), 0);
	EXPECT_RET(fgetxattr(fd, "trusted.fd", buf, sizeof(buf)), 2);
	EXPECT_RET(flistxattr(fd, NULL, 0), listxattr(FILE_A, NULL, 0));
	EXPECT_RET(fremovexattr(fd, "trusted.fd"), 0);
	EXPECT_ERR(fgetxattr(fd, "trusted.fd", buf, sizeof(buf)), ENODATA);
	close(fd);
	EXPECT_ERR(fgetxattr(fd, "trusted.a", buf, sizeof(buf)), EBADF);
	EXPECT_ERR(fsetxattr(fd, "trusted.a", "x", 1, 0), EBADF);
	if (symlink("a", DIR "/link") != 0 || link(FILE_A, DIR "/hard") != 0)
		return fail("symlink/link: %s", errno_name(errno));
	EXPECT_RET(lsetxattr(DIR "/link", "trusted.l", "L", 1, 0), 0);
	EXPECT_RET(lgetxattr(DIR "/link", "trusted.l", buf, sizeof(buf)), 1);
	EXPECT_ERR(getxattr(DIR "/link", "trusted.l", buf, sizeof(buf)), ENODATA);
	EXPECT_RET(getxattr(DIR "/link", "trusted.a", buf, sizeof(buf)), 3);
	EXPECT_ERR(lsetxattr(DIR "/link", "user.l", "L", 1, 0), EPERM);
	EXPECT_RET(llistxattr(DIR "/link", names, sizeof(names)), 10);
	EXPECT_RET(lremovexattr(DIR "/link", "trusted.l"), 0);
	/* A hard link is the same inode. */
	EXPECT_RET(getxattr(DIR "/hard", "trusted.a", buf, sizeof(buf)), 3);
	EXPECT_RET(mkdir(DIR "/d", 0755), 0);
	EXPECT_RET(setxattr(DIR "/d", "trusted.dir", "D", 1, 0), 0);
	EXPECT_RET(getxattr(DIR "/d", "trusted.dir", buf, sizeof(buf)), 1);
	return 1;
}

static int as_nobody(void)
{
	char buf[16], names[256];
	if (setgid(65534) != 0 || setuid(65534) != 0)
		return fail("cannot become nobody");
	EXPECT_ERR(setxattr(FILE_A, "trusted.n", "x", 1, 0), EPERM);
	EXPECT_ERR(getxattr(FILE_A, "trusted.a", buf, sizeof(buf)), ENODATA);
	EXPECT_ERR(removexattr(FILE_A, "trusted.a"), EPERM);
	EXPECT_RET(getxattr(FILE_A, "security.b", buf, sizeof(buf)), 3);
	/* Debian's kernel runs the BPF LSM, whose default inode_setxattr and
	 * inode_removexattr hooks return 0, so commoncap's CAP_SYS_ADMIN check for
	 * security.* never runs: nobody may set and remove them on root's file. */
	EXPECT_RET(setxattr(FILE_A, "security.n", "x", 1, 0), 0);
	EXPECT_RET(removexattr(FILE_A, "security.n"), 0);
	EXPECT_ERR(removexattr(FILE_A, "system.posix_acl_access"), EPERM);
	EXPECT_ERR(setxattr(FILE_A, "user.n", "x", 1, 0), EACCES);
	EXPECT_ERR(getxattr(FILE_A, "user.n", buf, sizeof(buf)), EOPNOTSUPP);
	/* Only security.b is listed: the trusted names are hidden. */
	EXPECT_RET(listxattr(FILE_A, names, sizeof(names)), 11);
	return 1;
}

static int test_nobody(void)
{
	pid_t pid = fork();
	if (pid == 0) {
		int ok = as_nobody();
		if (!ok)
			printf("# as nobody: %s\n", tap_detail);
		fflush(stdout);
		_exit(ok ? 0 : 1);
	}
	int status;
	if (waitpid(pid, &status, 0) != pid || !WIFEXITED(status) || WEXITSTATUS(status) != 0)
		return fail("a check as nobody failed (see above)");
	return 1;
}

static const struct test tests[] = {
	{ "trusted.* and security.* are stored; size 0 gives the length; ERANGE",
	  test_stored_namespaces },
	{ "user.* and unknown namespaces EOPNOTSUPP, missing names ENODATA, ACLs absent",
	  test_unsupported_and_missing },
	{ "XATTR_CREATE EEXIST, XATTR_REPLACE ENODATA and replaces, bad flags EINVAL",
	  test_flags },
	{ "names: empty and over 255 ERANGE, a bare prefix EINVAL; values: E2BIG, empty, EFAULT",
	  test_names_and_sizes },
	{ "listxattr (sizes, ERANGE), removexattr (ENODATA once gone)", test_list_and_remove },
	{ "f* on a descriptor, l* on a symlink, a hard link, a directory",
	  test_fd_and_link_variants },
	{ "nobody: trusted.* EPERM/ENODATA/hidden, security.* allowed, ACL EPERM, user.* EACCES",
	  test_nobody },
};

int main(void)
{
	mkdir(DIR, 0755);
	if (mount("tmpfs", DIR, "tmpfs", 0, NULL) != 0) {
		printf("Bail out! mount tmpfs on " DIR ": %s\n", errno_name(errno));
		return 1;
	}
	int fd = open(FILE_A, O_CREAT | O_WRONLY, 0644);
	if (fd < 0) {
		printf("Bail out! create " FILE_A ": %s\n", errno_name(errno));
		return 1;
	}
	close(fd);
	chmod(DIR, 0777);
	int status = run_tests(tests, sizeof(tests) / sizeof(tests[0]));
	umount(DIR);
	rmdir(DIR);
	return status;
}
