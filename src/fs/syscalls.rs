//! The filesystem system calls (Linux: `fs/open.c`, `fs/read_write.c`, `fs/namei.c`,
//! `fs/stat.c`, `fs/readdir.c`, `fs/fcntl.c`, `fs/ioctl.c`, `fs/pipe.c`, `fs/d_path.c`).
//!
//! Every user pointer goes through `copy_from_user` / `copy_to_user` / `strncpy_from_user`,
//! so a bad one is `EFAULT`. Descriptor tables and the cwd are locked only long enough to
//! take a reference; no lock is held across I/O, which may sleep. Permission checks come
//! where Linux makes them (`fs::permission`): open's access, create and remove in a
//! directory (with the sticky bit), chmod, chown, utimensat, truncate, chdir, access.

use alloc::string::String;
use alloc::sync::Arc;
use alloc::vec;
use alloc::vec::Vec;

use super::file::{flags, File};
use super::inode::{mode, FileType, Inode};
use super::namei::{path_lookup, path_lookup_cred, path_parent, Dentry, LookupFlags, PATH_MAX};
use super::permission::{self as perm, MAY_EXEC, MAY_READ, MAY_WRITE};
use crate::arch::uaccess::{copy_from_user, copy_to_user, strncpy_from_user};
use crate::kernel::cred::{current_cred, with_current_cred, Cred};
use crate::kernel::errno::Errno;
use crate::kernel::task::current;

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

type SysResult = Result<u64, Errno>;

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
fn may_create_in(parent: &Arc<Dentry>, name: &str, cred: &Cred) -> Result<(), Errno> {
    if parent.inode.lookup(name).is_ok() {
        return Err(Errno::EEXIST);
    }
    perm::may_create(parent.inode.attr(), cred)
}

