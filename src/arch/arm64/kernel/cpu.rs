//! Stopping a CPU, powering off and restarting (Linux: `arch/arm64/kernel/process.c`,
//! `machine_halt`, `machine_power_off`, `machine_restart`): through whichever driver
//! registered with `kernel/reboot.rs`, else halt.

use crate::arch::irqflags::local_irq_disable;
use crate::kernel::reboot::{do_kernel_power_off, do_kernel_restart};

/// Stop this CPU for good: interrupts masked, waiting for an event that never matters.
pub fn halt() -> ! {
    local_irq_disable();
    loop {
        aarch64_cpu::asm::wfi();
    }
}

/// Linux's `machine_power_off`: the other CPUs stopped, then the registered `pm_power_off`,
/// else halt.
pub fn machine_power_off() -> ! {
    local_irq_disable();
    crate::kernel::smp::smp_send_stop();
    do_kernel_power_off();
    halt()
}

/// Linux's `machine_restart`: the other CPUs stopped, then the registered restart handlers,
/// else halt.
pub fn machine_restart() -> ! {
    local_irq_disable();
    crate::kernel::smp::smp_send_stop();
    do_kernel_restart();
    halt()
}
