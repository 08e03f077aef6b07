/*
 * threads.c - POSIX threads on the kernel's thread groups and futexes: thread identity,
 * mutexes, condition variables with timeouts, barriers, semaphores, thread-local storage,
 * pthread_kill, process-directed signals (taken once, by a thread that does not block
 * them; queued real-time instances each taken once), pidfd_open of a non-leader thread,
 * cancellation, detached threads, many threads, threads exiting while others join,
 * exit and exit_group, signals to a whole process, and the futex system call itself
 * (values, timeouts, bitsets, requeue, wake-op, bad addresses). What qemu-aarch64 cannot
 * judge (execve from a thread, robust futexes) is in threadexec.c.
 *
 * Output depends on nothing the scheduler decides: threads report through memory that the
 * main thread checks after joining them. Child processes report through exit statuses.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <limits.h>
#include <linux/futex.h>
#include <pthread.h>
#include <sched.h>
#include <semaphore.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "tap.h"

static long futex(void *uaddr, int op, unsigned val, const struct timespec *ts, void *uaddr2,
		  unsigned val3)
{
	return syscall(SYS_futex, uaddr, op, val, ts, uaddr2, val3);
}

static pid_t gettid_(void)
{
	return (pid_t)syscall(SYS_gettid);
}

static void sleep_ms(int ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };

	while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
		;
}

/* --- identity ------------------------------------------------------------------------ */

static pid_t thread_pid, thread_tid;

static void *identity_thread(void *arg)
{
	(void)arg;
	thread_pid = getpid();
	thread_tid = gettid_();
	return (void *)42;
}

static int test_identity(void)
{
	pthread_t t;
	void *ret;

	if (pthread_create(&t, NULL, identity_thread, NULL) != 0)
		return fail("pthread_create failed");
	if (pthread_join(t, &ret) != 0)
		return fail("pthread_join failed");
	if (ret != (void *)42)
		return fail("join returned %p", ret);
	if (thread_pid != getpid())
		return fail("getpid differs in the thread");
	if (thread_tid == getpid() || thread_tid <= 0)
		return fail("the thread's tid is not its own");
	if (gettid_() != getpid())
		return fail("the main thread's tid is not the pid");
	return 1;
}

/* --- mutex --------------------------------------------------------------------------- */

#define MUTEX_THREADS 8
#define MUTEX_ROUNDS 20000
static pthread_mutex_t counter_lock = PTHREAD_MUTEX_INITIALIZER;
static long counter;

static void *mutex_thread(void *arg)
{
	(void)arg;
	for (int i = 0; i < MUTEX_ROUNDS; i++) {
		pthread_mutex_lock(&counter_lock);
		long v = counter;
		if (i % 1000 == 0)
			sched_yield(); /* hold the lock across a switch now and then */
		counter = v + 1;
		pthread_mutex_unlock(&counter_lock);
	}
	return NULL;
}

static int test_mutex(void)
{
	pthread_t t[MUTEX_THREADS];

	counter = 0;
	for (int i = 0; i < MUTEX_THREADS; i++)
		if (pthread_create(&t[i], NULL, mutex_thread, NULL) != 0)
			return fail("pthread_create %d failed", i);
	for (int i = 0; i < MUTEX_THREADS; i++)
		pthread_join(t[i], NULL);
	if (counter != (long)MUTEX_THREADS * MUTEX_ROUNDS)
		return fail("counter %ld, want %ld", counter, (long)MUTEX_THREADS * MUTEX_ROUNDS);
	return 1;
}

/* --- condition variables ------------------------------------------------------------- */

static pthread_mutex_t cv_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t cv = PTHREAD_COND_INITIALIZER;
static int cv_ready, cv_woken;

static void *cv_waiter(void *arg)
{
	(void)arg;
	pthread_mutex_lock(&cv_lock);
	while (!cv_ready)
		pthread_cond_wait(&cv, &cv_lock);
	cv_woken++;
	pthread_mutex_unlock(&cv_lock);
	return NULL;
}

static int test_cond_broadcast(void)
{
	pthread_t t[5];

	cv_ready = cv_woken = 0;
	for (int i = 0; i < 5; i++)
		pthread_create(&t[i], NULL, cv_waiter, NULL);
	sleep_ms(20);
	pthread_mutex_lock(&cv_lock);
	cv_ready = 1;
	pthread_cond_broadcast(&cv);
	pthread_mutex_unlock(&cv_lock);
	for (int i = 0; i < 5; i++)
		pthread_join(t[i], NULL);
	if (cv_woken != 5)
		return fail("%d of 5 waiters woke", cv_woken);
	return 1;
}

