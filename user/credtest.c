/*
 * credtest.c - users and permissions: credentials, the set*id rules, and the file
 * permission checks (DAC) an ordinary user meets.
 *
 * Run as root. It builds a small tree in ./credtest.work (files and directories owned by
 * root and by nobody, a sticky directory, a set-group-ID directory), starts a child that
 * stays root, then drops to nobody (setgroups, setgid, setuid: uid and gid 65534) and
 * tries each operation, printing the errno it gets. A second child checks the set*id
 * rules between unprivileged IDs and reports through its exit status. Every expected
 * value is Linux's.
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <grp.h>
#include <linux/capability.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/fsuid.h>
#include <sys/mount.h>
#include <sys/reboot.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/sysmacros.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include "tap.h"

#define NOBODY 65534
#define USERS 100

static pid_t root_child;  /* stays root until told to exit */
static int root_child_pipe = -1;
static int priv_fd = -1;  /* a descriptor of the 0700 directory, opened as root */
static int setup_ok;

/* `rc` must be -1 with errno `want` (or 0 for success). */
static int expect(const char *what, long rc, int want)
{
	int got = rc < 0 ? errno : 0;

	if (got != want)
		return fail("%s: expected %s, got %s", what, errno_name(want), errno_name(got));
	return 1;
}

static int write_file(const char *path, mode_t mode, uid_t uid, gid_t gid)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);

	if (fd < 0 || write(fd, "x", 1) != 1)
		return -1;
	close(fd);
	/* chown first: it clears set-ID bits, which chmod then sets. */
	if (chown(path, uid, gid) != 0 || chmod(path, mode) != 0)
		return -1;
	return 0;
}

static int make_dir(const char *path, mode_t mode, uid_t uid, gid_t gid)
{
	if (mkdir(path, 0700) != 0 || chown(path, uid, gid) != 0 || chmod(path, mode) != 0)
		return -1;
	return 0;
}

static int mode_of(const char *path)
{
	struct stat st;

	if (stat(path, &st) != 0)
		return -1;
	return st.st_mode & 07777;
}

/* Build the tree as root. */
static int setup(void)
{
	umask(022);
	if (access("/proc/self/status", F_OK) != 0) {
		mkdir("/proc", 0555);
		mount("proc", "/proc", "proc", 0, NULL);
	}
	if (make_dir("credtest.work", 0755, 0, 0) != 0 || chdir("credtest.work") != 0)
		return -1;
	if (write_file("secret", 0600, 0, 0) || symlink("secret", "link") ||
	    make_dir("priv", 0700, 0, 0) || write_file("priv/f", 0644, 0, 0) ||
	    symlink("f", "priv/lnk") || make_dir("ro", 0755, 0, 0) ||
	    write_file("ro/f", 0644, 0, 0) || make_dir("ro/sub", 0755, 0, 0) ||
	    make_dir("pub", 0777, 0, 0) || write_file("pub/pubfile", 0666, 0, 0) ||
	    make_dir("sticky", 01777, 0, 0) || write_file("sticky/rootfile", 0666, 0, 0) ||
	    make_dir("sgid", 02777, 0, USERS) || write_file("mine", 0644, NOBODY, USERS) ||
	    write_file("mine2", 06755, NOBODY, NOBODY) ||
	    write_file("suidmine", 06755, NOBODY, NOBODY) ||
	    write_file("rootsuid", 04755, 0, 0))
		return -1;
	priv_fd = open("priv", O_RDONLY | O_DIRECTORY);
	return priv_fd < 0 ? -1 : 0;
}

/* A child that stays root until the pipe closes. */
static int start_root_child(void)
{
	int p[2];
	char c;

	if (pipe(p) != 0)
		return -1;
	root_child = fork();
	if (root_child < 0)
		return -1;
	if (root_child == 0) {
		close(p[1]);
		while (read(p[0], &c, 1) > 0)
			;
		_exit(0);
	}
	close(p[0]);
	root_child_pipe = p[1];
	return 0;
}

