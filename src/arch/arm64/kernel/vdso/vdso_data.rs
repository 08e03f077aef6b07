//! The vDSO data page (`[vvar]`): what the kernel publishes for the vDSO's clock functions
//! (Linux: `include/vdso/datapage.h`, `struct vdso_data`).
//!
//! This file is compiled twice: into the kernel, which writes the page on every tick
//! (`kernel::time::vsyscall`), and into the vDSO (`vgettimeofday.rs`), which only reads it.
//! The page is one physical page mapped read-only into every process, the first of the
//! two `[vvar]` pages just below the vDSO's text.
//!
//! # The protocol (a sequence count, Linux's `vdso_write_begin`/`vdso_read_retry`)
//!
//! The writer makes `seq` odd, writes the fields, and makes `seq` even again; a reader
//! takes a snapshot only between two equal, even readings of `seq`. Every field is an
//! atomic so that both sides are plain Rust with no data race.
//!
//! # The clocks
//!
//! `CLOCK_MONOTONIC` (and `_RAW`, `BOOTTIME`: Cradle does not slew or suspend) is the
//! generic counter in nanoseconds since power-on; `CLOCK_REALTIME` (and `TAI`) is that plus
//! the wall clock's offset. As Linux's `vdso_timestamp`, each is kept at the last update as
//! seconds and nanoseconds shifted left by `shift` (`*_sec`, `*_snsec`), taken when the
//! counter read `cycle_last`. A reader adds `(now - cycle_last) * mult` to the shifted
//! nanoseconds, shifts back, and carries whole seconds (rarely more than none): no
//! division. The `_COARSE` clocks are the values at the last update, without the counter.

use core::sync::atomic::{AtomicI32, AtomicU32, AtomicU64};

/// `clock_mode`: the counter may be read from user space (Linux's
/// `VDSO_CLOCKMODE_ARCHTIMER`).
pub const VDSO_CLOCKMODE_ARCHTIMER: u32 = 1;
/// `clock_mode`: the vDSO must ask the kernel (`VDSO_CLOCKMODE_NONE`): before the first
/// update.
pub const VDSO_CLOCKMODE_NONE: u32 = 0;
/// The shift of `mult`: a counter delta times `mult`, shifted right this much, is
/// nanoseconds.
pub const VDSO_SHIFT: u32 = 24;

/// The data page's contents (at its start; the rest of the page is zero).
#[repr(C)]
pub struct VdsoData {
    /// The sequence count: odd while the kernel writes.
    pub seq: AtomicU32,
    /// [`VDSO_CLOCKMODE_ARCHTIMER`] or [`VDSO_CLOCKMODE_NONE`].
    pub clock_mode: AtomicU32,
    /// The counter (CNTVCT_EL0) at the last update.
    pub cycle_last: AtomicU64,
    /// Nanoseconds per counter tick, times `2^VDSO_SHIFT`.
    pub mult: AtomicU32,
    /// Always [`VDSO_SHIFT`].
    pub shift: AtomicU32,
    /// `CLOCK_MONOTONIC` at `cycle_last`: whole seconds.
    pub mono_sec: AtomicU64,
    /// And the nanoseconds, shifted left by `shift`.
    pub mono_snsec: AtomicU64,
    /// `CLOCK_REALTIME` at `cycle_last`: whole seconds.
    pub real_sec: AtomicU64,
    /// And the nanoseconds, shifted left by `shift`.
    pub real_snsec: AtomicU64,
    /// What `clock_getres` says for the counter-driven clocks, in nanoseconds.
    pub hres_ns: AtomicU64,
    /// What `clock_getres` says for the `_COARSE` clocks (a tick), in nanoseconds.
    pub coarse_ns: AtomicU64,
    /// `struct timezone` for `gettimeofday` (`tz_minuteswest`).
    pub tz_minuteswest: AtomicI32,
    /// `tz_dsttime`.
    pub tz_dsttime: AtomicI32,
}
