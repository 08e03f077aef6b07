//! `/proc/sys`: the kernel's tunables as files (Linux: `fs/proc/proc_sysctl.c`,
//! `kernel/sysctl.c`, `kernel/utsname_sysctl.c`).
//!
//! Only what programs read is there: `kernel/osrelease`, `ostype`, `version`, `hostname`,
//! `domainname` (uname's fields, as `utsname_sysctl.c` has them), `pid_max` (procps sizes
//! its PID columns by it), `threads-max`, `ngroups_max`; `vm/overcommit_memory` and
//! `vm/max_map_count`. All are read-only but `kernel/randomize_va_space` (mode 0644, an
//! integer 0 to 2, as Linux's `proc_dointvec_minmax`).

use alloc::format;
use alloc::string::String;
use alloc::sync::Arc;
use alloc::vec::Vec;
use core::any::Any;

use super::generic::{dir_stat, ProcFile};
use crate::fs::inode::{DirEntry, FileType, Inode, Stat};
use crate::kernel::errno::Errno;

/// One entry of a `/proc/sys` directory.
#[derive(Clone, Copy)]
pub enum Node {
    /// A file: its contents.
    File(fn() -> String),
    /// A directory: its entries.
    Dir(&'static [(&'static str, Node)]),
    /// A file root may write (mode 0644): its contents, and what a write does (the bytes
    /// taken, or the error).
    Tunable(fn() -> String, fn(&[u8]) -> Result<usize, Errno>),
}

/// Parse a write to an integer sysctl (Linux's `proc_dointvec`: blanks around one decimal
/// integer; anything else is EINVAL).
fn parse_int(bytes: &[u8]) -> Result<i64, Errno> {
    let text = core::str::from_utf8(bytes).map_err(|_| Errno::EINVAL)?;
    text.trim().parse::<i64>().map_err(|_| Errno::EINVAL)
}

/// Where `/proc/sys` inode numbers start (below the per-process ones, above the root's).
const SYSCTL_INO_BASE: u64 = 1 << 24;

const KERNEL: &[(&str, Node)] = &[
    (
        "domainname",
        Node::File(|| format!("{}\n", crate::kernel::sys::domainname())),
    ),
    (
        "hostname",
        Node::File(|| format!("{}\n", crate::kernel::sys::hostname())),
    ),
    ("ngroups_max", Node::File(|| String::from("65536\n"))),
    (
        "osrelease",
        Node::File(|| format!("{}\n", crate::init::version::UTS_RELEASE)),
    ),
    ("ostype", Node::File(|| String::from("Linux\n"))),
    (
        "pid_max",
        Node::File(|| format!("{}\n", crate::kernel::pid::PID_MAX_DEFAULT)),
    ),
    (
        "randomize_va_space",
        Node::Tunable(
            || format!("{}\n", crate::mm::util::randomize_va_space()),
            |bytes| {
                crate::mm::util::set_randomize_va_space(parse_int(bytes)?)?;
                Ok(bytes.len())
            },
        ),
    ),
    ("threads-max", Node::File(|| String::from("3791\n"))),
    ("version", Node::File(|| String::from("#1 SMP\n"))),
];

const VM: &[(&str, Node)] = &[
    (
        "max_map_count",
        Node::File(|| format!("{}\n", crate::mm::mm_types::MAX_VMAS)),
    ),
    ("overcommit_memory", Node::File(|| String::from("0\n"))),
];

/// `/proc/sys` itself.
pub const SYS: &[(&str, Node)] = &[("kernel", Node::Dir(KERNEL)), ("vm", Node::Dir(VM))];

/// The directory `entries`, numbered `ino` (its entries are `ino * 64 + 1 + index`).
pub fn sysctl_dir(ino: u64, entries: &'static [(&'static str, Node)]) -> Arc<dyn Inode> {
    Arc::new(SysctlDir { ino, entries })
}

/// The inode number of `/proc/sys`.
pub const PROC_SYS_INO: u64 = SYSCTL_INO_BASE;

struct SysctlDir {
    ino: u64,
    entries: &'static [(&'static str, Node)],
}

impl SysctlDir {
    fn child_ino(&self, index: usize) -> u64 {
        SYSCTL_INO_BASE + (self.ino - SYSCTL_INO_BASE) * 64 + 1 + index as u64
    }
}

impl Inode for SysctlDir {
    fn stat(&self) -> Stat {
        dir_stat(self.ino, 2)
    }

    fn file_type(&self) -> FileType {
        FileType::Directory
    }

    fn lookup(&self, name: &str) -> Result<Arc<dyn Inode>, Errno> {
        let index = self
            .entries
            .iter()
            .position(|(n, _)| *n == name)
            .ok_or(Errno::ENOENT)?;
        let ino = self.child_ino(index);
        Ok(match self.entries[index].1 {
            Node::File(show) => ProcFile::new_inode(ino, 0o444, move || Ok(show().into_bytes())),
            Node::Tunable(show, store) => ProcFile::new_writable_inode(
                ino,
                0o644,
                (0, 0),
                move || Ok(show().into_bytes()),
                store,
            ),
            Node::Dir(entries) => sysctl_dir(ino, entries),
        })
    }

    fn readdir(&self) -> Result<Vec<DirEntry>, Errno> {
        Ok(self
            .entries
            .iter()
            .enumerate()
            .map(|(index, (name, node))| DirEntry {
                name: String::from(*name),
                ino: self.child_ino(index),
                file_type: match node {
                    Node::File(_) | Node::Tunable(..) => FileType::Regular,
                    Node::Dir(_) => FileType::Directory,
                },
            })
            .collect())
    }

    fn as_any(&self) -> &dyn Any {
        self
    }
}
