//! Finding nodes and reading properties (Linux: `drivers/of/base.c`, `drivers/of/property.c`),
//! and the declaration tables drivers put their `compatible` strings in.
//!
//! A declaration table is a linker section of [`OfDeviceId`] entries, one per driver that
//! binds to a `compatible` early in boot (before devices are probed one by one): interrupt
//! controllers (`IRQCHIP_DECLARE!`, `drivers/irqchip`), timers (`TIMER_OF_DECLARE!`,
//! `drivers/clocksource`) and early consoles (`EARLYCON_DECLARE!`, `drivers/tty/serial`).
//! Each is collected between two symbols by `linker/vmlinux.lds`, as initcalls and KUnit
//! suites are; the code that walks a table names no driver.

use fdt::node::FdtNode;
use fdt::Fdt;

/// The big-endian 32-bit word at the start of `bytes` (a device-tree cell), if there are
/// four bytes (Linux's `be32_to_cpup`, as `of_property_read_u32` uses it: a longer property
/// yields its first cell).
pub fn be32(bytes: &[u8]) -> Option<u32> {
    Some(u32::from_be_bytes(bytes.get(..4)?.try_into().ok()?))
}

/// The cells of a property, in order (a trailing partial cell is ignored).
pub fn be32_cells(bytes: &[u8]) -> impl Iterator<Item = u32> + '_ {
    bytes
        .chunks_exact(4)
        .map(|c| u32::from_be_bytes([c[0], c[1], c[2], c[3]]))
}

/// `node`'s property `name` as one 32-bit cell (Linux's `of_property_read_u32`).
pub fn of_property_read_u32(node: FdtNode<'_, '_>, name: &str) -> Option<u32> {
    be32(node.property(name)?.value)
}

/// True if one of `node`'s `compatible` strings is `compatible` (Linux's
/// `of_device_is_compatible`).
pub fn of_device_is_compatible(node: FdtNode<'_, '_>, compatible: &str) -> bool {
    node.compatible()
        .is_some_and(|c| c.all().any(|s| s == compatible))
}

/// True if `node` is not marked `status = "disabled"` (Linux's `of_device_is_available`:
/// absent, "okay" and "ok" all mean enabled).
pub fn of_device_is_available(node: FdtNode<'_, '_>) -> bool {
    match node.property("status").and_then(|p| p.as_str()) {
        None => true,
        Some(status) => status == "okay" || status == "ok",
    }
}

/// The first available node compatible with one of `compatible` (Linux's
/// `of_find_compatible_node`, less the disabled ones).
pub fn of_find_compatible<'b, 'a>(
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
pub fn of_get_phandle(node: FdtNode<'_, '_>) -> Option<u32> {
    of_property_read_u32(node, "phandle").or_else(|| of_property_read_u32(node, "linux,phandle"))
}

/// One entry of a declaration table: a `compatible` string and what the driver gives for it
/// (Linux's `struct of_device_id`, whose `data` is the init function).
#[repr(C)]
pub struct OfDeviceId<T: 'static> {
    /// The `compatible` string the driver binds to.
    pub compatible: &'static str,
    /// The driver's init function, or a description holding it.
    pub data: T,
}

/// The entry of `table` that `node` matches, if it is available: its first `compatible`
/// string that any entry names wins, as Linux's `of_match_node` prefers the most specific.
pub fn of_match_node<'t, T>(
    table: &'t [OfDeviceId<T>],
    node: FdtNode<'_, '_>,
) -> Option<&'t OfDeviceId<T>> {
    if !of_device_is_available(node) {
        return None;
    }
    node.compatible()?
        .all()
        .find_map(|c| table.iter().find(|id| id.compatible == c))
}

/// The first available node that an entry of `table` matches, and that entry (Linux's
/// `of_find_matching_node_and_match`). The walk stops there.
pub fn of_find_matching_node<'b, 'a, 't, T>(
    fdt: &'b Fdt<'a>,
    table: &'t [OfDeviceId<T>],
) -> Option<(FdtNode<'b, 'a>, &'t OfDeviceId<T>)> {
    fdt.all_nodes()
        .find_map(|node| of_match_node(table, node).map(|id| (node, id)))
}

/// The entries the linker collected between `start` and `end`.
///
/// # Safety
///
/// `start..end` must hold only `OfDeviceId<T>` values, as a declaration macro emits them into
/// one section (and `end` must not precede `start`).
pub unsafe fn of_table<T>(start: *const u8, end: *const u8) -> &'static [OfDeviceId<T>] {
    let n = (end as usize - start as usize) / core::mem::size_of::<OfDeviceId<T>>();
    // SAFETY: the caller's guarantee: the section holds exactly `n` such entries, which are
    // statics, so they live for ever.
    unsafe { core::slice::from_raw_parts(start.cast::<OfDeviceId<T>>(), n) }
}

/// Put an [`OfDeviceId`] entry in the linker section `$section` (the body of every
/// `*_DECLARE!` macro; Linux's `_OF_DECLARE`).
#[macro_export]
macro_rules! __of_declare {
    ($section:literal, $ty:ty, $compatible:literal, $data:expr) => {
        const _: () = {
            #[used]
            #[link_section = $section]
            static ENTRY: $crate::of::base::OfDeviceId<$ty> = $crate::of::base::OfDeviceId {
                compatible: $compatible,
                data: $data,
            };
        };
    };
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn be32_reads_the_first_cell() {
        assert_eq!(be32(&[0x12, 0x34, 0x56, 0x78]), Some(0x1234_5678));
        assert_eq!(be32(&[0, 0, 0, 1, 0xff]), Some(1));
        assert_eq!(be32(&[0, 0, 1]), None);
        assert_eq!(
            be32_cells(&[0, 0, 0, 1, 0, 0, 0, 2, 9]).collect::<Vec<_>>(),
            [1, 2]
        );
    }
}
