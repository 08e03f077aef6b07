//! Stopping a CPU, powering off and restarting (Linux: `arch/arm64/kernel/process.c`,
//! `machine_halt`, `machine_power_off`, `machine_restart`): PSCI where the DT has it, the
//! Raspberry Pi's watchdog otherwise.

use crate::arch::irqflags::local_irq_disable;

/// Stop this CPU for good: interrupts masked, waiting for an event that never matters.
pub fn halt() -> ! {
    local_irq_disable();
    loop {
        aarch64_cpu::asm::wfi();
    }
}

/// Linux's `machine_power_off`: PSCI SYSTEM_OFF where there is PSCI, else halt.
pub fn machine_power_off() -> ! {
    crate::drivers::firmware::psci::psci_system_off();
    crate::drivers::watchdog::bcm2835_wdt::bcm2835_power_off();
    halt()
}

/// Linux's `machine_restart`: PSCI SYSTEM_RESET where there is PSCI, else halt.
pub fn machine_restart() -> ! {
    crate::drivers::firmware::psci::psci_system_reset();
    crate::drivers::watchdog::bcm2835_wdt::bcm2835_restart();
    halt()
}
