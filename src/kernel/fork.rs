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

use crate::kernel::locking::SpinLock;

use crate::arch::process::copy_thread;
use crate::kernel::errno::Errno;
use crate::kernel::pid::TASKLIST;
use crate::kernel::sched::core::wake_up_new_task;
use crate::kernel::signal::SignalStruct;
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
    /// Return a pidfd (not supported: EINVAL).
    pub const CLONE_PIDFD: u64 = 0x0000_1000;
    /// The parent sleeps until the child execs or exits.
    pub const CLONE_VFORK: u64 = 0x0000_4000;
    /// The child gets the caller's parent.
    pub const CLONE_PARENT: u64 = 0x0000_8000;
    /// Same thread group.
    pub const CLONE_THREAD: u64 = 0x0001_0000;
    /// Share System V semaphore undo lists (there are no semaphores: nothing to share).
    pub const CLONE_SYSVSEM: u64 = 0x0004_0000;
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

/// Tasks that exist (made by `copy_process` and not yet freed; Linux's `nr_threads`).
static NR_THREADS: core::sync::atomic::AtomicUsize = core::sync::atomic::AtomicUsize::new(0);

/// Tasks `copy_process` has made since boot, threads and kernel threads included
/// (Linux's `total_forks`: /proc/stat's `processes`).
static TOTAL_FORKS: core::sync::atomic::AtomicU64 = core::sync::atomic::AtomicU64::new(0);

/// How many tasks have been forked since boot.
pub fn total_forks() -> u64 {
    TOTAL_FORKS.load(Ordering::Relaxed)
}

/// The most tasks there may be (Linux's `max_threads`, from `set_max_threads`): their
/// kernel stacks may take an eighth of memory, so thousands of threads end in EAGAIN from
/// `clone`, never in a kernel out of memory.
fn max_threads() -> usize {
    let bytes = crate::mm::pages::totalram_pages() * crate::arch::memory::PAGE_SIZE;
    let threads = bytes / (crate::arch::memory::THREAD_SIZE as u64 * 8);
    threads.clamp(20, 0x3fff_ffff) as usize
}

/// A task is gone for good: it no longer counts against `max_threads`.
pub fn task_freed() {
    NR_THREADS.fetch_sub(1, Ordering::AcqRel);
}

/// How many freed kernel stacks are kept for the next task (Linux's `NR_CACHED_STACKS`).
const NR_CACHED_STACKS: usize = 2;

/// Freed kernel stacks, still mapped, waiting for the next task, per CPU (Linux's
/// `cached_stacks`). 0 is an empty slot. Mapping a stack's pages and unmapping them again
/// (a broadcast TLB flush per page, under the kernel page tables' lock) is most of what a
/// short-lived thread costs; with one cache for the machine, four CPUs forking at once
/// missed it and queued on that lock. The slot is this CPU's, but any CPU's is correct to
/// use: each has its own lock, so a task moved to another CPU meanwhile does no harm.
static CACHED_STACKS: [SpinLock<[u64; NR_CACHED_STACKS]>; crate::arch::percpu::NR_CPUS] =
    [const { SpinLock::new([0; NR_CACHED_STACKS]) }; crate::arch::percpu::NR_CPUS];

/// This CPU's stack cache.
fn cached_stacks() -> &'static SpinLock<[u64; NR_CACHED_STACKS]> {
    &CACHED_STACKS[crate::arch::percpu::smp_processor_id()]
}

/// A kernel stack for a new task: a cached one, or a fresh one (Linux's
/// `alloc_thread_stack_node`). Unlike Linux, a reused stack is not cleared: nothing reads
/// a stack below what it wrote.
fn alloc_thread_stack() -> Option<u64> {
    let cached = {
        let mut cache = cached_stacks().lock();
        cache
            .iter_mut()
            .find(|slot| **slot != 0)
            .map(core::mem::take)
    };
    cached.or_else(crate::mm::vmalloc::alloc_thread_stack)
}

/// Give back a dead task's kernel stack: into this CPU's cache if there is room, else
/// unmapped and freed (Linux's `free_thread_stack` → `try_release_thread_stack_to_cache`).
pub fn free_thread_stack(base: u64) {
    {
        let mut cache = cached_stacks().lock();
        if let Some(slot) = cache.iter_mut().find(|slot| **slot == 0) {
            *slot = base;
            return;
        }
    }
    crate::mm::vmalloc::free_thread_stack(base);
}

