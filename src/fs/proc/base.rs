//! `/proc/<pid>/`: one directory per process, with `task/<tid>/` for each of its threads
//! (Linux: `fs/proc/base.c`, `fs/proc/fd.c`).
//!
//! A directory remembers only its PID. Every read looks the task up again, so a process
//! that has been reaped in the meantime reads as `ESRCH` (files) or `ENOENT` (lookups), as
//! on Linux; a zombie still reads, with no memory and no files. `cmdline` and `environ`
//! are read out of the process's own memory, between the addresses exec recorded, under
//! its address space (`with_mm`), as Linux's `access_remote_vm` does; `environ` keeps to
//! the address space the process had when the file was opened (after an exec it reads as
//! empty, as on Linux). A process may rename itself by writing its `comm`.

use alloc::format;
use alloc::string::{String, ToString};
use alloc::sync::Arc;
use alloc::vec::Vec;
use core::any::Any;

use super::generic::{dir_stat, pid_ino, ProcFile, ProcLink};
use crate::arch::memory::PAGE_SIZE;
use crate::fs::file::{File, NR_OPEN_DEFAULT};
use crate::fs::inode::{DirEntry, FileType, Inode, Stat};
use crate::kernel::errno::Errno;
use crate::kernel::pid::find_task_by_pid;
use crate::kernel::task::{current, TaskStruct};
use crate::mm::mm_types::MmStruct;

/// What an entry of `/proc/<pid>/` is.
#[derive(Clone, Copy)]
enum Entry {
    /// A file generated from the task, with its permission bits.
    File(u32, fn(&TaskStruct) -> Result<Vec<u8>, Errno>),
    /// The same, but only whoever may look into the process reads it (Linux's
    /// `proc_mem_open` with PTRACE_MODE_READ, as for `maps`): EACCES for another user's.
    Private(u32, fn(&TaskStruct) -> Result<Vec<u8>, Errno>),
    /// A symbolic link computed from the task.
    Link(fn(&TaskStruct) -> Result<String, Errno>),
    /// The `fd/` directory.
    FdDir,
    /// `comm`: read as a file, and the process itself may rename itself by writing it.
    Comm,
    /// `environ`: read out of the address space the process had when the file was opened.
    Environ,
    /// The `task/` directory: one directory per thread.
    TaskDir,
}

/// The entries, in `readdir` order; their inode numbers are `pid_ino(pid, 1 + index)`.
const ENTRIES: [(&str, Entry); 15] = [
    ("cmdline", Entry::File(0o444, proc_pid_cmdline)),
    ("comm", Entry::Comm),
    ("cwd", Entry::Link(proc_cwd_link)),
    ("environ", Entry::Environ),
    ("exe", Entry::Link(proc_exe_link)),
    ("fd", Entry::FdDir),
    (
        "maps",
        Entry::Private(0o444, super::task_mmu::proc_pid_maps),
    ),
    ("mountinfo", Entry::File(0o444, proc_pid_mountinfo)),
    ("mounts", Entry::File(0o444, proc_pid_mounts)),
    ("root", Entry::Link(proc_root_link)),
    (
        "schedstat",
        Entry::File(0o444, super::array::proc_pid_schedstat),
    ),
    ("stat", Entry::File(0o444, super::array::proc_pid_stat)),
    ("statm", Entry::File(0o444, super::array::proc_pid_statm)),
    ("status", Entry::File(0o444, super::array::proc_pid_status)),
    ("task", Entry::TaskDir),
];

/// The entries of `/proc/<pid>/task/<tid>/` (Linux's `tid_base_stuff`, the part Cradle has):
/// the thread's own `stat`, `status` and `comm`, and the process's `cmdline`. Inode numbers:
/// `pid_ino(tid, TID_ENTRY_BASE + index)`.
const TID_ENTRIES: [(&str, Entry); 5] = [
    ("cmdline", Entry::File(0o444, proc_pid_cmdline)),
    ("comm", Entry::Comm),
    (
        "schedstat",
        Entry::File(0o444, super::array::proc_pid_schedstat),
    ),
    ("stat", Entry::File(0o444, super::array::proc_tid_stat)),
    ("status", Entry::File(0o444, super::array::proc_pid_status)),
];
/// Where the inode numbers of a thread's own directory start.
const TID_ENTRY_BASE: u64 = 0x100;

