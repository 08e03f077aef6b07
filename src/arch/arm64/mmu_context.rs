//! Which page tables TTBR0 points at (Linux: `arch/arm64/include/asm/mmu_context.h`).
//!
//! After boot, the lower half belongs to user space only. The identity map head.S used to
//! turn the MMU on is taken out of TTBR0, so a stray low address (a NULL pointer) faults in
//! the kernel instead of reading RAM.

use aarch64_cpu::registers::{Writeable, TTBR0_EL1};

use super::fixmap::PageTable;
use super::head::pa_symbol;
use super::tlbflush::local_flush_tlb_all;

/// An empty table: TTBR0 points here when no user address space is installed (Linux's
/// `reserved_pg_dir`).
static RESERVED_PG_DIR: PageTable = PageTable::new();

/// Physical address of [`RESERVED_PG_DIR`].
pub fn reserved_pg_dir_pa() -> u64 {
    pa_symbol(&RESERVED_PG_DIR as *const PageTable as u64)
}

/// Point TTBR0 at the empty table and drop the identity map's TLB entries.
pub fn cpu_uninstall_idmap() {
    TTBR0_EL1.set(reserved_pg_dir_pa());
    local_flush_tlb_all();
}
