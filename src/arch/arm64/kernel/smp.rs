//! AArch64 IPIs (Linux: `arch/arm64/kernel/smp.c`, its IPI half).
//!
//! Three IPIs, as Linux numbers them: [`Ipi::Reschedule`], [`Ipi::CallFunc`] and
//! [`Ipi::CpuStop`]. The interrupt controller that can raise them registers a sender with
//! [`set_smp_cross_call`] (the GIC's SGIs, the BCM2836 per-core mailboxes) and calls
//! [`handle_ipi`] when one arrives. Until a sender is registered, sending is a no-op: with
//! one CPU online there is no one to send to.

use core::sync::atomic::{AtomicUsize, Ordering};

use crate::kernel::smp::{cpu_online_mask, CpuMask};

/// The IPIs (Linux's `enum ipi_msg_type`, same numbers).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u32)]
pub enum Ipi {
    /// Reschedule (`IPI_RESCHEDULE`).
    Reschedule = 0,
    /// Run queued cross-CPU calls (`IPI_CALL_FUNC`).
    CallFunc = 1,
    /// Stop this CPU (`IPI_CPU_STOP`).
    CpuStop = 2,
}

/// How many IPI numbers are in use.
pub const NR_IPI: u32 = 3;

impl Ipi {
    /// The IPI with this number, if any.
    pub fn from_u32(nr: u32) -> Option<Self> {
        match nr {
            0 => Some(Self::Reschedule),
            1 => Some(Self::CallFunc),
            2 => Some(Self::CpuStop),
            _ => None,
        }
    }
}

/// The registered sender, as a `fn(CpuMask, Ipi)` address (0 = none).
static CROSS_CALL: AtomicUsize = AtomicUsize::new(0);

/// Register the interrupt controller's IPI sender (Linux's `set_smp_cross_call`).
pub fn set_smp_cross_call(send: fn(CpuMask, Ipi)) {
    CROSS_CALL.store(send as usize, Ordering::Release);
}

/// Raise `ipi` on every CPU in `mask` (Linux's `smp_cross_call`).
pub fn smp_cross_call(mask: CpuMask, ipi: Ipi) {
    let raw = CROSS_CALL.load(Ordering::Acquire);
    if raw == 0 || mask.is_empty() {
        return;
    }
    // SAFETY: CROSS_CALL only ever holds 0 or a `fn(CpuMask, Ipi)` stored by
    // set_smp_cross_call; fn pointers and usize have the same size on AArch64.
    let send: fn(CpuMask, Ipi) = unsafe { core::mem::transmute::<usize, fn(CpuMask, Ipi)>(raw) };
    send(mask, ipi);
}

/// Linux's `arch_smp_send_reschedule`.
pub fn arch_send_reschedule(cpu: usize) {
    smp_cross_call(CpuMask::of(cpu), Ipi::Reschedule);
}

/// Linux's `arch_send_call_function_single_ipi`.
pub fn arch_send_call_function_single_ipi(cpu: usize) {
    smp_cross_call(CpuMask::of(cpu), Ipi::CallFunc);
}

/// Stop every other online CPU (Linux's `smp_send_stop`).
pub fn smp_send_stop() {
    let others = cpu_online_mask().without(crate::arch::percpu::smp_processor_id());
    smp_cross_call(others, Ipi::CpuStop);
}

/// An IPI arrived (Linux's `do_handle_IPI`); interrupts are masked.
pub fn handle_ipi(ipi: Ipi) {
    match ipi {
        Ipi::Reschedule => crate::kernel::sched::core::scheduler_ipi(),
        Ipi::CallFunc => crate::kernel::smp::generic_smp_call_function_single_interrupt(),
        Ipi::CpuStop => ipi_cpu_stop(),
    }
}

/// This CPU stops for good (Linux's `local_cpu_stop`): offline, interrupts masked, parked.
fn ipi_cpu_stop() -> ! {
    let cpu = crate::arch::percpu::smp_processor_id();
    crate::kernel::smp::set_cpu_online(cpu, false);
    crate::arch::irqflags::local_irq_disable();
    loop {
        aarch64_cpu::asm::wfi();
    }
}
