//! The arm64 hardware capabilities user space is told about (`AT_HWCAP`, `AT_HWCAP2`), and
//! how they follow from the ID registers.
//!
//! Pure logic, built and tested on the host too; `cpufeature.rs` reads the registers.
//! Linux: `arch/arm64/include/uapi/asm/hwcap.h`, `arch/arm64/kernel/cpufeature.c`
//! (`arm64_elf_hwcaps`).

/// Floating point.
pub const HWCAP_FP: u64 = 1 << 0;
/// Advanced SIMD (NEON).
pub const HWCAP_ASIMD: u64 = 1 << 1;
/// The generic timer's event stream (wakes `wfe` periodically).
pub const HWCAP_EVTSTRM: u64 = 1 << 2;
/// AES instructions.
pub const HWCAP_AES: u64 = 1 << 3;
/// PMULL/PMULL2 on 64-bit elements.
pub const HWCAP_PMULL: u64 = 1 << 4;
/// SHA-1 instructions.
pub const HWCAP_SHA1: u64 = 1 << 5;
/// SHA-256 instructions.
pub const HWCAP_SHA2: u64 = 1 << 6;
/// CRC32 instructions.
pub const HWCAP_CRC32: u64 = 1 << 7;
/// Large System Extensions atomics (LSE: CAS, LDADD, SWP…).
pub const HWCAP_ATOMICS: u64 = 1 << 8;
/// Half-precision floating point.
pub const HWCAP_FPHP: u64 = 1 << 9;
/// Half-precision Advanced SIMD.
pub const HWCAP_ASIMDHP: u64 = 1 << 10;
/// EL0 reads of the ID registers are emulated by the kernel.
pub const HWCAP_CPUID: u64 = 1 << 11;
/// SQRDMLAH/SQRDMLSH.
pub const HWCAP_ASIMDRDM: u64 = 1 << 12;
/// FJCVTZS.
pub const HWCAP_JSCVT: u64 = 1 << 13;
/// FCMLA/FCADD.
pub const HWCAP_FCMA: u64 = 1 << 14;
/// LDAPR (RCpc loads).
pub const HWCAP_LRCPC: u64 = 1 << 15;
/// DC CVAP.
pub const HWCAP_DCPOP: u64 = 1 << 16;
/// SHA-3 instructions.
pub const HWCAP_SHA3: u64 = 1 << 17;
/// SM3 instructions.
pub const HWCAP_SM3: u64 = 1 << 18;
/// SM4 instructions.
pub const HWCAP_SM4: u64 = 1 << 19;
/// SDOT/UDOT.
pub const HWCAP_ASIMDDP: u64 = 1 << 20;
/// SHA-512 instructions.
pub const HWCAP_SHA512: u64 = 1 << 21;
/// Scalable Vector Extension (never set: Cradle does not save SVE state).
pub const HWCAP_SVE: u64 = 1 << 22;
/// FMLAL/FMLSL.
pub const HWCAP_ASIMDFHM: u64 = 1 << 23;
/// Data-independent timing (PSTATE.DIT).
pub const HWCAP_DIT: u64 = 1 << 24;
/// Unaligned single-copy atomicity (from ID_AA64MMFR2, not derived here).
pub const HWCAP_USCAT: u64 = 1 << 25;
/// LDAPUR and friends (RCpc with immediate offsets).
pub const HWCAP_ILRCPC: u64 = 1 << 26;
/// Flag manipulation (CFINV, RMIF, SETF*).
pub const HWCAP_FLAGM: u64 = 1 << 27;
/// Speculative Store Bypass Safe (from ID_AA64PFR1, not derived here).
pub const HWCAP_SSBS: u64 = 1 << 28;
/// Speculation barrier.
pub const HWCAP_SB: u64 = 1 << 29;
/// Address authentication (never set: Cradle does not manage the keys).
pub const HWCAP_PACA: u64 = 1 << 30;
/// Generic authentication (never set).
pub const HWCAP_PACG: u64 = 1 << 31;