static int test_cond_timedwait(void)
{
	pthread_condattr_t attr;
	pthread_cond_t c;
	struct timespec before, deadline, after;
	int rc;

	/* Monotonic clock: FUTEX_WAIT_BITSET with an absolute time. */
	pthread_condattr_init(&attr);
	pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
	pthread_cond_init(&c, &attr);
	clock_gettime(CLOCK_MONOTONIC, &before);
	deadline = before;
	deadline.tv_nsec += 50 * 1000000L;
	if (deadline.tv_nsec >= 1000000000L) {
		deadline.tv_sec++;
		deadline.tv_nsec -= 1000000000L;
	}
	pthread_mutex_lock(&cv_lock);
	rc = pthread_cond_timedwait(&c, &cv_lock, &deadline);
	pthread_mutex_unlock(&cv_lock);
	clock_gettime(CLOCK_MONOTONIC, &after);
	if (rc != ETIMEDOUT)
		return fail("monotonic timedwait returned %d", rc);
	if (after.tv_sec < deadline.tv_sec ||
	    (after.tv_sec == deadline.tv_sec && after.tv_nsec < deadline.tv_nsec))
		return fail("timed out before the deadline");
	/* Realtime clock (the default): FUTEX_CLOCK_REALTIME. */
	pthread_cond_destroy(&c);
	pthread_cond_init(&c, NULL);
	clock_gettime(CLOCK_REALTIME, &deadline);
	deadline.tv_nsec += 30 * 1000000L;
	if (deadline.tv_nsec >= 1000000000L) {
		deadline.tv_sec++;
		deadline.tv_nsec -= 1000000000L;
	}
	pthread_mutex_lock(&cv_lock);
	rc = pthread_cond_timedwait(&c, &cv_lock, &deadline);
	pthread_mutex_unlock(&cv_lock);
	if (rc != ETIMEDOUT)
		return fail("realtime timedwait returned %d", rc);
	pthread_cond_destroy(&c);
	return 1;
}

static int signalled_flag;
static void *cv_signaller(void *arg)
{
	(void)arg;
	sleep_ms(20);
	pthread_mutex_lock(&cv_lock);
	signalled_flag = 1;
	pthread_cond_signal(&cv);
	pthread_mutex_unlock(&cv_lock);
	return NULL;
}

static int test_cond_timedwait_signalled(void)
{
	pthread_t t;
	struct timespec deadline;
	int rc = 0;

	signalled_flag = 0;
	clock_gettime(CLOCK_REALTIME, &deadline);
	deadline.tv_sec += 10;
	pthread_create(&t, NULL, cv_signaller, NULL);
	pthread_mutex_lock(&cv_lock);
	while (!signalled_flag && rc == 0)
		rc = pthread_cond_timedwait(&cv, &cv_lock, &deadline);
	pthread_mutex_unlock(&cv_lock);
	pthread_join(t, NULL);
	if (rc != 0 || !signalled_flag)
		return fail("timedwait returned %d before the signal", rc);
	return 1;
}

/* --- barriers and semaphores --------------------------------------------------------- */

static pthread_barrier_t barrier;
static atomic_int serial_count, passed_count;

static void *barrier_thread(void *arg)
{
	(void)arg;
	for (int round = 0; round < 10; round++) {
		int rc = pthread_barrier_wait(&barrier);
		if (rc == PTHREAD_BARRIER_SERIAL_THREAD)
			atomic_fetch_add(&serial_count, 1);
		else if (rc == 0)
			atomic_fetch_add(&passed_count, 1);
	}
	return NULL;
}

static int test_barrier(void)
{
	pthread_t t[4];

	atomic_store(&serial_count, 0);
	atomic_store(&passed_count, 0);
	pthread_barrier_init(&barrier, NULL, 4);
	for (int i = 0; i < 4; i++)
		pthread_create(&t[i], NULL, barrier_thread, NULL);
	for (int i = 0; i < 4; i++)
		pthread_join(t[i], NULL);
	pthread_barrier_destroy(&barrier);
	if (atomic_load(&serial_count) != 10 || atomic_load(&passed_count) != 30)
		return fail("serial %d passed %d, want 10 and 30", atomic_load(&serial_count),
			    atomic_load(&passed_count));
	return 1;
}

static sem_t sem_items, sem_done;
static int sem_sum;

static void *sem_consumer(void *arg)
{
	(void)arg;
	for (int i = 0; i < 100; i++) {
		sem_wait(&sem_items);
		sem_sum++;
	}
	sem_post(&sem_done);
	return NULL;
}

static int test_semaphore(void)
{
	pthread_t t;
	struct timespec deadline;
	int rc;

	sem_init(&sem_items, 0, 0);
	sem_init(&sem_done, 0, 0);
	sem_sum = 0;
	pthread_create(&t, NULL, sem_consumer, NULL);
	for (int i = 0; i < 100; i++) {
		sem_post(&sem_items);
		if (i % 10 == 0)
			sched_yield();
	}
	sem_wait(&sem_done);
	pthread_join(t, NULL);
	if (sem_sum != 100)
		return fail("consumed %d of 100", sem_sum);
	clock_gettime(CLOCK_REALTIME, &deadline);
	deadline.tv_nsec += 20 * 1000000L;
	if (deadline.tv_nsec >= 1000000000L) {
		deadline.tv_sec++;
		deadline.tv_nsec -= 1000000000L;
	}
	rc = sem_timedwait(&sem_items, &deadline);
	if (rc != -1 || errno != ETIMEDOUT)
		return fail("sem_timedwait on an empty semaphore: rc %d errno %d", rc, errno);
	sem_destroy(&sem_items);
	sem_destroy(&sem_done);
	return 1;
}

/* --- thread-local storage ------------------------------------------------------------ */

static __thread int tls_value = 7;
static __thread char tls_buf[64];
static int tls_seen[4];

static void *tls_thread(void *arg)
{
	int id = (int)(intptr_t)arg;

	if (tls_value != 7 || tls_buf[0] != 0)
		return (void *)1;
	tls_value = 100 + id;
	snprintf(tls_buf, sizeof(tls_buf), "thread %d", id);
	sleep_ms(5);
	tls_seen[id] = tls_value;
	char want[64];
	snprintf(want, sizeof(want), "thread %d", id);
	return (void *)(intptr_t)(strcmp(tls_buf, want) != 0);
}

