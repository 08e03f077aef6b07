//! Opening and closing files, the working directory, and changing a file's size, mode and
//! owner: the system calls (Linux: `fs/open.c`).
//!
//! Permission checks come where Linux makes them (`fs::permission`): open's access and
//! create, chdir's search, truncate's write, chmod and chown's ownership, and access(2)'s
//! check with the real IDs (`access_override_creds`).

use alloc::sync::Arc;

use super::file::{fdget, flags, File};
use super::inode::{file_remove_privs, init_owner, mode, FileType, Inode};
use super::namei::{
    at_base, cwd, getname, inode_permission, lookup_at, path_lookup, path_lookup_cred, path_parent,
    Dentry, LookupFlags, AT_EMPTY_PATH, AT_FDCWD, AT_SYMLINK_NOFOLLOW,
};
use super::permission::{self as perm, MAY_EXEC, MAY_READ, MAY_WRITE};
use crate::kernel::cred::{current_cred, Cred};
use crate::kernel::errno::Errno;
use crate::kernel::task::current;

type SysResult = Result<u64, Errno>;

/// `openat(2)`.
pub fn sys_openat(dirfd: i32, pathname: u64, oflags: u32, mode_bits: u32) -> SysResult {
    let path = getname(pathname)?;
    let base = at_base(dirfd, &path)?;
    let follow = oflags & flags::O_NOFOLLOW == 0;
    let mut created = false;
    let dentry = match path_lookup(&base, &path, LookupFlags { follow }) {
        Ok(d) => {
            if oflags & flags::O_CREAT != 0 && oflags & flags::O_EXCL != 0 {
                return Err(Errno::EEXIST);
            }
            d
        }
        Err(Errno::ENOENT) if oflags & flags::O_CREAT != 0 => {
            let (parent, name) = path_parent(&base, &path)?;
            let cred = current_cred();
            perm::may_create(parent.inode.attr(), &cred)?;
            let umask = current().fs()?.lock().umask;
            let inode =
                parent
                    .inode
                    .create(name, mode::S_IFREG | (mode_bits & 0o7777 & !umask), 0)?;
            init_owner(&parent, &inode, &cred);
            crate::fs::notify::fsnotify_create(&parent.inode, name, false);
            created = true;
            Arc::new(Dentry {
                name: crate::fs::namei::DentryName::new(name),
                parent: Some(parent),
                inode,
            })
        }
        Err(e) => return Err(e),
    };
    let ftype = dentry.inode.file_type();
    if ftype == FileType::Symlink && !follow {
        return Err(Errno::ELOOP);
    }
    if oflags & flags::O_DIRECTORY != 0 && ftype != FileType::Directory {
        return Err(Errno::ENOTDIR);
    }
    if ftype == FileType::Directory && oflags & flags::O_ACCMODE != flags::O_RDONLY {
        return Err(Errno::EISDIR);
    }
    // may_open: a file the call did not create is checked for the access asked for.
    if !created && oflags & flags::O_PATH == 0 {
        let mut mask = match oflags & flags::O_ACCMODE {
            flags::O_RDONLY => MAY_READ,
            flags::O_WRONLY => MAY_WRITE,
            _ => MAY_READ | MAY_WRITE,
        };
        if oflags & flags::O_TRUNC != 0 {
            mask |= MAY_WRITE;
        }
        inode_permission(&dentry.inode, mask)?;
    }
    // vfs_open before handle_truncate, as Linux's do_open: a file whose open fails (a
    // read-only sysfs attribute, a busy executable) is left as it was.
    // A socket's inode has no open (Linux's `no_open_fops`): ENXIO after the permission
    // check; O_PATH does not open.
    if ftype == FileType::Socket && oflags & flags::O_PATH == 0 {
        return Err(Errno::ENXIO);
    }
    let truncate = oflags & flags::O_TRUNC != 0
        && ftype == FileType::Regular
        && oflags & flags::O_ACCMODE != flags::O_RDONLY;
    if truncate && dentry.inode.mapping().is_some_and(|m| m.is_text_busy()) {
        return Err(Errno::ETXTBSY);
    }
    let file = File::open(
        dentry.clone(),
        oflags & !(flags::O_CREAT | flags::O_EXCL | flags::O_TRUNC | flags::O_CLOEXEC),
    )?;
    if truncate {
        dentry.inode.truncate(0)?;
        file_remove_privs(&dentry.inode);
        crate::fs::notify::fsnotify_modify(&dentry);
    }
    crate::fs::notify::fsnotify_open(&file);
    let files = current().files()?;
    let fd = files
        .lock()
        .alloc_fd(0, file, oflags & flags::O_CLOEXEC != 0)?;
    Ok(fd as u64)
}

