//! Wait queues: sleeping until a condition holds (Linux: `kernel/sched/wait.c`,
//! `include/linux/wait.h`).
//!
//! A waiter puts itself on the queue, sets its state to sleeping, re-checks the condition
//! and only then schedules; a waker changes the condition first and then wakes the queue.
//! Either order of the two leaves the waiter runnable, so no wake-up is lost.
//!
//! A wake-up with nobody queued (the common case: a mutex released with no waiter) skips
//! the queue's lock: the waiter counts itself in `queued` and then, after a full barrier,
//! re-checks the condition; the waker changes the condition and then, after a full
//! barrier, reads `queued`. One of the two must see the other's write (Linux's
//! `wq_has_sleeper` with its `smp_mb`).

use alloc::collections::VecDeque;
use core::sync::atomic::{fence, AtomicU64, AtomicUsize, Ordering};

use super::core::{schedule, set_current_state, try_to_wake_up};
use crate::kernel::errno::Errno;
use crate::kernel::locking::SpinLock;
use crate::kernel::signal::{signal_pending, ERESTARTSYS};
use crate::kernel::task::{current, state, TaskRef};

struct Waiter {
    task: TaskRef,
    id: u64,
    exclusive: bool,
}

/// A queue of sleeping tasks (Linux's `wait_queue_head_t`).
pub struct WaitQueueHead {
    waiters: SpinLock<VecDeque<Waiter>>,
    /// How many entries `waiters` has, readable without its lock.
    queued: AtomicUsize,
}

static NEXT_WAITER_ID: AtomicU64 = AtomicU64::new(1);

impl Default for WaitQueueHead {
    fn default() -> Self {
        Self::new()
    }
}

impl WaitQueueHead {
    /// An empty queue.
    pub const fn new() -> Self {
        Self {
            waiters: SpinLock::new(VecDeque::new()),
            queued: AtomicUsize::new(0),
        }
    }

    /// Number of tasks waiting (for tests and statistics).
    pub fn len(&self) -> usize {
        self.waiters.lock().len()
    }

