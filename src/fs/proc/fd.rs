//! The text of `/proc/<pid>/fdinfo/<n>` (Linux: `fs/proc/fd.c`, `seq_show`): the file's
//! position, its flags in octal (O_CLOEXEC when the descriptor has it), its mount's ID and
//! its inode number, then what the object itself adds (Linux's `show_fdinfo`: an eventfd's
//! count, a timerfd's clock and times, a signalfd's mask, an epoll's items, inotify's
//! watches).
//!
//! The mount ID is that of `/proc/<pid>/mountinfo` for a file opened by name; a pipe or an
//! anonymous-inode file lives on none of those mounts (Linux's pipefs and anon_inodefs are
//! internal), and reports 0.

use alloc::string::String;
use core::fmt::Write;

use crate::fs::file::{flags, File};

/// The mount `file` was opened on: the first mount (in `mountinfo` order, IDs from 1) whose
/// root is the file's dentry or one of its ancestors.
fn mnt_id(file: &File) -> usize {
    let mounts = crate::fs::namei::mounts();
    let mut dentry = Some(file.dentry.clone());
    while let Some(d) = dentry {
        if let Some(index) = mounts
            .iter()
            .rposition(|m| alloc::sync::Arc::ptr_eq(&m.root, &d.inode))
        {
            return index + 1;
        }
        dentry = d.parent.clone();
    }
    0
}

/// `/proc/<pid>/fdinfo/<n>` of `file`, open under a descriptor with `cloexec`.
pub fn fdinfo(file: &File, cloexec: bool) -> String {
    let mut s = String::new();
    let mut fflags = file.flags() & !flags::O_CLOEXEC;
    if cloexec {
        fflags |= flags::O_CLOEXEC;
    }
    let _ = write!(
        s,
        "pos:\t{}\nflags:\t0{:o}\nmnt_id:\t{}\nino:\t{}\n",
        *file.pos.lock(),
        fflags,
        mnt_id(file),
        file.inode.stat().ino
    );
    file.inode.show_fdinfo(&mut s);
    s
}
