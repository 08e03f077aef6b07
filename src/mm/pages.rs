//! The kernel's page allocator: the one buddy zone, locked (Linux: `mm/page_alloc.c`,
//! `alloc_pages` / `__free_pages`, and `mm/mm_init.c`, `mem_init`).
//!
//! `mem_init` takes the metadata array from memblock, builds the [`BuddyAllocator`] over all
//! of RAM, hands it every range memblock left free, and prints Linux's `Memory:` line. From
//! then on every page — page tables, kernel stacks, the heap, user memory — comes from here.
//!
//! Order-0 pages also carry a reference count (Linux's `page_ref`): a page is freed when the
//! last holder lets go (the page cache holds one reference on each of its pages, every
//! page-table entry another). The count's top bit marks anonymous memory (`PageAnon`, for
//! `AnonPages`). Beside it each page has a map count (`_mapcount`): how many page-table
//! entries map it, which gives `Mapped` for page-cache pages.
//!
//! Freed order-0 pages first go on a short list of hot pages in front of the buddy
//! allocator, and order-0 allocations take from it first (Linux's per-CPU page lists,
//! `struct per_cpu_pages`, here one list under the zone's lock): page faults, page tables
//! and copy-on-write allocate and free single pages all the time, and splitting and merging
//! buddies for each one cost more than the rest of the allocation. When the list is full,
//! half of it goes back to the buddy allocator; a larger allocation that fails drains it
//! and tries again.

use core::sync::atomic::{AtomicU32, Ordering};

use crate::arch::memory::{phys_to_virt, PAGE_SIZE};
use crate::kernel::locking::{InitOnce, SpinLock};
use crate::mm::page_alloc::{meta_pages_needed, pfn_phys, phys_pfn, BuddyAllocator, PageMeta};

/// How many free order-0 pages the hot list holds at most (Linux's `pcp->high`): 1 MiB.
const HOT_PAGES: usize = 256;

/// The buddy allocator and the hot list in front of it.
///
/// # Invariants
///
/// `hot[..nr_hot]` are free order-0 pages taken out of `buddy`: free, but not in its lists,
/// and marked held there (`BuddyAllocator::hold_free`), which catches double frees.
struct Zone {
    buddy: Option<BuddyAllocator<'static>>,
    hot: [u64; HOT_PAGES],
    nr_hot: usize,
}

impl Zone {
    fn buddy(&mut self) -> &mut BuddyAllocator<'static> {
        self.buddy
            .as_mut()
            .expect("page allocator used before mem_init")
    }

    /// Give the hot list's pages `[keep..]` back to the buddy allocator.
    fn drain(&mut self, keep: usize) {
        while self.nr_hot > keep {
            self.nr_hot -= 1;
            let pfn = self.hot[self.nr_hot];
            let buddy = self.buddy();
            buddy.take_held(pfn);
            buddy.free_pages(pfn, 0);
        }
    }
}

/// The zone. Lock: its own; never held while taking another lock but the caller's.
static ZONE: SpinLock<Zone> = SpinLock::new(Zone {
    buddy: None,
    hot: [0; HOT_PAGES],
    nr_hot: 0,
});

/// The top bit of a page's reference count word: the page is anonymous memory of some
/// process (Linux's `PageAnon`), counted in `AnonPages` until it is freed.
const PAGE_ANON: u32 = 1 << 31;

/// Anonymous pages in use (Linux's `NR_ANON_MAPPED`).
static NR_ANON_PAGES: AtomicU32 = AtomicU32::new(0);

/// Reference counts, one per page frame of the zone, indexed by `pfn - base_pfn` (the top
/// bit is [`PAGE_ANON`]); then map counts, indexed the same way; then `base_pfn`.
static PAGE_REFS: InitOnce<(&'static [AtomicU32], &'static [AtomicU32], u64)> = InitOnce::new();

/// Page-cache pages that at least one page-table entry maps (Linux's `NR_FILE_MAPPED`).
static NR_FILE_MAPPED: AtomicU32 = AtomicU32::new(0);

/// Pages handed to the buddy allocator at boot (Linux's `totalram_pages`).
static TOTALRAM_PAGES: AtomicU32 = AtomicU32::new(0);

