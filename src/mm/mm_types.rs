//! `struct mm_struct`: a user address space (Linux: `include/linux/mm_types.h`,
//! `kernel/fork.c` `mm_alloc`/`dup_mm`, `mm/mmap.c`, `mm/mprotect.c`).
//!
//! One TTBR0 page-table tree per process, tagged with an ASID so switching address spaces
//! needs no TLB flush, and the list of its VMAs (the ranges it may use and how). Pages are
//! not mapped when a VMA is created: the first touch faults and `mm::fault` maps them
//! (demand-zero), and `fork` shares every page read-only until one side writes
//! (copy-on-write).
//!
//! Lock order: `MmStruct::inner` before the page allocator's lock.

use alloc::string::String;
use alloc::sync::Arc;
use core::sync::atomic::{AtomicU64, Ordering};

use crate::arch::arm64::memory::{phys_to_virt, PAGE_SIZE};
use crate::arch::arm64::mmu::{self, TableAllocator};
use crate::arch::arm64::mmu_user;
use crate::arch::arm64::paging::KernelTableAlloc;
use crate::arch::arm64::pgtable::{Descriptor, PageProt, PTE_COW, PTE_RDONLY, PTE_USER};
use crate::arch::arm64::tlbflush;
use crate::arch::arm64::uaccess::TASK_SIZE;
use crate::kernel::errno::Errno;
use crate::kernel::sync::SpinLock;
use crate::mm::mmu_gather::{tlb_finish, PageGather, TableGather};
use crate::mm::pages::{get_page, get_zeroed_page, put_page};
use crate::mm::vma::{VmFlags, Vma, Vmas};

/// The most VMAs one address space may have (Linux's `DEFAULT_MAX_MAP_COUNT`). A thread's
/// stack takes two (the stack and its guard page), so this also bounds the threads.
pub const MAX_VMAS: usize = 65530;

/// The lowest address user mappings may use (Linux's default `mmap_min_addr`).
pub const MMAP_MIN_ADDR: u64 = 0x1_0000;
/// Where `mmap` without a hint searches down from (below the stack).
pub const MMAP_BASE: u64 = 0x7f_0000_0000 << 4;

/// What the lock protects: the VMAs and the page-table contents.
pub struct MmInner {
    /// The address space's ranges.
    pub vmas: Vmas<MAX_VMAS>,
    /// The program break (Linux's `start_brk`, `brk`).
    pub start_brk: u64,
    /// Current break.
    pub brk: u64,
    /// Where exec put the argument strings: `/proc/<pid>/cmdline` is `[arg_start, arg_end)`
    /// (Linux's `mm->arg_start`, `arg_end`).
    pub arg_start: u64,
    /// The end of the last argument string, its NUL included.
    pub arg_end: u64,
    /// Where exec put the environment strings (`/proc/<pid>/environ`).
    pub env_start: u64,
    /// The end of the last environment string.
    pub env_end: u64,
    /// The path of the program exec loaded (`/proc/<pid>/exe`; Linux keeps the file,
    /// `mm->exe_file`).
    pub exe_path: Option<String>,
}

/// A user address space.
pub struct MmStruct {
    /// Physical address of the L0 table (TTBR0's base).
    pub pgd: u64,
    /// ASID context: generation << 16 | asid, 0 before the first switch (Linux's `context.id`).
    pub context: AtomicU64,
    /// VMAs and page tables. Lock: its own.
    pub inner: SpinLock<MmInner>,
}

impl MmStruct {
    /// An empty address space (Linux's `mm_alloc`).
    pub fn new() -> Result<Arc<Self>, Errno> {
        let pgd = get_zeroed_page().ok_or(Errno::ENOMEM)?;
        Ok(Arc::new(Self {
            pgd,
            context: AtomicU64::new(0),
            inner: SpinLock::new(MmInner {
                vmas: Vmas::new(),
                start_brk: 0,
                brk: 0,
                arg_start: 0,
                arg_end: 0,
                env_start: 0,
                env_end: 0,
                exe_path: None,
            }),
        }))
    }

    /// The current ASID (meaningful after `switch_mm`).
    pub fn asid(&self) -> u16 {
        (self.context.load(Ordering::Relaxed) & 0xffff) as u16
    }

    /// Add a VMA at `start` (page aligned) of `len` bytes; no page is mapped yet.
    pub fn map_region(&self, start: u64, len: u64, flags: VmFlags) -> Result<(), Errno> {
        check_range(start, len)?;
        let mut inner = self.inner.lock();
        inner
            .vmas
            .insert(Vma::anon(start, start + len, flags))
            .map_err(|_| Errno::ENOMEM)
    }

