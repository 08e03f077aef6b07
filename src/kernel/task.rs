//! `struct task_struct`: a thread of execution (Linux: `include/linux/sched.h`).
//!
//! The running task on a CPU is `current`, which the architecture keeps (arm64: in `sp_el0`,
//! exactly as Linux arm64 does). PID 0, `init_task`, is the only task not created by `copy_process`: it is a
//! static (src/init/init_task.rs) whose stack the linker script places. Every other task is
//! allocated by `copy_process` and freed when its last [`TaskRef`] goes (Linux's
//! `get_task_struct` / `put_task_struct`).
//!
//! A task is a thread; a process is a thread group (Linux's shape): the threads of one
//! process share a [`SignalStruct`] (`signal`) and point at the group leader, whose PID is
//! the group's ID (`tgid`, what `getpid` returns). Only group leaders are anyone's children:
//! a thread's `parent` is its leader's parent, and a child made by any thread of a process
//! is a child of that process's leader (so every thread can `wait4` for it). The address
//! space, descriptor table, root and working directory and signal actions are shared by
//! reference count under CLONE_VM, CLONE_FILES, CLONE_FS and CLONE_SIGHAND.
//!
//! Locking: the family links (`parent`, `children`, `group_leader`) change only under the
//! tasklist lock (`kernel::pid::TASKLIST`); the scheduling fields (`se`) only under the
//! task's run-queue lock; `thread` only by the task itself or by `cpu_switch_to`.

use alloc::sync::Arc;
use alloc::vec::Vec;
use core::cell::UnsafeCell;
use core::ptr::NonNull;
use core::sync::atomic::{
    AtomicBool, AtomicI32, AtomicPtr, AtomicU32, AtomicU64, AtomicUsize, Ordering,
};

use crate::arch::memory::THREAD_SIZE;
use crate::arch::processor::{CpuContext, ThreadStruct};
use crate::fs::file::{FilesStruct, FsStruct};
use crate::kernel::errno::Errno;
use crate::kernel::locking::{InitOnce, SpinLock};
use crate::kernel::sched::completion::Completion;
use crate::kernel::sched::fair::SchedEntity;
use crate::kernel::sched::wait::WaitQueueHead;
use crate::kernel::signal::signal_struct::{INIT_SIGHAND, INIT_SIGNALS};
use crate::kernel::signal::{SigAction, SighandStruct, SignalState, SignalStruct, NSIG};
use crate::mm::mm_types::MmStruct;

/// Task states (Linux's `TASK_*` and `EXIT_*`).
pub mod state {
    /// Runnable or running.
    pub const TASK_RUNNING: u32 = 0x0000;
    /// Sleeping; signals wake it.
    pub const TASK_INTERRUPTIBLE: u32 = 0x0001;
    /// Sleeping; only the event it waits for wakes it.
    pub const TASK_UNINTERRUPTIBLE: u32 = 0x0002;
    /// Stopped by a signal.
    pub const TASK_STOPPED: u32 = 0x0004;
    /// Exited; waiting for its parent to reap it.
    pub const EXIT_ZOMBIE: u32 = 0x0020;
    /// Reaped, or a thread that reaped itself: about to go (Linux's `EXIT_DEAD`).
    pub const EXIT_DEAD: u32 = 0x0010;
    /// Exited and reaped (or self-reaping): about to be freed.
    pub const TASK_DEAD: u32 = 0x0080;
}

