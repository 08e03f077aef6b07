//! memblock: the boot-time physical memory map, before the page allocator exists.
//!
//! Mirrors Linux's `mm/memblock.c`. Early boot learns which physical ranges are RAM (from the
//! device tree's `/memory` nodes) and which of those are already taken (the kernel Image, the
//! DTB, the initrd, `/reserved-memory`). [`Memblock`] keeps the two lists — `memory` and
//! `reserved` — and answers the questions early boot asks: how much RAM is there, where does it
//! start and end, which ranges are free, and "give me `size` bytes aligned to `align`" (the
//! early page tables and the page allocator's metadata come from here). Once the buddy
//! allocator runs, the free ranges are handed over to it and memblock is retired, as Linux's
//! `memblock_free_all()` does.
//!
//! Memblock runs before any heap exists, so each list is a fixed array of
//! [`INIT_MEMBLOCK_REGIONS`] regions (Linux starts with the same 128 and doubles the arrays
//! once slab is up; Cradle never needs to). Running out of slots is an error value,
//! [`MemblockError::Full`], as is a range whose end does not fit in 64 bits.
//!
//! Linux names: `add` is `memblock_add`, `reserve` is `memblock_reserve`, `remove` is
//! `memblock_remove`, `free` is `memblock_phys_free` (`memblock_free` before 5.16), `alloc` is
//! `memblock_phys_alloc`, `iter_free` is `for_each_free_mem_range`.

use core::fmt;

/// How many regions each of `memory` and `reserved` can hold (Linux's `INIT_MEMBLOCK_REGIONS`).
pub const INIT_MEMBLOCK_REGIONS: usize = 128;

/// Why a memblock operation failed. The lists are unchanged when one is returned.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MemblockError {
    /// The region array has no slot left for the range (Linux would double the array).
    Full,
    /// `base + size` does not fit in 64 bits.
    Overflow,
}

impl fmt::Display for MemblockError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            MemblockError::Full => f.write_str("memblock region array full"),
            MemblockError::Overflow => f.write_str("memblock range overflows the address space"),
        }
    }
}

/// One physical range `[base, base + size)` (Linux's `struct memblock_region`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct MemblockRegion {
    pub base: u64,
    pub size: u64,
}

impl MemblockRegion {
    /// The first address past the region. Regions stored in a [`MemblockType`] never overflow.
    pub const fn end(&self) -> u64 {
        self.base + self.size
    }
}

/// One list of regions (Linux's `struct memblock_type`).
///
/// # Invariants
///
/// `regions[..cnt]` are sorted by base, non-empty, and neither overlap nor touch (touching or
/// overlapping ranges are merged on insertion), and every `base + size` fits in a `u64`.
#[derive(Clone, Debug)]
pub struct MemblockType {
    cnt: usize,
    regions: [MemblockRegion; INIT_MEMBLOCK_REGIONS],
}

impl MemblockType {
    /// An empty list.
    pub const fn new() -> Self {
        MemblockType {
            cnt: 0,
            regions: [MemblockRegion { base: 0, size: 0 }; INIT_MEMBLOCK_REGIONS],
        }
    }

    /// The regions, sorted by base.
    pub fn regions(&self) -> &[MemblockRegion] {
        &self.regions[..self.cnt]
    }

    /// The sum of the regions' sizes (Linux's `memblock_type.total_size`).
    pub fn total_size(&self) -> u64 {
        self.regions().iter().map(|r| r.size).sum()
    }

    /// Adds `[base, end)`, merging it with every region it overlaps or touches
    /// (Linux's `memblock_add_range`).
    fn add_range(&mut self, base: u64, end: u64) -> Result<(), MemblockError> {
        // Regions first..last overlap or touch the new range; they collapse into one.
        let first = self.regions().partition_point(|r| r.end() < base);
        let last = self.regions().partition_point(|r| r.base <= end);
        if first == last {
            if self.cnt == INIT_MEMBLOCK_REGIONS {
                return Err(MemblockError::Full);
            }
            self.regions.copy_within(first..self.cnt, first + 1);
            self.cnt += 1;
            self.regions[first] = MemblockRegion {
                base,
                size: end - base,
            };
            return Ok(());
        }
        let merged_base = base.min(self.regions[first].base);
        let merged_end = end.max(self.regions[last - 1].end());
        self.regions[first] = MemblockRegion {
            base: merged_base,
            size: merged_end - merged_base,
        };
        self.regions.copy_within(last..self.cnt, first + 1);
        self.cnt -= last - first - 1;
        Ok(())
    }

