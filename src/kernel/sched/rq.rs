//! Run queues (Linux keeps `struct rq` in `kernel/sched/sched.h`): one per CPU, with its
//! lock, its CFS tree of queued tasks, its running and idle tasks, and the count of runnable
//! tasks other CPUs read without the lock; and a task's scheduling entity, which its run
//! queue's lock protects. `core.rs` schedules with them; `balance.rs` moves tasks between
//! them.

use core::cell::UnsafeCell;
use core::sync::atomic::{AtomicUsize, Ordering};

use super::fair::{CfsRq, SchedEntity};
use crate::arch::irqflags::{irqs_disabled, local_irq_disable, local_irq_enable};
use crate::arch::percpu::{smp_processor_id, NR_CPUS};
use crate::kernel::locking::RawSpinLock;
use crate::kernel::task::{TaskRef, TaskStruct};

/// What a run queue holds. Only touched with `Rq::lock` held.
pub(super) struct RqInner {
    pub(super) cfs: CfsRq<TaskRef>,
    /// The running task.
    pub(super) curr: *const TaskStruct,
    /// This CPU's idle task.
    pub(super) idle: *const TaskStruct,
    /// Context switches so far.
    pub(super) nr_switches: u64,
    /// A task `__schedule` took off this queue because its affinity excludes this CPU;
    /// `finish_task_switch` places it elsewhere once the switch away from it is done.
    pub(super) push_task: Option<TaskRef>,
}

/// One CPU's run queue (Linux's `struct rq`).
///
/// # Invariants
///
/// `inner` is only accessed with `lock` held and interrupts masked.
pub struct Rq {
    /// Held across `cpu_switch_to` and released by the next task, so it has no guard.
    pub(super) lock: RawSpinLock,
    pub(super) inner: UnsafeCell<RqInner>,
    /// Runnable tasks, the running one included (the idle task never counts). Written with
    /// `lock` held; read without it by CPUs choosing where to put work.
    pub(super) nr_running: AtomicUsize,
}

// SAFETY: `inner` is only reached with the lock held (the type's invariant); the raw task
// pointers in it are kept alive by the tasks' reference counts.
unsafe impl Sync for Rq {}

static RUNQUEUES: [Rq; NR_CPUS] = [const {
    Rq {
        lock: RawSpinLock::new(),
        inner: UnsafeCell::new(RqInner {
            cfs: CfsRq::new(),
            curr: core::ptr::null(),
            idle: core::ptr::null(),
            nr_switches: 0,
            push_task: None,
        }),
        nr_running: AtomicUsize::new(0),
    }
}; NR_CPUS];

impl Rq {
    /// Lock with interrupts masked; the caller must call `unlock_irq`. The lock is released
    /// by hand (possibly by another task, after a context switch), so this hands out the
    /// data directly instead of a guard.
    #[allow(clippy::mut_from_ref)]
    pub(super) fn lock_irq(&self) -> &mut RqInner {
        local_irq_disable();
        self.lock.lock();
        // SAFETY: the lock is held and interrupts are masked, so this is the only access.
        unsafe { &mut *self.inner.get() }
    }

    pub(super) fn unlock_irq(&self) {
        self.lock.unlock();
        local_irq_enable();
    }

    /// Lock, keeping the interrupt state (for callers that already masked interrupts).
    #[allow(clippy::mut_from_ref)]
    pub(super) fn lock_raw(&self) -> &mut RqInner {
        debug_assert!(irqs_disabled());
        self.lock.lock();
        // SAFETY: as in `lock_irq`.
        unsafe { &mut *self.inner.get() }
    }

    /// Take the lock only if it is free (interrupts already masked): how a CPU holding its
    /// own run-queue lock reaches another's without a lock-order deadlock.
    #[allow(clippy::mut_from_ref)]
    pub(super) fn try_lock_raw(&self) -> Option<&mut RqInner> {
        debug_assert!(irqs_disabled());
        if self.lock.try_lock() {
            // SAFETY: as in `lock_irq`.
            Some(unsafe { &mut *self.inner.get() })
        } else {
            None
        }
    }

    /// Count one more or one less runnable task (the lock is held).
    pub(super) fn add_nr_running(&self, delta: isize) {
        let n = self.nr_running.load(Ordering::Relaxed);
        self.nr_running
            .store(n.wrapping_add_signed(delta), Ordering::Relaxed);
    }
}

pub(super) fn cpu_rq(cpu: usize) -> &'static Rq {
    &RUNQUEUES[cpu]
}

pub(super) fn this_rq() -> &'static Rq {
    cpu_rq(smp_processor_id())
}

/// The scheduling entity of `task`.
///
/// # Safety
///
/// The caller holds the run-queue lock of the task's CPU.
#[allow(clippy::mut_from_ref)]
pub(super) unsafe fn se(task: &TaskStruct) -> &mut SchedEntity {
    // SAFETY: the caller holds the lock that protects `se` (TaskStruct's invariant).
    unsafe { &mut *task.se.get() }
}
