//! The buddy page allocator: physical pages in power-of-two blocks, split and merged.
//!
//! Mirrors Linux's `mm/page_alloc.c` (`__free_one_page`, `__rmqueue_smallest`, `expand`,
//! `memblock_free_all` → `__free_pages_core`). One [`BuddyAllocator`] is one zone: a span of
//! page frame numbers `[base_pfn, base_pfn + meta.len())` with one [`PageMeta`] per frame (Linux's
//! `struct page` array, `mem_map`). Free memory sits in `free_area[order]` lists of naturally
//! aligned blocks of `2^order` pages, `order` in `0..=MAX_ORDER`. Allocating takes the smallest
//! block that fits and splits off the unused halves; freeing merges a block with its buddy
//! (`pfn ^ (1 << order)`) for as long as the buddy is free and of the same order.
//!
//! Unlike Linux, the free lists are not threaded through the free pages themselves: each
//! [`PageMeta`] holds `next`/`prev` *indices* into the metadata slice. So the allocator never
//! dereferences a physical address, needs no `unsafe`, and runs unchanged on the host over a
//! test arena. The kernel carves the metadata out of memblock (see [`meta_pages_needed`]).
//!
//! `MAX_ORDER` follows Linux ≥ 6.4 (there called `MAX_PAGE_ORDER`): it is *inclusive*, so the
//! largest block is `2^10` pages = 4 MiB. Before 6.4 Linux's `MAX_ORDER` was 11, exclusive.
//!
//! # Complexity
//!
//! `alloc_pages` and `free_pages` are O(`MAX_ORDER`). `free_range` touches every page it is
//! given once (as Linux's `memblock_free_all` does) and is only for boot and for freeing init
//! memory.
//!
//! # Locking
//!
//! A `BuddyAllocator` is plain data; the kernel keeps it behind an IRQ-safe spinlock, as Linux
//! keeps `zone->lock`.

use core::mem::size_of;

pub use crate::arch::memory::{PAGE_SHIFT, PAGE_SIZE};
/// The largest order: blocks of `2^MAX_ORDER` pages (Linux's `MAX_PAGE_ORDER`, inclusive).
pub const MAX_ORDER: usize = 10;
/// How many orders there are, `0..=MAX_ORDER` (Linux's `NR_PAGE_ORDERS`).
pub const NR_PAGE_ORDERS: usize = MAX_ORDER + 1;
/// Pages in the largest block (Linux's `MAX_ORDER_NR_PAGES`).
pub const MAX_ORDER_NR_PAGES: u64 = 1 << MAX_ORDER;

/// The empty end of an index-linked list.
const NONE: u32 = u32::MAX;

/// `PageMeta::flags`: the page heads a free block of `order` pages in `free_area[order]`
/// (Linux's `PageBuddy`).
const PG_BUDDY: u8 = 1 << 0;
/// `PageMeta::flags`: the page heads a block of `order` pages handed out by `alloc_pages`.
/// Linux does not track this; Cradle does so that `free_pages` can catch double and bad frees.
const PG_ALLOCATED: u8 = 1 << 1;
/// `PageMeta::flags`: the page was never handed to the allocator (Linux's `PG_reserved`).
const PG_RESERVED: u8 = 1 << 2;
/// `PageMeta::flags`, with `PG_ALLOCATED`: the order-0 page was freed to a list of hot pages
/// kept in front of the allocator (see [`BuddyAllocator::hold_free`]).
const PG_HOT: u8 = 1 << 3;

/// Per-page metadata (the part of Linux's `struct page` the buddy allocator uses).
///
/// All-zero bytes are a valid `PageMeta`, so the kernel may zero the memory it takes from
/// memblock and view it as `[PageMeta]`; [`BuddyAllocator::new`] then initialises every entry.
/// Tail pages of a block (all but the first) carry no information.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct PageMeta {
    /// Next block in the same free list, as an index into the metadata slice, or `NONE`.
    next: u32,
    /// Previous block in the same free list, or `NONE`.
    prev: u32,
    /// The order of the block this page heads, if it heads one.
    order: u8,
    /// `PG_BUDDY`, `PG_ALLOCATED` or `PG_RESERVED`; 0 for a tail page or a page in transit.
    flags: u8,
}

impl PageMeta {
    /// The all-zero entry, for initialising an arena.
    pub const EMPTY: PageMeta = PageMeta {
        next: 0,
        prev: 0,
        order: 0,
        flags: 0,
    };
}

