//! Translating a node's `reg` from bus addresses to CPU physical addresses through `ranges`.
//!
//! A `reg` entry is an address on the bus of the node's parent, in the parent's
//! `#address-cells`/`#size-cells` (2 and 1 when absent, as the Devicetree Specification
//! says). To reach the CPU, the address climbs the tree: at each bus node, `ranges` maps a
//! window of the child bus, `(child-bus-address, parent-bus-address, length)` with the bus's
//! own `#address-cells`, the parent's `#address-cells` and the bus's `#size-cells`, onto the
//! parent bus. An empty `ranges` is the identity; no `ranges` at all means the bus is not
//! memory mapped and the address cannot be translated. The root's address space is the CPU's.
//! On a Raspberry Pi 4, `/soc` maps bus 0x7e000000 to CPU 0xfe000000, so the PL011 at bus
//! address 0x7e201000 is at 0xfe201000; QEMU's virt machine has no translation at all.
//!
//! This mirrors Linux's `drivers/of/address.c` (`of_translate_address`,
//! `__of_translate_address`, `of_translate_one`, `of_bus_default_map`) for the default bus
//! only: PCI and ISA buses, whose first address cell holds flags, are not special-cased.
//! [`of_dma_address`] goes the other way through `dma-ranges`, for a buffer a device reads
//! from RAM (Linux's `of_dma_get_range` plus `phys_to_dma`): on a Raspberry Pi the VideoCore
//! sees RAM at bus 0xc0000000 upwards. Unlike Linux, a missing `#address-cells` is not inherited from
//! further up the tree (Linux warns that doing so is deprecated); the spec's default applies.
//!
//! The `fdt` crate has no parent links, so the ancestors of a node are found by walking down
//! from the root. The blob must have passed [`super::validate::check_fdt`]: the `fdt` crate
//! panics on malformed structure blocks. Nothing here allocates.

use core::fmt;

use fdt::node::FdtNode;
use fdt::Fdt;

/// `OF_MAX_ADDR_CELLS`: the most cells an address or size may take.
pub const OF_MAX_ADDR_CELLS: u32 = 4;
/// The deepest node this file can find, the root being depth 1 (as `FDT_MAX_DEPTH` of
/// `validate.rs`).
const MAX_DEPTH: usize = super::validate::FDT_MAX_DEPTH;

/// Why an address could not be read or translated.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AddressError<'a> {
    /// No node has this path.
    NoSuchNode,
    /// The node is not in the tree, or deeper than the walk goes.
    NodeNotFound,
    /// The node has no `reg` property.
    NoReg,
    /// `reg` ends with a partial entry.
    BadReg,
    /// A `#address-cells`/`#size-cells` of this node is not one cell, or is out of range.
    BadCells { node: &'a str },
    /// This bus node has no `ranges`: its children are not memory mapped.
    NoRanges { bus: &'a str },
    /// No `ranges` entry of this bus covers the address.
    NotInRange { bus: &'a str, address: u64 },
    /// The translated address or the size does not fit in 64 bits.
    Overflow,
}

impl fmt::Display for AddressError<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            AddressError::NoSuchNode => write!(f, "no such node"),
            AddressError::NodeNotFound => write!(f, "node not found under the root"),
            AddressError::NoReg => write!(f, "no reg property"),
            AddressError::BadReg => write!(f, "reg ends with a partial entry"),
            AddressError::BadCells { node } => write!(f, "bad cell count in {node}"),
            AddressError::NoRanges { bus } => {
                write!(f, "no ranges; cannot translate through {bus}")
            }
            AddressError::NotInRange { bus, address } => {
                write!(f, "address {address:#x} not in the ranges of {bus}")
            }
            AddressError::Overflow => write!(f, "address does not fit in 64 bits"),
        }
    }
}

/// What translation needs from one ancestor: its cell counts (raw) and its `ranges`.
#[derive(Clone, Copy, Debug)]
struct Level<'a> {
    name: &'a str,
    address_cells: Option<&'a [u8]>,
    size_cells: Option<&'a [u8]>,
    ranges: Option<&'a [u8]>,
    dma_ranges: Option<&'a [u8]>,
}

