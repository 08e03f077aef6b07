//! Publishing the time to the vDSO (Linux: `kernel/time/vsyscall.c` `update_vsyscall`).
//!
//! On every tick (and once when the vDSO is set up, and whenever the wall clock is set) the
//! clock's state goes to the vDSO data page: the counter now (`cycle_last`),
//! `CLOCK_MONOTONIC` at that count, the wall clock's offset (`timekeeping`), and the scale
//! from counter ticks to nanoseconds. Between ticks the vDSO extends the time itself from
//! the counter. The writer follows the sequence-count protocol that
//! `arch/arm64/kernel/vdso/vdso_data.rs` describes; a lock keeps CPUs that tick at once from
//! interleaving their writes.

use core::sync::atomic::{fence, Ordering};

use crate::arch::vdso::vdso_data::{
    VdsoData, VDSO_CLOCKMODE_ARCHTIMER, VDSO_CLOCKMODE_NONE, VDSO_SHIFT,
};
use crate::kernel::locking::SpinLock;

const NSEC_PER_SEC: u64 = 1_000_000_000;

/// Serialises writers (Linux holds the timekeeper's lock).
static WRITER: SpinLock<()> = SpinLock::new(());

/// Nanoseconds per counter tick times `2^VDSO_SHIFT`, or 0 if that does not fit.
pub fn vdso_mult(freq: u64) -> u32 {
    if freq == 0 {
        return 0;
    }
    u32::try_from((1_000_000_000u128 << VDSO_SHIFT) / u128::from(freq)).unwrap_or(0)
}

/// Write the clock's state into the data page (Linux's `update_vsyscall`).
pub fn update_vsyscall() {
    let Some(data) = crate::arch::vdso::vdso_data() else {
        return;
    };
    // The counter is read under the lock, so the writers' `cycle_last` values never go
    // backwards (a CPU that read it first could otherwise publish after one that read it
    // later).
    let _guard = WRITER.lock();
    let (count, freq) = crate::arch::arch_timer::counter_and_frequency();
    let mult = vdso_mult(freq);
    write_begin(data);
    if mult == 0 {
        data.clock_mode
            .store(VDSO_CLOCKMODE_NONE, Ordering::Relaxed);
    } else {
        let mono = ((u128::from(count) * 1_000_000_000) / u128::from(freq)) as u64;
        let real = mono.saturating_add(super::timekeeping::offs_real_ns());
        data.clock_mode
            .store(VDSO_CLOCKMODE_ARCHTIMER, Ordering::Relaxed);
        data.cycle_last.store(count, Ordering::Relaxed);
        data.mult.store(mult, Ordering::Relaxed);
        data.shift.store(VDSO_SHIFT, Ordering::Relaxed);
        data.mono_sec.store(mono / NSEC_PER_SEC, Ordering::Relaxed);
        data.mono_snsec
            .store((mono % NSEC_PER_SEC) << VDSO_SHIFT, Ordering::Relaxed);
        data.real_sec.store(real / NSEC_PER_SEC, Ordering::Relaxed);
        data.real_snsec
            .store((real % NSEC_PER_SEC) << VDSO_SHIFT, Ordering::Relaxed);
        data.hres_ns
            .store(crate::kernel::sys::hres_resolution_ns(), Ordering::Relaxed);
        data.coarse_ns
            .store(crate::kernel::sys::TICK_NSEC, Ordering::Relaxed);
    }
    write_end(data);
}

/// Make the sequence count odd: readers retry until [`write_end`].
fn write_begin(data: &VdsoData) {
    let seq = data.seq.load(Ordering::Relaxed);
    data.seq.store(seq.wrapping_add(1), Ordering::Relaxed);
    fence(Ordering::Release);
}

/// Make the sequence count even again: the new values are published.
fn write_end(data: &VdsoData) {
    let seq = data.seq.load(Ordering::Relaxed);
    data.seq.store(seq.wrapping_add(1), Ordering::Release);
}
