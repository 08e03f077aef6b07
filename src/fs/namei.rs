//! Names to inodes: dentries, mounts and the path walk, and the system calls that make and
//! remove names (Linux: `fs/namei.c`, `fs/dcache.c`, `fs/namespace.c`).
//!
//! A [`Dentry`] is an inode as reached by a path: it knows its name and its parent, which
//! is how `..` and `getcwd` work. Mounting puts another filesystem's root over a directory:
//! the walk notices (by inode identity) and continues in the mounted root, whose dentry keeps
//! the mount point's name and parent. Symbolic links are followed, at most 40 in one walk
//! (Linux's `MAXSYMLINKS`), which ends loops with `ELOOP`. Every directory the walk searches,
//! the last component's included, must grant search permission to the caller's
//! credentials (`may_lookup`); for root that is one capability bit, not an inode read.
//!
//! The `*at` calls start here too: a path comes from user memory through [`getname`]
//! (`EFAULT`, `ENAMETOOLONG`), and its walk starts at the root, the cwd (`AT_FDCWD`) or a
//! directory descriptor ([`at_base`]). `mkdirat`, `mknodat`, `unlinkat`, `symlinkat`,
//! `linkat` and `renameat2` check [`may_create_in`] / `may_delete` (with the sticky bit)
//! where Linux's `fs/namei.c` does.

use alloc::string::{String, ToString};
use alloc::sync::Arc;
use alloc::vec::Vec;
use core::sync::atomic::{AtomicUsize, Ordering};

