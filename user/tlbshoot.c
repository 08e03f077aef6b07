/*
 * tlbshoot.c - threads of one process keep using a page while the main thread unmaps it,
 * write-protects it or maps another page over it; afterwards every thread must see the
 * change at once (a TLB shootdown test: with the threads on other CPUs, a translation
 * left in one CPU's TLB would let a thread go on using the old page).
 *
 * Each of NTHREADS threads touches the page in a loop until the main thread, after its
 * munmap / mprotect / mmap(MAP_FIXED) returned, says so; then it accesses the page once
 * more. After munmap that access must fault (SIGSEGV, caught per thread with
 * sigsetjmp/siglongjmp); after mprotect(PROT_READ) a write must fault; after a MAP_FIXED
 * replacement a read must return the new page's contents. ROUNDS rounds of each. Only
 * verdicts and counts are printed.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <setjmp.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/mman.h>
#include <unistd.h>

#include "tap.h"

#define NTHREADS 4
#define ROUNDS 40

enum kind { UNMAP, PROTECT, REPLACE };

/* What the main thread publishes: the kind of round, its number, the page. */
static enum kind round_kind;
static volatile uint64_t *round_page;
static int round_no;	 /* a new round starts when this changes */
static int changing_no;	 /* == round_no once the change is about to begin */
static int changed_no;	 /* == round_no once the change has returned */
static int touched[NTHREADS]; /* == round_no once the thread used the page this round */
static int acked[NTHREADS];   /* == round_no once the thread made its last access */

/* What the threads found, summed over the rounds. */
static int faults[NTHREADS];    /* the final access faulted */
static int stale[NTHREADS];     /* it did not fault where it had to, or read old contents */

static __thread sigjmp_buf fault_jump;
static __thread volatile int expecting_fault;

static void on_segv(int sig)
{
	(void)sig;
	if (expecting_fault) {
		expecting_fault = 0;
		siglongjmp(fault_jump, 1);
	}
	_exit(99); /* a fault nobody expected: the program's own bug */
}

static int load(int *p)
{
	return __atomic_load_n(p, __ATOMIC_ACQUIRE);
}

static void store(int *p, int v)
{
	__atomic_store_n(p, v, __ATOMIC_RELEASE);
}

/* One last access of the page: a read (UNMAP, REPLACE) or a write (PROTECT). Returns 1 if it
 * faulted, and stores what a read returned in *value. */
static int last_access(enum kind kind, volatile uint64_t *page, int me, uint64_t *value)
{
	if (sigsetjmp(fault_jump, 1))
		return 1;
	expecting_fault = 1;
	if (kind == PROTECT)
		page[1 + me] = 0xdead;
	else
		*value = page[0];
	expecting_fault = 0;
	return 0;
}

static void *worker(void *arg)
{
	int me = (int)(intptr_t)arg;

	for (int r = 1; r <= 3 * ROUNDS; r++) {
		while (load(&round_no) != r)
			sched_yield();
		enum kind kind = round_kind;
		volatile uint64_t *page = round_page;
		uint64_t value = 0;

		/* Use the page (so this CPU has its translation) until the change begins. An
		 * access that races with the change may fault or see the new page: fine. */
		for (unsigned i = 0; load(&changing_no) != r; i++) {
			uint64_t seen;

			if (sigsetjmp(fault_jump, 1))
				break;
			expecting_fault = 1;
			seen = page[0];
			expecting_fault = 0;
			if (seen != (uint64_t)r && load(&changing_no) != r)
				stale[me]++;
			if (load(&touched[me]) != r)
				store(&touched[me], r);
			if (i % 64 == 63)
				sched_yield();
		}
		while (load(&changed_no) != r)
			sched_yield();
		if (last_access(kind, page, me, &value)) {
			faults[me]++;
			if (kind == REPLACE)
				stale[me]++; /* the new page is there: nothing may fault */
		} else if (kind == REPLACE) {
			if (value != (uint64_t)r + 1000)
				stale[me]++;
		} else {
			stale[me]++; /* unmapped or read-only, yet the access went through */
		}
		store(&acked[me], r);
	}
	return NULL;
}

static pthread_t threads[NTHREADS];
static int next_round;

/* Run ROUNDS rounds of `kind`; 1 if every thread saw every change. */
static int run_rounds(enum kind kind)
{
	int want_faults = kind == REPLACE ? 0 : NTHREADS * ROUNDS;
	int faults_before = 0, stale_before = 0;

	for (int t = 0; t < NTHREADS; t++) {
		faults_before += faults[t];
		stale_before += stale[t];
	}
	for (int i = 0; i < ROUNDS; i++) {
		int r = ++next_round;
		volatile uint64_t *page = mmap(NULL, 4096, PROT_READ | PROT_WRITE,
					       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

		if (page == MAP_FAILED)
			return fail("mmap: %s", errno_name(errno));
		page[0] = r;
		round_kind = kind;
		round_page = page;
		store(&round_no, r);
		for (int t = 0; t < NTHREADS; t++)
			while (load(&touched[t]) != r)
				sched_yield();
		store(&changing_no, r);
		if (kind == UNMAP) {
			munmap((void *)page, 4096);
		} else if (kind == PROTECT) {
			mprotect((void *)page, 4096, PROT_READ);
		} else {
			volatile uint64_t *fresh = mmap((void *)page, 4096, PROT_READ | PROT_WRITE,
							MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED,
							-1, 0);
			if (fresh != page)
				return fail("mmap MAP_FIXED: %s", errno_name(errno));
			/* Written through the new mapping only after it replaced the old one. */
			fresh[0] = r + 1000;
		}
		store(&changed_no, r);
		for (int t = 0; t < NTHREADS; t++)
			while (load(&acked[t]) != r)
				sched_yield();
		if (kind != UNMAP)
			munmap((void *)page, 4096);
	}
	int got_faults = -faults_before, got_stale = -stale_before;

	for (int t = 0; t < NTHREADS; t++) {
		got_faults += faults[t];
		got_stale += stale[t];
	}
	if (got_faults != want_faults || got_stale != 0)
		return fail("%d faults (expected %d), %d stale accesses", got_faults, want_faults,
			    got_stale);
	return 1;
}

static int test_start(void)
{
	struct sigaction sa = { .sa_handler = on_segv };

	sigemptyset(&sa.sa_mask);
	sa.sa_flags = SA_NODEFER;
	if (sigaction(SIGSEGV, &sa, NULL) != 0)
		return fail("sigaction");
	for (int t = 0; t < NTHREADS; t++)
		if (pthread_create(&threads[t], NULL, worker, (void *)(intptr_t)t) != 0)
			return fail("pthread_create");
	return 1;
}

static int test_unmap(void)
{
	return run_rounds(UNMAP);
}

static int test_protect(void)
{
	return run_rounds(PROTECT);
}

static int test_replace(void)
{
	return run_rounds(REPLACE);
}

static int test_join(void)
{
	for (int t = 0; t < NTHREADS; t++)
		if (pthread_join(threads[t], NULL) != 0)
			return fail("pthread_join");
	return 1;
}

int main(void)
{
	static const struct test tests[] = {
		{ "four threads that use one page", test_start },
		{ "after munmap every thread's next read faults", test_unmap },
		{ "after mprotect(PROT_READ) every thread's next write faults", test_protect },
		{ "after mmap(MAP_FIXED) every thread reads the new page", test_replace },
		{ "the threads end", test_join },
	};

	return run_tests(tests, TEST_COUNT(tests));
}