    /// Removes `[base, end)`, trimming or splitting the regions it touches
    /// (Linux's `memblock_isolate_range` + `memblock_remove_range`).
    fn remove_range(&mut self, base: u64, end: u64) -> Result<(), MemblockError> {
        // Regions first..last overlap the range.
        let first = self.regions().partition_point(|r| r.end() <= base);
        let last = self.regions().partition_point(|r| r.base < end);
        if first >= last {
            return Ok(());
        }
        let head = self.regions[first];
        let tail = self.regions[last - 1];
        let left = (head.base < base).then(|| MemblockRegion {
            base: head.base,
            size: base - head.base,
        });
        let right = (tail.end() > end).then(|| MemblockRegion {
            base: end,
            size: tail.end() - end,
        });
        let kept = usize::from(left.is_some()) + usize::from(right.is_some());
        let new_cnt = self.cnt - (last - first) + kept;
        if new_cnt > INIT_MEMBLOCK_REGIONS {
            return Err(MemblockError::Full);
        }
        self.regions.copy_within(last..self.cnt, first + kept);
        for (slot, piece) in (first..).zip([left, right].into_iter().flatten()) {
            self.regions[slot] = piece;
        }
        self.cnt = new_cnt;
        Ok(())
    }
}

impl Default for MemblockType {
    fn default() -> Self {
        Self::new()
    }
}

/// The boot memory map (Linux's `struct memblock`): RAM, and what of it is taken.
///
/// Reservations may lie partly or wholly outside `memory` (Linux allows that too: the DTB may
/// sit in memory the device tree does not list); they simply never show up as free.
#[derive(Clone, Debug, Default)]
pub struct Memblock {
    pub memory: MemblockType,
    pub reserved: MemblockType,
}

/// `[base, base + size)` as `(base, end)`; `None` for an empty range.
fn range_end(base: u64, size: u64) -> Result<Option<u64>, MemblockError> {
    if size == 0 {
        return Ok(None);
    }
    base.checked_add(size)
        .map(Some)
        .ok_or(MemblockError::Overflow)
}

impl Memblock {
    /// An empty map, usable in a `static` initialiser.
    pub const fn new() -> Self {
        Memblock {
            memory: MemblockType::new(),
            reserved: MemblockType::new(),
        }
    }

    /// Declares `[base, base + size)` as RAM (Linux's `memblock_add`).
    pub fn add(&mut self, base: u64, size: u64) -> Result<(), MemblockError> {
        match range_end(base, size)? {
            Some(end) => self.memory.add_range(base, end),
            None => Ok(()),
        }
    }

    /// Marks `[base, base + size)` as in use (Linux's `memblock_reserve`).
    pub fn reserve(&mut self, base: u64, size: u64) -> Result<(), MemblockError> {
        match range_end(base, size)? {
            Some(end) => self.reserved.add_range(base, end),
            None => Ok(()),
        }
    }

    /// Takes `[base, base + size)` out of RAM, splitting a region if the range lies inside it
    /// (Linux's `memblock_remove`). Fails with [`MemblockError::Full`] only if that split
    /// needs a slot the array does not have.
    pub fn remove(&mut self, base: u64, size: u64) -> Result<(), MemblockError> {
        match range_end(base, size)? {
            Some(end) => self.memory.remove_range(base, end),
            None => Ok(()),
        }
    }

    /// Un-reserves `[base, base + size)` (Linux's `memblock_phys_free`).
    pub fn free(&mut self, base: u64, size: u64) -> Result<(), MemblockError> {
        match range_end(base, size)? {
            Some(end) => self.reserved.remove_range(base, end),
            None => Ok(()),
        }
    }

    /// Total bytes of RAM (Linux's `memblock_phys_mem_size`).
    pub fn phys_mem_size(&self) -> u64 {
        self.memory.total_size()
    }

