//! The idle loop (Linux: `kernel/sched/idle.c`).
//!
//! Every CPU's idle task (`swapper/N`, PID 0) ends here: `cpu_startup_entry` → `do_idle`,
//! forever. With nothing to run, the CPU sleeps in `wfi` until an interrupt; the check for
//! work and the `wfi` happen with interrupts masked, so work that arrives in between cannot
//! be missed: a local interrupt, or the reschedule IPI another CPU sends after queueing a
//! task here and setting our `need_resched`, is pending and ends `wfi` at once.

use core::sync::atomic::{AtomicU64, Ordering};

use super::core::{need_resched, schedule_idle};
use crate::arch::irqflags::{local_irq_disable, local_irq_enable};
use crate::kernel::task::current;

/// Times any CPU entered `wfi` (for tests: proof that idle really idles).
pub static IDLE_ENTRIES: AtomicU64 = AtomicU64::new(0);

/// One pass of idling (Linux's `do_idle`).
fn do_idle() {
    while !need_resched() {
        if current().stack_end_corrupted() {
            panic!("corrupted stack end detected inside scheduler");
        }
        local_irq_disable();
        if !need_resched() {
            IDLE_ENTRIES.fetch_add(1, Ordering::Relaxed);
            aarch64_cpu::asm::wfi();
        }
        local_irq_enable();
    }
    schedule_idle();
}

/// What PID 0 (and each secondary CPU's idle task) runs forever (Linux's `cpu_startup_entry`).
pub fn cpu_startup_entry() -> ! {
    loop {
        do_idle();
    }
}
