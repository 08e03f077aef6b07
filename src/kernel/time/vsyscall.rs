//! Publishing the time to the vDSO (Linux: `kernel/time/vsyscall.c` `update_vsyscall`).
//!
//! The data page (`arch/arm64/kernel/vdso/vdso_data.rs` documents it) holds two kinds of
//! fields. The constants, [`vdso_data_init`] writes once, before any process can map the
//! page: the counter's conversion factor (`sec_mult`, the same one [`super::ktime_get_ns`]
//! uses) and the clocks' resolutions. The rest [`update_vsyscall`] writes on every tick (the
//! `_COARSE` clocks' base) and whenever the wall clock is set (`CLOCK_REALTIME`'s offset), so
//! that the vDSO sees a new time as soon as `settimeofday`/`clock_settime` returns. The
//! writer follows the sequence-count protocol; a lock keeps CPUs that tick at once from
//! interleaving their writes.

use core::sync::atomic::{fence, Ordering};

use crate::arch::vdso::vdso_data::{cycles_to_timespec, VdsoData, NSEC_PER_SEC};
use crate::kernel::locking::SpinLock;

/// Serialises writers (Linux holds the timekeeper's lock).
static WRITER: SpinLock<()> = SpinLock::new(());

/// Write the data page's constants (Linux's `vdso_init` → the clocksource's `vdso_clock_mode`
/// and `hrtimer_resolution`): called once, before the page is mapped anywhere.
pub fn vdso_data_init(data: &VdsoData) {
    data.sec_mult
        .store(super::clock_sec_mult(), Ordering::Relaxed);
    data.nsec_per_sec.store(NSEC_PER_SEC, Ordering::Relaxed);
    data.hres_ns
        .store(crate::kernel::sys::hres_resolution_ns(), Ordering::Relaxed);
    data.coarse_ns
        .store(crate::kernel::sys::TICK_NSEC, Ordering::Relaxed);
    update_vsyscall();
}

/// Write the changing fields into the data page (Linux's `update_vsyscall`): the monotonic
/// clock now, for the `_COARSE` clocks, and the wall clock's offset.
pub fn update_vsyscall() {
    let Some(data) = crate::arch::vdso::vdso_data() else {
        return;
    };
    let _guard = WRITER.lock();
    let (sec, nsec) =
        cycles_to_timespec(crate::arch::arch_timer::counter(), super::clock_sec_mult());
    let offs = super::timekeeping::offs_real_ns();
    write_begin(data);
    data.coarse_mono_sec.store(sec, Ordering::Relaxed);
    data.coarse_mono_nsec.store(nsec, Ordering::Relaxed);
    data.real_off_sec
        .store(offs / NSEC_PER_SEC, Ordering::Relaxed);
    data.real_off_nsec
        .store(offs % NSEC_PER_SEC, Ordering::Relaxed);
    write_end(data);
}

/// The `_COARSE` clocks as the vDSO reads them (Linux's `ktime_get_coarse_ts64`): the
/// monotonic clock at the last tick and the wall clock's offset then, in nanoseconds, read
/// from the data page under its sequence count so that the system call and the vDSO never
/// disagree. Before the vDSO exists, the monotonic clock now and the offset now.
pub fn ktime_get_coarse_ns() -> (u64, u64) {
    let Some(data) = crate::arch::vdso::vdso_data() else {
        return (super::ktime_get_ns(), super::timekeeping::offs_real_ns());
    };
    loop {
        let seq = data.seq.load(Ordering::Acquire);
        if seq & 1 != 0 {
            core::hint::spin_loop();
            continue;
        }
        let sec = data.coarse_mono_sec.load(Ordering::Relaxed);
        let nsec = data.coarse_mono_nsec.load(Ordering::Relaxed);
        let off_sec = data.real_off_sec.load(Ordering::Relaxed);
        let off_nsec = data.real_off_nsec.load(Ordering::Relaxed);
        fence(Ordering::Acquire);
        if data.seq.load(Ordering::Relaxed) == seq {
            return (
                sec.saturating_mul(NSEC_PER_SEC).saturating_add(nsec),
                off_sec
                    .saturating_mul(NSEC_PER_SEC)
                    .saturating_add(off_nsec),
            );
        }
    }
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
