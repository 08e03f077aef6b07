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
