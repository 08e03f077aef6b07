//! Whole-table walks of user page-table trees: fork's copy, exit's teardown, the fault
//! path's entry lookup.
//!
//! Mirrors Linux's `mm/memory.c`: [`copy_range`] is `copy_page_range` (`copy_p4d_range` …
//! `copy_pte_range`), [`free_tree`] is what `exit_mmap` does with `unmap_vmas` and
//! `free_pgtables` when the whole address space goes, and [`pte_alloc`] is the walk of
//! `__handle_mm_fault` (`p4d_alloc` … `pte_alloc`).
//!
//! [`mmu`](crate::arch::mmu)'s walks take any range and rebuild every mapping from the root, one
//! entry at a time; that is right for the kernel's tables and for `mmap`/`munmap`, but it
//! made `fork` re-map every page through `map_range` (four table lookups per page) and `exit`
//! clear every entry one by one and then scan each table for emptiness. These walks go table
//! by table instead: `fork` copies a table's leaves straight into the child's table, `exit`
//! hands each leaf to its caller and frees whole tables without clearing them, and a fault
//! finds (or builds) its level-3 entry in one descent.
//!
//! The same rules as in [`mmu`](crate::arch::mmu) apply: the caller owns barriers, TLB maintenance
//! and locking. Nothing here needs `alloc`, so the host tests run it on an arena.

use crate::arch::mmu::{MapError, Table, TableAllocator};
use crate::arch::pgtable::{
    level_block_size, table_index, Descriptor, DescriptorKind, PAGE_SIZE, PGD_LEVEL, PTE_LEVEL,
    PTRS_PER_TABLE, VA_BITS,
};

/// Copies every valid leaf in `[va, va + size)` of the tree at `src_root` into the tree at
/// `dst_root` (Linux's `copy_page_range`): for each leaf, `copy(leaf_va, &mut parent)` returns
/// the child's descriptor, and whatever it left in `parent` is written back to the source if
/// it changed (`fork` write-protects both sides for copy-on-write this way). Tables are
/// allocated in the destination only where the source has one.
///
/// Fails with [`MapError::AlreadyMapped`] where the destination already has a leaf (or a
/// block where the source has a table), [`MapError::SplitBlock`] for a source block only
/// partly in the range, [`MapError::NoMemory`] when a table cannot be allocated. What was
/// copied before the failure stays copied; the caller tears the destination down.
///
/// Panics if `copy` returns a valid descriptor that is not a leaf at its level.
///
/// # Safety
///
/// - Both roots are L0 tables that `alloc.table_ptr` makes readable and writable, and so is
///   every table reachable from them and every page `alloc.alloc_table` returns; the two
///   trees share no table.
/// - Nothing else writes these tables during the call (the MMU's walker aside), and no Rust
///   reference to them exists.
/// - The destination is not live, or the new mappings do not break memory safety; a source
///   entry `copy` changes needs the caller's TLB maintenance afterwards.
pub unsafe fn copy_range<A, F>(
    src_root: u64,
    dst_root: u64,
    va: u64,
    size: u64,
    alloc: &mut A,
    copy: &mut F,
) -> Result<(), MapError>
where
    A: TableAllocator + ?Sized,
    F: FnMut(u64, &mut Descriptor) -> Descriptor,
{
    if size == 0 {
        return Ok(());
    }
    let last = check_user_range(va, size)?;
    // SAFETY: the caller guarantees both roots are tables reachable through `alloc`.
    let (src, dst) = unsafe { (Table::new(alloc, src_root), Table::new(alloc, dst_root)) };
    copy_level(src, dst, PGD_LEVEL, va, last, alloc, copy)
}

/// Checks a lower-half range and returns its last byte's address.
fn check_user_range(va: u64, size: u64) -> Result<u64, MapError> {
    if (va | size) & (level_block_size(PTE_LEVEL) - 1) != 0 {
        return Err(MapError::Unaligned);
    }
    let last = va.checked_add(size - 1).ok_or(MapError::OutOfRange)?;
    if last >> VA_BITS != 0 {
        return Err(MapError::OutOfRange);
    }
    Ok(last)
}

