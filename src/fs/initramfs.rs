//! Unpacking the initramfs into the root filesystem (Linux: `init/initramfs.c`,
//! `populate_rootfs`).
//!
//! The archive comes from the loader (the DT's `/chosen` `linux,initrd-start` / `-end`, as
//! QEMU `-initrd` and the Pi's `initramfs` line set them) or, failing that, from the copy
//! built into the Image (Linux's `CONFIG_INITRAMFS_SOURCE`), so a bare `-kernel Image` and
//! the Pi need no separate file. It may be gzip-compressed. A malformed archive is reported
//! with the offset and the reason, and what was unpacked before it stays. Every entry gets
//! the mode, owner and group the archive gives it.

use alloc::string::String;
use alloc::sync::Arc;

use super::char_dev::mkdev;
use super::cpio::{gunzip, is_gzip, CpioEntry, CpioReader};
use super::inode::{mode, FileType, Inode};
use crate::kernel::errno::Errno;

/// The archive built into the Image (possibly empty), in init memory: freed after boot.
#[link_section = ".init.data"]
static BUILTIN_INITRAMFS: [u8; include_bytes!(concat!(env!("OUT_DIR"), "/initramfs.cpio")).len()] =
    *include_bytes!(concat!(env!("OUT_DIR"), "/initramfs.cpio"));

/// The largest uncompressed archive accepted.
const MAX_UNPACKED: usize = 512 << 20;

fn parent_dir(root: &Arc<dyn Inode>, path: &str) -> Result<(Arc<dyn Inode>, String), Errno> {
    let mut dir = root.clone();
    let mut parts = path
        .split('/')
        .filter(|p| !p.is_empty() && *p != ".")
        .peekable();
    while let Some(part) = parts.next() {
        if parts.peek().is_none() {
            return Ok((dir, String::from(part)));
        }
        if part == ".." {
            return Err(Errno::EINVAL);
        }
        dir = match dir.lookup(part) {
            Ok(d) => d,
            Err(Errno::ENOENT) => dir.create(part, mode::S_IFDIR | 0o755, 0)?,
            Err(e) => return Err(e),
        };
    }
    Err(Errno::EINVAL)
}

fn unpack_entry(root: &Arc<dyn Inode>, e: &CpioEntry<'_>) -> Result<(), Errno> {
    if e.name.is_empty() {
        return Ok(()); // "." is the root itself
    }
    let (dir, name) = parent_dir(root, e.name)?;
    let perm = e.mode & 0o7777;
    // Each entry gets the archive's owner and group, then its mode (Linux's `do_name`:
    // chown before chmod, so set-ID bits survive).
    let inode = if e.is_dir() {
        match dir.lookup(&name) {
            Ok(existing) if existing.file_type() == FileType::Directory => {
                existing.chmod(perm)?;
                existing
            }
            Ok(_) => return Err(Errno::EEXIST),
            Err(_) => dir.create(&name, mode::S_IFDIR | perm, 0)?,
        }
    } else if e.is_symlink() {
        let target = core::str::from_utf8(e.data).map_err(|_| Errno::EINVAL)?;
        let _ = dir.unlink(&name, false);
        dir.symlink(&name, target)?;
        dir.lookup(&name)?
    } else if e.is_reg() {
        let _ = dir.unlink(&name, false);
        let file = dir.create(&name, mode::S_IFREG | perm, 0)?;
        super::inode::kernel_write(&*file, 0, e.data)?;
        file
    } else if e.is_chrdev() || e.is_blkdev() || e.is_fifo() {
        let _ = dir.unlink(&name, false);
        let rdev = mkdev(e.rdev_major, e.rdev_minor);
        dir.create(&name, (e.mode & mode::S_IFMT) | perm, rdev)?
    } else {
        return Ok(()); // sockets and unknown types are skipped, as Linux does
    };
    if (e.uid, e.gid) != (0, 0) {
        inode.chown(e.uid, e.gid)?;
    }
    Ok(())
}

