//! The VMAs of an address space: a sorted set of mapped ranges, split, merged and searched.
//!
//! Mirrors the `vm_area_struct` bookkeeping of Linux's `mm/mmap.c` and `mm/mprotect.c`
//! (`find_vma`, `vma_lookup`, `get_unmapped_area`'s top-down search, `do_vmi_munmap`'s splits,
//! `mprotect_fixup`, `vma_merge`), simplified: Linux keeps VMAs in a maple tree; Cradle keeps at
//! most `N` of them (Linux's `max_map_count`) in a sorted vector on the heap, O(n) to edit,
//! which is fine for the hundreds of mappings a process with many threads has (each thread
//! stack is a mapping and its guard page another).
//!
//! Only the ranges are kept here; the page tables behind them are [`mmu`]'s, and the callers
//! (`mmap`, `munmap`, `mprotect`, the fault handler) keep the two in step: [`Vmas::unmap`]
//! reports every range it removed so the caller can unmap and free its pages.
//!
//! Errors map to Linux's errnos: [`VmaError::NoSpace`] and [`VmaError::Unmapped`] are
//! `ENOMEM`, [`VmaError::Invalid`] is `EINVAL`, [`VmaError::Overlap`] is `EEXIST` (as for
//! `MAP_FIXED_NOREPLACE`).
//!
//! [`mmu`]: crate::arch::mmu

use core::fmt;
use core::ops::{BitAnd, BitOr, BitOrAssign};

use crate::arch::memory::{PAGE_SHIFT, PAGE_SIZE};

/// What a VMA allows and what it is (Linux's `vm_flags_t`, same bit values where Linux has
/// the flag).
#[derive(Clone, Copy, Default, PartialEq, Eq, Hash)]
pub struct VmFlags(u64);

impl VmFlags {
    /// No flags.
    pub const NONE: VmFlags = VmFlags(0);
    /// Pages may be read (`VM_READ`).
    pub const READ: VmFlags = VmFlags(0x1);
    /// Pages may be written (`VM_WRITE`).
    pub const WRITE: VmFlags = VmFlags(0x2);
    /// Pages may be executed (`VM_EXEC`).
    pub const EXEC: VmFlags = VmFlags(0x4);
    /// Writes are seen by every mapper, not copied on write (`VM_SHARED`).
    pub const SHARED: VmFlags = VmFlags(0x8);
    /// `mprotect` may add `READ` (`VM_MAYREAD`).
    pub const MAYREAD: VmFlags = VmFlags(0x10);
    /// `mprotect` may add `WRITE` (`VM_MAYWRITE`).
    pub const MAYWRITE: VmFlags = VmFlags(0x20);
    /// `mprotect` may add `EXEC` (`VM_MAYEXEC`).
    pub const MAYEXEC: VmFlags = VmFlags(0x40);
    /// The mapping may be shared (`VM_MAYSHARE`).
    pub const MAYSHARE: VmFlags = VmFlags(0x80);
    /// The VMA grows down on faults just below it: a stack (`VM_GROWSDOWN`).
    pub const GROWSDOWN: VmFlags = VmFlags(0x100);
    /// Pages are faulted in and kept (`VM_LOCKED`: `mlock`).
    pub const LOCKED: VmFlags = VmFlags(0x2000);
    /// Device memory: no struct pages, never merged (`VM_IO`).
    pub const IO: VmFlags = VmFlags(0x4000);
    /// Not copied by `fork` (`VM_DONTCOPY`).
    pub const DONTCOPY: VmFlags = VmFlags(0x2_0000);
    /// Locked, but pages come in as they are touched (`VM_LOCKONFAULT`: `MLOCK_ONFAULT`).
    pub const LOCKONFAULT: VmFlags = VmFlags(0x8_0000);
    /// Anonymous memory, zero-filled on first touch. Cradle's: Linux tells anonymous VMAs by
    /// their missing `vm_file`.
    pub const ANON: VmFlags = VmFlags(1 << 32);
    /// The initial thread's stack. Cradle's: Linux's `VM_STACK` is an alias of `GROWSDOWN`.
    pub const STACK: VmFlags = VmFlags(1 << 33);
    /// The access bits `mprotect` changes.
    pub const ACCESS: VmFlags = VmFlags(0x7);

    /// Flags from raw bits.
    pub const fn from_bits(bits: u64) -> Self {
        VmFlags(bits)
    }

    /// The raw bits.
    pub const fn bits(self) -> u64 {
        self.0
    }

    /// Whether every flag of `other` is set.
    pub const fn contains(self, other: VmFlags) -> bool {
        self.0 & other.0 == other.0
    }

    /// Whether any flag of `other` is set.
    pub const fn intersects(self, other: VmFlags) -> bool {
        self.0 & other.0 != 0
    }

    /// These flags less those of `other`.
    pub const fn without(self, other: VmFlags) -> Self {
        VmFlags(self.0 & !other.0)
    }
}

impl BitOr for VmFlags {
    type Output = VmFlags;

    fn bitor(self, other: VmFlags) -> VmFlags {
        VmFlags(self.0 | other.0)
    }
}

impl BitOrAssign for VmFlags {
    fn bitor_assign(&mut self, other: VmFlags) {
        self.0 |= other.0;
    }
}

impl BitAnd for VmFlags {
    type Output = VmFlags;

    fn bitand(self, other: VmFlags) -> VmFlags {
        VmFlags(self.0 & other.0)
    }
}

