//! File locks: POSIX record locks, open-file-description (OFD) locks and `flock(2)` (Linux:
//! `fs/locks.c`).
//!
//! - **POSIX locks** (`F_GETLK`, `F_SETLK`, `F_SETLKW`) cover byte ranges and belong to a
//!   process's descriptor table (Linux's `fl_owner = current->files`, here
//!   [`FilesStruct::lock_owner`](super::file::FilesStruct::lock_owner)): threads share them, fork children do not inherit them,
//!   execve keeps them. Closing *any* descriptor of the file drops all of the owner's locks
//!   on it ([`locks_remove_posix`], from `filp_close`), and so does exit (the descriptor
//!   table's last user closes every descriptor). An owner's ranges never overlap: a new lock
//!   cuts the owner's other-type ranges it covers and merges with touching same-type ones.
//! - **OFD locks** (`F_OFD_*`) are POSIX locks owned by the open file description, shared
//!   across dup and fork, released when it goes ([`locks_remove_file`], from `File`'s drop).
//! - **flock locks** cover the whole file, are owned by the open file description too, and
//!   never conflict with POSIX locks. A conversion drops the old lock before taking the new
//!   one, so a failed `LOCK_NB` conversion leaves none (Linux does the same).
//!
//! All lock records live in one table, [`FILE_LOCKS`], keyed by the inode's address: a lock
//! exists only while an open file holds the inode, so the address cannot be reused under it.
//! The table's spinlock is a leaf lock (nothing else is taken under it but the allocator);
//! the close paths take it under the descriptor table's lock, and wake waiters after
//! dropping it. A blocked `F_SETLKW`/`flock` sleeps on its inode's wait queue and retries its
//! request whenever a lock of that inode is released (the inode's context stays while
//! anybody waits on it); a signal ends the wait with ERESTARTSYS and leaves nothing behind. Blocked POSIX requests are recorded (waiter owner → blocker owner) for
//! the deadlock check, Linux's `posix_locks_deadlock` (EDEADLK). The system holds at most
//! [`MAX_FILE_LOCKS`] lock records (all processes together: Linux has no such limit, only
//! memory); a request that would need more gets ENOLCK, and a failed allocation ENOMEM. A
//! request makes at most three new records and walks the inode's list once.
//!
//! `/proc/locks` ([`proc_locks`]) lists every lock as Linux prints it (not the `->` lines
//! Linux adds for blocked requests).

use alloc::collections::BTreeMap;
use alloc::string::String;
use alloc::sync::Arc;
use alloc::vec::Vec;
use core::fmt::Write;
use core::ops::{Deref, DerefMut};
use core::sync::atomic::{AtomicU64, AtomicUsize, Ordering};

use super::file::{fdget, File};
use crate::arch::uaccess::{copy_from_user, copy_to_user};
use crate::kernel::errno::Errno;
use crate::kernel::locking::{SpinLock, SpinLockGuard};
use crate::kernel::sched::wait::WaitQueueHead;
use crate::kernel::task::current;

type SysResult = Result<u64, Errno>;

/// `struct flock` `l_type` values.
pub const F_RDLCK: i16 = 0;
/// A write (exclusive) lock.
pub const F_WRLCK: i16 = 1;
/// No lock / unlock.
pub const F_UNLCK: i16 = 2;

/// `flock(2)` operations.
pub const LOCK_SH: u32 = 1;
/// Exclusive lock.
pub const LOCK_EX: u32 = 2;
/// Do not block.
pub const LOCK_NB: u32 = 4;
/// Unlock.
pub const LOCK_UN: u32 = 8;
/// The old mandatory-lock flag: ignored (Linux warns and returns 0).
pub const LOCK_MAND: u32 = 32;

