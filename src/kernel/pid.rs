//! Process IDs and the table of tasks (Linux: `kernel/pid.c`, the tasklist).
//!
//! PIDs are handed out as Linux does: one more than the last, wrapping at `pid_max` back to
//! `RESERVED_PIDS` (the low numbers stay for the boot's kernel threads), never a PID still
//! in use. The table holds a reference to every task but PID 0 until it is reaped.
//!
//! A pidfd (`pidfd_open`, Linux's `kernel/pid.c` and the `pidfd_fops` of `kernel/fork.c`)
//! names a process by its leader's PID and its [`SignalStruct`], which it keeps: the
//! process is the task the table has under that PID while it has that signal struct, so a
//! reused PID is never mistaken for it. It polls readable once every thread has exited
//! (the leader is a zombie with no other threads left, or reaped); `pidfd_send_signal`,
//! `pidfd_getfd` and `waitid(P_PIDFD)` act on it.

use alloc::collections::BTreeMap;
use alloc::sync::Arc;
use core::any::Any;
use core::sync::atomic::Ordering;

use crate::fs::anon_inodes::{anon_inode_getfd, AnonStat};
use crate::fs::file::flags;
use crate::fs::inode::{Inode, Kiocb, Stat};
use crate::fs::iov_iter::IovIter;
use crate::fs::select::{pollbits, PollHead};
use crate::kernel::errno::Errno;
use crate::kernel::locking::SpinLock;
use crate::kernel::signal::SignalStruct;
use crate::kernel::task::{state, TaskRef, TaskStruct};

/// The largest PID + 1 (Linux's default `pid_max`).
pub const PID_MAX_DEFAULT: i32 = 32768;
/// Where PIDs start again after wrapping (Linux's `RESERVED_PIDS`).
pub const RESERVED_PIDS: i32 = 300;

/// The tasks by PID. Lock order: before any task's `children` lock.
pub struct TaskList {
    pids: BTreeMap<i32, TaskRef>,
    last_pid: i32,
}

/// The tasklist (Linux's `tasklist_lock` plus the pid hash).
pub static TASKLIST: SpinLock<TaskList> = SpinLock::new(TaskList {
    pids: BTreeMap::new(),
    last_pid: 0,
});

impl TaskList {
    /// Give `task` a free PID and enter it in the table (Linux's `alloc_pid`).
    pub fn alloc_pid(&mut self, task: &TaskRef) -> Result<i32, Errno> {
        let mut pid = self.last_pid;
        for _ in 0..PID_MAX_DEFAULT {
            pid += 1;
            if pid >= PID_MAX_DEFAULT {
                pid = RESERVED_PIDS;
            }
            if !self.pids.contains_key(&pid) {
                self.last_pid = pid;
                task.pid.store(pid, core::sync::atomic::Ordering::Relaxed);
                task.tgid.store(pid, core::sync::atomic::Ordering::Relaxed);
                self.pids.insert(pid, task.clone());
                return Ok(pid);
            }
        }
        Err(Errno::EAGAIN)
    }

    /// Remove a PID from the table (Linux's `free_pid`), returning its task's reference.
    pub fn free_pid(&mut self, pid: i32) -> Option<TaskRef> {
        self.pids.remove(&pid)
    }

    /// Enter `task` under `pid` (for `de_thread`, which swaps two tasks' PIDs).
    pub fn insert(&mut self, pid: i32, task: TaskRef) {
        self.pids.insert(pid, task);
    }

    /// The task with this PID.
    pub fn find(&self, pid: i32) -> Option<TaskRef> {
        self.pids.get(&pid).cloned()
    }

    /// Every task in the table, by PID.
    pub fn iter(&self) -> impl Iterator<Item = &TaskRef> {
        self.pids.values()
    }
}

/// Find a task by PID (Linux's `find_task_by_pid_ns` in the initial namespace).
pub fn find_task_by_pid(pid: i32) -> Option<TaskRef> {
    TASKLIST.lock().find(pid)
}

