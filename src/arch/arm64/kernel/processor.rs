//! The architecture's half of a task: the registers `cpu_switch_to` saves and the rest of the
//! thread state that is not in its pt_regs (Linux: `arch/arm64/include/asm/processor.h`).

use crate::arch::fpsimd::FpsimdState;

/// Registers `cpu_switch_to` saves: the callee-saved ones, the frame pointer, sp and the
/// resume pc (Linux: `struct cpu_context`).
#[repr(C)]
#[derive(Clone, Copy, Debug, Default)]
pub struct CpuContext {
    /// x19..x28. A new kernel thread's function is in x19 and its argument in x20.
    pub x19_x28: [u64; 10],
    /// x29, the frame pointer.
    pub fp: u64,
    /// The kernel stack pointer.
    pub sp: u64,
    /// Where the task resumes (x30 at the switch; `ret_from_fork` for a new task).
    pub pc: u64,
}

/// Architecture state of a task that is not in its pt_regs (Linux: `struct thread_struct`).
#[repr(C)]
#[derive(Default)]
pub struct ThreadStruct {
    /// Saved by `cpu_switch_to`. First: asm/entry.S finds it at offset 0.
    pub cpu_context: CpuContext,
    /// TPIDR_EL0, the user thread pointer (TLS).
    pub tp_value: u64,
    /// The user's FP/SIMD registers while the task is switched out.
    pub fpsimd: FpsimdState,
}
