//! The ARM generic timer (Linux: `drivers/clocksource/arm_arch_timer.c`).
//!
//! This part reads the virtual counter (CNTVCT_EL0) and its frequency (CNTFRQ_EL0): the
//! kernel's clock from the first instruction on. Never assume the frequency: QEMU's
//! cortex-a72 runs at 62.5 MHz, `-cpu max` at 1 GHz, real Pis differ again.

use aarch64_cpu::asm::barrier;
use aarch64_cpu::registers::{Readable, CNTFRQ_EL0, CNTVCT_EL0};

/// The counter value now. The `isb` keeps the read from being hoisted above earlier code.
#[inline]
pub fn counter() -> u64 {
    barrier::isb(barrier::SY);
    CNTVCT_EL0.get()
}

/// The counter's frequency in Hz, as the firmware or QEMU programmed it.
#[inline]
pub fn frequency() -> u64 {
    CNTFRQ_EL0.get()
}

/// Both at once, for time stamps.
pub fn counter_and_frequency() -> (u64, u64) {
    (counter(), frequency())
}
