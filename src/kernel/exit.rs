//! Ending a task (Linux: `kernel/exit.c`).
//!
//! `do_exit` drops the task's address space, hands its children to the child reaper (PID 1,
//! as Linux's `forget_original_parent` does), and then either waits as a zombie for its
//! parent to collect its status, or — for tasks whose exit signal is none, like kernel
//! threads under kthreadd, which ignores SIGCHLD — releases itself at once. Either way it
//! schedules away for the last time with state TASK_DEAD, and the next task frees its
//! stack (`put_task_struct_dead`).
//!
//! The parent collects its children with `wait4` and `waitid`, both through `do_wait`
//! (Linux's): by PID, process group, any, or pidfd; exits, stops and continues; WNOHANG,
//! WNOWAIT, __WALL/__WCLONE.

use core::sync::atomic::Ordering;

use crate::kernel::pid::{TaskList, TASKLIST};
use crate::kernel::sched::core::do_task_dead;
use crate::kernel::signal::{self, GroupExit};
use crate::kernel::task::{current, state, TaskRef, TaskStruct, PF_EXITING};

/// The task that inherits orphans: PID 1 (Linux's `child_reaper`), or PID 0 before it exists.
fn child_reaper() -> *mut TaskStruct {
    match TASKLIST.lock().find(1) {
        Some(init) => init.as_ptr() as *mut TaskStruct,
        None => &crate::init::init_task::init_task as *const TaskStruct as *mut TaskStruct,
    }
}

/// Take `task` out of the table, its thread group and its parent's children (Linux's
/// `release_task`). Called with nothing locked.
pub fn release_task(task: &TaskStruct) {
    let mut tasklist = TASKLIST.lock();
    let removed = unhash_task(&mut tasklist, task);
    drop(tasklist);
    drop(removed);
    crate::kernel::time::posix_timers::posix_cpu_timers_exit(task);
}

/// The part of `release_task` done under the tasklist lock (Linux's `__unhash_process`).
/// Returns the references to drop once the lock is released.
fn unhash_task(tasklist: &mut TaskList, task: &TaskStruct) -> [Option<TaskRef>; 2] {
    task.exit_state.store(state::EXIT_DEAD, Ordering::Release);
    let removed = tasklist.free_pid(task.pid());
    let parent = task.parent.load(Ordering::Acquire);
    if !parent.is_null() && task.is_group_leader() {
        // SAFETY: a parent outlives its children's links to it (re-parenting happens under
        // the tasklist lock, which we hold).
        let parent = unsafe { &*parent };
        parent.children.lock().retain(|c| !c.ptr_eq(task));
    }
    let mut threads = task.signal().threads.lock();
    let index = threads.iter().position(|t| t.ptr_eq(task));
    if index.is_some() {
        // Its CPU time stays the process's (Linux's `__exit_signal`).
        crate::kernel::sched::cputime::exit_thread_cputime(task.signal(), task);
    }
    let thread = index.map(|i| threads.remove(i));
    let group_dead = threads.is_empty();
    drop(threads);
    signal::flush_sigqueue(task, group_dead);
    [removed, thread]
}

/// Hand `task`'s children to the reaper (Linux's `forget_original_parent`). `task` is a
/// group leader whose whole group has exited.
fn forget_original_parent(task: &TaskStruct) {
    let reaper = child_reaper();
    let orphans: alloc::vec::Vec<TaskRef> = core::mem::take(&mut *task.children.lock());
    if orphans.is_empty() {
        return;
    }
    let mut zombies = alloc::vec::Vec::new();
    {
        let _tasklist = TASKLIST.lock();
        // SAFETY: the reaper is PID 1 (in the table, which we hold) or init_task (static).
        let reaper_task = unsafe { &*reaper };
        let mut adopted = reaper_task.children.lock();
        for child in orphans {
            child.parent.store(reaper, Ordering::Release);
            child.signal().for_each_thread(|thread| {
                thread.parent.store(reaper, Ordering::Release);
            });
            if child.exit_state.load(Ordering::Acquire) == state::EXIT_ZOMBIE
                && child.signal().nr_threads() == 1
            {
                zombies.push(child.clone());
            }
            adopted.push(child);
        }
    }
    // A zombie the old parent never reaped is news to the new one: tell it, as if the
    // child had just exited, or reap it now if it would not wait (Linux's
    // `reparent_leader`).
    // SAFETY: as above; the reaper outlives this call (PID 1 never exits).
    let reaper_task = unsafe { &*reaper };
    for zombie in zombies {
        let exit_signal = zombie.exit_signal.load(Ordering::Relaxed);
        if exit_signal <= 0 || signal::parent_autoreaps(reaper_task, exit_signal) {
            release_task(&zombie);
        }
        signal::do_notify_parent(&zombie, reaper_task, exit_signal);
    }
}

