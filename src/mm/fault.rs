//! Page faults on user addresses (Linux: `mm/memory.c`, `handle_mm_fault`,
//! `do_anonymous_page`, `do_read_fault`, `do_cow_fault`, `do_shared_fault`, `do_wp_page`;
//! `arch/arm64/mm/fault.c`, `do_page_fault`).
//!
//! A fault is resolved when the address lies in a VMA that allows the access. What a missing
//! page becomes depends on the VMA's kind (Linux's `vm_operations_struct` `fault`):
//!
//! - anonymous memory: for a read, the shared zero page, read-only and copy-on-write (Linux's
//!   `empty_zero_page`: reading never-written memory costs no page); for a write, a zeroed
//!   page of its own (demand-zero);
//! - a file, or shared anonymous memory (shmem): the page of its page cache
//!   ([`AddressSpace::fault_page`], `filemap_fault` / `shmem_fault`); past the end of the
//!   file the fault is [`VmFault::Sigbus`]. A shared mapping maps the cache page itself,
//!   writable if the VMA is; a private one maps it read-only and copy-on-write, or, for a
//!   write, maps a private copy at once.
//!
//! A write to a present copy-on-write page (after `fork`, or a private file page): if this
//! address space holds the only reference, the page is simply made writable again (a cache
//! page never qualifies: the cache holds a reference too); otherwise it is copied and the
//! copy mapped writable. An entry that already allows the access (another CPU fixed it
//! first) needs nothing.
//!
//! Anything else is a bad access: the caller turns it into SIGSEGV or SIGBUS (from EL0) or
//! EFAULT (from `copy_from_user`).
//!
//! Never call [`handle_mm_fault`] with the address space's lock held: it takes it.

use crate::arch::esr;
use crate::arch::memory::PAGE_SIZE;
use crate::arch::mmu_user;
use crate::arch::page::copy_page;
use crate::arch::paging::KernelTableAlloc;
use crate::arch::pgtable::{Descriptor, PageProt, PTE_COW, PTE_RDONLY};
use crate::arch::tlbflush;
use crate::mm::filemap::CacheFault;
use crate::mm::mm_types::{page_address, user_prot, MmInner, MmStruct};
use core::sync::atomic::{AtomicU64, Ordering};

use crate::mm::pages::{
    alloc_pages, get_page, get_zeroed_page, page_add_rmap, page_count, page_remove_rmap, put_page,
    set_page_anon,
};
use crate::mm::vma::{VmFlags, Vma};

/// What kind of access faulted.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Access {
    /// A load.
    Read,
    /// A store.
    Write,
    /// An instruction fetch.
    Exec,
}

/// Why a fault could not be resolved (Linux's `VM_FAULT_*` results).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum VmFault {
    /// No VMA, or one that forbids the access: SIGSEGV.
    Sigsegv,
    /// A file page past the end of the file: SIGBUS.
    Sigbus,
    /// Out of memory.
    Oom,
}

/// The most a stack grows to (Linux's default `RLIMIT_STACK`, 8 MiB).
pub const STACK_LIMIT: u64 = 8 << 20;
/// The gap a growing stack keeps from the mapping below it (Linux's `stack_guard_gap`,
/// 256 pages).
pub const STACK_GUARD_GAP: u64 = 256 * PAGE_SIZE;

/// Resolve a fault at `addr` in `mm` (Linux's `handle_mm_fault`).
pub fn handle_mm_fault(mm: &MmStruct, addr: u64, access: Access) -> Result<(), VmFault> {
    let page_va = addr & !(PAGE_SIZE - 1);
    let mut inner = mm.inner.lock();
    // Below a stack: grow it (Linux's `expand_stack`), up to RLIMIT_STACK and never within
    // `stack_guard_gap` of the mapping below.
    let vma = match inner.vmas.find(addr) {
        Some(vma) => *vma,
        None => inner
            .vmas
            .grow_down(addr, STACK_LIMIT, STACK_GUARD_GAP)
            .map_err(|_| VmFault::Sigsegv)?,
    };
    let allowed = match access {
        Access::Read => vma.flags.contains(VmFlags::READ),
        Access::Write => vma.flags.contains(VmFlags::WRITE),
        Access::Exec => vma.flags.contains(VmFlags::EXEC),
    };
    if !allowed {
        return Err(VmFault::Sigsegv);
    }
    do_fault(mm, &inner, &vma, page_va, access, false).map(|_| ())
}