/* The set*id rules between unprivileged IDs, in a child: exit 0, or the failing step. */
static int setid_rules_child(void)
{
	uid_t r, e, s;

	if (setresgid(NOBODY, NOBODY, NOBODY) != 0)
		return 1;
	if (setresuid(1000, 1001, 1002) != 0)
		return 2;
	getresuid(&r, &e, &s);
	if (r != 1000 || e != 1001 || s != 1002)
		return 3;
	if (seteuid(1002) != 0 || geteuid() != 1002)
		return 4; /* to the saved ID */
	if (seteuid(0) != -1 || errno != EPERM)
		return 5;
	if (setuid(1000) != 0)
		return 6; /* unprivileged setuid: only the effective ID moves */
	getresuid(&r, &e, &s);
	if (r != 1000 || e != 1000 || s != 1002)
		return 7;
	if (setreuid(1002, -1) != -1 || errno != EPERM)
		return 8; /* a real ID may only become the real or effective one */
	if (setreuid(-1, 1002) != 0)
		return 9;
	getresuid(&r, &e, &s);
	if (r != 1000 || e != 1002 || s != 1002)
		return 10; /* euid != ruid: the saved ID follows it */
	if (setfsuid(5) != 1002 || setfsuid(-1) != 1002)
		return 11; /* not one of the IDs: refused, returns the old */
	if (setfsuid(1000) != 1002 || setfsuid(-1) != 1000)
		return 12;
	if (setgroups(0, NULL) != -1 || errno != EPERM)
		return 13;
	if (setgid(0) != -1 || errno != EPERM)
		return 14;
	return 0;
}

static int t_setup(void)
{
	if (!setup_ok)
		return fail("setup as root failed: %s", errno_name(errno));
	return 1;
}

static int t_setid_rules(void)
{
	int status;
	pid_t pid = fork();

	if (pid == 0)
		_exit(setid_rules_child());
	if (pid < 0 || waitpid(pid, &status, 0) != pid || !WIFEXITED(status))
		return fail("fork/wait");
	if (WEXITSTATUS(status) != 0)
		return fail("step %d failed", WEXITSTATUS(status));
	return 1;
}

static int t_root_chown_clears_suid(void)
{
	if (chown("rootsuid", 0, 0) != 0)
		return fail("chown: %s", errno_name(errno));
	if (mode_of("rootsuid") != 0755)
		return fail("mode %o", mode_of("rootsuid"));
	return 1;
}

static int t_drop(void)
{
	uid_t r, e, s;
	gid_t gr, ge, gs;

	if (start_root_child() != 0)
		return fail("fork: %s", errno_name(errno));
	if (setgroups(0, NULL) != 0 || setgid(NOBODY) != 0 || setuid(NOBODY) != 0)
		return fail("drop: %s", errno_name(errno));
	getresuid(&r, &e, &s);
	getresgid(&gr, &ge, &gs);
	if (r != NOBODY || e != NOBODY || s != NOBODY || gr != NOBODY || ge != NOBODY ||
	    gs != NOBODY || getgroups(0, NULL) != 0)
		return fail("ids %u %u %u / %u %u %u", r, e, s, gr, ge, gs);
	return 1;
}

static int t_no_way_back(void)
{
	return expect("setuid(0)", setuid(0), EPERM) && expect("setgid(0)", setgid(0), EPERM) &&
	       expect("seteuid(0)", seteuid(0), EPERM) &&
	       expect("setresuid(-1,0,-1)", setresuid(-1, 0, -1), EPERM) &&
	       expect("setreuid(0,-1)", setreuid(0, -1), EPERM) &&
	       expect("setgroups", setgroups(0, NULL), EPERM) &&
	       expect("setuid(nobody)", setuid(NOBODY), 0) &&
	       expect("setfsuid(0) refused", setfsuid(0) == NOBODY && setfsuid(-1) == NOBODY ? 0 : -1, 0);
}