static int test_tls(void)
{
	pthread_t t[4];
	void *ret;
	int bad = 0;

	tls_value = 1;
	for (int i = 0; i < 4; i++)
		pthread_create(&t[i], NULL, tls_thread, (void *)(intptr_t)i);
	for (int i = 0; i < 4; i++) {
		pthread_join(t[i], &ret);
		bad |= ret != NULL;
	}
	if (bad)
		return fail("a thread saw another's TLS");
	for (int i = 0; i < 4; i++)
		if (tls_seen[i] != 100 + i)
			return fail("thread %d kept %d", i, tls_seen[i]);
	if (tls_value != 1)
		return fail("the main thread's TLS changed to %d", tls_value);
	return 1;
}

/* --- pthread_kill and process-directed signals --------------------------------------- */

static volatile pid_t handler_tid;
static volatile int handler_count;

static void usr1_handler(int sig)
{
	(void)sig;
	handler_tid = gettid_();
	handler_count++;
}

static atomic_int target_go;
static pid_t target_tid;

static void *signal_target(void *arg)
{
	(void)arg;
	target_tid = gettid_();
	atomic_store(&target_go, 1);
	while (atomic_load(&target_go) != 2)
		sleep_ms(1);
	return NULL;
}

static int test_pthread_kill(void)
{
	pthread_t t;
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = usr1_handler;
	sigaction(SIGUSR1, &sa, NULL);
	handler_tid = 0;
	handler_count = 0;
	atomic_store(&target_go, 0);
	pthread_create(&t, NULL, signal_target, NULL);
	while (atomic_load(&target_go) != 1)
		sleep_ms(1);
	if (pthread_kill(t, SIGUSR1) != 0)
		return fail("pthread_kill failed");
	for (int i = 0; i < 2000 && handler_count == 0; i++)
		sleep_ms(1);
	atomic_store(&target_go, 2);
	pthread_join(t, NULL);
	signal(SIGUSR1, SIG_DFL);
	if (handler_count != 1)
		return fail("handler ran %d times", handler_count);
	if (handler_tid != target_tid)
		return fail("the handler ran in another thread");
	return 1;
}

static int test_tgkill_errors(void)
{
	pthread_t t;
	pid_t tid;

	atomic_store(&target_go, 0);
	pthread_create(&t, NULL, signal_target, NULL);
	while (atomic_load(&target_go) != 1)
		sleep_ms(1);
	tid = target_tid;
	errno = 0;
	if (syscall(SYS_tgkill, getpid(), tid, 0) != 0)
		return fail("tgkill(pid, tid, 0): %s", errno_name(errno));
	if (syscall(SYS_tgkill, getpid() + 100000, tid, 0) != -1 || errno != ESRCH)
		return fail("tgkill with the wrong tgid: %s", errno_name(errno));
	if (syscall(SYS_tgkill, 0, tid, 0) != -1 || errno != EINVAL)
		return fail("tgkill with tgid 0: %s", errno_name(errno));
	if (kill(tid, 0) != 0)
		return fail("kill(tid, 0) of a live thread: %s", errno_name(errno));
	atomic_store(&target_go, 2);
	pthread_join(t, NULL);
	/* The thread is gone once joined: its TID names nothing. */
	for (int i = 0; i < 100 && syscall(SYS_tgkill, getpid(), tid, 0) == 0; i++)
		sleep_ms(1);
	if (syscall(SYS_tgkill, getpid(), tid, 0) != -1 || errno != ESRCH)
		return fail("tgkill of an ended thread: %s", errno_name(errno));
	return 1;
}

/* A process-directed signal goes to a thread that does not block it. */
static void *unblocked_target(void *arg)
{
	sigset_t set;

	(void)arg;
	sigemptyset(&set);
	sigaddset(&set, SIGUSR1);
	pthread_sigmask(SIG_UNBLOCK, &set, NULL);
	target_tid = gettid_();
	atomic_store(&target_go, 1);
	while (handler_count == 0)
		sleep_ms(1);
	return NULL;
}

static int test_kill_picks_unblocked_thread(void)
{
	pthread_t t;
	sigset_t set;
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = usr1_handler;
	sigaction(SIGUSR1, &sa, NULL);
	handler_tid = 0;
	handler_count = 0;
	sigemptyset(&set);
	sigaddset(&set, SIGUSR1);
	pthread_sigmask(SIG_BLOCK, &set, NULL);
	atomic_store(&target_go, 0);
	pthread_create(&t, NULL, unblocked_target, NULL);
	while (atomic_load(&target_go) != 1)
		sleep_ms(1);
	kill(getpid(), SIGUSR1);
	pthread_join(t, NULL);
	pthread_sigmask(SIG_UNBLOCK, &set, NULL);
	signal(SIGUSR1, SIG_DFL);
	if (handler_count != 1)
		return fail("handler ran %d times", handler_count);
	if (handler_tid != target_tid)
		return fail("kill() ran the handler in a thread that blocks the signal");
	return 1;
}

/*
 * A process-directed signal is taken once, however many threads could take it: four
 * threads make system calls in a loop (each return to user space looks at the pending
 * signals), the main thread blocks the signal and sends it 2000 times, one at a time.
 */
static atomic_int once_count, once_stop;

static void once_handler(int sig)
{
	(void)sig;
	atomic_fetch_add(&once_count, 1);
}

static void *syscall_spinner(void *arg)
{
	(void)arg;
	while (!atomic_load(&once_stop))
		getppid();
	return NULL;
}