impl<'a> Level<'a> {
    const EMPTY: Level<'static> = Level {
        name: "",
        address_cells: None,
        size_cells: None,
        ranges: None,
        dma_ranges: None,
    };

    fn of(node: FdtNode<'_, 'a>) -> Self {
        let mut level = Level {
            name: node.name,
            ..Level::EMPTY
        };
        for prop in node.properties() {
            match prop.name {
                "#address-cells" => level.address_cells = Some(prop.value),
                "#size-cells" => level.size_cells = Some(prop.value),
                "ranges" => level.ranges = Some(prop.value),
                "dma-ranges" => level.dma_ranges = Some(prop.value),
                _ => {}
            }
        }
        level
    }

    /// `#address-cells` of this node: how many cells its children's addresses take.
    fn na(&self) -> Result<u32, AddressError<'a>> {
        cells(self.address_cells, 2, 1, self.name)
    }

    /// `#size-cells` of this node: how many cells its children's sizes take.
    fn ns(&self) -> Result<u32, AddressError<'a>> {
        cells(self.size_cells, 1, 0, self.name)
    }
}

/// Decodes a cell count property, `default` when absent, which must lie in `min..=4`
/// (`OF_CHECK_ADDR_COUNT`/`OF_CHECK_COUNTS`).
fn cells<'a>(
    value: Option<&[u8]>,
    default: u32,
    min: u32,
    node: &'a str,
) -> Result<u32, AddressError<'a>> {
    let count = match value {
        None => default,
        Some(&[a, b, c, d]) => u32::from_be_bytes([a, b, c, d]),
        Some(_) => return Err(AddressError::BadCells { node }),
    };
    if (min..=OF_MAX_ADDR_CELLS).contains(&count) {
        Ok(count)
    } else {
        Err(AddressError::BadCells { node })
    }
}

/// `of_read_number`: `count` big-endian cells off the front of `bytes` (the caller checked
/// there are enough), as one number.
/// Which way an address crosses a bus: `ranges` maps child to parent (towards the CPU),
/// `dma-ranges` is read the other way.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Direction {
    Up,
    Down,
}

/// The address `address` becomes through the `ranges`-style entries `ranges` (each a
/// child address, a parent address and a size of `cells` = (child, parent, size) cells),
/// or `None` if no entry holds it (`of_bus_default_map`). Like Linux, a trailing partial
/// entry is ignored.
fn map_through<'a>(
    ranges: &[u8],
    (na, pna, ns): (u32, u32, u32),
    address: u128,
    direction: Direction,
) -> Result<Option<u128>, AddressError<'a>> {
    let entry = 4 * (na + pna + ns) as usize;
    for range in ranges.chunks_exact(entry) {
        let (child, rest) = read_number(range, na);
        let (parent, rest) = read_number(rest, pna);
        let (size, _) = read_number(rest, ns);
        let (from, to) = match direction {
            Direction::Up => (child, parent),
            Direction::Down => (parent, child),
        };
        if address >= from && address - from < size {
            return to
                .checked_add(address - from)
                .map(Some)
                .ok_or(AddressError::Overflow);
        }
    }
    Ok(None)
}

fn read_number(bytes: &[u8], count: u32) -> (u128, &[u8]) {
    let len = 4 * count as usize;
    let value = bytes[..len].chunks_exact(4).fold(0u128, |acc, c| {
        (acc << 32) | u128::from(u32::from_be_bytes([c[0], c[1], c[2], c[3]]))
    });
    (value, &bytes[len..])
}

/// The ancestors of a node, root first, and the path to it.
#[derive(Clone, Copy, Debug)]
struct Ancestors<'a> {
    levels: [Level<'a>; MAX_DEPTH],
    len: usize,
}

impl<'a> Ancestors<'a> {
    /// Finds the ancestors of `target` by walking down from the root.
    fn of<'b>(fdt: &'b Fdt<'a>, target: FdtNode<'b, 'a>) -> Result<Self, AddressError<'a>> {
        let mut ancestors = Ancestors {
            levels: [Level::EMPTY; MAX_DEPTH],
            len: 0,
        };
        let root = fdt.find_node("/").ok_or(AddressError::NodeNotFound)?;
        // `all_nodes` calls the root "/", `find_node` and `children` call it "".
        if target.name.is_empty() || target.name == "/" {
            return Ok(ancestors);
        }
        if ancestors.descend(root, target.name, 0) {
            Ok(ancestors)
        } else {
            Err(AddressError::NodeNotFound)
        }
    }

