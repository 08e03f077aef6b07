//! Exception handlers and `die`, the oops path (Linux: `arch/arm64/kernel/traps.c` and
//! `entry-common.c`).
//!
//! `asm/entry.S` saves a [`PtRegs`] and calls one of the `extern "C"` handlers below. A
//! fault in the kernel that nothing fixes up ends in [`die`]: Linux's oops report (reason,
//! ESR, registers, call trace), then the task dies — and since the only task so far is the
//! idle task, that is a panic.

use core::sync::atomic::{AtomicU32, Ordering};

use aarch64_cpu::registers::{Readable, ESR_EL1, FAR_EL1};

use super::esr;
use crate::arch::fault::do_mem_abort;
use crate::arch::process::show_regs;
use crate::arch::ptrace::PtRegs;
use crate::kernel::printk::printk_emergency;

/// Which of the 16 vectors an exception came through (for `panic_unhandled`).
pub mod vector {
    /// Current EL with SP_EL0: synchronous.
    pub const EL1T_SYNC: u64 = 0;
    /// Current EL with SP_EL0: IRQ.
    pub const EL1T_IRQ: u64 = 1;
    /// Current EL with SP_EL0: FIQ.
    pub const EL1T_FIQ: u64 = 2;
    /// Current EL with SP_EL0: SError.
    pub const EL1T_ERROR: u64 = 3;
    /// Current EL with SP_EL1: FIQ.
    pub const EL1H_FIQ: u64 = 6;
    /// Lower EL, AArch64: FIQ.
    pub const EL0T_FIQ: u64 = 10;
    /// Lower EL, AArch32: synchronous.
    pub const EL0T32_SYNC: u64 = 12;
    /// Lower EL, AArch32: IRQ.
    pub const EL0T32_IRQ: u64 = 13;
    /// Lower EL, AArch32: FIQ.
    pub const EL0T32_FIQ: u64 = 14;
    /// Lower EL, AArch32: SError.
    pub const EL0T32_ERROR: u64 = 15;

    /// Linux's name for a vector, as in "Unhandled 64-bit el1t sync exception".
    pub fn name(vector: u64) -> &'static str {
        const NAMES: [&str; 16] = [
            "64-bit el1t sync",
            "64-bit el1t irq",
            "64-bit el1t fiq",
            "64-bit el1t error",
            "64-bit el1h sync",
            "64-bit el1h irq",
            "64-bit el1h fiq",
            "64-bit el1h error",
            "64-bit el0t sync",
            "64-bit el0t irq",
            "64-bit el0t fiq",
            "64-bit el0t error",
            "32-bit el0t sync",
            "32-bit el0t irq",
            "32-bit el0t fiq",
            "32-bit el0t error",
        ];
        NAMES.get(vector as usize).copied().unwrap_or("unknown")
    }
}

/// Oopses so far, for the `[#n]` in the report.
static DIE_COUNTER: AtomicU32 = AtomicU32::new(0);

/// Linux's `die`: report a fatal kernel exception, then end the task (here: panic, because
/// the oopsing task is the idle task or the kernel is in an interrupt).
pub fn die(reason: &str, regs: &PtRegs, err: u64) -> ! {
    let n = DIE_COUNTER.fetch_add(1, Ordering::Relaxed) + 1;
    printk_emergency(format_args!(
        "Internal error: {reason}: {err:016x} [#{n}] PREEMPT SMP"
    ));
    show_regs(regs);
    panic!("Attempted to kill the idle task!");
}

/// Called from `asm/entry.S` for vectors Cradle never expects (Linux's `__panic_unhandled`).
#[no_mangle]
extern "C" fn panic_unhandled(regs: &mut PtRegs, vector: u64) -> ! {
    let esr = ESR_EL1.get();
    printk_emergency(format_args!(
        "Unhandled {} exception on CPU{}, ESR {:#018x} -- {}",
        vector::name(vector),
        crate::arch::percpu::smp_processor_id(),
        esr,
        esr::esr_get_class_string(esr)
    ));
    show_regs(regs);
    panic!("Unhandled exception");
}

