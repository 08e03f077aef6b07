//! Process groups and sessions (Linux: `kernel/sys.c`'s `setpgid`, `setsid`, `getpgid`,
//! `getsid`, and `kernel/exit.c`'s orphaned-group rules).
//!
//! A session is a login: `setsid` makes the caller the leader of a new one, with no
//! controlling terminal, in a process group of its own. Inside a session, a shell puts each
//! job in a process group (`setpgid`) and tells the terminal which group is in the
//! foreground (`TIOCSPGRP`, in `drivers/tty/tty_jobctrl.rs`); the terminal's ^C and ^Z go
//! to that group, and `kill(-pgrp)` reaches all of it.
//!
//! The IDs live in each task (`pgrp`, `session`), inherited by `fork`; the boot's tasks
//! have 0 for both, as Linux's do, until init calls `setsid`. Changes happen under the
//! tasklist lock, so a check ("no group has this ID yet") and the change it allows are one
//! step. A group is *orphaned* when no member has a parent in another group of the same
//! session: no shell is left to continue its stopped jobs, so the kernel sends them SIGHUP
//! and SIGCONT (POSIX's rule; Linux's `kill_orphaned_pgrp`).

use alloc::vec::Vec;
use core::sync::atomic::Ordering;

use crate::kernel::errno::Errno;
use crate::kernel::pid::TASKLIST;
use crate::kernel::signal::{self, sig};
use crate::kernel::task::{current, state, TaskRef, TaskStruct};

type SysResult = Result<u64, Errno>;

/// The process group ID of `task`'s process (kept in its group leader, as Linux keeps it
/// in the shared `signal_struct`).
pub fn pgrp_of(task: &TaskStruct) -> i32 {
    if task.is_group_leader() {
        task.pgrp.load(Ordering::Relaxed)
    } else {
        task.group_leader().pgrp.load(Ordering::Relaxed)
    }
}

/// The session ID of `task`'s process (kept in its group leader).
pub fn session_of(task: &TaskStruct) -> i32 {
    if task.is_group_leader() {
        task.session.load(Ordering::Relaxed)
    } else {
        task.group_leader().session.load(Ordering::Relaxed)
    }
}

/// True if `task` leads its session.
pub fn is_session_leader(task: &TaskStruct) -> bool {
    session_of(task) == task.pid()
}

/// True for a task that belongs to a group: a user process (its group leader) not yet
/// reaped. A zombie still counts (Linux detaches its PID only when it is reaped): a
/// pipeline's group outlives a first process that exits before the shell puts the second
/// one in.
fn member(task: &TaskStruct) -> bool {
    !task.is_kthread() && task.is_group_leader()
}

/// True for a member that has not exited: the orphaned-group rules look only at these.
fn live_user(task: &TaskStruct) -> bool {
    member(task) && task.exit_state.load(Ordering::Acquire) == 0
}

/// Every process of group `pgrp`, zombies included.
pub fn group_members(pgrp: i32) -> Vec<TaskRef> {
    TASKLIST
        .lock()
        .iter()
        .filter(|t| member(t) && pgrp_of(t) == pgrp)
        .cloned()
        .collect()
}

/// True if a live process of group `pgrp` exists in `session` (`None`: in any session).
fn group_exists(tasks: &crate::kernel::pid::TaskList, pgrp: i32, session: Option<i32>) -> bool {
    tasks
        .iter()
        .any(|t| member(t) && pgrp_of(t) == pgrp && session.is_none_or(|s| session_of(t) == s))
}

/// Send `signo` to every process in group `pgrp` (Linux's `kill_pgrp`); ESRCH if it has
/// none. `kernel` says the tty sent it (si_code SI_KERNEL) rather than a process.
pub fn kill_pgrp(pgrp: i32, signo: i32, kernel: bool) -> SysResult {
    if pgrp <= 0 {
        return Err(Errno::ESRCH);
    }
    let mut members = group_members(pgrp);
    if members.is_empty() {
        return Err(Errno::ESRCH);
    }
    if !kernel {
        // Linux's `__kill_pgrp_info`: success if any member could be signalled.
        members.retain(|t| signal::check_kill_permission(t, signo).is_ok());
        if members.is_empty() {
            return Err(Errno::EPERM);
        }
    }
    if signo != 0 {
        for task in &members {
            if kernel {
                signal::send_signal_kernel(task, signo);
            } else {
                signal::send_signal(task, signo);
            }
        }
    }
    Ok(0)
}

/// The parent of `task` (the pointer is stable under the tasklist lock, which callers hold).
fn parent_ptr(task: &TaskStruct) -> Option<&TaskStruct> {
    let parent = task.parent.load(Ordering::Acquire);
    // SAFETY: a parent outlives its children's links to it; re-parenting happens under
    // the tasklist lock, which the caller holds.
    (!parent.is_null()).then(|| unsafe { &*parent })
}

/// True if group `pgrp` is orphaned once `ignore` is gone (Linux's
/// `will_become_orphaned_pgrp`): no member other than `ignore` has a parent in a different
/// group of the same session. A group with no other member counts as orphaned.
fn will_become_orphaned(
    tasks: &crate::kernel::pid::TaskList,
    pgrp: i32,
    ignore: Option<&TaskStruct>,
) -> bool {
    !tasks.iter().any(|t| {
        if !live_user(t) || pgrp_of(t) != pgrp || ignore.is_some_and(|i| t.ptr_eq(i)) {
            return false;
        }
        parent_ptr(t)
            .is_some_and(|p| p.pid() > 1 && pgrp_of(p) != pgrp && session_of(p) == session_of(t))
    })
}