    /// Total bytes reserved, including reservations outside RAM (`memblock_reserved_size`).
    pub fn reserved_size(&self) -> u64 {
        self.reserved.total_size()
    }

    /// The lowest RAM address (`memblock_start_of_DRAM`); `None` before any `add`.
    pub fn start_of_dram(&self) -> Option<u64> {
        self.memory.regions().first().map(|r| r.base)
    }

    /// The first address past the highest RAM (`memblock_end_of_DRAM`); `None` if no RAM.
    pub fn end_of_dram(&self) -> Option<u64> {
        self.memory.regions().last().map(|r| r.end())
    }

    /// Whether any byte of `[base, base + size)` is reserved (`memblock_is_region_reserved`).
    pub fn is_region_reserved(&self, base: u64, size: u64) -> bool {
        let end = base.saturating_add(size);
        size != 0
            && self
                .reserved
                .regions()
                .iter()
                .any(|r| r.base < end && base < r.end())
    }

    /// The free ranges, lowest first: `memory` minus `reserved` (`for_each_free_mem_range`).
    pub fn iter_free(&self) -> FreeRanges<'_> {
        FreeRanges {
            memory: self.memory.regions(),
            reserved: self.reserved.regions(),
            mem_idx: 0,
            res_idx: 0,
            cursor: 0,
        }
    }

    /// Allocates `size` bytes aligned to `align` from the highest free range that fits, and
    /// reserves them (Linux's `memblock_phys_alloc`, which also allocates top-down).
    ///
    /// `align` must be a power of two. Returns `None` if `size` is zero, `align` is not a
    /// power of two, nothing fits, or the reserved array is full.
    pub fn alloc(&mut self, size: u64, align: u64) -> Option<u64> {
        self.alloc_range(size, align, 0, u64::MAX)
    }

    /// Like [`Memblock::alloc`], but only from `[start, end)` (`memblock_phys_alloc_range`),
    /// e.g. to keep an allocation below the end of the linear map.
    pub fn alloc_range(&mut self, size: u64, align: u64, start: u64, end: u64) -> Option<u64> {
        if size == 0 || !align.is_power_of_two() {
            return None;
        }
        // Free ranges come lowest first, so the last fit is the highest.
        let mut found = None;
        for free in self.iter_free() {
            let lo = free.base.max(start);
            let hi = free.end().min(end);
            let Some(top) = hi.checked_sub(size) else {
                continue;
            };
            let candidate = top & !(align - 1);
            if candidate >= lo {
                found = Some(candidate);
            }
        }
        let base = found?;
        self.reserve(base, size).ok()?;
        Some(base)
    }
}

/// Iterator over `memory` minus `reserved`, from [`Memblock::iter_free`].
#[derive(Clone, Debug)]
pub struct FreeRanges<'a> {
    memory: &'a [MemblockRegion],
    reserved: &'a [MemblockRegion],
    mem_idx: usize,
    res_idx: usize,
    /// Everything below this address has been yielded or skipped.
    cursor: u64,
}

