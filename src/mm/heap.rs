//! The kernel heap: `Box`, `Vec` and friends (Linux's `kmalloc`: SLUB caches for small
//! sizes, `kmalloc_large` → `alloc_pages` for big ones; `mm/slub.c`, `mm/slab_common.c`).
//!
//! Every byte of the heap is a page of the buddy allocator reached through the linear map,
//! and every page goes back to the buddy allocator once nothing on it is in use, so the
//! memory a fork bomb's thousands of task structs took comes back when they are reaped.
//!
//! - Small blocks (up to 2048 bytes) come from size classes of powers of two, 16 … 2048
//!   bytes (Linux's `kmalloc-16` … `kmalloc-2k`). A class carves whole pages ("slabs")
//!   into blocks of its size; free blocks sit on the class's doubly linked free list. Each
//!   slab page's reference count (`mm::pages`, Linux keeps slab counters in `struct page`
//!   too) counts its blocks in use. When it drops to zero the page's blocks are taken off
//!   the list and the page is freed, except that each class keeps one empty slab, so that
//!   an allocation and a free in a loop do not take and give back a page each time (Linux's
//!   `min_partial`).
//! - Larger blocks up to 16 KiB are whole pages: the smallest block of 2^order pages that
//!   holds them, split into single pages, the ones past the end given back at once (Linux's
//!   `alloc_pages_exact`), and freed page by page.
//! - Blocks past 16 KiB (a program read for `execve`, a long list) are mapped page by page
//!   by `vmalloc` (Linux's `kvmalloc`): they need no physically contiguous memory, which a
//!   fragmented machine may not have, and may be larger than the buddy allocator's largest
//!   block.
//!
//! The heap may take the free pages the page allocator keeps in reserve (see
//! `pages::alloc_pages_reserve`): user memory, stacks and page tables run out first, and
//! the kernel can still allocate what it needs to fail a fork or kill and reap a process.
//!
//! The linear map gives each block the physical alignment of its page, so a block of a
//! class is aligned to its size and a large block to its 2^order pages.

use core::alloc::{GlobalAlloc, Layout};
use core::sync::atomic::{AtomicU64, Ordering};

use crate::arch::memory::{phys_to_virt, virt_to_phys, PAGE_SIZE};
use crate::kernel::locking::SpinLock;
use crate::mm::page_alloc::get_order;
use crate::mm::pages::{alloc_pages_reserve, free_pages, slab_inuse, split_page};
use crate::mm::vmalloc::{vfree, vmalloc};

/// The smallest size class: two words, enough for a free block's two list links.
const MIN_CLASS_SHIFT: u32 = 4;
/// The largest size class, 2048 bytes: two blocks to a page.
const MAX_CLASS_SHIFT: u32 = 11;
/// Size classes: 16, 32, 64, 128, 256, 512, 1024, 2048.
const NR_CLASSES: usize = (MAX_CLASS_SHIFT - MIN_CLASS_SHIFT + 1) as usize;

/// The size class of `layout`: the index of the smallest power of two, at least 16, that
/// holds its size and satisfies its alignment; `None` past 2048 bytes.
fn size_class(layout: Layout) -> Option<usize> {
    let need = layout.size().max(layout.align()).max(1 << MIN_CLASS_SHIFT);
    let shift = need.next_power_of_two().trailing_zeros();
    (shift <= MAX_CLASS_SHIFT).then(|| (shift - MIN_CLASS_SHIFT) as usize)
}

/// The size of the blocks of class `class`.
const fn class_size(class: usize) -> usize {
    1 << (class as u32 + MIN_CLASS_SHIFT)
}

/// A free block of a class: its links on the class's free list.
#[repr(C)]
struct FreeBlock {
    next: *mut FreeBlock,
    prev: *mut FreeBlock,
}

/// One size class (Linux's `kmem_cache`).
///
/// # Invariants
///
/// `free` is null or the first of a doubly linked list of the class's free blocks, each a
/// `class_size` piece of a slab page of this class, not in use. A slab page's `slab_inuse`
/// count is the number of its blocks not on the list. `empty` is null or a slab page of
/// this class with no block in use, whose blocks are all on the list.
struct SizeClass {
    free: *mut FreeBlock,
    empty: *mut u8,
}

/// The heap. Lock: its own, taken before the page allocator's.
struct KernelHeap {
    classes: [SizeClass; NR_CLASSES],
}

