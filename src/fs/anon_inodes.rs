//! Files with no name for objects that are not files: epoll instances, eventfds, timerfds,
//! signalfds (Linux: `fs/anon_inodes.c`).
//!
//! Each object is its own inode (Linux shares one inode among them; nothing here depends on
//! the difference); the file's dentry is named `anon_inode:[<kind>]`, which is what
//! `/proc/<pid>/fd/<n>` shows. [`AnonStat`] gives them Linux's `fstat` answer: mode 0600 with
//! no file-type bits, owned by the creator.

use alloc::sync::Arc;
use core::sync::atomic::{AtomicU64, Ordering};

use super::file::{flags, File};
use super::inode::{Inode, Stat};
use crate::kernel::errno::Errno;
use crate::kernel::task::current;

static NEXT_ANON_INO: AtomicU64 = AtomicU64::new(1 << 40);

/// What `fstat` says of an anonymous inode (Linux's `alloc_anon_inode`: `S_IRUSR |
/// S_IWUSR`, no type).
#[derive(Clone, Copy)]
pub struct AnonStat {
    ino: u64,
    uid: u32,
    gid: u32,
}

impl AnonStat {
    /// A new inode number, owned by the current task's filesystem IDs.
    pub fn new() -> Self {
        let (uid, gid) = crate::kernel::cred::with_current_cred(|c| (c.fsuid, c.fsgid));
        Self {
            ino: NEXT_ANON_INO.fetch_add(1, Ordering::Relaxed),
            uid,
            gid,
        }
    }

    /// The `stat` of it.
    pub fn stat(&self) -> Stat {
        Stat {
            ino: self.ino,
            mode: 0o600,
            nlink: 1,
            uid: self.uid,
            gid: self.gid,
            ..Stat::default()
        }
    }
}

impl Default for AnonStat {
    fn default() -> Self {
        Self::new()
    }
}

/// A new file on `inode` named `anon_inode:<name>`, open for reading and writing, with
/// O_NONBLOCK if `oflags` has it (Linux's `anon_inode_getfile`).
pub fn anon_inode_getfile(name: &str, inode: Arc<dyn Inode>, oflags: u32) -> Arc<File> {
    let name = alloc::format!("anon_inode:{name}");
    File::anonymous_named(inode, flags::O_RDWR | (oflags & flags::O_NONBLOCK), &name)
}

/// [`anon_inode_getfile`] installed at the lowest free descriptor, close-on-exec if
/// `oflags` has O_CLOEXEC (Linux's `anon_inode_getfd`).
pub fn anon_inode_getfd(name: &str, inode: Arc<dyn Inode>, oflags: u32) -> Result<u64, Errno> {
    let file = anon_inode_getfile(name, inode, oflags);
    let files = current().files()?;
    let fd = files
        .lock()
        .alloc_fd(0, file, oflags & flags::O_CLOEXEC != 0)?;
    Ok(fd as u64)
}
