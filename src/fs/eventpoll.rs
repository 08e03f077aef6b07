//! epoll: `epoll_create1`, `epoll_ctl`, `epoll_pwait`, `epoll_pwait2` (Linux:
//! `fs/eventpoll.c`).
//!
//! An epoll instance ([`EventPoll`]) holds items, one per (file, descriptor) pair added with
//! `EPOLL_CTL_ADD`, and a ready list. Each item hangs on its file's [`PollHead`]; when the
//! file changes, the head calls the item's [`PollWaiter::poll_wake`] (Linux's
//! `ep_poll_callback`), which puts it on the ready list and wakes the instance's sleepers and
//! its own watchers (an epoll inside an epoll, or `poll` on it). `epoll_pwait` takes the
//! ready list and asks each file what it is ready for now (Linux's `ep_send_events`): an item
//! with nothing of its `events` is dropped from the list; a level-triggered one that reported
//! goes back on it, so it is reported while it stays ready; an edge-triggered one
//! (`EPOLLET`) waits for its file's next change; a one-shot one (`EPOLLONESHOT`) is disabled
//! until `EPOLL_CTL_MOD` re-arms it.
//!
//! An item does not keep its file open: it holds it weakly, and the file lists its items
//! ([`FileEpItems`], Linux's `f_ep`); when the last reference to the file goes, its items
//! leave their instances (Linux's `eventpoll_release` on the final `fput`), so they are
//! never reported again.
//! `EPOLLEXCLUSIVE` is accepted with Linux's checks and then behaves as a plain item;
//! `EPOLLWAKEUP` is kept and has no effect (there is no suspend).
//!
//! Locks: an instance's `inner` is a spinlock taken for the item map and ready list only; no
//! file is polled and no wake-up is run while it is held, so a file's callbacks (which take
//! it) may come from any CPU or from a timer interrupt. `mtx` (a sleeping mutex, Linux's
//! `ep->mtx`) orders `epoll_ctl` against a wait's reporting; callbacks and the release of a
//! file never take it.

use alloc::collections::{BTreeMap, VecDeque};
use alloc::sync::{Arc, Weak};
use alloc::vec::Vec;
use core::any::Any;
use core::sync::atomic::{AtomicBool, AtomicU32, AtomicU64, Ordering};

use super::anon_inodes::{anon_inode_getfd, AnonStat};
use super::file::{fdget, flags, File};
use super::inode::{Inode, Kiocb, Stat};
use super::iov_iter::IovIter;
use super::select::{pollbits, vfs_poll, with_user_sigmask, PollHead, PollWaiter};
use crate::arch::uaccess::{access_ok, copy_from_user, copy_to_user};
use crate::kernel::errno::Errno;
use crate::kernel::locking::mutex::Mutex;
use crate::kernel::locking::SpinLock;
use crate::kernel::sched::wait::WaitQueueHead;
use crate::kernel::signal::signal_pending;
use crate::kernel::task::current;

/// The flag bits of `epoll_event.events` (Linux's `include/uapi/linux/eventpoll.h`).
pub mod epoll_flags {
    /// Wake only one of several epolls waiting on the same file.
    pub const EPOLLEXCLUSIVE: u32 = 1 << 28;
    /// Hold a wakeup source while the event is handled (no effect in Cradle).
    pub const EPOLLWAKEUP: u32 = 1 << 29;
    /// Report once, then disable until `EPOLL_CTL_MOD`.
    pub const EPOLLONESHOT: u32 = 1 << 30;
    /// Edge-triggered: report once per change of the file.
    pub const EPOLLET: u32 = 1 << 31;
    /// The bits that are not events (Linux's `EP_PRIVATE_BITS`).
    pub const EP_PRIVATE_BITS: u32 = EPOLLWAKEUP | EPOLLONESHOT | EPOLLET | EPOLLEXCLUSIVE;
}
use epoll_flags::*;

/// `epoll_ctl` operations.
const EPOLL_CTL_ADD: i32 = 1;
const EPOLL_CTL_DEL: i32 = 2;
const EPOLL_CTL_MOD: i32 = 3;

/// The bits an `EPOLLEXCLUSIVE` item may have (Linux's `EPOLLEXCLUSIVE_OK_BITS`).
const EPOLLEXCLUSIVE_OK_BITS: u32 = pollbits::POLLIN
    | pollbits::POLLOUT
    | pollbits::POLLERR
    | pollbits::POLLHUP
    | EPOLLWAKEUP
    | EPOLLET
    | EPOLLEXCLUSIVE;

