//! Names to inodes: dentries, mounts and the path walk (Linux: `fs/namei.c`, `fs/dcache.c`,
//! `fs/namespace.c`).
//!
//! A [`Dentry`] is an inode as reached by a path: it knows its name and its parent, which
//! is how `..` and `getcwd` work. Mounting puts another filesystem's root over a directory:
//! the walk notices (by inode identity) and continues in the mounted root, whose dentry keeps
//! the mount point's name and parent. Symbolic links are followed, at most 40 in one walk
//! (Linux's `MAXSYMLINKS`), which ends loops with `ELOOP`. Every directory the walk searches,
//! the last component's included, must grant search permission to the caller's
//! credentials (`may_lookup`); for root that is one capability bit, not an inode read.

use alloc::string::{String, ToString};
use alloc::sync::Arc;
use alloc::vec::Vec;
use core::sync::atomic::{AtomicUsize, Ordering};

use super::inode::{FileType, Inode};
use crate::kernel::cred::Cred;
use crate::kernel::errno::Errno;
use crate::kernel::sync::{InitOnce, SpinLock};

/// Longest path accepted (Linux's `PATH_MAX`).
pub const PATH_MAX: usize = 4096;
/// Most symbolic links followed in one walk (Linux's `MAXSYMLINKS`).
pub const MAXSYMLINKS: usize = 40;

/// Names up to this long live inside the dentry (Linux's `DNAME_INLINE_LEN`).
pub const DNAME_INLINE_LEN: usize = 32;

/// A dentry's name: inline up to [`DNAME_INLINE_LEN`] bytes — nearly every name — and on
/// the heap beyond, so making a dentry is one allocation, not two (Linux's `d_iname`).
pub enum DentryName {
    /// `bytes[..len]` is the name.
    Inline {
        /// Its length.
        len: u8,
        /// Its bytes, then zeroes.
        bytes: [u8; DNAME_INLINE_LEN],
    },
    /// A longer name.
    Heap(alloc::boxed::Box<str>),
}

impl DentryName {
    /// `name`, inline if it fits.
    pub fn new(name: &str) -> DentryName {
        if name.len() <= DNAME_INLINE_LEN {
            let mut bytes = [0; DNAME_INLINE_LEN];
            bytes[..name.len()].copy_from_slice(name.as_bytes());
            DentryName::Inline {
                len: name.len() as u8,
                bytes,
            }
        } else {
            DentryName::Heap(name.into())
        }
    }

    /// The name.
    pub fn as_str(&self) -> &str {
        match self {
            DentryName::Inline { len, bytes } => {
                // SAFETY: `new` copied these bytes whole from a `str`, so they are UTF-8.
                unsafe { core::str::from_utf8_unchecked(&bytes[..*len as usize]) }
            }
            DentryName::Heap(name) => name,
        }
    }
}

impl core::ops::Deref for DentryName {
    type Target = str;

    fn deref(&self) -> &str {
        self.as_str()
    }
}

impl core::fmt::Display for DentryName {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl PartialEq<&str> for DentryName {
    fn eq(&self, other: &&str) -> bool {
        self.as_str() == *other
    }
}

/// An inode reached by a path.
pub struct Dentry {
    /// The last component of its path ("/" for the root).
    pub name: DentryName,
    /// Its parent; `None` for the root of the whole tree.
    pub parent: Option<Arc<Dentry>>,
    /// What it names.
    pub inode: Arc<dyn Inode>,
}

impl Dentry {
    /// A root dentry for `inode`.
    pub fn root(inode: Arc<dyn Inode>) -> Arc<Dentry> {
        Arc::new(Dentry {
            name: DentryName::new("/"),
            parent: None,
            inode,
        })
    }

