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
//! so they need no physically contiguous memory: the area is cut into 64 KiB chunks, a
//! block takes a run of free chunks plus one left unmapped after it as its guard, and
//! `vfree` unmaps it and gives its pages back.
//!
//! `ioremap` hands out device mappings from a region that only grows: devices are mapped at
//! boot and stay mapped.

use core::sync::atomic::{AtomicU64, Ordering};

use crate::arch::memory::{
    IOREMAP_END, IOREMAP_START, PAGE_SIZE, STACKS_END, STACKS_START, THREAD_ALIGN, THREAD_SIZE,
    VMALLOC_HEAP_END, VMALLOC_START,
};
use crate::arch::paging::{map_kernel_page, unmap_kernel_range};
use crate::arch::pgtable::{PAGE_KERNEL, PAGE_KERNEL_DEVICE};
use crate::kernel::sync::SpinLock;
use crate::mm::pages::{alloc_pages, alloc_pages_reserve, free_pages};

/// The unit `vmalloc` hands out address space in.
const VM_CHUNK: u64 = 64 * 1024;
/// Chunks in `vmalloc`'s part of the area.
const NR_VM_CHUNKS: usize = ((VMALLOC_HEAP_END - VMALLOC_START) / VM_CHUNK) as usize;

/// Which `vmalloc` chunks are taken: one bit each.
static VM_CHUNKS: SpinLock<[u64; NR_VM_CHUNKS / 64]> = SpinLock::new([0; NR_VM_CHUNKS / 64]);

/// Chunks a block of `size` bytes takes: its own and one for the guard after it.
fn vm_chunks(size: u64) -> usize {
    size.div_ceil(VM_CHUNK) as usize + 1
}

/// Find and take a run of `n` free chunks; its first index.
fn take_chunks(n: usize) -> Option<usize> {
    let mut map = VM_CHUNKS.lock();
    let taken = |map: &[u64], i: usize| map[i / 64] & (1 << (i % 64)) != 0;
    let mut start = 0;
    while start + n <= NR_VM_CHUNKS {
        match (start..start + n).find(|&i| taken(&*map, i)) {
            Some(busy) => start = busy + 1,
            None => {
                for i in start..start + n {
                    map[i / 64] |= 1 << (i % 64);
                }
                return Some(start);
            }
        }
    }
    None
}

fn release_chunks(first: usize, n: usize) {
    let mut map = VM_CHUNKS.lock();
    for i in first..first + n {
        map[i / 64] &= !(1 << (i % 64));
    }
}

/// `size` bytes (a multiple of PAGE_SIZE) of kernel memory, virtually contiguous, from
/// single pages wherever they are (Linux's `vmalloc`); for the heap's large blocks, so it
/// may use the heap's page reserve. `None` when memory or address space ran out.
pub fn vmalloc(size: u64) -> Option<u64> {
    let first = take_chunks(vm_chunks(size))?;
    let base = VMALLOC_START + first as u64 * VM_CHUNK;
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
            release_chunks(first, vm_chunks(size));
            return None;
        }
        mapped += PAGE_SIZE;
    }
    Some(base)
}

/// Free what [`vmalloc`] returned for `size` bytes (Linux's `vfree`).
pub fn vfree(addr: u64, size: u64) {
    assert!(
        is_vmalloc_addr(addr) && (addr - VMALLOC_START).is_multiple_of(VM_CHUNK),
        "vfree: {addr:#x} is not a vmalloc block"
    );
    unmap_kernel_range(addr, size, &mut |pa| free_pages(pa, 0));
    release_chunks(
        ((addr - VMALLOC_START) / VM_CHUNK) as usize,
        vm_chunks(size),
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
    let offset = pa % PAGE_SIZE;
    let pages = (offset + size.max(1)).div_ceil(PAGE_SIZE);
    let va = IOREMAP_NEXT.fetch_add((pages + 1) * PAGE_SIZE, Ordering::Relaxed);
    if va + pages * PAGE_SIZE > IOREMAP_END {
        return None;
    }
    for i in 0..pages {
        map_kernel_page(
            va + i * PAGE_SIZE,
            pa - offset + i * PAGE_SIZE,
            PAGE_KERNEL_DEVICE,
        )
        .ok()?;
    }
    Some(va + offset)
}