/// [`copy_range`] for `[va, last]` (inclusive, inside one table's span) at `level`.
fn copy_level<A, F>(
    src: Table,
    dst: Table,
    level: u32,
    va: u64,
    last: u64,
    alloc: &mut A,
    copy: &mut F,
) -> Result<(), MapError>
where
    A: TableAllocator + ?Sized,
    F: FnMut(u64, &mut Descriptor) -> Descriptor,
{
    if level == PTE_LEVEL {
        let mut result = Ok(());
        let first = table_index(va, level);
        for_each_valid(src, first, table_index(last, level), |index, desc| {
            if result.is_err() || desc.kind(PTE_LEVEL) != DescriptorKind::Page {
                return;
            }
            let page_va = (va & !(PAGE_SIZE - 1)) + (index - first) as u64 * PAGE_SIZE;
            result = copy_leaf(src, dst, index, PTE_LEVEL, page_va, desc, copy);
        });
        return result;
    }
    let span = level_block_size(level);
    let mut entry_va = va & !(span - 1);
    for index in table_index(va, level)..=table_index(last, level) {
        let desc = src.read(index);
        match desc.kind(level) {
            DescriptorKind::Invalid | DescriptorKind::Reserved => {}
            DescriptorKind::Table => {
                let old = dst.read(index);
                let dst_child = match old.kind(level) {
                    DescriptorKind::Invalid => {
                        let pa = alloc.alloc_table().ok_or(MapError::NoMemory)?;
                        // SAFETY: `alloc_table` pages are reachable through `alloc` (the
                        // caller's guarantee); zeroed, so it may be linked as it is.
                        let child = unsafe { Table::new(alloc, pa) };
                        dst.write(index, Descriptor::table(pa));
                        child
                    }
                    DescriptorKind::Table => Table::child(alloc, old),
                    _ => return Err(MapError::AlreadyMapped),
                };
                let src_child = Table::child(alloc, desc);
                let lo = va.max(entry_va);
                let hi = last.min(entry_va + (span - 1));
                copy_level(src_child, dst_child, level + 1, lo, hi, alloc, copy)?;
            }
            DescriptorKind::Block | DescriptorKind::Page => {
                if entry_va < va || entry_va + (span - 1) > last {
                    return Err(MapError::SplitBlock);
                }
                copy_leaf(src, dst, index, level, entry_va, desc, copy)?;
            }
        }
        entry_va = entry_va.wrapping_add(span);
    }
    Ok(())
}

/// Copies the leaf `desc` at `index` of `src` (at `level`, mapping `leaf_va`) to `dst`.
fn copy_leaf<F>(
    src: Table,
    dst: Table,
    index: usize,
    level: u32,
    leaf_va: u64,
    desc: Descriptor,
    copy: &mut F,
) -> Result<(), MapError>
where
    F: FnMut(u64, &mut Descriptor) -> Descriptor,
{
    if dst.read(index).is_valid() {
        return Err(MapError::AlreadyMapped);
    }
    let mut parent = desc;
    let child = copy(leaf_va, &mut parent);
    assert!(
        !child.is_valid() || child.is_leaf(level),
        "mmu_user: copy_range made a non-leaf at {leaf_va:#x}"
    );
    if parent != desc {
        assert!(
            !parent.is_valid() || parent.is_leaf(level),
            "mmu_user: copy_range stored a non-leaf at {leaf_va:#x}"
        );
        src.write(index, parent);
    }
    dst.write(index, child);
    Ok(())
}

