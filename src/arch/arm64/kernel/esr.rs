//! ESR_ELx decoding: what the Exception Syndrome Register says went wrong.
//!
//! An exception taken to EL1 leaves its cause in `ESR_EL1`: the exception class (EC, bits
//! 31:26), the instruction length (IL, bit 25), the class-specific syndrome (ISS, bits 24:0)
//! and, since Armv8.7/9.2, a second syndrome word (ISS2, bits 55:32). This file names the
//! classes and the fault status codes, pulls out the fields the fault path needs, and renders
//! the "Mem abort info:" block of an oops in Linux's exact words.
//!
//! It mirrors `arch/arm64/include/asm/esr.h` (constants and field helpers),
//! `arch/arm64/kernel/traps.c` (`esr_class_str[]`, `esr_get_class_string`) and
//! `arch/arm64/mm/fault.c` (`fault_info[]` names, `mem_abort_decode`, `data_abort_decode`).
//! It is pure arithmetic on a `u64`, so it builds for the host and is tested there.

use core::fmt;

// Exception classes (ESR_ELx.EC), as `asm/esr.h` names them.

/// Unknown reason (e.g. an undefined instruction).
pub const ESR_ELX_EC_UNKNOWN: u64 = 0x00;
/// Trapped WFI/WFE/WFIT/WFET.
pub const ESR_ELX_EC_WFX: u64 = 0x01;
/// Trapped AArch32 MCR/MRC (coproc 0b1111).
pub const ESR_ELX_EC_CP15_32: u64 = 0x03;
/// Trapped AArch32 MCRR/MRRC (coproc 0b1111).
pub const ESR_ELX_EC_CP15_64: u64 = 0x04;
/// Trapped AArch32 MCR/MRC (coproc 0b1110).
pub const ESR_ELX_EC_CP14_MR: u64 = 0x05;
/// Trapped AArch32 LDC/STC (coproc 0b1110).
pub const ESR_ELX_EC_CP14_LS: u64 = 0x06;
/// Access to SVE, Advanced SIMD or floating point trapped by CPACR_EL1.FPEN.
pub const ESR_ELX_EC_FP_ASIMD: u64 = 0x07;
/// Trapped VMRS access (AArch32).
pub const ESR_ELX_EC_CP10_ID: u64 = 0x08;
/// Trapped pointer authentication instruction.
pub const ESR_ELX_EC_PAC: u64 = 0x09;
/// Trapped AArch32 MRRC (coproc 0b1110).
pub const ESR_ELX_EC_CP14_64: u64 = 0x0c;
/// Branch target identification exception.
pub const ESR_ELX_EC_BTI: u64 = 0x0d;
/// Illegal execution state (PSTATE.IL set).
pub const ESR_ELX_EC_ILL: u64 = 0x0e;
/// SVC in AArch32 state.
pub const ESR_ELX_EC_SVC32: u64 = 0x11;
/// HVC in AArch32 state.
pub const ESR_ELX_EC_HVC32: u64 = 0x12;
/// SMC in AArch32 state.
pub const ESR_ELX_EC_SMC32: u64 = 0x13;
/// SVC in AArch64 state: a system call.
pub const ESR_ELX_EC_SVC64: u64 = 0x15;
/// HVC in AArch64 state.
pub const ESR_ELX_EC_HVC64: u64 = 0x16;
/// SMC in AArch64 state.
pub const ESR_ELX_EC_SMC64: u64 = 0x17;
/// Trapped MSR/MRS/system instruction in AArch64 state.
pub const ESR_ELX_EC_SYS64: u64 = 0x18;
/// Access to SVE trapped by CPACR_EL1.ZEN.
pub const ESR_ELX_EC_SVE: u64 = 0x19;
/// Trapped ERET/ERETAA/ERETAB.
pub const ESR_ELX_EC_ERET: u64 = 0x1a;
/// Pointer authentication failure.
pub const ESR_ELX_EC_FPAC: u64 = 0x1c;
/// Access to SME trapped.
pub const ESR_ELX_EC_SME: u64 = 0x1d;
/// Implementation defined, taken to EL3.
pub const ESR_ELX_EC_IMP_DEF: u64 = 0x1f;
/// Instruction abort from a lower exception level.
pub const ESR_ELX_EC_IABT_LOW: u64 = 0x20;
/// Instruction abort taken without a change of exception level.
pub const ESR_ELX_EC_IABT_CUR: u64 = 0x21;
/// PC alignment fault.
pub const ESR_ELX_EC_PC_ALIGN: u64 = 0x22;
/// Data abort from a lower exception level.
pub const ESR_ELX_EC_DABT_LOW: u64 = 0x24;
/// Data abort taken without a change of exception level.
pub const ESR_ELX_EC_DABT_CUR: u64 = 0x25;
/// SP alignment fault.
pub const ESR_ELX_EC_SP_ALIGN: u64 = 0x26;
/// Memory copy/set (FEAT_MOPS) exception.
pub const ESR_ELX_EC_MOPS: u64 = 0x27;
/// Trapped floating-point exception, AArch32.
pub const ESR_ELX_EC_FP_EXC32: u64 = 0x28;
/// Trapped floating-point exception, AArch64.
pub const ESR_ELX_EC_FP_EXC64: u64 = 0x2c;
/// Guarded control stack exception.
pub const ESR_ELX_EC_GCS: u64 = 0x2d;
/// SError interrupt.
pub const ESR_ELX_EC_SERROR: u64 = 0x2f;
/// Hardware breakpoint from a lower exception level.
pub const ESR_ELX_EC_BREAKPT_LOW: u64 = 0x30;
/// Hardware breakpoint at the current exception level.
pub const ESR_ELX_EC_BREAKPT_CUR: u64 = 0x31;
/// Software step from a lower exception level.
pub const ESR_ELX_EC_SOFTSTP_LOW: u64 = 0x32;
/// Software step at the current exception level.
pub const ESR_ELX_EC_SOFTSTP_CUR: u64 = 0x33;
/// Watchpoint from a lower exception level.
pub const ESR_ELX_EC_WATCHPT_LOW: u64 = 0x34;
/// Watchpoint at the current exception level.
pub const ESR_ELX_EC_WATCHPT_CUR: u64 = 0x35;
/// BKPT instruction, AArch32.
pub const ESR_ELX_EC_BKPT32: u64 = 0x38;
/// Vector catch, AArch32.
pub const ESR_ELX_EC_VECTOR32: u64 = 0x3a;
/// BRK instruction, AArch64.
pub const ESR_ELX_EC_BRK64: u64 = 0x3c;
/// The largest exception class value.
pub const ESR_ELX_EC_MAX: u64 = 0x3f;

