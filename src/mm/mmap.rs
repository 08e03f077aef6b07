//! The memory system calls: `brk`, `mmap`, `munmap`, `mprotect`, `mremap`, `madvise`,
//! `msync` (Linux: `mm/mmap.c`, `mm/mprotect.c`, `mm/mremap.c`, `mm/madvise.c`,
//! `mm/msync.c`).
//!
//! Anonymous private mappings are demand-zero. A file mapping maps the file's page cache
//! (`mm::filemap`): private ones copy a page on its first write, shared ones write the
//! cache itself, which is what `read` returns and every other mapper sees.
//! `MAP_SHARED|MAP_ANONYMOUS` (and a shared map of `/dev/zero`) gets a page cache of its own
//! that no file names, shared with children across `fork` (Linux's shmem). Pages come in
//! on the first touch (`mm::fault`).

use alloc::string::String;

use crate::arch::memory::PAGE_SIZE;
use crate::arch::uaccess::TASK_SIZE;
use crate::fs::inode::FileType;
use crate::kernel::errno::Errno;
use crate::kernel::task::current;
use crate::mm::filemap::AddressSpace;
use crate::mm::mm_types::{VmFile, MMAP_MIN_ADDR};
use crate::mm::vma::VmFlags;

type SysResult = Result<u64, Errno>;

const PROT_READ: u32 = 1;
const PROT_WRITE: u32 = 2;
const PROT_EXEC: u32 = 4;
const MAP_SHARED: u32 = 0x01;
const MAP_PRIVATE: u32 = 0x02;
const MAP_SHARED_VALIDATE: u32 = 0x03;
const MAP_TYPE: u32 = 0x0f;
const MAP_FIXED: u32 = 0x10;
const MAP_ANONYMOUS: u32 = 0x20;
const MAP_FIXED_NOREPLACE: u32 = 0x10_0000;
/// Lock the mapping's pages in (as `mlock`).
const MAP_LOCKED: u32 = 0x2000;

fn page_up(x: u64) -> Option<u64> {
    x.checked_add(PAGE_SIZE - 1).map(|v| v & !(PAGE_SIZE - 1))
}

fn prot_flags(prot: u32) -> VmFlags {
    let mut f = VmFlags::NONE;
    if prot & PROT_READ != 0 {
        f |= VmFlags::READ;
    }
    if prot & PROT_WRITE != 0 {
        f |= VmFlags::WRITE | VmFlags::READ;
    }
    if prot & PROT_EXEC != 0 {
        f |= VmFlags::EXEC | VmFlags::READ;
    }
    f
}

/// `brk(2)`: move the program break; returns the (possibly unchanged) break.
pub fn sys_brk(addr: u64) -> SysResult {
    let mm = current().mm().ok_or(Errno::ENOMEM)?;
    let _mmap = mm.mmap_lock.lock();
    let (start_brk, brk) = {
        let inner = mm.inner.lock();
        (inner.start_brk, inner.brk)
    };
    if addr < start_brk {
        return Ok(brk);
    }
    let (Some(old_end), Some(new_end)) = (page_up(brk), page_up(addr)) else {
        return Ok(brk);
    };
    if new_end > old_end {
        if mm
            .map_region(old_end, new_end - old_end, VmFlags::READ | VmFlags::WRITE)
            .is_err()
        {
            return Ok(brk); // collides with another mapping: the break stays
        }
    } else if new_end < old_end {
        mm.unmap_region(new_end, old_end - new_end)?;
    }
    mm.inner.lock().brk = addr;
    Ok(addr)
}

/// What a new mapping maps.
enum Backing {
    /// Private anonymous memory.
    Anon,
    /// A file's page cache.
    Cache(VmFile),
    /// Shared anonymous memory: a page cache no file names, mapped from its start.
    Shmem(VmFile),
}

/// `/dev/zero`'s device number: mapping it is mapping anonymous memory.
const DEV_ZERO: u64 = crate::fs::char_dev::mkdev(1, 5);