/// The entry number of `fd/` (for its inode number).
const FD_DIR_ENTRY: u64 = 1 + 5;
/// `fd/<n>` links are numbered from here.
const FD_ENTRY_BASE: u64 = 0x800;

/// Who owns a process's `/proc` files: its effective user and group (Linux's
/// `task_dump_owner` for a dumpable process); root's once it is gone.
fn task_owner(pid: i32) -> (u32, u32) {
    find_task_by_pid(pid).map_or((0, 0), |task| {
        let cred = crate::kernel::cred::task_cred(&task);
        (cred.euid, cred.egid)
    })
}

/// Whether the current task may look into `task` (Linux's `ptrace_may_access` with
/// PTRACE_MODE_READ_FSCREDS, as `proc_fd_access_allowed` asks for `exe`, `cwd` and
/// `root`): its own process, or one whose user and group IDs are all the caller's
/// filesystem IDs, or CAP_SYS_PTRACE; EACCES otherwise.
fn ptrace_may_access(task: &TaskStruct) -> Result<(), Errno> {
    let me = current();
    if task.tgid.load(core::sync::atomic::Ordering::Relaxed)
        == me.tgid.load(core::sync::atomic::Ordering::Relaxed)
    {
        return Ok(());
    }
    let t = crate::kernel::cred::task_cred(task);
    crate::kernel::cred::with_current_cred(|c| {
        let same_user = [t.uid, t.euid, t.suid].iter().all(|&id| id == c.fsuid)
            && [t.gid, t.egid, t.sgid].iter().all(|&id| id == c.fsgid);
        if same_user || c.has_cap(crate::kernel::capability::CAP_SYS_PTRACE) {
            Ok(())
        } else {
            Err(Errno::EACCES)
        }
    })
}

/// Run `f` on the live task `pid`, or fail with ESRCH if it is gone.
fn with_task<R>(pid: i32, f: impl FnOnce(&TaskStruct) -> Result<R, Errno>) -> Result<R, Errno> {
    let task = find_task_by_pid(pid).ok_or(Errno::ESRCH)?;
    f(&task)
}

/// `/proc/<pid>/`.
pub struct PidDir {
    pid: i32,
}

impl PidDir {
    /// The directory of process `pid`.
    pub fn new_inode(pid: i32) -> Arc<dyn Inode> {
        Arc::new(Self { pid })
    }
}

impl Inode for PidDir {
    fn stat(&self) -> Stat {
        let (uid, gid) = task_owner(self.pid);
        Stat {
            uid,
            gid,
            ..dir_stat(pid_ino(self.pid, 0), 3)
        }
    }

    fn file_type(&self) -> FileType {
        FileType::Directory
    }

    fn lookup(&self, name: &str) -> Result<Arc<dyn Inode>, Errno> {
        let index = ENTRIES
            .iter()
            .position(|(n, _)| *n == name)
            .ok_or(Errno::ENOENT)?;
        if find_task_by_pid(self.pid).is_none() {
            return Err(Errno::ENOENT);
        }
        entry_inode(
            self.pid,
            pid_ino(self.pid, 1 + index as u64),
            ENTRIES[index].1,
        )
    }

    fn readdir(&self) -> Result<Vec<DirEntry>, Errno> {
        if find_task_by_pid(self.pid).is_none() {
            return Err(Errno::ENOENT);
        }
        Ok(dir_entries(self.pid, 1, &ENTRIES))
    }

    fn as_any(&self) -> &dyn Any {
        self
    }
}

/// The directory entries of `entries`, numbered from `pid_ino(pid, first)`.
fn dir_entries(pid: i32, first: u64, entries: &[(&str, Entry)]) -> Vec<DirEntry> {
    entries
        .iter()
        .enumerate()
        .map(|(index, (name, kind))| DirEntry {
            name: String::from(*name),
            ino: pid_ino(pid, first + index as u64),
            file_type: match kind {
                Entry::File(..) | Entry::Private(..) | Entry::Comm | Entry::Environ => {
                    FileType::Regular
                }
                Entry::Link(_) => FileType::Symlink,
                Entry::FdDir | Entry::TaskDir => FileType::Directory,
            },
        })
        .collect()
}

