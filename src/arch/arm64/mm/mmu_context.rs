//! Which page tables TTBR0 points at (Linux: `arch/arm64/include/asm/mmu_context.h`).
//!
//! After boot, the lower half belongs to user space only. The identity map head.S used to
//! turn the MMU on is taken out of TTBR0, so a stray low address (a NULL pointer) faults in
//! the kernel instead of reading RAM.

use core::sync::atomic::Ordering;

use aarch64_cpu::registers::{Writeable, TTBR0_EL1};

use crate::mm::asid::AsidAllocator;
use crate::mm::mm_types::MmStruct;

use crate::arch::fixmap::PageTable;
use crate::arch::head::pa_symbol;
use crate::arch::tlbflush::local_flush_tlb_all;

/// An empty table: TTBR0 points here when no user address space is installed (Linux's
/// `reserved_pg_dir`).
static RESERVED_PG_DIR: PageTable = PageTable::new();

/// Physical address of [`RESERVED_PG_DIR`].
pub fn reserved_pg_dir_pa() -> u64 {
    pa_symbol(&RESERVED_PG_DIR as *const PageTable as u64)
}

/// Point TTBR0 at the empty table and drop the identity map's TLB entries.
pub fn cpu_uninstall_idmap() {
    TTBR0_EL1.set(reserved_pg_dir_pa());
    local_flush_tlb_all();
}

/// The ASID allocator (Linux: `arch/arm64/mm/context.c`). Lock: its own.
static ASIDS: crate::kernel::locking::SpinLock<Option<AsidAllocator>> =
    crate::kernel::locking::SpinLock::new(None);

/// How many ASID bits this CPU has: 16 if ID_AA64MMFR0_EL1.ASIDBits says so, else 8
/// (`__cpu_setup` set TCR_EL1.AS to match).
fn asid_bits() -> u32 {
    use aarch64_cpu::registers::{Readable, ID_AA64MMFR0_EL1};
    if (ID_AA64MMFR0_EL1.get() >> 4) & 0xf == 2 {
        16
    } else {
        8
    }
}

/// The ASID of context id `ctx` (`generation << bits | asid`), for TTBR0 and TLBI operands.
/// With 8-bit ASIDs the generation starts at bit 8, so a plain `& 0xffff` would put it into
/// the ASID field.
pub fn asid_of(ctx: u64) -> u16 {
    (ctx & ((1u64 << asid_bits()) - 1)) as u16
}

/// Make `mm` the user address space of this CPU (Linux's `switch_mm` → `check_and_switch_context`
/// → `cpu_switch_mm`): give it a current-generation ASID if it lacks one, then load TTBR0 with
/// its tables and ASID. A generation rollover flushes the whole TLB.
///
/// Everything happens under the allocator's lock, which masks interrupts and preemption: the
/// CPU number, the CPU's pending flush and the TTBR0 write must all belong to the same CPU. A
/// task preempted between clearing this CPU's pending-flush bit and flushing would run on,
/// on another CPU, while the next task here used stale entries of a reused ASID. Holding the
/// lock over TTBR0 also keeps a rollover on another CPU from reserving an ASID this CPU has
/// not loaded yet (Linux orders the same through `cpu_asid_lock` and `active_asids`).
pub fn switch_mm(mm: &MmStruct) {
    let mut asids = ASIDS.lock();
    let cpu = crate::arch::percpu::smp_processor_id();
    let alloc = asids.get_or_insert_with(|| AsidAllocator::new(asid_bits()));
    let (ctx, flush) = alloc.switch_context(cpu, mm.context.load(Ordering::Relaxed));
    let asid = u64::from(alloc.asid(ctx));
    mm.context.store(ctx, Ordering::Relaxed);
    if flush {
        // A generation rollover handed ASIDs out again: drop this CPU's stale entries
        // before anything runs under the new generation here.
        crate::arch::tlbflush::local_flush_tlb_all();
    }
    TTBR0_EL1.set(mm.pgd | (asid << 48));
    aarch64_cpu::asm::barrier::isb(aarch64_cpu::asm::barrier::SY);
    drop(asids);
}

/// Leave user space on this CPU: TTBR0 back to the empty table.
pub fn switch_to_kernel_mm() {
    TTBR0_EL1.set(reserved_pg_dir_pa());
    aarch64_cpu::asm::barrier::isb(aarch64_cpu::asm::barrier::SY);
}

/// Run `f` with `mm` as the current task's address space (for kernel code that must reach
/// another process's memory, and for tests), then put the previous one back.
pub fn with_mm<R>(mm: &alloc::sync::Arc<MmStruct>, f: impl FnOnce() -> R) -> R {
    let task = crate::kernel::task::current();
    let previous = task.mm.lock().replace(mm.clone());
    switch_mm(mm);
    let result = f();
    *task.mm.lock() = previous.clone();
    match &previous {
        Some(prev) => switch_mm(prev),
        None => switch_to_kernel_mm(),
    }
    result
}

const _: () = assert!(crate::mm::asid::NR_CPUS == crate::arch::percpu::NR_CPUS);