/// Synchronous exception from the kernel (Linux's `el1h_64_sync_handler`).
#[no_mangle]
extern "C" fn el1h_64_sync_handler(regs: &mut PtRegs) {
    let esr = ESR_EL1.get();
    match esr::ec(esr) {
        esr::ESR_ELX_EC_DABT_CUR | esr::ESR_ELX_EC_IABT_CUR => {
            do_mem_abort(FAR_EL1.get(), esr, regs)
        }
        esr::ESR_ELX_EC_SP_ALIGN | esr::ESR_ELX_EC_PC_ALIGN => {
            die("Oops - SP/PC alignment exception", regs, esr)
        }
        esr::ESR_ELX_EC_UNKNOWN => die("Oops - Undefined instruction", regs, esr),
        esr::ESR_ELX_EC_BRK64 => die("Oops - BRK", regs, esr),
        _ => {
            printk_emergency(format_args!(
                "Unhandled exception in the kernel: ESR {esr:#018x} -- {}",
                esr::esr_get_class_string(esr)
            ));
            die("Oops - bad mode", regs, esr)
        }
    }
}

/// IRQ taken in the kernel (Linux's `el1h_64_irq_handler` → `handle_arch_irq`).
#[no_mangle]
extern "C" fn el1h_64_irq_handler(_regs: &mut PtRegs) {
    crate::kernel::sched::cputime::irq_enter_from(false);
    crate::kernel::irq::handle_arch_irq();
    // Kernel preemption: the tick or a wake-up may have asked for it (Linux's
    // `arm64_preempt_schedule_irq`).
    crate::kernel::sched::core::irq_exit_preempt();
}

/// SError taken in the kernel: an asynchronous external abort. Fatal, as on Linux.
#[no_mangle]
extern "C" fn el1h_64_error_handler(regs: &mut PtRegs) {
    let esr = ESR_EL1.get();
    printk_emergency(format_args!(
        "SError Interrupt on CPU{}",
        crate::arch::percpu::smp_processor_id()
    ));
    die("Asynchronous SError Interrupt", regs, esr)
}

/// Synchronous exception from user space (Linux's `el0t_64_sync_handler`): system calls,
/// page faults, and the faults that end a process. Interrupts are enabled while it runs.
#[no_mangle]
extern "C" fn el0t_64_sync_handler(regs: &mut PtRegs) {
    let esr = ESR_EL1.get();
    // The system call first: the hottest way into the kernel needs nothing else.
    if esr::ec(esr) == esr::ESR_ELX_EC_SVC64 {
        crate::arch::irqflags::local_irq_enable();
        return crate::arch::syscall::el0_svc(regs);
    }
    // FAR is read before IRQs are on: a fault taken by an interrupt handler would change it.
    let far = FAR_EL1.get();
    crate::arch::irqflags::local_irq_enable();
    use crate::kernel::signal::si;
    use crate::kernel::signal::sig::{SIGBUS, SIGILL, SIGSEGV, SIGTRAP};
    match esr::ec(esr) {
        esr::ESR_ELX_EC_DABT_LOW | esr::ESR_ELX_EC_IABT_LOW => {
            match crate::mm::fault::handle_user_fault(far, esr, true) {
                Ok(()) => {}
                Err(crate::mm::fault::VmFault::Sigbus) => {
                    user_fault(regs, esr, SIGBUS, si::BUS_ADRERR, far)
                }
                Err(_) => {
                    let code = crate::mm::fault::sigsegv_code(far);
                    user_fault(regs, esr, SIGSEGV, code, far)
                }
            }
        }
        esr::ESR_ELX_EC_SYS64 => {
            if !crate::arch::cpufeature::do_emulate_mrs(regs, esr) {
                user_fault(regs, esr, SIGILL, si::ILL_ILLOPC, regs.pc);
            }
        }
        esr::ESR_ELX_EC_PC_ALIGN => user_fault(regs, esr, SIGBUS, si::BUS_ADRALN, far),
        esr::ESR_ELX_EC_SP_ALIGN => user_fault(regs, esr, SIGBUS, si::BUS_ADRALN, regs.sp),
        esr::ESR_ELX_EC_BRK64 => user_fault(regs, esr, SIGTRAP, si::TRAP_BRKPT, regs.pc),
        esr::ESR_ELX_EC_UNKNOWN => {
            if !crate::arch::cpufeature::do_emulate_undef_mrs(regs) {
                user_fault(regs, esr, SIGILL, si::ILL_ILLOPC, regs.pc);
            }
        }
        _ => user_fault(regs, esr, SIGILL, si::ILL_ILLOPC, regs.pc),
    }
}

