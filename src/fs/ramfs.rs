//! ramfs: files that live in the page allocator's memory, nowhere else (Linux: `fs/ramfs/`).
//!
//! Cradle's root filesystem: the initramfs is unpacked into it, and `tmpfs` mounts are more
//! of it. A directory holds its children by name; a file its page cache
//! ([`AddressSpace`]), which is all the file is: `read`, `write`, `mmap` and `execve` all
//! use those pages (Linux's ramfs and shmem work the same way); a device node its
//! device number, with reads and writes going to the driver registered for it
//! (`fs::char_dev`); a FIFO its pipe (`fs::pipe`), which opens, reads and writes go to.

use alloc::collections::BTreeMap;
use alloc::string::{String, ToString};
use alloc::sync::Arc;
use alloc::vec::Vec;
use core::any::Any;
use core::sync::atomic::{AtomicU32, AtomicU64, Ordering};

use super::char_dev;
use super::file::flags;
use super::inode::{mode, DirEntry, FileType, Inode, Kiocb, Stat};
use super::permission::InodeAttr;
use super::pipe::PipeInode;
use crate::fs::iov_iter::IovIter;
use crate::kernel::errno::Errno;
use crate::kernel::locking::mutex::Mutex;
use crate::kernel::locking::SpinLock;
use crate::mm::filemap::AddressSpace;

static NEXT_INO: AtomicU64 = AtomicU64::new(1);

/// The largest ramfs file (Linux has no such limit; this keeps one runaway write from
/// taking all memory in a single allocation).
pub const MAX_FILE_SIZE: u64 = 256 << 20;

/// What a directory's size counts per entry, as tmpfs does (Linux's `BOGO_DIRENT_SIZE`).
const BOGO_DIRENT_SIZE: u64 = 20;

enum Content {
    File(Arc<AddressSpace>),
    Dir(BTreeMap<String, Arc<dyn Inode>>),
    Symlink(String),
    Fifo(Arc<PipeInode>),
    Special,
}

struct Meta {
    mode: u32,
    nlink: u32,
    uid: u32,
    gid: u32,
    rdev: u64,
    mtime: i64,
}

/// A ramfs inode. Lock order: a directory's `content` before its children's.
pub struct RamInode {
    ino: u64,
    dev: u64,
    /// What it is, from its mode at creation: the type bits of a mode never change (chmod
    /// keeps them), so the path walk asks without taking `meta`'s lock.
    ftype: FileType,
    meta: SpinLock<Meta>,
    content: Mutex<Content>,
    /// Extended attributes, as tmpfs keeps them.
    xattrs: crate::fs::xattr::SimpleXattrs,
    /// A regular file's seals (`F_SEAL_*`, `mm::memfd`); `F_SEAL_SEAL` unless a memfd was
    /// created to be sealed.
    seals: AtomicU32,
}

fn now() -> i64 {
    crate::kernel::time::realtime_seconds()
}

impl RamInode {
    fn new(dev: u64, mode: u32, rdev: u64, content: Content) -> Arc<Self> {
        Arc::new(Self {
            ino: NEXT_INO.fetch_add(1, Ordering::Relaxed),
            dev,
            ftype: FileType::from_mode(mode).unwrap_or(FileType::Regular),
            meta: SpinLock::new(Meta {
                mode,
                nlink: 1,
                uid: 0,
                gid: 0,
                rdev,
                mtime: now(),
            }),
            content: Mutex::new(content),
            xattrs: crate::fs::xattr::SimpleXattrs::new(),
            seals: AtomicU32::new(crate::mm::memfd::F_SEAL_SEAL),
        })
    }

    /// A regular file in no directory, owned by the caller's fsuid/fsgid (a memfd: Linux's
    /// `shmem_file_setup` on the internal mount).
    pub fn new_unlinked_file(mode_bits: u32) -> Arc<dyn Inode> {
        let inode = Self::new(0, mode_bits, 0, Content::File(AddressSpace::new()));
        let (uid, gid) = crate::kernel::cred::with_current_cred(|cred| (cred.fsuid, cred.fsgid));
        {
            let mut meta = inode.meta.lock();
            meta.nlink = 0;
            meta.uid = uid;
            meta.gid = gid;
        }
        inode
    }

