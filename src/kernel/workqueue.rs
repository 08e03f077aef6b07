//! Work queues: functions run later, in process context, by kworker threads
//! (Linux: `kernel/workqueue.c`).
//!
//! `schedule_work` queues a work item on the system workqueue, served by `kworker/0:0`, a
//! kernel thread kthreadd creates at boot. Delayed work arms a timer that queues it when it
//! fires. Cradle uses it for the load average, recomputed every five seconds.

use alloc::collections::VecDeque;
use core::sync::atomic::{AtomicBool, Ordering};

use crate::kernel::kthread::{kthread_run, kthread_should_stop};
use crate::kernel::locking::SpinLock;
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

struct Queue {
    items: SpinLock<VecDeque<&'static WorkStruct>>,
    more: WaitQueueHead,
}

static SYSTEM_WQ: Queue = Queue {
    items: SpinLock::new(VecDeque::new()),
    more: WaitQueueHead::new(),
};

/// Queue `work` on the system workqueue unless it is already queued (Linux's
/// `schedule_work`). True if it was queued now.
pub fn schedule_work(work: &'static WorkStruct) -> bool {
    if work.pending.swap(true, Ordering::AcqRel) {
        return false;
    }
    SYSTEM_WQ.items.lock().push_back(work);
    SYSTEM_WQ.more.wake_up();
    true
}

fn delayed_work_timer_fn(data: usize) {
    // SAFETY: `schedule_delayed_work` passed the address of a `&'static DelayedWork`.
    let dwork = unsafe { &*(data as *const DelayedWork) };
    SYSTEM_WQ.items.lock().push_back(&dwork.work);
    SYSTEM_WQ.more.wake_up();
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

/// A kworker's loop (Linux's `worker_thread`).
fn worker_thread(_unused: usize) -> i32 {
    while !kthread_should_stop() {
        let next = SYSTEM_WQ.items.lock().pop_front();
        match next {
            Some(work) => {
                work.pending.store(false, Ordering::Release);
                (work.func)(work);
            }
            None => SYSTEM_WQ.more.wait_event_state(
                crate::kernel::task::state::TASK_INTERRUPTIBLE,
                true,
                || !SYSTEM_WQ.items.lock().is_empty() || kthread_should_stop(),
            ),
        }
    }
    0
}

/// Start the system workqueue's worker (Linux's `workqueue_init`). Needs kthreadd.
pub fn workqueue_init() {
    if let Err(e) = kthread_run(worker_thread, 0, "kworker/0:0") {
        log::error!("workqueue: cannot create kworker/0:0: {e}");
    }
}