/// `close(2)`.
pub fn sys_close(fd: i32) -> SysResult {
    if fd < 0 {
        return Err(Errno::EBADF);
    }
    let files = current().files()?;
    let file = files.lock().close(fd as usize)?;
    drop(file); // outside the table's lock: closing a pipe end wakes its peer
    Ok(0)
}

/// `fallocate(2)` (Linux's `ksys_fallocate` → `vfs_fallocate`), its checks in Linux's
/// order: EBADF (no such descriptor), EINVAL (negative offset, length not positive, bad
/// mode combinations), EOPNOTSUPP (unknown mode bits, PUNCH_HOLE with ZERO_RANGE or
/// without KEEP_SIZE), EBADF (not open for writing), ESPIPE (a pipe), EISDIR, ENODEV (not
/// a regular file), EFBIG (past the largest offset), then the file system's answer.
pub fn sys_fallocate(fd: i32, mode: u32, offset: i64, len: i64) -> SysResult {
    const FALLOC_FL_KEEP_SIZE: u32 = 0x01;
    const FALLOC_FL_PUNCH_HOLE: u32 = 0x02;
    const FALLOC_FL_COLLAPSE_RANGE: u32 = 0x08;
    const FALLOC_FL_ZERO_RANGE: u32 = 0x10;
    const FALLOC_FL_INSERT_RANGE: u32 = 0x20;
    const FALLOC_FL_UNSHARE_RANGE: u32 = 0x40;
    const FALLOC_FL_SUPPORTED_MASK: u32 = 0x7f;
    let file = fdget(fd)?;
    if offset < 0 || len <= 0 {
        return Err(Errno::EINVAL);
    }
    if mode & !FALLOC_FL_SUPPORTED_MASK != 0 {
        return Err(Errno::ENOTSUP);
    }
    let punch_zero = FALLOC_FL_PUNCH_HOLE | FALLOC_FL_ZERO_RANGE;
    if mode & punch_zero == punch_zero
        || (mode & FALLOC_FL_PUNCH_HOLE != 0 && mode & FALLOC_FL_KEEP_SIZE == 0)
    {
        return Err(Errno::ENOTSUP);
    }
    if (mode & FALLOC_FL_COLLAPSE_RANGE != 0 && mode & !FALLOC_FL_COLLAPSE_RANGE != 0)
        || (mode & FALLOC_FL_INSERT_RANGE != 0 && mode & !FALLOC_FL_INSERT_RANGE != 0)
        || (mode & FALLOC_FL_UNSHARE_RANGE != 0
            && mode & !(FALLOC_FL_UNSHARE_RANGE | FALLOC_FL_KEEP_SIZE) != 0)
    {
        return Err(Errno::EINVAL);
    }
    if !file.writable() {
        return Err(Errno::EBADF);
    }
    match file.inode.file_type() {
        FileType::Fifo => return Err(Errno::ESPIPE),
        FileType::Directory => return Err(Errno::EISDIR),
        FileType::Regular | FileType::BlockDev => {}
        _ => return Err(Errno::ENODEV),
    }
    if offset.checked_add(len).is_none() {
        return Err(Errno::EFBIG);
    }
    file.inode.fallocate(mode, offset as u64, len as u64)?;
    crate::fs::notify::fsnotify_modify(&file.dentry);
    Ok(0)
}

/// `close_range` flags (`include/uapi/linux/close_range.h`).
const CLOSE_RANGE_UNSHARE: u32 = 1 << 1;
const CLOSE_RANGE_CLOEXEC: u32 = 1 << 2;

