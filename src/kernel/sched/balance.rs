//! Spreading tasks over CPUs: where a new or waking task runs, and idle or under-loaded CPUs
//! pulling queued tasks from busier ones (Linux: `kernel/sched/fair.c`,
//! `select_task_rq_fair`, `newidle_balance`, `load_balance`, `trigger_load_balance`; kept
//! apart from `fair.rs`, which is the portable, host-tested bookkeeping).
//!
//! Load is the number of runnable tasks on a CPU (`Rq::nr_running`, the running one
//! included), read without locks when choosing and re-read under the locks when moving.
//! Only queued tasks move, never a running one, and only to a CPU their affinity allows;
//! a moved task's `vruntime` keeps its distance from its queue's `min_vruntime`.
//!
//! With one CPU online nothing here does any work beyond one mask test.

use core::sync::atomic::{AtomicU64, Ordering};

use super::core::{check_preempt_curr, task_cpus_allowed};
use super::rq::{cpu_rq, se, Rq, RqInner};
use crate::arch::percpu::NR_CPUS;
use crate::kernel::smp::{cpu_online_mask, CpuMask};
use crate::kernel::task::{TaskRef, TaskStruct};

/// Ticks between two balancing passes of a busy CPU; an idle CPU balances every tick
/// (Linux's `sd->balance_interval`, a few milliseconds for a small machine).
const BUSY_BALANCE_INTERVAL: u64 = 4;

fn load(cpu: usize) -> usize {
    cpu_rq(cpu).nr_running.load(Ordering::Relaxed)
}

/// The CPUs `task` may run on now: its affinity and the online CPUs; if they have none in
/// common, any online CPU (Linux's `select_fallback_rq`).
fn allowed_online(task: &TaskStruct) -> CpuMask {
    let online = cpu_online_mask();
    let allowed = task_cpus_allowed(task).and(online);
    if allowed.is_empty() {
        online
    } else {
        allowed
    }
}

/// Where `task` should run (Linux's `select_task_rq_fair`). A new task (`fork`) goes to the
/// least loaded CPU it may use, this one on a tie (Linux's `find_idlest_cpu`); a waking one
/// stays on `prev_cpu` if that is idle, else goes to an idle CPU it may use, else stays on
/// `prev_cpu` (Linux's `select_idle_sibling`).
pub fn select_task_rq(task: &TaskStruct, prev_cpu: usize, new: bool) -> usize {
    let allowed = allowed_online(task);
    if allowed.weight() == 1 {
        return allowed.first().unwrap_or(0);
    }
    let this = crate::arch::percpu::smp_processor_id();
    if new {
        let start = if allowed.test(this) {
            this
        } else {
            allowed.first().unwrap_or(0)
        };
        return allowed.iter().fold(
            start,
            |best, cpu| if load(cpu) < load(best) { cpu } else { best },
        );
    }
    if allowed.test(prev_cpu) && load(prev_cpu) == 0 {
        return prev_cpu;
    }
    if let Some(idle) = allowed.iter().find(|&cpu| load(cpu) == 0) {
        return idle;
    }
    if allowed.test(prev_cpu) {
        prev_cpu
    } else if allowed.test(this) {
        this
    } else {
        allowed.first().unwrap_or(0)
    }
}

/// The online CPU other than `this` with the most runnable tasks, and how many.
fn find_busiest(this: usize) -> Option<(usize, usize)> {
    cpu_online_mask()
        .iter()
        .filter(|&cpu| cpu != this)
        .map(|cpu| (cpu, load(cpu)))
        .max_by_key(|&(_, n)| n)
}

/// Move one queued task allowed on `dst_cpu` from `src` to `dst` (Linux's `detach_task` +
/// `attach_task`), and if `preempt`, ask `dst`'s running task to make way if it should.
/// Both run queues are locked. True if one moved.
fn move_one_task(
    src_rq: &Rq,
    src: &mut RqInner,
    dst_cpu: usize,
    dst: &mut RqInner,
    preempt: bool,
) -> bool {
    let Some(task) = src
        .cfs
        .detach_where(|t: &TaskRef| task_cpus_allowed(t).test(dst_cpu))
    else {
        return false;
    };
    // SAFETY: the task was queued on `src`, whose lock is held; it changes CPU below with
    // `dst`'s lock held too, so whoever reads its CPU and locks that queue waits for us.
    let task_se = unsafe { se(&task) };
    task_se.set_picked();
    task_se.vruntime = task_se.vruntime.saturating_sub(src.cfs.min_vruntime) + dst.cfs.min_vruntime;
    src_rq.add_nr_running(-1);
    task.cpu
        .store(dst_cpu as u32, core::sync::atomic::Ordering::Release);
    dst.cfs.enqueue(task_se, task.clone());
    cpu_rq(dst_cpu).add_nr_running(1);
    if preempt {
        check_preempt_curr(dst, task_se);
    }
    true
}