static int test_process_signal_taken_once(void)
{
	enum { THREADS = 4, SIGNALS = 2000 };
	pthread_t t[THREADS];
	struct sigaction sa;
	sigset_t set;
	int sent = 0, stuck = 0;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = once_handler;
	sigaction(SIGUSR2, &sa, NULL);
	atomic_store(&once_count, 0);
	atomic_store(&once_stop, 0);
	for (int i = 0; i < THREADS; i++)
		pthread_create(&t[i], NULL, syscall_spinner, NULL);
	/* Blocked here only (the threads were made with it unblocked). */
	sigemptyset(&set);
	sigaddset(&set, SIGUSR2);
	pthread_sigmask(SIG_BLOCK, &set, NULL);
	for (; sent < SIGNALS && !stuck; sent++) {
		kill(getpid(), SIGUSR2);
		/* Wait until it is taken, so the next is a new signal, not a merged one. */
		for (int spins = 0; atomic_load(&once_count) <= sent; spins++) {
			if (spins == 2000) {
				stuck = 1;
				break;
			}
			sched_yield();
			if (spins > 100)
				sleep_ms(1);
		}
	}
	sleep_ms(20);
	atomic_store(&once_stop, 1);
	for (int i = 0; i < THREADS; i++)
		pthread_join(t[i], NULL);
	pthread_sigmask(SIG_UNBLOCK, &set, NULL);
	signal(SIGUSR2, SIG_DFL);
	if (stuck)
		return fail("signal %d of %d was never taken", sent, SIGNALS);
	if (atomic_load(&once_count) != SIGNALS)
		return fail("%d signals sent one at a time ran the handler %d times", SIGNALS,
			    atomic_load(&once_count));
	return 1;
}

static atomic_int rt_count;
static atomic_long rt_sum;

static void rt_handler(int sig, siginfo_t *si, void *uc)
{
	(void)sig;
	(void)uc;
	atomic_fetch_add(&rt_sum, si->si_value.sival_int);
	atomic_fetch_add(&rt_count, 1);
}

/* 500 instances of a real-time signal queued at once to a process with 4 threads able to
 * take them: each is taken exactly once (the handler sees every si_value once). */
static int test_rt_queue_taken_once(void)
{
	enum { THREADS = 4, SIGNALS = 500 };
	pthread_t t[THREADS];
	struct sigaction sa;
	sigset_t set;
	long want = 0;
	int spins = 0;

	memset(&sa, 0, sizeof(sa));
	sa.sa_sigaction = rt_handler;
	sa.sa_flags = SA_SIGINFO;
	sigaction(SIGRTMIN + 2, &sa, NULL);
	atomic_store(&rt_count, 0);
	atomic_store(&rt_sum, 0);
	atomic_store(&once_stop, 0);
	for (int i = 0; i < THREADS; i++)
		pthread_create(&t[i], NULL, syscall_spinner, NULL);
	sigemptyset(&set);
	sigaddset(&set, SIGRTMIN + 2);
	pthread_sigmask(SIG_BLOCK, &set, NULL);
	for (int i = 1; i <= SIGNALS; i++) {
		if (sigqueue(getpid(), SIGRTMIN + 2, (union sigval){ .sival_int = i }) != 0)
			return fail("sigqueue %d: %s", i, errno_name(errno));
		want += i;
	}
	while (atomic_load(&rt_count) < SIGNALS && spins++ < 4000) {
		sched_yield();
		if (spins > 100)
			sleep_ms(1);
	}
	sleep_ms(20);
	atomic_store(&once_stop, 1);
	for (int i = 0; i < THREADS; i++)
		pthread_join(t[i], NULL);
	pthread_sigmask(SIG_UNBLOCK, &set, NULL);
	signal(SIGRTMIN + 2, SIG_DFL);
	if (atomic_load(&rt_count) != SIGNALS || atomic_load(&rt_sum) != want)
		return fail("%d instances ran the handler %d times (values %s)", SIGNALS,
			    atomic_load(&rt_count), atomic_load(&rt_sum) == want ? "all" : "not each once");
	return 1;
}

static int pidfd_ready[2], pidfd_go[2];
static atomic_int pidfd_helper_tid;

static void *pidfd_helper(void *arg)
{
	char c;

	(void)arg;
	atomic_store(&pidfd_helper_tid, (int)syscall(SYS_gettid));
	(void)write(pidfd_ready[1], "x", 1);
	(void)read(pidfd_go[0], &c, 1);
	return NULL;
}

/* pidfd_open names processes: a thread that is not the leader is EINVAL (Linux 6.1; later
 * kernels with PIDFD_THREAD say ENOENT, which is why this is judged here, on Debian's
 * kernel, and not in waitidtest under qemu-aarch64). */
static int test_pidfd_open_thread(void)
{
	pthread_t t;
	long ret;
	int err;
	char c;

	if (pipe(pidfd_ready) != 0 || pipe(pidfd_go) != 0)
		return fail("pipe");
	pthread_create(&t, NULL, pidfd_helper, NULL);
	(void)read(pidfd_ready[0], &c, 1);
	ret = syscall(SYS_pidfd_open, atomic_load(&pidfd_helper_tid), 0);
	err = errno;
	(void)write(pidfd_go[1], "y", 1);
	pthread_join(t, NULL);
	close(pidfd_ready[0]);
	close(pidfd_ready[1]);
	close(pidfd_go[0]);
	close(pidfd_go[1]);
	if (ret != -1 || err != EINVAL)
		return fail("ret %ld errno %s, want EINVAL", ret, errno_name(err));
	return 1;
}

