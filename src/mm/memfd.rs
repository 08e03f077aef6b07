//! `memfd_create(2)` and file seals (Linux: `mm/memfd.c`).
//!
//! A memfd is a tmpfs regular file that no directory names: a ramfs inode whose page cache
//! is its memory, opened read-write, shown in `/proc/<pid>/fd` and `/proc/<pid>/maps` as
//! `/memfd:<name> (deleted)`. `read`, `write`, `ftruncate`, `lseek` and `mmap`
//! (`MAP_SHARED` maps the cache's pages, as for any tmpfs file) work on it as on a file.
//!
//! Seals (`fcntl` F_ADD_SEALS/F_GET_SEALS) are kept in the tmpfs inode, as Linux keeps them
//! in `shmem_inode_info`: every tmpfs file starts with `F_SEAL_SEAL` (no seals may be
//! added), a memfd created with `MFD_ALLOW_SEALING` without it. ramfs enforces them on
//! `write` and truncation; `mmap` refuses a writable shared mapping of a write-sealed file;
//! `F_SEAL_WRITE` cannot be added while a writable shared mapping exists (EBUSY).

use alloc::format;
use alloc::sync::Arc;
use core::sync::atomic::{AtomicU32, Ordering};

use crate::fs::file::{flags, File};
use crate::fs::inode::Inode;
use crate::kernel::errno::Errno;
use crate::kernel::task::current;

type SysResult = Result<u64, Errno>;

/// `memfd_create` flags.
const MFD_CLOEXEC: u32 = 0x1;
const MFD_ALLOW_SEALING: u32 = 0x2;
const MFD_HUGETLB: u32 = 0x4;
/// The longest name, without `memfd:` (Linux's `MFD_NAME_MAX_LEN`: NAME_MAX - 6).
const MFD_NAME_MAX_LEN: usize = 255 - 6;

/// Seals (`include/uapi/linux/fcntl.h`).
pub const F_SEAL_SEAL: u32 = 0x1;
/// The file may not shrink.
pub const F_SEAL_SHRINK: u32 = 0x2;
/// The file may not grow.
pub const F_SEAL_GROW: u32 = 0x4;
/// The file may not be written.
pub const F_SEAL_WRITE: u32 = 0x8;
/// The file may not be written through new writers; existing mappings may.
pub const F_SEAL_FUTURE_WRITE: u32 = 0x10;
/// Every seal Linux 6.1 knows.
const F_ALL_SEALS: u32 =
    F_SEAL_SEAL | F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE | F_SEAL_FUTURE_WRITE;

/// `fcntl` commands (`F_LINUX_SPECIFIC_BASE` + 9, + 10).
pub const F_ADD_SEALS: u32 = 1033;
/// Read the seals.
pub const F_GET_SEALS: u32 = 1034;

/// `memfd_create(2)`: EINVAL for unknown flags, `MFD_HUGETLB` (no hugetlbfs) or a name over
/// 249 bytes; EFAULT for a bad name pointer.
pub fn sys_memfd_create(uname: u64, mfd_flags: u32) -> SysResult {
    if mfd_flags & !(MFD_CLOEXEC | MFD_ALLOW_SEALING | MFD_HUGETLB) != 0
        || mfd_flags & MFD_HUGETLB != 0
    {
        return Err(Errno::EINVAL);
    }
    let name = crate::fs::namei::strndup_user(uname, MFD_NAME_MAX_LEN + 1).map_err(|e| {
        if e == Errno::ENAMETOOLONG {
            Errno::EINVAL
        } else {
            e
        }
    })?;
    let name = alloc::string::String::from_utf8_lossy(&name);
    let inode =
        crate::fs::ramfs::RamInode::new_unlinked_file(crate::fs::inode::mode::S_IFREG | 0o777);
    if mfd_flags & MFD_ALLOW_SEALING != 0 {
        if let Some(seals) = inode.seals() {
            seals.fetch_and(!F_SEAL_SEAL, Ordering::Relaxed);
        }
    }
    // Named under the root of an internal mount, as Linux's `shm_mnt`: its path reads
    // `/memfd:<name> (deleted)` in /proc/<pid>/fd and /proc/<pid>/maps.
    let dentry = Arc::new(crate::fs::namei::Dentry {
        name: crate::fs::namei::DentryName::new(&format!("memfd:{name} (deleted)")),
        parent: Some(crate::fs::namei::Dentry::root(inode.clone())),
        inode,
    });
    let file = File::open(dentry, flags::O_RDWR | flags::O_LARGEFILE)?;
    let files = current().files()?;
    let fd = files
        .lock()
        .alloc_fd(0, file, mfd_flags & MFD_CLOEXEC != 0)?;
    Ok(fd as u64)
}