// Field positions, as `asm/esr.h` names them.

/// EC: bits 31:26.
pub const ESR_ELX_EC_SHIFT: u32 = 26;
/// EC is six bits wide.
pub const ESR_ELX_EC_WIDTH: u32 = 6;
/// IL: the trapped instruction was 32 bits (set) or 16 bits (clear).
pub const ESR_ELX_IL: u64 = 1 << 25;
/// ISS: bits 24:0.
pub const ESR_ELX_ISS_MASK: u64 = (1 << 25) - 1;
/// ISS2: bits 55:32.
pub const ESR_ELX_ISS2_SHIFT: u32 = 32;
/// ISS2 is 24 bits wide.
pub const ESR_ELX_ISS2_MASK: u64 = (1 << 24) - 1;

// ISS fields of data and instruction aborts.

/// Instruction syndrome valid (data aborts): SAS/SSE/SRT/SF/AR describe the access.
pub const ESR_ELX_ISV: u64 = 1 << 24;
/// Syndrome access size: log2 of the access size in bytes (valid when ISV).
pub const ESR_ELX_SAS_SHIFT: u32 = 22;
/// Syndrome sign extend (valid when ISV).
pub const ESR_ELX_SSE: u64 = 1 << 21;
/// Syndrome register transfer: the Xt/Wt of the access (valid when ISV).
pub const ESR_ELX_SRT_SHIFT: u32 = 16;
/// Sixty-four bit register (valid when ISV).
pub const ESR_ELX_SF: u64 = 1 << 15;
/// Acquire/release semantics (valid when ISV).
pub const ESR_ELX_AR: u64 = 1 << 14;
/// Synchronous error type: bits 12:11.
pub const ESR_ELX_SET_SHIFT: u32 = 11;
/// FAR not valid.
pub const ESR_ELX_FNV: u64 = 1 << 10;
/// External abort.
pub const ESR_ELX_EA: u64 = 1 << 9;
/// Cache maintenance operation.
pub const ESR_ELX_CM: u64 = 1 << 8;
/// Fault on a stage 2 translation for a stage 1 translation table walk.
pub const ESR_ELX_S1PTW: u64 = 1 << 7;
/// Write not read.
pub const ESR_ELX_WNR: u64 = 1 << 6;
/// Fault status code: bits 5:0.
pub const ESR_ELX_FSC: u64 = 0x3f;
/// Fault status code, type only (level bits cleared).
pub const ESR_ELX_FSC_TYPE: u64 = 0x3c;
/// FSC type: translation fault.
pub const ESR_ELX_FSC_FAULT: u64 = 0x04;
/// FSC type: access flag fault.
pub const ESR_ELX_FSC_ACCESS: u64 = 0x08;
/// FSC type: permission fault.
pub const ESR_ELX_FSC_PERM: u64 = 0x0c;
/// FSC: synchronous external abort, not on a table walk.
pub const ESR_ELX_FSC_EXTABT: u64 = 0x10;
/// FSC: alignment fault.
pub const ESR_ELX_FSC_ALIGN: u64 = 0x21;

