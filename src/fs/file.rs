//! Open files, the per-process table of them, and a process's root and working directory
//! (Linux: `fs/file_table.c`, `fs/file.c` (`files_struct`), `fs/fs_struct.c`).
//!
//! A [`File`] is one `open`: an inode plus an offset and the open flags; `dup` and `fork`
//! share it (so they share the offset). [`FilesStruct`] maps descriptors to files, with the
//! close-on-exec flag per descriptor; `CLONE_FILES` shares one table between tasks.
//! [`FsStruct`] holds the root and cwd; `CLONE_FS` shares it. [`fdget`] finds the file
//! behind a descriptor (EBADF if none), and `dup(2)` / `dup3(2)` are here, as in Linux's
//! `fs/file.c`.

use alloc::sync::Arc;
use alloc::vec::Vec;
use core::sync::atomic::{AtomicU32, AtomicUsize, Ordering};

use super::inode::{Inode, Kiocb};
use super::namei::Dentry;
use crate::fs::iov_iter::IovIter;
use crate::kernel::errno::Errno;
use crate::kernel::locking::SpinLock;
use crate::kernel::task::current;

/// `open` flags, with the arm64 values (`arch/arm64/include/uapi/asm/fcntl.h` and
/// `asm-generic/fcntl.h`).
pub mod flags {
    /// Open for reading only.
    pub const O_RDONLY: u32 = 0;
    /// Open for writing only.
    pub const O_WRONLY: u32 = 1;
    /// Open for reading and writing.
    pub const O_RDWR: u32 = 2;
    /// Access mode mask.
    pub const O_ACCMODE: u32 = 3;
    /// Create if missing.
    pub const O_CREAT: u32 = 0o100;
    /// With O_CREAT: fail if it exists.
    pub const O_EXCL: u32 = 0o200;
    /// Do not make it the controlling terminal.
    pub const O_NOCTTY: u32 = 0o400;
    /// Truncate to 0.
    pub const O_TRUNC: u32 = 0o1000;
    /// Writes go to the end.
    pub const O_APPEND: u32 = 0o2000;
    /// Do not block.
    pub const O_NONBLOCK: u32 = 0o4000;
    /// Must be a directory (arm64 value).
    pub const O_DIRECTORY: u32 = 0o40000;
    /// Do not follow a final symlink (arm64 value).
    pub const O_NOFOLLOW: u32 = 0o100000;
    /// Large files (always, on 64-bit).
    pub const O_LARGEFILE: u32 = 0o400000;
    /// Close on exec.
    pub const O_CLOEXEC: u32 = 0o2000000;
    /// A path only, no I/O.
    pub const O_PATH: u32 = 0o10000000;
}

/// An open file (Linux's `struct file`).
pub struct File {
    /// The name it was opened by.
    pub dentry: Arc<Dentry>,
    /// Its inode.
    pub inode: Arc<dyn Inode>,
    /// The file offset. Lock: its own.
    pub pos: SpinLock<u64>,
    /// The `O_*` status flags (O_APPEND, O_NONBLOCK can change with fcntl).
    pub flags: AtomicU32,
    /// The page cache this file counts as a writer of (Linux's `FMODE_WRITER`): a
    /// regular file opened for writing, given back when the file goes.
    writer_of: Option<Arc<crate::mm::filemap::AddressSpace>>,
    /// The epoll items watching this file, removed when it goes (Linux's `f_ep`).
    pub(super) f_ep: super::eventpoll::FileEpItems,
    /// A stream: reads and writes do not move the position (Linux's `FMODE_STREAM`: pipes,
    /// FIFOs and the anonymous-inode files).
    stream: bool,
}

impl File {
    /// Open `dentry` with `flags` (Linux's `do_dentry_open`).
    pub fn open(dentry: Arc<Dentry>, flags: u32) -> Result<Arc<File>, Errno> {
        let inode = dentry.inode.clone();
        let writes = flags & self::flags::O_ACCMODE != self::flags::O_RDONLY
            && flags & self::flags::O_PATH == 0;
        let writer_of = match inode.mapping() {
            Some(mapping) if writes => {
                mapping.get_write_access()?;
                Some(mapping)
            }
            _ => None,
        };
        if let Err(e) = inode.open(flags) {
            if let Some(mapping) = &writer_of {
                mapping.put_write_access();
            }
            return Err(e);
        }
        let stream = inode.file_type() == super::inode::FileType::Fifo;
        Ok(Arc::new(File {
            stream,
            dentry,
            inode,
            pos: SpinLock::new(0),
            flags: AtomicU32::new(flags),
            writer_of,
            f_ep: Default::default(),
        }))
    }

    /// A file on an inode that has no name (pipes).
    pub fn anonymous(inode: Arc<dyn Inode>, flags: u32) -> Arc<File> {
        Self::anonymous_named(inode, flags, "pipe:")
    }

