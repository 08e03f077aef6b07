//! `init_task`: PID 0, the task that boots the kernel and becomes the idle task
//! (Linux: `init/init_task.c`).
//!
//! It is the only task not made by `copy_process`. `__primary_switched` in `asm/head.S`
//! points `sp` at the top of `init_thread_union` (its stack, placed by the linker script as
//! Linux's `INIT_TASK_DATA` does) and `sp_el0` at this struct, then calls `start_kernel`.

use core::sync::atomic::Ordering;

use crate::kernel::task::{TaskStruct, PF_KTHREAD};

/// PID 0. Its name is `swapper/0`, as Linux names the boot CPU's idle task.
#[no_mangle]
#[allow(non_upper_case_globals)]
pub static init_task: TaskStruct = TaskStruct::new(0, "swapper/0", PF_KTHREAD);

extern "C" {
    /// The lowest address of init_task's stack (linker script: `init_stack`).
    static init_stack: u8;
}

/// Record where init_task's stack is. Called first thing in `start_kernel`.
pub fn init_task_stack_setup() {
    let base = &raw const init_stack as usize;
    init_task.stack.store(base, Ordering::Relaxed);
}
