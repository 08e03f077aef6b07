//! Inodes: the objects a filesystem holds (Linux: `include/linux/fs.h`, `struct inode` and
//! `inode_operations` / `file_operations`, folded into one trait).
//!
//! Every file, directory, symlink, device node and pipe is an [`Inode`]. A filesystem
//! implements the operations that make sense for its kind of inode; the defaults return the
//! errno Linux returns for an operation the object does not support.
//!
//! Two helpers from Linux's `fs/inode.c` live here too: [`init_owner`] gives a new inode its
//! owner, group and set-group-ID bit, and [`file_remove_privs`] drops the set-ID bits of a
//! regular file that is written or truncated.

use alloc::string::String;
use alloc::sync::Arc;
use alloc::vec::Vec;
use core::any::Any;

use super::namei::Dentry;
use super::permission as perm;
use super::permission::InodeAttr;
use crate::fs::iov_iter::IovIter;
use crate::kernel::cred::{with_current_cred, Cred};
use crate::kernel::errno::Errno;

/// What kind of object an inode is (the `S_IFMT` bits of its mode).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FileType {
    /// A regular file.
    Regular,
    /// A directory.
    Directory,
    /// A symbolic link.
    Symlink,
    /// A character device.
    CharDev,
    /// A block device.
    BlockDev,
    /// A pipe.
    Fifo,
    /// A socket.
    Socket,
}

/// `S_IFMT` and friends (Linux's `include/uapi/linux/stat.h`).
pub mod mode {
    /// Type mask.
    pub const S_IFMT: u32 = 0o170000;
    /// Socket.
    pub const S_IFSOCK: u32 = 0o140000;
    /// Symbolic link.
    pub const S_IFLNK: u32 = 0o120000;
    /// Regular file.
    pub const S_IFREG: u32 = 0o100000;
    /// Block device.
    pub const S_IFBLK: u32 = 0o060000;
    /// Directory.
    pub const S_IFDIR: u32 = 0o040000;
    /// Character device.
    pub const S_IFCHR: u32 = 0o020000;
    /// FIFO.
    pub const S_IFIFO: u32 = 0o010000;
}

impl FileType {
    /// The `S_IFMT` bits.
    pub fn mode_bits(self) -> u32 {
        match self {
            FileType::Regular => mode::S_IFREG,
            FileType::Directory => mode::S_IFDIR,
            FileType::Symlink => mode::S_IFLNK,
            FileType::CharDev => mode::S_IFCHR,
            FileType::BlockDev => mode::S_IFBLK,
            FileType::Fifo => mode::S_IFIFO,
            FileType::Socket => mode::S_IFSOCK,
        }
    }

    /// The type of a mode, if it names one.
    pub fn from_mode(m: u32) -> Option<Self> {
        Some(match m & mode::S_IFMT {
            mode::S_IFREG => FileType::Regular,
            mode::S_IFDIR => FileType::Directory,
            mode::S_IFLNK => FileType::Symlink,
            mode::S_IFCHR => FileType::CharDev,
            mode::S_IFBLK => FileType::BlockDev,
            mode::S_IFIFO => FileType::Fifo,
            mode::S_IFSOCK => FileType::Socket,
            _ => return None,
        })
    }

    /// The `d_type` of a `linux_dirent64` (DT_*).
    pub fn dirent_type(self) -> u8 {
        (self.mode_bits() >> 12) as u8
    }
}

/// What `stat` reports (Linux's `struct kstat`).
#[derive(Clone, Copy, Debug, Default)]
pub struct Stat {
    /// Device of the filesystem.
    pub dev: u64,
    /// Inode number.
    pub ino: u64,
    /// Type and permission bits.
    pub mode: u32,
    /// Hard links.
    pub nlink: u32,
    /// Owner.
    pub uid: u32,
    /// Group.
    pub gid: u32,
    /// Device number, for device nodes.
    pub rdev: u64,
    /// Size in bytes.
    pub size: u64,
    /// Modification time, seconds.
    pub mtime: i64,
}

