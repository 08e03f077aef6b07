//! `struct mm_struct`: a user address space (Linux: `include/linux/mm_types.h`,
//! `kernel/fork.c` `mm_alloc`/`dup_mm`, `mm/mmap.c`, `mm/mprotect.c`).
//!
//! One TTBR0 page-table tree per process, tagged with an ASID so switching address spaces
//! needs no TLB flush, and the list of its VMAs (the ranges it may use and how). Pages are
//! not mapped when a VMA is created: the first touch faults and `mm::fault` maps them
//! (demand-zero, or the file's cache page), and `fork` shares every private page read-only
//! until one side writes (copy-on-write) and every shared page as it is. `mremap` moves
//! page-table entries ([`MmStruct::move_region`]); truncation unmaps a file's pages from
//! every address space that maps them ([`MmStruct::unmap_file_pages`]). The program file is
//! kept from being written while the address space runs it ([`ExeFile`], ETXTBSY).
//!
//! File mappings name their file through a small table of the files this address space
//! maps ([`VmFile`]): a VMA keeps the table's id (it is `Copy` and fixed-size), the table
//! keeps the file's page cache ([`AddressSpace`]) alive while some VMA uses it.
//!
//! Lock order: `MmStruct::inner`, then an `AddressSpace`'s pages, then the page allocator's
//! lock.

use alloc::string::String;
use alloc::sync::Arc;
use alloc::vec::Vec;
use core::sync::atomic::{AtomicU32, AtomicU64, Ordering};

use crate::arch::memory::{phys_to_virt, PAGE_SIZE};
use crate::arch::mmu::{self, TableAllocator};
use crate::arch::mmu_user;
use crate::arch::paging::KernelTableAlloc;
use crate::arch::pgtable::{Descriptor, PageProt, PTE_COW, PTE_RDONLY, PTE_USER};
use crate::arch::tlbflush;
use crate::arch::uaccess::TASK_SIZE;
use crate::kernel::errno::Errno;
use crate::kernel::locking::{Mutex, SpinLock};
use crate::mm::fault::{do_fault, Access};
use crate::mm::filemap::AddressSpace;
use crate::mm::mmu_gather::{tlb_finish, PageGather, TableGather};
use crate::mm::pages::{get_zeroed_page, page_dup_rmap, page_remove_rmap, put_page};
use crate::mm::vma::{VmFlags, Vma, Vmas};

/// The program file an address space runs (the write-denying part of Linux's
/// `mm->exe_file`): while it lives the file cannot be opened for writing or truncated
/// (ETXTBSY), so the pages every process running it shares stay what they were.
pub struct ExeFile(Arc<AddressSpace>);

impl ExeFile {
    /// Deny writes to `mapping` for as long as the result lives; ETXTBSY if the file is
    /// open for writing.
    pub fn deny(mapping: Arc<AddressSpace>) -> Result<Self, Errno> {
        mapping.deny_write_access()?;
        Ok(Self(mapping))
    }
}

impl Clone for ExeFile {
    fn clone(&self) -> Self {
        // Already denied by `self`, so a second denial cannot fail.
        let denied = self.0.deny_write_access();
        debug_assert!(denied.is_ok());
        Self(self.0.clone())
    }
}

impl Drop for ExeFile {
    fn drop(&mut self) {
        self.0.allow_write_access();
    }
}

/// A file some VMAs of an address space map (the part of Linux's `vma->vm_file` Cradle
/// needs): its page cache and what `/proc/<pid>/maps` prints for it.
#[derive(Clone)]
pub struct VmFile {
    /// The id VMAs name it by ([`Vma::file`]).
    pub id: u32,
    /// The file's pages.
    pub mapping: Arc<AddressSpace>,
    /// Its path (`/dev/zero (deleted)` for shared anonymous memory, as Linux shows it).
    pub name: String,
    /// The device of its filesystem.
    pub dev: u64,
    /// Its inode number.
    pub ino: u64,
}

