//! Locking memory: `mlock`, `mlock2`, `munlock`, `mlockall`, `munlockall` (Linux:
//! `mm/mlock.c`), and `mincore` (Linux: `mm/mincore.c`).
//!
//! A locked VMA has `VM_LOCKED` (and `VM_LOCKONFAULT` for `MLOCK_ONFAULT`/`MCL_ONFAULT`);
//! locking faults its pages in (unless on-fault) as Linux's `__mm_populate` does. Cradle
//! never swaps or reclaims anonymous or tmpfs pages, so a page, once in, stays: the flag
//! is what `/proc/<pid>/status` (`VmLck`), the limits and `fork` (which drops it) see.
//! The locked size is counted from the VMAs when asked (Linux keeps `mm->locked_vm`).
//!
//! Limits as Linux's: without CAP_IPC_LOCK, EPERM when RLIMIT_MEMLOCK is 0, ENOMEM when the
//! locked pages would pass it (`mlockall(MCL_CURRENT)`: when the whole address space would).

use alloc::sync::Arc;
use alloc::vec::Vec;

use crate::arch::memory::PAGE_SIZE;
use crate::arch::uaccess::{copy_to_user, TASK_SIZE};
use crate::kernel::capability::{capable, CAP_IPC_LOCK};
use crate::kernel::errno::Errno;
use crate::kernel::sys::{task_rlimit, RLIMIT_MEMLOCK};
use crate::kernel::task::current;
use crate::mm::fault::{do_fault, Access};
use crate::mm::mm_types::MmStruct;
use crate::mm::vma::VmFlags;

type SysResult = Result<u64, Errno>;

/// `mlock2` flag: lock pages as they are faulted in.
const MLOCK_ONFAULT: u32 = 0x1;
/// `mlockall` flags.
const MCL_CURRENT: u32 = 1;
const MCL_FUTURE: u32 = 2;
const MCL_ONFAULT: u32 = 4;

/// Both lock flags.
const LOCK_FLAGS: VmFlags =
    VmFlags::from_bits(VmFlags::LOCKED.bits() | VmFlags::LOCKONFAULT.bits());

/// VMAs `mlock` leaves alone (Linux's `VM_SPECIAL`: device memory here).
fn special(flags: VmFlags) -> bool {
    flags.contains(VmFlags::IO)
}

/// Pages of `mm` in locked VMAs (Linux's `mm->locked_vm`).
pub fn locked_vm(mm: &MmStruct) -> u64 {
    let inner = mm.inner.lock();
    inner
        .vmas
        .iter()
        .filter(|v| v.flags.contains(VmFlags::LOCKED))
        .map(|v| (v.end - v.start) / PAGE_SIZE)
        .sum()
}

/// Locked pages of `mm` within `[start, end)` (Linux's `count_mm_mlocked_page_nr`).
fn locked_in(mm: &MmStruct, start: u64, end: u64) -> u64 {
    let inner = mm.inner.lock();
    inner
        .vmas
        .iter()
        .filter(|v| v.flags.contains(VmFlags::LOCKED) && v.start < end && v.end > start)
        .map(|v| (v.end.min(end) - v.start.max(start)) / PAGE_SIZE)
        .sum()
}

/// May the caller lock memory at all (Linux's `can_do_mlock`)?
pub fn can_do_mlock() -> bool {
    task_rlimit(current(), RLIMIT_MEMLOCK) != 0 || capable(CAP_IPC_LOCK)
}

/// The memory-lock limit in pages.
fn lock_limit() -> u64 {
    task_rlimit(current(), RLIMIT_MEMLOCK) / PAGE_SIZE
}

/// Fault in the pages of `[start, end)` of `mm`'s accessible VMAs (Linux's `__mm_populate`
/// with errors ignored): writable private pages for writing (so a later write does not copy),
/// the others for reading.
pub fn populate(mm: &MmStruct, start: u64, end: u64) {
    let inner = mm.inner.lock();
    let vmas: Vec<_> = inner
        .vmas
        .iter()
        .filter(|v| v.start < end && v.end > start)
        .copied()
        .collect();
    for vma in vmas {
        if special(vma.flags) || !vma.flags.intersects(VmFlags::READ | VmFlags::WRITE) {
            continue;
        }
        let write = vma.flags.contains(VmFlags::WRITE) && !vma.flags.contains(VmFlags::SHARED);
        let access = if write { Access::Write } else { Access::Read };
        let mut va = vma.start.max(start);
        while va < vma.end.min(end) {
            if do_fault(mm, &inner, &vma, va, access, false).is_err() {
                break;
            }
            va += PAGE_SIZE;
        }
    }
}

