//! FUTEX_REQUEUE and FUTEX_CMP_REQUEUE (Linux: `kernel/futex/requeue.c`, `futex_requeue`
//! without the PI parts).
//!
//! Wake up to `nr_wake` waiters of the first futex and move up to `nr_requeue` more to the
//! second, without waking them (a condition variable's broadcast hands its waiters to the
//! mutex this way). Both buckets are locked, lower index first, so the move is atomic for
//! everyone; CMP_REQUEUE first checks, under those locks, that the first word still holds
//! the expected value (EAGAIN if not).

use alloc::vec::Vec;
use core::sync::atomic::Ordering;

use super::core::{
    bucket, get_futex_key, get_futex_value, hash_bucket, mark_woken, wake_up_q, Waiter,
};
use crate::kernel::errno::Errno;

/// Wake and requeue (Linux's `futex_requeue`). `cmpval` is CMP_REQUEUE's expected value.
/// Returns the number woken plus the number requeued.
pub fn futex_requeue(
    uaddr1: u64,
    private: bool,
    uaddr2: u64,
    nr_wake: i32,
    nr_requeue: i32,
    cmpval: Option<u32>,
) -> Result<u64, Errno> {
    if nr_wake < 0 || nr_requeue < 0 {
        return Err(Errno::EINVAL);
    }
    let key1 = get_futex_key(uaddr1, private)?;
    let key2 = get_futex_key(uaddr2, private)?;
    if cmpval.is_some() {
        get_futex_value(uaddr1)?; // fault it in before the locks
    }
    let (i1, _) = hash_bucket(&key1);
    let (i2, _) = hash_bucket(&key2);
    let (lo, hi) = (i1.min(i2), i1.max(i2));
    let mut wake = Vec::new();
    let total;
    {
        let mut g_lo = bucket(lo).waiters.lock();
        let mut g_hi = (hi != lo).then(|| bucket(hi).waiters.lock());
        if let Some(expected) = cmpval {
            if get_futex_value(uaddr1)? != expected {
                return Err(Errno::EAGAIN);
            }
        }
        let mut moved: Vec<Waiter> = Vec::new();
        let woken;
        {
            let src: &mut Vec<Waiter> = match g_hi.as_mut() {
                Some(h) if i1 == hi => h,
                _ => &mut g_lo,
            };
            woken = mark_woken(src, &key1, nr_wake, u32::MAX, &mut wake);
            let mut i = 0;
            while i < src.len() && (moved.len() as i32) < nr_requeue {
                if src[i].key == key1 {
                    let mut w = src.remove(i);
                    w.key = key2;
                    moved.push(w);
                } else {
                    i += 1;
                }
            }
        }
        let requeued = moved.len() as i32;
        let dst: &mut Vec<Waiter> = match g_hi.as_mut() {
            Some(h) if i2 == hi => h,
            _ => &mut g_lo,
        };
        for w in moved {
            w.q.bucket.store(i2, Ordering::Release);
            dst.push(w);
        }
        total = woken + requeued;
    }
    wake_up_q(wake);
    Ok(total as u64)
}