/// `AT_HWCAP2`: DC CVADP.
pub const HWCAP2_DCPODP: u64 = 1 << 0;
/// AXFLAG/XAFLAG.
pub const HWCAP2_FLAGM2: u64 = 1 << 7;
/// FRINT32Z and friends.
pub const HWCAP2_FRINT: u64 = 1 << 8;
/// Int8 matrix multiply.
pub const HWCAP2_I8MM: u64 = 1 << 13;
/// BFloat16.
pub const HWCAP2_BF16: u64 = 1 << 14;
/// Data gathering hint.
pub const HWCAP2_DGH: u64 = 1 << 15;
/// RNDR/RNDRRS.
pub const HWCAP2_RNG: u64 = 1 << 16;

/// The 4-bit ID register field at `shift`.
fn field(reg: u64, shift: u32) -> u64 {
    (reg >> shift) & 0xf
}

/// A signed 4-bit ID register field (0xf is -1: "not implemented").
fn signed_field(reg: u64, shift: u32) -> i8 {
    ((field(reg, shift) as i8) << 4) >> 4
}

/// Derives `AT_HWCAP` from ID_AA64ISAR0_EL1, ID_AA64PFR0_EL1 and ID_AA64ISAR1_EL1, as Linux's
/// `arm64_elf_hwcaps` does: a capability is present when its field is at least the value
/// listed. Always sets `HWCAP_CPUID` (the kernel emulates EL0 reads of the ID registers).
/// Never sets what needs kernel support Cradle lacks: SVE, pointer authentication,
/// `EVTSTRM` (the timer event stream is not enabled).
pub fn hwcap_from_id_regs(isar0: u64, pfr0: u64, isar1: u64) -> u64 {
    let mut hwcap = HWCAP_CPUID;
    let mut set = |present: bool, bit: u64| {
        if present {
            hwcap |= bit;
        }
    };
    // ID_AA64PFR0_EL1: FP [19:16] and AdvSIMD [23:20] are signed: 0 present, 1 with
    // half-precision, 0xf absent.
    let fp = signed_field(pfr0, 16);
    set(fp >= 0, HWCAP_FP);
    set(fp >= 1, HWCAP_FPHP);
    let asimd = signed_field(pfr0, 20);
    set(asimd >= 0, HWCAP_ASIMD);
    set(asimd >= 1, HWCAP_ASIMDHP);
    set(field(pfr0, 48) >= 1, HWCAP_DIT);
    // ID_AA64ISAR0_EL1.
    set(field(isar0, 4) >= 1, HWCAP_AES);
    set(field(isar0, 4) >= 2, HWCAP_PMULL);
    set(field(isar0, 8) >= 1, HWCAP_SHA1);
    set(field(isar0, 12) >= 1, HWCAP_SHA2);
    set(field(isar0, 12) >= 2, HWCAP_SHA512);
    set(field(isar0, 16) >= 1, HWCAP_CRC32);
    set(field(isar0, 20) >= 2, HWCAP_ATOMICS);
    set(field(isar0, 28) >= 1, HWCAP_ASIMDRDM);
    set(field(isar0, 32) >= 1, HWCAP_SHA3);
    set(field(isar0, 36) >= 1, HWCAP_SM3);
    set(field(isar0, 40) >= 1, HWCAP_SM4);
    set(field(isar0, 44) >= 1, HWCAP_ASIMDDP);
    set(field(isar0, 48) >= 1, HWCAP_ASIMDFHM);
    set(field(isar0, 52) >= 1, HWCAP_FLAGM);
    // ID_AA64ISAR1_EL1.
    set(field(isar1, 0) >= 1, HWCAP_DCPOP);
    set(field(isar1, 12) >= 1, HWCAP_JSCVT);
    set(field(isar1, 16) >= 1, HWCAP_FCMA);
    set(field(isar1, 20) >= 1, HWCAP_LRCPC);
    set(field(isar1, 20) >= 2, HWCAP_ILRCPC);
    set(field(isar1, 36) >= 1, HWCAP_SB);
    hwcap
}