// ISS2 fields of data aborts (relative to ISS2, i.e. after shifting right by 32).

/// Tag not data (FEAT_MTE_STORE_ONLY).
pub const ESR_ELX_TND_SHIFT: u32 = 10;
/// Tag access (FEAT_MTE_TAGGED_FAR).
pub const ESR_ELX_TAGACCESS_SHIFT: u32 = 11;
/// Guarded control stack data access.
pub const ESR_ELX_GCS_SHIFT: u32 = 8;
/// Permission overlay fault.
pub const ESR_ELX_OVERLAY_SHIFT: u32 = 6;
/// Dirty state fault (FEAT_S1PIE hardware dirty bit).
pub const ESR_ELX_DIRTYBIT_SHIFT: u32 = 5;
/// Access size of a faulting store-exclusive etc. (FEAT_LS64): ISS2 bits 4:0.
pub const ESR_ELX_XS_MASK: u64 = 0x1f;

/// `ESR_ELx_EC(esr)`: the exception class.
pub const fn ec(esr: u64) -> u64 {
    (esr >> ESR_ELX_EC_SHIFT) & ((1 << ESR_ELX_EC_WIDTH) - 1)
}

/// The instruction length bit: `true` for a 32-bit instruction, `false` for a 16-bit one.
pub const fn il(esr: u64) -> bool {
    esr & ESR_ELX_IL != 0
}

/// The length in bits of the trapped instruction (32 or 16), as the oops prints it.
pub const fn il_bits(esr: u64) -> u32 {
    if il(esr) {
        32
    } else {
        16
    }
}

/// The instruction specific syndrome, bits 24:0.
pub const fn iss(esr: u64) -> u64 {
    esr & ESR_ELX_ISS_MASK
}

/// `ESR_ELx_ISS2(esr)`: the second syndrome word, bits 55:32.
pub const fn iss2(esr: u64) -> u64 {
    (esr >> ESR_ELX_ISS2_SHIFT) & ESR_ELX_ISS2_MASK
}

/// `esr_is_data_abort`: a data abort from the current or a lower exception level.
pub const fn is_data_abort(esr: u64) -> bool {
    let ec = ec(esr);
    ec == ESR_ELX_EC_DABT_LOW || ec == ESR_ELX_EC_DABT_CUR
}

