/*
 * efault.c - a bad buffer on every read and write path: EFAULT, Linux's short counts, and
 * nothing consumed that was not delivered.
 *
 * A buffer that is wholly unmapped gives EFAULT and the data stays where it was: a retry
 * with a good buffer gets it (pipe, FIFO, tmpfs file, /proc/self/stat). A buffer whose
 * first page is good and whose second is unmapped gives the bytes up to the hole (a tmpfs
 * file, /dev/zero, a pipe holding two pages), except where Linux's pipe keeps a whole
 * page buffer it could not copy out whole: readv of 16 bytes written at once, into 8 good
 * bytes and 8 bad ones, is EFAULT with nothing taken. Writes the same way round. Also
 * /dev/null (never looks at the buffer), pread64/pwrite64, readv/writev with a bad second
 * iovec, and sendfile (bad descriptors, a bad offset pointer, a file into a pipe).
 *
 * Partial buffers start on a page boundary and end in the hole, so every implementation of
 * copy_to_user stops at the same byte. qemu-aarch64 checks a whole buffer before it calls
 * the host and so cannot give short counts: xtask runs this program on Debian's arm64
 * kernel in qemu-system-aarch64 instead.
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/sendfile.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <unistd.h>

#include "tap.h"

#define PAGE 4096

static unsigned char *good; /* one mapped page; the page after it is unmapped */
static unsigned char *hole; /* good + PAGE: nothing there */

static unsigned char pattern(size_t i)
{
	return (unsigned char)(i % 251);
}

static int check_pattern(const unsigned char *p, size_t from, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (p[i] != pattern(from + i))
			return 0;
	return 1;
}

static unsigned char big[2 * PAGE];

/* -1 with errno's name, or the count, as text: for details. */
static const char *result(long r, int err)
{
	static char text[64];

	if (r < 0)
		snprintf(text, sizeof(text), "-1 %s", errno_name(err));
	else
		snprintf(text, sizeof(text), "%ld", r);
	return text;
}

