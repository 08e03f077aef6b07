//! Signals: sending, blocking, the default actions and the system calls around them
//! (Linux: `kernel/signal.c`, `include/linux/signal.h`).
//!
//! A signal is sent with [`send_signal_info`]: it becomes a bit in the target's `pending`
//! set and an entry with its `siginfo` in the set's queue ([`SigQueue`]): every instance of
//! a real-time signal (32..=64) has its own entry, taken oldest first, while a standard
//! signal already pending is merged (Linux's `legacy_queue`); the entries count against
//! the receiver's RLIMIT_SIGPENDING (`sigqueue`). It wakes the target if it sleeps
//! interruptibly. Sending SIGCONT resumes a
//! stopped task and discards pending stop signals; sending a stop signal discards a pending
//! SIGCONT (Linux's `prepare_signal`).
//!
//! Delivery happens on the way back to user space (`arch::signal::do_signal`), which
//! asks [`get_signal`] for the next signal to run a handler for. `get_signal` carries out the
//! default actions itself: ignore, terminate (the signal number becomes the wait status; the
//! core-dump signals also just terminate — Cradle writes no core files), and stop (the task
//! sleeps in TASK_STOPPED until SIGCONT or SIGKILL). SIGKILL and SIGSTOP can be neither
//! caught, blocked nor ignored. PID 1 never gets a signal it has no handler for (Linux's
//! SIGNAL_UNKILLABLE).
//!
//! A blocking system call interrupted by a signal returns one of the internal restart codes
//! ([`ERESTARTSYS`] and friends); `do_signal` turns it into EINTR or restarts the call, as
//! Linux's arm64 `do_signal` does. The parent hears about its children with SIGCHLD
//! ([`do_notify_parent`], [`do_notify_parent_cldstop`]).
//!
//! A process is a thread group. `kill` and the kernel's own signals are process-directed:
//! they pend in the group's [`SignalStruct`] and [`complete_signal`] wakes one thread that
//! does not block them; `tkill`/`tgkill` and faults are thread-directed and pend in the
//! thread. A fatal signal ends every thread ([`do_group_exit`]); a stop signal stops every
//! thread and SIGCONT continues them all. The actions are shared under CLONE_SIGHAND
//! ([`SighandStruct`]); the per-thread parts (`siginfo` of thread-directed signals, the
//! alternate stack, `rt_sigsuspend`'s saved mask) are the task's [`SignalState`].
//!
//! Submodules: `signal_struct` (the shared structures), `sigqueue` (the queue of pending
//! signals' information and the per-user count RLIMIT_SIGPENDING limits), `send` (kill,
//! tkill, tgkill, rt_sigqueueinfo, rt_tgsigqueueinfo, pidfd_send_signal and the delivery to
//! a thread), `notify` (job-control stops, SIGCHLD to the parent), `wait` (sigsuspend,
//! sigtimedwait, restart_syscall), `signal_kunit` (KUnit tests of the tables allocated on
//! demand and of the queue). The arm64 frame is in `arch/arm64/kernel/signal.rs`.

mod notify;
mod send;
mod signal_kunit;
pub mod signal_struct;
pub mod sigqueue;
mod wait;

use core::sync::atomic::Ordering;

pub use notify::{do_notify_parent, do_notify_parent_cldstop, get_parent, parent_autoreaps};
pub use send::{
    is_ignored_or_blocked, send_signal, send_signal_info, send_signal_info_thread,
    send_signal_kernel, send_sigqueue, sys_kill, sys_pidfd_send_signal, sys_rt_sigqueueinfo,
    sys_rt_tgsigqueueinfo, sys_tgkill, sys_tkill, zap_other_threads, SIGRTMIN,
};
pub use signal_struct::{GroupExit, SighandStruct, SignalStruct};
pub use sigqueue::SigQueue;
pub use wait::{
    set_restart_nanosleep, sys_restart_syscall, sys_rt_sigsuspend, sys_rt_sigtimedwait,
};

use crate::arch::uaccess::{copy_from_user, copy_to_user};
use crate::kernel::errno::Errno;
use crate::kernel::task::{current, TaskStruct, JOBCTL_STOP_PENDING};