/// `de_thread`'s takeover, for a thread other than the leader that execs once the others
/// are gone (Linux's `exchange_tids`, `transfer_pid` and the list surgery in `de_thread`):
/// `task` gets the leader's PID (the process's ID), parent, exit signal, children and
/// start time; the old leader, a zombie by now, takes `task`'s old TID and is released.
pub fn exchange_leader(task: &TaskStruct, leader: &TaskStruct) {
    let mut tasklist = TASKLIST.lock();
    let (old_tid, tgid) = (task.pid(), leader.pid());
    let mine = tasklist.free_pid(old_tid);
    let theirs = tasklist.free_pid(tgid);
    task.pid.store(tgid, Ordering::Relaxed);
    leader.pid.store(old_tid, Ordering::Relaxed);
    if let (Some(mine), Some(theirs)) = (mine, theirs) {
        tasklist.insert(tgid, mine);
        tasklist.insert(old_tid, theirs);
    }
    let parent = leader.parent.load(Ordering::Acquire);
    task.parent.store(parent, Ordering::Release);
    task.exit_signal.store(
        leader.exit_signal.load(Ordering::Relaxed),
        Ordering::Relaxed,
    );
    leader.exit_signal.store(-1, Ordering::Relaxed);
    task.start_time_ns.store(
        leader.start_time_ns.load(Ordering::Relaxed),
        Ordering::Relaxed,
    );
    for (mine, theirs) in [(&task.pgrp, &leader.pgrp), (&task.session, &leader.session)] {
        mine.store(theirs.load(Ordering::Relaxed), Ordering::Relaxed);
    }
    task.ctty
        .store(leader.ctty.load(Ordering::Relaxed), Ordering::Relaxed);
    if !parent.is_null() {
        // SAFETY: the parent link is stable under the tasklist lock, which we hold.
        let mut siblings = unsafe { &*parent }.children.lock();
        if let Some(slot) = siblings.iter_mut().find(|c| c.ptr_eq(leader)) {
            *slot = task.get_ref();
        }
    }
    let children = core::mem::take(&mut *leader.children.lock());
    for child in &children {
        child
            .parent
            .store(task as *const _ as *mut _, Ordering::Release);
        child.signal().for_each_thread(|thread| {
            thread
                .parent
                .store(task as *const _ as *mut _, Ordering::Release);
        });
    }
    task.children.lock().extend(children);
    let me = task as *const TaskStruct as *mut TaskStruct;
    task.group_leader.store(me, Ordering::Release);
    leader.group_leader.store(me, Ordering::Release);
    {
        let mut threads = task.signal().threads.lock();
        if let Some(i) = threads.iter().position(|t| t.ptr_eq(task)) {
            let t = threads.remove(i);
            threads.insert(0, t);
        }
    }
    let refs = unhash_task(&mut tasklist, leader);
    drop(tasklist);
    drop(refs);
}

/// The wait status of a process whose leader is `task`: the group's when the group was
/// made to exit (`exit_group`, a fatal signal), else the leader's own (Linux's
/// `wait_task_zombie`).
pub fn group_exit_status(task: &TaskStruct) -> i32 {
    let group = task.signal();
    if group.group_exit.load(Ordering::Acquire) {
        group.group_exit_code.load(Ordering::Relaxed)
    } else {
        task.exit_code.load(Ordering::Relaxed)
    }
}

