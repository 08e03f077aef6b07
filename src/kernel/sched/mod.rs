//! The scheduler (Linux's `kernel/sched/`): run queues and CFS, the idle loop, wait queues,
//! completions, CPU-time accounting, the load average, the scheduler's system calls.
//!
//! `fair` is portable bookkeeping, unit-tested on the host; the rest runs the hardware.

pub mod cputime;
pub mod fair;

#[cfg(target_os = "none")]
pub mod balance;
#[cfg(target_os = "none")]
pub mod completion;
#[cfg(target_os = "none")]
pub mod core;
#[cfg(target_os = "none")]
pub mod cputime_kunit;
#[cfg(target_os = "none")]
pub mod idle;
#[cfg(target_os = "none")]
pub mod loadavg;
#[cfg(target_os = "none")]
pub mod membarrier;
#[cfg(target_os = "none")]
mod rq;
#[cfg(target_os = "none")]
pub mod sched_kunit;
#[cfg(target_os = "none")]
pub mod show;
#[cfg(target_os = "none")]
pub mod syscalls;
#[cfg(target_os = "none")]
pub mod wait;
