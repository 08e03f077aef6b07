//! Which CPU this is (Linux: `arch/arm64/include/asm/cputype.h`).

/// The Main ID Register, MIDR_EL1: implementer, variant, architecture, part number and
/// revision (Linux's `read_cpuid_id`).
pub fn read_cpuid_id() -> u64 {
    let midr: u64;
    // SAFETY: reading MIDR_EL1 at EL1 has no side effects.
    unsafe { core::arch::asm!("mrs {}, midr_el1", out(reg) midr, options(nomem, nostack)) };
    midr
}

/// The Cache Type Register, CTR_EL0: the smallest D-cache line (DminLine, bits 19:16, log2
/// words), the L1 I-cache policy (L1Ip, bits 15:14) and more (Linux's
/// `read_cpuid_cachetype`). aarch64-cpu has no definition of it.
pub fn read_cpuid_cachetype() -> u64 {
    let ctr: u64;
    // SAFETY: reading CTR_EL0 has no side effects.
    unsafe { core::arch::asm!("mrs {}, ctr_el0", out(reg) ctr, options(nomem, nostack)) };
    ctr
}

/// The smallest data-cache line in bytes, from CTR_EL0.DminLine (Linux's
/// `cache_line_size_of_cpu`).
pub fn dcache_line_size() -> u64 {
    4 << ((read_cpuid_cachetype() >> 16) & 0xf)
}