/// The idle task of secondary CPU `cpu` (Linux's `fork_idle`): PID 0 like init_task, named
/// `swapper/N`, on a kernel stack of its own, never in the task list (it is found through
/// its run queue and `smpboot::idle_thread_get`), made `cpu`'s idle task by `init_idle`.
/// It lives as long as the kernel.
pub fn fork_idle(cpu: usize) -> Result<&'static TaskStruct, Errno> {
    let mut name = crate::kernel::printk_fmt::LineWriter::<16>::new();
    let _ = core::fmt::Write::write_fmt(&mut name, format_args!("swapper/{cpu}"));
    let p = TaskStruct::alloc(comm_from(name.as_str()), PF_KTHREAD).ok_or(Errno::ENOMEM)?;
    let stack = alloc_thread_stack().ok_or(Errno::ENOMEM)?;
    p.stack.store(stack as usize, Ordering::Relaxed);
    p.set_stack_end_magic();
    // The idle loop runs with preemption disabled, as PID 0 on the boot CPU does.
    p.preempt_count.store(1, Ordering::Relaxed);
    // SAFETY: into_raw hands over the task's one reference, which is never given back: the
    // task is never freed, so the pointer stays valid for 'static.
    let idle: &'static TaskStruct = unsafe { &*p.into_raw() };
    crate::kernel::sched::core::init_idle(idle, cpu);
    Ok(idle)
}

/// Linux's checks of the flag combinations (`copy_process`): a thread needs shared signal
/// actions, shared actions need a shared address space; init may not make siblings (their
/// parent, PID 0, would never reap them); pidfds are not supported.
fn check_clone_flags(flags: u64) -> Result<(), Errno> {
    if flags & CLONE_THREAD != 0 && flags & CLONE_SIGHAND == 0 {
        return Err(Errno::EINVAL);
    }
    if flags & CLONE_SIGHAND != 0 && flags & CLONE_VM == 0 {
        return Err(Errno::EINVAL);
    }
    if flags & CLONE_PARENT != 0 && current().tgid.load(Ordering::Relaxed) == 1 {
        return Err(Errno::EINVAL);
    }
    if flags & CLONE_PIDFD != 0 {
        return Err(Errno::EINVAL);
    }
    Ok(())
}