/// Signal numbers (Linux's `asm-generic/signal.h`).
pub mod sig {
    /// Hangup.
    pub const SIGHUP: i32 = 1;
    /// Interrupt (^C).
    pub const SIGINT: i32 = 2;
    /// Quit (^\).
    pub const SIGQUIT: i32 = 3;
    /// Illegal instruction.
    pub const SIGILL: i32 = 4;
    /// Trace trap.
    pub const SIGTRAP: i32 = 5;
    /// Abort.
    pub const SIGABRT: i32 = 6;
    /// Bus error.
    pub const SIGBUS: i32 = 7;
    /// Floating-point exception.
    pub const SIGFPE: i32 = 8;
    /// Kill (cannot be caught).
    pub const SIGKILL: i32 = 9;
    /// User-defined 1.
    pub const SIGUSR1: i32 = 10;
    /// Segmentation fault.
    pub const SIGSEGV: i32 = 11;
    /// User-defined 2.
    pub const SIGUSR2: i32 = 12;
    /// Broken pipe.
    pub const SIGPIPE: i32 = 13;
    /// Alarm.
    pub const SIGALRM: i32 = 14;
    /// Termination.
    pub const SIGTERM: i32 = 15;
    /// Child stopped or exited.
    pub const SIGCHLD: i32 = 17;
    /// Continue.
    pub const SIGCONT: i32 = 18;
    /// Stop (cannot be caught).
    pub const SIGSTOP: i32 = 19;
    /// Terminal stop (^Z).
    pub const SIGTSTP: i32 = 20;
    /// Background read from the tty.
    pub const SIGTTIN: i32 = 21;
    /// Background write to the tty.
    pub const SIGTTOU: i32 = 22;
    /// Urgent socket data.
    pub const SIGURG: i32 = 23;
    /// CPU time limit exceeded.
    pub const SIGXCPU: i32 = 24;
    /// File size limit exceeded.
    pub const SIGXFSZ: i32 = 25;
    /// Virtual (user CPU time) timer expired: ITIMER_VIRTUAL.
    pub const SIGVTALRM: i32 = 26;
    /// Profiling (user + system CPU time) timer expired: ITIMER_PROF.
    pub const SIGPROF: i32 = 27;
    /// Window size change.
    pub const SIGWINCH: i32 = 28;
    /// Bad system call.
    pub const SIGSYS: i32 = 31;
}

/// `sa_flags` bits (Linux's `asm-generic/signal.h`, arm64 adds none that matter here).
pub mod sa {
    /// Do not send SIGCHLD when a child stops or continues.
    pub const SA_NOCLDSTOP: u64 = 0x0000_0001;
    /// Children reap themselves; no zombies.
    pub const SA_NOCLDWAIT: u64 = 0x0000_0002;
    /// The handler takes (signo, siginfo, ucontext).
    pub const SA_SIGINFO: u64 = 0x0000_0004;
    /// `sa_restorer` is the return trampoline.
    pub const SA_RESTORER: u64 = 0x0400_0000;
    /// Run the handler on the alternate signal stack.
    pub const SA_ONSTACK: u64 = 0x0800_0000;
    /// Restart system calls the signal interrupts.
    pub const SA_RESTART: u64 = 0x1000_0000;
    /// Do not block the signal while its handler runs.
    pub const SA_NODEFER: u64 = 0x4000_0000;
    /// Reset to SIG_DFL when the handler is entered.
    pub const SA_RESETHAND: u64 = 0x8000_0000;
}

/// `si_code` values (Linux's `asm-generic/siginfo.h`).
pub mod si {
    /// Sent by `kill`.
    pub const SI_USER: i32 = 0;
    /// Sent by the kernel.
    pub const SI_KERNEL: i32 = 0x80;
    /// Sent by `sigqueue`.
    pub const SI_QUEUE: i32 = -1;
    /// A POSIX timer expired.
    pub const SI_TIMER: i32 = -2;
    /// Sent by `tkill`/`tgkill`.
    pub const SI_TKILL: i32 = -6;
    /// SIGCHLD: the child exited.
    pub const CLD_EXITED: i32 = 1;
    /// SIGCHLD: the child was killed.
    pub const CLD_KILLED: i32 = 2;
    /// SIGCHLD: the child was killed and dumped core.
    pub const CLD_DUMPED: i32 = 3;
    /// SIGCHLD: the child stopped.
    pub const CLD_STOPPED: i32 = 5;
    /// SIGCHLD: the stopped child continued.
    pub const CLD_CONTINUED: i32 = 6;
    /// SIGSEGV: no mapping at the address.
    pub const SEGV_MAPERR: i32 = 1;
    /// SIGSEGV: a mapping that does not allow the access.
    pub const SEGV_ACCERR: i32 = 2;
    /// SIGBUS: a misaligned address (PC or SP alignment).
    pub const BUS_ADRALN: i32 = 1;
    /// SIGBUS: no memory behind the address (a file mapping past the end of the file).
    pub const BUS_ADRERR: i32 = 2;
    /// SIGILL: an undefined instruction.
    pub const ILL_ILLOPC: i32 = 1;
    /// SIGTRAP: a breakpoint (`brk`).
    pub const TRAP_BRKPT: i32 = 1;
}

/// Internal errno: restart the system call if the handler has SA_RESTART (or there is no
/// handler), else EINTR. Never reaches user space (Linux's `ERESTARTSYS`).
pub const ERESTARTSYS: Errno = Errno(512);
/// Internal errno: always restart (Linux's `ERESTARTNOINTR`).
pub const ERESTARTNOINTR: Errno = Errno(513);
/// Internal errno: restart only if no handler runs, else EINTR (Linux's `ERESTARTNOHAND`).
pub const ERESTARTNOHAND: Errno = Errno(514);
/// Internal errno: restart through `restart_syscall` (with the task's restart block) if no
/// handler runs, else EINTR (Linux's `ERESTART_RESTARTBLOCK`).
pub const ERESTART_RESTARTBLOCK: Errno = Errno(516);

