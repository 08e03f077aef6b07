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