/// A kernel thread (Linux: PF_KTHREAD).
pub const PF_KTHREAD: u32 = 0x0020_0000;
/// The idle task of a CPU (Linux: PF_IDLE).
pub const PF_IDLE: u32 = 0x0000_0002;
/// Userland may not change the task's CPU affinity: a per-CPU kernel thread (Linux:
/// PF_NO_SETAFFINITY).
pub const PF_NO_SETAFFINITY: u32 = 0x0400_0000;
/// Getting shut down (Linux: PF_EXITING).
pub const PF_EXITING: u32 = 0x0000_0004;
/// `jobctl`: a group stop is under way that this thread has yet to join (Linux's
/// JOBCTL_STOP_PENDING).
pub const JOBCTL_STOP_PENDING: u32 = 1 << 17;
/// Length of `comm`, NUL included (Linux: TASK_COMM_LEN).
pub const TASK_COMM_LEN: usize = 16;
/// Written at the lowest address of every kernel stack; a changed value means the stack
/// overflowed (Linux: STACK_END_MAGIC).
pub const STACK_END_MAGIC: u64 = 0x57AC_6E9D;

/// A task.
///
/// # Invariants
///
/// `thread` is only touched by the CPU running the task or, while the task is switched
/// out, by `cpu_switch_to` with the run-queue lock held. `se` is only touched with the run
/// queue's lock held.
#[repr(C)]
pub struct TaskStruct {
    /// Saved context; first, so `asm/entry.S` finds it at offset 0.
    pub thread: UnsafeCell<ThreadStruct>,
    /// Nesting of preemption-disabled sections (Linux: `thread_info.preempt_count`).
    pub preempt_count: AtomicU32,
    /// Where preemption was last disabled from enabled (a `&'static Location`), for the
    /// "scheduling while atomic" report.
    pub preempt_site: AtomicUsize,
    /// The scheduler wants this task to give up the CPU (Linux: TIF_NEED_RESCHED).
    pub need_resched: AtomicBool,
    /// Lowest address of the kernel stack (the stack grows down from `stack + THREAD_SIZE`).
    pub stack: AtomicUsize,
    /// Process ID (the thread's ID; Linux's `pid`).
    pub pid: AtomicI32,
    /// Thread group ID (the process's ID).
    pub tgid: AtomicI32,
    /// Process group ID (Linux's `task_pgrp`); 0 for the boot's tasks until init calls
    /// `setsid`. Lock: the tasklist lock for changes.
    pub pgrp: AtomicI32,
    /// Session ID (Linux's `task_session`); the session leader's PID. Lock: as `pgrp`.
    pub session: AtomicI32,
    /// True while the console tty is this process's controlling terminal (Linux's
    /// `signal->tty`; the console is the only tty). Lock: as `pgrp`.
    pub ctty: AtomicBool,
    /// Set by a successful `execve`: `setpgid` on the child then fails with EACCES.
    pub did_exec: AtomicBool,
    /// Credentials (Linux's `cred`, with `real_cred` the same): replaced whole, never
    /// changed in place, and only by the task itself (`kernel::cred`).
    pub cred: crate::kernel::cred::TaskCred,
    /// `setitimer(ITIMER_REAL)`: SIGALRM when it expires. Lock: its own.
    pub itimer_real: SpinLock<crate::kernel::time::itimer::ItimerReal>,
    /// `state::*`.
    pub state: AtomicU32,
    /// PF_* flags.
    pub flags: AtomicU32,
    /// The execution domain and its flags (Linux's `personality`: `PER_LINUX` plus, say,
    /// `ADDR_NO_RANDOMIZE`), set by `personality(2)`, inherited by children and kept across
    /// `execve` (less `PER_CLEAR_ON_SETID` for a set-ID program). Only the task itself
    /// changes it.
    pub personality: AtomicU32,
    /// The status `do_exit` left (Linux's `exit_code`).
    pub exit_code: AtomicI32,
    /// 0 while alive; `EXIT_ZOMBIE` once exited and waiting to be reaped (Linux's
    /// `exit_state`).
    pub exit_state: AtomicU32,
    /// Completed when the task has exited (Linux's `struct kthread.exited` and
    /// `vfork_done`): `kthread_stop` and `vfork` wait on it.
    pub exit_done: Completion,
    /// The signal to send the parent at exit; 0 or -1 means none, and the task reaps
    /// itself (Linux's `exit_signal`, with kthreadd's ignoring of SIGCHLD folded in).
    pub exit_signal: AtomicI32,
    /// Executable name, NUL-padded (Linux: `comm`). Lock: its own.
    pub comm: SpinLock<[u8; TASK_COMM_LEN]>,
    /// The user address space; `None` for kernel threads (Linux: `mm`). Lock: its own.
    pub mm: SpinLock<Option<Arc<MmStruct>>>,
    /// Open files (Linux: `files`), shared under CLONE_FILES. Lock: its own.
    pub files: SpinLock<Option<Arc<SpinLock<FilesStruct>>>>,
    /// Root and working directory (Linux: `fs`), shared under CLONE_FS. Lock: its own.
    pub fs: SpinLock<Option<Arc<SpinLock<FsStruct>>>>,
    /// The parent. Lock: the tasklist lock for changes; reading the pointer is atomic.
    pub parent: AtomicPtr<TaskStruct>,
    /// The children, each holding a reference. Lock: its own, taken under the tasklist lock.
    pub children: SpinLock<Vec<TaskRef>>,
    /// Scheduling state. Lock: the run queue's.
    pub se: UnsafeCell<SchedEntity>,
    /// The scheduling policy, `SCHED_NORMAL` etc. (Linux's `policy`). Written under
    /// `pi_lock`; read anywhere.
    pub policy: AtomicU32,
    /// 120 + the nice value (Linux's `static_prio`). Written under `pi_lock`.
    pub static_prio: AtomicI32,
    /// The real-time priority, 1..=99 for `SCHED_FIFO`/`SCHED_RR`, else 0 (Linux's
    /// `rt_priority`). Written under `pi_lock`.
    pub rt_priority: AtomicU32,
    /// Children start with the default policy and no negative nice (Linux's
    /// `sched_reset_on_fork`, `SCHED_RESET_ON_FORK`).
    pub sched_reset_on_fork: AtomicBool,
    /// The I/O priority `ioprio_set` gave, 0 for none (Linux's `io_context->ioprio`).
    pub ioprio: AtomicU32,
    /// The CPU whose run queue holds the task (Linux's `task_cpu`). Changes only with the
    /// task off every run queue and `pi_lock` held, or queued with both run queues locked.
    pub cpu: AtomicU32,
    /// True from the moment a CPU picks the task to run until that CPU has switched away
    /// from it (Linux's `on_cpu`): a waker must not start it elsewhere before then.
    pub on_cpu: AtomicBool,
    /// The CPUs the task may run on, a `CpuMask`'s bits (Linux's `cpus_mask`). Written
    /// under `pi_lock`; read anywhere.
    pub cpus_mask: AtomicU64,
    /// Serialises wake-ups and affinity changes of this task (Linux's `pi_lock`); taken
    /// before any run-queue lock, with interrupts masked.
    pub pi_lock: crate::kernel::locking::RawSpinLock,
    /// Woken when a child exits (Linux's `signal->wait_chldexit`): `wait4` sleeps here.
    pub child_exit_wait: WaitQueueHead,
    /// The thread's own signal state (siginfo, alternate stack, saved mask). Lock: its own.
    pub sigstate: SpinLock<SignalState>,
    /// What the thread group shares (Linux's `signal`); set once by `copy_process`. PID 0
    /// uses a static one.
    pub signal: InitOnce<Arc<SignalStruct>>,
    /// The signal actions (Linux's `sighand`), shared under CLONE_SIGHAND; `None` for PID 0,
    /// which uses a static table. Lock: its own, then the actions' lock.
    pub sighand: SpinLock<Option<Arc<SighandStruct>>>,
    /// The thread group's leader (Linux's `group_leader`); null for PID 0, its own leader.
    /// Lock: the tasklist lock for changes.
    pub group_leader: AtomicPtr<TaskStruct>,
    /// JOBCTL_* bits: a group stop to join.
    pub jobctl: AtomicU32,
    /// A signal may be pending for this thread (Linux's TIF_SIGPENDING): set by whoever
    /// queues one or asks the thread to join a stop, cleared by `signal_pending` once it
    /// finds nothing pending at all. While it is clear the return to user space need not
    /// look at the signal sets.
    pub sigpending: AtomicBool,
    /// The user's robust futex list head (`set_robust_list`), 0 for none.
    pub robust_list: AtomicU64,
    /// Blocked signals (bit n-1 for signal n).
    pub blocked: AtomicU64,
    /// Pending signals.
    pub pending: AtomicU64,
    /// The blocked set from before an `rt_sigtimedwait`, which unblocks what it waits for
    /// (Linux's `real_blocked`): signals in it are queued even if ignored, so the wait
    /// can take them. 0 outside such a wait.
    pub real_blocked: AtomicU64,
    /// Where to write the child's TID once it runs (CLONE_CHILD_SETTID).
    pub set_child_tid: AtomicU64,
    /// Completed when a vfork child execs or exits (Linux's `vfork_done`).
    pub vfork_done: Completion,
    /// Where to write 0 (and wake a futex) when the thread exits (Linux's
    /// `clear_child_tid`, set by `set_tid_address` and CLONE_CHILD_CLEARTID).
    pub clear_child_tid: AtomicU64,
    /// Set by `kthread_stop` (Linux: KTHREAD_SHOULD_STOP).
    pub kthread_should_stop: AtomicBool,
    /// When `copy_process` made the task, in `ktime_get_ns` nanoseconds since boot (Linux's
    /// `start_boottime`; /proc/<pid>/stat's `starttime`). 0 for PID 0.
    pub start_time_ns: AtomicU64,
    /// Sampled user/system time, context switches, faults (`sched::cputime`).
    pub cputime: crate::kernel::sched::cputime::TaskCputime,
    /// References: the pid table, the parent's children list, run queues, waiters.
    usage: AtomicUsize,
    /// True for tasks `copy_process` allocated (freed with the last reference).
    allocated: bool,
}