impl Iterator for FreeRanges<'_> {
    type Item = MemblockRegion;

    fn next(&mut self) -> Option<MemblockRegion> {
        loop {
            let mem = self.memory.get(self.mem_idx)?;
            let start = self.cursor.max(mem.base);
            let end = mem.end();
            if start >= end {
                self.mem_idx += 1;
                continue;
            }
            while self
                .reserved
                .get(self.res_idx)
                .is_some_and(|r| r.end() <= start)
            {
                self.res_idx += 1;
            }
            match self.reserved.get(self.res_idx) {
                Some(res) if res.base < end => {
                    self.cursor = res.end();
                    if res.base > start {
                        return Some(MemblockRegion {
                            base: start,
                            size: res.base - start,
                        });
                    }
                }
                _ => {
                    self.cursor = end;
                    self.mem_idx += 1;
                    return Some(MemblockRegion {
                        base: start,
                        size: end - start,
                    });
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MIB: u64 = 1 << 20;

    fn r(base: u64, size: u64) -> MemblockRegion {
        MemblockRegion { base, size }
    }

    fn free(mb: &Memblock) -> Vec<(u64, u64)> {
        mb.iter_free().map(|f| (f.base, f.end())).collect()
    }

    #[test]
    fn add_sorts_and_merges_overlapping_and_adjacent() {
        let mut mb = Memblock::new();
        mb.add(0x5000, 0x1000).unwrap();
        mb.add(0x1000, 0x1000).unwrap();
        mb.add(0x9000, 0x1000).unwrap();
        assert_eq!(
            mb.memory.regions(),
            &[r(0x1000, 0x1000), r(0x5000, 0x1000), r(0x9000, 0x1000)]
        );
        // Touches the first region on the right.
        mb.add(0x2000, 0x1000).unwrap();
        assert_eq!(mb.memory.regions()[0], r(0x1000, 0x2000));
        // Bridges the 2nd and 3rd and overlaps both.
        mb.add(0x5800, 0x4000).unwrap();
        assert_eq!(mb.memory.regions(), &[r(0x1000, 0x2000), r(0x5000, 0x5000)]);
        // Swallows everything.
        mb.add(0, 0x20000).unwrap();
        assert_eq!(mb.memory.regions(), &[r(0, 0x20000)]);
        assert_eq!(mb.phys_mem_size(), 0x20000);
    }

    #[test]
    fn zero_size_is_a_noop_and_overflow_is_an_error() {
        let mut mb = Memblock::new();
        assert_eq!(mb.add(0x1000, 0), Ok(()));
        assert_eq!(mb.reserve(u64::MAX, 0), Ok(()));
        assert!(mb.memory.regions().is_empty());
        assert_eq!(
            mb.add(u64::MAX - 0xfff, 0x1000),
            Err(MemblockError::Overflow)
        );
        assert_eq!(mb.reserve(u64::MAX, 2), Err(MemblockError::Overflow));
        assert_eq!(mb.remove(1, u64::MAX), Err(MemblockError::Overflow));
        assert_eq!(mb.free(2, u64::MAX), Err(MemblockError::Overflow));
        // The largest representable range is fine.
        assert_eq!(mb.add(u64::MAX - 0xfff, 0xfff), Ok(()));
        assert_eq!(mb.end_of_dram(), Some(u64::MAX));
    }

    #[test]
    fn capacity_exhaustion_is_full_and_leaves_list_unchanged() {
        let mut mb = Memblock::new();
        for i in 0..INIT_MEMBLOCK_REGIONS as u64 {
            mb.add(i * 0x2000, 0x1000).unwrap();
        }
        let before = mb.memory.regions().to_vec();
        assert_eq!(mb.add(0x1000_0000, 0x1000), Err(MemblockError::Full));
        assert_eq!(mb.memory.regions(), &before[..]);
        // Merging into existing regions still works when full.
        mb.add(0x1000, 0x1000).unwrap();
        assert_eq!(mb.memory.regions().len(), INIT_MEMBLOCK_REGIONS - 1);
        assert_eq!(mb.memory.regions()[0], r(0, 0x3000));
    }

    #[test]
    fn remove_trims_splits_and_drops() {
        let mut mb = Memblock::new();
        mb.add(0x10000, 0x10000).unwrap();
        mb.add(0x40000, 0x10000).unwrap();
        // Split the first in two.
        mb.remove(0x14000, 0x2000).unwrap();
        assert_eq!(
            mb.memory.regions(),
            &[r(0x10000, 0x4000), r(0x16000, 0xa000), r(0x40000, 0x10000)]
        );
        // Trim the tail of the 2nd, drop nothing between, trim the head of the 3rd.
        mb.remove(0x1f000, 0x22000).unwrap();
        assert_eq!(
            mb.memory.regions(),
            &[r(0x10000, 0x4000), r(0x16000, 0x9000), r(0x41000, 0xf000)]
        );
        // Remove one region exactly.
        mb.remove(0x16000, 0x9000).unwrap();
        assert_eq!(
            mb.memory.regions(),
            &[r(0x10000, 0x4000), r(0x41000, 0xf000)]
        );
        // Removing a hole is a no-op.
        mb.remove(0x20000, 0x1000).unwrap();
        assert_eq!(mb.memory.regions().len(), 2);
        assert_eq!(mb.phys_mem_size(), 0x4000 + 0xf000);
        // Remove everything.
        mb.remove(0, 0x100000).unwrap();
        assert!(mb.memory.regions().is_empty());
        assert_eq!(mb.start_of_dram(), None);
    }

    #[test]
    fn remove_split_fails_when_full() {
        let mut mb = Memblock::new();
        for i in 0..INIT_MEMBLOCK_REGIONS as u64 {
            mb.add(i * 0x4000, 0x3000).unwrap();
        }
        assert_eq!(mb.remove(0x1000, 0x1000), Err(MemblockError::Full));
        assert_eq!(mb.memory.regions()[0], r(0, 0x3000));
        // Trimming needs no extra slot.
        mb.remove(0x2000, 0x1000).unwrap();
        assert_eq!(mb.memory.regions()[0], r(0, 0x2000));
    }

    #[test]
    fn free_ranges_subtract_overlapping_adjacent_and_contained_reservations() {
        let mut mb = Memblock::new();
        mb.add(0x4000_0000, 0x100_0000).unwrap(); // 16 MiB at 1 GiB
        mb.add(0x8000_0000, 0x10_0000).unwrap(); // 1 MiB at 2 GiB
                                                 // Two overlapping reservations become one.
        mb.reserve(0x4010_0000, 0x10_0000).unwrap();
        mb.reserve(0x4018_0000, 0x10_0000).unwrap();
        // Adjacent to that one.
        mb.reserve(0x4028_0000, 0x1000).unwrap();
        // At the very start of RAM, and one straddling its start.
        mb.reserve(0x3fff_0000, 0x2_0000).unwrap();
        // Contained, in the middle.
        mb.reserve(0x4080_0000, 0x1000).unwrap();
        // Straddling the end of the first region and the whole gap and the whole second bank.
        mb.reserve(0x40ff_f000, 0x4000_2000).unwrap();
        // Wholly outside memory.
        mb.reserve(0x1000, 0x1000).unwrap();
        mb.reserve(0x9000_0000, 0x1000).unwrap();
        assert_eq!(
            free(&mb),
            vec![
                (0x4001_0000, 0x4010_0000),
                (0x4028_1000, 0x4080_0000),
                (0x4080_1000, 0x40ff_f000),
            ]
        );
        // Free the straddling one: the second bank comes back.
        mb.free(0x40ff_f000, 0x4000_2000).unwrap();
        let f = free(&mb);
        assert_eq!(f[2], (0x4080_1000, 0x4100_0000));
        assert_eq!(f[3], (0x8000_0000, 0x8010_0000));
        assert_eq!(f.len(), 4);
    }

    #[test]
    fn free_ranges_with_reservation_covering_everything_is_empty() {
        let mut mb = Memblock::new();
        mb.add(0x1000, 0x1000).unwrap();
        mb.add(0x3000, 0x1000).unwrap();
        mb.reserve(0, 0x10000).unwrap();
        assert_eq!(free(&mb), vec![]);
        mb.free(0x3800, 0x100).unwrap();
        assert_eq!(free(&mb), vec![(0x3800, 0x3900)]);
    }

    #[test]
    fn free_ranges_total_equals_memory_minus_reserved_in_memory() {
        let mut mb = Memblock::new();
        mb.add(0, 64 * MIB).unwrap();
        mb.reserve(MIB, MIB).unwrap();
        mb.reserve(10 * MIB, 3 * MIB).unwrap();
        mb.reserve(63 * MIB, 2 * MIB).unwrap(); // 1 MiB of it outside memory
        let total: u64 = mb.iter_free().map(|f| f.size).sum();
        assert_eq!(total, 64 * MIB - MIB - 3 * MIB - MIB);
        assert_eq!(mb.reserved_size(), 6 * MIB);
    }

    #[test]
    fn free_splits_reservation() {
        let mut mb = Memblock::new();
        mb.reserve(0x1000, 0x3000).unwrap();
        mb.free(0x2000, 0x1000).unwrap();
        assert_eq!(
            mb.reserved.regions(),
            &[r(0x1000, 0x1000), r(0x3000, 0x1000)]
        );
        assert!(mb.is_region_reserved(0x1fff, 1));
        assert!(!mb.is_region_reserved(0x2000, 0x1000));
        assert!(mb.is_region_reserved(0x2fff, 2));
        assert!(!mb.is_region_reserved(0x1000, 0));
    }

    #[test]
    fn alloc_is_top_down_aligned_and_reserves() {
        let mut mb = Memblock::new();
        mb.add(0x4000_0000, 0x40_0000).unwrap(); // [1 GiB, 1 GiB + 4 MiB)
        mb.reserve(0x403f_f000, 0x1000).unwrap(); // last page taken
        let a = mb.alloc(0x1000, 0x1000).unwrap();
        assert_eq!(a, 0x403f_e000);
        // 2 MiB aligned: the top 2 MiB block has a reserved page, so the lower one.
        let b = mb.alloc(0x20_0000, 0x20_0000).unwrap();
        assert_eq!(b, 0x4000_0000);
        assert!(mb.is_region_reserved(b, 0x20_0000));
        // Now only [1 GiB + 2 MiB, 1 GiB + 4 MiB - 8 KiB) is free.
        assert_eq!(free(&mb), vec![(0x4020_0000, 0x403f_e000)]);
        let c = mb.alloc(0x100, 0x10000).unwrap();
        assert_eq!(c, 0x403f_0000);
        assert_eq!(c % 0x10000, 0);
        // Adjacent reservations merge: no new slot per allocation.
        let d = mb.alloc(0x1000, 0x1000).unwrap();
        assert_eq!(d, 0x403f_d000);
        assert_eq!(
            mb.reserved.regions(),
            &[
                r(0x4000_0000, 0x20_0000),
                r(0x403f_0000, 0x100),
                r(0x403f_d000, 0x3000)
            ]
        );
    }

    #[test]
    fn alloc_failures_return_none() {
        let mut mb = Memblock::new();
        assert_eq!(mb.alloc(0x1000, 0x1000), None); // no memory at all
        mb.add(0x1000, 0x3000).unwrap();
        assert_eq!(mb.alloc(0, 0x1000), None);
        assert_eq!(mb.alloc(0x1000, 0), None);
        assert_eq!(mb.alloc(0x1000, 0x1800), None);
        assert_eq!(mb.alloc(0x4000, 0x1000), None); // too big
        assert_eq!(mb.alloc(0x2000, 0x4000), None); // fits only unaligned
        assert_eq!(mb.alloc(u64::MAX, 1), None);
        assert_eq!(mb.reserved_size(), 0);
        assert_eq!(mb.alloc(0x3000, 0x1000), Some(0x1000));
        assert_eq!(mb.alloc(1, 1), None);
    }

    #[test]
    fn alloc_range_respects_limits() {
        let mut mb = Memblock::new();
        mb.add(0, 0x10_0000).unwrap();
        assert_eq!(mb.alloc_range(0x1000, 0x1000, 0, 0x8_0000), Some(0x7_f000));
        assert_eq!(mb.alloc_range(0x1000, 0x1000, 0x7_f000, 0x8_0000), None);
        assert_eq!(mb.alloc_range(0x1000, 0x1000, 0x10_0000, u64::MAX), None);
        assert_eq!(
            mb.alloc_range(0x800, 0x800, 0x7_e800, 0x8_0000),
            Some(0x7_e800)
        );
    }

    #[test]
    fn start_and_end_of_dram() {
        let mut mb = Memblock::new();
        assert_eq!(mb.end_of_dram(), None);
        mb.add(0x8000_0000, 0x1000).unwrap();
        mb.add(0x4000_0000, 0x1000).unwrap();
        assert_eq!(mb.start_of_dram(), Some(0x4000_0000));
        assert_eq!(mb.end_of_dram(), Some(0x8000_1000));
    }

    #[test]
    fn const_new_works_in_a_static() {
        static EMPTY: Memblock = Memblock::new();
        assert_eq!(EMPTY.phys_mem_size(), 0);
        assert_eq!(EMPTY.iter_free().count(), 0);
    }
}
