//! Showing a task's registers (Linux: `arch/arm64/kernel/process.c`, `__show_regs`).

use super::ptrace::PtRegs;
use super::stacktrace::walk_stackframe;
use crate::kernel::kallsyms::{Ksym, KsymBacktrace};
use crate::kernel::printk::printk_emergency;
use crate::kernel::task::current;

/// PSTATE flags as Linux prints them: `nZCv daif -PAN -UAO -TCO -DIT -SSBS BTYPE=--`.
struct Pstate(u64);

impl core::fmt::Display for Pstate {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        let p = self.0;
        let flag = |bit: u64, c: char| {
            if p & (1 << bit) != 0 {
                c.to_ascii_uppercase()
            } else {
                c
            }
        };
        let sign = |bit: u64| if p & (1 << bit) != 0 { '+' } else { '-' };
        let btype = ["--", "-c", "j-", "jc"][((p >> 10) & 3) as usize];
        write!(
            f,
            "{}{}{}{} {}{}{}{} {}PAN {}UAO {}TCO {}DIT {}SSBS BTYPE={}",
            flag(31, 'n'),
            flag(30, 'z'),
            flag(29, 'c'),
            flag(28, 'v'),
            flag(9, 'd'),
            flag(8, 'a'),
            flag(7, 'i'),
            flag(6, 'f'),
            sign(22),
            sign(23),
            sign(25),
            sign(24),
            sign(12),
            btype
        )
    }
}

/// Linux's `show_regs`: who was running, the registers, and the call trace.
pub fn show_regs(regs: &PtRegs) {
    let task = current();
    printk_emergency(format_args!(
        "CPU: {} PID: {} Comm: {} Not tainted {} #1",
        super::percpu::smp_processor_id(),
        task.pid(),
        task.comm(),
        crate::init::version::CRADLE_VERSION
    ));
    if let Some(model) = super::setup::machine_model() {
        printk_emergency(format_args!("Hardware name: {model} (DT)"));
    }
    printk_emergency(format_args!(
        "pstate: {:08x} ({})",
        regs.pstate,
        Pstate(regs.pstate)
    ));
    printk_emergency(format_args!("pc : {}", Ksym(regs.pc)));
    printk_emergency(format_args!("lr : {}", Ksym(regs.regs[30])));
    printk_emergency(format_args!("sp : {:016x}", regs.sp));
    // Three registers a line, from x29 down to x0, as Linux prints them.
    for top in (2..30).rev().step_by(3) {
        printk_emergency(format_args!(
            "x{:<2}: {:016x} x{:<2}: {:016x} x{:<2}: {:016x}",
            top,
            regs.regs[top],
            top - 1,
            regs.regs[top - 1],
            top - 2,
            regs.regs[top - 2]
        ));
    }
    printk_emergency(format_args!("Call trace:"));
    printk_emergency(format_args!(" {}", Ksym(regs.pc)));
    walk_stackframe(regs.regs[29], |lr| {
        printk_emergency(format_args!(" {}", KsymBacktrace(lr)))
    });
}

/// Linux's `dump_stack`: a call trace from the caller, with who is running.
pub fn dump_stack() {
    let task = current();
    printk_emergency(format_args!(
        "CPU: {} PID: {} Comm: {} Not tainted {} #1",
        super::percpu::smp_processor_id(),
        task.pid(),
        task.comm(),
        crate::init::version::CRADLE_VERSION
    ));
    printk_emergency(format_args!("Call trace:"));
    walk_stackframe(super::stacktrace::current_frame_pointer(), |lr| {
        printk_emergency(format_args!(" {}", KsymBacktrace(lr)))
    });
}