/// The inode of one entry of task `pid`'s directory (Linux's `proc_pident_instantiate`).
fn entry_inode(pid: i32, ino: u64, entry: Entry) -> Result<Arc<dyn Inode>, Errno> {
    let owner = task_owner(pid);
    Ok(match entry {
        Entry::File(perm, show) => {
            ProcFile::new_owned_inode(ino, perm, owner, move || with_task(pid, show))
        }
        // Checked when read, not at lookup, so that `stat` and `ls -l` still see the file
        // (Linux checks at open; both refuse another user's with EACCES).
        Entry::Private(perm, show) => ProcFile::new_owned_inode(ino, perm, owner, move || {
            with_task(pid, |task| {
                ptrace_may_access(task)?;
                show(task)
            })
        }),
        Entry::Link(target) => ProcLink::new_inode(ino, 0o777, move || {
            with_task(pid, |task| {
                ptrace_may_access(task)?;
                target(task)
            })
        }),
        Entry::FdDir => Arc::new(FdDir { pid }),
        Entry::Comm => ProcFile::new_writable_inode(
            ino,
            0o644,
            owner,
            move || with_task(pid, proc_pid_comm),
            move |name| with_task(pid, |task| comm_write(task, name)),
        ),
        Entry::Environ => {
            // A lookup is what an open does first, so this is Linux's `environ_open`
            // taking the mm: once that address space is gone (the process exec'd or
            // exited), the file reads as empty.
            let mm = with_task(pid, |task| Ok(task.mm().map(|mm| Arc::downgrade(&mm))))?;
            ProcFile::new_owned_inode(ino, 0o400, owner, move || {
                match mm.as_ref().and_then(alloc::sync::Weak::upgrade) {
                    Some(mm) => proc_pid_environ(&mm),
                    None => Ok(Vec::new()),
                }
            })
        }
        Entry::TaskDir => Arc::new(TaskDir { pid }),
    })
}

/// `/proc/<pid>/task/`: a directory per thread of the process, named by its TID (Linux's
/// `proc_task_readdir`, `proc_task_lookup`).
struct TaskDir {
    pid: i32,
}

/// The process's live threads' IDs, the leader first.
fn thread_ids(pid: i32) -> Result<Vec<i32>, Errno> {
    let task = find_task_by_pid(pid).ok_or(Errno::ENOENT)?;
    Ok(task
        .signal()
        .thread_list()
        .iter()
        .map(|t| t.pid())
        .collect())
}

impl Inode for TaskDir {
    fn stat(&self) -> Stat {
        dir_stat(pid_ino(self.pid, 1 + ENTRIES.len() as u64 - 1), 3)
    }

    fn file_type(&self) -> FileType {
        FileType::Directory
    }

    fn lookup(&self, name: &str) -> Result<Arc<dyn Inode>, Errno> {
        let tid: i32 = name.parse().map_err(|_| Errno::ENOENT)?;
        if name.starts_with('0') || name.starts_with('+') || !thread_ids(self.pid)?.contains(&tid) {
            return Err(Errno::ENOENT);
        }
        Ok(Arc::new(TidDir { tid }))
    }

    fn readdir(&self) -> Result<Vec<DirEntry>, Errno> {
        Ok(thread_ids(self.pid)?
            .into_iter()
            .map(|tid| DirEntry {
                name: tid.to_string(),
                ino: pid_ino(tid, TID_ENTRY_BASE),
                file_type: FileType::Directory,
            })
            .collect())
    }

    fn as_any(&self) -> &dyn Any {
        self
    }
}

/// `/proc/<pid>/task/<tid>/`: one thread.
struct TidDir {
    tid: i32,
}

impl Inode for TidDir {
    fn stat(&self) -> Stat {
        dir_stat(pid_ino(self.tid, TID_ENTRY_BASE), 2)
    }

    fn file_type(&self) -> FileType {
        FileType::Directory
    }

    fn lookup(&self, name: &str) -> Result<Arc<dyn Inode>, Errno> {
        let index = TID_ENTRIES
            .iter()
            .position(|(n, _)| *n == name)
            .ok_or(Errno::ENOENT)?;
        if find_task_by_pid(self.tid).is_none() {
            return Err(Errno::ENOENT);
        }
        let ino = pid_ino(self.tid, TID_ENTRY_BASE + 1 + index as u64);
        entry_inode(self.tid, ino, TID_ENTRIES[index].1)
    }

