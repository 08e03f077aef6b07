//! Memory barriers (Linux: `arch/arm64/include/asm/barrier.h`).

/// Orders this CPU's earlier stores before its later stores, as other CPUs and the MMU's
/// table walker see them (Linux's `smp_wmb`: `dmb ishst`).
#[inline(always)]
pub fn smp_wmb() {
    // SAFETY: a barrier only.
    unsafe { core::arch::asm!("dmb ishst", options(nostack)) };
}

/// Completes every earlier memory access, to normal and device memory alike, before any later
/// one starts: what a device reading memory the CPU wrote needs (Linux's `mb`: `dsb sy`).
#[inline(always)]
pub fn mb() {
    // SAFETY: a barrier only.
    unsafe { core::arch::asm!("dsb sy", options(nostack)) };
}

/// If `*word` still holds `val`, wait for an event: an exclusive load arms this CPU's
/// exclusive monitor on the word, so the next store to it by any CPU wakes `wfe`, as do
/// interrupts and the timer's event stream (Linux's `__cmpwait_relaxed`, the wait in
/// `smp_cond_load_acquire`). May return early; callers re-read the word in a loop.
///
/// A waiting CPU neither hammers the word's cache line nor, under QEMU's round-robin TCG
/// (`-icount`), spins away its time slice: `wfe` hands the slice to the other vCPUs, one of
/// which is about to store to the word.
#[inline(always)]
pub fn cmpwait_u32(word: &core::sync::atomic::AtomicU32, val: u32) {
    // SAFETY: `word` is a valid, aligned 32-bit atomic; the exclusive load is an atomic read
    // that changes no memory; `wfe` only waits, and returns at the latest at the next
    // event-stream tick or interrupt.
    unsafe {
        core::arch::asm!(
            "ldxr {seen:w}, [{word}]",
            "cmp {seen:w}, {val:w}",
            "b.ne 1f",
            "wfe",
            "1:",
            word = in(reg) word.as_ptr(),
            val = in(reg) val,
            seen = out(reg) _,
            options(nostack, readonly),
        );
    }
}

/// [`cmpwait_u32`] for a flag: if `*flag` still holds `val`, wait for an event.
#[inline(always)]
pub fn cmpwait_bool(flag: &core::sync::atomic::AtomicBool, val: bool) {
    // SAFETY: as in `cmpwait_u32`, on a one-byte atomic (a bool is the byte 0 or 1).
    unsafe {
        core::arch::asm!(
            "ldxrb {seen:w}, [{flag}]",
            "cmp {seen:w}, {val:w}",
            "b.ne 1f",
            "wfe",
            "1:",
            flag = in(reg) flag.as_ptr(),
            val = in(reg) u32::from(val),
            seen = out(reg) _,
            options(nostack, readonly),
        );
    }
}
