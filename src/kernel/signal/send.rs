//! Sending signals: to a process or to one thread, `kill`, `tkill`, `tgkill`,
//! `rt_sigqueueinfo`, `rt_tgsigqueueinfo`, `pidfd_send_signal` (Linux: `kernel/signal.c`,
//! `__send_signal_locked`, `prepare_signal`, `complete_signal`, `zap_other_threads`,
//! `do_send_sig_info`, `send_sigqueue`).
//!
//! A process-directed signal pends in the group's `shared_pending` (and its information in
//! the group's queue); a thread-directed one in the thread's `pending` (and queue). Either way [`complete_signal`] then picks a thread that does not
//! block it and wakes it; if the signal is fatal (default action terminate, or SIGKILL) the
//! whole group is marked exiting and every thread gets SIGKILL, as Linux does.

use alloc::vec::Vec;
use core::sync::atomic::Ordering;

use super::notify::do_notify_parent_cldstop;
use super::signal_struct::GroupExit;
use super::sigqueue::Charge;
use super::{
    action_of, bit, set_sigpending, si, sig, valid, KernelSigInfo, SigQueue, IGNORE_MASK, NSIG,
    SIG_DFL, SIG_IGN, STOP_MASK,
};
use crate::kernel::errno::Errno;
use crate::kernel::sched::core::try_to_wake_up;
use crate::kernel::task::{current, state, TaskRef, TaskStruct, JOBCTL_STOP_PENDING, PF_EXITING};

/// True if `signo` would be dropped on arrival: not blocked, and ignored (explicitly or by
/// default). PID 1 drops every signal it has no handler for (Linux's `sig_ignored`,
/// `sig_task_ignored`).
fn sig_ignored(task: &TaskStruct, signo: i32) -> bool {
    // Blocked signals are never ignored: the handler may change before they are unblocked,
    // or `rt_sigtimedwait` may take them (init waits for SIGCHLD that way).
    let blocked = task.blocked.load(Ordering::Relaxed) | task.real_blocked.load(Ordering::Relaxed);
    if blocked & bit(signo) != 0 {
        return false;
    }
    let handler = action_of(task, signo).handler;
    if task.tgid.load(Ordering::Relaxed) == 1 && handler == SIG_DFL {
        return true;
    }
    // A pending SIGCONT is how a task about to stop learns it was continued meanwhile.
    if signo == sig::SIGCONT {
        return false;
    }
    handler == SIG_IGN || (handler == SIG_DFL && bit(signo) & IGNORE_MASK != 0)
}

/// True if `task` ignores or blocks `signo` (the test of Linux's `is_ignored` and
/// `is_current_pgrp_orphaned` callers in the tty: such a task cannot be stopped by it).
pub fn is_ignored_or_blocked(task: &TaskStruct, signo: i32) -> bool {
    task.blocked.load(Ordering::Relaxed) & bit(signo) != 0
        || action_of(task, signo).handler == SIG_IGN
}

/// The stop/continue rules every sent signal goes through first, for the whole group
/// (Linux's `prepare_signal`): SIGCONT discards pending stop signals and continues a
/// stopped group; a stop signal discards a pending SIGCONT. False if the group is exiting
/// and the signal is pointless.
fn prepare_signal(task: &TaskStruct, signo: i32) -> bool {
    let group = task.signal();
    if group.group_exiting() {
        return signo == sig::SIGKILL;
    }
    if signo == sig::SIGCONT {
        super::flush_pending_mask(task, STOP_MASK);
        group.for_each_thread(|t| {
            t.jobctl.fetch_and(!JOBCTL_STOP_PENDING, Ordering::AcqRel);
        });
        let continued = {
            let mut inner = group.inner.lock();
            let was = inner.stopped;
            if was {
                inner.stopped = false;
                inner.stop_report = 0;
                inner.cont_report = true;
            }
            was
        };
        if continued {
            group.for_each_thread(|t| {
                try_to_wake_up(t, state::TASK_STOPPED);
            });
            let leader = task.group_leader();
            do_notify_parent_cldstop(&leader, si::CLD_CONTINUED, sig::SIGCONT);
        }
    } else if bit(signo) & STOP_MASK != 0 {
        super::flush_pending_mask(task, bit(sig::SIGCONT));
    }
    !sig_ignored(task, signo)
}

/// True if `t` can take `signo` now (Linux's `wants_signal`).
fn wants_signal(t: &TaskStruct, signo: i32) -> bool {
    if t.blocked.load(Ordering::Relaxed) & bit(signo) != 0 {
        return false;
    }
    if t.flags.load(Ordering::Relaxed) & PF_EXITING != 0 {
        return false;
    }
    signo == sig::SIGKILL || t.state.load(Ordering::Relaxed) != state::TASK_STOPPED
}

