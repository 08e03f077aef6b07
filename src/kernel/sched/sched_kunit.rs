//! In-kernel tests of the scheduler, run in `kernel_init` with `kunit.enable=1`: fairness,
//! tick preemption, wait queues, completions, mutexes, sleeping, kthreads, workqueues.

use alloc::vec::Vec;
use core::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};

use crate::kernel::kthread::{kthread_run, kthread_should_stop, kthread_stop};
use crate::kernel::locking::mutex::Mutex;
use crate::kernel::sched::completion::Completion;
use crate::kernel::sched::wait::WaitQueueHead;
use crate::kernel::task::current;
use crate::kernel::time::timer::msleep;
use crate::kernel::time::{jiffies, ktime_get_ns, HZ};
use crate::kunit::Test;
use crate::{kunit_assert, kunit_expect, kunit_test_suite};

const SPINNERS: usize = 4;
static SPIN_COUNTS: [AtomicU64; SPINNERS] = [const { AtomicU64::new(0) }; SPINNERS];
static SPIN_GO: AtomicBool = AtomicBool::new(false);

/// Count as fast as possible, never yielding: only the tick can take the CPU away.
fn spinner(i: usize) -> i32 {
    while !SPIN_GO.load(Ordering::Acquire) && !kthread_should_stop() {
        core::hint::spin_loop();
    }
    while !kthread_should_stop() {
        SPIN_COUNTS[i].fetch_add(1, Ordering::Relaxed);
    }
    0
}

/// N busy kernel threads that never yield share the CPU fairly: each gets its share of
/// CPU time, as the scheduler accounted it, within 25%, which they can only get if the
/// tick preempts them. (CPU time, not loop counts: under TCG a loop's speed follows the
/// host's load, which says nothing about the scheduler.)
fn busy_threads_share_fairly(test: &mut Test) {
    for c in &SPIN_COUNTS {
        c.store(0, Ordering::Relaxed);
    }
    SPIN_GO.store(false, Ordering::Relaxed);
    let threads: Vec<_> = (0..SPINNERS)
        .filter_map(|i| kthread_run(spinner, i, "spinner").ok())
        .collect();
    kunit_assert!(
        test,
        threads.len() == SPINNERS,
        "could not create the spinners"
    );
    let start: Vec<u64> = threads
        .iter()
        .map(|t| crate::fs::proc::generic::task_runtime_ns(t))
        .collect();
    SPIN_GO.store(true, Ordering::Release);
    msleep(400);
    let runtime: Vec<u64> = threads
        .iter()
        .zip(&start)
        .map(|(t, s)| crate::fs::proc::generic::task_runtime_ns(t) - s)
        .collect();
    for t in &threads {
        kthread_stop(t);
    }
    for (i, c) in SPIN_COUNTS.iter().enumerate() {
        kunit_expect!(test, c.load(Ordering::Relaxed) > 0, "spinner {i} never ran");
    }
    let mean = runtime.iter().sum::<u64>() / SPINNERS as u64;
    kunit_expect!(test, mean > 0, "the spinners were given no CPU time");
    for (i, r) in runtime.iter().enumerate() {
        kunit_expect!(
            test,
            r.abs_diff(mean) * 4 <= mean,
            "spinner {i}: {r} ns vs mean {mean} ns ({runtime:?})"
        );
    }
}

static WOKEN: [AtomicBool; 2] = [AtomicBool::new(false), AtomicBool::new(false)];
static COMPLETIONS: [Completion; 2] = [Completion::new(), Completion::new()];

fn completion_waiter(i: usize) -> i32 {
    COMPLETIONS[i].wait_for_completion();
    WOKEN[i].store(true, Ordering::Release);
    0
}

/// complete() on one completion wakes its waiter and not the other one.
fn completions_wake_the_right_waiter(test: &mut Test) {
    for w in &WOKEN {
        w.store(false, Ordering::Relaxed);
    }
    let a = kthread_run(completion_waiter, 0, "waiter0");
    let b = kthread_run(completion_waiter, 1, "waiter1");
    kunit_assert!(test, a.is_ok() && b.is_ok());
    msleep(20);
    kunit_expect!(
        test,
        !WOKEN[0].load(Ordering::Acquire) && !WOKEN[1].load(Ordering::Acquire),
        "woke early"
    );
    COMPLETIONS[1].complete();
    msleep(20);
    kunit_expect!(test, WOKEN[1].load(Ordering::Acquire), "waiter 1 not woken");
    kunit_expect!(
        test,
        !WOKEN[0].load(Ordering::Acquire),
        "waiter 0 woken by the wrong completion"
    );
    COMPLETIONS[0].complete();
    msleep(20);
    kunit_expect!(test, WOKEN[0].load(Ordering::Acquire), "waiter 0 not woken");
}

static WQ: WaitQueueHead = WaitQueueHead::new();
static WQ_FLAG: AtomicUsize = AtomicUsize::new(0);
static WQ_SEEN: AtomicUsize = AtomicUsize::new(0);

fn wq_waiter(want: usize) -> i32 {
    WQ.wait_event(|| WQ_FLAG.load(Ordering::Acquire) >= want);
    WQ_SEEN.fetch_add(1, Ordering::AcqRel);
    0
}