impl fmt::Debug for VmFlags {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        const NAMES: [(VmFlags, &str); 13] = [
            (VmFlags::READ, "READ"),
            (VmFlags::WRITE, "WRITE"),
            (VmFlags::EXEC, "EXEC"),
            (VmFlags::SHARED, "SHARED"),
            (VmFlags::MAYREAD, "MAYREAD"),
            (VmFlags::MAYWRITE, "MAYWRITE"),
            (VmFlags::MAYEXEC, "MAYEXEC"),
            (VmFlags::MAYSHARE, "MAYSHARE"),
            (VmFlags::GROWSDOWN, "GROWSDOWN"),
            (VmFlags::IO, "IO"),
            (VmFlags::DONTCOPY, "DONTCOPY"),
            (VmFlags::ANON, "ANON"),
            (VmFlags::STACK, "STACK"),
        ];
        let mut rest = *self;
        let mut first = true;
        for (flag, name) in NAMES {
            if self.contains(flag) {
                f.write_str(if first { "" } else { " | " })?;
                f.write_str(name)?;
                rest = rest.without(flag);
                first = false;
            }
        }
        if rest.0 != 0 || first {
            f.write_str(if first { "" } else { " | " })?;
            write!(f, "{:#x}", rest.0)?;
        }
        Ok(())
    }
}

/// One mapped range (the part of Linux's `vm_area_struct` Cradle keeps).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Vma {
    /// First address, page aligned.
    pub start: u64,
    /// One past the last address, page aligned, above `start`.
    pub end: u64,
    /// What the range allows and is.
    pub flags: VmFlags,
    /// Offset of `start` in the file, in pages (`vm_pgoff`); for anonymous memory Linux uses
    /// `start >> PAGE_SHIFT`, as [`Vma::anon`] does.
    pub pgoff: u64,
    /// The file mapped, as an opaque id; `None` for anonymous memory.
    pub file: Option<u32>,
}

impl Vma {
    /// Anonymous memory `[start, end)` with `flags` (plus [`VmFlags::ANON`]).
    pub const fn anon(start: u64, end: u64, flags: VmFlags) -> Vma {
        Vma {
            start,
            end,
            flags: VmFlags(flags.0 | VmFlags::ANON.0),
            pgoff: start >> PAGE_SHIFT,
            file: None,
        }
    }

    /// `[start, end)` of `file` from page `pgoff`, with `flags`.
    pub const fn file(start: u64, end: u64, flags: VmFlags, file: u32, pgoff: u64) -> Vma {
        Vma {
            start,
            end,
            flags,
            pgoff,
            file: Some(file),
        }
    }

    /// Bytes mapped.
    pub const fn len(&self) -> u64 {
        self.end - self.start
    }

    /// Whether the range is empty (never true of a VMA in a [`Vmas`]).
    pub const fn is_empty(&self) -> bool {
        self.start >= self.end
    }

    /// Whether `addr` lies in the range.
    pub const fn contains(&self, addr: u64) -> bool {
        self.start <= addr && addr < self.end
    }

    /// Whether no file backs the range.
    pub const fn is_anonymous(&self) -> bool {
        self.file.is_none()
    }

    /// The part `[start, end)` of this VMA, with `pgoff` moved along.
    const fn slice(&self, start: u64, end: u64) -> Vma {
        Vma {
            start,
            end,
            flags: self.flags,
            pgoff: self.pgoff + ((start - self.start) >> PAGE_SHIFT),
            file: self.file,
        }
    }

    /// Whether `next`, which starts where this ends, can become part of this VMA (Linux's
    /// `is_mergeable_vma`, for anonymous memory only).
    fn can_merge(&self, next: &Vma) -> bool {
        self.end == next.start
            && self.flags == next.flags
            && self.is_anonymous()
            && next.is_anonymous()
            && !self.flags.intersects(VmFlags::IO)
    }
}

/// Why a VMA operation failed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum VmaError {
    /// No gap is large enough, or the array is full (`ENOMEM`).
    NoSpace,
    /// The new range overlaps a VMA (`EEXIST`).
    Overlap,
    /// Unaligned, empty, inverted or wrapping range, or contradictory flags (`EINVAL`).
    Invalid,
    /// Part of the range is not mapped (`ENOMEM` from `mprotect`).
    Unmapped,
}

impl fmt::Display for VmaError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            VmaError::NoSpace => "no space for the mapping",
            VmaError::Overlap => "overlaps an existing mapping",
            VmaError::Invalid => "invalid range or flags",
            VmaError::Unmapped => "range not mapped",
        })
    }
}

/// The VMAs of one address space, at most `N` of them (Linux's `mm->mm_mt` and `map_count`).
///
/// # Invariants
///
/// `vmas` is sorted by address and `len == vmas.len() <= N`; every VMA in it is page
/// aligned with `start < end`, and no two overlap.
#[derive(Clone, Debug)]
pub struct Vmas<const N: usize> {
    vmas: alloc::vec::Vec<Vma>,
    len: usize,
}

impl<const N: usize> Default for Vmas<N> {
    fn default() -> Self {
        Self::new()
    }
}

impl<const N: usize> Vmas<N> {
    /// No VMAs.
    pub const fn new() -> Self {
        Vmas {
            vmas: alloc::vec::Vec::new(),
            len: 0,
        }
    }

