//! Which CPU this is (Linux: `arch/arm64/include/asm/cputype.h`).

/// The Main ID Register, MIDR_EL1: implementer, variant, architecture, part number and
/// revision (Linux's `read_cpuid_id`).
pub fn read_cpuid_id() -> u64 {
    let midr: u64;
    // SAFETY: reading MIDR_EL1 at EL1 has no side effects.
    unsafe { core::arch::asm!("mrs {}, midr_el1", out(reg) midr, options(nomem, nostack)) };
    midr
}