/// Number of signals (Linux's `_NSIG`).
pub const NSIG: usize = 64;
/// `sa_handler` for the default action.
pub const SIG_DFL: u64 = 0;
/// `sa_handler` to ignore the signal.
pub const SIG_IGN: u64 = 1;

/// `ss_flags` (Linux's `uapi/linux/signal.h`): the task runs on the alternate stack.
pub const SS_ONSTACK: i32 = 1;
/// `ss_flags`: the alternate stack is disabled.
pub const SS_DISABLE: i32 = 2;
/// `ss_flags`: disarm the alternate stack while a handler runs on it.
pub const SS_AUTODISARM: i32 = 1 << 31;
/// The smallest alternate stack arm64 accepts (Linux's arm64 `MINSIGSTKSZ`).
pub const MINSIGSTKSZ: u64 = 5120;

/// Linux's `struct sigaction` as arm64 passes it to `rt_sigaction` (32 bytes).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct SigAction {
    /// Handler address, SIG_DFL or SIG_IGN.
    pub handler: u64,
    /// SA_* flags.
    pub flags: u64,
    /// The return trampoline (SA_RESTORER).
    pub restorer: u64,
    /// Signals blocked while the handler runs.
    pub mask: u64,
}

impl SigAction {
    /// SIG_DFL, no flags.
    pub const DEFAULT: Self = Self {
        handler: SIG_DFL,
        flags: 0,
        restorer: 0,
        mask: 0,
    };
}

/// What a pending signal carries: the fields of `siginfo_t` Cradle fills in.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct KernelSigInfo {
    /// `si_signo`.
    pub signo: i32,
    /// `si_code` (`si::*`).
    pub code: i32,
    /// `si_pid`: the sender, or for SIGCHLD the child.
    pub pid: i32,
    /// `si_uid` (everyone is root).
    pub uid: u32,
    /// `si_status` (SIGCHLD): the exit status or the signal.
    pub status: i32,
    /// `si_value` (SI_TIMER, SI_QUEUE): the `sigval` the sender chose.
    pub value: u64,
    /// `si_timerid` (SI_TIMER): the kernel's ID of the timer.
    pub timerid: i32,
    /// `si_overrun` (SI_TIMER): expirations lost while the signal was pending.
    pub overrun: i32,
    /// `si_addr` (a fault: SIGSEGV, SIGBUS, SIGILL, SIGTRAP, SIGFPE): the faulting address.
    pub addr: u64,
}

impl KernelSigInfo {
    /// Nothing: signal 0, every field 0 (a `const` for the tables of pending signals).
    pub const EMPTY: Self = Self {
        signo: 0,
        code: 0,
        pid: 0,
        uid: 0,
        status: 0,
        value: 0,
        timerid: 0,
        overrun: 0,
        addr: 0,
    };

    /// True if the union holds `_sigfault` (Linux's `siginfo_layout` → SIL_FAULT): a fault
    /// signal with a kernel fault code (between SI_USER and SI_KERNEL).
    pub fn is_fault(&self) -> bool {
        matches!(
            self.signo,
            sig::SIGILL | sig::SIGFPE | sig::SIGSEGV | sig::SIGBUS | sig::SIGTRAP
        ) && self.code > si::SI_USER
            && self.code < si::SI_KERNEL
    }

    /// Linux's arm64 `siginfo_t`, 128 bytes: signo, errno, code at 0, 4, 8; the union at 16
    /// (`_kill`: pid, uid; `_sigchld`: pid, uid, status at 24, utime at 32, stime at 40;
    /// `_timer`: tid, overrun, sigval at 24; `_rt`: pid, uid, sigval at 24; `_sigfault`: addr).
    pub fn to_user_bytes(&self) -> [u8; 128] {
        let mut b = [0u8; 128];
        b[0..4].copy_from_slice(&self.signo.to_le_bytes());
        b[8..12].copy_from_slice(&self.code.to_le_bytes());
        if self.is_fault() {
            b[16..24].copy_from_slice(&self.addr.to_le_bytes());
            return b;
        }
        if self.code == si::SI_TIMER {
            b[16..20].copy_from_slice(&self.timerid.to_le_bytes());
            b[20..24].copy_from_slice(&self.overrun.to_le_bytes());
            b[24..32].copy_from_slice(&self.value.to_le_bytes());
            return b;
        }
        b[16..20].copy_from_slice(&self.pid.to_le_bytes());
        b[20..24].copy_from_slice(&self.uid.to_le_bytes());
        if self.code < 0 {
            // `_rt` (Linux's SIL_RT: sigqueue, tkill, the other negative codes).
            b[24..32].copy_from_slice(&self.value.to_le_bytes());
        } else if self.is_chld() {
            b[24..28].copy_from_slice(&self.status.to_le_bytes());
        }
        b
    }

    /// True if the union holds `_sigchld` (Linux's SIL_CHLD): SIGCHLD with a CLD_* code.
    pub fn is_chld(&self) -> bool {
        self.signo == sig::SIGCHLD && self.code > si::SI_USER && self.code <= si::CLD_CONTINUED
    }

