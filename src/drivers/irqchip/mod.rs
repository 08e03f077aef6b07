//! Interrupt controller drivers and bringing up the root one (Linux: `drivers/irqchip/irqchip.c`'s
//! `irqchip_init` and `of_irq_init` of `drivers/of/irq.c`).
//!
//! Each driver declares the `compatible` strings it binds with [`IRQCHIP_DECLARE!`]
//! (`crate::IRQCHIP_DECLARE`); [`irqchip_init`] walks the device tree for the root controller
//! (an available `interrupt-controller` node whose interrupt parent is itself or absent) that
//! one of them matches, runs that driver's init and registers the chip as the root of
//! `kernel/irq`. The driver registers its node's interrupt domain (`of::irq::irq_domain_add`)
//! itself, and those of controllers chained behind it.
//!
//! | compatible                                                    | driver           |
//! |---------------------------------------------------------------|------------------|
//! | `arm,gic-400`, `arm,cortex-a15-gic`, `arm,cortex-a9-gic`      | [`irq_gic`]      |
//! | `arm,gic-v3`                                                  | [`irq_gic_v3`]   |
//! | `brcm,bcm2836-l1-intc` (+ `brcm,bcm2836-armctrl-ic`)           | [`irq_bcm2836`]  |

pub mod irq_bcm2836;
pub mod irq_gic;
pub mod irq_gic_v3;

use fdt::node::FdtNode;
use fdt::Fdt;

use crate::kernel::errno::Errno;
use crate::kernel::irq::{self, IrqChip};
use crate::of::base::{of_get_phandle, of_match_node, of_table, OfDeviceId};
use crate::of::irq::of_irq_find_parent;

/// An interrupt controller driver's init: set up the controller at the node (distributor,
/// and this CPU's interface), register its interrupt domain, and return it as a chip.
pub type IrqchipInitFn = fn(&Fdt<'_>, FdtNode<'_, '_>) -> Result<&'static dyn IrqChip, Errno>;

/// Declare that `$init` drives interrupt controllers compatible with `$compatible` (Linux's
/// `IRQCHIP_DECLARE(name, compat, fn)`): an entry in the `.irqchip_of_table` section.
#[macro_export]
macro_rules! IRQCHIP_DECLARE {
    ($name:ident, $compatible:literal, $init:path) => {
        $crate::__of_declare!(
            ".irqchip_of_table",
            $crate::drivers::irqchip::IrqchipInitFn,
            $compatible,
            $init
        );
    };
}

extern "C" {
    static __irqchip_of_table_start: u8;
    static __irqchip_of_table_end: u8;
}

/// The declared interrupt controller drivers (Linux's `__irqchip_of_table`).
fn irqchip_of_table() -> &'static [OfDeviceId<IrqchipInitFn>] {
    // SAFETY: the linker script collects exactly the entries IRQCHIP_DECLARE! emits between
    // these two symbols.
    unsafe {
        of_table(
            &raw const __irqchip_of_table_start,
            &raw const __irqchip_of_table_end,
        )
    }
}

/// The priority every interrupt gets (Linux's `GICD_INT_DEF_PRI`), and the priority mask
/// that lets it through (`DEFAULT_PMR_VALUE`). Lower numbers are more urgent; a GIC may
/// implement as few as the top 4 bits, so both keep to those.
pub(crate) const GIC_DEFAULT_PRIORITY: u8 = 0xa0;
pub(crate) const GIC_DEFAULT_PMR: u8 = 0xf0;

/// INTIDs 1020-1023 are special (IHI 0069H 2.2.1): "no pending interrupt" and friends.
pub(crate) const GIC_SPURIOUS_FIRST: u32 = 1020;
/// The most INTIDs a GIC without extended ranges implements (SGIs, PPIs and SPIs).
pub(crate) const GIC_MAX_IRQS: u32 = 1020;

/// True if `node` is the root of the interrupt tree: a controller whose interrupt parent is
/// itself or absent (as `of_irq_init` finds the controllers with no parent first).
fn is_root_controller(fdt: &Fdt<'_>, node: FdtNode<'_, '_>) -> bool {
    node.property("interrupt-controller").is_some()
        && match of_irq_find_parent(fdt, node) {
            None => true,
            Some(parent) => of_get_phandle(node) == Some(parent),
        }
}

/// Linux's `init_IRQ` → `irqchip_init`: find the root interrupt controller in the device
/// tree, run the driver declared for it and make it the root chip. Without one Cradle can
/// drive, warn and carry on with IRQs masked.
pub fn irqchip_init() {
    let Some(fdt) = crate::arch::setup::fdt() else {
        log::warn!("irqchip: no device tree: no interrupt controller, IRQs stay masked");
        return;
    };
    let table = irqchip_of_table();
    let found = fdt.all_nodes().find_map(|node| {
        let id = of_match_node(table, node)?;
        is_root_controller(&fdt, node).then_some((node, id.data))
    });
    let Some((node, init)) = found else {
        let found = fdt
            .all_nodes()
            .find(|node| node.property("interrupt-controller").is_some());
        match found.and_then(|node| node.compatible()).map(|c| c.first()) {
            Some(compatible) => log::warn!(
                "irqchip: no driver for interrupt controller \"{compatible}\": IRQs stay \
                 masked"
            ),
            None => log::warn!("irqchip: no interrupt controller in the device tree"),
        }
        return;
    };
    let chip = match init(&fdt, node) {
        Ok(chip) => chip,
        Err(err) => {
            log::warn!("irqchip: interrupt controller not usable ({err:?}): IRQs stay masked");
            return;
        }
    };
    match irq::set_root_chip(chip) {
        Ok(()) => log::info!("irqchip: {} is the root interrupt controller", chip.name()),
        Err(err) => log::warn!("irqchip: {}: root chip already set ({err:?})", chip.name()),
    }
}

