//! TLB maintenance (Linux: `arch/arm64/include/asm/tlbflush.h`).
//!
//! User flushes take the address space's context id, not an ASID: the ASID is read only
//! after the page-table writes are complete (see `asid_after_barrier`).
//!
//! The sequence is always: make the table write visible to the walker (`dsb ishst`),
//! invalidate (broadcast to the inner-shareable domain, so other CPUs drop their copies
//! too), wait for completion (`dsb ish`), and resynchronise this CPU's fetch (`isb`).

use core::sync::atomic::{AtomicU64, Ordering};

/// Drop any TLB entry for the kernel page at `va`, on every CPU.
pub fn flush_tlb_kernel_page(va: u64) {
    let arg = (va >> 12) & ((1 << 44) - 1);
    // SAFETY: TLB invalidation and barriers have no effect on memory contents; afterwards
    // the walker re-reads the (already written) table entry.
    unsafe {
        core::arch::asm!(
            "dsb ishst",
            "tlbi vaale1is, {arg}",
            "dsb ish",
            "isb",
            arg = in(reg) arg,
            options(nostack)
        )
    };
}

/// Drop every TLB entry on every CPU.
pub fn flush_tlb_all() {
    // SAFETY: as above.
    unsafe {
        core::arch::asm!(
            "dsb ishst",
            "tlbi vmalle1is",
            "dsb ish",
            "isb",
            options(nostack)
        )
    };
}

/// Drop every TLB entry on this CPU only (before other CPUs run).
pub fn local_flush_tlb_all() {
    // SAFETY: as above.
    unsafe {
        core::arch::asm!(
            "dsb nshst",
            "tlbi vmalle1",
            "dsb nsh",
            "isb",
            options(nostack)
        )
    };
}

/// The ASID of an address space for a TLBI operand, read from its context id *after* the
/// barrier that completed the page-table writes being flushed (Linux: `dsb(ishst); asid =
/// ASID(mm)` in `__flush_tlb_range`). A generation rollover on another CPU may give an mm
/// that runs nowhere a new ASID at any moment; a CPU that then switches to it walks the
/// tables only after storing the new context id, so either this load sees the new ASID, or
/// that walk sees the completed table writes and caches nothing stale.
fn asid_after_barrier(context: &AtomicU64) -> u64 {
    // SAFETY: a barrier only.
    unsafe { core::arch::asm!("dsb ishst", options(nostack)) };
    u64::from(crate::arch::mmu_context::asid_of(
        context.load(Ordering::Relaxed),
    ))
}

/// Drop the TLB entry for user page `va` of the address space whose context id is
/// `context`, on every CPU.
pub fn flush_tlb_user_page(context: &AtomicU64, va: u64) {
    let arg = (asid_after_barrier(context) << 48) | ((va >> 12) & ((1 << 44) - 1));
    // SAFETY: TLB maintenance and barriers only.
    unsafe {
        core::arch::asm!("tlbi vale1is, {arg}", "dsb ish", "isb",
            arg = in(reg) arg, options(nostack))
    };
}

/// Drop every TLB entry of the address space whose context id is `context`, on every CPU.
pub fn flush_tlb_mm(context: &AtomicU64) {
    let arg = asid_after_barrier(context) << 48;
    // SAFETY: TLB maintenance and barriers only.
    unsafe {
        core::arch::asm!("tlbi aside1is, {arg}", "dsb ish", "isb",
            arg = in(reg) arg, options(nostack))
    };
}

/// Above this many pages a range flush drops the whole ASID instead (Linux's
/// `MAX_DVM_OPS`, one table's worth).
pub const MAX_TLBI_OPS: u64 = 512;

/// Drop the TLB entries of user pages `[start, end)` of the address space whose context id
/// is `context`, on every CPU, with one barrier for the whole range (Linux's
/// `__flush_tlb_range`). With `last_level` only leaf entries go (`TLBI VALE1IS`); without it
/// walk-cache entries too (`TLBI VAE1IS`), as needed once tables under the range were freed.
/// Past [`MAX_TLBI_OPS`] pages, one `TLBI ASIDE1IS` does it all.
pub fn flush_tlb_range(context: &AtomicU64, start: u64, end: u64, last_level: bool) {
    let pages = end.saturating_sub(start) >> 12;
    if pages == 0 {
        return;
    }
    if pages > MAX_TLBI_OPS {
        flush_tlb_mm(context);
        return;
    }
    let first = (asid_after_barrier(context) << 48) | ((start >> 12) & ((1 << 44) - 1));
    for arg in first..first + pages {
        // SAFETY: TLB maintenance only.
        unsafe {
            if last_level {
                core::arch::asm!("tlbi vale1is, {}", in(reg) arg, options(nostack));
            } else {
                core::arch::asm!("tlbi vae1is, {}", in(reg) arg, options(nostack));
            }
        }
    }
    // SAFETY: barriers only.
    unsafe { core::arch::asm!("dsb ish", "isb", options(nostack)) };
}

/// Make a page just written through the kernel's mapping at `va` safe to execute: clean the
/// data cache to the point of unification, then invalidate all instruction caches
/// (Linux's `__sync_icache_dcache`; the whole I-cache, since it may be VIPT-aliasing).
pub fn flush_icache_page(va: u64) {
    let line = crate::arch::cputype::dcache_line_size();
    let mut addr = va & !(line - 1);
    while addr < va + 4096 {
        // SAFETY: cleaning a cache line by VA only writes dirty data back; `va` is mapped.
        unsafe { core::arch::asm!("dc cvau, {}", in(reg) addr, options(nostack)) };
        addr += line;
    }
    // SAFETY: barriers and I-cache invalidation only.
    unsafe { core::arch::asm!("dsb ish", "ic ialluis", "dsb ish", "isb", options(nostack)) };
}
