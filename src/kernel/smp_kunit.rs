//! In-kernel tests that hammer shared structures from several kernel threads at once, so
//! that with several CPUs they run on several CPUs (run with `kunit.enable=1`): the page
//! allocator, a ticket spinlock, a wait-queue ping-pong, jiffies against the counter, and
//! `stop_machine`.
//!
//! With one CPU the threads interleave by preemption only, and the tests check the same
//! things less hard; each reports how many CPUs its threads ran on.

use alloc::vec::Vec;
use core::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};

use crate::arch::memory::{phys_to_virt, PAGE_SIZE};
use crate::arch::percpu::smp_processor_id;
use crate::kernel::kthread::{kthread_run, kthread_stop};
use crate::kernel::locking::SpinLock;
use crate::kernel::sched::wait::WaitQueueHead;
use crate::kernel::smp::num_online_cpus;
use crate::kernel::time::timer::msleep;
use crate::kernel::time::{jiffies, ktime_get_ns, HZ};
use crate::kunit::Test;
use crate::mm::pages::{alloc_pages, free_pages, nr_free_pages};
use crate::{kunit_assert, kunit_expect, kunit_test_suite};

/// How many threads each test starts: two per CPU, at least four.
fn nr_workers() -> usize {
    (2 * num_online_cpus()).clamp(4, MAX_WORKERS)
}

const MAX_WORKERS: usize = 16;

/// Bit `cpu` set for every CPU a worker of the running test was seen on.
static CPUS_SEEN: AtomicU64 = AtomicU64::new(0);
/// Workers of the running test that have finished their loop.
static FINISHED: AtomicUsize = AtomicUsize::new(0);
/// Problems the workers found (each one also logged).
static ERRORS: AtomicUsize = AtomicUsize::new(0);

fn note_cpu() {
    CPUS_SEEN.fetch_or(1 << smp_processor_id(), Ordering::Relaxed);
}

/// Woken by each worker as it finishes.
static FINISHED_WQ: WaitQueueHead = WaitQueueHead::new();

/// Count the calling worker as finished.
fn finish() {
    FINISHED.fetch_add(1, Ordering::Release);
    FINISHED_WQ.wake_up_all();
}

/// Start `n` workers running `f(i)`, wait for all of them to finish, and return how many
/// CPUs they ran on (0 if a thread could not be made).
fn run_workers(n: usize, f: fn(usize) -> i32, name: &str) -> u32 {
    CPUS_SEEN.store(0, Ordering::Relaxed);
    FINISHED.store(0, Ordering::Relaxed);
    ERRORS.store(0, Ordering::Relaxed);
    let threads: Vec<_> = (0..n)
        .filter_map(|i| kthread_run(f, i, name).ok())
        .collect();
    // Wait for the workers' own ends: a thread that kthread_stop reaches before it first
    // runs never runs its function at all (as in Linux).
    let started = threads.len();
    FINISHED_WQ.wait_event(|| FINISHED.load(Ordering::Acquire) >= started);
    for t in &threads {
        kthread_stop(t);
    }
    if started != n {
        return 0;
    }
    CPUS_SEEN.load(Ordering::Relaxed).count_ones()
}

/// Blocks each page-allocator worker keeps at once.
const LIVE_BLOCKS: usize = 8;
/// Allocations each page-allocator worker makes.
const ALLOC_ROUNDS: u64 = 3000;

/// The tag a worker writes into the first and last word of every page of a block it owns.
fn block_tag(worker: usize, round: u64, page: u64) -> u64 {
    0xa110_c000_0000_0000 | (worker as u64) << 40 | round << 8 | page
}