/// Shared anonymous memory of `len` bytes (Linux's `shmem_zero_setup`).
fn shmem_zero_setup(len: u64) -> VmFile {
    VmFile {
        id: 0,
        mapping: AddressSpace::with_size(len),
        name: String::from("/dev/zero (deleted)"),
        dev: 0,
        ino: 0,
    }
}

/// What `fd` maps, checked as Linux's `do_mmap` checks it, and the VMA flags it allows.
fn file_backing(fd: i32, prot: u32, shared: bool, len: u64) -> Result<(Backing, VmFlags), Errno> {
    let file = crate::fs::file::fdget(fd)?;
    let mut may = VmFlags::MAYREAD | VmFlags::MAYWRITE | VmFlags::MAYEXEC;
    if shared {
        if prot & PROT_WRITE != 0 && !file.writable() {
            return Err(Errno::EACCES);
        }
        if !file.writable() {
            may = may.without(VmFlags::MAYWRITE);
        }
    }
    if !file.readable() {
        return Err(Errno::EACCES);
    }
    let inode = &file.inode;
    let st = inode.stat();
    match inode.file_type() {
        FileType::Regular => {}
        FileType::CharDev if st.rdev == DEV_ZERO => {
            return Ok(if shared {
                (Backing::Shmem(shmem_zero_setup(len)), may)
            } else {
                (Backing::Anon, may)
            });
        }
        _ => return Err(Errno::ENODEV),
    }
    let mapping = inode.mapping().ok_or(Errno::ENODEV)?;
    // A write-sealed tmpfs file (`mm::memfd`): no writable shared mapping, nor one that
    // mprotect could make writable (Linux's `seal_check_write`).
    let seals = inode
        .seals()
        .map_or(0, |s| s.load(core::sync::atomic::Ordering::Acquire));
    if shared && crate::mm::memfd::seals_deny_shared_write(seals) {
        if prot & PROT_WRITE != 0 {
            return Err(Errno::EPERM);
        }
        may = may.without(VmFlags::MAYWRITE);
    }
    let name = file.dentry.path();
    let vm_file = VmFile {
        id: 0,
        mapping,
        name,
        dev: st.dev,
        ino: st.ino,
    };
    Ok((Backing::Cache(vm_file), may))
}

