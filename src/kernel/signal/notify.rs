//! Job-control stops and telling the parent: SIGCHLD and the `wait4` wake-ups (Linux:
//! `kernel/signal.c`, `do_signal_stop`, `do_notify_parent`, `do_notify_parent_cldstop`).
//!
//! A stopped task sleeps in TASK_STOPPED until SIGCONT clears its `stopped` flag (in
//! `send_signal_info`) or SIGKILL arrives. Its parent learns of stops, continues and exits
//! through SIGCHLD (with CLD_STOPPED, CLD_CONTINUED, CLD_EXITED or CLD_KILLED) unless it
//! asked not to, and its `wait4` is woken to look at the reports left in the child's
//! [`SignalState`](super::SignalState).

use core::sync::atomic::Ordering;

use super::{
    bit, fatal_signal_pending, sa, send_signal_info, si, sig, KernelSigInfo, NSIG, SIG_IGN,
};
use crate::kernel::sched::core::{schedule, set_current_state};
use crate::kernel::task::{state, TaskRef, TaskStruct};

/// Stop the current task until SIGCONT or SIGKILL (Linux's `do_signal_stop`), telling the
/// parent.
pub(super) fn do_signal_stop(task: &TaskStruct, signo: i32) {
    {
        let mut st = task.signal.lock();
        // A SIGCONT sent since the stop signal was taken cancels the stop.
        if task.pending.load(Ordering::Acquire) & bit(sig::SIGCONT) != 0 {
            return;
        }
        st.stopped = true;
        st.stop_report = signo;
        st.cont_report = false;
    }
    do_notify_parent_cldstop(task, si::CLD_STOPPED, signo);
    loop {
        set_current_state(state::TASK_STOPPED);
        if !task.signal.lock().stopped || fatal_signal_pending(task) {
            break;
        }
        schedule();
    }
    set_current_state(state::TASK_RUNNING);
    task.signal.lock().stopped = false;
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
    let st = parent.signal.lock();
    let chld = st.action(sig::SIGCHLD);
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
            (task.exit_code.load(Ordering::Relaxed) >> 8) & 0xff,
            si::CLD_EXITED,
        )
    };
    let ignored =
        exit_signal == sig::SIGCHLD && parent.signal.lock().action(sig::SIGCHLD).handler == SIG_IGN;
    if !ignored && (1..=NSIG as i32).contains(&exit_signal) {
        send_signal_info(
            parent,
            KernelSigInfo {
                signo: exit_signal,
                code,
                pid: task.pid(),
                uid: 0,
                status,
            },
        );
    }
    parent.child_exit_wait.wake_up_all();
}

fn code_signal(task: &TaskStruct) -> i32 {
    task.exit_code.load(Ordering::Relaxed) & 0x7f
}

/// Tell the parent `task` stopped or continued: SIGCHLD unless it set SA_NOCLDSTOP, and a
/// wake-up for `wait4(WUNTRACED | WCONTINUED)` (Linux's `do_notify_parent_cldstop`).
pub fn do_notify_parent_cldstop(task: &TaskStruct, why: i32, signo: i32) {
    let Some(parent) = parent_of(task) else {
        return;
    };
    let nocldstop = {
        let st = parent.signal.lock();
        let chld = st.action(sig::SIGCHLD);
        chld.handler == SIG_IGN || chld.flags & sa::SA_NOCLDSTOP != 0
    };
    if !nocldstop {
        send_signal_info(
            &parent,
            KernelSigInfo {
                signo: sig::SIGCHLD,
                code: why,
                pid: task.pid(),
                uid: 0,
                status: signo,
            },
        );
    }
    parent.child_exit_wait.wake_up_all();
}

/// A counted reference to `task`'s parent, if it has one.
pub fn get_parent(task: &TaskStruct) -> Option<TaskRef> {
    parent_of(task)
}
