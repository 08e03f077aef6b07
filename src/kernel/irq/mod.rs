//! Interrupts, whatever the controller: the handler table and the dispatch loop (Linux:
//! `kernel/irq/` — `irqdesc.c`, `manage.c`'s `request_irq`/`free_irq`, `handle.c` — and
//! `handle_arch_irq` of `arch/arm64/kernel/irq.c`).
//!
//! An interrupt controller driver (`drivers/irqchip/`) implements [`IrqChip`] and makes
//! itself the root with [`set_root_chip`]. A device driver asks for its interrupt with
//! [`request_irq`], which records the handler and enables the interrupt in the controller.
//!
//! An IRQ exception goes `asm/entry.S` → `el1h_64_irq_handler` (`arch/arm64/kernel/traps.rs`) →
//! [`handle_arch_irq`], which loops while the controller has one pending: acknowledge (read
//! the interrupt's number, which makes it active), count it, call its handler, end it
//! (EOI). Handlers run with IRQs masked and must not sleep; there is no nesting.
//!
//! Unlike Linux there are no irq domains yet: an interrupt is named by the number the root
//! controller gives it (`hwirq`, the GIC's INTID: SGIs 0-15, PPIs 16-31, SPIs 32-1019), and
//! counts are per interrupt, not per CPU. Nothing here allocates.

use core::sync::atomic::{AtomicBool, AtomicU64, Ordering};

use crate::kernel::errno::Errno;
use crate::kernel::locking::{InitOnce, SpinLock};

/// How many interrupt numbers the table has room for (GIC INTIDs 0-1019, and the special
/// ones up to 1023).
pub const NR_IRQS: usize = 1024;

/// An interrupt controller, as the generic code drives it (Linux's `struct irq_chip` with
/// the parts of `irq_domain_ops` and `set_handle_irq` Cradle needs).
///
/// Every method may be called with IRQs masked, from any CPU; per-CPU interrupts (SGIs and
/// PPIs) are enabled, disabled and acknowledged on the calling CPU.
pub trait IrqChip: Sync {
    /// The controller's name, for logs (`"GICv2"`).
    fn name(&self) -> &'static str;
    /// How many interrupt numbers the controller implements: valid hwirqs are below this.
    fn nr_irqs(&self) -> u32;
    /// Set up the calling CPU's interface to the controller (the boot CPU's is set up by
    /// the driver's init; a secondary CPU calls this before it unmasks IRQs).
    fn init_cpu(&self);
    /// Let `hwirq` be signalled (for an SGI or PPI: to the calling CPU).
    fn enable(&self, hwirq: u32);
    /// Stop `hwirq` from being signalled (for an SGI or PPI: to the calling CPU).
    fn disable(&self, hwirq: u32);
    /// Acknowledge the highest-priority pending interrupt and return its number, or `None`
    /// if nothing is pending (a spurious INTID, 1020-1023).
    fn ack(&self) -> Option<u32>;
    /// Signal the end of the handling of `hwirq`, which [`IrqChip::ack`] returned on this CPU.
    fn eoi(&self, hwirq: u32);
    /// Send software-generated interrupt `sgi` (0-15) to each logical CPU whose bit is set in
    /// `cpu_mask`. CPUs whose interface was never set up are skipped.
    fn send_ipi(&self, cpu_mask: u64, sgi: u32);
    /// The hwirq that software interrupt 0 arrives as; `n` arrives as `ipi_base() + n`
    /// (Linux's `set_smp_ipi_range`). The GIC's SGIs are hwirqs 0-15.
    fn ipi_base(&self) -> u32 {
        0
    }
    /// The hwirq named by the cells of a device tree `interrupts` entry whose parent is this
    /// controller (Linux's `irq_domain_ops::translate`), or `None` if they make no sense.
    fn translate(&self, cells: &[u32]) -> Option<u32>;
}

/// What a requested interrupt runs (Linux's `struct irqaction`).
#[derive(Clone, Copy)]
struct IrqAction {
    handler: fn(hwirq: u32),
    name: &'static str,
}

/// The controller every IRQ exception comes from.
static ROOT_CHIP: InitOnce<&'static dyn IrqChip> = InitOnce::new();

/// The handler of each interrupt. Lock rule: taken briefly to read or change one entry;
/// handlers are called with it released, so they may request and free interrupts.
static ACTIONS: SpinLock<[Option<IrqAction>; NR_IRQS]> = SpinLock::new([None; NR_IRQS]);

