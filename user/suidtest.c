/*
 * suidtest.c - set-user-ID and set-group-ID programs: exec changes the effective IDs.
 *
 * Run as root on an arm64 kernel (its execve must run arm64 programs: not under
 * qemu-aarch64, whose execve goes to the host). It copies its own binary three times into
 * ./suidtest.work: set-user-ID root (04755 root:root), set-group-ID users (02755
 * root:100) and plain (0755). A child drops to nobody and execs each copy with the
 * argument `report FD`: the copy writes its real, effective and saved IDs and AT_SECURE
 * to descriptor FD and exits, and the parent compares them with Linux's answer. Children
 * never print.
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <grp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/auxv.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include "tap.h"

#define NOBODY 65534
#define USERS 100

static const char *self_path;
static int setup_ok;

/* As a copy run with `report FD`: write the IDs, AT_SECURE and whether setuid(0) works. */
static int report(int fd)
{
	uid_t r, e, s;
	gid_t gr, ge, gs;
	char line[160];
	int n, back;

	getresuid(&r, &e, &s);
	getresgid(&gr, &ge, &gs);
	back = setuid(0) == 0;
	n = snprintf(line, sizeof(line), "uid %u %u %u gid %u %u %u secure %lu setuid0 %d",
		     r, e, s, gr, ge, gs, getauxval(AT_SECURE), back);
	return write(fd, line, n) == n ? 0 : 1;
}

static int copy_self(const char *to, uid_t uid, gid_t gid, mode_t mode)
{
	char buf[65536];
	ssize_t n;
	int in = open(self_path, O_RDONLY);
	int out = open(to, O_WRONLY | O_CREAT | O_TRUNC, 0700);

	if (in < 0 || out < 0)
		return -1;
	while ((n = read(in, buf, sizeof(buf))) > 0)
		if (write(out, buf, n) != n)
			return -1;
	close(in);
	close(out);
	/* chown first: it clears set-ID bits, which chmod then sets. */
	return chown(to, uid, gid) == 0 && chmod(to, mode) == 0 ? 0 : -1;
}

/* Exec `path` as nobody in a child; its report, or an error text. */
static void run_as_nobody(const char *path, char *out, size_t size)
{
	int p[2], status;
	ssize_t n;
	pid_t pid;

	snprintf(out, size, "no report");
	if (pipe(p) != 0)
		return;
	pid = fork();
	if (pid == 0) {
		char fd[16];

		close(p[0]);
		snprintf(fd, sizeof(fd), "%d", p[1]);
		if (setgroups(0, NULL) != 0 || setgid(NOBODY) != 0 || setuid(NOBODY) != 0)
			_exit(2);
		execl(path, path, "report", fd, (char *)NULL);
		_exit(3);
	}
	close(p[1]);
	n = read(p[0], out, size - 1);
	close(p[0]);
	if (n > 0)
		out[n] = '\0';
	if (pid < 0 || waitpid(pid, &status, 0) != pid)
		snprintf(out, size, "fork/wait failed");
	else if (n <= 0)
		snprintf(out, size, "child exit status %d", WIFEXITED(status) ? WEXITSTATUS(status) : -1);
}

static int check(const char *path, const char *want)
{
	char got[160];

	if (!setup_ok)
		return fail("setup failed");
	run_as_nobody(path, got, sizeof(got));
	if (strcmp(got, want) != 0)
		return fail("got \"%s\", want \"%s\"", got, want);
	return 1;
}

static int t_root_not_secure(void)
{
	if (getauxval(AT_SECURE) != 0)
		return fail("AT_SECURE %lu for root's own exec", getauxval(AT_SECURE));
	return 1;
}

static int t_setup(void)
{
	if (!setup_ok)
		return fail("copying the binary failed: %s", errno_name(errno));
	return 1;
}

static int t_suid_root(void)
{
	return check("./suid", "uid 65534 0 0 gid 65534 65534 65534 secure 1 setuid0 1");
}

static int t_sgid(void)
{
	return check("./sgid", "uid 65534 65534 65534 gid 65534 100 100 secure 1 setuid0 0");
}

static int t_plain(void)
{
	return check("./plain", "uid 65534 65534 65534 gid 65534 65534 65534 secure 0 setuid0 0");
}

static int t_suid_mode_kept(void)
{
	struct stat st;

	if (stat("suid", &st) != 0 || (st.st_mode & 07777) != 04755 || st.st_uid != 0)
		return fail("suid is %o %u", st.st_mode & 07777, st.st_uid);
	return 1;
}

static const struct test tests[] = {
	{ "root's own exec: AT_SECURE 0", t_root_not_secure },
	{ "copy the binary: set-user-ID root, set-group-ID users, plain", t_setup },
	{ "nobody runs set-user-ID root: euid and saved uid 0, AT_SECURE 1", t_suid_root },
	{ "nobody runs set-group-ID users: egid and saved gid 100, AT_SECURE 1", t_sgid },
	{ "nobody runs a plain copy: nothing changes, AT_SECURE 0", t_plain },
	{ "the set-user-ID copy keeps its mode and owner", t_suid_mode_kept },
};

int main(int argc, char **argv)
{
	if (argc == 3 && strcmp(argv[1], "report") == 0)
		return report(atoi(argv[2]));
	if (getuid() != 0) {
		printf("1..0 # SKIP suidtest must start as root\n");
		return 0;
	}
	/* The copies are made after the chdir: a relative argv[0] would no longer name us. */
	self_path = argv[0][0] == '/' ? argv[0] : "/proc/self/exe";
	umask(022);
	setup_ok = mkdir("suidtest.work", 0755) == 0 && chdir("suidtest.work") == 0 &&
		   copy_self("suid", 0, 0, 04755) == 0 && copy_self("sgid", 0, USERS, 02755) == 0 &&
		   copy_self("plain", 0, 0, 0755) == 0;
	return run_tests(tests, TEST_COUNT(tests));
}