/// How many pages of metadata a zone of `npages` pages needs.
pub const fn meta_pages_needed(npages: usize) -> usize {
    (npages * size_of::<PageMeta>()).div_ceil(PAGE_SIZE as usize)
}

/// The physical address of a page frame (Linux's `PFN_PHYS`).
pub const fn pfn_phys(pfn: u64) -> u64 {
    pfn << PAGE_SHIFT
}

/// The page frame containing a physical address (Linux's `PHYS_PFN`).
pub const fn phys_pfn(pa: u64) -> u64 {
    pa >> PAGE_SHIFT
}

/// The smallest order whose block holds `size` bytes (Linux's `get_order`); 0 for 0.
pub const fn get_order(size: u64) -> usize {
    if size <= PAGE_SIZE {
        return 0;
    }
    let pages = (size - 1) >> PAGE_SHIFT; // pages - 1
    (u64::BITS - pages.leading_zeros()) as usize
}

/// One free list (Linux's `struct free_area`).
#[derive(Clone, Copy, Debug)]
struct FreeArea {
    /// First block's metadata index, or `NONE`.
    head: u32,
    /// Blocks on the list.
    nr_free: usize,
}

/// A buddy allocator over one zone of page frames.
///
/// # Invariants
///
/// - Every free block is naturally aligned (its head's *pfn*, not its index, is a multiple of
///   `2^order`), lies inside the zone, and is on `free_area[order]`; its head has `PG_BUDDY`
///   and `order`, and no two free blocks overlap.
/// - Two free buddies of the same order never coexist: they would have been merged.
/// - `nr_free` is the sum over orders of `free_area[order].nr_free << order`.
#[derive(Debug)]
pub struct BuddyAllocator<'a> {
    meta: &'a mut [PageMeta],
    base_pfn: u64,
    free_area: [FreeArea; NR_PAGE_ORDERS],
    /// Free pages in all lists.
    nr_free: u64,
    /// Pages ever handed over by `free_range` (Linux's `zone->managed_pages`).
    managed_pages: u64,
}

impl<'a> BuddyAllocator<'a> {
    /// A zone covering `meta.len()` frames from `base_pfn`, all reserved until
    /// [`free_range`](Self::free_range) hands them over.
    ///
    /// Panics if the zone has `u32::MAX` or more pages (the list indices are `u32`) or its
    /// end does not fit in a pfn.
    pub fn new(meta: &'a mut [PageMeta], base_pfn: u64) -> Self {
        assert!(
            meta.len() < NONE as usize,
            "page_alloc: zone too large for u32 indices"
        );
        assert!(
            base_pfn
                .checked_add(meta.len() as u64)
                .is_some_and(|end| end <= u64::MAX >> PAGE_SHIFT),
            "page_alloc: zone end overflows"
        );
        meta.fill(PageMeta {
            next: NONE,
            prev: NONE,
            order: 0,
            flags: PG_RESERVED,
        });
        BuddyAllocator {
            meta,
            base_pfn,
            free_area: [FreeArea {
                head: NONE,
                nr_free: 0,
            }; NR_PAGE_ORDERS],
            nr_free: 0,
            managed_pages: 0,
        }
    }

    /// The zone's first pfn (Linux's `zone_start_pfn`).
    pub fn base_pfn(&self) -> u64 {
        self.base_pfn
    }

    /// The first pfn past the zone (Linux's `zone_end_pfn`).
    pub fn end_pfn(&self) -> u64 {
        self.base_pfn + self.meta.len() as u64
    }

    /// Whether `pfn` lies in the zone.
    pub fn contains(&self, pfn: u64) -> bool {
        (self.base_pfn..self.end_pfn()).contains(&pfn)
    }

    /// Pages the zone spans, holes and reserved pages included (`zone->spanned_pages`).
    pub fn spanned_pages(&self) -> u64 {
        self.meta.len() as u64
    }

    /// Pages handed to the allocator so far, free or allocated (Linux's `zone->managed_pages`).
    pub fn total_pages(&self) -> u64 {
        self.managed_pages
    }

    /// Free pages across all orders (Linux's `nr_free_pages`).
    pub fn nr_free_pages(&self) -> u64 {
        self.nr_free
    }

    /// Free blocks of exactly `order` (`zone->free_area[order].nr_free`); 0 past `MAX_ORDER`.
    pub fn free_count(&self, order: usize) -> usize {
        self.free_area.get(order).map_or(0, |area| area.nr_free)
    }

