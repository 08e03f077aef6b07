//! Work done on the way back to user space (Linux: `arch/arm64/kernel/entry-common.c`,
//! `exit_to_user_mode`, and `signal.c`, `do_notify_resume`): rescheduling, and signals
//! (`arch::signal::do_signal`: handlers, default actions, syscall restarts).

use crate::arch::ptrace::PtRegs;
use crate::kernel::sched::core::{need_resched, schedule};
use crate::kernel::task::current;

/// Called with the pt_regs about to be restored, before every return to EL0: reschedule if
/// asked to, and act on pending signals. Also the path a kernel thread takes when its
/// function returns: one that has not become a user process (by `execve`) has nothing to
/// return to, and exits.
#[no_mangle]
pub extern "C" fn exit_to_user_mode(regs: &mut PtRegs) {
    if !regs.user_mode() {
        kthread_returned();
    }
    // Linux's `exit_to_user_mode_loop`: handling a signal may make more work (a wake-up,
    // another signal), so check again until there is none, then return with IRQs masked.
    loop {
        crate::arch::irqflags::local_irq_disable();
        if need_resched() {
            crate::arch::irqflags::local_irq_enable();
            schedule();
            continue;
        }
        if crate::arch::signal::has_signal_work(regs) {
            crate::arch::irqflags::local_irq_enable();
            crate::arch::signal::do_signal(regs);
            continue;
        }
        break;
    }
}

/// A kernel thread's function returned into `ret_from_fork`'s path to user space without
/// an `execve` (Linux warns and exits it the same way). Out of line: never the hot path.
#[cold]
#[inline(never)]
fn kthread_returned() -> ! {
    let task = current();
    log::warn!(
        "{}[{}]: kernel thread returned without exec; exiting",
        task.comm(),
        task.pid()
    );
    crate::kernel::exit::do_exit(0)
}