    /// The information a user passed in a `siginfo_t` (Linux's `copy_siginfo_from_user`):
    /// the union's first 16 bytes kept under every reading Cradle has of them, so
    /// [`KernelSigInfo::to_user_bytes`] gives them back for the layout `si_code` selects.
    pub fn from_user_bytes(b: &[u8; 128]) -> Self {
        let i32_at = |o: usize| i32::from_le_bytes([b[o], b[o + 1], b[o + 2], b[o + 3]]);
        let u64_at = |o: usize| u64::from(i32_at(o) as u32) | u64::from(i32_at(o + 4) as u32) << 32;
        Self {
            signo: i32_at(0),
            code: i32_at(8),
            pid: i32_at(16),
            uid: i32_at(20) as u32,
            status: i32_at(24),
            value: u64_at(24),
            timerid: i32_at(16),
            overrun: i32_at(20),
            addr: u64_at(16),
        }
    }
}

/// The alternate signal stack (Linux's `sas_ss_*`).
#[derive(Clone, Copy, Debug, Default)]
pub struct AltStack {
    /// Lowest address.
    pub sp: u64,
    /// Size in bytes; 0 when disabled.
    pub size: u64,
    /// SS_AUTODISARM, if asked for.
    pub flags: i32,
}

impl AltStack {
    /// True if `sp` lies on this stack (Linux's `on_sig_stack`, for a stack growing down).
    pub fn on_stack(&self, sp: u64) -> bool {
        self.size != 0 && sp > self.sp && sp - self.sp <= self.size
    }

    /// `ss_flags` as `sigaltstack` and the signal frame report them (Linux's
    /// `sas_ss_flags`).
    pub fn flags_for(&self, sp: u64) -> i32 {
        if self.size == 0 {
            SS_DISABLE
        } else if self.on_stack(sp) {
            SS_ONSTACK
        } else {
            self.flags
        }
    }
}

/// A thread's own signal state: the parts of Linux's `task_struct` that are not atomics in
/// [`TaskStruct`] (the shared ones are in [`SignalStruct`] and [`SighandStruct`]).
pub struct SignalState {
    /// The information of the thread-directed pending signals.
    pub queue: SigQueue,
    /// The alternate signal stack.
    pub altstack: AltStack,
    /// The mask to restore once a handler frame is set up or the syscall returns
    /// (`rt_sigsuspend`'s caller's mask; Linux's `saved_sigmask` + TIF_RESTORE_SIGMASK).
    pub saved_sigmask: Option<u64>,
    /// `restart_syscall` resumes an interrupted `nanosleep`: (deadline in ktime ns, or in
    /// CPU time on the CPU clock given, the user's `rem` pointer, that CPU clock) (Linux's
    /// `restart_block`).
    pub restart_nanosleep: Option<(u64, u64, Option<i32>)>,
    /// Where the sigreturn trampoline is mapped in the task's address space (0: not yet;
    /// `arch::signal::sigtramp`).
    pub sigtramp: u64,
}

impl SignalState {
    /// Every signal at its default action, nothing pending or stopped.
    pub const fn new() -> Self {
        Self {
            queue: SigQueue::new(),
            altstack: AltStack {
                sp: 0,
                size: 0,
                flags: 0,
            },
            saved_sigmask: None,
            restart_nanosleep: None,
            sigtramp: 0,
        }
    }
}

/// `task`'s action for `signo` (1..=NSIG).
pub fn action_of(task: &TaskStruct, signo: i32) -> SigAction {
    task.with_actions(|actions| actions[signo as usize - 1])
}

impl Default for SignalState {
    fn default() -> Self {
        Self::new()
    }
}

/// The bit of `signo` in a signal set.
pub const fn bit(signo: i32) -> u64 {
    1u64 << (signo - 1)
}

/// Signals that can be neither caught, blocked nor ignored.
const UNBLOCKABLE: u64 = bit(sig::SIGKILL) | bit(sig::SIGSTOP);
/// Signals whose default action is to stop (Linux's `SIG_KERNEL_STOP_MASK`).
const STOP_MASK: u64 =
    bit(sig::SIGSTOP) | bit(sig::SIGTSTP) | bit(sig::SIGTTIN) | bit(sig::SIGTTOU);
/// Signals whose default action is to do nothing (Linux's `SIG_KERNEL_IGNORE_MASK`; SIGCONT
/// does its work when sent).
const IGNORE_MASK: u64 =
    bit(sig::SIGCHLD) | bit(sig::SIGURG) | bit(sig::SIGWINCH) | bit(sig::SIGCONT);

fn valid(signo: i32) -> Result<(), Errno> {
    if (1..=NSIG as i32).contains(&signo) {
        Ok(())
    } else {
        Err(Errno::EINVAL)
    }
}

/// The signals pending for `task`: its own and its process's.
pub fn pending_of(task: &TaskStruct) -> u64 {
    task.pending.load(Ordering::Acquire) | task.signal().shared_pending.load(Ordering::Acquire)
}