/// How many times each interrupt was taken (`/proc/interrupts`).
static COUNTS: [AtomicU64; NR_IRQS] = [const { AtomicU64::new(0) }; NR_IRQS];

/// IRQ exceptions that found nothing pending (Linux's spurious count).
static SPURIOUS: AtomicU64 = AtomicU64::new(0);
/// Interrupts taken that had no handler (Linux's `irq_err_count`, "ERR:").
static UNHANDLED: AtomicU64 = AtomicU64::new(0);
/// Each kind of oddity is logged once, so that a storm of them cannot flood the console.
static SPURIOUS_WARNED: AtomicBool = AtomicBool::new(false);
static UNHANDLED_WARNED: AtomicBool = AtomicBool::new(false);
static NO_CHIP_WARNED: AtomicBool = AtomicBool::new(false);

/// Make `chip` the controller IRQ exceptions come from (Linux's `set_handle_irq`). There is
/// one: a second call is refused with `EBUSY`.
pub fn set_root_chip(chip: &'static dyn IrqChip) -> Result<(), Errno> {
    ROOT_CHIP.set(chip).map_err(|_| Errno::EBUSY)
}

/// The root controller, once a driver registered one.
pub fn root_chip() -> Option<&'static dyn IrqChip> {
    ROOT_CHIP.get().copied()
}

/// The root chip and the table index of `hwirq`, if both are valid.
fn chip_and_index(hwirq: u32) -> Result<(&'static dyn IrqChip, usize), Errno> {
    let chip = root_chip().ok_or(Errno::ENODEV)?;
    if hwirq >= chip.nr_irqs() || hwirq as usize >= NR_IRQS {
        return Err(Errno::EINVAL);
    }
    Ok((chip, hwirq as usize))
}

/// Run `handler` whenever `hwirq` fires, and enable it (Linux's `request_irq`; for a per-CPU
/// interrupt, `request_percpu_irq` + `enable_percpu_irq` on the calling CPU).
///
/// Errors: `ENODEV` without a root controller, `EINVAL` for a number the controller does
/// not implement, `EBUSY` if the interrupt already has a handler (no sharing).
pub fn request_irq(hwirq: u32, handler: fn(hwirq: u32), name: &'static str) -> Result<(), Errno> {
    let (chip, index) = chip_and_index(hwirq)?;
    {
        let mut actions = ACTIONS.lock();
        if actions[index].is_some() {
            return Err(Errno::EBUSY);
        }
        actions[index] = Some(IrqAction { handler, name });
    }
    chip.enable(hwirq);
    Ok(())
}

/// Disable `hwirq` and forget its handler (Linux's `free_irq`). `EINVAL` if it had none.
///
/// Cradle has one CPU taking interrupts so far: there is no `synchronize_irq` yet to wait
/// for the handler to finish on another CPU.
pub fn free_irq(hwirq: u32) -> Result<(), Errno> {
    let (chip, index) = chip_and_index(hwirq)?;
    chip.disable(hwirq);
    ACTIONS.lock()[index]
        .take()
        .map(|_| ())
        .ok_or(Errno::EINVAL)
}

/// Enable a per-CPU interrupt (SGI or PPI) on the calling CPU, whose handler was requested
/// on another CPU (Linux's `enable_percpu_irq`).
pub fn enable_percpu_irq(hwirq: u32) -> Result<(), Errno> {
    let (chip, _) = chip_and_index(hwirq)?;
    chip.enable(hwirq);
    Ok(())
}

/// Disable a per-CPU interrupt on the calling CPU (Linux's `disable_percpu_irq`).
pub fn disable_percpu_irq(hwirq: u32) -> Result<(), Errno> {
    let (chip, _) = chip_and_index(hwirq)?;
    chip.disable(hwirq);
    Ok(())
}

/// How many times `hwirq` was taken (0 for a number out of range).
pub fn irq_count(hwirq: u32) -> u64 {
    COUNTS
        .get(hwirq as usize)
        .map_or(0, |count| count.load(Ordering::Relaxed))
}

/// IRQ exceptions that found nothing pending.
pub fn spurious_count() -> u64 {
    SPURIOUS.load(Ordering::Relaxed)
}

