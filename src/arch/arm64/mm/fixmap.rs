//! The fixmap: compile-time virtual slots for mappings needed before the memory map exists
//! (Linux: `arch/arm64/mm/fixmap.c`).
//!
//! The early console's registers and the device tree blob must be reachable long before
//! `paging_init`. The fixmap is 4 MiB at `FIXADDR_START`, at the top of the kernel image's
//! 1 GiB slot, so its two L3 tables (`bm_pte`) hang off the L2 table that `head.S` built for
//! the image. `paging_init` hooks the same tables into the final page tables.

use core::sync::atomic::{AtomicU64, Ordering};

use crate::arch::head::pa_symbol;
use crate::arch::memory::{FIXADDR_START, PAGE_SIZE};
use crate::arch::pgtable::{
    PAGE_KERNEL_DEVICE, PAGE_KERNEL_RO, PMD_TYPE_TABLE, PTE_TYPE_PAGE, PTRS_PER_TABLE,
};
use crate::arch::tlbflush::flush_tlb_kernel_page;

/// The fixmap's slots (Linux's `enum fixed_addresses`).
pub mod slot {
    /// The early console's registers (one page).
    pub const FIX_EARLYCON_MEM_BASE: usize = 0;
    /// The first page of the device tree blob.
    pub const FIX_FDT: usize = 1;
    /// Pages for the blob: `MAX_FDT_SIZE` plus one for an unaligned start.
    pub const FIX_FDT_PAGES: usize = (super::MAX_FDT_SIZE / 4096) + 1;
    /// The Raspberry Pi firmware's mailbox (one page, for good): the console asks the
    /// firmware for its clock before `ioremap` exists.
    pub const FIX_MBOX: usize = FIX_FDT + FIX_FDT_PAGES;
    /// One page of registers touched once while the console is set up (its pins, its
    /// clock gate), unmapped again afterwards.
    pub const FIX_EARLY_IO: usize = FIX_MBOX + 1;
    /// Number of slots.
    pub const NR_FIX: usize = FIX_EARLY_IO + 1;
}

/// Read-only normal memory, for the device tree (Linux's `FIXMAP_PAGE_RO`).
pub const FIXMAP_PAGE_RO: u64 = PAGE_KERNEL_RO.bits() | PTE_TYPE_PAGE;
/// Read-write normal memory (Linux's `FIXMAP_PAGE_NORMAL`).
pub const FIXMAP_PAGE_NORMAL: u64 = crate::arch::pgtable::PAGE_KERNEL.bits() | PTE_TYPE_PAGE;
/// Device-nGnRE registers (Linux's `FIXMAP_PAGE_IO`).
pub const FIXMAP_PAGE_IO: u64 = PAGE_KERNEL_DEVICE.bits() | PTE_TYPE_PAGE;

/// The largest device tree Cradle maps. Linux's MAX_FDT_SIZE is 2 MiB; QEMU pads a blob
/// given with `-dtb` (a 1 MiB `dumpdtb` grows past 2 MiB), so Cradle allows 3 MiB.
pub const MAX_FDT_SIZE: usize = 3 << 20;

/// A page-aligned translation table whose entries may be written while the MMU walks it.
#[repr(C, align(4096))]
pub struct PageTable(pub [AtomicU64; PTRS_PER_TABLE]);

impl PageTable {
    /// An empty table.
    pub const fn new() -> Self {
        Self([const { AtomicU64::new(0) }; PTRS_PER_TABLE])
    }
}

impl Default for PageTable {
    fn default() -> Self {
        Self::new()
    }
}

/// The fixmap's L3 tables.
#[allow(non_upper_case_globals)]
static bm_pte: [PageTable; 2] = [PageTable::new(), PageTable::new()];

const _: () = assert!(slot::NR_FIX <= 2 * PTRS_PER_TABLE);
const _: () = assert!(FIXADDR_START.is_multiple_of(4 << 20));

extern "C" {
    /// The kernel's early TTBR1 tables: L0, L1, L2 (linker script, filled by head.S).
    static init_pg_dir: u8;
}

/// The fixmap's L2 entries as (index in an L2 table, descriptor): for `paging_init`.
pub fn fixmap_pmds() -> [(usize, u64); 2] {
    let first = ((FIXADDR_START >> 21) & 511) as usize;
    core::array::from_fn(|i| {
        let pa = pa_symbol(&bm_pte[i] as *const PageTable as u64);
        (first + i, pa | PMD_TYPE_TABLE)
    })
}

/// Hook the fixmap's L3 tables into head.S's L2 table (Linux's `early_fixmap_init`).
pub fn early_fixmap_init() {
    let l2 = (&raw const init_pg_dir as usize + 2 * PAGE_SIZE as usize) as *mut u64;
    for (index, desc) in fixmap_pmds() {
        // SAFETY: init_pg_dir is three pages reserved by the linker script; the third is the
        // L2 table head.S built for the kernel's 1 GiB slot, and `index` < 512. The two
        // entries are unused by the image mapping (the linker script asserts the image ends
        // below FIXADDR_START), so writing them changes no live translation.
        unsafe { l2.add(index).write_volatile(desc) };
    }
    // SAFETY: a barrier only orders the table writes before the walks that use them.
    unsafe { core::arch::asm!("dsb ishst", "isb", options(nostack)) };
}

/// The virtual address of a slot.
pub const fn fix_to_virt(idx: usize) -> u64 {
    FIXADDR_START + idx as u64 * PAGE_SIZE
}

/// Map the page at `pa` into slot `idx` with the given page attributes (0 to clear).
pub fn set_fixmap(idx: usize, pa: u64, prot: u64) {
    assert!(idx < slot::NR_FIX, "fixmap slot {idx} out of range");
    let entry = &bm_pte[idx / PTRS_PER_TABLE].0[idx % PTRS_PER_TABLE];
    let desc = if prot == 0 {
        0
    } else {
        (pa & !(PAGE_SIZE - 1)) | prot
    };
    entry.store(desc, Ordering::Release);
    flush_tlb_kernel_page(fix_to_virt(idx));
}