    /// How many VMAs there are (Linux's `map_count`).
    pub const fn len(&self) -> usize {
        self.len
    }

    /// Whether there are none.
    pub const fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// How many there may be.
    pub const fn capacity(&self) -> usize {
        N
    }

    /// The VMAs in address order.
    pub fn iter(&self) -> core::slice::Iter<'_, Vma> {
        self.as_slice().iter()
    }

    /// The VMAs in address order, as a slice.
    pub fn as_slice(&self) -> &[Vma] {
        &self.vmas[..self.len]
    }

    /// Adds `vma` (Linux's `insert_vm_struct`). It is not merged with its neighbours; see
    /// [`merge`](Self::merge).
    pub fn insert(&mut self, vma: Vma) -> Result<(), VmaError> {
        if vma.start >= vma.end
            || (vma.start | vma.end) & (PAGE_SIZE - 1) != 0
            || (vma.flags.contains(VmFlags::ANON) && vma.file.is_some())
        {
            return Err(VmaError::Invalid);
        }
        let index = self.first_ending_above(vma.start);
        if index < self.len && self.vmas[index].start < vma.end {
            return Err(VmaError::Overlap);
        }
        if self.len == N || self.vmas.try_reserve(1).is_err() {
            return Err(VmaError::NoSpace);
        }
        self.insert_at(index, vma);
        Ok(())
    }

    /// [`Self::insert`], but an anonymous range next to a compatible VMA (same flags) extends
    /// it instead of becoming a VMA of its own, as Linux's `mmap_region` → `vma_merge` does:
    /// a growing `brk`, or anonymous `mmap`s placed one below the other, stay one VMA and
    /// never fill the set.
    pub fn insert_merge(&mut self, vma: Vma) -> Result<(), VmaError> {
        if vma.start >= vma.end || (vma.start | vma.end) & (PAGE_SIZE - 1) != 0 {
            return Err(VmaError::Invalid);
        }
        let index = self.first_ending_above(vma.start);
        if index < self.len && self.vmas[index].start < vma.end {
            return Err(VmaError::Overlap);
        }
        if index > 0 && self.vmas[index - 1].can_merge(&vma) {
            self.vmas[index - 1].end = vma.end;
            self.merge_between(index - 1, index + 1);
            return Ok(());
        }
        if index < self.len && vma.can_merge(&self.vmas[index]) {
            self.vmas[index].start = vma.start;
            self.vmas[index].pgoff = vma.pgoff;
            return Ok(());
        }
        self.insert(vma)
    }

    /// The VMA containing `addr` (Linux's `vma_lookup`).
    pub fn find(&self, addr: u64) -> Option<&Vma> {
        self.find_vma(addr).filter(|vma| vma.start <= addr)
    }

    /// The first VMA ending above `addr`: the one containing it, or else the next one up
    /// (Linux's `find_vma`; the fault handler uses it to find a stack to grow down).
    pub fn find_vma(&self, addr: u64) -> Option<&Vma> {
        self.as_slice().get(self.first_ending_above(addr))
    }

    /// Where to put `len` bytes (rounded up to pages) in `[lo, hi)` (Linux's
    /// `get_unmapped_area`): at `hint` (rounded up to a page) if it is non-zero and the range
    /// there is free and inside the bounds, else at the top of the highest gap that is large
    /// enough (`arch_get_unmapped_area_topdown`). Unlike Linux, no guard gap is kept below
    /// stacks.
    pub fn find_free(&self, len: u64, hint: u64, lo: u64, hi: u64) -> Result<u64, VmaError> {
        let len = page_align(len).ok_or(VmaError::Invalid)?;
        if len == 0 || lo >= hi || (lo | hi) & (PAGE_SIZE - 1) != 0 {
            return Err(VmaError::Invalid);
        }
        if len > hi - lo {
            return Err(VmaError::NoSpace);
        }
        if let Some(hint) = page_align(hint).filter(|&hint| hint != 0) {
            if hint >= lo && hint <= hi - len && self.is_free(hint, hint + len) {
                return Ok(hint);
            }
        }
        let vmas = self.as_slice();
        for index in (0..=vmas.len()).rev() {
            let gap_end = vmas.get(index).map_or(hi, |next| next.start.min(hi));
            let gap_start = match index {
                0 => lo,
                _ => vmas[index - 1].end.max(lo),
            };
            if gap_end > gap_start && gap_end - gap_start >= len {
                return Ok(gap_end - len);
            }
        }
        Err(VmaError::NoSpace)
    }

    /// Removes `[start, start + len)` (`len` rounded up to pages) from the set (Linux's
    /// `do_vmi_munmap`): VMAs inside it go, VMAs straddling an end are cut, a VMA spanning the
    /// whole range is split in two. `removed` is called, in address order, with each piece
    /// taken out (its `pgoff` adjusted), so the caller can unmap its pages. Holes are fine.
    ///
    /// Fails, changing nothing, on a bad range, or with [`VmaError::NoSpace`] when a split
    /// would need a slot and the array is full.
    pub fn unmap(
        &mut self,
        start: u64,
        len: u64,
        removed: &mut dyn FnMut(&Vma),
    ) -> Result<(), VmaError> {
        let end = range_end(start, len)?;
        let mut index = self.first_ending_above(start);
        if let Some(vma) = self.as_slice().get(index) {
            if vma.start < start && vma.end > end && self.len == N {
                return Err(VmaError::NoSpace);
            }
        }
        while index < self.len && self.vmas[index].start < end {
            let vma = self.vmas[index];
            let (cut_start, cut_end) = (vma.start.max(start), vma.end.min(end));
            removed(&vma.slice(cut_start, cut_end));
            match (vma.start < cut_start, cut_end < vma.end) {
                (false, false) => self.remove_at(index),
                (true, false) => {
                    self.vmas[index].end = cut_start;
                    index += 1;
                }
                (false, true) => {
                    self.vmas[index] = vma.slice(cut_end, vma.end);
                    index += 1;
                }
                (true, true) => {
                    self.vmas[index].end = cut_start;
                    self.insert_at(index + 1, vma.slice(cut_end, vma.end));
                    index += 2;
                }
            }
        }
        Ok(())
    }

    /// Sets the access bits ([`VmFlags::ACCESS`]: read, write, exec) of `[start, start + len)`
    /// (`len` rounded up to pages) to those of `prot`, splitting VMAs that straddle an end and
    /// merging the results with compatible neighbours (Linux's `mprotect_fixup`). Checking
    /// `prot` against the `MAY*` flags is the caller's.
    ///
    /// Fails, changing nothing, on a bad range, with [`VmaError::Unmapped`] if part of the
    /// range is not mapped, or with [`VmaError::NoSpace`] if the splits do not fit.
    pub fn mprotect(&mut self, start: u64, len: u64, prot: VmFlags) -> Result<(), VmaError> {
        let access = prot & VmFlags::ACCESS;
        self.change_flags(start, len, |flags| flags.without(VmFlags::ACCESS) | access)
    }

    /// Gives every VMA in `[start, start + len)` the flags `f` makes of its own, splitting
    /// and merging as [`Vmas::mprotect`] does (which is this with the access bits; `mlock`
    /// sets `LOCKED` with it, Linux's `mlock_fixup`). Fails as `mprotect` does.
    pub fn change_flags(
        &mut self,
        start: u64,
        len: u64,
        f: impl Fn(VmFlags) -> VmFlags,
    ) -> Result<(), VmaError> {
        let end = range_end(start, len)?;
        let new_flags = |vma: &Vma| f(vma.flags);
        let first = self.first_ending_above(start);

        // Check first: the range must be covered, and the splits must fit.
        let mut covered_to = start;
        let mut splits = 0;
        for vma in &self.as_slice()[first..] {
            if vma.start >= end {
                break;
            }
            if vma.start > covered_to {
                return Err(VmaError::Unmapped);
            }
            covered_to = vma.end;
            if new_flags(vma) != vma.flags {
                splits += usize::from(vma.start < start) + usize::from(vma.end > end);
            }
        }
        if covered_to < end {
            return Err(VmaError::Unmapped);
        }
        if self.len + splits > N {
            return Err(VmaError::NoSpace);
        }

        let mut index = first;
        while index < self.len && self.vmas[index].start < end {
            let vma = self.vmas[index];
            let flags = new_flags(&vma);
            if flags != vma.flags {
                if vma.start < start {
                    self.vmas[index].end = start;
                    index += 1;
                    self.insert_at(index, vma.slice(start, vma.end));
                }
                if vma.end > end {
                    let tail = self.vmas[index].slice(end, vma.end);
                    self.vmas[index].end = end;
                    self.insert_at(index + 1, tail);
                }
                self.vmas[index].flags = flags;
            }
            index += 1;
        }
        self.merge_between(first.saturating_sub(1), index + 1);
        Ok(())
    }

    /// Moves the end of the VMA containing `addr` up to `new_end` (page aligned), if nothing
    /// lies in between (`mremap` growing a mapping in place, Linux's `vma_expand`).
    pub fn expand(&mut self, addr: u64, new_end: u64) -> Result<(), VmaError> {
        if new_end & (PAGE_SIZE - 1) != 0 {
            return Err(VmaError::Invalid);
        }
        let index = self.first_ending_above(addr);
        let Some(vma) = self.as_slice().get(index).filter(|v| v.start <= addr) else {
            return Err(VmaError::Unmapped);
        };
        if new_end <= vma.end {
            return Err(VmaError::Invalid);
        }
        if self
            .as_slice()
            .get(index + 1)
            .is_some_and(|next| next.start < new_end)
        {
            return Err(VmaError::Overlap);
        }
        self.vmas[index].end = new_end;
        Ok(())
    }

    /// Grow the stack VMA above `addr` down to the page holding it (Linux's
    /// `expand_downwards`): only a `GROWSDOWN` VMA, to at most `limit` bytes in all, and not
    /// closer than `guard_gap` to the VMA below it (Linux's `stack_guard_gap`). Returns the
    /// grown VMA.
    pub fn grow_down(&mut self, addr: u64, limit: u64, guard_gap: u64) -> Result<Vma, VmaError> {
        let index = self.first_ending_above(addr);
        let Some(vma) = self.as_slice().get(index).copied() else {
            return Err(VmaError::Unmapped);
        };
        if vma.start <= addr {
            return Ok(vma);
        }
        if !vma.flags.contains(VmFlags::GROWSDOWN) {
            return Err(VmaError::Unmapped);
        }
        let new_start = addr & !(PAGE_SIZE - 1);
        if vma.end - new_start > limit {
            return Err(VmaError::NoSpace);
        }
        if index > 0 && self.vmas[index - 1].end.saturating_add(guard_gap) > new_start {
            return Err(VmaError::Overlap);
        }
        let grown = &mut self.vmas[index];
        if grown.file.is_some() {
            // A file-backed stack's page offset would move; Linux adjusts it, Cradle's
            // stacks are anonymous.
            return Err(VmaError::Invalid);
        }
        grown.start = new_start;
        Ok(*grown)
    }

    /// Whether VMAs cover all of `[start, end)` without a hole.
    pub fn covers(&self, start: u64, end: u64) -> bool {
        let mut covered_to = start;
        for vma in &self.as_slice()[self.first_ending_above(start)..] {
            if covered_to >= end || vma.start > covered_to {
                break;
            }
            covered_to = vma.end;
        }
        covered_to >= end
    }

    /// Merges every run of adjacent, compatible anonymous VMAs (same flags, no file, not
    /// `IO`) into one, as Linux's `vma_merge` does when a mapping is made or changed. Returns
    /// how many VMAs disappeared.
    pub fn merge(&mut self) -> usize {
        self.merge_between(0, self.len)
    }

    /// Merges within `vmas[from..to]` (clamped to the VMAs there are).
    fn merge_between(&mut self, from: usize, to: usize) -> usize {
        let mut merged = 0;
        let mut index = from;
        let mut to = to.min(self.len);
        while index + 1 < to {
            if self.vmas[index].can_merge(&self.vmas[index + 1]) {
                self.vmas[index].end = self.vmas[index + 1].end;
                self.remove_at(index + 1);
                to -= 1;
                merged += 1;
            } else {
                index += 1;
            }
        }
        merged
    }

    /// The index of the first VMA ending above `addr`, or `len` if there is none.
    fn first_ending_above(&self, addr: u64) -> usize {
        self.as_slice().partition_point(|vma| vma.end <= addr)
    }

    /// Whether no VMA overlaps `[start, end)`.
    fn is_free(&self, start: u64, end: u64) -> bool {
        self.find_vma(start).is_none_or(|vma| vma.start >= end)
    }

    fn insert_at(&mut self, index: usize, vma: Vma) {
        assert!(self.len < N, "vma: insert into a full set");
        self.vmas.insert(index, vma);
        self.len += 1;
    }

    fn remove_at(&mut self, index: usize) {
        self.vmas.remove(index);
        self.len -= 1;
    }
}

