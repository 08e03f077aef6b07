//! `struct signal_struct` and `struct sighand_struct`: what the threads of one process share
//! (Linux: `include/linux/sched/signal.h`).
//!
//! A process is a thread group: every task made with CLONE_THREAD shares its creator's
//! [`SignalStruct`] (process-directed pending signals, the group's stop and exit state, the
//! list of its threads); tasks made with CLONE_SIGHAND share a [`SighandStruct`] (the signal
//! actions). The per-thread parts (blocked mask, thread-directed pending signals, the
//! alternate stack) stay in the task.
//!
//! Locking: `threads` changes only with the tasklist lock held (taken first), as Linux's
//! `thread_node` does; `inner` and `action` are leaf locks. Lock order: a task's `sigstate`
//! lock, then `inner`.

use alloc::boxed::Box;
use alloc::sync::Arc;
use alloc::vec::Vec;
use core::sync::atomic::{AtomicBool, AtomicI32, AtomicPtr, AtomicU64, AtomicUsize, Ordering};

use super::{SigAction, SigQueue, NSIG};
use crate::kernel::locking::SpinLock;
use crate::kernel::sched::wait::WaitQueueHead;
use crate::kernel::task::{TaskRef, TaskStruct};

/// The group's stop state and process-directed siginfo. Lock: `SignalStruct::inner`.
pub struct SignalInner {
    /// The information of the process-directed pending signals.
    pub shared_queue: SigQueue,
    /// Stopped by a signal, waiting for SIGCONT (Linux's SIGNAL_STOP_STOPPED).
    pub stopped: bool,
    /// The stop signal the parent's `wait4(WUNTRACED)` has yet to see (0: none).
    pub stop_report: i32,
    /// The parent's `wait4(WCONTINUED)` has yet to see a continue (SIGNAL_STOP_CONTINUED).
    pub cont_report: bool,
}

/// What [`SignalStruct::start_group_exit`] found.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum GroupExit {
    /// The caller made the group exit: it kills the other threads.
    Started,
    /// The group already exits, with this status.
    Exiting(i32),
    /// A thread is in `execve`'s `de_thread`, which kills the others itself.
    Exec,
}

/// What a thread group shares (Linux's `struct signal_struct`).
pub struct SignalStruct {
    /// Process-directed pending signals (Linux's `shared_pending`), bit n-1 for signal n.
    pub shared_pending: AtomicU64,
    /// Stop state and siginfo. Lock: its own.
    pub inner: SpinLock<SignalInner>,
    /// The threads not yet released, the group leader first while it exists. Lock: its own,
    /// changed only under the tasklist lock.
    pub threads: SpinLock<Vec<TaskRef>>,
    /// Threads that have not yet exited (Linux's `live`): the last one out ends the process.
    pub live: AtomicUsize,
    /// The group is exiting: `exit_group`, a fatal signal (Linux's SIGNAL_GROUP_EXIT).
    pub group_exit: AtomicBool,
    /// The wait status of the whole group once `group_exit` is set.
    pub group_exit_code: AtomicI32,
    /// The thread running `execve`'s `de_thread`, while the others are being killed
    /// (Linux's `group_exec_task`); null otherwise.
    pub group_exec_task: AtomicPtr<TaskStruct>,
    /// `de_thread` sleeps here until the other threads are gone.
    pub exec_wait: WaitQueueHead,
    /// CPU time: the threads', the released threads', the reaped children's, and the CPU
    /// interval timers (`sched::cputime`).
    pub cputime: crate::kernel::sched::cputime::SignalCputime,
    /// The resource limits but RLIMIT_CPU and RLIMIT_SIGPENDING (Linux's `rlim`;
    /// `sys::Rlimits`).
    pub rlim: crate::kernel::sys::Rlimits,
    /// RLIMIT_SIGPENDING (soft, hard); None: the boot default, [`default_rlimit_sigpending`]
    /// (Linux keeps it in `signal->rlim`, copied by `copy_signal`). Lock: its own.
    pub rlim_sigpending: SpinLock<Option<(u64, u64)>>,
}