/// `sizeof(struct epoll_event)` on arm64: `u32 events`, 4 bytes of padding, `u64 data`.
const EPOLL_EVENT_SIZE: usize = 16;
/// The most events one wait may ask for (Linux's `EP_MAX_EVENTS`).
const EP_MAX_EVENTS: usize = i32::MAX as usize / EPOLL_EVENT_SIZE;
/// How deep epolls may nest (Linux's `EP_MAX_NESTS`).
const EP_MAX_NESTS: usize = 4;

/// The epoll items watching a file (a field of [`File`]). Lock: its own, never held with
/// another.
pub struct FileEpItems(SpinLock<Vec<Weak<EpItem>>>);

impl Default for FileEpItems {
    fn default() -> Self {
        Self(SpinLock::new(Vec::new()))
    }
}

/// `file` is going: take its items out of their instances (Linux's `eventpoll_release`).
pub fn eventpoll_release(file: &File) {
    let items = core::mem::take(&mut *file.f_ep.0.lock());
    for item in items.iter().filter_map(Weak::upgrade) {
        item.unregister(file);
    }
}

/// One watched (file, descriptor) pair (Linux's `struct epitem`).
pub struct EpItem {
    /// The instance it belongs to.
    ep: Weak<EventPoll>,
    /// The watched file, not kept open.
    file: Weak<File>,
    /// The descriptor it was added under.
    fd: i32,
    /// `epoll_event.events`: wanted events and flags. Events cleared (flags kept) once a
    /// one-shot item has fired.
    events: AtomicU32,
    /// `epoll_event.data`, returned as is.
    data: AtomicU64,
    /// On the ready list. Written under the instance's `inner` lock.
    queued: AtomicBool,
}

impl EpItem {
    /// The key of the instance's item map: the file's address and the descriptor.
    fn key(&self) -> (usize, i32) {
        (self.file.as_ptr() as usize, self.fd)
    }

    /// Leave the instance and the file's wake-up list (Linux's `ep_remove`).
    fn unregister(self: &Arc<Self>, file: &File) {
        if let Some(ep) = self.ep.upgrade() {
            let mut inner = ep.inner.lock();
            inner.items.remove(&self.key());
            inner.ready.retain(|i| !Arc::ptr_eq(i, self));
        }
        let waiter: Weak<dyn PollWaiter> = Arc::downgrade(self) as Weak<dyn PollWaiter>;
        file.inode.with_poll_head(&mut |head| head.remove(&waiter));
    }
}

impl PollWaiter for EpItem {
    /// Linux's `ep_poll_callback`: queue the item unless it is a disabled one-shot.
    fn poll_wake(&self) {
        if self.events.load(Ordering::Acquire) & !EP_PRIVATE_BITS == 0 {
            return;
        }
        let Some(ep) = self.ep.upgrade() else { return };
        {
            let mut inner = ep.inner.lock();
            let Some(me) = inner.items.get(&self.key()).cloned() else {
                return;
            };
            if !me.queued.swap(true, Ordering::AcqRel) {
                inner.ready.push_back(me);
            }
        }
        ep.wake();
    }
}

/// The item map and the ready list.
struct EpInner {
    /// Every item, by (file address, descriptor) (Linux's red-black tree `ep->rbr`).
    items: BTreeMap<(usize, i32), Arc<EpItem>>,
    /// Items that may be ready (Linux's `ep->rdllist`).
    ready: VecDeque<Arc<EpItem>>,
}

/// An epoll instance (Linux's `struct eventpoll`); the inode of its file.
pub struct EventPoll {
    /// Held by `epoll_ctl` and by a wait while it reports (Linux's `ep->mtx`), so that a
    /// one-shot item's disarming and an `EPOLL_CTL_MOD` re-arming it never interleave. A
    /// sleeping lock: files are polled under it.
    mtx: Mutex<()>,
    /// Lock: its own; see the file's doc for what may happen under it.
    inner: SpinLock<EpInner>,
    /// `epoll_pwait` sleepers (Linux's `ep->wq`).
    wait: WaitQueueHead,
    /// Watchers of this instance: an epoll it was added to, `poll` (Linux's `ep->poll_wait`).
    poll_head: PollHead,
    stat: AnonStat,
}

impl EventPoll {
    fn new() -> Arc<Self> {
        Arc::new(Self {
            mtx: Mutex::new(()),
            inner: SpinLock::new(EpInner {
                items: BTreeMap::new(),
                ready: VecDeque::new(),
            }),
            wait: WaitQueueHead::new(),
            poll_head: PollHead::new(),
            stat: AnonStat::new(),
        })
    }

