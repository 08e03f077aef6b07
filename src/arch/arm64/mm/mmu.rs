//! Building and tearing down translation tables: map, unmap, protect, walk, dump.
//!
//! Mirrors Linux's `arch/arm64/mm/mmu.c` (`__create_pgd_mapping`, `alloc_init_pud`,
//! `alloc_init_cont_pmd`, `init_pte`), with the generic walks Linux keeps in `mm/`:
//! [`unmap_range`] is `zap_page_range` plus the table freeing of `free_pgd_range`,
//! [`change_prot`] is `mm/mprotect.c`'s `change_protection`, [`for_each_leaf`] visits every
//! leaf of a range (the `/proc` counters, the W^X check), and [`dump`] prints what
//! `arch/arm64/mm/ptdump.c` prints in `/sys/kernel/debug/kernel_page_tables`. The hot walks
//! of user address spaces — fork's copy, exit's teardown, the fault's descent — are in
//! [`mmu_user`](crate::arch::mmu_user), which goes table by table.
//!
//! The geometry is Cradle's only one: 4 KiB granule, 48-bit VA, four levels (see
//! [`pgtable`](crate::arch::pgtable)). A `va` may be a TTBR1 (upper half, `0xffff_...`) or a TTBR0
//! (lower half) address; only bits 47..12 index the tables, and a range may not leave its half.
//!
//! # How tables are reached
//!
//! The functions take the *physical* address of the root (L0) table and a [`TableAllocator`],
//! which hands out zeroed table pages and says where a table's physical address can be read and
//! written: through the linear map in the kernel, in a heap arena in the host tests. Nothing
//! here needs `alloc`, so it works before the kernel heap does.
//!
//! # What the caller does
//!
//! These functions only edit memory, with volatile accesses. Everything else is the caller's:
//!
//! - **Barriers and TLB maintenance.** After a map, a `dsb ishst` before the new entries are
//!   relied on; after an unmap or a permission change, TLB invalidation of the range (and
//!   break-before-make where the architecture asks for it, e.g. when changing a live block's
//!   output address or memory type).
//! - **Freed table pages.** [`unmap_range`] and [`free_page_tables`] hand table pages to
//!   [`TableAllocator::free_table`] *before* the caller has flushed the TLB, and another CPU's
//!   walker may still hold them in its walk cache. An allocator used on live tables must
//!   therefore hold freed pages back until the caller's flush (as Linux's `mmu_gather` does).
//!   It may also be handed pages it never allocated (boot-time tables), and must recognise them.
//! - **Locking.** Nothing else may edit the same tables during a call (Linux's
//!   `mm->page_table_lock` / `init_mm`'s lock).

use core::fmt;

use crate::arch::pgtable::{
    level_block_size, table_index, Descriptor, DescriptorKind, MT_DEVICE_nGnRE, MT_DEVICE_nGnRnE,
    PageProt, MT_NORMAL, MT_NORMAL_NC, MT_NORMAL_TAGGED, PAGE_SIZE, PA_BITS, PGD_LEVEL, PMD_LEVEL,
    PTE_ADDR_MASK, PTE_AF, PTE_ATTRINDX_MASK, PTE_CONT, PTE_LEVEL, PTE_NG, PTE_PXN, PTE_RDONLY,
    PTE_SHARED, PTE_TABLE_BIT, PTE_TYPE_MASK, PTE_USER, PTE_UXN, PTE_VALID, PTRS_PER_TABLE,
    PUD_LEVEL, VA_BITS,
};

/// Where translation-table pages come from and how they are reached.
pub trait TableAllocator {
    /// A zeroed 4 KiB page for a new table: its physical address, or `None` when memory is out.
    fn alloc_table(&mut self) -> Option<u64>;
    /// Give back a table page that is no longer linked (see "What the caller does" in the
    /// module documentation for when it may be reused).
    fn free_table(&mut self, pa: u64);
    /// Where the table at physical address `pa` can be read and written (the linear map in the
    /// kernel; a host arena in tests).
    fn table_ptr(&self, pa: u64) -> *mut u64;
}

/// How [`map_range`] may build a mapping.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct MapFlags {
    /// Use 1 GiB and 2 MiB blocks where `va`, `pa` and the remaining size allow (Linux maps
    /// with `NO_BLOCK_MAPPINGS` when this is off, e.g. for memory it may later unmap a page of).
    pub allow_blocks: bool,
}

impl MapFlags {
    /// 4 KiB pages only.
    pub const PAGES: MapFlags = MapFlags {
        allow_blocks: false,
    };
    /// Blocks wherever they fit.
    pub const BLOCKS: MapFlags = MapFlags { allow_blocks: true };
}

/// Why a table operation stopped.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MapError {
    /// `va`, `pa` or `size` is not a multiple of 4 KiB.
    Unaligned,
    /// The VA range wraps, leaves its half of the address space or is not canonical, or the PA
    /// range does not fit in 48 bits.
    OutOfRange,
    /// [`TableAllocator::alloc_table`] returned `None`.
    NoMemory,
    /// A valid entry already maps part of the range differently.
    AlreadyMapped,
    /// The range covers only part of a block; splitting blocks is not supported.
    SplitBlock,
}

impl fmt::Display for MapError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            MapError::Unaligned => "address or size not page aligned",
            MapError::OutOfRange => "address range out of range",
            MapError::NoMemory => "out of memory for page tables",
            MapError::AlreadyMapped => "range already mapped differently",
            MapError::SplitBlock => "range covers part of a block",
        })
    }
}

/// Maps `[va, va + size)` to `[pa, pa + size)` with the attribute bits `prot` (a
/// [`PageProt`]'s bits: address and type bits are ignored), allocating intermediate tables
/// (Linux's `__create_pgd_mapping`).
///
/// With `flags.allow_blocks`, an entry becomes a 1 GiB or 2 MiB block wherever `va` and `pa`
/// are aligned to the block size and the whole block lies in the range and no table is already
/// there; everything else is mapped with 4 KiB pages. Mapping over an existing mapping is
/// allowed only where it maps the same address with the same attributes (so a range can be
/// mapped twice); anything else fails with [`MapError::AlreadyMapped`].
///
/// On error, the entries written so far stay written and the tables allocated so far stay
/// linked: the caller may [`unmap_range`] what it asked for to undo it. Unaligned or
/// out-of-range arguments are rejected before anything is touched.
///
/// # Safety
///
/// - `root_pa` is an L0 table that `alloc.table_ptr` makes readable and writable, and so is
///   every table reachable from it and every page `alloc.alloc_table` returns.
/// - Nothing else reads or writes these tables during the call (the MMU's walker aside), and
///   no Rust reference to them exists.
/// - If the tables are live, the new mappings must not break memory safety (e.g. alias memory
///   that Rust code owns mutably); see the module documentation for the barriers needed.
pub unsafe fn map_range<A: TableAllocator + ?Sized>(
    root_pa: u64,
    va: u64,
    pa: u64,
    size: u64,
    prot: u64,
    flags: MapFlags,
    alloc: &mut A,
) -> Result<(), MapError> {
    check_range(va, size)?;
    if pa & (PAGE_SIZE - 1) != 0 {
        return Err(MapError::Unaligned);
    }
    if pa.checked_add(size).is_none_or(|end| end > 1 << PA_BITS) {
        return Err(MapError::OutOfRange);
    }
    // SAFETY: the caller guarantees `root_pa` is a table reachable through `alloc`.
    let root = unsafe { Table::new(alloc, root_pa) };
    Mapper {
        alloc,
        prot: PageProt::from_bits(prot),
        allow_blocks: flags.allow_blocks,
    }
    .map(root, PGD_LEVEL, va, pa, size)
}

