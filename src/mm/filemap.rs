//! The page cache: a file's pages by index (Linux: `struct address_space` in
//! `include/linux/fs.h`, `mm/filemap.c` `filemap_read` / `filemap_fault`,
//! `mm/truncate.c` `truncate_pagecache`, and `mm/shmem.c` for memory no file backs).
//!
//! An [`AddressSpace`] holds the pages of one file (or of one shared anonymous mapping) by
//! page index, and the file's size. ramfs and tmpfs keep nothing else: the cache *is* the
//! file, so a page is created the first time it is written or faulted and lives until the
//! file is truncated past it or goes away. A page index missing below the size is a hole
//! and reads as zeros.
//!
//! Reference counts (the page allocator's `page_ref`): the cache holds one reference on each
//! of its pages, every page-table entry that maps one holds another. So a page a process
//! still maps survives truncation until the process lets go, and a private mapping's write
//! fault sees at least two references on a cache page and always copies it.
//!
//! Reads and writes copy between the cache pages (through the linear map) and the caller's
//! buffers (an `IovIter`: user memory, or a kernel buffer for `kernel_read`), taking a
//! reference on one page at a time and no lock across the copy: a copy to or from user
//! memory may fault, and the fault handler takes this lock.
//!
//! Every address space that maps the cache is listed (Linux's `i_mmap`, the reverse map at
//! file granularity): truncation unmaps the pages it drops from each of them.
//!
//! Lock order: an `MmStruct`'s lock, then `AddressSpace::pages`, then the page allocator's.
//! `mappers` is taken alone or under an `MmStruct`'s lock.
//!
//! Not yet (a disk file system will need it): pages read in from and written back to a
//! device (Linux's `address_space_operations`: `read_folio`, `writepages`), dirty and
//! up-to-date bits per page, and dropping clean pages under memory pressure. Here every
//! page is the only copy of the data, so nothing is ever dropped but by truncation.

use alloc::collections::BTreeMap;
use alloc::sync::{Arc, Weak};
use alloc::vec::Vec;
use core::sync::atomic::{AtomicI32, AtomicU64, Ordering};

use crate::arch::memory::{phys_to_virt, PAGE_SIZE};
use crate::fs::iov_iter::{short_copy, IovIter};
use crate::kernel::errno::Errno;
use crate::kernel::locking::SpinLock;
use crate::mm::mm_types::MmStruct;
use crate::mm::pages::{get_page, get_zeroed_page, put_page};
use crate::mm::vma::VmFlags;

/// Pages in every page cache (Linux's `NR_FILE_PAGES`: `Cached` in `/proc/meminfo`).
static NR_FILE_PAGES: AtomicU64 = AtomicU64::new(0);
/// Of those, pages of memory-only files and shared anonymous memory (Linux's `NR_SHMEM`).
static NR_SHMEM: AtomicU64 = AtomicU64::new(0);

/// Pages in the page cache (`Cached`).
pub fn nr_file_pages() -> u64 {
    NR_FILE_PAGES.load(Ordering::Relaxed)
}

/// Pages of ramfs/tmpfs files and shared anonymous memory (`Shmem`).
pub fn nr_shmem() -> u64 {
    NR_SHMEM.load(Ordering::Relaxed)
}

/// A page's entry in the cache: its physical address, with [`DCACHE_CLEAN`] in a low bit.
type Slot = u64;

/// The page's instructions are visible to instruction fetch (Linux's `PG_dcache_clean`):
/// set when an executable mapping first maps the page, cleared when it is written.
const DCACHE_CLEAN: u64 = 1;

/// What the lock of an [`AddressSpace`] protects.
struct Pages {
    /// Page index to slot. Each page here holds one reference for the cache.
    pages: BTreeMap<u64, Slot>,
    /// The file's size in bytes (`i_size`).
    size: u64,
}

/// Why a fault could not get a page from the cache.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CacheFault {
    /// The page lies wholly past the end of the file (Linux's `VM_FAULT_SIGBUS`).
    PastEof,
    /// No memory for a new page (`VM_FAULT_OOM`).
    NoMemory,
}