/// An instruction abort from the current or a lower exception level.
pub const fn is_instruction_abort(esr: u64) -> bool {
    let ec = ec(esr);
    ec == ESR_ELX_EC_IABT_LOW || ec == ESR_ELX_EC_IABT_CUR
}

/// The fault status code (FSC, bits 5:0) of an abort.
pub const fn fsc(esr: u64) -> u64 {
    esr & ESR_ELX_FSC
}

/// Write not read: the data abort was caused by a write.
pub const fn wnr(esr: u64) -> bool {
    esr & ESR_ELX_WNR != 0
}

/// The data abort came from a cache maintenance or address translation instruction.
pub const fn cm(esr: u64) -> bool {
    esr & ESR_ELX_CM != 0
}

/// The instruction syndrome (SAS, SSE, SRT, SF, AR) of a data abort is valid.
pub const fn isv(esr: u64) -> bool {
    esr & ESR_ELX_ISV != 0
}

/// The abort happened on a stage 2 walk for a stage 1 table walk.
pub const fn s1ptw(esr: u64) -> bool {
    esr & ESR_ELX_S1PTW != 0
}

/// External abort type.
pub const fn ea(esr: u64) -> bool {
    esr & ESR_ELX_EA != 0
}

/// FAR not valid: FAR_ELx does not hold the faulting address.
pub const fn fnv(esr: u64) -> bool {
    esr & ESR_ELX_FNV != 0
}

/// Synchronous error type (SET, bits 12:11).
pub const fn set(esr: u64) -> u64 {
    (esr >> ESR_ELX_SET_SHIFT) & 0x3
}

/// The access size in bytes of a data abort with a valid instruction syndrome.
pub const fn access_size(esr: u64) -> u64 {
    1 << ((esr >> ESR_ELX_SAS_SHIFT) & 0x3)
}

/// The register (SRT) of a data abort with a valid instruction syndrome.
pub const fn srt(esr: u64) -> u64 {
    (esr >> ESR_ELX_SRT_SHIFT) & 0x1f
}

/// The 16-bit immediate of SVC/HVC/SMC (`ESR_ELx_xVC_IMM_MASK`) or the comment of a BRK
/// (`ESR_ELx_BRK64_ISS_COMMENT_MASK`).
pub const fn imm16(esr: u64) -> u64 {
    esr & 0xffff
}