// SAFETY: the raw pointers point into pages of the linear map, which every CPU maps; the
// SpinLock around the heap serialises all access.
unsafe impl Send for KernelHeap {}

static HEAP: SpinLock<KernelHeap> = SpinLock::new(KernelHeap {
    classes: [const {
        SizeClass {
            free: core::ptr::null_mut(),
            empty: core::ptr::null_mut(),
        }
    }; NR_CLASSES],
});

/// Pages the heap holds now (slabs and large blocks).
static HEAP_PAGES: AtomicU64 = AtomicU64::new(0);
/// Bytes handed out and not freed (blocks counted at their class's size, large blocks at
/// their pages).
static HEAP_USED: AtomicU64 = AtomicU64::new(0);

/// The allocator Rust's `alloc` crate uses.
pub struct KernelAllocator;

#[global_allocator]
static GLOBAL: KernelAllocator = KernelAllocator;

/// Nothing to set up: the heap takes pages from the buddy allocator as it needs them.
/// Called from `mm_init`, after `mem_init`; checks that a page can be had.
pub fn heap_init() {
    let probe = alloc::boxed::Box::new(0u64);
    assert!(*probe == 0, "heap_init: the kernel heap does not work");
}

/// Bytes of pages the heap holds, and bytes in use.
pub fn heap_stats() -> (u64, u64) {
    (
        HEAP_PAGES.load(Ordering::Relaxed) * PAGE_SIZE,
        HEAP_USED.load(Ordering::Relaxed),
    )
}

/// The page a block lies in.
fn page_of(block: *mut u8) -> *mut u8 {
    (block as u64 & !(PAGE_SIZE - 1)) as *mut u8
}

impl SizeClass {
    /// Put `block` at the head of the free list.
    ///
    /// # Safety
    ///
    /// `block` is a free block of this class, not on the list.
    unsafe fn push(&mut self, block: *mut FreeBlock) {
        // SAFETY: the caller gives us the block; the list's head is a free block (invariant).
        unsafe {
            block.write(FreeBlock {
                next: self.free,
                prev: core::ptr::null_mut(),
            });
            if !self.free.is_null() {
                (*self.free).prev = block;
            }
        }
        self.free = block;
    }

    /// Take `block` off the free list.
    ///
    /// # Safety
    ///
    /// `block` is on the list.
    unsafe fn unlink(&mut self, block: *mut FreeBlock) {
        // SAFETY: blocks on the list hold valid links to their neighbours (invariant).
        unsafe {
            let FreeBlock { next, prev } = block.read();
            if prev.is_null() {
                self.free = next;
            } else {
                (*prev).next = next;
            }
            if !next.is_null() {
                (*next).prev = prev;
            }
        }
    }

    /// Carve a new page into blocks of `size` and put them on the list. False if memory
    /// ran out.
    fn grow(&mut self, size: usize) -> bool {
        let Some(pa) = alloc_pages_reserve(0) else {
            return false;
        };
        HEAP_PAGES.fetch_add(1, Ordering::Relaxed);
        slab_inuse(pa).store(0, Ordering::Relaxed);
        let page = phys_to_virt(pa) as *mut u8;
        for i in (0..PAGE_SIZE as usize / size).rev() {
            // SAFETY: the page is ours, mapped by the linear map; each block is a distinct
            // `size` piece of it, free.
            unsafe { self.push(page.add(i * size).cast()) };
        }
        self.empty = page;
        true
    }

    /// A block of `size` bytes, or null.
    fn alloc(&mut self, size: usize) -> *mut u8 {
        if self.free.is_null() && !self.grow(size) {
            return core::ptr::null_mut();
        }
        let block = self.free;
        // SAFETY: `block` heads the list.
        unsafe { self.unlink(block) };
        let page = page_of(block.cast());
        if page == self.empty {
            self.empty = core::ptr::null_mut();
        }
        slab_inuse(virt_to_phys(page as u64)).fetch_add(1, Ordering::Relaxed);
        block.cast()
    }