/// What a thread leaving its address space owes the others (Linux's `mm_release`): its
/// robust futexes are marked as their owner's death, and CLONE_CHILD_CLEARTID's word is
/// cleared and its waiter (`pthread_join`) woken, while the memory is still there.
pub fn mm_release(tsk: &TaskStruct) {
    if tsk.mm.lock().is_none() {
        return;
    }
    crate::kernel::futex::exit_robust_list(tsk);
    let tid_ptr = tsk.clear_child_tid.swap(0, Ordering::Relaxed);
    if tid_ptr != 0 && crate::arch::uaccess::copy_to_user(tid_ptr, &0u32.to_le_bytes()).is_ok() {
        let _ = crate::kernel::futex::futex_wake_address(tid_ptr, false, 1, u32::MAX);
    }
}

/// End the current task with `code` (Linux's `do_exit`). Never returns.
pub fn do_exit(code: i32) -> ! {
    let tsk = current();
    // Init may lose threads, its first one included, but not its last (Linux's check in
    // `find_child_reaper`, when the group is dead).
    if tsk.tgid.load(Ordering::Relaxed) == 1 && tsk.signal().live.load(Ordering::Acquire) == 1 {
        panic!("Attempted to kill init! exitcode={code:#010x}");
    }
    if tsk.pid() == 0 {
        panic!("Attempted to kill the idle task!");
    }
    tsk.flags.fetch_or(PF_EXITING, Ordering::Relaxed);
    tsk.exit_code.store(code, Ordering::Relaxed);
    let group = tsk.signal();
    mm_release(tsk);
    // exit_mm: the address space goes with its last user.
    let mm = tsk.mm.lock().take();
    crate::arch::mmu_context::switch_to_kernel_mm();
    drop(mm);
    // exit_files / exit_fs: the descriptors close with the last task sharing them.
    let files = tsk.files.lock().take();
    drop(files);
    let fs = tsk.fs.lock().take();
    drop(fs);
    let group_dead = group.live.fetch_sub(1, Ordering::AcqRel) == 1;
    if group_dead {
        // The process is over (its last thread is leaving). A session leader's terminal is
        // freed; groups left without a shell that could continue their stopped jobs get
        // SIGHUP and SIGCONT.
        let leader = tsk.group_leader();
        crate::drivers::tty::n_tty::console_tty()
            .jobctrl
            .leader_exit(&leader);
        crate::kernel::session::exit_orphaned_pgrps(&leader);
        crate::kernel::time::itimer::exit_itimers(&leader);
        crate::kernel::time::posix_timers::exit_itimers(leader.tgid.load(Ordering::Relaxed));
        crate::kernel::time::posix_timers::forget_process(leader.tgid.load(Ordering::Relaxed));
        forget_original_parent(&leader);
    }
    tsk.exit_done.complete_all();
    tsk.vfork_done.complete_all();

    exit_notify(tsk);
    do_task_dead()
}

/// End the whole thread group (Linux's `do_group_exit`): the first thread to get here sets
/// the group's status and sends SIGKILL to the others; a group already exiting keeps its
/// status; threads killed by `execve`'s `de_thread` leave with 0.
pub fn do_group_exit(code: i32) -> ! {
    let tsk = current();
    let group = tsk.signal();
    let code = match group.start_group_exit(code) {
        GroupExit::Exiting(code) => code,
        GroupExit::Exec => 0,
        GroupExit::Started => {
            signal::zap_other_threads(tsk);
            code
        }
    };
    do_exit(code)
}