/// One file's pages (Linux's `struct address_space`).
pub struct AddressSpace {
    /// The pages and the size. Lock: its own; see the module doc for the order.
    pages: SpinLock<Pages>,
    /// Address spaces that may map these pages (`i_mmap`). Lock: its own, taken alone.
    mappers: SpinLock<Vec<Weak<MmStruct>>>,
    /// The file's `i_writecount` (kept here: for ramfs the cache is the file): the number
    /// of open files that may write it, or minus the number of programs running it.
    writecount: AtomicI32,
}

fn page_index(offset: u64) -> u64 {
    offset / PAGE_SIZE
}

fn slot_pa(slot: Slot) -> u64 {
    slot & !(PAGE_SIZE - 1)
}

fn page_ptr(pa: u64) -> *mut u8 {
    phys_to_virt(pa) as *mut u8
}

impl AddressSpace {
    /// An empty cache for a new, empty file.
    pub fn new() -> Arc<Self> {
        Self::with_size(0)
    }

    /// A cache of `size` bytes of zeros: the memory of a shared anonymous mapping
    /// (Linux's `shmem_zero_setup`).
    pub fn with_size(size: u64) -> Arc<Self> {
        Arc::new(Self {
            pages: SpinLock::new(Pages {
                pages: BTreeMap::new(),
                size,
            }),
            mappers: SpinLock::new(Vec::new()),
            writecount: AtomicI32::new(0),
        })
    }

    /// The file's size in bytes.
    pub fn size(&self) -> u64 {
        self.pages.lock().size
    }

    /// Pages the cache holds.
    pub fn nr_pages(&self) -> usize {
        self.pages.lock().pages.len()
    }

    /// The page at `index`, created (zeroed) if it is a hole, with a reference for the
    /// caller, and whether its instructions still need making visible to instruction
    /// fetch. Fails past the end of the file. For a fault (Linux's `filemap_fault`,
    /// `shmem_fault`); an executable mapping passes `exec` and the page is marked clean.
    pub fn fault_page(&self, index: u64, exec: bool) -> Result<(u64, bool), CacheFault> {
        let mut guard = self.pages.lock();
        if index >= guard.size.div_ceil(PAGE_SIZE) {
            return Err(CacheFault::PastEof);
        }
        let slot = match guard.pages.get_mut(&index) {
            Some(slot) => slot,
            None => {
                let pa = get_zeroed_page().ok_or(CacheFault::NoMemory)?;
                NR_FILE_PAGES.fetch_add(1, Ordering::Relaxed);
                NR_SHMEM.fetch_add(1, Ordering::Relaxed);
                guard.pages.entry(index).or_insert(pa)
            }
        };
        let pa = slot_pa(*slot);
        let needs_sync = exec && *slot & DCACHE_CLEAN == 0;
        if exec {
            *slot |= DCACHE_CLEAN;
        }
        get_page(pa);
        Ok((pa, needs_sync))
    }

    /// Mark the page at `index` written (its instructions are stale for instruction fetch):
    /// for a shared writable mapping's fault.
    pub fn mark_dirty(&self, index: u64) {
        if let Some(slot) = self.pages.lock().pages.get_mut(&index) {
            *slot &= !DCACHE_CLEAN;
        }
    }

    /// The page at `index` with a reference for the caller, `None` for a hole; with
    /// `create`, a hole gets a new zeroed page (and then `None` means no memory) and the
    /// page is marked written.
    fn get(&self, index: u64, create: bool) -> Option<u64> {
        let mut guard = self.pages.lock();
        let slot = match guard.pages.get_mut(&index) {
            Some(slot) => slot,
            None if create => {
                let pa = get_zeroed_page()?;
                NR_FILE_PAGES.fetch_add(1, Ordering::Relaxed);
                NR_SHMEM.fetch_add(1, Ordering::Relaxed);
                guard.pages.entry(index).or_insert(pa)
            }
            None => return None,
        };
        if create {
            *slot &= !DCACHE_CLEAN;
        }
        let pa = slot_pa(*slot);
        get_page(pa);
        Some(pa)
    }

    /// How much of `len` bytes at `offset` lies before the end of the file.
    fn readable_len(&self, offset: u64, len: usize) -> usize {
        let size = self.size();
        (size.saturating_sub(offset)).min(len as u64) as usize
    }

