//! Waiting for signals: `rt_sigsuspend`, `rt_sigtimedwait`, and resuming an interrupted
//! `nanosleep` through `restart_syscall` (Linux: `kernel/signal.c`, `sys_rt_sigsuspend`,
//! `do_sigtimedwait`; `kernel/time/hrtimer.c`, `hrtimer_nanosleep_restart`).

use core::sync::atomic::Ordering;

use super::{
    dequeue, read_sigset, set_current_blocked, signal_pending, ERESTARTNOHAND, UNBLOCKABLE,
};
use crate::arch::uaccess::copy_to_user;
use crate::kernel::errno::Errno;
use crate::kernel::sched::core::{schedule, set_current_state};
use crate::kernel::task::{current, state};

/// `rt_sigsuspend(2)`: wait for a signal with `mask` blocked meanwhile. Always "fails" with
/// EINTR once a handler has run; the caller's mask comes back when the handler returns.
pub fn sys_rt_sigsuspend(mask: u64, sigsetsize: usize) -> Result<u64, Errno> {
    let new = read_sigset(mask, sigsetsize)?;
    let task = current();
    let old = task.blocked.load(Ordering::Relaxed);
    task.sigstate.lock().saved_sigmask = Some(old);
    set_current_blocked(new);
    loop {
        set_current_state(state::TASK_INTERRUPTIBLE);
        if signal_pending(task) {
            break;
        }
        schedule();
    }
    set_current_state(state::TASK_RUNNING);
    Err(ERESTARTNOHAND)
}

/// `rt_sigtimedwait(2)`: take a signal of `set` off the pending set without running its
/// handler; sleep (up to `timeout`, if given) until one comes. EAGAIN on timeout, EINTR if
/// another signal interrupts the wait.
pub fn sys_rt_sigtimedwait(
    set: u64,
    info: u64,
    timeout: u64,
    sigsetsize: usize,
) -> Result<u64, Errno> {
    let wanted = read_sigset(set, sigsetsize)? & !UNBLOCKABLE;
    let deadline = crate::kernel::time::timeout_deadline(timeout)?;
    let task = current();
    // While waiting, the wanted signals count as unblocked, so they wake us (Linux's
    // `real_blocked`).
    let real_blocked = task.blocked.load(Ordering::Relaxed);
    task.real_blocked.store(real_blocked, Ordering::Relaxed);
    set_current_blocked(real_blocked & !wanted);
    let tick = 1_000_000_000 / crate::kernel::time::HZ;
    let result = loop {
        set_current_state(state::TASK_INTERRUPTIBLE);
        let ready = super::pending_of(task) & wanted;
        if ready != 0 {
            let signo = ready.trailing_zeros() as i32 + 1;
            match dequeue(task, signo) {
                Some(info) => break Ok(info),
                None => continue, // another thread took it: look again
            }
        }
        if signal_pending(task) {
            break Err(ERESTARTNOHAND);
        }
        match deadline {
            None => schedule(),
            Some(deadline) => {
                let now = crate::kernel::time::ktime_get_ns();
                if now >= deadline {
                    break Err(Errno::EAGAIN);
                }
                crate::kernel::time::timer::schedule_timeout((deadline - now).div_ceil(tick));
            }
        }
    };
    set_current_state(state::TASK_RUNNING);
    set_current_blocked(real_blocked);
    task.real_blocked.store(0, Ordering::Relaxed);
    let info_value = result?;
    if info != 0 {
        copy_to_user(info, &info_value.to_user_bytes())?;
    }
    Ok(info_value.signo as u64)
}

/// `restart_syscall(2)`: what `do_signal` runs to resume a call that returned
/// [`ERESTART_RESTARTBLOCK`] (only `nanosleep` so far); EINTR if there is none.
pub fn sys_restart_syscall() -> Result<u64, Errno> {
    // Take it out first: a `match` on the locked value would hold the spinlock (and so
    // preemption off) through the sleep.
    let restart = current().sigstate.lock().restart_nanosleep.take();
    match restart {
        Some((deadline, rem, None)) => crate::kernel::sys::nanosleep_until(deadline, rem),
        Some((deadline, rem, Some(clock))) => {
            crate::kernel::time::posix_cpu_timers::cpu_nanosleep_restart(clock, deadline, rem)
        }
        None => Err(Errno::EINTR),
    }
}

/// Remember how to resume an interrupted `nanosleep`, or `clock_nanosleep` on the CPU
/// clock `cpu_clock` (Linux's `restart_block`).
pub fn set_restart_nanosleep(deadline: u64, rem: u64, cpu_clock: Option<i32>) {
    current().sigstate.lock().restart_nanosleep = Some((deadline, rem, cpu_clock));
}