    fn readdir(&self) -> Result<Vec<DirEntry>, Errno> {
        if find_task_by_pid(self.tid).is_none() {
            return Err(Errno::ENOENT);
        }
        Ok(dir_entries(self.tid, TID_ENTRY_BASE + 1, &TID_ENTRIES))
    }

    fn as_any(&self) -> &dyn Any {
        self
    }
}

/// Read user memory `[start, end)` of address space `mm` (Linux's `access_remote_vm`): as
/// much as is readable, stopping at the first page that is not.
fn access_remote_vm(mm: &Arc<MmStruct>, start: u64, end: u64) -> Result<Vec<u8>, Errno> {
    /// At most this much (Linux's limit on argv + envp is a quarter of the stack, 2 MiB).
    const MAX: u64 = 2 << 20;
    if end <= start {
        return Ok(Vec::new());
    }
    let len = (end - start).min(MAX) as usize;
    let mut buf = Vec::new();
    buf.try_reserve_exact(len).map_err(|_| Errno::ENOMEM)?;
    buf.resize(len, 0);
    let read = |buf: &mut [u8]| {
        let mut done = 0usize;
        while done < buf.len() {
            let addr = start + done as u64;
            let chunk = ((PAGE_SIZE - addr % PAGE_SIZE) as usize).min(buf.len() - done);
            if crate::arch::uaccess::copy_from_user(&mut buf[done..done + chunk], addr).is_err() {
                break;
            }
            done += chunk;
        }
        done
    };
    let same_mm = current().mm().is_some_and(|own| Arc::ptr_eq(&own, mm));
    let done = if same_mm {
        read(&mut buf)
    } else {
        crate::arch::mmu_context::with_mm(mm, || read(&mut buf))
    };
    buf.truncate(done);
    Ok(buf)
}

/// `/proc/<pid>/cmdline`: the argument strings, each ending in NUL; empty for kernel
/// threads (Linux's `proc_pid_cmdline_read`).
fn proc_pid_cmdline(task: &TaskStruct) -> Result<Vec<u8>, Errno> {
    let Some(mm) = task.mm() else {
        return Ok(Vec::new());
    };
    let (start, end) = {
        let inner = mm.inner.lock();
        (inner.arg_start, inner.arg_end)
    };
    access_remote_vm(&mm, start, end)
}

/// `/proc/<pid>/environ`: the environment strings of address space `mm`, each ending in
/// NUL.
fn proc_pid_environ(mm: &Arc<MmStruct>) -> Result<Vec<u8>, Errno> {
    let (start, end) = {
        let inner = mm.inner.lock();
        (inner.env_start, inner.env_end)
    };
    access_remote_vm(mm, start, end)
}

/// `/proc/<pid>/comm`: the name and a newline.
fn proc_pid_comm(task: &TaskStruct) -> Result<Vec<u8>, Errno> {
    Ok(format!("{}\n", task.comm()).into_bytes())
}

/// Writing `/proc/<pid>/comm` (Linux's `comm_write`): a process may rename itself (the
/// first 15 bytes, newline and all, as Linux keeps them); another process's name: EINVAL.
fn comm_write(task: &TaskStruct, name: &[u8]) -> Result<usize, Errno> {
    if task.tgid.load(core::sync::atomic::Ordering::Relaxed)
        != current().tgid.load(core::sync::atomic::Ordering::Relaxed)
    {
        return Err(Errno::EINVAL);
    }
    let kept = &name[..name.len().min(crate::kernel::task::TASK_COMM_LEN - 1)];
    task.set_comm(&String::from_utf8_lossy(kept));
    Ok(name.len())
}

/// `/proc/<pid>/mounts`: the mount table (one namespace, so everyone's is the same).
fn proc_pid_mounts(_task: &TaskStruct) -> Result<Vec<u8>, Errno> {
    super::misc::proc_mounts()
}

/// `/proc/<pid>/mountinfo`: one mount namespace, so every process sees the same.
fn proc_pid_mountinfo(_task: &TaskStruct) -> Result<Vec<u8>, Errno> {
    super::misc::proc_mountinfo()
}