/// Call `f` for every task, PID 0 first (Linux's `for_each_process_thread`).
pub fn for_each_task(mut f: impl FnMut(&TaskStruct)) {
    f(&crate::init::init_task::init_task);
    let tasks: alloc::vec::Vec<TaskRef> = TASKLIST.lock().iter().cloned().collect();
    for task in &tasks {
        f(task);
    }
}

/// Pollers of every pidfd (Linux's per-PID `wait_pidfd`): woken whenever a process ends.
static PIDFD_POLL: PollHead = PollHead::new();

/// `pidfd_open`'s only flag (Linux's `PIDFD_NONBLOCK`, O_NONBLOCK).
const PIDFD_NONBLOCK: u32 = flags::O_NONBLOCK;

/// How many pidfds exist: while none, a process's end wakes nothing here.
static NR_PIDFDS: core::sync::atomic::AtomicUsize = core::sync::atomic::AtomicUsize::new(0);

/// A process ended (its leader's parent was told): wake the pidfds' pollers (Linux's
/// `do_notify_pidfd`).
pub fn do_notify_pidfd() {
    if NR_PIDFDS.load(Ordering::Acquire) != 0 {
        PIDFD_POLL.wake();
    }
}

/// What a pidfd refers to (Linux's `struct pid` in the file's `private_data`).
pub struct PidFd {
    /// The process's ID (its leader's PID).
    pub pid: i32,
    signal: Arc<SignalStruct>,
    stat: AnonStat,
}

impl PidFd {
    /// The process's leader while it is in the table (not yet reaped); None after.
    pub fn task(&self) -> Option<TaskRef> {
        find_task_by_pid(self.pid).filter(|t| core::ptr::eq(t.signal(), &*self.signal))
    }

    /// Every thread has exited: the leader is a zombie left alone, or reaped (Linux's
    /// `thread_group_exited`).
    fn exited(&self) -> bool {
        match self.task() {
            None => true,
            Some(t) => t.exit_state.load(Ordering::Acquire) != 0 && self.signal.nr_threads() <= 1,
        }
    }
}

impl Drop for PidFd {
    fn drop(&mut self) {
        NR_PIDFDS.fetch_sub(1, Ordering::AcqRel);
    }
}

impl Inode for PidFd {
    fn stat(&self) -> Stat {
        self.stat.stat()
    }

    fn read_iter(&self, _iocb: &Kiocb, _to: &mut IovIter<'_>) -> Result<usize, Errno> {
        Err(Errno::EINVAL)
    }

    fn write_iter(&self, _iocb: &Kiocb, _from: &mut IovIter<'_>) -> Result<usize, Errno> {
        Err(Errno::EINVAL)
    }

    /// Linux's `pidfd_poll`: readable once the whole process has exited.
    fn poll(&self, _file_flags: u32) -> u32 {
        if self.exited() {
            pollbits::POLLIN | pollbits::POLLRDNORM
        } else {
            0
        }
    }

    /// Linux's `pidfd_show_fdinfo`: the PID, -1 once reaped.
    fn show_fdinfo(&self, out: &mut alloc::string::String) {
        use core::fmt::Write;
        let nr = if self.task().is_some() { self.pid } else { -1 };
        let _ = write!(out, "Pid:\t{nr}\nNSpid:\t{nr}\n");
    }

    fn with_poll_head(&self, f: &mut dyn FnMut(&PollHead)) -> bool {
        f(&PIDFD_POLL);
        true
    }

    fn as_any(&self) -> &dyn Any {
        self
    }
}

/// The process a pidfd names (Linux's `pidfd_get_pid`), and the file's O_NONBLOCK: EBADF if
/// `fd` is no open file or not a pidfd.
pub fn pidfd_get_pid_flags(fd: i32) -> Result<(Arc<PidFdRef>, bool), Errno> {
    let file = crate::fs::file::fdget(fd)?;
    if file.inode.as_any().downcast_ref::<PidFd>().is_none() {
        return Err(Errno::EBADF);
    }
    let nonblock = file.flags() & flags::O_NONBLOCK != 0;
    Ok((Arc::new(PidFdRef { file }), nonblock))
}

