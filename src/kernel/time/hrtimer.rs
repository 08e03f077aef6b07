//! Timers that expire at a time of the monotonic clock, in nanoseconds, for timerfd and POSIX
//! timers (the part of Linux's `kernel/time/hrtimer.c` they use: `hrtimer_start`,
//! `hrtimer_cancel`; `hrtimer_forward` and the `itimerspec` conversions are in the portable
//! `itimerspec.rs`, re-exported here).
//!
//! Cradle has no high-resolution clock event: an armed timer is a kernel timer (`timer.rs`)
//! for the first tick at or after its time, so it fires up to one tick (4 ms) late and never
//! early: if the tick comes before the time by the monotonic clock, the timer waits one more
//! tick. Each arming gets a new key; the owner keeps the key of its current arming and
//! ignores an expiry with another (one that raced with a re-arm or a cancel).
//!
//! The callback runs from the tick, in interrupt context, with no lock of this file held: it
//! may take spinlocks, wake tasks and arm timers, nothing that sleeps.

use alloc::collections::BTreeMap;
use alloc::sync::Weak;
use core::sync::atomic::{AtomicU64, Ordering};

use super::timer::{add_timer, del_timer, TimerId};
use super::{jiffies, ktime_get_ns, HZ};
use crate::kernel::locking::SpinLock;

pub use super::itimerspec::{hrtimer_forward, itimerspec_from_bytes, itimerspec_to_bytes};

/// The owner of a timer.
pub trait HrTimerCallback: Send + Sync {
    /// The arming `key` expired (Linux's `hrtimer.function`). Interrupt context.
    fn hrtimer_expired(&self, key: u64);
}

/// An armed timer: its owner, its time (monotonic ns) and the kernel timer behind it.
struct Armed {
    owner: Weak<dyn HrTimerCallback>,
    expires_ns: u64,
    timer: TimerId,
}

/// Every armed timer by key. Lock: its own; taken before the kernel timers' lock when
/// arming, never while a callback runs.
static ARMED: SpinLock<BTreeMap<u64, Armed>> = SpinLock::new(BTreeMap::new());
static NEXT_KEY: AtomicU64 = AtomicU64::new(1);

const TICK_NS: u64 = 1_000_000_000 / HZ;

/// The first tick at or after `expires_ns`.
fn tick_for(expires_ns: u64) -> u64 {
    jiffies() + expires_ns.saturating_sub(ktime_get_ns()).div_ceil(TICK_NS)
}

/// Arm a timer for `owner` at `expires_ns` on the monotonic clock; its key.
pub fn hrtimer_start(owner: Weak<dyn HrTimerCallback>, expires_ns: u64) -> u64 {
    let key = NEXT_KEY.fetch_add(1, Ordering::Relaxed);
    let mut armed = ARMED.lock();
    let timer = add_timer(tick_for(expires_ns), hrtimer_fire, key as usize);
    armed.insert(
        key,
        Armed {
            owner,
            expires_ns,
            timer,
        },
    );
    key
}

/// Disarm the timer `key` (nothing if it has fired or was cancelled).
pub fn hrtimer_cancel(key: u64) {
    if let Some(armed) = ARMED.lock().remove(&key) {
        del_timer(armed.timer);
    }
}

/// The kernel timer of arming `key` ran.
fn hrtimer_fire(key: usize) {
    let key = key as u64;
    let owner = {
        let mut armed = ARMED.lock();
        let Some(entry) = armed.get_mut(&key) else {
            return;
        };
        if ktime_get_ns() < entry.expires_ns {
            // The tick came early by the clock: wait for the next one.
            entry.timer = add_timer(
                tick_for(entry.expires_ns).max(jiffies() + 1),
                hrtimer_fire,
                key as usize,
            );
            return;
        }
        armed.remove(&key).map(|a| a.owner)
    };
    if let Some(owner) = owner.and_then(|o| o.upgrade()) {
        owner.hrtimer_expired(key);
    }
}

/// A timer's `value_ns`, absolute or relative, on CLOCK_REALTIME or not, as a time on the
/// monotonic clock (an absolute CLOCK_REALTIME time moves by the wall clock's offset;
/// CLOCK_BOOTTIME is the monotonic clock, Cradle never suspends).
pub fn expiry_ns(realtime: bool, absolute: bool, value_ns: u64) -> u64 {
    if !absolute {
        ktime_get_ns().saturating_add(value_ns)
    } else if realtime {
        super::timekeeping::real_to_monotonic_ns(value_ns)
    } else {
        value_ns
    }
}
