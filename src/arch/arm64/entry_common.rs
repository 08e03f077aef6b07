//! Work done on the way back to user space (Linux: `arch/arm64/kernel/entry-common.c`,
//! `exit_to_user_mode`, and `signal.c`, `do_notify_resume`).

use super::ptrace::PtRegs;
use crate::kernel::sched::core::{need_resched, schedule};
use crate::kernel::task::current;

/// Called with the pt_regs about to be restored, before every return to EL0: reschedule if
/// asked to. Also the path a kernel thread takes when its function returns: one that has
/// not become a user process (by `execve`) has nothing to return to, and exits.
#[no_mangle]
pub extern "C" fn exit_to_user_mode(regs: &mut PtRegs) {
    if !regs.user_mode() {
        let task = current();
        log::warn!(
            "{}[{}]: kernel thread returned without exec; exiting",
            task.comm(),
            task.pid()
        );
        crate::kernel::exit::do_exit(0);
    }
    loop {
        crate::arch::arm64::irqflags::local_irq_disable();
        if need_resched() {
            crate::arch::arm64::irqflags::local_irq_enable();
            schedule();
            continue;
        }
        let task = current();
        if task.pending.load(core::sync::atomic::Ordering::Relaxed)
            & !task.blocked.load(core::sync::atomic::Ordering::Relaxed)
            != 0
        {
            crate::arch::arm64::irqflags::local_irq_enable();
            crate::kernel::signal::do_signal();
            crate::arch::arm64::irqflags::local_irq_disable();
        }
        break;
    }
}