static int t_capabilities_gone(void)
{
	struct __user_cap_header_struct h = { _LINUX_CAPABILITY_VERSION_3, 0 };
	struct __user_cap_data_struct d[2];

	if (syscall(SYS_capget, &h, d) != 0)
		return fail("capget: %s", errno_name(errno));
	if (d[0].effective || d[0].permitted || d[1].effective || d[1].permitted)
		return fail("capabilities left");
	d[0].effective = d[0].permitted = 1u << CAP_SETUID;
	return expect("capset CAP_SETUID", syscall(SYS_capset, &h, d), EPERM);
}

static int t_open(void)
{
	return expect("open secret O_RDONLY", open("secret", O_RDONLY), EACCES) &&
	       expect("open secret O_WRONLY", open("secret", O_WRONLY), EACCES) &&
	       expect("open ro/f O_RDWR", open("ro/f", O_RDWR), EACCES) &&
	       expect("open ro/f O_RDONLY|O_TRUNC", open("ro/f", O_RDONLY | O_TRUNC), EACCES) &&
	       expect("open link (-> secret)", open("link", O_RDONLY), EACCES) &&
	       expect("open priv (0700 dir)", open("priv", O_RDONLY), EACCES) &&
	       expect("open ro/f O_RDONLY", close(open("ro/f", O_RDONLY)), 0);
}

static int t_create(void)
{
	return expect("creat ro/new", creat("ro/new", 0644), EACCES) &&
	       expect("open ro/new O_CREAT", open("ro/new", O_WRONLY | O_CREAT, 0644), EACCES) &&
	       expect("open ro/f O_CREAT (exists)", close(open("ro/f", O_RDONLY | O_CREAT, 0644)), 0) &&
	       expect("mkdir ro/d", mkdir("ro/d", 0755), EACCES) &&
	       expect("mkdir ro/sub (exists)", mkdir("ro/sub", 0755), EEXIST) &&
	       expect("mknod ro/fifo", mknod("ro/fifo", S_IFIFO | 0644, 0), EACCES) &&
	       expect("symlink ro/l", symlink("x", "ro/l"), EACCES) &&
	       expect("link mine ro/hard", link("mine", "ro/hard"), EACCES) &&
	       expect("mknod pub/chr (no CAP_MKNOD)", mknod("pub/chr", S_IFCHR | 0644, makedev(1, 3)), EPERM);
}

static int t_remove(void)
{
	return expect("unlink ro/f", unlink("ro/f"), EACCES) &&
	       expect("rmdir ro/sub", rmdir("ro/sub"), EACCES) &&
	       expect("rename ro/f pub/f", rename("ro/f", "pub/f"), EACCES) &&
	       expect("rename pub/pubfile ro/x", rename("pub/pubfile", "ro/x"), EACCES) &&
	       expect("unlink priv/f", unlink("priv/f"), EACCES);
}

static int t_search(void)
{
	struct stat st;
	struct statfs sf;
	char buf[16];

	return expect("stat priv/f", stat("priv/f", &st), EACCES) &&
	       expect("lstat priv/lnk", lstat("priv/lnk", &st), EACCES) &&
	       expect("stat priv itself", stat("priv", &st), 0) &&
	       expect("statfs priv/f", statfs("priv/f", &sf), EACCES) &&
	       expect("readlink priv/lnk", readlink("priv/lnk", buf, sizeof(buf)), EACCES) &&
	       expect("readlink link", readlink("link", buf, sizeof(buf)) == 6 ? 0 : -1, 0) &&
	       expect("chdir priv", chdir("priv"), EACCES) &&
	       expect("fchdir priv", fchdir(priv_fd), EACCES) &&
	       expect("open priv/f", open("priv/f", O_RDONLY), EACCES) &&
	       expect("creat priv/new", creat("priv/new", 0644), EACCES);
}

static int t_truncate(void)
{
	return expect("truncate secret", truncate("secret", 0), EACCES) &&
	       expect("truncate ro/f", truncate("ro/f", 0), EACCES) &&
	       expect("truncate priv/f", truncate("priv/f", 0), EACCES) &&
	       expect("truncate ro", truncate("ro", 0), EISDIR) &&
	       expect("truncate pub/pubfile", truncate("pub/pubfile", 1), 0);
}