    /// Hands the frames `[pfn_start, pfn_end)` to the allocator as free memory, in the largest
    /// naturally aligned blocks that fit (Linux's `memblock_free_all` → `__free_pages_core`).
    /// The range need not be aligned; it merges with free neighbours handed over earlier.
    ///
    /// Panics if the range is not inside the zone or any of its pages was handed over before:
    /// both are kernel bugs.
    pub fn free_range(&mut self, pfn_start: u64, pfn_end: u64) {
        assert!(
            pfn_start <= pfn_end && pfn_start >= self.base_pfn && pfn_end <= self.end_pfn(),
            "page_alloc: free_range {pfn_start:#x}..{pfn_end:#x} outside zone {:#x}..{:#x}",
            self.base_pfn,
            self.end_pfn()
        );
        let first = self.index(pfn_start);
        for (i, page) in self.meta[first..first + (pfn_end - pfn_start) as usize]
            .iter_mut()
            .enumerate()
        {
            assert!(
                page.flags == PG_RESERVED,
                "page_alloc: free_range: pfn {:#x} handed over twice",
                pfn_start + i as u64
            );
            page.flags = 0;
        }
        self.managed_pages += pfn_end - pfn_start;
        let mut pfn = pfn_start;
        while pfn < pfn_end {
            let mut order = (pfn.trailing_zeros() as usize).min(MAX_ORDER);
            while pfn + (1 << order) > pfn_end {
                order -= 1;
            }
            self.__free_one_page(pfn, order);
            pfn += 1 << order;
        }
    }

    /// Allocates a naturally aligned block of `2^order` pages and returns its first pfn, or
    /// `None` if no block that large is free or `order > MAX_ORDER` (Linux's `alloc_pages`).
    pub fn alloc_pages(&mut self, order: usize) -> Option<u64> {
        if order > MAX_ORDER {
            return None;
        }
        let pfn = self.__rmqueue_smallest(order)?;
        let page = &mut self.meta[self.index(pfn)];
        page.flags = PG_ALLOCATED;
        page.order = order as u8;
        self.nr_free -= 1 << order;
        Some(pfn)
    }

    /// Returns the block of `2^order` pages at `pfn`, merging it with free buddies
    /// (Linux's `__free_pages`).
    ///
    /// Panics unless `pfn`/`order` is exactly a block `alloc_pages` returned and that has not
    /// been freed since: a double free, a free of the wrong order, of a tail page or of a pfn
    /// outside the zone is a kernel bug.
    pub fn free_pages(&mut self, pfn: u64, order: usize) {
        assert!(
            order <= MAX_ORDER && self.contains(pfn),
            "page_alloc: free_pages of pfn {pfn:#x} order {order} outside zone {:#x}..{:#x}",
            self.base_pfn,
            self.end_pfn()
        );
        let page = &mut self.meta[(pfn - self.base_pfn) as usize];
        assert!(
            page.flags == PG_ALLOCATED && usize::from(page.order) == order,
            "page_alloc: free_pages of pfn {pfn:#x} order {order}, which is not an allocated \
             block of that order (double free?)"
        );
        page.flags = 0;
        self.__free_one_page(pfn, order);
    }

    /// Record that the allocated order-0 page `pfn` was freed to a list its caller keeps in
    /// front of this allocator (the kernel's hot pages): it stays allocated as far as the
    /// free lists go, but a second free is caught here, as [`Self::free_pages`] catches one.
    ///
    /// Panics unless `pfn` is an allocated order-0 page not already held.
    pub fn hold_free(&mut self, pfn: u64) {
        assert!(
            self.contains(pfn),
            "page_alloc: hold_free of pfn {pfn:#x} outside the zone"
        );
        let index = self.index(pfn);
        let page = &mut self.meta[index];
        assert!(
            page.flags == PG_ALLOCATED && page.order == 0,
            "page_alloc: free of pfn {pfn:#x}, which is not an allocated page (double free?)"
        );
        page.flags = PG_ALLOCATED | PG_HOT;
    }

    /// Hand out again a page [`Self::hold_free`] recorded (or before freeing it here).
    ///
    /// Panics unless `pfn` is held.
    pub fn take_held(&mut self, pfn: u64) {
        let index = self.index(pfn);
        let page = &mut self.meta[index];
        assert!(
            page.flags == PG_ALLOCATED | PG_HOT,
            "page_alloc: pfn {pfn:#x} is not a held free page"
        );
        page.flags = PG_ALLOCATED;
    }

