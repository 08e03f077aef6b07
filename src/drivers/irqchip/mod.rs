//! Interrupt controller drivers and finding the root controller in the device tree (Linux:
//! `drivers/irqchip/irqchip.c`'s `irqchip_init`, `arch/arm64/kernel/irq.c`'s `init_IRQ`,
//! and the `interrupts` parsing of `drivers/of/irq.c`).
//!
//! [`init_irq`] takes the first enabled device tree node whose `compatible` a driver here
//! knows, sets the controller up (distributor, and this CPU's interface) and registers it
//! as the root chip of `kernel/irq`. [`of_irq_parse_one`] turns a device's `interrupts`
//! entry into the hwirq the root controller uses.
//!
//! | compatible                                                    | driver           |
//! |---------------------------------------------------------------|------------------|
//! | `arm,gic-400`, `arm,cortex-a15-gic`, `arm,cortex-a9-gic`      | [`irq_gic`]      |
//! | `arm,gic-v3`                                                  | [`irq_gic_v3`]   |
//!
//! | `brcm,bcm2836-l1-intc` (+ `brcm,bcm2836-armctrl-ic`)           | [`irq_bcm2836`]  |

pub mod irq_bcm2836;
pub mod irq_gic;
pub mod irq_gic_v3;

use core::fmt;

use fdt::node::FdtNode;
use fdt::Fdt;

use crate::kernel::errno::Errno;
use crate::kernel::irq::{self, IrqChip};
use crate::kernel::sync::InitOnce;

/// The `compatible` strings of the controllers Cradle drives.
const GIC_V2_COMPATIBLE: [&str; 3] = ["arm,gic-400", "arm,cortex-a15-gic", "arm,cortex-a9-gic"];
const GIC_V3_COMPATIBLE: [&str; 1] = ["arm,gic-v3"];
const BCM2836_COMPATIBLE: [&str; 1] = ["brcm,bcm2836-l1-intc"];

/// A controller chained behind the root one (the Pi 3's ARMCTRL): its phandle, and where
/// its interrupts start in the root chip's hwirq space.
static SECONDARY: InitOnce<(u32, u32)> = InitOnce::new();

/// The root controller's phandle: `interrupts` whose parent is another node cannot be
/// translated.
static ROOT_PHANDLE: InitOnce<u32> = InitOnce::new();

/// The priority every interrupt gets (Linux's `GICD_INT_DEF_PRI`), and the priority mask
/// that lets it through (`DEFAULT_PMR_VALUE`). Lower numbers are more urgent; a GIC may
/// implement as few as the top 4 bits, so both keep to those.
pub(crate) const GIC_DEFAULT_PRIORITY: u8 = 0xa0;
pub(crate) const GIC_DEFAULT_PMR: u8 = 0xf0;

/// INTIDs 1020-1023 are special (IHI 0069H 2.2.1): "no pending interrupt" and friends.
pub(crate) const GIC_SPURIOUS_FIRST: u32 = 1020;
/// The most INTIDs a GIC without extended ranges implements (SGIs, PPIs and SPIs).
pub(crate) const GIC_MAX_IRQS: u32 = 1020;

/// True if `node` is not marked `status = "disabled"` (Linux's `of_device_is_available`:
/// absent, "okay" and "ok" all mean enabled).
pub(crate) fn of_device_is_available(node: FdtNode<'_, '_>) -> bool {
    match node.property("status").and_then(|p| p.as_str()) {
        None => true,
        Some(status) => status == "okay" || status == "ok",
    }
}

/// The first available node compatible with one of `compatible`.
pub(crate) fn of_find_compatible<'b, 'a>(
    fdt: &'b Fdt<'a>,
    compatible: &[&str],
) -> Option<FdtNode<'b, 'a>> {
    fdt.all_nodes().find(|node| {
        of_device_is_available(*node)
            && node
                .compatible()
                .is_some_and(|c| c.all().any(|s| compatible.contains(&s)))
    })
}

/// A node's phandle (`phandle`, or the older `linux,phandle`).
fn phandle(node: FdtNode<'_, '_>) -> Option<u32> {
    let prop = node
        .property("phandle")
        .or_else(|| node.property("linux,phandle"))?;
    be32(prop.value)
}

fn be32(bytes: &[u8]) -> Option<u32> {
    Some(u32::from_be_bytes(bytes.try_into().ok()?))
}