/// Give a new inode its owner, group and set-group-ID bit (Linux's `inode_init_owner`).
fn init_owner(parent: &Arc<Dentry>, inode: &Arc<dyn Inode>, cred: &Cred) {
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

/// The file behind a descriptor (Linux's `fdget`).
pub fn fdget(fd: i32) -> Result<Arc<File>, Errno> {
    if fd < 0 {
        return Err(Errno::EBADF);
    }
    let files = current().files()?;
    let file = files.lock().get(fd as usize);
    file
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

fn cwd() -> Result<Arc<Dentry>, Errno> {
    Ok(current().fs()?.lock().cwd.clone())
}

/// Where a `*at` call's relative path starts.
fn at_base(dirfd: i32, path: &str) -> Result<Arc<Dentry>, Errno> {
    if path.starts_with('/') {
        // The walk starts again at the root: the base is not used, so skip the fs lock.
        return Ok(crate::fs::namei::root());
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

pub(crate) fn lookup_at(dirfd: i32, path: &str, follow: bool) -> Result<Arc<Dentry>, Errno> {
    let base = at_base(dirfd, path)?;
    path_lookup(&base, path, LookupFlags { follow })
}

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
    if oflags & flags::O_TRUNC != 0
        && ftype == FileType::Regular
        && oflags & flags::O_ACCMODE != flags::O_RDONLY
    {
        if dentry.inode.mapping().is_some_and(|m| m.is_text_busy()) {
            return Err(Errno::ETXTBSY);
        }
        dentry.inode.truncate(0)?;
        file_remove_privs(&dentry.inode);
    }
    let file = File::open(
        dentry,
        oflags & !(flags::O_CREAT | flags::O_EXCL | flags::O_TRUNC | flags::O_CLOEXEC),
    )?;
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

/// Linux's `struct stat` for arm64 (asm-generic `stat.h`): 128 bytes.
fn stat_bytes(inode: &Arc<dyn Inode>) -> [u8; 128] {
    let st = inode.stat();
    let mut b = [0u8; 128];
    let mut put = |at: usize, v: &[u8]| b[at..at + v.len()].copy_from_slice(v);
    put(0, &st.dev.to_le_bytes());
    put(8, &st.ino.to_le_bytes());
    put(16, &st.mode.to_le_bytes());
    put(20, &st.nlink.to_le_bytes());
    put(24, &st.uid.to_le_bytes());
    put(28, &st.gid.to_le_bytes());
    put(32, &st.rdev.to_le_bytes());
    put(48, &st.size.to_le_bytes());
    put(56, &4096i32.to_le_bytes());
    put(64, &st.size.div_ceil(512).to_le_bytes());
    for at in [72, 88, 104] {
        put(at, &st.mtime.to_le_bytes());
    }
    b
}

/// `newfstatat(2)`.
pub fn sys_newfstatat(dirfd: i32, pathname: u64, statbuf: u64, at_flags: u32) -> SysResult {
    let path = getname(pathname)?;
    let inode = if path.is_empty() {
        if at_flags & AT_EMPTY_PATH == 0 {
            return Err(Errno::ENOENT);
        }
        if dirfd == AT_FDCWD {
            cwd()?.inode.clone()
        } else {
            fdget(dirfd)?.inode.clone()
        }
    } else {
        lookup_at(dirfd, &path, at_flags & AT_SYMLINK_NOFOLLOW == 0)?
            .inode
            .clone()
    };
    copy_to_user(statbuf, &stat_bytes(&inode))?;
    Ok(0)
}

/// `fstat(2)`.
pub fn sys_fstat(fd: i32, statbuf: u64) -> SysResult {
    let file = fdget(fd)?;
    copy_to_user(statbuf, &stat_bytes(&file.inode))?;
    Ok(0)
}

/// `getdents64(2)`: `struct linux_dirent64` records, starting at the file offset (an index
/// into the directory, `.` and `..` first).
pub fn sys_getdents64(fd: i32, dirp: u64, count: usize) -> SysResult {
    let file = fdget(fd)?;
    if file.inode.file_type() != FileType::Directory {
        return Err(Errno::ENOTDIR);
    }
    let mut entries = vec![
        (
            String::from("."),
            file.inode.stat().ino,
            FileType::Directory,
        ),
        (
            String::from(".."),
            file.dentry
                .parent
                .as_ref()
                .map_or(file.inode.stat().ino, |p| p.inode.stat().ino),
            FileType::Directory,
        ),
    ];
    entries.extend(
        file.inode
            .readdir()?
            .into_iter()
            .map(|e| (e.name, e.ino, e.file_type)),
    );
    // Copying out may fault and sleep, so the position's spinlock is not held across it.
    let start = *file.pos.lock() as usize;
    let mut out = Vec::new();
    let mut index = start;
    while let Some((name, ino, ftype)) = entries.get(index) {
        let reclen = (19 + name.len() + 1).next_multiple_of(8);
        if out.len() + reclen > count {
            if out.is_empty() {
                return Err(Errno::EINVAL);
            }
            break;
        }
        out.extend_from_slice(&ino.to_le_bytes());
        out.extend_from_slice(&((index + 1) as i64).to_le_bytes());
        out.extend_from_slice(&(reclen as u16).to_le_bytes());
        out.push(ftype.dirent_type());
        out.extend_from_slice(name.as_bytes());
        out.resize(out.len() + reclen - 19 - name.len(), 0);
        index += 1;
    }
    copy_to_user(dirp, &out)?;
    *file.pos.lock() = index as u64;
    Ok(out.len() as u64)
}

/// `getcwd(2)`.
pub fn sys_getcwd(buf: u64, size: usize) -> SysResult {
    let path = cwd()?.path();
    if path.len() + 1 > size {
        return Err(Errno::ERANGE);
    }
    let mut bytes = path.into_bytes();
    bytes.push(0);
    copy_to_user(buf, &bytes)?;
    Ok(bytes.len() as u64)
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

/// `fcntl(2)` commands.
mod fcntl_cmd {
    pub const F_DUPFD: u32 = 0;
    pub const F_GETFD: u32 = 1;
    pub const F_SETFD: u32 = 2;
    pub const F_GETFL: u32 = 3;
    pub const F_SETFL: u32 = 4;
    pub const F_SETLK: u32 = 6;
    pub const F_SETLKW: u32 = 7;
    pub const F_DUPFD_CLOEXEC: u32 = 1030;
}

/// `fcntl(2)`.
pub fn sys_fcntl(fd: i32, cmd: u32, arg: u64) -> SysResult {
    use fcntl_cmd::*;
    let file = fdget(fd)?;
    let files = current().files()?;
    match cmd {
        F_DUPFD | F_DUPFD_CLOEXEC => {
            let newfd = files
                .lock()
                .alloc_fd(arg as usize, file, cmd == F_DUPFD_CLOEXEC)?;
            Ok(newfd as u64)
        }
        F_GETFD => Ok(files.lock().entry_mut(fd as usize)?.cloexec as u64),
        F_SETFD => {
            files.lock().entry_mut(fd as usize)?.cloexec = arg & 1 != 0;
            Ok(0)
        }
        F_GETFL => Ok(file.flags() as u64 | flags::O_LARGEFILE as u64),
        F_SETFL => {
            let settable = flags::O_APPEND | flags::O_NONBLOCK;
            let old = file.flags();
            file.flags.store(
                (old & !settable) | (arg as u32 & settable),
                core::sync::atomic::Ordering::Relaxed,
            );
            Ok(0)
        }
        F_SETLK | F_SETLKW => Ok(0), // one machine, no lock contention to arbitrate yet
        _ => Err(Errno::EINVAL),
    }
}

/// `ioctl(2)`.
pub fn sys_ioctl(fd: i32, cmd: u32, arg: u64) -> SysResult {
    let file = fdget(fd)?;
    file.inode.ioctl(cmd, arg).map(|v| v as u64)
}

/// `pipe2(2)`.
pub fn sys_pipe2(fds: u64, pflags: u32) -> SysResult {
    if pflags & !(flags::O_CLOEXEC | flags::O_NONBLOCK) != 0 {
        return Err(Errno::EINVAL);
    }
    let (read, write) = super::pipe::create_pipe(pflags);
    let files = current().files()?;
    let cloexec = pflags & flags::O_CLOEXEC != 0;
    let (rfd, wfd) = {
        let mut table = files.lock();
        let rfd = table.alloc_fd(0, read, cloexec)?;
        match table.alloc_fd(0, write, cloexec) {
            Ok(wfd) => (rfd, wfd),
            Err(e) => {
                let _ = table.close(rfd);
                return Err(e);
            }
        }
    };
    let mut out = [0u8; 8];
    out[..4].copy_from_slice(&(rfd as i32).to_le_bytes());
    out[4..].copy_from_slice(&(wfd as i32).to_le_bytes());
    if let Err(e) = copy_to_user(fds, &out) {
        let mut table = files.lock();
        let _ = table.close(rfd);
        let _ = table.close(wfd);
        return Err(e);
    }
    Ok(0)
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
        }
        Err(Errno::ENOENT) => {}
        Err(e) => return Err(e),
    }
    let moved = old_parent.inode.detach(old_name)?;
    if let Err(e) = new_parent.inode.attach(new_name, moved.clone()) {
        let _ = old_parent.inode.attach(old_name, moved);
        return Err(e);
    }
    Ok(0)
}

/// `readlinkat(2)`. `/proc/self/exe` is the one glibc asks for (ENOENT until proc is mounted).
pub fn sys_readlinkat(dirfd: i32, pathname: u64, buf: u64, bufsiz: usize) -> SysResult {
    let path = getname(pathname)?;
    let dentry = lookup_at(dirfd, &path, false)?;
    if dentry.inode.file_type() != FileType::Symlink {
        return Err(Errno::EINVAL);
    }
    let target = dentry.inode.readlink()?;
    let n = target.len().min(bufsiz);
    copy_to_user(buf, &target.as_bytes()[..n])?;
    Ok(n as u64)
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
    chmod_common(&fdget(fd)?.inode, mode_bits)
}

/// `fchmodat(2)`.
pub fn sys_fchmodat(dirfd: i32, pathname: u64, mode_bits: u32) -> SysResult {
    let path = getname(pathname)?;
    chmod_common(&lookup_at(dirfd, &path, true)?.inode, mode_bits)
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
    let inode = if path.is_empty() && cflags & AT_EMPTY_PATH != 0 {
        if dirfd == AT_FDCWD {
            cwd()?.inode.clone()
        } else {
            fdget(dirfd)?.inode.clone()
        }
    } else {
        lookup_at(dirfd, &path, cflags & AT_SYMLINK_NOFOLLOW == 0)?
            .inode
            .clone()
    };
    chown_common(&inode, uid, gid)
}

/// `fchown(2)`.
pub fn sys_fchown(fd: i32, uid: u32, gid: u32) -> SysResult {
    chown_common(&fdget(fd)?.inode, uid, gid)
}

/// `fsync(2)`: ramfs has nothing to write back; only the descriptor is checked.
pub fn sys_fsync(fd: i32) -> SysResult {
    fdget(fd)?;
    Ok(0)
}

/// `utimensat(2)`: Linux's rules, then the times. Setting times to now needs ownership,
/// CAP_FOWNER or write permission (EACCES); setting explicit times needs ownership or
/// CAP_FOWNER (EPERM). Cradle keeps one time per inode, the modification time, so that is
/// what changes (`UTIME_NOW`: now, `UTIME_OMIT`: left alone); the access time is checked
/// and dropped. A `tv_nsec` outside `0..10^9` that is neither is EINVAL.
pub fn sys_utimensat(dirfd: i32, pathname: u64, times: u64, uflags: u32) -> SysResult {
    const UTIME_NOW: i64 = (1 << 30) - 1;
    const UTIME_OMIT: i64 = (1 << 30) - 2;
    let mut nsec = [UTIME_NOW; 2];
    let mut mtime_sec = 0;
    if times != 0 {
        let mut raw = [0u8; 32];
        copy_from_user(&mut raw, times)?;
        for (i, n) in nsec.iter_mut().enumerate() {
            *n = i64::from_le_bytes(raw[i * 16 + 8..i * 16 + 16].try_into().unwrap_or([0; 8]));
            if *n != UTIME_NOW && *n != UTIME_OMIT && !(0..1_000_000_000).contains(n) {
                return Err(Errno::EINVAL);
            }
        }
        mtime_sec = i64::from_le_bytes(raw[16..24].try_into().unwrap_or([0; 8]));
    }
    let inode = if pathname == 0 {
        fdget(dirfd)?.inode.clone()
    } else {
        let path = getname(pathname)?;
        lookup_at(dirfd, &path, uflags & AT_SYMLINK_NOFOLLOW == 0)?
            .inode
            .clone()
    };
    if nsec == [UTIME_OMIT; 2] {
        return Ok(0);
    }
    let cred = current_cred();
    let attr = inode.attr();
    if !perm::owner_or_capable(attr, &cred) {
        if nsec.iter().all(|&n| n == UTIME_NOW || n == UTIME_OMIT) {
            perm::generic_permission(attr, MAY_WRITE, &cred)?;
        } else {
            return Err(Errno::EPERM);
        }
    }
    match nsec[1] {
        UTIME_OMIT => Ok(0),
        UTIME_NOW => inode
            .set_mtime(crate::kernel::time::realtime_seconds())
            .map(|_| 0),
        _ => inode.set_mtime(mtime_sec).map(|_| 0),
    }
}

/// `mount(2)`: tmpfs/ramfs, devtmpfs, proc (`fs::proc`) and sysfs (an empty directory for
/// now).
pub fn sys_mount(source: u64, target: u64, fstype: u64, _mflags: u64, data: u64) -> SysResult {
    if !crate::kernel::capability::capable(crate::kernel::capability::CAP_SYS_ADMIN) {
        return Err(Errno::EPERM);
    }
    let target = getname(target)?;
    let fstype = getname(fstype)?;
    let source = if source != 0 {
        getname(source)?
    } else {
        String::from("none")
    };
    let at = path_lookup(&cwd()?, &target, LookupFlags { follow: true })?;
    let (root, name): (Arc<dyn Inode>, &'static str) = match fstype.as_str() {
        "tmpfs" | "ramfs" => {
            let root = super::ramfs::RamInode::new_root(next_dev());
            tmpfs_root_options(&root, fstype == "tmpfs", data)?;
            (root, "tmpfs")
        }
        "devtmpfs" => (devtmpfs_root(), "devtmpfs"),
        "proc" => (super::proc::proc_root(), "proc"),
        "sysfs" => (super::ramfs::RamInode::new_root(next_dev()), "sysfs"),
        _ => return Err(Errno::ENODEV),
    };
    super::namei::mount(&at, root, name, &source)?;
    Ok(0)
}

/// A new tmpfs root's mode, owner and group: `mode=`, `uid=` and `gid=` of the mount's
/// data string (Linux's `shmem_parse_one`); a tmpfs root is 1777 by default, as Linux's
/// `shmem_default_max_*` leave it, a ramfs root 0755.
fn tmpfs_root_options(root: &Arc<dyn Inode>, tmpfs: bool, data: u64) -> Result<(), Errno> {
    let mut perm = if tmpfs { 0o1777 } else { 0o755 };
    let (mut uid, mut gid) = (0, 0);
    if data != 0 {
        let bytes = match strndup_user(data, 4096) {
            Ok(bytes) => bytes,
            Err(Errno::ENAMETOOLONG) => return Err(Errno::EINVAL),
            Err(e) => return Err(e),
        };
        for option in bytes.split(|&b| b == b',') {
            let text = core::str::from_utf8(option).map_err(|_| Errno::EINVAL)?;
            let (key, value) = text.split_once('=').unwrap_or((text, ""));
            match key {
                "mode" => perm = u32::from_str_radix(value, 8).map_err(|_| Errno::EINVAL)? & 0o7777,
                "uid" => uid = value.parse().map_err(|_| Errno::EINVAL)?,
                "gid" => gid = value.parse().map_err(|_| Errno::EINVAL)?,
                _ => {} // size=, nr_inodes=, ...: no limits to set here
            }
        }
    }
    root.chmod(perm)?;
    root.chown(uid, gid)
}

/// `umount2(2)`.
pub fn sys_umount2(target: u64, _uflags: u32) -> SysResult {
    if !crate::kernel::capability::capable(crate::kernel::capability::CAP_SYS_ADMIN) {
        return Err(Errno::EPERM);
    }
    let target = getname(target)?;
    let at = path_lookup(&cwd()?, &target, LookupFlags { follow: true })?;
    super::namei::umount(&at)?;
    Ok(0)
}

fn next_dev() -> u64 {
    static NEXT: core::sync::atomic::AtomicU64 = core::sync::atomic::AtomicU64::new(16);
    NEXT.fetch_add(1, core::sync::atomic::Ordering::Relaxed)
}

/// A fresh devtmpfs: the device nodes of every registered driver (Linux's `devtmpfs`).
pub fn devtmpfs_root() -> Arc<dyn Inode> {
    let root = super::ramfs::RamInode::new_root(next_dev());
    populate_dev(&root);
    root
}

/// Create the standard device nodes in `dir` (those missing).
pub fn populate_dev(dir: &Arc<dyn Inode>) {
    use super::char_dev::mkdev;
    for (name, major, minor, perm) in [
        ("null", 1, 3, 0o666),
        ("zero", 1, 5, 0o666),
        ("full", 1, 7, 0o666),
        ("random", 1, 8, 0o666),
        ("urandom", 1, 9, 0o666),
        ("tty", 5, 0, 0o666),
        ("console", 5, 1, 0o600),
        ("ttyAMA0", 204, 64, 0o660),
        ("ttyS1", 4, 65, 0o660),
    ] {
        if dir.lookup(name).is_err() {
            let _ = dir.create(name, mode::S_IFCHR | perm, mkdev(major, minor));
        }
    }
}

/// `poll` events (Linux's `include/uapi/asm-generic/poll.h`).
mod pollbits {
    pub const POLLIN: i16 = 0x001;
    pub const POLLOUT: i16 = 0x004;
    pub const POLLHUP: i16 = 0x010;
    pub const POLLNVAL: i16 = 0x020;
}

/// What a descriptor is ready for, of `events`.
fn poll_one(fd: i32, events: i16) -> i16 {
    use pollbits::*;
    if fd < 0 {
        return 0;
    }
    let Ok(file) = fdget(fd) else { return POLLNVAL };
    let mut revents = 0;
    if events & POLLIN != 0 && file.readable() && file.inode.poll_read_ready() {
        revents |= POLLIN;
    }
    if events & POLLOUT != 0 && file.writable() && file.inode.poll_write_ready() {
        revents |= POLLOUT;
    }
    if file.inode.file_type() == FileType::Fifo
        && file.readable()
        && file.inode.poll_read_ready()
        && revents & POLLIN == 0
    {
        revents |= POLLHUP;
    }
    revents
}

fn read_timeout(ptr: u64) -> Result<Option<u64>, Errno> {
    if ptr == 0 {
        return Ok(None);
    }
    let mut ts = [0u8; 16];
    copy_from_user(&mut ts, ptr)?;
    let sec = i64::from_le_bytes(ts[..8].try_into().unwrap_or([0; 8]));
    let nsec = i64::from_le_bytes(ts[8..].try_into().unwrap_or([0; 8]));
    if sec < 0 || !(0..1_000_000_000).contains(&nsec) {
        return Err(Errno::EINVAL);
    }
    let ns = (sec as u64)
        .saturating_mul(1_000_000_000)
        .saturating_add(nsec as u64);
    Ok(Some(crate::kernel::time::ktime_get_ns().saturating_add(ns)))
}

/// `ppoll(2)` (the signal mask argument is not applied yet).
pub fn sys_ppoll(fds: u64, nfds: usize, tmo: u64, _sigmask: u64, _sigsetsize: usize) -> SysResult {
    if nfds > NR_OPEN_LIMIT {
        return Err(Errno::EINVAL);
    }
    let mut raw = vec![0u8; nfds * 8];
    copy_from_user(&mut raw, fds)?;
    let deadline = read_timeout(tmo)?;
    let n = super::select::poll_wait(deadline, || {
        let mut count = 0;
        for entry in raw.chunks_mut(8) {
            let fd = i32::from_le_bytes(entry[0..4].try_into().unwrap_or([0; 4]));
            let events = i16::from_le_bytes([entry[4], entry[5]]);
            let revents = poll_one(fd, events);
            entry[6..8].copy_from_slice(&revents.to_le_bytes());
            if revents != 0 {
                count += 1;
            }
        }
        Ok(count)
    })?;
    copy_to_user(fds, &raw)?;
    Ok(n as u64)
}

const NR_OPEN_LIMIT: usize = super::file::NR_OPEN_DEFAULT;

/// `pselect6(2)`: read, write and except sets of `nfds` bits (the signal mask is not
/// applied yet).
pub fn sys_pselect6(
    nfds: usize,
    readfds: u64,
    writefds: u64,
    exceptfds: u64,
    tmo: u64,
    _sig: u64,
) -> SysResult {
    if nfds > NR_OPEN_LIMIT {
        return Err(Errno::EINVAL);
    }
    let bytes = nfds.div_ceil(64) * 8;
    let load = |ptr: u64| -> Result<Vec<u8>, Errno> {
        let mut v = vec![0u8; bytes];
        if ptr != 0 {
            copy_from_user(&mut v, ptr)?;
        }
        Ok(v)
    };
    let (rin, win) = (load(readfds)?, load(writefds)?);
    let deadline = read_timeout(tmo)?;
    let mut rout = vec![0u8; bytes];
    let mut wout = vec![0u8; bytes];
    let n = super::select::poll_wait(deadline, || {
        let mut count = 0;
        rout.fill(0);
        wout.fill(0);
        for fd in 0..nfds {
            let (byte, bit) = (fd / 8, 1u8 << (fd % 8));
            let r = rin[byte] & bit != 0;
            let w = win[byte] & bit != 0;
            if !r && !w {
                continue;
            }
            let revents = poll_one(
                fd as i32,
                (if r { pollbits::POLLIN } else { 0 }) | (if w { pollbits::POLLOUT } else { 0 }),
            );
            if revents & pollbits::POLLNVAL != 0 {
                return Err(Errno::EBADF);
            }
            if r && revents & (pollbits::POLLIN | pollbits::POLLHUP) != 0 {
                rout[byte] |= bit;
                count += 1;
            }
            if w && revents & pollbits::POLLOUT != 0 {
                wout[byte] |= bit;
                count += 1;
            }
        }
        Ok(count)
    })?;
    if readfds != 0 {
        copy_to_user(readfds, &rout)?;
    }
    if writefds != 0 {
        copy_to_user(writefds, &wout)?;
    }
    if exceptfds != 0 {
        copy_to_user(exceptfds, &vec![0u8; bytes])?;
    }
    Ok(n as u64)
}