    /// The metadata index of a pfn known to be in the zone.
    fn index(&self, pfn: u64) -> usize {
        debug_assert!(self.contains(pfn));
        (pfn - self.base_pfn) as usize
    }

    /// Whether the block at `pfn` is a free block of exactly `order` (Linux's `page_is_buddy`).
    fn page_is_buddy(&self, pfn: u64, order: usize) -> bool {
        self.contains(pfn) && {
            let page = &self.meta[self.index(pfn)];
            page.flags == PG_BUDDY && usize::from(page.order) == order
        }
    }

    /// Puts the block at `pfn` on the free lists, merging upwards (Linux's `__free_one_page`).
    /// The block's pages must be owned by the allocator and not on any list.
    fn __free_one_page(&mut self, mut pfn: u64, mut order: usize) {
        self.nr_free += 1 << order;
        while order < MAX_ORDER {
            let buddy = pfn ^ (1 << order); // Linux's __find_buddy_pfn
            if !self.page_is_buddy(buddy, order) {
                break;
            }
            self.del_page_from_free_list(buddy, order);
            pfn &= buddy;
            order += 1;
        }
        self.add_to_free_list(pfn, order);
    }

    /// Takes the smallest free block of at least `order`, splits it down to `order` and
    /// returns its pfn (Linux's `__rmqueue_smallest`).
    fn __rmqueue_smallest(&mut self, order: usize) -> Option<u64> {
        let current = (order..NR_PAGE_ORDERS).find(|&o| self.free_area[o].head != NONE)?;
        let pfn = self.base_pfn + u64::from(self.free_area[current].head);
        self.del_page_from_free_list(pfn, current);
        self.expand(pfn, order, current);
        Some(pfn)
    }

    /// Splits the block of order `high` at `pfn` down to order `low`, freeing the upper
    /// halves (Linux's `expand`).
    fn expand(&mut self, pfn: u64, low: usize, mut high: usize) {
        while high > low {
            high -= 1;
            self.add_to_free_list(pfn + (1 << high), high);
        }
    }

    /// Pushes the block at `pfn` onto `free_area[order]` and marks its head `PG_BUDDY`.
    fn add_to_free_list(&mut self, pfn: u64, order: usize) {
        let index = self.index(pfn);
        let area = &mut self.free_area[order];
        let old_head = area.head;
        self.meta[index] = PageMeta {
            next: old_head,
            prev: NONE,
            order: order as u8,
            flags: PG_BUDDY,
        };
        if old_head != NONE {
            self.meta[old_head as usize].prev = index as u32;
        }
        area.head = index as u32;
        area.nr_free += 1;
    }

    /// Unlinks the free block at `pfn` from `free_area[order]` and clears its `PG_BUDDY`.
    fn del_page_from_free_list(&mut self, pfn: u64, order: usize) {
        let index = self.index(pfn);
        let PageMeta { next, prev, .. } = self.meta[index];
        if prev == NONE {
            self.free_area[order].head = next;
        } else {
            self.meta[prev as usize].next = next;
        }
        if next != NONE {
            self.meta[next as usize].prev = prev;
        }
        self.meta[index] = PageMeta {
            next: NONE,
            prev: NONE,
            order: 0,
            flags: 0,
        };
        self.free_area[order].nr_free -= 1;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeMap;

    /// A zone over a leaked arena, as the kernel has over memblock memory.
    fn zone(npages: usize, base_pfn: u64) -> BuddyAllocator<'static> {
        BuddyAllocator::new(
            Box::leak(vec![PageMeta::EMPTY; npages].into_boxed_slice()),
            base_pfn,
        )
    }

    fn counts(z: &BuddyAllocator<'_>) -> [usize; NR_PAGE_ORDERS] {
        core::array::from_fn(|o| z.free_count(o))
    }

