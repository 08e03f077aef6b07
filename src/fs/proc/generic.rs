//! The kinds of procfs inode and how they are numbered (Linux: `fs/proc/generic.c`,
//! `fs/proc/inode.c`).
//!
//! A [`ProcFile`] holds a function that produces its whole text; every read calls it and
//! serves the requested range. A [`ProcLink`] holds a function that produces its target.
//! Directories are their own types (`root.rs`, `base.rs`), because they list and look up
//! entries in their own ways.
//!
//! Inode numbers are computed, not allocated, so the same name always has the same number:
//! the root is 1, the fixed files of the root count up from 2, and everything under
//! `/proc/<pid>` is `PID_INO_BASE + (pid << 12) + entry`.

use alloc::boxed::Box;
use alloc::string::String;
use alloc::sync::Arc;
use alloc::vec::Vec;
use core::any::Any;

use crate::fs::inode::{mode, FileType, Inode, Kiocb, Stat};
use crate::fs::iov_iter::{short_copy, IovIter};
use crate::kernel::errno::Errno;
use crate::kernel::task::TaskStruct;

/// The device number every procfs inode reports (Linux's proc is an anonymous device).
pub const PROC_DEV: u64 = 4;
/// The root directory's inode number (Linux's `PROC_ROOT_INO`).
pub const PROC_ROOT_INO: u64 = 1;
/// Where per-process inode numbers start.
const PID_INO_BASE: u64 = 1 << 32;
/// Clock ticks per second in what user space sees (Linux's `USER_HZ`).
pub const USER_HZ: u64 = 100;

/// The inode number of entry `entry` (0 for the directory itself) under `/proc/<pid>`.
pub fn pid_ino(pid: i32, entry: u64) -> u64 {
    PID_INO_BASE + ((pid.max(0) as u64) << 12) + (entry & 0xfff)
}

/// Nanoseconds to `USER_HZ` clock ticks (Linux's `nsec_to_clock_t`).
pub fn nsec_to_clock_t(ns: u64) -> u64 {
    ns / (1_000_000_000 / USER_HZ)
}

/// The CPU time `task` has had, in nanoseconds (the scheduler's `sum_exec_runtime`).
pub fn task_runtime_ns(task: &TaskStruct) -> u64 {
    // SAFETY: `se` belongs to the run queue's lock, but this only reads one aligned u64,
    // which cannot tear on arm64; a value a tick stale is fine for accounting (Linux's
    // `task_sched_runtime` also reads it without the lock on 64-bit).
    unsafe { core::ptr::addr_of!((*task.se.get()).sum_exec_runtime).read_volatile() }
}

/// The `Stat` of a procfs directory.
pub fn dir_stat(ino: u64, nlink: u32) -> Stat {
    Stat {
        dev: PROC_DEV,
        ino,
        mode: mode::S_IFDIR | 0o555,
        nlink,
        size: 0,
        mtime: crate::kernel::time::realtime_seconds(),
        ..Stat::default()
    }
}

type Generate = Box<dyn Fn() -> Result<Vec<u8>, Errno> + Send + Sync>;
type Store = Box<dyn Fn(&[u8]) -> Result<usize, Errno> + Send + Sync>;
type Target = Box<dyn Fn() -> Result<String, Errno> + Send + Sync>;

/// A file whose contents are generated on every read (Linux's `proc_create_single` with a
/// `seq_file` show function).
pub struct ProcFile {
    ino: u64,
    perm: u32,
    /// Owner and group (a `/proc/<pid>` file belongs to the process's euid and egid).
    owner: (u32, u32),
    generate: Generate,
    /// What a write does (Linux's `proc_ops.proc_write`); `None`: writes fail with EIO.
    store: Option<Store>,
}

impl ProcFile {
    /// A file numbered `ino` with permission bits `perm`, reading as `generate()` returns.
    pub fn new_inode(
        ino: u64,
        perm: u32,
        generate: impl Fn() -> Result<Vec<u8>, Errno> + Send + Sync + 'static,
    ) -> Arc<dyn Inode> {
        Arc::new(Self {
            ino,
            perm,
            owner: (0, 0),
            generate: Box::new(generate),
            store: None,
        })
    }

    /// A read-only file owned by `owner` (uid, gid).
    pub fn new_owned_inode(
        ino: u64,
        perm: u32,
        owner: (u32, u32),
        generate: impl Fn() -> Result<Vec<u8>, Errno> + Send + Sync + 'static,
    ) -> Arc<dyn Inode> {
        Arc::new(Self {
            ino,
            perm,
            owner,
            generate: Box::new(generate),
            store: None,
        })
    }

    /// A file owned by `owner` (uid, gid) whose writes go to `store`, which returns how many bytes it took.
    pub fn new_writable_inode(
        ino: u64,
        perm: u32,
        owner: (u32, u32),
        generate: impl Fn() -> Result<Vec<u8>, Errno> + Send + Sync + 'static,
        store: impl Fn(&[u8]) -> Result<usize, Errno> + Send + Sync + 'static,
    ) -> Arc<dyn Inode> {
        Arc::new(Self {
            ino,
            perm,
            owner,
            generate: Box::new(generate),
            store: Some(Box::new(store)),
        })
    }
}