/// [`pidfd_get_pid_flags`] without the flag.
pub fn pidfd_get_pid(fd: i32) -> Result<Arc<PidFdRef>, Errno> {
    pidfd_get_pid_flags(fd).map(|(p, _)| p)
}

/// A counted reference to an open pidfd's file, for the call using it.
pub struct PidFdRef {
    file: Arc<crate::fs::file::File>,
}

impl core::ops::Deref for PidFdRef {
    type Target = PidFd;
    fn deref(&self) -> &PidFd {
        // The constructor checked the type.
        self.file
            .inode
            .as_any()
            .downcast_ref::<PidFd>()
            .expect("a PidFdRef holds a pidfd")
    }
}

/// `pidfd_open(2)`: a file naming process `pid` (Linux's `kernel/pid.c`): EINVAL for flags
/// other than PIDFD_NONBLOCK, for `pid <= 0`, and for a thread that is not a process's
/// leader; ESRCH if there is no such task. Close-on-exec, read-write.
pub fn sys_pidfd_open(pid: i32, oflags: u32) -> Result<u64, Errno> {
    if oflags & !PIDFD_NONBLOCK != 0 || pid <= 0 {
        return Err(Errno::EINVAL);
    }
    let task = find_task_by_pid(pid).ok_or(Errno::ESRCH)?;
    if task.tgid.load(Ordering::Relaxed) != pid
        || task.exit_state.load(Ordering::Acquire) == state::EXIT_DEAD
    {
        return Err(Errno::EINVAL);
    }
    let signal = task.signal.get().cloned().ok_or(Errno::EINVAL)?;
    NR_PIDFDS.fetch_add(1, Ordering::AcqRel);
    let pidfd = Arc::new(PidFd {
        pid,
        signal,
        stat: AnonStat::new(),
    });
    anon_inode_getfd("[pidfd]", pidfd, oflags | flags::O_CLOEXEC)
}

/// Whether the current task may take `task`'s files (Linux's `ptrace_may_access` with
/// PTRACE_MODE_ATTACH_REALCREDS): its own process, or one whose real, effective and saved
/// user and group IDs are all the caller's real ones, or CAP_SYS_PTRACE. (Cradle has no
/// non-dumpable processes and no Yama.)
fn ptrace_may_attach(task: &TaskStruct) -> bool {
    let me = crate::kernel::task::current();
    if task.tgid.load(Ordering::Relaxed) == me.tgid.load(Ordering::Relaxed) {
        return true;
    }
    let t = crate::kernel::cred::task_cred(task);
    crate::kernel::cred::with_current_cred(|c| {
        ([t.uid, t.euid, t.suid].iter().all(|&id| id == c.uid)
            && [t.gid, t.egid, t.sgid].iter().all(|&id| id == c.gid))
            || c.has_cap(crate::kernel::capability::CAP_SYS_PTRACE)
    })
}

/// `pidfd_getfd(2)`: a duplicate, close-on-exec, of descriptor `fd` of the process `pidfd`
/// names (Linux's `kernel/pid.c`): EINVAL for flags; EBADF if `pidfd` is not a pidfd;
/// ESRCH once the process is reaped; EPERM without ptrace access to it; EBADF if it has
/// no such descriptor (or no files: a zombie).
pub fn sys_pidfd_getfd(pidfd: i32, fd: i32, oflags: u32) -> Result<u64, Errno> {
    if oflags != 0 {
        return Err(Errno::EINVAL);
    }
    let target = pidfd_get_pid(pidfd)?;
    let task = target.task().ok_or(Errno::ESRCH)?;
    if !ptrace_may_attach(&task) {
        return Err(Errno::EPERM);
    }
    let file = {
        let files = task.files.lock();
        let files = files.as_ref().ok_or(Errno::EBADF)?;
        let table = files.lock();
        usize::try_from(fd)
            .map_err(|_| Errno::EBADF)
            .and_then(|fd| table.get(fd))?
    };
    let files = crate::kernel::task::current().files()?;
    let newfd = files.lock().alloc_fd(0, file, true)?;
    Ok(newfd as u64)
}
