//! The memory system calls: `brk`, `mmap`, `munmap`, `mprotect` (Linux: `mm/mmap.c`,
//! `mm/mprotect.c`, `mm/nommu.c` for what is left out).
//!
//! Anonymous mappings are demand-zero; private file mappings are filled from the file at
//! `mmap` time (ramfs files are in memory already, so this is a copy, not I/O). Shared file
//! mappings need a page cache that ramfs does not have yet: they fail with ENODEV.

use crate::arch::arm64::memory::PAGE_SIZE;
use crate::kernel::errno::Errno;
use crate::kernel::task::current;
use crate::mm::mm_types::MMAP_MIN_ADDR;
use crate::mm::vma::VmFlags;

type SysResult = Result<u64, Errno>;

const PROT_READ: u32 = 1;
const PROT_WRITE: u32 = 2;
const PROT_EXEC: u32 = 4;
const MAP_SHARED: u32 = 0x01;
const MAP_PRIVATE: u32 = 0x02;
const MAP_FIXED: u32 = 0x10;
const MAP_ANONYMOUS: u32 = 0x20;
const MAP_FIXED_NOREPLACE: u32 = 0x10_0000;

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

/// `mmap(2)`.
pub fn sys_mmap(addr: u64, len: u64, prot: u32, flags: u32, fd: i32, offset: u64) -> SysResult {
    let len = page_up(len).filter(|&l| l > 0).ok_or(Errno::EINVAL)?;
    if !offset.is_multiple_of(PAGE_SIZE) || flags & (MAP_SHARED | MAP_PRIVATE) == 0 {
        return Err(Errno::EINVAL);
    }
    let mm = current().mm().ok_or(Errno::ENOMEM)?;
    let file = if flags & MAP_ANONYMOUS == 0 {
        let file = crate::fs::syscalls::fdget(fd)?;
        if flags & MAP_SHARED != 0 && prot & PROT_WRITE != 0 {
            return Err(Errno::ENODEV);
        }
        if !file.readable() {
            return Err(Errno::EACCES);
        }
        Some(file)
    } else {
        None
    };
    let fixed = flags & (MAP_FIXED | MAP_FIXED_NOREPLACE) != 0;
    let start = if fixed {
        if !addr.is_multiple_of(PAGE_SIZE) || addr < MMAP_MIN_ADDR {
            return Err(Errno::EINVAL);
        }
        if flags & MAP_FIXED_NOREPLACE != 0
            && mm
                .inner
                .lock()
                .vmas
                .find_vma(addr)
                .is_some_and(|v| v.start < addr + len)
        {
            return Err(Errno::EEXIST);
        }
        mm.unmap_region(addr, len)?;
        addr
    } else {
        let hint_free = addr >= MMAP_MIN_ADDR
            && addr.is_multiple_of(PAGE_SIZE)
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
    mm.map_region(start, len, prot_flags(prot))?;
    if let Some(file) = file {
        let size = file.inode.stat().size;
        if offset < size {
            let n = (size - offset).min(len) as usize;
            let mut buf = alloc::vec![0u8; n];
            let got = crate::fs::inode::kernel_read(&*file.inode, offset, &mut buf)?;
            mm.populate_write(start, &buf[..got])?;
        }
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
    mm.protect_region(addr, len, prot_flags(prot))?;
    Ok(0)
}