    /// A file on an inode that has no name, called `name` in `/proc/<pid>/fd`
    /// (`anon_inode:[eventpoll]`, see `anon_inodes`).
    pub fn anonymous_named(inode: Arc<dyn Inode>, flags: u32, name: &str) -> Arc<File> {
        let dentry = Arc::new(Dentry {
            name: super::namei::DentryName::new(name),
            parent: None,
            inode: inode.clone(),
        });
        Arc::new(File {
            dentry,
            inode,
            pos: SpinLock::new(0),
            flags: AtomicU32::new(flags),
            writer_of: None,
            f_ep: Default::default(),
            stream: true,
        })
    }

    /// The current flags.
    pub fn flags(&self) -> u32 {
        self.flags.load(Ordering::Relaxed)
    }

    /// True if opened for reading.
    pub fn readable(&self) -> bool {
        self.flags() & flags::O_ACCMODE != flags::O_WRONLY && self.flags() & flags::O_PATH == 0
    }

    /// True if opened for writing.
    pub fn writable(&self) -> bool {
        self.flags() & flags::O_ACCMODE != flags::O_RDONLY && self.flags() & flags::O_PATH == 0
    }

    /// A read or write at `pos` with this file's flags.
    pub fn kiocb(&self, pos: u64) -> Kiocb {
        Kiocb {
            pos,
            flags: self.flags(),
        }
    }

    /// Read into `to` at the file offset and advance the offset by what was delivered
    /// (Linux's `vfs_read` → `read_iter`). The offset lock is not held across the read,
    /// which may sleep (a pipe, the console).
    pub fn read(&self, to: &mut IovIter<'_>) -> Result<usize, Errno> {
        if !self.readable() {
            return Err(Errno::EBADF);
        }
        if self.flags() & flags::O_NONBLOCK != 0 && to.count() > 0 && !self.inode.poll_read_ready()
        {
            return Err(Errno::EAGAIN);
        }
        // A stream has no position (Linux passes no `ppos` for FMODE_STREAM).
        let pos = if self.stream { 0 } else { *self.pos.lock() };
        let n = self.inode.read_iter(&self.kiocb(pos), to)?;
        if !self.stream {
            *self.pos.lock() = pos + n as u64;
        }
        if n > 0 {
            super::notify::fsnotify_access(&self.dentry);
        }
        Ok(n)
    }

    /// Write `from` at the file offset (or the end, with O_APPEND) and advance the offset
    /// by what was written (Linux's `vfs_write` → `write_iter`).
    pub fn write(&self, from: &mut IovIter<'_>) -> Result<usize, Errno> {
        if !self.writable() {
            return Err(Errno::EBADF);
        }
        if self.flags() & flags::O_NONBLOCK != 0
            && from.count() > 0
            && !self.inode.poll_write_ready()
        {
            return Err(Errno::EAGAIN);
        }
        let pos = if self.flags() & flags::O_APPEND != 0 {
            self.inode.stat().size
        } else if self.stream {
            0
        } else {
            *self.pos.lock()
        };
        let n = self.inode.write_iter(&self.kiocb(pos), from)?;
        if !self.stream {
            *self.pos.lock() = pos + n as u64;
        }
        if n > 0 {
            super::notify::fsnotify_modify(&self.dentry);
        }
        Ok(n)
    }
}

impl Drop for File {
    fn drop(&mut self) {
        super::eventpoll::eventpoll_release(self);
        super::locks::locks_remove_file(self);
        if self.flags() & flags::O_PATH == 0 {
            super::notify::fsnotify_close(self);
        }
        if let Some(mapping) = &self.writer_of {
            mapping.put_write_access();
        }
        self.inode.release(self.flags());
    }
}

/// One descriptor.
#[derive(Clone)]
pub struct FdEntry {
    /// The open file.
    pub file: Arc<File>,
    /// Close it on `execve`.
    pub cloexec: bool,
}

/// The most descriptors a process may have (Linux's default `RLIMIT_NOFILE`).
pub const NR_OPEN_DEFAULT: usize = 1024;

/// A descriptor table (Linux's `struct files_struct`).
///
/// It owns its process's POSIX record locks (Linux's `fl_owner = current->files`): every
/// descriptor it closes — `close`, a `dup3` over it, close-on-exec, and all of them when the
/// table goes at exit — drops the table's locks on that file (Linux's `filp_close` →
/// `locks_remove_posix`). A copy (fork) is a new owner.
pub struct FilesStruct {
    fds: Vec<Option<FdEntry>>,
    /// This table's identity as a lock owner, never reused.
    owner: usize,
}

/// The next [`FilesStruct::lock_owner`].
static NEXT_LOCK_OWNER: AtomicUsize = AtomicUsize::new(1);

impl Default for FilesStruct {
    fn default() -> Self {
        Self::new()
    }
}

impl Clone for FilesStruct {
    fn clone(&self) -> Self {
        Self {
            fds: self.fds.clone(),
            owner: NEXT_LOCK_OWNER.fetch_add(1, Ordering::Relaxed),
        }
    }
}

impl Drop for FilesStruct {
    fn drop(&mut self) {
        for entry in self.fds.iter().flatten() {
            super::locks::locks_remove_posix(&entry.file, self.owner);
        }
    }
}

impl FilesStruct {
    /// An empty table.
    pub fn new() -> Self {
        Self {
            fds: Vec::new(),
            owner: NEXT_LOCK_OWNER.fetch_add(1, Ordering::Relaxed),
        }
    }