/// The end of a lock that runs to the end of the file (Linux's `OFFSET_MAX`).
const OFFSET_MAX: i64 = i64::MAX;
/// How far the deadlock check follows waiters (Linux's `MAX_DEADLK_ITERATIONS`).
const MAX_DEADLK_ITERATIONS: usize = 10;
/// The most lock records the system holds at once: beyond, a request gets ENOLCK.
pub const MAX_FILE_LOCKS: usize = 1 << 16;
/// The size of arm64's `struct flock` (type, whence, start, len, pid; padded to 32).
const FLOCK_SIZE: usize = 32;

/// What kind of lock a record is.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(super) enum LockKind {
    /// A POSIX record lock, owned by a descriptor table.
    Posix,
    /// An OFD lock, owned by an open file description.
    Ofd,
    /// A `flock(2)` lock, owned by an open file description.
    Flock,
}

/// Shared or exclusive.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(super) enum LockType {
    Read,
    Write,
}

/// One lock (Linux's `struct file_lock`).
#[derive(Clone, Copy, Debug)]
pub(super) struct FileLock {
    pub(super) kind: LockKind,
    /// POSIX: the descriptor table's lock owner; OFD and flock: the `File`'s address.
    pub(super) owner: usize,
    pub(super) ty: LockType,
    /// The locking process (tgid), for F_GETLK and /proc/locks.
    pub(super) pid: i32,
    /// First byte.
    pub(super) start: i64,
    /// Last byte, inclusive; [`OFFSET_MAX`] for "to the end of the file".
    pub(super) end: i64,
}

impl FileLock {
    fn overlaps(&self, other: &FileLock) -> bool {
        self.start <= other.end && other.start <= self.end
    }

    /// Touching or overlapping (mergeable when of one type and owner).
    fn touches(&self, other: &FileLock) -> bool {
        self.start <= other.end.saturating_add(1) && other.start <= self.end.saturating_add(1)
    }
}

/// The locks of one inode (Linux's `struct file_lock_context`).
pub(super) struct FileLockContext {
    /// Device and inode number, for /proc/locks.
    dev: u64,
    ino: u64,
    /// POSIX and OFD locks (Linux's `flc_posix`): each owner's together, by start, owners
    /// in the order they first locked.
    posix: Vec<FileLock>,
    /// flock locks (Linux's `flc_flock`).
    flock: Vec<FileLock>,
    /// Requests asleep on this inode's locks; the context stays while there are any.
    waiters: usize,
    /// Where they sleep (Linux's per-lock `fl_wait`, here one per inode).
    wait: Arc<WaitQueueHead>,
}

/// A POSIX request asleep on another owner's POSIX lock (Linux's `blocked_hash`).
pub(super) struct Blocked {
    pub(super) id: u64,
    pub(super) waiter: usize,
    pub(super) blocker: usize,
}

/// Every lock in the system.
pub(super) struct FileLocks {
    /// Lock contexts by inode address; a context with no locks is removed.
    pub(super) inodes: BTreeMap<usize, FileLockContext>,
    /// Blocked POSIX requests, for the deadlock check.
    pub(super) blocked: Vec<Blocked>,
    /// Lock records in `inodes`.
    pub(super) count: usize,
    /// The most records `count` may reach ([`MAX_FILE_LOCKS`]; less in tests).
    pub(super) limit: usize,
}

/// The lock table. Lock: its own, a leaf.
static FILE_LOCKS: SpinLock<FileLocks> = SpinLock::new(FileLocks::new(MAX_FILE_LOCKS));

/// `inodes.len()` of [`FILE_LOCKS`], read without the lock: close's fast path. Stored
/// when a [`TableGuard`] goes.
static LOCKED_INODES: AtomicUsize = AtomicUsize::new(0);