/// Check that every page of the block at `pa` still holds its tag, then free it.
fn check_and_free(worker: usize, round: u64, pa: u64, order: usize) {
    for page in 0..1u64 << order {
        let va = phys_to_virt(pa + page * PAGE_SIZE) as *const u64;
        let want = block_tag(worker, round, page);
        // SAFETY: the block is ours until freed below; the linear map reaches it.
        let (first, last) = unsafe { (va.read_volatile(), va.add(511).read_volatile()) };
        if first != want || last != want {
            ERRORS.fetch_add(1, Ordering::Relaxed);
            log::error!(
                "smp_stress: page {:#x} of worker {worker} holds {first:#x}/{last:#x}, not {want:#x}: \
                 handed out twice?",
                pa + page * PAGE_SIZE
            );
        }
    }
    free_pages(pa, order);
}

fn page_worker(worker: usize) -> i32 {
    let mut live: [(u64, u64, usize); LIVE_BLOCKS] = [(0, 0, 0); LIVE_BLOCKS];
    let mut seed = 0x9e37_79b9_7f4a_7c15u64 ^ worker as u64;
    for round in 0..ALLOC_ROUNDS {
        note_cpu();
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        let order = (seed % 3) as usize;
        let slot = round as usize % LIVE_BLOCKS;
        let (old_pa, old_round, old_order) = live[slot];
        if old_pa != 0 {
            check_and_free(worker, old_round, old_pa, old_order);
            live[slot].0 = 0;
        }
        let Some(pa) = alloc_pages(order) else {
            continue; // memory short: another worker will give some back
        };
        for page in 0..1u64 << order {
            let va = phys_to_virt(pa + page * PAGE_SIZE) as *mut u64;
            let tag = block_tag(worker, round, page);
            // SAFETY: the block was just allocated for us; the linear map reaches it.
            unsafe {
                va.write_volatile(tag);
                va.add(511).write_volatile(tag);
            }
        }
        live[slot] = (pa, round, order);
        if round % 64 == 0 {
            crate::kernel::sched::core::cond_resched();
        }
    }
    for &(pa, round, order) in &live {
        if pa != 0 {
            check_and_free(worker, round, pa, order);
        }
    }
    finish();
    0
}

/// Workers on every CPU allocate and free blocks of 1, 2 and 4 pages, tagging each page
/// and checking the tags before freeing: a block handed to two workers at once (a race in
/// the buddy allocator's lock or its free lists) shows as a foreign tag.
fn page_allocator_from_every_cpu(test: &mut Test) {
    let n = nr_workers();
    let cpus = run_workers(n, page_worker, "smp_pages");
    kunit_assert!(test, cpus > 0, "could not start {n} workers");
    kunit_expect!(test, FINISHED.load(Ordering::Acquire) == n);
    kunit_expect!(
        test,
        ERRORS.load(Ordering::Relaxed) == 0,
        "{} pages held another worker's tag",
        ERRORS.load(Ordering::Relaxed)
    );
    log::info!(
        "smp_stress: {n} page-allocator workers ran on {cpus} CPU(s) (mask {:#x})",
        CPUS_SEEN.load(Ordering::Relaxed)
    );
}

/// The counter the spinlock test increments, in two words that must always agree.
static COUNTER: SpinLock<(u64, u64)> = SpinLock::new((0, 0));
/// Increments each spinlock worker makes.
const LOCK_ROUNDS: u64 = 20_000;

fn lock_worker(_: usize) -> i32 {
    for round in 0..LOCK_ROUNDS {
        if round % 256 == 0 {
            note_cpu();
        }
        let mut c = COUNTER.lock();
        if c.0 != c.1 {
            ERRORS.fetch_add(1, Ordering::Relaxed);
        }
        // Read, then write: two holders at once would lose increments.
        let next = c.0 + 1;
        c.0 = next;
        core::hint::spin_loop();
        c.1 = next;
    }
    finish();
    0
}

