//! The vDSO data page (`[vvar]`) and the one conversion from counter ticks to time that the
//! kernel and the vDSO share (Linux: `include/vdso/datapage.h`, `struct vdso_data`;
//! `clocksource_cyc2ns`).
//!
//! This file is compiled three times: into the kernel, which writes the page
//! (`kernel::time::vsyscall`) and reads its clocks through [`cycles_to_timespec`]
//! (`kernel::time::ktime_get_ns`); into the vDSO (`vgettimeofday.rs`), which only reads the
//! page; and into the host's unit tests. The page is one physical page mapped read-only into
//! every process, the first of the two `[vvar]` pages just below the vDSO's text.
//!
//! # The clocks
//!
//! `CLOCK_MONOTONIC` (and `_RAW`, `BOOTTIME`: Cradle does not slew or suspend) is a pure
//! function of the generic counter, [`cycles_to_timespec`]: the count times
//! [`sec_mult`]` = ⌈2^64 / CNTFRQ⌉` is the time in seconds as a 64.64 fixed-point number, whose
//! high half is the seconds and whose low half, times 10⁹ and shifted down 64 bits, is the
//! nanoseconds. No division, no base that moves: the kernel writes `sec_mult` once, before
//! any process maps the page, and never again, so the vDSO reads it without a sequence
//! count. Rounding the factor up makes the clock run fast by less than `CNTFRQ / 2^64`
//! (3.4·10⁻¹², 0.3 µs a day, at 62.5 MHz; a quartz is off by 10⁻⁵); the kernel's own
//! monotonic clock is the same function, so the system call, the vDSO and every kernel
//! timer agree to the nanosecond. The count is never so large that the product loses
//! seconds: 2^64 ticks is 9 000 years at 62.5 MHz.
//!
//! `CLOCK_REALTIME` (and `TAI`) is that plus the wall clock's offset (`real_off_*`, Linux's
//! `offs_real`), which changes only when the time is set; `_COARSE` clocks are the monotonic
//! clock at the last tick (`coarse_mono_*`) plus, for `REALTIME_COARSE`, the offset.
//!
//! # The sequence count (Linux's `vdso_write_begin`/`vdso_read_retry`)
//!
//! Only the fields after `seq` change after boot (on every tick and whenever the time is
//! set). The writer makes `seq` odd, writes them, and makes `seq` even again; a reader takes
//! them only between two equal, even readings of `seq`. Every field is an atomic so that both
//! sides are plain Rust with no data race.
//!
//! # The layout
//!
//! | offset | field | written |
//! |---:|---|---|
//! | 0 | `sec_mult` | once, at boot |
//! | 8 | `nsec_per_sec` (10⁹) | once, at boot |
//! | 16 | `hres_ns`, 24 `coarse_ns` | once, at boot |
//! | 32 | `seq`, 36 `tz_minuteswest`, 40 `tz_dsttime` | — |
//! | 48 | `real_off_sec`, 56 `real_off_nsec` | under `seq`, when the time is set |
//! | 64 | `coarse_mono_sec`, 72 `coarse_mono_nsec` | under `seq`, every tick |
//!
//! `__kernel_clock_gettime`'s hand-written fast path (`vgettimeofday.rs`) loads offsets 0
//! and 8 with one `ldp` from the page's start: they must stay first.

use core::sync::atomic::{AtomicI32, AtomicU32, AtomicU64};

/// Nanoseconds in a second.
pub const NSEC_PER_SEC: u64 = 1_000_000_000;

/// The data page's contents (at its start; the rest of the page is zero). See the table in
/// the module's documentation: the first two fields' offsets are fixed.
#[repr(C)]
pub struct VdsoData {
    /// Counter ticks to seconds, 64.64 fixed point: [`sec_mult`] of CNTFRQ_EL0 (0 if the
    /// counter has no frequency: every clock then reads 0, as the kernel's does).
    pub sec_mult: AtomicU64,
    /// Always [`NSEC_PER_SEC`]: the fast path's second factor, loaded with `sec_mult`.
    pub nsec_per_sec: AtomicU64,
    /// What `clock_getres` says for the counter-driven clocks, in nanoseconds.
    pub hres_ns: AtomicU64,
    /// What `clock_getres` says for the `_COARSE` clocks (a tick), in nanoseconds.
    pub coarse_ns: AtomicU64,
    /// The sequence count: odd while the kernel writes the fields below.
    pub seq: AtomicU32,
    /// `struct timezone` for `gettimeofday` (`tz_minuteswest`).
    pub tz_minuteswest: AtomicI32,
    /// `tz_dsttime`.
    pub tz_dsttime: AtomicI32,
    /// `CLOCK_REALTIME - CLOCK_MONOTONIC`: whole seconds.
    pub real_off_sec: AtomicU64,
    /// And the nanoseconds (below [`NSEC_PER_SEC`]).
    pub real_off_nsec: AtomicU64,
    /// `CLOCK_MONOTONIC` at the last tick: whole seconds.
    pub coarse_mono_sec: AtomicU64,
    /// And the nanoseconds.
    pub coarse_mono_nsec: AtomicU64,
}

