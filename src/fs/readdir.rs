//! `getdents64(2)`: a directory's entries as `struct linux_dirent64` records (Linux:
//! `fs/readdir.c`).

use alloc::string::String;
use alloc::vec;
use alloc::vec::Vec;

use super::file::fdget;
use super::inode::FileType;
use crate::arch::uaccess::copy_to_user;
use crate::kernel::errno::Errno;

type SysResult = Result<u64, Errno>;

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
