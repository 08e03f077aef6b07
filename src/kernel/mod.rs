//! Core kernel services (Linux's `kernel/`).
//!
//! The portable modules (`params`, `printk_fmt`, `kallsyms_fmt`, the scheduler's `fair` and
//! time's `timeconv`) build for the host too and carry unit tests; the rest need the
//! hardware.

pub mod capability;
pub mod cred;
pub mod errno;
pub mod kallsyms_fmt;
pub mod params;
pub mod printk_fmt;

#[cfg(target_os = "none")]
pub mod cpu;
#[cfg(target_os = "none")]
pub mod exit;
#[cfg(target_os = "none")]
pub mod fork;
#[cfg(target_os = "none")]
pub mod futex;
#[cfg(target_os = "none")]
pub mod irq;
#[cfg(target_os = "none")]
pub mod kallsyms;
#[cfg(target_os = "none")]
pub mod kthread;
#[cfg(target_os = "none")]
pub mod locking;
#[cfg(target_os = "none")]
pub mod panic;
#[cfg(target_os = "none")]
pub mod pid;
#[cfg(target_os = "none")]
pub mod printk;
#[cfg(target_os = "none")]
pub mod random;
#[cfg(target_os = "none")]
pub mod reboot;
pub mod sched;
#[cfg(target_os = "none")]
pub mod session;
#[cfg(target_os = "none")]
pub mod signal;
#[cfg(target_os = "none")]
pub mod smp;
#[cfg(target_os = "none")]
mod smp_kunit;
#[cfg(target_os = "none")]
pub mod smpboot;
#[cfg(target_os = "none")]
pub mod stop_machine;
#[cfg(target_os = "none")]
pub mod sys;
#[cfg(target_os = "none")]
pub mod task;
pub mod time;
#[cfg(target_os = "none")]
pub mod workqueue;
