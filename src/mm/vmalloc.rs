//! The vmalloc area: kernel stacks with guard pages, and `ioremap` (Linux: `mm/vmalloc.c`,
//! `kernel/fork.c`'s `alloc_thread_stack_node` with `CONFIG_VMAP_STACK`, `mm/ioremap.c`).
//!
//! Kernel stacks live in fixed slots of `THREAD_ALIGN` (2 × THREAD_SIZE) bytes, aligned to
//! their size: the lower half is the stack, the upper half is never mapped and is the guard
//! of the next slot's stack, which grows down towards it. So every address on a stack has
//! bit THREAD_SHIFT clear and every address in a guard has it set: a stack that overflows
//! faults in the guard, and `kernel_ventry` sees the bit and reports "kernel stack
//! overflow" from a spare per-CPU stack instead of faulting forever. Slot 0 is never used,
//! so the first stack's guard is not the heap's last page.
//!
//! `ioremap` hands out device mappings from a region that only grows: devices are mapped at
//! boot and stay mapped.

use core::sync::atomic::{AtomicU64, Ordering};

use crate::arch::memory::{
    IOREMAP_END, IOREMAP_START, PAGE_SIZE, STACKS_END, STACKS_START, THREAD_ALIGN, THREAD_SIZE,
};
use crate::arch::paging::{map_kernel_page, unmap_kernel_range};
use crate::arch::pgtable::{PAGE_KERNEL, PAGE_KERNEL_DEVICE};
use crate::kernel::sync::SpinLock;
use crate::mm::pages::{alloc_pages, free_pages};

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