use super::file::fdget;
use super::inode::{init_owner, mode};
use super::inode::{FileType, Inode};
use super::permission::{self as perm, MAY_EXEC, MAY_WRITE};
use crate::arch::uaccess::strncpy_from_user;
use crate::kernel::cred::Cred;
use crate::kernel::cred::{current_cred, with_current_cred};
use crate::kernel::errno::Errno;
use crate::kernel::locking::{InitOnce, SpinLock};
use crate::kernel::task::current;

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

    /// The path of this dentry as seen from the directory `root` (a task's root, after
    /// `chroot`), or `None` if it is not below it (Linux's `d_path` "unreachable" case).
    pub fn path_from(&self, root: &Dentry) -> Option<String> {
        let mut parts = Vec::new();
        let mut d = self;
        while !same_inode(&d.inode, &root.inode) {
            parts.push(d.name.as_str());
            d = d.parent.as_deref()?;
        }
        if parts.is_empty() {
            return Some("/".to_string());
        }
        let mut path = String::new();
        for part in parts.iter().rev() {
            path.push('/');
            path.push_str(part);
        }
        Some(path)
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

/// The calling task's root directory (Linux's `current->fs->root`, which `chroot` moves):
/// where absolute paths start and `..` stops. The tree's root for a task without one.
pub fn current_root() -> Arc<Dentry> {
    match current().fs() {
        Ok(fs) => fs.lock().root.clone(),
        Err(_) => root(),
    }
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
        current_root()
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
                // `..` of the task's root is the root itself (Linux's `follow_dotdot`).
                if let Some(parent) = &cur.parent {
                    if !same_inode(&cur.inode, &current_root().inode) {
                        cur = parent.clone();
                    }
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

type SysResult = Result<u64, Errno>;

/// `dirfd` meaning "the working directory" (Linux's `AT_FDCWD`).
pub const AT_FDCWD: i32 = -100;

/// Do not follow a final symlink.
pub const AT_SYMLINK_NOFOLLOW: u32 = 0x100;

/// `unlinkat`: remove a directory.
pub const AT_REMOVEDIR: u32 = 0x200;

/// Follow a final symlink (linkat).
pub const AT_SYMLINK_FOLLOW: u32 = 0x400;

/// An empty path means `dirfd` itself.
pub const AT_EMPTY_PATH: u32 = 0x1000;

/// Whether the current task may do `mask` to `inode` (Linux's `inode_permission`).
pub fn inode_permission(inode: &Arc<dyn Inode>, mask: u32) -> Result<(), Errno> {
    with_current_cred(|cred| {
        // CAP_DAC_OVERRIDE grants every read and write, whatever the mode says: root's
        // open need not read the inode (`generic_permission` would agree).
        if mask & MAY_EXEC == 0 && cred.has_cap(crate::kernel::capability::CAP_DAC_OVERRIDE) {
            return Ok(());
        }
        perm::generic_permission(inode.attr(), mask, cred)
    })
}

/// Check that `name` does not exist in `parent` and that the caller may make it (Linux's
/// `filename_create` EEXIST, then `may_create`).
pub fn may_create_in(parent: &Arc<Dentry>, name: &str, cred: &Cred) -> Result<(), Errno> {
    if parent.inode.lookup(name).is_ok() {
        return Err(Errno::EEXIST);
    }
    perm::may_create(parent.inode.attr(), cred)
}

/// A path from user memory (Linux's `getname`).
pub fn getname(ptr: u64) -> Result<String, Errno> {
    String::from_utf8(strndup_user(ptr, PATH_MAX)?).map_err(|_| Errno::EINVAL)
}

/// Copy a NUL-terminated user string that fits in `max` bytes with its NUL (Linux's
/// `strndup_user`); `ENAMETOOLONG` if it does not. The string comes over in 128-byte pieces
/// through a buffer on the stack, so a short path costs a short copy, not the zeroing of a
/// `max`-byte buffer.
pub fn strndup_user(ptr: u64, max: usize) -> Result<Vec<u8>, Errno> {
    let mut piece = [0u8; 128];
    let mut out = Vec::new();
    loop {
        let room = piece.len().min(max - out.len());
        match strncpy_from_user(&mut piece[..room], ptr.wrapping_add(out.len() as u64)) {
            Ok(len) => {
                out.extend_from_slice(&piece[..len]);
                return Ok(out);
            }
            Err(Errno::ENAMETOOLONG) => {
                // `room` bytes, none of them the NUL.
                out.extend_from_slice(&piece[..room]);
                if out.len() >= max {
                    return Err(Errno::ENAMETOOLONG);
                }
            }
            Err(e) => return Err(e),
        }
    }
}

/// The calling task's working directory.
pub fn cwd() -> Result<Arc<Dentry>, Errno> {
    Ok(current().fs()?.lock().cwd.clone())
}

/// Where a `*at` call's relative path starts.
pub fn at_base(dirfd: i32, path: &str) -> Result<Arc<Dentry>, Errno> {
    if path.starts_with('/') {
        // The walk starts again at the task's root: the base is not used.
        return Ok(root());
    }
    if dirfd == AT_FDCWD {
        return cwd();
    }
    let file = fdget(dirfd)?;
    if file.inode.file_type() != FileType::Directory && !path.is_empty() {
        return Err(Errno::ENOTDIR);
    }
    Ok(file.dentry.clone())
}

/// The dentry `path` names, from `dirfd` as a `*at` call starts (Linux's `user_path_at`).
pub fn lookup_at(dirfd: i32, path: &str, follow: bool) -> Result<Arc<Dentry>, Errno> {
    let base = at_base(dirfd, path)?;
    path_lookup(&base, path, LookupFlags { follow })
}

/// `mkdirat(2)`.
pub fn sys_mkdirat(dirfd: i32, pathname: u64, mode_bits: u32) -> SysResult {
    let path = getname(pathname)?;
    let base = at_base(dirfd, &path)?;
    if path_lookup(&base, &path, LookupFlags { follow: false }).is_ok() {
        return Err(Errno::EEXIST); // includes "/" itself, as Linux answers mkdir -p /
    }
    let (parent, name) = path_parent(&base, &path)?;
    let cred = current_cred();
    may_create_in(&parent, name, &cred)?;
    let umask = current().fs()?.lock().umask;
    let inode = parent
        .inode
        .create(name, mode::S_IFDIR | (mode_bits & 0o7777 & !umask), 0)?;
    init_owner(&parent, &inode, &cred);
    crate::fs::notify::fsnotify_create(&parent.inode, name, true);
    Ok(0)
}

/// `mknodat(2)`.
pub fn sys_mknodat(dirfd: i32, pathname: u64, mode_bits: u32, dev: u64) -> SysResult {
    let path = getname(pathname)?;
    let base = at_base(dirfd, &path)?;
    let (parent, name) = path_parent(&base, &path)?;
    let kind = if mode_bits & mode::S_IFMT == 0 {
        mode::S_IFREG
    } else {
        mode_bits & mode::S_IFMT
    };
    let cred = current_cred();
    may_create_in(&parent, name, &cred)?;
    if (kind == mode::S_IFCHR || kind == mode::S_IFBLK)
        && !cred.has_cap(crate::kernel::capability::CAP_MKNOD)
    {
        return Err(Errno::EPERM);
    }
    let umask = current().fs()?.lock().umask;
    let inode = parent
        .inode
        .create(name, kind | (mode_bits & 0o7777 & !umask), dev)?;
    init_owner(&parent, &inode, &cred);
    crate::fs::notify::fsnotify_create(&parent.inode, name, false);
    Ok(0)
}

/// `unlinkat(2)`.
pub fn sys_unlinkat(dirfd: i32, pathname: u64, uflags: u32) -> SysResult {
    let path = getname(pathname)?;
    let base = at_base(dirfd, &path)?;
    let (parent, name) = path_parent(&base, &path)?;
    if name == "." || name == ".." {
        return Err(if uflags & AT_REMOVEDIR != 0 {
            Errno::EINVAL
        } else {
            Errno::EISDIR
        });
    }
    let victim = parent.inode.lookup(name)?;
    perm::may_delete(parent.inode.attr(), victim.attr(), &current_cred())?;
    parent.inode.unlink(name, uflags & AT_REMOVEDIR != 0)?;
    crate::fs::notify::fsnotify_delete(&parent.inode, name, &victim);
    Ok(0)
}

/// `symlinkat(2)`.
pub fn sys_symlinkat(target: u64, dirfd: i32, linkpath: u64) -> SysResult {
    let target = getname(target)?;
    let path = getname(linkpath)?;
    let base = at_base(dirfd, &path)?;
    let (parent, name) = path_parent(&base, &path)?;
    let cred = current_cred();
    may_create_in(&parent, name, &cred)?;
    parent.inode.symlink(name, &target)?;
    if let Ok(link) = parent.inode.lookup(name) {
        init_owner(&parent, &link, &cred);
    }
    crate::fs::notify::fsnotify_create(&parent.inode, name, false);
    Ok(0)
}

/// `linkat(2)`.
pub fn sys_linkat(
    olddirfd: i32,
    oldpath: u64,
    newdirfd: i32,
    newpath: u64,
    lflags: u32,
) -> SysResult {
    let old = getname(oldpath)?;
    let new = getname(newpath)?;
    let target = lookup_at(olddirfd, &old, lflags & AT_SYMLINK_FOLLOW != 0)?;
    let base = at_base(newdirfd, &new)?;
    let (parent, name) = path_parent(&base, &new)?;
    may_create_in(&parent, name, &current_cred())?;
    if target.inode.file_type() == FileType::Directory {
        return Err(Errno::EPERM);
    }
    parent.inode.link(name, target.inode.clone())?;
    crate::fs::notify::fsnotify_link(&target.inode, &parent.inode, name);
    Ok(0)
}

/// `renameat2(2)` (flags: RENAME_NOREPLACE = 1 honoured; others refused).
pub fn sys_renameat2(
    olddirfd: i32,
    oldpath: u64,
    newdirfd: i32,
    newpath: u64,
    rflags: u32,
) -> SysResult {
    if rflags & !1 != 0 {
        return Err(Errno::EINVAL);
    }
    let old = getname(oldpath)?;
    let new = getname(newpath)?;
    let (old_parent, old_name) = path_parent(&at_base(olddirfd, &old)?, &old)?;
    let (new_parent, new_name) = path_parent(&at_base(newdirfd, &new)?, &new)?;
    let inode = old_parent.inode.lookup(old_name)?;
    let cred = current_cred();
    perm::may_delete(old_parent.inode.attr(), inode.attr(), &cred)?;
    let target = new_parent.inode.lookup(new_name);
    if rflags & 1 != 0 && target.is_ok() {
        return Err(Errno::EEXIST);
    }
    match &target {
        Ok(existing) if rflags & 1 == 0 => {
            perm::may_delete(new_parent.inode.attr(), existing.attr(), &cred)?;
        }
        _ => perm::may_create(new_parent.inode.attr(), &cred)?,
    }
    // A directory moved to another parent has its `..` rewritten: write on it.
    if inode.file_type() == FileType::Directory
        && !Arc::ptr_eq(&old_parent.inode, &new_parent.inode)
    {
        perm::generic_permission(inode.attr(), MAY_WRITE, &cred)?;
    }
    let mut replaced = None;
    match target {
        Ok(existing) => {
            if rflags & 1 != 0 {
                return Err(Errno::EEXIST);
            }
            if Arc::ptr_eq(&existing, &inode) {
                return Ok(0);
            }
            let dir = existing.file_type() == FileType::Directory;
            if dir != (inode.file_type() == FileType::Directory) {
                return Err(if dir { Errno::EISDIR } else { Errno::ENOTDIR });
            }
            new_parent.inode.unlink(new_name, dir)?;
            replaced = Some(existing);
        }
        Err(Errno::ENOENT) => {}
        Err(e) => return Err(e),
    }
    let moved = old_parent.inode.detach(old_name)?;
    if let Err(e) = new_parent.inode.attach(new_name, moved.clone()) {
        let _ = old_parent.inode.attach(old_name, moved);
        return Err(e);
    }
    crate::fs::notify::fsnotify_move(
        &old_parent.inode,
        old_name,
        &new_parent.inode,
        new_name,
        &moved,
    );
    if let Some(replaced) = replaced {
        crate::fs::notify::fsnotify_replaced(&replaced);
    }
    Ok(0)
}