    /// A new, empty ramfs: its root directory. `dev` tells mounts apart in `stat`.
    pub fn new_root(dev: u64) -> Arc<dyn Inode> {
        let root = Self::new(dev, mode::S_IFDIR | 0o755, 0, Content::Dir(BTreeMap::new()));
        root.meta.lock().nlink = 2;
        root
    }

    fn ftype(&self) -> FileType {
        self.ftype
    }

    /// The page cache of a regular file, taken out of the content lock.
    fn pages(&self) -> Option<Arc<AddressSpace>> {
        if self.ftype != FileType::Regular {
            return None;
        }
        match &*self.content.lock() {
            Content::File(pages) => Some(pages.clone()),
            _ => None,
        }
    }

    /// The pipe of a FIFO, taken out of the content lock (pipe I/O sleeps). Asks the type
    /// first, so a regular file's read or write takes the lock once, not twice.
    fn fifo(&self) -> Option<Arc<PipeInode>> {
        if self.ftype != FileType::Fifo {
            return None;
        }
        match &*self.content.lock() {
            Content::Fifo(pipe) => Some(pipe.clone()),
            _ => None,
        }
    }
}

fn valid_name(name: &str) -> Result<(), Errno> {
    if name.is_empty() || name == "." || name == ".." || name.contains('/') {
        return Err(Errno::EINVAL);
    }
    if name.len() > 255 {
        return Err(Errno::ENAMETOOLONG);
    }
    Ok(())
}

impl Inode for RamInode {
    fn xattrs(&self) -> Option<&crate::fs::xattr::SimpleXattrs> {
        Some(&self.xattrs)
    }

    fn stat(&self) -> Stat {
        // The content mutex may sleep, so it is taken (and let go) before the meta spinlock:
        // sleeping with a spinlock held is a bug, found when two processes stat'ed the same
        // file at once.
        let size = match &*self.content.lock() {
            Content::File(pages) => pages.size(),
            Content::Symlink(target) => target.len() as u64,
            // tmpfs's convention (Linux's `BOGO_DIRENT_SIZE`): 20 bytes per entry, `.`
            // and `..` included; `ls -l` and `stat` show it.
            Content::Dir(children) => BOGO_DIRENT_SIZE * (children.len() as u64 + 2),
            Content::Fifo(_) | Content::Special => 0,
        };
        let meta = self.meta.lock();
        Stat {
            dev: self.dev,
            ino: self.ino,
            mode: meta.mode,
            nlink: meta.nlink,
            uid: meta.uid,
            gid: meta.gid,
            rdev: meta.rdev,
            size,
            mtime: meta.mtime,
        }
    }

    fn attr(&self) -> InodeAttr {
        let meta = self.meta.lock();
        InodeAttr {
            mode: meta.mode,
            uid: meta.uid,
            gid: meta.gid,
        }
    }

    fn file_type(&self) -> FileType {
        self.ftype()
    }

    fn read_iter(&self, iocb: &Kiocb, to: &mut IovIter<'_>) -> Result<usize, Errno> {
        if self.ftype() == FileType::CharDev {
            let rdev = self.meta.lock().rdev; // not held across the read: it may sleep
            return char_dev::read(rdev, to);
        }
        if let Some(pipe) = self.fifo() {
            return pipe.read_iter(iocb, to);
        }
        if let Some(pages) = self.pages() {
            // No lock is held across the copy, which may fault: the cache takes a
            // reference on one page at a time.
            return pages.read_iter(iocb.pos, to);
        }
        match &*self.content.lock() {
            Content::Dir(_) => Err(Errno::EISDIR),
            _ => Err(Errno::EINVAL),
        }
    }

