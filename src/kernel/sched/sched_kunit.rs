//! In-kernel tests of the scheduler, run in `kernel_init` with `kunit.enable=1`: fairness,
//! tick preemption, wait queues, completions, mutexes, sleeping, kthreads, workqueues, and
//! on several CPUs: busy threads spread over them, wake-ups across CPUs are not lost,
//! affinity is respected, per-CPU kworkers run where they are bound.

use alloc::vec::Vec;
use core::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};

use crate::arch::percpu::{smp_processor_id, NR_CPUS};
use crate::kernel::kthread::kthread_create_on_cpu;
use crate::kernel::kthread::{kthread_run, kthread_should_stop, kthread_stop};
use crate::kernel::locking::mutex::Mutex;
use crate::kernel::sched::completion::Completion;
use crate::kernel::sched::core::{schedule, set_cpus_allowed_ptr, task_cpu, task_cpus_allowed};
use crate::kernel::sched::wait::WaitQueueHead;
use crate::kernel::smp::{cpu_online_mask, CpuMask};
use crate::kernel::task::current;
use crate::kernel::time::timer::msleep;
use crate::kernel::time::{jiffies, ktime_get_ns, HZ};
use crate::kunit::Test;
use crate::{kunit_assert, kunit_expect, kunit_skip, kunit_test_suite};

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

