//! The vmalloc area: kernel stacks with guard pages, and `ioremap` (Linux: `mm/vmalloc.c`,
//! `kernel/fork.c`'s `alloc_thread_stack_node` with `CONFIG_VMAP_STACK`, `mm/ioremap.c`).
//!
//! Kernel stacks live in fixed slots of `THREAD_ALIGN` (2 × THREAD_SIZE) bytes, aligned to
//! their size: the lower half is the stack, the upper half is never mapped and is the guard
//! of the next slot's stack, which grows down towards it. So every address on a stack has
//! bit THREAD_SHIFT clear and every address in a guard has it set: a stack that overflows
//! faults in the guard, and `kernel_ventry` sees the bit and reports "kernel stack
//! overflow" from a spare per-CPU stack instead of faulting forever. Slot 0 is never used,
//! so the first stack has a guard below it too.
//!
//! `vmalloc` maps large kernel heap blocks page by page in the lowest gigabyte of the area,
//! so they need no physically contiguous memory: a block takes a run of free pages of
//! address space, handed out first-fit by `linked_list_allocator` over a one-byte-a-page
//! shadow of the area, plus one page left unmapped after it as its guard; `vfree` unmaps it
//! and gives its pages and its address space back.
//!
//! `ioremap` hands out device mappings from a region that only grows: devices are mapped at
//! boot and stay mapped.

use core::alloc::Layout;
use core::cell::UnsafeCell;
use core::ptr::NonNull;
use core::sync::atomic::{AtomicU64, Ordering};

use linked_list_allocator::Heap;

use crate::arch::memory::{
    IOREMAP_END, IOREMAP_START, PAGE_SIZE, STACKS_END, STACKS_START, THREAD_ALIGN, THREAD_SIZE,
    VMALLOC_HEAP_END, VMALLOC_START,
};
use crate::arch::paging::{map_kernel_page, unmap_kernel_range};
use crate::arch::pgtable::{PAGE_KERNEL, PAGE_KERNEL_DEVICE};
use crate::kernel::locking::SpinLock;
use crate::mm::pages::{alloc_pages, alloc_pages_reserve, free_pages};

/// Pages of address space in `vmalloc`'s part of the area.
const NR_VM_PAGES: usize = ((VMALLOC_HEAP_END - VMALLOC_START) / PAGE_SIZE) as usize;

/// The shadow of `vmalloc`'s address space: byte `i` stands for page `i` of the area.
///
/// `vmalloc` hands address space out first-fit with a `linked_list_allocator::Heap` run over
/// this array: taking `n` bytes of the shadow is taking `n` pages of the area, and the
/// offset of the bytes is the index of the first page. The allocator keeps its list of holes
/// in the shadow's free bytes, and a free merges a hole with its neighbours, so the area's
/// bookkeeping is one byte a page (Linux keeps `vmap_area`s in a tree for the same job).
/// The bytes never stand for data; only the allocator reads and writes them.
struct VmShadow(UnsafeCell<[u8; NR_VM_PAGES]>);

// SAFETY: the array is only touched through the `Heap` in `VM_SPACE`, under its lock.
unsafe impl Sync for VmShadow {}

static VM_SHADOW: VmShadow = VmShadow(UnsafeCell::new([0; NR_VM_PAGES]));

/// The allocator of `vmalloc`'s address space, over [`VM_SHADOW`]; set up on first use.
static VM_SPACE: SpinLock<Option<Heap>> = SpinLock::new(None);

/// The shadow layout of a run of `pages` pages.
fn shadow_layout(pages: usize) -> Layout {
    Layout::from_size_align(pages, 1).expect("a run of pages is a valid layout")
}

/// Pages a block of `size` bytes takes: its own and one left unmapped after it, its guard.
fn vm_pages(size: u64) -> usize {
    size.div_ceil(PAGE_SIZE) as usize + 1
}

/// Find and take a run of `n` free pages of the area; the index of its first page.
fn take_pages(n: usize) -> Option<usize> {
    let mut space = VM_SPACE.lock();
    let heap = space.get_or_insert_with(|| {
        let mut heap = Heap::empty();
        // SAFETY: the shadow is static, NR_VM_PAGES bytes long, and used by this heap only.
        unsafe { heap.init(VM_SHADOW.0.get().cast(), NR_VM_PAGES) };
        heap
    });
    let run = heap.allocate_first_fit(shadow_layout(n)).ok()?;
    Some(run.as_ptr() as usize - VM_SHADOW.0.get() as usize)
}

/// Give back the run of `n` pages from [`take_pages`] that starts at page `first`.
fn release_pages(first: usize, n: usize) {
    let mut space = VM_SPACE.lock();
    let heap = space
        .as_mut()
        .expect("vmalloc space released before it was taken");
    // SAFETY: `first` is inside the shadow (it came from `take_pages`).
    let run = unsafe { NonNull::new_unchecked(VM_SHADOW.0.get().cast::<u8>().add(first)) };
    // SAFETY: `take_pages(n)` returned this run with the same layout, and it is freed once.
    unsafe { heap.deallocate(run, shadow_layout(n)) };
}