    fn write_iter(&self, iocb: &Kiocb, from: &mut IovIter<'_>) -> Result<usize, Errno> {
        if self.ftype() == FileType::CharDev {
            let rdev = self.meta.lock().rdev;
            return char_dev::write(rdev, from);
        }
        if let Some(pipe) = self.fifo() {
            return pipe.write_iter(iocb, from);
        }
        let pages = self.pages().ok_or(Errno::EISDIR)?;
        let end = iocb
            .pos
            .checked_add(from.count() as u64)
            .ok_or(Errno::EFBIG)?;
        if end > MAX_FILE_SIZE {
            return Err(Errno::EFBIG);
        }
        let allowed = crate::mm::memfd::check_write_seals(
            self.seals.load(Ordering::Acquire),
            iocb.pos,
            from.count() as u64,
            pages.size(),
        )?;
        from.truncate(allowed as usize);
        let written = pages.write_iter(iocb.pos, from)?;
        self.meta.lock().mtime = now();
        Ok(written)
    }

    fn truncate(&self, len: u64) -> Result<(), Errno> {
        if len > MAX_FILE_SIZE {
            return Err(Errno::EFBIG);
        }
        if let Some(pages) = self.pages() {
            let seals = self.seals.load(Ordering::Acquire);
            crate::mm::memfd::check_truncate_seals(seals, len, pages.size())?;
            pages.truncate(len);
            return Ok(());
        }
        match &*self.content.lock() {
            Content::Dir(_) => Err(Errno::EISDIR),
            _ => Err(Errno::EINVAL),
        }
    }

    fn lookup(&self, name: &str) -> Result<Arc<dyn Inode>, Errno> {
        match &*self.content.lock() {
            Content::Dir(children) => children.get(name).cloned().ok_or(Errno::ENOENT),
            _ => Err(Errno::ENOTDIR),
        }
    }

    fn create(&self, name: &str, mode_bits: u32, rdev: u64) -> Result<Arc<dyn Inode>, Errno> {
        valid_name(name)?;
        let mut content = self.content.lock();
        let Content::Dir(children) = &mut *content else {
            return Err(Errno::ENOTDIR);
        };
        if children.contains_key(name) {
            return Err(Errno::EEXIST);
        }
        let body = match FileType::from_mode(mode_bits) {
            Some(FileType::Regular) => Content::File(AddressSpace::new()),
            Some(FileType::Directory) => Content::Dir(BTreeMap::new()),
            Some(FileType::Fifo) => Content::Fifo(PipeInode::new_fifo()),
            Some(FileType::CharDev | FileType::BlockDev | FileType::Socket) => Content::Special,
            _ => return Err(Errno::EINVAL),
        };
        let inode = RamInode::new(self.dev, mode_bits, rdev, body);
        if FileType::from_mode(mode_bits) == Some(FileType::Directory) {
            inode.meta.lock().nlink = 2;
            self.meta.lock().nlink += 1;
        }
        children.insert(name.to_string(), inode.clone());
        Ok(inode)
    }

    fn symlink(&self, name: &str, target: &str) -> Result<(), Errno> {
        valid_name(name)?;
        let mut content = self.content.lock();
        let Content::Dir(children) = &mut *content else {
            return Err(Errno::ENOTDIR);
        };
        if children.contains_key(name) {
            return Err(Errno::EEXIST);
        }
        let link = RamInode::new(
            self.dev,
            mode::S_IFLNK | 0o777,
            0,
            Content::Symlink(target.to_string()),
        );
        children.insert(name.to_string(), link);
        Ok(())
    }

    fn link(&self, name: &str, inode: Arc<dyn Inode>) -> Result<(), Errno> {
        valid_name(name)?;
        let mut content = self.content.lock();
        let Content::Dir(children) = &mut *content else {
            return Err(Errno::ENOTDIR);
        };
        if children.contains_key(name) {
            return Err(Errno::EEXIST);
        }
        if let Some(ram) = inode.as_any().downcast_ref::<RamInode>() {
            ram.meta.lock().nlink += 1;
        }
        children.insert(name.to_string(), inode);
        Ok(())
    }

