//! Kernel time: the tick rate and the jiffies counter (Linux: `kernel/time/`, `jiffies.c`,
//! `tick-common.c`'s `tick_handle_periodic`).
//!
//! The clock event driver (`drivers/clocksource/arm_arch_timer.rs`) interrupts every CPU
//! [`HZ`] times a second and calls [`tick_handle_periodic`]; on one CPU (Linux's
//! `tick_do_timer_cpu`) it counts the tick in [`JIFFIES`] and publishes the time to the vDSO
//! (`vsyscall`), and on every CPU it then runs the hook that the scheduler installs with
//! [`set_tick_hook`]. The wall clock (CLOCK_REALTIME) is in
//! `timekeeping`; `timeconv` turns its seconds into dates (portable, built for the host's
//! unit tests too).

use core::sync::atomic::{AtomicU64, Ordering};

#[cfg(target_os = "none")]
use crate::kernel::locking::InitOnce;

/// Ticks per second (Linux's `CONFIG_HZ`).
pub const HZ: u64 = 250;

/// Ticks since the tick started (Linux's `jiffies_64`).
pub static JIFFIES: AtomicU64 = AtomicU64::new(0);

/// What runs on every tick after jiffies moved on (the scheduler's `scheduler_tick`).
#[cfg(target_os = "none")]
static TICK_HOOK: InitOnce<fn()> = InitOnce::new();

/// Install the function every tick calls. There is one hook: installing a second one is a
/// bug, and panics.
#[cfg(target_os = "none")]
pub fn set_tick_hook(hook: fn()) {
    assert!(TICK_HOOK.set(hook).is_ok(), "tick hook installed twice");
}

/// The CPU that advances jiffies and publishes the time (Linux's `tick_do_timer_cpu`):
/// every CPU ticks, but time must move on once per period, not once per CPU. The boot CPU,
/// which never goes offline.
#[cfg(target_os = "none")]
pub const TICK_DO_TIMER_CPU: usize = 0;

/// The periodic tick, from the timer interrupt with IRQs masked, on every CPU (Linux's
/// `tick_handle_periodic` → `tick_periodic`), `ticks` (≥ 1) periods after the last one:
/// `TICK_DO_TIMER_CPU` does `do_timer(ticks)`, so jiffies follow the counter, and every CPU
/// runs the hook (its own scheduler tick) once — missed periods are not replayed.
#[cfg(target_os = "none")]
pub fn tick_handle_periodic(ticks: u64) {
    if crate::arch::percpu::smp_processor_id() == TICK_DO_TIMER_CPU {
        JIFFIES.fetch_add(ticks, Ordering::Relaxed);
        vsyscall::update_vsyscall();
    }
    if let Some(hook) = TICK_HOOK.get() {
        hook();
    }
    // Every CPU charges its tick to the task it interrupted and to its own CPU-time
    // counters (Linux's `update_process_times`).
    crate::kernel::sched::cputime::update_process_times();
}

#[cfg(target_os = "none")]
pub mod hrtimer;
#[cfg(target_os = "none")]
pub mod itimer;
pub mod itimerspec;
#[cfg(target_os = "none")]
pub mod posix_cpu_timers;
#[cfg(target_os = "none")]
pub mod posix_timers;
pub mod timeconv;
#[cfg(target_os = "none")]
pub mod timekeeping;
#[cfg(target_os = "none")]
pub mod timer;
#[cfg(target_os = "none")]
pub mod vsyscall;

/// Ticks since boot.
pub fn jiffies() -> u64 {
    JIFFIES.load(Ordering::Relaxed)
}

/// The counter's factor to seconds (`vdso_data::sec_mult` of CNTFRQ_EL0), computed once.
#[cfg(target_os = "none")]
static CLOCK_SEC_MULT: AtomicU64 = AtomicU64::new(0);

/// Counter ticks to seconds as a 64.64 fixed-point factor, for [`ktime_get_ns`] and the vDSO
/// (Linux's clocksource `mult`). CNTFRQ_EL0 never changes, so a race computes it twice,
/// the same.
#[cfg(target_os = "none")]
pub fn clock_sec_mult() -> u64 {
    let mult = CLOCK_SEC_MULT.load(Ordering::Relaxed);
    if mult != 0 {
        return mult;
    }
    let mult = crate::arch::vdso::vdso_data::sec_mult(crate::arch::arch_timer::frequency());
    CLOCK_SEC_MULT.store(mult, Ordering::Relaxed);
    mult
}

/// Nanoseconds since the generic counter started (power-on): the kernel's monotonic clock
/// (Linux's `ktime_get` on a system whose clocksource is the arch timer). It is the vDSO's
/// `CLOCK_MONOTONIC` to the nanosecond: both are `vdso_data::cycles_to_timespec` of the
/// counter (within 3.4·10⁻¹² of count / CNTFRQ, never behind it).
#[cfg(target_os = "none")]
pub fn ktime_get_ns() -> u64 {
    cycles_to_ns(crate::arch::arch_timer::counter())
}

/// The monotonic clock's nanoseconds at counter value `cycles`.
#[cfg(target_os = "none")]
pub fn cycles_to_ns(cycles: u64) -> u64 {
    let (sec, nsec) = crate::arch::vdso::vdso_data::cycles_to_timespec(cycles, clock_sec_mult());
    sec.saturating_mul(1_000_000_000).saturating_add(nsec)
}

/// Seconds since the epoch by the wall clock (see `timekeeping`).
#[cfg(target_os = "none")]
pub fn realtime_seconds() -> i64 {
    (timekeeping::ktime_get_real_ns() / 1_000_000_000) as i64
}

/// A `struct timespec` from user space in nanoseconds (Linux's `get_timespec64` with
/// `timespec64_valid`): EFAULT, or EINVAL for a negative time or nanoseconds out of range.
#[cfg(target_os = "none")]
pub fn get_timespec_ns(ptr: u64) -> Result<u64, crate::kernel::errno::Errno> {
    let mut ts = [0u8; 16];
    crate::arch::uaccess::copy_from_user(&mut ts, ptr)?;
    let sec = i64::from_le_bytes(ts[..8].try_into().unwrap_or([0; 8]));
    let nsec = i64::from_le_bytes(ts[8..].try_into().unwrap_or([0; 8]));
    if sec < 0 || !(0..1_000_000_000).contains(&nsec) {
        return Err(crate::kernel::errno::Errno::EINVAL);
    }
    Ok((sec as u64)
        .saturating_mul(1_000_000_000)
        .saturating_add(nsec as u64))
}

/// A relative timeout from user space as a monotonic deadline (Linux's
/// `poll_select_set_timeout`): `None` for a null pointer (wait for ever).
#[cfg(target_os = "none")]
pub fn timeout_deadline(ptr: u64) -> Result<Option<u64>, crate::kernel::errno::Errno> {
    if ptr == 0 {
        return Ok(None);
    }
    Ok(Some(ktime_get_ns().saturating_add(get_timespec_ns(ptr)?)))
}