/// Workers increment a counter under one `SpinLock` by read-then-write: the total is
/// exact only if no two ever hold the lock at once and each sees the last holder's writes.
fn spinlock_excludes(test: &mut Test) {
    *COUNTER.lock() = (0, 0);
    let n = nr_workers();
    let cpus = run_workers(n, lock_worker, "smp_lock");
    kunit_assert!(test, cpus > 0, "could not start {n} workers");
    let (a, b) = *COUNTER.lock();
    kunit_expect!(
        test,
        a == n as u64 * LOCK_ROUNDS && b == a,
        "counter {a}/{b}, expected {}",
        n as u64 * LOCK_ROUNDS
    );
    kunit_expect!(
        test,
        ERRORS.load(Ordering::Relaxed) == 0,
        "a holder saw a half-made update"
    );
    log::info!(
        "smp_stress: {n} spinlock workers ran on {cpus} CPU(s) (mask {:#x})",
        CPUS_SEEN.load(Ordering::Relaxed)
    );
}

static PING_WQ: WaitQueueHead = WaitQueueHead::new();
/// Whose turn it is: player `TURN % 2` moves next.
static TURN: AtomicU64 = AtomicU64::new(0);
/// Set if a player gives up.
static STALLED: AtomicBool = AtomicBool::new(false);
/// Moves each player makes.
const PING_ROUNDS: u64 = 2000;

fn ping_player(me: usize) -> i32 {
    for _ in 0..PING_ROUNDS {
        note_cpu();
        let my_turn = move || {
            TURN.load(Ordering::Acquire) % 2 == me as u64 || STALLED.load(Ordering::Acquire)
        };
        // A lost wake-up leaves the player asleep until the timeout: 10 s is far longer
        // than any wake-up takes, even on a loaded host.
        if PING_WQ.wait_event_timeout(my_turn, 10 * HZ) == 0 && !my_turn() {
            ERRORS.fetch_add(1, Ordering::Relaxed);
            log::error!(
                "smp_stress: player {me} waited 10 s for turn {} (a lost wake-up?)",
                TURN.load(Ordering::Relaxed)
            );
            STALLED.store(true, Ordering::Release);
        }
        if STALLED.load(Ordering::Acquire) {
            break;
        }
        TURN.fetch_add(1, Ordering::AcqRel);
        PING_WQ.wake_up_all();
    }
    finish();
    0
}

/// Two threads hand a turn back and forth through one wait queue: each sleeps until the
/// other has moved and woken it. With the two on different CPUs every move is a cross-CPU
/// wake-up; one lost wake-up stalls the game.
fn wait_queue_ping_pong(test: &mut Test) {
    TURN.store(0, Ordering::Relaxed);
    STALLED.store(false, Ordering::Relaxed);
    let cpus = run_workers(2, ping_player, "smp_ping");
    kunit_assert!(test, cpus > 0, "could not start the players");
    kunit_expect!(
        test,
        ERRORS.load(Ordering::Relaxed) == 0,
        "a wake-up was lost"
    );
    kunit_expect!(
        test,
        TURN.load(Ordering::Relaxed) == 2 * PING_ROUNDS,
        "{} moves, expected {}",
        TURN.load(Ordering::Relaxed),
        2 * PING_ROUNDS
    );
    log::info!(
        "smp_stress: the ping-pong players ran on {cpus} CPU(s) (mask {:#x})",
        CPUS_SEEN.load(Ordering::Relaxed)
    );
}

