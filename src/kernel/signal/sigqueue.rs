//! The queue of pending signals' information (Linux's `struct sigpending` list of `struct
//! sigqueue`, `__sigqueue_alloc`, `collect_signal`, `flush_sigqueue_mask`) and the count of
//! signals queued for each real user that RLIMIT_SIGPENDING limits (Linux's ucounts
//! `UCOUNT_RLIMIT_SIGPENDING`, one user namespace).
//!
//! A pending set is a bitmask (an atomic in the task or its `SignalStruct`) plus a
//! [`SigQueue`] under the owner's lock (the task's `sigstate`, the group's `inner`): every
//! instance of a signal sent with information is one entry, in the order sent. Standard
//! signals (1..=31) have at most one instance (a second one while pending is merged), real-time
//! ones (32..=64) one entry per send. A bit set with no entry means the information was lost
//! (the queue could not grow, or RLIMIT_SIGPENDING was reached): it is taken as SI_USER with
//! no sender, as Linux's `collect_signal` does.
//!
//! Each entry is charged to the receiver's real user while it is queued; dropping the entry
//! (taken, flushed, or freed with its task or process) uncharges it. `/proc/<pid>/status`
//! shows the count as `SigQ`.

use alloc::vec::Vec;

use super::KernelSigInfo;
use crate::kernel::cred::Uid;
use crate::kernel::locking::SpinLock;

/// Signals queued per real user: (uid, count), users with a count of 0 left out. Leaf lock
/// (taken under a task's `sigstate` or a group's `inner`).
static SIGPENDING: SpinLock<Vec<(Uid, usize)>> = SpinLock::new(Vec::new());

/// Charge one queued signal to `uid` (Linux's `inc_rlimit_get_ucounts`), unless that makes
/// more than `limit` and `override_rlimit` is false. False if not charged (over the limit,
/// or no memory to count a new user).
fn inc_sigpending(uid: Uid, limit: u64, override_rlimit: bool) -> bool {
    let mut counts = SIGPENDING.lock();
    if let Some(entry) = counts.iter_mut().find(|(u, _)| *u == uid) {
        if !override_rlimit && entry.1 as u64 >= limit {
            return false;
        }
        entry.1 += 1;
        return true;
    }
    if (!override_rlimit && limit == 0) || counts.try_reserve(1).is_err() {
        return false;
    }
    counts.push((uid, 1));
    true
}

/// Uncharge one queued signal from `uid` (Linux's `dec_rlimit_put_ucounts`).
fn dec_sigpending(uid: Uid) {
    let mut counts = SIGPENDING.lock();
    if let Some(i) = counts.iter().position(|(u, _)| *u == uid) {
        counts[i].1 -= 1;
        if counts[i].1 == 0 {
            counts.swap_remove(i);
        }
    }
}

/// How many signals are queued for real user `uid` (the first number of `SigQ`).
pub fn sigpending_of(uid: Uid) -> usize {
    SIGPENDING
        .lock()
        .iter()
        .find(|(u, _)| *u == uid)
        .map_or(0, |(_, n)| *n)
}

/// A `sigqueue` set aside for later and counted against RLIMIT_SIGPENDING while it exists:
/// a POSIX timer's (Linux's SIGQUEUE_PREALLOC, allocated by `timer_create`). Its signal is
/// queued uncharged ([`Charge::None`]); dropping this uncharges the user.
pub struct PreallocCharge(Uid);

impl PreallocCharge {
    /// Charge `uid` for one, within `limit` (Linux's `__sigqueue_alloc` with
    /// `override_rlimit` 0): None over the limit.
    pub fn new(uid: Uid, limit: u64) -> Option<Self> {
        // `then`, not `then_some`: an eagerly built value would be dropped, uncharging.
        inc_sigpending(uid, limit, false).then(|| Self(uid))
    }
}

impl Drop for PreallocCharge {
    fn drop(&mut self) {
        dec_sigpending(self.0);
    }
}

/// One queued instance of a signal (Linux's `struct sigqueue`): its information and the
/// user it is charged to (None: not charged, a POSIX timer's signal, whose timer is).
pub struct QueuedSig {
    info: KernelSigInfo,
    charged: Option<Uid>,
}

impl Drop for QueuedSig {
    fn drop(&mut self) {
        if let Some(uid) = self.charged {
            dec_sigpending(uid);
        }
    }
}

/// The information of a pending set's signals, oldest first. Empty (and holding no memory)
/// until the first signal with information is queued; the room stays once made.
pub struct SigQueue(Vec<QueuedSig>);

/// What [`SigQueue::alloc`] was asked to do with the limit.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Charge {
    /// Charge `uid`, within `limit` unless `override_rlimit`.
    User {
        /// The receiver's real user.
        uid: Uid,
        /// The receiver's RLIMIT_SIGPENDING soft limit.
        limit: u64,
        /// Queue even over the limit (standard signals with a kernel or `kill` code).
        override_rlimit: bool,
    },
    /// Charge nobody (a POSIX timer's signal, counted by its timer).
    None,
}

impl SigQueue {
    /// Nothing queued.
    pub const fn new() -> Self {
        Self(Vec::new())
    }

    /// Append `info` (Linux's `__sigqueue_alloc` + `list_add_tail`). False, queuing nothing,
    /// if the user's limit is reached or there is no memory.
    pub fn push(&mut self, info: KernelSigInfo, charge: Charge) -> bool {
        if self.0.try_reserve(1).is_err() {
            return false;
        }
        let charged = match charge {
            Charge::User {
                uid,
                limit,
                override_rlimit,
            } => {
                if !inc_sigpending(uid, limit, override_rlimit) {
                    return false;
                }
                Some(uid)
            }
            Charge::None => None,
        };
        self.0.push(QueuedSig { info, charged });
        true
    }

    /// Take the oldest entry of `signo` (Linux's `collect_signal`): its information, if
    /// there was one, and whether another entry of `signo` stays queued.
    pub fn take(&mut self, signo: i32) -> (Option<KernelSigInfo>, bool) {
        let Some(i) = self.0.iter().position(|q| q.info.signo == signo) else {
            return (None, false);
        };
        // The memory stays for the next signal (a shell gets a SIGCHLD per command).
        let entry = self.0.remove(i);
        let still = self.0[i..].iter().any(|q| q.info.signo == signo);
        (Some(entry.info), still)
    }

    /// Drop every entry of the signals in `mask` (bit n-1 for signal n; Linux's
    /// `flush_sigqueue_mask`).
    pub fn flush_mask(&mut self, mask: u64) {
        self.0.retain(|q| mask & super::bit(q.info.signo) == 0);
    }

    /// Whether an entry of `signo` matching `f` is queued.
    pub fn any(&self, signo: i32, f: impl Fn(&KernelSigInfo) -> bool) -> bool {
        self.0.iter().any(|q| q.info.signo == signo && f(&q.info))
    }

    /// Number of entries.
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// Whether nothing is queued.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// Whether memory is held.
    pub fn is_allocated(&self) -> bool {
        self.0.capacity() != 0
    }
}

impl Default for SigQueue {
    fn default() -> Self {
        Self::new()
    }
}