/* --- cancellation, detached threads, many threads ------------------------------------ */

static void *cancel_thread(void *arg)
{
	(void)arg;
	for (;;)
		pause(); /* a cancellation point */
	return NULL;
}

static int test_cancel(void)
{
	pthread_t t;
	void *ret;

	pthread_create(&t, NULL, cancel_thread, NULL);
	sleep_ms(10);
	if (pthread_cancel(t) != 0)
		return fail("pthread_cancel failed");
	pthread_join(t, &ret);
	if (ret != PTHREAD_CANCELED)
		return fail("join returned %p, not PTHREAD_CANCELED", ret);
	return 1;
}

static atomic_int detached_done;

static void *detached_thread(void *arg)
{
	(void)arg;
	atomic_fetch_add(&detached_done, 1);
	return NULL;
}

static int test_detached(void)
{
	pthread_attr_t attr;
	pthread_t t;

	atomic_store(&detached_done, 0);
	pthread_attr_init(&attr);
	pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
	for (int i = 0; i < 20; i++)
		if (pthread_create(&t, &attr, detached_thread, NULL) != 0)
			return fail("pthread_create %d failed", i);
	pthread_attr_destroy(&attr);
	for (int i = 0; i < 5000 && atomic_load(&detached_done) < 20; i++)
		sleep_ms(1);
	if (atomic_load(&detached_done) != 20)
		return fail("%d of 20 detached threads ran", atomic_load(&detached_done));
	return 1;
}

#define MANY 300
static pthread_mutex_t many_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t many_cv = PTHREAD_COND_INITIALIZER;
static int many_started, many_release;

static void *many_thread(void *arg)
{
	pthread_mutex_lock(&many_lock);
	many_started++;
	pthread_cond_broadcast(&many_cv);
	while (!many_release)
		pthread_cond_wait(&many_cv, &many_lock);
	pthread_mutex_unlock(&many_lock);
	return arg;
}

static int test_many_threads(void)
{
	static pthread_t t[MANY];
	pthread_attr_t attr;
	void *ret;

	many_started = many_release = 0;
	pthread_attr_init(&attr);
	pthread_attr_setstacksize(&attr, 64 * 1024);
	for (int i = 0; i < MANY; i++) {
		int rc = pthread_create(&t[i], &attr, many_thread, (void *)(intptr_t)i);
		if (rc != 0)
			return fail("pthread_create of live thread %d: %s", i + 1, errno_name(rc));
	}
	pthread_attr_destroy(&attr);
	pthread_mutex_lock(&many_lock);
	while (many_started < MANY)
		pthread_cond_wait(&many_cv, &many_lock);
	many_release = 1;
	pthread_cond_broadcast(&many_cv);
	pthread_mutex_unlock(&many_lock);
	for (int i = 0; i < MANY; i++) {
		pthread_join(t[i], &ret);
		if (ret != (void *)(intptr_t)i)
			return fail("thread %d returned %p", i, ret);
	}
	return 1;
}

/* Threads ending while others join them, in a chain: each joins the one before it. */
#define CHAIN 32
static pthread_t chain[CHAIN];
static pthread_barrier_t chain_barrier;

static void *chain_thread(void *arg)
{
	int i = (int)(intptr_t)arg;
	void *ret = (void *)0;

	pthread_barrier_wait(&chain_barrier);
	if (i > 0)
		pthread_join(chain[i - 1], &ret);
	return (void *)((intptr_t)ret + 1);
}

static int test_join_chain(void)
{
	void *ret;

	pthread_barrier_init(&chain_barrier, NULL, CHAIN + 1);
	for (int i = 0; i < CHAIN; i++)
		pthread_create(&chain[i], NULL, chain_thread, (void *)(intptr_t)i);
	pthread_barrier_wait(&chain_barrier);
	pthread_join(chain[CHAIN - 1], &ret);
	pthread_barrier_destroy(&chain_barrier);
	if (ret != (void *)(intptr_t)CHAIN)
		return fail("chain returned %ld", (long)(intptr_t)ret);
	return 1;
}

/* --- exit, exit_group and signals in child processes --------------------------------- */

static void *sleeper(void *arg)
{
	(void)arg;
	for (;;)
		sleep_ms(1000);
	return NULL;
}

static void *exit_later(void *arg)
{
	sleep_ms(30);
	exit((int)(intptr_t)arg); /* exit_group: ends the sleeping threads too */
	return NULL;
}

static void *return_later(void *arg)
{
	(void)arg;
	sleep_ms(30);
	return NULL;
}

/* Run `body` in a child process; returns its wait status. */
static int in_child(void (*body)(void))
{
	int status;
	pid_t pid = fork();

	if (pid == 0) {
		body();
		_exit(99);
	}
	if (waitpid(pid, &status, 0) != pid)
		return -1;
	return status;
}

static void child_exit_group(void)
{
	pthread_t t;

	for (int i = 0; i < 3; i++)
		pthread_create(&t, NULL, sleeper, NULL);
	pthread_create(&t, NULL, exit_later, (void *)7);
	for (;;)
		sleep_ms(1000);
}

static void child_main_exits_first(void)
{
	pthread_t t;

	pthread_create(&t, NULL, return_later, NULL);
	/* The main thread ends alone; the process lives on until the other thread ends. */
	pthread_exit(NULL);
}

static void child_main_exits_then_exit_group(void)
{
	pthread_t t;

	pthread_create(&t, NULL, exit_later, (void *)5);
	pthread_exit(NULL);
}

