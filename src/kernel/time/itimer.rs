//! The interval timers: `setitimer` and `getitimer` (Linux: `kernel/time/itimer.c`).
//! libc's `alarm` is built on ITIMER_REAL; busybox `login` uses it for its 60-second
//! time-out. ITIMER_VIRTUAL (SIGVTALRM, user CPU time) and ITIMER_PROF (SIGPROF, user and
//! system CPU time) are the process's CPU timers: they are kept in its `SignalCputime` as
//! an absolute expiry on its sampled clock, and the tick checks them
//! (`sched::cputime::run_posix_cpu_timers`).
//!
//! ITIMER_REAL:
//! Each process has one: when it expires the process gets SIGALRM, and with an interval it
//! starts again. The timer runs in the tick (interrupt context), which cannot look tasks
//! up or send signals, so it queues the PID for a worker that does; the worker re-checks
//! the process's timer, so a timer cancelled or re-set meanwhile, or a PID reused after an
//! exit (`exit_itimers` cancels), sends nothing. Resolution is the tick (4 ms at HZ=250);
//! times are rounded up to it, as Linux rounds to its timer resolution.

use alloc::vec::Vec;

use super::timer::{add_timer, del_timer, TimerId};
use super::{jiffies, HZ};
use crate::arch::uaccess::{copy_from_user, copy_to_user};
use crate::kernel::errno::Errno;
use crate::kernel::locking::SpinLock;
use crate::kernel::task::{current, TaskStruct};
use crate::kernel::workqueue::{schedule_work, WorkStruct};

/// `which` for the real-time timer (SIGALRM).
const ITIMER_REAL: i32 = 0;
/// `which` for the user-CPU-time timer (SIGVTALRM).
const ITIMER_VIRTUAL: i32 = 1;
/// `which` for the CPU-time timer (SIGPROF).
const ITIMER_PROF: i32 = 2;

/// One process's ITIMER_REAL (Linux's `signal->real_timer` and `it_real_incr`).
#[derive(Default)]
pub struct ItimerReal {
    /// The pending kernel timer, if armed.
    timer: Option<TimerId>,
    /// When it expires, in jiffies.
    expires: u64,
    /// The reload interval in jiffies (0: one-shot).
    interval: u64,
}

impl ItimerReal {
    /// A disarmed timer.
    pub const fn new() -> Self {
        Self {
            timer: None,
            expires: 0,
            interval: 0,
        }
    }
}

/// PIDs whose timer fired, for the worker.
static FIRED: SpinLock<Vec<i32>> = SpinLock::new(Vec::new());
static FIRED_WORK: WorkStruct = WorkStruct::new(itimer_work);

/// The kernel timer's callback (interrupt context): hand the PID to the worker.
fn itimer_fire(pid: usize) {
    FIRED.lock().push(pid as i32);
    schedule_work(&FIRED_WORK);
}

/// Send SIGALRM to each process whose timer is still due, and re-arm interval timers.
fn itimer_work(_: &'static WorkStruct) {
    let pids = core::mem::take(&mut *FIRED.lock());
    let now = jiffies();
    for pid in pids {
        let Some(task) = crate::kernel::pid::find_task_by_pid(pid) else {
            continue;
        };
        let due = {
            let mut it = task.itimer_real.lock();
            if it.timer.is_none() || it.expires > now {
                false
            } else {
                if it.interval > 0 {
                    it.expires = now + it.interval;
                    it.timer = Some(add_timer(it.expires, itimer_fire, pid as usize));
                } else {
                    it.timer = None;
                }
                true
            }
        };
        if due {
            crate::kernel::signal::send_signal_kernel(&task, crate::kernel::signal::sig::SIGALRM);
        }
    }
}

/// A `struct timeval` (seconds, microseconds) from user memory, in jiffies rounded up.
fn timeval_to_jiffies(tv: &[u8]) -> Result<u64, Errno> {
    let sec = i64::from_le_bytes(tv[..8].try_into().map_err(|_| Errno::EFAULT)?);
    let usec = i64::from_le_bytes(tv[8..16].try_into().map_err(|_| Errno::EFAULT)?);
    if sec < 0 || !(0..1_000_000).contains(&usec) {
        return Err(Errno::EINVAL);
    }
    let us = (sec as u64)
        .saturating_mul(1_000_000)
        .saturating_add(usec as u64);
    Ok(us.div_ceil(1_000_000 / HZ))
}

/// Jiffies as a `struct timeval`.
fn jiffies_to_timeval(j: u64, out: &mut [u8]) {
    let us = j * (1_000_000 / HZ);
    out[..8].copy_from_slice(&(us / 1_000_000).to_le_bytes());
    out[8..16].copy_from_slice(&(us % 1_000_000).to_le_bytes());
}

/// The timer's current value as `struct itimerval` (interval, then time left).
fn current_value(it: &ItimerReal) -> [u8; 32] {
    let mut v = [0u8; 32];
    jiffies_to_timeval(it.interval, &mut v[..16]);
    if it.timer.is_some() {
        // Never 0 while armed: 0 would read as "disarmed".
        let left = it.expires.saturating_sub(jiffies()).max(1);
        jiffies_to_timeval(left, &mut v[16..]);
    }
    v
}

/// A `struct timeval` from user memory, in nanoseconds; EINVAL unless Linux's
/// `timeval_valid` (seconds >= 0, 0 <= microseconds < 1000000).
fn timeval_to_ns(tv: &[u8]) -> Result<u64, Errno> {
    let sec = i64::from_le_bytes(tv[..8].try_into().map_err(|_| Errno::EFAULT)?);
    let usec = i64::from_le_bytes(tv[8..16].try_into().map_err(|_| Errno::EFAULT)?);
    if sec < 0 || !(0..1_000_000).contains(&usec) {
        return Err(Errno::EINVAL);
    }
    Ok((sec as u64)
        .saturating_mul(1_000_000_000)
        .saturating_add(usec as u64 * 1000))
}

