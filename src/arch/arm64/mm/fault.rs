//! Data and instruction aborts (Linux: `arch/arm64/mm/fault.c`).
//!
//! A fault the kernel takes on a user address (inside `copy_from_user` and friends) is first
//! offered to the current address space's page-fault handler; if the page cannot be made
//! present, the exception table moves the faulting copy to its fixup, which returns EFAULT.
//! Any other kernel fault is reported as Linux reports it and ends in `die`.

use crate::arch::esr::{self, MemAbortInfo};
use crate::arch::memory::PAGE_SIZE;
use crate::arch::ptrace::PtRegs;
use crate::arch::traps::die;
use crate::kernel::printk::printk_emergency;

/// Handle an abort the kernel took at `far` described by `esr` (Linux's `do_mem_abort`).
pub fn do_mem_abort(far: u64, esr: u64, regs: &mut PtRegs) {
    if far < crate::arch::uaccess::TASK_SIZE
        && crate::mm::fault::handle_user_fault(far, esr, false).is_ok()
    {
        return;
    }
    if crate::arch::uaccess::fixup_exception(regs) {
        return;
    }
    die_kernel_fault(fault_message(far, esr), far, esr, regs)
}

/// True for a permission fault at any level.
fn is_permission_fault(esr: u64) -> bool {
    esr::fsc(esr) & esr::ESR_ELX_FSC_TYPE == esr::ESR_ELX_FSC_PERM
}

/// What Linux's `__do_kernel_fault` calls the fault.
fn fault_message(far: u64, esr: u64) -> &'static str {
    if far < PAGE_SIZE {
        "NULL pointer dereference"
    } else if is_permission_fault(esr) && esr::is_instruction_abort(esr) {
        "execute from non-executable memory"
    } else if is_permission_fault(esr) && esr::wnr(esr) {
        "write to read-only memory"
    } else {
        "paging request"
    }
}

/// Linux's `die_kernel_fault`: the "Unable to handle" header, the decoded ESR, then `die`.
fn die_kernel_fault(msg: &str, addr: u64, esr: u64, regs: &PtRegs) -> ! {
    printk_emergency(format_args!(
        "Unable to handle kernel {msg} at virtual address {addr:016x}"
    ));
    printk_emergency(format_args!("{}", MemAbortInfo(esr)));
    die("Oops", regs, esr)
}