/// [`FILE_LOCKS`], locked; it publishes the number of locked inodes when it goes.
struct TableGuard(SpinLockGuard<'static, FileLocks>);

impl Deref for TableGuard {
    type Target = FileLocks;
    fn deref(&self) -> &FileLocks {
        &self.0
    }
}

impl DerefMut for TableGuard {
    fn deref_mut(&mut self) -> &mut FileLocks {
        &mut self.0
    }
}

impl Drop for TableGuard {
    fn drop(&mut self) {
        LOCKED_INODES.store(self.0.inodes.len(), Ordering::Release);
    }
}

fn lock_table() -> TableGuard {
    TableGuard(FILE_LOCKS.lock())
}

/// Identifies a sleeping request in [`FileLocks::blocked`].
static NEXT_BLOCK_ID: AtomicU64 = AtomicU64::new(1);

/// The outcome of one try at a lock request.
pub(super) enum Attempt {
    /// Granted, released or refused.
    Done(Result<(), Errno>),
    /// Blocked by this lock; try again when a lock goes.
    Wait(FileLock),
}

fn inode_key(file: &File) -> usize {
    Arc::as_ptr(&file.inode) as *const () as usize
}

fn file_owner(file: &File) -> usize {
    file as *const File as usize
}

fn tgid() -> i32 {
    current().tgid.load(Ordering::Relaxed)
}

impl FileLocks {
    /// An empty table of at most `limit` records.
    pub(super) const fn new(limit: usize) -> Self {
        Self {
            inodes: BTreeMap::new(),
            blocked: Vec::new(),
            count: 0,
            limit,
        }
    }

    /// How many POSIX/OFD and flock records inode `key` has.
    pub(super) fn records(&self, key: usize) -> (usize, usize) {
        self.inodes
            .get(&key)
            .map_or((0, 0), |c| (c.posix.len(), c.flock.len()))
    }

    /// The POSIX/OFD records of inode `key`, by start.
    pub(super) fn posix_locks(&self, key: usize) -> Vec<FileLock> {
        let mut all = self
            .inodes
            .get(&key)
            .map_or(Vec::new(), |c| c.posix.clone());
        all.sort_unstable_by_key(|l| (l.start, l.owner));
        all
    }
    /// The context of inode `key`, made if missing.
    fn context(&mut self, key: usize, dev: u64, ino: u64) -> &mut FileLockContext {
        self.inodes.entry(key).or_insert_with(|| FileLockContext {
            dev,
            ino,
            posix: Vec::new(),
            flock: Vec::new(),
            waiters: 0,
            wait: Arc::new(WaitQueueHead::new()),
        })
    }

    /// Drop inode `key`'s context if it holds no lock and nobody waits on it.
    fn tidy(&mut self, key: usize) {
        if self
            .inodes
            .get(&key)
            .is_some_and(|c| c.posix.is_empty() && c.flock.is_empty() && c.waiters == 0)
        {
            self.inodes.remove(&key);
        }
    }

    /// The queue to wake after a lock of inode `key` went, if anybody waits on it.
    fn wait_queue(&self, key: usize) -> Option<Arc<WaitQueueHead>> {
        self.inodes
            .get(&key)
            .filter(|c| c.waiters > 0)
            .map(|c| c.wait.clone())
    }

    /// Whether `caller` waiting on `blocker` closes a cycle of waiters (Linux's
    /// `posix_locks_deadlock` with `what_owner_is_waiting_for`).
    pub(super) fn posix_locks_deadlock(&self, caller: usize, blocker: &FileLock) -> bool {
        let mut owner = blocker.owner;
        for _ in 0..=MAX_DEADLK_ITERATIONS {
            match self.blocked.iter().find(|b| b.waiter == owner) {
                Some(b) if b.blocker == caller => return true,
                Some(b) => owner = b.blocker,
                None => return false,
            }
        }
        false
    }

    /// One try at a POSIX or OFD request (Linux's `posix_lock_inode`): `ty` None unlocks
    /// `req`'s range. Sets `released` if some owner's lock shrank or went.
    pub(super) fn posix_lock_inode(
        &mut self,
        key: usize,
        (dev, ino): (u64, u64),
        req: &FileLock,
        ty: Option<LockType>,
        sleep: bool,
        released: &mut bool,
    ) -> Attempt {
        if ty.is_none() && !self.inodes.contains_key(&key) {
            return Attempt::Done(Ok(()));
        }
        let count = self.count;
        let ctx = self.context(key, dev, ino);
        if let Some(t) = ty {
            let conflict = ctx.posix.iter().find(|l| {
                l.owner != req.owner
                    && l.overlaps(req)
                    && (t == LockType::Write || l.ty == LockType::Write)
            });
            if let Some(&blocker) = conflict {
                self.tidy(key);
                if !sleep {
                    return Attempt::Done(Err(Errno::EAGAIN));
                }
                if req.kind == LockKind::Posix && self.posix_locks_deadlock(req.owner, &blocker) {
                    return Attempt::Done(Err(Errno::EDEADLK));
                }
                return Attempt::Wait(blocker);
            }
        }
        // The owner's locks the request affects go: the same-type ones it touches merge
        // into it, the others it overlaps leave their pieces outside it (at most one on
        // each side, since an owner's locks never overlap). Nothing else moves, so a
        // request costs one pass over the inode's locks and at most three new records.
        let affects = |l: &FileLock| {
            l.owner == req.owner && ((ty == Some(l.ty) && l.touches(req)) || l.overlaps(req))
        };
        let mut merged = FileLock {
            ty: ty.unwrap_or(req.ty),
            ..*req
        };
        let (mut left, mut right) = (None, None);
        let mut affected = 0;
        for l in ctx.posix.iter().filter(|l| affects(l)) {
            affected += 1;
            if ty == Some(l.ty) {
                merged.start = merged.start.min(l.start);
                merged.end = merged.end.max(l.end);
                continue;
            }
            if l.start < req.start {
                left = Some(FileLock {
                    end: req.start - 1,
                    ..*l
                });
            }
            if l.end > req.end {
                right = Some(FileLock {
                    start: req.end + 1,
                    ..*l
                });
            }
        }
        let new = [left, right, ty.map(|_| merged)];
        let added = new.iter().flatten().count();
        if added > affected && count - affected + added > self.limit {
            self.tidy(key);
            return Attempt::Done(Err(Errno::ENOLCK));
        }
        let ctx = self.context(key, dev, ino);
        if ctx.posix.try_reserve(added).is_err() {
            self.tidy(key);
            return Attempt::Done(Err(Errno::ENOMEM));
        }
        // Anything but a merge of same-type locks shrank or changed someone's lock.
        *released |= ctx.posix.iter().any(|l| affects(l) && ty != Some(l.ty));
        ctx.posix.retain(|l| !affects(l));
        // As Linux's list: an owner's locks together, by start, a new owner's at the end,
        // so F_GETLK reports the same lock when several conflict.
        for lock in new.into_iter().flatten() {
            let at = match ctx.posix.iter().position(|l| l.owner == req.owner) {
                None => ctx.posix.len(),
                Some(first) => {
                    first
                        + ctx.posix[first..]
                            .iter()
                            .take_while(|l| l.owner == req.owner && l.start < lock.start)
                            .count()
                }
            };
            ctx.posix.insert(at, lock);
        }
        self.count = count - affected + added;
        self.tidy(key);
        Attempt::Done(Ok(()))
    }

    /// One try at a flock request (Linux's `flock_lock_inode`).
    pub(super) fn flock_lock_inode(
        &mut self,
        key: usize,
        (dev, ino): (u64, u64),
        owner: usize,
        ty: Option<LockType>,
        sleep: bool,
        released: &mut bool,
    ) -> Attempt {
        if ty.is_none() && !self.inodes.contains_key(&key) {
            return Attempt::Done(Ok(()));
        }
        let (mut count, limit) = (self.count, self.limit);
        let ctx = self.context(key, dev, ino);
        if let Some(i) = ctx.flock.iter().position(|l| l.owner == owner) {
            if Some(ctx.flock[i].ty) == ty {
                return Attempt::Done(Ok(()));
            }
            ctx.flock.remove(i);
            count -= 1;
            *released = true;
        }
        let conflict = ty.and_then(|t| {
            ctx.flock
                .iter()
                .find(|l| t == LockType::Write || l.ty == LockType::Write)
                .copied()
        });
        let result = match (ty, conflict) {
            (None, _) => Attempt::Done(Ok(())),
            (Some(_), Some(_)) if !sleep => Attempt::Done(Err(Errno::EAGAIN)),
            (Some(_), Some(blocker)) => Attempt::Wait(blocker),
            (Some(_), None) if count >= limit => Attempt::Done(Err(Errno::ENOLCK)),
            (Some(_), None) if ctx.flock.try_reserve(1).is_err() => {
                Attempt::Done(Err(Errno::ENOMEM))
            }
            (Some(t), None) => {
                ctx.flock.push(FileLock {
                    kind: LockKind::Flock,
                    owner,
                    ty: t,
                    pid: tgid(),
                    start: 0,
                    end: OFFSET_MAX,
                });
                count += 1;
                Attempt::Done(Ok(()))
            }
        };
        self.count = count;
        self.tidy(key);
        result
    }
}

/// Run `attempt` on inode `key` until it is decided, sleeping between tries if `sleep`
/// (Linux's `do_lock_file_wait` / `flock_lock_inode_wait`). `posix_waiter` is the owner to
/// record for the deadlock check while a POSIX request sleeps on a POSIX lock.
fn lock_file_wait(
    key: usize,
    sleep: bool,
    posix_waiter: Option<usize>,
    mut attempt: impl FnMut(&mut FileLocks, &mut bool) -> Attempt,
) -> Result<(), Errno> {
    let id = NEXT_BLOCK_ID.fetch_add(1, Ordering::Relaxed);
    // One try under the table's lock: the result if decided, and the queue to wake if the
    // try released someone's lock (a flock conversion).
    let mut try_once = |locks: &mut FileLocks| {
        locks.blocked.retain(|b| b.id != id);
        let mut released = false;
        let decided = match attempt(locks, &mut released) {
            Attempt::Done(result) => Some(result),
            Attempt::Wait(blocker) => {
                if let Some(waiter) = posix_waiter {
                    if blocker.kind == LockKind::Posix {
                        locks.blocked.push(Blocked {
                            id,
                            waiter,
                            blocker: blocker.owner,
                        });
                    }
                }
                None
            }
        };
        let wake = if released {
            locks.wait_queue(key)
        } else {
            None
        };
        (decided, wake)
    };
    // The first try; if it must wait, it counts itself a waiter of the inode (whose
    // context holds the blocking lock, so it exists) before it lets the table go.
    let (first, wake, queue) = {
        let mut locks = lock_table();
        let (first, wake) = try_once(&mut locks);
        let queue = match (&first, locks.inodes.get_mut(&key)) {
            (None, Some(ctx)) if sleep => {
                ctx.waiters += 1;
                Some(ctx.wait.clone())
            }
            _ => None,
        };
        (first, wake, queue)
    };
    if let Some(wake) = wake {
        wake.wake_up_all();
    }
    if let Some(result) = first {
        return result;
    }
    let Some(queue) = queue else {
        return Err(Errno::EAGAIN);
    };
    let mut outcome = None;
    let waited = queue.wait_event_interruptible(|| {
        let (decided, wake) = try_once(&mut lock_table());
        if let Some(wake) = wake {
            wake.wake_up_all();
        }
        outcome = decided;
        outcome.is_some()
    });
    // Granted, refused or ended by a signal: no record of the request remains.
    {
        let mut locks = lock_table();
        locks.blocked.retain(|b| b.id != id);
        if let Some(ctx) = locks.inodes.get_mut(&key) {
            ctx.waiters -= 1;
        }
        locks.tidy(key);
    }
    waited?;
    outcome.unwrap_or(Err(Errno::EINTR))
}

/// arm64's `struct flock`.
#[derive(Clone, Copy, Debug)]
struct Flock {
    /// The bytes as read, written back with the fields F_GETLK sets (padding kept).
    raw: [u8; FLOCK_SIZE],
    l_type: i16,
    l_whence: i16,
    l_start: i64,
    l_len: i64,
    l_pid: i32,
}

impl Flock {
    fn read(arg: u64) -> Result<Flock, Errno> {
        let mut raw = [0u8; FLOCK_SIZE];
        copy_from_user(&mut raw, arg)?;
        let i16_at = |o: usize| i16::from_le_bytes([raw[o], raw[o + 1]]);
        let i64_at = |o: usize| {
            let mut b = [0u8; 8];
            b.copy_from_slice(&raw[o..o + 8]);
            i64::from_le_bytes(b)
        };
        Ok(Flock {
            raw,
            l_type: i16_at(0),
            l_whence: i16_at(2),
            l_start: i64_at(8),
            l_len: i64_at(16),
            l_pid: i32::from_le_bytes([raw[24], raw[25], raw[26], raw[27]]),
        })
    }

    /// Write back the fields F_GETLK sets, the padding as the caller had it.
    fn write(&self, arg: u64) -> Result<(), Errno> {
        let mut raw = self.raw;
        raw[0..2].copy_from_slice(&self.l_type.to_le_bytes());
        raw[2..4].copy_from_slice(&self.l_whence.to_le_bytes());
        raw[8..16].copy_from_slice(&self.l_start.to_le_bytes());
        raw[16..24].copy_from_slice(&self.l_len.to_le_bytes());
        raw[24..28].copy_from_slice(&self.l_pid.to_le_bytes());
        copy_to_user(arg, &raw)
    }

    /// The byte range `[start, end]` the request names (Linux's `flock64_to_posix_lock`).
    fn range(&self, file: &File) -> Result<(i64, i64), Errno> {
        let base: i64 = match self.l_whence {
            0 => 0,
            1 => *file.pos.lock() as i64,
            2 => file.inode.stat().size as i64,
            _ => return Err(Errno::EINVAL),
        };
        if self.l_start > OFFSET_MAX - base {
            return Err(Errno::EOVERFLOW);
        }
        let start = base + self.l_start;
        if start < 0 {
            return Err(Errno::EINVAL);
        }
        if self.l_len > 0 {
            if self.l_len - 1 > OFFSET_MAX - start {
                return Err(Errno::EOVERFLOW);
            }
            Ok((start, start + (self.l_len - 1)))
        } else if self.l_len < 0 {
            if start + self.l_len < 0 {
                return Err(Errno::EINVAL);
            }
            Ok((start + self.l_len, start - 1))
        } else {
            Ok((start, OFFSET_MAX))
        }
    }
}

/// `l_type` as a lock type; None for F_UNLCK (Linux's `assign_type`).
fn assign_type(l_type: i16) -> Result<Option<LockType>, Errno> {
    match l_type {
        F_RDLCK => Ok(Some(LockType::Read)),
        F_WRLCK => Ok(Some(LockType::Write)),
        F_UNLCK => Ok(None),
        _ => Err(Errno::EINVAL),
    }
}

/// The POSIX lock owner of the current process: its descriptor table.
fn current_posix_owner() -> Result<usize, Errno> {
    Ok(current().files()?.lock().lock_owner())
}

/// `F_GETLK` / `F_OFD_GETLK` (Linux's `fcntl_getlk`): the first lock that would block the
/// described one, or `l_type` = F_UNLCK.
pub fn fcntl_getlk(file: &File, ofd: bool, arg: u64) -> SysResult {
    let mut fl = Flock::read(arg)?;
    if !ofd && fl.l_type != F_RDLCK && fl.l_type != F_WRLCK {
        return Err(Errno::EINVAL);
    }
    let (start, end) = fl.range(file)?;
    let ty = assign_type(fl.l_type)?;
    let owner = if ofd {
        if fl.l_pid != 0 {
            return Err(Errno::EINVAL);
        }
        file_owner(file)
    } else {
        current_posix_owner()?
    };
    let probe = FileLock {
        kind: LockKind::Posix,
        owner,
        ty: ty.unwrap_or(LockType::Read),
        pid: 0,
        start,
        end,
    };
    let conflict = {
        let locks = lock_table();
        locks.inodes.get(&inode_key(file)).and_then(|ctx| {
            ctx.posix
                .iter()
                .find(|l| {
                    l.owner != owner
                        && l.overlaps(&probe)
                        && (ty == Some(LockType::Write) || l.ty == LockType::Write)
                })
                .copied()
        })
    };
    match conflict {
        None => fl.l_type = F_UNLCK,
        Some(l) => {
            fl.l_type = if l.ty == LockType::Write {
                F_WRLCK
            } else {
                F_RDLCK
            };
            fl.l_whence = 0;
            fl.l_start = l.start;
            fl.l_len = if l.end == OFFSET_MAX {
                0
            } else {
                l.end - l.start + 1
            };
            fl.l_pid = if l.kind == LockKind::Ofd { -1 } else { l.pid };
        }
    }
    fl.write(arg)?;
    Ok(0)
}

/// `F_SETLK`, `F_SETLKW` and their OFD forms (Linux's `fcntl_setlk`).
pub fn fcntl_setlk(fd: i32, file: &Arc<File>, ofd: bool, sleep: bool, arg: u64) -> SysResult {
    let fl = Flock::read(arg)?;
    let (start, end) = fl.range(file)?;
    let ty = assign_type(fl.l_type)?;
    // Linux's `check_fmode_for_setlk`.
    match ty {
        Some(LockType::Read) if !file.readable() => return Err(Errno::EBADF),
        Some(LockType::Write) if !file.writable() => return Err(Errno::EBADF),
        _ => {}
    }
    let (kind, owner) = if ofd {
        if fl.l_pid != 0 {
            return Err(Errno::EINVAL);
        }
        (LockKind::Ofd, file_owner(file))
    } else {
        (LockKind::Posix, current_posix_owner()?)
    };
    let req = FileLock {
        kind,
        owner,
        ty: ty.unwrap_or(LockType::Read),
        pid: if ofd { -1 } else { tgid() },
        start,
        end,
    };
    let key = inode_key(file);
    let st = file.inode.stat();
    let id = (st.dev, st.ino);
    let waiter = (kind == LockKind::Posix).then_some(owner);
    lock_file_wait(key, sleep, waiter, |locks, released| {
        locks.posix_lock_inode(key, id, &req, ty, sleep, released)
    })?;
    // A close of `fd` by another thread while the lock was being taken has already dropped
    // the owner's locks; this one came after, so it goes too (Linux's close/fcntl race
    // check in `fcntl_setlk`).
    if ty.is_some() && kind == LockKind::Posix {
        let same = fdget(fd).is_ok_and(|f| Arc::ptr_eq(&f, file));
        if !same {
            let wake = {
                let mut locks = lock_table();
                let mut released = false;
                let _ = locks.posix_lock_inode(key, id, &req, None, false, &mut released);
                locks.wait_queue(key)
            };
            if let Some(wake) = wake {
                wake.wake_up_all();
            }
            return Err(Errno::EBADF);
        }
    }
    Ok(0)
}

/// `flock(2)`.
pub fn sys_flock(fd: i32, cmd: u32) -> SysResult {
    if cmd & LOCK_MAND != 0 {
        return Ok(0);
    }
    let ty = match cmd & !LOCK_NB {
        LOCK_SH => Some(LockType::Read),
        LOCK_EX => Some(LockType::Write),
        LOCK_UN => None,
        _ => return Err(Errno::EINVAL),
    };
    let file = fdget(fd)?;
    if file.flags() & super::file::flags::O_PATH != 0 {
        return Err(Errno::EBADF);
    }
    if ty.is_some() && !file.readable() && !file.writable() {
        return Err(Errno::EBADF);
    }
    let key = inode_key(&file);
    let st = file.inode.stat();
    let id = (st.dev, st.ino);
    let owner = file_owner(&file);
    let sleep = cmd & LOCK_NB == 0;
    lock_file_wait(key, sleep, None, |locks, released| {
        locks.flock_lock_inode(key, id, owner, ty, sleep, released)
    })?;
    Ok(0)
}

/// Drop every POSIX lock `owner` holds on `file`'s inode (Linux's `locks_remove_posix`,
/// called by `filp_close` for every close of a descriptor).
pub fn locks_remove_posix(file: &File, owner: usize) {
    remove_locks(file, |ctx| {
        ctx.posix
            .retain(|l| !(l.kind == LockKind::Posix && l.owner == owner));
    });
}

/// Drop the OFD and flock locks of `file`, which is going (Linux's `locks_remove_file`,
/// from `__fput`).
pub fn locks_remove_file(file: &File) {
    let owner = file_owner(file);
    remove_locks(file, |ctx| {
        ctx.posix
            .retain(|l| !(l.kind == LockKind::Ofd && l.owner == owner));
        ctx.flock.retain(|l| l.owner != owner);
    });
}

/// Let `drop_some` take locks out of `file`'s inode's lists, keep the table's count, and
/// wake the inode's waiters if any went. Nothing to do while no inode has locks.
fn remove_locks(file: &File, drop_some: impl FnOnce(&mut FileLockContext)) {
    if LOCKED_INODES.load(Ordering::Acquire) == 0 {
        return;
    }
    let key = inode_key(file);
    let wake = {
        let mut locks = lock_table();
        let locks = &mut *locks;
        let Some(ctx) = locks.inodes.get_mut(&key) else {
            return;
        };
        let before = ctx.posix.len() + ctx.flock.len();
        drop_some(ctx);
        let gone = before - ctx.posix.len() - ctx.flock.len();
        locks.count -= gone;
        locks.tidy(key);
        if gone > 0 {
            locks.wait_queue(key)
        } else {
            None
        }
    };
    if let Some(wake) = wake {
        wake.wake_up_all();
    }
}

/// The text of `/proc/locks` (Linux's `locks_show` / `lock_get_status`):
/// `1: POSIX  ADVISORY  WRITE 123 00:1a:456 0 EOF`.
pub fn proc_locks() -> Result<Vec<u8>, Errno> {
    let mut all: Vec<(FileLock, u64, u64)> = Vec::new();
    {
        let locks = lock_table();
        all.try_reserve(locks.count).map_err(|_| Errno::ENOMEM)?;
        for ctx in locks.inodes.values() {
            for l in ctx.posix.iter().chain(ctx.flock.iter()) {
                all.push((*l, ctx.dev, ctx.ino));
            }
        }
    }
    let mut text = String::new();
    for (n, (l, dev, ino)) in all.iter().enumerate() {
        let kind = match l.kind {
            LockKind::Posix => "POSIX  ADVISORY  ",
            LockKind::Ofd => "OFDLCK ADVISORY  ",
            LockKind::Flock => "FLOCK  ADVISORY  ",
        };
        let ty = match l.ty {
            LockType::Read => "READ",
            LockType::Write => "WRITE",
        };
        let pid = if l.kind == LockKind::Ofd { -1 } else { l.pid };
        let _ = write!(
            text,
            "{}: {kind}{ty} {pid} {:02x}:{:02x}:{ino} ",
            n + 1,
            super::char_dev::major(*dev),
            super::char_dev::minor(*dev),
        );
        let _ = if l.end == OFFSET_MAX {
            writeln!(text, "{} EOF", l.start)
        } else {
            writeln!(text, "{} {}", l.start, l.end)
        };
    }
    Ok(text.into_bytes())
}