/// Unpack one archive (several may be concatenated) into `root`. Returns the number of
/// entries unpacked; a malformed archive is logged and unpacking stops there.
pub fn unpack_to_rootfs(root: &Arc<dyn Inode>, data: &[u8], what: &str) -> usize {
    let unpacked_buf;
    let archive = if is_gzip(data) {
        match gunzip(data, MAX_UNPACKED) {
            Ok(buf) => {
                unpacked_buf = buf;
                &unpacked_buf[..]
            }
            Err(e) => {
                log::error!("Initramfs unpacking failed: {what}: {e}");
                return 0;
            }
        }
    } else {
        data
    };
    let mut count = 0;
    for entry in CpioReader::new(archive) {
        match entry {
            Ok(e) => match unpack_entry(root, &e) {
                Ok(()) => count += 1,
                Err(err) => log::warn!("initramfs: cannot unpack {}: {err}", e.name),
            },
            Err(e) => {
                log::error!("Initramfs unpacking failed: {what}: {e}");
                break;
            }
        }
    }
    count
}

/// Linux's `populate_rootfs`: the loader's initrd if there is one, else the built-in archive.
pub fn populate_rootfs(root: &Arc<dyn Inode>) {
    if let Some((start, end)) = crate::arch::mm_init::initrd_range() {
        let va = crate::arch::memory::phys_to_virt(start);
        // SAFETY: memblock reserved the initrd's physical range, and the linear map covers all
        // RAM; nothing writes it.
        let data = unsafe { core::slice::from_raw_parts(va as *const u8, (end - start) as usize) };
        let n = unpack_to_rootfs(root, data, "initrd");
        log::info!("Trying to unpack rootfs image as initramfs... {n} entries");
        return;
    }
    let data: &[u8] = &BUILTIN_INITRAMFS;
    if !data.is_empty() {
        let n = unpack_to_rootfs(root, data, "built-in initramfs");
        log::info!("Unpacked the built-in initramfs: {n} entries");
    }
}

/// Make the root filesystem (a ramfs), fill it, and give the calling task its root and cwd
/// (Linux's `init_rootfs` + `init_mount_tree` + `populate_rootfs`).
pub fn rootfs_init() {
    let root = super::ramfs::RamInode::new_root(1);
    super::namei::set_root(root.clone(), "rootfs");
    populate_rootfs(&root);
    // Device nodes for the console and friends, if the archive brought none (Linux's default
    // initramfs holds /dev/console; devtmpfs fills /dev on other roots).
    let dev = match root.lookup("dev") {
        Ok(dev) => Some(dev),
        Err(_) => root.create("dev", mode::S_IFDIR | 0o755, 0).ok(),
    };
    if let Some(dev) = dev {
        super::devtmpfs::populate_dev(&dev);
    }
    let dentry = super::namei::root();
    let fs = super::file::FsStruct {
        root: dentry.clone(),
        cwd: dentry,
        umask: 0o022,
    };
    let task = crate::kernel::task::current();
    *task.fs.lock() = Some(Arc::new(crate::kernel::locking::SpinLock::new(fs)));
    if task.files.lock().is_none() {
        *task.files.lock() = Some(Arc::new(crate::kernel::locking::SpinLock::new(
            super::file::FilesStruct::new(),
        )));
    }
}

/// Linux's `console_on_rootfs`: open /dev/console as fds 0, 1 and 2 of the calling task.
pub fn console_on_rootfs() {
    let task = crate::kernel::task::current();
    let opened = task.fs().and_then(|fs| {
        let cwd = fs.lock().cwd.clone();
        let dentry = super::namei::path_lookup(
            &cwd,
            "/dev/console",
            super::namei::LookupFlags { follow: true },
        )?;
        super::file::File::open(dentry, super::file::flags::O_RDWR)
    });
    match (opened, task.files()) {
        (Ok(file), Ok(files)) => {
            let mut files = files.lock();
            for _ in 0..3 {
                let _ = files.alloc_fd(0, file.clone(), false);
            }
        }
        _ => log::warn!("Warning: unable to open an initial console."),
    }
}