/// Derives `AT_HWCAP2` from the same registers (the subset they describe).
pub fn hwcap2_from_id_regs(isar0: u64, _pfr0: u64, isar1: u64) -> u64 {
    let mut hwcap2 = 0;
    let mut set = |present: bool, bit: u64| {
        if present {
            hwcap2 |= bit;
        }
    };
    set(field(isar0, 52) >= 2, HWCAP2_FLAGM2);
    set(field(isar0, 60) >= 1, HWCAP2_RNG);
    set(field(isar1, 0) >= 2, HWCAP2_DCPODP);
    set(field(isar1, 32) >= 1, HWCAP2_FRINT);
    set(field(isar1, 44) >= 1, HWCAP2_BF16);
    set(field(isar1, 48) >= 1, HWCAP2_DGH);
    set(field(isar1, 52) >= 1, HWCAP2_I8MM);
    hwcap2
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cortex_a72_hwcaps() {
        let isar0 = 0x0000_0000_0001_1120;
        let pfr0 = 0x0000_0000_0000_2222;
        let hwcap = hwcap_from_id_regs(isar0, pfr0, 0);
        let expected = HWCAP_FP
            | HWCAP_ASIMD
            | HWCAP_AES
            | HWCAP_PMULL
            | HWCAP_SHA1
            | HWCAP_SHA2
            | HWCAP_CRC32
            | HWCAP_CPUID;
        assert_eq!(hwcap, expected);
        assert_eq!(hwcap & HWCAP_ATOMICS, 0);
        assert_eq!(hwcap2_from_id_regs(isar0, pfr0, 0), 0);
    }

    #[test]
    fn hwcap_fields() {
        // No FP and no AdvSIMD (0xf): neither, nor their half-precision variants.
        assert_eq!(hwcap_from_id_regs(0, 0xff << 16, 0), HWCAP_CPUID);
        // FP = 1 and AdvSIMD = 1: half precision too.
        let fphp = hwcap_from_id_regs(0, 0x11 << 16, 0);
        assert_eq!(
            fphp,
            HWCAP_FP | HWCAP_FPHP | HWCAP_ASIMD | HWCAP_ASIMDHP | HWCAP_CPUID
        );
        // Cortex-A76-like: LSE atomics (2), RDM, DP, SHA512 absent, LRCPC, DCPOP.
        let isar0 = 0x0000_1000_1021_1120;
        let isar1 = 0x0000_0000_0010_0001;
        let hwcap = hwcap_from_id_regs(isar0, 0x1111, isar1);
        for bit in [
            HWCAP_ATOMICS,
            HWCAP_ASIMDRDM,
            HWCAP_ASIMDDP,
            HWCAP_LRCPC,
            HWCAP_DCPOP,
        ] {
            assert_ne!(hwcap & bit, 0, "{bit:#x}");
        }
        for bit in [
            HWCAP_SHA512,
            HWCAP_ILRCPC,
            HWCAP_SVE,
            HWCAP_PACA,
            HWCAP_EVTSTRM,
        ] {
            assert_eq!(hwcap & bit, 0, "{bit:#x}");
        }
        // An ATOMIC field of 1 is not LSE.
        assert_eq!(hwcap_from_id_regs(1 << 20, 0, 0) & HWCAP_ATOMICS, 0);
        // Everything at its maximum sets no undefined bits.
        let all = hwcap_from_id_regs(u64::MAX, 0, u64::MAX);
        assert_eq!(
            all & (HWCAP_SVE | HWCAP_PACA | HWCAP_PACG | HWCAP_USCAT | HWCAP_SSBS),
            0
        );
        assert_eq!(all & !((1 << 32) - 1), 0);
        let all2 = hwcap2_from_id_regs(u64::MAX, 0, u64::MAX);
        assert_eq!(
            all2,
            HWCAP2_DCPODP
                | HWCAP2_FLAGM2
                | HWCAP2_FRINT
                | HWCAP2_I8MM
                | HWCAP2_BF16
                | HWCAP2_DGH
                | HWCAP2_RNG
        );
    }
}
