//! `current`: where arm64 keeps the running task (Linux: `arch/arm64/include/asm/current.h`).
//!
//! In the kernel, `sp_el0` holds the running task's `task_struct` (user space's stack pointer
//! is saved in pt_regs on entry), so finding it costs one register read.

use crate::kernel::task::TaskStruct;

/// The running task's `task_struct`, read from `sp_el0` (Linux's `get_current`).
#[inline(always)]
pub fn get_current() -> *const TaskStruct {
    let task: *const TaskStruct;
    // SAFETY: reading sp_el0 has no side effects.
    unsafe { core::arch::asm!("mrs {}, sp_el0", out(reg) task, options(nomem, nostack)) };
    task
}