    /// Depth-first search below `node` (at `depth`, root 0) for the node whose name is the
    /// very slice `target` (names are slices of the blob, so this is node identity).
    fn descend<'b>(&mut self, node: FdtNode<'b, 'a>, target: &str, depth: usize) -> bool {
        if depth >= MAX_DEPTH {
            return false;
        }
        self.levels[depth] = Level::of(node);
        for child in node.children() {
            if core::ptr::eq(child.name, target) {
                self.len = depth + 1;
                return true;
            }
            if self.descend(child, target, depth + 1) {
                return true;
            }
        }
        false
    }

    /// The node's parent: the bus its `reg` is on (the root's "parent" has default cells).
    fn parent(&self) -> Level<'a> {
        match self.len {
            0 => Level::EMPTY,
            len => self.levels[len - 1],
        }
    }

    /// `__of_translate_address`: climbs from the parent bus to the root, translating `address`
    /// through every bus's `ranges` (`of_translate_one`).
    fn translate(&self, mut address: u128) -> Result<u64, AddressError<'a>> {
        for depth in (1..self.len).rev() {
            let bus = &self.levels[depth];
            let (na, ns, pna) = (bus.na()?, bus.ns()?, self.levels[depth - 1].na()?);
            let ranges = bus.ranges.ok_or(AddressError::NoRanges { bus: bus.name })?;
            if ranges.is_empty() {
                // "empty ranges; 1:1 translation"
                continue;
            }
            let found = map_through(ranges, (na, pna, ns), address, Direction::Up)?;
            address = found.ok_or(AddressError::NotInRange {
                bus: bus.name,
                address: u64::try_from(address).unwrap_or(u64::MAX),
            })?;
        }
        u64::try_from(address).map_err(|_| AddressError::Overflow)
    }
}

impl<'a> Ancestors<'a> {
    /// The reverse of [`Ancestors::translate`] through `dma-ranges`: walks down from the root
    /// to the node's parent bus, mapping a CPU physical address into each bus's own address
    /// space. A bus without `dma-ranges`, or with an empty one, maps 1:1.
    fn dma_translate(&self, mut address: u128) -> Result<u64, AddressError<'a>> {
        for depth in 1..self.len {
            let bus = &self.levels[depth];
            let Some(ranges) = bus.dma_ranges.filter(|r| !r.is_empty()) else {
                continue;
            };
            let (na, ns, pna) = (bus.na()?, bus.ns()?, self.levels[depth - 1].na()?);
            let found = map_through(ranges, (na, pna, ns), address, Direction::Down)?;
            address = found.ok_or(AddressError::NotInRange {
                bus: bus.name,
                address: u64::try_from(address).unwrap_or(u64::MAX),
            })?;
        }
        u64::try_from(address).map_err(|_| AddressError::Overflow)
    }
}

/// The address `node` must be given for the CPU physical address `phys` when it reads or
/// writes RAM itself (Linux's `phys_to_dma` with the node's `dma-ranges`). On a Raspberry Pi
/// 3 and 4, `/soc` says `dma-ranges = <0xc0000000 0x0 ...>`: RAM at 0 is bus 0xc0000000.
#[inline(never)]
pub fn of_dma_address<'b, 'a>(
    fdt: &'b Fdt<'a>,
    node: FdtNode<'b, 'a>,
    phys: u64,
) -> Result<u64, AddressError<'a>> {
    Ancestors::of(fdt, node)?.dma_translate(u128::from(phys))
}

/// The entries of a node's `reg`, each translated to a CPU physical address.
///
/// Yields `Ok((cpu_physical_address, size))` per entry, or an error for an entry that cannot
/// be translated; after a partial trailing entry it yields `Err(BadReg)` once and stops.
#[derive(Clone, Debug)]
pub struct Reg<'a> {
    ancestors: Ancestors<'a>,
    reg: &'a [u8],
    na: u32,
    ns: u32,
}

impl<'a> Iterator for Reg<'a> {
    type Item = Result<(u64, u64), AddressError<'a>>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.reg.is_empty() {
            return None;
        }
        let entry = 4 * (self.na + self.ns) as usize;
        if self.reg.len() < entry {
            self.reg = &[];
            return Some(Err(AddressError::BadReg));
        }
        let (address, rest) = read_number(self.reg, self.na);
        let (size, rest) = read_number(rest, self.ns);
        self.reg = rest;
        let Ok(size) = u64::try_from(size) else {
            return Some(Err(AddressError::Overflow));
        };
        Some(
            self.ancestors
                .translate(address)
                .map(|address| (address, size)),
        )
    }
}