/// The RLIMIT_SIGPENDING init starts with: half of `max_threads` (Linux's `fork_init`
/// sets it to RLIMIT_NPROC, `max_threads / 2`, and `set_max_threads` lets kernel stacks of
/// Linux's 16 KiB take an eighth of memory).
pub fn default_rlimit_sigpending() -> u64 {
    const LINUX_THREAD_SIZE: u64 = 16384;
    let bytes = crate::mm::pages::totalram_pages() * crate::arch::memory::PAGE_SIZE;
    (bytes / (LINUX_THREAD_SIZE * 8)).clamp(20, 0x3fff_ffff) / 2
}

impl SignalStruct {
    /// A group with no threads yet, nothing pending.
    pub const fn new() -> Self {
        Self {
            shared_pending: AtomicU64::new(0),
            inner: SpinLock::new(SignalInner {
                shared_queue: SigQueue::new(),
                stopped: false,
                stop_report: 0,
                cont_report: false,
            }),
            threads: SpinLock::new(Vec::new()),
            live: AtomicUsize::new(0),
            group_exit: AtomicBool::new(false),
            group_exit_code: AtomicI32::new(0),
            group_exec_task: AtomicPtr::new(core::ptr::null_mut()),
            exec_wait: WaitQueueHead::new(),
            cputime: crate::kernel::sched::cputime::SignalCputime::new(),
            rlim: crate::kernel::sys::Rlimits::new(),
            rlim_sigpending: SpinLock::new(None),
        }
    }

    /// A new group on the heap, built in place in the allocation rather than on the stack
    /// and copied there.
    pub fn new_arc() -> Arc<Self> {
        let mut new = Arc::<Self>::new_uninit();
        Arc::get_mut(&mut new)
            .expect("a new Arc has no other reference")
            .write(Self::new());
        // SAFETY: written just above.
        unsafe { new.assume_init() }
    }

    /// Counted references to every thread of the group (allocates: for `/proc`).
    pub fn thread_list(&self) -> Vec<TaskRef> {
        self.threads.lock().clone()
    }

    /// Call `f` for every thread of the group, with the list locked (Linux's
    /// `for_each_thread`). Allocates nothing, so signals reach thousands of threads with
    /// memory exhausted. `f` must not take this list's lock (it may wake tasks).
    pub fn for_each_thread(&self, mut f: impl FnMut(&TaskRef)) {
        for t in self.threads.lock().iter() {
            f(t);
        }
    }

    /// Number of threads not yet released (`Threads:` in /proc/<pid>/status).
    pub fn nr_threads(&self) -> usize {
        self.threads.lock().len()
    }

    /// Make the group exit with status `code` unless it already exits or a thread is in
    /// `execve`'s `de_thread` (Linux's checks under `siglock` in `do_group_exit` and
    /// `complete_signal`). Decided under `inner`'s lock, so of threads on several CPUs that
    /// race to end the group exactly one wins, and everyone who then sees `group_exit` also
    /// sees the winner's code.
    pub fn start_group_exit(&self, code: i32) -> GroupExit {
        let _inner = self.inner.lock();
        if self.group_exit.load(Ordering::Relaxed) {
            return GroupExit::Exiting(self.group_exit_code.load(Ordering::Relaxed));
        }
        if !self.group_exec_task.load(Ordering::Relaxed).is_null() {
            return GroupExit::Exec;
        }
        self.group_exit_code.store(code, Ordering::Relaxed);
        self.group_exit.store(true, Ordering::Release);
        GroupExit::Started
    }

    /// Make `task` the group's `de_thread` caller, unless the group is exiting or another
    /// thread execs (under `inner`'s lock, as [`SignalStruct::start_group_exit`]).
    pub fn start_group_exec(&self, task: &TaskStruct) -> bool {
        let _inner = self.inner.lock();
        if self.group_exit.load(Ordering::Relaxed)
            || !self.group_exec_task.load(Ordering::Relaxed).is_null()
        {
            return false;
        }
        self.group_exec_task.store(
            task as *const TaskStruct as *mut TaskStruct,
            Ordering::Release,
        );
        true
    }