/// Tears down the lower-half tree at `root_pa`, reaching it through `ranges`: every valid
/// leaf inside a range goes to `on_leaf(leaf_va, desc)`, every table on the way is freed
/// and its entry cleared; the root itself is not freed. Returns how many tables it freed. Entries of the tables
/// being freed are not cleared: the allocator hands out zeroed tables anyway.
///
/// `range(r)` gives each of `ranges` as a `(start, end)` pair, `end` exclusive, page
/// aligned, in the lower half, sorted and not overlapping: an address space's VMAs. Upper-level tables are only read at
/// the entries the ranges cross, so the walk costs what the mappings cost, not 512 entries
/// for each table (Linux's `free_pgtables` goes VMA by VMA for the same reason), and
/// level-3 tables only at the entries the ranges cover (Linux's `zap_pte_range`). Tables
/// and pages no range reaches are not found: the caller keeps every mapping inside its
/// ranges, as an `mm` keeps every page inside a VMA.
///
/// Panics if a range is empty, unaligned, outside the lower half or out of order.
///
/// # Safety
///
/// As for [`copy_range`]'s source; and no walker may use the tree any more: it is installed
/// on no CPU and its TLB entries (walk caches included) are gone, so its pages and tables can
/// be reused as soon as `on_leaf` and `free_table` see them (Linux's `exit_mmap` on a
/// `fullmm` gather).
pub unsafe fn free_tree<A, F, T, R>(
    root_pa: u64,
    ranges: &[T],
    range: &R,
    alloc: &mut A,
    on_leaf: &mut F,
) -> usize
where
    A: TableAllocator + ?Sized,
    F: FnMut(u64, Descriptor),
    R: Fn(&T) -> (u64, u64),
{
    let mut previous_end = 0;
    for (start, end) in ranges.iter().map(range) {
        assert!(
            start >= previous_end && end > start,
            "mmu_user: free_tree ranges out of order at {start:#x}"
        );
        let checked = check_user_range(start, end - start);
        assert!(checked.is_ok(), "mmu_user: bad range {start:#x}..{end:#x}");
        previous_end = end;
    }
    // SAFETY: the caller guarantees `root_pa` is a table reachable through `alloc`.
    let root = unsafe { Table::new(alloc, root_pa) };
    free_level(root, PGD_LEVEL, 0, ranges, range, alloc, on_leaf)
}

/// [`free_tree`] for `table` at `level`, which maps from `table_va`, reached through the
/// `ranges` that cross it. The entries of `table` it frees are cleared (only the root's
/// matter).
fn free_level<A, F, T, R>(
    table: Table,
    level: u32,
    table_va: u64,
    ranges: &[T],
    range: &R,
    alloc: &mut A,
    on_leaf: &mut F,
) -> usize
where
    A: TableAllocator + ?Sized,
    F: FnMut(u64, Descriptor),
    R: Fn(&T) -> (u64, u64),
{
    let span = level_block_size(level);
    let table_last = table_va + (span * PTRS_PER_TABLE as u64 - 1);
    if level == PTE_LEVEL {
        // Only the entries the ranges cover (Linux's `zap_pte_range` over each VMA): no
        // page lies outside them.
        for (start, end) in ranges.iter().map(range) {
            let (lo, hi) = (start.max(table_va), (end - 1).min(table_last));
            if lo > hi {
                continue;
            }
            let (first, last) = (table_index(lo, level), table_index(hi, level));
            for_each_valid(table, first, last, |index, desc| {
                if desc.kind(PTE_LEVEL) == DescriptorKind::Page {
                    on_leaf(table_va + index as u64 * PAGE_SIZE, desc);
                }
            });
        }
        return 0;
    }
    let mut freed = 0;
    // The first index not yet handled: two ranges may cross the same entry.
    let mut next = 0;
    for (k, (start, end)) in ranges.iter().map(range).enumerate() {
        let (lo, hi) = (start.max(table_va), (end - 1).min(table_last));
        if lo > hi {
            continue;
        }
        for index in table_index(lo, level).max(next)..=table_index(hi, level) {
            next = index + 1;
            let desc = table.read(index);
            let entry_va = table_va + index as u64 * span;
            match desc.kind(level) {
                DescriptorKind::Invalid | DescriptorKind::Reserved => {}
                DescriptorKind::Table => {
                    // The ranges crossing this entry: this one and the following that start
                    // inside it (earlier ones ended before `lo`).
                    let entry_last = entry_va + (span - 1);
                    let crossing = ranges[k..]
                        .iter()
                        .take_while(|r| range(r).0 <= entry_last)
                        .count();
                    let child = Table::child(alloc, desc);
                    freed += free_level(
                        child,
                        level + 1,
                        entry_va,
                        &ranges[k..k + crossing],
                        range,
                        alloc,
                        on_leaf,
                    );
                    table.write(index, Descriptor::INVALID);
                    alloc.free_table(child.pa);
                    freed += 1;
                }
                DescriptorKind::Block | DescriptorKind::Page => {
                    table.write(index, Descriptor::INVALID);
                    on_leaf(entry_va, desc);
                }
            }
        }
    }
    freed
}

