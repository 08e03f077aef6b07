//! `fcntl(2)` (Linux: `fs/fcntl.c`): duplicating a descriptor, its close-on-exec flag, the
//! file's status flags (O_APPEND and O_NONBLOCK settable); record locks always succeed.

use super::file::{fdget, flags};
use crate::kernel::errno::Errno;
use crate::kernel::task::current;

type SysResult = Result<u64, Errno>;

/// `fcntl(2)` commands.
mod fcntl_cmd {
    pub const F_DUPFD: u32 = 0;
    pub const F_GETFD: u32 = 1;
    pub const F_SETFD: u32 = 2;
    pub const F_GETFL: u32 = 3;
    pub const F_SETFL: u32 = 4;
    pub const F_SETLK: u32 = 6;
    pub const F_SETLKW: u32 = 7;
    pub const F_DUPFD_CLOEXEC: u32 = 1030;
}

/// `fcntl(2)`.
pub fn sys_fcntl(fd: i32, cmd: u32, arg: u64) -> SysResult {
    use fcntl_cmd::*;
    let file = fdget(fd)?;
    let files = current().files()?;
    match cmd {
        F_DUPFD | F_DUPFD_CLOEXEC => {
            let newfd = files
                .lock()
                .alloc_fd(arg as usize, file, cmd == F_DUPFD_CLOEXEC)?;
            Ok(newfd as u64)
        }
        F_GETFD => Ok(files.lock().entry_mut(fd as usize)?.cloexec as u64),
        F_SETFD => {
            files.lock().entry_mut(fd as usize)?.cloexec = arg & 1 != 0;
            Ok(0)
        }
        F_GETFL => Ok(file.flags() as u64 | flags::O_LARGEFILE as u64),
        F_SETFL => {
            let settable = flags::O_APPEND | flags::O_NONBLOCK;
            let old = file.flags();
            file.flags.store(
                (old & !settable) | (arg as u32 & settable),
                core::sync::atomic::Ordering::Relaxed,
            );
            Ok(0)
        }
        F_SETLK | F_SETLKW => Ok(0), // one machine, no lock contention to arbitrate yet
        crate::mm::memfd::F_ADD_SEALS | crate::mm::memfd::F_GET_SEALS => {
            crate::mm::memfd::memfd_fcntl(&file, cmd, arg)
        }
        _ => Err(Errno::EINVAL),
    }
}