/// Unmaps `[va, va + size)`: clears every valid leaf in it, calls `on_leaf(leaf_va, old)` for
/// each one after clearing it (so the caller can free the pages and flush the TLB), and frees
/// every intermediate table left empty (Linux's `zap_pte_range` and `free_pgd_range`). The
/// root is never freed. Holes in the range are skipped.
///
/// A block only partly inside the range is left alone and the call fails with
/// [`MapError::SplitBlock`]; what was unmapped before that stays unmapped.
///
/// # Safety
///
/// As for [`map_range`]; and nothing may use the memory being unmapped once the caller has
/// flushed the TLB.
pub unsafe fn unmap_range<A: TableAllocator + ?Sized>(
    root_pa: u64,
    va: u64,
    size: u64,
    alloc: &mut A,
    on_leaf: &mut dyn FnMut(u64, Descriptor),
) -> Result<(), MapError> {
    check_range(va, size)?;
    // SAFETY: the caller guarantees `root_pa` is a table reachable through `alloc`.
    let root = unsafe { Table::new(alloc, root_pa) };
    unmap_level(root, PGD_LEVEL, va, size, alloc, on_leaf)
}

/// Clears every valid leaf in `[va, va + size)` and calls `on_leaf(leaf_va, old)` for each
/// after clearing it, but keeps every table (Linux's `zap_page_range`, which `madvise`'s
/// `MADV_DONTNEED` uses: the range stays mapped as far as the VMAs go, and the next faults
/// find their tables in place). Returns how many leaves it cleared.
///
/// A block only partly inside the range fails the call with [`MapError::SplitBlock`];
/// leaves cleared before that stay cleared.
///
/// # Safety
///
/// As for [`unmap_range`].
pub unsafe fn zap_leaves<A: TableAllocator + ?Sized>(
    root_pa: u64,
    va: u64,
    size: u64,
    alloc: &A,
    on_leaf: &mut dyn FnMut(u64, Descriptor),
) -> Result<usize, MapError> {
    check_range(va, size)?;
    // SAFETY: the caller guarantees `root_pa` is a table reachable through `alloc`.
    let root = unsafe { Table::new(alloc, root_pa) };
    let mut cleared = 0;
    visit_leaves(root, PGD_LEVEL, va, size, alloc, &mut |leaf| {
        if !leaf.covered {
            return Err(MapError::SplitBlock);
        }
        leaf.table.write(leaf.index, Descriptor::from_bits(0));
        on_leaf(leaf.va, leaf.desc);
        cleared += 1;
        Ok(())
    })?;
    Ok(cleared)
}

/// The leaf mapping `va`: its descriptor, its level (1 or 2 for a block, 3 for a page), and a
/// pointer to the entry in its table. `None` when `va` is not mapped or not canonical.
///
/// # Safety
///
/// `root_pa` is an L0 table that `alloc.table_ptr` makes readable, and so is every table
/// reachable from it; nothing writes these tables during the call. The returned pointer is
/// only valid as long as the table holding it is not freed.
pub unsafe fn walk<A: TableAllocator + ?Sized>(
    root_pa: u64,
    va: u64,
    alloc: &A,
) -> Option<(Descriptor, u32, *mut u64)> {
    check_range(va & !(PAGE_SIZE - 1), PAGE_SIZE).ok()?;
    // SAFETY: the caller guarantees `root_pa` is a table reachable through `alloc`.
    let mut table = unsafe { Table::new(alloc, root_pa) };
    for level in PGD_LEVEL..=PTE_LEVEL {
        let index = table_index(va, level);
        let desc = table.read(index);
        match desc.kind(level) {
            // SAFETY: a table descriptor of the tree, so reachable through `alloc` (the
            // caller's guarantee).
            DescriptorKind::Table => table = unsafe { Table::new(alloc, desc.output_address()) },
            DescriptorKind::Block | DescriptorKind::Page => {
                return Some((desc, level, table.entry(index)))
            }
            DescriptorKind::Invalid | DescriptorKind::Reserved => return None,
        }
    }
    None
}

/// Rewrites the attributes of every valid leaf in `[va, va + size)` to what `f` returns for it
/// (Linux's `change_protection`: W^X, `mprotect`, write-protecting for copy-on-write). Only
/// `f`'s attribute bits are used: a leaf keeps its output address and type. Returns how many
/// entries actually changed.
///
/// A block only partly inside the range fails the call with [`MapError::SplitBlock`]; entries
/// rewritten before that stay rewritten.
///
/// # Safety
///
/// As for [`map_range`] (the new attributes must not break memory safety either, e.g. make
/// text that is running non-executable without the caller knowing).
pub unsafe fn change_prot<A: TableAllocator + ?Sized>(
    root_pa: u64,
    va: u64,
    size: u64,
    f: &mut dyn FnMut(Descriptor) -> Descriptor,
    alloc: &A,
) -> Result<usize, MapError> {
    check_range(va, size)?;
    // SAFETY: the caller guarantees `root_pa` is a table reachable through `alloc`.
    let root = unsafe { Table::new(alloc, root_pa) };
    let mut changed = 0;
    visit_leaves(root, PGD_LEVEL, va, size, alloc, &mut |leaf| {
        if !leaf.covered {
            return Err(MapError::SplitBlock);
        }
        const FIXED: u64 = PTE_ADDR_MASK | PTE_TYPE_MASK;
        let new =
            Descriptor::from_bits((leaf.desc.bits() & FIXED) | (f(leaf.desc).bits() & !FIXED));
        if new != leaf.desc {
            leaf.table.write(leaf.index, new);
            changed += 1;
        }
        Ok(())
    })?;
    Ok(changed)
}

/// Frees every table under `[va_start, va_end)` (`va_end` exclusive; 0 means the top of the
/// address space) and returns how many it freed (Linux's `free_pgd_range`). A table whose
/// whole span lies in the range is freed with everything below it; one that straddles an end
/// is freed only if nothing is left in it. The root is never freed.
///
/// Leaves are dropped, not handed back: callers unmap and free the pages first.
///
/// Panics if the range is unaligned or out of range.
///
/// # Safety
///
/// As for [`unmap_range`].
pub unsafe fn free_page_tables<A: TableAllocator + ?Sized>(
    root_pa: u64,
    va_start: u64,
    va_end: u64,
    alloc: &mut A,
) -> usize {
    let size = range_size(va_start, va_end);
    // SAFETY: the caller guarantees `root_pa` is a table reachable through `alloc`.
    let root = unsafe { Table::new(alloc, root_pa) };
    free_level(root, PGD_LEVEL, va_start, size, alloc)
}