/// Nanoseconds as a `struct timeval`, microseconds truncated (Linux's `put_itimerval`).
fn ns_to_timeval(ns: u64, out: &mut [u8]) {
    out[..8].copy_from_slice(&(ns / 1_000_000_000).to_le_bytes());
    out[8..16].copy_from_slice(&((ns % 1_000_000_000) / 1000).to_le_bytes());
}

/// The CPU clock a CPU timer counts (`CPUCLOCK_PROF` or `CPUCLOCK_VIRT`) of `which`.
fn cpu_clock_of(which: i32) -> Option<usize> {
    use crate::kernel::sched::cputime::{CPUCLOCK_PROF, CPUCLOCK_VIRT};
    match which {
        ITIMER_VIRTUAL => Some(CPUCLOCK_VIRT),
        ITIMER_PROF => Some(CPUCLOCK_PROF),
        _ => None,
    }
}

/// The process's sampled CPU time on `clock` (Linux's `thread_group_sample_cputime`).
fn cpu_sample(task: &TaskStruct, clock: usize) -> u64 {
    let group = &task.signal().cputime;
    let utime = group
        .group_utime
        .load(core::sync::atomic::Ordering::Relaxed);
    if clock == crate::kernel::sched::cputime::CPUCLOCK_VIRT {
        utime
    } else {
        utime
            + group
                .group_stime
                .load(core::sync::atomic::Ordering::Relaxed)
    }
}

/// A CPU timer's value as `struct itimerval`: time left (a tick if about to fire) and
/// interval (Linux's `get_cpu_itimer`).
fn get_cpu_itimer(task: &TaskStruct, clock: usize) -> [u8; 32] {
    let now = cpu_sample(task, clock);
    let it = task.signal().cputime.inner.lock().it[clock];
    let left = match it.expires {
        0 => 0,
        e if e < now => crate::kernel::sched::cputime::TICK_NSEC,
        e => e - now,
    };
    let mut v = [0u8; 32];
    ns_to_timeval(it.incr, &mut v[..16]);
    ns_to_timeval(left, &mut v[16..]);
    v
}

/// Arm or disarm a CPU timer, returning its old value (Linux's `set_cpu_itimer` and
/// `set_process_cpu_timer`): a value is made absolute on the process's clock, a tick
/// later than asked, as Linux does, since the tick samples the clock.
fn set_cpu_itimer(task: &TaskStruct, clock: usize, interval: u64, value: u64) -> [u8; 32] {
    use crate::kernel::sched::cputime::TICK_NSEC;
    let now = cpu_sample(task, clock);
    let group = &task.signal().cputime;
    let mut t = group.inner.lock();
    let (mut oval, ointerval) = (t.it[clock].expires, t.it[clock].incr);
    let mut nval = value;
    if oval != 0 || nval != 0 {
        if nval > 0 {
            nval = nval.saturating_add(TICK_NSEC).saturating_add(now);
        }
        if oval != 0 {
            oval = if oval <= now { TICK_NSEC } else { oval - now };
        }
    }
    t.it[clock].expires = nval;
    t.it[clock].incr = interval;
    group.update_timers_active(&t);
    drop(t);
    let mut v = [0u8; 32];
    ns_to_timeval(ointerval, &mut v[..16]);
    ns_to_timeval(oval, &mut v[16..]);
    v
}

/// `getitimer(2)`: EINVAL for an unknown timer, EFAULT for a bad pointer.
pub fn sys_getitimer(which: i32, value: u64) -> Result<u64, Errno> {
    let task = current();
    let v = match which {
        ITIMER_REAL => current_value(&task.itimer_real.lock()),
        _ => get_cpu_itimer(task, cpu_clock_of(which).ok_or(Errno::EINVAL)?),
    };
    copy_to_user(value, &v)?;
    Ok(0)
}

/// `setitimer(2)`: arm (or with a zero value, disarm) the timer; the old value goes to
/// `old` if it is not NULL. Linux's order: the new value is read and checked (EFAULT,
/// EINVAL) before the timer's kind; a NULL new value disarms (a misfeature Linux keeps).
pub fn sys_setitimer(which: i32, new: u64, old: u64) -> Result<u64, Errno> {
    let mut v = [0u8; 32];
    if new != 0 {
        copy_from_user(&mut v, new)?;
    }
    let task = current();
    let previous = if which == ITIMER_REAL {
        let interval = timeval_to_jiffies(&v[..16])?;
        let value = timeval_to_jiffies(&v[16..])?;
        let mut it = task.itimer_real.lock();
        let previous = current_value(&it);
        if let Some(id) = it.timer.take() {
            del_timer(id);
        }
        it.interval = interval;
        if value > 0 {
            it.expires = jiffies() + value;
            it.timer = Some(add_timer(it.expires, itimer_fire, task.pid() as usize));
        }
        previous
    } else {
        let interval = timeval_to_ns(&v[..16])?;
        let value = timeval_to_ns(&v[16..])?;
        let clock = cpu_clock_of(which).ok_or(Errno::EINVAL)?;
        set_cpu_itimer(task, clock, interval, value)
    };
    if old != 0 {
        copy_to_user(old, &previous)?;
    }
    Ok(0)
}

/// At exit: cancel the process's timer (Linux's `exit_itimers`).
pub fn exit_itimers(task: &TaskStruct) {
    if let Some(id) = task.itimer_real.lock().timer.take() {
        del_timer(id);
    }
}