    /// The absolute path of this dentry (for `getcwd`, `/proc/<pid>/exe`).
    pub fn path(&self) -> String {
        let mut parts = Vec::new();
        let mut d = self;
        while let Some(parent) = &d.parent {
            parts.push(d.name.as_str());
            d = parent;
        }
        if parts.is_empty() {
            return "/".to_string();
        }
        let mut path = String::new();
        for part in parts.iter().rev() {
            path.push('/');
            path.push_str(part);
        }
        path
    }
}

/// A mounted filesystem (Linux's `struct mount`).
pub struct Mount {
    /// The directory it covers.
    pub mountpoint: Arc<dyn Inode>,
    /// The root of the mounted filesystem.
    pub root: Arc<dyn Inode>,
    /// Where, as a path (for /proc/mounts).
    pub path: String,
    /// The filesystem type ("tmpfs", "proc", ...).
    pub fstype: &'static str,
    /// The source ("none", "tmpfs", ...).
    pub source: String,
}

static MOUNTS: SpinLock<Vec<Arc<Mount>>> = SpinLock::new(Vec::new());
/// How many of `MOUNTS` cover a directory (all but the root's). Written under `MOUNTS`'
/// lock; read without it by the walk, which needs the lock only when something is mounted
/// (Linux's walk tests `DCACHE_MOUNTED` on the dentry before it looks at mounts).
static NR_MOUNTPOINTS: AtomicUsize = AtomicUsize::new(0);
static ROOT: InitOnce<Arc<Dentry>> = InitOnce::new();

fn same_inode(a: &Arc<dyn Inode>, b: &Arc<dyn Inode>) -> bool {
    Arc::ptr_eq(a, b)
}

/// Make `root` the root of the tree (Linux's `init_mount_tree`).
pub fn set_root(root: Arc<dyn Inode>, fstype: &'static str) {
    let dentry = Dentry::root(root.clone());
    let _ = ROOT.set(dentry);
    MOUNTS.lock().push(Arc::new(Mount {
        mountpoint: root.clone(),
        root,
        path: "/".to_string(),
        fstype,
        source: "rootfs".to_string(),
    }));
}

/// The root dentry.
pub fn root() -> Arc<Dentry> {
    ROOT.get()
        .expect("VFS used before the root filesystem exists")
        .clone()
}

/// Mount `fs_root` on the directory `at` (Linux's `do_new_mount`).
pub fn mount(
    at: &Arc<Dentry>,
    fs_root: Arc<dyn Inode>,
    fstype: &'static str,
    source: &str,
) -> Result<(), Errno> {
    if at.inode.file_type() != FileType::Directory {
        return Err(Errno::ENOTDIR);
    }
    let mut mounts = MOUNTS.lock();
    if mounts
        .iter()
        .any(|m| m.path != "/" && same_inode(&m.mountpoint, &at.inode))
    {
        return Err(Errno::EBUSY);
    }
    NR_MOUNTPOINTS.fetch_add(1, Ordering::Release);
    mounts.push(Arc::new(Mount {
        mountpoint: at.inode.clone(),
        root: fs_root,
        path: at.path(),
        fstype,
        source: source.to_string(),
    }));
    Ok(())
}

/// Unmount what is mounted at `at` (Linux's `do_umount`).
pub fn umount(at: &Arc<Dentry>) -> Result<(), Errno> {
    let mut mounts = MOUNTS.lock();
    let pos = mounts
        .iter()
        .rposition(|m| m.path != "/" && same_inode(&m.root, &at.inode))
        .ok_or(Errno::EINVAL)?;
    mounts.remove(pos);
    NR_MOUNTPOINTS.fetch_sub(1, Ordering::Release);
    Ok(())
}

/// The mounts, in mount order (for /proc/mounts).
pub fn mounts() -> Vec<Arc<Mount>> {
    MOUNTS.lock().clone()
}

/// If a filesystem is mounted on `inode`, its root (the most recent mount wins).
fn mounted_over(inode: &Arc<dyn Inode>) -> Option<Arc<dyn Inode>> {
    if NR_MOUNTPOINTS.load(Ordering::Acquire) == 0 {
        return None;
    }
    let mounts = MOUNTS.lock();
    mounts
        .iter()
        .rev()
        .find(|m| m.path != "/" && same_inode(&m.mountpoint, inode))
        .map(|m| m.root.clone())
}

/// Where a walk starts and how it treats the last component.
pub struct LookupFlags {
    /// Follow a symbolic link in the last component (Linux's `LOOKUP_FOLLOW`).
    pub follow: bool,
}

/// Search permission on a directory of the walk (Linux's `may_lookup`).
#[inline]
fn may_lookup(dir: &Arc<Dentry>, cred: &Cred) -> Result<(), Errno> {
    super::permission::may_lookup(cred, || dir.inode.attr())
}

fn child(parent: &Arc<Dentry>, name: &str, cred: &Cred) -> Result<Arc<Dentry>, Errno> {
    if parent.inode.file_type() != FileType::Directory {
        return Err(Errno::ENOTDIR);
    }
    may_lookup(parent, cred)?;
    let mut inode = parent.inode.lookup(name)?;
    while let Some(root) = mounted_over(&inode) {
        inode = root;
    }
    Ok(Arc::new(Dentry {
        name: DentryName::new(name),
        parent: Some(parent.clone()),
        inode,
    }))
}

/// Walk `path` from `cwd` (or the root, for absolute paths) to a dentry (Linux's
/// `path_lookupat`), searching each directory with the current task's credentials.
pub fn path_lookup(
    cwd: &Arc<Dentry>,
    path: &str,
    flags: LookupFlags,
) -> Result<Arc<Dentry>, Errno> {
    crate::kernel::cred::with_current_cred(|cred| path_lookup_cred(cwd, path, flags, cred))
}

/// [`path_lookup`] with the given credentials (`faccessat` walks with the real IDs).
pub fn path_lookup_cred(
    cwd: &Arc<Dentry>,
    path: &str,
    flags: LookupFlags,
    cred: &Cred,
) -> Result<Arc<Dentry>, Errno> {
    let mut links = 0;
    walk(cwd, path, flags.follow, &mut links, cred)
}

/// The components of a path, without the empty ones a leading, trailing or doubled `/`
/// makes (what `path.split('/').filter(..)` gives, in a plain byte loop: the walk's hot
/// path).
struct Components<'p> {
    path: &'p str,
    /// Where the next component's search starts.
    at: usize,
}