static void child_killed_by_signal(void)
{
	pthread_t t;

	for (int i = 0; i < 3; i++)
		pthread_create(&t, NULL, sleeper, NULL);
	sleep_ms(10);
	/* Default action of SIGTERM, taken in whichever thread: the whole process dies. */
	kill(getpid(), SIGTERM);
	for (;;)
		sleep_ms(1000);
}

static void *raise_segv_later(void *arg)
{
	(void)arg;
	sleep_ms(10);
	pthread_kill(pthread_self(), SIGSEGV);
	for (;;)
		sleep_ms(1000);
	return NULL;
}

static void child_thread_directed_fatal(void)
{
	pthread_t t;

	pthread_create(&t, NULL, sleeper, NULL);
	pthread_create(&t, NULL, raise_segv_later, NULL);
	for (;;)
		sleep_ms(1000);
}

static int test_exit_group(void)
{
	int st = in_child(child_exit_group);

	if (!WIFEXITED(st) || WEXITSTATUS(st) != 7)
		return fail("status %#x, want exit 7", st);
	return 1;
}

static int test_main_thread_exits_first(void)
{
	int st = in_child(child_main_exits_first);

	if (!WIFEXITED(st) || WEXITSTATUS(st) != 0)
		return fail("status %#x, want exit 0", st);
	st = in_child(child_main_exits_then_exit_group);
	if (!WIFEXITED(st) || WEXITSTATUS(st) != 5)
		return fail("status %#x, want exit 5", st);
	return 1;
}

static int test_fatal_signal_kills_group(void)
{
	int st = in_child(child_killed_by_signal);

	if (!WIFSIGNALED(st) || WTERMSIG(st) != SIGTERM)
		return fail("status %#x, want SIGTERM", st);
	st = in_child(child_thread_directed_fatal);
	if (!WIFSIGNALED(st) || WTERMSIG(st) != SIGSEGV)
		return fail("status %#x, want SIGSEGV", st);
	return 1;
}

/* SIGSTOP stops every thread; SIGCONT continues them; SIGKILL ends them all. */
static void child_counts(void)
{
	pthread_t t;

	pthread_create(&t, NULL, sleeper, NULL);
	pthread_create(&t, NULL, sleeper, NULL);
	for (;;)
		sleep_ms(1000);
}

static int test_stop_cont_kill_group(void)
{
	int st;
	pid_t pid = fork();

	if (pid == 0) {
		child_counts();
		_exit(99);
	}
	sleep_ms(20);
	kill(pid, SIGSTOP);
	if (waitpid(pid, &st, WUNTRACED) != pid || !WIFSTOPPED(st) || WSTOPSIG(st) != SIGSTOP)
		return fail("stop: status %#x", st);
	kill(pid, SIGCONT);
	if (waitpid(pid, &st, WCONTINUED) != pid || !WIFCONTINUED(st))
		return fail("continue: status %#x", st);
	kill(pid, SIGKILL);
	if (waitpid(pid, &st, 0) != pid || !WIFSIGNALED(st) || WTERMSIG(st) != SIGKILL)
		return fail("kill: status %#x", st);
	if (kill(pid, 0) != -1 || errno != ESRCH)
		return fail("the reaped process still answers kill(pid, 0)");
	return 1;
}

/* A thread's child is the process's child: another thread can wait for it. */
static pid_t forked_in_thread;
static void *fork_in_thread(void *arg)
{
	(void)arg;
	forked_in_thread = fork();
	if (forked_in_thread == 0)
		_exit(3);
	return NULL;
}

static int test_wait_for_child_of_other_thread(void)
{
	pthread_t t;
	int st;

	pthread_create(&t, NULL, fork_in_thread, NULL);
	pthread_join(t, NULL);
	if (waitpid(forked_in_thread, &st, 0) != forked_in_thread)
		return fail("waitpid: %s", errno_name(errno));
	if (!WIFEXITED(st) || WEXITSTATUS(st) != 3)
		return fail("status %#x", st);
	return 1;
}

/* --- the futex system call ----------------------------------------------------------- */

static int test_futex_errors(void)
{
	static uint32_t word = 5;
	struct timespec ts = { 0, 1000000 };
	struct timespec bad = { 0, 1000000000L };
	char *page;

	errno = 0;
	if (futex(&word, FUTEX_WAIT_PRIVATE, 6, NULL, NULL, 0) != -1 || errno != EAGAIN)
		return fail("value mismatch: %s", errno_name(errno));
	if (futex(&word, FUTEX_WAIT_PRIVATE, 5, &ts, NULL, 0) != -1 || errno != ETIMEDOUT)
		return fail("timeout: errno %d", errno);
	if (futex(&word, FUTEX_WAIT_PRIVATE, 5, &bad, NULL, 0) != -1 || errno != EINVAL)
		return fail("bad timespec: %s", errno_name(errno));
	if (futex((char *)&word + 1, FUTEX_WAIT_PRIVATE, 5, &ts, NULL, 0) != -1 || errno != EINVAL)
		return fail("misaligned: %s", errno_name(errno));
	if (futex(&word, FUTEX_WAIT_BITSET_PRIVATE, 5, &ts, NULL, 0) != -1 || errno != EINVAL)
		return fail("zero bitset: %s", errno_name(errno));
	if (futex(&word, FUTEX_WAKE | FUTEX_CLOCK_REALTIME, 1, NULL, NULL, 0) != -1 ||
	    errno != ENOSYS)
		return fail("CLOCK_REALTIME with WAKE: %s", errno_name(errno));
	if (futex(&word, 99, 1, NULL, NULL, 0) != -1 || errno != ENOSYS)
		return fail("unknown op: %s", errno_name(errno));
	page = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	munmap(page, 4096);
	if (futex(page, FUTEX_WAIT_PRIVATE, 0, &ts, NULL, 0) != -1 || errno != EFAULT)
		return fail("unmapped wait: %s", errno_name(errno));
	if (futex(page, FUTEX_WAKE, 1, NULL, NULL, 0) != -1 || errno != EFAULT)
		return fail("unmapped shared wake: %s", errno_name(errno));
	if (futex(page, FUTEX_WAKE_PRIVATE, 1, NULL, NULL, 0) != 0)
		return fail("unmapped private wake: %s", errno_name(errno));
	if (futex(&word, FUTEX_WAKE_PRIVATE, 1, NULL, NULL, 0) != 0)
		return fail("wake with no waiters did not return 0");
	return 1;
}