    /// Walks every free list and checks the type's invariants against the counters.
    fn check_invariants(z: &BuddyAllocator<'_>) {
        let mut free_pages = 0u64;
        let mut blocks: Vec<(u64, u64)> = Vec::new();
        for order in 0..NR_PAGE_ORDERS {
            let mut prev = NONE;
            let mut cursor = z.free_area[order].head;
            let mut n = 0;
            while cursor != NONE {
                let page = z.meta[cursor as usize];
                let pfn = z.base_pfn + u64::from(cursor);
                assert_eq!(page.flags, PG_BUDDY);
                assert_eq!(usize::from(page.order), order);
                assert_eq!(page.prev, prev);
                assert_eq!(
                    pfn % (1 << order),
                    0,
                    "block {pfn:#x} misaligned for order {order}"
                );
                assert!(pfn + (1 << order) <= z.end_pfn());
                if order < MAX_ORDER {
                    assert!(
                        !z.page_is_buddy(pfn ^ (1 << order), order),
                        "unmerged buddies"
                    );
                }
                blocks.push((pfn, pfn + (1 << order)));
                free_pages += 1 << order;
                n += 1;
                prev = cursor;
                cursor = page.next;
            }
            assert_eq!(n, z.free_count(order));
        }
        blocks.sort();
        for pair in blocks.windows(2) {
            assert!(pair[0].1 <= pair[1].0, "free blocks overlap: {pair:?}");
        }
        assert_eq!(free_pages, z.nr_free_pages());
    }

    #[test]
    fn meta_sizing() {
        assert_eq!(size_of::<PageMeta>(), 12);
        assert_eq!(meta_pages_needed(0), 0);
        assert_eq!(meta_pages_needed(1), 1);
        assert_eq!(meta_pages_needed(341), 1); // 341 * 12 = 4092
        assert_eq!(meta_pages_needed(342), 2);
        assert_eq!(meta_pages_needed(1 << 18), 768); // 1 GiB of RAM: 3 MiB of metadata
    }

    #[test]
    fn order_and_pfn_helpers() {
        assert_eq!(get_order(0), 0);
        assert_eq!(get_order(1), 0);
        assert_eq!(get_order(4096), 0);
        assert_eq!(get_order(4097), 1);
        assert_eq!(get_order(8192), 1);
        assert_eq!(get_order(8193), 2);
        assert_eq!(get_order(4 << 20), 10);
        assert_eq!(pfn_phys(0x40000), 0x4000_0000);
        assert_eq!(phys_pfn(0x4000_0fff), 0x40000);
    }

    #[test]
    fn new_zone_is_all_reserved() {
        let mut z = zone(2048, 0x40000);
        assert_eq!(z.nr_free_pages(), 0);
        assert_eq!(z.total_pages(), 0);
        assert_eq!(z.spanned_pages(), 2048);
        assert_eq!(z.alloc_pages(0), None);
        assert!(z.contains(0x40000) && z.contains(0x407ff) && !z.contains(0x40800));
    }

    #[test]
    fn aligned_range_becomes_max_order_blocks() {
        let mut z = zone(4096, 0x40000);
        z.free_range(0x40000, 0x41000);
        assert_eq!(counts(&z), [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 4]);
        assert_eq!(z.nr_free_pages(), 4096);
        assert_eq!(z.total_pages(), 4096);
        check_invariants(&z);
    }

    #[test]
    fn unaligned_free_range_splits_into_maximal_aligned_blocks() {
        let base = 0x40000;
        let mut z = zone(4096, base);
        z.free_range(base + 3, base + 3000);
        assert_eq!(counts(&z), [1, 0, 1, 2, 2, 2, 1, 2, 2, 2, 1]);
        assert_eq!(z.nr_free_pages(), 2997);
        check_invariants(&z);
        // Handing over the missing head and tail merges everything into 4 MiB blocks.
        z.free_range(base, base + 3);
        z.free_range(base + 3000, base + 4096);
        assert_eq!(counts(&z), [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 4]);
        check_invariants(&z);
    }

    #[test]
    fn blocks_align_to_pfn_not_zone_index() {
        // A zone starting at an odd pfn: blocks must still be aligned in physical memory.
        let base = 0x40001;
        let mut z = zone(3000, base);
        z.free_range(base, base + 3000);
        check_invariants(&z);
        let mut got = Vec::new();
        for order in [10, 9, 3, 0, 5, 1] {
            let pfn = z.alloc_pages(order).unwrap();
            assert_eq!(pfn % (1 << order), 0, "order {order} block at {pfn:#x}");
            got.push((pfn, order));
        }
        check_invariants(&z);
        for (pfn, order) in got {
            z.free_pages(pfn, order);
        }
        check_invariants(&z);
        assert_eq!(z.nr_free_pages(), 3000);
    }

