//! `struct pt_regs`: the register state saved on exception entry (Linux: `asm/ptrace.h`).
//!
//! `kernel_entry` in `asm/entry.S` builds one at the top of the exception stack frame; the
//! offsets it uses are this struct's, passed as `const` operands.

use core::mem::offset_of;

/// Registers of an interrupted context, as `kernel_entry` saved them.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default)]
pub struct PtRegs {
    /// x0..x30 (x30 is the link register).
    pub regs: [u64; 31],
    /// The interrupted stack pointer (SP_EL0 for user space, SP_EL1 for the kernel).
    pub sp: u64,
    /// The interrupted program counter (ELR_EL1).
    pub pc: u64,
    /// The interrupted PSTATE (SPSR_EL1).
    pub pstate: u64,
    /// x0 as it was at syscall entry (x0 is overwritten by the return value).
    pub orig_x0: u64,
    /// The syscall number, or -1 when this is not a syscall.
    pub syscallno: i64,
    /// A frame record (fp, pc) linking the unwinder across the exception.
    pub stackframe: [u64; 2],
}

impl PtRegs {
    /// True if the interrupted context was user space (EL0).
    pub fn user_mode(&self) -> bool {
        self.pstate & PSR_MODE_MASK == PSR_MODE_EL0T
    }
}

/// PSTATE.M: mode field.
pub const PSR_MODE_MASK: u64 = 0xf;
/// PSTATE.M for EL0 (user space).
pub const PSR_MODE_EL0T: u64 = 0b0000;
/// PSTATE.M for EL1 using SP_EL1.
pub const PSR_MODE_EL1H: u64 = 0b0101;

/// Size of the exception frame: `sizeof(struct pt_regs)`, 16-byte aligned.
pub const S_FRAME_SIZE: usize = core::mem::size_of::<PtRegs>();
/// Offset of x30 (lr); `sp` follows it so they are saved with one `stp`.
pub const S_LR: usize = offset_of!(PtRegs, regs) + 30 * 8;
/// Offset of `sp`.
pub const S_SP: usize = offset_of!(PtRegs, sp);
/// Offset of `pc`; `pstate` follows it.
pub const S_PC: usize = offset_of!(PtRegs, pc);
/// Offset of `syscallno`.
pub const S_SYSCALLNO: usize = offset_of!(PtRegs, syscallno);
/// Offset of the frame record.
pub const S_STACKFRAME: usize = offset_of!(PtRegs, stackframe);

const _: () = assert!(S_FRAME_SIZE.is_multiple_of(16));
const _: () = assert!(S_SP == S_LR + 8);
const _: () = assert!(offset_of!(PtRegs, pstate) == S_PC + 8);
