//! Brings `asm/entry.S` (the exception vectors) into the build with the `pt_regs` offsets.

use crate::arch::memory::THREAD_SHIFT;
use crate::arch::percpu::{OVERFLOW_STACK_SIZE, PERCPU_ENTRY_TASK, PERCPU_OVERFLOW_STACK_TOP};
use crate::arch::ptrace::{S_FRAME_SIZE, S_LR, S_PC, S_SP, S_STACKFRAME, S_SYSCALLNO};
use crate::arch::traps::vector;

/// Offset of `thread.cpu_context` in a task: `thread` and `cpu_context` both come first.
const THREAD_CPU_CONTEXT: usize = 0;
const _: () = assert!(core::mem::offset_of!(crate::kernel::task::TaskStruct, thread) == 0);
const _: () =
    assert!(core::mem::offset_of!(crate::arch::processor::ThreadStruct, cpu_context) == 0);
const _: () = assert!(core::mem::size_of::<crate::arch::fpsimd::FpsimdState>() == 528);

core::arch::global_asm!(
    include_str!("../../../../asm/entry.S"),
    S_FRAME_SIZE = const S_FRAME_SIZE,
    S_LR = const S_LR,
    S_SP = const S_SP,
    S_PC = const S_PC,
    S_SYSCALLNO = const S_SYSCALLNO,
    S_STACKFRAME = const S_STACKFRAME,
    PERCPU_ENTRY_TASK = const PERCPU_ENTRY_TASK,
    PERCPU_OVERFLOW_STACK_TOP = const PERCPU_OVERFLOW_STACK_TOP,
    OVERFLOW_STACK_SIZE = const OVERFLOW_STACK_SIZE,
    THREAD_SHIFT = const THREAD_SHIFT,
    THREAD_CPU_CONTEXT = const THREAD_CPU_CONTEXT,
    VECTOR_EL1T_SYNC = const vector::EL1T_SYNC,
    VECTOR_EL1T_IRQ = const vector::EL1T_IRQ,
    VECTOR_EL1T_FIQ = const vector::EL1T_FIQ,
    VECTOR_EL1T_ERROR = const vector::EL1T_ERROR,
    VECTOR_EL1H_FIQ = const vector::EL1H_FIQ,
    VECTOR_EL0T_FIQ = const vector::EL0T_FIQ,
    VECTOR_EL0T32_SYNC = const vector::EL0T32_SYNC,
    VECTOR_EL0T32_IRQ = const vector::EL0T32_IRQ,
    VECTOR_EL0T32_FIQ = const vector::EL0T32_FIQ,
    VECTOR_EL0T32_ERROR = const vector::EL0T32_ERROR,
);

extern "C" {
    /// asm/entry.S: run `f(arg)` on the stack whose top is `stack_top`, then return.
    pub fn call_on_stack(arg: usize, f: extern "C" fn(usize), stack_top: u64);
    /// asm/entry.S: switch from task `prev` to task `next` (both `*const TaskStruct`);
    /// returns, in next's context, the task that ran before.
    pub fn cpu_switch_to(
        prev: *const core::ffi::c_void,
        next: *const core::ffi::c_void,
    ) -> *const core::ffi::c_void;
    /// asm/entry.S: where a new task starts.
    pub fn ret_from_fork();
}
