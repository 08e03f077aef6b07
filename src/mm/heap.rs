//! The kernel heap: `Box`, `Vec` and friends (Linux's `kmalloc`, in spirit).
//!
//! A `linked_list_allocator::Heap` over a window of the vmalloc area that starts empty and
//! grows on demand: when an allocation does not fit, pages come from the buddy allocator and
//! are mapped at the heap's top, and the heap is extended over them. Physical pages need not
//! be contiguous; the virtual window is.

use core::alloc::{GlobalAlloc, Layout};
use core::ptr::NonNull;
use core::sync::atomic::{AtomicU64, Ordering};

use linked_list_allocator::Heap;

use crate::arch::arm64::memory::{HEAP_END, HEAP_START, PAGE_SIZE};
use crate::arch::arm64::paging::map_kernel_page;
use crate::arch::arm64::pgtable::PAGE_KERNEL;
use crate::kernel::sync::SpinLock;
use crate::mm::pages::{alloc_pages, free_pages};

/// The smallest step the heap grows by.
const GROW_MIN: u64 = 64 * 1024;

/// The heap; `None` until `heap_init`. Lock: its own, taken before the page allocator's.
struct KernelHeap(Option<Heap>);

// SAFETY: the Heap's raw pointers point into the heap window, which every CPU maps; the
// SpinLock around it serialises all access.
unsafe impl Send for KernelHeap {}

static HEAP: SpinLock<KernelHeap> = SpinLock::new(KernelHeap(None));

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
    HEAP.lock().0 = Some(heap);
}

/// Bytes mapped for the heap, and bytes in use.
pub fn heap_stats() -> (u64, u64) {
    let heap = HEAP.lock();
    let used = heap.0.as_ref().map_or(0, |h| h.used() as u64);
    (HEAP_MAPPED.load(Ordering::Relaxed), used)
}

// SAFETY: allocations come from the linked-list heap under its lock, never overlap, and
// stay mapped until freed; `dealloc` is only given what `alloc` returned.
unsafe impl GlobalAlloc for KernelAllocator {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        let mut guard = HEAP.lock();
        let Some(heap) = guard.0.as_mut() else {
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

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        if let (Some(heap), Some(ptr)) = (HEAP.lock().0.as_mut(), NonNull::new(ptr)) {
            // SAFETY: the caller passes a pointer `alloc` returned with the same layout.
            unsafe { heap.deallocate(ptr, layout) };
        }
    }
}