    /// Something may be ready: wake the sleepers and the watchers.
    fn wake(&self) {
        self.wait.wake_up_all();
        self.poll_head.wake();
    }

    fn has_ready(&self) -> bool {
        !self.inner.lock().ready.is_empty()
    }

    /// Queue `item` if its file is ready for its events now (what `ep_insert` and
    /// `ep_modify` do after registering).
    fn check_now(&self, item: &Arc<EpItem>, file: &File) {
        let events = item.events.load(Ordering::Acquire);
        if vfs_poll(file) & events & !EP_PRIVATE_BITS == 0 {
            return;
        }
        {
            let mut inner = self.inner.lock();
            if !item.queued.swap(true, Ordering::AcqRel) {
                inner.ready.push_back(item.clone());
            }
        }
        self.wake();
    }

    /// Take what is ready off the ready list, up to `max` events (Linux's
    /// `ep_send_events`). Level-triggered items that reported go back on the list.
    fn send_events(&self, max: usize) -> Vec<(u32, u64)> {
        let _mtx = self.mtx.lock();
        let batch: Vec<Arc<EpItem>> = {
            let mut inner = self.inner.lock();
            let batch: Vec<_> = inner.ready.drain(..).collect();
            for item in &batch {
                item.queued.store(false, Ordering::Release);
            }
            batch
        };
        let mut out = Vec::new();
        let mut requeue = Vec::new();
        let mut dead = Vec::new();
        let mut rest = Vec::new();
        for item in batch {
            if out.len() >= max {
                rest.push(item);
                continue;
            }
            let Some(file) = item.file.upgrade() else {
                dead.push(item);
                continue;
            };
            let events = item.events.load(Ordering::Acquire);
            let revents = vfs_poll(&file) & events & !EP_PRIVATE_BITS;
            drop(file);
            if revents == 0 {
                continue;
            }
            out.push((revents, item.data.load(Ordering::Acquire)));
            if events & EPOLLONESHOT != 0 {
                item.events.fetch_and(EP_PRIVATE_BITS, Ordering::AcqRel);
            } else if events & EPOLLET == 0 {
                requeue.push(item);
            }
        }
        let mut inner = self.inner.lock();
        for item in rest.into_iter().rev() {
            if !item.queued.swap(true, Ordering::AcqRel) {
                inner.ready.push_front(item);
            }
        }
        for item in requeue {
            if !item.queued.swap(true, Ordering::AcqRel) {
                inner.ready.push_back(item);
            }
        }
        for item in dead {
            inner.items.remove(&item.key());
        }
        out
    }

    /// True if `target` is this instance or reaches it through nested epolls, or the
    /// nesting is deeper than Linux allows (Linux's `ep_loop_check`).
    fn reaches(&self, target: &EventPoll, depth: usize) -> bool {
        if core::ptr::eq(self, target) || depth > EP_MAX_NESTS {
            return true;
        }
        let files: Vec<Arc<File>> = self
            .inner
            .lock()
            .items
            .values()
            .filter_map(|i| i.file.upgrade())
            .collect();
        files
            .iter()
            .filter_map(|f| epoll_of(f))
            .any(|inner| inner.reaches(target, depth + 1))
    }
}

impl Inode for EventPoll {
    fn stat(&self) -> Stat {
        self.stat.stat()
    }

    fn read_iter(&self, _iocb: &Kiocb, _to: &mut IovIter<'_>) -> Result<usize, Errno> {
        Err(Errno::EINVAL)
    }

    fn write_iter(&self, _iocb: &Kiocb, _from: &mut IovIter<'_>) -> Result<usize, Errno> {
        Err(Errno::EINVAL)
    }

    /// Readable when an item on the ready list is ready (Linux's `ep_eventpoll_poll`).
    fn poll(&self, _file_flags: u32) -> u32 {
        let queued: Vec<Arc<EpItem>> = self.inner.lock().ready.iter().cloned().collect();
        let ready = queued.iter().any(|item| {
            item.file.upgrade().is_some_and(|f| {
                vfs_poll(&f) & item.events.load(Ordering::Acquire) & !EP_PRIVATE_BITS != 0
            })
        });
        if ready {
            pollbits::POLLIN | pollbits::POLLRDNORM
        } else {
            0
        }
    }

