//! `mount(2)` and `umount2(2)` (Linux: `fs/namespace.c`): tmpfs/ramfs (with the `mode=`,
//! `uid=`, `gid=` options), devtmpfs, proc and sysfs, each a new root with its own device
//! number, put over a directory by `fs::namei::mount`.

use alloc::string::String;
use alloc::sync::Arc;

use super::devtmpfs::devtmpfs_root;
use super::inode::Inode;
use super::namei::{cwd, getname, path_lookup, strndup_user, LookupFlags};
use crate::kernel::errno::Errno;

type SysResult = Result<u64, Errno>;

/// `mount(2)`: tmpfs/ramfs, devtmpfs, proc (`fs::proc`) and sysfs (`fs::sysfs`).
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
        "sysfs" => (super::sysfs::sysfs_root(next_dev()), "sysfs"),
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

/// A device number for a new filesystem that has no device (Linux's `get_anon_bdev`).
pub fn next_dev() -> u64 {
    static NEXT: core::sync::atomic::AtomicU64 = core::sync::atomic::AtomicU64::new(16);
    NEXT.fetch_add(1, core::sync::atomic::Ordering::Relaxed)
}