/// The seals of `inode`, if it is a tmpfs file (Linux's `memfd_file_seals_ptr`).
fn seals_of(inode: &Arc<dyn Inode>) -> Option<&AtomicU32> {
    inode.seals()
}

/// `fcntl(F_ADD_SEALS)`/`fcntl(F_GET_SEALS)` (Linux's `memfd_fcntl`): EINVAL for a file
/// that is not tmpfs's or unknown seals, EPERM for a file not open for writing or sealed
/// with `F_SEAL_SEAL`, EBUSY for `F_SEAL_WRITE` while a writable shared mapping exists.
pub fn memfd_fcntl(file: &File, cmd: u32, arg: u64) -> SysResult {
    match cmd {
        F_ADD_SEALS => {
            let seals = u32::try_from(arg).map_err(|_| Errno::EINVAL)?;
            if !file.writable() {
                return Err(Errno::EPERM);
            }
            if seals & !F_ALL_SEALS != 0 {
                return Err(Errno::EINVAL);
            }
            let file_seals = seals_of(&file.inode).ok_or(Errno::EINVAL)?;
            let old = file_seals.load(Ordering::Acquire);
            if old & F_SEAL_SEAL != 0 {
                return Err(Errno::EPERM);
            }
            if seals & F_SEAL_WRITE != 0 && old & F_SEAL_WRITE == 0 {
                if let Some(mapping) = file.inode.mapping() {
                    if mapping.has_shared_writable_mapping() {
                        return Err(Errno::EBUSY);
                    }
                }
            }
            file_seals.fetch_or(seals, Ordering::AcqRel);
            Ok(0)
        }
        F_GET_SEALS => seals_of(&file.inode)
            .map(|s| u64::from(s.load(Ordering::Acquire)))
            .ok_or(Errno::EINVAL),
        _ => Err(Errno::EINVAL),
    }
}

/// How much of a write of `len` bytes at `pos` may go into a file of `size` bytes with
/// `seals` (Linux's `shmem_write_begin`, called for each page-sized piece of the write):
/// EPERM if the file is write-sealed; if it is grow-sealed, the pieces up to the first one
/// that would end past the size go in (a short write), and EPERM if that is the first.
pub fn check_write_seals(seals: u32, pos: u64, len: u64, size: u64) -> Result<u64, Errno> {
    if seals & (F_SEAL_WRITE | F_SEAL_FUTURE_WRITE) != 0 {
        return Err(Errno::EPERM);
    }
    if seals & F_SEAL_GROW != 0 && pos.saturating_add(len) > size {
        let page = crate::arch::memory::PAGE_SIZE;
        let boundary = size / page * page; // pieces ending at or before it fit
        return if boundary > pos {
            Ok(boundary - pos)
        } else {
            Err(Errno::EPERM)
        };
    }
    Ok(len)
}

/// May a file of `size` bytes with `seals` be truncated to `len` (Linux's `shmem_setattr`)?
pub fn check_truncate_seals(seals: u32, len: u64, size: u64) -> Result<(), Errno> {
    if (len < size && seals & F_SEAL_SHRINK != 0) || (len > size && seals & F_SEAL_GROW != 0) {
        return Err(Errno::EPERM);
    }
    Ok(())
}

/// Whether a file with `seals` refuses writable shared mappings (Linux's
/// `seal_check_write`, and `mapping_map_writable` under `F_SEAL_WRITE`).
pub fn seals_deny_shared_write(seals: u32) -> bool {
    seals & (F_SEAL_WRITE | F_SEAL_FUTURE_WRITE) != 0
}