// SAFETY: every field is atomic or lock-protected except `thread` and `se`, whose access
// rules are the type's invariants.
unsafe impl Sync for TaskStruct {}
// SAFETY: as above; a task may be woken or freed from any CPU.
unsafe impl Send for TaskStruct {}

/// `comm` from a string, cut to 15 bytes.
pub const fn comm_from(name: &str) -> [u8; TASK_COMM_LEN] {
    let mut comm = [0u8; TASK_COMM_LEN];
    let bytes = name.as_bytes();
    let mut i = 0;
    while i < bytes.len() && i < TASK_COMM_LEN - 1 {
        comm[i] = bytes[i];
        i += 1;
    }
    comm
}

impl TaskStruct {
    /// A task with the given identity and no stack yet (used for `init_task`).
    pub const fn new(pid: i32, comm: &str, flags: u32) -> Self {
        Self {
            thread: UnsafeCell::new(ThreadStruct {
                cpu_context: CpuContext {
                    x19_x28: [0; 10],
                    fp: 0,
                    sp: 0,
                    pc: 0,
                },
                tp_value: 0,
                fpsimd: crate::arch::fpsimd::FpsimdState::ZERO,
            }),
            preempt_count: AtomicU32::new(0),
            preempt_site: AtomicUsize::new(0),
            need_resched: AtomicBool::new(false),
            stack: AtomicUsize::new(0),
            pid: AtomicI32::new(pid),
            tgid: AtomicI32::new(pid),
            pgrp: AtomicI32::new(0),
            session: AtomicI32::new(0),
            ctty: AtomicBool::new(false),
            did_exec: AtomicBool::new(false),
            cred: crate::kernel::cred::TaskCred::new(),
            itimer_real: SpinLock::new(crate::kernel::time::itimer::ItimerReal::new()),
            state: AtomicU32::new(state::TASK_RUNNING),
            flags: AtomicU32::new(flags),
            personality: AtomicU32::new(0),
            exit_code: AtomicI32::new(0),
            exit_state: AtomicU32::new(0),
            exit_done: Completion::new(),
            exit_signal: AtomicI32::new(0),
            comm: SpinLock::new(comm_from(comm)),
            mm: SpinLock::new(None),
            files: SpinLock::new(None),
            fs: SpinLock::new(None),
            parent: AtomicPtr::new(core::ptr::null_mut()),
            children: SpinLock::new(Vec::new()),
            se: UnsafeCell::new(SchedEntity::new()),
            policy: AtomicU32::new(0),
            static_prio: AtomicI32::new(120),
            rt_priority: AtomicU32::new(0),
            sched_reset_on_fork: AtomicBool::new(false),
            ioprio: AtomicU32::new(0),
            cpu: AtomicU32::new(0),
            on_cpu: AtomicBool::new(false),
            cpus_mask: AtomicU64::new(u64::MAX),
            pi_lock: crate::kernel::locking::RawSpinLock::new(),
            child_exit_wait: WaitQueueHead::new(),
            sigstate: SpinLock::new(SignalState::new()),
            signal: InitOnce::new(),
            sighand: SpinLock::new(None),
            group_leader: AtomicPtr::new(core::ptr::null_mut()),
            jobctl: AtomicU32::new(0),
            sigpending: AtomicBool::new(false),
            robust_list: AtomicU64::new(0),
            blocked: AtomicU64::new(0),
            pending: AtomicU64::new(0),
            real_blocked: AtomicU64::new(0),
            set_child_tid: AtomicU64::new(0),
            vfork_done: Completion::new(),
            clear_child_tid: AtomicU64::new(0),
            kthread_should_stop: AtomicBool::new(false),
            start_time_ns: AtomicU64::new(0),
            cputime: crate::kernel::sched::cputime::TaskCputime::new(),
            usage: AtomicUsize::new(1),
            allocated: false,
        }
    }

