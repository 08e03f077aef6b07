//! Clearing and copying whole pages (Linux: `arch/arm64/lib/clear_page.S`, `copy_page.S`).
//!
//! Every page the kernel hands to user space or to a page table is zeroed first, and every
//! copy-on-write break copies one, so these two loops run on every fault, `fork` and `exec`.
//! `clear_page` zeroes a cache block per instruction with `DC ZVA` (the block size is in
//! `DCZID_EL0`; a hypervisor may forbid it, then plain stores do); `copy_page` moves 64 bytes
//! per loop with pairs of general-purpose registers — the kernel is built soft-float and
//! never touches the vector registers, which hold the user's state.

use crate::arch::memory::PAGE_SIZE;

/// Zero the 4 KiB page at kernel address `page`.
///
/// # Safety
///
/// `page` is the page-aligned kernel address of 4 KiB of Normal memory that the caller may
/// write, and no Rust reference to it exists.
pub unsafe fn clear_page(page: *mut u8) {
    let dczid: u64;
    // SAFETY: reading DCZID_EL0 has no side effects.
    unsafe { core::arch::asm!("mrs {}, dczid_el0", out(reg) dczid, options(nomem, nostack)) };
    // DZP (bit 4) set: DC ZVA is prohibited. BS (bits 3:0): log2 of the block in words.
    let block = 4u64 << (dczid & 0xf);
    if dczid & (1 << 4) != 0 || !(64..=PAGE_SIZE).contains(&block) {
        // SAFETY: the caller guarantees the page is ours to write.
        unsafe { core::ptr::write_bytes(page, 0, PAGE_SIZE as usize) };
        return;
    }
    let end = page as u64 + PAGE_SIZE;
    let mut addr = page as u64;
    if block * 4 <= PAGE_SIZE {
        // Four blocks a round: the block divides the page, so rounds end exactly at `end`.
        while addr < end {
            // SAFETY: DC ZVA zeroes the naturally aligned block holding each address, all
            // inside the page the caller gave us (page aligned, `addr + 4 * block <= end`).
            unsafe {
                core::arch::asm!(
                    "dc zva, {a}",
                    "add {a}, {a}, {b}",
                    "dc zva, {a}",
                    "add {a}, {a}, {b}",
                    "dc zva, {a}",
                    "add {a}, {a}, {b}",
                    "dc zva, {a}",
                    "add {a}, {a}, {b}",
                    a = inout(reg) addr,
                    b = in(reg) block,
                    options(nostack)
                )
            };
        }
    } else {
        while addr < end {
            // SAFETY: as above, one block.
            unsafe { core::arch::asm!("dc zva, {}", in(reg) addr, options(nostack)) };
            addr += block;
        }
    }
}

/// Copy the 4 KiB page at kernel address `from` to `to`.
///
/// # Safety
///
/// Both are page-aligned kernel addresses of 4 KiB of Normal memory; `to` may be written and
/// `from` read; they do not overlap, and no Rust reference to `to` exists.
pub unsafe fn copy_page(to: *mut u8, from: *const u8) {
    let src = from as u64;
    let dst = to as u64;
    let end = src + PAGE_SIZE;
    // SAFETY: 64 bytes per round from `src` to `dst`, both inside their pages (page aligned,
    // so the last round ends exactly at `end`); the caller vouches for both.
    unsafe {
        core::arch::asm!(
            "2:",
            "ldp {t0}, {t1}, [{src}]",
            "ldp {t2}, {t3}, [{src}, #16]",
            "stp {t0}, {t1}, [{dst}]",
            "stp {t2}, {t3}, [{dst}, #16]",
            "ldp {t0}, {t1}, [{src}, #32]",
            "ldp {t2}, {t3}, [{src}, #48]",
            "add {src}, {src}, #64",
            "stp {t0}, {t1}, [{dst}, #32]",
            "stp {t2}, {t3}, [{dst}, #48]",
            "add {dst}, {dst}, #64",
            "cmp {src}, {end}",
            "b.ne 2b",
            src = inout(reg) src => _,
            dst = inout(reg) dst => _,
            end = in(reg) end,
            t0 = out(reg) _,
            t1 = out(reg) _,
            t2 = out(reg) _,
            t3 = out(reg) _,
            options(nostack)
        )
    };
}