    /// True if nobody waits.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    fn prepare_to_wait(&self, id: u64, task_state: u32, exclusive: bool) {
        let mut waiters = self.waiters.lock();
        if !waiters.iter().any(|w| w.id == id) {
            let waiter = Waiter {
                task: current().get_ref(),
                id,
                exclusive,
            };
            if exclusive {
                waiters.push_back(waiter);
            } else {
                waiters.push_front(waiter);
            }
            self.queued.fetch_add(1, Ordering::Relaxed);
        }
        set_current_state(task_state);
        // Counted before the caller re-checks its condition: see the module comment.
        fence(Ordering::SeqCst);
    }

    fn finish_wait(&self, id: u64) {
        set_current_state(state::TASK_RUNNING);
        let mut waiters = self.waiters.lock();
        let before = waiters.len();
        waiters.retain(|w| w.id != id);
        self.queued
            .fetch_sub(before - waiters.len(), Ordering::Relaxed);
    }

    /// Sleep until `condition` returns true (Linux's `wait_event`). `exclusive` waiters are
    /// woken one at a time by `wake_up`.
    pub fn wait_event_state(
        &self,
        task_state: u32,
        exclusive: bool,
        mut condition: impl FnMut() -> bool,
    ) {
        if condition() {
            return;
        }
        let id = NEXT_WAITER_ID.fetch_add(1, Ordering::Relaxed);
        loop {
            self.prepare_to_wait(id, task_state, exclusive);
            if condition() {
                break;
            }
            schedule();
        }
        self.finish_wait(id);
    }

    /// Sleep, uninterruptibly, until `condition` holds.
    pub fn wait_event(&self, condition: impl FnMut() -> bool) {
        self.wait_event_state(state::TASK_UNINTERRUPTIBLE, false, condition)
    }

    /// Sleep until `condition` holds or a signal is pending (Linux's
    /// `wait_event_interruptible`). Err([`ERESTARTSYS`]) if a signal ended the sleep: the
    /// system call returns it, and `do_signal` turns it into EINTR or a restart.
    ///
    /// [`ERESTARTSYS`]: crate::kernel::signal::ERESTARTSYS
    pub fn wait_event_interruptible(
        &self,
        mut condition: impl FnMut() -> bool,
    ) -> Result<(), Errno> {
        if condition() {
            return Ok(());
        }
        let id = NEXT_WAITER_ID.fetch_add(1, Ordering::Relaxed);
        let result = loop {
            self.prepare_to_wait(id, state::TASK_INTERRUPTIBLE, false);
            if condition() {
                break Ok(());
            }
            if signal_pending(current()) {
                break Err(ERESTARTSYS);
            }
            schedule();
        };
        self.finish_wait(id);
        result
    }

    /// Sleep until `condition` holds or `timeout` jiffies pass. Returns the jiffies left
    /// (at least 1) if the condition came true, 0 on timeout (Linux's `wait_event_timeout`).
    pub fn wait_event_timeout(&self, mut condition: impl FnMut() -> bool, timeout: u64) -> u64 {
        if condition() {
            return timeout.max(1);
        }
        let id = NEXT_WAITER_ID.fetch_add(1, Ordering::Relaxed);
        let mut left = timeout;
        let result = loop {
            self.prepare_to_wait(id, state::TASK_UNINTERRUPTIBLE, false);
            if condition() {
                break left.max(1);
            }
            if left == 0 {
                break 0;
            }
            left = crate::kernel::time::timer::schedule_timeout(left);
        };
        self.finish_wait(id);
        result
    }

    /// Sleep until `condition` holds, a signal is pending, or `timeout` jiffies pass (Linux's
    /// `wait_event_interruptible_timeout`): Ok(jiffies left, at least 1) if the condition
    /// came true, Ok(0) on timeout, Err(ERESTARTSYS) for a signal.
    pub fn wait_event_interruptible_timeout(
        &self,
        mut condition: impl FnMut() -> bool,
        timeout: u64,
    ) -> Result<u64, Errno> {
        if condition() {
            return Ok(timeout.max(1));
        }
        let id = NEXT_WAITER_ID.fetch_add(1, Ordering::Relaxed);
        let mut left = timeout;
        let result = loop {
            self.prepare_to_wait(id, state::TASK_INTERRUPTIBLE, false);
            if condition() {
                break Ok(left.max(1));
            }
            if signal_pending(current()) {
                break Err(ERESTARTSYS);
            }
            if left == 0 {
                break Ok(0);
            }
            left = crate::kernel::time::timer::schedule_timeout(left);
        };
        self.finish_wait(id);
        result
    }

    /// Wake every non-exclusive waiter and up to `nr_exclusive` exclusive ones (Linux's
    /// `__wake_up`). Returns how many were woken.
    pub fn wake_up_nr(&self, mut nr_exclusive: usize) -> usize {
        // The caller's change to the condition is visible before `queued` is read.
        fence(Ordering::SeqCst);
        if self.queued.load(Ordering::Relaxed) == 0 {
            return 0;
        }
        let waiters = self.waiters.lock();
        let mut woken = 0;
        for waiter in waiters.iter() {
            if try_to_wake_up(
                &waiter.task,
                state::TASK_INTERRUPTIBLE | state::TASK_UNINTERRUPTIBLE,
            ) {
                woken += 1;
                if waiter.exclusive {
                    nr_exclusive = nr_exclusive.saturating_sub(1);
                    if nr_exclusive == 0 {
                        break;
                    }
                }
            }
        }
        woken
    }

    /// Wake the non-exclusive waiters and one exclusive one (Linux's `wake_up`).
    pub fn wake_up(&self) -> usize {
        self.wake_up_nr(1)
    }

    /// Wake every waiter (Linux's `wake_up_all`).
    pub fn wake_up_all(&self) -> usize {
        self.wake_up_nr(usize::MAX)
    }
}
