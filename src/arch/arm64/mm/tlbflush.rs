//! TLB maintenance (Linux: `arch/arm64/include/asm/tlbflush.h`).
//!
//! The sequence is always: make the table write visible to the walker (`dsb ishst`),
//! invalidate (broadcast to the inner-shareable domain, so other CPUs drop their copies
//! too), wait for completion (`dsb ish`), and resynchronise this CPU's fetch (`isb`).

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

/// Drop the TLB entry for user page `va` of address space `asid`, on every CPU.
pub fn flush_tlb_user_page(asid: u16, va: u64) {
    let arg = ((asid as u64) << 48) | ((va >> 12) & ((1 << 44) - 1));
    // SAFETY: TLB maintenance and barriers only.
    unsafe {
        core::arch::asm!("dsb ishst", "tlbi vale1is, {arg}", "dsb ish", "isb",
            arg = in(reg) arg, options(nostack))
    };
}

/// Drop every TLB entry of address space `asid`, on every CPU.
pub fn flush_tlb_mm(asid: u16) {
    let arg = (asid as u64) << 48;
    // SAFETY: TLB maintenance and barriers only.
    unsafe {
        core::arch::asm!("dsb ishst", "tlbi aside1is, {arg}", "dsb ish", "isb",
            arg = in(reg) arg, options(nostack))
    };
}

/// Above this many pages a range flush drops the whole ASID instead (Linux's
/// `MAX_DVM_OPS`, one table's worth).
pub const MAX_TLBI_OPS: u64 = 512;

/// Drop the TLB entries of user pages `[start, end)` of address space `asid`, on every CPU,
/// with one barrier for the whole range (Linux's `__flush_tlb_range`). With `last_level`
/// only leaf entries go (`TLBI VALE1IS`); without it walk-cache entries too (`TLBI
/// VAE1IS`), as needed once tables under the range were freed. Past [`MAX_TLBI_OPS`] pages,
/// one `TLBI ASIDE1IS` does it all.
pub fn flush_tlb_range(asid: u16, start: u64, end: u64, last_level: bool) {
    let pages = end.saturating_sub(start) >> 12;
    if pages == 0 {
        return;
    }
    if pages > MAX_TLBI_OPS {
        flush_tlb_mm(asid);
        return;
    }
    let first = ((asid as u64) << 48) | ((start >> 12) & ((1 << 44) - 1));
    // SAFETY: barriers only.
    unsafe { core::arch::asm!("dsb ishst", options(nostack)) };
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
    let ctr: u64;
    // SAFETY: reading CTR_EL0 has no side effects.
    unsafe { core::arch::asm!("mrs {}, ctr_el0", out(reg) ctr, options(nomem, nostack)) };
    let line = 4u64 << ((ctr >> 16) & 0xf);
    let mut addr = va & !(line - 1);
    while addr < va + 4096 {
        // SAFETY: cleaning a cache line by VA only writes dirty data back; `va` is mapped.
        unsafe { core::arch::asm!("dc cvau, {}", in(reg) addr, options(nostack)) };
        addr += line;
    }
    // SAFETY: barriers and I-cache invalidation only.
    unsafe { core::arch::asm!("dsb ish", "ic ialluis", "dsb ish", "isb", options(nostack)) };
}