/// About to go idle with this CPU's queue empty: pull one queued task from the busiest CPU
/// (Linux's `newidle_balance`). Called by `__schedule` with `inner` (this CPU's run queue)
/// locked, so the other queue is only tried, never waited for.
pub(super) fn newidle_balance(this_cpu: usize, inner: &mut RqInner) {
    let Some((busiest, n)) = find_busiest(this_cpu) else {
        return;
    };
    if n < 2 {
        return; // nothing queued there: its one task is running
    }
    let src_rq = cpu_rq(busiest);
    let Some(src) = src_rq.try_lock_raw() else {
        return;
    };
    // No preemption check: `__schedule` is about to pick from this queue anyway.
    move_one_task(src_rq, src, this_cpu, inner, false);
    src_rq.lock.unlock();
}

/// What one balancing pass did.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Balance {
    /// Nothing to even out, or tasks moved.
    Done,
    /// The busiest queue's lock was taken: try again at the next pass.
    Busy,
    /// The busiest CPU has queued tasks, but none may run here (Linux's `LBF_ALL_PINNED`).
    Pinned,
}

/// Even out this CPU and the busiest: if it has more than one task more than we do, pull
/// queued tasks until the difference is at most one (Linux's `load_balance`, for one flat
/// domain). Called from the tick with interrupts masked and no run-queue lock held.
///
/// The busiest queue's lock is only tried, never waited for: its CPU takes it for every
/// switch and wake-up, and a ticket lock hands it on in arrival order, so a balancer whose
/// vCPU the host deschedules while queued for it would stop that CPU for as long.
fn load_balance(this_cpu: usize) -> Balance {
    let Some((busiest, n)) = find_busiest(this_cpu) else {
        return Balance::Done;
    };
    if n <= load(this_cpu) + 1 {
        return Balance::Done;
    }
    let (dst_rq, src_rq) = (cpu_rq(this_cpu), cpu_rq(busiest));
    let dst = dst_rq.lock_raw();
    let Some(src) = src_rq.try_lock_raw() else {
        dst_rq.lock.unlock();
        return Balance::Busy;
    };
    let mut moved = false;
    while src_rq.nr_running.load(Ordering::Relaxed) > dst_rq.nr_running.load(Ordering::Relaxed) + 1
        && move_one_task(src_rq, src, this_cpu, dst, true)
    {
        moved = true;
    }
    let pinned = !moved
        && src_rq.nr_running.load(Ordering::Relaxed)
            > dst_rq.nr_running.load(Ordering::Relaxed) + 1;
    src_rq.lock.unlock();
    dst_rq.lock.unlock();
    if pinned {
        Balance::Pinned
    } else {
        Balance::Done
    }
}

/// The longest a CPU waits between two passes while the busiest CPU's tasks are all
/// pinned (Linux doubles `sd->balance_interval` up to `sd->max_interval` then): 64 ms.
const MAX_BALANCE_INTERVAL: u64 = 16;

/// Each CPU's next balancing pass, in jiffies (Linux's `rq->next_balance`), and the
/// interval it waits after finding only pinned tasks (Linux's `sd->balance_interval`).
/// Only this CPU's tick touches its entries.
static NEXT_BALANCE: [AtomicU64; NR_CPUS] = [const { AtomicU64::new(0) }; NR_CPUS];
static PINNED_INTERVAL: [AtomicU64; NR_CPUS] = [const { AtomicU64::new(0) }; NR_CPUS];

/// The tick's balancing hook (Linux's `trigger_load_balance`, which raises SCHED_SOFTIRQ
/// when `jiffies` reached `rq->next_balance`): an idle CPU balances every tick, a busy one
/// every [`BUSY_BALANCE_INTERVAL`] ticks; a CPU that found the busiest one's tasks all
/// pinned waits twice as long each time, up to [`MAX_BALANCE_INTERVAL`], until a pass finds
/// something it can do. Without the back-off, three idle CPUs locked the run queue of a CPU
/// running two tasks bound to it 250 times a second each: a ping-pong between two threads
/// on CPU 0 took 5 to 10 times as long at -smp 4 as at -smp 1.
pub fn trigger_load_balance(this_cpu: usize) {
    if cpu_online_mask().weight() < 2 {
        return;
    }
    let now = crate::kernel::time::jiffies();
    let next = &NEXT_BALANCE[this_cpu];
    if now < next.load(Ordering::Relaxed) {
        return;
    }
    let base = if load(this_cpu) == 0 {
        1
    } else {
        BUSY_BALANCE_INTERVAL
    };
    let pinned = &PINNED_INTERVAL[this_cpu];
    let interval = match load_balance(this_cpu) {
        Balance::Done | Balance::Busy => {
            pinned.store(0, Ordering::Relaxed);
            base
        }
        Balance::Pinned => {
            let doubled = (pinned.load(Ordering::Relaxed).max(base) * 2).min(MAX_BALANCE_INTERVAL);
            pinned.store(doubled, Ordering::Relaxed);
            doubled
        }
    };
    next.store(now + interval, Ordering::Relaxed);
}

/// True if `cpu` has nothing to run (Linux's `idle_cpu`).
pub fn idle_cpu(cpu: usize) -> bool {
    cpu < NR_CPUS && load(cpu) == 0
}