static int t_access(void)
{
	return expect("access secret R_OK", access("secret", R_OK), EACCES) &&
	       expect("access secret F_OK", access("secret", F_OK), 0) &&
	       expect("access ro/f R_OK", access("ro/f", R_OK), 0) &&
	       expect("access ro/f W_OK", access("ro/f", W_OK), EACCES) &&
	       expect("access ro W_OK", access("ro", W_OK), EACCES) &&
	       expect("access pub W_OK|X_OK", access("pub", W_OK | X_OK), 0) &&
	       expect("access priv/f F_OK", access("priv/f", F_OK), EACCES) &&
	       expect("faccessat AT_EACCESS", faccessat(AT_FDCWD, "secret", R_OK, AT_EACCESS), EACCES);
}

static int t_chmod(void)
{
	return expect("chmod ro/f", chmod("ro/f", 0777), EPERM) &&
	       expect("chmod mine 0600", chmod("mine", 0600), 0) &&
	       expect("mode 0600", mode_of("mine") == 0600 ? 0 : -1, 0) &&
	       /* mine's group (users) is not nobody's: S_ISGID is dropped. */
	       expect("chmod mine 02755", chmod("mine", 02755), 0) &&
	       expect("S_ISGID dropped", mode_of("mine") == 0755 ? 0 : -1, 0);
}

static int t_chown(void)
{
	struct stat st;

	if (!(expect("chown mine to root", chown("mine", 0, -1), EPERM) &&
	      expect("chgrp mine to root's group", chown("mine", -1, 0), EPERM) &&
	      expect("chown ro/f to itself", chown("ro/f", 0, 0), EPERM) &&
	      expect("chgrp mine to nobody's group", chown("mine", -1, NOBODY), 0) &&
	      expect("chgrp mine2 (06755)", chown("mine2", -1, NOBODY), 0)))
		return 0;
	if (stat("mine", &st) != 0 || st.st_uid != NOBODY || st.st_gid != NOBODY)
		return fail("mine owner %u:%u", st.st_uid, st.st_gid);
	if (mode_of("mine2") != 0755)
		return fail("mine2 mode %o after chown, want 755", mode_of("mine2"));
	return 1;
}

static int t_write_clears_suid(void)
{
	int fd = open("suidmine", O_WRONLY);

	if (fd < 0)
		return fail("open: %s", errno_name(errno));
	if (write(fd, "y", 1) != 1)
		return fail("write: %s", errno_name(errno));
	close(fd);
	if (mode_of("suidmine") != 0755)
		return fail("mode %o after a write, want 755", mode_of("suidmine"));
	return 1;
}

static int t_new_files(void)
{
	struct stat st;
	int p[2];
	int fd = open("pub/new", O_WRONLY | O_CREAT | O_EXCL, 0644);

	if (fd < 0)
		return fail("create: %s", errno_name(errno));
	close(fd);
	if (stat("pub/new", &st) != 0 || st.st_uid != NOBODY || st.st_gid != NOBODY ||
	    (st.st_mode & 07777) != 0644)
		return fail("pub/new %u:%u %o", st.st_uid, st.st_gid, st.st_mode & 07777);
	if (pipe(p) != 0 || fstat(p[0], &st) != 0 || st.st_uid != NOBODY || st.st_gid != NOBODY)
		return fail("a pipe is not nobody's");
	close(p[0]);
	close(p[1]);
	return expect("unlink pub/new", unlink("pub/new"), 0) &&
	       expect("rename root's pub/pubfile in a 0777 dir", rename("pub/pubfile", "pub/moved"), 0);
}

static int t_sticky(void)
{
	int fd;

	if (!(expect("unlink sticky/rootfile", unlink("sticky/rootfile"), EPERM) &&
	      expect("rename sticky/rootfile", rename("sticky/rootfile", "sticky/x"), EPERM)))
		return 0;
	fd = open("sticky/own", O_WRONLY | O_CREAT, 0600);
	if (fd < 0)
		return fail("create sticky/own: %s", errno_name(errno));
	close(fd);
	return expect("rename sticky/own", rename("sticky/own", "sticky/own2"), 0) &&
	       expect("rename onto sticky/rootfile", rename("sticky/own2", "sticky/rootfile"), EPERM) &&
	       expect("unlink sticky/own2", unlink("sticky/own2"), 0);
}

