//! The kernel heap: `Box`, `Vec` and friends (Linux's `kmalloc`, in spirit).
//!
//! A `linked_list_allocator::Heap` over a window of the vmalloc area that starts empty and
//! grows on demand: when an allocation does not fit, pages come from the buddy allocator and
//! are mapped at the heap's top, and the heap is extended over them. Physical pages need not
//! be contiguous; the virtual window is.
//!
//! Small blocks (up to 512 bytes) are what the kernel allocates most — dentries, names,
//! `Arc`s of files — and a first-fit search plus hole merging made each one cost hundreds
//! of instructions. They are kept, once freed, on a free list per power-of-two size class
//! (16 … 512 bytes, Linux's `kmalloc-16` … `kmalloc-512` caches) and handed out again from
//! there; only a class with an empty list goes to the linked-list heap. Blocks of a class
//! stay in their class: as with slab caches, memory freed by small objects serves later
//! small objects of the same size rather than going back to the heap.

use core::alloc::{GlobalAlloc, Layout};
use core::ptr::NonNull;
use core::sync::atomic::{AtomicU64, Ordering};

use linked_list_allocator::Heap;

use crate::arch::memory::{HEAP_END, HEAP_START, PAGE_SIZE};
use crate::arch::paging::map_kernel_page;
use crate::arch::pgtable::PAGE_KERNEL;
use crate::kernel::sync::SpinLock;
use crate::mm::pages::{alloc_pages, free_pages};

/// The smallest step the heap grows by.
const GROW_MIN: u64 = 64 * 1024;

/// The smallest size class: two words, enough to hold a free-list link and aligned for it.
const MIN_CLASS_SHIFT: u32 = 4;
/// The largest size class, 512 bytes.
const MAX_CLASS_SHIFT: u32 = 9;
/// Size classes: 16, 32, 64, 128, 256, 512.
const NR_CLASSES: usize = (MAX_CLASS_SHIFT - MIN_CLASS_SHIFT + 1) as usize;

/// The size class of `layout`: the index of the smallest power of two, at least 16, that
/// holds its size and satisfies its alignment; `None` past 512 bytes.
fn size_class(layout: Layout) -> Option<usize> {
    let need = layout.size().max(layout.align()).max(1 << MIN_CLASS_SHIFT);
    let shift = need.next_power_of_two().trailing_zeros();
    (shift <= MAX_CLASS_SHIFT).then(|| (shift - MIN_CLASS_SHIFT) as usize)
}

/// The layout every block of class `class` is carved with: its size, aligned to its size,
/// so it serves any request of the class whatever its alignment.
fn class_layout(class: usize) -> Layout {
    let size = 1usize << (class as u32 + MIN_CLASS_SHIFT);
    Layout::from_size_align(size, size).expect("a power of two up to 512")
}

/// The heap; `None` until `heap_init`. Lock: its own, taken before the page allocator's.
///
/// # Invariants
///
/// `free[c]` is null or the first of a singly linked list of free blocks of class `c`,
/// each carved from the heap with `class_layout(c)`, holding the next one's address in its
/// first word; `cached` is the total size of the blocks on the lists.
struct KernelHeap {
    heap: Option<Heap>,
    free: [*mut u8; NR_CLASSES],
    cached: usize,
}

// SAFETY: the Heap's and the free lists' raw pointers point into the heap window, which
// every CPU maps; the SpinLock around it serialises all access.
unsafe impl Send for KernelHeap {}

static HEAP: SpinLock<KernelHeap> = SpinLock::new(KernelHeap {
    heap: None,
    free: [core::ptr::null_mut(); NR_CLASSES],
    cached: 0,
});

/// Bytes mapped into the heap window so far.
static HEAP_MAPPED: AtomicU64 = AtomicU64::new(0);

/// The allocator Rust's `alloc` crate uses.
pub struct KernelAllocator;

#[global_allocator]
static GLOBAL: KernelAllocator = KernelAllocator;

