//! `newfstatat(2)`, `fstat(2)`, `statx(2)` and `readlinkat(2)` (Linux: `fs/stat.c`,
//! `do_statx`, `cp_statx`; `include/uapi/linux/stat.h`): an inode's attributes as arm64's
//! 128-byte `struct stat` or as `struct statx`, and a symbolic link's target.
//!
//! GNU coreutils 9 (`ls`, `stat`, `cp`) call `statx` rather than `newfstatat`. Its answer
//! holds what Cradle's inodes know — the basic fields, with every time the modification
//! time — and the mask says so (`STATX_BASIC_STATS`, plus `STATX_MNT_ID` which Linux sets
//! for every file); like tmpfs, no birth time.

use alloc::sync::Arc;

use super::file::fdget;
use super::inode::{FileType, Inode, Stat};
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

/// `STATX_TYPE` .. `STATX_BLOCKS`: what `stat` returns.
pub const STATX_BASIC_STATS: u32 = 0x7ff;
/// The mount id field is valid.
pub const STATX_MNT_ID: u32 = 0x1000;
/// Reserved for future extension: EINVAL.
pub const STATX__RESERVED: u32 = 0x8000_0000;

/// The flags statx accepts.
const AT_NO_AUTOMOUNT: u32 = 0x800;
const AT_STATX_SYNC_TYPE: u32 = 0x6000;
const AT_STATX_DONT_SYNC: u32 = 0x4000;
const AT_STATX_FORCE_SYNC: u32 = 0x2000;

/// The size of `struct statx`.
pub const STATX_SIZE: usize = 256;

/// glibc's (and Linux's `new_decode_dev`) major and minor of a `dev_t`.
fn decode_dev(dev: u64) -> (u32, u32) {
    let major = ((dev >> 8) & 0xfff) | ((dev >> 32) & !0xfff);
    let minor = (dev & 0xff) | ((dev >> 12) & !0xff);
    (major as u32, minor as u32)
}

/// `struct statx` for `st` (Linux's `cp_statx`).
pub fn statx_bytes(st: &Stat) -> [u8; STATX_SIZE] {
    let mut b = [0u8; STATX_SIZE];
    let mut put = |at: usize, v: &[u8]| b[at..at + v.len()].copy_from_slice(v);
    put(0, &(STATX_BASIC_STATS | STATX_MNT_ID).to_le_bytes());
    put(4, &4096u32.to_le_bytes()); // stx_blksize
    put(16, &st.nlink.to_le_bytes());
    put(20, &st.uid.to_le_bytes());
    put(24, &st.gid.to_le_bytes());
    put(28, &(st.mode as u16).to_le_bytes());
    put(32, &st.ino.to_le_bytes());
    put(40, &st.size.to_le_bytes());
    put(48, &st.size.div_ceil(512).to_le_bytes());
    // atime (64), ctime (96), mtime (112); btime (80) stays zero, outside the mask.
    for at in [64, 96, 112] {
        put(at, &st.mtime.to_le_bytes());
    }
    let (rdev_major, rdev_minor) = decode_dev(st.rdev);
    let (dev_major, dev_minor) = decode_dev(st.dev);
    put(128, &rdev_major.to_le_bytes());
    put(132, &rdev_minor.to_le_bytes());
    put(136, &dev_major.to_le_bytes());
    put(140, &dev_minor.to_le_bytes());
    put(144, &st.dev.to_le_bytes()); // stx_mnt_id: one mount per device here
    b
}

/// `statx(2)`.
pub fn sys_statx(dirfd: i32, pathname: u64, flags: u32, mask: u32, buf: u64) -> SysResult {
    let known = AT_SYMLINK_NOFOLLOW | AT_NO_AUTOMOUNT | AT_EMPTY_PATH | AT_STATX_SYNC_TYPE;
    if flags & !known != 0 || flags & AT_STATX_SYNC_TYPE == AT_STATX_DONT_SYNC | AT_STATX_FORCE_SYNC
    {
        return Err(Errno::EINVAL);
    }
    if mask & STATX__RESERVED != 0 {
        return Err(Errno::EINVAL);
    }
    let path = getname(pathname)?;
    let inode: Arc<dyn Inode> = if path.is_empty() {
        if flags & AT_EMPTY_PATH == 0 {
            return Err(Errno::ENOENT);
        }
        if dirfd == AT_FDCWD {
            lookup_at(AT_FDCWD, ".", true)?.inode.clone()
        } else {
            fdget(dirfd)?.inode.clone()
        }
    } else {
        lookup_at(dirfd, &path, flags & AT_SYMLINK_NOFOLLOW == 0)?
            .inode
            .clone()
    };
    copy_to_user(buf, &statx_bytes(&inode.stat()))?;
    Ok(0)
}