/// A directory entry as `readdir` reports it.
#[derive(Clone, Debug)]
pub struct DirEntry {
    /// The name.
    pub name: String,
    /// Its inode number.
    pub ino: u64,
    /// Its type.
    pub file_type: FileType,
}

/// One read or write in progress: where, and how (Linux's `struct kiocb`, its `ki_pos`
/// and the file's flags).
#[derive(Clone, Copy, Debug, Default)]
pub struct Kiocb {
    /// The file position to read or write at (ignored by streams).
    pub pos: u64,
    /// The open file's `O_*` flags: O_NONBLOCK, O_APPEND.
    pub flags: u32,
}

impl Kiocb {
    /// A blocking read or write at `pos`.
    pub fn at(pos: u64) -> Self {
        Self { pos, flags: 0 }
    }

    /// True if the file does not block (O_NONBLOCK: Linux's `IOCB_NOWAIT` for pipes).
    pub fn nonblock(&self) -> bool {
        self.flags & super::file::flags::O_NONBLOCK != 0
    }
}

/// Read up to `buf.len()` bytes at `pos` into a kernel buffer (Linux's `kernel_read`, an
/// `ITER_KVEC` read: exec, mmap, tests).
pub fn kernel_read(inode: &dyn Inode, pos: u64, buf: &mut [u8]) -> Result<usize, Errno> {
    inode.read_iter(&Kiocb::at(pos), &mut IovIter::kvec_dest(buf))
}

/// Write `buf` at `pos` from a kernel buffer (Linux's `kernel_write`: the initramfs).
pub fn kernel_write(inode: &dyn Inode, pos: u64, buf: &[u8]) -> Result<usize, Errno> {
    inode.write_iter(&Kiocb::at(pos), &mut IovIter::kvec_source(buf))
}

/// A filesystem object.
pub trait Inode: Send + Sync + Any {
    /// Attributes.
    fn stat(&self) -> Stat;

    /// Mode, owner and group, for permission checks (Linux's `i_mode`, `i_uid`, `i_gid`):
    /// a filesystem that can answer without computing the size overrides it.
    fn attr(&self) -> InodeAttr {
        let st = self.stat();
        InodeAttr {
            mode: st.mode,
            uid: st.uid,
            gid: st.gid,
        }
    }

    /// The object's type.
    fn file_type(&self) -> FileType {
        FileType::from_mode(self.stat().mode).unwrap_or(FileType::Regular)
    }

    /// Read at `iocb.pos` (ignored by devices and pipes) into `to`, copying straight from
    /// where the data is as it is taken (Linux's `file_operations.read_iter`). Returns the
    /// bytes read; the caller moves its position by that much. May sleep, unless
    /// `iocb.flags` has O_NONBLOCK (then EAGAIN where it would wait with nothing done).
    ///
    /// Nothing may be consumed that was not delivered: when a copy into `to` comes up
    /// short (a user page that faults), the inode keeps what was not copied and returns
    /// the bytes delivered before it, or EFAULT if there were none
    /// ([`crate::fs::iov_iter::short_copy`]).
    fn read_iter(&self, _iocb: &Kiocb, _to: &mut IovIter<'_>) -> Result<usize, Errno> {
        Err(Errno::EISDIR)
    }

    /// Write `from` at `iocb.pos`, copying straight into place (Linux's
    /// `file_operations.write_iter`). May sleep, as `read_iter`. A copy from `from` that comes up short
    /// stores only what was copied, and returns it (EFAULT if nothing was).
    fn write_iter(&self, _iocb: &Kiocb, _from: &mut IovIter<'_>) -> Result<usize, Errno> {
        Err(Errno::EISDIR)
    }