    /// A heap-allocated task (for `copy_process`), with one reference.
    pub fn alloc(comm: [u8; TASK_COMM_LEN], flags: u32) -> Option<TaskRef> {
        let layout = core::alloc::Layout::new::<TaskStruct>();
        // SAFETY: the layout is TaskStruct's, which is not zero-sized.
        let ptr = NonNull::new(unsafe { alloc::alloc::alloc(layout) }.cast::<TaskStruct>())?;
        // Built straight into the allocation (a TaskStruct is kilobytes: a stack copy moved
        // into place would cost a memcpy of all of it), then given its name.
        // SAFETY: `ptr` is a fresh, suitably aligned allocation for one TaskStruct; freeing
        // it with `Box::from_raw` in TaskRef::drop matches this layout.
        unsafe { ptr.as_ptr().write(Self::new(0, "", flags)) };
        // SAFETY: just initialised, and nobody else has the pointer yet.
        let task = unsafe { &mut *ptr.as_ptr() };
        *task.comm.get_mut() = comm;
        task.allocated = true;
        Some(TaskRef(ptr))
    }

    /// The task's PID.
    pub fn pid(&self) -> i32 {
        self.pid.load(Ordering::Relaxed)
    }

    /// The parent's process ID (0 for init_task and tasks whose parent is PID 0).
    pub fn ppid(&self) -> i32 {
        let parent = self.parent.load(Ordering::Acquire);
        if parent.is_null() {
            0
        } else {
            // SAFETY: a parent outlives the link to it: `exit` re-parents children (under
            // the tasklist lock) before the parent can be freed.
            unsafe { (*parent).tgid.load(Ordering::Relaxed) }
        }
    }