/// Tell the parent the process ended, or reap it now when nobody will wait for it (Linux's
/// `exit_notify` and the group-leader half of `release_task`).
///
/// A thread other than the leader reaps itself. A leader becomes a zombie, but a zombie
/// the parent can collect only once every other thread has gone: whichever of the leader
/// and the last other thread leaves last does the telling. The decision is taken under
/// the tasklist lock, so exactly one of them makes it.
fn exit_notify(tsk: &TaskStruct) {
    let group = tsk.signal();
    let mut tasklist = TASKLIST.lock();
    let mut dropped: [Option<TaskRef>; 2] = [None, None];
    let mut leader_refs: [Option<TaskRef>; 2] = [None, None];
    let mut notify: Option<(TaskRef, bool)> = None;
    if tsk.is_group_leader() {
        let autoreap = autoreaps(tsk);
        if group.nr_threads() == 1 {
            if autoreap {
                dropped = unhash_task(&mut tasklist, tsk);
            } else {
                tsk.exit_state.store(state::EXIT_ZOMBIE, Ordering::Release);
            }
            notify = Some((tsk.get_ref(), autoreap));
        } else {
            tsk.exit_state.store(state::EXIT_ZOMBIE, Ordering::Release);
        }
    } else {
        dropped = unhash_task(&mut tasklist, tsk);
        let leader = tsk.group_leader();
        if group.nr_threads() == 1
            && leader.exit_state.load(Ordering::Acquire) == state::EXIT_ZOMBIE
            && group.group_exec_task.load(Ordering::Acquire).is_null()
        {
            let autoreap = autoreaps(&leader);
            if autoreap {
                leader_refs = unhash_task(&mut tasklist, &leader);
            }
            notify = Some((leader, autoreap));
        }
    }
    drop(tasklist);
    drop(dropped);
    drop(leader_refs);
    group.exec_wait.wake_up_all();
    if let Some((leader, _)) = notify {
        let exit_signal = leader.exit_signal.load(Ordering::Relaxed);
        if let Some(parent) = signal::get_parent(&leader) {
            signal::do_notify_parent(&leader, &parent, exit_signal);
        }
    }
}

/// True if nobody will wait for the process led by `leader`: no exit signal, or a parent
/// that ignores SIGCHLD or set SA_NOCLDWAIT. Called with the tasklist lock held.
fn autoreaps(leader: &TaskStruct) -> bool {
    let exit_signal = leader.exit_signal.load(Ordering::Relaxed);
    let parent = leader.parent.load(Ordering::Acquire);
    // SAFETY: the parent link is stable under the tasklist lock, which the caller holds.
    exit_signal <= 0
        || parent.is_null()
        || signal::parent_autoreaps(unsafe { &*parent }, exit_signal)
}

/// Free what a dead task no longer needs once the CPU has left it: its stack and the
/// reference it held on itself. Called by the next task in `finish_task_switch`.
pub fn put_task_struct_dead(task: &TaskStruct) {
    let stack = task.stack.swap(0, Ordering::AcqRel);
    if stack != 0 && task.pid() != 0 {
        crate::kernel::fork::free_thread_stack(stack as u64);
        crate::kernel::fork::task_freed();
    }
    // SAFETY: `kernel_clone` turned the task's first reference into its self-reference with
    // `into_raw`; this is the one place it is taken back, after the task's last switch.
    drop(unsafe { TaskRef::from_raw(task) });
}

/// `exit(2)`: end the calling thread with `status` (as `WEXITSTATUS` sees it). The process
/// ends with its last thread.
pub fn sys_exit(status: i32) -> Result<u64, crate::kernel::errno::Errno> {
    do_exit((status & 0xff) << 8)
}

/// `exit_group(2)`: end every thread of the process.
pub fn sys_exit_group(status: i32) -> Result<u64, crate::kernel::errno::Errno> {
    do_group_exit((status & 0xff) << 8)
}

/// Wait options (Linux's `include/uapi/linux/wait.h`): do not sleep.
const WNOHANG: u32 = 1;
/// Report children stopped by a signal (`wait4`'s WUNTRACED).
const WSTOPPED: u32 = 2;
/// Report children that exited (implied by `wait4`).
const WEXITED: u32 = 4;
/// Report stopped children continued by SIGCONT.
const WCONTINUED: u32 = 8;
/// Leave the child waitable: report without reaping or clearing the report.
const WNOWAIT: u32 = 0x0100_0000;
/// Only the calling thread's children (Cradle's children are the process's).
const __WNOTHREAD: u32 = 0x2000_0000;
/// Wait for every child, whatever its exit signal.
const __WALL: u32 = 0x4000_0000;
/// Wait only for "clone" children: those whose exit signal is not SIGCHLD.
const __WCLONE: u32 = 0x8000_0000;

