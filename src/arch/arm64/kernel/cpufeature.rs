//! CPU features for user space: the HWCAP bits and ID-register emulation (Linux:
//! `arch/arm64/kernel/cpufeature.c`).
//!
//! `AT_HWCAP` tells programs what the CPU can do, from the real ID registers (a Cortex-A72
//! has no LSE atomics; advertising them would make musl and glibc use instructions that trap).
//! `HWCAP_CPUID` promises that user space may read the ID registers with `mrs`: those reads
//! trap (EC 0x18) and are emulated here, as Linux does — glibc's static start-up reads
//! MIDR_EL1 this way.

use crate::arch::ptrace::PtRegs;

macro_rules! read_sysreg {
    ($name:literal) => {{
        let v: u64;
        // SAFETY: reading an ID register at EL1 has no side effects.
        unsafe { core::arch::asm!(concat!("mrs {}, ", $name), out(reg) v, options(nomem, nostack)) };
        v
    }};
}

/// The AT_HWCAP value for this CPU.
pub fn elf_hwcap() -> u64 {
    crate::arch::hwcap::hwcap_from_id_regs(
        read_sysreg!("id_aa64isar0_el1"),
        read_sysreg!("id_aa64pfr0_el1"),
        read_sysreg!("id_aa64isar1_el1"),
    )
}

/// The value user space reads for the ID register with encoding (op1, CRn, CRm, op2) under
/// op0 = 3, or `None` if it is not an ID register.
fn emulated_id_reg(op1: u64, crn: u64, crm: u64, op2: u64) -> Option<u64> {
    if op1 != 0 || crn != 0 {
        return None;
    }
    Some(match (crm, op2) {
        (0, 0) => read_sysreg!("midr_el1"),
        (0, 5) => 0x8000_0000, // MPIDR_EL1: Linux shows user space a uniprocessor value
        (0, 6) => read_sysreg!("revidr_el1"),
        (4, 0) => read_sysreg!("id_aa64pfr0_el1"),
        (4, 1) => read_sysreg!("id_aa64pfr1_el1"),
        (5, 0) => read_sysreg!("id_aa64dfr0_el1"),
        (6, 0) => read_sysreg!("id_aa64isar0_el1"),
        (6, 1) => read_sysreg!("id_aa64isar1_el1"),
        (7, 0) => read_sysreg!("id_aa64mmfr0_el1"),
        (7, 1) => read_sysreg!("id_aa64mmfr1_el1"),
        (1..=7, _) => 0, // the rest of the ID space reads as zero
        _ => return None,
    })
}

/// Emulate an `mrs` of an ID register that trapped from EL0 (ESR EC 0x18). Returns false
/// if the instruction was something else (the caller sends SIGILL).
pub fn do_emulate_mrs(regs: &mut PtRegs, esr: u64) -> bool {
    let iss = esr & 0x1ff_ffff;
    let (op0, op2, op1) = ((iss >> 20) & 3, (iss >> 17) & 7, (iss >> 14) & 7);
    let (crn, rt, crm, read) = (
        (iss >> 10) & 0xf,
        ((iss >> 5) & 0x1f) as usize,
        (iss >> 1) & 0xf,
        iss & 1 == 1,
    );
    if op0 != 3 || !read {
        return false;
    }
    let Some(value) = emulated_id_reg(op1, crn, crm, op2) else {
        return false;
    };
    if rt != 31 {
        regs.regs[rt] = value;
    }
    regs.pc += 4;
    true
}

/// Emulate an `mrs` of an ID register that trapped as an undefined instruction (EC 0x00,
/// what ARMv8.0 CPUs raise for EL0 reads of EL1 registers; Linux's `emulate_mrs` hook).
/// Returns false if the instruction at pc is something else.
pub fn do_emulate_undef_mrs(regs: &mut PtRegs) -> bool {
    let mut word = [0u8; 4];
    if crate::arch::uaccess::copy_from_user(&mut word, regs.pc).is_err() {
        return false;
    }
    let insn = u32::from_le_bytes(word) as u64;
    // MRS <Xt>, S<op0>_<op1>_C<n>_C<m>_<op2>: 1101 0101 0011 o0 op1 CRn CRm op2 Rt.
    if insn & 0xfff0_0000 != 0xd530_0000 {
        return false;
    }
    let op0 = 2 + ((insn >> 19) & 1);
    let (op1, crn, crm, op2) = (
        (insn >> 16) & 7,
        (insn >> 12) & 0xf,
        (insn >> 8) & 0xf,
        (insn >> 5) & 7,
    );
    let rt = (insn & 0x1f) as usize;
    if op0 != 3 {
        return false;
    }
    let Some(value) = emulated_id_reg(op1, crn, crm, op2) else {
        return false;
    };
    if rt != 31 {
        regs.regs[rt] = value;
    }
    regs.pc += 4;
    true
}
