//! Descriptors in flight and the collector of unreachable sockets (Linux:
//! `net/unix/garbage.c`, and the deferred `fput` of `fs/file_table.c`).
//!
//! A descriptor sent with SCM_RIGHTS is "in flight" from the send until a receiver takes
//! it: the message on the receiver's queue holds the file. A socket can so end up holding
//! itself (sent over its own connection, then closed), or a ring of sockets each other:
//! none can be reached from any process, yet each keeps the others' files alive. The
//! collector finds them as Linux's did before 6.10 (`unix_gc`): a UNIX socket whose file
//! has no reference but the in-flight ones is a candidate; a candidate referred to from a
//! queue that is not a candidate's, or from a live candidate's, is alive; the rest are
//! garbage, and their queues are emptied, which drops the ring's references. It runs when
//! a UNIX socket is released, as Linux's does.
//!
//! Closing a file may close others (a socket's queue holds descriptors; each may be a
//! socket with a queue…): [`defer_fput`] drops such files one batch at a time from a list
//! instead of recursing, so a long chain cannot overflow the kernel stack (Linux defers
//! the final `fput` to task work for the same reason).

use alloc::collections::BTreeMap;
use alloc::sync::{Arc, Weak};
use alloc::vec::Vec;
use core::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

use super::af_unix::unix_sock_of;
use crate::fs::file::File;
use crate::kernel::locking::SpinLock;

struct Inflight {
    file: Weak<File>,
    /// How many queued messages hold the file.
    count: usize,
}

/// The UNIX sockets in flight, by the address of their file. Lock: its own, taken before
/// any socket's state lock and never while one is held.
static INFLIGHT: SpinLock<BTreeMap<usize, Inflight>> = SpinLock::new(BTreeMap::new());
/// How many UNIX socket references are in flight (Linux's `unix_tot_inflight`).
static TOTAL_INFLIGHT: AtomicUsize = AtomicUsize::new(0);
static GC_RUNNING: AtomicBool = AtomicBool::new(false);

fn key(file: &Arc<File>) -> usize {
    Arc::as_ptr(file) as usize
}

/// Descriptors in flight by the real user ID of their sender (Linux's
/// `user->unix_inflight`).
static USER_INFLIGHT: SpinLock<BTreeMap<u32, usize>> = SpinLock::new(BTreeMap::new());

/// May `uid` put no more descriptors in flight (Linux's `too_many_unix_fds`)? True once
/// it has more than RLIMIT_NOFILE (1024) in flight, unless it has CAP_SYS_RESOURCE or
/// CAP_SYS_ADMIN.
pub fn too_many_unix_fds(uid: u32) -> bool {
    use crate::kernel::capability::{CAP_SYS_ADMIN, CAP_SYS_RESOURCE};
    let n = USER_INFLIGHT.lock().get(&uid).copied().unwrap_or(0);
    n > crate::fs::file::NR_OPEN_DEFAULT
        && !crate::kernel::cred::with_current_cred(|c| {
            c.has_cap(CAP_SYS_RESOURCE) || c.has_cap(CAP_SYS_ADMIN)
        })
}

/// `fds`, sent by `uid`, were queued in a message (Linux's `unix_inflight`).
pub fn unix_inflight(fds: &[Arc<File>], uid: u32) {
    if fds.is_empty() {
        return;
    }
    *USER_INFLIGHT.lock().entry(uid).or_insert(0) += fds.len();
    let mut table = INFLIGHT.lock();
    for file in fds {
        if unix_sock_of(file).is_none() {
            continue;
        }
        table
            .entry(key(file))
            .or_insert_with(|| Inflight {
                file: Arc::downgrade(file),
                count: 0,
            })
            .count += 1;
        TOTAL_INFLIGHT.fetch_add(1, Ordering::Relaxed);
    }
}

