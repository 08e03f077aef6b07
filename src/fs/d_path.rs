//! `getcwd(2)`: the working directory's path, from its dentry's names and parents (Linux:
//! `fs/d_path.c`).

use super::namei::cwd;
use crate::arch::uaccess::copy_to_user;
use crate::kernel::errno::Errno;

type SysResult = Result<u64, Errno>;

/// `getcwd(2)`.
pub fn sys_getcwd(buf: u64, size: usize) -> SysResult {
    // Seen from the task's root (Linux's `d_path`); a directory outside it (a chroot
    // entered from below the cwd) reads "(unreachable)" and its full path, as Linux's
    // getcwd answers.
    let cwd = cwd()?;
    let path = cwd
        .path_from(&super::namei::current_root())
        .unwrap_or_else(|| alloc::format!("(unreachable){}", cwd.path()));
    if path.len() + 1 > size {
        return Err(Errno::ERANGE);
    }
    let mut bytes = path.into_bytes();
    bytes.push(0);
    copy_to_user(buf, &bytes)?;
    Ok(bytes.len() as u64)
}
