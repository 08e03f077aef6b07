//! AArch64 (Linux's `arch/arm64/`).
//!
//! The pure modules (`esr`, `memory`, `pgtable`, `sysreg`) build for the host too and are
//! unit-tested there; the rest touch system registers and only build for the kernel.

pub mod esr;
pub mod memory;
pub mod mmu;
pub mod mmu_user;
pub mod pgtable;
pub mod sysreg;

#[cfg(target_os = "none")]
pub mod arch_timer;
#[cfg(target_os = "none")]
pub mod cpu;
#[cfg(target_os = "none")]
pub mod cpufeature;
#[cfg(target_os = "none")]
pub mod entry;
#[cfg(target_os = "none")]
pub mod entry_common;
#[cfg(target_os = "none")]
pub mod fault;
#[cfg(target_os = "none")]
pub mod fixmap;
#[cfg(target_os = "none")]
pub mod fpsimd;
#[cfg(target_os = "none")]
pub mod head;
#[cfg(target_os = "none")]
pub mod irqflags;
#[cfg(target_os = "none")]
pub mod mm_init;
#[cfg(target_os = "none")]
pub mod mmu_context;
#[cfg(target_os = "none")]
pub mod page;
#[cfg(target_os = "none")]
pub mod paging;
#[cfg(target_os = "none")]
pub mod percpu;
#[cfg(target_os = "none")]
pub mod process;
#[cfg(target_os = "none")]
pub mod ptrace;
#[cfg(target_os = "none")]
pub mod setup;
#[cfg(target_os = "none")]
pub mod signal;
#[cfg(target_os = "none")]
pub mod stacktrace;
#[cfg(target_os = "none")]
pub mod syscall;
#[cfg(target_os = "none")]
pub mod tlbflush;
#[cfg(target_os = "none")]
pub mod traps;
#[cfg(target_os = "none")]
pub mod uaccess;
#[cfg(target_os = "none")]
pub mod vdso;
