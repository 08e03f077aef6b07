//! `readahead(2)` (Linux: `mm/readahead.c`): start reading a file's pages into the page
//! cache. Every Cradle file system keeps its files in memory, so there is nothing to read;
//! the call checks what Linux's `ksys_readahead` checks and asks `fadvise(WILLNEED)`.

use crate::fs::file::fdget;
use crate::fs::inode::FileType;
use crate::kernel::errno::Errno;

/// `POSIX_FADV_WILLNEED`.
const POSIX_FADV_WILLNEED: u32 = 3;

/// `readahead(2)`: EBADF for a bad descriptor or one not open for reading, EINVAL for a
/// file without a page cache or not regular.
pub fn sys_readahead(fd: i32, offset: i64, count: usize) -> Result<u64, Errno> {
    let file = fdget(fd)?;
    if !file.readable() {
        return Err(Errno::EBADF);
    }
    if file.inode.mapping().is_none() || file.inode.file_type() != FileType::Regular {
        return Err(Errno::EINVAL);
    }
    crate::fs::read_write::sys_fadvise64(fd, offset, count as i64, POSIX_FADV_WILLNEED)
}
