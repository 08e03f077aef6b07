//! `/proc` itself: the fixed files, `self`, and a directory per process (Linux:
//! `fs/proc/root.c`, `fs/proc/self.c`, `fs/proc/base.c` `proc_pid_readdir` /
//! `proc_pid_lookup`).

use alloc::format;
use alloc::string::{String, ToString};
use alloc::sync::Arc;
use alloc::vec::Vec;
use core::any::Any;

use super::base::PidDir;
use super::generic::{dir_stat, pid_ino, ProcFile, ProcLink, PROC_ROOT_INO};
use crate::fs::inode::{DirEntry, FileType, Inode, Stat};
use crate::kernel::errno::Errno;
use crate::kernel::pid::{find_task_by_pid, for_each_task};
use crate::kernel::task::current;

/// What a fixed entry of the root is.
#[derive(Clone, Copy)]
enum Fixed {
    /// A generated file.
    File(fn() -> Result<Vec<u8>, Errno>),
    /// `/proc/self`: a link to the reader's process directory.
    SelfLink,
    /// `/proc/sys`.
    Sys,
}

/// The fixed entries, in the order `readdir` lists them; inode numbers follow this order.
const ENTRIES: [(&str, Fixed); 13] = [
    ("cmdline", Fixed::File(super::misc::proc_cmdline)),
    ("cpuinfo", Fixed::File(super::cpuinfo::proc_cpuinfo)),
    ("filesystems", Fixed::File(super::misc::proc_filesystems)),
    ("loadavg", Fixed::File(super::stat::proc_loadavg)),
    ("locks", Fixed::File(crate::fs::locks::proc_locks)),
    ("meminfo", Fixed::File(super::meminfo::proc_meminfo)),
    ("mounts", Fixed::File(super::misc::proc_mounts)),
    ("self", Fixed::SelfLink),
    ("stat", Fixed::File(super::stat::proc_stat)),
    ("sys", Fixed::Sys),
    ("uptime", Fixed::File(super::stat::proc_uptime)),
    ("version", Fixed::File(super::misc::proc_version)),
    ("vmstat", Fixed::File(super::meminfo::proc_vmstat)),
];

/// A fresh procfs: its root directory, for `mount -t proc`.
pub fn proc_root() -> Arc<dyn Inode> {
    Arc::new(ProcRoot)
}

/// The root directory of procfs.
struct ProcRoot;

/// A process directory's name as a PID: decimal, no sign, no leading zero (Linux's
/// `name_to_int`).
fn name_to_pid(name: &str) -> Option<i32> {
    if name.is_empty() || name.len() > 10 || (name.len() > 1 && name.starts_with('0')) {
        return None;
    }
    if !name.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    name.parse().ok()
}

impl Inode for ProcRoot {
    fn stat(&self) -> Stat {
        dir_stat(PROC_ROOT_INO, 2)
    }

    fn file_type(&self) -> FileType {
        FileType::Directory
    }

    fn lookup(&self, name: &str) -> Result<Arc<dyn Inode>, Errno> {
        if let Some(index) = ENTRIES.iter().position(|(n, _)| *n == name) {
            let ino = PROC_ROOT_INO + 1 + index as u64;
            return Ok(match ENTRIES[index].1 {
                Fixed::File(generate) => ProcFile::new_inode(ino, 0o444, generate),
                Fixed::SelfLink => ProcLink::new_inode(ino, 0o777, || {
                    let tgid = current().tgid.load(core::sync::atomic::Ordering::Relaxed);
                    Ok(tgid.to_string())
                }),
                Fixed::Sys => super::proc_sysctl::sysctl_dir(
                    super::proc_sysctl::PROC_SYS_INO,
                    super::proc_sysctl::SYS,
                ),
            });
        }
        let pid = name_to_pid(name).ok_or(Errno::ENOENT)?;
        if pid == 0 || find_task_by_pid(pid).is_none() {
            return Err(Errno::ENOENT);
        }
        Ok(PidDir::new_inode(pid))
    }

    fn readdir(&self) -> Result<Vec<DirEntry>, Errno> {
        let mut entries: Vec<DirEntry> = ENTRIES
            .iter()
            .enumerate()
            .map(|(index, (name, kind))| DirEntry {
                name: String::from(*name),
                ino: PROC_ROOT_INO + 1 + index as u64,
                file_type: match kind {
                    Fixed::File(_) => FileType::Regular,
                    Fixed::SelfLink => FileType::Symlink,
                    Fixed::Sys => FileType::Directory,
                },
            })
            .collect();
        // One directory per process (thread-group leader), as Linux lists them; PID 0 has
        // none.
        for_each_task(|task| {
            let pid = task.pid();
            if pid > 0 && pid == task.tgid.load(core::sync::atomic::Ordering::Relaxed) {
                entries.push(DirEntry {
                    name: format!("{pid}"),
                    ino: pid_ino(pid, 0),
                    file_type: FileType::Directory,
                });
            }
        });
        Ok(entries)
    }

    fn as_any(&self) -> &dyn Any {
        self
    }
}