/// `waitid`'s `idtype` (Linux's P_ALL, P_PID, P_PGID, P_PIDFD).
const P_ALL: i32 = 0;
const P_PID: i32 = 1;
const P_PGID: i32 = 2;
const P_PIDFD: i32 = 3;

/// Which children a wait is for (Linux's `wo_type` + `wo_pid`).
#[derive(Clone, Copy)]
enum WaitWho {
    /// Any child.
    All,
    /// The child with this PID.
    Pid(i32),
    /// Any child in this process group.
    Pgid(i32),
}

/// What a wait found in a child (Linux's `wait_task_zombie`, `wait_task_stopped`,
/// `wait_task_continued` results).
struct WaitEvent {
    /// The child's PID.
    pid: i32,
    /// The `wait4` status word: the exit status, `0x7f | sig << 8` for a stop, `0xffff`
    /// for a continue.
    status: i32,
    /// `si_code`: CLD_EXITED, CLD_KILLED, CLD_DUMPED, CLD_STOPPED or CLD_CONTINUED.
    cause: i32,
    /// `si_status`: the exit code, or the signal that killed, stopped or continued it.
    si_status: i32,
    /// The child's real user ID.
    uid: u32,
    /// Its CPU time and its reaped children's (Linux's `getrusage(p, RUSAGE_BOTH)`).
    usage: crate::kernel::sched::cputime::Usage,
}

/// The `si_code` and `si_status` of an exit status (Linux's `wait_task_zombie`).
fn exit_cause(status: i32) -> (i32, i32) {
    use crate::kernel::signal::si;
    if status & 0x7f != 0 {
        let cause = if status & 0x80 != 0 {
            si::CLD_DUMPED
        } else {
            si::CLD_KILLED
        };
        (cause, status & 0x7f)
    } else {
        (si::CLD_EXITED, (status >> 8) & 0xff)
    }
}