/// `esr_class_str[]` of `traps.c`, indexed by exception class.
static ESR_CLASS_STR: [&str; 64] = {
    let mut table = ["UNRECOGNIZED EC"; 64];
    table[ESR_ELX_EC_UNKNOWN as usize] = "Unknown/Uncategorized";
    table[ESR_ELX_EC_WFX as usize] = "WFI/WFE";
    table[ESR_ELX_EC_CP15_32 as usize] = "CP15 MCR/MRC";
    table[ESR_ELX_EC_CP15_64 as usize] = "CP15 MCRR/MRRC";
    table[ESR_ELX_EC_CP14_MR as usize] = "CP14 MCR/MRC";
    table[ESR_ELX_EC_CP14_LS as usize] = "CP14 LDC/STC";
    table[ESR_ELX_EC_FP_ASIMD as usize] = "ASIMD";
    table[ESR_ELX_EC_CP10_ID as usize] = "CP10 MRC/VMRS";
    table[ESR_ELX_EC_PAC as usize] = "PAC";
    table[ESR_ELX_EC_CP14_64 as usize] = "CP14 MCRR/MRRC";
    table[ESR_ELX_EC_BTI as usize] = "BTI";
    table[ESR_ELX_EC_ILL as usize] = "PSTATE.IL";
    table[ESR_ELX_EC_SVC32 as usize] = "SVC (AArch32)";
    table[ESR_ELX_EC_HVC32 as usize] = "HVC (AArch32)";
    table[ESR_ELX_EC_SMC32 as usize] = "SMC (AArch32)";
    table[ESR_ELX_EC_SVC64 as usize] = "SVC (AArch64)";
    table[ESR_ELX_EC_HVC64 as usize] = "HVC (AArch64)";
    table[ESR_ELX_EC_SMC64 as usize] = "SMC (AArch64)";
    table[ESR_ELX_EC_SYS64 as usize] = "MSR/MRS (AArch64)";
    table[ESR_ELX_EC_SVE as usize] = "SVE";
    table[ESR_ELX_EC_ERET as usize] = "ERET/ERETAA/ERETAB";
    table[ESR_ELX_EC_FPAC as usize] = "FPAC";
    table[ESR_ELX_EC_SME as usize] = "SME";
    table[ESR_ELX_EC_IMP_DEF as usize] = "EL3 IMP DEF";
    table[ESR_ELX_EC_IABT_LOW as usize] = "IABT (lower EL)";
    table[ESR_ELX_EC_IABT_CUR as usize] = "IABT (current EL)";
    table[ESR_ELX_EC_PC_ALIGN as usize] = "PC Alignment";
    table[ESR_ELX_EC_DABT_LOW as usize] = "DABT (lower EL)";
    table[ESR_ELX_EC_DABT_CUR as usize] = "DABT (current EL)";
    table[ESR_ELX_EC_SP_ALIGN as usize] = "SP Alignment";
    table[ESR_ELX_EC_MOPS as usize] = "MOPS";
    table[ESR_ELX_EC_FP_EXC32 as usize] = "FP (AArch32)";
    table[ESR_ELX_EC_FP_EXC64 as usize] = "FP (AArch64)";
    table[ESR_ELX_EC_GCS as usize] = "Guarded Control Stack";
    table[ESR_ELX_EC_SERROR as usize] = "SError";
    table[ESR_ELX_EC_BREAKPT_LOW as usize] = "Breakpoint (lower EL)";
    table[ESR_ELX_EC_BREAKPT_CUR as usize] = "Breakpoint (current EL)";
    table[ESR_ELX_EC_SOFTSTP_LOW as usize] = "Software Step (lower EL)";
    table[ESR_ELX_EC_SOFTSTP_CUR as usize] = "Software Step (current EL)";
    table[ESR_ELX_EC_WATCHPT_LOW as usize] = "Watchpoint (lower EL)";
    table[ESR_ELX_EC_WATCHPT_CUR as usize] = "Watchpoint (current EL)";
    table[ESR_ELX_EC_BKPT32 as usize] = "BKPT (AArch32)";
    table[ESR_ELX_EC_VECTOR32 as usize] = "Vector catch (AArch32)";
    table[ESR_ELX_EC_BRK64 as usize] = "BRK (AArch64)";
    table
};

/// `esr_get_class_string`: the name of the exception class of `esr`, as Linux prints it.
pub fn esr_get_class_string(esr: u64) -> &'static str {
    // `ec` is six bits wide, so the index is always in bounds; `get` keeps that obvious.
    ESR_CLASS_STR
        .get(ec(esr) as usize)
        .copied()
        .unwrap_or("UNRECOGNIZED EC")
}

