//! Job-control stops and telling the parent: SIGCHLD and the `wait4` wake-ups (Linux:
//! `kernel/signal.c`, `do_signal_stop`, `do_notify_parent`, `do_notify_parent_cldstop`).
//!
//! A stop signal stops the whole thread group: the thread that takes it marks the group
//! stopped and asks the others to join (JOBCTL_STOP_PENDING); each sleeps in TASK_STOPPED
//! until SIGCONT clears the group's `stopped` flag (in `prepare_signal`) or SIGKILL arrives.
//! The parent learns of stops, continues and exits through SIGCHLD (with CLD_STOPPED,
//! CLD_CONTINUED, CLD_EXITED or CLD_KILLED) unless it asked not to, and its `wait4` is woken
//! to look at the reports left in the child's [`SignalStruct`](super::SignalStruct).

use core::sync::atomic::Ordering;

use super::send::signal_wake_up;
use super::{
    action_of, bit, fatal_signal_pending, sa, send_signal_info, si, sig, KernelSigInfo, NSIG,
    SIG_IGN,
};
use crate::kernel::sched::core::{schedule, set_current_state};
use crate::kernel::task::{state, TaskRef, TaskStruct, JOBCTL_STOP_PENDING};

/// Stop the current thread's whole group until SIGCONT or SIGKILL (Linux's
/// `do_signal_stop`), telling the parent. The other threads are asked to join the stop.
pub(super) fn do_signal_stop(task: &TaskStruct, signo: i32) {
    let group = task.signal();
    {
        let mut inner = group.inner.lock();
        // A SIGCONT sent since the stop signal was taken cancels the stop.
        if super::pending_of(task) & bit(sig::SIGCONT) != 0 || group.group_exiting() {
            return;
        }
        inner.stopped = true;
        inner.stop_report = signo;
        inner.cont_report = false;
    }
    group.for_each_thread(|t| {
        if !t.ptr_eq(task) && t.exit_state.load(Ordering::Acquire) == 0 {
            t.jobctl.fetch_or(JOBCTL_STOP_PENDING, Ordering::AcqRel);
            super::set_sigpending(t);
            signal_wake_up(t, false);
        }
    });
    let leader = task.group_leader();
    do_notify_parent_cldstop(&leader, si::CLD_STOPPED, signo);
    stop_until_continued(task);
}

/// Join a group stop another thread began.
pub(super) fn do_signal_stop_join(task: &TaskStruct) {
    if task.signal().inner.lock().stopped {
        stop_until_continued(task);
    }
}

fn stop_until_continued(task: &TaskStruct) {
    let group = task.signal();
    loop {
        set_current_state(state::TASK_STOPPED);
        if !group.inner.lock().stopped || fatal_signal_pending(task) {
            break;
        }
        schedule();
    }
    set_current_state(state::TASK_RUNNING);
}

/// A counted reference to `task`'s parent, taken under the tasklist lock (the parent cannot
/// exit and re-parent us meanwhile).
fn parent_of(task: &TaskStruct) -> Option<TaskRef> {
    let _tasklist = crate::kernel::pid::TASKLIST.lock();
    let parent = task.parent.load(Ordering::Acquire);
    if parent.is_null() {
        None
    } else {
        // SAFETY: a parent outlives its children's links to it; re-parenting happens under
        // the tasklist lock, which we hold.
        Some(unsafe { &*parent }.get_ref())
    }
}

/// True if a child exiting with `exit_signal` reaps itself because `parent` set SIGCHLD to
/// SIG_IGN or SA_NOCLDWAIT (the `autoreap` of Linux's `do_notify_parent`).
pub fn parent_autoreaps(parent: &TaskStruct, exit_signal: i32) -> bool {
    let chld = action_of(parent, sig::SIGCHLD);
    exit_signal == sig::SIGCHLD && (chld.handler == SIG_IGN || chld.flags & sa::SA_NOCLDWAIT != 0)
}

/// Tell `parent` that `task` exited: its exit signal (SIGCHLD, with CLD_EXITED or
/// CLD_KILLED and the status) unless the parent ignores it, and a wake-up for its `wait4`
/// (Linux's `do_notify_parent`).
pub fn do_notify_parent(task: &TaskStruct, parent: &TaskStruct, exit_signal: i32) {
    let (status, code) = if code_signal(task) != 0 {
        (code_signal(task), si::CLD_KILLED)
    } else {
        (
            (crate::kernel::exit::group_exit_status(task) >> 8) & 0xff,
            si::CLD_EXITED,
        )
    };
    let ignored = exit_signal == sig::SIGCHLD && action_of(parent, sig::SIGCHLD).handler == SIG_IGN;
    if !ignored && (1..=NSIG as i32).contains(&exit_signal) {
        send_signal_info(
            parent,
            KernelSigInfo {
                signo: exit_signal,
                code,
                pid: task.pid(),
                uid: crate::kernel::cred::task_cred(task).uid,
                status,
                ..KernelSigInfo::EMPTY
            },
        );
    }
    parent.child_exit_wait.wake_up_all();
    crate::kernel::pid::do_notify_pidfd();
}

fn code_signal(task: &TaskStruct) -> i32 {
    crate::kernel::exit::group_exit_status(task) & 0x7f
}

/// Tell the parent `task` stopped or continued: SIGCHLD unless it set SA_NOCLDSTOP, and a
/// wake-up for `wait4(WUNTRACED | WCONTINUED)` (Linux's `do_notify_parent_cldstop`).
pub fn do_notify_parent_cldstop(task: &TaskStruct, why: i32, signo: i32) {
    let Some(parent) = parent_of(task) else {
        return;
    };
    let nocldstop = {
        let chld = action_of(&parent, sig::SIGCHLD);
        chld.handler == SIG_IGN || chld.flags & sa::SA_NOCLDSTOP != 0
    };
    if !nocldstop {
        send_signal_info(
            &parent,
            KernelSigInfo {
                signo: sig::SIGCHLD,
                code: why,
                pid: task.pid(),
                uid: crate::kernel::cred::task_cred(task).uid,
                status: signo,
                ..KernelSigInfo::EMPTY
            },
        );
    }
    parent.child_exit_wait.wake_up_all();
}

/// A counted reference to `task`'s parent, if it has one.
pub fn get_parent(task: &TaskStruct) -> Option<TaskRef> {
    parent_of(task)
}