/// Wait for a child of the caller's process matching `who` to change as `options` asks
/// (Linux's `do_wait`): the first child with something to report, reaped if it is a zombie
/// unless WNOWAIT. Ok(None) with WNOHANG if none has changed; ECHILD if there is no such
/// child; interrupted by a signal (ERESTARTSYS: restarted under SA_RESTART).
fn do_wait(who: WaitWho, options: u32) -> Result<Option<WaitEvent>, crate::kernel::errno::Errno> {
    use crate::kernel::errno::Errno;
    use crate::kernel::sched::cputime::child_total_usage;
    // Any thread waits for the children of its process, which hang off the leader.
    let me = current().group_leader();
    let me = &*me;
    let eligible = |child: &TaskStruct| {
        let matches = match who {
            WaitWho::All => true,
            WaitWho::Pid(p) => child.pid() == p,
            WaitWho::Pgid(g) => crate::kernel::session::pgrp_of(child) == g,
        };
        // Linux's `eligible_child`: a "clone" child (exit signal not SIGCHLD) only with
        // __WCLONE, the others only without it; both with __WALL.
        let clone_child = child.exit_signal.load(Ordering::Relaxed) != signal::sig::SIGCHLD;
        matches && (options & __WALL != 0 || clone_child == (options & __WCLONE != 0))
    };
    let uid_of = |child: &TaskStruct| crate::kernel::cred::task_cred(child).uid;
    let wnowait = options & WNOWAIT != 0;
    // Linux's `wait_consider_task`: the first child with something to report.
    let find = || -> (Option<WaitEvent>, bool) {
        let mut tasklist = TASKLIST.lock();
        let mut any = false;
        let mut zombie = None;
        {
            let children = me.children.lock();
            for child in children.iter() {
                if !eligible(child) {
                    continue;
                }
                any = true;
                // A leader's zombie is collectable once its other threads are gone too.
                if child.exit_state.load(Ordering::Acquire) == state::EXIT_ZOMBIE
                    && child.signal().nr_threads() == 1
                {
                    if options & WEXITED != 0 {
                        zombie = Some(child.clone());
                        break;
                    }
                    continue;
                }
                let mut st = child.signal().inner.lock();
                if options & WSTOPPED != 0 && st.stop_report != 0 {
                    let signo = st.stop_report;
                    if !wnowait {
                        st.stop_report = 0;
                    }
                    drop(st);
                    return (
                        Some(WaitEvent {
                            pid: child.pid(),
                            status: 0x7f | (signo << 8),
                            cause: signal::si::CLD_STOPPED,
                            si_status: signo,
                            uid: uid_of(child),
                            usage: child_total_usage(child.signal()),
                        }),
                        true,
                    );
                }
                if options & WCONTINUED != 0 && st.cont_report {
                    if !wnowait {
                        st.cont_report = false;
                    }
                    drop(st);
                    return (
                        Some(WaitEvent {
                            pid: child.pid(),
                            status: 0xffff,
                            cause: signal::si::CLD_CONTINUED,
                            si_status: signal::sig::SIGCONT,
                            uid: uid_of(child),
                            usage: child_total_usage(child.signal()),
                        }),
                        true,
                    );
                }
            }
        }
        let Some(child) = zombie else {
            return (None, any);
        };
        let status = group_exit_status(&child);
        let (cause, si_status) = exit_cause(status);
        let mut event = WaitEvent {
            pid: child.pid(),
            status,
            cause,
            si_status,
            uid: uid_of(&child),
            usage: Default::default(),
        };
        if wnowait {
            event.usage = child_total_usage(child.signal());
            return (Some(event), true);
        }
        // Reap it under the same lock, so no other waiter can take it too. Its CPU time,
        // and its reaped children's, become the parent's children's time now and not
        // before (Linux's `wait_task_zombie`).
        event.usage =
            crate::kernel::sched::cputime::reap_child_cputime(me.signal(), child.signal());
        let refs = unhash_task(&mut tasklist, &child);
        drop(tasklist);
        drop(refs);
        (Some(event), true)
    };
    let mut found = None;
    let mut none_left = false;
    me.child_exit_wait.wait_event_interruptible(|| {
        if options & WNOHANG != 0 || found.is_some() || none_left {
            return true;
        }
        let (event, any) = find();
        found = event;
        none_left = !any;
        found.is_some() || none_left
    })?;
    if found.is_none() && !none_left {
        // WNOHANG: one look, no sleep.
        let (event, any) = find();
        found = event;
        none_left = !any;
    }
    match found {
        Some(event) => Ok(Some(event)),
        None if none_left => Err(Errno::ECHILD),
        None => Ok(None),
    }
}

/// `wait4(2)`: reap a zombie child (pid -1: any; > 0: that one; 0: any in the caller's
/// process group; < -1: any in group -pid) and report its status in Linux's encoding;
/// with WUNTRACED also a stopped child (`0x7f | sig << 8`), with WCONTINUED a continued one
/// (`0xffff`). EINVAL for an unknown option, ESRCH for pid INT_MIN; ECHILD if there is no
/// such child; 0 with WNOHANG if none has changed (Linux's `kernel_wait4`).
pub fn sys_wait4(
    pid: i32,
    wstatus: u64,
    options: u32,
    rusage: u64,
) -> Result<u64, crate::kernel::errno::Errno> {
    use crate::kernel::errno::Errno;
    if options & !(WNOHANG | WSTOPPED | WCONTINUED | __WNOTHREAD | __WCLONE | __WALL) != 0 {
        return Err(Errno::EINVAL);
    }
    let who = match pid {
        i32::MIN => return Err(Errno::ESRCH),
        -1 => WaitWho::All,
        0 => WaitWho::Pgid(crate::kernel::session::pgrp_of(current())),
        p if p < 0 => WaitWho::Pgid(-p),
        p => WaitWho::Pid(p),
    };
    let Some(event) = do_wait(who, options | WEXITED)? else {
        return Ok(0); // WNOHANG, and nothing to report
    };
    if wstatus != 0 {
        crate::arch::uaccess::copy_to_user(wstatus, &event.status.to_le_bytes())?;
    }
    if rusage != 0 {
        crate::kernel::sys::put_rusage(rusage, &event.usage, 0)?;
    }
    Ok(event.pid as u64)
}