/// The hwirq of a GIC `interrupts` entry (Linux's `gic_irq_domain_translate` for the
/// three-cell binding of `arm,gic.yaml`): cell 0 is the type (0 = SPI, 1 = PPI), cell 1 the
/// number within the type, cell 2 the trigger flags (and, on GICv2, a CPU mask), unused.
pub(crate) fn gic_translate(cells: &[u32], nr_irqs: u32) -> Option<u32> {
    let hwirq = match *cells {
        [0, spi, _] => spi.checked_add(32)?,
        [1, ppi, _] if ppi < 16 => ppi + 16,
        _ => return None,
    };
    (hwirq < nr_irqs).then_some(hwirq)
}

mod kunit_tests {
    use core::sync::atomic::{AtomicU32, Ordering};

    use crate::arch::arch_timer;
    use crate::arch::irqflags::{
        local_irq_disable, local_irq_enable, local_irq_restore, local_irq_save,
    };
    use crate::arch::percpu::smp_processor_id;
    use crate::kernel::irq;
    use crate::kunit::Test;
    use crate::{kunit_assert, kunit_expect, kunit_skip, kunit_test_suite};

    /// The SGI the test sends: no driver uses it (the IPIs take SGIs from 0 up, see
    /// `arch::smp::Ipi`).
    const TEST_SGI: u32 = 14;

    static SGI_SEEN: AtomicU32 = AtomicU32::new(0);
    static SGI_HWIRQ: AtomicU32 = AtomicU32::new(u32::MAX);

    fn sgi_handler(hwirq: u32) {
        SGI_HWIRQ.store(hwirq, Ordering::Relaxed);
        SGI_SEEN.fetch_add(1, Ordering::Relaxed);
    }

    /// An SGI sent to this CPU reaches the handler registered for it, exactly once. Leaves
    /// IRQs masked or not as it found them.
    fn sgi_to_self(test: &mut Test) {
        let flags = local_irq_save();
        sgi_to_self_irqs_toggled(test);
        local_irq_restore(flags);
    }

    fn sgi_to_self_irqs_toggled(test: &mut Test) {
        let Some(chip) = irq::root_chip() else {
            kunit_skip!(test, "no interrupt controller");
        };
        SGI_SEEN.store(0, Ordering::Relaxed);
        let before = irq::irq_count(TEST_SGI);
        kunit_assert!(
            test,
            irq::request_irq(TEST_SGI, sgi_handler, "test-sgi") == Ok(())
        );
        chip.send_ipi(1 << smp_processor_id(), TEST_SGI);
        // Wait up to 100 ms by the counter for the handler (spinning: if the SGI never
        // comes, `wfi` could wait for ever).
        let deadline = arch_timer::counter() + arch_timer::frequency() / 10;
        local_irq_enable();
        while SGI_SEEN.load(Ordering::Relaxed) == 0 && arch_timer::counter() < deadline {
            core::hint::spin_loop();
        }
        local_irq_disable();
        kunit_expect!(test, irq::free_irq(TEST_SGI) == Ok(()));
        let seen = SGI_SEEN.load(Ordering::Relaxed);
        kunit_expect!(
            test,
            seen == 1,
            "{} handled SGI {TEST_SGI} {seen} times",
            chip.name()
        );
        kunit_expect!(test, SGI_HWIRQ.load(Ordering::Relaxed) == TEST_SGI);
        kunit_expect!(test, irq::irq_count(TEST_SGI) == before + 1);
    }

    /// An SGI nobody requested is counted as an error and disabled, without a panic; the
    /// test enables it again afterwards.
    fn unhandled_sgi_is_counted(test: &mut Test) {
        let Some(chip) = irq::root_chip() else {
            kunit_skip!(test, "no interrupt controller");
        };
        // Not an IPI's SGI: SGI 2 is CpuStop, which would park this CPU for good.
        const UNHANDLED_SGI: u32 = 15;
        let flags = local_irq_save();
        let (errors, count) = (irq::irq_err_count(), irq::irq_count(UNHANDLED_SGI));
        chip.send_ipi(1 << smp_processor_id(), UNHANDLED_SGI);
        let deadline = arch_timer::counter() + arch_timer::frequency() / 10;
        local_irq_enable();
        while irq::irq_count(UNHANDLED_SGI) == count && arch_timer::counter() < deadline {
            core::hint::spin_loop();
        }
        local_irq_disable();
        let errors = irq::irq_err_count() - errors;
        let taken = irq::irq_count(UNHANDLED_SGI) - count;
        kunit_expect!(test, irq::enable_percpu_irq(UNHANDLED_SGI) == Ok(()));
        local_irq_restore(flags);
        kunit_expect!(test, taken == 1, "SGI {UNHANDLED_SGI} taken {taken} times");
        kunit_expect!(test, errors == 1, "{errors} unhandled IRQs counted");
    }

    /// The GIC binding: SPI n is n + 32, PPI n is n + 16, within the controller's range.
    fn gic_translate_cells(test: &mut Test) {
        use super::gic_translate;
        kunit_expect!(test, gic_translate(&[1, 11, 0xf08], 288) == Some(27));
        kunit_expect!(test, gic_translate(&[0, 1, 4], 288) == Some(33));
        kunit_expect!(test, gic_translate(&[0, 256, 4], 288).is_none());
        kunit_expect!(test, gic_translate(&[1, 16, 4], 288).is_none());
        kunit_expect!(test, gic_translate(&[2, 1, 4], 288).is_none());
        kunit_expect!(test, gic_translate(&[1, 11], 288).is_none());
    }

    kunit_test_suite!(
        irqchip,
        [sgi_to_self, unhandled_sgi_is_counted, gic_translate_cells]
    );
}
