//! `newfstatat(2)`, `fstat(2)` and `readlinkat(2)` (Linux: `fs/stat.c`): an inode's
//! attributes as arm64's 128-byte `struct stat`, and a symbolic link's target.

use alloc::sync::Arc;

use super::file::fdget;
use super::inode::{FileType, Inode};
use super::namei::{cwd, getname, lookup_at, AT_EMPTY_PATH, AT_FDCWD, AT_SYMLINK_NOFOLLOW};
use crate::arch::uaccess::copy_to_user;
use crate::kernel::errno::Errno;

type SysResult = Result<u64, Errno>;

/// Linux's `struct stat` for arm64 (asm-generic `stat.h`): 128 bytes.
fn stat_bytes(inode: &Arc<dyn Inode>) -> [u8; 128] {
    let st = inode.stat();
    let mut b = [0u8; 128];
    let mut put = |at: usize, v: &[u8]| b[at..at + v.len()].copy_from_slice(v);
    put(0, &st.dev.to_le_bytes());
    put(8, &st.ino.to_le_bytes());
    put(16, &st.mode.to_le_bytes());
    put(20, &st.nlink.to_le_bytes());
    put(24, &st.uid.to_le_bytes());
    put(28, &st.gid.to_le_bytes());
    put(32, &st.rdev.to_le_bytes());
    put(48, &st.size.to_le_bytes());
    put(56, &4096i32.to_le_bytes());
    put(64, &st.size.div_ceil(512).to_le_bytes());
    for at in [72, 88, 104] {
        put(at, &st.mtime.to_le_bytes());
    }
    b
}

/// `newfstatat(2)`.
pub fn sys_newfstatat(dirfd: i32, pathname: u64, statbuf: u64, at_flags: u32) -> SysResult {
    let path = getname(pathname)?;
    let inode = if path.is_empty() {
        if at_flags & AT_EMPTY_PATH == 0 {
            return Err(Errno::ENOENT);
        }
        if dirfd == AT_FDCWD {
            cwd()?.inode.clone()
        } else {
            fdget(dirfd)?.inode.clone()
        }
    } else {
        lookup_at(dirfd, &path, at_flags & AT_SYMLINK_NOFOLLOW == 0)?
            .inode
            .clone()
    };
    copy_to_user(statbuf, &stat_bytes(&inode))?;
    Ok(0)
}

/// `fstat(2)`.
pub fn sys_fstat(fd: i32, statbuf: u64) -> SysResult {
    let file = fdget(fd)?;
    copy_to_user(statbuf, &stat_bytes(&file.inode))?;
    Ok(0)
}

/// `readlinkat(2)`. `/proc/self/exe` is the one glibc asks for (ENOENT until proc is mounted).
pub fn sys_readlinkat(dirfd: i32, pathname: u64, buf: u64, bufsiz: usize) -> SysResult {
    let path = getname(pathname)?;
    let dentry = lookup_at(dirfd, &path, false)?;
    if dentry.inode.file_type() != FileType::Symlink {
        return Err(Errno::EINVAL);
    }
    let target = dentry.inode.readlink()?;
    let n = target.len().min(bufsiz);
    copy_to_user(buf, &target.as_bytes()[..n])?;
    Ok(n as u64)
}