    /// Find room for `len` bytes, highest first below `MMAP_BASE` (Linux's
    /// `get_unmapped_area`).
    pub fn get_unmapped_area(&self, len: u64) -> Result<u64, Errno> {
        let inner = self.inner.lock();
        inner
            .vmas
            .find_free(len, 0, MMAP_MIN_ADDR, MMAP_BASE)
            .map_err(|_| Errno::ENOMEM)
    }

    /// Remove `[start, start + len)`: VMAs are cut, pages freed, TLB entries dropped.
    pub fn unmap_region(&self, start: u64, len: u64) -> Result<(), Errno> {
        check_range(start, len)?;
        let mut inner = self.inner.lock();
        let _ = inner.vmas.unmap(start, len, &mut |_| {});
        self.zap_range(start, len);
        Ok(())
    }

    /// Unmap and free the pages in `[start, start + len)` (Linux's `zap_page_range` under an
    /// `mmu_gather`): entries cleared, the TLB flushed once per batch, pages and emptied
    /// tables freed after that flush.
    fn zap_range(&self, start: u64, len: u64) {
        let mut pages = PageGather::new(self.asid());
        let mut tables = TableGather::new(self.asid());
        let mut freed = |va: u64, desc: Descriptor| pages.remove_page(va, desc.output_address());
        // SAFETY: callers hold `inner`; the gathers free pages and tables only after their
        // TLB entries are gone.
        let _ = unsafe { mmu::unmap_range(self.pgd, start, len, &mut tables, &mut freed) };
        tlb_finish(&mut pages, &mut tables, start, start + len);
    }

    /// Change the protection of `[start, start + len)` (Linux's `mprotect`).
    pub fn protect_region(&self, start: u64, len: u64, flags: VmFlags) -> Result<(), Errno> {
        check_range(start, len)?;
        let mut inner = self.inner.lock();
        inner
            .vmas
            .mprotect(start, len, flags)
            .map_err(|_| Errno::ENOMEM)?;
        let writable = flags.contains(VmFlags::WRITE);
        let exec = flags.contains(VmFlags::EXEC);
        let mut reprotect = |d: Descriptor| {
            let cow = d.bits() & PTE_COW;
            let prot = user_prot(writable && cow == 0, exec);
            // The COW mark stays: a page shared with another process must stay read-only
            // through any number of mprotects, until a write fault copies it.
            Descriptor::page(d.output_address(), PageProt::from_bits(prot)).set_bits(cow)
        };
        // SAFETY: `inner` is held; user permissions cannot break kernel memory safety.
        let _ =
            unsafe { mmu::change_prot(self.pgd, start, len, &mut reprotect, &KernelTableAlloc) };
        tlbflush::flush_tlb_mm(self.asid());
        Ok(())
    }

    /// Write `data` at user address `addr` of this address space through the kernel's own
    /// mapping, whatever the pages' user permissions are — how `execve` fills text and
    /// the initial stack (Linux uses the page cache and `copy_to_user` on a writable stack).
    /// Pages are allocated as needed, with the VMA's permissions.
    pub fn populate_write(&self, addr: u64, data: &[u8]) -> Result<(), Errno> {
        let inner = self.inner.lock();
        let mut done = 0usize;
        while done < data.len() {
            let va = addr + done as u64;
            let page_va = va & !(PAGE_SIZE - 1);
            let vma = *inner.vmas.find(va).ok_or(Errno::EFAULT)?;
            let exec = vma.flags.contains(VmFlags::EXEC);
            // SAFETY: `inner` is held, so nobody else edits these tables.
            let entry = unsafe { mmu_user::pte_alloc(self.pgd, page_va, &mut KernelTableAlloc) }
                .map_err(|_| Errno::ENOMEM)?;
            // SAFETY: `entry` is this mm's level-3 entry for `page_va`; `inner` is held.
            let present = Descriptor::from_bits(unsafe { entry.read_volatile() });
            let pa = if present.is_valid() {
                present.output_address()
            } else {
                let pa = get_zeroed_page().ok_or(Errno::ENOMEM)?;
                let prot = user_prot(vma.flags.contains(VmFlags::WRITE), exec);
                // SAFETY: as above; the entry was empty, so the new page aliases nothing.
                unsafe {
                    entry.write_volatile(Descriptor::page(pa, PageProt::from_bits(prot)).bits())
                };
                pa
            };
            let offset = (va - page_va) as usize;
            let n = (PAGE_SIZE as usize - offset).min(data.len() - done);
            // SAFETY: `pa` is a page of this address space, reached through the linear map;
            // nothing runs this address space while execve builds it.
            unsafe {
                core::ptr::copy_nonoverlapping(
                    data[done..].as_ptr(),
                    page_address(pa).add(offset),
                    n,
                )
            };
            if exec {
                tlbflush::flush_icache_page(page_address(pa) as u64);
            }
            done += n;
        }
        Ok(())
    }