/// Wake `t` to handle a signal (Linux's `signal_wake_up`): from an interruptible sleep, and
/// for SIGKILL also from a stop. A thread that is not asleep may be running on another CPU
/// — in user space, where it would only notice at its next tick: [`kick_process`] makes it
/// enter the kernel now and see its `sigpending` on the way back.
pub(super) fn signal_wake_up(t: &TaskStruct, fatal: bool) {
    let mask = if fatal {
        state::TASK_INTERRUPTIBLE | state::TASK_STOPPED
    } else {
        state::TASK_INTERRUPTIBLE
    };
    if !try_to_wake_up(t, mask) {
        kick_process(t);
    }
}

/// Make `t`, if it is running on another CPU, go through the kernel (Linux's
/// `kick_process`, which Linux keeps in `kernel/sched/core.c`): a reschedule IPI to its
/// CPU, whose return to user space then runs `exit_to_user_mode` and finds the signal. The
/// caller has set `t`'s `sigpending` (with a full barrier) first, so either the IPI's return
/// path or the thread's own next check sees it. A thread that is only queued needs nothing:
/// it checks on its way to user space when it next runs.
fn kick_process(t: &TaskStruct) {
    crate::kernel::sched::core::preempt_disable();
    let cpu = crate::kernel::sched::core::task_cpu(t);
    if cpu != crate::arch::percpu::smp_processor_id() && t.on_cpu.load(Ordering::Acquire) {
        crate::kernel::smp::smp_send_reschedule(cpu);
    }
    crate::kernel::sched::core::preempt_enable();
}

/// SIGKILL to every thread of `task`'s group but `task` itself (Linux's
/// `zap_other_threads`). Returns how many were sent it.
pub fn zap_other_threads(task: &TaskStruct) -> usize {
    let mut n = 0;
    task.signal().for_each_thread(|t| {
        if t.ptr_eq(task) || t.exit_state.load(Ordering::Acquire) != 0 {
            return;
        }
        t.jobctl.store(0, Ordering::Release);
        t.pending.fetch_or(bit(sig::SIGKILL), Ordering::AcqRel);
        set_sigpending(t);
        signal_wake_up(t, true);
        n += 1;
    });
    n
}

/// Find a thread to take `signo` and wake it; make a fatal signal kill the group (Linux's
/// `complete_signal`). `group` says whether the signal is process-directed.
fn complete_signal(task: &TaskStruct, signo: i32, group: bool) {
    let signal = task.signal();
    let target: Option<TaskRef> = if wants_signal(task, signo) {
        Some(task.get_ref())
    } else if !group {
        return; // a thread-directed signal waits for its thread
    } else {
        signal
            .threads
            .lock()
            .iter()
            .find(|t| wants_signal(t, signo))
            .cloned()
    };
    let Some(target) = target else {
        return; // everyone blocks it: it stays pending for whoever unblocks it first
    };
    let fatal = signo == sig::SIGKILL
        || (action_of(task, signo).handler == SIG_DFL
            && bit(signo) & (IGNORE_MASK | STOP_MASK) == 0
            && target.real_blocked.load(Ordering::Relaxed) & bit(signo) == 0);
    if fatal
        && task.tgid.load(Ordering::Relaxed) != 1
        && signal.start_group_exit(signo) == GroupExit::Started
    {
        // The whole group dies of it: the status is the signal, every thread gets SIGKILL.
        signal.inner.lock().stopped = false;
        signal.for_each_thread(|t| {
            t.jobctl.store(0, Ordering::Release);
            t.pending.fetch_or(bit(sig::SIGKILL), Ordering::AcqRel);
            set_sigpending(t);
            signal_wake_up(t, true);
        });
        return;
    }
    signal_wake_up(&target, signo == sig::SIGKILL);
}

/// The first real-time signal (Linux's `SIGRTMIN`; glibc reserves 32 and 33 for itself).
pub const SIGRTMIN: i32 = 32;

/// Queue `info` for `task` (`group`: for its process) and wake a thread to take it (Linux's
/// `__send_signal_locked`). A standard signal already pending is merged (`legacy_queue`),
/// except a POSIX timer's, which has its own entry. Each instance is charged to the
/// receiver's real user: a real-time signal, or a standard one with a negative si_code,
/// over RLIMIT_SIGPENDING is not queued — EAGAIN for a real-time signal sent with
/// information (not SI_USER), else the signal is pending without its information (Linux's
/// `override_rlimit` and TRACE_SIGNAL_LOSE_INFO). SIGKILL has no information.
fn send_signal_locked(task: &TaskStruct, info: KernelSigInfo, group: bool) -> Result<(), Errno> {
    send_signal_queue(task, info, group).map(|_| ())
}

