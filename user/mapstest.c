/*
 * mapstest.c - /proc/self/maps as Linux prints it: one line per mapping with its range,
 * permissions (s for shared, p for private), file offset, device, inode, and the name at
 * column 73 (the file's path, `/dev/zero (deleted)` for shared anonymous memory, nothing
 * for private anonymous memory).
 *
 * Judged on Debian's arm64 kernel, not under qemu-aarch64 (which writes its own maps for
 * the guest): both kernels run it from the test initramfs in /tmp, so paths agree. It
 * mounts proc on /proc first (nothing else there has). Only verdicts are printed, never
 * addresses or numbers.
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "tap.h"

#define PAGE 4096
#define FILE_NAME "mapstest.work/data"

static char maps[16384];
static char cwd[256];

static int read_maps(void)
{
	int fd = open("/proc/self/maps", O_RDONLY);
	if (fd < 0)
		return 0;
	size_t n = 0;
	ssize_t got;
	while (n < sizeof(maps) - 1 && (got = read(fd, maps + n, sizeof(maps) - 1 - n)) > 0)
		n += (size_t)got;
	maps[n] = '\0';
	close(fd);
	return 1;
}

/* The maps line starting at `addr` (copied into `line`), or 0. */
static int line_at(void *addr, char *line, size_t size)
{
	char want[32];
	snprintf(want, sizeof(want), "%08lx-", (unsigned long)(uintptr_t)addr);
	for (char *p = maps; *p;) {
		char *end = strchr(p, '\n');
		size_t len = end ? (size_t)(end - p) : strlen(p);
		if (strncmp(p, want, strlen(want)) == 0 && len < size) {
			memcpy(line, p, len);
			line[len] = '\0';
			return 1;
		}
		if (!end)
			break;
		p = end + 1;
	}
	return 0;
}

struct fields {
	char perms[8];
	unsigned long long offset;
	unsigned int major, minor;
	unsigned long inode;
	const char *name; /* "" if none */
	int name_column;  /* where the name starts, -1 if none */
};

static int parse(const char *line, struct fields *f)
{
	unsigned long start, end;
	int consumed = 0;
	if (sscanf(line, "%lx-%lx %7s %llx %x:%x %lu %n", &start, &end, f->perms, &f->offset,
		   &f->major, &f->minor, &f->inode, &consumed) < 7)
		return 0;
	const char *name = line + consumed;
	f->name = name;
	f->name_column = *name ? (int)(name - line) : -1;
	return 1;
}

/* Check the line of the mapping at `addr`: permissions, offset, name, file identity. */
static int check(void *addr, const char *perms, unsigned long long offset, const char *name,
		 const struct stat *st)
{
	char line[512];
	struct fields f;
	if (!read_maps())
		return fail("cannot read /proc/self/maps");
	if (!line_at(addr, line, sizeof(line)))
		return fail("no line for the mapping");
	if (!parse(line, &f))
		return fail("unparsable line");
	if (strcmp(f.perms, perms) != 0)
		return fail("permissions %s, not %s", f.perms, perms);
	if (f.offset != offset)
		return fail("offset %#llx, not %#llx", f.offset, offset);
	if (strcmp(f.name, name) != 0)
		return fail("name '%s', not '%s'", f.name, name);
	if (*name && f.name_column != 73)
		return fail("the name starts at column %d, not 73", f.name_column);
	if (st && (f.inode != st->st_ino || f.major != major(st->st_dev) ||
		   f.minor != minor(st->st_dev)))
		return fail("device and inode are not the file's (stat)");
	if (!st && !*name && (f.inode != 0 || f.major != 0 || f.minor != 0))
		return fail("anonymous memory with a device or inode");
	return 1;
}

static int fd = -1;
static struct stat st;
static char path[512];

static int private_file(void)
{
	void *p = mmap(NULL, PAGE, PROT_READ, MAP_PRIVATE, fd, PAGE);
	if (p == MAP_FAILED)
		return fail("mmap: %s", errno_name(errno));
	int ok = check(p, "r--p", PAGE, path, &st);
	munmap(p, PAGE);
	return ok;
}

