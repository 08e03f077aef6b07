//! The wall clock, CLOCK_REALTIME (Linux: `kernel/time/timekeeping.c`).
//!
//! The monotonic clock is the generic counter since power-on ([`super::ktime_get_ns`]). The
//! wall clock is the monotonic clock plus an offset (Linux's `offs_real`). The offset is 0
//! until something sets the time: at boot the RTC class (`drivers/rtc`, Linux's
//! `rtc_hctosys`) from a hardware clock, later `clock_settime` and `settimeofday`. On a
//! board without an RTC (the Raspberry Pi) the wall clock therefore starts at the epoch at
//! power-on, as Linux's does there.

use core::sync::atomic::{AtomicU64, Ordering};

use crate::kernel::errno::Errno;

/// Nanoseconds from the monotonic clock to the wall clock. Never negative: the wall clock
/// is never set before the moment the machine started (Linux's `do_settimeofday64` check
/// on `wall_to_monotonic`).
static OFFS_REAL_NS: AtomicU64 = AtomicU64::new(0);

/// Linux's `KTIME_SEC_MAX`: the seconds a signed 64-bit nanosecond count holds.
const KTIME_SEC_MAX: u64 = i64::MAX as u64 / 1_000_000_000;
/// Linux's `TIME_UPTIME_SEC_MAX`: 30 years of uptime kept free below that.
const TIME_UPTIME_SEC_MAX: u64 = 30 * 365 * 86_400;
/// Linux's `TIME_SETTOD_SEC_MAX`: the latest time the wall clock may be set to.
const TIME_SETTOD_SEC_MAX: u64 = KTIME_SEC_MAX - TIME_UPTIME_SEC_MAX;

/// Nanoseconds since the epoch by the wall clock (Linux's `ktime_get_real_ns`).
pub fn ktime_get_real_ns() -> u64 {
    super::ktime_get_ns().saturating_add(OFFS_REAL_NS.load(Ordering::Relaxed))
}

/// `CLOCK_REALTIME - CLOCK_MONOTONIC` in nanoseconds (Linux's `offs_real`), for the vDSO.
pub fn offs_real_ns() -> u64 {
    OFFS_REAL_NS.load(Ordering::Relaxed)
}

/// Turn a wall-clock time into the monotonic clock's (for absolute sleeps on
/// CLOCK_REALTIME); 0 if it is before the machine started.
pub fn real_to_monotonic_ns(real_ns: u64) -> u64 {
    real_ns.saturating_sub(OFFS_REAL_NS.load(Ordering::Relaxed))
}

/// EINVAL unless the wall clock may be set to this time (Linux's `timespec64_valid_settod`).
pub fn check_settod(sec: i64, nsec: i64) -> Result<(), Errno> {
    if sec < 0 || sec as u64 >= TIME_SETTOD_SEC_MAX || !(0..1_000_000_000).contains(&nsec) {
        return Err(Errno::EINVAL);
    }
    Ok(())
}

/// Set the wall clock to `sec` seconds and `nsec` nanoseconds since the epoch (Linux's
/// `do_settimeofday64`): EINVAL for a time out of range or before the machine started.
pub fn do_settimeofday64(sec: i64, nsec: i64) -> Result<(), Errno> {
    check_settod(sec, nsec)?;
    let real = sec as u64 * 1_000_000_000 + nsec as u64;
    let now = super::ktime_get_ns();
    if real < now {
        return Err(Errno::EINVAL);
    }
    OFFS_REAL_NS.store(real - now, Ordering::Relaxed);
    // timekeeping_update: the vDSO's copy of the offset follows at once.
    super::vsyscall::update_vsyscall();
    // clock_was_set: timers on the wall clock follow it.
    crate::fs::timerfd::timerfd_clock_was_set();
    super::posix_timers::posix_timers_clock_was_set();
    Ok(())
}
