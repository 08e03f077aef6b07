//! Page faults on user addresses (Linux: `mm/memory.c`, `handle_mm_fault`,
//! `do_anonymous_page`, `do_wp_page`; `arch/arm64/mm/fault.c`, `do_page_fault`).
//!
//! A fault is resolved when the address lies in a VMA that allows the access:
//!
//! - nothing mapped yet: a zeroed page is mapped (demand-zero);
//! - a write to a page shared copy-on-write after `fork`: if this address space holds the
//!   only reference, the page is simply made writable again; otherwise it is copied and the
//!   copy mapped writable;
//! - the entry already allows the access (another CPU fixed it first): nothing to do.
//!
//! Anything else is a bad access: the caller turns it into SIGSEGV (from EL0) or EFAULT
//! (from `copy_from_user`).
//!
//! Never call this with the address space's lock held: it takes it.

use crate::arch::esr;
use crate::arch::memory::PAGE_SIZE;
use crate::arch::mmu_user;
use crate::arch::page::copy_page;
use crate::arch::paging::KernelTableAlloc;
use crate::arch::pgtable::{Descriptor, PageProt, PTE_COW, PTE_RDONLY};
use crate::arch::tlbflush;
use crate::kernel::errno::Errno;
use crate::mm::mm_types::{page_address, user_prot, MmStruct};
use crate::mm::pages::{alloc_pages, get_zeroed_page, page_count, put_page};
use crate::mm::vma::VmFlags;

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

/// Resolve a fault at `addr` in `mm` (Linux's `handle_mm_fault`).
pub fn handle_mm_fault(mm: &MmStruct, addr: u64, access: Access) -> Result<(), Errno> {
    let page_va = addr & !(PAGE_SIZE - 1);
    let inner = mm.inner.lock();
    let vma = *inner.vmas.find(addr).ok_or(Errno::EFAULT)?;
    let allowed = match access {
        Access::Read => vma.flags.contains(VmFlags::READ),
        Access::Write => vma.flags.contains(VmFlags::WRITE),
        Access::Exec => vma.flags.contains(VmFlags::EXEC),
    };
    if !allowed {
        return Err(Errno::EFAULT);
    }
    let writable = vma.flags.contains(VmFlags::WRITE);
    let exec = vma.flags.contains(VmFlags::EXEC);
    // SAFETY: `inner` is held, so no one else edits these tables.
    let entry = unsafe { mmu_user::pte_alloc(mm.pgd, page_va, &mut KernelTableAlloc) }
        .map_err(|_| Errno::ENOMEM)?;
    // SAFETY: `entry` is this mm's level-3 entry for `page_va`, and `inner` is held.
    let desc = Descriptor::from_bits(unsafe { entry.read_volatile() });
    if !desc.is_valid() {
        // do_anonymous_page: a fresh zeroed page.
        let pa = get_zeroed_page().ok_or(Errno::ENOMEM)?;
        if exec {
            sync_icache(pa);
        }
        let new = Descriptor::page(pa, PageProt::from_bits(user_prot(writable, exec)));
        // SAFETY: as above; the entry was empty, so the new page aliases nothing and no TLB
        // entry can exist for it.
        unsafe { entry.write_volatile(new.bits()) };
        return Ok(());
    }
    let bits = desc.bits();
    if access != Access::Write || bits & PTE_RDONLY == 0 {
        return Ok(()); // spurious: the entry already allows it
    }
    if bits & PTE_COW == 0 {
        return Err(Errno::EFAULT);
    }
    // do_wp_page: break copy-on-write.
    let old = desc.output_address();
    let asid = mm.asid();
    let new = if page_count(old) == 1 {
        old // the other side is gone: reuse the page
    } else {
        let new = alloc_pages(0).ok_or(Errno::ENOMEM)?;
        // SAFETY: both pages are RAM reached through the linear map; `new` is ours alone,
        // `old` is only read.
        unsafe { copy_page(page_address(new), page_address(old)) };
        if exec {
            sync_icache(new);
        }
        // Break before make: a live entry's output address may only change through an
        // invalid entry and a TLB flush (Linux's ptep_clear_flush in wp_page_copy).
        // SAFETY: `entry` is the live leaf for `page_va` in this mm's tables, whose lock
        // we hold; the flush drops every CPU's copy of the old translation.
        unsafe { entry.write_volatile(Descriptor::INVALID.bits()) };
        tlbflush::flush_tlb_user_page(asid, page_va);
        put_page(old);
        new
    };
    let updated = Descriptor::page(new, PageProt::from_bits(user_prot(true, exec)));
    // SAFETY: as above. A permission upgrade of the same page needs no break-before-make.
    unsafe { entry.write_volatile(updated.bits()) };
    if new == old {
        // Drop the stale read-only entry, so the retried write does not fault again.
        tlbflush::flush_tlb_user_page(asid, page_va);
    }
    Ok(())
}

/// Make instructions written to the page at `pa` visible to instruction fetch.
fn sync_icache(pa: u64) {
    tlbflush::flush_icache_page(page_address(pa) as u64);
}

/// Called by the abort handlers for a fault at a user address. Returns true if the page
/// is now there and the faulting instruction can be retried.
pub fn handle_user_fault(far: u64, esr_val: u64, from_el0: bool) -> bool {
    let fsc_type = esr::fsc(esr_val) & esr::ESR_ELX_FSC_TYPE;
    if fsc_type != esr::ESR_ELX_FSC_FAULT
        && fsc_type != esr::ESR_ELX_FSC_PERM
        && fsc_type != esr::ESR_ELX_FSC_ACCESS
    {
        return false; // alignment, external aborts: not something a page fixes
    }
    let access = if esr::is_instruction_abort(esr_val) {
        Access::Exec
    } else if esr::wnr(esr_val) && !esr::cm(esr_val) {
        Access::Write
    } else {
        Access::Read
    };
    let Some(mm) = crate::kernel::task::current().mm() else {
        return false;
    };
    match handle_mm_fault(&mm, far, access) {
        Ok(()) => true,
        Err(Errno::ENOMEM) => pagefault_out_of_memory(from_el0),
        Err(_) => false,
    }
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
