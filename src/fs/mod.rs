//! The filesystem layer (Linux's `fs/`): inodes, dentries and the path walk, open files and
//! descriptor tables, ramfs, procfs, sysfs, pipes, character devices, devtmpfs, the initramfs,
//! executing programs, and the filesystem system calls, each in the file named for Linux's
//! (`open`, `stat`, `readdir`, `d_path`, `fcntl`, `ioctl`, `namei`, `utimes`, `sync`,
//! `namespace`, `select`, `pipe`, `read_write`, `statfs`), file locks (`locks`: fcntl record
//! locks, OFD locks, flock), and the anonymous-inode files
//! (`anon_inodes`): `eventpoll`, `eventfd`, `timerfd`, `signalfd`, and inotify with the
//! VFS's file-system events (`notify`).
//!
//! The archive and executable formats (`cpio`, `elf`, `exec_stack`) and the permission
//! checks (`permission`) are portable and
//! unit-tested on the host; the rest runs in the kernel.

pub mod cpio;
pub mod elf;
pub mod exec_stack;
pub mod permission;

#[cfg(target_os = "none")]
pub mod anon_inodes;
#[cfg(target_os = "none")]
pub mod char_dev;
#[cfg(target_os = "none")]
pub mod d_path;
#[cfg(target_os = "none")]
pub mod devtmpfs;
#[cfg(target_os = "none")]
pub mod eventfd;
#[cfg(target_os = "none")]
pub mod eventpoll;
#[cfg(target_os = "none")]
pub mod exec;
#[cfg(target_os = "none")]
pub mod fcntl;
#[cfg(target_os = "none")]
pub mod file;
#[cfg(target_os = "none")]
pub mod initramfs;
#[cfg(target_os = "none")]
pub mod inode;
#[cfg(target_os = "none")]
pub mod ioctl;
#[cfg(target_os = "none")]
pub mod iov_iter;
#[cfg(target_os = "none")]
pub mod locks;
#[cfg(target_os = "none")]
mod locks_kunit;
#[cfg(target_os = "none")]
pub mod namei;
#[cfg(target_os = "none")]
pub mod namespace;
#[cfg(target_os = "none")]
pub mod notify;
#[cfg(target_os = "none")]
pub mod open;
#[cfg(target_os = "none")]
pub mod pipe;
#[cfg(target_os = "none")]
pub mod proc;
#[cfg(target_os = "none")]
pub mod ramfs;
#[cfg(target_os = "none")]
pub mod read_write;
#[cfg(target_os = "none")]
pub mod readdir;
#[cfg(target_os = "none")]
pub mod select;
#[cfg(target_os = "none")]
pub mod signalfd;
#[cfg(target_os = "none")]
pub mod stat;
#[cfg(target_os = "none")]
pub mod statfs;
#[cfg(target_os = "none")]
pub mod sync;
#[cfg(target_os = "none")]
pub mod sysfs;
#[cfg(target_os = "none")]
pub mod timerfd;
#[cfg(target_os = "none")]
pub mod utimes;
#[cfg(target_os = "none")]
pub mod xattr;