/// Waiters sleep until their condition holds, whatever the order of wake-ups.
fn wait_queue_conditions(test: &mut Test) {
    WQ_FLAG.store(0, Ordering::Relaxed);
    WQ_SEEN.store(0, Ordering::Relaxed);
    let w1 = kthread_run(wq_waiter, 1, "wq1");
    let w2 = kthread_run(wq_waiter, 2, "wq2");
    kunit_assert!(test, w1.is_ok() && w2.is_ok());
    msleep(20);
    kunit_expect!(
        test,
        WQ.len() == 2,
        "{} waiters queued, expected 2",
        WQ.len()
    );
    WQ_FLAG.store(1, Ordering::Release);
    WQ.wake_up_all();
    msleep(20);
    kunit_expect!(
        test,
        WQ_SEEN.load(Ordering::Acquire) == 1,
        "only the first condition holds"
    );
    WQ_FLAG.store(2, Ordering::Release);
    WQ.wake_up_all();
    msleep(20);
    kunit_expect!(test, WQ_SEEN.load(Ordering::Acquire) == 2);
    kunit_expect!(test, WQ.is_empty());
}

/// msleep(100) sleeps 100 ms to one tick more, by the generic counter.
fn msleep_is_accurate(test: &mut Test) {
    let tick_ns = 1_000_000_000 / HZ;
    let t0 = ktime_get_ns();
    let j0 = jiffies();
    msleep(100);
    let slept = ktime_get_ns() - t0;
    kunit_expect!(test, slept >= 100_000_000, "slept only {slept} ns");
    kunit_expect!(
        test,
        slept <= 100_000_000 + tick_ns + tick_ns / 2,
        "slept {slept} ns"
    );
    kunit_expect!(test, jiffies() - j0 >= 25);
}

struct Shared {
    counter: Mutex<u64>,
    done: Completion,
    finished: AtomicUsize,
}

static SHARED: Shared = Shared {
    counter: Mutex::new(0),
    done: Completion::new(),
    finished: AtomicUsize::new(0),
};
const MUTEX_THREADS: usize = 3;
const MUTEX_ITERS: u64 = 20;

fn mutex_worker(_: usize) -> i32 {
    for _ in 0..MUTEX_ITERS {
        let mut guard = SHARED.counter.lock();
        let before = *guard;
        msleep(1); // sleep while holding it: the others must wait
        *guard = before + 1;
    }
    if SHARED.finished.fetch_add(1, Ordering::AcqRel) + 1 == MUTEX_THREADS {
        SHARED.done.complete();
    }
    0
}

/// Threads that sleep while holding a mutex never lose an update, and do contend.
fn mutex_contention(test: &mut Test) {
    *SHARED.counter.lock() = 0;
    SHARED.finished.store(0, Ordering::Relaxed);
    let before = SHARED.counter.contention_count();
    for _ in 0..MUTEX_THREADS {
        kunit_assert!(test, kthread_run(mutex_worker, 0, "mutexer").is_ok());
    }
    let finished = SHARED.done.wait_for_completion_timeout(10 * HZ);
    kunit_assert!(test, finished, "mutex workers did not finish in 10 s");
    kunit_expect!(
        test,
        *SHARED.counter.lock() == MUTEX_THREADS as u64 * MUTEX_ITERS
    );
    kunit_expect!(
        test,
        SHARED.counter.contention_count() > before,
        "no contention seen"
    );
}

static WORK_RAN_IN: crate::kernel::locking::SpinLock<[u8; 16]> =
    crate::kernel::locking::SpinLock::new([0; 16]);
static WORK_DONE: Completion = Completion::new();
static WORK: crate::kernel::workqueue::WorkStruct =
    crate::kernel::workqueue::WorkStruct::new(work_fn);

fn work_fn(_: &'static crate::kernel::workqueue::WorkStruct) {
    *WORK_RAN_IN.lock() = *current().comm.lock();
    WORK_DONE.complete();
}

/// A work item runs in a kworker thread, whose parent is kthreadd.
fn workqueue_runs_in_kworker(test: &mut Test) {
    kunit_expect!(test, crate::kernel::workqueue::schedule_work(&WORK));
    kunit_assert!(
        test,
        WORK_DONE.wait_for_completion_timeout(HZ),
        "work did not run"
    );
    let comm = crate::kernel::task::Comm(*WORK_RAN_IN.lock());
    let name = alloc::format!("{comm}");
    kunit_expect!(test, name.starts_with("kworker/"), "ran in {name}");
}

/// Every kernel thread but PID 1 and 2 has kthreadd (PID 2) as its parent.
fn kthreads_are_children_of_kthreadd(test: &mut Test) {
    let (mut checked, mut wrong) = (0, 0);
    crate::kernel::pid::for_each_task(|t| {
        if t.pid() > 2 && t.is_kthread() {
            checked += 1;
            if t.ppid() != 2 {
                wrong += 1;
            }
        }
    });
    kunit_expect!(test, checked > 0, "no kernel threads found");
    kunit_expect!(
        test,
        wrong == 0,
        "{wrong} kernel threads are not children of kthreadd"
    );
    kunit_expect!(
        test,
        crate::kernel::sched::idle::IDLE_ENTRIES.load(Ordering::Relaxed) > 0,
        "PID 0 never idled"
    );
}

kunit_test_suite!(
    sched,
    [
        busy_threads_share_fairly,
        completions_wake_the_right_waiter,
        wait_queue_conditions,
        msleep_is_accurate,
        mutex_contention,
        workqueue_runs_in_kworker,
        kthreads_are_children_of_kthreadd
    ]
);