/// The most VMAs one address space may have (Linux's `DEFAULT_MAX_MAP_COUNT`). A thread's
/// stack takes two (the stack and its guard page), so this also bounds the threads.
pub const MAX_VMAS: usize = 65530;

/// The lowest address user mappings may use (Linux's default `mmap_min_addr`).
pub const MMAP_MIN_ADDR: u64 = 0x1_0000;
/// Where `mmap` without a hint searches down from when addresses are not randomized: the
/// top of user space less Linux's smallest gap for the stack, 128 MiB (`mm/util.c`
/// `mmap_base` with an 8 MiB stack limit: `STACK_TOP - MIN_GAP`). Linux arm64 with
/// `norandmaps` puts `ld.so` just below `0xfffff8000000` too.
pub const MMAP_BASE: u64 = TASK_SIZE - (128 << 20);

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
    /// The program file, kept from being written while this address space lives.
    pub exe_file: Option<ExeFile>,
    /// The files VMAs map, by id. Every entry is used by at least one VMA.
    pub files: Vec<VmFile>,
    /// The id the next mapped file gets.
    pub next_file_id: u32,
    /// Where `mmap` without a hint searches down from (Linux's `mm->mmap_base`):
    /// [`MMAP_BASE`] less a random offset, chosen at exec.
    pub mmap_base: u64,
    /// Where the vDSO is mapped, 0 if it is not (Linux's `mm->context.vdso`): signal
    /// handlers return through its `__kernel_rt_sigreturn`.
    pub vdso_base: u64,
    /// Flags every new mapping gets (Linux's `def_flags`: `LOCKED` after
    /// `mlockall(MCL_FUTURE)`).
    pub def_flags: VmFlags,
}

impl MmInner {
    /// The file a VMA maps.
    pub fn vm_file(&self, vma: &Vma) -> Option<&VmFile> {
        let id = vma.file?;
        self.files.iter().find(|f| f.id == id)
    }

    /// Forget files no VMA maps any more, and leave their caches' lists of mappers.
    fn prune_files(&mut self, owner: &MmStruct) {
        let vmas = &self.vmas;
        self.files.retain(|f| {
            let used = vmas.iter().any(|vma| vma.file == Some(f.id));
            if !used {
                f.mapping.remove_mapper(owner);
            }
            used
        });
    }
}

