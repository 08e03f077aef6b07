//! sysfs: the kernel's devices as a tree of small read-only files (Linux: `fs/sysfs/`,
//! `fs/kernfs/`).
//!
//! Each `mount -t sysfs` builds the tree afresh: directories are [`KernfsDir`]s holding
//! their children by name, files are [`KernfsAttr`]s whose text an attribute function
//! (Linux's `show`) produces on every read. What exists is what Linux's arm64 kernel has
//! under the same names, for the parts Cradle has:
//!
//! - `devices/system/cpu/` (`drivers::base::cpu`): `online`, `possible`, `present`,
//!   `offline`, `kernel_max`, `isolated`, and a `cpuN/` per possible CPU with `topology/`
//!   and `regs/identification/` — what glibc's `get_nprocs`, `lscpu` and Python's
//!   `os.cpu_count` read.
//!
//! The other top-level directories Linux has (`bus`, `class`, `block`, `firmware`, …) are
//! absent rather than empty, so a program that looks finds nothing instead of something
//! that is not there. CPUs do not come and go after boot, so nothing in the tree changes
//! while it is mounted except the text of its files.
//!
//! Files report size 4096 and mode 0444, as Linux's read-only attributes do; opening one
//! for writing fails with EACCES (Linux's `kernfs_fop_open` for an attribute without a
//! `store`).

use alloc::boxed::Box;
use alloc::string::String;
use alloc::sync::Arc;
use alloc::vec::Vec;
use core::any::Any;

use super::file::flags;
use super::inode::{mode, DirEntry, FileType, Inode, Kiocb, Stat};
use super::iov_iter::IovIter;
use crate::kernel::errno::Errno;

/// What a read-only attribute shows (Linux's `device_attribute.show`).
pub type Show = Box<dyn Fn() -> String + Send + Sync>;

/// A directory of the tree.
pub struct KernfsDir {
    dev: u64,
    ino: u64,
    children: Vec<(String, Arc<dyn Inode>)>,
}

/// A read-only attribute file.
pub struct KernfsAttr {
    dev: u64,
    ino: u64,
    show: Show,
}

/// Builds one mount's tree, numbering inodes in creation order from 1 (the root is the
/// last directory made, so numbers are stable from mount to mount of the same tree).
pub struct TreeBuilder {
    dev: u64,
    next_ino: u64,
}

/// One entry of a directory being built.
pub enum Node {
    /// A subdirectory, built already.
    Dir(Arc<dyn Inode>),
    /// A file: what it shows.
    Attr(Show),
}

impl TreeBuilder {
    /// A builder for a mount with device number `dev`.
    pub fn new(dev: u64) -> Self {
        Self { dev, next_ino: 1 }
    }

    fn ino(&mut self) -> u64 {
        let ino = self.next_ino;
        self.next_ino += 1;
        ino
    }

    /// A read-only attribute showing `show()`.
    pub fn attr(show: impl Fn() -> String + Send + Sync + 'static) -> Node {
        Node::Attr(Box::new(show))
    }

    /// A directory with these entries (files get their inodes here).
    pub fn dir(&mut self, entries: Vec<(String, Node)>) -> Arc<dyn Inode> {
        let mut children = Vec::with_capacity(entries.len());
        for (name, node) in entries {
            let inode: Arc<dyn Inode> = match node {
                Node::Dir(dir) => dir,
                Node::Attr(show) => Arc::new(KernfsAttr {
                    dev: self.dev,
                    ino: self.ino(),
                    show,
                }),
            };
            children.push((name, inode));
        }
        Arc::new(KernfsDir {
            dev: self.dev,
            ino: self.ino(),
            children,
        })
    }
}

/// A fresh sysfs with device number `dev`: its root directory, for `mount -t sysfs`.
pub fn sysfs_root(dev: u64) -> Arc<dyn Inode> {
    let mut tree = TreeBuilder::new(dev);
    let cpu = crate::drivers::base::cpu::cpu_subsys_dir(&mut tree);
    let system = tree.dir(alloc::vec![(String::from("cpu"), Node::Dir(cpu))]);
    let devices = tree.dir(alloc::vec![(String::from("system"), Node::Dir(system))]);
    tree.dir(alloc::vec![(String::from("devices"), Node::Dir(devices))])
}

impl Inode for KernfsDir {
    fn stat(&self) -> Stat {
        let subdirs = self
            .children
            .iter()
            .filter(|(_, inode)| inode.file_type() == FileType::Directory)
            .count();
        Stat {
            dev: self.dev,
            ino: self.ino,
            mode: mode::S_IFDIR | 0o755,
            nlink: 2 + subdirs as u32,
            size: 0,
            mtime: crate::kernel::time::realtime_seconds(),
            ..Stat::default()
        }
    }

    fn file_type(&self) -> FileType {
        FileType::Directory
    }

    fn lookup(&self, name: &str) -> Result<Arc<dyn Inode>, Errno> {
        self.children
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, inode)| inode.clone())
            .ok_or(Errno::ENOENT)
    }

    fn readdir(&self) -> Result<Vec<DirEntry>, Errno> {
        Ok(self
            .children
            .iter()
            .map(|(name, inode)| DirEntry {
                name: name.clone(),
                ino: inode.stat().ino,
                file_type: inode.file_type(),
            })
            .collect())
    }

    fn as_any(&self) -> &dyn Any {
        self
    }
}

impl Inode for KernfsAttr {
    fn stat(&self) -> Stat {
        Stat {
            dev: self.dev,
            ino: self.ino,
            mode: mode::S_IFREG | 0o444,
            nlink: 1,
            size: 4096, // a sysfs attribute's size is a page, whatever it shows
            mtime: crate::kernel::time::realtime_seconds(),
            ..Stat::default()
        }
    }

    fn file_type(&self) -> FileType {
        FileType::Regular
    }

    fn open(&self, oflags: u32) -> Result<(), Errno> {
        if oflags & flags::O_ACCMODE != flags::O_RDONLY {
            return Err(Errno::EACCES);
        }
        Ok(())
    }

    fn read_iter(&self, iocb: &Kiocb, to: &mut IovIter<'_>) -> Result<usize, Errno> {
        let text = (self.show)();
        super::proc::generic::serve(text.as_bytes(), iocb.pos, to)
    }

    fn as_any(&self) -> &dyn Any {
        self
    }
}
