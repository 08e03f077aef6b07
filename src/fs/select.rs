//! `ppoll(2)` and `pselect6(2)`, sleeping in them until a file is ready, and the wake-up
//! lists epoll hangs on pollable objects (Linux: `fs/select.c`, `include/linux/poll.h`).
//! The signal mask argument of ppoll, pselect6 and epoll_pwait is in force during the wait
//! only ([`with_user_sigmask`]).
//!
//! What a file is ready for is its inode's `poll` mask (Linux's `vfs_poll`, with the
//! `EPOLL*`/`POLL*` bits of [`pollbits`]); ppoll and select report it as Linux's
//! `do_pollfd` and `select`'s `POLLIN_SET`/`POLLOUT_SET` do.
//!
//! Linux puts a poller on the wait queue of every file it polls. Cradle keeps one queue
//! for all `ppoll`/`pselect6` callers, with a generation count: whatever can make a polled
//! file ready calls [`poll_notify`] (directly, or through its [`PollHead`]), which moves the
//! generation on and wakes the pollers; each re-checks its files. A poller notes the
//! generation before it checks, and sleeps only while it is unchanged, so a change between
//! the check and the sleep is not missed. No tick wakes an idle poller: a shell waiting at
//! its prompt sleeps until a key comes.
//!
//! epoll needs to know *which* file changed (edge-triggered items report once per change):
//! a pollable object (pipe, tty, eventfd, timerfd, signalfd, epoll) owns a [`PollHead`],
//! the list of epoll items watching it, and wakes it on every change, which calls each
//! item's callback (Linux's `ep_poll_callback` on the file's wait queue) and then
//! [`poll_notify`]. An inode without a `PollHead` cannot be added to an epoll (EPERM, as
//! for a file without `->poll` on Linux).

use alloc::sync::{Arc, Weak};
use core::sync::atomic::{AtomicU64, Ordering};

use super::file::fdget;
use crate::arch::uaccess::{copy_from_user, copy_to_user};
use crate::kernel::errno::Errno;
use crate::kernel::locking::SpinLock;
use crate::kernel::sched::wait::WaitQueueHead;
use crate::kernel::signal::{signal_pending, ERESTARTNOHAND};
use crate::kernel::task::current;
use alloc::vec;
use alloc::vec::Vec;

static POLL_GENERATION: AtomicU64 = AtomicU64::new(0);
static POLL_WAIT: WaitQueueHead = WaitQueueHead::new();

/// Something a poller may be waiting for has changed: wake every poller to look again.
/// Callable from interrupt context.
pub fn poll_notify() {
    POLL_GENERATION.fetch_add(1, Ordering::AcqRel);
    POLL_WAIT.wake_up_all();
}

/// Something woken when a watched object may have changed (Linux's `wait_queue_entry` with
/// a wake function: epoll's `ep_poll_callback`).
pub trait PollWaiter: Send + Sync {
    /// The object may have changed. Called with no lock of the object held, maybe from
    /// interrupt context (a timer), so it must only take spinlocks and wake.
    fn poll_wake(&self);
}

/// The waiters of one pollable object (Linux's `wait_queue_head_t` that a file's `->poll`
/// hands to `poll_wait`).
///
/// # Invariants
/// Entries are weak: a waiter that is gone is skipped and dropped at the next wake or add.
pub struct PollHead {
    /// Lock: its own; never held while a waiter runs.
    waiters: SpinLock<Vec<Weak<dyn PollWaiter>>>,
}

impl PollHead {
    /// Nobody watching.
    pub const fn new() -> Self {
        Self {
            waiters: SpinLock::new(Vec::new()),
        }
    }

    /// Watch this object with `waiter` (Linux's `add_wait_queue` from `ep_ptable_queue_proc`).
    pub fn add(&self, waiter: Weak<dyn PollWaiter>) {
        let mut list = self.waiters.lock();
        list.retain(|w| w.strong_count() > 0);
        list.push(waiter);
    }

    /// Stop watching (Linux's `remove_wait_queue` from `ep_unregister_pollwait`).
    pub fn remove(&self, waiter: &Weak<dyn PollWaiter>) {
        self.waiters
            .lock()
            .retain(|w| w.strong_count() > 0 && !Weak::ptr_eq(w, waiter));
    }

    /// The object changed: run every waiter, then wake the ppoll/select sleepers (Linux's
    /// `wake_up_poll`). Callable from interrupt context.
    pub fn wake(&self) {
        let live: Vec<Arc<dyn PollWaiter>> = {
            let mut list = self.waiters.lock();
            if list.is_empty() {
                // No epoll watches the object (a pipe between two processes): nothing
                // to collect (Linux's `wake_up_poll` finds its list empty just as fast).
                drop(list);
                poll_notify();
                return;
            }
            list.retain(|w| w.strong_count() > 0);
            list.iter().filter_map(|w| w.upgrade()).collect()
        };
        for waiter in live {
            waiter.poll_wake();
        }
        poll_notify();
    }
}

