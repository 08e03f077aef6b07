//! `fsync(2)`, `fdatasync(2)`, `syncfs(2)` and `sync_file_range(2)` (Linux: `fs/sync.c`):
//! every filesystem is in RAM, so there is nothing to write back; only the arguments are
//! checked, as Linux checks them.

use super::file::fdget;
use crate::kernel::errno::Errno;

type SysResult = Result<u64, Errno>;

/// `fsync(2)`: ramfs has nothing to write back; only the descriptor is checked.
pub fn sys_fsync(fd: i32) -> SysResult {
    fdget(fd)?;
    Ok(0)
}

/// `syncfs(2)`: EBADF for a bad descriptor.
pub fn sys_syncfs(fd: i32) -> SysResult {
    fdget(fd)?;
    Ok(0)
}

/// `sync_file_range(2)` (Linux's `ksys_sync_file_range`): EBADF, then EINVAL for unknown
/// flags, a negative offset or a range that wraps, then ESPIPE for a file that is not a
/// regular file, directory, symbolic link or block device.
pub fn sys_sync_file_range(fd: i32, offset: i64, nbytes: i64, flags: u32) -> SysResult {
    use super::inode::FileType;
    // SYNC_FILE_RANGE_WAIT_BEFORE | SYNC_FILE_RANGE_WRITE | SYNC_FILE_RANGE_WAIT_AFTER
    const VALID_FLAGS: u32 = 0x7;
    let file = fdget(fd)?;
    if flags & !VALID_FLAGS != 0 {
        return Err(Errno::EINVAL);
    }
    let endbyte = offset.wrapping_add(nbytes);
    if offset < 0 || endbyte < 0 || endbyte < offset {
        return Err(Errno::EINVAL);
    }
    match file.inode.file_type() {
        FileType::Regular | FileType::BlockDev | FileType::Directory | FileType::Symlink => Ok(0),
        _ => Err(Errno::ESPIPE),
    }
}
