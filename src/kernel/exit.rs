//! Ending a task (Linux: `kernel/exit.c`).
//!
//! `do_exit` drops the task's address space, hands its children to the child reaper (PID 1,
//! as Linux's `forget_original_parent` does), and then either waits as a zombie for its
//! parent to collect its status, or — for tasks whose exit signal is none, like kernel
//! threads under kthreadd, which ignores SIGCHLD — releases itself at once. Either way it
//! schedules away for the last time with state TASK_DEAD, and the next task frees its
//! stack (`put_task_struct_dead`).

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

/// `wait4` options (Linux's `include/uapi/linux/wait.h`).
const WNOHANG: u32 = 1;
/// Also report children stopped by a signal.
const WUNTRACED: u32 = 2;
/// Also report stopped children continued by SIGCONT.
const WCONTINUED: u32 = 8;

/// What `wait4` found in a child: its PID and the status to report (a zombie it reaped,
/// or a stop or continue).
enum WaitEvent {
    /// Reaped, stopped or continued; for a reaped child, what its CPU time was.
    Changed(i32, i32, Option<crate::kernel::sched::cputime::Usage>),
}

/// `wait4(2)`: reap a zombie child (pid -1: any; > 0: that one; 0: any in the caller's
/// process group; < -1: any in group -pid) and report its status in Linux's
/// encoding; with WUNTRACED also a stopped child (`0x7f | sig << 8`), with WCONTINUED a
/// continued one (`0xffff`). ECHILD if there is no such child; 0 with WNOHANG if none has
/// changed. A signal interrupts the wait (ERESTARTSYS: restarted under SA_RESTART).
pub fn sys_wait4(
    pid: i32,
    wstatus: u64,
    options: u32,
    rusage: u64,
) -> Result<u64, crate::kernel::errno::Errno> {
    use crate::kernel::errno::Errno;
    // Any thread waits for the children of its process, which hang off the leader.
    let me = current().group_leader();
    let me = &*me;
    let my_pgrp = crate::kernel::session::pgrp_of(me);
    let matches = |child: &TaskStruct| match pid {
        -1 => true,
        0 => crate::kernel::session::pgrp_of(child) == my_pgrp,
        p if p < -1 => crate::kernel::session::pgrp_of(child) == -p,
        p => child.pid() == p,
    };
    // Linux's `do_wait` → `wait_consider_task`: the first child with something to report.
    let find = || -> (Option<WaitEvent>, bool) {
        let mut tasklist = TASKLIST.lock();
        let mut any = false;
        let mut zombie = None;
        {
            let children = me.children.lock();
            for child in children.iter() {
                if !matches(child) {
                    continue;
                }
                any = true;
                // A leader's zombie is collectable once its other threads are gone too.
                if child.exit_state.load(Ordering::Acquire) == state::EXIT_ZOMBIE
                    && child.signal().nr_threads() == 1
                {
                    zombie = Some(child.clone());
                    break;
                }
                let mut st = child.signal().inner.lock();
                if options & WUNTRACED != 0 && st.stop_report != 0 {
                    let status = 0x7f | (st.stop_report << 8);
                    st.stop_report = 0;
                    return (Some(WaitEvent::Changed(child.pid(), status, None)), true);
                }
                if options & WCONTINUED != 0 && st.cont_report {
                    st.cont_report = false;
                    return (Some(WaitEvent::Changed(child.pid(), 0xffff, None)), true);
                }
            }
        }
        let Some(child) = zombie else {
            return (None, any);
        };
        // Reap it under the same lock, so no other waiter can take it too.
        let status = group_exit_status(&child);
        let child_pid = child.pid();
        // Its CPU time, and its reaped children's, become the parent's children's time
        // now and not before (Linux's `wait_task_zombie`).
        let usage = crate::kernel::sched::cputime::reap_child_cputime(me.signal(), child.signal());
        let refs = unhash_task(&mut tasklist, &child);
        drop(tasklist);
        drop(refs);
        (
            Some(WaitEvent::Changed(child_pid, status, Some(usage))),
            true,
        )
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
    let (child_pid, status, usage) = match found {
        Some(WaitEvent::Changed(child_pid, status, usage)) => (child_pid, status, usage),
        None if none_left => return Err(Errno::ECHILD),
        None => return Ok(0), // WNOHANG, and nothing to report
    };
    if wstatus != 0 {
        crate::arch::uaccess::copy_to_user(wstatus, &status.to_le_bytes())?;
    }
    if rusage != 0 {
        // Linux's `getrusage(p, RUSAGE_BOTH)`: the child's and its reaped children's.
        let usage = match usage {
            Some(usage) => usage,
            None => match crate::kernel::pid::find_task_by_pid(child_pid) {
                Some(child) => crate::kernel::sched::cputime::child_total_usage(child.signal()),
                None => Default::default(),
            },
        };
        crate::kernel::sys::put_rusage(rusage, &usage, 0)?;
    }
    Ok(child_pid as u64)
}
