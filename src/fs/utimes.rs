//! `utimensat(2)` (Linux: `fs/utimes.c`): the path and Linux's permission rules are checked;
//! timestamps are not kept separately yet.

use super::file::fdget;
use super::namei::{getname, lookup_at, AT_SYMLINK_NOFOLLOW};
use super::permission::{self as perm, MAY_WRITE};
use crate::arch::uaccess::copy_from_user;
use crate::kernel::cred::current_cred;
use crate::kernel::errno::Errno;

type SysResult = Result<u64, Errno>;

/// `utimensat(2)`: Linux's rules, then the times. Setting times to now needs ownership,
/// CAP_FOWNER or write permission (EACCES); setting explicit times needs ownership or
/// CAP_FOWNER (EPERM). Cradle keeps one time per inode, the modification time, so that is
/// what changes (`UTIME_NOW`: now, `UTIME_OMIT`: left alone); the access time is checked
/// and dropped. A `tv_nsec` outside `0..10^9` that is neither is EINVAL.
pub fn sys_utimensat(dirfd: i32, pathname: u64, times: u64, uflags: u32) -> SysResult {
    const UTIME_NOW: i64 = (1 << 30) - 1;
    const UTIME_OMIT: i64 = (1 << 30) - 2;
    let mut nsec = [UTIME_NOW; 2];
    let mut mtime_sec = 0;
    if times != 0 {
        let mut raw = [0u8; 32];
        copy_from_user(&mut raw, times)?;
        for (i, n) in nsec.iter_mut().enumerate() {
            *n = i64::from_le_bytes(raw[i * 16 + 8..i * 16 + 16].try_into().unwrap_or([0; 8]));
            if *n != UTIME_NOW && *n != UTIME_OMIT && !(0..1_000_000_000).contains(n) {
                return Err(Errno::EINVAL);
            }
        }
        mtime_sec = i64::from_le_bytes(raw[16..24].try_into().unwrap_or([0; 8]));
    }
    let dentry = if pathname == 0 {
        fdget(dirfd)?.dentry.clone()
    } else {
        let path = getname(pathname)?;
        lookup_at(dirfd, &path, uflags & AT_SYMLINK_NOFOLLOW == 0)?
    };
    let inode = dentry.inode.clone();
    if nsec == [UTIME_OMIT; 2] {
        return Ok(0);
    }
    let cred = current_cred();
    let attr = inode.attr();
    if !perm::owner_or_capable(attr, &cred) {
        if nsec.iter().all(|&n| n == UTIME_NOW || n == UTIME_OMIT) {
            perm::generic_permission(attr, MAY_WRITE, &cred)?;
        } else {
            return Err(Errno::EPERM);
        }
    }
    match nsec[1] {
        UTIME_OMIT => {}
        UTIME_NOW => inode.set_mtime(crate::kernel::time::realtime_seconds())?,
        _ => inode.set_mtime(mtime_sec)?,
    }
    crate::fs::notify::fsnotify_attrib(&dentry);
    Ok(0)
}