/// Make the new task (Linux's `copy_process`). It is not runnable yet.
fn copy_process(args: &KernelCloneArgs<'_>) -> Result<TaskRef, Errno> {
    let parent = current();
    let thread = args.flags & CLONE_THREAD != 0;
    if thread && parent.signal().group_exiting() {
        return Err(Errno::EINTR); // Linux: fatal_signal_pending in copy_process
    }
    let comm = match args.name {
        Some(name) => comm_from(name),
        None => *parent.comm.lock(),
    };
    // Linux: `nr_threads >= max_threads` is EAGAIN (kernel threads are counted too).
    if NR_THREADS.fetch_add(1, Ordering::AcqRel) >= max_threads() {
        task_freed();
        return Err(Errno::EAGAIN);
    }
    let flags = if args.fn_.is_some() { PF_KTHREAD } else { 0 };
    let Some(p) = TaskStruct::alloc(comm, flags) else {
        task_freed();
        return Err(Errno::ENOMEM);
    };

    // dup_task_struct: a kernel stack with a guard below it, marked at its end.
    let Some(stack) = alloc_thread_stack() else {
        task_freed();
        return Err(Errno::ENOMEM);
    };
    p.stack.store(stack as usize, Ordering::Relaxed);
    p.set_stack_end_magic();
    // dup_task_struct copies the parent's personality.
    p.personality.store(
        parent.personality.load(Ordering::Relaxed),
        Ordering::Relaxed,
    );
    p.start_time_ns
        .store(crate::kernel::time::ktime_get_ns(), Ordering::Relaxed);
    match copy_resources(parent, &p, args) {
        Ok(()) => {}
        Err(e) => {
            free_unborn(&p);
            return Err(e);
        }
    }

    // Link into the family and give it a PID (under the tasklist lock, as Linux does). A
    // thread's parent is its leader's; a process's parent is the creating process (its
    // leader), or with CLONE_PARENT the creator's parent.
    let leader = parent.group_leader();
    let real_parent = if args.flags & (CLONE_PARENT | CLONE_THREAD) != 0 {
        leader.parent.load(Ordering::Acquire)
    } else {
        leader.as_ptr() as *mut TaskStruct
    };
    let mut tasklist = TASKLIST.lock();
    if let Err(e) = tasklist.alloc_pid(&p) {
        drop(tasklist);
        free_unborn(&p);
        return Err(e);
    }
    p.parent.store(real_parent, Ordering::Release);
    if thread {
        let group = parent.signal.get().ok_or(Errno::EINVAL).cloned();
        let group = match group {
            Ok(group) if !group.group_exiting() => group,
            _ => {
                tasklist.free_pid(p.pid());
                drop(tasklist);
                free_unborn(&p);
                return Err(Errno::EINTR);
            }
        };
        p.tgid
            .store(leader.tgid.load(Ordering::Relaxed), Ordering::Relaxed);
        p.group_leader
            .store(leader.as_ptr() as *mut TaskStruct, Ordering::Release);
        p.exit_signal.store(-1, Ordering::Relaxed);
        group.live.fetch_add(1, Ordering::AcqRel);
        group.threads.lock().push(p.clone());
        let _ = p.signal.set(group);
    } else {
        let group = SignalStruct::new_arc();
        crate::kernel::sched::cputime::copy_rlimit_cpu(parent.signal(), &group);
        group.rlim.copy_from(&parent.signal().rlim);
        let rlim_sigpending = *parent.signal().rlim_sigpending.lock();
        if rlim_sigpending.is_some() {
            *group.rlim_sigpending.lock() = rlim_sigpending;
        }
        group.live.store(1, Ordering::Relaxed);
        group.threads.lock().push(p.clone());
        let _ = p.signal.set(group);
        p.group_leader
            .store(p.as_ptr() as *mut TaskStruct, Ordering::Release);
        let exit_signal = if args.flags & CLONE_PARENT != 0 {
            leader.exit_signal.load(Ordering::Relaxed)
        } else {
            args.exit_signal
        };
        p.exit_signal.store(exit_signal, Ordering::Relaxed);
        if !real_parent.is_null() {
            // SAFETY: the parent is the running process's leader or its parent, both alive;
            // the tasklist lock keeps the link stable.
            unsafe { &*real_parent }.children.lock().push(p.clone());
        }
    }
    drop(tasklist);
    TOTAL_FORKS.fetch_add(1, Ordering::Relaxed);
    Ok(p)
}

/// The parts of `copy_process` that share or copy the parent's resources, in Linux's order
/// and under Linux's names.
fn copy_resources(
    parent: &TaskStruct,
    p: &TaskStruct,
    args: &KernelCloneArgs<'_>,
) -> Result<(), Errno> {
    copy_creds(parent, p);
    copy_files(parent, p, args.flags);
    copy_fs(parent, p, args.flags);
    copy_sighand(parent, p, args.flags);
    copy_mm(parent, p, args)?;
    copy_thread(p, args);
    copy_session(parent, p);
    sched_fork(parent, p);
    Ok(())
}

/// The child shares the parent's credentials until either changes its own (Linux's
/// `copy_creds`).
fn copy_creds(parent: &TaskStruct, p: &TaskStruct) {
    parent.cred.copy_to(&p.cred);
}

/// The open-file table: shared under CLONE_FILES, else copied (Linux's `copy_files`).
fn copy_files(parent: &TaskStruct, p: &TaskStruct, flags: u64) {
    let files = parent.files.lock().clone().map(|files| {
        if flags & CLONE_FILES != 0 {
            files
        } else {
            Arc::new(SpinLock::new(files.lock().clone()))
        }
    });
    *p.files.lock() = files;
}

/// The root, working directory and umask: shared under CLONE_FS, else copied (Linux's
/// `copy_fs`).
fn copy_fs(parent: &TaskStruct, p: &TaskStruct, flags: u64) {
    let fs = parent.fs.lock().clone().map(|fs| {
        if flags & CLONE_FS != 0 {
            fs
        } else {
            Arc::new(SpinLock::new(fs.lock().clone()))
        }
    });
    *p.fs.lock() = fs;
}