    /// Give back `block` of `size` bytes; free its page if that leaves it empty and the
    /// class already keeps an empty page.
    ///
    /// # Safety
    ///
    /// `block` came from `alloc` of this class and is no longer used.
    unsafe fn free(&mut self, block: *mut u8, size: usize) {
        // SAFETY: the caller's promise.
        unsafe { self.push(block.cast()) };
        let page = page_of(block);
        let pa = virt_to_phys(page as u64);
        if slab_inuse(pa).fetch_sub(1, Ordering::Relaxed) != 1 {
            return;
        }
        if self.empty.is_null() {
            self.empty = page;
            return;
        }
        for i in 0..PAGE_SIZE as usize / size {
            // SAFETY: no block of the page is in use, so every one is on the list.
            unsafe { self.unlink(page.add(i * size).cast()) };
        }
        free_pages(pa, 0);
        HEAP_PAGES.fetch_sub(1, Ordering::Relaxed);
    }
}

/// The pages of a large block of `layout`: how many, and the order of the block they are
/// cut from (large enough for the alignment too).
fn large_pages(layout: Layout) -> (usize, usize) {
    let pages = (layout.size() as u64).div_ceil(PAGE_SIZE).max(1);
    let order = get_order(layout.size().max(layout.align()) as u64);
    (pages as usize, order)
}

/// The largest block [`alloc_large`] takes from the buddy allocator; larger ones are
/// `vmalloc`ed.
const MAX_CONTIGUOUS: usize = 16 * 1024;

/// True if a block of `layout` is `vmalloc`ed (its alignment is within a page, which
/// `vmalloc`'s page-aligned blocks satisfy).
fn is_vmalloced(layout: Layout) -> bool {
    layout.size() > MAX_CONTIGUOUS && layout.align() <= PAGE_SIZE as usize
}

/// A large block: whole pages, the tail past `layout.size()` given back, or `vmalloc`ed.
fn alloc_large(layout: Layout) -> *mut u8 {
    let (pages, order) = large_pages(layout);
    if is_vmalloced(layout) {
        let Some(va) = vmalloc(pages as u64 * PAGE_SIZE) else {
            return core::ptr::null_mut();
        };
        HEAP_PAGES.fetch_add(pages as u64, Ordering::Relaxed);
        HEAP_USED.fetch_add(pages as u64 * PAGE_SIZE, Ordering::Relaxed);
        return va as *mut u8;
    }
    let Some(pa) = alloc_pages_reserve(order) else {
        return core::ptr::null_mut();
    };
    if order > 0 {
        split_page(pa, order);
        for i in pages..1 << order {
            free_pages(pa + i as u64 * PAGE_SIZE, 0);
        }
    }
    HEAP_PAGES.fetch_add(pages as u64, Ordering::Relaxed);
    HEAP_USED.fetch_add(pages as u64 * PAGE_SIZE, Ordering::Relaxed);
    phys_to_virt(pa) as *mut u8
}

/// Free a block from [`alloc_large`].
fn free_large(ptr: *mut u8, layout: Layout) {
    let (pages, _) = large_pages(layout);
    if is_vmalloced(layout) {
        vfree(ptr as u64, pages as u64 * PAGE_SIZE);
    } else {
        let pa = virt_to_phys(ptr as u64);
        for i in 0..pages {
            free_pages(pa + i as u64 * PAGE_SIZE, 0);
        }
    }
    HEAP_PAGES.fetch_sub(pages as u64, Ordering::Relaxed);
    HEAP_USED.fetch_sub(pages as u64 * PAGE_SIZE, Ordering::Relaxed);
}

// SAFETY: blocks are distinct pieces of pages the heap owns (a class's slab pages or a large
// block's pages), mapped by the linear map, and stay so until freed; `dealloc` is only given
// what `alloc` returned, with the same layout, so it finds the same class or page count.
unsafe impl GlobalAlloc for KernelAllocator {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        let Some(class) = size_class(layout) else {
            return alloc_large(layout);
        };
        let block = HEAP.lock().classes[class].alloc(class_size(class));
        if !block.is_null() {
            HEAP_USED.fetch_add(class_size(class) as u64, Ordering::Relaxed);
        }
        block
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        if ptr.is_null() {
            return;
        }
        let Some(class) = size_class(layout) else {
            return free_large(ptr, layout);
        };
        // SAFETY: `alloc` gave `ptr` from this class (same layout), and the caller is done.
        unsafe { HEAP.lock().classes[class].free(ptr, class_size(class)) };
        HEAP_USED.fetch_sub(class_size(class) as u64, Ordering::Relaxed);
    }
}
