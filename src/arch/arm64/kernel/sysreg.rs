//! System register values the boot path programs (Linux: `asm/sysreg.h`, `asm/kvm_arm.h`).
//!
//! Each value is spelled out bit by bit with the Arm ARM's field names, so `asm/head.S` takes
//! them as `const` operands instead of magic numbers.

use crate::arch::pgtable::{MAIR_EL1_SET, PMD_TYPE_SECT, PTE_AF, PTE_SHARED, PTE_UXN};

/// SCTLR_EL1 bits (Arm ARM D19.2.118).
pub mod sctlr {
    /// MMU enable.
    pub const M: u64 = 1 << 0;
    /// Data cache enable.
    pub const C: u64 = 1 << 2;
    /// SP alignment check at EL1.
    pub const SA: u64 = 1 << 3;
    /// SP alignment check at EL0.
    pub const SA0: u64 = 1 << 4;
    /// CP15 barriers disabled at EL0 (AArch32 only); set, as Linux does.
    pub const SED: u64 = 1 << 8;
    /// Exception exit is context synchronizing (RES1 in ARMv8.0).
    pub const EOS: u64 = 1 << 11;
    /// Instruction cache enable.
    pub const I: u64 = 1 << 12;
    /// EL0 may use `DC ZVA` (glibc's memset does).
    pub const DZE: u64 = 1 << 14;
    /// EL0 may read CTR_EL0 (glibc does).
    pub const UCT: u64 = 1 << 15;
    /// EL0 `WFI` is not trapped.
    pub const NTWI: u64 = 1 << 16;
    /// EL0 `WFE` is not trapped.
    pub const NTWE: u64 = 1 << 18;
    /// Exception entry is context synchronizing (RES1 in ARMv8.0).
    pub const TSCXT: u64 = 1 << 20;
    /// Implicit error synchronization at exception entry (RES1 in ARMv8.0).
    pub const EIS: u64 = 1 << 22;
    /// PAN is left alone on exception entry (RES1 in ARMv8.0).
    pub const SPAN: u64 = 1 << 23;
    /// EL0 cache maintenance by VA allowed (`DC CVAU`, `IC IVAU`: JITs and glibc use them).
    pub const UCI: u64 = 1 << 26;
    /// Load/store multiple not trapped (RES1 in ARMv8.0).
    pub const NTLSMD: u64 = 1 << 28;
    /// Load/store multiple ordering (RES1 in ARMv8.0).
    pub const LSMAOE: u64 = 1 << 29;
}

/// SCTLR_EL1 before the MMU is on: little-endian, MMU and caches off, RES1 bits set.
pub const SCTLR_EL1_MMU_OFF: u64 =
    sctlr::EOS | sctlr::TSCXT | sctlr::EIS | sctlr::SPAN | sctlr::NTLSMD | sctlr::LSMAOE;

/// SCTLR_EL1 with the MMU and caches on, and EL0 set up as Linux user programs expect.
pub const SCTLR_EL1_MMU_ON: u64 = SCTLR_EL1_MMU_OFF
    | sctlr::M
    | sctlr::C
    | sctlr::SA
    | sctlr::SA0
    | sctlr::SED
    | sctlr::I
    | sctlr::DZE
    | sctlr::UCT
    | sctlr::NTWI
    | sctlr::NTWE
    | sctlr::UCI;

/// SCTLR_EL2 with the MMU off (only the RES1 bits), used when dropping from EL3.
pub const SCTLR_EL2_MMU_OFF: u64 = (1 << 4)
    | (1 << 5)
    | (1 << 11)
    | (1 << 16)
    | (1 << 18)
    | (1 << 22)
    | (1 << 23)
    | (1 << 28)
    | (1 << 29);

/// HCR_EL2 for a host that runs no guests: EL1 is AArch64 (RW), nothing else trapped.
pub const HCR_EL2_HOST: u64 = 1 << 31;

/// SCR_EL3 when dropping from EL3: lower ELs non-secure (NS), HVC enabled (HCE), EL2 is
/// AArch64 (RW), with the RES1 bits 4 and 5.
pub const SCR_EL3_NS_RW: u64 = (1 << 0) | (1 << 4) | (1 << 5) | (1 << 8) | (1 << 10);

/// SPSR value for `eret` to EL1h (SP_EL1) with D, A, I and F masked.
pub const SPSR_EL1H_MASKED: u64 = (0xf << 6) | 0b0101;
/// SPSR value for `eret` to EL2h with D, A, I and F masked.
pub const SPSR_EL2H_MASKED: u64 = (0xf << 6) | 0b1001;

/// TCR_EL1 without IPS and AS, which `__cpu_setup` fills in from ID_AA64MMFR0_EL1:
/// 48-bit VAs in both halves, 4 KiB granules, inner-shareable write-back walks, top byte
/// ignored for user addresses (TBI0, as Linux sets it).
pub const TCR_EL1_VALUE: u64 = {
    use aarch64_cpu::registers::TCR_EL1;
    let t0sz = TCR_EL1::T0SZ.val(64 - crate::arch::memory::VA_BITS).value;
    let t1sz = TCR_EL1::T1SZ.val(64 - crate::arch::memory::VA_BITS).value;
    t0sz | t1sz
        | TCR_EL1::TG0::KiB_4.value
        | TCR_EL1::TG1::KiB_4.value
        | TCR_EL1::IRGN0::WriteBack_ReadAlloc_WriteAlloc_Cacheable.value
        | TCR_EL1::ORGN0::WriteBack_ReadAlloc_WriteAlloc_Cacheable.value
        | TCR_EL1::SH0::Inner.value
        | TCR_EL1::IRGN1::WriteBack_ReadAlloc_WriteAlloc_Cacheable.value
        | TCR_EL1::ORGN1::WriteBack_ReadAlloc_WriteAlloc_Cacheable.value
        | TCR_EL1::SH1::Inner.value
        | TCR_EL1::TBI0::Ignored.value
};

/// MAIR_EL1: the memory types page tables refer to by index (see `pgtable`).
pub const MAIR_EL1: u64 = MAIR_EL1_SET;

/// The early page tables' 2 MiB block attributes: normal memory, inner shareable, accessed,
/// never executable at EL0. (Read, write and execute at EL1 until `paging_init`.)
pub const PTE_BLOCK_KERNEL: u64 = PMD_TYPE_SECT | PTE_SHARED | PTE_AF | PTE_UXN;

/// `__boot_cpu_mode` when the CPU was entered at EL1 (Linux's value).
pub const BOOT_CPU_MODE_EL1: u32 = 0xe11;
/// `__boot_cpu_mode` when the CPU was entered at EL2.
pub const BOOT_CPU_MODE_EL2: u32 = 0xe12;