/// What [`send_signal_queue`] did with a signal it was given.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Sent {
    /// Pending now (queued, or merged with the pending instance of a standard signal), or
    /// dropped as ignored.
    Done,
    /// A POSIX timer's signal whose previous instance from the same timer is still queued:
    /// nothing sent (the timer counts an overrun).
    TimerPending,
    /// Not sent: this error.
    Failed(Errno),
}

/// [`send_signal_locked`], telling a POSIX timer whether its previous signal is still queued
/// (decided under the same lock as the queuing, so two expiries never queue two).
fn send_signal_queue(task: &TaskStruct, info: KernelSigInfo, group: bool) -> Result<Sent, Errno> {
    let signo = info.signo;
    if !(1..=NSIG as i32).contains(&signo) || task.is_kthread() {
        return Ok(Sent::Done);
    }
    if !prepare_signal(task, signo) {
        return Ok(Sent::Done);
    }
    let charge = if info.code == si::SI_TIMER {
        Charge::None
    } else {
        let uid = crate::kernel::cred::task_cred(task).uid;
        Charge::User {
            uid,
            limit: task.signal().rlimit_sigpending().0,
            override_rlimit: signo < SIGRTMIN && info.code >= 0,
        }
    };
    // Under the owner's lock: the bit, and the queue's entry if the signal has one.
    let queue_it = |pending: &core::sync::atomic::AtomicU64, queue: &mut SigQueue| {
        let before = pending.load(Ordering::Acquire);
        if info.code == si::SI_TIMER
            && before & bit(signo) != 0
            && queue.any(signo, |q| {
                q.code == si::SI_TIMER && q.timerid == info.timerid
            })
        {
            return Err(Sent::TimerPending);
        }
        if signo < SIGRTMIN && before & bit(signo) != 0 && info.code != si::SI_TIMER {
            return Ok(false); // merged with the pending one
        }
        if before & bit(signo) == 0 {
            // Every clearing of a bit flushes its entries under this lock; this keeps an
            // entry whose bit is clear from ever being taken for a new instance.
            queue.flush_mask(bit(signo));
        }
        if signo != sig::SIGKILL
            && !queue.push(info, charge)
            && signo >= SIGRTMIN
            && info.code != si::SI_USER
        {
            return Err(Sent::Failed(Errno::EAGAIN));
        }
        pending.fetch_or(bit(signo), Ordering::AcqRel);
        Ok(true)
    };
    if group {
        let signal = task.signal();
        let queued = {
            let mut inner = signal.inner.lock();
            queue_it(&signal.shared_pending, &mut inner.shared_queue)
        };
        match queued {
            Ok(true) => {}
            Ok(false) => return Ok(Sent::Done),
            Err(Sent::Failed(e)) => return Err(e),
            Err(other) => return Ok(other),
        }
        // Any thread may take it, now or once it unblocks the signal.
        signal.for_each_thread(|t| set_sigpending(t));
    } else {
        let queued = {
            let mut st = task.sigstate.lock();
            queue_it(&task.pending, &mut st.queue)
        };
        match queued {
            Ok(true) => {}
            Ok(false) => return Ok(Sent::Done),
            Err(Sent::Failed(e)) => return Err(e),
            Err(other) => return Ok(other),
        }
        set_sigpending(task);
    }
    crate::fs::signalfd::signalfd_notify();
    complete_signal(task, signo, group);
    Ok(Sent::Done)
}

/// Queue a POSIX timer's signal (Linux's `send_sigqueue`): false, sending nothing, if the
/// same timer's signal is still queued there (the timer counts an overrun instead).
pub fn send_sigqueue(task: &TaskStruct, info: KernelSigInfo, group: bool) -> bool {
    send_signal_queue(task, info, group) != Ok(Sent::TimerPending)
}

/// Queue a process-directed signal with its `siginfo` for `task`'s process and wake a
/// thread to take it (Linux's `group_send_sig_info` → `__send_signal_locked`).
pub fn send_signal_info(task: &TaskStruct, info: KernelSigInfo) {
    let _ = send_signal_locked(task, info, true);
}

/// Queue a signal for the one thread `task` (Linux's `send_signal_locked` with
/// PIDTYPE_PID: `tkill`, `tgkill`, faults).
pub fn send_signal_info_thread(task: &TaskStruct, info: KernelSigInfo) {
    let _ = send_signal_locked(task, info, false);
}

