//! `fsync(2)` and `fdatasync(2)` (Linux: `fs/sync.c`): every filesystem is in RAM, so there
//! is nothing to write back; only the descriptor is checked.

use super::file::fdget;
use crate::kernel::errno::Errno;

type SysResult = Result<u64, Errno>;

/// `fsync(2)`: ramfs has nothing to write back; only the descriptor is checked.
pub fn sys_fsync(fd: i32) -> SysResult {
    fdget(fd)?;
    Ok(0)
}