/// msleep(100) never sleeps less than 100 ms (by the generic counter and by jiffies), and
/// it returns.
fn msleep_is_accurate(test: &mut Test) {
    let t0 = ktime_get_ns();
    let j0 = jiffies();
    msleep(100);
    let slept = ktime_get_ns() - t0;
    kunit_expect!(test, slept >= 100_000_000, "slept only {slept} ns");
    // Only a lost wake-up (or a timer that never fires) takes seconds; how far past 100 ms
    // a loaded host lets the sleeper run again is no correctness bound.
    kunit_expect!(
        test,
        slept <= 5_000_000_000,
        "slept {slept} ns: the wake-up was lost"
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

/// PID 1 and kthreadd were born on the boot CPU alone (init_task's affinity); by now they
/// may run on every online CPU, so user space and the kernel threads inherit that
/// (`sched_getaffinity`, hence `nproc`, sees every CPU).
fn pid1_and_kthreadd_use_every_cpu(test: &mut Test) {
    let online = cpu_online_mask();
    for pid in [1, 2] {
        let Some(task) = crate::kernel::pid::find_task_by_pid(pid) else {
            kunit_expect!(test, false, "no PID {pid}");
            continue;
        };
        let allowed = task_cpus_allowed(&task);
        kunit_expect!(
            test,
            allowed.and(online) == online,
            "PID {pid} may run on {:#x} of {:#x}",
            allowed.bits(),
            online.bits()
        );
    }
}

/// CPUs each spinner was seen on (bit per CPU).
static SPREAD_SEEN: [AtomicU64; NR_CPUS] = [const { AtomicU64::new(0) }; NR_CPUS];
static SPREAD_GO: AtomicBool = AtomicBool::new(false);

/// Spin, recording the CPUs this thread runs on.
fn spread_spinner(i: usize) -> i32 {
    while !kthread_should_stop() {
        if SPREAD_GO.load(Ordering::Acquire) {
            SPREAD_SEEN[i].fetch_or(1 << smp_processor_id(), Ordering::Relaxed);
        }
        core::hint::spin_loop();
    }
    0
}

/// As many never-yielding threads as CPUs: the scheduler places them (fork placement and
/// balancing) so that within a moment every online CPU runs one of them, and most of the
/// time each one has a CPU of its own: each gets at least half of the elapsed time.
fn busy_threads_spread_over_cpus(test: &mut Test) {
    let online = cpu_online_mask();
    let n = online.weight();
    if n < 2 {
        kunit_skip!(test, "one CPU online");
    }
    for seen in &SPREAD_SEEN {
        seen.store(0, Ordering::Relaxed);
    }
    SPREAD_GO.store(false, Ordering::Relaxed);
    let threads: Vec<_> = (0..n)
        .filter_map(|i| kthread_run(spread_spinner, i, "spreader").ok())
        .collect();
    kunit_assert!(test, threads.len() == n, "could not create the spinners");
    let start: Vec<u64> = threads
        .iter()
        .map(|t| crate::fs::proc::generic::task_runtime_ns(t))
        .collect();
    let t0 = ktime_get_ns();
    SPREAD_GO.store(true, Ordering::Release);
    msleep(400);
    let elapsed = ktime_get_ns() - t0;
    let runtime: Vec<u64> = threads
        .iter()
        .zip(&start)
        .map(|(t, s)| crate::fs::proc::generic::task_runtime_ns(t) - s)
        .collect();
    // Which CPUs they are on now (they never sleep: a running or queued task stays put
    // unless balanced).
    let mut now_on = 0u64;
    for t in &threads {
        now_on |= 1 << task_cpu(t);
    }
    for t in &threads {
        kthread_stop(t);
    }
    let seen = SPREAD_SEEN
        .iter()
        .fold(0, |m, s| m | s.load(Ordering::Relaxed));
    kunit_expect!(
        test,
        seen & online.bits() == online.bits(),
        "the spinners ran on CPUs {seen:#x}, online {:#x}",
        online.bits()
    );
    kunit_expect!(
        test,
        now_on == online.bits(),
        "the spinners sit on CPUs {now_on:#x}, online {:#x}",
        online.bits()
    );
    for (i, r) in runtime.iter().enumerate() {
        kunit_expect!(
            test,
            *r * 2 >= elapsed,
            "spreader {i} ran {r} ns of {elapsed} ns ({runtime:?})"
        );
    }
}

const PING_PONG_ROUNDS: usize = 10_000;
static PING: Completion = Completion::new();
static PONG: Completion = Completion::new();
/// Rounds the ponger answered; `usize::MAX` if a wait timed out (a lost wake-up).
static PONGS: AtomicUsize = AtomicUsize::new(0);
/// CPUs the ponger answered from (bit per CPU).
static PONG_CPUS: AtomicU64 = AtomicU64::new(0);

fn ponger(_: usize) -> i32 {
    for _ in 0..PING_PONG_ROUNDS {
        if !PING.wait_for_completion_timeout(5 * HZ) {
            PONGS.store(usize::MAX, Ordering::Release);
            return -1;
        }
        PONG_CPUS.fetch_or(1 << smp_processor_id(), Ordering::Relaxed);
        PONGS.fetch_add(1, Ordering::AcqRel);
        PONG.complete();
    }
    0
}

/// A completion handed back and forth between a thread on CPU 0 and one bound to another
/// CPU (if there is one), ten thousand times: every wake-up crosses CPUs, and none may be
/// lost (each wait gives up after five seconds, which only a lost wake-up takes). Then the
/// same with both on CPU 0 while the other CPUs idle (and balance). The time each took is
/// printed, not judged.
fn cross_cpu_wakeups_are_not_lost(test: &mut Test) {
    // With one CPU online, both on CPU 0: still no wake-up may be lost.
    let other = cpu_online_mask().iter().find(|&c| c != 0).unwrap_or(0);
    ping_pong(test, other);
    if other != 0 {
        ping_pong(test, 0);
    }
}

/// [`PING_PONG_ROUNDS`] rounds between the test, bound to CPU 0, and a ponger bound to
/// `other`.
fn ping_pong(test: &mut Test, other: usize) {
    let t0 = ktime_get_ns();
    PING.reinit();
    PONG.reinit();
    PONGS.store(0, Ordering::Relaxed);
    PONG_CPUS.store(0, Ordering::Relaxed);
    let pinger_mask = task_cpus_allowed(current());
    kunit_assert!(
        test,
        set_cpus_allowed_ptr(current(), CpuMask::of(0)).is_ok(),
        "cannot bind the test to CPU 0"
    );
    schedule(); // the bind takes effect at the next switch
    let pong = kthread_create_on_cpu(ponger, 0, other, "ponger");
    kunit_assert!(test, pong.is_ok(), "cannot create the ponger");
    let pong = pong.unwrap_or_else(|_| unreachable!());
    crate::kernel::sched::core::wake_up_process(&pong);
    let mut lost_at = None;
    let mut ping_cpus = 0u64;
    for round in 0..PING_PONG_ROUNDS {
        ping_cpus |= 1 << smp_processor_id();
        PING.complete();
        if !PONG.wait_for_completion_timeout(5 * HZ) {
            lost_at = Some(round);
            break;
        }
    }
    pong.exit_done.wait_for_completion_timeout(5 * HZ);
    let _ = set_cpus_allowed_ptr(current(), pinger_mask);
    log::info!(
        "        # ping-pong CPU0 <-> CPU{other}: {PING_PONG_ROUNDS} rounds in {} us",
        (ktime_get_ns() - t0) / 1000
    );
    kunit_expect!(
        test,
        lost_at.is_none(),
        "a wake-up was lost in round {lost_at:?}"
    );
    let pongs = PONGS.load(Ordering::Acquire);
    kunit_expect!(
        test,
        pongs == PING_PONG_ROUNDS,
        "{pongs} pongs of {PING_PONG_ROUNDS}"
    );
    kunit_expect!(
        test,
        ping_cpus == 1,
        "the pinger ran on CPUs {ping_cpus:#x}"
    );
    let pong_cpus = PONG_CPUS.load(Ordering::Relaxed);
    kunit_expect!(
        test,
        pong_cpus == 1 << other,
        "the ponger, bound to CPU {other}, ran on CPUs {pong_cpus:#x}"
    );
}

/// CPUs the wanderer ran on since it was last reset, and a stop flag.
static WANDER_CPUS: AtomicU64 = AtomicU64::new(0);

fn wanderer(_: usize) -> i32 {
    while !kthread_should_stop() {
        WANDER_CPUS.fetch_or(1 << smp_processor_id(), Ordering::Relaxed);
        // Half busy, half asleep: it moves both when running and when waking.
        let t = ktime_get_ns();
        while ktime_get_ns() - t < 2_000_000 {
            core::hint::spin_loop();
        }
        msleep(2);
    }
    0
}

/// A thread given one CPU after another runs on that CPU alone once the change has taken
/// effect (at its next switch), and a mask without an online CPU is EINVAL.
fn affinity_is_respected(test: &mut Test) {
    let w = kthread_run(wanderer, 0, "wanderer");
    kunit_assert!(test, w.is_ok(), "cannot create the wanderer");
    let w = w.unwrap_or_else(|_| unreachable!());
    kunit_expect!(
        test,
        set_cpus_allowed_ptr(&w, CpuMask::empty()) == Err(crate::kernel::errno::Errno::EINVAL),
        "an empty mask was accepted"
    );
    for cpu in cpu_online_mask().iter() {
        kunit_expect!(test, set_cpus_allowed_ptr(&w, CpuMask::of(cpu)).is_ok());
        msleep(20); // long enough for it to switch (it sleeps every 2 ms)
        WANDER_CPUS.store(0, Ordering::Relaxed);
        msleep(60);
        let ran = WANDER_CPUS.load(Ordering::Relaxed);
        kunit_expect!(
            test,
            ran == 1 << cpu,
            "bound to CPU {cpu}, the wanderer ran on CPUs {ran:#x}"
        );
        kunit_expect!(test, task_cpu(&w) == cpu);
    }
    let _ = set_cpus_allowed_ptr(&w, CpuMask::first_n(NR_CPUS));
    kthread_stop(&w);
}

static KWORKER_CPU: AtomicUsize = AtomicUsize::new(usize::MAX);
static KWORKER_DONE: Completion = Completion::new();
static KWORKER_WORK: crate::kernel::workqueue::WorkStruct =
    crate::kernel::workqueue::WorkStruct::new(kworker_work_fn);

fn kworker_work_fn(_: &'static crate::kernel::workqueue::WorkStruct) {
    KWORKER_CPU.store(smp_processor_id(), Ordering::Relaxed);
    *WORK_RAN_IN.lock() = current().comm().0;
    KWORKER_DONE.complete();
}

/// Every online CPU has a `kworker/N:0`, a child of kthreadd bound to CPU N, and work
/// queued on a CPU runs there, in that worker.
fn per_cpu_kworkers(test: &mut Test) {
    for cpu in cpu_online_mask().iter() {
        let name = alloc::format!("kworker/{cpu}:0");
        let mut found = 0;
        crate::kernel::pid::for_each_task(|t| {
            if alloc::format!("{}", t.comm()) == name {
                found += 1;
                let mask = task_cpus_allowed(t);
                if mask == CpuMask::of(cpu) && t.ppid() == 2 {
                    found += 100;
                }
            }
        });
        kunit_expect!(
            test,
            found == 101,
            "{name}: found {found} (bound and under kthreadd: +100)"
        );
        KWORKER_CPU.store(usize::MAX, Ordering::Relaxed);
        kunit_expect!(
            test,
            crate::kernel::workqueue::queue_work_on(cpu, &KWORKER_WORK)
        );
        kunit_assert!(
            test,
            KWORKER_DONE.wait_for_completion_timeout(HZ),
            "work on CPU {cpu} did not run"
        );
        let ran = KWORKER_CPU.load(Ordering::Relaxed);
        let comm = crate::kernel::task::Comm(*WORK_RAN_IN.lock());
        kunit_expect!(test, ran == cpu, "work for CPU {cpu} ran on CPU {ran}");
        kunit_expect!(
            test,
            alloc::format!("{comm}") == name,
            "work for CPU {cpu} ran in {comm}"
        );
    }
}

kunit_test_suite!(
    sched,
    [
        busy_threads_spread_over_cpus,
        cross_cpu_wakeups_are_not_lost,
        affinity_is_respected,
        per_cpu_kworkers,
        busy_threads_share_fairly,
        completions_wake_the_right_waiter,
        wait_queue_conditions,
        msleep_is_accurate,
        mutex_contention,
        workqueue_runs_in_kworker,
        kthreads_are_children_of_kthreadd,
        pid1_and_kthreadd_use_every_cpu
    ]
);