/// Copy `data[offset..]` into `to`, as much as fits (Linux's `seq_read_iter`: a short
/// copy returns what was copied, EFAULT if nothing was).
pub fn serve(data: &[u8], offset: u64, to: &mut IovIter<'_>) -> Result<usize, Errno> {
    let start = offset.min(data.len() as u64) as usize;
    let want = to.count().min(data.len() - start);
    short_copy(0, to.copy_to_iter(&data[start..start + want]), want)
}

/// The most a write to a /proc file hands its store function (Linux's handlers copy at
/// most a page).
const PROC_WRITE_MAX: usize = 4096;

impl Inode for ProcFile {
    fn stat(&self) -> Stat {
        Stat {
            dev: PROC_DEV,
            ino: self.ino,
            mode: mode::S_IFREG | self.perm,
            nlink: 1,
            uid: self.owner.0,
            gid: self.owner.1,
            size: 0, // as Linux reports for generated files
            mtime: crate::kernel::time::realtime_seconds(),
            ..Stat::default()
        }
    }

    fn file_type(&self) -> FileType {
        FileType::Regular
    }

    fn read_iter(&self, iocb: &Kiocb, to: &mut IovIter<'_>) -> Result<usize, Errno> {
        let data = (self.generate)()?;
        serve(&data, iocb.pos, to)
    }

    fn write_iter(&self, _iocb: &Kiocb, from: &mut IovIter<'_>) -> Result<usize, Errno> {
        let Some(store) = &self.store else {
            return Err(Errno::EIO); // Linux's proc_reg_write without a write method
        };
        // The handler's `copy_from_user` of (at most a page of) the buffer: all or EFAULT.
        let mut buf = [0u8; 256];
        let mut big = Vec::new();
        let want = from.count().min(PROC_WRITE_MAX);
        let kbuf = if want <= buf.len() {
            &mut buf[..want]
        } else {
            big.try_reserve_exact(want).map_err(|_| Errno::ENOMEM)?;
            big.resize(want, 0u8);
            &mut big[..]
        };
        if from.copy_from_iter(kbuf) < want {
            return Err(Errno::EFAULT);
        }
        store(kbuf)
    }

    fn truncate(&self, _len: u64) -> Result<(), Errno> {
        // Linux's `proc_setattr` accepts a size change and does nothing with it, so the
        // shell's `echo name >/proc/self/comm` (O_TRUNC) gets as far as the write.
        Ok(())
    }

    fn as_any(&self) -> &dyn Any {
        self
    }
}

/// A symbolic link whose target is computed when it is read (`/proc/self`,
/// `/proc/<pid>/exe`, `cwd`, `root`, `fd/<n>`).
pub struct ProcLink {
    ino: u64,
    perm: u32,
    target: Target,
    /// For a magic link: the file it stands for.
    jump: Option<Jump>,
}

/// Where a magic link jumps.
type Jump = Box<dyn Fn() -> Result<Arc<crate::fs::namei::Dentry>, Errno> + Send + Sync>;

impl ProcLink {
    /// A link numbered `ino` with permission bits `perm` pointing where `target()` says.
    pub fn new_inode(
        ino: u64,
        perm: u32,
        target: impl Fn() -> Result<String, Errno> + Send + Sync + 'static,
    ) -> Arc<dyn Inode> {
        Arc::new(Self {
            ino,
            perm,
            target: Box::new(target),
            jump: None,
        })
    }

    /// A magic link (Linux's `proc_fd_link`): it reads as `target()`, and the path walk
    /// goes to `jump()`.
    pub fn new_magic_inode(
        ino: u64,
        perm: u32,
        target: impl Fn() -> Result<String, Errno> + Send + Sync + 'static,
        jump: impl Fn() -> Result<Arc<crate::fs::namei::Dentry>, Errno> + Send + Sync + 'static,
    ) -> Arc<dyn Inode> {
        Arc::new(Self {
            ino,
            perm,
            target: Box::new(target),
            jump: Some(Box::new(jump)),
        })
    }
}

impl Inode for ProcLink {
    fn stat(&self) -> Stat {
        Stat {
            dev: PROC_DEV,
            ino: self.ino,
            mode: mode::S_IFLNK | self.perm,
            nlink: 1,
            size: 0,
            mtime: crate::kernel::time::realtime_seconds(),
            ..Stat::default()
        }
    }

    fn file_type(&self) -> FileType {
        FileType::Symlink
    }

    fn read_iter(&self, _iocb: &Kiocb, _to: &mut IovIter<'_>) -> Result<usize, Errno> {
        Err(Errno::EINVAL)
    }

    fn readlink(&self) -> Result<String, Errno> {
        (self.target)()
    }

    fn jump_link(&self) -> Option<Result<Arc<crate::fs::namei::Dentry>, Errno>> {
        self.jump.as_ref().map(|jump| jump())
    }

    fn as_any(&self) -> &dyn Any {
        self
    }
}
