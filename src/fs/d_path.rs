//! `getcwd(2)`: the working directory's path, from its dentry's names and parents (Linux:
//! `fs/d_path.c`).

use super::namei::cwd;
use crate::arch::uaccess::copy_to_user;
use crate::kernel::errno::Errno;

type SysResult = Result<u64, Errno>;

/// `getcwd(2)`.
pub fn sys_getcwd(buf: u64, size: usize) -> SysResult {
    let path = cwd()?.path();
    if path.len() + 1 > size {
        return Err(Errno::ERANGE);
    }
    let mut bytes = path.into_bytes();
    bytes.push(0);
    copy_to_user(buf, &bytes)?;
    Ok(bytes.len() as u64)
}