/// `len` rounded up to a page, or `None` if that overflows.
fn page_align(len: u64) -> Option<u64> {
    Some(len.checked_add(PAGE_SIZE - 1)? & !(PAGE_SIZE - 1))
}

/// The end of `[start, start + len)` with `len` rounded up to pages, checking that `start` is
/// aligned, `len` non-zero and the range does not wrap.
fn range_end(start: u64, len: u64) -> Result<u64, VmaError> {
    if start & (PAGE_SIZE - 1) != 0 || len == 0 {
        return Err(VmaError::Invalid);
    }
    page_align(len)
        .and_then(|len| start.checked_add(len))
        .ok_or(VmaError::Invalid)
}

#[cfg(test)]
mod tests {
    use super::*;

    const RW: VmFlags = VmFlags::from_bits(VmFlags::READ.bits() | VmFlags::WRITE.bits());
    const RO: VmFlags = VmFlags::READ;
    const RX: VmFlags = VmFlags::from_bits(VmFlags::READ.bits() | VmFlags::EXEC.bits());
    const P: u64 = PAGE_SIZE;

    fn ranges<const N: usize>(vmas: &Vmas<N>) -> Vec<(u64, u64)> {
        vmas.iter().map(|v| (v.start, v.end)).collect()
    }

    fn set<const N: usize>(list: &[Vma]) -> Vmas<N> {
        let mut vmas = Vmas::new();
        for &vma in list {
            vmas.insert(vma).unwrap();
        }
        vmas
    }