    /// Read at `pos` into `to` (Linux's `filemap_read`): page by page, with a reference
    /// held on the page and no lock across the copy; a hole reads as zeros. Stops at the
    /// first fault (EFAULT if nothing was copied).
    pub fn read_iter(&self, pos: u64, to: &mut IovIter<'_>) -> Result<usize, Errno> {
        static ZEROS: [u8; PAGE_SIZE as usize] = [0; PAGE_SIZE as usize];
        let len = self.readable_len(pos, to.count());
        let mut done = 0usize;
        while done < len {
            let at = pos + done as u64;
            let in_page = (at % PAGE_SIZE) as usize;
            let n = (PAGE_SIZE as usize - in_page).min(len - done);
            let copied = match self.get(page_index(at), false) {
                Some(pa) => {
                    // SAFETY: a referenced page of RAM, read through the linear map; the
                    // slice stays inside it. Writers racing with this read give torn data,
                    // as on Linux, never unsafety for the kernel.
                    let src = unsafe { core::slice::from_raw_parts(page_ptr(pa).add(in_page), n) };
                    let copied = to.copy_to_iter(src);
                    put_page(pa);
                    copied
                }
                None => to.copy_to_iter(&ZEROS[..n]),
            };
            if copied < n {
                return short_copy(done, copied, n);
            }
            done += n;
        }
        Ok(done)
    }

    /// Write `from` at `pos`, growing the file to the end of what was copied (Linux's
    /// `generic_perform_write`); holes written get new pages. The caller checks the size
    /// limit. ENOSPC if no page could be had for the first byte.
    pub fn write_iter(&self, pos: u64, from: &mut IovIter<'_>) -> Result<usize, Errno> {
        let len = from.count();
        let mut done = 0usize;
        let mut result = Ok(());
        while done < len {
            let at = pos + done as u64;
            let in_page = (at % PAGE_SIZE) as usize;
            let n = (PAGE_SIZE as usize - in_page).min(len - done);
            let Some(pa) = self.get(page_index(at), true) else {
                result = Err(Errno::ENOSPC);
                break;
            };
            // SAFETY: a referenced page of RAM, written through the linear map inside its
            // bounds; mappers see the bytes as they land, as on Linux.
            let dst = unsafe { core::slice::from_raw_parts_mut(page_ptr(pa).add(in_page), n) };
            let copied = from.copy_from_iter(dst);
            put_page(pa);
            done += copied;
            if copied < n {
                result = Err(Errno::EFAULT);
                break;
            }
        }
        if done > 0 {
            self.grow_to(pos + done as u64);
            return Ok(done);
        }
        result.map(|()| 0)
    }

    fn grow_to(&self, end: u64) {
        let mut guard = self.pages.lock();
        guard.size = guard.size.max(end);
    }

    /// Set the size (Linux's `truncate_setsize` + `truncate_pagecache`): growing adds a
    /// hole; shrinking drops the pages past the new end from the cache, zeroes the tail of
    /// the last partial page, and unmaps the dropped pages from every address space that
    /// maps them, so touching them there gives SIGBUS.
    pub fn truncate(&self, len: u64) {
        let first_gone = len.div_ceil(PAGE_SIZE);
        let (dropped, shrunk) = {
            let mut guard = self.pages.lock();
            let shrunk = len < guard.size;
            guard.size = len;
            let dropped = guard.pages.split_off(&first_gone);
            if !len.is_multiple_of(PAGE_SIZE) {
                if let Some(&slot) = guard.pages.get(&page_index(len)) {
                    let from = (len % PAGE_SIZE) as usize;
                    // SAFETY: a page the cache holds, written inside its bounds; mappers
                    // see the zeroes as they would on Linux.
                    unsafe {
                        core::ptr::write_bytes(
                            page_ptr(slot_pa(slot)).add(from),
                            0,
                            PAGE_SIZE as usize - from,
                        )
                    };
                }
            }
            (dropped, shrunk)
        };
        if shrunk {
            self.unmap_mapping_range(first_gone);
        }
        self.release(dropped.into_values());
    }