/// Calls `f(index, desc)` for every valid entry of `table` in `first..=last`, skipping empty
/// stretches eight entries at a time.
fn for_each_valid(table: Table, first: usize, last: usize, mut f: impl FnMut(usize, Descriptor)) {
    let mut index = first;
    while index <= last {
        if index.is_multiple_of(8) && index + 7 <= last && table.eight_are_zero(index) {
            index += 8;
            continue;
        }
        let desc = table.read(index);
        if desc.is_valid() {
            f(index, desc);
        }
        index += 1;
    }
}

/// The level-3 entry mapping the lower-half address `va`, with the tables on the way
/// allocated where missing (Linux's `pte_alloc` descent in `__handle_mm_fault`). The entry
/// may be invalid (nothing mapped yet) or a page. A block on the way fails the call with
/// [`MapError::AlreadyMapped`]; `va` outside the lower half with [`MapError::OutOfRange`].
///
/// # Safety
///
/// As for [`copy_range`]'s destination. The returned pointer is valid until the table holding
/// it is freed, and only while the caller keeps others from editing the tree.
pub unsafe fn pte_alloc<A: TableAllocator + ?Sized>(
    root_pa: u64,
    va: u64,
    alloc: &mut A,
) -> Result<*mut u64, MapError> {
    if va >> VA_BITS != 0 {
        return Err(MapError::OutOfRange);
    }
    // SAFETY: the caller guarantees `root_pa` is a table reachable through `alloc`.
    let mut table = unsafe { Table::new(alloc, root_pa) };
    for level in PGD_LEVEL..PTE_LEVEL {
        let index = table_index(va, level);
        let desc = table.read(index);
        table = match desc.kind(level) {
            DescriptorKind::Table => Table::child(alloc, desc),
            DescriptorKind::Invalid => {
                let pa = alloc.alloc_table().ok_or(MapError::NoMemory)?;
                // SAFETY: `alloc_table` pages are reachable through `alloc`; zeroed, so it
                // may be linked as it is.
                let child = unsafe { Table::new(alloc, pa) };
                table.write(index, Descriptor::table(pa));
                child
            }
            _ => return Err(MapError::AlreadyMapped),
        };
    }
    Ok(table.entry(table_index(va, PTE_LEVEL)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::arch::mmu::tests::Tables;
    use crate::arch::mmu::{walk, MapFlags};
    use crate::arch::pgtable::{PAGE_SHARED, PAGE_SIZE, PTE_RDONLY};

    const MIB: u64 = 1 << 20;
    const GIB: u64 = 1 << 30;

    /// Tables with pages at 0x40_0000 (3), 0x7f_ffff_e000 (2) and a 2 MiB block at 1 GiB.
    fn sample() -> Tables {
        let mut t = Tables::new();
        t.map(
            0x40_0000,
            0x9000_0000,
            3 * PAGE_SIZE,
            PAGE_SHARED,
            MapFlags::PAGES,
        )
        .unwrap();
        t.map(
            0x7f_ffff_e000,
            0x9100_0000,
            2 * PAGE_SIZE,
            PAGE_SHARED,
            MapFlags::PAGES,
        )
        .unwrap();
        t.map(GIB, 0xa000_0000, 2 * MIB, PAGE_SHARED, MapFlags::BLOCKS)
            .unwrap();
        t
    }

    #[test]
    fn copy_range_copies_leaves_and_writes_back_the_parent() {
        let mut src = sample();
        let dst_root = src.arena.alloc_table().unwrap();
        let mut seen = Vec::new();
        // SAFETY: the arena's tables, not live, accessed by nothing else.
        unsafe {
            copy_range(
                src.root,
                dst_root,
                0,
                1 << 47,
                &mut src.arena,
                &mut |va, d| {
                    seen.push(va);
                    *d = Descriptor::from_bits(d.bits() | PTE_RDONLY);
                    *d
                },
            )
        }
        .unwrap();
        assert_eq!(
            seen,
            [
                0x40_0000,
                0x40_1000,
                0x40_2000,
                GIB,
                0x7f_ffff_e000,
                0x7f_ffff_f000
            ]
        );
        // Both sides now read-only, same output addresses, same levels.
        for &va in &seen {
            let (s, level) = src.walk(va).unwrap();
            assert!(!s.prot().is_writable(), "{va:#x}");
            // SAFETY: as above.
            let (d, dlevel, _) = unsafe { walk(dst_root, va, &src.arena) }.unwrap();
            assert_eq!((d, dlevel), (s, level), "{va:#x}");
        }
        // A second copy finds the leaves already there.
        // SAFETY: as above.
        let again = unsafe {
            copy_range(
                src.root,
                dst_root,
                0x40_0000,
                PAGE_SIZE,
                &mut src.arena,
                &mut |_, d| *d,
            )
        };
        assert_eq!(again, Err(MapError::AlreadyMapped));
        // Part of a block cannot be copied.
        // SAFETY: as above.
        let part =
            unsafe { copy_range(src.root, dst_root, GIB, MIB, &mut src.arena, &mut |_, d| *d) };
        assert_eq!(part, Err(MapError::SplitBlock));
    }

    #[test]
    fn copy_range_allocates_only_where_the_source_has_tables() {
        let mut src = sample();
        let before = src.arena.allocs;
        let dst_root = src.arena.alloc_table().unwrap();
        // Only the first page's range: L1, L2, L3 in the destination.
        // SAFETY: the arena's tables, not live, accessed by nothing else.
        unsafe {
            copy_range(
                src.root,
                dst_root,
                0x40_1000,
                PAGE_SIZE,
                &mut src.arena,
                &mut |_, d| *d,
            )
        }
        .unwrap();
        assert_eq!(src.arena.allocs, before + 4);
        // A hole: nothing allocated.
        // SAFETY: as above.
        unsafe {
            copy_range(
                src.root,
                dst_root,
                0x100_0000_0000,
                64 * GIB,
                &mut src.arena,
                &mut |_, d| *d,
            )
        }
        .unwrap();
        assert_eq!(src.arena.allocs, before + 4);
    }

    #[test]
    fn free_tree_hands_back_every_leaf_and_table() {
        let mut t = sample();
        let tables = t.arena.live_tables() - 1;
        let ranges = [
            (0x40_0000, 0x40_2000),
            (0x40_2000, 0x40_3000),
            (GIB, GIB + 2 * MIB),
            (0x7f_ff00_0000, 0x80_0000_0000),
        ];
        let mut leaves = Vec::new();
        // SAFETY: the arena's tables, not live, accessed by nothing else.
        let freed = unsafe {
            free_tree(t.root, &ranges, &|r| *r, &mut t.arena, &mut |va, d| {
                leaves.push((va, d))
            })
        };
        assert_eq!(freed, tables);
        assert_eq!(t.arena.live_tables(), 1, "only the root is left");
        assert!(t.root_is_empty());
        let vas: Vec<u64> = leaves.iter().map(|l| l.0).collect();
        assert_eq!(
            vas,
            [
                0x40_0000,
                0x40_1000,
                0x40_2000,
                GIB,
                0x7f_ffff_e000,
                0x7f_ffff_f000
            ]
        );
        assert_eq!(leaves[4].1.output_address(), 0x9100_0000);
    }

    #[test]
    fn free_tree_reads_a_level3_table_only_inside_the_ranges() {
        let mut t = sample();
        // In the level-3 table of the first ranges, but outside them: a page no VMA holds,
        // which an `mm` never has. It is not read (the table itself is freed).
        t.map(
            0x5f_f000,
            0x9200_0000,
            PAGE_SIZE,
            PAGE_SHARED,
            MapFlags::PAGES,
        )
        .unwrap();
        let mut vas = Vec::new();
        // SAFETY: the arena's tables, not live, accessed by nothing else.
        unsafe {
            free_tree(
                t.root,
                &[(0x40_0000, 0x40_3000)],
                &|r| *r,
                &mut t.arena,
                &mut |va, _| vas.push(va),
            )
        };
        assert_eq!(vas, [0x40_0000, 0x40_1000, 0x40_2000]);
    }

    #[test]
    fn free_tree_reads_only_what_the_ranges_reach() {
        let mut t = sample();
        // Under the second root entry: no range reaches it, so it is neither read nor freed.
        t.map(
            1 << 39,
            0x9300_0000,
            PAGE_SIZE,
            PAGE_SHARED,
            MapFlags::PAGES,
        )
        .unwrap();
        let mut leaves = 0;
        // SAFETY: the arena's tables, not live, accessed by nothing else.
        unsafe {
            free_tree(
                t.root,
                &[(0, 1 << 39)],
                &|r| *r,
                &mut t.arena,
                &mut |_, _| leaves += 1,
            )
        };
        assert_eq!(leaves, 6);
        assert_eq!(t.walk(0x40_0000), None);
        assert_eq!(t.walk(1 << 39).unwrap().1, 3);
        assert_eq!(
            t.arena.live_tables(),
            4,
            "root, L1, L2, L3 of the second entry"
        );
    }

    #[test]
    #[should_panic(expected = "out of order")]
    fn free_tree_wants_sorted_ranges() {
        let mut t = sample();
        // SAFETY: the arena's tables, not live, accessed by nothing else.
        unsafe {
            free_tree(
                t.root,
                &[(GIB, GIB + PAGE_SIZE), (0, PAGE_SIZE)],
                &|r| *r,
                &mut t.arena,
                &mut |_, _| {},
            )
        };
    }

    #[test]
    fn pte_alloc_builds_the_path_once() {
        let mut t = Tables::new();
        // SAFETY: the arena's tables, not live, accessed by nothing else.
        let entry = unsafe { pte_alloc(t.root, 0x1234_5000, &mut t.arena) }.unwrap();
        assert_eq!(t.arena.allocs, 4, "root, L1, L2, L3");
        // SAFETY: `entry` points into a live arena table.
        assert_eq!(unsafe { entry.read_volatile() }, 0);
        // SAFETY: as above.
        unsafe { entry.write_volatile(Descriptor::page(0x5000_0000, PAGE_SHARED).bits()) };
        assert_eq!(t.walk(0x1234_5000).unwrap().0.output_address(), 0x5000_0000);
        // SAFETY: as above.
        let again = unsafe { pte_alloc(t.root, 0x1234_5000, &mut t.arena) }.unwrap();
        assert_eq!((again, t.arena.allocs), (entry, 4));
        t.map(GIB, 0xa000_0000, 2 * MIB, PAGE_SHARED, MapFlags::BLOCKS)
            .unwrap();
        // SAFETY: as above.
        let block = unsafe { pte_alloc(t.root, GIB + PAGE_SIZE, &mut t.arena) };
        assert_eq!(block, Err(MapError::AlreadyMapped));
        // SAFETY: as above.
        let high = unsafe { pte_alloc(t.root, 0xffff_0000_0000_0000, &mut t.arena) };
        assert_eq!(high, Err(MapError::OutOfRange));
    }
}
