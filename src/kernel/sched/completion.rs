//! Completions: "wait until this has happened" (Linux: `kernel/sched/completion.c`).
//!
//! `complete` counts one completion and wakes one waiter; `complete_all` lets every
//! present and future waiter through. `rest_init` uses one, `kthreadd_done`, to hold
//! `kernel_init` back until kthreadd exists.

use super::wait::WaitQueueHead;
use crate::kernel::locking::SpinLock;

/// `done` at this value means `complete_all` was called (Linux's `UINT_MAX`).
const COMPLETE_ALL: u32 = u32::MAX;

/// An event tasks can wait for (Linux's `struct completion`).
pub struct Completion {
    done: SpinLock<u32>,
    wait: WaitQueueHead,
}

impl Default for Completion {
    fn default() -> Self {
        Self::new()
    }
}

impl Completion {
    /// Not yet completed.
    pub const fn new() -> Self {
        Self {
            done: SpinLock::new(0),
            wait: WaitQueueHead::new(),
        }
    }

    /// Signal one completion: one waiter (present or future) gets through.
    pub fn complete(&self) {
        {
            let mut done = self.done.lock();
            if *done != COMPLETE_ALL {
                *done += 1;
            }
        }
        self.wait.wake_up_all();
    }

    /// Let every waiter through, now and later.
    pub fn complete_all(&self) {
        *self.done.lock() = COMPLETE_ALL;
        self.wait.wake_up_all();
    }

    /// Take one completion if there is one, without sleeping (Linux's `try_wait_for_completion`).
    pub fn try_wait(&self) -> bool {
        let mut done = self.done.lock();
        match *done {
            0 => false,
            COMPLETE_ALL => true,
            _ => {
                *done -= 1;
                true
            }
        }
    }

    /// Sleep until completed, then consume one completion.
    pub fn wait_for_completion(&self) {
        self.wait.wait_event(|| self.try_wait());
    }

    /// As `wait_for_completion`, giving up after `timeout` jiffies. True if completed.
    pub fn wait_for_completion_timeout(&self, timeout: u64) -> bool {
        self.wait.wait_event_timeout(|| self.try_wait(), timeout) > 0
    }

    /// True if a completion is available (Linux's `completion_done`).
    pub fn done(&self) -> bool {
        *self.done.lock() > 0
    }

    /// Back to not completed (Linux's `reinit_completion`).
    pub fn reinit(&self) {
        *self.done.lock() = 0;
    }
}
