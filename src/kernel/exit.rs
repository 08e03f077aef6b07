//! Ending a task (Linux: `kernel/exit.c`).
//!
//! `do_exit` drops the task's address space, hands its children to the child reaper (PID 1,
//! as Linux's `forget_original_parent` does), and then either waits as a zombie for its
//! parent to collect its status, or — for tasks whose exit signal is none, like kernel
//! threads under kthreadd, which ignores SIGCHLD — releases itself at once. Either way it
//! schedules away for the last time with state TASK_DEAD, and the next task frees its
//! stack (`put_task_struct_dead`).

use core::sync::atomic::Ordering;

use crate::kernel::pid::TASKLIST;
use crate::kernel::sched::core::do_task_dead;
use crate::kernel::signal;
use crate::kernel::task::{current, state, TaskRef, TaskStruct, PF_EXITING};

/// The task that inherits orphans: PID 1 (Linux's `child_reaper`), or PID 0 before it exists.
fn child_reaper() -> *mut TaskStruct {
    match TASKLIST.lock().find(1) {
        Some(init) => init.as_ptr() as *mut TaskStruct,
        None => &crate::init::init_task::init_task as *const TaskStruct as *mut TaskStruct,
    }
}

/// Take `task` out of the table and its parent's children (Linux's `release_task`).
/// Called with nothing locked.
pub fn release_task(task: &TaskStruct) {
    let mut tasklist = TASKLIST.lock();
    let removed = tasklist.free_pid(task.pid());
    let parent = task.parent.load(Ordering::Acquire);
    if !parent.is_null() {
        // SAFETY: a parent outlives its children's links to it (re-parenting happens under
        // the tasklist lock, which we hold).
        let parent = unsafe { &*parent };
        parent.children.lock().retain(|c| !c.ptr_eq(task));
    }
    drop(tasklist);
    drop(removed);
}