    /// The owner of the POSIX locks this table's process takes.
    pub fn lock_owner(&self) -> usize {
        self.owner
    }

    /// Install `file` at the lowest free descriptor >= `min` (Linux's `alloc_fd`).
    pub fn alloc_fd(&mut self, min: usize, file: Arc<File>, cloexec: bool) -> Result<usize, Errno> {
        let fd = (min..NR_OPEN_DEFAULT)
            .find(|&fd| self.fds.get(fd).is_none_or(|e| e.is_none()))
            .ok_or(Errno::EMFILE)?;
        if fd >= self.fds.len() {
            self.fds.resize(fd + 1, None);
        }
        self.fds[fd] = Some(FdEntry { file, cloexec });
        Ok(fd)
    }

    /// Put `file` at exactly `fd`, closing what was there (for dup3). Returns the old file.
    pub fn install(
        &mut self,
        fd: usize,
        file: Arc<File>,
        cloexec: bool,
    ) -> Result<Option<Arc<File>>, Errno> {
        if fd >= NR_OPEN_DEFAULT {
            return Err(Errno::EBADF);
        }
        if fd >= self.fds.len() {
            self.fds.resize(fd + 1, None);
        }
        let old = self.fds[fd]
            .replace(FdEntry { file, cloexec })
            .map(|e| e.file);
        if let Some(old) = &old {
            super::locks::locks_remove_posix(old, self.owner);
        }
        Ok(old)
    }

    /// The file at `fd`.
    pub fn get(&self, fd: usize) -> Result<Arc<File>, Errno> {
        self.fds
            .get(fd)
            .and_then(|e| e.as_ref())
            .map(|e| e.file.clone())
            .ok_or(Errno::EBADF)
    }

    /// The entry at `fd`, mutable (for F_SETFD).
    pub fn entry_mut(&mut self, fd: usize) -> Result<&mut FdEntry, Errno> {
        self.fds
            .get_mut(fd)
            .and_then(|e| e.as_mut())
            .ok_or(Errno::EBADF)
    }

    /// Close `fd`, returning its file (dropped by the caller, outside the table's lock).
    pub fn close(&mut self, fd: usize) -> Result<Arc<File>, Errno> {
        let file = self
            .fds
            .get_mut(fd)
            .and_then(|e| e.take())
            .map(|e| e.file)
            .ok_or(Errno::EBADF)?;
        super::locks::locks_remove_posix(&file, self.owner);
        Ok(file)
    }

    /// Close every close-on-exec descriptor (Linux's `do_close_on_exec`); returns them.
    pub fn close_on_exec(&mut self) -> Vec<Arc<File>> {
        let mut closed = Vec::new();
        for slot in self.fds.iter_mut() {
            if slot.as_ref().is_some_and(|e| e.cloexec) {
                if let Some(e) = slot.take() {
                    super::locks::locks_remove_posix(&e.file, self.owner);
                    closed.push(e.file);
                }
            }
        }
        closed
    }

    /// The open descriptors, for /proc/<pid>/fd.
    pub fn open_fds(&self) -> impl Iterator<Item = (usize, &FdEntry)> {
        self.fds
            .iter()
            .enumerate()
            .filter_map(|(fd, e)| e.as_ref().map(|e| (fd, e)))
    }
}

/// A process's root, working directory and umask (Linux's `struct fs_struct`).
#[derive(Clone)]
pub struct FsStruct {
    /// `/` for this process.
    pub root: Arc<Dentry>,
    /// The working directory.
    pub cwd: Arc<Dentry>,
    /// Permission bits cleared from new files.
    pub umask: u32,
}

type SysResult = Result<u64, Errno>;

/// The file behind a descriptor (Linux's `fdget`).
pub fn fdget(fd: i32) -> Result<Arc<File>, Errno> {
    if fd < 0 {
        return Err(Errno::EBADF);
    }
    // The table is looked up under the task's `files` lock rather than through a counted
    // reference to it: two atomic operations fewer on every read and write (Linux's
    // `fdget` takes no reference to `files` either). Lock order: the task's `files`, then
    // the table's.
    let task_files = current().files.lock();
    let files = task_files.as_ref().ok_or(Errno::EBADF)?;
    let file = files.lock().get(fd as usize);
    file
}

/// `dup(2)`.
pub fn sys_dup(fd: i32) -> SysResult {
    let file = fdget(fd)?;
    let files = current().files()?;
    let newfd = files.lock().alloc_fd(0, file, false)?;
    Ok(newfd as u64)
}

/// `dup3(2)`.
pub fn sys_dup3(oldfd: i32, newfd: i32, dflags: u32) -> SysResult {
    if oldfd == newfd || newfd < 0 || dflags & !flags::O_CLOEXEC != 0 {
        return Err(Errno::EINVAL);
    }
    let file = fdget(oldfd)?;
    let files = current().files()?;
    let old = files
        .lock()
        .install(newfd as usize, file, dflags & flags::O_CLOEXEC != 0)?;
    drop(old);
    Ok(newfd as u64)
}