/// Make the page at `page_va` of `vma` present for `access` and return its physical
/// address. `force` is a write by the kernel on the process's behalf (`execve` filling a
/// new image; Linux's `FOLL_FORCE`): it ignores the VMA's write permission, copies a
/// private page anyone else may see, and refuses shared mappings.
///
/// The caller holds `inner`, the lock of `mm`, and has checked that `vma` allows `access`
/// unless `force`.
pub fn do_fault(
    mm: &MmStruct,
    inner: &MmInner,
    vma: &Vma,
    page_va: u64,
    access: Access,
    force: bool,
) -> Result<u64, VmFault> {
    let shared = vma.flags.contains(VmFlags::SHARED);
    if force && shared {
        return Err(VmFault::Sigsegv);
    }
    let writable = vma.flags.contains(VmFlags::WRITE);
    let exec = vma.flags.contains(VmFlags::EXEC);
    // SAFETY: the caller holds `inner`, so no one else edits these tables.
    let entry = unsafe { mmu_user::pte_alloc(mm.pgd, page_va, &mut KernelTableAlloc) }
        .map_err(|_| VmFault::Oom)?;
    // SAFETY: `entry` is this mm's level-3 entry for `page_va`, and `inner` is held.
    let desc = Descriptor::from_bits(unsafe { entry.read_volatile() });
    if !desc.is_valid() {
        let (pa, bits, sw) = match inner.vm_file(vma) {
            None if access != Access::Write => {
                // do_anonymous_page on a read: the zero page, copied on the first write.
                let zero = zero_page().ok_or(VmFault::Oom)?;
                get_page(zero);
                (zero, user_prot(false, exec), PTE_COW)
            }
            None => {
                // do_anonymous_page on a write: a fresh zeroed page.
                let pa = get_zeroed_page().ok_or(VmFault::Oom)?;
                set_page_anon(pa);
                if exec {
                    sync_icache(pa);
                }
                (pa, user_prot(writable, exec), 0)
            }
            Some(file) => {
                let index = vma.pgoff + (page_va - vma.start) / PAGE_SIZE;
                let (page, needs_sync) =
                    file.mapping.fault_page(index, exec).map_err(|e| match e {
                        CacheFault::PastEof => VmFault::Sigbus,
                        CacheFault::NoMemory => VmFault::Oom,
                    })?;
                if shared {
                    // do_shared_fault: the cache page itself.
                    if needs_sync {
                        sync_icache(page);
                    }
                    if writable {
                        file.mapping.mark_dirty(index);
                    }
                    (page, user_prot(writable, exec), 0)
                } else if access == Access::Write {
                    // do_cow_fault: a private copy from the start.
                    let Some(copy) = alloc_pages(0) else {
                        put_page(page);
                        return Err(VmFault::Oom);
                    };
                    // SAFETY: both pages are RAM reached through the linear map; `copy` is
                    // ours alone, `page` is only read.
                    unsafe { copy_page(page_address(copy), page_address(page)) };
                    set_page_anon(copy);
                    put_page(page);
                    if exec {
                        sync_icache(copy);
                    }
                    (copy, user_prot(writable, exec), 0)
                } else {
                    // do_read_fault: the cache page, read-only until a write copies it.
                    if needs_sync {
                        sync_icache(page);
                    }
                    (page, user_prot(false, exec), PTE_COW)
                }
            }
        };
        let new = Descriptor::page(pa, PageProt::from_bits(bits)).set_bits(sw);
        page_add_rmap(pa);
        // The page's contents before the entry that maps it: another thread of this mm on
        // another CPU may use the entry as soon as it is written, without taking any lock.
        // `get_zeroed_page` has its own barrier; a copied page (do_cow_fault) and a cache
        // page filled by another CPU need this one (Linux's `__folio_mark_uptodate` smp_wmb).
        crate::arch::barrier::smp_wmb();
        // SAFETY: as above; the entry was empty, so no TLB entry can exist for it, and the
        // page's reference now belongs to the entry.
        unsafe { entry.write_volatile(new.bits()) };
        return Ok(pa);
    }
    let bits = desc.bits();
    let old = desc.output_address();
    if access != Access::Write || bits & PTE_RDONLY == 0 {
        return Ok(old); // spurious: the entry already allows it
    }
    if bits & PTE_COW == 0 {
        // A read-only page of this address space only (never shared: fork marks every
        // private page COW): a forced write may write it in place.
        return if force {
            Ok(old)
        } else {
            Err(VmFault::Sigsegv)
        };
    }
    // do_wp_page: break copy-on-write.
    let new = if page_count(old) == 1 {
        old // the other side is gone: reuse the page
    } else {
        let new = alloc_pages(0).ok_or(VmFault::Oom)?;
        // SAFETY: both pages are RAM reached through the linear map; `new` is ours alone,
        // `old` is only read.
        unsafe { copy_page(page_address(new), page_address(old)) };
        set_page_anon(new);
        if exec {
            sync_icache(new);
        }
        // Break before make: a live entry's output address may only change through an
        // invalid entry and a TLB flush (Linux's ptep_clear_flush in wp_page_copy).
        // SAFETY: `entry` is the live leaf for `page_va` in this mm's tables, whose lock
        // we hold; the flush drops every CPU's copy of the old translation.
        unsafe { entry.write_volatile(Descriptor::INVALID.bits()) };
        tlbflush::flush_tlb_user_page(&mm.context, page_va);
        page_remove_rmap(old);
        put_page(old);
        page_add_rmap(new);
        new
    };
    let updated = Descriptor::page(new, PageProt::from_bits(user_prot(writable, exec)));
    // SAFETY: as above. A permission upgrade of the same page needs no break-before-make.
    unsafe { entry.write_volatile(updated.bits()) };
    if new == old {
        // Drop the stale read-only entry, so the retried write does not fault again.
        tlbflush::flush_tlb_user_page(&mm.context, page_va);
    }
    Ok(new)
}