/// Interrupts taken with no handler (Linux's `irq_err_count`).
pub fn irq_err_count() -> u64 {
    UNHANDLED.load(Ordering::Relaxed)
}

/// Call `f(hwirq, name, count)` for every interrupt with a handler, in order (for
/// `/proc/interrupts`). `f` runs without any lock held.
pub fn for_each_irq(mut f: impl FnMut(u32, &'static str, u64)) {
    for (index, count) in COUNTS.iter().enumerate() {
        let action = ACTIONS.lock()[index];
        if let Some(action) = action {
            f(index as u32, action.name, count.load(Ordering::Relaxed));
        }
    }
}

/// Run the handler of `hwirq`, which `chip` just acknowledged (Linux's
/// `generic_handle_domain_irq`). An interrupt without a handler is counted, logged once and
/// disabled, so that a level-triggered one cannot keep the CPU in this loop.
fn generic_handle_irq(chip: &dyn IrqChip, hwirq: u32) {
    let Some(count) = COUNTS.get(hwirq as usize) else {
        unhandled(chip, hwirq);
        return;
    };
    count.fetch_add(1, Ordering::Relaxed);
    let action = ACTIONS.lock()[hwirq as usize];
    match action {
        Some(action) => (action.handler)(hwirq),
        None => unhandled(chip, hwirq),
    }
}

fn unhandled(chip: &dyn IrqChip, hwirq: u32) {
    UNHANDLED.fetch_add(1, Ordering::Relaxed);
    if !UNHANDLED_WARNED.swap(true, Ordering::Relaxed) {
        log::warn!(
            "irq {hwirq}: nobody cared (no handler); disabling it (further such IRQs are \
             counted, not logged)"
        );
    }
    chip.disable(hwirq);
}

/// The IRQ exception handler (Linux's `handle_arch_irq`, here the GIC's `gic_handle_irq`
/// loop): acknowledge, dispatch and end interrupts until none is pending. Called from
/// `el1h_64_irq_handler` and `el0t_64_irq_handler` with IRQs masked.
pub fn handle_arch_irq() {
    let Some(chip) = root_chip() else {
        // Nothing unmasks IRQs without a controller; firmware must have left one enabled.
        SPURIOUS.fetch_add(1, Ordering::Relaxed);
        if !NO_CHIP_WARNED.swap(true, Ordering::Relaxed) {
            log::warn!("irq: IRQ taken with no interrupt controller registered; ignored");
        }
        return;
    };
    let mut handled = false;
    while let Some(hwirq) = chip.ack() {
        handled = true;
        generic_handle_irq(chip, hwirq);
        chip.eoi(hwirq);
    }
    if !handled {
        SPURIOUS.fetch_add(1, Ordering::Relaxed);
        if !SPURIOUS_WARNED.swap(true, Ordering::Relaxed) {
            log::warn!(
                "irq: spurious IRQ: {} had nothing pending (further ones are counted, not \
                 logged)",
                chip.name()
            );
        }
    }
}

mod kunit_tests {
    use super::*;
    use crate::kunit::Test;
    use crate::{kunit_expect, kunit_skip, kunit_test_suite};

    fn nop(_hwirq: u32) {}

    /// `request_irq` refuses numbers the controller lacks and a second handler; `free_irq`
    /// refuses an interrupt without one.
    fn request_free_errors(test: &mut Test) {
        let Some(chip) = root_chip() else {
            kunit_skip!(test, "no interrupt controller");
        };
        // SGI 15: no driver uses it.
        let hwirq = 15;
        kunit_expect!(
            test,
            request_irq(chip.nr_irqs(), nop, "test") == Err(Errno::EINVAL)
        );
        kunit_expect!(test, request_irq(hwirq, nop, "test") == Ok(()));
        kunit_expect!(test, request_irq(hwirq, nop, "test") == Err(Errno::EBUSY));
        let mut listed = false;
        for_each_irq(|irq, name, _| listed |= irq == hwirq && name == "test");
        kunit_expect!(test, listed);
        kunit_expect!(test, free_irq(hwirq) == Ok(()));
        kunit_expect!(test, free_irq(hwirq) == Err(Errno::EINVAL));
        kunit_expect!(test, set_root_chip(chip) == Err(Errno::EBUSY));
    }

    kunit_test_suite!(irq, [request_free_errors]);
}