/// A fault in user space (Linux's `arm64_force_sig_fault`): the thread gets `signo` with
/// `code` and `addr` in its siginfo, taken on the way back to user space. If that kills the
/// process (no handler), log it first, as Linux's `show_unhandled_signals` does.
fn user_fault(regs: &PtRegs, esr: u64, signo: i32, code: i32, addr: u64) {
    if crate::kernel::signal::unhandled_signal(signo) {
        let task = crate::kernel::task::current();
        let what = if esr::is_data_abort(esr) || esr::is_instruction_abort(esr) {
            esr::esr_fault_name(esr)
        } else {
            esr::esr_get_class_string(esr)
        };
        log::info!(
            "{}[{}]: unhandled {what} ({signo}) at {addr:#018x}, esr {esr:#010x}, pc {:#x}",
            task.comm(),
            task.pid(),
            regs.pc
        );
    }
    crate::kernel::signal::force_sig_fault(signo, code, addr)
}

/// IRQ taken in user space (Linux's `el0t_64_irq_handler` → `handle_arch_irq`).
#[no_mangle]
extern "C" fn el0t_64_irq_handler(_regs: &mut PtRegs) {
    // The tick charges user time for an interrupt from EL0 (Linux's `user_mode(regs)`).
    crate::kernel::sched::cputime::irq_enter_from(true);
    crate::kernel::irq::handle_arch_irq()
}

/// SError taken in user space: the process that was running dies (Linux kills it too).
#[no_mangle]
extern "C" fn el0t_64_error_handler(regs: &mut PtRegs) {
    let esr = ESR_EL1.get();
    let task = crate::kernel::task::current();
    log::info!(
        "{}[{}]: SError Interrupt, esr {esr:#010x}, pc {:#x}",
        task.comm(),
        task.pid(),
        regs.pc
    );
    crate::kernel::exit::do_group_exit(crate::kernel::signal::sig::SIGBUS)
}

/// Called by `__bad_stack` (asm/entry.S) on the overflow stack when an exception found sp in
/// a stack's guard (Linux's `handle_bad_stack`).
#[no_mangle]
extern "C" fn handle_bad_stack(regs: &mut PtRegs) -> ! {
    let esr = ESR_EL1.get();
    let far = FAR_EL1.get();
    let task = crate::kernel::task::current();
    let cpu = crate::arch::percpu::smp_processor_id();
    let (ovf_low, ovf_high) = crate::arch::percpu::overflow_stack_bounds(cpu);
    printk_emergency(format_args!(
        "Insufficient stack space to handle exception!"
    ));
    printk_emergency(format_args!(
        "ESR: {esr:#018x} -- {}",
        esr::esr_get_class_string(esr)
    ));
    printk_emergency(format_args!("FAR: {far:#018x}"));
    let stack = match crate::mm::vmalloc::stack_slot_of(regs.sp) {
        Some(base) => base,
        None => task.stack_base() as u64,
    };
    printk_emergency(format_args!(
        "Task stack:     [{:#018x}..{:#018x}] of {}[{}]",
        stack,
        stack + crate::arch::memory::THREAD_SIZE as u64,
        task.comm(),
        task.pid()
    ));
    printk_emergency(format_args!(
        "Overflow stack: [{ovf_low:#018x}..{ovf_high:#018x}]"
    ));
    show_regs(regs);
    panic!("kernel stack overflow");
}