/// The signal handlers (shared under CLONE_SIGHAND, reset by CLONE_CLEAR_SIGHAND) and the
/// mask (Linux's `copy_sighand`; the thread group's `signal_struct` is joined or made when
/// the task gets its PID, in `copy_process`).
fn copy_sighand(parent: &TaskStruct, p: &TaskStruct, flags: u64) {
    let own_stack = flags & (CLONE_VM | CLONE_VFORK) == CLONE_VM;
    crate::kernel::signal::copy_sighand(parent, p, flags & CLONE_SIGHAND != 0, own_stack);
    if flags & CLONE_CLEAR_SIGHAND != 0 {
        p.with_actions(|actions| {
            for action in actions.iter_mut() {
                if action.handler != crate::kernel::signal::SIG_IGN {
                    *action = crate::kernel::signal::SigAction::DEFAULT;
                }
            }
        });
    }
}

/// The address space: kernel threads have none; CLONE_VM shares it; fork copies it,
/// copy-on-write (Linux's `copy_mm` → `dup_mm`).
fn copy_mm(parent: &TaskStruct, p: &TaskStruct, args: &KernelCloneArgs<'_>) -> Result<(), Errno> {
    let mm = match parent.mm() {
        Some(mm) if args.flags & CLONE_VM == 0 && args.fn_.is_none() => Some(mm.dup()?),
        Some(mm) if args.fn_.is_none() => Some(mm),
        _ => None,
    };
    *p.mm.lock() = mm;
    Ok(())
}

/// The child is in its parent's process group and session, with its terminal (Linux does
/// this in `copy_process` under the tasklist lock; nothing here can change them meanwhile
/// but the parent itself, which is busy forking).
fn copy_session(parent: &TaskStruct, p: &TaskStruct) {
    for (mine, theirs) in [(&p.pgrp, &parent.pgrp), (&p.session, &parent.session)] {
        mine.store(theirs.load(Ordering::Relaxed), Ordering::Relaxed);
    }
    p.ctty
        .store(parent.ctty.load(Ordering::Relaxed), Ordering::Relaxed);
}

/// Born with preemption disabled (`schedule_tail` enables it), on the parent's CPU and with
/// its CPU affinity (Linux's `sched_fork`); `wake_up_new_task` picks where it first runs.
fn sched_fork(parent: &TaskStruct, p: &TaskStruct) {
    p.preempt_count.store(1, Ordering::Relaxed);
    p.cpu
        .store(parent.cpu.load(Ordering::Relaxed), Ordering::Relaxed);
    p.cpus_mask
        .store(parent.cpus_mask.load(Ordering::Relaxed), Ordering::Relaxed);
    crate::kernel::sched::core::sched_fork_policy(parent, p);
}