/// Build the zone from memblock. Called once, after `paging_init` (the metadata is
/// written through the linear map).
pub fn mem_init() {
    let mut mb = crate::arch::mm_init::MEMBLOCK.lock();
    let (Some(start), Some(end)) = (mb.start_of_dram(), mb.end_of_dram()) else {
        panic!("mem_init: no memory in memblock");
    };
    let base_pfn = phys_pfn(start);
    let npages = (phys_pfn(end) - base_pfn) as usize;
    let meta_bytes = (meta_pages_needed(npages) as u64) * PAGE_SIZE;
    // A reference count and a map count per page.
    let refs_bytes = (npages as u64 * 8).next_multiple_of(PAGE_SIZE);
    let Some(meta_pa) = mb.alloc(meta_bytes + refs_bytes, PAGE_SIZE) else {
        panic!("mem_init: no memory for {npages} pages of page metadata");
    };
    let meta_va = phys_to_virt(meta_pa) as *mut u8;
    // SAFETY: memblock just reserved these bytes for us, and the linear map covers all RAM
    // since paging_init. Nothing else refers to them; zeroing makes valid PageMeta entries
    // and zero reference counts.
    unsafe { core::ptr::write_bytes(meta_va, 0, (meta_bytes + refs_bytes) as usize) };
    // SAFETY: zeroed memory is a valid [PageMeta] (see PageMeta's docs); the region is
    // reserved forever and this is the only reference to it.
    let meta = unsafe { core::slice::from_raw_parts_mut(meta_va.cast::<PageMeta>(), npages) };
    // SAFETY: as above, the bytes after the metadata are ours; zero is a valid AtomicU32.
    let counts = unsafe {
        core::slice::from_raw_parts(
            meta_va.add(meta_bytes as usize).cast::<AtomicU32>(),
            2 * npages,
        )
    };
    let (refs, mapcounts) = counts.split_at(npages);
    let mut zone = BuddyAllocator::new(meta, base_pfn);
    for range in mb.iter_free() {
        let first = phys_pfn(range.base.next_multiple_of(PAGE_SIZE));
        let last = phys_pfn(range.end());
        if last > first {
            zone.free_range(first, last);
        }
    }
    TOTALRAM_PAGES.store(zone.total_pages() as u32, Ordering::Relaxed);
    let _ = PAGE_REFS.set((refs, mapcounts, base_pfn));
    ZONE.lock().buddy = Some(zone);
}

/// Free pages now.
pub fn nr_free_pages() -> u64 {
    let zone = ZONE.lock();
    zone.buddy
        .as_ref()
        .map_or(0, |b| b.nr_free_pages() + zone.nr_hot as u64)
}

/// Pages the allocator manages.
pub fn totalram_pages() -> u64 {
    TOTALRAM_PAGES.load(Ordering::Relaxed) as u64
}

/// Free blocks of each order (for `/proc/buddyinfo` and tests), after the hot list has
/// gone back to the buddy allocator to merge.
pub fn free_counts() -> [usize; crate::mm::page_alloc::NR_PAGE_ORDERS] {
    let mut zone = ZONE.lock();
    if zone.buddy.is_some() {
        zone.drain(0);
    }
    core::array::from_fn(|order| zone.buddy.as_ref().map_or(0, |z| z.free_count(order)))
}

/// Free pages kept for the kernel heap (Linux's `min_free_kbytes` watermark, `WMARK_MIN`):
/// [`alloc_pages`] fails when it would go below them; only [`alloc_pages_reserve`] (the
/// heap, Linux's `__GFP_HIGH`) may use them. So when user memory, page tables, kernel
/// stacks or forks run out of memory they fail with ENOMEM (or the OOM path) while the
/// kernel still has the few pages it needs to unwind, kill and reap. 1/128 of RAM, at
/// least 128 pages and at most 16 MiB.
fn min_free_pages() -> u64 {
    (totalram_pages() / 128).clamp(128, 4096)
}

/// Allocate 2^order contiguous pages; their physical address, or `None` when memory is out
/// (short of the heap's reserve, see [`min_free_pages`]).
pub fn alloc_pages(order: usize) -> Option<u64> {
    alloc_pages_watermark(order, min_free_pages())
}

/// [`alloc_pages`] for the kernel heap, which may take the reserve's pages too.
pub fn alloc_pages_reserve(order: usize) -> Option<u64> {
    alloc_pages_watermark(order, 0)
}

