//! AArch64 core code (Linux's `arch/arm64/kernel/` and the headers it uses): boot, exception
//! entry and traps, processes and the context switch, signals, system calls, CPU features.
//!
//! The pure modules (`esr`, `sysreg`) build for the host too and are unit-tested there; the
//! rest touch system registers and only build for the kernel.

pub mod esr;
pub mod hwcap;
pub mod sysreg;
pub mod unistd;

#[cfg(target_os = "none")]
pub mod arch_timer;
#[cfg(target_os = "none")]
pub mod barrier;
#[cfg(target_os = "none")]
pub mod cpu;
#[cfg(target_os = "none")]
pub mod cpu_ops;
#[cfg(target_os = "none")]
pub mod cpufeature;
#[cfg(target_os = "none")]
pub mod cputype;
#[cfg(target_os = "none")]
pub mod current;
#[cfg(target_os = "none")]
pub mod entry;
#[cfg(target_os = "none")]
pub mod entry_common;
#[cfg(target_os = "none")]
pub mod fpsimd;
#[cfg(target_os = "none")]
pub mod head;
#[cfg(target_os = "none")]
pub mod irq;
#[cfg(target_os = "none")]
pub mod irqflags;
#[cfg(target_os = "none")]
pub mod percpu;
#[cfg(target_os = "none")]
pub mod process;
#[cfg(target_os = "none")]
pub mod processor;
#[cfg(target_os = "none")]
pub mod psci;
#[cfg(target_os = "none")]
pub mod ptrace;
#[cfg(target_os = "none")]
pub mod setup;
#[cfg(target_os = "none")]
pub mod signal;
#[cfg(target_os = "none")]
pub mod smp;
#[cfg(target_os = "none")]
pub mod smp_spin_table;
#[cfg(target_os = "none")]
pub mod stacktrace;
#[cfg(target_os = "none")]
pub mod syscall;
#[cfg(target_os = "none")]
pub mod time;
#[cfg(target_os = "none")]
pub mod traps;
#[cfg(target_os = "none")]
pub mod vdso;