    /// Linux's `ep_show_fdinfo`: one line per item.
    fn show_fdinfo(&self, out: &mut alloc::string::String) {
        use core::fmt::Write;
        let items: Vec<Arc<EpItem>> = self.inner.lock().items.values().cloned().collect();
        for item in items {
            let Some(file) = item.file.upgrade() else {
                continue;
            };
            let st = file.inode.stat();
            let pos = *file.pos.lock();
            let _ = writeln!(
                out,
                "tfd: {:8} events: {:8x} data: {:16x}  pos:{} ino:{:x} sdev:{:x}",
                item.fd,
                item.events.load(Ordering::Acquire),
                item.data.load(Ordering::Acquire),
                pos,
                st.ino,
                st.dev
            );
        }
    }

    fn with_poll_head(&self, f: &mut dyn FnMut(&PollHead)) -> bool {
        f(&self.poll_head);
        true
    }

    fn as_any(&self) -> &dyn Any {
        self
    }
}

/// The epoll instance behind `file`, if it is one (Linux's `is_file_epoll`).
fn epoll_of(file: &File) -> Option<&EventPoll> {
    file.inode.as_any().downcast_ref::<EventPoll>()
}

type SysResult = Result<u64, Errno>;

/// `epoll_create1(2)`: EINVAL for flags other than EPOLL_CLOEXEC.
pub fn sys_epoll_create1(eflags: i32) -> SysResult {
    if eflags as u32 & !flags::O_CLOEXEC != 0 {
        return Err(Errno::EINVAL);
    }
    anon_inode_getfd("[eventpoll]", EventPoll::new(), eflags as u32)
}

/// `epoll_ctl(2)`, with Linux's checks in Linux's order (`do_epoll_ctl`).
pub fn sys_epoll_ctl(epfd: i32, op: i32, fd: i32, event: u64) -> SysResult {
    let has_event = op != EPOLL_CTL_DEL;
    let (mut events, data) = if has_event {
        let mut raw = [0u8; EPOLL_EVENT_SIZE];
        copy_from_user(&mut raw, event)?;
        (
            u32::from_le_bytes([raw[0], raw[1], raw[2], raw[3]]),
            u64::from_le_bytes(raw[8..16].try_into().unwrap_or([0; 8])),
        )
    } else {
        (0, 0)
    };
    let file = fdget(epfd)?;
    let target = fdget(fd)?;
    if !target.inode.with_poll_head(&mut |_| {}) {
        return Err(Errno::EPERM);
    }
    if Arc::ptr_eq(&file, &target) {
        return Err(Errno::EINVAL);
    }
    let ep_inode = file.inode.clone();
    let ep = epoll_of(&file).ok_or(Errno::EINVAL)?;
    // Linux's EPOLLEXCLUSIVE rules: not with MOD, not on an epoll, only with its OK bits.
    let exclusive_wrong = op == EPOLL_CTL_MOD
        || (op == EPOLL_CTL_ADD
            && (epoll_of(&target).is_some() || events & !EPOLLEXCLUSIVE_OK_BITS != 0));
    if has_event && events & EPOLLEXCLUSIVE != 0 && exclusive_wrong {
        return Err(Errno::EINVAL);
    }
    if op == EPOLL_CTL_ADD {
        if let Some(inner) = epoll_of(&target) {
            if inner.reaches(ep, 1) {
                return Err(Errno::ELOOP);
            }
        }
    }
    let _mtx = ep.mtx.lock();
    let key = (Arc::as_ptr(&target) as usize, fd);
    let existing = ep.inner.lock().items.get(&key).cloned();
    match op {
        EPOLL_CTL_ADD => {
            if existing.is_some() {
                return Err(Errno::EEXIST);
            }
            events |= pollbits::POLLERR | pollbits::POLLHUP;
            // The instance's own `Arc`, for the item's back pointer.
            let ep_weak = arc_of(&ep_inode);
            let item = Arc::new(EpItem {
                ep: ep_weak,
                file: Arc::downgrade(&target),
                fd,
                events: AtomicU32::new(events),
                data: AtomicU64::new(data),
                queued: AtomicBool::new(false),
            });
            {
                let mut inner = ep.inner.lock();
                if inner.items.contains_key(&key) {
                    return Err(Errno::EEXIST);
                }
                inner.items.insert(key, item.clone());
            }
            let waiter: Weak<dyn PollWaiter> = Arc::downgrade(&item) as Weak<dyn PollWaiter>;
            target
                .inode
                .with_poll_head(&mut |head| head.add(waiter.clone()));
            {
                let mut f_ep = target.f_ep.0.lock();
                f_ep.retain(|i| i.strong_count() > 0);
                f_ep.push(Arc::downgrade(&item));
            }
            ep.check_now(&item, &target);
        }
        EPOLL_CTL_DEL => {
            let item = existing.ok_or(Errno::ENOENT)?;
            item.unregister(&target);
            let gone = Arc::downgrade(&item);
            target
                .f_ep
                .0
                .lock()
                .retain(|i| i.strong_count() > 0 && !Weak::ptr_eq(i, &gone));
        }
        EPOLL_CTL_MOD => {
            let item = existing.ok_or(Errno::ENOENT)?;
            if item.events.load(Ordering::Acquire) & EPOLLEXCLUSIVE != 0 {
                return Err(Errno::EINVAL);
            }
            events |= pollbits::POLLERR | pollbits::POLLHUP;
            item.data.store(data, Ordering::Release);
            item.events.store(events, Ordering::Release);
            ep.check_now(&item, &target);
        }
        _ => return Err(Errno::EINVAL),
    }
    Ok(0)
}