    /// The extended attributes the file system keeps for this inode (tmpfs's
    /// `simple_xattrs`: `trusted.` and `security.` names); `None` where none are kept.
    fn xattrs(&self) -> Option<&crate::fs::xattr::SimpleXattrs> {
        None
    }

    /// The page cache holding the file's data, for `mmap` and `execve` (Linux's
    /// `inode->i_mapping`); `None` for objects that cannot be mapped (`ENODEV`).
    fn mapping(&self) -> Option<Arc<crate::mm::filemap::AddressSpace>> {
        None
    }

    /// Preallocate or punch out `[offset, offset + len)` (Linux's `f_op->fallocate`);
    /// `mode` has passed `vfs_fallocate`'s checks. EOPNOTSUPP where not supported.
    fn fallocate(&self, _mode: u32, _offset: u64, _len: u64) -> Result<(), Errno> {
        Err(Errno::ENOTSUP)
    }

    /// The file's seals (`F_SEAL_*`), for a tmpfs regular file (Linux's
    /// `memfd_file_seals_ptr`); `None` where sealing is not supported.
    fn seals(&self) -> Option<&core::sync::atomic::AtomicU32> {
        None
    }

    /// Set the size.
    fn truncate(&self, _len: u64) -> Result<(), Errno> {
        Err(Errno::EINVAL)
    }

    /// The child called `name` of this directory.
    fn lookup(&self, _name: &str) -> Result<Arc<dyn Inode>, Errno> {
        Err(Errno::ENOTDIR)
    }

    /// Why `create`, `symlink` or `unlink` failed on an inode that does not implement them:
    /// ENOTDIR on anything but a directory, EPERM on a directory whose entries the kernel
    /// makes itself (procfs).
    fn no_entry_changes(&self) -> Errno {
        if self.file_type() == FileType::Directory {
            Errno::EPERM
        } else {
            Errno::ENOTDIR
        }
    }

    /// Make a new entry `name` of the given type in this directory.
    fn create(&self, _name: &str, _mode: u32, _rdev: u64) -> Result<Arc<dyn Inode>, Errno> {
        Err(self.no_entry_changes())
    }

    /// Make a symbolic link `name` → `target`.
    fn symlink(&self, _name: &str, _target: &str) -> Result<(), Errno> {
        Err(self.no_entry_changes())
    }

    /// Add a hard link `name` to `inode`.
    fn link(&self, _name: &str, _inode: Arc<dyn Inode>) -> Result<(), Errno> {
        Err(Errno::ENOTDIR)
    }

    /// Remove the entry `name` (not a directory unless `dir`, which must then be empty).
    fn unlink(&self, _name: &str, _dir: bool) -> Result<(), Errno> {
        Err(self.no_entry_changes())
    }

    /// Take the entry `name` out of this directory, keeping its inode (for rename).
    fn detach(&self, _name: &str) -> Result<Arc<dyn Inode>, Errno> {
        Err(Errno::ENOTDIR)
    }

    /// Put `inode` in this directory as `name`, replacing what is there (for rename).
    fn attach(&self, _name: &str, _inode: Arc<dyn Inode>) -> Result<(), Errno> {
        Err(Errno::ENOTDIR)
    }

    /// The target of a symbolic link.
    fn readlink(&self) -> Result<String, Errno> {
        Err(Errno::EINVAL)
    }

    /// For a "magic" link (`/proc/<pid>/fd/<n>`), the file it stands for: the path walk
    /// jumps there instead of walking the text `readlink` gives (Linux's `nd_jump_link`),
    /// so a pipe or a deleted file can be opened through it. `None` for ordinary links.
    fn jump_link(&self) -> Option<Result<Arc<crate::fs::namei::Dentry>, Errno>> {
        None
    }

    /// The entries of a directory (without `.` and `..`).
    fn readdir(&self) -> Result<Vec<DirEntry>, Errno> {
        Err(Errno::ENOTDIR)
    }