impl Default for PollHead {
    fn default() -> Self {
        Self::new()
    }
}

/// What `file` is ready for now (Linux's `vfs_poll`): its inode's mask for the file's
/// access mode.
pub fn vfs_poll(file: &super::file::File) -> u32 {
    file.inode.poll(file.flags())
}

/// Wait until `ready` says something is ready (its count), the deadline passes (`None`:
/// forever; then 0), or a signal arrives (EINTR: poll and select are never restarted
/// after a handler, as on Linux with a timeout; Linux's ERESTARTNOHAND).
pub fn poll_wait(
    deadline_ns: Option<u64>,
    mut ready: impl FnMut() -> Result<usize, Errno>,
) -> Result<usize, Errno> {
    let tick_ns = 1_000_000_000 / crate::kernel::time::HZ;
    loop {
        let generation = POLL_GENERATION.load(Ordering::Acquire);
        let n = ready()?;
        if n > 0 {
            return Ok(n);
        }
        let now = crate::kernel::time::ktime_get_ns();
        if deadline_ns.is_some_and(|d| now >= d) {
            return Ok(0);
        }
        if signal_pending(current()) {
            return Err(ERESTARTNOHAND);
        }
        let changed = || POLL_GENERATION.load(Ordering::Acquire) != generation;
        let slept = match deadline_ns {
            None => POLL_WAIT.wait_event_interruptible(changed).map(|()| 1),
            Some(deadline) => POLL_WAIT
                .wait_event_interruptible_timeout(changed, (deadline - now).div_ceil(tick_ns)),
        };
        if slept.is_err() {
            return Err(ERESTARTNOHAND);
        }
    }
}

type SysResult = Result<u64, Errno>;

/// `poll`/`epoll` events (Linux's `include/uapi/asm-generic/poll.h` and
/// `include/uapi/linux/eventpoll.h`: the same bits).
pub mod pollbits {
    /// There is data to read.
    pub const POLLIN: u32 = 0x001;
    /// Urgent data (out of band).
    pub const POLLPRI: u32 = 0x002;
    /// Writing will not block.
    pub const POLLOUT: u32 = 0x004;
    /// An error (the read end of a pipe is gone, for its writer).
    pub const POLLERR: u32 = 0x008;
    /// Hang-up (the write end of a pipe is gone, for its reader).
    pub const POLLHUP: u32 = 0x010;
    /// Not an open descriptor.
    pub const POLLNVAL: u32 = 0x020;
    /// Normal data to read.
    pub const POLLRDNORM: u32 = 0x040;
    /// Priority data to read.
    pub const POLLRDBAND: u32 = 0x080;
    /// Normal data may be written.
    pub const POLLWRNORM: u32 = 0x100;
    /// Priority data may be written.
    pub const POLLWRBAND: u32 = 0x200;
    /// The peer shut down its writing half (sockets).
    pub const POLLRDHUP: u32 = 0x2000;
    /// What a file without its own `poll` is ready for: everything (Linux's
    /// `DEFAULT_POLLMASK`).
    pub const DEFAULT_POLLMASK: u32 = POLLIN | POLLOUT | POLLRDNORM | POLLWRNORM;
    /// What makes select's read set true (Linux's `POLLIN_SET`).
    pub const POLLIN_SET: u32 = POLLRDNORM | POLLRDBAND | POLLIN | POLLHUP | POLLERR;
    /// What makes select's write set true (Linux's `POLLOUT_SET`).
    pub const POLLOUT_SET: u32 = POLLWRBAND | POLLWRNORM | POLLOUT | POLLERR;
    /// What makes select's except set true (Linux's `POLLEX_SET`).
    pub const POLLEX_SET: u32 = POLLPRI;
}

/// What a descriptor is ready for, of `events` (Linux's `do_pollfd`: POLLERR and POLLHUP
/// are always reported).
fn poll_one(fd: i32, events: u32) -> u32 {
    use pollbits::*;
    if fd < 0 {
        return 0;
    }
    let Ok(file) = fdget(fd) else { return POLLNVAL };
    vfs_poll(&file) & (events | POLLERR | POLLHUP)
}