/// Send `signo` from the current task, as `kill` does (si_code SI_USER); the kernel uses it
/// for SIGPIPE, as Linux's `send_sig(sig, p, 0)`.
pub fn send_signal(task: &TaskStruct, signo: i32) {
    send_signal_info(task, user_info(signo, si::SI_USER));
}

fn user_info(signo: i32, code: i32) -> KernelSigInfo {
    KernelSigInfo {
        signo,
        code,
        pid: current().tgid.load(Ordering::Relaxed),
        uid: crate::kernel::cred::with_current_cred(|c| c.uid),
        ..KernelSigInfo::default()
    }
}

/// Send `signo` from the kernel itself (si_code SI_KERNEL, as Linux's `SEND_SIG_PRIV`): the
/// tty's ^C, ^\ and ^Z.
pub fn send_signal_kernel(task: &TaskStruct, signo: i32) {
    send_signal_info(
        task,
        KernelSigInfo {
            signo,
            code: si::SI_KERNEL,
            ..KernelSigInfo::default()
        },
    );
}

/// A live task with this ID: a thread that has exited (a zombie leader) no longer takes
/// thread-directed signals.
fn find_live(pid: i32) -> Result<TaskRef, Errno> {
    crate::kernel::pid::find_task_by_pid(pid).ok_or(Errno::ESRCH)
}

fn kill_one(pid: i32, signo: i32) -> Result<u64, Errno> {
    let task = find_live(pid)?;
    super::check_kill_permission(&task, signo)?;
    if task.is_kthread() && signo != 0 {
        return Ok(0); // kernel threads ignore signals from user space
    }
    if signo != 0 {
        send_signal_info(&task, user_info(signo, si::SI_USER));
    }
    Ok(0)
}

/// `kill(2)`: to one process (any of its threads' IDs names it), or (pid -1) every process
/// but PID 1 and the caller's.
pub fn sys_kill(pid: i32, signo: i32) -> Result<u64, Errno> {
    if signo != 0 {
        valid(signo)?;
    }
    if pid > 0 {
        return kill_one(pid, signo);
    }
    if pid == -1 {
        let me = current().tgid.load(Ordering::Relaxed);
        let info = user_info(signo, si::SI_USER);
        let mut leaders: Vec<TaskRef> = Vec::new();
        crate::kernel::pid::for_each_task(|t| {
            if t.pid() > 1 && t.pid() == t.tgid.load(Ordering::Relaxed) && t.pid() != me {
                leaders.push(t.get_ref());
            }
        });
        for t in leaders {
            if !t.is_kthread() && signo != 0 && super::check_kill_permission(&t, signo).is_ok() {
                send_signal_info(&t, info);
            }
        }
        return Ok(0);
    }
    // 0: the caller's process group; -n: group n.
    let pgrp = if pid == 0 {
        crate::kernel::session::pgrp_of(current())
    } else {
        pid.checked_neg().ok_or(Errno::ESRCH)?
    };
    crate::kernel::session::kill_pgrp(pgrp, signo, false)
}

fn do_tkill(tgid: Option<i32>, tid: i32, signo: i32) -> Result<u64, Errno> {
    if tid <= 0 {
        return Err(Errno::EINVAL);
    }
    if signo != 0 {
        valid(signo)?;
    }
    let task = find_live(tid)?;
    if tgid.is_some_and(|tgid| task.tgid.load(Ordering::Relaxed) != tgid)
        || task.exit_state.load(Ordering::Acquire) != 0
    {
        return Err(Errno::ESRCH);
    }
    super::check_kill_permission(&task, signo)?;
    if signo != 0 && !task.is_kthread() {
        send_signal_info_thread(&task, user_info(signo, si::SI_TKILL));
    }
    Ok(0)
}

/// `tkill(2)`: a signal to one thread.
pub fn sys_tkill(tid: i32, signo: i32) -> Result<u64, Errno> {
    do_tkill(None, tid, signo)
}

/// `tgkill(2)`: a signal to thread `tid` of process `tgid` (ESRCH if it is not in it).
pub fn sys_tgkill(tgid: i32, tid: i32, signo: i32) -> Result<u64, Errno> {
    if tgid <= 0 {
        return Err(Errno::EINVAL);
    }
    do_tkill(Some(tgid), tid, signo)
}

/// Read the `siginfo_t` at `uinfo` for a signal `signo` (Linux's `__copy_siginfo_from_user`:
/// `si_signo` becomes `signo`).
fn copy_siginfo_from_user(signo: i32, uinfo: u64) -> Result<KernelSigInfo, Errno> {
    let mut b = [0u8; 128];
    crate::arch::uaccess::copy_from_user(&mut b, uinfo)?;
    let mut info = KernelSigInfo::from_user_bytes(&b);
    info.signo = signo;
    Ok(info)
}