/// True if the task has a signal to act on: one pending and not blocked, or a group stop
/// to join (Linux's `signal_pending`). Interruptible sleeps end when this holds. Cheap
/// while the task's `sigpending` flag is clear (the common case on every return to user
/// space); otherwise it looks at the sets, and clears the flag if nothing is pending at all.
#[inline]
pub fn signal_pending(task: &TaskStruct) -> bool {
    if !task.sigpending.load(Ordering::Acquire) {
        return false;
    }
    recalc_sigpending(task)
}

/// The full test behind [`signal_pending`] (Linux's `recalc_sigpending`). The flag is
/// cleared before the sets are read again, and a sender sets its bit before the flag, so a
/// signal queued meanwhile is never missed.
#[inline(never)]
fn recalc_sigpending(task: &TaskStruct) -> bool {
    let wanted = |pending: u64| {
        pending & !task.blocked.load(Ordering::Relaxed) != 0
            || task.jobctl.load(Ordering::Acquire) != 0
    };
    let pending = pending_of(task);
    if wanted(pending) {
        return true;
    }
    if pending == 0 && task.jobctl.load(Ordering::Acquire) == 0 {
        task.sigpending.store(false, Ordering::SeqCst);
        core::sync::atomic::fence(Ordering::SeqCst);
        let again = pending_of(task);
        if again != 0 || task.jobctl.load(Ordering::Acquire) != 0 {
            task.sigpending.store(true, Ordering::SeqCst);
            return wanted(again);
        }
    }
    false
}

/// Mark `task` as maybe having a signal to act on (Linux's `set_tsk_thread_flag(t,
/// TIF_SIGPENDING)`). Call after setting the pending bit or jobctl.
pub fn set_sigpending(task: &TaskStruct) {
    core::sync::atomic::fence(Ordering::SeqCst);
    task.sigpending.store(true, Ordering::SeqCst);
}

/// True if SIGKILL is pending (Linux's `fatal_signal_pending`).
pub fn fatal_signal_pending(task: &TaskStruct) -> bool {
    task.pending.load(Ordering::Acquire) & bit(sig::SIGKILL) != 0
}

/// Set the blocked mask, never blocking SIGKILL or SIGSTOP (Linux's `set_current_blocked`).
pub fn set_current_blocked(mask: u64) {
    current()
        .blocked
        .store(mask & !UNBLOCKABLE, Ordering::Release);
}

fn read_sigset(ptr: u64, sigsetsize: usize) -> Result<u64, Errno> {
    if sigsetsize != 8 {
        return Err(Errno::EINVAL);
    }
    let mut b = [0u8; 8];
    copy_from_user(&mut b, ptr)?;
    Ok(u64::from_le_bytes(b))
}

/// `rt_sigaction(2)`.
pub fn sys_rt_sigaction(signo: i32, act: u64, oact: u64, sigsetsize: usize) -> Result<u64, Errno> {
    valid(signo)?;
    if sigsetsize != 8 {
        return Err(Errno::EINVAL);
    }
    let task = current();
    let mut new = None;
    if act != 0 {
        if bit(signo) & UNBLOCKABLE != 0 {
            return Err(Errno::EINVAL);
        }
        let mut b = [0u8; 32];
        copy_from_user(&mut b, act)?;
        let word = |i: usize| u64::from_le_bytes(b[i * 8..i * 8 + 8].try_into().unwrap_or([0; 8]));
        new = Some(SigAction {
            handler: word(0),
            flags: word(1),
            restorer: word(2),
            mask: word(3) & !UNBLOCKABLE,
        });
    }
    let old = task.with_actions(|actions| {
        let old = actions[signo as usize - 1];
        if let Some(new) = new {
            actions[signo as usize - 1] = new;
        }
        old
    });
    if let Some(new) = new {
        // Setting SIG_IGN (or SIG_DFL for a default-ignored signal) discards it if pending,
        // in every thread (POSIX, Linux's `do_sigaction`).
        if new.handler == SIG_IGN || (new.handler == SIG_DFL && bit(signo) & IGNORE_MASK != 0) {
            flush_pending_mask(task, bit(signo));
        }
    }
    if oact != 0 {
        let mut b = [0u8; 32];
        for (i, w) in [old.handler, old.flags, old.restorer, old.mask]
            .iter()
            .enumerate()
        {
            b[i * 8..i * 8 + 8].copy_from_slice(&w.to_le_bytes());
        }
        copy_to_user(oact, &b)?;
    }
    Ok(0)
}

/// `rt_sigprocmask(2)`.
pub fn sys_rt_sigprocmask(how: i32, set: u64, oset: u64, sigsetsize: usize) -> Result<u64, Errno> {
    if sigsetsize != 8 {
        return Err(Errno::EINVAL);
    }
    let task = current();
    let old = task.blocked.load(Ordering::Relaxed);
    if set != 0 {
        let mask = read_sigset(set, sigsetsize)?;
        let new = match how {
            0 => old | mask,  // SIG_BLOCK
            1 => old & !mask, // SIG_UNBLOCK
            2 => mask,        // SIG_SETMASK
            _ => return Err(Errno::EINVAL),
        };
        set_current_blocked(new);
    }
    if oset != 0 {
        copy_to_user(oset, &old.to_le_bytes())?;
    }
    Ok(0)
}

