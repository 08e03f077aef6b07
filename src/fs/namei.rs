//! Names to inodes: dentries, mounts and the path walk (Linux: `fs/namei.c`, `fs/dcache.c`,
//! `fs/namespace.c`).
//!
//! A [`Dentry`] is an inode as reached by a path: it knows its name and its parent, which
//! is how `..` and `getcwd` work. Mounting puts another filesystem's root over a directory:
//! the walk notices (by inode identity) and continues in the mounted root, whose dentry keeps
//! the mount point's name and parent. Symbolic links are followed, at most 40 in one walk
//! (Linux's `MAXSYMLINKS`), which ends loops with `ELOOP`.

use alloc::string::{String, ToString};
use alloc::sync::Arc;
use alloc::vec::Vec;

use super::inode::{FileType, Inode};
use crate::kernel::errno::Errno;
use crate::kernel::sync::{InitOnce, SpinLock};

/// Longest path accepted (Linux's `PATH_MAX`).
pub const PATH_MAX: usize = 4096;
/// Most symbolic links followed in one walk (Linux's `MAXSYMLINKS`).
pub const MAXSYMLINKS: usize = 40;

/// An inode reached by a path.
pub struct Dentry {
    /// The last component of its path ("/" for the root).
    pub name: String,
    /// Its parent; `None` for the root of the whole tree.
    pub parent: Option<Arc<Dentry>>,
    /// What it names.
    pub inode: Arc<dyn Inode>,
}

impl Dentry {
    /// A root dentry for `inode`.
    pub fn root(inode: Arc<dyn Inode>) -> Arc<Dentry> {
        Arc::new(Dentry {
            name: "/".to_string(),
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
    Ok(())
}

/// The mounts, in mount order (for /proc/mounts).
pub fn mounts() -> Vec<Arc<Mount>> {
    MOUNTS.lock().clone()
}

/// If a filesystem is mounted on `inode`, its root (the most recent mount wins).
fn mounted_over(inode: &Arc<dyn Inode>) -> Option<Arc<dyn Inode>> {
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

fn child(parent: &Arc<Dentry>, name: &str) -> Result<Arc<Dentry>, Errno> {
    if parent.inode.file_type() != FileType::Directory {
        return Err(Errno::ENOTDIR);
    }
    let mut inode = parent.inode.lookup(name)?;
    while let Some(root) = mounted_over(&inode) {
        inode = root;
    }
    Ok(Arc::new(Dentry {
        name: name.to_string(),
        parent: Some(parent.clone()),
        inode,
    }))
}

/// Walk `path` from `cwd` (or the root, for absolute paths) to a dentry (Linux's
/// `path_lookupat`).
pub fn path_lookup(
    cwd: &Arc<Dentry>,
    path: &str,
    flags: LookupFlags,
) -> Result<Arc<Dentry>, Errno> {
    let mut links = 0;
    walk(cwd, path, flags.follow, &mut links)
}

fn walk(
    start: &Arc<Dentry>,
    path: &str,
    follow_last: bool,
    links: &mut usize,
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
    let components: Vec<&str> = path.split('/').filter(|c| !c.is_empty()).collect();
    let trailing_slash = path.ends_with('/');
    for (i, comp) in components.iter().enumerate() {
        let last = i + 1 == components.len();
        match *comp {
            "." => {
                if cur.inode.file_type() != FileType::Directory {
                    return Err(Errno::ENOTDIR);
                }
                continue;
            }
            ".." => {
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
        let next = child(&cur, comp)?;
        if next.inode.file_type() == FileType::Symlink && (!last || follow_last || trailing_slash) {
            *links += 1;
            if *links > MAXSYMLINKS {
                return Err(Errno::ELOOP);
            }
            let target = next.inode.readlink()?;
            cur = walk(&cur, &target, true, links)?;
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
    let parent = path_lookup(cwd, dir, LookupFlags { follow: true })?;
    if parent.inode.file_type() != FileType::Directory {
        return Err(Errno::ENOTDIR);
    }
    Ok((parent, name))
}