/// Linux's `init_IRQ` → `irqchip_init`: find the interrupt controller in the device tree,
/// set it up and make it the root chip. Without one Cradle can drive, warn and carry on
/// with IRQs masked.
pub fn init_irq() {
    let Some(fdt) = crate::arch::setup::fdt() else {
        log::warn!("irqchip: no device tree: no interrupt controller, IRQs stay masked");
        return;
    };
    let chip: Result<&'static dyn IrqChip, Errno> =
        if let Some(node) = of_find_compatible(&fdt, &GIC_V3_COMPATIBLE) {
            irq_gic_v3::gic_of_init(&fdt, node).map(|gic| gic as &dyn IrqChip)
        } else if let Some(node) = of_find_compatible(&fdt, &GIC_V2_COMPATIBLE) {
            irq_gic::gic_of_init(&fdt, node).map(|gic| gic as &dyn IrqChip)
        } else if let Some(node) = of_find_compatible(&fdt, &BCM2836_COMPATIBLE) {
            irq_bcm2836::bcm2836_of_init(&fdt, node).map(|intc| intc as &dyn IrqChip)
        } else {
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
    let chip = match chip {
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

/// Record a controller chained behind the root one, whose interrupts the root chip numbers
/// from `base`.
pub(crate) fn set_secondary_node(node: FdtNode<'_, '_>, base: u32) {
    if let Some(phandle) = phandle(node) {
        let _ = SECONDARY.set((phandle, base));
    }
}

/// Record the root controller's node, for [`of_irq_parse_one`].
pub(crate) fn set_root_node(node: FdtNode<'_, '_>) {
    if let Some(phandle) = phandle(node) {
        let _ = ROOT_PHANDLE.set(phandle);
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

/// Why a device's interrupt could not be found.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum OfIrqError {
    /// The node has no `interrupts`.
    NoInterrupts,
    /// Neither the node nor any ancestor names an `interrupt-parent`.
    NoParent,
    /// The parent is not the root controller (e.g. the Pi 3's local interrupt controller).
    ParentNotRootChip,
    /// The parent's `#interrupt-cells` is missing or unusable.
    BadInterruptCells,
    /// There is no entry at this index.
    NoSuchEntry,
    /// The root controller does not understand the entry.
    Untranslatable,
}

impl fmt::Display for OfIrqError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            OfIrqError::NoInterrupts => "no interrupts property",
            OfIrqError::NoParent => "no interrupt-parent",
            OfIrqError::ParentNotRootChip => "interrupt parent is not the root controller",
            OfIrqError::BadInterruptCells => "bad #interrupt-cells in the interrupt parent",
            OfIrqError::NoSuchEntry => "no interrupts entry at that index",
            OfIrqError::Untranslatable => "interrupt specifier not understood",
        })
    }
}

/// The hwirq of entry `index` of `node`'s `interrupts` (Linux's `of_irq_parse_one` +
/// `irq_create_of_mapping`, for interrupts whose parent is the root controller).
/// `interrupts-extended` and interrupt maps are not handled.
pub fn of_irq_parse_one(
    fdt: &Fdt<'_>,
    node: FdtNode<'_, '_>,
    index: usize,
) -> Result<u32, OfIrqError> {
    let interrupts = node
        .property("interrupts")
        .ok_or(OfIrqError::NoInterrupts)?
        .value;
    let parent = of_irq_find_parent(fdt, node).ok_or(OfIrqError::NoParent)?;
    let parent = fdt.find_phandle(parent).ok_or(OfIrqError::NoParent)?;
    let chip = irq::root_chip().ok_or(OfIrqError::ParentNotRootChip)?;
    let secondary = SECONDARY
        .get()
        .is_some_and(|(p, _)| phandle(parent) == Some(*p));
    if !secondary && (phandle(parent).is_none() || phandle(parent) != ROOT_PHANDLE.get().copied()) {
        return Err(OfIrqError::ParentNotRootChip);
    }
    let ncells = parent
        .property("#interrupt-cells")
        .and_then(|p| be32(p.value))
        .filter(|n| (1..=4).contains(n))
        .ok_or(OfIrqError::BadInterruptCells)? as usize;
    let entry = interrupts
        .chunks_exact(4 * ncells)
        .nth(index)
        .ok_or(OfIrqError::NoSuchEntry)?;
    let mut cells = [0u32; 4];
    for (cell, bytes) in cells.iter_mut().zip(entry.chunks_exact(4)) {
        *cell = be32(bytes).unwrap_or(0);
    }
    if secondary {
        return irq_bcm2836::armctrl_translate(&cells[..ncells]).ok_or(OfIrqError::Untranslatable);
    }
    chip.translate(&cells[..ncells])
        .ok_or(OfIrqError::Untranslatable)
}

/// The phandle of `node`'s interrupt parent: its own `interrupt-parent`, or the nearest
/// ancestor's (Linux's `of_irq_find_parent`). The `fdt` crate has no parent links, so the
/// path to the node is found by walking down from the root.
fn of_irq_find_parent(fdt: &Fdt<'_>, node: FdtNode<'_, '_>) -> Option<u32> {
    fn own(node: FdtNode<'_, '_>) -> Option<u32> {
        be32(node.property("interrupt-parent")?.value)
    }
    /// Depth-first search for `target` (by name slice identity, as `of::address` does),
    /// carrying the innermost `interrupt-parent` seen on the way.
    fn descend(
        node: FdtNode<'_, '_>,
        target: &str,
        inherited: Option<u32>,
        depth: usize,
    ) -> Option<Option<u32>> {
        if depth >= crate::of::validate::FDT_MAX_DEPTH {
            return None;
        }
        let inherited = own(node).or(inherited);
        for child in node.children() {
            if core::ptr::eq(child.name, target) {
                return Some(inherited);
            }
            if let Some(found) = descend(child, target, inherited, depth + 1) {
                return Some(found);
            }
        }
        None
    }
    if let Some(phandle) = own(node) {
        return Some(phandle);
    }
    descend(fdt.find_node("/")?, node.name, None, 0).flatten()
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

    /// The SGI the test sends: no driver uses it.
    const TEST_SGI: u32 = 1;

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
        const UNHANDLED_SGI: u32 = 2;
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