/// `rt_sigpending(2)`: the signals pending while blocked.
pub fn sys_rt_sigpending(set: u64, sigsetsize: usize) -> Result<u64, Errno> {
    if sigsetsize != 8 {
        return Err(Errno::EINVAL);
    }
    let task = current();
    // The thread's own and its process's (Linux's `do_sigpending`).
    let pending = pending_of(task) & task.blocked.load(Ordering::Relaxed);
    copy_to_user(set, &pending.to_le_bytes())?;
    Ok(0)
}

/// `sigaltstack(2)`.
pub fn sys_sigaltstack(ss: u64, old_ss: u64, user_sp: u64) -> Result<u64, Errno> {
    let task = current();
    let old = task.sigstate.lock().altstack;
    if ss != 0 {
        let mut b = [0u8; 24];
        copy_from_user(&mut b, ss)?;
        let sp = u64::from_le_bytes(b[0..8].try_into().unwrap_or([0; 8]));
        let flags = i32::from_le_bytes(b[8..12].try_into().unwrap_or([0; 4]));
        let size = u64::from_le_bytes(b[16..24].try_into().unwrap_or([0; 8]));
        if old.on_stack(user_sp) {
            return Err(Errno::EPERM);
        }
        let mode = flags & !SS_AUTODISARM;
        let new = match mode {
            SS_DISABLE => AltStack::default(),
            0 | SS_ONSTACK => {
                if size < MINSIGSTKSZ {
                    return Err(Errno::ENOMEM);
                }
                AltStack {
                    sp,
                    size,
                    flags: flags & SS_AUTODISARM,
                }
            }
            _ => return Err(Errno::EINVAL),
        };
        task.sigstate.lock().altstack = new;
    }
    if old_ss != 0 {
        let mut b = [0u8; 24];
        b[0..8].copy_from_slice(&old.sp.to_le_bytes());
        b[8..12].copy_from_slice(&old.flags_for(user_sp).to_le_bytes());
        b[16..24].copy_from_slice(&old.size.to_le_bytes());
        copy_to_user(old_ss, &b)?;
    }
    Ok(0)
}
/// Take `signo` off the pending sets, the thread's first, returning its siginfo (Linux's
/// `dequeue_signal`). None if it is no longer pending: another thread of the process took
/// a process-wide signal between our look at the pending sets and this call.
fn dequeue(task: &TaskStruct, signo: i32) -> Option<KernelSigInfo> {
    let mut info = dequeue_raw(task, signo)?;
    if info.code == si::SI_TIMER {
        crate::kernel::time::posix_timers::posixtimer_dequeued(task, &mut info);
    }
    Some(info)
}

/// Take the lowest signal of `mask` pending for `task` (its own first, then its process's),
/// as `signalfd` reads them (Linux's `dequeue_signal`).
pub fn dequeue_signal(task: &TaskStruct, mask: u64) -> Option<KernelSigInfo> {
    let own = task.pending.load(Ordering::Acquire) & mask;
    let ready = if own != 0 {
        own
    } else {
        task.signal().shared_pending.load(Ordering::Acquire) & mask
    };
    if ready == 0 {
        return None;
    }
    dequeue(task, ready.trailing_zeros() as i32 + 1)
}

/// Take one instance of `signo` off the pending sets, the thread's first (Linux's
/// `__dequeue_signal` → `collect_signal`): the oldest queued entry; the bit stays set while
/// another entry of `signo` is queued. A bit set with no entry (its information was lost)
/// gives SI_USER information with no sender, as on Linux. None if neither set has the bit.
/// The bit is tested and cleared under the owner's lock, so of threads racing for one
/// process-wide instance exactly one gets it.
fn dequeue_raw(task: &TaskStruct, signo: i32) -> Option<KernelSigInfo> {
    let collect = |pending: &core::sync::atomic::AtomicU64, queue: &mut SigQueue| {
        if pending.load(Ordering::Acquire) & bit(signo) == 0 {
            return None;
        }
        let (info, still) = queue.take(signo);
        if !still {
            pending.fetch_and(!bit(signo), Ordering::AcqRel);
        }
        Some(info.unwrap_or(KernelSigInfo {
            signo,
            code: si::SI_USER,
            ..KernelSigInfo::EMPTY
        }))
    };
    let own = collect(&task.pending, &mut task.sigstate.lock().queue);
    own.or_else(|| {
        let group = task.signal();
        let mut inner = group.inner.lock();
        collect(&group.shared_pending, &mut inner.shared_queue)
    })
}

