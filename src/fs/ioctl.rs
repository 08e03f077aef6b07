//! `ioctl(2)` (Linux: `fs/ioctl.c`): handed to the file's inode, whose default is ENOTTY.

use super::file::fdget;
use crate::kernel::errno::Errno;

type SysResult = Result<u64, Errno>;

/// `ioctl(2)`.
pub fn sys_ioctl(fd: i32, cmd: u32, arg: u64) -> SysResult {
    let file = fdget(fd)?;
    file.inode.ioctl(cmd, arg).map(|v| v as u64)
}
