//! Kernel timers and sleeping for a while (Linux: `kernel/time/timer.c`, `schedule_timeout`,
//! `msleep`).
//!
//! Timers are kept in a tree ordered by expiry (in jiffies), so each tick finds the expired
//! ones in O(log n) however many sleepers there are — the job Linux's timer wheel does. The
//! tick (`run_timers`, in interrupt context) takes the expired timers out under the lock
//! and calls them after releasing it.

use alloc::collections::BTreeMap;
use core::sync::atomic::{AtomicU64, Ordering};

use super::{jiffies, HZ};
use crate::kernel::locking::SpinLock;
use crate::kernel::sched::core::{schedule, set_current_state, wake_up_process};
use crate::kernel::task::{current, state, TaskRef};

/// A timer's callback and its argument.
#[derive(Clone, Copy)]
struct Timer {
    func: fn(usize),
    data: usize,
}

/// Identifies a pending timer, for `del_timer`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TimerId((u64, u64));

static TIMERS: SpinLock<BTreeMap<(u64, u64), Timer>> = SpinLock::new(BTreeMap::new());
static NEXT_ID: AtomicU64 = AtomicU64::new(1);

/// Call `func(data)` from the tick once `jiffies >= expires` (Linux's `add_timer`).
pub fn add_timer(expires: u64, func: fn(usize), data: usize) -> TimerId {
    let key = (expires, NEXT_ID.fetch_add(1, Ordering::Relaxed));
    TIMERS.lock().insert(key, Timer { func, data });
    TimerId(key)
}

/// Cancel a timer. True if it was still pending (so it will never run).
pub fn del_timer(id: TimerId) -> bool {
    TIMERS.lock().remove(&id.0).is_some()
}

/// Pending timers (for tests and statistics).
pub fn nr_timers() -> usize {
    TIMERS.lock().len()
}

/// Run every expired timer. Called from the tick.
pub fn run_timers() {
    let now = jiffies();
    loop {
        let expired = {
            let mut timers = TIMERS.lock();
            match timers.first_key_value() {
                Some((&(expires, _), _)) if expires <= now => timers.pop_first(),
                _ => None,
            }
        };
        match expired {
            Some((_, timer)) => (timer.func)(timer.data),
            None => break,
        }
    }
}

/// Milliseconds to jiffies, rounded up (Linux's `msecs_to_jiffies`).
pub fn msecs_to_jiffies(ms: u64) -> u64 {
    (ms * HZ).div_ceil(1000)
}

fn process_timeout(data: usize) {
    // SAFETY: `schedule_timeout` turned a TaskRef into this pointer for the timer; the timer
    // ran, so the reference is ours to take back.
    let task = unsafe { TaskRef::from_raw(data as *const _) };
    wake_up_process(&task);
}

/// Sleep until woken or `timeout` jiffies pass, in the state the caller already set
/// (Linux's `schedule_timeout`). Returns the jiffies left (0 if the time ran out).
pub fn schedule_timeout(timeout: u64) -> u64 {
    let expires = jiffies() + timeout;
    let task = current().get_ref().into_raw();
    let id = add_timer(expires, process_timeout, task as usize);
    schedule();
    if del_timer(id) {
        // Woken before the timer ran: the reference is still ours.
        // SAFETY: the pointer came from `into_raw` above and the timer never consumed it.
        drop(unsafe { TaskRef::from_raw(task) });
    }
    expires.saturating_sub(jiffies())
}

/// Sleep at least `ms` milliseconds (Linux's `msleep`: one jiffy more, so a sleep that
/// starts just before a tick is not cut short).
pub fn msleep(ms: u64) {
    let mut timeout = msecs_to_jiffies(ms) + 1;
    while timeout > 0 {
        set_current_state(state::TASK_UNINTERRUPTIBLE);
        timeout = schedule_timeout(timeout);
    }
}
