/*
 * proctest.c - procfs as programs read it: /proc/self/{stat,status,cmdline,exe,fd},
 * /proc/meminfo, /proc/uptime, /proc/loadavg, /proc/mounts, and a reaped child's
 * directory going away.
 *
 * It first mounts proc on /proc (making the directory if need be). On Cradle that is what
 * puts procfs there; under qemu-aarch64 the host's /proc is already mounted and the mount
 * fails (EBUSY, or EPERM for a non-root user), which is ignored. Only checks that hold on
 * both are made, and nothing machine-dependent is printed unless a check fails.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "tap.h"

static int saved_argc;
static char **saved_argv;

/* Read a whole /proc file into buf (NUL-terminated); the length, or -1 with errno. */
static long read_file(const char *path, char *buf, size_t size)
{
	int fd = open(path, O_RDONLY);
	size_t len = 0;

	if (fd < 0)
		return -1;
	while (len + 1 < size) {
		/* Small reads on purpose: procfs must serve a file from any offset. */
		size_t want = size - 1 - len < 100 ? size - 1 - len : 100;
		ssize_t n = read(fd, buf + len, want);

		if (n < 0) {
			int err = errno;

			close(fd);
			errno = err;
			return -1;
		}
		if (n == 0)
			break;
		len += n;
	}
	close(fd);
	buf[len] = '\0';
	return (long)len;
}

static int self_stat(void)
{
	char buf[1024], name[64];
	long pid, ppid;
	char state;

	if (read_file("/proc/self/stat", buf, sizeof(buf)) < 0)
		return fail("open /proc/self/stat: errno=%s", errno_name(errno));
	if (sscanf(buf, "%ld (%63[^)]) %c %ld", &pid, name, &state, &ppid) != 4)
		return fail("unparsable: %.60s", buf);
	if (pid != getpid())
		return fail("pid field %ld, getpid() %ld", pid, (long)getpid());
	if (strcmp(name, "proctest") != 0)
		return fail("comm field (%s)", name);
	if (!strchr("RSD", state))
		return fail("state %c", state);
	if (ppid != getppid())
		return fail("ppid field %ld, getppid() %ld", ppid, (long)getppid());
	return 1;
}

static int self_status(void)
{
	char buf[4096], want[64];

	if (read_file("/proc/self/status", buf, sizeof(buf)) < 0)
		return fail("open /proc/self/status: errno=%s", errno_name(errno));
	snprintf(want, sizeof(want), "\nPid:\t%ld\n", (long)getpid());
	if (strncmp(buf, "Name:\t", 6) != 0)
		return fail("does not start with Name:");
	if (!strstr(buf, want))
		return fail("no Pid: line with getpid()");
	if (!strstr(buf, "\nVmRSS:") || !strstr(buf, " kB\n"))
		return fail("no VmRSS: ... kB line");
	return 1;
}

static int self_cmdline(void)
{
	char buf[4096], want[4096];
	size_t len = 0;
	long n;

	for (int i = 0; i < saved_argc; i++) {
		size_t arg = strlen(saved_argv[i]) + 1;

		if (len + arg > sizeof(want))
			return fail("argv too long");
		memcpy(want + len, saved_argv[i], arg);
		len += arg;
	}
	n = read_file("/proc/self/cmdline", buf, sizeof(buf));
	if (n < 0)
		return fail("open /proc/self/cmdline: errno=%s", errno_name(errno));
	if ((size_t)n != len || memcmp(buf, want, len) != 0)
		return fail("%ld bytes, argv is %zu", n, len);
	return 1;
}

static int self_exe(void)
{
	char link[PATH_MAX], real[PATH_MAX];
	ssize_t n = readlink("/proc/self/exe", link, sizeof(link) - 1);

	if (n < 0)
		return fail("readlink: errno=%s", errno_name(errno));
	link[n] = '\0';
	if (!realpath(saved_argv[0], real))
		return fail("realpath(argv[0]): errno=%s", errno_name(errno));
	if (strcmp(link, real) != 0)
		return fail("exe is not the program");
	return 1;
}

static int self_link(void)
{
	char link[64], want[64];
	ssize_t n = readlink("/proc/self", link, sizeof(link) - 1);

	if (n < 0)
		return fail("readlink: errno=%s", errno_name(errno));
	link[n] = '\0';
	snprintf(want, sizeof(want), "%ld", (long)getpid());
	if (strcmp(link, want) != 0)
		return fail("/proc/self -> %s", link);
	return 1;
}

static int self_fd(void)
{
	DIR *dir = opendir("/proc/self/fd");
	int seen[3] = { 0, 0, 0 };
	struct dirent *e;

	if (!dir)
		return fail("opendir: errno=%s", errno_name(errno));
	while ((e = readdir(dir)) != NULL) {
		for (int fd = 0; fd < 3; fd++) {
			char name[4];

			snprintf(name, sizeof(name), "%d", fd);
			if (strcmp(e->d_name, name) == 0)
				seen[fd] = 1;
		}
	}
	closedir(dir);
	if (!seen[0] || !seen[1] || !seen[2])
		return fail("listed 0:%d 1:%d 2:%d", seen[0], seen[1], seen[2]);
	return 1;
}