/// Not even root may pretend to be the kernel or `kill`/`tgkill` (which add the sender's
/// identity) to anyone but itself: EPERM for si_code >= 0 or SI_TKILL unless `target` is the
/// calling thread's ID (Linux's test in `do_rt_sigqueueinfo`).
fn check_user_code(info: &KernelSigInfo, target: i32) -> Result<(), Errno> {
    if (info.code >= 0 || info.code == si::SI_TKILL) && current().pid() != target {
        return Err(Errno::EPERM);
    }
    Ok(())
}

/// Send `info` to `task`'s process from user space with the checks of Linux's
/// `group_send_sig_info` (EINVAL for a bad signal number, then the kill permission); signal 0
/// only checks.
pub(crate) fn group_send_user_info(task: &TaskStruct, info: KernelSigInfo) -> Result<(), Errno> {
    if !(0..=NSIG as i32).contains(&info.signo) {
        return Err(Errno::EINVAL);
    }
    super::check_kill_permission(task, info.signo)?;
    if info.signo != 0 && !task.is_kthread() {
        send_signal_locked(task, info, true)?;
    }
    Ok(())
}

/// `rt_sigqueueinfo(2)`: a signal with the caller's `siginfo_t` to process `pid` (any of its
/// threads' IDs names it; Linux's `kill_proc_info`). EFAULT, EPERM (a code that only the
/// kernel or `kill` may use, to another thread), ESRCH, EINVAL (signal number), EPERM
/// (permission), EAGAIN (a real-time signal over RLIMIT_SIGPENDING), in Linux's order.
pub fn sys_rt_sigqueueinfo(pid: i32, signo: i32, uinfo: u64) -> Result<u64, Errno> {
    let info = copy_siginfo_from_user(signo, uinfo)?;
    check_user_code(&info, pid)?;
    let task = if pid > 0 {
        find_live(pid)?
    } else {
        return Err(Errno::ESRCH);
    };
    group_send_user_info(&task, info)?;
    Ok(0)
}

/// `rt_tgsigqueueinfo(2)`: as `rt_sigqueueinfo`, to the one thread `tid` of process `tgid`
/// (Linux's `do_rt_tgsigqueueinfo` → `do_send_specific`): EINVAL for an ID <= 0, ESRCH if
/// the thread is not in that process.
pub fn sys_rt_tgsigqueueinfo(tgid: i32, tid: i32, signo: i32, uinfo: u64) -> Result<u64, Errno> {
    let info = copy_siginfo_from_user(signo, uinfo)?;
    if tid <= 0 || tgid <= 0 {
        return Err(Errno::EINVAL);
    }
    check_user_code(&info, tid)?;
    let task = find_live(tid)?;
    if task.tgid.load(Ordering::Relaxed) != tgid {
        return Err(Errno::ESRCH);
    }
    if !(0..=NSIG as i32).contains(&signo) {
        return Err(Errno::EINVAL);
    }
    super::check_kill_permission(&task, signo)?;
    if signo != 0 && !task.is_kthread() && task.exit_state.load(Ordering::Acquire) == 0 {
        send_signal_locked(&task, info, false)?;
    }
    Ok(0)
}

/// `pidfd_send_signal(2)`: a signal to the process a pidfd names (Linux's
/// `kernel/signal.c`): EINVAL for flags; EBADF if `pidfd` is not a pidfd; with `uinfo`,
/// EFAULT, EINVAL if its `si_signo` is not `signo`, EPERM for a kernel or `kill` code to
/// another thread; else SI_USER from the caller; then as `kill`: ESRCH once the process
/// has been reaped, EINVAL, EPERM.
pub fn sys_pidfd_send_signal(pidfd: i32, signo: i32, uinfo: u64, flags: u32) -> Result<u64, Errno> {
    if flags != 0 {
        return Err(Errno::EINVAL);
    }
    let target = crate::kernel::pid::pidfd_get_pid(pidfd)?;
    let info = if uinfo != 0 {
        let mut b = [0u8; 128];
        crate::arch::uaccess::copy_from_user(&mut b, uinfo)?;
        let info = KernelSigInfo::from_user_bytes(&b);
        if info.signo != signo {
            return Err(Errno::EINVAL);
        }
        check_user_code(&info, target.pid)?;
        info
    } else {
        user_info(signo, si::SI_USER)
    };
    let task = target.task().ok_or(Errno::ESRCH)?;
    group_send_user_info(&task, info)?;
    Ok(0)
}