/// `close_range(2)` (Linux's `__close_range` in `fs/file.c`): close, or with
/// `CLOSE_RANGE_CLOEXEC` mark close-on-exec, every open descriptor from `fd` to `max_fd`;
/// `CLOSE_RANGE_UNSHARE` first gives the caller its own copy of a shared table. EINVAL for
/// unknown flags or `fd > max_fd`. Each descriptor is closed as `close(2)` closes it.
pub fn sys_close_range(fd: u32, max_fd: u32, flags: u32) -> SysResult {
    if flags & !(CLOSE_RANGE_UNSHARE | CLOSE_RANGE_CLOEXEC) != 0 || fd > max_fd {
        return Err(Errno::EINVAL);
    }
    let task = current();
    if flags & CLOSE_RANGE_UNSHARE != 0 {
        let files = task.files()?;
        // The task's reference and this one: any more and another task shares it.
        if Arc::strong_count(&files) > 2 {
            let copy = files.lock().clone();
            *task.files.lock() = Some(Arc::new(crate::kernel::locking::SpinLock::new(copy)));
        }
    }
    let files = task.files()?;
    let open: alloc::vec::Vec<usize> = files
        .lock()
        .open_fds()
        .map(|(n, _)| n)
        .filter(|&n| n >= fd as usize && n <= max_fd as usize)
        .collect();
    for n in open {
        if flags & CLOSE_RANGE_CLOEXEC != 0 {
            if let Ok(entry) = files.lock().entry_mut(n) {
                entry.cloexec = true;
            }
        } else {
            let _ = sys_close(n as i32); // EBADF: another thread closed it meanwhile
        }
    }
    Ok(0)
}

/// `chroot(2)` (Linux's, in `fs/open.c`): make the directory `filename` names the task's
/// root, where its absolute paths start and `..` stops (shared with the tasks that share
/// its `fs_struct`). ENOENT/ENOTDIR/EFAULT from the lookup, EACCES without search
/// permission on it, then EPERM without CAP_SYS_CHROOT. The working directory stays.
pub fn sys_chroot(filename: u64) -> SysResult {
    let path = getname(filename)?;
    let dentry = path_lookup(&cwd()?, &path, LookupFlags { follow: true })?;
    if dentry.inode.file_type() != FileType::Directory {
        return Err(Errno::ENOTDIR);
    }
    inode_permission(&dentry.inode, MAY_EXEC)?;
    if !crate::kernel::capability::capable(crate::kernel::capability::CAP_SYS_CHROOT) {
        return Err(Errno::EPERM);
    }
    current().fs()?.lock().root = dentry;
    Ok(0)
}

/// `chdir(2)`.
pub fn sys_chdir(pathname: u64) -> SysResult {
    let path = getname(pathname)?;
    let dentry = path_lookup(&cwd()?, &path, LookupFlags { follow: true })?;
    if dentry.inode.file_type() != FileType::Directory {
        return Err(Errno::ENOTDIR);
    }
    inode_permission(&dentry.inode, MAY_EXEC)?;
    current().fs()?.lock().cwd = dentry;
    Ok(0)
}

/// `fchdir(2)`.
pub fn sys_fchdir(fd: i32) -> SysResult {
    let file = fdget(fd)?;
    if file.inode.file_type() != FileType::Directory {
        return Err(Errno::ENOTDIR);
    }
    inode_permission(&file.inode, MAY_EXEC)?;
    current().fs()?.lock().cwd = file.dentry.clone();
    Ok(0)
}

/// `faccessat` without AT_EACCESS: check with the real user and group IDs.
pub const AT_EACCESS: u32 = 0x200;

/// The credentials `access` checks with (Linux's `access_override_creds`): the real IDs
/// as the filesystem IDs, and root's capabilities only for a real root.
fn access_cred(cred: &Cred) -> Cred {
    let mut c = cred.clone();
    c.fsuid = c.uid;
    c.fsgid = c.gid;
    c.cap_effective = if c.uid == 0 {
        c.cap_permitted
    } else {
        crate::kernel::capability::CapSet::EMPTY
    };
    c
}

/// `faccessat(2)` / `faccessat2(2)` (Linux's `do_faccessat`): the walk and the check use
/// the real IDs unless AT_EACCESS.
pub fn sys_faccessat(dirfd: i32, pathname: u64, amode: u32, aflags: u32) -> SysResult {
    if amode & !7 != 0 {
        return Err(Errno::EINVAL);
    }
    if aflags & !(AT_EACCESS | AT_SYMLINK_NOFOLLOW | AT_EMPTY_PATH) != 0 {
        return Err(Errno::EINVAL);
    }
    let path = getname(pathname)?;
    let current = current_cred();
    let cred = if aflags & AT_EACCESS != 0 {
        (*current).clone()
    } else {
        access_cred(&current)
    };
    let inode = if path.is_empty() {
        if aflags & AT_EMPTY_PATH == 0 {
            return Err(Errno::ENOENT);
        }
        if dirfd == AT_FDCWD {
            cwd()?.inode.clone()
        } else {
            fdget(dirfd)?.inode.clone()
        }
    } else {
        let base = at_base(dirfd, &path)?;
        let follow = aflags & AT_SYMLINK_NOFOLLOW == 0;
        path_lookup_cred(&base, &path, LookupFlags { follow }, &cred)?
            .inode
            .clone()
    };
    if amode == 0 {
        return Ok(0);
    }
    // MAY_EXEC 1, MAY_WRITE 2, MAY_READ 4: the same bits as X_OK, W_OK, R_OK.
    perm::generic_permission(inode.attr(), amode, &cred)?;
    Ok(0)
}

