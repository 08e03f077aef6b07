//! Per-CPU data reached through TPIDR_EL1 (Linux: `asm/percpu.h`, `__entry_task`,
//! `overflow_stack`).
//!
//! Each CPU's TPIDR_EL1 points at its own [`CpuData`]. `kernel_entry` in `asm/entry.S` reads
//! `entry_task` from it when an exception comes from EL0, where sp_el0 holds the user stack
//! pointer rather than `current`; `kernel_ventry` reads `overflow_stack_top` when it finds
//! the kernel stack overflowed.

use core::cell::UnsafeCell;
use core::mem::offset_of;
use core::sync::atomic::{AtomicPtr, AtomicU32, AtomicUsize, Ordering};

use aarch64_cpu::registers::{Readable, Writeable, TPIDR_EL1};

use crate::kernel::task::TaskStruct;

/// The most CPUs Cradle brings up.
pub const NR_CPUS: usize = 16;

/// Size of each CPU's overflow stack: enough to print an oops (Linux: OVERFLOW_STACK_SIZE).
pub const OVERFLOW_STACK_SIZE: usize = 8192;

/// One CPU's private data.
#[repr(C)]
pub struct CpuData {
    /// The task running on this CPU, for `kernel_entry` from EL0. First: asm reads it.
    pub entry_task: AtomicPtr<TaskStruct>,
    /// Top of this CPU's overflow stack, for `kernel_ventry`.
    pub overflow_stack_top: AtomicUsize,
    /// This CPU's logical number.
    pub cpu: AtomicU32,
}

/// Offset of `entry_task`, for `asm/entry.S`.
pub const PERCPU_ENTRY_TASK: usize = offset_of!(CpuData, entry_task);
/// Offset of `overflow_stack_top`, for `asm/entry.S`.
pub const PERCPU_OVERFLOW_STACK_TOP: usize = offset_of!(CpuData, overflow_stack_top);

static CPU_DATA: [CpuData; NR_CPUS] = [const {
    CpuData {
        entry_task: AtomicPtr::new(core::ptr::null_mut()),
        overflow_stack_top: AtomicUsize::new(0),
        cpu: AtomicU32::new(0),
    }
}; NR_CPUS];

/// A CPU's overflow stack.
#[repr(C, align(16))]
pub struct OverflowStack(UnsafeCell<[u8; OVERFLOW_STACK_SIZE]>);

// SAFETY: each CPU only ever uses its own overflow stack, through sp, never as Rust data.
unsafe impl Sync for OverflowStack {}

static OVERFLOW_STACKS: [OverflowStack; NR_CPUS] =
    [const { OverflowStack(UnsafeCell::new([0; OVERFLOW_STACK_SIZE])) }; NR_CPUS];

/// The bounds (low, high) of `cpu`'s overflow stack, for `handle_bad_stack`.
pub fn overflow_stack_bounds(cpu: usize) -> (usize, usize) {
    let low = OVERFLOW_STACKS[cpu].0.get() as usize;
    (low, low + OVERFLOW_STACK_SIZE)
}

/// Point this CPU's TPIDR_EL1 at its per-CPU data, with `task` running.
pub fn init_this_cpu(cpu: usize, task: &'static TaskStruct) {
    let data = &CPU_DATA[cpu];
    data.cpu.store(cpu as u32, Ordering::Relaxed);
    data.overflow_stack_top
        .store(overflow_stack_bounds(cpu).1, Ordering::Relaxed);
    data.entry_task
        .store(task as *const _ as *mut _, Ordering::Relaxed);
    TPIDR_EL1.set(data as *const CpuData as u64);
}

/// This CPU's data. Inline: the scheduler, spinlock owners and file lookups ask for it on
/// every path.
#[inline]
pub fn this_cpu() -> &'static CpuData {
    let ptr = TPIDR_EL1.get() as *const CpuData;
    assert!(!ptr.is_null(), "per-CPU data used before init_this_cpu");
    // SAFETY: TPIDR_EL1 is only ever set by `init_this_cpu`, to an element of CPU_DATA.
    unsafe { &*ptr }
}

/// This CPU's logical number (Linux's `smp_processor_id`). Inline: every spinlock
/// acquisition records it.
#[inline]
pub fn smp_processor_id() -> usize {
    if TPIDR_EL1.get() == 0 {
        0
    } else {
        this_cpu().cpu.load(Ordering::Relaxed) as usize
    }
}