impl<'p> Iterator for Components<'p> {
    type Item = &'p str;

    fn next(&mut self) -> Option<&'p str> {
        let bytes = self.path.as_bytes();
        while self.at < bytes.len() && bytes[self.at] == b'/' {
            self.at += 1;
        }
        if self.at == bytes.len() {
            return None;
        }
        let start = self.at;
        while self.at < bytes.len() && bytes[self.at] != b'/' {
            self.at += 1;
        }
        // Both ends are next to a '/' or at an end of the string: char boundaries.
        Some(&self.path[start..self.at])
    }
}

fn walk(
    start: &Arc<Dentry>,
    path: &str,
    follow_last: bool,
    links: &mut usize,
    cred: &Cred,
) -> Result<Arc<Dentry>, Errno> {
    if path.is_empty() {
        return Err(Errno::ENOENT);
    }
    if path.len() >= PATH_MAX {
        return Err(Errno::ENAMETOOLONG);
    }
    let mut cur = if path.starts_with('/') {
        root()
    } else {
        start.clone()
    };
    let mut components = Components { path, at: 0 }.peekable();
    let trailing_slash = path.ends_with('/');
    while let Some(comp) = components.next() {
        let last = components.peek().is_none();
        match comp {
            "." => {
                if cur.inode.file_type() != FileType::Directory {
                    return Err(Errno::ENOTDIR);
                }
                may_lookup(&cur, cred)?;
                continue;
            }
            ".." => {
                if cur.inode.file_type() != FileType::Directory {
                    return Err(Errno::ENOTDIR);
                }
                may_lookup(&cur, cred)?;
                if let Some(parent) = &cur.parent {
                    cur = parent.clone();
                }
                continue;
            }
            _ => {}
        }
        if comp.len() > 255 {
            return Err(Errno::ENAMETOOLONG);
        }
        let next = child(&cur, comp, cred)?;
        if next.inode.file_type() == FileType::Symlink && (!last || follow_last || trailing_slash) {
            *links += 1;
            if *links > MAXSYMLINKS {
                return Err(Errno::ELOOP);
            }
            if let Some(jump) = next.inode.jump_link() {
                cur = jump?;
                continue;
            }
            let target = next.inode.readlink()?;
            cur = walk(&cur, &target, true, links, cred)?;
        } else {
            cur = next;
        }
    }
    if trailing_slash && cur.inode.file_type() != FileType::Directory {
        return Err(Errno::ENOTDIR);
    }
    Ok(cur)
}

/// Walk all but the last component of `path`: the parent directory and the last name
/// (Linux's `filename_parentat`), for create, unlink, rename.
pub fn path_parent<'p>(cwd: &Arc<Dentry>, path: &'p str) -> Result<(Arc<Dentry>, &'p str), Errno> {
    let trimmed = path.trim_end_matches('/');
    if trimmed.is_empty() {
        return if path.starts_with('/') {
            Err(Errno::EBUSY)
        } else {
            Err(Errno::ENOENT)
        };
    }
    let (dir, name) = match trimmed.rfind('/') {
        Some(0) => ("/", &trimmed[1..]),
        Some(i) => (&trimmed[..i], &trimmed[i + 1..]),
        None => (".", trimmed),
    };
    if name.len() > 255 {
        return Err(Errno::ENAMETOOLONG);
    }
    crate::kernel::cred::with_current_cred(|cred| {
        let parent = path_lookup_cred(cwd, dir, LookupFlags { follow: true }, cred)?;
        if parent.inode.file_type() != FileType::Directory {
            return Err(Errno::ENOTDIR);
        }
        // The walk searches the last component's directory too (Linux's `link_path_walk`).
        may_lookup(&parent, cred)?;
        Ok((parent, name))
    })
}