    /// A copy of this address space for `fork`: the same VMAs, and every present page shared
    /// read-only and marked copy-on-write in both (Linux's `dup_mmap` + `copy_page_range`).
    pub fn dup(&self) -> Result<Arc<MmStruct>, Errno> {
        let child = MmStruct::new()?;
        let inner = self.inner.lock();
        {
            let mut child_inner = child.inner.lock();
            child_inner.start_brk = inner.start_brk;
            child_inner.brk = inner.brk;
            child_inner.arg_start = inner.arg_start;
            child_inner.arg_end = inner.arg_end;
            child_inner.env_start = inner.env_start;
            child_inner.env_end = inner.env_end;
            child_inner.exe_path = inner.exe_path.clone();
            for vma in inner.vmas.iter() {
                child_inner.vmas.insert(*vma).map_err(|_| Errno::ENOMEM)?;
            }
        }
        let mut result = Ok(());
        for vma in inner.vmas.iter() {
            // Every page ends up shared, read-only and copy-on-write on both sides. In a
            // read-only VMA only the COW mark is new: it keeps a later mprotect(PROT_WRITE)
            // from making the shared page writable, so the first write copies it then.
            let mut copy = |_va: u64, parent: &mut Descriptor| {
                *parent = Descriptor::from_bits(parent.bits() | PTE_RDONLY | PTE_COW);
                get_page(parent.output_address());
                *parent
            };
            // SAFETY: the parent's `inner` is held, so nobody else edits its tables; the
            // child is not live (no CPU runs it) and only we hold it. Write-protecting the
            // parent's pages is what COW needs; its stale TLB entries are flushed below.
            let copied = unsafe {
                mmu_user::copy_range(
                    self.pgd,
                    child.pgd,
                    vma.start,
                    vma.end - vma.start,
                    &mut KernelTableAlloc,
                    &mut copy,
                )
            };
            if copied.is_err() {
                // The child's Drop gives back the references taken so far.
                result = Err(Errno::ENOMEM);
                break;
            }
        }
        // The parent's pages just became read-only: drop its stale writable TLB entries.
        tlbflush::flush_tlb_mm(self.asid());
        result.map(|()| child)
    }
}

impl Drop for MmStruct {
    fn drop(&mut self) {
        // Linux's exit_mmap with a full-mm gather. The last reference is going, so no CPU
        // has these tables in TTBR0 (a task switches away before it drops its mm) and no
        // walker can load a new TLB entry from them: one TLBI by ASID, walk caches included,
        // drops whatever is left, and then pages and tables can go back at once, with no
        // per-page invalidation. An mm that never ran has no ASID and nothing to flush.
        if self.context.load(Ordering::Relaxed) != 0 {
            tlbflush::flush_tlb_mm(self.asid());
        }
        let mut put = |_va: u64, desc: Descriptor| {
            put_page(desc.output_address());
        };
        // Every page lies in a VMA (faults, exec and fork only map inside one; munmap unmaps
        // the pages with the VMA), so the VMAs lead to every table.
        let vmas = self.inner.get_mut().vmas.as_slice();
        let range = |vma: &Vma| (vma.start, vma.end);
        // SAFETY: as said above, nothing uses the tree any more, and we own it.
        unsafe { mmu_user::free_tree(self.pgd, vmas, &range, &mut KernelTableAlloc, &mut put) };
        KernelTableAlloc.free_table(self.pgd);
    }
}

fn check_range(start: u64, len: u64) -> Result<(), Errno> {
    let end = start.checked_add(len).ok_or(Errno::EINVAL)?;
    if !start.is_multiple_of(PAGE_SIZE) || len == 0 || end > TASK_SIZE {
        return Err(Errno::EINVAL);
    }
    Ok(())
}

/// The leaf attributes of a user page: EL0-accessible, not executable by the kernel, and
/// non-global (ASID-tagged).
pub fn user_prot(writable: bool, exec: bool) -> u64 {
    use crate::arch::arm64::pgtable::{PAGE_READONLY, PAGE_READONLY_EXEC, PAGE_SHARED, PTE_UXN};
    let base = match (writable, exec) {
        (true, false) => PAGE_SHARED.bits(),
        (false, false) => PAGE_READONLY.bits(),
        (false, true) => PAGE_READONLY_EXEC.bits(),
        (true, true) => PAGE_SHARED.bits() & !PTE_UXN,
    };
    base | PTE_USER
}

/// The kernel's view of a user page's contents (through the linear map).
pub fn page_address(pa: u64) -> *mut u8 {
    phys_to_virt(pa) as *mut u8
}