    #[test]
    fn split_then_merge_restores_one_block() {
        let mut z = zone(1024, 0);
        z.free_range(0, 1024);
        let pfn = z.alloc_pages(0).unwrap();
        assert_eq!(pfn, 0);
        // Splitting a 4 MiB block for one page leaves one free block of each smaller order.
        assert_eq!(counts(&z), [1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0]);
        assert_eq!(z.nr_free_pages(), 1023);
        check_invariants(&z);
        // The next order-0 allocation takes the split-off buddy, not a new split.
        assert_eq!(z.alloc_pages(0), Some(1));
        assert_eq!(counts(&z), [0, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0]);
        z.free_pages(0, 0);
        assert_eq!(counts(&z), [1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0]);
        z.free_pages(1, 0);
        assert_eq!(counts(&z), [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1]);
        assert_eq!(z.nr_free_pages(), 1024);
        check_invariants(&z);
    }

    #[test]
    fn exhaustion_then_free_everything_returns_to_start() {
        let mut z = zone(2048, 0x80000);
        z.free_range(0x80000, 0x80800);
        let start = counts(&z);
        let mut pages = Vec::new();
        while let Some(pfn) = z.alloc_pages(0) {
            pages.push(pfn);
        }
        assert_eq!(pages.len(), 2048);
        assert_eq!(z.nr_free_pages(), 0);
        assert_eq!(z.alloc_pages(0), None);
        assert_eq!(z.alloc_pages(3), None);
        let mut sorted = pages.clone();
        sorted.sort();
        sorted.dedup();
        assert_eq!(sorted.len(), 2048, "a page was handed out twice");
        assert_eq!((sorted[0], sorted[2047]), (0x80000, 0x807ff));
        // Free in a scrambled order.
        for i in 0..pages.len() {
            let j = (i * 7919) % pages.len();
            pages.swap(i, j);
        }
        for pfn in pages {
            z.free_pages(pfn, 0);
        }
        assert_eq!(counts(&z), start);
        assert_eq!(z.nr_free_pages(), 2048);
        check_invariants(&z);
    }

    #[test]
    fn large_order_fails_when_only_fragments_are_free() {
        let mut z = zone(1024, 0);
        z.free_range(0, 1024);
        assert_eq!(z.alloc_pages(MAX_ORDER + 1), None);
        let pfn = z.alloc_pages(0).unwrap();
        assert_eq!(z.alloc_pages(MAX_ORDER), None);
        assert_eq!(z.alloc_pages(9), Some(512));
        assert_eq!(z.alloc_pages(9), None);
        z.free_pages(pfn, 0);
        assert_eq!(z.alloc_pages(9), Some(0));
        assert_eq!(z.nr_free_pages(), 0);
    }

    #[test]
    fn reserved_page_blocks_merging() {
        let mut z = zone(1024, 0);
        z.free_range(0, 512);
        z.free_range(513, 1024);
        // 513..1024 = 1 + 2 + 4 + ... + 256 pages.
        assert_eq!(counts(&z), [1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0]);
        assert_eq!(z.nr_free_pages(), 1023);
        assert_eq!(z.total_pages(), 1023);
        check_invariants(&z);
    }

    #[test]
    fn zone_end_not_a_block_multiple() {
        let mut z = zone(1500, 0);
        z.free_range(0, 1500);
        // 1024 + 256 + 128 + 64 + 16 + 8 + 4.
        assert_eq!(counts(&z), [0, 0, 1, 1, 1, 0, 1, 1, 1, 0, 1]);
        // The order-2 block at 1496 has its buddy (1500) outside the zone: it must not merge.
        let pfn = z.alloc_pages(2).unwrap();
        assert_eq!(pfn, 1496);
        z.free_pages(pfn, 2);
        assert_eq!(counts(&z), [0, 0, 1, 1, 1, 0, 1, 1, 1, 0, 1]);
        check_invariants(&z);
    }