/// The `reg` of `node`, translated to CPU physical addresses (`of_address_to_resource` for
/// every index). Errors here concern the node as a whole; each entry may still fail to
/// translate.
pub fn node_reg<'b, 'a>(
    fdt: &'b Fdt<'a>,
    node: FdtNode<'b, 'a>,
) -> Result<Reg<'a>, AddressError<'a>> {
    let ancestors = Ancestors::of(fdt, node)?;
    let parent = ancestors.parent();
    let (na, ns) = (parent.na()?, parent.ns()?);
    let reg = node.property("reg").ok_or(AddressError::NoReg)?.value;
    Ok(Reg {
        ancestors,
        reg,
        na,
        ns,
    })
}

/// The first `reg` entry of `node`, translated: `(cpu_physical_address, size)`.
///
/// Not inlined on purpose: the walk keeps every ancestor of the node (a few KiB) in its
/// frame, and early boot code calls this several levels deep on the 32 KiB init stack; here
/// that frame is popped before the caller goes on.
#[inline(never)]
pub fn node_reg_first<'a>(
    fdt: &Fdt<'a>,
    node: FdtNode<'_, 'a>,
) -> Result<(u64, u64), AddressError<'a>> {
    node_reg(fdt, node)?.next().ok_or(AddressError::NoReg)?
}

/// [`node_reg`] of the node at `path` (a full path such as `/soc/serial@7e201000`; as with
/// `Fdt::find_node`, a unit address may be left out and an alias may stand for the path).
pub fn node_reg_by_path<'a>(fdt: &Fdt<'a>, path: &str) -> Result<Reg<'a>, AddressError<'a>> {
    let node = fdt.find_node(path).ok_or(AddressError::NoSuchNode)?;
    node_reg(fdt, node)
}