/// Discard the pending signals of `mask` of `task`'s process and every thread of it, their
/// queued information too (Linux's `flush_sigqueue_mask` on `shared_pending` and each
/// thread's `pending`).
pub(crate) fn flush_pending_mask(task: &TaskStruct, mask: u64) {
    let group = task.signal();
    {
        let mut inner = group.inner.lock();
        group.shared_pending.fetch_and(!mask, Ordering::AcqRel);
        inner.shared_queue.flush_mask(mask);
    }
    group.for_each_thread(|t| {
        let mut st = t.sigstate.lock();
        t.pending.fetch_and(!mask, Ordering::AcqRel);
        st.queue.flush_mask(mask);
    });
}

/// `task` is being released: its thread-directed signals' information goes, and with the
/// last thread of the process (`group_dead`) the process's (Linux's `flush_sigqueue` in
/// `__exit_signal`), so the queued count of their user (`SigQ`) drops now, not when the
/// structures are freed (a pidfd keeps the process's).
pub(crate) fn flush_sigqueue(task: &TaskStruct, group_dead: bool) {
    // An entry is queued only while its bit is set (every clearing flushes), so nothing
    // pending means nothing to free and no lock to take.
    if task.pending.load(Ordering::Acquire) != 0 {
        let mut st = task.sigstate.lock();
        task.pending.store(0, Ordering::Release);
        st.queue.flush_mask(!0);
    }
    if group_dead && task.signal().shared_pending.load(Ordering::Acquire) != 0 {
        let group = task.signal();
        let mut inner = group.inner.lock();
        group.shared_pending.store(0, Ordering::Release);
        inner.shared_queue.flush_mask(!0);
    }
}

/// Whether the current task may send `signo` to `task` from user space (Linux's
/// `check_kill_permission` and `kill_ok_by_cred`): within its own process, or when the
/// sender's real or effective user ID is the target's real or saved one, or with
/// CAP_KILL; SIGCONT also within the same session. EPERM otherwise, for signal 0 too.
pub fn check_kill_permission(task: &TaskStruct, signo: i32) -> Result<(), Errno> {
    let me = current();
    if task.tgid.load(Ordering::Relaxed) == me.tgid.load(Ordering::Relaxed) {
        return Ok(());
    }
    let cred = crate::kernel::cred::current_cred();
    let tcred = crate::kernel::cred::task_cred(task);
    if cred.euid == tcred.suid
        || cred.euid == tcred.uid
        || cred.uid == tcred.suid
        || cred.uid == tcred.uid
        || cred.has_cap(crate::kernel::capability::CAP_KILL)
    {
        return Ok(());
    }
    if signo == sig::SIGCONT
        && crate::kernel::session::session_of(task) == crate::kernel::session::session_of(me)
    {
        return Ok(());
    }
    Err(Errno::EPERM)
}

/// A signal to deliver to a user handler (Linux's `struct ksignal`).
#[derive(Clone, Copy, Debug)]
pub struct KSignal {
    /// The signal number.
    pub signo: i32,
    /// What the sender said.
    pub info: KernelSigInfo,
    /// The action as it was when the signal was taken (before SA_RESETHAND reset it).
    pub action: SigAction,
}

/// The next pending, unblocked signal that has a handler to run, carrying out the default
/// actions of the ones before it (Linux's `get_signal`). Does not return if a signal
/// terminates the task.
pub fn get_signal() -> Option<KSignal> {
    let task = current();
    loop {
        // A group stop another thread started: join it (Linux's JOBCTL_STOP_PENDING).
        if task.jobctl.swap(0, Ordering::AcqRel) & JOBCTL_STOP_PENDING != 0 {
            notify::do_signal_stop_join(task);
        }
        let pending = pending_of(task) & !task.blocked.load(Ordering::Relaxed);
        if pending == 0 {
            return None;
        }
        // SIGKILL first; then a fault's signal; then the lowest number, as Linux's
        // `next_signal` takes standard signals.
        let signo = if pending & bit(sig::SIGKILL) != 0 {
            sig::SIGKILL
        } else if pending & SYNCHRONOUS_MASK != 0 {
            (pending & SYNCHRONOUS_MASK).trailing_zeros() as i32 + 1
        } else {
            pending.trailing_zeros() as i32 + 1
        };
        let Some(info) = dequeue(task, signo) else {
            continue; // another thread took this process-wide signal first
        };
        let action = task.with_actions(|actions| {
            let action = actions[signo as usize - 1];
            if action.handler > SIG_IGN && action.flags & sa::SA_RESETHAND != 0 {
                actions[signo as usize - 1] = SigAction::DEFAULT;
            }
            action
        });
        if signo != sig::SIGKILL && signo != sig::SIGSTOP {
            if action.handler == SIG_IGN {
                continue;
            }
            if action.handler != SIG_DFL {
                return Some(KSignal {
                    signo,
                    info,
                    action,
                });
            }
        }
        // The default action.
        if bit(signo) & IGNORE_MASK != 0 {
            continue;
        }
        if task.tgid.load(Ordering::Relaxed) == 1 && !task.signal().group_exiting() {
            continue; // init only gets the signals it has handlers for
        }
        if bit(signo) & STOP_MASK != 0 {
            // The terminal's stop signals do nothing to an orphaned group: nobody would
            // continue it (Linux's `is_current_pgrp_orphaned` test in `get_signal`).
            if signo != sig::SIGSTOP && crate::kernel::session::is_current_pgrp_orphaned() {
                continue;
            }
            notify::do_signal_stop(task, signo);
            continue;
        }
        crate::kernel::exit::do_group_exit(signo);
    }
}

