//! devtmpfs (Linux: `drivers/base/devtmpfs.c`): a ramfs holding the device nodes of the
//! character drivers Cradle has (`null`, `zero`, `full`, `random`, `urandom`, `tty`,
//! `console`, the serial ports).

use alloc::sync::Arc;

use super::inode::{mode, Inode};
use super::namespace::next_dev;

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