/// `mmap(2)`.
pub fn sys_mmap(addr: u64, len: u64, prot: u32, flags: u32, fd: i32, offset: u64) -> SysResult {
    let len = page_up(len).filter(|&l| l > 0).ok_or(Errno::EINVAL)?;
    if !offset.is_multiple_of(PAGE_SIZE) {
        return Err(Errno::EINVAL);
    }
    let shared = match flags & MAP_TYPE {
        MAP_SHARED | MAP_SHARED_VALIDATE => true,
        MAP_PRIVATE => false,
        _ => return Err(Errno::EINVAL),
    };
    let pgoff = offset / PAGE_SIZE;
    if pgoff.checked_add(len / PAGE_SIZE).is_none() {
        return Err(Errno::EOVERFLOW);
    }
    let mm = current().mm().ok_or(Errno::ENOMEM)?;
    // From the search for room to the new VMA, no other thread maps or unmaps.
    let _mmap = mm.mmap_lock.lock();
    let (backing, may) = if flags & MAP_ANONYMOUS == 0 {
        file_backing(fd, prot, shared, len)?
    } else if shared {
        let may = VmFlags::MAYREAD | VmFlags::MAYWRITE | VmFlags::MAYEXEC;
        (Backing::Shmem(shmem_zero_setup(len)), may)
    } else {
        let may = VmFlags::MAYREAD | VmFlags::MAYWRITE | VmFlags::MAYEXEC;
        (Backing::Anon, may)
    };
    let mut vm_flags = prot_flags(prot) | may | mm.inner.lock().def_flags;
    if shared {
        vm_flags |= VmFlags::SHARED | VmFlags::MAYSHARE;
    }
    if flags & MAP_LOCKED != 0 {
        if !crate::mm::mlock::can_do_mlock() {
            return Err(Errno::EPERM);
        }
        vm_flags |= VmFlags::LOCKED;
    }
    crate::mm::mlock::mlock_future_check(&mm, vm_flags, len)?;
    let fixed = flags & (MAP_FIXED | MAP_FIXED_NOREPLACE) != 0;
    let start = if fixed {
        if !addr.is_multiple_of(PAGE_SIZE) || addr < MMAP_MIN_ADDR {
            return Err(Errno::EINVAL);
        }
        let end = addr
            .checked_add(len)
            .filter(|&end| end <= TASK_SIZE)
            .ok_or(Errno::ENOMEM)?;
        if flags & MAP_FIXED_NOREPLACE != 0
            && mm
                .inner
                .lock()
                .vmas
                .find_vma(addr)
                .is_some_and(|v| v.start < end)
        {
            return Err(Errno::EEXIST);
        }
        mm.unmap_region(addr, len)?;
        addr
    } else {
        let hint_free = addr >= MMAP_MIN_ADDR
            && addr.is_multiple_of(PAGE_SIZE)
            && addr.checked_add(len).is_some_and(|end| end <= TASK_SIZE)
            && mm
                .inner
                .lock()
                .vmas
                .find_vma(addr)
                .is_none_or(|v| v.start >= addr + len);
        if hint_free {
            addr
        } else {
            mm.get_unmapped_area(len)?
        }
    };
    match backing {
        Backing::Anon => mm.map_region(start, len, vm_flags)?,
        Backing::Cache(file) => mm.map_file(start, len, vm_flags, file, pgoff)?,
        Backing::Shmem(file) => mm.map_file(start, len, vm_flags, file, 0)?,
    }
    if vm_flags.contains(VmFlags::LOCKED) && !vm_flags.contains(VmFlags::LOCKONFAULT) {
        crate::mm::mlock::populate(&mm, start, start + len); // Linux's mm_populate
    }
    Ok(start)
}

/// `munmap(2)`.
pub fn sys_munmap(addr: u64, len: u64) -> SysResult {
    let len = page_up(len).filter(|&l| l > 0).ok_or(Errno::EINVAL)?;
    if !addr.is_multiple_of(PAGE_SIZE) {
        return Err(Errno::EINVAL);
    }
    let mm = current().mm().ok_or(Errno::EINVAL)?;
    let _mmap = mm.mmap_lock.lock();
    mm.unmap_region(addr, len)?;
    Ok(0)
}

/// `mprotect(2)`.
pub fn sys_mprotect(addr: u64, len: u64, prot: u32) -> SysResult {
    let len = page_up(len).ok_or(Errno::EINVAL)?;
    if !addr.is_multiple_of(PAGE_SIZE) {
        return Err(Errno::EINVAL);
    }
    if len == 0 {
        return Ok(0);
    }
    let mm = current().mm().ok_or(Errno::ENOMEM)?;
    let _mmap = mm.mmap_lock.lock();
    mm.protect_region(addr, len, prot_flags(prot))?;
    Ok(0)
}

const MREMAP_MAYMOVE: u32 = 1;
const MREMAP_FIXED: u32 = 2;

