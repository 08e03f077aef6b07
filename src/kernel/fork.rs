//! Creating tasks (Linux: `kernel/fork.c`): `kernel_clone` → `copy_process` → `copy_thread`.
//!
//! Every task but PID 0 is born here. `copy_process` allocates the task and its kernel
//! stack (with a guard page below), shares or copies what the `CLONE_*` flags say, lets the
//! architecture set up its first context (`copy_thread`: a kernel thread starts in
//! `ret_from_fork` with its function in x19 and argument in x20; a forked user task gets a
//! copy of its parent's registers with x0 = 0, which is why `fork` returns 0 in the child),
//! gives it a PID and links it to its parent. `kernel_clone` then makes it runnable.

use alloc::sync::Arc;
use core::sync::atomic::Ordering;

use crate::kernel::sync::SpinLock;

use crate::arch::process::copy_thread;
use crate::kernel::errno::Errno;
use crate::kernel::pid::TASKLIST;
use crate::kernel::sched::core::wake_up_new_task;
use crate::kernel::task::{comm_from, current, TaskRef, TaskStruct, PF_KTHREAD};

/// `clone` flags, with Linux's values (`include/uapi/linux/sched.h`).
pub mod clone {
    /// Signal mask to be sent at exit.
    pub const CSIGNAL: u64 = 0x0000_00ff;
    /// Share the address space.
    pub const CLONE_VM: u64 = 0x0000_0100;
    /// Share the filesystem information (cwd, root).
    pub const CLONE_FS: u64 = 0x0000_0200;
    /// Share the open files.
    pub const CLONE_FILES: u64 = 0x0000_0400;
    /// Share signal handlers.
    pub const CLONE_SIGHAND: u64 = 0x0000_0800;
    /// The parent sleeps until the child execs or exits.
    pub const CLONE_VFORK: u64 = 0x0000_4000;
    /// The child gets the caller's parent.
    pub const CLONE_PARENT: u64 = 0x0000_8000;
    /// Same thread group.
    pub const CLONE_THREAD: u64 = 0x0001_0000;
    /// Set the TLS register to the `tls` argument.
    pub const CLONE_SETTLS: u64 = 0x0008_0000;
    /// Store the child's TID in the parent's memory.
    pub const CLONE_PARENT_SETTID: u64 = 0x0010_0000;
    /// Clear the child's TID in its memory at exit, and wake a futex there.
    pub const CLONE_CHILD_CLEARTID: u64 = 0x0020_0000;
    /// No tracing may force CLONE_PTRACE on this one.
    pub const CLONE_UNTRACED: u64 = 0x0080_0000;
    /// Store the child's TID in its memory.
    pub const CLONE_CHILD_SETTID: u64 = 0x0100_0000;
}

use clone::*;

/// What to create (Linux's `struct kernel_clone_args`).
#[derive(Clone, Copy, Default)]
pub struct KernelCloneArgs<'a> {
    /// `CLONE_*` flags (without the exit signal).
    pub flags: u64,
    /// The signal the parent gets when the child exits (0: none; the child reaps itself).
    pub exit_signal: i32,
    /// A new user stack pointer for the child, or 0 to keep the parent's.
    pub stack: u64,
    /// The child's TLS register under CLONE_SETTLS.
    pub tls: u64,
    /// For a kernel thread: the function it runs, with `fn_arg`.
    pub fn_: Option<extern "C" fn(usize) -> i32>,
    /// The argument for `fn_`.
    pub fn_arg: usize,
    /// The new task's name; `None` to keep the parent's.
    pub name: Option<&'a str>,
}

/// Make the new task (Linux's `copy_process`). It is not runnable yet.
fn copy_process(args: &KernelCloneArgs<'_>) -> Result<TaskRef, Errno> {
    let parent = current();
    let comm = match args.name {
        Some(name) => comm_from(name),
        None => *parent.comm.lock(),
    };
    let flags = if args.fn_.is_some() { PF_KTHREAD } else { 0 };
    let p = TaskStruct::alloc(comm, flags).ok_or(Errno::ENOMEM)?;

    // dup_task_struct: a kernel stack with a guard below it, marked at its end.
    let stack = crate::mm::vmalloc::alloc_thread_stack().ok_or(Errno::ENOMEM)?;
    p.stack.store(stack as usize, Ordering::Relaxed);
    p.set_stack_end_magic();
    p.start_time_ns
        .store(crate::kernel::time::ktime_get_ns(), Ordering::Relaxed);
    // bad_fork_cleanup: a task that never ran gives its stack back here; the rest goes with
    // the last reference to it.
    if let Err(e) = copy_process_rest(parent, &p, args) {
        crate::mm::vmalloc::free_thread_stack(p.stack.swap(0, Ordering::Relaxed) as u64);
        return Err(e);
    }
    Ok(p)
}