/// Give `[start, start + len)` the lock flags `flags` (Linux's `apply_vma_lock_flags`):
/// ENOMEM if part of it is not mapped.
fn apply_vma_lock_flags(mm: &MmStruct, start: u64, len: u64, flags: VmFlags) -> Result<(), Errno> {
    let mut inner = mm.inner.lock();
    inner
        .vmas
        .change_flags(start, len, |old| {
            if special(old) {
                old
            } else {
                old.without(LOCK_FLAGS) | flags
            }
        })
        .map_err(|_| Errno::ENOMEM)
}

/// The page-aligned range `mlock`/`munlock` work on: `start` rounded down, the length
/// rounded up from there; EINVAL if it wraps.
fn lock_range(start: u64, len: u64) -> Result<(u64, u64), Errno> {
    let offset = start % PAGE_SIZE;
    let len = len
        .checked_add(offset)
        .and_then(|l| l.checked_add(PAGE_SIZE - 1))
        .ok_or(Errno::ENOMEM)?
        / PAGE_SIZE
        * PAGE_SIZE;
    let start = start - offset;
    start.checked_add(len).ok_or(Errno::EINVAL)?;
    Ok((start, len))
}

/// Linux's `do_mlock`.
fn do_mlock(start: u64, len: u64, flags: VmFlags) -> SysResult {
    if !can_do_mlock() {
        return Err(Errno::EPERM);
    }
    let (start, len) = lock_range(start, len)?;
    let mm = current().mm().ok_or(Errno::ENOMEM)?;
    {
        let _mmap = mm.mmap_lock.lock();
        let mut locked = len / PAGE_SIZE + locked_vm(&mm);
        let limit = lock_limit();
        if locked > limit && !capable(CAP_IPC_LOCK) {
            locked -= locked_in(&mm, start, start + len);
        }
        if locked > limit && !capable(CAP_IPC_LOCK) {
            return Err(Errno::ENOMEM);
        }
        if len == 0 {
            return Ok(0);
        }
        apply_vma_lock_flags(&mm, start, len, flags)?;
        if !flags.contains(VmFlags::LOCKONFAULT) {
            populate(&mm, start, start + len);
        }
    }
    Ok(0)
}

/// `mlock(2)`.
pub fn sys_mlock(start: u64, len: u64) -> SysResult {
    do_mlock(start, len, VmFlags::LOCKED)
}

/// `mlock2(2)`: EINVAL for flags other than `MLOCK_ONFAULT`.
pub fn sys_mlock2(start: u64, len: u64, flags: u32) -> SysResult {
    if flags & !MLOCK_ONFAULT != 0 {
        return Err(Errno::EINVAL);
    }
    let vm_flags = if flags & MLOCK_ONFAULT != 0 {
        LOCK_FLAGS
    } else {
        VmFlags::LOCKED
    };
    do_mlock(start, len, vm_flags)
}

/// `munlock(2)`: ENOMEM if part of the range is not mapped.
pub fn sys_munlock(start: u64, len: u64) -> SysResult {
    let (start, len) = lock_range(start, len)?;
    if len == 0 {
        return Ok(0);
    }
    let mm = current().mm().ok_or(Errno::ENOMEM)?;
    let _mmap = mm.mmap_lock.lock();
    apply_vma_lock_flags(&mm, start, len, VmFlags::NONE)?;
    Ok(0)
}

/// Give every VMA of `mm` the lock flags `flags` (Linux's `apply_mlockall_flags`).
fn lock_all(mm: &MmStruct, flags: VmFlags) {
    let ranges: Vec<(u64, u64)> = mm
        .inner
        .lock()
        .vmas
        .iter()
        .map(|v| (v.start, v.end - v.start))
        .collect();
    for (start, len) in ranges {
        let _ = apply_vma_lock_flags(mm, start, len, flags);
    }
}

