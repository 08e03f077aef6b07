//! `fcntl(2)` (Linux: `fs/fcntl.c`): duplicating a descriptor, its close-on-exec flag, the
//! file's status flags (O_APPEND and O_NONBLOCK settable), and the record-lock commands,
//! which `locks` carries out (POSIX `F_GETLK`/`F_SETLK`/`F_SETLKW` and their OFD forms).

use super::file::{fdget, flags};
use super::locks;
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
    pub const F_GETLK: u32 = 5;
    pub const F_SETLK: u32 = 6;
    pub const F_SETLKW: u32 = 7;
    pub const F_OFD_GETLK: u32 = 36;
    pub const F_OFD_SETLK: u32 = 37;
    pub const F_OFD_SETLKW: u32 = 38;
    pub const F_DUPFD_CLOEXEC: u32 = 1030;
}

/// `fcntl(2)`.
pub fn sys_fcntl(fd: i32, cmd: u32, arg: u64) -> SysResult {
    use fcntl_cmd::*;
    let file = fdget(fd)?;
    // An O_PATH descriptor allows only these (Linux's `check_fcntl_cmd`).
    if file.flags() & flags::O_PATH != 0
        && !matches!(cmd, F_DUPFD | F_DUPFD_CLOEXEC | F_GETFD | F_SETFD | F_GETFL)
    {
        return Err(Errno::EBADF);
    }
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
        crate::mm::memfd::F_ADD_SEALS | crate::mm::memfd::F_GET_SEALS => {
            crate::mm::memfd::memfd_fcntl(&file, cmd, arg)
        }
        F_GETLK | F_OFD_GETLK => locks::fcntl_getlk(&file, cmd == F_OFD_GETLK, arg),
        F_SETLK | F_SETLKW | F_OFD_SETLK | F_OFD_SETLKW => locks::fcntl_setlk(
            fd,
            &file,
            matches!(cmd, F_OFD_SETLK | F_OFD_SETLKW),
            matches!(cmd, F_SETLKW | F_OFD_SETLKW),
            arg,
        ),
        _ => Err(Errno::EINVAL),
    }
}