    fn unlink(&self, name: &str, dir: bool) -> Result<(), Errno> {
        let mut content = self.content.lock();
        let Content::Dir(children) = &mut *content else {
            return Err(Errno::ENOTDIR);
        };
        let child = children.get(name).ok_or(Errno::ENOENT)?;
        let is_dir = child.file_type() == FileType::Directory;
        match (dir, is_dir) {
            (false, true) => return Err(Errno::EISDIR),
            (true, false) => return Err(Errno::ENOTDIR),
            (true, true) if !child.readdir()?.is_empty() => return Err(Errno::ENOTEMPTY),
            _ => {}
        }
        if let Some(ram) = child.as_any().downcast_ref::<RamInode>() {
            let mut meta = ram.meta.lock();
            meta.nlink = meta.nlink.saturating_sub(if is_dir { 2 } else { 1 });
        }
        children.remove(name);
        if is_dir {
            let mut meta = self.meta.lock();
            meta.nlink = meta.nlink.saturating_sub(1);
        }
        Ok(())
    }

    fn detach(&self, name: &str) -> Result<Arc<dyn Inode>, Errno> {
        let mut content = self.content.lock();
        let Content::Dir(children) = &mut *content else {
            return Err(Errno::ENOTDIR);
        };
        children.remove(name).ok_or(Errno::ENOENT)
    }

    fn attach(&self, name: &str, inode: Arc<dyn Inode>) -> Result<(), Errno> {
        valid_name(name)?;
        let mut content = self.content.lock();
        let Content::Dir(children) = &mut *content else {
            return Err(Errno::ENOTDIR);
        };
        children.insert(name.to_string(), inode);
        Ok(())
    }

    fn readlink(&self) -> Result<String, Errno> {
        match &*self.content.lock() {
            Content::Symlink(target) => Ok(target.clone()),
            _ => Err(Errno::EINVAL),
        }
    }

    fn readdir(&self) -> Result<Vec<DirEntry>, Errno> {
        match &*self.content.lock() {
            Content::Dir(children) => Ok(children
                .iter()
                .map(|(name, inode)| {
                    let st = inode.stat();
                    DirEntry {
                        name: name.clone(),
                        ino: st.ino,
                        file_type: FileType::from_mode(st.mode).unwrap_or(FileType::Regular),
                    }
                })
                .collect()),
            _ => Err(Errno::ENOTDIR),
        }
    }

    fn chmod(&self, mode_bits: u32) -> Result<(), Errno> {
        let mut meta = self.meta.lock();
        meta.mode = (meta.mode & mode::S_IFMT) | (mode_bits & 0o7777);
        Ok(())
    }

    fn set_mtime(&self, seconds: i64) -> Result<(), Errno> {
        self.meta.lock().mtime = seconds;
        Ok(())
    }

    fn chown(&self, uid: u32, gid: u32) -> Result<(), Errno> {
        let mut meta = self.meta.lock();
        meta.uid = uid;
        meta.gid = gid;
        Ok(())
    }

    fn ioctl(&self, cmd: u32, arg: u64) -> Result<i64, Errno> {
        if self.ftype() == FileType::CharDev {
            let rdev = self.meta.lock().rdev;
            return char_dev::ioctl(rdev, cmd, arg);
        }
        Err(Errno::ENOTTY)
    }

    fn poll_read_ready(&self) -> bool {
        if self.ftype() == FileType::CharDev {
            let rdev = self.meta.lock().rdev;
            return char_dev::poll_read_ready(rdev);
        }
        if let Some(pipe) = self.fifo() {
            return pipe.poll_read_ready();
        }
        true
    }

    fn poll_write_ready(&self) -> bool {
        self.fifo().is_none_or(|pipe| pipe.poll_write_ready())
    }

    fn poll(&self, file_flags: u32) -> u32 {
        if let Some(pipe) = self.fifo() {
            return pipe.poll(file_flags);
        }
        let mut mask = crate::fs::select::pollbits::DEFAULT_POLLMASK;
        if self.ftype() == FileType::CharDev && !self.poll_read_ready() {
            mask &=
                !(crate::fs::select::pollbits::POLLIN | crate::fs::select::pollbits::POLLRDNORM);
        }
        mask
    }

