//! Core kernel services (Linux's `kernel/`).
//!
//! The portable modules (`params`, `printk_fmt`, `kallsyms_fmt`) build for the host too and
//! carry unit tests; the rest need the hardware.

pub mod errno;
pub mod kallsyms_fmt;
pub mod params;
pub mod printk_fmt;

#[cfg(target_os = "none")]
pub mod kallsyms;
#[cfg(target_os = "none")]
pub mod panic;
#[cfg(target_os = "none")]
pub mod printk;
#[cfg(target_os = "none")]
pub mod sync;
#[cfg(target_os = "none")]
pub mod task;