/// jiffies move HZ times a second by the counter, however many CPUs tick: only one CPU's
/// tick counts them (with each CPU counting its own, N CPUs would move them N times as
/// fast). The tick started after power-on, where the counter started, so jiffies can never
/// exceed the counter's time since power-on in ticks — an exact bound, whatever the load
/// (a late tick only catches up, to the same count). `msleep(200)` then shows the rate: it
/// sleeps 51 jiffies, and no sooner than 200 ms by the counter after the tick it started
/// from. It starts right after a tick CPU 0 handled, because msleep, as Linux's, counts
/// from the last tick handled: had that tick come late (a loaded host not running CPU 0's
/// vCPU), the sleep would be short by that lateness, on Linux too. So the bound is 200 ms
/// less the lateness of the starting tick, which is known exactly once the tick is seen:
/// at most the time between its deadline (`jiffy_deadline_ns`) and `t0`.
fn jiffies_follow_the_counter(test: &mut Test) {
    let edge = jiffies();
    while jiffies() == edge {
        core::hint::spin_loop();
    }
    let (j0, t0) = (jiffies(), ktime_get_ns());
    msleep(200);
    let (j1, t1) = (jiffies(), ktime_get_ns());
    let limit = t1 * HZ / 1_000_000_000 + 1;
    kunit_expect!(
        test,
        j1 <= limit,
        "jiffies {j1} after {t1} ns since power-on: at most {limit} ({} CPUs online)",
        num_online_cpus()
    );
    kunit_expect!(
        test,
        j1 - j0 >= 51,
        "msleep(200) returned after {} jiffies, not 51",
        j1 - j0
    );
    let due = crate::drivers::clocksource::arm_arch_timer::jiffy_deadline_ns(j0).unwrap_or(t0);
    kunit_expect!(
        test,
        due <= t0,
        "jiffies {j0} seen at {t0} ns, before its tick was due at {due} ns"
    );
    let late = t0.saturating_sub(due);
    kunit_expect!(
        test,
        t1 - t0 + late >= 200_000_000,
        "msleep(200) returned after {} ns, from a tick {late} ns late ({} CPUs online)",
        t1 - t0,
        num_online_cpus()
    );
}

/// Set once every busy worker of [`stop_machine_quiesces`] exists.
static BUSY_GO: AtomicBool = AtomicBool::new(false);

/// `stop_machine` runs its function while no other CPU runs anything: the other CPUs'
/// free-page count cannot change under it even with allocators busy on every CPU.
fn stop_machine_quiesces(test: &mut Test) {
    fn busy(_: usize) -> i32 {
        // Spin only once every worker exists: hogs would slow kthreadd making the rest.
        while !BUSY_GO.load(Ordering::Acquire) && !crate::kernel::kthread::kthread_should_stop() {
            msleep(1);
        }
        while !crate::kernel::kthread::kthread_should_stop() {
            note_cpu();
            if let Some(pa) = alloc_pages(0) {
                free_pages(pa, 0);
            }
            crate::kernel::sched::core::cond_resched();
        }
        0
    }
    CPUS_SEEN.store(0, Ordering::Relaxed);
    BUSY_GO.store(false, Ordering::Relaxed);
    let threads: Vec<_> = (0..nr_workers())
        .filter_map(|i| kthread_run(busy, i, "smp_busy").ok())
        .collect();
    BUSY_GO.store(true, Ordering::Release);
    msleep(20);
    let t0 = ktime_get_ns();
    let (first, second, on) = crate::kernel::stop_machine::stop_machine(|| {
        let first = nr_free_pages();
        // Long enough for a running allocator loop to go round many times.
        let until = ktime_get_ns() + 5_000_000;
        while ktime_get_ns() < until {
            core::hint::spin_loop();
        }
        (first, nr_free_pages(), smp_processor_id())
    });
    let t1 = ktime_get_ns();
    for t in &threads {
        kthread_stop(t);
    }
    log::info!(
        "smp_stress: stop_machine took {} us, stopping the threads {} us",
        (t1 - t0) / 1000,
        (ktime_get_ns() - t1) / 1000
    );
    kunit_expect!(
        test,
        first == second,
        "free pages changed from {first} to {second} inside stop_machine on CPU{on}"
    );
    log::info!(
        "smp_stress: stop_machine held {} busy CPU(s) still",
        CPUS_SEEN.load(Ordering::Relaxed).count_ones()
    );
}

kunit_test_suite!(
    smp_stress,
    [
        page_allocator_from_every_cpu,
        spinlock_excludes,
        wait_queue_ping_pong,
        jiffies_follow_the_counter,
        stop_machine_quiesces
    ]
);