/// Signals a fault raises synchronously, taken before any other pending signal (Linux's
/// `SYNCHRONOUS_MASK`).
const SYNCHRONOUS_MASK: u64 = bit(sig::SIGSEGV)
    | bit(sig::SIGBUS)
    | bit(sig::SIGILL)
    | bit(sig::SIGTRAP)
    | bit(sig::SIGFPE)
    | bit(sig::SIGSYS);

/// True if the current thread would die of `signo` rather than run a handler: it blocks or
/// ignores it, or its action is the default (Linux's `unhandled_signal`, which decides
/// whether a fault is logged).
pub fn unhandled_signal(signo: i32) -> bool {
    let task = current();
    let handler = action_of(task, signo).handler;
    handler == SIG_DFL
        || handler == SIG_IGN
        || task.blocked.load(Ordering::Relaxed) & bit(signo) != 0
}

/// The current thread faulted (Linux's `force_sig_fault` → `force_sig_info_to_task`):
/// queue `signo` with `code` and the faulting `addr` for it, to be taken on the way back to
/// user space. A fault signal cannot be blocked or ignored: if it is, its action goes back
/// to the default and it is unblocked. With the default action the process ends now.
pub fn force_sig_fault(signo: i32, code: i32, addr: u64) {
    let task = current();
    let blocked = task.blocked.load(Ordering::Relaxed) & bit(signo) != 0;
    let default = task.with_actions(|actions| {
        let action = &mut actions[signo as usize - 1];
        if blocked || action.handler == SIG_IGN {
            *action = SigAction::DEFAULT;
        }
        action.handler == SIG_DFL
    });
    if default {
        crate::kernel::exit::do_group_exit(signo);
    }
    if blocked {
        task.blocked.fetch_and(!bit(signo), Ordering::Release);
    }
    send::send_signal_info_thread(
        task,
        KernelSigInfo {
            signo,
            code,
            addr,
            ..KernelSigInfo::EMPTY
        },
    );
}

/// A signal frame could not be written: the process ends with SIGSEGV, whatever its
/// handler (Linux's `force_sigsegv`).
pub fn force_sigsegv() -> ! {
    crate::kernel::exit::do_group_exit(sig::SIGSEGV)
}

/// On `clone`: the child gets the parent's blocked mask and none of its pending signals;
/// the actions are shared under CLONE_SIGHAND, else copied (Linux's `copy_sighand` and
/// `copy_process`'s `blocked` copy). The alternate stack is inherited unless the child gets
/// a stack of its own (CLONE_VM without CLONE_VFORK), as Linux's `copy_process` clears it.
pub fn copy_sighand(parent: &TaskStruct, child: &TaskStruct, share: bool, new_stack: bool) {
    let sighand = if share {
        parent.sighand.lock().clone()
    } else {
        Some(alloc::sync::Arc::new(SighandStruct::with_table(
            parent.copy_actions(),
        )))
    };
    *child.sighand.lock() = sighand;
    let (altstack, sigtramp) = {
        let st = parent.sigstate.lock();
        (st.altstack, st.sigtramp)
    };
    {
        let mut st = child.sigstate.lock();
        if !new_stack {
            st.altstack = altstack;
        }
        st.sigtramp = sigtramp; // the child's address space is a copy, or the same
    }
    child
        .blocked
        .store(parent.blocked.load(Ordering::Relaxed), Ordering::Relaxed);
    child.pending.store(0, Ordering::Relaxed);
    // A new thread may find its process's signals pending: let its first return look.
    child.sigpending.store(true, Ordering::Relaxed);
}

/// On `execve`: handlers go back to default, ignored signals stay ignored; the alternate
/// stack is forgotten (Linux's `flush_signal_handlers` and `exec`'s `sas_ss_reset`). Actions
/// shared with another process are unshared first (Linux's `unshare_sighand`).
pub fn flush_signal_handlers(task: &TaskStruct) {
    let shared = task
        .sighand
        .lock()
        .as_ref()
        .is_some_and(|s| alloc::sync::Arc::strong_count(s) > 1);
    if shared {
        let copy = SighandStruct::with_table(task.copy_actions());
        *task.sighand.lock() = Some(alloc::sync::Arc::new(copy));
    }
    task.with_actions(|actions| {
        for action in actions.iter_mut() {
            if action.handler != SIG_IGN {
                *action = SigAction::default();
            }
        }
    });
    if let Some(sighand) = task.sighand.lock().as_deref() {
        sighand.action.lock().compact();
    }
    let mut state = task.sigstate.lock();
    state.altstack = AltStack::default();
    state.saved_sigmask = None;
    state.restart_nanosleep = None;
    state.sigtramp = 0; // the old address space is gone
}
