//! Bringing up interrupts (Linux: `arch/arm64/kernel/irq.c`, `init_IRQ`).

/// Set up the root interrupt controller the device tree describes (Linux's `init_IRQ` →
/// `irqchip_init`): whichever driver declared a match for it (`IRQCHIP_DECLARE!`).
pub fn init_irq() {
    crate::drivers::irqchip::irqchip_init();
}