    /// The thread group's shared signal state.
    pub fn signal(&self) -> &SignalStruct {
        self.signal.get().map_or(&INIT_SIGNALS, |s| s)
    }

    /// A copy of the signal actions (`copy_sighand`, `flush_signal_handlers`): allocates
    /// only if some action is not the default.
    pub fn copy_actions(&self) -> crate::kernel::signal::signal_struct::SigActions {
        let sighand = self.sighand.lock();
        let table = sighand.as_deref().unwrap_or(&INIT_SIGHAND);
        let actions = table.action.lock();
        actions.duplicate()
    }

    /// Run `f` on the signal actions, locked.
    pub fn with_actions<R>(&self, f: impl FnOnce(&mut [SigAction; NSIG]) -> R) -> R {
        let sighand = self.sighand.lock();
        let table = sighand.as_deref().unwrap_or(&INIT_SIGHAND);
        let mut actions = table.action.lock();
        actions.with(f)
    }

    /// True if this task leads its thread group (its PID is the process's ID).
    pub fn is_group_leader(&self) -> bool {
        self.pid() == self.tgid.load(Ordering::Relaxed)
    }

    /// A counted reference to the thread group's leader (Linux's `group_leader`).
    pub fn group_leader(&self) -> TaskRef {
        let leader = self.group_leader.load(Ordering::Acquire);
        if leader.is_null() {
            self.get_ref()
        } else {
            // SAFETY: a leader outlives the other threads of its group: it is reaped only
            // once they are all released, and `de_thread` points the survivor at itself
            // before it releases the old leader.
            unsafe { &*leader }.get_ref()
        }
    }