    #[test]
    fn random_alloc_free_keeps_invariants() {
        let mut z = zone(4096, 0x12345);
        z.free_range(0x12345, 0x12345 + 4096);
        let start = counts(&z);
        let mut live: BTreeMap<u64, usize> = BTreeMap::new();
        let mut seed = 0x2545_f491_4f6c_dd1du64;
        let mut next = || {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            seed
        };
        for step in 0..20_000 {
            let r = next();
            if r % 3 != 0 || live.is_empty() {
                let order = (r >> 8) as usize % 6;
                if let Some(pfn) = z.alloc_pages(order) {
                    assert_eq!(pfn % (1 << order), 0);
                    // No overlap with anything live.
                    if let Some((&p, &o)) = live.range(..pfn + (1 << order)).next_back() {
                        assert!(p + (1 << o) <= pfn, "{pfn:#x}/{order} overlaps {p:#x}/{o}");
                    }
                    live.insert(pfn, order);
                }
            } else {
                let k = (r >> 8) as usize % live.len();
                let (&pfn, &order) = live.iter().nth(k).unwrap();
                live.remove(&pfn);
                z.free_pages(pfn, order);
            }
            let used: u64 = live.values().map(|&o| 1u64 << o).sum();
            assert_eq!(z.nr_free_pages() + used, 4096);
            if step % 1000 == 0 {
                check_invariants(&z);
            }
        }
        for (pfn, order) in core::mem::take(&mut live) {
            z.free_pages(pfn, order);
        }
        assert_eq!(counts(&z), start);
        check_invariants(&z);
    }

    #[test]
    #[should_panic(expected = "double free")]
    fn double_free_panics() {
        let mut z = zone(1024, 0);
        z.free_range(0, 1024);
        let pfn = z.alloc_pages(0).unwrap();
        z.free_pages(pfn, 0);
        z.free_pages(pfn, 0);
    }

    #[test]
    #[should_panic(expected = "double free")]
    fn double_free_of_unmerged_block_panics() {
        let mut z = zone(1024, 0);
        z.free_range(0, 1024);
        let a = z.alloc_pages(0).unwrap();
        let _b = z.alloc_pages(0).unwrap(); // keeps `a` from merging
        z.free_pages(a, 0);
        z.free_pages(a, 0);
    }

    #[test]
    #[should_panic(expected = "double free")]
    fn free_with_wrong_order_panics() {
        let mut z = zone(1024, 0);
        z.free_range(0, 1024);
        let pfn = z.alloc_pages(2).unwrap();
        z.free_pages(pfn, 1);
    }

    #[test]
    #[should_panic(expected = "double free")]
    fn free_of_tail_page_panics() {
        let mut z = zone(1024, 0);
        z.free_range(0, 1024);
        let pfn = z.alloc_pages(2).unwrap();
        z.free_pages(pfn + 1, 0);
    }

    #[test]
    #[should_panic(expected = "double free")]
    fn free_of_reserved_page_panics() {
        let mut z = zone(1024, 0);
        z.free_range(1, 1024);
        z.free_pages(0, 0);
    }

    #[test]
    #[should_panic(expected = "outside zone")]
    fn free_outside_zone_panics() {
        let mut z = zone(1024, 0x100);
        z.free_range(0x100, 0x500);
        z.free_pages(0x500, 0);
    }

    #[test]
    #[should_panic(expected = "outside zone")]
    fn free_range_outside_zone_panics() {
        let mut z = zone(1024, 0x100);
        z.free_range(0xff, 0x200);
    }

    #[test]
    #[should_panic(expected = "handed over twice")]
    fn free_range_twice_panics() {
        let mut z = zone(1024, 0);
        z.free_range(0, 100);
        z.free_range(50, 150);
    }

    #[test]
    fn held_pages_stay_out_of_the_free_lists_and_catch_double_frees() {
        let mut z = zone(16, 0x100);
        z.free_range(0x100, 0x110);
        let a = z.alloc_pages(0).unwrap();
        let free = z.nr_free_pages();
        z.hold_free(a);
        assert_eq!(
            z.nr_free_pages(),
            free,
            "held pages are not on the free lists"
        );
        check_invariants(&z);
        z.take_held(a);
        z.free_pages(a, 0);
        assert_eq!(z.nr_free_pages(), 16);
        check_invariants(&z);
    }

    #[test]
    #[should_panic(expected = "double free")]
    fn holding_a_page_twice_panics() {
        let mut z = zone(16, 0x100);
        z.free_range(0x100, 0x110);
        let a = z.alloc_pages(0).unwrap();
        z.hold_free(a);
        z.hold_free(a);
    }

    #[test]
    #[should_panic(expected = "double free")]
    fn holding_a_free_page_panics() {
        let mut z = zone(16, 0x100);
        z.free_range(0x100, 0x110);
        let a = z.alloc_pages(0).unwrap();
        z.free_pages(a, 0);
        z.hold_free(a);
    }
}
