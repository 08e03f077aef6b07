//! eventfd: a 64-bit counter as a file, `eventfd2(2)` (Linux: `fs/eventfd.c`).
//!
//! A read takes the whole count (or 1 with `EFD_SEMAPHORE`) and waits while it is 0; a
//! write adds to it and waits while the sum would pass 0xffff_ffff_ffff_fffe. Both want a
//! buffer of at least 8 bytes (EINVAL), and writing u64::MAX is EINVAL. With O_NONBLOCK a
//! read of 0 or a write that does not fit is EAGAIN. The file is readable (POLLIN) while the
//! count is not 0, and writable (POLLOUT) while 1 more fits.
//!
//! The counter is under a spinlock; a read or write that cannot go on sleeps on the file's
//! wait queue with no lock held and checks again when woken.

use alloc::sync::Arc;
use core::any::Any;

use super::anon_inodes::{anon_inode_getfd, AnonStat};
use super::file::flags;
use super::inode::{Inode, Kiocb, Stat};
use super::iov_iter::IovIter;
use super::select::{pollbits, PollHead};
use crate::kernel::errno::Errno;
use crate::kernel::locking::SpinLock;
use crate::kernel::sched::wait::WaitQueueHead;

/// Reads take 1, not the whole count.
const EFD_SEMAPHORE: u32 = 1;
/// The flags `eventfd2` takes (Linux's `EFD_FLAGS_SET`).
const EFD_FLAGS_SET: u32 = flags::O_CLOEXEC | flags::O_NONBLOCK | EFD_SEMAPHORE;
/// The largest count (Linux's `ULLONG_MAX - 1`).
const EVENTFD_MAX: u64 = u64::MAX - 1;

/// An eventfd (Linux's `struct eventfd_ctx`).
pub struct EventFd {
    /// The count. Lock: its own.
    count: SpinLock<u64>,
    semaphore: bool,
    /// Readers wait here for a count, writers for room.
    wait: WaitQueueHead,
    /// epoll items watching it.
    poll_head: PollHead,
    stat: AnonStat,
    /// Its number, for fdinfo (Linux's `eventfd_ida`, from 0).
    id: u32,
}

static NEXT_EVENTFD_ID: core::sync::atomic::AtomicU32 = core::sync::atomic::AtomicU32::new(0);

impl EventFd {
    /// The count now (for `/proc/<pid>/fdinfo`'s `eventfd-count`).
    pub fn count(&self) -> u64 {
        *self.count.lock()
    }

    fn wake(&self) {
        self.wait.wake_up_all();
        self.poll_head.wake();
    }
}

impl Inode for EventFd {
    fn stat(&self) -> Stat {
        self.stat.stat()
    }

    /// Linux's `eventfd_read`.
    fn read_iter(&self, iocb: &Kiocb, to: &mut IovIter<'_>) -> Result<usize, Errno> {
        if to.count() < 8 {
            return Err(Errno::EINVAL);
        }
        let value = loop {
            {
                let mut count = self.count.lock();
                if *count > 0 {
                    let value = if self.semaphore { 1 } else { *count };
                    *count -= value;
                    break value;
                }
            }
            if iocb.nonblock() {
                return Err(Errno::EAGAIN);
            }
            self.wait
                .wait_event_interruptible(|| *self.count.lock() > 0)?;
        };
        if to.copy_to_iter(&value.to_ne_bytes()) != 8 {
            // Nothing is consumed that was not delivered.
            *self.count.lock() += value;
            self.wake();
            return Err(Errno::EFAULT);
        }
        self.wake();
        Ok(8)
    }

    /// Linux's `eventfd_write`.
    fn write_iter(&self, iocb: &Kiocb, from: &mut IovIter<'_>) -> Result<usize, Errno> {
        if from.count() < 8 {
            return Err(Errno::EINVAL);
        }
        let mut raw = [0u8; 8];
        if from.copy_from_iter(&mut raw) != 8 {
            return Err(Errno::EFAULT);
        }
        let value = u64::from_ne_bytes(raw);
        if value == u64::MAX {
            return Err(Errno::EINVAL);
        }
        let fits = |count: u64| EVENTFD_MAX - count >= value;
        loop {
            {
                let mut count = self.count.lock();
                if fits(*count) {
                    *count += value;
                    break;
                }
            }
            if iocb.nonblock() {
                return Err(Errno::EAGAIN);
            }
            self.wait
                .wait_event_interruptible(|| fits(*self.count.lock()))?;
        }
        if value > 0 {
            self.wake();
        }
        Ok(8)
    }

    /// O_NONBLOCK is decided in `read_iter`/`write_iter` (after the size check).
    fn poll_read_ready(&self) -> bool {
        true
    }

    /// Linux's `eventfd_poll`.
    fn poll(&self, _file_flags: u32) -> u32 {
        let count = *self.count.lock();
        let mut mask = 0;
        if count > 0 {
            mask |= pollbits::POLLIN | pollbits::POLLRDNORM;
        }
        if count == u64::MAX {
            mask |= pollbits::POLLERR;
        }
        if EVENTFD_MAX > count {
            mask |= pollbits::POLLOUT | pollbits::POLLWRNORM;
        }
        mask
    }

    /// Linux's `eventfd_show_fdinfo`.
    fn show_fdinfo(&self, out: &mut alloc::string::String) {
        use core::fmt::Write;
        let _ = write!(
            out,
            "eventfd-count: {:16x}\neventfd-id: {}\n",
            self.count(),
            self.id
        );
    }

    fn with_poll_head(&self, f: &mut dyn FnMut(&PollHead)) -> bool {
        f(&self.poll_head);
        true
    }

    fn as_any(&self) -> &dyn Any {
        self
    }
}

/// `eventfd2(2)`: a new eventfd counting from `initval` (`eventfd` is glibc's `eventfd2`
/// with no flags).
pub fn sys_eventfd2(initval: u32, eflags: i32) -> Result<u64, Errno> {
    let eflags = eflags as u32;
    if eflags & !EFD_FLAGS_SET != 0 {
        return Err(Errno::EINVAL);
    }
    let efd = Arc::new(EventFd {
        count: SpinLock::new(initval as u64),
        semaphore: eflags & EFD_SEMAPHORE != 0,
        wait: WaitQueueHead::new(),
        poll_head: PollHead::new(),
        stat: AnonStat::new(),
        id: NEXT_EVENTFD_ID.fetch_add(1, core::sync::atomic::Ordering::Relaxed),
    });
    anon_inode_getfd("[eventfd]", efd, eflags)
}