/// `fds`, sent by `uid`, left their message: received, or thrown away with it (Linux's
/// `unix_notinflight`).
pub fn unix_notinflight(fds: &[Arc<File>], uid: u32) {
    if fds.is_empty() {
        return;
    }
    {
        let mut users = USER_INFLIGHT.lock();
        if let Some(n) = users.get_mut(&uid) {
            *n = n.saturating_sub(fds.len());
            if *n == 0 {
                users.remove(&uid);
            }
        }
    }
    let mut table = INFLIGHT.lock();
    for file in fds {
        let k = key(file);
        if let Some(entry) = table.get_mut(&k) {
            entry.count -= 1;
            if entry.count == 0 {
                table.remove(&k);
            }
            TOTAL_INFLIGHT.fetch_sub(1, Ordering::Relaxed);
        }
    }
}

/// A candidate for collection.
struct Candidate {
    file: Arc<File>,
    /// In-flight references not (yet) explained by candidates' queues.
    remaining: usize,
    alive: bool,
}

/// Collect sockets only garbage refers to (Linux's `unix_gc`).
pub fn unix_gc() {
    if TOTAL_INFLIGHT.load(Ordering::Relaxed) == 0 {
        return;
    }
    if GC_RUNNING.swap(true, Ordering::AcqRel) {
        return;
    }
    let mut hit = Vec::new();
    let mut candidates: BTreeMap<usize, Candidate> = BTreeMap::new();
    {
        let table = INFLIGHT.lock();
        for (&k, entry) in table.iter() {
            let Some(file) = entry.file.upgrade() else {
                continue;
            };
            // Ours is one reference; every other is a queue's, or the file is reachable.
            if Arc::strong_count(&file) - 1 == entry.count {
                candidates.insert(
                    k,
                    Candidate {
                        file,
                        remaining: entry.count,
                        alive: false,
                    },
                );
            }
        }
        let keys: Vec<usize> = candidates.keys().copied().collect();
        let children = |k: usize, candidates: &BTreeMap<usize, Candidate>| -> Vec<usize> {
            let mut out = Vec::new();
            if let Some(sock) = candidates.get(&k).and_then(|c| unix_sock_of(&c.file)) {
                sock.queued_files(&mut |f| {
                    let fk = key(f);
                    if candidates.contains_key(&fk) {
                        out.push(fk);
                    }
                });
            }
            out
        };
        for &k in &keys {
            for child in children(k, &candidates) {
                if let Some(c) = candidates.get_mut(&child) {
                    c.remaining = c.remaining.saturating_sub(1);
                }
            }
        }
        let mut stack: Vec<usize> = keys
            .iter()
            .copied()
            .filter(|k| candidates.get(k).is_some_and(|c| c.remaining > 0))
            .collect();
        while let Some(k) = stack.pop() {
            match candidates.get_mut(&k) {
                Some(c) if !c.alive => c.alive = true,
                _ => continue,
            }
            stack.extend(children(k, &candidates));
        }
        for c in candidates.values().filter(|c| !c.alive) {
            if let Some(sock) = unix_sock_of(&c.file) {
                hit.push(sock.purge_queue());
            }
        }
    }
    // Outside the table's lock: the messages' files leave flight as they go.
    drop(hit);
    drop(candidates);
    GC_RUNNING.store(false, Ordering::Release);
}

/// Files whose last reference is being dropped for a socket (Linux's delayed `fput`).
static DEFERRED: SpinLock<Vec<Arc<File>>> = SpinLock::new(Vec::new());
static DRAINING: AtomicBool = AtomicBool::new(false);

/// Drop `files`, without recursing when dropping one drops more.
pub fn defer_fput(files: Vec<Arc<File>>) {
    if files.is_empty() {
        return;
    }
    DEFERRED.lock().extend(files);
    loop {
        if DRAINING.swap(true, Ordering::AcqRel) {
            // Someone up the stack (or on another CPU) is draining: it takes ours too.
            return;
        }
        loop {
            let batch = core::mem::take(&mut *DEFERRED.lock());
            if batch.is_empty() {
                break;
            }
            drop(batch);
        }
        DRAINING.store(false, Ordering::Release);
        if DEFERRED.lock().is_empty() {
            return;
        }
    }
}
