//! AArch64 memory management (Linux's `arch/arm64/mm/` and the headers it uses): the kernel
//! and user page tables, the MMU switch and ASIDs, TLB maintenance, faults, user access.
//!
//! The pure modules (`memory`, `mmu`, `mmu_user`, `pgtable`) build for the host too and are
//! unit-tested there; the rest touch system registers and only build for the kernel.

pub mod memory;
pub mod mmu;
pub mod mmu_user;
pub mod pgtable;

#[cfg(target_os = "none")]
pub mod cacheflush;
#[cfg(target_os = "none")]
pub mod fault;
#[cfg(target_os = "none")]
pub mod fixmap;
#[cfg(target_os = "none")]
pub mod mm_init;
#[cfg(target_os = "none")]
pub mod mmu_context;
#[cfg(target_os = "none")]
pub mod page;
#[cfg(target_os = "none")]
pub mod paging;
#[cfg(target_os = "none")]
pub mod tlbflush;
#[cfg(target_os = "none")]
pub mod uaccess;