/// Calls `f(leaf_va, &mut descriptor)` for every valid leaf in `[va_start, va_end)`, in address
/// order (`va_end` exclusive, 0 for the top of the address space); `leaf_va` is where the leaf
/// starts, so a block partly inside the range is reported whole. What `f` leaves in the
/// descriptor is written back if it changed: `dup_mmap` write-protects the parent's pages this
/// way while copying them.
///
/// Panics if the range is unaligned or out of range, or if `f` turns a leaf into a table
/// descriptor.
///
/// # Safety
///
/// As for [`change_prot`].
pub unsafe fn for_each_leaf<A: TableAllocator + ?Sized>(
    root_pa: u64,
    va_start: u64,
    va_end: u64,
    alloc: &A,
    f: &mut dyn FnMut(u64, &mut Descriptor),
) {
    let size = range_size(va_start, va_end);
    // SAFETY: the caller guarantees `root_pa` is a table reachable through `alloc`.
    let root = unsafe { Table::new(alloc, root_pa) };
    let result = visit_leaves(root, PGD_LEVEL, va_start, size, alloc, &mut |leaf| {
        let mut desc = leaf.desc;
        f(leaf.va, &mut desc);
        if desc != leaf.desc {
            assert!(
                !desc.is_valid() || desc.is_leaf(leaf.level),
                "mmu: for_each_leaf callback stored a non-leaf at {:#x}",
                leaf.va
            );
            leaf.table.write(leaf.index, desc);
        }
        Ok(())
    });
    debug_assert!(result.is_ok(), "the visitor never fails");
}

/// Prints the leaves in `[va_start, va_end)` (`va_end` exclusive, 0 for the top) as Linux's
/// `ptdump` does: one line per run of contiguous virtual addresses mapped at the same level
/// with the same attributes, e.g.
///
/// ```text
/// 0xffff800000080000-0xffff800000100000         512K PTE       ro x  SHD AF            UXN    MEM/NORMAL
/// ```
///
/// Unlike Linux, unmapped holes get no line. Blocks partly inside the range are shown whole.
///
/// Panics if the range is unaligned or out of range.
///
/// # Safety
///
/// As for [`walk`].
pub unsafe fn dump<A: TableAllocator + ?Sized>(
    root_pa: u64,
    va_start: u64,
    va_end: u64,
    alloc: &A,
    out: &mut dyn fmt::Write,
) -> fmt::Result {
    let size = range_size(va_start, va_end);
    // SAFETY: the caller guarantees `root_pa` is a table reachable through `alloc`.
    let root = unsafe { Table::new(alloc, root_pa) };
    let mut run: Option<DumpRun> = None;
    let mut result = Ok(());
    let _ = visit_leaves(root, PGD_LEVEL, va_start, size, alloc, &mut |leaf| {
        let attrs = leaf.desc.bits() & !PTE_ADDR_MASK;
        let end = leaf.va.wrapping_add(level_block_size(leaf.level));
        match &mut run {
            Some(r) if r.end == leaf.va && r.level == leaf.level && r.attrs == attrs => r.end = end,
            _ => {
                if let Some(done) = run.replace(DumpRun {
                    start: leaf.va,
                    end,
                    level: leaf.level,
                    attrs,
                }) {
                    result = result.and(done.write(out));
                }
            }
        }
        Ok(())
    });
    if let Some(done) = run {
        result = result.and(done.write(out));
    }
    result
}

/// Checks that `[va, va + size)` is page aligned, canonical and inside one half of the
/// address space.
fn check_range(va: u64, size: u64) -> Result<(), MapError> {
    if (va | size) & (PAGE_SIZE - 1) != 0 {
        return Err(MapError::Unaligned);
    }
    if size == 0 {
        return Ok(());
    }
    let last = va.checked_add(size - 1).ok_or(MapError::OutOfRange)?;
    let half = va >> VA_BITS;
    let upper = (1 << (64 - VA_BITS)) - 1;
    if half != last >> VA_BITS || (half != 0 && half != upper) {
        return Err(MapError::OutOfRange);
    }
    Ok(())
}

/// The size of `[va_start, va_end)` (`va_end == 0` is the top of the address space), panicking
/// if the range is not one [`check_range`] accepts.
fn range_size(va_start: u64, va_end: u64) -> u64 {
    let size = va_end.wrapping_sub(va_start);
    if let Err(e) = check_range(va_start, size) {
        panic!("mmu: bad range {va_start:#x}..{va_end:#x}: {e}");
    }
    size
}

/// One translation table, reached through [`TableAllocator::table_ptr`].
///
/// # Invariants
///
/// `entries` points at `PTRS_PER_TABLE` eight-byte-aligned `u64`s that may be read and written
/// for as long as this `Table` is used, and no Rust reference to them exists meanwhile. Tables
/// only exist inside a public function of this module whose caller has vouched, through its
/// `# Safety` section, that this holds for every table of the tree; so every table descriptor
/// read from a `Table` names another table for which it holds.
#[derive(Clone, Copy)]
pub(super) struct Table {
    pub(super) pa: u64,
    entries: *mut u64,
}

impl Table {
    /// # Safety
    ///
    /// `alloc.table_ptr(pa)` returns a pointer satisfying the type invariant.
    pub(super) unsafe fn new<A: TableAllocator + ?Sized>(alloc: &A, pa: u64) -> Table {
        Table {
            pa,
            entries: alloc.table_ptr(pa),
        }
    }

    /// The table descriptor's target as a `Table`.
    pub(super) fn child<A: TableAllocator + ?Sized>(alloc: &A, desc: Descriptor) -> Table {
        // SAFETY: `desc` is a table descriptor read from a table of the tree, so its target is
        // a table of the tree too (type invariant).
        unsafe { Table::new(alloc, desc.output_address()) }
    }

    pub(super) fn entry(self, index: usize) -> *mut u64 {
        assert!(index < PTRS_PER_TABLE, "mmu: table index out of bounds");
        self.entries.wrapping_add(index)
    }

    pub(super) fn read(self, index: usize) -> Descriptor {
        // SAFETY: `entry` is in bounds; the type invariant makes it readable and unaliased.
        Descriptor::from_bits(unsafe { self.entry(index).read_volatile() })
    }

    pub(super) fn write(self, index: usize, desc: Descriptor) {
        // SAFETY: `entry` is in bounds; the type invariant makes it writable and unaliased.
        unsafe { self.entry(index).write_volatile(desc.bits()) }
    }

    /// Whether the eight entries from `index` (a multiple of 8) are all zero: one pass of
    /// plain loads, for the walks that skip the empty stretches of sparse user tables.
    pub(super) fn eight_are_zero(self, index: usize) -> bool {
        assert!(
            index.is_multiple_of(8) && index < PTRS_PER_TABLE,
            "mmu: bad chunk index"
        );
        // SAFETY: in bounds and 64-byte aligned (the table is page aligned); the type
        // invariant makes the entries readable, and nothing writes them during the read
        // (the walker never writes: hardware access-flag and dirty updates are off).
        let chunk = unsafe { self.entries.add(index).cast::<[u64; 8]>().read() };
        chunk.iter().fold(0, |acc, e| acc | e) == 0
    }

    pub(super) fn is_empty(self) -> bool {
        (0..PTRS_PER_TABLE).all(|index| !self.read(index).is_valid())
    }
}