/// `of_translate_address`: the CPU physical address of `address` on the bus `node` sits on
/// (that is, in the format of `node`'s `reg`).
pub fn of_translate_address<'b, 'a>(
    fdt: &'b Fdt<'a>,
    node: FdtNode<'b, 'a>,
    address: u64,
) -> Result<u64, AddressError<'a>> {
    Ancestors::of(fdt, node)?.translate(u128::from(address))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::vec::Vec;

    static BUS_RANGES: &[u8] = include_bytes!("testdata/bus-ranges.dtb");
    static QEMU_VIRT: &[u8] = include_bytes!("testdata/qemu-virt.dtb");

    fn fdt(blob: &[u8]) -> Fdt<'_> {
        super::super::validate::check_fdt(blob).unwrap();
        Fdt::new(blob).unwrap()
    }

    fn regs<'a>(fdt: &Fdt<'a>, path: &str) -> Vec<Result<(u64, u64), AddressError<'a>>> {
        node_reg_by_path(fdt, path).unwrap().collect()
    }

    #[test]
    fn pi4_soc_ranges() {
        let fdt = fdt(BUS_RANGES);
        assert_eq!(
            regs(&fdt, "/soc/serial@7e201000"),
            [Ok((0xfe20_1000, 0x200))]
        );
        assert_eq!(
            regs(&fdt, "/soc/mailbox@7e00b880"),
            [Ok((0xfe00_b880, 0x40)), Ok((0xfe00_b8c0, 0x10))]
        );
        // The third window: ARM local peripherals.
        assert_eq!(
            regs(&fdt, "/soc/local_intc@40000000"),
            [Ok((0xff80_0000, 0x100))]
        );
        assert_eq!(
            regs(&fdt, "/soc/outside@10000000"),
            [Err(AddressError::NotInRange {
                bus: "soc",
                address: 0x1000_0000
            })]
        );
        let serial = fdt.find_compatible(&["arm,pl011"]).unwrap();
        assert_eq!(
            of_translate_address(&fdt, serial, 0x7e20_1018),
            Ok(0xfe20_1018)
        );
        // The window is 0x1800000 long: its last word translates, the next byte does not.
        assert_eq!(
            of_translate_address(&fdt, serial, 0x7f7f_fffc),
            Ok(0xff7f_fffc)
        );
        // dma-ranges: RAM at CPU 0..1 GiB is bus 0xc0000000.. for the devices under /soc.
        assert_eq!(of_dma_address(&fdt, serial, 0x8_0000), Ok(0xc008_0000));
        assert_eq!(
            of_dma_address(&fdt, serial, 0x4000_0000),
            Err(AddressError::NotInRange {
                bus: "soc",
                address: 0x4000_0000
            })
        );
        let memory = fdt.find_node("/memory@0").unwrap();
        assert_eq!(of_dma_address(&fdt, memory, 0x1234), Ok(0x1234));
        assert_eq!(
            of_translate_address(&fdt, serial, 0x7f80_0000),
            Err(AddressError::NotInRange {
                bus: "soc",
                address: 0x7f80_0000
            })
        );
    }

    #[test]
    fn nested_identity_missing_and_default_buses() {
        let fdt = fdt(BUS_RANGES);
        // 0x100 on nested-bus -> 0x7e300100 on soc -> 0xfe300100.
        assert_eq!(
            regs(&fdt, "/soc/nested-bus@7e300000/dev@100"),
            [Ok((0xfe30_0100, 0x10))]
        );
        assert_eq!(
            regs(&fdt, "/soc/flat-bus/dev@7e400000"),
            [Ok((0xfe40_0000, 0x10))]
        );
        assert_eq!(
            regs(&fdt, "/soc/closed-bus/dev@0"),
            [Err(AddressError::NoRanges { bus: "closed-bus" })]
        );
        // Two address cells on the child side of the range.
        assert_eq!(
            regs(&fdt, "/emmc2bus/mmc@7e340000"),
            [Ok((0xfe34_0000, 0x100))]
        );
        // No cell properties: children use 2 and 1.
        assert_eq!(
            regs(&fdt, "/defaults/dev@100000002"),
            [Ok((0x1_0000_0002, 3))]
        );
        assert_eq!(
            regs(&fdt, "/memory@0"),
            [Ok((0, 0x3b40_0000)), Ok((0x4000_0000, 0xbc00_0000))]
        );
        assert_eq!(
            node_reg_by_path(&fdt, "/no-reg").unwrap_err(),
            AddressError::NoReg
        );
        assert_eq!(
            node_reg_by_path(&fdt, "/nothing").unwrap_err(),
            AddressError::NoSuchNode
        );
    }

    #[test]
    fn nodes_from_all_nodes_resolve() {
        let fdt = fdt(BUS_RANGES);
        let mut translated = 0;
        for node in fdt.all_nodes() {
            if node.name == "serial@7e201000" {
                let reg: Vec<_> = node_reg(&fdt, node).unwrap().collect();
                assert_eq!(reg, [Ok((0xfe20_1000, 0x200))]);
                translated += 1;
            }
        }
        assert_eq!(translated, 1);
        let root = fdt.all_nodes().next().unwrap();
        assert_eq!(root.name, "/");
        assert_eq!(of_translate_address(&fdt, root, 0x1234), Ok(0x1234));
    }

    #[test]
    fn qemu_virt_has_no_translation() {
        let fdt = fdt(QEMU_VIRT);
        assert_eq!(regs(&fdt, "/pl011@9000000"), [Ok((0x900_0000, 0x1000))]);
        let gic: Vec<_> = node_reg_by_path(&fdt, "/intc@8000000").unwrap().collect();
        assert_eq!(gic[0], Ok((0x800_0000, 0x1_0000)));
        assert_eq!(gic[1], Ok((0x801_0000, 0x1_0000)));
        // CPUs sit on a bus without ranges: their reg is an MPIDR, not an address.
        let cpu = regs(&fdt, "/cpus/cpu@0");
        assert_eq!(cpu, [Err(AddressError::NoRanges { bus: "cpus" })]);
    }

    #[test]
    fn bad_cells() {
        assert_eq!(
            cells(Some(&[0, 0, 0, 5]), 2, 1, "x"),
            Err(AddressError::BadCells { node: "x" })
        );
        assert_eq!(
            cells(Some(&[0, 0, 0, 0]), 2, 1, "x"),
            Err(AddressError::BadCells { node: "x" })
        );
        assert_eq!(cells(Some(&[0, 0, 0, 0]), 1, 0, "x"), Ok(0));
        assert_eq!(
            cells(Some(&[0, 0, 3]), 2, 1, "x"),
            Err(AddressError::BadCells { node: "x" })
        );
        assert_eq!(cells(None, 2, 1, "x"), Ok(2));
        let (value, rest) = read_number(&[0, 0, 0, 1, 0, 0, 0, 2, 9], 2);
        assert_eq!((value, rest), (0x1_0000_0002, &[9u8][..]));
    }
}