/// A weak `Arc<EventPoll>` from the inode `Arc` of an epoll file.
fn arc_of(inode: &Arc<dyn Inode>) -> Weak<EventPoll> {
    let any: Arc<dyn Any + Send + Sync> = inode.clone();
    any.downcast::<EventPoll>()
        .map(|ep| Arc::downgrade(&ep))
        .unwrap_or_default()
}

/// Wait for events on `epfd` until `deadline_ns` (ktime; `None`: forever), with Linux's
/// checks (`do_epoll_wait`, `ep_poll`). A signal ends the wait with EINTR (never restarted).
fn do_epoll_wait(epfd: i32, events: u64, maxevents: i32, deadline_ns: Option<u64>) -> SysResult {
    if maxevents <= 0 || maxevents as usize > EP_MAX_EVENTS {
        return Err(Errno::EINVAL);
    }
    let max = maxevents as usize;
    if !access_ok(events, max * EPOLL_EVENT_SIZE) {
        return Err(Errno::EFAULT);
    }
    let file = fdget(epfd)?;
    let ep = epoll_of(&file).ok_or(Errno::EINVAL)?;
    let tick_ns = 1_000_000_000 / crate::kernel::time::HZ;
    loop {
        let got = ep.send_events(max);
        if !got.is_empty() {
            let mut raw = alloc::vec![0u8; got.len() * EPOLL_EVENT_SIZE];
            for (slot, (revents, data)) in raw.chunks_mut(EPOLL_EVENT_SIZE).zip(&got) {
                slot[0..4].copy_from_slice(&revents.to_le_bytes());
                slot[8..16].copy_from_slice(&data.to_le_bytes());
            }
            copy_to_user(events, &raw)?;
            return Ok(got.len() as u64);
        }
        let now = crate::kernel::time::ktime_get_ns();
        if deadline_ns.is_some_and(|d| now >= d) {
            return Ok(0);
        }
        if signal_pending(current()) {
            return Err(Errno::EINTR);
        }
        let slept = match deadline_ns {
            None => ep
                .wait
                .wait_event_interruptible(|| ep.has_ready())
                .map(|()| 1),
            Some(deadline) => ep.wait.wait_event_interruptible_timeout(
                || ep.has_ready(),
                (deadline - now).div_ceil(tick_ns),
            ),
        };
        if slept.is_err() {
            return Err(Errno::EINTR);
        }
    }
}

/// `epoll_pwait(2)` (`epoll_wait` is glibc's `epoll_pwait` with no mask): `timeout` in
/// milliseconds, negative for none.
pub fn sys_epoll_pwait(
    epfd: i32,
    events: u64,
    maxevents: i32,
    timeout: i32,
    sigmask: u64,
    sigsetsize: usize,
) -> SysResult {
    let deadline = (timeout >= 0)
        .then(|| crate::kernel::time::ktime_get_ns().saturating_add(timeout as u64 * 1_000_000));
    with_user_sigmask(sigmask, sigsetsize, || {
        do_epoll_wait(epfd, events, maxevents, deadline)
    })
}

/// `epoll_pwait2(2)`: the timeout is a `struct timespec` (NULL: none; EINVAL if malformed).
pub fn sys_epoll_pwait2(
    epfd: i32,
    events: u64,
    maxevents: i32,
    timeout: u64,
    sigmask: u64,
    sigsetsize: usize,
) -> SysResult {
    let deadline = crate::kernel::time::timeout_deadline(timeout)?;
    with_user_sigmask(sigmask, sigsetsize, || {
        do_epoll_wait(epfd, events, maxevents, deadline)
    })
}