/// Undo a `copy_process` that failed after the stack was allocated.
fn free_unborn(p: &TaskStruct) {
    task_freed();
    let stack = p.stack.swap(0, Ordering::AcqRel);
    if stack != 0 {
        free_thread_stack(stack as u64);
    }
    drop(p.mm.lock().take());
    drop(p.files.lock().take());
    drop(p.fs.lock().take());
    drop(p.sighand.lock().take());
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

/// Start a task made for `clone`/`clone3` and do the TID bookkeeping the flags ask for.
fn clone_common(args: &KernelCloneArgs<'_>, parent_tid: u64, child_tid: u64) -> Result<u64, Errno> {
    let flags = args.flags;
    check_clone_flags(flags)?;
    let p = copy_process(args)?;
    let pid = p.pid();
    if flags & CLONE_CHILD_SETTID != 0 {
        p.set_child_tid.store(child_tid, Ordering::Relaxed);
    }
    if flags & CLONE_CHILD_CLEARTID != 0 {
        p.clear_child_tid.store(child_tid, Ordering::Relaxed);
    }
    if flags & CLONE_PARENT_SETTID != 0 {
        // Linux writes it before the child runs, and ignores a fault.
        let _ = crate::arch::uaccess::copy_to_user(parent_tid, &pid.to_le_bytes());
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

/// `clone(2)` (arm64 argument order: flags, newsp, parent_tid, tls, child_tid). `fork` is
/// `clone(SIGCHLD)`; `vfork` adds CLONE_VM | CLONE_VFORK and the parent waits until the
/// child execs or exits; `pthread_create` passes CLONE_VM | CLONE_FS | CLONE_FILES |
/// CLONE_SIGHAND | CLONE_THREAD | CLONE_SYSVSEM | CLONE_SETTLS | CLONE_PARENT_SETTID |
/// CLONE_CHILD_CLEARTID.
pub fn sys_clone(
    _regs: &mut crate::arch::ptrace::PtRegs,
    flags: u64,
    newsp: u64,
    parent_tid: u64,
    tls: u64,
    child_tid: u64,
) -> Result<u64, Errno> {
    let flags = flags & 0xffff_ffff; // the legacy call takes an unsigned long of 32 bits
    let args = KernelCloneArgs {
        flags: flags & !CSIGNAL,
        exit_signal: (flags & CSIGNAL) as i32,
        stack: newsp,
        tls,
        ..KernelCloneArgs::default()
    };
    clone_common(&args, parent_tid, child_tid)
}

/// clone3 only: the child's handlers go back to SIG_DFL (ignored signals stay ignored).
pub const CLONE_CLEAR_SIGHAND: u64 = 0x1_0000_0000;
/// The flags `clone3` takes (Linux's `CLONE_LEGACY_FLAGS` and CLONE_CLEAR_SIGHAND; Cradle
/// has no cgroups, so CLONE_INTO_CGROUP is unknown here).
const CLONE3_KNOWN: u64 = 0xffff_ffff | CLONE_CLEAR_SIGHAND;

/// `clone3(2)`: `struct clone_args` (flags, pidfd, child_tid, parent_tid, exit_signal,
/// stack, stack_size, tls, set_tid, set_tid_size, cgroup), at least 64 bytes
/// (CLONE_ARGS_SIZE_VER0).
pub fn sys_clone3(uargs: u64, size: usize) -> Result<u64, Errno> {
    const VER0: usize = 64;
    const VER2: usize = 88;
    if size > 4096 {
        return Err(Errno::E2BIG);
    }
    if size < VER0 {
        return Err(Errno::EINVAL);
    }
    let mut b = [0u8; VER2];
    let n = size.min(VER2);
    crate::arch::uaccess::copy_from_user(&mut b[..n], uargs)?;
    if size > VER2 {
        // Linux's copy_struct_from_user: unknown trailing bytes must be zero.
        let mut rest = [0u8; 64];
        let mut off = VER2;
        while off < size {
            let len = (size - off).min(rest.len());
            crate::arch::uaccess::copy_from_user(&mut rest[..len], uargs + off as u64)?;
            if rest[..len].iter().any(|&x| x != 0) {
                return Err(Errno::E2BIG);
            }
            off += len;
        }
    }
    let word = |i: usize| u64::from_le_bytes(b[i * 8..i * 8 + 8].try_into().unwrap_or([0; 8]));
    let (flags, child_tid, parent_tid, exit_signal) = (word(0), word(2), word(3), word(4));
    let (stack, stack_size, tls, set_tid_size) = (word(5), word(6), word(7), word(9));
    if flags & !CLONE3_KNOWN != 0 || set_tid_size != 0 {
        return Err(Errno::EINVAL);
    }
    if flags & (CLONE_SIGHAND | CLONE_CLEAR_SIGHAND) == CLONE_SIGHAND | CLONE_CLEAR_SIGHAND {
        return Err(Errno::EINVAL);
    }
    if exit_signal & !CSIGNAL != 0 || exit_signal > 64 {
        return Err(Errno::EINVAL);
    }
    if (stack == 0) != (stack_size == 0) {
        return Err(Errno::EINVAL);
    }
    if exit_signal != 0 && flags & (CLONE_THREAD | CLONE_PARENT) != 0 {
        return Err(Errno::EINVAL);
    }
    let args = KernelCloneArgs {
        flags: flags & !CSIGNAL,
        exit_signal: exit_signal as i32,
        // clone3 passes the lowest address and the size; the stack grows down from the top.
        stack: stack.wrapping_add(stack_size),
        tls,
        ..KernelCloneArgs::default()
    };
    clone_common(&args, parent_tid, child_tid)
}