    /// A copy of `comm`, for printing.
    pub fn comm(&self) -> Comm {
        Comm(*self.comm.lock())
    }

    /// Set `comm` (Linux's `set_task_comm`).
    pub fn set_comm(&self, name: &str) {
        *self.comm.lock() = comm_from(name);
    }

    /// True for kernel threads.
    pub fn is_kthread(&self) -> bool {
        self.flags.load(Ordering::Relaxed) & PF_KTHREAD != 0
    }

    /// The task's address space, if it has one.
    pub fn mm(&self) -> Option<Arc<MmStruct>> {
        self.mm.lock().clone()
    }

    /// The task's descriptor table (EBADF for a task without one, like most kernel threads).
    pub fn files(&self) -> Result<Arc<SpinLock<FilesStruct>>, Errno> {
        self.files.lock().clone().ok_or(Errno::EBADF)
    }

    /// The task's root and working directory.
    pub fn fs(&self) -> Result<Arc<SpinLock<FsStruct>>, Errno> {
        self.fs.lock().clone().ok_or(Errno::ENOENT)
    }

    /// Lowest address of the kernel stack.
    pub fn stack_base(&self) -> usize {
        self.stack.load(Ordering::Relaxed)
    }

    /// True if `addr..addr+len` lies inside this task's kernel stack.
    pub fn on_stack(&self, addr: usize, len: usize) -> bool {
        let base = self.stack_base();
        base != 0 && addr >= base && addr.saturating_add(len) <= base + THREAD_SIZE
    }

    /// Linux's `set_task_stack_end_magic`: mark the stack's lowest word.
    pub fn set_stack_end_magic(&self) {
        let end = self.stack_base() as *mut u64;
        assert!(!end.is_null(), "task has no stack");
        // SAFETY: `stack` is the lowest address of this task's own THREAD_SIZE stack, 16-byte
        // aligned; its first word is reserved for the magic and never used as stack.
        unsafe { end.write_volatile(STACK_END_MAGIC) };
    }

    /// Linux's `task_stack_end_corrupted`: true if the stack overflowed past its end.
    pub fn stack_end_corrupted(&self) -> bool {
        let end = self.stack_base() as *const u64;
        if end.is_null() {
            return false;
        }
        // SAFETY: as in `set_stack_end_magic`; reading the word is always allowed.
        unsafe { end.read_volatile() != STACK_END_MAGIC }
    }