    /// Unmap file pages from `first` on in every address space that maps this cache
    /// (Linux's `unmap_mapping_range`, private copies included as truncation wants).
    fn unmap_mapping_range(&self, first: u64) {
        let mappers: Vec<Arc<MmStruct>> = {
            let mut list = self.mappers.lock();
            list.retain(|w| w.strong_count() > 0);
            list.iter().filter_map(Weak::upgrade).collect()
        };
        for mm in mappers {
            mm.unmap_file_pages(self, first);
        }
    }

    /// Count an opener that may write the file (Linux's `get_write_access`): ETXTBSY while
    /// a program runs from it.
    pub fn get_write_access(&self) -> Result<(), Errno> {
        self.writecount
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |v| {
                (v >= 0).then_some(v + 1)
            })
            .map(|_| ())
            .map_err(|_| Errno::ETXTBSY)
    }

    /// The opener that may write is gone (`put_write_access`).
    pub fn put_write_access(&self) {
        self.writecount.fetch_sub(1, Ordering::AcqRel);
    }

    /// Count a program running from the file (Linux's `deny_write_access`, which `execve`
    /// takes for `mm->exe_file`): ETXTBSY while the file is open for writing.
    pub fn deny_write_access(&self) -> Result<(), Errno> {
        self.writecount
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |v| {
                (v <= 0).then_some(v - 1)
            })
            .map(|_| ())
            .map_err(|_| Errno::ETXTBSY)
    }

    /// The program is gone (`allow_write_access`).
    pub fn allow_write_access(&self) {
        self.writecount.fetch_add(1, Ordering::AcqRel);
    }

    /// Whether a program runs from the file (so it may not be written or truncated).
    pub fn is_text_busy(&self) -> bool {
        self.writecount.load(Ordering::Acquire) < 0
    }

    /// Whether the cache holds the page at `index` (Linux's `mincore_page`).
    pub fn is_cached(&self, index: u64) -> bool {
        self.pages.lock().pages.contains_key(&index)
    }

    /// Whether some address space maps this cache shared and writable, or may make it so
    /// (a `VM_SHARED | VM_MAYWRITE` VMA: Linux's `i_mmap_writable > 0`).
    pub fn has_shared_writable_mapping(&self) -> bool {
        let mappers: Vec<Arc<MmStruct>> = {
            let mut list = self.mappers.lock();
            list.retain(|w| w.strong_count() > 0);
            list.iter().filter_map(Weak::upgrade).collect()
        };
        mappers.iter().any(|mm| {
            let inner = mm.inner.lock();
            inner.vmas.iter().any(|vma| {
                vma.flags.contains(VmFlags::SHARED | VmFlags::MAYWRITE)
                    && inner
                        .vm_file(vma)
                        .is_some_and(|f| core::ptr::eq(Arc::as_ptr(&f.mapping), self))
            })
        })
    }

    /// Note that `mm` maps (or may map) this cache.
    pub fn add_mapper(&self, mm: &Arc<MmStruct>) {
        let mut list = self.mappers.lock();
        if !list
            .iter()
            .any(|w| core::ptr::eq(w.as_ptr(), Arc::as_ptr(mm)))
        {
            list.retain(|w| w.strong_count() > 0);
            list.push(Arc::downgrade(mm));
        }
    }

    /// Note that `mm` maps this cache no more (and forget address spaces that are gone).
    pub fn remove_mapper(&self, mm: &MmStruct) {
        self.mappers
            .lock()
            .retain(|w| w.strong_count() > 0 && !core::ptr::eq(w.as_ptr(), mm));
    }

    /// Give back the cache's references on `pages`.
    fn release(&self, pages: impl Iterator<Item = Slot>) {
        for slot in pages {
            NR_FILE_PAGES.fetch_sub(1, Ordering::Relaxed);
            NR_SHMEM.fetch_sub(1, Ordering::Relaxed);
            put_page(slot_pa(slot));
        }
    }
}

impl Drop for AddressSpace {
    fn drop(&mut self) {
        let pages = core::mem::take(&mut self.pages.get_mut().pages);
        self.release(pages.into_values());
    }
}