/// `/proc/<pid>/exe`: the program exec loaded; ENOENT for kernel threads.
fn proc_exe_link(task: &TaskStruct) -> Result<String, Errno> {
    let mm = task.mm().ok_or(Errno::ENOENT)?;
    let path = mm.inner.lock().exe_path.clone();
    path.ok_or(Errno::ENOENT)
}

/// `/proc/<pid>/cwd`.
fn proc_cwd_link(task: &TaskStruct) -> Result<String, Errno> {
    let fs = task.fs.lock().clone().ok_or(Errno::ENOENT)?;
    let cwd = fs.lock().cwd.clone();
    Ok(cwd.path())
}

/// `/proc/<pid>/root`.
fn proc_root_link(task: &TaskStruct) -> Result<String, Errno> {
    let fs = task.fs.lock().clone().ok_or(Errno::ENOENT)?;
    let root = fs.lock().root.clone();
    Ok(root.path())
}

/// What `/proc/<pid>/fd/<n>` points at (Linux's `d_path`): the path the file was opened
/// by, or for a file without a name (a pipe) `pipe:[inode]`.
pub fn file_path(file: &File) -> String {
    let dentry = &file.dentry;
    if dentry.parent.is_none() && dentry.name != "/" {
        format!("{}[{}]", dentry.name, file.inode.stat().ino)
    } else {
        dentry.path()
    }
}

/// The open file `fd` of `task`.
fn task_file(task: &TaskStruct, fd: usize) -> Result<Arc<File>, Errno> {
    let files = task.files.lock().clone().ok_or(Errno::ENOENT)?;
    let file = files.lock().get(fd).map_err(|_| Errno::ENOENT);
    file
}

/// `/proc/<pid>/fd/`: a link per open descriptor (Linux: `fs/proc/fd.c`).
struct FdDir {
    pid: i32,
}

/// A descriptor's name as a number: decimal, no leading zero.
fn name_to_fd(name: &str) -> Option<usize> {
    if name.is_empty() || (name.len() > 1 && name.starts_with('0')) {
        return None;
    }
    if !name.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    name.parse().ok().filter(|&fd| fd < NR_OPEN_DEFAULT)
}

impl Inode for FdDir {
    fn stat(&self) -> Stat {
        let mut st = dir_stat(pid_ino(self.pid, FD_DIR_ENTRY), 2);
        st.mode = crate::fs::inode::mode::S_IFDIR | 0o500;
        (st.uid, st.gid) = task_owner(self.pid);
        st
    }

    fn file_type(&self) -> FileType {
        FileType::Directory
    }

    fn lookup(&self, name: &str) -> Result<Arc<dyn Inode>, Errno> {
        let fd = name_to_fd(name).ok_or(Errno::ENOENT)?;
        let pid = self.pid;
        let file = with_task(pid, |task| task_file(task, fd)).map_err(|_| Errno::ENOENT)?;
        // Linux: r-x for a file open for reading, -wx for writing (the x lets it be followed).
        let mut perm = 0;
        if file.readable() {
            perm |= 0o500;
        }
        if file.writable() {
            perm |= 0o300;
        }
        Ok(ProcLink::new_magic_inode(
            pid_ino(pid, FD_ENTRY_BASE + fd as u64),
            perm,
            move || with_task(pid, |task| task_file(task, fd).map(|file| file_path(&file))),
            move || {
                with_task(pid, |task| {
                    task_file(task, fd).map(|file| file.dentry.clone())
                })
            },
        ))
    }

    fn readdir(&self) -> Result<Vec<DirEntry>, Errno> {
        let files =
            with_task(self.pid, |task| Ok(task.files.lock().clone())).map_err(|_| Errno::ENOENT)?;
        let Some(files) = files else {
            return Ok(Vec::new());
        };
        let fds: Vec<usize> = files.lock().open_fds().map(|(fd, _)| fd).collect();
        Ok(fds
            .into_iter()
            .map(|fd| DirEntry {
                name: fd.to_string(),
                ino: pid_ino(self.pid, FD_ENTRY_BASE + fd as u64),
                file_type: FileType::Symlink,
            })
            .collect())
    }

    fn as_any(&self) -> &dyn Any {
        self
    }
}