static int shared_file(void)
{
	void *p = mmap(NULL, 2 * PAGE, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (p == MAP_FAILED)
		return fail("mmap: %s", errno_name(errno));
	int ok = check(p, "rw-s", 0, path, &st);
	munmap(p, 2 * PAGE);
	return ok;
}

static int exec_file(void)
{
	void *p = mmap(NULL, PAGE, PROT_READ | PROT_EXEC, MAP_PRIVATE, fd, 0);
	if (p == MAP_FAILED)
		return fail("mmap: %s", errno_name(errno));
	int ok = check(p, "r-xp", 0, path, &st);
	munmap(p, PAGE);
	return ok;
}

static int shared_anon(void)
{
	void *p = mmap(NULL, PAGE, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED)
		return fail("mmap: %s", errno_name(errno));
	char line[512];
	struct fields f;
	if (!read_maps() || !line_at(p, line, sizeof(line)) || !parse(line, &f))
		return fail("no line for the mapping");
	munmap(p, PAGE);
	if (strcmp(f.perms, "rw-s") != 0 || f.offset != 0)
		return fail("permissions %s, offset %#llx", f.perms, f.offset);
	if (strcmp(f.name, "/dev/zero (deleted)") != 0)
		return fail("name '%s'", f.name);
	return 1;
}

static int private_anon(void)
{
	void *p = mmap(NULL, PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED)
		return fail("mmap: %s", errno_name(errno));
	/* A neighbour with other permissions keeps it from merging with another mapping. */
	int ok = check(p, "rw-p", 0, "", NULL);
	munmap(p, PAGE);
	return ok;
}

static int program_text(void)
{
	char exe[512];
	ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	if (n <= 0)
		return fail("readlink /proc/self/exe: %s", errno_name(errno));
	exe[n] = '\0';
	if (!read_maps())
		return fail("cannot read /proc/self/maps");
	/* The program's text: an r-xp line at offset 0 naming the program. */
	char want[600];
	snprintf(want, sizeof(want), " %s\n", exe);
	for (char *p = maps; (p = strstr(p, want)) != NULL; p++) {
		char *line = p;
		while (line > maps && line[-1] != '\n')
			line--;
		struct fields f;
		if (parse(line, &f) && strcmp(f.perms, "r-xp") == 0 && f.offset == 0)
			return 1;
	}
	return fail("no r-xp line at offset 0 for the program");
}

static const struct test tests[] = {
	{ "a private read-only file mapping at an offset: r--p, the offset, the path", private_file },
	{ "a shared writable file mapping: rw-s, device and inode from stat", shared_file },
	{ "a PROT_EXEC file mapping: r-xp", exec_file },
	{ "MAP_SHARED|MAP_ANONYMOUS: rw-s /dev/zero (deleted)", shared_anon },
	{ "private anonymous memory: rw-p, no device, inode or name", private_anon },
	{ "the program's text is an r-xp mapping of its file at offset 0", program_text },
};

int main(void)
{
	/* Under the test initramfs's /init nothing has mounted proc yet (on Debian's kernel);
	 * where it is mounted already the mount fails, which is fine. */
	mkdir("/proc", 0555);
	mount("proc", "/proc", "proc", 0, NULL);
	mkdir("mapstest.work", 0755);
	fd = open(FILE_NAME, O_RDWR | O_CREAT | O_TRUNC, 0644);
	char page[PAGE];
	memset(page, 'm', sizeof(page));
	if (fd < 0 || write(fd, page, PAGE) != PAGE || write(fd, page, PAGE) != PAGE ||
	    fstat(fd, &st) != 0 || !getcwd(cwd, sizeof(cwd))) {
		printf("setup failed: %s\n", errno_name(errno));
		return 1;
	}
	snprintf(path, sizeof(path), "%s/%s", strcmp(cwd, "/") == 0 ? "" : cwd, FILE_NAME);
	return run_tests(tests, TEST_COUNT(tests));
}