/// Map `bytes` more (a multiple of PAGE_SIZE) at the heap's top. Returns false if memory or
/// the window ran out; whatever was mapped stays mapped and is returned to the caller's count.
fn grow(bytes: u64) -> u64 {
    let mut mapped = 0;
    while mapped < bytes {
        let top = HEAP_START + HEAP_MAPPED.load(Ordering::Relaxed);
        if top + PAGE_SIZE > HEAP_END {
            break;
        }
        let Some(pa) = alloc_pages(0) else { break };
        if map_kernel_page(top, pa, PAGE_KERNEL).is_err() {
            free_pages(pa, 0);
            break;
        }
        HEAP_MAPPED.fetch_add(PAGE_SIZE, Ordering::Relaxed);
        mapped += PAGE_SIZE;
    }
    mapped
}

/// Start the heap with its first pages. Called from `mm_init`, after `mem_init`.
pub fn heap_init() {
    let got = grow(GROW_MIN);
    assert!(got > 0, "heap_init: no memory for the kernel heap");
    let mut heap = Heap::empty();
    // SAFETY: [HEAP_START, HEAP_START + got) was just mapped read-write for the heap alone.
    unsafe { heap.init(HEAP_START as *mut u8, got as usize) };
    HEAP.lock().heap = Some(heap);
}

/// Bytes mapped for the heap, and bytes in use.
pub fn heap_stats() -> (u64, u64) {
    let heap = HEAP.lock();
    let used = heap
        .heap
        .as_ref()
        .map_or(0, |h| (h.used() - heap.cached) as u64);
    (HEAP_MAPPED.load(Ordering::Relaxed), used)
}

impl KernelHeap {
    /// A block for `layout` from the linked-list heap, growing it if needed.
    fn allocate(&mut self, layout: Layout) -> *mut u8 {
        let Some(heap) = self.heap.as_mut() else {
            return core::ptr::null_mut();
        };
        if let Ok(ptr) = heap.allocate_first_fit(layout) {
            return ptr.as_ptr();
        }
        let want = (layout.size() as u64 + layout.align() as u64).next_multiple_of(PAGE_SIZE);
        let got = grow(want.max(GROW_MIN));
        if got > 0 {
            // SAFETY: `grow` mapped `got` bytes directly above the heap's current top.
            unsafe { heap.extend(got as usize) };
        }
        heap.allocate_first_fit(layout)
            .map_or(core::ptr::null_mut(), NonNull::as_ptr)
    }
}

// SAFETY: allocations come from the linked-list heap under its lock, never overlap, and
// stay mapped until freed; a small block sits on its class's free list only while nobody
// owns it; `dealloc` is only given what `alloc` returned, with the same layout, so it finds
// the same class.
unsafe impl GlobalAlloc for KernelAllocator {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        let mut guard = HEAP.lock();
        let Some(class) = size_class(layout) else {
            return guard.allocate(layout);
        };
        let block = guard.free[class];
        if block.is_null() {
            return guard.allocate(class_layout(class));
        }
        // SAFETY: a block on the list (type invariant): its first word, aligned, holds the
        // next one's address.
        guard.free[class] = unsafe { block.cast::<*mut u8>().read() };
        guard.cached -= class_layout(class).size();
        block
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        let mut guard = HEAP.lock();
        let Some(ptr) = NonNull::new(ptr) else {
            return;
        };
        let Some(class) = size_class(layout) else {
            if let Some(heap) = guard.heap.as_mut() {
                // SAFETY: the caller passes a pointer `alloc` returned with the same layout,
                // which for a large layout came from the heap as it is.
                unsafe { heap.deallocate(ptr, layout) };
            }
            return;
        };
        // SAFETY: the block was carved with `class_layout(class)` (same layout, same class),
        // so it is at least 16 bytes, aligned, and now ours: it may hold the list link.
        unsafe { ptr.as_ptr().cast::<*mut u8>().write(guard.free[class]) };
        guard.free[class] = ptr.as_ptr();
        guard.cached += class_layout(class).size();
    }
}
