//! Masking interrupts on this CPU (Linux: `arch/arm64/include/asm/irqflags.h`).

use aarch64_cpu::registers::{Readable, DAIF};

/// The interrupt mask state `local_irq_save` returns and `local_irq_restore` takes back.
#[derive(Clone, Copy, Debug)]
#[must_use = "restore the flags with local_irq_restore"]
pub struct IrqFlags(u64);

/// Mask IRQs and FIQs on this CPU and return the previous state.
#[inline(always)]
pub fn local_irq_save() -> IrqFlags {
    let flags = IrqFlags(DAIF.get());
    local_irq_disable();
    flags
}

/// Put back the mask state that [`local_irq_save`] returned.
#[inline(always)]
pub fn local_irq_restore(flags: IrqFlags) {
    // SAFETY: writing DAIF only changes which exceptions are masked; the value came from
    // DAIF itself. The memory clobber keeps accesses inside the critical section.
    unsafe { core::arch::asm!("msr daif, {}", in(reg) flags.0, options(nostack)) };
}

/// Mask IRQs and FIQs on this CPU.
#[inline(always)]
pub fn local_irq_disable() {
    // SAFETY: masking interrupts cannot break memory safety; `asm!` without `nomem` orders
    // memory accesses around it.
    unsafe { core::arch::asm!("msr daifset, #3", options(nostack)) };
}

/// Unmask IRQs and FIQs on this CPU.
#[inline(always)]
pub fn local_irq_enable() {
    // SAFETY: unmasking lets handlers run; every handler saves and restores the context it
    // interrupts (asm/entry.S). Memory accesses are ordered around the `asm!`.
    unsafe { core::arch::asm!("msr daifclr, #3", options(nostack)) };
}

/// True if IRQs are masked on this CPU.
pub fn irqs_disabled() -> bool {
    DAIF.get() & (1 << 7) != 0
}
