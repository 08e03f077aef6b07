//! Device interrupts from the device tree (Linux: `drivers/of/irq.c`, and the registry of
//! `kernel/irq/irqdomain.c`).
//!
//! Every interrupt controller driver registers its node with [`irq_domain_add`] and how it
//! reads an `interrupts` entry ([`IrqDomainOps::translate`]: cells in, hwirq of the root
//! chip's numbering out). [`of_irq_parse_one`] finds a device's interrupt parent, takes the
//! entry's cells and asks that controller's domain: a controller chained behind the root one
//! (the Pi 3's ARMCTRL) translates into the root chip's numbering itself, so nothing here
//! knows any particular controller.

use alloc::vec::Vec;
use core::fmt;

use fdt::node::FdtNode;
use fdt::Fdt;

use crate::kernel::irq::IrqChip;
use crate::kernel::locking::SpinLock;
use crate::of::base::{be32, of_get_phandle, of_property_read_u32};

/// How a controller reads the cells of an `interrupts` entry that names it as parent
/// (Linux's `irq_domain_ops.translate`): the hwirq in the root chip's numbering, or `None`
/// if the entry makes no sense to it.
pub trait IrqDomainOps: Sync {
    /// The hwirq for `cells` (as many as the controller's `#interrupt-cells`).
    fn translate(&self, cells: &[u32]) -> Option<u32>;
}

/// A root interrupt controller numbers its own interrupts.
impl<T: IrqChip + ?Sized> IrqDomainOps for T {
    fn translate(&self, cells: &[u32]) -> Option<u32> {
        IrqChip::translate(self, cells)
    }
}

/// The registered controllers: phandle and domain. A handful at most.
static DOMAINS: SpinLock<Vec<(u32, &'static dyn IrqDomainOps)>> = SpinLock::new(Vec::new());

/// Register `node` as an interrupt controller whose `interrupts` entries `ops` translates
/// (Linux's `irq_domain_add_linear` with the node as its fwnode). A node without a phandle
/// can be no one's interrupt parent and is not recorded.
pub fn irq_domain_add(node: FdtNode<'_, '_>, ops: &'static dyn IrqDomainOps) {
    if let Some(phandle) = of_get_phandle(node) {
        DOMAINS.lock().push((phandle, ops));
    }
}

/// The domain registered for the controller with this phandle (Linux's `irq_find_host`).
fn irq_find_host(phandle: u32) -> Option<&'static dyn IrqDomainOps> {
    DOMAINS
        .lock()
        .iter()
        .find(|(p, _)| *p == phandle)
        .map(|(_, ops)| *ops)
}

/// Why a device's interrupt could not be found.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum OfIrqError {
    /// The node has no `interrupts`.
    NoInterrupts,
    /// Neither the node nor any ancestor names an `interrupt-parent`.
    NoParent,
    /// No driver registered the parent controller (none matched it, or it failed).
    ParentNotRootChip,
    /// The parent's `#interrupt-cells` is missing or unusable.
    BadInterruptCells,
    /// There is no entry at this index.
    NoSuchEntry,
    /// The parent controller does not understand the entry.
    Untranslatable,
}

impl fmt::Display for OfIrqError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            OfIrqError::NoInterrupts => "no interrupts property",
            OfIrqError::NoParent => "no interrupt-parent",
            OfIrqError::ParentNotRootChip => "interrupt parent has no driver",
            OfIrqError::BadInterruptCells => "bad #interrupt-cells in the interrupt parent",
            OfIrqError::NoSuchEntry => "no interrupts entry at that index",
            OfIrqError::Untranslatable => "interrupt specifier not understood",
        })
    }
}

/// The hwirq of entry `index` of `node`'s `interrupts` (Linux's `of_irq_parse_one` +
/// `irq_create_of_mapping`), translated by the parent controller's domain.
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
    let parent_phandle = of_irq_find_parent(fdt, node).ok_or(OfIrqError::NoParent)?;
    let parent = fdt
        .find_phandle(parent_phandle)
        .ok_or(OfIrqError::NoParent)?;
    let domain = of_get_phandle(parent)
        .and_then(irq_find_host)
        .ok_or(OfIrqError::ParentNotRootChip)?;
    let ncells = of_property_read_u32(parent, "#interrupt-cells")
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
    domain
        .translate(&cells[..ncells])
        .ok_or(OfIrqError::Untranslatable)
}

/// The phandle of `node`'s interrupt parent: its own `interrupt-parent`, or the nearest
/// ancestor's (Linux's `of_irq_find_parent`). The `fdt` crate has no parent links, so the
/// path to the node is found by walking down from the root.
pub fn of_irq_find_parent(fdt: &Fdt<'_>, node: FdtNode<'_, '_>) -> Option<u32> {
    fn own(node: FdtNode<'_, '_>) -> Option<u32> {
        of_property_read_u32(node, "interrupt-parent")
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