/// The `name` column of `fault_info[]` in `fault.c`, indexed by fault status code.
static FAULT_INFO_NAME: [&str; 64] = [
    "ttbr address size fault",
    "level 1 address size fault",
    "level 2 address size fault",
    "level 3 address size fault",
    "level 0 translation fault",
    "level 1 translation fault",
    "level 2 translation fault",
    "level 3 translation fault",
    "level 0 access flag fault",
    "level 1 access flag fault",
    "level 2 access flag fault",
    "level 3 access flag fault",
    "level 0 permission fault",
    "level 1 permission fault",
    "level 2 permission fault",
    "level 3 permission fault",
    "synchronous external abort",
    "synchronous tag check fault",
    "unknown 18",
    "level -1 (translation table walk)",
    "level 0 (translation table walk)",
    "level 1 (translation table walk)",
    "level 2 (translation table walk)",
    "level 3 (translation table walk)",
    "synchronous parity or ECC error",
    "unknown 25",
    "unknown 26",
    "level -1 synchronous parity error (translation table walk)",
    "level 0 synchronous parity error (translation table walk)",
    "level 1 synchronous parity error (translation table walk)",
    "level 2 synchronous parity error (translation table walk)",
    "level 3 synchronous parity error (translation table walk)",
    "unknown 32",
    "alignment fault",
    "unknown 34",
    "unknown 35",
    "unknown 36",
    "unknown 37",
    "unknown 38",
    "unknown 39",
    "unknown 40",
    "level -1 address size fault",
    "unknown 42",
    "level -1 translation fault",
    "unknown 44",
    "unknown 45",
    "unknown 46",
    "unknown 47",
    "TLB conflict abort",
    "Unsupported atomic hardware update fault",
    "unknown 50",
    "unknown 51",
    "implementation fault (lockdown abort)",
    "implementation fault (unsupported exclusive)",
    "unknown 54",
    "unknown 55",
    "unknown 56",
    "unknown 57",
    "unknown 58",
    "unknown 59",
    "unknown 60",
    "section domain fault",
    "page domain fault",
    "unknown 63",
];

/// The name Linux's `fault_info[]` gives the fault status code `fsc` (only bits 5:0 count).
pub fn fault_name(fsc: u64) -> &'static str {
    FAULT_INFO_NAME
        .get((fsc & ESR_ELX_FSC) as usize)
        .copied()
        .unwrap_or("unknown")
}

/// `esr_to_fault_info(esr)->name`: the fault name of an abort syndrome.
pub fn esr_fault_name(esr: u64) -> &'static str {
    fault_name(fsc(esr))
}

/// Renders `mem_abort_decode(esr)` of `fault.c`: the "Mem abort info:" block of an oops, and
/// for data aborts the "Data abort info:" block of `data_abort_decode`. Every line ends with
/// a newline, as each of Linux's `pr_alert`s does.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct MemAbortInfo(pub u64);

impl fmt::Display for MemAbortInfo {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let esr = self.0;
        writeln!(f, "Mem abort info:")?;
        writeln!(f, "  ESR = {esr:#018x}")?;
        writeln!(
            f,
            "  EC = {:#04x}: {}, IL = {} bits",
            ec(esr),
            esr_get_class_string(esr),
            il_bits(esr)
        )?;
        writeln!(f, "  SET = {}, FnV = {}", set(esr), u8::from(fnv(esr)))?;
        writeln!(
            f,
            "  EA = {}, S1PTW = {}",
            u8::from(ea(esr)),
            u8::from(s1ptw(esr))
        )?;
        writeln!(f, "  FSC = {:#04x}: {}", fsc(esr), esr_fault_name(esr))?;
        if is_data_abort(esr) {
            write!(f, "{}", DataAbortInfo(esr))?;
        }
        Ok(())
    }
}

/// Renders `data_abort_decode(esr)` of `fault.c`: the "Data abort info:" block.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct DataAbortInfo(pub u64);