#define EXPECT_EFAULT(call)                                                              \
	do {                                                                             \
		errno = 0;                                                               \
		long r_ = (long)(call);                                                  \
		if (r_ != -1 || errno != EFAULT)                                         \
			return fail("%s gave %s, not EFAULT", #call, result(r_, errno)); \
	} while (0)

#define EXPECT_COUNT(call, want)                                                         \
	do {                                                                             \
		errno = 0;                                                               \
		long r_ = (long)(call);                                                  \
		if (r_ != (long)(want))                                                  \
			return fail("%s gave %s, not %ld", #call, result(r_, errno),     \
				    (long)(want));                                       \
	} while (0)

static int pipe_read_bad_keeps_data(void)
{
	int p[2];
	char buf[32];

	if (pipe(p))
		return fail("pipe");
	EXPECT_COUNT(write(p[1], "0123456789abcdef", 16), 16);
	EXPECT_EFAULT(read(p[0], hole, 16));
	EXPECT_COUNT(read(p[0], buf, sizeof(buf)), 16);
	close(p[0]);
	close(p[1]);
	if (memcmp(buf, "0123456789abcdef", 16))
		return fail("the retry read other bytes");
	return 1;
}

static int pipe_read_partial(void)
{
	int p[2];

	if (pipe(p))
		return fail("pipe");
	for (size_t i = 0; i < sizeof(big); i++)
		big[i] = pattern(i);
	EXPECT_COUNT(write(p[1], big, 2 * PAGE), 2 * PAGE);
	EXPECT_COUNT(read(p[0], good, 2 * PAGE), PAGE);
	if (!check_pattern(good, 0, PAGE))
		return fail("the first page is wrong");
	memset(big, 0, sizeof(big));
	EXPECT_COUNT(read(p[0], big, 2 * PAGE), PAGE);
	close(p[0]);
	close(p[1]);
	if (!check_pattern(big, PAGE, PAGE))
		return fail("the second page is wrong");
	return 1;
}

static int pipe_readv_inside_one_buffer(void)
{
	int p[2];
	char buf[32];
	struct iovec iov[2] = { { good, 8 }, { hole, 8 } };

	if (pipe(p))
		return fail("pipe");
	EXPECT_COUNT(write(p[1], "0123456789abcdef", 16), 16);
	EXPECT_EFAULT(readv(p[0], iov, 2));
	EXPECT_COUNT(read(p[0], buf, sizeof(buf)), 16);
	close(p[0]);
	close(p[1]);
	if (memcmp(buf, "0123456789abcdef", 16))
		return fail("the retry read other bytes");
	return 1;
}

static int pipe_write_bad_stores_nothing(void)
{
	int p[2];
	char buf[32];
	struct iovec iov[2] = { { (void *)"ABCDEFGH", 8 }, { hole, 8 } };

	if (pipe(p))
		return fail("pipe");
	EXPECT_EFAULT(write(p[1], hole, 16));
	EXPECT_EFAULT(writev(p[1], iov, 2));
	EXPECT_COUNT(write(p[1], "xyz", 3), 3);
	EXPECT_COUNT(read(p[0], buf, sizeof(buf)), 3);
	close(p[0]);
	close(p[1]);
	if (memcmp(buf, "xyz", 3))
		return fail("the pipe held other bytes");
	return 1;
}

static int pipe_write_partial(void)
{
	int p[2];

	if (pipe(p))
		return fail("pipe");
	for (size_t i = 0; i < PAGE; i++)
		good[i] = pattern(i);
	EXPECT_COUNT(write(p[1], good, 2 * PAGE), PAGE);
	close(p[1]);
	memset(big, 0, sizeof(big));
	EXPECT_COUNT(read(p[0], big, sizeof(big)), PAGE);
	EXPECT_COUNT(read(p[0], big + PAGE, PAGE), 0);
	close(p[0]);
	if (!check_pattern(big, 0, PAGE))
		return fail("the pipe held other bytes");
	return 1;
}

static int fifo_read_bad_keeps_data(void)
{
	char buf[32];
	int fd;

	unlink("efault.fifo");
	if (mkfifo("efault.fifo", 0600))
		return fail("mkfifo: %s", errno_name(errno));
	fd = open("efault.fifo", O_RDWR);
	unlink("efault.fifo");
	if (fd < 0)
		return fail("open: %s", errno_name(errno));
	EXPECT_COUNT(write(fd, "fifo-data", 9), 9);
	EXPECT_EFAULT(read(fd, hole, 9));
	EXPECT_EFAULT(write(fd, hole, 9));
	EXPECT_COUNT(read(fd, buf, sizeof(buf)), 9);
	close(fd);
	if (memcmp(buf, "fifo-data", 9))
		return fail("the retry read other bytes");
	return 1;
}

/* A tmpfs file of two pages of the pattern, open for reading and writing at offset 0. */
static int pattern_file(void)
{
	int fd = open("efault.file", O_RDWR | O_CREAT | O_TRUNC, 0600);

	if (fd < 0)
		return -1;
	unlink("efault.file");
	for (size_t i = 0; i < sizeof(big); i++)
		big[i] = pattern(i);
	if (write(fd, big, sizeof(big)) != (ssize_t)sizeof(big) || lseek(fd, 0, SEEK_SET))
		return -1;
	return fd;
}

static int file_read(void)
{
	int fd = pattern_file();
	struct iovec iov[2] = { { big, 8 }, { hole, 8 } };

	if (fd < 0)
		return fail("the file");
	EXPECT_EFAULT(read(fd, hole, 16));
	EXPECT_COUNT(lseek(fd, 0, SEEK_CUR), 0);
	EXPECT_COUNT(read(fd, good, 2 * PAGE), PAGE);
	if (!check_pattern(good, 0, PAGE))
		return fail("the short read got other bytes");
	EXPECT_COUNT(lseek(fd, 0, SEEK_CUR), PAGE);
	memset(big, 0, sizeof(big));
	EXPECT_COUNT(readv(fd, iov, 2), 8);
	EXPECT_COUNT(lseek(fd, 0, SEEK_CUR), PAGE + 8);
	close(fd);
	if (!check_pattern(big, PAGE, 8))
		return fail("readv got other bytes");
	return 1;
}

static int file_write(void)
{
	int fd = open("efault.file", O_RDWR | O_CREAT | O_TRUNC, 0600);
	struct iovec iov[2] = { { (void *)"ABCDEFGH", 8 }, { hole, 8 } };
	struct stat st;

	if (fd < 0)
		return fail("open: %s", errno_name(errno));
	unlink("efault.file");
	EXPECT_EFAULT(write(fd, hole, 16));
	if (fstat(fd, &st) || st.st_size != 0)
		return fail("a failed write changed the size");
	EXPECT_COUNT(writev(fd, iov, 2), 8);
	EXPECT_COUNT(lseek(fd, 0, SEEK_CUR), 8);
	for (size_t i = 0; i < PAGE; i++)
		good[i] = pattern(i);
	EXPECT_COUNT(write(fd, good, 2 * PAGE), PAGE);
	if (fstat(fd, &st) || st.st_size != PAGE + 8)
		return fail("size %ld, not %d", (long)st.st_size, PAGE + 8);
	close(fd);
	return 1;
}

static int positioned(void)
{
	int fd = pattern_file();

	if (fd < 0)
		return fail("the file");
	EXPECT_EFAULT(pread(fd, hole, 16, 0));
	EXPECT_EFAULT(pwrite(fd, hole, 16, 0));
	EXPECT_COUNT(pread(fd, good, 2 * PAGE, 0), PAGE);
	EXPECT_COUNT(pwrite(fd, good, 2 * PAGE, 2 * PAGE), PAGE);
	EXPECT_COUNT(lseek(fd, 0, SEEK_CUR), 0);
	EXPECT_COUNT(lseek(fd, 0, SEEK_END), 3 * PAGE);
	close(fd);
	return 1;
}

static int proc_stat(void)
{
	char buf[64], want[32];
	int fd = open("/proc/self/stat", O_RDONLY);

	if (fd < 0)
		return fail("open: %s", errno_name(errno));
	EXPECT_EFAULT(read(fd, hole, 64));
	snprintf(want, sizeof(want), "%d (efault) ", getpid());
	memset(buf, 0, sizeof(buf));
	errno = 0;
	if (read(fd, buf, sizeof(buf) - 1) < (ssize_t)strlen(want))
		return fail("the retry: %s", errno_name(errno));
	close(fd);
	if (strncmp(buf, want, strlen(want)))
		return fail("the retry did not start at the beginning");
	return 1;
}

static int dev_zero_and_null(void)
{
	int zero = open("/dev/zero", O_RDWR), null = open("/dev/null", O_RDWR);

	if (zero < 0 || null < 0)
		return fail("open: %s", errno_name(errno));
	EXPECT_EFAULT(read(zero, hole, 16));
	memset(good, 0xff, PAGE);
	EXPECT_COUNT(read(zero, good, 2 * PAGE), PAGE);
	for (int i = 0; i < PAGE; i++)
		if (good[i])
			return fail("/dev/zero gave a non-zero byte");
	EXPECT_COUNT(write(zero, hole, 16), 16);
	EXPECT_COUNT(read(null, hole, 16), 0);
	EXPECT_COUNT(write(null, hole, 16), 16);
	close(zero);
	close(null);
	return 1;
}

static int sendfile_paths(void)
{
	int fd = pattern_file(), p[2];
	off_t off = 0;

	if (fd < 0 || pipe(p))
		return fail("the file or the pipe");
	errno = 0;
	if (sendfile(-1, fd, NULL, 16) != -1 || errno != EBADF)
		return fail("to fd -1: %s", errno_name(errno));
	errno = 0;
	if (sendfile(p[1], -1, NULL, 16) != -1 || errno != EBADF)
		return fail("from fd -1: %s", errno_name(errno));
	EXPECT_EFAULT(sendfile(p[1], fd, (off_t *)hole, 16));
	errno = 0;
	if (sendfile(p[1], p[0], &off, 16) != -1 || errno != ESPIPE)
		return fail("from a pipe at an offset: %s", errno_name(errno));
	EXPECT_COUNT(sendfile(p[1], fd, NULL, 100), 100);
	EXPECT_COUNT(lseek(fd, 0, SEEK_CUR), 100);
	off = 1000;
	EXPECT_COUNT(sendfile(p[1], fd, &off, 10), 10);
	if (off != 1010)
		return fail("offset %ld, not 1010", (long)off);
	EXPECT_COUNT(lseek(fd, 0, SEEK_CUR), 100);
	memset(big, 0, sizeof(big));
	EXPECT_COUNT(read(p[0], big, sizeof(big)), 110);
	if (!check_pattern(big, 0, 100) || !check_pattern(big + 100, 1000, 10))
		return fail("the pipe got other bytes");
	close(fd);
	close(p[0]);
	close(p[1]);
	return 1;
}

static const struct test tests[] = {
	{ "pipe: read into a bad buffer is EFAULT and the data stays", pipe_read_bad_keeps_data },
	{ "pipe: read into a page and a hole takes one page of two", pipe_read_partial },
	{ "pipe: readv with a bad second iovec inside one buffer is EFAULT, nothing taken",
	  pipe_readv_inside_one_buffer },
	{ "pipe: write and writev from a bad buffer store nothing", pipe_write_bad_stores_nothing },
	{ "pipe: write from a page and a hole stores one page", pipe_write_partial },
	{ "fifo: read and write with a bad buffer are EFAULT, the data stays",
	  fifo_read_bad_keeps_data },
	{ "tmpfs: read EFAULT keeps the offset; short read; readv with a bad second iovec",
	  file_read },
	{ "tmpfs: write EFAULT keeps the size; writev and write stop at the hole", file_write },
	{ "pread64/pwrite64: EFAULT, short counts, the offset unmoved", positioned },
	{ "/proc/self/stat: EFAULT, then a retry reads from the start", proc_stat },
	{ "/dev/zero and /dev/null with bad buffers", dev_zero_and_null },
	{ "sendfile: bad descriptors, a bad offset pointer, a file into a pipe", sendfile_paths },
};

int main(void)
{
	/* On a kernel booted with only this initramfs, nothing has mounted proc yet. */
	mount("proc", "/proc", "proc", 0, NULL);

	unsigned char *map = mmap(NULL, 2 * PAGE, PROT_READ | PROT_WRITE,
				  MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	if (map == MAP_FAILED || munmap(map + PAGE, PAGE)) {
		printf("Bail out! cannot map a page beside a hole\n");
		return 1;
	}
	good = map;
	hole = map + PAGE;
	return run_tests(tests, sizeof(tests) / sizeof(tests[0]));
}
