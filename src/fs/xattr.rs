//! Extended attributes, as tmpfs without a security module has them (Linux: `fs/xattr.c`,
//! `mm/shmem.c`'s xattr handlers).
//!
//! Cradle's files carry no extended attributes. What programs see matches Linux 6.1's tmpfs
//! with no LSM: a name in a namespace tmpfs handles (`security.`, `trusted.`, the POSIX
//! ACL names `system.posix_acl_access`/`_default`) is simply absent — `ENODATA` — and any
//! other namespace (`user.` among them) is not supported: `EOPNOTSUPP`. Lists are empty.
//! Setting an attribute is refused with `EOPNOTSUPP` (tmpfs would store `security.` and
//! `trusted.` ones; nothing here keeps them). `ls`, `cp -a` and `mv` ask for ACLs and
//! SELinux labels and take these answers as "none".

use alloc::string::String;
use alloc::sync::Arc;

use super::file::fdget;
use super::inode::Inode;
use super::namei::{getname, lookup_at, strndup_user, AT_FDCWD};
use crate::kernel::errno::Errno;

type SysResult = Result<u64, Errno>;

/// The longest attribute name (Linux's `XATTR_NAME_MAX`).
const XATTR_NAME_MAX: usize = 255;
/// `setxattr` flags.
const XATTR_CREATE: u32 = 1;
const XATTR_REPLACE: u32 = 2;

/// The name from user memory: ERANGE if it is empty or longer than `XATTR_NAME_MAX`
/// (Linux's `strncpy_from_user` checks in `getxattr`).
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

/// Does tmpfs have a handler for this name (so that a missing one is ENODATA)?
fn handled(name: &str) -> bool {
    name.starts_with("security.")
        || name.starts_with("trusted.")
        || name == "system.posix_acl_access"
        || name == "system.posix_acl_default"
}

/// The inode a path-based call names.
fn path_inode(pathname: u64, follow: bool) -> Result<Arc<dyn Inode>, Errno> {
    let path = getname(pathname)?;
    Ok(lookup_at(AT_FDCWD, &path, follow)?.inode.clone())
}

fn get(_inode: Arc<dyn Inode>, name: u64) -> SysResult {
    let name = xattr_name(name)?;
    Err(if handled(&name) {
        Errno::ENODATA
    } else {
        Errno::ENOTSUP
    })
}

/// `getxattr(2)`.
pub fn sys_getxattr(pathname: u64, name: u64, _value: u64, _size: usize) -> SysResult {
    get(path_inode(pathname, true)?, name)
}

/// `lgetxattr(2)`.
pub fn sys_lgetxattr(pathname: u64, name: u64, _value: u64, _size: usize) -> SysResult {
    get(path_inode(pathname, false)?, name)
}

/// `fgetxattr(2)`.
pub fn sys_fgetxattr(fd: i32, name: u64, _value: u64, _size: usize) -> SysResult {
    get(fdget(fd)?.inode.clone(), name)
}

/// `listxattr(2)`, `llistxattr(2)`: no names.
pub fn sys_listxattr(pathname: u64, _list: u64, _size: usize, follow: bool) -> SysResult {
    path_inode(pathname, follow)?;
    Ok(0)
}

/// `flistxattr(2)`: no names.
pub fn sys_flistxattr(fd: i32, _list: u64, _size: usize) -> SysResult {
    fdget(fd)?;
    Ok(0)
}

fn set(_inode: Arc<dyn Inode>, name: u64, flags: u32) -> SysResult {
    if flags & !(XATTR_CREATE | XATTR_REPLACE) != 0 {
        return Err(Errno::EINVAL);
    }
    xattr_name(name)?;
    Err(Errno::ENOTSUP)
}

/// `setxattr(2)` and `lsetxattr(2)`.
pub fn sys_setxattr(pathname: u64, name: u64, flags: u32, follow: bool) -> SysResult {
    set(path_inode(pathname, follow)?, name, flags)
}

/// `fsetxattr(2)`.
pub fn sys_fsetxattr(fd: i32, name: u64, flags: u32) -> SysResult {
    set(fdget(fd)?.inode.clone(), name, flags)
}

/// `removexattr(2)` and `lremovexattr(2)`.
pub fn sys_removexattr(pathname: u64, name: u64, follow: bool) -> SysResult {
    get(path_inode(pathname, follow)?, name)
}

/// `fremovexattr(2)`.
pub fn sys_fremovexattr(fd: i32, name: u64) -> SysResult {
    get(fdget(fd)?.inode.clone(), name)
}