/// Hand `task`'s children to the reaper (Linux's `forget_original_parent`).
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
            if child.exit_state.load(Ordering::Acquire) == state::EXIT_ZOMBIE {
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

/// End the current task with `code` (Linux's `do_exit`). Never returns.
pub fn do_exit(code: i32) -> ! {
    let tsk = current();
    if tsk.pid() == 1 {
        panic!("Attempted to kill init! exitcode={code:#010x}");
    }
    if tsk.pid() == 0 {
        panic!("Attempted to kill the idle task!");
    }
    tsk.flags.fetch_or(PF_EXITING, Ordering::Relaxed);
    tsk.exit_code.store(code, Ordering::Relaxed);
    // CLONE_CHILD_CLEARTID / set_tid_address: tell a joining thread we are gone.
    let tid_ptr = tsk.clear_child_tid.swap(0, Ordering::Relaxed);
    if tid_ptr != 0 && tsk.mm.lock().is_some() {
        let _ = crate::arch::arm64::uaccess::copy_to_user(tid_ptr, &0u32.to_le_bytes());
    }
    // exit_mm: the address space goes with its last user.
    let mm = tsk.mm.lock().take();
    crate::arch::arm64::mmu_context::switch_to_kernel_mm();
    drop(mm);
    // exit_files / exit_fs: the descriptors close with the last task sharing them.
    let files = tsk.files.lock().take();
    drop(files);
    let fs = tsk.fs.lock().take();
    drop(fs);
    // A session leader's terminal is freed; groups left without a shell that could
    // continue their stopped jobs get SIGHUP and SIGCONT.
    crate::drivers::tty::n_tty::console_tty()
        .jobctrl
        .leader_exit(tsk);
    crate::kernel::session::exit_orphaned_pgrps(tsk);
    crate::kernel::time::itimer::exit_itimers(tsk);
    forget_original_parent(tsk);
    tsk.exit_done.complete_all();
    tsk.vfork_done.complete_all();

    exit_notify(tsk);
    do_task_dead()
}

/// Become a zombie and tell the parent (SIGCHLD), or — when nobody will wait for this
/// task: no exit signal, or a parent that ignores SIGCHLD or set SA_NOCLDWAIT — reap it
/// now (Linux's `exit_notify`). The parent hears of it after the task is reaped, so its
/// `wait4` then finds ECHILD rather than a child about to vanish.
fn exit_notify(tsk: &TaskStruct) {
    let exit_signal = tsk.exit_signal.load(Ordering::Relaxed);
    let parent = signal::get_parent(tsk);
    let autoreap = exit_signal <= 0
        || parent
            .as_ref()
            .is_none_or(|p| signal::parent_autoreaps(p, exit_signal));
    if autoreap {
        release_task(tsk);
    } else {
        tsk.exit_state.store(state::EXIT_ZOMBIE, Ordering::Release);
    }
    if let Some(parent) = parent {
        signal::do_notify_parent(tsk, &parent, exit_signal);
    }
}

/// Free what a dead task no longer needs once the CPU has left it: its stack and the
/// reference it held on itself. Called by the next task in `finish_task_switch`.
pub fn put_task_struct_dead(task: &TaskStruct) {
    let stack = task.stack.swap(0, Ordering::AcqRel);
    if stack != 0 && task.pid() != 0 {
        crate::mm::vmalloc::free_thread_stack(stack as u64);
    }
    // SAFETY: `kernel_clone` turned the task's first reference into its self-reference with
    // `into_raw`; this is the one place it is taken back, after the task's last switch.
    drop(unsafe { TaskRef::from_raw(task) });
}

/// `exit(2)`: end the calling thread with `status` (as `WEXITSTATUS` sees it).
pub fn sys_exit(status: i32) -> Result<u64, crate::kernel::errno::Errno> {
    do_exit((status & 0xff) << 8)
}

/// `exit_group(2)`: end the process. Processes have one thread each so far.
pub fn sys_exit_group(status: i32) -> Result<u64, crate::kernel::errno::Errno> {
    do_exit((status & 0xff) << 8)
}

/// `wait4` options (Linux's `include/uapi/linux/wait.h`).
const WNOHANG: u32 = 1;
/// Also report children stopped by a signal.
const WUNTRACED: u32 = 2;
/// Also report stopped children continued by SIGCONT.
const WCONTINUED: u32 = 8;

/// What `wait4` found in a child.
enum WaitEvent {
    /// Exited (a zombie): reap it.
    Exited(TaskRef),
    /// Stopped or continued: report it and leave it be.
    Changed(TaskRef, i32),
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
    let me = current();
    let my_pgrp = crate::kernel::session::pgrp_of(me);
    let matches = |child: &TaskStruct| match pid {
        -1 => true,
        0 => crate::kernel::session::pgrp_of(child) == my_pgrp,
        p if p < -1 => crate::kernel::session::pgrp_of(child) == -p,
        p => child.pid() == p,
    };
    // Linux's `do_wait` → `wait_consider_task`: the first child with something to report.
    let find = || -> (Option<WaitEvent>, bool) {
        let children = me.children.lock();
        let mut any = false;
        for child in children.iter() {
            if !matches(child) {
                continue;
            }
            any = true;
            if child.exit_state.load(Ordering::Acquire) == state::EXIT_ZOMBIE {
                return (Some(WaitEvent::Exited(child.clone())), true);
            }
            let mut st = child.signal.lock();
            if options & WUNTRACED != 0 && st.stop_report != 0 {
                let status = 0x7f | (st.stop_report << 8);
                st.stop_report = 0;
                return (Some(WaitEvent::Changed(child.clone(), status)), true);
            }
            if options & WCONTINUED != 0 && st.cont_report {
                st.cont_report = false;
                return (Some(WaitEvent::Changed(child.clone(), 0xffff)), true);
            }
        }
        (None, any)
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
    let (child_pid, status) = match found {
        Some(WaitEvent::Exited(child)) => {
            let status = child.exit_code.load(Ordering::Relaxed);
            let child_pid = child.pid();
            release_task(&child);
            (child_pid, status)
        }
        Some(WaitEvent::Changed(child, status)) => (child.pid(), status),
        None if none_left => return Err(Errno::ECHILD),
        None => return Ok(0), // WNOHANG, and nothing to report
    };
    if wstatus != 0 {
        crate::arch::arm64::uaccess::copy_to_user(wstatus, &status.to_le_bytes())?;
    }
    if rusage != 0 {
        crate::arch::arm64::uaccess::clear_user(rusage, 144)?;
    }
    Ok(child_pid as u64)
}