static int pipe_fd_link(void)
{
	char path[64], link[64];
	int fds[2];
	ssize_t n;

	if (pipe(fds) != 0)
		return fail("pipe: errno=%s", errno_name(errno));
	snprintf(path, sizeof(path), "/proc/self/fd/%d", fds[0]);
	n = readlink(path, link, sizeof(link) - 1);
	close(fds[0]);
	close(fds[1]);
	if (n < 0)
		return fail("readlink: errno=%s", errno_name(errno));
	link[n] = '\0';
	if (strncmp(link, "pipe:[", 6) != 0 || link[n - 1] != ']')
		return fail("pipe fd -> %s", link);
	return 1;
}

/* The kB value of a /proc/meminfo line, or -1. */
static long meminfo_kb(const char *text, const char *label)
{
	const char *line = strstr(text, label);
	long kb;

	if (!line || (line != text && line[-1] != '\n'))
		return -1;
	if (sscanf(line + strlen(label), " %ld kB", &kb) != 1)
		return -1;
	return kb;
}

static int meminfo(void)
{
	char buf[8192];
	long total, free;

	if (read_file("/proc/meminfo", buf, sizeof(buf)) < 0)
		return fail("open: errno=%s", errno_name(errno));
	total = meminfo_kb(buf, "MemTotal:");
	free = meminfo_kb(buf, "MemFree:");
	if (strncmp(buf, "MemTotal:", 9) != 0)
		return fail("does not start with MemTotal:");
	if (total <= 0 || free < 0)
		return fail("MemTotal %ld, MemFree %ld", total, free);
	if (free > total)
		return fail("MemFree > MemTotal");
	return 1;
}

static int uptime(void)
{
	char buf[128], end;
	unsigned long up, up_cs, idle, idle_cs;

	if (read_file("/proc/uptime", buf, sizeof(buf)) < 0)
		return fail("open: errno=%s", errno_name(errno));
	if (sscanf(buf, "%lu.%2lu %lu.%2lu%c", &up, &up_cs, &idle, &idle_cs, &end) != 5 ||
	    end != '\n')
		return fail("unparsable: %s", buf);
	if (up == 0 && up_cs == 0)
		return fail("uptime is 0");
	return 1;
}

static int loadavg(void)
{
	char buf[128];
	unsigned long a, af, b, bf, c, cf, running, total, last;

	if (read_file("/proc/loadavg", buf, sizeof(buf)) < 0)
		return fail("open: errno=%s", errno_name(errno));
	if (sscanf(buf, "%lu.%2lu %lu.%2lu %lu.%2lu %lu/%lu %lu", &a, &af, &b, &bf, &c, &cf,
		   &running, &total, &last) != 9)
		return fail("unparsable: %s", buf);
	if (running < 1 || running > total)
		return fail("running %lu of %lu", running, total);
	return 1;
}

static int mounts(void)
{
	char buf[16384];

	if (read_file("/proc/mounts", buf, sizeof(buf)) < 0)
		return fail("open: errno=%s", errno_name(errno));
	if (strncmp(buf, "proc /proc proc ", 16) != 0 && !strstr(buf, "\nproc /proc proc "))
		return fail("no line 'proc /proc proc ...'");
	return 1;
}

static int reaped_child_gone(void)
{
	char path[64];
	struct stat st;
	int status;
	pid_t child = fork();

	if (child < 0)
		return fail("fork: errno=%s", errno_name(errno));
	if (child == 0)
		_exit(0);
	snprintf(path, sizeof(path), "/proc/%ld", (long)child);
	if (waitpid(child, &status, 0) != child)
		return fail("waitpid: errno=%s", errno_name(errno));
	errno = 0;
	if (stat(path, &st) == 0)
		return fail("/proc/<child> still there after wait");
	if (errno != ENOENT)
		return fail("stat: errno=%s", errno_name(errno));
	return 1;
}

static int lists_self(void)
{
	DIR *dir = opendir("/proc");
	char want[32];
	struct dirent *e;
	int found = 0;

	if (!dir)
		return fail("opendir: errno=%s", errno_name(errno));
	snprintf(want, sizeof(want), "%ld", (long)getpid());
	while ((e = readdir(dir)) != NULL)
		if (strcmp(e->d_name, want) == 0 && e->d_type == DT_DIR)
			found = 1;
	closedir(dir);
	if (!found)
		return fail("getpid() not listed as a directory");
	return 1;
}

static const struct test tests[] = {
	{ "/proc/self/stat: pid (comm) state ppid", self_stat },
	{ "/proc/self/status: Name, Pid, VmRSS", self_status },
	{ "/proc/self/cmdline is argv", self_cmdline },
	{ "/proc/self/exe is the program", self_exe },
	{ "/proc/self links to getpid()", self_link },
	{ "/proc/self/fd lists 0, 1 and 2", self_fd },
	{ "/proc/self/fd/N of a pipe is pipe:[ino]", pipe_fd_link },
	{ "/proc/meminfo: MemTotal, MemFree <= MemTotal", meminfo },
	{ "/proc/uptime parses", uptime },
	{ "/proc/loadavg parses", loadavg },
	{ "/proc/mounts lists proc on /proc", mounts },
	{ "/proc/<pid> of a reaped child is gone", reaped_child_gone },
	{ "/proc lists getpid() as a directory", lists_self },
};

int main(int argc, char *argv[])
{
	saved_argc = argc;
	saved_argv = argv;
	/* Where proc is already mounted (Linux, qemu-aarch64) these fail; that is fine. */
	mkdir("/proc", 0555);
	mount("proc", "/proc", "proc", 0, NULL);
	return run_tests(tests, TEST_COUNT(tests));
}