static int t_setgid_dir(void)
{
	struct stat st;
	int fd = open("sgid/f", O_WRONLY | O_CREAT, 0644);

	if (fd < 0)
		return fail("create sgid/f: %s", errno_name(errno));
	close(fd);
	if (stat("sgid/f", &st) != 0 || st.st_uid != NOBODY || st.st_gid != USERS ||
	    (st.st_mode & 07777) != 0644)
		return fail("sgid/f %u:%u %o", st.st_uid, st.st_gid, st.st_mode & 07777);
	if (mkdir("sgid/d", 0755) != 0)
		return fail("mkdir sgid/d: %s", errno_name(errno));
	if (stat("sgid/d", &st) != 0 || st.st_gid != USERS || (st.st_mode & 07777) != 02755)
		return fail("sgid/d %u:%u %o", st.st_uid, st.st_gid, st.st_mode & 07777);
	return 1;
}

static int t_utimes(void)
{
	struct timespec t[2] = { { 1, 0 }, { 1, 0 } };

	return expect("utimensat ro/f now", utimensat(AT_FDCWD, "ro/f", NULL, 0), EACCES) &&
	       expect("utimensat ro/f explicit", utimensat(AT_FDCWD, "ro/f", t, 0), EPERM) &&
	       expect("utimensat pub/moved now (0666)", utimensat(AT_FDCWD, "pub/moved", NULL, 0), 0) &&
	       expect("utimensat pub/moved explicit", utimensat(AT_FDCWD, "pub/moved", t, 0), EPERM) &&
	       expect("utimensat mine explicit (owner)", utimensat(AT_FDCWD, "mine", t, 0), 0);
}

static int t_kill(void)
{
	return expect("kill(root's child, 0)", kill(root_child, 0), EPERM) &&
	       expect("kill(root's child, SIGTERM)", kill(root_child, SIGTERM), EPERM) &&
	       expect("kill(self, 0)", kill(getpid(), 0), 0);
}

static int t_affinity(void)
{
	cpu_set_t set;

	CPU_ZERO(&set);
	if (!expect("sched_getaffinity(root's child)", sched_getaffinity(root_child, sizeof(set), &set), 0))
		return 0;
	return expect("sched_setaffinity(root's child)", sched_setaffinity(root_child, sizeof(set), &set), EPERM) &&
	       expect("sched_setaffinity(self)", sched_setaffinity(0, sizeof(set), &set), 0);
}

static int t_proc(void)
{
	char path[64], buf[4096];
	int fd, n;

	snprintf(path, sizeof(path), "/proc/%d/environ", (int)root_child);
	if (!expect("open root's /proc/<pid>/environ", open(path, O_RDONLY), EACCES))
		return 0;
	/* Linux refuses at open, Cradle at the first read: either way nothing is read. */
	snprintf(path, sizeof(path), "/proc/%d/maps", (int)root_child);
	fd = open(path, O_RDONLY);
	n = fd < 0 ? -1 : read(fd, buf, sizeof(buf));
	if (fd >= 0)
		close(fd);
	if (!expect("open and read root's /proc/<pid>/maps", n, EACCES))
		return 0;
	fd = open("/proc/self/maps", O_RDONLY);
	n = fd < 0 ? -1 : read(fd, buf, sizeof(buf));
	if (fd >= 0)
		close(fd);
	if (!expect("read own /proc/self/maps", n > 0 ? 0 : -1, 0))
		return 0;
	snprintf(path, sizeof(path), "/proc/%d/exe", (int)root_child);
	if (!expect("readlink root's /proc/<pid>/exe", readlink(path, buf, sizeof(buf)), EACCES))
		return 0;
	if (!expect("readlink /proc/self/exe", readlink("/proc/self/exe", buf, sizeof(buf)) > 0 ? 0 : -1, 0))
		return 0;
	snprintf(path, sizeof(path), "/proc/%d/status", (int)root_child);
	fd = open(path, O_RDONLY);
	if (fd < 0)
		return fail("open root's status: %s", errno_name(errno));
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	buf[n > 0 ? n : 0] = '\0';
	if (!strstr(buf, "\nUid:\t0\t0\t0\t0\n"))
		return fail("root's status has no Uid: 0 line");
	fd = open("/proc/self/status", O_RDONLY);
	n = fd < 0 ? 0 : read(fd, buf, sizeof(buf) - 1);
	close(fd);
	buf[n > 0 ? n : 0] = '\0';
	if (!strstr(buf, "\nUid:\t65534\t65534\t65534\t65534\nGid:\t65534\t65534\t65534\t65534\n"))
		return fail("own status has no nobody Uid:/Gid: lines");
	return 1;
}