    fn with_poll_head(&self, f: &mut dyn FnMut(&crate::fs::select::PollHead)) -> bool {
        if let Some(pipe) = self.fifo() {
            return pipe.with_poll_head(f);
        }
        if self.ftype() == FileType::CharDev {
            let rdev = self.meta.lock().rdev;
            if let Some(head) = char_dev::poll_head(rdev) {
                f(head);
                return true;
            }
        }
        false
    }

    fn open(&self, file_flags: u32) -> Result<(), Errno> {
        if self.ftype() == FileType::CharDev {
            let rdev = self.meta.lock().rdev;
            return char_dev::open(rdev, file_flags);
        }
        if file_flags & flags::O_PATH == 0 {
            if let Some(pipe) = self.fifo() {
                return pipe.fifo_open(file_flags);
            }
        }
        Ok(())
    }

    fn release(&self, file_flags: u32) {
        if file_flags & flags::O_PATH == 0 {
            if let Some(pipe) = self.fifo() {
                pipe.release(file_flags);
            }
        }
    }

    /// Linux's `shmem_fallocate`: mode 0 and `FALLOC_FL_KEEP_SIZE` make the pages exist
    /// (up to the end of the file: ramfs keeps no pages past it) and, without
    /// `KEEP_SIZE`, grow the file; `PUNCH_HOLE | KEEP_SIZE` zeroes the range's bytes inside
    /// the file (the pages stay: ramfs frees a file's pages only by truncation). EPERM
    /// where seals forbid it; EOPNOTSUPP for other modes.
    fn fallocate(&self, mode: u32, offset: u64, len: u64) -> Result<(), Errno> {
        use crate::mm::memfd::{F_SEAL_FUTURE_WRITE, F_SEAL_GROW, F_SEAL_WRITE};
        const FALLOC_FL_KEEP_SIZE: u32 = 0x1;
        const FALLOC_FL_PUNCH_HOLE: u32 = 0x2;
        if mode & !(FALLOC_FL_KEEP_SIZE | FALLOC_FL_PUNCH_HOLE) != 0 {
            return Err(Errno::ENOTSUP);
        }
        let pages = self.pages().ok_or(Errno::ENODEV)?;
        let seals = self.seals.load(Ordering::Acquire);
        let end = offset.checked_add(len).ok_or(Errno::EFBIG)?;
        let size = pages.size();
        if mode & FALLOC_FL_PUNCH_HOLE != 0 {
            if seals & (F_SEAL_WRITE | F_SEAL_FUTURE_WRITE) != 0 {
                return Err(Errno::EPERM);
            }
            let zeros = [0u8; 512];
            let mut pos = offset;
            while pos < end.min(size) {
                let n = (end.min(size) - pos).min(zeros.len() as u64) as usize;
                let mut from = IovIter::kvec_source(&zeros[..n]);
                pos += pages.write_iter(pos, &mut from)? as u64;
            }
            self.meta.lock().mtime = now();
            return Ok(());
        }
        if end > MAX_FILE_SIZE {
            return Err(Errno::EFBIG);
        }
        if seals & F_SEAL_GROW != 0 && end > size {
            return Err(Errno::EPERM);
        }
        if mode & FALLOC_FL_KEEP_SIZE == 0 && end > size {
            pages.truncate(end);
        }
        let page = crate::arch::memory::PAGE_SIZE;
        for index in offset / page..end.min(pages.size()).div_ceil(page) {
            let (pa, _) = pages.fault_page(index, false).map_err(|_| Errno::ENOSPC)?;
            crate::mm::pages::put_page(pa);
        }
        Ok(())
    }

    fn seals(&self) -> Option<&AtomicU32> {
        (self.ftype == FileType::Regular).then_some(&self.seals)
    }

    fn mapping(&self) -> Option<Arc<AddressSpace>> {
        self.pages()
    }

    fn as_any(&self) -> &dyn Any {
        self
    }
}
