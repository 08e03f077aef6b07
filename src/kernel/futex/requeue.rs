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

use super::core::{bucket, get_futex_key, get_futex_value, hash_bucket, mark_woken, Waiter};
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
    let mut g_lo = bucket(lo).waiters.lock();
    let mut g_hi = (hi != lo).then(|| bucket(hi).waiters.lock());
    if let Some(expected) = cmpval {
        if get_futex_value(uaddr1)? != expected {
            return Err(Errno::EAGAIN);
        }
    }
    // Unlike FUTEX_WAKE, a requeue with nr_wake 0 wakes nobody.
    let woken = {
        let src: &mut Vec<Waiter> = match g_hi.as_mut() {
            Some(h) if i1 == hi => h,
            _ => &mut g_lo,
        };
        if nr_wake > 0 {
            mark_woken(src, &key1, nr_wake, u32::MAX)
        } else {
            0
        }
    };
    let mut requeued = 0;
    match g_hi.as_mut() {
        // One bucket: the waiters change key where they are, in order.
        None => {
            for w in g_lo.iter_mut().filter(|w| w.key == key1) {
                if requeued >= nr_requeue {
                    break;
                }
                w.key = key2;
                requeued += 1;
            }
        }
        // Two: room first (ENOMEM, with nothing moved, if there is none), then one pass.
        Some(h) => {
            let (src, dst): (&mut Vec<Waiter>, &mut Vec<Waiter>) = if i1 == lo {
                (&mut g_lo, h)
            } else {
                (h, &mut g_lo)
            };
            let count = src
                .iter()
                .filter(|w| w.key == key1)
                .count()
                .min(nr_requeue as usize);
            dst.try_reserve(count).map_err(|_| Errno::ENOMEM)?;
            src.retain(|w| {
                if requeued as usize >= count || w.key != key1 {
                    return true;
                }
                w.q.bucket.store(i2, Ordering::Release);
                dst.push(Waiter {
                    key: key2,
                    bitset: w.bitset,
                    q: w.q.clone(),
                });
                requeued += 1;
                false
            });
        }
    }
    Ok((woken + requeued) as u64)
}
