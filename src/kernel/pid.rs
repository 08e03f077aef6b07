//! Process IDs and the table of tasks (Linux: `kernel/pid.c`, the tasklist).
//!
//! PIDs are handed out as Linux does: one more than the last, wrapping at `pid_max` back to
//! `RESERVED_PIDS` (the low numbers stay for the boot's kernel threads), never a PID still
//! in use. The table holds a reference to every task but PID 0 until it is reaped.

use alloc::collections::BTreeMap;

use crate::kernel::errno::Errno;
use crate::kernel::locking::SpinLock;
use crate::kernel::task::{TaskRef, TaskStruct};

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