    fn unmap<const N: usize>(
        vmas: &mut Vmas<N>,
        start: u64,
        len: u64,
    ) -> Result<Vec<Vma>, VmaError> {
        let mut removed = Vec::new();
        vmas.unmap(start, len, &mut |v| removed.push(*v))?;
        Ok(removed)
    }

    #[test]
    fn insert_keeps_order_and_rejects_overlap() {
        let mut vmas: Vmas<4> = Vmas::new();
        vmas.insert(Vma::anon(0x5000, 0x6000, RW)).unwrap();
        vmas.insert(Vma::anon(0x1000, 0x3000, RW)).unwrap();
        vmas.insert(Vma::anon(0x3000, 0x4000, RO)).unwrap();
        assert_eq!(
            ranges(&vmas),
            [(0x1000, 0x3000), (0x3000, 0x4000), (0x5000, 0x6000)]
        );
        for (start, end) in [
            (0x2000, 0x3000),
            (0x0, 0x2000),
            (0x3000, 0x5000),
            (0x4000, 0x6000),
        ] {
            assert_eq!(
                vmas.insert(Vma::anon(start, end, RW)),
                Err(VmaError::Overlap)
            );
        }
        assert_eq!(
            vmas.insert(Vma::anon(0x0, 0x6000, RW)),
            Err(VmaError::Overlap),
            "covers all"
        );
        assert_eq!(
            vmas.insert(Vma::anon(0x7000, 0x7000, RW)),
            Err(VmaError::Invalid)
        );
        assert_eq!(
            vmas.insert(Vma::anon(0x7800, 0x9000, RW)),
            Err(VmaError::Invalid)
        );
        assert_eq!(
            vmas.insert(Vma::anon(0x9000, 0x8000, RW)),
            Err(VmaError::Invalid)
        );
        let bad = Vma::file(0x7000, 0x8000, RW | VmFlags::ANON, 1, 0);
        assert_eq!(vmas.insert(bad), Err(VmaError::Invalid), "ANON with a file");
        vmas.insert(Vma::anon(0x4000, 0x5000, RW)).unwrap();
        assert_eq!(
            vmas.insert(Vma::anon(0x8000, 0x9000, RW)),
            Err(VmaError::NoSpace)
        );
        assert_eq!(vmas.len(), 4);
        assert_eq!(vmas.capacity(), 4);
    }