/// The part of a range that falls in one entry of a table.
#[derive(Clone, Copy, Debug)]
struct Slot {
    /// The entry's index in its table.
    index: usize,
    /// The first address the entry maps.
    entry_va: u64,
    /// The first address of the range in the entry.
    va: u64,
    /// How much of the range falls in the entry.
    size: u64,
}

impl Slot {
    /// Whether the range covers the whole entry.
    fn covers_entry(self, level: u32) -> bool {
        self.size == level_block_size(level)
    }
}

/// The slots of a range in the entries of one table at `level`.
struct Slots {
    level: u32,
    va: u64,
    size: u64,
}

impl Iterator for Slots {
    type Item = Slot;

    fn next(&mut self) -> Option<Slot> {
        if self.size == 0 {
            return None;
        }
        let block = level_block_size(self.level);
        let offset = self.va & (block - 1);
        let size = (block - offset).min(self.size);
        let slot = Slot {
            index: table_index(self.va, self.level),
            entry_va: self.va - offset,
            va: self.va,
            size,
        };
        // Wraps only past the very top of the upper half, when `size` has reached 0.
        self.va = self.va.wrapping_add(size);
        self.size -= size;
        Some(slot)
    }
}

fn slots(level: u32, va: u64, size: u64) -> Slots {
    Slots { level, va, size }
}

/// What [`map_range`] maps with.
struct Mapper<'a, A: TableAllocator + ?Sized> {
    alloc: &'a mut A,
    prot: PageProt,
    allow_blocks: bool,
}

impl<A: TableAllocator + ?Sized> Mapper<'_, A> {
    /// Maps `[va, va + size)` to `pa` in `table` at `level` and below.
    fn map(
        &mut self,
        table: Table,
        level: u32,
        va: u64,
        pa: u64,
        size: u64,
    ) -> Result<(), MapError> {
        let mut pa = pa;
        for slot in slots(level, va, size) {
            let old = table.read(slot.index);
            let block_fits = self.allow_blocks
                && (level == PUD_LEVEL || level == PMD_LEVEL)
                && slot.covers_entry(level)
                && pa & (level_block_size(level) - 1) == 0;
            if level == PTE_LEVEL || (block_fits && !old.is_table(level)) {
                let new = if level == PTE_LEVEL {
                    Descriptor::page(pa, self.prot)
                } else {
                    Descriptor::block(pa, self.prot, level)
                };
                if !old.is_valid() {
                    table.write(slot.index, new);
                } else if old != new {
                    return Err(MapError::AlreadyMapped);
                }
            } else {
                let child = match old.kind(level) {
                    DescriptorKind::Invalid => {
                        let child_pa = self.alloc.alloc_table().ok_or(MapError::NoMemory)?;
                        // SAFETY: `alloc_table` pages are reachable through `alloc` (the
                        // caller's guarantee); the page is zeroed, so all its entries are
                        // invalid and it may be linked as it is.
                        let child = unsafe { Table::new(self.alloc, child_pa) };
                        table.write(slot.index, Descriptor::table(child_pa));
                        child
                    }
                    DescriptorKind::Table => Table::child(self.alloc, old),
                    DescriptorKind::Block
                        if old.prot() == self.prot
                            && old.output_address() + (slot.va - slot.entry_va) == pa =>
                    {
                        // Already mapped the same way by a larger block.
                        pa += slot.size;
                        continue;
                    }
                    _ => return Err(MapError::AlreadyMapped),
                };
                self.map(child, level + 1, slot.va, pa, slot.size)?;
            }
            pa += slot.size;
        }
        Ok(())
    }
}

fn unmap_level<A: TableAllocator + ?Sized>(
    table: Table,
    level: u32,
    va: u64,
    size: u64,
    alloc: &mut A,
    on_leaf: &mut dyn FnMut(u64, Descriptor),
) -> Result<(), MapError> {
    for slot in slots(level, va, size) {
        let old = table.read(slot.index);
        match old.kind(level) {
            DescriptorKind::Invalid | DescriptorKind::Reserved => {}
            DescriptorKind::Block | DescriptorKind::Page => {
                if !slot.covers_entry(level) {
                    return Err(MapError::SplitBlock);
                }
                table.write(slot.index, Descriptor::INVALID);
                on_leaf(slot.entry_va, old);
            }
            DescriptorKind::Table => {
                let child = Table::child(alloc, old);
                let result = unmap_level(child, level + 1, slot.va, slot.size, alloc, on_leaf);
                // Even after an error: whatever emptied the table is done.
                if child.is_empty() {
                    table.write(slot.index, Descriptor::INVALID);
                    alloc.free_table(child.pa);
                }
                result?;
            }
        }
    }
    Ok(())
}

fn free_level<A: TableAllocator + ?Sized>(
    table: Table,
    level: u32,
    va: u64,
    size: u64,
    alloc: &mut A,
) -> usize {
    let mut freed = 0;
    for slot in slots(level, va, size) {
        let desc = table.read(slot.index);
        if !desc.is_table(level) {
            continue;
        }
        let child = Table::child(alloc, desc);
        freed += free_level(child, level + 1, slot.va, slot.size, alloc);
        if slot.covers_entry(level) || child.is_empty() {
            table.write(slot.index, Descriptor::INVALID);
            alloc.free_table(child.pa);
            freed += 1;
        }
    }
    freed
}

/// A valid leaf met by [`visit_leaves`].
struct Leaf {
    table: Table,
    index: usize,
    level: u32,
    /// Where the leaf's mapping starts.
    va: u64,
    desc: Descriptor,
    /// Whether the visited range covers the whole leaf.
    covered: bool,
}

/// Calls `visit` on every valid leaf in `[va, va + size)` under `table`, in address order,
/// stopping at the first error.
fn visit_leaves<A: TableAllocator + ?Sized>(
    table: Table,
    level: u32,
    va: u64,
    size: u64,
    alloc: &A,
    visit: &mut dyn FnMut(Leaf) -> Result<(), MapError>,
) -> Result<(), MapError> {
    for slot in slots(level, va, size) {
        let desc = table.read(slot.index);
        match desc.kind(level) {
            DescriptorKind::Invalid | DescriptorKind::Reserved => {}
            DescriptorKind::Table => {
                let child = Table::child(alloc, desc);
                visit_leaves(child, level + 1, slot.va, slot.size, alloc, visit)?;
            }
            DescriptorKind::Block | DescriptorKind::Page => visit(Leaf {
                table,
                index: slot.index,
                level,
                va: slot.entry_va,
                desc,
                covered: slot.covers_entry(level),
            })?,
        }
    }
    Ok(())
}

/// Level names as `ptdump` prints them.
const LEVEL_NAMES: [&str; 4] = ["PGD", "PUD", "PMD", "PTE"];

/// One column of `ptdump`'s attribute list (Linux's `struct prot_bits`): `set` when
/// `bits & mask == val`, else `clear` (nothing if `None`).
struct ProtBits {
    mask: u64,
    val: u64,
    set: &'static str,
    clear: Option<&'static str>,
}

const fn bit(mask: u64, set: &'static str, clear: &'static str) -> ProtBits {
    ProtBits {
        mask,
        val: mask,
        set,
        clear: Some(clear),
    }
}