    /// RLIMIT_SIGPENDING as (soft, hard).
    pub fn rlimit_sigpending(&self) -> (u64, u64) {
        self.rlim_sigpending.lock().unwrap_or_else(|| {
            let d = default_rlimit_sigpending();
            (d, d)
        })
    }

    /// True if the group is exiting (Linux's `signal_group_exit`).
    pub fn group_exiting(&self) -> bool {
        self.group_exit.load(Ordering::Acquire)
            || !self.group_exec_task.load(Ordering::Acquire).is_null()
    }
}

impl Default for SignalStruct {
    fn default() -> Self {
        Self::new()
    }
}

/// The signal actions, shared under CLONE_SIGHAND (Linux's `struct sighand_struct`).
pub struct SighandStruct {
    /// Actions, by signal number - 1. Lock: its own (Linux's `siglock`).
    pub action: SpinLock<SigActions>,
}

impl SighandStruct {
    /// Every signal at its default action.
    pub const fn new() -> Self {
        Self {
            action: SpinLock::new(SigActions::new()),
        }
    }

    /// A copy of `actions`.
    pub fn from_actions(actions: &[SigAction; NSIG]) -> Self {
        let table = SighandStruct::new();
        table.action.lock().set(actions);
        table
    }

    /// A new table holding `actions` (Linux's `copy_sighand` with a copy made by
    /// [`SigActions::duplicate`]).
    pub fn with_table(actions: SigActions) -> Self {
        Self {
            action: SpinLock::new(actions),
        }
    }
}

/// The 64 actions of a [`SighandStruct`]. While every one is the default the table is not
/// allocated: most processes (an idle `sleep`, a shell's child after `execve`) never set
/// one, and the 2 KiB table was most of the heap they held.
pub struct SigActions(Option<Box<[SigAction; NSIG]>>);

/// Whether every action of `table` is the default.
fn all_default(table: &[SigAction; NSIG]) -> bool {
    table.iter().all(|action| *action == SigAction::DEFAULT)
}

impl SigActions {
    /// Every signal at its default action.
    pub const fn new() -> Self {
        Self(None)
    }

    /// Run `f` on the actions, which it may change; the table is allocated if `f` leaves
    /// an action that is not the default.
    pub fn with<R>(&mut self, f: impl FnOnce(&mut [SigAction; NSIG]) -> R) -> R {
        if let Some(table) = &mut self.0 {
            return f(table);
        }
        let mut table = [SigAction::DEFAULT; NSIG];
        let result = f(&mut table);
        if !all_default(&table) {
            self.0 = Some(Box::new(table));
        }
        result
    }

    /// Whether the table has been allocated (some action was set to something else).
    pub fn is_allocated(&self) -> bool {
        self.0.is_some()
    }

    /// Make the actions a copy of `actions`.
    pub fn set(&mut self, actions: &[SigAction; NSIG]) {
        self.0 = (!all_default(actions)).then(|| Box::new(*actions));
    }

    /// A copy: nothing to allocate while every action is the default; else the 2 KiB table
    /// copied straight into its new allocation, never through the stack.
    pub fn duplicate(&self) -> Self {
        let Some(table) = &self.0 else {
            return Self(None);
        };
        let mut copy = Box::<[SigAction; NSIG]>::new_uninit();
        copy.write(**table);
        // SAFETY: written just above.
        Self(Some(unsafe { copy.assume_init() }))
    }

    /// Free the table if every action is back at the default (after `execve` reset them).
    pub fn compact(&mut self) {
        if self.0.as_deref().is_some_and(all_default) {
            self.0 = None;
        }
    }
}

impl Default for SigActions {
    fn default() -> Self {
        Self::new()
    }
}

impl Default for SighandStruct {
    fn default() -> Self {
        Self::new()
    }
}

/// The signal state of PID 0, which `copy_process` did not make (Linux's `init_signals`).
pub static INIT_SIGNALS: SignalStruct = SignalStruct::new();
/// PID 0's actions (Linux's `init_sighand`).
pub static INIT_SIGHAND: SighandStruct = SighandStruct::new();