/// `mremap(2)`: shrink in place, grow in place if the room is free, else move
/// (`MREMAP_MAYMOVE`), to `new_addr` with `MREMAP_FIXED`.
pub fn sys_mremap(old: u64, old_len: u64, new_len: u64, flags: u32, new_addr: u64) -> SysResult {
    if !old.is_multiple_of(PAGE_SIZE)
        || flags & !(MREMAP_MAYMOVE | MREMAP_FIXED) != 0
        || (flags & MREMAP_FIXED != 0 && flags & MREMAP_MAYMOVE == 0)
    {
        return Err(Errno::EINVAL);
    }
    let old_len = page_up(old_len).ok_or(Errno::EINVAL)?;
    let new_len = page_up(new_len).filter(|&l| l > 0).ok_or(Errno::EINVAL)?;
    let mm = current().mm().ok_or(Errno::EFAULT)?;
    let _mmap = mm.mmap_lock.lock();
    if old_len == 0 {
        // Linux duplicates a shared mapping here; Cradle does not.
        return Err(Errno::EINVAL);
    }
    {
        let inner = mm.inner.lock();
        let vma = inner.vmas.find(old).ok_or(Errno::EFAULT)?;
        if old.checked_add(old_len).is_none_or(|end| end > vma.end) {
            return Err(Errno::EFAULT);
        }
    }
    if flags & MREMAP_FIXED != 0 {
        let new_end = new_addr.checked_add(new_len).ok_or(Errno::EINVAL)?;
        let overlap = new_addr < old + old_len && old < new_end;
        if !new_addr.is_multiple_of(PAGE_SIZE) || new_addr < MMAP_MIN_ADDR || overlap {
            return Err(Errno::EINVAL);
        }
        mm.unmap_region(new_addr, new_len)?;
        mm.move_region(old, old_len, new_addr, new_len)?;
        return Ok(new_addr);
    }
    if new_len <= old_len {
        if new_len < old_len {
            mm.unmap_region(old + new_len, old_len - new_len)?;
        }
        return Ok(old);
    }
    if mm.expand_in_place(old, old_len, new_len).is_ok() {
        return Ok(old);
    }
    if flags & MREMAP_MAYMOVE == 0 {
        return Err(Errno::ENOMEM);
    }
    let new = mm.get_unmapped_area(new_len)?;
    mm.move_region(old, old_len, new, new_len)?;
    Ok(new)
}

const MADV_DONTNEED: u32 = 4;

/// `madvise(2)`: `MADV_DONTNEED` drops the pages (private anonymous memory reads back as
/// zeros); the other advice Linux knows is taken and changes nothing here.
pub fn sys_madvise(addr: u64, len: u64, advice: u32) -> SysResult {
    let known = matches!(advice, 0..=4 | 8..=24 | 100 | 101);
    if !addr.is_multiple_of(PAGE_SIZE) || !known {
        return Err(Errno::EINVAL);
    }
    let len = page_up(len).ok_or(Errno::EINVAL)?;
    if len == 0 {
        return Ok(0);
    }
    let mm = current().mm().ok_or(Errno::ENOMEM)?;
    let _mmap = mm.mmap_lock.lock();
    if advice == MADV_DONTNEED {
        mm.dontneed(addr, len)?;
    } else {
        let end = addr
            .checked_add(len)
            .filter(|&end| end <= TASK_SIZE)
            .ok_or(Errno::ENOMEM)?;
        if !mm.inner.lock().vmas.covers(addr, end) {
            return Err(Errno::ENOMEM);
        }
    }
    Ok(0)
}

const MS_ASYNC: u32 = 1;
const MS_INVALIDATE: u32 = 2;
const MS_SYNC: u32 = 4;

/// `msync(2)`: a shared mapping writes the page cache itself, and ramfs has no disk behind
/// it, so there is nothing to write back; the arguments are checked as Linux does.
pub fn sys_msync(addr: u64, len: u64, flags: u32) -> SysResult {
    if !addr.is_multiple_of(PAGE_SIZE)
        || flags & !(MS_ASYNC | MS_INVALIDATE | MS_SYNC) != 0
        || flags & (MS_ASYNC | MS_SYNC) == (MS_ASYNC | MS_SYNC)
    {
        return Err(Errno::EINVAL);
    }
    let len = page_up(len).ok_or(Errno::ENOMEM)?;
    let end = addr.checked_add(len).ok_or(Errno::ENOMEM)?;
    if len == 0 {
        return Ok(0);
    }
    let mm = current().mm().ok_or(Errno::ENOMEM)?;
    if !mm.inner.lock().vmas.covers(addr, end) {
        return Err(Errno::ENOMEM);
    }
    Ok(0)
}