const fn memory_type(index: u64, name: &'static str) -> ProtBits {
    ProtBits {
        mask: PTE_ATTRINDX_MASK,
        val: index << 2,
        set: name,
        clear: None,
    }
}

/// Bit 50: guarded page (BTI). Cradle never sets it; it is here so lines read as Linux's do.
const PTE_GP: u64 = 1 << 50;

/// Linux's `pte_bits` in `arch/arm64/mm/ptdump.c`.
const PTE_BITS: [ProtBits; 16] = [
    bit(PTE_VALID, " ", "F"),
    bit(PTE_USER, "USR", "   "),
    bit(PTE_RDONLY, "ro", "RW"),
    bit(PTE_PXN, "NX", "x "),
    bit(PTE_SHARED, "SHD", "   "),
    bit(PTE_AF, "AF", "  "),
    bit(PTE_NG, "NG", "  "),
    bit(PTE_CONT, "CON", "   "),
    bit(PTE_TABLE_BIT, "   ", "BLK"),
    bit(PTE_UXN, "UXN", "   "),
    bit(PTE_GP, "GP", "  "),
    memory_type(MT_DEVICE_nGnRnE, "DEVICE/nGnRnE"),
    memory_type(MT_DEVICE_nGnRE, "DEVICE/nGnRE"),
    memory_type(MT_NORMAL_NC, "MEM/NORMAL-NC"),
    memory_type(MT_NORMAL, "MEM/NORMAL"),
    memory_type(MT_NORMAL_TAGGED, "MEM/NORMAL-TAGGED"),
];

/// A run of leaves [`dump`] prints as one line.
struct DumpRun {
    start: u64,
    end: u64,
    level: u32,
    /// Every descriptor bit but the output address.
    attrs: u64,
}