fn alloc_pages_watermark(order: usize, keep: u64) -> Option<u64> {
    let pfn = {
        let mut zone = ZONE.lock();
        let free = zone.buddy.as_ref()?.nr_free_pages() + zone.nr_hot as u64;
        if free < keep + (1 << order) {
            return None;
        }
        if order == 0 && zone.nr_hot > 0 {
            zone.nr_hot -= 1;
            let pfn = zone.hot[zone.nr_hot];
            zone.buddy().take_held(pfn);
            pfn
        } else if let Some(pfn) = zone.buddy().alloc_pages(order) {
            pfn
        } else if zone.nr_hot > 0 {
            // The hot list may hold what a larger block needs to merge.
            zone.drain(0);
            zone.buddy().alloc_pages(order)?
        } else {
            return None;
        }
    };
    if order == 0 {
        if let Some(r) = page_ref(pfn_phys(pfn)) {
            r.store(1, Ordering::Relaxed);
        }
    }
    Some(pfn_phys(pfn))
}

/// A zeroed page.
pub fn get_zeroed_page() -> Option<u64> {
    let pa = alloc_pages(0)?;
    // SAFETY: the page was just allocated for us, and the linear map covers it with Normal
    // memory.
    unsafe { crate::arch::page::clear_page(phys_to_virt(pa) as *mut u8) };
    // The zeroes before whatever publishes the page: a table descriptor another CPU's
    // walker follows, a user PTE another thread's loads go through (Linux's smp_wmb in
    // __pte_alloc and __SetPageUptodate).
    crate::arch::barrier::smp_wmb();
    Some(pa)
}

/// Give back 2^order pages from `alloc_pages`.
pub fn free_pages(pa: u64, order: usize) {
    let mut zone = ZONE.lock();
    if order == 0 {
        if zone.nr_hot == HOT_PAGES {
            zone.drain(HOT_PAGES / 2);
        }
        let pfn = phys_pfn(pa);
        zone.buddy().hold_free(pfn);
        let n = zone.nr_hot;
        zone.hot[n] = pfn;
        zone.nr_hot += 1;
    } else {
        zone.buddy().free_pages(phys_pfn(pa), order);
    }
}

/// Split an allocated block of 2^order pages into order-0 pages, each freed on its own with
/// `free_pages(pa, 0)` (Linux's `split_page`).
pub fn split_page(pa: u64, order: usize) {
    ZONE.lock().buddy().split_page(phys_pfn(pa), order);
    for i in 1..1u64 << order {
        if let Some(r) = page_ref(pa + i * PAGE_SIZE) {
            r.store(1, Ordering::Relaxed);
        }
    }
}

/// The count of blocks in use on a page the kernel heap carved into blocks (the heap keeps
/// it in the page's reference count, as Linux keeps slab counters in `struct page`).
///
/// Panics if `pa` is not a page of RAM: the heap only passes pages it allocated.
pub fn slab_inuse(pa: u64) -> &'static AtomicU32 {
    page_ref(pa).expect("slab_inuse on a page outside RAM")
}

fn page_ref(pa: u64) -> Option<&'static AtomicU32> {
    let (refs, _, base) = *PAGE_REFS.get()?;
    refs.get(phys_pfn(pa).checked_sub(base)? as usize)
}

fn page_mapcount_ref(pa: u64) -> Option<&'static AtomicU32> {
    let (_, mapcounts, base) = *PAGE_REFS.get()?;
    mapcounts.get(phys_pfn(pa).checked_sub(base)? as usize)
}

/// Whether a mapped page counts in `Mapped`: not anonymous memory, not the zero page.
fn is_file_page(pa: u64) -> bool {
    page_ref(pa).is_some_and(|r| r.load(Ordering::Relaxed) & PAGE_ANON == 0)
        && Some(pa) != crate::mm::fault::zero_page_if_made()
}

/// A page-table entry now maps the page (Linux's `page_add_*_rmap`: `_mapcount`).
pub fn page_add_rmap(pa: u64) {
    if let Some(m) = page_mapcount_ref(pa) {
        if m.fetch_add(1, Ordering::Relaxed) == 0 && is_file_page(pa) {
            NR_FILE_MAPPED.fetch_add(1, Ordering::Relaxed);
        }
    }
}

