//! `show_state`: one line per task, as Linux's sysrq-t prints (Linux: `kernel/sched/core.c`,
//! `show_state_filter`, reduced to what `ps` shows).
//!
//! Printed on panic, and at boot with the `show_state` bootarg: the task tree as the seed
//! articles draw it — PID 0 `swapper/0` (and `swapper/N`, the idle task of each other
//! CPU), PID 1 `kernel_init`, PID 2 `kthreadd`, and every
//! kernel thread under PID 2. Kernel threads are shown in `[brackets]`, as `ps` does.

use crate::kernel::pid::for_each_task;
use crate::kernel::printk::printk_emergency;
use crate::kernel::task::TaskStruct;

/// One task's line.
fn sched_show_task(task: &TaskStruct, emergency: bool) {
    let comm = task.comm();
    let mut name = crate::kernel::printk_fmt::LineWriter::<24>::new();
    let _ = if task.is_kthread() {
        core::fmt::Write::write_fmt(&mut name, format_args!("[{comm}]"))
    } else {
        core::fmt::Write::write_fmt(&mut name, format_args!("{comm}"))
    };
    let args = format_args!(
        "{:>5} {:>5} {} {}",
        task.pid(),
        task.ppid(),
        task.state_char(),
        name.as_str()
    );
    if emergency {
        printk_emergency(args);
    } else {
        log::info!("{args}");
    }
}

/// Print every task (Linux's `show_state`). `emergency` prints even if the log lock is
/// held (the panic path).
pub fn show_state(emergency: bool) {
    if emergency {
        printk_emergency(format_args!("sysrq: Show State"));
        printk_emergency(format_args!("  PID  PPID S COMMAND"));
    } else {
        log::info!("sysrq: Show State");
        log::info!("  PID  PPID S COMMAND");
    }
    // The secondary CPUs' idle tasks (PID 0 too, never in the task list) follow swapper/0.
    let init = &crate::init::init_task::init_task as *const TaskStruct;
    for_each_task(|task| {
        sched_show_task(task, emergency);
        if core::ptr::eq(task, init) {
            crate::kernel::smpboot::for_each_secondary_idle(|idle| {
                sched_show_task(idle, emergency)
            });
        }
    });
}