impl DumpRun {
    /// Linux's `note_page` line: range, size with unit, level, attributes.
    fn write(&self, out: &mut dyn fmt::Write) -> fmt::Result {
        write!(out, "{:#018x}-{:#018x}   ", self.start, self.end)?;
        const UNITS: [char; 6] = ['K', 'M', 'G', 'T', 'P', 'E'];
        let mut size = self.end.wrapping_sub(self.start) >> 10;
        let mut unit = 0;
        while size & 1023 == 0 && unit + 1 < UNITS.len() {
            size >>= 10;
            unit += 1;
        }
        write!(
            out,
            "{size:>9}{} {}",
            UNITS[unit], LEVEL_NAMES[self.level as usize]
        )?;
        for bits in &PTE_BITS {
            let text = if self.attrs & bits.mask == bits.val {
                Some(bits.set)
            } else {
                bits.clear
            };
            if let Some(text) = text {
                write!(out, " {text}")?;
            }
        }
        writeln!(out)
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::arch::pgtable::{
        PAGE_KERNEL, PAGE_KERNEL_DEVICE, PAGE_KERNEL_RO, PAGE_KERNEL_ROX, PAGE_SHARED, PMD_SIZE,
    };

    const KIB: u64 = 1 << 10;
    const MIB: u64 = 1 << 20;
    const GIB: u64 = 1 << 30;
    const ARENA_BASE: u64 = 0x8_0000_0000;

    #[repr(C, align(4096))]
    struct Page([u64; PTRS_PER_TABLE]);

    /// Table pages on the heap, at physical addresses `ARENA_BASE + index * 4096`. Catches
    /// double frees and accesses to freed or unknown tables.
    pub(crate) struct Arena {
        pages: Vec<*mut Page>,
        live: Vec<bool>,
        free: Vec<usize>,
        pub(crate) allocs: usize,
        pub(crate) frees: usize,
        /// Fail allocations once this many tables are live.
        limit: usize,
    }

    impl Arena {
        pub(crate) fn new() -> Arena {
            Arena {
                pages: Vec::new(),
                live: Vec::new(),
                free: Vec::new(),
                allocs: 0,
                frees: 0,
                limit: usize::MAX,
            }
        }

        fn index(&self, pa: u64) -> usize {
            assert!(
                pa >= ARENA_BASE && pa.is_multiple_of(PAGE_SIZE),
                "bad table pa {pa:#x}"
            );
            let index = ((pa - ARENA_BASE) / PAGE_SIZE) as usize;
            assert!(index < self.pages.len(), "unknown table pa {pa:#x}");
            index
        }

        pub(crate) fn live_tables(&self) -> usize {
            self.allocs - self.frees
        }
    }

    impl TableAllocator for Arena {
        fn alloc_table(&mut self) -> Option<u64> {
            if self.live_tables() >= self.limit {
                return None;
            }
            let index = self.free.pop().unwrap_or_else(|| {
                self.pages
                    .push(Box::into_raw(Box::new(Page([0; PTRS_PER_TABLE]))));
                self.live.push(false);
                self.pages.len() - 1
            });
            // SAFETY: the pointer came from `Box::into_raw` and is only freed in `drop`; tables
            // come back zeroed, as the trait asks.
            unsafe { self.pages[index].write(Page([0; PTRS_PER_TABLE])) };
            self.live[index] = true;
            self.allocs += 1;
            Some(ARENA_BASE + index as u64 * PAGE_SIZE)
        }

        fn free_table(&mut self, pa: u64) {
            let index = self.index(pa);
            assert!(self.live[index], "double free of table {pa:#x}");
            self.live[index] = false;
            self.free.push(index);
            self.frees += 1;
        }

        fn table_ptr(&self, pa: u64) -> *mut u64 {
            let index = self.index(pa);
            assert!(self.live[index], "access to freed table {pa:#x}");
            self.pages[index].cast()
        }
    }

    impl Drop for Arena {
        fn drop(&mut self) {
            for &page in &self.pages {
                // SAFETY: each pointer came from `Box::into_raw` and is dropped once.
                drop(unsafe { Box::from_raw(page) });
            }
        }
    }

    /// An arena with a root table; safe wrappers around the functions under test.
    pub(crate) struct Tables {
        pub(crate) arena: Arena,
        pub(crate) root: u64,
    }

    // SAFETY (for every `unsafe` block in `Tables`): `root` and every table below it come from
    // `arena`, which keeps them readable and writable until it is dropped; the tables are not
    // live (no MMU walks them) and nothing else accesses them.
    impl Tables {
        pub(crate) fn new() -> Tables {
            let mut arena = Arena::new();
            let root = arena.alloc_table().unwrap();
            Tables { arena, root }
        }

        pub(crate) fn map(
            &mut self,
            va: u64,
            pa: u64,
            size: u64,
            prot: PageProt,
            flags: MapFlags,
        ) -> Result<(), MapError> {
            // SAFETY: see `impl Tables`.
            unsafe { map_range(self.root, va, pa, size, prot.bits(), flags, &mut self.arena) }
        }

        fn unmap(&mut self, va: u64, size: u64) -> (Result<(), MapError>, Vec<(u64, Descriptor)>) {
            let mut leaves = Vec::new();
            // SAFETY: see `impl Tables`.
            let result = unsafe {
                unmap_range(self.root, va, size, &mut self.arena, &mut |va, d| {
                    leaves.push((va, d))
                })
            };
            (result, leaves)
        }

        pub(crate) fn walk(&self, va: u64) -> Option<(Descriptor, u32)> {
            // SAFETY: see `impl Tables`.
            unsafe { walk(self.root, va, &self.arena) }.map(|(d, level, _)| (d, level))
        }

        /// The physical address `va` translates to.
        fn translate(&self, va: u64) -> Option<u64> {
            let (desc, level) = self.walk(va)?;
            Some(desc.output_address() + (va & (level_block_size(level) - 1)))
        }

        fn change_prot(
            &mut self,
            va: u64,
            size: u64,
            f: &mut dyn FnMut(Descriptor) -> Descriptor,
        ) -> Result<usize, MapError> {
            // SAFETY: see `impl Tables`.
            unsafe { change_prot(self.root, va, size, f, &self.arena) }
        }

        pub(crate) fn leaves(&self, start: u64, end: u64) -> Vec<(u64, Descriptor)> {
            let mut leaves = Vec::new();
            // SAFETY: see `impl Tables`.
            unsafe {
                for_each_leaf(self.root, start, end, &self.arena, &mut |va, d| {
                    leaves.push((va, *d))
                })
            };
            leaves
        }

        fn dump(&self, start: u64, end: u64) -> String {
            let mut out = String::new();
            // SAFETY: see `impl Tables`.
            unsafe { dump(self.root, start, end, &self.arena, &mut out) }.unwrap();
            out
        }

        pub(crate) fn root_is_empty(&self) -> bool {
            // SAFETY: see `impl Tables`.
            unsafe { Table::new(&self.arena, self.root) }.is_empty()
        }
    }

    #[test]
    fn blocks_where_aligned_pages_elsewhere() {
        let mut t = Tables::new();
        let va = 0xffff_0000_4000_0000;
        let pa = 0x4000_0000;
        let size = GIB + 2 * MIB + 8 * KIB;
        t.map(va, pa, size, PAGE_KERNEL, MapFlags::BLOCKS).unwrap();
        assert_eq!(t.walk(va).unwrap().1, 1, "1 GiB block");
        assert_eq!(t.walk(va + GIB - PAGE_SIZE).unwrap().1, 1);
        assert_eq!(t.walk(va + GIB).unwrap().1, 2, "2 MiB block");
        assert_eq!(t.walk(va + GIB + 2 * MIB).unwrap().1, 3, "page");
        assert_eq!(t.walk(va + GIB + 2 * MIB + 4 * KIB).unwrap().1, 3);
        assert_eq!(t.walk(va + size), None);
        assert_eq!(t.translate(va + 0x1234_5000), Some(pa + 0x1234_5000));
        assert_eq!(t.translate(va + GIB + 0x1_2000), Some(pa + GIB + 0x1_2000));
        // Root, one L1, one L2 (for the 2 MiB block and the pages' table), one L3.
        assert_eq!(t.arena.allocs, 4);
        let (block, _) = t.walk(va).unwrap();
        assert_eq!(block.kind(1), DescriptorKind::Block);
        assert_eq!(block.prot(), PAGE_KERNEL);
    }

    #[test]
    fn pages_only_without_allow_blocks_or_alignment() {
        let mut t = Tables::new();
        t.map(
            0x20_0000,
            0x4020_0000,
            2 * MIB,
            PAGE_SHARED,
            MapFlags::PAGES,
        )
        .unwrap();
        assert_eq!(t.walk(0x20_0000).unwrap().1, 3);
        assert_eq!(t.leaves(0, 1 << 48).len(), 512);
        // Blocks allowed, but pa is only 4 KiB-congruent with va: pages again.
        t.map(
            0x4000_0000,
            0x8000_1000,
            2 * MIB,
            PAGE_SHARED,
            MapFlags::BLOCKS,
        )
        .unwrap();
        assert_eq!(t.walk(0x4000_0000).unwrap().1, 3);
        // Aligned: a block.
        t.map(
            0x8000_0000,
            0x8000_0000,
            2 * MIB,
            PAGE_SHARED,
            MapFlags::BLOCKS,
        )
        .unwrap();
        assert_eq!(t.walk(0x8000_0000).unwrap().1, 2);
        assert_eq!(t.leaves(0, 1 << 48).len(), 512 + 512 + 1);
    }

    #[test]
    fn range_crossing_table_boundaries() {
        let mut t = Tables::new();
        // 8 KiB below a 512 GiB (L0) boundary, 4 MiB above it.
        let va = (512 * GIB) - 8 * KIB;
        let pa = 0x1_0000_0000;
        let size = 8 * KIB + 4 * MIB;
        t.map(va, pa, size, PAGE_SHARED, MapFlags::PAGES).unwrap();
        // Root, 2 L1, 2 L2, 1 + 2 L3.
        assert_eq!(t.arena.allocs, 8);
        for offset in (0..size).step_by(PAGE_SIZE as usize) {
            assert_eq!(
                t.translate(va + offset),
                Some(pa + offset),
                "offset {offset:#x}"
            );
        }
        assert_eq!(t.walk(va - PAGE_SIZE), None);
        assert_eq!(t.walk(va + size), None);
        let leaves = t.leaves(0, 1 << 48);
        assert_eq!(leaves.len(), (size / PAGE_SIZE) as usize);
        assert!(
            leaves.windows(2).all(|w| w[1].0 == w[0].0 + PAGE_SIZE),
            "address order"
        );
    }

    #[test]
    fn upper_half_top_of_address_space() {
        let mut t = Tables::new();
        let va = 0u64.wrapping_sub(4 * MIB);
        t.map(va, 0x4000_0000, 4 * MIB, PAGE_KERNEL, MapFlags::BLOCKS)
            .unwrap();
        assert_eq!(t.walk(u64::MAX).unwrap().1, 2);
        assert_eq!(t.translate(!0xfff), Some(0x4000_0000 + 4 * MIB - PAGE_SIZE));
        assert_eq!(t.leaves(va, 0).len(), 2);
        let (result, leaves) = t.unmap(va, 4 * MIB);
        result.unwrap();
        assert_eq!(
            leaves.iter().map(|l| l.0).collect::<Vec<_>>(),
            [va, va + 2 * MIB]
        );
        assert!(t.root_is_empty());
    }

    #[test]
    fn remap_identical_is_fine_different_is_refused() {
        let mut t = Tables::new();
        let va = 0x40_0000;
        t.map(va, 0x9000_0000, 4 * PAGE_SIZE, PAGE_SHARED, MapFlags::PAGES)
            .unwrap();
        let allocs = t.arena.allocs;
        t.map(va, 0x9000_0000, 4 * PAGE_SIZE, PAGE_SHARED, MapFlags::PAGES)
            .unwrap();
        assert_eq!(
            t.arena.allocs, allocs,
            "no new tables for an identical remap"
        );
        assert_eq!(
            t.map(
                va + PAGE_SIZE,
                0x9000_2000,
                PAGE_SIZE,
                PAGE_SHARED,
                MapFlags::PAGES
            ),
            Err(MapError::AlreadyMapped),
            "different pa"
        );
        assert_eq!(
            t.map(va, 0x9000_0000, PAGE_SIZE, PAGE_KERNEL, MapFlags::PAGES),
            Err(MapError::AlreadyMapped),
            "different attributes"
        );
        // A block over pages: goes through the existing table, and the pages already there
        // must agree.
        assert_eq!(
            t.map(
                0x40_0000,
                0x9040_0000,
                2 * MIB,
                PAGE_SHARED,
                MapFlags::BLOCKS
            ),
            Err(MapError::AlreadyMapped)
        );
        // Pages inside an identical block are fine; inside a different one, not.
        t.map(
            0x8000_0000,
            0x8000_0000,
            2 * MIB,
            PAGE_KERNEL,
            MapFlags::BLOCKS,
        )
        .unwrap();
        let allocs = t.arena.allocs;
        t.map(
            0x8000_3000,
            0x8000_3000,
            PAGE_SIZE,
            PAGE_KERNEL,
            MapFlags::PAGES,
        )
        .unwrap();
        assert_eq!(t.arena.allocs, allocs);
        assert_eq!(
            t.map(
                0x8000_3000,
                0x8000_4000,
                PAGE_SIZE,
                PAGE_KERNEL,
                MapFlags::PAGES
            ),
            Err(MapError::AlreadyMapped)
        );
        assert_eq!(t.walk(0x8000_3000).unwrap().1, 2, "the block was not split");
        assert_eq!(
            t.translate(va + PAGE_SIZE),
            Some(0x9000_1000),
            "untouched by the failures"
        );
    }

    #[test]
    fn bad_arguments_touch_nothing() {
        let mut t = Tables::new();
        let k = PAGE_KERNEL;
        assert_eq!(
            t.map(0x1800, 0x1000, 0x1000, k, MapFlags::PAGES),
            Err(MapError::Unaligned)
        );
        assert_eq!(
            t.map(0x1000, 0x1800, 0x1000, k, MapFlags::PAGES),
            Err(MapError::Unaligned)
        );
        assert_eq!(
            t.map(0x1000, 0x1000, 0x800, k, MapFlags::PAGES),
            Err(MapError::Unaligned)
        );
        // Non-canonical, crossing the top of the lower half, PA past 48 bits.
        assert_eq!(
            t.map(1 << 48, 0, 0x1000, k, MapFlags::PAGES),
            Err(MapError::OutOfRange)
        );
        assert_eq!(
            t.map((1 << 48) - 0x1000, 0, 0x2000, k, MapFlags::PAGES),
            Err(MapError::OutOfRange)
        );
        assert_eq!(
            t.map(0x1000, (1 << 48) - 0x1000, 0x2000, k, MapFlags::PAGES),
            Err(MapError::OutOfRange)
        );
        assert_eq!(t.arena.allocs, 1);
        assert_eq!(t.unmap(0x1000, 0x10).0, Err(MapError::Unaligned));
        t.map(0x1000, 0x1000, 0, k, MapFlags::PAGES).unwrap();
        assert!(t.root_is_empty());
    }

    #[test]
    fn out_of_memory_keeps_what_was_mapped() {
        let mut t = Tables::new();
        t.arena.limit = 4; // root, L1, L2, one L3
        let va = 0x1f_e000; // 8 KiB below a 2 MiB boundary: the rest needs a second L3
        assert_eq!(
            t.map(va, 0x5000_0000, 4 * PAGE_SIZE, PAGE_SHARED, MapFlags::PAGES),
            Err(MapError::NoMemory)
        );
        assert_eq!(t.translate(va), Some(0x5000_0000));
        assert_eq!(t.translate(va + PAGE_SIZE), Some(0x5000_1000));
        assert_eq!(t.walk(va + 2 * PAGE_SIZE), None);
        // Undo it: everything but the root goes back.
        let (result, leaves) = t.unmap(va, 4 * PAGE_SIZE);
        result.unwrap();
        assert_eq!(leaves.len(), 2);
        assert_eq!(t.arena.live_tables(), 1);
    }

    #[test]
    fn unmap_reports_leaves_and_frees_empty_tables() {
        let mut t = Tables::new();
        t.map(
            0x1000,
            0x7000_1000,
            3 * PAGE_SIZE,
            PAGE_SHARED,
            MapFlags::PAGES,
        )
        .unwrap();
        t.map(
            0x4020_0000,
            0x4020_0000,
            PMD_SIZE,
            PAGE_SHARED,
            MapFlags::BLOCKS,
        )
        .unwrap();
        // Root, L1; L2 + L3 for the pages; L2 for the block (another 1 GiB).
        assert_eq!(t.arena.allocs, 5);

        // Part of the pages: the L3 table stays, it still maps one.
        let (result, leaves) = t.unmap(0x1000, 2 * PAGE_SIZE);
        result.unwrap();
        assert_eq!(leaves.len(), 2);
        assert_eq!((leaves[0].0, leaves[1].0), (0x1000, 0x2000));
        assert_eq!(leaves[1].1.output_address(), 0x7000_2000);
        assert_eq!(t.arena.frees, 0);
        assert_eq!(t.walk(0x1000), None);
        assert_eq!(t.translate(0x3000), Some(0x7000_3000));

        // Half a block cannot be unmapped.
        let (result, leaves) = t.unmap(0x4020_0000, MIB);
        assert_eq!(result, Err(MapError::SplitBlock));
        assert!(leaves.is_empty());
        assert_eq!(t.walk(0x4020_0000).unwrap().1, 2);

        // Everything, holes included: all tables but the root go.
        let (result, leaves) = t.unmap(0, 2 * GIB);
        result.unwrap();
        assert_eq!(leaves.len(), 2);
        assert_eq!(leaves[0].0, 0x3000);
        assert_eq!(leaves[1].0, 0x4020_0000);
        assert_eq!(leaves[1].1.kind(2), DescriptorKind::Block);
        assert_eq!(t.arena.frees, 4);
        assert_eq!(t.arena.live_tables(), 1);
        assert!(t.root_is_empty());
    }

    #[test]
    fn change_prot_counts_changed_entries() {
        let mut t = Tables::new();
        let va = 0x10_0000;
        t.map(
            va,
            0x6000_0000,
            16 * PAGE_SIZE,
            PAGE_SHARED,
            MapFlags::PAGES,
        )
        .unwrap();
        let mut wrprotect = |d: Descriptor| d.wrprotect();
        assert_eq!(
            t.change_prot(va + 4 * PAGE_SIZE, 8 * PAGE_SIZE, &mut wrprotect),
            Ok(8)
        );
        assert_eq!(
            t.change_prot(va, 16 * PAGE_SIZE, &mut wrprotect),
            Ok(8),
            "8 were already ro"
        );
        assert_eq!(t.change_prot(va, 16 * PAGE_SIZE, &mut wrprotect), Ok(0));
        assert!(!t.walk(va).unwrap().0.prot().is_writable());
        // Holes count nothing; address and type bits from `f` are ignored.
        assert_eq!(
            t.change_prot(0, 64 * PAGE_SIZE, &mut |d| Descriptor::from_bits(
                (d.bits() & !PTE_ADDR_MASK & !PTE_TYPE_MASK) | 0x1234_5000 | PTE_UXN
            )),
            Ok(0),
            "UXN is already set, and nothing else may change"
        );
        let mut exec = |d: Descriptor| d.clear_bits(PTE_UXN | PTE_TYPE_MASK);
        assert_eq!(t.change_prot(va, PAGE_SIZE, &mut exec), Ok(1));
        let (d, level) = t.walk(va).unwrap();
        assert_eq!(
            (d.output_address(), level, d.kind(3)),
            (0x6000_0000, 3, DescriptorKind::Page)
        );
        assert!(d.prot().is_user_exec());
        // Blocks: whole is fine, part is not.
        t.map(0x4000_0000, 0x4000_0000, GIB, PAGE_KERNEL, MapFlags::BLOCKS)
            .unwrap();
        let mut ro = |d: Descriptor| d.wrprotect();
        assert_eq!(
            t.change_prot(0x4000_0000, 2 * MIB, &mut ro),
            Err(MapError::SplitBlock)
        );
        assert_eq!(t.change_prot(0x4000_0000, GIB, &mut ro), Ok(1));
        assert_eq!(t.walk(0x7fff_f000).unwrap().0.prot(), PAGE_KERNEL_RO);
    }

    #[test]
    fn walk_returns_a_writable_entry_pointer() {
        let mut t = Tables::new();
        assert_eq!(t.walk(0x1000), None);
        assert_eq!(t.walk(0x0001_0000_0000_0000), None, "non-canonical");
        t.map(0x1000, 0x2000, PAGE_SIZE, PAGE_SHARED, MapFlags::PAGES)
            .unwrap();
        // SAFETY: the arena's tables, not live, accessed by nothing else.
        let (desc, level, entry) = unsafe { walk(t.root, 0x1abc, &t.arena) }.unwrap();
        assert_eq!((desc, level), (Descriptor::page(0x2000, PAGE_SHARED), 3));
        // SAFETY: `entry` points into a live arena table; nothing else accesses it.
        unsafe { entry.write_volatile(0) };
        assert_eq!(t.walk(0x1000), None);
    }

    #[test]
    fn for_each_leaf_writes_back_changes() {
        let mut t = Tables::new();
        t.map(
            0x40_0000,
            0x9000_0000,
            8 * PAGE_SIZE,
            PAGE_SHARED,
            MapFlags::PAGES,
        )
        .unwrap();
        let mut seen = 0;
        // SAFETY: the arena's tables, not live, accessed by nothing else.
        unsafe {
            for_each_leaf(t.root, 0x40_2000, 0x40_6000, &t.arena, &mut |_, d| {
                *d = d.wrprotect();
                seen += 1;
            })
        };
        assert_eq!(seen, 4);
        let writable: Vec<bool> = (0..8)
            .map(|i| {
                t.walk(0x40_0000 + i * PAGE_SIZE)
                    .unwrap()
                    .0
                    .prot()
                    .is_writable()
            })
            .collect();
        assert_eq!(
            writable,
            [true, true, false, false, false, false, true, true]
        );
    }

    #[test]
    fn free_page_tables_frees_covered_and_empty_tables() {
        let mut t = Tables::new();
        t.map(0x1000, 0x1000, PAGE_SIZE, PAGE_SHARED, MapFlags::PAGES)
            .unwrap();
        t.map(
            0x20_0000,
            0x20_0000,
            PAGE_SIZE,
            PAGE_SHARED,
            MapFlags::PAGES,
        )
        .unwrap();
        t.map(
            0x8000_0000,
            0x8000_0000,
            PAGE_SIZE,
            PAGE_SHARED,
            MapFlags::PAGES,
        )
        .unwrap();
        // Root, L1, L2 + 2 L3 in the first GiB, L2 + L3 in the third.
        assert_eq!(t.arena.allocs, 7);
        // SAFETY: the arena's tables, not live, accessed by nothing else.
        let freed = unsafe { free_page_tables(t.root, 0, 0x20_0000, &mut t.arena) };
        assert_eq!(freed, 1, "only the first L3 lies inside");
        assert_eq!(t.walk(0x1000), None);
        assert_eq!(t.translate(0x20_0000), Some(0x20_0000));
        // SAFETY: as above.
        let freed = unsafe { free_page_tables(t.root, 0, 1 << 48, &mut t.arena) };
        assert_eq!(freed, 5);
        assert_eq!(t.arena.live_tables(), 1);
        assert!(t.root_is_empty());
    }

    #[test]
    fn dump_merges_runs_like_ptdump() {
        let mut t = Tables::new();
        let text = 0xffff_8000_0008_0000;
        t.map(
            text,
            0x4008_0000,
            512 * KIB,
            PAGE_KERNEL_ROX,
            MapFlags::PAGES,
        )
        .unwrap();
        // Same attributes, contiguous VA, non-contiguous PA: still one run.
        t.map(
            text + 512 * KIB,
            0x5000_0000,
            64 * KIB,
            PAGE_KERNEL_RO,
            MapFlags::PAGES,
        )
        .unwrap();
        t.map(
            text + 576 * KIB,
            0x5100_0000,
            64 * KIB,
            PAGE_KERNEL_RO,
            MapFlags::PAGES,
        )
        .unwrap();
        // A hole, then a device page.
        t.map(
            text + MIB,
            0x0900_0000,
            PAGE_SIZE,
            PAGE_KERNEL_DEVICE,
            MapFlags::PAGES,
        )
        .unwrap();
        // The linear map: two 1 GiB blocks, then 2 MiB blocks.
        let linear = 0xffff_0000_4000_0000;
        t.map(
            linear,
            0x4000_0000,
            2 * GIB + 2 * PMD_SIZE,
            PAGE_KERNEL,
            MapFlags::BLOCKS,
        )
        .unwrap();
        // User memory, in its own (TTBR0) tree: only VA bits 47..12 index a table, so in the
        // kernel's tree it would alias 0xffff_0000_0040_0000.
        let mut user = Tables::new();
        user.map(
            0x40_0000,
            0x7000_0000,
            12 * KIB,
            PAGE_SHARED,
            MapFlags::PAGES,
        )
        .unwrap();

        let expected = "\
0xffff000040000000-0xffff0000c0000000           2G PUD       RW NX SHD AF        BLK UXN    MEM/NORMAL
0xffff0000c0000000-0xffff0000c0400000           4M PMD       RW NX SHD AF        BLK UXN    MEM/NORMAL
0xffff800000080000-0xffff800000100000         512K PTE       ro x  SHD AF            UXN    MEM/NORMAL
0xffff800000100000-0xffff800000120000         128K PTE       ro NX SHD AF            UXN    MEM/NORMAL
0xffff800000180000-0xffff800000181000           4K PTE       RW NX SHD AF            UXN    DEVICE/nGnRE
";
        assert_eq!(t.dump(0xffff_0000_0000_0000, 0), expected);
        assert_eq!(
            user.dump(0, 1 << 48),
            "0x0000000000400000-0x0000000000403000          12K PTE   USR RW NX SHD AF NG         UXN    MEM/NORMAL\n"
        );
        assert_eq!(
            t.dump(text + 512 * KIB, text + 576 * KIB),
            "0xffff800000100000-0xffff800000110000          64K PTE       ro NX SHD AF            UXN    MEM/NORMAL\n",
            "a run cut at the end of the range"
        );
    }

    #[test]
    #[should_panic(expected = "bad range")]
    fn dump_rejects_a_range_across_halves() {
        let t = Tables::new();
        t.dump(0x1000, 0xffff_0000_0000_0000);
    }
}