    #[test]
    fn insert_merge_extends_compatible_neighbours() {
        let mut vmas: Vmas<2> = set(&[Vma::anon(0x1000, 0x2000, RW)]);
        // Above, below, and bridging: still one VMA, though the set holds only two.
        for (start, end) in [(0x2000, 0x3000), (0x0, 0x1000), (0x3000, 0x4000)] {
            vmas.insert_merge(Vma::anon(start, end, RW)).unwrap();
        }
        assert_eq!(ranges(&vmas), [(0x0, 0x4000)]);
        vmas.insert_merge(Vma::anon(0x5000, 0x6000, RW)).unwrap();
        vmas.insert_merge(Vma::anon(0x4000, 0x5000, RW)).unwrap();
        assert_eq!(
            ranges(&vmas),
            [(0x0, 0x6000)],
            "a range that closes a gap joins both"
        );
        vmas.insert_merge(Vma::anon(0x6000, 0x7000, RO)).unwrap();
        assert_eq!(
            ranges(&vmas),
            [(0x0, 0x6000), (0x6000, 0x7000)],
            "other flags: apart"
        );
        assert_eq!(
            vmas.insert_merge(Vma::anon(0x8000, 0x9000, RW)),
            Err(VmaError::NoSpace)
        );
        assert_eq!(
            vmas.insert_merge(Vma::anon(0x5000, 0x9000, RW)),
            Err(VmaError::Overlap)
        );
    }

    #[test]
    fn find_and_find_vma() {
        let vmas: Vmas<8> = set(&[Vma::anon(0x1000, 0x3000, RW), Vma::anon(0x8000, 0x9000, RO)]);
        assert_eq!(vmas.find(0x1000).unwrap().start, 0x1000);
        assert_eq!(vmas.find(0x2fff).unwrap().start, 0x1000);
        assert_eq!(vmas.find(0x3000), None, "end is exclusive");
        assert_eq!(vmas.find(0x0fff), None);
        assert_eq!(
            vmas.find_vma(0x3000).unwrap().start,
            0x8000,
            "the next one up"
        );
        assert_eq!(vmas.find_vma(0x9000), None);
        assert!(Vmas::<8>::new().find(0).is_none());
    }

    #[test]
    fn unmap_splits_at_both_ends() {
        let mut vmas: Vmas<8> = set(&[
            Vma::anon(0x1000, 0x5000, RW),
            Vma::file(0x6000, 0xa000, RX, 7, 100),
        ]);
        // Cut the head of the file VMA and the tail of the anonymous one, and the hole between.
        let removed = unmap(&mut vmas, 0x3000, 0x5000).unwrap();
        assert_eq!(
            removed,
            [
                Vma::anon(0x1000, 0x5000, RW).slice(0x3000, 0x5000),
                Vma::file(0x6000, 0x8000, RX, 7, 100),
            ]
        );
        assert_eq!(removed[0].pgoff, 3);
        assert_eq!(ranges(&vmas), [(0x1000, 0x3000), (0x8000, 0xa000)]);
        assert_eq!(
            vmas.find(0x8000).unwrap().pgoff,
            102,
            "the file offset moves with the start"
        );
        assert_eq!(vmas.find(0x1000).unwrap().pgoff, 1);
    }

    #[test]
    fn unmap_in_the_middle_splits_in_two() {
        let mut vmas: Vmas<8> = set(&[Vma::file(0x10_0000, 0x20_0000, RO, 3, 0)]);
        let removed = unmap(&mut vmas, 0x14_0000, 0x1_0000).unwrap();
        assert_eq!(removed, [Vma::file(0x14_0000, 0x15_0000, RO, 3, 0x40)]);
        assert_eq!(
            vmas.as_slice(),
            [
                Vma::file(0x10_0000, 0x14_0000, RO, 3, 0),
                Vma::file(0x15_0000, 0x20_0000, RO, 3, 0x50),
            ]
        );
    }

    #[test]
    fn unmap_whole_and_several_and_holes() {
        let mut vmas: Vmas<16> = set(&[
            Vma::anon(0x1000, 0x2000, RW),
            Vma::anon(0x3000, 0x4000, RW),
            Vma::anon(0x5000, 0x6000, RW),
        ]);
        assert!(
            unmap(&mut vmas, 0x10_0000, P).unwrap().is_empty(),
            "a hole is fine"
        );
        // Length rounds up to a page.
        let removed = unmap(&mut vmas, 0x1000, 0x2001).unwrap();
        assert_eq!(
            removed.iter().map(|v| v.start).collect::<Vec<_>>(),
            [0x1000, 0x3000]
        );
        assert_eq!(ranges(&vmas), [(0x5000, 0x6000)]);
        assert_eq!(unmap(&mut vmas, 0x5800, P), Err(VmaError::Invalid));
        assert_eq!(unmap(&mut vmas, 0x5000, 0), Err(VmaError::Invalid));
        assert_eq!(unmap(&mut vmas, !0xfff, 2 * P), Err(VmaError::Invalid));
        unmap(&mut vmas, 0, 1 << 48).unwrap();
        assert!(vmas.is_empty());
    }