    /// Change the permission bits.
    fn chmod(&self, _mode: u32) -> Result<(), Errno> {
        Ok(())
    }

    /// Set the modification time (seconds since the epoch; `utimensat`). Inodes that keep
    /// no time ignore it.
    fn set_mtime(&self, _seconds: i64) -> Result<(), Errno> {
        Ok(())
    }

    /// Change the owner and group (the caller has checked the rules; Linux's
    /// `setattr` with ATTR_UID/ATTR_GID). EPERM where the filesystem decides owners.
    fn chown(&self, _uid: u32, _gid: u32) -> Result<(), Errno> {
        Err(Errno::EPERM)
    }

    /// Device-specific control (Linux's `unlocked_ioctl`).
    fn ioctl(&self, _cmd: u32, _arg: u64) -> Result<i64, Errno> {
        Err(Errno::ENOTTY)
    }

    /// True if reading would not block (for poll): devices and pipes override it.
    fn poll_read_ready(&self) -> bool {
        true
    }

    /// True if writing would not block (for poll and O_NONBLOCK): pipes override it.
    fn poll_write_ready(&self) -> bool {
        true
    }

    /// What a file on this inode, opened with `file_flags`, is ready for: `POLLIN`,
    /// `POLLOUT`, `POLLHUP`… (Linux's `file_operations.poll`). The default is
    /// `poll_read_ready`/`poll_write_ready` as POLLIN and POLLOUT (with their `RDNORM`/`WRNORM`
    /// twins), which for an inode that overrides neither is Linux's `DEFAULT_POLLMASK`.
    fn poll(&self, _file_flags: u32) -> u32 {
        use crate::fs::select::pollbits::*;
        let mut mask = 0;
        if self.poll_read_ready() {
            mask |= POLLIN | POLLRDNORM;
        }
        if self.poll_write_ready() {
            mask |= POLLOUT | POLLWRNORM;
        }
        mask
    }

    /// Run `f` on the wake-up list of an object that can tell when it changes, and return
    /// true; false for one that cannot, which epoll refuses (EPERM, Linux's
    /// `file_can_poll`).
    fn with_poll_head(&self, _f: &mut dyn FnMut(&crate::fs::select::PollHead)) -> bool {
        false
    }

    /// Append what `/proc/<pid>/fdinfo/<n>` adds for this kind of object (Linux's
    /// `file_operations.show_fdinfo`): nothing for most.
    fn show_fdinfo(&self, _out: &mut String) {}

    /// Called when the last open file on this inode closes (pipes count their ends).
    fn release(&self, _flags: u32) {}

    /// Called when a file is opened on this inode.
    fn open(&self, _flags: u32) -> Result<(), Errno> {
        Ok(())
    }

    /// For downcasting.
    fn as_any(&self) -> &dyn Any;
}

/// Give a new inode its owner, group and set-group-ID bit (Linux's `inode_init_owner`).
pub fn init_owner(parent: &Arc<Dentry>, inode: &Arc<dyn Inode>, cred: &Cred) {
    let attr = inode.attr();
    let (uid, gid, mode) = perm::inode_init_owner(parent.inode.attr(), attr.mode, cred);
    if (uid, gid) != (attr.uid, attr.gid) {
        let _ = inode.chown(uid, gid);
    }
    if mode != attr.mode {
        let _ = inode.chmod(mode);
    }
}

/// Drop the set-ID bits of a regular file that is written or truncated (Linux's
/// `file_remove_privs`).
pub fn file_remove_privs(inode: &Arc<dyn Inode>) {
    if inode.file_type() != FileType::Regular {
        return;
    }
    let attr = inode.attr();
    if attr.mode & (perm::S_ISUID | perm::S_ISGID) == 0 {
        return;
    }
    if let Some(mode) = with_current_cred(|cred| perm::mode_after_write(attr, cred)) {
        let _ = inode.chmod(mode);
    }
}