    /// The task's state letter as `ps` shows it.
    pub fn state_char(&self) -> char {
        match self.exit_state.load(Ordering::Relaxed) {
            state::EXIT_ZOMBIE => return 'Z',
            state::EXIT_DEAD => return 'X',
            _ => {}
        }
        match self.state.load(Ordering::Relaxed) {
            state::TASK_RUNNING => 'R',
            state::TASK_INTERRUPTIBLE => 'S',
            state::TASK_UNINTERRUPTIBLE => 'D',
            state::TASK_STOPPED => 'T',
            state::EXIT_ZOMBIE => 'Z',
            _ => 'X',
        }
    }

    /// A new reference to this task.
    pub fn get_ref(&self) -> TaskRef {
        self.usage.fetch_add(1, Ordering::Relaxed);
        TaskRef(NonNull::from(self))
    }
}

/// A counted reference to a task (Linux's `get_task_struct`/`put_task_struct`). The last
/// one frees a task that `copy_process` allocated; `init_task` is never freed.
pub struct TaskRef(NonNull<TaskStruct>);

// SAFETY: a TaskRef is a shared reference with a count; TaskStruct is Sync.
unsafe impl Send for TaskRef {}
// SAFETY: as above.
unsafe impl Sync for TaskRef {}

impl TaskRef {
    /// The raw pointer, for `cpu_switch_to` and intrusive uses.
    pub fn as_ptr(&self) -> *const TaskStruct {
        self.0.as_ptr()
    }

    /// Give up the reference without dropping it, as a raw pointer (for timers).
    pub fn into_raw(self) -> *const TaskStruct {
        let ptr = self.as_ptr();
        core::mem::forget(self);
        ptr
    }

    /// Take back a reference `into_raw` gave up.
    ///
    /// # Safety
    ///
    /// `ptr` must come from `into_raw`, and each such pointer may be taken back once.
    pub unsafe fn from_raw(ptr: *const TaskStruct) -> Self {
        // SAFETY: `into_raw` kept the count for this reference, so the task is alive.
        Self(unsafe { NonNull::new_unchecked(ptr as *mut TaskStruct) })
    }

    /// True if both refer to the same task.
    pub fn ptr_eq(&self, other: &TaskStruct) -> bool {
        core::ptr::eq(self.as_ptr(), other)
    }
}

impl Clone for TaskRef {
    fn clone(&self) -> Self {
        self.get_ref()
    }
}

impl core::ops::Deref for TaskRef {
    type Target = TaskStruct;
    fn deref(&self) -> &TaskStruct {
        // SAFETY: the reference count keeps the task alive while this TaskRef exists.
        unsafe { self.0.as_ref() }
    }
}

impl Drop for TaskRef {
    fn drop(&mut self) {
        if self.usage.fetch_sub(1, Ordering::AcqRel) == 1 && self.allocated {
            // SAFETY: that was the last reference to a task `alloc` leaked from a Box; no
            // one can reach it any more.
            drop(unsafe { alloc::boxed::Box::from_raw(self.0.as_ptr()) });
        }
    }
}

/// A task's name, printable.
pub struct Comm(pub [u8; TASK_COMM_LEN]);

impl core::fmt::Display for Comm {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        let len = self.0.iter().position(|&b| b == 0).unwrap_or(TASK_COMM_LEN);
        f.pad(core::str::from_utf8(&self.0[..len]).unwrap_or("?"))
    }
}

/// The task running on this CPU (Linux's `current`), as the architecture keeps it
/// (`crate::arch::current::get_current`; on arm64, `sp_el0`).
#[inline(always)]
pub fn current() -> &'static TaskStruct {
    let task = crate::arch::current::get_current();
    // SAFETY: while the CPU is in the kernel, the architecture's current-task register always
    // points at the running task: head.S sets it to init_task, cpu_switch_to and kernel_entry
    // keep it so. A running task holds a reference to itself until it has switched away for
    // the last time.
    unsafe { &*task }
}