/// A page-table entry that mapped the page is gone (`page_remove_rmap`). Call before the
/// entry's reference is dropped.
pub fn page_remove_rmap(pa: u64) {
    if let Some(m) = page_mapcount_ref(pa) {
        let old = m.fetch_sub(1, Ordering::Relaxed);
        assert!(old > 0, "page_remove_rmap: page {pa:#x} was not mapped");
        if old == 1 && is_file_page(pa) {
            NR_FILE_MAPPED.fetch_sub(1, Ordering::Relaxed);
        }
    }
}

/// Another page-table entry maps a page already mapped (fork's copy): a reference and a
/// map count in one look-up (Linux's `get_page` + `page_dup_file_rmap`).
pub fn page_dup_rmap(pa: u64) {
    let Some(&(refs, mapcounts, base)) = PAGE_REFS.get() else {
        return;
    };
    let Some(index) = phys_pfn(pa).checked_sub(base).map(|i| i as usize) else {
        return;
    };
    if let (Some(r), Some(m)) = (refs.get(index), mapcounts.get(index)) {
        r.fetch_add(1, Ordering::Relaxed);
        if m.fetch_add(1, Ordering::Relaxed) == 0 && is_file_page(pa) {
            NR_FILE_MAPPED.fetch_add(1, Ordering::Relaxed);
        }
    }
}

/// How many page-table entries map the page (Linux's `page_mapcount`).
pub fn page_mapcount(pa: u64) -> u32 {
    page_mapcount_ref(pa).map_or(0, |m| m.load(Ordering::Relaxed))
}

/// Page-cache pages some process maps (`Mapped` in `/proc/meminfo`).
pub fn nr_file_mapped() -> u64 {
    NR_FILE_MAPPED.load(Ordering::Relaxed) as u64
}

/// Take another reference to an order-0 page (Linux's `get_page`).
pub fn get_page(pa: u64) {
    if let Some(r) = page_ref(pa) {
        r.fetch_add(1, Ordering::Relaxed);
    }
}

/// Drop a reference to an order-0 page, freeing it with the last one (Linux's `put_page`).
/// Returns true if the page was freed.
pub fn put_page(pa: u64) -> bool {
    let r = page_ref(pa).expect("put_page on a page outside RAM");
    let old = r.fetch_sub(1, Ordering::AcqRel);
    assert!(
        old & !PAGE_ANON > 0,
        "put_page: page {pa:#x} had no references"
    );
    if old & !PAGE_ANON == 1 {
        if old & PAGE_ANON != 0 {
            r.fetch_and(!PAGE_ANON, Ordering::Relaxed);
            NR_ANON_PAGES.fetch_sub(1, Ordering::Relaxed);
        }
        free_pages(pa, 0);
        true
    } else {
        false
    }
}

/// References held on an order-0 page (Linux's `page_count`).
pub fn page_count(pa: u64) -> u32 {
    page_ref(pa).map_or(0, |r| r.load(Ordering::Relaxed) & !PAGE_ANON)
}

/// Mark a page just allocated for a process's anonymous memory (Linux's
/// `folio_add_new_anon_rmap`): it counts in `AnonPages` until freed.
pub fn set_page_anon(pa: u64) {
    if let Some(r) = page_ref(pa) {
        if r.fetch_or(PAGE_ANON, Ordering::Relaxed) & PAGE_ANON == 0 {
            NR_ANON_PAGES.fetch_add(1, Ordering::Relaxed);
        }
    }
}

/// Anonymous pages in use (`AnonPages` in `/proc/meminfo`).
pub fn nr_anon_pages() -> u64 {
    NR_ANON_PAGES.load(Ordering::Relaxed) as u64
}

/// Give memory that memblock reserved at boot to the allocator (Linux's
/// `free_reserved_area`). Returns the number of pages freed.
pub fn free_reserved_area(start: u64, end: u64) -> u64 {
    let (first, last) = (phys_pfn(start.next_multiple_of(PAGE_SIZE)), phys_pfn(end));
    if last <= first {
        return 0;
    }
    ZONE.lock().buddy().free_range(first, last);
    TOTALRAM_PAGES.fetch_add((last - first) as u32, Ordering::Relaxed);
    last - first
}
