//! FUTEX_WAIT, FUTEX_WAKE and FUTEX_WAKE_OP (Linux: `kernel/futex/waitwake.c`).
//!
//! See `core.rs` for why checking the word under the bucket lock makes wake-ups reliable.
//! A waiter sleeps interruptibly until a waker takes it off its queue, its timeout passes
//! (ETIMEDOUT), or a signal comes (ERESTARTSYS without a timeout, so SA_RESTART restarts
//! it; with a timeout, EINTR once a handler runs). If a wake-up and a timeout or signal
//! race, the wake-up wins, as on Linux.

use alloc::sync::Arc;
use alloc::vec::Vec;
use core::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

use super::core::{
    get_futex_key, get_futex_value, hash_bucket, mark_woken, unqueue, wake_up_q, FutexQ, Waiter,
};
use crate::kernel::errno::Errno;
use crate::kernel::sched::core::{schedule, set_current_state, wake_up_process};
use crate::kernel::signal::{signal_pending, ERESTARTNOHAND, ERESTARTSYS};
use crate::kernel::task::{current, state, TaskRef};
use crate::kernel::time::timer::{add_timer, del_timer};
use crate::kernel::time::{jiffies, ktime_get_ns, HZ};

/// The timer callback of a timed wait: wake the sleeper (its reference is ours to drop).
fn futex_timeout(data: usize) {
    // SAFETY: `futex_wait` turned a TaskRef into this pointer for the timer; the timer
    // ran, so the reference is ours to take back.
    let task = unsafe { TaskRef::from_raw(data as *const _) };
    wake_up_process(&task);
}

/// Sleep on the futex at `uaddr` while it holds `val` (Linux's `futex_wait`). `deadline`
/// is an absolute time on the kernel's clock (every clock reads the same counter).
pub fn futex_wait(
    uaddr: u64,
    private: bool,
    val: u32,
    deadline: Option<u64>,
    bitset: u32,
) -> Result<u64, Errno> {
    if bitset == 0 {
        return Err(Errno::EINVAL);
    }
    let key = get_futex_key(uaddr, private)?;
    // Fault the word in before taking the bucket lock (Linux retries after a fault).
    get_futex_value(uaddr)?;
    let task = current();
    let q = Arc::new(FutexQ {
        task: task.get_ref(),
        woken: AtomicBool::new(false),
        bucket: AtomicUsize::new(0),
    });
    let (index, bucket) = hash_bucket(&key);
    {
        let mut waiters = bucket.waiters.lock();
        let uval = get_futex_value(uaddr)?;
        if uval != val {
            return Err(Errno::EAGAIN);
        }
        if waiters.try_reserve(1).is_err() {
            return Err(Errno::ENOMEM);
        }
        q.bucket.store(index, Ordering::Release);
        waiters.push(Waiter {
            key,
            bitset,
            q: q.clone(),
        });
        set_current_state(state::TASK_INTERRUPTIBLE);
    }
    let tick = 1_000_000_000 / HZ;
    let timer = deadline.map(|deadline| {
        let now = ktime_get_ns();
        let expires = jiffies() + deadline.saturating_sub(now).div_ceil(tick);
        let me = task.get_ref().into_raw();
        (add_timer(expires, futex_timeout, me as usize), me)
    });
    let outcome = loop {
        if q.woken.load(Ordering::Acquire) {
            break Ok(0);
        }
        if deadline.is_some_and(|d| ktime_get_ns() >= d) {
            break Err(Errno::ETIMEDOUT);
        }
        if signal_pending(task) {
            break Err(if deadline.is_some() {
                ERESTARTNOHAND
            } else {
                ERESTARTSYS
            });
        }
        schedule();
        set_current_state(state::TASK_INTERRUPTIBLE);
    };
    set_current_state(state::TASK_RUNNING);
    if let Some((id, me)) = timer {
        if del_timer(id) {
            // SAFETY: the pointer came from `into_raw` above and the timer never ran.
            drop(unsafe { TaskRef::from_raw(me) });
        }
    }
    // Still queued: the timeout or signal stands. Gone: a waker took us, which wins.
    if unqueue(&q) {
        outcome
    } else {
        Ok(0)
    }
}

