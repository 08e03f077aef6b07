//! Walking the kernel stack by frame records (Linux: `arch/arm64/kernel/stacktrace.c`).
//!
//! The kernel is built with frame pointers: x29 points at a 16-byte record {previous x29,
//! return address}. `__primary_switched` ends the chain with a zero record, and
//! `kernel_entry` links exceptions into it through the record inside `pt_regs`. Every step
//! is checked to stay inside the current task's stack, so a corrupt stack ends the trace
//! instead of faulting again.

use crate::kernel::task::current;

/// The most frames printed, in case of a loop the checks miss.
const MAX_FRAMES: usize = 64;

/// Call `f` with each return address, starting from the frame record at `fp`.
pub fn walk_stackframe(mut fp: u64, mut f: impl FnMut(u64)) {
    let task = current();
    for _ in 0..MAX_FRAMES {
        if fp == 0 || !fp.is_multiple_of(16) || !task.on_stack(fp as usize, 16) {
            return;
        }
        let record = fp as *const [u64; 2];
        // SAFETY: `fp` is 16-byte aligned and the 16 bytes lie inside the current task's
        // stack (checked above), which is mapped while the task runs.
        let [next, lr] = unsafe { record.read_volatile() };
        if lr == 0 {
            return;
        }
        f(lr);
        if next <= fp {
            return; // stacks grow down, so older frames are higher; anything else is a loop
        }
        fp = next;
    }
}

/// The frame pointer of the caller, to start a trace from here.
#[inline(always)]
pub fn current_frame_pointer() -> u64 {
    let fp: u64;
    // SAFETY: reading x29 has no side effects.
    unsafe { core::arch::asm!("mov {}, x29", out(reg) fp, options(nomem, nostack)) };
    fp
}