static uint32_t fword, fword2;
static atomic_int fwaiting;

static void *futex_waiter(void *arg)
{
	unsigned bitset = (unsigned)(uintptr_t)arg;
	long rc;

	atomic_fetch_add(&fwaiting, 1);
	do
		rc = futex(&fword, FUTEX_WAIT_BITSET_PRIVATE, 0, NULL, NULL, bitset);
	while (rc == -1 && errno == EINTR);
	return (void *)rc;
}

/* Wait until `n` threads sleep in the kernel (state S in /proc/self/task/<tid>/stat is not
 * portable to qemu-aarch64, so settle for a generous pause after they announced themselves). */
static void wait_sleepers(int n)
{
	while (atomic_load(&fwaiting) < n)
		sleep_ms(1);
	sleep_ms(50);
}

static int test_futex_wake_bitset(void)
{
	pthread_t a, b;
	void *ra, *rb;
	long n;

	fword = 0;
	atomic_store(&fwaiting, 0);
	pthread_create(&a, NULL, futex_waiter, (void *)(uintptr_t)1);
	pthread_create(&b, NULL, futex_waiter, (void *)(uintptr_t)2);
	wait_sleepers(2);
	n = futex(&fword, FUTEX_WAKE_BITSET_PRIVATE, INT_MAX, NULL, NULL, 2);
	if (n != 1)
		return fail("bitset 2 woke %ld", n);
	pthread_join(b, &rb);
	n = futex(&fword, FUTEX_WAKE_PRIVATE, INT_MAX, NULL, NULL, 0);
	if (n != 1)
		return fail("wake all woke %ld", n);
	pthread_join(a, &ra);
	if (ra != NULL || rb != NULL)
		return fail("a waiter returned an error");
	return 1;
}

static void *futex_waiter2(void *arg)
{
	long rc;

	(void)arg;
	atomic_fetch_add(&fwaiting, 1);
	do
		rc = futex(&fword, FUTEX_WAIT_PRIVATE, 0, NULL, NULL, 0);
	while (rc == -1 && errno == EINTR);
	return (void *)rc;
}

static int test_futex_requeue(void)
{
	pthread_t t[4];
	long n;

	fword = 0;
	fword2 = 0;
	atomic_store(&fwaiting, 0);
	for (int i = 0; i < 4; i++)
		pthread_create(&t[i], NULL, futex_waiter2, NULL);
	wait_sleepers(4);
	errno = 0;
	if (futex(&fword, FUTEX_CMP_REQUEUE_PRIVATE, 1, (void *)2, &fword2, 1) != -1 ||
	    errno != EAGAIN)
		return fail("CMP_REQUEUE with the wrong value: %s", errno_name(errno));
	/* Wake one, move two to fword2: three accounted for. */
	n = futex(&fword, FUTEX_CMP_REQUEUE_PRIVATE, 1, (void *)2, &fword2, 0);
	if (n != 3)
		return fail("CMP_REQUEUE returned %ld", n);
	n = futex(&fword, FUTEX_WAKE_PRIVATE, INT_MAX, NULL, NULL, 0);
	if (n != 1)
		return fail("one waiter should be left on the first word, woke %ld", n);
	/* The requeued ones sleep on fword2 now; a plain REQUEUE moves them back. */
	n = futex(&fword2, FUTEX_REQUEUE_PRIVATE, 0, (void *)INT_MAX, &fword, 0);
	if (n != 2)
		return fail("REQUEUE returned %ld", n);
	n = futex(&fword, FUTEX_WAKE_PRIVATE, INT_MAX, NULL, NULL, 0);
	if (n != 2)
		return fail("the last wake woke %ld", n);
	for (int i = 0; i < 4; i++)
		pthread_join(t[i], NULL);
	return 1;
}