static int t_privileged_calls(void)
{
	struct timeval tv;

	gettimeofday(&tv, NULL);
	return expect("reboot(CAD_OFF)", reboot(RB_DISABLE_CAD), EPERM) &&
	       expect("sethostname", sethostname("x", 1), EPERM) &&
	       expect("mount tmpfs", mount("none", "pub", "tmpfs", 0, NULL), EPERM) &&
	       expect("umount /proc", umount("/proc"), EPERM) &&
	       expect("settimeofday", settimeofday(&tv, NULL), EPERM);
}

static int t_reap_root_child(void)
{
	int status;

	close(root_child_pipe);
	if (waitpid(root_child, &status, 0) != root_child || !WIFEXITED(status) ||
	    WEXITSTATUS(status) != 0)
		return fail("root's child did not exit cleanly");
	return 1;
}

static const struct test tests[] = {
	{ "setup as root: a tree of files owned by root and nobody", t_setup },
	{ "set*id rules between unprivileged IDs (a child)", t_setid_rules },
	{ "chown by root clears S_ISUID", t_root_chown_clears_suid },
	{ "drop to nobody: setgroups, setgid, setuid; all IDs 65534", t_drop },
	{ "no way back: setuid/setgid/seteuid/setgroups EPERM", t_no_way_back },
	{ "no capabilities left; capset cannot add one", t_capabilities_gone },
	{ "open: read/write permission, O_TRUNC, symlink target", t_open },
	{ "create/mkdir/mknod/symlink/link in a 0755 root dir: EACCES", t_create },
	{ "unlink/rmdir/rename out of a 0755 root dir: EACCES", t_remove },
	{ "search permission: stat/statfs/readlink/chdir/fchdir through 0700", t_search },
	{ "truncate needs write permission", t_truncate },
	{ "access/faccessat", t_access },
	{ "chmod: owner only, S_ISGID outside the group dropped", t_chmod },
	{ "chown: CAP_CHOWN, or the owner to its own group; set-ID bits cleared", t_chown },
	{ "a write clears S_ISUID/S_ISGID", t_write_clears_suid },
	{ "new files and pipes get the fsuid and fsgid", t_new_files },
	{ "sticky directory: only the owner removes or renames", t_sticky },
	{ "set-group-ID directory passes its group (and the bit to subdirectories)", t_setgid_dir },
	{ "utimensat: now needs write, explicit times need ownership", t_utimes },
	{ "kill of root's process: EPERM", t_kill },
	{ "sched_setaffinity of root's process: EPERM (reading it is allowed)", t_affinity },
	{ "/proc: another user's environ, maps and exe EACCES; status Uid:/Gid: lines", t_proc },
	{ "reboot/sethostname/mount/umount/settimeofday: EPERM", t_privileged_calls },
	{ "root's child exits when its pipe closes", t_reap_root_child },
};

int main(void)
{
	if (getuid() != 0) {
		printf("1..0 # SKIP credtest must start as root\n");
		return 0;
	}
	setup_ok = setup() == 0;
	return run_tests(tests, TEST_COUNT(tests));
}