/// True if the current process's group is orphaned (Linux's `is_current_pgrp_orphaned`):
/// its terminal stop signals are then discarded and terminal reads and writes fail with EIO,
/// since nobody would continue it.
pub fn is_current_pgrp_orphaned() -> bool {
    let tasks = TASKLIST.lock();
    will_become_orphaned(&tasks, pgrp_of(current()), None)
}

/// True if some member of `pgrp` is stopped (Linux's `has_stopped_jobs`).
fn has_stopped_jobs(tasks: &crate::kernel::pid::TaskList, pgrp: i32) -> bool {
    tasks.iter().any(|t| {
        live_user(t)
            && pgrp_of(t) == pgrp
            && (t.signal().inner.lock().stopped
                || t.state.load(Ordering::Relaxed) == state::TASK_STOPPED)
    })
}

/// At `exit`: the groups this task's leaving orphans get SIGHUP and SIGCONT if they have
/// stopped members (Linux's `kill_orphaned_pgrp`, for the task's own group and for each
/// child's). Called before the task is re-parented away from its children.
pub fn exit_orphaned_pgrps(task: &TaskStruct) {
    let mut groups: Vec<i32> = Vec::new();
    {
        let tasks = TASKLIST.lock();
        let own = pgrp_of(task);
        let leaving_own = parent_ptr(task)
            .is_some_and(|p| pgrp_of(p) != own && session_of(p) == session_of(task));
        if own > 0
            && leaving_own
            && will_become_orphaned(&tasks, own, Some(task))
            && has_stopped_jobs(&tasks, own)
        {
            groups.push(own);
        }
        for child in task.children.lock().iter() {
            let g = pgrp_of(child);
            if g > 0
                && g != own
                && session_of(child) == session_of(task)
                && !groups.contains(&g)
                && will_become_orphaned(&tasks, g, Some(task))
                && has_stopped_jobs(&tasks, g)
            {
                groups.push(g);
            }
        }
    }
    for g in groups {
        let _ = kill_pgrp(g, sig::SIGHUP, true);
        let _ = kill_pgrp(g, sig::SIGCONT, true);
    }
}

/// `setpgid(2)`: move process `pid` (0: the caller) into group `pgid` (0: its own PID).
/// The target is the caller or a child of it in the same session that has not exec'd
/// (EACCES after an `execve`), not a session leader; the group must exist in the caller's
/// session unless it is the target's own PID.
pub fn sys_setpgid(pid: i32, pgid: i32) -> SysResult {
    if pgid < 0 {
        return Err(Errno::EINVAL);
    }
    let me = current();
    let pid = if pid == 0 { me.pid() } else { pid };
    let pgid = if pgid == 0 { pid } else { pgid };
    let tasks = TASKLIST.lock();
    let target = tasks.find(pid).filter(|t| member(t)).ok_or(Errno::ESRCH)?;
    if !target.ptr_eq(me) {
        let is_child = parent_ptr(&target).is_some_and(|p| core::ptr::eq(p, me));
        if !is_child {
            return Err(Errno::ESRCH);
        }
        if session_of(&target) != session_of(me) {
            return Err(Errno::EPERM);
        }
        if target.did_exec.load(Ordering::Relaxed) {
            return Err(Errno::EACCES);
        }
    }
    if is_session_leader(&target) {
        return Err(Errno::EPERM);
    }
    if pgid != pid && !group_exists(&tasks, pgid, Some(session_of(me))) {
        return Err(Errno::EPERM);
    }
    target.pgrp.store(pgid, Ordering::Relaxed);
    Ok(0)
}

/// The task `pid` names for `getpgid`/`getsid` (0: the caller).
fn lookup(pid: i32) -> Result<TaskRef, Errno> {
    if pid < 0 {
        return Err(Errno::ESRCH);
    }
    if pid == 0 {
        return Ok(current().get_ref());
    }
    crate::kernel::pid::find_task_by_pid(pid).ok_or(Errno::ESRCH)
}

/// `getpgid(2)`.
pub fn sys_getpgid(pid: i32) -> SysResult {
    Ok(pgrp_of(&*lookup(pid)?) as u64)
}

/// `getsid(2)`.
pub fn sys_getsid(pid: i32) -> SysResult {
    Ok(session_of(&*lookup(pid)?) as u64)
}

/// `setsid(2)`: a new session and group, both with the caller's PID, and no controlling
/// terminal. EPERM if a group with that ID exists already (the caller leads one).
pub fn sys_setsid() -> SysResult {
    let me = current();
    let pid = me.pid();
    let tasks = TASKLIST.lock();
    if group_exists(&tasks, pid, None) {
        return Err(Errno::EPERM);
    }
    me.session.store(pid, Ordering::Relaxed);
    me.pgrp.store(pid, Ordering::Relaxed);
    me.ctty.store(false, Ordering::Relaxed);
    Ok(pid as u64)
}