/// The zero page's physical address, 0 until it is made.
static ZERO_PAGE: AtomicU64 = AtomicU64::new(0);

/// The zero page if it exists (for accounting; never makes it).
pub fn zero_page_if_made() -> Option<u64> {
    Some(ZERO_PAGE.load(Ordering::Acquire)).filter(|&pa| pa != 0)
}

/// The shared zero page, made on first use (Linux's `empty_zero_page`, `ZERO_PAGE`). Its
/// one reference of its own is never dropped, so a write to it always copies.
pub fn zero_page() -> Option<u64> {
    let known = ZERO_PAGE.load(Ordering::Acquire);
    if known != 0 {
        return Some(known);
    }
    let pa = get_zeroed_page()?;
    sync_icache(pa);
    match ZERO_PAGE.compare_exchange(0, pa, Ordering::AcqRel, Ordering::Acquire) {
        Ok(_) => Some(pa),
        Err(other) => {
            put_page(pa); // another CPU made it first
            Some(other)
        }
    }
}

/// Make instructions written to the page at `pa` visible to instruction fetch.
fn sync_icache(pa: u64) {
    tlbflush::flush_icache_page(page_address(pa) as u64);
}

/// Called by the abort handlers for a fault at a user address. `Ok` if the page is now
/// there (or the OOM killer made room, or the task is dying and goes back to take its
/// SIGKILL) and the faulting instruction can be retried.
pub fn handle_user_fault(far: u64, esr_val: u64, from_el0: bool) -> Result<(), VmFault> {
    let fsc_type = esr::fsc(esr_val) & esr::ESR_ELX_FSC_TYPE;
    if fsc_type != esr::ESR_ELX_FSC_FAULT
        && fsc_type != esr::ESR_ELX_FSC_PERM
        && fsc_type != esr::ESR_ELX_FSC_ACCESS
    {
        return Err(VmFault::Sigsegv); // alignment, external aborts: no page fixes them
    }
    let access = if esr::is_instruction_abort(esr_val) {
        Access::Exec
    } else if esr::wnr(esr_val) && !esr::cm(esr_val) {
        Access::Write
    } else {
        Access::Read
    };
    let Some(mm) = crate::kernel::task::current().mm() else {
        return Err(VmFault::Sigsegv);
    };
    let result = match handle_mm_fault(&mm, far, access) {
        Err(VmFault::Oom) if pagefault_out_of_memory(from_el0) => return Ok(()),
        result => result,
    };
    if result.is_ok() {
        // Every fault is served from memory (no swap, no disk): a minor fault (Linux's
        // `mm_account_fault`), for getrusage's ru_minflt and stat's minflt.
        crate::kernel::sched::cputime::account_min_flt(crate::kernel::task::current());
    }
    result
}

/// A fault found no memory (Linux's `pagefault_out_of_memory`): the OOM killer frees some,
/// and the fault is retried. A task that is itself dying does not retry: from user space
/// it goes back to take its SIGKILL; in the kernel its `copy_*_user` fails with EFAULT so
/// the system call ends.
fn pagefault_out_of_memory(from_el0: bool) -> bool {
    let task = crate::kernel::task::current();
    if crate::kernel::signal::fatal_signal_pending(task) {
        return from_el0;
    }
    if !crate::mm::oom_kill::out_of_memory() {
        return false;
    }
    // Let the victim run, exit and give its pages back. A kernel access that cannot
    // sleep fails (EFAULT) rather than fault again and again while the victim cannot run.
    if crate::kernel::sched::core::preempt_count() != 0 {
        return from_el0;
    }
    crate::kernel::sched::core::yield_now();
    true
}

/// The `si_code` of the SIGSEGV for an unresolved fault at `far`: SEGV_ACCERR if a VMA
/// covers the address (the access was not allowed), SEGV_MAPERR if none does (Linux's
/// `do_page_fault`: VM_FAULT_BADACCESS vs VM_FAULT_BADMAP).
pub fn sigsegv_code(far: u64) -> i32 {
    use crate::kernel::signal::si;
    let Some(mm) = crate::kernel::task::current().mm() else {
        return si::SEGV_MAPERR;
    };
    let inner = mm.inner.lock();
    match inner.vmas.find(far) {
        Some(vma) if vma.start <= far => si::SEGV_ACCERR,
        _ => si::SEGV_MAPERR,
    }
}
