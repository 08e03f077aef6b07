//! The real-time interval timer: `setitimer(ITIMER_REAL)` and `getitimer` (Linux:
//! `kernel/time/itimer.c`). libc's `alarm` is built on it; busybox `login` uses it for its
//! 60-second time-out.
//!
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

fn check_which(which: i32) -> Result<(), Errno> {
    match which {
        ITIMER_REAL => Ok(()),
        // CPU-time timers need per-task CPU accounting at tick granularity; not yet.
        ITIMER_VIRTUAL | ITIMER_PROF => Err(Errno::ENOSYS),
        _ => Err(Errno::EINVAL),
    }
}

/// `getitimer(2)`.
pub fn sys_getitimer(which: i32, value: u64) -> Result<u64, Errno> {
    check_which(which)?;
    let v = current_value(&current().itimer_real.lock());
    copy_to_user(value, &v)?;
    Ok(0)
}

/// `setitimer(2)`: arm (or with a zero value, disarm) the timer; the old value goes to
/// `old` if it is not NULL.
pub fn sys_setitimer(which: i32, new: u64, old: u64) -> Result<u64, Errno> {
    check_which(which)?;
    let mut v = [0u8; 32];
    copy_from_user(&mut v, new)?;
    let interval = timeval_to_jiffies(&v[..16])?;
    let value = timeval_to_jiffies(&v[16..])?;
    let task = current();
    let previous = {
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