/// What `copy_process` does once the task has its stack: share or copy the parent's
/// resources, set up the first context, give it a PID and link it to its parent.
fn copy_process_rest(
    parent: &TaskStruct,
    p: &TaskRef,
    args: &KernelCloneArgs<'_>,
) -> Result<(), Errno> {
    // copy_mm: kernel threads have none; CLONE_VM shares it; fork copies it (COW).
    let parent_mm = parent.mm();
    let mm = match parent_mm {
        Some(mm) if args.flags & CLONE_VM == 0 && args.fn_.is_none() => Some(mm.dup()?),
        Some(mm) if args.fn_.is_none() => Some(mm),
        _ => None,
    };
    *p.mm.lock() = mm;

    // copy_files / copy_fs: share under CLONE_FILES / CLONE_FS, else copy.
    let files = parent.files.lock().clone().map(|files| {
        if args.flags & CLONE_FILES != 0 {
            files
        } else {
            Arc::new(SpinLock::new(files.lock().clone()))
        }
    });
    *p.files.lock() = files;
    let fs = parent.fs.lock().clone().map(|fs| {
        if args.flags & CLONE_FS != 0 {
            fs
        } else {
            Arc::new(SpinLock::new(fs.lock().clone()))
        }
    });
    *p.fs.lock() = fs;

    copy_thread(p, args);
    // copy_sighand / copy_signal: the child starts with the parent's handlers and mask.
    crate::kernel::signal::copy_signal(parent, p);
    // The child is in its parent's process group and session, with its terminal.
    for (mine, theirs) in [(&p.pgrp, &parent.pgrp), (&p.session, &parent.session)] {
        mine.store(theirs.load(Ordering::Relaxed), Ordering::Relaxed);
    }
    p.ctty
        .store(parent.ctty.load(Ordering::Relaxed), Ordering::Relaxed);
    // copy_creds: the child shares the parent's credentials until either changes its own.
    parent.cred.copy_to(&p.cred);

    // sched_fork: born with preemption disabled; schedule_tail enables it.
    p.preempt_count.store(1, Ordering::Relaxed);
    p.exit_signal.store(args.exit_signal, Ordering::Relaxed);
    p.cpu
        .store(parent.cpu.load(Ordering::Relaxed), Ordering::Relaxed);

    // Link into the family and give it a PID (under the tasklist lock, as Linux does).
    let real_parent = if args.flags & CLONE_PARENT != 0 {
        parent.parent.load(Ordering::Acquire)
    } else {
        parent as *const TaskStruct as *mut TaskStruct
    };
    let mut tasklist = TASKLIST.lock();
    tasklist.alloc_pid(p)?;
    p.parent.store(real_parent, Ordering::Release);
    if !real_parent.is_null() {
        // SAFETY: the parent is the running task or its parent, both alive; the tasklist
        // lock keeps the link stable.
        unsafe { &*real_parent }.children.lock().push(p.clone());
    }
    drop(tasklist);
    Ok(())
}

/// Create a task and start it (Linux's `kernel_clone`). Returns the new PID.
pub fn kernel_clone(args: &KernelCloneArgs<'_>) -> Result<i32, Errno> {
    let p = copy_process(args)?;
    let pid = p.pid();
    wake_up_new_task(&p);
    // The task's first reference becomes the one it holds on itself while it lives; the
    // CPU that runs after its last switch drops it (exit::put_task_struct_dead).
    let _ = p.into_raw();
    Ok(pid)
}

/// Create a kernel thread running `f(arg)` (Linux's `kernel_thread`). Kernel threads share
/// the kernel's (absent) address space and cannot be traced.
pub fn kernel_thread(
    f: extern "C" fn(usize) -> i32,
    arg: usize,
    name: Option<&str>,
    flags: u64,
) -> Result<i32, Errno> {
    kernel_clone(&KernelCloneArgs {
        flags: (flags | CLONE_VM | CLONE_UNTRACED) & !CSIGNAL,
        exit_signal: (flags & CSIGNAL) as i32,
        fn_: Some(f),
        fn_arg: arg,
        name,
        ..KernelCloneArgs::default()
    })
}

/// `clone(2)` (arm64 argument order: flags, newsp, parent_tid, tls, child_tid). `fork` is
/// `clone(SIGCHLD)`; `vfork` adds CLONE_VM | CLONE_VFORK and the parent waits until the
/// child execs or exits.
pub fn sys_clone(
    _regs: &mut crate::arch::ptrace::PtRegs,
    flags: u64,
    newsp: u64,
    parent_tid: u64,
    tls: u64,
    child_tid: u64,
) -> Result<u64, Errno> {
    if flags & CLONE_THREAD != 0 && flags & CLONE_VM == 0 {
        return Err(Errno::EINVAL);
    }
    let args = KernelCloneArgs {
        flags: flags & !CSIGNAL,
        exit_signal: (flags & CSIGNAL) as i32,
        stack: newsp,
        tls,
        ..KernelCloneArgs::default()
    };
    let p = copy_process(&args)?;
    let pid = p.pid();
    if flags & CLONE_THREAD != 0 {
        p.tgid
            .store(current().tgid.load(Ordering::Relaxed), Ordering::Relaxed);
    }
    if flags & CLONE_CHILD_SETTID != 0 {
        p.set_child_tid.store(child_tid, Ordering::Relaxed);
    }
    if flags & CLONE_CHILD_CLEARTID != 0 {
        p.clear_child_tid.store(child_tid, Ordering::Relaxed);
    }
    if flags & CLONE_PARENT_SETTID != 0 {
        crate::arch::uaccess::copy_to_user(parent_tid, &pid.to_le_bytes())?;
    }
    let vfork = flags & CLONE_VFORK != 0;
    let child = p.clone();
    wake_up_new_task(&p);
    let _ = p.into_raw();
    if vfork {
        child.vfork_done.wait_for_completion();
    }
    Ok(pid as u64)
}