/// Wake up to `nr_wake` waiters on the futex at `uaddr` whose bitset meets `bitset`
/// (Linux's `futex_wake`). Returns how many were woken.
pub fn futex_wake(uaddr: u64, private: bool, nr_wake: i32, bitset: u32) -> Result<u64, Errno> {
    if bitset == 0 {
        return Err(Errno::EINVAL);
    }
    let key = get_futex_key(uaddr, private)?;
    let (_, bucket) = hash_bucket(&key);
    let mut wake = Vec::new();
    let woken = {
        let mut waiters = bucket.waiters.lock();
        if waiters.is_empty() {
            return Ok(0);
        }
        mark_woken(&mut waiters, &key, nr_wake, bitset, &mut wake)
    };
    wake_up_q(wake);
    Ok(woken as u64)
}

/// Decode and apply FUTEX_WAKE_OP's `val3` to the word at `uaddr2`: returns whether its
/// old value passes the comparison (Linux's `futex_atomic_op_inuser`).
fn futex_atomic_op_inuser(encoded_op: u32, uaddr2: u64) -> Result<bool, Errno> {
    let op = (encoded_op >> 28) & 7;
    let cmp = (encoded_op >> 24) & 15;
    // 12-bit signed fields.
    let mut oparg = (((encoded_op << 8) as i32) >> 20) as u32;
    let cmparg = (((encoded_op << 20) as i32) >> 20) as u32;
    if encoded_op & (8 << 28) != 0 {
        // FUTEX_OP_OPARG_SHIFT: the argument is a shift count (Linux masks a bad one).
        oparg = 1u32 << (oparg & 31);
    }
    let oldval = crate::arch::uaccess::futex_atomic_op_user(op, oparg, uaddr2)?;
    let (old, arg) = (oldval as i32, cmparg as i32);
    // Like Linux, a bad comparison is found only after the operation was done.
    match cmp {
        0 => Ok(old == arg),
        1 => Ok(old != arg),
        2 => Ok(old < arg),
        3 => Ok(old <= arg),
        4 => Ok(old > arg),
        5 => Ok(old >= arg),
        _ => Err(Errno::ENOSYS),
    }
}

/// FUTEX_WAKE_OP: change the word at `uaddr2` atomically, wake up to `nr_wake` waiters on
/// `uaddr`, and if the old value of `uaddr2` passed the test, up to `nr_wake2` on it
/// (Linux's `futex_wake_op`). Returns how many were woken.
pub fn futex_wake_op(
    uaddr: u64,
    private: bool,
    uaddr2: u64,
    nr_wake: i32,
    nr_wake2: i32,
    encoded_op: u32,
) -> Result<u64, Errno> {
    let key1 = get_futex_key(uaddr, private)?;
    let key2 = get_futex_key(uaddr2, private)?;
    if (encoded_op >> 28) & 7 > 4 {
        return Err(Errno::ENOSYS);
    }
    // The word changes before the buckets are looked at, as a user-space store before
    // FUTEX_WAKE would: a waiter that read the old value is queued by then.
    let wake2 = futex_atomic_op_inuser(encoded_op, uaddr2)?;
    let mut wake = Vec::new();
    let mut woken = {
        let (_, bucket) = hash_bucket(&key1);
        let mut waiters = bucket.waiters.lock();
        mark_woken(&mut waiters, &key1, nr_wake, u32::MAX, &mut wake)
    };
    if wake2 {
        let (_, bucket) = hash_bucket(&key2);
        let mut waiters = bucket.waiters.lock();
        woken += mark_woken(&mut waiters, &key2, nr_wake2, u32::MAX, &mut wake);
    }
    wake_up_q(wake);
    Ok(woken as u64)
}