/// `size` bytes (a multiple of PAGE_SIZE) of kernel memory, virtually contiguous, from
/// single pages wherever they are (Linux's `vmalloc`); for the heap's large blocks, so it
/// may use the heap's page reserve. `None` when memory or address space ran out.
pub fn vmalloc(size: u64) -> Option<u64> {
    let first = take_pages(vm_pages(size))?;
    let base = VMALLOC_START + first as u64 * PAGE_SIZE;
    let mut mapped = 0;
    while mapped < size {
        let ok = alloc_pages_reserve(0).is_some_and(|pa| {
            let ok = map_kernel_page(base + mapped, pa, PAGE_KERNEL).is_ok();
            if !ok {
                free_pages(pa, 0);
            }
            ok
        });
        if !ok {
            if mapped > 0 {
                unmap_kernel_range(base, mapped, &mut |pa| free_pages(pa, 0));
            }
            release_pages(first, vm_pages(size));
            return None;
        }
        mapped += PAGE_SIZE;
    }
    Some(base)
}

/// Free what [`vmalloc`] returned for `size` bytes (Linux's `vfree`).
pub fn vfree(addr: u64, size: u64) {
    assert!(
        is_vmalloc_addr(addr) && (addr - VMALLOC_START).is_multiple_of(PAGE_SIZE),
        "vfree: {addr:#x} is not a vmalloc block"
    );
    unmap_kernel_range(addr, size, &mut |pa| free_pages(pa, 0));
    release_pages(
        ((addr - VMALLOC_START) / PAGE_SIZE) as usize,
        vm_pages(size),
    );
}

/// True if `addr` lies in `vmalloc`'s part of the area (Linux's `is_vmalloc_addr`).
pub fn is_vmalloc_addr(addr: u64) -> bool {
    (VMALLOC_START..VMALLOC_HEAP_END).contains(&addr)
}

const NR_STACK_SLOTS: usize = ((STACKS_END - STACKS_START) / THREAD_ALIGN as u64) as usize - 64;
const STACK_PAGES: usize = THREAD_SIZE / PAGE_SIZE as usize;

/// Which stack slots are taken: one bit each.
static STACK_SLOTS: SpinLock<[u64; NR_STACK_SLOTS / 64]> = SpinLock::new([0; NR_STACK_SLOTS / 64]);

/// The next free address for `ioremap`.
static IOREMAP_NEXT: AtomicU64 = AtomicU64::new(IOREMAP_START);

/// A kernel stack with a guard below it. Returns its lowest (mapped) address, or `None` if
/// memory or slots ran out.
pub fn alloc_thread_stack() -> Option<u64> {
    let slot = {
        let mut slots = STACK_SLOTS.lock();
        let word = slots.iter().position(|w| *w != u64::MAX)?;
        let bit = (!slots[word]).trailing_zeros() as usize;
        slots[word] |= 1 << bit;
        word * 64 + bit
    };
    let base = STACKS_START + ((slot + 1) * THREAD_ALIGN) as u64;
    for i in 0..STACK_PAGES {
        let va = base + i as u64 * PAGE_SIZE;
        let ok = alloc_pages(0).is_some_and(|pa| {
            let mapped = map_kernel_page(va, pa, PAGE_KERNEL).is_ok();
            if !mapped {
                free_pages(pa, 0);
            }
            mapped
        });
        if !ok {
            free_thread_stack_pages(base, i as u64 * PAGE_SIZE);
            release_slot(slot);
            return None;
        }
    }
    Some(base)
}

fn free_thread_stack_pages(base: u64, size: u64) {
    if size > 0 {
        unmap_kernel_range(base, size, &mut |pa| free_pages(pa, 0));
    }
}

fn release_slot(slot: usize) {
    STACK_SLOTS.lock()[slot / 64] &= !(1 << (slot % 64));
}

/// Free a stack from [`alloc_thread_stack`].
pub fn free_thread_stack(base: u64) {
    assert!(
        base > STACKS_START && base < STACKS_END && base.is_multiple_of(THREAD_ALIGN as u64),
        "free_thread_stack: {base:#x} is not a stack slot"
    );
    free_thread_stack_pages(base, THREAD_SIZE as u64);
    release_slot(((base - STACKS_START) / THREAD_ALIGN as u64) as usize - 1);
}

/// The base of the stack that `addr` lies on or in the guard of, for naming overflows.
pub fn stack_slot_of(addr: u64) -> Option<u64> {
    if !(STACKS_START..STACKS_END).contains(&addr) {
        return None;
    }
    let slot_start = addr & !(THREAD_ALIGN as u64 - 1);
    if addr - slot_start < THREAD_SIZE as u64 {
        Some(slot_start)
    } else {
        Some(slot_start + THREAD_ALIGN as u64)
    }
}

/// Map device registers at `pa` (Device-nGnRE, never executable) and return the virtual
/// address of `pa` itself (Linux's `ioremap`).
pub fn ioremap(pa: u64, size: u64) -> Option<u64> {
    ioremap_prot(pa, size, PAGE_KERNEL_DEVICE)
}

/// Map RAM the kernel does not own (a firmware's spin table) as normal cacheable memory
/// (Linux's `ioremap_cache`): the same attributes as the linear map's, so the two aliases
/// agree.
pub fn ioremap_cache(pa: u64, size: u64) -> Option<u64> {
    ioremap_prot(pa, size, PAGE_KERNEL)
}

fn ioremap_prot(pa: u64, size: u64, prot: crate::arch::pgtable::PageProt) -> Option<u64> {
    let offset = pa % PAGE_SIZE;
    let pages = (offset + size.max(1)).div_ceil(PAGE_SIZE);
    let va = IOREMAP_NEXT.fetch_add((pages + 1) * PAGE_SIZE, Ordering::Relaxed);
    if va + pages * PAGE_SIZE > IOREMAP_END {
        return None;
    }
    for i in 0..pages {
        map_kernel_page(va + i * PAGE_SIZE, pa - offset + i * PAGE_SIZE, prot).ok()?;
    }
    Some(va + offset)
}