    #[test]
    fn unmap_split_of_a_full_set_fails_cleanly() {
        let mut vmas: Vmas<2> =
            set(&[Vma::anon(0x1000, 0x4000, RW), Vma::anon(0x8000, 0x9000, RW)]);
        assert_eq!(unmap(&mut vmas, 0x2000, P), Err(VmaError::NoSpace));
        assert_eq!(ranges(&vmas), [(0x1000, 0x4000), (0x8000, 0x9000)]);
        // Cutting an end needs no new slot.
        unmap(&mut vmas, 0x3000, P).unwrap();
        assert_eq!(ranges(&vmas), [(0x1000, 0x3000), (0x8000, 0x9000)]);
    }

    #[test]
    fn mprotect_splits_and_merges_back() {
        let mut vmas: Vmas<8> = set(&[Vma::anon(0x10_000, 0x20_000, RW)]);
        vmas.mprotect(0x14_000, 0x2_000, RO).unwrap();
        assert_eq!(
            ranges(&vmas),
            [
                (0x10_000, 0x14_000),
                (0x14_000, 0x16_000),
                (0x16_000, 0x20_000)
            ]
        );
        assert_eq!(vmas.find(0x15_000).unwrap().flags, RO | VmFlags::ANON);
        assert_eq!(vmas.find(0x16_000).unwrap().flags, RW | VmFlags::ANON);
        assert_eq!(vmas.find(0x14_000).unwrap().pgoff, 0x14);
        // At the start and at the end.
        vmas.mprotect(0x10_000, 0x1_000, RO).unwrap();
        vmas.mprotect(0x1f_000, 0x1_000, RX).unwrap();
        assert_eq!(vmas.len(), 5);
        assert_eq!(vmas.find(0x1f_000).unwrap().flags, RX | VmFlags::ANON);
        // Same access again: nothing to split.
        vmas.mprotect(0x11_000, 0x1_000, RW | VmFlags::SHARED)
            .unwrap();
        assert_eq!(vmas.len(), 5, "only access bits are taken from prot");
        // Back to RW everywhere: one VMA again.
        vmas.mprotect(0x10_000, 0x10_000, RW).unwrap();
        assert_eq!(vmas.as_slice(), [Vma::anon(0x10_000, 0x20_000, RW)]);
    }

    #[test]
    fn mprotect_over_a_hole_changes_nothing() {
        let mut vmas: Vmas<8> =
            set(&[Vma::anon(0x1000, 0x3000, RW), Vma::anon(0x4000, 0x6000, RW)]);
        let before = vmas.clone();
        assert_eq!(vmas.mprotect(0x2000, 0x3000, RO), Err(VmaError::Unmapped));
        assert_eq!(
            vmas.mprotect(0x5000, 0x2000, RO),
            Err(VmaError::Unmapped),
            "past the end"
        );
        assert_eq!(
            vmas.mprotect(0x0, 0x2000, RO),
            Err(VmaError::Unmapped),
            "before the start"
        );
        assert_eq!(vmas.mprotect(0x8000, 0x1000, RO), Err(VmaError::Unmapped));
        assert_eq!(vmas.as_slice(), before.as_slice());
        // A full set cannot split.
        let mut full: Vmas<2> =
            set(&[Vma::anon(0x1000, 0x3000, RW), Vma::anon(0x4000, 0x6000, RW)]);
        assert_eq!(full.mprotect(0x2000, 0x1000, RO), Err(VmaError::NoSpace));
        full.mprotect(0x1000, 0x2000, RO).unwrap();
        assert_eq!(full.find(0x1000).unwrap().flags, RO | VmFlags::ANON);
    }

    #[test]
    fn merge_only_compatible_anonymous_neighbours() {
        let mut vmas: Vmas<16> = set(&[
            Vma::anon(0x1000, 0x2000, RW),
            Vma::anon(0x2000, 0x3000, RW),
            Vma::anon(0x3000, 0x4000, RW),
            Vma::anon(0x4000, 0x5000, RO),       // different flags
            Vma::anon(0x6000, 0x7000, RO),       // not adjacent
            Vma::file(0x7000, 0x8000, RO, 1, 0), // file-backed
            Vma::file(0x8000, 0x9000, RO, 1, 1), // file-backed, even if contiguous
            Vma::anon(0x9000, 0xa000, RO | VmFlags::IO),
            Vma::anon(0xa000, 0xb000, RO | VmFlags::IO),
        ]);
        assert_eq!(vmas.merge(), 2);
        assert_eq!(
            ranges(&vmas),
            [
                (0x1000, 0x4000),
                (0x4000, 0x5000),
                (0x6000, 0x7000),
                (0x7000, 0x8000),
                (0x8000, 0x9000),
                (0x9000, 0xa000),
                (0xa000, 0xb000),
            ],
            "IO mappings never merge"
        );
        assert_eq!(
            vmas.find(0x3000).unwrap().pgoff,
            1,
            "the merged VMA keeps the first pgoff"
        );
        assert_eq!(vmas.merge(), 0);
    }