impl fmt::Display for DataAbortInfo {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let esr = self.0;
        let iss2 = iss2(esr);
        let bit = |shift: u32| (iss2 >> shift) & 1;
        writeln!(f, "Data abort info:")?;
        if isv(esr) {
            writeln!(f, "  Access size = {} byte(s)", access_size(esr))?;
            writeln!(
                f,
                "  SSE = {}, SRT = {}",
                u8::from(esr & ESR_ELX_SSE != 0),
                srt(esr)
            )?;
            writeln!(
                f,
                "  SF = {}, AR = {}",
                u8::from(esr & ESR_ELX_SF != 0),
                u8::from(esr & ESR_ELX_AR != 0)
            )?;
        } else {
            writeln!(
                f,
                "  ISV = 0, ISS = {:#010x}, ISS2 = {:#010x}",
                iss(esr),
                iss2
            )?;
        }
        writeln!(
            f,
            "  CM = {}, WnR = {}, TnD = {}, TagAccess = {}",
            u8::from(cm(esr)),
            u8::from(wnr(esr)),
            bit(ESR_ELX_TND_SHIFT),
            bit(ESR_ELX_TAGACCESS_SHIFT)
        )?;
        writeln!(
            f,
            "  GCS = {}, Overlay = {}, DirtyBit = {}, Xs = {}",
            bit(ESR_ELX_GCS_SHIFT),
            bit(ESR_ELX_OVERLAY_SHIFT),
            bit(ESR_ELX_DIRTYBIT_SHIFT),
            iss2 & ESR_ELX_XS_MASK
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dabt_current_el_level1_translation_write() {
        let esr = 0x9600_0045;
        assert_eq!(ec(esr), ESR_ELX_EC_DABT_CUR);
        assert!(il(esr));
        assert!(is_data_abort(esr));
        assert!(!is_instruction_abort(esr));
        assert!(wnr(esr));
        assert!(!cm(esr) && !isv(esr) && !s1ptw(esr) && !ea(esr) && !fnv(esr));
        assert_eq!(set(esr), 0);
        assert_eq!(iss(esr), 0x45);
        assert_eq!(fsc(esr), 0x05);
        assert_eq!(esr_get_class_string(esr), "DABT (current EL)");
        assert_eq!(esr_fault_name(esr), "level 1 translation fault");
    }

    #[test]
    fn mem_abort_info_matches_linux_text() {
        let text = std::format!("{}", MemAbortInfo(0x9600_0045));
        let expected = "\
Mem abort info:
  ESR = 0x0000000096000045
  EC = 0x25: DABT (current EL), IL = 32 bits
  SET = 0, FnV = 0
  EA = 0, S1PTW = 0
  FSC = 0x05: level 1 translation fault
Data abort info:
  ISV = 0, ISS = 0x00000045, ISS2 = 0x00000000
  CM = 0, WnR = 1, TnD = 0, TagAccess = 0
  GCS = 0, Overlay = 0, DirtyBit = 0, Xs = 0
";
        assert_eq!(text, expected);
    }

    #[test]
    fn level3_permission_fault_write() {
        let esr = 0x9600_004f;
        assert_eq!(esr_fault_name(esr), "level 3 permission fault");
        assert!(wnr(esr));
        assert_eq!(fsc(esr) & ESR_ELX_FSC_TYPE, ESR_ELX_FSC_PERM);
        let text = std::format!("{}", MemAbortInfo(esr));
        assert!(
            text.contains("  FSC = 0x0f: level 3 permission fault\n"),
            "{text}"
        );
        assert!(text.contains("CM = 0, WnR = 1,"), "{text}");
    }

    #[test]
    fn instruction_abort_has_no_data_abort_block() {
        let esr = 0x8600_0006;
        assert_eq!(ec(esr), ESR_ELX_EC_IABT_CUR);
        assert!(is_instruction_abort(esr));
        assert!(!is_data_abort(esr));
        assert_eq!(esr_fault_name(esr), "level 2 translation fault");
        let text = std::format!("{}", MemAbortInfo(esr));
        assert_eq!(
            text,
            "Mem abort info:\n  ESR = 0x0000000086000006\n  \
             EC = 0x21: IABT (current EL), IL = 32 bits\n  SET = 0, FnV = 0\n  \
             EA = 0, S1PTW = 0\n  FSC = 0x06: level 2 translation fault\n"
        );
    }

    #[test]
    fn unknown_and_svc() {
        assert_eq!(ec(0x0200_0000), ESR_ELX_EC_UNKNOWN);
        assert!(il(0x0200_0000));
        assert_eq!(esr_get_class_string(0x0200_0000), "Unknown/Uncategorized");

        let svc = 0x5600_0000;
        assert_eq!(ec(svc), ESR_ELX_EC_SVC64);
        assert_eq!(imm16(svc), 0);
        assert_eq!(esr_get_class_string(svc), "SVC (AArch64)");
        assert_eq!(imm16(0x5600_0042), 0x42);
    }

    #[test]
    fn class_strings() {
        let at = |ec: u64| esr_get_class_string(ec << ESR_ELX_EC_SHIFT);
        assert_eq!(at(ESR_ELX_EC_IABT_LOW), "IABT (lower EL)");
        assert_eq!(at(ESR_ELX_EC_DABT_LOW), "DABT (lower EL)");
        assert_eq!(at(ESR_ELX_EC_SYS64), "MSR/MRS (AArch64)");
        assert_eq!(at(ESR_ELX_EC_BRK64), "BRK (AArch64)");
        assert_eq!(at(ESR_ELX_EC_SERROR), "SError");
        assert_eq!(at(ESR_ELX_EC_FP_ASIMD), "ASIMD");
        assert_eq!(at(ESR_ELX_EC_ILL), "PSTATE.IL");
        assert_eq!(at(ESR_ELX_EC_SP_ALIGN), "SP Alignment");
        assert_eq!(at(ESR_ELX_EC_SOFTSTP_CUR), "Software Step (current EL)");
        assert_eq!(at(0x3b), "UNRECOGNIZED EC");
        // Bits above EC (ISS2, RES0) must not change the class.
        assert_eq!(
            esr_get_class_string(0xffff_ffff_0000_0000 | (0x15 << 26)),
            "SVC (AArch64)"
        );
    }

    #[test]
    fn fault_names() {
        assert_eq!(fault_name(0x21), "alignment fault");
        assert_eq!(fault_name(0x10), "synchronous external abort");
        assert_eq!(fault_name(0x0a), "level 2 access flag fault");
        assert_eq!(fault_name(0x07), "level 3 translation fault");
        assert_eq!(fault_name(0x3f), "unknown 63");
        // Only the low six bits are the FSC.
        assert_eq!(fault_name(0x45), "level 1 translation fault");
        // Every "unknown N" names its own index.
        for (i, name) in FAULT_INFO_NAME.iter().enumerate() {
            if let Some(n) = name.strip_prefix("unknown ") {
                assert_eq!(n.parse::<usize>().unwrap(), i);
            }
        }
    }

    #[test]
    fn isv_and_iss2_fields() {
        // ldr x3, [x1] faulting with a valid syndrome: ISV, SAS=3 (8 bytes), SRT=3, SF.
        let esr =
            0x9300_0000 | (3 << ESR_ELX_SAS_SHIFT) | (3 << ESR_ELX_SRT_SHIFT) | ESR_ELX_SF | 0x07;
        assert!(isv(esr));
        let text = std::format!("{}", DataAbortInfo(esr));
        assert!(
            text.contains("  Access size = 8 byte(s)\n  SSE = 0, SRT = 3\n  SF = 1, AR = 0\n"),
            "{text}"
        );
        assert!(!text.contains("ISV = 0"));

        let esr = 0x9600_0045 | (1u64 << (32 + ESR_ELX_TAGACCESS_SHIFT)) | (5u64 << 32);
        assert_eq!(iss2(esr), 0x805);
        let text = std::format!("{}", DataAbortInfo(esr));
        assert!(text.contains("ISS2 = 0x00000805"), "{text}");
        assert!(text.contains("TnD = 0, TagAccess = 1"), "{text}");
        assert!(text.contains("DirtyBit = 0, Xs = 5"), "{text}");
    }

    #[test]
    fn set_fnv_ea_s1ptw() {
        let esr = (ESR_ELX_EC_DABT_LOW << 26)
            | (2 << ESR_ELX_SET_SHIFT)
            | ESR_ELX_FNV
            | ESR_ELX_EA
            | ESR_ELX_S1PTW
            | 0x10;
        assert_eq!(set(esr), 2);
        assert!(fnv(esr) && ea(esr) && s1ptw(esr));
        assert!(!il(esr));
        let text = std::format!("{}", MemAbortInfo(esr));
        assert!(text.contains("IL = 16 bits"), "{text}");
        assert!(
            text.contains("  SET = 2, FnV = 1\n  EA = 1, S1PTW = 1\n"),
            "{text}"
        );
        assert!(text.contains("DABT (lower EL)"));
    }
}
