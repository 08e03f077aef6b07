/*
 * unixsock.c - UNIX-domain sockets as programs use them (syslog's /dev/log, socketpair
 * helpers, servers on a path or an abstract name, descriptor passing): socket and
 * socketpair with their flags and errnos, stream/datagram/seqpacket boundaries, MSG_PEEK,
 * MSG_DONTWAIT, MSG_WAITALL, MSG_TRUNC, EOF and EPIPE/SIGPIPE, shutdown, poll/epoll
 * readiness, send buffer limits, SO_RCVTIMEO/SO_SNDTIMEO, EINTR and restarts; bind to a
 * path (an S_IFSOCK inode), to an abstract name and autobind, listen/connect/accept4 with
 * their errnos, getsockname/getpeername lengths, connected datagram sockets; SCM_RIGHTS,
 * SCM_CREDENTIALS, SO_PEERCRED and the other socket options; a socket ring that only the
 * garbage collector can free; bad pointers and lengths; a ping-pong and a 1 MiB transfer
 * between processes (which the -smp 4 pass runs on different CPUs). (busybox-diff.sh checks
 * what `test -S`, `stat` and `ls -l` say of a socket, and syslogd with logger over /dev/log.)
 *
 * It works in `unixsock.work` under the current directory. Nothing here depends on timing:
 * timeouts that must expire are short, and waits that must end are ended by another
 * process or a repeating timer.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <sys/uio.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include "tap.h"

#define DIR_ "unixsock.work"

static const char *ename(int e)
{
	switch (e) {
	case EAFNOSUPPORT: return "EAFNOSUPPORT";
	case EPROTONOSUPPORT: return "EPROTONOSUPPORT";
	case ESOCKTNOSUPPORT: return "ESOCKTNOSUPPORT";
	case EPROTOTYPE: return "EPROTOTYPE";
	case ENOTSOCK: return "ENOTSOCK";
	case ENOTCONN: return "ENOTCONN";
	case EISCONN: return "EISCONN";
	case ECONNREFUSED: return "ECONNREFUSED";
	case ECONNRESET: return "ECONNRESET";
	case EADDRINUSE: return "EADDRINUSE";
	case EMSGSIZE: return "EMSGSIZE";
	case ENOPROTOOPT: return "ENOPROTOOPT";
	case EDOM: return "EDOM";
	case ENXIO: return "ENXIO";
	case ENOBUFS: return "ENOBUFS";
	case ETOOMANYREFS: return "ETOOMANYREFS";
	default: return errno_name(e);
	}
}

#define CHECK(cond)                                                                    \
	do {                                                                           \
		if (!(cond))                                                           \
			return fail("line %d: %s (errno %s)", __LINE__, #cond, ename(errno)); \
	} while (0)

#define CHECK_EQ(expr, want)                                                           \
	do {                                                                           \
		long _got = (long)(expr), _want = (long)(want);                        \
		if (_got != _want)                                                     \
			return fail("line %d: %s = %ld, want %ld (errno %s)", __LINE__, #expr, \
				    _got, _want, ename(errno));                        \
	} while (0)

#define CHECK_ERR(expr, err)                                                           \
	do {                                                                           \
		errno = 0;                                                             \
		long _got = (long)(expr);                                              \
		if (_got != -1 || errno != (err))                                      \
			return fail("line %d: %s = %ld errno %s, want %s", __LINE__, #expr, _got, \
				    _got == -1 ? ename(errno) : "-", ename(err));      \
	} while (0)

/* An address nothing is mapped at, hidden from the compiler's bounds checks. */
static void *volatile bad_address = (void *)8;
static void *bad_ptr(void)
{
	return bad_address;
}

static int pollev(int fd, short events)
{
	struct pollfd p = { .fd = fd, .events = events };
	int r = poll(&p, 1, 0);
	return r < 0 ? -1 : p.revents;
}

/* A sockaddr_un for `path` (a leading '@' makes it abstract) and its length as programs
 * compute it: offsetof(sun_path) + strlen + 1 for a path, the bytes alone for an
 * abstract name. */
static socklen_t mkaddr(struct sockaddr_un *a, const char *path)
{
	memset(a, 0, sizeof(*a));
	a->sun_family = AF_UNIX;
	size_t n = strlen(path);
	if (path[0] == '@') {
		memcpy(a->sun_path + 1, path + 1, n - 1);
		return offsetof(struct sockaddr_un, sun_path) + n;
	}
	memcpy(a->sun_path, path, n);
	return offsetof(struct sockaddr_un, sun_path) + n + 1;
}

static int sigpipes;
static void on_sigpipe(int sig)
{
	(void)sig;
	sigpipes++;
}

static int ticks;
static void on_tick(int sig)
{
	(void)sig;
	ticks++;
}

static void set_handler(int sig, void (*fn)(int), int flags)
{
	struct sigaction sa;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = fn;
	sa.sa_flags = flags;
	sigaction(sig, &sa, NULL);
}

static void ticker(long usec)
{
	struct itimerval it = { .it_interval = { 0, usec }, .it_value = { 0, usec } };
	setitimer(ITIMER_REAL, &it, NULL);
}

static int test_socket_errnos(void)
{
	CHECK_ERR(socket(200, SOCK_STREAM, 0), EAFNOSUPPORT);
	CHECK_ERR(socket(-1, SOCK_STREAM, 0), EAFNOSUPPORT);
	CHECK_ERR(socket(AF_UNIX, SOCK_STREAM | 0x10000, 0), EINVAL);
	CHECK_ERR(socket(AF_UNIX, 15, 0), EINVAL);
	CHECK_ERR(socket(AF_UNIX, SOCK_RDM, 0), ESOCKTNOSUPPORT);
	CHECK_ERR(socket(AF_UNIX, SOCK_STREAM, 2), EPROTONOSUPPORT);
	CHECK_ERR(socket(AF_UNIX, SOCK_STREAM, -1), EPROTONOSUPPORT);
	int fd = socket(AF_UNIX, SOCK_STREAM, PF_UNIX);
	CHECK(fd >= 0);
	close(fd);
	fd = socket(AF_UNIX, SOCK_RAW, 0);
	CHECK(fd >= 0);
	int v = 0;
	socklen_t len = sizeof(v);
	CHECK_EQ(getsockopt(fd, SOL_SOCKET, SO_TYPE, &v, &len), 0);
	CHECK_EQ(v, SOCK_DGRAM);
	close(fd);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	CHECK(fd >= 0);
	CHECK_EQ(fcntl(fd, F_GETFD) & FD_CLOEXEC, FD_CLOEXEC);
	CHECK_EQ(fcntl(fd, F_GETFL) & (O_NONBLOCK | O_ACCMODE), O_NONBLOCK | O_RDWR);
	close(fd);
	return 1;
}