    #[test]
    fn find_free_is_top_down_and_honours_gaps() {
        let lo = 0x1_0000;
        let hi = 0x100_0000;
        let vmas: Vmas<8> = set(&[
            Vma::anon(0x30_0000, 0x40_0000, RW),
            Vma::anon(0x40_4000, 0xf0_0000, RW),
            Vma::anon(0xff_f000, 0x100_0000, RW),
        ]);
        // Gaps: [lo, 0x30_0000), [0x40_0000, 0x40_4000), [0xf0_0000, 0xff_f000).
        assert_eq!(
            vmas.find_free(P, 0, lo, hi),
            Ok(0xff_e000),
            "top of the highest gap"
        );
        assert_eq!(
            vmas.find_free(0xf_f000, 0, lo, hi),
            Ok(0xf0_0000),
            "exactly fits"
        );
        assert_eq!(
            vmas.find_free(0x10_0000, 0, lo, hi),
            Ok(0x20_0000),
            "too big for the upper gaps"
        );
        assert_eq!(vmas.find_free(0x30_0000, 0, lo, hi), Err(VmaError::NoSpace));
        // The bounds clip the gaps.
        assert_eq!(vmas.find_free(P, 0, lo, 0xf8_0000), Ok(0xf7_f000));
        assert_eq!(
            vmas.find_free(0x8_0000, 0, lo, 0xf4_0000),
            Ok(0x28_0000),
            "clipped gap too small"
        );
        assert_eq!(
            vmas.find_free(0x8000, 0, 0x40_0000, 0x40_4000),
            Err(VmaError::NoSpace)
        );
        assert_eq!(
            vmas.find_free(0x4000, 0, 0x40_0000, 0x40_4000),
            Ok(0x40_0000)
        );
        // Hints: used when free (rounded up), ignored when taken or out of bounds.
        assert_eq!(vmas.find_free(2 * P, 0x40_0001, lo, hi), Ok(0x40_1000));
        assert_eq!(
            vmas.find_free(2 * P, 0x40_3000, lo, hi),
            Ok(0xff_d000),
            "would overlap"
        );
        assert_eq!(vmas.find_free(P, 0x8000, lo, hi), Ok(0xff_e000), "below lo");
        assert_eq!(vmas.find_free(P, 0x2_0000, lo, hi), Ok(0x2_0000));
        // Length rounds up; bad arguments.
        assert_eq!(vmas.find_free(1, 0, lo, hi), Ok(0xff_e000));
        assert_eq!(vmas.find_free(0, 0, lo, hi), Err(VmaError::Invalid));
        assert_eq!(vmas.find_free(P, 0, hi, lo), Err(VmaError::Invalid));
        assert_eq!(vmas.find_free(u64::MAX, 0, lo, hi), Err(VmaError::Invalid));
        assert_eq!(Vmas::<4>::new().find_free(P, 0, lo, hi), Ok(hi - P));
    }

    #[test]
    fn expand_grows_into_a_free_gap_only() {
        let mut vmas: Vmas<8> = set(&[
            Vma::file(0x1000, 0x3000, RO, 4, 10),
            Vma::anon(0x8000, 0x9000, RW),
        ]);
        vmas.expand(0x2000, 0x5000).unwrap();
        assert_eq!(vmas.as_slice()[0], Vma::file(0x1000, 0x5000, RO, 4, 10));
        assert_eq!(vmas.expand(0x1000, 0x9000), Err(VmaError::Overlap));
        assert_eq!(
            vmas.expand(0x1000, 0x4000),
            Err(VmaError::Invalid),
            "not a growth"
        );
        assert_eq!(vmas.expand(0x6000, 0x7000), Err(VmaError::Unmapped));
        assert_eq!(vmas.expand(0x8000, 0x9800), Err(VmaError::Invalid));
        vmas.expand(0x8000, 0x10_000).unwrap();
        assert_eq!(ranges(&vmas), [(0x1000, 0x5000), (0x8000, 0x10_000)]);
    }

    #[test]
    fn covers_sees_holes() {
        let vmas: Vmas<8> = set(&[
            Vma::anon(0x1000, 0x3000, RW),
            Vma::anon(0x3000, 0x4000, RO),
            Vma::anon(0x5000, 0x6000, RW),
        ]);
        assert!(vmas.covers(0x1000, 0x4000));
        assert!(vmas.covers(0x2000, 0x3800));
        assert!(!vmas.covers(0x2000, 0x5800), "a hole at 0x4000");
        assert!(!vmas.covers(0x0, 0x2000));
        assert!(vmas.covers(0x5000, 0x6000));
        assert!(!vmas.covers(0x5000, 0x7000));
    }

    #[test]
    fn flags_debug_names() {
        assert_eq!(format!("{:?}", RW | VmFlags::ANON), "READ | WRITE | ANON");
        assert_eq!(format!("{:?}", VmFlags::NONE), "0x0");
        assert_eq!(
            format!("{:?}", VmFlags::EXEC | VmFlags::from_bits(1 << 40)),
            "EXEC | 0x10000000000"
        );
        assert!((RW | VmFlags::STACK).contains(VmFlags::WRITE | VmFlags::STACK));
        assert!(!RO.intersects(VmFlags::WRITE | VmFlags::EXEC));
    }
}