/// `truncate(2)`.
pub fn sys_truncate(pathname: u64, length: u64) -> SysResult {
    let path = getname(pathname)?;
    let dentry = path_lookup(&cwd()?, &path, LookupFlags { follow: true })?;
    match dentry.inode.file_type() {
        FileType::Directory => return Err(Errno::EISDIR),
        FileType::Regular => {}
        _ => return Err(Errno::EINVAL),
    }
    inode_permission(&dentry.inode, MAY_WRITE)?;
    // Linux's do_truncate holds write access: a running program's file is busy.
    let mapping = dentry.inode.mapping();
    if let Some(mapping) = &mapping {
        mapping.get_write_access()?;
    }
    let result = dentry.inode.truncate(length);
    if let Some(mapping) = &mapping {
        mapping.put_write_access();
    }
    result?;
    file_remove_privs(&dentry.inode);
    crate::fs::notify::fsnotify_modify(&dentry);
    Ok(0)
}

/// `ftruncate(2)`.
pub fn sys_ftruncate(fd: i32, length: u64) -> SysResult {
    let file = fdget(fd)?;
    if !file.writable() {
        return Err(Errno::EINVAL);
    }
    file.inode.truncate(length)?;
    file_remove_privs(&file.inode);
    crate::fs::notify::fsnotify_modify(&file.dentry);
    Ok(0)
}

/// Change the permission bits of `inode` (Linux's `chmod_common`): the owner or
/// CAP_FOWNER only; S_ISGID dropped outside the file's group.
fn chmod_common(inode: &Arc<dyn Inode>, mode_bits: u32) -> SysResult {
    let mode = perm::chmod_mode(inode.attr(), mode_bits, &current_cred())?;
    inode.chmod(mode)?;
    Ok(0)
}

/// `fchmod(2)`.
pub fn sys_fchmod(fd: i32, mode_bits: u32) -> SysResult {
    let file = fdget(fd)?;
    chmod_common(&file.inode, mode_bits)?;
    crate::fs::notify::fsnotify_attrib(&file.dentry);
    Ok(0)
}

/// `fchmodat(2)`.
pub fn sys_fchmodat(dirfd: i32, pathname: u64, mode_bits: u32) -> SysResult {
    let path = getname(pathname)?;
    let dentry = lookup_at(dirfd, &path, true)?;
    chmod_common(&dentry.inode, mode_bits)?;
    crate::fs::notify::fsnotify_attrib(&dentry);
    Ok(0)
}

/// Change the owner and group of `inode` (Linux's `chown_common`): CAP_CHOWN, or the
/// owner moving it to one of its groups; the set-ID bits of a non-directory are cleared.
fn chown_common(inode: &Arc<dyn Inode>, uid: u32, gid: u32) -> SysResult {
    let attr = inode.attr();
    let new = perm::chown_attr(attr, uid, gid, &current_cred())?;
    inode.chown(new.uid, new.gid)?;
    if new.mode != attr.mode {
        inode.chmod(new.mode)?;
    }
    Ok(0)
}

/// `fchownat(2)`.
pub fn sys_fchownat(dirfd: i32, pathname: u64, uid: u32, gid: u32, cflags: u32) -> SysResult {
    if cflags & !(AT_SYMLINK_NOFOLLOW | AT_EMPTY_PATH) != 0 {
        return Err(Errno::EINVAL);
    }
    let path = getname(pathname)?;
    let dentry = if path.is_empty() && cflags & AT_EMPTY_PATH != 0 {
        if dirfd == AT_FDCWD {
            cwd()?
        } else {
            fdget(dirfd)?.dentry.clone()
        }
    } else {
        lookup_at(dirfd, &path, cflags & AT_SYMLINK_NOFOLLOW == 0)?
    };
    chown_common(&dentry.inode, uid, gid)?;
    crate::fs::notify::fsnotify_attrib(&dentry);
    Ok(0)
}

/// `fchown(2)`.
pub fn sys_fchown(fd: i32, uid: u32, gid: u32) -> SysResult {
    let file = fdget(fd)?;
    chown_common(&file.inode, uid, gid)?;
    crate::fs::notify::fsnotify_attrib(&file.dentry);
    Ok(0)
}