/// A user address space.
pub struct MmStruct {
    /// Physical address of the L0 table (TTBR0's base).
    pub pgd: u64,
    /// ASID context: generation << 16 | asid, 0 before the first switch (Linux's `context.id`).
    pub context: AtomicU64,
    /// VMAs and page tables. Lock: its own.
    pub inner: SpinLock<MmInner>,
    /// Held by the system calls that change the VMA set — `mmap`, `munmap`, `mprotect`,
    /// `mremap`, `brk`, `madvise` — for their whole course (Linux's `mmap_lock`, taken for
    /// writing; here a mutex). `inner` alone is taken and dropped several times in one call
    /// (a free range is found, then mapped; `brk` is read, then moved), and a thread on
    /// another CPU must not map into the range in between. Page faults do not take it. Lock
    /// order: before `inner`.
    pub mmap_lock: Mutex<()>,
    /// The `membarrier` commands this address space registered for (Linux's
    /// `membarrier_state`; `kernel::sched::membarrier`).
    pub membarrier_state: AtomicU32,
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
                exe_file: None,
                files: Vec::new(),
                next_file_id: 1,
                mmap_base: MMAP_BASE,
                vdso_base: 0,
                def_flags: VmFlags::NONE,
            }),
            mmap_lock: Mutex::new(()),
            membarrier_state: AtomicU32::new(0),
        }))
    }

    /// Add a VMA at `start` (page aligned) of `len` bytes; no page is mapped yet. A private
    /// writable region is accounted first ([`vm_enough_memory`]): ENOMEM if it could never
    /// be backed. Every kind of user memory comes through here: `mmap`, `brk`, and the
    /// segments and stack `execve` maps.
    pub fn map_region(&self, start: u64, len: u64, flags: VmFlags) -> Result<(), Errno> {
        check_range(start, len)?;
        if flags.contains(VmFlags::WRITE) && !flags.contains(VmFlags::SHARED) {
            vm_enough_memory(len / PAGE_SIZE)?;
        }
        let mut inner = self.inner.lock();
        inner
            .vmas
            .insert_merge(Vma::anon(start, start + len, flags))
            .map_err(|_| Errno::ENOMEM)
    }

    /// Add a VMA at `start` (page aligned) of `len` bytes mapping `file`'s pages from page
    /// `pgoff` on (Linux's `mmap_region` for a file); no page is mapped yet. `file.id` is
    /// assigned here.
    pub fn map_file(
        self: &Arc<Self>,
        start: u64,
        len: u64,
        flags: VmFlags,
        mut file: VmFile,
        pgoff: u64,
    ) -> Result<(), Errno> {
        check_range(start, len)?;
        // A private writable file mapping may copy every page: accounted as map_region's.
        if flags.contains(VmFlags::WRITE) && !flags.contains(VmFlags::SHARED) {
            vm_enough_memory(len / PAGE_SIZE)?;
        }
        let mapping = file.mapping.clone();
        {
            let mut inner = self.inner.lock();
            let id = match inner
                .files
                .iter()
                .find(|f| Arc::ptr_eq(&f.mapping, &file.mapping))
            {
                Some(known) => known.id,
                None => {
                    // Ids wrap after 2^32 mappings; skip 0 and those still in use.
                    let mut id = inner.next_file_id;
                    while id == 0 || inner.files.iter().any(|f| f.id == id) {
                        id = id.wrapping_add(1);
                    }
                    inner.next_file_id = id.wrapping_add(1);
                    file.id = id;
                    inner.files.push(file);
                    id
                }
            };
            let vma = Vma::file(start, start + len, flags.without(VmFlags::ANON), id, pgoff);
            if inner.vmas.insert(vma).is_err() {
                inner.prune_files(self);
                return Err(Errno::ENOMEM);
            }
        }
        mapping.add_mapper(self);
        Ok(())
    }

    /// Unmap the pages of `mapping` from page index `first` on, wherever this address
    /// space maps them (truncation's part of Linux's `unmap_mapping_range`).
    pub fn unmap_file_pages(&self, mapping: &AddressSpace, first: u64) {
        let inner = self.inner.lock();
        let Some(id) = inner
            .files
            .iter()
            .find(|f| core::ptr::eq(Arc::as_ptr(&f.mapping), mapping))
            .map(|f| f.id)
        else {
            return;
        };
        for vma in inner.vmas.iter().filter(|v| v.file == Some(id)) {
            let vma_pages = vma.len() / PAGE_SIZE;
            if vma.pgoff + vma_pages <= first {
                continue;
            }
            let skip = first.saturating_sub(vma.pgoff);
            let start = vma.start + skip * PAGE_SIZE;
            self.zap_range(start, vma.end - start);
        }
    }

    /// Find room for `len` bytes, highest first below `mmap_base` (Linux's
    /// `get_unmapped_area`, top-down).
    pub fn get_unmapped_area(&self, len: u64) -> Result<u64, Errno> {
        let inner = self.inner.lock();
        inner
            .vmas
            .find_free(len, 0, MMAP_MIN_ADDR, inner.mmap_base)
            .map_err(|_| Errno::ENOMEM)
    }

    /// Remove `[start, start + len)`: VMAs are cut, pages freed, TLB entries dropped.
    pub fn unmap_region(&self, start: u64, len: u64) -> Result<(), Errno> {
        check_range(start, len)?;
        let mut inner = self.inner.lock();
        inner
            .vmas
            .unmap(start, len, &mut |_| {})
            .map_err(|_| Errno::ENOMEM)?;
        self.zap_range(start, len);
        inner.prune_files(self);
        Ok(())
    }

    /// Unmap and free the pages in `[start, start + len)` (Linux's `zap_page_range` under an
    /// `mmu_gather`): entries cleared, the TLB flushed once per batch, pages and emptied
    /// tables freed after that flush. The caller holds `inner`.
    pub(crate) fn zap_range(&self, start: u64, len: u64) {
        let mut pages = PageGather::new(&self.context);
        let mut tables = TableGather::new(&self.context);
        let mut freed = |va: u64, desc: Descriptor| {
            page_remove_rmap(desc.output_address());
            pages.remove_page(va, desc.output_address())
        };
        // SAFETY: callers hold `inner`; the gathers free pages and tables only after their
        // TLB entries are gone.
        let _ = unsafe { mmu::unmap_range(self.pgd, start, len, &mut tables, &mut freed) };
        tlb_finish(&mut pages, &mut tables, start, start + len);
    }

    /// Drop the pages of `[start, start + len)` but keep the page tables (Linux's
    /// `zap_page_range` for `MADV_DONTNEED`): the VMAs stay, and the next touch of the range
    /// faults in a fresh page (zero for anonymous memory, the cache's for a file) without
    /// building tables again. A thread's stack that glibc hands back this way on exit is
    /// reused by the next thread.
    fn zap_pages(&self, start: u64, len: u64) {
        let mut pages = PageGather::new(&self.context);
        let mut tables = TableGather::new(&self.context);
        let mut freed = |va: u64, desc: Descriptor| {
            page_remove_rmap(desc.output_address());
            pages.remove_page(va, desc.output_address())
        };
        // SAFETY: callers hold `inner`; the gather frees the pages only after their TLB
        // entries are gone; no table is freed.
        let _ = unsafe { mmu::zap_leaves(self.pgd, start, len, &tables, &mut freed) };
        tlb_finish(&mut pages, &mut tables, start, start + len);
    }

    /// Grow the mapping at `[addr, addr + old_len)` to `new_len` bytes where it is (Linux's
    /// `mremap` without a move). The range must be the end of one VMA.
    pub fn expand_in_place(&self, addr: u64, old_len: u64, new_len: u64) -> Result<(), Errno> {
        let mut inner = self.inner.lock();
        let vma = *inner.vmas.find(addr).ok_or(Errno::EFAULT)?;
        if vma.end != addr + old_len {
            return Err(Errno::ENOMEM);
        }
        let new_end = addr.checked_add(new_len).ok_or(Errno::ENOMEM)?;
        if new_end > TASK_SIZE {
            return Err(Errno::ENOMEM);
        }
        inner.vmas.expand(addr, new_end).map_err(|_| Errno::ENOMEM)
    }

    /// Move `[old, old + old_len)`, part of one VMA, to `new` with `new_len` bytes (Linux's
    /// `move_vma`): a VMA like the old one at `new`, the page-table entries moved over (the
    /// pages themselves stay, with their references), the old range unmapped. `new` is a
    /// free range the caller found.
    pub fn move_region(&self, old: u64, old_len: u64, new: u64, new_len: u64) -> Result<(), Errno> {
        check_range(new, new_len)?;
        let mut inner = self.inner.lock();
        let vma = *inner.vmas.find(old).ok_or(Errno::EFAULT)?;
        let moved = Vma {
            start: new,
            end: new + new_len,
            flags: vma.flags,
            pgoff: if vma.is_anonymous() {
                new / PAGE_SIZE
            } else {
                vma.pgoff + (old - vma.start) / PAGE_SIZE
            },
            file: vma.file,
        };
        inner.vmas.insert(moved).map_err(|_| Errno::ENOMEM)?;
        let pages = old_len.min(new_len) / PAGE_SIZE;
        for i in 0..pages {
            let (from, to) = (old + i * PAGE_SIZE, new + i * PAGE_SIZE);
            // SAFETY: `inner` is held, so no one else edits these tables.
            let src = unsafe { mmu_user::pte_alloc(self.pgd, from, &mut KernelTableAlloc) }
                .map_err(|_| Errno::ENOMEM)?;
            // SAFETY: `src` is this mm's level-3 entry for `from`; `inner` is held.
            let desc = unsafe { src.read_volatile() };
            if !Descriptor::from_bits(desc).is_valid() {
                continue;
            }
            // SAFETY: as above.
            let dst = unsafe { mmu_user::pte_alloc(self.pgd, to, &mut KernelTableAlloc) }
                .map_err(|_| Errno::ENOMEM)?;
            // SAFETY: both are this mm's entries, `dst` empty (the range was free). The old
            // translation is invalid before the new one appears; the page keeps its one
            // reference, now held by the new entry. The TLB flush below drops the old one.
            unsafe {
                src.write_volatile(Descriptor::INVALID.bits());
                dst.write_volatile(desc);
            }
        }
        tlbflush::flush_tlb_range(&self.context, old, old + pages * PAGE_SIZE, true);
        inner
            .vmas
            .unmap(old, old_len, &mut |_| {})
            .map_err(|_| Errno::ENOMEM)?;
        self.zap_range(old, old_len);
        inner.prune_files(self);
        Ok(())
    }

    /// Drop the pages of `[start, start + len)` wherever VMAs map it (Linux's
    /// `madvise(MADV_DONTNEED)`): the next touch finds zeros in private anonymous memory,
    /// the file's page in a file mapping. Fails with ENOMEM if part of the range is not
    /// mapped (after dropping what is).
    pub fn dontneed(&self, start: u64, len: u64) -> Result<(), Errno> {
        check_range(start, len)?;
        let end = start + len;
        let inner = self.inner.lock();
        for vma in inner.vmas.iter() {
            let (lo, hi) = (vma.start.max(start), vma.end.min(end));
            if lo < hi {
                self.zap_pages(lo, hi - lo);
            }
        }
        if inner.vmas.covers(start, end) {
            Ok(())
        } else {
            Err(Errno::ENOMEM)
        }
    }

    /// Change the protection of `[start, start + len)` (Linux's `mprotect`).
    pub fn protect_region(&self, start: u64, len: u64, flags: VmFlags) -> Result<(), Errno> {
        check_range(start, len)?;
        let mut inner = self.inner.lock();
        // A shared mapping of a file opened read-only can never become writable.
        let end = start + len;
        let denied = flags.contains(VmFlags::WRITE)
            && inner.vmas.iter().any(|v| {
                v.start < end
                    && v.end > start
                    && v.flags.contains(VmFlags::SHARED)
                    && !v.flags.contains(VmFlags::MAYWRITE)
            });
        if denied && inner.vmas.covers(start, end) {
            return Err(Errno::EACCES);
        }
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
        tlbflush::flush_tlb_mm(&self.context);
        Ok(())
    }

    /// Write `data` at user address `addr` of this address space through the kernel's own
    /// mapping, whatever the pages' user permissions are — how `execve` fills the initial
    /// stack and zeroes the tail of a segment's last file page (Linux's `copy_to_user` on a
    /// new stack, `padzero`, and `FOLL_FORCE` writes). Each page is faulted in for writing
    /// first: a private file page is copied, a hole gets a zeroed page.
    pub fn populate_write(&self, addr: u64, data: &[u8]) -> Result<(), Errno> {
        let inner = self.inner.lock();
        let mut done = 0usize;
        while done < data.len() {
            let va = addr + done as u64;
            let page_va = va & !(PAGE_SIZE - 1);
            let vma = *inner.vmas.find(va).ok_or(Errno::EFAULT)?;
            let pa = do_fault(self, &inner, &vma, page_va, Access::Write, true)
                .map_err(|_| Errno::EFAULT)?;
            let offset = (va - page_va) as usize;
            let n = (PAGE_SIZE as usize - offset).min(data.len() - done);
            // SAFETY: `pa` is a page of this address space that only it maps (a forced write
            // copies shared pages first), reached through the linear map.
            unsafe {
                core::ptr::copy_nonoverlapping(
                    data[done..].as_ptr(),
                    page_address(pa).add(offset),
                    n,
                )
            };
            if vma.flags.contains(VmFlags::EXEC) {
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
            child_inner.mmap_base = inner.mmap_base;
            child_inner.vdso_base = inner.vdso_base;
            child_inner.brk = inner.brk;
            child_inner.arg_start = inner.arg_start;
            child_inner.arg_end = inner.arg_end;
            child_inner.env_start = inner.env_start;
            child_inner.env_end = inner.env_end;
            child_inner.exe_path = inner.exe_path.clone();
            child_inner.exe_file = inner.exe_file.clone();
            child_inner.files = inner.files.clone();
            child_inner.next_file_id = inner.next_file_id;
            for vma in inner.vmas.iter() {
                // Locks are not inherited (Linux's `dup_mmap`), nor `mlockall`'s default.
                let mut vma = *vma;
                vma.flags = vma.flags.without(VmFlags::LOCKED | VmFlags::LOCKONFAULT);
                child_inner.vmas.insert(vma).map_err(|_| Errno::ENOMEM)?;
            }
        }
        let mut result = Ok(());
        for vma in inner.vmas.iter() {
            // A private page ends up shared, read-only and copy-on-write on both sides. In
            // a read-only VMA only the COW mark is new: it keeps a later mprotect(PROT_WRITE)
            // from making the shared page writable, so the first write copies it then. A
            // shared mapping's pages are the same pages for both, as they were.
            let shared = vma.flags.contains(VmFlags::SHARED);
            let mut copy = |_va: u64, parent: &mut Descriptor| {
                if !shared {
                    *parent = Descriptor::from_bits(parent.bits() | PTE_RDONLY | PTE_COW);
                }
                page_dup_rmap(parent.output_address());
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
        tlbflush::flush_tlb_mm(&self.context);
        drop(inner);
        if result.is_ok() {
            let files = child.inner.lock().files.clone();
            for file in files {
                file.mapping.add_mapper(&child);
            }
        }
        result.map(|()| child)
    }
}

impl Drop for MmStruct {
    fn drop(&mut self) {
        // Off the caches' lists of mappers first (their weak references would keep this
        // allocation alive).
        let files = core::mem::take(&mut self.inner.get_mut().files);
        for file in &files {
            file.mapping.remove_mapper(self);
        }
        // Linux's exit_mmap with a full-mm gather. The last reference is going, so no CPU
        // has these tables in TTBR0 (a task switches away before it drops its mm) and no
        // walker can load a new TLB entry from them: one TLBI by ASID, walk caches included,
        // drops whatever is left, and then pages and tables can go back at once, with no
        // per-page invalidation. An mm that never ran has no ASID and nothing to flush.
        if self.context.load(Ordering::Relaxed) != 0 {
            tlbflush::flush_tlb_mm(&self.context);
        }
        let mut put = |_va: u64, desc: Descriptor| {
            page_remove_rmap(desc.output_address());
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

/// May `pages` more pages of private writable memory be promised (Linux's
/// `__vm_enough_memory` under the default `vm.overcommit_memory = 0`, OVERCOMMIT_GUESS)?
/// Memory is overcommitted — pages come at first touch — but one request larger than all
/// of RAM (there is no swap) could never be met: ENOMEM. So `mmap` of 64 TiB fails, and so
/// does `execve` of a program whose `.bss` is 64 TiB.
pub fn vm_enough_memory(pages: u64) -> Result<(), Errno> {
    if pages > crate::mm::pages::totalram_pages() {
        return Err(Errno::ENOMEM);
    }
    Ok(())
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
    use crate::arch::pgtable::{PAGE_READONLY, PAGE_READONLY_EXEC, PAGE_SHARED, PTE_UXN};
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