/// Run `wait` with `sigmask` (a user `sigset_t` of `sigsetsize` bytes; 0: none) as the
/// blocked set (Linux's `set_user_sigmask`); the old mask comes back afterwards, or, when
/// the wait was interrupted by a signal, once its handler has run
/// (`restore_saved_sigmask_unless`).
pub fn with_user_sigmask(
    sigmask: u64,
    sigsetsize: usize,
    wait: impl FnOnce() -> SysResult,
) -> SysResult {
    if sigmask == 0 {
        return wait();
    }
    if sigsetsize != 8 {
        return Err(Errno::EINVAL);
    }
    let mut raw = [0u8; 8];
    copy_from_user(&mut raw, sigmask)?;
    let task = current();
    let old = task.blocked.load(Ordering::Relaxed);
    task.sigstate.lock().saved_sigmask = Some(old);
    crate::kernel::signal::set_current_blocked(u64::from_le_bytes(raw));
    let result = wait();
    if result != Err(Errno::EINTR) && result != Err(ERESTARTNOHAND) {
        task.sigstate.lock().saved_sigmask = None;
        crate::kernel::signal::set_current_blocked(old);
    }
    result
}

/// `ppoll(2)`.
pub fn sys_ppoll(fds: u64, nfds: usize, tmo: u64, sigmask: u64, sigsetsize: usize) -> SysResult {
    if nfds > NR_OPEN_LIMIT {
        return Err(Errno::EINVAL);
    }
    let mut raw = vec![0u8; nfds * 8];
    copy_from_user(&mut raw, fds)?;
    let deadline = crate::kernel::time::timeout_deadline(tmo)?;
    let n = with_user_sigmask(sigmask, sigsetsize, || {
        poll_wait(deadline, || {
            let mut count = 0;
            for entry in raw.chunks_mut(8) {
                let fd = i32::from_le_bytes(entry[0..4].try_into().unwrap_or([0; 4]));
                let events = u16::from_le_bytes([entry[4], entry[5]]) as u32;
                let revents = poll_one(fd, events) as u16;
                entry[6..8].copy_from_slice(&revents.to_le_bytes());
                if revents != 0 {
                    count += 1;
                }
            }
            Ok(count)
        })
        .map(|n| n as u64)
    })?;
    copy_to_user(fds, &raw)?;
    Ok(n as u64)
}

const NR_OPEN_LIMIT: usize = super::file::NR_OPEN_DEFAULT;

/// `pselect6(2)`: read, write and except sets of `nfds` bits; `sig` points to the mask
/// and its size (`{ const sigset_t *ss; size_t ss_len; }`), either 0 for none.
pub fn sys_pselect6(
    nfds: usize,
    readfds: u64,
    writefds: u64,
    exceptfds: u64,
    tmo: u64,
    sig: u64,
) -> SysResult {
    if nfds > NR_OPEN_LIMIT {
        return Err(Errno::EINVAL);
    }
    let bytes = nfds.div_ceil(64) * 8;
    let load = |ptr: u64| -> Result<Vec<u8>, Errno> {
        let mut v = vec![0u8; bytes];
        if ptr != 0 {
            copy_from_user(&mut v, ptr)?;
        }
        Ok(v)
    };
    let (rin, win, ein) = (load(readfds)?, load(writefds)?, load(exceptfds)?);
    let deadline = crate::kernel::time::timeout_deadline(tmo)?;
    let mut rout = vec![0u8; bytes];
    let mut wout = vec![0u8; bytes];
    let mut eout = vec![0u8; bytes];
    let (sigmask, sigsetsize) = if sig != 0 {
        let mut pair = [0u8; 16];
        copy_from_user(&mut pair, sig)?;
        (
            u64::from_le_bytes(pair[..8].try_into().unwrap_or([0; 8])),
            u64::from_le_bytes(pair[8..].try_into().unwrap_or([0; 8])) as usize,
        )
    } else {
        (0, 0)
    };
    let n = with_user_sigmask(sigmask, sigsetsize, || {
        poll_wait(deadline, || {
            use pollbits::*;
            let mut count = 0;
            rout.fill(0);
            wout.fill(0);
            eout.fill(0);
            for fd in 0..nfds {
                let (byte, bit) = (fd / 8, 1u8 << (fd % 8));
                let r = rin[byte] & bit != 0;
                let w = win[byte] & bit != 0;
                let e = ein[byte] & bit != 0;
                if !r && !w && !e {
                    continue;
                }
                let Ok(file) = fdget(fd as i32) else {
                    return Err(Errno::EBADF);
                };
                let mask = vfs_poll(&file);
                for (wanted, set, out) in [
                    (r, POLLIN_SET, &mut rout),
                    (w, POLLOUT_SET, &mut wout),
                    (e, POLLEX_SET, &mut eout),
                ] {
                    if wanted && mask & set != 0 {
                        out[byte] |= bit;
                        count += 1;
                    }
                }
            }
            Ok(count)
        })
        .map(|n| n as u64)
    })?;
    if readfds != 0 {
        copy_to_user(readfds, &rout)?;
    }
    if writefds != 0 {
        copy_to_user(writefds, &wout)?;
    }
    if exceptfds != 0 {
        copy_to_user(exceptfds, &eout)?;
    }
    Ok(n as u64)
}
