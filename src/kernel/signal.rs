//! Signals, as far as processes need them so far (Linux: `kernel/signal.c`,
//! `arch/arm64/kernel/signal.c`).
//!
//! A process can install actions (`rt_sigaction`), block signals (`rt_sigprocmask`) and
//! send them (`kill`, `tkill`, `tgkill`). Delivery happens on the way back to user space:
//! the default actions — terminate, ignore — are carried out; running a user's handler needs
//! the arm64 signal frame, which comes with the tty and job-control work, so until then a
//! signal with a handler installed is left pending (and logged once). Faults in user space
//! (`force_sig_fault`) always end the process, as Linux does when it cannot deliver.

use core::sync::atomic::{AtomicU64, Ordering};

use crate::arch::arm64::uaccess::{copy_from_user, copy_to_user};
use crate::kernel::errno::Errno;
use crate::kernel::task::{current, TaskStruct};

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
    /// Segmentation fault.
    pub const SIGSEGV: i32 = 11;
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
    /// Window size change.
    pub const SIGWINCH: i32 = 28;
}

/// Number of signals (Linux's `_NSIG`).
pub const NSIG: usize = 64;
/// `sa_handler` for the default action.
pub const SIG_DFL: u64 = 0;
/// `sa_handler` to ignore the signal.
pub const SIG_IGN: u64 = 1;

/// Linux's `struct sigaction` as arm64 passes it to `rt_sigaction` (32 bytes).
#[derive(Clone, Copy, Debug, Default)]
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

/// A task's signal state (Linux's `sighand_struct` + the per-task masks).
pub struct SignalState {
    /// Actions, indexed by signal number - 1.
    pub actions: [SigAction; NSIG],
}

impl SignalState {
    /// Every signal at its default action.
    pub const fn new() -> Self {
        Self {
            actions: [SigAction {
                handler: 0,
                flags: 0,
                restorer: 0,
                mask: 0,
            }; NSIG],
        }
    }
}

impl Default for SignalState {
    fn default() -> Self {
        Self::new()
    }
}

/// What a signal does by default (Linux's `sig_kernel_*` sets).
fn default_ignored(signo: i32) -> bool {
    matches!(
        signo,
        sig::SIGCHLD | sig::SIGURG | sig::SIGWINCH | sig::SIGCONT
    )
}

fn bit(signo: i32) -> u64 {
    1u64 << (signo - 1)
}

fn valid(signo: i32) -> Result<(), Errno> {
    if (1..=NSIG as i32).contains(&signo) {
        Ok(())
    } else {
        Err(Errno::EINVAL)
    }
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
        if signo == sig::SIGKILL || signo == sig::SIGSTOP {
            return Err(Errno::EINVAL);
        }
        let mut b = [0u8; 32];
        copy_from_user(&mut b, act)?;
        let word = |i: usize| u64::from_le_bytes(b[i * 8..i * 8 + 8].try_into().unwrap_or([0; 8]));
        new = Some(SigAction {
            handler: word(0),
            flags: word(1),
            restorer: word(2),
            mask: word(3),
        });
    }
    let old = {
        let mut state = task.signal.lock();
        let old = state.actions[signo as usize - 1];
        if let Some(new) = new {
            state.actions[signo as usize - 1] = new;
        }
        old
    };
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
        let mut b = [0u8; 8];
        copy_from_user(&mut b, set)?;
        let mask = u64::from_le_bytes(b) & !(bit(sig::SIGKILL) | bit(sig::SIGSTOP));
        let new = match how {
            0 => old | mask,
            1 => old & !mask,
            2 => mask,
            _ => return Err(Errno::EINVAL),
        };
        task.blocked.store(new, Ordering::Relaxed);
    }
    if oset != 0 {
        copy_to_user(oset, &old.to_le_bytes())?;
    }
    Ok(0)
}

/// Queue `signo` for `task` and wake it if it sleeps interruptibly (Linux's `send_signal`).
pub fn send_signal(task: &TaskStruct, signo: i32) {
    task.pending.fetch_or(bit(signo), Ordering::AcqRel);
    crate::kernel::sched::core::try_to_wake_up(
        task,
        crate::kernel::task::state::TASK_INTERRUPTIBLE,
    );
}

/// `kill(2)`: to one process, or (pid -1) every process but PID 1 and the caller.
pub fn sys_kill(pid: i32, signo: i32) -> Result<u64, Errno> {
    if signo != 0 {
        valid(signo)?;
    }
    if pid > 0 {
        let task = crate::kernel::pid::find_task_by_pid(pid).ok_or(Errno::ESRCH)?;
        if signo != 0 {
            send_signal(&task, signo);
        }
        return Ok(0);
    }
    if pid == -1 {
        let me = current().pid();
        crate::kernel::pid::for_each_task(|t| {
            if t.pid() > 1 && t.pid() != me && !t.is_kthread() && signo != 0 {
                send_signal(t, signo);
            }
        });
        return Ok(0);
    }
    // Process groups come with job control: until then a group is its leader.
    sys_kill(if pid == 0 { current().pid() } else { -pid }, signo)
}

/// `tkill(2)`.
pub fn sys_tkill(tid: i32, signo: i32) -> Result<u64, Errno> {
    sys_kill(tid, signo)
}

/// `tgkill(2)`.
pub fn sys_tgkill(_tgid: i32, tid: i32, signo: i32) -> Result<u64, Errno> {
    sys_kill(tid, signo)
}

static HANDLER_WARNED: AtomicU64 = AtomicU64::new(0);

/// Carry out pending signals on the way back to user space (Linux's `do_signal`).
pub fn do_signal() {
    let task = current();
    let pending = task.pending.load(Ordering::Acquire) & !task.blocked.load(Ordering::Relaxed);
    let kill_bits = bit(sig::SIGKILL);
    if pending == 0 {
        return;
    }
    for signo in 1..=NSIG as i32 {
        if pending & bit(signo) == 0 {
            continue;
        }
        let action = task.signal.lock().actions[signo as usize - 1];
        if action.handler == SIG_IGN && pending & kill_bits == 0 {
            task.pending.fetch_and(!bit(signo), Ordering::AcqRel);
            continue;
        }
        if action.handler == SIG_DFL || signo == sig::SIGKILL {
            task.pending.fetch_and(!bit(signo), Ordering::AcqRel);
            if default_ignored(signo) {
                continue;
            }
            crate::kernel::exit::do_exit(signo);
        }
        if HANDLER_WARNED.fetch_or(bit(signo), Ordering::Relaxed) & bit(signo) == 0 {
            log::warn!(
                "{}[{}]: signal {signo} has a handler; user handlers are not delivered yet",
                task.comm(),
                task.pid()
            );
        }
    }
}

/// A fault the process cannot survive (Linux's `force_sig_fault`): it ends, whatever
/// handler it installed.
pub fn force_sig_fault(signo: i32) -> ! {
    crate::kernel::exit::do_exit(signo)
}

/// On `execve`: handlers go back to default, ignored signals stay ignored (Linux's
/// `flush_signal_handlers`).
pub fn flush_signal_handlers(task: &TaskStruct) {
    let mut state = task.signal.lock();
    for action in state.actions.iter_mut() {
        if action.handler != SIG_IGN {
            *action = SigAction::default();
        }
    }
}
