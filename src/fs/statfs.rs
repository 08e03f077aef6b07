//! `statfs(2)` and `fstatfs(2)`: what `df` asks about a filesystem (Linux: `fs/statfs.c`).
//!
//! The filesystem is found by its device number: the mount whose root has the same `dev`
//! as the inode asked about. Cradle's filesystems all live in RAM, so tmpfs and the rootfs
//! report the machine's RAM as their size and its free pages as their free space, which is
//! exactly how much more they can hold; proc and sysfs report no blocks, as in Linux.

use alloc::sync::Arc;

use super::inode::Inode;
use super::syscalls::{fdget, getname, lookup_at};
use crate::arch::uaccess::copy_to_user;
use crate::kernel::errno::Errno;

/// Filesystem magic numbers (`include/uapi/linux/magic.h`).
mod magic {
    pub const RAMFS: u64 = 0x8584_58f6;
    pub const TMPFS: u64 = 0x0102_1994;
    pub const PROC: u64 = 0x9fa0;
    pub const SYSFS: u64 = 0x6265_6572;
}

/// `f_flags` bit saying the flags are filled in (Linux's `ST_VALID`).
const ST_VALID: u64 = 0x20;
/// The block size reported: one page.
const BLOCK_SIZE: u64 = 4096;
/// The longest file name any of Cradle's filesystems takes.
const NAME_MAX: u64 = 255;

/// `struct statfs` for 64-bit asm-generic architectures: eleven 8-byte words with the
/// 8-byte `f_fsid` in the middle, then four spare words (120 bytes).
fn statfs_bytes(inode: &Arc<dyn Inode>) -> [u8; 120] {
    let dev = inode.stat().dev;
    let fstype = crate::fs::namei::mounts()
        .into_iter()
        .find(|m| m.root.stat().dev == dev)
        .map(|m| m.fstype);
    let ram = || {
        (
            crate::mm::pages::totalram_pages(),
            crate::mm::pages::nr_free_pages(),
        )
    };
    let (f_type, (blocks, free)) = match fstype {
        Some("tmpfs" | "devtmpfs") => (magic::TMPFS, ram()),
        Some("rootfs" | "ramfs") => (magic::RAMFS, ram()),
        Some("proc") => (magic::PROC, (0, 0)),
        Some("sysfs") => (magic::SYSFS, (0, 0)),
        // Pipes and devices that belong to no mount: no blocks, no type.
        _ => (0, (0, 0)),
    };
    #[rustfmt::skip]
    let words: [u64; 15] = [
        f_type,
        BLOCK_SIZE, // f_bsize
        blocks,     // f_blocks
        free,       // f_bfree
        free,       // f_bavail: no blocks are reserved for root
        0,          // f_files: inodes are not counted
        0,          // f_ffree
        dev,        // f_fsid: two ints, here the device number
        NAME_MAX,   // f_namelen
        BLOCK_SIZE, // f_frsize
        ST_VALID,   // f_flags
        0, 0, 0, 0, // f_spare
    ];
    let mut out = [0u8; 120];
    for (chunk, word) in out.chunks_exact_mut(8).zip(words) {
        chunk.copy_from_slice(&word.to_le_bytes());
    }
    out
}

/// `statfs(2)`: about the filesystem holding `pathname` (symbolic links followed).
pub fn sys_statfs(pathname: u64, buf: u64) -> Result<u64, Errno> {
    let path = getname(pathname)?;
    let dentry = lookup_at(super::syscalls::AT_FDCWD, &path, true)?;
    copy_to_user(buf, &statfs_bytes(&dentry.inode))?;
    Ok(0)
}

/// `fstatfs(2)`: about the filesystem holding the open file `fd`.
pub fn sys_fstatfs(fd: i32, buf: u64) -> Result<u64, Errno> {
    let file = fdget(fd)?;
    copy_to_user(buf, &statfs_bytes(&file.inode))?;
    Ok(0)
}
