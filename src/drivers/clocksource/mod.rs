//! Timer drivers: the clock that drives the tick (Linux: `drivers/clocksource/`, and
//! `time_init` of `arch/arm64/kernel/time.c`).
//!
//! Only the Arm generic timer so far, which every AArch64 CPU has; its node in the device
//! tree says which interrupt it raises.

pub mod arm_arch_timer;

pub use arm_arch_timer::{time_init, timer_init_cpu};