/// `⌈2^64 / freq⌉`: counter ticks to seconds as a 64.64 fixed-point factor; 0 when it does
/// not fit (a frequency of 0 or 1 Hz), which makes every clock read 0.
pub const fn sec_mult(freq: u64) -> u64 {
    if freq < 2 {
        return 0;
    }
    // Without 128-bit division: ⌊(2^64 - 1) / freq⌋ + 1 is ⌈2^64 / freq⌉ both when freq
    // divides 2^64 (a power of two) and when it does not.
    u64::MAX / freq + 1
}

/// The time `count` ticks after the counter started, as (seconds, nanoseconds): the
/// monotonic clock of the kernel and the vDSO alike (see the module's documentation).
#[inline(always)]
pub fn cycles_to_timespec(count: u64, sec_mult: u64) -> (u64, u64) {
    let product = u128::from(count) * u128::from(sec_mult);
    let sec = (product >> 64) as u64;
    let fraction = product as u64;
    let nsec = ((u128::from(fraction) * u128::from(NSEC_PER_SEC)) >> 64) as u64;
    (sec, nsec)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The exact time of `count` ticks in nanoseconds.
    fn exact_ns(count: u64, freq: u64) -> u128 {
        u128::from(count) * u128::from(NSEC_PER_SEC) / u128::from(freq)
    }

    fn ns((sec, nsec): (u64, u64)) -> u128 {
        u128::from(sec) * u128::from(NSEC_PER_SEC) + u128::from(nsec)
    }

    #[test]
    fn sec_mult_is_the_rounded_up_reciprocal() {
        for freq in [
            2u64,
            3,
            19_200_000,
            54_000_000,
            62_500_000,
            1 << 30,
            1_000_000_000,
        ] {
            let m = sec_mult(freq);
            // Rounded up: m * freq >= 2^64, and (m - 1) * freq < 2^64.
            assert!(u128::from(m) * u128::from(freq) >= 1u128 << 64, "{freq}");
            assert!(u128::from(m - 1) * u128::from(freq) < 1u128 << 64, "{freq}");
        }
        assert_eq!(sec_mult(0), 0);
        assert_eq!(sec_mult(1), 0);
        assert_eq!(cycles_to_timespec(12345, 0), (0, 0));
    }

    #[test]
    fn never_behind_and_close_to_the_exact_time() {
        for freq in [19_200_000u64, 54_000_000, 62_500_000, 1_000_000_000] {
            let m = sec_mult(freq);
            // Up to ten years of counter.
            let mut count = 0u64;
            while count < freq * 86_400 * 3650 {
                let t = cycles_to_timespec(count, m);
                assert!(t.1 < NSEC_PER_SEC);
                let got = ns(t);
                let exact = exact_ns(count, freq);
                assert!(got >= exact, "{freq} {count}");
                // At most a nanosecond of rounding plus freq/2^64 of drift.
                let drift = (u128::from(count) * u128::from(NSEC_PER_SEC)) >> 64;
                assert!(got <= exact + 1 + drift, "{freq} {count}: {got} vs {exact}");
                count = count * 3 / 2 + 7;
            }
        }
    }

    #[test]
    fn monotonic_across_second_boundaries() {
        for freq in [19_200_000u64, 54_000_000, 62_500_000, 1_000_000_000] {
            let m = sec_mult(freq);
            for base_sec in [1u64, 59, 3600, 86_400 * 400] {
                let base = base_sec * freq;
                let mut last = 0u128;
                for count in base - 1000..base + 1000 {
                    let t = ns(cycles_to_timespec(count, m));
                    assert!(t >= last, "{freq} {count}");
                    last = t;
                }
            }
        }
    }

    #[test]
    fn sixteen_nanoseconds_a_tick_at_62_5_mhz() {
        let m = sec_mult(62_500_000);
        assert_eq!(cycles_to_timespec(62_500_000, m), (1, 0));
        assert_eq!(cycles_to_timespec(1, m), (0, 16));
        assert_eq!(cycles_to_timespec(62_500_001, m), (1, 16));
    }
}