static int test_socketpair_basics(void)
{
	int sv[2];
	CHECK_ERR(socketpair(AF_UNIX, SOCK_STREAM, 0, bad_ptr()), EFAULT);
	CHECK_ERR(socketpair(200, SOCK_STREAM, 0, sv), EAFNOSUPPORT);
	CHECK_ERR(socketpair(AF_UNIX, SOCK_STREAM | 0x10000, 0, sv), EINVAL);
	CHECK_ERR(socketpair(AF_UNIX, SOCK_STREAM, 7, sv), EPROTONOSUPPORT);
	CHECK_EQ(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	CHECK_EQ(write(sv[0], "hello", 5), 5);
	char buf[64] = { 0 };
	CHECK_EQ(read(sv[1], buf, sizeof(buf)), 5);
	CHECK(memcmp(buf, "hello", 5) == 0);
	/* Both ways, vectors, send/recv. */
	struct iovec iov[2] = { { "ab", 2 }, { "cde", 3 } };
	CHECK_EQ(writev(sv[1], iov, 2), 5);
	char x[2], y[3];
	struct iovec riov[2] = { { x, 2 }, { y, 3 } };
	CHECK_EQ(readv(sv[0], riov, 2), 5);
	CHECK(memcmp(x, "ab", 2) == 0 && memcmp(y, "cde", 3) == 0);
	CHECK_EQ(send(sv[0], "xyz", 3, 0), 3);
	CHECK_EQ(recv(sv[1], buf, sizeof(buf), 0), 3);
	/* What a socket is to stat, lseek, open and /proc. */
	struct stat st;
	CHECK_EQ(fstat(sv[0], &st), 0);
	CHECK(S_ISSOCK(st.st_mode));
	CHECK_EQ(st.st_mode & 07777, 0777);
	CHECK_EQ(st.st_size, 0);
	CHECK_ERR(lseek(sv[0], 0, SEEK_SET), ESPIPE);
	CHECK_ERR(pread(sv[0], buf, 1, 0), ESPIPE);
	char path[64], link[64], want[64];
	snprintf(path, sizeof(path), "/proc/self/fd/%d", sv[0]);
	ssize_t n = readlink(path, link, sizeof(link) - 1);
	CHECK(n > 0);
	link[n] = 0;
	snprintf(want, sizeof(want), "socket:[%lu]", (unsigned long)st.st_ino);
	if (strcmp(link, want) != 0)
		return fail("readlink %s: got a different link than socket:[st_ino]", path);
	CHECK_ERR(open(path, O_RDWR), ENXIO);
	/* Non-sockets. */
	int p[2];
	CHECK_EQ(pipe(p), 0);
	CHECK_ERR(send(p[1], "x", 1, 0), ENOTSOCK);
	CHECK_ERR(recv(p[0], buf, 1, MSG_DONTWAIT), ENOTSOCK);
	CHECK_ERR(shutdown(p[0], SHUT_RD), ENOTSOCK);
	CHECK_ERR(shutdown(99, SHUT_RD), EBADF);
	struct sockaddr_un a;
	socklen_t alen = sizeof(a);
	CHECK_ERR(getsockname(p[0], (struct sockaddr *)&a, &alen), ENOTSOCK);
	CHECK_ERR(getpeername(99, (struct sockaddr *)&a, &alen), EBADF);
	close(p[0]);
	close(p[1]);
	/* SOCK_NONBLOCK and SOCK_CLOEXEC. */
	int nb[2];
	CHECK_EQ(socketpair(AF_UNIX, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, nb), 0);
	CHECK_EQ(fcntl(nb[1], F_GETFD) & FD_CLOEXEC, FD_CLOEXEC);
	CHECK_ERR(read(nb[1], buf, 1), EAGAIN);
	CHECK_ERR(recv(sv[0], buf, 1, MSG_DONTWAIT), EAGAIN);
	close(nb[0]);
	close(nb[1]);
	close(sv[0]);
	close(sv[1]);
	return 1;
}

static int test_eof_epipe(void)
{
	int sv[2];
	char buf[16];
	set_handler(SIGPIPE, on_sigpipe, 0);
	sigpipes = 0;
	CHECK_EQ(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	CHECK_EQ(write(sv[1], "last", 4), 4);
	close(sv[1]);
	/* Data first, then EOF. */
	CHECK_EQ(read(sv[0], buf, sizeof(buf)), 4);
	CHECK_EQ(read(sv[0], buf, sizeof(buf)), 0);
	CHECK_ERR(write(sv[0], "x", 1), EPIPE);
	CHECK_EQ(sigpipes, 1);
	CHECK_ERR(send(sv[0], "x", 1, MSG_NOSIGNAL), EPIPE);
	CHECK_EQ(sigpipes, 1);
	CHECK_ERR(send(sv[0], "x", 1, 0), EPIPE);
	CHECK_EQ(sigpipes, 2);
	close(sv[0]);
	/* A peer that closes with data unread: ECONNRESET once, then EOF. */
	CHECK_EQ(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	CHECK_EQ(write(sv[0], "unread", 6), 6);
	close(sv[1]);
	CHECK_EQ(pollev(sv[0], POLLIN | POLLOUT | POLLRDHUP), POLLIN | POLLOUT | POLLRDHUP | POLLHUP | POLLERR);
	CHECK_ERR(read(sv[0], buf, sizeof(buf)), ECONNRESET);
	CHECK_EQ(read(sv[0], buf, sizeof(buf)), 0);
	close(sv[0]);
	/* Datagrams: no EOF; the first send after the peer went is ECONNREFUSED, then
	 * ENOTCONN; never SIGPIPE. */
	CHECK_EQ(socketpair(AF_UNIX, SOCK_DGRAM, 0, sv), 0);
	close(sv[1]);
	CHECK_ERR(recv(sv[0], buf, sizeof(buf), MSG_DONTWAIT), EAGAIN);
	CHECK_EQ(pollev(sv[0], POLLIN | POLLOUT), POLLOUT);
	CHECK_ERR(write(sv[0], "x", 1), ECONNREFUSED);
	CHECK_ERR(write(sv[0], "x", 1), ENOTCONN);
	close(sv[0]);
	/* Seqpacket: EOF, EPIPE without SIGPIPE. */
	CHECK_EQ(socketpair(AF_UNIX, SOCK_SEQPACKET, 0, sv), 0);
	close(sv[1]);
	CHECK_EQ(pollev(sv[0], POLLIN | POLLOUT | POLLRDHUP), POLLIN | POLLOUT | POLLRDHUP | POLLHUP);
	CHECK_EQ(read(sv[0], buf, sizeof(buf)), 0);
	CHECK_EQ(recv(sv[0], buf, sizeof(buf), MSG_DONTWAIT), 0);
	CHECK_ERR(write(sv[0], "x", 1), EPIPE);
	CHECK_EQ(sigpipes, 2);
	close(sv[0]);
	set_handler(SIGPIPE, SIG_DFL, 0);
	return 1;
}

static int test_poll_states(void)
{
	int sv[2];
	char buf[16];
	CHECK_EQ(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	CHECK_EQ(pollev(sv[0], POLLIN | POLLOUT | POLLRDHUP), POLLOUT);
	CHECK_EQ(write(sv[1], "z", 1), 1);
	CHECK_EQ(pollev(sv[0], POLLIN | POLLOUT | POLLRDHUP), POLLIN | POLLOUT);
	CHECK_EQ(shutdown(sv[1], SHUT_WR), 0);
	CHECK_EQ(pollev(sv[0], POLLIN | POLLOUT | POLLRDHUP), POLLIN | POLLOUT | POLLRDHUP);
	CHECK_EQ(read(sv[0], buf, sizeof(buf)), 1);
	CHECK_EQ(read(sv[0], buf, sizeof(buf)), 0);
	CHECK_EQ(pollev(sv[1], POLLIN | POLLOUT | POLLRDHUP), POLLOUT);
	close(sv[1]);
	CHECK_EQ(pollev(sv[0], POLLIN | POLLOUT | POLLRDHUP), POLLIN | POLLOUT | POLLRDHUP | POLLHUP);
	close(sv[0]);
	/* An unconnected stream socket hangs up; a datagram one is writable. */
	int s = socket(AF_UNIX, SOCK_STREAM, 0);
	CHECK_EQ(pollev(s, POLLIN | POLLOUT), POLLOUT | POLLHUP);
	close(s);
	s = socket(AF_UNIX, SOCK_DGRAM, 0);
	CHECK_EQ(pollev(s, POLLIN | POLLOUT), POLLOUT);
	close(s);
	/* epoll: level and edge, EPOLLRDHUP. */
	CHECK_EQ(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	int ep = epoll_create1(0);
	struct epoll_event ev = { .events = EPOLLIN | EPOLLET | EPOLLRDHUP, .data.u64 = 7 };
	CHECK_EQ(epoll_ctl(ep, EPOLL_CTL_ADD, sv[0], &ev), 0);
	struct epoll_event out;
	CHECK_EQ(epoll_wait(ep, &out, 1, 0), 0);
	CHECK_EQ(write(sv[1], "a", 1), 1);
	CHECK_EQ(epoll_wait(ep, &out, 1, 0), 1);
	CHECK_EQ(out.events, EPOLLIN);
	CHECK_EQ(out.data.u64, 7);
	CHECK_EQ(epoll_wait(ep, &out, 1, 0), 0);
	CHECK_EQ(shutdown(sv[1], SHUT_WR), 0);
	CHECK_EQ(epoll_wait(ep, &out, 1, 0), 1);
	CHECK_EQ(out.events, EPOLLIN | EPOLLRDHUP);
	close(ep);
	close(sv[0]);
	close(sv[1]);
	return 1;
}

static int test_shutdown(void)
{
	int sv[2];
	char buf[16];
	set_handler(SIGPIPE, SIG_IGN, 0);
	CHECK_EQ(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	CHECK_ERR(shutdown(sv[0], 3), EINVAL);
	CHECK_ERR(shutdown(sv[0], -1), EINVAL);
	CHECK_EQ(write(sv[0], "ab", 2), 2);
	CHECK_EQ(shutdown(sv[0], SHUT_WR), 0);
	CHECK_ERR(write(sv[0], "x", 1), EPIPE);
	CHECK_EQ(read(sv[1], buf, sizeof(buf)), 2);
	CHECK_EQ(read(sv[1], buf, sizeof(buf)), 0);
	/* The other way still works. */
	CHECK_EQ(write(sv[1], "cd", 2), 2);
	CHECK_EQ(read(sv[0], buf, sizeof(buf)), 2);
	/* SHUT_RD: reads end at once; the peer's writes fail. */
	CHECK_EQ(shutdown(sv[0], SHUT_RD), 0);
	CHECK_EQ(read(sv[0], buf, sizeof(buf)), 0);
	CHECK_ERR(write(sv[1], "x", 1), EPIPE);
	CHECK_EQ(pollev(sv[0], POLLIN | POLLOUT | POLLRDHUP), POLLIN | POLLOUT | POLLRDHUP | POLLHUP);
	close(sv[0]);
	close(sv[1]);
	/* An unconnected socket can be shut down too. */
	int s = socket(AF_UNIX, SOCK_STREAM, 0);
	CHECK_EQ(shutdown(s, SHUT_RDWR), 0);
	close(s);
	set_handler(SIGPIPE, SIG_DFL, 0);
	return 1;
}

static int test_flags_and_boundaries(void)
{
	int sv[2];
	char buf[64];
	CHECK_EQ(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	CHECK_EQ(write(sv[0], "hello", 5), 5);
	CHECK_EQ(write(sv[0], "world", 5), 5);
	/* A stream glues writes together; MSG_PEEK leaves them. */
	CHECK_EQ(recv(sv[1], buf, sizeof(buf), MSG_PEEK), 10);
	CHECK(memcmp(buf, "helloworld", 10) == 0);
	CHECK_EQ(recv(sv[1], buf, 3, 0), 3);
	CHECK(memcmp(buf, "hel", 3) == 0);
	CHECK_EQ(recv(sv[1], buf, 4, MSG_PEEK), 4);
	CHECK(memcmp(buf, "lowo", 4) == 0);
	CHECK_EQ(recv(sv[1], buf, sizeof(buf), 0), 7);
	CHECK(memcmp(buf, "loworld", 7) == 0);
	CHECK_ERR(recv(sv[1], buf, sizeof(buf), MSG_DONTWAIT), EAGAIN);
	int v = -1;
	CHECK_EQ(ioctl(sv[1], FIONREAD, &v), 0);
	CHECK_EQ(v, 0);
	CHECK_EQ(write(sv[0], "abc", 3), 3);
	CHECK_EQ(ioctl(sv[1], FIONREAD, &v), 0);
	CHECK_EQ(v, 3);
	CHECK_EQ(recv(sv[1], buf, sizeof(buf), 0), 3);
	/* MSG_WAITALL waits for the whole length: a child writes it in three pieces. */
	pid_t pid = fork();
	if (pid == 0) {
		for (int i = 0; i < 3; i++) {
			if (write(sv[0], "xyz", 3) != 3)
				_exit(1);
			usleep(10000);
		}
		_exit(0);
	}
	CHECK_EQ(recv(sv[1], buf, 9, MSG_WAITALL), 9);
	CHECK(memcmp(buf, "xyzxyzxyz", 9) == 0);
	int status;
	waitpid(pid, &status, 0);
	close(sv[0]);
	close(sv[1]);
	/* Datagrams keep their boundaries; a short buffer truncates. */
	CHECK_EQ(socketpair(AF_UNIX, SOCK_DGRAM, 0, sv), 0);
	CHECK_EQ(send(sv[0], "abcdef", 6, 0), 6);
	CHECK_EQ(send(sv[0], "gh", 2, 0), 2);
	CHECK_EQ(send(sv[0], "", 0, 0), 0);
	CHECK_EQ(send(sv[0], "ijklmn", 6, 0), 6);
	CHECK_EQ(ioctl(sv[1], FIONREAD, &v), 0);
	CHECK_EQ(v, 6);
	struct iovec iov = { buf, 3 };
	struct msghdr m = { .msg_iov = &iov, .msg_iovlen = 1 };
	CHECK_EQ(recvmsg(sv[1], &m, 0), 3);
	CHECK_EQ(m.msg_flags, MSG_TRUNC);
	CHECK(memcmp(buf, "abc", 3) == 0);
	CHECK_EQ(recv(sv[1], buf, sizeof(buf), 0), 2);
	CHECK_EQ(recv(sv[1], buf, sizeof(buf), 0), 0);
	CHECK_EQ(recv(sv[1], buf, 2, MSG_TRUNC | MSG_PEEK), 6);
	CHECK_EQ(recv(sv[1], buf, 2, MSG_TRUNC), 6);
	CHECK_ERR(recv(sv[1], buf, sizeof(buf), MSG_DONTWAIT), EAGAIN);
	close(sv[0]);
	close(sv[1]);
	/* Seqpacket: records too. */
	CHECK_EQ(socketpair(AF_UNIX, SOCK_SEQPACKET, 0, sv), 0);
	CHECK_EQ(send(sv[0], "one", 3, 0), 3);
	CHECK_EQ(send(sv[0], "three", 5, 0), 5);
	CHECK_EQ(recv(sv[1], buf, 2, 0), 2);
	CHECK_EQ(recv(sv[1], buf, sizeof(buf), 0), 5);
	close(sv[0]);
	close(sv[1]);
	return 1;
}

static int test_buffer_limits(void)
{
	int sv[2];
	static char chunk[1000], big[30000];
	CHECK_EQ(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	int v = 10000;
	CHECK_EQ(setsockopt(sv[0], SOL_SOCKET, SO_SNDBUF, &v, sizeof(v)), 0);
	socklen_t len = sizeof(v);
	CHECK_EQ(getsockopt(sv[0], SOL_SOCKET, SO_SNDBUF, &v, &len), 0);
	CHECK_EQ(v, 20000);
	CHECK_EQ(len, sizeof(int));
	long total = 0;
	int writes = 0;
	for (;;) {
		ssize_t n = send(sv[0], chunk, sizeof(chunk), MSG_DONTWAIT);
		if (n < 0)
			break;
		total += n;
		if (++writes > 1000)
			return fail("no EAGAIN after 1000 writes");
	}
	CHECK_EQ(errno, EAGAIN);
	CHECK(total > 0 && total <= 20000);
	/* Full: not writable; the reader makes room. */
	CHECK_EQ(pollev(sv[0], POLLOUT), 0);
	int fl = fcntl(sv[0], F_GETFL);
	fcntl(sv[0], F_SETFL, fl | O_NONBLOCK);
	CHECK_ERR(write(sv[0], chunk, sizeof(chunk)), EAGAIN);
	fcntl(sv[0], F_SETFL, fl);
	/* SO_SNDTIMEO: a blocked write gives up with EAGAIN. */
	struct timeval tv = { 0, 100000 };
	CHECK_EQ(setsockopt(sv[0], SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv)), 0);
	CHECK_ERR(write(sv[0], chunk, sizeof(chunk)), EAGAIN);
	long got = 0;
	while (got < total) {
		ssize_t n = recv(sv[1], big, sizeof(big), MSG_DONTWAIT);
		if (n <= 0)
			return fail("read back %ld of %ld", got, total);
		got += n;
	}
	CHECK_EQ(pollev(sv[0], POLLOUT), POLLOUT);
	CHECK_EQ(send(sv[0], chunk, sizeof(chunk), MSG_DONTWAIT), (long)sizeof(chunk));
	close(sv[0]);
	close(sv[1]);
	/* A datagram larger than the send buffer is EMSGSIZE. */
	CHECK_EQ(socketpair(AF_UNIX, SOCK_DGRAM, 0, sv), 0);
	v = 10000;
	CHECK_EQ(setsockopt(sv[0], SOL_SOCKET, SO_SNDBUF, &v, sizeof(v)), 0);
	CHECK_ERR(send(sv[0], big, 20000, 0), EMSGSIZE);
	CHECK_EQ(send(sv[0], big, 19000, 0), 19000);
	CHECK_EQ(recv(sv[1], big, sizeof(big), 0), 19000);
	close(sv[0]);
	close(sv[1]);
	return 1;
}

static int test_timeouts_and_signals(void)
{
	int sv[2];
	char buf[16];
	CHECK_EQ(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	struct timeval tv = { 0, 100000 }, got;
	CHECK_EQ(setsockopt(sv[0], SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)), 0);
	socklen_t len = sizeof(got);
	CHECK_EQ(getsockopt(sv[0], SOL_SOCKET, SO_RCVTIMEO, &got, &len), 0);
	CHECK_EQ(len, sizeof(got));
	CHECK_EQ(got.tv_sec, 0);
	CHECK_EQ(got.tv_usec, 100000);
	CHECK_ERR(read(sv[0], buf, sizeof(buf)), EAGAIN);
	struct timeval bad = { 0, 1000000 };
	CHECK_ERR(setsockopt(sv[0], SOL_SOCKET, SO_RCVTIMEO, &bad, sizeof(bad)), EDOM);
	CHECK_ERR(setsockopt(sv[0], SOL_SOCKET, SO_RCVTIMEO, &tv, 8), EINVAL);
	/* A signal ends a wait with a time limit with EINTR, even with SA_RESTART. */
	tv.tv_sec = 30;
	tv.tv_usec = 0;
	CHECK_EQ(setsockopt(sv[0], SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)), 0);
	set_handler(SIGALRM, on_tick, SA_RESTART);
	ticker(20000);
	errno = 0;
	ssize_t r = read(sv[0], buf, sizeof(buf));
	int err = errno;
	ticker(0);
	if (r != -1 || err != EINTR)
		return fail("read with SO_RCVTIMEO and SA_RESTART: %zd %s, want EINTR", r, ename(err));
	/* Without a time limit: EINTR without SA_RESTART... */
	tv.tv_sec = 0;
	CHECK_EQ(setsockopt(sv[0], SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)), 0);
	set_handler(SIGALRM, on_tick, 0);
	ticker(20000);
	errno = 0;
	r = read(sv[0], buf, sizeof(buf));
	err = errno;
	ticker(0);
	if (r != -1 || err != EINTR)
		return fail("read without SA_RESTART: %zd %s, want EINTR", r, ename(err));
	/* ... and a restart with it: a child signals, then writes. */
	set_handler(SIGUSR1, on_tick, SA_RESTART);
	ticks = 0;
	pid_t pid = fork();
	if (pid == 0) {
		for (int i = 0; i < 10; i++) {
			kill(getppid(), SIGUSR1);
			usleep(10000);
		}
		_exit(write(sv[1], "done", 4) == 4 ? 0 : 1);
	}
	r = read(sv[0], buf, sizeof(buf));
	int status;
	waitpid(pid, &status, 0);
	CHECK_EQ(r, 4);
	CHECK(ticks > 0);
	set_handler(SIGALRM, SIG_DFL, 0);
	set_handler(SIGUSR1, SIG_DFL, 0);
	close(sv[0]);
	close(sv[1]);
	return 1;
}

static int test_bind_path(void)
{
	struct sockaddr_un a, b;
	socklen_t alen;
	mkdir(DIR_, 0755);
	unlink(DIR_ "/s1");
	unlink(DIR_ "/s2");
	mode_t old = umask(022);
	int s = socket(AF_UNIX, SOCK_STREAM, 0);
	socklen_t len = mkaddr(&a, DIR_ "/s1");
	CHECK_EQ(bind(s, (struct sockaddr *)&a, len), 0);
	umask(old);
	struct stat st;
	CHECK_EQ(stat(DIR_ "/s1", &st), 0);
	CHECK(S_ISSOCK(st.st_mode));
	CHECK_EQ(st.st_mode & 07777, 0755);
	CHECK_ERR(open(DIR_ "/s1", O_RDONLY), ENXIO);
	/* Bound already: EINVAL, and the new path is taken back. */
	socklen_t len2 = mkaddr(&b, DIR_ "/s2");
	CHECK_ERR(bind(s, (struct sockaddr *)&b, len2), EINVAL);
	CHECK_ERR(stat(DIR_ "/s2", &st), ENOENT);
	int t = socket(AF_UNIX, SOCK_STREAM, 0);
	CHECK_ERR(bind(t, (struct sockaddr *)&a, len), EADDRINUSE);
	socklen_t len3 = mkaddr(&b, DIR_ "/nodir/x");
	CHECK_ERR(bind(t, (struct sockaddr *)&b, len3), ENOENT);
	/* The name as getsockname tells it: the path and its NUL. */
	alen = sizeof(b);
	CHECK_EQ(getsockname(s, (struct sockaddr *)&b, &alen), 0);
	CHECK_EQ(alen, offsetof(struct sockaddr_un, sun_path) + strlen(DIR_ "/s1") + 1);
	CHECK(strcmp(b.sun_path, DIR_ "/s1") == 0);
	/* A short buffer gets what fits and the full length. */
	memset(&b, 0x55, sizeof(b));
	alen = 4;
	CHECK_EQ(getsockname(s, (struct sockaddr *)&b, &alen), 0);
	CHECK_EQ(alen, len);
	CHECK(b.sun_path[0] == 'u' && b.sun_path[1] == 'n' && b.sun_path[2] == 0x55);
	CHECK_ERR(getsockname(s, (struct sockaddr *)&b, bad_ptr()), EFAULT);
	alen = -1;
	CHECK_ERR(getsockname(s, (struct sockaddr *)&b, &alen), EINVAL);
	/* Not listening: refused. */
	CHECK_ERR(connect(t, (struct sockaddr *)&a, len), ECONNREFUSED);
	CHECK_ERR(listen(t, 5), EINVAL);
	close(s);
	/* The inode outlives the socket; nobody is bound to it now. */
	CHECK_EQ(stat(DIR_ "/s1", &st), 0);
	CHECK_ERR(connect(t, (struct sockaddr *)&a, len), ECONNREFUSED);
	CHECK_EQ(unlink(DIR_ "/s1"), 0);
	CHECK_ERR(connect(t, (struct sockaddr *)&a, len), ENOENT);
	/* A regular file is not a socket. */
	int f = open(DIR_ "/plain", O_CREAT | O_WRONLY, 0644);
	close(f);
	len3 = mkaddr(&b, DIR_ "/plain");
	CHECK_ERR(connect(t, (struct sockaddr *)&b, len3), ECONNREFUSED);
	unlink(DIR_ "/plain");
	close(t);
	return 1;
}

static int test_bad_addresses(void)
{
	struct sockaddr_un a;
	int s = socket(AF_UNIX, SOCK_STREAM, 0);
	mkaddr(&a, "@x");
	CHECK_ERR(bind(s, (struct sockaddr *)&a, 1), EINVAL);
	CHECK_ERR(bind(s, (struct sockaddr *)&a, -1), EINVAL);
	CHECK_ERR(bind(s, (struct sockaddr *)&a, sizeof(a) + 1), EINVAL);
	CHECK_ERR(bind(s, (struct sockaddr *)&a, 1000), EINVAL);
	CHECK_ERR(bind(s, bad_ptr(), 10), EFAULT);
	CHECK_ERR(bind(99, (struct sockaddr *)&a, 10), EBADF);
	a.sun_family = AF_INET;
	CHECK_ERR(bind(s, (struct sockaddr *)&a, 10), EINVAL);
	CHECK_ERR(connect(s, (struct sockaddr *)&a, 10), EINVAL);
	CHECK_ERR(connect(s, (struct sockaddr *)&a, 2), EINVAL);
	CHECK_ERR(connect(s, bad_ptr(), 10), EFAULT);
	int p[2];
	CHECK_EQ(pipe(p), 0);
	a.sun_family = AF_UNIX;
	CHECK_ERR(connect(p[0], (struct sockaddr *)&a, 10), ENOTSOCK);
	CHECK_ERR(connect(p[0], bad_ptr(), 10), EFAULT);
	CHECK_ERR(bind(p[0], bad_ptr(), 10), ENOTSOCK);
	close(p[0]);
	close(p[1]);
	close(s);
	return 1;
}

static int test_listen_connect_accept(void)
{
	struct sockaddr_un a, b;
	socklen_t alen;
	mkdir(DIR_, 0755);
	unlink(DIR_ "/srv");
	int l = socket(AF_UNIX, SOCK_STREAM, 0);
	socklen_t len = mkaddr(&a, DIR_ "/srv");
	CHECK_EQ(bind(l, (struct sockaddr *)&a, len), 0);
	CHECK_ERR(accept(l, NULL, NULL), EINVAL);
	CHECK_EQ(listen(l, 5), 0);
	CHECK_EQ(pollev(l, POLLIN | POLLOUT), 0);
	int v = 0;
	socklen_t vl = sizeof(v);
	CHECK_EQ(getsockopt(l, SOL_SOCKET, SO_ACCEPTCONN, &v, &vl), 0);
	CHECK_EQ(v, 1);
	CHECK_ERR(accept4(l, NULL, NULL, 0x1000), EINVAL);
	CHECK_ERR(accept4(l, NULL, NULL, SOCK_NONBLOCK | O_APPEND), EINVAL);
	int fl = fcntl(l, F_GETFL);
	fcntl(l, F_SETFL, fl | O_NONBLOCK);
	CHECK_ERR(accept(l, NULL, NULL), EAGAIN);
	fcntl(l, F_SETFL, fl);
	int c = socket(AF_UNIX, SOCK_STREAM, 0);
	CHECK_EQ(connect(c, (struct sockaddr *)&a, len), 0);
	CHECK_EQ(pollev(l, POLLIN | POLLOUT), POLLIN);
	CHECK_ERR(connect(c, (struct sockaddr *)&a, len), EISCONN);
	CHECK_ERR(listen(c, 1), EINVAL);
	int d = socket(AF_UNIX, SOCK_DGRAM, 0);
	CHECK_ERR(connect(d, (struct sockaddr *)&a, len), EPROTOTYPE);
	CHECK_ERR(listen(d, 1), EOPNOTSUPP);
	CHECK_ERR(accept(d, NULL, NULL), EOPNOTSUPP);
	close(d);
	/* Data may flow before accept. */
	CHECK_EQ(write(c, "early", 5), 5);
	memset(&b, 0, sizeof(b));
	alen = sizeof(b);
	int s = accept4(l, (struct sockaddr *)&b, &alen, SOCK_CLOEXEC | SOCK_NONBLOCK);
	CHECK(s >= 0);
	CHECK_EQ(alen, offsetof(struct sockaddr_un, sun_path));
	CHECK_EQ(b.sun_family, AF_UNIX);
	CHECK_EQ(fcntl(s, F_GETFD) & FD_CLOEXEC, FD_CLOEXEC);
	CHECK_EQ(fcntl(s, F_GETFL) & O_NONBLOCK, O_NONBLOCK);
	char buf[16];
	CHECK_EQ(read(s, buf, sizeof(buf)), 5);
	CHECK_ERR(read(s, buf, sizeof(buf)), EAGAIN);
	/* Names: the server end is the listener's, the client is unnamed. */
	alen = sizeof(b);
	CHECK_EQ(getsockname(s, (struct sockaddr *)&b, &alen), 0);
	CHECK_EQ(alen, len);
	alen = sizeof(b);
	CHECK_EQ(getpeername(c, (struct sockaddr *)&b, &alen), 0);
	CHECK_EQ(alen, len);
	CHECK(strcmp(b.sun_path, DIR_ "/srv") == 0);
	alen = sizeof(b);
	CHECK_EQ(getsockname(c, (struct sockaddr *)&b, &alen), 0);
	CHECK_EQ(alen, offsetof(struct sockaddr_un, sun_path));
	alen = sizeof(b);
	CHECK_ERR(getpeername(l, (struct sockaddr *)&b, &alen), ENOTCONN);
	/* Credentials: each end sees the other's process at connect time. */
	struct ucred cr;
	vl = sizeof(cr);
	CHECK_EQ(getsockopt(s, SOL_SOCKET, SO_PEERCRED, &cr, &vl), 0);
	CHECK_EQ(vl, sizeof(cr));
	CHECK_EQ(cr.pid, getpid());
	CHECK_EQ(cr.uid, geteuid());
	CHECK_EQ(cr.gid, getegid());
	vl = sizeof(cr);
	CHECK_EQ(getsockopt(c, SOL_SOCKET, SO_PEERCRED, &cr, &vl), 0);
	CHECK_EQ(cr.pid, getpid());
	/* A connection from a child: its pid. */
	pid_t pid = fork();
	if (pid == 0) {
		int cc = socket(AF_UNIX, SOCK_STREAM, 0);
		if (connect(cc, (struct sockaddr *)&a, len) != 0)
			_exit(1);
		char ch;
		_exit(read(cc, &ch, 1) == 1 ? 0 : 2);
	}
	int s2 = accept(l, NULL, NULL);
	CHECK(s2 >= 0);
	vl = sizeof(cr);
	CHECK_EQ(getsockopt(s2, SOL_SOCKET, SO_PEERCRED, &cr, &vl), 0);
	CHECK_EQ(cr.pid, pid);
	CHECK_EQ(write(s2, "k", 1), 1);
	int status;
	waitpid(pid, &status, 0);
	CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	close(s2);
	close(s);
	close(c);
	/* Unaccepted connections die with the listener: the client sees ECONNRESET. */
	c = socket(AF_UNIX, SOCK_STREAM, 0);
	CHECK_EQ(connect(c, (struct sockaddr *)&a, len), 0);
	close(l);
	CHECK_ERR(read(c, buf, sizeof(buf)), ECONNRESET);
	CHECK_EQ(read(c, buf, sizeof(buf)), 0);
	close(c);
	unlink(DIR_ "/srv");
	return 1;
}

static int test_backlog(void)
{
	struct sockaddr_un a;
	int l = socket(AF_UNIX, SOCK_SEQPACKET, 0);
	socklen_t len = mkaddr(&a, "@cradle-unixsock-backlog");
	CHECK_EQ(bind(l, (struct sockaddr *)&a, len), 0);
	CHECK_EQ(listen(l, 0), 0);
	int c1 = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_NONBLOCK, 0);
	int c2 = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_NONBLOCK, 0);
	CHECK_EQ(connect(c1, (struct sockaddr *)&a, len), 0);
	CHECK_ERR(connect(c2, (struct sockaddr *)&a, len), EAGAIN);
	int s = accept(l, NULL, NULL);
	CHECK(s >= 0);
	CHECK_EQ(connect(c2, (struct sockaddr *)&a, len), 0);
	/* Seqpacket keeps records across a connection too. */
	CHECK_EQ(send(c1, "rec1", 4, 0), 4);
	CHECK_EQ(send(c1, "r2", 2, 0), 2);
	char buf[16];
	CHECK_EQ(recv(s, buf, sizeof(buf), 0), 4);
	CHECK_EQ(recv(s, buf, sizeof(buf), 0), 2);
	/* Unconnected seqpacket: ENOTCONN both ways. */
	int u = socket(AF_UNIX, SOCK_SEQPACKET, 0);
	CHECK_ERR(send(u, "x", 1, 0), ENOTCONN);
	CHECK_ERR(recv(u, buf, 1, 0), ENOTCONN);
	close(u);
	close(s);
	close(c1);
	close(c2);
	close(l);
	return 1;
}

static int test_abstract_and_autobind(void)
{
	struct sockaddr_un a, b;
	socklen_t alen;
	int s = socket(AF_UNIX, SOCK_STREAM, 0);
	socklen_t len = mkaddr(&a, "@cradle-unixsock-abs");
	CHECK_EQ(bind(s, (struct sockaddr *)&a, len), 0);
	alen = sizeof(b);
	CHECK_EQ(getsockname(s, (struct sockaddr *)&b, &alen), 0);
	CHECK_EQ(alen, len);
	CHECK(b.sun_path[0] == 0 && memcmp(b.sun_path + 1, "cradle-unixsock-abs", 19) == 0);
	int t = socket(AF_UNIX, SOCK_STREAM, 0);
	CHECK_ERR(bind(t, (struct sockaddr *)&a, len), EADDRINUSE);
	/* The name's length is part of it: one byte shorter is another name. */
	CHECK_EQ(bind(t, (struct sockaddr *)&a, len - 1), 0);
	close(t);
	CHECK_EQ(listen(s, 1), 0);
	int c = socket(AF_UNIX, SOCK_STREAM, 0);
	CHECK_EQ(connect(c, (struct sockaddr *)&a, len), 0);
	close(c);
	close(s);
	/* Free again once the socket is gone. */
	c = socket(AF_UNIX, SOCK_STREAM, 0);
	CHECK_ERR(connect(c, (struct sockaddr *)&a, len), ECONNREFUSED);
	CHECK_EQ(bind(c, (struct sockaddr *)&a, len), 0);
	close(c);
	/* Autobind: five hex digits in the abstract namespace. */
	s = socket(AF_UNIX, SOCK_DGRAM, 0);
	b.sun_family = AF_UNIX;
	CHECK_EQ(bind(s, (struct sockaddr *)&b, sizeof(sa_family_t)), 0);
	alen = sizeof(b);
	CHECK_EQ(getsockname(s, (struct sockaddr *)&b, &alen), 0);
	CHECK_EQ(alen, offsetof(struct sockaddr_un, sun_path) + 6);
	CHECK_EQ(b.sun_path[0], 0);
	for (int i = 1; i <= 5; i++)
		CHECK(strchr("0123456789abcdef", b.sun_path[i]) && b.sun_path[i] != 0);
	CHECK_ERR(bind(s, (struct sockaddr *)&a, len), EINVAL);
	close(s);
	return 1;
}

static int test_datagram_addresses(void)
{
	struct sockaddr_un srv, cli, from;
	socklen_t flen;
	char buf[32];
	int s = socket(AF_UNIX, SOCK_DGRAM, 0);
	socklen_t slen = mkaddr(&srv, "@cradle-unixsock-dgram");
	CHECK_EQ(bind(s, (struct sockaddr *)&srv, slen), 0);
	int c = socket(AF_UNIX, SOCK_DGRAM, 0);
	CHECK_ERR(send(c, "x", 1, 0), ENOTCONN);
	CHECK_EQ(sendto(c, "anon", 4, 0, (struct sockaddr *)&srv, slen), 4);
	flen = sizeof(from);
	CHECK_EQ(recvfrom(s, buf, sizeof(buf), 0, (struct sockaddr *)&from, &flen), 4);
	CHECK_EQ(flen, 0);
	/* A bound sender is named. */
	socklen_t clen = mkaddr(&cli, "@cradle-unixsock-cli");
	CHECK_EQ(bind(c, (struct sockaddr *)&cli, clen), 0);
	CHECK_EQ(sendto(c, "named", 5, 0, (struct sockaddr *)&srv, slen), 5);
	flen = sizeof(from);
	CHECK_EQ(recvfrom(s, buf, sizeof(buf), 0, (struct sockaddr *)&from, &flen), 5);
	CHECK_EQ(flen, clen);
	CHECK(memcmp(from.sun_path + 1, "cradle-unixsock-cli", 19) == 0);
	/* The server answers to that address. */
	CHECK_EQ(sendto(s, "reply", 5, 0, (struct sockaddr *)&from, flen), 5);
	CHECK_EQ(recv(c, buf, sizeof(buf), 0), 5);
	/* connect()ed: send without an address; the server connected to c refuses others. */
	CHECK_EQ(connect(c, (struct sockaddr *)&srv, slen), 0);
	CHECK_EQ(send(c, "conn", 4, 0), 4);
	CHECK_EQ(recv(s, buf, sizeof(buf), 0), 4);
	CHECK_EQ(connect(s, (struct sockaddr *)&cli, clen), 0);
	int d = socket(AF_UNIX, SOCK_DGRAM, 0);
	CHECK_ERR(sendto(d, "x", 1, 0, (struct sockaddr *)&srv, slen), EPERM);
	CHECK_ERR(connect(d, (struct sockaddr *)&srv, slen), EPERM);
	/* AF_UNSPEC dissolves the association. */
	struct sockaddr unspec = { .sa_family = AF_UNSPEC };
	CHECK_EQ(connect(c, &unspec, sizeof(unspec)), 0);
	CHECK_ERR(send(c, "x", 1, 0), ENOTCONN);
	CHECK_ERR(getpeername(c, (struct sockaddr *)&from, &flen), ENOTCONN);
	/* Nobody there. */
	struct sockaddr_un none;
	socklen_t nlen = mkaddr(&none, "@cradle-unixsock-nobody");
	CHECK_ERR(sendto(d, "x", 1, 0, (struct sockaddr *)&none, nlen), ECONNREFUSED);
	CHECK_ERR(sendto(d, "x", 1, 0, (struct sockaddr *)&srv, 1), EINVAL);
	int st = socket(AF_UNIX, SOCK_STREAM, 0);
	CHECK_ERR(sendto(st, "x", 1, 0, (struct sockaddr *)&srv, slen), EOPNOTSUPP);
	CHECK_ERR(send(st, "x", 1, 0), ENOTCONN);
	CHECK_ERR(recv(st, buf, 1, 0), EINVAL);
	close(st);
	int sv[2];
	CHECK_EQ(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	CHECK_ERR(sendto(sv[0], "x", 1, 0, (struct sockaddr *)&srv, slen), EISCONN);
	close(sv[0]);
	close(sv[1]);
	close(d);
	close(c);
	close(s);
	return 1;
}

static int test_dgram_queue_limit(void)
{
	struct sockaddr_un srv;
	int s = socket(AF_UNIX, SOCK_DGRAM, 0);
	socklen_t slen = mkaddr(&srv, "@cradle-unixsock-qlen");
	CHECK_EQ(bind(s, (struct sockaddr *)&srv, slen), 0);
	int c = socket(AF_UNIX, SOCK_DGRAM | SOCK_NONBLOCK, 0);
	int sent = 0;
	while (sendto(c, "q", 1, 0, (struct sockaddr *)&srv, slen) == 1) {
		if (++sent > 5000)
			return fail("no EAGAIN after 5000 datagrams");
	}
	CHECK_EQ(errno, EAGAIN);
	CHECK(sent > 0);
	char b;
	CHECK_EQ(recv(s, &b, 1, 0), 1);
	CHECK_EQ(sendto(c, "q", 1, 0, (struct sockaddr *)&srv, slen), 1);
	close(c);
	close(s);
	return 1;
}

static int send_fds(int sock, const int *fds, int n, const char *data)
{
	char ctl[CMSG_SPACE(sizeof(int) * 4)];
	memset(ctl, 0, sizeof(ctl));
	struct iovec iov = { (void *)data, strlen(data) };
	struct msghdr m = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = ctl,
			    .msg_controllen = CMSG_SPACE(sizeof(int) * n) };
	struct cmsghdr *cm = CMSG_FIRSTHDR(&m);
	cm->cmsg_level = SOL_SOCKET;
	cm->cmsg_type = SCM_RIGHTS;
	cm->cmsg_len = CMSG_LEN(sizeof(int) * n);
	memcpy(CMSG_DATA(cm), fds, sizeof(int) * n);
	return sendmsg(sock, &m, 0);
}

static int test_scm_rights(void)
{
	int sv[2], p[2];
	char buf[16];
	CHECK_EQ(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	CHECK_EQ(pipe(p), 0);
	CHECK_EQ(send_fds(sv[0], &p[1], 1, "F"), 1);
	char ctl[CMSG_SPACE(sizeof(int) * 4)];
	struct iovec iov = { buf, sizeof(buf) };
	struct msghdr m = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = ctl,
			    .msg_controllen = sizeof(ctl) };
	CHECK_EQ(recvmsg(sv[1], &m, MSG_CMSG_CLOEXEC), 1);
	CHECK_EQ(m.msg_flags, MSG_CMSG_CLOEXEC);
	CHECK_EQ(m.msg_controllen, CMSG_SPACE(sizeof(int)));
	struct cmsghdr *cm = CMSG_FIRSTHDR(&m);
	CHECK(cm != NULL);
	CHECK_EQ(cm->cmsg_level, SOL_SOCKET);
	CHECK_EQ(cm->cmsg_type, SCM_RIGHTS);
	CHECK_EQ(cm->cmsg_len, CMSG_LEN(sizeof(int)));
	int got;
	memcpy(&got, CMSG_DATA(cm), sizeof(int));
	CHECK(got >= 0 && got != p[1]);
	CHECK_EQ(fcntl(got, F_GETFD) & FD_CLOEXEC, FD_CLOEXEC);
	/* The received descriptor is the same pipe. */
	CHECK_EQ(write(got, "via", 3), 3);
	CHECK_EQ(read(p[0], buf, sizeof(buf)), 3);
	close(got);
	/* Two descriptors, room for one: MSG_CTRUNC, the other is closed. (CMSG_SPACE of one
	 * int has room for two: the data is padded to 8 bytes.) */
	int two[2] = { p[1], p[1] };
	CHECK_EQ(send_fds(sv[0], two, 2, "G"), 1);
	m.msg_control = ctl;
	m.msg_controllen = CMSG_LEN(sizeof(int));
	m.msg_flags = 0;
	CHECK_EQ(recvmsg(sv[1], &m, 0), 1);
	CHECK_EQ(m.msg_flags, MSG_CTRUNC);
	cm = CMSG_FIRSTHDR(&m);
	CHECK(cm != NULL);
	CHECK_EQ(cm->cmsg_len, CMSG_LEN(sizeof(int)));
	memcpy(&got, CMSG_DATA(cm), sizeof(int));
	CHECK_EQ(fcntl(got, F_GETFD) & FD_CLOEXEC, 0);
	close(got);
	/* No control buffer at all: MSG_CTRUNC, descriptors dropped. */
	CHECK_EQ(send_fds(sv[0], &p[1], 1, "H"), 1);
	m.msg_control = NULL;
	m.msg_controllen = 0;
	CHECK_EQ(recvmsg(sv[1], &m, 0), 1);
	CHECK_EQ(m.msg_flags, MSG_CTRUNC);
	/* Descriptors stop a stream read: the next write is read apart. */
	CHECK_EQ(send_fds(sv[0], &p[1], 1, "I"), 1);
	CHECK_EQ(write(sv[0], "JK", 2), 2);
	m.msg_control = ctl;
	m.msg_controllen = sizeof(ctl);
	CHECK_EQ(recvmsg(sv[1], &m, 0), 1);
	cm = CMSG_FIRSTHDR(&m);
	CHECK(cm != NULL);
	memcpy(&got, CMSG_DATA(cm), sizeof(int));
	close(got);
	CHECK_EQ(read(sv[1], buf, sizeof(buf)), 2);
	/* Errors: a closed descriptor, a header longer than the buffer, another type. */
	int badfd = 99;
	CHECK_ERR(send_fds(sv[0], &badfd, 1, "x"), EBADF);
	memset(ctl, 0, sizeof(ctl));
	m.msg_control = ctl;
	m.msg_controllen = CMSG_SPACE(sizeof(int));
	cm = CMSG_FIRSTHDR(&m);
	cm->cmsg_level = SOL_SOCKET;
	cm->cmsg_type = SCM_RIGHTS;
	cm->cmsg_len = CMSG_SPACE(sizeof(int)) + 8;
	iov.iov_len = 1;
	CHECK_ERR(sendmsg(sv[0], &m, 0), EINVAL);
	cm->cmsg_len = CMSG_LEN(sizeof(int));
	cm->cmsg_type = 77;
	CHECK_ERR(sendmsg(sv[0], &m, 0), EINVAL);
	cm->cmsg_len = 8;
	cm->cmsg_type = SCM_RIGHTS;
	CHECK_ERR(sendmsg(sv[0], &m, 0), EINVAL);
	/* Another level is skipped. */
	cm->cmsg_len = CMSG_LEN(sizeof(int));
	cm->cmsg_level = 6;
	CHECK_EQ(sendmsg(sv[0], &m, 0), 1);
	CHECK_EQ(read(sv[1], buf, sizeof(buf)), 1);
	/* Over read(): the descriptors are dropped, the data arrives. */
	CHECK_EQ(send_fds(sv[0], &p[1], 1, "L"), 1);
	CHECK_EQ(read(sv[1], buf, sizeof(buf)), 1);
	CHECK_EQ(buf[0], 'L');
	close(p[0]);
	close(p[1]);
	close(sv[0]);
	close(sv[1]);
	return 1;
}

static int test_scm_credentials(void)
{
	int sv[2];
	char buf[16];
	CHECK_EQ(socketpair(AF_UNIX, SOCK_DGRAM, 0, sv), 0);
	int on = 1;
	CHECK_EQ(setsockopt(sv[1], SOL_SOCKET, SO_PASSCRED, &on, sizeof(on)), 0);
	int v = 0;
	socklen_t vl = sizeof(v);
	CHECK_EQ(getsockopt(sv[1], SOL_SOCKET, SO_PASSCRED, &v, &vl), 0);
	CHECK_EQ(v, 1);
	CHECK_EQ(send(sv[0], "c", 1, 0), 1);
	char ctl[CMSG_SPACE(sizeof(struct ucred))];
	struct iovec iov = { buf, sizeof(buf) };
	struct msghdr m = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = ctl,
			    .msg_controllen = sizeof(ctl) };
	CHECK_EQ(recvmsg(sv[1], &m, 0), 1);
	struct cmsghdr *cm = CMSG_FIRSTHDR(&m);
	CHECK(cm != NULL);
	CHECK_EQ(cm->cmsg_type, SCM_CREDENTIALS);
	CHECK_EQ(cm->cmsg_len, CMSG_LEN(sizeof(struct ucred)));
	struct ucred cr;
	memcpy(&cr, CMSG_DATA(cm), sizeof(cr));
	CHECK_EQ(cr.pid, getpid());
	CHECK_EQ(cr.uid, getuid());
	CHECK_EQ(cr.gid, getgid());
	/* Claiming one's own credentials explicitly. */
	memset(ctl, 0, sizeof(ctl));
	m.msg_controllen = sizeof(ctl);
	cm = CMSG_FIRSTHDR(&m);
	cm->cmsg_level = SOL_SOCKET;
	cm->cmsg_type = SCM_CREDENTIALS;
	cm->cmsg_len = CMSG_LEN(sizeof(struct ucred));
	cr.pid = getpid();
	cr.uid = getuid();
	cr.gid = getgid();
	memcpy(CMSG_DATA(cm), &cr, sizeof(cr));
	iov.iov_len = 1;
	CHECK_EQ(sendmsg(sv[0], &m, 0), 1);
	CHECK_EQ(recv(sv[1], buf, sizeof(buf), 0), 1);
	cr.uid = (uid_t)-1;
	memcpy(CMSG_DATA(cm), &cr, sizeof(cr));
	CHECK_ERR(sendmsg(sv[0], &m, 0), EINVAL);
	cm->cmsg_len = CMSG_LEN(8);
	CHECK_ERR(sendmsg(sv[0], &m, 0), EINVAL);
	/* SO_PASSCRED with no control buffer: MSG_CTRUNC. */
	CHECK_EQ(send(sv[0], "d", 1, 0), 1);
	iov.iov_len = sizeof(buf);
	m.msg_control = NULL;
	m.msg_controllen = 0;
	CHECK_EQ(recvmsg(sv[1], &m, 0), 1);
	CHECK_EQ(m.msg_flags, MSG_CTRUNC);
	close(sv[0]);
	close(sv[1]);
	return 1;
}

static int test_sockopts(void)
{
	int sv[2];
	CHECK_EQ(socketpair(AF_UNIX, SOCK_SEQPACKET, 0, sv), 0);
	int v;
	socklen_t vl;
#define GETINT(opt, want)                                                              \
	do {                                                                           \
		v = -7;                                                                \
		vl = sizeof(v);                                                        \
		CHECK_EQ(getsockopt(sv[0], SOL_SOCKET, opt, &v, &vl), 0);              \
		CHECK_EQ(vl, sizeof(int));                                             \
		CHECK_EQ(v, want);                                                     \
	} while (0)
	GETINT(SO_TYPE, SOCK_SEQPACKET);
	GETINT(SO_DOMAIN, AF_UNIX);
	GETINT(SO_PROTOCOL, 0);
	GETINT(SO_ERROR, 0);
	GETINT(SO_ACCEPTCONN, 0);
	GETINT(SO_PASSCRED, 0);
	GETINT(SO_KEEPALIVE, 0);
	v = 1;
	CHECK_EQ(setsockopt(sv[0], SOL_SOCKET, SO_KEEPALIVE, &v, sizeof(v)), 0);
	GETINT(SO_KEEPALIVE, 1);
	v = 5000;
	CHECK_EQ(setsockopt(sv[0], SOL_SOCKET, SO_RCVBUF, &v, sizeof(v)), 0);
	GETINT(SO_RCVBUF, 10000);
	/* A short length cuts the value; SO_PEERCRED of a pair is this process. */
	struct ucred cr;
	vl = 4;
	CHECK_EQ(getsockopt(sv[0], SOL_SOCKET, SO_PEERCRED, &cr, &vl), 0);
	CHECK_EQ(vl, 4);
	CHECK_EQ(cr.pid, getpid());
	int s = socket(AF_UNIX, SOCK_STREAM, 0);
	vl = sizeof(cr);
	CHECK_EQ(getsockopt(s, SOL_SOCKET, SO_PEERCRED, &cr, &vl), 0);
	CHECK_EQ(cr.pid, 0);
	CHECK_EQ(cr.uid, (uid_t)-1);
	CHECK_EQ(cr.gid, (gid_t)-1);
	close(s);
	/* Errnos. */
	vl = sizeof(v);
	CHECK_ERR(getsockopt(sv[0], SOL_SOCKET, 9999, &v, &vl), ENOPROTOOPT);
	CHECK_ERR(setsockopt(sv[0], SOL_SOCKET, 9999, &v, sizeof(v)), ENOPROTOOPT);
	CHECK_ERR(setsockopt(sv[0], SOL_SOCKET, SO_TYPE, &v, sizeof(v)), ENOPROTOOPT);
	CHECK_ERR(setsockopt(sv[0], SOL_SOCKET, SO_KEEPALIVE, &v, 2), EINVAL);
	CHECK_ERR(setsockopt(sv[0], SOL_SOCKET, SO_KEEPALIVE, bad_ptr(), sizeof(v)), EFAULT);
	CHECK_ERR(getsockopt(sv[0], SOL_SOCKET, SO_TYPE, &v, bad_ptr()), EFAULT);
	vl = -1;
	CHECK_ERR(getsockopt(sv[0], SOL_SOCKET, SO_TYPE, &v, &vl), EINVAL);
	vl = sizeof(v);
	CHECK_ERR(getsockopt(sv[0], SOL_SOCKET, SO_TYPE, bad_ptr(), &vl), EFAULT);
	int p[2];
	CHECK_EQ(pipe(p), 0);
	CHECK_ERR(getsockopt(p[0], SOL_SOCKET, SO_TYPE, &v, &vl), ENOTSOCK);
	CHECK_ERR(setsockopt(99, SOL_SOCKET, SO_KEEPALIVE, &v, sizeof(v)), EBADF);
	close(p[0]);
	close(p[1]);
	close(sv[0]);
	close(sv[1]);
	return 1;
}

static int test_bad_pointers(void)
{
	int sv[2];
	char buf[16];
	CHECK_EQ(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	CHECK_ERR(send(sv[0], bad_ptr(), 4, 0), EFAULT);
	CHECK_EQ(write(sv[0], "keep", 4), 4);
	/* A fault on the way out consumes nothing. */
	CHECK_ERR(recv(sv[1], bad_ptr(), 4, 0), EFAULT);
	CHECK_EQ(recv(sv[1], buf, sizeof(buf), 0), 4);
	CHECK(memcmp(buf, "keep", 4) == 0);
	CHECK_ERR(sendmsg(sv[0], bad_ptr(), 0), EFAULT);
	CHECK_ERR(recvmsg(sv[1], bad_ptr(), MSG_DONTWAIT), EFAULT);
	struct iovec iov = { buf, 1 };
	struct msghdr m = { .msg_iov = &iov, .msg_iovlen = 1025 };
	CHECK_ERR(sendmsg(sv[0], &m, 0), EMSGSIZE);
	m.msg_iovlen = 1;
	m.msg_control = bad_ptr();
	m.msg_controllen = 32;
	CHECK_ERR(sendmsg(sv[0], &m, 0), EFAULT);
	m.msg_control = buf;
	m.msg_controllen = (size_t)1 << 40;
	CHECK_ERR(sendmsg(sv[0], &m, 0), ENOBUFS);
	m.msg_control = NULL;
	m.msg_controllen = 0;
	m.msg_iov = bad_ptr();
	CHECK_ERR(sendmsg(sv[0], &m, 0), EFAULT);
	/* The buffer is checked for being user memory before the descriptor is looked up,
	 * but a low unmapped address is user memory: EBADF; a kernel one is EFAULT. */
	CHECK_ERR(sendto(99, bad_ptr(), 4, 0, NULL, 0), EBADF);
	CHECK_ERR(sendto(99, (void *)-4096L, 4, 0, NULL, 0), EFAULT);
	CHECK_ERR(recvfrom(99, (void *)-4096L, 4, 0, NULL, NULL), EFAULT);
	CHECK_ERR(recvfrom(99, buf, 4, 0, NULL, NULL), EBADF);
	close(sv[0]);
	close(sv[1]);
	return 1;
}

static int test_mmsg(void)
{
	int sv[2];
	CHECK_EQ(socketpair(AF_UNIX, SOCK_DGRAM, 0, sv), 0);
	struct mmsghdr out[3];
	struct iovec oiov[3] = { { "a", 1 }, { "bb", 2 }, { "ccc", 3 } };
	memset(out, 0, sizeof(out));
	for (int i = 0; i < 3; i++) {
		out[i].msg_hdr.msg_iov = &oiov[i];
		out[i].msg_hdr.msg_iovlen = 1;
	}
	CHECK_EQ(sendmmsg(sv[0], out, 3, 0), 3);
	CHECK_EQ(out[2].msg_len, 3);
	struct mmsghdr in[5];
	char bufs[5][8];
	struct iovec iiov[5];
	memset(in, 0, sizeof(in));
	for (int i = 0; i < 5; i++) {
		iiov[i].iov_base = bufs[i];
		iiov[i].iov_len = sizeof(bufs[i]);
		in[i].msg_hdr.msg_iov = &iiov[i];
		in[i].msg_hdr.msg_iovlen = 1;
	}
	CHECK_EQ(recvmmsg(sv[1], in, 5, MSG_WAITFORONE, NULL), 3);
	CHECK_EQ(in[0].msg_len, 1);
	CHECK_EQ(in[1].msg_len, 2);
	CHECK_EQ(in[2].msg_len, 3);
	CHECK_ERR(recvmmsg(sv[1], in, 5, MSG_DONTWAIT, NULL), EAGAIN);
	close(sv[0]);
	close(sv[1]);
	return 1;
}

/* Send `n` copies of `fd` in one SCM_RIGHTS message. */
static int send_many(int sock, int fd, int n)
{
	static char ctl[CMSG_SPACE(sizeof(int) * 253)];
	memset(ctl, 0, sizeof(ctl));
	struct iovec iov = { "m", 1 };
	struct msghdr m = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = ctl,
			    .msg_controllen = CMSG_SPACE(sizeof(int) * n) };
	struct cmsghdr *cm = CMSG_FIRSTHDR(&m);
	cm->cmsg_level = SOL_SOCKET;
	cm->cmsg_type = SCM_RIGHTS;
	cm->cmsg_len = CMSG_LEN(sizeof(int) * n);
	for (int i = 0; i < n; i++)
		memcpy(CMSG_DATA(cm) + i * sizeof(int), &fd, sizeof(int));
	return sendmsg(sock, &m, MSG_DONTWAIT);
}

/* An unprivileged user may have RLIMIT_NOFILE (1024) descriptors in flight, and sends
 * while it has no more than that: five messages of 253 (the fifth finds 1012 in flight),
 * then ETOOMANYREFS; 254 in one
 * message is EINVAL. Receiving them lowers the count again. */
static int test_inflight_limit(void)
{
	pid_t pid = fork();
	if (pid == 0) {
		int sv[2], p[2];
		if (socketpair(AF_UNIX, SOCK_DGRAM, 0, sv) || pipe(p))
			_exit(10);
		if (setgid(65534) || setuid(65534))
			_exit(11);
		int ok = 0;
		while (send_many(sv[0], p[0], 253) == 1)
			if (++ok > 20)
				break;
		if (ok != 5)
			_exit(20 + ok);
		if (errno != ETOOMANYREFS)
			_exit(12);
		char b;
		if (recv(sv[1], &b, 1, 0) != 1)
			_exit(13);
		if (send_many(sv[0], p[0], 253) != 1)
			_exit(14);
		errno = 0;
		if (send_many(sv[0], p[0], 254) != -1 || errno != EINVAL)
			_exit(15);
		_exit(0);
	}
	int status;
	waitpid(pid, &status, 0);
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
		return fail("child: status %#x", status);
	/* Root is not limited. */
	int sv[2], p[2];
	CHECK_EQ(socketpair(AF_UNIX, SOCK_DGRAM, 0, sv), 0);
	CHECK_EQ(pipe(p), 0);
	for (int i = 0; i < 6; i++)
		CHECK_EQ(send_many(sv[0], p[0], 253), 1);
	close(sv[0]);
	close(sv[1]);
	close(p[0]);
	close(p[1]);
	return 1;
}

/* A socket ring only the collector can free: y (the peer of x) is in flight in b's queue,
 * and b in its own. When the collector runs (at the next release of a UNIX socket), y is
 * closed and x reads EOF. */
static int test_garbage_collector(void)
{
	pid_t pid = fork();
	if (pid == 0) {
		int x[2], ab[2];
		alarm(30);
		if (socketpair(AF_UNIX, SOCK_STREAM, 0, x) || socketpair(AF_UNIX, SOCK_STREAM, 0, ab))
			_exit(1);
		if (send_fds(ab[0], &x[1], 1, "y") != 1 || send_fds(ab[0], &ab[1], 1, "b") != 1)
			_exit(2);
		close(x[1]);
		close(ab[0]);
		close(ab[1]);
		/* Loops of sockets sending themselves, closed: garbage too. */
		for (int i = 0; i < 200; i++) {
			int l[2];
			if (socketpair(AF_UNIX, SOCK_DGRAM, 0, l))
				_exit(3);
			send_fds(l[0], &l[1], 1, "l");
			send_fds(l[1], &l[0], 1, "l");
			close(l[0]);
			close(l[1]);
		}
		int dummy = socket(AF_UNIX, SOCK_DGRAM, 0);
		close(dummy);
		char c;
		_exit(read(x[0], &c, 1) == 0 ? 0 : 4);
	}
	int status;
	waitpid(pid, &status, 0);
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
		return fail("child: status %#x", status);
	return 1;
}

/* Two processes: 2000 round trips, then 1 MiB one way with a checksum. */
static int test_ping_pong(void)
{
	int sv[2];
	CHECK_EQ(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	pid_t pid = fork();
	if (pid == 0) {
		close(sv[0]);
		uint32_t n;
		for (int i = 0; i < 2000; i++) {
			if (read(sv[1], &n, 4) != 4)
				_exit(1);
			n++;
			if (write(sv[1], &n, 4) != 4)
				_exit(2);
		}
		static unsigned char blk[4096];
		uint32_t sum = 0;
		for (int i = 0; i < 256; i++) {
			for (int j = 0; j < 4096; j++) {
				blk[j] = (unsigned char)(i * 7 + j);
				sum += blk[j];
			}
			if (write(sv[1], blk, sizeof(blk)) != sizeof(blk))
				_exit(3);
		}
		_exit(write(sv[1], &sum, 4) == 4 ? 0 : 4);
	}
	close(sv[1]);
	uint32_t n = 0;
	for (int i = 0; i < 2000; i++) {
		uint32_t want = n + 1;
		CHECK_EQ(write(sv[0], &n, 4), 4);
		CHECK_EQ(read(sv[0], &n, 4), 4);
		CHECK_EQ(n, want);
	}
	static unsigned char buf[8192];
	uint32_t sum = 0;
	long total = 0;
	while (total < 256 * 4096) {
		long want = 256 * 4096 - total;
		ssize_t r = read(sv[0], buf, want < (long)sizeof(buf) ? want : (long)sizeof(buf));
		if (r <= 0)
			return fail("read %ld bytes of 1 MiB, then %zd", total, r);
		for (ssize_t j = 0; j < r; j++)
			sum += buf[j];
		total += r;
	}
	uint32_t theirs;
	CHECK_EQ(recv(sv[0], &theirs, 4, MSG_WAITALL), 4);
	CHECK_EQ(sum, theirs);
	CHECK_EQ(read(sv[0], buf, 1), 0);
	int status;
	waitpid(pid, &status, 0);
	CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	close(sv[0]);
	return 1;
}

int main(void)
{
	/* The /proc links are checked: mount procfs where /init did not. */
	if (access("/proc/self/fd", F_OK) != 0) {
		mkdir("/proc", 0555);
		mount("proc", "/proc", "proc", 0, NULL);
	}
	static const struct test tests[] = {
		{ "socket: families, types, flags and protocols", test_socket_errnos },
		{ "socketpair: data both ways, fstat S_IFSOCK, /proc fd link, ENXIO, ESPIPE, ENOTSOCK", test_socketpair_basics },
		{ "EOF, EPIPE and SIGPIPE, MSG_NOSIGNAL, ECONNRESET; datagram ECONNREFUSED then ENOTCONN", test_eof_epipe },
		{ "poll and epoll readiness: POLLIN, POLLOUT, POLLRDHUP, POLLHUP", test_poll_states },
		{ "shutdown: SHUT_WR, SHUT_RD, EINVAL", test_shutdown },
		{ "MSG_PEEK, MSG_DONTWAIT, MSG_WAITALL, FIONREAD, datagram and seqpacket boundaries, MSG_TRUNC", test_flags_and_boundaries },
		{ "SO_SNDBUF: a full buffer blocks (EAGAIN, SO_SNDTIMEO), no POLLOUT; EMSGSIZE", test_buffer_limits },
		{ "SO_RCVTIMEO, EDOM; EINTR and SA_RESTART", test_timeouts_and_signals },
		{ "bind to a path: S_IFSOCK inode, EADDRINUSE, EINVAL, ENOENT, ECONNREFUSED", test_bind_path },
		{ "bad address lengths and pointers: EINVAL, EFAULT, ENOTSOCK", test_bad_addresses },
		{ "listen, connect, accept4: flags, names, SO_PEERCRED, EISCONN, EPROTOTYPE, ECONNRESET", test_listen_connect_accept },
		{ "listen backlog (EAGAIN), seqpacket records, ENOTCONN", test_backlog },
		{ "abstract names and autobind", test_abstract_and_autobind },
		{ "datagram addresses: sendto, recvfrom, connect, EPERM, AF_UNSPEC", test_datagram_addresses },
		{ "datagram receive queue limit: EAGAIN", test_dgram_queue_limit },
		{ "SCM_RIGHTS: passing descriptors, MSG_CMSG_CLOEXEC, MSG_CTRUNC, errnos", test_scm_rights },
		{ "SCM_CREDENTIALS and SO_PASSCRED", test_scm_credentials },
		{ "socket options: SO_TYPE, SO_DOMAIN, SO_PEERCRED, errnos", test_sockopts },
		{ "bad pointers: EFAULT, EMSGSIZE, ENOBUFS, nothing consumed", test_bad_pointers },
		{ "sendmmsg and recvmmsg", test_mmsg },
		{ "SCM_RIGHTS: ETOOMANYREFS past RLIMIT_NOFILE descriptors in flight, EINVAL past 253", test_inflight_limit },
		{ "a socket ring in flight is collected", test_garbage_collector },
		{ "ping-pong and 1 MiB between processes", test_ping_pong },
	};
	return run_tests(tests, TEST_COUNT(tests));
}