/// `mlockall(2)`: EINVAL for no flags, unknown ones, or `MCL_ONFAULT` alone; EPERM as
/// `mlock`; ENOMEM for `MCL_CURRENT` when the whole address space passes RLIMIT_MEMLOCK.
pub fn sys_mlockall(flags: u32) -> SysResult {
    if flags == 0 || flags & !(MCL_CURRENT | MCL_FUTURE | MCL_ONFAULT) != 0 || flags == MCL_ONFAULT
    {
        return Err(Errno::EINVAL);
    }
    if !can_do_mlock() {
        return Err(Errno::EPERM);
    }
    let mm: Arc<MmStruct> = current().mm().ok_or(Errno::ENOMEM)?;
    let _mmap = mm.mmap_lock.lock();
    if flags & MCL_CURRENT != 0 && !capable(CAP_IPC_LOCK) {
        let total_vm: u64 = mm
            .inner
            .lock()
            .vmas
            .iter()
            .map(|v| (v.end - v.start) / PAGE_SIZE)
            .sum();
        if total_vm > lock_limit() {
            return Err(Errno::ENOMEM);
        }
    }
    let onfault = if flags & MCL_ONFAULT != 0 {
        VmFlags::LOCKONFAULT
    } else {
        VmFlags::NONE
    };
    mm.inner.lock().def_flags = if flags & MCL_FUTURE != 0 {
        VmFlags::LOCKED | onfault
    } else {
        VmFlags::NONE
    };
    if flags & MCL_CURRENT != 0 {
        lock_all(&mm, VmFlags::LOCKED | onfault);
        if flags & MCL_ONFAULT == 0 {
            populate(&mm, 0, TASK_SIZE);
        }
    }
    Ok(0)
}

/// `munlockall(2)`.
pub fn sys_munlockall() -> SysResult {
    let mm = current().mm().ok_or(Errno::ENOMEM)?;
    let _mmap = mm.mmap_lock.lock();
    mm.inner.lock().def_flags = VmFlags::NONE;
    lock_all(&mm, VmFlags::NONE);
    Ok(0)
}

/// May a new mapping of `len` bytes with `flags` be locked (Linux's `mlock_future_check`)?
/// EAGAIN past RLIMIT_MEMLOCK.
pub fn mlock_future_check(mm: &MmStruct, flags: VmFlags, len: u64) -> Result<(), Errno> {
    if !flags.contains(VmFlags::LOCKED) || capable(CAP_IPC_LOCK) {
        return Ok(());
    }
    if locked_vm(mm) + len / PAGE_SIZE > lock_limit() {
        return Err(Errno::EAGAIN);
    }
    Ok(())
}

/// `mincore(2)`: one byte per page of `[start, start + len)`, 1 if the page is in memory
/// (mapped, or in the page cache of the file a VMA maps), else 0. EINVAL for an unaligned
/// `start`, ENOMEM for a range outside user space or with unmapped pages, EFAULT for a bad
/// `vec`.
pub fn sys_mincore(start: u64, len: u64, vec: u64) -> SysResult {
    if !start.is_multiple_of(PAGE_SIZE) {
        return Err(Errno::EINVAL);
    }
    if start.checked_add(len).is_none_or(|end| end > TASK_SIZE) {
        return Err(Errno::ENOMEM);
    }
    let pages = len.div_ceil(PAGE_SIZE);
    if !crate::arch::uaccess::access_ok(vec, pages as usize) {
        return Err(Errno::EFAULT);
    }
    let mm = current().mm().ok_or(Errno::ENOMEM)?;
    let mut done = 0;
    while done < pages {
        let chunk = (pages - done).min(PAGE_SIZE);
        let bytes = {
            let inner = mm.inner.lock();
            let mut bytes = Vec::with_capacity(chunk as usize);
            for i in 0..chunk {
                let va = start + (done + i) * PAGE_SIZE;
                let Some(vma) = inner.vmas.find(va) else {
                    break;
                };
                // SAFETY: `inner` is held, so nobody edits the tables meanwhile.
                let present = unsafe {
                    crate::arch::mmu::walk(mm.pgd, va, &crate::arch::paging::KernelTableAlloc)
                }
                .is_some_and(|(d, _, _)| d.is_valid());
                let cached = !present
                    && inner.vm_file(vma).is_some_and(|f| {
                        f.mapping
                            .is_cached(vma.pgoff + (va - vma.start) / PAGE_SIZE)
                    });
                bytes.push(u8::from(present || cached));
            }
            bytes
        };
        if !bytes.is_empty() {
            copy_to_user(vec + done, &bytes)?;
        }
        if (bytes.len() as u64) < chunk {
            return Err(Errno::ENOMEM);
        }
        done += chunk;
    }
    Ok(0)
}