/// `waitid(2)` (Linux's `kernel_waitid` and `sys_waitid`): wait for a child by `idtype`
/// (P_ALL; P_PID `id`; P_PGID `id`, 0 for the caller's group; P_PIDFD: the process pidfd
/// `id` names, whose O_NONBLOCK means WNOHANG and EAGAIN instead of 0) to exit (WEXITED),
/// stop (WSTOPPED) or continue (WCONTINUED), WNOWAIT leaving it waitable. The `siginfo_t`
/// gets SIGCHLD, the CLD_* code, the child's PID, real UID and status (all 0 when
/// nothing was found, and written whatever the result, as on Linux); `rusage`, if given,
/// the child's usage. EINVAL for unknown options or none of the three events, or a bad
/// idtype or ID; EBADF for a pidfd that is not one; ECHILD if no child matches.
pub fn sys_waitid(
    idtype: i32,
    id: i32,
    infop: u64,
    options: u32,
    rusage: u64,
) -> Result<u64, crate::kernel::errno::Errno> {
    use crate::kernel::errno::Errno;
    let result = (|| -> Result<Option<WaitEvent>, Errno> {
        if options
            & !(WNOHANG
                | WNOWAIT
                | WEXITED
                | WSTOPPED
                | WCONTINUED
                | __WNOTHREAD
                | __WCLONE
                | __WALL)
            != 0
            || options & (WEXITED | WSTOPPED | WCONTINUED) == 0
        {
            return Err(Errno::EINVAL);
        }
        let asked_nohang = options & WNOHANG;
        let mut options = options;
        let mut pidfd_nonblock = false;
        let who = match idtype {
            P_ALL => WaitWho::All,
            P_PID if id <= 0 => return Err(Errno::EINVAL),
            P_PID => WaitWho::Pid(id),
            P_PGID if id < 0 => return Err(Errno::EINVAL),
            P_PGID if id == 0 => WaitWho::Pgid(crate::kernel::session::pgrp_of(current())),
            P_PGID => WaitWho::Pgid(id),
            P_PIDFD if id < 0 => return Err(Errno::EINVAL),
            P_PIDFD => {
                let (pidfd, nonblock) = crate::kernel::pid::pidfd_get_pid_flags(id)?;
                pidfd_nonblock = nonblock;
                // A reaped process matches no child, even one that got its PID since.
                WaitWho::Pid(if pidfd.task().is_some() { pidfd.pid } else { 0 })
            }
            _ => return Err(Errno::EINVAL),
        };
        if pidfd_nonblock {
            options |= WNOHANG;
        }
        let found = do_wait(who, options)?;
        if found.is_none() && pidfd_nonblock && asked_nohang == 0 {
            return Err(Errno::EAGAIN);
        }
        Ok(found)
    })();
    let (ret, event) = match result {
        Ok(event) => (Ok(0), event),
        Err(e) => (Err(e), None),
    };
    if let (Some(event), true) = (&event, rusage != 0) {
        crate::kernel::sys::put_rusage(rusage, &event.usage, 0)?;
    }
    if infop == 0 {
        return ret;
    }
    let (signo, cause, pid, uid, status) = match &event {
        Some(e) => (signal::sig::SIGCHLD, e.cause, e.pid, e.uid, e.si_status),
        None => (0, 0, 0, 0, 0),
    };
    let mut head = [0u8; 12];
    head[0..4].copy_from_slice(&signo.to_le_bytes());
    head[8..12].copy_from_slice(&cause.to_le_bytes());
    let mut body = [0u8; 12];
    body[0..4].copy_from_slice(&pid.to_le_bytes());
    body[4..8].copy_from_slice(&uid.to_le_bytes());
    body[8..12].copy_from_slice(&status.to_le_bytes());
    crate::arch::uaccess::copy_to_user(infop, &head)?;
    crate::arch::uaccess::copy_to_user(infop.wrapping_add(16), &body)?;
    ret
}
