//! Work queues: functions run later, in process context, by kworker threads
//! (Linux: `kernel/workqueue.c`).
//!
//! Every online CPU has a worker pool served by its own bound kernel thread, `kworker/N:0`
//! (Linux's per-CPU `worker_pool`s); `schedule_work` queues on the pool of the CPU it runs on,
//! as Linux's `system_wq` does. One unbound pool, served by a thread that may run anywhere
//! (`kworker/uM:0`), takes work queued from a CPU whose worker is not there yet (before
//! `workqueue_online_cpu` ran for it) and `queue_work_unbound`. Delayed work arms a timer
//! that queues it, on the pool of the CPU the timer fires on. Cradle uses them for the load
//! average and the interval timers.

use alloc::collections::VecDeque;
use core::sync::atomic::{AtomicBool, Ordering};

use crate::arch::percpu::{smp_processor_id, NR_CPUS};
use crate::kernel::kthread::{kthread_create_on_cpu, kthread_run, kthread_should_stop};
use crate::kernel::locking::SpinLock;
use crate::kernel::sched::core::wake_up_process;
use crate::kernel::sched::wait::WaitQueueHead;
use crate::kernel::time::timer::add_timer;

/// A function to run in a worker (Linux's `struct work_struct`).
pub struct WorkStruct {
    func: fn(&'static WorkStruct),
    pending: AtomicBool,
}

impl WorkStruct {
    /// A work item that runs `func`.
    pub const fn new(func: fn(&'static WorkStruct)) -> Self {
        Self {
            func,
            pending: AtomicBool::new(false),
        }
    }

    /// True while queued and not yet run.
    pub fn pending(&self) -> bool {
        self.pending.load(Ordering::Acquire)
    }
}

/// Work to queue after a delay (Linux's `struct delayed_work`).
pub struct DelayedWork {
    /// The work to queue.
    pub work: WorkStruct,
}

impl DelayedWork {
    /// A delayed work item running `func`.
    pub const fn new(func: fn(&'static WorkStruct)) -> Self {
        Self {
            work: WorkStruct::new(func),
        }
    }
}

/// Work waiting for one worker (Linux's `struct worker_pool`, one worker each).
struct WorkerPool {
    items: SpinLock<VecDeque<&'static WorkStruct>>,
    more: WaitQueueHead,
    /// True once the pool's worker exists: until then its work goes to the unbound pool.
    online: AtomicBool,
}

impl WorkerPool {
    const fn new() -> Self {
        Self {
            items: SpinLock::new(VecDeque::new()),
            more: WaitQueueHead::new(),
            online: AtomicBool::new(false),
        }
    }

    fn insert(&self, work: &'static WorkStruct) {
        self.items.lock().push_back(work);
        self.more.wake_up();
    }
}

/// The per-CPU pools (Linux's `cpu_worker_pools`).
static CPU_POOLS: [WorkerPool; NR_CPUS] = [const { WorkerPool::new() }; NR_CPUS];

/// The unbound pool.
static UNBOUND_POOL: WorkerPool = WorkerPool::new();

/// The pool work queued on this CPU goes to.
fn local_pool() -> &'static WorkerPool {
    let pool = &CPU_POOLS[smp_processor_id()];
    if pool.online.load(Ordering::Acquire) {
        pool
    } else {
        &UNBOUND_POOL
    }
}

/// Queue `work` on this CPU's pool unless it is already queued (Linux's `schedule_work`).
/// True if it was queued now.
pub fn schedule_work(work: &'static WorkStruct) -> bool {
    if work.pending.swap(true, Ordering::AcqRel) {
        return false;
    }
    local_pool().insert(work);
    true
}

/// Queue `work` on `cpu`'s pool (the unbound one if `cpu` has no worker) unless it is
/// already queued (Linux's `queue_work_on`). True if it was queued now.
pub fn queue_work_on(cpu: usize, work: &'static WorkStruct) -> bool {
    if work.pending.swap(true, Ordering::AcqRel) {
        return false;
    }
    match CPU_POOLS.get(cpu) {
        Some(pool) if pool.online.load(Ordering::Acquire) => pool.insert(work),
        _ => UNBOUND_POOL.insert(work),
    }
    true
}

/// Queue `work` for the unbound worker, which runs on any CPU (Linux's `system_unbound_wq`).
pub fn queue_work_unbound(work: &'static WorkStruct) -> bool {
    if work.pending.swap(true, Ordering::AcqRel) {
        return false;
    }
    UNBOUND_POOL.insert(work);
    true
}

fn delayed_work_timer_fn(data: usize) {
    // SAFETY: `schedule_delayed_work` passed the address of a `&'static DelayedWork`.
    let dwork = unsafe { &*(data as *const DelayedWork) };
    local_pool().insert(&dwork.work);
}

/// Queue `dwork` after `delay` jiffies (Linux's `schedule_delayed_work`). True if it was
/// not already pending.
pub fn schedule_delayed_work(dwork: &'static DelayedWork, delay: u64) -> bool {
    if dwork.work.pending.swap(true, Ordering::AcqRel) {
        return false;
    }
    let expires = crate::kernel::time::jiffies() + delay;
    add_timer(
        expires,
        delayed_work_timer_fn,
        dwork as *const DelayedWork as usize,
    );
    true
}

/// A kworker's loop (Linux's `worker_thread`): `pool` is the address of its pool.
fn worker_thread(pool: usize) -> i32 {
    // SAFETY: the workers are started with the address of a static pool.
    let pool = unsafe { &*(pool as *const WorkerPool) };
    while !kthread_should_stop() {
        let next = pool.items.lock().pop_front();
        match next {
            Some(work) => {
                work.pending.store(false, Ordering::Release);
                (work.func)(work);
            }
            None => pool.more.wait_event_state(
                crate::kernel::task::state::TASK_INTERRUPTIBLE,
                true,
                || !pool.items.lock().is_empty() || kthread_should_stop(),
            ),
        }
    }
    0
}

/// Start `cpu`'s bound worker, `kworker/N:0` (Linux's `workqueue_online_cpu`, the
/// CPU-hotplug step of a CPU coming online). Needs kthreadd; does nothing if the worker
/// is there already.
pub fn workqueue_online_cpu(cpu: usize) {
    let Some(pool) = CPU_POOLS.get(cpu) else {
        return;
    };
    if pool.online.load(Ordering::Acquire) {
        return;
    }
    let name = alloc::format!("kworker/{cpu}:0");
    let arg = pool as *const WorkerPool as usize;
    match kthread_create_on_cpu(worker_thread, arg, cpu, &name) {
        Ok(task) => {
            pool.online.store(true, Ordering::Release);
            wake_up_process(&task);
        }
        Err(e) => log::error!("workqueue: cannot create {name}: {e}"),
    }
}

/// Start the workers: the unbound one, and one bound to every online CPU (Linux's
/// `workqueue_init`). Needs kthreadd.
pub fn workqueue_init() {
    // Linux numbers the unbound pools after two per-CPU pools (normal, high priority) for
    // every possible CPU.
    let name = alloc::format!("kworker/u{}:0", 2 * crate::kernel::smp::num_possible_cpus());
    let arg = &UNBOUND_POOL as *const WorkerPool as usize;
    match kthread_run(worker_thread, arg, &name) {
        Ok(_) => UNBOUND_POOL.online.store(true, Ordering::Release),
        Err(e) => log::error!("workqueue: cannot create {name}: {e}"),
    }
    for cpu in crate::kernel::smp::cpu_online_mask().iter() {
        workqueue_online_cpu(cpu);
    }
}