static int test_futex_wake_op(void)
{
	pthread_t a, b;
	long n;

	fword = 0;
	fword2 = 0;
	atomic_store(&fwaiting, 0);
	pthread_create(&a, NULL, futex_waiter2, NULL);
	pthread_create(&b, NULL, futex_waiter2, NULL);
	wait_sleepers(2);
	/* fword2 += 5, wake one on fword, and (old fword2 == 0) one on fword2: none there. */
	n = futex(&fword, FUTEX_WAKE_OP_PRIVATE, 1, (void *)1, &fword2,
		  FUTEX_OP(FUTEX_OP_ADD, 5, FUTEX_OP_CMP_EQ, 0));
	if (n != 1 || fword2 != 5)
		return fail("WAKE_OP: woke %ld, word %u", n, fword2);
	/* fword = 1 << 3 (a shifted argument); its old value 0 is < 1: wake one there. */
	n = futex(&fword2, FUTEX_WAKE_OP_PRIVATE, 1, (void *)1, &fword,
		  FUTEX_OP((FUTEX_OP_SET | FUTEX_OP_OPARG_SHIFT), 3, FUTEX_OP_CMP_LT, 1));
	if (n != 1 || fword != 8)
		return fail("WAKE_OP with shift: woke %ld, word %u", n, fword);
	pthread_join(a, NULL);
	pthread_join(b, NULL);
	fword = 0;
	errno = 0;
	if (futex(&fword, FUTEX_WAKE_OP_PRIVATE, 1, (void *)1, &fword2, 7u << 28) != -1 ||
	    errno != ENOSYS)
		return fail("bad op: %s", errno_name(errno));
	return 1;
}

/* A futex wait interrupted by a handler without SA_RESTART fails with EINTR. */
static void noop_handler(int sig)
{
	(void)sig;
}

static atomic_int eintr_result;
static void *eintr_waiter(void *arg)
{
	uint32_t w = 0;
	struct timespec ts = { 5, 0 };

	(void)arg;
	target_tid = gettid_();
	atomic_store(&target_go, 1);
	long rc = futex(&w, FUTEX_WAIT_PRIVATE, 0, &ts, NULL, 0);
	atomic_store(&eintr_result, rc == -1 ? errno : 0);
	return NULL;
}

static int test_futex_eintr(void)
{
	struct sigaction sa;
	pthread_t t;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = noop_handler;
	sigaction(SIGUSR2, &sa, NULL);
	atomic_store(&target_go, 0);
	pthread_create(&t, NULL, eintr_waiter, NULL);
	while (atomic_load(&target_go) != 1)
		sleep_ms(1);
	sleep_ms(50);
	pthread_kill(t, SIGUSR2);
	pthread_join(t, NULL);
	signal(SIGUSR2, SIG_DFL);
	if (atomic_load(&eintr_result) != EINTR)
		return fail("interrupted wait: errno %d", atomic_load(&eintr_result));
	return 1;
}

/* --- clone flags and robust lists ---------------------------------------------------- */

static int test_clone_einval(void)
{
	errno = 0;
	/* CLONE_THREAD without CLONE_SIGHAND, CLONE_SIGHAND without CLONE_VM. */
	if (syscall(SYS_clone, CLONE_THREAD | CLONE_VM, 0, 0, 0, 0) != -1 || errno != EINVAL)
		return fail("THREAD without SIGHAND: %s", errno_name(errno));
	if (syscall(SYS_clone, CLONE_SIGHAND, 0, 0, 0, 0) != -1 || errno != EINVAL)
		return fail("SIGHAND without VM: %s", errno_name(errno));
	return 1;
}

int main(void)
{
	static const struct test tests[] = {
		{ "threads share the pid and have their own tid; join returns the value", test_identity },
		{ "a mutex serialises 8 threads", test_mutex },
		{ "a condition variable broadcast wakes every waiter", test_cond_broadcast },
		{ "pthread_cond_timedwait times out (monotonic and realtime)", test_cond_timedwait },
		{ "pthread_cond_timedwait returns when signalled", test_cond_timedwait_signalled },
		{ "a barrier releases its threads together, one serial thread a round", test_barrier },
		{ "semaphores hand over 100 items; sem_timedwait times out", test_semaphore },
		{ "__thread variables are per thread", test_tls },
		{ "pthread_kill runs the handler in the target thread", test_pthread_kill },
		{ "tgkill: signal 0, wrong tgid (ESRCH), tgid 0 (EINVAL), ended thread (ESRCH)", test_tgkill_errors },
		{ "kill() to the process runs the handler in the thread that does not block it", test_kill_picks_unblocked_thread },
		{ "a process-directed signal runs its handler once, with 4 threads able to take it", test_process_signal_taken_once },
		{ "500 queued RT signals are each taken once, with 4 threads able to take them", test_rt_queue_taken_once },
		{ "pidfd_open of a thread that is not the leader is EINVAL", test_pidfd_open_thread },
		{ "pthread_cancel ends a thread in pause()", test_cancel },
		{ "detached threads run and go", test_detached },
		{ "300 threads live at once", test_many_threads },
		{ "32 threads each joining the one before", test_join_chain },
		{ "exit() in a thread ends every thread with its status", test_exit_group },
		{ "the main thread may end first; the process ends with its last thread", test_main_thread_exits_first },
		{ "a fatal signal kills every thread (process- and thread-directed)", test_fatal_signal_kills_group },
		{ "SIGSTOP, SIGCONT and SIGKILL act on the whole process", test_stop_cont_kill_group },
		{ "a child forked by a thread is waited for by another", test_wait_for_child_of_other_thread },
		{ "futex: EAGAIN, ETIMEDOUT, EINVAL, ENOSYS, EFAULT", test_futex_errors },
		{ "futex: WAKE_BITSET wakes only matching waiters", test_futex_wake_bitset },
		{ "futex: CMP_REQUEUE and REQUEUE move waiters", test_futex_requeue },
		{ "futex: WAKE_OP changes the second word and wakes on both", test_futex_wake_op },
		{ "futex: a handler without SA_RESTART interrupts a wait (EINTR)", test_futex_eintr },
		{ "clone: THREAD without SIGHAND and SIGHAND without VM are EINVAL", test_clone_einval },
	};

	return run_tests(tests, sizeof(tests) / sizeof(tests[0]));
}
